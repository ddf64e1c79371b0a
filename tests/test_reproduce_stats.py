"""benchmark/reproduce.py's statistics on synthetic results: the seed fraction that meets a
target, probability of improvement in the ablations, baselines on the figures, and rows kept
from a previous sweep."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmark"))

import reproduce
import seed_stats
import sweep


def record(experiment, seed, value, optimum=1.0, steps=(10, 20), first=None, gain=0.0):
    """A result record whose leader-value curve starts at ``first`` and ends at ``value``."""
    start = value if first is None else first
    curve = np.linspace(start, value, len(steps)).tolist()
    return {
        "schema": sweep.RESULT_SCHEMA,
        "experiment": experiment,
        "seed": seed,
        "started_at": "2026-12-05T10:00:00+00:00",
        "finished_at": "2026-12-05T10:00:03+00:00",
        "final": {
            "leader_value": value, "optimum": optimum, "target": optimum,
            "optimality_gap": optimum - value, "bcce_gap": 0.1, "bcce_gap_bound": 0.5,
            "deviation_gain": gain, "steps": steps[-1], "wall_time_s": 2.0,
        },
        "reached_target": value == optimum,
        "steps_to_target": steps[-1] if value == optimum else None,
        "time_to_target_s": 2.0 if value == optimum else None,
        "curves": {
            "equilibrium/leader_value": {"step": list(steps), "value": curve},
            "equilibrium/bcce_gap": {"step": list(steps), "value": [0.1] * len(steps)},
        },
    }  # fmt: skip


def done_of(records_by_name):
    return {
        name: (sweep.summarize(name, records), records) for name, records in records_by_name.items()
    }


def verdict_row(table, setting):
    return next(line for line in table.splitlines() if line.startswith(f"| {setting} |"))


@pytest.mark.parametrize(("bad", "met"), [(0, "yes"), (2, "yes"), (3, "**no**")])
def test_a_target_is_met_by_90_percent_of_the_seeds(bad, met):
    n = reproduce.experiment_named("escape-mixed").seeds
    assert n == 25
    done = done_of(
        {
            "escape-pure": [record("escape-pure", s, 1.0) for s in range(1, n + 1)],
            "escape-mixed": [
                record("escape-mixed", s, 0.5 if s <= bad else 1.0) for s in range(1, n + 1)
            ],
        }
    )
    row = verdict_row(reproduce.checks_table(done), "Escape, both modes")
    assert row.endswith(f"| {met} |")
    assert f"{n - bad}/{n} seeds within 1e-3" in row


def test_fewer_seeds_than_planned_are_measured_not_judged():
    done = done_of({name: [record(name, s, 1.0) for s in (1, 2)]
                    for name in ("escape-pure", "escape-mixed")})  # fmt: skip
    row = verdict_row(reproduce.checks_table(done), "Escape, both modes")
    assert row.endswith("| – |") and "2/2 seeds within 1e-3" in row
    assert "not judged, fewer seeds than planned: escape-pure 2 of 25, escape-mixed 2 of 25" in row


@pytest.mark.parametrize(("off", "met"), [(2, "–"), (3, "**no**")])
def test_mspm_counts_seeds_at_zero_loss_in_an_equilibrium(off, met):
    n = reproduce.experiment_named("mspm-pi").seeds
    records = [
        record("mspm-pi", s, 0.0, optimum=0.0, gain=0.2 if s <= off else 0.0)
        for s in range(1, n + 1)
    ]
    table = reproduce.checks_table(done_of({"mspm-pi": records}))
    row = verdict_row(table, "MSPM PI and MSGSpace t = 3..6, m = 2")
    assert f"{n}/{n} seeds zero loss ±1e-3, {n - off}/{n} of them in an equilibrium" in row
    # 23/25 >= 90%: PI meets it, the t rows are not run yet (–); 22/25 fails the row
    assert row.endswith(f"| {met} |")


def ablation(prefix, main_first, other_first, n=25):
    """Four variants; the paper's method's curve starts at ``main_first``, the others' at
    ``other_first``; all end at the optimum 1."""
    names = reproduce._names(prefix)
    return done_of(
        {
            name: [
                record(
                    name,
                    s,
                    1.0,
                    steps=(10, 20, 40),
                    first=(main_first if k == 0 else other_first) - 0.001 * s,
                )
                for s in range(1, n + 1)
            ]
            for k, name in enumerate(names)
        }
    )


def test_ablation_probability_of_improvement_and_its_verdict():
    done = ablation("matrix-design", main_first=0.9, other_first=0.2)
    comparisons = reproduce.ablation_comparisons("matrix-design", done)
    assert [c.variant for c in comparisons] == [label for _, label, _ in reproduce.ABLATION[1:]]
    for c in comparisons:  # every seed of the paper's method is nearer the optimum sooner
        assert c.area == seed_stats.Estimate(1.0, 1.0, 1.0)
        assert c.final == seed_stats.Estimate(0.5, 0.5, 0.5)  # all end at the optimum
    row = verdict_row(reproduce.checks_table(done), "Matrix design ablation")
    assert row.endswith("| yes |") and "P(paper's method better) 1.00 [1.00, 1.00]" in row
    section = reproduce.ablation_section(done)
    assert "| basic-pomdp/state-critic | 1.00 [1.00, 1.00] | 0.50 [0.50, 0.50] |" in section

    same = ablation("matrix-design", main_first=0.5, other_first=0.5)
    for c in reproduce.ablation_comparisons("matrix-design", same):
        assert c.area.value == pytest.approx(0.5) and c.area.low < 0.5 < c.area.high
    row = verdict_row(reproduce.checks_table(same), "Matrix design ablation")
    assert row.endswith("| **no** |")  # no evidence the Basic POMDP variants do worse


def test_across_tasks_is_a_bootstrap_stratified_over_tasks():
    done = done_of(
        {
            "escape-pure": [record("escape-pure", s, 1.0) for s in range(1, 26)],
            "maintain-pure": [record("maintain-pure", s, 0.5, optimum=1.0) for s in range(1, 26)],
        }
    )
    text = reproduce.across_tasks(done)
    # each task is constant, so every stratified resample is the same: a point interval
    assert "Over the 2 tasks" in text and "50 runs with a final value" in text
    assert f"{seed_stats.Estimate(0.25, 0.25, 0.25).text()}" in text


def test_figures_draw_each_setting_baseline_from_its_reference(tmp_path, monkeypatch):
    drawn = {}

    def capture(path, title, series, **kwargs):
        drawn[Path(path).name] = series
        return Path(path)

    monkeypatch.setattr(sweep, "plot_figure", capture)
    done = done_of({name: [record(name, 1, 1.0, optimum=1.0)]
                    for name in ("escape-pure", "maintain-pure", "matrix-design")})  # fmt: skip
    reproduce.write_figures(done, tmp_path)
    maintain = reproduce.baseline_values("maintain-pure")["pure_commitment"]
    assert maintain == pytest.approx(2 / 3)  # the solver's best pure commitment
    baselines = {label: b for label, _, _, b in drawn["normal-form.png"]}
    assert baselines["maintain"] == ("pure commitment", maintain)
    assert baselines["escape"][0] == "pure commitment"
    (matrix,) = drawn["matrix-design-ablation.png"]
    no_payment = reproduce.baseline_values("matrix-design")["no_payment_mixed_ne"]
    assert matrix[3] == ("no payment mixed ne", no_payment)
    assert all(b is None for _, _, _, b in drawn["normal-form-bcce.png"])


def test_plot_figure_writes_a_png_with_baseline_and_band(tmp_path):
    records = [record("e", s, 1.0, steps=(10, 20, 40), first=0.2 * s) for s in (1, 2, 3)]
    path = sweep.plot_figure(tmp_path / "f.png", "t", [("e", records, 1.0, ("no messages", 1 / 3))])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_of_a_previous_sweep_are_marked_and_not_judged(tmp_path):
    experiment = reproduce.experiment_named("mspm-t4")
    old = [record("mspm-t4", s, v, optimum=0.0, gain=g)
           for s, v, g in ((1, -0.013, 0.1), (2, 0.0, 0.0))]  # fmt: skip
    previous = tmp_path / "previous"
    previous.mkdir()
    data = sweep.marl_eval_json([(experiment, old)])
    (previous / "marl_eval.json").write_text(json.dumps(data))
    (previous / "mspm.png").write_bytes(b"\x89PNG\r\n\x1a\n")

    rows = reproduce.previous_summaries(data)
    assert set(rows) == {"mspm-t4"}
    row = rows["mspm-t4"]
    assert row.seeds == (1, 2) and row.optimum == 0.0 and row.at_optimum == 0.5
    assert row.value_iqm.value == pytest.approx(-0.0065) and row.deviation_gain == 0.1
    assert row.reached_target is None and row.provenance == reproduce.PREVIOUS_PROVENANCE

    out = tmp_path / "out"
    for s in range(1, 26):
        sweep.commit(out, record("mspm-pi", s, 0.0, optimum=0.0))
    page = reproduce.aggregate(out, tmp_path / "page.md", tmp_path / "fig", "x", previous)
    text = page.read_text()
    assert "| `mspm-t4` | msgspace-t4 | stackelberg-pomdp/state-critic | 2 of 10: previous " \
           "sweep, rerun pending | 0.0000 |" in text  # fmt: skip
    assert "| 1/2 | – | – | – |" in text
    mspm = verdict_row(text, "MSPM PI and MSGSpace t = 3..6, m = 2")
    assert "mspm-t4:" not in mspm and "no finished run: mspm-t3, mspm-t4" in mspm
    assert "![MSPM, 2 messages (leader value = minus welfare loss), previous sweep]" in text
    assert "25 runs. Compute: 0.8 min in the trainers' training loops, 1.2 min" in text
    with pytest.raises(ValueError, match="previous"):
        reproduce.aggregate(out, tmp_path / "p.md", previous, "x", previous)
    with pytest.raises(ValueError, match=r"marl_eval\.json"):
        reproduce.aggregate(out, tmp_path / "p.md", tmp_path / "fig", "x", tmp_path / "none")


def test_the_page_lists_each_code_version_with_its_run_count():
    versions = {("random_search", "ab" * 32, "cd" * 32): 3, ("mappo", "01" * 32, None): 7}
    assert reproduce.versions_text(versions) == (
        "`mappo.py` 01010101 with sources unknown: 7 runs; "
        "`random_search.py` abababab with sources cdcdcdcd: 3 runs"
    )
