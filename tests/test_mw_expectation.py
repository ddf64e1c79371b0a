"""The exact-expectation form of multiplicative weights, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from stackelberg_zoo.envs.core import Outcome
from stackelberg_zoo.envs.pomdp.followers import FollowerSpec, MultiplicativeWeightsResponse

PENNIES = np.array([[[1.0, 0.0], [0.0, 0.5]], [[0.0, 1.0], [1.0, 0.0]]])  # [i, a0, a1]
"""Asymmetric matching pennies: follower 0 wants to match, follower 1 to mismatch."""


def test_expectation_mw_update_by_hand():
    """One update from uniform weights: gains are expectations over the other's uniform row."""
    spec = FollowerSpec((1, 1), (2, 2), np.ones((1, 1)))
    algorithm = MultiplicativeWeightsResponse(eps=0.1, form="expectation")
    responder = algorithm.build(spec, 8)
    rng = np.random.default_rng(0)
    responder.reset(rng)
    seen = []
    for _ in range(4):
        _, actions = responder.next_query(rng)
        seen.append(tuple(actions.tolist()))
        responder.observe(Outcome(0.0, PENNIES[(slice(None),) + seen[-1]]))
    assert seen == [(0, 0), (0, 1), (1, 0), (1, 1)] and responder.rounds == 1
    g0 = np.array([0.5, 0.25])  # follower 0 against a uniform follower 1
    expected = 1.1**g0 / (1.1**g0).sum()
    np.testing.assert_allclose(responder.current_strategies()[0][0], expected, atol=1e-15)
    np.testing.assert_allclose(responder.current_strategies()[1][0], [0.5, 0.5], atol=1e-15)


def test_expectation_form_round_api_matches_the_query_api():
    """next_round/observe_round (the fast path's) give the same learners as the query form."""
    spec = FollowerSpec((2, 3), (2, 2), np.full((2, 3), 1 / 6))
    payoffs = np.random.default_rng(1).random((2, 2, 3, 2, 2))
    algorithm = MultiplicativeWeightsResponse(eps=0.1, form="expectation")
    by_query, by_round = algorithm.build(spec, 40), algorithm.build(spec, 40)
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    by_query.reset(rng_a)
    by_round.reset(rng_b)
    for _ in range(10):
        queries = by_round.next_round(rng_b)
        by_round.observe_round([Outcome(0.0, payoffs[(slice(None),) + q]) for q in queries])
        for _ in range(4):
            types, actions = by_query.next_query(rng_a)
            q = tuple(types.tolist()) + tuple(actions.tolist())
            by_query.observe(Outcome(0.0, payoffs[(slice(None),) + q]))
    for a, b in zip(by_query.current_strategies(), by_round.current_strategies(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert by_query.rounds == by_round.rounds == 10


def test_form_is_checked():
    with pytest.raises(ValueError, match="form"):
        MultiplicativeWeightsResponse(form="exact")
    assert MultiplicativeWeightsResponse(form="expectation").runs_batched


def test_expectation_form_report_gaps_are_its_average_regret():
    """The report's ex-ante gap of the (mixed) play equals the certificate's realised regret."""
    from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
    from stackelberg_zoo.envs.mspm.reference import mspm_reference
    from stackelberg_zoo.envs.pomdp import StackelbergPOMDP

    game = SequentialPriceMechanism("uniform", n_values=3, n_messages=2)
    policy = mspm_reference(game).optimal_policy
    followers = MultiplicativeWeightsResponse(eps=0.1, form="expectation")
    pomdp = StackelbergPOMDP(game, followers, n_response=120, n_reward=2)
    observation, _ = pomdp.reset(np.random.default_rng(3))
    while not pomdp.terminated:
        observation = pomdp.step(policy(observation)).observation
    report = pomdp.report
    assert report.rounds == 30
    certificate = report.certificate
    np.testing.assert_allclose(
        report.gaps.ex_ante, certificate.average("realised_regret"), atol=1e-12
    )
    for regret, bound in zip(certificate.learner_regret, certificate.bound, strict=True):
        assert np.all(regret <= bound + 1e-12)
