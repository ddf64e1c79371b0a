"""Independent PPO for every agent of the multi-agent game at once (no commitment).

The baseline that shows why the Stackelberg formulation matters: the leader and the
followers of a setting's PettingZoo AEC game (`stackelberg/<setting>-v0`) all learn at the
same time, each with its own PPO agent on its own observation and reward. Followers see their
type, the leader its base-game observation; nobody commits, so the leader's action is sampled
afresh at every turn. One timestep is one sub-game (an episode of the multi-agent game).

Evaluation uses the same exact machinery as `mappo.py`: the leader's greedy policy defines
the followers' induced Bayesian game; the followers' greedy (argmax) strategies give the
leader value, compared with the exact Stackelberg optimum; their current mixed strategies
give the BCCE gap.

    python baselines/ippo_simultaneous.py --env-id stackelberg/normal-form-v0 \
        --env-kwargs '{"game": "escape"}'

Implementation details:

1. Environments: `--num-envs` PettingZoo AEC games of the base setting
   (`pettingzoo.make("aec", ...)`, not the POMDP); each is reset before every sub-game, with
   seed `seed * 100003 + k` on the first reset only.
2. One `Agent` and one Adam optimizer per agent name (`leader_0`, `follower_0`, ...); actor
   and critic both see the agent's own flattened `observation`. Heads as in `mappo.py`
   (categorical masked by `action_mask`, clipped Gaussian on Box actions) but without the
   min-std floor.
3. No commitment: the agents whose turn it is (`agent_selection`) act in a batch across the
   envs, and the leader samples a fresh action at every turn.
4. Returns and advantages: with gamma = 1 every turn of an agent earns that agent's final
   sub-game reward (`env.unwrapped.rewards`); the advantage is that return minus the critic's
   value (no GAE, no bootstrap).
5. The update is PPO's clipped surrogate with per-mini-batch advantage normalisation, an
   unclipped value loss, an entropy bonus and gradient-norm clipping, separately for each
   agent; there is no `target_kl` and no learning-rate annealing.
6. Exact evaluation (`evaluate`), every `--eval-every` iterations and after the last: the
   leader's greedy policy (`GreedyLeader`) defines the induced Bayesian game; each follower's
   mixed strategy is its actor's distribution at every one-hot type, its greedy strategy the
   argmax. The leader value is exact against the greedy strategies (and, in the summary,
   against the mixed ones), the deviation gain is `bne_gap`'s on the greedy strategies, the
   BCCE gap is that of the mixed ones; PPO followers have no regret bound to log.
7. The comparison is with the exact Stackelberg optimum `game.reference().optimum`; there is
   no target and no early stop: the run uses its whole `--total-timesteps`.
"""

from __future__ import annotations

import json
import os
import random
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
from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation
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
    save_model: bool = True
    """whether to save every agent's policy into `runs/{run_name}`"""
    progress_bar: bool = True
    """whether to show a tqdm progress bar"""

    # Environment
    env_id: str = "stackelberg/normal-form-v0"
    """the PettingZoo id of the multi-agent game (`stackelberg/<setting>-v0`)"""
    env_kwargs: str = '{"game": "escape"}'
    """JSON object of keyword arguments for the game, e.g. '{"n_messages": 3}'"""

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
    """

    leader_value: float
    mixed_leader_value: float
    deviation_gain: float
    bcce_gap: float
    strategies: tuple[np.ndarray, ...]
    policy: GreedyLeader = field(repr=False)


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
    )


def _fmt(value: Any) -> str:
    return np.array2string(np.asarray(value, dtype=np.float64), precision=3, suppress_small=True)


def describe_mechanism(game, policy: GreedyLeader) -> list[str]:
    """Readable lines for the leader's greedy policy (every observation it was asked)."""
    lines = []
    entries = sorted(policy.table.values(), key=lambda e: np.asarray(e[0]).tolist())
    if isinstance(game, NormalFormStackelberg):
        action = entries[0][1]
        if game.mixed_leader:
            lines.append(f"leader mix over rows: {_fmt(game.leader_strategy(action))}")
        else:
            lines.append(f"leader plays row {int(action)}")
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


if __name__ == "__main__":
    args = tyro.cli(Args)
    env_kwargs = json.loads(args.env_kwargs)
    if not isinstance(env_kwargs, dict):
        raise TypeError(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    batch_subgames = args.num_envs * args.num_steps
    num_iterations = max(1, args.total_timesteps // batch_subgames)
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

    # env setup: one AEC game per parallel sub-game
    envs = [pettingzoo.make("aec", args.env_id, **env_kwargs) for _ in range(args.num_envs)]
    game = envs[0].unwrapped.game
    reference = game.reference()
    optimum = float(reference.optimum) + 0.0  # no "-0.000000" for a zero optimum
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

    global_step, start_time, last_eval = 0, time.time(), None
    progress = tqdm(total=num_iterations * batch_subgames, disable=not args.progress_bar)
    for iteration in range(1, num_iterations + 1):
        # ALGO LOGIC: play num_steps sub-games in each env; every agent acts on its own
        buffers = {name: {"obs": [], "raw": [], "mask": [], "ret": []} for name in names}
        returns = {name: [] for name in names}
        for _ in range(args.num_steps):
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

    lines = [
        f"run {run_name}: {global_step} sub-games in {elapsed:.1f} s, every agent learning "
        f"at once (independent PPO, no commitment)",
        "leader's greedy policy:",
        *("  " + line for line in describe_mechanism(game, last_eval.policy)),
        "followers' current strategies (rows: types, columns: actions):",
        *(
            f"  follower {i}: {_fmt(s).replace(chr(10), ' ')}"
            for i, s in enumerate(last_eval.strategies)
        ),
        f"leader value {last_eval.leader_value:.6f} (against the followers' mixed strategies "
        f"{last_eval.mixed_leader_value:.6f})  exact Stackelberg optimum {optimum:.6f}  "
        f"gap {optimum - last_eval.leader_value:.6f}",
        f"follower deviation gain {last_eval.deviation_gain:.2e}; BCCE gap of the followers' "
        f"mixed play {last_eval.bcce_gap:.4f} (PPO followers carry no regret bound)",
    ]
    summary = "\n".join(lines)
    print(summary)
    if args.save_model:
        torch.save(
            {name: agent.state_dict() for name, agent in agents.items()},
            f"runs/{run_name}/{args.exp_name}.cleanrl_model",
        )
        with open(f"runs/{run_name}/summary.txt", "w") as fh:
            fh.write(summary + "\n")
        print(f"policies saved to runs/{run_name}/")
    for env in envs:
        env.close()
    writer.close()
