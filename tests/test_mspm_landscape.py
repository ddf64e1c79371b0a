"""benchmark/mspm_landscape.py: the losses message maps allow, against the exact solvers.

The landscape gives each map pair its best pricing tree with no incentive constraints; the
reference solver (`mspm_reference`) and the largest-margin search (`robust_mechanisms`) add
them. Their minima and zero-loss counts must agree where the docs say they do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmark"
sys.path.insert(0, str(BENCHMARK))

import mspm_landscape as landscape  # noqa: E402
import mspm_reachability as reach  # noqa: E402

from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism  # noqa: E402
from stackelberg_zoo.envs.mspm.reference import mspm_reference  # noqa: E402


def test_t3_by_hand():
    # 2^2 maps per follower (value 0 sends message 0); only the pair where both followers
    # send one message whatever their value leaves the message-free loss, 1/18.
    counts = landscape.best_losses(3)
    assert sum(counts.values()) == 16
    assert counts == {0.0: 15, round(1 / 18, 9): 1}


@pytest.mark.parametrize("t", [3, 4, 5, 6])
def test_smallest_loss_is_the_reference_optimum(t):
    game = SequentialPriceMechanism("uniform", n_values=t, n_messages=2)
    counts = landscape.best_losses(t)
    assert sum(counts.values()) == 4 ** (t - 1)
    assert min(counts) == pytest.approx(-mspm_reference(game).optimum, abs=1e-9)


@pytest.mark.parametrize("t", [4, 5])
def test_every_zero_loss_pair_using_both_messages_admits_an_equilibrium(t):
    # robust_mechanisms adds the incentive constraints and keeps pairs using both messages.
    game = SequentialPriceMechanism("uniform", n_values=t, n_messages=2)
    zero = {
        pair
        for pair, loss in landscape.pair_losses(t).items()
        if loss < 1e-9 and all(1 in m for m in pair)
    }
    assert zero == {found.message_maps for found in reach.robust_mechanisms(game)}
