"""Sequential price mechanisms with messages: sub-game logic, exact search, env."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value, play
from stackelberg_zoo.envs.mspm import (
    MessageMechanism,
    PriceNode,
    SequentialPriceMechanism,
    best_message_free_spm,
    first_best_welfare,
    mechanism_policy,
    search_mspm,
)
from stackelberg_zoo.envs.mspm.pricing_trees import punishment_tree
from stackelberg_zoo.envs.mspm.reference import best_mechanism_for_maps, canonical_message_maps
from stackelberg_zoo.equilibrium.gaps import bcce_gap

TOL = 1e-12

# A correlated prior (zero entries included) on values {0, 1/2, 1} for both followers.
CORRELATED_PRIOR = [[0.23, 0.09, 0.0], [0.06, 0.0, 0.06], [0.35, 0.05, 0.16]]


def correlated_game(**kwargs) -> SequentialPriceMechanism:
    return SequentialPriceMechanism(
        [[0.0, 0.5, 1.0], [0.0, 0.5, 1.0]], prior=CORRELATED_PRIOR, **kwargs
    )


def visit(n: int, follower: int, price: float, score: float = 1.0) -> np.ndarray:
    action = np.zeros(n + 1)
    action[follower] = score
    action[n] = price
    return action


# --------------------------------------------------------------------------- independent oracles


def grid_prices(levels) -> list[float]:
    """Distinct value levels, plus 1 (written independently of the module)."""
    return sorted(set(float(v) for v in levels) | {1.0})


def two_follower_mechanisms(values):
    """Every one-unit, two-follower SPM on the grid: (first, p, q), with outcomes.

    Returns ``(mechanisms, utility[M, 2, T0, T1], welfare[M, T0, T1])``.
    """
    v0, v1 = (np.asarray(v, dtype=float) for v in values)
    grids = [grid_prices(v0), grid_prices(v1)]
    mechanisms = [(f, p, q) for f in (0, 1) for p in grids[f] for q in grids[1 - f]]
    utility = np.zeros((len(mechanisms), 2, v0.size, v1.size))
    welfare = np.zeros((len(mechanisms), v0.size, v1.size))
    for k, (first, p, q) in enumerate(mechanisms):
        second = 1 - first
        for a, b in itertools.product(range(v0.size), range(v1.size)):
            value = (v0[a], v1[b])
            if value[first] >= p:
                utility[k, first, a, b] = value[first] - p
                welfare[k, a, b] = value[first]
            elif value[second] >= q:
                utility[k, second, a, b] = value[second] - q
                welfare[k, a, b] = value[second]
    return mechanisms, utility, welfare


def brute_force_equilibrium_losses(values, prior, n_messages: int) -> dict:
    """Least welfare loss per pair of message maps (every map, every mechanism everywhere).

    Enumerates every map pair and, for every one of the ``m^2`` message profiles (used or
    not), every grid SPM, keeping the combinations in which no type with positive
    probability gains by another message. ``inf`` when no combination is an equilibrium.
    """
    prior = np.asarray(prior, dtype=float)
    _, utility, welfare = two_follower_mechanisms(values)
    n_mech = welfare.shape[0]
    t0, t1 = prior.shape
    first_best = np.maximum.outer(np.asarray(values[0], float), np.asarray(values[1], float))
    profiles = list(itertools.product(range(n_messages), repeat=2))
    n_prof = len(profiles)

    def spread(array, k):  # put axis 0 of `array` on combination axis k
        shape = [1] * n_prof + list(array.shape[1:])
        shape[k] = n_mech
        return array.reshape(shape)

    result = {}
    for map0 in itertools.product(range(n_messages), repeat=t0):
        for map1 in itertools.product(range(n_messages), repeat=t1):
            m0, m1 = np.array(map0), np.array(map1)
            loss = 0.0
            # value[i][..., a, b]: prior-weighted utility of type a of follower i sending b.
            value0 = np.zeros([1] * n_prof + [t0, n_messages])
            value1 = np.zeros([1] * n_prof + [t1, n_messages])
            for k, (x, y) in enumerate(profiles):
                on = prior * np.outer(m0 == x, m1 == y)
                loss = loss + spread(((first_best - welfare) * on).sum(axis=(1, 2)), k)
                term0 = np.zeros((n_mech, t0, n_messages))
                term0[:, :, x] = (utility[:, 0] * (prior * (m1 == y)[None, :])).sum(axis=2)
                term1 = np.zeros((n_mech, t1, n_messages))
                term1[:, :, y] = (utility[:, 1] * (prior * (m0 == x)[:, None])).sum(axis=1)
                value0 = value0 + spread(term0, k)
                value1 = value1 + spread(term1, k)
            ok = np.ones(np.shape(loss), dtype=bool)
            for value, mapping, marginal in (
                (value0, map0, prior.sum(axis=1)),
                (value1, map1, prior.sum(axis=0)),
            ):
                for a, sent in enumerate(mapping):
                    if marginal[a] > 0:
                        ok &= np.all(
                            value[..., a, sent : sent + 1] >= value[..., a, :] - TOL, axis=-1
                        )
            result[(map0, map1)] = float(loss[ok].min()) if ok.any() else math.inf
    return result


def brute_force_message_free_loss(values, prior) -> float:
    _, _, welfare = two_follower_mechanisms(values)
    prior = np.asarray(prior, dtype=float)
    first_best = np.maximum.outer(np.asarray(values[0], float), np.asarray(values[1], float))
    return float((prior * first_best).sum() - (welfare * prior).sum(axis=(1, 2)).max())


def interim_deviation_gains(game, induced, maps) -> list[np.ndarray]:
    """Per follower ``[T_i, m]``: E[u_i(b) - u_i(own) | θ_i], weighted by p(θ_-i | θ_i).

    ``nan`` rows for types of zero probability. Written directly from the induced game.
    """
    bgame = induced.followers
    n = game.n_followers
    gains = []
    for i in range(n):
        table = np.full((game.n_types[i], game.n_messages), np.nan)
        marginal = bgame.type_marginal(i)
        for a in range(game.n_types[i]):
            if marginal[a] <= 0:
                continue
            conditional = bgame.conditional_prior(i, a)
            values = np.zeros(game.n_messages)
            for others in np.ndindex(conditional.shape):
                theta = list(others)
                theta.insert(i, a)
                actions = [maps[j][theta[j]] for j in range(n)]
                for b in range(game.n_messages):
                    actions[i] = b
                    values[b] += conditional[others] * bgame.payoffs[(i, *theta, *actions)]
            table[a] = values - values[maps[i][a]]
        gains.append(table)
    return gains


def pure_joint(prior: np.ndarray, maps, n_messages: int) -> np.ndarray:
    """``μ(θ, a) = p(θ) Π_i 1[a_i = map_i(θ_i)]``."""
    n = prior.ndim
    mu = np.zeros(prior.shape + (n_messages,) * n)
    for theta in np.ndindex(prior.shape):
        actions = tuple(maps[i][theta[i]] for i in range(n))
        mu[theta + actions] = prior[theta]
    return mu


def assert_zero_loss_equilibrium(game: SequentialPriceMechanism, mechanism: MessageMechanism):
    induced = induced_bayesian_game(game, mechanism_policy(mechanism, game))
    value = leader_value(induced, mechanism.follower_strategies())
    assert value == pytest.approx(0.0, abs=TOL)
    # Independent check: the pure deviation gains, from the payoffs and p(θ_-i | θ_i).
    for table in interim_deviation_gains(game, induced, mechanism.message_maps):
        assert np.nanmax(table) <= TOL
    # The equilibrium module's interim gap of the same pure profile.
    mu = pure_joint(game.prior, mechanism.message_maps, game.n_messages)
    report = bcce_gap(induced.followers, mu)
    assert np.all(report.max_interim <= TOL)
    assert np.all(report.agent_form <= TOL)


# --------------------------------------------------------------------------- sub-game logic

PI = {"values": "pi"}
THREE_TWO = {"values": "uniform", "n_values": 3, "n_followers": 3, "n_units": 2}

# (game kwargs, types, messages, [(follower, price, score)], bought, prices, utilities, leader)
SUBGAME_CASES = [
    pytest.param(PI, (1, 0), (0, 0), [(0, 0.5, 1.0)], (1, 0), (0.5, 0), (0.5, 0), 0.0, id="sale"),
    pytest.param(
        PI,
        (0, 1),
        (0, 0),
        [(0, 0.3, 1), (1, 0.4, 1)],
        (0, 1),
        (0, 0.4),
        (0, 0),
        0.0,
        id="refusal-then-sale-at-value",
    ),
    pytest.param(
        PI,
        (0, 1),
        (1, 1),
        [(1, 0.5, 1), (0, 0.2, 1)],
        (1, 0),
        (0.2, 0),
        (0, 0),
        -0.2,
        id="misallocation",
    ),
    pytest.param(
        PI,
        (0, 1),
        (0, 0),
        [(0, 0.5, 1), (1, 0.5, 1)],
        (0, 0),
        (0, 0),
        (0, 0),
        -0.4,
        id="nobody-buys",
    ),
    pytest.param(
        PI,
        (0, 0),
        (0, 0),
        [(0, 0.5, 1), (1, 0.0, 1)],
        (0, 1),
        (0, 0.0),
        (0, 0),
        -0.2,
        id="value-zero-buys-at-zero",
    ),
    pytest.param(
        THREE_TWO,
        (2, 1, 0),
        (0, 1, 0),
        [(2, 0.0, 1), (0, 0.5, 1)],
        (1, 0, 1),
        (0.5, 0, 0),
        (0.5, 0, 0),
        -0.5,
        id="two-units-sell-out-early",
    ),
    pytest.param(
        THREE_TWO,
        (0, 2, 1),
        (0, 0, 0),
        [(1, 1.0, 1), (0, 0.5, 1), (2, 0.5, 1)],
        (0, 1, 1),
        (0, 1.0, 0.5),
        (0, 0, 0),
        0.0,
        id="two-units-everyone-visited",
    ),
]


@pytest.mark.parametrize(
    "kwargs, types, messages, turns, bought, prices, utilities, leader", SUBGAME_CASES
)
def test_subgame_outcomes(kwargs, types, messages, turns, bought, prices, utilities, leader):
    game = SequentialPriceMechanism(**kwargs)
    n = game.n_followers
    state = game.start(np.array(types), np.array(messages))
    for k, (follower, price, score) in enumerate(turns):
        assert not game.is_over(state)
        assert game.visited_follower(state, visit(n, follower, price, score)) == (follower, price)
        state = game.leader_step(state, visit(n, follower, price, score))
        assert game.is_over(state) == (k == len(turns) - 1)
    assert state.bought == tuple(bool(b) for b in bought)
    assert state.prices == pytest.approx(prices, abs=TOL)
    result = game.outcome(state)
    assert result.followers == pytest.approx(utilities, abs=TOL)
    assert result.leader == pytest.approx(leader, abs=TOL)
    assert result.leader <= TOL


def test_score_ties_go_to_the_lowest_unvisited_index():
    game = SequentialPriceMechanism(THREE_TWO["values"], n_followers=3, n_units=2)
    state = game.start(np.array([0, 0, 0]), np.array([0, 0, 0]))
    assert game.visited_follower(state, [0.7, 0.7, 0.7, 0.5])[0] == 0
    assert game.visited_follower(state, [0.2, 0.7, 0.7, 0.5])[0] == 1
    assert game.visited_follower(state, [0.0, 0.0, 0.0, 0.5])[0] == 0
    state = game.leader_step(state, [0.7, 0.7, 0.7, 0.5])  # follower 0 refuses (value 0)
    # Follower 0's top score is ignored now that it was visited; 1 and 2 tie.
    assert game.visited_follower(state, [1.0, 0.3, 0.3, 0.5])[0] == 1
    assert game.visited_follower(state, [1.0, 0.3, 0.4, 0.5])[0] == 2


def test_float32_price_is_compared_as_given():
    game = SequentialPriceMechanism("pi")
    state = game.start(np.array([0, 0]), np.array([0, 0]))  # follower 0 has value 0.2
    after = game.leader_step(state, np.array([1, 0, 0.2], dtype=np.float32))
    assert float(np.float32(0.2)) > 0.2
    assert after.bought == (False, False)
    assert game.leader_step(state, np.array([1, 0, 0.2])).bought == (True, False)


def test_leader_observation_layout_and_decoding():
    game = SequentialPriceMechanism("pi", n_messages=3)
    state = game.start(np.array([1, 0]), np.array([2, 0]))
    obs = game.leader_observation(state)
    assert obs.dtype == np.float32
    assert game.leader_observation_space.contains(obs)
    np.testing.assert_array_equal(obs, [1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0])
    state = game.leader_step(state, visit(2, 1, 0.5))  # follower 1 (value 0) refuses
    view = game.decode_observation(game.leader_observation(state))
    assert view.unvisited.tolist() == [True, False]
    assert view.units_left == 1
    assert view.bought.tolist() == [False, False]
    assert view.messages.tolist() == [2, 0]
    state = game.leader_step(state, visit(2, 0, 0.5))
    obs = game.leader_observation(state)
    np.testing.assert_array_equal(obs[:5], [0, 0, 0, 1, 0])


def test_states_are_immutable_and_independent():
    game = SequentialPriceMechanism("pi")
    start = game.start(np.array([1, 1]), np.array([0, 0]))
    after = game.leader_step(start, visit(2, 0, 0.5))
    assert start.unvisited == (True, True) and start.units_left == 1
    assert after.unvisited == (False, True) and after.units_left == 0


def test_describe_names_prices_and_welfare():
    game = SequentialPriceMechanism("pi")
    state = game.leader_step(game.start(np.array([1, 0]), np.array([0, 1])), visit(2, 0, 0.5))
    text = game.describe(state)
    assert "f0 bought at 0.5" in text and "welfare 1" in text


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, error, needle",
    [
        ({"n_messages": 0}, ValueError, "0"),
        ({"n_messages": 2.0}, TypeError, "2.0"),
        ({"n_messages": True}, TypeError, "True"),
        ({"values": "uniform", "n_values": 1}, ValueError, "1"),
        ({"values": "gaussian"}, ValueError, "gaussian"),
        ({"values": "pi", "n_followers": 3}, ValueError, "3"),
        ({"values": "pi", "prior": [[1.0]]}, ValueError, "prior"),
        ({"n_units": 0}, ValueError, "0"),
        ({"n_units": 3}, ValueError, "3"),
        ({"values": [[0.0, 1.5], [0.0, 1.0]]}, ValueError, "1.5"),
        ({"values": [[0.0, float("nan")], [0.0, 1.0]]}, ValueError, "nan"),
        (
            {"values": [[0.0, 1.0], [0.0, 1.0]], "prior": [[0.5, 0.25], [0.125, 0.0625]]},
            ValueError,
            "0.9375",
        ),
        (
            {"values": [[0.0, 1.0], [0.0, 1.0]], "prior": [[0.6, -0.2], [0.3, 0.3]]},
            ValueError,
            "-0.2",
        ),
        ({"values": [[0.0, 1.0], [0.0, 1.0]], "prior": [0.5, 0.5]}, ValueError, "(2,)"),
        ({"values": [[0.0, 1.0]], "n_followers": 2}, ValueError, "2"),
    ],
)
def test_bad_configuration_raises_naming_the_value(kwargs, error, needle):
    with pytest.raises(error) as caught:
        SequentialPriceMechanism(**kwargs)
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    "action, error, needle",
    [
        ([1.0, 0.0, 1.5], ValueError, "1.5"),
        ([1.0, 0.0, -0.1], ValueError, "-0.1"),
        ([1.0, 0.0, float("nan")], ValueError, "nan"),
        ([float("nan"), 0.0, 0.5], ValueError, "nan"),
        ([2.0, 0.0, 0.5], ValueError, "2.0"),
        ([1.0, 0.5], ValueError, "shape"),
        ("visit follower 0", TypeError, "visit follower 0"),
    ],
)
def test_bad_leader_action_raises_naming_the_value(action, error, needle):
    game = SequentialPriceMechanism("pi")
    state = game.start(np.array([0, 0]), np.array([0, 0]))
    with pytest.raises(error) as caught:
        game.leader_step(state, action)
    assert needle in str(caught.value)


def test_bad_start_and_step_after_end_raise():
    game = SequentialPriceMechanism("pi")
    with pytest.raises(ValueError, match="got 2"):
        game.start(np.array([2, 0]), np.array([0, 0]))
    with pytest.raises(ValueError, match="got 5"):
        game.start(np.array([0, 0]), np.array([0, 5]))
    with pytest.raises(TypeError, match=r"0\.5"):
        game.start(np.array([0.5, 0.0]), np.array([0, 0]))
    with pytest.raises(ValueError, match="need 2 types"):
        game.start(np.array([0]), np.array([0, 0]))
    state = game.leader_step(game.start(np.array([1, 0]), np.array([0, 0])), visit(2, 0, 0.5))
    with pytest.raises(ValueError, match="over"):
        game.leader_step(state, visit(2, 1, 0.5))


# --------------------------------------------------------------------------- reference values


def test_first_best_and_message_free_spm_on_pi():
    game = SequentialPriceMechanism("pi")
    assert first_best_welfare(game) == pytest.approx(0.44, abs=TOL)
    spm = best_message_free_spm(game)
    assert spm.welfare_loss == pytest.approx(0.06, abs=TOL)
    assert spm.welfare_loss == pytest.approx(
        brute_force_message_free_loss(game.values, game.prior), abs=TOL
    )
    # Visit follower 1 at 0.4 first, then follower 0 at its low value.
    assert (spm.tree.follower, spm.tree.price) == (1, 0.4)
    assert (spm.tree.if_refused.follower, spm.tree.if_refused.price) == (0, 0.2)


@pytest.mark.parametrize(
    "t, loss", [(3, Fraction(1, 18)), (4, None), (5, None), (6, None)], ids=lambda x: str(x)
)
def test_message_free_spm_uniform_matches_brute_force(t, loss):
    game = SequentialPriceMechanism("uniform", n_values=t, n_messages=1)
    spm = best_message_free_spm(game)
    assert spm.welfare_loss == pytest.approx(
        brute_force_message_free_loss(game.values, game.prior), abs=TOL
    )
    if loss is not None:
        assert spm.welfare_loss == pytest.approx(float(loss), abs=TOL)
    # The tree, played through the game by its policy, has exactly this loss.
    mechanism = MessageMechanism(((0,) * t, (0,) * t), {(0, 0): spm.tree}, 1, 1)
    induced = induced_bayesian_game(game, mechanism_policy(mechanism, game))
    assert leader_value(induced, mechanism.follower_strategies()) == pytest.approx(
        -spm.welfare_loss, abs=TOL
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"values": "pi"},
        {"values": "uniform", "n_values": 3},
        {"values": "uniform", "n_values": 4},
        {"values": "uniform", "n_values": 5},
        {"values": "uniform", "n_values": 6},
    ],
    ids=["pi", "t3", "t4", "t5", "t6"],
)
def test_zero_loss_mspm_with_two_messages_is_an_equilibrium(kwargs):
    game = SequentialPriceMechanism(**kwargs, n_messages=2)
    result = search_mspm(game)
    assert result.zero_loss_exists and result.minimized
    assert result.welfare_loss == 0.0
    assert result.message_free.welfare_loss > 0.04  # messages are what closes the gap
    assert_zero_loss_equilibrium(game, result.mechanism)
    # Played sub-game by sub-game, every on-path type profile gets the first best.
    policy = mechanism_policy(result.mechanism, game)
    for theta in game.type_profiles():
        messages = [result.mechanism.message_maps[i][theta[i]] for i in range(2)]
        assert play(game, theta, messages, policy).leader == pytest.approx(0.0, abs=TOL)


def test_reference_object():
    game = SequentialPriceMechanism("pi")
    reference = game.reference()
    assert reference.optimum == 0.0
    assert reference.baselines["message_free_spm"] == pytest.approx(-0.06, abs=TOL)
    assert reference.baselines["message_free_spm_welfare_loss"] == pytest.approx(0.06, abs=TOL)
    assert reference.baselines["first_best_welfare"] == pytest.approx(0.44, abs=TOL)
    assert reference.details["zero_loss_exists"] is True
    assert "p(θ_-i | θ_i)" in reference.follower_model
    strategies = reference.details["follower_strategies"]
    induced = induced_bayesian_game(game, reference.optimal_policy)
    assert leader_value(induced, strategies) == pytest.approx(0.0, abs=TOL)
    assert game.reference() is not reference and game.search_result is game.search_result


def test_reference_without_messages_is_the_message_free_spm():
    game = SequentialPriceMechanism("pi", n_messages=1)
    reference = game.reference()
    assert reference.optimum == pytest.approx(-0.06, abs=TOL)
    assert reference.details["zero_loss_exists"] is False
    assert reference.details["minimized"] is True
    induced = induced_bayesian_game(game, reference.optimal_policy)
    value = leader_value(induced, reference.details["follower_strategies"])
    assert value == pytest.approx(-0.06, abs=TOL)


# name: (game, whether some map pair's best equilibrium mechanism loses welfare)
BRUTE_FORCE_GAMES = {
    "pi": (lambda: SequentialPriceMechanism("pi"), True),
    "t2": (lambda: SequentialPriceMechanism("uniform", n_values=2), False),
    "t3": (lambda: SequentialPriceMechanism("uniform", n_values=3), True),
    "correlated": (correlated_game, True),
    "asymmetric": (
        lambda: SequentialPriceMechanism(
            [[0.1, 0.6, 0.9], [0.3, 0.7]], prior=[[0.1, 0.2], [0.3, 0.05], [0.15, 0.2]]
        ),
        True,
    ),
}


@pytest.mark.parametrize("name", list(BRUTE_FORCE_GAMES))
def test_search_agrees_with_brute_force(name):
    make_game, some_lossy = BRUTE_FORCE_GAMES[name]
    game = make_game()
    brute = brute_force_equilibrium_losses(game.values, game.prior, game.n_messages)
    result = search_mspm(game)
    assert result.welfare_loss == pytest.approx(min(brute.values()), abs=TOL)
    assert result.zero_loss_exists == (min(brute.values()) <= TOL)
    assert result.message_free.welfare_loss == pytest.approx(
        brute_force_message_free_loss(game.values, game.prior), abs=TOL
    )
    # Per pair of message maps: the branch and bound against the brute force, including
    # map pairs whose best equilibrium mechanism loses welfare.
    active = [game.prior.sum(axis=1 - i) > 0 for i in range(2)]
    lossy = 0
    for maps in itertools.product(
        *(canonical_message_maps(game.n_types[i], 2, active[i]) for i in range(2))
    ):
        solution = best_mechanism_for_maps(game, maps)
        expected = brute[maps]
        if math.isinf(expected):
            assert solution is None
            continue
        assert solution is not None
        assert solution.welfare_loss == pytest.approx(expected, abs=TOL)
        lossy += expected > TOL
        induced = induced_bayesian_game(game, mechanism_policy(solution.mechanism, game))
        strategies = solution.mechanism.follower_strategies()
        assert leader_value(induced, strategies) == pytest.approx(-expected, abs=TOL)
        for table in interim_deviation_gains(game, induced, solution.mechanism.message_maps):
            assert np.nanmax(table) <= TOL
    assert (lossy > 0) == some_lossy


def test_correlated_prior_weights_deviations_by_the_conditional_prior():
    game = correlated_game()
    result = search_mspm(game)
    assert result.zero_loss_exists
    assert_zero_loss_equilibrium(game, result.mechanism)
    # Weighting the other follower's types uniformly instead (the reference code's
    # assumption) would report a profitable deviation for the very same mechanism.
    induced = induced_bayesian_game(game, mechanism_policy(result.mechanism, game))
    maps = result.mechanism.message_maps
    worst = -math.inf
    for i in range(2):
        for a in range(3):
            payoff = np.moveaxis(induced.followers.payoffs[i], i, 0)[a]  # [θ_-i, a_0, a_1]
            values = []
            for b in range(2):
                total = 0.0
                for other in range(3):
                    actions = [maps[0][a if i == 0 else other], maps[1][a if i == 1 else other]]
                    actions[i] = b
                    total += payoff[(other, *actions)] / 3
                values.append(total)
            worst = max(worst, max(values) - values[maps[i][a]])
    assert worst > 1e-3


def test_canonical_message_maps_count_relabelling_classes():
    # Stirling numbers: set partitions of T types into at most m blocks.
    assert len(canonical_message_maps(3, 2)) == 4
    assert len(canonical_message_maps(4, 2)) == 8
    assert len(canonical_message_maps(4, 3)) == 14
    assert canonical_message_maps(3, 2, np.array([True, False, True])) == [
        (0, 0, 0),
        (0, 0, 1),
    ]


def test_punishment_tree_gives_every_follower_zero():
    game = SequentialPriceMechanism("uniform", n_values=3, n_followers=3, n_units=2)
    tree = punishment_tree((0, 1, 2), 2)
    mechanism = MessageMechanism(((0,) * 3,) * 3, {}, 2, 2)
    assert mechanism.tree_for((0, 0, 0)) == tree
    induced = induced_bayesian_game(game, mechanism_policy(mechanism, game))
    np.testing.assert_allclose(induced.followers.payoffs, 0.0, atol=TOL)


def test_bad_message_maps_raise():
    game = SequentialPriceMechanism("pi")
    with pytest.raises(ValueError, match="one message per type"):
        best_mechanism_for_maps(game, [(0, 1, 0), (0, 1)])
    with pytest.raises(ValueError, match="messages must lie"):
        best_mechanism_for_maps(game, [(0, 2), (0, 1)])


# --------------------------------------------------------------------------- more followers, units


def all_trees(prices, unvisited, units):
    if units == 0 or not unvisited:
        yield None
        return
    for j in unvisited:
        rest = tuple(x for x in unvisited if x != j)
        for p in prices[j]:
            for bought in all_trees(prices, rest, units - 1):
                for refused in all_trees(prices, rest, units):
                    yield PriceNode(j, p, bought, refused)


def test_three_followers_two_units_message_free_spm_against_every_tree():
    game = SequentialPriceMechanism(
        [[0.2, 1.0], [0.0, 0.4], [0.3, 0.6]],
        n_units=2,
        n_messages=1,
        prior=np.arange(1, 9).reshape(2, 2, 2) / 36,
    )
    prices = [grid_prices(v) for v in game.values]
    profiles = [(theta, game.prior[theta]) for theta in game.type_profiles()]
    best, n_trees = -math.inf, 0
    for tree in all_trees(prices, (0, 1, 2), 2):
        n_trees += 1
        value = 0.0
        for theta, probability in profiles:  # walk the tree through the game itself
            state, node = game.start(np.array(theta), np.zeros(3, dtype=np.int64)), tree
            while not game.is_over(state):
                state = game.leader_step(state, visit(3, node.follower, node.price))
                node = node.if_bought if state.bought[node.follower] else node.if_refused
            value += probability * game.outcome(state).leader
        best = max(best, value)
    assert n_trees > 1000
    spm = best_message_free_spm(game)
    assert -spm.welfare_loss == pytest.approx(best, abs=TOL)
    assert spm.welfare_loss > 0.01  # adaptivity cannot reach the first best here


def test_adaptivity_beats_every_fixed_sequence_with_two_units():
    game = SequentialPriceMechanism([[0.6, 0.8], [0.2, 1.0], [0.0, 1.0]], n_units=2, n_messages=1)
    best_sequence = -math.inf
    for order in itertools.permutations(range(3)):
        for prices in itertools.product(*(grid_prices(game.values[j]) for j in order)):
            welfare = 0.0
            for theta in game.type_profiles():
                values = [game.values[i][theta[i]] for i in range(3)]
                units, realised = 2, 0.0
                for j, price in zip(order, prices, strict=True):
                    if units and values[j] >= price:
                        realised, units = realised + values[j], units - 1
                welfare += game.prior[theta] * realised
            best_sequence = max(best_sequence, welfare)
    spm = best_message_free_spm(game)
    assert best_sequence == pytest.approx(1.525, abs=TOL)
    assert spm.welfare == pytest.approx(1.575, abs=TOL)


def test_three_followers_two_units_smoke():
    game = SequentialPriceMechanism("uniform", n_values=2, n_followers=3, n_units=2)
    rng = np.random.default_rng(0)
    for _ in range(200):
        types = game.sample_types(rng)
        state = game.start(types, rng.integers(0, 2, size=3))
        turns = 0
        while not game.is_over(state):
            state = game.leader_step(state, rng.random(4))
            turns += 1
        result = game.outcome(state)
        assert turns <= 3 and sum(state.bought) <= 2
        assert -1.0 - TOL <= result.leader <= TOL
        assert np.all(result.followers >= 0) and np.all(result.followers <= 1)
    result = search_mspm(game)
    assert result.zero_loss_exists
    assert_zero_loss_equilibrium(game, result.mechanism)


# --------------------------------------------------------------------------- environment


def test_env_api_and_reference_policy_through_the_env():
    from pettingzoo import make
    from pettingzoo.test import api_test

    api_test(make("aec", "stackelberg/mspm-v0"), num_cycles=10)
    env = make("aec", "stackelberg/mspm-v0", values="uniform", n_values=3)
    game = env.unwrapped.game
    reference = game.reference()
    maps = reference.details["mechanism"].message_maps
    for types in game.type_profiles():
        env.reset(seed=0, options={"types": list(types)})
        for agent in env.agent_iter():
            obs, reward, terminated, truncated, _ = env.last()
            if terminated or truncated:
                if agent == "leader_0":
                    assert reward == pytest.approx(0.0, abs=TOL)
                env.step(None)
            elif agent == "leader_0":
                env.step(reference.optimal_policy(obs["observation"]))
            else:
                i = int(agent.split("_")[1])
                env.step(maps[i][types[i]])


# --------------------------------------------------------------------------- long searches


@pytest.mark.slow
def test_uniform_seven_levels_has_no_zero_loss_mechanism_on_the_grid():
    game = SequentialPriceMechanism("uniform", n_values=7)
    result = search_mspm(game)
    assert not result.zero_loss_exists and result.minimized
    assert result.welfare_loss == pytest.approx(1 / 294, abs=TOL)
    assert result.welfare_loss < result.message_free.welfare_loss
    induced = induced_bayesian_game(game, mechanism_policy(result.mechanism, game))
    value = leader_value(induced, result.mechanism.follower_strategies())
    assert value == pytest.approx(-result.welfare_loss, abs=TOL)
    for table in interim_deviation_gains(game, induced, result.mechanism.message_maps):
        assert np.nanmax(table) <= TOL
