"""Policy-gradient followers in ``B`` copies at once: the batched twin of :mod:`.policy_gradient`.

Follower ``i``'s logits of every copy are one ``[B · T_i · S, A_i]`` array, row
``(b · T_i + t) · S + s`` holding copy ``b``'s ``θ_i[t, s, :]``; its baselines and visit
counts are ``[B · T_i · S]``. A round of all copies is a gather, one
:func:`~.policy_gradient.softmax_rows` and one scatter per follower. The draws and the
arithmetic are the single responder's, in the same order, so copy ``b`` follows a single
environment seeded like it step for step (``tests/test_vector_env.py``).
"""

from __future__ import annotations

import math

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import BatchedResponder, sample_rows
from stackelberg_zoo.envs.pomdp.followers.policy_gradient import (
    PolicyGradientPlay,
    PolicyTables,
    softmax_rows,
)
from stackelberg_zoo.equilibrium.arrays import read_only

MAX_BATCH_ENTRIES = 2 * 10**8
"""Most logits over all copies (1.6 GB of float64)."""


class BatchedPolicyGradient(BatchedResponder):
    """REINFORCE followers in ``num_envs`` copies (see the module docstring).

    ``spec``, ``n_response``, ``num_envs``, ``draw`` and ``record`` are as in
    :class:`~.base.BatchedResponder`; ``tables`` holds the sizes and the step (shared with
    the single responder).
    """

    def __init__(self, spec, n_response, num_envs, draw, record, tables: PolicyTables):
        if num_envs * tables.entries > MAX_BATCH_ENTRIES:
            raise ValueError(
                f"{num_envs} copies of {tables.entries} policy logits exceed "
                f"MAX_BATCH_ENTRIES={MAX_BATCH_ENTRIES}; use fewer copies or memory=0"
            )
        self.tables = tables
        super().__init__(spec, n_response, num_envs, draw, record)
        B, n, S = num_envs, spec.n_followers, tables.n_states
        pairs = list(zip(spec.n_types, spec.n_actions, strict=True))
        self.logits = [np.zeros((B * t * S, a)) for t, a in pairs]
        self.baselines = [np.zeros(B * t * S) for t, _ in pairs]
        self.visits = [np.zeros(B * t * S, dtype=np.int64) for t, _ in pairs]
        self.policies = [np.zeros((B, a)) for a in spec.n_actions]
        self.state = np.zeros(B, dtype=np.int64)
        self.types = np.zeros((B, n), dtype=np.int64)
        self.current = np.zeros((B, n), dtype=np.int64)
        self.final = [np.zeros((B, t, a)) for t, a in pairs]
        self.finished = np.zeros(B, dtype=bool)
        self._eyes = [read_only(np.eye(a, dtype=np.float64)) for a in spec.n_actions]
        dims = spec.n_types + spec.n_actions
        self._profile_strides = np.array(
            [math.prod(dims[k + 1 :]) for k in range(len(dims))], dtype=np.int64
        )
        self.counts = np.zeros((B, math.prod(dims)), dtype=np.int64) if record else None
        widths = [t * a for t, a in pairs]
        self._columns = np.concatenate([[0], np.cumsum(widths)]).tolist()

    @property
    def state_size(self):
        """See :attr:`~.base.BatchedResponder.state_size`: ``Σ T_i A_i``."""
        return sum(t * a for t, a in zip(self.spec.n_types, self.spec.n_actions, strict=True))

    # -- helpers -----------------------------------------------------------------------------

    def _rows(self, i: int, index: np.ndarray, types, states: np.ndarray) -> np.ndarray:
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
        """``[k, T_i, A_i]`` copies ``index``'s logits ``θ_i[:, s, :]`` at their states."""
        T, A = self.spec.n_types[i], self.spec.n_actions[i]
        table = self.logits[i].reshape(self.num_envs, T, self.tables.n_states, A)
        return table[index, :, self.state[index], :]

    def _state_policies(self, i: int, index: np.ndarray) -> np.ndarray:
        """``[k, T_i, A_i]`` copies ``index``'s softmax policies at their states."""
        rows = self._state_rows(i, index)
        return softmax_rows(rows.reshape(-1, rows.shape[2])).reshape(rows.shape)

    def _update_features(self, index: np.ndarray) -> None:
        for i in range(self.spec.n_followers):
            start, stop = self._columns[i], self._columns[i + 1]
            self.features[index, start:stop] = self._state_policies(i, index).reshape(
                index.size, -1
            )

    # -- the protocol --------------------------------------------------------------------------

    def reset(self, index):
        """See :meth:`~.base.BatchedResponder.reset`: zero logits and baselines, a first state."""
        B = self.num_envs
        for i in range(self.spec.n_followers):
            self.logits[i].reshape(B, -1)[index] = 0.0
            self.baselines[i].reshape(B, -1)[index] = 0.0
            self.visits[i].reshape(B, -1)[index] = 0
        self.rounds[index] = 0
        self.finished[index] = False
        if self.counts is not None:
            self.counts[index] = 0
        self.state[index] = 0
        if self.tables.n_states > 1:
            joint = np.zeros((index.size, self.spec.n_followers), dtype=np.int64)
            for j, n_actions in enumerate(self.spec.n_actions):
                u = self.draw(index)
                joint[:, j] = np.minimum((u * n_actions).astype(np.int64), n_actions - 1)
            self.state[index] = self._joint(joint)
        self._update_features(index)

    def next_queries(self, index):
        """See :meth:`~.base.BatchedResponder.next_queries`: each follower samples its policy."""
        select = self.select(index)
        types = self.spec.sample_type_batch(self.draw, index)
        self.types[select] = types
        states = self.state[select]
        for i in range(self.spec.n_followers):
            policy = softmax_rows(self.logits[i][self._rows(i, index, types[:, i], states)])
            self.policies[i][select] = policy
            self.current[select, i] = sample_rows(policy, self.draw(index))
        return self.types[select], self.current[select]

    def observe(self, index, leader, followers):
        """See :meth:`~.base.BatchedResponder.observe`: the REINFORCE steps, then ``s <- s'``."""
        select = self.select(index)
        tables = self.tables
        types, current, states = self.types[select], self.current[select], self.state[select]
        for i in range(self.spec.n_followers):
            rows = self._rows(i, index, types[:, i], states)
            utility = followers[:, i]
            advantage = utility
            if tables.baseline:
                visits = self.visits[i][rows] + 1
                mean = self.baselines[i][rows]
                advantage = utility - mean
                self.baselines[i][rows] = mean + (utility - mean) / visits
                self.visits[i][rows] = visits
            step = tables.learning_rate * advantage
            gradient = self._eyes[i][current[:, i]] - self.policies[i][select]
            self.logits[i][rows] = self.logits[i][rows] + step[:, None] * gradient
        if self.counts is not None:
            profile = np.concatenate([types, current], axis=1) @ self._profile_strides
            self.counts[index, profile] += 1
        self.rounds[select] += 1
        if tables.n_states > 1:
            self.state[select] = self._joint(current)
        self._update_features(index)

    def finish(self, index):
        """See :meth:`~.base.BatchedResponder.finish`: keep the strategy at the final state."""
        for i in range(self.spec.n_followers):
            if self.tables.sample_play:
                self.final[i][index] = self._state_policies(i, index)
            else:
                self.final[i][index] = self._eyes[i][self._state_rows(i, index).argmax(axis=2)]
        self.finished[index] = True

    def reward_actions(self, index, types):
        """See :meth:`~.base.BatchedResponder.reward_actions`: argmax or a sample."""
        states = self.state[index]
        actions = np.empty((index.size, self.spec.n_followers), dtype=np.int64)
        for i in range(self.spec.n_followers):
            logits = self.logits[i][self._rows(i, index, types[:, i], states)]
            if self.tables.sample_play:
                actions[:, i] = sample_rows(softmax_rows(logits), self.draw(index))
            else:
                actions[:, i] = logits.argmax(axis=1)
        if self.tables.n_states > 1:
            self.state[index] = self._joint(actions)
            self._update_features(index)
        return actions

    def strategy(self, b):
        """See :meth:`~.base.BatchedResponder.strategy`."""
        if self.finished[b]:
            return tuple(read_only(final[b]) for final in self.final)
        one = np.array([b])
        if self.tables.sample_play:
            return tuple(
                read_only(self._state_policies(i, one)[0]) for i in range(self.spec.n_followers)
            )
        return tuple(
            read_only(self._eyes[i][self._state_rows(i, one)[0].argmax(axis=1)])
            for i in range(self.spec.n_followers)
        )

    def snapshot(self, b):
        """See :meth:`~.base.BatchedResponder.snapshot` (only with ``record``)."""
        dims = self.spec.n_types + self.spec.n_actions
        return PolicyGradientPlay(
            read_only(self.counts[b].reshape(dims).copy()), int(self.rounds[b])
        )
