"""Normal-form Stackelberg games: the leader commits to a (mixed) row, the follower answers.

The named bimatrices of the suite live here, once, as raw payoffs ``(leader, follower)``;
:class:`NormalFormStackelberg` turns one of them (or any bimatrix) into an
:class:`~stackelberg_zoo.envs.core.EconomicGame` with one follower of one type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import gymnasium
import numpy as np

from stackelberg_zoo.envs.core import EconomicGame, Outcome, Reference, Target, format_array
from stackelberg_zoo.envs.validation import (
    as_real_array,
    check_flag,
    check_game_sizes,
    check_table_size,
)
from stackelberg_zoo.equilibrium.stackelberg import (
    pure_commitment,
    robust_commitment,
    strong_stackelberg,
)


@dataclass(frozen=True)
class NamedBimatrix:
    """A published leader/follower game.

    Attributes:
        leader: ``[rows, columns]`` raw leader payoffs.
        follower: ``[rows, columns]`` raw follower payoffs.
        source: Where the game comes from.
    """

    leader: tuple[tuple[float, ...], ...]
    follower: tuple[tuple[float, ...], ...]
    source: str


NAMED_GAMES: Mapping[str, NamedBimatrix] = MappingProxyType(
    {
        "escape": NamedBimatrix(
            leader=((15, 10, 0), (10, 10, 0), (0, 0, 30)),
            follower=((15, 10, 0), (10, 10, 0), (0, 0, 30)),
            source='Zhang et al. 2020, "Bi-level actor-critic", their "penalty" game; '
            "Brero et al.'s game_1",
        ),
        "maintain": NamedBimatrix(
            leader=((20, 0, 0), (30, 10, 0), (0, 0, 5)),
            follower=((15, 0, 0), (0, 5, 0), (0, 0, 10)),
            source='Zhang et al. 2020, "Bi-level actor-critic", their "climbing" game; '
            "Brero et al.'s game_2",
        ),
        "conitzer": NamedBimatrix(
            leader=((1, 3), (0, 2)),
            follower=((1, 0), (0, 1)),
            source='Conitzer 2016, "On Stackelberg mixed strategies"; Brero et al.\'s game_3',
        ),
        "dominance": NamedBimatrix(
            leader=((3, 1), (2, 0)),
            follower=((2, 3), (0, 1)),
            source="Brero et al.'s game_4: both players have a strictly dominant action, so "
            "commitment gains the leader nothing",
        ),
    }
)
"""The suite's named normal-form games, by name."""

DEFAULT_GAME = "maintain"
"""The game the environments play when neither a name nor matrices are given."""

FOLLOWER_MODEL = (
    "the follower best-responds to the leader's committed (pure or mixed) row; ties between "
    "its best columns are broken in the leader's favour (strong Stackelberg)"
)


@dataclass(frozen=True)
class NormalFormState:
    """A sub-game in progress.

    Attributes:
        column: The follower's column.
        leader_strategy: ``[rows]`` the leader's (possibly degenerate) mixed row once it has
            moved, else ``None``.
        row: The leader's row in pure mode once it has moved, else ``None``.
    """

    column: int
    leader_strategy: np.ndarray | None = None
    row: int | None = None


class NormalFormStackelberg(EconomicGame):
    """A bimatrix game where the leader commits to a row and the follower answers.

    One follower with one type; its actions are the columns. The leader's observation is
    constant (``[1.0]``): it cannot see the follower's column, so play is simultaneous and
    the leader's commitment is its policy. In pure mode the leader's action is a row index;
    in mixed mode it is a weight vector in ``[0, 1]^rows``, normalised to sum 1 (all zeros:
    uniform), and utilities are exact expectations over the mix.

    Args:
        game: A name in :data:`NAMED_GAMES`; ``None`` when the matrices are given.
        leader_payoffs: ``[rows, columns]`` leader payoffs (with ``follower_payoffs``,
            instead of ``game``).
        follower_payoffs: ``[rows, columns]`` follower payoffs.
        mixed_leader: Whether the leader commits to mixed rows.
        normalize: Divide every payoff by the largest entry of the bimatrix (both players'),
            as the reference code does, so that non-negative tables land in ``[0, 1]``.

    Raises:
        ValueError: On an unknown name, both or neither of ``game`` and the matrices,
            matrices that are not 2-D of the same shape, NaN or infinite entries, more than
            :data:`~stackelberg_zoo.envs.validation.MAX_TABLE_ENTRIES` cells, or
            ``normalize`` with a largest entry ``<= 0``.
        TypeError: On matrices with entries that are not real numbers (numeric strings and
            bools are refused, not converted) or flags that are not bools.

    Example:
        >>> game = NormalFormStackelberg("maintain")
        >>> game.leader_payoffs[0, 0], game.follower_payoffs[0, 0]
        (np.float64(0.6666666666666666), np.float64(0.5))
        >>> from stackelberg_zoo.envs.core import play
        >>> play(game, [0], [0], lambda obs: 0).leader
        0.6666666666666666
    """

    pure_single_turn = True  # one leader turn; pure, value-only logic (core docstring)

    def __init__(
        self,
        game: str | None = None,
        *,
        leader_payoffs: Any = None,
        follower_payoffs: Any = None,
        mixed_leader: bool = False,
        normalize: bool = True,
    ):
        given = leader_payoffs is not None or follower_payoffs is not None
        if game is not None and given:
            raise ValueError(
                f"pass either game={game!r} or leader_payoffs/follower_payoffs, not both"
            )
        if game is not None:
            if not isinstance(game, str) or game not in NAMED_GAMES:
                raise ValueError(f"game must be one of {sorted(NAMED_GAMES)}, got {game!r}")
            leader_payoffs = NAMED_GAMES[game].leader
            follower_payoffs = NAMED_GAMES[game].follower
        elif leader_payoffs is None or follower_payoffs is None:
            raise ValueError(
                f"pass a game name or both matrices; got leader_payoffs={leader_payoffs!r}, "
                f"follower_payoffs={follower_payoffs!r}"
            )
        check_flag("mixed_leader", mixed_leader)
        check_flag("normalize", normalize)
        leader = as_real_array("leader_payoffs", leader_payoffs)
        follower = as_real_array("follower_payoffs", follower_payoffs)
        if leader.ndim != 2 or leader.shape != follower.shape or leader.size == 0:
            raise ValueError(
                f"leader_payoffs and follower_payoffs must be non-empty matrices of the same "
                f"shape [rows, columns], got shapes {leader.shape} and {follower.shape}"
            )
        arguments = {"leader_payoffs.shape": leader.shape}
        check_table_size(arguments, leader.shape, "payoff table")  # cached cell by cell below
        check_game_sizes(arguments, (1,), (leader.shape[1],))
        self.raw_leader_payoffs = _frozen(leader)
        self.raw_follower_payoffs = _frozen(follower)
        scale = 1.0
        if normalize:
            scale = float(max(leader.max(), follower.max()))
            if scale <= 0:
                raise ValueError(
                    f"normalize=True divides by the largest entry of leader_payoffs and "
                    f"follower_payoffs, which must be positive; got {scale} (pass "
                    f"normalize=False for such tables)"
                )
        self.name = game
        self.mixed_leader = bool(mixed_leader)
        self.normalize = bool(normalize)
        self.scale = scale
        self.leader_payoffs = _frozen(leader / scale)
        self.follower_payoffs = _frozen(follower / scale)
        rows, columns = leader.shape
        self.n_rows, self.n_columns = rows, columns

        self.n_types = (1,)
        self.n_follower_actions = (columns,)
        self.prior = _frozen(np.ones(1))
        self.leader_observation_space = gymnasium.spaces.Box(0.0, 1.0, (1,), dtype=np.float32)
        if self.mixed_leader:
            self.leader_action_space = gymnasium.spaces.Box(0.0, 1.0, (rows,), dtype=np.float32)
        else:
            self.leader_action_space = gymnasium.spaces.Discrete(rows)
        self._observation = np.ones(1, dtype=np.float32)
        self._pure_rows = np.eye(rows)
        self._pure_rows.setflags(write=False)
        # Hot-path caches: states and states/outcomes are immutable (frozen dataclasses,
        # read-only arrays), so one instance per column / (row, column) is shared.
        self._start_states = tuple(NormalFormState(column=c) for c in range(columns))
        self._pure_states = tuple(
            tuple(
                NormalFormState(column=c, leader_strategy=self._pure_rows[r], row=r)
                for c in range(columns)
            )
            for r in range(rows)
        )
        self._pure_outcomes = tuple(
            tuple(
                Outcome(
                    leader=float(self.leader_payoffs[r, c]),
                    followers=_frozen(self.follower_payoffs[r, c : c + 1]),
                )
                for c in range(columns)
            )
            for r in range(rows)
        )

    def initial_leader_observation(self) -> np.ndarray:
        """The leader's constant observation ``[1.0]`` (it never sees the follower)."""
        return self._observation.copy()

    def start(self, types: np.ndarray, follower_actions: np.ndarray) -> NormalFormState:
        """Begin a sub-game once the follower has picked its column.

        Raises:
            ValueError: If the type is not ``[0]`` or the column is out of range.
        """
        if (
            type(types) is np.ndarray
            and type(follower_actions) is np.ndarray
            and types.shape == follower_actions.shape == (1,)
            and follower_actions.dtype.kind in "iu"
        ):  # the POMDP's fast path: int64 arrays
            column = follower_actions.tolist()[0]
            if types.tolist()[0] == 0 and 0 <= column < self.n_columns:
                return self._start_states[column]
        if len(types) != 1 or types[0] != 0:
            raise ValueError(f"types must be [0] (one follower, one type), got {types!r}")
        if len(follower_actions) != 1 or not 0 <= follower_actions[0] < self.n_columns:
            raise ValueError(
                f"follower_actions must be one column in [0, {self.n_columns}), "
                f"got {follower_actions!r}"
            )
        return NormalFormState(column=int(follower_actions[0]))

    def leader_observation(self, state: NormalFormState) -> np.ndarray:
        """The constant observation ``[1.0]``."""
        return self._observation.copy()

    def leader_strategy(self, action: Any) -> np.ndarray:
        """The ``[rows]`` mixed row a leader action stands for.

        Pure mode: the row's indicator. Mixed mode: the weights normalised to sum 1, or the
        uniform mix if they are all zero.

        Raises:
            TypeError: If the action has the wrong kind.
            ValueError: If it is not a row index / not ``rows`` finite weights in ``[0, 1]``.
        """
        if not self.mixed_leader:
            if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer):
                if not (
                    isinstance(action, np.ndarray)
                    and action.shape == ()
                    and np.issubdtype(action.dtype, np.integer)
                ):
                    raise TypeError(f"the leader's action must be a row index, got {action!r}")
            if not 0 <= action < self.n_rows:
                raise ValueError(f"the leader's row must be in [0, {self.n_rows}), got {action!r}")
            return self._pure_rows[int(action)]
        if type(action) is np.ndarray and action.dtype.kind in "iuf":
            weights = action.astype(np.float64)
        else:  # refuses bools, complex numbers and strings rather than converting them
            weights = as_real_array("the leader's action (row weights)", action)
        values = weights.tolist() if weights.shape == (self.n_rows,) else None
        if values is None or not all(0.0 <= v <= 1.0 for v in values):  # NaN fails too
            raise ValueError(
                f"the leader's action must be {self.n_rows} weights in [0, 1], got {action!r}"
            )
        total = weights.sum()
        if total == 0:
            return np.full(self.n_rows, 1.0 / self.n_rows)
        return weights / total

    def leader_step(self, state: NormalFormState, action: Any) -> NormalFormState:
        """The leader commits; the sub-game is over.

        Raises:
            ValueError: If the leader already moved or the action is invalid.
        """
        if state.leader_strategy is not None:
            raise ValueError("the leader has already moved in this sub-game")
        if not self.mixed_leader and type(action) in (int, np.int64) and 0 <= action < self.n_rows:
            return self._pure_states[action][state.column]  # valid pure row: the cached state
        strategy = self.leader_strategy(action)
        row = None if self.mixed_leader else int(action)
        return NormalFormState(column=state.column, leader_strategy=strategy, row=row)

    def is_over(self, state: NormalFormState) -> bool:
        """Over once the leader has committed."""
        return state.leader_strategy is not None

    def outcome(self, state: NormalFormState) -> Outcome:
        """Exact expected utilities of the leader's mix against the follower's column.

        Raises:
            ValueError: If the leader has not moved yet.
        """
        if state.leader_strategy is None:
            raise ValueError("the sub-game is not over: the leader has not moved")
        x, column = state.leader_strategy, state.column
        if state.row is not None:  # the same numbers as the product with a one-hot mix
            return self._pure_outcomes[state.row][column]  # followers: read-only [1]
        # Products and sums rather than BLAS dots, whose rounding depends on the BLAS build:
        # the batched game (envs/normal_form/batched.py) reproduces these numbers exactly.
        return Outcome(
            leader=float((x * self.leader_payoffs[:, column]).sum()),
            followers=np.array([(x * self.follower_payoffs[:, column]).sum()]),
        )

    def reference(self) -> Reference:
        """Exact commitment values (on the normalised payoffs if ``normalize``).

        ``optimum`` is the pure-commitment value in pure mode and the strong Stackelberg
        value in mixed mode, both against a best-responding follower that breaks ties in the
        leader's favour. ``optimal_policy`` is the optimal row (pure) or mix (mixed). A
        learning follower does not break ties for the leader: when the optimal mix sits on
        the follower's indifference point, the value is approached by mixes slightly inside
        the best column's region, not attained.
        """
        pure = pure_commitment(self.leader_payoffs, self.follower_payoffs)
        strong = strong_stackelberg(self.leader_payoffs, self.follower_payoffs)
        best = strong if self.mixed_leader else pure
        pure_row = int(np.argmax(np.asarray(pure.leader_strategy)))
        return Reference(
            optimum=float(best.leader_value),
            optimal_policy=(
                np.asarray(strong.leader_strategy, dtype=np.float64).copy()
                if self.mixed_leader
                else pure_row
            ),
            follower_model=FOLLOWER_MODEL,
            baselines={
                "pure_commitment": float(pure.leader_value),
                "strong_stackelberg": float(strong.leader_value),
            },
            details={
                "follower_action": int(best.follower_action),
                "pure_commitment": pure,
                "strong_stackelberg": strong,
            },
        )

    # -- the Stackelberg POMDP's hooks -------------------------------------------------------

    def follower_utility_bounds(self) -> tuple[float, float]:
        """``(min(0, min B), max(1, max B))`` over the follower's (normalised) payoffs ``B``.

        The follower's utility is an entry of ``B`` (pure mode) or a mix of one column's
        entries (mixed mode), so it lies in ``[min B, max B]``; this is that interval widened
        to cover ``[0, 1]`` (the normalised default of
        :meth:`EconomicGame.follower_utility_bounds`). It is ``(0.0, 1.0)`` for every named
        game and for any table normalised into ``[0, 1]``; wider for tables with negative
        entries or ``normalize=False``.

        >>> NormalFormStackelberg("escape").follower_utility_bounds()
        (0.0, 1.0)
        """
        payoffs = self.follower_payoffs
        return min(0.0, float(payoffs.min())), max(1.0, float(payoffs.max()))

    # -- what trainers print and save (see EconomicGame) -------------------------------------

    def observation_fields(self, observation: Any) -> dict[str, Any]:
        """The leader's constant observation, named."""
        return {"constant": float(np.asarray(observation).reshape(-1)[0])}

    def describe_mechanism(self, mechanism: Sequence[tuple[Any, Any]]) -> list[str]:
        """One line: the committed row, or the committed mix over rows."""
        action = mechanism[0][1]
        if self.mixed_leader:
            return [f"leader mix over rows: {format_array(self.leader_strategy(action))}"]
        return [f"leader commits to row {int(action)}"]

    def learning_target(self, margin: float) -> Target:
        """The optimum; with mixed commitments the best one whose response is strict by ``margin``.

        The strong Stackelberg mix sits on the follower's indifference point, where a learning
        follower does not break the tie for the leader; ``robust_commitment`` gives the best
        value a mix reaches with the follower's best column ahead by ``margin``.
        """
        optimum = float(self.reference().optimum) + 0.0
        if not self.mixed_leader:
            return Target(optimum, FOLLOWER_MODEL)
        robust = robust_commitment(self.leader_payoffs, self.follower_payoffs, margin=margin)
        return Target(
            robust.leader_value,
            f"best commitment making the follower's response strict by {margin} "
            f"(robust_commitment; the SSE {optimum:.4f} needs a leader-favourable tie)",
        )

    def describe(self, state: NormalFormState) -> str:
        """The leader's mix (mixed mode) and the payoff cell(s) it lands on."""
        if state.leader_strategy is None or not self.mixed_leader:
            return ""
        mix = np.array2string(state.leader_strategy, precision=3, suppress_small=True)
        return f"leader mix over rows: {mix}; follower column {state.column}"

    def __repr__(self) -> str:
        name = self.name if self.name is not None else "custom"
        return (
            f"NormalFormStackelberg({name!r}, shape={self.leader_payoffs.shape}, "
            f"mixed_leader={self.mixed_leader}, normalize={self.normalize})"
        )


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array
