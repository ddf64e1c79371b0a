"""Simple allocation with messages: utilities, the reference optimum two ways, bad input."""

import itertools

import numpy as np
import pytest
from pettingzoo import test as pzt

from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value, play
from stackelberg_zoo.envs.simple_allocation import game as sa
from stackelberg_zoo.envs.simple_allocation.env import env, raw_env
from stackelberg_zoo.envs.simple_allocation.game import MessageMap, SimpleAllocation

TOL = 1e-12


# (type, message, item) -> utility of both players.
UTILITY_TABLE = [
    (0, 0, 0, 1.0),
    (0, 1, 0, 1.0),
    (0, 2, 1, 0.0),
    (1, 0, 1, 1.0),
    (1, 2, 2, 0.0),
    (2, 1, 2, 1.0),
    (2, 2, 0, 0.0),
]


@pytest.mark.parametrize(("theta", "message", "item", "utility"), UTILITY_TABLE)
def test_utilities_follow_the_table(theta, message, item, utility):
    game = SimpleAllocation()
    state = game.start([theta], [message])
    assert game.leader_observation(state) == message
    assert game.leader_observation_space.contains(game.leader_observation(state))
    result = game.outcome(game.leader_step(state, item))
    assert result.leader == utility
    assert result.followers.tolist() == [utility]


def test_outcome_arrays_are_shared_but_read_only():
    game = SimpleAllocation()
    result = game.outcome(game.leader_step(game.start([0], [0]), 0))
    with pytest.raises(ValueError, match="read-only"):
        result.followers[0] = 5.0


def _best_response_value(game, items):
    """Leader value of a message map against a best-responding follower, via the induced game.

    Each type picks the message with the highest follower payoff, ties broken toward the
    higher leader payoff; computed on the exact induced game, independent of the setting.
    """
    induced = induced_bayesian_game(game, MessageMap(tuple(items)))
    follower = induced.followers.payoffs[0]  # [types, messages]
    leader = induced.leader_payoffs
    strategy = np.zeros_like(follower)
    for theta in range(follower.shape[0]):
        best = np.flatnonzero(follower[theta] == follower[theta].max())
        strategy[theta, best[np.argmax(leader[theta, best])]] = 1.0
    return leader_value(induced, [strategy])


def _brute_force_optimum(game):
    n_types = game.n_types[0]
    return max(
        _best_response_value(game, items)
        for items in itertools.product(range(n_types), repeat=game.n_messages)
    )


@pytest.mark.parametrize(("k", "published"), [(1, 1 / 3), (2, 2 / 3), (3, 1.0), (4, 1.0)])
def test_reference_optimum_is_min_k_n_over_n_uniform(k, published):
    # Published targets: SETTINGS.md 4.3 and research fixture F18, min(k, 3) / 3.
    game = SimpleAllocation(n_messages=k)
    reference = game.reference()
    assert reference.optimum == pytest.approx(published, abs=TOL)
    assert reference.details["method"] == "enumeration"
    assert _best_response_value(game, reference.optimal_policy.items) == pytest.approx(
        reference.optimum, abs=TOL
    )
    assert _brute_force_optimum(game) == pytest.approx(reference.optimum, abs=TOL)
    assert reference.baselines["no_messages"] == pytest.approx(1 / 3, abs=TOL)


@pytest.mark.parametrize(
    ("prior", "k", "expected"),
    [
        ([0.5, 0.3, 0.2], 1, 0.5),
        ([0.5, 0.3, 0.2], 2, 0.8),
        ([0.1, 0.2, 0.7], 2, 0.9),
        ([0.25, 0.25, 0.5], 2, 0.75),
        ([1.0, 0.0, 0.0], 1, 1.0),
        ([0.1, 0.4, 0.2, 0.3], 3, 0.9),
    ],
)
def test_reference_optimum_with_a_non_uniform_prior_two_ways(prior, k, expected):
    game = SimpleAllocation(n_messages=k, n_types=len(prior), prior=prior)
    reference = game.reference()
    assert reference.optimum == pytest.approx(expected, abs=TOL)  # the k most likely types
    assert _brute_force_optimum(game) == pytest.approx(reference.optimum, abs=TOL)
    assert _best_response_value(game, reference.optimal_policy.items) == pytest.approx(
        expected, abs=TOL
    )


@pytest.mark.parametrize(("k", "n_types"), [(1, 1), (1, 4), (2, 5), (3, 3), (5, 2), (4, 4)])
def test_closed_form_agrees_with_enumeration(monkeypatch, k, n_types):
    rng = np.random.default_rng(k * 10 + n_types)
    prior = rng.dirichlet(np.ones(n_types))
    game = SimpleAllocation(n_messages=k, n_types=n_types, prior=prior)
    enumerated = game.reference()
    monkeypatch.setattr(sa, "MAX_ENUMERATED_MAPS", 0)
    closed = game.reference()
    assert closed.details["method"].startswith("closed form")
    assert closed.optimum == pytest.approx(enumerated.optimum, abs=TOL)
    assert closed.optimum == pytest.approx(np.sort(prior)[::-1][: min(k, n_types)].sum(), abs=TOL)
    assert _best_response_value(game, closed.optimal_policy.items) == pytest.approx(
        closed.optimum, abs=TOL
    )


def test_large_games_use_the_closed_form():
    reference = SimpleAllocation(n_messages=12, n_types=3).reference()
    assert reference.details["method"].startswith("closed form")
    assert reference.optimum == pytest.approx(1.0, abs=TOL)
    assert len(reference.optimal_policy.items) == 12


def test_play_through_the_contract_and_sampled_types():
    game = SimpleAllocation(n_messages=2)
    policy = game.reference().optimal_policy
    assert play(game, [1], [1], policy).leader == 1.0
    assert play(game, [2], [0], policy).leader == 0.0
    rng = np.random.default_rng(0)
    draws = np.array([game.sample_types(rng)[0] for _ in range(3000)])
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 3000, 1 / 3, atol=0.03)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_messages": 0}, ValueError, "n_messages must be at least 1, got 0"),
        ({"n_types": 0}, ValueError, "n_types must be at least 1, got 0"),
        ({"n_messages": 2.0}, TypeError, r"2\.0"),
        ({"n_types": True}, TypeError, "True"),
        ({"prior": [0.5, 0.5, 0.5]}, ValueError, "1.5"),
        ({"prior": [1.2, -0.1, -0.1]}, ValueError, r"-0\.1"),
        ({"prior": [0.5, 0.5]}, ValueError, r"\(2,\)"),
        ({"prior": [0.5, np.nan, 0.5]}, ValueError, "nan"),
    ],
)
def test_bad_configuration_is_rejected_naming_the_value(kwargs, error, match):
    with pytest.raises(error, match=match):
        SimpleAllocation(**kwargs)


def test_bad_play_is_rejected_naming_the_value():
    game = SimpleAllocation(n_messages=2)
    with pytest.raises(ValueError, match="message must be in \\[0, 2\\), got 2"):
        game.start([0], [2])
    with pytest.raises(ValueError, match="type must be in \\[0, 3\\), got -1"):
        game.start([-1], [0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        game.start([0, 1], [0])
    with pytest.raises(TypeError, match=r"1\.0"):
        game.start([0], [1.0])
    state = game.start([0], [1])
    with pytest.raises(ValueError, match="item must be in \\[0, 3\\), got 3"):
        game.leader_step(state, 3)
    with pytest.raises(ValueError, match="got -1"):
        game.leader_step(state, -1)
    with pytest.raises(TypeError, match=r"0\.5"):
        game.leader_step(state, 0.5)
    with pytest.raises(ValueError, match="not ended"):
        game.outcome(state)
    over = game.leader_step(state, np.int64(0))
    assert game.is_over(over)
    with pytest.raises(ValueError, match="over"):
        game.leader_step(over, 0)


# -- the PettingZoo environment ---------------------------------------------------------

API_WARNINGS = [
    "ignore:Observation:UserWarning",
    "ignore:Agents have different observation space sizes:UserWarning",
]


@pytest.mark.filterwarnings(*API_WARNINGS)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"n_messages": 1}, {"n_messages": 2, "prior": [0.5, 0.3, 0.2]}, {"n_types": 5}],
)
def test_env_passes_the_pettingzoo_api_and_seed_tests(kwargs):
    pzt.api_test(env(**kwargs), num_cycles=10)
    pzt.seed_test(lambda: env(**kwargs))


@pytest.mark.parametrize(("k", "prior"), [(1, None), (2, None), (3, None), (2, [0.1, 0.2, 0.7])])
def test_env_best_responding_follower_earns_the_reference_value(k, prior):
    aec = env(n_messages=k, prior=prior)
    game = aec.unwrapped.game
    items = game.reference().optimal_policy.items
    value = 0.0
    for theta in range(3):
        # The follower's best response: a message mapped to its type, if there is one.
        message = items.index(theta) if theta in items else 0
        aec.reset(seed=0, options={"types": [theta]})
        rewards = {}
        for agent in aec.agent_iter():
            observation, reward, termination, truncation, _ = aec.last()
            if termination or truncation:
                rewards[agent] = reward
                aec.step(None)
            elif agent == "follower_0":
                assert observation["observation"].tolist() == np.eye(3)[theta].tolist()
                aec.step(message)
            else:
                aec.step(items[int(observation["observation"])])
        assert rewards["leader_0"] == rewards["follower_0"]
        value += game.prior[theta] * rewards["leader_0"]
    assert value == pytest.approx(game.reference().optimum, abs=TOL)


def test_env_rejects_an_out_of_range_item():
    aec = raw_env()
    aec.reset(seed=0)
    aec.step(0)
    with pytest.raises(ValueError, match="3"):
        aec.step(3)


def test_registered_id_builds_the_env_with_kwargs():
    import pettingzoo

    import stackelberg_zoo.envs  # noqa: F401  (registers the ids)

    aec = pettingzoo.make("aec", "stackelberg/simple-allocation-v0", n_messages=2)
    assert aec.unwrapped.game.reference().optimum == pytest.approx(2 / 3, abs=TOL)
    assert aec.unwrapped.metadata["name"] == "simple_allocation_v0"
