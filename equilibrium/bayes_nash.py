"""Pure Bayes-Nash equilibria of a finite Bayesian game, by enumeration of type-contingent plans.

The exhaustive best-response followers of the Stackelberg POMDP play one
(``stackelberg_zoo.envs.pomdp.followers.BestResponse``); :func:`~.gaps.bne_gap` checks one.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["DEFAULT_TIE_TOL", "MAX_PLAN_PROFILES", "NoPureEquilibriumError", "pure_bayes_nash"]

DEFAULT_TIE_TOL = 1e-9
"""Utilities closer than this count as tied."""

MAX_PLAN_PROFILES = 2_000_000
"""The largest number of pure type-contingent profiles :func:`pure_bayes_nash` enumerates."""


class NoPureEquilibriumError(ValueError):
    """The Bayesian game has no pure Bayes-Nash equilibrium."""


def pure_bayes_nash(
    payoffs: np.ndarray,
    prior: np.ndarray,
    leader_payoffs: np.ndarray | None = None,
    tol: float = DEFAULT_TIE_TOL,
) -> list[np.ndarray]:
    """A pure Bayes-Nash equilibrium of a finite Bayesian game, found by enumeration.

    A pure profile gives each follower a plan ``s_i: type -> action``. It is an equilibrium
    when no type of positive prior mass gains more than ``tol`` (interim, weighted by the
    conditional prior ``p(θ_-i | θ_i)``) by switching to another action. With one follower
    each type simply best-responds.

    Args:
        payoffs: ``[n, T_1..T_n, A_1..A_n]`` follower utilities.
        prior: ``[T_1..T_n]`` joint type distribution (may be correlated).
        leader_payoffs: Optional ``[T_1..T_n, A_1..A_n]``: among the equilibria (and among a
            lone follower's tied best responses) pick one maximising the leader's expected
            utility (the strong Stackelberg convention); ``None``: the first in
            lexicographic order of plans (lowest action indices first).
        tol: Utility differences up to ``tol`` count as ties.

    Returns:
        One ``int64[T_i]`` plan per follower. Types of zero mass play action 0 (or the
        leader's favourite), they carry no weight.

    Raises:
        NoPureEquilibriumError: If no pure equilibrium exists.
        ValueError: If there are more than :data:`MAX_PLAN_PROFILES` pure profiles.
    """
    payoffs = np.asarray(payoffs, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    n = payoffs.shape[0]
    n_types = payoffs.shape[1 : 1 + n]
    n_actions = payoffs.shape[1 + n :]
    if n == 1:
        return [_lone_best_response(payoffs[0], prior, leader_payoffs, tol)]
    plans = [
        np.array(list(itertools.product(range(a), repeat=t)), dtype=np.int64).reshape(-1, t)
        for t, a in zip(n_types, n_actions, strict=True)
    ]
    total = math.prod(p.shape[0] for p in plans)
    if total > MAX_PLAN_PROFILES:
        raise ValueError(
            f"{total} pure type-contingent profiles exceed MAX_PLAN_PROFILES="
            f"{MAX_PLAN_PROFILES}; the exhaustive best response is not available here"
        )
    grids = np.indices(n_types)  # [n, T_1..T_n]
    masses = [prior.sum(axis=tuple(j for j in range(n) if j != i)) for i in range(n)]
    # moved[i]: [T_1..T_n, A_-i..., A_i], follower i's action axis last.
    moved = [np.moveaxis(payoffs[i], n + i, -1) for i in range(n)]
    best_value, best_profile = -np.inf, None
    for indices in itertools.product(*(range(p.shape[0]) for p in plans)):
        plan = [plans[j][k] for j, k in enumerate(indices)]
        acted = [plan[j][grids[j]] for j in range(n)]  # [T_1..T_n] action of j at each θ
        stable = True
        for i in range(n):
            others = tuple(acted[j] for j in range(n) if j != i)
            gathered = moved[i][tuple(grids) + others]  # [T_1..T_n, A_i]
            weighted = gathered * prior[..., None]
            table = weighted.sum(axis=tuple(j for j in range(n) if j != i))  # [T_i, A_i]
            chosen = table[np.arange(n_types[i]), plan[i]]
            if np.any(table.max(axis=1) - chosen > tol * masses[i]):
                stable = False
                break
        if not stable:
            continue
        if leader_payoffs is None:
            return plan
        value = float((np.asarray(leader_payoffs)[tuple(grids) + tuple(acted)] * prior).sum())
        if value > best_value + tol:
            best_value, best_profile = value, plan
    if best_profile is None:
        raise NoPureEquilibriumError(
            f"the followers' induced game (types {n_types}, actions {n_actions}) has no pure "
            f"Bayes-Nash equilibrium among its {total} pure profiles; the exhaustive best "
            f"response is not defined for this leader policy"
        )
    return best_profile


def _lone_best_response(payoffs, prior, leader_payoffs, tol) -> np.ndarray:
    """One follower's plan ``int64[T]``: a best response per type (ties: see the caller)."""
    utility = payoffs * prior[:, None]  # ex-ante weighted, [T, A]
    best = utility.max(axis=1, keepdims=True)
    candidates = utility >= best - tol * np.maximum(prior[:, None], 1e-300)
    candidates |= prior[:, None] == 0
    if leader_payoffs is None:
        return np.argmax(candidates, axis=1).astype(np.int64)
    score = np.where(candidates, np.asarray(leader_payoffs, dtype=np.float64), -np.inf)
    return np.argmax(score, axis=1).astype(np.int64)
