"""The sellers' market: logit demand with an outside good, as pure functions.

Seller ``i`` posts price ``p_i``; the platform *shows* a subset of the sellers, and only
shown sellers can sell. A consumer buys from shown seller ``i`` with probability (its share)

    s_i = exp((a - p_i) / mu) / (Σ_{j shown} exp((a - p_j) / mu) + exp(a_0 / mu)),

and buys nothing otherwise (Calvano et al. 2020, with the platform's choice of who is shown
as in Johnson, Rhodes and Wildenbeest 2023). Seller ``i`` earns ``(p_i - c) s_i``; the
consumer surplus is ``mu ln(Σ_{j shown} exp((a - p_j) / mu) + exp(a_0 / mu))``. Sums of
exponentials are taken with the largest exponent factored out, so no parameter overflows.

The reference prices are computed, not typed: the symmetric Bertrand-Nash price solves the
first-order condition ``(p - c)(1 - s(p)) = mu`` with both sellers shown, and the monopoly
price (joint profit, symmetric) solves ``(p - c)(1 - 2 s(p)) = mu``.

>>> market = Market()
>>> round(bertrand_nash_price(market), 3), round(monopoly_price(market), 3)
(1.473, 1.925)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq


class Market(NamedTuple):
    """The demand side's parameters (defaults: Calvano et al. 2020).

    Attributes:
        cost: Marginal cost ``c`` of both sellers.
        quality: Product quality ``a`` of both sellers.
        outside: Quality ``a_0`` of the outside good.
        mu: Horizontal differentiation ``mu > 0`` (the logit's scale).
    """

    cost: float = 1.0
    quality: float = 2.0
    outside: float = 0.0
    mu: float = 0.25


def _exponents(market: Market, prices: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """``[..., n + 1]``: ``(a - p_i) / mu`` per seller (``-inf`` if hidden), then ``a_0 / mu``."""
    prices = np.asarray(prices, dtype=np.float64)
    inside = np.where(shown, (market.quality - prices) / market.mu, -np.inf)
    outside = np.full(inside.shape[:-1] + (1,), market.outside / market.mu)
    return np.concatenate([inside, outside], axis=-1)


def shares(market: Market, prices, shown) -> np.ndarray:
    """``[..., n]`` each seller's demand share (0 where hidden); prices and shown ``[..., n]``."""
    z = _exponents(market, prices, shown)
    weights = np.exp(z - z.max(axis=-1, keepdims=True))
    return weights[..., :-1] / weights.sum(axis=-1, keepdims=True)


def profits(market: Market, prices, shown) -> np.ndarray:
    """``[..., n]`` each seller's profit ``(p_i - c) s_i`` (0 where hidden)."""
    return (np.asarray(prices, dtype=np.float64) - market.cost) * shares(market, prices, shown)


def consumer_surplus(market: Market, prices, shown) -> np.ndarray:
    """``[...]`` the consumers' expected surplus ``mu ln(Σ_shown e^{(a - p)/mu} + e^{a_0/mu})``."""
    z = _exponents(market, prices, shown)
    top = z.max(axis=-1)
    return market.mu * (top + np.log(np.exp(z - top[..., None]).sum(axis=-1)))


def symmetric_share(market: Market, price: float, n_shown: int = 2) -> float:
    """One seller's share when ``n_shown`` sellers are shown, all at ``price``."""
    prices = np.full(n_shown, float(price))
    return float(shares(market, prices, np.ones(n_shown, dtype=bool))[0])


def bertrand_nash_price(market: Market) -> float:
    """The symmetric Bertrand-Nash price, both shown: ``(p - c)(1 - s(p)) = mu``."""
    return _solve(
        market, lambda p: (p - market.cost) * (1 - symmetric_share(market, p)) - market.mu
    )


def monopoly_price(market: Market) -> float:
    """The symmetric joint-profit-maximising price, both shown: ``(p - c)(1 - 2 s(p)) = mu``."""
    return _solve(
        market, lambda p: (p - market.cost) * (1 - 2 * symmetric_share(market, p)) - market.mu
    )


def _solve(market: Market, condition) -> float:
    """The root of a first-order condition above cost (negative at ``c``, positive far above)."""
    low, high = market.cost, market.cost + market.mu
    while condition(high) <= 0:  # the condition grows without bound in p
        high = market.cost + 2 * (high - market.cost)
        if not math.isfinite(high):
            raise ValueError(f"no price solves the first-order condition for {market!r}")
    return float(brentq(condition, low, high, xtol=1e-14, rtol=1e-14))


def collusion_index(price, market: Market) -> np.ndarray | float:
    """``(p - p^N) / (p^M - p^N)``: 0 at the Bertrand-Nash price, 1 at the monopoly price."""
    nash, monopoly = bertrand_nash_price(market), monopoly_price(market)
    return (np.asarray(price, dtype=np.float64) - nash) / (monopoly - nash)
