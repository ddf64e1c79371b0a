"""The single env's fast path: memoised sub-games and Python-float MW, bit for bit the reference.

The fast path (``envs/pomdp/episode.py`` module docstring) must give the same trajectories as
the reference path (``pomdp._fast = False`` before ``reset``) for every setting, follower
algorithm and kind of action, and the Python-float MW bank the same bits as the equilibrium
module's learner.
"""

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp import FollowerSpec, MultiplicativeWeightsResponse, StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.certify import Certification
from stackelberg_zoo.envs.pomdp.followers.certificate import data_equal
from stackelberg_zoo.envs.pomdp.followers.mw import (
    MultiplicativeWeightsBank,
    exp_weights_list,
    float32_array,
    relative_exps,
)
from stackelberg_zoo.envs.pomdp.gym import StackelbergPOMDPEnv
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation
from stackelberg_zoo.equilibrium.learners import (
    MultiplicativeWeights,
    exp_weights_strategy,
    normalised_weights,
)

CASES = [
    ("normal_form", {"n_response": 31, "n_reward": 3}),
    ("normal_form", {"game": "escape", "mixed_leader": True, "n_response": 20, "n_reward": 4}),
    ("matrix_design", {}),
    ("matrix_design", {"charge_payments": True, "n_reward": 5}),
    ("simple_allocation", {"n_response": 40, "n_reward": 9}),
    ("simple_allocation", {"n_messages": 2, "prior": [0.5, 0.3, 0.2], "n_reward": 6}),
    ("mspm", {"n_response": 60, "n_reward": 6}),
    (
        "normal_form",
        {
            "followers": MultiplicativeWeightsResponse(eps=0.5, reward_play="sample"),
            "n_response": 24,
            "n_reward": 6,
        },
    ),
    (
        "simple_allocation",
        {
            "followers": MultiplicativeWeightsResponse(eps=0.3, reward_play="empirical"),
            "n_response": 40,
            "n_reward": 6,
        },
    ),
    ("simple_allocation", {"followers": "hedge", "n_response": 40, "n_reward": 6}),
    ("matrix_design", {"followers": "regret_matching_plus", "n_response": 40, "n_reward": 4}),
    ("normal_form", {"followers": "exp3", "n_response": 40, "n_reward": 6}),
    ("simple_allocation", {"followers": "best_response", "n_response": 20, "n_reward": 6}),
    ("normal_form", {"commitment": False, "n_response": 30, "n_reward": 3}),
    ("matrix_design", {"diagnostics": False}),
    # The certified protocol: extensions, candidates, exact and sampled reward phases.
    ("simple_allocation", {"protocol": "certified", "n_response": 60}),
    ("normal_form", {"protocol": "certified", "followers": "exp3", "n_response": 30}),
    (
        "matrix_design",
        {
            "protocol": "certified",
            "followers": "hedge",
            "n_response": 20,
            "exact_reward": False,
            "n_reward": 4,
            "certify": Certification(threshold=0.01, max_extra_updates=5),
        },
    ),
]


def actions_of(space, rng, mixed: bool):
    """A random valid action; with ``mixed``, also in non-canonical forms (other types)."""
    kind = int(rng.integers(4)) if mixed else 0
    if isinstance(space, gymnasium.spaces.Discrete):
        a = int(rng.integers(space.n))
        return [np.int64(a), a, np.int32(a), np.array(a)][kind]
    a = rng.uniform(space.low, space.high).astype(space.dtype)
    # The last kind: float64 values within float32 rounding of a canonical action, so the
    # key matches but the payments differ (the memo must not be used for them).
    return [a, a.astype(np.float64), a.tolist(), a.astype(np.float64) * (1 + 1e-9)][kind]


def trajectory(setting, kwargs, seed, mixed, fast):
    """Three whole episodes of the Gym view: everything it shows, step by step."""
    env = StackelbergPOMDPEnv(setting, **kwargs)
    pomdp = env.unwrapped.pomdp
    if not fast:
        pomdp._fast = False
    rng = np.random.default_rng(seed + 100)
    observation, info = env.reset(seed=seed)
    rows = [("reset", observation, info["state"], pomdp._memo)]
    episodes = 0
    while episodes < 3:
        before = pomdp.report
        observation, reward, terminated, truncated, info = env.step(
            actions_of(env.action_space, rng, mixed)
        )
        report = None if pomdp.report is before else pomdp.report
        report_data = None
        if report is not None:
            report_data = (
                report.strategy,
                report.rounds,
                report.queries,
                report.gaps,
                report.gaps_unavailable,
                report.certificate,
                report._source.follower_table,
                report._source.known,
                report.certification,
            )
        rows.append(
            (
                observation,
                reward,
                terminated,
                truncated,
                info,
                report_data,
                pomdp.describe(),
                pomdp.followers.state_features(),
            )
        )
        if terminated:
            episodes += 1
            rows.append(("committed", pomdp.committed_actions()))
            observation, info = env.reset()
            rows.append(("reset", observation, info["state"]))
    return rows


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize(("setting", "kwargs"), CASES)
def test_fast_path_trajectories_equal_the_reference_bit_for_bit(setting, kwargs, mixed):
    fast = trajectory(setting, kwargs, seed=3, mixed=mixed, fast=True)
    reference = trajectory(setting, kwargs, seed=3, mixed=mixed, fast=False)
    assert reference[0][3] is False
    assert len(fast) == len(reference)
    for k, (a, b) in enumerate(zip(fast, reference, strict=True)):
        assert data_equal(a[:3] + a[4:] if k == 0 else a, b[:3] + b[4:] if k == 0 else b), (
            f"step {k} differs:\nfast      {a}\nreference {b}"
        )


@pytest.mark.parametrize(
    ("setting", "kwargs", "expected"),
    [
        ("normal_form", {}, True),
        ("normal_form", {"mixed_leader": True}, True),
        ("matrix_design", {}, True),
        ("simple_allocation", {}, True),
        ("mspm", {}, False),  # several leader turns per sub-game
        ("normal_form", {"commitment": False}, False),
    ],
)
def test_the_fast_path_runs_exactly_where_it_applies(setting, kwargs, expected):
    env = StackelbergPOMDPEnv(setting, **kwargs)
    env.reset(seed=0)
    assert env.unwrapped.pomdp._memo is expected


def test_games_that_do_not_declare_purity_or_that_mask_take_the_reference_path():
    class Undeclared(SimpleAllocation):
        pure_single_turn = False

    class Masked(SimpleAllocation):
        def leader_action_mask(self, state):
            return np.array([1, 1, 0], dtype=np.int8)

    for game in (Undeclared(), Masked()):
        pomdp = StackelbergPOMDP(game, "mw", n_response=6, n_reward=2)
        pomdp.reset(np.random.default_rng(0))
        assert pomdp._memo is False
    assert EconomicGame.pure_single_turn is False


def test_a_false_purity_declaration_is_reported():
    class NoTurn(SimpleAllocation):
        def is_over(self, state):
            return True  # the start state is already over: no leader turn

    pomdp = StackelbergPOMDP(NoTurn(), "mw", n_response=6, n_reward=2)
    with pytest.raises(ValueError, match="declares pure_single_turn but gave the leader no turn"):
        pomdp.reset(np.random.default_rng(0))


def test_a_non_canonical_action_rewrites_the_follower_table_as_the_reference_does():
    """The float32 key of a float64 action matches the committed one, its payments do not."""

    def play(fast):
        pomdp = StackelbergPOMDP(MatrixDesign(), "mw", n_response=12, n_reward=1)
        if not fast:
            pomdp._fast = False
        pomdp.reset(np.random.default_rng(5))
        canonical = np.array([0.25, 0.5], dtype=np.float32)
        nearby = canonical.astype(np.float64) * (1 + 1e-9)  # same float32 rounding
        assert nearby.astype(np.float32).tobytes() == canonical.tobytes()
        for action in [canonical] * 4 + [nearby] * 4 + [canonical] * 4 + [canonical]:
            pomdp.step(action)
        return pomdp.report, pomdp._follower_table.copy(), pomdp._known.copy()

    fast, reference = play(True), play(False)
    assert fast[0] == reference[0]  # strategy, rounds, gaps and certificate
    assert data_equal(fast[1:], reference[1:])
    assert fast[0].gaps is not None


def test_invalid_actions_leave_the_fast_path_intact():
    pomdp = StackelbergPOMDP(SimpleAllocation(), "mw", n_response=9, n_reward=2)
    pomdp.reset(np.random.default_rng(0))
    assert pomdp._memo
    with pytest.raises(ValueError, match="item must be in"):
        pomdp.step(7)  # canonical type, out of range: nothing committed
    assert pomdp.committed_actions() == []
    step = pomdp.step(np.int64(1))
    assert step.info["sub_game"] == 0 and pomdp.committed_actions() == [1]


# -- the Python-float kernels, bit for bit the equilibrium module's ----------------------------

scores_lists = st.lists(
    st.floats(-50.0, 50.0, allow_nan=False, allow_subnormal=False), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(scores=scores_lists, eps=st.floats(1e-4, 2.0))
def test_python_strategy_equals_exp_weights_strategy(scores, eps):
    eta = float(np.log1p(eps))
    expected = exp_weights_strategy(np.array(scores), eta)
    np.testing.assert_array_equal(np.array(exp_weights_list(scores, eta)), expected)


@settings(max_examples=200, deadline=None)
@given(tables=st.lists(scores_lists, min_size=1, max_size=4), eps=st.floats(1e-4, 2.0))
def test_python_features_equal_normalised_weights(tables, eps):
    eta = float(np.log1p(eps))
    expected = np.concatenate([normalised_weights(np.array(t), eta) for t in tables])
    result = float32_array(relative_exps(tables, eta))
    np.testing.assert_array_equal(result, expected.astype(np.float32))


@pytest.mark.parametrize("n_actions", [1, 2, 3, 9])
def test_python_mw_bank_equals_the_learner_bit_for_bit(n_actions):
    rng = np.random.default_rng(n_actions)
    spec = FollowerSpec((3, 2), (n_actions, 4), np.full((3, 2), 1 / 6))
    eps = 0.07
    bank = MultiplicativeWeightsBank(spec, eps)
    learners = [
        MultiplicativeWeights((3,), n_actions, eps=eps),
        MultiplicativeWeights((2,), 4, eps=eps),
    ]
    for step in range(400):
        i = int(rng.integers(2))
        t = int(rng.integers(spec.n_types[i]))
        gains = rng.uniform(-1, 2, spec.n_actions[i])
        if step % 3:  # the sampled row is kept and used by the update, as in a sweep
            np.testing.assert_array_equal(bank.row(i, t), learners[i].strategy()[t])
            bank.sample_profile((t, 0) if i == 0 else (0, t), rng)
        mask = np.arange(spec.n_types[i]) == t
        full = np.zeros((spec.n_types[i], spec.n_actions[i]))
        full[t] = gains
        bank.update(i, t, gains)
        learners[i].update(full, mask)
        if step % 50 == 0 or step == 399:
            features = np.concatenate(
                [learner.state_features(group_ndim=1).ravel() for learner in learners]
            ).astype(np.float32)
            np.testing.assert_array_equal(bank.all_features(), features)
    for i, learner in enumerate(learners):
        np.testing.assert_array_equal(bank.strategy(i), learner.strategy())
        np.testing.assert_array_equal(bank.regret(i), learner.regret())
        np.testing.assert_array_equal(bank.greedy(i), learner.greedy())
        assert bank.greedy_lists()[i] == learner.greedy().tolist()
        np.testing.assert_array_equal(bank.cumulative_gains(i), learner.cumulative_gains)
        np.testing.assert_array_equal(bank.counts(i), learner.n_updates)
        np.testing.assert_array_equal(bank.features(i), learner.state_features(group_ndim=1))
        np.testing.assert_array_equal(bank.weights(i), learner.weights())
    frozen = bank.frozen()
    bank.update(0, 0, np.ones(n_actions))
    np.testing.assert_array_equal(frozen.cumulative_gains(0), learners[0].cumulative_gains)


def test_rounds_and_single_queries_drive_a_responder_identically():
    spec = FollowerSpec((2, 1), (3, 2), np.full((2, 1), 0.5))
    outcomes_rng = np.random.default_rng(1)
    by_round = MultiplicativeWeightsResponse(eps=0.2).build(spec, 50)
    by_query = MultiplicativeWeightsResponse(eps=0.2).build(spec, 50)
    rng_round, rng_query = np.random.default_rng(9), np.random.default_rng(9)
    by_round.reset(rng_round)
    by_query.reset(rng_query)
    from stackelberg_zoo.envs.core import Outcome

    for _ in range(10):
        queries = by_round.next_round(rng_round)
        outcomes = [Outcome(0.0, outcomes_rng.uniform(0, 1, 2)) for _ in queries]
        for query, outcome in zip(queries, outcomes, strict=True):
            types, actions = by_query.next_query(rng_query)
            assert tuple(types.tolist()) + tuple(actions.tolist()) == query
            by_query.observe(outcome)
        by_round.observe_round(outcomes)
        np.testing.assert_array_equal(by_round.state_features(), by_query.state_features())
    for i in range(2):
        np.testing.assert_array_equal(
            by_round.bank.cumulative_gains(i), by_query.bank.cumulative_gains(i)
        )


def test_normal_form_fast_path_returns_fresh_observations():
    """The fast path asks the game again for writable observations (normal form copies)."""
    pomdp = StackelbergPOMDP(NormalFormStackelberg("escape"), "mw", n_response=6, n_reward=1)
    first, _ = pomdp.reset(np.random.default_rng(0))
    second = pomdp.step(0).observation
    assert first is not second and second.flags.writeable
