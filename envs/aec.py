"""PettingZoo drivers for any economic game: one episode is one sub-game.

Both drivers wrap a :class:`~stackelberg_zoo.envs.core.EconomicGame`.

:class:`SubgameEnv` (an ``AECEnv``) plays the sub-game turn by turn:

1. ``reset(seed=)`` draws a type profile from ``game.prior`` with the env's own generator
   ``self.np_random`` (reseeded only when a seed is given);
2. ``follower_0``, ``follower_1``, ... act in index order, each observing only its own type;
3. ``leader_0`` then acts on ``game.leader_observation(state)`` until ``game.is_over(state)``;
4. every agent's reward is its utility in ``game.outcome(state)``; all agents terminate.

:class:`SimultaneousSubgameEnv` (a ``ParallelEnv``) plays the same sub-game in one step, for
games where that is honest: the leader moves exactly once, without a mask, and its
observation does not depend on the followers (``game.initial_leader_observation()``).

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
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.env_logger import EnvLogger
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.core import EconomicGame, Outcome
from stackelberg_zoo.envs.spaces import copy_element
from stackelberg_zoo.envs.validation import ActionCheck

LEADER = "leader_0"
"""The leader's agent name."""

RENDER_MODES = ("ansi", "human")
"""Render modes every driver supports: ``ansi`` returns the sub-game table, ``human`` prints it."""


def follower_name(index: int) -> str:
    """Agent name of follower ``index``."""
    return f"follower_{index}"


def subgame_metadata(name: str, *, is_parallelizable: bool = False) -> dict[str, Any]:
    """The ``metadata`` dict of a setting's environment.

    Args:
        name: Versioned name, ``"<setting>_v<N>"`` (bump ``N`` on any change of dynamics,
            spaces or rewards).
        is_parallelizable: Whether the sub-game is genuinely simultaneous (the leader's
            observation does not depend on the followers' actions).

    Raises:
        ValueError: If ``name`` does not end in ``_v<N>``.
    """
    stem, _, version = name.rpartition("_v")
    if not stem or not version.isdigit():
        raise ValueError(f"metadata name must look like '<setting>_v<N>', got {name!r}")
    return {
        "name": name,
        "render_modes": list(RENDER_MODES),
        "is_parallelizable": bool(is_parallelizable),
        "render_fps": 1,
    }


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


def _check_max_cycles(max_cycles: Any) -> int | None:
    if max_cycles is None:
        return None
    if isinstance(max_cycles, bool) or not isinstance(max_cycles, int | np.integer):
        raise TypeError(f"max_cycles must be a positive int or None, got {max_cycles!r}")
    if max_cycles < 1:
        raise ValueError(f"max_cycles must be a positive int or None, got {max_cycles!r}")
    return int(max_cycles)


def _check_render_mode(render_mode: Any, modes: list[str]) -> str | None:
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be None or one of {modes}, got {render_mode!r}")
    return render_mode


class SubgameLayout:
    """Agents, spaces and encoders of one game, shared by the AEC and the parallel driver.

    Args:
        game: The setting's game logic.

    Raises:
        TypeError: If ``game`` is not an :class:`EconomicGame` or its spaces are not
            Gymnasium spaces.
        ValueError: If the game has no follower or its attributes disagree in length.

    Attributes:
        game: The game.
        n_followers: Number of followers.
        possible_agents: ``["leader_0", "follower_0", ...]``.
        observation_spaces: Agent name -> ``Dict`` observation space.
        action_spaces: Agent name -> action space.
        state_dict_space: ``Dict`` of the critic state's parts (``follower_actions``,
            ``leader_observation``, ``turn``, ``types``); :meth:`state_vector` flattens it.
        state_space: Flat float32 ``Box`` of :meth:`state_vector`.
    """

    def __init__(self, game: EconomicGame):
        if not isinstance(game, EconomicGame):
            raise TypeError(f"game must be an EconomicGame, got {game!r}")
        n = game.n_followers
        if n < 1:
            raise ValueError(f"a game needs at least one follower, got n_types={game.n_types}")
        if len(game.n_follower_actions) != n:
            raise ValueError(
                f"n_types {game.n_types} and n_follower_actions {game.n_follower_actions} "
                f"must have one entry per follower"
            )
        for name in ("leader_observation_space", "leader_action_space"):
            if not isinstance(getattr(game, name), gymnasium.Space):
                raise TypeError(
                    f"game.{name} must be a gymnasium Space, got {getattr(game, name)!r}"
                )
        self.game = game
        self.n_followers = n
        self.n_types = tuple(int(t) for t in game.n_types)
        self.n_follower_actions = tuple(int(a) for a in game.n_follower_actions)
        self.followers = [follower_name(i) for i in range(n)]
        self.possible_agents = [LEADER, *self.followers]
        self.follower_index = {agent: i for i, agent in enumerate(self.followers)}

        leader_action_space = game.leader_action_space
        self.leader_discrete = isinstance(leader_action_space, gymnasium.spaces.Discrete)
        self.leader_box = isinstance(leader_action_space, gymnasium.spaces.Box)
        self._leader_bounds = None
        if (
            self.leader_box
            and leader_action_space.low.size <= 64
            and np.isfinite(leader_action_space.low).all()
            and np.isfinite(leader_action_space.high).all()
        ):
            self._leader_bounds = (
                leader_action_space.low.astype(np.float64).ravel().tolist(),
                leader_action_space.high.astype(np.float64).ravel().tolist(),
            )
        leader_obs = {"observation": game.leader_observation_space}
        if self.leader_discrete:
            leader_obs["action_mask"] = self._mask_space(leader_action_space.n)
        self.observation_spaces: dict[str, gymnasium.Space] = {
            LEADER: gymnasium.spaces.Dict(leader_obs)
        }
        self.action_spaces: dict[str, gymnasium.Space] = {LEADER: leader_action_space}
        for i, agent in enumerate(self.followers):
            self.observation_spaces[agent] = gymnasium.spaces.Dict(
                {
                    "observation": gymnasium.spaces.Box(
                        0.0, 1.0, (self.n_types[i],), dtype=np.float32
                    ),
                    "action_mask": self._mask_space(self.n_follower_actions[i]),
                }
            )
            self.action_spaces[agent] = gymnasium.spaces.Discrete(self.n_follower_actions[i])

        # The one action check of every driver (kind, shape, finiteness, range).
        self._leader_check = ActionCheck(leader_action_space, LEADER).check
        self._action_checks = [
            ActionCheck(self.action_spaces[agent], agent).check for agent in self.followers
        ]
        self._type_one_hots = [np.eye(t, dtype=np.float32) for t in self.n_types]
        self._follower_masks = [np.ones(a, dtype=np.int8) for a in self.n_follower_actions]
        self.all_legal_leader_mask = (
            np.ones(leader_action_space.n, dtype=np.int8) if self.leader_discrete else None
        )
        # Type sampling: the same stream as ``EconomicGame.sample_types`` (which calls
        # ``rng.choice(size, p=prior)``, i.e. one ``rng.random()`` against the prior's CDF),
        # without re-validating the prior at every reset. Games that override
        # ``sample_types`` are called instead.
        self._own_sampler = type(game).sample_types is EconomicGame.sample_types
        if self._own_sampler:
            prior = np.asarray(game.prior, dtype=np.float64)
            if prior.shape != self.n_types:
                raise ValueError(
                    f"game.prior must have shape n_types={self.n_types}, got {prior.shape}"
                )
            cdf = prior.ravel().cumsum()
            if not cdf[-1] > 0:
                raise ValueError(f"game.prior must have positive mass, got total {cdf[-1]}")
            self._cdf = cdf / cdf[-1]
            self._profiles = np.stack(
                np.unravel_index(np.arange(prior.size), self.n_types), axis=1
            ).astype(np.int64)

        self.state_dict_space = gymnasium.spaces.Dict(
            {
                "types": gymnasium.spaces.MultiDiscrete(self.n_types),
                "follower_actions": gymnasium.spaces.MultiDiscrete(
                    [a + 1 for a in self.n_follower_actions]
                ),
                "leader_observation": game.leader_observation_space,
                "turn": gymnasium.spaces.Discrete(n + 2),
            }
        )
        flat = gymnasium.spaces.flatten_space(self.state_dict_space)
        self.state_space = gymnasium.spaces.Box(
            flat.low.astype(np.float32), flat.high.astype(np.float32), dtype=np.float32
        )

    @staticmethod
    def _mask_space(n: int) -> gymnasium.spaces.Box:
        return gymnasium.spaces.Box(0, 1, (n,), dtype=np.int8)

    def check_agent(self, agent: Any) -> None:
        """Raise ``ValueError`` naming ``agent`` if it is not one of ``possible_agents``."""
        try:
            known = agent in self.observation_spaces
        except TypeError:  # unhashable
            known = False
        if not known:
            raise ValueError(f"unknown agent {agent!r}; agents are {self.possible_agents}")

    def sample_types(self, rng: np.random.Generator) -> np.ndarray:
        """Draw a type profile ``[n_followers]`` (int64), the same stream as the game's."""
        if not self._own_sampler:
            return np.asarray(self.game.sample_types(rng), dtype=np.int64)
        flat = int(self._cdf.searchsorted(rng.random(), side="right"))
        return self._profiles[flat].copy()

    def check_types(self, types: Any) -> np.ndarray:
        """Validate a type profile given in ``reset(options={"types": ...})``."""
        array = np.asarray(types)
        if (
            array.shape != (self.n_followers,)
            or not np.issubdtype(array.dtype, np.integer)
            or np.any(array < 0)
            or np.any(array >= np.asarray(self.n_types))
        ):
            raise ValueError(
                f"types must be {self.n_followers} integers below n_types={self.n_types}, "
                f"got {types!r}"
            )
        return array.astype(np.int64)

    def follower_observation(self, index: int, type_index: int) -> dict[str, np.ndarray]:
        """Observation of follower ``index`` with type ``type_index``."""
        return {
            "observation": self._type_one_hots[index][type_index].copy(),
            "action_mask": self._follower_masks[index].copy(),
        }

    def leader_observation(self, observation: Any, mask: np.ndarray | None) -> dict[str, Any]:
        """The leader's ``Dict`` observation from its game observation and action mask."""
        result = {"observation": copy_element(observation)}
        if self.leader_discrete:
            result["action_mask"] = (self.all_legal_leader_mask if mask is None else mask).copy()
        return result

    def check_leader_mask(self, mask: Any) -> np.ndarray | None:
        """Validate the game's leader mask (``None`` = all legal) as an ``np.int8`` array.

        Raises:
            ValueError: If the game returns a mask for a non-``Discrete`` action space, a
                mask of the wrong shape or values, or one that allows no action.
        """
        if mask is None:
            return None
        if not self.leader_discrete:
            raise ValueError(
                f"the game returned a leader action mask {mask!r}, but masks are only "
                f"supported for Discrete action spaces, not {self.game.leader_action_space}"
            )
        mask = np.asarray(mask)
        if mask.dtype != np.int8:
            mask = mask.astype(np.int8)
        if mask.shape != self.all_legal_leader_mask.shape or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(
                f"the game's leader action mask must be 0/1 of shape "
                f"{self.all_legal_leader_mask.shape}, got {mask!r}"
            )
        if not mask.any():
            raise ValueError("the game's leader action mask allows no action")
        return mask

    def check_follower_action(self, index: int, action: Any) -> int:
        """Validate follower ``index``'s action; return it as an ``int``.

        Raises:
            TypeError: If it is not an integer.
            ValueError: If it is out of range.
        """
        return self._action_checks[index](action)

    def check_leader_action(self, action: Any, mask: np.ndarray | None) -> Any:
        """Validate a leader action against its space and mask; return it as the game takes it.

        ``Discrete`` actions come back as ``int``; ``Box`` actions as arrays of the space's
        dtype (any real array of the right shape, finite and within the bounds, is accepted,
        e.g. float64 for a float32 space); other spaces are checked with ``contains``.

        Raises:
            TypeError: If the action has the wrong kind.
            ValueError: If it is outside the space or masked out.
        """
        space = self.game.leader_action_space
        action = self._leader_check(action)  # kind, shape, finiteness, range (up to slack)
        if self.leader_discrete:
            if mask is not None and not mask[action - space.start]:
                legal = (np.flatnonzero(mask) + space.start).tolist()
                raise ValueError(
                    f"{LEADER}'s action {action!r} is masked out; legal actions are {legal}"
                )
            return action
        if self.leader_box:
            array = np.asarray(action, dtype=np.float64)
            if not self._in_leader_box(array):
                raise ValueError(f"{LEADER}'s action must be in {space}, got {action!r}")
            return array.astype(space.dtype)
        return action

    def _in_leader_box(self, array: np.ndarray) -> bool:
        """Whether a correctly shaped float64 array is finite and within the leader's Box."""
        if self._leader_bounds is not None:  # small box: plain floats beat numpy's overhead
            low, high = self._leader_bounds
            values = array.ravel().tolist()
            # NaN fails every comparison; finite bounds exclude the infinities.
            return all(lo <= v <= hi for lo, v, hi in zip(low, values, high, strict=True))
        space = self.game.leader_action_space
        return bool(
            np.isfinite(array).all() and (array >= space.low).all() and (array <= space.high).all()
        )

    def state_vector(
        self, types: np.ndarray, follower_actions: np.ndarray, leader_observation: Any, turn: int
    ) -> np.ndarray:
        """The flat float32 critic state.

        Args:
            types: ``[n_followers]`` type profile.
            follower_actions: ``[n_followers]`` actions so far, ``-1`` for not yet taken.
            leader_observation: The leader's current game observation.
            turn: ``i < n`` follower ``i`` to act, ``n`` the leader, ``n + 1`` sub-game over.
        """
        flat = gymnasium.spaces.flatten(
            self.state_dict_space,
            {
                "types": types,
                "follower_actions": follower_actions + 1,
                "leader_observation": leader_observation,
                "turn": turn,
            },
        )
        return flat.astype(np.float32)

    def table(
        self,
        title: str,
        types: np.ndarray,
        follower_actions: np.ndarray,
        leader_actions: list[Any],
        outcome: Outcome | None,
        extra: str,
    ) -> str:
        """A plain-text table of a sub-game: types, actions and utilities per agent."""

        def fmt(value: Any) -> str:
            if isinstance(value, np.ndarray):
                return np.array2string(value, precision=3, suppress_small=True, separator=",")
            if isinstance(value, float | np.floating):
                return f"{value:.3f}"
            return str(value)

        rows = [("agent", "type", "action", "utility")]
        for i, agent in enumerate(self.followers):
            action = "-" if follower_actions[i] < 0 else str(follower_actions[i])
            utility = "-" if outcome is None else f"{float(outcome.followers[i]):.4f}"
            rows.append((agent, str(types[i]), action, utility))
        leader_action = "-" if not leader_actions else " ; ".join(fmt(a) for a in leader_actions)
        utility = "-" if outcome is None else f"{float(outcome.leader):.4f}"
        rows.append((LEADER, "-", leader_action, utility))
        widths = [max(len(row[k]) for row in rows) for k in range(4)]
        lines = [title]
        lines += [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        if extra:
            lines.append(extra.rstrip("\n"))
        return "\n".join(lines)


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
        self.max_cycles = _check_max_cycles(max_cycles)
        self.render_mode = _check_render_mode(render_mode, self.metadata["render_modes"])
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
        return _render_subgame(self, status)

    def close(self) -> None:
        """Nothing to release."""


def _render_subgame(env: SubgameEnv | SimultaneousSubgameEnv, status: str) -> str | None:
    """Render either driver's sub-game table in its ``render_mode`` (see their ``render``)."""
    if env.render_mode is None:
        gymnasium.logger.warn(
            "render() called without a render_mode; pass render_mode='ansi' or 'human'"
        )
        return None
    text = env.layout.table(
        f"{env.metadata['name']}: sub-game {status}",
        env._types,
        env._follower_actions,
        env._leader_actions,
        env._outcome,
        "" if env._sub_state is None else env.game.describe(env._sub_state),
    )
    if env.render_mode == "human":
        print(text)
        return None
    return text


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
        self.max_cycles = _check_max_cycles(max_cycles)
        self.render_mode = _check_render_mode(render_mode, self.metadata["render_modes"])
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
        if not _same_element(observed, self._initial_leader_observation):
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
        return _render_subgame(self, "over" if self._outcome is not None else "everyone to act")

    def close(self) -> None:
        """Nothing to release."""


def _same_element(a: Any, b: Any) -> bool:
    """Exact equality of two space elements (arrays, numbers, dicts, tuples)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_element(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same_element(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
