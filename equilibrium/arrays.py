"""Read-only arrays: the one helper that freezes what a report or a frozen description holds."""

from __future__ import annotations

import numpy as np

__all__ = ["read_only"]


def read_only(array, copy: bool = True) -> np.ndarray:
    """``array`` as a read-only ``np.ndarray``.

    Args:
        array: Anything ``np.array`` accepts.
        copy: Copy first (the default: the caller may keep writing to its own array).
            ``False`` seals ``array`` itself, for a fresh array nobody else holds; it must
            then already be an ``np.ndarray``.

    Raises:
        TypeError: If ``copy`` is ``False`` and ``array`` is not an ``np.ndarray``.
    """
    if copy:
        array = np.array(array, copy=True)
    elif not isinstance(array, np.ndarray):
        raise TypeError(f"array must be an np.ndarray when copy=False, got {type(array).__name__}")
    array.setflags(write=False)
    return array
