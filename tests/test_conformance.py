"""Conformance of every registered environment, and of the generic sub-game driver.

One harness runs over every id in ``stackelberg_zoo.envs.ENV_IDS`` x representative kwargs
(:data:`CASES`): ``make`` of every id, pickling, and our own multi-episode, mask-aware,
lockstep determinism test (PettingZoo 1.27's parallel seed test checks a single step). The
determinism test is itself tested: environments that leak randomness must fail it, also when
the leak only shows after several episodes. PettingZoo's own kit (and every other
third-party client) runs over the same cases in ``tests/test_clients.py``.

PettingZoo's ``max_cycles_test`` is not run: it requires an episode to last exactly
``max_cycles`` cycles, while one episode here is one sub-game. ``max_cycles`` (most leader
turns per sub-game) is tested on a multi-turn toy game instead.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import itertools
import pickle
import re
import warnings

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo import test as pzt
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

import stackelberg_zoo.envs as zoo
from stackelberg_zoo.envs.aec import SubgameEnv, SubgameLayout, subgame_metadata, wrap
from stackelberg_zoo.envs.core import EconomicGame, Outcome, Reference
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.parallel import SimultaneousSubgameEnv

# ----------------------------------------------------------------------------- the cases

CASES: dict[str, list[dict]] = {
    "stackelberg/normal-form-v0": [
        {},
        {"game": "escape", "mixed_leader": True},
        {"game": "conitzer", "normalize": False},
        {"leader_payoffs": [[1, 2, 0, 4]], "follower_payoffs": [[0, 1, 3, 2]]},
    ],
    "stackelberg/matrix-design-v0": [
        {},
        {"charge_payments": True, "max_payment": 5.0},
        {"payoffs": [[[2, 0, 1], [0, 1, 3]], [[1, 0, 2], [0, 2, 1]]], "normalize": False},
    ],
    "stackelberg/simple-allocation-v0": [
        {},
        {"n_messages": 1},
        {"n_messages": 2, "n_types": 4, "prior": [0.1, 0.2, 0.3, 0.4]},
    ],
    "stackelberg/mspm-v0": [
        {},
        {"values": "uniform", "n_values": 3, "n_messages": 2},
        {"n_followers": 3, "n_units": 2, "values": "uniform", "n_values": 2, "n_messages": 1},
        {
            "values": [[0.0, 0.5], [0.0, 1.0]],
            "prior": [[0.4, 0.1], [0.1, 0.4]],
            "n_messages": 3,
        },
    ],
    "stackelberg/collusion-platform-v0": [
        {},
        {"n_prices": 2, "price_low": 1.2, "price_high": 1.9},
        {"n_prices": 5, "mu": 0.1, "outside": 0.5, "quality": 2.5},
    ],
}
"""Representative kwargs per id; every registered id must appear here."""

MODULES = {r.id: r.module for r in zoo.REGISTRATIONS}

KNOWN_STYLE_WARNINGS = [
    # Our observations are Dicts (observation + action mask) by design (V5, V7).
    r"Observation is not a NumPy array",
    r"Observation space for each agent probably should be gymnasium\.spaces\.box",
    # Leader and followers have different spaces by nature (V5).
    r"Agents have different observation space sizes",
    r"Observations between agents are different classes",
    r"Observations are different shapes",
    r"Observations have different number of dimensions",
    r"The class of observation spaces is different between two agents",
    r"Action space for each agent probably should be gymnasium\.spaces\.box",
    # A follower with one type, or a constant leader observation, is one number.
    r"Observation is a single number",
    # Legitimate observations can be all zeros (the leader's blank observation before the
    # followers act; an encoding of action profile (0, 0)).
    r"Observation numpy array is all zeros",
    r"Action mask is a single number",
]
"""The only warnings PettingZoo's kit may raise on our envs; any other fails the test."""


def cases(parallel_only: bool = False):
    ids = zoo.PARALLEL_ENV_IDS if parallel_only else zoo.ENV_IDS
    for env_id in ids:
        for k, kwargs in enumerate(CASES[env_id]):
            yield pytest.param(env_id, kwargs, id=f"{env_id.split('/')[1]}-{k}")


AEC_CASES = list(cases())
PARALLEL_CASES = list(cases(parallel_only=True))


def make_aec(env_id, kwargs, **extra):
    return pettingzoo.make("aec", env_id, **kwargs, **extra)


def make_parallel(env_id, kwargs, **extra):
    return pettingzoo.make("parallel", env_id, **kwargs, **extra)


class only_known_warnings:
    """Turn every warning into an error except the known style warnings of the kit."""

    def __enter__(self):
        self._catcher = warnings.catch_warnings()
        self._catcher.__enter__()
        warnings.simplefilter("error")
        for message in KNOWN_STYLE_WARNINGS:
            warnings.filterwarnings("ignore", message=message)

    def __exit__(self, *exc):
        return self._catcher.__exit__(*exc)


# ----------------------------------------------------------------------------- helpers


def sample_action(space, observation, rng: np.random.Generator):
    """A legal random action: respects ``observation["action_mask"]``; Box within bounds."""
    if isinstance(space, gymnasium.spaces.Discrete):
        mask = observation.get("action_mask") if isinstance(observation, dict) else None
        legal = np.arange(space.n) if mask is None else np.flatnonzero(mask)
        return int(space.start + rng.choice(legal))
    if isinstance(space, gymnasium.spaces.Box):
        low = np.where(np.isfinite(space.low), space.low, -1.0)
        high = np.where(np.isfinite(space.high), space.high, 1.0)
        return rng.uniform(low, high).astype(space.dtype)
    space.seed(int(rng.integers(2**31)))
    return space.sample()


def assert_lockstep_deterministic(
    make_env, episodes: int = 25, seed: int = 123, make_other=None
) -> int:
    """Play two fresh envs side by side for whole episodes; everything must match.

    The second env comes from ``make_other`` if given (to compare two implementations).

    The first reset is seeded, later ones continue the env's own stream. Actions come
    from one generator and respect the masks. At every step the agent, ``last()`` (both
    observing), ``state()`` (when there is one), rewards and terminations must be equal.

    Returns:
        The number of steps compared (the caller checks it covers every episode).
    """
    env1, env2 = make_env(), (make_other or make_env)()
    rng = np.random.default_rng(seed)
    has_state = hasattr(env1.unwrapped, "state_space")
    steps = 0
    for episode in range(episodes):
        episode_seed = seed if episode == 0 else None
        env1.reset(seed=episode_seed)
        env2.reset(seed=episode_seed)
        episode_steps = 0
        while env1.agents or env2.agents:
            agent1, agent2 = env1.agent_selection, env2.agent_selection
            assert agent1 == agent2, f"episode {episode}: agents {agent1} != {agent2}"
            last1, last2 = env1.last(), env2.last()
            assert data_equivalence(last1, last2), f"episode {episode}: last() differs"
            if has_state:
                assert data_equivalence(env1.state(), env2.state()), f"episode {episode}: state"
            assert data_equivalence(env1.rewards, env2.rewards), f"episode {episode}: rewards"
            observation, _, terminated, truncated, _ = last1
            action = (
                None
                if terminated or truncated
                else sample_action(env1.action_space(agent1), observation, rng)
            )
            env1.step(action)
            env2.step(copy.deepcopy(action))
            steps += 1
            episode_steps += 1
        assert episode_steps >= 2 * len(env1.possible_agents), "an episode was cut short"
    return steps


def assert_parallel_lockstep_deterministic(make_env, episodes: int = 25, seed: int = 321) -> int:
    """The parallel twin of :func:`assert_lockstep_deterministic`; returns steps compared."""
    env1, env2 = make_env(), make_env()
    rng = np.random.default_rng(seed)
    steps = 0
    for episode in range(episodes):
        episode_seed = seed if episode == 0 else None
        out1, out2 = env1.reset(seed=episode_seed), env2.reset(seed=episode_seed)
        assert data_equivalence(out1, out2), f"episode {episode}: reset differs"
        observations = out1[0]
        while env1.agents:
            assert env1.agents == env2.agents
            assert data_equivalence(env1.state(), env2.state()), f"episode {episode}: state"
            actions = {
                agent: sample_action(env1.action_space(agent), observations[agent], rng)
                for agent in env1.agents
            }
            out1, out2 = env1.step(actions), env2.step(copy.deepcopy(actions))
            assert data_equivalence(out1, out2), f"episode {episode}: step differs"
            observations = out1[0]
            steps += 1
            # Iterate values: ``any(dict)`` reads the keys (PettingZoo 1.27's seed-test bug).
            if all(d or t for d, t in zip(out1[2].values(), out1[3].values(), strict=True)):
                break
        assert not env2.agents
    return steps


class MaskAwareProxy:
    """Delegates to an AEC env, but ``action_space(agent).sample()`` respects the mask.

    PettingZoo's ``state_test`` samples unmasked actions, which our drivers rightly reject.
    The mask is where the kit's other tests look for it: ``obs["action_mask"]``, else
    ``info["action_mask"]`` (the POMDP drivers).
    """

    def __init__(self, env):
        self._env = env

    def __getattr__(self, name):
        return getattr(self._env, name)

    def action_space(self, agent):
        env, space = self._env, self._env.action_space(agent)

        class Sampler:
            def sample(self, mask=None):
                observation = env.observe(agent)
                if isinstance(observation, dict) and "action_mask" in observation:
                    return space.sample(observation["action_mask"])
                return space.sample(env.infos[agent].get("action_mask"))

        return Sampler()


# ----------------------------------------------------------------------------- registry


def test_every_registered_id_has_cases_and_one_list_of_ids():
    # Other ids in the namespace (the Stackelberg POMDPs) have their own tests.
    assert set(zoo.ENV_IDS) <= set(pettingzoo.aec_registry)
    assert sorted(zoo.ENV_IDS) == sorted(CASES)
    assert set(zoo.PARALLEL_ENV_IDS) <= set(pettingzoo.parallel_registry)
    assert set(zoo.PARALLEL_ENV_IDS) <= set(zoo.ENV_IDS)
    assert "stackelberg/normal-form-v0" in zoo.PARALLEL_ENV_IDS
    for registration in zoo.REGISTRATIONS:
        spec = pettingzoo.spec("aec", registration.id)
        assert spec.entry_point == f"{registration.module}:env"
        assert re.fullmatch(r"stackelberg/[a-z-]+-v\d+", registration.id)


def test_reimporting_the_package_registers_nothing_twice():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(zoo)


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_make_every_id(env_id, kwargs):
    env = make_aec(env_id, kwargs)
    assert isinstance(env, pettingzoo.AECEnv)
    name = env.metadata["name"]
    assert re.fullmatch(r"[a-z_]+_v\d+", name), name
    assert name.replace("_", "-").rsplit("-v", 1)[0] == env_id.split("/")[1].rsplit("-v", 1)[0]
    assert set(env.metadata["render_modes"]) >= {"ansi", "human"}
    assert isinstance(env.metadata["is_parallelizable"], bool)
    agents = env.unwrapped.possible_agents
    followers = [f"follower_{i}" for i in range(len(agents) - 1)]
    # Leader first, or the order of play where aec_to_parallel may convert the env.
    assert agents == (
        [*followers, "leader_0"] if env.metadata["is_parallelizable"] else ["leader_0", *followers]
    )
    assert env.render_mode is None
    # The registry and the kit pass max_cycles (V3); every constructor accepts it.
    assert make_aec(env_id, kwargs, max_cycles=50).unwrapped.max_cycles == 50


@pytest.mark.parametrize(("env_id", "kwargs"), PARALLEL_CASES)
def test_make_every_parallel_id(env_id, kwargs):
    env = make_parallel(env_id, kwargs, max_cycles=50)
    assert isinstance(env, pettingzoo.ParallelEnv)
    assert env.metadata["is_parallelizable"] is True
    assert env.metadata["name"] == make_aec(env_id, kwargs).metadata["name"]


# ----------------------------------------------------------------------------- the kit


# ----------------------------------------------------------------------------- ours


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_lockstep_determinism_over_many_episodes(env_id, kwargs):
    episodes = 25
    steps = assert_lockstep_deterministic(lambda: make_aec(env_id, kwargs), episodes=episodes)
    agents = len(make_aec(env_id, kwargs).possible_agents)
    assert steps >= episodes * 2 * agents  # a move and a done step per agent, every episode


@pytest.mark.parametrize(("env_id", "kwargs"), PARALLEL_CASES)
def test_parallel_lockstep_determinism_over_many_episodes(env_id, kwargs):
    steps = assert_parallel_lockstep_deterministic(
        lambda: make_parallel(env_id, kwargs), episodes=25
    )
    assert steps >= 25


def several_type_profiles(case) -> bool:
    env_id, kwargs = case.values
    return np.count_nonzero(np.asarray(make_aec(env_id, kwargs).unwrapped.game.prior)) >= 2


@pytest.mark.parametrize(("env_id", "kwargs"), list(filter(several_type_profiles, AEC_CASES)))
def test_different_seeds_draw_different_types_when_there_are_several(env_id, kwargs):
    env = make_aec(env_id, kwargs)
    layout = env.unwrapped.layout
    draws = set()
    for seed in range(40):
        env.reset(seed=seed)
        parts = gymnasium.spaces.unflatten(layout.state_dict_space, env.unwrapped.state())
        draws.add(tuple(parts["types"]))
    assert len(draws) > 1


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_pickle_round_trip_mid_episode_continues_identically(env_id, kwargs):
    env = make_aec(env_id, kwargs, render_mode="ansi")
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    agent = env.agent_selection
    env.step(sample_action(env.action_space(agent), env.observe(agent), rng))
    clone = pickle.loads(pickle.dumps(env))
    assert clone.render() == env.render()
    while env.agents:
        assert clone.agent_selection == env.agent_selection
        assert data_equivalence(clone.last(), env.last())
        assert data_equivalence(clone.state(), env.state())
        observation, _, terminated, truncated, _ = env.last()
        agent = env.agent_selection
        action = (
            None
            if terminated or truncated
            else sample_action(env.action_space(agent), observation, rng)
        )
        env.step(action)
        clone.step(copy.deepcopy(action))
    assert not clone.agents
    # The generator travelled too: the next episodes draw the same types.
    for _ in range(5):
        env.reset()
        clone.reset()
        assert data_equivalence(env.state(), clone.state())


@pytest.mark.parametrize(("env_id", "kwargs"), PARALLEL_CASES)
def test_parallel_env_pickles(env_id, kwargs):
    env = make_parallel(env_id, kwargs)
    env.reset(seed=2)
    clone = pickle.loads(pickle.dumps(env))
    assert data_equivalence(clone.state(), env.state())
    assert data_equivalence(env.reset(seed=9), pickle.loads(pickle.dumps(env)).reset(seed=9))


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_state_is_in_its_space_and_shows_whose_turn(env_id, kwargs):
    env = make_aec(env_id, kwargs)
    layout = env.unwrapped.layout
    rng = np.random.default_rng(1)
    for episode in range(5):
        env.reset(seed=episode)
        while env.agents:
            state = env.state()
            assert state.dtype == np.float32 and env.unwrapped.state_space.contains(state)
            parts = gymnasium.spaces.unflatten(layout.state_dict_space, state)
            agent = env.agent_selection
            observation, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                assert parts["turn"] == layout.n_followers + 1
                env.step(None)
                continue
            expected_turn = (
                layout.n_followers if agent == "leader_0" else layout.follower_index[agent]
            )
            assert parts["turn"] == expected_turn
            if agent != "leader_0":
                index = layout.follower_index[agent]
                assert observation["observation"][parts["types"][index]] == 1.0
            env.step(sample_action(env.action_space(agent), observation, rng))


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_generic_bad_input_raises_naming_the_value(env_id, kwargs):
    env = make_aec(env_id, kwargs).unwrapped
    env.reset(seed=0)
    follower = env.agent_selection
    n = env.action_space(follower).n
    with pytest.raises(ValueError, match=rf"{follower}.*{n}"):
        env.step(n)
    with pytest.raises(ValueError, match=r"-1"):
        env.step(-1)
    with pytest.raises(TypeError, match=r"0\.5"):
        env.step(0.5)
    with pytest.raises(ValueError, match="None"):
        env.step(None)
    with pytest.raises(ValueError, match="'follower_99'"):
        env.observe("follower_99")
    with pytest.raises(ValueError, match="'boss'"):
        env.action_space("boss")
    with pytest.raises(ValueError, match="'boss'"):
        env.observation_space("boss")
    # Play to the end: a done agent only takes None; with no agent left, step is an error.
    rng = np.random.default_rng(0)
    while not (env.terminations[env.agent_selection] or env.truncations[env.agent_selection]):
        agent = env.agent_selection
        env.step(sample_action(env.action_space(agent), env.observe(agent), rng))
    with pytest.raises(ValueError, match="only valid action is None, got 1"):
        env.step(1)
    while env.agents:
        env.step(None)
    with pytest.raises(ValueError, match=r"step\(0\).*reset"):
        env.step(0)


@pytest.mark.parametrize(("env_id", "kwargs"), AEC_CASES)
def test_leader_out_of_space_action_is_rejected(env_id, kwargs):
    env = make_aec(env_id, kwargs).unwrapped
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    while env.agent_selection != "leader_0":
        agent = env.agent_selection
        env.step(sample_action(env.action_space(agent), env.observe(agent), rng))
    space = env.action_space("leader_0")
    if isinstance(space, gymnasium.spaces.Discrete):
        bad = space.start + space.n
        with pytest.raises(ValueError, match=str(bad)):
            env.step(bad)
    elif isinstance(space, gymnasium.spaces.Box):
        too_high = np.where(np.isfinite(space.high), space.high + 1.0, 0.0).astype(np.float64)
        if np.isfinite(space.high).any():
            with pytest.raises(ValueError, match="leader_0"):
                env.step(too_high)
        with pytest.raises(ValueError, match="leader_0"):
            env.step(np.zeros(space.shape[0] + 1))
        with pytest.raises(ValueError, match="nan"):
            env.step(np.full(space.shape, np.nan))
    assert env.agent_selection == "leader_0"  # nothing was applied


@pytest.mark.parametrize(("env_id", "kwargs"), PARALLEL_CASES)
def test_parallel_bad_input(env_id, kwargs):
    env = make_parallel(env_id, kwargs)
    observations, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = {a: sample_action(env.action_space(a), observations[a], rng) for a in env.agents}
    with pytest.raises(ValueError, match=r"missing \['follower_0'\]"):
        env.step({k: v for k, v in actions.items() if k != "follower_0"})
    with pytest.raises(ValueError, match=r"unknown \['follower_7'\]"):
        env.step({**actions, "follower_7": 0})
    with pytest.raises(TypeError, match="dict"):
        env.step([0, 0])
    with pytest.raises(ValueError, match="follower_0"):
        env.step({**actions, "follower_0": env.action_space("follower_0").n})
    env.step(actions)
    with pytest.raises(ValueError, match="reset"):
        env.step(actions)


# ----------------------------------------------------------------------------- the driver


class CountdownGame(EconomicGame):
    """A toy multi-turn game to exercise the driver: correlated types, masks, several turns.

    Two followers with 2 and 3 types (correlated prior) and 2 and 3 actions. The leader
    acts ``turns`` times; on odd turns action 2 is masked out. Outcome: the leader gets the
    sum of its actions plus the followers' actions; follower ``i`` gets ``type_i + action_i``.
    """

    def __init__(self, turns: int = 3):
        self.turns = turns
        self.n_types = (2, 3)
        self.n_follower_actions = (2, 3)
        self.prior = np.array([[0.3, 0.1, 0.1], [0.0, 0.2, 0.3]])
        self.leader_observation_space = gymnasium.spaces.Box(0.0, turns, (2,), dtype=np.float32)
        self.leader_action_space = gymnasium.spaces.Discrete(3)

    def start(self, types, follower_actions):
        return (tuple(int(t) for t in types), tuple(int(a) for a in follower_actions), ())

    def leader_observation(self, state):
        return np.array([len(state[2]), sum(state[1])], dtype=np.float32)

    def leader_action_mask(self, state):
        return np.array([1, 1, 0], dtype=np.int8) if len(state[2]) % 2 else None

    def leader_step(self, state, action):
        if action == 2 and len(state[2]) % 2:
            raise ValueError(f"masked action {action}")
        return (state[0], state[1], (*state[2], int(action)))

    def is_over(self, state):
        return len(state[2]) >= self.turns

    def outcome(self, state):
        types, actions, moves = state
        return Outcome(
            leader=float(sum(moves) + sum(actions)),
            followers=np.array([types[i] + actions[i] for i in range(2)], dtype=np.float64),
        )

    def reference(self):
        return Reference(optimum=0.0, optimal_policy=None, follower_model="none")


class CountdownEnv(SubgameEnv):
    metadata = subgame_metadata("countdown_v0")

    def __init__(self, turns=3, max_cycles=None, render_mode=None):
        super().__init__(CountdownGame(turns), max_cycles=max_cycles, render_mode=render_mode)


def countdown_env(**kwargs):
    return wrap(CountdownEnv(**kwargs))


def test_toy_env_passes_the_kit_and_our_determinism_test():
    with only_known_warnings():
        pzt.api_test(countdown_env(), num_cycles=300)
        pzt.seed_test(countdown_env, num_cycles=100)
        kit = importlib.import_module("pettingzoo.test.state_test")
        kit.test_state(MaskAwareProxy(countdown_env()), num_cycles=100)
    assert assert_lockstep_deterministic(countdown_env, episodes=30) == 30 * (
        2 + 3 + 3
    )  # follower moves, leader turns, done steps


def test_turn_order_observations_and_rewards_of_a_known_episode():
    env = CountdownEnv(turns=3)
    env.reset(options={"types": [1, 2]})
    assert env.agent_selection == "follower_0"
    np.testing.assert_array_equal(env.observe("follower_0")["observation"], [0, 1])
    np.testing.assert_array_equal(env.observe("follower_1")["observation"], [0, 0, 1])
    np.testing.assert_array_equal(env.observe("leader_0")["observation"], [0, 0])  # blank
    env.step(1)
    assert env.agent_selection == "follower_1"
    env.step(2)
    assert env.agent_selection == "leader_0"
    observation = env.observe("leader_0")
    np.testing.assert_array_equal(observation["observation"], [0, 3])
    np.testing.assert_array_equal(observation["action_mask"], [1, 1, 1])
    env.step(2)
    np.testing.assert_array_equal(env.observe("leader_0")["action_mask"], [1, 1, 0])
    with pytest.raises(ValueError, match=r"action 2 is masked out; legal actions are \[0, 1\]"):
        env.step(2)
    env.step(np.int64(1))
    env.step(2)
    assert all(env.terminations.values()) and not any(env.truncations.values())
    assert env.rewards == {"leader_0": 2 + 1 + 2 + 1 + 2, "follower_0": 2.0, "follower_1": 4.0}
    assert env.outcome.leader == 8.0
    seen = {}
    while env.agents:
        agent = env.agent_selection
        seen[agent] = env.last()[1]
        env.step(None)
    assert seen == {"leader_0": 8.0, "follower_0": 2.0, "follower_1": 4.0}


def test_max_cycles_truncates_a_long_sub_game():
    env = CountdownEnv(turns=5, max_cycles=2)
    env.reset(seed=0)
    env.step(0)
    env.step(0)
    env.step(1)
    assert not any(env.truncations.values())
    env.step(1)
    assert all(env.truncations.values()) and not any(env.terminations.values())
    assert env.rewards == dict.fromkeys(env.possible_agents, 0.0)
    assert env.outcome is None
    while env.agents:
        env.step(None)
    # Long enough: the sub-game ends normally.
    env = CountdownEnv(turns=2, max_cycles=2)
    env.reset(seed=0)
    for action in (0, 0, 1, 1):
        env.step(action)
    assert all(env.terminations.values()) and not any(env.truncations.values())


@pytest.mark.parametrize(
    ("max_cycles", "error"),
    [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)],
)
def test_bad_max_cycles_and_render_mode(max_cycles, error):
    with pytest.raises(error, match=re.escape(repr(max_cycles))):
        CountdownEnv(max_cycles=max_cycles)
    with pytest.raises(ValueError, match="'rgb_array'"):
        CountdownEnv(render_mode="rgb_array")


def test_bad_type_options_are_rejected():
    env = CountdownEnv()
    for types in ([2, 0], [0], [0.5, 1], [0, -1]):
        with pytest.raises(ValueError, match=re.escape(repr(types))):
            env.reset(options={"types": types})


def test_type_draws_follow_the_games_stream_and_prior():
    game = CountdownGame()
    layout = SubgameLayout(game)
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    counts = np.zeros(game.prior.shape)
    for _ in range(8000):
        ours = layout.sample_types(rng_a)
        np.testing.assert_array_equal(ours, game.sample_types(rng_b))
        counts[tuple(ours)] += 1
    assert counts[1, 0] == 0  # zero-probability profile never drawn
    np.testing.assert_allclose(counts / counts.sum(), game.prior, atol=0.02)


def test_reset_seed_reproduces_and_reset_without_seed_continues():
    env = CountdownEnv()
    env.reset(seed=4)
    first = [env.state()]
    for _ in range(10):
        env.reset()
        first.append(env.state())
    env.reset(seed=4)
    again = [env.state()]
    for _ in range(10):
        env.reset()
        again.append(env.state())
    assert data_equivalence(first, again)
    assert len({tuple(s) for s in first}) > 1


def test_observations_are_copies():
    env = CountdownEnv()
    env.reset(seed=0)
    env.observe("follower_0")["observation"][:] = 7
    env.observe("follower_0")["action_mask"][:] = 0
    assert env.observe("follower_0")["observation"].max() == 1.0
    assert env.observe("follower_0")["action_mask"].min() == 1


def test_rejects_non_games_and_games_with_no_follower():
    with pytest.raises(TypeError, match="EconomicGame"):
        SubgameEnv(object())

    class NoFollower(CountdownGame):
        def __init__(self):
            super().__init__()
            self.n_types, self.n_follower_actions, self.prior = (), (), np.ones(())

    with pytest.raises(ValueError, match="at least one follower"):
        SubgameEnv(NoFollower())
    with pytest.raises(ValueError, match="_v<N>"):
        subgame_metadata("countdown")


def test_simultaneous_driver_refuses_sequential_games():
    env = SimultaneousSubgameEnv(CountdownGame(turns=1))
    env.reset(seed=0)
    actions = {"leader_0": 0, "follower_0": 1, "follower_1": 2}
    with pytest.raises(RuntimeError, match="not simultaneous"):
        env.step(actions)  # the leader observes the followers' actions
    env = SimultaneousSubgameEnv(CountdownGame(turns=2))
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="not simultaneous"):
        env.step({"leader_0": 0, "follower_0": 0, "follower_1": 0})


def test_render_table_shows_types_actions_and_utilities():
    env = CountdownEnv(turns=1, render_mode="ansi")
    env.reset(options={"types": [1, 0]})
    assert "follower_0 to act" in env.render()
    env.step(1)
    env.step(2)
    env.step(0)
    lines = env.render().splitlines()
    assert lines[0] == "countdown_v0: sub-game over"
    assert lines[2].split() == ["follower_0", "1", "1", "2.0000"]
    assert lines[3].split() == ["follower_1", "0", "2", "2.0000"]
    assert lines[4].split() == ["leader_0", "-", "0", "3.0000"]


def test_fast_order_enforcing_wrapper_behaves_like_pettingzoos(caplog):
    steps = assert_lockstep_deterministic(
        lambda: wrap(CountdownEnv()),
        episodes=10,
        make_other=lambda: OrderEnforcingWrapper(CountdownEnv()),
    )
    assert steps == 10 * 8
    ours, theirs = wrap(CountdownEnv()), OrderEnforcingWrapper(CountdownEnv())
    assert isinstance(ours, OrderEnforcingWrapper) and str(ours) == str(theirs) == "countdown_v0"
    for name in ("agents", "agent_selection", "rewards", "terminations", "truncations", "infos"):
        for env in (ours, theirs):
            with pytest.raises(AttributeError, match=f"{name} cannot be accessed before reset"):
                getattr(env, name)
    for env in (ours, theirs):
        with pytest.raises(AttributeError, match="before reset"):
            env.last()
        with pytest.raises(AssertionError, match="before step"):
            env.step(0)
        env.reset(seed=0)
        assert env.num_agents == 3 and env._cumulative_rewards["leader_0"] == 0.0
        assert env.max_cycles is None  # other attributes still reach the env
        while env.agents:
            env.step(None if env.terminations[env.agent_selection] else 0)
    # After every agent left, PettingZoo's wrapper only logs a warning; ours raises the
    # raw env's ValueError, as the module documents.
    caplog.clear()
    theirs.step(0)
    assert "after all agents are terminated" in caplog.text
    with pytest.raises(ValueError, match="after the sub-game ended"):
        ours.step(0)


# ----------------------------------------------------------------------------- the harness


class LeakyEnv(CountdownEnv):
    """Draws types from a counter shared by every instance: two instances disagree."""

    shared = itertools.count()

    def __init__(self, leak_from_episode: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.leak_from_episode = leak_from_episode
        self.episodes = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed, options=options)
        self.episodes += 1
        if self.episodes > self.leak_from_episode:
            k = next(self.shared)
            self._types = np.array([k % 2, 1 + k % 2])


def test_harness_catches_a_leaky_env():
    with pytest.raises(AssertionError):
        assert_lockstep_deterministic(lambda: wrap(LeakyEnv()), episodes=3)


def test_harness_checks_every_episode_not_just_the_first():
    """A leak that starts in episode 6 is still caught (the kit's bug: one step only)."""
    with pytest.raises(AssertionError, match="episode 5"):
        assert_lockstep_deterministic(lambda: wrap(LeakyEnv(leak_from_episode=5)), episodes=10)
    # ... and the kit's own AEC seed test, which plays one episode, does not see it.
    pzt.seed_test(lambda: wrap(LeakyEnv(leak_from_episode=5)), num_cycles=50)


def test_parallel_harness_catches_a_leak_in_a_later_episode():
    class LeakyParallel(SimultaneousSubgameEnv):
        """Adds a counter shared by every instance to the leader's reward from episode 4."""

        metadata = subgame_metadata("leaky_v0", is_parallelizable=True)
        shared = itertools.count()

        def __init__(self):
            super().__init__(NormalFormStackelberg("escape"))
            self.episodes = 0

        def reset(self, seed=None, options=None):
            self.episodes += 1
            return super().reset(seed=seed, options=options)

        def step(self, actions):
            out = super().step(actions)
            if self.episodes > 3:
                out[1]["leader_0"] += next(self.shared)
            return out

    with pytest.raises(AssertionError, match="episode 3"):
        assert_parallel_lockstep_deterministic(LeakyParallel, episodes=8)
    assert (
        assert_parallel_lockstep_deterministic(
            lambda: SimultaneousSubgameEnv(NormalFormStackelberg("escape")), episodes=8
        )
        == 8
    )
