"""benchmark/certified_reference.py: a row per setting, and its command line's refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmark"
sys.path.insert(0, str(BENCHMARK))

import certified_reference  # noqa: E402


def test_three_followers_row_is_labelled_and_counts_every_episode():
    row = certified_reference.measure(3, episodes=3, seed=0, robust=False, n_followers=3)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "3, 3 followers"
    assert cells[2] in {f"{k / 3:.0%}" for k in range(4)}  # certified share of 3 episodes
    assert cells[-2:] == ["0.0000", "0.0556"]  # the reference reaches zero loss; no messages 1/18


def test_robust_with_three_followers_is_refused_naming_the_value():
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK / "certified_reference.py"),
            "--robust",
            "--n-followers",
            "3",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "--n-followers 3" in done.stderr


def test_robust_search_refuses_a_three_follower_game_when_called_directly():
    from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism

    game = SequentialPriceMechanism("uniform", n_values=3, n_messages=2, n_followers=3)
    with pytest.raises(ValueError, match="--n-followers 3"):
        certified_reference.leader_policies(game, robust=True)
