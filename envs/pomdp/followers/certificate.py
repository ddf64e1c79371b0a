"""What a response phase reports: the learners' regret certificate and the frozen snapshots.

A :class:`~.base.ResponseSnapshot` is taken when a response phase ends and turned into the
BCCE gaps and the :class:`RegretCertificate` only when read:

* :class:`LearnerSnapshot`: copies of a learning responder's end-of-phase state;
* :class:`DeferredSnapshot`: a snapshot built on first use (the single env's MW path);
* :class:`FixedPlay`: a fixed distribution of play (the best response's).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import FollowerSpec, ResponseSnapshot
from stackelberg_zoo.equilibrium import bounds
from stackelberg_zoo.equilibrium.arrays import read_only
from stackelberg_zoo.equilibrium.distributions import bayes_joint_from_samples


@dataclass(frozen=True, eq=False)
class RegretCertificate:
    """The learners' regret after the response phase, per follower and type.

    With ``T`` completed rounds, ``h`` the single-type deviation table of the empirical play
    ``μ̂`` (realised types and actions, :func:`~stackelberg_zoo.equilibrium.gaps.bcce_gap`):

    * ``max_b h_i(θ, b) == realised_regret[i][θ] / T`` exactly, so the ex-ante gap of
      follower ``i`` is ``Σ_θ realised_regret / T`` and the agent-form gap
      ``Σ_θ max(0, realised_regret) / T``;
    * ``learner_regret`` is the regret of the learner's *mixed* strategies against the same
      gains; ``learner_regret <= bound`` holds for every gain sequence when ``bound_kind`` is
      ``"deterministic"`` (in expectation only when ``"expected"``);
    * ``realised_regret - learner_regret`` is a martingale: with probability ``1 - δ`` it is
      at most ``range · sqrt(2 N_θ ln(1/δ))`` (Azuma), see
      :func:`~stackelberg_zoo.equilibrium.bounds.azuma_margin`.

    Attributes:
        rounds: ``T``, the number of completed rounds (sweeps, or queries for bandits).
        type_counts: Per follower ``int[T_i]``: rounds in which each type was realised.
        realised_regret: Per follower ``[T_i]``: ``max_b Σ_t g_t(b) − Σ_t g_t(a_t)`` over the
            rounds of that type (``nan`` where the counterfactual gains are unknown).
        learner_regret: Per follower ``[T_i]``: ``max_b Σ_t g_t(b) − Σ_t <x_t, g_t>``
            (``nan`` where unknown).
        bound: Per follower ``[T_i]``: the algorithm's regret bound over ``type_counts``
            rounds, evaluated with the largest gain range seen at that type.
        payoff_range: Per follower ``[T_i]``: the largest ``max_b g_t(b) − min_b g_t(b)`` seen.
        bound_kind: ``"deterministic"`` or ``"expected"``.
    """

    rounds: int
    type_counts: tuple[np.ndarray, ...]
    realised_regret: tuple[np.ndarray, ...]
    learner_regret: tuple[np.ndarray, ...]
    bound: tuple[np.ndarray, ...]
    payoff_range: tuple[np.ndarray, ...]
    bound_kind: str

    def average(self, which: str = "realised_regret") -> np.ndarray:
        """``[n]`` per-follower ``Σ_θ value[θ] / T`` of one field (``nan`` with no rounds).

        Raises:
            ValueError: If ``which`` is not one of the per-type fields.
        """
        fields = ("realised_regret", "learner_regret", "bound")
        if which not in fields:
            raise ValueError(f"which must be one of {fields}, got {which!r}")
        values = getattr(self, which)
        if self.rounds == 0:
            return np.full(len(values), np.nan)
        return np.array([v.sum() / self.rounds for v in values])

    def agent_form_allowance(self, delta: float = 1e-3) -> np.ndarray:
        """``[n]`` per-follower bound on the agent-form BCCE gap of the sampled play.

        ``Σ_θ (bound[θ] + N_θ · azuma_margin(N_θ, payoff_range[θ], δ)) / T``: each type's
        learner regret bound plus the Azuma margin of sampling its play; with probability at
        least ``1 - δ`` per type the realised regret stays below it (``nan`` with no rounds).
        Meaningful for ``bound_kind == "deterministic"``.
        """
        if self.rounds == 0:
            return np.full(len(self.bound), np.nan)
        totals = []
        for counts, bound, spread in zip(
            self.type_counts, self.bound, self.payoff_range, strict=True
        ):
            total = sum(
                float(b) + int(n) * bounds.azuma_margin(int(n), max(float(c), 1e-12), delta)
                for n, b, c in zip(counts, bound, spread, strict=True)
                if n
            )
            totals.append(total / self.rounds)
        return np.array(totals)

    def __eq__(self, other) -> bool:
        return isinstance(other, RegretCertificate) and data_equal(self, other)

    __hash__ = None


def data_equal(a, b) -> bool:
    """Exact structural equality of dataclasses, arrays, tuples, dicts and scalars (nan == nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (
            a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(data_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(data_equal(a[k], b[k]) for k in a)
    if hasattr(a, "__dataclass_fields__"):
        return all(
            data_equal(getattr(a, name), getattr(b, name))
            for name, spec in a.__dataclass_fields__.items()
            if spec.init
        )
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return bool(a == b)


def empirical_play_of(types: np.ndarray, actions: np.ndarray, spec: FollowerSpec):
    """The joint ``[T.., A..]`` of the rounds' types and actions ``int64[R, n]`` (or ``None``)."""
    if types.shape[0] == 0:
        return None
    return bayes_joint_from_samples(types, actions, spec.n_types, spec.n_actions)


@dataclass(frozen=True, eq=False)
class LearnerSnapshot(ResponseSnapshot):
    """Copies of a learning responder's end-of-phase state.

    ``cumulative_gains`` and ``ranges`` are ``None`` for bandit learners (recomputed from the
    induced game when the certificate is asked for); ``bound_fn(count, n_actions, range)``
    is the learner's regret bound.
    """

    spec: FollowerSpec
    types: np.ndarray
    actions: np.ndarray
    counts: tuple[np.ndarray, ...]
    cumulative_gains: tuple[np.ndarray, ...] | None
    realised: tuple[np.ndarray, ...]
    learner_regret: tuple[np.ndarray, ...]
    ranges: tuple[np.ndarray, ...] | None
    bound_fn: Callable[[int, int, float], float]
    bound_kind: str

    def empirical_play(self):
        """See :meth:`~.base.ResponseSnapshot.empirical_play`."""
        return empirical_play_of(self.types, self.actions, self.spec)

    def certificate(self, induced_payoffs):
        """See :meth:`~.base.ResponseSnapshot.certificate`."""
        spec = self.spec
        n = spec.n_followers
        cumulative, ranges = self.cumulative_gains, self.ranges
        if cumulative is None and induced_payoffs is not None:
            cumulative, ranges = counterfactual(self.types, self.actions, induced_payoffs, spec)
        if cumulative is None:
            realised = tuple(np.full(t, np.nan) for t in spec.n_types)
            ranges = tuple(np.full(t, np.nan) for t in spec.n_types)
        else:
            realised = tuple(cumulative[i].max(axis=1) - self.realised[i] for i in range(n))
        bound = tuple(
            np.array(
                [
                    self.bound_fn(int(c), spec.n_actions[i], float(r)) if c > 0 else 0.0
                    for c, r in zip(self.counts[i], ranges[i], strict=True)
                ]
            )
            for i in range(n)
        )
        return RegretCertificate(
            rounds=int(self.types.shape[0]),
            type_counts=self.counts,
            realised_regret=tuple(read_only(r) for r in realised),
            learner_regret=self.learner_regret,
            bound=tuple(read_only(b) for b in bound),
            payoff_range=tuple(read_only(r) for r in ranges),
            bound_kind=self.bound_kind,
        )


@dataclass(frozen=True, eq=False)
class DeferredSnapshot(ResponseSnapshot):
    """A snapshot built on first use, from copies taken when the response phase ended.

    Attributes:
        build: Makes the snapshot; it must only read data nothing mutates any more.
    """

    build: Callable[[], ResponseSnapshot]

    @functools.cached_property
    def _built(self) -> ResponseSnapshot:
        return self.build()

    def empirical_play(self):
        """See :meth:`~.base.ResponseSnapshot.empirical_play`."""
        return self._built.empirical_play()

    def certificate(self, induced_payoffs):
        """See :meth:`~.base.ResponseSnapshot.certificate`."""
        return self._built.certificate(induced_payoffs)


def counterfactual(types, actions, payoffs, spec: FollowerSpec) -> tuple[tuple, tuple]:
    """Per follower cumulative counterfactual gains ``[T_i, A_i]`` and largest ranges ``[T_i]``."""
    n = spec.n_followers
    cumulative, ranges = [], []
    for i in range(n):
        moved = np.moveaxis(payoffs[i], n + i, -1)  # [T..., A_-i..., A_i]
        index = tuple(types[:, j] for j in range(n)) + tuple(
            actions[:, j] for j in range(n) if j != i
        )
        gains = moved[index]  # [R, A_i]
        cum = np.zeros((spec.n_types[i], spec.n_actions[i]))
        np.add.at(cum, types[:, i], gains)
        spread = gains.max(axis=1) - gains.min(axis=1)
        largest = np.zeros(spec.n_types[i])
        np.maximum.at(largest, types[:, i], spread)
        cumulative.append(cum)
        ranges.append(largest)
    return tuple(cumulative), tuple(ranges)


@dataclass(frozen=True, eq=False)
class FixedPlay(ResponseSnapshot):
    """A fixed distribution of play ``mu`` (``None`` before it is known)."""

    mu: np.ndarray | None

    def empirical_play(self):
        """See :meth:`~.base.ResponseSnapshot.empirical_play`."""
        return self.mu
