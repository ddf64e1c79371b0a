"""The Stackelberg POMDP as plain logic: one object per environment, no PettingZoo or Gymnasium.

An *episode* (docs/settings.md, "The model") is

1. a **response phase** of ``n_response`` sub-games: the follower response algorithm
   (:mod:`.followers`) chooses each sub-game's types and follower actions (one *response
   query*), the leader plays it through its policy, the algorithm learns from the outcome;
   the leader's reward is 0;
2. a **reward phase** of ``n_reward`` sub-games with fresh types from the prior, in which
   the followers play what the algorithm learned; at the end of each, the leader earns its
   sub-game utility divided by ``n_reward`` (a setting that defines its own reward-phase
   value, :meth:`~stackelberg_zoo.envs.core.EconomicGame.reward_phase_value`, pays it at
   the end of the last reward sub-game instead, and 0 before).

The return of an episode is therefore the leader's average utility against the followers'
learned response. **One step is one leader turn of one sub-game**; there are no ignored
steps between sub-games (the reference code inserts one; see docs/settings.md). A step
whose action ends a sub-game also starts the next one, so the observation it returns is
the leader's first observation in the next sub-game.

**Commitment.** The leader's policy must be fixed within an episode (the paper's policy
class; its code calls it action caching). With ``commitment=True`` (the default) the first
action taken at each distinct leader observation is binding for the rest of the episode,
in both phases: a later, different action at that observation is replaced by the committed
one and flagged (``info["replaced"]``; :attr:`StackelbergPOMDP.applied_action` is what was
applied). A trainer that caches
its own actions per observation never triggers it. Actions are compared after conversion to
the action space's dtype; observations are compared exactly.

**What the step tells** (``info``, the same keys and types from ``reset`` on, so that
clients which build an info spec from the first info, such as TorchRL, work): ``"phase"``
(:class:`Phase` of the step just taken; at reset, of the first observation), ``"sub_game"``
(its index within the phase), ``"replaced"`` (``bool``; ``False`` at reset); and
``"action_mask"`` (``np.int8``, for the returned observation) when the game masks the
leader's actions. The step that ends the response phase sets
:attr:`StackelbergPOMDP.report`: a :class:`ResponseReport` with the followers' learned
strategy, the exact BCCE gaps (ex-ante, agent-form and interim) of the response-phase play in
the induced game of the committed policy, and the learners' regret certificate. It stays
there until the next ``reset``.

**Protocols** (:mod:`.protocol`). The above is ``protocol="paper"``. With certification
(``protocol="certified"``, or ``certify=``) the response phase goes on past ``n_response``
(its prefix, in complete updates) until a candidate response passes a gap threshold
(:mod:`.certify`); those *extension* steps have ``info["extension"]`` ``True`` (the key is in
every info, from ``reset`` on, whenever the episode certifies), and ``report.certification``
says what was found. The exact reward phase (:mod:`.exact_reward`) plays each supported
(types, actions) profile of the response once, weighted by its probability.

**State for a centralized critic** (:meth:`StackelbergPOMDP.state`): the flattened base
observation, the phase of the returned observation (0 response, 1 reward), the progress
through that phase (sub-games completed / phase length), and every follower learner's
normalised state (:meth:`.followers.Responder.state_features`, e.g. each MW weight table
divided by its largest entry); extension sub-games count as progress 1. The leader's
*actor* must only see the observation.

**Fast path (memoised sub-games).** When the setting declares
:attr:`~stackelberg_zoo.envs.core.EconomicGame.pure_single_turn`, commitment is on, the game
masks nothing and there are at most :data:`MAX_MEMO_PROFILES` (types, follower actions)
profiles, a step whose action is *canonical* (an ``int`` or ``np.int64`` for a ``Discrete``
space; an array of the space's exact dtype and shape otherwise, so that its key determines its
value) skips the game: the start state and observation key of each profile are kept for the
life of the environment, and the sub-game's end state and outcome once per episode, from the
first time the profile is played after its observation was committed. Commitment fixes the
applied action at every observation for the rest of the episode, and the game is pure, so the
reference path would compute exactly what is kept; the follower table row of a profile
already played this episode is not rewritten (it holds the same values). Anything else (a
non-canonical action, a replaced action whose committed value is not canonical) takes the
reference path, which forgets what was kept for that profile this episode. Both paths draw
the same numbers from the generator in the same order, so trajectories are identical bit for
bit (``tests/test_pomdp_fast_path.py``).

**Size.** This module is above the house's ~600-line guideline, and the constructor near
~80 lines: the reference path, the memoised fast path and the protocol hooks are one state
machine over the same per-episode fields, which the constructor sets once each. Everything
that does not share that state lives elsewhere: :mod:`.report` (the response report),
:mod:`.step` (what a step returns), :mod:`.protocol`, :mod:`.certify` and
:mod:`.exact_reward` (the protocols), :mod:`stackelberg_zoo.envs.spaces` (space handling).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Hashable
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from stackelberg_zoo.envs.core import EconomicGame, Outcome, aggregates_reward_phase
from stackelberg_zoo.envs.pomdp.certify import Certification
from stackelberg_zoo.envs.pomdp.followers import FollowerSpec, Responder, ResponseAlgorithm
from stackelberg_zoo.envs.pomdp.protocol import ProtocolRunner, certified_length, resolve_protocol
from stackelberg_zoo.envs.pomdp.registration import default_phase_lengths
from stackelberg_zoo.envs.pomdp.report import (
    MAX_INDUCED_PROFILES,
    DiagnosticsSource,
    ResponseReport,
    gaps_unavailable_reason,
)
from stackelberg_zoo.envs.pomdp.step import Phase, Transition
from stackelberg_zoo.envs.spaces import (
    canonical_key_function,
    copy_element,
    critic_state_space,
    flattener,
    key_function,
    observation_writer,
)
from stackelberg_zoo.envs.validation import check_count, check_flag

MAX_MEMO_PROFILES = 65_536
"""Largest ``Π T_i · Π A_i`` for which the fast path memoises sub-games (module docstring)."""


_RESPONSE = Phase.RESPONSE


class _StartEntry(NamedTuple):
    """What the fast path keeps about one (types, follower actions) profile, for good."""

    state: Any
    """The game's start state at the profile."""
    observation: Any
    """The leader's observation there if the game returns it immutable (a read-only array
    or a scalar, so that handing it out again is the same as asking again), else ``None``."""
    observation_key: Hashable
    """The key of the leader's observation there."""
    profile: int
    """The profile's flat index into ``[T_1..T_n, A_1..A_n]``."""


_transition = functools.partial(tuple.__new__, Transition)
"""``Transition`` from one 4-tuple, without the named tuple's Python-level ``__new__``."""


class StackelbergPOMDP:
    """The leader's environment with the followers' response algorithm embedded.

    Args:
        game: The setting's game.
        followers: A response algorithm name (``"mw"``, ``"hedge"``, ``"regret_matching"``,
            ``"regret_matching_plus"``, ``"exp3"``, ``"best_response"``) or a
            :class:`~.followers.ResponseAlgorithm` instance; ``None``: the protocol's.
        n_response: Response sub-games per episode (``>= 1``; when certifying, the prefix,
            rounded down to complete updates); ``None``: the protocol's default for the
            setting (:data:`.registration.POMDP_SETTINGS`, :mod:`.protocol`).
        n_reward: Sub-games of a sampled reward phase (``>= 1``); ``None``: the setting's.
        commitment: Make the first action at each observation binding for the episode.
        diagnostics: Keep what the end-of-phase report needs (the gaps and the certificate
            are only computed when read; turn off to save the bookkeeping).
        protocol: ``"paper"`` (the v4 paper) or ``"certified"`` (:mod:`.protocol`).
        certify: Certify the response (:mod:`.certify`): ``None`` (the protocol's),
            ``True``, ``False`` or a :class:`~.certify.Certification`.
        exact_reward: Exact reward phase (:mod:`.exact_reward`); ``None``: the protocol's.

    Raises:
        TypeError: On a game that is not an ``EconomicGame`` or arguments of the wrong type.
        ValueError: On ``n_response`` or ``n_reward`` below 1, an unknown follower name, or
            follower hyperparameters the algorithm rejects.

    Attributes:
        report: The :class:`ResponseReport` of the current episode's response phase, set by
            the step that ends the phase (``None`` before it; ``reset`` clears it).

    Example:
        >>> from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
        >>> pomdp = StackelbergPOMDP(NormalFormStackelberg("escape"), "best_response")
        >>> observation, info = pomdp.reset(np.random.default_rng(0))
        >>> total = 0.0
        >>> while True:
        ...     step = pomdp.step(2)
        ...     total += step.reward
        ...     if step.terminated:
        ...         break
        >>> total
        1.0
    """

    def __init__(
        self,
        game: EconomicGame,
        followers: str | ResponseAlgorithm | None = None,
        *,
        n_response: int | None = None,
        n_reward: int | None = None,
        commitment: bool = True,
        diagnostics: bool = True,
        protocol: str = "paper",
        certify: bool | Certification | None = None,
        exact_reward: bool | None = None,
    ):
        if not isinstance(game, EconomicGame):
            raise TypeError(f"game must be an EconomicGame, got {type(game).__name__}: {game!r}")
        settings = resolve_protocol(
            game, protocol, followers, n_response, n_reward, certify, exact_reward
        )
        n_response, n_reward = settings.n_response, settings.n_reward
        if n_response is None or n_reward is None:
            default_response, default_reward = default_phase_lengths(game)
            n_response = default_response if n_response is None else n_response
            n_reward = default_reward if n_reward is None else n_reward
        self.game = game
        self.n_response = check_count("n_response", n_response)
        self.n_reward = check_count("n_reward", n_reward)
        self.commitment = check_flag("commitment", commitment)
        self.diagnostics = check_flag("diagnostics", diagnostics)
        self.protocol = settings.name
        self.algorithm = settings.followers
        self.spec = FollowerSpec.of(game)
        self.followers: Responder = self.algorithm.build(self.spec, self.n_response)
        self._certifying = settings.certification is not None
        if self._certifying:  # the prefix in complete updates (raises if it cannot certify)
            self.n_response = certified_length(self.n_response, self.followers, self.commitment)
        self._protocol = None if settings.plain else ProtocolRunner.of(settings, self)
        self._reward_length = self.n_reward

        self.observation_space = game.leader_observation_space
        self.action_space = game.leader_action_space
        self._observation_key = key_function(self.observation_space, "observations")
        self._action_key = key_function(self.action_space, "actions")
        self._flatten = flattener(self.observation_space)
        self._write_observation = observation_writer(self.observation_space)
        self.state_space = critic_state_space(self.observation_space, self.followers.state_size)
        self._observation_size = int(gymnasium.spaces.flatdim(self.observation_space))
        self._state_buffer = np.zeros(self.state_space.shape, dtype=np.float32)
        self._features_written: np.ndarray | None = None

        n = self.spec.n_followers
        self._n_profiles = math.prod(self.spec.n_types) * math.prod(self.spec.n_actions)
        tracked = self.diagnostics or self._certifying  # the certifier reads the table
        self._track_induced = tracked and self._n_profiles <= MAX_INDUCED_PROFILES
        dims = self.spec.n_types + self.spec.n_actions
        strides = [math.prod(dims[k + 1 :]) for k in range(len(dims))]
        self._strides = strides
        if self._track_induced:
            # [profile, follower]: one contiguous row written per response sub-game.
            self._follower_table = np.zeros((self._n_profiles, n))
            self._known = np.zeros(self._n_profiles, dtype=bool)
        # Games that never mask (the base class's method) skip the per-step mask query.
        self._masked = type(game).leader_action_mask is not EconomicGame.leader_action_mask
        # The fast path (module docstring); tests switch it off before reset() to compare.
        self._canonical_key = canonical_key_function(self.action_space)
        self._fast = (
            self.commitment
            and bool(getattr(game, "pure_single_turn", False))
            and not self._masked
            and self._canonical_key is not None
            and self._n_profiles <= MAX_MEMO_PROFILES
        )
        # Settings with their own reward-phase value (EconomicGame.reward_phase_value).
        self._aggregate = aggregates_reward_phase(game)
        self._phase_actions = np.zeros((self.n_reward, n), dtype=np.int64)
        self._phase_leader = np.zeros(self.n_reward)
        self._starts: dict[tuple[int, ...], _StartEntry] = {}
        self._results: dict[tuple[int, ...], tuple[Any, Outcome]] = {}
        self._canonical_commits: set[Hashable] = set()
        self._entry: _StartEntry | None = None
        self._query: tuple[int, ...] | None = None
        self._written_key: Hashable | None = None
        self._flat_observations: dict[Hashable, np.ndarray] = {}  # key -> its flattening
        self._memo = False  # the fast path of the current episode
        self._rng: np.random.Generator | None = None
        self._terminated = True
        self.report: ResponseReport | None = None

    # -- episode ----------------------------------------------------------------------------

    def reset(self, rng: np.random.Generator) -> tuple[Any, dict[str, Any]]:
        """Start an episode; return the leader's first observation and its info.

        Args:
            rng: The environment's generator; types, follower learners and reward-phase
                play all draw from it.

        Raises:
            TypeError: If ``rng`` is not a ``np.random.Generator``.
            ValueError: If the game gives the leader no turn in a whole episode.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a np.random.Generator, got {rng!r}")
        self._rng = rng
        self.followers.reset(rng)
        if self._protocol is not None:
            self._protocol.reset()
            self._reward_length = self.n_reward
        self._phase = Phase.RESPONSE
        self._done = 0  # sub-games completed in the current phase
        self._committed: dict[Hashable, tuple[Hashable, Any]] = {}
        self._policy_changed = False
        self.report = None
        self._terminated = False
        if self._track_induced:
            self._known[...] = False
        self._last_outcome: Outcome | None = None
        self._last_action: Any = None
        self._mask: np.ndarray | None = None
        self._memo = self._fast  # fixed for the episode
        self._round: list[tuple[int, ...]] = []  # the responder's current round (fast path)
        self._round_outcomes: list[Outcome] = []
        self._results.clear()
        self._canonical_commits.clear()
        self._written_key = None
        self._begin_sub_game()
        while self.game.is_over(self._state):  # sub-games without a leader turn
            self._end_sub_game()
            if self._terminated:
                raise ValueError(
                    f"{type(self.game).__name__} gave the leader no turn in a whole episode"
                )
            self._begin_sub_game()
        self._observation = self.game.leader_observation(self._state)
        info: dict[str, Any] = {"phase": self._phase, "sub_game": self._done, "replaced": False}
        if self._certifying:
            info["extension"] = False
        self._add_mask(info)
        return self._observation, info

    def _begin_sub_game(self) -> None:
        if self._memo:
            self._begin_memo_sub_game()
            return
        if self._phase is Phase.RESPONSE:
            types, actions = self.followers.next_query(self._rng)
            if self._track_induced:
                self._profile = sum(
                    map(operator.mul, types.tolist() + actions.tolist(), self._strides)
                )
        elif self._protocol is None:
            types = self.spec.sample_types(self._rng)
            actions = self.followers.reward_actions(types, self._rng)
        else:
            query = self._protocol.reward_query(self._done, self._rng)
            n = self.spec.n_followers
            types, actions = np.array(query[:n]), np.array(query[n:])
        self._types, self._follower_actions = types, actions
        self._state = self.game.start(types, actions)

    def _begin_memo_sub_game(self) -> None:
        """:meth:`_begin_sub_game` of the fast path: the same draws, profiles as int tuples."""
        rng = self._rng
        if self._phase is _RESPONSE:  # the responder's rounds, one query at a time
            k = len(self._round_outcomes)
            if k == len(self._round):
                self._round, self._round_outcomes, k = self.followers.next_round(rng), [], 0
            query = self._round[k]
        elif self._protocol is None:
            types = self.spec.sample_type_tuple(rng)
            query = types + self.followers.reward_action_tuple(types, rng)
        else:
            query = self._protocol.reward_query(self._done, rng)
        entry = self._starts.get(query)
        if entry is None:
            entry = self._starts[query] = self._start_entry(query)
        self._query, self._entry = query, entry
        self._state, self._profile = entry.state, entry.profile

    def _start_entry(self, query: tuple[int, ...]) -> _StartEntry:
        n = self.spec.n_followers
        types = np.array(query[:n], dtype=np.int64)
        actions = np.array(query[n:], dtype=np.int64)
        game = self.game
        state = game.start(types, actions)
        if game.is_over(state):
            raise ValueError(
                f"{type(game).__name__} declares pure_single_turn but gave the leader no turn "
                f"at types {types.tolist()} and follower actions {actions.tolist()}"
            )
        observation = game.leader_observation(state)
        immutable = isinstance(observation, (int, float, np.generic)) or (
            isinstance(observation, np.ndarray) and not observation.flags.writeable
        )
        return _StartEntry(
            state,
            observation if immutable else None,
            self._observation_key(observation),
            sum(map(operator.mul, query, self._strides)),
        )

    def _end_sub_game(self) -> float:
        """Account for the ended sub-game; return the leader's reward for it."""
        if self._memo:  # this profile's follower-table row may change: forget its result
            self._results.pop(self._query, None)
        return self._account(self.game.outcome(self._state), self._track_induced)

    def _account(self, outcome: Outcome, record: bool) -> float:
        """Book an ended sub-game's outcome (``record``: into the follower table)."""
        self._last_outcome = outcome
        self._done += 1
        if self._phase is _RESPONSE:
            if record:
                self._follower_table[self._profile] = outcome.followers
                self._known[self._profile] = True
            if self._memo:  # a complete round goes to the responder at once
                self._round_outcomes.append(outcome)
                if len(self._round_outcomes) == len(self._round):
                    self.followers.observe_round(self._round_outcomes)
            else:
                self.followers.observe(outcome)
            if self._done >= self.n_response and (self._protocol is None or self._certified()):
                self.followers.finish()
                if self._protocol is not None:
                    self._protocol.start_reward_phase()
                    self._reward_length = self._protocol.reward_length
                self.report = self._build_report()
                self._phase = Phase.REWARD
                self._done = 0
            return 0.0
        if self._aggregate:  # the game's own reward-phase value, paid at the end
            return self._aggregate_reward(outcome)
        if self._protocol is not None:
            self._terminated = self._done == self._reward_length
            return self._protocol.reward(self._done - 1, outcome.leader)
        if self._done == self.n_reward:
            self._terminated = True
        return outcome.leader / self.n_reward

    def _aggregate_reward(self, outcome: Outcome) -> float:
        """Keep a reward sub-game; at the last, pay ``game.reward_phase_value`` of them all."""
        k = self._done - 1
        n = self.spec.n_followers
        actions = self._query[n:] if self._memo else self._follower_actions
        self._phase_actions[k] = actions
        self._phase_leader[k] = outcome.leader
        if self._done < self.n_reward:
            return 0.0
        self._terminated = True
        value = self.game.reward_phase_value(self._phase_actions.copy(), self._phase_leader.copy())
        return float(value)

    def _certified(self) -> bool:
        """Whether the response phase may end now (the protocol's certification says so)."""
        return self._protocol.response_over(
            self._done - self.n_response,
            self._follower_table,
            self._known,
            self._committed,
            self._observation_key,
        )

    def step(self, action: Any) -> Transition:
        """One leader turn.

        Raises:
            ValueError: If the episode is over (call :meth:`reset`), or the game rejects
                the action (nothing changes then: the episode can go on).
            TypeError: If the game rejects the action's type.
        """
        if self._terminated:
            raise ValueError("the episode is over (or was never started); call reset() first")
        if self._memo:
            action_key = self._canonical_key(action)
            if action_key is not None:
                transition = self._memo_step(action, action_key)
                if transition is not None:
                    return transition
        return self._reference_step(action)

    def _reference_step(self, action: Any) -> Transition:
        """One leader turn through the game (the definition the fast path reproduces)."""
        if self._mask is not None:
            self._check_mask(action)
        key = self._observation_key(self._observation)
        committed = self._committed.get(key)
        action_key = self._action_key(action)
        replaced = False
        applied = action
        if committed is not None and action_key != committed[0]:
            if self.commitment:
                applied = committed[1]
                replaced = True
            else:
                self._policy_changed = True
        game = self.game
        state = game.leader_step(self._state, applied)  # raises on an invalid action
        if committed is None:
            self._committed[key] = (action_key, copy_element(action))
        self._state = state
        self._last_action = applied
        phase, sub_game = self._phase, self._done
        reward = 0.0
        if game.is_over(state):
            while True:
                reward += self._end_sub_game()
                if self._terminated:
                    break
                self._begin_sub_game()
                if not game.is_over(self._state):
                    break
        info: dict[str, Any] = {"phase": phase, "sub_game": sub_game, "replaced": replaced}
        if self._certifying:
            info["extension"] = phase is _RESPONSE and sub_game >= self.n_response
        if not self._terminated:
            self._observation = game.leader_observation(self._state)
            if self._masked:
                self._add_mask(info)
        elif self._masked:  # the same keys at every step: the returned observation's mask
            info["action_mask"] = self._mask.copy()
        return Transition(self._observation, reward, self._terminated, info)

    def _memo_step(self, action: Any, action_key: Hashable) -> Transition | None:
        """:meth:`_reference_step` for a canonical action, on kept sub-game results.

        Returns ``None`` (nothing changed) when the reference path must run instead: the
        action is replaced by a committed action that is not canonical.
        """
        entry = self._entry
        observation_key = entry.observation_key
        committed = self._committed.get(observation_key)
        result = None
        if committed is None:
            applied, replaced = action, False
        elif action_key == committed[0]:
            applied, replaced = action, False
            result = self._results.get(self._query)
        elif observation_key in self._canonical_commits:
            applied, replaced = committed[1], True
            result = self._results.get(self._query)
        else:
            return None
        game = self.game
        fresh = result is None
        if fresh:
            state = game.leader_step(entry.state, applied)  # raises on an invalid action
            if committed is None:
                self._committed[observation_key] = (action_key, copy_element(action))
                self._canonical_commits.add(observation_key)
            if not game.is_over(state):
                raise ValueError(
                    f"{type(game).__name__} declares pure_single_turn but its sub-game "
                    f"went on after the leader's turn"
                )
            result = self._results[self._query] = (state, game.outcome(state))
        self._state, outcome = result
        self._last_action = applied
        phase, sub_game = self._phase, self._done
        # A row already written this episode holds these values: write fresh results only.
        reward = 0.0 + self._account(outcome, fresh and self._track_induced)
        info: dict[str, Any] = {"phase": phase, "sub_game": sub_game, "replaced": replaced}
        if self._certifying:
            info["extension"] = phase is _RESPONSE and sub_game >= self.n_response
        if not self._terminated:
            self._begin_memo_sub_game()
            observation = self._entry.observation
            if observation is None:
                observation = game.leader_observation(self._state)
            self._observation = observation
        return _transition((self._observation, reward, self._terminated, info))

    def _add_mask(self, info: dict[str, Any]) -> None:
        mask = self.game.leader_action_mask(self._state)
        self._mask = None if mask is None else np.asarray(mask, dtype=np.int8)
        if mask is not None:
            info["action_mask"] = self._mask.copy()

    def _check_mask(self, action: Any) -> None:
        space = self.action_space
        if isinstance(space, gymnasium.spaces.Discrete):
            try:
                index = int(action) - int(space.start)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"the leader's action must be an integer, got {action!r}"
                ) from error
            if 0 <= index < self._mask.shape[0] and not self._mask[index]:
                raise ValueError(
                    f"the leader's action {action!r} is masked out here (mask "
                    f"{self._mask.tolist()})"
                )

    # -- views --------------------------------------------------------------------------------

    @property
    def observation(self) -> Any:
        """The leader's current observation."""
        return self._observation

    @property
    def phase(self) -> Phase:
        """The phase of the current observation."""
        return self._phase

    @property
    def terminated(self) -> bool:
        """Whether the episode is over."""
        return self._terminated

    @property
    def applied_action(self) -> Any:
        """The action the last step applied (the committed one if ``info["replaced"]``).

        ``None`` before the first step of an episode.
        """
        return copy_element(self._last_action)

    def action_mask(self) -> np.ndarray | None:
        """``np.int8`` mask of the leader's legal actions now, or ``None`` if all are legal."""
        if self._terminated:
            return None
        mask = self.game.leader_action_mask(self._state)
        return None if mask is None else np.asarray(mask, dtype=np.int8)

    def committed_actions(self) -> list[Any]:
        """The binding action at each distinct observation seen so far, in first-seen order."""
        return [copy_element(entry[1]) for entry in self._committed.values()]

    def state(self) -> np.ndarray:
        """``float32[state_space.shape]`` what a centralized critic may see (module docstring)."""
        buffer, k = self._state_buffer, self._observation_size
        if not self._memo:
            self._write_observation(buffer, self._observation)
        elif self._entry.observation_key != self._written_key:  # keys are exact
            key = self._entry.observation_key
            flat = self._flat_observations.get(key)
            if flat is None:
                flat = self._flat_observations[key] = np.zeros(k, dtype=np.float32)
                self._write_observation(flat, self._observation)
            buffer[:k] = flat
            self._written_key = key
        if self._phase is _RESPONSE:  # extension sub-games (certifying) count as 1
            buffer[k] = 0.0
            buffer[k + 1] = self._done / self.n_response if self._done < self.n_response else 1.0
        else:
            buffer[k] = 1.0
            buffer[k + 1] = self._done / self._reward_length
        features = self.followers.state_features()
        if features is not self._features_written:
            buffer[k + 2 :] = features
            self._features_written = features
        return buffer.copy()

    def describe(self) -> str:
        """A few readable lines about the current sub-game (for ``ansi`` rendering)."""
        if self._rng is None:
            return "Stackelberg POMDP: not started"
        length = self.n_response if self._phase is Phase.RESPONSE else self._reward_length
        if self._memo:
            n = self.spec.n_followers
            types, actions = list(self._query[:n]), list(self._query[n:])
        else:
            types = np.asarray(self._types).tolist()
            actions = np.asarray(self._follower_actions).tolist()
        lines = [
            f"phase {self._phase.name.lower()}, sub-game {min(self._done + 1, length)}/{length}"
            + (" (episode over)" if self._terminated else ""),
            f"types {types}, follower actions {actions}",
            f"leader observation {np.asarray(self._observation).tolist()}",
        ]
        if self._last_action is not None:
            lines.append(f"last leader action {np.asarray(self._last_action).tolist()}")
        if self._last_outcome is not None:
            lines.append(
                f"last outcome: leader {self._last_outcome.leader:.4f}, followers "
                f"{np.round(self._last_outcome.followers, 4).tolist()}"
            )
        extra = self.game.describe(self._state)
        if extra:
            lines.append(extra)
        return "\n".join(lines)

    # -- end of the response phase ----------------------------------------------------------

    def _build_report(self) -> ResponseReport:
        responder = self.followers
        reason = gaps_unavailable_reason(self.diagnostics, self._n_profiles, self._policy_changed)
        source = DiagnosticsSource(
            game=self.game,
            spec=self.spec,
            snapshot=responder.snapshot() if self.diagnostics else None,
            reason=reason,
            follower_table=self._follower_table.T.copy() if self._track_induced else None,
            known=self._known.copy() if self._track_induced else None,
            committed=dict(self._committed),
            observation_key=self._observation_key,
        )
        certified = None if self._protocol is None else self._protocol.strategy()
        return ResponseReport(
            strategy=responder.strategy() if certified is None else certified,
            rounds=responder.rounds,
            queries=self._done,
            _source=source,
            certification=None if self._protocol is None else self._protocol.result,
        )
