"""Per-copy uniform streams for the batched core: each copy reads its own generator in order.

The single environment draws every random quantity (type profiles and follower actions, by
inverse CDF) from ``rng.random()``, one double at a time. Copy ``b`` of the batched core owns a
``np.random.Generator`` made exactly as Gymnasium makes the single env's and consumes the same
doubles in the same order, read from a block buffer ``[B, K]`` refilled per copy
(``Generator.random(K)`` yields the same doubles as ``K`` calls of ``Generator.random()``).
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding

UNIFORM_BLOCK = 256
"""Doubles drawn per refill of a copy's uniform buffer."""


class UniformStreams:
    """One ``np.random.Generator`` per copy, read one double at a time from block buffers.

    Copy ``b`` consumes exactly the doubles ``generators[b].random()`` would return, in order.

    Args:
        num_envs: ``B``.
        block: Doubles per refill.
    """

    def __init__(self, num_envs: int, block: int = UNIFORM_BLOCK):
        self.block = block
        self.generators: list[np.random.Generator | None] = [None] * num_envs
        self._buffer = np.zeros((num_envs, block))
        self._cursor = np.full(num_envs, block, dtype=np.int64)

    def seed(self, index: int, generator: np.random.Generator) -> None:
        """Give copy ``index`` a fresh generator (its buffer is emptied)."""
        self.generators[index] = generator
        self._cursor[index] = self.block

    def draw(self, index: np.ndarray) -> np.ndarray:
        """One double for each copy in ``index`` (``int64[k]``, no repeats)."""
        cursor = self._cursor[index]
        empty = cursor == self.block
        if empty.any():
            for b in index[empty].tolist():
                self._buffer[b] = self.generators[b].random(self.block)
            cursor[empty] = 0
        values = self._buffer[index, cursor]
        self._cursor[index] = cursor + 1
        return values


def make_generators(seed: int | list[int | None] | None, num_envs: int) -> list:
    """Per-copy generators as Gymnasium seeds them: ``seed + b`` for an int, one per entry.

    Raises:
        ValueError: On a list of the wrong length.
        gymnasium.error.Error: On a negative or non-integer seed.
    """
    if seed is None or isinstance(seed, (int, np.integer)):
        seeds = [None] * num_envs if seed is None else [int(seed) + b for b in range(num_envs)]
    else:
        seeds = list(seed)
        if len(seeds) != num_envs:
            raise ValueError(f"need {num_envs} seeds, got {len(seeds)}: {seed!r}")
    return [seeding.np_random(s)[0] for s in seeds]
