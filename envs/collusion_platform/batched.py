"""The collusion platform's period for ``B`` environments at once (the batched POMDP's hot path).

The same period as :class:`~stackelberg_zoo.envs.collusion_platform.game.CollusionPlatform`
on arrays ``prices[B, 2]`` and ``threshold[B]``; utilities are read from the scalar game's
own tables, so both agree bit for bit. The observation (the price profile ``i * m + j``) is
also its id.
"""

from __future__ import annotations

import numpy as np

from stackelberg_zoo.envs.collusion_platform.game import CollusionPlatform
from stackelberg_zoo.envs.pomdp.batched_game import BatchedGame


class BatchedCollusionPlatform(BatchedGame):
    """:class:`CollusionPlatform` for ``num_envs`` environments.

    Args:
        game: The scalar game (grid and utility tables).
        num_envs: ``B``.
    """

    def __init__(self, game: CollusionPlatform, num_envs: int):
        if not isinstance(game, CollusionPlatform):
            raise TypeError(f"game must be a CollusionPlatform, got {game!r}")
        super().__init__(game, num_envs)
        self.n_prices = game.n_prices
        self.n_observation_ids = game.n_prices**2
        self.profile = np.zeros(num_envs, dtype=np.int64)
        self.threshold = np.zeros(num_envs, dtype=np.int64)
        self._surplus = game.surplus_table.reshape(-1)
        self._profits = game.profit_table.reshape(-1, 2)
        self._one_hot = np.eye(self.n_observation_ids, dtype=np.float32)

    def start(self, index, types, actions):
        """Begin periods at the sellers' price indices ``actions [k, 2]``."""
        self.profile[index] = actions[:, 0] * self.n_prices + actions[:, 1]

    def observation_ids(self):
        """The price profiles."""
        return self.profile

    def observations(self):
        """``int64[B]`` the price profiles ``i * m + j``."""
        return self.profile.copy()

    def flat_observations(self):
        """``float32[B, m * m]`` one-hot price profiles."""
        return self._one_hot[self.profile]

    def check_actions(self, actions):
        """``int[B]`` thresholds in ``[0, m)``."""
        return self.as_discrete_actions(actions, self.n_prices, "threshold action")

    def leader_step(self, actions):
        """Set the thresholds; every period is over."""
        self.threshold[...] = actions
        return self.all_over

    def outcome(self, index):
        """Surplus and profits from the scalar game's tables."""
        key = self.profile[index] * self.n_prices + self.threshold[index]
        return self._surplus[key], self._profits[key]
