"""The batched core's commitment cache: each copy's binding leader action per observation.

Each setting's batched game numbers its finitely many leader observations
(``observation_ids``); the committed actions live in a per-copy cache
``[B, n_observation_ids, *action_shape]`` with a filled mask, cleared when the copy starts an
episode. The first action at an observation binds; later different ones (compared bit for
bit, after the cast to the action space's dtype) are replaced and flagged, exactly as in the
single environment.
"""

from __future__ import annotations

import gymnasium
import numpy as np

MAX_OBSERVATION_IDS = 1 << 16
"""The largest number of distinct leader observations the commitment cache holds per copy."""

SMALL_AXIS = 7
"""Rows up to this long are reduced column by column: numpy's ``axis=1`` reductions cost far
more than the arithmetic on short rows (``or`` is exact in any order)."""


def row_any(x: np.ndarray) -> np.ndarray:
    """``bool[k]`` whether each row of the boolean ``x [k, A]`` has a true entry."""
    if x.shape[1] > SMALL_AXIS:
        return x.any(axis=1)
    found = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        found |= x[:, j]
    return found


class CommitmentCache:
    """Every copy's binding action per observation id (see the module docstring).

    Args:
        num_envs: ``B``.
        n_ids: Distinct leader observations (``BatchedGame.n_observation_ids``).
        action_space: The leader's action space (the cache's shape and dtype).
        observation_space: The leader's observation space, if the observation at which each
            binding action was taken must be kept (for the diagnostics' replay), else ``None``.

    Raises:
        ValueError: If ``n_ids`` exceeds :data:`MAX_OBSERVATION_IDS`.
    """

    def __init__(
        self,
        num_envs: int,
        n_ids: int,
        action_space: gymnasium.Space,
        observation_space: gymnasium.Space | None = None,
    ):
        if n_ids > MAX_OBSERVATION_IDS:
            raise ValueError(
                f"the game has {n_ids} distinct leader observations, more than "
                f"MAX_OBSERVATION_IDS={MAX_OBSERVATION_IDS} the commitment cache holds"
            )
        shape = action_space.shape
        self.num_envs = num_envs
        self.n_ids = n_ids
        self.cache = np.zeros((num_envs * n_ids,) + shape, dtype=action_space.dtype)
        self.filled = np.zeros(num_envs * n_ids, dtype=bool)
        self.copies = np.arange(num_envs)
        self.id_base = self.copies * n_ids
        self.action_ndim = len(shape)
        self.observation_space = observation_space
        if observation_space is not None:
            self.observations = np.zeros(
                (num_envs * n_ids,) + observation_space.shape, dtype=observation_space.dtype
            )

    def clear(self, index: np.ndarray) -> None:
        """Forget copies ``index``'s binding actions (their new episodes)."""
        self.filled.reshape(self.num_envs, -1)[index] = False

    def bind(
        self, actions: np.ndarray, ids: np.ndarray | None, observations: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One action per copy at observation ``ids`` (``None``: a game with a single one).

        Fresh observations bind their action (taken at ``observations``, ``[B, ...]``).

        Returns:
            ``(cached, filled, differs)``: the binding actions ``[B, ...]`` (valid where
            ``filled``), ``bool[B]`` whether one was bound before this action, and
            ``bool[B]`` whether this action differs from it bit for bit.
        """
        slots = self.copies if ids is None else self.id_base + ids
        filled = self.filled[slots]
        cached = self.cache.take(slots, axis=0)
        if self.action_ndim:
            unsigned = np.dtype(f"u{actions.dtype.itemsize}")
            bits = actions.view(unsigned).reshape(self.num_envs, -1)
            old = cached.view(unsigned).reshape(self.num_envs, -1)
            differs = filled & row_any(bits != old)
        else:
            differs = filled & (actions != cached)
        fresh = ~filled
        if fresh.any():
            self.cache[slots[fresh]] = actions[fresh]
            self.filled[slots[fresh]] = True
            if self.observation_space is not None:
                self.observations[slots[fresh]] = observations[fresh]
        return cached, filled, differs

    def actions(self, b: int) -> dict[int, np.ndarray]:
        """Copy ``b``'s binding action per observation id seen this episode."""
        ids = np.flatnonzero(self.filled[b * self.n_ids : (b + 1) * self.n_ids])
        return {int(k): self.cache[b * self.n_ids + k].copy() for k in ids}

    def observation_key(self, observation) -> bytes:
        """An exact key of a leader observation (its bytes in the space's dtype)."""
        return np.asarray(observation, dtype=self.observation_space.dtype).tobytes()

    def policy(self, b: int) -> dict[bytes, tuple[None, np.ndarray]]:
        """Copy ``b``'s binding actions keyed by :meth:`observation_key` (kept observations)."""
        slots = b * self.n_ids + np.flatnonzero(self.filled[b * self.n_ids : (b + 1) * self.n_ids])
        return {
            self.observation_key(self.observations[k]): (None, self.cache[k].copy())
            for k in slots.tolist()
        }
