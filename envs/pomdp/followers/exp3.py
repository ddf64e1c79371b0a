"""EXP3 followers (``"exp3"``): bandit feedback, one response query per round.

Each round draws a type profile and each follower samples its action from its realised
type's learner; the followers learn only their own realised utility
(:class:`~stackelberg_zoo.equilibrium.learners.Exp3`, which needs known reward bounds and
rejects utilities outside them; by default the setting's, the game's
``follower_utility_bounds()``). The counterfactual gains they never see are recomputed for
the regret certificate only, from the induced game of the committed policy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import (
    FollowerSpec,
    ResponseAlgorithm,
    check_bounds,
    check_positive,
    check_reward_play,
    sample_row,
    sample_rows,
)
from stackelberg_zoo.envs.pomdp.followers.batched_learning import (
    BatchedLearners,
    learner_columns,
)
from stackelberg_zoo.envs.pomdp.followers.certificate import LearnerSnapshot
from stackelberg_zoo.envs.pomdp.followers.learning import LearnerResponder
from stackelberg_zoo.equilibrium import bounds
from stackelberg_zoo.equilibrium.arrays import read_only
from stackelberg_zoo.equilibrium.learners import Exp3

DEFAULT_REWARD_BOUNDS = (0.0, 1.0)
"""The bounds EXP3 assumes where neither the user nor the setting states any."""


class BanditResponder(LearnerResponder):
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
        """See :meth:`~.base.Responder.reset`."""
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
        """See :meth:`~.base.Responder.next_query`."""
        self._types = self.spec.sample_types(rng)
        self._current = np.array(
            [
                sample_row(learner.strategy()[t], rng)
                for learner, t in zip(self.learners, self._types, strict=True)
            ],
            dtype=np.int64,
        )
        return self._types, self._current.copy()

    def observe(self, outcome):
        """See :meth:`~.base.Responder.observe`."""
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
        """See :meth:`~.base.Responder.snapshot`."""
        return LearnerSnapshot(
            spec=self.spec,
            types=self._rounds_array(self._round_types),
            actions=self._rounds_array(self._round_actions),
            counts=tuple(read_only(learner.n_updates) for learner in self.learners),
            cumulative_gains=None,  # from the induced game, when the certificate is asked for
            realised=tuple(read_only(x) for x in self._realised),
            # The regret of Exp3's mixed strategies needs the gains at update time; not kept.
            learner_regret=tuple(read_only(np.full(t, np.nan)) for t in self.spec.n_types),
            ranges=None,
            bound_fn=self._bound_fn,
            bound_kind="expected",
        )


@dataclass(frozen=True)
class Exp3Response(ResponseAlgorithm):
    """EXP3 followers: bandit feedback, one response query per round (``"exp3"``).

    EXP3 rescales its rewards to ``[0, 1]`` with known bounds and rejects rewards outside
    them. By default it takes them from the setting (the game's ``follower_utility_bounds()``,
    carried by :class:`~.base.FollowerSpec` as ``utility_bounds``): ``(0.0, 1.0)``
    wherever the followers' utilities are normalised, wider in matrix design, whose payments
    add up to ``max_payment`` to them (``(0.0, 11.0)`` in the default game).

    Args:
        gamma: Exploration rate in ``(0, 1]``.
        eta: Step; default ``gamma / N``.
        reward_bounds: ``(low, high)`` range of the follower utilities (rewards outside it
            raise ``ValueError``), overriding the setting's; ``None`` (the default): the
            setting's bounds, or ``(0.0, 1.0)`` where it states none.
        reward_play: ``"argmax"``, ``"sample"`` or ``"empirical"``.
    """

    gamma: float = 0.1
    eta: float | None = None
    reward_bounds: tuple[float, float] | None = None
    reward_play: str = "argmax"
    name = "exp3"

    def __post_init__(self):
        check_positive("gamma", self.gamma, upper=1.0)
        if self.eta is not None:
            check_positive("eta", self.eta)
        if self.reward_bounds is not None:
            check_bounds("reward_bounds", self.reward_bounds)
        check_reward_play(self.reward_play)

    def bounds_in_force(self, spec: FollowerSpec) -> tuple[float, float]:
        """The reward bounds the learners use on ``spec``'s followers.

        ``reward_bounds`` if given, else the setting's ``spec.utility_bounds``, else
        ``(0.0, 1.0)``.
        """
        if self.reward_bounds is not None:
            return check_bounds("reward_bounds", self.reward_bounds)
        if spec.utility_bounds is not None:
            return spec.utility_bounds
        return DEFAULT_REWARD_BOUNDS

    def build(self, spec, n_response):
        """A bandit responder with one EXP3 learner per (follower, type)."""
        make = functools.partial(self.learner, reward_bounds=self.bounds_in_force(spec))
        learners = [make((t,), a) for t, a in zip(spec.n_types, spec.n_actions, strict=True)]
        bound_fn = functools.partial(self.regret_bound, reward_bounds=learners[0].reward_bounds)
        return BanditResponder(spec, n_response, learners, self.reward_play, bound_fn)

    def regret_bound(
        self,
        rounds: int,
        n_actions: int,
        payoff_range: float,
        reward_bounds: tuple[float, float] | None = None,
    ) -> float:
        """:func:`~stackelberg_zoo.equilibrium.bounds.exp3_bound` (expected).

        The range is the width of the learners' ``reward_bounds`` (the bounds in force, which
        the responders pass; default: this description's ``reward_bounds``, or ``(0, 1)``),
        whatever ``payoff_range``: EXP3's guarantee is in the units it rescales by.
        """
        if reward_bounds is None:
            reward_bounds = self.reward_bounds or DEFAULT_REWARD_BOUNDS
        low, high = reward_bounds
        return bounds.exp3_bound(rounds, n_actions, self.gamma, high - low)

    def learner(
        self,
        batch_shape: tuple[int, ...],
        n_actions: int,
        reward_bounds: tuple[float, float] | None = None,
    ) -> Exp3:
        """EXP3 learners with these hyperparameters.

        ``reward_bounds``: the bounds in force (:meth:`bounds_in_force`); default this
        description's ``reward_bounds``, or ``(0, 1)``.
        """
        if reward_bounds is None:
            reward_bounds = self.reward_bounds or DEFAULT_REWARD_BOUNDS
        return Exp3(
            batch_shape, n_actions, gamma=self.gamma, eta=self.eta, reward_bounds=reward_bounds
        )

    @property
    def runs_batched(self) -> bool:
        """Batched for ``reward_play`` ``"argmax"`` and ``"sample"`` (not ``"empirical"``)."""
        return self.reward_play != "empirical"

    def batched(self, spec, n_response, num_envs, draw, record):
        """Bandit rounds for ``num_envs`` copies (reward play ``"argmax"`` or ``"sample"``)."""
        in_force = self.bounds_in_force(spec)
        make = functools.partial(self.learner, reward_bounds=in_force)
        return BatchedBandit(
            spec,
            n_response,
            num_envs,
            draw,
            record,
            learners=[
                learner_columns(make, num_envs, t, a)
                for t, a in zip(spec.n_types, spec.n_actions, strict=True)
            ],
            queries_per_round=1,
            reward_play=self.reward_play,
            bound_fn=functools.partial(self.regret_bound, reward_bounds=in_force),
            bound_kind="expected",
            description=repr(self),
        )


class BatchedBandit(BatchedLearners):
    """EXP3 rounds in ``B`` copies (the batched twin of :class:`BanditResponder`)."""

    def __init__(self, spec, n_response, num_envs, draw, record, **kwargs):
        super().__init__(spec, n_response, num_envs, draw, record, **kwargs)
        self.types = np.zeros((num_envs, spec.n_followers), dtype=np.int64)
        self.current = np.zeros((num_envs, spec.n_followers), dtype=np.int64)

    def next_queries(self, index):
        """See :meth:`~.base.BatchedResponder.next_queries`."""
        select = self.select(index)
        types = self.spec.sample_type_batch(self.draw, index)
        self.types[select] = types
        for i, learners in enumerate(self.learners):
            rows = learners.rows(self.flat(i, index, types[:, i]))
            self.current[select, i] = sample_rows(rows, self.draw(index))
        return self.types[select], self.current[select]

    def observe(self, index, leader, followers):
        """See :meth:`~.base.BatchedResponder.observe`."""
        select = self.select(index)
        types, current = self.types[select], self.current[select]
        self.record_round(index, types, current)
        for i, learners in enumerate(self.learners):
            flat = self.flat(i, index, types[:, i])
            learners.update_bandit(flat, current[:, i], followers[:, i])
            self.realised[i].reshape(-1)[flat] += followers[:, i]
        self.update_features(index)

    def learner_regret(self, b):
        """See :meth:`~.base.BatchedResponder.learner_regret`."""
        # The regret of EXP3's mixed strategies needs the gains at update time; not kept.
        return tuple(read_only(np.full(t, np.nan)) for t in self.spec.n_types)

    def snapshot(self, b):
        """See :meth:`~.base.BatchedResponder.snapshot`."""
        return self.snapshot_of(b, None, None)
