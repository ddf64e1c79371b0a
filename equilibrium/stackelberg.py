"""Optimal commitment: pure, strong Stackelberg, margin-robust, correlated, and Bayesian.

Conventions: the leader chooses rows, the follower columns; ``leader_payoffs[m, k]`` and
``follower_payoffs[m, k]`` are utilities (both maximise). For a Bayesian follower, one pair
of matrices per type, ``[m, k_t]`` (the number of columns may differ between types).

**Tie-breaking.** Every solver here computes the *strong* Stackelberg equilibrium: when the
follower is indifferent between several best responses, it breaks the tie in the leader's
favour. The optimum of mixed commitment is then generally attained on the knife edge where
the follower is exactly indifferent (Maintain's ``x = (1/4, 3/4, 0)``): committing to it is
optimal only if ties go the leader's way, and a follower that learns (multiplicative
weights, Hedge) does not break ties for anyone. :func:`robust_commitment` answers what such
a leader can actually secure: a strategy that makes the target column the follower's unique
best response by a stated ``margin``, with a computed bound on what that margin costs.

**Ties, one convention.** The follower counts two columns as tied when its expected
utilities differ by at most ``tie_tol`` times the range of its payoff matrix
(:func:`tie_threshold`; ``tie_tol`` defaults to :data:`TIE_TOL` = 1e-12). Every function
here uses that one rule: the pure best responses of :func:`pure_commitment`, the constraints
of the commitment LPs and of the DOBSS program (``xᵀF_j ≥ xᵀF_j' − τ``), and the re-checks. So
the answer does not depend on the scale of the payoffs (multiplying the follower's matrix by
1e-12 changes nothing), and the mixed value is never below the pure one.

Every answer is re-verified with plain numpy before it is returned: the follower action is a
best response to the leader strategy (within the tie threshold plus ``tol`` times the
follower's range), no column that is a best response with room to spare gives the leader
more (strong tie-breaking), and the leader value is recomputed from the arrays. A failed
re-check raises :class:`RuntimeError`: a solver failure, never a property of the input
(near ties included).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from .games import NormalFormGame, as_finite_array, bimatrix, check_distribution, check_range
from .lp import (
    LP_TOL,
    LPResult,
    check_tol,
    clean_distribution,
    correlated_lp,
    solve_lp,
    span,
)

MAX_PROFILES = 200_000
"""Default cap on the follower response profiles :func:`bayesian_stackelberg` enumerates."""

TIE_TOL = 1e-12
"""Default follower tie tolerance, relative to the range of the follower's payoff matrix.

Small enough not to move published values (Conitzer and Sandholm's 2.5 stays 2.5 to 11
digits), large enough to sit well above the round-off of ``xᵀ(F_j − F_j')``."""


@dataclass(frozen=True)
class CommitmentResult:
    """An optimal leader commitment against a best-responding follower (one type).

    Attributes:
        leader_value: The leader's expected utility, recomputed from the arrays.
        leader_strategy: ``[m]`` the committed mixed strategy (one-hot for pure commitment).
        follower_action: The follower's response: a best response to ``leader_strategy``,
            the leader's favourite among best responses (strong tie-breaking).
        follower_value: The follower's expected utility at the commitment.
        per_action_values: ``[k]`` for each follower column ``j``, the best leader value
            among commitments to which ``j`` is a best response (the LP of column ``j``);
            ``-inf`` where no commitment makes ``j`` a best response.
    """

    leader_value: float
    leader_strategy: np.ndarray
    follower_action: int
    follower_value: float
    per_action_values: np.ndarray


@dataclass(frozen=True)
class RobustCommitmentResult:
    """A commitment that makes the follower's response strict by a margin.

    Attributes:
        leader_value: The leader's utility when the follower plays ``follower_action``.
        leader_strategy: ``[m]`` the committed mixed strategy.
        follower_action: The follower's unique best response.
        margin: The requested margin, in follower utility.
        follower_advantage: The recomputed ``min_{j' ≠ j} xᵀ(F_j − F_j')`` (``≥ margin``
            up to tol; ``inf`` when the follower has a single action).
        sse_value: The strong Stackelberg value ``V_SSE`` of the same game.
        value_loss: ``sse_value − leader_value``.
        value_loss_bound: The bound this function guarantees for ``value_loss``, computed
            from the game (see :func:`robust_commitment`); ``value_loss ≤ value_loss_bound``.
    """

    leader_value: float
    leader_strategy: np.ndarray
    follower_action: int
    margin: float
    follower_advantage: float
    sse_value: float
    value_loss: float
    value_loss_bound: float


@dataclass(frozen=True)
class BayesianCommitmentResult:
    """An optimal leader commitment against a follower with private types (strong SSE).

    Attributes:
        leader_value: ``Σ_t π_t xᵀ L_t[:, j_t]``, recomputed from the arrays.
        leader_strategy: ``[m]`` the committed mixed strategy.
        follower_actions: ``(j_t)_t`` each type's response: a best response to the
            strategy, the leader's favourite among the type's best responses.
        follower_values: ``[K]`` each type's expected utility at the commitment.
        per_type_leader_values: ``[K]`` the leader's expected utility against each type
            (not weighted by the type probability).
        method: The method whose answer this is: ``"dobss"``, or ``"enumerate"`` when it
            was asked for or when it replaced a DOBSS answer that could not be certified.
    """

    leader_value: float
    leader_strategy: np.ndarray
    follower_actions: tuple[int, ...]
    follower_values: np.ndarray
    per_type_leader_values: np.ndarray
    method: str


# ----------------------------------------------------------------------------- validation


def _matrix(name: str, value) -> np.ndarray:
    array = as_finite_array(name, value)
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(f"{name} must be a non-empty [m, k] matrix, got shape {array.shape}")
    check_range(name, array)
    return array


def _pair(leader_payoffs, follower_payoffs) -> tuple[np.ndarray, np.ndarray]:
    leader = _matrix("leader_payoffs", leader_payoffs)
    follower = _matrix("follower_payoffs", follower_payoffs)
    if leader.shape != follower.shape:
        raise ValueError(
            f"leader_payoffs and follower_payoffs must have the same shape, got "
            f"{leader.shape} and {follower.shape}"
        )
    return leader, follower


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


# ----------------------------------------------------------------------------- responses


def tie_threshold(follower_payoffs, tie_tol: float = TIE_TOL) -> float:
    """The follower utility difference up to which two columns count as tied.

    ``tie_tol · range(F)``, with ``range(F) = max F − min F`` (1 for a constant matrix,
    where every column ties anyway). The one tie rule of this module (see the module
    docstring).

    Args:
        follower_payoffs: ``[m, k]`` follower utilities.
        tie_tol: The tolerance, relative to the range.

    Raises:
        TypeError: If ``follower_payoffs`` is not numeric or ``tie_tol`` is not a real number.
        ValueError: If ``follower_payoffs`` is not a finite matrix or ``tie_tol`` is
            negative or not finite.

    Example:
        >>> tie_threshold([[0, 2.0], [1.0, 0]], tie_tol=1e-9)
        2e-09
    """
    return _threshold(_matrix("follower_payoffs", follower_payoffs), tie_tol, "tie_tol")


def _threshold(follower: np.ndarray, tie_tol, name: str) -> float:
    """:func:`tie_threshold` of a validated matrix; ``name`` is the tolerance's argument."""
    return check_tol(tie_tol, name) * span(follower)


def _shortfalls(follower: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``[k]`` how far each column's follower value at ``x`` is below the best one.

    Computed from column differences ``xᵀ(F_j − F_b)`` (``b`` the best column), as the
    LPs see them, so a large constant offset in ``F`` adds no round-off.
    """
    best = int(np.argmax(x @ follower))
    diffs = x @ (follower - follower[:, [best]])
    return diffs.max() - diffs


def _ties(follower: np.ndarray, x: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the columns within ``threshold`` of the best follower value at ``x``."""
    return np.flatnonzero(_shortfalls(follower, x) <= threshold)


def follower_best_responses(follower_payoffs, x, tol: float = TIE_TOL) -> list[int]:
    """The follower's best responses to the leader's mixed strategy ``x``.

    Args:
        follower_payoffs: ``[m, k]`` follower utilities.
        x: ``[m]`` the leader's mixed strategy.
        tol: Tie tolerance relative to the follower's payoff range: columns within
            :func:`tie_threshold` ``(follower_payoffs, tol)`` of the best are kept.

    Returns:
        The sorted column indices ``j`` with ``xᵀF_j ≥ max_j' xᵀF_j' − tol · range(F)``.

    Raises:
        TypeError: If an argument is not numeric (bools and strings included).
        ValueError: If ``follower_payoffs`` is not a finite matrix, ``x`` is not a
            probability vector of length ``m``, or ``tol`` is negative or not finite.

    Example:
        >>> follower_best_responses([[1, 0], [0, 1]], [0.5, 0.5])
        [0, 1]
    """
    follower = _matrix("follower_payoffs", follower_payoffs)
    x = check_distribution("x", x, (follower.shape[0],))
    threshold = _threshold(follower, tol, "tol")
    return [int(j) for j in _ties(follower, x, threshold)]


def _verify_strong(
    leader: np.ndarray,
    follower: np.ndarray,
    x: np.ndarray,
    action: int,
    threshold: float,
    tol: float,
    what: str,
) -> float:
    """Re-check a strong-SSE answer; return the recomputed leader value.

    ``action`` must be a best response up to the tie ``threshold`` plus the solver slack
    ``tol · range(F)``. Any column within ``threshold / 2`` of the best is strictly inside
    the feasible set of its own commitment LP, so if it gave the leader more (beyond
    ``tol · range(L)``) that LP's optimum would beat the answer: a solver failure. Columns
    between ``threshold / 2`` and ``threshold`` sit on their LP's boundary and are not used
    to accuse the solver.
    """
    shortfall = _shortfalls(follower, x)[action]
    slack = tol * span(follower)
    if shortfall > threshold + slack:
        values = x @ follower
        raise RuntimeError(
            f"{what} re-check failed: follower action {action} gets {values[action]:.9g}, "
            f"below the best response value {values.max():.9g} by {shortfall:.3e}, more "
            f"than {threshold + slack:.2e}"
        )
    value = float(x @ leader[:, action])
    sure_ties = _ties(follower, x, threshold / 2)
    better = max(float(x @ leader[:, j]) for j in sure_ties)
    if better > value + tol * span(leader):
        raise RuntimeError(
            f"{what} re-check failed: another best response gives the leader {better:.9g} "
            f"> {value:.9g} (tie not broken in the leader's favour)"
        )
    return value


def _leader_favourite(
    leader: np.ndarray, follower: np.ndarray, x: np.ndarray, threshold: float
) -> int:
    """The best response to ``x`` (within ``threshold``) that the leader likes most."""
    return max(_ties(follower, x, threshold), key=lambda j: float(x @ leader[:, j]))


# ----------------------------------------------------------------------------- pure


def pure_commitment(leader_payoffs, follower_payoffs, tol: float = TIE_TOL) -> CommitmentResult:
    """Best pure commitment (a row) against a best-responding follower.

    For each row, the follower picks a best response (columns within
    :func:`tie_threshold` ``(follower_payoffs, tol)`` of the row's best count as ties) and
    breaks ties **in the leader's favour**; the leader picks the row that is then best for
    her (the first such row on ties). With the same ``tie_tol``, :func:`strong_stackelberg`
    is never below this value.

    Args:
        leader_payoffs: ``[m, k]`` leader utilities.
        follower_payoffs: ``[m, k]`` follower utilities.
        tol: Tie tolerance, relative to the range of ``follower_payoffs`` (the same rule
            and default as ``tie_tol`` elsewhere in this module).

    Returns:
        A :class:`CommitmentResult` with a one-hot ``leader_strategy``.

    Raises:
        TypeError: If a matrix is not numeric (bools and strings included) or ``tol`` is
            not a real number.
        ValueError: If the matrices are malformed or of different shapes, or ``tol`` is
            negative or not finite.

    Example:
        >>> pure_commitment([[1, 3], [0, 2]], [[1, 0], [0, 1]]).leader_value
        2.0
    """
    leader, follower = _pair(leader_payoffs, follower_payoffs)
    threshold = _threshold(follower, tol, "tol")
    best_response = follower >= follower.max(axis=1, keepdims=True) - threshold  # [m, k]
    inducible = np.where(best_response, leader, -np.inf)
    per_action = inducible.max(axis=0)
    row_values = inducible.max(axis=1)
    row = int(np.argmax(row_values))
    action = int(np.argmax(inducible[row]))
    x = np.zeros(leader.shape[0])
    x[row] = 1.0
    return CommitmentResult(
        leader_value=float(leader[row, action]),
        leader_strategy=_readonly(x),
        follower_action=action,
        follower_value=float(follower[row, action]),
        per_action_values=_readonly(per_action),
    )


# ----------------------------------------------------------------------------- mixed


def _column_lp(
    leader: np.ndarray, follower: np.ndarray, column: int, margin: float
) -> np.ndarray | None:
    """Best ``x`` making ``column`` a best response by ``margin`` (None if impossible).

    A negative ``margin`` relaxes the constraints: ``-margin`` is the tie threshold.
    """
    m, k = leader.shape
    f_scale, l_scale = span(follower), span(leader)
    others = [j for j in range(k) if j != column]
    # xᵀ(F_j' − F_j) ≤ −margin for every other column j'.
    A_ub = (follower[:, others] - follower[:, [column]]).T / f_scale
    x = solve_lp(
        -leader[:, column] / l_scale,
        A_ub=A_ub,
        b_ub=np.full(len(others), -margin / f_scale),
        A_eq=np.ones((1, m)),
        b_eq=np.ones(1),
        what=f"commitment (column {column})",
        allow_infeasible=True,
    )
    return None if x is None else clean_distribution(x)


def _max_slack(follower: np.ndarray, column: int) -> tuple[float, np.ndarray | None]:
    """Largest ``s`` with ``xᵀ(F_j − F_j') ≥ s`` for all ``j' ≠ j``, and its maximiser."""
    m, k = follower.shape
    others = [j for j in range(k) if j != column]
    if not others:
        return np.inf, None
    f_scale = span(follower)
    # variables (x, s): minimise −s; s − xᵀ(F_j − F_j')/scale ≤ 0.
    A_ub = np.c_[(follower[:, others] - follower[:, [column]]).T / f_scale, np.ones(len(others))]
    sol = solve_lp(
        np.r_[np.zeros(m), -1.0],
        A_ub=A_ub,
        b_ub=np.zeros(len(others)),
        A_eq=np.r_[np.ones(m), 0.0][None],
        b_eq=np.ones(1),
        bounds=[(0, None)] * m + [(None, None)],
        what=f"max-slack (column {column})",
    )
    x = clean_distribution(sol[:m])
    gaps = x @ follower[:, [column]] - x @ follower[:, others]
    return float(gaps.min()), x


def strong_stackelberg(
    leader_payoffs, follower_payoffs, tol: float = LP_TOL, tie_tol: float = TIE_TOL
) -> CommitmentResult:
    """Optimal mixed commitment against a best-responding follower (strong SSE).

    Conitzer and Sandholm (2006), "Computing the optimal strategy to commit to": for each
    follower column ``j`` solve ``max_x xᵀL_j`` subject to ``xᵀF_j ≥ xᵀF_j' − τ`` for all
    ``j'`` and ``x ∈ Δ``, with ``τ`` = :func:`tie_threshold` ``(follower_payoffs,
    tie_tol)``; the best feasible column wins. Follower ties are broken **in the leader's
    favour** (strong Stackelberg equilibrium): the optimum usually sits on the follower's
    indifference boundary, which a learning follower does not resolve for the leader; see
    :func:`robust_commitment` for a strategy with a strict margin.

    Args:
        leader_payoffs: ``[m, k]`` leader utilities.
        follower_payoffs: ``[m, k]`` follower utilities.
        tol: Re-check tolerance (solver slack), relative to each payoff range.
        tie_tol: Follower tie tolerance, relative to the follower's payoff range.

    Returns:
        A :class:`CommitmentResult`; ``per_action_values[j]`` is ``-inf`` for columns that
        no mixed strategy makes a best response.

    Raises:
        TypeError: If a matrix is not numeric (bools and strings included) or a tolerance
            is not a real number.
        ValueError: If the matrices are malformed or of different shapes, or a tolerance
            is negative or not finite.
        RuntimeError: If HiGHS fails or the re-check fails (never because of the input).

    Example:
        >>> result = strong_stackelberg([[1, 3], [0, 2]], [[1, 0], [0, 1]])
        >>> round(result.leader_value, 9), result.leader_strategy.round(6).tolist()
        (2.5, [0.5, 0.5])
    """
    leader, follower = _pair(leader_payoffs, follower_payoffs)
    tol = check_tol(tol)
    threshold = _threshold(follower, tie_tol, "tie_tol")
    k = leader.shape[1]
    per_action = np.full(k, -np.inf)
    strategies: list[np.ndarray | None] = [None] * k
    for j in range(k):
        x = _column_lp(leader, follower, j, -threshold)
        if x is not None:
            strategies[j] = x
            per_action[j] = float(x @ leader[:, j])
    action = int(np.argmax(per_action))
    x = strategies[action]
    if x is None:  # impossible: some column is a best response to every x
        raise RuntimeError("every commitment LP was infeasible; HiGHS misreported status")
    value = _verify_strong(leader, follower, x, action, threshold, tol, "strong Stackelberg")
    return CommitmentResult(
        leader_value=value,
        leader_strategy=_readonly(x),
        follower_action=action,
        follower_value=float(x @ follower[:, action]),
        per_action_values=_readonly(per_action),
    )


def _robust_column(
    leader: np.ndarray, follower: np.ndarray, j: int, margin: float, sse_value: float
) -> tuple[float, tuple[np.ndarray, float] | None]:
    """Column ``j``'s max slack, and its robust commitment with its cost bound.

    The pair is ``None`` when the slack does not reach ``margin`` (see
    :func:`robust_commitment` for the bound).
    """
    slack, centre = _max_slack(follower, j)
    if slack < margin:
        return slack, None
    exact = _column_lp(leader, follower, j, 0.0)
    if exact is None:
        raise RuntimeError(
            f"commitment LP for column {j} infeasible although its max slack is {slack}"
        )
    v_j = float(exact @ leader[:, j])
    if centre is None:  # single follower action: nothing to separate
        loss_bound = sse_value - v_j
    else:
        loss_bound = sse_value - v_j + (margin / slack) * (v_j - centre @ leader[:, j])
    x = _column_lp(leader, follower, j, margin)
    if x is None:
        raise RuntimeError(
            f"robust commitment LP for column {j} infeasible at margin {margin} although "
            f"its max slack is {slack}"
        )
    return slack, (x, float(loss_bound))


def robust_commitment(
    leader_payoffs,
    follower_payoffs,
    margin: float,
    tol: float = LP_TOL,
    tie_tol: float = TIE_TOL,
) -> RobustCommitmentResult:
    """Best commitment that makes the follower's response unique by ``margin``.

    Solves, for each column ``j``, the commitment LP with strict constraints
    ``xᵀ(F_j − F_j') ≥ margin`` for all ``j' ≠ j``, and returns the best. The follower
    then prefers ``j`` by at least ``margin`` to any other column, so no tie-breaking is
    needed: a no-regret follower with average external regret ``ρ`` plays columns other
    than ``j`` in at most a ``ρ / margin`` fraction of rounds, and the leader's average
    payoff approaches ``leader_value`` (up to ``range(L) · ρ / margin``).

    **Cost bound.** For a column ``j`` with commitment value ``V_j`` (reached at ``x_j``),
    let ``s_j`` be the largest margin any strategy gives ``j`` (the max-slack LP, at
    ``c_j``; ``V_j`` is taken without the tie threshold here, so it can be a hair below
    ``per_action_values[j]`` of :func:`strong_stackelberg`). If ``margin ≤ s_j``, the mix
    ``(1 − λ) x_j + λ c_j`` with ``λ = margin / s_j`` has margin ``≥ margin`` and leader
    value ``≥ V_j − λ (V_j − c_jᵀL_j)``. Hence::

        V_SSE − leader_value ≤ min_{j: s_j ≥ margin} [V_SSE − V_j + (margin/s_j)(V_j − c_jᵀL_j)],

    which is ``value_loss_bound``, linear in ``margin`` for the SSE column and 0 at
    ``margin = 0``. Columns with ``s_j ≤ 0`` (weakly dominated, duplicated) can never be
    made strict.

    Args:
        leader_payoffs: ``[m, k]`` leader utilities.
        follower_payoffs: ``[m, k]`` follower utilities.
        margin: The required advantage of the follower's response, in follower utility
            (``≥ 0``; ``0`` returns the strong SSE of :func:`strong_stackelberg`, on the
            knife edge, where ``follower_advantage`` can be as low as minus the tie
            threshold).
        tol: Re-check tolerance (solver slack), relative to each payoff range.
        tie_tol: Follower tie tolerance of the strong Stackelberg value ``sse_value``,
            relative to the follower's payoff range.

    Returns:
        A :class:`RobustCommitmentResult`.

    Raises:
        TypeError: If a matrix is not numeric, or ``margin`` or a tolerance is not a real
            number (bools included).
        ValueError: If the matrices are malformed, ``margin`` is negative or not finite, or
            no column can be made strict by ``margin`` (the message gives the largest
            feasible one).
        RuntimeError: If HiGHS fails or a re-check fails.

    Example:
        >>> L, F = [[1, 3], [0, 2]], [[1, 0], [0, 1]]
        >>> result = robust_commitment(L, F, margin=0.1)
        >>> round(result.leader_value, 6), round(result.value_loss_bound, 6)
        (2.45, 0.05)
    """
    leader, follower = _pair(leader_payoffs, follower_payoffs)
    tol = check_tol(tol)
    margin = check_tol(margin, "margin")
    sse = strong_stackelberg(leader, follower, tol, tie_tol)
    k = leader.shape[1]
    f_scale, l_scale = span(follower), span(leader)
    others = [j for j in range(k) if j != sse.follower_action]
    if margin == 0:  # the strong SSE itself, ties within the tie threshold
        x, j = sse.leader_strategy, sse.follower_action
        values = x @ follower
        return RobustCommitmentResult(
            leader_value=sse.leader_value,
            leader_strategy=sse.leader_strategy,
            follower_action=j,
            margin=0.0,
            follower_advantage=float((values[j] - values[others]).min()) if others else np.inf,
            sse_value=sse.leader_value,
            value_loss=0.0,
            value_loss_bound=0.0,
        )
    best_value, best_x, best_action = -np.inf, None, -1
    loss_bounds = np.full(k, np.inf)
    slacks = np.full(k, -np.inf)
    for j in range(k):
        if not np.isfinite(sse.per_action_values[j]):
            continue
        slacks[j], column = _robust_column(leader, follower, j, margin, sse.leader_value)
        if column is None:
            continue
        x, loss_bounds[j] = column
        value = float(x @ leader[:, j])
        if value > best_value:
            best_value, best_x, best_action = value, x, j
    if best_x is None:
        raise ValueError(
            f"no follower action can be made a strict best response by margin {margin}; the "
            f"largest attainable margin is {slacks.max():.6g}"
        )
    others = [j for j in range(k) if j != best_action]
    advantage = (
        float((best_x @ follower[:, best_action] - best_x @ follower[:, others]).min())
        if others
        else np.inf
    )
    if advantage < margin - tol * f_scale:
        raise RuntimeError(
            f"robust commitment re-check failed: follower advantage {advantage:.9g} is below "
            f"the margin {margin}"
        )
    bound = float(loss_bounds.min())
    loss = sse.leader_value - best_value
    if loss > bound + tol * l_scale:
        raise RuntimeError(
            f"robust commitment re-check failed: value loss {loss:.9g} exceeds its bound "
            f"{bound:.9g}"
        )
    return RobustCommitmentResult(
        leader_value=best_value,
        leader_strategy=_readonly(best_x),
        follower_action=best_action,
        margin=margin,
        follower_advantage=advantage,
        sse_value=sse.leader_value,
        value_loss=loss,
        value_loss_bound=max(bound, 0.0),
    )


def correlated_commitment(
    game_or_leader_payoffs,
    follower_payoffs=None,
    coarse: bool = False,
    leader: int = 0,
    tol: float = LP_TOL,
) -> LPResult:
    """Commitment to a correlated strategy (Conitzer and Korzhyk 2011), and its coarse bound.

    One LP over joint distributions ``p(a)``: maximise the leader's expected utility
    subject to obedience constraints for the followers only (the leader is committed).
    With ``coarse=False`` these are the CE (swap) constraints; in two-player games the value
    equals the strong Stackelberg value ``V_SSE`` (each conditional ``p(· | j)`` is feasible
    for column ``j``'s commitment LP). With ``coarse=True`` they are the CCE (fixed
    deviation) constraints: the value ``V_CCE-commit ≥ V_SSE`` is an upper bound on what a
    leader can average against a no-external-regret follower (it can be strictly larger).

    Args:
        game_or_leader_payoffs: A :class:`NormalFormGame` (``n ≥ 2`` players; ``leader``
            names the committed player, the others are followers), or the leader's
            ``[m, k]`` matrix when ``follower_payoffs`` is given.
        follower_payoffs: ``[m, k]`` follower utilities (only with a leader matrix).
        coarse: Coarse (CCE) follower constraints instead of CE ones.
        leader: The leader's player index in a :class:`NormalFormGame`.
        tol: Re-check tolerance, relative to each payoff range.

    Returns:
        An :class:`LPResult`: ``mu`` over joint actions, ``value`` the leader's expected
        utility, ``gaps`` the followers' recomputed CE (or raw CCE) gaps, ``nan`` for the
        leader.

    Raises:
        TypeError: If a game and a follower matrix are both given, or neither is a game
            nor a matrix; if ``coarse`` is not a bool or ``leader`` is a bool.
        ValueError: On malformed matrices, a bad ``leader`` index or ``tol``.
        RuntimeError: If HiGHS fails or the re-check fails.

    Example:
        >>> L = [[0, 3, 0], [2, 2, 0]]
        >>> F = [[3, 2, 1], [0, 0, 2]]
        >>> round(correlated_commitment(L, F, coarse=True).value, 6)
        2.0
    """
    tol = check_tol(tol)
    if not isinstance(coarse, (bool, np.bool_)):
        raise TypeError(f"coarse must be a bool, got {coarse!r}")
    if isinstance(leader, (bool, np.bool_)):
        raise TypeError(f"leader must be a player index (an int), got {leader!r}")
    if isinstance(game_or_leader_payoffs, NormalFormGame):
        if follower_payoffs is not None:
            raise TypeError("give either a NormalFormGame or two matrices, not a game and a matrix")
        game = game_or_leader_payoffs
    else:
        if follower_payoffs is None:
            raise TypeError(
                f"expected a NormalFormGame or a leader matrix with follower_payoffs, got "
                f"{type(game_or_leader_payoffs).__name__} alone"
            )
        game = bimatrix(*_pair(game_or_leader_payoffs, follower_payoffs))
    if game.n_players < 2:
        raise ValueError(f"commitment needs at least 2 players, got {game.n_players}")
    if not isinstance(leader, (int, np.integer)) or not 0 <= leader < game.n_players:
        raise ValueError(f"leader must be a player index in [0, {game.n_players}), got {leader!r}")
    followers = [i for i in range(game.n_players) if i != leader]
    return correlated_lp(
        game,
        game.payoffs[leader],
        players=followers,
        coarse=coarse,
        sense="max",
        eps=np.zeros(game.n_players),
        tol=tol,
        what="CCE-commitment" if coarse else "CE-commitment",
    )


# ----------------------------------------------------------------------------- Bayesian


def _type_matrices(name: str, value) -> list[np.ndarray]:
    if isinstance(value, np.ndarray) and value.ndim == 3:
        value = list(value)
    if not isinstance(value, (Sequence, np.ndarray)) or isinstance(value, str):
        raise TypeError(
            f"{name} must be a sequence of [m, k_t] matrices, got {type(value).__name__}"
        )
    matrices = [_matrix(f"{name}[{t}]", v) for t, v in enumerate(value)]
    if not matrices:
        raise ValueError(f"{name} must hold at least one type's matrix, got none")
    return matrices


def _bayesian_inputs(leader_payoffs, follower_payoffs, type_probs):
    leaders = _type_matrices("leader_payoffs", leader_payoffs)
    followers = _type_matrices("follower_payoffs", follower_payoffs)
    if len(leaders) != len(followers):
        raise ValueError(
            f"leader_payoffs and follower_payoffs must have one matrix per type, got "
            f"{len(leaders)} and {len(followers)}"
        )
    for t, (lead, follow) in enumerate(zip(leaders, followers, strict=True)):
        if lead.shape != follow.shape:
            raise ValueError(
                f"type {t}: leader and follower matrices must have the same shape, got "
                f"{lead.shape} and {follow.shape}"
            )
        if lead.shape[0] != leaders[0].shape[0]:
            raise ValueError(
                f"every type's matrices must have the leader's {leaders[0].shape[0]} rows, "
                f"type {t} has {lead.shape[0]}"
            )
    probs = check_distribution("type_probs", type_probs, (len(leaders),))
    probs = np.clip(probs, 0.0, None)
    return leaders, followers, probs / probs.sum()


def _profile_lp(leaders, followers, probs, profile, tie_tol: float) -> np.ndarray | None:
    """Best ``x`` against the response profile ``(j_t)``, each a best response (or None).

    Type ``t``'s response must be within its tie threshold ``tie_tol · range(F_t)`` of its
    best (the rows are divided by the range, so the right-hand side is ``tie_tol``).
    """
    m = leaders[0].shape[0]
    l_scale = span(np.concatenate([lead.ravel() for lead in leaders]))
    objective = sum(p * lead[:, j] for p, lead, j in zip(probs, leaders, profile, strict=True))
    rows = []
    for follow, j in zip(followers, profile, strict=True):
        others = [c for c in range(follow.shape[1]) if c != j]
        rows.append((follow[:, others] - follow[:, [j]]).T / span(follow))
    A_ub = np.concatenate(rows) if rows else np.zeros((0, m))
    x = solve_lp(
        -objective / l_scale,
        A_ub=A_ub,
        b_ub=np.full(A_ub.shape[0], tie_tol),
        A_eq=np.ones((1, m)),
        b_eq=np.ones(1),
        what=f"Bayesian commitment (responses {tuple(profile)})",
        allow_infeasible=True,
    )
    return None if x is None else clean_distribution(x)


def _enumerate_profiles(leaders, followers, probs, max_profiles: int, tie_tol: float):
    """Best response profile by exhaustive search, pruned by a valid upper bound."""
    sizes = [lead.shape[1] for lead in leaders]
    n_profiles = int(np.prod(sizes, dtype=np.float64))
    if n_profiles > max_profiles:
        raise ValueError(
            f"enumeration would solve {n_profiles} LPs (follower actions per type {sizes}), "
            f"more than max_profiles = {max_profiles}; use method='dobss'"
        )
    # Per type and column, the single-type commitment value V_t(j) (None: j is a best
    # response to no strategy, so it is in no feasible profile). A profile's LP has the
    # intersection of the types' regions as feasible set, so Σ_t π_t V_t(j_t) bounds it.
    single = []
    for lead, follow in zip(leaders, followers, strict=True):
        values = {}
        for j in range(follow.shape[1]):
            x = _column_lp(lead, follow, j, -tie_tol * span(follow))
            if x is not None:
                values[j] = float(x @ lead[:, j])
        single.append(values)
    profiles = list(itertools.product(*(sorted(values) for values in single)))
    bounds = np.array(
        [
            sum(p * values[j] for p, values, j in zip(probs, single, prof, strict=True))
            for prof in profiles
        ]
    )
    order = np.argsort(-bounds, kind="stable")
    best_value, best = -np.inf, None
    slack = 1e-9 * span(np.concatenate([lead.ravel() for lead in leaders]))
    for index in order:
        if bounds[index] < best_value - slack:
            break
        profile = profiles[index]
        x = _profile_lp(leaders, followers, probs, profile, tie_tol)
        if x is None:
            continue
        value = float(
            sum(p * x @ lead[:, j] for p, lead, j in zip(probs, leaders, profile, strict=True))
        )
        if value > best_value:
            best_value, best = value, (profile, x)
    if best is None:  # impossible: the best responses to any x form a feasible profile
        raise RuntimeError("every Bayesian commitment LP was infeasible; HiGHS misreported status")
    return best


def _dobss(leaders, followers, probs, tie_tol: float):
    """DOBSS (Paruchuri et al. 2008) MILP.

    Returns ``(profile, x, bound)``: the response profile and leader strategy the MILP
    chose, and its objective (the leader's value), an upper bound on the optimum up to the
    MILP's gap. HiGHS accepts MILP constraints violated by up to about 1e-6 (relative to
    the follower's range here), so the profile can be one that no strategy supports
    exactly: the caller certifies it with an LP.
    """
    m = leaders[0].shape[0]
    l_scale = span(np.concatenate([lead.ravel() for lead in leaders]))
    # Variable layout: x[m], then per type t: z_t[m, k_t], q_t[k_t], a_t.
    offsets, n_vars = [], m
    for lead in leaders:
        k = lead.shape[1]
        offsets.append((n_vars, n_vars + m * k, n_vars + m * k + k))  # z, q, a
        n_vars += m * k + k + 1
    c = np.zeros(n_vars)
    lower, upper = np.zeros(n_vars), np.ones(n_vars)
    integrality = np.zeros(n_vars)
    eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []

    def row() -> np.ndarray:
        return np.zeros(n_vars)

    r = row()
    r[:m] = 1.0
    eq_rows.append(r)
    eq_rhs.append(1.0)
    for p, lead, follow, (z0, q0, a0) in zip(probs, leaders, followers, offsets, strict=True):
        k = lead.shape[1]
        f_low, f_scale = float(follow.min()), span(follow)
        scaled = (follow - f_low) / f_scale  # in [0, 1], so M = 1 suffices; use 2
        big_m = 2.0
        c[z0 : z0 + m * k] = -p * (lead / l_scale).ravel()
        integrality[q0 : q0 + k] = 1
        lower[a0], upper[a0] = -np.inf, np.inf
        for i in range(m):  # Σ_j z_t[i, j] = x_i
            r = row()
            r[z0 + i * k : z0 + (i + 1) * k] = 1.0
            r[i] = -1.0
            eq_rows.append(r)
            eq_rhs.append(0.0)
        r = row()  # Σ_j q_t[j] = 1
        r[q0 : q0 + k] = 1.0
        eq_rows.append(r)
        eq_rhs.append(1.0)
        for j in range(k):
            r = row()  # q_t[j] − Σ_i z_t[i, j] ≤ 0
            r[q0 + j] = 1.0
            r[z0 + j : z0 + m * k : k] = -1.0
            ub_rows.append(r)
            ub_rhs.append(0.0)
            r = row()  # xᵀF_j − a_t ≤ 0  (a_t is the best response value)
            r[:m] = scaled[:, j]
            r[a0] = -1.0
            ub_rows.append(r)
            ub_rhs.append(0.0)
            r = row()  # a_t − xᵀF_j + M q_t[j] ≤ M + τ  (the chosen j is a best response)
            r[:m] = -scaled[:, j]
            r[a0] = 1.0
            r[q0 + j] = big_m
            ub_rows.append(r)
            ub_rhs.append(big_m + tie_tol)
    constraints = [
        LinearConstraint(np.array(eq_rows), np.array(eq_rhs), np.array(eq_rhs)),
        LinearConstraint(np.array(ub_rows), -np.inf, np.array(ub_rhs)),
    ]
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(lower, upper),
        constraints=constraints,
        options={"mip_rel_gap": 1e-10},
    )
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"HiGHS failed on the DOBSS MILP: status {res.status}, {res.message}")
    profile = tuple(
        int(np.argmax(res.x[q0 : q0 + lead.shape[1]]))
        for lead, (_, q0, _) in zip(leaders, offsets, strict=True)
    )
    return profile, clean_distribution(res.x[:m]), -float(res.fun) * l_scale


def _profile_value(leaders, probs, profile, x: np.ndarray) -> float:
    """The leader's expected value of ``x`` against the response profile."""
    pairs = zip(probs, leaders, profile, strict=True)
    return float(sum(p * x @ lead[:, j] for p, lead, j in pairs))


def _strong_profile(leaders, followers, probs, profile, x, thresholds) -> tuple[int, ...]:
    """Each type's response at ``x`` after the strong tie-break.

    A type of probability 0 does not move the objective, so the solver's choice for it is
    arbitrary among its best responses: it gets the leader's favourite one. A type of
    positive probability switches to a column within half its tie threshold (strictly
    inside the feasible set of the switched profile's LP) that gives the leader more, if
    any: the objective weighs types by their probabilities and HiGHS solves it to a
    relative precision, so a gain for a rare type, or one small against another type's
    payoffs, can be left on the table.
    """
    strong = []
    for p, lead, follow, j, threshold in zip(
        probs, leaders, followers, profile, thresholds, strict=True
    ):
        if p == 0:
            strong.append(_leader_favourite(lead, follow, x, threshold))
            continue
        candidates = sorted({int(c) for c in _ties(follow, x, threshold / 2)} | {j})
        best = max(candidates, key=lambda c: float(x @ lead[:, c]))
        strong.append(best if float(x @ lead[:, best]) > float(x @ lead[:, j]) else j)
    return tuple(strong)


def _strong_answer(leaders, followers, probs, profile, x, tie_tol: float):
    """The strong tie-break at ``x``, then the LP of a switched profile (it can only gain).

    Repeated at most a few times; returns ``(profile, x)`` with the profile strong at ``x``.
    """
    thresholds = [tie_tol * span(follow) for follow in followers]
    strong = _strong_profile(leaders, followers, probs, profile, x, thresholds)
    for _ in range(5):
        if strong == profile:
            break
        profile = strong
        better = _profile_lp(leaders, followers, probs, profile, tie_tol)
        if better is None or _profile_value(leaders, probs, profile, better) <= _profile_value(
            leaders, probs, profile, x
        ):
            break
        x = better
        strong = _strong_profile(leaders, followers, probs, profile, x, thresholds)
    return strong, x


def _certified_dobss(leaders, followers, probs, tie_tol: float, tol: float):
    """DOBSS's answer, certified optimal by an LP; ``None`` when it cannot be certified.

    The MILP objective bounds the optimum from above. The LP of the MILP's profile, or
    failing that the LP of the leader's favourite best responses to the MILP's strategy
    (feasible by construction), is accepted if it reaches that bound within
    ``tol · range(L)``.
    """
    profile, x_milp, bound = _dobss(leaders, followers, probs, tie_tol)
    slack = tol * span(np.concatenate([lead.ravel() for lead in leaders]))
    favourite = tuple(
        _leader_favourite(lead, follow, x_milp, tie_tol * span(follow))
        for lead, follow in zip(leaders, followers, strict=True)
    )
    for candidate in dict.fromkeys((profile, favourite)):
        x = _profile_lp(leaders, followers, probs, candidate, tie_tol)
        if x is not None and _profile_value(leaders, probs, candidate, x) >= bound - slack:
            return candidate, x
    return None


def bayesian_stackelberg(
    leader_payoffs,
    follower_payoffs,
    type_probs,
    method: str = "dobss",
    tol: float = LP_TOL,
    max_profiles: int = MAX_PROFILES,
    tie_tol: float = TIE_TOL,
) -> BayesianCommitmentResult:
    """Optimal mixed commitment against a follower with private types (Bayesian strong SSE).

    The follower's type ``t`` is drawn with probability ``π_t``; it observes the leader's
    mixed strategy and best-responds with its own payoffs, ties broken in the leader's
    favour. Computing this is NP-hard in general (Conitzer and Sandholm 2006). Two exact
    methods:

    * ``"dobss"``: the DOBSS mixed-integer program of Paruchuri et al. (2008), solved by
      HiGHS through ``scipy.optimize.milp``, with big-M from the (rescaled) payoff range;
      it selects the optimal response profile. HiGHS solves MILPs to a feasibility
      tolerance of about 1e-6, coarser than the tie threshold, so on games with near ties
      (follower payoffs spanning many orders of magnitude) the MILP's profile may not be
      supported by any strategy. The answer is therefore certified: the LP of the chosen
      profile (or of the leader's favourite best responses to the MILP's strategy) must
      reach the MILP's objective within ``tol``. When neither does, the enumeration below
      answers instead (``method`` then reads ``"enumerate"``), so both methods agree.
    * ``"enumerate"``: one LP per response profile ``(j_t)_t`` (at most ``Π_t k_t`` of them),
      visited by decreasing upper bound ``Σ_t π_t V_t(j_t)`` (``V_t(j)``: the single-type
      commitment value of column ``j``) and stopped once the bound falls below the best
      value found; an oracle for small games.

    In both cases the leader strategy is the (high-precision) LP solution for the chosen
    profile, then re-verified: every type's response is a best response within its tie
    threshold (``tie_tol`` times the range of that type's follower matrix, the rule of
    :func:`tie_threshold`) and no other best response of that type gives the leader more.

    Args:
        leader_payoffs: ``K`` leader matrices ``[m, k_t]`` (or an array ``[K, m, k]``).
        follower_payoffs: ``K`` follower matrices of the same shapes.
        type_probs: ``[K]`` the prior over types.
        method: ``"dobss"`` or ``"enumerate"``.
        tol: Re-check tolerance (solver slack), relative to each payoff range.
        max_profiles: Largest number of response profiles ``"enumerate"`` accepts (also
            when it stands in for an uncertified DOBSS answer).
        tie_tol: Follower tie tolerance, relative to each type's follower payoff range.

    Returns:
        A :class:`BayesianCommitmentResult`.

    Raises:
        TypeError: If the payoffs are not sequences of numeric matrices, or a tolerance
            or ``max_profiles`` has the wrong type (bools included).
        ValueError: On malformed or mismatched matrices, type probabilities that are
            negative or do not sum to 1, an unknown method, a negative or non-finite
            tolerance, or too many profiles for ``"enumerate"``.
        RuntimeError: If HiGHS fails, the re-check fails, or DOBSS's answer cannot be
            certified and the game has more than ``max_profiles`` response profiles.

    Example:
        >>> L = [[[1, 3], [0, 2]]]
        >>> F = [[[1, 0], [0, 1]]]
        >>> round(bayesian_stackelberg(L, F, [1.0]).leader_value, 9)
        2.5
    """
    leaders, followers, probs = _bayesian_inputs(leader_payoffs, follower_payoffs, type_probs)
    tol = check_tol(tol)
    tie_tol = check_tol(tie_tol, "tie_tol")
    if isinstance(max_profiles, (bool, np.bool_)) or not isinstance(
        max_profiles, (int, np.integer)
    ):
        raise TypeError(f"max_profiles must be a positive integer, got {max_profiles!r}")
    if max_profiles < 1:
        raise ValueError(f"max_profiles must be a positive integer, got {max_profiles!r}")
    if method not in ("dobss", "enumerate"):
        raise ValueError(f"method must be 'dobss' or 'enumerate', got {method!r}")
    answer = None
    if method == "dobss":
        answer = _certified_dobss(leaders, followers, probs, tie_tol, tol)
    used = method if answer is not None else "enumerate"
    if answer is None:
        try:
            answer = _enumerate_profiles(leaders, followers, probs, int(max_profiles), tie_tol)
        except ValueError as error:
            if method == "enumerate":
                raise
            raise RuntimeError(
                f"HiGHS's DOBSS answer could not be certified by an LP and the enumeration "
                f"that would replace it is too large: {error}"
            ) from error
    profile, x = answer
    thresholds = [tie_tol * span(follow) for follow in followers]
    profile, x = _strong_answer(leaders, followers, probs, profile, x, tie_tol)
    per_type = np.array(
        [
            _verify_strong(lead, follow, x, j, threshold, tol, f"Bayesian Stackelberg (type {t})")
            for t, (lead, follow, j, threshold) in enumerate(
                zip(leaders, followers, profile, thresholds, strict=True)
            )
        ]
    )
    follower_values = np.array(
        [x @ follow[:, j] for follow, j in zip(followers, profile, strict=True)]
    )
    return BayesianCommitmentResult(
        leader_value=float(probs @ per_type),
        leader_strategy=_readonly(x),
        follower_actions=tuple(int(j) for j in profile),
        follower_values=_readonly(follower_values),
        per_type_leader_values=_readonly(per_type),
        method=used,
    )
