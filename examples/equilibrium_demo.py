"""Exact leader optima of the normal-form settings, and a Bayesian Stackelberg example.

Run with ``python examples/equilibrium_demo.py``. For Escape and Maintain (docs/settings.md,
payoffs normalised by the largest entry as the environments do) it prints the best pure
commitment, the strong Stackelberg commitment (follower ties broken in the leader's
favour, so the optimum sits on the follower's indifference point), and a margin-robust
commitment that a learning follower actually answers as intended. It ends with the DOBSS
security game (research fixture F12), solved by the MILP and by enumeration.
"""

from __future__ import annotations

import time

import numpy as np

from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.equilibrium.fixtures import dobss_security_game
from stackelberg_zoo.equilibrium.stackelberg import (
    bayesian_stackelberg,
    correlated_commitment,
    pure_commitment,
    robust_commitment,
    strong_stackelberg,
)

MARGIN = 0.01
"""Follower advantage required by the robust commitment (normalised utility)."""


def fmt(strategy: np.ndarray) -> str:
    """A mixed strategy as a short readable tuple."""
    return "(" + ", ".join(f"{p:.3f}" for p in strategy) + ")"


def normal_form_table() -> None:
    """Print the commitment values of Escape and Maintain."""
    header = (
        f"{'game':<9} {'commitment':<22} {'leader value':>12}  {'leader strategy':<24} follower"
    )
    print(header)
    print("-" * len(header))
    for name in ("escape", "maintain"):
        # The payoff tables are owned by the environment module; we use its normalisation.
        game = NormalFormStackelberg(name)
        leader, follower = game.leader_payoffs, game.follower_payoffs
        pure = pure_commitment(leader, follower)
        sse = strong_stackelberg(leader, follower)
        robust = robust_commitment(leader, follower, MARGIN)
        coarse = correlated_commitment(leader, follower, coarse=True)
        rows = [
            (
                "pure (leader ties)",
                pure.leader_value,
                fmt(pure.leader_strategy),
                pure.follower_action,
            ),
            ("strong Stackelberg", sse.leader_value, fmt(sse.leader_strategy), sse.follower_action),
            (
                f"robust, margin {MARGIN}",
                robust.leader_value,
                fmt(robust.leader_strategy),
                robust.follower_action,
            ),
        ]
        for label, value, strategy, action in rows:
            print(f"{name:<9} {label:<22} {value:>12.4f}  {strategy:<24} f{action}")
        print(
            f"{'':<9} robust loss {robust.value_loss:.4f} <= bound {robust.value_loss_bound:.4f}; "
            f"CCE-commitment upper bound {coarse.value:.4f}"
        )
    print()


def bayesian_example() -> None:
    """Print the DOBSS security game's optimum, by both methods."""
    instance = dobss_security_game()
    print("Bayesian Stackelberg: DOBSS security game (4 defender strategies, 4 attacker types)")
    for method in ("dobss", "enumerate"):
        start = time.perf_counter()
        result = bayesian_stackelberg(
            instance.leader_payoffs, instance.follower_payoffs, instance.type_probs, method=method
        )
        elapsed = time.perf_counter() - start
        responses = ", ".join(
            instance.follower_action_names[t][j] for t, j in enumerate(result.follower_actions)
        )
        print(
            f"  {method:<9} value {result.leader_value:.6f}  x = {fmt(result.leader_strategy)}  "
            f"responses [{responses}]  ({elapsed * 1000:.0f} ms)"
        )


def main() -> None:
    """Print every table."""
    normal_form_table()
    bayesian_example()


if __name__ == "__main__":
    main()
