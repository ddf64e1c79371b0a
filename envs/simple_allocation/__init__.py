"""Simple allocation with messages: the follower reports its type through few messages."""

from stackelberg_zoo.envs.simple_allocation.game import (
    AllocationState,
    MessageMap,
    SimpleAllocation,
)

__all__ = ["AllocationState", "MessageMap", "SimpleAllocation"]
