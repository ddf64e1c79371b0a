"""Collusion platform: a platform decides which of two pricing sellers consumers see.

| Creation           | `make("aec", "stackelberg/collusion-platform-v0")`                     |
|--------------------|-------------------------------------------------------------------------|
| Actions            | Discrete                                                                |
| Parallel API       | No (the platform observes the sellers' prices)                          |
| Manual Control     | No                                                                      |
| Agents             | `agents = ['leader_0', 'follower_0', 'follower_1']`                     |
| Agents             | 3                                                                       |
| Action Shape       | leader `Discrete(n_prices)`; sellers `Discrete(n_prices)`               |
| Action Values      | leader: a threshold price index; seller: a price index on the grid      |
| Observation Shape  | `Dict(observation=..., action_mask=Box(0, 1, (n,), int8))`              |
| Observation Values | leader: the price profile `i * n_prices + j`; seller: `[1.0]`           |
| Leader             | `leader_0`, the platform: shows sellers priced at or below a threshold  |
| Followers          | `follower_0`, `follower_1`: sellers posting prices from the grid        |
| Types / prior      | one type per seller (prior `[[1.0]]`)                                   |
| Reference optimum  | `env.unwrapped.game.reference()`: an upper bound (lowest price, both shown) |

Two sellers with marginal cost 1 face logit demand with an outside good (quality 2,
outside quality 0, scale 0.25, as in Calvano, Calzolari, Denicolò and Pastorello, "Artificial
intelligence, algorithmic pricing, and collusion", AER 2020). In each period they post
prices from a grid (`n_prices` prices from `price_low` to `price_high`; 1.05, 1.2667,
1.4833, 1.7 by default); the platform (the leader) sees the price profile and chooses a
threshold price from the grid; sellers priced at or below it are shown, and only shown
sellers sell (*price-dependent admission*, the platform-design question of Johnson, Rhodes
and Wildenbeest, Econometrica 2023). The platform's reward is the consumer surplus
`0.25 ln(Σ_shown exp((2 - p_i)/0.25) + 1)`, the sellers' their profits `(p_i - 1) s_i`.

Left alone, Q-learning sellers learn to price above the Bertrand-Nash price
`p^N ≈ 1.4729` towards the monopoly price `p^M ≈ 1.9250` (both computed by
`bertrand_nash_price` and `monopoly_price`; `collusion_index(p)` is
`(p - p^N) / (p^M - p^N)`). The platform's problem, with the sellers' Q-learning
embedded, is the Stackelberg POMDP `StackelbergZoo/CollusionPlatformPOMDP-v0`: its default
followers are `"q_learning"` (state: last period's prices; α = 0.25, δ = 0.95,
ε = exp(-10⁻⁴ t); Q-values start at each price's profit against a uniformly random rival
over 1 - δ), 50,000 response periods and 30 greedy reward periods per episode, whose value
is the mean surplus over the first cycle of reward-phase prices (the mean if none repeats).
The fixed rules of the literature are in `stackelberg_zoo.envs.collusion_platform.rules`:
`"no_intervention"` (show both) and `"pdp"` (show only the cheapest) are thresholds
(`threshold_of`), and `"dpdp"` (the previous box holder keeps the box while its price is
less than 0.3 above its rival's and did not rise) depends on the history (`fixed_rule`).

In this multi-agent environment one episode is **one period** (the stage game): MARL users
who train the sellers themselves run episodes back to back and keep the last prices as the
sellers' state; the sellers observe only their (single) type.

### Arguments

```python
from pettingzoo import make

make(
    "aec",
    "stackelberg/collusion-platform-v0",
    n_prices=4,          # m, the size of the price grid (the paper's runs; Calvano: 15)
    price_low=1.05,      # the lowest grid price
    price_high=1.7,      # the highest grid price
    cost=1.0,            # the sellers' marginal cost c
    quality=2.0,         # the sellers' product quality a
    outside=0.0,         # the outside good's quality a_0
    mu=0.25,             # the logit's scale (horizontal differentiation)
    max_cycles=None,     # most leader turns per sub-game (the leader has one)
    render_mode=None,    # "ansi" or "human"
)
```

### Observation Space

`Dict` with `"observation"` and an `np.int8` `"action_mask"` (all ones). Sellers: `[1.0]`,
the one-hot of their single type. Leader: the price profile `i * n_prices + j` of the
sellers' price indices `i`, `j` (before the sellers have acted it shows profile 0; only its
own turn is meaningful). `state()` is a flat float32 vector (price one-hots with a "not yet"
slot, the leader observation, whose turn, the types) for a centralized critic.

### Action Space

Sellers: `Discrete(n_prices)`, a price index. Leader: `Discrete(n_prices)`, the threshold
index: sellers whose price index is at most it are shown.

### Rewards

When the period ends after the leader's one move: the leader gets the consumer surplus of
the shown sellers, each seller its profit (0 if not shown).

### Version History

* v0: Initial release.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.aec import SubgameEnv, subgame_metadata, wrap
from stackelberg_zoo.envs.collusion_platform.game import (
    DEFAULT_N_PRICES,
    DEFAULT_PRICE_RANGE,
    CollusionPlatform,
)


class raw_env(SubgameEnv):
    """The collusion platform's period as a PettingZoo AEC environment (see the module doc)."""

    metadata = subgame_metadata("collusion_platform_v0")

    def __init__(
        self,
        n_prices: int = DEFAULT_N_PRICES,
        price_low: float = DEFAULT_PRICE_RANGE[0],
        price_high: float = DEFAULT_PRICE_RANGE[1],
        cost: float = 1.0,
        quality: float = 2.0,
        outside: float = 0.0,
        mu: float = 0.25,
        max_cycles: int | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(
            CollusionPlatform(
                n_prices=n_prices,
                price_low=price_low,
                price_high=price_high,
                cost=cost,
                quality=quality,
                outside=outside,
                mu=mu,
            ),
            max_cycles=max_cycles,
            render_mode=render_mode,
        )


def env(**kwargs: Any) -> OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order checks (keyword arguments as ``raw_env``)."""
    return wrap(raw_env(**kwargs))
