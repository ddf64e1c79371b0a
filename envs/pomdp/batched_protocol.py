"""The certified protocol in the batched core: one :class:`~.protocol.ProtocolRunner` per copy.

Each copy of :class:`~.batched.BatchedStackelbergPOMDP` gets the single environment's own
runner (certification, exact reward phase), bound to that copy through two small views:
:class:`CopyLearners` (the copy's learners, as the runner reads a single responder) and
:class:`CopyStream` (the copy's uniform stream, as the runner reads a generator). The runner
therefore does for copy ``b`` exactly what it does in a single environment seeded like it:
the same snapshots, checks, response and reward-phase draws, so the two agree step for step.
"""

from __future__ import annotations

import numpy as np

from stackelberg_zoo.envs.pomdp.followers.batched_learning import BatchedLearners
from stackelberg_zoo.envs.pomdp.streams import UniformStreams


class CopyLearners:
    """Copy ``b`` of a batched learning kernel, seen as a single environment's responder.

    Args:
        kernel: The batched learners.
        b: The copy.
    """

    def __init__(self, kernel: BatchedLearners, b: int):
        self.kernel = kernel
        self.b = b
        self.spec = kernel.spec
        self.queries_per_round = kernel.queries_per_round
        self.reward_play = kernel.reward_play
        self._index = np.array([b], dtype=np.int64)

    @property
    def round_hook(self):
        """The copy's entry of the kernel's ``round_hooks``."""
        return self.kernel.round_hooks[self.b]

    @round_hook.setter
    def round_hook(self, hook) -> None:
        self.kernel.round_hooks[self.b] = hook
        if hook is not None:
            self.kernel.hooked = True

    def current_strategies(self) -> list[np.ndarray]:
        """Every follower's current ``[T_i, A_i]`` mixed strategies in this copy."""
        return [np.array(learners.strategies(self._index)[0]) for learners in self.kernel.learners]

    def current_greedy(self) -> list[np.ndarray]:
        """Every follower's current most likely action per type in this copy."""
        return [
            np.asarray(learners.greedy(self._index)[0], dtype=np.int64)
            for learners in self.kernel.learners
        ]

    def strategy(self) -> tuple[np.ndarray, ...]:
        """The copy's reward-phase strategies (after ``finish``)."""
        return self.kernel.strategy(self.b)


class CopyStream:
    """Copy ``b``'s uniform stream with a generator's ``random()`` (one double per call)."""

    def __init__(self, streams: UniformStreams, b: int):
        self.streams = streams
        self._index = np.array([b], dtype=np.int64)

    def random(self) -> float:
        """The copy's next double."""
        return float(self.streams.draw(self._index)[0])
