"""Statistics over seeds: interquartile mean, stratified bootstrap intervals, probability of
improvement.

The aggregates follow Agarwal et al., "Deep Reinforcement Learning at the Edge of the
Statistical Precipice" (NeurIPS 2021), as their library ``rliable`` computes them, with
SciPy doing the work (no hand-written resampling):

- :func:`iqm`: the interquartile mean, the mean of the middle 50% of the runs
  (``scipy.stats.trim_mean`` with a quarter cut from each end);
- :func:`iqm_interval`: its percentile bootstrap confidence interval. With several strata
  (e.g. tasks), each stratum's runs are resampled on their own, as rliable's stratified
  bootstrap does (``scipy.stats.bootstrap`` on one sample per stratum);
- :func:`probability_of_improvement`: ``P(X > Y) + P(X = Y) / 2`` for a run ``X`` of one
  algorithm and a run ``Y`` of another, the Mann-Whitney U statistic divided by the number of
  pairs (``scipy.stats.mannwhitneyu``), with a bootstrap interval resampling each
  algorithm's runs independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
"""Confidence level of the intervals."""

N_RESAMPLES = 2000
"""Bootstrap resamples per interval (rliable's default)."""

SEED = 0
"""Seed of the bootstrap's random generator: a page regenerated from the same results shows
the same intervals."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap confidence interval.

    Attributes:
        value: The statistic on the runs.
        low: Lower end of the interval.
        high: Upper end of the interval.
    """

    value: float
    low: float
    high: float

    def text(self, spec: str = ".4f") -> str:
        """``"value [low, high]"`` with ``spec`` as the number format."""
        return f"{self.value:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"


def _sample(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence of numbers, got {values!r}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {values!r}")
    return array


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _iqm_along(samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.trim_mean(samples, 0.25, axis=axis)


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """The interquartile mean: the mean after cutting ``floor(n / 4)`` runs from each end.

    Raises:
        ValueError: If ``values`` is empty, not 1-d, or not finite.
    """
    return float(_iqm_along(_sample(values, "values")))


def iqm_interval(
    strata: Sequence[Sequence[float] | np.ndarray],
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> Estimate:
    """The IQM of all runs with its stratified percentile bootstrap interval.

    Args:
        strata: The runs' scores, one sequence per stratum (one stratum: a plain bootstrap
            over the runs). A resample draws, within each stratum, as many runs as it has,
            with replacement; the statistic is the IQM of the pooled draws.
        confidence: Confidence level of the interval.
        n_resamples: Number of bootstrap resamples.
        seed: Seed of the resampling.

    Raises:
        ValueError: If ``strata`` is empty or a stratum is empty, not 1-d or not finite, or
            ``confidence`` is not in (0, 1).
    """
    if isinstance(strata, np.ndarray) or not strata:
        raise ValueError(f"strata must be a non-empty sequence of samples, got {strata!r}")
    samples = [_sample(s, f"strata[{k}]") for k, s in enumerate(strata)]
    _check_confidence(confidence)
    value = iqm(np.concatenate(samples))
    # A constant stratum (one run, or all runs equal) is the same in every resample: it
    # joins each resample as it is (scipy resamples only samples of two or more values).
    varying = [s for s in samples if np.ptp(s) > 0]
    fixed = [s for s in samples if np.ptp(s) == 0]
    if not varying:
        return Estimate(value, value, value)  # every resample is the same sample

    def pooled_iqm(*draws: np.ndarray, axis: int = -1) -> np.ndarray:
        batch = draws[0].shape[:-1]
        pooled = [*draws, *(np.broadcast_to(f, (*batch, f.size)) for f in fixed)]
        return _iqm_along(np.concatenate(pooled, axis=-1))

    result = stats.bootstrap(
        tuple(varying),
        pooled_iqm,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        random_state=np.random.default_rng(seed),
    )
    ci = result.confidence_interval
    return Estimate(value, float(ci.low), float(ci.high))


def _improvement(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    u = stats.mannwhitneyu(x, y, axis=axis).statistic
    return u / (x.shape[axis] * y.shape[axis])


def probability_of_improvement(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> Estimate:
    """``P(X > Y) + P(X = Y) / 2`` for a run ``X`` of one algorithm, ``Y`` of another.

    Higher scores are better: 1 when every run of ``x`` beats every run of ``y``, 0 when
    every run of ``y`` beats every run of ``x``, 0.5 for identical samples. The interval
    resamples the runs of ``x`` and of ``y`` independently (percentile bootstrap).

    Raises:
        ValueError: If a sample is empty, not 1-d or not finite, or ``confidence`` is not in
            (0, 1).
    """
    a, b = _sample(x, "x"), _sample(y, "y")
    _check_confidence(confidence)
    value = float(_improvement(a, b))
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return Estimate(value, value, value)  # every resample is the same pair of samples
    if np.ptp(a) == 0 or np.ptp(b) == 0:  # a constant sample is the same in every resample
        resampled_x = np.ptp(a) > 0
        fixed = b if resampled_x else a

        def statistic(draws: np.ndarray, axis: int = -1) -> np.ndarray:
            kept = np.broadcast_to(fixed, (*draws.shape[:-1], fixed.size))
            return _improvement(draws, kept) if resampled_x else _improvement(kept, draws)

        data: tuple[np.ndarray, ...] = (a,) if resampled_x else (b,)
    else:
        statistic, data = _improvement, (a, b)
    result = stats.bootstrap(
        data,
        statistic,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        random_state=np.random.default_rng(seed),
    )
    ci = result.confidence_interval
    return Estimate(value, float(ci.low), float(ci.high))


def iqm_band(
    values: np.ndarray,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column, the IQM of the runs and its percentile bootstrap interval.

    Args:
        values: ``[runs, points]`` scores (e.g. learning curves on a common step grid),
            finite.
        confidence: Confidence level of the intervals.
        n_resamples: Number of bootstrap resamples (the same resampled runs for every
            column).
        seed: Seed of the resampling.

    Returns:
        ``(iqm [points], low [points], high [points])``.

    Raises:
        ValueError: If ``values`` is not 2-d with at least one run and one point, or not
            finite, or ``confidence`` is not in (0, 1).
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"values must be a non-empty [runs, points] array, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite")
    _check_confidence(confidence)
    center = _iqm_along(array, axis=0)
    if np.all(np.ptp(array, axis=0) == 0):
        return center, center.copy(), center.copy()
    result = stats.bootstrap(
        (array,),
        _iqm_along,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        axis=0,
        random_state=np.random.default_rng(seed),
    )
    ci = result.confidence_interval
    return center, np.asarray(ci.low, dtype=np.float64), np.asarray(ci.high, dtype=np.float64)
