"""Regret-matching followers (``"regret_matching"``, ``"regret_matching_plus"``), with sweeps.

The learner is :class:`~stackelberg_zoo.equilibrium.learners.RegretMatching`; the sweeps, the
single-environment responder and the batched kernel come from
:class:`~.learning.SweepResponse`.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackelberg_zoo.envs.pomdp.followers.base import check_reward_play
from stackelberg_zoo.envs.pomdp.followers.learning import SweepResponse
from stackelberg_zoo.equilibrium import bounds
from stackelberg_zoo.equilibrium.learners import RegretMatching


@dataclass(frozen=True)
class RegretMatchingResponse(SweepResponse):
    """Regret matching (``"regret_matching"``) or RM+ (``"regret_matching_plus"``), with sweeps.

    Args:
        plus: Regret matching+ (clip the cumulative regrets at 0).
        reward_play: ``"argmax"``, ``"sample"`` or ``"empirical"``.
    """

    plus: bool = False
    reward_play: str = "argmax"
    name = "regret_matching"

    def __post_init__(self):
        if not isinstance(self.plus, bool):
            raise TypeError(f"plus must be a bool, got {self.plus!r}")
        check_reward_play(self.reward_play)

    def learner(self, batch_shape, n_actions):
        """Regret-matching (or RM+) learners."""
        return RegretMatching(batch_shape, n_actions, plus=self.plus)

    def regret_bound(self, rounds, n_actions, payoff_range):
        """:func:`~stackelberg_zoo.equilibrium.bounds.rm_bound`."""
        return bounds.rm_bound(rounds, n_actions, payoff_range)
