"""Where searches over MSGSpace mechanisms stop: the welfare loss each message map allows.

In MSGSpace(t) with two followers, one unit and two messages, a mechanism's welfare loss is
decided by two things: the followers' *message maps* (which of its t values sends which
message) and, per message profile, the pricing tree (first follower and price, then the
other's price). For a given pair of maps, each message profile holds a block of value pairs,
and a two-visit posted-price tree can allocate the unit to the higher value on some blocks
and not on others. This script takes every pair of maps (a follower's value 0 sends message
0; relabelling the messages gives the rest), gives each message profile its best tree on a
price grid (``mspm_reachability.candidate_prices``), and counts the pairs by the welfare loss
that remains. Incentives are left out: the counts say which losses the maps *allow*, not
which are equilibria (with incentives, ``mspm_reachability.robust_mechanisms`` finds an
equilibrium mechanism for every zero-loss pair in which both followers use both messages, at
t = 4..6).

The counts explain the results table: the losses at which the trainers' best mechanisms stop
are the most common levels here, and the zero-loss pairs grow rare with t. A search that moves
prices changes the followers' maps only when a type's incentives flip, so leaving a common
level means moving several prices together.

    python benchmark/mspm_landscape.py                    # t = 3..7
    python benchmark/mspm_landscape.py --n-values 5 --levels 6
"""

from __future__ import annotations

import argparse
import collections
import itertools
from pathlib import Path

import numpy as np
from companions import write_fragment
from mspm_reachability import Tree, candidate_prices, tree_tables

from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism


def message_maps(t: int) -> list[tuple[int, ...]]:
    """A follower's message maps: one message per value level, value 0 sending message 0."""
    return [m for m in itertools.product((0, 1), repeat=t) if m[0] == 0]


def pair_losses(t: int, price_steps: int = 2) -> dict[tuple[tuple[int, ...], ...], float]:
    """``{(map of follower 0, map of follower 1): welfare loss}``, each pair with its best
    tree per message profile."""
    game = SequentialPriceMechanism("uniform", n_values=t, n_messages=2)
    values = (np.asarray(game.values[0]), np.asarray(game.values[1]))
    prices = (candidate_prices(values[0], price_steps), candidate_prices(values[1], price_steps))
    trees = [Tree(f, p, q) for f in (0, 1) for p in prices[f] for q in prices[1 - f]]
    weighted = np.array([tree_tables(values, tree)[2] for tree in trees]) * game.prior
    losses = {}
    for m0, m1 in itertools.product(message_maps(t), repeat=2):
        loss = 0.0
        for a, b in itertools.product((0, 1), (0, 1)):
            block = np.outer(np.array(m0) == a, np.array(m1) == b)
            if block.any():
                loss += (weighted * block).sum(axis=(1, 2)).min()
        losses[m0, m1] = float(loss)
    return losses


def best_losses(t: int, price_steps: int = 2) -> collections.Counter:
    """``{welfare loss: number of map pairs}`` (losses rounded to 1e-9)."""
    return collections.Counter(round(loss, 9) for loss in pair_losses(t, price_steps).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-values", type=int, nargs="+", default=[3, 4, 5, 6, 7])
    parser.add_argument("--levels", type=int, default=6, help="loss levels shown per t")
    parser.add_argument("--price-steps", type=int, default=2)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    if args.levels < 1 or args.price_steps < 1 or min(args.n_values) < 2:
        parser.error(
            f"--levels and --price-steps must be >= 1 and --n-values >= 2, got {args.levels}, "
            f"{args.price_steps}, {args.n_values}"
        )
    lines = [
        "| t | map pairs | loss levels allowed by the maps: loss (share of pairs) |",
        "|---|---|---|",
    ]
    for t in args.n_values:
        counts = best_losses(t, args.price_steps)
        total = sum(counts.values())
        levels = [f"{loss:.4f} ({count / total:.1%})" for loss, count in sorted(counts.items())]
        lines.append(f"| {t} | {total} | {', '.join(levels[: args.levels])} |")
    print("\n".join(lines))
    if args.markdown is not None:
        write_fragment(args.markdown, lines)


if __name__ == "__main__":
    main()
