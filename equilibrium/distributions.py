"""Joint distributions over action (and type) profiles, built from play or from strategies.

Every equilibrium gap in :mod:`.gaps` is a function of a *joint* distribution: ``μ[A_1..A_n]``
over action profiles (complete information) or ``μ[T_1..T_n, A_1..A_n]`` over type and action
profiles (Bayesian games). This module builds those arrays from the usual raw material:

* realised play, ``actions[t, i]`` (and ``types[t, i]``): the empirical distribution of the
  sampled profiles;
* per-round mixed strategies: the mixture of per-round product distributions
  ``(1/T) Σ_t ⊗_i x_i^t``, which is what the regret identities are about;
* a single product profile (a Nash candidate) or a type-contingent profile with its prior
  (a Bayes-Nash candidate).

All builders validate their input and raise ``ValueError``/``TypeError`` naming the value
received. They are vectorised: ``T = 10^5`` rounds cost a few bincounts and matrix products,
never a Python loop over rounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .games import as_finite_array, check_distribution, check_tolerance

STRATEGY_TOL = 1e-9
"""How far a mixed strategy's entries may fall below 0, or its total stray from 1."""

_CHUNK_ELEMENTS = 1 << 21
"""Largest intermediate array (in entries) built per chunk of rounds in a sum of products."""


def _sizes(name: str, value, expected_len: int | None = None) -> tuple[int, ...]:
    """Validate a sequence of positive integer sizes (numbers of actions or types)."""
    if isinstance(value, (int, np.integer)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}")
    sizes = []
    for k in value:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"{name} must contain integers, got {value!r}")
        if k < 1:
            raise ValueError(f"{name} must contain positive integers, got {value!r}")
        sizes.append(int(k))
    if not sizes:
        raise ValueError(f"{name} must name at least one player, got {value!r}")
    if expected_len is not None and len(sizes) != expected_len:
        raise ValueError(f"{name} must have {expected_len} entries, got {value!r}")
    return tuple(sizes)


def _index_array(name: str, value, sizes: tuple[int, ...]) -> np.ndarray:
    """Validate ``int[T, n]`` indices with column ``i`` in ``[0, sizes[i])``."""
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] != len(sizes):
        raise ValueError(f"{name} must have shape [T, {len(sizes)}], got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one round, got shape {array.shape}")
    low, high = array.min(axis=0), array.max(axis=0)
    for i, size in enumerate(sizes):
        if low[i] < 0 or high[i] >= size:
            bad = low[i] if low[i] < 0 else high[i]
            raise ValueError(f"{name}[:, {i}] must lie in [0, {size}), got {bad}")
    return array.astype(np.intp, copy=False)


def _strategy_rows(name: str, value, shape: tuple[int, ...], tol: float) -> np.ndarray:
    """Validate an array of mixed strategies (distributions along the last axis)."""
    tol = check_tolerance("tol", tol)
    array = as_finite_array(name, value)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {list(shape)}, got {array.shape}")
    if array.size and array.min() < -tol:
        index = np.unravel_index(np.argmin(array), array.shape)
        raise ValueError(
            f"{name} must be non-negative, got {array[index]} at index "
            f"{tuple(int(k) for k in index)}"
        )
    totals = array @ np.ones(shape[-1])  # a matrix product: far faster than a short-axis sum
    error = np.abs(totals - 1.0)
    if error.size and error.max() > tol * shape[-1]:
        index = np.unravel_index(np.argmax(error), error.shape)
        raise ValueError(
            f"{name} must sum to 1 along its last axis, got total {totals[index]} at index "
            f"{tuple(int(k) for k in index)}"
        )
    return array


def _sum_of_products(factors: Sequence[np.ndarray]) -> np.ndarray:
    """``Σ_t ⊗_j factors[j][t]`` for factors of shape ``[T, K_j]``; returns ``[K_1..K_m]``.

    The first ``m - 1`` factors are multiplied out per round, in chunks of rounds small
    enough to bound memory, and the last one is contracted with a matrix product.
    """
    shape = tuple(f.shape[1] for f in factors)
    if len(factors) == 1:
        return factors[0].sum(axis=0)
    n_rounds = factors[0].shape[0]
    head_size = math.prod(shape[:-1])
    chunk = max(1, _CHUNK_ELEMENTS // head_size)
    total = np.zeros((head_size, shape[-1]))
    for start in range(0, n_rounds, chunk):
        rows = slice(start, start + chunk)
        head = factors[0][rows]
        for factor in factors[1:-1]:
            part = factor[rows]
            head = (head[:, :, None] * part[:, None, :]).reshape(head.shape[0], -1)
        total += head.T @ factors[-1][rows]
    return total.reshape(shape)


def joint_from_samples(actions, n_actions: Sequence[int]) -> np.ndarray:
    """Empirical distribution of sampled action profiles, ``(1/T) Σ_t δ_{a^t}``.

    Args:
        actions: ``int[T, n]``; ``actions[t, i]`` is player ``i``'s action in round ``t``.
        n_actions: Number of actions of each player, length ``n``.

    Returns:
        ``[A_1, ..., A_n]`` joint distribution (sums to 1).

    Raises:
        TypeError: If ``actions`` is not an integer array or ``n_actions`` not integers.
        ValueError: On a shape mismatch, no rounds, or an action out of range.

    Example:
        >>> joint_from_samples([[0, 1], [0, 1], [1, 0], [0, 1]], (2, 2)).tolist()
        [[0.0, 0.75], [0.25, 0.0]]
    """
    n_actions = _sizes("n_actions", n_actions)
    actions = _index_array("actions", actions, n_actions)
    flat = np.ravel_multi_index(tuple(actions.T), n_actions)
    counts = np.bincount(flat, minlength=math.prod(n_actions))
    return (counts / actions.shape[0]).reshape(n_actions)


def joint_from_profiles(strategies: Sequence, tol: float = STRATEGY_TOL) -> np.ndarray:
    """Mixture of per-round product distributions, ``(1/T) Σ_t ⊗_i x_i^t``.

    This is the distribution of the action profile of a uniformly random round when every
    player ``i`` independently samples from its round-``t`` strategy ``x_i^t``. With expected
    (full-information) feedback, each player's CCE gap under it equals that player's average
    external regret exactly (:func:`.gaps.cce_gap`).

    It is **not** the product of the time-averaged marginals ``⊗_i (1/T) Σ_t x_i^t``: that
    product forgets how the players' strategies moved *together* over time (e.g. two players
    alternating in step between (0, 0) and (1, 1) have a correlated mixture, but uncorrelated
    averaged marginals), and no-regret theorems say nothing about it outside two-player
    zero-sum games.

    Args:
        strategies: One array per player, ``[T, A_i]``; row ``t`` is player ``i``'s mixed
            strategy in round ``t``. All players share the same ``T``.
        tol: Allowed slack on non-negativity and on each row summing to 1.

    Returns:
        ``[A_1, ..., A_n]`` joint distribution.

    Raises:
        TypeError: If an entry is not numeric.
        ValueError: If the arrays are not 2-D with a common ``T >= 1``, or a row is not a
            probability vector within ``tol``.

    Example:
        >>> x = np.array([[1.0, 0.0], [0.0, 1.0]])   # plays 0, then 1
        >>> joint_from_profiles([x, x]).tolist()       # correlated: never (0, 1)
        [[0.5, 0.0], [0.0, 0.5]]
    """
    factors = _per_round_strategies(strategies, tol)
    return _sum_of_products(factors) / factors[0].shape[0]


def _per_round_strategies(strategies: Sequence, tol: float) -> list[np.ndarray]:
    if isinstance(strategies, np.ndarray) or not isinstance(strategies, Sequence):
        raise TypeError(
            f"strategies must be a list with one [T, A_i] array per player, got "
            f"{type(strategies).__name__}"
        )
    if len(strategies) == 0:
        raise ValueError("strategies must hold at least one player, got an empty list")
    factors = []
    for i, x in enumerate(strategies):
        x = as_finite_array(f"strategies[{i}]", x)
        if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"strategies[{i}] must have shape [T, A_{i}], got {x.shape}")
        factors.append(_strategy_rows(f"strategies[{i}]", x, x.shape, tol))
    rounds = [x.shape[0] for x in factors]
    if len(set(rounds)) != 1:
        raise ValueError(f"every player's strategies must cover the same T rounds, got {rounds}")
    return factors


def bayes_joint_from_samples(
    types, actions, n_types: Sequence[int], n_actions: Sequence[int]
) -> np.ndarray:
    """Empirical distribution of sampled (type profile, action profile) pairs.

    Args:
        types: ``int[T, n]``; ``types[t, i]`` is player ``i``'s type in round ``t``.
        actions: ``int[T, n]``; the actions taken in the same rounds.
        n_types: Number of types of each player, length ``n``.
        n_actions: Number of actions of each player, length ``n``.

    Returns:
        ``[T_1..T_n, A_1..A_n]`` joint distribution. Its type marginal is the empirical type
        frequency, not the prior.

    Raises:
        TypeError: If an index array is not integer or a size list not integers.
        ValueError: On shape mismatches, no rounds, or indices out of range.
    """
    n_types = _sizes("n_types", n_types)
    n_actions = _sizes("n_actions", n_actions, expected_len=len(n_types))
    types = _index_array("types", types, n_types)
    actions = _index_array("actions", actions, n_actions)
    if types.shape[0] != actions.shape[0]:
        raise ValueError(
            f"types and actions must cover the same rounds, got {types.shape[0]} and "
            f"{actions.shape[0]}"
        )
    shape = n_types + n_actions
    flat = np.ravel_multi_index(tuple(np.concatenate([types, actions], axis=1).T), shape)
    counts = np.bincount(flat, minlength=math.prod(shape))
    return (counts / types.shape[0]).reshape(shape)


def bayes_joint_from_strategies(
    types,
    strategies: Sequence,
    n_types: Sequence[int],
    n_actions: Sequence[int],
    tol: float = STRATEGY_TOL,
) -> np.ndarray:
    """``(1/T) Σ_t δ_{θ^t} ⊗ Π_j x_j^t(·|θ_j^t)``: realised types, mixed actions.

    The Bayesian analogue of :func:`joint_from_profiles`: in round ``t`` the type profile
    ``θ^t`` is realised and each player ``j`` mixes with its current strategy for its realised
    type. With per-(player, type) learners and expected feedback, the single-type deviation
    gains of this distribution equal the per-type average regrets
    (:func:`.gaps.deviation_table`).

    Args:
        types: ``int[T, n]`` realised type profiles.
        strategies: One array per player, ``[T, T_j, A_j]``; ``strategies[j][t, θ_j]`` is
            player ``j``'s mixed strategy at type ``θ_j`` in round ``t`` (rows of unrealised
            types are validated but do not enter the result).
        n_types: Number of types of each player.
        n_actions: Number of actions of each player.
        tol: Allowed slack on non-negativity and on each row summing to 1.

    Returns:
        ``[T_1..T_n, A_1..A_n]`` joint distribution whose type marginal is the empirical
        type frequency.

    Raises:
        TypeError: On non-integer types or non-numeric strategies.
        ValueError: On shape mismatches, indices out of range, or invalid strategy rows.
    """
    n_types = _sizes("n_types", n_types)
    n_actions = _sizes("n_actions", n_actions, expected_len=len(n_types))
    types = _index_array("types", types, n_types)
    n_rounds, n = types.shape
    if isinstance(strategies, np.ndarray) or not isinstance(strategies, Sequence):
        raise TypeError(
            f"strategies must be a list with one [T, T_j, A_j] array per player, got "
            f"{type(strategies).__name__}"
        )
    if len(strategies) != n:
        raise ValueError(f"strategies must hold {n} arrays, one per player, got {len(strategies)}")
    rounds = np.arange(n_rounds)
    chosen = []
    for j, x in enumerate(strategies):
        x = _strategy_rows(f"strategies[{j}]", x, (n_rounds, n_types[j], n_actions[j]), tol)
        chosen.append(x[rounds, types[:, j]])
    profile_index = np.ravel_multi_index(tuple(types.T), n_types)
    order = np.argsort(profile_index, kind="stable")
    counts = np.bincount(profile_index, minlength=math.prod(n_types))
    starts = np.concatenate([[0], np.cumsum(counts)])
    chosen = [np.take(x, order, axis=0) for x in chosen]
    joint = np.zeros((math.prod(n_types),) + n_actions)
    for k in np.flatnonzero(counts):
        block = slice(starts[k], starts[k + 1])
        joint[k] = _sum_of_products([x[block] for x in chosen])
    return (joint / n_rounds).reshape(n_types + n_actions)


def product_profile(strategies: Sequence, tol: float = STRATEGY_TOL) -> np.ndarray:
    """Joint distribution ``⊗_i x_i`` of independent mixed strategies.

    Args:
        strategies: One probability vector ``[A_i]`` per player.
        tol: Allowed slack on non-negativity and on each vector summing to 1.

    Returns:
        ``[A_1, ..., A_n]`` joint distribution.

    Raises:
        TypeError: If an entry is not numeric.
        ValueError: If a strategy is not a 1-D probability vector within ``tol``.

    Example:
        >>> product_profile([[0.5, 0.5], [1.0, 0.0]]).tolist()
        [[0.5, 0.0], [0.5, 0.0]]
    """
    if isinstance(strategies, np.ndarray) or not isinstance(strategies, Sequence):
        raise TypeError(
            f"strategies must be a list with one [A_i] vector per player, got "
            f"{type(strategies).__name__}"
        )
    if len(strategies) == 0:
        raise ValueError("strategies must hold at least one player, got an empty list")
    joint = np.ones(())
    for i, x in enumerate(strategies):
        x = as_finite_array(f"strategies[{i}]", x)
        if x.ndim != 1 or x.shape[0] < 1:
            raise ValueError(f"strategies[{i}] must have shape [A_{i}], got {x.shape}")
        x = _strategy_rows(f"strategies[{i}]", x, x.shape, tol)
        joint = np.multiply.outer(joint, x)
    return joint


def bayes_product(prior, sigmas: Sequence, tol: float = STRATEGY_TOL) -> np.ndarray:
    """Joint distribution ``p(θ) Π_i σ_i(a_i | θ_i)`` of a type-contingent mixed profile.

    Args:
        prior: ``[T_1..T_n]`` joint (possibly correlated) type distribution.
        sigmas: One array per player, ``[T_i, A_i]``; row ``θ_i`` is player ``i``'s mixed
            strategy at type ``θ_i``.
        tol: Allowed slack on the prior and on each strategy row.

    Returns:
        ``[T_1..T_n, A_1..A_n]`` joint distribution whose type marginal is ``prior``.

    Raises:
        TypeError: If an entry is not numeric.
        ValueError: If the prior is not a distribution, or ``sigmas`` do not match its shape
            or are not probability rows within ``tol``.
    """
    prior = as_finite_array("prior", prior, min_ndim=1)
    prior = check_distribution("prior", prior, prior.shape, tol=tol)
    n = prior.ndim
    if isinstance(sigmas, np.ndarray) or not isinstance(sigmas, Sequence):
        raise TypeError(
            f"sigmas must be a list with one [T_i, A_i] array per player, got "
            f"{type(sigmas).__name__}"
        )
    if len(sigmas) != n:
        raise ValueError(
            f"sigmas must hold {n} arrays (the prior has {n} dimensions), got {len(sigmas)}"
        )
    joint = prior.reshape(prior.shape + (1,) * n)
    for i, sigma in enumerate(sigmas):
        sigma = as_finite_array(f"sigmas[{i}]", sigma)
        if sigma.ndim != 2 or sigma.shape[0] != prior.shape[i] or sigma.shape[1] < 1:
            raise ValueError(
                f"sigmas[{i}] must have shape [{prior.shape[i]}, A_{i}], got {sigma.shape}"
            )
        sigma = _strategy_rows(f"sigmas[{i}]", sigma, sigma.shape, tol)
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = sigma.shape
        joint = joint * sigma.reshape(shape)
    return joint
