"""What both PettingZoo drivers of a sub-game share (:mod:`.aec`, :mod:`.parallel`).

Agent names, a setting's ``metadata``, the :class:`SubgameLayout` (agents, spaces and
encoders of one game), the constructor argument checks and the rendered sub-game table.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

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


def check_max_cycles(max_cycles: Any) -> int | None:
    """``max_cycles`` as a positive ``int``, or ``None`` (errors name the value)."""
    if max_cycles is None:
        return None
    if isinstance(max_cycles, bool) or not isinstance(max_cycles, int | np.integer):
        raise TypeError(f"max_cycles must be a positive int or None, got {max_cycles!r}")
    if max_cycles < 1:
        raise ValueError(f"max_cycles must be a positive int or None, got {max_cycles!r}")
    return int(max_cycles)


def check_render_mode(render_mode: Any, modes: list[str]) -> str | None:
    """``render_mode`` if it is ``None`` or one of ``modes`` (``ValueError`` otherwise)."""
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be None or one of {modes}, got {render_mode!r}")
    return render_mode


def _check_game(game: Any) -> int:
    """The number of followers of ``game``, after checking it can be laid out."""
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
            raise TypeError(f"game.{name} must be a gymnasium Space, got {getattr(game, name)!r}")
    return n


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
        n = _check_game(game)
        self.game = game
        self.n_followers = n
        self.n_types = tuple(int(t) for t in game.n_types)
        self.n_follower_actions = tuple(int(a) for a in game.n_follower_actions)
        self.followers = [follower_name(i) for i in range(n)]
        self.possible_agents = [LEADER, *self.followers]
        self.follower_index = {agent: i for i, agent in enumerate(self.followers)}

        self._build_agent_spaces(game.leader_action_space)
        self._build_type_sampler()
        self._build_state_space()

    def _build_agent_spaces(self, leader_action_space: gymnasium.Space) -> None:
        """Every agent's observation and action space, action check and mask."""
        game = self.game
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

    def _build_type_sampler(self) -> None:
        """The prior's CDF and profiles, for drawing types without re-validating the prior."""
        game = self.game
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

    def _build_state_space(self) -> None:
        """The critic state's ``Dict`` of parts and its flat ``Box``."""
        game, n = self.game, self.n_followers
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


def render_subgame(env: Any, status: str) -> str | None:
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
