"""The Stackelberg POMDP as a Gymnasium environment (the leader's view, one agent).

=====================  ===================================================================
Creation               ``gymnasium.make("StackelbergZoo/<Setting>POMDP-v0", **kwargs)`` with
                       ``<Setting>`` in ``NormalForm``, ``MatrixDesign``, ``SimpleAllocation``,
                       ``Mspm`` (import ``stackelberg_zoo.envs`` first), or
                       ``StackelbergPOMDPEnv(setting=game_or_name, ...)``
Agent                  the leader (designer); followers are embedded response algorithms
Observation            the leader's base-game observation, nothing else (the setting's space)
Action                 the leader's base-game action (the setting's space)
Reward                 0 in the response phase; sub-game utility / ``n_reward`` at the end of
                       each reward-phase sub-game (the return is the leader's average utility)
Episode                ``n_response`` response sub-games, then ``n_reward`` reward sub-games;
                       one step is one leader turn; ``terminated`` at the end, never truncated
Followers              ``followers="mw"`` (paper), ``"hedge"``, ``"regret_matching"``,
                       ``"regret_matching_plus"``, ``"exp3"``, ``"best_response"``, or an
                       instance such as ``MultiplicativeWeightsResponse(eps=0.05)``
Centralized critic     ``info["state"]`` (float32: base observation, phase, progress, learner
                       state), space ``env.unwrapped.state_space``
=====================  ===================================================================

``info``, the same keys and types from ``reset`` on: ``"phase"`` (:class:`~.episode.Phase` of
the step just taken), ``"sub_game"``, ``"replaced"`` (commitment replaced the action),
``"state"``; ``"action_mask"`` (``np.int8``) when the setting masks the leader's actions;
``"extension"`` (``bool``) when the episode certifies its response: the step belongs to a
sub-game played after the fixed response prefix (a trainer may keep it out of its batch).
When the response phase ends, ``env.unwrapped.pomdp.report`` holds its
:class:`~.report.ResponseReport` (learned strategy, exact BCCE gaps, regret certificate)
until the next reset; ``env.unwrapped.pomdp.applied_action`` is the action a step applied.

Arguments: ``setting`` (a setting name or an ``EconomicGame``), ``followers``,
``n_response`` and ``n_reward`` (default: the paper's per setting, see
:data:`.registration.POMDP_SETTINGS`), ``commitment=True``, ``diagnostics=True``,
``protocol`` (``"paper"``, the default, or ``"certified"``: see :mod:`.protocol`),
``certify`` and ``exact_reward`` (override the protocol's choice),
``render_mode`` (``None``, ``"ansi"`` or ``"human"``), and, with a setting name, the setting's
own game arguments (e.g. ``game="escape", mixed_leader=True`` for the normal form).

Version history: v0, initial release.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import EzPickle

from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.pomdp.certify import Certification
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import ResponseAlgorithm
from stackelberg_zoo.envs.pomdp.registration import resolve_game
from stackelberg_zoo.envs.spaces import copy_element
from stackelberg_zoo.envs.validation import ActionCheck

RENDER_MODES = ["ansi", "human"]
"""Render modes: ``ansi`` returns a few lines about the current sub-game; ``human`` prints them
after every step (and on ``render()``, which then returns ``None``), as PettingZoo's envs do."""


def build_pomdp(
    setting: str | EconomicGame,
    followers: str | ResponseAlgorithm | None,
    n_response: int | None,
    n_reward: int | None,
    commitment: bool,
    diagnostics: bool,
    game_kwargs: dict[str, Any],
    protocol: dict[str, Any] | None = None,
) -> StackelbergPOMDP:
    """The :class:`StackelbergPOMDP` behind both single-agent drivers.

    ``protocol`` holds the ``protocol``, ``certify`` and ``exact_reward`` arguments.

    Raises:
        ValueError: If ``setting`` is a game instance and game arguments are given too, or
            any argument is rejected downstream.
        TypeError: If ``setting`` is neither a name nor an ``EconomicGame``.
    """
    game = resolve_game(setting, game_kwargs)
    return StackelbergPOMDP(
        game,
        followers,
        n_response=n_response,
        n_reward=n_reward,
        commitment=commitment,
        diagnostics=diagnostics,
        **(protocol or {}),
    )


def check_render_mode(render_mode: Any) -> str | None:
    """Validate a render mode (``None`` or one of :data:`RENDER_MODES`).

    Raises:
        ValueError: On anything else.
    """
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {RENDER_MODES}, got {render_mode!r}")
    return render_mode


def render_pomdp(pomdp: StackelbergPOMDP, render_mode: str | None) -> str | None:
    """Both single-agent drivers' ``render()``: ``ansi`` returns the text, ``human`` prints it.

    Returns ``None`` (with a warning) without a render mode.
    """
    if render_mode is None:
        gymnasium.logger.warn("render() called without a render_mode; nothing to render")
        return None
    text = pomdp.describe()
    if render_mode == "human":
        print(text)
        return None
    return text


class StackelbergPOMDPEnv(gymnasium.Env, EzPickle):
    """The leader's Stackelberg POMDP as a ``gymnasium.Env`` (see the module docstring).

    Raises:
        ValueError, TypeError: On invalid arguments (see :class:`~.episode.StackelbergPOMDP`).
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": 4}  # noqa: RUF012 (Gymnasium's)

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
            render_mode=render_mode,
            **game_kwargs,
        )
        self.render_mode = check_render_mode(render_mode)
        self.pomdp = build_pomdp(
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
        self.observation_space = self.pomdp.observation_space
        self.action_space = self.pomdp.action_space
        self.state_space = self.pomdp.state_space
        self._check_action = ActionCheck(self.action_space).check

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode (``seed`` reseeds ``self.np_random``; ``options`` are unused)."""
        super().reset(seed=seed)
        observation, info = self.pomdp.reset(self.np_random)
        info["state"] = self.pomdp.state()
        if self.render_mode == "human":
            self.render()
        return copy_element(observation), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One leader turn; see the module docstring for ``info``.

        Raises:
            TypeError: On an action of the wrong kind (a bool, a float or string for a
                ``Discrete`` space; complex, bool or string entries for a ``Box``).
            ValueError: After the end of the episode, on an action of the wrong shape, NaN
                or infinite, out of range, or otherwise rejected by the setting. Nothing
                changes then.
        """
        pomdp = self.pomdp
        action = self._check_action(action)  # the one action check of every driver
        observation, reward, terminated, info = pomdp.step(action)
        info["state"] = pomdp.state()
        if type(observation) is np.ndarray:
            observation = observation.copy()
        elif not isinstance(observation, (int, float, np.generic)):
            observation = copy_element(observation)
        if self.render_mode == "human":
            self.render()
        return observation, float(reward), terminated, False, info

    def state(self) -> np.ndarray:
        """The centralized critic's view now (``float32[state_space.shape]``)."""
        return self.pomdp.state()

    def render(self) -> str | None:
        """A few lines about the current sub-game: returned (``ansi``) or printed (``human``)."""
        return render_pomdp(self.pomdp, self.render_mode)
