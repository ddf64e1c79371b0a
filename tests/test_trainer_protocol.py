"""The trainers under either follower protocol (`--protocol paper | certified`).

Flags are parsed in-process through each trainer's ``parse_args``; the batch of a certified
rollout is checked on the functions that build it, with constructed info streams; the short
end-to-end runs use subprocesses.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from trainer_scripts import BASELINES, load_trainer, run_trainer

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)

MSPM = "StackelbergZoo/MspmPOMDP-v0"
PI = '{"values": "pi", "n_messages": 2}'


@pytest.fixture(scope="module")
def mappo():
    return load_trainer("mappo.py", "_protocol_")


@pytest.fixture(scope="module")
def random_search():
    return load_trainer("random_search.py", "_protocol_")


def parse(module, argv, monkeypatch):
    monkeypatch.setattr(sys, "argv", [f"{module.__name__}.py", *argv])
    return module.parse_args()


# -- flags ---------------------------------------------------------------------------------------

BAD = [
    ("mappo", ["--protocol", "certified", "--follower", "hedge"], "--follower applies to"),
    ("mappo", ["--protocol", "certified", "--mw-eps", "0.5"], "--mw-eps applies to --protocol"),
    ("random_search", ["--protocol", "certified", "--follower", "hedge"], "--follower applies"),
    ("mappo", ["--env-kwargs", '{"protocol": "certified"}'], "must not set 'protocol'"),
    ("random_search", ["--env-kwargs", '{"followers": "mw"}'], "must not set 'followers'"),
]


@pytest.mark.parametrize(("trainer", "argv", "message"), BAD, ids=lambda x: str(x))
def test_bad_protocol_combination_stops_with_one_line(
    mappo, random_search, trainer, argv, message, monkeypatch, capsys
):
    module = {"mappo": mappo, "random_search": random_search}[trainer]
    with pytest.raises(SystemExit) as stop:
        parse(module, argv, monkeypatch)
    text = capsys.readouterr().err
    assert stop.value.code == 2
    assert message in text and text.count("\n") == 1, text


@pytest.mark.parametrize("trainer", ["mappo", "random_search"])
def test_unknown_protocol_is_refused(mappo, random_search, trainer, monkeypatch, capsys):
    module = {"mappo": mappo, "random_search": random_search}[trainer]
    with pytest.raises(SystemExit) as stop:
        parse(module, ["--protocol", "exact"], monkeypatch)
    assert stop.value.code == 2 and "--protocol" in capsys.readouterr().err


def test_protocol_reaches_the_env_kwargs(mappo, random_search, monkeypatch):
    args, _, env_kwargs = parse(mappo, ["--env-id", MSPM, "--protocol", "certified"], monkeypatch)
    assert args.protocol == "certified" and mappo.followers_of(args) is None
    kwargs = mappo.env_kwargs_of(args, env_kwargs)
    assert kwargs["protocol"] == "certified" and kwargs["followers"] is None
    args, _, env_kwargs = parse(mappo, ["--env-id", MSPM], monkeypatch)
    assert args.protocol == "paper" and "protocol" not in mappo.env_kwargs_of(args, env_kwargs)
    args, _, env_kwargs = parse(random_search, ["--protocol", "certified"], monkeypatch)
    assert random_search.env_kwargs_of(args, env_kwargs)["protocol"] == "certified"
    # The setting's own default follower model is not "given" (the collusion platform's).
    platform = "StackelbergZoo/CollusionPlatformPOMDP-v0"
    args, _, _ = parse(
        random_search, ["--env-id", platform, "--protocol", "certified"], monkeypatch
    )
    assert args.follower != "mw"


@pytest.mark.parametrize("trainer", ["mappo.py", "random_search.py"])
def test_collusion_platform_under_certified_stops_at_start(trainer, tmp_path):
    result = subprocess.run(
        [sys.executable, str(BASELINES / trainer), "--protocol", "certified"]
        + ["--env-id", "StackelbergZoo/CollusionPlatformPOMDP-v0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "(--protocol certified)" in result.stderr
    assert "exact reward phase" in result.stderr and not (tmp_path / "runs").exists()


# -- the batch of a certified rollout ------------------------------------------------------------


def info_stream(extension_rows):
    """Vector-env infos as the certified POMDP returns them (and one without the key)."""
    return [
        {"extension": np.array(row), "_extension": np.ones(len(row), bool)}
        for row in extension_rows
    ]


def test_extension_steps_never_enter_the_batch(mappo):
    rows = [[False, True, False], [True, True, False], [False, False, False], [True, False, True]]
    extension = np.stack([mappo.extension_flags(info, 3) for info in info_stream(rows)])
    np.testing.assert_array_equal(extension, np.array(rows))
    assert not mappo.extension_flags({"phase": np.zeros(3)}, 3).any()  # paper: no key
    response = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 0, 0]], dtype=bool)
    rng = np.random.default_rng(0)
    keep = mappo.batch_mask(response, extension, 1.0, rng)
    np.testing.assert_array_equal(keep, ~extension)
    keep = mappo.batch_mask(response, extension, 0.0, rng)  # Basic POMDP: reward phase only
    np.testing.assert_array_equal(keep, ~response & ~extension)
    # The paper's batch draws the same numbers as before extension flags existed.
    none = np.zeros_like(extension)
    a = mappo.batch_mask(response, none, 0.5, np.random.default_rng(7))
    b = ~response | (np.random.default_rng(7).random(response.shape) < 0.5)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("gamma", "lam"), [(1.0, 1.0), (0.9, 0.8)])
def test_gae_with_skipped_steps_is_gae_of_the_rollout_without_them(mappo, gamma, lam):
    rng = np.random.default_rng(3)
    T, N = 12, 4
    rewards = rng.normal(size=(T, N))
    values = rng.normal(size=(T, N))
    terminated = (rng.random((T, N)) < 0.2).astype(float)
    skip = (rng.random((T, N)) < 0.4) & (terminated == 0)
    next_value = rng.normal(size=N)
    adv, ret = mappo.compute_gae(rewards, values, terminated, next_value, gamma, lam, skip=skip)
    for i in range(N):
        kept = ~skip[:, i]
        r, v, d = (x[kept, i][:, None] for x in (rewards, values, terminated))
        ref_adv, ref_ret = mappo.compute_gae(r, v, d, next_value[i : i + 1], gamma, lam)
        np.testing.assert_allclose(adv[kept, i], ref_adv[:, 0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(ret[kept, i], ref_ret[:, 0], rtol=0, atol=1e-12)
        assert np.all(adv[~kept, i] == 0) and np.all(ret[~kept, i] == values[~kept, i])
    plain = mappo.compute_gae(rewards, values, terminated, next_value, gamma, lam)
    no_skip = mappo.compute_gae(
        rewards, values, terminated, next_value, gamma, lam, skip=np.zeros((T, N), bool)
    )
    np.testing.assert_array_equal(plain[0], no_skip[0])


# -- evaluation and target -----------------------------------------------------------------------


def test_certified_evaluation_value_is_the_exact_return(random_search):
    env = gym.make(MSPM, protocol="certified", values="pi", n_messages=2)
    space = env.unwrapped.action_space
    for seed in range(3):
        sample = random_search.RandomActions(space, 0.25, np.random.default_rng(seed))
        policy = random_search.TablePolicy({}, sample)
        evaluation = random_search.evaluate(policy, env, 2, seed=seed)
        assert math.isclose(evaluation.leader_value, evaluation.episode_return, abs_tol=1e-9)
        assert 0 <= evaluation.certification_rate <= 1
        assert evaluation.extra_updates >= 0 and evaluation.certification_gap >= 0
    paper = random_search.evaluate(policy, gym.make(MSPM, values="pi"), 1, seed=0)
    assert math.isnan(paper.certification_rate) and paper.certified


def test_uncertified_evaluation_never_reaches_the_target(mappo, random_search):
    fields = dict(
        leader_value=0.0, episode_return=0.0, deviation_gain=0.01, bcce_gap=0.0,
        bcce_bound=0.0, strategies=(), policy=None,
    )  # fmt: skip
    for rate, reached in ((1.0, True), (0.75, False), (0.0, False)):
        evaluation = random_search.Evaluation(**fields, certification_rate=rate)
        assert random_search.reaches_target(evaluation, 0.0, 1e-6, "certified") is reached
        evaluation = mappo.Evaluation(**fields, model={}, certification_rate=rate)
        args = mappo.Args(protocol="certified")
        assert mappo.reaches_target(evaluation, 0.0, 0.0, args) is reached
    # paper: the deviation gain decides; certified needs a certification result at all.
    paper = random_search.Evaluation(**fields)
    assert not random_search.reaches_target(paper, 0.0, 1e-6, "paper")
    assert not random_search.reaches_target(paper, 0.0, 1e-6, "certified")
    assert random_search.reaches_target(paper, 0.0, 0.1, "paper")
    assert not mappo.reaches_target(mappo.Evaluation(**fields, model={}), 0.0, 0.0, mappo.Args())


# -- end to end ----------------------------------------------------------------------------------


def scalars(run_dir: Path) -> set[str]:
    """The scalar tags of a run's TensorBoard event file."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    return set(accumulator.Tags()["scalars"])


def test_tiny_certified_mappo_run_logs_certification(tmp_path):
    out = run_trainer(
        "mappo.py",
        *("--env-id", MSPM, "--env-kwargs", PI, "--protocol", "certified"),
        *("--total-timesteps", "1024", "--num-envs", "4", "--num-steps", "128"),
        cwd=tmp_path,
    )
    assert "protocol certified" in out and "certified responses" in out
    (run_dir,) = (tmp_path / "runs" / "StackelbergZoo").iterdir()
    record = json.loads((run_dir / "mechanism.json").read_text())
    assert record["protocol"] == "certified" and 0 <= record["certification_rate"] <= 1
    assert record["extra_updates"] >= 0
    tags = scalars(run_dir)
    assert {"equilibrium/certification_rate", "equilibrium/extra_updates"} <= tags


def test_random_search_certified_pi_reaches_zero_loss(tmp_path):
    out = run_trainer(
        "random_search.py",
        *("--env-id", MSPM, "--env-kwargs", PI, "--protocol", "certified", "--seed", "1"),
        *("--total-timesteps", "200000"),
        cwd=tmp_path,
    )
    assert "TARGET REACHED" in out, out[-2000:]
    assert "exact optimum 0.000000  gap 0.000000" in out
    assert "certified responses 100% of the evaluation episodes" in out
    (run_dir,) = (tmp_path / "runs" / "StackelbergZoo").iterdir()
    record = json.loads((run_dir / "mechanism.json").read_text())
    assert record["certification_rate"] == 1.0 and abs(record["leader_value"]) < 1e-12
    assert "equilibrium/certification_rate" in scalars(run_dir)
