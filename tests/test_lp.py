"""Tests of the correlated-distribution LPs and the zero-sum solver (equilibrium/lp.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import setting_games

from stackelberg_zoo.equilibrium import fixtures as fx
from stackelberg_zoo.equilibrium import lp as lp_module
from stackelberg_zoo.equilibrium.games import BayesianGame, NormalFormGame, bimatrix
from stackelberg_zoo.equilibrium.gaps import bcce_gap, cce_gap, ce_gap
from stackelberg_zoo.equilibrium.lp import (
    bayes_coarse_deviation_matrix,
    coarse_deviation_matrix,
    solve_bayes_coarse,
    solve_cce,
    solve_ce,
    swap_deviation_matrix,
    zero_sum_value,
)

TOL = 1e-7


def random_game(rng: np.random.Generator, shape: tuple[int, ...]) -> NormalFormGame:
    return NormalFormGame(rng.integers(-5, 6, size=(len(shape),) + shape).astype(float))


def pure_nash_welfares(game: NormalFormGame) -> list[float]:
    """Welfare of every pure Nash equilibrium, by brute force."""
    out = []
    for a in itertools.product(*(range(k) for k in game.n_actions)):
        stable = all(
            game.payoffs[(i,) + a] >= game.payoffs[i][a[:i] + (slice(None),) + a[i + 1 :]].max()
            for i in range(game.n_players)
        )
        if stable:
            out.append(float(game.payoffs[(slice(None),) + a].sum()))
    return out


# ----------------------------------------------------------------------------- constraint rows


def test_deviation_rows_match_the_gap_functions():
    # The LP rows (built here) and the gap functions (gaps.py, written independently) must
    # agree on random distributions: row @ mu = gain of that deviation.
    rng = np.random.default_rng(0)
    game = random_game(rng, (2, 3, 2))
    mu = rng.dirichlet(np.ones(12)).reshape(2, 3, 2)
    cce, ce = cce_gap(game, mu), ce_gap(game, mu)
    for i in range(3):
        coarse = coarse_deviation_matrix(game.payoffs[i], i) @ mu.ravel()
        np.testing.assert_allclose(coarse, cce.gains[i], atol=1e-12)
        swap = swap_deviation_matrix(game.payoffs[i], i) @ mu.ravel()
        k = game.n_actions[i]
        expected = ce.gains[i][~np.eye(k, dtype=bool)]  # rows r, columns b != r
        np.testing.assert_allclose(swap, expected, atol=1e-12)


def test_bayes_deviation_rows_match_the_deviation_table():
    rng = np.random.default_rng(1)
    payoffs = rng.normal(size=(2, 2, 3, 2, 3))
    bgame = BayesianGame(payoffs, rng.dirichlet(np.ones(6)).reshape(2, 3))
    mu = rng.dirichlet(np.ones(36)).reshape(2, 3, 2, 3)
    report = bcce_gap(bgame, mu)
    for i in range(2):
        rows = bayes_coarse_deviation_matrix(bgame.payoffs[i], i, 2) @ mu.ravel()
        np.testing.assert_allclose(rows, report.table[i].ravel(), atol=1e-12)


# ----------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("solver", [solve_ce, solve_cce])
@pytest.mark.parametrize(
    ("factory", "low", "high"),
    [
        # F10 Chicken: welfare over CE and CCE in [7.2, 10.5] (research notes F10).
        (fx.chicken, 7.2, 10.5),
        # F11 Battle of the Sexes: [4/3, 3].
        (fx.battle_of_the_sexes, 4 / 3, 3.0),
        # F11 Prisoner's dilemma: unique CCE (D, D), welfare 2.
        (fx.prisoners_dilemma, 2.0, 2.0),
        # F9 Shapley's game: [2/3, 1].
        (fx.shapley_game, 2 / 3, 1.0),
        # F14 Monderer-Tennenholtz: [7.2, 10] (mixed NE 7.2, pure NEs 10).
        (setting_games.monderer_tennenholtz, 7.2, 10.0),
    ],
)
def test_welfare_ranges_of_known_games(solver, factory, low, high):
    game = factory()
    worst = solver(game, [1, 1], sense="min")
    best = solver(game, [1, 1], sense="max")
    assert worst.value == pytest.approx(low, abs=1e-7)
    assert best.value == pytest.approx(high, abs=1e-7)
    for result in (worst, best):
        assert result.status == "optimal"
        assert result.mu.shape == game.n_actions
        assert result.mu.min() >= 0 and result.mu.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(result.gaps <= TOL)


def test_prisoners_dilemma_cce_is_defect_defect():
    # F11: (D, D) is the unique CCE (D strictly dominant).
    for objective in ([1, 0], [0, 1], [-1, 3]):
        result = solve_cce(fx.prisoners_dilemma(), objective, sense="max")
        np.testing.assert_allclose(result.mu, [[0, 0], [0, 1]], atol=1e-8)


def test_maintain_leader_value_over_ce_and_cce():
    # F7 (research notes): max over CE of u_L is 10, over CCE 24.
    game = setting_games.maintain()
    assert solve_ce(game, [1, 0]).value == pytest.approx(10.0, abs=1e-7)
    assert solve_cce(game, [1, 0]).value == pytest.approx(24.0, abs=1e-7)


def test_monderer_tennenholtz_zero_implementation():
    # F14 (Monderer & Tennenholtz 2003): paying the row player > 1 at (T, L) and the column
    # player > 4 at (B, R) makes (T, R) strictly dominant, so every CCE is (T, R) and the
    # designer pays nothing on path.
    game = setting_games.monderer_tennenholtz()
    payments = np.zeros((2, 2, 2))
    payments[0, 0, 0] = 1.5
    payments[1, 1, 1] = 4.5
    designed = NormalFormGame(game.payoffs + payments)
    cost = payments.sum(axis=0)
    assert solve_cce(designed, cost, sense="max").value == pytest.approx(0.0, abs=1e-8)
    np.testing.assert_allclose(solve_cce(designed, [1, 1]).mu, [[0, 1], [0, 0]], atol=1e-8)


def test_rock_paper_scissors_every_cce_has_value_zero_and_uniform_marginals():
    # F11 / research section 2.1: in zero-sum games every CCE has the game value and
    # minimax marginals. RPS: value 0, uniform.
    rng = np.random.default_rng(2)
    game = fx.rock_paper_scissors()
    for _ in range(5):
        result = solve_cce(game, rng.normal(size=(3, 3)), sense=str(rng.choice(["min", "max"])))
        assert float((game.payoffs[0] * result.mu).sum()) == pytest.approx(0.0, abs=1e-7)
        np.testing.assert_allclose(result.mu.sum(axis=1), np.full(3, 1 / 3), atol=1e-7)
        np.testing.assert_allclose(result.mu.sum(axis=0), np.full(3, 1 / 3), atol=1e-7)


def test_biased_rps_minimax_and_cce_marginals():
    # F16 (OpenSpiel matrix_brps, Bošanský et al. 2016): NE (1/16, 10/16, 5/16), value 0.
    game = fx.biased_rock_paper_scissors()
    expected = np.array([1, 10, 5]) / 16
    result = zero_sum_value(game.payoffs[0])
    assert result.value == pytest.approx(0.0, abs=1e-8)
    np.testing.assert_allclose(result.row_strategy, expected, atol=1e-8)
    np.testing.assert_allclose(result.column_strategy, expected, atol=1e-8)
    assert 0 <= result.exploitability <= 1e-7
    cce = solve_cce(game, np.random.default_rng(3).normal(size=(3, 3)))
    np.testing.assert_allclose(cce.mu.sum(axis=1), expected, atol=1e-7)
    np.testing.assert_allclose(cce.mu.sum(axis=0), expected, atol=1e-7)


# ----------------------------------------------------------------------------- zero-sum


@pytest.mark.parametrize(
    ("matrix", "value", "row", "column"),
    [
        ([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], 0.0, [1 / 3] * 3, [1 / 3] * 3),  # RPS
        ([[7.0]], 7.0, [1.0], [1.0]),  # 1x1
        ([[1, 2], [0, 0]], 1.0, [1, 0], [1, 0]),  # dominated row, pure saddle point
        ([[3, 1], [2, 4]], 2.5, [0.5, 0.5], [0.75, 0.25]),  # matching-pennies-like 2x2
    ],
)
def test_zero_sum_known_values(matrix, value, row, column):
    result = zero_sum_value(matrix)
    assert result.value == pytest.approx(value, abs=1e-8)
    np.testing.assert_allclose(result.row_strategy, row, atol=1e-8)
    np.testing.assert_allclose(result.column_strategy, column, atol=1e-8)


def test_zero_sum_all_equal_payoffs():
    result = zero_sum_value(np.full((2, 3), -4.0))
    assert result.value == pytest.approx(-4.0)
    assert result.row_strategy.sum() == pytest.approx(1.0)
    assert result.exploitability == pytest.approx(0.0, abs=1e-12)


def test_zero_sum_value_equals_cce_value_on_random_games():
    rng = np.random.default_rng(4)
    for _ in range(10):
        matrix = rng.normal(size=tuple(rng.integers(1, 5, size=2)))
        result = zero_sum_value(matrix)
        x, y = result.row_strategy, result.column_strategy
        assert (x @ matrix).min() >= result.value - 1e-7  # x guarantees the value
        assert (matrix @ y).max() <= result.value + 1e-7  # y holds the row to it
        cce = solve_cce(bimatrix(matrix, -matrix), rng.normal(size=matrix.shape))
        assert float((matrix * cce.mu).sum()) == pytest.approx(result.value, abs=1e-6)


# ----------------------------------------------------------------------------- set relations


def test_welfare_chain_over_ne_ce_cce_on_random_games():
    # Research item 8: max CCE >= max CE >= welfare(any NE) >= min CE >= min CCE.
    rng = np.random.default_rng(5)
    checked_ne = 0
    for shape in [(2, 2), (3, 3), (2, 3, 2), (3, 2), (2, 2, 2)]:
        for _ in range(3):
            game = random_game(rng, shape)
            weights = np.ones(len(shape))
            max_cce = solve_cce(game, weights, "max").value
            max_ce = solve_ce(game, weights, "max").value
            min_ce = solve_ce(game, weights, "min").value
            min_cce = solve_cce(game, weights, "min").value
            assert max_cce >= max_ce - 1e-7
            assert max_ce >= min_ce - 1e-7
            assert min_ce >= min_cce - 1e-7
            for welfare in pure_nash_welfares(game):
                checked_ne += 1
                assert max_ce >= welfare - 1e-7
                assert welfare >= min_ce - 1e-7
    assert checked_ne > 0


def test_von_stengel_equilibria_lie_inside_the_ce_welfare_range():
    # F13 (von Stengel 2007; QuantEcon tests): its three NE are CE, so their welfare lies
    # between the min and max CE welfare.
    game = fx.von_stengel_3x2()
    equilibria = [
        ([1, 0, 0], [1, 0]),
        ([4 / 5, 1 / 5, 0], [2 / 3, 1 / 3]),
        ([0, 1 / 3, 2 / 3], [1 / 3, 2 / 3]),
    ]
    low = solve_ce(game, [1, 1], "min").value
    high = solve_ce(game, [1, 1], "max").value
    for x, y in equilibria:
        mu = np.outer(x, y)
        assert ce_gap(game, mu).raw.max() <= 1e-12
        welfare = float((game.payoffs.sum(axis=0) * mu).sum())
        assert low - 1e-7 <= welfare <= high + 1e-7


def test_lp_sandwich_cce_and_ce():
    # Research item 10: any distribution with gaps eps lies between the eps-LP optima.
    rng = np.random.default_rng(6)
    for shape in [(2, 3), (3, 3), (2, 2, 2)]:
        game = random_game(rng, shape)
        for _ in range(3):
            mu = rng.dirichlet(np.full(int(np.prod(shape)), 0.5)).reshape(shape)
            objective = rng.normal(size=shape)
            value = float((objective * mu).sum())
            eps = np.maximum(cce_gap(game, mu).raw, 0.0)
            assert solve_cce(game, objective, "min", eps).value <= value + 1e-7
            assert solve_cce(game, objective, "max", eps).value >= value - 1e-7
            ce_eps = ce_gap(game, mu).raw
            assert solve_ce(game, objective, "min", ce_eps).value <= value + 1e-7
            assert solve_ce(game, objective, "max", ce_eps).value >= value - 1e-7


def test_eps_relaxation_is_monotone():
    game = setting_games.maintain()
    values = [solve_cce(game, [1, 0], eps=e).value for e in (0.0, 0.5, 2.0, 10.0)]
    assert all(a <= b + 1e-9 for a, b in itertools.pairwise(values))
    assert values[-1] > values[0]


# ----------------------------------------------------------------------------- Bayesian


def test_bayes_coarse_with_one_type_equals_cce():
    rng = np.random.default_rng(7)
    for shape in [(2, 3), (3, 2, 2)]:
        game = random_game(rng, shape)
        bgame = BayesianGame.from_normal_form(game)
        objective = rng.normal(size=shape)
        for sense in ("min", "max"):
            expected = solve_cce(game, objective, sense).value
            got = solve_bayes_coarse(bgame, objective.reshape(bgame.n_types + shape), sense)
            assert got.value == pytest.approx(expected, abs=1e-7)


def test_bayes_coarse_contains_the_agent_form_cce():
    # A type-independent device (CCE of the agent form) is a special q(a | θ), so its best
    # (worst) welfare is inside the coarse Bayes-correlated range. F15 auction, correlated.
    bgame = fx.first_price_auction_correlated()
    agents = bgame.agent_form()
    for sense, sign in (("max", 1), ("min", -1)):
        bayes = solve_bayes_coarse(bgame, [1, 1], sense)
        agent = solve_cce(agents, np.ones(agents.n_players), sense)
        assert sign * (bayes.value - agent.value) >= -1e-7
        marginal = bayes.mu.sum(axis=(2, 3))
        np.testing.assert_allclose(marginal, bgame.prior, atol=1e-12)
        assert np.all(bayes.gaps <= 1e-7)


def test_bayes_coarse_contains_every_pure_bne():
    # Pure Bayes-Nash equilibria of the F15 auction, by brute force over type-contingent
    # plans, must have welfare inside the LP range.
    bgame = fx.first_price_auction_correlated()
    low = solve_bayes_coarse(bgame, [1, 1], "min").value
    high = solve_bayes_coarse(bgame, [1, 1], "max").value
    plans = list(itertools.product(range(3), repeat=2))
    found = 0
    for s0, s1 in itertools.product(plans, plans):
        mu = np.zeros((2, 2, 3, 3))
        for t0, t1 in itertools.product(range(2), range(2)):
            mu[t0, t1, s0[t0], s1[t1]] = bgame.prior[t0, t1]
        if bcce_gap(bgame, mu).agent_form.max() <= 1e-12:
            found += 1
            welfare = float((bgame.payoffs.sum(axis=0) * mu).sum())
            assert low - 1e-7 <= welfare <= high + 1e-7
    assert found > 0


def test_bayes_coarse_sandwich_with_empirical_type_marginal():
    # Research item 10 for the Bayesian LP: a distribution whose type marginal is not the
    # prior is bracketed once the LP uses that marginal and the distribution's interim gaps.
    rng = np.random.default_rng(8)
    bgame = BayesianGame(rng.normal(size=(2, 2, 2, 2, 3)), [[0.3, 0.2], [0.1, 0.4]])
    for _ in range(3):
        mu = rng.dirichlet(np.full(24, 0.7)).reshape(2, 2, 2, 3)
        report = bcce_gap(bgame, mu)
        eps = [np.maximum(np.nan_to_num(g, nan=0.0), 0.0) for g in report.interim]
        objective = rng.normal(size=mu.shape)
        value = float((objective * mu).sum())
        marginal = mu.sum(axis=(2, 3))
        low = solve_bayes_coarse(bgame, objective, "min", eps, type_marginal=marginal)
        high = solve_bayes_coarse(bgame, objective, "max", eps, type_marginal=marginal)
        assert low.value <= value + 1e-7 <= high.value + 2e-7
        np.testing.assert_allclose(high.mu.sum(axis=(2, 3)), marginal, atol=1e-12)


# ----------------------------------------------------------------------------- degenerate


def test_degenerate_games():
    one = NormalFormGame(np.array([[[2.0]], [[-1.0]]]))
    result = solve_cce(one, [1, 1])
    assert result.value == pytest.approx(1.0)
    np.testing.assert_allclose(result.mu, [[1.0]])
    flat = bimatrix(np.zeros((3, 2)), np.zeros((3, 2)))
    for solver in (solve_cce, solve_ce):
        assert solver(flat, [1, 1]).value == pytest.approx(0.0)
        assert solver(flat, np.arange(6.0).reshape(3, 2)).value == pytest.approx(5.0)
    # Row 1 is weakly dominated (tie at column 1), column 1 strictly dominant: every CE
    # plays column 1, and the row player is free between the rows there.
    ties = bimatrix([[1, 1], [0, 1]], [[0, 1], [0, 1]])
    corner = np.array([[0.0, 0.0], [0.0, 1.0]])  # weight on (row 1, column 1)
    for solver in (solve_cce, solve_ce):
        assert solver(ties, [1, 1], "min").value == pytest.approx(2.0)
        assert solver(ties, corner, "max").value == pytest.approx(1.0)
        assert solver(ties, corner, "min").value == pytest.approx(0.0, abs=1e-12)
        assert solver(ties, corner, "max").mu[:, 0].sum() == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- re-check


def test_recheck_raises_when_the_solver_answer_is_not_an_equilibrium(monkeypatch):
    # Corrupt the LP answer: prisoner's dilemma, everyone cooperates (gap 5 each).
    game = fx.prisoners_dilemma()
    monkeypatch.setattr(lp_module, "solve_lp", lambda *a, **k: np.array([1.0, 0, 0, 0]))
    with pytest.raises(RuntimeError, match=r"CCE gap 5\.000e\+00"):
        solve_cce(game, [1, 1])
    with pytest.raises(RuntimeError, match="CE gap"):
        solve_ce(game, [1, 1])


def test_recheck_tolerance_flip(monkeypatch):
    # A distribution 1e-6 away from the CCE (D, D) of the PD: its gap is 5e-6 (raw units,
    # range 10): rejected at tol 1e-7, accepted at tol 1e-5.
    game = fx.prisoners_dilemma()
    answer = np.array([1e-6, 0, 0, 1 - 1e-6])
    monkeypatch.setattr(lp_module, "solve_lp", lambda *a, **k: answer.copy())
    with pytest.raises(RuntimeError, match="re-check failed"):
        solve_cce(game, [1, 1], tol=1e-7)
    assert solve_cce(game, [1, 1], tol=1e-5).gaps.max() == pytest.approx(5e-6, rel=1e-6)


def test_bayes_recheck_raises(monkeypatch):
    bgame = BayesianGame.from_normal_form(fx.prisoners_dilemma())
    monkeypatch.setattr(lp_module, "solve_lp", lambda *a, **k: np.array([1.0, 0, 0, 0]))
    with pytest.raises(RuntimeError, match="player 0, type 0"):
        solve_bayes_coarse(bgame, [1, 1])


def test_zero_sum_recheck_raises(monkeypatch):
    bad = np.array([1.0, 0.0, 0.0, 0.0])  # pure rock for both: exploitable
    monkeypatch.setattr(lp_module, "solve_lp", lambda *a, **k: bad.copy())
    with pytest.raises(RuntimeError, match="duality gap"):
        zero_sum_value(fx.rock_paper_scissors().payoffs[0])


def test_solver_failure_is_reported(monkeypatch):
    class Failed:
        status, message, x = 4, "numerical difficulties", None

    monkeypatch.setattr(lp_module, "linprog", lambda *a, **k: Failed())
    with pytest.raises(RuntimeError, match="status 4, numerical difficulties"):
        solve_cce(fx.chicken(), [1, 1])


# ----------------------------------------------------------------------------- bad input


def test_bad_input_errors():
    game = fx.chicken()
    with pytest.raises(TypeError, match="NormalFormGame, got ndarray"):
        solve_cce(np.zeros((2, 2, 2)), [1, 1])
    with pytest.raises(
        ValueError, match=r"shape \(2,\) or an array of shape \(2, 2\), got shape \(3,\)"
    ):
        solve_cce(game, [1, 1, 1])
    with pytest.raises(ValueError, match="sense must be 'max' or 'min', got 'maximize'"):
        solve_ce(game, [1, 1], sense="maximize")
    with pytest.raises(ValueError, match=r"eps must be non-negative, got \[-0.1, -0.1\]"):
        solve_cce(game, [1, 1], eps=-0.1)
    with pytest.raises(ValueError, match="objective must be finite, got nan"):
        solve_cce(game, [np.nan, 1])
    with pytest.raises(ValueError, match="tol must be a non-negative finite number, got -1"):
        solve_cce(game, [1, 1], tol=-1)
    with pytest.raises(ValueError, match=r"A must be a non-empty matrix, got shape \(3,\)"):
        zero_sum_value([1, 2, 3])
    with pytest.raises(ValueError, match="A must be finite, got nan"):
        zero_sum_value([[1, np.nan]])
    with pytest.raises(TypeError, match="BayesianGame, got NormalFormGame"):
        solve_bayes_coarse(game, [1, 1])
    bgame = fx.first_price_auction_correlated()
    with pytest.raises(ValueError, match=r"type_marginal must sum to 1, got total 0\.8999"):
        solve_bayes_coarse(bgame, [1, 1], type_marginal=[[0.4, 0.1], [0.1, 0.3]])
    with pytest.raises(ValueError, match=r"eps\[1\] must have shape \(2,\), got \(3,\)"):
        solve_bayes_coarse(bgame, [1, 1], eps=[np.zeros(2), np.zeros(3)])
