"""The Stackelberg POMDP: episode logic, reference values, gaps, commitment, both drivers."""

import itertools
import pickle

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import data_equivalence

from stackelberg_zoo.envs.core import EconomicGame, Outcome
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp import (
    POMDP_SETTINGS,
    MultiplicativeWeightsResponse,
    Phase,
    StackelbergPOMDP,
    register_pomdp_envs,
)
from stackelberg_zoo.envs.pomdp.aec import env as aec_env
from stackelberg_zoo.envs.pomdp.gym import StackelbergPOMDPEnv
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation
from stackelberg_zoo.equilibrium import bounds

register_pomdp_envs()

SHORT = {"n_response": 24, "n_reward": 4}


def run_episode(pomdp, policy, seed=0):
    """Play one episode; return (return, the response report, number of steps)."""
    observation, _ = pomdp.reset(np.random.default_rng(seed))
    total, steps = 0.0, 0
    while True:
        step = pomdp.step(policy(observation))
        steps += 1
        total += step.reward
        observation = step.observation
        if step.terminated:
            return total, pomdp.report, steps


# -- episode structure ---------------------------------------------------------------------------


def test_one_step_per_leader_turn_and_phase_bookkeeping():
    game = NormalFormStackelberg("escape")
    pomdp = StackelbergPOMDP(game, "mw", n_response=7, n_reward=3)
    pomdp.reset(np.random.default_rng(0))
    phases, sub_games, rewards, reports = [], [], [], []
    while not pomdp.terminated:
        step = pomdp.step(2)
        phases.append(step.info["phase"])
        sub_games.append(step.info["sub_game"])
        rewards.append(step.reward)
        reports.append(pomdp.report is not None)
        assert step.info.keys() == {"phase", "sub_game", "replaced"}
    assert phases == [Phase.RESPONSE] * 7 + [Phase.REWARD] * 3  # no ignored steps
    assert sub_games == list(range(7)) + list(range(3))
    assert rewards[:7] == [0.0] * 7
    np.testing.assert_allclose(rewards[7:], [1 / 3] * 3)  # u_L(L2, f2) = 1, divided by 3
    assert reports == [False] * 6 + [True] * 4  # set by the step that ends the phase
    with pytest.raises(ValueError, match="call reset"):
        pomdp.step(2)


def test_multi_turn_sub_games_take_one_step_per_turn():
    game = SequentialPriceMechanism("pi", n_messages=2)
    pomdp = StackelbergPOMDP(game, "mw", n_response=40, n_reward=10)
    # Visit follower 0 at price 1.0 first: it refuses unless its value is 1.0, and then the
    # leader gets a second turn for follower 1.
    policy = lambda obs: np.array([1.0, 0.0, 1.0])  # noqa: E731
    observation, _ = pomdp.reset(np.random.default_rng(0))
    turns, steps = 0, 0
    while not pomdp.terminated:
        step = pomdp.step(policy(observation))
        steps += 1
        observation = step.observation
    # Every sub-game has one or two leader turns, and there are 50 sub-games.
    assert 50 <= steps <= 100 and steps > 50
    del turns


# -- the optimal policy is worth the reference value ------------------------------------------


def reference_cases():
    """(id, game, policy from the reference, n_reward, exact?)."""
    cases = []
    for name in ("escape", "maintain"):
        for mixed in (False, True):
            game = NormalFormStackelberg(name, mixed_leader=mixed)
            best = game.reference().optimal_policy
            action = np.asarray(best, dtype=np.float32) if mixed else int(best)
            cases.append((f"{name}-{'mixed' if mixed else 'pure'}", game, lambda o, a=action: a))
    design = MatrixDesign()
    cases.append(("matrix-design", design, design.reference().optimal_policy))
    for k in (1, 2, 3):
        allocation = SimpleAllocation(n_messages=k)
        cases.append((f"allocation-k{k}", allocation, allocation.reference().optimal_policy))
    mspm = SequentialPriceMechanism("pi", n_messages=2)
    cases.append(("mspm-pi", mspm, mspm.reference().optimal_policy))
    return cases


@pytest.mark.parametrize(
    ("game", "policy"), [c[1:] for c in reference_cases()], ids=[c[0] for c in reference_cases()]
)
def test_best_response_return_of_the_optimal_policy_is_the_reference_value(game, policy):
    from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value
    from stackelberg_zoo.envs.pomdp import BestResponse

    reference = game.reference()
    pomdp = StackelbergPOMDP(game, BestResponse(tol=1e-6), n_response=200, n_reward=400)
    total, report, _ = run_episode(pomdp, policy)
    # Exact: the learned (pure equilibrium) response, evaluated on the exact induced game.
    induced = induced_bayesian_game(game, policy)
    assert leader_value(induced, list(report.strategy)) == pytest.approx(
        reference.optimum, abs=1e-6
    )
    # The sampled return: exact when every type profile gives the same value, else within
    # 5 standard errors of the 400 reward sub-games (leader utilities lie in [-1, 2]).
    assert total == pytest.approx(reference.optimum, abs=5 * 1.5 / np.sqrt(400))
    if np.allclose(induced.leader_payoffs.min(), induced.leader_payoffs.max()) or isinstance(
        game, (NormalFormStackelberg, MatrixDesign, SequentialPriceMechanism)
    ):
        assert total == pytest.approx(reference.optimum, abs=1e-6)


@pytest.mark.parametrize(
    ("game", "bad_policy"),
    [
        (NormalFormStackelberg("escape"), lambda obs: 0),
        (NormalFormStackelberg("maintain"), lambda obs: 2),
        # Paying 10 for action 1 makes (1, 1) dominant: welfare 4/6 instead of 10/6. (Paying
        # nothing is not bad against an equilibrium-selecting oracle: (0, 1) is a pure NE.)
        (MatrixDesign(), lambda obs: 10 * np.asarray(obs, dtype=np.float32)),
        (SimpleAllocation(n_messages=3), lambda message: 0),  # a permutation would be optimal
        (SequentialPriceMechanism("pi", n_messages=2), lambda obs: np.array([1.0, 0.0, 0.9])),
    ],
    ids=["escape", "maintain", "matrix-design", "allocation", "mspm"],
)
def test_a_bad_policy_scores_lower(game, bad_policy):
    pomdp = StackelbergPOMDP(game, "best_response", n_response=200, n_reward=200)
    total, _, _ = run_episode(pomdp, bad_policy, seed=4)
    assert total < game.reference().optimum - 0.05


# -- BCCE gaps of MW play shrink within the regret bound ----------------------------------------


def gap_within_bound(report, delta=1e-3):
    """Agent-form gap <= (Σ_θ learner bound + Azuma margin) / T per follower, and return it."""
    certificate = report.certificate
    T = certificate.rounds
    gaps = report.gaps.agent_form
    allowances = certificate.agent_form_allowance(delta)
    for i, gap in enumerate(gaps):
        # The allowance, recomputed by hand for one follower: bound plus margin per type.
        by_hand = sum(
            bound + count * bounds.azuma_margin(int(count), max(float(spread), 1e-12), delta)
            for count, bound, spread in zip(
                certificate.type_counts[i],
                certificate.bound[i],
                certificate.payoff_range[i],
                strict=True,
            )
            if count
        )
        assert allowances[i] == pytest.approx(by_hand / T, rel=1e-12)
        assert gap <= allowances[i] + 1e-12
        # And the identity with the realised regret, exactly.
        realised = certificate.realised_regret[i]
        assert gap == pytest.approx(np.maximum(realised, 0).sum() / T, abs=1e-12)
    return gaps


CORRELATED_MSPM = SequentialPriceMechanism(
    [[0.2, 1.0], [0.0, 0.4]], n_messages=2, prior=[[0.4, 0.1], [0.1, 0.4]]
)


def message_policy(observation):
    """Visit first the follower whose message is 1 (follower 0 on ties), at price 0.3."""
    messages = CORRELATED_MSPM.decode_observation(observation).messages
    return np.array([messages[0], messages[1], 0.3], dtype=np.float64)


@pytest.mark.parametrize(
    ("game", "policy"),
    [
        (SimpleAllocation(n_messages=3), lambda message: int(message) % 2),
        (CORRELATED_MSPM, message_policy),
    ],
    ids=["allocation-types", "mspm-correlated-prior"],
)
def test_bcce_gap_of_mw_play_shrinks_within_the_regret_bound(game, policy):
    gaps = []
    for n_sweeps in (30, 300, 3000):
        queries = n_sweeps * sum(game.n_follower_actions)
        pomdp = StackelbergPOMDP(
            game, MultiplicativeWeightsResponse(eps=0.1), n_response=queries, n_reward=1
        )
        _, report, _ = run_episode(pomdp, policy, seed=11)
        assert report.rounds == n_sweeps
        gaps.append(gap_within_bound(report).max())
    assert gaps[2] < gaps[1] < gaps[0]


# -- commitment ---------------------------------------------------------------------------------


def test_commitment_replaces_and_flags_later_actions():
    game = NormalFormStackelberg("escape")
    pomdp = StackelbergPOMDP(game, "mw", n_response=6, n_reward=2)
    pomdp.reset(np.random.default_rng(0))
    first = pomdp.step(2)
    assert first.info["replaced"] is False
    second = pomdp.step(0)
    assert second.info["replaced"] is True and pomdp.applied_action == 2
    total = 0.0
    while not pomdp.terminated:
        total += pomdp.step(1).reward
    assert total == pytest.approx(1.0)  # row 2 was played throughout


def test_a_trainer_that_repeats_its_own_actions_never_triggers_commitment():
    game = SequentialPriceMechanism("pi", n_messages=2)
    pomdp = StackelbergPOMDP(game, "mw", n_response=60, n_reward=20)
    rng = np.random.default_rng(7)
    cache = {}

    def caching_policy(observation):
        key = np.asarray(observation).tobytes()
        if key not in cache:
            cache[key] = rng.uniform(0, 1, 3)
        return cache[key].copy()

    observation, _ = pomdp.reset(np.random.default_rng(0))
    while not pomdp.terminated:
        step = pomdp.step(caching_policy(observation))
        assert step.info["replaced"] is False
        observation = step.observation
    assert len(pomdp.committed_actions()) == len(cache)


def test_without_commitment_a_changing_policy_has_no_gaps():
    game = NormalFormStackelberg("escape")
    pomdp = StackelbergPOMDP(game, "mw", n_response=9, n_reward=1, commitment=False)
    rows = iter([0, 1, 2] * 10)
    _, report, _ = run_episode(pomdp, lambda obs: next(rows))
    assert report.gaps is None and "changed its action" in report.gaps_unavailable
    steady = StackelbergPOMDP(game, "mw", n_response=9, n_reward=1, commitment=False)
    _, report, _ = run_episode(steady, lambda obs: 2)
    assert report.gaps is not None


def test_commitment_applies_to_box_actions_after_dtype_conversion():
    game = MatrixDesign()
    pomdp = StackelbergPOMDP(game, "mw", n_response=8, n_reward=1)
    observation, _ = pomdp.reset(np.random.default_rng(0))
    first = {}
    while not pomdp.terminated:
        key = observation.tobytes()
        action = np.array([1.0, 2.0]) if key not in first else np.float32([1.0, 2.0])
        step = pomdp.step(action)
        assert step.info["replaced"] is False
        first[key] = True
        observation = step.observation


# -- state for the centralized critic ------------------------------------------------------------


def test_state_layout_phase_progress_and_normalised_weights():
    game = SimpleAllocation(n_messages=3)
    pomdp = StackelbergPOMDP(game, "mw", n_response=9, n_reward=2)
    observation, _ = pomdp.reset(np.random.default_rng(0))
    state = pomdp.state()
    assert pomdp.state_space.contains(state)
    assert state.shape == (3 + 2 + 9,)
    np.testing.assert_array_equal(state[:3], np.eye(3)[observation])
    assert state[3] == 0.0 and state[4] == 0.0
    np.testing.assert_array_equal(state[5:], np.ones(9))  # all-ones weights / max
    for _ in range(9):
        observation = pomdp.step(int(observation)).observation
    state = pomdp.state()
    assert state[3] == 1.0 and state[4] == 0.0  # reward phase begins
    weights = pomdp.followers.bank.weights(0)
    np.testing.assert_allclose(state[5:], (weights / weights.max()).ravel(), rtol=1e-6)
    assert state[5:].max() == pytest.approx(1.0)


# -- drivers: PettingZoo and Gymnasium ------------------------------------------------------------


SETTING_KWARGS = {
    "normal_form": [{"game": "escape"}, {"game": "maintain", "mixed_leader": True}],
    "matrix_design": [{}],
    "simple_allocation": [{"n_messages": 2}],
    "mspm": [{"values": "uniform", "n_values": 3}],
    "collusion_platform": [{}, {"n_prices": 3, "followers": "mw"}],
}
CASES = [(s.name, kwargs) for s in POMDP_SETTINGS for kwargs in SETTING_KWARGS[s.name]]
IDS = [
    f"{name}-{i}" for name, kwargs_list in SETTING_KWARGS.items() for i in range(len(kwargs_list))
]


def test_every_setting_is_registered_in_both_registries():
    for setting in POMDP_SETTINGS:
        aec = pettingzoo.make("aec", setting.pettingzoo_id)
        assert aec.unwrapped.pomdp.n_response == setting.n_response
        assert aec.unwrapped.pomdp.n_reward == setting.n_reward
        assert aec.unwrapped.possible_agents == ["leader_0"]
        gym = gymnasium.make(setting.gymnasium_id, followers="hedge")
        assert gym.unwrapped.pomdp.n_response == setting.n_response


def test_gymnasium_make_passes_game_and_follower_arguments():
    env = gymnasium.make(
        "StackelbergZoo/NormalFormPOMDP-v0",
        game="escape",
        mixed_leader=True,
        followers=MultiplicativeWeightsResponse(eps=0.05),
        n_response=12,
    )
    assert env.unwrapped.game.mixed_leader
    assert env.unwrapped.pomdp.algorithm.eps == 0.05
    _, info = env.reset(seed=0)
    assert env.unwrapped.state_space.contains(info["state"])


def rollout(make_env, seed, episodes=3):
    """Every output of a few whole episodes with seeded random actions."""
    env = make_env()
    env.action_space.seed(seed)
    trace = []
    observation, info = env.reset(seed=seed)
    trace.append((observation, info))
    done_episodes = 0
    while done_episodes < episodes:
        action = env.action_space.sample(info.get("action_mask"))
        before = env.unwrapped.pomdp.report
        observation, reward, terminated, truncated, info = env.step(action)
        report = env.unwrapped.pomdp.report
        if report is not before:
            info = dict(info, response=report, response_gaps=report.gaps.agent_form.copy())
        trace.append((observation, reward, terminated, truncated, info))
        if terminated:
            done_episodes += 1
            observation, info = env.reset()
            trace.append((observation, info))
    return trace


def traces_equal(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if len(x) != len(y):
            return False
        for u, v in zip(x, y, strict=True):
            if isinstance(u, dict):
                if u.keys() != v.keys():
                    return False
                for key in u:
                    if not (
                        u[key] == v[key]
                        if key == "response"
                        else data_equivalence(u[key], v[key], exact=True)
                    ):
                        return False
            elif not data_equivalence(u, v, exact=True):
                return False
    return True


@pytest.mark.parametrize(("setting", "kwargs"), CASES, ids=IDS)
def test_seeded_determinism_over_whole_episodes(setting, kwargs):
    make = lambda: StackelbergPOMDPEnv(setting, **SHORT, **kwargs)  # noqa: E731
    first, second = rollout(make, seed=5), rollout(make, seed=5)
    assert sum(1 for step in first if len(step) == 5 and step[2]) == 3
    assert traces_equal(first, second)
    if setting != "normal_form" or kwargs.get("mixed_leader"):
        # The harness can fail: another seed gives another trajectory.
        assert not traces_equal(first, rollout(make, seed=6))


def test_pettingzoo_and_gymnasium_views_agree():
    gym_env = StackelbergPOMDPEnv("simple_allocation", n_messages=3, **SHORT)
    pz_env = aec_env(setting="simple_allocation", n_messages=3, **SHORT)
    gym_env.reset(seed=3)
    pz_env.reset(seed=3)
    policy = [2, 0, 1]
    for _ in range(SHORT["n_response"] + SHORT["n_reward"]):
        observation = pz_env.observe("leader_0")
        assert observation == gym_env.pomdp.observation
        pz_env.step(policy[int(observation)])
        _, reward, terminated, _, _ = gym_env.step(policy[int(observation)])
        assert pz_env.rewards["leader_0"] == reward
        np.testing.assert_array_equal(pz_env.state(), gym_env.state())
    assert terminated and pz_env.terminations["leader_0"]


def test_envs_pickle_and_render():
    env = StackelbergPOMDPEnv("normal_form", render_mode="ansi", **SHORT)
    clone = pickle.loads(pickle.dumps(env))
    assert clone.pomdp.n_response == SHORT["n_response"]
    env.reset(seed=0)
    env.step(1)
    assert "phase response" in env.render()
    pz = aec_env(setting="mspm", render_mode="ansi", **SHORT)
    pickle.loads(pickle.dumps(pz))
    pz.reset(seed=0)
    assert "types" in pz.render()


def test_max_cycles_truncates_the_pettingzoo_view():
    env = aec_env(setting="normal_form", max_cycles=5, **SHORT)
    env.reset(seed=0)
    for _ in range(5):
        env.step(0)
    assert env.truncations["leader_0"] and not env.terminations["leader_0"]


def test_masked_actions_are_rejected():
    class MaskedAllocation(SimpleAllocation):
        def leader_action_mask(self, state):
            return np.array([1, 1, 0], dtype=np.int8)

    pomdp = StackelbergPOMDP(MaskedAllocation(n_messages=3), "mw", n_response=6, n_reward=1)
    _, info = pomdp.reset(np.random.default_rng(0))
    np.testing.assert_array_equal(info["action_mask"], [1, 1, 0])
    with pytest.raises(ValueError, match="masked out"):
        pomdp.step(2)
    assert pomdp.step(1).info["action_mask"].dtype == np.int8


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_response": 0}, ValueError, "n_response must be at least 1, got 0"),
        ({"n_reward": -3}, ValueError, "n_reward must be at least 1, got -3"),
        ({"n_response": 2.5}, TypeError, "n_response must be an int, got 2.5"),
        ({"n_response": True}, TypeError, "got True"),
        ({"followers": "ficticious"}, ValueError, "'ficticious'"),
        ({"commitment": "yes"}, TypeError, "'yes'"),
    ],
)
def test_bad_pomdp_arguments_raise_naming_the_value(kwargs, error, message):
    with pytest.raises(error, match=message):
        StackelbergPOMDP(NormalFormStackelberg("escape"), **kwargs)


def test_bad_driver_arguments_raise_naming_the_value():
    with pytest.raises(ValueError, match="'auction'"):
        StackelbergPOMDPEnv("auction")
    with pytest.raises(ValueError, match="only apply with a setting name"):
        StackelbergPOMDPEnv(NormalFormStackelberg("escape"), game="maintain")
    with pytest.raises(TypeError, match="EconomicGame"):
        StackelbergPOMDPEnv(42)
    with pytest.raises(ValueError, match="'rgb_array'"):
        StackelbergPOMDPEnv("normal_form", render_mode="rgb_array")
    with pytest.raises(ValueError, match="max_cycles must be at least 1, got 0"):
        aec_env(setting="normal_form", max_cycles=0)
    with pytest.raises(TypeError, match="EconomicGame"):
        StackelbergPOMDP("escape")


class GuessTheType(EconomicGame):
    """A custom setting: one follower with two types reports one; the leader guesses it."""

    def __init__(self):
        self.n_types = (2,)
        self.n_follower_actions = (2,)
        self.prior = np.array([0.25, 0.75])
        self.leader_observation_space = gymnasium.spaces.Discrete(2)
        self.leader_action_space = gymnasium.spaces.Discrete(2)

    def start(self, types, follower_actions):
        return (int(types[0]), int(follower_actions[0]), None)

    def leader_observation(self, state):
        return state[1]

    def leader_step(self, state, action):
        return (state[0], state[1], int(action))

    def is_over(self, state):
        return state[2] is not None

    def outcome(self, state):
        hit = float(state[2] == state[0])
        return Outcome(leader=hit, followers=np.array([hit]))

    def reference(self):
        # Enumerate the leader's four message -> guess maps against a best-responding type.
        from stackelberg_zoo.envs.core import Reference, induced_bayesian_game, leader_value
        from stackelberg_zoo.envs.pomdp.followers import pure_bayes_nash

        values = {}
        for guesses in itertools.product(range(2), repeat=2):
            induced = induced_bayesian_game(self, lambda message, g=guesses: g[message])
            plan = pure_bayes_nash(induced.followers.payoffs, self.prior, induced.leader_payoffs)[0]
            values[guesses] = leader_value(induced, [np.eye(2)[plan]])
        best = max(values, key=values.get)
        return Reference(values[best], best, "best response, ties for the leader")


def test_custom_settings_need_explicit_phase_lengths():
    with pytest.raises(ValueError, match="no default phase lengths for a GuessTheType"):
        StackelbergPOMDP(GuessTheType())
    pomdp = StackelbergPOMDP(GuessTheType(), "best_response", n_response=4, n_reward=500)
    total, report, steps = run_episode(pomdp, lambda message: int(message))
    assert steps == 504 and total == pytest.approx(GuessTheType().reference().optimum)
    np.testing.assert_array_equal(report.strategy[0], np.eye(2))


def test_invalid_action_leaves_the_episode_intact():
    pomdp = StackelbergPOMDP(SimpleAllocation(n_messages=2), "mw", n_response=4, n_reward=1)
    pomdp.reset(np.random.default_rng(0))
    with pytest.raises(ValueError):
        pomdp.step(7)
    assert pomdp.step(0).info["replaced"] is False  # 7 was never committed
