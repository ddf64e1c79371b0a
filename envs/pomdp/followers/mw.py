"""The paper's multiplicative weights followers (``"mw"``), exactly.

Per-type weight tables, all ones at the start of an episode. A *sweep* draws and freezes a type
profile, each follower draws its current action from its realised type's row, then for every
follower ``i`` and every action ``b`` one query plays ``b`` for ``i`` and the current actions
for the others (``Σ_i A_i`` queries); then only the realised type's row is updated,
``w[θ_i, b] *= (1+ε)^{u_i(b)}``. A partial sweep left at the end is dropped.

The update is written once per execution path:

* single environment: :meth:`MultiplicativeWeightsBank.update` (Python floats: the POMDP
  updates one ``A_i``-entry row per follower per sweep, where numpy's per-call cost is most
  of the work);
* batched core: :meth:`MultiplicativeWeightsColumns.update`, which calls
  :meth:`~stackelberg_zoo.equilibrium.learners.MultiplicativeWeights.update_rows`.

Both give the bits of :class:`~stackelberg_zoo.equilibrium.learners.MultiplicativeWeights`
(``tests/test_followers.py``, ``tests/test_pomdp_fast_path.py``).

Utilities: the learners take the utilities the setting reports, unscaled. The paper's MW
assumes ``[0, 1]`` (all settings but matrix design, whose payments reach ``1 + max_payment``);
``(1+ε)^u`` is Hedge with ``η = ln(1+ε)``, so outside ``[0, 1]`` it still runs and its regret
certificate uses the observed range of the gains.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.base import (
    FollowerSpec,
    check_positive,
    check_reward_play,
    sample_list,
)
from stackelberg_zoo.envs.pomdp.followers.batched_learning import LearnerColumns
from stackelberg_zoo.envs.pomdp.followers.expectation import (
    BatchedExpectation,
    ExpectationResponder,
)
from stackelberg_zoo.envs.pomdp.followers.learning import LearnerBank, SweepResponse
from stackelberg_zoo.equilibrium import bounds
from stackelberg_zoo.equilibrium.learners import (
    MultiplicativeWeights,
    exp_weights_strategy,
    normalised_weights,
)


def relative_exps(groups: list[list[float]], eta: float) -> list[list[float]]:
    """Per group of scores ``S``, ``exp((S - max S) · η)``, on Python floats, one numpy call.

    The shared kernel of :func:`~stackelberg_zoo.equilibrium.learners.exp_weights_strategy`
    and :func:`~stackelberg_zoo.equilibrium.learners.normalised_weights`, with their bits:
    subtraction and product are single IEEE-754 double operations in numpy and in Python
    alike, and ``max`` is exact; only the exponential stays numpy's (``math.exp`` may differ
    in the last bit), one call on the concatenation (it is elementwise, so each entry gets the
    bits of a call per group). On a handful of entries this is several times faster than the
    numpy functions, whose per-call cost dominates there.
    """
    scaled: list[float] = []
    for scores in groups:
        top = max(scores)
        for score in scores:
            scaled.append((score - top) * eta)
    x = np.array(scaled)
    values = np.exp(x, x).tolist()
    if len(groups) == 1:
        return [values]
    out, start = [], 0
    for scores in groups:
        end = start + len(scores)
        out.append(values[start:end])
        start = end
    return out


def normalised(weights: list[float]) -> list[float]:
    """``weights`` divided by their sum, added left to right (``exp_weights_strategy``'s step).

    Never ``sum()``, which may compensate.
    """
    total = weights[0]
    for weight in weights[1:]:
        total += weight
    return [weight / total for weight in weights]


def exp_weights_list(scores: list[float], eta: float) -> list[float]:
    """``exp_weights_strategy`` of one learner's ``[A]`` scores, on Python floats, same bits."""
    return normalised(relative_exps([scores], eta)[0])


def float32_array(groups: list[list[float]]) -> np.ndarray:
    """The groups concatenated, as ``float32`` (the same rounding as ``astype``)."""
    return np.array([v for group in groups for v in group], dtype=np.float32)


MW_FORMS = ("sweep", "expectation")
"""The MW update forms: the paper's v4 sweeps and the authors' current exact expectation."""


class MultiplicativeWeightsBank(LearnerBank):
    """The paper's MW for one environment, on Python floats, bit for bit the learner's.

    Per follower ``i`` and type ``t`` it keeps what
    :class:`~stackelberg_zoo.equilibrium.learners.MultiplicativeWeights` keeps: the cumulative
    gains ``S[i][t]`` (``A_i`` floats), the cumulative expected gain ``E[i][t]`` and the round
    count ``N[i][t]``, as Python numbers: the POMDP updates one ``A_i``-entry row per follower
    per sweep, where numpy's per-call cost is most of the work. The update is the learner's
    (``S += g``, ``E += Σ_a x_a g_a`` added left to right, ``N += 1``), the hot strategy is
    :func:`exp_weights_list` (the same bits as ``exp_weights_strategy``), and the reads
    (:meth:`strategy`, :meth:`features`, ...) rebuild arrays and call the equilibrium module's
    own functions. So this bank, the learner and the batched kernel
    (:class:`MultiplicativeWeightsColumns`, which runs the learner on ``(B, T_i)`` batches)
    agree bit for bit (``tests/test_followers.py``).
    """

    def __init__(self, spec: FollowerSpec, eps: float):
        self.eps = eps
        self.n_types = spec.n_types
        self.n_actions = spec.n_actions
        # η = ln(1+ε), from ε as a float (as the learner's own float conversion).
        self._log_base = math.log1p(float(eps))
        self.reset()

    def reset(self):
        """See :meth:`~.learning.LearnerBank.reset`."""
        self._scores = [
            [[0.0] * a for _ in range(t)] for t, a in zip(self.n_types, self.n_actions, strict=True)
        ]
        self._expected = [[0.0] * t for t in self.n_types]
        self._counts = [[0] * t for t in self.n_types]
        # Current strategies per (follower, type), until that learner's next update, and the
        # critic features until the next update of any.
        self._rows: dict[tuple[int, int], list[float]] = {}
        self._features: np.ndarray | None = None

    def _feature_tables(self) -> list[list[float]]:
        """Per follower, its score table flattened in C order (one features group each)."""
        return [[s for row in scores for s in row] for scores in self._scores]

    def _row_list(self, i: int, t: int) -> list[float]:
        row = self._rows.get((i, t))
        if row is None:
            row = self._rows[(i, t)] = exp_weights_list(self._scores[i][t], self._log_base)
        return row

    def row(self, i, t):
        """See :meth:`~.learning.LearnerBank.row`."""
        return np.array(self._row_list(i, t))

    def sample(self, i, t, rng):
        """See :meth:`~.learning.LearnerBank.sample`."""
        return sample_list(self._row_list(i, t), rng)

    def sample_profile(self, types, rng):
        """See :meth:`~.learning.LearnerBank.sample_profile`."""
        rows = self._rows
        missing = []
        for key in enumerate(types):
            if key not in rows:
                missing.append(key)
        if missing:  # one exp for the strategies not known yet and, if stale, the features
            groups = [self._scores[i][t] for i, t in missing]
            stale = self._features is None
            if stale:
                groups += self._feature_tables()
            exps = relative_exps(groups, self._log_base)
            for key, weights in zip(missing, exps, strict=False):  # exps may go on
                rows[key] = normalised(weights)
            if stale:
                self._features = float32_array(exps[len(missing) :])
        current = []
        for key in enumerate(types):
            current.append(sample_list(rows[key], rng))
        return current

    def update(self, i, t, gains):
        """The paper's MW update of learner ``(i, t)``: the single environment's one place.

        ``S += g``, ``E += Σ_a x_a g_a`` (added left to right), ``N += 1``, on Python floats;
        ``gains`` is the sweep's list of Python floats (any other sequence is converted).
        """
        if type(gains) is not list:
            gains = [float(g) for g in gains]
        row = self._rows.pop((i, t), None)
        if row is None:
            row = exp_weights_list(self._scores[i][t], self._log_base)
        products = list(map(operator.mul, row, gains))
        expected = products[0]  # expected_gain: the products added left to right
        for product in products[1:]:
            expected += product
        self._expected[i][t] += expected
        self._scores[i][t] = list(map(operator.add, self._scores[i][t], gains))
        self._counts[i][t] += 1
        self._features = None

    def frozen(self):
        """See :meth:`~.learning.LearnerBank.frozen`."""
        # A copy of the Python state (cheap); its readings are computed only if asked for.
        # The per-type score lists are never mutated in place (update() replaces them).
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._scores = [list(table) for table in self._scores]
        copy._expected = [list(values) for values in self._expected]
        copy._counts = [list(values) for values in self._counts]
        copy._rows = {}
        copy._features = None
        return copy

    def _table(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` follower ``i``'s cumulative gains (a fresh array)."""
        return np.array(self._scores[i], dtype=np.float64).reshape(
            self.n_types[i], self.n_actions[i]
        )

    def weights(self, i: int) -> np.ndarray:
        """``[T_i, A_i]`` the weight table in the paper's scale, ``(1+ε)^{Σ g}``.

        Raises:
            OverflowError: If a weight exceeds the float64 range.
        """
        log_w = self._table(i) * self._log_base
        if np.any(log_w > np.log(np.finfo(np.float64).max)):
            raise OverflowError(
                f"MW weights overflow float64 (largest log-weight {log_w.max()}); "
                f"use features() instead"
            )
        return np.exp(log_w)

    def strategy(self, i):
        """See :meth:`~.learning.LearnerBank.strategy`."""
        # The learner's formula on its action-major layout [A_i, T_i].
        scores = np.ascontiguousarray(self._table(i).T)
        return np.ascontiguousarray(exp_weights_strategy(scores, self._log_base).T)

    def greedy(self, i):
        """See :meth:`~.learning.LearnerBank.greedy`."""
        return np.argmax(self._table(i), axis=1)

    def regret(self, i):
        """See :meth:`~.learning.LearnerBank.regret`."""
        return self._table(i).max(axis=1) - np.array(self._expected[i], dtype=np.float64)

    def cumulative_gains(self, i):
        """See :meth:`~.learning.LearnerBank.cumulative_gains`."""
        return self._table(i)

    def counts(self, i):
        """See :meth:`~.learning.LearnerBank.counts`."""
        return np.array(self._counts[i], dtype=np.int64)

    def features(self, i):
        """See :meth:`~.learning.LearnerBank.features`."""
        return normalised_weights(self._table(i), self._log_base)

    def all_features(self):
        """See :meth:`~.learning.LearnerBank.all_features`."""
        # The same bits as the base class's concatenation of features(i) (normalised_weights
        # per table, cast to float32), on Python floats and one exp; usually computed already
        # by sample_profile, with the strategies, in the same exp.
        if self._features is None:
            self._features = float32_array(relative_exps(self._feature_tables(), self._log_base))
        return self._features

    def greedy_lists(self) -> list[list[int]]:
        """:meth:`greedy` of every follower, as lists (the first largest score per type)."""
        return [[row.index(max(row)) for row in scores] for scores in self._scores]


class MultiplicativeWeightsColumns(LearnerColumns):
    """The batched kernel's MW learners of one follower: one learner with batch ``(B, T_i)``.

    Strategies and updates touch the selected learners only
    (:meth:`~stackelberg_zoo.equilibrium.learners.MultiplicativeWeights.strategy_rows`,
    :meth:`~stackelberg_zoo.equilibrium.learners.MultiplicativeWeights.update_rows`), whose
    reductions over actions run left to right, so a learner's bits do not depend on the
    batch it sits in.

    Args:
        num_envs: ``B``.
        n_types: ``T_i``.
        n_actions: ``A_i``.
        eps: ``ε``.
    """

    def __init__(self, num_envs: int, n_types: int, n_actions: int, eps: float):
        super().__init__(num_envs, n_types, n_actions)
        self.learner = MultiplicativeWeights((num_envs, n_types), n_actions, eps=eps)
        self.log_base = math.log1p(eps)

    def reset(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.reset`."""
        copies = np.zeros(self.num_envs, dtype=bool)
        copies[index] = True
        self.learner.reset(np.repeat(copies[:, None], self.n_types, axis=1))

    def rows(self, flat):
        """See :meth:`~.batched_learning.LearnerColumns.rows`."""
        return self.learner.strategy_rows(flat).T

    def update(self, flat, gains):
        """The paper's MW update of learners ``flat``: the batched core's one place."""
        self.learner.update_rows(flat, gains.T)

    def features(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.features`."""
        scores = self.learner.cumulative_gains_view()[self.select(index)]
        scores = scores.reshape(index.size, -1)
        return normalised_weights(scores, self.log_base, axis=1)

    def strategies(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.strategies`."""
        rows = (index[:, None] * self.n_types + np.arange(self.n_types)).reshape(-1)
        strategy = self.learner.strategy_rows(rows).T  # [k * T_i, A_i]
        return strategy.reshape(index.size, self.n_types, -1)

    def greedy(self, index):
        """See :meth:`~.batched_learning.LearnerColumns.greedy`."""
        return np.argmax(self.learner.cumulative_gains_view()[self.select(index)], axis=2)

    def counts(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.counts`."""
        return self.learner.n_updates[b]

    def cumulative_gains(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.cumulative_gains`."""
        return self.learner.cumulative_gains_view()[b].copy()

    def regret(self, b):
        """See :meth:`~.batched_learning.LearnerColumns.regret`."""
        return self.learner.regret()[b]


@dataclass(frozen=True)
class MultiplicativeWeightsResponse(SweepResponse):
    """The paper's multiplicative weights (``"mw"``), in the v4 sweep form or the expectation form.

    Args:
        eps: ``ε > 0``: ``w[θ, b] *= (1+ε)^{u(b)}``; the paper's 0.01 (the authors' current
            protocol uses 0.1 with ``form="expectation"``).
        reward_play: ``"argmax"`` (paper), ``"sample"`` or ``"empirical"``.
        form: ``"sweep"``: the paper's v4 counterfactual sweeps (``Σ_i A_i`` queries per
            update, bit for bit the v4 dynamics); ``"expectation"``: the authors' current
            exact-expectation update (one type profile per update, every joint action profile
            played once, gains in expectation over the others' current mixed strategies;
            :mod:`.expectation`).
    """

    eps: float = 0.01
    reward_play: str = "argmax"
    form: str = "sweep"
    name = "mw"

    def __post_init__(self):
        check_positive("eps", self.eps)
        check_reward_play(self.reward_play)
        if self.form not in MW_FORMS:
            raise ValueError(f"form must be one of {MW_FORMS}, got {self.form!r}")

    def build(self, spec, n_response):
        """The sweep responder (``form="sweep"``) or the expectation responder."""
        if self.form == "sweep":
            return super().build(spec, n_response)
        return ExpectationResponder(
            spec, n_response, self.bank(spec), self.reward_play, self.regret_bound
        )

    def batched(self, spec, n_response, num_envs, draw, record):
        """The sweeps or the exact-expectation updates for ``num_envs`` copies."""
        if self.form == "sweep":
            return super().batched(spec, n_response, num_envs, draw, record)
        return BatchedExpectation(
            spec,
            n_response,
            num_envs,
            draw,
            record,
            learners=self.batch_learners(spec, num_envs),
            reward_play=self.reward_play,
            bound_fn=self.regret_bound,
            description=repr(self),
        )

    def learner(self, batch_shape, n_actions):
        """MW learners with this ``ε``."""
        return MultiplicativeWeights(batch_shape, n_actions, eps=self.eps)

    def regret_bound(self, rounds, n_actions, payoff_range):
        """:func:`~stackelberg_zoo.equilibrium.bounds.mw_bound`."""
        return bounds.mw_bound(rounds, n_actions, self.eps, payoff_range)

    def bank(self, spec):
        """The single environment's Python-float MW bank (the same bits as the learner)."""
        return MultiplicativeWeightsBank(spec, self.eps)

    def batch_learners(self, spec, num_envs):
        """The batched kernel's MW columns, one per follower."""
        return [
            MultiplicativeWeightsColumns(num_envs, t, a, self.eps)
            for t, a in zip(spec.n_types, spec.n_actions, strict=True)
        ]
