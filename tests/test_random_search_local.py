"""Random search's local search (`--local-search`, `--redraw-rate`).

The helpers that pick an episode's starting table and judge a candidate are checked on
constructed inputs; short subprocess runs check that the default (pure random search) is
unchanged by the flags and that a local search reaches the exact optimum.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from trainer_scripts import load_trainer, run_trainer

T3 = '{"values": "uniform", "n_values": 3, "n_messages": 2}'


@pytest.fixture(scope="module")
def random_search():
    return load_trainer("random_search.py", "_local_")


def table(n):
    return {bytes([k]): (np.array([k]), k) for k in range(n)}


def flags(local_search, redraw_rate=0.1):
    return SimpleNamespace(local_search=local_search, redraw_rate=redraw_rate)


def test_pure_random_search_starts_every_episode_afresh(random_search):
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert random_search.next_table(table(5), flags(0.0), rng) == {}
    assert rng.bit_generator.state == state  # draws nothing: the paper's search is unchanged


def test_local_search_keeps_the_incumbent_less_some_entries(random_search):
    incumbent = table(40)
    rng = np.random.default_rng(1)
    sizes = []
    for _ in range(200):
        start = random_search.next_table(incumbent, flags(1.0, 0.1), rng)
        assert start.keys() < incumbent.keys()  # a proper subset: at least one redrawn
        assert all(start[k] is incumbent[k] for k in start)  # kept entries are untouched
        sizes.append(len(incumbent) - len(start))
    assert 3.0 < np.mean(sizes) < 5.0  # 40 entries x 0.1, up to sampling noise (sd ~0.13)


def test_at_least_one_entry_is_redrawn_even_at_rate_zero(random_search):
    rng = np.random.default_rng(2)
    for _ in range(20):
        assert len(random_search.next_table(table(6), flags(1.0, 0.0), rng)) == 5


def test_local_search_probability_mixes_fresh_and_local_episodes(random_search):
    rng = np.random.default_rng(3)
    starts = [random_search.next_table(table(8), flags(0.25), rng) for _ in range(2000)]
    fresh = np.mean([start == {} for start in starts])
    assert abs(fresh - 0.75) < 0.04  # 4.4 standard deviations
    assert random_search.next_table({}, flags(1.0), rng) == {}  # no incumbent yet


def evaluation(random_search, value):
    return random_search.Evaluation(value, value, 0.0, math.nan, math.nan, (), policy=None)


def test_candidates_and_the_best(random_search):
    old = evaluation(random_search, -0.5)
    # pure random search: a strictly better episode return, always kept
    assert random_search.improves(0.1, 0.0, old, 0.0)
    assert not random_search.improves(0.0, 0.0, old, 0.0)
    assert random_search.keeps(evaluation(random_search, -0.9), old, 0.0)
    # local search: a return at least the best's exact value; kept if its own value is too
    assert random_search.improves(-0.5, 10.0, old, 0.5)
    assert not random_search.improves(-0.6, -10.0, old, 0.5)
    assert random_search.improves(-99.0, 0.0, None, 0.5)
    assert random_search.keeps(evaluation(random_search, -0.5), old, 0.5)  # ties: the newer
    assert not random_search.keeps(evaluation(random_search, -0.51), old, 0.5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("local_search", 1.5, "--local-search must be in [0, 1], got 1.5"),
        ("redraw_rate", -0.1, "--redraw-rate must be in [0, 1], got -0.1"),
        ("local_search", math.nan, "--local-search must be in [0, 1], got nan"),
    ],
)
def test_bad_local_search_flags_are_refused(random_search, name, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        random_search.check_args(random_search.Args(**{name: value}))


def steps_to_target(stdout: str) -> int:
    match = re.search(r"TARGET REACHED after (\d+) steps", stdout)
    assert match, stdout[-2000:]
    return int(match.group(1))


def test_local_search_reaches_the_optimum_and_zero_keeps_the_paper_search(tmp_path):
    """MSGSpace t = 3, certified, seed 1: the paper's search (the default, or 0) reaches the
    target after 7,176 steps, as it did before local search existed; always searching
    locally (1) takes other tables after the first batch, and reaches it too."""
    common = ("--env-id", "StackelbergZoo/MspmPOMDP-v0", "--env-kwargs", T3, "--seed", "1",
              "--protocol", "certified", "--total-timesteps", "100000",
              "--no-save-model")  # fmt: skip
    assert steps_to_target(run_trainer("random_search.py", *common, cwd=tmp_path)) == 7176
    zero = run_trainer("random_search.py", *common, "--local-search", "0", cwd=tmp_path)
    assert steps_to_target(zero) == 7176
    local = run_trainer("random_search.py", *common, "--local-search", "1", cwd=tmp_path)
    assert steps_to_target(local) != 7176
    assert "gap 0.000000" in local and "certified responses 100%" in local


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"restart_after": -1, "local_search": 0.5},
         "--restart-after must be >= 0 (0: never), got -1"),
        ({"restart_after": 1000}, "--restart-after applies to local search (--local-search > 0), "
         "got --restart-after 1000 with --local-search 0"),
    ],
)  # fmt: skip
def test_bad_restart_flags_are_refused(random_search, changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        random_search.check_args(random_search.Args(**changes))


def test_the_restart_clock_and_the_answer(random_search):
    old, same, higher = (evaluation(random_search, v) for v in (-0.5, -0.5, -0.4))
    # only a strict rise of the incumbent's exact value resets the clock (a tie does not)
    assert random_search.rises(old, None)
    assert random_search.rises(higher, old)
    assert not random_search.rises(same, old)
    # after a restart the new search's incumbent becomes the answer only at the best's value
    assert random_search.stays_best(same, old, 0.5) and random_search.stays_best(higher, old, 0.5)
    assert not random_search.stays_best(evaluation(random_search, -0.9), old, 0.5)
    assert random_search.stays_best(evaluation(random_search, -0.9), old, 0.0)  # pure search
    # a restart needs the flag, an incumbent and `after` steps since the last rise
    assert random_search.restarts_now(5000, 1000, old, 4000)
    assert not random_search.restarts_now(4999, 1000, old, 4000)
    assert not random_search.restarts_now(10**9, 0, None, 4000)  # searching afresh already
    assert not random_search.restarts_now(10**9, 0, old, 0)  # 0: never


def test_restarts_keep_the_best_and_a_late_clock_changes_nothing(tmp_path):
    """MSGSpace t = 3, certified, local search over 8 envs, seed 1: a restart clock that
    never rings leaves the run as it was (the same step to the target); one that rings every
    1,000 steps restarts the search many times while the run goes on past the target, and
    the answer stays the zero-loss mechanism found before."""
    common = ("--env-id", "StackelbergZoo/MspmPOMDP-v0", "--env-kwargs", T3, "--seed", "1",
              "--protocol", "certified", "--local-search", "0.5", "--total-timesteps", "30000",
              "--no-save-model")  # fmt: skip
    plain = steps_to_target(run_trainer("random_search.py", *common, cwd=tmp_path))
    late = run_trainer("random_search.py", *common, "--restart-after", "1000000", cwd=tmp_path)
    assert steps_to_target(late) == plain
    assert "local search restarted 0 times (--restart-after 1000000)" in late
    often = run_trainer("random_search.py", *common, "--restart-after", "1000",
                        "--no-stop-at-optimum", cwd=tmp_path)  # fmt: skip
    restarts = int(re.search(r"local search restarted (\d+) times", often).group(1))
    assert restarts >= 2, often[-2000:]
    assert steps_to_target(often) <= 30000
    assert "gap 0.000000" in often and "certified responses 100%" in often
