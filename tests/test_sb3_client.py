"""A third-party client: Stable-Baselines3 trains on the Gymnasium view with no adapter.

Stable-Baselines3 is in the ``test`` extra; the module is skipped where it is not installed.
"""

import gymnasium
import numpy as np
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)

sb3 = pytest.importorskip("stable_baselines3")
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402

CASES = [
    ("StackelbergZoo/NormalFormPOMDP-v0", {"game": "escape"}),
    ("StackelbergZoo/SimpleAllocationPOMDP-v0", {}),
]


@pytest.mark.parametrize(("gym_id", "kwargs"), CASES)
def test_sb3_check_env_accepts_the_gymnasium_view(gym_id, kwargs):
    env = gymnasium.make(gym_id, **kwargs)
    check_env(env.unwrapped, warn=True, skip_render_check=True)
    check_env(env, warn=True, skip_render_check=True)


@pytest.mark.parametrize(("gym_id", "kwargs"), CASES)
def test_sb3_ppo_trains_on_the_unmodified_env(gym_id, kwargs):
    env = gymnasium.make(gym_id, **kwargs)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=1024)
    assert model.num_timesteps >= 1024
    observation, _ = env.reset(seed=1)
    action, _ = model.predict(observation, deterministic=True)
    assert env.action_space.contains(np.asarray(action).astype(env.action_space.dtype).item())
    # Whole episodes run with the trained policy; the return is the leader's average utility.
    total, terminated = 0.0, False
    while not terminated:
        action, _ = model.predict(observation, deterministic=True)
        observation, reward, terminated, truncated, info = env.step(int(action))
        assert not truncated
        assert "state" in info and info["state"].shape == env.unwrapped.state_space.shape
        total += reward
    assert np.isfinite(total)
