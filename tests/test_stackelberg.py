"""Tests of the commitment solvers (equilibrium/stackelberg.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import setting_games

from stackelberg_zoo.equilibrium import fixtures as fx
from stackelberg_zoo.equilibrium import stackelberg as sb
from stackelberg_zoo.equilibrium.games import NormalFormGame, bimatrix
from stackelberg_zoo.equilibrium.gaps import ce_gap
from stackelberg_zoo.equilibrium.lp import solve_cce, solve_ce
from stackelberg_zoo.equilibrium.stackelberg import (
    bayesian_stackelberg,
    correlated_commitment,
    follower_best_responses,
    pure_commitment,
    robust_commitment,
    strong_stackelberg,
)

TOL = 1e-7


# ----------------------------------------------------------------------------- oracles


def nash_equilibria(
    leader: np.ndarray, follower: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """All NE of a nondegenerate bimatrix game by support enumeration (equal-size supports)."""
    m, k = leader.shape
    found = []
    for size in range(1, min(m, k) + 1):
        for rows in itertools.combinations(range(m), size):
            for cols in itertools.combinations(range(k), size):
                # x on rows makes the follower indifferent on cols; y on cols the leader on rows.
                ax = np.zeros((size + 1, size + 1))
                ax[:size, :size] = follower[np.ix_(rows, cols)].T
                ax[:size, size] = -1.0
                ax[size, :size] = 1.0
                ay = np.zeros((size + 1, size + 1))
                ay[:size, :size] = leader[np.ix_(rows, cols)]
                ay[:size, size] = -1.0
                ay[size, :size] = 1.0
                rhs = np.r_[np.zeros(size), 1.0]
                try:
                    sx, sy = np.linalg.solve(ax, rhs), np.linalg.solve(ay, rhs)
                except np.linalg.LinAlgError:
                    continue
                if sx[:size].min() < -1e-12 or sy[:size].min() < -1e-12:
                    continue
                x, y = np.zeros(m), np.zeros(k)
                x[list(rows)], y[list(cols)] = sx[:size], sy[:size]
                if (leader @ y).max() <= x @ leader @ y + 1e-9 and (
                    x @ follower
                ).max() <= x @ follower @ y + 1e-9:
                    found.append((x, y))
    return found


def two_row_bayesian_oracle(leaders, followers, probs) -> float:
    """Exact Bayesian strong-SSE value for a 2-row leader by checking every breakpoint.

    The leader's value is piecewise linear in x = P(row 0) between the points where some
    type is indifferent between two columns, so the optimum (with leader-favourable ties)
    is at such a point or at an end of [0, 1].
    """
    candidates = {0.0, 1.0}
    for follower in followers:
        for a, b in itertools.combinations(range(follower.shape[1]), 2):
            d0 = follower[0, a] - follower[0, b]
            d1 = follower[1, a] - follower[1, b]
            if d0 != d1:
                x = d1 / (d1 - d0)  # x d0 + (1 - x) d1 = 0
                if 0 <= x <= 1:
                    candidates.add(float(x))
    best = -np.inf
    for x0 in candidates:
        x = np.array([x0, 1 - x0])
        value = 0.0
        for p, leader, follower in zip(probs, leaders, followers, strict=True):
            values = x @ follower
            responses = np.flatnonzero(values >= values.max() - 1e-9)
            value += p * max(x @ leader[:, j] for j in responses)
        best = max(best, value)
    return best


def hedge_follower_average(x: np.ndarray, leader: np.ndarray, follower: np.ndarray, rounds: int):
    """Leader's average payoff and the follower's regret against a Hedge follower.

    Full-information Hedge with the tuned fixed step, expected feedback, uniform start.
    """
    gains = x @ follower  # the follower's payoff per column, the same each round
    k = gains.shape[0]
    width = max(float(np.ptp(follower)), 1e-12)
    eta = np.sqrt(8 * np.log(k) / rounds) / width
    cumulative = np.zeros(k)
    leader_total, follower_total = 0.0, 0.0
    for _ in range(rounds):
        weights = np.exp(eta * (cumulative - cumulative.max()))
        y = weights / weights.sum()
        leader_total += float(x @ leader @ y)
        follower_total += float(gains @ y)
        cumulative += gains
    regret = (rounds * gains.max() - follower_total) / rounds
    return leader_total / rounds, regret


# ----------------------------------------------------------------------------- known answers


@pytest.mark.parametrize(
    ("factory", "sse", "strategy", "column", "pure"),
    [
        # F1, F2, F3: OpenSpiel stackelberg_lp_test (Conitzer & Sandholm 2006 instances).
        (fx.openspiel_commitment_game_1, 3.5, [0.5, 0.5], 1, 3.0),
        (fx.openspiel_commitment_game_2, 4 / 3, [1 / 3, 2 / 3], 0, 1.0),
        (fx.openspiel_commitment_game_3, 9.0, [1.0, 0.0], 1, 9.0),
        # F4: Conitzer & Sandholm 2006 / Conitzer 2016: pure commitment 2, SSE 2.5.
        (setting_games.conitzer, 2.5, [0.5, 0.5], 1, 2.0),
        # F5: research notes: pure commitment 0, SSE 1 at (1/2, 1/2).
        (fx.cce_commitment_separation, 1.0, [0.5, 0.5], 0, 0.0),
        # F6 Escape (Zhang et al. 2020 via the Brero et al. code): SSE = pure = 30.
        (setting_games.escape, 30.0, [0, 0, 1], 2, 30.0),
        # F7 Maintain: pure 20, mixed SSE 27.5 at (1/4, 3/4, 0).
        (setting_games.maintain, 27.5, [0.25, 0.75, 0.0], 0, 20.0),
    ],
)
def test_known_commitment_values(factory, sse, strategy, column, pure):
    game = factory()
    leader, follower = game.payoffs
    result = strong_stackelberg(leader, follower)
    assert result.leader_value == pytest.approx(sse, abs=1e-8)
    np.testing.assert_allclose(result.leader_strategy, strategy, atol=1e-8)
    assert result.follower_action == column
    assert result.follower_value == pytest.approx(
        float(result.leader_strategy @ follower[:, column])
    )
    assert pure_commitment(leader, follower).leader_value == pytest.approx(pure)
    assert correlated_commitment(game).value == pytest.approx(sse, abs=1e-7)


def test_f4_unique_nash_is_worse_than_commitment():
    # F4 (Conitzer 2016): the unique NE (U, L) gives the leader 1 < 2 (pure) < 2.5 (mixed).
    leader, follower = setting_games.conitzer().payoffs
    equilibria = nash_equilibria(leader, follower)
    assert len(equilibria) == 1
    x, y = equilibria[0]
    np.testing.assert_allclose(x, [1, 0])
    np.testing.assert_allclose(y, [1, 0])
    assert float(x @ leader @ y) == pytest.approx(1.0)


def test_f5_cce_commitment_exceeds_stackelberg():
    # F5 (research notes): CE-commit 1 = SSE, CCE-commit 2 with p(U, col 2) = 2/3 and
    # p(D, col 3) = 1/3; the leader's best CCE payoff (2) also exceeds V_SSE (1), so
    # "V_SSE >= max_CCE u_L" must never be asserted.
    game = fx.cce_commitment_separation()
    coarse = correlated_commitment(game, coarse=True)
    assert correlated_commitment(game).value == pytest.approx(1.0, abs=1e-7)
    assert coarse.value == pytest.approx(2.0, abs=1e-7)
    np.testing.assert_allclose(coarse.mu, [[0, 2 / 3, 0], [0, 0, 1 / 3]], atol=1e-7)
    assert np.isnan(coarse.gaps[0]) and coarse.gaps[1] <= TOL
    max_cce = solve_cce(game, [1, 0]).value
    sse = strong_stackelberg(*game.payoffs).leader_value
    assert max_cce == pytest.approx(2.0, abs=1e-7)
    assert max_cce > sse + 0.5  # the counterexample


def test_correlated_commitment_leader_index():
    # Making player 1 the leader of (L, F) is committing in the transposed game.
    rng = np.random.default_rng(22)
    for _ in range(5):
        leader, follower = random_bimatrix(rng, integer=False)
        swapped = bimatrix(follower.T, leader.T)  # player 1 has the leader's payoffs
        expected = strong_stackelberg(leader, follower).leader_value
        assert correlated_commitment(swapped, leader=1).value == pytest.approx(expected, abs=1e-7)


def test_correlated_commitment_three_players():
    # With two followers: every CE is feasible for the commitment LP (it satisfies the
    # followers' constraints), and the LP is a restriction of all distributions.
    rng = np.random.default_rng(23)
    for _ in range(5):
        game = NormalFormGame(rng.normal(size=(3, 2, 3, 2)))
        for coarse in (False, True):
            result = correlated_commitment(game, coarse=coarse, leader=2)
            solve = solve_cce if coarse else solve_ce
            assert result.value >= solve(game, [0, 0, 1]).value - 1e-7
            assert result.value <= game.payoffs[2].max() + 1e-9
            assert np.isnan(result.gaps[2]) and np.all(result.gaps[:2] <= TOL)


def test_f5_column_two_is_never_a_best_response():
    # Column 2 of F5 is strictly dominated for the follower: its LP is infeasible.
    result = strong_stackelberg(*fx.cce_commitment_separation().payoffs)
    assert result.per_action_values[1] == -np.inf
    assert np.isfinite(result.per_action_values[[0, 2]]).all()


def test_f12_dobss_security_game():
    # F12: sailik1991/StackelbergEquilibribumSolvers DOBSS unittest: objective 0.912143,
    # defender (0.428571, 0.414286, 0, 0.157143), attacker types play their 2nd, 3rd, 6th
    # and 3rd attacks.
    game = fx.dobss_security_game()
    for method in ("dobss", "enumerate"):
        result = bayesian_stackelberg(
            game.leader_payoffs, game.follower_payoffs, game.type_probs, method=method
        )
        assert result.leader_value == pytest.approx(0.912143, abs=1e-6)
        np.testing.assert_allclose(
            result.leader_strategy, [0.428571, 0.414286, 0.0, 0.157143], atol=1e-6
        )
        assert result.follower_actions == (1, 2, 5, 2)
        assert result.method == method
        names = [game.follower_action_names[t][j] for t, j in enumerate(result.follower_actions)]
        assert names == ["Attack2", "Attack1+Attack4", "Attack2+Attack3", "Attack3"]


# ----------------------------------------------------------------------------- random chains


def random_bimatrix(rng: np.random.Generator, integer: bool):
    m, k = (int(v) for v in rng.integers(2, 5, size=2))
    if integer:  # ties and degeneracy are common
        return rng.integers(-3, 4, size=(m, k)).astype(float), rng.integers(
            -3, 4, size=(m, k)
        ).astype(float)
    return rng.normal(size=(m, k)), rng.normal(size=(m, k))


@pytest.mark.parametrize("integer", [False, True])
def test_commitment_chain_on_random_games(integer):
    # Research item 11: pure <= V_SSE == CE-commit <= CCE-commit, max_CE u_L <= V_SSE,
    # max_CCE u_L <= CCE-commit.
    rng = np.random.default_rng(10 + integer)
    for _ in range(25):
        leader, follower = random_bimatrix(rng, integer)
        sse = strong_stackelberg(leader, follower)
        pure = pure_commitment(leader, follower).leader_value
        ce_commit = correlated_commitment(leader, follower).value
        cce_commit = correlated_commitment(leader, follower, coarse=True).value
        game = bimatrix(leader, follower)
        max_ce = solve_ce(game, [1, 0]).value
        max_cce = solve_cce(game, [1, 0]).value
        assert pure <= sse.leader_value + 1e-9
        assert ce_commit == pytest.approx(sse.leader_value, abs=1e-6)
        assert cce_commit >= ce_commit - 1e-7
        assert max_ce <= sse.leader_value + 1e-6
        assert max_cce <= cce_commit + 1e-6
        finite = sse.per_action_values[np.isfinite(sse.per_action_values)]
        assert sse.leader_value == pytest.approx(finite.max())


def test_nash_values_below_max_ce_below_stackelberg():
    rng = np.random.default_rng(12)
    counted = 0
    for _ in range(20):
        m, k = (int(v) for v in rng.integers(2, 4, size=2))
        leader, follower = rng.normal(size=(m, k)), rng.normal(size=(m, k))
        max_ce = solve_ce(bimatrix(leader, follower), [1, 0]).value
        sse = strong_stackelberg(leader, follower).leader_value
        for x, y in nash_equilibria(leader, follower):
            counted += 1
            assert ce_gap(bimatrix(leader, follower), np.outer(x, y)).raw.max() <= 1e-9
            assert float(x @ leader @ y) <= max_ce + 1e-7
        assert max_ce <= sse + 1e-7
    assert counted >= 20  # every game has at least one NE


def test_strong_tie_breaking_and_best_response_property():
    # Research item 12: the follower action is a best response, and no other best response
    # gives the leader more.
    rng = np.random.default_rng(13)
    for _ in range(40):
        leader, follower = random_bimatrix(rng, integer=True)
        result = strong_stackelberg(leader, follower)
        x = result.leader_strategy
        responses = follower_best_responses(follower, x, 1e-7)
        assert result.follower_action in responses
        assert max(x @ leader[:, j] for j in responses) <= result.leader_value + 1e-7
        assert result.leader_value == pytest.approx(float(x @ leader[:, result.follower_action]))


def test_two_row_games_against_the_breakpoint_oracle():
    rng = np.random.default_rng(14)
    for _ in range(40):
        k = int(rng.integers(2, 5))
        leader = rng.integers(-3, 4, size=(2, k)).astype(float)
        follower = rng.integers(-3, 4, size=(2, k)).astype(float)
        expected = two_row_bayesian_oracle([leader], [follower], [1.0])
        assert strong_stackelberg(leader, follower).leader_value == pytest.approx(
            expected, abs=1e-7
        )


def test_pure_commitment_against_brute_force():
    rng = np.random.default_rng(15)
    for _ in range(30):
        leader, follower = random_bimatrix(rng, integer=True)
        best = max(
            max(leader[i, j] for j in np.flatnonzero(follower[i] == follower[i].max()))
            for i in range(leader.shape[0])
        )
        result = pure_commitment(leader, follower)
        assert result.leader_value == best
        assert result.leader_strategy.max() == 1.0 and result.leader_strategy.sum() == 1.0


# ----------------------------------------------------------------------------- Bayesian


def random_bayesian(rng: np.random.Generator, n_types: int, m: int, equal_columns: bool):
    sizes = (
        [int(rng.integers(2, 4))] * n_types
        if equal_columns
        else list(rng.integers(1, 4, size=n_types))
    )
    leaders = [rng.integers(-3, 4, size=(m, k)).astype(float) for k in sizes]
    followers = [rng.integers(-3, 4, size=(m, k)).astype(float) for k in sizes]
    return leaders, followers, rng.dirichlet(np.ones(n_types))


def test_dobss_equals_enumeration_on_random_games():
    # Research item 13.
    rng = np.random.default_rng(16)
    for trial in range(30):
        n_types, m = int(rng.integers(1, 4)), int(rng.integers(2, 4))
        leaders, followers, probs = random_bayesian(rng, n_types, m, equal_columns=trial % 2 == 0)
        dobss = bayesian_stackelberg(leaders, followers, probs, method="dobss")
        brute = bayesian_stackelberg(leaders, followers, probs, method="enumerate")
        assert dobss.leader_value == pytest.approx(brute.leader_value, abs=1e-7)
        for result in (dobss, brute):
            x = result.leader_strategy
            for t, j in enumerate(result.follower_actions):
                responses = follower_best_responses(followers[t], x, 1e-7)
                assert j in responses
                assert max(x @ leaders[t][:, c] for c in responses) <= x @ leaders[t][:, j] + 1e-7
            assert result.leader_value == pytest.approx(
                float(probs @ result.per_type_leader_values)
            )


def test_bayesian_two_row_games_against_the_breakpoint_oracle():
    rng = np.random.default_rng(17)
    for _ in range(25):
        leaders, followers, probs = random_bayesian(rng, int(rng.integers(1, 4)), 2, False)
        expected = two_row_bayesian_oracle(leaders, followers, probs)
        result = bayesian_stackelberg(leaders, followers, probs)
        assert result.leader_value == pytest.approx(expected, abs=1e-7)


def test_one_type_equals_strong_stackelberg():
    rng = np.random.default_rng(18)
    for _ in range(15):
        leader, follower = random_bimatrix(rng, integer=True)
        sse = strong_stackelberg(leader, follower)
        for method in ("dobss", "enumerate"):
            result = bayesian_stackelberg([leader], [follower], [1.0], method=method)
            assert result.leader_value == pytest.approx(sse.leader_value, abs=1e-7)


def test_zero_probability_type_gets_the_strong_tie_break():
    # Type 1 has probability 0 and is indifferent between its columns; the leader prefers
    # its column 1, so the strong tie-break must report column 1.
    leaders = [np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[0.0, 5.0], [0.0, 5.0]])]
    followers = [np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros((2, 2))]
    for method in ("dobss", "enumerate"):
        result = bayesian_stackelberg(leaders, followers, [1.0, 0.0], method=method)
        assert result.follower_actions == (1, 1)
        assert result.leader_value == pytest.approx(2.0)  # row 1, type 0 plays column 1


def test_bayesian_accepts_a_3d_array():
    rng = np.random.default_rng(19)
    leaders = rng.normal(size=(2, 3, 2))
    followers = rng.normal(size=(2, 3, 2))
    from_array = bayesian_stackelberg(leaders, followers, [0.5, 0.5])
    from_list = bayesian_stackelberg(list(leaders), list(followers), [0.5, 0.5])
    assert from_array.leader_value == pytest.approx(from_list.leader_value)


# ----------------------------------------------------------------------------- invariances


def test_affine_invariance():
    # Research item 15: V_SSE is invariant to positive affine transforms of the follower's
    # payoffs and transforms affinely with the leader's.
    rng = np.random.default_rng(20)
    for _ in range(15):
        leader, follower = random_bimatrix(rng, integer=False)
        base = strong_stackelberg(leader, follower)
        a, b = float(rng.uniform(0.1, 10)), float(rng.normal(scale=5))
        moved_follower = strong_stackelberg(leader, a * follower + b)
        assert moved_follower.leader_value == pytest.approx(base.leader_value, abs=1e-7)
        np.testing.assert_allclose(moved_follower.leader_strategy, base.leader_strategy, atol=1e-6)
        moved_leader = strong_stackelberg(a * leader + b, follower)
        assert moved_leader.leader_value == pytest.approx(a * base.leader_value + b, abs=1e-6)
        leaders, followers, probs = random_bayesian(rng, 2, 3, False)
        bayes = bayesian_stackelberg(leaders, followers, probs).leader_value
        scaled = [a * f + rng.normal() for f in followers]
        assert bayesian_stackelberg(leaders, scaled, probs).leader_value == pytest.approx(
            bayes, abs=1e-7
        )
        shifted = bayesian_stackelberg([a * lead + b for lead in leaders], followers, probs)
        assert shifted.leader_value == pytest.approx(a * bayes + b, abs=1e-6)


def test_permuting_actions_leaves_the_value_unchanged():
    rng = np.random.default_rng(21)
    for _ in range(10):
        leader, follower = random_bimatrix(rng, integer=True)
        rows, cols = rng.permutation(leader.shape[0]), rng.permutation(leader.shape[1])
        base = strong_stackelberg(leader, follower).leader_value
        permuted = strong_stackelberg(leader[np.ix_(rows, cols)], follower[np.ix_(rows, cols)])
        assert permuted.leader_value == pytest.approx(base, abs=1e-7)


# ----------------------------------------------------------------------------- knife edge


def test_robust_commitment_margin_zero_is_the_sse():
    leader, follower = setting_games.maintain().payoffs
    robust = robust_commitment(leader, follower, margin=0.0)
    assert robust.leader_value == pytest.approx(27.5, abs=1e-8)
    assert robust.value_loss_bound == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "factory", [setting_games.maintain, setting_games.conitzer, fx.openspiel_commitment_game_2]
)
def test_robust_commitment_properties(factory):
    leader, follower = factory().payoffs
    sse = strong_stackelberg(leader, follower).leader_value
    previous = sse
    for margin in (0.01, 0.1, 0.5):
        robust = robust_commitment(leader, follower, margin)
        x, j = robust.leader_strategy, robust.follower_action
        # j is the unique best response, by at least the margin.
        others = np.delete(x @ follower, j)
        assert (x @ follower)[j] - others.max() >= margin - 1e-7
        # follower_best_responses takes a tolerance relative to the follower's range.
        relative = margin / 2 / (follower.max() - follower.min())
        assert follower_best_responses(follower, x, relative) == [j]
        assert robust.follower_advantage >= margin - 1e-7
        assert robust.leader_value == pytest.approx(float(x @ leader[:, j]))
        assert robust.sse_value == pytest.approx(sse)
        assert 0 <= robust.value_loss <= robust.value_loss_bound + 1e-7
        assert robust.leader_value <= previous + 1e-9  # larger margins cost more
        previous = robust.leader_value


def test_robust_commitment_known_cost_on_maintain():
    # Maintain: the SSE column 0 needs 15 x0 >= 5 x1 (x2 = 0 at the optimum). Margin d
    # gives 15 x0 - 5 x1 = d, so x0 = (5 + d)/20 and the value 30 - 10 x0 = 27.5 - d/2.
    leader, follower = setting_games.maintain().payoffs
    robust = robust_commitment(leader, follower, margin=1.0)
    assert robust.leader_value == pytest.approx(27.0, abs=1e-8)
    assert robust.value_loss == pytest.approx(0.5, abs=1e-8)


def test_knife_edge_against_a_learning_follower():
    # At the SSE strategy of F4 the follower is exactly indifferent; Hedge from a uniform
    # start never leaves uniform, and the leader gets 1.5, far below V_SSE = 2.5. The
    # margin-robust strategy is attained up to range(L) * regret / margin.
    leader, follower = setting_games.conitzer().payoffs
    sse = strong_stackelberg(leader, follower)
    on_edge, _ = hedge_follower_average(sse.leader_strategy, leader, follower, 2000)
    assert on_edge == pytest.approx(1.5, abs=1e-6)
    robust = robust_commitment(leader, follower, margin=0.2)
    average, regret = hedge_follower_average(robust.leader_strategy, leader, follower, 2000)
    assert regret >= 0
    assert average >= robust.leader_value - np.ptp(leader) * regret / 0.2 - 1e-9
    assert average > 2.2


def test_robust_commitment_rejects_an_unreachable_margin():
    # Two identical columns: neither can ever be a strict best response.
    leader = np.array([[1.0, 2.0], [3.0, 4.0]])
    follower = np.array([[1.0, 1.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="largest attainable margin is 0"):
        robust_commitment(leader, follower, margin=0.1)
    with pytest.raises(ValueError, match="margin must be a non-negative finite number, got -1"):
        robust_commitment(leader, follower, margin=-1)


def test_robust_commitment_single_follower_action():
    robust = robust_commitment([[1.0], [3.0]], [[0.0], [5.0]], margin=10.0)
    assert robust.leader_value == pytest.approx(3.0)
    assert robust.follower_advantage == np.inf
    assert robust.value_loss_bound == 0.0


# ----------------------------------------------------------------------------- tolerances


def test_best_response_tolerance_flip():
    follower = np.array([[1.0, 1.0 + 1e-8], [0.0, 0.0]])
    x = np.array([1.0, 0.0])
    assert follower_best_responses(follower, x, tol=1e-9) == [1]
    assert follower_best_responses(follower, x, tol=1e-7) == [0, 1]


def test_pure_commitment_tolerance_flip():
    # Row 0: the follower prefers column 1 by 1e-10. With tol 0 it plays column 1 (leader
    # gets 0); within tol 1e-9 it is a tie, broken for the leader (column 0, leader gets 5).
    # The tolerance is relative to the follower's range, which F[1, 1] = 1 makes 1.
    leader = np.array([[5.0, 0.0], [1.0, 1.0]])
    follower = np.array([[0.0, 1e-10], [0.0, 1.0]])
    assert pure_commitment(leader, follower, tol=0.0).leader_value == 1.0
    assert pure_commitment(leader, follower, tol=1e-9).leader_value == 5.0


def test_sse_recheck_raises_when_the_lp_answer_is_wrong(monkeypatch):
    # Make every column LP return the pure row 0: in F4 column 1 is then not a best response.
    monkeypatch.setattr(sb, "solve_lp", lambda *a, **k: np.array([1.0, 0.0]))
    with pytest.raises(RuntimeError, match="re-check failed: follower action 1"):
        strong_stackelberg([[0.0, 3.0], [0.0, 2.0]], [[1.0, 0.0], [0.0, 1.0]])


def test_sse_recheck_tolerance_flip(monkeypatch):
    # F4's SSE point moved by 1e-6 off the edge: the follower loses 2e-6 by playing
    # column 1; rejected at tol 1e-7, accepted at tol 1e-5.
    answer = np.array([0.5 + 1e-6, 0.5 - 1e-6])
    monkeypatch.setattr(sb, "solve_lp", lambda *a, **k: answer.copy())
    leader, follower = setting_games.conitzer().payoffs
    with pytest.raises(RuntimeError, match="below the best response value"):
        strong_stackelberg(leader, follower, tol=1e-7)
    assert strong_stackelberg(leader, follower, tol=1e-5).follower_action == 1


# ----------------------------------------------------------------------------- bad input


def test_bad_input_errors():
    with pytest.raises(
        ValueError, match=r"leader_payoffs must be a non-empty \[m, k\] matrix, got shape \(3,\)"
    ):
        strong_stackelberg([1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match=r"same shape, got \(2, 2\) and \(2, 3\)"):
        strong_stackelberg(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="follower_payoffs must be finite, got nan"):
        pure_commitment([[1.0]], [[np.nan]])
    with pytest.raises(TypeError, match="leader_payoffs must be a numeric array"):
        strong_stackelberg([["a"]], [[1]])
    with pytest.raises(ValueError, match=r"x must sum to 1, got total 0\.5"):
        follower_best_responses([[1, 0], [0, 1]], [0.25, 0.25])
    with pytest.raises(ValueError, match=r"x must have shape \(2,\), got \(3,\)"):
        follower_best_responses([[1, 0], [0, 1]], [0.5, 0.25, 0.25])
    leaders, followers = [np.zeros((2, 2))] * 2, [np.zeros((2, 2))] * 2
    with pytest.raises(ValueError, match=r"type_probs must sum to 1, got total 0\.9"):
        bayesian_stackelberg(leaders, followers, [0.5, 0.4])
    with pytest.raises(
        ValueError, match=r"type_probs must be non-negative, got minimum entry -0\.5"
    ):
        bayesian_stackelberg(leaders, followers, [1.5, -0.5])
    with pytest.raises(ValueError, match=r"type_probs must have shape \(2,\), got \(3,\)"):
        bayesian_stackelberg(leaders, followers, [0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="one matrix per type, got 2 and 1"):
        bayesian_stackelberg(leaders, followers[:1], [0.5, 0.5])
    with pytest.raises(ValueError, match="leader's 2 rows, type 1 has 3"):
        bayesian_stackelberg(
            [np.zeros((2, 2)), np.zeros((3, 2))], [np.zeros((2, 2)), np.zeros((3, 2))], [0.5, 0.5]
        )
    with pytest.raises(
        ValueError, match=r"type 0: leader and follower matrices must have the same shape"
    ):
        bayesian_stackelberg([np.zeros((2, 2))], [np.zeros((2, 3))], [1.0])
    with pytest.raises(ValueError, match="method must be 'dobss' or 'enumerate', got 'milp'"):
        bayesian_stackelberg(leaders, followers, [0.5, 0.5], method="milp")
    with pytest.raises(ValueError, match=r"enumeration would solve 4 LPs .* max_profiles = 3"):
        bayesian_stackelberg(leaders, followers, [0.5, 0.5], method="enumerate", max_profiles=3)
    with pytest.raises(TypeError, match="sequence of \\[m, k_t\\] matrices, got float"):
        bayesian_stackelberg(1.0, 1.0, [1.0])
    with pytest.raises(TypeError, match="not a game and a matrix"):
        correlated_commitment(fx.chicken(), np.zeros((2, 2)))
    with pytest.raises(TypeError, match="got list alone"):
        correlated_commitment([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"leader must be a player index in \[0, 2\), got 2"):
        correlated_commitment(fx.chicken(), leader=2)
