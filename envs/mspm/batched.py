"""Sequential price mechanisms with messages for ``B`` environments at once.

The same sub-game as :class:`~stackelberg_zoo.envs.mspm.game.SequentialPriceMechanism` on
arrays ``[B, n]`` (types, messages, status: unvisited / passed / bought, prices) and
``units_left[B]``; observations are read from a table by observation id where it is small.
Sub-games last one to ``n`` leader turns, so :meth:`BatchedSequentialPriceMechanism.
leader_step` reports which copies finished; the POMDP starts new sub-games only there.

Observation ids: each follower is in one of three states (unvisited, visited without buying,
bought: the units left follow from them) and sent one of ``m`` messages, so the id
``Σ_i s_i 3^i + 3^n Σ_i msg_i m^i`` numbers the ``3^n m^n`` possible observations.
"""

from __future__ import annotations

import numpy as np

from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.pomdp.batched_game import BatchedGame, first_bad
from stackelberg_zoo.envs.pomdp.commitment import row_any


class BatchedSequentialPriceMechanism(BatchedGame):
    """:class:`SequentialPriceMechanism` for ``num_envs`` environments.

    Args:
        game: The scalar game (values, prior, units, messages).
        num_envs: ``B``.
    """

    def __init__(self, game: SequentialPriceMechanism, num_envs: int):
        if not isinstance(game, SequentialPriceMechanism):
            raise TypeError(f"game must be a SequentialPriceMechanism, got {game!r}")
        super().__init__(game, num_envs)
        n, m = game.n_followers, game.n_messages
        self.n, self.m = n, m
        self.n_units = game.n_units
        self.n_observation_ids = 3**n * m**n
        width = max(game.n_types)
        self._values = np.zeros((n, width))
        for i, row in enumerate(game.values):
            self._values[i, : row.size] = row
        self._first_best = np.asarray(game.first_best)
        self._state_weights = 3 ** np.arange(n)
        self._message_weights = 3**n * m ** np.arange(n)
        self._followers = np.arange(n)
        self.width = 2 * n + 1 + n * m
        self.types = np.zeros((num_envs, n), dtype=np.int64)
        self.messages = np.zeros((num_envs, n), dtype=np.int64)
        self.status = np.zeros((num_envs, n), dtype=np.int64)
        """``[B, n]``: 0 not visited yet, 1 visited without buying, 2 bought."""
        self.prices = np.zeros((num_envs, n))
        self.units_left = np.full(num_envs, self.n_units, dtype=np.int64)
        self._rows = np.arange(num_envs)
        # Observations by id, when the table is small enough.
        self._table = self._observation_table() if self.n_observation_ids <= 4096 else None

    def _observation_table(self) -> np.ndarray:
        """``float32[n_observation_ids, width]`` the observation of every id."""
        ids = np.arange(self.n_observation_ids)
        status = (ids[:, None] // self._state_weights) % 3
        messages = (ids[:, None] // self._message_weights) % self.m
        return self._assemble(status, messages)

    def _assemble(self, status: np.ndarray, messages: np.ndarray) -> np.ndarray:
        n, m, k = self.n, self.m, status.shape[0]
        obs = np.zeros((k, self.width), dtype=np.float32)
        obs[:, :n] = status == 0
        bought = status == 2
        obs[:, n] = (self.n_units - bought.sum(axis=1)) / self.n_units
        obs[:, n + 1 : 2 * n + 1] = bought
        columns = 2 * n + 1 + self._followers * m + messages
        obs[np.arange(k)[:, None], columns] = 1.0
        return obs

    @property
    def unvisited(self) -> np.ndarray:
        """``bool[B, n]`` followers not visited yet."""
        return self.status == 0

    @property
    def bought(self) -> np.ndarray:
        """``bool[B, n]`` followers that bought a unit."""
        return self.status == 2

    def start(self, index, types, actions):
        """Begin sub-games: the types and messages; nobody visited, every unit for sale."""
        self.types[index] = types
        self.messages[index] = actions
        self.status[index] = 0
        self.units_left[index] = self.n_units

    def observation_ids(self):
        """``Σ_i s_i 3^i + 3^n Σ_i msg_i m^i`` with ``s_i`` 0 unvisited, 1 passed, 2 bought."""
        ids = self.status[:, 0] + self.messages[:, 0] * self._message_weights[0]
        for i in range(1, self.n):
            ids = ids + self.status[:, i] * self._state_weights[i]
            ids += self.messages[:, i] * self._message_weights[i]
        return ids

    def observations(self):
        """``float32[B, 2n + 1 + n m]``: unvisited, units left / k, bought, one-hot messages."""
        if self._table is not None:
            return self._table.take(self.observation_ids(), axis=0)
        return self._assemble(self.status, self.messages)

    def flat_observations(self):
        """The observations (already a flat ``Box``)."""
        return self.observations()

    def check_actions(self, actions):
        """``[B, n + 1]`` scores and price, all in ``[0, 1]``."""
        actions = self.as_box_actions(actions, (self.n + 1,))
        ok = (actions >= 0.0) & (actions <= 1.0)  # NaN fails
        if not ok.all():
            b = first_bad(~ok.all(axis=1))
            raise ValueError(
                f"scores and price must be finite and lie in [0, 1], got {actions[b].tolist()} "
                f"at env index {b}"
            )
        return actions

    def leader_step(self, actions):
        """Visit each copy's highest-scoring unvisited follower (lowest index on ties)."""
        n = self.n
        status = self.status
        chosen = np.zeros(self.num_envs, dtype=np.int64)
        best = np.full(self.num_envs, -1.0)
        for i in range(n):
            better = (status[:, i] == 0) & (actions[:, i] > best)
            chosen[better] = i
            best = np.where(better, actions[:, i], best)
        price = actions[:, n].astype(np.float64)
        cells = self._rows * n + chosen
        types = self.types.reshape(-1).take(cells)
        values = self._values.reshape(-1).take(chosen * self._values.shape[1] + types)
        buys = values >= price
        status.reshape(-1)[cells] = 1 + buys
        self.prices.reshape(-1)[cells[buys]] = price[buys]
        self.units_left -= buys
        return (self.units_left == 0) | ~row_any(status == 0)

    def outcome(self, index):
        """Leader: welfare minus first best; followers: ``value - price`` if bought."""
        types = self.types[index]
        bought = self.status[index] == 2
        values = self._values[self._followers, types]
        followers = np.where(bought, values - self.prices[index], 0.0)
        welfare = np.zeros(values.shape[0])
        for i in range(self.n):  # in follower order, as the scalar game's sum
            welfare = welfare + np.where(bought[:, i], values[:, i], 0.0)
        first_best = self._first_best[tuple(types.T)]
        return welfare - first_best, followers
