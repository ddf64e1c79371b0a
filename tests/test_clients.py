"""Third-party clients, unmodified, on every registered id: the one home of the client matrix.

The ids come from the registries themselves (PettingZoo's AEC and parallel registries,
Gymnasium's), so a newly registered id joins every test here with its default arguments;
``test_conformance.CASES`` adds representative arguments for the multi-agent ids and
:data:`POMDP_EXTRA` for the POMDPs. Clients and what runs:

* PettingZoo 1.27's kit: ``api_test``, ``seed_test``, ``test_state_space`` / ``test_state``,
  ``render_test`` and a ``performance_benchmark`` smoke run (on a fake clock) on every AEC id;
  ``parallel_api_test``, ``parallel_seed_test`` and ``state_test`` on every parallel id and on
  ``aec_to_parallel`` of every AEC env that declares ``is_parallelizable``.
  ``max_cycles_test`` does not apply: it needs an episode of exactly ``max_cycles`` cycles,
  while one episode here is one sub-game (``max_cycles`` caps the leader's turns in it; see
  ``tests/test_conformance.py::test_max_cycles_truncates_a_long_sub_game``).
* Gymnasium 1.4: ``check_env`` and ``RecordEpisodeStatistics`` on every Gymnasium id, the
  vector ``RecordEpisodeStatistics`` on ``make_vec`` of every id.
* Stable-Baselines3: ``check_env`` on every Gymnasium id, a short PPO run on two.
* SuperSuit 3.11: ``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1`` on every parallel
  env; it needs identical spaces for all agents, so where they differ (mixed leader, non-square
  games) the test asserts SuperSuit's own error (documented on the status page).
* TorchRL: ``PettingZooWrapper`` + ``check_env_specs`` + a whole-episode rollout on every AEC
  id and every parallel id.

Our own determinism harness (PettingZoo 1.27's parallel seed test checks one step) and the
driver's edge cases stay in ``tests/test_conformance.py``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import warnings

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from pettingzoo import test as pzt
from pettingzoo.utils.conversions import aec_to_parallel
from test_conformance import CASES, MaskAwareProxy, only_known_warnings

import stackelberg_zoo.envs as zoo
from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS

# ----------------------------------------------------------------------------- the matrix

NAMESPACE = f"{zoo.NAMESPACE}/"
GYM_NAMESPACE = "StackelbergZoo/"
AEC_IDS = sorted(i for i in pettingzoo.aec_registry if i.startswith(NAMESPACE))
PARALLEL_IDS = sorted(i for i in pettingzoo.parallel_registry if i.startswith(NAMESPACE))
GYM_IDS = sorted(i for i in gymnasium.registry if i.startswith(GYM_NAMESPACE))

SETTING_OF = {s.pettingzoo_id: s.name for s in POMDP_SETTINGS} | {
    s.gymnasium_id: s.name for s in POMDP_SETTINGS
}
SHORT = {"n_response": 6, "n_reward": 2}
"""Short POMDP episodes: every test here plays several whole ones."""
POMDP_EXTRA = {"normal_form": [{"game": "maintain", "mixed_leader": True}]}
"""POMDP arguments beyond the defaults (the mixed leader's Box action)."""


def pomdp_cases(env_id: str) -> list[dict]:
    return [dict(SHORT), *({**SHORT, **extra} for extra in POMDP_EXTRA.get(SETTING_OF[env_id], []))]


def id_cases(ids):
    for env_id in ids:
        is_pomdp = env_id in SETTING_OF
        kwargs_list = pomdp_cases(env_id) if is_pomdp else CASES.get(env_id, [{}])
        for k, kwargs in enumerate(kwargs_list):
            yield pytest.param(env_id, kwargs, id=f"{env_id.split('/')[1]}-{k}")


AEC_CASES = list(id_cases(AEC_IDS))
PARALLEL_CASES = list(id_cases(PARALLEL_IDS))
GYM_CASES = list(id_cases(GYM_IDS))
DEFAULT_AEC = [pytest.param(i, dict(SHORT) if i in SETTING_OF else {}, id=i) for i in AEC_IDS]


def make_aec(env_id, kwargs, **extra):
    return pettingzoo.make("aec", env_id, **kwargs, **extra)


def make_parallel(env_id, kwargs, **extra):
    return pettingzoo.make("parallel", env_id, **kwargs, **extra)


def test_the_matrix_covers_every_registered_id():
    pomdp_pz = {s.pettingzoo_id for s in POMDP_SETTINGS}
    assert set(AEC_IDS) == set(zoo.ENV_IDS) | pomdp_pz
    assert set(PARALLEL_IDS) == set(zoo.PARALLEL_ENV_IDS)
    assert set(GYM_IDS) == {s.gymnasium_id for s in POMDP_SETTINGS}
    assert len(AEC_CASES) >= len(AEC_IDS) and len(GYM_CASES) >= len(GYM_IDS)


# ----------------------------------------------------------------------------- PettingZoo


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_pettingzoo_api_test(env_id, kwargs):
    env = make_aec(env_id, kwargs)
    with only_known_warnings():
        pzt.api_test(env, num_cycles=100)
    env.reset(seed=1)
    assert env.unwrapped.state_space.contains(env.state())


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_pettingzoo_seed_test(env_id, kwargs):
    with only_known_warnings():
        pzt.seed_test(lambda: make_aec(env_id, kwargs), num_cycles=50)


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_pettingzoo_state_test(env_id, kwargs):
    kit = importlib.import_module("pettingzoo.test.state_test")
    env = make_aec(env_id, kwargs)
    with only_known_warnings():
        kit.test_state_space(env)
        kit.test_state(MaskAwareProxy(env), num_cycles=50)


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_pettingzoo_render_test(env_id, kwargs, capsys):
    # The multi-agent table names every agent; the POMDP's lines name the phase.
    expected = "phase" if env_id in SETTING_OF else "follower_0"

    def is_text(text):
        return isinstance(text, str) and "leader" in text and expected in text

    pzt.render_test(
        lambda render_mode=None: make_aec(env_id, kwargs, render_mode=render_mode),
        custom_tests={"ansi": is_text},
    )
    printed = capsys.readouterr().out
    assert "leader" in printed and expected in printed  # "human" printed the text


class FakeClock:
    """``time.time`` for ``performance_benchmark``: 0.05 s per call, so it stops at once."""

    def __init__(self):
        self.now = 0.0

    def time(self):
        self.now += 0.05
        return self.now


@pytest.mark.parametrize(("env_id", "kwargs"), DEFAULT_AEC)
def test_pettingzoo_performance_benchmark_smoke(env_id, kwargs, monkeypatch):
    module = importlib.import_module("pettingzoo.test.performance_benchmark")
    monkeypatch.setattr(module, "time", FakeClock())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        pzt.performance_benchmark(make_aec(env_id, kwargs))
    lines = out.getvalue().splitlines()
    assert lines[-1] == "Finished performance benchmark"
    turns, cycles = (float(line.split()[0]) for line in lines[-3:-1])  # per fake second
    assert turns >= cycles > 0  # every cycle stepped at least one agent


@pytest.mark.parametrize(("env_id", "kwargs"), PARALLEL_CASES)
def test_pettingzoo_parallel_kit(env_id, kwargs):
    with only_known_warnings():
        pzt.parallel_api_test(make_parallel(env_id, kwargs), num_cycles=100)
        pzt.parallel_seed_test(lambda: make_parallel(env_id, kwargs), num_cycles=50)
        pzt.state_test(make_aec(env_id, kwargs), make_parallel(env_id, kwargs), num_cycles=20)


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_aec_to_parallel_exactly_where_the_env_says_it_is_parallelizable(env_id, kwargs):
    env = make_aec(env_id, kwargs)
    if not env.metadata["is_parallelizable"]:
        with pytest.raises(AssertionError, match="is_parallelizable"):
            aec_to_parallel(env)
        return
    # aec_to_parallel steps the agents in the order of `agents`: the order of play.
    env.reset(seed=0)
    order = []
    for agent in env.agent_iter():
        observation, _, terminated, truncated, _ = env.last()
        order.append(agent)
        mask = observation.get("action_mask") if isinstance(observation, dict) else None
        env.step(None if terminated or truncated else env.action_space(agent).sample(mask))
    assert order[: len(env.possible_agents)] == env.possible_agents
    with only_known_warnings():
        pzt.parallel_api_test(aec_to_parallel(make_aec(env_id, kwargs)), num_cycles=100)
        pzt.parallel_seed_test(lambda: aec_to_parallel(make_aec(env_id, kwargs)), num_cycles=50)


# ----------------------------------------------------------------------------- Gymnasium


@pytest.mark.parametrize(("gym_id", "kwargs"), GYM_CASES)
def test_gymnasium_check_env(gym_id, kwargs):
    for render_mode in (None, "ansi", "human"):
        env = gymnasium.make(gym_id, render_mode=render_mode, **kwargs).unwrapped
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.filterwarnings("ignore", message=".*symmetric and normalized space")
            gymnasium_check_env(env)


def play_single(env, seed):
    """One whole episode with seeded random legal actions: (return, length, last info)."""
    env.action_space.seed(seed)
    _, info = env.reset(seed=seed)
    total, length, done = 0.0, 0, False
    while not done:
        _, reward, terminated, truncated, info = env.step(
            env.action_space.sample(info.get("action_mask"))
        )
        total += reward
        length += 1
        done = terminated or truncated
    return total, length, info


@pytest.mark.parametrize(("gym_id", "kwargs"), GYM_CASES)
def test_gymnasium_record_episode_statistics(gym_id, kwargs):
    env = gymnasium.wrappers.RecordEpisodeStatistics(gymnasium.make(gym_id, **kwargs))
    for seed in range(2):
        total, length, info = play_single(env, seed)
        assert info["episode"]["r"] == pytest.approx(total, abs=1e-12)
        assert info["episode"]["l"] == length


@pytest.mark.parametrize(("gym_id", "kwargs"), GYM_CASES)
def test_gymnasium_vector_record_episode_statistics(gym_id, kwargs):
    vector = gymnasium.make_vec(gym_id, num_envs=3, **kwargs)
    env = gymnasium.wrappers.vector.RecordEpisodeStatistics(vector)
    env.action_space.seed(0)
    env.reset(seed=0)
    ended = np.zeros(3, dtype=int)
    while ended.min() < 2:
        _, _, terminated, _, info = env.step(env.action_space.sample())
        if terminated.any():
            done = info["_episode"]
            np.testing.assert_array_equal(done, terminated)
            own = info["pomdp_episode"]  # the env's own statistics, under a key of its own
            np.testing.assert_allclose(info["episode"]["r"][done], own["r"][done], atol=1e-12)
            np.testing.assert_array_equal(info["episode"]["l"][done], own["l"][done])
            ended += terminated


# ----------------------------------------------------------------------------- Stable-Baselines3


@pytest.mark.parametrize(("gym_id", "kwargs"), GYM_CASES)
def test_sb3_check_env(gym_id, kwargs):
    checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = gymnasium.make(gym_id, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # SB3's advice for Box actions (float32, symmetric bounds), not an incompatibility.
        warnings.filterwarnings("ignore", message=".*symmetric and normalized")
        warnings.filterwarnings("ignore", message="Your action space has dtype float64")
        checker.check_env(env.unwrapped, warn=True, skip_render_check=True)
        checker.check_env(env, warn=True, skip_render_check=True)


@pytest.mark.parametrize(
    ("gym_id", "kwargs"),
    [
        ("StackelbergZoo/NormalFormPOMDP-v0", {"game": "escape"}),
        ("StackelbergZoo/SimpleAllocationPOMDP-v0", {}),
    ],
)
def test_sb3_ppo_trains_on_the_unmodified_env(gym_id, kwargs):
    sb3 = pytest.importorskip("stable_baselines3")
    env = gymnasium.make(gym_id, **kwargs)
    model = sb3.PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=512)
    assert model.num_timesteps >= 512
    observation, _ = env.reset(seed=1)
    total, terminated = 0.0, False
    while not terminated:
        action, _ = model.predict(observation, deterministic=True)
        assert env.action_space.contains(np.asarray(action).astype(env.action_space.dtype).item())
        observation, reward, terminated, truncated, info = env.step(int(action))
        assert not truncated
        assert info["state"].shape == env.unwrapped.state_space.shape
        total += reward
    assert np.isfinite(total)


# ----------------------------------------------------------------------------- SuperSuit


SUPERSUIT_CASES = [
    *(
        pytest.param(p.values[0], p.values[1], "parallel", id=f"{p.id}-parallel")
        for p in PARALLEL_CASES
    ),
    *(
        pytest.param(p.values[0], p.values[1], "aec_to_parallel", id=f"{p.id}-aec_to_parallel")
        for p in AEC_CASES
        if make_aec(*p.values).metadata["is_parallelizable"]
    ),
]


def supersuit_limit(env) -> str | None:
    """SuperSuit's error for ``env`` if its agents' spaces differ (its limit), else ``None``."""
    agents = env.possible_agents
    if any(env.observation_space(a) != env.observation_space(agents[0]) for a in agents):
        return "observation spaces not consistent"
    if any(env.action_space(a) != env.action_space(agents[0]) for a in agents):
        return "action spaces not consistent"
    return None


@pytest.mark.parametrize(("env_id", "kwargs", "how"), SUPERSUIT_CASES)
def test_supersuit_vector_pipeline(env_id, kwargs, how):
    ss = pytest.importorskip("supersuit")
    env = (
        make_parallel(env_id, kwargs)
        if how == "parallel"
        else aec_to_parallel(make_aec(env_id, kwargs))
    )
    limit = supersuit_limit(env)
    if limit is not None:  # the client's limit: identical spaces for every agent
        with pytest.raises(AssertionError, match=limit):
            ss.pettingzoo_env_to_vec_env_v1(env)
        return
    n_agents = len(env.possible_agents)
    vector = ss.concat_vec_envs_v1(
        ss.pettingzoo_env_to_vec_env_v1(env), 2, num_cpus=0, base_class="gymnasium"
    )
    observations, _ = vector.reset(seed=0)
    assert vector.num_envs == 2 * n_agents
    assert observations["action_mask"].shape[0] == 2 * n_agents
    rng = np.random.default_rng(0)
    for _ in range(6):
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in observations["action_mask"]])
        observations, rewards, terminations, truncations, _ = vector.step(actions)
        assert rewards.shape == (2 * n_agents,) and np.isfinite(rewards).all()
        assert terminations.all() and not truncations.any()  # one step is one sub-game
    vector.close()


# ----------------------------------------------------------------------------- TorchRL


TORCHRL_CASES = [pytest.param(i, k, False, id=i) for i, k in (p.values for p in DEFAULT_AEC)] + [
    pytest.param(i, {}, True, id=f"{i}-parallel") for i in PARALLEL_IDS
]


@pytest.mark.parametrize(("env_id", "kwargs", "parallel"), TORCHRL_CASES)
def test_torchrl_pettingzoo_wrapper(env_id, kwargs, parallel):
    libs = pytest.importorskip("torchrl.envs.libs.pettingzoo")
    utils = pytest.importorskip("torchrl.envs.utils")
    env = make_parallel(env_id, kwargs) if parallel else make_aec(env_id, kwargs)
    with warnings.catch_warnings():
        # TorchRL 0.14 names the PettingZoo version it was tested with (1.24.3).
        warnings.filterwarnings("ignore", message=".*PettingZoo.*", category=UserWarning)
        wrapped = libs.PettingZooWrapper(env, use_mask=not parallel, seed=0)
        utils.check_env_specs(wrapped, seed=0)
        rollout = wrapped.rollout(10_000, break_when_any_done=True)
    assert rollout["next", "done"][-1].all()  # a whole episode, past every info change
    assert not rollout["next", "done"][:-1].any()
