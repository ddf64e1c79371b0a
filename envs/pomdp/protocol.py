"""Protocols by name: the paper's (v4) and the authors' current certified one, and their runner.

``protocol="paper"`` is the v4 paper: the setting's ``n_response`` response sub-games (MW
with ``ε = 0.01`` and counterfactual sweeps by default), then ``n_reward`` sampled reward
sub-games in which the followers play the argmax of their weights.

``protocol="certified"`` is the authors' current protocol:

* followers: MW in the exact-expectation form with ``ε = 0.1``
  (``MultiplicativeWeightsResponse(eps=0.1, form="expectation")``);
* a fixed response prefix, rounded down to complete updates of the follower model: for
  MSPM settings ``300 · |Θ| / 9`` sub-games (``|Θ|`` the number of type profiles; for
  MSGSpace with ``t`` values each, ``300 (t/3)^2``: 300 / 532 / 832 / 1,200 for
  t = 3 / 4 / 5 / 6), for every other setting the paper's ``n_response``;
* certification (:mod:`.certify`) at gap 0.05 in the authors' notion, at most 10,000 extra
  updates;
* the exact reward phase (:mod:`.exact_reward`).

Every knob can be overridden: ``followers``, ``n_response``, ``n_reward`` (used by a sampled
reward phase), ``certify`` (``False``, ``True`` or a
:class:`~.certify.Certification`) and ``exact_reward`` (``bool``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.core import EconomicGame, aggregates_reward_phase
from stackelberg_zoo.envs.pomdp.certify import Certification, Certifier, product_conditional
from stackelberg_zoo.envs.pomdp.exact_reward import RewardPlan, exact_reward_plan
from stackelberg_zoo.envs.pomdp.followers import (
    FollowerSpec,
    MultiplicativeWeightsResponse,
    ResponseAlgorithm,
    response_algorithm,
)
from stackelberg_zoo.envs.pomdp.followers.base import sample_row
from stackelberg_zoo.envs.pomdp.followers.batched_learning import BatchedLearners
from stackelberg_zoo.envs.pomdp.followers.learning import LearnerResponder
from stackelberg_zoo.envs.pomdp.registration import default_phase_lengths, setting_of
from stackelberg_zoo.envs.pomdp.report import MAX_INDUCED_PROFILES
from stackelberg_zoo.envs.validation import check_flag

PROTOCOLS = ("paper", "certified")
"""The protocol names every POMDP id accepts (``protocol=``)."""

CERTIFIED_PREFIX_PER_PROFILE = 300 / 9
"""Certified MSPM prefix: sub-games per type profile (``300 (t/3)^2`` for ``t^2`` profiles)."""


@dataclass(frozen=True)
class ProtocolSettings:
    """The knobs a protocol resolves to (after the user's overrides).

    Attributes:
        name: The protocol's name.
        followers: The follower model.
        n_response: Response sub-games (the prefix when certifying; rounded later).
        n_reward: Reward sub-games of a sampled reward phase.
        certification: ``None`` (no certification) or its settings.
        exact_reward: Whether the reward phase is the exact expectation.
    """

    name: str
    followers: ResponseAlgorithm
    n_response: int | None
    n_reward: int | None
    certification: Certification | None
    exact_reward: bool

    @property
    def plain(self) -> bool:
        """Whether nothing differs from the paper's episode (no certification, sampled reward)."""
        return self.certification is None and not self.exact_reward


def certified_prefix(game: EconomicGame) -> int:
    """The certified protocol's response prefix for ``game``, before rounding to updates.

    Raises:
        ValueError: If ``game`` belongs to no known setting.
    """
    setting = setting_of(game)
    if setting is not None and setting.name == "mspm":
        return 300 * math.prod(game.n_types) // 9
    return default_phase_lengths(game)[0]


def resolve_protocol(
    game: EconomicGame,
    protocol: str,
    followers,
    n_response: int | None,
    n_reward: int | None,
    certify,
    exact_reward,
) -> ProtocolSettings:
    """The :class:`ProtocolSettings` of ``protocol`` with the given overrides (``None``: default).

    Raises:
        ValueError: On an unknown protocol, or an exact reward phase for a game that
            defines its own reward-phase value.
        TypeError: On a ``certify`` or ``exact_reward`` of the wrong type.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    certified = protocol == "certified"
    if followers is None:
        followers = (
            MultiplicativeWeightsResponse(eps=0.1, form="expectation") if certified else "mw"
        )
    if certify is None:
        certify = certified
    if isinstance(certify, bool | np.bool_):
        certify = Certification() if certify else None
    elif not isinstance(certify, Certification):
        raise TypeError(f"certify must be None, a bool or a Certification, got {certify!r}")
    exact_reward = certified if exact_reward is None else check_flag("exact_reward", exact_reward)
    if exact_reward and aggregates_reward_phase(game):
        raise ValueError(
            f"{type(game).__name__} defines its own reward-phase value "
            "(EconomicGame.reward_phase_value), which an exact reward phase cannot take in "
            f"expectation; pass exact_reward=False (protocol={protocol!r})"
        )
    if certified and n_response is None:
        n_response = certified_prefix(game)
    return ProtocolSettings(
        protocol, response_algorithm(followers), n_response, n_reward, certify, exact_reward
    )


def certified_length(n_response: int, responder, commitment: bool) -> int:
    """``n_response`` rounded down to complete updates of a learning ``responder``.

    ``responder`` is a single environment's :class:`~.followers.Responder` or a batched
    kernel (:class:`~.followers.BatchedResponder`).

    Raises:
        ValueError: If ``responder`` does not learn, plays ``reward_play="empirical"`` (the
            ``empirical_average`` candidate replaces it), the policy is not committed, the
            induced game is too large to keep, or ``n_response`` is below one update.
    """
    if not isinstance(responder, LearnerResponder | BatchedLearners):
        raise ValueError(
            f"certification (certify, protocol='certified') needs a learning follower model, "
            f"got followers of type {type(responder).__name__}"
        )
    if not commitment or responder.reward_play == "empirical":
        raise ValueError(
            f"certification (certify, protocol='certified') needs commitment=True and followers "
            f"without reward_play='empirical' (its empirical_average candidate replaces it), "
            f"got commitment={commitment!r} and reward_play={responder.reward_play!r}"
        )
    spec = responder.spec
    n_profiles = math.prod(spec.n_types) * math.prod(spec.n_actions)
    if n_profiles > MAX_INDUCED_PROFILES:
        raise ValueError(
            f"certification (certify, protocol='certified') needs the induced game, at most "
            f"{MAX_INDUCED_PROFILES} profiles; this one has {n_profiles}"
        )
    per_update = responder.queries_per_round
    if n_response < per_update:
        raise ValueError(
            f"n_response must hold at least one complete update ({per_update} sub-games) "
            f"when certifying, got {n_response}"
        )
    return n_response // per_update * per_update


class ProtocolRunner:
    """What a non-paper protocol adds to one environment's episode (certification, exact reward).

    Args:
        settings: The resolved protocol.
        spec: The followers.
        game: The setting's game.
        responder: The environment's responder.
        n_response: The (rounded) prefix length.
        n_reward: The sampled reward phase's length.
    """

    @classmethod
    def of(cls, settings: ProtocolSettings, pomdp) -> ProtocolRunner:
        """The runner of a :class:`~.episode.StackelbergPOMDP` (after its responder is built)."""
        return cls(
            settings, pomdp.spec, pomdp.game, pomdp.followers, pomdp.n_response, pomdp.n_reward
        )

    def __init__(self, settings, spec: FollowerSpec, game, responder, n_response, n_reward):
        self.settings = settings
        self.spec = spec
        self.responder = responder
        self.n_response = n_response
        self.n_reward = n_reward
        self.certifier = None
        if settings.certification is None and getattr(responder, "reward_play", "") == "empirical":
            raise ValueError(
                "exact_reward=True without certification plays the product of the followers' "
                "per-type strategies, which reward_play='empirical' (a correlated device) is "
                "not; certify too, or choose followers with reward_play 'argmax' or 'sample'"
            )
        if settings.certification is not None:
            self.certifier = Certifier(
                settings.certification,
                spec,
                game,
                responder.current_strategies,
                responder.current_greedy,
            )
            self.per_update = responder.queries_per_round
        self.reset()

    def reset(self) -> None:
        """Start an episode (and hook the certifier's snapshots into the responder)."""
        self.plan: RewardPlan | None = None
        self.conditional: np.ndarray | None = None
        self.reward_length = self.n_reward
        if self.certifier is not None:
            self.certifier.reset()
            self.responder.round_hook = self.certifier.snapshot

    @property
    def result(self):
        """The episode's :class:`~.certify.CertificationResult` (``None`` before or without)."""
        return None if self.certifier is None else self.certifier.result

    def response_over(self, extra_sub_games: int, table, known, committed, observation_key):
        """Whether the response phase ends after ``n_response + extra_sub_games`` sub-games."""
        certifier = self.certifier
        if certifier is None:
            return True
        if extra_sub_games % self.per_update:
            return False
        certifier.extra_updates = extra_sub_games // self.per_update
        final = certifier.extra_updates >= certifier.config.max_extra_updates
        return certifier.check(table, known, committed, observation_key, final) is not None

    def start_reward_phase(self) -> None:
        """Fix the response the reward phase plays (after the responder's ``finish``)."""
        if self.certifier is not None:
            self.responder.round_hook = None
            self.conditional = self.certifier.chosen
        else:
            self.conditional = product_conditional(list(self.responder.strategy()))
        if self.settings.exact_reward:
            self.plan = exact_reward_plan(self.spec.prior, self.conditional)
            self.reward_length = len(self.plan)

    def strategy(self) -> tuple[np.ndarray, ...] | None:
        """Per follower ``[T_i, A_i]`` the certified response's per-type marginals, or ``None``.

        Rows of types of zero prior mass are uniform.
        """
        if self.certifier is None:
            return None
        n = self.spec.n_followers
        prior = self.spec.prior
        mu = prior.reshape(prior.shape + (1,) * n) * self.conditional
        out = []
        for i in range(n):
            joint = mu.sum(axis=tuple(k for k in range(2 * n) if k not in (i, n + i)))
            mass = joint.sum(axis=1, keepdims=True)
            uniform = np.full_like(joint, 1.0 / joint.shape[1])  # types of zero mass
            out.append(np.divide(joint, mass, out=uniform, where=mass > 0))
        return tuple(out)

    def reward_query(self, k: int, rng: np.random.Generator) -> tuple[int, ...]:
        """The ``k``-th reward sub-game's types and follower actions."""
        if self.plan is not None:
            return self.plan.queries[k]
        types = self.spec.sample_type_tuple(rng)
        row = self.conditional[types].ravel()
        flat = sample_row(row, rng)
        return types + tuple(int(a) for a in np.unravel_index(flat, self.spec.n_actions))

    def reward(self, k: int, leader: float) -> float:
        """The leader's reward for the ``k``-th reward sub-game of utility ``leader``."""
        if self.plan is not None:
            return leader * self.plan.weights[k]
        return leader / self.n_reward
