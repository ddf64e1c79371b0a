"""A new follower model is one file plus one registry line: here the file is this test.

The model below (optimistic Hedge fed by the paper's counterfactual sweeps) is defined, registered
by name and then used by name through the single environment and the Gymnasium vector env,
which must agree step for step, and through ``baselines/mappo.py`` (``--follower`` accepts any
registered name; run as a script, this file registers the model and hands its arguments to
mappo.py, in a subprocess so that this process's registry stays untouched); no library file
knows about it.
"""

import importlib.util
import json
import runpy
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
from stackelberg_zoo.envs.pomdp.vector import StackelbergPOMDPVectorEnv
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
MAPPO = Path(__file__).resolve().parents[1] / "baselines" / "mappo.py"


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


def load_mappo():
    """``baselines/mappo.py`` as a module (without running its main block)."""
    spec = importlib.util.spec_from_file_location("_trainer_mappo_registry", MAPPO)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


def test_mappo_takes_the_batched_env_for_a_registered_model(registered):
    mappo = load_mappo()
    args = mappo.Args(env_id="StackelbergZoo/SimpleAllocationPOMDP-v0", follower=registered)
    mappo.check_args(args)  # --follower accepts the registered name
    envs = mappo.make_envs(args, {"n_response": 36, "n_reward": 3})
    try:
        assert isinstance(envs, StackelbergPOMDPVectorEnv)  # --vectorization auto
        assert isinstance(envs.pomdp.algorithm, OptimisticHedgeResponse)
    finally:
        envs.close()


def test_mappo_trains_against_a_model_registered_from_outside(tmp_path):
    flags = ["--env-id", "StackelbergZoo/SimpleAllocationPOMDP-v0", "--follower", NAME]
    flags += ["--env-kwargs", json.dumps({"n_messages": 2, "n_response": 36, "n_reward": 3})]
    flags += ["--num-envs", "2", "--num-steps", "64", "--total-timesteps", "512"]
    flags += ["--eval-every", "2", "--eval-episodes", "2", "--no-progress-bar"]
    flags += ["--no-stop-at-optimum"]
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *flags],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"followers {NAME}, critic state" in result.stdout, result.stdout
    (run,) = (tmp_path / "runs" / "StackelbergZoo").glob("SimpleAllocationPOMDP-v0__*")
    assert json.loads((run / "mechanism.json").read_text())["env_id"].endswith("POMDP-v0")
    refused = subprocess.run(
        [sys.executable, str(MAPPO), *flags],  # the model is not registered there
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2
    assert "--follower must be one of" in refused.stderr and repr(NAME) in refused.stderr


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


if __name__ == "__main__":
    register_follower_model(NAME, OptimisticHedgeResponse)
    sys.argv = [str(MAPPO), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
