"""Policy-gradient (REINFORCE) followers: the update in closed form, the softmax and its
sampling, reward play, the reset each episode, the report, and the batched kernel's logits
against the single responder's, entry for entry."""

import math

import numpy as np
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.core import Outcome
from stackelberg_zoo.envs.pomdp.followers import FollowerSpec, PolicyGradientResponse
from stackelberg_zoo.envs.pomdp.followers.policy_gradient import (
    NOT_NO_REGRET,
    softmax_row,
    softmax_rows,
)
from stackelberg_zoo.envs.pomdp.gym import StackelbergPOMDPEnv
from stackelberg_zoo.envs.pomdp.vector import StackelbergPOMDPVectorEnv

ONE = FollowerSpec((1,), (2,), np.ones(1))  # one follower, one type, two actions
TWO = FollowerSpec((1, 1), (2, 3), np.ones((1, 1)))


def outcome(*utilities):
    return Outcome(leader=0.0, followers=np.array(utilities, dtype=np.float64))


def test_the_update_matches_the_closed_form():
    """η = 0.5, no baseline, logits 0: θ <- θ + η u (e_a - π), π = softmax(θ)."""
    responder = PolicyGradientResponse(learning_rate=0.5, baseline=False).build(ONE, 10)
    responder.reset(np.random.default_rng(0))
    _, actions = responder.next_query(np.random.default_rng(1))
    a = int(actions[0])
    responder.observe(outcome(1.0))
    # π = (1/2, 1/2): the played action's logit gains 0.5 · 1 · 1/2, the other loses as much.
    expected = np.where(np.arange(2) == a, 0.25, -0.25)
    np.testing.assert_array_equal(responder.logits[0][0, 0], expected)
    # π is now (1/(1 + e^-0.5), 1/(1 + e^0.5)) in favour of a.
    favoured = 1.0 / (1.0 + math.exp(-0.5))
    policy = responder.policy(0, 0)
    np.testing.assert_allclose(policy[a], favoured, rtol=1e-15)
    np.testing.assert_allclose(policy.sum(), 1.0, rtol=1e-15)
    _, actions = responder.next_query(np.random.default_rng(2))
    b = int(actions[0])
    responder.observe(outcome(2.0))
    step = 0.5 * 2.0 * (np.eye(2)[b] - policy)
    np.testing.assert_allclose(responder.logits[0][0, 0], expected + step, rtol=1e-15)
    assert responder.rounds == 2


def test_the_baseline_is_the_running_mean_of_earlier_utilities():
    """Utilities 1, 2, 6 at one (type, state): advantages 1, 2 - 1, 6 - 1.5; baseline 3."""
    responder = PolicyGradientResponse(learning_rate=0.25).build(ONE, 10)
    responder.reset(np.random.default_rng(0))
    rng = np.random.default_rng(3)
    logits = np.zeros(2)
    for utility, advantage in [(1.0, 1.0), (2.0, 1.0), (6.0, 4.5)]:
        _, actions = responder.next_query(rng)
        policy = softmax_rows(logits[None, :])[0]
        logits = logits + 0.25 * advantage * (np.eye(2)[actions[0]] - policy)
        responder.observe(outcome(utility))
        np.testing.assert_allclose(responder.logits[0][0, 0], logits, rtol=1e-14, atol=1e-15)
    assert responder.baselines[0][0, 0] == 3.0 and responder.visits[0][0, 0] == 3


def test_softmax_rows_known_values_and_stability():
    rows = np.array([[0.0, math.log(2.0), math.log(3.0)], [1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(softmax_rows(rows), [[1 / 6, 2 / 6, 3 / 6], [0.5, 0.5, 0.0]])
    wide = np.random.default_rng(0).normal(size=(5, 11))  # beyond row_max's column loop
    np.testing.assert_allclose(softmax_rows(wide).sum(axis=1), 1.0, rtol=1e-15)
    # One row alone or among others, and the one-row form: the same bits (what single and
    # batched rely on).
    np.testing.assert_array_equal(softmax_rows(wide[2:3]), softmax_rows(wide)[2:3])
    for row in [*wide, *(100.0 * wide[:, :5]), *rows]:
        np.testing.assert_array_equal(softmax_row(row), softmax_rows(row[None, :])[0])


def test_actions_are_the_inverse_cdf_of_one_uniform_and_follow_the_softmax():
    responder = PolicyGradientResponse().build(FollowerSpec((1,), (3,), np.ones(1)), 10)
    responder.reset(np.random.default_rng(0))
    target = np.array([0.2, 0.3, 0.5])
    responder.logits[0][0, 0] = np.log(target) + 7.0  # softmax ignores the shift
    for seed in range(20):  # one type profile: the action's uniform is the first draw
        u = np.random.default_rng(seed).random()
        _, actions = responder.next_query(np.random.default_rng(seed))
        assert actions[0] == np.searchsorted(np.cumsum(target), u, side="right")
    rng = np.random.default_rng(1)
    counts = np.bincount([responder.next_query(rng)[1][0] for _ in range(6000)], minlength=3)
    # Binomial sd at most sqrt(6000 · 0.25) ~ 39: five of them.
    np.testing.assert_allclose(counts, 6000 * target, atol=200)


def test_a_dominant_action_is_learned_with_and_without_the_baseline():
    for baseline in (True, False):
        responder = PolicyGradientResponse(learning_rate=0.5, baseline=baseline).build(ONE, 300)
        rng = np.random.default_rng(4)
        responder.reset(rng)
        for _ in range(300):
            _, actions = responder.next_query(rng)
            responder.observe(outcome(0.5 + 0.5 * actions[0]))  # action 1 pays 1, action 0 0.5
        assert responder.policy(0, 0)[1] > 0.95


def test_memory_states_are_the_last_joint_action_and_reward_play_does_not_learn():
    responder = PolicyGradientResponse(memory=1, learning_rate=1.0).build(TWO, 6)
    rng = np.random.default_rng(5)
    responder.reset(rng)
    assert responder.logits[0].shape == (1, 6, 2) and responder.logits[1].shape == (1, 6, 3)
    for _ in range(6):
        _, actions = responder.next_query(rng)
        state = responder.state
        responder.observe(outcome(1.0, -1.0))
        assert responder.state == actions[0] * 3 + actions[1]
        assert np.any(responder.logits[0][0, state] != 0)  # learned at the state it played in
    responder.finish()
    logits = [x.copy() for x in responder.logits]
    strategy = responder.strategy()
    for i, x in enumerate(responder.logits):  # argmax at the final state, one-hot per type
        np.testing.assert_array_equal(
            strategy[i], np.eye(x.shape[2])[[x[0, responder.state].argmax()]]
        )
    for _ in range(5):
        greedy = [int(x[0, responder.state].argmax()) for x in responder.logits]
        actions = responder.reward_actions(np.zeros(2, dtype=np.int64), rng)
        assert actions.tolist() == greedy
        assert responder.state == greedy[0] * 3 + greedy[1]
    for before, after in zip(logits, responder.logits, strict=True):
        np.testing.assert_array_equal(before, after)


def test_sample_reward_play_samples_the_softmax():
    responder = PolicyGradientResponse(reward_play="sample").build(ONE, 1)
    responder.reset(np.random.default_rng(0))
    responder.logits[0][0, 0] = [0.0, math.log(3.0)]  # π = (1/4, 3/4)
    responder.finish()
    np.testing.assert_allclose(responder.strategy()[0], [[0.25, 0.75]], rtol=1e-15)
    rng = np.random.default_rng(6)
    plays = [responder.reward_actions(np.zeros(1, dtype=np.int64), rng)[0] for _ in range(4000)]
    assert abs(np.mean(plays) - 0.75) < 0.035  # binomial sd ~ 0.0068


def test_logits_and_baselines_are_reset_each_episode():
    kwargs = {"followers": "policy_gradient", "n_response": 20, "n_reward": 2}
    env = StackelbergPOMDPEnv("normal_form", **kwargs)
    env.reset(seed=0)
    followers = env.unwrapped.pomdp.followers
    terminated, learned = False, 0
    while not terminated:
        _, _, terminated, _, _ = env.step(0)
        if followers.rounds == 20:
            assert np.any(followers.logits[0] != 0) and np.any(followers.baselines[0] != 0)
            learned += 1
    assert learned == 3  # the 20th response step, then the two reward sub-games
    env.reset()
    followers = env.unwrapped.pomdp.followers
    assert followers.rounds == 0
    assert not np.any(followers.logits[0]) and not np.any(followers.baselines[0])
    assert not np.any(followers.visits[0])


def test_report_says_the_certificate_does_not_apply_and_keeps_exact_gaps():
    env = StackelbergPOMDPEnv("normal_form", followers="policy_gradient", n_response=40, n_reward=2)
    env.reset(seed=0)
    for _ in range(40):
        env.step(0)
    report = env.unwrapped.pomdp.report
    assert report.certificate is None
    assert report.certificate_unavailable == NOT_NO_REGRET
    assert "not no-regret" in report.certificate_unavailable
    assert report.gaps is not None and report.rounds == 40
    assert report.gaps.ex_ante.shape == (1,) and report.gaps.ex_ante[0] >= -1e-12


@pytest.mark.parametrize(
    ("setting", "kwargs"),
    [
        ("normal_form", {"n_response": 60, "n_reward": 4}),
        ("simple_allocation", {"prior": [0.5, 0.3, 0.2], "n_response": 50, "n_reward": 3}),
    ],
)
def test_batched_logits_equal_the_single_responders_entry_for_entry(setting, kwargs):
    followers = PolicyGradientResponse(learning_rate=0.7, memory=1, reward_play="sample")
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
            if env.unwrapped.pomdp.terminated:
                env.reset()
            single = env.unwrapped.pomdp.followers
            for i, logits in enumerate(single.logits):
                np.testing.assert_array_equal(kernel.logits[i].reshape(2, *logits.shape)[b], logits)
                np.testing.assert_array_equal(
                    kernel.baselines[i].reshape(2, *logits.shape[:2])[b], single.baselines[i]
                )
            assert kernel.state[b] == single.state


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be positive and finite, got 0.0"),
        ({"learning_rate": -1}, ValueError, "learning_rate must be positive and finite, got -1"),
        ({"learning_rate": math.inf}, ValueError, "learning_rate must be .*got inf"),
        ({"learning_rate": "0.1"}, TypeError, "learning_rate must be a positive number, got '0.1'"),
        ({"learning_rate": True}, TypeError, "learning_rate must be a positive number, got True"),
        ({"baseline": 1}, TypeError, "baseline must be True or False, got 1"),
        ({"baseline": "mean"}, TypeError, "baseline must be True or False, got 'mean'"),
        ({"memory": 2}, ValueError, "memory must be 0 or 1, got 2"),
        ({"memory": True}, ValueError, "memory must be 0 or 1, got True"),
        ({"reward_play": "empirical"}, ValueError, "reward_play must be one of .*got 'empirical'"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_value(kwargs, error, message):
    with pytest.raises(error, match=message):
        PolicyGradientResponse(**kwargs)


def test_tables_too_large_are_refused_naming_their_size():
    wide = FollowerSpec((1, 1, 1), (200, 200, 200), np.ones((1, 1, 1)))
    with pytest.raises(ValueError, match="policy tables of 4800000000 logits"):
        PolicyGradientResponse(memory=1).build(wide, 10)
    PolicyGradientResponse().build(wide, 10)  # one state: 600 logits
