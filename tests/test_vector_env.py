"""The batched Stackelberg POMDP as a Gymnasium VectorEnv, step for step against the single env."""

import gymnasium
import numpy as np
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.pomdp import (
    Exp3Response,
    HedgeResponse,
    MultiplicativeWeightsResponse,
    Phase,
    PolicyGradientResponse,
    RegretMatchingResponse,
    ResponseAlgorithm,
)
from stackelberg_zoo.envs.pomdp.certify import Certification
from stackelberg_zoo.envs.pomdp.followers import PopulationResponse, follower_models
from stackelberg_zoo.envs.pomdp.gym import StackelbergPOMDPEnv
from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS, pomdp_setting
from stackelberg_zoo.envs.pomdp.vector import StackelbergPOMDPVectorEnv

SETTINGS = [
    ("normal_form", {"n_response": 30, "n_reward": 2}),
    ("normal_form", {"game": "escape", "mixed_leader": True, "n_response": 20, "n_reward": 3}),
    ("matrix_design", {}),
    ("simple_allocation", {"n_response": 45, "n_reward": 7}),
    ("simple_allocation", {"n_messages": 2, "prior": [0.5, 0.3, 0.2], "n_reward": 5}),
    ("mspm", {"n_response": 120, "n_reward": 10}),
    ("mspm", {"values": "uniform", "n_values": 4, "n_messages": 3, "n_response": 90}),
    (
        "normal_form",
        {
            "followers": MultiplicativeWeightsResponse(eps=0.5, reward_play="sample"),
            "n_response": 24,
            "n_reward": 6,
        },
    ),
]


def random_actions(space, rng, batch):
    """Random valid actions ``[batch, ...]``."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return rng.integers(space.n, size=batch)
    return rng.uniform(space.low, space.high, size=(batch, *space.shape)).astype(space.dtype)


def single_cumulative_gains(env, i):
    return env.unwrapped.pomdp.followers.bank.cumulative_gains(i)


def assert_same_step(b, outcome, batched):
    """One copy of the batched step equals the single env's step."""
    observation, reward, terminated, truncated, single_info = outcome
    obs, rewards, terminations, truncations, infos = batched
    assert reward == rewards[b]
    assert terminated == terminations[b]
    assert truncated == truncations[b] is np.False_
    assert single_info["phase"] == infos["phase"][b]
    assert single_info["sub_game"] == infos["sub_game"][b]
    assert single_info["replaced"] == infos["replaced"][b]
    if terminated:
        assert infos["_final_obs"][b] and infos["_pomdp_episode"][b]
        np.testing.assert_array_equal(infos["final_obs"][b], observation)
        np.testing.assert_array_equal(infos["final_info"]["state"][b], single_info["state"])
    else:
        np.testing.assert_array_equal(obs[b], observation)
        np.testing.assert_array_equal(infos["state"][b], single_info["state"])


@pytest.mark.parametrize(("setting", "kwargs"), SETTINGS)
def test_every_copy_follows_the_single_env_step_for_step(setting, kwargs):
    """B = 3 copies, different seeds, three whole episodes each; learner state compared too."""
    seeds = [3, 17, 1234]
    vector = StackelbergPOMDPVectorEnv(len(seeds), setting, **kwargs)
    singles = [StackelbergPOMDPEnv(setting, **kwargs) for _ in seeds]
    obs, infos = vector.reset(seed=seeds)
    for b, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        observation, info = env.reset(seed=seed)
        np.testing.assert_array_equal(obs[b], observation)
        np.testing.assert_array_equal(infos["state"][b], info["state"])
    rng = np.random.default_rng(7)
    space = vector.single_action_space
    n = vector.game.n_followers
    episodes = np.zeros(len(seeds), dtype=int)
    returns = [[] for _ in seeds]
    steps = 0
    phases_seen = set()
    while episodes.min() < 3:
        actions = random_actions(space, rng, len(seeds))
        batched = vector.step(actions)
        steps += 1
        for b, env in enumerate(singles):
            outcome = env.step(actions[b])
            assert_same_step(b, outcome, batched)
            phases_seen.add(int(outcome[4]["phase"]))
            if outcome[2]:
                returns[b].append(batched[4]["pomdp_episode"]["r"][b])
                episodes[b] += 1
                observation, info = env.reset()
                np.testing.assert_array_equal(batched[0][b], observation)
                np.testing.assert_array_equal(batched[4]["state"][b], info["state"])
            for i in range(n):
                np.testing.assert_array_equal(
                    vector.pomdp.cumulative_gains(i)[b], single_cumulative_gains(env, i)
                )
    assert phases_seen == {Phase.RESPONSE, Phase.REWARD}
    assert steps > 3 * (vector.pomdp.n_response + vector.pomdp.n_reward) - 1
    # The copies really differ (different seeds, different random actions).
    assert len({tuple(r) for r in returns}) > 1 or setting == "matrix_design"


def test_episode_statistics_and_autoreset_metadata():
    vector = StackelbergPOMDPVectorEnv(4, "simple_allocation", n_response=6, n_reward=3)
    assert vector.metadata["autoreset_mode"] is gymnasium.vector.AutoresetMode.SAME_STEP
    vector.reset(seed=0)
    total = np.zeros(4)
    for step in range(1, 10):
        _, reward, terminated, truncated, info = vector.step(np.zeros(4, dtype=np.int64))
        total += reward
        assert not truncated.any()
        if step < 9:
            assert not terminated.any() and "pomdp_episode" not in info
    assert terminated.all()
    np.testing.assert_array_equal(info["pomdp_episode"]["r"], total)
    np.testing.assert_array_equal(info["pomdp_episode"]["l"], np.full(4, 9))
    assert info["_pomdp_episode"].all() and info["_final_obs"].all()
    # The returned observation and state belong to the next episode (phase 0, progress 0).
    k = vector.single_observation_space.n
    assert (info["state"][:, k] == Phase.RESPONSE).all() and (info["state"][:, k + 1] == 0).all()
    assert (info["final_info"]["state"][:, k] == Phase.REWARD).all()
    assert (info["final_info"]["state"][:, k + 1] == 1).all()


@pytest.mark.parametrize("setting", [s.name for s in POMDP_SETTINGS])
def test_make_vec_uses_the_vector_entry_point_with_batched_spaces(setting):
    gym_id = pomdp_setting(setting).gymnasium_id
    vector = gymnasium.make_vec(gym_id, num_envs=5, n_response=10)
    assert isinstance(vector, StackelbergPOMDPVectorEnv)
    single = gymnasium.make(gym_id, n_response=10)
    assert vector.single_observation_space == single.observation_space
    assert vector.single_action_space == single.action_space
    assert vector.observation_space == gymnasium.vector.utils.batch_space(
        single.observation_space, 5
    )
    assert vector.action_space == gymnasium.vector.utils.batch_space(single.action_space, 5)
    assert vector.single_state_space == single.unwrapped.state_space
    obs, info = vector.reset(seed=1)
    assert obs in vector.observation_space
    assert info["state"].shape == (5, *vector.single_state_space.shape)
    assert info["state"].dtype == np.float32
    vector.action_space.seed(0)
    for _ in range(3):
        obs, reward, terminated, truncated, info = vector.step(vector.action_space.sample())
        assert obs in vector.observation_space
        assert reward.shape == terminated.shape == truncated.shape == (5,)
        for key in ("phase", "sub_game", "replaced", "state"):
            assert info[f"_{key}"].all()


def test_make_vec_passes_game_arguments():
    vector = gymnasium.make_vec("StackelbergZoo/NormalFormPOMDP-v0", num_envs=8, game="escape")
    assert vector.num_envs == 8 and vector.game.name == "escape"
    assert vector.pomdp.n_response == 100 and vector.pomdp.n_reward == 1


def test_int_seed_gives_copy_b_the_seed_plus_b():
    vector = StackelbergPOMDPVectorEnv(3, "mspm", n_response=40, n_reward=4)
    singles = [StackelbergPOMDPEnv("mspm", n_response=40, n_reward=4) for _ in range(3)]
    obs, _ = vector.reset(seed=100)
    rng = np.random.default_rng(0)
    for b, env in enumerate(singles):
        np.testing.assert_array_equal(obs[b], env.reset(seed=100 + b)[0])
    for _ in range(60):
        actions = random_actions(vector.single_action_space, rng, 3)
        obs, *_ = vector.step(actions)
        for b, env in enumerate(singles):
            observation, _, terminated, _, _ = env.step(actions[b])
            if terminated:
                observation, _ = env.reset()
            np.testing.assert_array_equal(obs[b], observation)


def test_reset_without_seed_continues_each_copys_stream():
    kwargs = {"n_response": 9, "n_reward": 2}
    vector = StackelbergPOMDPVectorEnv(2, "simple_allocation", **kwargs)
    singles = [StackelbergPOMDPEnv("simple_allocation", **kwargs) for _ in range(2)]
    vector.reset(seed=[8, 9])
    for env, seed in zip(singles, (8, 9), strict=True):
        env.reset(seed=seed)
    for _ in range(4):
        vector.step(np.array([1, 2]))
        for b, env in enumerate(singles):
            env.step(np.int64(b + 1))
    obs, info = vector.reset()
    for b, env in enumerate(singles):
        observation, single_info = env.reset()
        assert obs[b] == observation
        np.testing.assert_array_equal(info["state"][b], single_info["state"])


def test_bad_actions_and_arguments_raise_naming_the_value():
    vector = StackelbergPOMDPVectorEnv(3, "normal_form")
    with pytest.raises(ValueError, match="reset"):
        vector.step(np.zeros(3, dtype=np.int64))
    vector.reset(seed=0)
    with pytest.raises(ValueError, match=r"got 7 at env index 2"):
        vector.step(np.array([0, 1, 7]))
    with pytest.raises(TypeError, match="shape"):
        vector.step(np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        vector.step(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="need 3 seeds"):
        vector.reset(seed=[1, 2])
    with pytest.raises(ValueError, match="reset options"):
        vector.reset(options={"x": 1})

    # A model that implements only the single environment is refused (every built-in one
    # has a batched kernel).
    class SingleOnly(ResponseAlgorithm):
        def build(self, spec, n_response):
            raise AssertionError("not called")

    with pytest.raises(ValueError, match="has no batched implementation"):
        StackelbergPOMDPVectorEnv(2, "normal_form", followers=SingleOnly())
    with pytest.raises(ValueError, match="empirical"):
        StackelbergPOMDPVectorEnv(
            2, "normal_form", followers=MultiplicativeWeightsResponse(reward_play="empirical")
        )
    with pytest.raises(ValueError, match="num_envs must be at least 1, got 0"):
        StackelbergPOMDPVectorEnv(0, "normal_form")
    with pytest.raises(ValueError, match="render_mode"):
        StackelbergPOMDPVectorEnv(2, "normal_form", render_mode="human")
    mspm = StackelbergPOMDPVectorEnv(2, "mspm")
    mspm.reset(seed=0)
    with pytest.raises(ValueError, match=r"env index 1"):
        mspm.step(np.array([[0.5, 0.5, 0.5], [0.5, np.nan, 0.5]]))


def test_diagnostics_reports_equal_the_single_envs():
    kwargs = {"n_response": 21, "n_reward": 2}
    vector = StackelbergPOMDPVectorEnv(2, "simple_allocation", diagnostics=True, **kwargs)
    singles = [StackelbergPOMDPEnv("simple_allocation", **kwargs) for _ in range(2)]
    vector.reset(seed=[4, 5])
    for env, seed in zip(singles, (4, 5), strict=True):
        env.reset(seed=seed)
    policy = np.array([2, 0, 1])  # message -> item
    found = 0
    obs = vector.pomdp._observation
    for _ in range(21):
        actions = policy[obs]
        obs, _, _, _, info = vector.step(actions)
        for b, env in enumerate(singles):
            before = env.unwrapped.pomdp.report
            env.step(actions[b])
            if env.unwrapped.pomdp.report is not before:
                assert info["_response"][b]
                report = info["response"][b]
                assert report == env.unwrapped.pomdp.report
                assert report.gaps is not None
                assert report.gaps.ex_ante == pytest.approx(
                    report.certificate.average("realised_regret").sum(), abs=1e-12
                )
                found += 1
    assert found == 2


def test_copies_follow_the_single_env_with_many_follower_actions():
    """10 follower actions: numpy's own sums turn pairwise from 8 terms on; the shared MW
    kernel adds left to right, so single and batched still agree bit for bit."""
    rng = np.random.default_rng(0)
    kwargs = {
        "leader_payoffs": rng.random((3, 10)),
        "follower_payoffs": rng.random((3, 10)),
        "followers": MultiplicativeWeightsResponse(eps=0.3, reward_play="sample"),
        "n_response": 45,
        "n_reward": 4,
    }
    seeds = [5, 6]
    vector = StackelbergPOMDPVectorEnv(len(seeds), "normal_form", **kwargs)
    singles = [StackelbergPOMDPEnv("normal_form", **kwargs) for _ in seeds]
    vector.reset(seed=seeds)
    for env, seed in zip(singles, seeds, strict=True):
        env.reset(seed=seed)
    for _ in range(2 * (45 + 4)):
        actions = rng.integers(3, size=len(seeds))
        batched = vector.step(actions)
        for b, env in enumerate(singles):
            outcome = env.step(actions[b])
            assert_same_step(b, outcome, batched)
            if outcome[2]:
                env.reset()  # the batched copy reset itself within the step
            np.testing.assert_array_equal(
                vector.pomdp.cumulative_gains(0)[b], single_cumulative_gains(env, 0)
            )


# -- every follower model, step for step -------------------------------------------------------

WIDE = np.random.default_rng(11)
WIDE_GAME = {  # 9 follower actions, one type: the layout where numpy's sums turn pairwise
    "leader_payoffs": WIDE.random((3, 9)).round(3),
    "follower_payoffs": WIDE.random((3, 9)).round(3),
}
MODEL_SETTINGS = [
    ("normal_form", {"n_response": 30, "n_reward": 2}),
    ("normal_form", {**WIDE_GAME, "n_response": 40, "n_reward": 3}),
    ("simple_allocation", {"n_messages": 2, "prior": [0.5, 0.3, 0.2], "n_response": 45}),
    ("mspm", {"values": "uniform", "n_values": 2, "n_messages": 2, "n_response": 40}),
    ("collusion_platform", {"n_prices": 3, "n_response": 40, "n_reward": 7}),
]
MODELS = [
    *(name for name in follower_models() if name != "multiplicative_weights"),  # an alias
    HedgeResponse(eta=0.5, reward_play="sample"),
    RegretMatchingResponse(plus=True, reward_play="sample"),
    Exp3Response(gamma=0.3, reward_play="sample"),
    PolicyGradientResponse(learning_rate=0.5, baseline=False, memory=1, reward_play="sample"),
    PopulationResponse(
        members=(Exp3Response(reward_play="sample"), RegretMatchingResponse(plus=True)),
        weights=(1.0, 2.0),
    ),
]


EXP3_MODELS = [  # matrix design pays up to 10: EXP3 takes the game's bounds, (0, 11)
    "exp3",
    Exp3Response(gamma=0.3, reward_play="sample"),
    PopulationResponse(members=(Exp3Response(reward_play="sample"), RegretMatchingResponse())),
]
MATRIX_DESIGN = ("matrix_design", {"n_response": 30, "n_reward": 2})


def single_rounds(env):
    return env.unwrapped.pomdp.followers.rounds


@pytest.mark.parametrize(
    ("followers", "setting", "kwargs"),
    [
        *((f, s, k) for s, k in MODEL_SETTINGS for f in MODELS),
        *((f, *MATRIX_DESIGN) for f in EXP3_MODELS),
    ],
    ids=lambda value: None if isinstance(value, dict) else repr(value),
)
def test_every_follower_model_follows_the_single_env_step_for_step(followers, setting, kwargs):
    """Two copies, two whole episodes each: observations, rewards, critic states (the
    learners' features), round counts and the reward-phase strategies agree exactly."""
    kwargs = {**kwargs, "followers": followers}
    seeds = [21, 4]
    vector = StackelbergPOMDPVectorEnv(len(seeds), setting, **kwargs)
    singles = [StackelbergPOMDPEnv(setting, **kwargs) for _ in seeds]
    obs, infos = vector.reset(seed=seeds)
    for b, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        observation, info = env.reset(seed=seed)
        np.testing.assert_array_equal(obs[b], observation)
        np.testing.assert_array_equal(infos["state"][b], info["state"])
    rng = np.random.default_rng(3)
    episodes = np.zeros(len(seeds), dtype=int)
    strategies_compared = 0
    while episodes.min() < 2:
        actions = random_actions(vector.single_action_space, rng, len(seeds))
        batched = vector.step(actions)
        for b, env in enumerate(singles):
            pomdp = env.unwrapped.pomdp
            outcome = env.step(actions[b])
            assert_same_step(b, outcome, batched)
            if outcome[2]:
                episodes[b] += 1
                env.reset()
                continue
            assert vector.pomdp.rounds[b] == pomdp.followers.rounds
            if outcome[4]["phase"] == Phase.RESPONSE and pomdp.phase == Phase.REWARD:
                for mine, theirs in zip(
                    vector.pomdp.followers.strategy(b), pomdp.followers.strategy(), strict=True
                ):
                    np.testing.assert_array_equal(mine, theirs)
                strategies_compared += 1
    assert strategies_compared >= 2 * len(seeds)


CERTIFIED = [
    ("mspm", {"protocol": "certified", "n_values": 3, "n_response": 60}),
    ("simple_allocation", {"protocol": "certified", "n_response": 30}),
    ("normal_form", {"protocol": "certified", "followers": "exp3", "n_response": 20}),
    ("matrix_design", {"protocol": "certified", "followers": "exp3", "n_response": 20}),
    (
        "normal_form",
        {
            "protocol": "certified",
            "followers": "hedge",
            "n_response": 20,
            "exact_reward": False,
            "n_reward": 3,
        },
    ),
    (
        "matrix_design",
        {
            "protocol": "certified",
            "followers": "regret_matching",
            "n_response": 20,
            "certify": Certification(threshold=0.01, max_extra_updates=5),
        },
    ),
    ("matrix_design", {"protocol": "certified", "n_response": 24, "diagnostics": True}),
]


@pytest.mark.parametrize(("setting", "kwargs"), CERTIFIED)
def test_certified_protocol_follows_the_single_env_step_for_step(setting, kwargs):
    """Per-copy variable-length response and reward phases, two whole episodes each."""
    seeds = [5, 6, 99]
    vector = StackelbergPOMDPVectorEnv(len(seeds), setting, **kwargs)
    singles = [StackelbergPOMDPEnv(setting, **kwargs) for _ in seeds]
    obs, infos = vector.reset(seed=seeds)
    assert not infos["extension"].any()
    for b, (env, seed) in enumerate(zip(singles, seeds, strict=True)):
        observation, info = env.reset(seed=seed)
        np.testing.assert_array_equal(obs[b], observation)
        np.testing.assert_array_equal(infos["state"][b], info["state"])
    rng = np.random.default_rng(11)
    space = vector.single_action_space
    episodes = np.zeros(len(seeds), dtype=int)
    extensions = 0
    while episodes.min() < 2:
        actions = random_actions(space, rng, len(seeds))
        batched = vector.step(actions)
        for b, env in enumerate(singles):
            pomdp = env.unwrapped.pomdp
            before = pomdp.report
            outcome = env.step(actions[b])
            assert_same_step(b, outcome, batched)
            assert outcome[4]["extension"] == batched[4]["extension"][b]
            extensions += outcome[4]["extension"]
            if pomdp.report is not before and "response" in batched[4]:
                assert batched[4]["response"][b] == pomdp.report
            if outcome[2]:
                episodes[b] += 1
                observation, info = env.reset()
                np.testing.assert_array_equal(batched[0][b], observation)
                np.testing.assert_array_equal(batched[4]["state"][b], info["state"])
            for i in range(vector.game.n_followers if kwargs.get("followers") != "exp3" else 0):
                np.testing.assert_array_equal(
                    vector.pomdp.cumulative_gains(i)[b], single_cumulative_gains(env, i)
                )
    if "certify" in kwargs:
        assert extensions > 0
