"""Hostile and random input for the equilibrium solvers: errors, invariants, brute force.

Three kinds of test:

* regression tests for inputs that once failed (each with its answer computed here by
  brute force, independently of the solvers' LPs);
* hypothesis fuzz tests, derandomized and bounded (``max_examples``), asserting that valid
  games get an answer (never ``RuntimeError``), bad input gets ``TypeError``/``ValueError``
  naming the argument, and the solvers' invariants hold;
* a ``slow`` test that makes many seeded solver calls and reports how many failed
  (``pytest -m slow -s tests/test_fuzz_solvers.py``). Run this file as a script to count
  on another copy of the package: ``python tests/test_fuzz_solvers.py PATH/TO/equilibrium
  [N_GAMES [SEED]]`` (an empty PATH counts on this one).

The brute-force oracle enumerates the vertices of each commitment polytope
``{x ∈ Δ : xᵀ(F_i − F_j) ≤ τ ∀ i}`` with ``numpy.linalg.solve``; it shares no code with
the LP solvers.
"""

from __future__ import annotations

import importlib
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackelberg_zoo.equilibrium import stackelberg as sb
from stackelberg_zoo.equilibrium.games import BayesianGame, NormalFormGame, bimatrix
from stackelberg_zoo.equilibrium.gaps import bcce_gap, cce_gap, ce_gap
from stackelberg_zoo.equilibrium.lp import solve_bayes_coarse, solve_cce, solve_ce, zero_sum_value

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LP_TOL = 1e-7


def _span(a) -> float:
    a = np.asarray(a, dtype=np.float64)
    width = float(a.max() - a.min())
    return width if width > 0 else 1.0


# ----------------------------------------------------------------------------- oracle


def vertex_max(objective: np.ndarray, A: np.ndarray, b: np.ndarray) -> float:
    """``max objective·x`` over ``{x ≥ 0, Σx = 1, A x ≤ b}`` by vertex enumeration."""
    m = objective.shape[0]
    rows = [(-np.eye(m)[r], 0.0) for r in range(m)] + list(zip(A, b, strict=True))
    scale = float(np.abs(A).max(initial=0.0))  # feasibility slack relative to the rows
    best = -np.inf
    for active in itertools.combinations(range(len(rows)), m - 1):
        M = np.vstack([np.ones(m)] + [rows[a][0] for a in active])
        rhs = np.array([1.0] + [rows[a][1] for a in active])
        try:
            x = np.linalg.solve(M, rhs)
        except np.linalg.LinAlgError:
            continue
        if not np.all(np.isfinite(x)) or np.any(x < -1e-9):
            continue
        if A.size and np.any(A @ x > b + 1e-11 * scale):
            continue
        best = max(best, float(objective @ x))
    return best


def brute_force_sse(leader, follower, tie_tol: float = sb.TIE_TOL) -> float:
    """Strong Stackelberg value with ties within ``tie_tol · range(F)``, by vertices."""
    leader, follower = np.asarray(leader, float), np.asarray(follower, float)
    tau = tie_tol * _span(follower)
    k = leader.shape[1]
    values = []
    for j in range(k):
        others = [i for i in range(k) if i != j]
        A = (follower[:, others] - follower[:, [j]]).T
        values.append(vertex_max(leader[:, j], A, np.full(len(others), tau)))
    return max(values)


def brute_force_bayes(leaders, followers, probs, tie_tol: float = sb.TIE_TOL) -> float:
    """Bayesian strong Stackelberg value: every response profile, by vertices."""
    best = -np.inf
    for profile in itertools.product(*(range(f.shape[1]) for f in followers)):
        blocks, rhs = [], []
        for follow, j in zip(followers, profile, strict=True):
            others = [i for i in range(follow.shape[1]) if i != j]
            blocks.append((follow[:, others] - follow[:, [j]]).T)
            rhs.append(np.full(len(others), tie_tol * _span(follow)))
        objective = sum(p * lead[:, j] for p, lead, j in zip(probs, leaders, profile, strict=True))
        best = max(best, vertex_max(objective, np.concatenate(blocks), np.concatenate(rhs)))
    return best


def exact_pure_values(leader, follower) -> np.ndarray:
    """Per row, the leader's value when the follower plays an exact best response."""
    leader, follower = np.asarray(leader, float), np.asarray(follower, float)
    best = follower == follower.max(axis=1, keepdims=True)
    return np.where(best, leader, -np.inf).max(axis=1)


# ----------------------------------------------------------------------------- regressions


def test_sse_near_tie_one_row():
    # One row: the follower strictly prefers column 1 (1e-7 is its whole payoff range), so
    # the leader gets 0. This once raised RuntimeError (an absolute re-check tolerance).
    result = sb.strong_stackelberg([[1, 0]], [[0, 1e-7]])
    assert brute_force_sse([[1, 0]], [[0, 1e-7]]) == 0.0
    assert result.leader_value == 0.0
    assert result.follower_action == 1


def test_sse_near_tie_large_range():
    # At row 0 column 1 beats column 0 by 0.01 in a range of 2e5 (5e-8 relative): no tie,
    # so column 0 (worth 5 to the leader) is a best response to no strategy. SSE = 1.
    leader = [[5, 1, 0], [0, 0, 0]]
    follower = [[100, 100.01, -2e5], [0, 1, 0]]
    expected = brute_force_sse(leader, follower)
    assert expected == pytest.approx(1.0, abs=1e-12)
    result = sb.strong_stackelberg(leader, follower)
    assert result.leader_value == pytest.approx(expected, abs=1e-9)
    assert result.follower_action == 1
    assert np.isneginf(result.per_action_values[0])


def test_near_ties_reach_the_normal_form_env_reference():
    normal_form = pytest.importorskip("stackelberg_zoo.envs.normal_form.game")
    leader = [[5, 1, 0], [0, 0, 0]]
    follower = [[100, 100.01, -2e5], [0, 1, 0]]
    game = normal_form.NormalFormStackelberg(
        leader_payoffs=leader, follower_payoffs=follower, mixed_leader=True, normalize=False
    )
    reference = game.reference()
    assert reference.baselines["strong_stackelberg"] == pytest.approx(1.0, abs=1e-9)
    assert reference.optimum == pytest.approx(1.0, abs=1e-9)


def test_dobss_big_m_range_agrees_with_enumeration():
    # Follower payoffs spanning 1e7: column 1 beats column 0 at row 1 by 4 (4e-7 of the
    # range, below HiGHS's MILP feasibility tolerance). DOBSS once picked column 0 and
    # raised "infeasible LP"; now its answer is certified and both methods give 0.
    leaders, followers, probs = [[[0, 0], [0, 0]]], [[[-1e7, 0], [-2, 2]]], [1.0]
    expected = brute_force_bayes(
        [np.array(leaders[0], float)], [np.array(followers[0], float)], probs
    )
    assert expected == 0.0
    for method in ("dobss", "enumerate"):
        result = sb.bayesian_stackelberg(leaders, followers, probs, method=method)
        assert result.leader_value == pytest.approx(expected, abs=1e-9)
        assert result.follower_actions == (1,)


def test_bayesian_tie_break_per_type_below_the_objective_scale():
    # Type 1's follower is indifferent between columns 0 and 1; the leader prefers column 1
    # by 3e-11, far below the LP objective's resolution (type 0's leader payoff is 2e4).
    # This once raised RuntimeError in the re-check; the tie is now broken for the leader.
    leaders = [np.array([[2e4]]), np.array([[-5e-11, -2e-11, -4e-11]])]
    followers = [np.array([[-5e-6]]), np.array([[4e-5, 4e-5, -1e-5]])]
    probs = [0.1, 0.9]
    expected = brute_force_bayes(leaders, followers, probs)
    assert expected == 0.1 * 2e4 + 0.9 * -2e-11
    for method in ("dobss", "enumerate"):
        result = sb.bayesian_stackelberg(leaders, followers, probs, method=method)
        assert result.follower_actions == (0, 1)
        assert result.per_type_leader_values.tolist() == [2e4, -2e-11]
        assert result.leader_value == pytest.approx(expected, rel=1e-12)


def test_dobss_uncertifiable_answer_falls_back_to_enumeration(monkeypatch):
    # A MILP that claims more than any profile can reach is not trusted.
    leaders, followers = [[[1.0, 3.0], [0.0, 2.0]]], [[[1.0, 0.0], [0.0, 1.0]]]
    monkeypatch.setattr(sb, "_dobss", lambda *a: ((0,), np.array([1.0, 0.0]), 99.0))
    result = sb.bayesian_stackelberg(leaders, followers, [1.0])
    assert result.method == "enumerate"
    assert result.leader_value == pytest.approx(2.5, abs=1e-9)
    with pytest.raises(RuntimeError, match="could not be certified"):
        sb.bayesian_stackelberg(leaders, followers, [1.0], max_profiles=1)


def test_pure_commitment_tiny_scale_uses_the_relative_tie_rule():
    # Follower payoffs of order 1e-12: the differences are the whole range, not ties.
    leader = [[-1e-9, -1], [-2, 0], [1, -1]]
    follower = [[-1e-12, 1e-12], [4e-12, 0], [1e-12, 3e-12]]
    assert exact_pure_values(leader, follower).max() == -1.0
    pure = sb.pure_commitment(leader, follower)
    assert pure.leader_value == -1.0
    sse = sb.strong_stackelberg(leader, follower)
    assert sse.leader_value == pytest.approx(brute_force_sse(leader, follower), abs=1e-9)
    assert sse.leader_value >= pure.leader_value
    # Scaling the follower's matrix changes nothing.
    scaled = sb.pure_commitment(leader, np.array(follower) * 1e12)
    assert scaled.leader_value == pure.leader_value


def test_cce_gap_tolerances_are_validated():
    game = bimatrix([[1, 0], [0, 1]], [[1, 0], [0, 1]])
    mu = [[0.6, 0.3], [0.3, 0.0]]  # sums to 1.2
    with pytest.raises(ValueError, match="dist_tol must be a non-negative finite number, got nan"):
        cce_gap(game, mu, dist_tol=float("nan"))
    with pytest.raises(ValueError, match="dist_tol must be a non-negative finite number, got -1"):
        cce_gap(game, [[0.5, 0], [0, 0.5]], dist_tol=-1)
    with pytest.raises(TypeError, match="dist_tol must be a real number, got True"):
        ce_gap(game, [[0.5, 0], [0, 0.5]], dist_tol=True)
    with pytest.raises(TypeError, match="tol must be a real number, got '1e-9'"):
        cce_gap(game, [[0.5, 0], [0, 0.5]]).is_equilibrium(tol="1e-9")
    with pytest.raises(ValueError, match=r"mu must sum to 1, got total 1\.2"):
        cce_gap(game, mu)


def test_payoff_tables_refuse_strings_and_bools():
    with pytest.raises(TypeError, match=r"leader_payoffs must be a numeric array .*'1'"):
        sb.strong_stackelberg([["1", 0]], [[0, 1]])
    with pytest.raises(TypeError, match=r"follower_payoffs .* \(entry True\)"):
        sb.pure_commitment([[1, 0]], [[True, 0]])
    with pytest.raises(TypeError, match="payoffs must be a numeric array"):
        NormalFormGame(np.ones((2, 2, 2), dtype=bool))
    with pytest.raises(TypeError, match="payoffs must be a numeric array"):
        BayesianGame([[[[1 + 1j]]]], [[1.0]])
    with pytest.raises(TypeError, match=r"follower_payoffs\[0\] must be a numeric array"):
        sb.bayesian_stackelberg([[[0, 1]]], [[["0", 1]]], [1.0])
    with pytest.raises(ValueError, match="finite range"):
        sb.strong_stackelberg([[1e308, -1e308]], [[0, 1]])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: sb.strong_stackelberg([[1]], [[1]], tol=-1), ValueError, "^tol must be"),
        (lambda: sb.strong_stackelberg([[1]], [[1]], tie_tol=np.nan), ValueError, "tie_tol"),
        (lambda: sb.pure_commitment([[1]], [[1]], tol=True), TypeError, "^tol must be a real"),
        (lambda: sb.robust_commitment([[1]], [[1]], margin="0.1"), TypeError, "margin"),
        (lambda: sb.robust_commitment([[1]], [[1]], margin=True), TypeError, "margin"),
        (lambda: sb.follower_best_responses([[1]], [1], tol=-1e-9), ValueError, "^tol must be"),
        (lambda: sb.tie_threshold([[1]], tie_tol=-1e-9), ValueError, "^tie_tol must be"),
        (
            lambda: sb.bayesian_stackelberg([[[1]]], [[[1]]], [1.0], max_profiles=True),
            TypeError,
            "max_profiles",
        ),
        (
            lambda: sb.correlated_commitment([[1, 0]], [[0, 1]], coarse="no"),
            TypeError,
            "coarse must be a bool",
        ),
        (
            lambda: sb.correlated_commitment([[1, 0]], [[0, 1]], leader=True),
            TypeError,
            "leader must be a player index",
        ),
        (
            lambda: solve_cce(bimatrix([[1]], [[1]]), [1, 1], tol=float("inf")),
            ValueError,
            "tol must be",
        ),
        (lambda: zero_sum_value([[1]], tol="0"), TypeError, "tol must be a real"),
    ],
)
def test_bad_tolerances_and_flags_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------------- strategies


@st.composite
def payoff_matrix(draw, shape: tuple[int, int], integer: bool = False) -> np.ndarray:
    """A matrix with a random scale and, unless ``integer``, near ties at a random depth."""
    base = draw(
        st.lists(st.integers(-6, 6), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1])
    )
    matrix = np.array(base, dtype=np.float64).reshape(shape)
    if integer:
        return matrix
    scale = 10.0 ** draw(st.integers(-12, 7))
    depth = 10.0 ** draw(st.integers(-14, -1))
    noise = draw(st.lists(st.integers(-3, 3), min_size=matrix.size, max_size=matrix.size))
    return scale * (matrix + depth * np.array(noise, dtype=np.float64).reshape(shape))


@st.composite
def bimatrix_game(draw, integer: bool = False, max_rows: int = 4, max_cols: int = 4):
    m = draw(st.integers(1, max_rows))
    k = draw(st.integers(1, max_cols))
    leader = draw(payoff_matrix((m, k), integer))
    follower = draw(payoff_matrix((m, k), integer))
    return leader, follower


@st.composite
def bayesian_game(draw, integer: bool = False):
    m = draw(st.integers(1, 3))
    n_types = draw(st.integers(1, 3))
    leaders, followers = [], []
    for _ in range(n_types):
        k = draw(st.integers(1, 3))
        leaders.append(draw(payoff_matrix((m, k), integer)))
        followers.append(draw(payoff_matrix((m, k), integer)))
    weights = np.array(draw(st.lists(st.integers(0, 4), min_size=n_types, max_size=n_types)))
    if weights.sum() == 0:
        weights[0] = 1
    return leaders, followers, weights / weights.sum()


@st.composite
def normal_form_game(draw):
    n = draw(st.integers(2, 3))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(n))
    size = int(np.prod(shape))
    payoffs = []
    for _ in range(n):
        payoffs.append(draw(payoff_matrix((1, size))).reshape(shape))
    return NormalFormGame(np.stack(payoffs))


# ----------------------------------------------------------------------------- fuzz: SSE


@FUZZ
@given(bimatrix_game())
def test_fuzz_sse_answers_and_dominates_every_pure_commitment(game):
    leader, follower = game
    sse = sb.strong_stackelberg(leader, follower)  # never RuntimeError on valid input
    slack = LP_TOL * _span(leader)
    # Against exact best responses, and against the same tie rule.
    assert sse.leader_value >= exact_pure_values(leader, follower).max() - slack
    assert sse.leader_value >= sb.pure_commitment(leader, follower).leader_value - slack
    # The answer is what it says: a best response and the value recomputed.
    x, j = sse.leader_strategy, sse.follower_action
    assert x.min() >= 0 and x.sum() == pytest.approx(1.0, abs=1e-12)
    values = x @ follower
    assert values[j] >= values.max() - (sb.TIE_TOL + LP_TOL) * _span(follower)
    assert sse.leader_value == pytest.approx(float(x @ leader[:, j]), abs=1e-12 * _span(leader))


@FUZZ
@given(bimatrix_game(integer=True, max_rows=3, max_cols=3))
def test_fuzz_sse_equals_brute_force_on_integer_games(game):
    leader, follower = game
    sse = sb.strong_stackelberg(leader, follower)
    assert sse.leader_value == pytest.approx(brute_force_sse(leader, follower), abs=1e-7)


@FUZZ
@given(bimatrix_game(max_rows=3, max_cols=3), st.sampled_from([0.0, 1e-3, 0.1, 1.0]))
def test_fuzz_robust_commitment_raises_only_documented_errors(game, relative_margin):
    leader, follower = game
    margin = relative_margin * _span(follower)
    try:
        robust = sb.robust_commitment(leader, follower, margin)
    except ValueError as error:
        assert "no follower action can be made a strict best response" in str(error)
        return
    assert robust.value_loss <= robust.value_loss_bound + LP_TOL * _span(leader)
    if margin > 0:
        assert robust.follower_advantage >= margin - LP_TOL * _span(follower)


# ----------------------------------------------------------------------------- fuzz: Bayesian


@settings(FUZZ, max_examples=60)
@given(bayesian_game())
def test_fuzz_dobss_and_enumeration_agree(game):
    leaders, followers, probs = game
    dobss = sb.bayesian_stackelberg(leaders, followers, probs, method="dobss")
    enum = sb.bayesian_stackelberg(leaders, followers, probs, method="enumerate")
    scale = _span(np.concatenate([lead.ravel() for lead in leaders]))
    assert dobss.leader_value == pytest.approx(enum.leader_value, abs=1e-6 * scale)


@settings(FUZZ, max_examples=30)
@given(bayesian_game(integer=True))
def test_fuzz_bayesian_equals_brute_force_on_integer_games(game):
    leaders, followers, probs = game
    expected = brute_force_bayes(leaders, followers, probs)
    for method in ("dobss", "enumerate"):
        result = sb.bayesian_stackelberg(leaders, followers, probs, method=method)
        assert result.leader_value == pytest.approx(expected, abs=1e-7)


# ----------------------------------------------------------------------------- fuzz: (C)CE


@FUZZ
@given(normal_form_game(), st.sampled_from(["max", "min"]), st.booleans())
def test_fuzz_returned_cce_and_ce_are_equilibria(game, sense, coarse):
    weights = np.ones(game.n_players)
    result = (solve_cce if coarse else solve_ce)(game, weights, sense=sense)
    report = (cce_gap if coarse else ce_gap)(game, result.mu)
    for i in range(game.n_players):
        allowed = LP_TOL * max(1.0, float(np.ptp(game.payoffs[i])))
        assert report.raw[i] <= allowed
    assert result.value == pytest.approx(float(report.values.sum()), abs=1e-9 * _span(game.payoffs))


@FUZZ
@given(bimatrix_game(max_rows=3, max_cols=3), st.booleans())
def test_fuzz_correlated_commitment_constrains_the_follower(game, coarse):
    leader, follower = game
    result = sb.correlated_commitment(leader, follower, coarse=coarse)
    report = (cce_gap if coarse else ce_gap)(bimatrix(leader, follower), result.mu)
    assert report.raw[1] <= LP_TOL * max(1.0, _span(follower))
    # The SSE is a correlated commitment too (a product), so it is never above.
    sse = sb.strong_stackelberg(leader, follower).leader_value
    assert result.value >= sse - 1e-6 * _span(leader)


@settings(FUZZ, max_examples=30)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 2), st.data())
def test_fuzz_bayes_coarse_lp_is_within_tolerance(t0, t1, k, data):
    shape = (2, t0, t1, k, 2)
    flat = data.draw(payoff_matrix((1, int(np.prod(shape)))))
    prior = np.array(data.draw(st.lists(st.integers(1, 4), min_size=t0 * t1, max_size=t0 * t1)))
    bgame = BayesianGame(flat.reshape(shape), (prior / prior.sum()).reshape(t0, t1))
    result = solve_bayes_coarse(bgame, [1, 1])
    report = bcce_gap(bgame, result.mu)
    for i in range(2):
        allowed = LP_TOL * max(1.0, float(np.ptp(bgame.payoffs[i])))
        assert report.table[i].max() <= allowed


# ----------------------------------------------------------------------------- fuzz: hostile


HOSTILE_ENTRIES = st.sampled_from(
    [float("nan"), float("inf"), -float("inf"), "1", "abc", True, False, 1 + 2j, None, [1, 2]]
)


@FUZZ
@given(bimatrix_game(max_rows=2, max_cols=2), HOSTILE_ENTRIES, st.booleans(), st.integers(0, 5))
def test_fuzz_hostile_payoffs_get_type_or_value_errors(game, entry, in_leader, call):
    leader, follower = (np.asarray(a).tolist() for a in game)
    target = leader if in_leader else follower
    target[0][0] = entry
    name = "leader_payoffs" if in_leader else "follower_payoffs"
    calls = [
        lambda: sb.pure_commitment(leader, follower),
        lambda: sb.strong_stackelberg(leader, follower),
        lambda: sb.robust_commitment(leader, follower, 0.0),
        lambda: sb.correlated_commitment(leader, follower),
        lambda: sb.bayesian_stackelberg([leader], [follower], [1.0]),
        lambda: sb.follower_best_responses(follower, [1.0] + [0.0] * (len(follower) - 1)),
    ]
    with pytest.raises((TypeError, ValueError)) as info:
        calls[call]()
    assert name.split("_")[0] in str(info.value) or "payoffs" in str(info.value)


@FUZZ
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda t: not t >= 0 or t == np.inf),
        st.booleans(),
        st.text(max_size=3),
        st.none(),
        st.complex_numbers(),
    )
)
def test_fuzz_hostile_tolerances_are_refused(tol):
    game = bimatrix([[1, 0], [0, 1]], [[1, 0], [0, 1]])
    for name, call in (
        ("tol", lambda: sb.strong_stackelberg([[1, 0]], [[0, 1]], tol=tol)),
        ("tie_tol", lambda: sb.strong_stackelberg([[1, 0]], [[0, 1]], tie_tol=tol)),
        ("tie_tol", lambda: sb.bayesian_stackelberg([[[1, 0]]], [[[0, 1]]], [1.0], tie_tol=tol)),
        ("tol", lambda: sb.pure_commitment([[1, 0]], [[0, 1]], tol=tol)),
        ("dist_tol", lambda: cce_gap(game, [[0.5, 0], [0, 0.5]], dist_tol=tol)),
        ("tol", lambda: solve_ce(game, [1, 1], tol=tol)),
    ):
        with pytest.raises((TypeError, ValueError), match=f"^{name} must be"):
            call()


# ----------------------------------------------------------------------------- counts


def count_failures(module, n_games: int, seed: int = 0) -> tuple[int, int, dict[str, int]]:
    """Run the solvers of ``module`` (a ``stackelberg`` module) on seeded random games.

    Games are small (1-4 rows and columns, 1-3 types) with near ties at random depths and
    scales, like the hypothesis strategies above. Returns ``(calls, failures, by_kind)``;
    a failure is any exception on valid input, or DOBSS and enumeration disagreeing by
    more than ``1e-6`` of the leader's range.
    """
    rng = np.random.default_rng(seed)

    def matrix(shape):
        scale = 10.0 ** rng.integers(-12, 8)
        depth = 10.0 ** rng.integers(-14, 0)
        base = rng.integers(-6, 7, size=shape).astype(float)
        return scale * (base + depth * rng.integers(-3, 4, size=shape))

    calls, failures, kinds = 0, 0, {}

    def record(kind):
        nonlocal failures
        failures += 1
        kinds[kind] = kinds.get(kind, 0) + 1

    for _ in range(n_games):
        m, k = rng.integers(1, 5, size=2)
        leader, follower = matrix((m, k)), matrix((m, k))
        for name in ("pure_commitment", "strong_stackelberg"):
            calls += 1
            try:
                getattr(module, name)(leader, follower)
            except Exception as error:  # counting every failure is the point
                record(f"{name}: {type(error).__name__}")
        n_types, rows = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        shapes = [(rows, int(rng.integers(1, 4))) for _ in range(n_types)]
        leaders = [matrix(s) for s in shapes]
        followers = [matrix(s) for s in shapes]
        probs = rng.dirichlet(np.ones(n_types))
        values = {}
        for method in ("dobss", "enumerate"):
            calls += 1
            try:
                values[method] = module.bayesian_stackelberg(
                    leaders, followers, probs, method=method
                ).leader_value
            except Exception as error:
                record(f"bayesian_stackelberg[{method}]: {type(error).__name__}")
        if len(values) == 2:
            scale = _span(np.concatenate([lead.ravel() for lead in leaders]))
            if abs(values["dobss"] - values["enumerate"]) > 1e-6 * scale:
                record("dobss != enumerate")
    return calls, failures, kinds


@pytest.mark.slow
def test_fuzz_counts_many_seeded_calls():
    calls, failures, kinds = count_failures(sb, n_games=4350)
    print(f"\nsolver fuzz: {calls} calls, {failures} failures {kinds}")
    assert calls == 17_400
    assert failures == 0, kinds


if __name__ == "__main__":  # python tests/test_fuzz_solvers.py [DIR [N_GAMES [SEED]]]
    package_dir = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 and sys.argv[1] else None
    if package_dir is not None:
        sys.path.insert(0, str(package_dir.parent))
        module = importlib.import_module(f"{package_dir.name}.stackelberg")
    else:
        module = sb
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4350
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    calls, failures, kinds = count_failures(module, n_games=n, seed=seed)
    print(f"{module.__file__}: {calls} calls, {failures} failures {kinds}")
