"""Sequential price mechanisms with messages (MSPM): talk first, then posted prices.

| Creation           | `make("aec", "stackelberg/mspm-v0")`                                        |
|--------------------|-----------------------------------------------------------------------------|
| Actions            | Mixed: followers Discrete, leader Box                                       |
| Parallel API       | No (the leader observes the messages and acts several times)               |
| Manual Control     | No                                                                          |
| Agents             | `agents = ['leader_0', 'follower_0', 'follower_1']` (n followers)           |
| Agents             | n + 1 (default 3)                                                           |
| Action Shape       | leader `Box(0, 1, (n + 1,), float64)`; follower `Discrete(n_messages)`      |
| Action Values      | leader: a score per follower, then a price; follower: a message             |
| Observation Shape  | leader `Dict(observation=(2n + 1 + n·m,))`; follower adds `action_mask`     |
| Observation Values | leader: unvisited, units left / k, bought, one-hot messages; follower: type |
| Leader             | `leader_0`, the mechanism: visits followers one by one, posting prices      |
| Followers          | `follower_i` knows its value level and sends one of `n_messages` messages   |
| Types / prior      | value levels; `"pi"`, `"uniform"` (`n_values` levels) or a table + prior    |
| Reference optimum  | `env.unwrapped.game.reference().optimum`: 0 (no welfare loss) for PI and    |
|                    | uniform `t = 3..6` with 2 messages; message-free SPM: -0.06 (PI), -1/18     |

`n` followers (default 2) want one unit each of `k` identical units (default 1). Every
follower knows its value (its type) and first sends one of `m` messages (default 2). Then
the leader runs a sequential posted-price mechanism: at each of its turns it visits a
follower it has not visited yet and posts a price in `[0, 1]`; the follower buys iff its
value is at least the price. The sub-game ends when the units are sold out or every follower
was visited. The leader's goal is welfare: its reward is the realised welfare minus the
first-best welfare (the sum of the `k` highest values), so 0 is the best possible.

Value presets: `"pi"` (Agrawal et al. 2020's prophet-inequality instance: follower 0 has
value 0.2 w.p. 0.8 and 1.0 w.p. 0.2, follower 1 has 0 or 0.4 w.p. 1/2; first-best welfare
0.44) and `"uniform"` (the paper's MSGSpace(t, m): every value uniform on
`{0, 1/(t-1), ..., 1}`, independent). An explicit table of value levels per follower with a
joint (possibly correlated) prior is accepted too.

Without messages no posted-price mechanism reaches the first best (PI loses 0.06, uniform
`t = 3` loses 1/18); with two messages a mechanism with zero loss exists in which the
followers' messages are an equilibrium, for PI and for uniform `t = 3, 4, 5, 6`. The
reference (`stackelberg_zoo.envs.mspm.reference`) finds it by exact search over pure message
maps and pricing trees with grid prices, and `reference().optimal_policy` plays it.
Uniform `t = 7` has no zero-loss mechanism within that search (least loss 1/294).

### Arguments

```python
from pettingzoo import make

make(
    "aec",
    "stackelberg/mspm-v0",
    values="pi",         # "pi", "uniform", or one sequence of value levels per follower
    n_followers=None,    # default 2 (a table fixes it)
    n_units=1,           # k identical units, 1 <= k <= n_followers
    n_messages=2,        # m messages per follower (1: the message-free SPM)
    n_values=3,          # t, value levels of "uniform"
    prior=None,          # joint prior of a table (correlation allowed); uniform if None
    max_cycles=None,     # most leader turns per sub-game (at most n are ever needed)
    render_mode=None,    # "ansi" or "human"
)
```

### Observation Space

`Dict` with an `"observation"` entry; followers also get an `np.int8` `"action_mask"`
(all ones: every message is always legal); the leader's `Box` action has no mask.
Follower: the one-hot of its value level. Leader: a float32 vector, in this order: `unvisited[n]`
(1 = not visited yet), `units_left / k`, `bought[n]` (the allocation so far), and each
follower's message one-hot (`n·m` entries); before the followers have acted it is a blank
vector. `state()` is the flat float32 critic state of the driver (types, messages, the
leader observation, whose turn).

### Action Space

Follower: `Discrete(n_messages)`. Leader: `Box(0, 1, (n + 1,), float64)`:
`[score_0, ..., score_{n-1}, price]`. The unvisited follower with the highest score is
visited (ties go to the lowest index; scores of visited followers are ignored) at the
posted price. Actions outside the box (a price above 1, a NaN) raise `ValueError`.

### Rewards

When the sub-game ends: a follower that bought gets `value - price`, the others 0; the
leader gets realised welfare minus first-best welfare (`<= 0`).

### Version History

* v0: Initial release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.aec import SubgameEnv, subgame_metadata, wrap
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism


class raw_env(SubgameEnv):
    """The MSPM sub-game as a PettingZoo AEC environment (see the module doc)."""

    metadata = subgame_metadata("mspm_v0")

    def __init__(
        self,
        values: str | Sequence[Sequence[float]] = "pi",
        n_followers: int | None = None,
        n_units: int = 1,
        n_messages: int = 2,
        n_values: int = 3,
        prior: Any = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(
            SequentialPriceMechanism(
                values,
                n_followers=n_followers,
                n_units=n_units,
                n_messages=n_messages,
                n_values=n_values,
                prior=prior,
            ),
            max_cycles=max_cycles,
            render_mode=render_mode,
        )


def env(**kwargs: Any) -> OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order checks (keyword arguments as ``raw_env``)."""
    return wrap(raw_env(**kwargs))
