"""Follower response algorithms: how the followers answer the leader inside the Stackelberg POMDP.

A response algorithm only ever *plays* the leader's policy (it is "policy-interactive"): in the
response phase it asks for sub-games, one *response query* at a time, each with a type profile
and a follower action profile of its choosing; the POMDP plays that sub-game with the leader
acting through its policy and hands back the followers' utilities. In the reward phase it says
what each follower plays at fresh types.

Two layers, so that hyperparameters and per-episode state never mix:

* a :class:`ResponseAlgorithm` is a frozen, comparable description (``MultiplicativeWeights
  Response(eps=0.01)``), chosen by name through :func:`response_algorithm` or passed as an
  instance; it is never patched into an environment;
* :meth:`ResponseAlgorithm.build` turns it into a :class:`Responder` bound to one game's
  followers: the mutable object one environment owns and resets every episode.

Algorithms:

* :class:`MultiplicativeWeightsResponse` (``"mw"``): the paper's dynamics, exactly. Per-type
  weight tables, all ones at the start of an episode. A *sweep* draws and freezes a type
  profile, each follower draws its current action from its realised type's row, then for
  every follower ``i`` and every action ``b`` one query plays ``b`` for ``i`` and the current
  actions for the others (``Σ_i A_i`` queries); then only the realised type's row is updated,
  ``w[θ_i, b] *= (1+ε)^{u_i(b)}``. A partial sweep left at the end is dropped.
* :class:`HedgeResponse` (``"hedge"``) and :class:`RegretMatchingResponse`
  (``"regret_matching"``, ``"regret_matching_plus"``): the same sweeps with another
  full-information learner.
* :class:`Exp3Response` (``"exp3"``): bandit feedback, one query per round (each follower
  samples its action and learns only its own realised utility).
* :class:`BestResponse` (``"best_response"``): an oracle. It queries every (type profile,
  action profile) once, builds the induced Bayesian game and plays a pure Bayes-Nash
  equilibrium of it (for one follower: a best response per type), ties and equilibrium
  selection in the leader's favour by default (the strong Stackelberg convention).

Every learner is per (follower, type) and updates only in rounds where that type is realised,
which is what makes correlated priors work (research/equilibrium.md section 3.1).

Reward-phase play (``reward_play``) for the learners: ``"argmax"`` (the paper: the most
weighted action of the realised type's row, lowest index on ties), ``"sample"`` (sample the
final mixed strategy) or ``"empirical"`` (what BCCE theory covers: draw one completed round of
the response phase uniformly, shared by all followers as the correlation device, and each
follower samples its mixed strategy *of that round* at its fresh type).

Utilities: the learners take the utilities the setting reports, unscaled. The paper's MW
assumes ``[0, 1]`` (all settings but matrix design, whose payments reach ``1 + max_payment``);
``(1+ε)^u`` is Hedge with ``η = ln(1+ε)``, so outside ``[0, 1]`` it still runs and its regret
certificate uses the observed range of the gains (:class:`RegretCertificate`). Exp3 needs known
reward bounds (``reward_bounds``) and rejects utilities outside them.
"""

from __future__ import annotations

import abc
import bisect
import functools
import itertools
import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stackelberg_zoo.envs.core import Outcome
from stackelberg_zoo.equilibrium import bounds
from stackelberg_zoo.equilibrium.distributions import bayes_joint_from_samples, bayes_product
from stackelberg_zoo.equilibrium.learners import (
    Exp3,
    Hedge,
    RegretMatching,
    exp_weights_strategy,
    normalised_weights,
)

REWARD_PLAY = ("argmax", "sample", "empirical")
"""How learning followers play in the reward phase (see the module docstring)."""

TIE_RULES = ("leader", "lowest")
"""How :class:`BestResponse` breaks follower ties and picks among pure Bayes-Nash profiles."""

DEFAULT_TIE_TOL = 1e-9
"""Utilities closer than this count as tied for :class:`BestResponse`."""

MAX_PLAN_PROFILES = 2_000_000
"""The largest number of pure type-contingent profiles :class:`BestResponse` enumerates."""


def _read_only(array) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def _sealed(array: np.ndarray) -> np.ndarray:
    """``array`` itself, made read-only (for fresh arrays nobody else holds: no copy)."""
    array.setflags(write=False)
    return array


# -- the followers' side of a game ----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FollowerSpec:
    """What a response algorithm needs to know about a setting's followers.

    Attributes:
        n_types: Number of types of each follower.
        n_actions: Number of actions of each follower.
        prior: ``[T_1..T_n]`` joint type distribution (may be correlated), read-only.
    """

    n_types: tuple[int, ...]
    n_actions: tuple[int, ...]
    prior: np.ndarray
    _cdf: np.ndarray = field(init=False, repr=False)
    _cdf_list: list[float] = field(init=False, repr=False)
    _profiles: np.ndarray = field(init=False, repr=False)
    _profile_tuples: tuple[tuple[int, ...], ...] = field(init=False, repr=False)
    _first: int = field(init=False, repr=False)
    _last: int = field(init=False, repr=False)

    def __post_init__(self):
        n_types = tuple(int(t) for t in self.n_types)
        n_actions = tuple(int(a) for a in self.n_actions)
        if not n_types or len(n_types) != len(n_actions) or min(n_types + n_actions) < 1:
            raise ValueError(
                f"need one positive type count and action count per follower, got n_types="
                f"{self.n_types!r} and n_actions={self.n_actions!r}"
            )
        prior = np.asarray(self.prior, dtype=np.float64)
        if prior.shape != n_types:
            raise ValueError(f"prior must have shape {n_types}, got {prior.shape}")
        if not np.all(np.isfinite(prior)) or prior.min() < 0 or abs(prior.sum() - 1) > 1e-9:
            raise ValueError(f"prior must be a probability table, got {prior.tolist()}")
        object.__setattr__(self, "n_types", n_types)
        object.__setattr__(self, "n_actions", n_actions)
        object.__setattr__(self, "prior", _read_only(prior))
        flat = prior.ravel()
        object.__setattr__(self, "_cdf", np.cumsum(flat))
        object.__setattr__(self, "_cdf_list", self._cdf.tolist())
        positive = np.flatnonzero(flat > 0)
        object.__setattr__(self, "_first", int(positive[0]))
        object.__setattr__(self, "_last", int(positive[-1]))
        profiles = np.array(list(itertools.product(*(range(t) for t in n_types))), np.int64)
        object.__setattr__(self, "_profiles", profiles.reshape(-1, len(n_types)))
        object.__setattr__(
            self, "_profile_tuples", tuple(tuple(row) for row in self._profiles.tolist())
        )

    @classmethod
    def of(cls, game) -> FollowerSpec:
        """The follower spec of an :class:`~stackelberg_zoo.envs.core.EconomicGame`."""
        return cls(tuple(game.n_types), tuple(game.n_follower_actions), game.prior)

    @property
    def n_followers(self) -> int:
        """Number of followers."""
        return len(self.n_types)

    def sample_types(self, rng: np.random.Generator) -> np.ndarray:
        """Draw a type profile ``int64[n]`` from the prior (one uniform, inverse CDF).

        A prior with a single type profile of positive mass draws nothing from ``rng``.
        """
        if self._last == self._first:
            return self._profiles[self._last].copy()
        # bisect_right on the CDF is searchsorted(side="right"), on Python floats (faster).
        k = bisect.bisect_right(self._cdf_list, rng.random())
        return self._profiles[min(k, self._last)].copy()

    def sample_type_tuple(self, rng: np.random.Generator) -> tuple[int, ...]:
        """:meth:`sample_types` as a tuple of Python ints: the same draw from ``rng``."""
        if self._last == self._first:
            return self._profile_tuples[self._last]
        k = bisect.bisect_right(self._cdf_list, rng.random())
        return self._profile_tuples[min(k, self._last)]


def _sample_row(row: np.ndarray, rng: np.random.Generator) -> int:
    """Draw an index from the probability vector ``row`` (one uniform, inverse CDF).

    The cumulative sums are added left to right (as ``np.cumsum``) and the index is
    ``searchsorted(cdf, u * cdf[-1], side="right")`` capped at the last one; on Python
    floats, which give the same bits and are faster on a handful of actions.
    """
    return _sample_list(row.tolist(), rng)


def _sample_list(row: list[float], rng: np.random.Generator) -> int:
    """:func:`_sample_row` on a list of Python floats."""
    cdf = list(itertools.accumulate(row))
    k = bisect.bisect_right(cdf, rng.random() * cdf[-1])
    return min(k, len(cdf) - 1)


def _relative_exps(groups: list[list[float]], eta: float) -> list[list[float]]:
    """Per group of scores ``S``, ``exp((S - max S) · η)``, on Python floats, one numpy call.

    The shared kernel of :func:`~stackelberg_zoo.equilibrium.learners.exp_weights_strategy`
    and :func:`~stackelberg_zoo.equilibrium.learners.normalised_weights`, with their bits:
    subtraction and product are single IEEE-754 double operations in numpy and in Python
    alike, and ``max`` is exact; only the exponential stays numpy's (``math.exp`` may differ
    in the last bit), one call on the concatenation (it is elementwise, so each entry gets the
    bits of a call per group). On a handful of entries this is several times faster than the
    numpy functions, whose per-call cost dominates there.
    """
    scaled: list[float] = []
    for scores in groups:
        top = max(scores)
        for score in scores:
            scaled.append((score - top) * eta)
    x = np.array(scaled)
    values = np.exp(x, x).tolist()
    if len(groups) == 1:
        return [values]
    out, start = [], 0
    for scores in groups:
        end = start + len(scores)
        out.append(values[start:end])
        start = end
    return out


def _normalised(weights: list[float]) -> list[float]:
    """``weights`` divided by their sum, added left to right (``exp_weights_strategy``'s step).

    Never ``sum()``, which may compensate.
    """
    total = weights[0]
    for weight in weights[1:]:
        total += weight
    return [weight / total for weight in weights]


def _exp_weights_list(scores: list[float], eta: float) -> list[float]:
    """``exp_weights_strategy`` of one learner's ``[A]`` scores, on Python floats, same bits."""
    return _normalised(_relative_exps([scores], eta)[0])


def _float32_array(groups: list[list[float]]) -> np.ndarray:
    """The groups concatenated, as ``float32`` (the same rounding as ``astype``)."""
    return np.array([v for group in groups for v in group], dtype=np.float32)


# -- what a responder reports ----------------------------------------------------------------


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
        return isinstance(other, RegretCertificate) and _data_equal(self, other)

    __hash__ = None


def _data_equal(a, b) -> bool:
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
        return len(a) == len(b) and all(_data_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_data_equal(a[k], b[k]) for k in a)
    if hasattr(a, "__dataclass_fields__"):
        return all(
            _data_equal(getattr(a, name), getattr(b, name))
            for name, spec in a.__dataclass_fields__.items()
            if spec.init
        )
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return bool(a == b)


# -- the per-environment object ----------------------------------------------------------------


class ResponseSnapshot(abc.ABC):
    """What one response phase produced, frozen, for diagnostics computed on demand.

    The POMDP takes a snapshot at the end of every response phase and computes the gaps and
    the certificate from it only when they are read, so diagnostics cost nothing unless used.
    """

    @abc.abstractmethod
    def empirical_play(self) -> np.ndarray | None:
        """``[T_1..T_n, A_1..A_n]`` the distribution of the response-phase play, or ``None``.

        For learners: the realised types and current actions of the completed rounds
        (``None`` before the first one). For :class:`BestResponse`: the prior times the pure
        equilibrium profile.
        """

    def certificate(self, induced_payoffs: np.ndarray | None) -> RegretCertificate | None:
        """The learners' regret certificate (``None`` for algorithms that do not learn).

        Args:
            induced_payoffs: ``[n, T_1..T_n, A_1..A_n]`` follower utilities of the committed
                leader policy where known (needed only by bandit learners, whose
                counterfactual gains were never queried), or ``None``.
        """
        return None


class Responder(abc.ABC):
    """One follower response algorithm bound to one game's followers (mutable, per environment).

    The Stackelberg POMDP drives it: :meth:`reset` at the start of an episode, then for each of
    the ``n_response`` response sub-games :meth:`next_query` and, once the sub-game ended,
    :meth:`observe`; :meth:`finish` at the end of the response phase; :meth:`reward_actions`
    for every reward-phase sub-game.

    Args:
        spec: The followers.
        n_response: Number of response sub-games per episode (queries).
    """

    rounds: int = 0
    """Completed learning rounds in the current episode."""

    def __init__(self, spec: FollowerSpec, n_response: int):
        self.spec = spec
        self.n_response = n_response

    @abc.abstractmethod
    def reset(self, rng: np.random.Generator) -> None:
        """Start an episode: forget everything learned."""

    @abc.abstractmethod
    def next_query(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The next response sub-game: ``(types int64[n], follower_actions int64[n])``."""

    def next_round(self, rng: np.random.Generator) -> list[tuple[int, ...]]:
        """The queries of the next learning round, in order, as tuples of Python ints.

        Each query is the types, then the follower actions. This is the round-at-a-time
        form of :meth:`next_query` and :meth:`observe`, which the Stackelberg POMDP's fast
        path uses (a query is then a hashable key, and the responder is called once per
        round): the caller plays the queries in order and hands the outcomes to
        :meth:`observe_round` once the round is complete, or drops them if the response phase
        ends first. The same queries and the same draws from ``rng`` as the per-query form.
        Default: a round of one query.
        """
        types, actions = self.next_query(rng)
        return [tuple(types.tolist()) + tuple(actions.tolist())]

    def observe_round(self, outcomes: list[Outcome]) -> None:
        """The outcomes of a complete round from :meth:`next_round`, in its order."""
        for outcome in outcomes:
            self.observe(outcome)

    @abc.abstractmethod
    def observe(self, outcome: Outcome) -> None:
        """The outcome of the sub-game of the last query."""

    @abc.abstractmethod
    def finish(self) -> None:
        """End of the response phase: fix what the followers play in the reward phase."""

    @abc.abstractmethod
    def reward_actions(self, types: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The followers' actions ``int64[n]`` in a reward-phase sub-game at ``types``."""

    def reward_action_tuple(
        self, types: tuple[int, ...], rng: np.random.Generator
    ) -> tuple[int, ...]:
        """:meth:`reward_actions` on and as tuples of Python ints (the same draws)."""
        return tuple(self.reward_actions(np.array(types, dtype=np.int64), rng).tolist())

    @abc.abstractmethod
    def strategy(self) -> tuple[np.ndarray, ...]:
        """Per follower ``[T_i, A_i]``: the per-type mixed strategy played in the reward phase.

        For ``reward_play="empirical"`` it is the per-type marginal of the empirical device
        (the average of the rounds' strategies), not the correlated joint.
        """

    @abc.abstractmethod
    def snapshot(self) -> ResponseSnapshot:
        """A frozen copy of what the response phase produced (see :class:`ResponseSnapshot`)."""

    @property
    def state_size(self) -> int:
        """Length of :meth:`state_features`."""
        return 0

    def state_features(self) -> np.ndarray:
        """``float32[state_size]``: the learners' state a centralized critic may see."""
        return np.zeros(0, dtype=np.float32)


# -- per-(follower, type) full-information learners ---------------------------------------------


class _LearnerBank(abc.ABC):
    """The per-(follower, type) full-information learners of one responder.

    Subclasses keep one learner per follower in ``self.learners``.
    """

    learners: list

    @abc.abstractmethod
    def reset(self) -> None:
        """All learners back to their initial state."""

    @abc.abstractmethod
    def row(self, i: int, t: int) -> np.ndarray:
        """``[A_i]`` the current mixed strategy of follower ``i`` at type ``t``."""

    def sample(self, i: int, t: int, rng: np.random.Generator) -> int:
        """Draw follower ``i``'s action at type ``t`` from its current strategy (one uniform)."""
        return _sample_row(self.row(i, t), rng)

    def sample_profile(self, types, rng: np.random.Generator) -> list[int]:
        """:meth:`sample` for every follower at ``types``, in follower order."""
        return [self.sample(i, t, rng) for i, t in enumerate(types)]

    @abc.abstractmethod
    def update(self, i: int, t: int, gains) -> None:
        """One full-information round of learner ``(i, t)`` with gains ``[A_i]`` (a sequence)."""

    @abc.abstractmethod
    def strategy(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` current mixed strategies of follower ``i``."""

    @abc.abstractmethod
    def greedy(self, i: int) -> np.ndarray:
        """``int64[T_i]`` most likely action per type, lowest index on ties."""

    @abc.abstractmethod
    def regret(self, i: int) -> np.ndarray:
        """``[T_i]`` external regret of the mixed strategies so far."""

    @abc.abstractmethod
    def cumulative_gains(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` (a copy)."""

    @abc.abstractmethod
    def counts(self, i: int) -> np.ndarray:
        """``int64[T_i]`` rounds per type (a copy)."""

    @abc.abstractmethod
    def features(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` the normalised state (e.g. weights / their max)."""

    def frozen(self) -> _LearnerBank:
        """A copy of the learners' state that later rounds do not change (for snapshots).

        Only :meth:`counts`, :meth:`cumulative_gains` and :meth:`regret` are read from it.
        Default: the readings, computed now.
        """
        return _BankReadings(
            tuple(self.counts(i) for i in range(len(self.learners))),
            tuple(self.cumulative_gains(i) for i in range(len(self.learners))),
            tuple(self.regret(i) for i in range(len(self.learners))),
        )

    def greedy_lists(self) -> list[list[int]]:
        """:meth:`greedy` of every follower, as lists of Python ints."""
        return [self.greedy(i).tolist() for i in range(len(self.learners))]

    def all_features(self) -> np.ndarray:
        """``float32[Σ T_i A_i]``: every follower's :meth:`features`, flattened, in order."""
        return np.concatenate([self.features(i).ravel() for i in range(len(self.learners))]).astype(
            np.float32
        )


@dataclass(frozen=True, eq=False)
class _BankReadings:
    """Per follower counts, cumulative gains and regret, read from a bank at one time."""

    _counts: tuple[np.ndarray, ...]
    _cumulative_gains: tuple[np.ndarray, ...]
    _regret: tuple[np.ndarray, ...]

    def counts(self, i: int) -> np.ndarray:
        """``int64[T_i]`` rounds per type."""
        return self._counts[i]

    def cumulative_gains(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` cumulative gains."""
        return self._cumulative_gains[i]

    def regret(self, i: int) -> np.ndarray:
        """``[T_i]`` external regret."""
        return self._regret[i]


class _GenericBank(_LearnerBank):
    """Any :class:`~stackelberg_zoo.equilibrium.learners.Learner`, one per follower (batch T_i)."""

    def __init__(self, learners: list):
        self.learners = learners
        self._masks = [np.eye(learner.batch_shape[0], dtype=bool) for learner in learners]

    def reset(self):
        for learner in self.learners:
            learner.reset()

    def row(self, i, t):
        return self.learners[i].strategy()[t]

    def update(self, i, t, gains):
        learner = self.learners[i]
        full = np.zeros(learner.batch_shape + (learner.n_actions,))
        full[t] = gains
        learner.update(full, self._masks[i][t])

    def strategy(self, i):
        return np.array(self.learners[i].strategy())

    def greedy(self, i):
        return self.learners[i].greedy()

    def regret(self, i):
        return self.learners[i].regret()

    def cumulative_gains(self, i):
        return self.learners[i].cumulative_gains

    def counts(self, i):
        return self.learners[i].n_updates

    def features(self, i):
        return self.learners[i].state_features(group_ndim=1)


class _MultiplicativeWeightsBank(_LearnerBank):
    """The paper's MW for one environment, on Python floats, bit for bit the learner's.

    Per follower ``i`` and type ``t`` it keeps what
    :class:`~stackelberg_zoo.equilibrium.learners.MultiplicativeWeights` keeps: the cumulative
    gains ``S[i][t]`` (``A_i`` floats), the cumulative expected gain ``E[i][t]`` and the round
    count ``N[i][t]``, as Python numbers: the POMDP updates one ``A_i``-entry row per follower
    per sweep, where numpy's per-call cost is most of the work. The update is the learner's
    (``S += g``, ``E += Σ_a x_a g_a`` added left to right, ``N += 1``), the hot strategy is
    :func:`_exp_weights_list` (the same bits as ``exp_weights_strategy``), and the reads
    (:meth:`strategy`, :meth:`features`, ...) rebuild arrays and call the equilibrium module's
    own functions. So this bank, the learner and the batched core (:mod:`.batched`, which runs
    the learner on ``(B, T_i)`` batches) agree bit for bit (``tests/test_followers.py``).
    """

    def __init__(self, spec: FollowerSpec, eps: float):
        self.eps = eps
        self.n_types = spec.n_types
        self.n_actions = spec.n_actions
        # η = ln(1+ε), from ε as a float (as the learner's own float conversion).
        self._log_base = math.log1p(float(eps))
        self.reset()

    def reset(self):
        self._scores = [
            [[0.0] * a for _ in range(t)] for t, a in zip(self.n_types, self.n_actions, strict=True)
        ]
        self._expected = [[0.0] * t for t in self.n_types]
        self._counts = [[0] * t for t in self.n_types]
        # Current strategies per (follower, type), until that learner's next update, and the
        # critic features until the next update of any.
        self._rows: dict[tuple[int, int], list[float]] = {}
        self._features: np.ndarray | None = None

    def _feature_tables(self) -> list[list[float]]:
        """Per follower, its score table flattened in C order (one features group each)."""
        return [[s for row in scores for s in row] for scores in self._scores]

    def _row_list(self, i: int, t: int) -> list[float]:
        row = self._rows.get((i, t))
        if row is None:
            row = self._rows[(i, t)] = _exp_weights_list(self._scores[i][t], self._log_base)
        return row

    def row(self, i, t):
        return np.array(self._row_list(i, t))

    def sample(self, i, t, rng):
        return _sample_list(self._row_list(i, t), rng)

    def sample_profile(self, types, rng):
        rows = self._rows
        missing = []
        for key in enumerate(types):
            if key not in rows:
                missing.append(key)
        if missing:  # one exp for the strategies not known yet and, if stale, the features
            groups = [self._scores[i][t] for i, t in missing]
            stale = self._features is None
            if stale:
                groups += self._feature_tables()
            exps = _relative_exps(groups, self._log_base)
            for key, weights in zip(missing, exps, strict=False):  # exps may go on
                rows[key] = _normalised(weights)
            if stale:
                self._features = _float32_array(exps[len(missing) :])
        current = []
        for key in enumerate(types):
            current.append(_sample_list(rows[key], rng))
        return current

    def update(self, i, t, gains):
        self._update(i, t, [float(g) for g in gains])

    def _update(self, i: int, t: int, gains: list[float]) -> None:
        """:meth:`update` with ``gains`` already a list of Python floats."""
        row = self._rows.pop((i, t), None)
        if row is None:
            row = _exp_weights_list(self._scores[i][t], self._log_base)
        products = list(map(operator.mul, row, gains))
        expected = products[0]  # expected_gain: the products added left to right
        for product in products[1:]:
            expected += product
        self._expected[i][t] += expected
        self._scores[i][t] = list(map(operator.add, self._scores[i][t], gains))
        self._counts[i][t] += 1
        self._features = None

    def frozen(self):
        # A copy of the Python state (cheap); its readings are computed only if asked for.
        # The per-type score lists are never mutated in place (_update() replaces them).
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._scores = [list(table) for table in self._scores]
        copy._expected = [list(values) for values in self._expected]
        copy._counts = [list(values) for values in self._counts]
        copy._rows = {}
        copy._features = None
        return copy

    def _table(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` follower ``i``'s cumulative gains (a fresh array)."""
        return np.array(self._scores[i], dtype=np.float64).reshape(
            self.n_types[i], self.n_actions[i]
        )

    def weights(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` the weight table in the paper's scale, ``(1+ε)^{Σ g}``.

        Raises:
            OverflowError: If a weight exceeds the float64 range.
        """
        log_w = self._table(i) * self._log_base
        if np.any(log_w > np.log(np.finfo(np.float64).max)):
            raise OverflowError(
                f"MW weights overflow float64 (largest log-weight {log_w.max()}); "
                f"use features() instead"
            )
        return np.exp(log_w)

    def strategy(self, i):
        # The learner's formula on its action-major layout [A_i, T_i].
        scores = np.ascontiguousarray(self._table(i).T)
        return np.ascontiguousarray(exp_weights_strategy(scores, self._log_base).T)

    def greedy(self, i):
        return np.argmax(self._table(i), axis=1)

    def regret(self, i):
        return self._table(i).max(axis=1) - np.array(self._expected[i], dtype=np.float64)

    def cumulative_gains(self, i):
        return self._table(i)

    def counts(self, i):
        return np.array(self._counts[i], dtype=np.int64)

    def features(self, i):
        return normalised_weights(self._table(i), self._log_base)

    def all_features(self):
        # The same bits as the base class's concatenation of features(i) (normalised_weights
        # per table, cast to float32), on Python floats and one exp; usually computed already
        # by sample_profile, with the strategies, in the same exp.
        if self._features is None:
            self._features = _float32_array(_relative_exps(self._feature_tables(), self._log_base))
        return self._features

    def greedy_lists(self) -> list[list[int]]:
        """:meth:`greedy` of every follower, as lists (the first largest score per type)."""
        return [[row.index(max(row)) for row in scores] for scores in self._scores]


# -- learning responders -------------------------------------------------------------------------


def _empirical(types: np.ndarray, actions: np.ndarray, spec: FollowerSpec) -> np.ndarray | None:
    if types.shape[0] == 0:
        return None
    return bayes_joint_from_samples(types, actions, spec.n_types, spec.n_actions)


@dataclass(frozen=True, eq=False)
class _LearnerSnapshot(ResponseSnapshot):
    """Copies of a learning responder's end-of-phase state."""

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
        return _empirical(self.types, self.actions, self.spec)

    def certificate(self, induced_payoffs):
        spec = self.spec
        n = spec.n_followers
        cumulative, ranges = self.cumulative_gains, self.ranges
        if cumulative is None and induced_payoffs is not None:
            cumulative, ranges = _counterfactual(self.types, self.actions, induced_payoffs, spec)
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
            realised_regret=tuple(_read_only(r) for r in realised),
            learner_regret=self.learner_regret,
            bound=tuple(_read_only(b) for b in bound),
            payoff_range=tuple(_read_only(r) for r in ranges),
            bound_kind=self.bound_kind,
        )


@dataclass(frozen=True, eq=False)
class _DeferredSnapshot(ResponseSnapshot):
    """A snapshot built on first use, from copies taken when the response phase ended.

    Attributes:
        build: Makes the snapshot; it must only read data nothing mutates any more.
    """

    build: Callable[[], ResponseSnapshot]

    @functools.cached_property
    def _built(self) -> ResponseSnapshot:
        return self.build()

    def empirical_play(self):
        return self._built.empirical_play()

    def certificate(self, induced_payoffs):
        return self._built.certificate(induced_payoffs)


def _counterfactual(types, actions, payoffs, spec: FollowerSpec):
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


class _LearnerResponder(Responder):
    """Rounds, reward-phase play and critic features shared by the learning responders."""

    def __init__(self, spec, n_response, reward_play, queries_per_round):
        super().__init__(spec, n_response)
        self.reward_play = reward_play
        self.queries_per_round = queries_per_round
        self.max_rounds = n_response // queries_per_round
        # Per completed round, the realised types and current actions (as given).
        self._round_types: list = []
        self._round_actions: list = []
        self._eyes = [_read_only(np.eye(a)) for a in spec.n_actions]
        self._round_strategies = (
            [
                np.zeros((self.max_rounds, t, a))
                for t, a in zip(spec.n_types, spec.n_actions, strict=True)
            ]
            if reward_play == "empirical"
            else None
        )
        self._state_size = sum(t * a for t, a in zip(spec.n_types, spec.n_actions, strict=True))
        self.rounds = 0
        self._features: np.ndarray | None = None
        self._reward_tables: list[np.ndarray] | None = None

    @abc.abstractmethod
    def _strategy(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` follower ``i``'s current mixed strategies."""

    @abc.abstractmethod
    def _greedy(self, i: int) -> np.ndarray:
        """``int64[T_i]`` follower ``i``'s most weighted action per type."""

    @abc.abstractmethod
    def _raw_features(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` follower ``i``'s normalised learner state."""

    def _greedy_lists(self) -> list[list[int]]:
        """:meth:`_greedy` of every follower, as lists of Python ints."""
        return [self._greedy(i).tolist() for i in range(self.spec.n_followers)]

    def reset(self, rng):
        self.rounds = 0
        self._features = None
        self._reward_tables = None
        self._reward_lists = None
        self._round_types = []
        self._round_actions = []

    def _rounds_array(self, rows: list) -> np.ndarray:
        """``int64[rounds, n]`` from the recorded per-round rows (a fresh array)."""
        return np.array(rows, dtype=np.int64).reshape(len(rows), self.spec.n_followers)

    def _record_round(self, types, actions) -> None:
        r = self.rounds
        self._round_types.append(types)
        self._round_actions.append(actions)
        if self._round_strategies is not None:
            for i in range(self.spec.n_followers):
                self._round_strategies[i][r] = self._strategy(i)
        self.rounds = r + 1
        self._features = None

    def finish(self):
        n = self.spec.n_followers
        if self.reward_play == "argmax":
            self._reward_lists = self._greedy_lists()
            self._reward_tables = [np.array(table, dtype=np.int64) for table in self._reward_lists]
        elif self.reward_play == "sample":
            self._reward_tables = [self._strategy(i) for i in range(n)]
        elif self.rounds == 0:  # empirical without a completed round: the initial strategies
            self._reward_tables = [self._strategy(i) for i in range(n)]

    def reward_actions(self, types, rng):
        n = self.spec.n_followers
        actions = np.empty(n, dtype=np.int64)
        if self.reward_play == "argmax":
            for i in range(n):
                actions[i] = self._reward_tables[i][types[i]]
        elif self.reward_play == "sample" or self.rounds == 0:
            for i in range(n):
                actions[i] = _sample_row(self._reward_tables[i][types[i]], rng)
        else:  # one round drawn for all followers: the correlation device
            r = int(rng.integers(self.rounds))
            for i in range(n):
                actions[i] = _sample_row(self._round_strategies[i][r, types[i]], rng)
        return actions

    def reward_action_tuple(self, types, rng):
        if self.reward_play == "argmax":  # no draw: the greedy tables, on Python ints
            return tuple(table[t] for table, t in zip(self._reward_lists, types, strict=True))
        return super().reward_action_tuple(types, rng)

    def strategy(self):
        n = self.spec.n_followers
        if self.reward_play == "argmax":
            # After finish(), the greedy tables it fixed (the same argmax) are what is played.
            tables = self._reward_tables or [self._greedy(i) for i in range(n)]
            return tuple(_sealed(self._eyes[i][tables[i]]) for i in range(n))
        if self.reward_play == "empirical" and self.rounds > 0:
            return tuple(_read_only(s[: self.rounds].mean(axis=0)) for s in self._round_strategies)
        return tuple(_read_only(self._strategy(i)) for i in range(n))

    @property
    def state_size(self):
        return self._state_size

    def state_features(self):
        if self._features is None:
            self._features = np.concatenate(
                [self._raw_features(i).ravel() for i in range(self.spec.n_followers)]
            ).astype(np.float32)
        return self._features


class _SweepResponder(_LearnerResponder):
    """Full-information learners fed by the paper's counterfactual sweeps.

    The learners' regret is deterministic-bounded (``bound_fn(rounds, n_actions, range)``).
    """

    def __init__(self, spec, n_response, bank: _LearnerBank, reward_play, bound_fn):
        order = [(i, b) for i in range(spec.n_followers) for b in range(spec.n_actions[i])]
        super().__init__(spec, n_response, reward_play, len(order))
        self.bank = bank
        self._order = order
        self._bound_fn = bound_fn
        self._sweeps: dict[tuple[int, ...], list[tuple[int, ...]]] = {}  # at most Π T_i A_i
        self._mw = isinstance(bank, _MultiplicativeWeightsBank)

    def reset(self, rng):
        super().reset(rng)
        self.bank.reset()
        self._position = 0
        # Python floats (one list per follower / per type): a handful of entries each, where
        # numpy's per-call cost dominates; the arithmetic is the same IEEE operations.
        self._gains = [[0.0] * a for a in self.spec.n_actions]
        self._range = [[0.0] * t for t in self.spec.n_types]
        self._realised = [[0.0] * t for t in self.spec.n_types]

    def _strategy(self, i):
        return self.bank.strategy(i)

    def _greedy(self, i):
        return self.bank.greedy(i)

    def _raw_features(self, i):
        return self.bank.features(i)

    def _greedy_lists(self):
        return self.bank.greedy_lists()

    def state_features(self):
        if self._features is None:
            self._features = self.bank.all_features()
        return self._features

    def _begin_sweep(self, rng) -> None:
        """Draw the sweep's types and current actions; list its queries (Python ints)."""
        types = self.spec.sample_type_tuple(rng)
        current = self.bank.sample_profile(types, rng)
        self._types, self._current = types, current
        key = types + tuple(current)
        queries = self._sweeps.get(key)  # the same draw always gives the same queries
        if queries is None:
            queries = self._sweeps[key] = [
                types + tuple(current[:i]) + (b,) + tuple(current[i + 1 :]) for i, b in self._order
            ]
        self._queries = queries

    def next_query(self, rng):
        if self._position == 0:
            self._begin_sweep(rng)
        n = self.spec.n_followers
        profile = self._queries[self._position]
        return np.array(profile[:n], dtype=np.int64), np.array(profile[n:], dtype=np.int64)

    def next_round(self, rng):
        # A sweep; the per-query form must not be used until it is observed.
        self._begin_sweep(rng)
        return self._queries

    def observe(self, outcome):
        i, b = self._order[self._position]
        self._gains[i][b] = outcome.followers.item(i)
        self._position += 1
        if self._position == len(self._order):
            self._position = 0
            self._complete_sweep()

    def observe_round(self, outcomes):
        gains = self._gains
        for (i, b), outcome in zip(self._order, outcomes, strict=True):
            gains[i][b] = outcome.followers.item(i)
        self._complete_sweep()

    def _complete_sweep(self) -> None:
        types, current = self._types, self._current
        self._record_round(types, current)  # strategies of this round, before the update
        update = self.bank._update if self._mw else self.bank.update
        for i, t in enumerate(types):
            g = self._gains[i]  # Python floats
            update(i, t, g)
            self._realised[i][t] += g[current[i]]
            spread = max(g) - min(g)  # exact, as g.max() - g.min()
            if spread > self._range[i][t]:
                self._range[i][t] = spread

    def snapshot(self):
        # Copies now (the recorded rows are never mutated: shallow copies do), arrays later.
        return _DeferredSnapshot(
            functools.partial(
                self._build_snapshot,
                list(self._round_types),
                list(self._round_actions),
                self.bank.frozen(),
                [list(x) for x in self._realised],
                [list(x) for x in self._range],
            )
        )

    def _build_snapshot(self, types, actions, bank, realised, ranges) -> _LearnerSnapshot:
        n = self.spec.n_followers
        return _LearnerSnapshot(
            spec=self.spec,
            types=self._rounds_array(types),
            actions=self._rounds_array(actions),
            counts=tuple(_read_only(bank.counts(i)) for i in range(n)),
            cumulative_gains=tuple(_read_only(bank.cumulative_gains(i)) for i in range(n)),
            realised=tuple(_read_only(np.array(x, dtype=np.float64)) for x in realised),
            learner_regret=tuple(_read_only(bank.regret(i)) for i in range(n)),
            ranges=tuple(_read_only(np.array(x, dtype=np.float64)) for x in ranges),
            bound_fn=self._bound_fn,
            bound_kind="deterministic",
        )


class _BanditResponder(_LearnerResponder):
    """Exp3 learners: one query per round, each follower learns its own realised utility.

    The counterfactual gains the learners never see are recomputed for the certificate
    only, from the induced game of the committed policy.
    """

    def __init__(self, spec, n_response, learners: list[Exp3], reward_play, bound_fn):
        super().__init__(spec, n_response, reward_play, 1)
        self.learners = learners
        self._masks = [np.eye(t, dtype=bool) for t in spec.n_types]
        self._bound_fn = bound_fn
        self.reward_bounds = learners[0].reward_bounds

    def reset(self, rng):
        super().reset(rng)
        self._realised = [np.zeros(t) for t in self.spec.n_types]
        for learner in self.learners:
            learner.reset()

    def _strategy(self, i):
        return np.array(self.learners[i].strategy())

    def _greedy(self, i):
        return self.learners[i].greedy()

    def _raw_features(self, i):
        return self.learners[i].state_features(group_ndim=1)

    def next_query(self, rng):
        self._types = self.spec.sample_types(rng)
        self._current = np.array(
            [
                _sample_row(learner.strategy()[t], rng)
                for learner, t in zip(self.learners, self._types, strict=True)
            ],
            dtype=np.int64,
        )
        return self._types, self._current.copy()

    def observe(self, outcome):
        utilities = outcome.followers
        types, current = self._types, self._current
        self._record_round(types, current)
        for i, learner in enumerate(self.learners):
            t = int(types[i])
            actions = np.zeros(self.spec.n_types[i], dtype=np.int64)
            actions[t] = current[i]
            rewards = np.full(self.spec.n_types[i], self.reward_bounds[0])
            rewards[t] = utilities[i]
            learner.update_bandit(actions, rewards, self._masks[i][t])
            self._realised[i][t] += utilities[i]

    def snapshot(self):
        return _LearnerSnapshot(
            spec=self.spec,
            types=self._rounds_array(self._round_types),
            actions=self._rounds_array(self._round_actions),
            counts=tuple(_read_only(learner.n_updates) for learner in self.learners),
            cumulative_gains=None,  # from the induced game, when the certificate is asked for
            realised=tuple(_read_only(x) for x in self._realised),
            # The regret of Exp3's mixed strategies needs the gains at update time; not kept.
            learner_regret=tuple(_read_only(np.full(t, np.nan)) for t in self.spec.n_types),
            ranges=None,
            bound_fn=self._bound_fn,
            bound_kind="expected",
        )


class NoPureEquilibriumError(ValueError):
    """The induced game of the leader's policy has no pure Bayes-Nash equilibrium."""


class _BestResponder(Responder):
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
        self._count = 0
        self._profile = None
        self._payoffs[...] = 0.0
        self._leader_payoffs[...] = 0.0

    def next_query(self, rng):
        row = self._queries[self._count % self.n_queries]
        n = self.spec.n_followers
        return row[:n].copy(), row[n:].copy()

    def observe(self, outcome):
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
        return np.array([p[t] for p, t in zip(self._profile, types, strict=True)], dtype=np.int64)

    def strategy(self):
        if self._profile is None:
            return tuple(
                _read_only(np.full((t, a), 1.0 / a))
                for t, a in zip(self.spec.n_types, self.spec.n_actions, strict=True)
            )
        return tuple(
            _read_only(np.eye(a)[p])
            for p, a in zip(self._profile, self.spec.n_actions, strict=True)
        )

    def snapshot(self):
        mu = None
        if self._profile is not None:
            mu = bayes_product(self.spec.prior, list(self.strategy()))
        return _FixedPlay(mu)


@dataclass(frozen=True, eq=False)
class _FixedPlay(ResponseSnapshot):
    mu: np.ndarray | None

    def empirical_play(self):
        return self.mu


def pure_bayes_nash(
    payoffs: np.ndarray,
    prior: np.ndarray,
    leader_payoffs: np.ndarray | None = None,
    tol: float = DEFAULT_TIE_TOL,
) -> list[np.ndarray]:
    """A pure Bayes-Nash equilibrium of a finite Bayesian game, found by enumeration.

    A pure profile gives each follower a plan ``s_i: type -> action``. It is an equilibrium
    when no type of positive prior mass gains more than ``tol`` (interim, weighted by the
    conditional prior ``p(θ_-i | θ_i)``) by switching to another action. With one follower
    each type simply best-responds.

    Args:
        payoffs: ``[n, T_1..T_n, A_1..A_n]`` follower utilities.
        prior: ``[T_1..T_n]`` joint type distribution (may be correlated).
        leader_payoffs: Optional ``[T_1..T_n, A_1..A_n]``: among the equilibria (and among a
            lone follower's tied best responses) pick one maximising the leader's expected
            utility (the strong Stackelberg convention); ``None``: the first in
            lexicographic order of plans (lowest action indices first).
        tol: Utility differences up to ``tol`` count as ties.

    Returns:
        One ``int64[T_i]`` plan per follower. Types of zero mass play action 0 (or the
        leader's favourite), they carry no weight.

    Raises:
        NoPureEquilibriumError: If no pure equilibrium exists.
        ValueError: If there are more than :data:`MAX_PLAN_PROFILES` pure profiles.
    """
    payoffs = np.asarray(payoffs, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    n = payoffs.shape[0]
    n_types = payoffs.shape[1 : 1 + n]
    n_actions = payoffs.shape[1 + n :]
    if n == 1:
        utility = payoffs[0] * prior[:, None]  # ex-ante weighted, [T, A]
        best = utility.max(axis=1, keepdims=True)
        candidates = utility >= best - tol * np.maximum(prior[:, None], 1e-300)
        candidates |= prior[:, None] == 0
        if leader_payoffs is None:
            return [np.argmax(candidates, axis=1).astype(np.int64)]
        score = np.where(candidates, np.asarray(leader_payoffs, dtype=np.float64), -np.inf)
        return [np.argmax(score, axis=1).astype(np.int64)]

    plans = [
        np.array(list(itertools.product(range(a), repeat=t)), dtype=np.int64).reshape(-1, t)
        for t, a in zip(n_types, n_actions, strict=True)
    ]
    total = math.prod(p.shape[0] for p in plans)
    if total > MAX_PLAN_PROFILES:
        raise ValueError(
            f"{total} pure type-contingent profiles exceed MAX_PLAN_PROFILES="
            f"{MAX_PLAN_PROFILES}; the exhaustive best response is not available here"
        )
    grids = np.indices(n_types)  # [n, T_1..T_n]
    masses = [prior.sum(axis=tuple(j for j in range(n) if j != i)) for i in range(n)]
    # moved[i]: [T_1..T_n, A_-i..., A_i], follower i's action axis last.
    moved = [np.moveaxis(payoffs[i], n + i, -1) for i in range(n)]
    best_value, best_profile = -np.inf, None
    for indices in itertools.product(*(range(p.shape[0]) for p in plans)):
        plan = [plans[j][k] for j, k in enumerate(indices)]
        acted = [plan[j][grids[j]] for j in range(n)]  # [T_1..T_n] action of j at each θ
        stable = True
        for i in range(n):
            others = tuple(acted[j] for j in range(n) if j != i)
            gathered = moved[i][tuple(grids) + others]  # [T_1..T_n, A_i]
            weighted = gathered * prior[..., None]
            table = weighted.sum(axis=tuple(j for j in range(n) if j != i))  # [T_i, A_i]
            chosen = table[np.arange(n_types[i]), plan[i]]
            if np.any(table.max(axis=1) - chosen > tol * masses[i]):
                stable = False
                break
        if not stable:
            continue
        if leader_payoffs is None:
            return plan
        value = float((np.asarray(leader_payoffs)[tuple(grids) + tuple(acted)] * prior).sum())
        if value > best_value + tol:
            best_value, best_profile = value, plan
    if best_profile is None:
        raise NoPureEquilibriumError(
            f"the followers' induced game (types {n_types}, actions {n_actions}) has no pure "
            f"Bayes-Nash equilibrium among its {total} pure profiles; the exhaustive best "
            f"response is not defined for this leader policy"
        )
    return best_profile


# -- the algorithms (frozen descriptions) -------------------------------------------------------


def _check_reward_play(value) -> None:
    if value not in REWARD_PLAY:
        raise ValueError(f"reward_play must be one of {REWARD_PLAY}, got {value!r}")


def _check_positive(name: str, value, upper: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0) or (upper is not None and value > upper):
        limit = f" and at most {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be positive and finite{limit}, got {value!r}")


class ResponseAlgorithm(abc.ABC):
    """A follower response algorithm's description: hyperparameters only, no state."""

    name: str = ""

    @abc.abstractmethod
    def build(self, spec: FollowerSpec, n_response: int) -> Responder:
        """A fresh :class:`Responder` for one environment.

        Raises:
            ValueError: If the algorithm cannot run with ``n_response`` queries on ``spec``.
        """


@dataclass(frozen=True)
class MultiplicativeWeightsResponse(ResponseAlgorithm):
    """The paper's multiplicative weights with counterfactual sweeps (``"mw"``).

    Args:
        eps: ``ε > 0``: ``w[θ, b] *= (1+ε)^{u(b)}``; the paper's 0.01.
        reward_play: ``"argmax"`` (paper), ``"sample"`` or ``"empirical"``.
    """

    eps: float = 0.01
    reward_play: str = "argmax"
    name = "mw"

    def __post_init__(self):
        _check_positive("eps", self.eps)
        _check_reward_play(self.reward_play)

    def build(self, spec, n_response):
        """A sweep-based responder with one MW learner per (follower, type)."""
        return _SweepResponder(
            spec,
            n_response,
            _MultiplicativeWeightsBank(spec, self.eps),
            self.reward_play,
            lambda count, a, delta: bounds.mw_bound(count, a, self.eps, delta),
        )


@dataclass(frozen=True)
class HedgeResponse(ResponseAlgorithm):
    """Hedge learners with the paper's counterfactual sweeps (``"hedge"``).

    Args:
        eta: A fixed step ``η > 0`` or ``"anytime"`` (``η_t = sqrt(8 ln N / t) / Δ``).
        payoff_range: ``Δ`` for the anytime step.
        reward_play: ``"argmax"``, ``"sample"`` or ``"empirical"``.
    """

    eta: float | str = "anytime"
    payoff_range: float = 1.0
    reward_play: str = "argmax"
    name = "hedge"

    def __post_init__(self):
        if self.eta != "anytime":
            _check_positive("eta", self.eta)
        _check_positive("payoff_range", self.payoff_range)
        _check_reward_play(self.reward_play)

    def build(self, spec, n_response):
        """A sweep-based responder with one Hedge learner per (follower, type)."""

        def bound(count, a, delta):
            if self.eta == "anytime":  # the step is tuned to gains of range payoff_range
                if delta > self.payoff_range:
                    return math.inf  # the bound does not apply to wider gains
                return bounds.hedge_bound(count, a, self.payoff_range, eta="anytime")
            return bounds.hedge_bound(count, a, delta, eta=self.eta)

        return _SweepResponder(
            spec,
            n_response,
            _GenericBank(
                [
                    Hedge((t,), a, eta=self.eta, payoff_range=self.payoff_range)
                    for t, a in zip(spec.n_types, spec.n_actions, strict=True)
                ]
            ),
            self.reward_play,
            bound,
        )


@dataclass(frozen=True)
class RegretMatchingResponse(ResponseAlgorithm):
    """Regret matching (``"regret_matching"``) or RM+ (``"regret_matching_plus"``), with sweeps.

    Args:
        plus: Regret matching+ (clip the cumulative regrets at 0).
        reward_play: ``"argmax"``, ``"sample"`` or ``"empirical"``.
    """

    plus: bool = False
    reward_play: str = "argmax"
    name = "regret_matching"

    def __post_init__(self):
        if not isinstance(self.plus, bool):
            raise TypeError(f"plus must be a bool, got {self.plus!r}")
        _check_reward_play(self.reward_play)

    def build(self, spec, n_response):
        """A sweep-based responder with one RM learner per (follower, type)."""
        return _SweepResponder(
            spec,
            n_response,
            _GenericBank(
                [
                    RegretMatching((t,), a, plus=self.plus)
                    for t, a in zip(spec.n_types, spec.n_actions, strict=True)
                ]
            ),
            self.reward_play,
            lambda count, a, delta: bounds.rm_bound(count, a, delta),
        )


@dataclass(frozen=True)
class Exp3Response(ResponseAlgorithm):
    """EXP3 followers: bandit feedback, one response query per round (``"exp3"``).

    Args:
        gamma: Exploration rate in ``(0, 1]``.
        eta: Step; default ``gamma / N``.
        reward_bounds: ``(low, high)`` range of the follower utilities (rewards outside it
            raise ``ValueError``); ``(0, 1)`` fits every setting but matrix design.
        reward_play: ``"argmax"``, ``"sample"`` or ``"empirical"``.
    """

    gamma: float = 0.1
    eta: float | None = None
    reward_bounds: tuple[float, float] = (0.0, 1.0)
    reward_play: str = "argmax"
    name = "exp3"

    def __post_init__(self):
        _check_positive("gamma", self.gamma, upper=1.0)
        if self.eta is not None:
            _check_positive("eta", self.eta)
        low, high = self.reward_bounds
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(
                f"reward_bounds must be (low, high) with low < high, got {self.reward_bounds!r}"
            )
        _check_reward_play(self.reward_play)

    def build(self, spec, n_response):
        """A bandit responder with one EXP3 learner per (follower, type)."""
        low, high = self.reward_bounds
        learners = [
            Exp3((t,), a, gamma=self.gamma, eta=self.eta, reward_bounds=self.reward_bounds)
            for t, a in zip(spec.n_types, spec.n_actions, strict=True)
        ]
        return _BanditResponder(
            spec,
            n_response,
            learners,
            self.reward_play,
            lambda count, a, delta: bounds.exp3_bound(count, a, self.gamma, high - low),
        )


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
        needed = math.prod(spec.n_types) * math.prod(spec.n_actions)
        if n_response < needed:
            raise ValueError(
                f"the best-response follower queries every (types, actions) profile, "
                f"{needed} here, so n_response must be at least {needed}, got {n_response}"
            )
        return _BestResponder(spec, n_response, self.ties, self.tol)


FOLLOWER_ALGORITHMS: dict[str, Callable[[], ResponseAlgorithm]] = {
    "mw": MultiplicativeWeightsResponse,
    "multiplicative_weights": MultiplicativeWeightsResponse,
    "hedge": HedgeResponse,
    "regret_matching": RegretMatchingResponse,
    "regret_matching_plus": lambda: RegretMatchingResponse(plus=True),
    "exp3": Exp3Response,
    "best_response": BestResponse,
}
"""Response algorithms by name, with their default hyperparameters."""


def response_algorithm(followers: str | ResponseAlgorithm) -> ResponseAlgorithm:
    """Resolve ``followers`` (a name in :data:`FOLLOWER_ALGORITHMS` or an instance).

    Raises:
        ValueError: On an unknown name.
        TypeError: On anything else.
    """
    if isinstance(followers, ResponseAlgorithm):
        return followers
    if isinstance(followers, str):
        if followers not in FOLLOWER_ALGORITHMS:
            raise ValueError(
                f"followers must be one of {sorted(FOLLOWER_ALGORITHMS)} or a "
                f"ResponseAlgorithm instance, got {followers!r}"
            )
        return FOLLOWER_ALGORITHMS[followers]()
    raise TypeError(
        f"followers must be a name or a ResponseAlgorithm instance, got "
        f"{type(followers).__name__}: {followers!r}"
    )


__all__ = [
    "FOLLOWER_ALGORITHMS",
    "REWARD_PLAY",
    "BestResponse",
    "Exp3Response",
    "FollowerSpec",
    "HedgeResponse",
    "MultiplicativeWeightsResponse",
    "NoPureEquilibriumError",
    "RegretCertificate",
    "RegretMatchingResponse",
    "Responder",
    "ResponseAlgorithm",
    "pure_bayes_nash",
    "response_algorithm",
]
