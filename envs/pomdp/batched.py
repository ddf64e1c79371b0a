"""The Stackelberg POMDP for ``B`` independent environments, advanced by one numpy call per step.

:class:`BatchedStackelbergPOMDP` is the same POMDP as :class:`~.episode.StackelbergPOMDP`
(read its docstring for the semantics) for ``B`` copies at once: every quantity is an array
with a leading batch axis, and one :meth:`~BatchedStackelbergPOMDP.step` takes one leader
turn in every copy. It exists because the response phase is nearly every step of an episode
and the paper's budgets are millions of steps; :mod:`.vector` exposes it as a Gymnasium
``VectorEnv``.

**Step for step the same as the single environment.** Copy ``b`` seeded with ``s`` takes the
same trajectory as ``StackelbergPOMDPEnv`` reset with seed ``s`` and fed the same actions:
observations, rewards, terminations, phases, the follower weight tables and the critic's
state agree exactly (``tests/test_vector_env.py`` checks it, several whole episodes, every
setting). Two choices make that possible:

* *One uniform stream per copy* (:mod:`.streams`): copy ``b`` consumes the doubles of a
  generator made exactly as Gymnasium makes the single env's, in the single env's order.
  Copies that need no randomness in a step consume none.
* *The same floating-point operations.* Each follower model's batched kernel
  (:class:`~.followers.BatchedResponder`, in the model's own module) runs the single
  environment's learners on batches ``(B, T_i)`` whose reductions over actions run as in the
  single environment, so a learner's bits do not depend on the batch it sits in; sampling
  compares ``u · Σ`` against the row's cumulative sum; the settings' batched games
  (``envs/<setting>/batched.py``) reproduce their scalar games' arithmetic.

A slow, readable oracle is therefore not needed: the single environment is the oracle.

**Followers.** Any follower model whose :class:`~.followers.ResponseAlgorithm` has a batched
form (:meth:`~.followers.ResponseAlgorithm.batched`; every built-in model listed by
:func:`~.followers.follower_models` has one), with reward-phase play ``"argmax"`` or
``"sample"`` (:attr:`~.followers.ResponseAlgorithm.runs_batched` tells). A model without a
batched form and ``"empirical"`` play are rejected with a ``ValueError`` naming them (use the
single environment for those). The core owns phases, commitment, autoreset and the critic's
state; the kernel chooses the queries, learns from their outcomes and plays the reward
phase.

**Protocols** (:mod:`.protocol`): ``protocol="certified"`` (and ``certify=``,
``exact_reward=``) as in the single environment. Each copy has the single environment's own
:class:`~.protocol.ProtocolRunner` (:mod:`.batched_protocol`), so a copy's response phase
goes on past the prefix until its response is certified and its exact reward phase has as
many sub-games as its response has support points: phases have per-copy lengths, and
:attr:`BatchedTransition.extension` flags the extension steps.

**Commitment** (:mod:`.commitment`): the first action at an observation binds; later
different ones are replaced and flagged (``replaced``), exactly as in the single environment.
Unlike the single environment, actions are validated (and cast to the action space's dtype)
*before* commitment replaces them, so an out-of-space action raises even where the committed
one would have been applied.

**Autoreset.** A copy whose episode ends is reset within the same step (Gymnasium's
``SAME_STEP`` mode): the step returns the first observation of its next episode and keeps
the terminal observation and state in ``final_observation`` / ``final_state``.

**Diagnostics** (the exact BCCE gaps and regret certificate of each response phase, as
:class:`~.report.ResponseReport`) are opt-in (``diagnostics=True``); the per-copy data they
need is only kept then, and a report is built only for copies that just finished a response
phase.

**Size.** Like :mod:`.episode`, this module is above the house's ~600-line guideline and its
constructor and :meth:`~BatchedStackelbergPOMDP.step` near ~80 lines each: one batched state
machine over shared arrays. The parts with their own state are split off: the settings'
batched games (:mod:`.batched_game`), commitment (:mod:`.commitment`), the per-copy random
streams (:mod:`.streams`) and protocol runners (:mod:`.batched_protocol`), and each follower
model's batched kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from stackelberg_zoo.envs import registry
from stackelberg_zoo.envs.core import EconomicGame, aggregates_reward_phase
from stackelberg_zoo.envs.pomdp.batched_game import BatchedGame
from stackelberg_zoo.envs.pomdp.batched_protocol import CopyLearners, CopyStream
from stackelberg_zoo.envs.pomdp.certify import Certification
from stackelberg_zoo.envs.pomdp.commitment import CommitmentCache
from stackelberg_zoo.envs.pomdp.followers import (
    BatchedResponder,
    FollowerSpec,
    ResponseAlgorithm,
)
from stackelberg_zoo.envs.pomdp.followers.batched_learning import BatchedLearners
from stackelberg_zoo.envs.pomdp.followers.mw import MultiplicativeWeightsColumns
from stackelberg_zoo.envs.pomdp.protocol import ProtocolRunner, certified_length, resolve_protocol
from stackelberg_zoo.envs.pomdp.registration import default_phase_lengths
from stackelberg_zoo.envs.pomdp.report import (
    MAX_INDUCED_PROFILES,
    DiagnosticsSource,
    ResponseReport,
    gaps_unavailable_reason,
)
from stackelberg_zoo.envs.pomdp.step import Phase
from stackelberg_zoo.envs.pomdp.streams import UniformStreams
from stackelberg_zoo.envs.spaces import critic_state_space
from stackelberg_zoo.envs.validation import check_count, check_flag
from stackelberg_zoo.equilibrium.learners import MultiplicativeWeights

# -- the per-setting vectorised sub-game ---------------------------------------------------------


def batched_game(game: EconomicGame, num_envs: int) -> BatchedGame:
    """The batched version of ``game`` for ``num_envs`` copies (its setting's ``batched_game``).

    Raises:
        ValueError: If ``game``'s setting has no batched implementation.
    """
    setting = registry.setting_of(game)
    if setting is None or setting.batched_game is None:
        batched = sorted(s.name for s in registry.settings() if s.batched_game is not None)
        raise ValueError(
            f"no batched implementation for a {type(game).__name__} (batched settings: "
            f"{batched}); use the single StackelbergPOMDP for {game!r}"
        )
    return registry.load(setting.batched_game)(game, num_envs)


# -- results -----------------------------------------------------------------------------------


class BatchedTransition(NamedTuple):
    """What one batched step returns (arrays over the batch; see :class:`BatchedStackelbergPOMDP`).

    Attributes:
        observation: ``[B, ...]`` the next observations (the first of the next episode for
            copies that just ended one).
        reward: ``float64[B]``.
        terminated: ``bool[B]`` the episode of the copy ended in this step.
        phase: ``int8[B]`` the phase of the step just taken (:class:`~.episode.Phase`).
        sub_game: ``int64[B]`` its sub-game index within the phase.
        replaced: ``bool[B]`` commitment replaced the action.
        applied_action: ``[B, ...]`` the actions applied (after commitment).
        final_observation: ``[B, ...]`` the terminal observation of copies with
            ``terminated`` (rows of the others are stale).
        final_state: ``float32[B, state_dim]`` their terminal critic state, or ``None`` when
            no copy terminated.
        reports: ``{b: ResponseReport}`` for copies that just finished a response phase
            (only with ``diagnostics=True``).
        extension: ``bool[B]`` the step belongs to a sub-game past the response prefix
            (certifying cores only; ``None`` otherwise).
    """

    observation: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    phase: np.ndarray
    sub_game: np.ndarray
    replaced: np.ndarray
    applied_action: np.ndarray
    final_observation: np.ndarray
    final_state: np.ndarray | None
    reports: dict[int, ResponseReport]
    extension: np.ndarray | None = None


@dataclass(frozen=True)
class EpisodeStatistics:
    """Returns and lengths of the episodes that ended in a step.

    Attributes:
        returns: ``float64[B]`` episode return (valid where the copy terminated).
        lengths: ``int64[B]`` episode length in steps (valid where the copy terminated).
    """

    returns: np.ndarray
    lengths: np.ndarray


def _flat_space(space: gymnasium.Space) -> int:
    return int(gymnasium.spaces.flatten_space(space).shape[0])


class BatchedStackelbergPOMDP:
    """``num_envs`` Stackelberg POMDPs of one game, stepped together (see the module docstring).

    Args:
        game: The setting's scalar game (of a setting with a ``batched_game``).
        num_envs: ``B >= 1``.
        followers: A registered follower model name or a
            :class:`~.followers.ResponseAlgorithm` with a batched form (``reward_play``
            ``"argmax"`` or ``"sample"``).
        n_response: Response sub-games per episode; ``None``: the setting's default.
        n_reward: Reward sub-games per episode; ``None``: the setting's default.
        commitment: The first action at each observation binds for the episode.
        diagnostics: Build a :class:`~.report.ResponseReport` for each finished response
            phase (costs memory and time; off by default).
        protocol: ``"paper"`` or ``"certified"`` (:mod:`.protocol`; per-copy
            variable-length response and reward phases, step for step the single env's).
        certify: Override the protocol's certification (as the single environment's).
        exact_reward: Override the protocol's reward phase (as the single environment's).

    Raises:
        TypeError: On arguments of the wrong type.
        ValueError: On a follower algorithm or reward play the batched core does not
            implement, counts below 1, or a setting without a batched game.
    """

    def __init__(
        self,
        game: EconomicGame,
        num_envs: int,
        followers: str | ResponseAlgorithm | None = None,
        *,
        n_response: int | None = None,
        n_reward: int | None = None,
        commitment: bool = True,
        diagnostics: bool = False,
        protocol: str = "paper",
        certify: bool | Certification | None = None,
        exact_reward: bool | None = None,
    ):
        if not isinstance(game, EconomicGame):
            raise TypeError(f"game must be an EconomicGame, got {type(game).__name__}: {game!r}")
        B = check_count("num_envs", num_envs)
        settings = resolve_protocol(
            game, protocol, followers, n_response, n_reward, certify, exact_reward
        )
        n_response, n_reward = settings.n_response, settings.n_reward
        if n_response is None or n_reward is None:
            default_response, default_reward = default_phase_lengths(game)
            n_response = default_response if n_response is None else n_response
            n_reward = default_reward if n_reward is None else n_reward
        self.n_response = check_count("n_response", n_response)
        self.n_reward = check_count("n_reward", n_reward)
        self.commitment = check_flag("commitment", commitment)
        self.diagnostics = check_flag("diagnostics", diagnostics)
        self.protocol = settings.name
        self.algorithm = settings.followers
        self.game = game
        self.num_envs = B
        self.batch = batched_game(game, B)
        self.spec = FollowerSpec.of(game)
        self.observation_space = game.leader_observation_space
        self.action_space = game.leader_action_space

        spec = self.spec
        n = spec.n_followers
        self._n = n
        self._arange = np.arange(B)
        self._n_profiles = math.prod(spec.n_types) * math.prod(spec.n_actions)
        record = self.diagnostics and self._n_profiles <= MAX_INDUCED_PROFILES
        self._certifying = settings.certification is not None
        self._track = record or self._certifying  # the certifier reads the induced table
        self.streams = UniformStreams(B)
        # The follower model's batched kernel (ValueError if it has none).
        self.followers: BatchedResponder = self.algorithm.batched(
            spec, self.n_response, B, self.streams.draw, record
        )
        self._runners = None
        if not settings.plain:
            self._runners = self._protocol_runners(settings, record)
        self._reward_length = np.full(B, self.n_reward, dtype=np.int64)
        self._types = np.zeros((B, n), dtype=np.int64)
        self._actions = np.zeros((B, n), dtype=np.int64)

        # Episode bookkeeping.
        self.phase = np.zeros(B, dtype=np.int8)
        self.done = np.zeros(B, dtype=np.int64)
        self._return = np.zeros(B)
        self._length = np.zeros(B, dtype=np.int64)
        self._policy_changed = np.zeros(B, dtype=bool)

        # Settings with their own reward-phase value (EconomicGame.reward_phase_value).
        self._aggregate = aggregates_reward_phase(game)
        if self._aggregate:
            self._phase_actions = np.zeros((B, self.n_reward, n), dtype=np.int64)
            self._phase_leader = np.zeros((B, self.n_reward))

        self._commitments = CommitmentCache(
            B,
            self.batch.n_observation_ids,
            self.action_space,
            self.observation_space if self._track else None,
        )

        self._init_state()

        # Diagnostics: the induced game as queried.
        if self._track:
            dims = spec.n_types + spec.n_actions
            self._strides = np.array([math.prod(dims[k + 1 :]) for k in range(len(dims))])
            self._table = np.zeros((B, n, self._n_profiles))
            self._known = np.zeros((B, self._n_profiles), dtype=bool)
            self._profile = np.zeros(B, dtype=np.int64)
        self._started = False

    def _protocol_runners(self, settings, record: bool) -> list[ProtocolRunner]:
        """One :class:`~.protocol.ProtocolRunner` per copy (and the prefix in updates)."""
        spec, B = self.spec, self.num_envs
        if self._certifying:
            self.n_response = certified_length(self.n_response, self.followers, self.commitment)
            if record:  # room for the extension rounds in the kept rounds
                extra = settings.certification.max_extra_updates
                capacity = self.n_response + extra * self.followers.queries_per_round
                self.followers = self.algorithm.batched(
                    spec, capacity, B, self.streams.draw, record
                )
        return [
            ProtocolRunner(
                settings,
                spec,
                self.game,
                CopyLearners(self.followers, b),
                self.n_response,
                self.n_reward,
            )
            for b in range(B)
        ]

    def _init_state(self) -> None:
        """The critic's state ``[flat observation, phase, progress, features]``: space, buffer.

        The followers write their features into the buffer's last columns (a view).
        """
        B = self.num_envs
        self._observation_size = _flat_space(self.observation_space)
        space = self.observation_space
        self._flat_is_observation = (
            isinstance(space, gymnasium.spaces.Box)
            and len(space.shape) == 1
            and space.dtype == np.float32
        )
        n_features = self.followers.state_size
        self._features = slice(self._observation_size + 2, self._observation_size + 2 + n_features)
        self.state_size = self._features.stop
        self.state_space = critic_state_space(self.observation_space, n_features)
        self._state = np.zeros((B, self.state_size), dtype=np.float32)
        self._state[:, self._features] = self.followers.features
        self.followers.features = self._state[:, self._features]

    # -- episodes ----------------------------------------------------------------------------

    def reset(self, generators: list[np.random.Generator]) -> np.ndarray:
        """Start an episode in every copy; return the observations ``[B, ...]``.

        Args:
            generators: One generator per copy (copy ``b`` draws from ``generators[b]``
                exactly as a single environment given that generator would).

        Raises:
            ValueError: If the number of generators is not ``B``.
            TypeError: If one is not a ``np.random.Generator``.
        """
        if len(generators) != self.num_envs:
            raise ValueError(f"need {self.num_envs} generators, got {len(generators)}")
        for b, generator in enumerate(generators):
            if not isinstance(generator, np.random.Generator):
                raise TypeError(f"generators[{b}] must be a np.random.Generator, got {generator!r}")
            if generator is not self.streams.generators[b]:
                self.streams.seed(b, generator)
        self._reset_envs(self._arange)
        self._started = True
        self._observe_batch()
        return self._observation.copy()

    def _observe_batch(self) -> None:
        """Read every copy's current observation (and its flattening) from the batched game."""
        self._observation = self.batch.observations()
        if self._flat_is_observation:
            self._flat = self._observation
        else:
            self._flat = self.batch.flat_observations()

    def _reset_envs(self, index: np.ndarray) -> None:
        """Start a new episode in copies ``index``."""
        self.followers.reset(index)
        if self._runners is not None:
            for b in index.tolist():
                self._runners[b].reset()
            self._reward_length[index] = self.n_reward
        self.phase[index] = Phase.RESPONSE
        self.done[index] = 0
        self._return[index] = 0.0
        self._length[index] = 0
        self._policy_changed[index] = False
        self._commitments.clear(index)
        if self._track:
            self._known[index] = False
        self._begin(index)

    def _select(self, index: np.ndarray) -> np.ndarray | slice:
        """``index`` itself, or ``slice(None)`` when it holds every copy (much faster)."""
        return slice(None) if index.size == self.num_envs else index

    def _begin(self, index: np.ndarray) -> None:
        """Begin the next sub-game in copies ``index`` (sorted; their phase says which kind)."""
        if index.size == 0:
            return
        select = self._select(index)
        reward = self.phase[select] == Phase.REWARD
        if not reward.any():
            self._begin_response(index)
        elif reward.all():
            self._begin_reward(index)
        else:
            self._begin_response(index[~reward])
            self._begin_reward(index[reward])
        self.batch.start(select, self._types[select], self._actions[select])

    def _begin_response(self, index: np.ndarray) -> None:
        """The followers' next response query in copies ``index``."""
        select = self._select(index)
        types, actions = self.followers.next_queries(index)
        self._types[select] = types
        self._actions[select] = actions
        if self._track:
            profile = (types * self._strides[: self._n]).sum(1)
            profile += (actions * self._strides[self._n :]).sum(1)
            self._profile[select] = profile

    def _begin_reward(self, index: np.ndarray) -> None:
        """A reward-phase sub-game in copies ``index``: fresh types, the learned play."""
        select = self._select(index)
        if self._runners is not None:  # the protocol's response, copy by copy
            n = self._n
            for b in index.tolist():
                stream = CopyStream(self.streams, b)
                query = self._runners[b].reward_query(int(self.done[b]), stream)
                self._types[b] = query[:n]
                self._actions[b] = query[n:]
            return
        types = self.spec.sample_type_batch(self.streams.draw, index)
        self._types[select] = types
        self._actions[select] = self.followers.reward_actions(index, types)

    # -- one step ----------------------------------------------------------------------------

    def step(self, actions: Any) -> BatchedTransition:
        """One leader turn in every copy (see the module docstring).

        Raises:
            ValueError: Before :meth:`reset`, or on an action outside the action space
                (nothing changes then).
            TypeError: On an action array of the wrong kind or shape.
        """
        if not self._started:
            raise ValueError("call reset() before step()")
        batch = self.batch
        actions = batch.check_actions(actions)
        ids = None if self._commitments.n_ids == 1 else batch.observation_ids()
        cached, filled, differs = self._commitments.bind(actions, ids, self._observation)
        if self.commitment:
            fill = filled.reshape((-1,) + (1,) * (actions.ndim - 1))
            applied = np.where(fill, cached, actions)
            replaced = differs
        else:
            applied = actions
            replaced = np.zeros(self.num_envs, dtype=bool)
            self._policy_changed |= differs

        step_phase = self.phase.copy()
        step_sub_game = self.done.copy()
        extension = None
        if self._certifying:
            extension = (step_phase == Phase.RESPONSE) & (step_sub_game >= self.n_response)
        over = batch.leader_step(applied)
        self._length += 1
        reward = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        reports: dict[int, ResponseReport] = {}
        ended = np.flatnonzero(over) if over is not batch.all_over else self._arange
        if ended.size:
            select = self._select(ended)
            leader, followers = batch.outcome(select)
            self.done[select] += 1
            in_reward = self.phase[select] == Phase.REWARD
            if not in_reward.any():
                self._observe(ended, leader, followers, reports)
            else:
                if not in_reward.all():
                    response = ~in_reward
                    self._observe(ended[response], leader[response], followers[response], reports)
                reward_index = ended[in_reward]
                if self._aggregate:
                    terminated[reward_index] = self.done[reward_index] == self.n_reward
                    self._aggregate_rewards(reward_index, leader[in_reward], reward, terminated)
                elif self._runners is None:
                    reward[reward_index] = leader[in_reward] / self.n_reward
                    terminated[reward_index] = self.done[reward_index] == self.n_reward
                else:
                    for b, utility in zip(
                        reward_index.tolist(), leader[in_reward].tolist(), strict=True
                    ):
                        reward[b] = self._runners[b].reward(int(self.done[b]) - 1, utility)
                    lengths = self._reward_length[reward_index]
                    terminated[reward_index] = self.done[reward_index] == lengths
        self._return += reward
        final_state = None
        final_observation = None
        if terminated.any():
            final_observation = self._observation
            final_state = self.states()
            finished = np.flatnonzero(terminated)
            self.statistics = EpisodeStatistics(self._return.copy(), self._length.copy())
            self._reset_envs(finished)
            ended = ended[~terminated[ended]]
        self._begin(ended)
        self._observe_batch()
        observation = self._observation.copy()
        if final_observation is None:
            final_observation = observation
        return BatchedTransition(
            observation,
            reward,
            terminated,
            step_phase,
            step_sub_game,
            replaced,
            applied,
            final_observation,
            final_state,
            reports,
            extension,
        )

    def _aggregate_rewards(self, index, leader, reward, terminated) -> None:
        """Keep reward sub-games of ``index``; pay ``game.reward_phase_value`` at the last."""
        k = self.done[index] - 1
        self._phase_actions[index, k] = self._actions[index]
        self._phase_leader[index, k] = leader
        for b in index[terminated[index]].tolist():
            value = self.game.reward_phase_value(
                self._phase_actions[b].copy(), self._phase_leader[b].copy()
            )
            reward[b] = float(value)

    def _observe(
        self,
        index: np.ndarray,
        leader: np.ndarray,
        utilities: np.ndarray,
        reports: dict[int, ResponseReport],
    ) -> None:
        """Response-phase outcomes of copies ``index``: record the query, tell the followers."""
        if self._track:
            profile = self._profile[index]
            self._table[index, :, profile] = utilities
            self._known[index, profile] = True
        self.followers.observe(index, leader, utilities)
        if self._runners is None:
            finishing = index[self.done[self._select(index)] == self.n_response]
        else:
            finishing = self._response_over(index[self.done[index] >= self.n_response])
        if finishing.size:
            self._finish(finishing, reports)

    def _response_over(self, index: np.ndarray) -> np.ndarray:
        """The copies of ``index`` whose response phase ends now (their runners decide)."""
        over = []
        for b in index.tolist():
            if self._runners[b].response_over(
                int(self.done[b]) - self.n_response,
                self._table[b].T,  # [profiles, n], a view: replays are written in
                self._known[b],
                self._commitments.policy(b),
                self._commitments.observation_key,
            ):
                over.append(b)
        return np.array(over, dtype=np.int64)

    def _finish(self, index: np.ndarray, reports: dict[int, ResponseReport]) -> None:
        """End the response phase of copies ``index``: fix the reward-phase play."""
        self.followers.finish(index)
        if self._runners is not None:
            for b in index.tolist():
                self._runners[b].start_reward_phase()
                self._reward_length[b] = self._runners[b].reward_length
        if self.diagnostics:
            for b in index.tolist():
                reports[b] = self._report(b)
        self.phase[index] = Phase.REWARD
        self.done[index] = 0

    # -- views -------------------------------------------------------------------------------

    @property
    def rounds(self) -> np.ndarray:
        """``int64[B]`` completed learning rounds in each copy's current episode."""
        return self.followers.rounds

    def states(self) -> np.ndarray:
        """``float32[B, state_size]`` the centralized critic's view (as the single env's)."""
        state = self._state  # its feature columns are the followers' features (a view)
        k = self._observation_size
        state[:, :k] = self._flat
        state[:, k] = self.phase
        length = np.where(self.phase == Phase.RESPONSE, self.n_response, self._reward_length)
        state[:, k + 1] = np.minimum(self.done / length, 1.0)  # extension sub-games: 1
        return state.copy()

    def cumulative_gains(self, i: int) -> np.ndarray:
        """``[B, T_i, A_i]`` follower ``i``'s cumulative gains (learning followers).

        Raises:
            ValueError: If the follower model keeps no cumulative gains.
        """
        return self._learning("cumulative_gains").cumulative_gains(i)

    def weights(self, i: int) -> np.ndarray:
        """``[B, T_i, A_i]`` follower ``i``'s MW weight tables in the paper's scale.

        Raises:
            OverflowError: If a weight exceeds the float64 range.
            ValueError: If the followers are not MW.
        """
        return self.learner(i).weights()

    def learner(self, i: int) -> MultiplicativeWeights:
        """Follower ``i``'s MW learners, batch ``(B, T_i)`` (read them; do not update them).

        Raises:
            ValueError: If the followers are not MW.
        """
        columns = self._learning("learner").learners[i]
        if not isinstance(columns, MultiplicativeWeightsColumns):
            raise ValueError(f"learner() needs MW followers, got {self.algorithm!r}")
        return columns.learner

    def type_counts(self, i: int) -> np.ndarray:
        """``int64[B, T_i]`` completed rounds at each of follower ``i``'s types."""
        return self._learning("type_counts").type_counts(i)

    def _learning(self, what: str) -> BatchedLearners:
        if not isinstance(self.followers, BatchedLearners):
            raise ValueError(f"{what} needs learning followers, got {self.algorithm!r}")
        return self.followers

    def committed_actions(self, b: int) -> dict[int, np.ndarray]:
        """Copy ``b``'s binding action per observation id seen this episode."""
        return self._commitments.actions(b)

    # -- diagnostics -------------------------------------------------------------------------

    def _report(self, b: int) -> ResponseReport:
        runner = None if self._runners is None else self._runners[b]
        certified = None if runner is None else runner.strategy()
        reason = gaps_unavailable_reason(True, self._n_profiles, bool(self._policy_changed[b]))
        source = DiagnosticsSource(
            game=self.game,
            spec=self.spec,
            snapshot=self.followers.snapshot(b),
            reason=reason,
            follower_table=self._table[b].copy() if self._track else None,
            known=self._known[b].copy() if self._track else None,
            committed=self._commitments.policy(b) if self._track else {},
            observation_key=self._commitments.observation_key if self._track else None,
        )
        return ResponseReport(
            strategy=self.followers.strategy(b) if certified is None else certified,
            rounds=int(self.followers.rounds[b]),
            queries=int(self.done[b]),
            _source=source,
            certification=None if runner is None else runner.result,
        )
