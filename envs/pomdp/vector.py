"""The Stackelberg POMDP as a Gymnasium ``VectorEnv``: ``B`` leader environments in one numpy call.

=====================  ===================================================================
Creation               ``gymnasium.make_vec("StackelbergZoo/<Setting>POMDP-v0", num_envs=B,
                       **kwargs)`` (the registered ``vector_entry_point``; import
                       ``stackelberg_zoo.envs`` first), or
                       ``StackelbergPOMDPVectorEnv(num_envs=B, setting=game_or_name, ...)``
Spaces                 ``single_observation_space`` / ``single_action_space`` are the
                       setting's leader spaces (as the single env's); ``observation_space`` /
                       ``action_space`` their ``batch_space`` (e.g. ``float32[B, 1]`` and
                       ``int64[B]`` for the pure normal form, ``int64[B]`` observations for
                       simple allocation's ``Discrete`` messages)
Actions                discrete settings ``int[B]``; ``Box`` settings ``[B, d]`` (cast to the
                       space's dtype); an out-of-space action raises ``ValueError`` naming the
                       value and the env index, and nothing changes
Autoreset              ``metadata["autoreset_mode"] = AutoresetMode.SAME_STEP``: a copy whose
                       episode ends is reset in the same ``step``; the returned observation
                       is the first of its next episode, the terminal one is in
                       ``info["final_obs"]`` (an object array, ``info["_final_obs"]`` masks
                       it) and its info in ``info["final_info"]``. Never truncated.
Followers              any registered follower model (``followers="mw"``, ``"hedge"``, ...,
                       ``follower_models()``) or an instance, reward play ``"argmax"`` or
                       ``"sample"``; a model without a batched form raises ``ValueError``
Protocols              ``protocol="paper"`` (default) or ``"certified"`` (per-copy
                       variable-length phases; ``info["extension"]`` flags extension steps)
=====================  ===================================================================

``info`` (a dict of arrays, each key with its ``"_key"`` mask as Gymnasium's vector envs do):

* ``"state"``: ``float32[B, state_dim]`` the centralized critic's view of the returned
  observation (flat observation, phase, progress, the followers' normalised learner
  tables, e.g. MW weights), space
  :attr:`StackelbergPOMDPVectorEnv.single_state_space`; for copies that just ended an
  episode it describes the first observation of the next one (the terminal state is in
  ``info["final_info"]["state"]``);
* ``"phase"`` (``int8[B]``, :class:`~.episode.Phase` of the step just taken), ``"sub_game"``
  (``int64[B]``), ``"replaced"`` (``bool[B]``, commitment replaced the action; all ``False``
  at reset);
* at the end of episodes: ``"pomdp_episode"`` = ``{"r": float64[B], "l": int64[B]}`` (return
  and length), masked by ``"_pomdp_episode"``; a key of its own, so that Gymnasium's
  ``RecordEpisodeStatistics`` (which writes ``"episode"``) wraps this env unchanged;
* with ``diagnostics=True``, when copies finish a response phase: ``"response"``, an object
  array of :class:`~.report.ResponseReport` masked by ``"_response"``.

Copy ``b`` of an env reset with ``seed=s`` follows exactly the trajectory of the single
``StackelbergPOMDPEnv`` reset with ``seed=s + b`` (a list of seeds gives each copy its own),
fed the same actions; see :mod:`.batched`.

Version history: v0, initial release.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.pomdp.batched import BatchedStackelbergPOMDP
from stackelberg_zoo.envs.pomdp.certify import Certification
from stackelberg_zoo.envs.pomdp.followers import ResponseAlgorithm
from stackelberg_zoo.envs.pomdp.registration import resolve_game
from stackelberg_zoo.envs.pomdp.streams import make_generators


def _mask(values: np.ndarray) -> np.ndarray:
    return np.ones(values.shape[0], dtype=bool)


class StackelbergPOMDPVectorEnv(VectorEnv):
    """``num_envs`` Stackelberg POMDPs of one setting as a ``gymnasium.vector.VectorEnv``.

    Args:
        num_envs: ``B >= 1``.
        setting: A setting name (``"normal_form"``, ``"matrix_design"``,
            ``"simple_allocation"``, ``"mspm"``) or an ``EconomicGame`` of one of them.
        followers: A registered follower model name or a ``ResponseAlgorithm`` with a
            batched form (every built-in one).
        n_response: Response sub-games per episode (default: the setting's).
        n_reward: Reward sub-games per episode (default: the setting's).
        commitment: The first action at each observation binds for the episode.
        diagnostics: Report each response phase's exact BCCE gaps (``info["response"]``).
        protocol: ``"paper"`` or ``"certified"``; ``certify`` and ``exact_reward`` override
            the protocol's choices (as for the single environment). When the copies certify,
            ``info["extension"]`` says which steps belong to extension sub-games.
        render_mode: Only ``None``.
        **game_kwargs: The setting's game arguments, with a setting name.

    Raises:
        ValueError, TypeError: On invalid arguments (see
            :class:`~.batched.BatchedStackelbergPOMDP`).
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int = 1,
        setting: str | EconomicGame = "normal_form",
        *,
        followers: str | ResponseAlgorithm | None = None,
        n_response: int | None = None,
        n_reward: int | None = None,
        commitment: bool = True,
        diagnostics: bool = False,
        protocol: str = "paper",
        certify: bool | Certification | None = None,
        exact_reward: bool | None = None,
        render_mode: str | None = None,
        **game_kwargs: Any,
    ):
        if render_mode is not None:
            raise ValueError(f"render_mode must be None for the vector env, got {render_mode!r}")
        game = resolve_game(setting, game_kwargs)
        self.pomdp = BatchedStackelbergPOMDP(
            game,
            num_envs,
            followers,
            n_response=n_response,
            n_reward=n_reward,
            commitment=commitment,
            diagnostics=diagnostics,
            protocol=protocol,
            certify=certify,
            exact_reward=exact_reward,
        )
        self.game = game
        self.num_envs = self.pomdp.num_envs
        self.render_mode = None
        self.single_observation_space = game.leader_observation_space
        self.single_action_space = game.leader_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_state_space = self.pomdp.state_space
        self.state_space = batch_space(self.single_state_space, self.num_envs)
        self._generators: list[np.random.Generator] | None = None

    def reset(
        self,
        *,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode in every copy.

        Args:
            seed: ``int`` (copy ``b`` gets ``seed + b``), a list of ``num_envs`` seeds, or
                ``None`` (keep each copy's generator; fresh entropy on the first reset).
            options: Unused (must be ``None`` or empty).

        Raises:
            ValueError: On a seed list of the wrong length or non-empty ``options``.
        """
        if options:
            raise ValueError(
                f"the Stackelberg POMDP vector env takes no reset options, got {options!r}"
            )
        if seed is not None or self._generators is None:
            self._generators = make_generators(seed, self.num_envs)
            if isinstance(seed, (int, np.integer)):
                self._np_random_seed = int(seed)
        observation = self.pomdp.reset(self._generators)
        B = self.num_envs
        phase = self.pomdp.phase.copy()
        sub_game = self.pomdp.done.copy()
        state = self.pomdp.states()
        info = {
            "phase": phase,
            "_phase": _mask(phase),
            "sub_game": sub_game,
            "_sub_game": _mask(sub_game),
            "replaced": np.zeros(B, dtype=bool),
            "_replaced": np.ones(B, dtype=bool),
            "state": state,
            "_state": np.ones(B, dtype=bool),
        }
        if self.pomdp._certifying:
            info["extension"] = np.zeros(B, dtype=bool)
            info["_extension"] = np.ones(B, dtype=bool)
        return observation, info

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One leader turn in every copy (see the module docstring for ``info``).

        Raises:
            ValueError: Before ``reset``, or on an out-of-space action (naming the env index).
            TypeError: On an action array of the wrong kind or shape.
        """
        pomdp = self.pomdp
        transition = pomdp.step(actions)
        B = self.num_envs
        every = np.ones(B, dtype=bool)
        info: dict[str, Any] = {
            "phase": transition.phase,
            "_phase": every,
            "sub_game": transition.sub_game,
            "_sub_game": every.copy(),
            "replaced": transition.replaced,
            "_replaced": every.copy(),
            "state": pomdp.states(),
            "_state": every.copy(),
        }
        if transition.extension is not None:
            info["extension"] = transition.extension
            info["_extension"] = every.copy()
        terminated = transition.terminated
        if transition.final_state is not None:
            ended = terminated.copy()
            final_obs = np.full(B, None, dtype=object)
            for b in np.flatnonzero(ended).tolist():
                final_obs[b] = transition.final_observation[b]
            statistics = pomdp.statistics
            episode = {
                "r": np.where(ended, statistics.returns, 0.0),
                "_r": ended.copy(),
                "l": np.where(ended, statistics.lengths, 0),
                "_l": ended.copy(),
            }
            info["final_obs"] = final_obs
            info["_final_obs"] = ended
            info["final_info"] = {
                "state": transition.final_state,
                "_state": ended.copy(),
                "phase": transition.phase,
                "_phase": ended.copy(),
                "sub_game": transition.sub_game,
                "_sub_game": ended.copy(),
                "replaced": transition.replaced,
                "_replaced": ended.copy(),
                "pomdp_episode": episode,
                "_pomdp_episode": ended.copy(),
            }
            if transition.extension is not None:
                info["final_info"]["extension"] = transition.extension
                info["final_info"]["_extension"] = ended.copy()
            info["_final_info"] = ended.copy()
            info["pomdp_episode"] = episode
            info["_pomdp_episode"] = ended.copy()
        if transition.reports:
            reports = np.full(B, None, dtype=object)
            present = np.zeros(B, dtype=bool)
            for b, report in transition.reports.items():
                reports[b] = report
                present[b] = True
            info["response"] = reports
            info["_response"] = present
        truncated = np.zeros(B, dtype=bool)
        return transition.observation, transition.reward, terminated, truncated, info

    def state(self) -> np.ndarray:
        """``float32[B, state_dim]`` the critic's view of the current observations."""
        return self.pomdp.states()
