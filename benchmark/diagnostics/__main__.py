"""``python benchmark/diagnostics [--only NAME ...] [--seeds N] [--out DIR]``.

See the package docstring."""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a folder: make the package importable by name
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diagnostics.cli import run

run()
