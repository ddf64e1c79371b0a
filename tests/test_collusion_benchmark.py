"""benchmark/collusion.py: the collusion index on known prices, the session driver against the
batched Stackelberg POMDP (draw for draw), the deviation diagnostic on hand-made sellers, and
the CLI's JSON on a tiny budget, deterministic for its seeds."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stackelberg_zoo.envs.collusion_platform import (
    CollusionPlatform,
    collusion_index,
    first_cycle_mean,
    profits,
    threshold_of,
)
from stackelberg_zoo.envs.collusion_platform.rules import NO_BOX
from stackelberg_zoo.envs.pomdp.batched import BatchedStackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import (
    PolicyGradientResponse,
    PopulationResponse,
    QLearningResponse,
)
from stackelberg_zoo.envs.pomdp.streams import make_generators

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmark"))

import collusion  # noqa: E402

GAME = CollusionPlatform()
NASH, MONOPOLY = 1.4729, 1.9250  # Calvano et al. (2020), mu = 0.25: p^N ~ 1.4729, p^M ~ 1.925


def test_collusion_index_on_known_prices():
    prices = np.array([NASH, MONOPOLY, 1.7, 1.05])
    expected = [0.0, 1.0, (1.7 - NASH) / (MONOPOLY - NASH), (1.05 - NASH) / (MONOPOLY - NASH)]
    np.testing.assert_allclose(collusion_index(prices, GAME.market), expected, atol=5e-4)
    assert collusion_index(1.7, GAME.market) == pytest.approx(0.5024, abs=5e-4)


def _pomdp(seeds, n_response, rule=None, tables=None, followers="q_learning", asked=None):
    """Surplus (the return) and first-cycle mean price of the batched POMDP's episodes; with
    ``asked`` (``bool[B, m, m]``), marks the price profiles the leader was asked about."""
    pomdp = BatchedStackelbergPOMDP(GAME, len(seeds), followers, n_response=n_response)
    observation = pomdp.reset(make_generators(seeds, len(seeds)))
    profiles, prices = [], []
    while True:
        profile = np.stack(np.divmod(observation, GAME.n_prices), axis=1)
        if asked is not None:
            asked[np.arange(len(seeds)), profile[:, 0], profile[:, 1]] = True
        if tables is None:
            actions = np.array([threshold_of(rule, p, GAME.n_prices) for p in profile])
        else:
            actions = tables[np.arange(len(seeds)), profile[:, 0], profile[:, 1]]
        if (pomdp.phase == 1).all():
            profiles.append(profile)
            prices.append(GAME.prices[profile].mean(axis=1))
        step = pomdp.step(actions)
        observation = step.observation
        if step.terminated.all():
            break
    profiles, prices = np.array(profiles), np.array(prices)
    cycle = [first_cycle_mean(profiles[:, b], prices[:, b]) for b in range(len(seeds))]
    return step.reward, np.array(cycle)


@pytest.mark.parametrize("rule", ["no_intervention", "pdp", "tables"])
def test_sessions_are_the_pomdp_episodes_for_threshold_rules(rule):
    """The driver plays fixed rules through the game logic; where a rule is a committed
    threshold policy, it is the Stackelberg POMDP's episode, bit for bit."""
    seeds = [5, 6, 7]
    tables = np.random.default_rng(0).integers(0, GAME.n_prices, (3, 4, 4))
    played = collusion.play_sessions(GAME, tables if rule == "tables" else rule, seeds, 400)
    if rule == "tables":
        reward, price = _pomdp(seeds, 400, tables=tables)
    else:
        reward, price = _pomdp(seeds, 400, rule)
    np.testing.assert_array_equal(played.surplus, reward)
    np.testing.assert_array_equal(played.price, price)


SELLER_MODELS = {
    "q-learning, explicit": QLearningResponse(),
    "q-learning, alpha 0.1, memoryless": QLearningResponse(alpha=0.1, memory=0),
    "policy gradient": PolicyGradientResponse(),
    "policy gradient, sampled play": PolicyGradientResponse(reward_play="sample", memory=1),
    "population": PopulationResponse(members=(QLearningResponse(), PolicyGradientResponse())),
}


@pytest.mark.parametrize("label", list(SELLER_MODELS))
def test_sessions_are_the_pomdp_episodes_for_any_batched_sellers(label):
    """Any seller model that runs batched: the session is the POMDP episode with that model
    as its followers, bit for bit, and the profiles it marks visited are the observations
    the POMDP's leader was asked about."""
    sellers = SELLER_MODELS[label]
    seeds = [3, 4, 5, 6]
    tables = np.random.default_rng(1).integers(0, GAME.n_prices, (4, 4, 4))
    played = collusion.play_sessions(GAME, tables, seeds, 300, sellers=sellers)
    asked = np.zeros((4, 4, 4), dtype=bool)
    reward, price = _pomdp(seeds, 300, tables=tables, followers=sellers, asked=asked)
    np.testing.assert_array_equal(played.surplus, reward)
    np.testing.assert_array_equal(played.price, price)
    np.testing.assert_array_equal(played.visited, asked)
    assert (played.greedy is None) == (label != "q-learning, explicit")
    if label == "q-learning, explicit":  # the default sellers are these
        default = collusion.play_sessions(GAME, tables, seeds, 300)
        np.testing.assert_array_equal(default.surplus, played.surplus)
        np.testing.assert_array_equal(default.greedy, played.greedy)


def test_dpdp_shows_exactly_one_seller_and_is_deterministic():
    actions = np.array([[0, 3], [3, 0], [2, 2], [1, 3]])
    boxes = [NO_BOX] * 4
    shown = collusion._shown(GAME, "dpdp", actions, boxes)
    assert shown.tolist() == [[True, False], [False, True], [True, False], [True, False]]
    assert [box.holder for box in boxes] == [0, 1, 0, 0]
    first = collusion.play_sessions(GAME, "dpdp", [1, 2], 300, 12)
    again = collusion.play_sessions(GAME, "dpdp", [1, 2], 300, 12)
    np.testing.assert_array_equal(first.surplus, again.surplus)
    np.testing.assert_array_equal(first.greedy, again.greedy)
    # One seller shown at a grid price p: surplus mu ln(e^{(a - p)/mu} + 1), so the cycle's
    # mean lies between the single-seller surpluses at the highest and lowest grid price.
    single = 0.25 * np.log(np.exp((2.0 - GAME.prices) / 0.25) + 1.0)
    assert np.all((single.min() - 1e-12 <= first.surplus) & (first.surplus <= single.max() + 1e-12))


def test_play_sessions_refuses_bad_rules():
    with pytest.raises(ValueError, match="rule must be one of"):
        collusion.play_sessions(GAME, "cheapest", [0], 5)
    with pytest.raises(ValueError, match="rule tables"):
        collusion.play_sessions(GAME, np.full((1, 4, 4), 4), [0], 5)
    with pytest.raises(ValueError, match="seeds"):
        collusion.play_sessions(GAME, "pdp", [], 5)


def test_static_best_response_maximises_profit():
    for rival in range(GAME.n_prices):
        pairs = np.stack([GAME.prices, np.full(GAME.n_prices, GAME.prices[rival])], axis=1)
        own = profits(GAME.market, pairs, np.ones_like(pairs, dtype=bool))[:, 0]
        assert collusion.static_best_response(GAME, rival) == int(np.argmax(own))


def test_deviation_against_grim_sellers_is_punished_and_forgiven():
    """Hand-made greedy tables: both price at the top of the grid after (3, 3); seller 1
    answers any other profile with the lowest price for one period, and both return to the
    top after a profile where seller 1 priced lowest. The deviation is punished at once, and
    the path returns to (3, 3)."""
    m = GAME.n_prices
    greedy = np.zeros((1, 2, m * m), dtype=np.int64)
    greedy[0, 0, :] = 3
    greedy[0, 1, 3 * m + 3] = 3
    greedy[0, 1, [k * m for k in range(m)]] = 3  # after a punishment period, back to the top
    visited = np.zeros((1, m, m), dtype=bool)
    sessions = collusion.Sessions(np.zeros(1), np.zeros(1), greedy, np.array([[3, 3]]), visited)
    paths = collusion.deviation_paths(GAME, sessions)
    counterfactual = collusion.deviation_paths(GAME, sessions, deviate=False)
    t = collusion.PRE_PERIODS
    best = collusion.static_best_response(GAME, 3)
    assert best == 2  # against 1.7 the best grid price is 1.4833 (p^N ~ 1.473 < it)
    assert paths[0, :t].tolist() == [[3, 3]] * t
    assert paths[0, t : t + 3].tolist() == [[2, 3], [3, 0], [3, 3]]
    assert (counterfactual[0] == 3).all()
    reading = collusion.deviation_reading(paths, counterfactual)
    assert reading == {"deviates": 1.0, "punish": 1.0, "return": 1.0}
    assert collusion.deviation_reading(counterfactual, counterfactual) == {
        "deviates": 0.0,
        "punish": 0.0,
        "return": 1.0,
    }


def _cli(out: Path) -> dict:
    command = [
        sys.executable, str(ROOT / "benchmark" / "collusion.py"), "--out", str(out),
        "--seller-seeds", "3", "--train-seeds", "0", "--n-response", "300", "--n-reward", "12",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    return json.loads((out / "collusion.json").read_text())


def test_cli_writes_the_fixed_rules_json_deterministically(tmp_path):
    record = _cli(tmp_path / "a")
    assert set(record["rows"]) == {"no_intervention", "pdp", "dpdp"}
    assert record["reference"]["bertrand_nash_price"] == pytest.approx(NASH, abs=1e-4)
    for rule, values in record["per_seed"].items():
        assert len(values["consumer_surplus"]) == 3
        expected = collusion_index(np.array(values["mean_price"]), GAME.market)
        np.testing.assert_allclose(values["collusion_index"], expected, atol=1e-12)
        row = record["rows"][rule]["consumer_surplus"]
        assert row["mean"] == pytest.approx(np.mean(values["consumer_surplus"]), abs=1e-12)
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    marl = json.loads((tmp_path / "a" / "marl_eval.json").read_text())
    runs = marl["collusion_platform"]["paper_episode"]["pdp"]["seed_1"]
    assert runs["absolute_metrics"]["consumer_surplus"] == pytest.approx(
        record["per_seed"]["pdp"]["consumer_surplus"], abs=1e-6
    )
    assert (tmp_path / "a" / "rules.png").stat().st_size > 0
    # The same seeds in process: the same numbers (JSON round-trips floats exactly).
    args = collusion.Args(seller_seeds=3, train_seeds=0, n_response=300, n_reward=12)
    again = json.loads(json.dumps(collusion.measure(args)))
    assert again["per_seed"] == record["per_seed"]
    assert again["deviation"] == record["deviation"]


def test_check_args_names_the_flag():
    with pytest.raises(ValueError, match="--seller-seeds must be >= 1, got 0"):
        collusion.check_args(collusion.Args(seller_seeds=0))
    with pytest.raises(ValueError, match="--train-seeds must be >= 0, got -1"):
        collusion.check_args(collusion.Args(train_seeds=-1))
