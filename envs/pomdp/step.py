"""What one step of a Stackelberg POMDP returns: its :class:`Transition` and :class:`Phase`."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple


class Phase(enum.IntEnum):
    """The two phases of a Stackelberg POMDP episode."""

    RESPONSE = 0
    """Followers learn against the leader's policy; the leader's reward is 0."""
    REWARD = 1
    """Followers play what they learned; the leader earns its utility / ``n_reward``."""


class Transition(NamedTuple):
    """What one POMDP step returns.

    Attributes:
        observation: The leader's next base-game observation (at the end of the episode:
            the observation it last acted on).
        reward: 0 in the response phase; sub-game utility / ``n_reward`` at the end of a
            reward-phase sub-game.
        terminated: Whether the episode is over.
        info: See the module docstring.
    """

    observation: Any
    reward: float
    terminated: bool
    info: dict[str, Any]
