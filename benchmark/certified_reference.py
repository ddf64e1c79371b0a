"""MSGSpace's zero-loss mechanisms as the leader under the certified follower protocol.

For t = 3..6 (two followers, values uniform on t levels, two messages), plays a fixed
mechanism as the leader in the Stackelberg POMDP with ``protocol="certified"`` (MW in the
exact-expectation form, eps = 0.1, the 300 (t/3)^2 prefix, certification at gap 0.05 with at
most 10,000 extra updates, exact reward phase) and counts the episodes whose response is
certified, and those with zero welfare loss too. The mechanism is the reference optimum
(``mspm_reference(game).optimal_policy``) or, with ``--robust``, the zero-loss mechanism of
largest margin of ``benchmark/mspm_reachability.py``.

    python benchmark/certified_reference.py                    # 200 episodes per t
    python benchmark/certified_reference.py --robust --episodes 40
"""

from __future__ import annotations

import argparse
import collections

import numpy as np

from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.mspm.reference import mspm_reference
from stackelberg_zoo.envs.pomdp import StackelbergPOMDP

ZERO_LOSS = 1e-9
"""A return above ``-ZERO_LOSS`` is zero welfare loss (the exact reward phase's round-off)."""


def leader_policy(game, robust: bool):
    """The reference optimum's policy, or that of the largest-margin zero-loss mechanism."""
    if not robust:
        return mspm_reference(game).optimal_policy
    import mspm_reachability  # benchmark/ is on sys.path when this file runs as a script

    return mspm_reachability.robust_mechanisms(game)[0].policy(game)


def measure(t: int, episodes: int, seed: int, robust: bool) -> str:
    """One table row: certified share, zero-loss-and-certified share, mean loss, candidates."""
    game = SequentialPriceMechanism("uniform", n_values=t, n_messages=2)
    policy = leader_policy(game, robust)
    pomdp = StackelbergPOMDP(game, protocol="certified", diagnostics=False)
    rng = np.random.default_rng(seed)
    certified = good = 0
    losses, extra, candidates = [], [], collections.Counter()
    for _ in range(episodes):
        observation, _ = pomdp.reset(rng)
        total = 0.0
        while not pomdp.terminated:
            step = pomdp.step(policy(observation))
            observation, total = step.observation, total + step.reward
        result = pomdp.report.certification
        certified += result.certified
        good += result.certified and total >= -ZERO_LOSS
        losses.append(-total)
        extra.append(result.extra_updates)
        candidates[result.candidate] += 1
    chosen = ", ".join(f"{name} {count}" for name, count in sorted(candidates.items()))
    return (
        f"| {t} | {certified / episodes:.0%} | {good / episodes:.1%} | {np.mean(losses):.4f} | "
        f"{np.median(extra):.0f} / {max(extra)} | {chosen} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-values", type=int, nargs="+", default=[3, 4, 5, 6])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--robust", action="store_true", help="the largest-margin mechanism")
    args = parser.parse_args()
    rows = [measure(t, args.episodes, args.seed, args.robust) for t in args.n_values]
    print(
        "| t | certified | zero loss, certified | mean welfare loss | extra updates "
        "(median / max) | candidate chosen |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
