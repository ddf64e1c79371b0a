"""The one-step PettingZoo ``ParallelEnv`` driver of a sub-game (see :mod:`.aec`).

:class:`SimultaneousSubgameEnv` plays a whole sub-game in one simultaneous step, for games
where that is honest: the leader moves exactly once, without a mask, and its observation does
not depend on the followers (``game.initial_leader_observation()``).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from stackelberg_zoo.envs.core import EconomicGame, Outcome
from stackelberg_zoo.envs.spaces import same_element
from stackelberg_zoo.envs.subgame import (
    LEADER,
    SubgameLayout,
    check_max_cycles,
    check_render_mode,
    render_subgame,
    subgame_metadata,
)


class SimultaneousSubgameEnv(ParallelEnv):
    """One sub-game played in a single simultaneous step, as a PettingZoo ``ParallelEnv``.

    Only for games where simultaneity is honest: the leader's observation does not depend
    on the followers (it is ``game.initial_leader_observation()``), the leader moves exactly
    once, and its actions are never masked. These conditions are checked at every step; a
    game that breaks them raises ``RuntimeError``.

    Args:
        game: The setting's game logic.
        max_cycles: Accepted for PettingZoo's registry and test kit; a sub-game is one
            step, so any positive value changes nothing.
        render_mode: ``None``, ``"ansi"`` or ``"human"``, as in :class:`SubgameEnv`.

    Raises:
        TypeError, ValueError: As :class:`SubgameEnv`.
    """

    metadata = subgame_metadata("subgame_v0", is_parallelizable=True)

    def __init__(
        self, game: EconomicGame, *, max_cycles: int | None = None, render_mode: str | None = None
    ):
        self.layout = SubgameLayout(game)
        self.game = game
        self.max_cycles = check_max_cycles(max_cycles)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        self.possible_agents = list(self.layout.possible_agents)
        self.observation_spaces = self.layout.observation_spaces
        self.action_spaces = self.layout.action_spaces
        self.state_space = self.layout.state_space
        self.np_random, self._np_random_seed = seeding.np_random(None)
        self._n = self.layout.n_followers
        self._initial_leader_observation = game.initial_leader_observation()
        self.agents = []
        self._types = np.zeros(self._n, dtype=np.int64)
        self._follower_actions = np.full(self._n, -1, dtype=np.int64)
        self._leader_actions: list[Any] = []
        self._outcome: Outcome | None = None
        self._sub_state = None
        self._started = False  # whether reset() was called: step's messages differ

    def observation_space(self, agent: str) -> gymnasium.Space:
        """The ``Dict`` observation space of ``agent`` (the same object on every call)."""
        self.layout.check_agent(agent)
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.Space:
        """The action space of ``agent`` (the same object on every call)."""
        self.layout.check_agent(agent)
        return self.action_spaces[agent]

    def _observations(self) -> dict[str, dict[str, Any]]:
        layout = self.layout
        observations = {LEADER: layout.leader_observation(self._initial_leader_observation, None)}
        for i, agent in enumerate(layout.followers):
            observations[agent] = layout.follower_observation(i, self._types[i])
        return observations

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict]]:
        """Draw types (or take ``options["types"]``); return everyone's observation and info."""
        if seed is not None:
            self.np_random, self._np_random_seed = seeding.np_random(seed)
        if options is not None and "types" in options:
            self._types = self.layout.check_types(options["types"])
        else:
            self._types = self.layout.sample_types(self.np_random)
        self.agents = list(self.possible_agents)
        self._started = True
        self._follower_actions = np.full(self._n, -1, dtype=np.int64)
        self._leader_actions = []
        self._outcome = None
        self._sub_state = None
        if self.render_mode == "human":
            self.render()
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Play the sub-game with every agent's action; everyone terminates.

        Raises:
            TypeError: If ``actions`` is not a dict or an action has the wrong kind.
            ValueError: If an agent is missing or unknown, an action is outside its space,
                or the sub-game already ended or never started (call ``reset()``).
            RuntimeError: If the game is not simultaneous after all (see the class doc).
        """
        if not self.agents:
            if not self._started:
                raise ValueError(f"step({actions!r}) called before reset(); call reset() first")
            raise ValueError(f"step({actions!r}) called after the sub-game ended; call reset()")
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict agent -> action, got {actions!r}")
        if actions.keys() != set(self.agents):
            missing = sorted(set(self.agents) - actions.keys())
            unknown = sorted(map(str, actions.keys() - set(self.agents)))
            raise ValueError(
                f"actions must have exactly one entry per agent {self.agents}; "
                f"missing {missing}, unknown {unknown}, got {actions!r}"
            )
        layout, game = self.layout, self.game
        for i, agent in enumerate(layout.followers):
            self._follower_actions[i] = layout.check_follower_action(i, actions[agent])
        leader_action = layout.check_leader_action(actions[LEADER], None)
        state = game.start(self._types.copy(), self._follower_actions.copy())
        if game.is_over(state):
            raise RuntimeError("the sub-game ended before the leader moved: not simultaneous")
        mask = layout.check_leader_mask(game.leader_action_mask(state))
        if mask is not None and not mask.all():
            raise RuntimeError(f"the leader's actions are masked ({mask}): not simultaneous")
        observed = game.leader_observation(state)
        if not same_element(observed, self._initial_leader_observation):
            raise RuntimeError(
                f"the leader observes {observed!r}, not its initial observation "
                f"{self._initial_leader_observation!r}: not simultaneous"
            )
        state = game.leader_step(state, leader_action)
        self._sub_state = state
        self._leader_actions = [leader_action]
        if not game.is_over(state):
            raise RuntimeError("the leader has a second turn: not simultaneous")
        outcome = game.outcome(state)
        self._outcome = outcome
        rewards = {LEADER: float(outcome.leader)}
        for i, agent in enumerate(layout.followers):
            rewards[agent] = float(outcome.followers[i])
        observations = self._observations()
        terminations = dict.fromkeys(self.agents, True)
        truncations = dict.fromkeys(self.agents, False)
        infos = {agent: {} for agent in self.agents}
        self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """Flat float32 critic state, as :meth:`SubgameEnv.state`."""
        turn = 0 if self.agents else self._n + 1
        return self.layout.state_vector(
            self._types, self._follower_actions, self._initial_leader_observation, turn
        )

    @property
    def outcome(self) -> Outcome | None:
        """The ended sub-game's :class:`Outcome` (``None`` before the step)."""
        return self._outcome

    def render(self) -> str | None:
        """The sub-game table (``ansi``), printed (``human``), or ``None`` with a warning."""
        return render_subgame(self, "over" if self._outcome is not None else "everyone to act")

    def close(self) -> None:
        """Nothing to release."""
