"""EXP3's reward bounds come from the setting: settings state their follower utility range.

EXP3 rescales rewards to ``[0, 1]`` with known bounds and rejects rewards outside them. Matrix
design adds payments of up to ``max_payment`` to the followers' utilities, so there the bounds
must widen; everywhere the utilities are normalised they must stay exactly ``(0.0, 1.0)``.
"""

import math
import re

import numpy as np
import pytest

from stackelberg_zoo.envs.collusion_platform.game import CollusionPlatform
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NAMED_GAMES, NormalFormStackelberg
from stackelberg_zoo.envs.pomdp import Exp3Response, FollowerSpec, StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.batched import BatchedStackelbergPOMDP
from stackelberg_zoo.envs.registry import settings
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation
from stackelberg_zoo.equilibrium.bounds import exp3_bound


def single_learners(pomdp):
    return pomdp.followers.learners


def batched_learners(pomdp):
    return [columns.learner for columns in pomdp.followers.learners]


def play(pomdp, action, seed=0):
    """One episode with a constant leader action; the end-of-response-phase report."""
    pomdp.reset(np.random.default_rng(seed))
    while not pomdp.step(action).terminated:
        pass
    return pomdp.report


# -- what the settings state -----------------------------------------------------------------


@pytest.mark.parametrize("setting", settings(), ids=lambda s: s.name)
def test_exp3_bounds_stay_zero_one_everywhere_but_matrix_design(setting):
    game = setting.make_game(**setting.default_game)
    in_force = Exp3Response().bounds_in_force(FollowerSpec.of(game))
    expected = (0.0, 11.0) if isinstance(game, MatrixDesign) else (0.0, 1.0)
    assert in_force == expected
    assert all(type(x) is float for x in in_force)


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("name", sorted(NAMED_GAMES))
def test_named_normal_form_games_keep_zero_one(name, mixed):
    assert NormalFormStackelberg(name, mixed_leader=mixed).follower_utility_bounds() == (0.0, 1.0)


def test_settings_with_normalised_utilities_state_nothing():
    assert SimpleAllocation().follower_utility_bounds() is None
    assert SequentialPriceMechanism().follower_utility_bounds() is None
    assert FollowerSpec.of(SimpleAllocation()).utility_bounds is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, (0.0, 11.0)),
        ({"max_payment": 2.5}, (0.0, 3.5)),
        ({"max_payment": 0.0}, (0.0, 1.0)),
        ({"max_payment": 2.5, "charge_payments": True}, (0.0, 3.5)),  # only the leader pays
        ({"normalize": False}, (0.0, 16.0)),  # raw entries 2..6, plus 10
        ({"payoffs": [[[-3.0, 1.0], [0.0, 2.0]], [[1.0, 0.0], [2.0, 1.5]]]}, (-1.0, 10.0 + 2 / 3)),
    ],
)
def test_matrix_design_bounds_hold_every_follower_utility(kwargs, expected):
    game = MatrixDesign(**kwargs)
    low, high = game.follower_utility_bounds()
    assert (low, high) == pytest.approx(expected, abs=1e-15)
    assert low <= 0.0 and high >= 1.0
    reached = []
    for profile in np.ndindex(*game.n_follower_actions):
        for payments in ([0.0, 0.0], [game.max_payment] * 2, [0.0, game.max_payment]):
            state = game.leader_step(game.start([0, 0], profile), np.array(payments))
            reached.extend(game.outcome(state).followers.tolist())
    assert low <= min(reached) and max(reached) <= high
    # The interval is the utilities' own range, widened to cover [0, 1], no wider.
    assert high == max(1.0, max(reached)) and low == min(0.0, min(reached))


def test_custom_normal_form_and_market_bounds_cover_their_utilities():
    table = NormalFormStackelberg(
        leader_payoffs=[[1.0, 2.0], [3.0, 4.0]], follower_payoffs=[[-2.0, 4.0], [0.5, 1.0]]
    )
    assert table.follower_utility_bounds() == (-0.5, 1.0)
    raw = NormalFormStackelberg(
        leader_payoffs=[[1.0, 2.0]], follower_payoffs=[[3.0, 6.0]], normalize=False
    )
    assert raw.follower_utility_bounds() == (0.0, 6.0)
    losses = CollusionPlatform(cost=1.3)  # prices from 1.05: the lowest sell at a loss
    low, high = losses.follower_utility_bounds()
    assert low == losses.profit_table.min() < 0.0 and high == 1.0


def test_exp3_runs_on_a_normal_form_table_with_negative_follower_payoffs():
    game = NormalFormStackelberg(
        leader_payoffs=[[1.0, 2.0], [3.0, 4.0]], follower_payoffs=[[-2.0, 4.0], [0.5, 1.0]]
    )
    pomdp = StackelbergPOMDP(game, "exp3", n_response=30, n_reward=2)
    report = play(pomdp, 0)
    assert report.rounds == 30
    assert single_learners(pomdp)[0].reward_bounds == (-0.5, 1.0)


# -- what EXP3 uses -----------------------------------------------------------------------------


def test_exp3_in_matrix_design_learns_with_the_games_bounds_and_certifies_in_them():
    game = MatrixDesign()
    gamma = 0.2
    algorithm = Exp3Response(gamma=gamma)
    pomdp = StackelbergPOMDP(game, algorithm, n_response=40, n_reward=2)
    report = play(pomdp, np.array([game.max_payment, game.max_payment], np.float32))
    assert [x.reward_bounds for x in single_learners(pomdp)] == [(0.0, 11.0)] * 2
    certificate = report.certificate
    for i in range(2):
        (count,) = certificate.type_counts[i]
        assert certificate.bound[i][0] == exp3_bound(int(count), 2, gamma, 11.0)
    batched = BatchedStackelbergPOMDP(game, 3, algorithm, n_response=40, n_reward=2)
    assert [x.reward_bounds for x in batched_learners(batched)] == [(0.0, 11.0)] * 2


def test_an_explicit_reward_bounds_wins_over_the_settings():
    algorithm = Exp3Response(reward_bounds=(-1, 20))
    game = MatrixDesign()
    single = StackelbergPOMDP(game, algorithm, n_response=20, n_reward=1)
    batched = BatchedStackelbergPOMDP(game, 2, algorithm, n_response=20, n_reward=1)
    assert [x.reward_bounds for x in single_learners(single)] == [(-1.0, 20.0)] * 2
    assert [x.reward_bounds for x in batched_learners(batched)] == [(-1.0, 20.0)] * 2
    certificate = play(single, np.array([1.0, 1.0], np.float32)).certificate
    (count,) = certificate.type_counts[0]
    assert certificate.bound[0][0] == exp3_bound(int(count), 2, 0.1, 21.0)
    assert algorithm.bounds_in_force(FollowerSpec.of(SimpleAllocation())) == (-1.0, 20.0)


def test_an_explicit_reward_bounds_too_narrow_for_the_payments_still_raises():
    pomdp = StackelbergPOMDP(
        MatrixDesign(), Exp3Response(reward_bounds=(0.0, 1.0)), n_response=10, n_reward=1
    )
    with pytest.raises(ValueError, match=r"reward_bounds \(0.0, 1.0\)"):
        play(pomdp, np.array([5.0, 5.0], np.float32))


@pytest.mark.parametrize(
    "bad", [(1.0, 0.0), (0.5, 0.5), (0.0, math.nan), (0.0, math.inf), (0.0, 1.0, 2.0), "01", 3]
)
def test_bad_bounds_raise_naming_the_value(bad):
    with pytest.raises(ValueError, match="reward_bounds must be .*got " + re.escape(repr(bad))):
        Exp3Response(reward_bounds=bad)
    with pytest.raises(ValueError, match="utility_bounds must be .*got " + re.escape(repr(bad))):
        FollowerSpec((1,), (2,), np.ones(1), utility_bounds=bad)
