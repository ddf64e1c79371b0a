"""Count the environment fuzz's inputs and failures without stopping at the first failure.

Runs every fuzz test of ``tests/test_fuzz_envs.py`` with ``N`` examples each (default 60, the
suite's own sample), recording each constructor call and step the oracle judges, its outcome,
and each failure, instead of letting hypothesis stop and shrink at the first one::

    .venv/bin/python tests/fuzz_counts.py 2000

Prints per test: inputs, outcomes (built/refused, applied/refused) and failures, then one
example per kind of failure. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import collections
import sys
import warnings
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))
import test_fuzz_envs as fuzz


def main(examples: int) -> int:
    """Run the fuzz tests with ``examples`` examples each; return the number of failures."""
    warnings.simplefilter("ignore")
    fuzz.FUZZ = settings(fuzz.FUZZ, max_examples=examples)
    counts: collections.Counter = collections.Counter()
    failures: dict[tuple[str, str], str] = {}
    current = [""]

    def recording(check):
        def recorded(*args, **kwargs):
            counts[current[0], "inputs"] += 1
            try:
                outcome = check(*args, **kwargs)
            except Exception as error:  # the oracle's verdict, or what escaped it
                counts[current[0], "failures"] += 1
                text = f"{type(error).__name__}: {error}"
                failures.setdefault((current[0], text[:70]), text[:300])
                return None
            counts[current[0], outcome] += 1
            return outcome

        return recorded

    fuzz.check_construction = recording(fuzz.check_construction)
    fuzz.check_step = recording(fuzz.check_step)
    runs = [
        ("test_multi_agent_constructor", [(s,) for s in sorted(fuzz.GAME_ARGS)]),
        ("test_pomdp_constructor", [(s,) for s in fuzz.POMDP_SETTINGS]),
        ("test_pomdp_actions", fuzz.POMDP_VARIANTS),
        ("test_multi_agent_actions", fuzz.MULTI_AGENT_VARIANTS),
        ("test_vector_actions", fuzz.POMDP_VARIANTS),
    ]
    for name, parameters in runs:
        current[0] = name
        for arguments in parameters:
            getattr(fuzz, name)(*arguments)
    for (name, key), value in sorted(counts.items()):
        print(f"{name:30s} {key:10s} {value}")
    total = sum(v for (_, k), v in counts.items() if k == "inputs")
    failed = sum(v for (_, k), v in counts.items() if k == "failures")
    print(f"total: {total} inputs, {failed} failures")
    for (name, _), text in failures.items():
        print(f"  {name}: {text}")
    return failed


if __name__ == "__main__":
    sys.exit(1 if main(int(sys.argv[1]) if len(sys.argv) > 1 else 60) else 0)
