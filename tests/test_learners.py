"""Batched no-regret learners: closed forms, batching, masks, sampling and input validation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackelberg_zoo.equilibrium.learners import (
    Exp3,
    Hedge,
    MultiplicativeWeights,
    OptimisticHedge,
    RegretMatching,
    exp_weights_strategy,
    expected_gain,
    normalised_weights,
    sum_actions,
)

FULL_INFORMATION = {
    "mw": lambda shape, n: MultiplicativeWeights(shape, n, eps=0.2),
    "hedge": lambda shape, n: Hedge(shape, n, eta=0.7),
    "hedge_anytime": lambda shape, n: Hedge(shape, n, eta="anytime", payoff_range=2.0),
    "rm": lambda shape, n: RegretMatching(shape, n),
    "rm_plus": lambda shape, n: RegretMatching(shape, n, plus=True),
    "optimistic": lambda shape, n: OptimisticHedge(shape, n, eta=0.5),
}


def _state(learner):
    return {
        "strategy": learner.strategy().copy(),
        "regret": learner.regret(),
        "cumulative_gains": learner.cumulative_gains,
        "n_updates": learner.n_updates,
        "features": learner.state_features(),
    }


# -- batched == unbatched -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FULL_INFORMATION))
def test_batch_equals_separate_runs(name):
    rng = np.random.default_rng(7)
    make = FULL_INFORMATION[name]
    batch, n_actions, rounds = 5, 4, 60
    batched = make((batch,), n_actions)
    separate = [make((), n_actions) for _ in range(batch)]
    for _ in range(rounds):
        gains = rng.uniform(-1.0, 1.0, size=(batch, n_actions))
        mask = rng.random(batch) < 0.7
        batched.update(gains, mask)
        for k, learner in enumerate(separate):
            if mask[k]:
                learner.update(gains[k])
    for k, learner in enumerate(separate):
        np.testing.assert_allclose(
            batched.strategy()[k], learner.strategy(), rtol=1e-12, atol=1e-14
        )
        np.testing.assert_allclose(batched.regret()[k], learner.regret(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            batched.cumulative_gains[k], learner.cumulative_gains, atol=1e-12
        )
        assert batched.n_updates[k] == learner.n_updates


def test_exp3_batch_equals_separate_runs():
    rng = np.random.default_rng(3)
    batch, n_actions = 4, 3
    batched = Exp3((batch,), n_actions, gamma=0.2)
    separate = [Exp3((), n_actions, gamma=0.2) for _ in range(batch)]
    for _ in range(50):
        gains = rng.random((batch, n_actions))
        actions = batched.sample(rng)
        rewards = gains[np.arange(batch), actions]
        mask = rng.random(batch) < 0.6
        batched.update_bandit(actions, rewards, mask, gains=gains)
        for k, learner in enumerate(separate):
            if mask[k]:
                learner.update_bandit(actions[k], rewards[k], gains=gains[k])
    for k, learner in enumerate(separate):
        np.testing.assert_allclose(batched.strategy()[k], learner.strategy(), rtol=1e-12)
        np.testing.assert_allclose(batched.regret()[k], learner.regret(), atol=1e-12)
        np.testing.assert_allclose(
            batched.realised_regret()[k], learner.realised_regret(), atol=1e-12
        )


# -- mask semantics -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FULL_INFORMATION))
def test_masked_out_learners_are_untouched(name):
    rng = np.random.default_rng(11)
    learner = FULL_INFORMATION[name]((3, 4), 3)  # (environments, types)
    for _ in range(5):
        learner.update(rng.random((3, 4, 3)))
    before = _state(learner)
    realised_type = np.array([2, 0, 3])
    mask = np.arange(4)[None, :] == realised_type[:, None]  # one-hot over the type axis
    learner.update(rng.random((3, 4, 3)) + 5.0, mask)
    after = _state(learner)
    for key in ("strategy", "regret", "cumulative_gains", "n_updates"):
        np.testing.assert_array_equal(after[key][~mask], before[key][~mask], err_msg=key)
    np.testing.assert_array_equal(after["n_updates"][mask], before["n_updates"][mask] + 1)
    assert np.all(after["cumulative_gains"][mask] > before["cumulative_gains"][mask])


@pytest.mark.parametrize("name", sorted(FULL_INFORMATION))
def test_all_false_mask_changes_nothing(name):
    rng = np.random.default_rng(1)
    learner = FULL_INFORMATION[name]((4,), 3)
    learner.update(rng.random((4, 3)))
    before = _state(learner)
    learner.update(rng.random((4, 3)), np.zeros(4, dtype=bool))
    after = _state(learner)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


@pytest.mark.parametrize("name", sorted(FULL_INFORMATION))
def test_reset_with_mask_resets_only_selected(name):
    rng = np.random.default_rng(5)
    learner = FULL_INFORMATION[name]((3,), 2)
    fresh = FULL_INFORMATION[name]((3,), 2)
    for _ in range(4):
        learner.update(rng.random((3, 2)))
    before = _state(learner)
    mask = np.array([True, False, True])
    learner.reset(mask)
    after = _state(learner)
    np.testing.assert_array_equal(after["strategy"][mask], fresh.strategy()[mask])
    np.testing.assert_array_equal(after["n_updates"][mask], 0)
    np.testing.assert_array_equal(after["regret"][mask], 0.0)
    np.testing.assert_array_equal(after["strategy"][~mask], before["strategy"][~mask])
    learner.reset()
    np.testing.assert_array_equal(learner.n_updates, 0)


# -- closed forms ---------------------------------------------------------------------------


@given(
    gains=st.lists(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3), min_size=1, max_size=25),
    eps=st.sampled_from([0.01, 0.1, 0.5, 1.0]),
)
@settings(max_examples=60, deadline=None)
def test_mw_weights_equal_product_of_powers(gains, eps):
    # w_0 = 1 and w_{t} = w_{t-1} * (1+eps)^{g_t}, so w_k = Π_t (1+eps)^{g_t}.
    learner = MultiplicativeWeights((), 3, eps=eps)
    weights = np.ones(3)
    expected_gain = 0.0
    for g in gains:
        x = weights / weights.sum()
        np.testing.assert_allclose(learner.strategy(), x, rtol=1e-12)
        expected_gain += float(x @ np.array(g))
        learner.update(g)
        weights = weights * (1.0 + eps) ** np.array(g)
    np.testing.assert_allclose(learner.weights(), weights, rtol=1e-12)
    np.testing.assert_allclose(learner.strategy(), weights / weights.sum(), rtol=1e-12)
    regret = np.sum(gains, axis=0).max() - expected_gain
    np.testing.assert_allclose(learner.regret(), regret, atol=1e-12)


def test_mw_state_features_are_the_papers_normalised_table():
    rng = np.random.default_rng(2)
    learner = MultiplicativeWeights((2, 3), 4, eps=0.01)  # (environments, types)
    for _ in range(30):
        learner.update(rng.random((2, 3, 4)))
    weights = learner.weights()
    per_learner = learner.state_features()
    np.testing.assert_allclose(
        per_learner, weights / weights.max(axis=-1, keepdims=True), rtol=1e-12
    )
    per_table = learner.state_features(group_ndim=1)
    np.testing.assert_allclose(
        per_table, weights / weights.max(axis=(1, 2), keepdims=True), rtol=1e-12
    )
    assert per_table.max(axis=(1, 2)).tolist() == [1.0, 1.0]


def test_mw_weights_overflow_raises_but_features_stay_finite():
    learner = MultiplicativeWeights((), 2, eps=1.0)
    for _ in range(1100):
        learner.update([1.0, 0.0])
    with pytest.raises(OverflowError, match="log-weight"):
        learner.weights()
    np.testing.assert_allclose(learner.state_features(), [1.0, 2.0**-1100], atol=0)
    np.testing.assert_allclose(learner.log_weights(), [1100 * math.log(2.0), 0.0])


def test_mw_greedy_breaks_ties_to_lowest_index():
    learner = MultiplicativeWeights((3,), 3, eps=0.01)
    learner.update([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.5, 0.2, 0.5]])
    np.testing.assert_array_equal(learner.greedy(), [0, 1, 0])


def test_hedge_fixed_and_anytime_closed_forms():
    rng = np.random.default_rng(4)
    gains = rng.uniform(-1.0, 2.0, size=(20, 3))
    fixed = Hedge((), 3, eta=0.3, initial_gains=[0.0, 2.0, 0.0])
    anytime = Hedge((), 3, eta="anytime", payoff_range=3.0)
    for t, g in enumerate(gains):
        past = gains[:t].sum(axis=0)
        z = 0.3 * (past + [0.0, 2.0, 0.0])
        np.testing.assert_allclose(fixed.strategy(), np.exp(z) / np.exp(z).sum(), rtol=1e-12)
        eta_t = math.sqrt(8 * math.log(3) / (t + 1)) / 3.0
        z = eta_t * past
        np.testing.assert_allclose(anytime.strategy(), np.exp(z) / np.exp(z).sum(), rtol=1e-12)
        fixed.update(g)
        anytime.update(g)


def test_optimistic_hedge_counts_last_gain_twice():
    rng = np.random.default_rng(6)
    gains = rng.random((15, 4))
    learner = OptimisticHedge((), 4, eta=0.8)
    last = np.zeros(4)
    for t, g in enumerate(gains):
        z = 0.8 * (gains[:t].sum(axis=0) + last)
        np.testing.assert_allclose(learner.strategy(), np.exp(z) / np.exp(z).sum(), rtol=1e-12)
        learner.update(g)
        last = g


@pytest.mark.parametrize("plus", [False, True])
def test_regret_matching_closed_form(plus):
    rng = np.random.default_rng(8)
    learner = RegretMatching((), 3, plus=plus)
    q = np.zeros(3)
    for g in rng.uniform(-1, 1, size=(40, 3)):
        positive = np.maximum(q, 0.0)
        x = positive / positive.sum() if positive.sum() > 0 else np.full(3, 1 / 3)
        np.testing.assert_allclose(learner.strategy(), x, rtol=1e-12, atol=1e-15)
        learner.update(g)
        q = q + g - x @ g
        if plus:
            q = np.maximum(q, 0.0)
    np.testing.assert_allclose(learner.cumulative_regrets(), q, atol=1e-12)


@given(
    name=st.sampled_from(sorted(FULL_INFORMATION)),
    seed=st.integers(0, 2**32 - 1),
    n_actions=st.integers(1, 6),
    scale=st.sampled_from([1e-3, 1.0, 50.0]),
)
@settings(max_examples=60, deadline=None)
def test_strategies_are_distributions(name, seed, n_actions, scale):
    rng = np.random.default_rng(seed)
    learner = FULL_INFORMATION[name]((2, 3), n_actions)
    for _ in range(10):
        learner.update(scale * rng.standard_normal((2, 3, n_actions)))
        x = learner.strategy()
        assert x.shape == (2, 3, n_actions)
        assert np.all(x >= 0)
        np.testing.assert_allclose(x.sum(axis=-1), 1.0, atol=1e-12)


def test_strategy_view_is_read_only_and_stable():
    learner = Hedge((2,), 2, eta=1.0)
    x = learner.strategy()
    with pytest.raises(ValueError):
        x[0, 0] = 1.0
    kept = learner.strategy()
    learner.update([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(kept, 0.5)


@pytest.mark.parametrize("name", sorted(FULL_INFORMATION))
@pytest.mark.parametrize("batch_shape", [(), (2,)])
def test_learner_keeps_no_reference_to_callers_gains(name, batch_shape):
    learner = FULL_INFORMATION[name](batch_shape, 3)
    gains = np.tile(np.array([1.0, 0.0, 0.5]), batch_shape + (1,))
    learner.update(gains)
    before = _state(learner)
    gains[...] = 100.0
    for key, value in _state(learner).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


# -- sampling -------------------------------------------------------------------------------


def test_sample_frequencies_match_strategies():
    rng = np.random.default_rng(2024)
    learner = Hedge((3,), 4, eta=1.0, initial_gains=[[0, 1, 2, 3], [3, 0, 0, 0], [0, 0, 0, 0]])
    x = learner.strategy()
    draws = 40_000
    counts = np.zeros((3, 4))
    for _ in range(draws):
        counts[np.arange(3), learner.sample(rng)] += 1
    frequency = counts / draws
    sd = np.sqrt(x * (1 - x) / draws)
    assert np.all(np.abs(frequency - x) <= 5 * sd + 1e-12)


def test_sample_never_draws_zero_probability_actions():
    rng = np.random.default_rng(0)
    learner = RegretMatching((1000,), 4)
    learner.update(np.tile([1.0, 0.0, 1.0, 0.0], (1000, 1)))  # x = (1/2, 0, 1/2, 0)
    x = learner.strategy()
    assert np.all(x[:, [1, 3]] == 0)
    for _ in range(50):
        drawn = learner.sample(rng)
        assert np.all((drawn == 0) | (drawn == 2))


def test_sample_is_reproducible_with_seed():
    learner = MultiplicativeWeights((50,), 5)
    a = learner.sample(np.random.default_rng(9))
    b = learner.sample(np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == (50,)


# -- EXP3 -----------------------------------------------------------------------------------


def test_exp3_importance_weighted_update():
    learner = Exp3((), 3, gamma=0.3, reward_bounds=(-1.0, 1.0))
    np.testing.assert_allclose(learner.strategy(), 1 / 3)
    learner.update_bandit(np.int64(1), 0.5)  # rescaled reward 0.75, probability 1/3
    estimate = np.array([0.0, 0.75 * 3, 0.0])
    z = (0.3 / 3) * estimate
    soft = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(learner.strategy(), 0.7 * soft + 0.1, rtol=1e-12)
    np.testing.assert_allclose(learner.realised_rewards, 0.5)
    with pytest.raises(ValueError, match="without gains"):
        learner.regret()


def test_exp3_regret_bookkeeping_with_gains():
    rng = np.random.default_rng(12)
    learner = Exp3((), 3, gamma=0.1)
    total_expected, total_reward, cumulative = 0.0, 0.0, np.zeros(3)
    for _ in range(30):
        g = rng.random(3)
        x = learner.strategy().copy()
        a = learner.sample(rng)
        learner.update_bandit(a, g[a], gains=g)
        total_expected += x @ g
        total_reward += g[a]
        cumulative += g
    np.testing.assert_allclose(learner.regret(), cumulative.max() - total_expected, atol=1e-12)
    np.testing.assert_allclose(
        learner.realised_regret(), cumulative.max() - total_reward, atol=1e-12
    )


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "error", "match"),
    [
        (
            lambda: MultiplicativeWeights((2,), 3, eps=0.0),
            ValueError,
            "eps must be positive, got 0.0",
        ),
        (lambda: MultiplicativeWeights((2,), 3, eps=-0.1), ValueError, "-0.1"),
        (lambda: MultiplicativeWeights((2,), 3, eps=float("nan")), ValueError, "nan"),
        (lambda: Hedge((2,), 3, eta=0), ValueError, "eta must be positive, got 0"),
        (lambda: Hedge((2,), 3, eta=-1.0), ValueError, "-1.0"),
        (lambda: Hedge((2,), 3, eta="doubling"), ValueError, "'doubling'"),
        (lambda: Hedge((2,), 3, eta="anytime", payoff_range=0.0), ValueError, "payoff_range"),
        (lambda: OptimisticHedge((2,), 3, eta=-2.0), ValueError, "-2.0"),
        (lambda: Hedge((2,), 3, eta=[0.1, 0.2, 0.3]), ValueError, r"\(3,\)"),
        (lambda: RegretMatching((2,), 0), ValueError, "got 0"),
        (lambda: RegretMatching((2,), 2.5), TypeError, "2.5"),
        (lambda: RegretMatching((-1,), 2), ValueError, r"\(-1,\)"),
        (lambda: RegretMatching((2,), 2, plus="yes"), TypeError, "'yes'"),
        (lambda: Exp3((2,), 3, gamma=1.5), ValueError, "1.5"),
        (lambda: Exp3((2,), 3, gamma=0.1, reward_bounds=(1.0, 0.0)), ValueError, "low < high"),
    ],
)
def test_bad_parameters_raise_with_the_value(factory, error, match):
    with pytest.raises(error, match=match):
        factory()


@pytest.mark.parametrize("name", sorted(FULL_INFORMATION))
def test_bad_gains_and_masks_raise(name):
    learner = FULL_INFORMATION[name]((2,), 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*got \(3, 2\)"):
        learner.update(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"got \(2,\)"):
        learner.update(np.zeros(2))
    nan_gains = np.zeros((2, 3))
    nan_gains[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"got nan at index \(1, 2\)"):
        learner.update(nan_gains)
    inf_gains = np.zeros((2, 3))
    inf_gains[0, 1] = -np.inf
    with pytest.raises(ValueError, match=r"-inf at index \(0, 1\)"):
        learner.update(inf_gains)
    with pytest.raises(TypeError, match="gains must be a numeric array"):
        learner.update([["a", "b", "c"], ["d", "e", "f"]])
    with pytest.raises(TypeError, match="mask must be a boolean array, got dtype int64"):
        learner.update(np.zeros((2, 3)), np.array([1, 0]))
    with pytest.raises(ValueError, match=r"mask must have shape.*got \(3,\)"):
        learner.update(np.zeros((2, 3)), np.array([True, False, True]))
    with pytest.raises(ValueError, match="group_ndim"):
        learner.state_features(group_ndim=2)
    with pytest.raises(TypeError, match=r"rng must be a np\.random\.Generator"):
        learner.sample(42)
    # Nothing was recorded by the failed calls.
    np.testing.assert_array_equal(learner.n_updates, 0)


def test_exp3_bad_bandit_feedback_raises():
    learner = Exp3((2,), 3, gamma=0.1)
    with pytest.raises(ValueError, match=r"actions must be in \[0, 3\)"):
        learner.update_bandit(np.array([0, 3]), np.array([0.5, 0.5]))
    with pytest.raises(TypeError, match="actions must be integers"):
        learner.update_bandit(np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"max 1\.5"):
        learner.update_bandit(np.array([0, 1]), np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="nan"):
        learner.update_bandit(np.array([0, 1]), np.array([0.5, np.nan]))
    gains = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    with pytest.raises(ValueError, match="must equal rewards"):
        learner.update_bandit(np.array([0, 1]), np.array([0.1, 0.4]), gains=gains)
    np.testing.assert_array_equal(learner.n_updates, 0)


# -- one formula: fast paths and layout independence, bit for bit ----------------------------


def _mw_state(learner):
    return {
        "strategy": np.array(learner.strategy()),
        "regret": learner.regret(),
        "cumulative_gains": learner.cumulative_gains,
        "n_updates": learner.n_updates,
        "features": learner.state_features(group_ndim=1),
    }


@pytest.mark.parametrize("n_actions", [3, 8, 12])
def test_mw_update_rows_and_unchecked_equal_masked_update_bit_for_bit(n_actions):
    rng = np.random.default_rng(11)
    batch = (5, 3)
    public = MultiplicativeWeights(batch, n_actions, eps=0.05)
    unchecked = MultiplicativeWeights(batch, n_actions, eps=0.05)
    rows = MultiplicativeWeights(batch, n_actions, eps=0.05)
    for step in range(40):
        gains = rng.uniform(-1.0, 2.0, batch + (n_actions,))
        types = rng.integers(3, size=5)
        mask = np.zeros(batch, dtype=bool)
        mask[np.arange(5), types] = True
        public.update(gains, mask)
        unchecked.update_unchecked(gains, mask)
        flat = np.arange(5) * 3 + types
        if step % 2:  # with and without the caller's strategies
            rows.update_rows(flat, gains[np.arange(5), types].T)
        else:
            strategy = rows.strategy_rows(flat)
            rows.update_rows(flat, gains[np.arange(5), types].T, strategy)
    reference = _mw_state(public)
    for other in (unchecked, rows):
        for key, value in _mw_state(other).items():
            np.testing.assert_array_equal(value, reference[key], err_msg=key)


@pytest.mark.parametrize("n_actions", [2, 3, 7, 8, 9, 20])
def test_a_learner_gets_the_same_bits_alone_or_in_a_batch(n_actions):
    # Reductions over actions run left to right, so neither the batch size, the layout nor
    # numpy's pairwise summation (from 8 terms on) can change a learner's bits.
    rng = np.random.default_rng(n_actions)
    batched = MultiplicativeWeights((64,), n_actions, eps=0.3)
    alone = MultiplicativeWeights((), n_actions, eps=0.3)
    single_row = MultiplicativeWeights((1,), n_actions, eps=0.3)
    for _ in range(30):
        gains = rng.uniform(0.0, 1.0, (64, n_actions)) * 10 ** rng.uniform(-3, 3)
        batched.update(gains)
        alone.update(gains[17])
        single_row.update_rows(0, gains[17])
        np.testing.assert_array_equal(batched.strategy()[17], alone.strategy())
        np.testing.assert_array_equal(single_row.strategy_rows(0), alone.strategy())
    np.testing.assert_array_equal(batched.regret()[17], alone.regret())
    np.testing.assert_array_equal(single_row.regret()[0], alone.regret())


def test_sum_actions_adds_left_to_right_in_any_layout():
    rng = np.random.default_rng(5)
    for n in (1, 2, 5, 8, 9, 33):
        x = rng.standard_normal((n, 4)) * 10.0 ** rng.integers(-8, 8, size=(n, 4))
        expected = np.zeros(4)
        for a in range(n):
            expected = expected + x[a]
        np.testing.assert_array_equal(sum_actions(x), expected)
        np.testing.assert_array_equal(sum_actions(np.asfortranarray(x)), expected)
        np.testing.assert_array_equal(sum_actions(x[:, 1]), expected[1])


def test_exp_weights_kernel_is_the_closed_form():
    scores = np.array([[0.0, 5.0], [2.0, -1.0], [1.0, 5.0]])  # [A=3, 2 learners]
    eta = math.log1p(0.5)
    weights = 1.5 ** (scores - scores.max(axis=0))
    np.testing.assert_allclose(
        exp_weights_strategy(scores, eta), weights / weights.sum(axis=0), rtol=1e-14
    )
    g = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    x = exp_weights_strategy(scores, eta)
    np.testing.assert_allclose(expected_gain(x, g), (x * g).sum(axis=0), rtol=1e-15)
    np.testing.assert_allclose(normalised_weights(scores, eta), 1.5 ** (scores - 5.0), rtol=1e-14)


def test_mw_update_does_not_overwrite_a_strategy_the_caller_holds():
    learner = MultiplicativeWeights((3,), 2, eps=0.5)
    learner.update(np.array([[1.0, 0.0]] * 3))
    held = learner.strategy()
    copy = np.array(held)
    for _ in range(3):
        learner.update(np.array([[0.0, 1.0]] * 3))
        learner._strategy_internal()  # recompute into the learner's buffer
    np.testing.assert_array_equal(held, copy)
    assert not np.array_equal(np.array(learner.strategy()), copy)


def test_update_still_rejects_non_finite_gains_before_changing_anything():
    learner = MultiplicativeWeights((2,), 3)
    before = _mw_state(learner)
    with pytest.raises(ValueError, match=r"nan at index \(1, 2\)"):
        learner.update([[0.0, 1.0, 0.0], [0.0, 0.0, np.nan]])
    for key, value in _mw_state(learner).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
