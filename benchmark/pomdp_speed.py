"""Leader steps per second of every setting's Stackelberg POMDP: single env and batched.

Single: ``gymnasium.make(id, followers=f)`` (the Gym view a user gets, with Gymnasium's
default wrappers), stepped with random leader actions, reset at the end of each episode.
Batched: ``gymnasium.make_vec(id, num_envs=B, followers=f)`` (the ``vector_entry_point``,
B = 1024 by default), stepped with random ``[B, ...]`` actions; one batched step counts ``B``
leader steps. Actions are drawn up front from a seeded generator so that sampling is not
timed. Each figure is the median of ``--repeats`` runs of ``--seconds`` each (default 5 x 2 s;
the runs' range is printed beside it, so a verdict near its threshold can be read as such),
with the setting's default phase lengths; one row per setting and follower model
(``--followers``, default ``mw``; any registered name).

Reference figures and targets: the project's issue that asked for the batched core (issue 4)
states that the authors' wrapped environment (GlcBrero/StackelbergPOMDP) runs 8k-30k leader
steps/s on this machine type, normal form 30k and MSPM PI 10.5k; those are the issue author's
measurements, not re-measured here. Matrix design and simple allocation have one leader turn
per sub-game like the normal form, so their reference is taken as the top of the range, 30k.
The authors' code has MW followers only; the same reference is applied to every follower
model. Targets: single env >= 3x the reference, batched >= 100x.

The collusion platform has no reference figure (the authors' code for it is not public);
its target (issue 13) is in *follower* steps: >= 1M seller steps per second batched, so
that the paper's 50M-step leader training spends well under an hour in the environment. Its
row prints follower steps per second (leader steps times the two sellers) against that.
Without ``--followers`` each setting runs its POMDP's default follower model (``mw``;
``q_learning`` for the collusion platform).

    python benchmark/pomdp_speed.py                    # every setting, 5 runs of 2 s
    python benchmark/pomdp_speed.py --settings mspm --seconds 1 --num-envs 256
    python benchmark/pomdp_speed.py --followers mw hedge exp3 --settings normal_form
    python benchmark/pomdp_speed.py --settings collusion_platform --skip-single

``--protocol certified`` measures the certified protocol instead (its own MW followers, so no
``--followers``; certification and the exact reward phase included), and ``--env-kwargs``
passes game arguments as JSON, e.g. the MSGSpace t = 5 rows of the POMDP page:

    python benchmark/pomdp_speed.py --settings mspm --protocol certified --num-envs 256 \
        --env-kwargs '{"values": "uniform", "n_values": 5}'
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import gymnasium
import numpy as np

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.pomdp.followers import NoPureEquilibriumError, follower_models
from stackelberg_zoo.envs.pomdp.registration import pomdp_setting

AUTHORS_STEPS_PER_SECOND = {
    "normal_form": 30_000,
    "matrix_design": 30_000,  # not measured by the authors: the top of their 8k-30k range
    "simple_allocation": 30_000,  # idem
    "mspm": 10_500,  # the PI instance
}
"""The reference figure per setting (steps/s of the authors' wrapped environment)."""

SINGLE_FACTOR = 3
BATCHED_FACTOR = 100

FOLLOWER_STEPS_TARGET = {"collusion_platform": 1_000_000}
"""Settings whose target is follower steps per second, batched (no authors' reference)."""


def random_actions(space: gymnasium.Space, rng: np.random.Generator, shape: tuple[int, ...]):
    """Random elements of a ``Discrete`` or ``Box`` space, with leading ``shape``."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return space.start + rng.integers(space.n, size=shape)
    return rng.uniform(space.low, space.high, size=shape + space.shape).astype(space.dtype)


def single_rate(gym_id: str, followers: str | None, seconds: float, seed: int, **kwargs) -> float:
    """Leader steps per second of one ``gymnasium.make`` env, whole episodes, random actions."""
    env = gymnasium.make(gym_id, followers=followers, **kwargs)
    rng = np.random.default_rng(seed)
    pool = list(random_actions(env.action_space, rng, (8192,)))
    env.reset(seed=seed)
    steps, k = 0, 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(256):
            _, _, terminated, _, _ = env.step(pool[k])
            k = (k + 1) % len(pool)
            if terminated:
                env.reset()
        steps += 256
        now = time.perf_counter()
        if now >= deadline:
            return steps / (now - start)


def batched_rate(
    gym_id: str, followers: str | None, num_envs: int, seconds: float, seed: int, **kwargs
) -> float:
    """Leader steps per second of ``make_vec(num_envs)``, random actions."""
    env = gymnasium.make_vec(gym_id, num_envs=num_envs, followers=followers, **kwargs)
    rng = np.random.default_rng(seed)
    pool = random_actions(env.single_action_space, rng, (64, num_envs))
    env.reset(seed=seed)
    steps, k = 0, 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(8):
            env.step(pool[k])
            k = (k + 1) % len(pool)
        steps += 8 * num_envs
        now = time.perf_counter()
        if now >= deadline:
            return steps / (now - start)


def median_and_range(rates: list[float]) -> tuple[float, str]:
    """The median of ``rates`` and their range as ``"lo-hi"`` in thousands."""
    return statistics.median(rates), f"{min(rates) / 1e3:.0f}-{max(rates) / 1e3:.0f}k"


def verdict(met: bool, args: argparse.Namespace) -> str:
    """``met`` / ``MISSED``; ``-`` under the certified protocol (the references are the
    authors' environment under the paper's protocol, which certifies nothing)."""
    if args.protocol != "paper":
        return "-"
    return "met" if met else "MISSED"


def env_kwargs(args: argparse.Namespace) -> dict:
    """The env's keyword arguments beyond the followers: ``--env-kwargs`` and the protocol."""
    kwargs = dict(args.env_kwargs)
    if args.protocol == "certified":
        kwargs["protocol"] = "certified"
    return kwargs


def measure(gym_id: str, followers: str | None, reference: float, args: argparse.Namespace) -> str:
    """The row's figures: single and batched medians, ranges, multiples and verdicts."""
    kwargs = env_kwargs(args)
    if args.skip_single:
        single, single_range, single_ok = float("nan"), "-", "-"
    else:
        single, single_range = median_and_range(
            [
                single_rate(gym_id, followers, args.seconds, args.seed, **kwargs)
                for _ in range(args.repeats)
            ]
        )
        single_ok = verdict(single >= SINGLE_FACTOR * reference, args)
    batched, batched_range = median_and_range(
        [
            batched_rate(gym_id, followers, args.num_envs, args.seconds, args.seed, **kwargs)
            for _ in range(args.repeats)
        ]
    )
    batched_ok = verdict(batched >= BATCHED_FACTOR * reference, args)
    return (
        f"{single:10,.0f} {single_range:>9s} {single / reference:6.1f} {single_ok:>7s}   "
        f"{batched:11,.0f} {batched_range:>11s} {batched / reference:6.1f} {batched_ok:>7s}"
    )


def measure_followers(gym_id: str, followers: str, target: float, args) -> str:
    """A follower-step row: leader steps/s times the followers, single and batched."""
    kwargs = env_kwargs(args) | ({} if args.n_prices is None else {"n_prices": args.n_prices})
    n = gymnasium.make(gym_id, followers=followers, **kwargs).unwrapped.game.n_followers
    if args.skip_single:
        single, single_range = float("nan"), "-"
    else:
        rates = [
            n * single_rate(gym_id, followers, args.seconds, args.seed, **kwargs)
            for _ in range(args.repeats)
        ]
        single, single_range = median_and_range(rates)
    rates = [
        n * batched_rate(gym_id, followers, args.num_envs, args.seconds, args.seed, **kwargs)
        for _ in range(args.repeats)
    ]
    batched, batched_range = median_and_range(rates)
    verdict = "met" if batched >= target else "MISSED"
    return (
        f"{single:10,.0f} {single_range:>9s} {'-':>6s} {'-':>7s}   "
        f"{batched:11,.0f} {batched_range:>11s} {batched / target:6.1f} {verdict:>7s}"
        f"   (follower steps/s; target {target:,.0f} batched)"
    )


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    settings = [*AUTHORS_STEPS_PER_SECOND, *FOLLOWER_STEPS_TARGET]
    parser.add_argument("--settings", nargs="*", default=settings)
    parser.add_argument(
        "--followers", nargs="*", default=None, help="registered names (default: the POMDP's)"
    )
    parser.add_argument("--n-prices", type=int, default=None, help="collusion platform grid")
    parser.add_argument("--seconds", type=float, default=2.0, help="per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-single", action="store_true", help="batched column only")
    parser.add_argument("--protocol", choices=("paper", "certified"), default="paper",
                        help="certified: its own MW followers (no --followers)")  # fmt: skip
    parser.add_argument("--env-kwargs", default="{}",
                        help="JSON object of game arguments, e.g. '{\"n_values\": 5}'")  # fmt: skip
    args = parser.parse_args()
    unknown = sorted(set(args.followers or []) - set(follower_models()))
    if unknown:
        parser.error(f"--followers: unknown {unknown}; registered: {list(follower_models())}")
    if args.protocol == "certified" and args.followers:
        parser.error(f"--followers applies to --protocol paper, got {args.followers}")
    given = args.env_kwargs
    try:
        args.env_kwargs = json.loads(given)
    except json.JSONDecodeError as error:
        parser.error(f"--env-kwargs must be JSON, got {given!r} ({error})")
    if not isinstance(args.env_kwargs, dict):
        parser.error(f"--env-kwargs must be a JSON object, got {given!r}")

    header = (
        f"{'setting':18s} {'followers':20s} {'single/s':>10s} {'range':>9s} {'x ref':>6s} "
        f"{'target':>7s}   {'batched/s':>11s} {'range':>11s} {'x ref':>6s} {'target':>7s}"
    )
    print(
        f"B = {args.num_envs}, median of {args.repeats} x {args.seconds:g} s, protocol "
        f"{args.protocol}, env kwargs {args.env_kwargs}"
    )
    print(header)
    for name in args.settings:
        setting = pomdp_setting(name)
        gym_id = setting.gymnasium_id
        default = None if args.protocol == "certified" else setting.followers or "mw"
        try:  # refuse bad game arguments before measuring anything
            gymnasium.make(gym_id, followers=(args.followers or [default])[0], **env_kwargs(args))
        except (TypeError, ValueError) as error:
            parser.error(f"--env-kwargs {given} for {name} (--protocol {args.protocol}): {error}")
        for followers in args.followers or [default]:
            try:
                if name in FOLLOWER_STEPS_TARGET:
                    row = measure_followers(gym_id, followers, FOLLOWER_STEPS_TARGET[name], args)
                else:
                    row = measure(gym_id, followers, AUTHORS_STEPS_PER_SECOND[name], args)
            except NoPureEquilibriumError:  # the oracle is undefined for such a policy
                row = "random leader actions induce a game without a pure Bayes-Nash equilibrium"
            print(f"{name:18s} {followers or 'certified (mw)':20s} {row}")
    print(
        f"targets: single >= {SINGLE_FACTOR}x and batched >= {BATCHED_FACTOR}x the reference "
        f"({', '.join(f'{k} {v:,}' for k, v in AUTHORS_STEPS_PER_SECOND.items())} steps/s, "
        f"the authors' environment as issue 4 states it)"
    )


if __name__ == "__main__":
    main()
