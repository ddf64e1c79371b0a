"""Follower response algorithms: the paper's MW exactly, the other learners, the oracle."""

import itertools
import math

import numpy as np
import pytest

from stackelberg_zoo.envs.core import Outcome
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp import (
    BestResponse,
    Exp3Response,
    FollowerSpec,
    HedgeResponse,
    MultiplicativeWeightsResponse,
    NoPureEquilibriumError,
    RegretMatchingResponse,
    StackelbergPOMDP,
    response_algorithm,
)
from stackelberg_zoo.envs.pomdp.followers import pure_bayes_nash
from stackelberg_zoo.envs.pomdp.followers.mw import MultiplicativeWeightsBank
from stackelberg_zoo.equilibrium.games import BayesianGame
from stackelberg_zoo.equilibrium.gaps import bne_gap
from stackelberg_zoo.equilibrium.learners import MultiplicativeWeights


def run_episode(pomdp, policy, seed=0):
    """Play one episode with ``policy(observation) -> action``; return (return, last info)."""
    observation, _ = pomdp.reset(np.random.default_rng(seed))
    total = 0.0
    while True:
        step = pomdp.step(policy(observation))
        total += step.reward
        observation = step.observation
        if step.terminated:
            return total, pomdp.report


# -- the paper's multiplicative weights, exactly ------------------------------------------------


@pytest.mark.parametrize("row", [0, 1, 2])
@pytest.mark.parametrize("eps", [0.01, 0.2])
def test_mw_weights_match_the_closed_form_on_escape(row, eps):
    # Leader fixed on `row`. A sweep draws the follower's current column and then queries
    # every column b once (3 queries), each with gain u_f(row, b): the leader's row does not
    # depend on anything. 100 queries = 33 complete sweeps + 1 query of a partial sweep, which
    # is dropped. The single type's weights are therefore (1+eps)^(33 u_f(row, b)).
    game = NormalFormStackelberg("escape")
    pomdp = StackelbergPOMDP(
        game, MultiplicativeWeightsResponse(eps=eps), n_response=100, n_reward=1
    )
    run_episode(pomdp, lambda obs: row)
    expected = (1 + eps) ** (33 * game.follower_payoffs[row])
    np.testing.assert_allclose(pomdp.followers.bank.weights(0), expected[None, :], rtol=1e-12)
    assert pomdp.followers.rounds == 33


def test_mw_partial_sweep_is_not_applied():
    game = NormalFormStackelberg("escape")
    weights = []
    for n_response in (99, 100, 101):
        pomdp = StackelbergPOMDP(game, "mw", n_response=n_response, n_reward=1)
        run_episode(pomdp, lambda obs: 0)
        weights.append(pomdp.followers.bank.weights(0))
    np.testing.assert_array_equal(weights[0], weights[1])
    np.testing.assert_array_equal(weights[0], weights[2])


def test_fast_mw_bank_equals_the_equilibrium_learner():
    rng = np.random.default_rng(3)
    spec = FollowerSpec((3, 2), (4, 3), np.full((3, 2), 1 / 6))
    eps = 0.07
    bank = MultiplicativeWeightsBank(spec, eps)
    reference = [MultiplicativeWeights((3,), 4, eps=eps), MultiplicativeWeights((2,), 3, eps=eps)]
    for _ in range(300):
        i = int(rng.integers(2))
        t = int(rng.integers(spec.n_types[i]))
        gains = rng.uniform(-1, 2, spec.n_actions[i])
        full = np.zeros((spec.n_types[i], spec.n_actions[i]))
        full[t] = gains
        mask = np.zeros(spec.n_types[i], dtype=bool)
        mask[t] = True
        np.testing.assert_allclose(bank.row(i, t), reference[i].strategy()[t], atol=1e-13)
        bank.update(i, t, gains)
        reference[i].update(full, mask)
    for i, learner in enumerate(reference):
        np.testing.assert_allclose(bank.strategy(i), learner.strategy(), atol=1e-13)
        np.testing.assert_allclose(bank.regret(i), learner.regret(), atol=1e-10)
        np.testing.assert_array_equal(bank.greedy(i), learner.greedy())
        np.testing.assert_allclose(bank.cumulative_gains(i), learner.cumulative_gains, atol=1e-12)
        np.testing.assert_array_equal(bank.counts(i), learner.n_updates)
        np.testing.assert_allclose(
            bank.features(i), learner.state_features(group_ndim=1), atol=1e-13
        )
        np.testing.assert_allclose(bank.weights(i), learner.weights(), rtol=1e-12)


def test_argmax_ties_go_to_the_lowest_index():
    # Escape rows 0 and 1 give the follower u(L1, f0) = u(L1, f1): the weights of columns 0
    # and 1 stay tied, so the reward phase must play column 0.
    game = NormalFormStackelberg("escape")
    assert game.follower_payoffs[1, 0] == game.follower_payoffs[1, 1]
    pomdp = StackelbergPOMDP(game, "mw", n_response=60, n_reward=1)
    _, report = run_episode(pomdp, lambda obs: 1)
    np.testing.assert_array_equal(report.strategy[0], [[1.0, 0.0, 0.0]])


# -- learners, certificates, reward-phase play -----------------------------------------------


@pytest.mark.parametrize(
    "algorithm",
    [
        MultiplicativeWeightsResponse(eps=0.1),
        HedgeResponse(eta=0.3),
        HedgeResponse(),
        RegretMatchingResponse(),
        RegretMatchingResponse(plus=True),
    ],
    ids=["mw", "hedge-fixed", "hedge-anytime", "rm", "rm+"],
)
def test_full_information_certificate_identities(algorithm):
    from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation

    game = SimpleAllocation(n_messages=3)
    pomdp = StackelbergPOMDP(game, algorithm, n_response=600, n_reward=5)
    _, report = run_episode(pomdp, lambda message: (int(message) + 1) % 3, seed=5)
    gaps, certificate = report.gaps, report.certificate
    assert certificate.rounds == report.rounds == 200
    assert certificate.bound_kind == "deterministic"
    realised = certificate.realised_regret[0]
    # Exact identities of the realised empirical play (research/equilibrium.md 3.1).
    np.testing.assert_allclose(gaps.ex_ante[0], realised.sum() / 200, atol=1e-12)
    np.testing.assert_allclose(gaps.agent_form[0], np.maximum(realised, 0).sum() / 200, atol=1e-12)
    np.testing.assert_allclose(gaps.table[0].max(axis=1), realised / 200, atol=1e-12)
    # Deterministic bound on the learners' own regret, per type.
    assert np.all(certificate.learner_regret[0] <= certificate.bound[0] + 1e-9)
    assert certificate.type_counts[0].sum() == 200


def test_exp3_gaps_come_from_replaying_the_committed_policy():
    from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation

    game = SimpleAllocation(n_messages=2)
    pomdp = StackelbergPOMDP(game, Exp3Response(gamma=0.2), n_response=400, n_reward=5)
    _, report = run_episode(pomdp, lambda message: int(message), seed=1)
    assert report.gaps is not None, report.gaps_unavailable
    certificate = report.certificate
    assert certificate.bound_kind == "expected"
    assert np.all(np.isnan(certificate.learner_regret[0]))
    np.testing.assert_allclose(
        report.gaps.ex_ante[0], certificate.realised_regret[0].sum() / 400, atol=1e-12
    )


def test_exp3_without_the_needed_observations_reports_why():
    # The leader policy fails... it never sees message 1 if the follower never sends it;
    # with one response query only message-0 or message-1 is seen, so deviations are unknown.
    from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation

    game = SimpleAllocation(n_messages=2)
    pomdp = StackelbergPOMDP(game, Exp3Response(gamma=0.2), n_response=1, n_reward=1)
    _, report = run_episode(pomdp, lambda message: 0)
    assert report.gaps is None
    assert "never acted" in report.gaps_unavailable
    assert np.isnan(report.certificate.realised_regret[0]).all()


def test_per_type_learners_update_only_the_realised_type():
    # A prior with zero mass on type 2: its learner row must never move.
    from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation

    game = SimpleAllocation(n_messages=3, prior=[0.5, 0.5, 0.0])
    pomdp = StackelbergPOMDP(game, "mw", n_response=300, n_reward=1)
    _, report = run_episode(pomdp, lambda message: int(message), seed=2)
    counts = report.certificate.type_counts[0]
    assert counts[2] == 0 and counts.sum() == 100
    np.testing.assert_array_equal(pomdp.followers.bank.weights(0)[2], np.ones(3))
    assert np.all(pomdp.followers.bank.weights(0)[:2].max(axis=1) > 1)


def test_sample_reward_play_follows_the_final_strategy():
    game = NormalFormStackelberg("escape")
    pomdp = StackelbergPOMDP(
        game,
        MultiplicativeWeightsResponse(eps=0.01, reward_play="sample"),
        n_response=30,
        n_reward=1,
    )
    run_episode(pomdp, lambda obs: 2)
    rng = np.random.default_rng(0)
    strategy = pomdp.followers.strategy()[0][0]
    draws = [pomdp.followers.reward_actions(np.array([0]), rng)[0] for _ in range(6000)]
    frequencies = np.bincount(draws, minlength=3) / 6000
    np.testing.assert_allclose(frequencies, strategy, atol=0.03)  # > 4 standard deviations


def test_empirical_reward_play_uses_one_round_for_all_followers():
    # Two followers, and per-round strategies that are deterministic and different in every
    # round: if both followers read the same round their actions are perfectly correlated.
    from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism

    game = SequentialPriceMechanism("pi", n_messages=2)
    algorithm = MultiplicativeWeightsResponse(eps=0.01, reward_play="empirical")
    responder = algorithm.build(FollowerSpec.of(game), n_response=8)
    responder.reset(np.random.default_rng(0))
    responder._round_strategies[0][:2] = [[[1, 0], [1, 0]], [[0, 1], [0, 1]]]
    responder._round_strategies[1][:2] = [[[1, 0], [1, 0]], [[0, 1], [0, 1]]]
    responder.rounds = 2
    responder.finish()
    rng = np.random.default_rng(1)
    draws = np.array([responder.reward_actions(np.array([0, 1]), rng) for _ in range(200)])
    assert np.all(draws[:, 0] == draws[:, 1])
    assert 0 < draws[:, 0].mean() < 1
    np.testing.assert_allclose(responder.strategy()[0], [[0.5, 0.5], [0.5, 0.5]])


# -- the exhaustive best response ---------------------------------------------------------------


def brute_force_pure_bne(payoffs, prior, leader, tol=1e-9):
    """All pure Bayes-Nash plans (checked with equilibrium.gaps.bne_gap), with leader values."""
    n = payoffs.shape[0]
    n_types, n_actions = payoffs.shape[1 : 1 + n], payoffs.shape[1 + n :]
    game = BayesianGame(payoffs, prior)
    plans = [
        list(itertools.product(range(a), repeat=t)) for t, a in zip(n_types, n_actions, strict=True)
    ]
    found = []
    for profile in itertools.product(*plans):
        sigmas = [np.eye(a)[list(p)] for p, a in zip(profile, n_actions, strict=True)]
        report = bne_gap(game, sigmas)
        if np.all(np.nan_to_num(np.concatenate(report.interim), nan=-1) <= tol):
            grids = np.indices(n_types)
            acted = tuple(np.array(p)[grids[j]] for j, p in enumerate(profile))
            value = float((leader[tuple(grids) + acted] * prior).sum())
            found.append((value, profile))
    return found


@pytest.mark.parametrize("seed", range(8))
def test_pure_bayes_nash_agrees_with_brute_force_on_correlated_games(seed):
    rng = np.random.default_rng(seed)
    n_types, n_actions = (2, 2), (2, 3)
    payoffs = rng.integers(0, 4, (2,) + n_types + n_actions).astype(float)  # ties happen
    prior = rng.dirichlet(np.ones(4)).reshape(2, 2)
    leader = rng.normal(size=n_types + n_actions)
    found = brute_force_pure_bne(payoffs, prior, leader)
    if not found:
        with pytest.raises(NoPureEquilibriumError, match="no pure"):
            pure_bayes_nash(payoffs, prior, leader)
        return
    plan = pure_bayes_nash(payoffs, prior, leader)
    profile = tuple(tuple(int(a) for a in p) for p in plan)
    values = dict((p, v) for v, p in found)
    assert profile in values
    assert values[profile] == pytest.approx(max(values.values()), abs=1e-12)
    lowest = pure_bayes_nash(payoffs, prior, None)
    assert tuple(tuple(int(a) for a in p) for p in lowest) == min(p for _, p in found)


def test_pure_bayes_nash_single_follower_ties():
    payoffs = np.array([[[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]]])  # [1, T=2, A=3]
    prior = np.array([0.5, 0.5])
    leader = np.array([[0.0, 5.0, 0.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(pure_bayes_nash(payoffs, prior, leader)[0], [1, 2])
    np.testing.assert_array_equal(pure_bayes_nash(payoffs, prior, None)[0], [0, 1])


def test_matching_pennies_has_no_pure_equilibrium():
    row = np.array([[1.0, -1.0], [-1.0, 1.0]])
    payoffs = np.stack([row, -row]).reshape(2, 1, 1, 2, 2)
    with pytest.raises(NoPureEquilibriumError, match="no pure Bayes-Nash"):
        pure_bayes_nash(payoffs, np.ones((1, 1)), None)


def test_best_response_needs_every_query():
    game = NormalFormStackelberg("escape")
    with pytest.raises(ValueError, match="n_response must be at least 3, got 2"):
        StackelbergPOMDP(game, "best_response", n_response=2, n_reward=1)


def test_best_response_in_the_maintain_randomised_sse_breaks_ties_for_the_leader():
    game = NormalFormStackelberg("maintain", mixed_leader=True)
    reference = game.reference()
    mix = np.asarray(reference.optimal_policy, dtype=np.float32)
    pomdp = StackelbergPOMDP(game, BestResponse(tol=1e-6), n_response=3, n_reward=1)
    total, _ = run_episode(pomdp, lambda obs: mix)
    assert total == pytest.approx(reference.optimum, abs=1e-6)


# -- construction and bad input ------------------------------------------------------------------


def test_names_resolve_to_their_algorithms():
    assert response_algorithm("mw") == MultiplicativeWeightsResponse()
    assert response_algorithm("regret_matching_plus") == RegretMatchingResponse(plus=True)
    instance = HedgeResponse(eta=0.5)
    assert response_algorithm(instance) is instance


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: MultiplicativeWeightsResponse(eps=-0.1), ValueError, "eps .*-0.1"),
        (lambda: MultiplicativeWeightsResponse(eps=0.0), ValueError, "eps .*0.0"),
        (lambda: MultiplicativeWeightsResponse(eps=math.nan), ValueError, "eps"),
        (lambda: MultiplicativeWeightsResponse(eps="big"), TypeError, "'big'"),
        (lambda: MultiplicativeWeightsResponse(reward_play="mode"), ValueError, "'mode'"),
        (lambda: HedgeResponse(eta=-1.0), ValueError, "-1.0"),
        (lambda: RegretMatchingResponse(plus="yes"), TypeError, "'yes'"),
        (lambda: Exp3Response(gamma=1.5), ValueError, "1.5"),
        (lambda: Exp3Response(reward_bounds=(1.0, 0.0)), ValueError, r"\(1.0, 0.0\)"),
        (lambda: BestResponse(ties="random"), ValueError, "'random'"),
        (lambda: BestResponse(tol=-1.0), ValueError, "-1.0"),
        (lambda: response_algorithm("fictitious_play"), ValueError, "'fictitious_play'"),
        (lambda: response_algorithm(3), TypeError, "int"),
    ],
)
def test_bad_follower_arguments_raise_naming_the_value(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_responder_outcome_interface_is_the_games_outcome():
    # The responder reads follower utilities from core.Outcome, nothing else.
    spec = FollowerSpec((1,), (2,), np.ones(1))
    responder = MultiplicativeWeightsResponse().build(spec, n_response=2)
    rng = np.random.default_rng(0)
    responder.reset(rng)
    for utility in (0.0, 1.0):
        responder.next_query(rng)
        responder.observe(Outcome(leader=0.0, followers=np.array([utility])))
    np.testing.assert_allclose(responder.bank.weights(0), [[1.0, 1.01]])
