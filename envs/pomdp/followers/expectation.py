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

from stackelberg_zoo.envs.pomdp.followers.certificate import LearnerSnapshot
from stackelberg_zoo.envs.pomdp.followers.learning import LearnerBank, LearnerResponder
from stackelberg_zoo.equilibrium.arrays import read_only


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
        n = self.spec.n_followers
        rows = [self.bank.row(i, t) for i, t in enumerate(types)]
        # The strategies of this update, before it; its "actions" are the rows' argmax (no
        # action is drawn in this form).
        self._record_round(types, [int(np.argmax(row)) for row in rows])
        for i, row in enumerate(rows):
            self._update_rows[i].append(row)
        for i, t in enumerate(types):
            gains = self._utilities[i]
            for j in range(n - 1, -1, -1):  # contract the others' actions, last axis first
                if j != i:
                    gains = np.tensordot(gains, rows[j], axes=([j], [0]))
            gains = gains.tolist()
            self.bank.update(i, t, gains)
            self._realised[i][t] += float(np.dot(rows[i], gains))
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
