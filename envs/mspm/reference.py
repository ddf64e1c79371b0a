"""Exact reference values of sequential price mechanisms with messages, by exhaustive search.

Three quantities, for a :class:`~stackelberg_zoo.envs.mspm.game.SequentialPriceMechanism`:

1. **First-best welfare** ``E[sum of the k highest values]`` (PI: 0.44).
2. **Best message-free SPM** (``m = 1``): the welfare-maximising posted-price mechanism,
   by dynamic programming over every decision tree of (follower, price) choices
   (PI: loss 0.06; ``MSGSpace(t = 3)``: 1/18).
3. **Best MSPM with equilibrium messages**: the followers' pure message maps (type ->
   message) and, for every message profile, a pricing tree, such that no type of any follower
   gains by sending another message (interim, weighted by ``p(θ_-i | θ_i)``, so correlated
   priors are handled; buying is truthful: buy iff value >= price), with the smallest expected
   welfare loss. The search first looks for a zero-loss mechanism (fast, heavily pruned) and,
   if there is none, minimises the loss by branch and bound.

Why the search may be restricted as it is (each point is an exact reduction unless marked):

* **Grid prices.** A price ``p`` enters the allocation only through the set of a follower's
  value levels that are ``>= p``. All prices in ``(v_(l), v_(l+1)]`` (and in ``[0, v_(1)]``,
  and in ``(v_max, 1]``) make every type take the same decision, hence lead to the same
  continuation and the same allocation. Welfare therefore depends on the price only through
  its class, and each class is represented by its *highest* member: the value levels of the
  follower, plus 1 when its highest level is below 1 ("sell to nobody"). For the
  message-free SPM, whose objective is welfare, this is without loss of generality.
  *For incentives it is a restriction*: within a class a lower price gives the buyer more
  surplus, on path and after a deviation alike. A mechanism found on the grid is a valid
  witness; "no zero-loss mechanism" means none with grid prices (``MSPMSearchResult``
  says so in ``coverage``).
* **Adaptivity.** The leader is deterministic, so given the messages its history at a turn
  is the set of visited followers and who among them bought (the leader observation holds
  exactly that; the order of visits follows from the policy). After a refusal at price ``p``
  the mechanism knows ``v < p``; it can use that only through where it goes next, which a
  decision tree with a "bought" and a "refused" branch at every node captures. With one unit
  the sub-game ends at the first purchase, so only the all-refused branch continues and a
  mechanism is a *sequence* of (follower, price); with ``k >= 2`` units the tree also
  branches after purchases and the search covers every such tree. That matters: with
  values ``{0.6, 0.8}``, ``{0.2, 1}``, ``{0, 1}``, uniform and independent, and two units,
  the best tree has welfare 1.575 and the best fixed sequence 1.525 (see the tests).
* **Unreached nodes and unused messages.** A node that no on-path type profile reaches (in
  particular the mechanism after a message that no type sends) is met only after a
  deviation. There the search posts price 1 to every remaining follower in index order
  (the *punishment* tree): every follower's utility is 0, the lowest possible, so this is
  the best choice for incentives and it cannot change the welfare on path.
* **Relabelling.** Permuting a follower's messages (and the mechanism with them) changes
  nothing, so message maps are enumerated up to relabelling (restricted-growth strings).
  Types of zero prior probability send message 0 and have no incentive constraint.
* **Dominance.** For a fixed pair of message maps, each message profile's pricing tree
  enters the incentive constraints and the loss only through a vector of prior-weighted
  utilities; candidates dominated in that vector are dropped before the branch and bound.

Not covered: mixed or correlated message strategies, randomised mechanisms, prices strictly
inside a class (see above). The leader picks the followers' equilibrium together with the
mechanism (the Stackelberg "optimistic" selection).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stackelberg_zoo.envs.core import Reference
from stackelberg_zoo.envs.mspm.pricing_trees import (
    WELFARE_TOL,
    PricedMarket,
    PriceNode,
    ProfileGrid,
    SPMResult,
    TreeOutcome,
    best_message_free_spm,
    best_tree,
    enumerate_trees,
    first_best_welfare,
    punishment_tree,
)

COVERAGE = (
    "pure message maps (up to relabelling), deterministic pricing trees with grid prices "
    "(the highest price of each allocation-equivalent class), truthful buying, interim "
    "incentive constraints weighted by p(θ_-i | θ_i)"
)


@dataclass(frozen=True)
class MessageMechanism:
    """A mechanism with messages together with the followers' pure message maps.

    Attributes:
        message_maps: Per follower, the message sent by each type (``[T_i]`` tuple).
        trees: Pricing tree for each message profile that the maps use; any other profile
            (reached only after a deviation to an unused message) gets the punishment tree.
        n_messages: Messages per follower.
        n_units: Units for sale.
    """

    message_maps: tuple[tuple[int, ...], ...]
    trees: dict[tuple[int, ...], PriceNode | None]
    n_messages: int
    n_units: int

    def tree_for(self, messages: Sequence[int]) -> PriceNode | None:
        """The pricing tree run after the message profile ``messages``."""
        key = tuple(int(m) for m in messages)
        if key in self.trees:
            return self.trees[key]
        return punishment_tree(tuple(range(len(self.message_maps))), self.n_units)

    def follower_strategies(self) -> list[np.ndarray]:
        """The message maps as one-hot ``[T_i, m]`` strategies (for ``leader_value``)."""
        return [np.eye(self.n_messages)[list(mapping)] for mapping in self.message_maps]

    def describe(self) -> str:
        """Multi-line text: the maps, then one line per message profile."""
        lines = [
            f"follower {i} messages by type: {list(m)}" for i, m in enumerate(self.message_maps)
        ]
        for profile, tree in sorted(self.trees.items()):
            lines.append(f"messages {list(profile)}: {tree.describe() if tree else 'no turn'}")
        return "\n".join(lines)


@dataclass(frozen=True)
class MapSolution:
    """The best mechanism for given message maps.

    Attributes:
        welfare_loss: Its expected welfare loss.
        mechanism: The maps and the pricing trees.
    """

    welfare_loss: float
    mechanism: MessageMechanism


@dataclass(frozen=True)
class MSPMSearchResult:
    """What :func:`search_mspm` found.

    Attributes:
        first_best_welfare: ``E[sum of the k highest values]``.
        message_free: The best message-free SPM.
        zero_loss_exists: Whether a zero-loss mechanism with equilibrium messages was found
            (a witness; when ``False``, none exists within ``coverage``).
        mechanism: The best mechanism found; when the search did not minimise, the
            message-free SPM with silent followers (every type sends message 0).
        welfare_loss: Its expected welfare loss.
        minimized: Whether ``welfare_loss`` is the exact minimum over ``coverage`` (always
            true when it is 0); if not, it is only an upper bound.
        n_map_profiles: Message-map profiles (up to relabelling) the search ranges over.
        n_zero_loss_map_profiles: How many of them admit a zero-loss equilibrium mechanism
            (counted only when the search ran with ``stop_at_first=False``; else ``None``).
        coverage: What the search covers.
    """

    first_best_welfare: float
    message_free: SPMResult
    zero_loss_exists: bool
    mechanism: MessageMechanism
    welfare_loss: float
    minimized: bool
    n_map_profiles: int
    n_zero_loss_map_profiles: int | None
    coverage: str = COVERAGE


def canonical_message_maps(
    n_types: int, n_messages: int, active: np.ndarray | None = None
) -> list[tuple[int, ...]]:
    """Message maps of one follower, one per class of relabellings.

    Args:
        n_types: Number of types ``T``.
        n_messages: Number of messages ``m``.
        active: ``[T]`` bool, types with positive probability (default all). Inactive
            types send message 0.

    Returns:
        Restricted-growth strings over the active types: the first active type sends 0,
        and each later one sends at most one more than the largest message so far.
    """
    active = np.ones(n_types, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    slots = [a for a in range(n_types) if active[a]]
    maps = []

    def extend(prefix: list[int], highest: int) -> None:
        if len(prefix) == len(slots):
            mapping = [0] * n_types
            for a, message in zip(slots, prefix, strict=True):
                mapping[a] = message
            maps.append(tuple(mapping))
            return
        for message in range(min(highest + 2, n_messages)):
            extend(prefix + [message], max(highest, message))

    extend([], -1)
    return maps


@dataclass
class _MapSearch:
    """Branch and bound over per-profile candidates for one message-map profile."""

    profiles: list[tuple[int, ...]]
    contributions: list[np.ndarray]  # per profile [C_p, K]
    losses: list[np.ndarray]  # per profile [C_p]
    candidates: list[list[TreeOutcome]]
    best_loss: float
    best_choice: list[int] | None = None
    suffix_gain: list[np.ndarray] = field(default_factory=list)
    suffix_loss: list[float] = field(default_factory=list)

    def run(self, stop_at_zero: bool) -> None:
        order = np.argsort([len(c) for c in self.candidates], kind="stable")
        self.profiles = [self.profiles[p] for p in order]
        self.contributions = [self.contributions[p] for p in order]
        self.losses = [self.losses[p] for p in order]
        self.candidates = [self.candidates[p] for p in order]
        n_constraints = self.contributions[0].shape[1]
        gain, loss = np.zeros(n_constraints), 0.0
        self.suffix_gain, self.suffix_loss = [gain], [loss]
        for c, ell in zip(reversed(self.contributions), reversed(self.losses), strict=True):
            gain = gain + c.max(axis=0)
            loss = loss + float(ell.min())
            self.suffix_gain.append(gain)
            self.suffix_loss.append(loss)
        self.suffix_gain.reverse()
        self.suffix_loss.reverse()
        self._descend(0, np.zeros(n_constraints), 0.0, [], stop_at_zero)

    def _descend(
        self, depth: int, slack: np.ndarray, loss: float, choice: list[int], stop_at_zero: bool
    ) -> bool:
        if np.any(slack + self.suffix_gain[depth] < -WELFARE_TOL):
            return False
        if loss + self.suffix_loss[depth] >= self.best_loss - WELFARE_TOL:
            return False
        if depth == len(self.profiles):
            self.best_loss, self.best_choice = loss, list(choice)
            return stop_at_zero and loss <= WELFARE_TOL
        contributions, losses = self.contributions[depth], self.losses[depth]
        for c in np.argsort(losses, kind="stable"):
            if self._descend(
                depth + 1,
                slack + contributions[c],
                loss + losses[c],
                choice + [int(c)],
                stop_at_zero,
            ):
                return True
        return False


def _pareto_front(points: np.ndarray) -> np.ndarray:
    """Indices of the rows not weakly dominated by another row (first of equal rows kept)."""
    keep = []
    for r in range(points.shape[0]):
        row = points[r]
        dominated = False
        for s in keep:
            if np.all(points[s] >= row - WELFARE_TOL):
                dominated = True
                break
        if dominated:
            continue
        keep = [s for s in keep if not np.all(row >= points[s] - WELFARE_TOL)]
        keep.append(r)
    return np.array(sorted(keep), dtype=np.int64)


def _solve_maps(
    grid: ProfileGrid,
    maps: tuple[tuple[int, ...], ...],
    active: list[np.ndarray],
    n_messages: int,
    zero_loss: bool,
    loss_bound: float,
) -> MapSolution | None:
    """Best equilibrium mechanism for fixed message maps with loss below ``loss_bound``.

    With ``zero_loss``, only zero-loss trees are candidates (so the answer is 0 or None).
    """
    n = grid.n
    used = _used_messages(maps, active)
    # Incentive constraints (i, a, alt): type a of follower i must not prefer message alt.
    constraints = [
        (i, a, alt)
        for i in range(n)
        for a in np.flatnonzero(active[i])
        for alt in used[i]
        if alt != maps[i][a]
    ]
    positive = grid.prob > 0
    matches = _profile_matches(grid, maps, used)
    profiles, contributions, losses, candidates = [], [], [], []
    for profile, match in matches.items():
        onpath = match.all(axis=0) & positive
        everyone = np.ones(grid.size, dtype=bool)
        found = enumerate_trees(
            grid,
            everyone,
            onpath,
            tuple(range(n)),
            grid.n_units,
            grid.first_best.copy() if zero_loss else None,
        )
        if not found:
            return None
        utility = np.stack([c.utility for c in found])  # [C, n, G]
        welfare = np.stack([c.welfare for c in found])  # [C, G]
        loss = (grid.first_best - welfare)[:, onpath] @ grid.prob[onpath]
        columns = []
        for i, a, alt in constraints:
            others = np.ones(grid.size, dtype=bool)
            for j in range(n):
                if j != i:
                    others &= match[j]
            weight = np.where(others & (grid.types[i] == a), grid.prob, 0.0)
            w = utility[:, i, :] @ weight  # [C] prior-weighted utility of type a here
            if profile[i] == maps[i][a]:
                columns.append(w)
            elif profile[i] == alt:
                columns.append(-w)
            else:
                columns.append(np.zeros(len(found)))
        contrib = np.stack(columns, axis=1) if columns else np.zeros((len(found), 0))
        front = _pareto_front(np.concatenate([contrib, -loss[:, None]], axis=1))
        profiles.append(profile)
        contributions.append(contrib[front])
        losses.append(np.maximum(loss[front], 0.0))
        candidates.append([found[k] for k in front])
    search = _MapSearch(profiles, contributions, losses, candidates, loss_bound)
    search.run(stop_at_zero=True)
    if search.best_choice is None:
        return None
    trees = {
        profile: search.candidates[d][c].tree
        for d, (profile, c) in enumerate(zip(search.profiles, search.best_choice, strict=True))
    }
    return MapSolution(search.best_loss, MessageMechanism(maps, trees, n_messages, grid.n_units))


def _used_messages(maps, active: list[np.ndarray]) -> list[list[int]]:
    return [sorted({maps[i][a] for a in np.flatnonzero(active[i])}) for i in range(len(maps))]


def _profile_matches(grid: ProfileGrid, maps, used) -> dict[tuple[int, ...], np.ndarray]:
    """Per used message profile, ``[n, G]``: does follower ``i``'s type at ``g`` send it."""
    sent = [np.asarray(maps[i])[grid.types[i]] for i in range(grid.n)]
    return {
        profile: np.stack([sent[i] == profile[i] for i in range(grid.n)])
        for profile in itertools.product(*used)
    }


def _loss_lower_bound(grid: ProfileGrid, maps, active: list[np.ndarray]) -> float:
    """Least loss any mechanism can reach with these maps, ignoring incentives."""
    positive = grid.prob > 0
    everyone = tuple(range(grid.n))
    best = sum(
        best_tree(grid, match.all(axis=0) & positive, everyone, grid.n_units)[0]
        for match in _profile_matches(grid, maps, _used_messages(maps, active)).values()
    )
    return max(float(grid.prob @ grid.first_best) - best, 0.0)


def _active_types(game: PricedMarket) -> list[np.ndarray]:
    n = game.n_followers
    return [game.prior.sum(axis=tuple(j for j in range(n) if j != i)) > 0 for i in range(n)]


def best_mechanism_for_maps(
    game: PricedMarket, message_maps, *, zero_loss_only: bool = False
) -> MapSolution | None:
    """The least-loss mechanism under which the given pure message maps are an equilibrium.

    Args:
        game: The setting.
        message_maps: Per follower, the message of each type (``[T_i]`` ints in ``[0, m)``).
        zero_loss_only: Only look for a zero-loss mechanism (much faster).

    Returns:
        The best mechanism within the search's coverage (see the module docstring), or
        ``None`` if no mechanism (with zero loss, if asked) makes the maps an equilibrium.

    Raises:
        ValueError: If the maps do not match the game's types and messages.
    """
    maps = tuple(tuple(int(x) for x in np.asarray(m).reshape(-1)) for m in message_maps)
    if tuple(len(m) for m in maps) != game.n_types:
        raise ValueError(f"message_maps must give one message per type {game.n_types}, got {maps}")
    if any(not 0 <= x < game.n_messages for m in maps for x in m):
        raise ValueError(f"messages must lie in [0, {game.n_messages}), got {maps}")
    grid = ProfileGrid(game)
    return _solve_maps(grid, maps, _active_types(game), game.n_messages, zero_loss_only, math.inf)


def search_mspm(
    game: PricedMarket,
    *,
    stop_at_first: bool = True,
    minimize_if_none: bool = True,
) -> MSPMSearchResult:
    """Exhaustive search for the best mechanism with equilibrium messages.

    Args:
        game: The setting (any number of followers, units and messages; the cost grows
            like ``(m^T / m!)^n`` map profiles times the pricing trees per message profile).
        stop_at_first: Stop at the first zero-loss mechanism; if ``False``, count every
            map profile that admits one.
        minimize_if_none: If no zero-loss mechanism exists, find the minimum loss by branch
            and bound (slower); otherwise return the message-free SPM's loss as an upper
            bound with ``minimized=False``.

    Returns:
        The search result; ``mechanism.message_maps`` use messages ``0..r-1`` with ``r``
        at most ``game.n_messages``.
    """
    grid = ProfileGrid(game)
    first_best = first_best_welfare(game)
    message_free = best_message_free_spm(game)
    active = _active_types(game)
    per_follower = [
        canonical_message_maps(game.n_types[i], game.n_messages, active[i]) for i in range(grid.n)
    ]
    for maps in per_follower:  # most informative maps first: zero loss needs information
        maps.sort(key=lambda m: -len(set(m)))
    map_profiles = list(itertools.product(*per_follower))
    found, count = None, 0
    for maps in map_profiles:
        solved = _solve_maps(grid, maps, active, game.n_messages, True, math.inf)
        if solved is not None:
            count += 1
            found = found or solved
            if stop_at_first:
                break
    n_zero = None if stop_at_first else count
    if found is not None:
        return MSPMSearchResult(
            first_best, message_free, True, found.mechanism, 0.0, True, len(map_profiles), n_zero
        )
    silent = tuple((0,) * t for t in game.n_types)
    best = MapSolution(
        message_free.welfare_loss,
        MessageMechanism(silent, {(0,) * grid.n: message_free.tree}, game.n_messages, grid.n_units),
    )
    if minimize_if_none:
        bounds = [_loss_lower_bound(grid, maps, active) for maps in map_profiles]
        for k in np.argsort(bounds, kind="stable"):
            if bounds[k] >= best.welfare_loss - WELFARE_TOL:
                break
            solved = _solve_maps(
                grid, map_profiles[k], active, game.n_messages, False, best.welfare_loss
            )
            if solved is not None:
                best = solved
    return MSPMSearchResult(
        first_best,
        message_free,
        False,
        best.mechanism,
        best.welfare_loss,
        minimize_if_none,
        len(map_profiles),
        n_zero,
    )


# --------------------------------------------------------------------------- as a policy


def mechanism_policy(mechanism: MessageMechanism, game: PricedMarket):
    """A leader policy (observation -> ``Box`` action) that runs ``mechanism`` in ``game``.

    At each turn it reads the messages, the visited followers and the buyers from the
    observation, walks the message profile's tree to the current node and returns the
    action ``[one-hot score of the node's follower, price]``.

    Raises:
        ValueError: (when called) If the observation is not on any path of the tree.
    """
    n = game.n_followers

    def policy(observation) -> np.ndarray:
        view = game.decode_observation(observation)
        node = mechanism.tree_for(view.messages)
        while node is not None and not view.unvisited[node.follower]:
            node = node.if_bought if view.bought[node.follower] else node.if_refused
        if node is None:
            raise ValueError(f"observation {observation!r} is past the end of the mechanism")
        action = np.zeros(n + 1)
        action[node.follower] = 1.0
        action[n] = node.price
        return action

    return policy


def mspm_reference(game: PricedMarket, result: MSPMSearchResult | None = None) -> Reference:
    """The :class:`~stackelberg_zoo.envs.core.Reference` of an MSPM setting.

    ``optimum`` is minus the welfare loss of the best equilibrium mechanism found (0 when a
    zero-loss one exists); ``optimal_policy`` runs it; ``details["follower_strategies"]``
    are the message maps as one-hot ``[T_i, m]`` arrays. Baselines: the message-free SPM
    (as a leader value and as a welfare loss) and the first-best welfare.
    """
    result = search_mspm(game) if result is None else result
    mechanism = result.mechanism
    details: dict[str, Any] = {
        "zero_loss_exists": result.zero_loss_exists,
        "welfare_loss": result.welfare_loss,
        "minimized": result.minimized,
        "mechanism": mechanism,
        "follower_strategies": mechanism.follower_strategies(),
        "coverage": result.coverage,
        "search": result,
    }
    return Reference(
        optimum=-result.welfare_loss,
        optimal_policy=mechanism_policy(mechanism, game),
        follower_model=(
            "pure message maps in interim equilibrium (no type gains by another message, "
            "weighted by p(θ_-i | θ_i)), leader-preferred; buy iff value >= price"
        ),
        baselines={
            "message_free_spm": -result.message_free.welfare_loss,
            "message_free_spm_welfare_loss": result.message_free.welfare_loss,
            "first_best_welfare": result.first_best_welfare,
        },
        details=details,
    )
