"""Self-play of no-regret learners in normal-form and Bayesian games, with exact bookkeeping.

:func:`run_selfplay` lets one learner per player play a :class:`.games.NormalFormGame`
repeatedly; :func:`run_bayesian_selfplay` gives every (player, type) its own learner in a
:class:`.games.BayesianGame`, draws a type profile from the (possibly correlated) prior each
round and updates only the realised types' learners.

Feedback models, for player ``i`` in round ``t``:

* ``"expected"``: the gain of action ``b`` is ``u_i(b, x_{-i}^t)``, the expectation over the
  others' current mixed strategies; the empirical distribution is the mixture of products
  ``(1/T) Σ_t ⊗_j x_j^t``;
* ``"sampled"``: every player samples ``a_j^t ∼ x_j^t``; the gain of ``b`` is
  ``u_i(b, a_{-i}^t)``; the empirical distribution is that of the sampled profiles;
* ``"bandit"`` (complete information only, :class:`.learners.Exp3` learners): sampled play
  where each learner sees only its own realised utility; the counterfactual gains are
  passed along for regret bookkeeping only.

The traces record the regrets whose averages equal the CCE gaps of the recorded
distributions **exactly** (research notes §3.1): ``cce_gap(game, trace.mu).raw ==
trace.mu_regrets / T``; in the Bayesian case ``bcce_gap(bgame, trace.mu).ex_ante ==
Σ_θ mu_regrets[i][θ] / T`` and ``agent_form == Σ_θ max(0, mu_regrets[i][θ]) / T``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .distributions import (
    bayes_joint_from_samples,
    bayes_joint_from_strategies,
    joint_from_profiles,
    joint_from_samples,
)
from .games import BayesianGame, NormalFormGame
from .learners import Exp3, FullInformationLearner, Learner

__all__ = ["BayesTrace", "SelfPlayTrace", "run_bayesian_selfplay", "run_selfplay"]

FEEDBACKS = ("expected", "sampled", "bandit")
"""Feedback models understood by :func:`run_selfplay` (the Bayesian run takes the first two)."""


@dataclass(frozen=True, eq=False)
class SelfPlayTrace:
    """What a run of :func:`run_selfplay` produced.

    Attributes:
        mu: ``[A_1..A_n]`` the empirical joint distribution: the mixture of per-round
            products (expected feedback) or the frequency of sampled profiles.
        regrets: ``[n]`` each learner's own external regret ``max_b Σ_t g_t(b) −
            Σ_t <x_t, g_t>`` against the gains it was given.
        realised_regrets: ``[n]`` ``max_b Σ_t g_t(b) − Σ_t u_i(a^t)`` for sampled and bandit
            play; ``None`` for expected feedback (no actions are drawn).
        strategies: Per player ``[T, A_i]``, the mixed strategy of every round.
        last_strategies: Per player ``[A_i]``, the learners' strategies after the final
            update (what they would play next; last iterates need not converge).
        actions: ``int[T, n]`` the sampled profiles, ``None`` for expected feedback.
        feedback: The feedback model.
    """

    mu: np.ndarray
    regrets: np.ndarray
    realised_regrets: np.ndarray | None
    strategies: tuple[np.ndarray, ...]
    last_strategies: tuple[np.ndarray, ...]
    actions: np.ndarray | None
    feedback: str

    @property
    def n_rounds(self) -> int:
        """``T``, the number of rounds played."""
        return self.strategies[0].shape[0]

    @property
    def mu_regrets(self) -> np.ndarray:
        """``[n]`` the regrets whose average equals the CCE gap of ``mu`` exactly."""
        return self.regrets if self.realised_regrets is None else self.realised_regrets


@dataclass(frozen=True, eq=False)
class BayesTrace:
    """What a run of :func:`run_bayesian_selfplay` produced.

    Attributes:
        mu: ``[T_1..T_n, A_1..A_n]`` the empirical distribution over (types, actions):
            realised types with the realised types' mixed strategies (expected feedback),
            or realised types and sampled actions. Its type marginal is the empirical
            type frequency.
        regrets: Per player ``[T_i]``, the regret of each (player, type) learner over the
            rounds its type was realised, against the gains it was given.
        realised_regrets: Per player ``[T_i]``, ``max_b Σ g(b) − Σ u_i(a^t; θ^t)`` over the
            same rounds (sampled feedback); ``None`` for expected feedback.
        type_counts: Per player ``int[T_i]``, how often each type was realised.
        types: ``int[T, n]`` the realised type profiles.
        actions: ``int[T, n]`` the sampled actions, ``None`` for expected feedback.
        last_strategies: Per player ``[T_i, A_i]``, every type's strategy after the final
            update (what the learners would play next).
        mu_prior_based: ``[T_1..T_n, A_1..A_n]`` ``p(θ) (1/T) Σ_t Π_j σ_j^t(a_j | θ_j)``,
            the Hartline–Syrgkanis–Tardos "population" device integrated against the prior
            (every type's strategy of every round, not only the realised ones); ``None``
            unless requested.
        feedback: The feedback model.
    """

    mu: np.ndarray
    regrets: tuple[np.ndarray, ...]
    realised_regrets: tuple[np.ndarray, ...] | None
    type_counts: tuple[np.ndarray, ...]
    types: np.ndarray
    actions: np.ndarray | None
    last_strategies: tuple[np.ndarray, ...]
    mu_prior_based: np.ndarray | None
    feedback: str

    @property
    def n_rounds(self) -> int:
        """``T``, the number of rounds played."""
        return self.types.shape[0]

    @property
    def mu_regrets(self) -> tuple[np.ndarray, ...]:
        """Per player ``[T_i]``: the regrets that give ``mu``'s Bayesian gaps exactly."""
        return self.regrets if self.realised_regrets is None else self.realised_regrets


def _check_rounds(T) -> int:
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"T must be an int, got {T!r}")
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    return int(T)


def _check_feedback(feedback, allowed: Sequence[str]) -> str:
    if feedback not in allowed:
        raise ValueError(f"feedback must be one of {tuple(allowed)}, got {feedback!r}")
    return feedback


def _check_rng(rng, feedback: str, needed: bool) -> np.random.Generator | None:
    if rng is None and not needed:
        return None
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a np.random.Generator (needed for feedback={feedback!r}), got {rng!r}"
        )
    return rng


def _check_learner(learner, player: int, batch_shape, n_actions: int, kind: type) -> Learner:
    if not isinstance(learner, kind):
        raise TypeError(
            f"the learner of player {player} must be a {kind.__name__}, got "
            f"{type(learner).__name__}"
        )
    if learner.batch_shape != batch_shape or learner.n_actions != n_actions:
        raise ValueError(
            f"the learner of player {player} must have batch_shape {batch_shape} and "
            f"{n_actions} actions, got {learner.batch_shape} and {learner.n_actions}"
        )
    if np.any(learner.n_updates > 0):
        raise ValueError(
            f"the learner of player {player} has already been updated "
            f"({int(learner.n_updates.max())} rounds); reset() it so the regrets match the run"
        )
    return learner


def _own_action_first(payoffs: np.ndarray, player: int, offset: int = 0) -> np.ndarray:
    """Move player ``player``'s action axis (at ``offset + player``) to position ``offset``."""
    return np.moveaxis(payoffs, offset + player, offset)


def _against(tensor: np.ndarray, player: int, profile: Sequence[np.ndarray]) -> np.ndarray:
    """Contract an ``[A_i, A_-i...]`` tensor with the other players' mixed strategies."""
    for j in reversed(range(len(profile))):
        if j != player:
            tensor = tensor @ profile[j]
    return tensor


def _at(tensor: np.ndarray, player: int, actions: Sequence[int]) -> np.ndarray:
    """Index an ``[A_i, A_-i...]`` tensor at the other players' actions: ``[A_i]``."""
    others = tuple(int(a) for j, a in enumerate(actions) if j != player)
    return tensor[(slice(None),) + others]


def run_selfplay(
    game: NormalFormGame,
    learners: Sequence[Learner],
    T: int,
    feedback: str = "expected",
    rng: np.random.Generator | None = None,
) -> SelfPlayTrace:
    """Let one fresh learner per player play ``game`` for ``T`` rounds.

    Args:
        game: The normal-form game.
        learners: One learner per player, each with ``batch_shape=()`` and ``A_i`` actions,
            never updated before. Full-information learners for ``"expected"`` and
            ``"sampled"``; :class:`.learners.Exp3` for ``"bandit"``. They are updated in
            place.
        T: Number of rounds.
        feedback: ``"expected"``, ``"sampled"`` or ``"bandit"`` (see the module docstring).
        rng: Random generator for sampling actions (required unless ``"expected"``).

    Returns:
        A :class:`SelfPlayTrace`; ``cce_gap(game, trace.mu).raw == trace.mu_regrets / T``.

    Raises:
        TypeError: On a wrong game, learner or rng type.
        ValueError: On an unknown feedback, a learner of the wrong shape or already used,
            or ``T < 1``.

    Example:
        >>> pennies = np.array([[1.0, -1.0], [-1.0, 1.0]])
        >>> game = NormalFormGame(np.stack([pennies, -pennies]))
        >>> learners = [Exp3((), 2, gamma=0.1, reward_bounds=(-1, 1)) for _ in range(2)]
        >>> trace = run_selfplay(game, learners, 200, "bandit", np.random.default_rng(0))
        >>> trace.mu.shape, trace.realised_regrets.shape
        ((2, 2), (2,))
    """
    if not isinstance(game, NormalFormGame):
        raise TypeError(f"game must be a NormalFormGame, got {type(game).__name__}")
    T = _check_rounds(T)
    feedback = _check_feedback(feedback, FEEDBACKS)
    rng = _check_rng(rng, feedback, needed=feedback != "expected")
    n = game.n_players
    if len(learners) != n:
        raise ValueError(f"need one learner per player ({n}), got {len(learners)}")
    kind = Exp3 if feedback == "bandit" else FullInformationLearner
    learners = [_check_learner(lr, i, (), game.n_actions[i], kind) for i, lr in enumerate(learners)]
    tensors = [_own_action_first(game.payoffs[i], i) for i in range(n)]
    history = [np.empty((T, a)) for a in game.n_actions]
    actions = None if feedback == "expected" else np.empty((T, n), dtype=np.int64)
    realised = np.zeros(n)
    for t in range(T):
        profile = [learner.strategy() for learner in learners]
        for i in range(n):
            history[i][t] = profile[i]
        if feedback == "expected":
            for i, learner in enumerate(learners):
                learner.update(_against(tensors[i], i, profile))
            continue
        drawn = [int(learner.sample(rng)) for learner in learners]
        actions[t] = drawn
        for i, learner in enumerate(learners):
            gains = _at(tensors[i], i, drawn)
            reward = gains[drawn[i]]
            realised[i] += reward
            if feedback == "sampled":
                learner.update(gains)
            else:
                learner.update_bandit(np.int64(drawn[i]), reward, gains=gains)
    regrets = np.array([float(learner.regret()) for learner in learners])
    if feedback == "expected":
        mu = joint_from_profiles(history)
        realised_regrets = None
    else:
        mu = joint_from_samples(actions, game.n_actions)
        best = np.array([learner.cumulative_gains.max() for learner in learners])
        realised_regrets = best - realised
    return SelfPlayTrace(
        mu=mu,
        regrets=regrets,
        realised_regrets=realised_regrets,
        strategies=tuple(history),
        last_strategies=tuple(learner.strategy().copy() for learner in learners),
        actions=actions,
        feedback=feedback,
    )


LearnerFactory = Callable[[tuple[int, ...], int], FullInformationLearner]
"""``factory(batch_shape, n_actions) -> learner``, e.g. ``functools.partial(Hedge, eta=0.1)``."""


def _draw_types(prior: np.ndarray, T: int, rng: np.random.Generator) -> np.ndarray:
    flat = rng.choice(prior.size, size=T, p=prior.ravel())
    return np.stack(np.unravel_index(flat, prior.shape), axis=1).astype(np.int64)


def _prior_based(prior: np.ndarray, strategies: Sequence[np.ndarray]) -> np.ndarray:
    """``p(θ) (1/T) Σ_t Π_j σ_j^t(a_j | θ_j)`` from per-player histories ``[T, T_j, A_j]``."""
    n = len(strategies)
    # Each σ_j^t flattened over (type, action) sums to T_j; divide so rows are distributions.
    rows = [s.reshape(s.shape[0], -1) / s.shape[1] for s in strategies]
    mixture = joint_from_profiles(rows)
    for s in strategies:
        mixture = mixture * s.shape[1]
    shape = []
    for s in strategies:
        shape += [s.shape[1], s.shape[2]]
    mixture = mixture.reshape(shape)  # [T_1, A_1, T_2, A_2, ...]
    order = [2 * j for j in range(n)] + [2 * j + 1 for j in range(n)]
    return prior.reshape(prior.shape + (1,) * n) * mixture.transpose(order)


def run_bayesian_selfplay(
    bgame: BayesianGame,
    make_learner: LearnerFactory | Sequence[LearnerFactory],
    T: int,
    feedback: str = "expected",
    rng: np.random.Generator | None = None,
    prior_based: bool = False,
) -> BayesTrace:
    """Per-(player, type) no-regret learners in a Bayesian game with a joint prior.

    Each round: draw ``θ ∼ p`` (correlated priors allowed); every player ``j`` plays the
    strategy of its realised type's learner; each player ``i`` gets the gains
    ``g(b) = u_i(b, x_{-i}; θ)`` (expected) or ``u_i(b, a_{-i}; θ)`` (sampled), and **only**
    the learner of its realised type ``θ_i`` is updated (a one-hot mask over the type
    axis). Updating unrealised types with the current round would be biased when types
    are correlated (research notes §3.1).

    Args:
        bgame: The Bayesian game.
        make_learner: ``factory(batch_shape, n_actions)`` building one player's batch of
            per-type learners (called with ``((T_i,), A_i)``), or one factory per player.
        T: Number of rounds.
        feedback: ``"expected"`` or ``"sampled"``.
        rng: Random generator for the types (and the actions when sampled). Required.
        prior_based: Also compute ``mu_prior_based`` (costs ``O(T Π_j T_j A_j)``).

    Returns:
        A :class:`BayesTrace`.

    Raises:
        TypeError: On a wrong game, factory output or rng type.
        ValueError: On an unknown feedback, a learner of the wrong shape, or ``T < 1``.
    """
    if not isinstance(bgame, BayesianGame):
        raise TypeError(f"bgame must be a BayesianGame, got {type(bgame).__name__}")
    T = _check_rounds(T)
    feedback = _check_feedback(feedback, FEEDBACKS[:2])
    rng = _check_rng(rng, feedback, needed=True)
    n = bgame.n_players
    if callable(make_learner):
        factories = [make_learner] * n
    elif isinstance(make_learner, Sequence) and len(make_learner) == n:
        factories = list(make_learner)
    else:
        raise TypeError(
            f"make_learner must be a callable or a sequence of {n} callables, got {make_learner!r}"
        )
    learners = [
        _check_learner(
            factories[i]((bgame.n_types[i],), bgame.n_actions[i]),
            i,
            (bgame.n_types[i],),
            bgame.n_actions[i],
            FullInformationLearner,
        )
        for i in range(n)
    ]
    types = _draw_types(bgame.prior, T, rng)
    # tensors[i][θ] is [A_i, A_-i...]: player i's action axis moved in front of the others.
    tensors = [_own_action_first(bgame.payoffs[i], i, offset=n) for i in range(n)]
    history = [np.empty((T, bgame.n_types[i], bgame.n_actions[i])) for i in range(n)]
    actions = None if feedback == "expected" else np.empty((T, n), dtype=np.int64)
    realised = [np.zeros(k) for k in bgame.n_types]
    type_axis = [np.arange(k) for k in bgame.n_types]
    for t in range(T):
        theta = tuple(int(k) for k in types[t])
        tables = [learner.strategy() for learner in learners]
        for i in range(n):
            history[i][t] = tables[i]
        profile = [tables[j][theta[j]] for j in range(n)]
        if feedback == "sampled":
            drawn = [int(learners[j].sample(rng)[theta[j]]) for j in range(n)]
            actions[t] = drawn
        for i, learner in enumerate(learners):
            if feedback == "expected":
                row = _against(tensors[i][theta], i, profile)
            else:
                row = _at(tensors[i][theta], i, drawn)
                realised[i][theta[i]] += row[drawn[i]]
            mask = type_axis[i] == theta[i]
            gains = np.zeros((bgame.n_types[i], bgame.n_actions[i]))
            gains[theta[i]] = row
            learner.update(gains, mask)
    regrets = tuple(learner.regret() for learner in learners)
    type_counts = tuple(
        np.bincount(types[:, i], minlength=bgame.n_types[i]).astype(np.int64) for i in range(n)
    )
    if feedback == "expected":
        mu = bayes_joint_from_strategies(types, history, bgame.n_types, bgame.n_actions)
        realised_regrets = None
    else:
        mu = bayes_joint_from_samples(types, actions, bgame.n_types, bgame.n_actions)
        realised_regrets = tuple(
            learner.cumulative_gains.max(axis=-1) - realised[i]
            for i, learner in enumerate(learners)
        )
    return BayesTrace(
        mu=mu,
        regrets=regrets,
        realised_regrets=realised_regrets,
        type_counts=type_counts,
        types=types,
        actions=actions,
        last_strategies=tuple(learner.strategy().copy() for learner in learners),
        mu_prior_based=_prior_based(bgame.prior, history) if prior_based else None,
        feedback=feedback,
    )
