"""The command line: run the chosen diagnostics over seeds, print tables, write JSON and PNGs."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

from .experiments import (
    fixed_row_reward_during_learning,
    phase_memory_bounds,
    phase_memory_run,
    reset_vs_carried_run,
    reward_during_learning_run,
)
from .games import (
    BATTLE_OF_THE_SEXES,
    COORDINATION,
    PENALISED_COORDINATION,
    PRISONERS_DILEMMA,
    memory_one_game,
    stackelberg_outcome,
)
from .learners import pretrain_contextual_follower
from .report import figure, summarise_variant, table

Name = Literal["phase-memory", "reset-vs-carried", "reward-during-learning"]
NAMES: tuple[str, ...] = ("phase-memory", "reset-vs-carried", "reward-during-learning")


@dataclass
class Args:
    only: tuple[Name, ...] = ()
    """the experiments to run (default: all three)"""
    seeds: int = 10
    """seeds per variant (seeds 0..N-1)"""
    out: str = "docs/assets/diagnostics"
    """output folder: <experiment>.json, <experiment>.png and <experiment>.txt (the table)"""
    phase_episodes: int = 20_000
    """(a) leader episodes per run"""
    reset_episodes: int = 3_000
    """(b) leader episodes per run"""
    reset_lrs: tuple[float, ...] = (0.01, 0.1, 1.0)
    """(b) leader learning rates"""
    reward_episodes: int = 3_000
    """(c) leader episodes per run"""
    pretrain_max_iterations: int = 20_000
    """(a) cap on the follower's pretraining iterations (64 random tables each)"""


def check_args(args: Args) -> None:
    """Refuse a bad flag, naming it and the value (``ValueError``)."""
    for name in ("seeds", "phase_episodes", "reset_episodes", "reward_episodes",
                 "pretrain_max_iterations"):  # fmt: skip
        value = getattr(args, name)
        if value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if not args.reset_lrs or any(not (np.isfinite(lr) and lr > 0) for lr in args.reset_lrs):
        raise ValueError(f"--reset-lrs must be positive and finite, got {list(args.reset_lrs)}")


def measure_phase_memory(args: Args) -> dict:
    """(a): phase hidden vs visible to the leader's policy, repeated prisoner's dilemma."""
    leader_m, follower_m = memory_one_game(PRISONERS_DILEMMA, 5)
    outcome = stackelberg_outcome(leader_m, follower_m)
    followers, bounds = [], []
    for seed in range(args.seeds):
        follower = pretrain_contextual_follower(
            PRISONERS_DILEMMA, 5, np.random.default_rng([seed, 0]),
            max_iterations=args.pretrain_max_iterations,
        )  # fmt: skip
        followers.append(follower)
        bounds.append({
            "iterations": follower.iterations, "max_regret": follower.max_regret,
            "greedy_max_regret": follower.greedy_max_regret, "reached": follower.reached,
            **phase_memory_bounds(follower),
        })  # fmt: skip
    variants = []
    for name, visible in (("phase hidden", False), ("phase visible", True)):
        runs = [phase_memory_run(f, visible, s, episodes=args.phase_episodes)
                for s, f in enumerate(followers)]  # fmt: skip
        variants.append((name, summarise_variant(runs)))
    return {
        "outcome": asdict(outcome),
        "followers": bounds,
        "variants": dict(variants),
        "table": table("(a) phase memory, prisoner's dilemma x5", variants, outcome.leader_value),
        "panels": [("prisoner's dilemma, 5 stages, memory one", variants, outcome.leader_value)],
    }


def measure_reset_vs_carried(args: Args) -> dict:
    """(b): Q followers reset each episode vs carried over, battle of the sexes, 3 rates."""
    game = BATTLE_OF_THE_SEXES
    outcome = stackelberg_outcome(game.leader, game.follower)
    variants, panels, text = {}, [], ""
    for lr in args.reset_lrs:
        rows = []
        for name, reset in (("reset", True), ("carried", False)):
            runs = [reset_vs_carried_run(reset, s, lr=lr, episodes=args.reset_episodes)
                    for s in range(args.seeds)]  # fmt: skip
            rows.append((name, summarise_variant(runs)))
            variants[f"{name}, lr {lr:g}"] = rows[-1][1]
        panels.append((f"battle of the sexes, leader lr {lr:g}", rows, outcome.leader_value))
        text += table(f"(b) battle of the sexes, leader lr {lr:g}", rows, outcome.leader_value)
        text += "\n"
    return {"outcome": asdict(outcome), "variants": variants, "table": text, "panels": panels}


def measure_reward_during_learning(args: Args) -> dict:
    """(c): response-phase utility in the leader's return or not, both coordination games."""
    variants, panels, outcomes, fixed, text = {}, [], {}, {}, ""
    for game in (COORDINATION, PENALISED_COORDINATION):
        outcome = stackelberg_outcome(game.leader, game.follower)
        outcomes[game.name] = asdict(outcome)
        fixed[game.name] = fixed_row_reward_during_learning(game, episodes=args.reward_episodes)
        rows = []
        for name, included in (("reward phase only", False), ("response phase included", True)):
            runs = [reward_during_learning_run(game, included, s, episodes=args.reward_episodes)
                    for s in range(args.seeds)]  # fmt: skip
            rows.append((name, summarise_variant(runs)))
            variants[f"{game.name}, {name}"] = rows[-1][1]
        panels.append((game.name, rows, outcome.leader_value))
        text += table(f"(c) {game.name}", rows, outcome.leader_value) + "\n"
    return {"outcome": outcomes, "fixed_row_returns": fixed, "variants": variants,
            "table": text, "panels": panels}  # fmt: skip


MEASURES = {
    "phase-memory": measure_phase_memory,
    "reset-vs-carried": measure_reset_vs_carried,
    "reward-during-learning": measure_reward_during_learning,
}


def main(args: Args) -> int:
    """Run, print and write every chosen experiment."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmark/diagnostics " + " ".join(sys.argv[1:])
    total = time.time()
    for name in args.only or NAMES:
        start = time.time()
        measured = MEASURES[name](args)
        seconds = time.time() - start
        panels = measured.pop("panels")
        print(measured["table"])
        print(f"{name}: {seconds:.1f} s\n")
        (out / f"{name}.txt").write_text(measured["table"])
        record = {"experiment": name, "command": command.strip(), "runtime_s": round(seconds, 1),
                  "args": asdict(args), **measured}  # fmt: skip
        (out / f"{name}.json").write_text(json.dumps(record, indent=1))
        figure(out / f"{name}.png", panels, "reward-phase leader value")
    print(f"total: {time.time() - total:.1f} s")
    return 0


def run() -> None:
    """Entry point: parse the flags, refuse bad ones with one line (exit 2), run."""
    arguments = tyro.cli(Args, description=__doc__)
    try:
        check_args(arguments)
    except ValueError as error:
        print(f"diagnostics: error: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(arguments))
