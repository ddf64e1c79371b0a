"""The results page's companion section: fragments copied verbatim, headings demoted, a
missing fragment named with its command."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmark"))

import collusion
import companions
import reproduce

ROOT = Path(__file__).resolve().parent.parent


def _rel(report: Path):
    return lambda path: os.path.relpath(path, report.parent)


def test_fragments_are_copied_with_headings_one_level_deeper(tmp_path):
    docs = tmp_path / "docs"
    (docs / "assets" / "robustness").mkdir(parents=True)
    (docs / "assets" / "robustness" / "robustness.md").write_text("### maintain\n\n| a |\n")
    (docs / "assets" / "robustness" / "maintain.png").write_bytes(b"")
    text = companions.section(docs / "assets", docs, _rel(docs / "results.md"))
    assert "#### maintain\n\n| a |" in text
    assert "[page](robustness.md)" in text
    assert "(assets/robustness/maintain.png)" in text
    assert "simple-allocation-k2.png" not in text  # absent figures are not linked
    for companion in companions.COMPANIONS:
        assert f"### {companion.title}" in text
    # The collusion, diagnostics, two MSPM robustness, collusion robustness and two MSPM
    # limits fragments are absent here: each says what writes it.
    assert text.count("is missing; run the command") == 1 + 3 + 2 + 1 + 2


def test_write_fragment_writes_the_printed_lines(tmp_path):
    path = tmp_path / "new" / "landscape.md"
    companions.write_fragment(path, ["| t |", "|---|", "| 3 |"])
    assert path.read_text() == "| t |\n|---|\n| 3 |\n"


def test_demote_headings_leaves_other_lines():
    assert companions.demote_headings("# a\ntext # b\n## c") == "## a\ntext # b\n### c"


def test_the_committed_page_carries_every_committed_fragment():
    page = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    for companion in companions.COMPANIONS:
        for name in companion.fragments:
            fragment = ROOT / "docs" / "assets" / companion.folder / name
            assert fragment.is_file(), fragment
            first_table_row = next(
                line
                for line in fragment.read_text(encoding="utf-8").splitlines()
                if line.startswith("| ") and "---" not in line
            )
            assert first_table_row in page
        for name in companion.figures:
            assert (ROOT / "docs" / "assets" / companion.folder / name).is_file()
            assert f"assets/{companion.folder}/{name}" in page
    assert reproduce.ASSETS == ROOT / "docs" / "assets"


def test_collusion_summary_is_the_committed_fragment():
    record = json.loads((ROOT / "docs/assets/collusion/collusion.json").read_text())
    fragment = (ROOT / "docs/assets/collusion/collusion.md").read_text()
    assert collusion.summary(record) == fragment
