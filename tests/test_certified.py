"""Certified follower responses, the exact-expectation MW form and the exact reward phase.

Checked against independent computations: the induced game of the leader's policy
(``induced_bayesian_game``), the equilibrium module's gaps, and hand-worked MW updates.
"""

from __future__ import annotations

import functools
import math

import gymnasium
import numpy as np
import pettingzoo
import pytest

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.core import (
    EconomicGame,
    Outcome,
    Reference,
    aggregates_reward_phase,
    induced_bayesian_game,
    leader_value,
)
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.mspm.reference import mspm_reference
from stackelberg_zoo.envs.pomdp import certify
from stackelberg_zoo.envs.pomdp.batched import BatchedStackelbergPOMDP
from stackelberg_zoo.envs.pomdp.certify import (
    CANDIDATES,
    Certification,
    CertificationResult,
    certification_summary,
    product_conditional,
    report_value,
    response_gap,
    response_value,
)
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.exact_reward import exact_reward_plan
from stackelberg_zoo.envs.pomdp.followers import (
    HedgeResponse,
    MultiplicativeWeightsResponse,
    RegretMatchingResponse,
    response_algorithm,
)
from stackelberg_zoo.envs.pomdp.followers.exp3 import Exp3Response
from stackelberg_zoo.envs.pomdp.protocol import PROTOCOLS, certified_prefix
from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS
from stackelberg_zoo.equilibrium.games import BayesianGame
from stackelberg_zoo.equilibrium.gaps import bcce_gap, bne_gap

TOL = 1e-12


class Pennies(EconomicGame):
    """Two one-type followers play an asymmetric matching-pennies game; the leader only watches.

    Follower 0 wants to match (1 on (0, 0), 0.5 on (1, 1)), follower 1 to mismatch. No pure
    equilibrium; the mixed one is not uniform, so learners starting uniform move and cycle.
    """

    U = np.array([[[1.0, 0.0], [0.0, 0.5]], [[0.0, 1.0], [1.0, 0.0]]])  # [i, a0, a1]

    def __init__(self):
        self.n_types = (1, 1)
        self.n_follower_actions = (2, 2)
        self.prior = np.ones((1, 1))
        self.leader_observation_space = gymnasium.spaces.Discrete(1)
        self.leader_action_space = gymnasium.spaces.Discrete(1)

    def start(self, types, follower_actions):
        return (int(follower_actions[0]), int(follower_actions[1]), False)

    def leader_observation(self, state):
        return 0

    def leader_step(self, state, action):
        return state[:2] + (True,)

    def is_over(self, state):
        return state[2]

    def outcome(self, state):
        followers = self.U[:, state[0], state[1]]
        return Outcome(float(followers.sum()), followers.copy())

    def reference(self):
        return Reference(0.0, None, "not used")


def play_episode(pomdp, policy, rng):
    """One episode with the leader acting by ``policy``; return, steps and extension flags."""
    observation, info = pomdp.reset(rng)
    assert info["extension"] is False
    total, infos = 0.0, []
    while True:
        step = pomdp.step(policy(observation))
        total += step.reward
        infos.append(step.info)
        observation = step.observation
        if step.terminated:
            return total, infos


def mspm(t):
    game = SequentialPriceMechanism("uniform", n_values=t, n_messages=2)
    return game, mspm_reference(game).optimal_policy


# -- the pieces -------------------------------------------------------------------------------


def test_product_conditional_and_gap_notions_agree_with_the_equilibrium_module():
    rng = np.random.default_rng(3)
    payoffs = rng.random((2, 2, 3, 2, 2))
    prior = rng.random((2, 3))
    prior /= prior.sum()  # correlated
    sigmas = [rng.dirichlet(np.ones(2), size=2), rng.dirichlet(np.ones(2), size=3)]
    q = product_conditional(sigmas)
    np.testing.assert_allclose(q[1, 2, 0, 1], sigmas[0][1, 0] * sigmas[1][2, 1], atol=TOL)
    np.testing.assert_allclose(q.sum(axis=(2, 3)), 1.0, atol=TOL)
    game = BayesianGame(payoffs, prior)
    reference = bne_gap(game, sigmas)  # the independent path: a mixed profile and its prior
    interim = max(float(np.nanmax(g)) for g in reference.interim)
    assert response_gap(payoffs, prior, q, "interim") == pytest.approx(interim, abs=1e-12)
    assert response_gap(payoffs, prior, q, "authors") == pytest.approx(max(0, interim), abs=1e-12)
    report = bcce_gap(game, prior[:, :, None, None] * q)
    assert response_gap(payoffs, prior, q, "ex_ante") == pytest.approx(report.ex_ante.max())
    assert response_gap(payoffs, prior, q, "agent_form") == pytest.approx(report.agent_form.max())
    with pytest.raises(ValueError, match="notion"):
        response_gap(payoffs, prior, q, "nash")


@pytest.mark.parametrize("n", [2, 3])
def test_the_certifiers_unchecked_gap_has_the_bits_of_the_checked_report(n):
    """The certifier's inner loop skips validation (`_response_gap`, `bcce_gap_maxima`); it
    must give the same bits as `bcce_gap`'s report, or a certified episode would change."""
    rng = np.random.default_rng(11 + n)
    for _ in range(200):
        types = tuple(int(t) for t in rng.integers(1, 4, size=n))
        actions = tuple(int(a) for a in rng.integers(1, 4, size=n))
        payoffs = rng.normal(size=(n, *types, *actions))
        prior = rng.random(types) * (rng.random(types) > 0.3)  # types of zero mass too
        if prior.sum() == 0:
            prior.flat[0] = 1.0
        prior /= prior.sum()
        sigmas = [rng.dirichlet(np.ones(a), size=t) for t, a in zip(types, actions, strict=True)]
        q = product_conditional(sigmas)
        mu = prior.reshape(prior.shape + (1,) * n) * q
        report = bcce_gap(BayesianGame(payoffs, prior), mu / mu.sum())
        expected = {
            "ex_ante": float(np.max(report.ex_ante)),
            "agent_form": float(np.max(report.agent_form)),
            "interim": float(np.max(report.max_interim)),
        }
        expected["authors"] = max(0.0, expected["interim"])
        for notion, value in expected.items():
            assert certify._response_gap(payoffs, mu / mu.sum(), notion) == value  # bits
            assert response_gap(payoffs, prior, q, notion) == value
    # the public function still checks its arrays
    square, prior = np.zeros((2, 2, 2, 2, 2)), np.full((2, 2), 0.25)
    with pytest.raises(ValueError, match="shape"):
        response_gap(square, prior, np.full((2, 2, 3, 2), 1 / 6), "authors")
    square[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="payoffs"):
        response_gap(square, prior, np.full((2, 2, 2, 2), 0.25), "authors")


def test_exact_reward_plan_weights_every_supported_profile():
    prior = np.array([[0.5, 0.0], [0.2, 0.3]])
    q = product_conditional([np.array([[1.0, 0.0], [0.25, 0.75]]), np.array([[0.5, 0.5]] * 2)])
    plan = exact_reward_plan(prior, q)
    assert plan.queries[0] == (0, 0, 0, 0)
    assert all(prior[query[:2]] > 0 for query in plan.queries)
    assert len(plan) == 2 + 4 + 4  # (0,0): 2 profiles; (1,0), (1,1): 4 each
    assert math.fsum(plan.weights) == pytest.approx(1.0, abs=TOL)
    assert plan.weights[plan.queries.index((1, 1, 1, 0))] == pytest.approx(0.3 * 0.75 * 0.5)


def test_certification_arguments_are_checked():
    with pytest.raises(ValueError, match="threshold"):
        Certification(threshold=-0.1)
    with pytest.raises(TypeError, match="max_extra_updates"):
        Certification(max_extra_updates=1.5)
    with pytest.raises(ValueError, match="notion"):
        Certification(notion="ex-ante")
    game, _ = mspm(3)
    with pytest.raises(ValueError, match="protocol"):
        StackelbergPOMDP(game, protocol="v5")
    with pytest.raises(TypeError, match="certify"):
        StackelbergPOMDP(game, certify="yes")
    with pytest.raises(ValueError, match="learning follower"):
        StackelbergPOMDP(game, "best_response", certify=True)
    with pytest.raises(ValueError, match="commitment"):
        StackelbergPOMDP(game, certify=True, commitment=False)
    with pytest.raises(ValueError, match="at least one complete update"):
        StackelbergPOMDP(game, protocol="certified", n_response=3)
    with pytest.raises(ValueError, match="form"):
        MultiplicativeWeightsResponse(form="exact")


def test_certified_prefix_is_the_authors_for_msgspace():
    prefixes = [StackelbergPOMDP(mspm(t)[0], protocol="certified").n_response for t in (3, 4, 5, 6)]
    assert prefixes == [300, 532, 832, 1200]
    assert certified_prefix(mspm(4)[0]) == 533  # before rounding to complete updates


# -- whole episodes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "followers",
    [
        None,  # the protocol's: MW, exact expectation, eps 0.1
        MultiplicativeWeightsResponse(),
        HedgeResponse(),
        RegretMatchingResponse(),
        RegretMatchingResponse(plus=True),
        Exp3Response(),
    ],
    ids=["mw_expectation", "mw_sweep", "hedge", "rm", "rm_plus", "exp3"],
)
def test_certified_episode_is_exact_and_its_gap_is_the_induced_games(followers):
    game, policy = mspm(3)
    pomdp = StackelbergPOMDP(game, followers, protocol="certified", diagnostics=False)
    induced = induced_bayesian_game(game, policy)
    prior = np.asarray(game.prior)
    for _ in range(2):
        total, infos = play_episode(pomdp, policy, np.random.default_rng(7))
        result = pomdp.report.certification
        assert result.candidate in CANDIDATES
        q = result.response
        gap = response_gap(np.asarray(induced.followers.payoffs), prior, q, "authors")
        assert result.gap == pytest.approx(gap, abs=1e-12)
        assert result.certified == (gap <= 0.05)
        expected = float((prior[:, :, None, None] * q * induced.leader_payoffs).sum())
        assert total == pytest.approx(expected, abs=1e-12)
        response = [info for info in infos if info["phase"] == 0]
        extension = [info["extension"] for info in response]
        per_update = pomdp.followers.queries_per_round
        assert pomdp.report.queries == pomdp.n_response + per_update * result.extra_updates
        assert sum(extension) == per_update * result.extra_updates
        assert not any(info["extension"] for info in infos if info["phase"] == 1)
        reward_sub_games = {info["sub_game"] for info in infos if info["phase"] == 1}
        assert len(reward_sub_games) == int((prior[:, :, None, None] * q > 0).sum())


def test_the_cap_is_reported_not_raised():
    """No candidate reaches gap 0 in asymmetric matching pennies: the cap ends the response."""
    certify = Certification(threshold=0.0, max_extra_updates=3)
    pomdp = StackelbergPOMDP(
        Pennies(), protocol="certified", certify=certify, n_response=8, n_reward=1
    )
    total, infos = play_episode(pomdp, lambda observation: 0, np.random.default_rng(0))
    result = pomdp.report.certification
    assert not result.certified and result.extra_updates == 3
    assert result.gap == min(result.gaps.values()) > 0
    assert set(result.gaps) == set(CANDIDATES)
    assert [info["extension"] for info in infos if info["phase"] == 0] == [False] * 8 + [True] * 12
    q = result.response
    assert total == pytest.approx(float((q * Pennies.U.sum(axis=0)).sum()), abs=1e-12)


def test_extension_steps_show_full_progress_to_the_critic():
    certify = Certification(threshold=0.0, max_extra_updates=2)
    pomdp = StackelbergPOMDP(
        Pennies(), protocol="certified", certify=certify, n_response=8, n_reward=1
    )
    pomdp.reset(np.random.default_rng(0))
    progress = []
    while not pomdp.terminated:
        step = pomdp.step(0)
        state = pomdp.state()
        assert pomdp.state_space.contains(state)
        progress.append((float(state[1]), step.info["extension"], float(state[2])))
    # State: observation (1 entry), phase flag of the returned observation, progress.
    response = [p for phase, _, p in progress if phase == 0.0]
    assert response[:7] == pytest.approx([k / 8 for k in range(1, 8)])
    assert response[7:] == [1.0] * 8  # the prefix's end, then extension sub-games
    assert sum(extension for _, extension, _ in progress) == 8


def test_paper_protocol_is_the_default_and_unchanged():
    game, policy = mspm(3)
    default = StackelbergPOMDP(game, n_response=40, n_reward=5)
    paper = StackelbergPOMDP(game, "mw", protocol="paper", n_response=40, n_reward=5)
    assert default.algorithm == MultiplicativeWeightsResponse() and default.protocol == "paper"
    runs = []
    for pomdp in (default, paper):
        observation, info = pomdp.reset(np.random.default_rng(5))
        assert "extension" not in info
        rows = []
        while True:
            step = pomdp.step(policy(observation))
            observation = step.observation
            rows.append((step.reward, pomdp.state().tobytes()))
            if step.terminated:
                break
        runs.append(rows)
        assert pomdp.report.certification is None
    assert runs[0] == runs[1]


@pytest.mark.parametrize("setting", POMDP_SETTINGS, ids=lambda s: s.name)
def test_every_pomdp_id_accepts_both_protocols(setting):
    paper_length = None
    own_value = aggregates_reward_phase(gymnasium.make(setting.gymnasium_id).unwrapped.pomdp.game)
    for protocol in PROTOCOLS:
        kwargs = {"protocol": protocol}
        if own_value and protocol == "certified":
            # A game-defined reward-phase value has no exact expectation: refused, by name.
            with pytest.raises(ValueError, match="exact_reward=False"):
                gymnasium.make(setting.gymnasium_id, **kwargs)
            kwargs.update(followers="mw", exact_reward=False)
        gym_env = gymnasium.make(setting.gymnasium_id, n_reward=3, **kwargs)
        pz_env = pettingzoo.make("aec", setting.pettingzoo_id, **kwargs)
        for env in (gym_env.unwrapped, pz_env.unwrapped):
            assert env.pomdp.protocol == protocol
        _, info = gym_env.reset(seed=0)
        pz_env.reset(seed=0)
        certified = protocol == "certified"
        assert ("extension" in info) is certified
        assert ("extension" in pz_env.infos["leader_0"]) is certified
        pomdp = gym_env.unwrapped.pomdp
        if certified:
            assert pomdp.n_response % pomdp.followers.queries_per_round == 0
            if setting.name != "mspm":  # the paper's length, rounded down to complete updates
                assert paper_length - pomdp.followers.queries_per_round < pomdp.n_response
                assert pomdp.n_response <= paper_length
        else:
            paper_length = pomdp.n_response
            default = setting.followers or "mw"  # the setting's follower model, MW if it names none
            assert pomdp.algorithm == response_algorithm(default)
        gym_env.close()
        pz_env.close()


def test_make_vec_takes_the_certified_protocol():
    vector = gymnasium.make_vec("StackelbergZoo/MspmPOMDP-v0", num_envs=2, protocol="certified")
    assert vector.unwrapped.pomdp.protocol == "certified"
    assert vector.unwrapped.pomdp.n_response == 132  # PI: 300 · 4 / 9, in updates of 4
    _, info = vector.reset(seed=0)
    assert info["extension"].tolist() == [False, False]
    with pytest.raises(ValueError, match="learning follower"):
        BatchedStackelbergPOMDP(mspm(3)[0], 2, "best_response", certify=True)


# -- the reference mechanisms of MSGSpace under the certified protocol ---------------------------

REFERENCE_EPISODES = 40
ZERO_LOSS = 1e-9


@functools.cache
def reference_episodes(t: int) -> tuple[tuple[bool, float], ...]:
    """(certified, welfare loss) of each episode of the reference mechanism, protocol certified."""
    game, policy = mspm(t)
    pomdp = StackelbergPOMDP(game, protocol="certified", diagnostics=False)
    rng = np.random.default_rng(2026)
    out = []
    for _ in range(REFERENCE_EPISODES):
        total, _ = play_episode(pomdp, policy, rng)
        out.append((pomdp.report.certification.certified, -total))
    return tuple(out)


def slow(t):
    return pytest.param(t, marks=pytest.mark.slow)


@pytest.mark.parametrize("t", [3, 4, slow(5), slow(6)])
def test_reference_mechanism_is_certified(t):
    """Every episode certifies its response (measured: 200 of 200 for each t)."""
    episodes = reference_episodes(t)
    assert sum(certified for certified, _ in episodes) >= 0.9 * len(episodes)
    assert all(loss >= -ZERO_LOSS for _, loss in episodes)  # welfare loss is never negative


def not_reached(t, measured):
    reason = (
        f"measured {measured} of 200 episodes at t = {t} (docs/pomdp.md, 'How the reference "
        f"mechanisms fare')"
    )
    marks = [pytest.mark.xfail(strict=True, reason=reason)] + ([pytest.mark.slow] if t > 4 else [])
    return pytest.param(t, marks=marks)


@pytest.mark.parametrize(
    "t", [not_reached(3, "41%"), 4, not_reached(5, "0%"), not_reached(6, "0%")]
)
def test_reference_mechanism_reaches_zero_loss_with_a_certified_response(t):
    """The target: zero welfare loss with a certified response in >= 90% of episodes."""
    episodes = reference_episodes(t)
    good = sum(certified and loss <= ZERO_LOSS for certified, loss in episodes)
    assert good >= 0.9 * len(episodes), f"{good} of {len(episodes)}"


def test_exact_reward_phase_without_certification():
    """The paper's protocol with an exact reward phase: one sub-game per supported profile."""
    game = SequentialPriceMechanism("pi", n_messages=2)
    policy = mspm_reference(game).optimal_policy
    pomdp = StackelbergPOMDP(game, "best_response", exact_reward=True)
    total, infos = play_episode_without_extension(pomdp, policy, np.random.default_rng(1))
    assert total == pytest.approx(mspm_reference(game).optimum, abs=1e-12)  # exact, not sampled
    reward_sub_games = {info["sub_game"] for info in infos if info["phase"] == 1}
    assert len(reward_sub_games) == int((np.asarray(game.prior) > 0).sum())  # pure responses
    assert pomdp.report.certification is None
    with pytest.raises(ValueError, match="empirical"):
        StackelbergPOMDP(
            game, MultiplicativeWeightsResponse(reward_play="empirical"), exact_reward=True
        )


def play_episode_without_extension(pomdp, policy, rng):
    observation, info = pomdp.reset(rng)
    assert "extension" not in info
    total, infos = 0.0, []
    while not pomdp.terminated:
        step = pomdp.step(policy(observation))
        observation, total = step.observation, total + step.reward
        infos.append(step.info)
    return total, infos


def test_a_sync_vector_env_runs_the_certified_protocol():
    """Gymnasium's own vector env of single envs runs it too: copies follow single envs."""
    kwargs = dict(protocol="certified", n_values=3)
    vector = gymnasium.make_vec(
        "StackelbergZoo/MspmPOMDP-v0", num_envs=2, vectorization_mode="sync", **kwargs
    )
    singles = [gymnasium.make("StackelbergZoo/MspmPOMDP-v0", **kwargs) for _ in range(2)]
    observations, infos = vector.reset(seed=5)
    for b, single in enumerate(singles):
        observation, info = single.reset(seed=5 + b)
        np.testing.assert_array_equal(observations[b], observation)
    rng = np.random.default_rng(0)
    ended = np.zeros(2, dtype=bool)
    while not ended.all():  # each copy's first episode (Gymnasium autoresets the step after)
        actions = rng.random((2, 3)).astype(np.float32)
        observations, rewards, terminated, _, infos = vector.step(actions)
        for b in np.flatnonzero(~ended):
            observation, reward, done, _, info = singles[b].step(actions[b])
            np.testing.assert_array_equal(observations[b], observation)
            assert rewards[b] == reward and terminated[b] == done
            assert infos["extension"][b] == info["extension"]
            ended[b] = done
    vector.close()


def test_response_value_of_a_product_response_is_the_leader_value():
    game = SequentialPriceMechanism("pi", n_messages=2)
    induced = induced_bayesian_game(game, mspm_reference(game).optimal_policy)
    rng = np.random.default_rng(0)
    strategies = [rng.dirichlet(np.ones(a), size=t) for t, a in
                  zip(game.n_types, game.n_follower_actions, strict=True)]  # fmt: skip
    value, gap = response_value(induced, product_conditional(strategies))
    assert value == pytest.approx(leader_value(induced, strategies), abs=1e-12)
    interim = response_gap(
        induced.followers.payoffs, game.prior, product_conditional(strategies), "interim"
    )
    assert gap == interim
    # a correlated response: the value is the prior- and response-weighted sum, by brute force
    joint = rng.dirichlet(np.ones(int(np.prod(game.n_follower_actions))), size=game.n_types)
    conditional = joint.reshape(game.n_types + game.n_follower_actions)
    expected = sum(
        game.prior[types] * conditional[types + actions] * induced.leader_payoffs[types + actions]
        for types in np.ndindex(*game.n_types)
        for actions in np.ndindex(*game.n_follower_actions)
    )
    assert response_value(induced, conditional)[0] == pytest.approx(expected, abs=1e-12)


def test_certification_summary_averages_the_episodes():
    def result(certified, gap, extra):
        return CertificationResult(certified, "last_mixed", gap, extra, {}, np.zeros(1))

    summary = certification_summary([result(True, 0.01, 0), result(False, 0.07, 10)])
    assert summary == pytest.approx(
        {"certification_rate": 0.5, "certification_gap": 0.04, "extra_updates": 5.0}
    )
    assert certification_summary([]) == {}  # the paper protocol: nothing certified


@pytest.mark.parametrize("protocol", ["paper", "certified"])
def test_report_value_takes_the_protocols_response(protocol):
    game = SequentialPriceMechanism("pi", n_messages=2)
    policy = mspm_reference(game).optimal_policy
    induced = induced_bayesian_game(game, policy)
    if protocol == "certified":
        pomdp = StackelbergPOMDP(game, protocol="certified")
        play_episode(pomdp, policy, np.random.default_rng(3))
    else:
        pomdp = StackelbergPOMDP(game, "mw")
        play_episode_without_extension(pomdp, policy, np.random.default_rng(3))
    report = pomdp.report
    value, gain = report_value(induced, report)
    if protocol == "certified":
        assert (value, gain) == response_value(induced, report.certification.response)
    else:
        strategies = list(report.strategy)
        assert value == leader_value(induced, strategies)
        interim = bne_gap(induced.followers, strategies).interim
        assert gain == max(float(np.nanmax(row)) for row in interim)
