"""Summaries, tables, JSON and figures of the diagnostics' runs."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

FINAL_FRACTION = 0.1
"""A run's final leader value and outcome are read over its last 10% of episodes."""
N_POINTS = 50
"""Points per learning curve (block means of the reward-phase leader value)."""


def final_value(values: np.ndarray) -> float:
    """Mean reward-phase leader value over the last :data:`FINAL_FRACTION` of episodes."""
    tail = max(1, round(FINAL_FRACTION * len(values)))
    return float(np.mean(values[-tail:]))


def reached(at_outcome: np.ndarray) -> bool:
    """A run reaches the Stackelberg outcome when most of its final episodes end in it."""
    tail = max(1, round(FINAL_FRACTION * len(at_outcome)))
    return bool(np.mean(at_outcome[-tail:]) > 0.5)


def iqm_ci(values, confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Interquartile mean with a percentile-bootstrap CI (``scipy.stats.bootstrap``, seeded).

    Values equal up to rounding give the interval ``[min, max]``; one value gives ``nan``.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"values must be non-empty and finite, got {x.tolist()}")
    iqm = float(stats.trim_mean(x, 0.25))
    if x.size < 2:
        return iqm, float("nan"), float("nan")
    if np.ptp(x) <= 1e-12 * (1.0 + np.abs(x).max()):
        return iqm, float(x.min()), float(x.max())
    result = stats.bootstrap(
        (x,),
        lambda sample, axis: stats.trim_mean(sample, 0.25, axis=axis),
        confidence_level=confidence,
        n_resamples=2000,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return iqm, float(low), float(high)


def curve(runs_values: list[np.ndarray], seed: int = 0) -> dict:
    """Learning curve over seeds: block means, their mean and a bootstrap 95% CI per point."""
    data = np.stack(runs_values)  # [seeds, episodes]
    episodes = data.shape[1]
    points = min(N_POINTS, episodes)
    edges = np.linspace(0, episodes, points + 1).astype(int)
    blocks = np.stack([data[:, a:b].mean(axis=1) for a, b in itertools.pairwise(edges)], axis=1)
    mean = blocks.mean(axis=0)
    if data.shape[0] < 2 or np.ptp(blocks) == 0:
        low, high = mean.copy(), mean.copy()
    else:
        result = stats.bootstrap(
            (blocks,), np.mean, axis=0, n_resamples=1000, method="percentile",
            rng=np.random.default_rng(seed),
        )  # fmt: skip
        low, high = result.confidence_interval
        flat = np.ptp(blocks, axis=0) == 0  # a point where every seed agrees
        low, high = np.where(flat, mean, low), np.where(flat, mean, high)
    return {
        "episode": [int(b) for b in edges[1:]],
        "mean": mean.tolist(),
        "low": np.asarray(low).tolist(),
        "high": np.asarray(high).tolist(),
    }


def summarise_variant(runs: list, seed: int = 0) -> dict:
    """Per-seed final values and outcome flags, their IQM with CI, and the learning curve."""
    finals = [final_value(r.values) for r in runs]
    flags = [reached(r.at_outcome) for r in runs]
    iqm, low, high = iqm_ci(finals, seed=seed)
    return {
        "final_values": finals,
        "reached_outcome": flags,
        "iqm": iqm,
        "ci_low": low,
        "ci_high": high,
        "outcome_rate": float(np.mean(flags)),
        "curve": curve([r.values for r in runs], seed=seed),
        "runs": [r.extra for r in runs],
    }


def table(title: str, rows: list[tuple[str, dict]], outcome_value: float) -> str:
    """A markdown table: one row per variant."""
    lines = [
        f"**{title}** (exact Stackelberg leader value {outcome_value:g})",
        "",
        "| variant | IQM final leader value [95% CI] | seeds at the Stackelberg outcome |",
        "|---|---|---|",
    ]
    for name, s in rows:
        n = len(s["reached_outcome"])
        lines.append(
            f"| {name} | {s['iqm']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}] "
            f"| {sum(s['reached_outcome'])}/{n} |"
        )
    return "\n".join(lines) + "\n"


def figure(path, panels: list[tuple[str, list[tuple[str, dict]], float]], ylabel: str) -> None:
    """One PNG: a panel per (title, variants, Stackelberg value); mean curves with CI bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    for ax, (title, variants, target) in zip(axes[0], panels, strict=True):
        for name, summary in variants:
            c = summary["curve"]
            (line,) = ax.plot(c["episode"], c["mean"], label=name)
            ax.fill_between(c["episode"], c["low"], c["high"], alpha=0.25, color=line.get_color())
        ax.axhline(target, color="black", linestyle="--", linewidth=1, label="Stackelberg value")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("episode")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
