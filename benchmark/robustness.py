"""The robustness table: leaders trained against one follower model, evaluated against others.

For each setting, each *row* is a follower model the leader is trained against (one of the
columns' models, plus a *population* row trained against a mix of models drawn per episode),
each *column* a follower model the trained mechanism is evaluated against, and each cell the
mean exact leader value over training seeds (each training seed's value is its mean over the
follower seeds), with the interquartile mean, a bootstrap 95% CI over training seeds and the
fraction of (training seed, follower seed) evaluations at the exact optimum (within 1e-3).

Training is random search over committed mechanisms (the algorithm of
`baselines/random_search.py`, run here in process so that a row can be any follower model
with any hyperparameters): POMDP episodes, each with a fresh uniformly random committed
mechanism, scored by its episode return against the row's model; the best return wins. Where
the mechanisms can be enumerated (pure commitments, simple allocation's tables) each episode
draws one of them (`--train-episodes` episodes); where the leader's committed actions are
continuous (mixed commitments, matrix design's payments, MSPM's prices) each draws every
observation's action uniformly from the leader's action space (`--sampled-episodes`
episodes). Evaluation is exact (`stackelberg_zoo.envs.evaluation.evaluate_policy`): the same
follower seeds for every mechanism. The upper bound of every enumerable row is the exact
robust reference (`robust_reference`: every committed mechanism against every column model
on the same seeds): a trained mechanism's worst column is at most its pure value, and the
worst column of a cell average is at most its lottery value. Continuous settings have no
such reference. The collusion platform's table, whose columns are seller models, is
`benchmark/collusion_robustness.py`.

    python benchmark/robustness.py                                   # the demo, 3 seeds
    python benchmark/robustness.py --train-seeds 10 --eval-seeds 10  # the table's figures

Writes into `--out`: `robustness.md` (the tables), `marl_eval.json` (marl-eval's raw-data
layout, one "algorithm" per row and one "task" per column), `mechanisms.json` (every training
seed's learned mechanism, per setting and row) and `<setting>.png` (heat maps).
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium
import numpy as np
import tyro

from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.evaluation import (
    AT_OPTIMUM_TOL,
    TablePolicy,
    enumerate_mechanisms,
    evaluate_policy,
    leader_observations,
    robust_reference,
    summarize,
)
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import (
    BestResponse,
    Exp3Response,
    HedgeResponse,
    MultiplicativeWeightsResponse,
    PopulationResponse,
    RegretMatchingResponse,
    ResponseAlgorithm,
)
from stackelberg_zoo.envs.registry import get_setting

SETTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "escape": ("normal_form", {"game": "escape"}),
    "maintain": ("normal_form", {"game": "maintain"}),
    "simple-allocation-k1": ("simple_allocation", {"n_messages": 1}),
    "simple-allocation-k2": ("simple_allocation", {"n_messages": 2, "prior": [0.5, 0.3, 0.2]}),
    "simple-allocation-k3": ("simple_allocation", {"n_messages": 3}),
    "escape-mixed": ("normal_form", {"game": "escape", "mixed_leader": True}),
    "maintain-mixed": ("normal_form", {"game": "maintain", "mixed_leader": True}),
    "matrix-design": ("matrix_design", {}),
    "mspm-pi": ("mspm", {"values": "pi", "n_messages": 2}),
    **{
        f"mspm-t{t}": ("mspm", {"values": "uniform", "n_values": t, "n_messages": 2})
        for t in (3, 4, 5, 6, 7)
    },
    "mspm-3f-t3": (
        "mspm",
        {"values": "uniform", "n_values": 3, "n_messages": 2, "n_followers": 3},
    ),
}
"""The table's settings: name -> (setting, game kwargs). The first five have few enough
committed mechanisms to enumerate (the normal forms' pure commitments, 3 each, and simple
allocation's ``message -> item`` tables, 3, 9 and 27), hence an exact robust reference; the
others commit to continuous actions (mixed rows, payments, prices), sampled. MSPM's leader
acts several times per sub-game, so its sampled tables are filled as they are consulted
(:class:`SampledTable`); its instances are the reproduction's (PI and MSGSpace with t = 3 to
6 uniform values, two messages each) and the results page's two beyond the paper (t = 7, and
three followers with t = 3); their episodes of 1,000 response sub-games make them the
table's slowest settings. Not here: the collusion platform, whose sellers are not the
columns' models; its table is `benchmark/collusion_robustness.py`."""

POPULATION_MIX = ("mw eps=0.01", "mw eps=0.1", "hedge", "regret matching")
"""The population row's members (columns' labels), drawn uniformly per training episode; the
other columns are held out from it."""


def game_of(name: str) -> EconomicGame:
    """The game of the table's setting ``name``."""
    setting, kwargs = SETTINGS[name]
    return get_setting(setting).make_game(**kwargs)


def enumerable(game: EconomicGame) -> bool:
    """Whether the game's committed mechanisms are enumerated (a ``Discrete`` leader action)."""
    return isinstance(game.leader_action_space, gymnasium.spaces.Discrete)


def uniform_action(game: EconomicGame, rng: np.random.Generator) -> np.ndarray:
    """An action uniform in the leader's (bounded ``Box``) action space."""
    space = game.leader_action_space
    low, high = np.broadcast_to(space.low, space.shape), np.broadcast_to(space.high, space.shape)
    return rng.uniform(low, high).astype(space.dtype)


class SampledTable(TablePolicy):
    """A committed mechanism drawn as it is consulted: an observation's action is uniform in
    the leader's action space the first time it is asked for, then kept (deterministic once
    asked). For a leader that acts several times per sub-game (MSPM), whose observations
    depend on its own actions and so are not listed in advance.

    Args:
        game: The setting's game.
        rng: The table's own generator (its draws follow the order of the questions).
    """

    def __init__(self, game: EconomicGame, rng: np.random.Generator):
        super().__init__(game, {})
        self.rng = rng
        self.observations: dict[Any, Any] = {}

    def __call__(self, observation: Any) -> Any:
        """The kept action at ``observation``, drawn now if it is the first question."""
        key = self.key(observation)
        if key not in self.actions:
            self.actions[key] = uniform_action(self.game, self.rng)
            self.observations[key] = np.array(observation, copy=True)
        return self.actions[key]


def sampled_mechanism(game: EconomicGame, rng: np.random.Generator) -> TablePolicy:
    """A committed mechanism with every observation's action uniform in the leader's
    action space: a full table for a single-turn game, else a :class:`SampledTable`."""
    if not getattr(game, "pure_single_turn", False):
        return SampledTable(game, np.random.default_rng(int(rng.integers(2**63))))
    policy = TablePolicy(game, {})
    return TablePolicy(
        game, {policy.key(o): uniform_action(game, rng) for o in leader_observations(game)}
    )


def models(reward_play: str, game: EconomicGame | None = None) -> dict[str, ResponseAlgorithm]:
    """The columns: label -> follower model (learners with ``reward_play``; EXP3 takes the
    setting's utility bounds itself, ``game.follower_utility_bounds()``).

    Best response is left out where the mechanisms are sampled and there are several
    followers (matrix design): it needs a pure Bayes-Nash equilibrium of the induced game,
    which a sampled payment scheme need not have.
    """
    columns = {
        "mw eps=0.01": MultiplicativeWeightsResponse(eps=0.01, reward_play=reward_play),
        "mw eps=0.1": MultiplicativeWeightsResponse(eps=0.1, reward_play=reward_play),
        "mw eps=0.5": MultiplicativeWeightsResponse(eps=0.5, reward_play=reward_play),
        "hedge": HedgeResponse(reward_play=reward_play),
        "regret matching": RegretMatchingResponse(reward_play=reward_play),
        "rm+": RegretMatchingResponse(plus=True, reward_play=reward_play),
        "exp3": Exp3Response(reward_play=reward_play),
        "best response": BestResponse(),
    }
    if game is not None and not enumerable(game) and game.n_followers > 1:
        del columns["best response"]
    return columns


def rows(columns: dict[str, ResponseAlgorithm]) -> dict[str, ResponseAlgorithm]:
    """The rows: every column's model, then the population of :data:`POPULATION_MIX`."""
    mix = tuple(columns[label] for label in POPULATION_MIX)
    return {**columns, "population": PopulationResponse(members=mix)}


def train(
    game: EconomicGame, followers: ResponseAlgorithm, episodes: int, seed: int, n_reward: int
) -> TablePolicy:
    """Random search: the committed mechanism with the best episode return of ``episodes``,
    each drawn uniformly from the enumerated mechanisms or (continuous actions) sampled."""
    rng = np.random.default_rng(seed)
    mechanisms = enumerate_mechanisms(game) if enumerable(game) else None
    pomdp = StackelbergPOMDP(game, followers, n_reward=n_reward)
    best, best_return = None, -math.inf
    for _ in range(episodes):
        if mechanisms is None:
            mechanism = sampled_mechanism(game, rng)
        else:
            mechanism = mechanisms[int(rng.integers(len(mechanisms)))]
        observation, _ = pomdp.reset(rng)
        total = 0.0
        while True:
            step = pomdp.step(mechanism(observation))
            total += step.reward
            if step.terminated:
                break
            observation = step.observation
        if total > best_return:
            best, best_return = mechanism, total
    return best


@dataclass
class Cell:
    """One (row, column) cell: per training seed, the follower seeds' values."""

    values: list[list[float]] = field(default_factory=list)
    gaps: list[list[float]] = field(default_factory=list)
    bcce: list[list[float]] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """Mean, IQM and CI over training seeds; fraction at the optimum over all evaluations."""
        runs = summarize([np.mean(v) for v in self.values])
        return {"mean": runs.mean, "iqm": runs.iqm, "ci_low": runs.ci_low, "ci_high": runs.ci_high}


def measure(name: str, args: Args) -> dict[str, Any]:
    """Train every row, evaluate against every column, and the robust reference."""
    game = game_of(name)
    optimum = float(game.reference().optimum) + 0.0  # -0.0 (MSPM's zero loss) prints as 0
    episodes = args.train_episodes if enumerable(game) else args.sampled_episodes
    columns = models(args.reward_play, game)
    eval_seeds = [10_000 + k for k in range(args.eval_seeds)]
    table: dict[str, dict[str, Cell]] = {}
    mechanisms: dict[str, list[str]] = {}
    for row, followers in rows(columns).items():
        table[row] = {column: Cell() for column in columns}
        mechanisms[row] = []
        for seed in range(1, args.train_seeds + 1):
            policy = train(game, followers, episodes, seed, args.n_reward)
            mechanisms[row].append(mechanism_text(game, policy))
            for column, model in columns.items():
                result = evaluate_policy(game, policy, model, eval_seeds)
                cell = table[row][column]
                cell.values.append([s.leader_value for s in result.seeds])
                cell.gaps.append([s.optimality_gap for s in result.seeds])
                cell.bcce.append([s.bcce_gap for s in result.seeds])
    reference = (
        robust_reference(game, list(columns.values()), eval_seeds) if enumerable(game) else None
    )
    return {
        "game": game,
        "optimum": optimum,
        "columns": list(columns),
        "table": table,
        "mechanisms": mechanisms,
        "reference": reference,
        "episodes": episodes,
    }


def mechanism_text(game: EconomicGame, policy: TablePolicy) -> str:
    """A committed mechanism in the setting's words, on one line (a :class:`SampledTable`:
    the observations it was asked about)."""
    if isinstance(policy, SampledTable):
        entries = [(policy.observations[key], a) for key, a in policy.actions.items()]
    else:
        entries = [(obs, policy(obs)) for obs in leader_observations(game)]
    return ", ".join(game.describe_mechanism(entries))


def worst_columns(measured: dict[str, Any]) -> dict[str, float]:
    """Each row's worst cell mean (its value against the worst column model)."""
    return {
        row: min(cell.summary()["mean"] for cell in cells.values())
        for row, cells in measured["table"].items()
    }


def markdown(name: str, measured: dict[str, Any], args: Args) -> str:
    """The setting's table, its robust reference and what the rows learned."""
    columns, optimum = measured["columns"], measured["optimum"]
    reference = measured["reference"]
    n_all = args.train_seeds * args.eval_seeds
    lines = [
        f"### {name}",
        "",
        f"Exact optimum (best response, leader-favourable ties) {optimum:.4f}. Cells: mean "
        f"exact leader value over {args.train_seeds} training seeds [bootstrap 95% CI], and "
        f"the evaluations within {AT_OPTIMUM_TOL:g} of the optimum out of {n_all}.",
        "",
        "| trained against \\ evaluated against | " + " | ".join(columns) + " | worst |",
        "|---" * (len(columns) + 2) + "|",
    ]
    worst = worst_columns(measured)
    for row, cells in measured["table"].items():
        texts = []
        for column in columns:
            cell, s = cells[column], cells[column].summary()
            at = sum(v >= optimum - AT_OPTIMUM_TOL for run in cell.values for v in run)
            texts.append(f"{s['mean']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}] {at}/{n_all}")
        lines.append(f"| {row} | " + " | ".join(texts) + f" | {worst[row]:.3f} |")
    best_row = max(worst, key=worst.get)
    population_is_best = worst["population"] >= worst[best_row] - 1e-9
    lines += [
        "",
        reference_text(measured, worst),
        f"Most robust row (largest worst column): **{best_row}** ({worst[best_row]:.4f}); "
        f"population row: {worst['population']:.4f}"
        + (" (the most robust)." if population_is_best else " (not the most robust).")
        + f" The population mixes {', '.join(POPULATION_MIX)}; the other columns are held out.",
        "",
    ]
    if reference is None:  # continuous: every seed learns its own mechanism
        lines += [
            f"Each row is random search over {measured['episodes']} sampled mechanisms per "
            "training seed; the mechanisms learned are in `mechanisms.json`.",
            "",
        ]
    else:
        lines += [
            "Mechanisms learned, with the number of training seeds that learned each:",
            "",
            *(
                f"- {row}: " + "; ".join(f"{m} ({ms.count(m)})" for m in dict.fromkeys(ms))
                for row, ms in measured["mechanisms"].items()
            ),
            "",
        ]
    return "\n".join(lines)


def reference_text(measured: dict[str, Any], worst: dict[str, float]) -> str:
    """The robust reference and whether every row's worst column respects it (markdown)."""
    reference, columns = measured["reference"], measured["columns"]
    if reference is None:
        return (
            "No exact robust reference: the committed actions are continuous, so the "
            "mechanisms cannot be enumerated; the exact optimum above bounds every cell."
        )
    result = reference.result
    pure_mechanism = mechanism_text(measured["game"], reference.mechanisms[result.pure_mechanism])
    return (
        f"Robust reference over the {len(columns)} column models (every committed mechanism, "
        f"the same follower seeds): best single mechanism against the worst model "
        f"**{result.pure_value:.4f}** ({pure_mechanism}); best lottery over mechanisms "
        f"**{result.mixed_value:.4f}**. Upper bound on every row's worst column: "
        + ("holds" if max(worst.values()) <= bound(measured) else "**VIOLATED**")
        + "."
    )


def bound(measured: dict[str, Any]) -> float:
    """The upper bound on every row's worst column: the robust lottery value where the
    mechanisms are enumerated, else the exact optimum (plus 1e-9)."""
    reference = measured["reference"]
    top = measured["optimum"] if reference is None else reference.result.mixed_value
    return top + 1e-9


def rounded(values: list[float]) -> list[float | None]:
    """``values`` rounded to 6 decimals, ``None`` for a missing (NaN) one."""
    return [round(float(v), 6) if math.isfinite(v) else None for v in values]


def marl_eval(all_measured: dict[str, dict[str, Any]], args: Args) -> dict[str, Any]:
    """marl-eval's raw-data layout: setting -> column -> row -> seed -> metrics.

    ``absolute_metrics`` hold one value per follower seed; ``step_0`` (marl-eval needs a step)
    the mean over follower seeds, at the training budget (in episodes).
    """
    out: dict[str, Any] = {}
    steps = args.train_episodes
    for name, measured in all_measured.items():
        setting = out.setdefault(SETTINGS[name][0], {})
        for column in measured["columns"]:
            task = setting.setdefault(f"{name}/evaluated-against:{column}", {})
            for row, cells in measured["table"].items():
                cell = cells[column]
                runs = {}
                for k, values in enumerate(cell.values):
                    metrics = {  # one entry per follower seed, rounded to 1e-6
                        "leader_value": rounded(values),
                        "optimality_gap": rounded(cell.gaps[k]),
                        "bcce_gap": rounded(cell.bcce[k]),
                    }
                    mean = rounded([float(np.mean(values))])
                    runs[f"seed_{k + 1}"] = {
                        "step_0": {"step_count": steps, "leader_value": mean},
                        "absolute_metrics": metrics,
                    }
                task[f"trained-against:{row}"] = runs
    return out


def heat_map(name: str, measured: dict[str, Any], path: Path) -> None:
    """Rows x columns of cell means, annotated, with the optimum in the title."""
    columns = measured["columns"]
    row_names = list(measured["table"])
    means = np.array(
        [[measured["table"][r][c].summary()["mean"] for c in columns] for r in row_names]
    )
    reference = measured["reference"]
    robust = (
        "no robust reference: continuous"
        if reference is None
        else f"robust {reference.result.pure_value:.3f} pure, "
        f"{reference.result.mixed_value:.3f} lottery"
    )
    title = f"{name}: mean exact leader value\n(optimum {measured['optimum']:.3f}; {robust})"
    bottom = min(0.0, float(means.min()))  # MSPM's values are minus a loss
    draw_heat_map(means, row_names, columns, title, (bottom, max(measured["optimum"], 1e-9)), path)


def draw_heat_map(
    means: np.ndarray,
    row_names: list[str],
    columns: list[str],
    title: str,
    limits: tuple[float, float],
    path: Path,
) -> None:
    """A rows x columns heat map of ``means``, each cell annotated, colours over ``limits``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bottom, top = limits
    fig, ax = plt.subplots(figsize=(0.8 * len(columns) + 3.0, 0.45 * len(row_names) + 2.2))
    image = ax.imshow(means, cmap="viridis", vmin=bottom, vmax=top, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=40, ha="right")
    ax.set_yticks(range(len(row_names)), row_names)
    ax.set_xlabel("evaluated against")
    ax.set_ylabel("trained against")
    for i in range(len(row_names)):
        for j in range(len(columns)):
            color = "k" if means[i, j] > bottom + 0.6 * (top - bottom) else "w"
            ax.text(j, i, f"{means[i, j]:.2f}", ha="center", va="center", color=color, fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass
class Args:
    out: str = "benchmark/results/robustness"
    """the output folder (tables, marl-eval JSON, heat maps)"""
    settings: tuple[str, ...] = tuple(SETTINGS)
    """the settings to measure"""
    train_seeds: int = 3
    """training seeds per row (the table's figures use 10)"""
    eval_seeds: int = 3
    """follower seeds per evaluation (the table's figures use 10)"""
    train_episodes: int = 30
    """random-search episodes per training run where the mechanisms are enumerated (one
    uniformly drawn committed mechanism each)"""
    sampled_episodes: int = 200
    """random-search episodes per training run where the committed actions are continuous
    (one sampled committed mechanism each)"""
    n_reward: int = 100
    """reward sub-games per training episode (the return a mechanism is scored by)"""
    reward_play: Literal["argmax", "sample"] = "sample"
    """how the learning followers play in the reward phase: `sample` their mixed strategy
    (how far they learned), or `argmax` (with a pure commitment every full-information
    learner then plays the exact best response after one sweep)"""


def check_args(args: Args) -> None:
    """Refuse a bad flag, naming it and the value (``ValueError``)."""
    for name in ("train_seeds", "eval_seeds", "train_episodes", "sampled_episodes", "n_reward"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    unknown = [s for s in args.settings if s not in SETTINGS]
    if unknown:
        raise ValueError(f"--settings must be among {list(SETTINGS)}, got {unknown}")


def main(args: Args) -> int:
    """Measure, print and write; exit status 1 if a row beats its upper bound (:func:`bound`)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    measured = {name: measure(name, args) for name in args.settings}
    command = "python benchmark/robustness.py " + " ".join(sys.argv[1:])
    text = "\n".join(markdown(name, m, args) for name, m in measured.items())
    text += f"\nMeasured by `{command.strip()}` in {time.time() - start:.0f} s.\n"
    print(text)
    (out / "robustness.md").write_text(text)
    compact = json.dumps(marl_eval(measured, args), separators=(",", ":"))
    (out / "marl_eval.json").write_text(compact)
    learned = {name: m["mechanisms"] for name, m in measured.items()}
    (out / "mechanisms.json").write_text(json.dumps(learned, indent=1))
    for name, m in measured.items():
        heat_map(name, m, out / f"{name}.png")
    violated = [name for name, m in measured.items() if max(worst_columns(m).values()) > bound(m)]
    return 1 if violated else 0


if __name__ == "__main__":
    arguments = tyro.cli(Args)
    try:
        check_args(arguments)
    except ValueError as error:
        print(f"robustness.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(arguments))
