"""The exact reward phase: every (type profile, action profile) of the response, once, weighted.

Instead of ``n_reward`` sub-games with sampled types and sampled (or argmax) follower play,
the reward phase plays each type profile ``θ`` of positive prior mass with each follower
action profile ``a`` of positive probability under the selected response ``q(a | θ)`` exactly
once, in lexicographic order of ``(θ, a)``, and pays the leader its sub-game utility times
``p(θ) q(a | θ)``. The episode's return is then the exact expected leader utility against the
response (correlated priors and correlated responses included), not an estimate; the phase
has as many sub-games as the response has support points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RewardPlan:
    """The sub-games of one exact reward phase.

    Attributes:
        queries: Per sub-game, the types then the follower actions, as Python ints.
        weights: Per sub-game, ``p(θ) q(a | θ)`` (they sum to 1 up to rounding).
    """

    queries: tuple[tuple[int, ...], ...]
    weights: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.queries)


def exact_reward_plan(prior: np.ndarray, conditional: np.ndarray) -> RewardPlan:
    """The :class:`RewardPlan` of the response ``conditional`` under ``prior``.

    Args:
        prior: ``[T_1..T_n]`` the joint type distribution.
        conditional: ``[T_1..T_n, A_1..A_n]`` the response ``q(a | θ)`` (rows of types of
            positive mass sum to 1).

    Raises:
        ValueError: If the shapes disagree or no profile has positive weight.
    """
    prior = np.asarray(prior, dtype=np.float64)
    conditional = np.asarray(conditional, dtype=np.float64)
    n = prior.ndim
    if conditional.shape[:n] != prior.shape or conditional.ndim != 2 * n:
        raise ValueError(
            f"conditional must have shape {prior.shape} + action counts, got {conditional.shape}"
        )
    weights = prior.reshape(prior.shape + (1,) * n) * conditional
    support = np.argwhere(weights > 0)
    if support.shape[0] == 0:
        raise ValueError("the response gives no (types, actions) profile positive weight")
    queries = tuple(tuple(int(k) for k in row) for row in support)
    return RewardPlan(queries, tuple(float(weights[q]) for q in queries))
