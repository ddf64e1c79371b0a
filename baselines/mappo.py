"""PPO for the leader of a Stackelberg POMDP, with a centralized critic (the paper's MAPPO).

The leader commits to one action per observation per episode; the critic sees the POMDP
state (`--critic obs`: the actor's observation); every `--eval-every` iterations the greedy
committed policy is evaluated exactly against the followers' learned response and compared
with the setting's exact optimum. Implementation details, metrics and outputs:
docs/baselines/mappo.md (the Trainers page of the docs).

    python baselines/mappo.py --env-id StackelbergZoo/NormalFormPOMDP-v0
    tensorboard --logdir runs

Defaults: the flags' defaults are those of the setting behind `--env-id`, read from its
registration (`stackelberg_zoo.envs.registry`, `trainer_defaults["mappo"]` and its default
game); `--help` after an `--env-id` shows them. Not tyro presets, because the env id already
names the setting (a preset name would be a second, contradictable way to say it) and a new
setting then brings its defaults without an edit here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sys
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
from stackelberg_zoo.envs.core import format_array, induced_bayesian_game
from stackelberg_zoo.envs.pomdp.certify import certification_summary, report_value
from stackelberg_zoo.envs.pomdp.followers import (
    MultiplicativeWeightsResponse,
    follower_models,
    response_algorithm,
)
from stackelberg_zoo.envs.pomdp.step import Phase
from stackelberg_zoo.envs.registry import Setting, settings


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
    track: bool = False
    """if toggled, this experiment will be tracked with Weights and Biases (`pip install wandb`)"""
    wandb_project_name: str = "stackelberg-zoo"
    """the wandb's project name"""
    wandb_entity: str | None = None
    """the entity (team) of wandb's project (None: your default entity)"""
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
    follower: str = "mw"
    """the followers' response algorithm, a registered follower model (the paper: `mw`)"""
    mw_eps: float = 0.01
    """the MW followers' learning rate: `w *= (1 + eps)^u` (the paper: 0.01); `--follower mw`"""
    protocol: Literal["paper", "certified"] = "paper"
    """the POMDP's follower protocol: `paper` (the v4 paper's episode) or `certified` (the
    protocol's own MW followers, a response certified at a BCCE gap before an exact reward
    phase; `--follower` and `--mw-eps` do not apply)"""
    vectorization: Literal["auto", "vector_entry_point", "sync"] = "auto"
    """how to batch the envs: `auto` uses the POMDP's batched VectorEnv when the setting has one
    and the follower model runs batched, else Gymnasium's sync vector of single envs (SAME_STEP
    autoreset either way)"""

    # Algorithm specific arguments (defaults: the normal form's; other settings' are their own)
    total_timesteps: int = 200_000
    """total leader steps (leader turns) of the experiment (at least one rollout runs)"""
    learning_rate: float = 0.01
    """the learning rate of the optimizer"""
    num_envs: int = 8
    """the number of parallel POMDP environments"""
    num_steps: int = 101
    """the number of steps to run in each environment per policy rollout"""
    anneal_lr: bool = False
    """toggle learning rate annealing"""
    gamma: float = 1.0
    """the discount factor (1: the return is the reward-phase average, undiscounted)"""
    gae_lambda: float = 0.95
    """the lambda for the general advantage estimation"""
    num_minibatches: int = 4
    """the number of mini-batches"""
    update_epochs: int = 4
    """the K epochs to update the policy"""
    norm_adv: bool = True
    """toggles advantages normalization"""
    clip_coef: float = 0.2
    """the surrogate clipping coefficient"""
    clip_vloss: bool = False
    """toggles whether or not to use a clipped loss for the value function"""
    ent_coef: float = 0.0
    """coefficient of the entropy"""
    vf_coef: float = 0.5
    """coefficient of the value function"""
    max_grad_norm: float = 0.5
    """the maximum norm for the gradient clipping"""
    target_kl: float | None = None
    """the target KL divergence threshold (None: no early stop of the epochs)"""
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
    eval_every: int = 1
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


MAX_LOG_RATIO = 20.0
"""Bound on |new - old log-probability| in the PPO ratio (docs: implementation detail 7)."""


def fail(message: str) -> None:
    """Stop at start with a one-line error (argparse's convention: exit status 2)."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def setting_of(env_id: str) -> Setting:
    """The registered setting whose Stackelberg POMDP has the Gymnasium id `env_id`."""
    for setting in settings():
        if setting.gymnasium_id == env_id:
            return setting
    known = [s.gymnasium_id for s in settings()]
    raise ValueError(f"--env-id must be a Stackelberg POMDP id, one of {known}, got {env_id!r}")


def parse_args() -> tuple[Args, Setting, dict[str, Any]]:
    """The flags (defaults: those of the setting behind `--env-id`), checked; or exit."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--env-id", "--env_id", default=Args.env_id)
    try:
        setting = setting_of(pre.parse_known_args()[0].env_id)
    except ValueError as error:
        fail(str(error))
    defaults = Args(**setting.defaults_for("mappo"))
    args = tyro.cli(Args, default=defaults)
    try:
        env_kwargs = check_args(args, defaults)
    except ValueError as error:
        fail(str(error))
    return args, setting, env_kwargs


def check_args(args: Args, defaults: Args | None = None) -> dict[str, Any]:
    """Refuse a bad flag, naming it (`ValueError`); return the parsed `--env-kwargs`.

    `defaults` are the setting's defaults (a flag differing from them was given).
    """
    for name in ("total_timesteps", "num_envs", "num_steps", "num_minibatches", "update_epochs",
                 "eval_every", "eval_episodes", "hidden_size", "torch_threads"):  # fmt: skip
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    bounds = {
        "learning_rate": (0, math.inf), "init_std": (0, math.inf), "clip_coef": (0, math.inf),
        "max_grad_norm": (0, math.inf), "mw_eps": (0, math.inf), "gamma": (0, 1),
        "gae_lambda": (0, 1), "response_phase_prob": (0, 1), "ent_coef": (0, math.inf),
        "vf_coef": (0, math.inf), "target_tol": (0, math.inf), "return_tol": (0, math.inf),
        "mixed_margin": (0, math.inf),
    }  # fmt: skip
    strict = {"learning_rate", "init_std", "clip_coef", "max_grad_norm", "mw_eps"}
    if args.target_kl is not None:
        bounds["target_kl"], strict = (0, math.inf), strict | {"target_kl"}
    for name, (low, high) in bounds.items():
        value = getattr(args, name)
        above = value > low if name in strict else value >= low
        if not (above and value <= high and math.isfinite(value)):
            side = ">" if name in strict else ">="
            where = f"finite and {side} {low}" if high == math.inf else f"in [{low}, {high}]"
            raise ValueError(f"--{name.replace('_', '-')} must be {where}, got {value}")
    if args.follower not in follower_models():
        raise ValueError(
            f"--follower must be one of {list(follower_models())}, got {args.follower!r}"
        )
    if args.follower != "mw" and args.mw_eps != Args.mw_eps:
        raise ValueError(f"--mw-eps applies to --follower mw, got --follower {args.follower}")
    check_protocol(args, Args() if defaults is None else defaults)
    try:
        env_kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as error:
        raise ValueError(f"--env-kwargs must be JSON, got {args.env_kwargs!r} ({error})") from None
    if not isinstance(env_kwargs, dict):
        raise ValueError(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    for key in ("protocol", "followers"):
        if key in env_kwargs:
            flag = "--protocol" if key == "protocol" else "--follower"
            raise ValueError(f"--env-kwargs must not set {key!r} (use {flag}), got {key!r}")
    return env_kwargs


def check_protocol(args: Args, defaults: Args) -> None:
    """Refuse `--protocol` combinations the env would refuse (`ValueError`, naming the flags).

    Under `certified` the env takes no follower model: `--follower` and `--mw-eps` must keep
    their `defaults` (the setting's).
    """
    if args.protocol not in ("paper", "certified"):
        raise ValueError(f"--protocol must be paper or certified, got {args.protocol!r}")
    if args.protocol == "certified":
        for name in ("follower", "mw_eps"):
            if getattr(args, name) != getattr(defaults, name):
                flag = f"--{name.replace('_', '-')}"
                raise ValueError(
                    f"{flag} applies to --protocol paper (certified brings its own MW followers, "
                    f"eps 0.1 in expectation form), got {flag} {getattr(args, name)}"
                )


def followers_of(args: Args) -> str | MultiplicativeWeightsResponse | None:
    """The env's `followers` argument: `--follower`, with `--mw-eps` for MW (certified: None)."""
    if args.protocol == "certified":
        return None
    if args.follower == "mw":
        return MultiplicativeWeightsResponse(eps=args.mw_eps)
    if args.mw_eps != Args.mw_eps:
        raise ValueError(f"--mw-eps applies to --follower mw, got --follower {args.follower}")
    return args.follower


def runs_batched(followers: str | MultiplicativeWeightsResponse | None) -> bool:
    """Whether the follower model has a batched form (then `auto` takes the batched POMDP).

    `None` is the certified protocol's own model (MW in expectation form), which has one.
    """
    return followers is None or response_algorithm(followers).runs_batched


def env_kwargs_of(args: Args, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The env's keyword arguments: `--env-kwargs`, the followers and the protocol."""
    kwargs = dict(env_kwargs, followers=followers_of(args))
    if args.protocol != "paper":
        kwargs["protocol"] = args.protocol
    return kwargs


def make_envs(args: Args, env_kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """The training envs: the batched POMDP when registered, else a SAME_STEP sync vector."""
    kwargs = env_kwargs_of(args, env_kwargs)
    mode = args.vectorization
    if mode == "auto":
        batched = gym.spec(args.env_id).vector_entry_point is not None
        mode = "vector_entry_point" if batched and runs_batched(kwargs["followers"]) else "sync"
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
    skip: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation over a rollout `[T, N]`.

    `terminated[t]` marks that the step taken at `t` ended the episode (no bootstrap from
    `t + 1`, which belongs to the next episode); `next_value` `[N]` is the value of the state
    after the last step. `skip` (`bool[T, N]`, certified protocol: the extension steps) marks
    steps left out of the rollout: each environment's advantages are those of its rollout with
    the skipped steps removed (their rewards are ignored; their advantage is 0 and their return
    their value). Returns `(advantages, returns)`, both `[T, N]`.
    """
    steps = rewards.shape[0]
    advantages = np.zeros_like(rewards, dtype=np.float64)
    last = np.zeros(rewards.shape[1], dtype=np.float64)
    following = next_value
    for t in reversed(range(steps)):
        alive = 1.0 - terminated[t]
        delta = rewards[t] + gamma * following * alive - values[t]
        advantage = delta + gamma * gae_lambda * alive * last
        if skip is None:
            last, following = advantage, values[t]
        else:
            kept = ~skip[t]
            last = np.where(kept, advantage, last)
            following = np.where(kept, values[t], following)
            advantage = np.where(kept, advantage, 0.0)
        advantages[t] = advantage
    return advantages, advantages + values


def extension_flags(infos: dict[str, Any], num_envs: int) -> np.ndarray:
    """`bool[N]`: which environments' step just taken was an extension sub-game's (certified
    protocol, `infos["extension"]`; all `False` when the info has no such key)."""
    flags = infos.get("extension")
    if flags is None:
        return np.zeros(num_envs, dtype=bool)
    return np.asarray(flags, dtype=bool).reshape(num_envs)


def batch_mask(
    response_step: np.ndarray,
    extension: np.ndarray,
    response_phase_prob: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """`bool[T, N]`: the transitions of the rollout that enter the PPO batch.

    A response-phase transition enters with probability `response_phase_prob` (Stackelberg
    vs Basic POMDP); an extension step (`extension`, certified protocol) never does.
    """
    keep = ~response_step | (rng.random(response_step.shape) < response_phase_prob)
    return keep & ~extension


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
        model: A copy of the agent's weights when evaluated (what `--save-model` saves).
        certification_rate: Certified protocol: the fraction of episodes whose response was
            certified (nan under `paper`). Then `leader_value` is the exact value against each
            episode's certified response `q(a | θ)` (possibly correlated) and `deviation_gain`
            its largest interim gap (which for a product response is the interim gain).
        certification_gap: Certified protocol: the mean gap of the chosen responses.
        extra_updates: Certified protocol: the mean number of extension updates.
    """

    leader_value: float
    episode_return: float
    deviation_gain: float
    bcce_gap: float
    bcce_bound: float
    strategies: tuple[np.ndarray, ...]
    policy: GreedyPolicy = field(repr=False)
    model: dict[str, torch.Tensor] = field(repr=False)
    certification_rate: float = math.nan
    certification_gap: float = math.nan
    extra_updates: float = math.nan

    @property
    def certified(self) -> bool:
        """Whether the followers' condition holds: every episode certified (certified
        protocol); always `True` under `paper`, where `deviation_gain` is the condition."""
        return math.isnan(self.certification_rate) or self.certification_rate == 1.0


def evaluate(agent: Agent, env: gym.Env, episodes: int, seed: int) -> Evaluation:
    """Play `episodes` POMDP episodes with the greedy committed policy and evaluate it exactly."""
    pomdp = env.unwrapped
    game = pomdp.game
    policy = GreedyPolicy(agent, pomdp.observation_space)
    induced = induced_bayesian_game(game, policy)
    values, returns, gains, gaps, bounds, certifications = [], [], [], [], [], []
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
        value, gain = report_value(induced, report)  # certified: its (correlated) response
        values.append(value)
        gains.append(gain)
        if report.certification is not None:
            certifications.append(report.certification)
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
        model={name: value.detach().clone() for name, value in agent.state_dict().items()},
        **certification_summary(certifications),
    )


class StopSignal:
    """SIGINT/SIGTERM ask the loop to stop (`signum`); a second one interrupts at once."""

    def __init__(self):
        self.signum: int | None = None
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum


def mechanism_entries(policy: GreedyPolicy) -> list[tuple[Any, Any]]:
    """The policy's `(observation, action)` pairs, sorted by observation (the printed order)."""
    return sorted(policy.table.values(), key=lambda entry: np.asarray(entry[0]).tolist())


def save_run(path: str, args: Args, game, evaluation: Evaluation, optimum: float, target) -> None:
    """The weights (`mappo.cleanrl_model`) and the mechanism with its values (`mechanism.json`)."""
    torch.save(evaluation.model, f"{path}/{args.exp_name}.cleanrl_model")
    mechanism = [
        {"observation": game.observation_fields(obs), "action": np.asarray(action).tolist()}
        for obs, action in mechanism_entries(evaluation.policy)
    ]
    record = {
        "env_id": args.env_id, "env_kwargs": json.loads(args.env_kwargs),
        "follower": args.follower, "value_meaning": game.value_meaning,
        "leader_value": evaluation.leader_value, "optimum": optimum, "target": target.value,
        "mechanism": mechanism,
    }  # fmt: skip
    if args.protocol != "paper":
        record |= {"protocol": args.protocol} | certified_fields_of(evaluation)
    with open(f"{path}/mechanism.json", "w") as fh:
        json.dump(record, fh, indent=1)


def certified_fields_of(evaluation: Evaluation) -> dict[str, float]:
    """The certification fields `mechanism.json` records (certified protocol)."""
    names = ("certification_rate", "certification_gap", "extra_updates")
    return {name: getattr(evaluation, name) for name in names}


def describe_followers(strategies: tuple[np.ndarray, ...]) -> list[str]:
    lines = []
    for i, strategy in enumerate(strategies):
        rows = [
            f"type {t}: {int(np.argmax(row)) if row.max() == 1.0 else format_array(row)}"
            for t, row in enumerate(strategy)
        ]
        lines.append(f"follower {i}: " + ", ".join(rows))
    return lines


def start_logging(args: Args, run_name: str, config: dict[str, Any]) -> SummaryWriter:
    """TensorBoard in `runs/{run_name}`, synced to Weights and Biases with `--track`."""
    if args.track:
        try:
            import wandb
        except ImportError:
            fail("--track needs Weights and Biases: pip install wandb")
        wandb.init(
            project=args.wandb_project_name,
            entity=args.wandb_entity,
            sync_tensorboard=True,
            config=config,
            name=run_name,
            save_code=True,
        )
    writer = SummaryWriter(f"runs/{run_name}")
    writer.add_text(
        "hyperparameters",
        "|param|value|\n|-|-|\n" + "\n".join(f"|{k}|{v}|" for k, v in config.items()),
    )
    return writer


def log_evaluation(writer: SummaryWriter, evaluation: Evaluation, optimum: float, step: int):
    writer.add_scalar("equilibrium/leader_value", evaluation.leader_value, step)
    writer.add_scalar("equilibrium/optimal_value", optimum, step)
    writer.add_scalar("equilibrium/optimality_gap", optimum - evaluation.leader_value, step)
    writer.add_scalar("equilibrium/bcce_gap", evaluation.bcce_gap, step)
    writer.add_scalar("equilibrium/bcce_gap_bound", evaluation.bcce_bound, step)
    writer.add_scalar("equilibrium/follower_deviation_gain", evaluation.deviation_gain, step)
    writer.add_scalar("charts/eval_return", evaluation.episode_return, step)
    if not math.isnan(evaluation.certification_rate):
        writer.add_scalar("equilibrium/certification_rate", evaluation.certification_rate, step)
        writer.add_scalar("equilibrium/certification_gap", evaluation.certification_gap, step)
        writer.add_scalar("equilibrium/extra_updates", evaluation.extra_updates, step)


def reaches_target(evaluation: Evaluation, train_return: float, target: float, args: Args):
    """Whether an evaluation reaches the target: leader value within `--target-tol` of it,
    the iteration's mean training return within `--return-tol`, and the followers in
    equilibrium: no type gains more than `--target-tol` by deviating (`paper`), or every
    evaluation episode's response certified (`certified`; uncertified ones never count)."""
    if evaluation.leader_value < target - args.target_tol:
        return False
    if train_return < target - args.return_tol:
        return False
    if args.protocol == "certified":
        return not math.isnan(evaluation.certification_rate) and evaluation.certified
    return evaluation.deviation_gain <= args.target_tol


def certification_lines(evaluation: Evaluation) -> list[str]:
    """The summary's certification line (certified protocol; none under `paper`)."""
    if math.isnan(evaluation.certification_rate):
        return []
    return [
        f"certified responses {evaluation.certification_rate:.0%} of the evaluation episodes, "
        f"mean gap {evaluation.certification_gap:.4f}, mean extra updates "
        f"{evaluation.extra_updates:.1f}"
    ]


def followers_label(args: Args) -> str:
    """The summary's words for the followers (and the protocol when not `paper`)."""
    if args.protocol == "certified":
        return "protocol certified (followers mw eps=0.1, expectation form)"
    return f"followers {args.follower}{f' eps={args.mw_eps}' if args.follower == 'mw' else ''}"


def summarize(game, evaluation: Evaluation, optimum: float, target, reached_at) -> list[str]:
    """The learned mechanism next to the exact optimum, as the summary's lines."""
    return [
        "learned mechanism (greedy committed policy, at the last evaluation):",
        *("  " + line for line in game.describe_mechanism(mechanism_entries(evaluation.policy))),
        "followers' learned reward-phase play (last evaluation episode):",
        *("  " + line for line in describe_followers(evaluation.strategies)),
        f"leader value {evaluation.leader_value:.6f}  exact optimum {optimum:.6f}  "
        f"gap {optimum - evaluation.leader_value:.6f}",
        f"values are {game.value_meaning}",
        f"target {target.value:.6f}: {target.meaning}",
        f"follower deviation gain in the induced game {evaluation.deviation_gain:.2e}; BCCE gap "
        f"of the response-phase play {evaluation.bcce_gap:.4f} "
        f"(regret bound {evaluation.bcce_bound:.4f})",
        *certification_lines(evaluation),
        (
            f"TARGET REACHED after {reached_at[0]} steps, {reached_at[1]:.1f} s"
            if reached_at is not None
            else "target NOT reached"
        ),
    ]


if __name__ == "__main__":
    args, setting, env_kwargs = parse_args()
    run_name = f"{args.env_id}__{args.exp_name}__{args.seed}__{int(time.time())}"

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    np.random.seed(args.seed)  # noqa: NPY002 (CleanRL's seeding; nothing here draws from it)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(args.torch_threads)
    rng = np.random.default_rng(args.seed)

    # env setup
    try:
        envs = make_envs(args, env_kwargs)
        eval_env = gym.make(args.env_id, **env_kwargs_of(args, env_kwargs))
    except (TypeError, ValueError) as error:
        protocol = f" (--protocol {args.protocol})" if args.protocol != "paper" else ""
        fail(f"--env-kwargs {args.env_kwargs} for {args.env_id}{protocol}: {error}")
    game = eval_env.unwrapped.game
    obs_space = envs.single_observation_space
    action_space = envs.single_action_space
    optimum = float(game.reference().optimum) + 0.0  # no "-0.000000" for a zero optimum
    target = game.learning_target(args.mixed_margin)
    discrete = isinstance(action_space, gym.spaces.Discrete)
    obs_dim = flat_dim(obs_space)

    obs, infos = envs.reset(seed=args.seed)
    state = np.asarray(infos["state"], dtype=np.float32)
    critic_dim = state.shape[1] if args.critic == "state" else obs_dim
    agent = Agent(obs_dim, critic_dim, action_space, args.hidden_size, args.init_std)
    optimizer = optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # TRY NOT TO MODIFY: logging (after a successful start, so a failed one leaves no run)
    writer = start_logging(args, run_name, vars(args) | {"setting": setting.name})
    print(f"values: {game.value_meaning}; progress bar: ret = mean return of the iteration's "
          f"finished training episodes, value = exact leader value of the greedy policy, "
          f"target = {target.value:.4f} (what a learner can reach)", flush=True)  # fmt: skip

    # ALGO Logic: Storage setup
    T, N = args.num_steps, args.num_envs
    batch_size = T * N
    num_iterations = max(1, args.total_timesteps // batch_size)
    raw_shape = () if discrete else (int(np.prod(action_space.shape)),)
    obs_buf = np.zeros((T, N, obs_dim), dtype=np.float32)
    state_buf = np.zeros((T, N, critic_dim), dtype=np.float32)
    raw_buf = np.zeros((T, N) + raw_shape, dtype=np.float32)
    mask_buf = np.ones((T, N, action_space.n), dtype=np.float32) if discrete else None
    rewards = np.zeros((T, N), dtype=np.float64)
    terminated = np.zeros((T, N), dtype=np.float64)
    response_step = np.zeros((T, N), dtype=bool)
    extension = np.zeros((T, N), dtype=bool)

    cache = CommitmentCache(N)
    raw_now = np.zeros((N,) + raw_shape, dtype=np.float32)
    running_return, finished, train_return = np.zeros(N), [], -np.inf
    global_step, start_time, reached_at, last_eval = 0, time.time(), None, None
    stop = StopSignal()
    progress = tqdm(total=num_iterations * batch_size, disable=not args.progress_bar)

    for iteration in range(1, num_iterations + 1):
        if args.anneal_lr:
            frac = 1.0 - (iteration - 1.0) / num_iterations
            optimizer.param_groups[0]["lr"] = frac * args.learning_rate

        for step in range(T):
            if stop.signum is not None:
                break
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
            extension[step] = extension_flags(infos, N) & ~term
            state = np.asarray(infos["state"], dtype=np.float32)
            running_return += reward
            for i in np.flatnonzero(term):
                writer.add_scalar("charts/episodic_return", running_return[i], global_step)
                finished.append(running_return[i])
                running_return[i] = 0.0
            cache.clear(np.flatnonzero(term))
        if stop.signum is not None:  # SIGINT/SIGTERM: keep the last evaluation, save, exit
            break
        progress.update(batch_size)
        if finished:
            train_return = float(np.mean(finished))
            finished.clear()

        # ALGO LOGIC: values and log-probabilities of the rollout policy, in one pass. An
        # action committed in an earlier iteration of a still-running episode is scored under
        # this rollout's policy, the one that keeps it (docs: implementation detail 9).
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
            rewards, values, terminated, next_value, args.gamma, args.gae_lambda,
            skip=extension if args.protocol == "certified" else None,
        )  # fmt: skip

        # Stackelberg vs Basic POMDP: response-phase transitions kept with probability p;
        # extension steps (certified protocol) never
        keep = batch_mask(response_step, extension, args.response_phase_prob, rng)
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
                # ALGO LOGIC: guard (detail 7): a committed action far out in the Gaussian's
                # tail must not overflow the ratio (an overflow turns every parameter into NaN)
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

        y_pred, y_true = values[~extension], returns[~extension]
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
            std = agent.actor_logstd.exp().mean().item()
            writer.add_scalar("charts/action_std", std, global_step)
        writer.add_scalar("charts/SPS", int(global_step / (time.time() - start_time)), global_step)

        # ALGO LOGIC: exact evaluation of the greedy committed policy
        if iteration % args.eval_every == 0 or iteration == num_iterations:
            last_eval = evaluate(agent, eval_env, args.eval_episodes, seed=args.seed + 10_000)
            log_evaluation(writer, last_eval, optimum, global_step)
            progress.set_postfix(
                value=f"{last_eval.leader_value:.4f}",
                ret=f"{train_return:.4f}",
                target=f"{target.value:.4f}",
            )
            reached = reaches_target(last_eval, train_return, target.value, args)
            if reached and reached_at is None:
                reached_at = (global_step, time.time() - start_time)
                writer.add_scalar("charts/time_to_target", reached_at[1], global_step)
            if reached and args.stop_at_optimum:
                break
    progress.close()
    elapsed = time.time() - start_time

    # the learned mechanism, next to the exact optimum
    stopped = f"STOPPED by {signal.Signals(stop.signum).name}: " if stop.signum else ""
    if last_eval is None:
        print(f"{stopped}no evaluation yet; nothing saved (run {run_name})", file=sys.stderr)
        sys.exit(128 + stop.signum)
    lines = [
        f"{stopped}run {run_name}: {global_step} leader steps in {elapsed:.1f} s ({setting.name}, "
        f"{followers_label(args)}, "
        f"critic {args.critic}, p={args.response_phase_prob})",
        *summarize(game, last_eval, optimum, target, reached_at),
    ]
    summary = "\n".join(lines)
    print(summary)
    if args.save_model:
        save_run(f"runs/{run_name}", args, game, last_eval, optimum, target)
        with open(f"runs/{run_name}/summary.txt", "w") as fh:
            fh.write(summary + "\n")
        print(f"policy saved to runs/{run_name}/ (evaluate it: python baselines/evaluate.py "
              f"runs/{run_name})")  # fmt: skip
    envs.close()
    writer.close()
    if stop.signum is not None:
        sys.exit(128 + stop.signum)
