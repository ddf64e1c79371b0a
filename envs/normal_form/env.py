# ruff: noqa: D212, D415  (the module docstring is the doc page, in PettingZoo's format)
"""
# Normal-form Stackelberg game

| Creation           | `make("aec", "stackelberg/normal-form-v0")`                        |
|--------------------|--------------------------------------------------------------------|
| Parallel creation  | `make("parallel", "stackelberg/normal-form-v0")`                   |
| Actions            | leader: Discrete (pure) or Box (mixed); follower: Discrete         |
| Parallel API       | Yes (the leader never sees the follower's column)                  |
| Manual Control     | No                                                                 |
| Agents             | `agents = ['follower_0', 'leader_0']` (the order of play)          |
| Agents             | 2                                                                  |
| Action Shape       | leader `Discrete(rows)` or `Box(0, 1, (rows,))`                    |
|                    | follower `Discrete(columns)`                                       |
| Action Values      | leader: a row, or row weights in [0, 1]; follower: a column        |
| Observation Shape  | `Dict(observation=Box(0, 1, (1,)), action_mask=Box(0, 1, (n,)))`  |
| Observation Values | leader: constant `[1.0]`; follower: `[1.0]` (its only type)        |
| Leader             | `leader_0` commits to a row, or a mixed row (`mixed_leader=True`)  |
| Followers          | `follower_0` picks a column                                        |
| Types / prior      | one follower, one type (prior `[1.0]`)                             |
| Reference optimum  | `env.unwrapped.game.reference().optimum`: pure commitment value    |
|                    | (pure mode) or strong Stackelberg value (mixed mode), follower     |
|                    | ties broken in the leader's favour                                 |

A leader and a follower play a bimatrix game. The leader's commitment is its policy: the
leader's observation is constant, so it cannot condition on the follower's column, and the
follower (a learner, in the Stackelberg POMDP) adapts to whatever the leader keeps doing.
Named games (payoffs `(leader, follower)`, normalised by the table's largest entry):

* `"escape"` (Zhang et al. 2020's "penalty" game): optimum 1.0 (row L2) in both modes.
* `"maintain"` (their "climbing" game): pure optimum 20/30 (row L0); the mixed optimum is the
  strong Stackelberg value of the randomized game, 27.5/30 at x = (1/4, 3/4, 0), on the
  follower's indifference point.
* `"conitzer"` (Conitzer 2016): pure 2/3, mixed 2.5/3 at x = (1/2, 1/2).
* `"dominance"`: both players have a strictly dominant action; commitment gains nothing.

The optimum is computed by `stackelberg_zoo.equilibrium.stackelberg`, never typed in. The
strong Stackelberg value assumes the follower breaks ties in the leader's favour; a learning
follower does not, so a learned mix approaches the value from inside the best column's region.

In the AEC game the follower moves first, then the leader; since the leader observes nothing
of the follower's move, this is the same game as the simultaneous `parallel_env`. The AEC
env lists its agents in that order of play, so PettingZoo's
`pettingzoo.utils.aec_to_parallel(env)` converts it too (`is_parallelizable: True`); the
parallel env lists `['leader_0', 'follower_0']`.

### Arguments

```python
from pettingzoo import make

make(
    "aec",
    "stackelberg/normal-form-v0",
    game=None,                # a named game; None: "maintain", or the matrices below
    leader_payoffs=None,      # [rows, columns] leader payoffs, for a custom game
    follower_payoffs=None,    # [rows, columns] follower payoffs
    mixed_leader=False,       # commit to mixed rows (Box action) instead of rows
    normalize=True,           # divide every payoff by the table's largest entry
    max_cycles=None,          # most leader turns per sub-game (the leader has one)
    render_mode=None,         # "ansi" or "human"
)
```

### Observation Space

`Dict` with `"observation"` and, for `Discrete` actions, an `np.int8` `"action_mask"`
(all ones: every row and every column is always legal). The follower's `"observation"` is the
one-hot of its type (`[1.0]`); the leader's is the constant `[1.0]`. `state()` is a flat
float32 vector (type one-hot, follower column one-hot with a "not yet" slot, leader
observation, whose turn) for a centralized critic.

### Action Space

Follower: `Discrete(columns)`. Leader, pure mode: `Discrete(rows)`. Leader, mixed mode:
`Box(0, 1, (rows,), float32)`, weights normalised to sum 1 (all zeros: the uniform mix);
weights outside [0, 1] raise `ValueError` (nothing is clipped).

### Rewards

Each agent's (normalised) payoff at the leader's row and the follower's column; in mixed mode
the exact expectation over the leader's mix. Rewards arrive when the sub-game ends, after one
leader move.

### Version History

* v0: Initial release.
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from stackelberg_zoo.envs.aec import SubgameEnv, subgame_metadata, wrap
from stackelberg_zoo.envs.normal_form.game import DEFAULT_GAME, NormalFormStackelberg
from stackelberg_zoo.envs.parallel import SimultaneousSubgameEnv

METADATA = subgame_metadata("normal_form_v0", is_parallelizable=True)
"""Shared by the AEC and the parallel environment."""


def make_game(
    game: str | None = None,
    leader_payoffs: Any = None,
    follower_payoffs: Any = None,
    mixed_leader: bool = False,
    normalize: bool = True,
) -> NormalFormStackelberg:
    """The game behind both environments; ``game=None`` without matrices is ``"maintain"``."""
    if game is None and leader_payoffs is None and follower_payoffs is None:
        game = DEFAULT_GAME
    return NormalFormStackelberg(
        game,
        leader_payoffs=leader_payoffs,
        follower_payoffs=follower_payoffs,
        mixed_leader=mixed_leader,
        normalize=normalize,
    )


class raw_env(SubgameEnv):
    """The normal-form Stackelberg game as a PettingZoo AEC environment (see the module doc)."""

    metadata = METADATA

    def __init__(
        self,
        game: str | None = None,
        leader_payoffs: Any = None,
        follower_payoffs: Any = None,
        mixed_leader: bool = False,
        normalize: bool = True,
        max_cycles: int | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(
            make_game(game, leader_payoffs, follower_payoffs, mixed_leader, normalize),
            max_cycles=max_cycles,
            render_mode=render_mode,
        )


class parallel_env(SimultaneousSubgameEnv):
    """The normal-form Stackelberg game as a PettingZoo parallel environment: one step."""

    metadata = METADATA

    def __init__(
        self,
        game: str | None = None,
        leader_payoffs: Any = None,
        follower_payoffs: Any = None,
        mixed_leader: bool = False,
        normalize: bool = True,
        max_cycles: int | None = None,
        render_mode: str | None = None,
    ):
        super().__init__(
            make_game(game, leader_payoffs, follower_payoffs, mixed_leader, normalize),
            max_cycles=max_cycles,
            render_mode=render_mode,
        )


def env(**kwargs: Any) -> OrderEnforcingWrapper:
    """The AEC environment with PettingZoo's order checks (keyword arguments as ``raw_env``)."""
    return wrap(raw_env(**kwargs))
