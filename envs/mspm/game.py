"""Sequential price mechanisms with messages (MSPM): the sub-game as plain logic.

``n`` followers hold private values for one unit of a good (a follower's *type* is the index
of its value level) and ``k`` identical units are for sale. Every follower first sends one of
``m`` messages. The leader (the mechanism) then runs a sequential posted-price mechanism: at
each turn it picks a follower it has not visited yet and posts a price in ``[0, 1]``; the
visited follower buys a unit iff its value is at least the price (a dominant strategy once it
is visited). The sub-game ends when the units are sold out or every follower was visited.

* Follower utility: ``value - price`` if it bought, else 0 (so always in ``[0, 1]``).
* Leader utility: realised welfare (sum of the buyers' values) minus the first-best welfare
  (sum of the ``k`` highest values of the type profile), so always ``<= 0``.

Leader action, the reference code's form: a ``Box(0, 1, (n + 1,), float64)`` vector
``[score_0, ..., score_{n-1}, price]``; the unvisited follower with the highest score is
visited, ties going to the lowest index (scores of visited followers are ignored). The action
space is ``float64`` so that a price equal to a value level (e.g. ``1/3``) is represented
exactly; a ``float32`` price is accepted and compared as given.

Leader observation: a flat ``Box(0, 1, (2n + 1 + n·m,), float32)`` vector, in this order:
``unvisited[n]`` (1 = not visited yet), ``units_left / k`` (one entry), ``bought[n]`` (the
allocation so far), ``messages[n, m]`` one-hot by follower. Use
:meth:`SequentialPriceMechanism.decode_observation` to read one.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from stackelberg_zoo.envs.core import EconomicGame, Outcome, Reference
from stackelberg_zoo.envs.mspm.reference import MSPMSearchResult, mspm_reference, search_mspm
from stackelberg_zoo.equilibrium.games import as_finite_array, check_distribution

PI_VALUES = ((0.2, 1.0), (0.0, 0.4))
"""Value levels of the PI instance (Agrawal et al. 2020): follower 0, follower 1."""

PI_MARGINALS = ((0.8, 0.2), (0.5, 0.5))
"""Probabilities of those value levels; the two followers are independent."""

VALUE_PRESETS = ("pi", "uniform")
"""Names accepted for ``values`` besides an explicit table."""


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _product_prior(marginals: Sequence[np.ndarray]) -> np.ndarray:
    prior = np.ones(())
    for marginal in marginals:
        prior = np.multiply.outer(prior, marginal)
    return prior


def value_model(
    values: str | Sequence[Sequence[float]] = "pi",
    *,
    n_followers: int | None = None,
    n_values: int = 3,
    prior=None,
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Resolve a value specification into per-follower value levels and a joint prior.

    Args:
        values: ``"pi"`` (two followers: values 0.2 / 1.0 w.p. 0.8 / 0.2, and 0 / 0.4 w.p.
            1/2 each, independent); ``"uniform"`` (every value uniform on
            ``{0, 1/(t-1), ..., 1}`` with ``t = n_values``, independent); or an explicit
            table, one sequence of value levels in ``[0, 1]`` per follower.
        n_followers: Number of followers; ``None`` means 2 for the presets and
            ``len(values)`` for a table. ``"pi"`` has exactly 2.
        n_values: ``t``, the number of value levels of ``"uniform"`` (at least 2).
        prior: ``[T_1, ..., T_n]`` joint prior of an explicit table (may be correlated);
            ``None`` means uniform over type profiles. Must be ``None`` for the presets.

    Returns:
        ``(values, prior)``: a tuple of read-only ``[T_i]`` arrays and the read-only prior.
        Entries of an explicit prior that are negative within the tolerance of
        :func:`~stackelberg_zoo.equilibrium.games.check_distribution` are set to 0 and the
        prior is renormalised to sum to exactly 1.

    Raises:
        ValueError: On an unknown preset, a count out of range, a value outside ``[0, 1]``
            or a prior that is not a distribution of the right shape.
        TypeError: On a non-integer count or non-numeric values.
    """
    if isinstance(values, str):
        if values not in VALUE_PRESETS:
            raise ValueError(f"values must be one of {VALUE_PRESETS} or a table, got {values!r}")
        if prior is not None:
            raise ValueError(f"prior is fixed by the preset {values!r}; got prior={prior!r}")
        n = 2 if n_followers is None else _check_int("n_followers", n_followers, 1)
        if values == "pi":
            if n != 2:
                raise ValueError(f"the 'pi' preset has exactly 2 followers, got n_followers={n}")
            levels = tuple(np.array(v, dtype=np.float64) for v in PI_VALUES)
            joint = _product_prior([np.array(p) for p in PI_MARGINALS])
        else:
            t = _check_int("n_values", n_values, 2)
            levels = tuple(np.linspace(0.0, 1.0, t) for _ in range(n))
            joint = np.full((t,) * n, 1.0 / t**n)
    else:
        try:
            rows = [as_finite_array(f"values[{i}]", row) for i, row in enumerate(values)]
        except TypeError as error:
            raise TypeError(f"values must be a preset name or a table, got {values!r}") from error
        if not rows:
            raise ValueError(f"values must list at least one follower, got {values!r}")
        for i, row in enumerate(rows):
            if row.ndim != 1 or row.size < 1:
                raise ValueError(f"values[{i}] must be a non-empty 1-D sequence, got {row!r}")
            if row.min() < 0.0 or row.max() > 1.0:
                raise ValueError(f"values[{i}] must lie in [0, 1], got {row.tolist()}")
        if n_followers is not None and _check_int("n_followers", n_followers, 1) != len(rows):
            raise ValueError(f"n_followers={n_followers} but values lists {len(rows)} followers")
        levels = tuple(rows)
        shape = tuple(row.size for row in rows)
        joint = np.full(shape, 1.0 / np.prod(shape)) if prior is None else prior
        joint = check_distribution("prior", joint, shape)
    for row in levels:
        row.setflags(write=False)
    joint = np.clip(np.array(joint, dtype=np.float64), 0.0, None)  # documented above
    joint /= joint.sum()
    joint.setflags(write=False)
    return levels, joint


class MechanismState(NamedTuple):
    """State of one sub-game.

    Immutable: :meth:`SequentialPriceMechanism.leader_step` returns a new one.

    Attributes:
        types: Type index of each follower.
        values: Value of each follower.
        messages: Message each follower sent.
        unvisited: Whether each follower is still to be visited.
        bought: Whether each follower bought a unit.
        prices: Price each follower paid (0 if it did not buy).
        units_left: Units still for sale.
    """

    types: tuple[int, ...]
    values: tuple[float, ...]
    messages: tuple[int, ...]
    unvisited: tuple[bool, ...]
    bought: tuple[bool, ...]
    prices: tuple[float, ...]
    units_left: int


@dataclass(frozen=True)
class LeaderView:
    """A decoded leader observation.

    Attributes:
        unvisited: ``[n]`` bool, followers not visited yet.
        units_left: Units still for sale.
        bought: ``[n]`` bool, followers that bought a unit.
        messages: ``[n]`` int, the message of each follower.
    """

    unvisited: np.ndarray
    units_left: int
    bought: np.ndarray
    messages: np.ndarray


class SequentialPriceMechanism(EconomicGame):
    """Sequential posted prices after cheap-talk messages (MSPM), one sub-game.

    Args:
        values: ``"pi"``, ``"uniform"`` or a per-follower table of value levels in ``[0, 1]``
            (see :func:`value_model`).
        n_followers: Number of followers (default 2; a table fixes it).
        n_units: ``k``, identical units for sale, ``1 <= k <= n_followers``.
        n_messages: ``m``, messages per follower (``m = 1`` is the message-free SPM).
        n_values: ``t`` of the ``"uniform"`` preset.
        prior: Joint prior of an explicit table, ``[T_1..T_n]``, correlation allowed.

    Raises:
        ValueError: On counts out of range or an invalid value table or prior.
        TypeError: On non-integer counts.

    Example:
        >>> game = SequentialPriceMechanism("pi", n_messages=2)
        >>> state = game.start(np.array([1, 0]), np.array([0, 0]))
        >>> state = game.leader_step(state, np.array([1.0, 0.0, 0.5]))  # follower 0 at 0.5
        >>> game.is_over(state), game.outcome(state).followers.tolist()
        (True, [0.5, 0.0])
    """

    def __init__(
        self,
        values: str | Sequence[Sequence[float]] = "pi",
        *,
        n_followers: int | None = None,
        n_units: int = 1,
        n_messages: int = 2,
        n_values: int = 3,
        prior=None,
    ):
        self.values, self.prior = value_model(
            values, n_followers=n_followers, n_values=n_values, prior=prior
        )
        n = len(self.values)
        self.n_units = _check_int("n_units", n_units, 1)
        if self.n_units > n:
            raise ValueError(f"n_units must be at most n_followers={n}, got {n_units}")
        self.n_messages = _check_int("n_messages", n_messages, 1)
        self.n_types = tuple(row.size for row in self.values)
        self.n_follower_actions = (self.n_messages,) * n
        self.first_best = self._first_best_table()
        self.leader_observation_space = gymnasium.spaces.Box(
            0.0, 1.0, (2 * n + 1 + n * self.n_messages,), np.float32
        )
        self.leader_action_space = gymnasium.spaces.Box(0.0, 1.0, (n + 1,), np.float64)
        self._value_lists = tuple(tuple(float(v) for v in row) for row in self.values)
        self._first_best_at = {
            profile: float(self.first_best[profile]) for profile in self.type_profiles()
        }

    def _first_best_table(self) -> np.ndarray:
        """``[T_1..T_n]`` sum of the ``k`` highest values at each type profile."""
        grids = np.meshgrid(*self.values, indexing="ij")
        stacked = np.sort(np.stack(grids), axis=0)
        table = stacked[-self.n_units :].sum(axis=0)
        table.setflags(write=False)
        return table

    def __repr__(self) -> str:
        return (
            f"SequentialPriceMechanism(n_types={self.n_types}, n_units={self.n_units}, "
            f"n_messages={self.n_messages})"
        )

    # ----------------------------------------------------------------- sub-game logic

    def start(self, types: np.ndarray, follower_actions: np.ndarray) -> MechanismState:
        """Begin a sub-game from the type profile and the followers' messages.

        Raises:
            TypeError: If the types or messages are not integers.
            ValueError: If there are not ``n`` of each, or one is out of range.
        """
        n = self.n_followers
        types = self._as_indices("types", types)
        messages = self._as_indices("follower actions (messages)", follower_actions)
        if len(types) != n or len(messages) != n:
            raise ValueError(
                f"need {n} types and {n} messages, got types={types} and messages={messages}"
            )
        for i in range(n):
            if not 0 <= types[i] < self.n_types[i]:
                raise ValueError(
                    f"type of follower {i} must be in [0, {self.n_types[i]}), got {types[i]}"
                )
            if not 0 <= messages[i] < self.n_messages:
                raise ValueError(
                    f"message of follower {i} must be in [0, {self.n_messages}), got {messages[i]}"
                )
        values = tuple(self._value_lists[i][types[i]] for i in range(n))
        return MechanismState(
            types, values, messages, (True,) * n, (False,) * n, (0.0,) * n, self.n_units
        )

    @staticmethod
    def _as_indices(name: str, value) -> tuple[int, ...]:
        array = np.asarray(value)
        if array.dtype.kind not in "iu":
            raise TypeError(f"{name} must be integers, got {value!r}")
        return tuple(array.reshape(-1).tolist())

    def leader_observation(self, state: MechanismState) -> np.ndarray:
        """Flat observation: ``unvisited[n], units_left/k, bought[n], messages one-hot[n, m]``."""
        n, m = self.n_followers, self.n_messages
        obs = np.zeros(2 * n + 1 + n * m, dtype=np.float32)
        obs[:n] = state.unvisited
        obs[n] = state.units_left / self.n_units
        obs[n + 1 : 2 * n + 1] = state.bought
        base = 2 * n + 1
        for i, message in enumerate(state.messages):
            obs[base + i * m + message] = 1.0
        return obs

    def decode_observation(self, observation) -> LeaderView:
        """Read back a leader observation.

        Raises:
            ValueError: If the observation does not have the layout of this game.
        """
        n, m = self.n_followers, self.n_messages
        obs = np.asarray(observation, dtype=np.float64)
        if obs.shape != self.leader_observation_space.shape:
            raise ValueError(
                f"observation must have shape {self.leader_observation_space.shape}, "
                f"got {obs.shape}"
            )
        one_hot = obs[2 * n + 1 :].reshape(n, m)
        if not np.allclose(one_hot.sum(axis=1), 1.0):
            raise ValueError(f"messages must be one-hot per follower, got {one_hot.tolist()}")
        return LeaderView(
            unvisited=obs[:n] > 0.5,
            units_left=round(float(obs[n]) * self.n_units),
            bought=obs[n + 1 : 2 * n + 1] > 0.5,
            messages=one_hot.argmax(axis=1),
        )

    def visited_follower(self, state: MechanismState, action) -> tuple[int, float]:
        """The follower an action visits and the price it posts (validated).

        The unvisited follower with the highest score is visited; ties go to the lowest index.

        Raises:
            TypeError: If the action is not numeric.
            ValueError: If it has the wrong shape, or a NaN, infinite or out-of-``[0, 1]``
                entry.
        """
        n = self.n_followers
        try:
            vector = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"leader action must be numeric, got {action!r}") from error
        if vector.shape != (n + 1,):
            raise ValueError(f"leader action must have shape ({n + 1},), got {action!r}")
        entries = vector.tolist()  # plain floats: faster than numpy for a few entries
        price = entries[n]
        if not 0.0 <= price <= 1.0:  # also rejects NaN
            raise ValueError(f"price must lie in [0, 1], got {price}")
        if not all(0.0 <= x <= 1.0 for x in entries):
            raise ValueError(f"scores must be finite and lie in [0, 1], got {entries[:n]}")
        chosen, best = -1, -1.0
        for i in range(n):
            if state.unvisited[i] and entries[i] > best:
                chosen, best = i, entries[i]
        return chosen, price

    def leader_step(self, state: MechanismState, action) -> MechanismState:
        """Visit the highest-scoring unvisited follower at the posted price."""
        if self.is_over(state):
            raise ValueError(f"the sub-game is over; got action {action!r}")
        i, price = self.visited_follower(state, action)
        unvisited = state.unvisited[:i] + (False,) + state.unvisited[i + 1 :]
        if state.values[i] >= price:
            return state._replace(
                unvisited=unvisited,
                bought=state.bought[:i] + (True,) + state.bought[i + 1 :],
                prices=state.prices[:i] + (price,) + state.prices[i + 1 :],
                units_left=state.units_left - 1,
            )
        return state._replace(unvisited=unvisited)

    def is_over(self, state: MechanismState) -> bool:
        """Units sold out or every follower visited."""
        return state.units_left == 0 or not any(state.unvisited)

    def outcome(self, state: MechanismState) -> Outcome:
        """Leader: welfare minus first-best welfare; followers: ``value - price`` if bought."""
        utilities = [0.0] * len(state.values)
        welfare = 0.0
        for i, bought in enumerate(state.bought):
            if bought:
                utilities[i] = state.values[i] - state.prices[i]
                welfare += state.values[i]
        return Outcome(welfare - self._first_best_at[state.types], np.array(utilities))

    def describe(self, state: MechanismState) -> str:
        """One line: values, messages, who bought at what price, units left, welfare."""
        sales = [
            f"f{i} bought at {p:.4g}"
            for i, (b, p) in enumerate(zip(state.bought, state.prices, strict=True))
            if b
        ]
        welfare = sum(v for v, b in zip(state.values, state.bought, strict=True) if b)
        return (
            f"values {[round(v, 4) for v in state.values]}, messages {list(state.messages)}; "
            f"{', '.join(sales) or 'no sale yet'}; units left {state.units_left}; welfare "
            f"{welfare:.4g} of first best {float(self.first_best[state.types]):.4g}"
        )

    # ----------------------------------------------------------------- reference

    def first_best_welfare(self) -> float:
        """``E[sum of the k highest values]`` under the prior."""
        return float(np.sum(self.prior * self.first_best))

    def type_profiles(self):
        """Iterate over every type profile (tuples, in C order)."""
        return itertools.product(*(range(t) for t in self.n_types))

    @functools.cached_property
    def search_result(self) -> MSPMSearchResult:
        """The exact search of :func:`~stackelberg_zoo.envs.mspm.reference.search_mspm` (cached)."""
        return search_mspm(self)

    def reference(self) -> Reference:
        """Exact search over pure message maps and grid-price mechanisms (cached).

        See :func:`stackelberg_zoo.envs.mspm.reference.mspm_reference`. The cost grows
        quickly with the number of types: milliseconds for PI and uniform ``t <= 6`` with
        two messages, about 20 s for ``t = 7`` (no zero-loss mechanism, so the loss is
        minimised by branch and bound).
        """
        return mspm_reference(self, self.search_result)

    # -- what trainers print and save (see EconomicGame) -----------------------------------------

    @property
    def value_meaning(self) -> str:
        """The leader's reward is the welfare minus the first-best welfare."""
        return (
            "minus the expected welfare loss: welfare minus first-best welfare "
            "(0: no loss, the best possible)"
        )

    def observation_fields(self, observation: Any) -> dict[str, Any]:
        """The decoded observation: messages, unvisited and bought flags, units left."""
        view = self.decode_observation(observation)
        return {
            "messages": view.messages.tolist(),
            "unvisited": view.unvisited.astype(int).tolist(),
            "bought": view.bought.astype(int).tolist(),
            "units_left": view.units_left,
        }

    def describe_mechanism(self, mechanism: Sequence[tuple[Any, Any]]) -> list[str]:
        """One line per leader turn: what it sees, the follower it visits and the price."""
        lines = []
        for obs, action in mechanism:
            view = self.decode_observation(obs)
            visited = [i for i in range(self.n_followers) if view.unvisited[i]]
            chosen = max(visited, key=lambda i: (action[i], -i)) if visited else None
            lines.append(
                f"messages {view.messages.tolist()} unvisited {view.unvisited.astype(int).tolist()}"
                f" bought {view.bought.astype(int).tolist()} -> visit follower {chosen} at price "
                f"{float(action[-1]):.3f}"
            )
        return lines
