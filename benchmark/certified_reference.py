"""MSGSpace's zero-loss mechanisms as the leader under the certified follower protocol.

For t = 3..7 (two followers unless ``--n-followers`` says otherwise, values uniform on t
levels, two messages), plays a fixed mechanism as the leader in the Stackelberg POMDP with
``protocol="certified"`` (MW in the exact-expectation form, eps = 0.1, the 300 (t/3)^2
prefix, certification at gap 0.05 with at most 10,000 extra updates, exact reward phase) and
counts the episodes whose response is certified, and those at the reference optimum too
(zero welfare loss for t <= 6; at t = 7 no zero-loss two-message mechanism exists and the
optimum is the reference's minimum loss). The mechanism is the reference optimum
(``mspm_reference(game).optimal_policy``) or, with ``--robust`` (two followers only), each
zero-loss mechanism of ``benchmark/mspm_reachability.py`` (one per message map pair, of
largest margin for it; none exists at t = 7): the row gives every mechanism's count of
optimal episodes and the figures of the one most often optimal.

    python benchmark/certified_reference.py                    # 200 episodes per t
    python benchmark/certified_reference.py --robust --episodes 40
    python benchmark/certified_reference.py --n-followers 3 --n-values 3   # three followers
"""

from __future__ import annotations

import argparse
import collections
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from companions import write_fragment

from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.mspm.reference import mspm_reference
from stackelberg_zoo.envs.pomdp import StackelbergPOMDP

OPTIMUM_TOL = 1e-9
"""A return within this of the reference optimum attains it (the exact reward phase's
round-off)."""


def check_robust(robust: bool, n_followers: int) -> None:
    """Refuse ``--robust`` with other than two followers (``ValueError`` naming the value): its
    search is over pairs of message maps."""
    if robust and n_followers != 2:
        raise ValueError(f"--robust needs two followers, got --n-followers {n_followers}")


def leader_policies(game, robust: bool) -> list:
    """The reference optimum's policy; or (``robust``) those of the zero-loss mechanisms of
    ``mspm_reachability.robust_mechanisms``, one per message map pair (possibly none).

    Raises:
        ValueError: If ``robust`` and the game does not have two followers
            (:func:`check_robust`).
    """
    check_robust(robust, game.n_followers)
    if not robust:
        return [mspm_reference(game).optimal_policy]
    import mspm_reachability  # benchmark/ is on sys.path when this file runs as a script

    return [found.policy(game) for found in mspm_reachability.robust_mechanisms(game)]


@dataclass(frozen=True)
class Played:
    """A mechanism played for some episodes: counts, losses and the certificates' figures."""

    certified: int
    optimal: int
    losses: list[float]
    extra: list[int]
    candidates: collections.Counter


def play(game, policy, optimum: float, episodes: int, seed: int) -> Played:
    """Play ``policy`` as the leader under ``protocol="certified"`` for ``episodes``."""
    pomdp = StackelbergPOMDP(game, protocol="certified", diagnostics=False)
    rng = np.random.default_rng(seed)
    certified = optimal = 0
    losses, extra, candidates = [], [], collections.Counter()
    for _ in range(episodes):
        observation, _ = pomdp.reset(rng)
        total = 0.0
        while not pomdp.terminated:
            step = pomdp.step(policy(observation))
            observation, total = step.observation, total + step.reward
        result = pomdp.report.certification
        certified += result.certified
        optimal += result.certified and total >= optimum - OPTIMUM_TOL
        losses.append(-total)
        extra.append(result.extra_updates)
        candidates[result.candidate] += 1
    return Played(certified, optimal, losses, extra, candidates)


def measure(t: int, episodes: int, seed: int, robust: bool, n_followers: int = 2) -> str:
    """One table row: certified share, optimal-and-certified share, mean loss, candidates;
    with several mechanisms (``robust``, two followers only), those of the one most often
    optimal."""
    game = SequentialPriceMechanism("uniform", n_values=t, n_messages=2, n_followers=n_followers)
    reference = mspm_reference(game)
    optimum = reference.optimum
    losses_of = f"{-optimum:.4f} | {reference.baselines['message_free_spm_welfare_loss']:.4f}"
    policies = leader_policies(game, robust)
    label = str(t) if n_followers == 2 else f"{t}, {n_followers} followers"
    if not policies:
        return f"| {label} | – | no zero-loss mechanism exists | | | | | {losses_of} |"
    runs = [play(game, policy, optimum, episodes, seed) for policy in policies]
    best = max(runs, key=lambda r: (r.optimal, -np.mean(r.losses)))  # first of equals
    optimal_counts = "/".join(str(r.optimal) for r in runs)
    chosen = ", ".join(f"{name} {count}" for name, count in sorted(best.candidates.items()))
    return (
        f"| {label} | {optimal_counts} | {best.certified / episodes:.0%} | "
        f"{best.optimal / episodes:.1%} | {np.mean(best.losses):.4f} | "
        f"{np.median(best.extra):.0f} / {max(best.extra)} | {chosen} | {losses_of} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-values", type=int, nargs="+", default=[3, 4, 5, 6, 7])
    parser.add_argument(
        "--n-followers", type=int, default=2, help="followers, each uniform on t values"
    )
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--robust", action="store_true", help="every zero-loss mechanism, one per message map pair"
    )
    args = parser.parse_args()
    if args.episodes < 1 or min(args.n_values) < 2 or args.n_followers < 2:
        parser.error(
            f"--episodes must be >= 1, --n-values >= 2 and --n-followers >= 2, got "
            f"{args.episodes}, {args.n_values}, {args.n_followers}"
        )
    try:
        check_robust(args.robust, args.n_followers)
    except ValueError as error:
        parser.error(str(error))
    rows = [
        measure(t, args.episodes, args.seed, args.robust, args.n_followers) for t in args.n_values
    ]
    lines = [
        "| t | optimal episodes, per mechanism | certified | optimal, certified | mean welfare "
        "loss | extra updates (median / max) | candidate chosen | reference minimum loss | "
        "message-free SPM loss |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    print("\n".join(lines))
    if args.markdown is not None:
        write_fragment(args.markdown, lines)


if __name__ == "__main__":
    main()
