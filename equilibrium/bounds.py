"""Regret bounds of the no-regret learners, and the concentration margin for sampled play.

Every bound here holds for **every** gain sequence (an adaptive adversary included) unless
its docstring says "expected". Gains lie in an interval of width ``Δ`` (``payoff_range``);
``N`` is the number of actions and ``T`` the number of rounds. Functions named ``*_bound``
return a bound on the *total* regret ``R_T`` (divide by ``T`` for the average, which bounds
the CCE gap of self-play, see :mod:`.dynamics`); :func:`per_type_bound` and
:func:`azuma_margin` return *per-round* (average) quantities, as their docstrings say.

Sources: Cesa-Bianchi and Lugosi, *Prediction, Learning, and Games* (2006), "CBL06";
Auer, Cesa-Bianchi, Freund and Schapire (2002), "The nonstochastic multiarmed bandit
problem"; Hart and Mas-Colell (2000); Tammelin (2014); Syrgkanis, Agarwal, Luo and Schapire
(2015), "Fast convergence of regularized learning in games".
"""

from __future__ import annotations

import math

import numpy as np

from .games import as_finite_array

__all__ = [
    "azuma_margin",
    "exp3_bound",
    "hedge_bound",
    "hedge_tuned_eta",
    "mw_bound",
    "mw_tuned_eps",
    "optimistic_hedge_bound",
    "per_type_bound",
    "per_type_tuned_eta",
    "rm_bound",
    "rvu_bound",
]


def _rounds(T) -> int:
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"T must be an int, got {T!r}")
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    return int(T)


def _actions(n_actions) -> int:
    if isinstance(n_actions, (bool, np.bool_)) or not isinstance(n_actions, (int, np.integer)):
        raise TypeError(f"n_actions must be an int, got {n_actions!r}")
    if n_actions < 1:
        raise ValueError(f"n_actions must be at least 1, got {n_actions}")
    return int(n_actions)


def _positive(name: str, value, allow_zero: bool = False) -> float:
    if isinstance(value, (bool, np.bool_, str)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be finite and {kind}, got {value!r}")
    return value


def hedge_tuned_eta(T: int, n_actions: int, payoff_range: float = 1.0) -> float:
    """The fixed Hedge step that minimises :func:`hedge_bound`: ``η = sqrt(8 ln N / T) / Δ``.

    Raises:
        ValueError: If ``n_actions < 2`` (every step is optimal with one action), or ``T``
            or ``payoff_range`` is not positive.
    """
    T, n = _rounds(T), _actions(n_actions)
    delta = _positive("payoff_range", payoff_range)
    if n < 2:
        raise ValueError(f"a tuned step needs n_actions >= 2, got {n}")
    return math.sqrt(8.0 * math.log(n) / T) / delta


def hedge_bound(T: int, n_actions: int, payoff_range: float = 1.0, eta=None) -> float:
    """Regret bound of Hedge, ``x_t ∝ exp(η Σ_{s<t} g_s)``.

    * fixed ``η``: ``R_T ≤ ln N / η + η T Δ² / 8`` (CBL06 Thm 2.2, via Hoeffding's lemma);
    * ``eta=None``: the same at the tuned ``η = sqrt(8 ln N / T) / Δ``, i.e.
      ``Δ sqrt(T ln N / 2)``;
    * ``eta="anytime"`` (``η_t = sqrt(8 ln N / t) / Δ``): ``Δ (2 sqrt(T ln N / 2) +
      sqrt(ln N / 8))`` (CBL06 Thm 2.3).

    Args:
        T: Number of rounds.
        n_actions: ``N``.
        payoff_range: ``Δ``; each round's gains lie in an interval of this width.
        eta: ``None``, a positive float, or ``"anytime"``.

    Returns:
        The bound on the total regret (a float).

    Raises:
        TypeError, ValueError: On a non-positive or non-numeric argument or unknown ``eta``.
    """
    T, n = _rounds(T), _actions(n_actions)
    delta = _positive("payoff_range", payoff_range, allow_zero=True)
    log_n = math.log(n)
    if eta is None:
        return delta * math.sqrt(T * log_n / 2.0)
    if isinstance(eta, str):
        if eta != "anytime":
            raise ValueError(f"eta must be None, a positive number or 'anytime', got {eta!r}")
        return delta * (2.0 * math.sqrt(T * log_n / 2.0) + math.sqrt(log_n / 8.0))
    eta = _positive("eta", eta)
    return log_n / eta + eta * T * delta**2 / 8.0


def mw_tuned_eps(T: int, n_actions: int) -> float:
    """The ``ε`` minimising ``ε T / 2 + ln N / ε`` (gains in [0, 1]): ``sqrt(2 ln N / T)``.

    Raises:
        ValueError: If ``n_actions < 2`` or ``T < 1``.
    """
    T, n = _rounds(T), _actions(n_actions)
    if n < 2:
        raise ValueError(f"a tuned eps needs n_actions >= 2, got {n}")
    return math.sqrt(2.0 * math.log(n) / T)


def mw_bound(T: int, n_actions: int, eps: float, payoff_range: float = 1.0) -> float:
    """Regret bound of the paper's multiplicative weights ``w ← w (1+ε)^g``, any ``ε > 0``.

    Derivation (the usual potential argument). Take gains in ``[0, 1]`` first (the update
    and the regret are unchanged by adding a constant to a round's gains, so any interval
    of width 1 will do). With ``W_t = Σ_b w_t(b)`` and ``(1+ε)^g ≤ 1 + ε g`` for
    ``g ∈ [0, 1]`` (convexity), ``W_{T+1} ≤ N Π_t (1 + ε <x_t, g_t>) ≤ N exp(ε G)`` where
    ``G = Σ_t <x_t, g_t>``, while ``W_{T+1} ≥ (1+ε)^{S_b}`` for every action ``b`` with
    cumulative gain ``S_b ≤ T``. Hence ``S_b ln(1+ε) ≤ ln N + ε G`` and

        R_T = S_b − G ≤ T (1 − ln(1+ε)/ε) + ln N / ε  ≤  ε T / 2 + ln N / ε,

    the last step from ``ln(1+ε) ≥ ε − ε²/2``. This function returns the middle (tighter)
    form. For gains in an interval of width ``Δ`` the same update equals MW with
    ``ε' = (1+ε)^Δ − 1`` on gains divided by ``Δ``, so the bound is ``Δ`` times the
    expression above with ``ε'`` in place of ``ε``.

    Args:
        T: Number of rounds.
        n_actions: ``N``.
        eps: ``ε > 0`` as used in the update (not rescaled).
        payoff_range: ``Δ``, the width of each round's gain interval.

    Returns:
        The bound on the total regret.

    Raises:
        TypeError, ValueError: On a non-positive or non-numeric argument.
    """
    T, n = _rounds(T), _actions(n_actions)
    eps = _positive("eps", eps)
    delta = _positive("payoff_range", payoff_range, allow_zero=True)
    if delta == 0:
        return 0.0
    log_base = delta * math.log1p(eps)  # ln(1 + ε') with ε' = (1+ε)^Δ − 1
    eps_scaled = math.expm1(log_base)
    return delta * (T * (1.0 - log_base / eps_scaled) + math.log(n) / eps_scaled)


def rm_bound(T: int, n_actions: int, payoff_range: float = 1.0) -> float:
    """Regret bound of regret matching and of RM+: ``R_T ≤ Δ sqrt(N T)``.

    With instantaneous regrets ``r_t(b) = g_t(b) − <x_t, g_t>`` (each of absolute value at
    most ``Δ``), regret matching keeps ``Σ_t <x_t, r_t> = 0``, so
    ``‖[Q_T]^+‖² ≤ Σ_t ‖r_t‖² ≤ N T Δ²`` (Hart and Mas-Colell 2000; CBL06 §2.5 with the
    polynomial potential ``p = 2``); RM+ keeps a vector ``Q_T^+ ≥ Q_T`` with the same bound
    (Tammelin 2014). The regret is ``max_b Q_T(b) ≤ ‖[Q_T]^+‖``.

    Raises:
        TypeError, ValueError: On a non-positive or non-numeric argument.
    """
    T, n = _rounds(T), _actions(n_actions)
    delta = _positive("payoff_range", payoff_range, allow_zero=True)
    return delta * math.sqrt(n * T)


def optimistic_hedge_bound(T: int, n_actions: int, payoff_range: float, eta: float) -> float:
    """Worst-case regret bound of optimistic Hedge with fixed ``η``: ``ln N / η + η T Δ²``.

    This is :func:`rvu_bound` with every gain variation ``‖g_t − g_{t−1}‖_∞`` replaced by
    its worst case ``Δ`` (the first round predicts ``g_0 = 0``; as the strategies do not
    change when a constant is added to all gains, shift the gains into ``[0, Δ]`` so that
    ``‖g_1 − g_0‖_∞ ≤ Δ`` too) and the negative stability term dropped. Valid for gains in
    one fixed interval of width ``Δ``.

    Raises:
        TypeError, ValueError: On a non-positive or non-numeric argument.
    """
    T, n = _rounds(T), _actions(n_actions)
    delta = _positive("payoff_range", payoff_range, allow_zero=True)
    eta = _positive("eta", eta)
    return math.log(n) / eta + eta * T * delta**2


def rvu_bound(eta: float, gains, strategies) -> float:
    """The RVU right-hand side of optimistic Hedge for a realised sequence.

    Syrgkanis, Agarwal, Luo and Schapire (2015) show that optimistic Hedge with step ``η``
    satisfies, for every gain sequence,

        R_T ≤ ln N / η + η Σ_t ‖g_t − g_{t−1}‖²_∞ − (1 / (4η)) Σ_{t≥2} ‖x_t − x_{t−1}‖²_1,

    with ``g_0 = 0``. This function evaluates the right-hand side.

    Args:
        eta: The step ``η > 0``.
        gains: ``[T, N]`` gain vectors, round by round.
        strategies: ``[T, N]`` the strategies ``x_t`` played in the same rounds.

    Returns:
        The bound on ``R_T`` for this sequence.

    Raises:
        ValueError: If the arrays are not ``[T, N]`` of the same shape or are not finite.
    """
    eta = _positive("eta", eta)
    gains = as_finite_array("gains", gains)
    strategies = as_finite_array("strategies", strategies)
    if gains.ndim != 2 or gains.shape != strategies.shape or gains.shape[0] < 1:
        raise ValueError(
            f"gains and strategies must both have shape [T, N] with T >= 1, got "
            f"{gains.shape} and {strategies.shape}"
        )
    previous = np.vstack([np.zeros((1, gains.shape[1])), gains[:-1]])
    variation = (np.abs(gains - previous).max(axis=1) ** 2).sum()
    movement = (np.abs(np.diff(strategies, axis=0)).sum(axis=1) ** 2).sum()
    return math.log(gains.shape[1]) / eta + eta * variation - movement / (4.0 * eta)


def exp3_bound(T: int, n_actions: int, gamma: float, payoff_range: float = 1.0) -> float:
    """**Expected** regret bound of EXP3 with ``η = γ / N``: ``Δ ((e − 1) γ T + N ln N / γ)``.

    Auer, Cesa-Bianchi, Freund and Schapire (2002), Thm 3.1: for rewards in ``[0, 1]`` and
    every (oblivious) reward sequence, ``max_b Σ_t g_t(b) − E[Σ_t r_t] ≤ (e − 1) γ G_max +
    N ln N / γ`` with ``G_max ≤ T``. Rewards in ``[low, low + Δ]`` are rescaled by the learner,
    hence the factor ``Δ``. This bounds an expectation over the learner's sampling, not
    every run.

    Raises:
        TypeError, ValueError: On a non-positive argument or ``gamma > 1``.
    """
    T, n = _rounds(T), _actions(n_actions)
    gamma = _positive("gamma", gamma)
    if gamma > 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")
    delta = _positive("payoff_range", payoff_range, allow_zero=True)
    return delta * ((math.e - 1.0) * gamma * T + n * math.log(n) / gamma)


def per_type_tuned_eta(T: int, n_types: int, n_actions: int, payoff_range: float = 1.0) -> float:
    """Common fixed step for ``K`` per-type Hedge learners: ``η = sqrt(8 K ln N / T) / Δ``.

    Raises:
        ValueError: If ``n_types < 1``, ``n_actions < 2`` or an argument is not positive.
    """
    T, n = _rounds(T), _actions(n_actions)
    if isinstance(n_types, (bool, np.bool_)) or not isinstance(n_types, (int, np.integer)):
        raise TypeError(f"n_types must be an int, got {n_types!r}")
    if n_types < 1:
        raise ValueError(f"n_types must be at least 1, got {n_types}")
    delta = _positive("payoff_range", payoff_range)
    if n < 2:
        raise ValueError(f"a tuned step needs n_actions >= 2, got {n}")
    return math.sqrt(8.0 * n_types * math.log(n) / T) / delta


def per_type_bound(
    T: int, type_probs, n_actions: int, payoff_range: float = 1.0, eta=None
) -> float:
    """Bound on one player's **average** agent-form gap ``Σ_θ max(0, R_θ) / T``.

    Setting: ``K`` types; the learner of type ``θ`` (Hedge) is updated only in the
    ``N_θ`` rounds where ``θ`` is realised (``Σ_θ N_θ = T``); by the Bayesian regret identity
    the agent-form gap of the empirical play is ``Σ_θ max(0, R_θ) / T``.

    * ``eta`` a positive float (one step shared by all types): summing
      :func:`hedge_bound` over the types with ``N_θ > 0`` gives, for **every** type
      sequence, ``(K⁺ ln N / η + η T Δ² / 8) / T``, where ``K⁺`` counts the types with
      positive ``type_probs``. At ``η = sqrt(8 K ln N / T) / Δ`` (:func:`per_type_tuned_eta`)
      this is ``Δ sqrt(K ln N / (2 T))``.
    * ``eta=None`` (type ``θ``'s learner tuned to ``T p_θ`` rounds, ``η_θ =
      sqrt(8 ln N / (T p_θ)) / Δ``): ``Σ_θ Δ sqrt(p_θ ln N / (2 T))``. This holds for every
      sequence if ``type_probs`` are the realised frequencies ``N_θ / T``, and in
      expectation if they are the prior (``E N_θ = T p_θ``); it is at most
      ``Δ sqrt(K ln N / (2 T))`` by Cauchy–Schwarz.

    Args:
        T: Number of rounds.
        type_probs: ``[K]`` type probabilities (the prior marginal or realised frequencies).
        n_actions: ``N``.
        payoff_range: ``Δ``.
        eta: ``None`` or a common positive step.

    Returns:
        The bound on the average agent-form gap.

    Raises:
        ValueError: If ``type_probs`` is not a probability vector, or an argument is not
            positive.
    """
    T, n = _rounds(T), _actions(n_actions)
    delta = _positive("payoff_range", payoff_range, allow_zero=True)
    probs = as_finite_array("type_probs", type_probs)
    if probs.ndim != 1 or probs.size < 1 or np.any(probs < 0) or abs(probs.sum() - 1) > 1e-9:
        raise ValueError(f"type_probs must be a probability vector, got {type_probs!r}")
    log_n = math.log(n)
    if eta is None:
        return float(delta * np.sqrt(probs * log_n / (2.0 * T)).sum())
    eta = _positive("eta", eta)
    n_present = int(np.count_nonzero(probs))
    return (n_present * log_n / eta + eta * T * delta**2 / 8.0) / T


def azuma_margin(T: int, payoff_range: float, delta: float, n_events: int = 1) -> float:
    """Per-round deviation margin of a bounded martingale (Azuma–Hoeffding).

    If ``D_1..D_T`` are martingale differences and each ``D_t`` lies, given the past, in an
    interval of length ``payoff_range`` (``c``), then ``P(Σ_t D_t ≥ T m) ≤ exp(−2 T m² / c²)``.
    With a union bound over ``n_events`` such sums, all of them stay below ``T m`` with
    probability at least ``1 − δ`` for

        m = c sqrt(ln(n_events / δ) / (2 T)).

    Typical use: the realised regret of sampled play exceeds the regret of the mixed
    strategies by a sum of such differences (``<x_t, g_t> − g_t(a_t)``), so the realised CCE
    gap is at most ``regret / T + m`` with probability ``1 − δ``. Two-sided: pass
    ``n_events=2``.

    Returns:
        ``m``, an average (per-round) margin.

    Raises:
        TypeError, ValueError: If ``T`` or ``n_events`` is not a positive int,
            ``payoff_range`` is negative, or ``delta`` is not in ``(0, 1)``.
    """
    T = _rounds(T)
    scale = _positive("payoff_range", payoff_range, allow_zero=True)
    delta = _positive("delta", delta)
    if delta >= 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if isinstance(n_events, (bool, np.bool_)) or not isinstance(n_events, (int, np.integer)):
        raise TypeError(f"n_events must be an int, got {n_events!r}")
    if n_events < 1:
        raise ValueError(f"n_events must be at least 1, got {n_events}")
    return scale * math.sqrt(math.log(n_events / delta) / (2.0 * T))
