"""benchmark/bcce_rate.py: the fixed-leader BCCE gap shrinks within its no-regret allowance."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import BestResponse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmark"))

import bcce_rate


@pytest.mark.parametrize("name", ["escape", "mspm_pi"])
def test_gap_shrinks_within_its_allowance(name):
    game, policy = bcce_rate.fixed_leaders()[name]
    pairs = [bcce_rate.response_gap(game, policy, rounds, seed=3) for rounds in (30, 3000)]
    (short_gap, short_allowance), (long_gap, long_allowance) = pairs
    assert short_gap <= short_allowance and long_gap <= long_allowance
    assert long_gap < short_gap and long_allowance < short_allowance


@pytest.mark.parametrize("name", list(bcce_rate.fixed_leaders()))
def test_every_fixed_leader_attains_the_reference_optimum(name):
    """Against best-responding followers in the POMDP, each fixed leader's exact value (in
    its induced game, at the followers' learned play) is the setting's reference optimum."""
    game, policy = bcce_rate.fixed_leaders()[name]
    pomdp = StackelbergPOMDP(game, BestResponse(tol=1e-6), n_response=200, n_reward=1)
    observation, _ = pomdp.reset(np.random.default_rng(0))
    while pomdp.report is None:
        observation = pomdp.step(policy(observation)).observation
    report = pomdp.report
    value = leader_value(induced_bayesian_game(game, policy), list(report.strategy))
    assert value == pytest.approx(game.reference().optimum, abs=1e-6)
