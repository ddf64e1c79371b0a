"""Full-information learners in the authors' "exact expectation" form (one type profile per update).

One *complete update* draws one type profile from the prior and holds it, then plays every
joint follower action profile at it once (``Π_i A_i`` response queries, in lexicographic
order). Follower ``i``'s gain for action ``b`` is its utility in expectation over the other
followers' current mixed strategies at their drawn types,
``g_i(b) = Σ_{a_-i} Π_{j≠i} x_j(a_j | θ_j) u_i(θ; b, a_-i)``; only the drawn type's learner is
updated. For multiplicative weights this is ``w <- w · (1+ε)^g``, normalised (the authors'
current protocol, with ``ε = 0.1``). A partial update left at the end of the response phase
is dropped, as for the sweeps.

Unlike the paper's sweeps (:mod:`.learning`) no current action is drawn: an update draws one
uniform (the type profile), none when a single type profile has positive mass.
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.batched_learning import BatchedLearners
from stackelberg_zoo.envs.pomdp.followers.certificate import LearnerSnapshot
from stackelberg_zoo.envs.pomdp.followers.learning import LearnerBank, LearnerResponder
from stackelberg_zoo.equilibrium.arrays import read_only


def expected_gains(utility: np.ndarray, rows: list[np.ndarray], i: int) -> np.ndarray:
    """``[..., A_i]`` follower ``i``'s gains in expectation over the other followers' rows.

    ``g(b) = Σ_{a_-i} Π_{j≠i} x_j(a_j) u(b, a_-i)``, on an optional leading batch axis
    (``utility [..., A_1..A_n]``, ``rows[j] [..., A_j]``). The sum runs over the others'
    profiles in lexicographic order and each probability is a product in follower order, one
    elementwise operation at a time, so a batch gives each of its members the bits of the
    unbatched call (the batched kernel relies on it).
    """
    n = len(rows)
    others = [j for j in range(n) if j != i]
    total = None
    for profile in itertools.product(*(range(rows[j].shape[-1]) for j in others)):
        weight = np.ones(rows[i].shape[:-1])
        index = [slice(None)] * n
        for j, a in zip(others, profile, strict=True):
            weight = weight * rows[j][..., a]
            index[j] = a
        term = weight[..., None] * utility[(Ellipsis, *index)]
        total = term if total is None else total + term
    return total


def expected_gain(row: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """``[...]`` ``Σ_b x(b) g(b)`` added left to right (on an optional leading batch axis)."""
    total = row[..., 0] * gains[..., 0]
    for b in range(1, row.shape[-1]):
        total = total + row[..., b] * gains[..., b]
    return total


@dataclass(frozen=True, eq=False)
class ExpectationSnapshot(LearnerSnapshot):
    """A :class:`~.certificate.LearnerSnapshot` whose play is mixed: no action is drawn.

    The response-phase play is ``(1/R) Σ_r δ(θ^r) Π_i x_i^r(a_i)``, each update's type profile
    with the product of the rows it updated from (``actions`` holds their argmax, unused);
    with it, the ex-ante gap is the certificate's average realised regret, as for the sweeps.
    """

    rows: tuple[np.ndarray, ...] = ()
    """Per follower ``[R, A_i]``: the row of its realised type at each update."""

    def empirical_play(self):
        """See :meth:`~.base.ResponseSnapshot.empirical_play`."""
        updates = self.types.shape[0]
        if updates == 0:
            return None
        n = self.spec.n_followers
        letters = string.ascii_letters[1 : n + 1]
        products = np.einsum(
            ",".join("a" + c for c in letters) + "->a" + letters, *self.rows
        )  # [R, A_1..A_n]
        mu = np.zeros(self.spec.n_types + self.spec.n_actions)
        np.add.at(mu, tuple(self.types.T), products)
        return mu / updates


class ExpectationResponder(LearnerResponder):
    """Learners of a :class:`~.learning.LearnerBank` fed by exact-expectation updates.

    Args:
        spec: The followers.
        n_response: Response sub-games per episode.
        bank: The per-(follower, type) learners.
        reward_play: ``"argmax"``, ``"sample"`` or ``"empirical"``.
        bound_fn: The learners' regret bound ``(rounds, n_actions, range) -> float``.
    """

    def __init__(self, spec, n_response, bank: LearnerBank, reward_play, bound_fn):
        self._joint = list(itertools.product(*(range(a) for a in spec.n_actions)))
        super().__init__(spec, n_response, reward_play, len(self._joint))
        self.bank = bank
        self._bound_fn = bound_fn
        self._shape = spec.n_actions

    def reset(self, rng):
        """See :meth:`~.base.Responder.reset`."""
        super().reset(rng)
        self.bank.reset()
        self._position = 0
        self._utilities = np.zeros((self.spec.n_followers,) + self._shape)
        self._realised = [np.zeros(t) for t in self.spec.n_types]
        self._range = [np.zeros(t) for t in self.spec.n_types]
        self._update_rows = [[] for _ in range(self.spec.n_followers)]

    def _strategy(self, i):
        return self.bank.strategy(i)

    def _greedy(self, i):
        return self.bank.greedy(i)

    def _raw_features(self, i):
        return self.bank.features(i)

    def _begin_update(self, rng) -> None:
        types = self.spec.sample_type_tuple(rng)
        self._types = types
        self._queries = [types + profile for profile in self._joint]

    def next_query(self, rng):
        """See :meth:`~.base.Responder.next_query`."""
        if self._position == 0:
            self._begin_update(rng)
        n = self.spec.n_followers
        query = self._queries[self._position]
        return np.array(query[:n], dtype=np.int64), np.array(query[n:], dtype=np.int64)

    def next_round(self, rng):
        """See :meth:`~.base.Responder.next_round`."""
        self._begin_update(rng)
        return self._queries

    def observe(self, outcome):
        """See :meth:`~.base.Responder.observe`."""
        self._utilities[(slice(None),) + self._joint[self._position]] = outcome.followers
        self._position += 1
        if self._position == len(self._joint):
            self._position = 0
            self._complete_update()

    def observe_round(self, outcomes):
        """See :meth:`~.base.Responder.observe_round`."""
        for profile, outcome in zip(self._joint, outcomes, strict=True):
            self._utilities[(slice(None),) + profile] = outcome.followers
        self._complete_update()

    def _complete_update(self) -> None:
        types = self._types
        rows = [self.bank.row(i, t) for i, t in enumerate(types)]
        # The strategies of this update, before it; its "actions" are the rows' argmax (no
        # action is drawn in this form).
        self._record_round(types, [int(np.argmax(row)) for row in rows])
        for i, row in enumerate(rows):
            self._update_rows[i].append(row)
        for i, t in enumerate(types):
            gains = expected_gains(self._utilities[i], rows, i)
            self._realised[i][t] += float(expected_gain(rows[i], gains))
            gains = gains.tolist()
            self.bank.update(i, t, gains)
            spread = max(gains) - min(gains)
            if spread > self._range[i][t]:
                self._range[i][t] = spread

    def snapshot(self):
        """See :meth:`~.base.Responder.snapshot`."""
        n = self.spec.n_followers
        bank = self.bank.frozen()
        return ExpectationSnapshot(
            spec=self.spec,
            types=self._rounds_array(self._round_types),
            actions=self._rounds_array(self._round_actions),
            counts=tuple(read_only(bank.counts(i)) for i in range(n)),
            cumulative_gains=tuple(read_only(bank.cumulative_gains(i)) for i in range(n)),
            realised=tuple(read_only(x.copy()) for x in self._realised),
            learner_regret=tuple(read_only(bank.regret(i)) for i in range(n)),
            ranges=tuple(read_only(x.copy()) for x in self._range),
            bound_fn=self._bound_fn,
            bound_kind="deterministic",
            rows=tuple(
                read_only(np.array(rows).reshape(len(rows), a))
                for rows, a in zip(self._update_rows, self.spec.n_actions, strict=True)
            ),
        )


class BatchedExpectation(BatchedLearners):
    """Exact-expectation updates in ``B`` copies (the twin of :class:`ExpectationResponder`).

    The first five arguments are :class:`~.base.BatchedResponder`'s; the keywords are
    :class:`~.batched_learning.BatchedLearners`' (``queries_per_round`` is ``Π_i A_i``,
    ``bound_kind`` is ``"deterministic"``).
    """

    def __init__(self, spec, n_response, num_envs, draw, record, **kwargs):
        joint = list(itertools.product(*(range(a) for a in spec.n_actions)))
        self.joint = np.array(joint, dtype=np.int64).reshape(len(joint), spec.n_followers)
        super().__init__(
            spec,
            n_response,
            num_envs,
            draw,
            record,
            queries_per_round=len(joint),
            bound_kind="deterministic",
            **kwargs,
        )
        B, n = num_envs, spec.n_followers
        self.position = np.zeros(B, dtype=np.int64)
        self.update_types = np.zeros((B, n), dtype=np.int64)
        self.utilities = np.zeros((B, n, len(joint)))
        self.range = [np.zeros((B, t)) for t in spec.n_types]
        capacity = max(self.max_rounds, 1) if record else 1
        self.update_rows = [np.zeros((B, capacity, a)) for a in spec.n_actions]

    def reset(self, index):
        """See :meth:`~.base.BatchedResponder.reset`."""
        for i in range(self.spec.n_followers):
            self.range[i][index] = 0.0
        self.position[index] = 0
        super().reset(index)

    def next_queries(self, index):
        """See :meth:`~.base.BatchedResponder.next_queries`."""
        select = self.select(index)
        position = self.position[select]
        due = position == 0
        if due.any():
            fresh = index[due]
            self.update_types[fresh] = self.spec.sample_type_batch(self.draw, fresh)
        return self.update_types[select], self.joint[position]

    def observe(self, index, leader, followers):
        """See :meth:`~.base.BatchedResponder.observe`."""
        select = self.select(index)
        position = self.position[select]
        self.utilities[index, :, position] = followers
        position = position + 1
        complete = position == self.joint.shape[0]
        position[complete] = 0
        self.position[select] = position
        if complete.any():
            self.complete_update(index[complete])

    def complete_update(self, index: np.ndarray) -> None:
        """Apply a complete update in copies ``index`` (the realised types' learners)."""
        spec = self.spec
        types = self.update_types[index]
        flats = [self.flat(i, index, types[:, i]) for i in range(spec.n_followers)]
        rows = [learners.rows(flat) for learners, flat in zip(self.learners, flats, strict=True)]
        actions = np.stack([np.argmax(row, axis=1) for row in rows], axis=1)
        if self.record:
            r = self.rounds[index]
            for i, row in enumerate(rows):
                self.update_rows[i][index, r] = row
        self.record_round(index, types, actions)
        utilities = self.utilities[index].reshape((index.size, spec.n_followers) + spec.n_actions)
        for i, learners in enumerate(self.learners):
            gains = expected_gains(utilities[:, i], rows, i)
            learners.update(flats[i], gains)
            realised = self.realised[i].reshape(-1)
            realised[flats[i]] += expected_gain(rows[i], gains)
            spread = gains.max(axis=1) - gains.min(axis=1)
            ranges = self.range[i].reshape(-1)
            ranges[flats[i]] = np.maximum(ranges[flats[i]], spread)
        self.update_features(index)

    def snapshot(self, b):
        """See :meth:`~.base.BatchedResponder.snapshot`."""
        n, rounds = self.spec.n_followers, int(self.rounds[b])
        base = self.snapshot_of(
            b,
            tuple(read_only(self.learners[i].cumulative_gains(b)) for i in range(n)),
            tuple(read_only(self.range[i][b]) for i in range(n)),
        )
        fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
        rows = tuple(read_only(self.update_rows[i][b, :rounds]) for i in range(n))
        return ExpectationSnapshot(**fields, rows=rows)
