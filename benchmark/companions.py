"""The results page's companion benchmarks: scripts outside the training sweep whose
markdown summaries the page carries verbatim.

Each companion script writes a markdown fragment beside its JSON and figures (the collusion
platform's ``collusion.md``, the diagnostics' three ``.txt`` tables, the robustness tables'
``robustness.md``); :func:`section` reads them back, so the numbers on the results page are
the ones the script printed, and a fragment that is missing says which command writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Companion:
    """One companion benchmark.

    Attributes:
        title: The heading on the results page.
        page: The docs page that explains it (relative to ``docs/``).
        commands: The commands that write its fragments into ``docs/assets/<folder>``.
        folder: Its folder under the assets directory.
        fragments: The markdown files it writes there, in page order.
        figures: The figures it writes there, shown after the fragments.
    """

    title: str
    page: str
    commands: tuple[str, ...]
    folder: str
    fragments: tuple[str, ...]
    figures: tuple[str, ...]


COMPANIONS: tuple[Companion, ...] = (
    Companion(
        "Collusion platform: platform rules against Q-learning sellers",
        "collusion.md",
        ("python benchmark/collusion.py",),
        "collusion",
        ("collusion.md",),
        ("rules.png", "deviation.png"),
    ),
    Companion(
        "Normal-form diagnostics of the Stackelberg POMDP's design",
        "diagnostics.md",
        ("python benchmark/diagnostics",),
        "diagnostics",
        ("phase-memory.txt", "reset-vs-carried.txt", "reward-during-learning.txt"),
        ("phase-memory.png", "reset-vs-carried.png", "reward-during-learning.png"),
    ),
    Companion(
        "Robustness to follower models the leader never saw",
        "robustness.md",
        (
            "python benchmark/robustness.py --train-seeds 10 --eval-seeds 10 "
            "--out docs/assets/robustness",
            "python benchmark/robustness.py --settings mspm-t3 mspm-t4 mspm-t5 mspm-t6 "
            "--train-seeds 10 --eval-seeds 10 --out docs/assets/robustness/mspm-msgspace",
            "python benchmark/robustness.py --settings mspm-t7 mspm-3f-t3 "
            "--train-seeds 10 --eval-seeds 10 --out docs/assets/robustness/mspm-beyond",
        ),
        "robustness",
        ("robustness.md", "mspm-msgspace/robustness.md", "mspm-beyond/robustness.md"),
        tuple(
            f"{name}.png"
            for name in (
                "escape",
                "maintain",
                "simple-allocation-k1",
                "simple-allocation-k2",
                "simple-allocation-k3",
            )
        ),
    ),
    Companion(
        "Robustness on the collusion platform: seller models the platform never saw",
        "robustness.md#the-collusion-platform",
        (
            "python benchmark/collusion_robustness.py --train-seeds 10 --seller-seeds 10 "
            "--train-episodes 400 --out docs/assets/robustness/collusion",
        ),
        "robustness/collusion",
        ("collusion_robustness.md",),
        ("collusion.png",),
    ),
    Companion(
        "Why the many-type searches stop short of zero loss",
        "pomdp.md#protocols-the-papers-and-the-certified-one",
        (
            "python benchmark/mspm_landscape.py --markdown docs/assets/mspm-limits/landscape.md",
            "python benchmark/certified_reference.py --robust --episodes 40 --markdown "
            "docs/assets/mspm-limits/certified-mechanisms.md",
        ),
        "mspm-limits",
        ("landscape.md", "certified-mechanisms.md"),
        (),
    ),
)


def write_fragment(path: Path, lines: Sequence[str]) -> None:
    """Write a companion script's printed table to ``path`` as a markdown fragment."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def demote_headings(text: str) -> str:
    """``text`` with every markdown heading one level deeper (it sits under a ``###``)."""
    return "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())


def section(assets: Path, docs: Path, rel: Callable[[Path], str]) -> str:
    """The page's companion section, from the fragments under ``assets``.

    Args:
        assets: The assets directory holding each companion's folder (``docs/assets``).
        docs: The docs directory (the companions' pages live there).
        rel: Path to link text, relative to the results page.
    """
    parts = [
        "## Companion benchmarks\n",
        "Benchmarks outside the training sweep, each written by its own script; the "
        "fragments below are what the script printed, copied from its output folder.\n",
    ]
    for companion in COMPANIONS:
        folder = assets / companion.folder
        parts += [
            f"### {companion.title}\n",
            f"Written by {' and '.join(f'`{c}`' for c in companion.commands)} into "
            f"`{companion.folder}/`; the "
            f"[page]({rel(docs / companion.page)}) explains the setting, the protocol and "
            "the figures.\n",
        ]
        for name in companion.fragments:
            file = folder / name
            if file.is_file():
                parts.append(demote_headings(file.read_text(encoding="utf-8").strip()) + "\n")
            else:
                parts.append(f"Not measured here: `{file.name}` is missing; run the command.\n")
        for name in companion.figures:
            file = folder / name
            if file.is_file():
                parts.append(f"![{companion.title}: {file.stem}]({rel(file)})\n")
    return "\n".join(parts)
