"""Exact keys, private copies and ``float32`` flattenings of Gymnasium space elements.

The Stackelberg POMDP keys observations and actions exactly (commitment compares them by
key), hands out copies no later mutation can reach, and writes flattened observations into a
critic's state buffer; the AEC drivers copy observations the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import gymnasium
import numpy as np


def key_function(space: gymnasium.Space, what: str) -> Callable[[Any], Hashable]:
    """An exact, hashable key for elements of ``space`` (observations or actions)."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return lambda value: int(value)
    if isinstance(
        space,
        (gymnasium.spaces.Box, gymnasium.spaces.MultiDiscrete, gymnasium.spaces.MultiBinary),
    ):
        dtype = space.dtype
        return lambda value: np.asarray(value, dtype=dtype).tobytes()
    if isinstance(space, gymnasium.spaces.Dict):
        parts = {name: key_function(sub, what) for name, sub in space.spaces.items()}
        return lambda value: tuple(fn(value[name]) for name, fn in parts.items())
    if isinstance(space, gymnasium.spaces.Tuple):
        parts = [key_function(sub, what) for sub in space.spaces]
        return lambda value: tuple(fn(v) for fn, v in zip(parts, value, strict=True))
    raise TypeError(f"the Stackelberg POMDP cannot key {what} of space {space!r}")


def copy_element(value: Any) -> Any:
    """A copy of a space element that no later mutation of ``value`` can reach."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: copy_element(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(copy_element(v) for v in value)
    return value


def flattener(space: gymnasium.Space) -> Callable[[Any], np.ndarray]:
    """``float32`` flattening of a space element, as ``gymnasium.spaces.flatten``."""
    if isinstance(space, gymnasium.spaces.Box):
        return lambda value: np.asarray(value, dtype=np.float32).ravel()
    if isinstance(space, gymnasium.spaces.Discrete):
        n, start = int(space.n), int(space.start)

        def one_hot(value):
            out = np.zeros(n, dtype=np.float32)
            out[int(value) - start] = 1.0
            return out

        return one_hot
    return lambda value: np.asarray(gymnasium.spaces.flatten(space, value), dtype=np.float32)


def observation_writer(space: gymnasium.Space) -> Callable[[np.ndarray, Any], None]:
    """Write the ``float32`` flattening of a space element into ``buffer[:d]``, in place.

    The same values as :func:`flattener` (a ``Box`` cast to ``float32``, a ``Discrete``
    one-hot), without building the flattened array.
    """
    flatten = flattener(space)
    if isinstance(space, gymnasium.spaces.Box):
        size = int(np.prod(space.shape))
        if len(space.shape) == 1:

            def write_box(buffer, value):
                buffer[:size] = value

            return write_box

        def write_nd(buffer, value):
            buffer[:size] = np.asarray(value, dtype=np.float32).ravel()

        return write_nd
    if isinstance(space, gymnasium.spaces.Discrete):
        n, start = int(space.n), int(space.start)

        def write_one_hot(buffer, value):
            buffer[:n] = 0.0
            buffer[int(value) - start] = 1.0

        return write_one_hot
    if isinstance(space, gymnasium.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        # gymnasium.spaces.flatten: one one-hot block per entry, blocks side by side.
        offsets = np.concatenate([[0], np.cumsum(space.nvec)[:-1]]) - space.start
        total = int(space.nvec.sum())
        offset_list = offsets.tolist()

        def write_multi_one_hot(buffer, value):
            buffer[:total] = 0.0
            for offset, entry in zip(offset_list, np.asarray(value).tolist(), strict=True):
                buffer[offset + entry] = 1.0

        return write_multi_one_hot
    size = int(gymnasium.spaces.flatdim(space))

    def write_flat(buffer, value):
        buffer[:size] = flatten(value)

    return write_flat


def critic_state_space(observation_space: gymnasium.Space, n_features: int) -> gymnasium.spaces.Box:
    """The Stackelberg POMDP's state for a centralized critic, as a ``float32`` Box.

    The flattened ``observation_space``, then the phase and the progress through it (each in
    [0, 1]), then ``n_features`` normalised follower-learner features (each in [-1, 1]).
    """
    flat = gymnasium.spaces.flatten_space(observation_space)
    low = np.concatenate([flat.low, [0.0, 0.0], np.full(n_features, -1.0)])
    high = np.concatenate([flat.high, [1.0, 1.0], np.full(n_features, 1.0)])
    return gymnasium.spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)


def canonical_key_function(space: gymnasium.Space) -> Callable[[Any], Hashable | None] | None:
    """The action key of *canonical* actions of ``space``, ``None`` for the others.

    Canonical: an ``int`` or ``np.int64`` for ``Discrete`` (key ``int(a)``); an ``np.ndarray``
    of the space's exact dtype and shape for ``Box``, ``MultiDiscrete`` and ``MultiBinary``
    (key: its bytes). The key equals :func:`key_function`'s, and it determines the action's
    value. Returns ``None`` (no fast path) for other spaces.
    """
    if isinstance(space, gymnasium.spaces.Discrete):

        def discrete_key(action):
            kind = type(action)
            return int(action) if kind is int or kind is np.int64 else None

        return discrete_key
    if isinstance(
        space,
        (gymnasium.spaces.Box, gymnasium.spaces.MultiDiscrete, gymnasium.spaces.MultiBinary),
    ):
        dtype, shape = space.dtype, space.shape

        def array_key(action):  # builtin dtypes are singletons; any other takes the long way
            if type(action) is np.ndarray and action.dtype is dtype and action.shape == shape:
                return action.tobytes()
            return None

        return array_key
    return None


def same_element(a: Any, b: Any) -> bool:
    """Exact equality of two space elements (arrays, numbers, dicts, tuples)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_element(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same_element(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
