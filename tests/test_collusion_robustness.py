"""benchmark/collusion_robustness.py: the reference rules' tables against the fixed rules,
random search's choice (the best session's table, unplayed profiles at no intervention), and
the CLI's outputs on a tiny budget."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stackelberg_zoo.envs.collusion_platform import CollusionPlatform
from stackelberg_zoo.envs.pomdp.followers import PolicyGradientResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmark"))

import collusion  # noqa: E402
import collusion_robustness as cr  # noqa: E402

GAME = CollusionPlatform()


def test_reference_tables_are_the_fixed_rules():
    """No intervention shows every price; PDP shows the lowest price of the profile. Played
    as tables they give the fixed rules' sessions, bit for bit."""
    m = GAME.n_prices
    assert (cr.rule_table(GAME, "no_intervention") == m - 1).all()
    expected = np.minimum.outer(np.arange(m), np.arange(m))
    np.testing.assert_array_equal(cr.rule_table(GAME, "pdp"), expected)
    seeds = [11, 12]
    for rule in cr.REFERENCES:
        tables = np.repeat(cr.rule_table(GAME, rule)[None], len(seeds), axis=0)
        as_tables = collusion.play_sessions(GAME, tables, seeds, 200)
        as_rule = collusion.play_sessions(GAME, rule, seeds, 200)
        np.testing.assert_array_equal(as_tables.surplus, as_rule.surplus)


def test_training_keeps_the_best_sessions_table_with_unplayed_profiles_unshown():
    """Each seed's table is the drawn table whose session had the largest surplus, where
    that session played; no intervention (the top threshold) elsewhere."""
    m, episodes, seeds = GAME.n_prices, 6, [1, 2]
    sellers = PolicyGradientResponse()
    learned = cr.train(GAME, sellers, seeds, episodes, n_response=40, n_reward=10)
    assert learned.shape == (2, m, m)
    for k, seed in enumerate(seeds):
        drawn = np.random.default_rng(seed).integers(0, m, (episodes, m, m))
        session_seeds = [seed * cr.TRAIN_SEED_STRIDE + e for e in range(episodes)]
        played = collusion.play_sessions(GAME, drawn, session_seeds, 40, 10, sellers)
        best = int(np.argmax(played.surplus))
        visited = played.visited[best]
        assert 0 < visited.sum() < m * m  # 50 periods of a slow learner leave profiles unplayed
        np.testing.assert_array_equal(learned[k][visited], drawn[best][visited])
        assert (learned[k][~visited] == m - 1).all()


def test_population_row_mixes_the_named_columns():
    population = cr.rows()["population"]
    assert population.members == tuple(cr.COLUMNS[label] for label in cr.POPULATION_MIX)
    assert list(cr.rows()) == [*cr.COLUMNS, "population"]


def test_cli_writes_the_table_json_and_heat_map(tmp_path):
    command = [
        sys.executable, str(ROOT / "benchmark" / "collusion_robustness.py"), "--out",
        str(tmp_path), "--train-seeds", "2", "--seller-seeds", "2", "--train-episodes", "3",
        "--n-response", "60", "--n-reward", "8",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    text = (tmp_path / "collusion_robustness.md").read_text()
    for row in [*cr.COLUMNS, "population", "*no intervention*", "*PDP*"]:
        assert f"| {row} |" in text
    marl = json.loads((tmp_path / "marl_eval.json").read_text())["collusion_platform"]
    assert set(marl) == {f"collusion/evaluated-against:{c}" for c in cr.COLUMNS}
    task = marl["collusion/evaluated-against:q-learning"]
    assert set(task) == {f"trained-against:{r}" for r in cr.rows()} | set(cr.REFERENCES)
    run = task["trained-against:population"]["seed_2"]
    values = run["absolute_metrics"]["consumer_surplus"]
    assert len(values) == 2
    assert run["step_0"]["consumer_surplus"] == [pytest.approx(np.mean(values), abs=2e-6)]
    tables = json.loads((tmp_path / "tables.json").read_text())
    assert set(tables) == set(cr.rows())
    assert np.array(tables["q-learning"]).shape == (2, GAME.n_prices, GAME.n_prices)
    assert (tmp_path / "collusion.png").stat().st_size > 0


def test_check_args_names_the_flag():
    with pytest.raises(ValueError, match="--seller-seeds must be >= 1, got 0"):
        cr.check_args(cr.Args(seller_seeds=0))
    with pytest.raises(ValueError, match="--train-episodes must be below 1000, got 1000"):
        cr.check_args(cr.Args(train_episodes=1000))
