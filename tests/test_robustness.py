"""Robustness to follower models: evaluation against any model, the population model, the robust
reference (envs/evaluation.py, envs/pomdp/followers/population.py, equilibrium/robust.py)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.evaluation import (
    SavedPolicy,
    TablePolicy,
    enumerate_mechanisms,
    evaluate_policy,
    follower_model,
    robust_reference,
    summarize,
)
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import (
    BestResponse,
    HedgeResponse,
    MultiplicativeWeightsResponse,
    PopulationResponse,
    RegretMatchingResponse,
    ResponseAlgorithm,
)
from stackelberg_zoo.envs.pomdp.vector import StackelbergPOMDPVectorEnv
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation
from stackelberg_zoo.equilibrium.robust import robust_value

ROOT = Path(__file__).resolve().parents[1]
EVALUATE = ROOT / "baselines" / "evaluate.py"
SLOW_MW = MultiplicativeWeightsResponse(eps=0.01, reward_play="sample")


# -- the robust value: pure max-min and the mixed LP, against brute force ----------------------


def test_robust_value_matches_brute_force_on_small_matrices():
    rng = np.random.default_rng(5)
    grid = np.linspace(0.0, 1.0, 2001)
    for _ in range(30):
        values = rng.integers(0, 5, size=(2, rng.integers(1, 4))) / 4
        result = robust_value(values)
        pure = max(min(row) for row in values.tolist())
        assert result.pure_value == pure
        assert min(values[result.pure_mechanism]) == pure
        # Two mechanisms: the best lottery q on a fine grid (q, 1 - q).
        lotteries = np.outer(grid, values[0]) + np.outer(1 - grid, values[1])
        brute = lotteries.min(axis=1).max()
        assert brute - 1e-9 <= result.mixed_value <= brute + 1e-3  # grid step 5e-4
        q = result.mixed_mechanism
        assert (q @ values).min() == pytest.approx(result.mixed_value, abs=1e-7)
        assert result.pure_value <= result.mixed_value


def test_robust_value_of_matching_pennies_is_one_half():
    result = robust_value([[1.0, 0.0], [0.0, 1.0]])
    assert result.pure_value == 0.0
    assert result.mixed_value == pytest.approx(0.5, abs=1e-9)
    np.testing.assert_allclose(result.mixed_mechanism, [0.5, 0.5], atol=1e-7)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        robust_value([1.0, 2.0, 3.0])


def brute_force_row_value(game, row, followers, seeds):
    """Play the POMDP with a constant row; the value from the payoff matrix by hand."""
    values = []
    for seed in seeds:
        pomdp = StackelbergPOMDP(game, followers)
        pomdp.reset(np.random.default_rng(seed))
        while not pomdp.step(row).terminated:
            pass
        column_mix = pomdp.report.strategy[0][0]
        values.append(float(game.leader_payoffs[row] @ column_mix))
    return float(np.mean(values))


def test_robust_reference_matches_brute_force_on_maintain():
    game = NormalFormStackelberg("maintain")
    models = [SLOW_MW, BestResponse()]
    seeds = [0, 1, 2]
    reference = robust_reference(game, models, seeds)
    brute = np.array([[brute_force_row_value(game, r, m, seeds) for m in models] for r in range(3)])
    np.testing.assert_allclose(reference.values, brute, atol=1e-12)
    # Against a slow learner row 1 beats the best response's optimum (row 0): the robust
    # mechanism is not the optimal one.
    assert reference.result.pure_mechanism == 1
    assert reference.result.pure_value == pytest.approx(brute.min(axis=1).max(), abs=1e-12)
    assert reference.values[0, 1] == pytest.approx(game.reference().optimum, abs=1e-12)


def test_robust_reference_enumerates_message_maps_as_the_reference_does():
    game = SimpleAllocation(n_messages=2, prior=[0.5, 0.3, 0.2])
    reference = robust_reference(game, ["best_response"], seeds=[0])
    maps = np.array(list(itertools.product(range(3), repeat=2)))
    np.testing.assert_allclose(reference.values[:, 0], game.map_values(maps), atol=1e-12)
    assert reference.result.pure_value == pytest.approx(game.reference().optimum)
    mechanisms = enumerate_mechanisms(game)
    assert [m(np.int64(1)) for m in mechanisms] == maps[:, 1].tolist()
    with pytest.raises(ValueError, match="only Discrete leader actions"):
        enumerate_mechanisms(NormalFormStackelberg("escape", mixed_leader=True))


# -- the evaluation path -----------------------------------------------------------------------


def optimal_saved_run(tmp_path, game_name="maintain"):
    """The exact optimal mechanism, written as a trainer would save it."""
    game = NormalFormStackelberg(game_name)
    row = game.reference().optimal_policy
    record = {
        "env_id": "StackelbergZoo/NormalFormPOMDP-v0",
        "env_kwargs": {"game": game_name},
        "follower": "best_response",
        "mechanism": [{"observation": {"constant": 1.0}, "action": row}],
    }
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "mechanism.json").write_text(json.dumps(record))
    return game, run_dir, record


def test_the_optimal_mechanism_against_best_response_is_at_the_optimum(tmp_path):
    game, _, record = optimal_saved_run(tmp_path)
    policy = SavedPolicy(game, record["mechanism"])
    result = evaluate_policy(game, policy, "best_response", seeds=range(10))
    assert result.optimum == pytest.approx(2 / 3)
    assert result.at_optimum == 1.0 and result.leader_value.n == 10
    assert result.leader_value.mean == pytest.approx(result.optimum, abs=1e-12)
    assert result.leader_value.ci_low == pytest.approx(result.leader_value.ci_high, abs=1e-15)
    assert max(s.deviation_gain for s in result.seeds) <= 1e-12
    assert result.bcce_gap is not None and result.bcce_gap.mean <= 1e-12
    slow = evaluate_policy(game, policy, SLOW_MW, seeds=range(10))
    assert slow.leader_value.mean < result.optimum - 0.1  # a slow learner is not at the SSE
    assert slow.leader_value.ci_low - 1e-12 <= slow.leader_value.mean
    assert slow.leader_value.mean <= slow.leader_value.ci_high + 1e-12
    assert np.isfinite(slow.seeds[0].bcce_bound)


def test_evaluate_cli_reproduces_the_optimum_and_refuses_bad_input(tmp_path):
    _, run_dir, _ = optimal_saved_run(tmp_path)

    def evaluate(*flags):
        return subprocess.run(
            [sys.executable, str(EVALUATE), str(run_dir), *flags],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    good = evaluate("--follower", "best_response", "--seeds", "10")
    assert good.returncode == 0, good.stderr[-2000:]
    assert "leader value 0.666667  exact optimum 0.666667  gap 0.000000" in good.stdout
    assert "at the optimum (within 1e-3) in 10/10" in good.stdout
    for flags, message in [
        (["--follower", "nope"], "--follower must be one of"),
        (["--follower", "hedge", "--eps", "0.1"], "has no parameter 'eps'"),
        (["--follower", "mw", "--eps", "-1"], "eps must be positive and finite, got -1.0"),
        (["--seeds", "0"], "--seeds must be >= 1, got 0"),
    ]:
        bad = evaluate(*flags)
        assert bad.returncode == 2, (flags, bad.stderr)
        lines = bad.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (flags, bad.stderr)


def test_a_random_search_run_against_best_response_evaluates_at_the_optimum(tmp_path):
    """One real training run (random_search.py), then evaluate.py against best response."""
    trainer = ROOT / "baselines" / "random_search.py"
    train = subprocess.run(
        [sys.executable, str(trainer), "--env-id", "StackelbergZoo/SimpleAllocationPOMDP-v0",
         "--follower", "best_response", "--total-timesteps", "4096", "--num-envs", "4",
         "--no-progress-bar"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert train.returncode == 0 and "TARGET REACHED" in train.stdout, train.stderr[-2000:]
    (run_dir,) = (tmp_path / "runs" / "StackelbergZoo").glob("SimpleAllocationPOMDP-v0__*")
    replay = subprocess.run(
        [sys.executable, str(EVALUATE), str(run_dir), "--follower", "best_response"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert "leader value 1.000000  exact optimum 1.000000  gap 0.000000" in replay.stdout
    assert "in 10/10" in replay.stdout


def test_follower_model_builds_models_with_parameters_and_names_bad_ones():
    assert follower_model("mw", eps=0.1) == MultiplicativeWeightsResponse(eps=0.1)
    assert follower_model("regret_matching_plus") == RegretMatchingResponse(plus=True)
    assert follower_model("hedge", eta=0.5) == HedgeResponse(eta=0.5)
    with pytest.raises(ValueError, match="got 'nope'"):
        follower_model("nope")
    with pytest.raises(TypeError, match="no parameter 'eps'"):
        follower_model("hedge", eps=0.1)
    with pytest.raises(ValueError, match=r"got 0\.0"):
        follower_model("mw", eps=0.0)


def test_summarize_gives_the_iqm_and_a_bootstrap_interval_around_the_mean():
    summary = summarize([1, 2, 3, 4, 5, 6, 7, 100])
    assert summary.iqm == pytest.approx(4.5)  # the middle half: 3, 4, 5, 6
    assert summary.mean == pytest.approx(16.0)
    assert summary.ci_low < summary.mean < summary.ci_high
    assert summarize([0.5] * 4).ci_low == 0.5
    with pytest.raises(ValueError, match="non-empty and finite"):
        summarize([1.0, float("nan")])


# -- the population follower model ------------------------------------------------------------


def test_population_draws_its_members_in_proportion():
    game = SimpleAllocation(n_messages=2)
    population = PopulationResponse(members=(SLOW_MW, BestResponse()), weights=(1.0, 3.0))
    assert population.probabilities == (0.25, 0.75)
    pomdp = StackelbergPOMDP(game, population, n_response=20, n_reward=1)
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(400):
        pomdp.reset(rng)
        draws.append(pomdp.followers.member)
    assert abs(np.mean(draws) - 0.75) < 0.07  # 3 binomial standard deviations: 0.065


def test_a_population_episode_is_its_drawn_members_episode():
    """The population draws one uniform, then the episode is the member's, step for step."""
    game = NormalFormStackelberg("maintain")
    members = (SLOW_MW, HedgeResponse(reward_play="sample"))
    population = StackelbergPOMDP(game, PopulationResponse(members=members))
    for seed in range(6):
        rng = np.random.default_rng(seed)
        population.reset(rng)
        k = population.followers.member
        assert k == int(np.random.default_rng(seed).random() >= 0.5)
        alone = StackelbergPOMDP(game, members[k])
        rng_alone = np.random.default_rng(seed)
        rng_alone.random()
        alone.reset(rng_alone)
        for pomdp in (population, alone):
            while not pomdp.step(1).terminated:
                state = pomdp.state()
                assert pomdp.state_space.contains(state)
        np.testing.assert_array_equal(population.report.strategy[0], alone.report.strategy[0])
        assert population.followers.rounds == alone.followers.rounds


@dataclass(frozen=True)
class SingleEnvHedge(HedgeResponse):
    """Hedge without a batched kernel (as a model that implements the single env only)."""

    def batched(self, spec, n_response, num_envs, draw, record):
        return ResponseAlgorithm.batched(self, spec, n_response, num_envs, draw, record)


def test_population_is_registered_and_batched_when_its_members_are():
    env = gymnasium.make("StackelbergZoo/SimpleAllocationPOMDP-v0", followers="population")
    env.reset(seed=0)
    assert env.unwrapped.pomdp.followers.member in range(4)
    vector = StackelbergPOMDPVectorEnv(3, "simple_allocation", followers="population")
    vector.reset(seed=[0, 1, 2])
    assert set(vector.pomdp.followers.member.tolist()) <= set(range(4))
    # (tests/test_vector_env.py checks it step for step against single environments)
    mix = PopulationResponse(members=(SLOW_MW, SingleEnvHedge()))
    with pytest.raises(ValueError, match="no batched implementation"):
        StackelbergPOMDPVectorEnv(2, "simple_allocation", followers=mix)
    with pytest.raises(TypeError, match="ResponseAlgorithm instances"):
        PopulationResponse(members=("mw",))
    with pytest.raises(ValueError, match="one weight per member"):
        PopulationResponse(weights=(1.0,))
    with pytest.raises(ValueError, match="finite and >= 0"):
        PopulationResponse(members=(SLOW_MW,), weights=(-1.0,))


def test_table_policy_refuses_an_unknown_observation():
    game = SimpleAllocation(n_messages=2)
    policy = TablePolicy(game, {})
    with pytest.raises(ValueError, match="no action for the observation"):
        policy(np.int64(0))


# -- the robustness table (benchmark/robustness.py) --------------------------------------------


def test_robustness_table_writes_its_outputs_and_respects_the_robust_bound(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmark"))
    import robustness

    args = robustness.Args(
        out=str(tmp_path), settings=("maintain",), train_seeds=2, eval_seeds=2, train_episodes=12
    )
    robustness.check_args(args)
    assert robustness.main(args) == 0  # 1 would mean a row beat the exact robust value
    text = (tmp_path / "robustness.md").read_text()
    assert "| population |" in text and "Robust reference over the 8 column models" in text
    robust = "best single mechanism against the worst model **0.3333** (leader commits to row 1)"
    assert robust in text
    data = json.loads((tmp_path / "marl_eval.json").read_text())
    runs = data["normal_form"]["maintain/evaluated-against:best response"]
    rows = robustness.rows(robustness.models("sample"))
    assert set(runs) == {f"trained-against:{row}" for row in rows}
    seed = runs["trained-against:best response"]["seed_1"]
    assert seed["absolute_metrics"]["leader_value"] == pytest.approx([2 / 3, 2 / 3])
    assert (tmp_path / "maintain.png").stat().st_size > 0
    with pytest.raises(ValueError, match=r"--train-seeds must be >= 1, got 0"):
        robustness.check_args(robustness.Args(train_seeds=0))
    with pytest.raises(ValueError, match="got \\['nope'\\]"):
        robustness.check_args(robustness.Args(settings=("nope",)))


def test_robustness_table_samples_continuous_mechanisms(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmark"))
    import robustness

    args = robustness.Args(
        out=str(tmp_path), settings=("matrix-design",), train_seeds=2, eval_seeds=1,
        sampled_episodes=4,
    )  # fmt: skip
    game = robustness.game_of("matrix-design")
    assert not robustness.enumerable(game)
    rng = np.random.default_rng(0)
    policy = robustness.sampled_mechanism(game, rng)
    for observation in robustness.leader_observations(game):
        action = policy(observation)
        assert game.leader_action_space.contains(action)
    assert robustness.main(args) == 0  # no row above the exact optimum
    text = (tmp_path / "robustness.md").read_text()
    assert "No exact robust reference" in text and "| best response |" not in text
    assert "random search over 4 sampled mechanisms" in text
    learned = json.loads((tmp_path / "mechanisms.json").read_text())
    assert len(learned["matrix-design"]["population"]) == 2  # one per training seed


def test_a_sampled_table_draws_each_observation_once_and_keeps_it():
    sys.path.insert(0, str(ROOT / "benchmark"))
    import robustness

    game = robustness.game_of("mspm-pi")  # the leader acts several times per sub-game
    policy = robustness.sampled_mechanism(game, np.random.default_rng(0))
    assert isinstance(policy, robustness.SampledTable)
    first = game.leader_observation(game.start(np.array([0, 1]), np.array([0, 0])))
    action = policy(first)
    assert game.leader_action_space.contains(action)
    assert policy(first.copy()) is action and len(policy.actions) == 1
    again = robustness.sampled_mechanism(game, np.random.default_rng(0))
    np.testing.assert_array_equal(again(first), action)  # the same seed, the same table
    assert robustness.mechanism_text(game, policy)  # the observations asked about


def test_the_mspm_settings_are_the_reproductions_instances():
    """The table's MSPM settings are the games of the reproduction's experiments of the same
    name (PI, MSGSpace t = 3..7 and three followers at t = 3, two messages), and their
    leaders' tables are sampled."""
    sys.path.insert(0, str(ROOT / "benchmark"))
    import reproduce
    import robustness

    names = [name for name in robustness.SETTINGS if name.startswith("mspm")]
    assert names == ["mspm-pi", "mspm-t3", "mspm-t4", "mspm-t5", "mspm-t6", "mspm-t7", "mspm-3f-t3"]
    for name in names:
        # t = 7 runs only under the certified protocol in the reproduction
        experiment = reproduce.EXPERIMENTS_BY_NAME.get(name)
        experiment = experiment or reproduce.EXPERIMENTS_BY_NAME[f"{name}-certified"]
        assert robustness.SETTINGS[name] == (experiment.setting, experiment.env_kwargs)
        game = robustness.game_of(name)
        assert not robustness.enumerable(game)
        policy = robustness.sampled_mechanism(game, np.random.default_rng(0))
        assert isinstance(policy, robustness.SampledTable)
