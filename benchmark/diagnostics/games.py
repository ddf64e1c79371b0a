"""The diagnostics' games and their exact Stackelberg outcomes (from the suite's solvers).

Rows are the leader's actions, columns the follower's; payoffs are raw (not normalised).

* Prisoner's dilemma (actions C = 0, D = 1), leader ``[[3, 1], [4, 2]]``, follower
  ``[[3, 4], [1, 2]]``, played for ``stages`` stages with **one-step memory**: a player's
  policy maps the state (Start, CC, CD, DC, DD; the last joint action, leader's first) to an
  action. A deterministic memory-one policy is a *table*: an integer in ``[0, 32)`` whose bit
  ``s`` is the action at state ``s``.
* Battle of the sexes, leader ``[[2, 0], [0, 1]]``, follower ``[[1, 0], [0, 2]]``, one shot.
* Coordination, leader ``[[2, 0], [0, 1]]``, follower ``[[0.001, 0], [0, 2]]``, one shot, and
  its penalised variant with leader payoff -5 on miscoordination.

The exact outcome is the best **pure** commitment (:func:`pure_commitment`, ties broken in
the leader's favour): the leaders here sample one action per observation per episode, so
within an episode they are committed to a pure row (a pure table in the repeated game).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.equilibrium.stackelberg import pure_commitment

N_STATES = 5
"""Memory-one states: 0 Start, then ``1 + 2 * leader_action + follower_action``."""
N_TABLES = 2**N_STATES
"""Deterministic memory-one policies (tables)."""
STATE_NAMES = ("Start", "CC", "CD", "DC", "DD")


@dataclass(frozen=True)
class Bimatrix:
    """A one-shot game: ``leader[row, column]`` and ``follower[row, column]`` utilities."""

    name: str
    leader: np.ndarray
    follower: np.ndarray


def _game(name: str, leader, follower) -> Bimatrix:
    return Bimatrix(name, np.asarray(leader, dtype=float), np.asarray(follower, dtype=float))


PRISONERS_DILEMMA = _game("prisoners-dilemma", [[3, 1], [4, 2]], [[3, 4], [1, 2]])
BATTLE_OF_THE_SEXES = _game("battle-of-the-sexes", [[2, 0], [0, 1]], [[1, 0], [0, 2]])
COORDINATION = _game("coordination", [[2, 0], [0, 1]], [[0.001, 0], [0, 2]])
PENALISED_COORDINATION = _game("penalised-coordination", [[2, -5], [-5, 1]], [[0.001, 0], [0, 2]])


@dataclass(frozen=True)
class Outcome:
    """The exact Stackelberg outcome of a game (best pure commitment, strong ties).

    Attributes:
        leader_value: The leader's utility (per stage, for the repeated game).
        follower_value: The follower's utility at it.
        row: The leader's committed row (a table index for the repeated game).
        column: The follower's best response (a table index for the repeated game).
    """

    leader_value: float
    follower_value: float
    row: int
    column: int


def stackelberg_outcome(leader, follower) -> Outcome:
    """The exact best pure commitment of ``[m, k]`` payoff matrices, by the suite's solver."""
    result = pure_commitment(leader, follower)
    row = int(np.argmax(result.leader_strategy))
    return Outcome(result.leader_value, result.follower_value, row, result.follower_action)


def table_bits(table: int) -> np.ndarray:
    """``[5]`` the actions of a memory-one table at Start, CC, CD, DC, DD."""
    if not (isinstance(table, int | np.integer) and 0 <= table < N_TABLES):
        raise ValueError(f"table must be an integer in [0, {N_TABLES}), got {table!r}")
    return (int(table) >> np.arange(N_STATES)) & 1


def play_memory_one(game: Bimatrix, leader_table: int, follower_table: int, stages: int):
    """Play two memory-one tables for ``stages`` stages.

    Returns:
        ``(leader_mean, follower_mean, states)``: the per-stage mean utilities and the states
        visited (the first is always Start).
    """
    if not (isinstance(stages, int) and stages >= 1):
        raise ValueError(f"stages must be a positive integer, got {stages!r}")
    lead, follow = table_bits(leader_table), table_bits(follower_table)
    state, total_l, total_f, states = 0, 0.0, 0.0, []
    for _ in range(stages):
        states.append(state)
        a, b = int(lead[state]), int(follow[state])
        total_l += game.leader[a, b]
        total_f += game.follower[a, b]
        state = 1 + 2 * a + b
    return total_l / stages, total_f / stages, states


def memory_one_game(game: Bimatrix, stages: int) -> tuple[np.ndarray, np.ndarray]:
    """The induced ``[32, 32]`` normal form: per-stage mean utilities of every table pair."""
    leader = np.empty((N_TABLES, N_TABLES))
    follower = np.empty((N_TABLES, N_TABLES))
    for r in range(N_TABLES):
        for c in range(N_TABLES):
            leader[r, c], follower[r, c], _ = play_memory_one(game, r, c, stages)
    return leader, follower


def follower_values(game: Bimatrix, leader_tables: np.ndarray, defect_probs: np.ndarray,
                    stages: int) -> np.ndarray:  # fmt: skip
    """Exact per-stage mean follower utility of stochastic memory-one policies.

    Args:
        game: The stage game.
        leader_tables: ``[B]`` deterministic leader tables.
        defect_probs: ``[B, 5]`` the follower's probability of D at each state, one policy
            per leader table.
        stages: Number of stages.

    Returns:
        ``[B]`` the follower's expected per-stage mean utility.
    """
    bits = (np.asarray(leader_tables)[:, None] >> np.arange(N_STATES)) & 1  # [B, 5]
    rows = np.arange(bits.shape[0])
    mass = np.zeros(bits.shape)
    mass[:, 0] = 1.0
    value = np.zeros(bits.shape[0])
    for _ in range(stages):
        new = np.zeros_like(mass)
        for s in range(N_STATES):
            a = bits[:, s]
            p = defect_probs[:, s]
            value += mass[:, s] * ((1 - p) * game.follower[a, 0] + p * game.follower[a, 1])
            np.add.at(new, (rows, 1 + 2 * a), mass[:, s] * (1 - p))
            np.add.at(new, (rows, 2 + 2 * a), mass[:, s] * p)
        mass = new
    return value / stages
