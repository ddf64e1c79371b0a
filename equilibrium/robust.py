"""The robust objective: the best mechanism against the worst follower model of a set.

Given a finite set of committed mechanisms (rows) and a finite set of follower models
(columns) and the leader value of every pair, ``values[m, f]``, the robust reference is

* **pure**: ``max_m min_f values[m, f]``, the best single mechanism against the worst model;
* **mixed**: ``max_{q ∈ Δ(M)} min_f Σ_m q_m values[m, f]``, the best lottery over
  mechanisms (the value of the zero-sum game in which an adversary picks the model, solved
  by :func:`~.lp.zero_sum_value` and re-checked there).

``pure <= mixed``. Any mechanism's worst column is at most ``pure``, and the worst column of
an *average* over mechanisms (e.g. a robustness table's cell, averaged over training seeds
evaluated on the same follower seeds) is at most ``mixed``: these are the table's upper
bounds. Pure maths on a matrix; the callers enumerate the mechanisms and evaluate them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrays import read_only
from .games import as_finite_array
from .lp import LP_TOL, zero_sum_value

__all__ = ["RobustResult", "robust_value"]


@dataclass(frozen=True)
class RobustResult:
    """The robust values of a ``[mechanisms, models]`` value matrix.

    Attributes:
        pure_value: ``max_m min_f values[m, f]``.
        pure_mechanism: The first row attaining it.
        worst_values: ``[M]`` each row's worst value ``min_f values[m, f]``.
        worst_models: ``int[M]`` each row's first worst column.
        mixed_value: ``max_q min_f qᵀ values[:, f]`` over distributions ``q`` on the rows.
        mixed_mechanism: ``[M]`` a maximising ``q``.
    """

    pure_value: float
    pure_mechanism: int
    worst_values: np.ndarray
    worst_models: np.ndarray
    mixed_value: float
    mixed_mechanism: np.ndarray


def robust_value(values, tol: float = LP_TOL) -> RobustResult:
    """The pure and mixed robust values of ``values[m, f]`` (module docstring).

    Args:
        values: ``[M, F]`` the leader value of mechanism ``m`` against follower model ``f``.
        tol: The zero-sum LP's re-check tolerance (:func:`~.lp.zero_sum_value`).

    Raises:
        TypeError: If ``values`` is not numeric.
        ValueError: If it is not a non-empty finite matrix.

    Example:
        >>> result = robust_value([[1.0, 0.0], [0.0, 1.0]])
        >>> result.pure_value, round(result.mixed_value, 9)
        (0.0, 0.5)
    """
    values = as_finite_array("values", values)
    if values.ndim != 2 or min(values.shape) < 1:
        raise ValueError(
            f"values must be a non-empty [mechanisms, models] matrix, got shape {values.shape}"
        )
    worst = values.min(axis=1)
    best = int(np.argmax(worst))
    mixed = zero_sum_value(values, tol=tol)
    return RobustResult(
        pure_value=float(worst[best]),
        pure_mechanism=best,
        worst_values=read_only(worst),
        worst_models=read_only(np.argmin(values, axis=1)),
        # Never below the pure value (the LP is re-checked to tol, the pure value is exact).
        mixed_value=max(float(mixed.value), float(worst[best])),
        mixed_mechanism=mixed.row_strategy,
    )
