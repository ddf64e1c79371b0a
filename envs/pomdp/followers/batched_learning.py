"""Learning followers in the batched core: per-(copy, follower, type) learners on arrays.

The batched twins of :mod:`.learning`, step for step equal to it for the same seeds:

* :class:`LearnerColumns`: one follower's learners in ``B`` copies, learner ``b · T_i + t``
  (flat index) being copy ``b``'s learner at type ``t``. :class:`VectorColumns` holds them as
  one learner with batch ``(B, T_i)`` (one numpy call for all copies); :class:`CopyColumns`
  as ``B`` learners with batch ``T_i``, the single environment's own layout, for the one
  case where the layouts round differently (:func:`learner_columns`); the paper's MW has its
  own fast columns (:mod:`.mw`);
* :class:`BatchedLearners`: rounds, reward-phase play, critic features and snapshots;
* :class:`BatchedSweep`: the paper's counterfactual sweeps.

Bits: every learner update is the single environment's arithmetic on a bigger batch
(elementwise operations, reductions over actions left to right), so a learner's bits do not
depend on the batch it sits in, with one exception handled by :func:`learner_columns`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import (
    BatchedResponder,
    Draw,
    FollowerSpec,
    sample_rows,
)
from stackelberg_zoo.envs.pomdp.followers.certificate import LearnerSnapshot
from stackelberg_zoo.equilibrium.arrays import read_only

PAIRWISE_ACTIONS = 8
"""numpy sums a ``[A, 1]`` array over its first axis pairwise from this many actions on, and a
``[A, k]`` array (``k > 1``) left to right: the learners whose strategies use ``sum(axis=0)``
(regret matching, EXP3) round differently in the two layouts for a single-type follower."""

SMALL_AXIS = 7
"""Rows up to this long are reduced column by column: numpy's ``axis=1`` reductions cost far
more than the arithmetic on short rows (max is exact in any order)."""


def row_max(x: np.ndarray) -> np.ndarray:
    """``[k]`` the row maxima of ``x [k, A]``."""
    if x.shape[1] > SMALL_AXIS:
        return x.max(axis=1)
    top = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        np.maximum(top, x[:, j], out=top)
    return top


# -- one follower's learners in B copies ----------------------------------------------------------


class LearnerColumns(abc.ABC):
    """One follower's learners in ``B`` copies, addressed by flat index ``b · T + t``.

    ``flat`` arguments are ``int64[k]`` distinct flat indices, or ``slice(None)`` for every
    copy when ``T == 1``. ``index`` arguments are sorted copy indices ``int64[k]``.

    Args:
        num_envs: ``B``.
        n_types: ``T``.
        n_actions: ``A``.
    """

    def __init__(self, num_envs: int, n_types: int, n_actions: int):
        self.num_envs = num_envs
        self.n_types = n_types
        self.n_actions = n_actions

    def select(self, index: np.ndarray) -> np.ndarray | slice:
        """``index`` itself, or ``slice(None)`` when it holds every copy (a view, no copy)."""
        return slice(None) if index.size == self.num_envs else index

    def pairs(self, flat) -> tuple[np.ndarray, np.ndarray]:
        """The ``(copy, type)`` indices ``int64[k]`` of flat indices ``flat``."""
        if isinstance(flat, slice):
            flat = np.arange(self.num_envs * self.n_types)[flat]
        return np.divmod(flat, self.n_types)

    @abc.abstractmethod
    def reset(self, index: np.ndarray) -> None:
        """Every learner of copies ``index`` back to its initial state."""

    @abc.abstractmethod
    def rows(self, flat) -> np.ndarray:
        """``[k, A]`` the current mixed strategies of learners ``flat``."""

    def update(self, flat, gains: np.ndarray) -> None:
        """One full-information round of learners ``flat`` with gains ``[k, A]``."""
        raise TypeError(f"{type(self).__name__} holds no full-information learners")

    def update_bandit(self, flat, actions: np.ndarray, rewards: np.ndarray) -> None:
        """One bandit round of learners ``flat``: actions ``int64[k]``, rewards ``[k]``."""
        raise TypeError(f"{type(self).__name__} holds no bandit learners")

    @abc.abstractmethod
    def features(self, index: np.ndarray) -> np.ndarray:
        """``[k, T · A]`` copies ``index``'s normalised learner state (``state_features``)."""

    @abc.abstractmethod
    def strategies(self, index: np.ndarray) -> np.ndarray:
        """``[k, T, A]`` copies ``index``'s current mixed strategies."""

    @abc.abstractmethod
    def greedy(self, index: np.ndarray) -> np.ndarray:
        """``int64[k, T]`` copies ``index``'s learners' ``greedy()``."""

    @abc.abstractmethod
    def counts(self, b: int) -> np.ndarray:
        """``int64[T]`` copy ``b``'s rounds per type."""

    @abc.abstractmethod
    def cumulative_gains(self, b: int) -> np.ndarray:
        """``[T, A]`` copy ``b``'s cumulative gains (a copy)."""

    @abc.abstractmethod
    def regret(self, b: int) -> np.ndarray:
        """``[T]`` copy ``b``'s learners' external regret."""


class VectorColumns(LearnerColumns):
    """The learners as one learner with batch ``(B, T)``: one numpy call for every copy.

    Args:
        learner: A learner with ``batch_shape == (B, T)``.
    """

    def __init__(self, learner):
        num_envs, n_types = learner.batch_shape
        super().__init__(num_envs, n_types, learner.n_actions)
        self.learner = learner

    def _mask(self, flat) -> np.ndarray:
        mask = np.zeros(self.num_envs * self.n_types, dtype=bool)
        mask[flat] = True
        return mask.reshape(self.num_envs, self.n_types)

    def reset(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.reset`."""
        mask = np.zeros((self.num_envs, self.n_types), dtype=bool)
        mask[index] = True
        self.learner.reset(mask)

    def rows(self, flat):
        """See :meth:`~.batched_learning.LearnerColumns.rows`."""
        return self.learner.strategy().reshape(-1, self.n_actions)[flat]

    def update(self, flat, gains):
        """See :meth:`~.batched_learning.LearnerColumns.update`."""
        full = np.zeros((self.num_envs * self.n_types, self.n_actions))
        full[flat] = gains
        shape = (self.num_envs, self.n_types, self.n_actions)
        self.learner.update_unchecked(full.reshape(shape), self._mask(flat))

    def update_bandit(self, flat, actions, rewards):
        """See :meth:`~.batched_learning.LearnerColumns.update_bandit`."""
        size = self.num_envs * self.n_types
        played = np.zeros(size, dtype=np.int64)
        played[flat] = actions
        received = np.full(size, self.learner.reward_bounds[0])
        received[flat] = rewards
        shape = (self.num_envs, self.n_types)
        self.learner.update_bandit(played.reshape(shape), received.reshape(shape), self._mask(flat))

    def features(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.features`."""
        features = self.learner.state_features(group_ndim=1)
        return features[self.select(index)].reshape(index.size, -1)

    def strategies(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.strategies`."""
        return np.array(self.learner.strategy()[index])

    def greedy(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.greedy`."""
        return self.learner.greedy()[index]

    def counts(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.counts`."""
        return self.learner.n_updates[b]

    def cumulative_gains(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.cumulative_gains`."""
        return self.learner.cumulative_gains[b]

    def regret(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.regret`."""
        return self.learner.regret()[b]


class CopyColumns(LearnerColumns):
    """The learners as ``B`` learners with batch ``(T,)``: the single environment's layout.

    Args:
        learners: ``B`` learners with ``batch_shape == (T,)``.
    """

    def __init__(self, learners: list):
        super().__init__(len(learners), learners[0].batch_shape[0], learners[0].n_actions)
        self.learners = learners
        self._eye = np.eye(self.n_types, dtype=bool)

    def reset(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.reset`."""
        for b in index.tolist():
            self.learners[b].reset()

    def rows(self, flat):
        """See :meth:`~.batched_learning.LearnerColumns.rows`."""
        copies, types = self.pairs(flat)
        pairs = zip(copies.tolist(), types.tolist(), strict=True)
        return np.array([self.learners[b].strategy()[t] for b, t in pairs]).reshape(
            -1, self.n_actions
        )

    def update(self, flat, gains):
        """See :meth:`~.batched_learning.LearnerColumns.update`."""
        copies, types = self.pairs(flat)
        for k, (b, t) in enumerate(zip(copies.tolist(), types.tolist(), strict=True)):
            full = np.zeros((self.n_types, self.n_actions))
            full[t] = gains[k]
            self.learners[b].update(full, self._eye[t])

    def update_bandit(self, flat, actions, rewards):
        """See :meth:`~.batched_learning.LearnerColumns.update_bandit`."""
        copies, types = self.pairs(flat)
        low = self.learners[0].reward_bounds[0]
        for k, (b, t) in enumerate(zip(copies.tolist(), types.tolist(), strict=True)):
            played = np.zeros(self.n_types, dtype=np.int64)
            played[t] = actions[k]
            received = np.full(self.n_types, low)
            received[t] = rewards[k]
            self.learners[b].update_bandit(played, received, self._eye[t])

    def features(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.features`."""
        return np.array(
            [self.learners[b].state_features(group_ndim=1).ravel() for b in index.tolist()]
        ).reshape(index.size, -1)

    def strategies(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.strategies`."""
        return np.array([self.learners[b].strategy() for b in index.tolist()]).reshape(
            index.size, self.n_types, self.n_actions
        )

    def greedy(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.greedy`."""
        return np.array([self.learners[b].greedy() for b in index.tolist()], dtype=np.int64)

    def counts(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.counts`."""
        return self.learners[b].n_updates

    def cumulative_gains(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.cumulative_gains`."""
        return self.learners[b].cumulative_gains

    def regret(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.regret`."""
        return self.learners[b].regret()


def learner_columns(
    make: Callable[[tuple[int, ...], int], object], num_envs: int, n_types: int, n_actions: int
) -> LearnerColumns:
    """One follower's learners for the batched kernel, made by ``make(batch_shape, n_actions)``.

    :class:`VectorColumns`, except for a single-type follower with at least
    :data:`PAIRWISE_ACTIONS` actions, where :class:`CopyColumns` keeps the single
    environment's ``[A, 1]`` layout (whose sums over actions numpy forms pairwise).
    """
    if n_types == 1 and n_actions >= PAIRWISE_ACTIONS:
        return CopyColumns([make((n_types,), n_actions) for _ in range(num_envs)])
    return VectorColumns(make((num_envs, n_types), n_actions))


# -- what every batched learning model shares ----------------------------------------------------


class BatchedLearners(BatchedResponder):
    """Rounds, reward-phase play, critic features and snapshots of batched learners.

    The batched twin of :class:`~.learning.LearnerResponder`. Reward play ``"argmax"`` or
    ``"sample"``; ``"empirical"`` draws a round with ``rng.integers``, which a copy's stream
    of doubles cannot reproduce, so it is single-environment only.

    The first five arguments are :class:`~.base.BatchedResponder`'s.

    Args:
        learners: One :class:`LearnerColumns` per follower.
        queries_per_round: Response sub-games per learning round.
        reward_play: ``"argmax"`` or ``"sample"``.
        bound_fn: The regret bound ``(rounds, n_actions, range) -> float`` for snapshots.
        bound_kind: ``"deterministic"`` or ``"expected"``.
        description: The algorithm's ``repr``, for error messages.

    Raises:
        ValueError: On ``reward_play="empirical"``.
    """

    def __init__(
        self,
        spec: FollowerSpec,
        n_response: int,
        num_envs: int,
        draw: Draw,
        record: bool,
        *,
        learners: list[LearnerColumns],
        queries_per_round: int,
        reward_play: str,
        bound_fn: Callable[[int, int, float], float],
        bound_kind: str,
        description: str,
    ):
        if reward_play not in ("argmax", "sample"):
            raise ValueError(
                f"the batched Stackelberg POMDP implements reward_play 'argmax' and 'sample', "
                f"got {reward_play!r} in {description}; use the single-environment "
                f"StackelbergPOMDP"
            )
        super().__init__(spec, n_response, num_envs, draw, record)
        self.learners = learners
        self.reward_play = reward_play
        self.queries_per_round = queries_per_round
        # Per copy, None or a callable run when a round is recorded (before its update), with
        # the copy's current strategies; ``hooked`` is set once any is (the paper's protocol
        # never pays for the loop).
        self.round_hooks: list = [None] * num_envs
        self.hooked = False
        self.sample_play = reward_play == "sample"
        self.bound_fn = bound_fn
        self.bound_kind = bound_kind
        self.max_rounds = n_response // queries_per_round
        B, n = num_envs, spec.n_followers
        pairs = list(zip(spec.n_types, spec.n_actions, strict=True))
        self.realised = [np.zeros((B, t)) for t in spec.n_types]
        self.greedy_tables = [np.zeros((B, t), dtype=np.int64) for t in spec.n_types]
        self.final = [np.zeros((B, t, a)) for t, a in pairs]
        self.feature_slices = []
        start = 0
        for t, a in pairs:
            self.feature_slices.append(slice(start, start + t * a))
            start += t * a
        if record:
            self.round_types = np.zeros((B, max(self.max_rounds, 1), n), dtype=np.int64)
            self.round_actions = np.zeros((B, max(self.max_rounds, 1), n), dtype=np.int64)

    @property
    def state_size(self) -> int:
        """``Σ_i T_i · A_i``: every learner table, flattened."""
        return sum(t * a for t, a in zip(self.spec.n_types, self.spec.n_actions, strict=True))

    def flat(self, i: int, index: np.ndarray, types: np.ndarray):
        """Follower ``i``'s learners of copies ``index`` at ``types`` (flat indices)."""
        if self.spec.n_types[i] == 1:
            return self.select(index)
        return index * self.spec.n_types[i] + types

    def reset(self, index):
        """See :meth:`~.base.BatchedResponder.reset`."""
        for i, learners in enumerate(self.learners):
            learners.reset(index)
            self.realised[i][index] = 0.0
        self.rounds[index] = 0
        self.update_features(index)

    def record_round(self, index: np.ndarray, types: np.ndarray, actions: np.ndarray) -> None:
        """Count a completed round of copies ``index`` (its types and actions ``[k, n]``).

        Runs each copy's :attr:`round_hooks` entry (the certification's snapshots) with the
        copy's strategies of the round, still current: one ``[T_i, A_i]`` array per follower,
        computed for all the hooked copies at once (each copy gets the bits of computing it
        alone).
        """
        select = self.select(index)
        if self.record:
            r = self.rounds[index]
            self.round_types[index, r] = types
            self.round_actions[index, r] = actions
        self.rounds[select] += 1
        if self.hooked:
            hooks = self.round_hooks
            hooked = [b for b in index.tolist() if hooks[b] is not None]
            if hooked:
                copies = np.array(hooked, dtype=np.int64)
                current = [learners.strategies(copies) for learners in self.learners]
                for k, b in enumerate(hooked):
                    hooks[b]([strategies[k] for strategies in current])

    def update_features(self, index: np.ndarray) -> None:
        """Write copies ``index``'s learner features into :attr:`features`."""
        select = self.select(index)
        for learners, columns in zip(self.learners, self.feature_slices, strict=True):
            self.features[select, columns] = learners.features(index)

    def finish(self, index):
        """See :meth:`~.base.BatchedResponder.finish`."""
        for i, learners in enumerate(self.learners):
            if self.sample_play:
                self.final[i][index] = learners.strategies(index)
            else:
                self.greedy_tables[i][index] = learners.greedy(index)

    def reward_actions(self, index, types):
        """See :meth:`~.base.BatchedResponder.reward_actions`."""
        actions = np.empty((index.size, self.spec.n_followers), dtype=np.int64)
        for i in range(self.spec.n_followers):
            rows = index * self.spec.n_types[i] + types[:, i]
            if self.sample_play:
                table = self.final[i].reshape(-1, self.spec.n_actions[i])
                actions[:, i] = sample_rows(table.take(rows, axis=0), self.draw(index))
            else:
                actions[:, i] = self.greedy_tables[i].reshape(-1).take(rows)
        return actions

    def strategy(self, b):
        """See :meth:`~.base.BatchedResponder.strategy`."""
        if self.sample_play:
            return tuple(read_only(final[b]) for final in self.final)
        return tuple(
            read_only(np.eye(a)[table[b]])
            for a, table in zip(self.spec.n_actions, self.greedy_tables, strict=True)
        )

    def cumulative_gains(self, i: int) -> np.ndarray:
        """``[B, T_i, A_i]`` follower ``i``'s cumulative gains in every copy."""
        learners = self.learners[i]
        return np.array([learners.cumulative_gains(b) for b in range(self.num_envs)])

    def type_counts(self, i: int) -> np.ndarray:
        """``int64[B, T_i]`` follower ``i``'s completed rounds at each type in every copy."""
        learners = self.learners[i]
        return np.array([learners.counts(b) for b in range(self.num_envs)])

    def snapshot_of(self, b: int, cumulative_gains, ranges) -> LearnerSnapshot:
        """Copy ``b``'s snapshot, with its cumulative gains and ranges if they are known."""
        rounds, n = int(self.rounds[b]), self.spec.n_followers
        if self.record:
            types = self.round_types[b, :rounds].copy()
            actions = self.round_actions[b, :rounds].copy()
        else:  # the rounds' play was not kept: the gaps are skipped for another reason
            types = actions = np.zeros((rounds, n), dtype=np.int64)
        return LearnerSnapshot(
            spec=self.spec,
            types=types,
            actions=actions,
            counts=tuple(read_only(learners.counts(b)) for learners in self.learners),
            cumulative_gains=cumulative_gains,
            realised=tuple(read_only(self.realised[i][b]) for i in range(n)),
            learner_regret=self.learner_regret(b),
            ranges=ranges,
            bound_fn=self.bound_fn,
            bound_kind=self.bound_kind,
        )

    def learner_regret(self, b: int) -> tuple[np.ndarray, ...]:
        """Per follower ``[T_i]`` the regret of copy ``b``'s learners' mixed strategies."""
        return tuple(read_only(learners.regret(b)) for learners in self.learners)


class BatchedSweep(BatchedLearners):
    """The paper's counterfactual sweeps in ``B`` copies (the twin of :class:`.SweepResponder`).

    A copy's sweep is ``Σ_i A_i`` queries: query ``q`` plays action ``order_action[q]`` for
    follower ``order_follower[q]`` and the sweep's current actions for the others.

    Its arguments are :class:`BatchedLearners`' (``queries_per_round`` is the sweep's length,
    ``bound_kind`` is ``"deterministic"``).
    """

    def __init__(self, spec, n_response, num_envs, draw, record, **kwargs):
        n = spec.n_followers
        self.order_follower = np.array(
            [i for i in range(n) for _ in range(spec.n_actions[i])], dtype=np.int64
        )
        self.order_action = np.array(
            [b for i in range(n) for b in range(spec.n_actions[i])], dtype=np.int64
        )
        self.sweep = int(self.order_follower.size)
        super().__init__(
            spec,
            n_response,
            num_envs,
            draw,
            record,
            queries_per_round=self.sweep,
            bound_kind="deterministic",
            **kwargs,
        )
        B = num_envs
        self.range = [np.zeros((B, t)) for t in spec.n_types]
        self.gains = [np.zeros((B, a)) for a in spec.n_actions]
        self.gains_flat = [g.reshape(-1) for g in self.gains]
        self.position = np.zeros(B, dtype=np.int64)
        self.sweep_types = np.zeros((B, n), dtype=np.int64)
        self.current = np.zeros((B, n), dtype=np.int64)

    def reset(self, index):
        """See :meth:`~.base.BatchedResponder.reset`."""
        for i in range(self.spec.n_followers):
            self.range[i][index] = 0.0
        self.position[index] = 0
        super().reset(index)

    def next_queries(self, index):
        """See :meth:`~.base.BatchedResponder.next_queries`."""
        # (The hot path: whole-batch slices inlined, as select() would give them.)
        select = slice(None) if index.size == self.num_envs else index
        position = self.position[select]
        due = position == 0
        if due.any():
            fresh = index if due.all() else index[due]
            fresh_select = slice(None) if fresh.size == self.num_envs else fresh
            types = self.spec.sample_type_batch(self.draw, fresh)
            self.sweep_types[fresh_select] = types
            for i, learners in enumerate(self.learners):
                one_type = self.spec.n_types[i] == 1
                rows = learners.rows(fresh_select if one_type else self.flat(i, fresh, types[:, i]))
                self.current[fresh_select, i] = sample_rows(rows, self.draw(fresh))
        actions = self.current[select].copy()
        played = np.arange(actions.shape[0]) * self.spec.n_followers + self.order_follower[position]
        actions.reshape(-1)[played] = self.order_action[position]
        return self.sweep_types[select], actions

    def observe(self, index, leader, followers):
        """See :meth:`~.base.BatchedResponder.observe`."""
        select = slice(None) if index.size == self.num_envs else index
        position = self.position[select]
        follower = self.order_follower[position]
        action = self.order_action[position]
        n = self.spec.n_followers
        for i in range(n):
            width = self.gains[i].shape[1]
            if n == 1:
                self.gains_flat[i][index * width + action] = followers[:, i]
                continue
            mine = follower == i
            if mine.any():
                self.gains_flat[i][index[mine] * width + action[mine]] = followers[mine, i]
        position += 1
        complete = position == self.sweep
        position[complete] = 0
        self.position[select] = position
        if complete.any():
            self.complete_sweep(index if complete.all() else index[complete])

    def complete_sweep(self, index: np.ndarray) -> None:
        """Apply a completed sweep in copies ``index`` (update the realised types' learners)."""
        select = self.select(index)
        types, current = self.sweep_types[select], self.current[select]
        self.record_round(index, types, current)
        for i, learners in enumerate(self.learners):
            width = self.gains[i].shape[1]
            gains = self.gains[i][select]
            rows = self.flat(i, index, types[:, i])
            learners.update(rows, gains)
            realised = gains.reshape(-1)[np.arange(index.size) * width + current[:, i]]
            self.realised[i].reshape(-1)[rows] += realised
            spread = row_max(gains) - (-row_max(-gains))
            ranges = self.range[i].reshape(-1)
            ranges[rows] = np.maximum(ranges[rows], spread)
        self.update_features(index)

    def snapshot(self, b):
        """See :meth:`~.base.BatchedResponder.snapshot`."""
        n = self.spec.n_followers
        return self.snapshot_of(
            b,
            tuple(read_only(self.learners[i].cumulative_gains(b)) for i in range(n)),
            tuple(read_only(self.range[i][b]) for i in range(n)),
        )
