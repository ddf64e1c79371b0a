"""Platform design against algorithmic collusion: one period of the market as plain logic.

Two sellers (the followers, one type each) post prices from a grid of ``m`` prices; the
platform (the leader) observes the price profile and decides who is shown to consumers by a
*threshold* from the grid (price-dependent admission, PDA): sellers priced at or below it are
shown. Demand is logit with an outside good (:mod:`.market`); the sellers earn their profits
and the platform earns the **consumer surplus** of the shown set.

A sub-game is one period: ``start`` takes the two price indices, the leader's observation
is the profile ``i * m + j`` (``Discrete(m * m)``), its action the threshold index
(``Discrete(m)``), and the period ends after that one turn. Every utility comes from two
tables computed once from the market (surplus ``[m, m, m]`` and profits ``[m, m, m, 2]`` over
price indices and threshold), which the batched game reads too.

The setting's hooks for the Stackelberg POMDP: the sellers' Q-values start at each price's
profit against a uniformly random rival with both shown (:meth:`follower_initial_values`,
Calvano et al.'s initialisation, divided by ``1 - delta`` by the Q-learner); the reward
phase's value is the mean surplus over its first cycle of price profiles
(:meth:`reward_phase_value`, :func:`.rules.first_cycle_mean`).

>>> game = CollusionPlatform()
>>> game.prices.round(4).tolist()
[1.05, 1.2667, 1.4833, 1.7]
>>> state = game.leader_step(game.start([0, 0], [1, 2]), 1)  # threshold 1.2667
>>> round(game.outcome(state).leader, 4), float(game.outcome(state).followers[1])
(0.7463, 0.0)
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from stackelberg_zoo.envs.collusion_platform.market import (
    Market,
    bertrand_nash_price,
    consumer_surplus,
    monopoly_price,
    profits,
)
from stackelberg_zoo.envs.collusion_platform.rules import first_cycle_mean, threshold_shown
from stackelberg_zoo.envs.core import EconomicGame, Outcome, Reference
from stackelberg_zoo.envs.validation import check_count, check_real
from stackelberg_zoo.equilibrium.arrays import read_only

DEFAULT_N_PRICES = 4
"""The grid size of the authors' runs (Calvano et al. use 15)."""

DEFAULT_PRICE_RANGE = (1.05, 1.7)
"""The grid's lowest and highest price in the authors' runs."""

MAX_PRICES = 64
"""The largest grid (the sellers' Q-tables have ``m^3`` entries each)."""


class PeriodState(NamedTuple):
    """One period: the two sellers' price indices, then the platform's threshold index."""

    prices: tuple[int, int]
    threshold: int | None = None


def _index(name: str, value: Any, size: int) -> int:
    try:
        if isinstance(value, bool | np.bool_):
            raise TypeError
        index = operator.index(value)
    except TypeError as error:
        raise TypeError(f"{name} must be an integer, got {value!r}") from error
    if not 0 <= index < size:
        raise ValueError(f"{name} must be in [0, {size}), got {value!r}")
    return index


def _pair(name: str, values: Any) -> list:
    try:
        first, second = np.asarray(values).tolist() if isinstance(values, np.ndarray) else values
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must hold one entry per seller (two), got {values!r}") from error
    return [first, second]


class CollusionPlatform(EconomicGame):
    """Two sellers price on a grid; the platform shows those at or below a threshold price.

    Args:
        n_prices: ``m``, the grid size (1 to :data:`MAX_PRICES`).
        price_low: The lowest grid price.
        price_high: The highest grid price (above ``price_low`` when ``m > 1``).
        cost: The sellers' marginal cost ``c``.
        quality: The sellers' product quality ``a``.
        outside: The outside good's quality ``a_0``.
        mu: The logit's scale ``mu > 0``.

    Raises:
        TypeError: On a non-integer ``n_prices`` or a non-real parameter.
        ValueError: On values out of range, or parameters whose utilities are not finite.
    """

    pure_single_turn = True

    def __init__(
        self,
        n_prices: int = DEFAULT_N_PRICES,
        price_low: float = DEFAULT_PRICE_RANGE[0],
        price_high: float = DEFAULT_PRICE_RANGE[1],
        cost: float = 1.0,
        quality: float = 2.0,
        outside: float = 0.0,
        mu: float = 0.25,
    ):
        m = check_count("n_prices", n_prices)
        if m > MAX_PRICES:
            raise ValueError(f"n_prices must be at most {MAX_PRICES}, got {n_prices!r}")
        low, high = check_real("price_low", price_low), check_real("price_high", price_high)
        if high < low or (m > 1 and high == low):
            raise ValueError(
                f"price_high must be above price_low (with n_prices > 1), got {price_high!r} "
                f"and {price_low!r}"
            )
        market = Market(
            check_real("cost", cost),
            check_real("quality", quality),
            check_real("outside", outside),
            check_real("mu", mu),
        )
        if market.mu <= 0:
            raise ValueError(f"mu must be positive, got {mu!r}")
        self.market = market
        self.n_prices = m
        self.prices = read_only(np.linspace(low, high, m))
        self.n_types = (1, 1)
        self.n_follower_actions = (m, m)
        self.prior = read_only(np.ones((1, 1)))
        self.leader_observation_space = gymnasium.spaces.Discrete(m * m)
        self.leader_action_space = gymnasium.spaces.Discrete(m)
        grid = np.arange(m)
        indices = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1)  # [m, m, 2]
        shown = threshold_shown(indices[:, :, None, :], grid[None, None, :])  # [m, m, m, 2]
        price_pairs = self.prices[indices][:, :, None, :]
        with np.errstate(all="ignore"):
            surplus = consumer_surplus(market, price_pairs, shown)
            profit = profits(market, price_pairs, shown)
        if not (np.all(np.isfinite(surplus)) and np.all(np.isfinite(profit))):
            raise ValueError(f"the market {market!r} on this grid gives non-finite utilities")
        self.surplus_table = read_only(surplus)
        """``[m, m, m]`` consumer surplus at price indices ``(i, j)`` and threshold ``k``."""
        self.profit_table = read_only(profit)
        """``[m, m, m, 2]`` the sellers' profits there."""
        self._observations = [np.int64(k) for k in range(m * m)]

    # -- the sub-game --------------------------------------------------------------------

    def start(self, types, follower_actions) -> PeriodState:
        """Begin a period at the sellers' price indices ``follower_actions``.

        Raises:
            ValueError: If a type is not 0 or a price index is out of range.
            TypeError: If they are not integers.
        """
        for k, value in enumerate(_pair("types", types)):
            _index(f"types[{k}]", value, 1)
        first, second = _pair("follower_actions", follower_actions)
        m = self.n_prices
        return PeriodState((_index("price index", first, m), _index("price index", second, m)))

    def leader_observation(self, state: PeriodState) -> np.int64:
        """The price profile ``i * m + j`` (``np.int64``)."""
        i, j = state.prices
        return self._observations[i * self.n_prices + j]

    def profile_of(self, observation: Any) -> tuple[int, int]:
        """The two price indices of a leader observation."""
        return divmod(int(observation), self.n_prices)

    def leader_step(self, state: PeriodState, action: Any) -> PeriodState:
        """Set the threshold index ``action``.

        Raises:
            ValueError: If the period is over or the threshold is out of range.
            TypeError: If it is not an integer.
        """
        if state.threshold is not None:
            raise ValueError(f"the period is over (threshold {state.threshold} set)")
        return state._replace(threshold=_index("threshold action", action, self.n_prices))

    def is_over(self, state: PeriodState) -> bool:
        """Whether the threshold is set (one leader turn per period)."""
        return state.threshold is not None

    def outcome(self, state: PeriodState) -> Outcome:
        """Consumer surplus for the platform, profits for the sellers."""
        key = (*state.prices, state.threshold)
        return Outcome(
            leader=float(self.surplus_table[key]), followers=self.profit_table[key].copy()
        )

    def describe(self, state: PeriodState) -> str:
        """The prices and, once set, the threshold and who is shown."""
        prices = ", ".join(f"{self.prices[i]:.4g}" for i in state.prices)
        if state.threshold is None:
            return f"prices ({prices})"
        shown = threshold_shown(np.array(state.prices), state.threshold)
        return (
            f"prices ({prices}), threshold {self.prices[state.threshold]:.4g}, "
            f"shown sellers {np.flatnonzero(shown).tolist()}"
        )

    # -- the Stackelberg POMDP's hooks ---------------------------------------------------------

    def follower_initial_values(self) -> tuple[np.ndarray, ...]:
        """Each price's mean profit against a uniformly random rival, both shown (``[1, m]``)."""
        both = self.profit_table[:, :, self.n_prices - 1]  # the highest threshold shows both
        return (both[:, :, 0].mean(axis=1)[None, :], both[:, :, 1].mean(axis=0)[None, :])

    def follower_utility_bounds(self) -> tuple[float, float]:
        """``(min(0, min π), max(1, max π))`` over the profit table ``π`` (``profit_table``).

        A seller's utility is an entry of the profit table, so it lies in ``[min π, max π]``;
        this is that interval widened to cover ``[0, 1]`` (the normalised default of
        :meth:`EconomicGame.follower_utility_bounds`). It is ``(0.0, 1.0)`` with the default
        market (profits in ``[0, 0.43]``); wider where prices fall below ``cost`` (losses) or
        margins exceed 1.

        >>> CollusionPlatform().follower_utility_bounds()
        (0.0, 1.0)
        """
        profits = self.profit_table
        return min(0.0, float(profits.min())), max(1.0, float(profits.max()))

    def reward_phase_value(self, follower_actions, leader) -> float:
        """The mean surplus over the first cycle of reward-phase price profiles."""
        return first_cycle_mean(follower_actions, leader)

    def reference(self) -> Reference:
        """Reference prices and surpluses, computed from the market.

        The optimum is an upper bound: the surplus with both sellers shown at the grid's
        lowest price; the optimum against Q-learning sellers has no closed form.
        """
        market = self.market
        nash, monopoly = bertrand_nash_price(market), monopoly_price(market)
        both = np.ones(2, dtype=bool)
        return Reference(
            optimum=float(self.surplus_table.max()),
            optimal_policy=self.n_prices - 1,
            follower_model=(
                "an upper bound, not an optimum: both sellers shown (threshold index "
                f"{self.n_prices - 1}) at the lowest grid price; the best policy against "
                "Q-learning sellers has no closed form"
            ),
            baselines={
                "surplus_at_bertrand_nash": float(consumer_surplus(market, [nash, nash], both)),
                "surplus_at_monopoly": float(consumer_surplus(market, [monopoly] * 2, both)),
            },
            details={
                "bertrand_nash_price": nash,
                "monopoly_price": monopoly,
                "prices": self.prices.tolist(),
            },
        )

    # -- what trainers print and save ------------------------------------------------------------

    @property
    def value_meaning(self) -> str:
        """See :attr:`~stackelberg_zoo.envs.core.EconomicGame.value_meaning`."""
        return "consumer surplus per period over the first cycle of reward-phase prices"

    def observation_fields(self, observation: Any) -> dict[str, Any]:
        """The two price indices and prices of a leader observation."""
        i, j = self.profile_of(observation)
        return {
            "price_index_0": i,
            "price_index_1": j,
            "price_0": float(self.prices[i]),
            "price_1": float(self.prices[j]),
        }

    def describe_mechanism(self, mechanism: Sequence[tuple[Any, Any]]) -> list[str]:
        """One line per price profile: the threshold and who it shows."""
        lines = []
        for observation, action in mechanism:
            i, j = self.profile_of(observation)
            shown = np.flatnonzero(threshold_shown(np.array([i, j]), int(action))).tolist()
            lines.append(
                f"prices ({self.prices[i]:.4g}, {self.prices[j]:.4g}) -> threshold "
                f"{self.prices[int(action)]:.4g}, shown {shown}"
            )
        return lines
