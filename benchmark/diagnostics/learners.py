"""The diagnostics' own minimal learners: small, seeded numpy code, one object per run.

These are *not* the suite's follower models: the Stackelberg POMDP's followers
(``stackelberg_zoo.envs.pomdp.followers``) are a batched API built around the settings'
induced Bayesian games. The diagnostics need three textbook learners on 2-action games,
written here so that every update can be checked by hand:

* :class:`SoftmaxReinforce`: a tabular softmax policy (one row of 2 logits per observation)
  trained by REINFORCE with a running-mean baseline: after an episode with return ``G``,
  ``logits[o] += lr * (G - b) * (onehot(a_o) - pi(o))`` for every observation ``o`` whose
  action ``a_o`` was sampled, then ``b += baseline_step * (G - b)``.
* :class:`TabularQ`: a stateless Q-learner for a one-shot game (each game is terminal, so
  ``Q[a] += alpha * (r - Q[a])``), exploring by Boltzmann sampling
  ``P(a) ∝ exp(Q[a] / temperature)``, playing greedily (ties uniformly at random) when asked.
* :func:`pretrain_contextual_follower`: a contextual REINFORCE follower for the repeated
  prisoner's dilemma; see its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .games import N_STATES, N_TABLES, Bimatrix, follower_values, memory_one_game


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (numerically stable)."""
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not (
        isinstance(value, int | float) and np.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


class SoftmaxReinforce:
    """A tabular softmax leader policy trained by REINFORCE with a running-mean baseline.

    Args:
        n_observations: Rows of the logit table (one per distinct leader observation).
        lr: Step size on the logits.
        baseline_step: Step of the running-mean baseline (0 < step <= 1).
        n_actions: Actions per observation.
    """

    def __init__(self, n_observations: int, lr: float, baseline_step: float = 0.05,
                 n_actions: int = 2):  # fmt: skip
        if not (isinstance(n_observations, int) and n_observations >= 1):
            raise ValueError(f"n_observations must be a positive integer, got {n_observations!r}")
        self.lr = _positive("lr", lr)
        self.baseline_step = _positive("baseline_step", baseline_step)
        if self.baseline_step > 1:
            raise ValueError(f"baseline_step must be in (0, 1], got {baseline_step!r}")
        self.logits = np.zeros((n_observations, n_actions))
        self.baseline = 0.0

    def probabilities(self) -> np.ndarray:
        """``[n_observations, n_actions]`` the current policy."""
        return softmax(self.logits)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One action per observation (sampled once per episode and then reused)."""
        p = self.probabilities()
        u = rng.random(p.shape[0])
        drawn = (u[:, None] >= np.cumsum(p, axis=1)).sum(axis=1)
        return np.minimum(drawn, p.shape[1] - 1)  # a cumulative sum that rounds below 1

    def greedy(self) -> np.ndarray:
        """The most probable action per observation (lowest index on ties)."""
        return np.argmax(self.logits, axis=1)

    def update(self, actions: np.ndarray, episode_return: float) -> None:
        """One REINFORCE step on every observation's sampled action, then the baseline."""
        p = self.probabilities()
        onehot = np.eye(self.logits.shape[1])[actions]
        self.logits += self.lr * (episode_return - self.baseline) * (onehot - p)
        self.baseline += self.baseline_step * (episode_return - self.baseline)


class TabularQ:
    """A stateless Q-learning follower for a one-shot game with Boltzmann exploration.

    Args:
        n_actions: The follower's actions.
        alpha: Learning rate of ``Q[a] += alpha * (r - Q[a])``.
        temperature: Boltzmann temperature of exploration, ``P(a) ∝ exp(Q[a] / temperature)``.
    """

    def __init__(self, n_actions: int, alpha: float, temperature: float):
        if not (isinstance(n_actions, int) and n_actions >= 1):
            raise ValueError(f"n_actions must be a positive integer, got {n_actions!r}")
        self.alpha = _positive("alpha", alpha)
        if self.alpha > 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        self.temperature = _positive("temperature", temperature)
        self.q = np.zeros(n_actions)

    def reset(self) -> None:
        """All action values back to 0 (the start of a Stackelberg POMDP episode)."""
        self.q[:] = 0.0

    def explore(self, rng: np.random.Generator) -> int:
        """A Boltzmann-sampled action (the response phase)."""
        p = softmax(self.q / self.temperature)
        return int(min(np.searchsorted(np.cumsum(p), rng.random(), side="right"), p.size - 1))

    def greedy(self, rng: np.random.Generator) -> int:
        """The greedy action, ties broken uniformly at random (the reward phase)."""
        best = np.flatnonzero(self.q == self.q.max())
        return int(best[0] if best.size == 1 else rng.choice(best))

    def update(self, action: int, reward: float) -> None:
        """One Q-learning step on the action played."""
        self.q[action] += self.alpha * (reward - self.q[action])


@dataclass(frozen=True)
class ContextualFollower:
    """A pretrained contextual follower of the repeated prisoner's dilemma.

    Attributes:
        logits: ``[32, 5, 2]`` per leader table (the context) and state, the logits of C, D.
        iterations: Training iterations run.
        max_regret: Largest exact regret (per-stage mean utility) of the stochastic policy
            over the 32 contexts when training stopped.
        greedy_max_regret: The same for the greedy policy (what the follower plays).
        reached: Whether ``max_regret <= target`` was reached within the iteration cap.
    """

    logits: np.ndarray
    iterations: int
    max_regret: float
    greedy_max_regret: float
    reached: bool

    def response(self, context: int) -> int:
        """The follower's greedy table (its reward-phase play) given the leader's table."""
        bits = np.argmax(self.logits[context], axis=1)
        return int(bits @ (1 << np.arange(N_STATES)))


def contextual_regret(game: Bimatrix, stages: int, defect_probs: np.ndarray) -> np.ndarray:
    """``[32]`` exact regret of a ``[32, 5]`` contextual policy against each leader table."""
    _, follower = memory_one_game(game, stages)
    best = follower.max(axis=1)
    return best - follower_values(game, np.arange(N_TABLES), defect_probs, stages)


def pretrain_contextual_follower(game: Bimatrix, stages: int, rng: np.random.Generator, *,
                                 lr: float = 0.02, target: float = 0.25, batch: int = 64,
                                 max_iterations: int = 20_000, check_every: int = 50,
                                 ) -> ContextualFollower:  # fmt: skip
    """Train a contextual best responder by REINFORCE on random commitment tables.

    Each iteration draws ``batch`` leader tables uniformly at random (the contexts: the
    leader's answers at its 5 states, which the follower sees), plays one ``stages``-stage
    game per context with the follower sampling from ``softmax(logits[context, state])``,
    and steps ``logits[context, state] += lr * (G - V(context)) * (onehot(a) - pi)`` for every
    visited (state, action), where ``G`` is the follower's per-stage mean utility and the
    baseline ``V(context)`` is the current policy's exact value. Training stops once the exact
    largest regret over the 32 contexts is at most ``target`` (checked every
    ``check_every`` iterations) or after ``max_iterations``.
    """
    _positive("lr", lr)
    _, follower_matrix = memory_one_game(game, stages)
    best = follower_matrix.max(axis=1)
    logits = np.zeros((N_TABLES, N_STATES, 2))
    all_tables = np.arange(N_TABLES)

    def regrets(p_defect):
        return best - follower_values(game, all_tables, p_defect, stages)

    iteration = 0
    max_regret = float(regrets(softmax(logits)[..., 1]).max())
    while max_regret > target and iteration < max_iterations:
        for _ in range(check_every):
            p_all = softmax(logits)
            values = follower_values(game, all_tables, p_all[..., 1], stages)
            ctx = rng.integers(0, N_TABLES, size=batch)
            bits = (ctx[:, None] >> np.arange(N_STATES)) & 1
            state = np.zeros(batch, dtype=int)
            visits, total = [], np.zeros(batch)
            for _ in range(stages):
                p = p_all[ctx, state]  # [batch, 2]
                action = (rng.random(batch) < p[:, 1]).astype(int)
                lead = bits[np.arange(batch), state]
                total += game.follower[lead, action]
                visits.append((state, action, p))
                state = 1 + 2 * lead + action
            advantage = total / stages - values[ctx]
            for s, a, p in visits:
                step = lr * advantage[:, None] * (np.eye(2)[a] - p)
                np.add.at(logits, (ctx, s), step)
            iteration += 1
        max_regret = float(regrets(softmax(logits)[..., 1]).max())
    greedy = np.argmax(logits, axis=2).astype(float)
    return ContextualFollower(
        logits=logits,
        iterations=iteration,
        max_regret=max_regret,
        greedy_max_regret=float(regrets(greedy).max()),
        reached=max_regret <= target,
    )
