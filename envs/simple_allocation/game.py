"""Simple allocation with messages, as plain game logic.

One follower has a private type ``θ ∈ {0, ..., n_types - 1}`` drawn from a prior (uniform by
default) and sends one of ``n_messages`` messages. The leader sees only the message and
allocates one of ``n_types`` items. Both get 1 if the item matches the type, else 0:

* follower: ``u(θ, item) = 1[item = θ]``;
* leader: the same indicator (the allocation's welfare).

A leader policy is a *message map* ``f: message -> item``. With ``k`` messages the leader can
serve at most ``k`` types, so against a best-responding follower the optimum is the prior mass
of the ``min(k, n_types)`` most likely types (``min(k, n_types) / n_types`` for a uniform prior;
research fixture F18).
"""

from __future__ import annotations

import itertools
import numbers
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from stackelberg_zoo.envs.core import EconomicGame, Outcome, Reference
from stackelberg_zoo.equilibrium.games import check_distribution

DEFAULT_N_TYPES = 3
"""Types of the follower (and items), as in the reference code."""

DEFAULT_N_MESSAGES = 3
"""Messages of the follower; the archived ablation runs at 3 (the optimum is then 1)."""

MAX_ENUMERATED_MAPS = 100_000
"""Above this many message maps (``n_types ** n_messages``), :meth:`SimpleAllocation.reference`
uses the closed form (the most likely types) instead of enumerating every map."""

FOLLOWER_MODEL = (
    "the follower best-responds to the leader's committed message map: each type sends a "
    "message maximising its utility; ties are broken in the leader's favour, then toward the "
    "lowest message (the leader's reward equals the follower's utility here, so tie-breaking "
    "never changes the value)"
)


class AllocationState(NamedTuple):
    """The state of one sub-game.

    Attributes:
        type: The follower's type.
        message: The follower's message.
        item: The allocated item once the leader has acted, else ``None``.
    """

    type: int
    message: int
    item: int | None = None


@dataclass(frozen=True)
class MessageMap:
    """A simple-allocation leader policy: the item allocated for each message.

    Calling it on a leader observation (a message) returns the item.

    Attributes:
        items: ``items[m]`` is the item allocated when message ``m`` is received.
    """

    items: tuple[int, ...]

    def __call__(self, message) -> int:
        """The item for ``message``."""
        return self.items[int(message)]


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _check_index(name: str, value, size: int) -> int:
    try:
        index = operator.index(value)
    except TypeError as error:
        raise TypeError(f"{name} must be an integer, got {value!r}") from error
    if not 0 <= index < size:
        raise ValueError(f"{name} must be in [0, {size}), got {value!r}")
    return index


def _single(name: str, values) -> object:
    """The one entry of a length-1 profile (the follower's type or action)."""
    if isinstance(values, np.ndarray) and values.shape == (1,) and values.dtype.kind in "iu":
        return values.tolist()[0]  # fast path: a Python int
    try:
        (value,) = values
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must hold exactly one entry (one follower), got {values!r}"
        ) from error
    return value


class SimpleAllocation(EconomicGame):
    """One follower reports its type through ``n_messages`` messages; the leader allocates.

    Args:
        n_messages: Messages the follower can send (``k >= 1``).
        n_types: Types of the follower, and items the leader can allocate (``>= 1``).
        prior: ``[n_types]`` type distribution; uniform if ``None``.

    Raises:
        TypeError: If a count is not an integer.
        ValueError: If a count is below 1 or the prior is not a distribution over
            ``n_types`` types.

    Example:
        >>> game = SimpleAllocation(n_messages=2)
        >>> game.outcome(game.leader_step(game.start([2], [1]), 2)).leader
        1.0
        >>> round(game.reference().optimum, 4)
        0.6667
    """

    pure_single_turn = True  # one leader turn; pure, value-only logic (core docstring)

    def __init__(
        self,
        n_messages: int = DEFAULT_N_MESSAGES,
        n_types: int = DEFAULT_N_TYPES,
        prior=None,
    ):
        self.n_messages = _check_count("n_messages", n_messages)
        n_types = _check_count("n_types", n_types)
        if prior is None:
            prior = np.full(n_types, 1.0 / n_types)
        prior = np.array(check_distribution("prior", prior, (n_types,)), copy=True)
        prior.setflags(write=False)
        self.prior = prior
        self.n_types = (n_types,)
        self.n_follower_actions = (self.n_messages,)
        self.leader_observation_space = gymnasium.spaces.Discrete(self.n_messages)
        self.leader_action_space = gymnasium.spaces.Discrete(n_types)
        self._message_values = tuple(np.int64(m) for m in range(self.n_messages))
        # The two possible outcomes, shared (their follower arrays are read-only).
        self._outcomes = tuple(
            Outcome(leader=value, followers=_read_only_vector(value)) for value in (0.0, 1.0)
        )

    # -- one sub-game -------------------------------------------------------------------

    def start(self, types, follower_actions) -> AllocationState:
        """Begin a sub-game: the follower of type ``types[0]`` sent ``follower_actions[0]``.

        Raises:
            ValueError: If the type or message is out of range, or not exactly one is given.
            TypeError: If they are not integers.
        """
        return AllocationState(
            _check_index("type", _single("types", types), self.n_types[0]),
            _check_index("message", _single("follower_actions", follower_actions), self.n_messages),
        )

    def leader_observation(self, state: AllocationState) -> np.int64:
        """The follower's message (``np.int64``, the dtype of the ``Discrete`` space)."""
        return self._message_values[state.message]

    def leader_step(self, state: AllocationState, action) -> AllocationState:
        """Allocate item ``action``.

        Raises:
            ValueError: If the sub-game is over or the item is out of range.
            TypeError: If the item is not an integer.
        """
        if state.item is not None:
            raise ValueError(f"the sub-game is over (item {state.item} allocated)")
        item = _check_index("item", action, self.n_types[0])
        return AllocationState(state.type, state.message, item)

    def is_over(self, state: AllocationState) -> bool:
        """Whether the leader has allocated (one leader turn per sub-game)."""
        return state.item is not None

    def outcome(self, state: AllocationState) -> Outcome:
        """Both get 1 if the item is the follower's type, else 0.

        Raises:
            ValueError: If the leader has not acted yet.
        """
        if state.item is None:
            raise ValueError(
                f"the sub-game (type {state.type}, message {state.message}) has not ended"
            )
        return self._outcomes[state.item == state.type]

    def describe(self, state: AllocationState) -> str:
        """One line: type, message, item, and whether the item matched."""
        if state.item is None:
            return f"type {state.type} sent message {state.message}"
        verdict = "match" if state.item == state.type else "miss"
        return f"type {state.type} sent message {state.message}; item {state.item} ({verdict})"

    # -- reference values ---------------------------------------------------------------

    def utility_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Follower and leader utility ``[n_types (type), n_types (item)]``: the identity."""
        identity = np.eye(self.n_types[0])
        return identity, identity

    def map_values(self, maps: np.ndarray) -> np.ndarray:
        """Leader value of each message map against a best-responding follower.

        Args:
            maps: ``[n_maps, n_messages]`` int items, one map per row.

        Returns:
            ``[n_maps]`` expected leader utility, each type sending its best message (ties
            in the leader's favour).
        """
        follower, leader = self.utility_tables()
        f = follower[:, maps]  # [types, n_maps, messages]
        g = leader[:, maps]
        best = f.max(axis=2, keepdims=True)
        leader_at_best = np.where(f == best, g, -np.inf).max(axis=2)  # [types, n_maps]
        return self.prior @ leader_at_best

    def reference(self) -> Reference:
        """The best message map against a best-responding follower, and its value.

        Enumerates every deterministic map ``message -> item`` (``n_types ** n_messages``
        of them; the first maximiser in lexicographic order is returned) when there are at
        most :data:`MAX_ENUMERATED_MAPS`; otherwise uses the closed form: allocate the
        ``min(k, n_types)`` most likely types (ties to the lower type) to messages in
        increasing order, the rest of the messages to the most likely type. Both are exact;
        ``details["method"]`` says which ran. Baseline ``no_messages``: the best single
        item, the prior's largest mass.
        """
        n_types = self.n_types[0]
        if n_types**self.n_messages <= MAX_ENUMERATED_MAPS:
            maps = np.array(
                list(itertools.product(range(n_types), repeat=self.n_messages)), dtype=np.int64
            )
            method = "enumeration"
        else:
            order = np.argsort(-self.prior, kind="stable")
            served = order[: min(self.n_messages, n_types)]
            maps = np.array(
                [[served[m] if m < len(served) else order[0] for m in range(self.n_messages)]],
                dtype=np.int64,
            )
            method = "closed form (most likely types)"
        values = self.map_values(maps)
        best = int(np.argmax(values))
        items, optimum = tuple(int(i) for i in maps[best]), float(values[best])
        return Reference(
            optimum=optimum,
            optimal_policy=MessageMap(items),
            follower_model=FOLLOWER_MODEL,
            baselines={"no_messages": float(self.prior.max())},
            details={"method": method, "items": items},
        )

    # -- what trainers print and save (see EconomicGame) -------------------------------------

    @property
    def value_meaning(self) -> str:
        """The leader's reward is 1 when the item is the follower's type."""
        return "the probability that the follower gets the item matching its type"

    def observation_fields(self, observation: Any) -> dict[str, Any]:
        """The follower's message, named."""
        return {"message": int(observation)}

    def describe_mechanism(self, mechanism: Sequence[tuple[Any, Any]]) -> list[str]:
        """One ``message -> item`` line per message."""
        return [f"message {int(obs)} -> item {int(item)}" for obs, item in mechanism]


def _read_only_vector(value: float) -> np.ndarray:
    array = np.array([value])
    array.setflags(write=False)
    return array
