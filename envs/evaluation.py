"""Evaluate a committed leader mechanism against any follower model, exactly, over seeds.

The evaluation of a *committed* mechanism (a deterministic leader policy, e.g. one a trainer
saved as ``runs/<run>/mechanism.json``) against a follower model is: run the setting's
Stackelberg POMDP with that model's followers and the policy, one episode per follower seed;
take the followers' learned reward-phase strategy from the end-of-response-phase report; and
compute the leader's value *exactly* in the induced Bayesian game of the policy (no sampled
returns). Per seed it records the leader value, its gap to the exact optimum
(``game.reference()``), the BCCE gap of the response-phase play with the learners' regret
bound on it (the certificate), and the largest gain of a follower type deviating from its
learned play; across seeds, :func:`summarize` gives the mean, the interquartile mean and a
bootstrap confidence interval (``scipy.stats.bootstrap``).

Why here (``stackelberg_zoo.envs``) and not in ``equilibrium/``: the evaluation *plays* the
POMDP with the follower response algorithms, which live in the environments layer; the
equilibrium maths it uses (induced games, gaps, the robust max-min of
:mod:`stackelberg_zoo.equilibrium.robust`) stays there. It is not part of the POMDP
(:mod:`.pomdp`) either: the POMDP is what trainers step, this is what the scripts
(``baselines/evaluate.py``, ``benchmark/robustness.py``) and tests call on its results.

:func:`robust_reference` enumerates every committed mechanism of a small setting with a
``Discrete`` leader action (pure normal-form commitments, message -> item tables), evaluates
each against every follower model of a set on the same seeds, and returns the best mechanism
against the worst model (pure and as a lottery over mechanisms).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import numbers
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from scipy import stats

from stackelberg_zoo.envs.core import EconomicGame, induced_bayesian_game, leader_value
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import (
    FOLLOWER_ALGORITHMS,
    ResponseAlgorithm,
    follower_models,
    response_algorithm,
)
from stackelberg_zoo.equilibrium.gaps import bne_gap
from stackelberg_zoo.equilibrium.robust import RobustResult, robust_value

AT_OPTIMUM_TOL = 1e-3
"""A seed's value is *at the optimum* when within this of the exact optimum (results page)."""

MAX_ENUMERATED_MECHANISMS = 10_000
"""Largest number of committed mechanisms :func:`enumerate_mechanisms` lists."""

__all__ = [
    "AT_OPTIMUM_TOL",
    "FollowerEvaluation",
    "RobustReference",
    "SavedPolicy",
    "SeedEvaluation",
    "Summary",
    "TablePolicy",
    "enumerate_mechanisms",
    "evaluate_policy",
    "follower_model",
    "leader_observations",
    "load_run",
    "model_parameters",
    "robust_reference",
    "summarize",
]


# -- follower models with their parameters ---------------------------------------------------


def follower_model(name: str, **params: Any) -> ResponseAlgorithm:
    """The registered follower model ``name`` with hyperparameters ``params``.

    ``follower_model("mw", eps=0.1)`` is ``MultiplicativeWeightsResponse(eps=0.1)``; the
    names are :func:`~stackelberg_zoo.envs.pomdp.followers.follower_models`, the parameters
    each model's fields (``--help`` of ``baselines/evaluate.py`` lists them).

    Raises:
        ValueError: On an unknown name or a value the model rejects.
        TypeError: On a parameter the model does not have (naming it and the model's
            parameters), or a value of the wrong type.
    """
    if not isinstance(name, str) or name not in FOLLOWER_ALGORITHMS:
        raise ValueError(f"follower must be one of {list(follower_models())}, got {name!r}")
    if not params:
        return response_algorithm(name)
    known = model_parameters(name)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise TypeError(
            f"follower model {name!r} has no parameter {unknown[0]!r} (its parameters: "
            f"{', '.join(known) or 'none'})"
        )
    algorithm = FOLLOWER_ALGORITHMS[name](**params)
    if not isinstance(algorithm, ResponseAlgorithm):
        raise TypeError(f"the factory registered as {name!r} made {algorithm!r}")
    return algorithm


def model_parameters(name: str) -> tuple[str, ...]:
    """The hyperparameter names of the registered follower model ``name`` (its fields)."""
    default = response_algorithm(name)
    if not dataclasses.is_dataclass(default):
        return ()
    return tuple(f.name for f in dataclasses.fields(default) if f.init)


# -- committed mechanisms ----------------------------------------------------------------------


class TablePolicy:
    """A committed mechanism as a table ``observation key -> action``.

    Args:
        game: The setting's game (its observation space keys the table).
        actions: ``{key: action}`` with keys from :meth:`key`.
    """

    def __init__(self, game: EconomicGame, actions: dict[Hashable, Any]):
        self.game = game
        self.actions = dict(actions)

    def key(self, observation: Any) -> Hashable:
        """The table key of an observation (its bytes in the observation space's dtype)."""
        space = self.game.leader_observation_space
        dtype = getattr(space, "dtype", None)
        return np.ascontiguousarray(np.asarray(observation, dtype=dtype)).tobytes()

    def __call__(self, observation: Any) -> Any:
        """The committed action at ``observation`` (``ValueError`` if there is none)."""
        action = self.actions.get(self.key(observation))
        if action is None:
            fields = self.game.observation_fields(observation)
            raise ValueError(f"the committed mechanism has no action for the observation {fields}")
        return action


class SavedPolicy(TablePolicy):
    """A saved mechanism (``mechanism.json``'s ``"mechanism"`` list) as a policy.

    Each entry's observation is matched through the setting's own names for it
    (:meth:`~stackelberg_zoo.envs.core.EconomicGame.observation_fields`), as saved.

    Args:
        game: The setting's game.
        mechanism: ``[{"observation": {...}, "action": ...}, ...]``.

    Raises:
        ValueError: On a malformed entry.
    """

    def __init__(self, game: EconomicGame, mechanism: Sequence[dict[str, Any]]):
        super().__init__(game, {})
        self.saved: dict[str, Any] = {}
        if not isinstance(mechanism, list | tuple) or not mechanism:
            raise ValueError(f"mechanism must be a non-empty list of entries, got {mechanism!r}")
        for entry in mechanism:
            if not isinstance(entry, dict) or not {"observation", "action"} <= set(entry):
                raise ValueError(
                    f"a mechanism entry needs 'observation' and 'action', got {entry!r}"
                )
            self.saved[self.field_key(entry["observation"])] = entry["action"]

    @staticmethod
    def field_key(fields: dict[str, Any]) -> str:
        """The key of an observation's named fields."""
        return json.dumps(fields, sort_keys=True)

    def __call__(self, observation: Any) -> Any:
        """The saved action at ``observation``, in the action space's type."""
        fields = self.game.observation_fields(observation)
        saved = self.saved.get(self.field_key(fields))
        if saved is None:
            raise ValueError(f"the saved mechanism has no action for the observation {fields}")
        space = self.game.leader_action_space
        if isinstance(space, gymnasium.spaces.Discrete):
            return int(saved)
        return np.asarray(saved, dtype=space.dtype).reshape(space.shape)


def load_run(run_dir: str | Path) -> dict[str, Any]:
    """A run folder's ``mechanism.json`` (written by every trainer), checked.

    Raises:
        ValueError: If it cannot be read or lacks ``env_id``, ``env_kwargs`` or ``mechanism``.
    """
    path = Path(run_dir) / "mechanism.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    keys = record if isinstance(record, dict) else ()
    missing = {"env_id", "env_kwargs", "mechanism"} - set(keys)
    if missing:
        raise ValueError(f"{path} lacks {sorted(missing)} (written by an older trainer?)")
    return record


def leader_observations(game: EconomicGame) -> list[Any]:
    """The distinct leader observations of a single-turn game, over every profile, in order.

    Raises:
        ValueError: If the game is not ``pure_single_turn`` (later observations depend on
            the leader's own actions, so the table would not be finite this way).
    """
    if not getattr(game, "pure_single_turn", False):
        raise ValueError(f"{game!r} is not pure_single_turn; its mechanisms are not enumerated")
    policy = TablePolicy(game, {})
    seen: dict[Hashable, Any] = {}
    grids = [range(t) for t in game.n_types] + [range(a) for a in game.n_follower_actions]
    n = game.n_followers
    for profile in itertools.product(*grids):
        state = game.start(np.array(profile[:n]), np.array(profile[n:]))
        observation = game.leader_observation(state)
        seen.setdefault(policy.key(observation), observation)
    return list(seen.values())


def enumerate_mechanisms(game: EconomicGame) -> list[TablePolicy]:
    """Every committed mechanism of a single-turn game with a ``Discrete`` leader action.

    One action per distinct leader observation: the rows of a pure normal-form commitment,
    the ``message -> item`` tables of simple allocation. In ``itertools.product`` order over
    the observations in first-seen order.

    Raises:
        ValueError: If the action space is not ``Discrete`` (e.g. mixed commitments), the
            game is not single-turn, or there are more than
            :data:`MAX_ENUMERATED_MECHANISMS` mechanisms.
    """
    space = game.leader_action_space
    if not isinstance(space, gymnasium.spaces.Discrete):
        raise ValueError(f"only Discrete leader actions are enumerated, got {space}")
    observations = leader_observations(game)
    count = int(space.n) ** len(observations)
    if count > MAX_ENUMERATED_MECHANISMS:
        raise ValueError(
            f"{game!r} has {count} committed mechanisms, more than MAX_ENUMERATED_MECHANISMS="
            f"{MAX_ENUMERATED_MECHANISMS}"
        )
    keys = [TablePolicy(game, {}).key(o) for o in observations]
    actions = range(int(space.start), int(space.start) + int(space.n))
    return [
        TablePolicy(game, dict(zip(keys, choice, strict=True)))
        for choice in itertools.product(actions, repeat=len(keys))
    ]


# -- statistics over seeds -------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """A statistic over seeds.

    Attributes:
        mean: The mean.
        iqm: The interquartile mean (the mean of the middle 50%, ``trim_mean(x, 0.25)``).
        ci_low: Lower end of the bootstrap confidence interval of the mean (``nan`` for
            fewer than 2 values).
        ci_high: Upper end.
        n: Number of values.
    """

    mean: float
    iqm: float
    ci_low: float
    ci_high: float
    n: int


def summarize(values, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0) -> Summary:
    """Mean, interquartile mean and a percentile-bootstrap CI of the mean of ``values``.

    The interval is ``scipy.stats.bootstrap`` (percentile method, seeded); when the values
    are equal up to rounding (``1e-12`` relative), it is ``[min, max]``.

    Raises:
        ValueError: On no values, non-finite values or ``confidence`` outside ``(0, 1)``.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"values must be non-empty and finite, got {x.tolist()}")
    if not (isinstance(confidence, numbers.Real) and 0 < confidence < 1):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    mean, iqm = float(x.mean()), float(stats.trim_mean(x, 0.25))
    if x.size < 2:
        return Summary(mean, iqm, math.nan, math.nan, 1)
    if np.ptp(x) <= 1e-12 * (1.0 + np.abs(x).max()):  # equal up to rounding: no resampling
        return Summary(mean, iqm, float(x.min()), float(x.max()), int(x.size))
    result = stats.bootstrap(
        (x,),
        np.mean,
        confidence_level=confidence,
        n_resamples=n_resamples,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return Summary(mean, iqm, float(low), float(high), int(x.size))


# -- the evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedEvaluation:
    """One follower seed's exact evaluation.

    Attributes:
        seed: The POMDP episode's seed (``np.random.default_rng(seed)``).
        leader_value: Exact leader value against the followers' learned strategies.
        optimality_gap: ``optimum - leader_value``.
        bcce_gap: Largest ex-ante BCCE gap of the response-phase play (``nan`` if the POMDP
            has no diagnostics).
        bcce_bound: The learners' regret bound on it (``nan`` for the best response).
        deviation_gain: Largest interim gain of a follower type deviating from its learned
            reward-phase play in the induced game (0: the play is an equilibrium).
        strategies: The followers' learned reward-phase strategies.
    """

    seed: int
    leader_value: float
    optimality_gap: float
    bcce_gap: float
    bcce_bound: float
    deviation_gain: float
    strategies: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class FollowerEvaluation:
    """A committed mechanism's exact evaluation against one follower model, over seeds.

    Attributes:
        followers: The follower model (with its hyperparameters).
        optimum: The exact optimum (``game.reference().optimum``).
        seeds: Per seed, a :class:`SeedEvaluation`.
        leader_value: :class:`Summary` of the leader values.
        optimality_gap: :class:`Summary` of the gaps to the optimum.
        bcce_gap: :class:`Summary` of the BCCE gaps (``None`` if unavailable).
        at_optimum: Fraction of seeds within :data:`AT_OPTIMUM_TOL` of the optimum.
    """

    followers: ResponseAlgorithm
    optimum: float
    seeds: tuple[SeedEvaluation, ...]
    leader_value: Summary
    optimality_gap: Summary
    bcce_gap: Summary | None
    at_optimum: float


def evaluate_policy(
    game: EconomicGame,
    policy: Callable[[Any], Any],
    followers: str | ResponseAlgorithm,
    seeds: Sequence[int],
    *,
    n_response: int | None = None,
    n_reward: int | None = None,
    confidence: float = 0.95,
) -> FollowerEvaluation:
    """Evaluate a committed policy against a follower model exactly, one episode per seed.

    Args:
        game: The setting's game.
        policy: The committed mechanism, ``observation -> action`` (deterministic).
        followers: A registered follower model name or a :class:`ResponseAlgorithm`
            (:func:`follower_model` builds one with hyperparameters).
        seeds: Follower seeds (one POMDP episode each; ``>= 1``, distinct).
        n_response: Response sub-games per episode (``None``: the setting's default).
        n_reward: Reward sub-games per episode (``None``: the setting's default; the exact
            value does not depend on it).
        confidence: Confidence level of the bootstrap intervals.

    Raises:
        ValueError: On no seeds, repeated seeds, an unknown follower model, or a policy with
            no action at some observation.
        TypeError: On seeds that are not integers.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got none")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seeds must be integers, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    algorithm = response_algorithm(followers)
    pomdp = StackelbergPOMDP(game, algorithm, n_response=n_response, n_reward=n_reward)
    induced = induced_bayesian_game(game, policy)
    optimum = float(game.reference().optimum) + 0.0
    results = []
    for seed in seeds:
        observation, _ = pomdp.reset(np.random.default_rng(int(seed)))
        while True:
            step = pomdp.step(policy(observation))
            if step.terminated:
                break
            observation = step.observation
        report = pomdp.report
        strategies = tuple(np.array(s) for s in report.strategy)
        value = leader_value(induced, list(strategies))
        interim = bne_gap(induced.followers, list(strategies)).interim
        gaps, certificate = report.gaps, report.certificate
        results.append(
            SeedEvaluation(
                seed=int(seed),
                leader_value=value,
                optimality_gap=optimum - value,
                bcce_gap=float(np.max(gaps.ex_ante)) if gaps is not None else math.nan,
                bcce_bound=(
                    float(np.max(certificate.average("bound"))) if certificate else math.nan
                ),
                deviation_gain=max(float(np.nanmax(row)) for row in interim),
                strategies=strategies,
            )
        )
    values = [r.leader_value for r in results]
    gaps = [r.bcce_gap for r in results]
    return FollowerEvaluation(
        followers=algorithm,
        optimum=optimum,
        seeds=tuple(results),
        leader_value=summarize(values, confidence),
        optimality_gap=summarize([r.optimality_gap for r in results], confidence),
        bcce_gap=summarize(gaps, confidence) if np.all(np.isfinite(gaps)) else None,
        at_optimum=float(np.mean([v >= optimum - AT_OPTIMUM_TOL for v in values])),
    )


# -- the robust reference ----------------------------------------------------------------------


@dataclass(frozen=True)
class RobustReference:
    """The best committed mechanism against the worst follower model of a set.

    Attributes:
        mechanisms: Every enumerated mechanism (:func:`enumerate_mechanisms`).
        models: The follower models, in column order.
        values: ``[mechanisms, models]`` mean exact leader value over the seeds.
        result: :func:`~stackelberg_zoo.equilibrium.robust.robust_value` of ``values``.
    """

    mechanisms: tuple[TablePolicy, ...]
    models: tuple[ResponseAlgorithm, ...]
    values: np.ndarray
    result: RobustResult


def robust_reference(
    game: EconomicGame,
    models: Sequence[str | ResponseAlgorithm],
    seeds: Sequence[int],
    *,
    n_response: int | None = None,
    n_reward: int | None = None,
) -> RobustReference:
    """Enumerate every committed mechanism and evaluate it against every model on ``seeds``.

    ``values[m, f]`` is the mean over ``seeds`` of :func:`evaluate_policy`'s exact leader
    value, so any mechanism evaluated on the same seeds has a worst model value at most
    ``result.pure_value``, and any average of such evaluations at most
    ``result.mixed_value``. Cost: mechanisms x models x seeds POMDP episodes.

    Raises:
        ValueError: As :func:`enumerate_mechanisms` and :func:`evaluate_policy`, or on no
            models.
    """
    if not models:
        raise ValueError("models must hold at least one follower model, got none")
    algorithms = tuple(response_algorithm(m) for m in models)
    mechanisms = tuple(enumerate_mechanisms(game))
    values = np.array(
        [
            [
                evaluate_policy(
                    game, mechanism, algorithm, seeds, n_response=n_response, n_reward=n_reward
                ).leader_value.mean
                for algorithm in algorithms
            ]
            for mechanism in mechanisms
        ]
    )
    values.setflags(write=False)
    return RobustReference(mechanisms, algorithms, values, robust_value(values))
