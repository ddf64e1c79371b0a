"""Empirical joint distributions: agreement with naive loops, structure, speed, bad input."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stackelberg_zoo.equilibrium.distributions as distributions
from stackelberg_zoo.equilibrium.distributions import (
    bayes_joint_from_samples,
    bayes_joint_from_strategies,
    bayes_product,
    joint_from_profiles,
    joint_from_samples,
    product_profile,
)

TOL = 1e-12
FAST = settings(max_examples=30, deadline=None)


def random_rows(rng: np.random.Generator, shape) -> np.ndarray:
    """Mixed strategies along the last axis, some of them pure."""
    rows = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    pure = rng.random(shape[:-1]) < 0.2
    rows[pure] = np.eye(shape[-1])[rng.integers(shape[-1], size=int(pure.sum()))]
    return rows


@st.composite
def play_cases(draw):
    n = draw(st.integers(1, 3))
    n_types = tuple(draw(st.integers(1, 3)) for _ in range(n))
    n_actions = tuple(draw(st.integers(1, 4)) for _ in range(n))
    n_rounds = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    types = np.stack([rng.integers(k, size=n_rounds) for k in n_types], axis=1)
    actions = np.stack([rng.integers(k, size=n_rounds) for k in n_actions], axis=1)
    strategies = [
        random_rows(rng, (n_rounds, t, a)) for t, a in zip(n_types, n_actions, strict=True)
    ]
    return n_types, n_actions, types, actions, strategies


# --------------------------------------------------------------------------- against loops


@FAST
@given(play_cases())
def test_builders_match_naive_loops_over_rounds(case):
    n_types, n_actions, types, actions, strategies = case
    n_rounds, n = types.shape
    naive_samples = np.zeros(n_actions)
    naive_bayes_samples = np.zeros(n_types + n_actions)
    naive_profiles = np.zeros(n_actions)
    naive_bayes = np.zeros(n_types + n_actions)
    per_round = [s[:, 0, :] for s in strategies]  # type 0's strategy, as a plain profile
    for t in range(n_rounds):
        naive_samples[tuple(actions[t])] += 1 / n_rounds
        naive_bayes_samples[tuple(types[t]) + tuple(actions[t])] += 1 / n_rounds
        outer = np.ones(())
        for x in per_round:
            outer = np.multiply.outer(outer, x[t])
        naive_profiles += outer / n_rounds
        outer = np.ones(())
        for j in range(n):
            outer = np.multiply.outer(outer, strategies[j][t, types[t, j]])
        naive_bayes[tuple(types[t])] += outer / n_rounds
    np.testing.assert_allclose(joint_from_samples(actions, n_actions), naive_samples, atol=TOL)
    np.testing.assert_allclose(joint_from_profiles(per_round), naive_profiles, atol=TOL)
    np.testing.assert_allclose(
        bayes_joint_from_samples(types, actions, n_types, n_actions), naive_bayes_samples, atol=TOL
    )
    np.testing.assert_allclose(
        bayes_joint_from_strategies(types, strategies, n_types, n_actions), naive_bayes, atol=TOL
    )


@FAST
@given(play_cases())
def test_structure_of_the_built_distributions(case):
    n_types, n_actions, types, actions, strategies = case
    n_rounds, n = types.shape
    bayes = bayes_joint_from_strategies(types, strategies, n_types, n_actions)
    assert bayes.sum() == pytest.approx(1.0, abs=TOL)
    assert bayes.min() >= 0
    # Type marginal = empirical type frequency.
    frequency = np.zeros(n_types)
    np.add.at(frequency, tuple(types.T), 1 / n_rounds)
    np.testing.assert_allclose(bayes.sum(axis=tuple(range(n, 2 * n))), frequency, atol=TOL)
    # Pure strategies: the mixture of products is the empirical distribution of the actions
    # they put mass on, in both forms.
    pure = [np.zeros_like(s) for s in strategies]
    for j in range(n):
        pure[j][np.arange(n_rounds), :, actions[:, j]] = 1.0
    np.testing.assert_allclose(
        bayes_joint_from_strategies(types, pure, n_types, n_actions),
        bayes_joint_from_samples(types, actions, n_types, n_actions),
        atol=TOL,
    )
    np.testing.assert_allclose(
        joint_from_profiles([p[:, 0, :] for p in pure]),
        joint_from_samples(actions, n_actions),
        atol=TOL,
    )
    # One type per player: the Bayesian builder reduces to the plain mixture.
    one_type = [s[:, :1, :] for s in strategies]
    np.testing.assert_allclose(
        bayes_joint_from_strategies(np.zeros_like(types), one_type, (1,) * n, n_actions),
        joint_from_profiles([s[:, 0, :] for s in one_type]).reshape((1,) * n + n_actions),
        atol=TOL,
    )


def test_mixture_of_products_is_not_the_product_of_averaged_marginals():
    # Both players play 0, then both play 1: the mixture never shows (0, 1); the product of
    # the averaged marginals would put 1/4 on it.
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(joint_from_profiles([x, x]), [[0.5, 0.0], [0.0, 0.5]])
    averaged = product_profile([x.mean(axis=0), x.mean(axis=0)])
    np.testing.assert_allclose(averaged, np.full((2, 2), 0.25))


def test_sum_of_products_accumulates_across_chunks(monkeypatch):
    rng = np.random.default_rng(4)
    strategies = [random_rows(rng, (257, k)) for k in (3, 2, 4)]
    whole = joint_from_profiles(strategies)
    monkeypatch.setattr(distributions, "_CHUNK_ELEMENTS", 7)  # chunks of 1 round
    np.testing.assert_allclose(joint_from_profiles(strategies), whole, atol=TOL)
    expected = np.einsum("ta,tb,tc->abc", *strategies) / 257
    np.testing.assert_allclose(whole, expected, atol=TOL)


@FAST
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_product_and_bayes_product_are_the_right_outer_products(seed, n_actions):
    rng = np.random.default_rng(seed)
    n = len(n_actions)
    xs = [rng.dirichlet(np.ones(k)) for k in n_actions]
    joint = product_profile(xs)
    for a in itertools.product(*(range(k) for k in n_actions)):
        assert joint[a] == pytest.approx(np.prod([x[k] for x, k in zip(xs, a, strict=True)]))
    n_types = tuple(int(k) for k in rng.integers(1, 4, size=n))
    prior = rng.dirichlet(np.ones(int(np.prod(n_types)))).reshape(n_types)
    sigmas = [random_rows(rng, (t, k)) for t, k in zip(n_types, n_actions, strict=True)]
    bayes = bayes_product(prior, sigmas)
    np.testing.assert_allclose(bayes.sum(axis=tuple(range(n, 2 * n))), prior, atol=TOL)
    for theta in itertools.product(*(range(k) for k in n_types)):
        expected = prior[theta] * product_profile(
            [s[t] for s, t in zip(sigmas, theta, strict=True)]
        )
        np.testing.assert_allclose(bayes[theta], expected, atol=TOL)


# --------------------------------------------------------------------------- speed


def test_builders_handle_a_hundred_thousand_rounds_quickly():
    rng = np.random.default_rng(0)
    n_rounds = 100_000
    n_types, n_actions = (6, 6), (3, 3)
    types = np.stack([rng.integers(6, size=n_rounds) for _ in range(2)], axis=1)
    actions = np.stack([rng.integers(3, size=n_rounds) for _ in range(2)], axis=1)
    strategies = [rng.dirichlet(np.ones(3), size=(n_rounds, 6)) for _ in range(2)]
    three = [rng.dirichlet(np.ones(4), size=n_rounds) for _ in range(3)]
    start = time.perf_counter()
    bayes = bayes_joint_from_strategies(types, strategies, n_types, n_actions)
    mixture = joint_from_profiles(three)
    samples = bayes_joint_from_samples(types, actions, n_types, n_actions)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"building three T=1e5 distributions took {elapsed:.2f} s"
    for mu in (bayes, mixture, samples):
        assert mu.sum() == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(
        mixture, np.einsum("ta,tb,tc->abc", *three, optimize=True) / n_rounds, atol=TOL
    )


# --------------------------------------------------------------------------- bad input


def test_sample_builders_reject_bad_indices():
    with pytest.raises(ValueError, match=r"actions\[:, 1\] must lie in \[0, 2\), got 2"):
        joint_from_samples([[0, 2], [1, 1]], (2, 2))
    with pytest.raises(ValueError, match=r"actions\[:, 0\] must lie in \[0, 2\), got -1"):
        joint_from_samples([[-1, 0]], (2, 2))
    with pytest.raises(TypeError, match="actions must be an integer array, got dtype float64"):
        joint_from_samples([[0.0, 1.0]], (2, 2))
    with pytest.raises(ValueError, match=r"actions must have shape \[T, 2\], got shape \(2, 3\)"):
        joint_from_samples([[0, 1, 1], [1, 0, 0]], (2, 2))
    with pytest.raises(ValueError, match=r"at least one round, got shape \(0, 2\)"):
        joint_from_samples(np.zeros((0, 2), dtype=int), (2, 2))
    with pytest.raises(ValueError, match=r"n_actions must contain positive integers, got \(2, 0\)"):
        joint_from_samples([[0, 0]], (2, 0))
    with pytest.raises(TypeError, match="n_actions must contain integers, got"):
        joint_from_samples([[0, 0]], (2, 1.5))
    with pytest.raises(
        ValueError, match="types and actions must cover the same rounds, got 1 and 2"
    ):
        bayes_joint_from_samples([[0, 0]], [[0, 0], [1, 1]], (1, 1), (2, 2))
    with pytest.raises(ValueError, match=r"types\[:, 1\] must lie in \[0, 1\), got 1"):
        bayes_joint_from_samples([[0, 1]], [[0, 0]], (1, 1), (2, 2))
    with pytest.raises(ValueError, match=r"n_actions must have 2 entries, got \(2,\)"):
        bayes_joint_from_samples([[0, 0]], [[0, 0]], (1, 1), (2,))


def test_strategy_builders_reject_invalid_rows():
    good = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=r"must cover the same T rounds, got \[3, 2\]"):
        joint_from_profiles([good, good[:2]])
    with pytest.raises(
        ValueError, match=r"sum to 1 along its last axis, got total 1\.2 at index \(1,\)"
    ):
        joint_from_profiles([good, [[0.5, 0.5], [0.6, 0.6], [1.0, 0.0]]])
    with pytest.raises(ValueError, match=r"must be non-negative, got -0\.5 at index \(0, 1\)"):
        joint_from_profiles([good, [[1.5, -0.5], [0.5, 0.5], [1.0, 0.0]]])
    with pytest.raises(ValueError, match=r"strategies\[1\] must be finite, got nan"):
        joint_from_profiles([good, [[np.nan, 0.5], [0.5, 0.5], [1.0, 0.0]]])
    with pytest.raises(ValueError, match=r"strategies\[0\] must have shape \[T, A_0\]"):
        joint_from_profiles([np.full(2, 0.5)])
    with pytest.raises(TypeError, match="strategies must be a list"):
        joint_from_profiles(np.full((2, 3, 2), 0.5))
    with pytest.raises(ValueError, match="at least one player, got an empty list"):
        joint_from_profiles([])
    types = np.zeros((3, 2), dtype=int)
    with pytest.raises(
        ValueError, match=r"strategies\[1\] must have shape \[3, 1, 2\], got \(3, 2, 2\)"
    ):
        bayes_joint_from_strategies(
            types, [np.full((3, 1, 2), 0.5), np.full((3, 2, 2), 0.5)], (1, 1), (2, 2)
        )
    with pytest.raises(ValueError, match="strategies must hold 2 arrays, one per player, got 1"):
        bayes_joint_from_strategies(types, [np.full((3, 1, 2), 0.5)], (1, 1), (2, 2))
    with pytest.raises(ValueError, match=r"prior must sum to 1, got total 0\.9"):
        bayes_product([0.5, 0.4], [np.full((2, 2), 0.5)])
    with pytest.raises(ValueError, match=r"sigmas\[0\] must have shape \[2, A_0\], got \(3, 2\)"):
        bayes_product([0.5, 0.5], [np.full((3, 2), 0.5)])
    with pytest.raises(ValueError, match=r"sigmas must hold 1 arrays .* got 2"):
        bayes_product([0.5, 0.5], [np.full((2, 2), 0.5)] * 2)
    with pytest.raises(ValueError, match=r"strategies\[0\] must sum to 1 along its last axis"):
        product_profile([[0.5, 0.6]])
