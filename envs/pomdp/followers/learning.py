"""Learning followers in the single environment: per-(follower, type) learners and their rounds.

* :class:`LearnerBank`: the learners of one responder, one per (follower, type);
  :class:`GenericBank` holds any
  :class:`~stackelberg_zoo.equilibrium.learners.FullInformationLearner` (one per follower,
  batch ``T_i``); the paper's MW has its own Python-float bank (:mod:`.mw`);
* :class:`LearnerResponder`: rounds, reward-phase play and critic features of every learner;
* :class:`SweepResponder`: full-information learners fed by the paper's counterfactual
  sweeps (a sweep draws and freezes a type profile, each follower draws its current action
  from its realised type's row, then for every follower ``i`` and action ``b`` one query
  plays ``b`` for ``i`` and the current actions for the others; then only the realised
  types' learners are updated; a partial sweep left at the end is dropped);
* :class:`SweepResponse`: the description of such a model; a new one names its learner and
  its regret bound (see ``hedge.py``).

Every learner is per (follower, type) and updates only in rounds where that type is realised,
which is what makes correlated priors work.
"""

from __future__ import annotations

import abc
import functools
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import (
    Draw,
    FollowerSpec,
    Responder,
    ResponseAlgorithm,
    sample_row,
)
from stackelberg_zoo.envs.pomdp.followers.batched_learning import BatchedSweep, learner_columns
from stackelberg_zoo.envs.pomdp.followers.certificate import DeferredSnapshot, LearnerSnapshot
from stackelberg_zoo.equilibrium.arrays import read_only
from stackelberg_zoo.equilibrium.learners import FullInformationLearner


class LearnerBank(abc.ABC):
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
        return sample_row(self.row(i, t), rng)

    def sample_profile(self, types, rng: np.random.Generator) -> list[int]:
        """:meth:`sample` for every follower at ``types``, in follower order."""
        return [self.sample(i, t, rng) for i, t in enumerate(types)]

    @abc.abstractmethod
    def update(self, i: int, t: int, gains) -> None:
        """One full-information round of learner ``(i, t)`` with gains ``[A_i]``.

        The sweep responder passes a list of Python floats; any sequence must work.
        """

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

    def frozen(self) -> LearnerBank:
        """A copy of the learners' state that later rounds do not change (for snapshots).

        Only :meth:`counts`, :meth:`cumulative_gains` and :meth:`regret` are read from it.
        Default: the readings, computed now.
        """
        return BankReadings(
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
class BankReadings:
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


class GenericBank(LearnerBank):
    """Any :class:`~stackelberg_zoo.equilibrium.learners.Learner`, one per follower (batch T_i)."""

    def __init__(self, learners: list):
        self.learners = learners
        self._masks = [np.eye(learner.batch_shape[0], dtype=bool) for learner in learners]

    def reset(self):
        """See :meth:`~.learning.LearnerBank.reset`."""
        for learner in self.learners:
            learner.reset()

    def row(self, i, t):
        """See :meth:`~.learning.LearnerBank.row`."""
        return self.learners[i].strategy()[t]

    def update(self, i, t, gains):
        """See :meth:`~.learning.LearnerBank.update`."""
        learner = self.learners[i]
        full = np.zeros(learner.batch_shape + (learner.n_actions,))
        full[t] = gains
        learner.update(full, self._masks[i][t])

    def strategy(self, i):
        """See :meth:`~.learning.LearnerBank.strategy`."""
        return np.array(self.learners[i].strategy())

    def greedy(self, i):
        """See :meth:`~.learning.LearnerBank.greedy`."""
        return self.learners[i].greedy()

    def regret(self, i):
        """See :meth:`~.learning.LearnerBank.regret`."""
        return self.learners[i].regret()

    def cumulative_gains(self, i):
        """See :meth:`~.learning.LearnerBank.cumulative_gains`."""
        return self.learners[i].cumulative_gains

    def counts(self, i):
        """See :meth:`~.learning.LearnerBank.counts`."""
        return self.learners[i].n_updates

    def features(self, i):
        """See :meth:`~.learning.LearnerBank.features`."""
        return self.learners[i].state_features(group_ndim=1)


# -- learning responders ----------------------------------------------------------------------


class LearnerResponder(Responder):
    """Rounds, reward-phase play and critic features shared by the learning responders.

    ``round_hook`` (``None`` or a callable without arguments) is called when a round is
    recorded, with the strategies of that round still current (before its update): the
    certification (:mod:`..certify`) keeps its per-update snapshots that way.
    """

    round_hook = None

    def __init__(self, spec, n_response, reward_play, queries_per_round):
        super().__init__(spec, n_response)
        self.reward_play = reward_play
        self.queries_per_round = queries_per_round
        self.max_rounds = n_response // queries_per_round
        # Per completed round, the realised types and current actions (as given).
        self._round_types: list = []
        self._round_actions: list = []
        self._eyes = [read_only(np.eye(a)) for a in spec.n_actions]
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

    def current_strategies(self) -> list[np.ndarray]:
        """Every follower's current ``[T_i, A_i]`` mixed strategies (fresh arrays)."""
        return [np.array(self._strategy(i)) for i in range(self.spec.n_followers)]

    def current_greedy(self) -> list[np.ndarray]:
        """Every follower's current most likely action per type, ``int64[T_i]`` each."""
        return [np.asarray(self._greedy(i), dtype=np.int64) for i in range(self.spec.n_followers)]

    def reset(self, rng):
        """See :meth:`~.base.Responder.reset`."""
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
        if self.round_hook is not None:
            self.round_hook()

    def finish(self):
        """See :meth:`~.base.Responder.finish`."""
        n = self.spec.n_followers
        if self.reward_play == "argmax":
            self._reward_lists = self._greedy_lists()
            self._reward_tables = [np.array(table, dtype=np.int64) for table in self._reward_lists]
        elif self.reward_play == "sample":
            self._reward_tables = [self._strategy(i) for i in range(n)]
        elif self.rounds == 0:  # empirical without a completed round: the initial strategies
            self._reward_tables = [self._strategy(i) for i in range(n)]

    def reward_actions(self, types, rng):
        """See :meth:`~.base.Responder.reward_actions`."""
        n = self.spec.n_followers
        actions = np.empty(n, dtype=np.int64)
        if self.reward_play == "argmax":
            for i in range(n):
                actions[i] = self._reward_tables[i][types[i]]
        elif self.reward_play == "sample" or self.rounds == 0:
            for i in range(n):
                actions[i] = sample_row(self._reward_tables[i][types[i]], rng)
        else:  # one round drawn for all followers: the correlation device
            r = int(rng.integers(self.rounds))
            for i in range(n):
                actions[i] = sample_row(self._round_strategies[i][r, types[i]], rng)
        return actions

    def reward_action_tuple(self, types, rng):
        """See :meth:`~.base.Responder.reward_action_tuple`."""
        if self.reward_play == "argmax":  # no draw: the greedy tables, on Python ints
            return tuple(table[t] for table, t in zip(self._reward_lists, types, strict=True))
        return super().reward_action_tuple(types, rng)

    def strategy(self):
        """See :meth:`~.base.Responder.strategy`."""
        n = self.spec.n_followers
        if self.reward_play == "argmax":
            # After finish(), the greedy tables it fixed (the same argmax) are what is played.
            tables = self._reward_tables or [self._greedy(i) for i in range(n)]
            return tuple(read_only(self._eyes[i][tables[i]], copy=False) for i in range(n))
        if self.reward_play == "empirical" and self.rounds > 0:
            return tuple(read_only(s[: self.rounds].mean(axis=0)) for s in self._round_strategies)
        return tuple(read_only(self._strategy(i)) for i in range(n))

    @property
    def state_size(self):
        """See :attr:`~.base.Responder.state_size`."""
        return self._state_size

    def state_features(self):
        """See :meth:`~.base.Responder.state_features`."""
        if self._features is None:
            self._features = np.concatenate(
                [self._raw_features(i).ravel() for i in range(self.spec.n_followers)]
            ).astype(np.float32)
        return self._features


class SweepResponder(LearnerResponder):
    """Full-information learners fed by the paper's counterfactual sweeps.

    The learners' regret is deterministic-bounded (``bound_fn(rounds, n_actions, range)``).
    """

    def __init__(self, spec, n_response, bank: LearnerBank, reward_play, bound_fn):
        order = [(i, b) for i in range(spec.n_followers) for b in range(spec.n_actions[i])]
        super().__init__(spec, n_response, reward_play, len(order))
        self.bank = bank
        self._order = order
        self._bound_fn = bound_fn
        self._sweeps: dict[tuple[int, ...], list[tuple[int, ...]]] = {}  # at most Π T_i A_i

    def reset(self, rng):
        """See :meth:`~.base.Responder.reset`."""
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
        """See :meth:`~.base.Responder.state_features`."""
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
        """See :meth:`~.base.Responder.next_query`."""
        if self._position == 0:
            self._begin_sweep(rng)
        n = self.spec.n_followers
        profile = self._queries[self._position]
        return np.array(profile[:n], dtype=np.int64), np.array(profile[n:], dtype=np.int64)

    def next_round(self, rng):
        """See :meth:`~.base.Responder.next_round`."""
        # A sweep; the per-query form must not be used until it is observed.
        self._begin_sweep(rng)
        return self._queries

    def observe(self, outcome):
        """See :meth:`~.base.Responder.observe`."""
        i, b = self._order[self._position]
        self._gains[i][b] = outcome.followers.item(i)
        self._position += 1
        if self._position == len(self._order):
            self._position = 0
            self._complete_sweep()

    def observe_round(self, outcomes):
        """See :meth:`~.base.Responder.observe_round`."""
        gains = self._gains
        for (i, b), outcome in zip(self._order, outcomes, strict=True):
            gains[i][b] = outcome.followers.item(i)
        self._complete_sweep()

    def _complete_sweep(self) -> None:
        types, current = self._types, self._current
        self._record_round(types, current)  # strategies of this round, before the update
        update = self.bank.update
        for i, t in enumerate(types):
            g = self._gains[i]  # Python floats
            update(i, t, g)
            self._realised[i][t] += g[current[i]]
            spread = max(g) - min(g)  # exact, as g.max() - g.min()
            if spread > self._range[i][t]:
                self._range[i][t] = spread

    def snapshot(self):
        """See :meth:`~.base.Responder.snapshot`."""
        # Copies now (the recorded rows are never mutated: shallow copies do), arrays later.
        return DeferredSnapshot(
            functools.partial(
                self._build_snapshot,
                list(self._round_types),
                list(self._round_actions),
                self.bank.frozen(),
                [list(x) for x in self._realised],
                [list(x) for x in self._range],
            )
        )

    def _build_snapshot(self, types, actions, bank, realised, ranges) -> LearnerSnapshot:
        n = self.spec.n_followers
        return LearnerSnapshot(
            spec=self.spec,
            types=self._rounds_array(types),
            actions=self._rounds_array(actions),
            counts=tuple(read_only(bank.counts(i)) for i in range(n)),
            cumulative_gains=tuple(read_only(bank.cumulative_gains(i)) for i in range(n)),
            realised=tuple(read_only(np.array(x, dtype=np.float64)) for x in realised),
            learner_regret=tuple(read_only(bank.regret(i)) for i in range(n)),
            ranges=tuple(read_only(np.array(x, dtype=np.float64)) for x in ranges),
            bound_fn=self._bound_fn,
            bound_kind="deterministic",
        )


# -- the description of a sweep-fed learner ------------------------------------------------------


class SweepResponse(ResponseAlgorithm):
    """A full-information learner per (follower, type), fed by the paper's counterfactual sweeps.

    Subclasses are frozen dataclasses with a ``reward_play`` field and name their learner
    (:meth:`learner`) and its regret bound (:meth:`regret_bound`); the single environment's
    responder and the batched kernel come with it.
    """

    reward_play: str = "argmax"

    @abc.abstractmethod
    def learner(self, batch_shape: tuple[int, ...], n_actions: int) -> FullInformationLearner:
        """A fresh batch of learners (``batch_shape`` is ``(T_i,)`` or ``(B, T_i)``)."""

    @abc.abstractmethod
    def regret_bound(self, rounds: int, n_actions: int, payoff_range: float) -> float:
        """The learner's regret bound after ``rounds`` rounds of gains of range ``payoff_range``."""

    def bank(self, spec: FollowerSpec) -> LearnerBank:
        """The single environment's learners: one :meth:`learner` per follower, batch ``T_i``."""
        return GenericBank(
            [self.learner((t,), a) for t, a in zip(spec.n_types, spec.n_actions, strict=True)]
        )

    def build(self, spec, n_response):
        """A sweep-based responder with one learner per (follower, type)."""
        bank = self.bank(spec)
        return SweepResponder(spec, n_response, bank, self.reward_play, self.regret_bound)

    def batch_learners(self, spec: FollowerSpec, num_envs: int) -> list:
        """The batched kernel's learners, one column set per follower (:mod:`.batched_learning`)."""
        return [
            learner_columns(self.learner, num_envs, t, a)
            for t, a in zip(spec.n_types, spec.n_actions, strict=True)
        ]

    @property
    def runs_batched(self) -> bool:
        """Batched for ``reward_play`` ``"argmax"`` and ``"sample"`` (not ``"empirical"``)."""
        return self.reward_play != "empirical"

    def batched(self, spec, n_response, num_envs, draw: Draw, record):
        """The sweeps for ``num_envs`` copies (reward play ``"argmax"`` or ``"sample"``)."""
        return BatchedSweep(
            spec,
            n_response,
            num_envs,
            draw,
            record,
            learners=self.batch_learners(spec, num_envs),
            reward_play=self.reward_play,
            bound_fn=self.regret_bound,
            description=repr(self),
        )
