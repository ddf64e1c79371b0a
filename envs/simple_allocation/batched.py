"""Simple allocation with messages for ``B`` environments at once (the batched POMDP's hot path).

The same sub-game as :class:`~stackelberg_zoo.envs.simple_allocation.game.SimpleAllocation`
on arrays ``type[B]``, ``message[B]``, ``item[B]``. The leader's observation is the message,
which is also its observation id.
"""

from __future__ import annotations

import numpy as np

from stackelberg_zoo.envs.pomdp.batched_game import BatchedGame
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation


class BatchedSimpleAllocation(BatchedGame):
    """:class:`SimpleAllocation` for ``num_envs`` environments.

    Args:
        game: The scalar game (messages, types, prior).
        num_envs: ``B``.
    """

    def __init__(self, game: SimpleAllocation, num_envs: int):
        if not isinstance(game, SimpleAllocation):
            raise TypeError(f"game must be a SimpleAllocation, got {game!r}")
        super().__init__(game, num_envs)
        self.n_items = game.n_types[0]
        self.n_messages = game.n_messages
        self.n_observation_ids = self.n_messages
        self.type = np.zeros(num_envs, dtype=np.int64)
        self.message = np.zeros(num_envs, dtype=np.int64)
        self.item = np.zeros(num_envs, dtype=np.int64)
        self._one_hot = np.eye(self.n_messages, dtype=np.float32)

    def start(self, index, types, actions):
        """Begin sub-games: the follower of type ``types[:, 0]`` sent ``actions[:, 0]``."""
        self.type[index] = types[:, 0]
        self.message[index] = actions[:, 0]

    def observation_ids(self):
        """The messages."""
        return self.message

    def observations(self):
        """``int64[B]`` the messages."""
        return self.message.copy()

    def flat_observations(self):
        """``float32[B, n_messages]`` one-hot messages."""
        return self._one_hot[self.message]

    def check_actions(self, actions):
        """``int[B]`` items in ``[0, n_types)``."""
        return self.as_discrete_actions(actions, self.n_items, "item")

    def leader_step(self, actions):
        """Allocate; every sub-game is over."""
        self.item[...] = actions
        return self.all_over

    def outcome(self, index):
        """Both get 1 if the item is the type, else 0."""
        value = (self.item[index] == self.type[index]).astype(np.float64)
        return value, value[:, None]
