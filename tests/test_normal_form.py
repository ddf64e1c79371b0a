"""The normal-form Stackelberg setting: data, utilities, reference values, environments."""

import itertools

import numpy as np
import pytest
from pettingzoo import make
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.core import induced_bayesian_game, play
from stackelberg_zoo.envs.normal_form.env import env as aec_env
from stackelberg_zoo.envs.normal_form.env import parallel_env, raw_env
from stackelberg_zoo.envs.normal_form.game import NAMED_GAMES, NormalFormStackelberg
from stackelberg_zoo.equilibrium.stackelberg import strong_stackelberg

ENV_ID = "stackelberg/normal-form-v0"

# Published tables (SETTINGS.md 4.1; Zhang et al. 2020 via Brero et al.), entries
# (leader, follower), typed here independently of game.py to check its data.
PUBLISHED = {
    "escape": [
        [(15, 15), (10, 10), (0, 0)],
        [(10, 10), (10, 10), (0, 0)],
        [(0, 0), (0, 0), (30, 30)],
    ],
    "maintain": [
        [(20, 15), (0, 0), (0, 0)],
        [(30, 0), (10, 5), (0, 0)],
        [(0, 0), (0, 0), (5, 10)],
    ],
    "conitzer": [[(1, 1), (3, 0)], [(0, 0), (2, 1)]],
    "dominance": [[(3, 2), (1, 3)], [(2, 0), (0, 1)]],
}


def published(name):
    table = np.array(PUBLISHED[name], dtype=float)
    return table[..., 0], table[..., 1]


def brute_force_pure(leader, follower):
    """Best row against a best-responding follower, ties in the leader's favour."""
    best = -np.inf
    for row in range(leader.shape[0]):
        responses = np.flatnonzero(follower[row] >= follower[row].max() - 1e-12)
        best = max(best, leader[row, responses].max())
    return best


def brute_force_mixed(leader, follower, steps):
    """Strong-Stackelberg value over a grid of mixes with denominator ``steps``."""
    rows = leader.shape[0]
    best = -np.inf
    for counts in itertools.product(range(steps + 1), repeat=rows - 1):
        if sum(counts) > steps:
            continue
        x = np.array([*counts, steps - sum(counts)]) / steps
        values = x @ follower
        responses = np.flatnonzero(values >= values.max() - 1e-12)
        best = max(best, (x @ leader)[responses].max())
    return best


def play_aec(env, column, leader_action):
    """One sub-game in the AEC env; returns the final rewards."""
    env.reset(seed=0)
    rewards = {}
    for agent in env.agent_iter():
        _, reward, terminated, truncated, _ = env.last()
        if terminated or truncated:
            rewards[agent] = reward
            env.step(None)
        else:
            env.step(column if agent == "follower_0" else leader_action)
    return rewards


# ----------------------------------------------------------------------------- data


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_named_games_match_the_published_tables(name):
    leader, follower = published(name)
    game = NormalFormStackelberg(name, normalize=False)
    np.testing.assert_array_equal(game.leader_payoffs, leader)
    np.testing.assert_array_equal(game.follower_payoffs, follower)
    assert set(NAMED_GAMES) == set(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_normalize_divides_by_the_largest_entry_of_the_table(name):
    leader, follower = published(name)
    scale = max(leader.max(), follower.max())
    game = NormalFormStackelberg(name)
    np.testing.assert_allclose(game.leader_payoffs, leader / scale, rtol=0, atol=1e-15)
    np.testing.assert_allclose(game.follower_payoffs, follower / scale, rtol=0, atol=1e-15)
    assert max(game.leader_payoffs.max(), game.follower_payoffs.max()) == 1.0


def test_payoff_arrays_are_read_only():
    game = NormalFormStackelberg("escape")
    with pytest.raises(ValueError):
        game.leader_payoffs[0, 0] = 5.0


# ----------------------------------------------------------------------------- reference


@pytest.mark.parametrize("mixed", [False, True])
def test_escape_optimum_is_one_at_row_2_in_both_modes(mixed):
    reference = NormalFormStackelberg("escape", mixed_leader=mixed).reference()
    assert reference.optimum == pytest.approx(1.0, abs=1e-9)
    assert reference.details["follower_action"] == 2
    if mixed:
        np.testing.assert_allclose(reference.optimal_policy, [0, 0, 1], atol=1e-9)
    else:
        assert reference.optimal_policy == 2


def test_maintain_pure_optimum_is_two_thirds_at_row_0():
    reference = NormalFormStackelberg("maintain").reference()
    assert reference.optimum == pytest.approx(20 / 30, abs=1e-12)
    assert round(reference.optimum, 3) == 0.667
    assert reference.optimal_policy == 0
    assert reference.details["follower_action"] == 0


def test_maintain_randomized_optimum_is_the_strong_stackelberg_value():
    game = NormalFormStackelberg("maintain", mixed_leader=True)
    reference = game.reference()
    sse = strong_stackelberg(game.leader_payoffs, game.follower_payoffs)
    assert reference.optimum == pytest.approx(sse.leader_value, abs=1e-12)
    assert reference.optimum >= reference.baselines["pure_commitment"] + 0.2
    # Published value (research/equilibrium.md F7): 27.5 at x = (1/4, 3/4, 0), normalised by 30.
    assert reference.optimum == pytest.approx(27.5 / 30, abs=1e-7)
    np.testing.assert_allclose(reference.optimal_policy, [0.25, 0.75, 0.0], atol=1e-7)
    # The optimal mix sits on the follower's indifference point between columns 0 and 1.
    values = reference.optimal_policy @ game.follower_payoffs
    assert values[0] == pytest.approx(values[1], abs=1e-7)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_reference_matches_brute_force_on_named_games(name):
    pure = NormalFormStackelberg(name).reference()
    mixed = NormalFormStackelberg(name, mixed_leader=True).reference()
    game = NormalFormStackelberg(name)
    assert pure.optimum == pytest.approx(
        brute_force_pure(game.leader_payoffs, game.follower_payoffs), abs=1e-12
    )
    # Every named optimum lies on a grid point with denominator 60.
    assert mixed.optimum == pytest.approx(
        brute_force_mixed(game.leader_payoffs, game.follower_payoffs, 60), abs=1e-9
    )
    assert mixed.optimum >= pure.optimum - 1e-12


def test_reference_matches_brute_force_on_random_games():
    rng = np.random.default_rng(7)
    for _ in range(20):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        leader, follower = rng.integers(0, 6, shape), rng.integers(0, 6, shape)
        if max(leader.max(), follower.max()) == 0:
            continue
        pure = NormalFormStackelberg(leader_payoffs=leader, follower_payoffs=follower)
        mixed = NormalFormStackelberg(
            leader_payoffs=leader, follower_payoffs=follower, mixed_leader=True
        )
        assert pure.reference().optimum == pytest.approx(
            brute_force_pure(pure.leader_payoffs, pure.follower_payoffs), abs=1e-12
        )
        # A grid never beats the exact optimum, and a fine grid comes close to it.
        grid = brute_force_mixed(mixed.leader_payoffs, mixed.follower_payoffs, 40)
        optimum = mixed.reference().optimum
        assert grid <= optimum + 1e-9
        assert optimum >= pure.reference().optimum - 1e-12


def test_reference_reports_tie_breaking():
    reference = NormalFormStackelberg("conitzer", mixed_leader=True).reference()
    assert "leader's favour" in reference.follower_model


# ----------------------------------------------------------------------------- utilities


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_cell_pays_the_table_in_game_aec_and_parallel(name):
    leader, follower = published(name)
    scale = max(leader.max(), follower.max())
    game = NormalFormStackelberg(name)
    env = make("aec", ENV_ID, game=name)
    par = make("parallel", ENV_ID, game=name)
    for row, column in itertools.product(range(leader.shape[0]), range(leader.shape[1])):
        expected = {
            "leader_0": leader[row, column] / scale,
            "follower_0": follower[row, column] / scale,
        }
        outcome = play(game, [0], [column], lambda obs, row=row: row)
        assert outcome.leader == pytest.approx(expected["leader_0"], abs=1e-15)
        assert outcome.followers[0] == pytest.approx(expected["follower_0"], abs=1e-15)
        assert play_aec(env, column, row) == pytest.approx(expected, abs=1e-15)
        par.reset(seed=1)
        _, rewards, terminations, truncations, _ = par.step({"leader_0": row, "follower_0": column})
        assert rewards == pytest.approx(expected, abs=1e-15)
        assert all(terminations.values()) and not any(truncations.values())


def test_raw_payoffs_without_normalize():
    env = make("aec", ENV_ID, game="maintain", normalize=False)
    assert play_aec(env, 0, 1) == {"leader_0": 30.0, "follower_0": 0.0}


def test_mixed_utilities_are_exact_expectations():
    rng = np.random.default_rng(3)
    game = NormalFormStackelberg("maintain", mixed_leader=True)
    env = make("aec", ENV_ID, game="maintain", mixed_leader=True)
    for _ in range(25):
        weights = rng.uniform(0, 1, 3)
        column = int(rng.integers(3))
        x = weights / weights.sum()
        expected_leader = sum(x[i] * game.leader_payoffs[i, column] for i in range(3))
        expected_follower = sum(x[i] * game.follower_payoffs[i, column] for i in range(3))
        outcome = play(game, [0], [column], lambda obs, w=weights: w)
        assert outcome.leader == pytest.approx(expected_leader, abs=1e-14)
        assert outcome.followers[0] == pytest.approx(expected_follower, abs=1e-14)
        # The env casts to the float32 action space first.
        x32 = weights.astype(np.float32).astype(np.float64)
        x32 /= x32.sum()
        rewards = play_aec(env, column, weights)
        assert rewards["leader_0"] == pytest.approx(x32 @ game.leader_payoffs[:, column], abs=1e-12)
        assert rewards["follower_0"] == pytest.approx(
            x32 @ game.follower_payoffs[:, column], abs=1e-12
        )


def test_all_zero_weights_play_the_uniform_mix():
    game = NormalFormStackelberg("maintain", mixed_leader=True)
    np.testing.assert_array_equal(game.leader_strategy(np.zeros(3)), np.full(3, 1 / 3))
    rewards = play_aec(make("aec", ENV_ID, mixed_leader=True), 1, np.zeros(3, dtype=np.float32))
    assert rewards["leader_0"] == pytest.approx(game.leader_payoffs[:, 1].mean(), abs=1e-15)
    assert rewards["follower_0"] == pytest.approx(game.follower_payoffs[:, 1].mean(), abs=1e-15)


def test_one_hot_weights_equal_the_pure_row():
    pure = NormalFormStackelberg("escape")
    mixed = NormalFormStackelberg("escape", mixed_leader=True)
    for row, column in itertools.product(range(3), range(3)):
        a = play(pure, [0], [column], lambda obs, row=row: row)
        b = play(mixed, [0], [column], lambda obs, row=row: np.eye(3)[row])
        assert a.leader == b.leader and a.followers[0] == b.followers[0]


def test_induced_game_of_a_committed_row_is_that_row():
    game = NormalFormStackelberg("maintain")
    induced = induced_bayesian_game(game, lambda obs: 1)
    np.testing.assert_array_equal(induced.followers.payoffs[0, 0], game.follower_payoffs[1])
    np.testing.assert_array_equal(induced.leader_payoffs[0], game.leader_payoffs[1])


def test_leader_observation_is_constant_and_equal_in_aec_and_parallel():
    env = raw_env(game="escape")
    env.reset(seed=0)
    before = env.observe("leader_0")["observation"]
    env.step(1)
    at_turn = env.observe("leader_0")["observation"]
    observations, _ = parallel_env(game="escape").reset(seed=0)
    np.testing.assert_array_equal(before, [1.0])
    np.testing.assert_array_equal(at_turn, [1.0])
    np.testing.assert_array_equal(observations["leader_0"]["observation"], [1.0])


def test_spaces_follow_the_mode():
    pure = raw_env(game="escape")
    mixed = raw_env(game="escape", mixed_leader=True)
    assert pure.action_space("leader_0").n == 3
    assert mixed.action_space("leader_0").shape == (3,)
    assert "action_mask" in pure.observation_space("leader_0").spaces
    assert "action_mask" not in mixed.observation_space("leader_0").spaces
    custom = raw_env(leader_payoffs=np.ones((2, 4)), follower_payoffs=np.ones((2, 4)))
    assert custom.action_space("follower_0").n == 4
    assert custom.action_space("leader_0").n == 2


def test_default_game_is_maintain():
    assert raw_env().game.name == "maintain"
    assert make("aec", ENV_ID).unwrapped.game.name == "maintain"


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"game": "chicken"}, ValueError, "'chicken'"),
        ({"game": 3}, ValueError, "3"),
        ({"game": None}, ValueError, "leader_payoffs=None"),
        ({"game": "escape", "leader_payoffs": [[1]]}, ValueError, "not both"),
        ({"leader_payoffs": [[1, 2]], "follower_payoffs": [[1], [2]]}, ValueError, "(2, 1)"),
        ({"leader_payoffs": [1, 2], "follower_payoffs": [1, 2]}, ValueError, "(2,)"),
        ({"leader_payoffs": [[1, np.nan]], "follower_payoffs": [[1, 2]]}, ValueError, "nan"),
        ({"leader_payoffs": [[1, np.inf]], "follower_payoffs": [[1, 2]]}, ValueError, "inf"),
        ({"leader_payoffs": [["a", "b"]], "follower_payoffs": [[1, 2]]}, TypeError, "'a'"),
        (
            {"leader_payoffs": np.zeros((0, 2)), "follower_payoffs": np.zeros((0, 2))},
            ValueError,
            "(0, 2)",
        ),
        ({"leader_payoffs": [[-1, 0]], "follower_payoffs": [[0, -2]]}, ValueError, "got 0.0"),
        ({"game": "escape", "mixed_leader": "yes"}, TypeError, "'yes'"),
        ({"game": "escape", "normalize": 1}, TypeError, "1"),
    ],
)
def test_bad_games_are_rejected_with_the_value(kwargs, error, fragment):
    with pytest.raises(error, match=None) as info:
        NormalFormStackelberg(**kwargs)
    assert fragment in str(info.value)


def test_non_positive_tables_are_fine_without_normalize():
    game = NormalFormStackelberg(
        leader_payoffs=[[-1, 0]], follower_payoffs=[[0, -2]], normalize=False
    )
    assert game.reference().optimum == -1.0


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (np.array([0.5, 1.5, 0.0]), ValueError),
        (np.array([-0.1, 0.5, 0.0]), ValueError),
        (np.array([0.5, 0.5]), ValueError),
        (np.array([np.nan, 0.5, 0.0]), ValueError),
        ("row", TypeError),
    ],
)
def test_bad_mixed_actions_are_rejected_in_game_and_env(action, error):
    game = NormalFormStackelberg("escape", mixed_leader=True)
    state = game.start(np.array([0]), np.array([0]))
    with pytest.raises(error):
        game.leader_step(state, action)
    env = raw_env(game="escape", mixed_leader=True)
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(error, match="leader_0"):
        env.step(action)


@pytest.mark.parametrize(("action", "error"), [(3, ValueError), (-1, ValueError), (1.0, TypeError)])
def test_bad_rows_are_rejected_in_game_and_env(action, error):
    game = NormalFormStackelberg("escape")
    state = game.start(np.array([0]), np.array([0]))
    with pytest.raises(error):
        game.leader_step(state, action)
    env = raw_env(game="escape")
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(error, match=repr(action)):
        env.step(action)


def test_game_rejects_bad_starts_and_double_moves():
    game = NormalFormStackelberg("escape")
    with pytest.raises(ValueError, match="types"):
        game.start(np.array([1]), np.array([0]))
    with pytest.raises(ValueError, match="follower_actions"):
        game.start(np.array([0]), np.array([3]))
    state = game.leader_step(game.start(np.array([0]), np.array([0])), 0)
    with pytest.raises(ValueError, match="already moved"):
        game.leader_step(state, 0)
    with pytest.raises(ValueError, match="not over"):
        game.outcome(game.start(np.array([0]), np.array([0])))


def test_env_wrapper_is_order_enforcing_only():
    wrapped = aec_env(game="escape")
    assert isinstance(wrapped, OrderEnforcingWrapper)
    assert wrapped.env is wrapped.unwrapped
    assert isinstance(wrapped.unwrapped, raw_env)
