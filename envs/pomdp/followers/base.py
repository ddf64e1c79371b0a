"""What a follower model implements: a frozen description, a single-env responder, a batched kernel.

A follower model (one module in this package) is three classes:

* a :class:`ResponseAlgorithm`: a frozen, comparable description holding hyperparameters only
  (``MultiplicativeWeightsResponse(eps=0.01)``), chosen by name through the registry
  (:func:`~stackelberg_zoo.envs.pomdp.followers.response_algorithm`) or passed as an
  instance; it is never patched into an environment;
* the :class:`Responder` that :meth:`ResponseAlgorithm.build` returns: the mutable object one
  single environment (:class:`~stackelberg_zoo.envs.pomdp.episode.StackelbergPOMDP`) owns
  and resets every episode;
* the :class:`BatchedResponder` that :meth:`ResponseAlgorithm.batched` returns: the same
  model for ``B`` copies at once, on arrays, for
  :class:`~stackelberg_zoo.envs.pomdp.batched.BatchedStackelbergPOMDP` and the Gymnasium
  vector env. Copy ``b`` must draw the same uniforms in the same order and do the same
  floating-point operations as a single environment seeded like it, so that the two agree
  step for step.

Learning followers that answer the paper's counterfactual sweeps with any full-information
learner need much less: subclass :class:`~.sweep.SweepResponse` (see ``hedge.py``).
"""

from __future__ import annotations

import abc
import bisect
import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stackelberg_zoo.envs.core import Outcome
from stackelberg_zoo.equilibrium.arrays import read_only

REWARD_PLAY = ("argmax", "sample", "empirical")
"""How learning followers play in the reward phase (see the package docstring)."""

Draw = Callable[[np.ndarray], np.ndarray]
"""``draw(index)``: one uniform double of each copy in ``index`` (``int64[k]``), in stream order."""


# -- the followers' side of a game ----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FollowerSpec:
    """What a response algorithm needs to know about a setting's followers.

    Attributes:
        n_types: Number of types of each follower.
        n_actions: Number of actions of each follower.
        prior: ``[T_1..T_n]`` joint type distribution (may be correlated), read-only.
        initial_values: Per follower ``[T_i, A_i]`` the setting's starting values for
            value-based learners (the game's ``follower_initial_values()``), read-only;
            ``None`` if it prescribes none.
        utility_bounds: ``(low, high)``, ``low < high``, an interval holding every follower
            utility (the game's ``follower_utility_bounds()``), as floats; ``None`` if the
            setting states none (its utilities lie in ``[0, 1]``).
    """

    n_types: tuple[int, ...]
    n_actions: tuple[int, ...]
    prior: np.ndarray
    initial_values: tuple[np.ndarray, ...] | None = None
    utility_bounds: tuple[float, float] | None = None
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
        object.__setattr__(self, "prior", read_only(prior))
        if self.initial_values is not None:
            values = tuple(np.asarray(v, dtype=np.float64) for v in self.initial_values)
            shapes = tuple(zip(n_types, n_actions, strict=True))
            if tuple(v.shape for v in values) != shapes or not all(
                np.all(np.isfinite(v)) for v in values
            ):
                raise ValueError(
                    f"initial_values must be finite arrays of shapes {shapes}, got "
                    f"{[v.tolist() for v in values]}"
                )
            object.__setattr__(self, "initial_values", tuple(read_only(v) for v in values))
        if self.utility_bounds is not None:
            bounds = check_bounds("utility_bounds", self.utility_bounds)
            object.__setattr__(self, "utility_bounds", bounds)
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
        return cls(
            tuple(game.n_types),
            tuple(game.n_follower_actions),
            game.prior,
            game.follower_initial_values(),
            game.follower_utility_bounds(),
        )

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

    def sample_type_batch(self, draw: Draw, index: np.ndarray) -> np.ndarray:
        """:meth:`sample_types` for the copies ``index`` of a batch: ``int64[k, n]``.

        Each copy's uniform comes from ``draw(index)``, none when a single type profile has
        positive mass; the same inverse CDF as :meth:`sample_types`. Do not modify the result.
        """
        if self._last == self._first:
            return np.broadcast_to(self._profiles[self._last], (index.size, self.n_followers))
        k = np.searchsorted(self._cdf, draw(index), side="right")
        return self._profiles[np.minimum(k, self._last)]


def sample_row(row: np.ndarray, rng: np.random.Generator) -> int:
    """Draw an index from the probability vector ``row`` (one uniform, inverse CDF).

    The cumulative sums are added left to right (as ``np.cumsum``) and the index is
    ``searchsorted(cdf, u * cdf[-1], side="right")`` capped at the last one; on Python
    floats, which give the same bits and are faster on a handful of actions. The batched
    form is :func:`sample_rows`.
    """
    return sample_list(row.tolist(), rng)


def sample_list(row: list[float], rng: np.random.Generator) -> int:
    """:func:`sample_row` on a list of Python floats."""
    cdf = list(itertools.accumulate(row))
    k = bisect.bisect_right(cdf, rng.random() * cdf[-1])
    return min(k, len(cdf) - 1)


def sample_rows(rows: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """``int64[k]``: for each row, the index whose cumulative sum first exceeds ``u · Σ row``.

    :func:`sample_row` for ``k`` rows ``[k, A]`` at once, one uniform each, with the
    cumulative sums formed in the same order (so the same index, bit for bit).
    """
    width = rows.shape[1]
    running = rows[:, 0].copy()
    sums = [running]
    for j in range(1, width):
        running = running + rows[:, j]
        sums.append(running)
    target = uniforms * running
    chosen = (sums[0] <= target).astype(np.int64)
    for partial in sums[1:]:
        chosen += partial <= target
    return np.minimum(chosen, width - 1, out=chosen)


# -- hyperparameter checks shared by the descriptions ---------------------------------------


def check_reward_play(value) -> None:
    """Raise ``ValueError`` unless ``value`` is one of :data:`REWARD_PLAY`."""
    if value not in REWARD_PLAY:
        raise ValueError(f"reward_play must be one of {REWARD_PLAY}, got {value!r}")


def check_bounds(name: str, value) -> tuple[float, float]:
    """``value`` as ``(low, high)`` floats, finite with ``low < high``; else ``ValueError``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = math.nan
    if isinstance(value, str) or not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be (low, high) with low < high, got {value!r}")
    return low, high


def check_positive(name: str, value, upper: float | None = None) -> None:
    """Raise unless ``value`` is a finite real in ``(0, upper]`` (``TypeError``/``ValueError``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0) or (upper is not None and value > upper):
        limit = f" and at most {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be positive and finite{limit}, got {value!r}")


# -- what one response phase produced --------------------------------------------------------


class ResponseSnapshot(abc.ABC):
    """What one response phase produced, frozen, for diagnostics computed on demand.

    The POMDP takes a snapshot at the end of every response phase and computes the gaps and
    the certificate from it only when they are read, so diagnostics cost nothing unless used.
    """

    @abc.abstractmethod
    def empirical_play(self) -> np.ndarray | None:
        """``[T_1..T_n, A_1..A_n]`` the distribution of the response-phase play, or ``None``.

        For learners: the realised types and current actions of the completed rounds
        (``None`` before the first one). For the best response: the prior times the pure
        equilibrium profile.
        """

    def certificate(self, induced_payoffs: np.ndarray | None):
        """The learners' :class:`~.certificate.RegretCertificate` (``None`` if they do not learn).

        Args:
            induced_payoffs: ``[n, T_1..T_n, A_1..A_n]`` follower utilities of the committed
                leader policy where known (needed only by bandit learners, whose
                counterfactual gains were never queried), or ``None``.
        """
        return None

    def certificate_unavailable(self) -> str | None:
        """Why :meth:`certificate` is ``None`` for this model (``None``: no reason to give)."""
        return None


# -- the single environment's per-episode object ----------------------------------------------


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


# -- the batched core's per-batch object ------------------------------------------------------


class BatchedResponder(abc.ABC):
    """A follower model in ``B`` copies at once, on arrays (the batched core drives it).

    The calls mirror :class:`Responder`'s, for the copies ``index`` (a sorted ``int64[k]``)
    whose turn it is: :meth:`reset` at the start of their episodes, :meth:`next_queries`
    when they begin a response sub-game, :meth:`observe` when it ended, :meth:`finish` at
    the end of their response phase, :meth:`reward_actions` for each reward sub-game. Copy
    ``b`` draws its uniforms with ``draw`` exactly when and as a single environment's
    responder draws ``rng.random()``.

    Args:
        spec: The followers.
        n_response: Response sub-games per episode.
        num_envs: ``B``.
        draw: The copies' uniform streams (:data:`Draw`).
        record: Keep what :meth:`snapshot` needs (the core's ``diagnostics=True``).

    Attributes:
        rounds: ``int64[B]`` completed learning rounds in each copy's current episode.
        features: ``float32[B, state_size]`` each copy's critic features (as the single
            responder's :meth:`Responder.state_features`), kept current by writing into it
            in place: the batched core rebinds it to a view of its own state buffer once,
            right after construction, so that the critic's state needs no extra copy.
    """

    def __init__(
        self, spec: FollowerSpec, n_response: int, num_envs: int, draw: Draw, record: bool
    ):
        self.spec = spec
        self.n_response = n_response
        self.num_envs = num_envs
        self.draw = draw
        self.record = record
        self.rounds = np.zeros(num_envs, dtype=np.int64)
        self.features = np.zeros((num_envs, self.state_size), dtype=np.float32)

    @property
    def state_size(self) -> int:
        """Length of each copy's :attr:`features` (as :attr:`Responder.state_size`)."""
        return 0

    def select(self, index: np.ndarray) -> np.ndarray | slice:
        """``index`` itself, or ``slice(None)`` when it holds every copy (much faster)."""
        return slice(None) if index.size == self.num_envs else index

    @abc.abstractmethod
    def reset(self, index: np.ndarray) -> None:
        """Start an episode in copies ``index``: forget everything learned there."""

    @abc.abstractmethod
    def next_queries(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The next response sub-game of copies ``index``: types and actions ``int64[k, n]``."""

    @abc.abstractmethod
    def observe(self, index: np.ndarray, leader: np.ndarray, followers: np.ndarray) -> None:
        """Outcomes of copies ``index``'s last queries: leader ``[k]``, followers ``[k, n]``."""

    @abc.abstractmethod
    def finish(self, index: np.ndarray) -> None:
        """End of the response phase of copies ``index``: fix their reward-phase play."""

    @abc.abstractmethod
    def reward_actions(self, index: np.ndarray, types: np.ndarray) -> np.ndarray:
        """The followers' actions ``int64[k, n]`` in reward sub-games of ``index`` at ``types``."""

    @abc.abstractmethod
    def strategy(self, b: int) -> tuple[np.ndarray, ...]:
        """Copy ``b``'s :meth:`Responder.strategy` (read-only arrays)."""

    @abc.abstractmethod
    def snapshot(self, b: int) -> ResponseSnapshot:
        """Copy ``b``'s :meth:`Responder.snapshot` (called only with ``record``)."""


# -- the description ----------------------------------------------------------------------------


class ResponseAlgorithm(abc.ABC):
    """A follower response algorithm's description: hyperparameters only, no state.

    Subclasses are frozen dataclasses; ``name`` is the name they are registered under.
    """

    name: str = ""

    @abc.abstractmethod
    def build(self, spec: FollowerSpec, n_response: int) -> Responder:
        """A fresh :class:`Responder` for one environment.

        Raises:
            ValueError: If the algorithm cannot run with ``n_response`` queries on ``spec``.
        """

    @property
    def runs_batched(self) -> bool:
        """Whether :meth:`batched` exists for this model with these hyperparameters.

        The default: whether the class implements :meth:`batched`. Models whose batched form
        refuses some hyperparameters override it.
        """
        return type(self).batched is not ResponseAlgorithm.batched

    def batched(
        self, spec: FollowerSpec, n_response: int, num_envs: int, draw: Draw, record: bool
    ) -> BatchedResponder:
        """A fresh :class:`BatchedResponder` for ``num_envs`` copies (see its arguments).

        Raises:
            ValueError: If this algorithm (or these hyperparameters) has no batched form;
                the default, for models that implement only the single environment.
        """
        raise ValueError(
            f"{self!r} has no batched implementation; use the single-environment "
            f"StackelbergPOMDP, or implement ResponseAlgorithm.batched"
        )
