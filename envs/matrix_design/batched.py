"""Matrix design for ``B`` environments at once (the batched POMDP's hot path).

The same sub-game as :class:`~stackelberg_zoo.envs.matrix_design.game.MatrixDesign` on arrays
``profile[B, 2]`` and ``payments[B, 2]``, with the same validation (payments in
``[0, max_payment]``, values outside by at most ``PAYMENT_TOL * max(1, max_payment)`` clipped
into it) and the same arithmetic. The observation id of a profile ``(a_1, a_2)`` is
``a_1 * A_2 + a_2``.
"""

from __future__ import annotations

import numpy as np

from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.pomdp.batched_game import BatchedGame, first_bad


class BatchedMatrixDesign(BatchedGame):
    """:class:`MatrixDesign` for ``num_envs`` environments.

    Args:
        game: The scalar game (payoffs, payment bound, charging).
        num_envs: ``B``.
    """

    def __init__(self, game: MatrixDesign, num_envs: int):
        if not isinstance(game, MatrixDesign):
            raise TypeError(f"game must be a MatrixDesign, got {game!r}")
        super().__init__(game, num_envs)
        a1, a2 = game.n_follower_actions
        self.n_observation_ids = a1 * a2
        self._a2 = a2
        self._base = np.asarray(game.base_payoffs)  # [2, A_1, A_2]
        self._welfare = np.asarray(game.welfare)
        self._bound = game.max_payment
        self._slack = game._payment_slack
        self._charge = game.charge_payments
        self.profile = np.zeros((num_envs, 2), dtype=np.int64)
        self.payments = np.zeros((num_envs, 2))
        # Per observation id: the profile and its one-hot flattening.
        profiles = np.array([(x, y) for x in range(a1) for y in range(a2)], dtype=np.int64)
        self._profile_of = profiles
        self._flat_of = np.concatenate(
            [
                np.eye(a1, dtype=np.float32)[profiles[:, 0]],
                np.eye(a2, dtype=np.float32)[profiles[:, 1]],
            ],
            axis=1,
        )

    def start(self, index, types, actions):
        """Begin sub-games at the action profiles ``actions [k, 2]``."""
        self.profile[index] = actions

    def observation_ids(self):
        """``a_1 * A_2 + a_2``."""
        return self.profile[:, 0] * self._a2 + self.profile[:, 1]

    def observations(self):
        """``int64[B, 2]`` the action profiles."""
        return self.profile.copy()

    def flat_observations(self):
        """``float32[B, A_1 + A_2]`` one-hot per follower (``MultiDiscrete`` flattening)."""
        return self._flat_of.take(self.observation_ids(), axis=0)

    def check_actions(self, actions):
        """``[B, 2]`` payments within ``[0, max_payment]`` (up to the clipping slack)."""
        actions = self.as_box_actions(actions, (2,))
        payments = actions.astype(np.float64)
        low, high = -self._slack, self._bound + self._slack
        ok = (payments >= low) & (payments <= high)  # NaN fails
        if not ok.all():
            b = first_bad(~ok.all(axis=1))
            raise ValueError(
                f"payments must be finite and in [0, {self._bound}], got "
                f"{actions[b].tolist()} at env index {b}"
            )
        return actions

    def leader_step(self, actions):
        """Pay (clipping float32 rounding into ``[0, max_payment]``); every sub-game is over."""
        np.clip(actions.astype(np.float64), 0.0, self._bound, out=self.payments)
        return self.all_over

    def outcome(self, index):
        """Followers: base utility plus payment; leader: welfare (minus payments if charged)."""
        first, second = self.profile[index, 0], self.profile[index, 1]
        payments = self.payments[index]
        leader = self._welfare[first, second]
        if self._charge:
            leader = leader - (payments[:, 0] + payments[:, 1])
        followers = self._base[:, first, second].T + payments
        return leader, followers
