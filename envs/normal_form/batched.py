"""Normal-form Stackelberg games for ``B`` environments at once (the batched POMDP's hot path).

The same sub-game as :class:`~stackelberg_zoo.envs.normal_form.game.NormalFormStackelberg`,
on arrays: ``column[B]`` (the follower's column) and, once the leader has moved, ``row[B]``
(pure mode) or ``strategy[B, rows]`` (mixed mode). Utilities are computed with the same
floating-point operations as the scalar game (mixed mode: the weights divided by their sum,
then ``(x * payoff_column).sum()``), so the two agree exactly; ``tests/test_batched.py``
checks it on random inputs.
"""

from __future__ import annotations

import numpy as np

from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp.batched_game import BatchedGame, first_bad


class BatchedNormalForm(BatchedGame):
    """:class:`NormalFormStackelberg` for ``num_envs`` environments.

    The leader's observation is the constant ``[1.0]``, so there is one observation id.

    Args:
        game: The scalar game (payoffs, pure or mixed leader).
        num_envs: ``B``.
    """

    def __init__(self, game: NormalFormStackelberg, num_envs: int):
        if not isinstance(game, NormalFormStackelberg):
            raise TypeError(f"game must be a NormalFormStackelberg, got {game!r}")
        super().__init__(game, num_envs)
        self.mixed = game.mixed_leader
        self.n_rows = game.n_rows
        self._leader = np.asarray(game.leader_payoffs)
        self._follower = np.asarray(game.follower_payoffs)
        # [columns, rows]: one payoff column per row of these, contiguous for the mixed sums.
        self._leader_by_column = np.ascontiguousarray(self._leader.T)
        self._follower_by_column = np.ascontiguousarray(self._follower.T)
        self.column = np.zeros(num_envs, dtype=np.int64)
        self.row = np.zeros(num_envs, dtype=np.int64)
        self.strategy = np.zeros((num_envs, self.n_rows))
        self.n_observation_ids = 1
        self._ids = np.zeros(num_envs, dtype=np.int64)
        self._ids.setflags(write=False)
        self._observation = np.ones((num_envs, 1), dtype=np.float32)
        self._observation.setflags(write=False)

    def start(self, index, types, actions):
        """Begin sub-games: ``column[index] = actions[:, 0]`` (one follower of one type)."""
        self.column[index] = actions[:, 0]

    def observation_ids(self):
        """All zeros: the observation is constant."""
        return self._ids

    def observations(self):
        """``float32[B, 1]`` ones."""
        return self._observation.copy()

    def flat_observations(self):
        """``float32[B, 1]`` ones (the flattening of the ``Box``)."""
        return self._observation

    def check_actions(self, actions):
        """Pure: ``int[B]`` rows in range; mixed: ``[B, rows]`` weights in ``[0, 1]``."""
        if not self.mixed:
            return self.as_discrete_actions(actions, self.n_rows, "leader's row")
        actions = self.as_box_actions(actions, (self.n_rows,))
        ok = (actions >= 0.0) & (actions <= 1.0)  # NaN fails
        if not ok.all():
            b = first_bad(~ok.all(axis=1))
            raise ValueError(
                f"the leader's action must be {self.n_rows} weights in [0, 1], got "
                f"{actions[b].tolist()} at env index {b}"
            )
        return actions

    def leader_step(self, actions):
        """The leader commits (the row, or the normalised mix); every sub-game is over."""
        if not self.mixed:
            self.row[...] = actions
        else:
            weights = actions.astype(np.float64)
            total = weights.sum(axis=1)
            zero = total == 0
            total[zero] = 1.0
            np.divide(weights, total[:, None], out=self.strategy)
            self.strategy[zero] = 1.0 / self.n_rows
        return self.all_over

    def outcome(self, index):
        """Leader ``[k]`` and follower ``[k, 1]`` utilities (exact expectations when mixed)."""
        column = self.column[index]
        if not self.mixed:
            row = self.row[index]
            return self._leader[row, column], self._follower[row, column][:, None]
        x = self.strategy[index]
        leader = (x * self._leader_by_column[column]).sum(axis=1)
        follower = (x * self._follower_by_column[column]).sum(axis=1)
        return leader, follower[:, None]
