"""Equilibrium gaps: known answers, exact regret identities, invariances, brute force."""

from __future__ import annotations

import itertools
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackelberg_zoo.equilibrium.distributions import (
    bayes_joint_from_samples,
    bayes_joint_from_strategies,
    joint_from_profiles,
    joint_from_samples,
    product_profile,
)
from stackelberg_zoo.equilibrium.games import BayesianGame, NormalFormGame, bimatrix
from stackelberg_zoo.equilibrium.gaps import (
    bcce_gap,
    bne_gap,
    cce_gap,
    ce_gap,
    deviation_table,
    nash_conv,
    type_marginal_error,
)

TOL = 1e-9
DOC = Path(__file__).resolve().parents[1] / "docs" / "equilibrium.md"
FAST = settings(max_examples=40, deadline=None)


# --------------------------------------------------------------------------- helpers


def random_distribution(rng: np.random.Generator, shape, sparse: bool = False) -> np.ndarray:
    mu = rng.dirichlet(np.ones(math.prod(shape)))
    if sparse:
        mu[rng.random(mu.size) < 0.5] = 0.0
        if mu.sum() == 0:
            mu[rng.integers(mu.size)] = 1.0
        mu /= mu.sum()
    return mu.reshape(shape)


@st.composite
def normal_form_cases(draw):
    n = draw(st.integers(2, 3))
    actions = tuple(draw(st.integers(2, 4 if n == 2 else 3)) for _ in range(n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    payoffs = rng.normal(size=(n,) + actions).round(2)
    mu = random_distribution(rng, actions, sparse=draw(st.booleans()))
    return NormalFormGame(payoffs), mu, rng


@st.composite
def bayes_cases(draw):
    n = draw(st.integers(2, 3))
    types = tuple(draw(st.integers(1, 3 if n == 2 else 2)) for _ in range(n))
    actions = tuple(draw(st.integers(2, 3)) for _ in range(n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    payoffs = rng.normal(size=(n,) + types + actions).round(2)
    prior = random_distribution(rng, types, sparse=draw(st.booleans()))  # correlated
    mu = random_distribution(rng, types + actions, sparse=draw(st.booleans()))
    return BayesianGame(payoffs, prior), mu, rng


def naive_deviation_table(bgame: BayesianGame, mu: np.ndarray) -> list[np.ndarray]:
    """h_i(θ_i, b) straight from its definition, one profile at a time."""
    n = bgame.n_players
    tables = [np.zeros((bgame.n_types[i], bgame.n_actions[i])) for i in range(n)]
    for theta in itertools.product(*(range(k) for k in bgame.n_types)):
        for a in itertools.product(*(range(k) for k in bgame.n_actions)):
            weight = mu[theta + a]
            for i in range(n):
                for b in range(bgame.n_actions[i]):
                    deviated = a[:i] + (b,) + a[i + 1 :]
                    gain = bgame.payoffs[(i,) + theta + deviated] - bgame.payoffs[(i,) + theta + a]
                    tables[i][theta[i], b] += weight * gain
    return tables


def hedge(cumulative_gains: np.ndarray, eta: float) -> np.ndarray:
    z = eta * cumulative_gains
    w = np.exp(z - z.max())
    return w / w.sum()


def expected_gains(payoffs_i: np.ndarray, i: int, strategies: list[np.ndarray]) -> np.ndarray:
    """u_i(b, x_-i) for every b: contract every other player's axis with its strategy."""
    out = np.moveaxis(payoffs_i, i, 0)
    others = [x for j, x in enumerate(strategies) if j != i]
    for x in reversed(others):
        out = out @ x
    return out


# --------------------------------------------------------------------------- known answers


def test_gibson_2013_cce_gap_is_negative_and_ce_distance_is_quarter():
    # F8: Gibson (2013), OpenSpiel corr_dist_test: row [[1,0],[0,2],[-1,1]], column all 0,
    # μ = ½(A,a) + ¼(B,b) + ¼(C,b): a CCE with raw g_row = -0.25 (OpenSpiel clips to 0),
    # CE distance 0.25.
    game = bimatrix([[1, 0], [0, 2], [-1, 1]], np.zeros((3, 2)))
    mu = np.array([[0.5, 0.0], [0.0, 0.25], [0.0, 0.25]])
    cce = cce_gap(game, mu)
    np.testing.assert_allclose(cce.raw, [-0.25, 0.0], atol=1e-12)
    np.testing.assert_allclose(cce.clipped, [0.0, 0.0], atol=1e-12)
    assert cce.best_deviation[0] == 1  # B against the column marginal (½, ½)
    assert cce.is_equilibrium()
    ce = ce_gap(game, mu)
    np.testing.assert_allclose(ce.raw, [0.25, 0.0], atol=1e-12)
    assert ce.total == pytest.approx(0.25, abs=1e-12)
    np.testing.assert_array_equal(ce.best_deviation[0], [0, 1, 1])  # C -> B
    np.testing.assert_array_equal(ce.best_deviation[1], [0, 1])  # no gain: identity swap
    np.testing.assert_allclose(ce.values, cce.values)
    np.testing.assert_allclose(ce.values, [1.25, 0.0])


def test_battle_of_the_sexes_diagonal_is_a_correlated_equilibrium():
    # F11: BoS [[2,0],[0,1]] / [[1,0],[0,2]]; ½/½ on the diagonal is a CE (welfare 3).
    game = bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])
    mu = np.diag([0.5, 0.5])
    assert ce_gap(game, mu).is_equilibrium(tol=0.0)
    np.testing.assert_allclose(ce_gap(game, mu).raw, [0.0, 0.0], atol=0)
    np.testing.assert_allclose(cce_gap(game, mu).raw, [-0.5, -0.5], atol=1e-12)
    assert game.expected_payoffs(mu).sum() == pytest.approx(3.0)


def test_prisoners_dilemma_has_a_unique_cce_at_defect_defect():
    # F11: PD [[5,0],[10,1]] / [[5,10],[0,1]]: D strictly dominates by at least 1, so the
    # gain of always defecting is at least the probability of cooperating; (D, D) is the
    # unique CCE.
    game = bimatrix([[5, 0], [10, 1]], [[5, 10], [0, 1]])
    dd = np.array([[0.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(cce_gap(game, dd).raw, [0.0, 0.0], atol=0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        mu = random_distribution(rng, (2, 2), sparse=True)
        report = cce_gap(game, mu)
        assert report.raw[0] >= mu[0].sum() - 1e-12
        assert report.raw[1] >= mu[:, 0].sum() - 1e-12
        assert report.is_equilibrium() == (mu[1, 1] == 1.0)


@pytest.mark.parametrize(
    ("row", "diagonal_is_cce"),
    [
        ([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], True),  # RPS (F11)
        ([[0, -25, 50], [25, 0, -5], [-50, 5, 0]], False),  # biased RPS (F16), value 0
    ],
)
def test_zero_sum_cce_value_is_within_the_gaps_of_the_game_value(row, diagonal_is_cce):
    # Two-player zero-sum, value v = 0 (both games are skew-symmetric): the two CCE
    # inequalities give v - g_row <= E_μ u_row <= v + g_col for every μ; in particular every
    # exact CCE has value 0 (F11: "every CCE of RPS has value 0").
    row = np.array(row, dtype=float)
    game = bimatrix(row, -row)
    rng = np.random.default_rng(1)
    for _ in range(200):
        mu = random_distribution(rng, (3, 3), sparse=bool(rng.integers(2)))
        report = cce_gap(game, mu)
        value = report.values[0]
        assert -report.raw[0] - 1e-12 <= value <= report.raw[1] + 1e-12
    # Correlated, uniform marginals, value 0: a CCE of RPS (every fixed action earns 0 against
    # a uniform opponent), not of biased RPS (Paper earns 25/3 against uniform).
    diagonal = cce_gap(game, np.eye(3) / 3)
    np.testing.assert_allclose(diagonal.values, [0.0, 0.0], atol=1e-12)
    assert diagonal.is_equilibrium() == diagonal_is_cce


def test_von_stengel_2007_nash_equilibria_have_zero_ce_and_cce_gap():
    # F13: von Stengel (2007) 3x2 game (QuantEcon test), exactly three NE.
    game = bimatrix([[3, 3], [2, 5], [0, 6]], [[3, 2], [2, 6], [3, 1]])
    equilibria = [
        ([1, 0, 0], [1, 0]),
        ([4 / 5, 1 / 5, 0], [2 / 3, 1 / 3]),
        ([0, 1 / 3, 2 / 3], [1 / 3, 2 / 3]),
    ]
    for x, y in equilibria:
        mu = product_profile([x, y])
        assert cce_gap(game, mu).max_gap <= 1e-12
        assert ce_gap(game, mu).max_gap <= 1e-12
        assert nash_conv(game, [x, y]).total <= 1e-12
        assert nash_conv(game, [x, y]).is_equilibrium(tol=1e-12)
    # A non-equilibrium nearby is detected.
    assert nash_conv(game, [[0.7, 0.3, 0.0], [2 / 3, 1 / 3]]).total > 0.05


def test_biased_rps_equilibrium_has_zero_nash_conv():
    # F16: biased RPS (OpenSpiel matrix_brps; Bošanský et al. 2016), NE (1/16, 10/16, 5/16).
    row = np.array([[0, -25, 50], [25, 0, -5], [-50, 5, 0]], dtype=float)
    game = bimatrix(row, -row)
    x = np.array([1, 10, 5]) / 16
    report = nash_conv(game, [x, x])
    np.testing.assert_allclose(report.per_player, [0, 0], atol=1e-12)
    np.testing.assert_allclose(report.deviation_values[0], [0, 0, 0], atol=1e-12)
    assert ce_gap(game, product_profile([x, x])).max_gap <= 1e-12
    uniform = np.full(3, 1 / 3)
    # Against uniform, row's payoffs are (25, 20, -45)/3: best response is R, gain 25/3.
    off = nash_conv(game, [uniform, uniform])
    assert off.per_player[0] == pytest.approx(25 / 3)
    assert off.best_responses[0] == 0
    assert off.exploitability == pytest.approx(25 / 3)


# --------------------------------------------------------------------------- exact identities


@pytest.mark.parametrize("n_actions", [(3, 3), (2, 3, 4)])
def test_cce_gap_of_hedge_selfplay_equals_average_external_regret(n_actions):
    # Section 3.1: for the mixture of per-round products, g_i(μ_T) = R_i^T / T exactly;
    # and the CE gap equals average swap regret; for sampled play, realised regret.
    rng = np.random.default_rng(7)
    n = len(n_actions)
    game = NormalFormGame(rng.normal(size=(n,) + n_actions))
    n_rounds, eta = 400, 0.3
    cumulative = [rng.normal(size=k) for k in n_actions]  # asymmetric start
    history = [[] for _ in range(n)]
    gains = [[] for _ in range(n)]
    sampled = np.empty((n_rounds, n), dtype=np.int64)
    realised = [[] for _ in range(n)]
    for t in range(n_rounds):
        xs = [hedge(c, eta) for c in cumulative]
        actions = [rng.choice(k, p=x) for k, x in zip(n_actions, xs, strict=True)]
        sampled[t] = actions
        for i in range(n):
            g = expected_gains(game.payoffs[i], i, xs)
            history[i].append(xs[i])
            gains[i].append(g)
            index = tuple(slice(None) if j == i else actions[j] for j in range(n))
            realised[i].append(game.payoffs[i][index])
        for i in range(n):
            cumulative[i] = cumulative[i] + gains[i][-1]
    xs = [np.array(h) for h in history]
    gs = [np.array(g) for g in gains]
    report = cce_gap(game, joint_from_profiles(xs))
    swap = ce_gap(game, joint_from_profiles(xs))
    sampled_report = cce_gap(game, joint_from_samples(sampled, n_actions))
    for i in range(n):
        regret = gs[i].sum(axis=0).max() - np.einsum("ta,ta->", xs[i], gs[i])
        assert report.raw[i] == pytest.approx(regret / n_rounds, abs=TOL)
        pair = np.einsum("ta,tb->ab", xs[i], gs[i])  # Σ_t x(a) g(b)
        swap_regret = (pair.max(axis=1) - np.diagonal(pair)).sum()
        assert swap.raw[i] == pytest.approx(swap_regret / n_rounds, abs=TOL)
        r = np.array(realised[i])  # [T, A_i]: u_i(b, a_-i^t)
        realised_regret = r.sum(axis=0).max() - r[np.arange(n_rounds), sampled[:, i]].sum()
        assert sampled_report.raw[i] == pytest.approx(realised_regret / n_rounds, abs=TOL)


def test_bayesian_gaps_of_per_type_hedge_equal_per_type_regrets():
    # Section 3.1, Bayesian extension (F15 style): correlated types, one Hedge per
    # (player, type) updating only when that type is realised, expected feedback.
    # max_b h_i(θ_i, b; μ̃_T) = R_{i,θ_i} / T, so ex_ante = Σ R / T and
    # agent_form = Σ max(0, R) / T, exactly.
    rng = np.random.default_rng(11)
    n_types, n_actions = (2, 3), (3, 2)
    prior = np.array([[0.35, 0.05, 0.1], [0.05, 0.1, 0.35]])
    bgame = BayesianGame(rng.normal(size=(2,) + n_types + n_actions), prior)
    n_rounds, eta = 600, 0.4
    cumulative = [rng.normal(size=(k, a)) for k, a in zip(n_types, n_actions, strict=True)]
    regret_parts = [np.zeros((k, a)) for k, a in zip(n_types, n_actions, strict=True)]
    on_path = [np.zeros(k) for k in n_types]
    flat = rng.choice(prior.size, size=n_rounds, p=prior.ravel())
    types = np.stack(np.unravel_index(flat, n_types), axis=1)
    strategies = [np.empty((n_rounds, k, a)) for k, a in zip(n_types, n_actions, strict=True)]
    for t in range(n_rounds):
        theta = tuple(types[t])
        table = [np.array([hedge(c, eta) for c in cumulative[i]]) for i in range(2)]
        xs = [table[i][theta[i]] for i in range(2)]
        for i in range(2):
            strategies[i][t] = table[i]
            g = expected_gains(bgame.payoffs[(i,) + theta], i, xs)
            regret_parts[i][theta[i]] += g
            on_path[i][theta[i]] += xs[i] @ g
            cumulative[i][theta[i]] += g
    mu = bayes_joint_from_strategies(types, strategies, n_types, n_actions)
    report = bcce_gap(bgame, mu)
    for i in range(2):
        regrets = (regret_parts[i].max(axis=1) - on_path[i]) / n_rounds
        np.testing.assert_allclose(report.table[i].max(axis=1), regrets, atol=TOL)
        assert report.ex_ante[i] == pytest.approx(regrets.sum(), abs=TOL)
        assert report.agent_form[i] == pytest.approx(np.maximum(regrets, 0).sum(), abs=TOL)
    # Empirical type frequency, not the prior: the gap is defined on μ̃ as is.
    assert 0 < type_marginal_error(bgame, mu) < 0.1


# --------------------------------------------------------------------------- invariants


@FAST
@given(normal_form_cases())
def test_ce_gap_dominates_cce_gap_and_both_match_brute_force(case):
    game, mu, _ = case
    cce, ce = cce_gap(game, mu), ce_gap(game, mu)
    assert np.all(ce.raw >= cce.raw - TOL)
    assert np.all(ce.raw >= -TOL)
    # Brute force over every fixed deviation and every swap map (small games only).
    n = game.n_players
    for i in range(n):
        best_fixed, best_swap = -np.inf, -np.inf
        for b in range(game.n_actions[i]):
            gain = 0.0
            for a in itertools.product(*(range(k) for k in game.n_actions)):
                deviated = a[:i] + (b,) + a[i + 1 :]
                gain += mu[a] * (game.payoffs[(i,) + deviated] - game.payoffs[(i,) + a])
            best_fixed = max(best_fixed, gain)
        for phi in itertools.product(range(game.n_actions[i]), repeat=game.n_actions[i]):
            gain = 0.0
            for a in itertools.product(*(range(k) for k in game.n_actions)):
                deviated = a[:i] + (phi[a[i]],) + a[i + 1 :]
                gain += mu[a] * (game.payoffs[(i,) + deviated] - game.payoffs[(i,) + a])
            best_swap = max(best_swap, gain)
        assert cce.raw[i] == pytest.approx(best_fixed, abs=TOL)
        assert ce.raw[i] == pytest.approx(best_swap, abs=TOL)


@FAST
@given(normal_form_cases(), st.floats(0.1, 10.0), st.floats(-5.0, 5.0))
def test_normal_form_gaps_are_affine_equivariant(case, scale, shift):
    game, mu, rng = case
    i = int(rng.integers(game.n_players))
    payoffs = np.array(game.payoffs)
    payoffs[i] = scale * payoffs[i] + shift
    transformed = NormalFormGame(payoffs)
    factor = np.ones(game.n_players)
    factor[i] = scale
    for gap in (cce_gap, ce_gap):
        np.testing.assert_allclose(gap(transformed, mu).raw, factor * gap(game, mu).raw, atol=1e-8)


@FAST
@given(normal_form_cases())
def test_normal_form_gaps_are_invariant_to_action_and_player_relabelling(case):
    game, mu, rng = case
    n = game.n_players
    cce, ce = cce_gap(game, mu), ce_gap(game, mu)
    # Permute player j's actions: new action k is old action perm[k].
    j = int(rng.integers(n))
    perm = rng.permutation(game.n_actions[j])
    moved = NormalFormGame(np.take(game.payoffs, perm, axis=1 + j))
    moved_mu = np.take(mu, perm, axis=j)
    np.testing.assert_allclose(cce_gap(moved, moved_mu).raw, cce.raw, atol=TOL)
    np.testing.assert_allclose(ce_gap(moved, moved_mu).raw, ce.raw, atol=TOL)
    np.testing.assert_allclose(cce_gap(moved, moved_mu).gains[j], cce.gains[j][perm], atol=TOL)
    # Relabel players: new player k is old player order[k].
    order = rng.permutation(n)
    swapped = NormalFormGame(
        np.transpose(game.payoffs[order], (0,) + tuple(1 + int(k) for k in order))
    )
    swapped_mu = np.transpose(mu, order)
    np.testing.assert_allclose(cce_gap(swapped, swapped_mu).raw, cce.raw[order], atol=TOL)
    np.testing.assert_allclose(ce_gap(swapped, swapped_mu).raw, ce.raw[order], atol=TOL)


@FAST
@given(normal_form_cases())
def test_nash_conv_matches_brute_force_best_responses(case):
    game, _, rng = case
    profile = [rng.dirichlet(np.ones(k)) for k in game.n_actions]
    report = nash_conv(game, profile)
    mu = product_profile(profile)
    for i in range(game.n_players):
        values = []
        for b in range(game.n_actions[i]):
            pure = list(profile)
            pure[i] = np.eye(game.n_actions[i])[b]
            values.append(game.expected_payoffs(product_profile(pure))[i])
        value = game.expected_payoffs(mu)[i]
        assert report.per_player[i] == pytest.approx(max(values) - value, abs=TOL)
        assert report.per_player[i] >= -TOL
        np.testing.assert_allclose(report.deviation_values[i], values, atol=TOL)
    np.testing.assert_allclose(report.per_player, cce_gap(game, mu).raw, atol=TOL)


@FAST
@given(bayes_cases())
def test_bayesian_gap_relations_and_brute_force_table(case):
    bgame, mu, _ = case
    report = bcce_gap(bgame, mu)
    naive = naive_deviation_table(bgame, mu)
    for i in range(bgame.n_players):
        np.testing.assert_allclose(report.table[i], naive[i], atol=TOL)
        np.testing.assert_allclose(deviation_table(bgame, mu)[i], naive[i], atol=TOL)
        mass = report.type_marginals[i]
        interim = report.interim[i]
        assert np.all(np.isnan(interim) == (mass == 0))
        weighted = np.nansum(mass * np.maximum(interim, 0.0))
        assert weighted == pytest.approx(report.agent_form[i], abs=TOL)
    assert np.all(report.agent_form >= report.ex_ante_clipped - TOL)
    assert np.all(report.ex_ante_clipped >= report.ex_ante)


@FAST
@given(bayes_cases(), st.floats(0.1, 10.0))
def test_bayesian_gaps_are_invariant_to_type_dependent_shifts_and_scale(case, scale):
    bgame, mu, rng = case
    n = bgame.n_players
    i = int(rng.integers(n))
    payoffs = np.array(bgame.payoffs)
    shift = rng.normal(size=bgame.n_types).reshape(bgame.n_types + (1,) * n)
    payoffs[i] = scale * payoffs[i] + shift  # c_i(θ) may depend on every type
    base, moved = bcce_gap(bgame, mu), bcce_gap(BayesianGame(payoffs, bgame.prior), mu)
    factor = np.ones(n)
    factor[i] = scale
    np.testing.assert_allclose(moved.ex_ante, factor * base.ex_ante, atol=1e-8)
    np.testing.assert_allclose(moved.agent_form, factor * base.agent_form, atol=1e-8)
    for k in range(n):
        np.testing.assert_allclose(moved.interim[k], factor[k] * base.interim[k], atol=1e-7)


@FAST
@given(bayes_cases())
def test_bayesian_gaps_are_invariant_to_type_action_and_player_relabelling(case):
    bgame, mu, rng = case
    n = bgame.n_players
    base = bcce_gap(bgame, mu)
    j = int(rng.integers(n))
    type_perm = rng.permutation(bgame.n_types[j])
    action_perm = rng.permutation(bgame.n_actions[j])
    payoffs = np.take(np.take(bgame.payoffs, type_perm, 1 + j), action_perm, 1 + n + j)
    prior = np.take(bgame.prior, type_perm, j)
    moved_mu = np.take(np.take(mu, type_perm, j), action_perm, n + j)
    moved = bcce_gap(BayesianGame(payoffs, prior), moved_mu)
    np.testing.assert_allclose(moved.ex_ante, base.ex_ante, atol=TOL)
    np.testing.assert_allclose(moved.agent_form, base.agent_form, atol=TOL)
    np.testing.assert_allclose(
        moved.table[j], base.table[j][np.ix_(type_perm, action_perm)], atol=TOL
    )
    np.testing.assert_allclose(moved.interim[j], base.interim[j][type_perm], atol=TOL)
    order = [int(k) for k in rng.permutation(n)]
    axes = tuple(1 + k for k in order) + tuple(1 + n + k for k in order)
    swapped_game = BayesianGame(
        np.transpose(bgame.payoffs[order], (0,) + axes), np.transpose(bgame.prior, order)
    )
    swapped = bcce_gap(swapped_game, np.transpose(mu, tuple(a - 1 for a in axes)))
    np.testing.assert_allclose(swapped.ex_ante, base.ex_ante[order], atol=TOL)
    np.testing.assert_allclose(swapped.agent_form, base.agent_form[order], atol=TOL)
    for new, old in enumerate(order):
        np.testing.assert_allclose(swapped.table[new], base.table[old], atol=TOL)


@FAST
@given(normal_form_cases())
def test_one_type_bayesian_game_gives_the_plain_cce_gap_in_all_notions(case):
    game, mu, _ = case
    bgame = BayesianGame.from_normal_form(game)
    report = bcce_gap(bgame, mu.reshape((1,) * game.n_players + mu.shape))
    cce = cce_gap(game, mu)
    np.testing.assert_allclose(report.ex_ante, cce.raw, atol=TOL)
    np.testing.assert_allclose(report.agent_form, cce.clipped, atol=TOL)
    np.testing.assert_allclose([g[0] for g in report.interim], cce.raw, atol=TOL)
    assert [int(b[0]) for b in report.best_deviation] == list(cce.best_deviation)


# --------------------------------------------------------------------------- brute force


def lift(bgame: BayesianGame, device: np.ndarray) -> np.ndarray:
    """μ_D(θ, a) = p(θ) Σ_s D(s) 1[s(θ) = a] for a type-independent device D.

    ``device`` has one axis per agent (i, θ_i), ordered by player then type (the order of
    ``BayesianGame.agent_form``); entry s is the probability of recommending s[(i, θ_i)].
    """
    n = bgame.n_players
    agents = [(i, t) for i in range(n) for t in range(bgame.n_types[i])]
    mu = np.zeros(bgame.n_types + bgame.n_actions)
    for s in itertools.product(*(range(k) for k in device.shape)):
        if device[s] == 0:
            continue
        plan = dict(zip(agents, s, strict=True))
        for theta in itertools.product(*(range(k) for k in bgame.n_types)):
            a = tuple(plan[(i, theta[i])] for i in range(n))
            mu[theta + a] += bgame.prior[theta] * device[s]
    return mu


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([((2, 2), (2, 2)), ((3, 1), (2, 3)), ((2, 3), (2, 2)), ((1, 1, 2), (2, 2, 2))]),
)
def test_bayesian_gaps_match_agent_form_and_induced_normal_form(seed, sizes):
    # Agent-form gap == CCE gaps of bgame.agent_form() on the device D (agent (i, θ_i)'s raw
    # CCE gap is max_b h_i(θ_i, b)); ex-ante gap == CCE gap of bgame.induced_normal_form()
    # on D read as a distribution over type-contingent plans.
    n_types, n_actions = sizes
    rng = np.random.default_rng(seed)
    n = len(n_types)
    bgame = BayesianGame(
        rng.normal(size=(n,) + n_types + n_actions),
        random_distribution(rng, n_types, sparse=bool(rng.integers(2))),
    )
    agent_axes = tuple(n_actions[i] for i in range(n) for _ in range(n_types[i]))
    device = random_distribution(rng, agent_axes, sparse=bool(rng.integers(2)))
    report = bcce_gap(bgame, lift(bgame, device))
    assert type_marginal_error(bgame, lift(bgame, device)) == pytest.approx(0, abs=TOL)
    agent = cce_gap(bgame.agent_form(), device)
    plans = cce_gap(
        bgame.induced_normal_form(),
        device.reshape(tuple(n_actions[i] ** n_types[i] for i in range(n))),
    )
    start = 0
    for i in range(n):
        own = slice(start, start + n_types[i])
        start += n_types[i]
        np.testing.assert_allclose(report.table[i].max(axis=1), agent.raw[own], atol=TOL)
        assert report.agent_form[i] == pytest.approx(agent.clipped[own].sum(), abs=TOL)
        assert report.ex_ante[i] == pytest.approx(plans.raw[i], abs=TOL)


def test_bne_gap_finds_pure_bayes_nash_equilibria_by_enumeration():
    # Every pure type-contingent profile: bne_gap is zero exactly at the pure BNEs found by
    # brute force over the induced normal form (best response over whole plans).
    rng = np.random.default_rng(3)
    n_types, n_actions = (2, 2), (2, 2)
    prior = np.array([[0.3, 0.2], [0.1, 0.4]])
    bgame = BayesianGame(rng.integers(-3, 4, size=(2,) + n_types + n_actions), prior)
    induced = bgame.induced_normal_form()
    plans = [list(itertools.product(range(2), repeat=2)) for _ in range(2)]
    found = 0
    for p0, p1 in itertools.product(range(4), range(4)):
        sigmas = [np.eye(2)[list(plans[0][p0])], np.eye(2)[list(plans[1][p1])]]
        report = bne_gap(bgame, sigmas)
        brute = nash_conv(induced, [np.eye(4)[p0], np.eye(4)[p1]])
        np.testing.assert_allclose(report.ex_ante, brute.per_player, atol=TOL)
        np.testing.assert_allclose(report.agent_form, report.ex_ante, atol=TOL)
        found += report.is_equilibrium(notion="ex_ante")
        assert report.is_equilibrium() == brute.is_equilibrium()
    assert found >= 1  # a pure BNE exists in this instance


# --------------------------------------------------------------------------- verdicts


def test_each_verdict_flips_between_eps_zero_and_eps_equal_to_the_gap():
    pd = bimatrix([[5, 0], [10, 1]], [[5, 10], [0, 1]])
    cooperate = np.array([[1.0, 0.0], [0.0, 0.0]])
    cce = cce_gap(pd, cooperate)
    assert not cce.is_equilibrium(eps=0.0, tol=0.0)
    assert cce.is_equilibrium(eps=cce.max_gap, tol=0.0)
    assert cce.is_equilibrium(eps=[5.0, 5.0], tol=0.0)
    assert not cce.is_equilibrium(eps=[5.0, 4.9], tol=0.0)

    gibson = bimatrix([[1, 0], [0, 2], [-1, 1]], np.zeros((3, 2)))
    ce = ce_gap(gibson, np.array([[0.5, 0.0], [0.0, 0.25], [0.0, 0.25]]))
    assert not ce.is_equilibrium(eps=0.0)
    assert ce.is_equilibrium(eps=0.25)

    row = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    nc = nash_conv(bimatrix(row, -row), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(nc.per_player, [0.0, 1.0], atol=1e-15)
    assert not nc.is_equilibrium(eps=0.0)
    assert nc.is_equilibrium(eps=1.0)

    example = run_doc_example()
    for notion, gap in [("ex_ante", 0.2), ("agent_form", 0.3), ("interim", 0.6)]:
        assert not example.is_equilibrium(eps=0.0, notion=notion)
        assert not example.is_equilibrium(eps=gap - 1e-6, tol=0.0, notion=notion)
        assert example.is_equilibrium(eps=gap, notion=notion)

    bgame = BayesianGame(np.zeros((2, 1, 1, 2, 2)) + np.array([[1, 0], [0, 0]]), np.ones((1, 1)))
    bne = bne_gap(bgame, [np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]])])
    np.testing.assert_allclose(bne.ex_ante, [0.5, 0.0], atol=1e-15)
    assert not bne.is_equilibrium()
    assert bne.is_equilibrium(eps=0.5)


def test_interim_gap_is_nan_for_unseen_types_and_the_verdict_skips_them():
    bgame = BayesianGame(np.arange(2 * 2 * 1 * 2 * 2).reshape(2, 2, 1, 2, 2), [[0.5], [0.5]])
    mu = np.zeros((2, 1, 2, 2))
    mu[0, 0, 1, 1] = 1.0  # type 1 of player 0 never occurs
    report = bcce_gap(bgame, mu)
    assert np.isnan(report.interim[0][1])
    np.testing.assert_allclose(report.table[0][1], [0.0, 0.0])
    assert report.is_equilibrium(notion="interim")  # own utilities increase in a_0
    assert report.max_interim[0] == pytest.approx(0.0)
    assert type_marginal_error(bgame, mu) == pytest.approx(0.5)


def test_verdict_rejects_bad_arguments():
    report = cce_gap(bimatrix(np.eye(2), np.eye(2)), np.full((2, 2), 0.25))
    with pytest.raises(ValueError, match=r"eps must be .* got"):
        report.is_equilibrium(eps=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"tol must be .* got -1"):
        report.is_equilibrium(tol=-1.0)
    with pytest.raises(ValueError, match="eps must be finite"):
        report.is_equilibrium(eps=float("nan"))
    bayes = bcce_gap(
        BayesianGame(np.zeros((2, 1, 1, 2, 2)), np.ones((1, 1))), np.full((1, 1, 2, 2), 0.25)
    )
    with pytest.raises(ValueError, match=r"notion must be one of .* got 'exante'"):
        bayes.is_equilibrium(notion="exante")


# --------------------------------------------------------------------------- bad input


BAD_MUS = [
    (np.full((2, 3), 1 / 6), r"mu must have shape \(2, 2\), got \(2, 3\)"),
    (np.array([[0.5, np.nan], [0.25, 0.25]]), "mu must be finite, got nan"),
    (np.array([[0.6, -0.1], [0.25, 0.25]]), "non-negative, got minimum entry -0.1"),
    (np.array([[0.5, 0.5], [0.25, 0.25]]), "must sum to 1, got total 1.5"),
]


@pytest.mark.parametrize(("mu", "message"), BAD_MUS)
@pytest.mark.parametrize("gap", [cce_gap, ce_gap])
def test_normal_form_gaps_reject_invalid_distributions(gap, mu, message):
    with pytest.raises(ValueError, match=message):
        gap(bimatrix(np.eye(2), np.eye(2)), mu)


@pytest.mark.parametrize(("mu", "message"), BAD_MUS)
@pytest.mark.parametrize("gap", [bcce_gap, deviation_table, type_marginal_error])
def test_bayesian_gaps_reject_invalid_distributions(gap, mu, message):
    bgame = BayesianGame(np.zeros((2, 1, 1, 2, 2)), np.ones((1, 1)))
    message = message.replace(r"\(2, 2\)", r"\(1, 1, 2, 2\)").replace(
        r"\(2, 3\)", r"\(1, 1, 2, 3\)"
    )
    with pytest.raises(ValueError, match=message):
        gap(bgame, mu.reshape((1, 1) + mu.shape))


def test_gaps_reject_the_wrong_kind_of_game_and_profile():
    game = bimatrix(np.eye(2), np.eye(2))
    bgame = BayesianGame.from_normal_form(game)
    with pytest.raises(TypeError, match="game must be a NormalFormGame, got BayesianGame"):
        cce_gap(bgame, np.full((2, 2), 0.25))
    with pytest.raises(TypeError, match="bgame must be a BayesianGame, got NormalFormGame"):
        bcce_gap(game, np.full((2, 2), 0.25))
    with pytest.raises(ValueError, match=r"lengths \(2, 2\), got shapes \(\(2,\), \(3,\)\)"):
        nash_conv(game, [[0.5, 0.5], [1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="must hold 2 strategies, one per player, got 1"):
        nash_conv(game, [[0.5, 0.5]])
    with pytest.raises(ValueError, match=r"must sum to 1 along its last axis, got total 0\.9"):
        nash_conv(game, [[0.5, 0.4], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"sigmas must have shapes \(\(1, 2\), \(1, 2\)\)"):
        bne_gap(bgame, [np.array([0.5, 0.5]), np.array([0.5, 0.5])])
    with pytest.raises(TypeError, match="profile must be a list"):
        nash_conv(game, np.full((2, 2), 0.5))


# --------------------------------------------------------------------------- speed


def test_bcce_gap_is_fast_on_six_types_and_three_actions():
    rng = np.random.default_rng(5)
    bgame = BayesianGame(rng.normal(size=(2, 6, 6, 3, 3)), random_distribution(rng, (6, 6)))
    mu = random_distribution(rng, (6, 6, 3, 3))
    bcce_gap(bgame, mu)
    start = time.perf_counter()
    for _ in range(20):
        bcce_gap(bgame, mu)
    per_call = (time.perf_counter() - start) / 20
    assert per_call < 0.05, f"bcce_gap took {per_call * 1e3:.1f} ms"


def test_sampled_bayesian_play_gives_realised_per_type_regret():
    # Realised feedback: the per-type regret against the sampled opponents' actions equals
    # max_b h of the empirical (θ, a) distribution.
    rng = np.random.default_rng(2)
    bgame = BayesianGame(rng.normal(size=(2, 2, 2, 3, 3)), [[0.4, 0.1], [0.1, 0.4]])
    n_rounds = 3000
    flat = rng.choice(4, size=n_rounds, p=bgame.prior.ravel())
    types = np.stack(np.unravel_index(flat, (2, 2)), axis=1)
    actions = rng.integers(0, 3, size=(n_rounds, 2))
    report = bcce_gap(bgame, bayes_joint_from_samples(types, actions, (2, 2), (3, 3)))
    for i in range(2):
        for theta_i in range(2):
            rows = types[:, i] == theta_i
            th, ac = types[rows], actions[rows]
            counter = np.zeros(3)
            for b in range(3):
                deviated = ac.copy()
                deviated[:, i] = b
                counter[b] = bgame.payoffs[
                    i, th[:, 0], th[:, 1], deviated[:, 0], deviated[:, 1]
                ].sum()
            got = bgame.payoffs[i, th[:, 0], th[:, 1], ac[:, 0], ac[:, 1]].sum()
            regret = counter.max() - got
            assert report.table[i][theta_i].max() == pytest.approx(regret / n_rounds, abs=TOL)


# --------------------------------------------------------------------------- the doc example


def _doc_block(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name} -->\n(.*?)<!-- end-{name} -->", text, re.S)
    assert match, f"docs/equilibrium.md lost its {name} block"
    return match.group(1)


def run_doc_example():
    code = re.search(r"```python\n(.*?)```", _doc_block("worked-example-code"), re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    return namespace["report"]


def test_docs_worked_example_numbers_match_the_computation():
    report = run_doc_example()
    rows = {}
    for line in _doc_block("worked-example-results").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            key = cells[0].split("`")[1]
            rows[key] = [[float(v) for v in cell.split(",")] for cell in cells[1:]]
    assert set(rows) == {"table[θ=0]", "table[θ=1]", "ex_ante", "agent_form", "interim"}
    for player in range(2):
        for t in range(2):
            doc = rows[f"table[θ={t}]"][player]
            np.testing.assert_allclose(report.table[player][t], doc, atol=1e-12)
        assert report.ex_ante[player] == pytest.approx(rows["ex_ante"][player][0], abs=1e-12)
        assert report.agent_form[player] == pytest.approx(rows["agent_form"][player][0], abs=1e-12)
        np.testing.assert_allclose(report.interim[player], rows["interim"][player], atol=1e-12)


def test_docs_name_only_functions_and_fields_that_exist():
    import dataclasses
    import inspect

    from stackelberg_zoo.equilibrium import bounds, distributions, gaps, stackelberg

    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z][a-z_]{4,})[`(]", text))
    modules = (gaps, distributions, bounds, stackelberg)
    known = set().union(*(dir(module) for module in modules))
    reports = (gaps.GapReport, gaps.NashConvReport, gaps.BayesGapReport)
    results = (stackelberg.CommitmentResult, stackelberg.BayesianCommitmentResult)
    for report in reports + results:
        known |= {f.name for f in dataclasses.fields(report)} | set(dir(report))
    for module in modules:  # argument names of the public functions
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and function.__module__ == module.__name__:
                known |= set(inspect.signature(function).parameters)
    assert {"bcce_gap", "agent_form", "ex_ante", "per_type_bound"} <= named
    assert named <= known, f"docs/equilibrium.md names unknown API: {sorted(named - known)}"
