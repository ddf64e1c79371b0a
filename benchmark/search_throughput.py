"""How many policies the random searches of the results page tried, and how fast.

Reads the run JSONs of a results folder (by default the committed page's,
``docs/assets/results/runs/``) and, for every experiment trained by
``baselines/random_search.py``, prints the policies its runs tried (the finished episodes its
summary line counts), their wall time in the training loop, the policies per second, and, over
the seeds that reached the target, the median number of policies and seconds it took. This is
the figure behind "256 parallel episodes try about three times as many policies per second as
8" on the POMDP page; the times are the sweep's, one run per core.

With ``--per-run`` it prints one line per run instead: its policies and policies per second,
its final exact leader value, and, from its curve of the best policy's exact value, the step
of the last strict improvement and the longest stretch of steps without one (how long the
search stayed on one level of the landscape).

    python benchmark/search_throughput.py
    python benchmark/search_throughput.py --runs /tmp/sweep/results --only 'mspm-t5-*'
    python benchmark/search_throughput.py --per-run --only 'mspm-t5-certified-ls256'
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

IMPROVEMENT_TOL = 1e-9
"""A best's exact value must rise by more than this to count as an improvement (a tie is the
same value summed in another order)."""


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
        return per_second(self.policies, self.seconds)


def per_second(policies: int, seconds: float) -> float:
    """Policies per second (NaN for a run that took no measurable time)."""
    return policies / seconds if seconds > 0 else float("nan")


def policies_of(summary: str) -> tuple[int, float]:
    """The policies and seconds in a random-search summary (``ValueError`` if it has none)."""
    match = _POLICIES.search(summary)
    if match is None:
        raise ValueError(f"no 'N random policies in S s' line in the summary {summary[:120]!r}")
    return int(match[1]), float(match[2])


def search_records(experiment: Path) -> list[tuple[Path, dict]]:
    """The random-search runs of one experiment folder, ``(file, record)`` by file name.

    Raises:
        sweep.CorruptResult: If a run's JSON is not a usable result (the message names it).
    """
    pairs = [(p, read_result(p)) for p in sorted(experiment.glob("seed_*.json"))]
    return [(p, r) for p, r in pairs if r.get("trainer") == "random_search"]


def throughput(experiment: Path) -> Throughput | None:
    """The figures of the random-search runs in one experiment folder (``None`` otherwise).

    Raises:
        sweep.CorruptResult: If a run's JSON is not a usable result (the message names it).
        ValueError: If a random-search run's summary has no policies line.
    """
    records = [r for _, r in search_records(experiment)]
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


@dataclass(frozen=True)
class RunSearch:
    """One random-search run's figures (``--per-run``).

    Attributes:
        experiment: The experiment's name.
        seed: The run's seed.
        policies: Policies tried.
        seconds: Wall seconds of the training loop.
        steps: Leader steps trained.
        leader_value: The final best policy's exact leader value.
        reached: Whether the run reached the target.
        last_improvement: Step at which the best's exact value last rose (`improvements`).
        longest_stay: Longest stretch of steps without a rise, the end of the run included.
            The curve is the run's best (its answer), so for a run that restarts its local
            search (`--restart-after`) a stretch can span restarts, not one search's stay.
    """

    experiment: str
    seed: int
    policies: int
    seconds: float
    steps: int
    leader_value: float
    reached: bool
    last_improvement: int
    longest_stay: int


def improvements(steps: list[int], values: list[float]) -> list[int]:
    """The steps at which a curve of the best's exact value rises above all earlier values by
    more than :data:`IMPROVEMENT_TOL` (its first point included; ties and falls are not)."""
    rises, best = [], float("-inf")
    for step, value in zip(steps, values, strict=True):
        if value > best + IMPROVEMENT_TOL:
            rises.append(step)
            best = value
    return rises


def runs_of(experiment: Path) -> list[RunSearch]:
    """The random-search runs of one experiment folder, by seed (none for other trainers).

    Raises:
        sweep.CorruptResult: If a run's JSON is not a usable result (the message names it).
        ValueError: If a random-search run has no policies line or no leader-value curve.
    """
    out = []
    for path, record in search_records(experiment):
        policies, seconds = policies_of(record.get("summary", ""))
        curve = record["curves"].get("equilibrium/leader_value")
        if not curve or not curve["step"]:
            raise ValueError(f"{path}: no equilibrium/leader_value curve")
        end = int(record["final"]["steps"])
        rises = improvements(curve["step"], curve["value"])
        stays = [b - a for a, b in zip(rises, [*rises[1:], end], strict=True)]
        out.append(
            RunSearch(
                experiment=experiment.name,
                seed=int(record["seed"]),
                policies=policies,
                seconds=seconds,
                steps=end,
                leader_value=float(record["final"]["leader_value"]),
                reached=bool(record["reached_target"]),
                last_improvement=rises[-1],
                longest_stay=max(stays),
            )
        )
    return sorted(out, key=lambda r: r.seed)


def per_run_table(rows: list[RunSearch]) -> str:
    """The per-run figures as a markdown table."""
    lines = [
        "| experiment | seed | policies | policies/s | leader value | reached | steps | last "
        "improvement at step | longest stay (steps) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.experiment} | {r.seed} | {r.policies:,} | "
            f"{per_second(r.policies, r.seconds):.1f} | {r.leader_value:.4f} | "
            f"{'yes' if r.reached else 'no'} | {r.steps:,} | {r.last_improvement:,} | "
            f"{r.longest_stay:,} |"
        )
    return "\n".join(lines)


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
    parser.add_argument("--per-run", action="store_true",
                        help="one line per run: policies/s, final value, improvements")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.runs.is_dir():
        parser.error(f"--runs must be a folder of experiment folders, got {str(args.runs)!r}")
    folders = [
        p
        for p in sorted(args.runs.iterdir())
        if p.is_dir() and any(fnmatch.fnmatch(p.name, pattern) for pattern in args.only)
    ]
    if args.per_run:
        runs = [r for folder in folders for r in runs_of(folder)]
    else:
        runs = [t for t in map(throughput, folders) if t is not None]
    if not runs:
        parser.error(f"no random-search runs under {str(args.runs)!r} match --only {args.only}")
    print(per_run_table(runs) if args.per_run else table(runs))


if __name__ == "__main__":
    main()
