"""Wall-clock time of the equilibrium module's hot paths against its speed targets.

* ``strong_stackelberg`` on a random 50x50 bimatrix game (50 LPs);
* ``bcce_gap`` on a random 2-player Bayesian game with 6 types and 3 actions each;
* batched learner updates with 1,000 learners per batch (3 actions) for MW, Hedge and RM.

**The targets** are the equilibrium module's own design targets, set when the module was
specified: each operation above under 1 s. No published figure exists for these operations and
no other implementation is timed here, so the targets are absolute. The learner target
"10^5 batched updates of 1,000 learners under 1 s" has two readings: 10^5 ``update`` calls on
a batch of 1,000 (10^8 learner-updates; the **verdict**), and 10^5 learner-updates in all (100
calls on a batch of 1,000; printed as information).

**The comparison made in the same run:** each learner's ``update`` (with its argument checks)
beside ``update_unchecked`` (the same arithmetic, no checks: what the POMDP's hot loops call)
and a *numpy floor*, the bare in-place addition of the gains into a ``[1000, 3]`` array, which
any learner that keeps cumulative gains must at least do. Their ratios say how much of the
time is bookkeeping (regret tracking, checks) rather than numpy's per-call cost.

Every figure is the median of ``--repeats`` runs, printed with the fastest and slowest; a
verdict is ``OK`` or ``MISSED`` on the median and is marked ``(noisy)`` when the fastest and
slowest runs fall on both sides of the target (rerun with more repeats). The exit status is 1
if any verdict is ``MISSED``, else 0. The default run costs about 45 s of CPU time on one core
of a 2-core x86_64 machine (Python 3.11; measured 44 s user time, longer wall time when other
jobs share the cores); ``update_unchecked`` gets half the repeats (it is information only).

    python benchmark/equilibrium_speed.py                 # about 45 s
    python benchmark/equilibrium_speed.py --calls 20000 --repeats 3   # a quick look (extrapolated)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.equilibrium.distributions import bayes_product
from stackelberg_zoo.equilibrium.games import BayesianGame
from stackelberg_zoo.equilibrium.gaps import bcce_gap
from stackelberg_zoo.equilibrium.learners import Hedge, MultiplicativeWeights, RegretMatching
from stackelberg_zoo.equilibrium.stackelberg import strong_stackelberg

TARGET_SECONDS = 1.0
"""Each operation's design target, in seconds."""


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs of one measurement.

    Attributes:
        seconds: One entry per repeat.
    """

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median over repeats."""
        return statistics.median(self.seconds)

    def scaled(self, factor: float) -> Timing:
        """The same timing times ``factor`` (an extrapolation)."""
        return Timing(tuple(s * factor for s in self.seconds))

    def text(self, digits: int = 4) -> str:
        """``median s [fastest-slowest]``."""
        return (
            f"{self.median:.{digits}f} s [{min(self.seconds):.{digits}f}-"
            f"{max(self.seconds):.{digits}f}]"
        )


def time_repeats(run: Callable[[], object], repeats: int) -> Timing:
    """Wall-clock seconds of ``run()`` over ``repeats`` calls.

    Raises:
        ValueError: If ``repeats`` is not a positive int.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return Timing(tuple(times))


def verdict(timing: Timing, target: float = TARGET_SECONDS) -> str:
    """``OK`` or ``MISSED`` on the median, ``(noisy)`` when the repeats straddle the target."""
    word = "OK" if timing.median < target else "MISSED"
    noisy = min(timing.seconds) < target <= max(timing.seconds)
    return f"{word} (noisy)" if noisy else word


def time_stackelberg(rng: np.random.Generator, repeats: int) -> list[str]:
    """Strong Stackelberg commitment of a random 50x50 game; the verdicts."""
    leader, follower = rng.random((50, 50)), rng.random((50, 50))
    timing = time_repeats(lambda: strong_stackelberg(leader, follower), repeats)
    mark = verdict(timing)
    print(f"{'strong_stackelberg 50x50':44s} {timing.text()}  target < 1 s: {mark}")
    return [mark]


def time_bcce_gap(rng: np.random.Generator, repeats: int) -> list[str]:
    """All three Bayesian gaps of a 6-type, 3-action, 2-player game; the verdicts."""
    prior = rng.random((6, 6))
    game = BayesianGame(rng.random((2, 6, 6, 3, 3)), prior / prior.sum())
    sigmas = [rng.dirichlet(np.ones(3), size=6) for _ in range(2)]
    mu = bayes_product(game.prior, sigmas)
    timing = time_repeats(lambda: bcce_gap(game, mu), max(repeats, 20))
    mark = verdict(timing)
    name = "bcce_gap 2 players x 6 types x 3 actions"
    print(f"{name:44s} {timing.text(6)}  target < 1 s: {mark}")
    return [mark]


LEARNERS = {
    "MultiplicativeWeights": lambda: MultiplicativeWeights((1000,), 3, eps=0.01),
    "Hedge": lambda: Hedge((1000,), 3, eta=0.1),
    "RegretMatching": lambda: RegretMatching((1000,), 3),
}


def time_learners(rng: np.random.Generator, calls: int, repeats: int) -> list[str]:
    """Batched updates of 1,000 learners, beside the unchecked path and the numpy floor."""
    pool = rng.random((16, 1000, 3))  # cycled, so drawing gains does not count
    scale = 1e5 / calls  # the verdict is on 10^5 calls

    def run(make, n_calls, unchecked=False):
        learner = make()
        update = learner.update_unchecked if unchecked else learner.update
        for k in range(n_calls):
            update(pool[k & 15])
        return learner

    def floor():
        total = np.zeros((1000, 3))
        for k in range(calls):
            total += pool[k & 15]
        return total

    base = time_repeats(floor, repeats)
    note = "" if calls == 10**5 else f" (measured {calls:.0e} calls, times x{scale:g})"
    print(f"10^5 update calls on a batch of 1,000 learners, 3 actions{note}:")
    print(f"  {'numpy floor (gains += g)':40s} {base.scaled(scale).text(3)}")
    marks = []
    for name, make in LEARNERS.items():
        checked = time_repeats(lambda make=make: run(make, calls), repeats).scaled(scale)
        raw = time_repeats(lambda make=make: run(make, calls, True), max(1, (repeats + 1) // 2))
        raw = raw.scaled(scale)  # information only: half the repeats
        mark = verdict(checked)
        marks.append(mark)
        floor_s = base.median * scale
        print(
            f"  {name + '.update':40s} {checked.text(3)}  "
            f"{checked.median / floor_s:4.1f}x floor  target < 1 s: {mark}"
        )
        print(
            f"  {name + '.update_unchecked':40s} {raw.text(3)}  "
            f"{raw.median / floor_s:4.1f}x floor  (information)"
        )
    print("10^5 learner-updates in all (100 calls on a batch of 1,000), information:")
    for name, make in LEARNERS.items():
        small = time_repeats(lambda make=make: run(make, 100), max(repeats, 5))
        print(f"  {name + '.update':40s} {small.text(4)}")
    return marks


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, print the timings; 1 if a verdict is MISSED, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10**5, help="update calls per learner run")
    parser.add_argument("--repeats", type=int, default=5, help="repeats per measurement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error(f"--calls must be positive, got {args.calls}")
    if args.repeats < 1:
        parser.error(f"--repeats must be positive, got {args.repeats}")
    rng = np.random.default_rng(args.seed)
    marks = time_stackelberg(rng, args.repeats)
    marks += time_bcce_gap(rng, args.repeats)
    marks += time_learners(rng, args.calls, args.repeats)
    missed = sum(mark.startswith("MISSED") for mark in marks)
    tail = " (exit status 1)" if missed else ""
    print(f"{len(marks) - missed}/{len(marks)} targets met{tail}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
