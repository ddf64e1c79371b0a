"""Tabular Q-learning followers (``"q_learning"``), as in Calvano et al. (AER 2020).

Each follower ``i`` keeps a table ``Q_i[t, s, a]`` over its own type ``t``, the *state* ``s``
and its actions ``a``. The state is the last sub-game's joint follower action (one-period
memory, ``memory=1``; ``Π A_j`` states) or a single state (``memory=0``). One response
sub-game is one period, and one learning round:

1. types are drawn from the prior; with probability ``ε_r = exp(-β r)`` (``r``: completed
   rounds this episode) follower ``i`` plays a uniformly random action, otherwise the
   greedy one, ``argmax_a Q_i[t_i, s, a]`` (lowest index on ties);
2. after the sub-game, with ``s'`` the joint action just played and ``π_i`` the realised
   utility: ``Q_i[t_i, s, a_i] <- (1 - α) Q_i[t_i, s, a_i] + α (π_i + δ V_i(s'))`` where
   ``V_i(s') = Σ_t' P_i(t') max_a Q_i[t', s', a]`` (``P_i``: the prior's marginal of follower
   ``i``'s type; types are drawn afresh each period, so with one type this is Calvano's
   ``max_a Q_i[s', a]``); then ``s <- s'``.

At reset the tables start from the setting's prescription (``initial_q="setting"``: the
game's ``follower_initial_values()`` divided by ``1 - δ``, the same in every state; 0 if it
prescribes none) or from a constant; the first state is drawn uniformly. The reward phase
plays greedily from the current state without learning, the state moving on with the play.

Draws, per period: the type profile (none with a single type profile), then per follower one
uniform ``u`` (explore iff ``u < ε_r``) and, when exploring, one more for the action
(``floor(u' A_i)``); at reset one uniform per follower for the first state. The batched
kernel draws the same uniforms in the same order and does the same arithmetic, so copy ``b``
follows the single environment step for step.

**Report.** Q-learners are not no-regret learners, so no regret bound certifies their play:
the report's ``certificate`` is ``None`` and ``certificate_unavailable`` says why. The BCCE
gaps of their empirical play (realised types and actions of the response phase) are still
computed exactly. The reported strategy is the greedy action per type at the state where the
response phase ended (the play of the next period).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import (
    FollowerSpec,
    Responder,
    ResponseAlgorithm,
    ResponseSnapshot,
)
from stackelberg_zoo.equilibrium.arrays import read_only

MAX_TABLE_ENTRIES = 10**7
"""Most Q-table entries (``Σ_i T_i · S · A_i``) per environment; ``memory=0`` needs fewer."""

NOT_NO_REGRET = (
    "Q-learning followers are not no-regret learners: no regret bound certifies their play, "
    "so the BCCE certificate does not apply (the gaps of their empirical play are exact)"
)
"""What a Q-learning report says instead of a certificate."""


@dataclass(frozen=True, eq=False)
class PlayCounts(ResponseSnapshot):
    """The response phase's play as counts of (types, actions) profiles; no certificate.

    Attributes:
        counts: ``int64[T_1..T_n, A_1..A_n]`` completed rounds at each profile.
        rounds: Their total.
    """

    counts: np.ndarray
    rounds: int

    def empirical_play(self):
        """See :meth:`~.base.ResponseSnapshot.empirical_play`."""
        return None if self.rounds == 0 else self.counts / self.rounds

    def certificate_unavailable(self):
        """See :meth:`~.base.ResponseSnapshot.certificate_unavailable`."""
        return NOT_NO_REGRET


class QTables:
    """What the single responder and the batched kernel share: sizes, ε schedule, Q_0."""

    def __init__(self, algorithm: QLearningResponse, spec: FollowerSpec, n_response: int):
        self.spec = spec
        n = spec.n_followers
        self.n_states = math.prod(spec.n_actions) if algorithm.memory else 1
        self.entries = sum(
            t * self.n_states * a for t, a in zip(spec.n_types, spec.n_actions, strict=True)
        )
        if self.entries > MAX_TABLE_ENTRIES:
            raise ValueError(
                f"Q-tables of {self.entries} entries (follower actions {spec.n_actions}, "
                f"memory={algorithm.memory}) exceed MAX_TABLE_ENTRIES={MAX_TABLE_ENTRIES}; "
                f"use memory=0 or fewer actions"
            )
        # Flat state of a joint action: C order, follower 0 most significant.
        self.strides = (
            [math.prod(spec.n_actions[j + 1 :]) for j in range(n)] if algorithm.memory else [0] * n
        )
        self.epsilon = np.exp(-algorithm.beta * np.arange(n_response, dtype=np.float64))
        axes = tuple(range(n))
        self.marginals = [
            spec.prior.sum(axis=tuple(a for a in axes if a != i)).tolist() for i in range(n)
        ]
        self.initial = []
        for i, (t, a) in enumerate(zip(spec.n_types, spec.n_actions, strict=True)):
            if algorithm.initial_q != "setting":
                start = np.full((t, a), float(algorithm.initial_q))
            elif spec.initial_values is None:
                start = np.zeros((t, a))
            else:
                start = spec.initial_values[i] / (1.0 - algorithm.delta)
            shape = (t, self.n_states, a)
            self.initial.append(read_only(np.broadcast_to(start[:, None, :], shape)))
        self.keep = 1.0 - algorithm.alpha
        self.alpha = algorithm.alpha
        self.delta = algorithm.delta


class QLearningResponder(Responder):
    """Q-learning followers in one environment (see the module docstring)."""

    def __init__(self, spec, n_response, tables: QTables):
        super().__init__(spec, n_response)
        self.tables = tables
        self._epsilon = tables.epsilon.tolist()
        self._eyes = [read_only(np.eye(a, dtype=np.float64)) for a in spec.n_actions]
        self._counts = np.zeros(spec.n_types + spec.n_actions, dtype=np.int64)

    def reset(self, rng):
        """See :meth:`~.base.Responder.reset`: fresh tables, a uniform first state."""
        self.q = [np.array(start) for start in self.tables.initial]
        self.rounds = 0
        self._counts[...] = 0
        self._final = None
        self._features = None
        joint = [min(int(rng.random() * a), a - 1) for a in self.spec.n_actions]
        self.state = self._state_of(joint) if self.tables.n_states > 1 else 0

    def _state_of(self, actions) -> int:
        return sum(int(a) * s for a, s in zip(actions, self.tables.strides, strict=True))

    def _greedy(self, i: int, t: int) -> int:
        return int(np.argmax(self.q[i][t, self.state]))

    def next_query(self, rng):
        """See :meth:`~.base.Responder.next_query`: ε-greedy actions at the current state."""
        types = self.spec.sample_types(rng)
        epsilon = self._epsilon[self.rounds]
        actions = np.empty(self.spec.n_followers, dtype=np.int64)
        for i, n_actions in enumerate(self.spec.n_actions):
            action = self._greedy(i, int(types[i]))
            if rng.random() < epsilon:
                action = min(int(rng.random() * n_actions), n_actions - 1)
            actions[i] = action
        self._types, self._current = types, actions
        return types, actions.copy()

    def observe(self, outcome):
        """See :meth:`~.base.Responder.observe`: one Q update per follower, then ``s <- s'``."""
        tables = self.tables
        types, current = self._types, self._current
        state, following = self.state, self._state_of(current)
        for i in range(self.spec.n_followers):
            q = self.q[i]
            value = 0.0
            for t, p in enumerate(tables.marginals[i]):
                value = value + p * q[t, following].max()
            target = outcome.followers.item(i) + tables.delta * value
            entry = (int(types[i]), state, int(current[i]))
            q[entry] = tables.keep * q[entry] + tables.alpha * target
        self._counts[tuple(types.tolist()) + tuple(current.tolist())] += 1
        self.rounds += 1
        self.state = following
        self._features = None

    def finish(self):
        """See :meth:`~.base.Responder.finish`: keep the greedy actions at the final state."""
        self._final = self._greedy_tables()

    def _greedy_tables(self) -> list[np.ndarray]:
        return [np.argmax(q[:, self.state], axis=1) for q in self.q]

    def reward_actions(self, types, rng):
        """See :meth:`~.base.Responder.reward_actions`: greedy play; the state moves on."""
        actions = np.array([self._greedy(i, int(t)) for i, t in enumerate(types)], dtype=np.int64)
        self.state = self._state_of(actions)
        self._features = None
        return actions

    def strategy(self):
        """See :meth:`~.base.Responder.strategy`: one-hot greedy actions per type."""
        tables = self._final if self._final is not None else self._greedy_tables()
        return tuple(read_only(self._eyes[i][g]) for i, g in enumerate(tables))

    def snapshot(self):
        """See :meth:`~.base.Responder.snapshot`."""
        return PlayCounts(read_only(self._counts.copy()), self.rounds)

    @property
    def state_size(self):
        """See :attr:`~.base.Responder.state_size`: ``Σ T_i A_i``."""
        return sum(t * a for t, a in zip(self.spec.n_types, self.spec.n_actions, strict=True))

    def state_features(self):
        """See :meth:`~.base.Responder.state_features`: each ``Q_i[:, s, :]`` over its max |Q|."""
        if self._features is None:
            parts = []
            for q in self.q:
                rows = q[:, self.state, :]
                scale = np.abs(rows).max()
                parts.append((rows / (scale if scale > 0 else 1.0)).ravel())
            self._features = np.concatenate(parts).astype(np.float32)
        return self._features


@dataclass(frozen=True)
class QLearningResponse(ResponseAlgorithm):
    """Tabular Q-learning followers, ε-greedy with ε = exp(-β t) (Calvano et al. 2020).

    Args:
        alpha: Learning rate in ``(0, 1]``.
        delta: Discount factor in ``[0, 1)``.
        beta: Exploration decay ``>= 0`` per round (``ε_r = exp(-β r)``).
        memory: ``1``: the state is the last joint follower action; ``0``: one state.
        initial_q: ``"setting"`` (the game's ``follower_initial_values()`` over ``1 - δ``,
            0 where it prescribes none) or a number, the starting value of every entry.
    """

    alpha: float = 0.25
    delta: float = 0.95
    beta: float = 1e-4
    memory: int = 1
    initial_q: str | float = "setting"
    name = "q_learning"

    def __post_init__(self):
        _check_real("alpha", self.alpha, 0.0, 1.0, low_open=True)
        _check_real("delta", self.delta, 0.0, 1.0, high_open=True)
        _check_real("beta", self.beta, 0.0, math.inf)
        if isinstance(self.memory, bool) or self.memory not in (0, 1):
            raise ValueError(f"memory must be 0 or 1, got {self.memory!r}")
        if self.initial_q != "setting":
            if isinstance(self.initial_q, (bool, str)) or not isinstance(
                self.initial_q, numbers.Real
            ):
                raise TypeError(f"initial_q must be 'setting' or a number, got {self.initial_q!r}")
            if not math.isfinite(self.initial_q):
                raise ValueError(f"initial_q must be finite, got {self.initial_q!r}")

    def build(self, spec, n_response):
        """A :class:`QLearningResponder` for one environment."""
        return QLearningResponder(spec, n_response, QTables(self, spec, n_response))

    def batched(self, spec, n_response, num_envs, draw, record):
        """The batched kernel (:mod:`.q_learning_batched`)."""
        from stackelberg_zoo.envs.pomdp.followers.q_learning_batched import BatchedQLearning

        return BatchedQLearning(
            spec, n_response, num_envs, draw, record, QTables(self, spec, n_response)
        )


def _check_real(name, value, low, high, *, low_open=False, high_open=False) -> None:
    """Raise unless ``value`` is a real number in the interval (``TypeError``/``ValueError``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (math.isfinite(value) and above and below):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
