"""Hostile input for every environment: constructors and actions (hypothesis, bounded).

Every argument is drawn from a pool of valid values and of values that must be refused
(flags that are not bools, counts that are not ints, numeric strings, NaN, complex numbers,
huge sizes...). The oracle, per input:

* an input with a certainly invalid argument raises ``TypeError``/``ValueError`` whose
  message names one of the arguments passed (never another exception, never accepted);
* an input whose arguments are all valid either builds a working environment (reset and a
  few steps run) or is refused the same way (a combination the setting does not allow);
* nothing hangs (each call runs under an alarm).

Actions: every POMDP id (Gymnasium and PettingZoo) and every multi-agent id is stepped with
bools, NaN, infinities, complex numbers, strings, wrong shapes and dtypes, out-of-range and
valid actions. An invalid action raises ``TypeError``/``ValueError`` naming it and changes
nothing (a valid step still runs afterwards); a valid one is applied.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import signal
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
import pettingzoo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stackelberg_zoo.envs as envs
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp import NoPureEquilibriumError
from stackelberg_zoo.envs.pomdp import aec as pomdp_aec
from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Bounded: a fixed, reproducible sample of inputs per test (a few seconds each)."""

HANG_LIMIT_S = 20
"""A call that runs longer than this is a hang (constructors take milliseconds)."""


@contextlib.contextmanager
def no_hang(what: str):
    """Fail with ``what`` instead of hanging (``SIGALRM``; the main thread only)."""

    def alarm(signum, frame):
        raise TimeoutError(f"hung for {HANG_LIMIT_S} s: {what}")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Arg:
    """A drawn argument value and whether it is valid on its own (``None``: either way)."""

    value: Any
    ok: bool | None


def _valid(strategy) -> st.SearchStrategy[Arg]:
    return strategy.map(lambda v: Arg(v, True))


def _invalid(*values) -> st.SearchStrategy[Arg]:
    return st.sampled_from(values).map(lambda v: Arg(v, False))


def _either(*values) -> st.SearchStrategy[Arg]:
    return st.sampled_from(values).map(lambda v: Arg(v, None))


NOT_A_NUMBER = ("3", "abc", 2.5j, [1], b"1")
"""Values no numeric argument accepts (``None`` is a default for some)."""


def flags() -> st.SearchStrategy[Arg]:
    """Bools are valid; truthy and falsy non-bools are not."""
    return _valid(st.sampled_from([True, False, np.True_, np.False_])) | _invalid(
        "no", "False", "True", "", None, 0, 1, 1.0, np.int64(1), [True]
    )


def counts(
    minimum: int, maximum: int, *, huge_ok: bool | None = False, none_ok: bool = False
) -> st.SearchStrategy[Arg]:
    """Small ints in range are valid; bools, floats, strings and too-small ints are not.

    ``huge_ok``: whether sizes like ``10**9`` are valid (``None``: accepted or refused);
    ``none_ok``: whether ``None`` (the argument's default) is.
    """
    bad = (True, False, np.True_, float(minimum), float("nan"), minimum - 1, -5, *NOT_A_NUMBER)
    return (
        _valid(st.integers(minimum, maximum) | st.integers(minimum, maximum).map(np.int64))
        | _invalid(*bad)
        | st.just(Arg(None, True if none_ok else False))
        | st.sampled_from([10**5, 10**9, 2**40, 10**30]).map(lambda v: Arg(v, huge_ok))
    )


def reals(low: float, high: float, *, low_open: bool = False) -> st.SearchStrategy[Arg]:
    """Finite floats in ``[low, high]`` are valid; NaN, infinities, strings, bools are not."""
    valid = st.floats(low, high, exclude_min=low_open, allow_nan=False)
    return _valid(valid | valid.map(np.float32).filter(lambda v: low <= float(v) <= high)) | (
        _invalid(
            float("nan"), float("inf"), -float("inf"), True, "1.0", 1 + 0j, None, [1.0], low - 1
        )
    )


def _tables(shape: tuple[int, ...], low: float, high: float) -> st.SearchStrategy[Any]:
    size = math.prod(shape)
    entries = st.lists(st.floats(low, high, allow_nan=False), min_size=size, max_size=size)
    return entries.map(lambda flat: np.array(flat).reshape(shape).tolist())


def _spoil(table: list) -> st.SearchStrategy[Arg]:
    """Invalid variants of a valid nested-list table: one entry replaced, or the shape broken."""

    def replace(bad):
        def spoil(t):
            t = [row if not isinstance(row, list) else list(row) for row in t]
            target = t
            while isinstance(target[0], list):
                target[0] = list(target[0])
                target = target[0]
            target[0] = bad
            return t

        return spoil

    bads = ["3", "abc", True, np.True_, float("nan"), float("inf"), 1 + 2j, None, [0.5]]
    spoiled = st.sampled_from(bads).map(lambda b: replace(b)(table))
    broken = st.sampled_from(
        [table[:-1] + [table[-1][:-1]] if isinstance(table[-1], list) else table + [[1]], "pi?"]
    )
    return (spoiled | broken).map(lambda v: Arg(v, False))


def tables(shape_strategy, low: float, high: float) -> st.SearchStrategy[Arg]:
    """Valid nested-list tables of a drawn shape, or one spoiled entry / broken shape."""
    valid = shape_strategy.flatmap(lambda shape: _tables(shape, low, high))
    return (
        _valid(valid)
        | valid.flatmap(_spoil)
        | _invalid("1", np.array([["1", "2"]]), np.array([[1 + 1j]]), np.array([[True, False]]))
    )


# -- per-setting game arguments (one entry per constructor argument) --------------------

_SHAPE_2D = st.tuples(st.integers(1, 4), st.integers(1, 4))


def normal_form_args() -> dict[str, st.SearchStrategy[Arg]]:
    """The normal form's game arguments (the matrices share one drawn shape or are spoiled)."""
    return {
        "game": _valid(st.sampled_from(["escape", "maintain", "conitzer", "dominance"]))
        | _invalid("Escape", "", 3, True, b"escape"),
        "leader_payoffs": tables(_SHAPE_2D, -5, 5),
        "follower_payoffs": tables(_SHAPE_2D, -5, 5),
        "mixed_leader": flags(),
        "normalize": flags(),
    }


def matrix_design_args() -> dict[str, st.SearchStrategy[Arg]]:
    """Matrix design's game arguments."""
    return {
        "payoffs": tables(st.tuples(st.just(2), st.integers(1, 3), st.integers(1, 3)), -3, 6),
        "max_payment": reals(0.0, 20.0) | _either(1e300, 1e39),
        "normalize": flags(),
        "charge_payments": flags(),
        "reference_margin": reals(0.0, 1.0, low_open=True) | _invalid(0.0, -0.1),
    }


def simple_allocation_args() -> dict[str, st.SearchStrategy[Arg]]:
    """Simple allocation's game arguments."""
    return {
        "n_messages": counts(1, 5, huge_ok=None),  # 10**5 messages fit, 10**9 do not
        "n_types": counts(1, 5, huge_ok=None),
        "prior": _either(None, [0.2, 0.3, 0.5], [1.0], [0.5, 0.5])
        | _invalid(["0.5", "0.5", "0"], [True, False, False], [float("nan")] * 3, "uniform"),
    }


def mspm_args() -> dict[str, st.SearchStrategy[Arg]]:
    """MSPM's game arguments (small sizes: the reference search is not run here)."""
    return {
        "values": _valid(st.sampled_from(["pi", "uniform"]))
        | _either([[0.0, 1.0], [0.5]], [[0.2, 0.4, 1.0]], [[0.1], [0.9], [0.5]])
        | _invalid("PI", "abc", [["0.5"]], [[True, 0.5]], [[1.5]], [[float("nan")]], [], 3),
        "n_followers": counts(1, 3, huge_ok=None, none_ok=True) | _either(40),
        "n_units": counts(1, 3, huge_ok=None),
        "n_messages": counts(1, 3, huge_ok=None),
        "n_values": counts(2, 4, huge_ok=None),
        "prior": _either(None, [[0.25, 0.25], [0.25, 0.25]]) | _invalid([["a"]], "uniform"),
    }


def collusion_platform_args() -> dict[str, st.SearchStrategy[Arg]]:
    """The collusion platform's game arguments (a valid grid needs price_low < price_high)."""

    def finite(low, high):  # any finite real is valid here; only non-reals and non-finite fail
        return _valid(st.floats(low, high, allow_nan=False)) | _invalid(
            float("nan"), float("inf"), True, "1.0", 1 + 0j, None, [1.0]
        )

    return {
        "n_prices": counts(1, 6, huge_ok=False),
        "price_low": finite(0.5, 1.2),
        "price_high": finite(1.5, 2.5),
        "cost": finite(-1.0, 1.0),
        "quality": finite(1.0, 3.0),
        "outside": finite(-1.0, 1.0),
        "mu": reals(0.05, 1.0) | _invalid(0.0, -0.25),
    }


GAME_ARGS = {
    "normal_form": normal_form_args,
    "matrix_design": matrix_design_args,
    "simple_allocation": simple_allocation_args,
    "mspm": mspm_args,
    "collusion_platform": collusion_platform_args,
}

MULTI_AGENT_ID = {
    "normal_form": "stackelberg/normal-form-v0",
    "matrix_design": "stackelberg/matrix-design-v0",
    "simple_allocation": "stackelberg/simple-allocation-v0",
    "mspm": "stackelberg/mspm-v0",
    "collusion_platform": "stackelberg/collusion-platform-v0",
}

POMDP_ARGS = {
    "followers": _valid(st.sampled_from(["mw", "hedge", "best_response", None]))
    | _invalid("MW", "", 3, True),
    "protocol": _valid(st.sampled_from(["paper", "certified"])) | _invalid("v4", "", None, 3),
    "certify": _valid(st.sampled_from([None, True, False, np.False_])) | _invalid("yes", 0, 1.0),
    "exact_reward": _valid(st.sampled_from([None, True, False])) | _invalid("yes", 0, 1.0),
    "n_response": counts(1, 4, huge_ok=None, none_ok=True),
    "n_reward": counts(1, 3, huge_ok=None, none_ok=True),
    "commitment": flags(),
    "diagnostics": flags(),
}


def kwargs_of(arguments: dict[str, st.SearchStrategy[Arg]]) -> st.SearchStrategy[dict]:
    """A random subset of the arguments, each drawn from its pool."""
    return st.fixed_dictionaries({}, optional=arguments)


# -- the oracle ------------------------------------------------------------------------


def _names_an_argument(error: Exception, names) -> bool:
    message = str(error)
    return any(name in message for name in names)


def check_construction(make, kwargs: dict[str, Arg], smoke) -> str:
    """Build with ``kwargs`` and judge the outcome; return ``"built"`` or ``"refused"``.

    Raises:
        AssertionError: On an undocumented exception, an error that names no argument, an
            invalid argument accepted, or a built environment that does not run.
    """
    values = {name: arg.value for name, arg in kwargs.items()}
    invalid = sorted(name for name, arg in kwargs.items() if arg.ok is False)
    try:
        with no_hang(f"building with {values!r}"):
            built = make(**values)
    except (TypeError, ValueError) as error:
        assert _names_an_argument(error, kwargs), (
            f"{type(error).__name__} names none of the arguments {sorted(kwargs)}: {error}"
        )
        return "refused"
    assert not invalid, f"accepted invalid {invalid} in {values!r}"
    _assert_taken_as_given(built, values)
    with no_hang(f"running the env built with {values!r}"):
        try:
            smoke(built)
        except NoPureEquilibriumError:  # documented: best-response followers, random leader
            pass
    return "built"


def _assert_taken_as_given(env, values: dict[str, Any]) -> None:
    """Each scalar argument reaches the game or POMDP unchanged (nothing coerced)."""
    unwrapped = env.unwrapped
    holders = [getattr(unwrapped, "game", None), getattr(unwrapped, "pomdp", None)]
    for name, value in values.items():
        if value is None or not isinstance(value, bool | int | float | str | np.generic):
            continue
        for holder in holders:
            kept = getattr(holder, name, None)
            if isinstance(kept, bool | int | float | str | np.generic):
                if isinstance(value, bool | np.bool_):  # a flag stays a flag
                    assert type(kept) is bool, f"{name}={value!r} became {kept!r}"
                assert kept == value, f"{name}={value!r} became {kept!r}"


def _smoke_gym(env) -> None:
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(3):
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()


def _sample_masked(space, observation, rng) -> Any:
    mask = observation.get("action_mask") if isinstance(observation, dict) else None
    if mask is not None and isinstance(space, gymnasium.spaces.Discrete):
        return int(space.start + rng.choice(np.flatnonzero(mask)))
    return space.sample()


def _smoke_aec(env) -> None:
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for agent in env.agent_iter(max_iter=30):
        observation, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.step(None)
        else:
            env.step(_sample_masked(env.action_space(agent), observation, rng))


def _smoke_parallel(env) -> None:
    env.reset(seed=0)
    for agent in env.agents:
        env.action_space(agent).seed(0)
    env.step({agent: env.action_space(agent).sample() for agent in env.agents})


# -- constructor fuzz ------------------------------------------------------------------


@pytest.mark.parametrize("setting", sorted(GAME_ARGS))
def test_multi_agent_constructor(setting):
    """``pettingzoo.make`` of every multi-agent id (and the parallel one) with hostile kwargs."""
    env_id = MULTI_AGENT_ID[setting]
    arguments = dict(GAME_ARGS[setting](), max_cycles=counts(1, 5, huge_ok=True, none_ok=True))

    @FUZZ
    @given(kwargs_of(arguments))
    def run(kwargs):
        check_construction(lambda **kw: pettingzoo.make("aec", env_id, **kw), kwargs, _smoke_aec)
        if env_id in envs.PARALLEL_ENV_IDS:
            check_construction(
                lambda **kw: pettingzoo.make("parallel", env_id, **kw), kwargs, _smoke_parallel
            )

    run()


@pytest.mark.filterwarnings("ignore:.*Box action space maximum and minimum values are equal")
@pytest.mark.parametrize("setting", POMDP_SETTINGS, ids=lambda s: s.name)
def test_pomdp_constructor(setting):
    """``gymnasium.make`` and ``pettingzoo.make`` of every POMDP id with hostile kwargs."""
    arguments = dict(GAME_ARGS[setting.name](), **POMDP_ARGS)

    @FUZZ
    @given(kwargs_of(arguments), st.booleans())
    def run(kwargs, through_gymnasium):
        if through_gymnasium:
            check_construction(
                lambda **kw: gymnasium.make(setting.gymnasium_id, **kw), kwargs, _smoke_gym
            )
        else:
            check_construction(
                lambda **kw: pettingzoo.make("aec", setting.pettingzoo_id, **kw),
                kwargs,
                _smoke_aec,
            )

    run()


# -- action fuzz -----------------------------------------------------------------------


def _half_and_half(valid, invalid) -> st.SearchStrategy[Arg]:
    """As many invalid draws as valid ones (a plain ``|`` favours the larger pool)."""
    return st.booleans().flatmap(lambda ok: valid if ok else invalid)


def hostile_actions(space: gymnasium.Space) -> st.SearchStrategy[Arg]:
    """Valid elements of ``space`` and invalid ones of every kind the drivers must refuse."""
    common_bad = ["1", "abc", None, 1 + 0j, np.complex128(1), b"\x01", {"a": 1}, float("nan")]
    if isinstance(space, gymnasium.spaces.Discrete):
        start, n = int(space.start), int(space.n)
        inside = st.integers(start, start + n - 1)
        return _half_and_half(
            _valid(inside | inside.map(np.int64) | inside.map(np.int32) | inside.map(np.array)),
            _invalid(
                True,
                False,
                np.True_,
                float(start),
                float("inf"),
                start - 1,
                start + n,
                [start],
                np.array([start]),
                np.array(float(start)),
                *common_bad,
            ),
        )
    assert isinstance(space, gymnasium.spaces.Box)
    shape, low, high = space.shape, space.low, space.high
    size = math.prod(shape)
    inside = st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size).map(
        lambda u: low + np.array(u).reshape(shape) * (high - low)
    )
    middle = (low + high) / 2

    def with_entry(value, dtype=None):
        return np.array([value] + middle.ravel().tolist()[1:], dtype=dtype).reshape(shape)

    return _half_and_half(
        _valid(
            inside | inside.map(lambda a: a.astype(space.dtype)) | inside.map(np.ndarray.tolist)
        ),
        _invalid(
            with_entry(float("nan")),
            with_entry(float("inf")),
            with_entry(-1.0),
            with_entry(float(high.ravel()[0]) + 1.0),
            middle.astype(np.complex128),
            middle.astype(np.complex128).tolist(),
            np.ones(shape, dtype=bool),
            [True] + middle.ravel().tolist()[1:] if len(shape) == 1 else np.True_,
            middle.astype(str),
            middle.ravel().tolist() + [0.5],
            middle[..., :-1] if shape and shape[-1] > 1 else np.zeros((2, *shape)),
            np.zeros((1, *shape)),
            *common_bad,
        ),
    )


ACTION_WORDS = ("action", "payment", "price", "score", "weight", "row", "item")
"""What an action error may call the action (the settings name its parts)."""


def check_step(step, action: Arg, redo) -> str:
    """Step with ``action``; an invalid one must be refused cleanly and change nothing.

    Returns ``"applied"`` or ``"refused"``.
    """
    try:
        with no_hang(f"step({action.value!r})"):
            step(action.value)
    except (TypeError, ValueError) as error:
        assert action.ok is not True, f"valid action {action.value!r} refused: {error}"
        assert _names_an_argument(error, ACTION_WORDS), f"error does not name the action: {error}"
        redo()  # the env still runs: a valid step goes through
        return "refused"
    assert action.ok is not False, f"invalid action {action.value!r} accepted"
    return "applied"


POMDP_VARIANTS = [
    (setting, kwargs)
    for setting in POMDP_SETTINGS
    for kwargs in ([{}, {"mixed_leader": True}] if setting.name == "normal_form" else [{}])
]


@pytest.mark.parametrize(
    ("setting", "kwargs"),
    POMDP_VARIANTS,
    ids=[f"{s.name}{'-mixed' if k else ''}" for s, k in POMDP_VARIANTS],
)
def test_pomdp_actions(setting, kwargs):
    """Every POMDP id's Gymnasium ``step`` and PettingZoo ``step`` with hostile actions."""
    gym_env = gymnasium.make(setting.gymnasium_id, **kwargs)
    aec_env = pettingzoo.make("aec", setting.pettingzoo_id, **kwargs)
    space = gym_env.action_space
    gym_env.reset(seed=0)
    aec_env.reset(seed=0)

    def gym_redo():
        *_, terminated, _, _ = gym_env.step(space.sample())
        if terminated:
            gym_env.reset()

    def aec_redo():
        aec_env.step(space.sample())
        if aec_env.terminations["leader_0"]:
            aec_env.reset()

    @FUZZ
    @given(hostile_actions(space))
    def run(action):
        check_step(gym_env.step, action, gym_redo)
        if gym_env.unwrapped.pomdp.terminated:
            gym_env.reset()
        check_step(aec_env.step, action, aec_redo)
        if aec_env.terminations["leader_0"]:
            aec_env.reset()

    run()


@pytest.mark.parametrize(
    ("setting", "kwargs"),
    POMDP_VARIANTS,
    ids=[f"{s.name}{'-mixed' if k else ''}" for s, k in POMDP_VARIANTS],
)
def test_vector_actions(setting, kwargs):
    """``gymnasium.make_vec`` of every POMDP id, stepped with a batch of hostile actions."""
    env = gymnasium.make_vec(setting.gymnasium_id, num_envs=2, **kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)

    @FUZZ
    @given(hostile_actions(env.single_action_space))
    def run(action):
        check_step(
            lambda value: env.step([value, value]),
            action,
            lambda: env.step(env.action_space.sample()),
        )

    run()


MULTI_AGENT_VARIANTS = [
    (env_id, kwargs)
    for env_id in envs.ENV_IDS
    for kwargs in ([{}, {"mixed_leader": True}] if "normal-form" in env_id else [{}])
]


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    MULTI_AGENT_VARIANTS,
    ids=[f"{i}{'-mixed' if k else ''}" for i, k in MULTI_AGENT_VARIANTS],
)
def test_multi_agent_actions(env_id, kwargs):
    """Every multi-agent id's AEC ``step`` (and parallel ``step``) with hostile actions."""
    env = pettingzoo.make("aec", env_id, **kwargs)
    parallel = (
        pettingzoo.make("parallel", env_id, **kwargs) if env_id in envs.PARALLEL_ENV_IDS else None
    )
    env.reset(seed=0)
    leader_space = env.action_space("leader_0")
    follower_space = env.action_space("follower_0")
    rng = np.random.default_rng(0)

    def to_leader():
        env.reset(seed=int(rng.integers(1000)))
        while env.agent_selection != "leader_0":
            env.step(int(rng.integers(env.action_space(env.agent_selection).n)))

    def leader_redo():
        observation = env.observe("leader_0")
        env.step(_sample_masked(leader_space, observation, rng))

    @FUZZ
    @given(hostile_actions(leader_space), hostile_actions(follower_space))
    def run(leader_action, follower_action):
        env.reset(seed=0)
        check_step(env.step, follower_action, lambda: env.step(0))
        to_leader()
        observation = env.observe("leader_0")
        mask = observation.get("action_mask")
        if leader_action.ok and mask is not None and not mask[int(leader_action.value)]:
            leader_action = Arg(leader_action.value, None)  # masked out here
        check_step(env.step, leader_action, leader_redo)
        if parallel is not None:
            parallel.reset(seed=0)
            actions = {agent: 0 for agent in parallel.agents}
            check_step(
                lambda action: parallel.step(dict(actions, leader_0=action)),
                leader_action,
                lambda: parallel.step(dict(actions, leader_0=leader_space.sample())),
            )

    run()


# -- the reproducers the fuzzing found, pinned -----------------------------------------


def envs_module(setting: str):
    """A setting's multi-agent env module."""
    return importlib.import_module(f"stackelberg_zoo.envs.{setting}.env")


def _gym(setting: str, **kwargs):
    env = gymnasium.make(f"StackelbergZoo/{setting}POMDP-v0", **kwargs)
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        # flags are bools, never read by truthiness
        (lambda: MatrixDesign(normalize="no"), TypeError, "normalize must be a bool.*'no'"),
        (lambda: MatrixDesign(charge_payments="False"), TypeError, "charge_payments.*'False'"),
        (lambda: MatrixDesign(normalize=None), TypeError, "normalize.*None"),
        (lambda: NormalFormStackelberg("escape", normalize=1), TypeError, "normalize.*1"),
        (lambda: _gym("NormalForm", commitment="yes"), TypeError, "commitment.*'yes'"),
        # sizes whose tables would not fit are refused before anything is allocated
        (lambda: SimpleAllocation(n_messages=10**9), ValueError, "n_messages=1000000000"),
        (lambda: SimpleAllocation(n_types=10**5), ValueError, "n_types=100000"),
        (
            lambda: SequentialPriceMechanism("uniform", n_followers=40),
            ValueError,
            "n_followers=40",
        ),
        (
            lambda: SequentialPriceMechanism("uniform", n_followers=10**30),
            ValueError,
            "n_followers=",
        ),
        (lambda: MatrixDesign(max_payment=1e39), ValueError, "max_payment.*float32"),
        # arguments are checked even where the preset does not use them
        (lambda: SequentialPriceMechanism("pi", n_values=-5), ValueError, "n_values.*-5"),
        (lambda: SequentialPriceMechanism("pi", n_values="abc"), TypeError, "n_values.*'abc'"),
        # numeric strings, bools and complex numbers in tables are refused, not converted
        (
            lambda: NormalFormStackelberg(leader_payoffs=[["1", 2]], follower_payoffs=[[1, 2]]),
            TypeError,
            "leader_payoffs.*'1'",
        ),
        (
            lambda: NormalFormStackelberg(leader_payoffs=[[True, 2]], follower_payoffs=[[1, 2]]),
            TypeError,
            "leader_payoffs.*True",
        ),
        (
            lambda: MatrixDesign([[["3", 1]], [[1, 2]]]),
            TypeError,
            "payoffs.*'3'",
        ),
        (
            lambda: _gym("MatrixDesign", payoffs=np.array([[[1j]], [[1]]])),
            TypeError,
            "payoffs.*complex",
        ),
        (lambda: SimpleAllocation(prior=["0.5", "0.5", "0"]), TypeError, "prior.*'0.5'"),
        (lambda: SequentialPriceMechanism([["0.5"]]), TypeError, r"values\[0\].*'0.5'"),
    ],
)
def test_hostile_arguments_found_by_fuzzing(make, error, match):
    """Each reproducer of the fuzzing: a clear error naming the argument and the value."""
    with no_hang(f"{match}"), pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    ("setting", "kwargs", "action", "error", "match"),
    [
        ("SimpleAllocation", {}, True, TypeError, "action must be an integer.*True"),
        ("SimpleAllocation", {}, np.True_, TypeError, "action must be an integer"),
        ("SimpleAllocation", {}, float("nan"), TypeError, "action must be an integer.*nan"),
        ("SimpleAllocation", {}, 1.0, TypeError, "action must be an integer.*1.0"),
        ("SimpleAllocation", {}, np.array([1]), TypeError, "action must be an integer"),
        ("SimpleAllocation", {}, 3, ValueError, r"action must be in \[0, 3\).*3"),
        ("MatrixDesign", {}, np.array([1 + 1j, 0]), TypeError, "action.*complex"),
        ("MatrixDesign", {}, [1 + 0j, 0.0], TypeError, "action.*1\\+0j"),
        ("MatrixDesign", {}, np.array([True, False]), TypeError, "action.*bool"),
        ("MatrixDesign", {}, [True, 0.5], TypeError, "action.*True"),
        ("MatrixDesign", {}, ["1", "2"], TypeError, "action.*'1'"),
        ("MatrixDesign", {}, np.array([np.nan, 1.0]), ValueError, "action must be finite"),
        ("MatrixDesign", {}, np.array([1.0, 2.0, 3.0]), ValueError, r"shape \(2,\).*\(3,\)"),
        ("MatrixDesign", {}, np.array([11.0, 0.0]), ValueError, "action must be in Box"),
        ("Mspm", {}, np.array([0.5, 0.5, 0.5j]), TypeError, "action.*complex"),
        ("NormalForm", {"mixed_leader": True}, [0.5, True, 0.5], TypeError, "action.*True"),
    ],
)
def test_hostile_pomdp_actions_found_by_fuzzing(setting, kwargs, action, error, match):
    """Each action reproducer, through Gymnasium and PettingZoo, also at an observation whose
    action is already committed (commitment must not swallow an invalid action); the
    episode goes on after it."""
    gym_env = _gym(setting, **kwargs)
    pettingzoo_id = {s.gymnasium_id: s.pettingzoo_id for s in POMDP_SETTINGS}[gym_env.spec.id]
    aec_env = pettingzoo.make("aec", pettingzoo_id, **kwargs)
    aec_env.reset(seed=0)
    gym_env.action_space.seed(0)
    for _ in range(10):  # commit actions at the observations seen so far
        valid = gym_env.action_space.sample()
        gym_env.step(valid)
        aec_env.step(valid)
    for step in (gym_env.step, aec_env.step):
        with pytest.raises(error, match=match):
            step(action)
        step(gym_env.action_space.sample())  # nothing changed: the episode goes on


UNKNOWN_ARGUMENT_DOORS = (
    [("aec", env_id) for env_id in envs.ENV_IDS]
    + [("gymnasium", s.gymnasium_id) for s in POMDP_SETTINGS]
    + [("aec", s.pettingzoo_id) for s in POMDP_SETTINGS]
)


@pytest.mark.parametrize(("door", "env_id"), UNKNOWN_ARGUMENT_DOORS)
def test_unknown_arguments_are_refused_by_name(door, env_id):
    """A misspelt keyword argument is refused, naming it, by every constructor."""
    with pytest.raises(TypeError, match="normalise"):
        if door == "gymnasium":
            gymnasium.make(env_id, normalise=True)
        else:
            pettingzoo.make(door, env_id, normalise=True)


def test_step_messages_say_what_happened():
    """Step before reset and after the end: each has its own message, through every door."""
    raw = envs_module("simple_allocation").raw_env()
    with pytest.raises(ValueError, match="before reset"):
        raw.step(0)
    parallel = envs_module("normal_form").parallel_env()
    with pytest.raises(ValueError, match="before reset"):
        parallel.step({})
    pomdp = pomdp_aec.raw_env(setting="simple_allocation")
    with pytest.raises(ValueError, match="before reset"):
        pomdp.step(0)
    env = pettingzoo.make("aec", "stackelberg/simple-allocation-v0")
    with pytest.raises(AssertionError, match="reset"):  # PettingZoo's own check
        env.step(0)
    env.reset(seed=0)
    for agent in env.agent_iter():
        env.step(None if env.terminations[agent] else 0)
    with pytest.raises(ValueError, match="after the sub-game ended"):  # not just a warning
        env.step(0)
