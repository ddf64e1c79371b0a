"""benchmark/mspm_reachability.py: its mechanisms and margins, checked through the game logic.

The search computes outcomes with its own sequential-price code; these tests recompute every
claim from the env's game (the induced Bayesian game of the mechanism as a leader policy).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmark"
sys.path.insert(0, str(BENCHMARK))

import mspm_reachability as reach  # noqa: E402

from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value  # noqa: E402
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism  # noqa: E402
from stackelberg_zoo.equilibrium.gaps import bne_gap  # noqa: E402


def uniform_opponent_margin(game, mechanism) -> float:
    """Smallest gain of a positive-value type's message over the other one, against an
    opponent whose value follows the prior and whose message is uniformly random."""
    induced = induced_bayesian_game(game, mechanism.policy(game))
    payoffs = np.asarray(induced.followers.payoffs)  # [2, T0, T1, A0, A1]
    p0, p1 = game.prior.sum(axis=1), game.prior.sum(axis=0)
    own0 = np.einsum("jkab,k->jab", payoffs[0], p1).mean(axis=2)  # [T0, A0]
    own1 = np.einsum("jkab,j->kba", payoffs[1], p0).mean(axis=2)  # [T1, A1]
    gains = []
    for own, maps, levels in ((own0, mechanism.message_maps[0], game.values[0]),
                              (own1, mechanism.message_maps[1], game.values[1])):  # fmt: skip
        for j, message in enumerate(maps):
            if levels[j] > 0:
                gains.append(own[j, message] - own[j, 1 - message])
    return min(gains)


@pytest.mark.parametrize("n_values", [3, pytest.param(4, marks=pytest.mark.slow)])
def test_best_mechanism_is_a_zero_loss_equilibrium_with_its_margin(n_values):
    game = SequentialPriceMechanism("uniform", n_values=n_values, n_messages=2)
    found = reach.robust_mechanisms(game)
    assert found, "a zero-loss MSPM with messages exists for t = 3, 4"
    assert [m.margin for m in found] == sorted((m.margin for m in found), reverse=True)
    for mechanism in found[:3]:
        induced = induced_bayesian_game(game, mechanism.policy(game))
        maps = [np.eye(2)[np.array(m)] for m in mechanism.message_maps]
        assert leader_value(induced, maps) == pytest.approx(0.0, abs=1e-9)
        gains = bne_gap(induced.followers, maps).interim
        assert max(float(np.nanmax(row)) for row in gains) <= reach.ACCEPT_TOL
        assert uniform_opponent_margin(game, mechanism) == pytest.approx(mechanism.margin, abs=1e-6)
    assert found[0].margin > 0.05


def test_margin_is_the_best_over_an_independent_enumeration():
    """t = 3, the best map profile: enumerating every combination of zero-loss grid trees (one
    per message profile) gives the program's margin; a finer price grid does not do worse."""
    game = SequentialPriceMechanism("uniform", n_values=3, n_messages=2)
    best = reach.robust_mechanisms(game)[0]
    levels = np.asarray(game.values[0])
    prices = reach.candidate_prices(levels, 1)
    coarse = reach.robust_mechanisms(game, price_steps=1)[0]
    assert coarse.margin <= best.margin + 1e-9
    trees = [reach.Tree(f, p, q) for f in (0, 1) for p in prices for q in prices]
    distinct = {}  # trees with the same outcome tables are interchangeable
    for tree in trees:
        tab = reach.tree_tables((levels, levels), tree)
        distinct.setdefault(np.stack(tab).tobytes(), tab)
    tables = list(distinct.values())
    maps = coarse.message_maps
    m0, m1 = np.array(maps[0]), np.array(maps[1])
    zero = {
        (a, b): [k for k, tab in enumerate(tables) if tab[2][m0 == a][:, m1 == b].max() <= 1e-9]
        for a in (0, 1)
        for b in (0, 1)
    }
    # per profile and tree, each constraint's term: [trees, follower, type] for the margin
    # against uniform opponent messages and for the interim incentive against the maps
    terms = {}
    for a, b in sorted(zero):
        uniform = np.zeros((len(zero[a, b]), 2, 3))
        interim = np.zeros_like(uniform)
        for row, k in enumerate(zero[a, b]):
            u0, u1, _ = tables[k]
            for j in range(3):
                s0 = 1.0 if m0[j] == a else -1.0
                s1 = 1.0 if m1[j] == b else -1.0
                uniform[row, 0, j] = s0 * u0[j, :].mean() / 2
                uniform[row, 1, j] = s1 * u1[:, j].mean() / 2
                interim[row, 0, j] = s0 * u0[j, m1 == b].sum() / 3
                interim[row, 1, j] = s1 * u1[m0 == a, j].sum() / 3
        terms[a, b] = uniform, interim
    shape = [len(zero[ab]) for ab in sorted(zero)]
    total_uniform = sum(
        terms[ab][0].reshape([-1 if d == i else 1 for d in range(4)] + [2, 3])
        for i, ab in enumerate(sorted(zero))
    )
    total_interim = sum(
        terms[ab][1].reshape([-1 if d == i else 1 for d in range(4)] + [2, 3])
        for i, ab in enumerate(sorted(zero))
    )
    total_uniform = np.broadcast_to(total_uniform, shape + [2, 3])
    total_interim = np.broadcast_to(total_interim, shape + [2, 3])
    positive = levels > 0
    margins = total_uniform[..., positive].min(axis=(-2, -1))
    equilibrium = (total_interim >= -1e-12).all(axis=(-2, -1))
    brute = margins[equilibrium].max()
    assert brute == pytest.approx(coarse.margin, abs=1e-9)


def test_rejects_settings_outside_the_search():
    with pytest.raises(ValueError, match="3 messages"):
        reach.robust_mechanisms(SequentialPriceMechanism("uniform", n_values=3, n_messages=3))
    correlated = SequentialPriceMechanism(
        [[0.0, 1.0], [0.0, 1.0]], prior=[[0.4, 0.1], [0.1, 0.4]], n_messages=2
    )
    with pytest.raises(ValueError, match="correlated"):
        reach.robust_mechanisms(correlated)


def test_accepted_fraction_of_the_best_mechanism_at_t3():
    kwargs = dict(values="uniform", n_values=3, n_messages=2)
    best = reach.robust_mechanisms(SequentialPriceMechanism(**kwargs))[0]
    fraction, loss = reach.accepted_fraction(kwargs, best, n_response=1000, episodes=4)
    assert fraction == 1.0
    assert loss == pytest.approx(0.0, abs=1e-9)
