"""benchmark/pomdp_speed.py: its flags (the certified protocol, game arguments) and a short run."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmark"))

import pomdp_speed


def run_main(monkeypatch, *argv):
    monkeypatch.setattr(sys, "argv", ["pomdp_speed.py", *argv])
    pomdp_speed.main()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--protocol", "certified", "--followers", "hedge"), "--followers applies to"),
        (("--env-kwargs", "{n_values: 5}"), "--env-kwargs must be JSON"),
        (("--env-kwargs", "[5]"), "--env-kwargs must be a JSON object, got '[5]'"),
        (("--protocol", "exact"), "invalid choice: 'exact'"),
        (("--env-kwargs", '{"n_values": -1, "values": "uniform"}'), "n_values"),
        (("--env-kwargs", '{"colour": 1}'), '--env-kwargs {"colour": 1} for mspm'),
    ],
)
def test_bad_flags_are_refused_naming_them(monkeypatch, capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        run_main(monkeypatch, "--settings", "mspm", *argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_the_certified_protocol_passes_to_the_env_and_has_no_verdict():
    args = SimpleNamespace(protocol="certified", env_kwargs={"n_values": 5})
    assert pomdp_speed.env_kwargs(args) == {"n_values": 5, "protocol": "certified"}
    assert pomdp_speed.verdict(False, args) == "-"
    paper = SimpleNamespace(protocol="paper", env_kwargs={})
    assert pomdp_speed.env_kwargs(paper) == {}
    assert (pomdp_speed.verdict(True, paper), pomdp_speed.verdict(False, paper)) == (
        "met",
        "MISSED",
    )


def test_a_short_certified_run_prints_its_row(monkeypatch, capsys):
    run_main(monkeypatch, "--settings", "mspm", "--protocol", "certified", "--num-envs", "4",
             "--seconds", "0.05", "--repeats", "1", "--env-kwargs", '{"values": "pi"}')  # fmt: skip
    out = capsys.readouterr().out
    assert "protocol certified, env kwargs {'values': 'pi'}" in out
    row = next(line for line in out.splitlines() if line.startswith("mspm "))
    assert "certified (mw)" in row and "MISSED" not in row and "met" not in row
