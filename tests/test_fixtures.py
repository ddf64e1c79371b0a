"""Tests of the research fixtures (equilibrium/fixtures.py): they are the published games."""

from __future__ import annotations

import numpy as np
import pytest
import setting_games

from stackelberg_zoo.equilibrium import fixtures as fx
from stackelberg_zoo.equilibrium.games import BayesianGame, NormalFormGame
from stackelberg_zoo.equilibrium.gaps import bcce_gap, cce_gap, ce_gap, nash_conv


def test_every_fixture_builds_a_fresh_immutable_game():
    # F4, F6, F7 and F14 are the settings' own games (tests/setting_games.py).
    assert set(fx.FIXTURES) == {f"F{i}" for i in range(1, 17)} - {"F4", "F6", "F7", "F14"}
    for builders in fx.FIXTURES.values():
        for build in builders:
            first, second = build(), build()
            assert first is not second
            assert isinstance(first, (NormalFormGame, BayesianGame, fx.BayesianStackelbergInstance))
            if isinstance(first, (NormalFormGame, BayesianGame)):
                assert not first.payoffs.flags.writeable
                np.testing.assert_array_equal(first.payoffs, second.payoffs)


def test_gibson_example():
    # F8 (Gibson 2013; OpenSpiel corr_dist_test): the distribution is a CCE with raw row
    # gap -0.25 (clipped 0) and has CE distance 0.25.
    game, mu = fx.gibson_cce_example(), fx.gibson_cce_distribution()
    cce = cce_gap(game, mu)
    assert cce.raw[0] == pytest.approx(-0.25)
    assert cce.clipped[0] == 0.0
    assert ce_gap(game, mu).raw[0] == pytest.approx(0.25)


def test_shapley_game_correlated_equilibria():
    # F9 (OpenSpiel corr_dist_test): uniform is a CE with values (1/3, 1/3); the uniform
    # distribution on the six off-diagonal cells is a CE with values (1/2, 1/2).
    game = fx.shapley_game()
    uniform = np.full((3, 3), 1 / 9)
    off_diagonal = (1 - np.eye(3)) / 6
    for mu, value in [(uniform, 1 / 3), (off_diagonal, 1 / 2)]:
        report = ce_gap(game, mu)
        assert report.raw.max() <= 1e-12
        np.testing.assert_allclose(report.values, [value, value])


def test_chicken_correlated_equilibrium():
    # F10: 1/4 (D, C) + 1/4 (C, D) + 1/2 (C, C) is a CE with values 5.25 each.
    mu = np.array([[0.0, 0.25], [0.25, 0.5]])
    report = ce_gap(fx.chicken(), mu)
    assert report.raw.max() <= 1e-12
    np.testing.assert_allclose(report.values, [5.25, 5.25])


def test_battle_of_the_sexes_diagonal_ce():
    # F11: half on each diagonal cell is a CE.
    assert ce_gap(fx.battle_of_the_sexes(), np.diag([0.5, 0.5])).raw.max() <= 1e-12


def test_von_stengel_three_nash_equilibria():
    # F13 (von Stengel 2007; QuantEcon tests): exactly these three NE.
    game = fx.von_stengel_3x2()
    for x, y in [
        ([1, 0, 0], [1, 0]),
        ([4 / 5, 1 / 5, 0], [2 / 3, 1 / 3]),
        ([0, 1 / 3, 2 / 3], [1 / 3, 2 / 3]),
    ]:
        assert nash_conv(game, [np.array(x), np.array(y)]).total <= 1e-12
    assert nash_conv(game, [np.array([0, 1, 0]), np.array([0, 1])]).total > 0.5


def test_monderer_tennenholtz_equilibria():
    # F14: pure NE (T, R) and (B, L) with welfare 10; mixed NE (4/5 T, 4/5 L), welfare 7.2.
    game = setting_games.monderer_tennenholtz()
    for a in [(0, 1), (1, 0)]:
        x, y = np.eye(2)[a[0]], np.eye(2)[a[1]]
        assert nash_conv(game, [x, y]).total == 0.0
        assert game.payoffs[:, a[0], a[1]].sum() == 10
    x = y = np.array([0.8, 0.2])
    report = nash_conv(game, [x, y])
    assert report.total <= 1e-12
    assert report.values.sum() == pytest.approx(7.2)


def test_first_price_auction_structure():
    # F15: values {1, 3}, bids {0, 1, 2}, first price, ties split, correlated prior.
    game = fx.first_price_auction_correlated()
    assert game.n_types == (2, 2) and game.n_actions == (3, 3)
    np.testing.assert_allclose(game.prior, [[0.4, 0.1], [0.1, 0.4]])
    # bidder 0 with value 3 bids 1 against a bid of 0: wins, pays 1.
    assert game.payoffs[0, 1, 0, 1, 0] == 2.0
    # tie at bid 1 with value 3: half of 3 - 1.
    assert game.payoffs[0, 1, 1, 1, 1] == 1.0
    # bidder 1 with value 1 bids 2 and wins against 0: pays more than its value.
    assert game.payoffs[1, 0, 0, 0, 2] == -1.0
    # everyone bids 0: every auction is a tie, each bidder gets half its value.
    mu = np.zeros((2, 2, 3, 3))
    mu[:, :, 0, 0] = game.prior
    report = bcce_gap(game, mu)
    np.testing.assert_allclose(report.values, [0.5 * (0.5 * 1 + 0.5 * 3)] * 2)
    assert report.agent_form.max() > 0  # a high type gains by bidding 1: not an equilibrium


def test_biased_rps_is_zero_sum_with_the_published_equilibrium():
    # F16 (OpenSpiel matrix_brps): NE (1/16, 10/16, 5/16) for both players.
    game = fx.biased_rock_paper_scissors()
    np.testing.assert_array_equal(game.payoffs[0], -game.payoffs[1])
    x = np.array([1, 10, 5]) / 16
    assert nash_conv(game, [x, x]).total <= 1e-12


def test_dobss_instance_shapes():
    # F12 (sailik1991/StackelbergEquilibribumSolvers src/DOBSS/input.txt).
    game = fx.dobss_security_game()
    assert [lead.shape for lead in game.leader_payoffs] == [(4, 3), (4, 4), (4, 9), (4, 5)]
    assert [f.shape for f in game.follower_payoffs] == [(4, 3), (4, 4), (4, 9), (4, 5)]
    np.testing.assert_allclose(game.type_probs, [0.5, 0.35, 0.05, 0.1])
    assert [len(names) for names in game.follower_action_names] == [3, 4, 9, 5]
    assert game.leader_payoffs[1][1, 2] == 10 and game.follower_payoffs[1][1, 2] == -10
    assert not game.leader_payoffs[0].flags.writeable
