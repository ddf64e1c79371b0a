"""How far a joint distribution (or a mixed profile) is from an equilibrium.

Every function takes a game and a distribution and returns a frozen report. Gaps are the
largest expected gain a player can obtain by deviating, in the units of that player's
utility; a verdict (``is_equilibrium``) compares them with an explicit ``eps`` and ``tol``.

Complete information, for ``μ[A_1..A_n]``:

* :func:`cce_gap`: fixed deviations chosen before seeing the recommendation,
  ``g_i = max_b Σ_a μ(a) [u_i(b, a_-i) − u_i(a)]``. Reported *raw* (it can be negative when
  following beats every fixed action) and *clipped* at 0. For the mixture of per-round
  product distributions of no-regret play, ``raw`` equals each player's average external
  regret exactly.
* :func:`ce_gap`: swap deviations, ``Σ_{a_i} max_b Σ_{a_-i} μ(a_i, a_-i)[u_i(b, a_-i) −
  u_i(a)]`` (a sum over recommendations, so it equals average swap regret). Always
  ``ce_gap >= cce_gap.raw``.
* :func:`nash_conv`: best-response gains of a product profile and their sum (NashConv).

Bayesian games, for ``μ[T_1..T_n, A_1..A_n]`` (see ``docs/equilibrium.md``):

* :func:`deviation_table`: ``h_i(θ_i, b)``, the ex-ante weighted gain of switching player
  ``i``'s type ``θ_i`` alone to the fixed action ``b``.
* :func:`bcce_gap`: three distinct notions built on that table: the *ex-ante* (HST
  strategic-form) gap ``Σ_θi max_b h``, the *agent-form* gap ``Σ_θi max(0, max_b h)``, and
  the *interim* per-type gap ``max_b h / μ(θ_i)``.
* :func:`bne_gap`: the same report for a type-contingent mixed profile and its prior
  (zero iff Bayes-Nash).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .distributions import bayes_product, product_profile
from .games import (
    PRIOR_TOL,
    BayesianGame,
    NormalFormGame,
    as_finite_array,
    check_distribution,
    check_tolerance,
)

DEFAULT_TOL = 1e-9
"""Default slack when a gap is compared with ``eps`` (round-off of exact identities)."""

BAYES_NOTIONS = ("ex_ante", "agent_form", "interim")
"""The Bayesian gap notions :meth:`BayesGapReport.is_equilibrium` can check."""


def _readonly(array) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def _check_verdict_args(eps, tol: float, n_players: int) -> np.ndarray:
    eps = as_finite_array("eps", eps)
    if eps.ndim > 1 or (eps.ndim == 1 and eps.shape[0] != n_players):
        raise ValueError(f"eps must be a number or one per player ({n_players}), got {eps!r}")
    if not np.all(np.isfinite(eps)):
        raise ValueError(f"eps must be finite, got {eps!r}")
    check_tolerance("tol", tol)
    return np.broadcast_to(eps, (n_players,))


def _check_game(game, kind: type, name: str = "game"):
    if not isinstance(game, kind):
        raise TypeError(f"{name} must be a {kind.__name__}, got {type(game).__name__}")
    return game


@dataclass(frozen=True, eq=False)
class GapReport:
    """Per-player deviation gains of a joint distribution in a normal-form game.

    Attributes:
        kind: ``"cce"`` (fixed deviations) or ``"ce"`` (swap deviations).
        raw: ``[n]`` per-player gap. For CCE the best fixed-deviation gain, negative when
            following the distribution beats every fixed action; for CE the sum over
            recommendations of the best swap gain (never negative).
        best_deviation: Per player, for CCE the maximising action (``int``); for CE the
            best swap map, ``int[A_i]`` sending each recommendation to its best replacement
            (itself when no replacement gains).
        gains: Per player, for CCE ``[A_i]`` the gain of each fixed deviation ``b``; for CE
            ``[A_i, A_i]`` the gain of replacing recommendation ``a`` (row) by ``b``
            (column), ex-ante weighted (rows of unrecommended actions are 0).
        values: ``[n]`` each player's expected utility under the distribution.
    """

    kind: str
    raw: np.ndarray
    best_deviation: tuple
    gains: tuple[np.ndarray, ...]
    values: np.ndarray

    @property
    def clipped(self) -> np.ndarray:
        """``[n]`` ``max(0, raw)``: the per-player deviation incentive."""
        return np.maximum(self.raw, 0.0)

    @property
    def max_gap(self) -> float:
        """``max_i raw_i``: the smallest ``ε`` for which the distribution is an ε-equilibrium."""
        return float(self.raw.max())

    @property
    def total(self) -> float:
        """``Σ_i clipped_i`` (OpenSpiel's ``cce_dist`` / ``ce_dist`` aggregate)."""
        return float(self.clipped.sum())

    def is_equilibrium(self, eps=0.0, tol: float = DEFAULT_TOL) -> bool:
        """Whether every player's gap is at most ``eps + tol``.

        Args:
            eps: The allowed gap, one number or one per player.
            tol: Extra slack for round-off.

        Raises:
            ValueError: If ``eps`` has the wrong shape or is not finite, or ``tol`` is
                negative or not finite.
        """
        eps = _check_verdict_args(eps, tol, self.raw.shape[0])
        return bool(np.all(self.raw <= eps + tol))


@dataclass(frozen=True, eq=False)
class NashConvReport:
    """Best-response gains of a product (mixed) profile.

    Attributes:
        per_player: ``[n]`` ``max_b u_i(b, σ_-i) − u_i(σ)``; non-negative up to round-off.
        best_responses: ``int[n]`` a maximising action per player (the first one on ties).
        deviation_values: Per player ``[A_i]``, ``u_i(b, σ_-i)`` for every action ``b``.
        values: ``[n]`` ``u_i(σ)``.
    """

    per_player: np.ndarray
    best_responses: np.ndarray
    deviation_values: tuple[np.ndarray, ...]
    values: np.ndarray

    @property
    def total(self) -> float:
        """NashConv: ``Σ_i per_player_i``."""
        return float(self.per_player.sum())

    @property
    def exploitability(self) -> float:
        """``NashConv / n`` (OpenSpiel's convention; the duality gap / 2 in 2p zero-sum)."""
        return self.total / self.per_player.shape[0]

    def is_equilibrium(self, eps=0.0, tol: float = DEFAULT_TOL) -> bool:
        """Whether the profile is an ε-Nash equilibrium: every gain at most ``eps + tol``.

        Raises:
            ValueError: On an ``eps`` of the wrong shape or a negative ``tol``.
        """
        eps = _check_verdict_args(eps, tol, self.per_player.shape[0])
        return bool(np.all(self.per_player <= eps + tol))


@dataclass(frozen=True, eq=False)
class BayesGapReport:
    """The three coarse Bayesian gaps of a distribution over (types, actions).

    All quantities derive from the single-type deviation table ``h_i(θ_i, b)`` (see
    :func:`deviation_table`), which is ex-ante weighted: it already includes the probability
    ``μ(θ_i)`` of the type.

    Attributes:
        ex_ante: ``[n]`` raw HST strategic-form gap ``Σ_θi max_b h_i(θ_i, b)``: the best
            gain of a type-contingent fixed plan applied at every type. Can be negative.
        agent_form: ``[n]`` ``Σ_θi max(0, max_b h_i(θ_i, b))``: the sum of each agent
            ``(i, θ_i)``'s deviation incentive while the player's other types keep
            following. Always ``>= ex_ante_clipped``.
        interim: Per player ``[T_i]``, ``max_b h_i(θ_i, b) / μ(θ_i)``: the gain of type
            ``θ_i`` conditional on being that type (raw, can be negative). ``nan`` where
            ``μ(θ_i) = 0`` (the conditional is undefined; such types carry no weight in the
            other two notions).
        best_deviation: Per player ``int[T_i]``, the maximising action of each type.
        table: Per player ``[T_i, A_i]``, the deviation table ``h_i``.
        type_marginals: Per player ``[T_i]``, ``μ(θ_i)``.
        values: ``[n]`` each player's ex-ante expected utility under the distribution.
    """

    ex_ante: np.ndarray
    agent_form: np.ndarray
    interim: tuple[np.ndarray, ...]
    best_deviation: tuple[np.ndarray, ...]
    table: tuple[np.ndarray, ...]
    type_marginals: tuple[np.ndarray, ...]
    values: np.ndarray

    @property
    def ex_ante_clipped(self) -> np.ndarray:
        """``[n]`` ``max(0, ex_ante)``: what OpenSpiel's ``cce_dist`` sums per player."""
        return np.maximum(self.ex_ante, 0.0)

    @property
    def max_interim(self) -> np.ndarray:
        """``[n]`` the largest interim gap of each player over its types of positive mass.

        ``-inf`` for a player none of whose types has positive mass (impossible for a
        distribution, kept for completeness).
        """
        return np.array([_largest_interim(g) for g in self.interim], dtype=np.float64)

    def is_equilibrium(self, eps=0.0, tol: float = DEFAULT_TOL, notion: str = "agent_form") -> bool:
        """Whether the distribution is an ε-equilibrium in the chosen notion.

        Args:
            eps: The allowed gap, one number or one per player.
            tol: Extra slack for round-off.
            notion: ``"ex_ante"`` (``ex_ante <= eps``, the HST Bayes-CCE condition),
                ``"agent_form"`` (``agent_form <= eps``, implies the ex-ante one) or
                ``"interim"`` (every type of positive mass has ``interim <= eps``).

        Raises:
            ValueError: On an unknown ``notion``, an ``eps`` of the wrong shape or a
                negative ``tol``.
        """
        n = self.ex_ante.shape[0]
        eps = _check_verdict_args(eps, tol, n)
        if notion == "ex_ante":
            gaps = self.ex_ante
        elif notion == "agent_form":
            gaps = self.agent_form
        elif notion == "interim":
            gaps = self.max_interim
        else:
            raise ValueError(f"notion must be one of {BAYES_NOTIONS}, got {notion!r}")
        return bool(np.all(gaps <= eps + tol))


def _check_joint(game: NormalFormGame, mu, dist_tol: float) -> np.ndarray:
    dist_tol = check_tolerance("dist_tol", dist_tol)
    return check_distribution("mu", mu, game.n_actions, tol=dist_tol)


def cce_gap(game: NormalFormGame, mu, dist_tol: float = PRIOR_TOL) -> GapReport:
    """Coarse correlated equilibrium gap of a joint distribution.

    ``raw_i = max_b Σ_a μ(a) [u_i(b, a_-i) − u_i(a)]``: the best gain of a fixed action
    chosen without seeing the recommendation. ``μ`` is an ε-CCE iff ``max_i raw_i <= ε``.

    Args:
        game: The normal-form game.
        mu: ``[A_1..A_n]`` joint distribution (a correlation device, or empirical play from
            :func:`.distributions.joint_from_samples` / ``joint_from_profiles``).
        dist_tol: Slack allowed when validating ``mu`` as a distribution.

    Returns:
        A :class:`GapReport` with ``kind="cce"``.

    Raises:
        TypeError: If ``game`` is not a :class:`NormalFormGame` or ``mu`` is not numeric.
        ValueError: If ``mu`` has the wrong shape, NaN entries, negative entries or does
            not sum to 1.

    Example:
        >>> pd = NormalFormGame([[[5, 0], [10, 1]], [[5, 10], [0, 1]]])  # D = action 1
        >>> cce_gap(pd, [[1.0, 0.0], [0.0, 0.0]]).raw.tolist()  # both cooperate
        [5.0, 5.0]
    """
    _check_game(game, NormalFormGame)
    mu = _check_joint(game, mu, dist_tol)
    n = game.n_players
    raw, best, gains, values = np.empty(n), [], [], np.empty(n)
    for i in range(n):
        utility = game.payoffs[i]
        values[i] = np.vdot(utility, mu)
        others = mu.sum(axis=i)
        deviation = np.tensordot(np.moveaxis(utility, i, 0), others, axes=n - 1)
        gain = deviation - values[i]
        raw[i] = gain.max()
        best.append(int(np.argmax(gain)))
        gains.append(_readonly(gain))
    return GapReport("cce", _readonly(raw), tuple(best), tuple(gains), _readonly(values))


def ce_gap(game: NormalFormGame, mu, dist_tol: float = PRIOR_TOL) -> GapReport:
    """Correlated equilibrium gap of a joint distribution, in swap (sum) form.

    ``raw_i = Σ_a max_b Σ_{a_-i} μ(a, a_-i) [u_i(b, a_-i) − u_i(a, a_-i)]``: the best gain of
    a swap map ``φ: A_i -> A_i`` applied to the recommendation. For the mixture of per-round
    products of no-regret play it equals average swap regret. ``raw_i >= 0`` (the identity
    map gains 0) and ``raw_i >= cce_gap(game, mu).raw[i]`` (constant maps are swaps).

    Args:
        game: The normal-form game.
        mu: ``[A_1..A_n]`` joint distribution.
        dist_tol: Slack allowed when validating ``mu`` as a distribution.

    Returns:
        A :class:`GapReport` with ``kind="ce"``; ``best_deviation[i]`` is a swap map.

    Raises:
        TypeError: If ``game`` is not a :class:`NormalFormGame` or ``mu`` is not numeric.
        ValueError: If ``mu`` is not a distribution of the game's shape.
    """
    _check_game(game, NormalFormGame)
    mu = _check_joint(game, mu, dist_tol)
    n = game.n_players
    raw, best, gains, values = np.empty(n), [], [], np.empty(n)
    for i in range(n):
        n_i = game.n_actions[i]
        utility = np.moveaxis(game.payoffs[i], i, 0).reshape(n_i, -1)
        weights = np.moveaxis(mu, i, 0).reshape(n_i, -1)
        swapped = weights @ utility.T  # [recommended a, played b]
        on_path = np.diagonal(swapped).copy()
        gain = swapped - on_path[:, None]
        best_gain = gain.max(axis=1)
        raw[i] = best_gain.sum()
        values[i] = on_path.sum()
        swap = np.where(best_gain > 0, np.argmax(gain, axis=1), np.arange(n_i))
        best.append(_readonly(swap))
        gains.append(_readonly(gain))
    return GapReport("ce", _readonly(raw), tuple(best), tuple(gains), _readonly(values))


def nash_conv(game: NormalFormGame, profile: Sequence) -> NashConvReport:
    """Best-response gains of a mixed profile, and their sum (NashConv).

    Args:
        game: The normal-form game.
        profile: One mixed strategy ``[A_i]`` per player.

    Returns:
        A :class:`NashConvReport`. ``per_player`` equals ``cce_gap`` of the product
        distribution (for a product, the best fixed deviation is the best response).

    Raises:
        TypeError: If ``game`` is not a :class:`NormalFormGame`.
        ValueError: If ``profile`` does not hold one probability vector per player of the
            right length.

    Example:
        >>> row = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
        >>> rps = NormalFormGame([row, -row])
        >>> nash_conv(rps, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]]).per_player.tolist()
        [0.0, 1.0]
    """
    _check_game(game, NormalFormGame)
    if isinstance(profile, np.ndarray) or not isinstance(profile, Sequence):
        raise TypeError(
            f"profile must be a list with one [A_i] vector per player, got {type(profile).__name__}"
        )
    if len(profile) != game.n_players:
        raise ValueError(
            f"profile must hold {game.n_players} strategies, one per player, got {len(profile)}"
        )
    shapes = tuple(np.shape(x) for x in profile)
    if shapes != tuple((k,) for k in game.n_actions):
        raise ValueError(
            f"profile strategies must have lengths {game.n_actions}, got shapes {shapes}"
        )
    report = cce_gap(game, product_profile(profile))
    deviation_values = tuple(
        _readonly(g + v) for g, v in zip(report.gains, report.values, strict=True)
    )
    return NashConvReport(
        per_player=report.raw,
        best_responses=_readonly(np.array(report.best_deviation, dtype=np.intp)),
        deviation_values=deviation_values,
        values=report.values,
    )


def _check_bayes_joint(bgame: BayesianGame, mu, dist_tol: float) -> np.ndarray:
    _check_game(bgame, BayesianGame, "bgame")
    dist_tol = check_tolerance("dist_tol", dist_tol)
    return check_distribution("mu", mu, bgame.n_types + bgame.n_actions, tol=dist_tol)


def _deviation_tables(payoffs: np.ndarray, mu: np.ndarray):
    """Per player: (h table ``[T_i, A_i]``, on-path value per type ``[T_i]``, ``μ(θ_i)``).

    ``payoffs [n, T_1..T_n, A_1..A_n]`` and ``mu [T_1..T_n, A_1..A_n]``, already checked.
    """
    n = mu.ndim // 2
    out = []
    for i in range(n):
        n_types_i, n_actions_i = mu.shape[i], mu.shape[n + i]
        utility = payoffs[i]
        keep_type = tuple(k for k in range(2 * n) if k != i)
        on_path = (utility * mu).sum(axis=keep_type)
        mass = mu.sum(axis=keep_type)
        others = mu.sum(axis=n + i)  # [θ_1..θ_n, a_-i]
        moved = np.moveaxis(utility, (i, n + i), (0, 1)).reshape(n_types_i, n_actions_i, -1)
        weights = np.moveaxis(others, i, 0).reshape(n_types_i, -1)
        deviation = np.einsum("tbr,tr->tb", moved, weights)
        out.append((deviation - on_path[:, None], on_path, mass))
    return out


def deviation_table(bgame: BayesianGame, mu, dist_tol: float = PRIOR_TOL) -> list[np.ndarray]:
    """Single-type fixed-deviation gains ``h_i(θ_i, b)`` of a distribution over (θ, a).

    ``h_i(θ_i, b) = Σ_{θ_-i} Σ_a μ(θ_i, θ_-i, a) [u_i(b, a_-i; θ) − u_i(a; θ)]``: the
    ex-ante expected gain if player ``i``, whenever its type is ``θ_i``, plays ``b`` instead
    of its recommended action, everybody else (its other types included) following ``μ``.
    Weighted by ``μ(θ_i)``, so rows of types never seen are 0.

    Args:
        bgame: The Bayesian game.
        mu: ``[T_1..T_n, A_1..A_n]`` joint distribution over types and actions.
        dist_tol: Slack allowed when validating ``mu`` as a distribution.

    Returns:
        One ``[T_i, A_i]`` array per player.

    Raises:
        TypeError: If ``bgame`` is not a :class:`BayesianGame` or ``mu`` is not numeric.
        ValueError: If ``mu`` is not a distribution of shape ``n_types + n_actions``.
    """
    mu = _check_bayes_joint(bgame, mu, dist_tol)
    return [table for table, _, _ in _deviation_tables(bgame.payoffs, mu)]


def _player_gaps(table: np.ndarray, mass: np.ndarray):
    """One player's ``(ex ante gap, agent-form gap, interim gaps [T_i])``.

    From its deviation table and type marginal; the interim gap is NaN at types of zero mass.
    """
    best_gain = table.max(axis=1)
    conditional = np.full(best_gain.shape, np.nan)
    np.divide(best_gain, mass, out=conditional, where=mass > 0)
    return best_gain.sum(), np.maximum(best_gain, 0.0).sum(), conditional


def _largest_interim(conditional: np.ndarray) -> float:
    """The largest interim gap over the types of positive mass (``-inf`` if none)."""
    return np.max(conditional[~np.isnan(conditional)], initial=-np.inf)


def bcce_gap_maxima(payoffs: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(ex_ante, agent_form, max_interim)``, each ``[n]``, of a distribution, unchecked.

    The same arithmetic as :func:`bcce_gap` (the same bits as its ``ex_ante``,
    ``agent_form`` and :attr:`BayesGapReport.max_interim`) without validating the arrays or
    building a :class:`BayesianGame`: for inner loops that build a valid ``mu`` themselves
    (the certified protocol checks its candidate responses after every update); anything
    else should call :func:`bcce_gap`.

    Args:
        payoffs: ``[n, T_1..T_n, A_1..A_n]`` float64 utilities.
        mu: ``[T_1..T_n, A_1..A_n]`` float64 joint distribution over types and actions.
    """
    n = mu.ndim // 2
    ex_ante, agent_form, max_interim = np.empty(n), np.empty(n), np.empty(n)
    for i, (table, _, mass) in enumerate(_deviation_tables(payoffs, mu)):
        ex_ante[i], agent_form[i], conditional = _player_gaps(table, mass)
        max_interim[i] = _largest_interim(conditional)
    return ex_ante, agent_form, max_interim


def bcce_gap(bgame: BayesianGame, mu, dist_tol: float = PRIOR_TOL) -> BayesGapReport:
    """Coarse Bayesian equilibrium gaps of a distribution over (types, actions).

    Reports the three notions built on :func:`deviation_table`: ex ante (HST strategic
    form), agent form, and interim (per type, conditional). ``agent_form >= ex_ante`` and
    ``Σ_θi μ(θ_i) max(0, interim) == agent_form`` always hold.

    The gaps are computed against ``μ`` alone: the game's prior is **not** used, and ``μ``'s
    type marginal need not equal it. Empirical play (:func:`.distributions.
    bayes_joint_from_samples` or ``bayes_joint_from_strategies``) has the *empirical* type
    frequency, and the regret identities hold for that distribution exactly. Use
    :func:`type_marginal_error` to measure how far the type marginal is from the prior
    when that matters (e.g. to compare with an LP over ``p(θ) q(a | θ)``).

    Args:
        bgame: The Bayesian game (only its payoffs are used).
        mu: ``[T_1..T_n, A_1..A_n]`` joint distribution over types and actions.
        dist_tol: Slack allowed when validating ``mu`` as a distribution.

    Returns:
        A :class:`BayesGapReport`.

    Raises:
        TypeError: If ``bgame`` is not a :class:`BayesianGame` or ``mu`` is not numeric.
        ValueError: If ``mu`` has the wrong shape, NaN entries, negative entries or does
            not sum to 1.
    """
    mu = _check_bayes_joint(bgame, mu, dist_tol)
    n = bgame.n_players
    ex_ante, agent_form, values = np.empty(n), np.empty(n), np.empty(n)
    interim, best, tables, masses = [], [], [], []
    for i, (table, on_path, mass) in enumerate(_deviation_tables(bgame.payoffs, mu)):
        ex_ante[i], agent_form[i], conditional = _player_gaps(table, mass)
        values[i] = on_path.sum()
        interim.append(_readonly(conditional))
        best.append(_readonly(np.argmax(table, axis=1)))
        tables.append(_readonly(table))
        masses.append(_readonly(mass))
    return BayesGapReport(
        ex_ante=_readonly(ex_ante),
        agent_form=_readonly(agent_form),
        interim=tuple(interim),
        best_deviation=tuple(best),
        table=tuple(tables),
        type_marginals=tuple(masses),
        values=_readonly(values),
    )


def type_marginal_error(bgame: BayesianGame, mu, dist_tol: float = PRIOR_TOL) -> float:
    """Total variation distance between ``μ``'s type marginal and the game's prior.

    ``½ Σ_θ |Σ_a μ(θ, a) − p(θ)|``, in ``[0, 1]``. Zero for a distribution of the form
    ``p(θ) q(a | θ)``; of order ``sqrt(|Θ| / T)`` for empirical play over ``T`` rounds.

    Raises:
        TypeError: If ``bgame`` is not a :class:`BayesianGame` or ``mu`` is not numeric.
        ValueError: If ``mu`` is not a distribution of shape ``n_types + n_actions``.
    """
    mu = _check_bayes_joint(bgame, mu, dist_tol)
    n = bgame.n_players
    marginal = mu.sum(axis=tuple(range(n, 2 * n)))
    return float(0.5 * np.abs(marginal - bgame.prior).sum())


def bne_gap(bgame: BayesianGame, sigmas: Sequence) -> BayesGapReport:
    """Bayes-Nash gaps of a type-contingent mixed profile under the game's prior.

    Evaluates :func:`bcce_gap` on ``μ(θ, a) = p(θ) Π_i σ_i(a_i | θ_i)``. For such a product
    every ``max_b h_i(θ_i, b) >= 0`` (a best response is at least the average of the
    support), so ``ex_ante == agent_form``: player ``i``'s ex-ante best-response gain
    against ``σ_-i``. The profile is a Bayes-Nash equilibrium iff every gap is 0, and an
    interim ε-BNE iff every ``interim`` entry is at most ε.

    Args:
        bgame: The Bayesian game.
        sigmas: One ``[T_i, A_i]`` array per player: the mixed strategy of each type.

    Returns:
        A :class:`BayesGapReport`.

    Raises:
        TypeError: If ``bgame`` is not a :class:`BayesianGame`.
        ValueError: If ``sigmas`` do not match the game's types and actions, or a row is
            not a probability vector.
    """
    _check_game(bgame, BayesianGame, "bgame")
    if isinstance(sigmas, np.ndarray) or not isinstance(sigmas, Sequence):
        raise TypeError(
            f"sigmas must be a list with one [T_i, A_i] array per player, got "
            f"{type(sigmas).__name__}"
        )
    expected = tuple(zip(bgame.n_types, bgame.n_actions, strict=True))
    shapes = tuple(np.shape(s) for s in sigmas)
    if shapes != expected:
        raise ValueError(f"sigmas must have shapes {expected}, got {shapes}")
    return bcce_gap(bgame, bayes_product(bgame.prior, sigmas))
