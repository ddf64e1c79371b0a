"""Pricing trees of a sequential price mechanism, and the best one that ignores messages.

A mechanism's turns form a decision tree of (follower, price) nodes with a "bought" and a
"refused" branch (:class:`PriceNode`); prices are restricted to each follower's value levels
(plus 1), which loses nothing for welfare (:mod:`.reference` explains both reductions). This
module evaluates trees on every type profile at once (:class:`ProfileGrid`,
:func:`evaluate_tree`), enumerates them (:func:`enumerate_trees`, for the message search of
:mod:`.reference`) and finds the welfare-maximising message-free mechanism by dynamic
programming (:func:`best_message_free_spm`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class PricedMarket(Protocol):
    """What the search reads of a setting (``SequentialPriceMechanism`` provides it).

    Declared here so that this module imports nothing from ``game.py``, which imports it.

    Attributes:
        n_followers: Number of followers ``n``.
        n_types: Types per follower.
        n_messages: Messages per follower ``m``.
        n_units: Identical units for sale ``k``.
        values: Per follower, ``[T_i]`` value of each type.
        prior: ``[T_1..T_n]`` joint type distribution.
        first_best: ``[T_1..T_n]`` sum of the ``k`` highest values at each type profile.
    """

    n_types: tuple[int, ...]
    n_messages: int
    n_units: int
    values: tuple[np.ndarray, ...]
    prior: np.ndarray
    first_best: np.ndarray

    @property
    def n_followers(self) -> int:
        """Number of followers."""
        ...

    def decode_observation(self, observation: Any) -> Any:
        """The leader observation read back (``unvisited``, ``bought``, ``messages``)."""
        ...


WELFARE_TOL = 1e-12
"""Tolerance on welfare and on prior-weighted incentive constraints."""


@dataclass(frozen=True)
class PriceNode:
    """One leader turn of a pricing tree: visit ``follower`` at ``price``.

    Attributes:
        follower: The follower visited.
        price: The posted price in ``[0, 1]``.
        if_bought: The next turn if it buys (``None``: the sub-game is over).
        if_refused: The next turn if it refuses (``None``: the sub-game is over).
    """

    follower: int
    price: float
    if_bought: PriceNode | None = None
    if_refused: PriceNode | None = None

    def describe(self) -> str:
        """One-line text, e.g. ``f0@0.2 [refused: f1@0.4]``."""
        text = f"f{self.follower}@{self.price:.4g}"
        branches = []
        if self.if_bought is not None:
            branches.append(f"bought: {self.if_bought.describe()}")
        if self.if_refused is not None:
            branches.append(f"refused: {self.if_refused.describe()}")
        return text + (f" [{'; '.join(branches)}]" if branches else "")


def punishment_tree(unvisited: Sequence[int], units: int) -> PriceNode | None:
    """Price 1 to every follower in ``unvisited`` in order, until ``units`` are sold.

    Every follower's utility is 0 under it (only a value of exactly 1 buys, at price 1).
    """
    if units == 0 or not unvisited:
        return None
    rest = tuple(unvisited[1:])
    return PriceNode(
        int(unvisited[0]), 1.0, punishment_tree(rest, units - 1), punishment_tree(rest, units)
    )


def candidate_prices(levels: np.ndarray) -> np.ndarray:
    """Representative prices of a follower: its distinct value levels, plus 1 if all are < 1."""
    prices = np.unique(np.asarray(levels, dtype=np.float64))
    if prices[-1] < 1.0:
        prices = np.append(prices, 1.0)
    return prices


@dataclass(frozen=True)
class SPMResult:
    """The best message-free sequential price mechanism.

    Attributes:
        welfare: Its expected welfare.
        welfare_loss: First-best welfare minus ``welfare``.
        tree: The mechanism (with one unit, a chain along the "refused" branches).
    """

    welfare: float
    welfare_loss: float
    tree: PriceNode | None


# --------------------------------------------------------------------------- profile grid


class ProfileGrid:
    """Every type profile of a game, flattened (``G = Π T_i`` profiles, C order)."""

    def __init__(self, game: PricedMarket):
        n = game.n_followers
        self.n = n
        self.n_units = game.n_units
        self.types = np.indices(game.n_types).reshape(n, -1)  # [n, G]
        self.values = np.stack([game.values[i][self.types[i]] for i in range(n)])  # [n, G]
        self.prob = game.prior.reshape(-1).copy()
        self.first_best = game.first_best.reshape(-1).copy()
        self.size = self.prob.size
        self.prices = tuple(candidate_prices(game.values[i]) for i in range(n))
        # Highest values first, per profile: optimistic bound on what a subtree can collect.
        self.sorted_values = -np.sort(-self.values, axis=0)  # [n, G]

    def optimistic(self, unvisited: tuple[int, ...], units: int) -> np.ndarray:
        """``[G]`` most welfare the followers in ``unvisited`` can add with ``units`` units."""
        if units == 0 or not unvisited:
            return np.zeros(self.size)
        top = -np.sort(-self.values[list(unvisited)], axis=0)
        return top[:units].sum(axis=0)


@dataclass(frozen=True)
class TreeOutcome:
    """A subtree and what it yields on every profile that reaches it."""

    tree: PriceNode | None
    utility: np.ndarray  # [n, G]
    welfare: np.ndarray  # [G]


def evaluate_tree(
    grid: ProfileGrid, tree: PriceNode | None, reach: np.ndarray, units: int
) -> TreeOutcome:
    """Follower utilities and welfare of ``tree`` on the profiles in ``reach``."""
    utility = np.zeros((grid.n, grid.size))
    welfare = np.zeros(grid.size)
    stack = [(tree, reach, units)]
    while stack:
        node, mask, left = stack.pop()
        if node is None or left == 0:
            continue
        j = node.follower
        buy = mask & (grid.values[j] >= node.price)
        utility[j, buy] += grid.values[j, buy] - node.price
        welfare[buy] += grid.values[j, buy]
        stack.append((node.if_bought, buy, left - 1))
        stack.append((node.if_refused, mask & ~buy, left))
    return TreeOutcome(tree, utility, welfare)


def enumerate_trees(
    grid: ProfileGrid,
    reach: np.ndarray,
    onpath: np.ndarray,
    unvisited: tuple[int, ...],
    units: int,
    need: np.ndarray | None,
) -> list[TreeOutcome]:
    """Every pricing subtree at a node, with its outcome on the profiles in ``reach``.

    ``onpath`` marks the on-path profiles (positive probability, consistent with the
    messages). Nodes no on-path profile reaches get the punishment subtree. With ``need``
    (``[G]`` welfare still owed to reach the first best), only zero-loss subtrees are kept.
    """
    live = reach & onpath
    if units == 0 or not unvisited:
        if need is not None and np.any(need[live] > WELFARE_TOL):
            return []
        return [TreeOutcome(None, np.zeros((grid.n, grid.size)), np.zeros(grid.size))]
    if not live.any():
        return [evaluate_tree(grid, punishment_tree(unvisited, units), reach, units)]
    if need is not None:
        bound = grid.optimistic(unvisited, units)
        if np.any(need[live] > bound[live] + WELFARE_TOL):
            return []
    found = []
    for j in unvisited:
        rest = tuple(x for x in unvisited if x != j)
        for price in grid.prices[j]:
            buy = reach & (grid.values[j] >= price)
            refuse = reach & ~buy
            gained = np.where(buy, grid.values[j], 0.0)
            bought = enumerate_trees(
                grid, buy, onpath, rest, units - 1, None if need is None else need - gained
            )
            if not bought:
                continue
            refused = enumerate_trees(grid, refuse, onpath, rest, units, need)
            if not refused:
                continue
            own = np.zeros((grid.n, grid.size))
            own[j, buy] = grid.values[j, buy] - price
            for b, r in itertools.product(bought, refused):
                found.append(
                    TreeOutcome(
                        PriceNode(j, float(price), b.tree, r.tree),
                        own + b.utility + r.utility,
                        gained + b.welfare + r.welfare,
                    )
                )
    return found


def best_tree(
    grid: ProfileGrid, reach: np.ndarray, unvisited: tuple[int, ...], units: int
) -> tuple[float, PriceNode | None]:
    """Most expected welfare a subtree can collect on ``reach``, and that subtree."""
    if units == 0 or not unvisited:
        return 0.0, None
    live = reach & (grid.prob > 0)
    if not live.any():
        return 0.0, punishment_tree(unvisited, units)
    best_welfare, best = -math.inf, None
    for j in unvisited:
        rest = tuple(x for x in unvisited if x != j)
        for price in grid.prices[j]:
            buy = live & (grid.values[j] >= price)
            gained = float(grid.prob[buy] @ grid.values[j, buy])
            welfare_b, tree_b = best_tree(grid, buy, rest, units - 1)
            welfare_r, tree_r = best_tree(grid, live & ~buy, rest, units)
            total = gained + welfare_b + welfare_r
            if total > best_welfare + WELFARE_TOL:
                best_welfare, best = total, PriceNode(j, float(price), tree_b, tree_r)
    return best_welfare, best


# --------------------------------------------------------------------------- public values


def first_best_welfare(game: PricedMarket) -> float:
    """``E[sum of the k highest values]`` under the game's prior."""
    return float(np.sum(game.prior * game.first_best))


def best_message_free_spm(game: PricedMarket) -> SPMResult:
    """The welfare-maximising sequential price mechanism that ignores messages (exact).

    Dynamic programming over decision trees with grid prices (see the module docstring for
    why that loses nothing); ties go to the lowest follower, then the lowest price. A loss
    within ``WELFARE_TOL`` of 0 (round-off) is reported as exactly 0.
    """
    grid = ProfileGrid(game)
    everyone = np.ones(grid.size, dtype=bool)
    welfare, tree = best_tree(grid, everyone, tuple(range(grid.n)), grid.n_units)
    loss = first_best_welfare(game) - welfare
    return SPMResult(welfare, 0.0 if abs(loss) <= WELFARE_TOL else loss, tree)
