"""Evaluate a saved run's mechanism exactly, against any follower model.

Loads `runs/<run_name>/mechanism.json` (every trainer here writes one), replays the committed
mechanism in the setting's Stackelberg POMDP with the followers of `--follower`, and prints
it next to the exact optimum, with the same exact evaluation as the trainers (the induced
Bayesian game against the followers' learned reward-phase play).

    python baselines/evaluate.py runs/<run_name> --follower hedge
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import tyro

import stackelberg_zoo.envs  # noqa: F401  (registers the StackelbergZoo/... ids)
from stackelberg_zoo.envs.core import format_array, induced_bayesian_game, leader_value
from stackelberg_zoo.envs.pomdp.followers import FOLLOWER_ALGORITHMS, MultiplicativeWeightsResponse
from stackelberg_zoo.envs.registry import settings
from stackelberg_zoo.equilibrium.gaps import bne_gap


@dataclass
class Args:
    run_dir: tyro.conf.Positional[str]
    """the run folder, `runs/<run_name>` (holds `mechanism.json`)"""
    follower: str | None = None
    """the followers' response algorithm, a registered follower model (None: the run's own)"""
    mw_eps: float = 0.01
    """the MW followers' learning rate (`--follower mw`)"""
    eval_episodes: int = 4
    """POMDP episodes of the evaluation (the followers' learned response varies between them)"""
    seed: int = 1
    """the evaluation episodes use seeds `seed + 10000 + k`, as the trainers' evaluations"""
    mixed_margin: float = 0.005
    """normal-form games with mixed commitments: the margin of the target (as the trainers)"""


def fail(message: str) -> None:
    """Stop with a one-line error (argparse's convention: exit status 2)."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def follower_models() -> list[str]:
    """The registered follower models (the names `--follower` accepts)."""
    return sorted(FOLLOWER_ALGORITHMS)


def pomdp_id(env_id: str) -> str:
    """The Gymnasium POMDP id of the setting one of whose ids is `env_id`."""
    for setting in settings():
        if env_id in setting.ids:
            return setting.gymnasium_id
    raise ValueError(f"the run's env_id {env_id!r} belongs to no registered setting")


def load_run(run_dir: str) -> dict[str, Any]:
    """The run's `mechanism.json`, checked for the keys this script reads."""
    path = Path(run_dir) / "mechanism.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    missing = {"env_id", "env_kwargs", "mechanism"} - set(
        record if isinstance(record, dict) else ()
    )
    if missing:
        raise ValueError(f"{path} lacks {sorted(missing)} (written by an older trainer?)")
    return record


class SavedPolicy:
    """The saved mechanism as a callable `observation -> action`.

    An observation is matched through the setting's own names for it (`observation_fields`),
    as saved; `table` records every observation asked, with its action.
    """

    def __init__(self, game, mechanism: list[dict[str, Any]], action_space: gym.Space):
        self.game, self.space = game, action_space
        self.actions = {self.key(e["observation"]): e["action"] for e in mechanism}
        self.table: dict[bytes, tuple[Any, Any]] = {}

    @staticmethod
    def key(fields: dict[str, Any]) -> str:
        return json.dumps(fields, sort_keys=True)

    def __call__(self, obs: Any) -> Any:
        fields = self.game.observation_fields(obs)
        saved = self.actions.get(self.key(fields))
        if saved is None:
            raise ValueError(f"the saved mechanism has no action for the observation {fields}")
        if isinstance(self.space, gym.spaces.Discrete):
            action = int(saved)
        else:
            action = np.asarray(saved, dtype=self.space.dtype).reshape(self.space.shape)
        self.table.setdefault(np.ascontiguousarray(np.asarray(obs)).tobytes(), (obs, action))
        return action


@dataclass(frozen=True)
class Evaluation:
    """The exact evaluation of a committed policy (see `mappo.py`)."""

    leader_value: float
    deviation_gain: float
    bcce_gap: float
    strategies: tuple[np.ndarray, ...]


def evaluate(policy: SavedPolicy, env: gym.Env, episodes: int, seed: int) -> Evaluation:
    """Play `episodes` POMDP episodes with a committed policy and evaluate it exactly."""
    induced = induced_bayesian_game(env.unwrapped.game, policy)
    values, gains, gaps = [], [], []
    strategies: tuple[np.ndarray, ...] = ()
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        report, done = None, False
        while not done:
            obs, _, done, _, info = env.step(policy(obs))
            report = info.get("response", report)
        strategies = tuple(report.strategy)
        values.append(leader_value(induced, list(strategies)))
        interim = bne_gap(induced.followers, list(strategies)).interim
        gains.append(max(float(np.nanmax(row)) for row in interim))
        if report.gaps is not None:
            gaps.append(float(np.max(report.gaps.ex_ante)))
    return Evaluation(
        leader_value=float(np.mean(values)),
        deviation_gain=float(np.max(gains)),
        bcce_gap=float(np.mean(gaps)) if gaps else float("nan"),
        strategies=strategies,
    )


def describe_followers(strategies: tuple[np.ndarray, ...]) -> list[str]:
    lines = []
    for i, strategy in enumerate(strategies):
        rows = [
            f"type {t}: {int(np.argmax(row)) if row.max() == 1.0 else format_array(row)}"
            for t, row in enumerate(strategy)
        ]
        lines.append(f"follower {i}: " + ", ".join(rows))
    return lines


if __name__ == "__main__":
    args = tyro.cli(Args)
    try:
        if args.eval_episodes < 1:
            raise ValueError(f"--eval-episodes must be >= 1, got {args.eval_episodes}")
        if not (args.mw_eps > 0 and math.isfinite(args.mw_eps)):
            raise ValueError(f"--mw-eps must be finite and > 0, got {args.mw_eps}")
        record = load_run(args.run_dir)
        follower = args.follower or record.get("follower", "mw")
        if follower not in follower_models():
            raise ValueError(f"--follower must be one of {follower_models()}, got {follower!r}")
        followers = MultiplicativeWeightsResponse(args.mw_eps) if follower == "mw" else follower
        env_id = pomdp_id(record["env_id"])
        env = gym.make(env_id, followers=followers, **record["env_kwargs"])
    except (TypeError, ValueError) as error:
        fail(str(error))
    game = env.unwrapped.game
    policy = SavedPolicy(game, record["mechanism"], env.action_space)
    result = evaluate(policy, env, args.eval_episodes, seed=args.seed + 10_000)
    optimum = float(game.reference().optimum) + 0.0  # no "-0.000000" for a zero optimum
    target = game.learning_target(args.mixed_margin)
    entries = sorted(policy.table.values(), key=lambda entry: np.asarray(entry[0]).tolist())
    saved = record.get("leader_value")
    lines = [
        f"{args.run_dir}: {env_id} {json.dumps(record['env_kwargs'])}, followers {follower}",
        "mechanism:",
        *("  " + line for line in game.describe_mechanism(entries)),
        "followers' learned reward-phase play (last evaluation episode):",
        *("  " + line for line in describe_followers(result.strategies)),
        f"leader value {result.leader_value:.6f}  exact optimum {optimum:.6f}  "
        f"gap {optimum - result.leader_value:.6f}"
        + (f"  (saved by the run: {saved:.6f})" if isinstance(saved, float | int) else ""),
        f"values are {game.value_meaning}",
        f"target {target.value:.6f}: {target.meaning}",
        f"follower deviation gain in the induced game {result.deviation_gain:.2e}; BCCE gap of "
        f"the response-phase play {result.bcce_gap:.4f}",
    ]
    print("\n".join(lines))
    env.close()
