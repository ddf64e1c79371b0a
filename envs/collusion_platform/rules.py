"""The platform's rules (who is shown, given the prices) and the reward phase's cycle rule.

* **PDA** (price-dependent admission, the learned rule): the platform picks a threshold
  price from the grid; sellers priced at or below it are shown (:func:`threshold_shown`).
* **Fixed rules** (Johnson, Rhodes and Wildenbeest 2023), :func:`fixed_rule`:
  ``"no_intervention"`` shows both sellers; ``"pdp"`` shows only the lowest-priced seller
  (both on a tie); ``"dpdp"`` gives the single *box* to the previous holder while its price is
  less than ``margin`` (0.3) above its rival's and did not rise, and otherwise to the
  lowest-priced seller (on a tie: the previous holder if tied, else seller 0). The first two
  are thresholds of the PDA's form (the largest grid index; the lowest posted index), so
  they are leader policies of the Stackelberg POMDP (:func:`threshold_of`); DPDP depends on
  the history, which a committed policy of the current prices cannot express.
* **Cycle rule** (:func:`first_cycle_mean`): greedy sellers whose state is the last price
  profile follow a deterministic path that enters a cycle; the leader's value is the mean
  surplus over the first cycle of reward-phase price profiles (the mean over the whole
  phase if none repeats).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

FIXED_RULES = ("no_intervention", "pdp", "dpdp")
"""The fixed platform rules, by name."""

DPDP_MARGIN = 0.3
"""How far above its rival's price the DPDP box holder may price and keep the box."""


def threshold_shown(price_indices, threshold) -> np.ndarray:
    """``bool[..., n]``: the sellers whose price index is at most ``threshold`` (PDA)."""
    return np.asarray(price_indices) <= np.asarray(threshold)[..., None]


def threshold_of(rule: str, price_indices, n_prices: int) -> int:
    """The PDA threshold (a grid index) that implements ``"no_intervention"`` or ``"pdp"``.

    Raises:
        ValueError: For ``"dpdp"`` (not a threshold rule) or an unknown name.
    """
    if rule == "no_intervention":
        return n_prices - 1
    if rule == "pdp":
        return int(min(price_indices))
    raise ValueError(f"rule must be 'no_intervention' or 'pdp' (the threshold rules), got {rule!r}")


class Box(NamedTuple):
    """What DPDP remembers: the last box holder and its price then (``None`` at the start)."""

    holder: int | None = None
    price: float | None = None


NO_BOX = Box()
"""DPDP's memory before the first period: nobody holds the box."""


def fixed_rule(
    rule: str, prices, box: Box = NO_BOX, margin: float = DPDP_MARGIN
) -> tuple[np.ndarray, Box]:
    """Who ``rule`` shows at two sellers' ``prices``: ``(bool[2] shown, the next box)``.

    The box only matters to ``"dpdp"``; the other rules return it unchanged.

    Raises:
        ValueError: On an unknown rule or not exactly two prices.
    """
    prices = [float(p) for p in prices]
    if len(prices) != 2:
        raise ValueError(f"prices must hold two sellers' prices, got {prices!r}")
    if rule == "no_intervention":
        return np.ones(2, dtype=bool), box
    if rule == "pdp":
        return np.array([prices[0] <= prices[1], prices[1] <= prices[0]]), box
    if rule != "dpdp":
        raise ValueError(f"rule must be one of {FIXED_RULES}, got {rule!r}")
    holder = box.holder
    keeps = (
        holder is not None
        and prices[holder] < prices[1 - holder] + margin
        and prices[holder] <= box.price
    )
    if not keeps:
        if prices[0] == prices[1]:
            holder = 0 if holder is None else holder
        else:
            holder = int(prices[1] < prices[0])
    shown = np.zeros(2, dtype=bool)
    shown[holder] = True
    return shown, Box(holder, prices[holder])


def first_cycle_mean(profiles, values) -> float:
    """The mean of ``values`` over the first repeated cycle of ``profiles`` (else over all).

    Args:
        profiles: ``[T, n]`` the price profiles (grid indices) of consecutive periods.
        values: ``[T]`` the leader's value in each period.

    With ``t`` the first period whose profile already occurred, at ``k < t``, the cycle is
    periods ``k .. t - 1``.

    >>> first_cycle_mean([[0, 0], [1, 1], [2, 2], [1, 1], [2, 2]], [9.0, 1.0, 3.0, 1.0, 3.0])
    2.0
    """
    values = np.asarray(values, dtype=np.float64)
    seen: dict[tuple[int, ...], int] = {}
    for t, profile in enumerate(map(tuple, np.asarray(profiles).tolist())):
        if profile in seen:
            return float(np.mean(values[seen[profile] : t]))
        seen[profile] = t
    return float(np.mean(values))
