"""The exhaustive best-response follower (``"best_response"``): an exact oracle, not a learner.

It queries every (type profile, action profile) once, builds the induced Bayesian game and plays
a pure Bayes-Nash equilibrium of it
(:func:`~stackelberg_zoo.equilibrium.bayes_nash.pure_bayes_nash`; for one follower a best
response per type), ties and equilibrium selection in the leader's favour by default (the
strong Stackelberg convention).
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import (
    BatchedResponder,
    FollowerSpec,
    Responder,
    ResponseAlgorithm,
)
from stackelberg_zoo.envs.pomdp.followers.certificate import FixedPlay
from stackelberg_zoo.equilibrium.arrays import read_only
from stackelberg_zoo.equilibrium.bayes_nash import DEFAULT_TIE_TOL, pure_bayes_nash
from stackelberg_zoo.equilibrium.distributions import bayes_product

TIE_RULES = ("leader", "lowest")
"""How :class:`BestResponse` breaks follower ties and picks among pure Bayes-Nash profiles."""


class BestResponder(Responder):
    """Query every (types, actions) profile, then play a pure Bayes-Nash equilibrium."""

    def __init__(self, spec, n_response, ties, tol):
        super().__init__(spec, n_response)
        self.ties = ties
        self.tol = tol
        grids = [range(t) for t in spec.n_types] + [range(a) for a in spec.n_actions]
        self._queries = np.array(list(itertools.product(*grids)), dtype=np.int64)
        self.n_queries = self._queries.shape[0]
        n = spec.n_followers
        self._payoffs = np.zeros((n, self.n_queries))
        self._leader_payoffs = np.zeros(self.n_queries)
        self._profile: list[np.ndarray] | None = None

    def reset(self, rng):
        """See :meth:`~.base.Responder.reset`."""
        self._count = 0
        self._profile = None
        self._payoffs[...] = 0.0
        self._leader_payoffs[...] = 0.0

    def next_query(self, rng):
        """See :meth:`~.base.Responder.next_query`."""
        row = self._queries[self._count % self.n_queries]
        n = self.spec.n_followers
        return row[:n].copy(), row[n:].copy()

    def observe(self, outcome):
        """See :meth:`~.base.Responder.observe`."""
        k = self._count % self.n_queries
        self._payoffs[:, k] = outcome.followers
        self._leader_payoffs[k] = outcome.leader
        self._count += 1

    @property
    def induced_payoffs(self) -> np.ndarray:
        """``[n, T_1..T_n, A_1..A_n]`` the queried follower utilities."""
        spec = self.spec
        return self._payoffs.reshape((spec.n_followers,) + spec.n_types + spec.n_actions)

    def finish(self):
        """See :meth:`~.base.Responder.finish`."""
        if self._count < self.n_queries:
            raise RuntimeError(
                f"best response needs {self.n_queries} queries, only {self._count} were played"
            )
        leader = self._leader_payoffs.reshape(self.spec.n_types + self.spec.n_actions)
        self._profile = pure_bayes_nash(
            self.induced_payoffs,
            self.spec.prior,
            leader_payoffs=leader if self.ties == "leader" else None,
            tol=self.tol,
        )

    def reward_actions(self, types, rng):
        """See :meth:`~.base.Responder.reward_actions`."""
        return np.array([p[t] for p, t in zip(self._profile, types, strict=True)], dtype=np.int64)

    def strategy(self):
        """See :meth:`~.base.Responder.strategy`."""
        if self._profile is None:
            return tuple(
                read_only(np.full((t, a), 1.0 / a))
                for t, a in zip(self.spec.n_types, self.spec.n_actions, strict=True)
            )
        return tuple(
            read_only(np.eye(a)[p]) for p, a in zip(self._profile, self.spec.n_actions, strict=True)
        )

    def snapshot(self):
        """See :meth:`~.base.Responder.snapshot`."""
        mu = None
        if self._profile is not None:
            mu = bayes_product(self.spec.prior, list(self.strategy()))
        return FixedPlay(mu)


@dataclass(frozen=True)
class BestResponse(ResponseAlgorithm):
    """Exhaustive-query best response (``"best_response"``): an exact oracle, not a learner.

    Queries every (type profile, action profile) once (``Π T_i · Π A_i`` response sub-games;
    ``n_response`` must be at least that, extra queries repeat the enumeration and the last
    answer counts), then plays a pure Bayes-Nash equilibrium of the induced game
    (:func:`pure_bayes_nash`).

    Args:
        ties: ``"leader"`` (strong Stackelberg: ties and equilibrium selection in the leader's
            favour) or ``"lowest"`` (lowest action indices).
        tol: Utilities within ``tol`` are tied.
    """

    ties: str = "leader"
    tol: float = DEFAULT_TIE_TOL
    name = "best_response"

    def __post_init__(self):
        if self.ties not in TIE_RULES:
            raise ValueError(f"ties must be one of {TIE_RULES}, got {self.ties!r}")
        if (
            isinstance(self.tol, bool)
            or not isinstance(self.tol, numbers.Real)
            or not (math.isfinite(self.tol) and self.tol >= 0)
        ):
            raise ValueError(f"tol must be a finite non-negative number, got {self.tol!r}")

    def build(self, spec, n_response):
        """An oracle responder; raises ``ValueError`` if ``n_response`` is too small."""
        self.check_queries(spec, n_response)
        return BestResponder(spec, n_response, self.ties, self.tol)

    def check_queries(self, spec: FollowerSpec, n_response: int) -> None:
        """Raise ``ValueError`` if ``n_response`` cannot query every profile once."""
        needed = math.prod(spec.n_types) * math.prod(spec.n_actions)
        if n_response < needed:
            raise ValueError(
                f"the best-response follower queries every (types, actions) profile, "
                f"{needed} here, so n_response must be at least {needed}, got {n_response}"
            )

    def batched(self, spec, n_response, num_envs, draw, record):
        """The oracle in ``num_envs`` copies (``ValueError`` if ``n_response`` is too small)."""
        self.check_queries(spec, n_response)
        return BatchedBestResponder(spec, n_response, num_envs, draw, record, self.ties, self.tol)


class BatchedBestResponder(BatchedResponder):
    """The oracle in ``B`` copies (the batched twin of :class:`BestResponder`).

    The queries follow the same enumeration in every copy; at the end of a copy's response
    phase its induced game is solved on its own (one :func:`pure_bayes_nash` per copy).
    """

    def __init__(self, spec, n_response, num_envs, draw, record, ties, tol):
        super().__init__(spec, n_response, num_envs, draw, record)
        self.ties = ties
        self.tol = tol
        grids = [range(t) for t in spec.n_types] + [range(a) for a in spec.n_actions]
        self.queries = np.array(list(itertools.product(*grids)), dtype=np.int64)
        self.n_queries = self.queries.shape[0]
        n = spec.n_followers
        self.count = np.zeros(num_envs, dtype=np.int64)
        self.payoffs = np.zeros((num_envs, n, self.n_queries))
        self.leader_payoffs = np.zeros((num_envs, self.n_queries))
        self.plans = [np.zeros((num_envs, t), dtype=np.int64) for t in spec.n_types]
        self.solved = np.zeros(num_envs, dtype=bool)

    def reset(self, index):
        """See :meth:`~.base.BatchedResponder.reset`."""
        self.count[index] = 0
        self.solved[index] = False
        self.payoffs[index] = 0.0
        self.leader_payoffs[index] = 0.0

    def next_queries(self, index):
        """See :meth:`~.base.BatchedResponder.next_queries`."""
        rows = self.queries[self.count[index] % self.n_queries]
        n = self.spec.n_followers
        return rows[:, :n], rows[:, n:]

    def observe(self, index, leader, followers):
        """See :meth:`~.base.BatchedResponder.observe`."""
        k = self.count[index] % self.n_queries
        self.payoffs[index, :, k] = followers
        self.leader_payoffs[index, k] = leader
        self.count[index] += 1

    def finish(self, index):
        """See :meth:`~.base.BatchedResponder.finish`."""
        spec = self.spec
        shape = (spec.n_followers,) + spec.n_types + spec.n_actions
        for b in index.tolist():
            leader = self.leader_payoffs[b].reshape(spec.n_types + spec.n_actions)
            plan = pure_bayes_nash(
                self.payoffs[b].reshape(shape),
                spec.prior,
                leader_payoffs=leader if self.ties == "leader" else None,
                tol=self.tol,
            )
            for i, p in enumerate(plan):
                self.plans[i][b] = p
            self.solved[b] = True

    def reward_actions(self, index, types):
        """See :meth:`~.base.BatchedResponder.reward_actions`."""
        return np.stack([plan[index, types[:, i]] for i, plan in enumerate(self.plans)], axis=1)

    def strategy(self, b):
        """See :meth:`~.base.BatchedResponder.strategy`."""
        return tuple(
            read_only(np.eye(a)[plan[b]])
            for plan, a in zip(self.plans, self.spec.n_actions, strict=True)
        )

    def snapshot(self, b):
        """See :meth:`~.base.BatchedResponder.snapshot`."""
        return FixedPlay(bayes_product(self.spec.prior, list(self.strategy(b))))
