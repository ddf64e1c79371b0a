"""Tabular Q-learning followers: the update in closed form, exploration, reward play, report,
and the batched kernel's tables against the single responder's, entry for entry."""

import math

import numpy as np
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.core import Outcome
from stackelberg_zoo.envs.pomdp.followers import FollowerSpec, QLearningResponse
from stackelberg_zoo.envs.pomdp.followers.q_learning import NOT_NO_REGRET
from stackelberg_zoo.envs.pomdp.gym import StackelbergPOMDPEnv
from stackelberg_zoo.envs.pomdp.vector import StackelbergPOMDPVectorEnv

ONE = FollowerSpec((1,), (2,), np.ones(1))  # one follower, one type, two actions
TWO = FollowerSpec((1, 1), (2, 3), np.ones((1, 1)))


def outcome(*utilities):
    return Outcome(leader=0.0, followers=np.array(utilities, dtype=np.float64))


def test_the_update_matches_the_closed_form():
    """alpha 0.5, delta 0.9, Q_0 = 0: Q[s, a] <- 0.5 Q[s, a] + 0.5 (r + 0.9 max Q[s', .])."""
    responder = QLearningResponse(alpha=0.5, delta=0.9, beta=50.0, initial_q=0.0).build(ONE, 10)
    responder.reset(np.random.default_rng(0))
    s0 = responder.state
    _, actions = responder.next_query(np.random.default_rng(1))  # exploration: ε = 1 at r = 0
    a0 = int(actions[0])
    responder.observe(outcome(1.0))
    assert responder.q[0][0, s0, a0] == 0.5 * 0.0 + 0.5 * (1.0 + 0.9 * 0.0)
    assert responder.state == a0 and responder.rounds == 1
    # ε = exp(-50) now: greedy play from state a0 (lowest index on ties).
    greedy = int(np.argmax(responder.q[0][0, a0]))
    _, actions = responder.next_query(np.random.default_rng(2))
    assert actions.tolist() == [greedy]
    before, following = responder.q[0][0, a0, greedy], responder.q[0][0, greedy].max()
    responder.observe(outcome(2.0))
    assert responder.q[0][0, a0, greedy] == 0.5 * before + 0.5 * (2.0 + 0.9 * following)
    assert responder.state == greedy


def test_state_is_the_last_joint_action_in_c_order():
    responder = QLearningResponse(initial_q=0.0).build(TWO, 5)
    responder.reset(np.random.default_rng(3))
    responder.next_query(np.random.default_rng(4))
    joint = responder._current.tolist()
    responder.observe(outcome(0.0, 0.0))
    assert responder.state == joint[0] * 3 + joint[1]
    assert responder.q[0].shape == (1, 6, 2) and responder.q[1].shape == (1, 6, 3)
    memoryless = QLearningResponse(memory=0).build(TWO, 5)
    memoryless.reset(np.random.default_rng(3))
    assert memoryless.q[0].shape == (1, 1, 2)


def test_epsilon_decays_as_exp_minus_beta_t():
    """beta 0: always explore (uniform actions); beta huge: greedy after the first round."""
    explore = QLearningResponse(beta=0.0, initial_q=0.0).build(ONE, 4000)
    explore.reset(np.random.default_rng(5))
    rng = np.random.default_rng(6)
    counts = np.zeros(2)
    for _ in range(4000):
        _, actions = explore.next_query(rng)
        counts[actions[0]] += 1
        explore.observe(outcome(1.0 if actions[0] == 1 else 0.0))
    # Uniform: 2000 each, binomial sd ~ 32; greedy play would pick action 1 nearly always.
    assert abs(counts[1] - 2000) < 200
    schedule = QLearningResponse(beta=1e-3).build(ONE, 100).tables.epsilon
    assert schedule[0] == 1.0 and schedule[99] == pytest.approx(math.exp(-0.099), rel=1e-15)


def test_initial_values_come_from_the_setting_over_one_minus_delta():
    spec = FollowerSpec((1,), (2,), np.ones(1), initial_values=(np.array([[0.3, 0.1]]),))
    responder = QLearningResponse(delta=0.8).build(spec, 3)
    responder.reset(np.random.default_rng(0))
    np.testing.assert_allclose(responder.q[0][0], [[1.5, 0.5]] * 2, rtol=1e-15)
    constant = QLearningResponse(initial_q=2.0).build(spec, 3)
    constant.reset(np.random.default_rng(0))
    assert np.all(constant.q[0] == 2.0)
    zero = QLearningResponse().build(ONE, 3)  # nothing prescribed: 0
    zero.reset(np.random.default_rng(0))
    assert np.all(zero.q[0] == 0.0)


def test_reward_phase_plays_greedily_and_does_not_learn():
    responder = QLearningResponse(initial_q=0.0).build(TWO, 3)
    rng = np.random.default_rng(7)
    responder.reset(rng)
    for _ in range(3):
        responder.next_query(rng)
        responder.observe(outcome(1.0, -1.0))
    responder.finish()
    tables = [q.copy() for q in responder.q]
    for _ in range(5):
        state = responder.state
        actions = responder.reward_actions(np.zeros(2, dtype=np.int64), rng)
        greedy = [int(np.argmax(q[0, state])) for q in responder.q]
        assert actions.tolist() == greedy
        assert responder.state == greedy[0] * 3 + greedy[1]
    for before, after in zip(tables, responder.q, strict=True):
        np.testing.assert_array_equal(before, after)


def test_report_says_the_certificate_does_not_apply_and_keeps_exact_gaps():
    env = StackelbergPOMDPEnv("normal_form", followers="q_learning", n_response=40, n_reward=2)
    env.reset(seed=0)
    for _ in range(40):
        env.step(0)
    report = env.unwrapped.pomdp.report
    assert report.certificate is None
    assert report.certificate_unavailable == NOT_NO_REGRET
    assert "not no-regret" in report.certificate_unavailable
    assert report.gaps is not None and report.rounds == 40
    assert report.gaps.ex_ante.shape == (1,) and report.gaps.ex_ante[0] >= -1e-12
    mw = StackelbergPOMDPEnv("normal_form", n_response=40, n_reward=2)
    mw.reset(seed=0)
    for _ in range(40):
        mw.step(0)
    assert mw.unwrapped.pomdp.report.certificate_unavailable is None


@pytest.mark.parametrize(
    ("setting", "kwargs"),
    [
        ("normal_form", {"n_response": 60, "n_reward": 4}),
        ("simple_allocation", {"prior": [0.5, 0.3, 0.2], "n_response": 50, "n_reward": 3}),
    ],
)
def test_batched_tables_equal_the_single_responders_entry_for_entry(setting, kwargs):
    followers = QLearningResponse(alpha=0.3, beta=0.05, initial_q=0.5)
    seeds = [8, 9]
    vector = StackelbergPOMDPVectorEnv(2, setting, followers=followers, **kwargs)
    singles = [StackelbergPOMDPEnv(setting, followers=followers, **kwargs) for _ in seeds]
    vector.reset(seed=seeds)
    for env, seed in zip(singles, seeds, strict=True):
        env.reset(seed=seed)
    rng = np.random.default_rng(1)
    kernel = vector.pomdp.followers
    n_actions = vector.single_action_space.n
    for _ in range(kwargs["n_response"] + kwargs["n_reward"] + 5):
        actions = rng.integers(n_actions, size=2)
        vector.step(actions)
        for b, env in enumerate(singles):
            env.step(actions[b])
            single = env.unwrapped.pomdp.followers
            if env.unwrapped.pomdp.terminated:
                env.reset()
                single = env.unwrapped.pomdp.followers
            for i, q in enumerate(single.q):
                np.testing.assert_array_equal(kernel.q[i].reshape(2, *q.shape)[b], q)
            assert kernel.state[b] == single.state


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"alpha": 0.0}, ValueError, r"alpha must be in \(0.0, 1.0\], got 0.0"),
        ({"alpha": "0.1"}, TypeError, "alpha must be a number, got '0.1'"),
        ({"delta": 1.0}, ValueError, r"delta must be in \[0.0, 1.0\), got 1.0"),
        ({"beta": -1e-4}, ValueError, "beta must be in .*got -0.0001"),
        ({"beta": math.nan}, ValueError, "beta must be in .*got nan"),
        ({"memory": 2}, ValueError, "memory must be 0 or 1, got 2"),
        ({"memory": True}, ValueError, "memory must be 0 or 1, got True"),
        ({"initial_q": "calvano"}, TypeError, "initial_q must be 'setting' or a number"),
        ({"initial_q": math.inf}, ValueError, "initial_q must be finite, got inf"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_value(kwargs, error, message):
    with pytest.raises(error, match=message):
        QLearningResponse(**kwargs)


def test_follower_spec_rejects_malformed_initial_values():
    with pytest.raises(ValueError, match="initial_values must be finite arrays of shapes"):
        FollowerSpec((1,), (2,), np.ones(1), initial_values=(np.zeros((1, 3)),))
    with pytest.raises(ValueError, match="initial_values must be finite"):
        FollowerSpec((1,), (2,), np.ones(1), initial_values=(np.array([[0.0, np.nan]]),))


def test_tables_too_large_are_refused_naming_their_size():
    wide = FollowerSpec((1, 1, 1), (200, 200, 200), np.ones((1, 1, 1)))
    with pytest.raises(ValueError, match="Q-tables of 4800000000 entries"):
        QLearningResponse().build(wide, 10)
    QLearningResponse(memory=0).build(wide, 10)  # one state: 600 entries
    with pytest.raises(ValueError, match="100000 copies of 16000 Q-table entries exceed"):
        StackelbergPOMDPVectorEnv(
            100_000, "collusion_platform", followers="q_learning", n_prices=20, n_response=5
        )
