"""Batched no-regret learners: many independent learners updated by one numpy call.

A learner object holds a *batch* of independent learners of shape ``batch_shape``, each
over ``n_actions`` actions; arrays it takes and returns have shape
``batch_shape + (n_actions,)`` (written ``[..., A]``). For the Stackelberg POMDP the batch
is typically ``(n_envs, n_types)``: one learner per environment and follower type.

Round ``t`` of learner ``k``: it plays the mixed strategy ``x_t = strategy()[k]``, then
``update`` gives it the gain vector ``g_t`` (the utility every action would have earned;
full-information feedback). A boolean ``mask`` selects which learners take part in the
round; the others are left exactly as they were (this is how only the realised type's
learner is updated when types are correlated). Every learner keeps the same bookkeeping
over the rounds it took part in:

* ``cumulative_gains``: ``Σ_t g_t`` (``[..., A]``);
* ``n_updates``: the number of rounds (``[...]``);
* ``regret()``: external regret ``max_b Σ_t g_t(b) − Σ_t <x_t, g_t>`` (``[...]``).

``regret()`` is the learner's regret against the gain sequence it was given, with its own
mixed strategies (no sampling noise). If the gains were computed from the other players'
sampled actions, this is the quantity the regret bounds of :mod:`.bounds` control.

Internally every array is stored action-major (``[A, ...]``): reductions over the few
actions of a learner then run over contiguous memory, several times faster than over a
short trailing axis. Strategies are returned as read-only ``[..., A]`` views of a fresh
array per round, so a view kept by the caller never changes afterwards.

Learners: :class:`MultiplicativeWeights` (the Stackelberg POMDP paper's ``(1+ε)^u``
update), :class:`Hedge` (fixed or anytime step), :class:`RegretMatching` (and RM+),
:class:`OptimisticHedge`, and the bandit-feedback :class:`Exp3`.

**One formula, bit for bit.** The exponential-weights arithmetic lives in three small kernels,
:func:`exp_weights_strategy` (``exp((S − max_a S) η) / Σ_a``), :func:`expected_gain`
(``Σ_a x_a g_a``) and :func:`normalised_weights` (``exp((S − max S) η)`` over a table). Every
reduction over actions runs left to right (:func:`sum_actions`), so the result of a learner
does not depend on the memory layout or the batch it sits in: one learner of a batch of
10,000 gets exactly the bits it would get alone. The Stackelberg POMDP's single environment
and its batched core both run their multiplicative-weights followers through
:class:`MultiplicativeWeights` (:meth:`MultiplicativeWeights.update_rows`), which is what
makes them agree exactly.

**Fast paths.** :meth:`FullInformationLearner.update` validates its input (shape, dtype,
finiteness, mask) and never keeps a reference to the caller's array. Trusted internal
callers that already guarantee all that may call
:meth:`FullInformationLearner.update_unchecked` (no checks) or, for multiplicative weights,
:meth:`MultiplicativeWeights.update_rows` (a subset of the batch, by flat index). Strategies
are computed lazily, once per round, and only when something needs them.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence

import numpy as np

from .games import as_finite_array

__all__ = [
    "Exp3",
    "FullInformationLearner",
    "Hedge",
    "Learner",
    "MultiplicativeWeights",
    "OptimisticHedge",
    "RegretMatching",
    "exp_weights_strategy",
    "expected_gain",
    "max_actions",
    "normalised_weights",
    "sum_actions",
]


SEQUENTIAL_LOOP_ACTIONS = 8
"""Up to this many actions, reductions over actions are a Python loop of elementwise numpy
calls (cheaper than a numpy reduction call, even on big batches); above, one
``np.add.accumulate``. Both add left to right, so the choice never changes a bit."""


def sum_actions(x: np.ndarray) -> np.ndarray:
    """``Σ_a x[a]`` over axis 0, added strictly left to right: ``((x0 + x1) + x2) + ...``.

    numpy's own ``sum`` switches to pairwise summation on contiguous runs of 8 or more
    entries, so its bits depend on the layout; this never does.

    Args:
        x: ``[A, ...]`` action-major values (any strides, ``A >= 1``).

    Returns:
        ``[...]`` the sums (a fresh array, or a numpy scalar when ``x`` is 1-D).
    """
    n = x.shape[0]
    if n == 1:
        return x[0].copy()
    if n > SEQUENTIAL_LOOP_ACTIONS:
        return np.add.accumulate(x, axis=0)[-1]
    total = x[0] + x[1]
    for a in range(2, n):
        total += x[a]
    return total


def max_actions(x: np.ndarray) -> np.ndarray:
    """``max_a x[a]`` over axis 0 (exact in any order), ``[...]``; ``x`` is ``[A, ...]``."""
    n = x.shape[0]
    if x.ndim == 1 or n > SEQUENTIAL_LOOP_ACTIONS or x.size > 256:
        return x.max(axis=0)
    top = x[0].copy()
    for a in range(1, n):
        np.maximum(top, x[a], out=top)
    return top


def exp_weights_strategy(scores: np.ndarray, eta, out: np.ndarray | None = None) -> np.ndarray:
    """Exponential-weights strategies ``exp((S − max_a S) η) / Σ_a exp(...)``.

    The one formula of :class:`MultiplicativeWeights` (``η = ln(1+ε)``) and :class:`Hedge`;
    the Stackelberg POMDP's single and batched environments use it through the learner.

    Args:
        scores: ``[A, ...]`` action-major cumulative scores ``S`` (any strides; not modified).
        eta: Step ``η``: a float or a ``[...]`` array (one per learner).
        out: Optional ``[A, ...]`` array to write the result into (not ``scores``).

    Returns:
        ``[A, ...]`` mixed strategies (columns sum to 1): ``out``, or a fresh array.
    """
    x = np.subtract(scores, max_actions(scores), out=out)
    x *= eta
    np.exp(x, out=x)
    x /= sum_actions(x)
    return x


def expected_gain(
    strategy: np.ndarray, gains: np.ndarray, scratch: np.ndarray | None = None
) -> np.ndarray:
    """``<x, g> = Σ_a x_a g_a`` per learner, added left to right.

    Args:
        strategy: ``[A, ...]`` mixed strategies.
        gains: ``[A, ...]`` gains (any strides).
        scratch: Optional ``[A, ...]`` array for the products (saves an allocation).

    Returns:
        ``[...]`` the expected gains (a fresh array, or a numpy scalar for 1-D inputs).
    """
    return sum_actions(np.multiply(strategy, gains, out=scratch))


def normalised_weights(scores: np.ndarray, eta: float, axis=None) -> np.ndarray:
    """``exp((S − max S) η)``: weights divided by the largest one over ``axis`` (all if None).

    The Stackelberg POMDP paper's critic features (each weight table over its largest
    entry). ``max`` is exact, so the result does not depend on the layout.

    Args:
        scores: Cumulative scores ``S`` (any shape).
        eta: The scalar step ``η`` (``ln(1+ε)`` for multiplicative weights).
        axis: The axes that form one table (``None``: the whole array).

    Returns:
        A fresh array shaped like ``scores``, entries in ``(0, 1]``.
    """
    weights = scores - scores.max(axis=axis, keepdims=axis is not None)
    weights *= eta
    return np.exp(weights, out=weights)


def _check_batch_shape(batch_shape) -> tuple[int, ...]:
    if isinstance(batch_shape, (int, np.integer)):
        batch_shape = (batch_shape,)
    try:
        shape = tuple(batch_shape)
    except TypeError as error:
        raise TypeError(f"batch_shape must be a tuple of ints, got {batch_shape!r}") from error
    for size in shape:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"batch_shape must be a tuple of ints, got {batch_shape!r}")
        if size < 1:
            raise ValueError(f"batch_shape entries must be positive, got {batch_shape!r}")
    return tuple(int(size) for size in shape)


def _check_n_actions(n_actions) -> int:
    if not isinstance(n_actions, (int, np.integer)) or isinstance(n_actions, bool):
        raise TypeError(f"n_actions must be an int, got {n_actions!r}")
    if n_actions < 1:
        raise ValueError(f"n_actions must be at least 1, got {n_actions}")
    return int(n_actions)


def _positive_parameter(name: str, value, batch_shape: tuple[int, ...]) -> float | np.ndarray:
    """A positive step parameter: a float, or an array broadcast to ``batch_shape``."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a positive number or array, got {value!r}")
    array = as_finite_array(name, value)
    if np.any(array <= 0):
        raise ValueError(f"{name} must be positive, got {value!r}")
    if array.ndim == 0:
        return float(array)
    try:
        return np.ascontiguousarray(np.broadcast_to(array, batch_shape))
    except ValueError as error:
        raise ValueError(
            f"{name} must be a scalar or broadcastable to batch_shape {batch_shape}, "
            f"got shape {array.shape}"
        ) from error


class Learner(abc.ABC):
    """A batch of independent learners over ``n_actions`` actions (abstract base).

    Args:
        batch_shape: Shape of the batch of independent learners (``()`` for one learner).
        n_actions: Number of actions of every learner in the batch.

    Raises:
        TypeError: If ``batch_shape`` or ``n_actions`` is not made of ints.
        ValueError: If a batch size or ``n_actions`` is not positive.
    """

    def __init__(self, batch_shape: Sequence[int] | int, n_actions: int):
        self.batch_shape: tuple[int, ...] = _check_batch_shape(batch_shape)
        self.n_actions: int = _check_n_actions(n_actions)
        ndim = len(self.batch_shape)
        self._internal_shape = (self.n_actions,) + self.batch_shape
        self._gain_shape = self.batch_shape + (self.n_actions,)
        self._to_internal = (ndim,) + tuple(range(ndim))
        self._to_external = tuple(range(1, ndim + 1)) + (0,)
        self._cum_gains = np.zeros(self._internal_shape)
        self._cum_expected = np.zeros(self.batch_shape)
        self._n = np.zeros(self.batch_shape, dtype=np.int64)
        # Flat views (learners in C order), updated in place everywhere, never rebound.
        self._cum_gains_flat = self._cum_gains.reshape(self.n_actions, -1)
        self._cum_expected_flat = self._cum_expected.reshape(-1)
        self._n_flat = self._n.reshape(-1)
        self._x: np.ndarray | None = None
        self._x_exported = False  # a view of _x was handed out: never overwrite it
        self._gain_buffer = np.empty(self._internal_shape)
        self._scratch = np.empty(self._internal_shape)

    # -- subclass hooks ------------------------------------------------------------------

    @abc.abstractmethod
    def _compute_strategy(self) -> np.ndarray:
        """A fresh ``[A, ...]`` array of current mixed strategies."""

    @abc.abstractmethod
    def _reset_state(self, mask: np.ndarray | None) -> None:
        """Reset the algorithm's own state for the learners selected by ``mask``."""

    @abc.abstractmethod
    def _features(self, group_axes: tuple[int, ...]) -> np.ndarray:
        """``[A, ...]`` normalised state, normalised over ``group_axes`` of the internal layout."""

    # -- public interface ----------------------------------------------------------------

    def strategy(self) -> np.ndarray:
        """Current mixed strategies, ``[..., A]`` (read-only; rows sum to 1)."""
        view = self._strategy_internal().transpose(self._to_external)
        view.flags.writeable = False
        self._x_exported = True
        return view

    def greedy(self) -> np.ndarray:
        """``int64[...]``: the most likely action of each learner, lowest index on ties."""
        return np.argmax(self.strategy(), axis=-1)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Draw one action per learner from the current strategies (inverse CDF).

        Args:
            rng: The random generator to draw from (one uniform per learner).

        Returns:
            ``int64[...]`` actions; an action with probability 0 is never drawn.

        Raises:
            TypeError: If ``rng`` is not a ``np.random.Generator``.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a np.random.Generator, got {rng!r}")
        x = self._strategy_internal()
        running = np.zeros(self.batch_shape)
        prefix = []
        for k in range(self.n_actions):
            running = running + x[k]
            prefix.append(running)
        total = prefix[-1]
        u = np.minimum(rng.random(self.batch_shape) * total, np.nextafter(total, 0.0))
        actions = np.zeros(self.batch_shape, dtype=np.int64)
        for k in range(self.n_actions - 1):
            actions += u >= prefix[k]
        return actions

    def regret(self) -> np.ndarray:
        """External regret so far, ``[...]``: ``max_b Σ_t g_t(b) − Σ_t <x_t, g_t>``."""
        return self._cum_gains.max(axis=0) - self._cum_expected

    @property
    def cumulative_gains(self) -> np.ndarray:
        """``Σ_t g_t`` over the rounds each learner took part in, ``[..., A]`` (a copy)."""
        return self._cum_gains.transpose(self._to_external).copy()

    def cumulative_gains_view(self) -> np.ndarray:
        """``Σ_t g_t`` as a read-only ``[..., A]`` view, no copy (it changes with the learner)."""
        view = self._cum_gains.transpose(self._to_external)
        view.flags.writeable = False
        return view

    @property
    def cumulative_expected_gain(self) -> np.ndarray:
        """``Σ_t <x_t, g_t>``: what each learner's mixed strategies earned, ``[...]`` (a copy)."""
        return self._cum_expected.copy()

    @property
    def n_updates(self) -> np.ndarray:
        """``int64[...]``: the number of rounds each learner took part in (a copy)."""
        return self._n.copy()

    def reset(self, mask=None) -> None:
        """Return the selected learners to their initial state (all of them if ``mask`` is None).

        Raises:
            TypeError, ValueError: If ``mask`` is not a boolean array of shape ``batch_shape``.
        """
        mask = self._check_mask(mask)
        if mask is None:
            self._cum_gains[...] = 0.0
            self._cum_expected[...] = 0.0
            self._n[...] = 0
        else:
            self._cum_gains[:, mask] = 0.0
            self._cum_expected[mask] = 0.0
            self._n[mask] = 0
        self._reset_state(mask)
        self._x = None

    def state_features(self, group_ndim: int = 0) -> np.ndarray:
        """A normalised copy of the learners' state, for a centralised critic, ``[..., A]``.

        Args:
            group_ndim: How many trailing batch axes form one table with the action axis.
                Each table is normalised as a whole: with ``batch_shape = (n_envs, n_types)``
                and ``group_ndim=1`` every environment's ``[n_types, A]`` weight table is
                divided by its own largest entry, as the Stackelberg POMDP paper does.

        Raises:
            ValueError: If ``group_ndim`` is not in ``[0, len(batch_shape)]``.
        """
        ndim = len(self.batch_shape)
        if not isinstance(group_ndim, (int, np.integer)) or not 0 <= group_ndim <= ndim:
            raise ValueError(f"group_ndim must be an int in [0, {ndim}], got {group_ndim!r}")
        group_axes = (0,) + tuple(range(ndim - group_ndim + 1, ndim + 1))
        return np.ascontiguousarray(self._features(group_axes).transpose(self._to_external))

    # -- shared helpers ------------------------------------------------------------------

    def _strategy_internal(self) -> np.ndarray:
        if self._x is None:
            self._x = self._compute_strategy()
        return self._x

    def _check_mask(self, mask) -> np.ndarray | None:
        if mask is None:
            return None
        array = np.asarray(mask)
        if array.dtype != np.bool_:
            raise TypeError(f"mask must be a boolean array, got dtype {array.dtype}: {mask!r}")
        if array.shape != self.batch_shape:
            raise ValueError(
                f"mask must have shape batch_shape {self.batch_shape}, got {array.shape}"
            )
        return array

    def _check_gains(self, gains) -> np.ndarray:
        """Validate ``[..., A]`` gains; return them action-major ``[A, ...]`` in a buffer.

        The buffer is the learner's own and is overwritten by the next call: use it within
        the call (no reference to the caller's array is kept).
        """
        try:
            array = np.asarray(gains, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"gains must be a numeric array, got {gains!r}") from error
        if array.shape != self._gain_shape:
            raise ValueError(
                f"gains must have shape batch_shape + (n_actions,) = {self._gain_shape}, "
                f"got {array.shape}"
            )
        if not np.isfinite(array.sum()):
            self._check_finite(array)
        np.copyto(self._gain_buffer, array.transpose(self._to_internal))
        return self._gain_buffer

    @staticmethod
    def _check_finite(array: np.ndarray) -> None:
        """Raise ``ValueError`` naming the first non-finite entry of ``[..., A]`` ``array``."""
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:  # (a finite array can fail a finite-sum test only by overflowing it)
            index = tuple(int(k) for k in bad[0])
            raise ValueError(f"gains must be finite, got {array[index]} at index {index}")

    def _record(self, gains: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Add one round of ``[A, ...]`` gains to the bookkeeping; return ``<x_t, g_t>``."""
        expected = expected_gain(self._strategy_internal(), gains, self._scratch)
        if mask is None:
            self._cum_gains += gains
            self._cum_expected += expected
            self._n += 1
        else:
            self._cum_gains += gains * mask
            self._cum_expected += expected * mask
            self._n += mask
        return expected

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape}, n_actions={self.n_actions})"


class FullInformationLearner(Learner):
    """A learner that sees the gain of every action each round (abstract base).

    Subclasses implement ``_step(gains, expected, mask)``: the algorithm's own state update
    from ``[A, ...]`` gains, where ``expected = <x_t, g_t>``.
    """

    def update(self, gains, mask=None) -> None:
        """One round of full-information feedback.

        Args:
            gains: ``[..., A]`` gain of every action for every learner (counterfactual
                utilities). Entries of learners outside ``mask`` are ignored.
            mask: Optional ``bool[...]``: which learners take part. Others are untouched
                (strategy, state and bookkeeping); ``None`` means all.

        Raises:
            ValueError: If ``gains`` has the wrong shape or a NaN or infinite entry, or
                ``mask`` has the wrong shape.
            TypeError: If ``gains`` is not numeric or ``mask`` is not boolean.
        """
        gains = self._check_gains(gains)
        mask = self._check_mask(mask)
        expected = self._record(gains, mask)
        self._step(gains, expected, mask)
        self._x = None

    def update_unchecked(self, gains: np.ndarray, mask: np.ndarray | None = None) -> None:
        """:meth:`update` without any check, for trusted internal callers (hot loops).

        The caller guarantees what :meth:`update` would verify: ``gains`` is a finite
        ``float64`` array of shape ``batch_shape + (n_actions,)`` and ``mask`` is ``None`` or
        a ``bool`` array of shape ``batch_shape``. Anything else gives undefined results
        rather than an error. ``gains`` is only read during the call (no reference is kept).
        The arithmetic is exactly :meth:`update`'s.
        """
        gains = gains.transpose(self._to_internal)
        expected = self._record(gains, mask)
        self._step(gains, expected, mask)
        self._x = None

    @abc.abstractmethod
    def _step(self, gains: np.ndarray, expected: np.ndarray, mask: np.ndarray | None) -> None:
        """Update the algorithm's own state (bookkeeping is already done)."""


def _softmax_internal(logits: np.ndarray) -> np.ndarray:
    """Softmax over axis 0 of a fresh ``[A, ...]`` array, in place, stable."""
    logits -= logits.max(axis=0)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=0)
    return logits


def _exp_features(log_weights: np.ndarray, group_axes: tuple[int, ...]) -> np.ndarray:
    log_weights = log_weights - log_weights.max(axis=group_axes, keepdims=True)
    return np.exp(log_weights)


class _ExponentialWeights(FullInformationLearner):
    """Strategies ``x ∝ exp(η · scores)``, where the scores are the cumulative gains.

    Args:
        batch_shape: Batch of independent learners.
        n_actions: Number of actions.
        initial_gains: Optional ``[..., A]`` (broadcastable) offset added to the scores
            (a non-uniform starting point; not counted in the regret bookkeeping).
    """

    def __init__(self, batch_shape, n_actions, initial_gains=None):
        super().__init__(batch_shape, n_actions)
        self._strategy_buffer = np.empty(self._internal_shape)
        if initial_gains is None:
            self._initial = None
        else:
            initial = as_finite_array("initial_gains", initial_gains)
            try:
                initial = np.broadcast_to(initial, self._gain_shape)
            except ValueError as error:
                raise ValueError(
                    f"initial_gains must broadcast to {self._gain_shape}, got shape {initial.shape}"
                ) from error
            self._initial = np.ascontiguousarray(initial.transpose(self._to_internal))

    def _scores(self) -> np.ndarray:
        if self._initial is None:
            return self._cum_gains
        return self._cum_gains + self._initial

    @abc.abstractmethod
    def _eta(self) -> float | np.ndarray:
        """The step size of the coming round (a float or a ``[...]`` array)."""

    def _log_weights(self) -> np.ndarray:
        return self._scores() * self._eta()

    def _strategy_scores(self) -> np.ndarray:
        """``[A, ...]`` the scores the strategy is the softmax of (times ``η``)."""
        return self._scores()

    def _compute_strategy(self) -> np.ndarray:
        if self._x_exported:  # a caller holds a view of the last strategies: keep them
            self._strategy_buffer = np.empty(self._internal_shape)
            self._x_exported = False
        return exp_weights_strategy(self._strategy_scores(), self._eta(), self._strategy_buffer)

    def greedy(self) -> np.ndarray:
        """``int64[...]``: the action with the largest weight, lowest index on ties."""
        return np.argmax(self._scores(), axis=0)

    def _reset_state(self, mask):
        pass

    def _step(self, gains, expected, mask):
        pass  # the strategy is a function of the cumulative gains alone

    def _features(self, group_axes):
        return _exp_features(self._log_weights(), group_axes)


class MultiplicativeWeights(_ExponentialWeights):
    """The Stackelberg POMDP paper's multiplicative weights: ``w ← w · (1+ε)^g``.

    Weights start at 1 (or ``(1+ε)^initial_gains``); the strategy is ``w / Σ w``. After gains
    ``g_1..g_t`` the weights are ``Π_s (1+ε)^{g_s} = (1+ε)^{Σ_s g_s}``, so the learner stores
    the cumulative gains and works with log-weights ``ln(1+ε) Σ g`` (no overflow).
    This equals Hedge with step ``η = ln(1+ε)``. The paper uses ``ε = 0.01`` and gains
    normalised to ``[0, 1]``; the regret bound is :func:`.bounds.mw_bound`.

    Args:
        batch_shape: Batch of independent learners.
        n_actions: Number of actions.
        eps: ``ε > 0`` (a float, or an array broadcastable to ``batch_shape``).
        initial_gains: Optional ``[..., A]`` starting scores (see the base class).

    Raises:
        ValueError: If ``eps`` is not positive and finite.

    Example:
        >>> mw = MultiplicativeWeights((2, 3), 2, eps=0.5)  # 2 environments x 3 types
        >>> realised = np.array([[True, False, False], [False, False, True]])
        >>> mw.update(np.tile([1.0, 0.0], (2, 3, 1)), mask=realised)
        >>> mw.weights()[0].round(9).tolist()
        [[1.5, 1.0], [1.0, 1.0], [1.0, 1.0]]
        >>> mw.n_updates.tolist()
        [[1, 0, 0], [0, 0, 1]]
    """

    def __init__(self, batch_shape, n_actions, eps=0.01, initial_gains=None):
        super().__init__(batch_shape, n_actions, initial_gains)
        self.eps = _positive_parameter("eps", eps, self.batch_shape)
        if isinstance(self.eps, float):
            self._log_base = math.log1p(self.eps)
            self._log_base_flat = self._log_base
        else:
            self._log_base = np.log1p(self.eps)
            self._log_base_flat = self._log_base.reshape(-1)
        self._initial_flat = (
            None if self._initial is None else self._initial.reshape(self.n_actions, -1)
        )

    def _eta(self):
        return self._log_base

    def _features(self, group_axes):
        if isinstance(self._log_base, float):  # the paper's table: w / max w, as one formula
            return normalised_weights(self._scores(), self._log_base, group_axes)
        return super()._features(group_axes)

    # -- trusted fast path on a subset of the batch (the Stackelberg POMDP's followers) ----

    def _row_scores(self, rows) -> np.ndarray:
        scores = self._cum_gains_flat[:, rows]
        if self._initial_flat is not None:
            scores = scores + self._initial_flat[:, rows]
        return scores

    def _row_log_base(self, rows):
        if isinstance(self._log_base_flat, float):
            return self._log_base_flat
        return self._log_base_flat[rows]

    def strategy_rows(self, rows) -> np.ndarray:
        """Current strategies of some learners, action-major, unchecked.

        Args:
            rows: A flat learner index (an ``int``: learners numbered in C order over
                ``batch_shape``) or an ``int64[k]`` array of distinct ones, or a slice.

        Returns:
            ``[A]`` for an ``int``, else ``[A, k]``: a fresh array, the same bits as the
            matching columns of :meth:`strategy`.
        """
        return exp_weights_strategy(self._row_scores(rows), self._row_log_base(rows))

    def update_rows(self, rows, gains: np.ndarray, strategy: np.ndarray | None = None) -> None:
        """One round for the learners ``rows`` only, unchecked (trusted internal callers).

        Equivalent to :meth:`update` with ``gains`` at those learners and a mask selecting
        exactly them, bit for bit, at the cost of the selected learners only.

        Args:
            rows: As in :meth:`strategy_rows` (distinct indices).
            gains: ``[A]`` (``int`` rows) or ``[A, k]`` finite ``float64`` gains, action-major
                (a transposed ``[k, A]`` view is fine); only read during the call.
            strategy: The learners' current strategies if the caller already holds them
                (what :meth:`strategy_rows` returned since their last update), else ``None``.
        """
        scores = self._cum_gains_flat[:, rows]
        if strategy is None:
            offset = scores if self._initial_flat is None else scores + self._initial_flat[:, rows]
            strategy = exp_weights_strategy(offset, self._row_log_base(rows))
        self._cum_expected_flat[rows] += expected_gain(strategy, gains)
        self._cum_gains_flat[:, rows] = scores + gains
        self._n_flat[rows] += 1
        self._x = None

    def log_weights(self) -> np.ndarray:
        """``ln w = ln(1+ε) · scores``, ``[..., A]``."""
        return np.ascontiguousarray(self._log_weights().transpose(self._to_external))

    def weights(self) -> np.ndarray:
        """The weights in the paper's scale, ``(1+ε)^{Σ g}``, ``[..., A]``.

        Raises:
            OverflowError: If a weight exceeds the float64 range (use :meth:`log_weights`
                or :meth:`state_features` instead).
        """
        log_w = self.log_weights()
        if np.any(log_w > np.log(np.finfo(np.float64).max)):
            raise OverflowError(
                f"MW weights overflow float64 (largest log-weight {log_w.max()}); "
                f"use log_weights() or state_features()"
            )
        return np.exp(log_w)


class Hedge(_ExponentialWeights):
    """Hedge (exponential weights): ``x_t ∝ exp(η_t Σ_{s<t} g_s)``.

    Args:
        batch_shape: Batch of independent learners.
        n_actions: Number of actions ``N``.
        eta: A fixed step ``η > 0`` (float or array broadcastable to ``batch_shape``), or
            ``"anytime"`` for ``η_t = sqrt(8 ln N / t) / Δ`` where ``t`` is the learner's own
            round number (Cesa-Bianchi and Lugosi 2006, Thm 2.3; bound
            :func:`.bounds.hedge_bound` with ``eta="anytime"``).
        payoff_range: ``Δ``, the width of the gains' range (used by ``"anytime"`` only).
        initial_gains: Optional ``[..., A]`` starting scores (see the base class).

    Raises:
        ValueError: If ``eta`` or ``payoff_range`` is not positive, or ``eta`` is a string
            other than ``"anytime"``.
    """

    def __init__(self, batch_shape, n_actions, eta, payoff_range=1.0, initial_gains=None):
        super().__init__(batch_shape, n_actions, initial_gains)
        self.payoff_range = _positive_parameter("payoff_range", payoff_range, ())
        if isinstance(eta, str):
            if eta != "anytime":
                raise ValueError(f"eta must be positive or 'anytime', got {eta!r}")
            self.eta = eta
            self._anytime_scale = math.sqrt(8.0 * math.log(self.n_actions)) / self.payoff_range
        else:
            self.eta = _positive_parameter("eta", eta, self.batch_shape)

    def _eta(self):
        if isinstance(self.eta, str):
            return self._anytime_scale / np.sqrt(self._n + 1.0)
        return self.eta


class OptimisticHedge(_ExponentialWeights):
    """Optimistic Hedge: ``x_{t+1} ∝ exp(η (Σ_{s≤t} g_s + g_t))`` (last gain counted twice).

    Syrgkanis, Agarwal, Luo and Schapire (2015): it satisfies the RVU property, see
    :func:`.bounds.rvu_bound`; in self-play the CCE gap falls faster than ``1/sqrt(T)``.
    The first round predicts ``g_0 = 0`` (uniform start, or ``initial_gains``).

    Args:
        batch_shape: Batch of independent learners.
        n_actions: Number of actions.
        eta: Fixed step ``η > 0`` (float or array broadcastable to ``batch_shape``).
        initial_gains: Optional ``[..., A]`` starting scores (see the base class).

    Raises:
        ValueError: If ``eta`` is not positive and finite.
    """

    def __init__(self, batch_shape, n_actions, eta, initial_gains=None):
        super().__init__(batch_shape, n_actions, initial_gains)
        self.eta = _positive_parameter("eta", eta, self.batch_shape)
        self._last = np.zeros(self._internal_shape)

    def _eta(self):
        return self.eta

    def _log_weights(self):
        return (self._scores() + self._last) * self.eta

    def _strategy_scores(self):
        return self._scores() + self._last

    def _step(self, gains, expected, mask):
        if mask is None:
            self._last = gains.copy()  # gains may be the caller's own array (batch_shape ())
        else:
            self._last = np.where(mask, gains, self._last)

    def _reset_state(self, mask):
        if mask is None:
            self._last = np.zeros(self._internal_shape)
        else:
            self._last[:, mask] = 0.0


class RegretMatching(FullInformationLearner):
    """Regret matching (Hart and Mas-Colell 2000) and regret matching+ (Tammelin 2014).

    The learner keeps the cumulative regret vector ``Q(b) = Σ_t (g_t(b) − <x_t, g_t>)`` and
    plays ``x ∝ max(Q, 0)`` (uniform when no entry is positive). RM+ (``plus=True``) clips
    ``Q`` at 0 after every round. Both have regret at most ``Δ sqrt(N T)``
    (:func:`.bounds.rm_bound`). ``regret()`` is always the true external regret, not the
    clipped RM+ state.

    Args:
        batch_shape: Batch of independent learners.
        n_actions: Number of actions.
        plus: Use regret matching+.
    """

    def __init__(self, batch_shape, n_actions, plus: bool = False):
        super().__init__(batch_shape, n_actions)
        if not isinstance(plus, (bool, np.bool_)):
            raise TypeError(f"plus must be a bool, got {plus!r}")
        self.plus = bool(plus)
        self._q = np.zeros(self._internal_shape)

    def _compute_strategy(self):
        positive = np.maximum(self._q, 0.0)
        total = positive.sum(axis=0)
        empty = total <= 0.0
        if empty.any():  # no positive regret: play uniformly (x = 1 / N exactly)
            positive = np.where(empty, 1.0, positive)
            total = np.where(empty, float(self.n_actions), total)
        positive /= total
        return positive

    def _step(self, gains, expected, mask):
        step = gains - expected
        if mask is not None:
            step *= mask
        self._q += step
        if self.plus:
            np.maximum(self._q, 0.0, out=self._q)

    def _reset_state(self, mask):
        if mask is None:
            self._q[...] = 0.0
        else:
            self._q[:, mask] = 0.0

    def cumulative_regrets(self) -> np.ndarray:
        """The internal regret vector ``Q`` (clipped for RM+), ``[..., A]`` (a copy)."""
        return self._q.transpose(self._to_external).copy()

    def _features(self, group_axes):
        scale = np.abs(self._q).max(axis=group_axes, keepdims=True)
        return self._q / np.where(scale > 0, scale, 1.0)


class Exp3(Learner):
    """EXP3 (Auer, Cesa-Bianchi, Freund and Schapire 2002): bandit feedback.

    The learner sees only the reward of the action it played. It keeps importance-weighted
    gain estimates ``Ŝ(b) = Σ_t r̃_t 1[a_t = b] / x_t(b)`` of rewards rescaled to
    ``r̃ = (r − low) / (high − low) ∈ [0, 1]`` and plays
    ``x = (1 − γ) softmax(η Ŝ) + γ / N``. With ``η = γ / N`` (the default) its expected regret
    is at most ``(e − 1) γ T + N ln N / γ`` in rescaled units (:func:`.bounds.exp3_bound`).

    What it tracks, honestly:

    * always: ``n_updates`` and ``realised_rewards`` (``Σ_t r_t``);
    * only when the caller also passes the full counterfactual ``gains`` to
      :meth:`update_bandit` (a simulator knows them; the learner never uses them to learn):
      ``cumulative_gains``, ``regret()`` (``max_b Σ g_t(b) − Σ <x_t, g_t>``, the regret of
      its mixed strategies, whose expectation equals that of the realised regret against
      an oblivious sequence) and :meth:`realised_regret` (``max_b Σ g_t(b) − Σ r_t``).
      Calling them after an update without ``gains`` raises ``ValueError``.

    Args:
        batch_shape: Batch of independent learners.
        n_actions: Number of actions ``N``.
        gamma: Exploration rate ``γ ∈ (0, 1]``.
        eta: Step ``η > 0``; default ``γ / N``.
        reward_bounds: ``(low, high)``; rewards outside this interval are rejected.

    Raises:
        ValueError: If ``gamma`` is outside ``(0, 1]``, ``eta`` is not positive, or
            ``low >= high``.
    """

    def __init__(self, batch_shape, n_actions, gamma, eta=None, reward_bounds=(0.0, 1.0)):
        super().__init__(batch_shape, n_actions)
        gamma_value = _positive_parameter("gamma", gamma, ())
        if gamma_value > 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma = gamma_value
        self.eta = (
            self.gamma / self.n_actions
            if eta is None
            else _positive_parameter("eta", eta, self.batch_shape)
        )
        bounds = as_finite_array("reward_bounds", reward_bounds)
        if bounds.shape != (2,) or not bounds[0] < bounds[1]:
            raise ValueError(
                f"reward_bounds must be (low, high) with low < high, got {reward_bounds!r}"
            )
        self.reward_bounds = (float(bounds[0]), float(bounds[1]))
        self._estimates = np.zeros(self._internal_shape)
        self._rewards = np.zeros(self.batch_shape)
        self._blind = np.zeros(self.batch_shape, dtype=bool)

    def _compute_strategy(self):
        x = _softmax_internal(self._estimates * self.eta)
        x *= 1.0 - self.gamma
        x += self.gamma / self.n_actions
        return x

    def _reset_state(self, mask):
        if mask is None:
            self._estimates[...] = 0.0
            self._rewards[...] = 0.0
            self._blind[...] = False
        else:
            self._estimates[:, mask] = 0.0
            self._rewards[mask] = 0.0
            self._blind[mask] = False

    def _features(self, group_axes):
        return _exp_features(self._estimates * self.eta, group_axes)

    def update_bandit(self, actions, rewards, mask=None, gains=None) -> None:
        """One round of bandit feedback.

        Args:
            actions: ``int[...]`` the actions played (normally drawn by :meth:`sample`).
            rewards: ``[...]`` the rewards received, within ``reward_bounds``.
            mask: Optional ``bool[...]``: which learners take part (others untouched).
            gains: Optional ``[..., A]`` counterfactual gains, for regret bookkeeping only;
                ``gains[..., actions]`` must equal ``rewards``.

        Raises:
            ValueError: On a wrong shape, an action out of range, a NaN or out-of-bounds
                reward, or gains that disagree with the rewards.
            TypeError: If ``actions`` are not integers or ``mask`` is not boolean.
        """
        actions = np.asarray(actions)
        if actions.dtype.kind not in "iu":
            raise TypeError(f"actions must be integers, got dtype {actions.dtype}: {actions!r}")
        if actions.shape != self.batch_shape:
            raise ValueError(f"actions must have shape {self.batch_shape}, got {actions.shape}")
        if np.any((actions < 0) | (actions >= self.n_actions)):
            raise ValueError(f"actions must be in [0, {self.n_actions}), got {actions!r}")
        rewards = as_finite_array("rewards", rewards)
        if rewards.shape != self.batch_shape:
            raise ValueError(f"rewards must have shape {self.batch_shape}, got {rewards.shape}")
        low, high = self.reward_bounds
        if np.any((rewards < low) | (rewards > high)):
            raise ValueError(
                f"rewards must lie in reward_bounds {self.reward_bounds}, got min "
                f"{rewards.min()} and max {rewards.max()}"
            )
        mask = self._check_mask(mask)
        onehot = np.arange(self.n_actions).reshape((-1,) + (1,) * len(self.batch_shape)) == actions
        if gains is not None:
            gains = self._check_gains(gains)
            played = np.where(onehot, gains, 0.0).sum(axis=0)
            if not np.allclose(played, rewards, rtol=1e-12, atol=1e-12 * (high - low)):
                raise ValueError(
                    f"gains at the played actions must equal rewards; got {played!r} "
                    f"versus {rewards!r}"
                )
            self._record(gains, mask)
        x = self._strategy_internal()
        probability = np.where(onehot, x, 0.0).sum(axis=0)
        estimate = onehot * (((rewards - low) / (high - low)) / probability)
        selected = True if mask is None else mask
        if mask is None:
            self._estimates += estimate
            self._rewards += rewards
        else:
            self._estimates += estimate * mask
            self._rewards += rewards * mask
        if gains is None:
            self._blind |= selected
            self._n += selected
        self._x = None

    @property
    def realised_rewards(self) -> np.ndarray:
        """``Σ_t r_t`` over the rounds each learner took part in, ``[...]`` (a copy)."""
        return self._rewards.copy()

    def _require_gains(self, what: str) -> None:
        if np.any(self._blind):
            raise ValueError(
                f"{what} needs the counterfactual gains of every update, but "
                f"{int(self._blind.sum())} learner(s) had an update_bandit call without gains"
            )

    def regret(self) -> np.ndarray:
        """External regret of the mixed strategies, ``[...]`` (needs ``gains`` every round).

        Raises:
            ValueError: If some update had no ``gains``.
        """
        self._require_gains("regret()")
        return super().regret()

    def realised_regret(self) -> np.ndarray:
        """``max_b Σ_t g_t(b) − Σ_t r_t``, ``[...]`` (needs ``gains`` every round).

        Raises:
            ValueError: If some update had no ``gains``.
        """
        self._require_gains("realised_regret()")
        return self._cum_gains.max(axis=0) - self._rewards

    @property
    def cumulative_gains(self) -> np.ndarray:
        """``Σ_t g_t`` (needs ``gains`` every round), ``[..., A]`` (a copy).

        Raises:
            ValueError: If some update had no ``gains``.
        """
        self._require_gains("cumulative_gains")
        return super().cumulative_gains
