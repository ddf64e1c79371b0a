"""The Stackelberg POMDP as a PettingZoo AEC environment whose only agent is ``leader_0``.

=====================  ===================================================================
Creation               ``pettingzoo.make("aec", "stackelberg/<setting>-pomdp-v0", **kwargs)``
                       with ``<setting>`` in ``normal-form``, ``matrix-design``,
                       ``simple-allocation``, ``mspm`` (import ``stackelberg_zoo.envs``
                       first), or ``env(setting=game_or_name, ...)``
Agents                 ``["leader_0"]``; followers are embedded response algorithms
Parallel API           no (one agent; use the Gymnasium view for single-agent libraries)
Observation            the leader's base-game observation only (the setting's space)
Action                 the leader's base-game action (the setting's space)
Reward                 0 in the response phase; sub-game utility / ``n_reward`` at the end of
                       each reward-phase sub-game
Episode                ``n_response`` response sub-games then ``n_reward`` reward sub-games,
                       one step per leader turn; all agents terminate at the end
Centralized critic     ``state()`` / ``state_space``: base observation, phase, progress,
                       follower learner state (normalised weight tables)
=====================  ===================================================================

``infos["leader_0"]`` holds the same keys and types from ``reset`` on (TorchRL's
``PettingZooWrapper`` builds its spec from the first info): ``"phase"``, ``"sub_game"``,
``"replaced"`` (commitment replaced the action), ``"action_mask"`` when the setting masks
the leader's actions, and ``"extension"`` when the episode certifies its response
(``protocol="certified"``: the step belongs to a sub-game past the response prefix). The
end-of-response-phase :class:`~.report.ResponseReport` is ``env.unwrapped.pomdp.report``
(set when the response phase ends, until the next reset), the
action a step applied ``env.unwrapped.pomdp.applied_action``. ``render_mode`` ``"ansi"``
returns a few lines about the current sub-game, ``"human"`` prints them after every step.
See :mod:`.episode` for the model and :mod:`.gym` for the arguments (the same here, plus
``max_cycles``: truncate after that many leader steps).

Version history: v0, initial release.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import EzPickle, seeding
from pettingzoo import AECEnv
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.pomdp.certify import Certification
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import ResponseAlgorithm
from stackelberg_zoo.envs.pomdp.gym import (
    RENDER_MODES,
    build_pomdp,
    check_render_mode,
    render_pomdp,
)
from stackelberg_zoo.envs.spaces import copy_element
from stackelberg_zoo.envs.validation import ActionCheck, check_count

LEADER = "leader_0"
"""The only agent."""


class raw_env(AECEnv, EzPickle):
    """The leader's Stackelberg POMDP as a one-agent PettingZoo ``AECEnv`` (module docstring).

    Raises:
        ValueError, TypeError: On invalid arguments (see :class:`~.episode.StackelbergPOMDP`),
            ``max_cycles < 1`` or an unknown ``render_mode``.
    """

    metadata = {  # noqa: RUF012 (PettingZoo's convention)
        "name": "stackelberg_pomdp_v0",
        "render_modes": RENDER_MODES,
        "is_parallelizable": False,
        "render_fps": 4,
    }

    def __init__(
        self,
        setting: str | EconomicGame = "normal_form",
        *,
        followers: str | ResponseAlgorithm | None = None,
        n_response: int | None = None,
        n_reward: int | None = None,
        commitment: bool = True,
        diagnostics: bool = True,
        protocol: str = "paper",
        certify: bool | Certification | None = None,
        exact_reward: bool | None = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
        **game_kwargs: Any,
    ):
        EzPickle.__init__(
            self,
            setting,
            followers=followers,
            n_response=n_response,
            n_reward=n_reward,
            commitment=commitment,
            diagnostics=diagnostics,
            protocol=protocol,
            certify=certify,
            exact_reward=exact_reward,
            max_cycles=max_cycles,
            render_mode=render_mode,
            **game_kwargs,
        )
        super().__init__()
        self.render_mode = check_render_mode(render_mode)
        self.max_cycles = None if max_cycles is None else check_count("max_cycles", max_cycles)
        self.pomdp: StackelbergPOMDP = build_pomdp(
            setting,
            followers,
            n_response,
            n_reward,
            commitment,
            diagnostics,
            game_kwargs,
            {"protocol": protocol, "certify": certify, "exact_reward": exact_reward},
        )
        self.game = self.pomdp.game
        self.possible_agents = [LEADER]
        self.observation_spaces = {LEADER: self.pomdp.observation_space}
        self.action_spaces = {LEADER: self.pomdp.action_space}
        self.state_space = self.pomdp.state_space
        self._check_action = ActionCheck(self.pomdp.action_space, LEADER).check
        self.np_random, self.np_random_seed = seeding.np_random(None)

    def observation_space(self, agent: str) -> gymnasium.Space:
        """The leader's base-game observation space (the same object every call)."""
        self._check_agent(agent)
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.Space:
        """The leader's action space (the same object every call)."""
        self._check_agent(agent)
        return self.action_spaces[agent]

    def _check_agent(self, agent: Any) -> None:
        if agent != LEADER:
            raise ValueError(f"the only agent is {LEADER!r}, got {agent!r}")

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start an episode (``seed`` reseeds the env's generator; ``options`` are unused)."""
        if seed is not None:
            self.np_random, self.np_random_seed = seeding.np_random(seed)
        _, info = self.pomdp.reset(self.np_random)
        self.agents = [LEADER]
        self.rewards = {LEADER: 0.0}
        self._cumulative_rewards = {LEADER: 0.0}
        self.terminations = {LEADER: False}
        self.truncations = {LEADER: False}
        self.infos = {LEADER: info}
        self.agent_selection = LEADER
        self._steps = 0
        if self.render_mode == "human":
            self.render()

    def step(self, action: Any) -> None:
        """One leader turn (``None`` once the leader is done).

        Raises:
            TypeError: On an action of the wrong kind (a bool, a float or a string for a
                ``Discrete`` space; complex, bool or string entries for a ``Box``).
            ValueError: On an action of the wrong shape, NaN or infinite, out of range or
                rejected by the setting (nothing changes then), a non-``None`` action after
                the end, a step before ``reset()``, or a step after every agent left.
        """
        if not hasattr(self, "agents"):
            raise ValueError(f"step({action!r}) called before reset(); call reset() first")
        if not self.agents:
            raise ValueError(f"step({action!r}) called after the episode ended; call reset()")
        if self.terminations[LEADER] or self.truncations[LEADER]:
            if action is not None:
                raise ValueError(f"{LEADER} is done; its only valid action is None, got {action!r}")
            self._was_dead_step(action)
            return
        if action is None:
            raise ValueError(f"{LEADER} is live and must act; got action None")
        action = self._check_action(action)  # the one action check of every driver
        transition = self.pomdp.step(action)
        self._steps += 1
        self._cumulative_rewards[LEADER] = 0.0
        self.rewards[LEADER] = float(transition.reward)
        self.terminations[LEADER] = transition.terminated
        if (
            not transition.terminated
            and self.max_cycles is not None
            and self._steps >= self.max_cycles
        ):
            self.truncations[LEADER] = True
        self.infos[LEADER] = transition.info
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def observe(self, agent: str) -> Any:
        """The leader's current base-game observation (a fresh copy)."""
        self._check_agent(agent)
        return copy_element(self.pomdp.observation)

    def state(self) -> np.ndarray:
        """``float32[state_space.shape]``: what a centralized critic may see."""
        return self.pomdp.state()

    def render(self) -> str | None:
        """A few lines about the current sub-game: returned (``ansi``) or printed (``human``)."""
        return render_pomdp(self.pomdp, self.render_mode)

    def close(self) -> None:
        """Nothing to release."""


def env(**kwargs: Any) -> OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order checks (keyword arguments as ``raw_env``)."""
    return OrderEnforcingWrapper(raw_env(**kwargs))
