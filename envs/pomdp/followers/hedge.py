"""Hedge followers (``"hedge"``): exponential weights fed by the paper's counterfactual sweeps.

The whole model is its description: the learner
(:class:`~stackelberg_zoo.equilibrium.learners.Hedge`) and its regret bound; the sweeps, the
single-environment responder and the batched kernel come from
:class:`~.learning.SweepResponse`. Copy this file to add a full-information learner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stackelberg_zoo.envs.pomdp.followers.base import check_positive, check_reward_play
from stackelberg_zoo.envs.pomdp.followers.learning import SweepResponse
from stackelberg_zoo.equilibrium import bounds
from stackelberg_zoo.equilibrium.learners import Hedge


@dataclass(frozen=True)
class HedgeResponse(SweepResponse):
    """Hedge learners with the paper's counterfactual sweeps (``"hedge"``).

    Args:
        eta: A fixed step ``η > 0`` or ``"anytime"`` (``η_t = sqrt(8 ln N / t) / Δ``).
        payoff_range: ``Δ`` for the anytime step.
        reward_play: ``"argmax"``, ``"sample"`` or ``"empirical"``.
    """

    eta: float | str = "anytime"
    payoff_range: float = 1.0
    reward_play: str = "argmax"
    name = "hedge"

    def __post_init__(self):
        if self.eta != "anytime":
            check_positive("eta", self.eta)
        check_positive("payoff_range", self.payoff_range)
        check_reward_play(self.reward_play)

    def learner(self, batch_shape, n_actions):
        """Hedge learners with this step."""
        return Hedge(batch_shape, n_actions, eta=self.eta, payoff_range=self.payoff_range)

    def regret_bound(self, rounds, n_actions, payoff_range):
        """:func:`~stackelberg_zoo.equilibrium.bounds.hedge_bound`.

        ``inf`` for gains wider than the anytime step is tuned to.
        """
        if self.eta == "anytime":  # the step is tuned to gains of range self.payoff_range
            if payoff_range > self.payoff_range:
                return math.inf  # the bound does not apply to wider gains
            return bounds.hedge_bound(rounds, n_actions, self.payoff_range, eta="anytime")
        return bounds.hedge_bound(rounds, n_actions, payoff_range, eta=self.eta)
