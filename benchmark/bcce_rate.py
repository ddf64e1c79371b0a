"""BCCE gap of the followers' play against a fixed leader, as the response phase grows.

The last reproduction target of docs/settings.md: with the leader fixed, the followers' play
approaches a Bayesian coarse-correlated equilibrium at the no-regret rate. For each setting the
leader is fixed at its exact reference optimum; the Stackelberg POMDP runs its response phase
with the paper's MW followers (eps = 0.01) for growing lengths, and the script reports the
agent-form BCCE gap of the response-phase play (the largest over followers, mean over seeds),
the allowance no-regret theory gives it (each type's MW regret bound plus an Azuma margin for
sampled play, with probability 0.999), and the log-log slope of the gap over the three longest
phases. MW with a fixed eps has average regret at most ln(A) / (eps T) + eps: flat while
T << 1 / eps^2 (the learners have barely moved), then falling like 1 / T (slope -1) toward the
eps floor.

    python benchmark/bcce_rate.py                        # every setting, 5 seeds
    python benchmark/bcce_rate.py --settings mspm --seeds 3 --json bcce_rate.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation

ROUNDS = np.array([10, 30, 100, 300, 1000, 3000])
"""Response-phase lengths, in sweeps (one sweep queries every follower action once)."""


def fixed_leaders() -> dict[str, tuple[EconomicGame, Callable]]:
    """Each setting's default instance and its reference-optimal policy as a POMDP policy."""
    escape = NormalFormStackelberg("escape")
    maintain = NormalFormStackelberg("maintain")
    design = MatrixDesign()
    allocation = SimpleAllocation(n_messages=3)
    mspm = SequentialPriceMechanism("pi", n_messages=2)
    escape_row = int(escape.reference().optimal_policy)
    maintain_row = int(maintain.reference().optimal_policy)
    return {
        "escape": (escape, lambda obs: escape_row),
        "maintain": (maintain, lambda obs: maintain_row),
        "matrix_design": (design, design.reference().optimal_policy),
        "simple_allocation_k3": (allocation, allocation.reference().optimal_policy),
        "mspm_pi": (mspm, mspm.reference().optimal_policy),
    }


def response_gap(
    game: EconomicGame, policy: Callable, rounds: int, seed: int, delta: float = 1e-3
) -> tuple[float, float]:
    """``(gap, allowance)`` after ``rounds`` MW sweeps against ``policy``, largest over followers.

    The gap is the agent-form BCCE gap of the sampled response-phase play; the allowance is
    what no-regret theory guarantees for it (``RegretCertificate.agent_form_allowance``: the
    MW regret bound of every type's learner plus an Azuma margin for sampling its play, with
    probability ``1 - delta`` per type, over ``T``)."""
    queries = rounds * sum(game.n_follower_actions)
    pomdp = StackelbergPOMDP(game, "mw", n_response=queries, n_reward=1)
    observation, _ = pomdp.reset(np.random.default_rng(seed))
    while pomdp.report is None:
        observation = pomdp.step(policy(observation)).observation
    report = pomdp.report
    allowances = report.certificate.agent_form_allowance(delta)
    gaps = np.asarray(report.gaps.agent_form)
    if np.any(gaps > allowances + 1e-12):
        raise RuntimeError(f"BCCE gap {gaps} above its allowance {allowances} (seed {seed})")
    return float(gaps.max()), float(allowances.max())


def measure(settings: list[str], seeds: int) -> dict[str, dict]:
    """Per setting: the rounds, the mean gap and allowance per length, and the log-log slope of
    the gap over the three longest phases."""
    leaders = fixed_leaders()
    results = {}
    for name in settings:
        game, policy = leaders[name]
        gaps, allowances = [], []
        for rounds in ROUNDS:
            pairs = [response_gap(game, policy, rounds, seed) for seed in range(seeds)]
            gaps.append(float(np.mean([g for g, _ in pairs])))
            allowances.append(float(np.mean([a for _, a in pairs])))
        tail = slice(-3, None)
        slope = float(np.polyfit(np.log(ROUNDS[tail]), np.log(np.maximum(gaps[tail], 1e-12)), 1)[0])
        results[name] = {
            "rounds": ROUNDS.tolist(),
            "gap": gaps,
            "allowance": allowances,
            "slope": slope,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = list(fixed_leaders())
    parser.add_argument("--settings", nargs="+", default=names, choices=names)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")
    results = measure(args.settings, args.seeds)
    print("| setting | " + " | ".join(f"T={r}" for r in ROUNDS) + " | slope, last 3 |")
    print("|---|" + "---|" * len(ROUNDS) + "---|")
    for name, r in results.items():
        cells = " | ".join(
            f"{g:.4f} ({a:.3f})" for g, a in zip(r["gap"], r["allowance"], strict=True)
        )
        print(f"| {name} | {cells} | {r['slope']:.2f} |")
    print(
        f"(cells: agent-form BCCE gap of the sampled play, largest over followers, mean over "
        f"{args.seeds} seeds (its no-regret allowance); T = rounds of MW sweeps; every seed's "
        "gap is within its allowance, else the script stops with an error)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps({"seeds": args.seeds, "results": results}, indent=1))


if __name__ == "__main__":
    main()
