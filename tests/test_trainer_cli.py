"""The trainers' command lines: checked flags, per-setting defaults, signals, saved runs.

Flags are parsed in-process through each trainer's ``parse_args`` (what its main block runs
first); the start-up, signal and replay behaviour runs the scripts in subprocesses.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from trainer_scripts import BASELINES, load_trainer

from stackelberg_zoo.envs.registry import BUILTIN_SETTINGS


@pytest.fixture(scope="module")
def trainers():
    return {
        name: load_trainer(f"{name}.py", "_cli_")
        for name in ("mappo", "random_search", "ippo_simultaneous")
    }


def parse(module, argv, monkeypatch):
    monkeypatch.setattr(sys, "argv", [f"{module.__name__}.py", *argv])
    return module.parse_args()


BAD_FLAGS = [
    ("mappo", ["--total-timesteps", "-5"], "--total-timesteps must be >= 1, got -5"),
    ("mappo", ["--total-timesteps", "0"], "--total-timesteps must be >= 1, got 0"),
    ("mappo", ["--num-envs", "0"], "--num-envs must be >= 1, got 0"),
    ("mappo", ["--num-steps", "0"], "--num-steps must be >= 1, got 0"),
    ("mappo", ["--num-minibatches", "0"], "--num-minibatches must be >= 1, got 0"),
    ("mappo", ["--eval-every", "0"], "--eval-every must be >= 1, got 0"),
    ("mappo", ["--eval-episodes", "0"], "--eval-episodes must be >= 1, got 0"),
    ("mappo", ["--update-epochs", "0"], "--update-epochs must be >= 1, got 0"),
    ("mappo", ["--gamma", "nan"], "--gamma must be in [0, 1], got nan"),
    ("mappo", ["--gae-lambda", "1.5"], "--gae-lambda must be in [0, 1], got 1.5"),
    ("mappo", ["--init-std", "0"], "--init-std must be finite and > 0, got 0.0"),
    ("mappo", ["--learning-rate", "inf"], "--learning-rate must be finite and > 0, got inf"),
    ("mappo", ["--ent-coef", "-0.1"], "--ent-coef must be finite and >= 0, got -0.1"),
    ("mappo", ["--target-kl", "0"], "--target-kl must be finite and > 0, got 0.0"),
    ("mappo", ["--response-phase-prob", "2"], "--response-phase-prob must be in [0, 1], got 2.0"),
    ("mappo", ["--mw-eps", "0"], "--mw-eps must be finite and > 0, got 0.0"),
    ("mappo", ["--follower", "nope"], "--follower must be one of"),
    ("mappo", ["--follower", "hedge", "--mw-eps", "0.5"], "--mw-eps applies to --follower mw"),
    ("mappo", ["--env-kwargs", "[1, 2]"], "--env-kwargs must be a JSON object, got '[1, 2]'"),
    ("mappo", ["--env-kwargs", "{oops"], "--env-kwargs must be JSON, got '{oops'"),
    ("mappo", ["--env-id", "stackelberg/normal-form-v0"], "--env-id must be a Stackelberg POMDP"),
    ("mappo", ["--num-envs", "two"], "--num-envs"),  # tyro's own error
    ("random_search", ["--total-timesteps", "0"], "--total-timesteps must be >= 1, got 0"),
    ("random_search", ["--num-envs", "0"], "--num-envs must be >= 1, got 0"),
    ("random_search", ["--eval-episodes", "0"], "--eval-episodes must be >= 1, got 0"),
    ("random_search", ["--box-overshoot", "-1"], "--box-overshoot must be finite and >= 0"),
    ("random_search", ["--target-tol", "nan"], "--target-tol must be finite and >= 0, got nan"),
    ("random_search", ["--follower", "nope"], "--follower must be one of"),
    ("ippo_simultaneous", ["--total-timesteps", "0"], "--total-timesteps must be >= 1, got 0"),
    ("ippo_simultaneous", ["--num-steps", "0"], "--num-steps must be >= 1, got 0"),
    ("ippo_simultaneous", ["--num-minibatches", "0"], "--num-minibatches must be >= 1, got 0"),
    ("ippo_simultaneous", ["--update-epochs", "0"], "--update-epochs must be >= 1, got 0"),
    ("ippo_simultaneous", ["--eval-every", "0"], "--eval-every must be >= 1, got 0"),
    ("ippo_simultaneous", ["--init-std", "0"], "--init-std must be finite and > 0, got 0.0"),
    ("ippo_simultaneous", ["--learning-rate", "nan"], "--learning-rate must be finite and > 0"),
    (
        "ippo_simultaneous",
        ["--env-id", "StackelbergZoo/NormalFormPOMDP-v0"],
        "--env-id must be a multi-agent game id",
    ),
]


@pytest.mark.parametrize(("trainer", "argv", "message"), BAD_FLAGS, ids=lambda x: str(x))
def test_bad_flag_stops_with_one_line_naming_it(
    trainers, trainer, argv, message, monkeypatch, capsys
):
    with pytest.raises(SystemExit) as stop:
        parse(trainers[trainer], argv, monkeypatch)
    text = capsys.readouterr().err
    assert stop.value.code == 2
    assert message in " ".join(text.split()), text
    if "two" not in argv:  # tyro formats its own errors in a box
        assert text.count("\n") == 1 and text.startswith(f"_cli_{trainer}.py: error: "), text


@pytest.mark.parametrize("setting", BUILTIN_SETTINGS, ids=lambda s: s.name)
def test_env_id_alone_gives_the_settings_defaults(trainers, setting, monkeypatch):
    argv = ["--env-id", setting.gymnasium_id]
    args, found, env_kwargs = parse(trainers["mappo"], argv, monkeypatch)
    assert found is setting and env_kwargs == dict(setting.default_game)
    for name, value in setting.trainer_defaults["mappo"].items():
        assert getattr(args, name) == value, name
    # A flag still wins over the setting's default.
    assert parse(trainers["mappo"], [*argv, "--num-envs", "3"], monkeypatch)[0].num_envs == 3
    args, _, _ = parse(trainers["random_search"], ["--env-id", setting.gymnasium_id], monkeypatch)
    assert json.loads(args.env_kwargs) == dict(setting.default_game)
    args, _, _ = parse(trainers["ippo_simultaneous"], ["--env-id", setting.env_id], monkeypatch)
    assert json.loads(args.env_kwargs) == dict(setting.default_game)


def test_no_trainer_names_a_setting_module():
    for path in BASELINES.glob("*.py"):
        source = path.read_text("utf-8")
        for setting in BUILTIN_SETTINGS:
            assert f"stackelberg_zoo.envs.{setting.name}" not in source, (path.name, setting.name)
        assert "isinstance(game" not in source, path.name


def run(*argv: str, cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_help_shows_the_settings_concrete_defaults_and_no_runtime_fields(tmp_path):
    mspm = next(s for s in BUILTIN_SETTINGS if s.name == "mspm")
    result = run(str(BASELINES / "mappo.py"), "--env-id", mspm.gymnasium_id, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "5000000" in out and "0.05" in out  # MSPM's budget and KL target
    for field in ("--batch-size", "--minibatch-size", "--num-iterations", "--setting "):
        assert field not in out
    assert out.count("(default: None)") == 1  # --wandb-entity only: None is a real value there


def test_matrix_design_trains_with_env_id_alone_and_a_failed_start_leaves_no_run(tmp_path):
    mappo = str(BASELINES / "mappo.py")
    result = run(
        mappo, "--env-id", "StackelbergZoo/MatrixDesignPOMDP-v0", "--no-progress-bar",
        "--total-timesteps", "248", "--num-envs", "2", "--no-save-model", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "-> payments" in result.stdout and "exact optimum 1.666667" in result.stdout
    assert result.stdout.startswith("values: the followers' welfare")
    bad = tmp_path / "bad"
    bad.mkdir()
    result = run(mappo, "--env-kwargs", '{"game": "nope"}', cwd=bad)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "'nope'" in result.stderr, result.stderr
    assert not (bad / "runs").exists()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_after_an_evaluation_saves_it_and_exits_128_plus_signal(tmp_path, signum, status):
    process = subprocess.Popen(
        [sys.executable, str(BASELINES / "mappo.py"), "--no-stop-at-optimum"]
        + ["--env-kwargs", '{"game": "maintain", "mixed_leader": true}']
        + ["--total-timesteps", "100000000", "--num-envs", "2", "--num-steps", "101"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ""
    while "value=" not in seen:  # tqdm's postfix appears with the first evaluation
        chunk = process.stderr.read(64)
        assert chunk, f"the run ended early: {seen[-2000:]}"
        seen += chunk
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == status, err[-2000:]
    assert f"STOPPED by {signal.Signals(signum).name}" in out
    assert "leader mix over rows" in out and "Traceback" not in err
    (run_dir,) = (tmp_path / "runs" / "StackelbergZoo").glob("NormalFormPOMDP-v0__mappo__1__*")
    record = json.loads((run_dir / "mechanism.json").read_text())
    assert record["mechanism"][0]["observation"] == {"constant": 1.0}
    assert (run_dir / "mappo.cleanrl_model").stat().st_size > 0
    assert (run_dir / "summary.txt").read_text().startswith("STOPPED")


def test_evaluate_replays_a_saved_run_exactly(tmp_path):
    result = run(
        str(BASELINES / "random_search.py"), "--env-id", "StackelbergZoo/SimpleAllocationPOMDP-v0",
        "--total-timesteps", "2048", "--num-envs", "4", "--no-stop-at-optimum",
        "--no-progress-bar", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    (run_dir,) = (tmp_path / "runs" / "StackelbergZoo").glob("SimpleAllocationPOMDP-v0__*")
    record = json.loads((run_dir / "mechanism.json").read_text())
    assert [e["observation"] for e in record["mechanism"]] == [{"message": m} for m in range(3)]
    evaluate = str(BASELINES / "evaluate.py")
    replay = run(evaluate, str(run_dir), cwd=tmp_path)
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert f"leader value {record['leader_value']:.6f}" in replay.stdout  # same seeds, same value
    assert "message 0 -> item" in replay.stdout and "exact optimum 1.000000" in replay.stdout
    other = run(evaluate, str(run_dir), "--follower", "hedge", cwd=tmp_path)
    assert other.returncode == 0, other.stderr[-2000:]
    assert "followers HedgeResponse(" in other.stdout
    bad = run(evaluate, str(run_dir), "--follower", "nope", cwd=tmp_path)
    assert bad.returncode == 2 and "--follower must be one of" in bad.stderr
