"""PettingZoo drivers for any economic game: one episode is one sub-game.

Both drivers wrap a :class:`~stackelberg_zoo.envs.core.EconomicGame`.

:class:`SubgameEnv` (an ``AECEnv``) plays the sub-game turn by turn:

1. ``reset(seed=)`` draws a type profile from ``game.prior`` with the env's own generator
   ``self.np_random`` (reseeded only when a seed is given);
2. ``follower_0``, ``follower_1``, ... act in index order, each observing only its own type;
3. ``leader_0`` then acts on ``game.leader_observation(state)`` until ``game.is_over(state)``;
4. every agent's reward is its utility in ``game.outcome(state)``; all agents terminate.

:class:`~.parallel.SimultaneousSubgameEnv` (a ``ParallelEnv``, in :mod:`.parallel`) plays
the same sub-game in one step, for games where that is honest: the leader moves exactly
once, without a mask, and its observation does not depend on the followers
(``game.initial_leader_observation()``).

Agents are ``leader_0`` then ``follower_0 ... follower_{n-1}`` in ``possible_agents``, except
in an AEC env whose metadata says ``is_parallelizable``: there ``possible_agents`` lists them
in the order of play (``follower_0 ... follower_{n-1}``, then ``leader_0``), which PettingZoo's
``aec_to_parallel`` requires. Every
observation is a ``Dict`` with an ``"observation"`` entry (followers: the one-hot of their
type; leader: its game observation) and, for ``Discrete`` action spaces, an ``np.int8``
``"action_mask"``. ``state()`` is a flat float32 vector for a centralized critic, the
flattening of ``layout.state_dict_space``: one-hot follower actions so far (slot 0 = not yet
acted), the flattened leader observation, a one-hot of whose turn it is (followers, leader,
over) and one-hot types (Gymnasium orders ``Dict`` keys alphabetically;
``gymnasium.spaces.unflatten(env.unwrapped.layout.state_dict_space, env.state())`` gives the
parts back by name). Invalid input (an action outside the agent's space or masked out, of
the wrong kind, shape or dtype, NaN or infinite; a non-``None`` action for an agent that is
done) raises ``ValueError`` or ``TypeError`` naming the value; nothing is clipped or
converted. Stepping once every agent has left (after the sub-game ended and each agent took
its ``None`` step) raises ``ValueError``, through ``pettingzoo.make`` and ``env()`` as on
the raw env (PettingZoo's own wrapper only warns there). Stepping before ``reset()`` raises
PettingZoo's ``AssertionError`` ("reset() needs to be called before step") through
``env()``, and ``ValueError`` on the raw env and the parallel env.

How a setting's ``env.py`` uses this module (the whole file, minus its doc page)::

    from stackelberg_zoo.envs.aec import SubgameEnv, subgame_metadata, wrap
    from stackelberg_zoo.envs.my_setting.game import MyGame


    class raw_env(SubgameEnv):
        \"\"\"The my-setting sub-game as a PettingZoo AEC environment.\"\"\"

        metadata = subgame_metadata("my_setting_v0")

        def __init__(self, n_messages: int = 3, max_cycles=None, render_mode=None):
            super().__init__(
                MyGame(n_messages=n_messages), max_cycles=max_cycles, render_mode=render_mode
            )


    def env(**kwargs):
        \"\"\"The AEC environment with PettingZoo's order checks.\"\"\"
        return wrap(raw_env(**kwargs))

Constructors take keyword arguments only and must accept ``max_cycles`` and ``render_mode``
(PettingZoo's registry and test kit pass them). Reach the game and its reference values
through ``env.unwrapped.game`` (wrappers do not forward custom attributes reliably).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import AECEnv
from pettingzoo.utils.env_logger import EnvLogger
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.core import EconomicGame, Outcome
from stackelberg_zoo.envs.subgame import (
    LEADER,
    RENDER_MODES,
    SubgameLayout,
    check_max_cycles,
    check_render_mode,
    follower_name,
    render_subgame,
    subgame_metadata,
)

__all__ = [
    "LEADER",
    "RENDER_MODES",
    "OrderEnforcing",
    "SubgameEnv",
    "SubgameLayout",
    "follower_name",
    "subgame_metadata",
    "wrap",
]


def _forwarded(name: str) -> property:
    def get(self: OrderEnforcing) -> Any:
        if not self._has_reset:
            raise AttributeError(f"{name} cannot be accessed before reset")
        return getattr(self.env, name)

    return property(get, doc=f"The wrapped env's ``{name}`` (after ``reset``).")


class OrderEnforcing(OrderEnforcingWrapper):
    """PettingZoo's ``OrderEnforcingWrapper``, with a fast path for the per-step attributes.

    The same checks, errors and warnings, but one: a step after every agent left raises the
    wrapped env's ``ValueError`` instead of PettingZoo's warning. The attributes an agent
    loop reads at every step (``agents``, ``agent_selection``, ``rewards``,
    ``terminations``, ``truncations``, ``infos``, ``_cumulative_rewards``), ``last()`` and
    ``step()`` go straight to the wrapped env instead of through two ``__getattr__``
    fallbacks and ``super()`` chains, which made agent loops 2-4x slower.
    """

    agents = _forwarded("agents")
    agent_selection = _forwarded("agent_selection")
    rewards = _forwarded("rewards")
    terminations = _forwarded("terminations")
    truncations = _forwarded("truncations")
    infos = _forwarded("infos")
    _cumulative_rewards = _forwarded("_cumulative_rewards")

    def step(self, action: Any) -> None:
        """Step the wrapped env, with the base class's checks and messages.

        Raises:
            AssertionError: Before ``reset()`` (PettingZoo's check).
            ValueError: After every agent left, or on an invalid action (the env's own).
        """
        if not self._has_reset:
            EnvLogger.error_step_before_reset()
        self._has_updated = True
        self.env.step(action)

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """``(observation, cumulative reward, terminated, truncated, info)`` of the agent to act."""
        if not self._has_reset:  # what the base class's ``self.agent_selection`` raises
            raise AttributeError("agent_selection cannot be accessed before reset")
        return self.env.last(observe)

    def __str__(self) -> str:
        return str(self.env)


def wrap(raw: SubgameEnv) -> OrderEnforcing:
    """The AEC wrappers of every setting's ``env()``: only PettingZoo's order checks.

    Actions are validated by the driver itself, so no bounds wrapper is stacked.
    """
    return OrderEnforcing(raw)


class SubgameEnv(AECEnv):
    """One sub-game of an :class:`EconomicGame` as a PettingZoo AEC environment.

    Followers act first, in index order, on their types; then the leader acts until the
    sub-game is over; then every agent receives its utility as reward and terminates.
    ``possible_agents`` is ``[leader_0, follower_0, ...]``, or the order of play
    ``[follower_0, ..., leader_0]`` when ``metadata["is_parallelizable"]`` is true (then
    ``pettingzoo.utils.aec_to_parallel`` converts the env).

    Args:
        game: The setting's game logic.
        max_cycles: Most leader turns in one sub-game; if the game is not over after that
            many, every agent is truncated with reward 0. ``None``: no limit (every
            setting's sub-game is finite).
        render_mode: ``None``, ``"ansi"`` (``render()`` returns the sub-game table) or
            ``"human"`` (the table is printed after every step and by ``render()``).

    Raises:
        TypeError: If ``game`` is not an :class:`EconomicGame`, or ``max_cycles`` is not an
            int.
        ValueError: If ``max_cycles < 1`` or ``render_mode`` is unknown.

    ``reset(options={"types": [...]})`` plays the given type profile instead of drawing one
    (for evaluation); other option keys are ignored. Types are drawn from ``game.prior``
    with ``self.np_random``, which ``reset(seed=s)`` reseeds and ``reset()`` continues.
    """

    metadata = subgame_metadata("subgame_v0")

    def __init__(
        self, game: EconomicGame, *, max_cycles: int | None = None, render_mode: str | None = None
    ):
        super().__init__()
        self.layout = SubgameLayout(game)
        self.game = game
        self.max_cycles = check_max_cycles(max_cycles)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"])
        if self.metadata["is_parallelizable"]:
            # ``aec_to_parallel`` steps the agents in the order of ``agents``: list them in
            # the order of play.
            self.possible_agents = [*self.layout.followers, LEADER]
        else:
            self.possible_agents = list(self.layout.possible_agents)
        self.observation_spaces = self.layout.observation_spaces
        self.action_spaces = self.layout.action_spaces
        self.state_space = self.layout.state_space
        self.np_random, self._np_random_seed = seeding.np_random(None)
        self._n = self.layout.n_followers
        self._followers = self.layout.followers
        # An ended, empty episode until the first reset.
        self.agents = []
        self.rewards, self._cumulative_rewards = {}, {}
        self.terminations, self.truncations, self.infos = {}, {}, {}
        self.agent_selection = LEADER
        self._begin(np.zeros(self._n, dtype=np.int64))
        self._turn = self._n + 1
        self._started = False  # whether reset() was called: step's messages differ

    def observation_space(self, agent: str) -> gymnasium.Space:
        """The ``Dict`` observation space of ``agent`` (the same object on every call)."""
        try:
            return self.observation_spaces[agent]
        except (KeyError, TypeError):
            self.layout.check_agent(agent)
            raise

    def action_space(self, agent: str) -> gymnasium.Space:
        """The action space of ``agent`` (the same object on every call)."""
        try:
            return self.action_spaces[agent]
        except (KeyError, TypeError):
            self.layout.check_agent(agent)
            raise

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new sub-game: draw types (or take ``options["types"]``), followers to act.

        Args:
            seed: Reseeds ``self.np_random`` when given.
            options: ``{"types": [...]}`` fixes the type profile; other keys are ignored.
        """
        if seed is not None:
            self.np_random, self._np_random_seed = seeding.np_random(seed)
        if options is not None and "types" in options:
            types = self.layout.check_types(options["types"])
        else:
            types = self.layout.sample_types(self.np_random)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {agent: {} for agent in self.agents}
        self._skip_agent_selection = None
        self._started = True
        self._begin(types)
        self.agent_selection = self._followers[0]
        if self.render_mode == "human":
            self.render()

    def _begin(self, types: np.ndarray) -> None:
        self._types = types
        self._follower_actions = np.full(self._n, -1, dtype=np.int64)
        self._turn = 0
        self._sub_state = None
        self._leader_observation = self.game.initial_leader_observation()
        self._leader_mask = None
        self._leader_actions: list[Any] = []
        self._outcome: Outcome | None = None
        self._truncated = False

    def step(self, action: Any) -> None:
        """Apply the selected agent's action (``None`` for an agent that is done).

        Raises:
            TypeError: If the action has the wrong kind.
            ValueError: If it is outside the agent's space or masked out, if a done agent
                gets anything but ``None``, if no agent is left (call ``reset()``), or
                before the first ``reset()``.
        """
        if not self.agents:
            if not self._started:
                raise ValueError(f"step({action!r}) called before reset(); call reset() first")
            raise ValueError(
                f"step({action!r}) called after the sub-game ended and every agent left; "
                f"call reset()"
            )
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None:
                raise ValueError(
                    f"{agent} is done (terminated or truncated); its only valid action is "
                    f"None, got {action!r}"
                )
            self._was_dead_step(action)
            return
        if action is None:
            raise ValueError(f"{agent} is live and must act; got action None")
        self._cumulative_rewards[agent] = 0.0
        turn = self._turn
        if turn < self._n:
            self._follower_actions[turn] = self.layout.check_follower_action(turn, action)
            self._turn = turn = turn + 1
            if turn < self._n:
                self.agent_selection = self._followers[turn]
            else:
                self._sub_state = self.game.start(self._types.copy(), self._follower_actions.copy())
                self._advance()
        else:
            action = self.layout.check_leader_action(action, self._leader_mask)
            self._sub_state = self.game.leader_step(self._sub_state, action)
            self._leader_actions.append(action)
            self._advance()
        if self.render_mode == "human":
            self.render()

    def _advance(self) -> None:
        """After the followers' moves or a leader turn: end, truncate, or give the leader a turn."""
        state = self._sub_state
        if self.game.is_over(state):
            self._finish(self.game.outcome(state))
        elif self.max_cycles is not None and len(self._leader_actions) >= self.max_cycles:
            self._truncated = True
            self._turn = self._n + 1
            for agent in self.agents:
                self.truncations[agent] = True
            self.agent_selection = self.agents[0]
        else:
            self._turn = self._n
            self._leader_observation = self.game.leader_observation(state)
            self._leader_mask = self.layout.check_leader_mask(self.game.leader_action_mask(state))
            self.agent_selection = LEADER

    def _finish(self, outcome: Outcome) -> None:
        followers = np.asarray(outcome.followers, dtype=np.float64)
        if followers.shape != (self._n,):
            raise ValueError(
                f"game.outcome must give {self._n} follower utilities, got {outcome.followers!r}"
            )
        self._outcome = outcome
        self._turn = self._n + 1
        rewards = self.rewards
        rewards[LEADER] = float(outcome.leader)
        for i, agent in enumerate(self._followers):
            rewards[agent] = float(followers[i])
        for agent in self.agents:
            self.terminations[agent] = True
        self._accumulate_rewards()
        self.agent_selection = self.agents[0]

    def observe(self, agent: str) -> dict[str, Any]:
        """``agent``'s observation: a follower's type; the leader's game observation and mask.

        Before its first turn the leader sees ``game.initial_leader_observation()``; after
        the sub-game it keeps seeing the observation of its last turn.
        """
        if agent == LEADER:
            return self.layout.leader_observation(self._leader_observation, self._leader_mask)
        try:
            index = self.layout.follower_index[agent]
        except (KeyError, TypeError):
            self.layout.check_agent(agent)
            raise
        return self.layout.follower_observation(index, self._types[index])

    def state(self) -> np.ndarray:
        """Flat float32 critic state (types, follower actions so far, leader observation, turn)."""
        return self.layout.state_vector(
            self._types, self._follower_actions, self._leader_observation, self._turn
        )

    @property
    def outcome(self) -> Outcome | None:
        """The ended sub-game's :class:`Outcome` (``None`` while it runs or if truncated)."""
        return self._outcome

    def render(self) -> str | None:
        """The sub-game table (``ansi``), printed (``human``), or ``None`` with a warning."""
        if self._turn < self._n:
            status = f"{self._followers[self._turn]} to act"
        elif self._turn == self._n:
            status = f"{LEADER} to act (turn {len(self._leader_actions) + 1})"
        else:
            status = "truncated" if self._truncated else "over"
        return render_subgame(self, status)

    def close(self) -> None:
        """Nothing to release."""
