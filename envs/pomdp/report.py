"""The report of one response phase: the followers' learned strategy and its diagnostics.

:class:`ResponseReport` is what :attr:`.episode.StackelbergPOMDP.report` (and the batched
core's per-copy reports) hold; its BCCE gaps and regret certificate are computed from a
:class:`DiagnosticsSource`, a copy of the phase's data, the first time one is read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from stackelberg_zoo.envs.core import EconomicGame, play
from stackelberg_zoo.envs.pomdp.certify import CertificationResult
from stackelberg_zoo.envs.pomdp.followers import (
    FollowerSpec,
    RegretCertificate,
    ResponseSnapshot,
)
from stackelberg_zoo.envs.pomdp.followers.certificate import data_equal
from stackelberg_zoo.equilibrium.games import BayesianGame
from stackelberg_zoo.equilibrium.gaps import BayesGapReport, bcce_gap

MAX_INDUCED_PROFILES = 1_000_000
"""Largest ``Π T_i · Π A_i`` for which the exact gaps are computed (else they are skipped)."""


def gaps_unavailable_reason(diagnostics: bool, n_profiles: int, policy_changed: bool) -> str | None:
    """Why an episode's report can have no gaps before any is computed (``None``: it can).

    Args:
        diagnostics: Whether the POMDP keeps the report's data at all.
        n_profiles: ``Π T_i · Π A_i`` of the induced game.
        policy_changed: Whether the leader changed its action at an observation within the
            episode (possible only with ``commitment=False``).
    """
    if not diagnostics:
        return "diagnostics=False"
    if n_profiles > MAX_INDUCED_PROFILES:
        return (
            f"the induced game has {n_profiles} profiles, more than "
            f"MAX_INDUCED_PROFILES={MAX_INDUCED_PROFILES}"
        )
    if policy_changed:
        return (
            "the leader changed its action at an observation within the episode "
            "(commitment=False), so there is no single induced game"
        )
    return None


class _Uncommitted(LookupError):
    """The committed policy has no action at this observation."""


class _Diagnostics(NamedTuple):
    gaps: BayesGapReport | None
    gaps_unavailable: str | None
    certificate: RegretCertificate | None


@dataclass(frozen=True, eq=False)
class DiagnosticsSource:
    """Everything the end-of-phase diagnostics need, copied when the response phase ends."""

    game: EconomicGame
    spec: FollowerSpec
    snapshot: ResponseSnapshot | None
    reason: str | None
    follower_table: np.ndarray | None
    known: np.ndarray | None
    committed: dict[Hashable, Any]
    observation_key: Callable[[Any], Hashable]

    def compute(self) -> _Diagnostics:
        """The gaps (or why they are unavailable) and the certificate, computed now."""
        if self.snapshot is None:
            return _Diagnostics(None, self.reason, None)
        if self.reason is not None:
            return _Diagnostics(None, self.reason, self.snapshot.certificate(None))
        mu = self.snapshot.empirical_play()
        if mu is None:
            reason = "no response round was completed (n_response is shorter than one round)"
            return _Diagnostics(None, reason, self.snapshot.certificate(None))
        reason = self._complete_induced_game(mu)
        if reason is not None:
            return _Diagnostics(None, reason, self.snapshot.certificate(None))
        spec = self.spec
        payoffs = self.follower_table.reshape((spec.n_followers,) + spec.n_types + spec.n_actions)
        gaps = bcce_gap(BayesianGame(payoffs, spec.prior), mu)
        return _Diagnostics(gaps, None, self.snapshot.certificate(payoffs))

    def _committed_action(self, observation: Any) -> Any:
        entry = self.committed.get(self.observation_key(observation))
        if entry is None:
            raise _Uncommitted
        return entry[1]

    def _complete_induced_game(self, mu: np.ndarray) -> str | None:
        """Make sure every entry the gaps read is known; replay the committed policy if not.

        The gaps read ``u(θ, a)`` on the support of ``μ`` and ``u(θ, (b, a_-i))`` for every
        deviation ``b``. Full-information sweeps queried all of them; bandit play did not, so
        the missing ones are played here against the committed policy (no POMDP step).
        Returns why the gaps cannot be computed, or ``None``.
        """
        n = self.spec.n_followers
        support = mu > 0
        needed = np.zeros_like(support)
        for i in range(n):
            needed |= support.any(axis=n + i, keepdims=True)
        missing = np.flatnonzero(needed.ravel() & ~self.known)
        dims = self.spec.n_types + self.spec.n_actions
        unresolved = 0
        for k in missing:
            index = np.unravel_index(int(k), dims)
            types = np.array(index[:n], dtype=np.int64)
            actions = np.array(index[n:], dtype=np.int64)
            try:
                outcome = play(self.game, types, actions, self._committed_action)
            except _Uncommitted:
                unresolved += 1
                continue
            self.follower_table[:, k] = outcome.followers
            self.known[k] = True
        if unresolved:
            return (
                f"{unresolved} profile(s) the gaps need reach a leader observation at which the "
                f"leader never acted this episode, so its committed policy is not known there"
            )
        return None


@dataclass(frozen=True, eq=False)
class ResponseReport:
    """What the followers learned in one response phase, and how close to a BCCE it is.

    ``gaps``, ``gaps_unavailable`` and ``certificate`` are computed from a copy of the
    phase's data the first time one of them is read (an unread report costs nothing).

    Attributes:
        strategy: Per follower ``[T_i, A_i]``: the per-type mixed strategy they play in the
            reward phase (one-hot rows for ``argmax``; see
            :meth:`.followers.Responder.strategy`).
        rounds: Completed learning rounds (sweeps; queries for bandit learners).
        queries: Response sub-games played (``n_response``, plus the extension sub-games
            when certifying).
        certification: When the episode certifies its response, the
            :class:`~.certify.CertificationResult` (``certified``, the chosen ``candidate``,
            its ``gap``, ``extra_updates``); ``strategy`` then holds the chosen response's
            per-type marginals. ``None`` otherwise.
    """

    strategy: tuple[np.ndarray, ...]
    rounds: int
    queries: int
    _source: DiagnosticsSource = field(repr=False)
    certification: CertificationResult | None = None

    @functools.cached_property
    def _diagnostics(self) -> _Diagnostics:
        return self._source.compute()

    @property
    def gaps(self) -> BayesGapReport | None:
        """The BCCE gaps of the response-phase play in the induced game, or ``None``.

        The play is the empirical distribution of the completed rounds' realised types and
        current actions (prior times profile for the best response); the game is the
        followers' induced game given the leader's committed policy. ``ex_ante`` (HST),
        ``agent_form`` and ``interim`` are the three notions of
        :func:`~stackelberg_zoo.equilibrium.gaps.bcce_gap`.
        """
        return self._diagnostics.gaps

    @property
    def gaps_unavailable(self) -> str | None:
        """Why :attr:`gaps` is ``None`` (``None`` when it is not)."""
        return self._diagnostics.gaps_unavailable

    @property
    def certificate(self) -> RegretCertificate | None:
        """The learners' regret certificate (``None`` for the best response).

        ``gaps.ex_ante == certificate.average("realised_regret")`` exactly, and
        ``learner_regret <= bound`` for full-information learners. ``None`` also for
        learners that are not no-regret (Q-learning); :attr:`certificate_unavailable` says so.
        """
        return self._diagnostics.certificate

    @property
    def certificate_unavailable(self) -> str | None:
        """Why the follower model gives no :attr:`certificate` (``None`` if it gives one)."""
        snapshot = self._source.snapshot
        if snapshot is None:
            return self._source.reason
        return snapshot.certificate_unavailable()

    def __eq__(self, other) -> bool:
        if not isinstance(other, ResponseReport):
            return False
        mine = (self.strategy, self.rounds, self.queries, tuple(self._diagnostics))
        theirs = (other.strategy, other.rounds, other.queries, tuple(other._diagnostics))
        if self.certification != other.certification:
            return False
        return data_equal(mine, theirs)

    __hash__ = None
