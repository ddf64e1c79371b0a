"""benchmark/search_throughput.py: policies tried per second by the page's random searches."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmark"))

import search_throughput
import sweep


def write_run(folder: Path, seed: int, trainer: str, policies: int, seconds: float,
              reached: bool, curve: dict | None = None) -> None:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    summary = (
        f"run X__random_search__{seed}__0: 1000 leader steps, {policies} random policies in "
        f"{seconds} s (protocol certified: followers mw eps=0.1, expectation form)\n..."
    )
    record = {
        "schema": sweep.RESULT_SCHEMA,
        "experiment": folder.name,
        "seed": seed,
        "trainer": trainer,
        "final": {
            "leader_value": 0.0, "optimum": 0.0, "target": 0.0, "optimality_gap": 0.0,
            "bcce_gap": None, "bcce_gap_bound": None, "deviation_gain": 0.0, "steps": 1000,
            "wall_time_s": seconds,
        },
        "reached_target": reached,
        "steps_to_target": 1000 if reached else None,
        "time_to_target_s": seconds if reached else None,
        "summary": summary,
        "curves": {} if curve is None else {"equilibrium/leader_value": curve},
    }  # fmt: skip
    (folder / f"seed_{seed}.json").write_text(json.dumps(record))


def test_sums_policies_and_takes_medians_over_the_runs_that_reached(tmp_path):
    folder = tmp_path / "mspm-t5-certified-ls256"
    write_run(folder, 1, "random_search", 100, 10.0, True)
    write_run(folder, 2, "random_search", 300, 20.0, True)
    write_run(folder, 3, "random_search", 600, 30.0, False)
    t = search_throughput.throughput(folder)
    assert (t.runs, t.policies, t.seconds, t.reached) == (3, 1000, 60.0, 2)
    assert t.per_second == pytest.approx(1000 / 60)
    assert t.median_policies_to_target == 200
    assert t.median_seconds_to_target == 15.0


def test_other_trainers_are_skipped_and_none_reached_has_no_median(tmp_path):
    mappo = tmp_path / "mspm-t5-certified"
    write_run(mappo, 1, "mappo", 5, 1.0, True)
    assert search_throughput.throughput(mappo) is None
    folder = tmp_path / "mspm-t6-certified-ls"
    write_run(folder, 1, "random_search", 50, 5.0, False)
    t = search_throughput.throughput(folder)
    assert t.median_policies_to_target is None and t.median_seconds_to_target is None
    assert "| mspm-t6-certified-ls | 1 | 50 | 5 | 10.0 | 0/1 | – | – |" in (
        search_throughput.table([t])
    )


def test_improvements_count_rises_only():
    steps = [10, 20, 30, 40, 50, 60]
    values = [-0.2, -0.1, -0.1 + 1e-12, -0.15, -0.1, 0.0]  # a tie, a fall, a return: none rise
    assert search_throughput.improvements(steps, values) == [10, 20, 60]


def test_per_run_figures_from_the_curve_of_the_best(tmp_path):
    folder = tmp_path / "mspm-t5-certified-ls256"
    # the best rises at 100 and 400, then stays (ties at 500 and 700) to the end at 1000
    stuck = {"step": [100, 400, 500, 700], "value": [-0.1, -0.01, -0.01, -0.01]}
    write_run(folder, 2, "random_search", 50, 4.0, False, stuck)
    write_run(folder, 1, "random_search", 30, 2.0, True, {"step": [100], "value": [0.0]})
    first, second = search_throughput.runs_of(folder)
    assert (first.seed, second.seed) == (1, 2)  # by seed
    assert (second.last_improvement, second.longest_stay, second.steps) == (400, 600, 1000)
    assert (first.last_improvement, first.longest_stay) == (100, 900)
    assert "| mspm-t5-certified-ls256 | 2 | 50 | 12.5 | 0.0000 | no | 1,000 | 400 | 600 |" in (
        search_throughput.per_run_table([first, second])
    )


def test_a_run_without_its_curve_is_refused_naming_it(tmp_path):
    folder = tmp_path / "mspm-t5-certified-ls"
    write_run(folder, 1, "random_search", 10, 1.0, True)
    with pytest.raises(ValueError, match=r"seed_1\.json: no equilibrium/leader_value curve"):
        search_throughput.runs_of(folder)


def test_a_summary_without_the_policies_line_is_refused():
    with pytest.raises(ValueError, match="no 'N random policies in S s' line"):
        search_throughput.policies_of("leader value 0.0")


def test_a_corrupt_run_is_refused_naming_its_file(tmp_path):
    folder = tmp_path / "mspm-t5-certified-ls"
    write_run(folder, 1, "random_search", 10, 1.0, True)
    (folder / "seed_2.json").write_text('{"schema": 1}')
    with pytest.raises(sweep.CorruptResult, match=r"seed_2\.json"):
        search_throughput.throughput(folder)


def test_the_command_line_refuses_a_missing_folder_and_an_empty_selection(tmp_path, capsys):
    with pytest.raises(SystemExit) as missing:
        search_throughput.main(["--runs", str(tmp_path / "none")])
    assert missing.value.code == 2
    assert "--runs must be a folder" in capsys.readouterr().err
    write_run(tmp_path / "mspm-pi-certified-rs", 1, "random_search", 9, 0.3, True)
    with pytest.raises(SystemExit) as empty:
        search_throughput.main(["--runs", str(tmp_path), "--only", "mspm-t9-*"])
    assert empty.value.code == 2
    search_throughput.main(["--runs", str(tmp_path)])
    assert "| mspm-pi-certified-rs | 1 | 9 | 0 | 30.0 | 1/1 | 9 | 0.3 s |" in (
        capsys.readouterr().out
    )
    with pytest.raises(SystemExit) as empty_per_run:
        search_throughput.main(["--runs", str(tmp_path), "--per-run", "--only", "mspm-t9-*"])
    assert empty_per_run.value.code == 2
    write_run(tmp_path / "mspm-t3-certified-ls", 4, "random_search", 6, 0.5, True,
              {"step": [64], "value": [0.0]})  # fmt: skip
    search_throughput.main(["--runs", str(tmp_path), "--per-run", "--only", "mspm-t3-*"])
    assert "| mspm-t3-certified-ls | 4 | 6 | 12.0 | 0.0000 | yes | 1,000 | 64 | 936 |" in (
        capsys.readouterr().out
    )


def test_the_pomdp_page_quotes_the_committed_runs():
    folders = sorted(search_throughput.RUNS.iterdir())
    rows = {t.experiment: t for t in map(search_throughput.throughput, folders) if t}
    pomdp = " ".join((search_throughput.RUNS.parents[2] / "pomdp.md").read_text().split())
    t5 = (rows["mspm-t5-certified-ls256"].per_second, rows["mspm-t5-certified-ls"].per_second)
    three = (
        rows["mspm-3f-t3-certified-ls256"].per_second,
        rows["mspm-3f-t3-certified-ls"].per_second,
    )
    assert f"{t5[0]:.1f} against {t5[1]:.1f} at t = 5" in pomdp
    assert f"{three[0]:.1f} against {three[1]:.1f} for three followers" in pomdp
    # the per-run figures: the spread of policies per second, and how long the runs that
    # reach the target stay on one level first
    runs = search_throughput.runs_of(search_throughput.RUNS / "mspm-t5-certified-ls256")
    rates = [r.policies / r.seconds for r in runs]
    assert f"{min(rates):.1f} to {max(rates):.1f} at t = 5" in pomdp
    stays = [r.longest_stay / 1e6 for r in runs if r.reached]
    assert f"is {min(stays):.1f}M to {max(stays):.1f}M steps" in pomdp
    missed = {r.seed: r for r in runs if not r.reached}
    assert sorted(missed) == [2, 6]
    assert f"since step {missed[2].last_improvement / 1e6:.1f}M" in pomdp
    assert f"since step {missed[6].last_improvement / 1e6:.2f}M" in pomdp


def test_the_pomdp_page_quotes_the_restart_row():
    """The restart row's figures that docs/pomdp.md quotes, from the committed runs: every
    seed at the target, the median time, and the two seeds that needed restarts."""
    pomdp = " ".join((search_throughput.RUNS.parents[2] / "pomdp.md").read_text().split())
    row = search_throughput.throughput(search_throughput.RUNS / "mspm-t5-certified-ls256r")
    assert (row.runs, row.reached) == (10, 10)
    assert f"median time to target {row.median_seconds_to_target:.1f} s" in pomdp
    plain = search_throughput.runs_of(search_throughput.RUNS / "mspm-t5-certified-ls256")
    restarted = search_throughput.runs_of(search_throughput.RUNS / "mspm-t5-certified-ls256r")
    trapped = sorted(r.seed for r in plain if not r.reached)
    assert trapped == [2, 6]
    by_seed = {r.seed: r for r in restarted}
    for run in plain:  # the seeds that never restart follow the plain runs step for step
        if run.reached:
            assert by_seed[run.seed].steps == run.steps
    two, six = by_seed[2], by_seed[6]
    assert f"at {two.steps / 1e6:.1f}M and {six.steps / 1e6:.1f}M steps" in pomdp
    assert f"({two.seconds:.1f} s and {six.seconds:.1f} s)" in pomdp
