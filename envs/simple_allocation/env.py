"""Simple allocation with messages: the follower reports its type through k messages.

| Creation           | `make("aec", "stackelberg/simple-allocation-v0")`                       |
|--------------------|-------------------------------------------------------------------------|
| Actions            | Discrete                                                                |
| Parallel API       | No (the leader observes the follower's message)                         |
| Manual Control     | No                                                                      |
| Agents             | `agents = ['leader_0', 'follower_0']`                                   |
| Agents             | 2                                                                       |
| Action Shape       | leader `Discrete(n_types)`; follower `Discrete(n_messages)`             |
| Action Values      | leader: an item; follower: a message                                    |
| Observation Shape  | `Dict(observation=..., action_mask=Box(0, 1, (n,), int8))`              |
| Observation Values | leader: the message; follower: the one-hot of its type                  |
| Leader             | `leader_0` sees the message and allocates one of `n_types` items        |
| Followers          | `follower_0` knows its type and sends one of `n_messages` messages      |
| Types / prior      | `n_types` types (default 3), uniform unless `prior` is given            |
| Reference optimum  | `env.unwrapped.game.reference().optimum`: `min(k, 3)/3` by default      |

The follower wants the item that matches its type, and so does the leader, but the leader
only hears one of `k = n_messages` messages. The leader's policy is a map from messages to
items; the follower learns which message gets it its item. With `k` messages at most `k`
types can be served, so the best map serves the `k` most likely types, one message each
(computed by enumerating every map against a best-responding follower; research fixture
F18). The experiment compares `k = 1, 2, 3` and runs the four-way ablation at `k = 3`.

### Arguments

```python
from pettingzoo import make

make(
    "aec",
    "stackelberg/simple-allocation-v0",
    n_messages=3,        # k, messages the follower can send
    n_types=3,           # follower types, and items the leader can allocate
    prior=None,          # [n_types] type distribution; uniform if None
    max_cycles=None,     # most leader turns per sub-game (the leader has one)
    render_mode=None,    # "ansi" or "human"
)
```

### Observation Space

`Dict` with `"observation"` and an `np.int8` `"action_mask"` (all ones: every message and
every item is always legal). Follower: the one-hot of its type. Leader: the message received
(before the follower has acted it shows message 0; only its own turn is meaningful).
`state()` is a flat float32 vector (type one-hot, message one-hot with a "not yet" slot, the
leader observation, whose turn) for a centralized critic.

### Action Space

Follower: `Discrete(n_messages)`. Leader: `Discrete(n_types)`, the item allocated.

### Rewards

Both agents get 1 if the item equals the follower's type, else 0, when the sub-game ends
after the leader's one move.

### Version History

* v0: Initial release.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.aec import SubgameEnv, subgame_metadata, wrap
from stackelberg_zoo.envs.simple_allocation.game import (
    DEFAULT_N_MESSAGES,
    DEFAULT_N_TYPES,
    SimpleAllocation,
)


class raw_env(SubgameEnv):
    """The simple allocation game as a PettingZoo AEC environment (see the module doc)."""

    metadata = subgame_metadata("simple_allocation_v0")

    def __init__(
        self,
        n_messages: int = DEFAULT_N_MESSAGES,
        n_types: int = DEFAULT_N_TYPES,
        prior: Any = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(
            SimpleAllocation(n_messages=n_messages, n_types=n_types, prior=prior),
            max_cycles=max_cycles,
            render_mode=render_mode,
        )


def env(**kwargs: Any) -> OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order checks (keyword arguments as ``raw_env``)."""
    return wrap(raw_env(**kwargs))
