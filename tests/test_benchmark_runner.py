"""The reproduction benchmark runner (benchmark/sweep.py, benchmark/reproduce.py).

Most tests drive a fake trainer: a tiny script written here that takes the trainers' flags
and writes what a trainer writes (TensorBoard scalars, ``summary.txt``, ``mechanism.json``)
after a configurable sleep, logging each start. One test runs the real ``mappo.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = ROOT / "benchmark"
sys.path.insert(0, str(BENCHMARK))

import equilibrium_speed  # noqa: E402
import reproduce  # noqa: E402
import sweep  # noqa: E402

FAKE_TRAINER = textwrap.dedent(
    '''
    """A stand-in trainer: the real trainers' flags and outputs, no training."""
    import argparse, json, os, sys, time
    from pathlib import Path

    parser = argparse.ArgumentParser()
    parser.add_argument("--env-id")
    parser.add_argument("--env-kwargs")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--total-timesteps", type=int)
    parser.add_argument("--no-progress-bar", action="store_true")
    args, extra = parser.parse_known_args()
    key = f"{args.env_kwargs} {args.seed} {' '.join(extra)}".strip()
    with open(os.environ["FAKE_LOG"], "a") as fh:
        fh.write(json.dumps({"key": key, "pid": os.getpid()}) + "\\n")
    if str(args.seed) == os.environ.get("FAKE_FAIL_SEED"):
        sys.exit("fake trainer: told to fail")
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))

    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    run = Path("runs") / f"{args.env_id}__mappo__{args.seed}__{int(time.time())}"
    run.mkdir(parents=True)
    value = 1.0 - 0.25 * (args.seed - 1)  # seed 1 at the optimum 1.0, others below
    writer = EventFileWriter(str(run))
    def scalar(tag, step, v):
        writer.add_event(Event(wall_time=time.time(), step=step,
                               summary=Summary(value=[Summary.Value(tag=tag, simple_value=v)])))
    steps = (100, 200, 300) if args.seed == 1 else (100, 200, 300, 400)
    for k, step in enumerate(steps):
        v = value * (k + 1) / len(steps)
        scalar("equilibrium/leader_value", step, v)
        scalar("equilibrium/optimal_value", step, 1.0)
        scalar("equilibrium/optimality_gap", step, 1.0 - v)
        scalar("equilibrium/bcce_gap", step, 0.5 / (k + 1))
        scalar("equilibrium/bcce_gap_bound", step, 1.0 / (k + 1))
        scalar("equilibrium/follower_deviation_gain", step, 0.0)
    reached = args.seed == 1
    if reached:
        scalar("charts/time_to_target", 300, 1.5)
    writer.close()
    lines = [f"run {run.name}: {steps[-1]} leader steps in 2.5 s (fake)",
             f"leader value {value:.6f}  exact optimum 1.000000"]
    lines.append("TARGET REACHED after 300 steps, 1.5 s" if reached else "target NOT reached")
    (run / "summary.txt").write_text("\\n".join(lines) + "\\n")
    (run / "mechanism.json").write_text(json.dumps(
        {"mechanism": [], "leader_value": value, "optimum": 1.0, "target": 1.0}))
    print("\\n".join(lines))
    '''
)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A baselines folder whose `mappo.py` is the fake trainer; its start log."""
    baselines = tmp_path / "fake_baselines"
    baselines.mkdir()
    (baselines / "mappo.py").write_text(FAKE_TRAINER)
    log = tmp_path / "starts.jsonl"
    log.touch()
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.delenv("FAKE_FAIL_SEED", raising=False)
    monkeypatch.setenv("FAKE_SLEEP", "0")
    return baselines, log


def starts(log: Path) -> list[str]:
    return [json.loads(line)["key"] for line in log.read_text().splitlines()]


def finished_files(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in (out / "results").glob("*/seed_*.json")}


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def cli(out: Path, baselines: Path, *extra: str, **popen) -> subprocess.Popen:
    command = [
        sys.executable, str(BENCHMARK / "reproduce.py"),
        "--only", "escape-pure", "maintain-pure", "--seeds", "2", "--workers", "1",
        "--out", str(out), "--baselines-dir", str(baselines), *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
    )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): read its state
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][0] != "Z"


# -- resume after kill ---------------------------------------------------------------------------


def test_resume_after_sigterm_and_sigkill_skips_finished_runs(tmp_path, fake, monkeypatch):
    baselines, log = fake
    out = tmp_path / "out"
    monkeypatch.setenv("FAKE_SLEEP", "0.5")
    all_runs = {
        f"results/{e}/seed_{s}.json" for e in ("escape-pure", "maintain-pure") for s in (1, 2)
    }

    # 1. SIGTERM to the driver after its first finished run: it stops its trainer and exits.
    first = cli(out, baselines)
    wait_for(lambda: len(finished_files(out)) >= 1)
    first.send_signal(signal.SIGTERM)
    output = first.communicate(timeout=60)[0]
    assert first.returncode == 128 + signal.SIGTERM, output
    assert "interrupted" in output
    done1 = finished_files(out)
    assert 1 <= len(done1) < len(all_runs)
    mtimes = {f: (out / f).stat().st_mtime_ns for f in done1}
    for entry in (json.loads(line) for line in log.read_text().splitlines()):
        assert not pid_alive(entry["pid"]), "a trainer outlived the interrupted sweep"
    assert not list(out.rglob("*.tmp"))

    # 2. SIGKILL to the whole process group (driver and trainer) after one more run.
    starts_before = len(starts(log))
    second = cli(out, baselines, start_new_session=True)
    wait_for(lambda: len(finished_files(out)) >= len(done1) + 1)
    os.killpg(second.pid, signal.SIGKILL)
    second.communicate(timeout=60)
    assert second.returncode == -signal.SIGKILL
    done2 = finished_files(out)
    rerun = starts(log)[starts_before:]
    # the finished runs of the first sweep were not started again
    started_keys = set(rerun)
    for f in done1:
        record = json.loads((out / f).read_text())
        env_kwargs = reproduce.experiment_named(record["experiment"]).env_kwargs
        key = f"{json.dumps(env_kwargs, sort_keys=True)} {record['seed']}"
        assert key not in started_keys
    for f in done1:
        assert (out / f).stat().st_mtime_ns == mtimes[f]

    # 3. A plain re-run finishes the rest; a killed run's scratch folder is gone.
    starts_before = len(starts(log))
    third = cli(out, baselines)
    output = third.communicate(timeout=120)[0]
    assert third.returncode == 0, output
    assert f"{len(done2)} finished (skipped), {len(all_runs) - len(done2)} to run" in output
    assert finished_files(out) == all_runs
    assert len(starts(log)) - starts_before == len(all_runs) - len(done2)
    assert not (out / "work").exists()
    assert not list(out.rglob("*.tmp"))
    for f in all_runs:  # every result is complete JSON of this runner
        record = json.loads((out / f).read_text())
        assert record["schema"] == sweep.RESULT_SCHEMA and record["final"]["optimum"] == 1.0
    assert (out / "results.md").is_file() and (out / "figures" / "normal-form.png").is_file()


# -- atomic writes -------------------------------------------------------------------------------


def test_crash_during_write_leaves_no_finished_marker(tmp_path, monkeypatch):
    record = {"schema": sweep.RESULT_SCHEMA, "experiment": "escape-pure", "seed": 1, "x": 1}
    path = sweep.result_path(tmp_path, "escape-pure", 1)

    def crash(obj, fh, **kwargs):
        fh.write('{"schema": 1, "experiment": "escape-pu')  # half the JSON, then the crash
        fh.flush()
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        sweep.commit(tmp_path, record)
    assert not path.exists()
    assert list(path.parent.iterdir()) == []  # the temporary file was removed

    # A crash while overwriting leaves the old result whole.
    monkeypatch.undo()
    sweep.commit(tmp_path, record)
    monkeypatch.setattr(sweep.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        sweep.commit(tmp_path, dict(record, x=2))
    assert json.loads(path.read_text()) == record


def test_leftover_temporary_file_is_not_a_finished_run(tmp_path):
    # What a SIGKILL in the middle of write_json_atomic leaves behind.
    folder = tmp_path / "results" / "escape-pure"
    folder.mkdir(parents=True)
    (folder / ".seed_1.json.k3j2.tmp").write_text('{"schema": 1, "experi')
    (tmp_path / "work" / "escape-pure" / "seed_1").mkdir(parents=True)
    spec = sweep.RunSpec("escape-pure", 1, "normal_form", "mappo", "x.py", (), "0")
    assert not sweep.is_finished(tmp_path, spec)
    assert sweep.load_results(tmp_path) == {}
    assert sweep.plan([spec], tmp_path).todo == (spec,)
    removed = sweep.remove_partial(tmp_path)
    assert len(removed) == 2 and not list(folder.iterdir()) and not (tmp_path / "work").exists()


def test_one_sweep_at_a_time_per_output_folder(tmp_path):
    held = sweep.lock_out(tmp_path)
    assert (tmp_path / sweep.LOCK_FILE).read_text() == str(os.getpid())
    with pytest.raises(sweep.SweepBusy, match=rf"pid {os.getpid()}\) is running with --out"):
        sweep.lock_out(tmp_path)
    held.close()  # released: the next sweep may start
    sweep.lock_out(tmp_path).close()


def test_a_second_sweep_on_a_busy_folder_stops_and_deletes_nothing(tmp_path, fake):
    baselines, log = fake
    scratch = tmp_path / "work" / "escape-pure" / "seed_1"  # a running trainer's folder
    scratch.mkdir(parents=True)
    held = sweep.lock_out(tmp_path)
    command = [
        sys.executable, str(BENCHMARK / "reproduce.py"), "--only", "escape-pure", "--seeds", "1",
        "--workers", "1", "--out", str(tmp_path), "--baselines-dir", str(baselines),
    ]  # fmt: skip
    busy = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert busy.returncode == 2 and "another sweep (pid" in busy.stderr, busy.stderr
    assert scratch.is_dir() and starts(log) == []
    held.close()


# -- corrupt result files ------------------------------------------------------------------------


def _without_final(record):
    return json.dumps({k: v for k, v in record.items() if k != "final"}).encode()


def _string_value(record):
    return json.dumps(dict(record, final=dict(record["final"], leader_value="1.0"))).encode()


def _other_run(record):
    return json.dumps(dict(record, seed=7)).encode()


CORRUPTIONS = {
    "truncated": (lambda record: json.dumps(record).encode()[:40], "not valid JSON"),
    "empty": (lambda record: b"", "empty file"),
    "binary": (lambda record: b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not UTF-8"),
    "list": (lambda record: b"[]", "a JSON list, not an object"),
    "missing-keys": (_without_final, "missing keys ['final']"),
    "wrong-type": (_string_value, "final.leader_value is '1.0', not a number or null"),
    "other-run": (_other_run, "seed 7, not 'escape-pure' seed 2"),
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupt_result_is_named_listed_left_out_then_moved_aside_and_rerun(
    tmp_path, fake, capsys, kind
):
    baselines, _ = fake
    corrupt, reason = CORRUPTIONS[kind]
    out = tmp_path / "out"
    for seed in (1, 2):
        sweep.commit(out, synthetic("escape-pure", seed, 1.0, reached_at=(10, 0.5)))
    path = sweep.result_path(out, "escape-pure", 2)
    original = corrupt(json.loads(path.read_text()))
    path.write_bytes(original)
    with pytest.raises(sweep.CorruptResult, match=re.escape(reason)) as error:
        sweep.read_result(path)
    assert str(path) in str(error.value)

    # Aggregation leaves it out with a warning naming it, and does not move it.
    warnings = []
    assert [r["seed"] for r in sweep.load_results(out, warn=warnings.append)["escape-pure"]] == [1]
    assert len(warnings) == 1 and str(path) in warnings[0] and reason in warnings[0]
    common = {"only": ("escape-pure",), "seeds": 2, "out": out, "baselines_dir": baselines}
    assert reproduce.main(reproduce.Args(**common, aggregate_only=True)) == 0
    captured = capsys.readouterr()
    assert str(path) in captured.err and reason in captured.err
    page = (out / "results.md").read_text()
    assert "| `escape-pure` | escape | stackelberg-pomdp/state-critic | 1 of 25 |" in page
    assert path.read_bytes() == original

    # Listing names it as corrupt and moves nothing.
    assert reproduce.main(reproduce.Args(**common, list_experiments=True)) == 0
    captured = capsys.readouterr()
    listed = {line.split()[0]: line.split()[1] for line in captured.out.splitlines()}
    assert listed["escape-pure/seed_2"] == "corrupt"
    assert str(path) in captured.err and path.read_bytes() == original

    # The sweep's plan moves it aside (kept, numbered) and runs that run again.
    specs = sweep.run_specs([reproduce.experiment_named("escape-pure")], baselines, seeds=2)
    warnings.clear()
    todo = sweep.plan(specs, out, warn=warnings.append)
    assert todo.todo == (specs[1],) and [spec for spec, _ in todo.corrupt] == [specs[1]]
    kept = path.with_name("seed_2.json.corrupt-1")
    assert not path.exists() and kept.read_bytes() == original
    assert str(path) in warnings[0] and "seed_2.json.corrupt-1" in warnings[0]
    path.write_bytes(original)  # corrupt again: the next copy gets the next number
    sweep.plan(specs, out, warn=warnings.append)
    assert path.with_name("seed_2.json.corrupt-2").read_bytes() == original
    assert kept.read_bytes() == original


def test_a_nan_result_is_a_result_not_a_corruption(tmp_path):
    record = synthetic("escape-pure", 1, 1.0)
    record["final"].update(leader_value=None, optimality_gap=None, bcce_gap=None)
    path = sweep.commit(tmp_path, record)  # what a trainer that logged NaN leaves
    assert sweep.read_result(path) == record
    spec = sweep.RunSpec("escape-pure", 1, "normal_form", "mappo", "x.py", (), "0")
    assert sweep.plan([spec], tmp_path).corrupt == () and path.is_file()
    page = reproduce.aggregate(tmp_path, tmp_path / "page.md", tmp_path / "fig", "x").read_text()
    assert "| `escape-pure` | escape | stackelberg-pomdp/state-critic | 1 of 25 | 1.0000 |" in page


def test_sweep_reruns_a_corrupt_result_and_keeps_it(tmp_path, fake):
    baselines, log = fake
    out = tmp_path / "out"
    command = [
        sys.executable, str(BENCHMARK / "reproduce.py"), "--only", "escape-pure", "--seeds", "1",
        "--workers", "1", "--out", str(out), "--baselines-dir", str(baselines),
    ]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    path = sweep.result_path(out, "escape-pure", 1)
    truncated = path.read_bytes()[:100]
    path.write_bytes(truncated)
    second = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert str(path) in second.stderr and "moved to seed_1.json.corrupt-1" in second.stderr
    assert "0 finished (skipped), 1 to run (1 of them corrupt, moved aside)" in second.stdout
    assert len(starts(log)) == 2  # the run ran again
    assert sweep.read_result(path)["final"]["leader_value"] == 1.0
    assert path.with_name("seed_1.json.corrupt-1").read_bytes() == truncated


def test_corrupt_side_file_is_named_and_judged_not_measured(tmp_path, capsys):
    out = tmp_path / "out"
    sweep.commit(out, synthetic("escape-pure", 1, 1.0, reached_at=(10, 0.5)))
    for content in (b'{"seeds": 3, "res', b"[]"):
        (out / reproduce.BCCE_RATE_FILE).write_bytes(content)
        report = reproduce.aggregate(out, out / "page.md", out / "fig", "python x")
        row = next(line for line in report.read_text().splitlines() if "fixed leader" in line)
        assert "not measured" in row and row.endswith("| – |")
        assert str(out / reproduce.BCCE_RATE_FILE) in capsys.readouterr().err


def test_write_json_atomic_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        sweep.write_json_atomic(tmp_path / "r.json", {"value": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_failed_run_is_not_committed_and_is_retried(tmp_path, fake, monkeypatch):
    baselines, log = fake
    experiment = sweep.Experiment("escape-pure", "normal_form", {"game": "escape"}, 300, 2)
    specs = sweep.run_specs([experiment], baselines)
    monkeypatch.setenv("FAKE_FAIL_SEED", "2")
    outcome = sweep.run_local(specs, tmp_path, workers=2, log=lambda _: None)
    assert outcome.finished == ("escape-pure/seed_1",)
    assert list(outcome.failed) == ["escape-pure/seed_2"]
    assert "told to fail" in outcome.failed["escape-pure/seed_2"]
    assert not sweep.result_path(tmp_path, "escape-pure", 2).exists()
    assert (tmp_path / "work" / "escape-pure" / "seed_2" / "trainer.log").is_file()
    assert "told to fail" in sweep.load_failures(tmp_path)["escape-pure/seed_2"]
    monkeypatch.delenv("FAKE_FAIL_SEED")
    todo = sweep.plan(specs, tmp_path)
    assert [s.key for s in todo.todo] == ["escape-pure/seed_2"]
    outcome = sweep.run_local(todo.todo, tmp_path, workers=1, log=lambda _: None)
    assert outcome.finished == ("escape-pure/seed_2",) and not outcome.failed
    assert len(starts(log)) == 3
    assert sweep.load_failures(tmp_path) == {}  # the note goes when the run finishes


def test_changed_command_trainer_or_source_is_stale(tmp_path, fake, monkeypatch):
    baselines, _ = fake
    experiment = sweep.Experiment("escape-pure", "normal_form", {"game": "escape"}, 300, 1)
    (spec,) = sweep.run_specs([experiment], baselines)
    sweep.commit(tmp_path, sweep.execute_run(spec, tmp_path))
    assert sweep.plan([spec], tmp_path) == sweep.Plan((), (spec,), ())
    (scaled,) = sweep.run_specs([experiment], baselines, budget_scale=2.0)
    assert "600" in scaled.args
    assert sweep.plan([scaled], tmp_path).stale == (scaled,)
    assert sweep.plan([scaled], tmp_path).todo == ()
    assert sweep.plan([scaled], tmp_path, rerun_changed=True).todo == (scaled,)
    with monkeypatch.context() as patch:  # an edit of envs/ or equilibrium/
        patch.setattr(sweep, "source_sha256", lambda: "0" * 64)
        (resourced,) = sweep.run_specs([experiment], baselines)
        assert sweep.plan([resourced], tmp_path).stale == (resourced,)
    assert sweep.plan(sweep.run_specs([experiment], baselines), tmp_path).stale == ()
    (baselines / "mappo.py").write_text(FAKE_TRAINER + "\n# changed\n")
    (edited,) = sweep.run_specs([experiment], baselines)
    assert sweep.plan([edited], tmp_path).stale == (edited,)


def test_record_of_a_fake_run(tmp_path, fake):
    baselines, _ = fake
    experiment = sweep.Experiment("escape-pure", "normal_form", {"game": "escape"}, 300, 2)
    spec1, spec2 = sweep.run_specs([experiment], baselines)
    r1, r2 = (sweep.execute_run(s, tmp_path) for s in (spec1, spec2))
    assert r1["final"]["leader_value"] == 1.0 and r2["final"]["leader_value"] == 0.75
    assert r1["reached_target"] and (r1["steps_to_target"], r1["time_to_target_s"]) == (300, 1.5)
    assert not r2["reached_target"] and r2["steps_to_target"] is None
    assert r1["final"]["steps"] == 300 and r1["final"]["wall_time_s"] == 2.5
    assert r1["curves"]["equilibrium/leader_value"]["step"] == [100, 200, 300]
    assert r1["final"]["bcce_gap"] == pytest.approx(0.5 / 3, rel=1e-6)
    assert (tmp_path / r1["tensorboard"] / "summary.txt").is_file()
    assert not (tmp_path / "work").exists()


# -- selection and validation --------------------------------------------------------------------


def test_select_and_bad_arguments_name_the_value(fake):
    baselines, _ = fake
    chosen = sweep.select(reproduce.EXPERIMENTS, ["mspm-t?", "escape-pure"])
    assert [e.name for e in chosen] == ["escape-pure", "mspm-t3", "mspm-t4", "mspm-t5",
                                        "mspm-t6"]  # fmt: skip
    with pytest.raises(ValueError, match="'nope'"):
        sweep.select(reproduce.EXPERIMENTS, ["nope"])
    with pytest.raises(ValueError, match="-1"):
        sweep.run_specs(chosen, baselines, budget_scale=-1)
    with pytest.raises(ValueError, match="'no_such_setting'"):
        sweep.run_specs([sweep.Experiment("x", "no_such_setting", {}, 10, 1)], baselines)
    with pytest.raises(ValueError, match="bad name"):
        sweep.Experiment("bad name", "normal_form", {}, 10, 1)
    with pytest.raises(ValueError, match="workers"):
        sweep.run_local([], Path("."), workers=0)


def test_sweep_definition_is_complete_and_consistent():
    names = [e.name for e in reproduce.EXPERIMENTS]
    assert len(set(names)) == len(names)
    for figure in reproduce.FIGURES:
        for name in figure.experiments:
            reproduce.experiment_named(name)
    for check in reproduce.CHECKS:
        for name in check.experiments:
            reproduce.experiment_named(name)
    for prefix in ("matrix-design", "simple-allocation-k3"):  # the four-way ablations
        flags = {reproduce.experiment_named(n).flags for n in reproduce._names(prefix)}
        assert flags == {(), ("--critic", "obs"), ("--response-phase-prob", "0"),
                         ("--response-phase-prob", "0", "--critic", "obs")}  # fmt: skip
    for experiment in reproduce.EXPERIMENTS:
        if experiment.baseline is not None:
            assert experiment.baseline in reproduce.baseline_values(experiment.name)
    # marl-eval needs (setting, task, algorithm) unique
    keys = [(e.setting, e.task, e.algorithm) for e in reproduce.EXPERIMENTS]
    assert len(set(keys)) == len(keys)


# -- aggregation on synthetic results ------------------------------------------------------------


def synthetic(experiment, seed, value, optimum=1.0, reached_at=None, bcce=0.1, steps=(10, 20)):
    values = [value * (k + 1) / len(steps) for k in range(len(steps))]
    return {
        "schema": sweep.RESULT_SCHEMA,
        "experiment": experiment,
        "seed": seed,
        "final": {
            "leader_value": value, "optimum": optimum, "target": optimum,
            "optimality_gap": optimum - value, "bcce_gap": bcce, "bcce_gap_bound": 0.5,
            "deviation_gain": 0.0, "steps": steps[-1], "wall_time_s": 2.0,
        },
        "reached_target": reached_at is not None,
        "steps_to_target": None if reached_at is None else reached_at[0],
        "time_to_target_s": None if reached_at is None else reached_at[1],
        "curves": {
            "equilibrium/leader_value": {"step": list(steps), "value": values},
            "equilibrium/bcce_gap": {"step": list(steps), "value": [bcce] * len(steps)},
        },
    }  # fmt: skip


def test_summarize_matches_hand_computation():
    values = [1.0, 0.9995, 0.5]
    records = [
        synthetic("e", 1, values[0], reached_at=(100, 1.0)),
        synthetic("e", 2, values[1], reached_at=(300, 5.0), bcce=None),
        synthetic("e", 3, values[2], bcce=0.3),
    ]
    s = sweep.summarize("e", records)
    assert s.seeds == (1, 2, 3)
    assert s.value_mean == pytest.approx(statistics.fmean(values))
    assert s.value_std == pytest.approx(statistics.pstdev(values))
    assert s.at_optimum == pytest.approx(2 / 3)  # 0.9995 is within 1e-3, 0.5 is not
    assert s.reached_target == pytest.approx(2 / 3)
    assert (s.median_steps_to_target, s.median_time_to_target_s) == (200.0, 3.0)
    assert s.bcce_gap == pytest.approx(0.2)  # the run without a gap is left out
    assert s.wall_time_s == 6.0
    assert sweep.summarize("e", records, tol=1e-4).at_optimum == pytest.approx(1 / 3)
    assert s.target == 1.0 and s.at_target == pytest.approx(2 / 3)
    below = [synthetic("e", 1, 0.95), synthetic("e", 2, 0.9)]
    below[0]["final"]["target"] = below[1]["final"]["target"] = 0.9495
    b = sweep.summarize("e", below)
    assert (b.target, b.at_target, b.at_optimum) == (0.9495, 0.5, 0.0)
    none = sweep.summarize("e", [synthetic("e", 1, 0.1)])
    assert none.median_steps_to_target is None and none.reached_target == 0.0
    with pytest.raises(ValueError, match="disagree"):
        sweep.summarize("e", [synthetic("e", 1, 1.0), synthetic("e", 2, 1.0, optimum=2.0)])
    with pytest.raises(ValueError, match="other experiments"):
        sweep.summarize("e", [synthetic("f", 1, 1.0)])

    experiment = sweep.Experiment("e", "normal_form", {}, 10, 3, task="t", baseline="b_x")
    table = sweep.markdown_table([(experiment, s, 0.25)])
    row = table.splitlines()[2]
    # 3 seeds: the IQM trims floor(3 / 4) = 0 seeds from each end, so it is the mean
    assert s.value_iqm.value == pytest.approx(statistics.fmean(values), abs=1e-12)
    assert s.value_iqm.low <= s.value_iqm.value <= s.value_iqm.high
    assert f"| {s.value_iqm.text()} |" in row and s.value_iqm.text().startswith("0.8332 [")
    assert "| 3 | 1.0000 |" in row  # as many seeds as planned: no "n of N"
    assert "| 2/3 | 2/3 | 200 | 3.0 |" in row and "0.2500 (b x)" in row
    short = sweep.markdown_table([(dataclasses.replace(experiment, seeds=10), s, None)])
    assert "| 3 of 10 | 1.0000 | – |" in short


def certified_run(experiment, seed, final, rates, values, reached_at=None):
    """A certified-protocol record: evaluations at steps 10, 20, 30 with these leader values
    and certification rates; the final value and rate are the last ones."""
    record = synthetic(experiment, seed, final, optimum=0.0, reached_at=reached_at,
                       steps=(10, 20, 30))  # fmt: skip
    record["final"]["certification_rate"] = rates[-1]
    record["curves"]["equilibrium/leader_value"]["value"] = list(values)
    record["curves"]["equilibrium/certification_rate"] = {"step": [10, 20, 30], "value": rates}
    return record


def test_certified_judge_counts_certified_optima_and_the_authors_statistic():
    name = "mspm-t4-certified"
    records = [
        # at zero loss, certified: counts; its best certified evaluation is 0
        certified_run(name, 1, 0.0, [1.0, 0.5, 1.0], [-0.1, 0.0, 0.0], reached_at=(30, 50.0)),
        # at zero loss, but one evaluation episode uncertified: does not count; its best
        # certified evaluation is the first one (-0.2), the later 0.0 being uncertified
        certified_run(name, 2, 0.0, [1.0, 1.0, 0.9], [-0.2, -0.3, 0.0]),
        # certified but off the optimum
        certified_run(name, 3, -0.05, [1.0, 1.0, 1.0], [-0.2, -0.1, -0.05]),
    ]
    legacy = synthetic(name, 4, 0.0, optimum=0.0)  # no certification rate: never counts
    s = sweep.summarize(name, records + [legacy])
    assert reproduce.certified_optima(s, records + [legacy]) == pytest.approx(1 / 4)
    assert reproduce.best_certified_values(records + [legacy]) == [0.0, -0.2, -0.05]

    verdict = reproduce._mspm_certified((name,))({name: (sweep.summarize(name, records), records)})
    best = np.array([0.0, -0.2, -0.05])
    se = best.std(ddof=1) / np.sqrt(3)
    certified = "1/3 seeds at zero loss ±1e-3 with every evaluation episode certified"
    assert certified in verdict.measured
    assert "median time to target 50.0 s (target ≤ 120 s)" in verdict.measured
    assert f"mean loss {0.0 - best.mean():.4f} ± {se:.4f} (s.e., 3 seeds)" in verdict.measured
    assert verdict.met is False
    good = [certified_run(name, k, 0.0, [1.0] * 3, [-0.1, 0.0, 0.0], (30, 60.0)) for k in (1, 2)]
    assert reproduce._mspm_certified((name,))({name: (sweep.summarize(name, good), good)}).met
    slow = [certified_run(name, k, 0.0, [1.0] * 3, [-0.1, 0.0, 0.0], (30, 130.0)) for k in (1, 2)]
    assert not reproduce._mspm_certified((name,))({name: (sweep.summarize(name, slow), slow)}).met


def test_resample_carries_the_last_value_forward():
    short = synthetic("e", 1, 1.0, steps=(10, 20))  # stopped at its target at step 20
    long = synthetic("e", 2, 0.6, steps=(10, 20, 30, 40))
    grid, values = sweep.resample([short, long], "equilibrium/leader_value")
    assert grid.tolist() == [10, 20, 30, 40]
    np.testing.assert_allclose(values[0], [0.5, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(values[1], [0.15, 0.3, 0.45, 0.6])
    _, early = sweep.resample([short], "equilibrium/leader_value", np.array([5, 15, 25]))
    assert np.isnan(early[0, 0]) and early[0, 1:].tolist() == [0.5, 1.0]
    _, missing = sweep.resample([short], "no/such_tag", np.array([5]))
    assert np.isnan(missing).all()


def test_marl_eval_layout():
    experiment = sweep.Experiment("e", "normal_form", {}, 10, 2, task="escape", algorithm="a")
    records = [synthetic("e", 1, 1.0, steps=(10, 20)), synthetic("e", 2, 0.6, steps=(10, 20, 40))]
    data = sweep.marl_eval_json([(experiment, records)], points=4)
    runs = data["normal_form"]["escape"]["a"]
    assert sorted(runs) == ["seed_1", "seed_2"]
    for run in runs.values():  # the same steps in every run, as marl-eval requires
        assert [run[f"step_{i}"]["step_count"] for i in range(4)] == [10, 20, 30, 40]
        assert set(run) == {"step_0", "step_1", "step_2", "step_3", "absolute_metrics"}
    assert [runs["seed_1"][f"step_{i}"]["leader_value"] for i in range(4)] == [
        [0.5], [1.0], [1.0], [1.0]
    ]  # fmt: skip
    assert runs["seed_2"]["step_2"]["leader_value"] == [pytest.approx(0.4)]
    assert runs["seed_2"]["step_3"]["leader_value"] == [pytest.approx(0.6)]
    assert runs["seed_2"]["absolute_metrics"]["leader_value"] == [0.6]
    assert runs["seed_1"]["absolute_metrics"]["bcce_gap"] == [0.1]
    json.dumps(data, allow_nan=False)
    twin = sweep.Experiment("f", "normal_form", {}, 10, 2, task="escape", algorithm="a")
    with pytest.raises(ValueError, match="share"):
        sweep.marl_eval_json([(experiment, records), (twin, records)])


def test_report_judges_section_5_and_writes_figures(tmp_path):
    out = tmp_path / "out"
    for seed in range(1, reproduce.experiment_named("escape-pure").seeds + 1):
        sweep.commit(out, synthetic("escape-pure", seed, 1.0, reached_at=(10, 0.5)))
        sweep.commit(out, synthetic("escape-mixed", seed, 1.0))
        sweep.commit(out, synthetic("maintain-pure", seed, 2 / 3, optimum=2 / 3))
        value = 11 / 12 if seed == 1 else 0.5
        sweep.commit(out, synthetic("maintain-mixed", seed, value, optimum=11 / 12))
    spec = sweep.RunSpec("mspm-t6", 1, "mspm", "mappo", "x.py", (), "0")
    sweep.note_failure(out, spec, "mspm-t6/seed_1: trainer exited with 1; log tail:\n...\nNaN")
    report = reproduce.aggregate(out, out / "page.md", out / "fig", "python benchmark/reproduce.py")
    text = report.read_text()
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if "|" in line}
    assert rows["Escape, both modes"].endswith("| yes |")
    assert rows["Maintain deterministic / randomized"].endswith("| **no** |")  # seed 2 is off
    assert "not run yet: mspm-pi" in rows["MSPM PI and MSGSpace t = 3..6, m = 2"]
    bcce = rows["Any setting, fixed leader"]  # judged on the rows that ran, the rest named
    assert "escape-pure 0.100 (bound 0.500)" in bcce and "no finished run: matrix-design" in bcce
    assert "- `mspm-t6/seed_1`: mspm-t6/seed_1: trainer exited with 1; log tail: ... NaN" in text
    assert "![Normal-form Stackelberg games](fig/normal-form.png)" in text
    for name in ("normal-form.png", "normal-form-bcce.png"):
        assert (out / "fig" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "fig" / "mspm.png").exists()  # no results, no figure
    marl = json.loads((out / "fig" / "marl_eval.json").read_text())
    assert set(marl["normal_form"]) == {"escape", "escape-randomized", "maintain",
                                        "maintain-randomized"}  # fmt: skip
    assert "not measured: run `python benchmark/bcce_rate.py" in bcce
    assert "## Reproduction targets\n" in text and "settings.md#reproduce-each-experiment" in text


def test_aggregate_copies_the_runs_beside_the_figures_and_a_sweep_resumes_from_them(tmp_path):
    out = tmp_path / "out"
    for seed in (1, 2):
        sweep.commit(out, synthetic("escape-pure", seed, 1.0, reached_at=(10, 0.5)))
    sweep.commit(out, synthetic("not-an-experiment", 1, 1.0))
    stale = tmp_path / "fig" / reproduce.RUNS / "escape-mixed" / "seed_1.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")  # a run of an earlier page, not in out: removed
    report = reproduce.aggregate(out, tmp_path / "page.md", tmp_path / "fig", "python x")
    runs = tmp_path / "fig" / reproduce.RUNS
    assert sorted(p.relative_to(runs).as_posix() for p in runs.rglob("*.json")) == [
        "escape-pure/seed_1.json", "escape-pure/seed_2.json"]  # fmt: skip
    for seed in (1, 2):
        copy = (runs / "escape-pure" / f"seed_{seed}.json").read_bytes()
        assert copy == sweep.result_path(out, "escape-pure", seed).read_bytes()
    assert "`fig/runs/<experiment>/seed_<n>.json`" in report.read_text()
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copytree(runs, resumed / "results")
    assert sweep.load_results(resumed) == {
        "escape-pure": sweep.load_results(out)["escape-pure"]}  # fmt: skip


@pytest.mark.skipif(not (ROOT / ".git").exists() or shutil.which("git") is None, reason="no git")
def test_the_docs_pages_runs_are_not_git_ignored():
    # The page's runs are committed with it; an ignore rule on them loses them silently.
    run = ROOT / "docs" / "assets" / "results" / reproduce.RUNS / "escape-pure" / "seed_1.json"
    check = subprocess.run(["git", "check-ignore", "-q", str(run)], cwd=ROOT, check=False)
    assert check.returncode == 1, f"{run.relative_to(ROOT)} is git-ignored"


def test_docs_results_page_has_the_generators_current_headings():
    # docs/results.md is written by reproduce.py; its run-independent text must be current.
    docs = ROOT / "docs"
    text = reproduce.render_report({}, [], docs / "results.md", docs / "assets" / "m.json", "x")
    page = (docs / "results.md").read_text("utf-8")
    start = text.index("## Reproduction targets")
    section = text[start : text.index("| setting |", start)]
    assert "(settings.md#reproduction-targets)" in section and section in page
    for heading in (line for line in text.splitlines() if line.startswith("## ")):
        if heading != "## Failed runs":
            assert heading in page.splitlines(), heading


def fixed_leader_side_file(out, gaps):
    rounds = [10, 100, 1000, 10000][: len(gaps)]
    results = {"escape": {"rounds": rounds, "gap": gaps, "allowance": [1.0] * len(gaps),
                          "slope": -0.9}}  # fmt: skip
    (out / reproduce.BCCE_RATE_FILE).write_text(json.dumps({"seeds": 3, "results": results}))


@pytest.mark.parametrize(
    ("gaps", "met"),
    [
        ([0.6, 0.5, 0.2, 0.05], "| yes |"),
        ([0.6, 0.5, 0.2, 0.3], "| **no** |"),
        ([0.6, 2.0, 0.2, 0.05], "| **no** |"),
    ],
    ids=["decreasing-within", "rising-at-the-end", "above-allowance"],
)
def test_fixed_leader_row_reads_the_bcce_rate_side_file(tmp_path, gaps, met):
    out = tmp_path / "out"
    sweep.commit(out, synthetic("escape-pure", 1, 1.0, reached_at=(10, 0.5)))
    fixed_leader_side_file(out, gaps)
    report = reproduce.aggregate(out, out / "page.md", out / "fig", "python x")
    row = next(line for line in report.read_text().splitlines() if "Any setting, fixed" in line)
    assert row.endswith(met)
    assert f"escape {gaps[0]:.3f} → {gaps[-1]:.4f} (allowance 1.000, slope -0.90)" in row


# -- real trainers -------------------------------------------------------------------------------


def test_real_mappo_tiny_run_through_the_runner(tmp_path):
    experiment = sweep.Experiment(
        "escape-tiny", "normal_form", {"game": "escape"}, 808, 1,
        flags=("--num-envs", "4", "--num-steps", "101", "--no-stop-at-optimum"),
    )  # fmt: skip
    specs = sweep.run_specs([experiment], ROOT / "baselines")
    outcome = sweep.run_local(specs, tmp_path, workers=1, log=lambda _: None)
    assert outcome.finished == ("escape-tiny/seed_1",), outcome.failed
    (record,) = sweep.load_results(tmp_path)["escape-tiny"]
    assert record["final"]["optimum"] == 1.0  # float64 from mechanism.json
    assert record["final"]["steps"] == 808
    assert record["curves"]["equilibrium/leader_value"]["step"] == [404, 808]
    assert 0.0 <= record["final"]["leader_value"] <= 1.0
    assert "leader commits to row" in record["summary"]
    assert list((tmp_path / record["tensorboard"]).glob("events.out.tfevents.*"))


def test_ray_backend_on_a_local_instance(tmp_path, fake):
    ray = pytest.importorskip("ray")
    baselines, log = fake
    experiment = sweep.Experiment("escape-pure", "normal_form", {"game": "escape"}, 300, 2)
    specs = sweep.run_specs([experiment], baselines)
    try:
        outcome = sweep.run_ray(specs, tmp_path, address=None, workers=1, log=print)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert sorted(outcome.finished) == ["escape-pure/seed_1", "escape-pure/seed_2"]
    records = sweep.load_results(tmp_path)["escape-pure"]
    assert [r["final"]["leader_value"] for r in records] == [1.0, 0.75]
    assert len(starts(log)) == 2
    assert sweep.plan(specs, tmp_path).todo == ()  # a re-run would skip both


# -- speed benchmark verdicts (no timing: the timings are given) ---------------------------------


def test_speed_verdict_is_on_the_median_and_flags_noise():
    timing = equilibrium_speed.Timing
    assert equilibrium_speed.verdict(timing((0.5, 0.6, 0.7))) == "OK"
    assert equilibrium_speed.verdict(timing((0.9, 1.1, 0.95))) == "OK (noisy)"
    assert equilibrium_speed.verdict(timing((1.2, 0.9, 1.3))) == "MISSED (noisy)"
    assert equilibrium_speed.verdict(timing((1.2, 1.3, 1.25))) == "MISSED"
    assert timing((1.0, 3.0, 2.0)).scaled(5).median == 10.0
    with pytest.raises(ValueError, match="repeats must be a positive int, got 0"):
        equilibrium_speed.time_repeats(lambda: None, 0)


@pytest.mark.parametrize(("seconds", "status"), [(0.25, 0), (2.0, 1)])
def test_speed_benchmark_exits_1_on_a_missed_target(monkeypatch, capsys, seconds, status):
    def fake(run, repeats):
        return equilibrium_speed.Timing((seconds,) * repeats)

    monkeypatch.setattr(equilibrium_speed, "time_repeats", fake)
    assert equilibrium_speed.main(["--calls", "100000", "--repeats", "3"]) == status
    out = capsys.readouterr().out
    assert out.count("target < 1 s: MISSED" if status else "target < 1 s: OK") == 5
    assert ("0/5 targets met (exit status 1)" if status else "5/5 targets met") in out
