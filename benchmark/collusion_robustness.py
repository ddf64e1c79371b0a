"""The collusion platform's robustness table: PDA tables trained against one seller model,
evaluated against others.

The platform (the leader) commits to a PDA threshold table (at each price profile of the
last period, the highest price index it shows); its value is consumer surplus (the mean over
the first cycle of the greedy periods, the Stackelberg POMDP's return). Each *column* is a
model of the two sellers (:data:`COLUMNS`): Q-learning at the setting's defaults (Calvano et
al.'s sellers), with a smaller learning rate, with a slower exploration decay, without
memory, and REINFORCE policy-gradient sellers. Each *row* is a table trained against one
column's model, plus a *population* row trained against :data:`POPULATION_MIX` (one member
drawn per session); the other columns are held out from it.

Training is random search over threshold tables, the algorithm of `benchmark/collusion.py`'s
learned PDA run in process: per training seed, ``--train-episodes`` uniformly random tables,
each played for one session against the row's sellers (sessions batched), the table of the
best session kept, with the profiles that session never played set to no intervention (as
`benchmark/collusion.py` does with the tables of `baselines/random_search.py`). Every row
draws the same tables on the same training seller seeds, so rows differ only by the model
they were scored against. Evaluation: every learned table against every column on the same
``--seller-seeds`` seller seeds (never seen in training), with no intervention and PDP on
the same seeds as reference lines. There is no exact optimum (the optimal table against
learning sellers is not known), so cells count the training seeds above no intervention
instead of those at an optimum.

A cell is the mean over training seeds of each seed's mean surplus over the seller seeds,
with the interquartile mean and a percentile-bootstrap 95% CI over training seeds.

    python benchmark/collusion_robustness.py                     # the demo (3 x 3 seeds)
    python benchmark/collusion_robustness.py --train-seeds 10 --seller-seeds 10 --train-episodes 400

Writes into `--out`: `collusion_robustness.md` (the table), `marl_eval.json` (marl-eval's
raw-data layout: one task per column, one algorithm per row), `tables.json` (every learned
table) and `collusion.png` (the heat map).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro
from collusion import DEFAULT_SELLERS, SELLER_SEED_OFFSET, play_sessions
from robustness import Cell, draw_heat_map, rounded

from stackelberg_zoo.envs.collusion_platform import CollusionPlatform, threshold_of
from stackelberg_zoo.envs.pomdp.followers import (
    PolicyGradientResponse,
    PopulationResponse,
    QLearningResponse,
    ResponseAlgorithm,
)

COLUMNS: dict[str, ResponseAlgorithm] = {
    "q-learning": DEFAULT_SELLERS,
    "q alpha=0.1": QLearningResponse(alpha=0.1),
    "q beta=5e-5": QLearningResponse(beta=5e-5),
    "q memoryless": QLearningResponse(memory=0),
    "policy gradient": PolicyGradientResponse(),
}
"""The seller models (columns): label -> model. Q-learning's defaults are alpha 0.25,
delta 0.95, beta 1e-4 (exploration exp(-beta t), 0.7% at the end of 50,000 periods; with
beta 5e-5 still 8%), one period of memory; policy gradient: REINFORCE on the period's
profit, step 0.1, running-mean baseline, no memory, the most probable price when greedy."""

POPULATION_MIX = ("q-learning", "q alpha=0.1", "policy gradient")
"""The population row's members (columns' labels), drawn uniformly per session."""

REFERENCES = ("no_intervention", "pdp")
"""The fixed threshold rules played on every column's seller seeds as reference lines."""

TRAIN_SEED_STRIDE = 1_000
"""Training seed ``s``'s episode ``e`` plays on seller seed ``s * TRAIN_SEED_STRIDE + e``
(below :data:`~collusion.SELLER_SEED_OFFSET`, so training never sees an evaluation seed)."""


def rows() -> dict[str, ResponseAlgorithm]:
    """The rows: every column's model, then the population of :data:`POPULATION_MIX`."""
    mix = tuple(COLUMNS[label] for label in POPULATION_MIX)
    return {**COLUMNS, "population": PopulationResponse(members=mix)}


def rule_table(game: CollusionPlatform, rule: str) -> np.ndarray:
    """``int[m, m]`` the threshold table of the fixed threshold rule ``rule``."""
    m = game.n_prices
    return np.array([[threshold_of(rule, (i, j), m) for j in range(m)] for i in range(m)])


def train(
    game: CollusionPlatform,
    sellers: ResponseAlgorithm,
    seeds: list[int],
    episodes: int,
    n_response: int,
    n_reward: int,
) -> np.ndarray:
    """Random search, one run per training seed, all sessions in one batch: ``int[S, m, m]``
    the best table of each seed's ``episodes`` uniformly random tables (by the surplus of
    its session against ``sellers``), its unplayed profiles set to no intervention."""
    m = game.n_prices
    tables = np.concatenate(
        [np.random.default_rng(seed).integers(0, m, (episodes, m, m)) for seed in seeds]
    )
    session_seeds = [seed * TRAIN_SEED_STRIDE + e for seed in seeds for e in range(episodes)]
    played = play_sessions(game, tables, session_seeds, n_response, n_reward, sellers)
    best = played.surplus.reshape(len(seeds), episodes).argmax(axis=1)
    chosen = np.arange(len(seeds)) * episodes + best
    return np.where(played.visited[chosen], tables[chosen], m - 1)


def measure(args: Args) -> dict[str, Any]:
    """Train every row, then evaluate every table and the references against every column."""
    game = CollusionPlatform()
    train_seeds = list(range(1, args.train_seeds + 1))
    seller_seeds = [SELLER_SEED_OFFSET + k for k in range(args.seller_seeds)]
    play = {"n_response": args.n_response, "n_reward": args.n_reward}
    learned = {
        row: train(game, sellers, train_seeds, args.train_episodes, **play)
        for row, sellers in rows().items()
    }
    # One batch per column: every row's tables, then the reference rules, on the same seeds.
    fixed = np.stack([rule_table(game, rule) for rule in REFERENCES])
    tables = np.concatenate([*learned.values(), fixed])
    n_eval = len(seller_seeds)
    stacked = np.repeat(tables, n_eval, axis=0)
    table: dict[str, dict[str, Cell]] = {row: {} for row in learned}
    references: dict[str, dict[str, list[float]]] = {rule: {} for rule in REFERENCES}
    for column, sellers in COLUMNS.items():
        played = play_sessions(game, stacked, seller_seeds * len(tables), sellers=sellers, **play)
        surplus = played.surplus.reshape(len(tables), n_eval)
        for r, row in enumerate(learned):
            part = surplus[r * len(train_seeds) : (r + 1) * len(train_seeds)]
            table[row][column] = Cell(values=part.tolist())
        for k, rule in enumerate(REFERENCES):
            references[rule][column] = surplus[len(tables) - len(REFERENCES) + k].tolist()
        print(f"evaluated against {column}", file=sys.stderr, flush=True)
    return {
        "columns": list(COLUMNS),
        "table": table,
        "references": references,
        "tables": {row: t.tolist() for row, t in learned.items()},
    }


def worst_columns(measured: dict[str, Any]) -> dict[str, float]:
    """Each row's worst cell mean (its surplus against the worst seller model)."""
    return {
        row: min(cell.summary()["mean"] for cell in cells.values())
        for row, cells in measured["table"].items()
    }


def markdown(measured: dict[str, Any], args: Args) -> str:
    """The table, the reference lines and the readings."""
    columns, references = measured["columns"], measured["references"]
    alone = {column: float(np.mean(references["no_intervention"][column])) for column in columns}
    lines = [
        "### collusion platform",
        "",
        f"Cells: mean consumer surplus over {args.train_seeds} training seeds [bootstrap 95% "
        f"CI] (each the mean over {args.seller_seeds} seller seeds), and the training seeds "
        f"whose table beats no intervention on those seller seeds. No exact optimum is known.",
        "",
        "| trained against \\ evaluated against | " + " | ".join(columns) + " | worst |",
        "|---" * (len(columns) + 2) + "|",
    ]
    worst = worst_columns(measured)
    for row, cells in measured["table"].items():
        texts = []
        for column in columns:
            cell, s = cells[column], cells[column].summary()
            above = sum(np.mean(v) > alone[column] for v in cell.values)
            interval = f"[{s['ci_low']:.4f}, {s['ci_high']:.4f}]"
            texts.append(f"{s['mean']:.4f} {interval} {above}/{len(cell.values)}")
        lines.append(f"| {row} | " + " | ".join(texts) + f" | {worst[row]:.4f} |")
    for rule, label in zip(REFERENCES, ("no intervention", "PDP"), strict=True):
        means = [float(np.mean(references[rule][column])) for column in columns]
        lines.append(
            f"| *{label}* | " + " | ".join(f"{v:.4f}" for v in means) + f" | {min(means):.4f} |"
        )
    best_row = max(worst, key=worst.get)
    population_is_best = worst["population"] >= worst[best_row] - 1e-12
    lines += [
        "",
        f"Most robust row (largest worst column): **{best_row}** ({worst[best_row]:.4f}); "
        f"population row: {worst['population']:.4f}"
        + (" (the most robust)." if population_is_best else " (not the most robust).")
        + f" The population mixes {', '.join(POPULATION_MIX)}; the other columns are held out. "
        f"Each row is random search over {args.train_episodes} random threshold tables per "
        "training seed; the learned tables are in `tables.json`.",
        "",
    ]
    return "\n".join(lines)


def marl_eval(measured: dict[str, Any], args: Args) -> dict[str, Any]:
    """marl-eval's raw-data layout: env -> column -> row -> training seed -> metrics.

    ``absolute_metrics`` hold one consumer surplus per seller seed; ``step_0`` their mean at
    the training budget (random-search episodes). The reference rules are one run each.
    """
    tasks: dict[str, Any] = {}
    for column in measured["columns"]:
        task = tasks[f"collusion/evaluated-against:{column}"] = {}
        for row, cells in measured["table"].items():
            task[f"trained-against:{row}"] = {
                f"seed_{k + 1}": {
                    "step_0": {
                        "step_count": args.train_episodes,
                        "consumer_surplus": rounded([float(np.mean(values))]),
                    },
                    "absolute_metrics": {"consumer_surplus": rounded(values)},
                }
                for k, values in enumerate(cells[column].values)
            }
        for rule, values in measured["references"].items():
            task[rule] = {
                "seed_1": {
                    "step_0": {
                        "step_count": 0,
                        "consumer_surplus": rounded([float(np.mean(values[column]))]),
                    },
                    "absolute_metrics": {"consumer_surplus": rounded(values[column])},
                }
            }
    return {"collusion_platform": tasks}


def heat_map(measured: dict[str, Any], path: Path) -> None:
    """Rows (and the reference rules) x columns of mean surplus."""
    columns = measured["columns"]
    rows_ = list(measured["table"])
    means = [[measured["table"][r][c].summary()["mean"] for c in columns] for r in rows_]
    for rule in REFERENCES:
        means.append([float(np.mean(measured["references"][rule][c])) for c in columns])
    means = np.array(means)
    names = rows_ + ["(no intervention)", "(PDP)"]
    title = "collusion platform: mean consumer surplus\n(no exact optimum; last rows: fixed rules)"
    draw_heat_map(means, names, columns, title, (float(means.min()), float(means.max())), path)


@dataclass
class Args:
    out: str = "benchmark/results/collusion-robustness"
    """the output folder (table, marl-eval JSON, learned tables, heat map)"""
    train_seeds: int = 3
    """training seeds per row (the docs' figures use 10)"""
    seller_seeds: int = 3
    """seller seeds per evaluation, the same for every table and column (the docs use 10)"""
    train_episodes: int = 16
    """random threshold tables (one session each) per training seed (the docs use 400)"""
    n_response: int = 50_000
    """learning periods per session (the paper: 50,000)"""
    n_reward: int = 30
    """greedy periods per session (the paper: 30)"""


def check_args(args: Args) -> None:
    """Refuse a bad flag, naming it and the value (``ValueError``)."""
    for name in ("train_seeds", "seller_seeds", "train_episodes", "n_response", "n_reward"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.train_episodes >= TRAIN_SEED_STRIDE:
        raise ValueError(
            f"--train-episodes must be below {TRAIN_SEED_STRIDE}, got {args.train_episodes}"
        )


def main(args: Args) -> int:
    """Measure, print and write."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    measured = measure(args)
    command = "python benchmark/collusion_robustness.py " + " ".join(sys.argv[1:])
    text = markdown(measured, args)
    text += f"\nMeasured by `{command.strip()}` in {time.time() - start:.0f} s.\n"
    print(text)
    (out / "collusion_robustness.md").write_text(text)
    compact = json.dumps(marl_eval(measured, args), separators=(",", ":"))
    (out / "marl_eval.json").write_text(compact)
    (out / "tables.json").write_text(json.dumps(measured["tables"]))
    heat_map(measured, out / "collusion.png")
    return 0


if __name__ == "__main__":
    arguments = tyro.cli(Args)
    try:
        check_args(arguments)
    except ValueError as error:
        print(f"collusion_robustness.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(arguments))
