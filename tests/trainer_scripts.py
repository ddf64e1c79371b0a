"""The trainer scripts of ``baselines/`` for the tests: imported by path, or run as commands."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

BASELINES = Path(__file__).resolve().parents[1] / "baselines"
"""The folder of the trainer scripts."""


def load_trainer(file: str, prefix: str):
    """Import ``baselines/<file>`` as the module ``<prefix><stem>`` (its main block not run).

    Each test file passes its own ``prefix``, so its copy of a trainer module is its own.
    """
    spec = importlib.util.spec_from_file_location(f"{prefix}{Path(file).stem}", BASELINES / file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


def run_trainer(file: str, *flags: str, cwd: Path) -> str:
    """Run ``baselines/<file>`` with ``--no-progress-bar`` and ``flags`` in ``cwd``; its stdout.

    Fails the test (with the end of stderr) unless the script exits 0 within 120 s.
    """
    result = subprocess.run(
        [sys.executable, str(BASELINES / file), "--no-progress-bar", *flags],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
