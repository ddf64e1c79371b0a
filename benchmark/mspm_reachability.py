"""How often can a leader bring the paper's MW followers to a zero-loss MSPM with messages?

The MSPM rows of the results table ask for a learned mechanism with zero welfare loss whose
followers' learned messages are an interim equilibrium. With the paper's follower defaults
(multiplicative weights, eps = 0.01, 1,000 response sub-games) a follower's weights barely move
within an episode: a sweep costs n m = 4 sub-games (n = 2 followers, m = 2 messages), so each
type's row is updated about 250 / t times (t value levels; ~42 times at t = 6), and with
utility differences of at most 1 its two weights end within a factor 1.01^42 = 1.52 of each
other (a 40/60 mix at the very most). Its opponent therefore
sends near-uniform messages that carry no information about its value, and the reward-phase
argmax is a *sampled best response to an opponent sending uniformly random messages*.

So a mechanism can only be reached reliably if, besides zero loss on path and an interim
equilibrium, every follower type's message is a strict best response to uniformly random
opponent messages, with a margin large enough to beat the sampling noise. This script

1. finds, for two followers, one unit, two messages and independent values, the one-unit
   sequential price mechanism (per message profile: a first follower and price, then the other
   follower's price) that maximises that margin, subject to zero welfare loss on path and an
   interim equilibrium, by a mixed-integer program over every message map profile (prices on
   a grid: 0, each value level, just above it, and ``--price-steps - 1`` points inside each
   gap between levels; a
   type of value 0 is indifferent, keeps uniform weights and sends message 0, the argmax's
   lowest index);
2. plays that mechanism in the Stackelberg POMDP with MW followers for ``--episodes`` episodes
   per response-phase length and counts the episodes the trainer's target accepts (zero loss
   and no follower type gaining more than 1e-6 by another message).

The fraction of accepted episodes is what a leader that committed to this mechanism would get;
a trainer's evaluation (4 episodes, all accepted) passes with about its fourth power. The
uniform-opponent model approximates the MW dynamics (the opponent's mix is near-uniform, not
exactly uniform) and the prices are a grid, so the figures are evidence of how reachable the
target is, not a proof that no leader does better.

    python benchmark/mspm_reachability.py                          # t = 3..6, 40 episodes
    python benchmark/mspm_reachability.py --n-values 6 --n-response 1000 4000 10000
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass

import gymnasium
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.mspm.pricing_trees import PriceNode
from stackelberg_zoo.envs.mspm.reference import MessageMechanism, mechanism_policy
from stackelberg_zoo.equilibrium.gaps import bne_gap

ABOVE = 1e-3
"""Offset of the "just above a value level" prices (that level refuses, the next one buys)."""
BELOW = 1e-7
"""Prices on a value level are posted this much below it, so that the level buys even if the
price is rounded on the way (0.4 as a float32 is above 0.4); the surplus this adds is far
below `ACCEPT_TOL`."""
ACCEPT_TOL = 1e-6
"""The trainer's `--target-tol`: loss and deviation gains up to this count as zero."""


@dataclass(frozen=True)
class Tree:
    """A one-unit pricing tree: visit `first` at `first_price`; if it refuses, the other
    follower at `second_price`. A follower buys iff its value is at least the price."""

    first: int
    first_price: float
    second_price: float


@dataclass(frozen=True)
class RobustMechanism:
    """A zero-loss MSPM and its margin against uniformly random opponent messages.

    Attributes:
        margin: Smallest gain, over follower types of positive value, of the type's message
            over the other message when the opponent's message is uniformly random and its
            value drawn from the prior.
        message_maps: Per follower, the message of each type.
        trees: The pricing tree of each message profile.
    """

    margin: float
    message_maps: tuple[tuple[int, ...], tuple[int, ...]]
    trees: dict[tuple[int, int], Tree]

    def policy(self, game: SequentialPriceMechanism):
        """The mechanism as a leader policy (observation -> action) of `game`'s POMDP."""
        trees = {
            profile: PriceNode(
                tree.first, tree.first_price, None, PriceNode(1 - tree.first, tree.second_price)
            )
            for profile, tree in self.trees.items()
        }
        return mechanism_policy(MessageMechanism(self.message_maps, trees, 2, 1), game)


def candidate_prices(levels: np.ndarray, steps: int) -> np.ndarray:
    """Posted prices searched: 0, each value level (minus `BELOW`), just above each level,
    and `steps - 1` evenly spaced points inside each gap between consecutive levels."""
    prices = [0.0]
    for low, high in itertools.pairwise(levels):
        prices += list(np.linspace(low, high, steps + 1)[1:-1])
        prices.append(min(low + ABOVE, 1.0))
    prices += [max(v - BELOW, 0.0) for v in levels]
    return np.unique(np.round(prices, 9))


def tree_tables(values: tuple[np.ndarray, np.ndarray], tree: Tree):
    """``(u0, u1, loss)``, each ``[T_0, T_1]``: utilities and welfare loss at every profile."""
    t0, t1 = len(values[0]), len(values[1])
    u = np.zeros((2, t0, t1))
    loss = np.zeros((t0, t1))
    for i, j in itertools.product(range(t0), range(t1)):
        v = (values[0][i], values[1][j])
        other = 1 - tree.first
        if v[tree.first] >= tree.first_price:
            winner, price = tree.first, tree.first_price
        elif v[other] >= tree.second_price:
            winner, price = other, tree.second_price
        else:
            winner, price = None, 0.0
        if winner is not None:
            u[winner, i, j] = v[winner] - price
        loss[i, j] = max(v) - (v[winner] if winner is not None else 0.0)
    return u[0], u[1], loss


def _check_game(game: SequentialPriceMechanism) -> tuple[np.ndarray, np.ndarray]:
    if game.n_followers != 2 or game.n_units != 1 or game.n_messages != 2:
        raise ValueError(
            "the search covers 2 followers, 1 unit and 2 messages, got "
            f"{game.n_followers} followers, {game.n_units} units, {game.n_messages} messages"
        )
    marginals = game.prior.sum(axis=1), game.prior.sum(axis=0)
    if not np.allclose(game.prior, np.multiply.outer(*marginals), atol=1e-12):
        raise ValueError("the search assumes independent values, got a correlated prior")
    return marginals


def robust_mechanisms(
    game: SequentialPriceMechanism, price_steps: int = 2
) -> list[RobustMechanism]:
    """Per message map profile admitting one, the zero-loss equilibrium MSPM of largest margin.

    Maps send message 0 at value 0 (that type is indifferent and keeps uniform MW weights)
    and use both messages. Returns the solutions sorted by decreasing margin (possibly
    negative: no mechanism makes every type's message a strict best response).
    """
    marginals = _check_game(game)
    values = (np.asarray(game.values[0]), np.asarray(game.values[1]))
    prices = (candidate_prices(values[0], price_steps), candidate_prices(values[1], price_steps))
    trees = [
        Tree(first, p, q) for first in (0, 1) for p in prices[first] for q in prices[1 - first]
    ]
    tables = [tree_tables(values, tree) for tree in trees]
    u0 = np.array([tab[0] for tab in tables])
    u1 = np.array([tab[1] for tab in tables])
    loss = np.array([tab[2] for tab in tables])
    p0, p1 = marginals
    # expected utility of each type against the opponent's prior, per tree
    e0 = u0 @ p1  # [trees, T_0]
    e1 = np.einsum("kij,i->kj", u1, p0)  # [trees, T_1]
    profiles = [(0, 0), (0, 1), (1, 0), (1, 1)]

    def maps_of(size: int) -> list[tuple[int, ...]]:
        return [m for m in itertools.product((0, 1), repeat=size) if m[0] == 0 and 1 in m]

    found = []
    for maps in itertools.product(maps_of(len(values[0])), maps_of(len(values[1]))):
        m0, m1 = np.array(maps[0]), np.array(maps[1])
        feasible = {}
        for a, b in profiles:
            on_path = loss[:, m0 == a][:, :, m1 == b].reshape(len(trees), -1)
            feasible[a, b] = np.flatnonzero(on_path.max(axis=1) <= ACCEPT_TOL)
        if any(len(k) == 0 for k in feasible.values()):
            continue
        columns = [(ab, k) for ab in profiles for k in feasible[ab]]
        n = len(columns) + 1  # one binary per (profile, tree), then the margin
        rows, lower = [], []
        for follower, (m_own, expected, utility) in enumerate(((m0, e0, u0), (m1, e1, u1))):
            for j in range(len(m_own)):
                robust, interim = np.zeros(n), np.zeros(n)
                for c, ((a, b), k) in enumerate(columns):
                    own, other = (a, b) if follower == 0 else (b, a)
                    sign = 1.0 if own == m_own[j] else -1.0
                    robust[c] = sign * expected[k, j] / 2  # opponent message uniform
                    m_other = m1 if follower == 0 else m0
                    p_other = p1 if follower == 0 else p0
                    row = utility[k, j, :] if follower == 0 else utility[k, :, j]
                    interim[c] = sign * float(row[m_other == other] @ p_other[m_other == other])
                rows.append(interim)
                lower.append(-1e-12)
                if values[follower][j] > 0:
                    robust[-1] = -1.0
                    rows.append(robust)
                    lower.append(0.0)
        for ab in profiles:
            rows.append(np.r_[[1.0 if col[0] == ab else 0.0 for col in columns], 0.0])
            lower.append(1.0)
        upper = np.full(len(lower), np.inf)
        upper[-len(profiles) :] = 1.0
        objective = np.zeros(n)
        objective[-1] = -1.0
        integrality = np.r_[np.ones(n - 1), 0]
        solution = milp(
            objective,
            constraints=LinearConstraint(np.array(rows), np.array(lower), upper),
            integrality=integrality,
            bounds=Bounds(np.r_[np.zeros(n - 1), -1.0], np.r_[np.ones(n - 1), 1.0]),
        )
        if solution.status != 0:
            continue
        chosen = {ab: trees[k] for c, (ab, k) in enumerate(columns) if solution.x[c] > 0.5}
        found.append(RobustMechanism(float(solution.x[-1]), maps, chosen))
    return sorted(found, key=lambda r: -r.margin)


def accepted_fraction(
    game_kwargs: dict, mechanism: RobustMechanism, n_response: int, episodes: int
) -> tuple[float, float]:
    """Play `mechanism` in the POMDP with MW followers; ``(fraction accepted, mean loss)``.

    An episode is accepted when the followers' learned reward-phase maps give zero welfare
    loss and no type gains more than `ACCEPT_TOL` by another message (the trainer's target).
    """
    env = gymnasium.make("StackelbergZoo/MspmPOMDP-v0", n_response=n_response, **game_kwargs)
    game = env.unwrapped.game
    policy = mechanism.policy(game)
    induced = induced_bayesian_game(game, policy)
    accepted, losses = 0, []
    for episode in range(episodes):
        obs, _ = env.reset(seed=episode)
        done = False
        while not done:
            obs, _, done, _, _ = env.step(policy(obs))
        strategies = list(env.unwrapped.pomdp.report.strategy)
        value = leader_value(induced, strategies)
        gain = max(float(np.nanmax(row)) for row in bne_gap(induced.followers, strategies).interim)
        losses.append(-value)
        accepted += value >= -ACCEPT_TOL and gain <= ACCEPT_TOL
    env.close()
    return accepted / episodes, float(np.mean(losses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-values", type=int, nargs="+", default=[3, 4, 5, 6])
    parser.add_argument("--n-response", type=int, nargs="+", default=[1000])
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--price-steps", type=int, default=2)
    args = parser.parse_args()
    header = "| t | map profiles | best margin | maps (f0; f1) |"
    header += "".join(f" accepted, N_resp={n} |" for n in args.n_response)
    lines = [header, "|---|---|---|---|" + "---|" * len(args.n_response)]
    for t in args.n_values:  # the table is printed at the end (HiGHS may print on the way)
        kwargs = dict(values="uniform", n_values=t, n_messages=2)
        found = robust_mechanisms(SequentialPriceMechanism(**kwargs), args.price_steps)
        if not found:
            lines.append(f"| {t} | 0 | - | - |" + " - |" * len(args.n_response))
            continue
        best = found[0]
        cells = []
        for n_response in args.n_response:
            fraction, loss = accepted_fraction(kwargs, best, n_response, args.episodes)
            cells.append(f" {fraction:.0%} (loss {loss:.4f}) |")
        maps = "; ".join("".join(map(str, m)) for m in best.message_maps)
        lines.append(f"| {t} | {len(found)} | {best.margin:.4f} | {maps} |" + "".join(cells))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
