"""Linear programs over correlated distributions: optimal (C)CE, coarse Bayes-correlated, zero-sum.

Every LP is solved by HiGHS through ``scipy.optimize.linprog`` and its answer is then
re-checked with plain numpy, through the gap functions of :mod:`.gaps` (written
independently of the constraint matrices built here). A re-check that fails beyond the
tolerance raises :class:`RuntimeError` naming the gap: that is a solver failure, never a
property of the input. A solver status other than success also raises :class:`RuntimeError`
(with ``eps >= 0`` the LPs here are always feasible, because a Nash equilibrium, or a
Bayes-Nash equilibrium, satisfies every constraint), so a returned :class:`LPResult` is
always an optimal, verified answer.

Formulations (research notes, section 5.1 and 5.6):

* ε-CCE: ``Σ_a μ(a) [u_i(b, a_-i) − u_i(a)] ≤ ε_i`` for every player ``i`` and action ``b``.
* ε-CE: ``Σ_{a_-i} μ(r, a_-i) [u_i(b, a_-i) − u_i(r, a_-i)] ≤ ε_i`` for every ``i`` and
  recommended ``r ≠ b``.
* coarse Bayes-correlated: ``μ(θ, a) = p(θ) q(a | θ)`` with the agent-form coarse
  constraints ``h_i(θ_i, b; μ) ≤ ε_i(θ_i) P(θ_i)``.

Numerics: each player's constraint rows are divided by that player's payoff range and the
objective by its own range before solving, so HiGHS works on numbers of order one; the
returned ``mu`` has tiny negative entries clipped to 0 and is renormalised (per type
profile for the Bayesian LP); values are recomputed from the original arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from .games import (
    BayesianGame,
    NormalFormGame,
    as_finite_array,
    check_distribution,
    check_tolerance,
)
from .gaps import bcce_gap, cce_gap, ce_gap

LP_TOL = 1e-7
"""Default tolerance of the re-checks, relative to each payoff range (absolute below 1)."""

_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True)
class LPResult:
    """An optimal, re-verified solution of a correlated-distribution LP.

    Attributes:
        mu: The optimal distribution: ``[A_1, ..., A_n]`` for normal-form LPs,
            ``[T_1, ..., T_n, A_1, ..., A_n]`` (joint over types and actions) for
            :func:`solve_bayes_coarse`.
        value: The objective at ``mu``, recomputed from the arrays.
        status: The solver's message (the result exists only when it succeeded).
        gaps: ``[n_players]`` the recomputed gaps of ``mu`` for the constrained players
            (raw CCE gap, CE gap, or largest interim Bayes gap ``max_θ_i ε_i(θ_i)``);
            ``nan`` for unconstrained players (the leader of a commitment LP).
    """

    mu: np.ndarray
    value: float
    status: str
    gaps: np.ndarray


@dataclass(frozen=True)
class ZeroSumResult:
    """The value and minimax strategies of a two-player zero-sum matrix game.

    Attributes:
        value: The game value ``max_x min_y xᵀAy`` (row player maximises).
        row_strategy: ``[m]`` a maximin strategy of the row player.
        column_strategy: ``[k]`` a minimax strategy of the column player.
        exploitability: The recomputed duality gap
            ``max_i (A y)_i − min_j (xᵀA)_j ≥ 0`` (0 at an exact equilibrium).
    """

    value: float
    row_strategy: np.ndarray
    column_strategy: np.ndarray
    exploitability: float


# ----------------------------------------------------------------------------- helpers


def solve_lp(
    c: np.ndarray,
    *,
    A_ub: np.ndarray | None = None,
    b_ub: np.ndarray | None = None,
    A_eq: np.ndarray | None = None,
    b_eq: np.ndarray | None = None,
    bounds=(0, None),
    what: str,
    allow_infeasible: bool = False,
) -> np.ndarray | None:
    """Minimise ``c @ x`` with HiGHS and return ``x``.

    Args:
        c: ``[n_vars]`` objective (minimised).
        A_ub: ``[rows, n_vars]`` inequality matrix (``A_ub @ x <= b_ub``).
        b_ub: ``[rows]`` inequality right-hand side.
        A_eq: ``[rows, n_vars]`` equality matrix.
        b_eq: ``[rows]`` equality right-hand side.
        bounds: Variable bounds, as ``scipy.optimize.linprog`` takes them.
        what: What the LP is, for error messages.
        allow_infeasible: Return ``None`` on infeasibility instead of raising.

    Returns:
        The solution vector, or ``None`` if the LP is infeasible and ``allow_infeasible``.

    Raises:
        RuntimeError: If HiGHS does not report an optimal solution (and the LP is not an
            allowed infeasible one).
    """
    if A_ub is not None and A_ub.shape[0] == 0:
        A_ub, b_ub = None, None
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs",
        options=_HIGHS_OPTIONS,
    )
    if res.status == 2 and allow_infeasible:
        return None
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the {what} LP: status {res.status}, {res.message}")
    return np.asarray(res.x, dtype=np.float64)


def span(values) -> float:
    """Largest minus smallest entry, or 1.0 if all entries are equal (a safe scale)."""
    values = np.asarray(values)
    width = float(values.max() - values.min()) if values.size else 0.0
    return width if width > 0 else 1.0


def check_scale(values) -> float:
    """The scale that multiplies a tolerance for ``values``: ``max(1, range)``."""
    values = np.asarray(values)
    width = float(values.max() - values.min()) if values.size else 0.0
    return max(1.0, width)


def clean_distribution(x: np.ndarray) -> np.ndarray:
    """Clip tiny negatives of a solver's distribution to 0 and renormalise it to sum 1."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, None)
    total = x.sum()
    if total <= 0:
        raise RuntimeError(f"the solver returned a distribution with total mass {total}")
    return x / total


def coarse_deviation_matrix(utility: np.ndarray, player: int) -> np.ndarray:
    """Coarse (CCE) deviation gains of ``player``: one row per fixed deviation ``b``.

    Args:
        utility: ``[A_1, ..., A_n]`` the player's utilities.
        player: Which axis is the player's own action.

    Returns:
        ``[A_i, Π_j A_j]`` with entry ``[b, a]`` = ``u(b, a_-i) − u(a)`` (``a`` flattened in
        C order), so ``matrix @ mu.ravel()`` is the gain of always playing ``b``.
    """
    own = np.moveaxis(utility, player, 0)
    gains = own[:, None] - own[None, :]  # [b, a_i, a_-i...]
    gains = np.moveaxis(gains, 1, 1 + player)
    return gains.reshape(own.shape[0], -1)


def swap_deviation_matrix(utility: np.ndarray, player: int) -> np.ndarray:
    """Swap (CE) deviation gains of ``player``: one row per pair recommended ``r`` ≠ ``b``.

    Args:
        utility: ``[A_1, ..., A_n]`` the player's utilities.
        player: Which axis is the player's own action.

    Returns:
        ``[A_i (A_i − 1), Π_j A_j]``; the row for ``(r, b)`` (rows ordered by ``r`` then
        ``b``, skipping ``b == r``) has entry ``1[a_i = r] (u(b, a_-i) − u(a))``.
    """
    own = np.moveaxis(utility, player, 0)
    k = own.shape[0]
    gains = own[:, None] - own[None, :]  # [b, a_i, a_-i...]
    indicator = np.eye(k).reshape((k, 1, k) + (1,) * (own.ndim - 1))  # [r, 1, a_i, 1...]
    rows = indicator * gains[None]  # [r, b, a_i, a_-i...]
    rows = np.moveaxis(rows, 2, 2 + player).reshape(k * k, -1)
    keep = ~np.eye(k, dtype=bool).ravel()
    return rows[keep]


def bayes_coarse_deviation_matrix(utility: np.ndarray, player: int, n_players: int) -> np.ndarray:
    """Agent-form coarse deviation gains ``h_i(θ_i, b; ·)`` as rows over ``μ(θ, a)``.

    Args:
        utility: ``[T_1, ..., T_n, A_1, ..., A_n]`` the player's utilities.
        player: The player's index.
        n_players: Number of players ``n``.

    Returns:
        ``[T_i · A_i, Π_j T_j · Π_j A_j]``; the row for ``(t, b)`` (ordered by ``t`` then
        ``b``) has entry ``1[θ_i = t] (u(b, a_-i; θ) − u(a; θ))``.
    """
    n_types = utility.shape[player]
    own = np.moveaxis(utility, n_players + player, 0)  # [A_i, T..., A_-i...]
    k = own.shape[0]
    gains = own[:, None] - own[None, :]  # [b, a_i, T..., A_-i...]
    gains = np.moveaxis(gains, 1, 1 + n_players + player)  # [b, T..., A...]
    shape = [n_types, 1] + [1] * n_players + [1] * n_players
    shape[2 + player] = n_types
    indicator = np.eye(n_types).reshape(shape)  # [t, 1, .., θ_i, .., 1...]
    rows = indicator * gains[None]
    return rows.reshape(n_types * k, -1)


def _objective_array(
    name: str, objective, payoffs: np.ndarray, n_players: int, shape
) -> np.ndarray:
    """Turn player weights ``[n]`` or a full array of ``shape`` into the objective array."""
    objective = as_finite_array(name, objective)
    if objective.shape == (n_players,) and (n_players > 1 or tuple(shape) != (n_players,)):
        return np.tensordot(objective, payoffs, axes=1)
    if objective.shape == tuple(shape):
        return objective
    raise ValueError(
        f"{name} must be player weights of shape ({n_players},) or an array of shape "
        f"{tuple(shape)}, got shape {objective.shape}"
    )


def _sense_sign(sense: str) -> float:
    if sense == "max":
        return -1.0
    if sense == "min":
        return 1.0
    raise ValueError(f"sense must be 'max' or 'min', got {sense!r}")


def _player_eps(eps, n_players: int) -> np.ndarray:
    eps = as_finite_array("eps", eps)
    if eps.ndim == 0:
        eps = np.full(n_players, float(eps))
    if eps.shape != (n_players,):
        raise ValueError(f"eps must be a scalar or have shape ({n_players},), got {eps.shape}")
    if np.any(eps < 0):
        raise ValueError(f"eps must be non-negative, got {eps.tolist()}")
    return eps


def check_tol(tol, name: str = "tol") -> float:
    """Validate a tolerance (see :func:`.games.check_tolerance`), returned as float.

    Raises:
        TypeError: If ``tol`` is a bool or not a real number.
        ValueError: If it is NaN, infinite or negative.
    """
    return check_tolerance(name, tol)


def _check_game(game) -> NormalFormGame:
    if not isinstance(game, NormalFormGame):
        raise TypeError(f"game must be a NormalFormGame, got {type(game).__name__}")
    return game


# ----------------------------------------------------------------------------- (C)CE


def correlated_lp(
    game: NormalFormGame,
    objective: np.ndarray,
    *,
    players,
    coarse: bool,
    sense: str,
    eps: np.ndarray,
    tol: float,
    what: str,
) -> LPResult:
    """Optimise a linear objective over distributions with (C)CE constraints for ``players``.

    The building block of :func:`solve_cce`, :func:`solve_ce` and correlated commitment
    (:func:`.stackelberg.correlated_commitment`, where only the followers are constrained).

    Args:
        game: The game.
        objective: ``[A_1, ..., A_n]`` objective coefficients.
        players: Players whose obedience constraints are imposed (others are free).
        coarse: Coarse (fixed-deviation, CCE) constraints if true, swap (CE) ones if false.
        sense: ``"max"`` or ``"min"``.
        eps: ``[n_players]`` right-hand side of each constraint row of a player: the allowed
            raw CCE gain, or the allowed gain of each single swap ``r -> b`` (CE).
        tol: Re-check tolerance, relative to each player's payoff range.
        what: Name of the LP for messages.

    Returns:
        An :class:`LPResult` (``gaps`` is ``nan`` for unconstrained players).

    Raises:
        ValueError: If ``sense`` is not ``"max"`` or ``"min"``.
        RuntimeError: If HiGHS fails, or a constrained player's recomputed gap
            (:func:`.gaps.cce_gap` raw, or :func:`.gaps.ce_gap` summed over recommendations)
            exceeds its allowance (``eps_i``, or ``A_i · eps_i`` for CE) plus
            ``tol · max(1, range_i)``.
    """
    sign = _sense_sign(sense)
    shape = game.n_actions
    size = int(np.prod(shape))
    players = list(players)
    rows, rhs = [], []
    for i in players:
        scale = span(game.payoffs[i])
        if coarse:
            block = coarse_deviation_matrix(game.payoffs[i], i)
        else:
            block = swap_deviation_matrix(game.payoffs[i], i)
        rows.append(block / scale)
        rhs.append(np.full(block.shape[0], eps[i] / scale))
    A_ub = np.concatenate(rows) if rows else np.zeros((0, size))
    b_ub = np.concatenate(rhs) if rhs else np.zeros(0)
    flat = objective.ravel()
    x = solve_lp(
        sign * flat / span(flat),
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=np.ones((1, size)),
        b_eq=np.ones(1),
        what=what,
    )
    mu = clean_distribution(x).reshape(shape)
    report = (cce_gap if coarse else ce_gap)(game, mu)
    gaps = np.full(game.n_players, np.nan)
    for i in players:
        gaps[i] = report.raw[i]
        allowance = eps[i] if coarse else eps[i] * game.n_actions[i]
        limit = allowance + tol * check_scale(game.payoffs[i])
        if report.raw[i] > limit:
            name = "CCE" if coarse else "CE"
            raise RuntimeError(
                f"{what} LP re-check failed: player {i}'s recomputed {name} gap "
                f"{report.raw[i]:.3e} exceeds its allowance plus tol, {limit:.3e}"
            )
    gaps.setflags(write=False)
    mu.setflags(write=False)
    return LPResult(mu=mu, value=float(np.vdot(objective, mu)), status="optimal", gaps=gaps)


def solve_cce(
    game: NormalFormGame, objective, sense: str = "max", eps=0.0, tol: float = LP_TOL
) -> LPResult:
    """Best (or worst) ε-coarse correlated equilibrium for a linear objective.

    Args:
        game: A normal-form game with ``n`` players.
        objective: Player weights ``[n]`` (objective ``Σ_i w_i u_i(a)``; all ones gives
            welfare) or an array ``[A_1, ..., A_n]`` of per-profile values. In a
            one-player game with one action a length-1 vector is read as that array.
        sense: ``"max"`` or ``"min"``.
        eps: Allowed raw CCE gap, a scalar or ``[n]``, non-negative.
        tol: Re-check tolerance, relative to each player's payoff range.

    Returns:
        An :class:`LPResult` whose ``mu`` has every player's recomputed raw CCE gap
        ``≤ eps_i + tol · max(1, range_i)``. Optimal sets are often faces: the value is
        unique, the distribution need not be.

    Raises:
        TypeError: If ``game`` is not a :class:`NormalFormGame`.
        ValueError: On a malformed objective, sense, eps or tol.
        RuntimeError: If HiGHS fails or the re-check fails.

    Example:
        >>> chicken = NormalFormGame([[[0, 7], [2, 6]], [[0, 2], [7, 6]]])
        >>> round(solve_cce(chicken, [1, 1], sense="min").value, 6)
        7.2
    """
    game = _check_game(game)
    tol = check_tol(tol)
    objective = _objective_array(
        "objective", objective, game.payoffs, game.n_players, game.n_actions
    )
    eps = _player_eps(eps, game.n_players)
    players = range(game.n_players)
    return correlated_lp(
        game, objective, players=players, coarse=True, sense=sense, eps=eps, tol=tol, what="CCE"
    )


def solve_ce(
    game: NormalFormGame, objective, sense: str = "max", eps=0.0, tol: float = LP_TOL
) -> LPResult:
    """Best (or worst) ε-correlated equilibrium for a linear objective.

    Each swap constraint ``Σ_{a_-i} μ(r, a_-i)[u_i(b, a_-i) − u_i(r, a_-i)] ≤ eps_i`` is
    imposed for every recommendation ``r`` and replacement ``b``. The gap reported by
    :func:`.gaps.ce_gap` sums the best swap over recommendations, so it is then at most
    ``A_i · eps_i``; conversely every ``μ`` whose CE gap is ``≤ eps_i`` is feasible. With
    ``eps = 0`` both are exactly the CE conditions.

    Args:
        game: A normal-form game.
        objective: Player weights ``[n]`` or an array ``[A_1, ..., A_n]``.
        sense: ``"max"`` or ``"min"``.
        eps: Allowed gain of each single swap, scalar or ``[n]``, non-negative.
        tol: Re-check tolerance, relative to each player's payoff range.

    Returns:
        An :class:`LPResult` with the recomputed CE gaps.

    Raises:
        TypeError: If ``game`` is not a :class:`NormalFormGame`.
        ValueError: On a malformed objective, sense, eps or tol.
        RuntimeError: If HiGHS fails or the re-check fails.

    Example:
        >>> chicken = NormalFormGame([[[0, 7], [2, 6]], [[0, 2], [7, 6]]])
        >>> round(solve_ce(chicken, [1, 1]).value, 6)
        10.5
    """
    game = _check_game(game)
    tol = check_tol(tol)
    objective = _objective_array(
        "objective", objective, game.payoffs, game.n_players, game.n_actions
    )
    eps = _player_eps(eps, game.n_players)
    players = range(game.n_players)
    return correlated_lp(
        game, objective, players=players, coarse=False, sense=sense, eps=eps, tol=tol, what="CE"
    )


# ----------------------------------------------------------------------------- Bayesian


def _type_eps(eps, n_types: tuple[int, ...]) -> list[np.ndarray]:
    """Per player ``[T_i]`` interim allowances from a scalar, ``[n]`` or per-type arrays."""
    n = len(n_types)
    if isinstance(eps, (list, tuple)) and len(eps) == n and any(np.ndim(e) == 1 for e in eps):
        out = []
        for i, e in enumerate(eps):
            e = as_finite_array(f"eps[{i}]", e)
            if e.ndim == 0:
                e = np.full(n_types[i], float(e))
            if e.shape != (n_types[i],):
                raise ValueError(f"eps[{i}] must have shape ({n_types[i]},), got {e.shape}")
            out.append(e)
    else:
        out = [np.full(n_types[i], e) for i, e in enumerate(_player_eps(eps, n))]
    for i, e in enumerate(out):
        if np.any(e < 0):
            raise ValueError(f"eps must be non-negative, got {e.tolist()} for player {i}")
    return out


def solve_bayes_coarse(
    bgame: BayesianGame,
    objective,
    sense: str = "max",
    eps=0.0,
    type_marginal=None,
    tol: float = LP_TOL,
) -> LPResult:
    """Best (or worst) coarse Bayes-correlated distribution ``μ(θ, a) = p(θ) q(a | θ)``.

    The mediator sees the type profile; every agent ``(i, θ_i)`` has the coarse
    (fixed-deviation) constraints of the agent form, in interim units::

        h_i(θ_i, b; μ) ≤ eps_i(θ_i) · P(θ_i)   for all i, θ_i, b,

    with ``h`` as in :func:`.gaps.deviation_table`. This set contains every distribution
    that type-independent no-regret dynamics can reach, so the optimum bounds the designer's
    value against (ε-)BCCE followers from above (``sense="max"``) or below (``"min"``).

    Args:
        bgame: The followers' Bayesian game.
        objective: Player weights ``[n]`` (``Σ_i w_i u_i(a; θ)``) or an array
            ``[T_1, ..., T_n, A_1, ..., A_n]`` (e.g. the designer's utility ``w(θ, a)``).
        sense: ``"max"`` or ``"min"``.
        eps: Interim allowance: a scalar, ``[n]``, or a list of ``n`` arrays ``[T_i]``;
            non-negative. A distribution whose :func:`.gaps.bcce_gap` ``interim`` entries
            are all ``≤ eps`` is feasible.
        type_marginal: ``[T_1, ..., T_n]`` the type distribution ``μ`` must have, e.g. the
            empirical type frequency of sampled play; the prior when ``None``.
        tol: Re-check tolerance, relative to each player's payoff range.

    Returns:
        An :class:`LPResult` whose ``mu`` is ``[T..., A...]`` with type marginal exactly
        ``type_marginal`` and ``gaps[i]`` the largest recomputed interim gap of player ``i``.

    Raises:
        TypeError: If ``bgame`` is not a :class:`BayesianGame`.
        ValueError: On a malformed objective, sense, eps, type marginal or tol.
        RuntimeError: If HiGHS fails or a recomputed ``h_i(θ_i, b)`` exceeds
            ``eps_i(θ_i) P(θ_i) + tol · max(1, range_i)``.
    """
    if not isinstance(bgame, BayesianGame):
        raise TypeError(f"bgame must be a BayesianGame, got {type(bgame).__name__}")
    tol = check_tol(tol)
    n = bgame.n_players
    shape = bgame.n_types + bgame.n_actions
    objective = _objective_array("objective", objective, bgame.payoffs, n, shape)
    sign = _sense_sign(sense)
    eps = _type_eps(eps, bgame.n_types)
    if type_marginal is None:
        marginal = np.asarray(bgame.prior)
    else:
        marginal = check_distribution("type_marginal", type_marginal, bgame.n_types)
        marginal = np.clip(marginal, 0.0, None) / np.clip(marginal, 0.0, None).sum()
    n_type_profiles = int(np.prod(bgame.n_types))
    n_action_profiles = int(np.prod(bgame.n_actions))
    rows, rhs = [], []
    for i in range(n):
        scale = span(bgame.payoffs[i])
        block = bayes_coarse_deviation_matrix(bgame.payoffs[i], i, n)
        axes = tuple(j for j in range(n) if j != i)
        p_i = marginal.sum(axis=axes)
        rows.append(block / scale)
        rhs.append(np.repeat(eps[i] * p_i, bgame.n_actions[i]) / scale)
    A_eq = np.kron(np.eye(n_type_profiles), np.ones((1, n_action_profiles)))
    flat = objective.ravel()
    x = solve_lp(
        sign * flat / span(flat),
        A_ub=np.concatenate(rows),
        b_ub=np.concatenate(rhs),
        A_eq=A_eq,
        b_eq=marginal.ravel(),
        what="coarse Bayes-correlated",
    )
    q = np.clip(x, 0.0, None).reshape(n_type_profiles, n_action_profiles)
    totals = q.sum(axis=1, keepdims=True)
    target = marginal.reshape(-1, 1)
    q = np.divide(q * target, totals, out=np.zeros_like(q), where=totals > 0)
    mu = q.reshape(shape)
    report = bcce_gap(bgame, mu)
    gaps = np.empty(n)
    for i in range(n):
        allowed = eps[i] * report.type_marginals[i] + tol * check_scale(bgame.payoffs[i])
        excess = report.table[i].max(axis=1) - allowed
        if np.any(excess > 0):
            t = int(np.argmax(excess))
            raise RuntimeError(
                f"coarse Bayes-correlated LP re-check failed: player {i}, type {t} has "
                f"recomputed deviation gain h = {report.table[i][t].max():.3e} above "
                f"eps·P(θ_i) + tol = {allowed[t]:.3e}"
            )
        gaps[i] = report.max_interim[i]
    gaps.setflags(write=False)
    mu.setflags(write=False)
    return LPResult(mu=mu, value=float(np.vdot(objective, mu)), status="optimal", gaps=gaps)


# ----------------------------------------------------------------------------- zero-sum


def zero_sum_value(A, tol: float = LP_TOL) -> ZeroSumResult:
    """Value and minimax strategies of the zero-sum game with row payoffs ``A``.

    Solves the row player's LP ``max v s.t. xᵀA ≥ v·1, x ∈ Δ`` and the column player's
    dual LP, then re-checks the pair: the duality gap ``max_i (Ay)_i − min_j (xᵀA)_j`` must
    be at most ``tol · max(1, range(A))``.

    Args:
        A: ``[m, k]`` the row player's payoffs (the column player gets ``−A``).
        tol: Re-check tolerance, relative to the payoff range.

    Returns:
        A :class:`ZeroSumResult`; ``value`` is ``xᵀAy`` at the returned strategies.

    Raises:
        TypeError: If ``A`` is not numeric.
        ValueError: If ``A`` is not a non-empty finite matrix, or ``tol`` is malformed.
        RuntimeError: If HiGHS fails or the duality gap re-check fails.

    Example:
        >>> rps = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]
        >>> result = zero_sum_value(rps)
        >>> round(result.value, 9), result.row_strategy.round(6).tolist()
        (0.0, [0.333333, 0.333333, 0.333333])
    """
    tol = check_tol(tol)
    A = as_finite_array("A", A)
    if A.ndim != 2 or min(A.shape) < 1:
        raise ValueError(f"A must be a non-empty matrix, got shape {A.shape}")
    m, k = A.shape
    low, scale = float(A.min()), span(A)
    scaled = (A - low) / scale  # in [0, 1]
    # Row: variables (x, v); minimise -v; v - xᵀA_j <= 0.
    row = solve_lp(
        np.r_[np.zeros(m), -1.0],
        A_ub=np.c_[-scaled.T, np.ones(k)],
        b_ub=np.zeros(k),
        A_eq=np.r_[np.ones(m), 0.0][None],
        b_eq=np.ones(1),
        bounds=[(0, None)] * m + [(None, None)],
        what="zero-sum row player",
    )
    # Column: variables (y, w); minimise w; A_i y - w <= 0.
    col = solve_lp(
        np.r_[np.zeros(k), 1.0],
        A_ub=np.c_[scaled, -np.ones(m)],
        b_ub=np.zeros(m),
        A_eq=np.r_[np.ones(k), 0.0][None],
        b_eq=np.ones(1),
        bounds=[(0, None)] * k + [(None, None)],
        what="zero-sum column player",
    )
    x = clean_distribution(row[:m])
    y = clean_distribution(col[:k])
    exploitability = float((A @ y).max() - (x @ A).min())
    if exploitability > tol * check_scale(A):
        raise RuntimeError(
            f"zero-sum LP re-check failed: duality gap {exploitability:.3e} exceeds "
            f"tol = {tol * check_scale(A):.3e}"
        )
    x.setflags(write=False)
    y.setflags(write=False)
    return ZeroSumResult(
        value=float(x @ A @ y), row_strategy=x, column_strategy=y, exploitability=exploitability
    )
