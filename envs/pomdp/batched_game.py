"""One setting's sub-game logic for ``B`` environments at once: the batched game protocol.

Each setting with a batched form implements :class:`BatchedGame` in
``envs/<setting>/batched.py``, reproducing its scalar game's arithmetic exactly; the batched
Stackelberg POMDP (:mod:`.batched`) drives it.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.validation import check_real_kind


def first_bad(mask: np.ndarray) -> int:
    """The first index where the boolean ``mask`` is true (for error messages)."""
    return int(np.flatnonzero(mask)[0])


class BatchedGame(abc.ABC):
    """One setting's sub-game logic for ``B`` environments at once, on arrays.

    The batched POMDP keeps every copy inside a sub-game at all times (the next one starts in
    the step that ends the last), so :meth:`leader_step` acts on the whole batch. Every
    sub-game must give the leader at least one turn. Subclasses must reproduce their scalar
    game's arithmetic exactly.

    Args:
        game: The scalar game (the source of every table and hyperparameter).
        num_envs: ``B``.

    Attributes:
        n_observation_ids: How many distinct leader observations there are (ids are
            ``0..n_observation_ids - 1``).
    """

    n_observation_ids: int

    def __init__(self, game: EconomicGame, num_envs: int):
        self.game = game
        self.num_envs = num_envs
        self.action_space = game.leader_action_space
        self.observation_space = game.leader_observation_space
        self.all_over = np.ones(num_envs, dtype=bool)
        self.all_over.setflags(write=False)

    @abc.abstractmethod
    def start(self, index: np.ndarray | slice, types: np.ndarray, actions: np.ndarray) -> None:
        """Begin sub-games in copies ``index`` at ``types`` and ``actions [k, n]``.

        ``index`` is a sorted ``int64[k]`` or ``slice(None)`` (every copy).
        """

    @abc.abstractmethod
    def observation_ids(self) -> np.ndarray:
        """``int64[B]`` the id of every copy's current leader observation (do not modify)."""

    @abc.abstractmethod
    def observations(self) -> np.ndarray:
        """``[B, ...]`` every copy's leader observation (a fresh array, the space's dtype)."""

    @abc.abstractmethod
    def flat_observations(self) -> np.ndarray:
        """``float32[B, d]`` the observations flattened as ``gymnasium.spaces.flatten`` does."""

    @abc.abstractmethod
    def check_actions(self, actions: Any) -> np.ndarray:
        """Validate a batch of leader actions; return them in the action space's dtype.

        Raises:
            TypeError: On the wrong kind or shape of array.
            ValueError: On an action outside the setting's action space (the message names
                the value and the env index).
        """

    @abc.abstractmethod
    def leader_step(self, actions: np.ndarray) -> np.ndarray:
        """Apply one (checked) leader action in every copy; return ``bool[B]`` sub-game over."""

    @abc.abstractmethod
    def outcome(self, index: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Utilities of the ended sub-games ``index``: leader ``[k]``, followers ``[k, n]``.

        ``index`` is a sorted ``int64[k]`` or ``slice(None)`` (every copy).
        """

    def as_box_actions(self, actions: Any, shape: tuple[int, ...]) -> np.ndarray:
        """``actions`` as a ``[B, *shape]`` array of the ``Box`` action space's dtype.

        Raises:
            TypeError: If it is not real-valued (bools, complex numbers and strings are
                refused) or has another shape.
        """
        dtype = self.action_space.dtype
        check_real_kind("the leader's actions", actions)  # no bools, complex, strings
        try:
            array = np.ascontiguousarray(actions, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"the leader's actions must be numeric, got {actions!r}") from error
        expected = (self.num_envs,) + shape
        if array.shape != expected:
            raise TypeError(
                f"the leader's actions must have shape {expected}, got shape {array.shape}"
            )
        return array

    def as_discrete_actions(self, actions: Any, n: int, what: str) -> np.ndarray:
        """``actions`` as ``int64[B]``, each in ``[0, n)``; ``what`` names one in messages.

        Raises:
            TypeError: If it is not an integer array of shape ``[B]``.
            ValueError: If an action is out of range (the message names the env index).
        """
        B = self.num_envs
        check_real_kind("the leader's actions", actions)  # no bools, even inside a list
        actions = np.asarray(actions)
        if actions.shape != (B,) or actions.dtype.kind not in "iu":
            raise TypeError(
                f"the leader's actions must be an integer array of shape ({B},), got "
                f"{actions.dtype} array of shape {actions.shape}: {actions!r}"
            )
        bad = (actions < 0) | (actions >= n)
        if bad.any():
            b = first_bad(bad)
            raise ValueError(
                f"the {what} must be in [0, {n}), got {actions[b].item()!r} at env index {b}"
            )
        return actions.astype(np.int64, copy=False)
