"""The single-file trainers in baselines/: tiny end-to-end runs and their tricky pieces.

Trainers are scripts, never imported by the package; the unit tests load a trainer file by
path (its training loop sits under ``if __name__ == "__main__"``, so loading runs nothing).
"""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from trainer_scripts import BASELINES, load_trainer, run_trainer

from stackelberg_zoo.envs.pomdp.followers import MultiplicativeWeightsResponse

TRAINERS = ("mappo.py", "random_search.py", "ippo_simultaneous.py")


@pytest.fixture(scope="module")
def mappo():
    return load_trainer("mappo.py", "_trainer_")


# -- end to end ---------------------------------------------------------------------------------


def test_help_of_every_trainer(tmp_path):
    # The three start-ups run concurrently: importing torch dominates each.
    processes = [
        subprocess.Popen(
            [sys.executable, str(BASELINES / trainer), "--help"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for trainer in TRAINERS
    ]
    for trainer, process in zip(TRAINERS, processes, strict=True):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, (trainer, err[-2000:])
        assert "--env-id" in out and "--seed" in out and "--total-timesteps" in out, trainer
        assert "Warning" not in err, (trainer, err)


@pytest.mark.slow
def test_mappo_smoke_escape_state_critic(tmp_path):
    out = run_trainer(
        "mappo.py",
        *("--total-timesteps", "2048", "--num-envs", "4", "--num-steps", "101"),
        *("--no-stop-at-optimum", "--env-kwargs", '{"game": "escape"}'),
        cwd=tmp_path,
    )
    assert "leader commits to row" in out
    assert "exact optimum 1.000000" in out


def test_mappo_smoke_box_actions_obs_critic_basic_pomdp(tmp_path):
    out = run_trainer(
        "mappo.py",
        *("--env-id", "StackelbergZoo/MatrixDesignPOMDP-v0", "--env-kwargs", "{}"),
        *("--total-timesteps", "1024", "--num-envs", "4", "--num-steps", "62"),
        *("--critic", "obs", "--response-phase-prob", "0.5", "--no-stop-at-optimum"),
        cwd=tmp_path,
    )
    assert "-> payments" in out and "BCCE gap" in out and "exact optimum 1.666667" in out
    runs = list((tmp_path / "runs").glob("StackelbergZoo/MatrixDesignPOMDP-v0__mappo__1__*"))
    assert len(runs) == 1
    assert (runs[0] / "mappo.cleanrl_model").is_file()
    assert (runs[0] / "mechanism.json").is_file()
    assert list(runs[0].glob("events.out.tfevents.*"))


def test_mappo_smoke_exp3_in_matrix_design_takes_the_payments_into_its_bounds(tmp_path):
    # Payments lift follower utilities to 1 + max_payment: EXP3 must take the game's bounds.
    out = run_trainer(
        "mappo.py",
        *("--env-id", "StackelbergZoo/MatrixDesignPOMDP-v0", "--follower", "exp3"),
        *("--total-timesteps", "256", "--num-envs", "4", "--num-steps", "16"),
        *("--no-stop-at-optimum", "--no-save-model"),
        cwd=tmp_path,
    )
    assert "-> payments" in out and "followers exp3" in out and "regret bound" in out


@pytest.mark.slow
def test_mappo_smoke_sync_vector_other_followers(tmp_path):
    out = run_trainer(
        "mappo.py",
        *("--env-id", "StackelbergZoo/SimpleAllocationPOMDP-v0"),
        *("--env-kwargs", '{"n_messages": 2, "n_response": 20, "n_reward": 5}'),
        *("--follower", "hedge", "--total-timesteps", "500", "--num-envs", "4"),
        *("--num-steps", "25", "--no-save-model"),
        cwd=tmp_path,
    )
    assert "message 0 -> item" in out and "followers hedge" in out


@pytest.mark.slow
def test_mappo_smoke_mspm(tmp_path):
    out = run_trainer(
        "mappo.py",
        *("--env-id", "StackelbergZoo/MspmPOMDP-v0"),
        *("--env-kwargs", '{"values": "pi", "n_response": 40, "n_reward": 10}'),
        *("--total-timesteps", "1024", "--num-envs", "4", "--num-steps", "64", "--no-save-model"),
        *("--mw-eps", "0.5"),
        cwd=tmp_path,
    )
    assert "visit follower" in out and "followers mw eps=0.5" in out


def test_followers_of_applies_mw_eps_to_mw_only(mappo):
    assert mappo.followers_of(mappo.Args()).eps == 0.01
    followers = mappo.followers_of(mappo.Args(mw_eps=0.5))
    assert isinstance(followers, MultiplicativeWeightsResponse) and followers.eps == 0.5
    assert mappo.followers_of(mappo.Args(follower="hedge")) == "hedge"
    with pytest.raises(ValueError, match="--follower hedge"):
        mappo.followers_of(mappo.Args(follower="hedge", mw_eps=0.5))
    with pytest.raises(ValueError, match="eps"):
        mappo.followers_of(mappo.Args(mw_eps=0.0))


@pytest.mark.slow
def test_mappo_reaches_escape_optimum(tmp_path):
    out = run_trainer(
        "mappo.py", "--env-kwargs", '{"game": "escape"}', "--no-save-model", cwd=tmp_path
    )
    assert "TARGET REACHED" in out and "leader commits to row 2" in out


def test_random_search_smoke(tmp_path):
    out = run_trainer(
        "random_search.py",
        *("--env-id", "StackelbergZoo/SimpleAllocationPOMDP-v0", "--env-kwargs", "{}"),
        *("--total-timesteps", "2048", "--num-envs", "4", "--no-stop-at-optimum"),
        cwd=tmp_path,
    )
    assert "best committed policy" in out and "message 2 -> item" in out
    assert list((tmp_path / "runs").glob("StackelbergZoo/*/mechanism.json"))


def test_ippo_smoke(tmp_path):
    out = run_trainer(
        "ippo_simultaneous.py",
        *("--env-id", "stackelberg/simple-allocation-v0", "--env-kwargs", '{"n_messages": 2}'),
        *("--total-timesteps", "256", "--num-envs", "4", "--num-steps", "16"),
        cwd=tmp_path,
    )
    assert "independent PPO" in out and "message 1 -> item" in out
    assert list((tmp_path / "runs").glob("stackelberg/*/ippo_simultaneous.cleanrl_model"))


@pytest.mark.slow
def test_ippo_smoke_mixed_leader(tmp_path):
    out = run_trainer(
        "ippo_simultaneous.py",
        *("--env-kwargs", '{"game": "maintain", "mixed_leader": true}'),
        *("--total-timesteps", "128", "--num-envs", "4", "--num-steps", "8", "--no-save-model"),
        cwd=tmp_path,
    )
    assert "leader mix over rows" in out


@pytest.mark.slow
def test_bad_env_kwargs_are_rejected(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BASELINES / "mappo.py"), "--env-kwargs", "[1, 2]"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "must be a JSON object, got '[1, 2]'" in result.stderr


# -- the commitment cache -----------------------------------------------------------------------


def test_cache_commits_per_observation_and_env(mappo):
    cache = mappo.CommitmentCache(3)
    obs = np.array([[0, 1], [0, 1], [1, 0]])
    keys = cache.keys(obs)
    out = np.full(3, -1)
    assert cache.lookup(keys, out) == [0, 1, 2]
    cache.store([0, 1, 2], keys, np.array([5, 6, 7]))
    # Same observations again: committed actions, nothing missing.
    assert cache.lookup(cache.keys(obs), out) == [] and out.tolist() == [5, 6, 7]
    # A new observation in env 0 is missing only there; env 1's commitment is its own.
    obs2 = np.array([[1, 1], [0, 1], [1, 0]])
    out[:] = -1
    assert cache.lookup(cache.keys(obs2), out) == [0] and out.tolist() == [-1, 6, 7]
    cache.clear([1])
    assert cache.lookup(cache.keys(obs2), out) == [0, 1]


def test_cache_keys_are_exact_and_copies_are_stored(mappo):
    cache = mappo.CommitmentCache(1)
    a, b = (
        np.array([[0.1, 0.2]], np.float32),
        np.array([[0.1, np.nextafter(0.2, 1, dtype=np.float32)]]),
    )
    assert cache.keys(a) != cache.keys(b.astype(np.float32))
    action = np.array([[0.3, 0.4]])
    cache.store([0], cache.keys(a), action)
    action[0, 0] = 9.0  # mutating the sampled array must not change the commitment
    out = np.zeros((1, 2))
    cache.lookup(cache.keys(a), out)
    assert out.tolist() == [[0.3, 0.4]]


def test_rollout_with_cache_never_triggers_env_replacement(mappo):
    """The env's own commitment check (info["replaced"]) never fires under the cache."""
    import stackelberg_zoo.envs  # noqa: F401

    envs = gym.make_vec(
        "StackelbergZoo/SimpleAllocationPOMDP-v0",
        num_envs=3,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        n_response=9,
        n_reward=4,
    )
    cache, rng = mappo.CommitmentCache(3), np.random.default_rng(0)
    obs, _ = envs.reset(seed=0)
    out, episodes = np.zeros(3, dtype=np.int64), 0
    seen: list[dict] = [{} for _ in range(3)]
    for _ in range(60):
        keys = cache.keys(obs)
        missing = cache.lookup(keys, out)
        sampled = rng.integers(3, size=len(missing))
        cache.store(missing, keys, sampled)
        out[missing] = sampled
        for i, key in enumerate(keys):  # one action per observation per episode
            assert seen[i].setdefault(key, int(out[i])) == int(out[i])
        obs, _, term, _, info = envs.step(out.copy())
        replaced = np.asarray(info.get("replaced", np.zeros(3)), dtype=bool)
        assert not np.any(replaced & ~term)
        for i in np.flatnonzero(term):
            seen[i] = {}
            episodes += 1
        cache.clear(np.flatnonzero(term))
    assert episodes >= 3


# -- advantages ---------------------------------------------------------------------------------


def naive_gae(rewards, values, terminated, next_value, gamma, lam):
    """A_t = Σ_k (γλ)^k δ_{t+k}, summed explicitly within the episode of t."""
    steps, envs = rewards.shape
    advantages = np.zeros((steps, envs))
    for i in range(envs):
        for t in range(steps):
            total, factor = 0.0, 1.0
            for u in range(t, steps):
                following = next_value[i] if u == steps - 1 else values[u + 1, i]
                alive = 1.0 - terminated[u, i]
                delta = rewards[u, i] + gamma * following * alive - values[u, i]
                total += factor * delta
                if not alive:
                    break
                factor *= gamma * lam
            advantages[t, i] = total
    return advantages


@pytest.mark.parametrize(("gamma", "lam"), [(1.0, 1.0), (1.0, 0.95), (0.9, 0.8), (0.99, 0.0)])
def test_gae_matches_naive_loop(mappo, gamma, lam):
    rng = np.random.default_rng(3)
    rewards = rng.normal(size=(23, 4))
    values = rng.normal(size=(23, 4))
    terminated = (rng.random((23, 4)) < 0.15).astype(np.float64)
    next_value = rng.normal(size=4)
    advantages, returns = mappo.compute_gae(rewards, values, terminated, next_value, gamma, lam)
    expected = naive_gae(rewards, values, terminated, next_value, gamma, lam)
    np.testing.assert_allclose(advantages, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(returns, expected + values, rtol=1e-12, atol=1e-12)


def test_gae_undiscounted_monte_carlo_is_return_to_go(mappo):
    # γ = λ = 1 and one reward at the end of the episode: every step's return is that reward.
    rewards = np.zeros((6, 1))
    rewards[3, 0], rewards[5, 0] = 0.7, 0.2
    terminated = np.zeros((6, 1))
    terminated[3, 0] = 1.0
    values = np.full((6, 1), 0.5)
    advantages, returns = mappo.compute_gae(rewards, values, terminated, np.array([0.4]), 1.0, 1.0)
    np.testing.assert_allclose(returns[:4, 0], 0.7)
    np.testing.assert_allclose(returns[4:, 0], [0.6, 0.6])  # bootstrapped from next_value
    np.testing.assert_allclose(advantages, returns - values)


# -- action heads -------------------------------------------------------------------------------


def test_clipped_gaussian_head_hits_bounds_and_scales(mappo):
    space = gym.spaces.Box(0.0, 10.0, (2,), np.float32)
    agent = mappo.Agent(3, 3, space, hidden=8)
    raw = np.array([[-0.5, 0.25], [1.7, 1.0]])
    actions = agent.to_env(raw)
    assert actions.dtype == np.float32
    np.testing.assert_array_equal(actions, [[0.0, 2.5], [10.0, 10.0]])
    torch.manual_seed(0)
    samples = agent.to_env(agent.sample(torch.zeros(4000, 3)))
    assert space.contains(samples[0]) and np.all((samples >= 0) & (samples <= 10))
    assert np.mean(samples == 0.0) > 0.05  # positive mass exactly at the bound
    # The initial mean sits mid-box: the greedy action is about 5.
    np.testing.assert_allclose(agent.to_env(agent.mode(torch.zeros(1, 3))), 5.0, atol=0.5)


def test_gaussian_log_prob_is_sum_over_dimensions(mappo):
    space = gym.spaces.Box(0.0, 1.0, (3,), np.float64)
    agent = mappo.Agent(2, 2, space, hidden=8, init_std=0.3)
    obs = torch.randn(5, 2)
    raw = torch.randn(5, 3)
    logprob, entropy = agent.log_prob_entropy(obs, raw)
    mean = agent.actor(obs)
    expected = torch.distributions.Normal(mean, 0.3).log_prob(raw).sum(-1)
    torch.testing.assert_close(logprob, expected)
    assert agent.to_env(raw.numpy()).dtype == np.float64
    torch.testing.assert_close(entropy, torch.distributions.Normal(mean, 0.3).entropy().sum(-1))


def test_categorical_head_respects_mask_and_start(mappo):
    space = gym.spaces.Discrete(4, start=1)
    agent = mappo.Agent(2, 2, space, hidden=8)
    mask = torch.tensor([[0, 1, 0, 1]] * 500, dtype=torch.float32)
    torch.manual_seed(1)
    raw = agent.sample(torch.zeros(500, 2), mask)
    assert set(raw.tolist()) == {1, 3}
    assert set(agent.to_env(raw).tolist()) == {2, 4}
    logprob, _ = agent.log_prob_entropy(torch.zeros(2, 2), torch.tensor([1, 3]), mask[:2])
    torch.testing.assert_close(logprob.exp(), torch.full((2,), 0.5), atol=0.02, rtol=0)
    assert agent.mode(torch.zeros(1, 2), mask[:1])[0] in (1, 3)


def test_flatten_observations(mappo):
    multi = gym.spaces.MultiDiscrete([2, 3])
    flat = mappo.flatten_observations(multi, np.array([[1, 2], [0, 0]]))
    np.testing.assert_array_equal(flat, [[0, 1, 0, 0, 1], [1, 0, 1, 0, 0]])
    assert flat.shape[1] == mappo.flat_dim(multi)
    np.testing.assert_array_equal(
        mappo.flatten_observations(gym.spaces.Discrete(3), np.array([2])), [[0, 0, 1]]
    )
    with pytest.raises(TypeError, match="MultiBinary"):
        mappo.flatten_observations(gym.spaces.MultiBinary(2), np.zeros((1, 2)))


def test_learning_target_of_mixed_maintain_is_the_robust_commitment():
    from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg

    game = NormalFormStackelberg("maintain", mixed_leader=True)
    target = game.learning_target(margin=0.005)
    assert game.reference().optimum == pytest.approx(27.5 / 30)
    # Strict margin 0.005: x0 = 0.2575 (15 x0 - 5 x1 = 0.15), leader 30 - 10 x0 over 30.
    assert target.value == pytest.approx((30 - 10 * 0.2575) / 30, abs=1e-9)
    assert "robust_commitment" in target.meaning
    pure = NormalFormStackelberg("maintain")
    assert pure.learning_target(margin=0.005).value == pytest.approx(20 / 30)
    assert pure.reference().optimum == pytest.approx(20 / 30)


def test_greedy_policy_is_memoised_and_exact_evaluation(mappo):
    import stackelberg_zoo.envs  # noqa: F401

    env = gym.make("StackelbergZoo/NormalFormPOMDP-v0", game="escape")
    agent = mappo.Agent(1, 1, env.action_space, hidden=8)
    with torch.no_grad():  # force row 2
        agent.actor[-1].bias.copy_(torch.tensor([0.0, 0.0, 5.0]))
    result = mappo.evaluate(agent, env, episodes=2, seed=0)
    assert result.leader_value == pytest.approx(1.0)
    assert result.episode_return == pytest.approx(1.0)
    assert result.deviation_gain == pytest.approx(0.0, abs=1e-12)
    assert len(result.policy.table) == 1
    with torch.no_grad():  # row 0: the follower answers column 0, leader 15/30
        agent.actor[-1].bias.copy_(torch.tensor([5.0, 0.0, 0.0]))
    assert mappo.evaluate(agent, env, episodes=1, seed=0).leader_value == pytest.approx(0.5)


@pytest.mark.slow
def test_mappo_reaches_zero_loss_mspm_pi(tmp_path):
    """`make train`: the paper's PI instance with two messages, trained to zero welfare loss."""
    result = subprocess.run(
        [sys.executable, str(BASELINES / "mappo.py"), "--no-progress-bar", "--no-save-model"]
        + ["--env-id", "StackelbergZoo/MspmPOMDP-v0"]
        + ["--env-kwargs", '{"values": "pi", "n_messages": 2}', "--seed", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "TARGET REACHED" in result.stdout, result.stdout[-3000:]
    assert "exact optimum 0.000000  gap 0.000000" in result.stdout  # zero welfare loss
