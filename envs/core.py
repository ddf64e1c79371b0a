"""The contract every setting's game logic follows, and what can be derived from it alone.

A *setting* (normal-form commitment, matrix design, allocation with messages, sequential
price mechanisms) is one :class:`EconomicGame`: a plain class with no PettingZoo import that
knows the followers' types and prior, and how one *sub-game* unfolds:

1. a type profile ``θ`` is drawn from ``prior`` (one type per follower);
2. every follower picks an action (a message, a move) knowing only its own type;
3. the leader takes one or more turns, each on :meth:`EconomicGame.leader_observation`,
   until :meth:`EconomicGame.is_over`;
4. :meth:`EconomicGame.outcome` gives everyone's utility.

The PettingZoo drivers (the multi-agent game and the Stackelberg POMDP) are written once
against this contract. The functions below derive, for any setting and any leader policy,
the followers' *induced Bayesian game* and the leader's value, by exhaustive play.

A *leader policy* is any callable from a leader observation to a leader action. It must be
deterministic for the exact functions here (a committed policy, as the Stackelberg POMDP
requires).
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium
import numpy as np

from stackelberg_zoo.equilibrium.games import BayesianGame

LeaderPolicy = Callable[[Any], Any]
"""A leader policy: leader observation -> leader action."""


@dataclass(frozen=True)
class Outcome:
    """Utilities at the end of one sub-game.

    Attributes:
        leader: The leader's utility (its reward in the Stackelberg POMDP).
        followers: ``[n_followers]`` follower utilities.
    """

    leader: float
    followers: np.ndarray


@dataclass(frozen=True)
class Reference:
    """A setting's exact reference values, computed by a solver, never typed in.

    Attributes:
        optimum: The best leader value when followers respond as the setting's follower
            model prescribes (stated in ``follower_model``).
        optimal_policy: A leader policy that attains ``optimum`` (a callable, or the
            setting's own description of a mechanism, e.g. a mixed strategy array).
        follower_model: How followers respond in this computation, ties included.
        baselines: Other named values worth comparing against (e.g. the best message-free
            mechanism, the no-payment outcome).
        details: Anything else the solver found (e.g. the followers' response).
    """

    optimum: float
    optimal_policy: Any
    follower_model: str
    baselines: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class EconomicGame(abc.ABC):
    """One sub-game of a Stackelberg economic-design setting, as plain logic.

    Subclasses set these attributes in ``__init__``:

    Attributes:
        n_types: Number of types of each follower.
        n_follower_actions: Number of actions of each follower.
        prior: ``[T_1, ..., T_n]`` joint type distribution (may be correlated).
        leader_observation_space: Gymnasium space of the leader's base-game observation.
        leader_action_space: Gymnasium space of the leader's action.
    """

    n_types: tuple[int, ...]
    n_follower_actions: tuple[int, ...]
    prior: np.ndarray
    leader_observation_space: gymnasium.Space
    leader_action_space: gymnasium.Space

    pure_single_turn: ClassVar[bool] = False
    """A setting's promise that lets the Stackelberg POMDP memoise its sub-games.

    Set it to ``True`` only if (1) every sub-game gives the leader exactly one turn;
    (2) :meth:`start`, :meth:`leader_observation`, :meth:`leader_step`, :meth:`is_over` and
    :meth:`outcome` are pure functions of their arguments (no hidden state, no randomness),
    and nobody mutates the states and outcomes they return; (3) :meth:`leader_step` depends on
    the action only through its value as an element of the action space (the ``int`` of a
    ``Discrete`` action, the array of an array space's dtype). The POMDP then plays each
    (types, follower actions) profile through the game once per committed policy (see
    :mod:`stackelberg_zoo.envs.pomdp.episode`). Default ``False``: every sub-game is played.
    """

    @property
    def n_followers(self) -> int:
        """Number of followers."""
        return len(self.n_types)

    def sample_types(self, rng: np.random.Generator) -> np.ndarray:
        """Draw a type profile ``[n_followers]`` (int64) from the joint prior."""
        flat = rng.choice(self.prior.size, p=self.prior.ravel())
        return np.array(np.unravel_index(flat, self.prior.shape), dtype=np.int64)

    @abc.abstractmethod
    def start(self, types: np.ndarray, follower_actions: np.ndarray) -> Any:
        """Begin a sub-game once every follower has acted; return its state.

        Raises:
            ValueError: If a type or an action is out of range.
        """

    @abc.abstractmethod
    def leader_observation(self, state: Any) -> Any:
        """The leader's observation at its next turn (an element of its observation space)."""

    @abc.abstractmethod
    def leader_step(self, state: Any, action: Any) -> Any:
        """Apply one leader action; return the new state.

        Raises:
            ValueError: If the action is not in the leader's action space or not allowed.
        """

    @abc.abstractmethod
    def is_over(self, state: Any) -> bool:
        """Whether the sub-game has ended."""

    @abc.abstractmethod
    def outcome(self, state: Any) -> Outcome:
        """Utilities of an ended sub-game."""

    def leader_action_mask(self, state: Any) -> np.ndarray | None:
        """``np.int8`` mask of the leader's legal actions, or ``None`` if all are legal."""
        return None

    def initial_leader_observation(self) -> Any:
        """What the leader observes before every follower has acted (no sub-game state yet).

        The drivers show it to the leader outside its turns at the start of a sub-game.
        Default: a blank element of ``leader_observation_space`` (zeros, clipped into the
        bounds; the first value of discrete spaces). Settings whose leader observation does
        not depend on the followers (e.g. a constant one) should return it here.
        """
        return blank_element(self.leader_observation_space)

    def describe(self, state: Any) -> str:
        """Extra human-readable lines about a started sub-game, for ``ansi`` rendering.

        The drivers already print types, follower actions, leader actions and utilities;
        override this to add what only the setting can name (e.g. prices, allocations).
        Default: nothing.
        """
        return ""

    @abc.abstractmethod
    def reference(self) -> Reference:
        """The setting's exact reference values (see :class:`Reference`)."""

    # -- optional hooks of the Stackelberg POMDP ---------------------------------------------

    def follower_initial_values(self) -> tuple[np.ndarray, ...] | None:
        """Per follower ``[T_i, A_i]``: the per-sub-game value a value-based learner starts from.

        Value-based follower models (tabular Q-learning) initialise each action's value from
        it (Q-learning divides it by ``1 - delta``). Default ``None``: the setting prescribes
        nothing and such learners start at 0.
        """
        return None

    def follower_utility_bounds(self) -> tuple[float, float] | None:
        """``(low, high)`` with ``low < high``: an interval holding every follower utility.

        Follower models that need known utility bounds (EXP3, which rescales its rewards to
        ``[0, 1]`` and rejects rewards outside the bounds) take them from here. Default
        ``None``: the setting's follower utilities lie in the normalised ``[0, 1]``, which
        such models then assume. Settings whose utilities can leave ``[0, 1]`` return
        ``[0, 1]`` widened just enough to cover them, so that wherever they stay inside it
        the bounds in force remain ``(0.0, 1.0)``.
        """
        return None

    def reward_phase_value(self, follower_actions: np.ndarray, leader: np.ndarray) -> float:
        """The leader's return of a reward phase, from its sub-games in order.

        Override it only if the setting's leader value is not the average utility over the
        reward phase: the Stackelberg POMDP then pays 0 for every reward sub-game but the
        last, and this value at the last. Not overridden (the default), the POMDP pays each
        sub-game's utility divided by ``n_reward`` as it ends, which sums to the average.
        ``follower_actions`` (``int64[n_reward, n]``) are the followers' actions in each
        sub-game, ``leader`` (``[n_reward]``) the leader's utility in each.
        """
        return float(np.mean(leader))

    # -- what trainers print and save about a learned mechanism ------------------------------

    @property
    def value_meaning(self) -> str:
        """What the leader value (the POMDP's reward, ``reference().optimum``) measures."""
        return "the leader's expected utility per sub-game"

    def observation_fields(self, observation: Any) -> dict[str, Any]:
        """A leader observation as named, JSON-ready fields (for a saved mechanism).

        Default: ``{"observation": <the observation as a list>}``.
        """
        return {"observation": np.asarray(observation).tolist()}

    def describe_mechanism(self, mechanism: Sequence[tuple[Any, Any]]) -> list[str]:
        """Readable lines for a committed leader policy.

        Args:
            mechanism: ``(observation, action)`` pairs, one per observation the policy was
                asked about, in the order to print them.

        Default: one ``observation -> action`` line per pair.
        """
        return [f"{format_array(obs)} -> {format_array(action)}" for obs, action in mechanism]

    def learning_target(self, margin: float) -> Target:
        """The value a learned committed policy can be expected to reach.

        Default: the exact optimum, ``reference().optimum``. A setting whose optimum needs a
        leader-favourable tie (e.g. the normal form's mixed commitments) returns the best
        value whose follower response is strict by ``margin`` instead.
        """
        reference = self.reference()
        return Target(float(reference.optimum) + 0.0, reference.follower_model)


@dataclass(frozen=True)
class Target:
    """What a trainer's early stop aims at (see :meth:`EconomicGame.learning_target`).

    Attributes:
        value: The leader value to reach.
        meaning: One line saying what it is.
    """

    value: float
    meaning: str


def format_array(value: Any) -> str:
    """A number or an array as printed in mechanism descriptions (3 decimals)."""
    return np.array2string(np.asarray(value, dtype=np.float64), precision=3, suppress_small=True)


def blank_element(space: gymnasium.Space) -> Any:
    """A fixed, valid element of ``space``.

    Zeros clipped into ``Box`` bounds, the first value of discrete spaces, and the same
    recursively inside ``Dict`` and ``Tuple``.

    Raises:
        TypeError: For a space kind this function does not know.
    """
    if isinstance(space, gymnasium.spaces.Box):
        return np.array(np.clip(np.zeros(space.shape), space.low, space.high), dtype=space.dtype)
    if isinstance(space, gymnasium.spaces.Discrete):
        return space.dtype.type(space.start)
    if isinstance(space, gymnasium.spaces.MultiDiscrete):
        return np.array(space.start, dtype=space.dtype, copy=True)
    if isinstance(space, gymnasium.spaces.MultiBinary):
        return np.zeros(space.shape, dtype=space.dtype)
    if isinstance(space, gymnasium.spaces.Dict):
        return {key: blank_element(sub) for key, sub in space.spaces.items()}
    if isinstance(space, gymnasium.spaces.Tuple):
        return tuple(blank_element(sub) for sub in space.spaces)
    raise TypeError(f"no blank element defined for space {space!r}")


def aggregates_reward_phase(game: EconomicGame) -> bool:
    """Whether ``game`` overrides :meth:`EconomicGame.reward_phase_value` (pays at the end)."""
    return type(game).reward_phase_value is not EconomicGame.reward_phase_value


def play(game: EconomicGame, types, follower_actions, leader_policy: LeaderPolicy) -> Outcome:
    """Play one sub-game with fixed types and follower actions, the leader acting by policy."""
    state = game.start(np.asarray(types), np.asarray(follower_actions))
    while not game.is_over(state):
        state = game.leader_step(state, leader_policy(game.leader_observation(state)))
    return game.outcome(state)


@dataclass(frozen=True)
class InducedGame:
    """The followers' Bayesian game once the leader's policy is fixed.

    Attributes:
        followers: The followers' :class:`BayesianGame` (payoffs and prior).
        leader_payoffs: ``[T_1..T_n, A_1..A_n]`` leader utility at each types/actions profile.
    """

    followers: BayesianGame
    leader_payoffs: np.ndarray


def induced_bayesian_game(game: EconomicGame, leader_policy: LeaderPolicy) -> InducedGame:
    """Enumerate every type and follower-action profile and play it against ``leader_policy``.

    The policy must be deterministic. Cost: ``Π T_i · Π A_i`` sub-games.
    """
    n = game.n_followers
    follower_payoffs = np.zeros((n,) + game.n_types + game.n_follower_actions)
    leader_payoffs = np.zeros(game.n_types + game.n_follower_actions)
    for types in itertools.product(*(range(t) for t in game.n_types)):
        for actions in itertools.product(*(range(a) for a in game.n_follower_actions)):
            result = play(game, types, actions, leader_policy)
            follower_payoffs[(slice(None),) + types + actions] = result.followers
            leader_payoffs[types + actions] = result.leader
    return InducedGame(BayesianGame(follower_payoffs, game.prior), leader_payoffs)


def leader_value(induced: InducedGame, follower_strategies: list[np.ndarray]) -> float:
    """Expected leader utility when followers play independent type-contingent strategies.

    Args:
        induced: The induced game of the leader's policy.
        follower_strategies: One ``[T_i, A_i]`` row-stochastic array per follower.
    """
    n = induced.followers.n_players
    if len(follower_strategies) != n:
        raise ValueError(f"need one strategy per follower ({n}), got {len(follower_strategies)}")
    joint = induced.followers.prior
    for i, sigma in enumerate(follower_strategies):
        sigma = np.asarray(sigma, dtype=np.float64)
        expected = (induced.followers.n_types[i], induced.followers.n_actions[i])
        if sigma.shape != expected:
            raise ValueError(
                f"strategy of follower {i} must have shape {expected}, got {sigma.shape}"
            )
        # Broadcast σ_i(a_i | θ_i) onto [T_1..T_n, A_1..A_i].
        shape = [1] * (n + i + 1)
        shape[i] = sigma.shape[0]
        shape[n + i] = sigma.shape[1]
        joint = joint[..., np.newaxis] * sigma.reshape(shape)
    return float(np.sum(joint * induced.leader_payoffs))
