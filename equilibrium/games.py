"""Finite games as dense payoff arrays: complete-information and Bayesian.

Shapes, fixed across the package:

* ``NormalFormGame.payoffs``: ``[n_players, A_1, ..., A_n]``; entry ``[i, a]`` is player
  ``i``'s utility at the action profile ``a``.
* ``BayesianGame.payoffs``: ``[n_players, T_1, ..., T_n, A_1, ..., A_n]``; entry
  ``[i, θ, a]`` is player ``i``'s utility at type profile ``θ`` and action profile ``a``
  (utilities may depend on every player's type). ``BayesianGame.prior``: ``[T_1, ..., T_n]``,
  a joint distribution that may be correlated.

Payoffs are utilities (players maximise). Arrays are copied and made read-only on
construction, so a game is an immutable value.
"""

from __future__ import annotations

import itertools
import numbers
import reprlib
from collections.abc import Sequence

import numpy as np

PRIOR_TOL = 1e-9
"""How far a prior's total may be from 1 before it is rejected."""


def check_tolerance(name: str, value) -> float:
    """Validate a tolerance and return it as a float: a real, finite number ``>= 0``.

    Every tolerance argument in this package goes through here, so a NaN, a negative
    number, a bool or a string is refused with an error that names the argument.

    Args:
        name: The argument's name, used in error messages.
        value: The tolerance received.

    Raises:
        TypeError: If ``value`` is a bool or not a real number.
        ValueError: If it is NaN, infinite or negative.

    Example:
        >>> check_tolerance("tol", 1e-9)
        1e-09
    """
    if isinstance(value, (bool, np.bool_, np.complexfloating)) or not isinstance(
        value, (numbers.Real, np.number)
    ):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = np.inf
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return number


_NOT_FOUND = object()


def _first_non_number(value):
    """The first bool or non-real entry of nested lists/tuples/object arrays, or _NOT_FOUND."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, np.ndarray):
            if item.dtype.kind == "O":
                stack.extend(reversed(item.ravel().tolist()))
            elif item.dtype.kind not in "iuf":
                return item
        elif isinstance(item, (bool, np.bool_, np.complexfloating)):
            return item
        elif not isinstance(item, (numbers.Real, np.number)):
            try:  # e.g. a tensor: accepted if numpy reads it as a real array
                kind = np.asarray(item).dtype.kind
            except (TypeError, ValueError):
                kind = "O"
            if kind not in "iuf":
                return item
    return _NOT_FOUND


def as_finite_array(name: str, value, min_ndim: int = 0) -> np.ndarray:
    """Return ``value`` as a float64 array, rejecting non-numeric, NaN and infinite entries.

    Only real numbers are accepted: strings (even numeric ones such as ``"1"``), bools,
    complex numbers and other objects are refused rather than converted.

    Args:
        name: What the value is, used in error messages.
        value: A real number, a (nested) sequence of real numbers, or a numeric array.
        min_ndim: The smallest number of dimensions accepted.

    Raises:
        TypeError: If ``value`` or an entry is not a real number (a bool or a string
            included).
        ValueError: If it has NaN or infinite entries, or fewer than ``min_ndim`` dimensions.
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array, got {reprlib.repr(value)}") from error
    bad = _NOT_FOUND
    if raw.dtype.kind == "O" or (raw.dtype.kind in "iuf" and isinstance(value, (list, tuple))):
        bad = _first_non_number(value)  # numpy turns [True, 2] into integers
    elif raw.dtype.kind not in "iuf":
        bad = value
    if bad is not _NOT_FOUND:
        raise TypeError(
            f"{name} must be a numeric array of real numbers (no bools or strings), got "
            f"{reprlib.repr(value)}" + ("" if bad is value else f" (entry {bad!r})")
        )
    try:
        array = raw.astype(np.float64)
    except OverflowError as error:
        raise ValueError(f"{name} must be finite, got {reprlib.repr(value)}") from error
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array, got {reprlib.repr(value)}") from error
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name} must be finite, got {array[tuple(bad)]} at index {tuple(int(k) for k in bad)}"
        )
    return array


def check_range(name: str, array: np.ndarray) -> None:
    """Refuse a payoff array whose range ``max − min`` overflows float64.

    Solvers divide by the range (each player's LP rows are rescaled by it), so entries
    such as ``±1e308`` are refused up front instead of turning into ``inf``/``nan`` there.

    Raises:
        ValueError: If ``max − min`` is not finite.
    """
    if array.size and not np.isfinite(float(array.max()) - float(array.min())):
        raise ValueError(
            f"{name} must have a finite range max - min, got entries from {array.min()!r} to "
            f"{array.max()!r}"
        )


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


class NormalFormGame:
    """A finite game of complete information.

    Args:
        payoffs: ``[n_players, A_1, ..., A_n]`` utilities.
        action_names: Optional names, one sequence per player, for printing.

    Raises:
        TypeError: If an entry is not a real number (bools and strings included).
        ValueError: If the shape does not match ``n_players = payoffs.shape[0]``, a player
            has no actions, an entry is NaN or infinite, or ``max − min`` overflows.

    Example:
        >>> game = bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])   # prisoner's dilemma
        >>> game.n_players, game.n_actions
        (2, (2, 2))
        >>> float(game.expected_payoffs(np.full((2, 2), 0.25))[0])
        2.25
    """

    def __init__(self, payoffs, action_names: Sequence[Sequence[str]] | None = None):
        payoffs = as_finite_array("payoffs", payoffs, min_ndim=2)
        n_players = payoffs.shape[0]
        if payoffs.ndim != 1 + n_players:
            raise ValueError(
                f"payoffs must have shape [n_players, A_1, ..., A_n] with n_players = "
                f"payoffs.shape[0] = {n_players}, so {1 + n_players} dimensions; got shape "
                f"{payoffs.shape}"
            )
        if min(payoffs.shape) < 1:
            raise ValueError(f"every player needs at least one action, got shape {payoffs.shape}")
        check_range("payoffs", payoffs)
        self.payoffs = _frozen(payoffs)
        if action_names is not None:
            action_names = tuple(tuple(str(a) for a in names) for names in action_names)
            if tuple(len(names) for names in action_names) != self.n_actions:
                raise ValueError(
                    f"action_names must give {self.n_actions} names per player, got "
                    f"{tuple(len(names) for names in action_names)}"
                )
        self.action_names = action_names

    @property
    def n_players(self) -> int:
        """Number of players."""
        return self.payoffs.shape[0]

    @property
    def n_actions(self) -> tuple[int, ...]:
        """Number of actions of each player."""
        return self.payoffs.shape[1:]

    def payoff_range(self, player: int) -> float:
        """Largest minus smallest utility of ``player`` (regret bounds scale with it)."""
        values = self.payoffs[player]
        return float(values.max() - values.min())

    def expected_payoffs(self, mu) -> np.ndarray:
        """Expected utility of every player under a joint distribution ``mu[A_1..A_n]``."""
        mu = check_distribution("mu", mu, self.n_actions)
        return (self.payoffs * mu).reshape(self.n_players, -1).sum(axis=1)

    def __repr__(self) -> str:
        return f"NormalFormGame(n_actions={self.n_actions})"


def bimatrix(row_payoffs, column_payoffs) -> NormalFormGame:
    """Two-player game from the row player's and the column player's payoff matrices.

    Raises:
        ValueError: If the two matrices are not 2-D arrays of the same shape.
    """
    row = as_finite_array("row_payoffs", row_payoffs)
    column = as_finite_array("column_payoffs", column_payoffs)
    if row.ndim != 2 or row.shape != column.shape:
        raise ValueError(
            f"row_payoffs and column_payoffs must be matrices of the same shape, got "
            f"{row.shape} and {column.shape}"
        )
    return NormalFormGame(np.stack([row, column]))


def check_distribution(name: str, p, shape: tuple[int, ...], tol: float = PRIOR_TOL) -> np.ndarray:
    """Validate a probability array of the given shape and return it as float64.

    Raises:
        TypeError: If ``p`` is not numeric, or ``tol`` is not a real number.
        ValueError: If the shape differs, an entry is negative (beyond ``-tol``), NaN or
            infinite, the total differs from 1 by more than ``tol`` per entry count, or
            ``tol`` is negative or not finite.
    """
    tol = check_tolerance("tol", tol)
    p = as_finite_array(name, p)
    if p.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {p.shape}")
    if np.any(p < -tol):
        raise ValueError(f"{name} must be non-negative, got minimum entry {p.min()}")
    total = p.sum()
    if abs(total - 1.0) > tol * max(1, p.size):
        raise ValueError(f"{name} must sum to 1, got total {total}")
    return p


class BayesianGame:
    """A finite game of incomplete information with a joint (possibly correlated) prior.

    Args:
        payoffs: ``[n_players, T_1, ..., T_n, A_1, ..., A_n]`` utilities.
        prior: ``[T_1, ..., T_n]`` joint distribution of the type profile.

    Raises:
        TypeError: If an entry is not a real number (bools and strings included).
        ValueError: On a shape mismatch, NaN or infinite entries, a payoff range that
            overflows, or a prior that is negative or does not sum to 1.

    Example:
        >>> prior = [[0.4, 0.1], [0.1, 0.4]]                 # correlated types
        >>> payoffs = np.zeros((2, 2, 2, 3, 3))
        >>> game = BayesianGame(payoffs, prior)
        >>> game.n_types, game.n_actions
        ((2, 2), (3, 3))
        >>> game.conditional_prior(0, 0).round(2).tolist()
        [0.8, 0.2]
    """

    def __init__(self, payoffs, prior):
        payoffs = as_finite_array("payoffs", payoffs, min_ndim=3)
        n_players = payoffs.shape[0]
        if payoffs.ndim != 1 + 2 * n_players:
            raise ValueError(
                f"payoffs must have shape [n_players, T_1..T_n, A_1..A_n] with n_players = "
                f"payoffs.shape[0] = {n_players}, so {1 + 2 * n_players} dimensions; got shape "
                f"{payoffs.shape}"
            )
        if min(payoffs.shape) < 1:
            raise ValueError(f"every player needs a type and an action, got shape {payoffs.shape}")
        check_range("payoffs", payoffs)
        self.payoffs = _frozen(payoffs)
        self.prior = _frozen(check_distribution("prior", prior, self.n_types))

    @classmethod
    def from_normal_form(cls, game: NormalFormGame) -> BayesianGame:
        """The same game with one type per player."""
        n = game.n_players
        payoffs = game.payoffs.reshape((n,) + (1,) * n + game.n_actions)
        return cls(payoffs, np.ones((1,) * n))

    @property
    def n_players(self) -> int:
        """Number of players."""
        return self.payoffs.shape[0]

    @property
    def n_types(self) -> tuple[int, ...]:
        """Number of types of each player."""
        return self.payoffs.shape[1 : 1 + self.n_players]

    @property
    def n_actions(self) -> tuple[int, ...]:
        """Number of actions of each player."""
        return self.payoffs.shape[1 + self.n_players :]

    def payoff_range(self, player: int) -> float:
        """Largest minus smallest utility of ``player`` over all types and actions."""
        values = self.payoffs[player]
        return float(values.max() - values.min())

    def type_marginal(self, player: int) -> np.ndarray:
        """``P(θ_i)``: the prior's marginal over ``player``'s types."""
        axes = tuple(j for j in range(self.n_players) if j != player)
        return self.prior.sum(axis=axes)

    def conditional_prior(self, player: int, type_index: int) -> np.ndarray:
        """``p(θ_-i | θ_i)`` over the other players' types, in player order.

        Raises:
            ValueError: If the type index is out of range or has zero prior probability.
        """
        if not 0 <= type_index < self.n_types[player]:
            raise ValueError(
                f"type_index must be in [0, {self.n_types[player]}) for player {player}, "
                f"got {type_index}"
            )
        slice_ = np.take(self.prior, type_index, axis=player)
        mass = slice_.sum()
        if mass <= 0:
            raise ValueError(f"type {type_index} of player {player} has zero prior probability")
        return slice_ / mass

    def agent_form(self) -> NormalFormGame:
        """Selten's agent form: one player per (player, type), prior-weighted payoffs.

        Agent ``(i, θ_i)`` chooses an action of player ``i``; its utility is
        ``Σ_{θ_-i} p(θ_i, θ_-i) u_i(s(θ); θ)`` where ``s(θ)`` is the action each agent of the
        realised types chooses. Agents are ordered by player, then type. The result has
        ``Π_i A_i^{T_i}`` profiles, so this is for tiny games (tests, brute force).
        """
        n = self.n_players
        agents = [(i, t) for i in range(n) for t in range(self.n_types[i])]
        agent_actions = tuple(self.n_actions[i] for i, _ in agents)
        payoffs = np.zeros((len(agents),) + agent_actions)
        for profile in itertools.product(*(range(k) for k in agent_actions)):
            chosen = {agent: action for agent, action in zip(agents, profile, strict=True)}
            for theta in itertools.product(*(range(k) for k in self.n_types)):
                weight = self.prior[theta]
                if weight == 0:
                    continue
                actions = tuple(chosen[(i, theta[i])] for i in range(n))
                for i in range(n):
                    payoffs[(agents.index((i, theta[i])),) + profile] += (
                        weight * self.payoffs[(i,) + theta + actions]
                    )
        return NormalFormGame(payoffs)

    def induced_normal_form(self) -> NormalFormGame:
        """The ex-ante game whose strategies are type-contingent plans ``s_i: Θ_i -> A_i``.

        Player ``i``'s plans are enumerated as ``itertools.product(range(A_i), repeat=T_i)``
        (plan ``s`` plays ``s[θ_i]`` at type ``θ_i``). Payoffs are prior expectations. Tiny
        games only: ``A_i^{T_i}`` strategies per player.
        """
        n = self.n_players
        plans = [
            list(itertools.product(range(self.n_actions[i]), repeat=self.n_types[i]))
            for i in range(n)
        ]
        payoffs = np.zeros((n,) + tuple(len(p) for p in plans))
        for plan_indices in itertools.product(*(range(len(p)) for p in plans)):
            for theta in itertools.product(*(range(k) for k in self.n_types)):
                weight = self.prior[theta]
                if weight == 0:
                    continue
                actions = tuple(plans[i][plan_indices[i]][theta[i]] for i in range(n))
                payoffs[(slice(None),) + plan_indices] += (
                    weight * self.payoffs[(slice(None),) + theta + actions]
                )
        return NormalFormGame(payoffs)

    def __repr__(self) -> str:
        return f"BayesianGame(n_types={self.n_types}, n_actions={self.n_actions})"
