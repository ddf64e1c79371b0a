"""Batched game logic and the batched POMDP core, against the scalar games and by brute force."""

import itertools

import gymnasium
import numpy as np
import pytest

from stackelberg_zoo.envs.core import EconomicGame, Outcome, Reference
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp.batched import BatchedStackelbergPOMDP, batched_game
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import Exp3Response, RegretMatchingResponse
from stackelberg_zoo.envs.pomdp.streams import UniformStreams
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation

GAMES = [
    pytest.param(lambda: NormalFormStackelberg("maintain"), id="normal_form"),
    pytest.param(
        lambda: NormalFormStackelberg(
            leader_payoffs=np.arange(40).reshape(8, 5) % 7,
            follower_payoffs=np.arange(40).reshape(8, 5) % 5,
            mixed_leader=True,
        ),
        id="normal_form_mixed_8_rows",
    ),
    pytest.param(lambda: MatrixDesign(), id="matrix_design"),
    pytest.param(lambda: MatrixDesign(charge_payments=True, max_payment=2.0), id="md_charged"),
    pytest.param(lambda: SimpleAllocation(n_messages=4, n_types=5), id="simple_allocation"),
    pytest.param(lambda: SequentialPriceMechanism("pi"), id="mspm_pi"),
    pytest.param(
        lambda: SequentialPriceMechanism(
            "uniform", n_followers=3, n_units=2, n_messages=3, n_values=4
        ),
        id="mspm_3_followers_2_units",
    ),
]


def random_leader_actions(game, rng, batch, exact_levels=False):
    """Valid leader actions ``[batch, ...]``; MSPM prices sometimes exactly at value levels."""
    space = game.leader_action_space
    if isinstance(space, gymnasium.spaces.Discrete):
        return rng.integers(space.n, size=batch)
    actions = rng.uniform(space.low, space.high, size=(batch, *space.shape)).astype(space.dtype)
    if isinstance(game, NormalFormStackelberg):
        actions[rng.random(batch) < 0.2] = 0.0  # the all-zero (uniform) mix
    if isinstance(game, SequentialPriceMechanism):
        levels = np.concatenate(game.values)
        exact = rng.random(batch) < 0.5
        actions[exact, -1] = rng.choice(levels, size=int(exact.sum()))
        ties = rng.random(batch) < 0.3
        actions[ties, :-1] = 0.5  # equal scores: the lowest unvisited index is visited
    if isinstance(game, MatrixDesign):
        edge = rng.random(batch) < 0.2
        actions[edge, 0] = np.float32(game.max_payment)
    return actions


@pytest.mark.parametrize("make", GAMES)
def test_batched_game_equals_the_scalar_game_on_random_inputs(make):
    """Observations, flattening, ids, end of sub-game and utilities agree exactly."""
    game = make()
    B = 64
    rng = np.random.default_rng(0)
    batch = batched_game(game, B)
    n = game.n_followers
    id_of: dict[bytes, int] = {}
    for _ in range(6):
        types = np.stack([rng.integers(t, size=B) for t in game.n_types], axis=1)
        actions = np.stack([rng.integers(a, size=B) for a in game.n_follower_actions], axis=1)
        batch.start(np.arange(B), types, actions)
        states = [game.start(types[b], actions[b]) for b in range(B)]
        live = np.ones(B, dtype=bool)
        while live.any():
            obs, flat, ids = (
                batch.observations(),
                batch.flat_observations(),
                batch.observation_ids(),
            )
            for b in np.flatnonzero(live):
                single = game.leader_observation(states[b])
                np.testing.assert_array_equal(obs[b], single)
                expected_flat = gymnasium.spaces.flatten(game.leader_observation_space, single)
                np.testing.assert_array_equal(flat[b], expected_flat.astype(np.float32))
                key = np.asarray(single).tobytes()
                assert id_of.setdefault(key, int(ids[b])) == ids[b]  # one id per observation
                assert 0 <= ids[b] < batch.n_observation_ids
            leader_actions = batch.check_actions(random_leader_actions(game, rng, B))
            over = batch.leader_step(leader_actions).copy()
            for b in np.flatnonzero(live):
                states[b] = game.leader_step(states[b], leader_actions[b])
                assert game.is_over(states[b]) == over[b]
            finished = np.flatnonzero(live & over)
            if finished.size:
                leader, followers = batch.outcome(finished)
                assert followers.shape == (finished.size, n)
                for k, b in enumerate(finished):
                    outcome = game.outcome(states[b])
                    assert leader[k] == outcome.leader
                    np.testing.assert_array_equal(followers[k], outcome.followers)
            live &= ~over
            # Copies whose sub-game ended get a fresh one (ignored from now on) so that
            # leader_step, which acts on every copy, stays within the rules.
            if finished.size and live.any():
                batch.start(finished, types[finished], actions[finished])
    # Distinct observations got distinct ids.
    assert len(set(id_of.values())) == len(id_of)


def test_mspm_observation_ids_are_a_bijection_on_reachable_observations():
    game = SequentialPriceMechanism("uniform", n_followers=2, n_messages=2, n_values=3)
    batch = batched_game(game, 1)
    seen = {}
    for types in itertools.product(range(3), range(3)):
        for messages in itertools.product(range(2), range(2)):
            for order, prices in itertools.product(((1, 0), (0, 1)), [(0.0, 0.0), (1.0, 1.0)]):
                batch.start(np.arange(1), np.array([types]), np.array([messages]))
                for follower, price in zip(order, prices, strict=True):
                    key = batch.observations()[0].tobytes()
                    assert (
                        seen.setdefault(key, int(batch.observation_ids()[0]))
                        == (batch.observation_ids()[0])
                    )
                    action = np.zeros((1, 3))
                    action[0, follower] = 1.0
                    action[0, 2] = price
                    if batch.leader_step(action)[0]:
                        break
    assert len(set(seen.values())) == len(seen)


def test_uniform_streams_read_each_generator_in_order():
    streams = UniformStreams(3, block=5)
    for b in range(3):
        streams.seed(b, np.random.default_rng(b))
    expected = [np.random.default_rng(b) for b in range(3)]
    rng = np.random.default_rng(9)
    for _ in range(40):
        subset = np.flatnonzero(rng.random(3) < 0.6)
        values = streams.draw(subset)
        for value, b in zip(values, subset, strict=True):
            assert value == expected[b].random()


def test_commitment_replaces_later_actions_per_copy():
    game = SimpleAllocation(n_messages=1)
    pomdp = BatchedStackelbergPOMDP(game, 2, n_response=4, n_reward=2)
    pomdp.reset([np.random.default_rng(0), np.random.default_rng(1)])
    first = pomdp.step(np.array([2, 0]))
    assert not first.replaced.any()
    second = pomdp.step(np.array([1, 0]))
    np.testing.assert_array_equal(second.replaced, [True, False])
    np.testing.assert_array_equal(second.applied_action, [2, 0])
    assert pomdp.committed_actions(0) == {0: 2}
    free = BatchedStackelbergPOMDP(game, 2, n_response=4, n_reward=2, commitment=False)
    free.reset([np.random.default_rng(0), np.random.default_rng(1)])
    free.step(np.array([2, 0]))
    step = free.step(np.array([1, 0]))
    assert not step.replaced.any()
    np.testing.assert_array_equal(step.applied_action, [1, 0])


def test_box_commitment_compares_bits_after_the_dtype_cast():
    game = NormalFormStackelberg("escape", mixed_leader=True)
    pomdp = BatchedStackelbergPOMDP(game, 1, n_response=5, n_reward=1)
    pomdp.reset([np.random.default_rng(0)])
    x = np.array([[0.1, 0.2, 0.7]])
    pomdp.step(x)  # float64 in, cast to float32 and committed
    assert not pomdp.step(x.astype(np.float32)).replaced[0]
    step = pomdp.step(np.array([[0.1, 0.2, 0.70001]], dtype=np.float32))
    assert step.replaced[0]
    np.testing.assert_array_equal(step.applied_action, x.astype(np.float32))


def test_mw_learner_matches_the_single_pomdp_on_a_fixed_policy():
    """Escape with a fixed row: the weight tables equal the closed form ``(1+ε)^{Σ u}``."""
    game = NormalFormStackelberg("escape")
    pomdp = BatchedStackelbergPOMDP(game, 4, n_response=31, n_reward=1)
    pomdp.reset([np.random.default_rng(b) for b in range(4)])
    for _ in range(31):
        pomdp.step(np.full(4, 2))
    rounds = 31 // 3  # the partial sweep is dropped
    expected = (1.01) ** (rounds * np.asarray(game.follower_payoffs)[2])
    np.testing.assert_allclose(pomdp.weights(0)[:, 0], np.tile(expected, (4, 1)), rtol=1e-12)
    np.testing.assert_array_equal(pomdp.type_counts(0), np.full((4, 1), rounds))
    single = StackelbergPOMDP(game, n_response=31, n_reward=1)
    single.reset(np.random.default_rng(0))
    for _ in range(31):
        single.step(2)
    np.testing.assert_array_equal(
        pomdp.cumulative_gains(0)[0], single.followers.bank.cumulative_gains(0)
    )


def test_unknown_settings_and_bad_arguments_raise():
    class Constant(EconomicGame):
        n_types, n_follower_actions, prior = (1,), (1,), np.ones(1)
        leader_observation_space = gymnasium.spaces.Discrete(1)
        leader_action_space = gymnasium.spaces.Discrete(1)

        def start(self, types, follower_actions):
            return False

        def leader_observation(self, state):
            return 0

        def leader_step(self, state, action):
            return True

        def is_over(self, state):
            return state

        def outcome(self, state):
            return Outcome(0.0, np.zeros(1))

        def reference(self):
            return Reference(0.0, None, "not used")

    with pytest.raises(ValueError, match="no batched implementation for a Constant"):
        BatchedStackelbergPOMDP(Constant(), 2, n_response=3, n_reward=1)
    with pytest.raises(ValueError, match="n_response must be at least 1, got 0"):
        BatchedStackelbergPOMDP(SimpleAllocation(), 2, n_response=0, n_reward=1)
    with pytest.raises(TypeError, match="EconomicGame"):
        BatchedStackelbergPOMDP("escape", 2)
    with pytest.raises(TypeError, match="num_envs must be an int"):
        BatchedStackelbergPOMDP(SimpleAllocation(), 2.0)
    # Every registered model has a batched kernel; "empirical" reward play does not.
    with pytest.raises(ValueError, match=r"'argmax' and 'sample', got 'empirical'"):
        BatchedStackelbergPOMDP(
            SimpleAllocation(), 2, RegretMatchingResponse(reward_play="empirical")
        )
    pomdp = BatchedStackelbergPOMDP(SimpleAllocation(), 2)
    with pytest.raises(ValueError, match="need 2 generators"):
        pomdp.reset([np.random.default_rng(0)])
    with pytest.raises(TypeError, match=r"generators\[1\]"):
        pomdp.reset([np.random.default_rng(0), 5])


MODELS = [
    "mw",
    "hedge",
    "regret_matching",
    "regret_matching_plus",
    "exp3",
    "best_response",
    RegretMatchingResponse(reward_play="sample"),
]


@pytest.mark.parametrize("followers", MODELS, ids=repr)
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: SimpleAllocation(n_messages=2, n_types=3), id="simple_allocation"),
        pytest.param(
            lambda: SequentialPriceMechanism("uniform", n_values=2, n_messages=2), id="mspm"
        ),
        pytest.param(  # one type, 9 actions: the kernel keeps one learner per copy
            lambda: NormalFormStackelberg(
                leader_payoffs=np.arange(27).reshape(3, 9) % 4 / 4,
                follower_payoffs=np.arange(27).reshape(3, 9) % 5 / 5,
            ),
            id="normal_form_9_actions",
        ),
    ],
)
def test_every_follower_model_reports_what_the_single_pomdp_reports(followers, make):
    """The core with diagnostics: each copy's end-of-phase report (strategy, rounds, exact
    BCCE gaps, regret certificate) equals the single POMDP's, as do rewards and phases, over
    three episodes (a copy's next episode draws on from the same generator)."""
    assert_reports_agree(make(), followers)


@pytest.mark.parametrize("followers", ["exp3", Exp3Response(gamma=0.3, reward_play="sample")])
@pytest.mark.parametrize(
    "game",
    [MatrixDesign(), MatrixDesign(charge_payments=True, max_payment=2.0)],
    ids=["matrix_design", "md_charged"],
)
def test_exp3_in_matrix_design_reports_what_the_single_pomdp_reports(followers, game):
    """EXP3 with the game's bounds (payments widen them): the same reports, certificates
    (whose bound scales with the bounds' width) included, in both cores."""
    assert_reports_agree(game, followers)


def assert_reports_agree(game, followers):
    """Two copies against two single POMDPs, three reports each: all agree."""
    kwargs = {"n_response": 40, "n_reward": 3, "diagnostics": True}
    rngs = [np.random.default_rng(s) for s in (0, 1)]
    pomdp = BatchedStackelbergPOMDP(game, len(rngs), followers, **kwargs)
    singles = [StackelbergPOMDP(game, followers, **kwargs) for _ in rngs]
    pomdp.reset([np.random.default_rng(s) for s in (0, 1)])
    for single, rng in zip(singles, rngs, strict=True):
        single.reset(rng)
    actions_rng = np.random.default_rng(5)
    reports = np.zeros(len(rngs), dtype=int)
    while reports.min() < 3:
        actions = random_leader_actions(game, actions_rng, len(rngs))
        step = pomdp.step(actions)
        for b, single in enumerate(singles):
            before = single.report
            transition = single.step(actions[b])
            assert transition.reward == step.reward[b]
            assert transition.terminated == step.terminated[b]
            assert transition.info["phase"] == step.phase[b]
            if single.report is not before:  # the response phase ended in this step
                report = step.reports[b]
                assert report == single.report
                assert report.gaps is not None
                assert report.certificate is None or report.certificate.rounds == report.rounds
                reports[b] += 1
            else:
                assert b not in step.reports
            if transition.terminated:
                single.reset(rngs[b])
