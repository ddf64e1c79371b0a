"""Independent PPO for every agent of the multi-agent game at once (no commitment).

The baseline that shows why the Stackelberg formulation matters: the leader and the
followers of a setting's PettingZoo AEC game (`stackelberg/<setting>-v0`) all learn at the
same time, each with its own PPO agent; nobody commits. The leader's greedy policy is
evaluated exactly, as in `mappo.py`. Implementation details: docs/baselines/ippo_simultaneous.md
(the Trainers page of the docs).

    python baselines/ippo_simultaneous.py --env-id stackelberg/simple-allocation-v0 \
        --env-kwargs '{"n_messages": 3}'
    tensorboard --logdir runs

Defaults: the setting behind `--env-id` gives the default game (`--env-kwargs`) through its
registration (`stackelberg_zoo.envs.registry`); `--help` after an `--env-id` shows it.
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
from typing import Any

import gymnasium as gym
import numpy as np
import pettingzoo
import torch
import torch.nn as nn
import torch.optim as optim
import tyro
from torch.distributions import Categorical, Normal
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

import stackelberg_zoo.envs  # noqa: F401  (registers the stackelberg/... ids)
from stackelberg_zoo.envs.aec import LEADER
from stackelberg_zoo.envs.core import format_array, induced_bayesian_game, leader_value
from stackelberg_zoo.envs.registry import Setting, settings
from stackelberg_zoo.equilibrium.gaps import bne_gap


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
    """whether to save every agent's policy into `runs/{run_name}`"""
    progress_bar: bool = True
    """whether to show a tqdm progress bar"""

    # Environment
    env_id: str = "stackelberg/normal-form-v0"
    """the PettingZoo id of the multi-agent game (`stackelberg/<setting>-v0`)"""
    env_kwargs: str = '{"game": "escape"}'
    """JSON object of keyword arguments for the game, e.g. '{"game": "maintain", "mixed_leader":
    true}' (normal form) or '{"n_messages": 3}' (simple allocation)"""

    # Algorithm specific arguments
    total_timesteps: int = 100_000
    """total sub-games (episodes of the multi-agent game) of the experiment"""
    learning_rate: float = 0.003
    """the learning rate of every agent's optimizer"""
    num_envs: int = 16
    """the number of sub-games played in parallel"""
    num_steps: int = 64
    """the number of sub-games per environment per policy rollout"""
    num_minibatches: int = 4
    """the number of mini-batches"""
    update_epochs: int = 4
    """the K epochs to update the policies"""
    norm_adv: bool = True
    """toggles advantages normalization"""
    clip_coef: float = 0.2
    """the surrogate clipping coefficient"""
    ent_coef: float = 0.0
    """coefficient of the entropy"""
    vf_coef: float = 0.5
    """coefficient of the value function"""
    max_grad_norm: float = 0.5
    """the maximum norm for the gradient clipping"""
    hidden_size: int = 64
    """width of the two hidden layers of every actor and critic"""
    init_std: float = 0.5
    """initial std of the clipped-Gaussian head (Box actions), in units of the box width"""
    eval_every: int = 5
    """evaluate the greedy joint policy exactly every this many iterations"""


def fail(message: str) -> None:
    """Stop at start with a one-line error (argparse's convention: exit status 2)."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def setting_of(env_id: str) -> Setting:
    """The registered setting whose multi-agent game has the PettingZoo id `env_id`."""
    for setting in settings():
        if setting.env_id is not None and setting.env_id == env_id:
            return setting
    known = [s.env_id for s in settings() if s.env_id is not None]
    raise ValueError(f"--env-id must be a multi-agent game id, one of {known}, got {env_id!r}")


def parse_args() -> tuple[Args, Setting, dict[str, Any]]:
    """The flags (defaults: those of the setting behind `--env-id`), checked; or exit."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--env-id", "--env_id", default=Args.env_id)
    try:
        setting = setting_of(pre.parse_known_args()[0].env_id)
    except ValueError as error:
        fail(str(error))
    args = tyro.cli(Args, default=Args(**setting.defaults_for("ippo_simultaneous")))
    try:
        env_kwargs = check_args(args)
    except ValueError as error:
        fail(str(error))
    return args, setting, env_kwargs


def check_args(args: Args) -> dict[str, Any]:
    """Refuse a bad flag, naming it (`ValueError`); return the parsed `--env-kwargs`."""
    for name in ("total_timesteps", "num_envs", "num_steps", "num_minibatches", "update_epochs",
                 "eval_every", "hidden_size", "torch_threads"):  # fmt: skip
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    strict = ("learning_rate", "init_std", "clip_coef", "max_grad_norm")
    for name in strict + ("ent_coef", "vf_coef"):
        value = getattr(args, name)
        above = value > 0 if name in strict else value >= 0
        if not (above and math.isfinite(value)):
            side = ">" if name in strict else ">="
            raise ValueError(f"--{name.replace('_', '-')} must be finite and {side} 0, got {value}")
    try:
        env_kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as error:
        raise ValueError(f"--env-kwargs must be JSON, got {args.env_kwargs!r} ({error})") from None
    if not isinstance(env_kwargs, dict):
        raise ValueError(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    return env_kwargs


def flatten_observations(space: gym.Space, obs: np.ndarray) -> np.ndarray:
    """A batch of observations `[N, ...]` as float32 network input `[N, d]`."""
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
    raise TypeError(f"handles Discrete, MultiDiscrete and Box observations, got {space}")


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Actor and critic on the agent's own observation (categorical or clipped Gaussian)."""

    def __init__(self, obs_dim: int, action_space: gym.Space, hidden: int, init_std: float):
        super().__init__()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        if not self.discrete and not isinstance(action_space, gym.spaces.Box):
            raise TypeError(f"handles Discrete and Box actions, got {action_space}")
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, hidden)),
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


class GreedyLeader:
    """The leader agent's greedy policy as a memoised callable `observation -> action`."""

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
    """The exact evaluation of the agents' greedy joint policy.

    Attributes:
        leader_value: The leader's expected utility: greedy leader, argmax followers.
        mixed_leader_value: The same against the followers' current mixed strategies.
        deviation_gain: Largest interim gain of a follower type deviating from argmax play.
        bcce_gap: Largest ex-ante BCCE gap of the followers' current mixed strategies in the
            induced game of the greedy leader.
        strategies: Per follower `[T_i, A_i]`, the current mixed strategies.
        policy: The greedy leader.
        models: Per agent, a copy of its weights when evaluated (what `--save-model` saves).
    """

    leader_value: float
    mixed_leader_value: float
    deviation_gain: float
    bcce_gap: float
    strategies: tuple[np.ndarray, ...]
    policy: GreedyLeader = field(repr=False)
    models: dict[str, dict[str, torch.Tensor]] = field(repr=False)


def evaluate(agents: dict[str, Agent], game, followers: list[str]) -> Evaluation:
    """Exact evaluation of the greedy leader against the followers' strategies."""
    policy = GreedyLeader(agents[LEADER], game.leader_observation_space)
    induced = induced_bayesian_game(game, policy)
    mixed, greedy = [], []
    with torch.no_grad():
        for i, name in enumerate(followers):
            types = torch.eye(game.n_types[i])
            probs = agents[name].distribution(types).probs.numpy().astype(np.float64)
            mixed.append(probs / probs.sum(axis=1, keepdims=True))
            greedy.append(np.eye(probs.shape[1])[probs.argmax(axis=1)])
    interim = bne_gap(induced.followers, greedy).interim
    return Evaluation(
        leader_value=leader_value(induced, greedy),
        mixed_leader_value=leader_value(induced, mixed),
        deviation_gain=max(float(np.nanmax(row)) for row in interim),
        bcce_gap=float(np.max(bne_gap(induced.followers, mixed).ex_ante)),
        strategies=tuple(mixed),
        policy=policy,
        models={
            name: {key: value.detach().clone() for key, value in agent.state_dict().items()}
            for name, agent in agents.items()
        },
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


def mechanism_entries(policy: GreedyLeader) -> list[tuple[Any, Any]]:
    """The policy's `(observation, action)` pairs, sorted by observation (the printed order)."""
    return sorted(policy.table.values(), key=lambda entry: np.asarray(entry[0]).tolist())


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


if __name__ == "__main__":
    args, setting, env_kwargs = parse_args()
    batch_subgames = args.num_envs * args.num_steps
    num_iterations = max(1, args.total_timesteps // batch_subgames)
    run_name = f"{args.env_id}__{args.exp_name}__{args.seed}__{int(time.time())}"

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    np.random.seed(args.seed)  # noqa: NPY002 (CleanRL's seeding; nothing here draws from it)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(args.torch_threads)
    rng = np.random.default_rng(args.seed)

    # env setup: one AEC game per parallel sub-game
    try:
        envs = [pettingzoo.make("aec", args.env_id, **env_kwargs) for _ in range(args.num_envs)]
    except (TypeError, ValueError) as error:
        fail(f"--env-kwargs {args.env_kwargs} for {args.env_id}: {error}")
    game = envs[0].unwrapped.game
    optimum = float(game.reference().optimum) + 0.0  # no "-0.000000" for a zero optimum
    names = list(envs[0].possible_agents)
    followers = [name for name in names if name != LEADER]
    obs_spaces = {name: envs[0].observation_space(name)["observation"] for name in names}
    masked = {name: "action_mask" in envs[0].observation_space(name).spaces for name in names}
    agents = {
        name: Agent(
            gym.spaces.flatdim(obs_spaces[name]),
            envs[0].action_space(name),
            args.hidden_size,
            args.init_std,
        )
        for name in names
    }
    optimizers = {
        name: optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
        for name, agent in agents.items()
    }

    # TRY NOT TO MODIFY: logging (after a successful start, so a failed one leaves no run)
    writer = start_logging(args, run_name, vars(args) | {"setting": setting.name})
    print(
        f"values: {game.value_meaning}; progress bar: value = exact leader value of the "
        "leader's greedy policy against the followers' greedy strategies",
        flush=True,
    )

    global_step, start_time, last_eval = 0, time.time(), None
    stop = StopSignal()
    progress = tqdm(total=num_iterations * batch_subgames, disable=not args.progress_bar)
    for iteration in range(1, num_iterations + 1):
        # ALGO LOGIC: play num_steps sub-games in each env; every agent acts on its own
        buffers = {name: {"obs": [], "raw": [], "mask": [], "ret": []} for name in names}
        returns = {name: [] for name in names}
        for _ in range(args.num_steps):
            if stop.signum is not None:
                break
            for k, env in enumerate(envs):
                env.reset(seed=args.seed * 100_003 + k if global_step == 0 else None)
            turns: list[list[tuple[str, int]]] = [[] for _ in envs]  # (agent, buffer index)
            active = list(range(args.num_envs))
            while active:
                by_agent: dict[str, list[int]] = {}
                for k in active:
                    by_agent.setdefault(envs[k].agent_selection, []).append(k)
                for name, ks in by_agent.items():
                    raw_obs = [envs[k].observe(name) for k in ks]
                    flat = flatten_observations(
                        obs_spaces[name], np.stack([o["observation"] for o in raw_obs])
                    )
                    mask = np.stack([o["action_mask"] for o in raw_obs]) if masked[name] else None
                    with torch.no_grad():
                        m = None if mask is None else torch.as_tensor(mask)
                        raw = agents[name].sample(torch.as_tensor(flat), m)
                    actions = agents[name].to_env(raw)
                    buffer = buffers[name]
                    for j, k in enumerate(ks):
                        turns[k].append((name, len(buffer["obs"])))
                        buffer["obs"].append(flat[j])
                        buffer["raw"].append(raw[j])
                        buffer["mask"].append(None if mask is None else mask[j])
                        buffer["ret"].append(0.0)
                        action = actions[j]
                        envs[k].step(int(action) if agents[name].discrete else action)
                active = [k for k in active if not all(envs[k].terminations.values())]
            # gamma = 1: every turn of an agent earns its sub-game utility as return
            for k, env in enumerate(envs):
                rewards = env.unwrapped.rewards
                for name, index in turns[k]:
                    buffers[name]["ret"][index] = rewards[name]
                for name in names:
                    returns[name].append(rewards[name])
            global_step += args.num_envs
        if stop.signum is not None:  # SIGINT/SIGTERM: keep the last evaluation, save, exit
            break
        progress.update(batch_subgames)
        for name in names:
            writer.add_scalar(f"charts/episodic_return-{name}", np.mean(returns[name]), global_step)

        # Optimizing every agent's policy and value network, independently
        for name in names:
            agent, optimizer, buffer = agents[name], optimizers[name], buffers[name]
            b_obs = torch.as_tensor(np.stack(buffer["obs"]))
            b_raw = torch.as_tensor(np.stack(buffer["raw"]).astype(np.float32))
            b_mask = torch.as_tensor(np.stack(buffer["mask"])) if masked[name] else None
            b_ret = torch.as_tensor(np.asarray(buffer["ret"], dtype=np.float32))
            with torch.no_grad():
                b_logprob, _ = agent.log_prob_entropy(b_obs, b_raw, b_mask)
                b_adv = b_ret - agent.get_value(b_obs)
            inds = np.arange(len(b_ret))
            minibatch = max(1, len(inds) // args.num_minibatches)
            for _epoch in range(args.update_epochs):
                rng.shuffle(inds)
                for start in range(0, len(inds), minibatch):
                    mb = torch.as_tensor(inds[start : start + minibatch])
                    newlogprob, entropy = agent.log_prob_entropy(
                        b_obs[mb], b_raw[mb], None if b_mask is None else b_mask[mb]
                    )
                    ratio = (newlogprob - b_logprob[mb]).exp()
                    mb_adv = b_adv[mb]
                    if args.norm_adv and len(mb) > 1:
                        mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                    pg_loss = torch.max(
                        -mb_adv * ratio,
                        -mb_adv * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef),
                    ).mean()
                    v_loss = 0.5 * ((agent.get_value(b_obs[mb]) - b_ret[mb]) ** 2).mean()
                    loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                    optimizer.zero_grad()
                    loss.backward()
                    nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                    optimizer.step()
            writer.add_scalar(f"losses/policy_loss-{name}", pg_loss.item(), global_step)
            writer.add_scalar(f"losses/value_loss-{name}", v_loss.item(), global_step)
            writer.add_scalar(f"losses/entropy-{name}", entropy.mean().item(), global_step)
        writer.add_scalar("charts/SPS", int(global_step / (time.time() - start_time)), global_step)

        if iteration % args.eval_every == 0 or iteration == num_iterations:
            last_eval = evaluate(agents, game, followers)
            writer.add_scalar("equilibrium/leader_value", last_eval.leader_value, global_step)
            writer.add_scalar("equilibrium/optimal_value", optimum, global_step)
            writer.add_scalar(
                "equilibrium/optimality_gap",
                optimum - last_eval.leader_value,
                global_step,
            )
            writer.add_scalar("equilibrium/bcce_gap", last_eval.bcce_gap, global_step)
            writer.add_scalar(
                "equilibrium/follower_deviation_gain", last_eval.deviation_gain, global_step
            )
            progress.set_postfix(value=f"{last_eval.leader_value:.4f}")
    progress.close()
    elapsed = time.time() - start_time
    stopped = f"STOPPED by {signal.Signals(stop.signum).name}: " if stop.signum else ""
    if last_eval is None:
        print(f"{stopped}no evaluation yet; nothing saved (run {run_name})", file=sys.stderr)
        sys.exit(128 + stop.signum)

    lines = [
        f"{stopped}run {run_name}: {global_step} sub-games in {elapsed:.1f} s, every agent "
        f"learning at once (independent PPO, no commitment)",
        "leader's greedy policy (at the last evaluation):",
        *("  " + line for line in game.describe_mechanism(mechanism_entries(last_eval.policy))),
        "followers' current strategies (rows: types, columns: actions):",
        *(
            f"  follower {i}: {format_array(s).replace(chr(10), ' ')}"
            for i, s in enumerate(last_eval.strategies)
        ),
        f"leader value {last_eval.leader_value:.6f} (against the followers' mixed strategies "
        f"{last_eval.mixed_leader_value:.6f})  exact Stackelberg optimum {optimum:.6f}  "
        f"gap {optimum - last_eval.leader_value:.6f}",
        f"values are {game.value_meaning}",
        f"follower deviation gain {last_eval.deviation_gain:.2e}; BCCE gap of the followers' "
        f"mixed play {last_eval.bcce_gap:.4f} (PPO followers carry no regret bound)",
    ]
    summary = "\n".join(lines)
    print(summary)
    if args.save_model:
        torch.save(last_eval.models, f"runs/{run_name}/{args.exp_name}.cleanrl_model")
        mechanism = [
            {"observation": game.observation_fields(obs), "action": np.asarray(action).tolist()}
            for obs, action in mechanism_entries(last_eval.policy)
        ]
        record = {
            "env_id": args.env_id, "env_kwargs": env_kwargs, "value_meaning": game.value_meaning,
            "leader_value": last_eval.leader_value, "optimum": optimum, "mechanism": mechanism,
        }  # fmt: skip
        with open(f"runs/{run_name}/mechanism.json", "w") as fh:
            json.dump(record, fh, indent=1)
        with open(f"runs/{run_name}/summary.txt", "w") as fh:
            fh.write(summary + "\n")
        print(f"policies saved to runs/{run_name}/")
    for env in envs:
        env.close()
    writer.close()
    if stop.signum is not None:
        sys.exit(128 + stop.signum)
