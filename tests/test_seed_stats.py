"""benchmark/seed_stats.py: IQM, stratified bootstrap intervals, probability of improvement."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmark"))

import seed_stats


def test_iqm_of_hand_made_samples():
    # 8 runs: floor(8 / 4) = 2 cut from each end, the mean of 3, 4, 5, 6
    assert seed_stats.iqm([8, 1, 7, 2, 6, 3, 5, 4]) == 4.5
    # an outlier among the cut runs does not move it
    assert seed_stats.iqm([1, 2, 3, 4, 5, 6, 7, 1e9]) == 4.5
    # 4 runs: the middle two; 3 runs: nothing cut, the mean
    assert seed_stats.iqm([0, 10, 20, 1000]) == 15.0
    assert seed_stats.iqm([1.0, 0.9995, 0.5]) == pytest.approx(2.4995 / 3, abs=1e-15)
    # 25 runs (the sweep's count): 6 cut from each end, the mean of the middle 13
    values = np.arange(25.0)
    assert seed_stats.iqm(values[::-1]) == pytest.approx(np.mean(values[6:19]), abs=1e-12)


def test_interval_contains_the_iqm_and_is_reproducible():
    rng = np.random.default_rng(3)
    values = rng.normal(0.5, 0.2, size=25)
    estimate = seed_stats.iqm_interval([values])
    assert estimate.value == seed_stats.iqm(values)
    assert estimate.low < estimate.value < estimate.high
    assert seed_stats.iqm_interval([values]) == estimate  # seeded: the same page twice
    # a higher confidence gives a wider interval, a bigger sample a narrower one
    wide = seed_stats.iqm_interval([values], confidence=0.99)
    assert wide.low <= estimate.low and wide.high >= estimate.high
    big = seed_stats.iqm_interval([rng.normal(0.5, 0.2, size=400)])
    assert big.high - big.low < (estimate.high - estimate.low) / 2
    assert seed_stats.iqm_interval([[0.7] * 25]) == seed_stats.Estimate(0.7, 0.7, 0.7)
    assert estimate.text(".2f") == f"{estimate.value:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]"


def test_bootstrap_is_stratified():
    # Two tasks, each constant: resampling within each task always draws the same pooled
    # sample, so the stratified interval is a point. Pooled into one stratum, resamples
    # mix the tasks in varying proportions and the interval is wide.
    tasks = [[0.0] * 8, [1.0] * 8]
    assert seed_stats.iqm_interval(tasks) == seed_stats.Estimate(0.5, 0.5, 0.5)
    pooled = seed_stats.iqm_interval([[0.0] * 8 + [1.0] * 8])
    assert pooled.value == 0.5 and pooled.low < 0.3 and pooled.high > 0.7
    # Non-constant strata: the stratified interval is narrower than the pooled one.
    rng = np.random.default_rng(0)
    low, high = rng.normal(0.0, 0.1, 10), rng.normal(1.0, 0.1, 10)
    stratified = seed_stats.iqm_interval([low, high])
    plain = seed_stats.iqm_interval([np.concatenate([low, high])])
    assert stratified.value == plain.value
    assert stratified.high - stratified.low < plain.high - plain.low


def test_probability_of_improvement_known_values():
    dominating, dominated = [2.0, 3.0, 4.0], [1.0, 1.0, 0.5, 1.5]
    poi, estimate = seed_stats.probability_of_improvement, seed_stats.Estimate
    assert poi(dominating, dominated) == estimate(1.0, 1.0, 1.0)
    assert poi(dominated, dominating) == estimate(0.0, 0.0, 0.0)
    same = [0.1, 0.4, 0.9]
    identical = seed_stats.probability_of_improvement(same, same)
    assert identical.value == 0.5 and identical.low < 0.5 < identical.high
    assert poi([1.0] * 5, [1.0] * 5) == estimate(0.5, 0.5, 0.5)
    # by hand, over the 3 * 3 pairs: x > y in 3 pairs, 3 ties -> (3 + 3 / 2) / 9
    x, y = [0.0, 1.0, 2.0], [0.0, 1.0, 2.0]
    assert seed_stats.probability_of_improvement(x, y).value == pytest.approx(4.5 / 9)
    assert seed_stats.probability_of_improvement([1.0, 3.0], [2.0]).value == 0.5
    assert seed_stats.probability_of_improvement([2.0, 3.0], [2.0, 1.0]).value == pytest.approx(
        (1 + 0.5 + 1 + 1) / 4
    )


def test_probability_of_improvement_is_antisymmetric_with_an_interval():
    rng = np.random.default_rng(7)
    x, y = rng.normal(1.0, 1.0, 25), rng.normal(0.0, 1.0, 25)
    forward = seed_stats.probability_of_improvement(x, y)
    backward = seed_stats.probability_of_improvement(y, x)
    assert forward.value + backward.value == pytest.approx(1.0, abs=1e-12)
    assert forward.low < forward.value < forward.high
    assert forward.low > 0.5  # a shift of one standard deviation, 25 runs each


def test_band_matches_the_interval_column_by_column():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(25, 4))
    values[:, 0] = 1.0
    center, low, high = seed_stats.iqm_band(values)
    assert (center[0], low[0], high[0]) == (1.0, 1.0, 1.0)
    for j in range(1, 4):
        single = seed_stats.iqm_interval([values[:, j]])
        assert center[j] == pytest.approx(single.value, abs=1e-12)
        assert (low[j], high[j]) == pytest.approx((single.low, single.high), abs=1e-12)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: seed_stats.iqm([]), "values"),
        (lambda: seed_stats.iqm([[1.0, 2.0]]), "values"),
        (lambda: seed_stats.iqm([1.0, float("nan")]), "finite"),
        (lambda: seed_stats.iqm_interval([]), "strata"),
        (lambda: seed_stats.iqm_interval([[1.0], []]), r"strata\[1\]"),
        (lambda: seed_stats.iqm_interval([[1.0, 2.0]], confidence=1.5), "confidence.*1.5"),
        (lambda: seed_stats.probability_of_improvement([1.0], []), "y"),
        (lambda: seed_stats.probability_of_improvement([np.inf], [1.0]), "finite"),
        (lambda: seed_stats.iqm_band(np.zeros(3)), r"shape \(3,\)"),
        (lambda: seed_stats.iqm_band(np.full((2, 2), np.nan)), "finite"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_constant_or_single_run_sample_is_kept_as_it_is():
    # scipy resamples only samples of two or more values; a single run, or runs all equal,
    # are the same in every resample and join each one unchanged.
    one = seed_stats.probability_of_improvement([1.0, 3.0], [2.0])
    assert one == seed_stats.Estimate(0.5, 0.0, 1.0)  # resamples of x: {1,1}, {1,3}, {3,3}
    flipped = seed_stats.probability_of_improvement([2.0], [1.0, 3.0])
    assert flipped == seed_stats.Estimate(0.5, 0.0, 1.0)
    mixed = seed_stats.iqm_interval([[5.0], [0.0, 1.0, 2.0, 3.0]])
    assert mixed.value == seed_stats.iqm([5.0, 0.0, 1.0, 2.0, 3.0])
    assert mixed.low <= mixed.value <= mixed.high and mixed.high <= 3.0
