"""A new follower model is one file plus one registry line: here the file is this test.

The model below (optimistic Hedge fed by the paper's counterfactual sweeps) is defined, registered
by name and then used by name through the single environment and the Gymnasium vector env,
which must agree step for step; no library file knows about it.
"""

from dataclasses import dataclass

import gymnasium
import numpy as np
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.pomdp.followers import (
    MultiplicativeWeightsResponse,
    SweepResponse,
    follower_models,
    register_follower_model,
    response_algorithm,
    unregister_follower_model,
)
from stackelberg_zoo.envs.pomdp.registration import pomdp_setting
from stackelberg_zoo.equilibrium import bounds
from stackelberg_zoo.equilibrium.learners import OptimisticHedge


# -- the whole new model --------------------------------------------------------------------------
@dataclass(frozen=True)
class OptimisticHedgeResponse(SweepResponse):
    """Optimistic Hedge learners with the paper's counterfactual sweeps."""

    eta: float = 0.5
    reward_play: str = "argmax"
    name = "optimistic_hedge_test"

    def learner(self, batch_shape, n_actions):
        return OptimisticHedge(batch_shape, n_actions, eta=self.eta)

    def regret_bound(self, rounds, n_actions, payoff_range):
        return bounds.optimistic_hedge_bound(rounds, n_actions, payoff_range, self.eta)


NAME = OptimisticHedgeResponse.name


@pytest.fixture
def registered():
    register_follower_model(NAME, OptimisticHedgeResponse)  # the one registry line
    try:
        yield NAME
    finally:
        unregister_follower_model(NAME)  # leave the registry as the other tests expect it


def test_a_registered_model_is_listed_and_resolved_by_name(registered):
    assert registered in follower_models()
    assert list(follower_models()) == sorted(follower_models())
    assert response_algorithm(registered) == OptimisticHedgeResponse()


@pytest.mark.parametrize(
    ("setting", "kwargs"),
    [
        ("simple_allocation", {"n_messages": 2, "prior": [0.5, 0.3, 0.2], "n_response": 36}),
        ("mspm", {"values": "uniform", "n_values": 2, "n_messages": 2, "n_response": 40}),
    ],
)
def test_a_registered_model_runs_in_the_single_and_the_vector_env_alike(
    registered, setting, kwargs
):
    gym_id = pomdp_setting(setting).gymnasium_id
    kwargs = {**kwargs, "n_reward": 3, "followers": registered}
    seeds = [7, 8]
    vector = gymnasium.make_vec(gym_id, num_envs=len(seeds), **kwargs)
    singles = [gymnasium.make(gym_id, **kwargs) for _ in seeds]
    assert isinstance(vector.pomdp.algorithm, OptimisticHedgeResponse)
    assert isinstance(singles[0].unwrapped.pomdp.algorithm, OptimisticHedgeResponse)
    obs, info = vector.reset(seed=seeds)
    for b, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        observation, single_info = env.reset(seed=seed)
        np.testing.assert_array_equal(obs[b], observation)
        np.testing.assert_array_equal(info["state"][b], single_info["state"])
    rng = np.random.default_rng(1)
    space = vector.single_action_space
    episodes = np.zeros(len(seeds), dtype=int)
    most_rounds = 0
    while episodes.min() < 2:
        if isinstance(space, gymnasium.spaces.Discrete):
            actions = rng.integers(space.n, size=len(seeds))
        else:
            actions = rng.uniform(space.low, space.high, (len(seeds), *space.shape))
            actions = actions.astype(space.dtype)
        obs, rewards, terminations, _, info = vector.step(actions)
        for b, env in enumerate(singles):
            observation, reward, terminated, _, single_info = env.step(actions[b])
            assert reward == rewards[b] and terminated == terminations[b]
            state = info["final_info"]["state"][b] if terminated else info["state"][b]
            np.testing.assert_array_equal(state, single_info["state"])
            if terminated:
                episodes[b] += 1
                observation, _ = env.reset()
            np.testing.assert_array_equal(obs[b], observation)
            assert vector.pomdp.rounds[b] == env.unwrapped.pomdp.followers.rounds
        most_rounds = max(most_rounds, int(vector.pomdp.rounds.min()))
    assert most_rounds > 0  # the learners did learn


def test_registering_checks_the_name_and_the_factory():
    with pytest.raises(ValueError, match="already registered as 'mw'"):
        register_follower_model("mw", MultiplicativeWeightsResponse)
    with pytest.raises(ValueError, match="lowercase identifier, got 'My Model'"):
        register_follower_model("My Model", MultiplicativeWeightsResponse)
    with pytest.raises(TypeError, match="name must be a str, got int"):
        register_follower_model(3, MultiplicativeWeightsResponse)
    with pytest.raises(TypeError, match="factory must be callable, got 3"):
        register_follower_model("not_callable_test", 3)
    assert "not_callable_test" not in follower_models()
    with pytest.raises(ValueError, match="no follower model is registered as 'nope'"):
        unregister_follower_model("nope")


def test_a_factory_that_makes_something_else_is_refused():
    register_follower_model("broken_factory_test", lambda: "mw")
    try:
        with pytest.raises(TypeError, match="registered as 'broken_factory_test' made 'mw'"):
            response_algorithm("broken_factory_test")
    finally:
        unregister_follower_model("broken_factory_test")
