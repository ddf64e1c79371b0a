"""Runner machinery for benchmark sweeps: runs, crash-safe results, backends, aggregation.

A sweep is a list of :class:`Experiment` (a trainer on a setting, over seeds). Each
(experiment, seed) is a *run*: the trainer script is started through its command line in a
scratch folder, its TensorBoard events, ``summary.txt`` and ``mechanism.json`` are read back,
and one result JSON is written **atomically** (a temporary file in the same folder, then
``os.replace``) to ``OUT/results/<experiment>/seed_<seed>.json``. That file is the only thing
that marks a run as finished: a re-run skips runs whose JSON exists, and a killed run (or a
crash while writing) leaves at most a scratch folder and a dot-prefixed temporary file, which
the next sweep removes and redoes. A result file damaged some other way (:func:`read_result`
says how) is named in a warning, moved aside to ``seed_<seed>.json.corrupt-<n>`` and its run
redone (:func:`plan`); aggregation leaves it out with a warning (:func:`load_results`).

Backends: a local pool of ``--workers`` threads, each driving one trainer subprocess (the
default), or Ray tasks (``ray.init()`` local by default, or a cluster address). Either way the
driver process writes the result JSONs, so results land on the driver's disk.

Aggregation reads the result JSONs back: :func:`summarize` (one table row per experiment:
the interquartile mean of the final values with its bootstrap interval, the fraction of
seeds at the optimum and at the target, ...),
:func:`markdown_table`, :func:`resample` (curves on a common step grid), :func:`plot_figure`
(PNG learning curves) and :func:`marl_eval_json` (the layout marl-eval reads).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import fnmatch
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `seed_stats` beside this file
import seed_stats
from seed_stats import Estimate

RESULT_SCHEMA = 1
"""Version of the result JSON layout written by :func:`execute_run`."""

EVAL_TAGS: tuple[str, ...] = (
    "equilibrium/leader_value",
    "equilibrium/optimal_value",
    "equilibrium/optimality_gap",
    "equilibrium/bcce_gap",
    "equilibrium/bcce_gap_bound",
    "equilibrium/follower_deviation_gain",
    "equilibrium/certification_rate",
    "charts/eval_return",
)
"""TensorBoard scalars of the trainers' exact evaluations kept as curves in each result."""

OPTIMUM_TOL = 1e-3
"""A run counts as *at the optimum* when its final leader value is within this of it."""


# ----------------------------------------------------------------------------- the sweep


@dataclass(frozen=True)
class Experiment:
    """One named experiment of a sweep: a trainer on a setting, over seeds.

    Attributes:
        name: Unique name (``--only`` selects by it), e.g. ``"escape-pure"``.
        setting: The Stackelberg POMDP setting (``"normal_form"``, ``"mspm"``, ...).
        env_kwargs: Keyword arguments of the env (game and POMDP), passed as JSON.
        total_timesteps: The trainer's step budget before ``--budget-scale``.
        seeds: Number of seeds (1..seeds) unless ``--seeds`` overrides it.
        trainer: Trainer name: the script ``<baselines_dir>/<trainer>.py``.
        flags: Extra command-line flags of the trainer (e.g. the ablation's).
        task: The task label in tables and marl-eval JSON (a setting instance, e.g. ``"k3"``).
        algorithm: The algorithm label (trainer and variant, e.g. ``"mappo/obs-critic"``).
        baseline: Key of the setting's ``Reference.baselines`` shown next to the optimum
            (e.g. ``"message_free_spm"``), or ``None``.
    """

    name: str
    setting: str
    env_kwargs: Mapping[str, Any]
    total_timesteps: int
    seeds: int
    trainer: str = "mappo"
    flags: tuple[str, ...] = ()
    task: str = ""
    algorithm: str = "mappo"
    baseline: str | None = None

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z0-9][\w.-]*", self.name):
            raise ValueError(f"experiment name must be a plain identifier, got {self.name!r}")
        if not isinstance(self.total_timesteps, int) or self.total_timesteps < 1:
            raise ValueError(
                f"total_timesteps must be a positive int, got {self.total_timesteps!r}"
            )
        if not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"seeds must be a positive int, got {self.seeds!r}")
        if not isinstance(self.env_kwargs, Mapping):
            raise TypeError(f"env_kwargs must be a mapping, got {self.env_kwargs!r}")


@dataclass(frozen=True)
class RunSpec:
    """One run: an experiment at one seed, as the exact trainer command.

    Attributes:
        experiment: The experiment's name.
        seed: The seed.
        setting: The experiment's setting.
        trainer: The trainer's name.
        script: Absolute path of the trainer script.
        args: The trainer's arguments (after the script path).
        trainer_sha256: Hash of the trainer script when the run was planned.
        source_sha256: :func:`source_sha256` when the run was planned.
    """

    experiment: str
    seed: int
    setting: str
    trainer: str
    script: str
    args: tuple[str, ...]
    trainer_sha256: str
    source_sha256: str = ""

    @property
    def key(self) -> str:
        """``"<experiment>/seed_<seed>"``: the run's name in logs and output paths."""
        return f"{self.experiment}/seed_{self.seed}"


def env_id_of(setting: str) -> str:
    """The Gymnasium id of a setting's Stackelberg POMDP (raises ``ValueError`` if unknown)."""
    from stackelberg_zoo.envs.pomdp.registration import pomdp_setting

    return pomdp_setting(setting).gymnasium_id


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_sha256() -> str:
    """Hex SHA-256 of the installed package's sources (every ``.py`` of envs and equilibrium).

    The trainers import these, so a change here can change results as much as a change in
    the trainer file.
    """
    import stackelberg_zoo.envs
    import stackelberg_zoo.equilibrium

    digest = hashlib.sha256()
    for package in (stackelberg_zoo.envs, stackelberg_zoo.equilibrium):
        root = Path(package.__file__).resolve().parent
        for path in sorted(root.rglob("*.py")):
            digest.update(f"{package.__name__}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def select(experiments: Sequence[Experiment], only: Sequence[str]) -> list[Experiment]:
    """The experiments whose name matches one of ``only`` (shell patterns); all if empty.

    Raises:
        ValueError: If a pattern matches no experiment, or names repeat.
    """
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ValueError(f"experiment names must be unique, got {names}")
    if not only:
        return list(experiments)
    for pattern in only:
        if not fnmatch.filter(names, pattern):
            raise ValueError(f"--only {pattern!r} matches no experiment; known: {names}")
    return [e for e in experiments if any(fnmatch.fnmatchcase(e.name, p) for p in only)]


def trainer_args(experiment: Experiment, seed: int, budget: int) -> tuple[str, ...]:
    """The trainer's flags for one run of ``experiment`` (after the script path).

    Raises:
        ValueError: If the experiment's setting is unknown.
    """
    return (
        *("--env-id", env_id_of(experiment.setting)),
        *("--env-kwargs", json.dumps(dict(experiment.env_kwargs), sort_keys=True)),
        *("--seed", str(seed)),
        *("--total-timesteps", str(budget)),
        *experiment.flags,
    )


def run_specs(
    experiments: Sequence[Experiment],
    baselines_dir: Path,
    seeds: int | None = None,
    budget_scale: float = 1.0,
) -> list[RunSpec]:
    """Every run of ``experiments``, in order (experiment by experiment, seeds ascending).

    Args:
        experiments: The experiments.
        baselines_dir: Folder of the trainer scripts.
        seeds: Seeds 1..``seeds`` for every experiment; ``None``: each experiment's own.
        budget_scale: Factor on every experiment's ``total_timesteps`` (rounded, at least 1).

    Raises:
        ValueError: On a non-positive ``seeds`` or ``budget_scale``, or a missing trainer.
    """
    if seeds is not None and (not isinstance(seeds, int) or seeds < 1):
        raise ValueError(f"--seeds must be a positive int, got {seeds!r}")
    if not (isinstance(budget_scale, int | float) and budget_scale > 0):
        raise ValueError(f"--budget-scale must be a positive number, got {budget_scale!r}")
    specs, source = [], source_sha256()
    for experiment in experiments:
        script = (Path(baselines_dir) / f"{experiment.trainer}.py").resolve()
        if not script.is_file():
            raise ValueError(f"{experiment.name}: trainer script {str(script)!r} does not exist")
        digest = file_sha256(script)
        budget = max(1, round(experiment.total_timesteps * budget_scale))
        for seed in range(1, (seeds or experiment.seeds) + 1):
            args = ("--no-progress-bar", *trainer_args(experiment, seed, budget))
            specs.append(
                RunSpec(
                    experiment.name,
                    seed,
                    experiment.setting,
                    experiment.trainer,
                    str(script),
                    args,
                    digest,
                    source,
                )
            )
    return specs


# ----------------------------------------------------------------------------- storage


def result_path(out: Path, experiment: str, seed: int) -> Path:
    """Where the result JSON of a run lives: ``OUT/results/<experiment>/seed_<seed>.json``."""
    return Path(out) / "results" / experiment / f"seed_{seed}.json"


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically: all of it or nothing.

    The JSON goes to a dot-prefixed temporary file in the same folder, is flushed and
    fsynced, then renamed over ``path`` (``os.replace`` is atomic on POSIX and Windows). On
    any error, including a signal, the temporary file is removed and ``path`` is untouched.

    Raises:
        ValueError: If ``obj`` holds NaN or infinity (JSON has no such numbers).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=1, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where supported
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def is_finished(out: Path, spec: RunSpec) -> bool:
    """Whether the run's result JSON exists (the one marker of a finished run)."""
    return result_path(out, spec.experiment, spec.seed).is_file()


LOCK_FILE = ".sweep.lock"
"""The file in the output folder that a running sweep holds locked (it names the pid)."""


class SweepBusy(RuntimeError):
    """Another sweep holds the output folder (:func:`lock_out`)."""


def lock_out(out: Path) -> Any:
    """Hold ``OUT/.sweep.lock`` for this process (released when it exits or the returned file
    is closed), so that a second sweep cannot start on the same folder: it would delete the
    first's scratch folders (:func:`remove_partial`) and their running trainers' logs.

    Raises:
        SweepBusy: If another process holds it, naming that process.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / LOCK_FILE, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise SweepBusy(
            f"another sweep (pid {holder}) is running with --out {out}; wait for it, or stop "
            "it (a second sweep on one folder would delete the first's running scratch runs)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def remove_partial(out: Path) -> list[Path]:
    """Delete what killed runs left behind: temporary result files and scratch folders.

    Returns:
        The paths removed.
    """
    out = Path(out)
    removed = list((out / "results").glob("*/.seed_*.json.*.tmp"))
    for path in removed:
        path.unlink()
    work = out / "work"
    if work.is_dir():
        removed.append(work)
        shutil.rmtree(work)
    return removed


class CorruptResult(ValueError):
    """A result JSON that cannot be read back as a result of this runner.

    Attributes:
        path: The file.
    """

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)


_NUMBER_KEYS = ("steps", "wall_time_s")
_OPTIONAL_NUMBER_KEYS = (  # null: the trainer logged NaN (a result, not a corruption)
    "leader_value", "optimum", "target", "optimality_gap", "bcce_gap", "bcce_gap_bound",
    "deviation_gain",
)  # fmt: skip


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _record_problem(record: Any, path: Path) -> str | None:
    """What makes ``record`` (read from ``path``) not a usable result, or ``None``."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    if record.get("schema") != RESULT_SCHEMA:
        return f"schema {record.get('schema')!r}, not {RESULT_SCHEMA}"
    missing = [
        key
        for key in ("experiment", "seed", "final", "reached_target", "steps_to_target",
                    "time_to_target_s", "curves")
        if key not in record
    ]  # fmt: skip
    if missing:
        return f"missing keys {missing}"
    expected_seed = path.stem.removeprefix("seed_")
    if record["experiment"] != path.parent.name or str(record["seed"]) != expected_seed:
        return (
            f"holds experiment {record['experiment']!r} seed {record['seed']!r}, not "
            f"{path.parent.name!r} seed {expected_seed}"
        )
    if not isinstance(record["seed"], int) or isinstance(record["seed"], bool):
        return f"seed {record['seed']!r} is not an int"
    final = record["final"]
    if not isinstance(final, dict):
        return f"final is {final!r}, not an object"
    missing = [k for k in _NUMBER_KEYS + _OPTIONAL_NUMBER_KEYS if k not in final]
    if missing:
        return f"missing keys final.{missing}"
    for key in _NUMBER_KEYS:
        if not _is_number(final[key]):
            return f"final.{key} is {final[key]!r}, not a number"
    for key in _OPTIONAL_NUMBER_KEYS:
        if final[key] is not None and not _is_number(final[key]):
            return f"final.{key} is {final[key]!r}, not a number or null"
    if not isinstance(record["reached_target"], bool):
        return f"reached_target is {record['reached_target']!r}, not a bool"
    for key in ("steps_to_target", "time_to_target_s"):
        if record[key] is not None and not _is_number(record[key]):
            return f"{key} is {record[key]!r}, not a number or null"
    curves = record["curves"]
    if not isinstance(curves, dict):
        return f"curves is {curves!r}, not an object"
    for tag, curve in curves.items():
        if (
            not isinstance(curve, dict)
            or not isinstance(curve.get("step"), list)
            or not isinstance(curve.get("value"), list)
            or len(curve["step"]) != len(curve["value"])
        ):
            return f"curve {tag!r} is not {{step: [...], value: [...]}} of equal lengths"
    return None


def read_result(path: Path) -> dict[str, Any]:
    """One result JSON, checked: a schema-1 record of the run its path names.

    Raises:
        CorruptResult: If the file is not UTF-8 JSON, not an object, of another schema, of
            another run than its path says, or lacks a key (or a key's type) that
            aggregation reads. The message names the file.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        reason = f"not UTF-8 text ({error.reason} at byte {error.start})"
        raise CorruptResult(path, reason) from None
    if not text.strip():
        raise CorruptResult(path, "empty file")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise CorruptResult(path, f"not valid JSON ({error})") from None
    problem = _record_problem(record, path)
    if problem is not None:
        raise CorruptResult(path, problem)
    return record


def warn(message: str) -> None:
    """Print a warning of the runner on standard error."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def quarantine(path: Path) -> Path:
    """Move a corrupt result aside, to ``<name>.corrupt-<n>`` (the first free ``n``); kept."""
    path = Path(path)
    for n in itertools.count(1):
        target = path.with_name(f"{path.name}.corrupt-{n}")
        if not target.exists():
            os.replace(path, target)
            return target
    raise AssertionError("unreachable")  # pragma: no cover


def load_results(out: Path, warn: Callable[[str], None] = warn) -> dict[str, list[dict[str, Any]]]:
    """Every finished run under ``out``, ``{experiment: [records sorted by seed]}``.

    A corrupt result file (:func:`read_result`) is left out with a warning naming it; it
    stays where it is (the next sweep moves it aside and reruns that run).
    """
    results: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((Path(out) / "results").glob("*/seed_*.json")):
        try:
            record = read_result(path)
        except CorruptResult as error:
            warn(f"left out a corrupt result: {error} (the next sweep reruns that run)")
            continue
        results.setdefault(record["experiment"], []).append(record)
    for records in results.values():
        records.sort(key=lambda r: r["seed"])
    return results


def copy_results(out: Path, results: Mapping[str, Sequence[Mapping[str, Any]]], dest: Path) -> int:
    """Make ``dest`` hold a byte-for-byte copy of each run of ``results`` (from
    :func:`load_results` on ``out``) and nothing else, as ``<experiment>/seed_<n>.json``.

    ``dest`` has the layout of ``OUT/results``: copied into a sweep folder, a sweep resumes
    from it. Returns the number of files copied.
    """
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    count = 0
    for experiment, records in results.items():
        for record in records:
            target = dest / experiment / f"seed_{record['seed']}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(result_path(out, experiment, record["seed"]), target)
            count += 1
    return count


def is_stale(record: Mapping[str, Any], spec: RunSpec) -> bool:
    """Whether a stored result came from another command, trainer or package source."""
    return (
        tuple(record.get("args", ())) != spec.args
        or record.get("trainer") != spec.trainer
        or record.get("trainer_sha256") != spec.trainer_sha256
        or record.get("source_sha256") != spec.source_sha256
    )


@dataclass(frozen=True)
class Plan:
    """What a sweep will do.

    Attributes:
        todo: Runs to execute, in order.
        skipped: Finished runs that are kept.
        stale: Finished runs whose stored command or trainer hash differs from now (kept
            unless ``rerun_changed``, in which case they are also in ``todo``).
        corrupt: ``(run, reason)`` of the runs whose result file is corrupt
            (:func:`read_result`); they are in ``todo``.
    """

    todo: tuple[RunSpec, ...]
    skipped: tuple[RunSpec, ...]
    stale: tuple[RunSpec, ...]
    corrupt: tuple[tuple[RunSpec, str], ...] = ()


def plan(
    specs: Sequence[RunSpec],
    out: Path,
    rerun_changed: bool = False,
    move_corrupt: bool = True,
    warn: Callable[[str], None] = warn,
) -> Plan:
    """Split runs into those to execute and those already finished.

    A run whose result file is corrupt is to run again; with ``move_corrupt`` the file is
    first moved aside (:func:`quarantine`), and either way a warning names it.
    """
    todo, skipped, stale, corrupt = [], [], [], []
    for spec in specs:
        path = result_path(out, spec.experiment, spec.seed)
        if not path.is_file():
            todo.append(spec)
            continue
        try:
            record = read_result(path)
        except CorruptResult as error:
            if move_corrupt:
                kept = quarantine(path)
                warn(f"corrupt result {error}; moved to {kept.name}, {spec.key} runs again")
            else:
                warn(f"corrupt result {error}; the next sweep moves it aside and reruns it")
            corrupt.append((spec, str(error)))
            todo.append(spec)
            continue
        if is_stale(record, spec):
            stale.append(spec)
            if rerun_changed:
                todo.append(spec)
                continue
        skipped.append(spec)
    return Plan(tuple(todo), tuple(skipped), tuple(stale), tuple(corrupt))


# ----------------------------------------------------------------------------- one run


class RunFailed(RuntimeError):
    """A trainer exited with an error, or left no readable results."""


class RunCancelled(RuntimeError):
    """A run stopped because the sweep was interrupted."""


_CHILDREN: set[subprocess.Popen] = set()
_CHILDREN_LOCK = threading.Lock()


def terminate_children(grace_s: float = 5.0) -> None:
    """Stop every trainer subprocess started by this process: SIGTERM, then SIGKILL."""
    with _CHILDREN_LOCK:
        children = list(_CHILDREN)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
    deadline = time.monotonic() + grace_s
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                child.kill()


def _finite(value: Any) -> Any:
    """``value`` as a JSON number, or ``None`` for NaN, infinity or a missing value."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def read_scalars(run_dir: Path) -> dict[str, list[tuple[int, float, float]]]:
    """Every scalar of the TensorBoard event files in ``run_dir``: ``{tag: [(step, wall, v)]}``.

    Raises:
        RunFailed: If ``run_dir`` holds no event file.
    """
    from tensorboard.backend.event_processing import event_accumulator

    files = sorted(Path(run_dir).glob("events.out.tfevents.*"))
    if not files:
        raise RunFailed(f"no TensorBoard event file in {run_dir}")
    scalars: dict[str, list[tuple[int, float, float]]] = {}
    for path in files:
        acc = event_accumulator.EventAccumulator(
            str(path), size_guidance={event_accumulator.SCALARS: 0}
        )
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            scalars.setdefault(tag, []).extend(
                (int(e.step), float(e.wall_time), float(e.value)) for e in acc.Scalars(tag)
            )
    for events in scalars.values():
        events.sort(key=lambda e: (e[0], e[1]))
    return scalars


_STEPS_LINE = re.compile(r"(\d+) leader steps in ([0-9.]+) s")
_REACHED_LINE = re.compile(r"TARGET REACHED after (\d+) steps, ([0-9.]+) s")


def parse_trainer_output(run_dir: Path, scalars: Mapping[str, Sequence[tuple]]) -> dict[str, Any]:
    """The final figures of a trainer run, from its summary, mechanism and scalars.

    Exact (float64) leader value, optimum and target come from ``mechanism.json`` when the
    trainer saved it, else from the last TensorBoard scalars (float32). Steps and wall time
    come from ``summary.txt`` (``"N leader steps in T s"``), else from the last scalar.
    """
    run_dir = Path(run_dir)
    summary_path, mechanism_path = run_dir / "summary.txt", run_dir / "mechanism.json"
    summary = summary_path.read_text(encoding="utf-8") if summary_path.is_file() else ""
    mechanism = (
        json.loads(mechanism_path.read_text(encoding="utf-8")) if mechanism_path.is_file() else {}
    )

    def last(tag: str) -> float | None:
        events = scalars.get(tag)
        return _finite(events[-1][2]) if events else None

    value = mechanism.get("leader_value", last("equilibrium/leader_value"))
    optimum = mechanism.get("optimum", last("equilibrium/optimal_value"))
    if value is None or optimum is None:
        raise RunFailed(f"{run_dir}: the trainer logged no leader value or optimum")
    steps_match = _STEPS_LINE.search(summary)
    if steps_match:
        steps, wall = int(steps_match.group(1)), float(steps_match.group(2))
    else:
        all_events = [e for events in scalars.values() for e in events]
        steps = max(e[0] for e in all_events)
        wall = max(e[1] for e in all_events) - min(e[1] for e in all_events)
    reached = _REACHED_LINE.search(summary)
    target_events = scalars.get("charts/time_to_target")
    if reached:
        steps_to_target, time_to_target = int(reached.group(1)), float(reached.group(2))
    elif target_events:
        steps_to_target, time_to_target = target_events[0][0], target_events[0][2]
    else:
        steps_to_target = time_to_target = None
    return {
        "final": {
            "leader_value": _finite(value),
            "optimum": _finite(optimum),
            "target": _finite(mechanism.get("target", optimum)),
            "optimality_gap": _finite(float(optimum) - float(value)),
            "bcce_gap": last("equilibrium/bcce_gap"),
            "bcce_gap_bound": last("equilibrium/bcce_gap_bound"),
            "deviation_gain": last("equilibrium/follower_deviation_gain"),
            # certified protocol only (absent from paper runs and from older records)
            "certification_rate": _finite(
                mechanism.get("certification_rate", last("equilibrium/certification_rate"))
            ),
            "steps": steps,
            "wall_time_s": wall,
        },
        "reached_target": steps_to_target is not None,
        "steps_to_target": steps_to_target,
        "time_to_target_s": time_to_target,
        "summary": summary,
    }


def execute_run(
    spec: RunSpec,
    out: str | os.PathLike,
    python: str = sys.executable,
    timeout_s: float | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run one trainer to completion and return its result record (nothing is committed).

    The trainer runs with ``OUT/work/<experiment>/seed_<seed>`` as its working folder (it
    writes ``runs/<run name>/`` there); its output goes to ``trainer.log`` in that folder.
    On success its run folder is moved to ``OUT/tensorboard/<experiment>/seed_<seed>`` and
    the scratch folder is deleted; the caller commits the record with :func:`commit`.

    Raises:
        RunFailed: If the trainer exits non-zero, times out, or leaves no readable results
            (the scratch folder and its ``trainer.log`` are kept for inspection).
        RunCancelled: If ``cancel`` is set before the trainer starts or while it runs.
    """
    out = Path(out)
    work = out / "work" / spec.experiment / f"seed_{spec.seed}"
    if cancel is not None and cancel.is_set():
        raise RunCancelled(spec.key)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    command = [python, spec.script, *spec.args]
    # the versions that run, not the planned ones
    trainer_sha256, source = file_sha256(Path(spec.script)), source_sha256()
    started = dt.datetime.now(dt.timezone.utc)
    with open(work / "trainer.log", "wb") as log:
        child = subprocess.Popen(command, cwd=work, stdout=log, stderr=subprocess.STDOUT)
        with _CHILDREN_LOCK:
            _CHILDREN.add(child)
        try:
            if cancel is not None and cancel.is_set():  # cancelled while starting
                child.terminate()
            returncode = child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired as error:
            child.kill()
            child.wait()
            raise RunFailed(f"{spec.key}: timed out after {timeout_s} s; see {work}") from error
        finally:
            with _CHILDREN_LOCK:
                _CHILDREN.discard(child)
    if cancel is not None and cancel.is_set():
        raise RunCancelled(spec.key)
    if returncode != 0:
        tail = (work / "trainer.log").read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RunFailed(f"{spec.key}: trainer exited with {returncode}; log tail:\n{tail}")
    events = sorted(work.rglob("events.out.tfevents.*"))
    run_dirs = sorted({p.parent for p in events})
    if len(run_dirs) != 1:
        raise RunFailed(
            f"{spec.key}: expected one TensorBoard run folder in {work}, got {run_dirs}"
        )
    run_dir = run_dirs[0]
    scalars = read_scalars(run_dir)
    parsed = parse_trainer_output(run_dir, scalars)
    curves = {
        tag: {"step": [e[0] for e in scalars[tag]], "value": [_finite(e[2]) for e in scalars[tag]]}
        for tag in EVAL_TAGS
        if tag in scalars
    }
    tensorboard = out / "tensorboard" / spec.experiment / f"seed_{spec.seed}"
    if tensorboard.exists():
        shutil.rmtree(tensorboard)
    tensorboard.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(run_dir), tensorboard)
    (tensorboard / "trainer.log").write_bytes((work / "trainer.log").read_bytes())
    shutil.rmtree(work)
    with contextlib.suppress(OSError):  # the experiment's and the sweep's scratch, if empty
        work.parent.rmdir()
        work.parent.parent.rmdir()
    return {
        "schema": RESULT_SCHEMA,
        "experiment": spec.experiment,
        "seed": spec.seed,
        "setting": spec.setting,
        "trainer": spec.trainer,
        "trainer_sha256": trainer_sha256,
        "source_sha256": source,
        "args": list(spec.args),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **parsed,
        "curves": curves,
        "tensorboard": str(tensorboard.relative_to(out)),
    }


def commit(out: Path, record: Mapping[str, Any]) -> Path:
    """Write a run's result JSON atomically: from now on the run counts as finished.

    A failure note of an earlier attempt (:func:`note_failure`) is removed.
    """
    path = result_path(out, record["experiment"], record["seed"])
    write_json_atomic(path, record)
    with contextlib.suppress(FileNotFoundError):
        failure_path(out, record["experiment"], record["seed"]).unlink()
    return path


def failure_path(out: Path, experiment: str, seed: int) -> Path:
    """Where the note of a failed run lives: ``OUT/failed/<experiment>/seed_<seed>.txt``."""
    return Path(out) / "failed" / experiment / f"seed_{seed}.txt"


def note_failure(out: Path, spec: RunSpec, reason: str) -> None:
    """Keep why a run failed (for the results page) until a later attempt finishes it."""
    path = failure_path(out, spec.experiment, spec.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(reason + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_failures(out: Path) -> dict[str, str]:
    """``{"<experiment>/seed_<n>": reason}`` of the runs whose last attempt failed."""
    root = Path(out) / "failed"
    return {
        f"{p.parent.name}/{p.stem}": p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(root.glob("*/seed_*.txt"))
    }


# ----------------------------------------------------------------------------- backends


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep did.

    Attributes:
        finished: Keys of the runs finished (and committed) by this sweep.
        failed: ``{key: reason}`` of the runs that failed (not committed; re-run retries).
    """

    finished: tuple[str, ...]
    failed: Mapping[str, str] = field(default_factory=dict)


def _report(done: int, total: int, record: Mapping[str, Any]) -> str:
    final = record["final"]
    reached = (
        f"target reached at {record['steps_to_target']} steps, {record['time_to_target_s']:.1f} s"
        if record["reached_target"]
        else "target NOT reached"
    )
    return (
        f"[{done}/{total}] {record['experiment']} seed {record['seed']}: leader value "
        f"{final['leader_value']:.6f} (optimum {final['optimum']:.6f}), {reached}; "
        f"{final['steps']} steps in {final['wall_time_s']:.1f} s"
    )


def run_local(
    specs: Sequence[RunSpec],
    out: Path,
    workers: int,
    timeout_s: float | None = None,
    log: Callable[[str], None] = print,
) -> SweepOutcome:
    """Run ``specs`` on this machine, ``workers`` trainer subprocesses at a time.

    Results are committed by this (the calling) thread as runs finish. On any exception in
    the caller (``KeyboardInterrupt``, or the exception a SIGTERM handler raises), queued
    runs are cancelled, running trainers are terminated and the exception propagates;
    nothing of an unfinished run is committed.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers must be a positive int, got {workers!r}")
    cancel = threading.Event()
    finished, failed = [], {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep")
    try:
        pending = {
            pool.submit(execute_run, spec, out, sys.executable, timeout_s, cancel): spec
            for spec in specs
        }
        while pending:
            done, _ = wait(list(pending), timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                spec = pending.pop(future)
                try:
                    record = future.result()
                except RunFailed as error:
                    failed[spec.key] = str(error)
                    note_failure(out, spec, str(error))
                    log(f"FAILED {spec.key}: {error}")
                    continue
                commit(out, record)
                finished.append(spec.key)
                log(_report(len(finished) + len(failed), len(specs), record))
    except BaseException:
        cancel.set()
        pool.shutdown(wait=False, cancel_futures=True)
        terminate_children()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    return SweepOutcome(tuple(finished), failed)


def _ray_task(module: str, spec: dict, out: str, python: str, timeout_s: float | None) -> dict:
    """A Ray task: load this file on the worker, run one spec (a dict), return its record.

    Only plain data crosses the wire: the worker imports this file by its path (the
    repository must be at the same path on every node), so nothing of the driver's module
    state is pickled.
    """
    import importlib.util

    loaded = sys.modules.get("_stackelberg_zoo_sweep")
    if loaded is None:
        found = importlib.util.spec_from_file_location("_stackelberg_zoo_sweep", module)
        loaded = importlib.util.module_from_spec(found)
        sys.modules[found.name] = loaded  # dataclasses resolve annotations through it
        found.loader.exec_module(loaded)
    run = loaded.RunSpec(**{**spec, "args": tuple(spec["args"])})
    return loaded.execute_run(run, out, python, timeout_s)


def run_ray(
    specs: Sequence[RunSpec],
    out: Path,
    address: str | None = None,
    workers: int | None = None,
    timeout_s: float | None = None,
    log: Callable[[str], None] = print,
) -> SweepOutcome:
    """Run ``specs`` as Ray tasks (one CPU each); this process commits the results.

    ``address=None`` starts a local Ray instance with ``workers`` CPUs; otherwise it joins
    the cluster at ``address`` (``"auto"``, ``"ray://host:10001"``, ...), whose nodes need
    this repository at the same path and the package installed (or a shared filesystem).
    The result JSONs are written here whatever node ran the trainer; the TensorBoard logs
    land in ``OUT/tensorboard`` as seen from that node.
    """
    import ray
    from ray import cloudpickle

    # `_ray_task` travels by value (it refers to nothing of this module but `sys`); it
    # loads this file on the worker, so the worker needs no `sweep` on its path.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    started_here = not ray.is_initialized()
    if started_here:
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
    out_abs = str(Path(out).resolve())
    module = str(Path(__file__).resolve())
    finished, failed = [], {}
    pending = {
        remote.remote(module, dataclasses.asdict(spec), out_abs, sys.executable, timeout_s): spec
        for spec in specs
    }
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in done:
                spec = pending.pop(ref)
                try:
                    record = ray.get(ref)
                except ray.exceptions.RayTaskError as error:
                    cause = error.cause if isinstance(error.cause, Exception) else error
                    failed[spec.key] = str(cause)
                    note_failure(out, spec, str(cause))
                    log(f"FAILED {spec.key}: {cause}")
                    continue
                commit(out, record)
                finished.append(spec.key)
                log(_report(len(finished) + len(failed), len(specs), record))
    except BaseException:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()
    return SweepOutcome(tuple(finished), failed)


class SweepInterrupted(BaseException):
    """Raised in the main thread by :func:`install_signal_handlers` on SIGTERM / SIGHUP."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by signal {signal.Signals(signum).name}")
        self.signum = signum


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into :class:`SweepInterrupted` (so the sweep cleans up)."""

    def handler(signum, _frame):
        raise SweepInterrupted(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


# ----------------------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class Summary:
    """One experiment's results over seeds (one row of the results table).

    Attributes:
        experiment: The experiment's name.
        seeds: The seeds aggregated.
        optimum: The exact optimum (the same for every seed).
        target: The trainer's target (the optimum, or below it where the optimum needs a
            leader-favourable tie, e.g. randomized commitments).
        value_mean: Mean final leader value.
        value_std: Population standard deviation (``ddof=0``) of the final leader value.
        value_iqm: Interquartile mean of the final leader value over seeds with its 95%
            percentile bootstrap interval (:func:`seed_stats.iqm_interval`); NaN when a
            seed's final value is NaN.
        at_optimum: Fraction of seeds whose final value is within ``tol`` of the optimum.
        at_target: Fraction of seeds whose final value is at least ``target - tol``.
        reached_target: Fraction of seeds whose trainer reached its target (``None``: not
            recorded, e.g. a row kept from a previous sweep's marl-eval data).
        median_steps_to_target: Median leader steps to the target over the seeds that
            reached it (``None`` if none did).
        median_time_to_target_s: Median wall seconds to the target, likewise.
        bcce_gap: Mean final BCCE gap of the followers' response-phase play (``None`` if
            no run logged one).
        bcce_gap_bound: Mean final regret bound on that gap (``None`` likewise).
        deviation_gain: Largest final follower deviation gain over seeds (0: every learned
            mechanism is an equilibrium of its followers' play).
        wall_time_s: Total wall time of the runs' training loops.
        tol: The tolerance of ``at_optimum``.
        provenance: ``""`` for results of this sweep; otherwise where the row comes from
            (e.g. ``"previous sweep, rerun pending"``), shown in the seeds column.
    """

    experiment: str
    seeds: tuple[int, ...]
    optimum: float
    target: float
    value_mean: float
    value_std: float
    value_iqm: Estimate
    at_optimum: float
    at_target: float
    reached_target: float | None
    median_steps_to_target: float | None
    median_time_to_target_s: float | None
    bcce_gap: float | None
    bcce_gap_bound: float | None
    deviation_gain: float | None
    wall_time_s: float
    tol: float
    provenance: str = ""


def _mean_or_none(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def summarize(
    experiment: str, records: Sequence[Mapping[str, Any]], tol: float = OPTIMUM_TOL
) -> Summary:
    """Aggregate the result records of one experiment.

    Raises:
        ValueError: If ``records`` is empty, belongs to another experiment, or the runs
            disagree on the optimum (by more than 1e-9).
    """
    if not records:
        raise ValueError(f"{experiment}: no results to summarize")
    others = {r["experiment"] for r in records} - {experiment}
    if others:
        raise ValueError(f"{experiment}: records of other experiments {sorted(others)}")
    finals = [r["final"] for r in records]
    optima = np.array([f["optimum"] for f in finals], dtype=np.float64)
    if np.ptp(optima) > 1e-9:
        raise ValueError(f"{experiment}: the runs disagree on the optimum: {optima.tolist()}")
    values = np.array([f["leader_value"] for f in finals], dtype=np.float64)
    target = min(float(optima[0]) if f["target"] is None else f["target"] for f in finals)
    reached = [r for r in records if r["reached_target"]]
    gains = [f["deviation_gain"] for f in finals if f["deviation_gain"] is not None]
    return Summary(
        experiment=experiment,
        seeds=tuple(int(r["seed"]) for r in records),
        optimum=float(optima[0]),
        target=target,
        value_mean=float(values.mean()),
        value_std=float(values.std()),
        value_iqm=(
            seed_stats.iqm_interval([values])
            if np.isfinite(values).all()
            else Estimate(math.nan, math.nan, math.nan)  # a seed logged NaN: no IQM
        ),
        at_optimum=float(np.mean(np.abs(values - optima) <= tol)),
        at_target=float(np.mean(values >= target - tol)),
        reached_target=len(reached) / len(records),
        median_steps_to_target=(
            float(np.median([r["steps_to_target"] for r in reached])) if reached else None
        ),
        median_time_to_target_s=(
            float(np.median([r["time_to_target_s"] for r in reached])) if reached else None
        ),
        bcce_gap=_mean_or_none(f["bcce_gap"] for f in finals),
        bcce_gap_bound=_mean_or_none(f["bcce_gap_bound"] for f in finals),
        deviation_gain=max(gains) if gains else None,
        wall_time_s=float(sum(f["wall_time_s"] for f in finals)),
        tol=tol,
    )


def _num(value: float | None, spec: str = ".4f") -> str:
    return "–" if value is None else format(value, spec)


def _steps(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def markdown_table(
    rows: Sequence[tuple[Experiment, Summary, float | None]],
) -> str:
    """The results table: one row per ``(experiment, summary, baseline value or None)``.

    The seeds column names how many seeds the experiment plans when fewer have results, and
    the summary's provenance when it is not this sweep.
    """
    header = (
        "| experiment | task | algorithm | seeds | exact optimum | baseline | final leader value: "
        "IQM [95% CI] | at optimum (±1e-3) | reached target | median steps to target | "
        "median wall s to target | BCCE gap (bound) | max deviation gain |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for experiment, s, baseline in rows:
        n = len(s.seeds)
        baseline_cell = (
            "–" if baseline is None else f"{baseline:.4f} ({experiment.baseline.replace('_', ' ')})"
        )
        gap = "–" if s.bcce_gap is None else f"{s.bcce_gap:.4f} ({_num(s.bcce_gap_bound)})"
        seeds = f"{n}" if n >= experiment.seeds else f"{n} of {experiment.seeds}"
        seeds += f": {s.provenance}" if s.provenance else ""
        reached = "–" if s.reached_target is None else f"{round(s.reached_target * n)}/{n}"
        lines.append(
            f"| `{experiment.name}` | {experiment.task} | {experiment.algorithm} | {seeds} | "
            f"{s.optimum:.4f} | {baseline_cell} | {s.value_iqm.text()} | "
            f"{round(s.at_optimum * n)}/{n} | {reached} | "
            f"{_steps(s.median_steps_to_target)} | {_num(s.median_time_to_target_s, '.1f')} | "
            f"{gap} | {_num(s.deviation_gain, '.2e')} |"
        )
    return header + "\n".join(lines) + "\n"


def resample(
    records: Sequence[Mapping[str, Any]], tag: str, grid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Curves of ``tag`` from several runs on one step grid.

    A run's value at step ``s`` is its last logged value at a step ``<= s`` (a run that
    stopped at its target keeps its last value); before its first logged step it is NaN.

    Args:
        records: Result records.
        tag: A curve name stored in the records (e.g. ``"equilibrium/leader_value"``).
        grid: ``[K]`` steps; default: the union of the runs' logged steps.

    Returns:
        ``(grid [K], values [len(records), K])``; a run that did not log ``tag`` is all NaN.
    """
    curves = [r.get("curves", {}).get(tag) for r in records]
    if grid is None:
        steps = [np.asarray(c["step"], dtype=np.int64) for c in curves if c]
        grid = np.unique(np.concatenate(steps)) if steps else np.zeros(0, dtype=np.int64)
    grid = np.asarray(grid)
    values = np.full((len(records), grid.size), np.nan)
    for i, curve in enumerate(curves):
        if not curve or not curve["step"]:
            continue
        steps = np.asarray(curve["step"], dtype=np.int64)
        ys = np.array([np.nan if v is None else v for v in curve["value"]], dtype=np.float64)
        idx = np.searchsorted(steps, grid, side="right") - 1
        values[i] = np.where(idx >= 0, ys[np.clip(idx, 0, None)], np.nan)
    return grid, values


CURVE_POINTS = 100
"""Log-spaced steps at which :func:`plot_figure` aggregates the curves over seeds."""


def plot_figure(
    path: Path,
    title: str,
    series: Sequence[
        tuple[str, Sequence[Mapping[str, Any]], float | None, tuple[str, float] | None]
    ],
    tag: str = "equilibrium/leader_value",
    ylabel: str = "leader value (exact, greedy committed policy)",
) -> Path:
    """A PNG of learning curves: per series, the IQM over seeds with its 95% bootstrap band.

    Steps are on a log scale (most runs stop early); every curve is drawn to the last step
    of the figure, a run that stopped at its target keeping its last value. The curves are
    aggregated at :data:`CURVE_POINTS` log-spaced steps from the first step at which every
    seed has an evaluation (:func:`seed_stats.iqm_band`). The optimum is dashed and the
    baseline dotted, in the series' colour.

    Args:
        path: Where to write the PNG (folders are created).
        title: The figure title.
        series: ``(label, records, optimum or None, (baseline name, value) or None)`` per
            curve.
        tag: The curve to plot.
        ylabel: The y-axis label.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    grids = [resample(records, tag)[0] for _, records, _, _ in series]
    end = max((int(g[-1]) for g in grids if g.size), default=0)
    styles: dict[str, str] = {}
    for k, (label, records, optimum, baseline) in enumerate(series):
        if grids[k].size == 0:
            continue
        # from the step where every seed has an evaluation to the figure's last step (a
        # stopped run keeps its last value)
        curves = [r.get("curves", {}).get(tag) for r in records]
        if not all(c and c["step"] for c in curves):
            continue  # a seed without this curve: no aggregate over all seeds
        start = max(max(c["step"][0] for c in curves), 1)
        grid = np.geomspace(start, max(end, start), CURVE_POINTS).round().astype(np.int64)
        grid, values = resample(records, tag, np.union1d(grid, [start, end]))
        finite = np.isfinite(values).all(axis=0)  # a NaN evaluation leaves its step out
        if not finite.any():
            continue
        grid, values = grid[finite], values[:, finite]
        center, low, high = seed_stats.iqm_band(values)
        color = f"C{k % 10}"
        ax.plot(grid, center, color=color, label=f"{label} (n={len(records)})")
        ax.fill_between(grid, low, high, color=color, alpha=0.2, linewidth=0)
        if optimum is not None:
            ax.axhline(optimum, color=color, linestyle="--", linewidth=0.8)
            styles["--"] = "exact optimum"
        if baseline is not None:
            ax.axhline(baseline[1], color=color, linestyle=":", linewidth=1.2)
            styles[":"] = baseline[0]
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], color="0.3", linestyle=style, linewidth=1.0, label=text)
        for style, text in styles.items()
    ]
    ax.set_title(title)
    ax.set_xscale("log")
    ax.set_xlabel("leader steps (log scale)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


MARL_EVAL_METRICS: dict[str, str] = {
    "leader_value": "equilibrium/leader_value",
    "optimality_gap": "equilibrium/optimality_gap",
    "bcce_gap": "equilibrium/bcce_gap",
    "follower_deviation_gain": "equilibrium/follower_deviation_gain",
}
"""marl-eval metric name -> the stored curve it is read from."""


def marl_eval_json(
    rows: Sequence[tuple[Experiment, Sequence[Mapping[str, Any]]]], points: int = 20
) -> dict[str, Any]:
    """The results in marl-eval's raw-data layout.

    ``{env: {task: {algorithm: {"seed_<s>": {"step_<i>": {"step_count": n, metric: [v]},
    ..., "absolute_metrics": {metric: [v]}}}}}}`` with env = the setting, task and algorithm
    from the experiment. marl-eval needs the same number of steps in every run, so each run
    is resampled (as in :func:`resample`) at ``points`` evenly spaced step counts up to its
    experiment's longest run; a step before the run's first evaluation takes that first
    value. Each metric list has one element (the trainers' evaluation is exact, not a set
    of episodes); ``absolute_metrics`` holds the final values.
    """
    data: dict[str, Any] = {}
    for experiment, records in rows:
        if not records:
            continue
        ends = [
            max(r["curves"][t]["step"][-1] for t in r["curves"] if r["curves"][t]["step"])
            for r in records
            if r.get("curves")
        ]
        end = max(ends) if ends else max(r["final"]["steps"] for r in records)
        grid = np.unique(np.linspace(end / points, end, points).round().astype(np.int64))
        runs: dict[str, Any] = {}
        for record in records:
            run: dict[str, Any] = {f"step_{i}": {"step_count": int(s)} for i, s in enumerate(grid)}
            for metric, tag in MARL_EVAL_METRICS.items():
                curve = record.get("curves", {}).get(tag)
                if not curve or not curve["step"]:
                    continue
                _, values = resample([record], tag, grid)
                first = next((v for v in curve["value"] if v is not None), None)
                for i, value in enumerate(values[0]):
                    value = first if np.isnan(value) else float(value)
                    run[f"step_{i}"][metric] = [value]
            final = record["final"]
            run["absolute_metrics"] = {
                "leader_value": [final["leader_value"]],
                "optimality_gap": [final["optimality_gap"]],
                **({"bcce_gap": [final["bcce_gap"]]} if final["bcce_gap"] is not None else {}),
                **(
                    {"follower_deviation_gain": [final["deviation_gain"]]}
                    if final["deviation_gain"] is not None
                    else {}
                ),
            }
            runs[f"seed_{record['seed']}"] = run
        task = experiment.task or experiment.name
        algorithms = data.setdefault(experiment.setting, {}).setdefault(task, {})
        if experiment.algorithm in algorithms:
            raise ValueError(
                f"{experiment.name}: two experiments share setting {experiment.setting!r}, "
                f"task {task!r} and algorithm {experiment.algorithm!r}"
            )
        algorithms[experiment.algorithm] = runs
    return data
