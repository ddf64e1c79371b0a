"""Argument and action checks shared by every setting and driver.

Each check raises ``TypeError`` (wrong kind) or ``ValueError`` (right kind, bad value) with a
message that names the argument and the value received, and never coerces: ``"no"`` is not a
flag, ``True`` is not a count, ``"3"`` is not a payoff, ``1 + 0j`` is not a price.

* :func:`check_flag`, :func:`check_count`, :func:`check_real`: scalar arguments;
* :func:`as_real_array` (:func:`check_real_kind` without the conversion): numeric tables
  (payoffs, priors, value levels);
* :func:`check_table_size`, :func:`check_game_sizes`: refuse sizes whose tables would not
  fit, before anything is allocated (the cap is :data:`MAX_TABLE_ENTRIES`);
* :class:`ActionCheck` (:func:`check_action` for one-off use): an action against a
  Gymnasium space, the drivers' one action check.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import gymnasium
import numpy as np

from stackelberg_zoo.equilibrium.games import as_finite_array

MAX_TABLE_ENTRIES = 2**24
"""The most entries (about 16.8 million, 134 MB as float64) any table of a setting may have.

A setting refuses arguments whose tables exceed it before allocating them, naming the
arguments. The tables counted are the setting's own (its prior, utility tables) and the
followers' induced Bayesian game, ``n_followers * prod(n_types) * prod(n_follower_actions)``
entries, which every setting must be able to export and the Stackelberg POMDP tracks, and the
one-hot tables of each follower's types and actions (``n_types[i] ** 2``,
``n_follower_actions[i] ** 2``) that the drivers and follower models build
(:func:`check_game_sizes`).
"""

_REAL_KINDS = frozenset("iuf")


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a ``bool``; only ``True``/``False`` (or numpy's) are flags.

    Raises:
        TypeError: On anything else (``"no"``, ``None``, ``0``, ``1.0``...).
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool (True or False), got {value!r}")
    return bool(value)


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an ``int`` of at least ``minimum``.

    Raises:
        TypeError: If it is not an integer (bools, floats and strings are not).
        ValueError: If it is below ``minimum``.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(value)


def check_real(name: str, value: Any) -> float:
    """``value`` as a finite ``float``.

    Raises:
        TypeError: If it is not a real number (bools, strings and complex numbers are not).
        ValueError: If it is NaN or infinite.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _check_real_leaves(name: str, value: Any) -> None:
    """Every leaf of nested lists/tuples must be a real, non-bool number."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, np.ndarray):
            if item.dtype.kind not in _REAL_KINDS:
                raise TypeError(f"{name} must hold real numbers, got {value!r}")
        elif isinstance(item, bool | np.bool_) or not isinstance(item, numbers.Real):
            raise TypeError(f"{name} must hold real numbers, got {item!r} in {value!r}")


def check_real_kind(name: str, value: Any) -> None:
    """Refuse anything but real numbers (or arrays and nested lists of them); no conversion.

    Numeric strings, bools, complex numbers and objects are refused; NaN and infinities are
    not checked here (see :func:`as_real_array`).

    Raises:
        TypeError: If an entry is not a real number, or an array's dtype is not integer or
            floating.
    """
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a numeric array, got {value!r}")
    if isinstance(value, list | tuple):
        _check_real_leaves(name, value)
        return
    array = np.asarray(value)
    if array.dtype == object:
        _check_real_leaves(name, array.tolist())
    elif array.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{name} must be a numeric array (integer or floating dtype), got dtype "
            f"{array.dtype}: {value!r}"
        )


def as_real_array(name: str, value: Any, min_ndim: int = 0) -> np.ndarray:
    """A numeric table as a finite float64 array, refusing anything that is not a real number.

    Unlike ``np.asarray(value, dtype=float)``, numeric strings (``"3"``), bools and complex
    numbers are refused, not converted (:func:`check_real_kind`).

    Raises:
        TypeError: If an entry is not a real number, or the array's dtype is not integer or
            floating.
        ValueError: If an entry is NaN or infinite, the nesting is ragged, or there are
            fewer than ``min_ndim`` dimensions.
    """
    check_real_kind(name, value)
    try:
        array = np.asarray(value, dtype=np.float64)
    except ValueError as error:  # ragged nesting
        raise ValueError(f"{name} must be a rectangular numeric array, got {value!r}") from error
    return as_finite_array(name, array, min_ndim=min_ndim)


def repeated(value: int, times: int) -> Iterator[int]:
    """``value``, ``times`` times, lazily: :func:`check_table_size`'s ``value ** times``.

    Unlike ``itertools.repeat``, any Python int ``times`` works (``10**30`` included).
    """
    count = 0
    while count < times:
        yield value
        count += 1


def check_table_size(arguments: Mapping[str, Any], factors: Iterable[int], table: str) -> int:
    """Refuse a table of more than :data:`MAX_TABLE_ENTRIES` entries, before it is built.

    Args:
        arguments: The arguments that fix the size, by name (quoted in the message).
        factors: The table's dimensions (any iterable of ints, e.g. ``repeated(t, n)``
            for ``t ** n``: it is consumed only until the product exceeds the cap, so even
            absurd sizes are refused at once).
        table: What the table is, for the message.

    Returns:
        The number of entries.

    Raises:
        ValueError: If the product of ``factors`` exceeds ``MAX_TABLE_ENTRIES``.
    """
    entries = 1
    for factor in factors:
        entries *= int(factor)
        if entries > MAX_TABLE_ENTRIES:
            given = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
            raise ValueError(
                f"{given}: the {table} would have more than {MAX_TABLE_ENTRIES} entries, "
                f"the most a setting may allocate (MAX_TABLE_ENTRIES); use smaller sizes"
            )
    return entries


def check_game_sizes(
    arguments: Mapping[str, Any], n_types: tuple[int, ...], n_follower_actions: tuple[int, ...]
) -> None:
    """Refuse a game whose standard tables would exceed :data:`MAX_TABLE_ENTRIES`.

    The tables every setting gets from the drivers and the follower models: the induced
    Bayesian game (``n * prod(T_i) * prod(A_i)``), the one-hot table of a follower's types
    (``max(T_i) ** 2``) and of its actions (``max(A_i) ** 2``).

    Raises:
        ValueError: Naming ``arguments`` and the table, if one is too large.
    """
    n = len(n_types)
    check_table_size(
        arguments,
        itertools.chain((n,), n_types, n_follower_actions),
        "followers' induced game (followers x type profiles x action profiles)",
    )
    check_table_size(arguments, (max(n_types),) * 2, "one-hot table of a follower's types")
    check_table_size(
        arguments, (max(n_follower_actions),) * 2, "one-hot table of a follower's actions"
    )


BOUND_SLACK = 1e-6
"""Relative slack of :class:`ActionCheck`'s ``Box`` bounds: ``BOUND_SLACK * max(1, |bound|)``.

It lets through float32 rounding of a bound (a float64 action equal to ``max_payment`` may lie
just above the float32 ``high``); the game then clips such values or refuses them."""


class ActionCheck:
    """The drivers' one action check for a Gymnasium space, built once per env.

    Calling it (or its ``check`` attribute, one call cheaper: the drivers' hot path) on an
    action validates it and returns it in the form the game takes:

    * ``Discrete``: a Python or numpy integer, or a 0-d integer array (never a bool, a float
      or a string), within ``[start, start + n)``; returned as an ``int``.
    * ``Box``: an integer or floating array (or nested lists of real numbers) of the space's
      shape, with finite entries within the bounds up to :data:`BOUND_SLACK`; bools,
      complex numbers and strings are refused, never converted. Returned unchanged.
    * Other spaces: ``space.contains(action)``; returned unchanged.

    A call raises ``TypeError`` if the action has the wrong kind, and ``ValueError`` if it
    has the wrong shape, a NaN or infinite entry, or lies outside the space.

    Args:
        space: The action space.
        who: Whose action it is, for messages (``"leader_0"`` gives "leader_0's action").
    """

    def __init__(self, space: gymnasium.Space, who: str = "the leader"):
        self.space = space
        self.name = f"{who}'s action"
        self._box = isinstance(space, gymnasium.spaces.Box)
        self._discrete = isinstance(space, gymnasium.spaces.Discrete)
        if self._discrete:
            self._start = int(space.start)
            self._stop = self._start + int(space.n)
        if self._box:
            low = space.low.astype(np.float64).ravel()
            high = space.high.astype(np.float64).ravel()
            self._low = (low - BOUND_SLACK * np.maximum(1.0, np.abs(low))).tolist()
            self._high = (high + BOUND_SLACK * np.maximum(1.0, np.abs(high))).tolist()
            self._shape = space.shape
            self._unbounded = not (np.isfinite(low).all() and np.isfinite(high).all())

        # ``check``: the validating function for this space, bound once (no dispatch per call).
        if self._discrete:
            self.check = self._index
        elif self._box:
            self.check = self._check_box
        else:
            self.check = self._contained

    def __call__(self, action: Any) -> Any:
        """Validate ``action`` (see the class docstring); the same as ``self.check(action)``."""
        return self.check(action)

    def _contained(self, action: Any) -> Any:
        if not self.space.contains(action):
            raise ValueError(f"{self.name} must be in {self.space}, got {action!r}")
        return action

    def _index(self, action: Any) -> int:
        kind = type(action)
        if kind is int or kind is np.int64:  # the common case, first
            index = int(action)
        elif isinstance(action, int | np.integer) and not isinstance(action, bool | np.bool_):
            index = int(action)
        elif isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
            index = int(action)
        else:
            raise TypeError(f"{self.name} must be an integer in {self.space}, got {action!r}")
        if not self._start <= index < self._stop:
            raise ValueError(
                f"{self.name} must be in [{self._start}, {self._stop}), got {action!r}"
            )
        return index

    def _check_box(self, action: Any) -> Any:
        if type(action) is np.ndarray and action.dtype.kind in "iuf":  # the common case
            array = action
        else:
            array = as_real_array(self.name, action)  # kind, raggedness and finiteness
        if array.shape != self._shape:
            raise ValueError(
                f"{self.name} must have shape {self._shape}, got shape {array.shape}: {action!r}"
            )
        values = array.tolist() if array.ndim == 1 else array.ravel().tolist()
        low, high = self._low, self._high
        inside = True
        for i, v in enumerate(values):  # a plain loop: the fastest for a few entries
            if not low[i] <= v <= high[i]:  # NaN fails every comparison
                inside = False
                break
        if not inside or (self._unbounded and not all(map(math.isfinite, values))):
            if not all(map(math.isfinite, values)):
                raise ValueError(f"{self.name} must be finite, got {action!r}")
            raise ValueError(f"{self.name} must be in {self.space}, got {action!r}")
        return action


def check_action(space: gymnasium.Space, action: Any, who: str = "the leader") -> Any:
    """:class:`ActionCheck` for one action (drivers build the check once instead).

    Raises:
        TypeError: If the action has the wrong kind.
        ValueError: If it has the wrong shape, a NaN or infinite entry, or lies outside the
            space.
    """
    return ActionCheck(space, who)(action)
