"""Matrix design (Monderer and Tennenholtz 2003, k-implementation) as plain game logic.

Two followers, one type each, play a bimatrix game. The leader observes the realised action
profile ``a = (a_1, a_2)`` and pays each follower an amount in ``[0, max_payment]`` for it;
payments are added to the followers' (normalised) utilities:

* follower ``i``: ``u_i(a) + p_i``;
* leader: ``u_1(a) + u_2(a)`` (the followers' summed *base* utilities, as in the reference
  code), minus ``p_1 + p_2`` when ``charge_payments=True``.

A leader policy is a *payment scheme* ``p[i, a]``. The designer's trick is the off-path
promise: paying for profiles that are never played makes the welfare-optimal profile
dominant, so that in equilibrium nothing is paid (a "0-implementation"). Payments are in the
same units as the normalised utilities and may exceed 1 (default bound 10, as the reference
code has it), so follower utilities lie in ``[min u, 1 + max_payment]``, not ``[0, 1]``.

The default game (research fixture F14, from the Brero et al. code), entries ``(u_1, u_2)``
before normalisation by the largest entry 6:

|         | a_2 = 0 | a_2 = 1 |
|---------|---------|---------|
| a_1 = 0 | 3, 3    | 6, 4    |
| a_1 = 1 | 4, 6    | 2, 2    |
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from stackelberg_zoo.envs.core import (
    EconomicGame,
    Outcome,
    Reference,
    format_array,
    induced_bayesian_game,
)
from stackelberg_zoo.envs.validation import (
    as_real_array,
    check_flag,
    check_game_sizes,
    check_real,
    check_table_size,
)
from stackelberg_zoo.equilibrium.games import NormalFormGame
from stackelberg_zoo.equilibrium.lp import solve_cce


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


MONDERER_TENNENHOLTZ_PAYOFFS = _read_only(
    np.array(
        [
            [[3.0, 6.0], [4.0, 2.0]],  # follower 0 (rows)
            [[3.0, 4.0], [6.0, 2.0]],  # follower 1 (columns)
        ]
    )
)
"""``[2, 2, 2]`` raw payoffs of the default game: ``[i, a_1, a_2]`` is follower ``i``'s utility."""

DEFAULT_MAX_PAYMENT = 10.0
"""The largest payment per follower per profile in the reference code (normalised units)."""

DEFAULT_REFERENCE_MARGIN = 0.1
"""By how much the reference scheme makes the target action better than any other."""

PAYMENT_TOL = 1e-6
"""Payments at most ``PAYMENT_TOL * max(1, max_payment)`` outside ``[0, max_payment]`` (float32
rounding of an action drawn from the Box space) are clipped into it; further out is an error."""

_FLOAT32_MAX = float(np.finfo(np.float32).max)
"""The largest ``max_payment``: the leader's action space is a float32 ``Box``."""

DOMINANCE_TOL = 1e-9
"""Slack when re-verifying the reference scheme's dominance margin on the induced game."""


class MatrixDesignState(NamedTuple):
    """The state of one sub-game.

    Attributes:
        profile: The followers' action profile ``(a_1, a_2)``.
        payments: ``[2]`` float64 payments once the leader has acted, else ``None``.
    """

    profile: tuple[int, ...]
    payments: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class PaymentScheme:
    """A matrix-design leader policy: what each follower is paid at each action profile.

    Calling it on a leader observation (an action profile) returns the payments.

    Attributes:
        payments: ``[2, A_1, A_2]``; ``payments[i, a_1, a_2]`` is paid to follower ``i`` when
            ``(a_1, a_2)`` is played. Stored read-only.
    """

    payments: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "payments", _read_only(np.asarray(self.payments, np.float64)))

    def __call__(self, observation) -> np.ndarray:
        """Payments ``[2]`` for the action profile ``observation``."""
        return self.payments[(slice(None),) + tuple(int(a) for a in observation)]


@dataclass(frozen=True)
class DominantImplementation:
    """A payment scheme that makes one pure profile strictly dominant, and what it costs.

    Attributes:
        target: The implemented action profile.
        scheme: The payment scheme.
        margin: The smallest amount by which each follower's target action beats any other
            action, at any profile of the other follower, after payments (> 0).
        on_path_payments: ``[2]`` payments made at the target profile itself.
        leader_value: The leader's reward at the target profile under this scheme.
    """

    target: tuple[int, ...]
    scheme: PaymentScheme
    margin: float
    on_path_payments: np.ndarray
    leader_value: float


@dataclass(frozen=True)
class _TargetCost:
    target: tuple[int, ...]
    gaps: tuple[np.ndarray, ...] = field(repr=False)
    worst_deficit: float


def _int_tuple(name: str, values) -> tuple[int, ...]:
    """``values`` as a tuple of Python ints (fast path for integer arrays)."""
    try:
        if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
            return tuple(values.tolist())
        return tuple(map(operator.index, values))
    except TypeError as error:
        raise TypeError(f"{name} must be a sequence of integers, got {values!r}") from error


class MatrixDesign(EconomicGame):
    """Monderer-Tennenholtz matrix design: the leader pays followers for the profile they play.

    Args:
        payoffs: ``[2, A_1, A_2]`` raw follower payoffs (a :class:`NormalFormGame` with two
            players is also accepted); default :data:`MONDERER_TENNENHOLTZ_PAYOFFS`.
        max_payment: Largest payment to one follower at one profile (``>= 0``).
        normalize: Divide the payoffs by their largest absolute entry (for non-negative
            tables, as the reference code has them, the largest entry).
        charge_payments: Subtract the payments from the leader's reward.
        reference_margin: The dominance margin :meth:`reference` aims for (``> 0``).

    Raises:
        ValueError: On a payoff array that is not ``[2, A_1, A_2]`` or not finite (or larger
            than :data:`~stackelberg_zoo.envs.validation.MAX_TABLE_ENTRIES`), an all-zero
            table with ``normalize``, a negative, non-finite or beyond-float32
            ``max_payment``, or a non-positive ``reference_margin``.
        TypeError: On non-numeric arguments (numeric strings, bools and complex numbers
            included) or flags that are not bools (``normalize="no"`` is refused, not
            read as true).

    Example:
        >>> game = MatrixDesign()
        >>> state = game.leader_step(game.start([0, 0], [0, 1]), [0.0, 0.5])
        >>> game.outcome(state).followers.round(3).tolist(), round(game.outcome(state).leader, 3)
        ([1.0, 1.167], 1.667)
    """

    pure_single_turn = True  # one leader turn; pure, value-only logic (core docstring)

    def __init__(
        self,
        payoffs=None,
        *,
        max_payment: float = DEFAULT_MAX_PAYMENT,
        normalize: bool = True,
        charge_payments: bool = False,
        reference_margin: float = DEFAULT_REFERENCE_MARGIN,
    ):
        if payoffs is None:
            raw = MONDERER_TENNENHOLTZ_PAYOFFS
        elif isinstance(payoffs, NormalFormGame):
            raw = payoffs.payoffs
        else:
            raw = as_real_array("payoffs", payoffs)
        if raw.ndim != 3 or raw.shape[0] != 2 or min(raw.shape) < 1:
            raise ValueError(
                f"payoffs must have shape [2, A_1, A_2] (two followers, at least one action "
                f"each), got shape {raw.shape}"
            )
        check_table_size({"payoffs.shape": raw.shape}, raw.shape, "payoff table")
        check_game_sizes({"payoffs.shape": raw.shape}, (1, 1), raw.shape[1:])
        self.max_payment = check_real("max_payment", max_payment)
        if not 0 <= self.max_payment <= _FLOAT32_MAX:
            raise ValueError(
                f"max_payment must be >= 0 and fit the float32 action space (at most "
                f"{_FLOAT32_MAX:.4g}), got {max_payment!r}"
            )
        self.reference_margin = check_real("reference_margin", reference_margin)
        if self.reference_margin <= 0:
            raise ValueError(f"reference_margin must be > 0, got {reference_margin!r}")
        self.normalize = check_flag("normalize", normalize)
        self.charge_payments = check_flag("charge_payments", charge_payments)
        self.scale = float(np.abs(raw).max()) if self.normalize else 1.0
        if self.scale == 0:
            raise ValueError("payoffs are all zero, so they cannot be normalised; got all zeros")
        self.raw_payoffs = _read_only(raw)
        self.base_payoffs = _read_only(raw / self.scale)
        """``[2, A_1, A_2]`` the followers' (normalised) utilities before payments."""
        self.welfare = _read_only(self.base_payoffs.sum(axis=0))
        """``[A_1, A_2]`` summed base utilities: the leader's reward without charges."""

        self.n_types = (1, 1)
        self.n_follower_actions = tuple(int(k) for k in raw.shape[1:])
        self.prior = _read_only(np.ones((1, 1)))
        self.leader_observation_space = gymnasium.spaces.MultiDiscrete(
            np.array(self.n_follower_actions, dtype=np.int64)
        )
        self.leader_action_space = gymnasium.spaces.Box(
            low=0.0, high=self.max_payment, shape=(2,), dtype=np.float32
        )
        # Hot-path lookups, one entry per action profile.
        profiles = list(itertools.product(*(range(k) for k in self.n_follower_actions)))
        self._observation_at = {a: _read_only(np.array(a, dtype=np.int64)) for a in profiles}
        self._base_at = {a: _read_only(self.base_payoffs[(slice(None),) + a]) for a in profiles}
        self._welfare_at = {a: float(self.welfare[a]) for a in profiles}
        self._payment_slack = PAYMENT_TOL * max(1.0, self.max_payment)

    # -- one sub-game -------------------------------------------------------------------

    def start(self, types, follower_actions) -> MatrixDesignState:
        """Begin a sub-game at the followers' action profile (each follower has one type, 0).

        Raises:
            ValueError: If a type is not 0 or an action is out of range.
            TypeError: If they are not integers.
        """
        if _int_tuple("types", types) != (0, 0):
            raise ValueError(f"types must be [0, 0] (one type per follower), got {types!r}")
        profile = _int_tuple("follower_actions", follower_actions)
        if profile not in self._welfare_at:  # every valid profile is a key
            raise ValueError(
                f"follower_actions must be {len(self.n_follower_actions)} actions in ranges "
                f"{self.n_follower_actions}, got {follower_actions!r}"
            )
        return MatrixDesignState(profile)

    def leader_observation(self, state: MatrixDesignState) -> np.ndarray:
        """The realised action profile, ``[2]`` int64 (read-only)."""
        return self._observation_at[state.profile]

    def leader_step(self, state: MatrixDesignState, action) -> MatrixDesignState:
        """Pay the followers ``action = [p_1, p_2]``, each in ``[0, max_payment]``.

        Values outside the interval by at most :data:`PAYMENT_TOL` ``* max(1, max_payment)``
        (float32 rounding) are clipped into it.

        Raises:
            ValueError: If the sub-game is over, the shape is not ``(2,)``, or a payment is
                NaN, infinite, negative or above ``max_payment``.
            TypeError: If the action is not real-valued (bools, complex numbers and strings
                are refused).
        """
        if state.payments is not None:
            raise ValueError(f"the sub-game is over (payments {state.payments.tolist()} made)")
        if type(action) is np.ndarray and action.dtype.kind in "iuf":
            payments = action.astype(np.float64)  # a copy: clipped in place below
        else:  # refuses bools, complex numbers and strings rather than converting them
            payments = np.array(as_real_array("payments (the leader's action)", action))
        if payments.shape != (2,):
            raise ValueError(
                f"payments must have shape (2,), got shape {payments.shape}: {action!r}"
            )
        slack, bound = self._payment_slack, self.max_payment
        first, second = payments.tolist()  # Python floats: cheaper than numpy reductions
        # Written so that NaN fails every comparison.
        if not (-slack <= first <= bound + slack and -slack <= second <= bound + slack):
            raise ValueError(f"payments must be finite and in [0, {bound}], got {action!r}")
        if not (0.0 <= first <= bound and 0.0 <= second <= bound):
            np.clip(payments, 0.0, bound, out=payments)
        return MatrixDesignState(state.profile, payments)

    def is_over(self, state: MatrixDesignState) -> bool:
        """Whether the leader has paid (one leader turn per sub-game)."""
        return state.payments is not None

    def outcome(self, state: MatrixDesignState) -> Outcome:
        """Followers: base utility plus payment; leader: welfare (minus payments if charged).

        Raises:
            ValueError: If the leader has not acted yet.
        """
        if state.payments is None:
            raise ValueError(f"the sub-game at profile {state.profile} has not ended")
        leader = self._welfare_at[state.profile]
        if self.charge_payments:
            leader -= float(state.payments[0] + state.payments[1])
        return Outcome(leader=leader, followers=self._base_at[state.profile] + state.payments)

    def describe(self, state: MatrixDesignState) -> str:
        """One line: the profile, the base utilities there, and the welfare."""
        base = np.array2string(self._base_at[state.profile], precision=3, separator=", ")
        return (
            f"profile {state.profile}: base utilities {base}, "
            f"welfare {self._welfare_at[state.profile]:.4f}"
        )

    # -- reference values ---------------------------------------------------------------

    def _target_cost(self, target: tuple[int, ...]) -> _TargetCost:
        """How far each follower's target action is from strictly best, per opponent action.

        ``gaps[i][a_-i] = u_i(t_i, a_-i) - max_{b != t_i} u_i(b, a_-i)`` (``+inf`` with one
        action); ``worst_deficit = max(0, -min gap)``.
        """
        gaps = []
        for i, t in enumerate(target):
            utility = np.moveaxis(self.base_payoffs[i], i, 0)  # [A_i, A_-i]
            others = np.delete(utility, t, axis=0)
            best_other = (
                others.max(axis=0) if others.shape[0] else np.full(utility.shape[1:], -np.inf)
            )
            gaps.append(utility[t] - best_other)
        worst = max(0.0, max(float(-g.min()) for g in gaps))
        return _TargetCost(target=target, gaps=tuple(gaps), worst_deficit=worst)

    def _implement(self, cost: _TargetCost) -> DominantImplementation | None:
        """The scheme paying only where the target action is not already strictly best."""
        needs_payment = any(np.any(gap <= 0) for gap in cost.gaps)
        if needs_payment and cost.worst_deficit >= self.max_payment:
            return None
        # Wherever it pays, it pays the deficit plus this margin, at most max_payment in all.
        margin = min(self.reference_margin, self.max_payment - cost.worst_deficit)
        payments = np.zeros((2,) + self.n_follower_actions)
        for i, (t, gap) in enumerate(zip(cost.target, cost.gaps, strict=True)):
            view = np.moveaxis(payments[i], i, 0)  # a view: writes land in payments[i]
            view[t] = np.where(gap <= 0, margin - gap, 0.0)
        achieved = min(float(np.where(gap <= 0, margin, gap).min()) for gap in cost.gaps)
        scheme = PaymentScheme(payments)
        on_path = np.array(scheme(cost.target))
        value = self._welfare_at[cost.target] - (on_path.sum() if self.charge_payments else 0.0)
        return DominantImplementation(cost.target, scheme, achieved, on_path, float(value))

    def best_dominant_implementation(self) -> DominantImplementation:
        """The best pure profile to make strictly dominant, and the scheme that does it.

        For every profile ``t``, the scheme pays follower ``i`` only at profiles
        ``(t_i, a_-i)`` where ``t_i`` is not already strictly best, exactly enough to make it
        best by ``min(reference_margin, max_payment - largest deficit)``; everything else is
        0. So a profile that is a strict Nash equilibrium of the base game is implemented at
        zero on-path cost. Profiles whose deficit reaches ``max_payment`` are infeasible. The
        best profile maximises the leader's reward at it (ties: lowest profile in row-major
        order). The result is re-verified on the exact induced game.

        Raises:
            ValueError: If no profile can be made strictly dominant within ``max_payment``.
            RuntimeError: If the re-verification fails (a bug, not bad input).
        """
        best = None
        smallest_deficit = np.inf
        for target in self._welfare_at:
            cost = self._target_cost(target)
            smallest_deficit = min(smallest_deficit, cost.worst_deficit)
            candidate = self._implement(cost)
            if candidate is not None and (
                best is None or candidate.leader_value > best.leader_value
            ):
                best = candidate
        if best is None:
            raise ValueError(
                f"no action profile can be made strictly dominant with payments <= max_payment "
                f"= {self.max_payment}; the smallest deficit to cover is {smallest_deficit}"
            )
        self._verify(best)
        return best

    def _verify(self, implementation: DominantImplementation) -> None:
        payments = implementation.scheme.payments
        if payments.min() < 0 or payments.max() > self.max_payment:
            raise RuntimeError(
                f"reference payments leave [0, {self.max_payment}]: {payments.tolist()}"
            )
        induced = induced_bayesian_game(self, implementation.scheme)
        for i, t in enumerate(implementation.target):
            utility = np.moveaxis(induced.followers.payoffs[i, 0, 0], i, 0)
            advantage = utility[t] - np.delete(utility, t, axis=0)
            if advantage.size and advantage.min() < implementation.margin - DOMINANCE_TOL:
                raise RuntimeError(
                    f"reference scheme fails: follower {i}'s action {t} beats the others by "
                    f"{advantage.min()}, less than the margin {implementation.margin}"
                )
        value = induced.leader_payoffs[(0, 0) + implementation.target]
        if abs(value - implementation.leader_value) > DOMINANCE_TOL:
            raise RuntimeError(
                f"reference value {implementation.leader_value} differs from the induced game's "
                f"{value}"
            )

    def no_payment_baselines(self) -> dict[str, float]:
        """Welfare of the base game's equilibria when the leader pays nothing.

        Keys: ``no_payment_pure_ne_min``/``_max`` (over pure Nash equilibria, if any),
        ``no_payment_mixed_ne`` (the fully mixed equilibrium, when the game is square and
        has a unique one), ``no_payment_cce_min``/``_max`` (over all coarse correlated
        equilibria, by linear programming with
        :func:`stackelberg_zoo.equilibrium.lp.solve_cce`).
        """
        baselines: dict[str, float] = {}
        # A profile is a pure equilibrium where each follower's utility is its column max.
        is_equilibrium = np.logical_and.reduce(
            [
                self.base_payoffs[i] >= self.base_payoffs[i].max(axis=i, keepdims=True)
                for i in (0, 1)
            ]
        )
        if is_equilibrium.any():
            baselines["no_payment_pure_ne_min"] = float(self.welfare[is_equilibrium].min())
            baselines["no_payment_pure_ne_max"] = float(self.welfare[is_equilibrium].max())
        mixed = _fully_mixed_equilibrium(self.base_payoffs[0], self.base_payoffs[1])
        if mixed is not None:
            row, column = mixed
            baselines["no_payment_mixed_ne"] = float(row @ self.welfare @ column)
        for sense in ("min", "max"):
            baselines[f"no_payment_cce_{sense}"] = float(
                solve_cce(NormalFormGame(self.base_payoffs), [1.0, 1.0], sense=sense).value
            )
        return baselines

    def reference(self) -> Reference:
        """The best leader value over dominant-strategy payment schemes, with baselines.

        The optimum is :meth:`best_dominant_implementation`'s value. Every leader reward is
        at most the largest welfare (payments only lower it), reported as
        ``details["welfare_upper_bound"]``; when the optimum equals it (always for the
        default game: 10/6, at the strict equilibrium ``(0, 1)``, in both charge modes) it is
        the exact optimum against any follower behaviour. Otherwise (a welfare-optimal
        profile that cannot be made dominant within ``max_payment``, or ``charge_payments``
        with a welfare optimum that is not a strict equilibrium) it is the best value over
        schemes making one pure profile strictly dominant, a lower bound on the optimum.
        Baselines: :meth:`no_payment_baselines`.

        Raises:
            ValueError: If no profile can be made strictly dominant within ``max_payment``.
        """
        best = self.best_dominant_implementation()
        return Reference(
            optimum=best.leader_value,
            optimal_policy=best.scheme,
            follower_model=(
                "each follower plays its strictly dominant action in the induced game (what "
                "any no-regret dynamics converges to); the scheme pays only where the target "
                "action is not already strictly best, making it best by the stated margin"
            ),
            baselines=self.no_payment_baselines(),
            details={
                "target_profile": best.target,
                "dominance_margin": best.margin,
                "on_path_payments": best.on_path_payments,
                "welfare_upper_bound": float(self.welfare.max()),
            },
        )

    # -- the Stackelberg POMDP's hooks -------------------------------------------------------

    def follower_utility_bounds(self) -> tuple[float, float]:
        """``(min(0, min u), max(1, max u + max_payment))``: every follower utility lies in it.

        Follower ``i``'s utility is ``u_i(a) + p_i`` with the payment ``p_i`` clipped into
        ``[0, max_payment]`` (per follower and profile; ``charge_payments`` changes only the
        leader's reward), so it lies in ``[min u, max u + max_payment]`` over both followers'
        base utilities ``u``; this is that interval widened to cover ``[0, 1]`` (the normalised
        default of :meth:`EconomicGame.follower_utility_bounds`). With the default game
        (normalised, largest entry 1) it is ``(0.0, 1.0 + max_payment)``: ``(0.0, 11.0)``.

        >>> MatrixDesign().follower_utility_bounds()
        (0.0, 11.0)
        """
        low = min(0.0, float(self.base_payoffs.min()))
        return low, max(1.0, float(self.base_payoffs.max()) + self.max_payment)

    # -- what trainers print and save (see EconomicGame) -------------------------------------

    @property
    def value_meaning(self) -> str:
        """The followers' welfare, net of the payments when they are charged."""
        if self.charge_payments:
            return "the followers' welfare (base utilities) minus the payments"
        return "the followers' welfare (base utilities; payments are not charged)"

    def observation_fields(self, observation: Any) -> dict[str, Any]:
        """The followers' action profile, named."""
        return {"profile": [int(a) for a in np.asarray(observation).reshape(-1)]}

    def describe_mechanism(self, mechanism: Sequence[tuple[Any, Any]]) -> list[str]:
        """One ``profile -> payments`` line per action profile."""
        return [
            f"profile {tuple(int(a) for a in obs)} -> payments {format_array(payments)}"
            for obs, payments in mechanism
        ]


def _fully_mixed_equilibrium(row, column) -> tuple[np.ndarray, np.ndarray] | None:
    """The unique fully mixed Nash equilibrium of a square bimatrix game, if there is one.

    Solves the indifference conditions ``A y = v 1``, ``Σ y = 1`` and ``xᵀ B = w 1ᵀ``,
    ``Σ x = 1``; returns ``(x, y)`` when both systems are non-singular and both solutions
    are strictly positive, else ``None`` (non-square games, degenerate games, no interior
    equilibrium).
    """
    row, column = np.asarray(row, np.float64), np.asarray(column, np.float64)
    k = row.shape[0]
    if row.shape != (k, k) or k < 2:
        return None

    def indifferent(matrix: np.ndarray) -> np.ndarray | None:
        # Unknowns (s_1..s_k, v): matrix @ s - v = 0, Σ s = 1.
        system = np.zeros((k + 1, k + 1))
        system[:k, :k] = matrix
        system[:k, k] = -1.0
        system[k, :k] = 1.0
        rhs = np.zeros(k + 1)
        rhs[k] = 1.0
        try:
            solution = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            return None
        mix = solution[:k]
        return mix if np.all(mix > 0) else None

    column_mix = indifferent(row)  # the column player's mix makes the row player indifferent
    row_mix = indifferent(column.T)
    if column_mix is None or row_mix is None:
        return None
    return row_mix, column_mix
