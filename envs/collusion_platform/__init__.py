"""Platform design against algorithmic collusion: Q-learning sellers, a platform that shows them."""

from stackelberg_zoo.envs.collusion_platform.game import CollusionPlatform, PeriodState
from stackelberg_zoo.envs.collusion_platform.market import (
    Market,
    bertrand_nash_price,
    collusion_index,
    consumer_surplus,
    monopoly_price,
    profits,
    shares,
)
from stackelberg_zoo.envs.collusion_platform.rules import (
    FIXED_RULES,
    Box,
    first_cycle_mean,
    fixed_rule,
    threshold_of,
    threshold_shown,
)

__all__ = [
    "FIXED_RULES",
    "Box",
    "CollusionPlatform",
    "Market",
    "PeriodState",
    "bertrand_nash_price",
    "collusion_index",
    "consumer_surplus",
    "first_cycle_mean",
    "fixed_rule",
    "monopoly_price",
    "profits",
    "shares",
    "threshold_of",
    "threshold_shown",
]
