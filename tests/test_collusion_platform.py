"""The collusion platform: the market against known values and first-order conditions, the
platform's rules on hand-checked price profiles, the game's tables, and the reward phase's
cycle rule through the Stackelberg POMDP."""

import math

import numpy as np
import pettingzoo
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.collusion_platform import (
    Box,
    CollusionPlatform,
    Market,
    bertrand_nash_price,
    collusion_index,
    consumer_surplus,
    first_cycle_mean,
    fixed_rule,
    monopoly_price,
    profits,
    shares,
    threshold_of,
    threshold_shown,
)
from stackelberg_zoo.envs.pomdp.batched import BatchedStackelbergPOMDP
from stackelberg_zoo.envs.pomdp.gym import StackelbergPOMDPEnv
from stackelberg_zoo.envs.pomdp.streams import make_generators

MARKET = Market()
BOTH = np.ones(2, dtype=bool)


def own_profit(market, p, rival):
    return float(profits(market, [p, rival], BOTH)[0])


def test_reference_prices_match_calvano_et_al():
    """Calvano et al. (AER 2020), a = 2, a_0 = 0, mu = 0.25, c = 1: p^N ~ 1.4728, p^M ~ 1.9249
    (their rounding); computed here to within 5e-4."""
    assert bertrand_nash_price(MARKET) == pytest.approx(1.4728, abs=5e-4)
    assert monopoly_price(MARKET) == pytest.approx(1.9249, abs=5e-4)


def test_bertrand_nash_price_is_a_mutual_best_response():
    nash, h = bertrand_nash_price(MARKET), 1e-6
    derivative = (own_profit(MARKET, nash + h, nash) - own_profit(MARKET, nash - h, nash)) / (2 * h)
    assert abs(derivative) < 1e-8  # the first-order condition
    for deviation in (-0.05, -0.01, 0.01, 0.05):  # and no profitable deviation nearby
        assert own_profit(MARKET, nash + deviation, nash) < own_profit(MARKET, nash, nash)


def test_monopoly_price_maximises_joint_profit():
    def joint(p):
        return float(profits(MARKET, [p, p], BOTH).sum())

    monopoly, h = monopoly_price(MARKET), 1e-6
    assert abs((joint(monopoly + h) - joint(monopoly - h)) / (2 * h)) < 1e-8
    assert joint(monopoly) > max(joint(monopoly - 0.02), joint(monopoly + 0.02))
    assert monopoly > bertrand_nash_price(MARKET)
    other = Market(cost=0.5, quality=1.5, outside=0.2, mu=0.4)
    assert monopoly_price(other) > bertrand_nash_price(other) > other.cost


def test_shares_sum_with_the_outside_good_and_hidden_sellers_sell_nothing():
    rng = np.random.default_rng(0)
    prices = rng.uniform(1.0, 2.0, size=(50, 2))
    shown = rng.random((50, 2)) < 0.6
    s = shares(MARKET, prices, shown)
    outside = math.exp(MARKET.outside / MARKET.mu)
    inside = np.where(shown, np.exp((MARKET.quality - prices) / MARKET.mu), 0.0)
    np.testing.assert_allclose(s, inside / (inside.sum(1, keepdims=True) + outside), rtol=1e-12)
    assert np.all(s[~shown] == 0.0) and np.all(s.sum(1) < 1.0)
    surplus = consumer_surplus(MARKET, prices, shown)
    np.testing.assert_allclose(surplus, MARKET.mu * np.log(inside.sum(1) + outside), rtol=1e-12)
    # Showing more sellers never lowers the surplus; showing nobody leaves the outside good.
    assert np.all(consumer_surplus(MARKET, prices, BOTH) >= surplus - 1e-15)
    assert consumer_surplus(MARKET, prices[0], np.zeros(2, dtype=bool)) == MARKET.outside


def test_collusion_index_is_zero_at_nash_and_one_at_monopoly():
    nash, monopoly = bertrand_nash_price(MARKET), monopoly_price(MARKET)
    np.testing.assert_allclose(collusion_index([nash, monopoly], MARKET), [0.0, 1.0], atol=1e-12)
    assert collusion_index((nash + monopoly) / 2, MARKET) == pytest.approx(0.5, abs=1e-12)


# -- the platform's rules --------------------------------------------------------------------


def test_threshold_rules_on_hand_checked_profiles():
    assert threshold_shown([1, 2], 1).tolist() == [True, False]
    assert threshold_shown([3, 3], 2).tolist() == [False, False]
    assert threshold_of("no_intervention", (0, 3), 4) == 3
    assert threshold_of("pdp", (2, 1), 4) == 1 and threshold_of("pdp", (2, 2), 4) == 2
    with pytest.raises(ValueError, match="got 'dpdp'"):
        threshold_of("dpdp", (0, 1), 4)


def test_fixed_rules_on_hand_checked_price_paths():
    shown, box = fixed_rule("no_intervention", (1.7, 1.05))
    assert shown.tolist() == [True, True] and box == Box()
    assert fixed_rule("pdp", (1.2, 1.5))[0].tolist() == [True, False]
    assert fixed_rule("pdp", (1.5, 1.5))[0].tolist() == [True, True]  # a tie shows both
    # DPDP: the cheaper seller gets the box ...
    shown, box = fixed_rule("dpdp", (1.5, 1.3))
    assert shown.tolist() == [False, True] and box == Box(1, 1.3)
    # ... loses it when its price rises, to the cheaper seller ...
    shown, box = fixed_rule("dpdp", (1.2, 1.45), box)
    assert shown.tolist() == [True, False] and box == Box(0, 1.2)
    # ... keeps it while less than 0.3 above its rival, its price not risen ...
    shown, box = fixed_rule("dpdp", (1.2, 0.95), box)
    assert shown.tolist() == [True, False] and box == Box(0, 1.2)
    # ... and loses it at 0.3 or more above its rival.
    shown, box = fixed_rule("dpdp", (1.2, 0.9), box)
    assert shown.tolist() == [False, True] and box == Box(1, 0.9)
    assert fixed_rule("dpdp", (1.4, 1.4))[1] == Box(0, 1.4)  # a first tie: seller 0
    with pytest.raises(ValueError, match="got 'pda'"):
        fixed_rule("pda", (1.0, 1.0))


def test_first_cycle_mean():
    # Periods 1..2 repeat from period 3 on: the cycle's mean, not the whole phase's.
    assert first_cycle_mean([[0, 0], [1, 1], [2, 2], [1, 1]], [9.0, 1.0, 3.0, 1.0]) == 2.0
    assert first_cycle_mean([[2, 1], [2, 1], [0, 0]], [4.0, 5.0, 6.0]) == 4.0  # a fixed point
    assert first_cycle_mean([[0, 0], [0, 1], [1, 1]], [1.0, 2.0, 6.0]) == 3.0  # no repeat


# -- the game ------------------------------------------------------------------------------------


def test_game_tables_are_the_market_at_each_profile_and_threshold():
    game = CollusionPlatform()
    assert game.prices.tolist() == pytest.approx([1.05, 1.2666667, 1.4833333, 1.7], abs=1e-7)
    for i, j, k in [(0, 0, 3), (1, 2, 1), (3, 0, 0), (2, 3, 2)]:
        shown = threshold_shown([i, j], k)
        prices = game.prices[[i, j]]
        outcome = game.outcome(game.leader_step(game.start([0, 0], [i, j]), k))
        assert outcome.leader == pytest.approx(float(consumer_surplus(MARKET, prices, shown)))
        np.testing.assert_allclose(outcome.followers, profits(MARKET, prices, shown), rtol=1e-14)
    # One seller shown at 1.2667: 0.25 ln(e^{(2 - 1.2667)/0.25} + 1), by hand 0.74630.
    state = game.leader_step(game.start([0, 0], [1, 2]), 1)
    assert game.outcome(state).leader == pytest.approx(0.74630, abs=1e-5)
    assert game.leader_observation(state) == 1 * 4 + 2 and game.profile_of(6) == (1, 2)


def test_initial_values_are_profits_against_a_uniform_rival_with_both_shown():
    game = CollusionPlatform(n_prices=3)
    first, second = game.follower_initial_values()
    for a in range(3):
        against = [own_profit(MARKET, game.prices[a], game.prices[b]) for b in range(3)]
        assert first[0, a] == pytest.approx(np.mean(against), rel=1e-12)
    np.testing.assert_allclose(first, second, rtol=1e-12)  # symmetric sellers


def test_reference_is_an_upper_bound_with_computed_prices():
    reference = CollusionPlatform().reference()
    lowest = consumer_surplus(MARKET, [1.05, 1.05], BOTH)
    assert reference.optimum == pytest.approx(float(lowest), rel=1e-12)
    assert reference.details["bertrand_nash_price"] == bertrand_nash_price(MARKET)
    assert "upper bound" in reference.follower_model
    assert (
        reference.baselines["surplus_at_bertrand_nash"] > reference.baselines["surplus_at_monopoly"]
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_prices": 0}, ValueError, "n_prices must be at least 1, got 0"),
        ({"n_prices": 65}, ValueError, "n_prices must be at most 64, got 65"),
        ({"n_prices": 2.0}, TypeError, "n_prices must be an int, got 2.0"),
        ({"mu": 0.0}, ValueError, "mu must be positive, got 0.0"),
        ({"price_high": 1.0}, ValueError, "price_high must be above price_low"),
        ({"cost": float("nan")}, ValueError, "cost must be finite, got nan"),
        ({"quality": "2"}, TypeError, "quality must be a real number, got '2'"),
    ],
)
def test_bad_arguments_raise_naming_the_value(kwargs, error, message):
    with pytest.raises(error, match=message):
        CollusionPlatform(**kwargs)


def test_bad_sub_game_input_raises_naming_the_value():
    game = CollusionPlatform()
    with pytest.raises(ValueError, match=r"price index must be in \[0, 4\), got 4"):
        game.start([0, 0], [4, 0])
    with pytest.raises(ValueError, match="one entry per seller"):
        game.start([0, 0], [1])
    with pytest.raises(ValueError, match=r"threshold action must be in \[0, 4\), got -1"):
        game.leader_step(game.start([0, 0], [0, 0]), -1)


def test_multi_agent_period_pays_surplus_and_profits():
    env = pettingzoo.make("aec", "stackelberg/collusion-platform-v0")
    env.reset(seed=0)
    for action in (1, 2, 1):  # seller 0 at 1.2667, seller 1 at 1.4833, threshold 1.2667
        env.step(action)
    rewards = env.unwrapped.rewards
    assert rewards["leader_0"] == pytest.approx(0.74630, abs=1e-5)
    assert rewards["follower_0"] > 0.0 and rewards["follower_1"] == 0.0


# -- the Stackelberg POMDP -----------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [3, 0])
def test_reward_phase_pays_the_first_cycle_mean_at_its_end(threshold):
    """The reward phase pays 0 but at its last step, where it pays the mean surplus over the
    first cycle of the greedy sellers' price profiles (read from the leader's observations)."""
    env = StackelbergPOMDPEnv("collusion_platform", n_response=300, n_reward=12)
    game = env.unwrapped.game
    observation, _ = env.reset(seed=3)
    profiles, surpluses, rewards = [], [], []
    while True:
        in_reward = env.unwrapped.pomdp.phase == 1
        if in_reward:
            i, j = game.profile_of(observation)
            profiles.append((i, j))
            surpluses.append(float(game.surplus_table[i, j, threshold]))
        observation, reward, terminated, _, _ = env.step(threshold)
        if in_reward:
            rewards.append(reward)
        else:
            assert reward == 0.0
        if terminated:
            break
    assert len(profiles) == 12
    assert rewards[:-1] == [0.0] * 11
    assert rewards[-1] == first_cycle_mean(profiles, surpluses)
    # Greedy sellers whose state is the last profile follow a path that repeats.
    assert len(set(profiles)) < len(profiles)


def test_registered_ids_default_to_q_learning_sellers():
    env = pettingzoo.make("aec", "stackelberg/collusion-platform-pomdp-v0", n_response=5)
    assert env.unwrapped.pomdp.algorithm.name == "q_learning"
    assert env.unwrapped.pomdp.n_reward == 30
    paper = pettingzoo.make("aec", "stackelberg/collusion-platform-pomdp-v0")
    assert paper.unwrapped.pomdp.n_response == 50_000


def _reward_phase(rule: str, seeds: int):
    """The paper's episode (50,000 Q-learning periods, 30 greedy ones) in ``seeds`` copies under
    a threshold rule: each copy's mean reward-phase price and its return."""
    game = CollusionPlatform()
    pomdp = BatchedStackelbergPOMDP(game, seeds, "q_learning")
    observation = pomdp.reset(make_generators(0, seeds))
    prices = []
    while True:
        profile = np.stack(np.divmod(observation, game.n_prices), axis=1)
        actions = np.array([threshold_of(rule, p, game.n_prices) for p in profile])
        if (pomdp.phase == 1).all():
            prices.append(game.prices[profile].mean(axis=1))
        step = pomdp.step(actions)
        observation = step.observation
        if step.terminated.all():
            return np.mean(prices, axis=0), step.reward


@pytest.mark.slow
def test_q_learning_sellers_collude_unless_the_platform_intervenes():
    """Left alone, Q-learning sellers price above Bertrand-Nash (Calvano et al.); showing only
    the cheapest seller (PDP) lowers prices and raises the consumer surplus. Measured: 32 of
    32 seeds above p^N + 0.01 (collusion index 0.42 on average), surplus 0.54 -> 0.66."""
    alone, alone_return = _reward_phase("no_intervention", 16)
    pdp, pdp_return = _reward_phase("pdp", 16)
    index = collusion_index(alone, MARKET)
    assert (alone > bertrand_nash_price(MARKET) + 0.01).sum() >= 12
    assert index.mean() > 0.2
    assert pdp.mean() < alone.mean()
    assert pdp_return.mean() > alone_return.mean() + 0.05
