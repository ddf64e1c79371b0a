"""Matrix design: the leader pays for action profiles (Monderer-Tennenholtz k-implementation).

| Creation           | `make("aec", "stackelberg/matrix-design-v0")`                           |
|--------------------|-------------------------------------------------------------------------|
| Actions            | Leader: Box (payments); followers: Discrete                             |
| Parallel API       | No (the leader observes the followers' action profile)                  |
| Manual Control     | No                                                                      |
| Agents             | `agents = ['leader_0', 'follower_0', 'follower_1']`                     |
| Agents             | 3                                                                       |
| Action Shape       | leader `Box(0, max_payment, (2,), float32)`; followers `Discrete(2)`    |
| Action Values      | leader: a payment to each follower; follower: a row / a column          |
| Observation Shape  | leader `Dict(observation=MultiDiscrete([2, 2]))`; follower `Dict(...)`  |
| Observation Values | leader: the profile `[a_1, a_2]`; follower: `[1.0]` (its one type)      |
| Leader             | `leader_0` sees the profile the followers played and pays each of them  |
| Followers          | `follower_0` (rows) and `follower_1` (columns) play a bimatrix game     |
| Types / prior      | one type per follower (prior `[[1.0]]`)                                 |
| Reference optimum  | `env.unwrapped.game.reference().optimum`: welfare 10/6, zero paid on path |

Two followers play a 2x2 game; the designer (leader) cannot change it, but it can promise
payments for action profiles. It observes the profile the followers played and pays each
follower an amount in `[0, max_payment]`; payments add to the followers' utilities. The
leader's reward is the followers' summed *base* utilities (welfare), so a good designer
promises payments that are never made: paying the row follower at (0, 0) and the column
follower at (1, 1) makes (0, 1) strictly dominant for both, and (0, 1) costs nothing
(Monderer and Tennenholtz 2003, "k-implementation"; research fixture F14). Those promises
are only ever honoured while the followers are learning, which is why this is the setting
where the Stackelberg-vs-Basic POMDP ablation matters most.

Default payoffs `(u_1, u_2)`, normalised by the largest entry 6:

|         | a_2 = 0 | a_2 = 1 |
|---------|---------|---------|
| a_1 = 0 | 3, 3    | 6, 4    |
| a_1 = 1 | 4, 6    | 2, 2    |

Without payments the followers play this game's equilibria: pure (0, 1) and (1, 0) with
welfare 10/6, the mixed equilibrium (4/5, 4/5) with welfare 7.2/6, and coarse correlated
equilibria with welfare anywhere in [7.2/6, 10/6]; `reference().baselines` has these numbers,
computed (the CCE range by linear programming).

### Arguments

```python
from pettingzoo import make

make(
    "aec",
    "stackelberg/matrix-design-v0",
    payoffs=None,            # [2, A_1, A_2] raw follower payoffs; default the table above
    max_payment=10.0,        # largest payment per follower per profile (normalised units)
    normalize=True,          # divide the payoffs by their largest absolute entry
    charge_payments=False,   # subtract payments from the leader's reward
    reference_margin=0.1,    # dominance margin of the reference payment scheme
    max_cycles=None,         # most leader turns per sub-game (the leader has one)
    render_mode=None,        # "ansi" or "human"
)
```

### Observation Space

`Dict`. Followers: `"observation"`, the one-hot of their type (`[1.0]`), and an all-ones
`np.int8` `"action_mask"`. Leader: `"observation"`, the action profile `[a_1, a_2]` (int64);
no mask (its action is continuous). Before the followers have acted the leader's observation
is the blank profile `[0, 0]`; it is only meaningful on the leader's turn. `state()` is a flat
float32 vector (type one-hots, follower action one-hots with a "not yet" slot, the leader
observation, whose turn) for a centralized critic.

### Action Space

Followers: `Discrete(A_i)`. Leader: `Box(0, max_payment, (2,), float32)`, the payments to
`follower_0` and `follower_1` for the observed profile. Out-of-bounds, non-finite or
wrongly shaped payments raise `ValueError` (nothing is clipped beyond float32 rounding).

### Rewards

`follower_i`: `u_i(a) + p_i`, the normalised base utility plus its payment (so follower
rewards lie in `[min u, 1 + max_payment]`, not `[0, 1]`). `leader_0`: `u_1(a) + u_2(a)`,
minus `p_1 + p_2` when `charge_payments=True`. Rewards arrive when the sub-game ends, after
the leader's one move.

### Version History

* v0: Initial release.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.aec import SubgameEnv, subgame_metadata, wrap
from stackelberg_zoo.envs.matrix_design.game import (
    DEFAULT_MAX_PAYMENT,
    DEFAULT_REFERENCE_MARGIN,
    MatrixDesign,
)


class raw_env(SubgameEnv):
    """The matrix design game as a PettingZoo AEC environment (see the module doc)."""

    metadata = subgame_metadata("matrix_design_v0")

    def __init__(
        self,
        payoffs: Any = None,
        max_payment: float = DEFAULT_MAX_PAYMENT,
        normalize: bool = True,
        charge_payments: bool = False,
        reference_margin: float = DEFAULT_REFERENCE_MARGIN,
        max_cycles: int | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(
            MatrixDesign(
                payoffs,
                max_payment=max_payment,
                normalize=normalize,
                charge_payments=charge_payments,
                reference_margin=reference_margin,
            ),
            max_cycles=max_cycles,
            render_mode=render_mode,
        )


def env(**kwargs: Any) -> OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order checks (keyword arguments as ``raw_env``)."""
    return wrap(raw_env(**kwargs))
