"""Tabular Q-learning followers in ``B`` copies at once: the batched twin of :mod:`.q_learning`.

Follower ``i``'s tables of every copy are one ``[B · T_i · S, A_i]`` array, row
``(b · T_i + t) · S + s`` holding copy ``b``'s ``Q_i[t, s, :]``: a period of all copies is a
handful of gathers, row maxima and one scatter per follower. The draws and the arithmetic
are the single responder's, in the same order, so copy ``b`` follows a single environment
seeded like it step for step (``tests/test_vector_env.py``).
"""

from __future__ import annotations

import math

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import BatchedResponder
from stackelberg_zoo.envs.pomdp.followers.batched_learning import row_max
from stackelberg_zoo.envs.pomdp.followers.q_learning import PlayCounts, QTables
from stackelberg_zoo.equilibrium.arrays import read_only

MAX_BATCH_ENTRIES = 2 * 10**8
"""Most Q-table entries over all copies (1.6 GB of float64)."""


class BatchedQLearning(BatchedResponder):
    """Q-learning followers in ``num_envs`` copies (see the module docstring).

    ``spec``, ``n_response``, ``num_envs``, ``draw`` and ``record`` are as in
    :class:`~.base.BatchedResponder`; ``tables`` holds the sizes, the ε schedule and the
    starting tables (shared with the single responder).
    """

    def __init__(self, spec, n_response, num_envs, draw, record, tables: QTables):
        if num_envs * tables.entries > MAX_BATCH_ENTRIES:
            raise ValueError(
                f"{num_envs} copies of {tables.entries} Q-table entries exceed "
                f"MAX_BATCH_ENTRIES={MAX_BATCH_ENTRIES}; use fewer copies or memory=0"
            )
        self.tables = tables
        super().__init__(spec, n_response, num_envs, draw, record)
        B, n, S = num_envs, spec.n_followers, tables.n_states
        self.q = [
            np.zeros((B * t * S, a)) for t, a in zip(spec.n_types, spec.n_actions, strict=True)
        ]
        self.state = np.zeros(B, dtype=np.int64)
        self.types = np.zeros((B, n), dtype=np.int64)
        self.current = np.zeros((B, n), dtype=np.int64)
        self.final = [np.zeros((B, t), dtype=np.int64) for t in spec.n_types]
        self.finished = np.zeros(B, dtype=bool)
        self._eyes = [read_only(np.eye(a, dtype=np.float64)) for a in spec.n_actions]
        dims = spec.n_types + spec.n_actions
        self._profile_strides = [math.prod(dims[k + 1 :]) for k in range(len(dims))]
        self.counts = np.zeros((B, math.prod(dims)), dtype=np.int64) if record else None
        widths = [t * a for t, a in zip(spec.n_types, spec.n_actions, strict=True)]
        self._columns = np.concatenate([[0], np.cumsum(widths)]).tolist()

    @property
    def state_size(self):
        """See :attr:`~.base.BatchedResponder.state_size`: ``Σ T_i A_i``."""
        return sum(t * a for t, a in zip(self.spec.n_types, self.spec.n_actions, strict=True))

    # -- helpers -----------------------------------------------------------------------------

    def _rows(self, i: int, index: np.ndarray, types: np.ndarray, states: np.ndarray):
        """Flat row indices of copies ``index`` at ``types`` and ``states`` (``int64[k]``)."""
        return (index * self.spec.n_types[i] + types) * self.tables.n_states + states

    def _joint(self, actions: np.ndarray) -> np.ndarray:
        """``int64[k]`` the flat states of joint actions ``[k, n]``."""
        state = np.zeros(actions.shape[0], dtype=np.int64)
        for j, stride in enumerate(self.tables.strides):
            if stride:
                state += actions[:, j] * stride
        return state

    def _state_rows(self, i: int, index: np.ndarray) -> np.ndarray:
        """``[k, T_i, A_i]`` copies ``index``'s ``Q_i[:, s, :]`` at their current states."""
        T, A = self.spec.n_types[i], self.spec.n_actions[i]
        table = self.q[i].reshape(self.num_envs, T, self.tables.n_states, A)
        return table[index, :, self.state[index], :]

    def _update_features(self, index: np.ndarray) -> None:
        for i in range(self.spec.n_followers):
            rows = self._state_rows(i, index)
            scale = np.abs(rows).reshape(index.size, -1).max(axis=1)
            scale = np.where(scale > 0, scale, 1.0)
            start, stop = self._columns[i], self._columns[i + 1]
            self.features[index, start:stop] = (rows / scale[:, None, None]).reshape(index.size, -1)

    def _greedy(self, i: int, index: np.ndarray, types: np.ndarray) -> np.ndarray:
        return self.q[i][self._rows(i, index, types, self.state[index])].argmax(axis=1)

    # -- the protocol --------------------------------------------------------------------------

    def reset(self, index):
        """See :meth:`~.base.BatchedResponder.reset`: fresh tables, a uniform first state."""
        B = self.num_envs
        for q, start in zip(self.q, self.tables.initial, strict=True):
            shaped = q.reshape(B, -1, q.shape[1])
            shaped[index] = start.reshape(-1, q.shape[1])
        self.rounds[index] = 0
        self.finished[index] = False
        if self.counts is not None:
            self.counts[index] = 0
        joint = np.zeros((index.size, self.spec.n_followers), dtype=np.int64)
        for j, n_actions in enumerate(self.spec.n_actions):
            joint[:, j] = np.minimum((self.draw(index) * n_actions).astype(np.int64), n_actions - 1)
        self.state[index] = self._joint(joint)
        self._update_features(index)

    def next_queries(self, index):
        """See :meth:`~.base.BatchedResponder.next_queries`: ε-greedy actions."""
        select = self.select(index)
        types = self.spec.sample_type_batch(self.draw, index)
        self.types[select] = types
        epsilon = self.tables.epsilon[self.rounds[select]]
        for i, n_actions in enumerate(self.spec.n_actions):
            action = self._greedy(i, index, types[:, i])
            explore = self.draw(index) < epsilon
            if explore.any():
                u = self.draw(index[explore])
                action[explore] = np.minimum((u * n_actions).astype(np.int64), n_actions - 1)
            self.current[select, i] = action
        return self.types[select], self.current[select]

    def observe(self, index, leader, followers):
        """See :meth:`~.base.BatchedResponder.observe`: the Q updates, then ``s <- s'``."""
        select = self.select(index)
        tables = self.tables
        types, current = self.types[select], self.current[select]
        state, following = self.state[select], self._joint(current)
        for i in range(self.spec.n_followers):
            q = self.q[i]
            value = np.zeros(index.size)
            for t, p in enumerate(tables.marginals[i]):
                value = value + p * row_max(q[self._rows(i, index, t, following)])
            target = followers[:, i] + tables.delta * value
            rows, actions = self._rows(i, index, types[:, i], state), current[:, i]
            q[rows, actions] = tables.keep * q[rows, actions] + tables.alpha * target
        if self.counts is not None:
            columns = np.concatenate([types, current], axis=1)
            profile = columns @ np.array(self._profile_strides, dtype=np.int64)
            self.counts[index, profile] += 1
        self.rounds[select] += 1
        self.state[select] = following
        self._update_features(index)

    def finish(self, index):
        """See :meth:`~.base.BatchedResponder.finish`: keep the greedy actions per type."""
        for i in range(self.spec.n_followers):
            self.final[i][index] = self._state_rows(i, index).argmax(axis=2)
        self.finished[index] = True

    def reward_actions(self, index, types):
        """See :meth:`~.base.BatchedResponder.reward_actions`: greedy play; the state moves on."""
        actions = np.stack(
            [self._greedy(i, index, types[:, i]) for i in range(self.spec.n_followers)], axis=1
        )
        self.state[index] = self._joint(actions)
        self._update_features(index)
        return actions

    def strategy(self, b):
        """See :meth:`~.base.BatchedResponder.strategy`."""
        one = np.array([b])
        result = []
        for i in range(self.spec.n_followers):
            greedy = self.final[i][b] if self.finished[b] else self._state_rows(i, one)[0].argmax(1)
            result.append(read_only(self._eyes[i][greedy]))
        return tuple(result)

    def snapshot(self, b):
        """See :meth:`~.base.BatchedResponder.snapshot` (only with ``record``)."""
        dims = self.spec.n_types + self.spec.n_actions
        return PlayCounts(read_only(self.counts[b].reshape(dims).copy()), int(self.rounds[b]))
