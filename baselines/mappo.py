"""PPO for the leader of a Stackelberg POMDP, with a centralized critic (the paper's method).

The leader's actor sees only its base-game observation; the critic sees the POMDP state
(`--critic state`: observation, phase, progress and the followers' normalised learner state,
"MAPPO" in the paper's ablation) or the actor's observation (`--critic obs`, "PPO"). The
leader's policy is fixed within an episode: its action is sampled once per distinct
observation per episode and reused (the commitment cache below), so an episode evaluates one
committed mechanism and its return is the leader's average reward-phase utility against the
followers' learned response. `--response-phase-prob p` keeps each response-phase transition in
the training batch with probability p (1: Stackelberg POMDP, 0: Basic POMDP).

Every few iterations the greedy committed policy is evaluated exactly: its induced Bayesian
game is enumerated, the followers' learned reward-phase strategy is taken from evaluation
episodes, and the leader's expected value is compared with the setting's exact optimum.

    python baselines/mappo.py --env-id StackelbergZoo/NormalFormPOMDP-v0 \
        --env-kwargs '{"game": "escape"}'

Implementation details:

1. Per-setting defaults: the knobs left at `None` (`--total-timesteps`, `--learning-rate`,
   `--num-envs`, `--num-steps`, `--gae-lambda`, `--update-epochs`, `--ent-coef`,
   `--eval-every`) are filled from `SETTING_DEFAULTS[setting]`, the setting being read off the
   registration of `--env-id` (`setting_of`). MSPM gets 5M steps, 32 envs x 512 steps,
   lambda 1, entropy 0.003 and an evaluation every 5 iterations; the other settings 8 envs,
   learning rate 0.01, lambda 0.95, no entropy bonus and an evaluation every iteration.
2. Environments (`make_envs`): `--vectorization auto` uses the POMDP's batched VectorEnv when
   one is registered and `--follower mw`, else Gymnasium's sync vector with SAME_STEP
   autoreset. The POMDP never truncates (a truncation raises `RuntimeError`).
3. Networks (`Agent`, `layer_init`): separate actor and critic MLPs, two tanh hidden layers of
   `--hidden-size`, orthogonal init (gain sqrt 2 hidden, 1.0 critic output, 0.01 actor
   output), Adam with eps 1e-5. Observations are one-hot encoded (Discrete, and each
   MultiDiscrete component) or flattened (Box) by `flatten_observations`.
4. Critic input (`--critic`): `state` feeds the critic `infos["state"]`, the POMDP state;
   `obs` feeds it the actor's own flattened observation. The actor sees only the observation.
5. Discrete actions: a categorical head whose logits are set to -1e8 where
   `infos["action_mask"]` is 0. Greedy action: the argmax.
6. Box actions: a diagonal Gaussian in unit coordinates (actor output bias 0.5, the box
   centre) with a state-independent log-std initialised to log(`--init-std`); the env gets
   `low + (high - low) * clip(z, 0, 1)` (`Agent.to_env`), so each bound is reached with
   positive probability, and the log-probability is that of the unclipped `z`, summed over
   coordinates. Greedy action: the clipped mean.
7. KL stop on MSPM and a log-ratio guard: MSPM's per-setting defaults set `--target-kl 0.05`;
   without it the policy of MSGSpace t = 6 (seed 1) diverged at ~4.2M steps (approx_kl 0.7 ->
   2,400 over five iterations, then NaN actor outputs). With it that run completes and PI
   still reaches zero loss (983k steps instead of 819k). In every setting the update clamps
   the log probability ratio at +-`MAX_LOG_RATIO` (20) before exponentiating: a Box action
   committed under an older policy can lie many stds from the current mean, where one
   optimizer step moves its log-probability by hundreds (MSGSpace t = 4 with 128 envs x 256
   steps: approx_kl spikes of ~600); once the ratio overflows float32 the gradient is
   inf * 0 = NaN and every parameter with it (the likely end of one such run, NaN actor
   outputs at 13.2M steps; a rerun, not bit-identical, did not hit it). Within +-20 the
   objective is CleanRL's; beyond it the sample's gradient is 0 (approx_kl is computed from
   the clamped log-ratio).
8. Commitment cache (`CommitmentCache`): in each env the action is sampled the first time an
   observation (keyed by its bytes) occurs in the episode and reused at every later
   occurrence; the table is cleared when the episode terminates. If the env reports in
   `infos["replaced"]` that it replaced a committed action, the run stops with
   `RuntimeError`.
9. Log-probabilities and values of the whole rollout (`Agent.log_prob_entropy`,
   `Agent.get_value`) are computed in one pass after it, under the rollout's policy; an
   action committed in an earlier iteration of a still-running episode is scored under the
   current one.
10. Advantages (`compute_gae`): GAE with `--gamma 1` (the episode return is the leader's
    average reward-phase utility) and `--gae-lambda`; a terminating step does not bootstrap.
11. `--response-phase-prob p`: after the advantages are computed on the full rollout, each
    non-terminal response-phase transition (`infos["phase"]`) is kept in the training batch
    with probability p (1: Stackelberg POMDP, 0: Basic POMDP); the mini-batch size is the
    kept count divided by `--num-minibatches`.
12. The update is CleanRL's PPO: per-mini-batch advantage normalisation, clipped surrogate
    (`--clip-coef`), optional clipped value loss (`--clip-vloss`), entropy bonus, gradient
    norm clipped at `--max-grad-norm`, optional `--target-kl` stop after an epoch and
    optional linear `--anneal-lr`.
13. Exact evaluation (`evaluate`), every `--eval-every` iterations and after the last: the
    greedy policy (`GreedyPolicy`, memoised per observation) defines an induced Bayesian game
    (`induced_bayesian_game`); `--eval-episodes` POMDP episodes (seeds `seed + 10000 + k`)
    give the followers' learned reward-phase strategies, against which `leader_value` is
    exact; `bne_gap` gives the followers' largest interim deviation gain, and the episode's
    `ResponseReport` the BCCE gap and its regret bound.
14. Target and early stop (`target_of`, `--stop-at-optimum`): the target is the exact optimum
    `game.reference().optimum`, except for randomized normal-form commitments, where it is
    `robust_commitment` at `--mixed-margin`. Training stops at the first evaluation whose
    leader value is within `--target-tol` of the target, with a deviation gain at most
    `--target-tol`, while the mean return of the latest finished training episodes is within
    `--return-tol` of the target.
15. Outputs: TensorBoard logs in `runs/{run_name}`; with `--save-model`, the weights
    (`mappo.cleanrl_model`), the greedy mechanism with its value (`mechanism.json`) and the
    printed summary (`summary.txt`).
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import tyro
from torch.distributions import Categorical, Normal
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

import stackelberg_zoo.envs  # noqa: F401  (registers the StackelbergZoo/... ids)
from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.pomdp.episode import Phase
from stackelberg_zoo.envs.pomdp.followers import MultiplicativeWeightsResponse
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation
from stackelberg_zoo.equilibrium.gaps import bne_gap
from stackelberg_zoo.equilibrium.stackelberg import robust_commitment


@dataclass
class Args:
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment"""
    torch_deterministic: bool = True
    """if toggled, `torch.backends.cudnn.deterministic=True`"""
    torch_threads: int = 1
    """torch CPU threads (the networks are tiny: one thread is fastest)"""
    save_model: bool = True
    """whether to save the policy (and the learned mechanism) into `runs/{run_name}`"""
    progress_bar: bool = True
    """whether to show a tqdm progress bar"""

    # Environment
    env_id: str = "StackelbergZoo/NormalFormPOMDP-v0"
    """the id of the Stackelberg POMDP (`StackelbergZoo/<Setting>POMDP-v0`)"""
    env_kwargs: str = '{"game": "escape"}'
    """JSON object of keyword arguments for the env: the setting's game arguments and the
    POMDP's own (`n_response`, `n_reward`), e.g. '{"game": "maintain", "mixed_leader": true}'"""
    follower: Literal[
        "mw", "hedge", "regret_matching", "regret_matching_plus", "exp3", "best_response"
    ] = "mw"
    """the followers' response algorithm (the paper: multiplicative weights)"""
    mw_eps: float = 0.01
    """the MW followers' learning rate: `w *= (1 + eps)^u` (the paper: 0.01); `--follower mw`"""
    vectorization: Literal["auto", "vector_entry_point", "sync"] = "auto"
    """how to batch the envs: `auto` uses the POMDP's batched VectorEnv (MW followers) when
    registered, else Gymnasium's sync vector of single envs (SAME_STEP autoreset either way)"""

    # Algorithm specific arguments (None: the setting's default, see SETTING_DEFAULTS)
    total_timesteps: int | None = None
    """total leader steps (leader turns) of the experiment"""
    learning_rate: float | None = None
    """the learning rate of the optimizer"""
    num_envs: int | None = None
    """the number of parallel POMDP environments"""
    num_steps: int | None = None
    """the number of steps to run in each environment per policy rollout"""
    anneal_lr: bool = False
    """toggle learning rate annealing"""
    gamma: float = 1.0
    """the discount factor (1: the return is the reward-phase average, undiscounted)"""
    gae_lambda: float | None = None
    """the lambda for the general advantage estimation"""
    num_minibatches: int = 4
    """the number of mini-batches"""
    update_epochs: int | None = None
    """the K epochs to update the policy"""
    norm_adv: bool = True
    """toggles advantages normalization"""
    clip_coef: float = 0.2
    """the surrogate clipping coefficient"""
    clip_vloss: bool = False
    """toggles whether or not to use a clipped loss for the value function"""
    ent_coef: float | None = None
    """coefficient of the entropy"""
    vf_coef: float = 0.5
    """coefficient of the value function"""
    max_grad_norm: float = 0.5
    """the maximum norm for the gradient clipping"""
    target_kl: float | None = None
    """the target KL divergence threshold"""
    hidden_size: int = 64
    """width of the two hidden layers of the actor and the critic"""
    init_std: float = 0.5
    """initial std of the clipped-Gaussian head (Box actions), in units of the box width"""

    # Stackelberg POMDP specific arguments
    critic: Literal["state", "obs"] = "state"
    """the critic's input: the POMDP state (CTDE, "MAPPO") or the actor's observation ("PPO")"""
    response_phase_prob: float = 1.0
    """probability that a response-phase transition enters the training batch (1: Stackelberg
    POMDP, 0: Basic POMDP)"""
    eval_every: int | None = None
    """evaluate the greedy committed policy exactly every this many iterations"""
    eval_episodes: int = 4
    """POMDP episodes per evaluation (the followers' learned response varies between them)"""
    stop_at_optimum: bool = True
    """stop training once an evaluation reaches the target (see `target_tol`, `mixed_margin`)"""
    target_tol: float = 1e-6
    """an evaluation reaches the target when the greedy policy's leader value is within this
    of it and no follower type gains more than this by deviating from its learned play"""
    return_tol: float = 0.02
    """... and the training episodes of the iteration (the stochastic committed policy) have a
    mean return within this of the target (so a lucky initial greedy policy does not count)"""
    mixed_margin: float = 0.005
    """normal-form games with mixed commitments: the target is the best commitment that makes
    the follower's response strict by this margin (the exact SSE sits on a tie)"""

    # to be filled in runtime
    batch_size: int = 0
    """the batch size (computed in runtime)"""
    minibatch_size: int = 0
    """the mini-batch size (computed in runtime)"""
    num_iterations: int = 0
    """the number of iterations (computed in runtime)"""
    setting: str = ""
    """the setting of `env_id` (computed in runtime)"""


SETTING_DEFAULTS: dict[str, dict[str, Any]] = {
    "normal_form": dict(
        total_timesteps=200_000, learning_rate=0.01, num_envs=8, num_steps=101,
        gae_lambda=0.95, update_epochs=4, ent_coef=0.0, eval_every=1,
    ),
    "matrix_design": dict(
        total_timesteps=300_000, learning_rate=0.01, num_envs=8, num_steps=124,
        gae_lambda=0.95, update_epochs=4, ent_coef=0.0, eval_every=1,
    ),
    "simple_allocation": dict(
        total_timesteps=500_000, learning_rate=0.01, num_envs=8, num_steps=130,
        gae_lambda=0.95, update_epochs=4, ent_coef=0.0, eval_every=1,
    ),
    "mspm": dict(
        total_timesteps=5_000_000, learning_rate=0.005, num_envs=32, num_steps=512,
        gae_lambda=1.0, update_epochs=4, ent_coef=0.003, eval_every=5,
        target_kl=0.05,  # without it MSGSpace t=6 diverges at ~4.2M steps (docstring, item 7)
    ),
}  # fmt: skip
"""Per-setting defaults of the knobs left at None on the command line."""

MAX_LOG_RATIO = 20.0
"""Bound on |new - old log-probability| in the PPO ratio (docstring, item 7)."""


def setting_of(env_id: str) -> str:
    """The setting name behind a registered POMDP id."""
    spec = gym.spec(env_id)
    setting = spec.kwargs.get("setting")
    if setting not in SETTING_DEFAULTS:
        raise ValueError(f"{env_id!r} is not a Stackelberg POMDP of a known setting: {setting!r}")
    return setting


def followers_of(args: Args) -> str | MultiplicativeWeightsResponse:
    """The env's `followers` argument: `--follower`, with `--mw-eps` for MW."""
    if args.follower == "mw":
        return MultiplicativeWeightsResponse(eps=args.mw_eps)
    if args.mw_eps != Args.mw_eps:
        raise ValueError(f"--mw-eps applies to --follower mw, got --follower {args.follower}")
    return args.follower


def make_envs(args: Args, env_kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """The training envs: the batched POMDP when registered, else a SAME_STEP sync vector."""
    kwargs = dict(env_kwargs, followers=followers_of(args))
    mode = args.vectorization
    if mode == "auto":  # the batched POMDP runs the paper's MW followers only
        batched = gym.spec(args.env_id).vector_entry_point is not None and args.follower == "mw"
        mode = "vector_entry_point" if batched else "sync"
    if mode == "sync":
        return gym.make_vec(
            args.env_id,
            num_envs=args.num_envs,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
            **kwargs,
        )
    return gym.make_vec(
        args.env_id, num_envs=args.num_envs, vectorization_mode="vector_entry_point", **kwargs
    )


def flatten_observations(space: gym.Space, obs: np.ndarray) -> np.ndarray:
    """A batch of observations `[N, ...]` as the actor's float32 input `[N, d]`."""
    if isinstance(space, gym.spaces.Discrete):
        return np.eye(space.n, dtype=np.float32)[np.asarray(obs, dtype=np.int64) - space.start]
    if isinstance(space, gym.spaces.MultiDiscrete):
        obs = np.asarray(obs, dtype=np.int64).reshape(len(obs), -1)
        nvec = space.nvec.ravel()
        return np.concatenate(
            [np.eye(n, dtype=np.float32)[obs[:, k]] for k, n in enumerate(nvec)], axis=1
        )
    if isinstance(space, gym.spaces.Box):
        return np.asarray(obs, dtype=np.float32).reshape(len(obs), -1)
    raise TypeError(f"mappo.py handles Discrete, MultiDiscrete and Box observations, got {space}")


def flat_dim(space: gym.Space) -> int:
    """Width of `flatten_observations` for `space`."""
    return int(gym.spaces.flatdim(space))


class CommitmentCache:
    """The action committed at each distinct observation, per environment, for one episode.

    `lookup` returns the committed raw actions and the environments that have none yet for
    their current observation; `store` commits sampled actions; `clear` starts an episode.
    """

    def __init__(self, num_envs: int):
        self.tables: list[dict[bytes, np.ndarray]] = [{} for _ in range(num_envs)]

    @staticmethod
    def keys(obs: np.ndarray) -> list[bytes]:
        """An exact key per environment's observation (its bytes)."""
        obs = np.ascontiguousarray(obs)
        return [row.tobytes() for row in obs.reshape(len(obs), -1)]

    def lookup(self, keys: list[bytes], out: np.ndarray) -> list[int]:
        """Write committed actions into `out[i]`; return the indices without one."""
        missing = []
        for i, key in enumerate(keys):
            action = self.tables[i].get(key)
            if action is None:
                missing.append(i)
            else:
                out[i] = action
        return missing

    def store(self, indices: list[int], keys: list[bytes], actions: np.ndarray) -> None:
        """Commit `actions[k]` at `keys[indices[k]]` in environment `indices[k]`."""
        for k, i in enumerate(indices):
            self.tables[i][keys[i]] = np.array(actions[k], copy=True)

    def clear(self, indices) -> None:
        """Forget the commitments of the given environments (their episode ended)."""
        for i in indices:
            self.tables[int(i)].clear()


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    terminated: np.ndarray,
    next_value: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation over a rollout `[T, N]`.

    `terminated[t]` marks that the step taken at `t` ended the episode (no bootstrap from
    `t + 1`, which belongs to the next episode); `next_value` `[N]` is the value of the state
    after the last step. Returns `(advantages, returns)`, both `[T, N]`.
    """
    steps = rewards.shape[0]
    advantages = np.zeros_like(rewards, dtype=np.float64)
    last = np.zeros(rewards.shape[1], dtype=np.float64)
    for t in reversed(range(steps)):
        following = next_value if t == steps - 1 else values[t + 1]
        alive = 1.0 - terminated[t]
        delta = rewards[t] + gamma * following * alive - values[t]
        last = delta + gamma * gae_lambda * alive * last
        advantages[t] = last
    return advantages, advantages + values


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Actor on the observation (categorical or clipped-Gaussian head), critic on its input.

    Box actions: the actor outputs a Gaussian in unit coordinates; the env receives
    `low + (high - low) * clip(z, 0, 1)`, so the bounds (e.g. a zero weight, a zero payment)
    are reached exactly with positive probability; the log-probability is that of `z`.
    """

    def __init__(
        self,
        obs_dim: int,
        critic_dim: int,
        action_space: gym.Space,
        hidden: int = 64,
        init_std: float = 0.5,
    ):
        super().__init__()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        if not self.discrete and not isinstance(action_space, gym.spaces.Box):
            raise TypeError(f"mappo.py handles Discrete and Box actions, got {action_space}")
        self.critic = nn.Sequential(
            layer_init(nn.Linear(critic_dim, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, 1), std=1.0),
        )
        out = int(action_space.n) if self.discrete else int(np.prod(action_space.shape))
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs_dim, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, out), std=0.01, bias_const=0.0 if self.discrete else 0.5),
        )
        if self.discrete:
            self.start = int(action_space.start)
        else:
            if not (np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all()):
                raise ValueError(
                    f"the clipped-Gaussian head needs a bounded Box, got {action_space}"
                )
            self.actor_logstd = nn.Parameter(torch.full((1, out), float(np.log(init_std))))
            self.low = np.asarray(action_space.low, dtype=np.float64).ravel()
            self.width = np.asarray(action_space.high, dtype=np.float64).ravel() - self.low
            self.shape = action_space.shape
            self.dtype = action_space.dtype

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def distribution(self, obs: torch.Tensor, mask: torch.Tensor | None = None):
        out = self.actor(obs)
        if self.discrete:
            if mask is not None:
                out = torch.where(mask.bool(), out, torch.full_like(out, -1e8))
            return Categorical(logits=out)
        return Normal(out, self.actor_logstd.expand_as(out).exp())

    def log_prob_entropy(self, obs, raw, mask=None) -> tuple[torch.Tensor, torch.Tensor]:
        dist = self.distribution(obs, mask)
        if self.discrete:
            return dist.log_prob(raw.long()), dist.entropy()
        return dist.log_prob(raw).sum(-1), dist.entropy().sum(-1)

    @torch.no_grad()
    def sample(self, obs, mask=None) -> np.ndarray:
        return self.distribution(obs, mask).sample().numpy()

    @torch.no_grad()
    def mode(self, obs, mask=None) -> np.ndarray:
        dist = self.distribution(obs, mask)
        return (dist.probs.argmax(-1) if self.discrete else dist.mean).numpy()

    def to_env(self, raw: np.ndarray) -> np.ndarray:
        """Raw head outputs `[N, ...]` as env actions."""
        if self.discrete:
            return raw.astype(np.int64) + self.start
        unit = np.clip(raw.reshape(len(raw), -1), 0.0, 1.0)
        return (self.low + self.width * unit).astype(self.dtype).reshape((len(raw),) + self.shape)


class GreedyPolicy:
    """The agent's greedy committed policy as a callable `observation -> env action`.

    Memoised per observation, so it is deterministic and `table` lists every observation it
    was asked about (in first-asked order).
    """

    def __init__(self, agent: Agent, obs_space: gym.Space):
        self.agent, self.space = agent, obs_space
        self.table: dict[bytes, tuple[Any, Any]] = {}

    def __call__(self, obs: Any) -> Any:
        batch = np.asarray(obs)[None]
        key = np.ascontiguousarray(batch).tobytes()
        entry = self.table.get(key)
        if entry is None:
            with torch.no_grad():
                x = torch.as_tensor(flatten_observations(self.space, batch))
                action = self.agent.to_env(self.agent.mode(x))[0]
            action = int(action) if self.agent.discrete else action
            entry = self.table[key] = (np.array(obs, copy=True), action)
        return entry[1]


@dataclass(frozen=True)
class Evaluation:
    """The exact evaluation of a greedy committed policy.

    Attributes:
        leader_value: Mean over episodes of the leader's exact expected utility against the
            followers' learned reward-phase strategy (in the policy's induced game).
        episode_return: Mean measured return of the evaluation episodes.
        deviation_gain: Largest interim gain of any follower type deviating from its learned
            reward-phase play in the induced game (0: the followers best-respond).
        bcce_gap: Largest ex-ante BCCE gap of the response-phase play (nan if unavailable).
        bcce_bound: The learners' regret bound on that gap (nan if unavailable).
        strategies: The followers' learned strategies in the last evaluation episode.
        policy: The greedy policy (its `table` is the mechanism).
    """

    leader_value: float
    episode_return: float
    deviation_gain: float
    bcce_gap: float
    bcce_bound: float
    strategies: tuple[np.ndarray, ...]
    policy: GreedyPolicy = field(repr=False)


def evaluate(agent: Agent, env: gym.Env, episodes: int, seed: int) -> Evaluation:
    """Play `episodes` POMDP episodes with the greedy committed policy and evaluate it exactly."""
    pomdp = env.unwrapped
    game = pomdp.game
    policy = GreedyPolicy(agent, pomdp.observation_space)
    induced = induced_bayesian_game(game, policy)
    values, returns, gains, gaps, bounds = [], [], [], [], []
    strategies: tuple[np.ndarray, ...] = ()
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            obs, reward, done, _, _ = env.step(policy(obs))
            total += reward
        report = pomdp.pomdp.report  # the response phase's report
        strategies = tuple(report.strategy)
        returns.append(total)
        values.append(leader_value(induced, list(strategies)))
        interim = bne_gap(induced.followers, list(strategies)).interim
        gains.append(max(float(np.nanmax(row)) for row in interim))
        if report.gaps is not None:
            gaps.append(float(np.max(report.gaps.ex_ante)))
        if report.certificate is not None:
            bounds.append(float(np.max(report.certificate.average("bound"))))
    return Evaluation(
        leader_value=float(np.mean(values)),
        episode_return=float(np.mean(returns)),
        deviation_gain=float(np.max(gains)),
        bcce_gap=float(np.mean(gaps)) if gaps else float("nan"),
        bcce_bound=float(np.mean(bounds)) if bounds else float("nan"),
        strategies=strategies,
        policy=policy,
    )


def target_of(game, margin: float) -> tuple[float, float, str]:
    """`(exact optimum, target, what the target means)` for a setting's game."""
    optimum = float(game.reference().optimum) + 0.0  # no "-0.000000" for a zero optimum
    if isinstance(game, NormalFormStackelberg) and game.mixed_leader:
        robust = robust_commitment(game.leader_payoffs, game.follower_payoffs, margin=margin)
        return (
            optimum,
            robust.leader_value,
            (
                f"best commitment making the follower's response strict by {margin} "
                f"(robust_commitment; the SSE {optimum:.4f} needs a leader-favourable tie)"
            ),
        )
    return optimum, optimum, game.reference().follower_model


def _fmt(value: Any) -> str:
    return np.array2string(np.asarray(value, dtype=np.float64), precision=3, suppress_small=True)


def describe_mechanism(game, policy: GreedyPolicy) -> list[str]:
    """Readable lines for the learned mechanism (every observation the policy was asked)."""
    lines = []
    entries = sorted(policy.table.values(), key=lambda e: np.asarray(e[0]).tolist())
    if isinstance(game, NormalFormStackelberg):
        action = entries[0][1]
        if game.mixed_leader:
            lines.append(f"leader mix over rows: {_fmt(game.leader_strategy(action))}")
        else:
            lines.append(f"leader commits to row {int(action)}")
    elif isinstance(game, SimpleAllocation):
        for obs, item in entries:
            lines.append(f"message {int(obs)} -> item {int(item)}")
    elif isinstance(game, MatrixDesign):
        for obs, payments in entries:
            lines.append(f"profile {tuple(int(a) for a in obs)} -> payments {_fmt(payments)}")
    elif isinstance(game, SequentialPriceMechanism):
        for obs, action in entries:
            view = game.decode_observation(obs)
            visited = [i for i in range(game.n_followers) if view.unvisited[i]]
            chosen = max(visited, key=lambda i: (action[i], -i)) if visited else None
            lines.append(
                f"messages {view.messages.tolist()} unvisited {view.unvisited.astype(int).tolist()}"
                f" bought {view.bought.astype(int).tolist()} -> visit follower {chosen} at price "
                f"{float(action[-1]):.3f}"
            )
    else:
        for obs, action in entries:
            lines.append(f"{_fmt(obs)} -> {_fmt(action)}")
    return lines


def describe_followers(strategies: tuple[np.ndarray, ...]) -> list[str]:
    lines = []
    for i, strategy in enumerate(strategies):
        rows = [
            f"type {t}: {int(np.argmax(row))}" if row.max() == 1.0 else f"type {t}: {_fmt(row)}"
            for t, row in enumerate(strategy)
        ]
        lines.append(f"follower {i}: " + ", ".join(rows))
    return lines


if __name__ == "__main__":
    args = tyro.cli(Args)
    args.setting = setting_of(args.env_id)
    for name, value in SETTING_DEFAULTS[args.setting].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not 0.0 <= args.response_phase_prob <= 1.0:
        raise ValueError(f"--response-phase-prob must be in [0, 1], got {args.response_phase_prob}")
    env_kwargs = json.loads(args.env_kwargs)
    if not isinstance(env_kwargs, dict):
        raise TypeError(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    args.batch_size = int(args.num_envs * args.num_steps)
    args.minibatch_size = int(args.batch_size // args.num_minibatches)
    args.num_iterations = max(1, args.total_timesteps // args.batch_size)
    run_name = f"{args.env_id}__{args.exp_name}__{args.seed}__{int(time.time())}"
    writer = SummaryWriter(f"runs/{run_name}")
    writer.add_text(
        "hyperparameters",
        "|param|value|\n|-|-|\n" + "\n".join(f"|{k}|{v}|" for k, v in vars(args).items()),
    )

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    np.random.seed(args.seed)  # noqa: NPY002 (CleanRL's seeding; nothing here draws from it)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(args.torch_threads)
    rng = np.random.default_rng(args.seed)

    # env setup
    envs = make_envs(args, env_kwargs)
    eval_env = gym.make(args.env_id, followers=followers_of(args), **env_kwargs)
    game = eval_env.unwrapped.game
    obs_space = envs.single_observation_space
    action_space = envs.single_action_space
    optimum, target, target_meaning = target_of(game, args.mixed_margin)
    discrete = isinstance(action_space, gym.spaces.Discrete)
    obs_dim = flat_dim(obs_space)

    obs, infos = envs.reset(seed=args.seed)
    state = np.asarray(infos["state"], dtype=np.float32)
    critic_dim = state.shape[1] if args.critic == "state" else obs_dim
    agent = Agent(obs_dim, critic_dim, action_space, args.hidden_size, args.init_std)
    optimizer = optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # ALGO Logic: Storage setup
    T, N = args.num_steps, args.num_envs
    raw_shape = () if discrete else (int(np.prod(action_space.shape)),)
    obs_buf = np.zeros((T, N, obs_dim), dtype=np.float32)
    state_buf = np.zeros((T, N, critic_dim), dtype=np.float32)
    raw_buf = np.zeros((T, N) + raw_shape, dtype=np.float32)
    mask_buf = np.ones((T, N, action_space.n), dtype=np.float32) if discrete else None
    rewards = np.zeros((T, N), dtype=np.float64)
    terminated = np.zeros((T, N), dtype=np.float64)
    response_step = np.zeros((T, N), dtype=bool)

    cache = CommitmentCache(N)
    raw_now = np.zeros((N,) + raw_shape, dtype=np.float32)
    running_return, finished, train_return = np.zeros(N), [], -np.inf
    global_step, start_time, reached_at, last_eval = 0, time.time(), None, None
    progress = tqdm(total=args.num_iterations * args.batch_size, disable=not args.progress_bar)

    for iteration in range(1, args.num_iterations + 1):
        if args.anneal_lr:
            frac = 1.0 - (iteration - 1.0) / args.num_iterations
            optimizer.param_groups[0]["lr"] = frac * args.learning_rate

        for step in range(T):
            global_step += N
            flat = flatten_observations(obs_space, obs)
            mask = infos.get("action_mask") if discrete else None
            # ALGO LOGIC: commitment (one sample per distinct observation per episode)
            keys = cache.keys(obs)
            missing = cache.lookup(keys, raw_now)
            if missing:
                with torch.no_grad():
                    m = None if mask is None else torch.as_tensor(np.asarray(mask)[missing])
                    sampled = agent.sample(torch.as_tensor(flat[missing]), m)
                cache.store(missing, keys, sampled)
                raw_now[missing] = sampled
            obs_buf[step] = flat
            state_buf[step] = state if args.critic == "state" else flat
            raw_buf[step] = raw_now
            if mask is not None:
                mask_buf[step] = mask

            # TRY NOT TO MODIFY: execute the game and log data.
            obs, reward, term, trunc, infos = envs.step(agent.to_env(raw_now))
            if np.any(trunc):
                raise RuntimeError(f"the Stackelberg POMDP never truncates, got {trunc}")
            replaced = infos.get("replaced")
            if replaced is not None and np.any(np.asarray(replaced, dtype=bool) & ~term):
                raise RuntimeError("the env replaced a committed action: commitment cache bug")
            rewards[step], terminated[step] = reward, term
            # The terminal step is a reward-phase step; otherwise the info says.
            phase = np.asarray(infos["phase"], dtype=np.int64)
            response_step[step] = (phase == int(Phase.RESPONSE)) & ~term
            state = np.asarray(infos["state"], dtype=np.float32)
            running_return += reward
            for i in np.flatnonzero(term):
                writer.add_scalar("charts/episodic_return", running_return[i], global_step)
                finished.append(running_return[i])
                running_return[i] = 0.0
            cache.clear(np.flatnonzero(term))
        progress.update(args.batch_size)
        if finished:
            train_return = float(np.mean(finished))
            finished.clear()

        # ALGO LOGIC: values and log-probabilities of the rollout policy, in one pass. An
        # action committed in an earlier iteration of a still-running episode is scored under
        # this rollout's policy, the one that keeps it (episodes align with rollouts by
        # default except in MSPM, whose sub-games have one or two leader turns).
        with torch.no_grad():
            b_obs_all = torch.as_tensor(obs_buf.reshape(T * N, obs_dim))
            b_critic_all = torch.as_tensor(state_buf.reshape(T * N, critic_dim))
            b_raw_all = torch.as_tensor(raw_buf.reshape((T * N,) + raw_shape))
            b_mask_all = None if mask_buf is None else torch.as_tensor(mask_buf.reshape(T * N, -1))
            values = agent.get_value(b_critic_all).numpy().reshape(T, N).astype(np.float64)
            logprobs_all, _ = agent.log_prob_entropy(b_obs_all, b_raw_all, b_mask_all)
            critic_next = state if args.critic == "state" else flatten_observations(obs_space, obs)
            next_value = agent.get_value(torch.as_tensor(critic_next)).numpy().astype(np.float64)
        advantages, returns = compute_gae(
            rewards, values, terminated, next_value, args.gamma, args.gae_lambda
        )

        # Stackelberg vs Basic POMDP: response-phase transitions kept with probability p
        keep = ~response_step | (rng.random((T, N)) < args.response_phase_prob)
        b_inds = np.flatnonzero(keep.ravel())
        b_adv_all = torch.as_tensor(advantages.ravel(), dtype=torch.float32)
        b_ret_all = torch.as_tensor(returns.ravel(), dtype=torch.float32)
        b_val_all = torch.as_tensor(values.ravel(), dtype=torch.float32)
        minibatch = max(1, len(b_inds) // args.num_minibatches)

        # Optimizing the policy and value network
        clipfracs, approx_kl, old_approx_kl = [], torch.zeros(()), torch.zeros(())
        pg_loss = v_loss = entropy_loss = torch.zeros(())
        for _epoch in range(args.update_epochs):
            rng.shuffle(b_inds)
            for start in range(0, len(b_inds), minibatch):
                mb = torch.as_tensor(b_inds[start : start + minibatch])
                mb_mask = None if b_mask_all is None else b_mask_all[mb]
                newlogprob, entropy = agent.log_prob_entropy(b_obs_all[mb], b_raw_all[mb], mb_mask)
                newvalue = agent.get_value(b_critic_all[mb])
                # ALGO LOGIC: guard (item 7): a committed action far out in the Gaussian's tail
                # must not overflow the ratio (an overflow turns every parameter into NaN)
                logratio = (newlogprob - logprobs_all[mb]).clamp(-MAX_LOG_RATIO, MAX_LOG_RATIO)
                ratio = logratio.exp()
                with torch.no_grad():
                    # calculate approx_kl http://joschu.net/blog/kl-approx.html
                    old_approx_kl = (-logratio).mean()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs += [((ratio - 1.0).abs() > args.clip_coef).float().mean().item()]
                mb_adv = b_adv_all[mb]
                if args.norm_adv and len(mb) > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss1 = -mb_adv * ratio
                pg_loss2 = -mb_adv * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()
                if args.clip_vloss:
                    v_unclipped = (newvalue - b_ret_all[mb]) ** 2
                    v_clipped = b_val_all[mb] + torch.clamp(
                        newvalue - b_val_all[mb], -args.clip_coef, args.clip_coef
                    )
                    v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - b_ret_all[mb]) ** 2).mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_ret_all[mb]) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
            if args.target_kl is not None and approx_kl > args.target_kl:
                break

        y_pred, y_true = values.ravel(), returns.ravel()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y

        # TRY NOT TO MODIFY: record rewards for plotting purposes
        writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        writer.add_scalar("losses/value_loss", v_loss.item(), global_step)
        writer.add_scalar("losses/policy_loss", pg_loss.item(), global_step)
        writer.add_scalar("losses/entropy", entropy_loss.item(), global_step)
        writer.add_scalar("losses/old_approx_kl", old_approx_kl.item(), global_step)
        writer.add_scalar("losses/approx_kl", approx_kl.item(), global_step)
        writer.add_scalar("losses/clipfrac", np.mean(clipfracs), global_step)
        writer.add_scalar("losses/explained_variance", explained_var, global_step)
        if not discrete:
            writer.add_scalar(
                "charts/action_std", agent.actor_logstd.exp().mean().item(), global_step
            )
        sps = int(global_step / (time.time() - start_time))
        writer.add_scalar("charts/SPS", sps, global_step)

        # ALGO LOGIC: exact evaluation of the greedy committed policy
        if iteration % args.eval_every == 0 or iteration == args.num_iterations:
            last_eval = evaluate(agent, eval_env, args.eval_episodes, seed=args.seed + 10_000)
            writer.add_scalar("equilibrium/leader_value", last_eval.leader_value, global_step)
            writer.add_scalar("equilibrium/optimal_value", optimum, global_step)
            writer.add_scalar(
                "equilibrium/optimality_gap", optimum - last_eval.leader_value, global_step
            )
            writer.add_scalar("equilibrium/bcce_gap", last_eval.bcce_gap, global_step)
            writer.add_scalar("equilibrium/bcce_gap_bound", last_eval.bcce_bound, global_step)
            writer.add_scalar(
                "equilibrium/follower_deviation_gain", last_eval.deviation_gain, global_step
            )
            writer.add_scalar("charts/eval_return", last_eval.episode_return, global_step)
            progress.set_postfix(
                value=f"{last_eval.leader_value:.4f}",
                ret=f"{train_return:.4f}",
                target=f"{target:.4f}",
            )
            reached = (
                last_eval.leader_value >= target - args.target_tol
                and last_eval.deviation_gain <= args.target_tol
                and train_return >= target - args.return_tol
            )
            if reached and reached_at is None:
                reached_at = (global_step, time.time() - start_time)
                writer.add_scalar("charts/time_to_target", reached_at[1], global_step)
            if reached and args.stop_at_optimum:
                break
    progress.close()
    elapsed = time.time() - start_time

    # the learned mechanism, next to the exact optimum
    lines = [
        f"run {run_name}: {global_step} leader steps in {elapsed:.1f} s ({args.setting}, "
        f"followers {args.follower}{f' eps={args.mw_eps}' if args.follower == 'mw' else ''}, "
        f"critic {args.critic}, p={args.response_phase_prob})",
        "learned mechanism (greedy committed policy):",
        *("  " + line for line in describe_mechanism(game, last_eval.policy)),
        "followers' learned reward-phase play (last evaluation episode):",
        *("  " + line for line in describe_followers(last_eval.strategies)),
        f"leader value {last_eval.leader_value:.6f}  exact optimum {optimum:.6f}  "
        f"gap {optimum - last_eval.leader_value:.6f}",
        f"target {target:.6f}: {target_meaning}",
        f"follower deviation gain in the induced game {last_eval.deviation_gain:.2e}; BCCE gap "
        f"of the response-phase play {last_eval.bcce_gap:.4f} "
        f"(regret bound {last_eval.bcce_bound:.4f})",
        (
            f"TARGET REACHED after {reached_at[0]} steps, {reached_at[1]:.1f} s"
            if reached_at is not None
            else "target NOT reached"
        ),
    ]
    summary = "\n".join(lines)
    print(summary)
    if args.save_model:
        torch.save(agent.state_dict(), f"runs/{run_name}/{args.exp_name}.cleanrl_model")
        mechanism = [
            {"observation": np.asarray(o).tolist(), "action": np.asarray(a).tolist()}
            for o, a in last_eval.policy.table.values()
        ]
        with open(f"runs/{run_name}/mechanism.json", "w") as fh:
            json.dump({"mechanism": mechanism, "leader_value": last_eval.leader_value,
                       "optimum": optimum, "target": target}, fh, indent=1)  # fmt: skip
        with open(f"runs/{run_name}/summary.txt", "w") as fh:
            fh.write(summary + "\n")
        print(f"policy saved to runs/{run_name}/")
    envs.close()
    writer.close()
