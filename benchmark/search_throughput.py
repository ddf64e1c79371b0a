"""How many policies the random searches of the results page tried, and how fast.

Reads the run JSONs of a results folder (by default the committed page's,
``docs/assets/results/runs/``) and, for every experiment trained by
``baselines/random_search.py``, prints the policies its runs tried (the finished episodes its
summary line counts), their wall time in the training loop, the policies per second, and, over
the seeds that reached the target, the median number of policies and seconds it took. This is
the figure behind "256 parallel episodes try about three times as many policies per second as
8" on the POMDP page; the times are the sweep's, one run per core.

    python benchmark/search_throughput.py
    python benchmark/search_throughput.py --runs /tmp/sweep/results --only 'mspm-t5-*'
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from sweep import read_result

RUNS = Path(__file__).resolve().parent.parent / "docs" / "assets" / "results" / "runs"
"""The committed results page's runs."""

_POLICIES = re.compile(r"(\d+) random policies in ([0-9.]+) s")


@dataclass(frozen=True)
class Throughput:
    """One experiment's search figures.

    Attributes:
        experiment: The experiment's name.
        runs: Its runs (seeds).
        policies: Policies tried, summed over the runs.
        seconds: Wall seconds of the training loops, summed over the runs.
        reached: Runs that reached the target.
        median_policies_to_target: Median policies tried by the runs that reached the target
            (``None`` if none did).
        median_seconds_to_target: Their median time to target (``None`` likewise).
    """

    experiment: str
    runs: int
    policies: int
    seconds: float
    reached: int
    median_policies_to_target: float | None
    median_seconds_to_target: float | None

    @property
    def per_second(self) -> float:
        """Policies tried per second of training loop."""
        return self.policies / self.seconds if self.seconds > 0 else float("nan")


def policies_of(summary: str) -> tuple[int, float]:
    """The policies and seconds in a random-search summary (``ValueError`` if it has none)."""
    match = _POLICIES.search(summary)
    if match is None:
        raise ValueError(f"no 'N random policies in S s' line in the summary {summary[:120]!r}")
    return int(match[1]), float(match[2])


def throughput(experiment: Path) -> Throughput | None:
    """The figures of the random-search runs in one experiment folder (``None`` otherwise).

    Raises:
        sweep.CorruptResult: If a run's JSON is not a usable result (the message names it).
        ValueError: If a random-search run's summary has no policies line.
    """
    records = [read_result(p) for p in sorted(experiment.glob("seed_*.json"))]
    records = [r for r in records if r.get("trainer") == "random_search"]
    if not records:
        return None
    counts = [policies_of(r.get("summary", "")) for r in records]
    reached = [(c, r) for c, r in zip(counts, records, strict=True) if r["reached_target"]]
    return Throughput(
        experiment=experiment.name,
        runs=len(records),
        policies=sum(p for p, _ in counts),
        seconds=sum(s for _, s in counts),
        reached=len(reached),
        median_policies_to_target=(
            statistics.median(c[0] for c, _ in reached) if reached else None
        ),
        median_seconds_to_target=(
            statistics.median(r["time_to_target_s"] for _, r in reached) if reached else None
        ),
    )


def table(rows: list[Throughput]) -> str:
    """The figures as a markdown table."""
    lines = [
        "| experiment | runs | policies | seconds | policies/s | reached | median policies to "
        "target | median time to target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in rows:
        to_target = (
            ("–", "–")
            if t.median_policies_to_target is None
            else (f"{t.median_policies_to_target:,.0f}", f"{t.median_seconds_to_target:.1f} s")
        )
        lines.append(
            f"| {t.experiment} | {t.runs} | {t.policies:,} | {t.seconds:.0f} | "
            f"{t.per_second:.1f} | {t.reached}/{t.runs} | {to_target[0]} | {to_target[1]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=RUNS,
                        help="a results folder: <experiment>/seed_<n>.json (default: the "
                             "committed page's runs)")  # fmt: skip
    parser.add_argument("--only", nargs="+", default=["*"],
                        help="experiment names or shell patterns (default: all)")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.runs.is_dir():
        parser.error(f"--runs must be a folder of experiment folders, got {str(args.runs)!r}")
    folders = [
        p
        for p in sorted(args.runs.iterdir())
        if p.is_dir() and any(fnmatch.fnmatch(p.name, pattern) for pattern in args.only)
    ]
    rows = [t for t in map(throughput, folders) if t is not None]
    if not rows:
        parser.error(f"no random-search runs under {str(args.runs)!r} match --only {args.only}")
    print(table(rows))


if __name__ == "__main__":
    main()
