"""Matrix design (Monderer-Tennenholtz): utilities, payments, the reference scheme, bad input."""

import itertools

import numpy as np
import pytest
from pettingzoo import test as pzt

from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value, play
from stackelberg_zoo.envs.matrix_design import game as md
from stackelberg_zoo.envs.matrix_design.env import env, raw_env
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign, PaymentScheme
from stackelberg_zoo.equilibrium.games import bimatrix

TOL = 1e-12

# Research fixture F14 (Brero et al. code; Monderer and Tennenholtz 2003), raw (u_1, u_2).
F14_TABLE = {(0, 0): (3, 3), (0, 1): (6, 4), (1, 0): (4, 6), (1, 1): (2, 2)}


def _zero_payments(observation):
    return np.zeros(2)


@pytest.mark.parametrize(("profile", "raw"), sorted(F14_TABLE.items()))
def test_base_utilities_per_profile_are_the_table_over_six(profile, raw):
    result = play(MatrixDesign(), [0, 0], profile, _zero_payments)
    np.testing.assert_allclose(result.followers, np.array(raw) / 6, atol=TOL)
    assert result.leader == pytest.approx(sum(raw) / 6, abs=TOL)


def test_unnormalised_utilities_are_the_raw_table():
    game = MatrixDesign(normalize=False)
    for profile, raw in F14_TABLE.items():
        result = play(game, [0, 0], profile, _zero_payments)
        np.testing.assert_allclose(result.followers, raw, atol=TOL)
        assert result.leader == pytest.approx(sum(raw), abs=TOL)


@pytest.mark.parametrize("profile", sorted(F14_TABLE))
def test_payments_add_to_followers_and_are_not_charged_by_default(profile):
    paid = np.array([2.5, 7.0])
    result = play(MatrixDesign(), [0, 0], profile, lambda observation: paid)
    np.testing.assert_allclose(result.followers, np.array(F14_TABLE[profile]) / 6 + paid, atol=TOL)
    assert result.leader == pytest.approx(sum(F14_TABLE[profile]) / 6, abs=TOL)


@pytest.mark.parametrize("profile", sorted(F14_TABLE))
def test_charged_payments_are_subtracted_from_the_leader(profile):
    paid = np.array([0.25, 1.5])
    result = play(MatrixDesign(charge_payments=True), [0, 0], profile, lambda observation: paid)
    np.testing.assert_allclose(result.followers, np.array(F14_TABLE[profile]) / 6 + paid, atol=TOL)
    assert result.leader == pytest.approx(sum(F14_TABLE[profile]) / 6 - 1.75, abs=TOL)


def test_leader_observes_the_profile_inside_its_space():
    game = MatrixDesign()
    for profile in F14_TABLE:
        observation = game.leader_observation(game.start([0, 0], np.array(profile)))
        assert observation.tolist() == list(profile)
        assert game.leader_observation_space.contains(observation)


def test_payment_state_is_not_aliased_to_the_callers_array():
    game = MatrixDesign()
    paid = np.array([1.0, 2.0])
    state = game.leader_step(game.start([0, 0], [1, 1]), paid)
    paid[:] = 9.0
    np.testing.assert_allclose(game.outcome(state).followers, [2 / 6 + 1.0, 2 / 6 + 2.0])


def test_welfare_optimum_is_ten_sixths_in_both_charge_modes():
    for charge in (False, True):
        reference = MatrixDesign(charge_payments=charge).reference()
        assert reference.optimum == pytest.approx(10 / 6, abs=1e-12)
        assert reference.details["welfare_upper_bound"] == pytest.approx(10 / 6, abs=1e-12)
        assert reference.details["target_profile"] == (0, 1)


def test_reference_scheme_makes_the_optimum_strictly_dominant_in_the_induced_game():
    game = MatrixDesign()
    reference = game.reference()
    induced = induced_bayesian_game(game, reference.optimal_policy)
    u = induced.followers.payoffs[:, 0, 0]  # [2, A_1, A_2] after payments
    # Row follower: action 0 beats action 1 against every column; column: 1 beats 0.
    assert np.all(u[0, 0, :] > u[0, 1, :])
    assert np.all(u[1, :, 1] > u[1, :, 0])
    # Zero payment on path: the followers get their base utilities at (0, 1).
    np.testing.assert_allclose(u[:, 0, 1], np.array(F14_TABLE[(0, 1)]) / 6, atol=TOL)
    dominant = [np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])]
    assert leader_value(induced, dominant) == pytest.approx(reference.optimum, abs=TOL)


def test_reference_scheme_pays_the_f14_off_path_promises():
    # F14: pay the row follower > 1 (raw) at (T, L) and the column follower > 4 at (B, R).
    game = MatrixDesign(reference_margin=0.05)
    payments = game.reference().optimal_policy.payments
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0] = 1 / 6 + 0.05
    expected[1, 1, 1] = 4 / 6 + 0.05
    np.testing.assert_allclose(payments, expected, atol=TOL)


def test_no_payment_baselines_match_f14():
    baselines = MatrixDesign().reference().baselines
    # F14: mixed NE (4/5, 4/5) with welfare 7.2; CCE welfare in [7.2, 10]; pure NE welfare 10.
    assert baselines["no_payment_mixed_ne"] == pytest.approx(7.2 / 6, abs=1e-9)
    assert baselines["no_payment_cce_min"] == pytest.approx(7.2 / 6, abs=1e-7)
    assert baselines["no_payment_cce_max"] == pytest.approx(10 / 6, abs=1e-7)
    assert baselines["no_payment_pure_ne_min"] == pytest.approx(10 / 6, abs=TOL)
    assert baselines["no_payment_pure_ne_max"] == pytest.approx(10 / 6, abs=TOL)


def _is_nash(row, column, x, y, tol=1e-9):
    row_values, column_values = row @ y, x @ column
    return (
        x @ row_values >= row_values.max() - tol and column_values @ y >= column_values.max() - tol
    )


def test_fully_mixed_equilibrium_is_a_nash_equilibrium_on_random_games():
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(200):
        k = int(rng.integers(2, 4))
        row, column = rng.normal(size=(2, k, k))
        mixed = md._fully_mixed_equilibrium(row, column)
        if mixed is None:
            continue
        found += 1
        x, y = mixed
        assert np.all(x > 0) and np.all(y > 0)
        assert x.sum() == pytest.approx(1.0) and y.sum() == pytest.approx(1.0)
        assert _is_nash(row, column, x, y)
    assert found > 20
    # Matching pennies has only the uniform equilibrium; a dominance-solvable game has none.
    x, y = md._fully_mixed_equilibrium([[1, -1], [-1, 1]], [[-1, 1], [1, -1]])
    np.testing.assert_allclose([x, y], [[0.5, 0.5], [0.5, 0.5]])
    assert md._fully_mixed_equilibrium([[3, 0], [5, 1]], [[3, 5], [0, 1]]) is None


def _random_payoffs(rng, shape):
    return rng.integers(0, 10, size=(2,) + shape).astype(float)


@pytest.mark.parametrize("charge", [False, True])
def test_reference_on_random_games_is_dominant_feasible_and_bounded(charge):
    rng = np.random.default_rng(1)
    for _ in range(40):
        shape = tuple(int(k) for k in rng.integers(1, 4, size=2))
        game = MatrixDesign(_random_payoffs(rng, shape), charge_payments=charge)
        reference = game.reference()
        target = reference.details["target_profile"]
        induced = induced_bayesian_game(game, reference.optimal_policy)
        u = induced.followers.payoffs[:, 0, 0]
        for i in (0, 1):
            mine = np.moveaxis(u[i], i, 0)
            others = np.delete(mine, target[i], axis=0)
            assert np.all(mine[target[i]] > others), (game.raw_payoffs, i)
        payments = reference.optimal_policy.payments
        assert payments.min() >= 0 and payments.max() <= game.max_payment
        assert game.leader_action_space.contains(payments[:, 0, 0].astype(np.float32))
        assert reference.optimum == pytest.approx(induced.leader_payoffs[(0, 0) + target])
        upper = game.welfare.max()
        assert reference.optimum <= upper + TOL
        if not charge:  # with a large budget the welfare optimum is always implementable
            assert reference.optimum == pytest.approx(upper, abs=TOL)
        else:  # a strict pure equilibrium is implemented at zero on-path cost
            strict = [
                game.welfare[a]
                for a in itertools.product(*map(range, shape))
                if all(
                    np.all(
                        np.moveaxis(game.base_payoffs[i], i, 0)[(a[i],) + a[:i] + a[i + 1 :]]
                        > np.delete(np.moveaxis(game.base_payoffs[i], i, 0), a[i], axis=0)[
                            (slice(None),) + a[:i] + a[i + 1 :]
                        ]
                    )
                    for i in (0, 1)
                )
            ]
            assert reference.optimum >= max(strict, default=-np.inf) - TOL


def test_small_budget_implements_a_cheaper_profile_or_raises():
    # Deficits of (0, 1) and (1, 0) are 4/6; (0, 0) needs 1/6 per follower, welfare 1.
    reference = MatrixDesign(max_payment=0.5).reference()
    assert reference.details["target_profile"] == (0, 0)
    assert reference.optimum == pytest.approx(1.0, abs=TOL)
    charged = MatrixDesign(max_payment=0.5, charge_payments=True, reference_margin=0.01)
    assert charged.reference().optimum == pytest.approx(1.0 - 2 * (1 / 6 + 0.01), abs=TOL)
    with pytest.raises(ValueError, match=r"max_payment = 0\.1"):
        MatrixDesign(max_payment=0.1).reference()


def test_dominant_strategy_game_needs_no_payment_budget():
    prisoners = bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    reference = MatrixDesign(prisoners, max_payment=0.0).reference()
    assert reference.details["target_profile"] == (1, 1)
    assert reference.optimum == pytest.approx(2 / 5, abs=TOL)
    assert not reference.optimal_policy.payments.any()


def test_float32_rounding_of_the_bound_is_accepted_and_clipped():
    game = MatrixDesign(max_payment=0.1)
    action = np.array([0.1, 0.0], dtype=np.float32)  # float32(0.1) > 0.1
    assert float(action[0]) > 0.1
    state = game.leader_step(game.start([0, 0], [0, 0]), action)
    assert state.payments[0] == 0.1


def test_payment_scheme_is_read_only_and_callable():
    scheme = PaymentScheme(np.arange(8.0).reshape(2, 2, 2))
    np.testing.assert_array_equal(scheme(np.array([1, 0])), [2.0, 6.0])
    with pytest.raises(ValueError, match="read-only"):
        scheme.payments[0, 0, 0] = 1.0


@pytest.mark.parametrize(
    ("action", "error", "match"),
    [
        ([-0.5, 1.0], ValueError, r"-0\.5"),
        ([1.0, 10.5], ValueError, r"10\.5"),
        ([1.0, np.nan], ValueError, "nan"),
        ([1.0, 2.0, 3.0], ValueError, r"shape \(3,\)"),
        ([[1.0, 2.0]], ValueError, r"shape \(1, 2\)"),
        (1.0, ValueError, r"shape \(\)"),
        ("ab", TypeError, "'ab'"),
        ([None, 1.0], TypeError, "None"),
    ],
)
def test_bad_payments_are_rejected_naming_the_value(action, error, match):
    game = MatrixDesign()
    with pytest.raises(error, match=match):
        game.leader_step(game.start([0, 0], [0, 0]), action)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_payment": -1.0}, ValueError, r"-1\.0"),
        ({"max_payment": float("inf")}, ValueError, "inf"),
        ({"max_payment": "10"}, TypeError, "'10'"),
        ({"reference_margin": 0.0}, ValueError, r"0\.0"),
        ({"payoffs": np.zeros((2, 2))}, ValueError, r"\(2, 2\)"),
        ({"payoffs": np.zeros((3, 2, 2))}, ValueError, r"\(3, 2, 2\)"),
        ({"payoffs": np.zeros((2, 2, 2))}, ValueError, "all zero"),
        ({"payoffs": [[[1, np.inf], [0, 0]], [[0, 0], [0, 0]]]}, ValueError, "inf"),
    ],
)
def test_bad_configuration_is_rejected_naming_the_value(kwargs, error, match):
    with pytest.raises(error, match=match):
        MatrixDesign(**kwargs)


def test_bad_profiles_and_turn_order_are_rejected():
    game = MatrixDesign()
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        game.start([0, 0], [0, 2])
    with pytest.raises(ValueError, match=r"\[1, 0\]"):
        game.start([1, 0], [0, 0])
    with pytest.raises(ValueError, match=r"\[0\]"):
        game.start([0, 0], [0])
    with pytest.raises(TypeError, match=r"0\.5"):
        game.start([0, 0], [0.5, 1])
    state = game.start([0, 0], [1, 1])
    with pytest.raises(ValueError, match="not ended"):
        game.outcome(state)
    state = game.leader_step(state, [0.0, 0.0])
    assert game.is_over(state)
    with pytest.raises(ValueError, match="over"):
        game.leader_step(state, [0.0, 0.0])


def test_types_sampled_from_the_prior_start_a_sub_game():
    game = MatrixDesign()
    types = game.sample_types(np.random.default_rng(0))
    assert types.tolist() == [0, 0]
    assert not game.is_over(game.start(types, [0, 1]))


# -- the PettingZoo environment ---------------------------------------------------------

API_WARNINGS = [
    "ignore:Observation:UserWarning",
    "ignore:Agents have different observation space sizes:UserWarning",
]


def _play_episode(aec, actions, types=None):
    """Play one episode; ``actions`` maps agent -> callable(observation); return final rewards."""
    aec.reset(seed=0, options=None if types is None else {"types": types})
    final = {}
    for agent in aec.agent_iter():
        observation, reward, termination, truncation, _ = aec.last()
        if termination or truncation:
            final[agent] = reward
            aec.step(None)
        else:
            aec.step(actions[agent](observation))
    return final


@pytest.mark.filterwarnings(*API_WARNINGS)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"charge_payments": True, "max_payment": 2.0},
        {"payoffs": np.arange(12.0).reshape(2, 3, 2), "normalize": False},
    ],
)
def test_env_passes_the_pettingzoo_api_and_seed_tests(kwargs):
    pzt.api_test(env(**kwargs), num_cycles=10)
    pzt.seed_test(lambda: env(**kwargs))


def test_env_episode_under_the_reference_scheme():
    aec = env()
    scheme = aec.unwrapped.game.reference().optimal_policy

    def leader(observation):
        return scheme(observation["observation"]).astype(np.float32)

    on_path = _play_episode(
        aec, {"follower_0": lambda o: 0, "follower_1": lambda o: 1, "leader_0": leader}
    )
    assert on_path["leader_0"] == pytest.approx(10 / 6, abs=1e-12)
    assert [on_path["follower_0"], on_path["follower_1"]] == pytest.approx([1.0, 4 / 6])
    # Off path at (0, 0): the row follower is paid the promise 1/6 + margin (float32 action).
    off_path = _play_episode(
        aec, {"follower_0": lambda o: 0, "follower_1": lambda o: 0, "leader_0": leader}
    )
    assert off_path["follower_0"] == pytest.approx(3 / 6 + 1 / 6 + 0.1, abs=1e-6)
    assert off_path["follower_1"] == pytest.approx(3 / 6, abs=1e-12)
    assert off_path["leader_0"] == pytest.approx(1.0, abs=1e-12)


def test_env_rejects_an_out_of_bounds_payment():
    aec = raw_env()
    aec.reset(seed=0)
    aec.step(0)
    aec.step(1)
    with pytest.raises(ValueError, match="11"):
        aec.step(np.array([0.0, 11.0], dtype=np.float32))


def test_env_ansi_render_names_the_profile():
    aec = raw_env(render_mode="ansi")
    aec.reset(seed=0)
    aec.step(1)
    aec.step(0)
    aec.step(np.zeros(2, dtype=np.float32))
    assert "profile (1, 0)" in aec.render()


def test_margin_shrinks_to_fit_a_tight_budget():
    # The column follower's deficit at (1, 1) is 4/6; a budget of 0.7 leaves a margin 0.7 - 4/6.
    reference = MatrixDesign(max_payment=0.7, reference_margin=0.1).reference()
    assert reference.details["target_profile"] == (0, 1)
    assert reference.details["dominance_margin"] == pytest.approx(0.7 - 4 / 6, abs=TOL)
    payments = reference.optimal_policy.payments
    assert payments[1, 1, 1] == pytest.approx(0.7, abs=TOL)
    assert payments.max() <= 0.7


def test_registered_id_builds_the_env_with_kwargs():
    import pettingzoo

    import stackelberg_zoo.envs  # noqa: F401  (registers the ids)

    aec = pettingzoo.make("aec", "stackelberg/matrix-design-v0", charge_payments=True)
    assert aec.unwrapped.game.charge_payments
    assert aec.unwrapped.metadata["name"] == "matrix_design_v0"
