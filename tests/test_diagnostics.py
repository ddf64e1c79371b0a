"""benchmark/diagnostics: games, exact outcomes, learners by hand, determinism, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmark"
sys.path.insert(0, str(BENCHMARK))

from diagnostics import cli, experiments, games, learners, report  # noqa: E402

PD = games.PRISONERS_DILEMMA


def entries(game: games.Bimatrix) -> list[list[tuple[float, float]]]:
    """The game as (leader, follower) pairs, rows = leader actions."""
    return [[(game.leader[r, c], game.follower[r, c]) for c in range(2)] for r in range(2)]


def test_the_games_payoffs():
    assert entries(PD) == [[(3, 3), (1, 4)], [(4, 1), (2, 2)]]
    assert entries(games.BATTLE_OF_THE_SEXES) == [[(2, 1), (0, 0)], [(0, 0), (1, 2)]]
    assert entries(games.COORDINATION) == [[(2, 0.001), (0, 0)], [(0, 0), (1, 2)]]
    assert entries(games.PENALISED_COORDINATION) == [[(2, 0.001), (-5, 0)], [(-5, 0), (1, 2)]]


@pytest.mark.parametrize(
    "game", [games.BATTLE_OF_THE_SEXES, games.COORDINATION, games.PENALISED_COORDINATION]
)
def test_one_shot_outcomes_commit_to_the_first_row(game):
    outcome = games.stackelberg_outcome(game.leader, game.follower)
    assert (outcome.row, outcome.column) == (0, 0)
    assert outcome.leader_value == 2.0
    assert outcome.follower_value == game.follower[0, 0]


def test_memory_one_play_by_hand():
    tit_for_tat = int(games.table_bits(0b10100) @ (1 << np.arange(5)))  # D after CD and DD
    assert games.table_bits(tit_for_tat).tolist() == [0, 0, 1, 0, 1]
    # TFT against always-D: CD, then DD four times.
    leader, follower, states = games.play_memory_one(PD, tit_for_tat, 31, 5)
    assert (leader, follower) == pytest.approx(((1 + 4 * 2) / 5, (4 + 4 * 2) / 5), abs=1e-12)
    assert states == [0, 2, 4, 4, 4]
    # Always-C against always-C: CC throughout.
    assert games.play_memory_one(PD, 0, 0, 5)[:2] == (3.0, 3.0)
    with pytest.raises(ValueError, match="table must be an integer in \\[0, 32\\), got 32"):
        games.table_bits(32)
    with pytest.raises(ValueError, match="stages must be a positive integer, got 0"):
        games.play_memory_one(PD, 0, 0, 0)


def test_repeated_pd_outcome_from_the_solver_matches_brute_force():
    leader, follower = games.memory_one_game(PD, 5)
    outcome = games.stackelberg_outcome(leader, follower)
    # Brute force: for every leader table, the follower's best responses, the leader's
    # favourite among them; the best table.
    best = max(
        max(leader[r, c] for c in np.flatnonzero(follower[r] >= follower[r].max() - 1e-12))
        for r in range(32)
    )
    assert outcome.leader_value == pytest.approx(best, abs=1e-12)
    # The solver's commitment: D at Start, then C after the follower cooperated (CC, DC),
    # D after it defected (CD, DD); the follower cooperates throughout: DC, CC, CC, CC, CC.
    assert games.table_bits(outcome.row).tolist() == [1, 0, 1, 0, 1]
    assert outcome.column == 0
    assert (outcome.leader_value, outcome.follower_value) == pytest.approx((16 / 5, 13 / 5))


def test_exact_follower_values_of_deterministic_policies_are_the_matrix():
    _, follower = games.memory_one_game(PD, 5)
    rng = np.random.default_rng(0)
    leaders, responses = rng.integers(0, 32, 40), rng.integers(0, 32, 40)
    probs = ((responses[:, None] >> np.arange(5)) & 1).astype(float)
    values = games.follower_values(PD, leaders, probs, 5)
    assert values == pytest.approx(follower[leaders, responses], abs=1e-12)


def test_regret_of_a_best_responder_and_of_always_cooperate():
    _, follower = games.memory_one_game(PD, 5)
    best_tables = follower.argmax(axis=1)
    best = ((best_tables[:, None] >> np.arange(5)) & 1).astype(float)
    assert learners.contextual_regret(PD, 5, best) == pytest.approx(np.zeros(32), abs=1e-12)
    regret = learners.contextual_regret(PD, 5, np.zeros((32, 5)))
    assert regret[0] == pytest.approx(1.0, abs=1e-12)  # vs always-C: 4 per stage instead of 3
    assert np.all(regret >= -1e-12)


def test_pretrained_follower_reports_its_exact_regret():
    follower = learners.pretrain_contextual_follower(PD, 5, np.random.default_rng([0, 0]))
    assert follower.reached and follower.max_regret <= 0.25
    probs = learners.softmax(follower.logits)[..., 1]
    assert learners.contextual_regret(PD, 5, probs).max() == pytest.approx(follower.max_regret)
    greedy = np.argmax(follower.logits, axis=2).astype(float)
    assert learners.contextual_regret(PD, 5, greedy).max() == pytest.approx(
        follower.greedy_max_regret
    )
    bounds = experiments.phase_memory_bounds(follower)
    # Against this follower, the best committed table attains the exact Stackelberg value,
    # and a leader whose answers differ from its play can get more (here 4: always D).
    assert bounds["best_committed"] == pytest.approx(16 / 5)
    assert bounds["best_with_phase"] > bounds["best_committed"] + 0.5


def test_q_update_and_exploration_by_hand():
    q = learners.TabularQ(2, alpha=0.1, temperature=0.1)
    q.update(0, 1.0)
    assert q.q.tolist() == pytest.approx([0.1, 0.0])
    q.update(0, 1.0)
    assert q.q[0] == pytest.approx(0.19)
    rng = np.random.default_rng(1)
    assert {q.greedy(rng) for _ in range(20)} == {0}
    draws = np.array([q.explore(rng) for _ in range(20_000)])
    expected = 1 / (1 + math.exp(1.9))  # P(action 1) = e^0 / (e^1.9 + e^0)
    assert abs(draws.mean() - expected) < 0.02  # ~7 standard deviations
    q.reset()
    assert {q.greedy(rng) for _ in range(40)} == {0, 1}  # ties broken at random
    with pytest.raises(ValueError, match="alpha must be in \\(0, 1\\], got 2"):
        learners.TabularQ(2, alpha=2, temperature=0.1)


def test_reinforce_step_by_hand():
    leader = learners.SoftmaxReinforce(2, lr=0.5, baseline_step=0.05)
    leader.update(np.array([1, 0]), 2.0)  # pi = (0.5, 0.5), advantage 2
    assert leader.logits == pytest.approx(np.array([[-0.5, 0.5], [0.5, -0.5]]))
    assert leader.baseline == pytest.approx(0.1)
    assert leader.greedy().tolist() == [1, 0]
    with pytest.raises(ValueError, match="lr must be positive and finite, got -1"):
        learners.SoftmaxReinforce(2, lr=-1)


def test_fixed_row_returns_explain_the_penalised_game():
    plain = experiments.fixed_row_returns(games.COORDINATION, 0, episodes=400, alpha=0.2,
                                          temperature=0.1)  # fmt: skip
    penalised = experiments.fixed_row_returns(games.PENALISED_COORDINATION, 0, episodes=400,
                                              alpha=0.2, temperature=0.1)  # fmt: skip
    for returns in (plain, penalised):  # reward phase only: the Stackelberg row is better
        assert returns[0]["reward_phase_only"] > 1.95 > returns[1]["reward_phase_only"]
    # The follower is near indifferent against row 0 (0.001 vs 0), so it miscoordinates in
    # about half the response games there; at -5 a miss, including them flips the ranking.
    assert penalised[0]["response_phase_included"] < 0 < penalised[1]["response_phase_included"]
    assert plain[0]["response_phase_included"] > plain[1]["response_phase_included"]


def test_runs_are_deterministic_per_seed():
    follower = learners.pretrain_contextual_follower(PD, 5, np.random.default_rng([3, 0]))
    a, b, c = (experiments.phase_memory_run(follower, True, s, episodes=300) for s in (3, 3, 4))
    assert np.array_equal(a.values, b.values) and a.extra == b.extra
    assert not np.array_equal(a.values, c.values)
    game = games.PENALISED_COORDINATION
    x, y = (experiments.reward_during_learning_run(game, True, 5, episodes=200) for _ in "xy")
    assert np.array_equal(x.values, y.values) and np.array_equal(x.at_outcome, y.at_outcome)
    r, s = (experiments.reset_vs_carried_run(False, 5, lr=0.1, episodes=200) for _ in "rs")
    assert np.array_equal(r.values, s.values)


def test_summaries_read_the_final_tenth():
    values = np.r_[np.zeros(90), np.full(10, 2.0)]
    assert report.final_value(values) == 2.0
    assert report.reached(np.r_[np.zeros(90, bool), np.ones(10, bool)])
    iqm, low, high = report.iqm_ci([1.0, 2.0, 3.0, 4.0, 100.0])
    assert iqm == pytest.approx(3.0) and low <= iqm <= high
    assert report.iqm_ci([2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_cli_runs_each_experiment_tiny_and_writes_its_json(tmp_path):
    flags = ["--seeds", "2", "--phase-episodes", "200", "--reset-episodes", "100",
             "--reward-episodes", "100", "--reset-lrs", "0.1", "--out", str(tmp_path)]  # fmt: skip
    done = subprocess.run([sys.executable, str(BENCHMARK / "diagnostics"), *flags],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    expected = {
        "phase-memory": {"phase hidden", "phase visible"},
        "reset-vs-carried": {"reset, lr 0.1", "carried, lr 0.1"},
        "reward-during-learning": {
            f"{g}, {v}"
            for g in ("coordination", "penalised-coordination")
            for v in ("reward phase only", "response phase included")
        },
    }
    for name, variants in expected.items():
        record = json.loads((tmp_path / f"{name}.json").read_text())
        assert record["experiment"] == name and set(record["variants"]) == variants
        for summary in record["variants"].values():
            assert len(summary["final_values"]) == 2 and len(summary["curve"]["mean"]) == 50
        assert (tmp_path / f"{name}.png").stat().st_size > 0
        assert record["table"] in done.stdout


def test_bad_flags_stop_with_one_line():
    bad = subprocess.run([sys.executable, str(BENCHMARK / "diagnostics"), "--seeds", "0"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["diagnostics: error: --seeds must be >= 1, got 0"]
    with pytest.raises(ValueError, match="--reset-lrs must be positive and finite"):
        cli.check_args(cli.Args(reset_lrs=(0.1, -1.0)))
