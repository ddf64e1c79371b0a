"""Certified follower responses: candidates checked against a BCCE gap before the reward phase.

After the fixed response prefix, the learners' candidate responses are checked in this order
(:data:`CANDIDATES`):

* ``"last_mixed"``: the current mixed strategies, independent across followers;
* ``"last_deterministic"``: each type's most likely action (lowest index on ties);
* ``"empirical_average"``: the uniform mixture over the per-update snapshots of the
  strategies (those each complete update played against, before it), kept correlated by
  their common index: ``q(a | θ) = (1/R) Σ_r Π_i x_i^r(a_i | θ_i)``.

The first whose gap (:func:`response_gap`, the notion a parameter) is at most the threshold
is the followers' response. If none passes, the episode plays one more complete update of
the learners (*extension* sub-games, flagged ``info["extension"]``) and checks again, up to
``max_extra_updates``; past that the episode goes on with the candidate of smallest gap and
reports ``certified=False`` with its gap (it never raises).

The gap is computed exactly on the followers' induced game of the leader's committed policy:
the follower utilities of every response sub-game of the episode, plus, for the profiles a
candidate needs and the episode never played, a replay of the committed policy (no POMDP
step). A profile whose replay reaches an observation where the leader never acted this
episode cannot be known: the candidate then fails (gap ``inf``) until an update plays it.
"""

from __future__ import annotations

import math
import numbers
import string
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stackelberg_zoo.envs.core import EconomicGame, InducedGame, leader_value, play
from stackelberg_zoo.envs.pomdp.followers import FollowerSpec
from stackelberg_zoo.equilibrium.arrays import read_only
from stackelberg_zoo.equilibrium.games import BayesianGame, check_distribution
from stackelberg_zoo.equilibrium.gaps import bcce_gap_maxima, bne_gap

CANDIDATES = ("last_mixed", "last_deterministic", "empirical_average")
"""The candidate responses, in the order they are checked."""

GAP_NOTIONS = ("authors", "ex_ante", "agent_form", "interim")
"""The gap notions a certification can use (:func:`response_gap`)."""


@dataclass(frozen=True)
class Certification:
    """How responses are certified (see the module docstring).

    Args:
        threshold: A candidate passes when its gap is at most this (``>= 0``).
        max_extra_updates: Complete updates played after the prefix before giving up
            (``>= 0``).
        notion: The gap (:data:`GAP_NOTIONS`, :func:`response_gap`); ``"authors"``: the
            largest interim gap over followers and own types, floored at 0.

    Raises:
        TypeError, ValueError: On a value of the wrong type or out of range.
    """

    threshold: float = 0.05
    max_extra_updates: int = 10_000
    notion: str = "authors"

    def __post_init__(self):
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, numbers.Real):
            raise TypeError(f"threshold must be a number, got {self.threshold!r}")
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ValueError(f"threshold must be finite and >= 0, got {self.threshold!r}")
        if isinstance(self.max_extra_updates, bool) or not isinstance(
            self.max_extra_updates, numbers.Integral
        ):
            raise TypeError(f"max_extra_updates must be an int, got {self.max_extra_updates!r}")
        if self.max_extra_updates < 0:
            raise ValueError(f"max_extra_updates must be >= 0, got {self.max_extra_updates!r}")
        if self.notion not in GAP_NOTIONS:
            raise ValueError(f"notion must be one of {GAP_NOTIONS}, got {self.notion!r}")


@dataclass(frozen=True)
class CertificationResult:
    """What the certification of one episode's response found.

    Attributes:
        certified: Whether the chosen candidate's gap is at most the threshold.
        candidate: The chosen candidate (:data:`CANDIDATES`): the first that passed, or, if
            none did within the cap, the one of smallest gap (earliest on ties).
        gap: Its gap (``inf`` if the induced game could not be completed).
        extra_updates: Complete updates played after the prefix.
        gaps: The last check's gap of every candidate checked, by name (the candidates after
            a passing one are not checked).
        response: ``[T_1..T_n, A_1..A_n]`` the chosen response ``q(a | θ)`` (read-only; not
            compared by ``==``).
    """

    certified: bool
    candidate: str
    gap: float
    extra_updates: int
    gaps: dict[str, float]
    response: np.ndarray = field(compare=False, repr=False)


def product_conditional(strategies) -> np.ndarray:
    """``[T_1..T_n, A_1..A_n]`` ``Π_i x_i(a_i | θ_i)`` of per-follower ``[T_i, A_i]`` strategies."""
    n = len(strategies)
    letters = string.ascii_letters
    inputs = ",".join(letters[i] + letters[n + i] for i in range(n))
    return np.einsum(f"{inputs}->{letters[: 2 * n]}", *strategies)


def response_gap(payoffs: np.ndarray, prior: np.ndarray, conditional: np.ndarray, notion: str):
    """The gap of the response ``q(a | θ)`` under ``prior`` in the induced game ``payoffs``.

    With ``μ(θ, a) = p(θ) q(a | θ)`` and the per-type deviation table of
    :func:`~stackelberg_zoo.equilibrium.gaps.bcce_gap`:

    * ``"authors"``: ``max(0, max_{i, θ_i} max_b h_i(θ_i, b) / μ(θ_i))``: the best fixed
      deviation's gain of each follower at each own type, in expectation conditioned on that
      type, not weighted by its probability;
    * ``"interim"``: the same without the floor at 0;
    * ``"ex_ante"`` and ``"agent_form"``: the largest over followers of those notions.

    Args:
        payoffs: ``[n, T_1..T_n, A_1..A_n]`` follower utilities.
        prior: ``[T_1..T_n]``.
        conditional: ``[T_1..T_n, A_1..A_n]``.
        notion: One of :data:`GAP_NOTIONS`.

    Raises:
        ValueError: On an unknown notion (the gap functions raise on bad arrays).
    """
    if notion not in GAP_NOTIONS:
        raise ValueError(f"notion must be one of {GAP_NOTIONS}, got {notion!r}")
    n = prior.ndim
    mu = prior.reshape(prior.shape + (1,) * n) * conditional
    game = BayesianGame(payoffs, prior)
    mu = check_distribution("mu", mu / mu.sum(), game.n_types + game.n_actions)
    return _response_gap(game.payoffs, mu, notion)


def _response_gap(payoffs: np.ndarray, mu: np.ndarray, notion: str) -> float:
    """:func:`response_gap` of a normalised ``μ(θ, a) = p(θ) q(a | θ)``, without checks.

    The certifier's inner loop, which builds both arrays itself.
    """
    ex_ante, agent_form, max_interim = bcce_gap_maxima(payoffs, mu)
    if notion == "ex_ante":
        return float(np.max(ex_ante))
    if notion == "agent_form":
        return float(np.max(agent_form))
    interim = float(np.max(max_interim))
    return max(0.0, interim) if notion == "authors" else interim


def response_value(induced: InducedGame, conditional: np.ndarray) -> tuple[float, float]:
    """The exact leader value and the followers' largest interim gap of a response.

    The response ``q(a | θ)`` may be correlated; the game is the induced game of a committed
    policy. The value is ``Σ_θ,a p(θ) q(a | θ) u_L(θ, a)``; with independent strategies
    (:func:`product_conditional`) it is :func:`~stackelberg_zoo.envs.core.leader_value`.

    Args:
        induced: The induced game (:func:`~stackelberg_zoo.envs.core.induced_bayesian_game`).
        conditional: ``[T_1..T_n, A_1..A_n]`` the response, e.g. a
            :class:`CertificationResult`'s ``response``.
    """
    prior = induced.followers.prior
    mu = prior.reshape(prior.shape + (1,) * prior.ndim) * conditional
    gap = response_gap(induced.followers.payoffs, prior, conditional, "interim")
    return float(np.sum(mu * induced.leader_payoffs)), gap


def report_value(induced: InducedGame, report: Any) -> tuple[float, float]:
    """The exact leader value and the followers' largest interim deviation gain of a response.

    ``report`` is one episode's :class:`~stackelberg_zoo.envs.pomdp.report.ResponseReport`.
    Under the certified protocol the response is the certified ``q(a | θ)``
    (:func:`response_value`); otherwise the learned strategies, independent across followers
    (:func:`~stackelberg_zoo.envs.core.leader_value` and the interim
    :func:`~stackelberg_zoo.equilibrium.gaps.bne_gap`).
    """
    if report.certification is not None:
        return response_value(induced, report.certification.response)
    strategies = list(report.strategy)
    interim = bne_gap(induced.followers, strategies).interim
    return leader_value(induced, strategies), max(float(np.nanmax(row)) for row in interim)


def certification_summary(certifications: Sequence[CertificationResult]) -> dict[str, float]:
    """The episodes' certification rate, mean gap and mean extra updates, by those names.

    ``{}`` for no episode: the paper protocol certifies nothing.
    """
    if not certifications:
        return {}
    return {
        "certification_rate": float(np.mean([c.certified for c in certifications])),
        "certification_gap": float(np.mean([c.gap for c in certifications])),
        "extra_updates": float(np.mean([c.extra_updates for c in certifications])),
    }


class Certifier:
    """One environment's certification: the per-update snapshots and the checks.

    Args:
        config: The :class:`Certification`.
        spec: The followers.
        game: The setting's game (to replay the committed policy).
        strategies: Returns the learners' current ``[T_i, A_i]`` strategies.
        greedy: Returns the learners' current per-type argmax, ``int64[T_i]`` each.
    """

    def __init__(
        self,
        config: Certification,
        spec: FollowerSpec,
        game: EconomicGame,
        strategies: Callable[[], list[np.ndarray]],
        greedy: Callable[[], list[np.ndarray]],
    ):
        self.config = config
        self.spec = spec
        self.game = game
        self._strategies = strategies
        self._greedy = greedy
        self._eyes = [np.eye(a) for a in spec.n_actions]
        self.reset()

    def reset(self) -> None:
        """Start an episode: no snapshot, no check."""
        self._sum = np.zeros(self.spec.n_types + self.spec.n_actions)
        self._snapshots = 0
        self.extra_updates = 0
        self.result: CertificationResult | None = None

    def snapshot(self, strategies: Sequence[np.ndarray] | None = None) -> None:
        """Add the learners' current strategies to the empirical average (one update).

        Args:
            strategies: Those strategies, one ``[T_i, A_i]`` array per follower, when the
                caller has them (the batched core computes them for all its copies at
                once); ``None`` reads them.
        """
        self._sum += product_conditional(self._strategies() if strategies is None else strategies)
        self._snapshots += 1

    def conditional(self, candidate: str) -> np.ndarray:
        """``[T_1..T_n, A_1..A_n]`` candidate ``candidate``'s ``q(a | θ)`` now."""
        if candidate == "last_mixed" or (candidate == "empirical_average" and not self._snapshots):
            return product_conditional(self._strategies())
        if candidate == "last_deterministic":
            return product_conditional(
                [eye[table] for eye, table in zip(self._eyes, self._greedy(), strict=True)]
            )
        return self._sum / self._snapshots

    def check(
        self,
        table: np.ndarray,
        known: np.ndarray,
        committed: dict[Hashable, tuple[Hashable, Any]],
        observation_key: Callable[[Any], Hashable],
        final: bool,
    ) -> CertificationResult | None:
        """Check the candidates in order; the result, or ``None`` to play one more update.

        Args:
            table: ``[profiles, n]`` the follower utilities of the profiles played
                (rows of ``known``); missing rows it needs are replayed and written in.
            known: ``bool[profiles]``.
            committed: The episode's commitments (observation key -> (action key, action)).
            observation_key: The episode's observation key function.
            final: No more extension is allowed (give the best candidate).
        """
        gaps: dict[str, float] = {}
        conditionals = {}
        for candidate in CANDIDATES:
            conditional = conditionals[candidate] = self.conditional(candidate)
            gap = self._gap(conditional, table, known, committed, observation_key)
            gaps[candidate] = gap
            if gap <= self.config.threshold:
                return self._finish(True, candidate, gaps, conditional)
        if not final:
            return None
        best = min(CANDIDATES, key=lambda c: (gaps[c], CANDIDATES.index(c)))
        return self._finish(False, best, gaps, conditionals[best])

    def _finish(self, certified, candidate, gaps, conditional) -> CertificationResult:
        self.chosen = read_only(conditional)
        self.result = CertificationResult(
            certified, candidate, gaps[candidate], self.extra_updates, dict(gaps), self.chosen
        )
        return self.result

    def _gap(self, conditional, table, known, committed, observation_key) -> float:
        spec = self.spec
        n = spec.n_followers
        prior = spec.prior
        mu = prior.reshape(prior.shape + (1,) * n) * conditional
        support = mu > 0
        needed = np.zeros_like(support)
        for i in range(n):
            needed |= support.any(axis=n + i, keepdims=True)
        missing = np.flatnonzero(needed.ravel() & ~known)
        dims = spec.n_types + spec.n_actions

        def policy(observation):
            entry = committed.get(observation_key(observation))
            if entry is None:
                raise LookupError
            return entry[1]

        for k in missing.tolist():
            index = np.unravel_index(k, dims)
            try:
                outcome = play(self.game, np.array(index[:n]), np.array(index[n:]), policy)
            except LookupError:
                return math.inf
            table[k] = outcome.followers
            known[k] = True
        payoffs = np.where(known[:, None], table, 0.0).T.reshape((n,) + dims)
        return _response_gap(payoffs, mu / mu.sum(), self.config.notion)
