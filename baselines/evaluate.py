"""Evaluate a saved run's mechanism exactly, against any follower model, over follower seeds.

Loads `runs/<run_name>/mechanism.json` (every trainer here writes one), replays the committed
mechanism in the setting's Stackelberg POMDP with the followers of `--follower` (with its
hyperparameters as flags), one episode per follower seed, and prints the leader's exact value
against the followers' learned reward-phase play, its gap to the exact optimum and the BCCE
gap of the response-phase play: mean, interquartile mean and a bootstrap 95% CI over seeds
(`stackelberg_zoo.envs.evaluation.evaluate_policy`).

    python baselines/evaluate.py runs/<run_name> --follower hedge
    python baselines/evaluate.py runs/<run_name> --follower mw --eps 0.1 --reward-play sample
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import tyro

import stackelberg_zoo.envs  # noqa: F401  (registers the StackelbergZoo/... ids)
from stackelberg_zoo.envs.core import format_array
from stackelberg_zoo.envs.evaluation import (
    FollowerEvaluation,
    SavedPolicy,
    evaluate_policy,
    follower_model,
    leader_observations,
    load_run,
)
from stackelberg_zoo.envs.pomdp.followers import follower_models
from stackelberg_zoo.envs.registry import settings


@dataclass
class Args:
    run_dir: tyro.conf.Positional[str]
    """the run folder, `runs/<run_name>` (holds `mechanism.json`)"""
    follower: str | None = None
    """the followers' response algorithm, a registered follower model (None: the run's own)"""
    eps: float | None = None
    """MW's learning rate, `w *= (1 + eps)^u` (`--follower mw`; None: the model's default)"""
    eta: float | None = None
    """the step of Hedge (fixed) or EXP3 (None: the model's default)"""
    gamma: float | None = None
    """EXP3's exploration rate (None: the model's default)"""
    reward_play: Literal["argmax", "sample", "empirical"] | None = None
    """how learning followers play in the reward phase (None: the model's default, argmax)"""
    ties: Literal["leader", "lowest"] | None = None
    """the best response's tie rule (`--follower best_response`; None: leader-favourable)"""
    seeds: int = 10
    """the number of follower seeds (one POMDP episode each)"""
    seed: int = 1
    """the follower seeds are `seed + 10000 + k`, as the trainers' evaluations"""
    confidence: float = 0.95
    """the confidence level of the bootstrap intervals"""
    mixed_margin: float = 0.005
    """normal-form games with mixed commitments: the margin of the printed target (as the
    trainers)"""


PARAMETERS = ("eps", "eta", "gamma", "reward_play", "ties")
"""The follower hyperparameter flags (passed to the model only when given)."""


def fail(message: str) -> None:
    """Stop with a one-line error (argparse's convention: exit status 2)."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def pomdp_id(env_id: str) -> str:
    """The Gymnasium POMDP id of the setting one of whose ids is `env_id`."""
    for setting in settings():
        if env_id in setting.ids:
            return setting.gymnasium_id
    raise ValueError(f"the run's env_id {env_id!r} belongs to no registered setting")


def followers_of(args: Args, record: dict[str, Any]):
    """The follower model of `--follower` (default: the run's own) with the given flags."""
    name = args.follower or record.get("follower", "mw")
    if name not in follower_models():
        raise ValueError(f"--follower must be one of {list(follower_models())}, got {name!r}")
    params = {p: getattr(args, p) for p in PARAMETERS if getattr(args, p) is not None}
    try:
        return follower_model(name, **params)
    except TypeError as error:
        flags = ", ".join(f"--{p.replace('_', '-')}" for p in params)
        raise TypeError(f"{flags} for --follower {name}: {error}") from None


def describe_followers(strategies: tuple[np.ndarray, ...]) -> list[str]:
    lines = []
    for i, strategy in enumerate(strategies):
        rows = [
            f"type {t}: {int(np.argmax(row)) if row.max() == 1.0 else format_array(row)}"
            for t, row in enumerate(strategy)
        ]
        lines.append(f"follower {i}: " + ", ".join(rows))
    return lines


def summary_lines(result: FollowerEvaluation, confidence: float) -> list[str]:
    value, gap = result.leader_value, result.optimality_gap
    level = f"{100 * confidence:g}%"
    lines = [
        f"leader value {value.mean:.6f}  exact optimum {result.optimum:.6f}  gap {gap.mean:.6f}",
        f"over {value.n} follower seeds: leader value IQM {value.iqm:.6f}, {level} CI "
        f"[{value.ci_low:.6f}, {value.ci_high:.6f}]; gap IQM {gap.iqm:.6f}, {level} CI "
        f"[{gap.ci_low:.6f}, {gap.ci_high:.6f}]; at the optimum (within 1e-3) in "
        f"{round(result.at_optimum * value.n)}/{value.n}",
    ]
    deviation = max(s.deviation_gain for s in result.seeds)
    bound = np.nanmax([s.bcce_bound for s in result.seeds] + [-np.inf])
    if result.bcce_gap is not None:
        bcce = result.bcce_gap
        lines.append(
            f"BCCE gap of the response-phase play {bcce.mean:.4f} (IQM {bcce.iqm:.4f}, {level} "
            f"CI [{bcce.ci_low:.4f}, {bcce.ci_high:.4f}]"
            + (f"; regret bound {bound:.4f})" if np.isfinite(bound) else ")")
        )
    lines.append(f"largest follower deviation gain in the induced game {deviation:.2e}")
    return lines


if __name__ == "__main__":
    args = tyro.cli(Args)
    try:
        if args.seeds < 1:
            raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
        if not 0 < args.confidence < 1:
            raise ValueError(f"--confidence must be in (0, 1), got {args.confidence}")
        if not (args.mixed_margin >= 0 and np.isfinite(args.mixed_margin)):
            raise ValueError(f"--mixed-margin must be finite and >= 0, got {args.mixed_margin}")
        record = load_run(args.run_dir)
        followers = followers_of(args, record)
        env_id = pomdp_id(record["env_id"])
        env = gym.make(env_id, followers=followers, **record["env_kwargs"])
        pomdp = env.unwrapped.pomdp
        game = pomdp.game
        policy = SavedPolicy(game, record["mechanism"])
        seeds = [args.seed + 10_000 + k for k in range(args.seeds)]
        result = evaluate_policy(  # ValueError: e.g. no saved action at some observation
            game, policy, followers, seeds, n_response=pomdp.n_response,
            n_reward=pomdp.n_reward, confidence=args.confidence,
        )  # fmt: skip
    except (TypeError, ValueError) as error:
        fail(str(error))
    try:  # the mechanism in the setting's words, where its observations can be listed
        mechanism = game.describe_mechanism(
            [(obs, policy(obs)) for obs in leader_observations(game)]
        )
    except ValueError:
        saved_entries = record["mechanism"]
        mechanism = [f"{json.dumps(e['observation'])} -> {e['action']}" for e in saved_entries]
    saved = record.get("leader_value")
    target = game.learning_target(args.mixed_margin)
    lines = [
        f"{args.run_dir}: {env_id} {json.dumps(record['env_kwargs'])}, followers {followers!r}",
        "mechanism:",
        *("  " + line for line in mechanism),
        "followers' learned reward-phase play (last seed):",
        *("  " + line for line in describe_followers(result.seeds[-1].strategies)),
        *summary_lines(result, args.confidence),
        f"values are {game.value_meaning}"
        + (f" (saved by the run: {saved:.6f})" if isinstance(saved, float | int) else ""),
        f"target {target.value:.6f}: {target.meaning}",
    ]
    print("\n".join(lines))
    env.close()
