"""The three diagnostics: one seeded training run per (variant, seed), returning its record.

Every run is a Stackelberg POMDP in miniature: an episode is a response phase, in which the
follower learns against the leader's committed play, and a reward phase, in which the leader
is scored. The leader samples one action per observation per episode and reuses it (action
caching), so each episode is a pure commitment. A run returns the leader's reward-phase
value of every episode and, per episode, whether the reward phase ended in the exact
Stackelberg outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .games import (
    BATTLE_OF_THE_SEXES,
    N_STATES,
    PRISONERS_DILEMMA,
    Bimatrix,
    Outcome,
    memory_one_game,
    stackelberg_outcome,
)
from .learners import ContextualFollower, SoftmaxReinforce, TabularQ

_POWERS = 1 << np.arange(N_STATES)


@dataclass(frozen=True)
class Run:
    """One training run.

    Attributes:
        values: ``[episodes]`` the leader's reward-phase value of each episode.
        at_outcome: ``[episodes]`` whether the reward phase ended in the Stackelberg outcome.
        extra: Run-specific numbers (JSON-serialisable).
    """

    values: np.ndarray
    at_outcome: np.ndarray
    extra: dict


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(stream)])


# -- (a) phase memory ---------------------------------------------------------------------------


def phase_memory_run(follower: ContextualFollower, phase_visible: bool, seed: int, *,
                     episodes: int, lr: float = 0.02, stages: int = 5) -> Run:  # fmt: skip
    """Leader REINFORCE against a pretrained contextual best responder, repeated PD.

    Response phase: the follower queries the leader's policy at its 5 memory-one states and
    sees the answers (its context). Reward phase: one ``stages``-stage game, the follower
    playing its greedy response to the context, the leader playing its reward-phase table;
    the leader's return is its per-stage mean utility there. With ``phase_visible`` the
    leader's policy has one row per (phase, state), so its reward-phase table can differ from
    its answers; otherwise one row per state serves both phases.
    """
    game = PRISONERS_DILEMMA
    leader_matrix, follower_matrix = memory_one_game(game, stages)
    outcome = stackelberg_outcome(leader_matrix, follower_matrix)
    responses = np.array([follower.response(q) for q in range(2**N_STATES)])
    rng = _rng(seed, 1)
    leader = SoftmaxReinforce(2 * N_STATES if phase_visible else N_STATES, lr)
    values, at_outcome = np.empty(episodes), np.empty(episodes, dtype=bool)
    for t in range(episodes):
        actions = leader.sample(rng)
        query = int(actions[:N_STATES] @ _POWERS)
        table = int(actions[N_STATES:] @ _POWERS) if phase_visible else query
        reply = responses[query]
        values[t] = leader_matrix[table, reply]
        at_outcome[t] = _is_outcome(values[t], follower_matrix[table, reply], outcome)
        leader.update(actions, values[t])
    greedy = leader.greedy()
    query = int(greedy[:N_STATES] @ _POWERS)
    table = int(greedy[N_STATES:] @ _POWERS) if phase_visible else query
    return Run(values, at_outcome, {
        "greedy_answers": query,
        "greedy_reward_table": table,
        "greedy_value": float(leader_matrix[table, responses[query]]),
        "keeps_commitment": bool(table == query),
    })  # fmt: skip


def phase_memory_bounds(follower: ContextualFollower, stages: int = 5) -> dict:
    """Exact best values against one trained follower: committed, and answers != play."""
    leader_matrix, _ = memory_one_game(PRISONERS_DILEMMA, stages)
    responses = np.array([follower.response(q) for q in range(2**N_STATES)])
    against = leader_matrix[:, responses]  # [reward table, answered table]
    return {
        "best_committed": float(np.max(np.diag(against))),
        "best_with_phase": float(against.max()),
    }


def _is_outcome(leader_value: float, follower_value: float, outcome: Outcome) -> bool:
    return (
        abs(leader_value - outcome.leader_value) <= 1e-9
        and abs(follower_value - outcome.follower_value) <= 1e-9
    )


# -- (b) and (c): one-shot games against tabular Q followers ------------------------------------


def _q_episode(game: Bimatrix, row: int, follower: TabularQ, rng: np.random.Generator,
               n_response: int) -> tuple[float, int]:  # fmt: skip
    """One episode against a committed row: (leader's response-phase total, reward column)."""
    total = 0.0
    for _ in range(n_response):
        column = follower.explore(rng)
        follower.update(column, game.follower[row, column])
        total += game.leader[row, column]
    return total, follower.greedy(rng)


def fixed_row_returns(game: Bimatrix, seed: int, *, episodes: int, alpha: float,
                      temperature: float, n_response: int = 10) -> dict:  # fmt: skip
    """Mean episode return of always committing to each row, against a follower reset
    every episode, under both return definitions (Monte Carlo over ``episodes``).

    Returns:
        ``{row: {"reward_phase_only": mean, "response_phase_included": mean}}``.
    """
    rng = _rng(seed, 3)
    follower = TabularQ(game.follower.shape[1], alpha, temperature)
    result = {}
    for row in range(game.leader.shape[0]):
        only, included = np.empty(episodes), np.empty(episodes)
        for t in range(episodes):
            follower.reset()
            total, column = _q_episode(game, row, follower, rng, n_response)
            only[t] = game.leader[row, column]
            included[t] = (total + only[t]) / (n_response + 1)
        result[row] = {"reward_phase_only": float(only.mean()),
                       "response_phase_included": float(included.mean())}  # fmt: skip
    return result


def q_follower_run(game: Bimatrix, seed: int, *, episodes: int, lr: float, alpha: float,
                   temperature: float, n_response: int = 10, reset: bool = True,
                   response_reward: bool = False) -> Run:  # fmt: skip
    """Leader REINFORCE (one row per episode) against a tabular Q follower, one-shot game.

    Each episode: the leader samples its row; the follower plays ``n_response`` response
    games (Boltzmann exploration, a Q step after each), then one greedy reward game. The
    leader's return is its reward-game utility, or, with ``response_reward``, its mean
    utility over all ``n_response + 1`` games. With ``reset`` the follower's Q values are 0 at
    the start of every episode; otherwise they carry over from the previous episode.
    """
    outcome = stackelberg_outcome(game.leader, game.follower)
    rng = _rng(seed, 2)
    leader = SoftmaxReinforce(1, lr)
    follower = TabularQ(game.follower.shape[1], alpha, temperature)
    values, at_outcome = np.empty(episodes), np.empty(episodes, dtype=bool)
    for t in range(episodes):
        actions = leader.sample(rng)
        row = int(actions[0])
        if reset:
            follower.reset()
        total, column = _q_episode(game, row, follower, rng, n_response)
        values[t] = game.leader[row, column]
        at_outcome[t] = row == outcome.row and column == outcome.column
        episode_return = (total + values[t]) / (n_response + 1) if response_reward else values[t]
        leader.update(actions, episode_return)
    return Run(values, at_outcome, {
        "final_probability_of_stackelberg_row": float(leader.probabilities()[0, outcome.row]),
    })  # fmt: skip


def reset_vs_carried_run(reset: bool, seed: int, *, lr: float, episodes: int,
                         alpha: float = 0.1, temperature: float = 0.1) -> Run:  # fmt: skip
    """(b): battle of the sexes, Q followers (alpha 0.1) reset each episode or carried over."""
    return q_follower_run(BATTLE_OF_THE_SEXES, seed, episodes=episodes, lr=lr, alpha=alpha,
                          temperature=temperature, reset=reset)  # fmt: skip


def fixed_row_reward_during_learning(game: Bimatrix, episodes: int = 5_000, alpha: float = 0.2,
                                     temperature: float = 0.1) -> dict:  # fmt: skip
    """(c)'s fixed-row returns, seed 0: what each return definition makes of each row."""
    return fixed_row_returns(game, 0, episodes=episodes, alpha=alpha, temperature=temperature)


def reward_during_learning_run(game: Bimatrix, included: bool, seed: int, *, episodes: int,
                               lr: float = 0.1, alpha: float = 0.2,
                               temperature: float = 0.1) -> Run:  # fmt: skip
    """(c): a coordination game, the response-phase utility in the leader's return or not."""
    return q_follower_run(game, seed, episodes=episodes, lr=lr, alpha=alpha,
                          temperature=temperature, response_reward=included)  # fmt: skip
