"""Exact regret identities (research notes §3.1, §8 items 1-4), at tolerance 1e-9.

Complete information: the CCE gap of the empirical joint distribution equals each player's
average external regret (the mixture of products with expected feedback; the sampled
profiles with realised regret). Bayesian, per-(player, type) learners updated only at the
realised type: the ex-ante gap equals Σ_θ R_θ / T and the agent-form gap Σ_θ max(0, R_θ) / T,
correlated priors included.
"""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackelberg_zoo.equilibrium.bounds import per_type_bound, per_type_tuned_eta
from stackelberg_zoo.equilibrium.distributions import bayes_product
from stackelberg_zoo.equilibrium.dynamics import run_bayesian_selfplay, run_selfplay
from stackelberg_zoo.equilibrium.games import BayesianGame, NormalFormGame, bimatrix
from stackelberg_zoo.equilibrium.gaps import bcce_gap, cce_gap
from stackelberg_zoo.equilibrium.learners import (
    Exp3,
    Hedge,
    MultiplicativeWeights,
    OptimisticHedge,
    RegretMatching,
)

TOL = 1e-9

LEARNERS = {
    "hedge": functools.partial(Hedge, eta=0.4),
    "hedge_anytime": functools.partial(Hedge, eta="anytime"),
    "mw": functools.partial(MultiplicativeWeights, eps=0.3),
    "rm": RegretMatching,
    "rm_plus": functools.partial(RegretMatching, plus=True),
    "optimistic": functools.partial(OptimisticHedge, eta=0.4),
}


@st.composite
def normal_form_games(draw):
    n_players = draw(st.integers(2, 3))
    n_actions = tuple(draw(st.integers(2, 5 if n_players == 2 else 3)) for _ in range(n_players))
    size = n_players * int(np.prod(n_actions))
    values = draw(st.lists(st.integers(-5, 5), min_size=size, max_size=size))
    scale = draw(st.sampled_from([1.0, 0.1, 7.5]))
    return NormalFormGame(scale * np.array(values, dtype=float).reshape((n_players,) + n_actions))


def _initial_gains(rng, n_actions):
    # An asymmetric start: from uniform, symmetric games can stay put forever.
    return rng.random(n_actions)


@given(
    game=normal_form_games(),
    name=st.sampled_from(sorted(LEARNERS)),
    rounds=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=80, deadline=None)
def test_cce_gap_of_mixture_equals_average_regret(game, name, rounds, seed):
    rng = np.random.default_rng(seed)
    learners = []
    for a in game.n_actions:
        learner = LEARNERS[name]((), a)
        learner.update(_initial_gains(rng, a))
        learner.reset()  # a used learner must be reset before self-play
        learners.append(learner)
    trace = run_selfplay(game, learners, rounds, feedback="expected")
    report = cce_gap(game, trace.mu)
    np.testing.assert_allclose(report.raw, trace.regrets / rounds, rtol=0, atol=TOL)
    assert trace.realised_regrets is None
    assert trace.n_rounds == rounds


@given(game=normal_form_games(), seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 40))
@settings(max_examples=40, deadline=None)
def test_mw_and_hedge_with_initial_weights_identity(game, seed, rounds):
    rng = np.random.default_rng(seed)
    learners = [
        MultiplicativeWeights((), a, eps=0.5, initial_gains=_initial_gains(rng, a))
        if i % 2 == 0
        else Hedge((), a, eta=1.0, initial_gains=_initial_gains(rng, a))
        for i, a in enumerate(game.n_actions)
    ]
    trace = run_selfplay(game, learners, rounds)
    np.testing.assert_allclose(cce_gap(game, trace.mu).raw, trace.regrets / rounds, atol=TOL)


@given(
    game=normal_form_games(),
    name=st.sampled_from(sorted(LEARNERS)),
    rounds=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_realised_cce_gap_equals_realised_regret(game, name, rounds, seed):
    rng = np.random.default_rng(seed)
    learners = [LEARNERS[name]((), a) for a in game.n_actions]
    trace = run_selfplay(game, learners, rounds, feedback="sampled", rng=rng)
    np.testing.assert_allclose(
        cce_gap(game, trace.mu).raw, trace.realised_regrets / rounds, rtol=0, atol=TOL
    )
    # Recompute the realised regret from the recorded actions alone.
    for i in range(game.n_players):
        others = [trace.actions[:, j] for j in range(game.n_players) if j != i]
        tensor = np.moveaxis(game.payoffs[i], i, 0)
        per_round = tensor[(slice(None),) + tuple(others)]  # [A_i, T]
        played = per_round[trace.actions[:, i], np.arange(rounds)].sum()
        assert trace.realised_regrets[i] == pytest.approx(per_round.sum(axis=1).max() - played)


@given(game=normal_form_games(), seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 40))
@settings(max_examples=40, deadline=None)
def test_bandit_selfplay_realised_identity(game, seed, rounds):
    rng = np.random.default_rng(seed)
    low, high = game.payoffs.min(), game.payoffs.max()
    if low == high:
        high = low + 1.0
    learners = [Exp3((), a, gamma=0.2, reward_bounds=(low, high)) for a in game.n_actions]
    trace = run_selfplay(game, learners, rounds, feedback="bandit", rng=rng)
    np.testing.assert_allclose(
        cce_gap(game, trace.mu).raw, trace.realised_regrets / rounds, atol=TOL
    )


def test_identity_fails_for_product_of_average_marginals():
    # The identity is about the joint mixture; averaged marginals are a different object.
    game = bimatrix([[0, 0, 1], [1, 0, 0], [0, 1, 0]], [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    learners = [
        Hedge((), 3, eta=0.5, initial_gains=[0, 2, 0]),
        Hedge((), 3, eta=0.5, initial_gains=[1, 0, 0]),
    ]
    trace = run_selfplay(game, learners, 300)
    product = np.multiply.outer(*(x.mean(axis=0) for x in trace.strategies))
    np.testing.assert_allclose(cce_gap(game, trace.mu).raw, trace.regrets / 300, atol=TOL)
    assert np.max(np.abs(cce_gap(game, product).raw - trace.regrets / 300)) > 1e-3


# -- Bayesian -------------------------------------------------------------------------------


def first_price_auction() -> BayesianGame:
    """Fixture F15: 2 bidders, values {1, 3}, bids {0, 1, 2}, ties split, correlated prior."""
    values, bids = (1.0, 3.0), (0, 1, 2)
    payoffs = np.zeros((2, 2, 2, 3, 3))
    for t0, t1, b0, b1 in np.ndindex(2, 2, 3, 3):
        value, bid = (values[t0], values[t1]), (bids[b0], bids[b1])
        for i in range(2):
            if bid[i] > bid[1 - i]:
                payoffs[i, t0, t1, b0, b1] = value[i] - bid[i]
            elif bid[i] == bid[1 - i]:
                payoffs[i, t0, t1, b0, b1] = (value[i] - bid[i]) / 2
    return BayesianGame(payoffs, [[0.4, 0.1], [0.1, 0.4]])


def _check_bayes_identities(bgame, trace):
    report = bcce_gap(bgame, trace.mu)
    T = trace.n_rounds
    ex_ante = np.array([r.sum() / T for r in trace.mu_regrets])
    agent_form = np.array([np.maximum(r, 0).sum() / T for r in trace.mu_regrets])
    np.testing.assert_allclose(report.ex_ante, ex_ante, rtol=0, atol=TOL)
    np.testing.assert_allclose(report.agent_form, agent_form, rtol=0, atol=TOL)
    for i in range(bgame.n_players):
        # Per type: the ex-ante weighted best deviation gain is R_θ / T.
        np.testing.assert_allclose(report.table[i].max(axis=1), trace.mu_regrets[i] / T, atol=TOL)
        np.testing.assert_array_equal(
            trace.type_counts[i], np.bincount(trace.types[:, i], minlength=bgame.n_types[i])
        )
    return report


@pytest.mark.parametrize("feedback", ["expected", "sampled"])
def test_f15_auction_identities_and_agent_form_bound(feedback):
    game = first_price_auction()
    T, K, n, delta = 2000, 2, 3, game.payoff_range(0)
    assert delta == 3.0
    eta = per_type_tuned_eta(T, K, n, delta)
    trace = run_bayesian_selfplay(
        game, functools.partial(Hedge, eta=eta), T, feedback, np.random.default_rng(0)
    )
    report = _check_bayes_identities(game, trace)
    assert np.all(report.agent_form >= report.ex_ante - TOL)
    bound = per_type_bound(T, [0.5, 0.5], n, delta, eta=eta)
    assert bound == pytest.approx(0.0703, abs=1e-4)
    assert np.all(report.agent_form <= bound)
    if feedback == "expected":  # deterministic given the type draws
        np.testing.assert_allclose(report.agent_form, 0.035, atol=0.005)


@st.composite
def bayesian_games(draw):
    n_types = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    n_actions = (draw(st.integers(2, 3)), draw(st.integers(2, 3)))
    size = 2 * int(np.prod(n_types)) * int(np.prod(n_actions))
    values = draw(st.lists(st.integers(-4, 4), min_size=size, max_size=size))
    weights = draw(
        st.lists(st.integers(0, 5), min_size=int(np.prod(n_types)), max_size=int(np.prod(n_types)))
    )
    if sum(weights) == 0:
        weights[0] = 1
    prior = np.array(weights, dtype=float).reshape(n_types) / sum(weights)
    payoffs = np.array(values, dtype=float).reshape((2,) + n_types + n_actions)
    return BayesianGame(payoffs, prior)


@given(
    bgame=bayesian_games(),
    name=st.sampled_from(sorted(LEARNERS)),
    feedback=st.sampled_from(["expected", "sampled"]),
    rounds=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_bayesian_identities_on_random_correlated_games(bgame, name, feedback, rounds, seed):
    trace = run_bayesian_selfplay(
        bgame, LEARNERS[name], rounds, feedback, np.random.default_rng(seed)
    )
    _check_bayes_identities(bgame, trace)


@given(game=normal_form_games(), name=st.sampled_from(sorted(LEARNERS)), seed=st.integers(0, 99))
@settings(max_examples=30, deadline=None)
def test_one_type_per_player_reduces_to_plain_cce(game, name, seed):
    bgame = BayesianGame.from_normal_form(game)
    rounds = 25
    trace = run_bayesian_selfplay(bgame, LEARNERS[name], rounds, rng=np.random.default_rng(seed))
    plain = run_selfplay(game, [LEARNERS[name]((), a) for a in game.n_actions], rounds)
    np.testing.assert_allclose(trace.mu.reshape(game.n_actions), plain.mu, atol=1e-12)
    report = bcce_gap(bgame, trace.mu)
    cce = cce_gap(game, plain.mu).raw
    np.testing.assert_allclose(report.ex_ante, cce, atol=TOL)
    np.testing.assert_allclose(report.agent_form, np.maximum(cce, 0), atol=TOL)


def test_prior_based_device_at_one_round_is_the_initial_profile():
    game = first_price_auction()
    rng = np.random.default_rng(3)
    starts = [rng.random((2, 3)), rng.random((2, 3))]
    factories = [lambda shape, n, g=g: Hedge(shape, n, eta=1.0, initial_gains=g) for g in starts]
    trace = run_bayesian_selfplay(game, factories, 1, rng=rng, prior_based=True)
    sigmas = [np.exp(g) / np.exp(g).sum(axis=1, keepdims=True) for g in starts]
    np.testing.assert_allclose(trace.mu_prior_based, bayes_product(game.prior, sigmas), atol=1e-12)


def test_selfplay_input_errors():
    game = bimatrix([[1, 0], [0, 1]], [[1, 0], [0, 1]])
    hedge = functools.partial(Hedge, eta=0.1)
    with pytest.raises(ValueError, match=r"feedback must be one of.*'noisy'"):
        run_selfplay(game, [hedge((), 2), hedge((), 2)], 5, feedback="noisy")
    with pytest.raises(TypeError, match=r"rng must be a np\.random\.Generator.*got 3"):
        run_selfplay(game, [hedge((), 2), hedge((), 2)], 5, feedback="sampled", rng=3)
    with pytest.raises(ValueError, match=r"need one learner per player \(2\), got 1"):
        run_selfplay(game, [hedge((), 2)], 5)
    with pytest.raises(ValueError, match=r"batch_shape \(\) and 2 actions, got \(\) and 3"):
        run_selfplay(game, [hedge((), 2), hedge((), 3)], 5)
    with pytest.raises(TypeError, match="must be a Exp3, got Hedge"):
        run_selfplay(game, [hedge((), 2), hedge((), 2)], 5, "bandit", np.random.default_rng())
    with pytest.raises(ValueError, match="T must be at least 1, got 0"):
        run_selfplay(game, [hedge((), 2), hedge((), 2)], 0)
    used = hedge((), 2)
    used.update([1.0, 0.0])
    with pytest.raises(ValueError, match="already been updated"):
        run_selfplay(game, [used, hedge((), 2)], 5)
    bgame = BayesianGame.from_normal_form(game)
    with pytest.raises(ValueError, match="'bandit'"):
        run_bayesian_selfplay(bgame, hedge, 5, "bandit", np.random.default_rng())
    with pytest.raises(TypeError, match=r"rng must be a np\.random\.Generator"):
        run_bayesian_selfplay(bgame, hedge, 5)
    with pytest.raises(TypeError, match="make_learner"):
        run_bayesian_selfplay(bgame, [hedge], 5, rng=np.random.default_rng())
    with pytest.raises(TypeError, match="BayesianGame"):
        run_bayesian_selfplay(game, hedge, 5, rng=np.random.default_rng())
