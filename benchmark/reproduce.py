"""One command for the reproduction targets of docs/settings.md: every setting x seeds.

The sweep is the data in :data:`EXPERIMENTS` (setting, env kwargs, trainer, flags, seeds,
budget); :data:`FIGURES` groups them into learning-curve plots (including the four-way
ablations {Stackelberg POMDP, Basic POMDP} x {state critic, obs critic} of matrix design and
simple allocation k=3) and :data:`CHECKS` states each reproduction target and how the
measured results are judged against it. Each run drives a trainer through its command line
and leaves one result JSON, written atomically; a re-run skips finished runs, so a killed
sweep loses only the runs in flight. Then it writes the results table (markdown), PNG
curves and marl-eval JSON.

    python benchmark/reproduce.py                              # everything, one worker per core
    python benchmark/reproduce.py --only 'mspm-*' --seeds 5 --workers 1
    python benchmark/reproduce.py --budget-scale 0.1 --out /tmp/quick   # a quick look
    python benchmark/reproduce.py --backend ray --ray-address auto      # on a Ray cluster
    python benchmark/reproduce.py --aggregate-only --report docs/results.md \\
        --figures-dir docs/assets/results                     # rewrite the docs page
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import os
import platform
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `sweep` beside this file
import companions
import seed_stats
import sweep
from sweep import Experiment, Summary

ROOT = Path(__file__).resolve().parents[1]
"""The repository root."""

SETTINGS_PAGE = ROOT / "docs" / "settings.md"
ASSETS = ROOT / "docs" / "assets"
"""Where the companion benchmarks write their fragments (:mod:`companions`)."""
"""The docs page that states each setting, the reproduction targets and each command."""

INVOCATIONS = "invocations.txt"
RUNS = "runs"
"""The figures folder's copy of the page's result JSONs (the layout of ``OUT/results``)."""
"""File in the output folder where every sweep invocation is logged (for the results page)."""

ABLATION: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("", "stackelberg-pomdp/state-critic", ()),
    ("-obs-critic", "stackelberg-pomdp/obs-critic", ("--critic", "obs")),
    ("-basic", "basic-pomdp/state-critic", ("--response-phase-prob", "0")),
    (
        "-basic-obs-critic",
        "basic-pomdp/obs-critic",
        ("--response-phase-prob", "0", "--critic", "obs"),
    ),
)
"""The four-way ablation: (name suffix, algorithm label, trainer flags). The first is the
paper's method (Stackelberg POMDP, centralized state critic, the trainer's defaults)."""

MAIN = ABLATION[0][1]

_WIDE = ("--local-search", "0.5", "--num-envs", "256")
"""Local search over 256 parallel episodes instead of 8: the batched POMDP steps them in one
numpy call, so about three times as many policies are tried per second; its runs get 6M
steps (the 8-env rows 500,000)."""


RESTART_AFTER = 4_000_000
"""The `-ls256r` row's `--restart-after`: longer than the longest stay on one level of any
`-ls256` run at t = 5 that went on to reach the target (3.7M steps, seed 9), so a search that
would get there is not cut off (`search_throughput.py --per-run`)."""


def _ablation(
    name: str, setting: str, env_kwargs: dict, budget: int, seeds: int, task: str, baseline: str
) -> list[Experiment]:
    return [
        Experiment(
            f"{name}{suffix}", setting, env_kwargs, budget, seeds, "mappo", flags, task, label,
            baseline,
        )
        for suffix, label, flags in ABLATION
    ]  # fmt: skip


EXPERIMENTS: tuple[Experiment, ...] = (
    # Normal-form Stackelberg games: escape and maintain, pure and randomized commitments.
    Experiment("escape-pure", "normal_form", {"game": "escape"}, 200_000, 25,
               task="escape", algorithm=MAIN, baseline="pure_commitment"),
    Experiment("escape-mixed", "normal_form", {"game": "escape", "mixed_leader": True},
               200_000, 25, task="escape-randomized", algorithm=MAIN,
               baseline="pure_commitment"),
    Experiment("maintain-pure", "normal_form", {"game": "maintain"}, 200_000, 25,
               task="maintain", algorithm=MAIN, baseline="pure_commitment"),
    Experiment("maintain-mixed", "normal_form", {"game": "maintain", "mixed_leader": True},
               200_000, 25, task="maintain-randomized", algorithm=MAIN,
               baseline="pure_commitment"),
    # Matrix design (k-implementation): the four-way ablation.
    *_ablation("matrix-design", "matrix_design", {}, 300_000, 25, "matrix-design",
               "no_payment_mixed_ne"),
    # Simple allocation with k messages, and the four-way ablation at k = 3.
    Experiment("simple-allocation-k1", "simple_allocation", {"n_messages": 1}, 500_000, 25,
               task="k1", algorithm=MAIN, baseline="no_messages"),
    Experiment("simple-allocation-k2", "simple_allocation", {"n_messages": 2}, 500_000, 25,
               task="k2", algorithm=MAIN, baseline="no_messages"),
    *_ablation("simple-allocation-k3", "simple_allocation", {"n_messages": 3}, 500_000, 25,
               "k3", "no_messages"),
    # Sequential price mechanisms with 2 messages: PI and MSGSpace(t) for t = 3..6.
    Experiment("mspm-pi", "mspm", {"values": "pi", "n_messages": 2}, 5_000_000, 25,
               task="pi", algorithm=MAIN, baseline="message_free_spm"),
    *(
        Experiment(f"mspm-t{t}", "mspm", {"values": "uniform", "n_values": t, "n_messages": 2},
                   5_000_000, 10, task=f"msgspace-t{t}", algorithm=MAIN,
                   baseline="message_free_spm")
        for t in (3, 4, 5, 6)
    ),
    # The same with faster MW followers (eps 0.5 instead of the paper's 0.01), t = 4..6, 8M steps.
    *(
        Experiment(f"mspm-t{t}-eps0.5", "mspm",
                   {"values": "uniform", "n_values": t, "n_messages": 2}, 8_000_000, 10,
                   flags=("--mw-eps", "0.5"), task=f"msgspace-t{t}",
                   algorithm=f"{MAIN}/mw-eps-0.5", baseline="message_free_spm")
        for t in (4, 5, 6)
    ),
    # The many-type table under the certified protocol (the authors' current one): MAPPO,
    # random search (a table per episode; the authors' trainer starts with such a search), and
    # random search that also perturbs its best table (half the episodes).
    *(
        Experiment(f"mspm-{task}-certified{suffix}", "mspm", kwargs, budget,
                   25 if task == "pi" else 10, trainer, ("--protocol", "certified", *extra),
                   f"msgspace-{task}" if task != "pi" else task, f"{label}/certified",
                   "message_free_spm")
        for suffix, trainer, label, budget, extra in (
            ("", "mappo", MAIN, 5_000_000, ()),
            ("-rs", "random_search", "random-search", 500_000, ()),
            ("-ls", "random_search", "local-search", 500_000, ("--local-search", "0.5")),
            ("-ls256", "random_search", "local-search-256-envs", 6_000_000, _WIDE),
        )
        for task, kwargs in (
            ("pi", {"values": "pi", "n_messages": 2}),
            *((f"t{t}", {"values": "uniform", "n_values": t, "n_messages": 2})
              for t in (3, 4, 5, 6)),
        )
    ),
    # Past the authors: t = 7 (no zero-loss mechanism; the target is the exact minimum loss)
    # and three followers with uniform t = 3 values, certified; the latter also under `paper`.
    *(
        Experiment(f"mspm-{task}-certified{suffix}", "mspm", kwargs, budget, 10, trainer,
                   ("--protocol", "certified", *extra), label_task, f"{label}/certified",
                   "message_free_spm")
        for task, label_task, kwargs in (
            ("t7", "msgspace-t7", {"values": "uniform", "n_values": 7, "n_messages": 2}),
            ("3f-t3", "msgspace-t3-3-followers",
             {"values": "uniform", "n_values": 3, "n_messages": 2, "n_followers": 3}),
        )
        for suffix, trainer, label, budget, extra in (
            ("", "mappo", MAIN, 5_000_000, ()),
            ("-rs", "random_search", "random-search", 500_000, ()),
            ("-ls", "random_search", "local-search", 500_000, ("--local-search", "0.5")),
            ("-ls256", "random_search", "local-search-256-envs", 6_000_000, _WIDE),
        )
    ),
    Experiment("mspm-3f-t3", "mspm",
               {"values": "uniform", "n_values": 3, "n_messages": 2, "n_followers": 3},
               5_000_000, 10, task="msgspace-t3-3-followers", algorithm=MAIN,
               baseline="message_free_spm"),
    # t = 5, where the local search over 256 envs misses by one seed: the same search, started
    # over after 4M steps without a rise (`--restart-after`), with 20M steps for the restarts.
    Experiment("mspm-t5-certified-ls256r", "mspm",
               {"values": "uniform", "n_values": 5, "n_messages": 2}, 20_000_000, 10,
               "random_search", ("--protocol", "certified", *_WIDE, "--restart-after",
                                 str(RESTART_AFTER)),
               "msgspace-t5", "local-search-256-envs-restarts/certified", "message_free_spm"),
)  # fmt: skip
"""Every experiment of the sweep. Seed counts: 25 where a run takes under a minute (as the
paper's authors run; MSPM PI takes 15-30 s), 10 for the MSGSpace runs, which take up to
several minutes each on one core when they do not reach the target (`--seeds N` runs N
seeds of every experiment instead). Budgets are the trainer's per-setting defaults, and runs stop
early once their target is reached (the trainer's `--stop-at-optimum`); certified random
search gets 500,000 steps (about 30 s: it reaches PI and t = 3 in seconds or not at all)."""


@dataclass(frozen=True)
class Figure:
    """One PNG of learning curves.

    Attributes:
        name: File stem (``<name>.png`` for the leader value, ``<name>-bcce.png`` for the
            BCCE gap).
        title: Plot title.
        experiments: Names of the experiments plotted.
        label: Which experiment field labels a curve (``"task"`` or ``"algorithm"``).
    """

    name: str
    title: str
    experiments: tuple[str, ...]
    label: Literal["task", "algorithm"] = "task"


def _names(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{suffix}" for suffix, _, _ in ABLATION)


FIGURES: tuple[Figure, ...] = (
    Figure("normal-form", "Normal-form Stackelberg games",
           ("escape-pure", "escape-mixed", "maintain-pure", "maintain-mixed")),
    Figure("matrix-design-ablation", "Matrix design: four-way ablation",
           _names("matrix-design"), "algorithm"),
    Figure("simple-allocation", "Simple allocation, k messages",
           ("simple-allocation-k1", "simple-allocation-k2", "simple-allocation-k3")),
    Figure("simple-allocation-k3-ablation", "Simple allocation k=3: four-way ablation",
           _names("simple-allocation-k3"), "algorithm"),
    Figure("mspm", "MSPM, 2 messages (leader value = minus welfare loss)",
           ("mspm-pi", "mspm-t3", "mspm-t4", "mspm-t5", "mspm-t6")),
    Figure("mspm-eps0.5", "MSGSpace, 2 messages, MW followers with eps 0.5",
           ("mspm-t4-eps0.5", "mspm-t5-eps0.5", "mspm-t6-eps0.5")),
    Figure("mspm-certified", "MSPM, 2 messages, certified protocol (MAPPO)",
           ("mspm-pi-certified", "mspm-t3-certified", "mspm-t4-certified",
            "mspm-t5-certified", "mspm-t6-certified")),
    Figure("mspm-certified-rs", "MSPM, 2 messages, certified protocol (random search)",
           tuple(f"mspm-{task}-certified-rs" for task in ("pi", "t3", "t4", "t5", "t6"))),
    Figure("mspm-certified-ls", "MSPM, 2 messages, certified protocol (random search with "
           "local search)",
           tuple(f"mspm-{task}-certified-ls" for task in ("pi", "t3", "t4", "t5", "t6"))),
    Figure("mspm-certified-ls256", "MSPM, 2 messages, certified protocol (local search, 256 "
           "envs)",
           tuple(f"mspm-{task}-certified-ls256" for task in ("pi", "t3", "t4", "t5", "t6"))),
    Figure("mspm-beyond", "MSGSpace t = 7 and three followers at t = 3 (MAPPO)",
           ("mspm-t7-certified", "mspm-3f-t3-certified", "mspm-3f-t3")),
)  # fmt: skip
"""The learning-curve figures."""


# ----------------------------------------------------------------------------- checks

SEED_FRACTION = 0.9
"""A target is met when at least this fraction of an experiment's seeds reach it; the page
states every fraction."""

EQUILIBRIUM_TOL = 1e-6
"""A learned mechanism is an equilibrium when no follower type gains more than this by
deviating from its learned reward-phase play."""


def _met(fraction: float) -> bool:
    return fraction >= SEED_FRACTION - 1e-12


def _of(fraction: float | None, n: int) -> str:
    return "–" if fraction is None else f"{round(fraction * n)}/{n}"


@dataclass(frozen=True)
class Verdict:
    """How one reproduction target (docs/settings.md) fared.

    Attributes:
        measured: What was measured, in words and numbers.
        met: Whether the target is met (``None``: not enough results to judge).
    """

    measured: str
    met: bool | None


@dataclass(frozen=True)
class Check:
    """One reproduction target (a row of docs/settings.md) and the rule that judges it.

    Attributes:
        setting: The row's setting, as in docs/settings.md.
        target: The row's target, as in docs/settings.md.
        experiments: The experiments the rule reads.
        judge: ``{name: (summary, records)} -> Verdict`` over those experiments (only
            called when all of them have results, or with ``partial`` when any has).
        partial: Whether the rule may judge a subset of ``experiments``.
        side_file: A JSON file of the output folder written by another benchmark script
            (e.g. ``bcce_rate.json``); when set, ``judge`` gets its content (``None`` if the
            file is absent) as a second argument.
    """

    setting: str
    target: str
    experiments: tuple[str, ...]
    judge: Callable[..., Verdict]
    partial: bool = False
    side_file: str | None = None


def _all_at_optimum(names: Sequence[str]) -> Callable[..., Verdict]:
    def judge(results):
        parts, met = [], True
        for name in names:
            s = results[name][0]
            n = len(s.seeds)
            parts.append(
                f"{name}: IQM {s.value_iqm.text()} (optimum {s.optimum:.4f}, "
                f"{_of(s.at_optimum, n)} seeds within 1e-3)"
            )
            met &= _met(s.at_optimum)
        return Verdict("; ".join(parts), met)

    return judge


def _maintain(results) -> Verdict:
    pure, mixed = results["maintain-pure"][0], results["maintain-mixed"][0]
    n, m = len(pure.seeds), len(mixed.seeds)
    measured = (
        f"deterministic IQM {pure.value_iqm.text()} (optimum {pure.optimum:.4f}, "
        f"{_of(pure.at_optimum, n)} seeds within 1e-3); randomized IQM "
        f"{mixed.value_iqm.text()}: the SSE {mixed.optimum:.4f} sits on "
        f"the follower's tie, so the trainer's target is the best commitment keeping the "
        f"follower strict by 0.005, {mixed.target:.4f}; {_of(mixed.at_target, m)} seeds "
        f"at it (within 1e-3), {_of(mixed.at_optimum, m)} within 1e-3 of the SSE"
    )
    return Verdict(measured, _met(pure.at_optimum) and _met(mixed.at_target))


def _loss_text(name: str, s: Summary) -> str:
    """``"<name>: loss IQM x [lo, hi] vs message-free y"`` (MSPM's leader value is minus the
    welfare loss)."""
    loss, message_free = s.value_iqm, -baseline_values(name)["message_free_spm"]
    return (
        f"{name}: loss IQM {0.0 - loss.value:.4f} [{0.0 - loss.high:.4f}, "
        f"{0.0 - loss.low:.4f}] vs message-free {message_free:.4f}"
    )


def _with_results(names: Sequence[str], results) -> Iterator[tuple[str, Summary, list, int]]:
    """``(name, summary, records, number of seeds)`` of each of ``names`` with results."""
    for name in names:
        if name in results:
            summary, records = results[name]
            yield name, summary, records, len(summary.seeds)


def _mspm(names: Sequence[str]) -> Callable[..., Verdict]:
    def judge(results):
        parts, met = [], True
        for name, s, records, n in _with_results(names, results):
            parts.append(
                f"{_loss_text(name, s)}; {_of(s.at_optimum, n)} seeds zero loss "
                f"±1e-3, {_of(optimal_equilibria(s, records), n)} of them in an equilibrium"
            )
            met &= _met(optimal_equilibria(s, records))
        return Verdict("; ".join(parts), met)

    return judge


def optimal_equilibria(summary: Summary, records: Sequence[Mapping[str, Any]]) -> float:
    """Fraction of seeds whose final mechanism is at the optimum (within ``summary.tol``) and
    an equilibrium (no follower type gains more than :data:`EQUILIBRIUM_TOL` by deviating)."""
    hits = [
        abs(r["final"]["leader_value"] - summary.optimum) <= summary.tol
        and r["final"]["deviation_gain"] is not None
        and r["final"]["deviation_gain"] <= EQUILIBRIUM_TOL
        for r in records
    ]
    return float(np.mean(hits))


def certified_optima(summary: Summary, records: Sequence[Mapping[str, Any]]) -> float:
    """Fraction of seeds whose final mechanism is at the optimum (within ``summary.tol``)
    against a certified follower response in every evaluation episode (certified protocol;
    a record without a certification rate never counts)."""
    hits = [
        r["final"]["leader_value"] is not None
        and abs(r["final"]["leader_value"] - summary.optimum) <= summary.tol
        and r["final"].get("certification_rate") == 1.0
        for r in records
    ]
    return float(np.mean(hits))


def best_certified_values(records: Sequence[Mapping[str, Any]]) -> list[float]:
    """Each seed's best exact leader value over its evaluations whose every episode had a
    certified response: the authors' statistic (a seed with none is left out).

    The leader value and certification rate are logged at the same steps of a run; an
    evaluation counts when its rate is 1.
    """
    best = []
    for record in records:
        values = record["curves"].get("equilibrium/leader_value")
        rates = record["curves"].get("equilibrium/certification_rate")
        if not values or not rates:
            continue
        certified = {step for step, rate in zip(rates["step"], rates["value"], strict=True)
                     if rate == 1.0}  # fmt: skip
        candidates = [
            value
            for step, value in zip(values["step"], values["value"], strict=True)
            if step in certified and value is not None
        ]
        if candidates:
            best.append(max(candidates))
    return best


def curve_areas(records: Sequence[Mapping[str, Any]], optimum: float, end: int) -> np.ndarray:
    """Per seed, the mean over ``[0, end]`` of the leader-value curve minus the optimum.

    0 means at the optimum from the first evaluation; more negative is worse. Curves are
    resampled on 100 evenly spaced steps (a stopped run keeps its last value; before its
    first evaluation a run counts as its first value).
    """
    grid = np.linspace(end / 100, end, 100)
    _, values = sweep.resample(records, "equilibrium/leader_value", grid)
    for row in values:  # before the first evaluation: the first value
        first = np.flatnonzero(~np.isnan(row))
        if first.size:
            row[: first[0]] = row[first[0]]
    return np.nanmean(values, axis=1) - optimum


@dataclass(frozen=True)
class Comparison:
    """The paper's method against one other variant of a four-way ablation.

    Attributes:
        variant: The other variant's algorithm label.
        area: Probability that a run of the paper's method has a larger curve area
            (:func:`curve_areas`: it is nearer the optimum over training) than a run of the
            variant, ties counting half, with its 95% bootstrap interval.
        final: The same on the final leader value.
    """

    variant: str
    area: seed_stats.Estimate
    final: seed_stats.Estimate


def ablation_areas(
    prefix: str, results: Mapping[str, tuple[Summary, list]]
) -> dict[str, np.ndarray]:
    """Per-seed curve areas (:func:`curve_areas`) of the four variants of an ablation, all on
    ``[0, the longest run of the four]``."""
    names = _names(prefix)
    end = max(r["final"]["steps"] for name in names for r in results[name][1])
    return {name: curve_areas(results[name][1], results[name][0].optimum, end) for name in names}


def ablation_comparisons(
    prefix: str, results: Mapping[str, tuple[Summary, list]]
) -> list[Comparison]:
    """The paper's method (the first of :data:`ABLATION`) against each other variant."""
    names = _names(prefix)
    areas = ablation_areas(prefix, results)
    finals = {
        n: np.array([r["final"]["leader_value"] for r in results[n][1]], dtype=np.float64)
        for n in names
    }  # a NaN evaluation (None) becomes NaN

    def improvement(x: np.ndarray, y: np.ndarray) -> seed_stats.Estimate:
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            return seed_stats.Estimate(np.nan, np.nan, np.nan)  # a seed without a value
        return seed_stats.probability_of_improvement(x, y)

    return [
        Comparison(
            ABLATION[k][1],
            improvement(areas[names[0]], areas[name]),
            improvement(finals[names[0]], finals[name]),
        )
        for k, name in enumerate(names)
        if k
    ]


CERTIFIED_TIME_LIMIT_S = {"pi": 4.0}
"""The certified table's median wall time to target, by task (default
:data:`CERTIFIED_DEFAULT_LIMIT_S`): PI within 4 s, where the authors' code takes 21-35 s."""

CERTIFIED_DEFAULT_LIMIT_S = 120.0
"""The certified table's median wall time to target for every other task: 2 minutes."""


def _mspm_certified(names: Sequence[str]) -> Callable[..., Verdict]:
    def judge(results):
        parts, met = [], True
        for name, s, records, n in _with_results(names, results):
            task = experiment_named(name).task
            limit = CERTIFIED_TIME_LIMIT_S.get(task, CERTIFIED_DEFAULT_LIMIT_S)
            fraction = certified_optima(s, records)
            median = s.median_time_to_target_s
            best = np.asarray(best_certified_values(records))
            authors = (
                f"best certified evaluation: mean loss {0.0 - best.mean():.4f} ± "
                f"{best.std(ddof=1) / np.sqrt(best.size) if best.size > 1 else 0.0:.4f} "
                f"(s.e., {best.size} seeds)"
                if best.size
                else "no certified evaluation"
            )
            at = "zero loss" if s.optimum == 0.0 else f"the minimum loss {-s.optimum:.4f}"
            parts.append(
                f"{_loss_text(name, s)}; {_of(fraction, n)} seeds at {at} ±1e-3 with every "
                f"evaluation episode certified; median time to target "
                f"{'–' if median is None else f'{median:.1f} s'} (target ≤ {limit:g} s); "
                f"{authors}"
            )
            met &= _met(fraction) and median is not None and median <= limit
        return Verdict("; ".join(parts), met)

    return judge


def _steps_text(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _ablation_order(prefix: str) -> Callable[..., Verdict]:
    names = _names(prefix)

    def judge(results):
        areas = ablation_areas(prefix, results)
        main = names[0]
        improvement = {c.variant: c.area for c in ablation_comparisons(prefix, results)}
        basic = [label for _, label, _ in ABLATION if label.startswith("basic-pomdp")]
        main_ok = _met(results[main][0].at_optimum)
        worse = all(improvement[label].low > 0.5 for label in basic)
        parts = []
        for k, name in enumerate(names):
            s = results[name][0]
            n = len(s.seeds)
            label = ABLATION[k][1]
            versus = f", P(paper's method better) {improvement[label].text('.2f')}" if k else ""
            parts.append(
                f"{label}: {_of(s.at_optimum, n)} seeds at the optimum, curve minus optimum "
                f"IQM {seed_stats.iqm_interval([areas[name]]).text('+.4f')}{versus}, target "
                f"reached {_of(s.reached_target, n)}, median "
                f"{_steps_text(s.median_steps_to_target)} steps"
            )
        measured = f"optimum {results[main][0].optimum:.4f}; " + "; ".join(parts)
        return Verdict(measured, main_ok and worse)

    return judge


def _matrix_design(results) -> Verdict:
    s = results["matrix-design"][0]
    reference = baseline_values("matrix-design")
    no_payment = reference["no_payment_mixed_ne"]
    n = len(s.seeds)
    measured = (
        f"IQM {s.value_iqm.text()}, {_of(s.at_optimum, n)} seeds within 1e-3 of the optimum "
        f"{s.optimum:.4f} (no payments: "
        f"mixed equilibrium {no_payment:.4f}, pure equilibria "
        f"{reference['no_payment_pure_ne_min']:.4f}-{reference['no_payment_pure_ne_max']:.4f})"
    )
    return Verdict(measured, _met(s.at_optimum) and s.value_iqm.low > no_payment + 1e-3)


def _bcce(names: Sequence[str]) -> Callable[..., Verdict]:
    def judge(results, fixed_leader):
        parts, within = [], True
        for name in names:
            if name not in results:
                continue
            s = results[name][0]
            if s.bcce_gap is None:
                continue
            parts.append(f"{name} {s.bcce_gap:.3f} (bound {s.bcce_gap_bound:.3f})")
            within &= s.bcce_gap_bound is not None and s.bcce_gap <= s.bcce_gap_bound + 1e-9
        trained = (
            f"After training, the followers' response-phase gaps are "
            f"{'all' if within else '**not all**'} within the learners' regret bound: "
            + "; ".join(parts)
        )
        if fixed_leader is None:
            return Verdict(
                f"not measured: run `python benchmark/bcce_rate.py --json "
                f"OUT/{BCCE_RATE_FILE}` (fixed leader, growing response phase). {trained}",
                None,
            )
        rows, met = [], True
        for name, r in fixed_leader["results"].items():
            first, last = r["gap"][0], r["gap"][-1]
            decreasing = all(b < a for a, b in itertools.pairwise(r["gap"][-3:]))
            met &= decreasing and all(
                g <= a + 1e-12 for g, a in zip(r["gap"], r["allowance"], strict=True)
            )
            rows.append(
                f"{name} {first:.3f} → {last:.4f} (allowance {r['allowance'][-1]:.3f}, "
                f"slope {r['slope']:.2f})"
            )
        rounds = fixed_leader["results"][next(iter(fixed_leader["results"]))]["rounds"]
        measured = (
            f"`benchmark/bcce_rate.py`, leader fixed at the reference optimum, MW eps 0.01, "
            f"{rounds[0]} → {rounds[-1]} sweeps, {fixed_leader['seeds']} seeds: agent-form "
            "BCCE gap (log-log slope over the three longest phases) "
            + "; ".join(rows)
            + ". Every seed within its no-regret allowance (regret bound plus an Azuma margin),"
            " decreasing over the longest phases; with a fixed eps MW's bound falls like 1/T "
            f"to an eps floor. {trained}"
        )
        return Verdict(measured, met)

    return judge


BCCE_RATE_FILE = "bcce_rate.json"
"""The side file of the fixed-leader row, written by ``benchmark/bcce_rate.py --json``."""


_MSPM = ("mspm-pi", "mspm-t3", "mspm-t4", "mspm-t5", "mspm-t6")
_CERTIFIED = tuple(f"{name}-certified" for name in _MSPM)
_CERTIFIED_RS = tuple(f"{name}-rs" for name in _CERTIFIED)
_CERTIFIED_LS = tuple(f"{name}-ls" for name in _CERTIFIED)
_CERTIFIED_LS256 = tuple(f"{name}-ls256" for name in _CERTIFIED)
_BEYOND = ("mspm-t7-certified", "mspm-t7-certified-rs", "mspm-t7-certified-ls",
           "mspm-t7-certified-ls256", "mspm-3f-t3-certified", "mspm-3f-t3-certified-rs",
           "mspm-3f-t3-certified-ls", "mspm-3f-t3-certified-ls256")  # fmt: skip
_MAIN_ROWS = (
    "escape-pure", "escape-mixed", "maintain-pure", "maintain-mixed", "matrix-design",
    "simple-allocation-k1", "simple-allocation-k2", "simple-allocation-k3", *_MSPM,
)  # fmt: skip

CHECKS: tuple[Check, ...] = (
    Check("Escape, both modes", "reward-phase leader value 1.0",
          ("escape-pure", "escape-mixed"), _all_at_optimum(("escape-pure", "escape-mixed"))),
    Check("Maintain deterministic / randomized", "0.667 / the SSE value of the randomized game",
          ("maintain-pure", "maintain-mixed"), _maintain),
    Check("Matrix design, Stackelberg POMDP + CTDE critic",
          "the welfare optimum, clearly above the no-payment outcome", ("matrix-design",),
          _matrix_design),
    Check("Matrix design ablation", "Stackelberg POMDP + state critic reaches the optimum, "
          "Basic POMDP variants do worse", _names("matrix-design"),
          _ablation_order("matrix-design")),
    Check("Simple allocation k=3 ablation", "Stackelberg POMDP + state critic reaches the "
          "optimum, Basic POMDP variants do worse", _names("simple-allocation-k3"),
          _ablation_order("simple-allocation-k3")),
    Check("Simple allocation k = 1, 2, 3", "average welfare 1/3, 2/3, 1",
          ("simple-allocation-k1", "simple-allocation-k2", "simple-allocation-k3"),
          _all_at_optimum(("simple-allocation-k1", "simple-allocation-k2",
                           "simple-allocation-k3"))),
    Check("MSPM PI and MSGSpace t = 3..6, m = 2",
          "welfare loss 0 in an equilibrium, beating the best message-free SPM", _MSPM,
          _mspm(_MSPM), partial=True),
    Check("MSPM PI and MSGSpace t = 3..6, m = 2, certified protocol, MAPPO",
          "welfare loss 0 with a certified response in ≥ 90% of 10 seeds, median time to "
          "target ≤ 2 min (PI ≤ 4 s)", _CERTIFIED, _mspm_certified(_CERTIFIED), partial=True),
    Check("The same, random search",
          "the same", _CERTIFIED_RS, _mspm_certified(_CERTIFIED_RS), partial=True),
    Check("The same, random search with local search (`--local-search 0.5`)",
          "the same", _CERTIFIED_LS, _mspm_certified(_CERTIFIED_LS), partial=True),
    Check("The same, local search over 256 parallel episodes (`--num-envs 256`)",
          "the same", _CERTIFIED_LS256, _mspm_certified(_CERTIFIED_LS256), partial=True),
    Check("MSGSpace t = 5, certified, local search over 256 episodes with restarts "
          "(`--restart-after 4000000`, 20M steps)", "the same",
          ("mspm-t5-certified-ls256r",), _mspm_certified(("mspm-t5-certified-ls256r",)),
          partial=True),
    Check("Past the authors, certified: MSGSpace t = 7 and three followers at t = 3",
          "the exact minimum loss (t = 7: no zero-loss mechanism exists) / zero loss, as above",
          _BEYOND, _mspm_certified(_BEYOND), partial=True),
    Check("Any setting, fixed leader",
          "BCCE gap of follower play toward 0 at the no-regret rate",
          _MAIN_ROWS, _bcce(_MAIN_ROWS), partial=True, side_file=BCCE_RATE_FILE),
)  # fmt: skip
"""The reproduction targets of docs/settings.md, row by row, with the rule that judges the
measured results."""


# ----------------------------------------------------------------------------- reporting


def commands_markdown(experiments: Sequence[Experiment] = EXPERIMENTS) -> str:
    """The command that reproduces each experiment, as markdown (for the docs site).

    Two bash blocks, one line per experiment in each: the sweep command (every seed, results
    kept under ``benchmark/results/``) and the trainer command of its first seed alone.
    """
    width = max(len(e.name) for e in experiments)
    sweep_lines, trainer_lines = [], []
    for e in experiments:
        sweep_lines.append(
            f".venv/bin/python benchmark/reproduce.py --only {e.name:<{width}}  "
            f"# {e.seeds} seeds x {e.total_timesteps:,} steps at most"
        )
        args = sweep.trainer_args(e, 1, e.total_timesteps)
        trainer_lines.append(shlex.join([".venv/bin/python", f"baselines/{e.trainer}.py", *args]))
    return "\n".join(
        [
            "Every seed of one experiment, through the sweep (a finished run is skipped; "
            "`--seeds N` runs seeds 1..N instead):\n",
            "```bash",
            *sweep_lines,
            "```\n",
            "The first seed's trainer alone, as the sweep starts it (the sweep adds "
            "`--no-progress-bar`; other seeds differ only in `--seed`):\n",
            "```bash",
            *trainer_lines,
            "```\n",
        ]
    )


_BASELINES: dict[str, dict[str, float]] = {}

EXPERIMENTS_BY_NAME: dict[str, Experiment] = {e.name: e for e in EXPERIMENTS}


def _failure_line(reason: str) -> str:
    """The gist of a failure note: its first line and the last line of the trainer's log."""
    lines = [line.strip() for line in reason.strip().splitlines() if line.strip()]
    errors = [line for line in lines[1:] if "Error" in line or "error" in line]
    first, last = lines[0], (errors or lines)[-1]
    gist = first if first == last else f"{first} ... {last}"
    return gist if len(gist) <= 300 else gist[:297] + "..."


def experiment_named(name: str) -> Experiment:
    """The experiment called ``name`` (raises ``ValueError`` if none is)."""
    for experiment in EXPERIMENTS:
        if experiment.name == name:
            return experiment
    raise ValueError(f"no experiment named {name!r}")


def baseline_values(name: str) -> dict[str, float]:
    """The setting's ``Reference.baselines`` for an experiment (its exact solver's values)."""
    if name not in _BASELINES:
        from stackelberg_zoo.envs.pomdp.registration import make_setting_game

        experiment = experiment_named(name)
        game_kwargs = {
            k: v for k, v in experiment.env_kwargs.items() if k not in ("n_response", "n_reward")
        }
        reference = make_setting_game(experiment.setting, **game_kwargs).reference()
        _BASELINES[name] = {k: float(v) for k, v in reference.baselines.items()}
    return _BASELINES[name]


def baseline_of(experiment: Experiment) -> tuple[str, float] | None:
    """``(name in words, value)`` of an experiment's baseline, from its setting's exact
    reference (``Reference.baselines``), or ``None`` when it names none."""
    if experiment.baseline is None:
        return None
    value = baseline_values(experiment.name)[experiment.baseline]
    return experiment.baseline.replace("_", " "), value


def run_seconds(record: Mapping[str, Any]) -> float:
    """Seconds from a run's trainer start to its exit (``finished_at - started_at``; 0 when
    the record lacks either)."""
    try:
        started = dt.datetime.fromisoformat(record["started_at"])
        finished = dt.datetime.fromisoformat(record["finished_at"])
    except (KeyError, TypeError, ValueError):
        return 0.0
    return max((finished - started).total_seconds(), 0.0)


def versions_text(versions: Mapping[tuple[Any, Any, Any], int]) -> str:
    """The page's list of code versions: trainer file, the first 8 hex digits of its and the
    package sources' SHA-256, and how many runs each has, most runs first."""
    short = lambda sha: str(sha)[:8] if sha else "unknown"  # noqa: E731
    return "; ".join(
        f"`{trainer}.py` {short(trainer_sha)} with sources {short(source_sha)}: {count} runs"
        for (trainer, trainer_sha, source_sha), count in sorted(
            versions.items(), key=lambda item: (-item[1], str(item[0]))
        )
    )


PREVIOUS_PROVENANCE = "previous sweep, rerun pending"
"""How the table marks a row kept from an earlier sweep's marl-eval data."""


def previous_summaries(
    marl_eval: Mapping[str, Any],
    experiments: Sequence[Experiment] = EXPERIMENTS,
    tol: float = sweep.OPTIMUM_TOL,
) -> dict[str, Summary]:
    """Table rows of an earlier sweep, from its marl-eval JSON (:func:`sweep.marl_eval_json`).

    Only the final values are there: the row has the seeds, the optimum (leader value plus
    optimality gap), the IQM of the final value with its interval, the seeds at the optimum,
    the mean BCCE gap and the largest deviation gain; the rest is unknown (``None``).

    Raises:
        ValueError: If a run lacks its final leader value or optimality gap.
    """
    rows = {}
    for experiment in experiments:
        runs = (
            marl_eval.get(experiment.setting, {})
            .get(experiment.task or experiment.name, {})
            .get(experiment.algorithm)
        )
        if not runs:
            continue
        finals = [run["absolute_metrics"] for run in runs.values()]
        try:
            values = np.array([f["leader_value"][0] for f in finals], dtype=np.float64)
            gaps = np.array([f["optimality_gap"][0] for f in finals], dtype=np.float64)
        except (KeyError, IndexError, TypeError) as error:
            raise ValueError(f"{experiment.name}: a run without its final values") from error
        optimum = float(np.median(values + gaps))
        gains = [f["follower_deviation_gain"][0] for f in finals if "follower_deviation_gain" in f]
        bcce = [f["bcce_gap"][0] for f in finals if "bcce_gap" in f]
        at_optimum = float(np.mean(np.abs(gaps) <= tol))
        rows[experiment.name] = Summary(
            experiment=experiment.name,
            seeds=tuple(sorted(int(key.removeprefix("seed_")) for key in runs)),
            optimum=optimum,
            target=optimum,
            value_mean=float(values.mean()),
            value_std=float(values.std()),
            value_iqm=seed_stats.iqm_interval([values]),
            at_optimum=at_optimum,
            at_target=at_optimum,
            reached_target=None,
            median_steps_to_target=None,
            median_time_to_target_s=None,
            bcce_gap=float(np.mean(bcce)) if bcce else None,
            bcce_gap_bound=None,
            deviation_gain=max(gains) if gains else None,
            wall_time_s=0.0,
            tol=tol,
            provenance=PREVIOUS_PROVENANCE,
        )
    return rows


def summaries(
    results: Mapping[str, list[dict[str, Any]]], experiments: Sequence[Experiment] = EXPERIMENTS
) -> dict[str, tuple[Summary, list[dict[str, Any]]]]:
    """``{name: (summary, records)}`` for the experiments with results, in sweep order."""
    return {
        e.name: (sweep.summarize(e.name, results[e.name]), results[e.name])
        for e in experiments
        if results.get(e.name)
    }


def read_side_file(path: Path) -> Any:
    """A side file's JSON object, or ``None`` with a warning naming it when it is not one."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        sweep.warn(f"{path}: not valid JSON ({error}); its row is judged as not measured")
        return None
    if not isinstance(data, dict):
        sweep.warn(f"{path}: a JSON {type(data).__name__}, not an object; not measured")
        return None
    return data


def checks_table(done: Mapping[str, tuple[Summary, list]], out: Path | None = None) -> str:
    """The reproduction targets with the measured values and the verdicts (side files of a
    check are read from the output folder ``out``).

    A target is met when at least :data:`SEED_FRACTION` of the seeds reach it; a check over
    an experiment with fewer seeds than :data:`EXPERIMENTS` plans is not judged (its verdict
    is "–"), only measured."""
    lines = ["| setting | target | measured | met |", "|---|---|---|---|"]
    for check in CHECKS:
        available = [name for name in check.experiments if name in done]
        missing = [name for name in check.experiments if name not in done]
        if not missing or (check.partial and available):
            args = [{name: done[name] for name in available}]
            if check.side_file is not None:
                side = None if out is None else out / check.side_file
                args.append(read_side_file(side) if side and side.is_file() else None)
            verdict = check.judge(*args)
            if missing:  # a side-file check is judged on its file; missing runs only add text
                verdict = Verdict(
                    f"{verdict.measured}; no finished run: {', '.join(missing)}",
                    verdict.met if check.side_file or not verdict.met else None,
                )
        else:
            missing = [n for n in check.experiments if n not in done]
            verdict = Verdict(f"not run yet: {', '.join(missing)}", None)
        short = [
            f"{name} {len(done[name][0].seeds)} of {experiment_named(name).seeds}"
            for name in available
            if len(done[name][0].seeds) < experiment_named(name).seeds
        ]
        if short and not check.side_file:
            verdict = Verdict(
                f"{verdict.measured}; not judged, fewer seeds than planned: {', '.join(short)}",
                None,
            )
        mark = {True: "yes", False: "**no**", None: "–"}[verdict.met]
        lines.append(f"| {check.setting} | {check.target} | {verdict.measured} | {mark} |")
    return "\n".join(lines) + "\n"


def write_figures(
    done: Mapping[str, tuple[Summary, list]], figures_dir: Path
) -> list[tuple[Figure, Path, Path]]:
    """Write every figure with at least one experiment's results; ``[(figure, value, bcce)]``."""
    written = []
    for figure in FIGURES:
        series = []
        for name in figure.experiments:
            if name not in done:
                continue
            summary, records = done[name]
            experiment = experiment_named(name)
            label = getattr(experiment, figure.label)
            series.append((label, records, summary.optimum, baseline_of(experiment)))
        if not series:
            continue
        value_png = sweep.plot_figure(figures_dir / f"{figure.name}.png", figure.title, series)
        bcce_png = sweep.plot_figure(
            figures_dir / f"{figure.name}-bcce.png",
            f"{figure.title}: BCCE gap",
            [(label, records, None, None) for label, records, _, _ in series],
            tag="equilibrium/bcce_gap",
            ylabel="BCCE gap of the response-phase play",
        )
        written.append((figure, value_png, bcce_png))
    return written


def render_report(
    done: Mapping[str, tuple[Summary, list]],
    figures: Sequence[tuple[Figure, Path, Path]],
    report: Path,
    marl_eval: Path,
    command: str,
    failures: Mapping[str, str] | None = None,
    out: Path | None = None,
    previous: Mapping[str, Summary] | None = None,
    previous_figures: Path | None = None,
    assets: Path | None = None,
) -> str:
    """The markdown results page.

    Args:
        done: ``{name: (summary, records)}`` of the experiments with results.
        figures: The figures written (:func:`write_figures`).
        report: Where the page goes (links are relative to it).
        marl_eval: The marl-eval JSON written.
        command: The sweep invocations, for the page.
        failures: ``{run key: reason}`` of the failed runs.
        out: The sweep's output folder (for side files).
        previous: Rows of an earlier sweep for experiments without results here
            (:func:`previous_summaries`), shown marked in the table.
        previous_figures: The folder of that sweep's figures (its PNGs are linked for the
            figures whose experiments are all previous).
        assets: The docs' assets directory with the companion benchmarks' fragments
            (:mod:`companions`); ``None`` leaves the companion section out.
    """
    previous = {k: v for k, v in (previous or {}).items() if k not in done}
    rows = []
    for experiment in EXPERIMENTS:
        summary = done[experiment.name][0] if experiment.name in done else None
        summary = summary or previous.get(experiment.name)
        if summary is not None:
            baseline = baseline_of(experiment)
            rows.append((experiment, summary, None if baseline is None else baseline[1]))
    runs = sum(len(records) for _, records in done.values())
    process_s = sum(run_seconds(r) for _, records in done.values() for r in records)
    versions = collections.Counter(
        (r.get("trainer"), r.get("trainer_sha256"), r.get("source_sha256"))
        for _, records in done.values()
        for r in records
    )
    wall = sum(s.wall_time_s for s, _ in done.values())
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    rel = lambda p: os.path.relpath(p, report.parent)  # noqa: E731
    parts = [
        "# Results\n",
        "Measured by `benchmark/reproduce.py`, which drives the trainers in `baselines/` through "
        "their command line over every setting and seed, reads their TensorBoard logs back and "
        "wrote this page. The leader value is the trainer's *exact* evaluation of its greedy "
        "committed policy (the leader's expected utility in the induced Bayesian game against "
        "the followers' learned reward-phase play), not a sampled return.\n",
        f"Generated on {date}; the sweep's invocations (UTC), oldest first:\n\n"
        f"```bash\n{command}\n```\n",
        f"{runs} runs. Compute: {wall / 60:.1f} min in the trainers' training loops, "
        f"{process_s / 60:.1f} min from each trainer's start to its exit (the sum over runs, "
        f"one run per core at a time), on "
        f"{platform.machine()} with {os.cpu_count()} CPU cores (Python "
        f"{platform.python_version()}). Every run's result (final figures, curves, the "
        "trainer's summary and its exact command) is a JSON file in "
        f"`{rel(Path(marl_eval).parent / RUNS)}/<experiment>/seed_<n>.json`, a copy of the "
        "sweep's `results/` folder (copied back into a sweep folder, the sweep resumes from "
        "it); the same data in marl-eval's layout is "
        f"[`{Path(marl_eval).name}`]({rel(marl_eval)}). The runs come from {len(versions)} "
        "distinct versions of (trainer file, package sources), by SHA-256 "
        f"({versions_text(versions)}); "
        "`--list-experiments` shows which runs the current code would change and "
        "`--rerun-changed` reruns them.\n",
        "**Statistics.** Each experiment plans 25 seeds where a run takes under a minute and "
        "10 for the longer MSGSpace runs. Values over seeds are aggregated as Agarwal et al. "
        "(NeurIPS 2021) recommend: the interquartile mean (IQM, the mean of the middle half "
        "of the seeds) with a 95% percentile bootstrap confidence interval "
        f"({seed_stats.N_RESAMPLES} resamples, seeded, by `scipy.stats.bootstrap`; across "
        "tasks the bootstrap is stratified, resampling each task's seeds on their own), and "
        "for the four-way ablations the probability of improvement. A target is met when at "
        f"least {SEED_FRACTION:.0%} of an experiment's seeds reach it; the page states the "
        "fraction of seeds for every target, and a check over an experiment with fewer seeds "
        "than the sweep plans is measured but not judged (–).\n",
        "## Reproduction targets\n",
        "Each target of the [settings page]"
        f"({rel(SETTINGS_PAGE)}#reproduction-targets), judged on the results; the command "
        f"that reproduces each experiment is [listed there]({rel(SETTINGS_PAGE)}"
        "#reproduce-each-experiment).\n",
        checks_table(done, out),
        "## All experiments\n",
        sweep.markdown_table(rows),
        "- *seeds*: the seeds with results; *n of N* where the sweep plans N. *previous "
        "sweep, rerun pending*: no run of this sweep yet, so the row shows the results of "
        "the sweep this page replaces (an earlier code version, with fewer seeds), read from "
        "its marl-eval data"
        + (
            f" ([`{previous_figures.name}/marl_eval.json`]"
            f"({rel(previous_figures / 'marl_eval.json')}))"
            if previous_figures
            else ""
        )
        + "; no target is judged on them.\n"
        "- *final leader value*: the last exact evaluation of each run, IQM over seeds with "
        "its 95% bootstrap interval. In MSPM it is minus the welfare loss (0 is first-best).\n"
        "- *baseline*: a value from the setting's exact reference (`Reference.baselines`): "
        "the best pure commitment, the no-payment mixed equilibrium, allocation without "
        "messages, the best message-free SPM.\n"
        "- *at optimum*: seeds whose final value is within 1e-3 of the exact optimum. "
        "*reached target*: seeds whose trainer stopped at its target (value within 1e-6 of it, "
        "no follower type gaining by deviating, training return within 0.02). For the "
        "randomized normal-form games the trainer's target is the best commitment that keeps "
        "the follower's response strict by a margin of 0.005, below the exact SSE, which sits "
        "on a tie that a learning follower need not break for the leader.\n"
        "- *median steps / wall s to target*: over the seeds that reached it (wall time of "
        "the training loop, as the trainer measures it).\n"
        "- *BCCE gap (bound)*: the ex-ante BCCE gap of the followers' response-phase play in "
        "the final evaluation, mean over seeds, and the learners' regret bound on it. *max "
        "deviation gain*: the largest gain of any follower type from deviating from its "
        "learned reward-phase play (0: the learned mechanism is an equilibrium).\n",
        across_tasks(done),
        ablation_section(done),
        *(
            [
                "## Failed runs\n",
                "Their last attempt failed; they are not in the tables above, and the next "
                "sweep retries them.\n",
                *(
                    f"- `{key}`: {_failure_line(reason)}"
                    for key, reason in sorted((failures or {}).items())
                ),
                "",
            ]
            if failures
            else []
        ),
        "## Learning curves\n",
        "IQM over seeds of the exact leader value with its 95% bootstrap band, at "
        f"{sweep.CURVE_POINTS} log-spaced steps from the first step where every seed has "
        "an evaluation; dashed: the exact optimum; dotted: the setting's baseline (from its "
        "exact reference, as in the table), each in its curve's colour. A run that stopped "
        "at its target keeps its last value to the end of the plot.\n",
    ]
    for figure, value_png, bcce_png in figures:
        parts.append(f"### {figure.title}\n")
        parts.append(f"![{figure.title}]({rel(value_png)})\n")
        parts.append(f"![{figure.title}: BCCE gap]({rel(bcce_png)})\n")
        parts.append(_previous_figure(figure, previous, previous_figures, rel))
    written = {figure.name for figure, _, _ in figures}
    for figure in FIGURES:
        old = _previous_figure(figure, previous, previous_figures, rel)
        if figure.name not in written and old:
            parts += [f"### {figure.title}\n", old]
    if assets is not None:
        parts.append(companions.section(assets, SETTINGS_PAGE.parent, rel))
    return "\n".join(part for part in parts if part)


def _previous_figure(
    figure: Figure, previous: Mapping[str, Summary], folder: Path | None, rel: Callable
) -> str:
    """The previous sweep's PNG of a figure, for its experiments that await a rerun (``""``
    when none does or the PNG is not in ``folder``)."""
    pending = [name for name in figure.experiments if name in previous]
    png = None if folder is None else folder / f"{figure.name}.png"
    if not pending or png is None or not png.is_file():
        return ""
    names = ", ".join(f"`{name}`" for name in pending)
    return (
        f"For {names}, rerun pending: the previous sweep's figure (an earlier code version, "
        "fewer seeds, mean ± std over seeds; it plots every experiment of the figure as that "
        f"sweep ran it):\n\n![{figure.title}, previous sweep]({rel(png)})\n"
    )


def across_tasks(done: Mapping[str, tuple[Summary, list]]) -> str:
    """The paper's method over every task with results: the IQM of the final optimality
    gap with its stratified bootstrap interval (each task a stratum), as markdown."""
    strata = {
        name: [
            r["final"]["optimum"] - r["final"]["leader_value"]
            for r in records
            if r["final"]["leader_value"] is not None  # a NaN evaluation has no gap
        ]
        for name, (_, records) in done.items()
        if experiment_named(name).algorithm == MAIN
    }
    strata = {name: gaps for name, gaps in strata.items() if gaps}
    if not strata:
        return ""
    gap = seed_stats.iqm_interval(list(strata.values()))
    seeds = sum(len(v) for v in strata.values())
    return (
        f"Over the {len(strata)} tasks of the paper's method ({MAIN}) with results, {seeds} "
        f"runs with a final value: IQM of the final optimality gap (optimum minus leader "
        f"value, in each setting's normalised units) {gap.text()}, by a bootstrap stratified "
        "over the tasks.\n"
    )


def ablation_section(done: Mapping[str, tuple[Summary, list]]) -> str:
    """The probability of improvement of the paper's method over each other variant of the
    four-way ablations with results, as markdown."""
    prefixes = [
        prefix
        for prefix in ("matrix-design", "simple-allocation-k3")
        if all(name in done for name in _names(prefix))
    ]
    if not prefixes:
        return ""
    lines = [
        "## Four-way ablations: probability of improvement\n",
        f"P(X > Y) + P(X = Y) / 2 for a seed X of the paper's method ({MAIN}) and a seed Y "
        "of the other variant, with its 95% bootstrap interval (each variant's seeds "
        "resampled on their own): 1 means every seed of the paper's method beats every seed "
        "of the variant, 0.5 a tie. *Learning curve*: the mean over training of the leader "
        "value minus the optimum (all four variants on the same steps, a stopped run keeping "
        "its last value), which rewards reaching the optimum sooner; *final*: the final "
        "leader value.\n",
    ]
    for prefix in prefixes:
        lines += [
            f"| {prefix} vs | P(improvement), learning curve | P(improvement), final |",
            "|---|---|---|",
            *(
                f"| {c.variant} | {c.area.text('.2f')} | {c.final.text('.2f')} |"
                for c in ablation_comparisons(prefix, done)
            ),
            "",
        ]
    return "\n".join(lines)


def aggregate(
    out: Path, report: Path, figures_dir: Path, command: str, previous: Path | None = None
) -> Path:
    """Write the results page, the figures and the marl-eval JSON from ``out``'s results.

    The page names ``command`` and every sweep invocation logged in ``OUT/invocations.txt``.
    ``previous``: the figures folder of an earlier sweep (its ``marl_eval.json`` and PNGs);
    experiments without results in ``out`` are shown from it, marked as rerun pending.

    Raises:
        ValueError: If ``previous`` is the same folder as ``figures_dir`` (this sweep would
            overwrite it), or has no readable ``marl_eval.json``.
    """
    earlier: dict[str, Summary] = {}
    if previous is not None:
        if previous.resolve() == figures_dir.resolve():
            raise ValueError(f"previous must not be the figures folder, got {previous}")
        file = previous / "marl_eval.json"
        data = read_side_file(file) if file.is_file() else None
        if data is None:
            raise ValueError(f"previous: no readable marl_eval.json in {previous}")
        earlier = previous_summaries(data)
    log = out / INVOCATIONS
    if log.is_file():
        command = log.read_text(encoding="utf-8").strip() + f"\n# page written by\n{command}"
    results = sweep.load_results(out)
    unknown = sorted(set(results) - {e.name for e in EXPERIMENTS})
    if unknown:
        print(f"ignoring results of experiments not in EXPERIMENTS: {unknown}")
    done = summaries(results)
    known = {name: records for name, records in results.items() if name in EXPERIMENTS_BY_NAME}
    sweep.copy_results(out, known, figures_dir / RUNS)
    marl_eval = figures_dir / "marl_eval.json"
    sweep.write_json_atomic(
        marl_eval,
        sweep.marl_eval_json([(experiment_named(n), records) for n, (_, records) in done.items()]),
    )
    figures = write_figures(done, figures_dir)
    failures = {
        key: reason
        for key, reason in sweep.load_failures(out).items()
        if key.split("/")[0] in EXPERIMENTS_BY_NAME
    }
    text = render_report(
        done, figures, report, marl_eval, command, failures, out, earlier, previous, ASSETS
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    tmp = report.with_name(f".{report.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, report)
    return report


# ----------------------------------------------------------------------------- CLI


@dataclass
class Args:
    only: tuple[str, ...] = ()
    """run only these experiments (names or shell patterns such as 'mspm-*'); default: all"""
    seeds: int | None = None
    """seeds 1..N for every experiment; default: each experiment's own count"""
    budget_scale: float = 1.0
    """factor on every experiment's step budget (e.g. 0.1 for a quick look)"""
    workers: int | None = None
    """runs at a time (local: trainer subprocesses; ray, local instance: CPUs); default: cores"""
    out: Path = Path("benchmark/results")
    """output folder: results/ (one JSON per run), tensorboard/, figures/, results.md"""
    backend: Literal["local", "ray"] = "local"
    """local worker pool, or Ray tasks (install the `ray` extra)"""
    ray_address: str | None = None
    """Ray cluster to join ('auto', 'ray://host:10001'); default: start a local instance"""
    rerun_changed: bool = False
    """also rerun finished runs whose command, trainer file or package sources changed since"""
    aggregate_only: bool = False
    """run nothing: rewrite the table, figures and marl-eval JSON from the results in --out"""
    list_experiments: bool = False
    """print the runs (finished, to run, or changed since they ran) and exit"""
    report: Path | None = None
    """the results page to write; default: OUT/results.md"""
    figures_dir: Path | None = None
    """where the PNGs and marl_eval.json go; default: OUT/figures"""
    run_timeout: float | None = None
    """seconds after which one run is killed and counted as failed; default: no limit"""
    baselines_dir: Path = ROOT / "baselines"
    """folder of the trainer scripts (`<trainer>.py`)"""
    previous: Path | None = None
    """figures folder of an earlier sweep (marl_eval.json, PNGs): experiments without results
    in --out are shown from it on the page, marked 'previous sweep, rerun pending'"""


def main(args: Args) -> int:
    """Run the sweep and write the results; the exit status (0: every run finished)."""
    experiments = sweep.select(EXPERIMENTS, args.only)
    specs = sweep.run_specs(experiments, args.baselines_dir, args.seeds, args.budget_scale)
    out = args.out
    report = args.report or out / "results.md"
    figures_dir = args.figures_dir or out / "figures"
    if args.list_experiments:  # reads only: a corrupt result is named, not moved
        listed = sweep.plan(specs, out, move_corrupt=False)
        stale, corrupt = set(listed.stale), {spec for spec, _ in listed.corrupt}
        for spec in specs:
            state = "finished" if sweep.is_finished(out, spec) else "to run"
            state = "changed" if spec in stale else state
            state = "corrupt" if spec in corrupt else state
            print(f"{spec.key:45s} {state:8s} {shlex.join(spec.args)}")
        return 0
    status = 0
    invocation = "python benchmark/reproduce.py " + shlex.join(sys.argv[1:])
    if not args.aggregate_only:
        try:
            lock = sweep.lock_out(out)  # noqa: F841 (held until this function returns)
        except sweep.SweepBusy as error:
            print(f"reproduce.py: error: {error}", file=sys.stderr)
            return 2
        sweep.remove_partial(out)
        with open(out / INVOCATIONS, "a", encoding="utf-8") as fh:
            fh.write(
                f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}  "
                f"{invocation.strip()}\n"
            )
        todo = sweep.plan(specs, out, args.rerun_changed)
        print(
            f"{len(specs)} runs: {len(todo.skipped)} finished (skipped), {len(todo.todo)} to run"
            + (
                f", {len(todo.stale)} finished with another command or trainer"
                if todo.stale
                else ""
            )
            + (f" ({len(todo.corrupt)} of them corrupt, moved aside)" if todo.corrupt else "")
        )
        for spec in todo.stale:
            action = "rerun" if args.rerun_changed else "kept (--rerun-changed reruns it)"
            print(f"  changed since it ran: {spec.key}: {action}")
        workers = args.workers or os.cpu_count() or 1
        sweep.install_signal_handlers()
        try:
            if args.backend == "ray":
                outcome = sweep.run_ray(
                    todo.todo, out, args.ray_address, args.workers, args.run_timeout
                )
            else:
                outcome = sweep.run_local(todo.todo, out, workers, args.run_timeout)
        except (KeyboardInterrupt, sweep.SweepInterrupted) as error:
            print(f"sweep interrupted ({error!r}); finished runs are kept, rerun to continue")
            signum = getattr(error, "signum", 2)
            return 128 + signum
        if outcome.failed:
            print(f"{len(outcome.failed)} runs failed: {sorted(outcome.failed)}")
            status = 1
    path = aggregate(out, report, figures_dir, invocation.strip(), args.previous)
    print(f"results written to {path}")
    return status


if __name__ == "__main__":
    sys.exit(main(tyro.cli(Args, description=__doc__)))
