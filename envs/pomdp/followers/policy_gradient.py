"""Policy-gradient followers (``"policy_gradient"``): REINFORCE with a tabular softmax policy.

Each follower ``i`` keeps logits ``θ_i[t, s, a]`` over its own type ``t``, the *state* ``s``
and its actions ``a``, and plays ``π_i(· | t, s) = softmax(θ_i[t, s, :])``. The state is a
single one (``memory=0``, the default) or, as for the Q-learning followers, the last
sub-game's joint follower action (``memory=1``; ``Π A_j`` states). One response sub-game is
one learning round, with bandit feedback (a follower learns only from what it played):

1. types are drawn from the prior; follower ``i`` samples ``a_i ~ π_i(· | t_i, s)``;
2. after the sub-game, with ``u_i`` its realised utility and ``b_i`` its baseline,
   ``θ_i[t_i, s, :] <- θ_i[t_i, s, :] + η (u_i - b_i) (e_{a_i} - π_i(· | t_i, s))``, the
   REINFORCE step on the sub-game's own utility (``e_a``: the unit vector of ``a``; the
   gradient of ``log π(a)`` with respect to the logits is ``e_a - π``). With ``baseline=True``,
   ``b_i`` is the running mean of follower ``i``'s utilities at ``(t_i, s)`` in earlier
   rounds of the episode (0 before the first), updated after the step; otherwise ``b_i = 0``.
   Then ``s <- s'``, the joint action just played.

At reset every logit is 0 (uniform play) and the baselines are forgotten; with ``memory=1``
the first state is drawn uniformly. The reward phase plays without learning, from the
current state (which moves on with the play): the most probable action (``reward_play=
"argmax"``, the largest logit, lowest index on ties) or a sample of the softmax
(``"sample"``).

Draws, per round: the type profile (none with a single type profile), then per follower one
uniform for its action (inverse CDF, :func:`~.base.sample_row`); at reset, with ``memory=1``,
one uniform per follower for the first state; in the reward phase, with ``"sample"``, one
uniform per follower. The softmax is :func:`softmax_rows`, shared with the batched kernel
(:mod:`.policy_gradient_batched`), which draws the same uniforms in the same order, so copy
``b`` follows the single environment step for step.

**Report.** Softmax policy gradient from bandit feedback is not a no-regret learner (no
regret bound holds against the sequences the leader can make it face), so the report's
``certificate`` is ``None`` and ``certificate_unavailable`` says why; the BCCE gaps of the
empirical play are still computed exactly. The reported strategy is the per-type softmax
(``"sample"``) or its argmax as a one-hot (``"argmax"``) at the state where the response
phase ended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import (
    FollowerSpec,
    Responder,
    ResponseAlgorithm,
    check_positive,
    sample_row,
)
from stackelberg_zoo.envs.pomdp.followers.batched_learning import row_max
from stackelberg_zoo.envs.pomdp.followers.q_learning import PlayCounts
from stackelberg_zoo.equilibrium.arrays import read_only

MAX_TABLE_ENTRIES = 10**7
"""Most logits (``Σ_i T_i · S · A_i``) per environment; ``memory=0`` needs far fewer."""

PLAYS = ("argmax", "sample")
"""The reward-phase plays of the policy-gradient followers."""

NOT_NO_REGRET = (
    "policy-gradient (REINFORCE) followers are not no-regret learners: no regret bound "
    "certifies their play, so the BCCE certificate does not apply (the gaps of their "
    "empirical play are exact)"
)
"""What a policy-gradient report says instead of a certificate."""


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """``[k, A]`` the softmax of each row of ``logits [k, A]``, stably (the row max subtracted).

    The sums run left to right over the actions, so a row's result does not depend on how
    many rows come with it: the single responder calls it on one row, the batched kernel on
    every copy's at once, and they agree bit for bit.
    """
    exps = np.exp(logits - row_max(logits)[:, None])
    total = exps[:, 0].copy()
    for j in range(1, exps.shape[1]):
        total = total + exps[:, j]
    return exps / total[:, None]


def softmax_row(logits: np.ndarray) -> np.ndarray:
    """:func:`softmax_rows` of one row ``[A]``: the same operations, so the same bits, faster.

    The sum runs left to right on Python floats (not ``sum()``, which compensates).
    """
    exps = np.exp(logits - logits.max())
    total = 0.0
    for x in exps.tolist():
        total += x
    return exps / total


@dataclass(frozen=True, eq=False)
class PolicyGradientPlay(PlayCounts):
    """The response phase's play as counts of (types, actions) profiles; no certificate."""

    def certificate_unavailable(self):
        """See :meth:`~.base.ResponseSnapshot.certificate_unavailable`."""
        return NOT_NO_REGRET


class PolicyTables:
    """What the single responder and the batched kernel share: sizes, states, step."""

    def __init__(self, algorithm: PolicyGradientResponse, spec: FollowerSpec):
        self.spec = spec
        n = spec.n_followers
        self.n_states = math.prod(spec.n_actions) if algorithm.memory else 1
        self.entries = sum(
            t * self.n_states * a for t, a in zip(spec.n_types, spec.n_actions, strict=True)
        )
        if self.entries > MAX_TABLE_ENTRIES:
            raise ValueError(
                f"policy tables of {self.entries} logits (follower actions {spec.n_actions}, "
                f"memory={algorithm.memory}) exceed MAX_TABLE_ENTRIES={MAX_TABLE_ENTRIES}; "
                f"use memory=0 or fewer actions"
            )
        # Flat state of a joint action: C order, follower 0 most significant.
        self.strides = (
            [math.prod(spec.n_actions[j + 1 :]) for j in range(n)] if algorithm.memory else [0] * n
        )
        self.learning_rate = float(algorithm.learning_rate)
        self.baseline = algorithm.baseline
        self.sample_play = algorithm.reward_play == "sample"


class PolicyGradientResponder(Responder):
    """REINFORCE followers in one environment (see the module docstring)."""

    def __init__(self, spec, n_response, tables: PolicyTables):
        super().__init__(spec, n_response)
        self.tables = tables
        self._eyes = [read_only(np.eye(a, dtype=np.float64)) for a in spec.n_actions]
        self._counts = np.zeros(spec.n_types + spec.n_actions, dtype=np.int64)

    def reset(self, rng):
        """See :meth:`~.base.Responder.reset`: zero logits and baselines, a first state."""
        S = self.tables.n_states
        pairs = list(zip(self.spec.n_types, self.spec.n_actions, strict=True))
        self.logits = [np.zeros((t, S, a)) for t, a in pairs]
        self.baselines = [np.zeros((t, S)) for t, _ in pairs]
        self.visits = [np.zeros((t, S), dtype=np.int64) for t, _ in pairs]
        self.rounds = 0
        self._counts[...] = 0
        self._final = None
        self._features = None
        self.state = 0
        if S > 1:
            joint = [min(int(rng.random() * a), a - 1) for a in self.spec.n_actions]
            self.state = self._state_of(joint)

    def _state_of(self, actions) -> int:
        return sum(int(a) * s for a, s in zip(actions, self.tables.strides, strict=True))

    def policy(self, i: int, t: int) -> np.ndarray:
        """``[A_i]`` follower ``i``'s softmax policy at type ``t`` and the current state."""
        return softmax_row(self.logits[i][t, self.state])

    def next_query(self, rng):
        """See :meth:`~.base.Responder.next_query`: each follower samples its policy."""
        types = self.spec.sample_types(rng)
        actions = np.empty(self.spec.n_followers, dtype=np.int64)
        self._policies = []
        for i, t in enumerate(types.tolist()):
            policy = self.policy(i, t)
            actions[i] = sample_row(policy, rng)
            self._policies.append(policy)
        self._types, self._current = types, actions
        return types, actions.copy()

    def observe(self, outcome):
        """See :meth:`~.base.Responder.observe`: one REINFORCE step per follower, ``s <- s'``."""
        tables, state = self.tables, self.state
        types, current = self._types, self._current
        for i in range(self.spec.n_followers):
            t, a = int(types[i]), int(current[i])
            utility = outcome.followers.item(i)
            advantage = utility
            if tables.baseline:
                visits = self.visits[i][t, state] + 1
                mean = self.baselines[i][t, state]
                advantage = utility - mean
                self.baselines[i][t, state] = mean + (utility - mean) / visits
                self.visits[i][t, state] = visits
            step = tables.learning_rate * advantage
            row = self.logits[i][t, state]
            self.logits[i][t, state] = row + step * (self._eyes[i][a] - self._policies[i])
        self._counts[tuple(types.tolist()) + tuple(current.tolist())] += 1
        self.rounds += 1
        if tables.n_states > 1:
            self.state = self._state_of(current)
        self._features = None

    def _tables_at_state(self) -> list[np.ndarray]:
        """Per follower ``[T_i, A_i]`` the reward-phase strategy at the current state."""
        result = []
        for i, logits in enumerate(self.logits):
            rows = logits[:, self.state, :]
            if self.tables.sample_play:
                result.append(softmax_rows(rows))
            else:
                result.append(np.array(self._eyes[i][np.argmax(rows, axis=1)]))
        return result

    def finish(self):
        """See :meth:`~.base.Responder.finish`: keep the strategy at the final state."""
        self._final = [read_only(table) for table in self._tables_at_state()]

    def reward_actions(self, types, rng):
        """See :meth:`~.base.Responder.reward_actions`: argmax or a sample; the state moves on."""
        actions = np.empty(self.spec.n_followers, dtype=np.int64)
        for i, t in enumerate(types.tolist()):
            if self.tables.sample_play:
                actions[i] = sample_row(self.policy(i, t), rng)
            else:
                actions[i] = np.argmax(self.logits[i][t, self.state])
        if self.tables.n_states > 1:
            self.state = self._state_of(actions)
            self._features = None
        return actions

    def strategy(self):
        """See :meth:`~.base.Responder.strategy`: softmax or one-hot argmax per type."""
        if self._final is not None:
            return tuple(self._final)
        return tuple(read_only(table) for table in self._tables_at_state())

    def snapshot(self):
        """See :meth:`~.base.Responder.snapshot`."""
        return PolicyGradientPlay(read_only(self._counts.copy()), self.rounds)

    @property
    def state_size(self):
        """See :attr:`~.base.Responder.state_size`: ``Σ T_i A_i``."""
        return sum(t * a for t, a in zip(self.spec.n_types, self.spec.n_actions, strict=True))

    def state_features(self):
        """See :meth:`~.base.Responder.state_features`: each softmax ``π_i(· | ·, s)``."""
        if self._features is None:
            state = self.state
            parts = [softmax_row(row) for logits in self.logits for row in logits[:, state, :]]
            self._features = np.concatenate(parts).astype(np.float32)
        return self._features


@dataclass(frozen=True)
class PolicyGradientResponse(ResponseAlgorithm):
    """REINFORCE followers with a tabular softmax policy per (type[, last joint action]).

    Args:
        learning_rate: The step ``η > 0`` on the logits.
        baseline: Subtract the running mean of the follower's earlier utilities at the same
            (type, state) from each utility (variance reduction).
        memory: ``0``: one state (the default); ``1``: the state is the last joint follower
            action, as for the Q-learning followers.
        reward_play: ``"argmax"`` (the most probable action) or ``"sample"``.
    """

    learning_rate: float = 0.1
    baseline: bool = True
    memory: int = 0
    reward_play: str = "argmax"
    name = "policy_gradient"

    def __post_init__(self):
        check_positive("learning_rate", self.learning_rate)
        if not isinstance(self.baseline, bool):
            raise TypeError(f"baseline must be True or False, got {self.baseline!r}")
        if isinstance(self.memory, bool) or self.memory not in (0, 1):
            raise ValueError(f"memory must be 0 or 1, got {self.memory!r}")
        if self.reward_play not in PLAYS:
            raise ValueError(f"reward_play must be one of {PLAYS}, got {self.reward_play!r}")

    def build(self, spec, n_response):
        """A :class:`PolicyGradientResponder` for one environment."""
        return PolicyGradientResponder(spec, n_response, PolicyTables(self, spec))

    def batched(self, spec, n_response, num_envs, draw, record):
        """The batched kernel (:mod:`.policy_gradient_batched`)."""
        from stackelberg_zoo.envs.pomdp.followers.policy_gradient_batched import (
            BatchedPolicyGradient,
        )

        return BatchedPolicyGradient(
            spec, n_response, num_envs, draw, record, PolicyTables(self, spec)
        )
