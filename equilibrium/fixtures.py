"""Known-answer games from the literature (research fixtures F1–F16), as game objects.

Each function returns a fresh game; the docstring gives its source. The *answers* (values,
strategies, equilibria) are deliberately not stored here: the solvers compute them, and the
tests compare the solvers' output with the published numbers, cited next to each assertion.

Conventions: in two-player fixtures the leader (or row player) is player 0, so
``game.payoffs[0]`` is the leader's ``[m, k]`` matrix and ``game.payoffs[1]`` the follower's.

These are research fixtures for testing the equilibrium code. Fixtures F4 (Conitzer's
commitment example), F6 (Escape), F7 (Maintain) and F14 (Monderer-Tennenholtz) are the
benchmark's own settings: their tables live once, in ``stackelberg_zoo.envs``
(``normal_form.game.NAMED_GAMES``, ``matrix_design.game.MONDERER_TENNENHOLTZ_PAYOFFS``), and
are not repeated here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .games import BayesianGame, NormalFormGame, bimatrix


@dataclass(frozen=True)
class BayesianStackelbergInstance:
    """A leader facing one follower with private types (input of Bayesian Stackelberg).

    Attributes:
        leader_payoffs: One ``[m, k_t]`` leader matrix per follower type.
        follower_payoffs: One ``[m, k_t]`` follower matrix per type.
        type_probs: ``[K]`` the prior over follower types.
        follower_action_names: Per type, the names of its ``k_t`` actions.
    """

    leader_payoffs: tuple[np.ndarray, ...]
    follower_payoffs: tuple[np.ndarray, ...]
    type_probs: np.ndarray
    follower_action_names: tuple[tuple[str, ...], ...]


def _readonly(value) -> np.ndarray:
    array = np.array(value, dtype=np.float64)
    array.setflags(write=False)
    return array


# ----------------------------------------------------------------------------- commitment


def openspiel_commitment_game_1() -> NormalFormGame:
    """F1: ``L=[[2,4],[1,3]]``, ``F=[[1,0],[0,1]]``.

    The Conitzer and Sandholm (2006) instance used in OpenSpiel's
    ``python/algorithms/stackelberg_lp_test.py``.
    """
    return bimatrix([[2, 4], [1, 3]], [[1, 0], [0, 1]])


def openspiel_commitment_game_2() -> NormalFormGame:
    """F2: ``L=[[2,0,0],[1,0,0]]``, ``F=[[0,2,5],[0,-1,-4]]``.

    From OpenSpiel's ``python/algorithms/stackelberg_lp_test.py``.
    """
    return bimatrix([[2, 0, 0], [1, 0, 0]], [[0, 2, 5], [0, -1, -4]])


def openspiel_commitment_game_3() -> NormalFormGame:
    """F3: ``L=[[3,9],[9,1]]``, ``F=[[0,0],[1,8]]`` (OpenSpiel ``stackelberg_lp_test``)."""
    return bimatrix([[3, 9], [9, 1]], [[0, 0], [1, 8]])


def cce_commitment_separation() -> NormalFormGame:
    """F5: ``L=[[0,3,0],[2,2,0]]``, ``F=[[3,2,1],[0,0,2]]``.

    A game where commitment against a no-external-regret follower (CCE commitment) is worth
    strictly more than strong Stackelberg commitment, and where the leader's best CCE payoff
    exceeds the Stackelberg value. Found by random search in the project's research notes
    (``research/equilibrium.md``, section 6).
    """
    return bimatrix([[0, 3, 0], [2, 2, 0]], [[3, 2, 1], [0, 0, 2]])


# ----------------------------------------------------------------------------- CE / CCE


def gibson_cce_example() -> NormalFormGame:
    """F8: Gibson (2013): row ``[[1,0],[0,2],[-1,1]]``, column player indifferent (all 0).

    Used in OpenSpiel's ``algorithms/corr_dist_test.cc`` with the distribution of
    :func:`gibson_cce_distribution`.
    """
    row = np.array([[1, 0], [0, 2], [-1, 1]])
    return bimatrix(row, np.zeros_like(row))


def gibson_cce_distribution() -> np.ndarray:
    """F8's distribution ``½ (A,a) + ¼ (B,b) + ¼ (C,b)`` over the ``[3, 2]`` profiles."""
    return _readonly([[0.5, 0.0], [0.0, 0.25], [0.0, 0.25]])


def shapley_game() -> NormalFormGame:
    """F9: Shapley's (1964) game, as OpenSpiel's ``matrix_shapleys_game``.

    Row ``[[0,0,1],[1,0,0],[0,1,0]]``, column ``[[0,1,0],[0,0,1],[1,0,0]]``.
    """
    return bimatrix([[0, 0, 1], [1, 0, 0], [0, 1, 0]], [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


def chicken() -> NormalFormGame:
    """F10: Chicken (actions Dare, Chicken): row ``[[0,7],[2,6]]``, column ``[[0,2],[7,6]]``.

    The standard correlated-equilibrium example (Aumann 1974; OpenSpiel ``corr_dist_test``).
    """
    return bimatrix([[0, 7], [2, 6]], [[0, 2], [7, 6]])


def battle_of_the_sexes() -> NormalFormGame:
    """F11: Battle of the Sexes, row ``[[2,0],[0,1]]``, column ``[[1,0],[0,2]]``."""
    return bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])


def prisoners_dilemma() -> NormalFormGame:
    """F11: Prisoner's dilemma (C, D), row ``[[5,0],[10,1]]``, column ``[[5,10],[0,1]]``."""
    return bimatrix([[5, 0], [10, 1]], [[5, 10], [0, 1]])


def rock_paper_scissors() -> NormalFormGame:
    """F11: Rock-paper-scissors, zero-sum, row ``[[0,-1,1],[1,0,-1],[-1,1,0]]``."""
    row = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    return bimatrix(row, -row)


def von_stengel_3x2() -> NormalFormGame:
    """F13: von Stengel (2007), "Equilibrium computation for two-player games", 3x2 example.

    ``[[(3,3),(3,2)],[(2,2),(5,6)],[(0,3),(6,1)]]``; it has exactly three Nash equilibria
    (also a test case of QuantEcon.py's ``game_theory``).
    """
    return bimatrix([[3, 3], [2, 5], [0, 6]], [[3, 2], [2, 6], [3, 1]])


def first_price_auction_correlated() -> BayesianGame:
    """F15: discrete first-price auction, 2 bidders, correlated private values.

    Values ``{1, 3}``, bids ``{0, 1, 2}``, the higher bid wins and pays its bid, ties are
    split (each wins with probability ½); prior ``[[0.4, 0.1], [0.1, 0.4]]`` over the two
    values. From the project's research notes (``research/equilibrium.md``, F15).
    """
    values = np.array([1.0, 3.0])
    bids = np.array([0.0, 1.0, 2.0])
    payoffs = np.zeros((2, 2, 2, 3, 3))
    for i in range(2):
        own_bid = bids[:, None] if i == 0 else bids[None, :]
        other_bid = bids[None, :] if i == 0 else bids[:, None]
        win = np.where(own_bid > other_bid, 1.0, np.where(own_bid == other_bid, 0.5, 0.0))
        for t0 in range(2):
            for t1 in range(2):
                value = values[t0] if i == 0 else values[t1]
                payoffs[i, t0, t1] = win * (value - own_bid)
    return BayesianGame(payoffs, [[0.4, 0.1], [0.1, 0.4]])


def biased_rock_paper_scissors() -> NormalFormGame:
    """F16: biased RPS, zero-sum, row ``[[0,-25,50],[25,0,-5],[-50,5,0]]``.

    OpenSpiel's ``matrix_brps`` (from Bošanský et al. 2016), used in its LP solver and
    regret-matching tests.
    """
    row = np.array([[0, -25, 50], [25, 0, -5], [-50, 5, 0]])
    return bimatrix(row, -row)


# ----------------------------------------------------------------------------- Bayesian


_DOBSS_TYPES = (
    # (probability, action names, rows of (leader, follower) pairs)
    (
        0.5,
        ("Attack1", "Attack2", "Attack9"),
        (
            ((-2, 6), (5, -8), (0, 0)),
            ((5, -8), (-2, 6), (0, 0)),
            ((-2, 6), (5, -8), (0, 0)),
            ((5, -8), (-2, 6), (0, 0)),
        ),
    ),
    (
        0.35,
        ("Attack1", "Attack4", "Attack1+Attack4", "Attack9"),
        (
            ((-2, 6), (5, -2), (2, 6), (0, 0)),
            ((5, -8), (5, -2), (10, -10), (0, 0)),
            ((-2, 6), (-10, 10), (-10, 10), (0, 0)),
            ((5, -8), (-10, 10), (-5, 10), (0, 0)),
        ),
    ),
    (
        0.05,
        (
            "Attack1",
            "Attack2",
            "Attack3",
            "Attack4",
            "Attack1+Attack3",
            "Attack2+Attack3",
            "Attack1+Attack4",
            "Attack2+Attack4",
            "Attack9",
        ),
        (
            ((-2, 6), (5, -8), (-10, 10), (5, -2), (-10, 10), (-5, 10), (2, 6), (10, -10), (0, 0)),
            ((5, -8), (-2, 6), (-10, 10), (5, -2), (-5, 10), (-10, 10), (10, -10), (2, 6), (0, 0)),
            ((-2, 6), (5, -8), (5, -2), (-10, 10), (2, 6), (10, -10), (-10, 10), (-5, 10), (0, 0)),
            ((5, -8), (-2, 6), (5, -2), (-10, 10), (10, -10), (2, 6), (-5, 10), (-10, 10), (0, 0)),
        ),
    ),
    (
        0.1,
        ("Attack1", "Attack2", "Attack3", "Attack4", "Attack9"),
        (
            ((-2, 6), (5, -8), (-10, 10), (5, -2), (0, 0)),
            ((5, -8), (-2, 6), (-10, 10), (5, -2), (0, 0)),
            ((-2, 6), (5, -8), (5, -2), (-10, 10), (0, 0)),
            ((5, -8), (-2, 6), (5, -2), (-10, 10), (0, 0)),
        ),
    ),
)


def dobss_security_game() -> BayesianStackelbergInstance:
    """F12: a Bayesian Stackelberg security game with 4 defender strategies, 4 attacker types.

    The instance ``src/DOBSS/input.txt`` of sailik1991/StackelbergEquilibribumSolvers (an
    implementation of DOBSS, Paruchuri et al. 2008, AAMAS): attacker types with
    probabilities 0.5, 0.35, 0.05, 0.1 and 3, 4, 9, 5 attacks. The defender is the leader.
    """
    leaders, followers, names, probs = [], [], [], []
    for prob, action_names, rows in _DOBSS_TYPES:
        table = np.array(rows, dtype=np.float64)  # [m, k, 2]
        leaders.append(_readonly(table[..., 0]))
        followers.append(_readonly(table[..., 1]))
        names.append(action_names)
        probs.append(prob)
    return BayesianStackelbergInstance(
        leader_payoffs=tuple(leaders),
        follower_payoffs=tuple(followers),
        type_probs=_readonly(probs),
        follower_action_names=tuple(names),
    )


FIXTURES: dict[str, tuple[Callable[[], object], ...]] = {
    "F1": (openspiel_commitment_game_1,),
    "F2": (openspiel_commitment_game_2,),
    "F3": (openspiel_commitment_game_3,),
    "F5": (cce_commitment_separation,),
    "F8": (gibson_cce_example,),
    "F9": (shapley_game,),
    "F10": (chicken,),
    "F11": (battle_of_the_sexes, prisoners_dilemma, rock_paper_scissors),
    "F12": (dobss_security_game,),
    "F13": (von_stengel_3x2,),
    "F15": (first_price_auction_correlated,),
    "F16": (biased_rock_paper_scissors,),
}
"""Fixture id (as in ``research/equilibrium.md``, section 6) -> the functions building it."""
