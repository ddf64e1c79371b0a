"""A population of follower models (``"population"``): each episode draws one from a mix.

At the start of every episode the responder draws one member, a follower model with its
hyperparameters (``MultiplicativeWeightsResponse(eps=0.1)``, ``HedgeResponse()``, ...), from
the mix's probabilities, with one uniform from the environment's generator, and the whole
episode then runs that member's responder. A leader trained against a population must
commit to a mechanism that works against every member it may meet, which is what the
robustness table (``benchmark/robustness.py``) measures.

The centralized critic's features are a one-hot of the drawn member followed by every
member's feature slot, zeros except the drawn member's (so the state space is fixed).

The batched kernel (:class:`BatchedPopulation`, for the Gymnasium vector env) splits every
call by each copy's drawn member and follows the single environment step for step.
"""

from __future__ import annotations

import bisect
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
from stackelberg_zoo.envs.pomdp.followers.hedge import HedgeResponse
from stackelberg_zoo.envs.pomdp.followers.mw import MultiplicativeWeightsResponse
from stackelberg_zoo.envs.pomdp.followers.regret_matching import RegretMatchingResponse

DEFAULT_MEMBERS: tuple[ResponseAlgorithm, ...] = (
    MultiplicativeWeightsResponse(eps=0.01),
    MultiplicativeWeightsResponse(eps=0.1),
    HedgeResponse(),
    RegretMatchingResponse(),
)
"""The default mix, drawn uniformly: MW at ε 0.01 (the paper) and 0.1, anytime Hedge and
regret matching. Full-information learners that run in every setting (EXP3 needs utilities
in its reward bounds, the best response needs ``n_response`` above the profile count), and
it leaves RM+, EXP3, the best response and other MW steps out, to evaluate against held out."""


class PopulationResponder(Responder):
    """Runs one member's responder per episode, drawn at :meth:`reset` (module docstring)."""

    def __init__(self, spec, n_response, responders: list[Responder], cdf: list[float]):
        super().__init__(spec, n_response)
        self.responders = responders
        self._cdf = cdf
        self.member = 0
        """Index of the member drawn for the current episode."""
        self.active = responders[0]
        sizes = [r.state_size for r in responders]
        self._offsets = np.cumsum([len(responders)] + sizes).tolist()
        self._state_size = self._offsets[-1]
        self._inner: np.ndarray | None = None  # the active member's last features
        self._features = np.zeros(self._state_size, dtype=np.float32)

    @property
    def rounds(self) -> int:
        """Completed learning rounds of the drawn member."""
        return self.active.rounds

    def reset(self, rng):
        """Draw the episode's member (one uniform from ``rng``), then reset it."""
        k = bisect.bisect_right(self._cdf, rng.random())
        self.member = min(k, len(self.responders) - 1)
        self.active = self.responders[self.member]
        self._inner = None
        self.active.reset(rng)

    def next_query(self, rng):
        """The drawn member's next query."""
        return self.active.next_query(rng)

    def next_round(self, rng):
        """The drawn member's next round."""
        return self.active.next_round(rng)

    def observe_round(self, outcomes):
        """The drawn member observes a round."""
        self.active.observe_round(outcomes)

    def observe(self, outcome):
        """The drawn member observes a sub-game."""
        self.active.observe(outcome)

    def finish(self):
        """The drawn member fixes its reward-phase play."""
        self.active.finish()

    def reward_actions(self, types, rng):
        """The drawn member's reward-phase actions."""
        return self.active.reward_actions(types, rng)

    def reward_action_tuple(self, types, rng):
        """The drawn member's reward-phase actions, as a tuple."""
        return self.active.reward_action_tuple(types, rng)

    def strategy(self):
        """The drawn member's reward-phase strategy."""
        return self.active.strategy()

    def snapshot(self):
        """The drawn member's snapshot."""
        return self.active.snapshot()

    @property
    def state_size(self):
        """Members, plus every member's feature size."""
        return self._state_size

    def state_features(self):
        """One-hot of the drawn member, then its features in its slot (others zero).

        A new array whenever they change (the POMDP compares by identity).
        """
        inner = self.active.state_features()
        if inner is not self._inner or self._inner is None:
            features = np.zeros(self._state_size, dtype=np.float32)
            features[self.member] = 1.0
            start = self._offsets[self.member]
            features[start : start + inner.size] = inner
            self._features, self._inner = features, inner
        return self._features


@dataclass(frozen=True)
class PopulationResponse(ResponseAlgorithm):
    """A mix of follower models, one drawn per episode (``"population"``).

    Args:
        members: The follower models of the mix, as :class:`ResponseAlgorithm` instances
            with their hyperparameters (one instance per parameter value to mix over).
        weights: One non-negative weight per member (normalised); ``None``: uniform.

    Raises:
        TypeError: If ``members`` is not a non-empty tuple or list of ResponseAlgorithm
            instances, or a weight is not a real number.
        ValueError: If ``weights`` has the wrong length, a negative or non-finite entry, or
            sums to 0.
    """

    members: tuple[ResponseAlgorithm, ...] = DEFAULT_MEMBERS
    weights: tuple[float, ...] | None = None
    name = "population"

    def __post_init__(self):
        members = self.members
        if not isinstance(members, tuple | list) or not members:
            raise TypeError(
                f"members must be a non-empty tuple of ResponseAlgorithm instances, got {members!r}"
            )
        for member in members:
            if not isinstance(member, ResponseAlgorithm):
                raise TypeError(
                    f"members must be ResponseAlgorithm instances, got {type(member).__name__}: "
                    f"{member!r}"
                )
        object.__setattr__(self, "members", tuple(members))
        if self.weights is not None:
            weights = self.weights
            if not isinstance(weights, tuple | list) or len(weights) != len(members):
                raise ValueError(
                    f"weights must hold one weight per member ({len(members)}), got {weights!r}"
                )
            for w in weights:
                if isinstance(w, bool) or not isinstance(w, numbers.Real):
                    raise TypeError(f"weights must be real numbers, got {weights!r}")
                if not (math.isfinite(w) and w >= 0):
                    raise ValueError(f"weights must be finite and >= 0, got {weights!r}")
            if sum(weights) <= 0:
                raise ValueError(f"weights must not sum to 0, got {weights!r}")
            object.__setattr__(self, "weights", tuple(float(w) for w in weights))

    @property
    def probabilities(self) -> tuple[float, ...]:
        """Each member's probability of being drawn in an episode."""
        if self.weights is None:
            return (1.0 / len(self.members),) * len(self.members)
        total = sum(self.weights)
        return tuple(w / total for w in self.weights)

    def build(self, spec: FollowerSpec, n_response: int) -> PopulationResponder:
        """Every member's responder (``ValueError`` if one cannot run here)."""
        responders = [member.build(spec, n_response) for member in self.members]
        cdf = np.cumsum(self.probabilities).tolist()
        cdf[-1] = 1.0
        return PopulationResponder(spec, n_response, responders, cdf)

    def batched(self, spec, n_response, num_envs, draw, record):
        """Every member's batched kernel, ``num_envs`` copies (``ValueError`` if one has none)."""
        members = [
            member.batched(spec, n_response, num_envs, draw, record) for member in self.members
        ]
        cdf = np.cumsum(self.probabilities)
        cdf[-1] = 1.0
        return BatchedPopulation(spec, n_response, num_envs, draw, record, members, cdf)


class BatchedPopulation(BatchedResponder):
    """The population in ``B`` copies: each copy draws its member at :meth:`reset`.

    Every call is split by member and handed to that member's batched kernel for its copies;
    copy ``b`` draws its member's uniform, then the member's own, exactly as a single
    environment seeded like it (:class:`PopulationResponder`).
    """

    def __init__(self, spec, n_response, num_envs, draw, record, members, cdf):
        self.members = members
        sizes = [m.state_size for m in members]
        self._offsets = np.cumsum([len(members)] + sizes)
        super().__init__(spec, n_response, num_envs, draw, record)
        self._cdf = cdf
        self.member = np.zeros(num_envs, dtype=np.int64)
        """Each copy's member in its current episode."""

    @property
    def state_size(self):
        """Members, plus every member's feature size (as the single environment's)."""
        return int(self._offsets[-1])

    def _groups(self, index: np.ndarray):
        """``(member, positions in index)`` for every member with copies in ``index``."""
        drawn = self.member[index]
        for k in np.unique(drawn).tolist():
            yield k, np.flatnonzero(drawn == k)

    def _sync(self, index: np.ndarray) -> None:
        """Copy rounds and critic features of copies ``index`` from their members."""
        for k, positions in self._groups(index):
            copies = index[positions]
            member = self.members[k]
            self.rounds[copies] = member.rounds[copies]
            start = self._offsets[k]
            features = self.features
            features[copies] = 0.0
            features[copies, k] = 1.0
            features[copies, start : start + member.state_size] = member.features[copies]

    def reset(self, index):
        """Draw each copy's member (one uniform each), then reset it there."""
        k = np.searchsorted(self._cdf, self.draw(index), side="right")
        self.member[index] = np.minimum(k, len(self.members) - 1)
        for k, positions in self._groups(index):
            self.members[k].reset(index[positions])
        self._sync(index)

    def next_queries(self, index):
        """Each copy's member's next query."""
        n = self.spec.n_followers
        types = np.zeros((index.size, n), dtype=np.int64)
        actions = np.zeros((index.size, n), dtype=np.int64)
        for k, positions in self._groups(index):
            types[positions], actions[positions] = self.members[k].next_queries(index[positions])
        self._sync(index)
        return types, actions

    def observe(self, index, leader, followers):
        """Each copy's member observes its outcome."""
        for k, positions in self._groups(index):
            self.members[k].observe(index[positions], leader[positions], followers[positions])
        self._sync(index)

    def finish(self, index):
        """Each copy's member fixes its reward-phase play."""
        for k, positions in self._groups(index):
            self.members[k].finish(index[positions])
        self._sync(index)

    def reward_actions(self, index, types):
        """Each copy's member's reward-phase actions."""
        actions = np.zeros((index.size, self.spec.n_followers), dtype=np.int64)
        for k, positions in self._groups(index):
            actions[positions] = self.members[k].reward_actions(index[positions], types[positions])
        self._sync(index)
        return actions

    def strategy(self, b):
        """Copy ``b``'s member's strategy."""
        return self.members[int(self.member[b])].strategy(b)

    def snapshot(self, b):
        """Copy ``b``'s member's snapshot."""
        return self.members[int(self.member[b])].snapshot(b)
