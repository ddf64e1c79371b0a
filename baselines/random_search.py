"""Random search over committed leader policies (the paper's policy-enumeration baseline).

Every POMDP episode plays a fresh random committed policy: the first time an observation
appears in the episode the leader draws an action uniformly at random (Box actions: uniform
on a slightly widened box, clipped, so that the bounds have positive probability) and keeps
it for the rest of the episode. The episode return is the policy's score; the best-scoring
policy so far is kept and evaluated exactly (its induced Bayesian game against the followers'
learned reward-phase strategy), with the same metrics and summary as `mappo.py`.

    python baselines/random_search.py --env-id StackelbergZoo/SimpleAllocationPOMDP-v0 \
        --env-kwargs '{"n_messages": 3}'

Implementation details:

1. Environments: the same `make_envs` as `mappo.py` (the batched POMDP for `--follower mw`,
   else a SAME_STEP sync vector); no network and no gradient step.
2. Sampling a policy (`RandomActions`): in each env, the first time an observation (keyed by
   its bytes) occurs in the episode the leader draws an action and commits to it for the
   rest of the episode. Discrete: uniform over the actions legal under
   `infos["action_mask"]`. Box: uniform on `[-o, 1 + o]` in unit coordinates, clipped, with
   `o = --box-overshoot` (0.25: each bound has probability 1/6 per coordinate). The table is
   emptied when the episode ends, so every episode tries a new policy.
3. Score: one episode's return. A policy whose return is strictly above `best_return`
   becomes the best (ties keep the earlier one); the score is noisy, since the followers'
   learned response differs from episode to episode.
4. Each new best is evaluated exactly by `evaluate`, as in `mappo.py` (induced Bayesian game,
   `--eval-episodes` POMDP episodes, exact `leader_value`, `bne_gap`, BCCE gap and bound).
   An observation of the induced game that the scoring episode never met gets a random
   action at evaluation, which `TablePolicy` then keeps.
5. Target and early stop: the target of `target_of` (as in `mappo.py`); the search stops
   (`--stop-at-optimum`) once a new best's leader value is within `--target-tol` of it with a
   deviation gain at most `--target-tol`. There is no training-return condition, and the
   check only runs when a new best appears.
6. A run in which no episode finishes within `--total-timesteps` raises `ValueError`; with
   `--save-model` the best mechanism goes to `runs/{run_name}/mechanism.json` and the
   summary to `summary.txt`.
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
import tyro
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

import stackelberg_zoo.envs  # noqa: F401  (registers the StackelbergZoo/... ids)
from stackelberg_zoo.envs.core import induced_bayesian_game, leader_value
from stackelberg_zoo.envs.matrix_design.game import MatrixDesign
from stackelberg_zoo.envs.mspm.game import SequentialPriceMechanism
from stackelberg_zoo.envs.normal_form.game import NormalFormStackelberg
from stackelberg_zoo.envs.simple_allocation.game import SimpleAllocation
from stackelberg_zoo.equilibrium.gaps import bne_gap
from stackelberg_zoo.equilibrium.stackelberg import robust_commitment


@dataclass
class Args:
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment"""
    save_model: bool = True
    """whether to save the best policy (the learned mechanism) into `runs/{run_name}`"""
    progress_bar: bool = True
    """whether to show a tqdm progress bar"""

    # Environment
    env_id: str = "StackelbergZoo/NormalFormPOMDP-v0"
    """the id of the Stackelberg POMDP (`StackelbergZoo/<Setting>POMDP-v0`)"""
    env_kwargs: str = '{"game": "escape"}'
    """JSON object of keyword arguments for the env (game and POMDP arguments)"""
    follower: Literal[
        "mw", "hedge", "regret_matching", "regret_matching_plus", "exp3", "best_response"
    ] = "mw"
    """the followers' response algorithm (the paper: multiplicative weights)"""
    vectorization: Literal["auto", "vector_entry_point", "sync"] = "auto"
    """how to batch the envs: `auto` uses the POMDP's batched VectorEnv (MW followers) when
    registered, else Gymnasium's sync vector of single envs (SAME_STEP autoreset either way)"""
    num_envs: int = 8
    """the number of parallel POMDP environments (one random policy per episode each)"""
    total_timesteps: int = 200_000
    """total leader steps of the experiment"""
    box_overshoot: float = 0.25
    """Box actions are drawn uniformly on [-o, 1 + o] in unit coordinates and clipped, so each
    bound has probability o / (1 + 2 o) per coordinate"""

    # Evaluation
    eval_episodes: int = 4
    """POMDP episodes per exact evaluation of a new best policy"""
    stop_at_optimum: bool = True
    """stop once the best policy's exact evaluation reaches the target"""
    target_tol: float = 1e-6
    """the target is reached when the leader value is within this of it and no follower type
    gains more than this by deviating from its learned play"""
    mixed_margin: float = 0.005
    """normal-form games with mixed commitments: the target is the best commitment that makes
    the follower's response strict by this margin (the exact SSE sits on a tie)"""


def make_envs(args: Args, env_kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """The envs: the batched POMDP when registered (MW), else a SAME_STEP sync vector."""
    kwargs = dict(env_kwargs, followers=args.follower)
    mode = args.vectorization
    if mode == "auto":
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


class RandomActions:
    """Uniform random leader actions (legal ones for masked Discrete spaces)."""

    def __init__(self, space: gym.Space, overshoot: float, rng: np.random.Generator):
        if isinstance(space, gym.spaces.Box):
            if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
                raise ValueError(f"random search needs a bounded Box, got {space}")
        elif not isinstance(space, gym.spaces.Discrete):
            raise TypeError(f"random_search.py handles Discrete and Box actions, got {space}")
        if overshoot < 0:
            raise ValueError(f"--box-overshoot must be >= 0, got {overshoot}")
        self.space, self.overshoot, self.rng = space, overshoot, rng

    def __call__(self, mask: np.ndarray | None = None) -> Any:
        space = self.space
        if isinstance(space, gym.spaces.Discrete):
            legal = np.arange(space.n) if mask is None else np.flatnonzero(mask)
            return int(space.start + self.rng.choice(legal))
        unit = self.rng.uniform(-self.overshoot, 1 + self.overshoot, size=space.shape)
        action = space.low + (space.high - space.low) * np.clip(unit, 0.0, 1.0)
        return action.astype(space.dtype)


class TablePolicy:
    """A committed policy as a table `observation key -> (observation, action)`.

    Observations not in the table get a random action the first time they are asked about,
    which is then kept (so the policy is deterministic once asked).
    """

    def __init__(self, table: dict[bytes, tuple[Any, Any]], fallback: RandomActions):
        self.table, self.fallback = dict(table), fallback

    def __call__(self, obs: Any) -> Any:
        key = np.ascontiguousarray(np.asarray(obs)[None]).tobytes()
        entry = self.table.get(key)
        if entry is None:
            entry = self.table[key] = (np.array(obs, copy=True), self.fallback())
        return entry[1]


@dataclass(frozen=True)
class Evaluation:
    """The exact evaluation of a committed policy (see `mappo.py`).

    Attributes:
        leader_value: Mean exact leader value against the followers' learned strategies.
        episode_return: Mean measured return of the evaluation episodes.
        deviation_gain: Largest interim gain of a follower type deviating from its play.
        bcce_gap: Largest ex-ante BCCE gap of the response-phase play (nan if unavailable).
        bcce_bound: The learners' regret bound on that gap (nan if unavailable).
        strategies: The followers' learned strategies in the last evaluation episode.
        policy: The evaluated policy.
    """

    leader_value: float
    episode_return: float
    deviation_gain: float
    bcce_gap: float
    bcce_bound: float
    strategies: tuple[np.ndarray, ...]
    policy: TablePolicy = field(repr=False)


def evaluate(policy: TablePolicy, env: gym.Env, episodes: int, seed: int) -> Evaluation:
    """Play `episodes` POMDP episodes with a committed policy and evaluate it exactly."""
    game = env.unwrapped.game
    induced = induced_bayesian_game(game, policy)
    values, returns, gains, gaps, bounds = [], [], [], [], []
    strategies: tuple[np.ndarray, ...] = ()
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            obs, reward, done, _, _ = env.step(policy(obs))
            total += reward
        report = env.unwrapped.pomdp.report  # the response phase's report
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


def describe_mechanism(game, policy: TablePolicy) -> list[str]:
    """Readable lines for a committed mechanism (every observation in its table)."""
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
    env_kwargs = json.loads(args.env_kwargs)
    if not isinstance(env_kwargs, dict):
        raise TypeError(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    run_name = f"{args.env_id}__{args.exp_name}__{args.seed}__{int(time.time())}"
    writer = SummaryWriter(f"runs/{run_name}")
    writer.add_text(
        "hyperparameters",
        "|param|value|\n|-|-|\n" + "\n".join(f"|{k}|{v}|" for k, v in vars(args).items()),
    )

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    rng = np.random.default_rng(args.seed)

    # env setup
    envs = make_envs(args, env_kwargs)
    eval_env = gym.make(args.env_id, followers=args.follower, **env_kwargs)
    game = eval_env.unwrapped.game
    action_space = envs.single_action_space
    optimum, target, target_meaning = target_of(game, args.mixed_margin)
    sample = RandomActions(action_space, args.box_overshoot, rng)
    discrete = isinstance(action_space, gym.spaces.Discrete)

    N = args.num_envs
    tables: list[dict[bytes, tuple[Any, Any]]] = [{} for _ in range(N)]
    running_return = np.zeros(N)
    best_return, best, reached_at, episodes = -np.inf, None, None, 0
    global_step, start_time = 0, time.time()
    obs, infos = envs.reset(seed=args.seed)
    progress = tqdm(total=args.total_timesteps, disable=not args.progress_bar)

    while global_step < args.total_timesteps:
        global_step += N
        # ALGO LOGIC: a random committed action at each new observation of the episode
        masks = infos.get("action_mask") if discrete else None
        keys = [row.tobytes() for row in np.ascontiguousarray(obs).reshape(N, -1)]
        actions = []
        for i, key in enumerate(keys):
            entry = tables[i].get(key)
            if entry is None:
                mask = None if masks is None else np.asarray(masks)[i]
                entry = tables[i][key] = (np.array(obs[i], copy=True), sample(mask))
            actions.append(entry[1])
        obs, reward, term, trunc, infos = envs.step(np.stack(actions))
        running_return += reward
        progress.update(N)

        for i in np.flatnonzero(term):
            episodes += 1
            writer.add_scalar("charts/episodic_return", running_return[i], global_step)
            if running_return[i] > best_return:
                best_return = float(running_return[i])
                best = evaluate(
                    TablePolicy(tables[i], sample), eval_env, args.eval_episodes, args.seed + 10_000
                )
                writer.add_scalar("charts/best_return", best_return, global_step)
                writer.add_scalar("equilibrium/leader_value", best.leader_value, global_step)
                writer.add_scalar("equilibrium/optimal_value", optimum, global_step)
                writer.add_scalar(
                    "equilibrium/optimality_gap", optimum - best.leader_value, global_step
                )
                writer.add_scalar("equilibrium/bcce_gap", best.bcce_gap, global_step)
                writer.add_scalar("equilibrium/bcce_gap_bound", best.bcce_bound, global_step)
                writer.add_scalar(
                    "equilibrium/follower_deviation_gain", best.deviation_gain, global_step
                )
                progress.set_postfix(best=f"{best.leader_value:.4f}", target=f"{target:.4f}")
                if (
                    reached_at is None
                    and best.leader_value >= target - args.target_tol
                    and best.deviation_gain <= args.target_tol
                ):
                    reached_at = (global_step, time.time() - start_time)
                    writer.add_scalar("charts/time_to_target", reached_at[1], global_step)
            running_return[i] = 0.0
            tables[i] = {}
        writer.add_scalar("charts/SPS", int(global_step / (time.time() - start_time)), global_step)
        if reached_at is not None and args.stop_at_optimum:
            break
    progress.close()
    elapsed = time.time() - start_time
    if best is None:
        raise ValueError(
            f"no episode finished within --total-timesteps {args.total_timesteps}; raise it"
        )

    lines = [
        f"run {run_name}: {global_step} leader steps, {episodes} random policies in "
        f"{elapsed:.1f} s (followers {args.follower})",
        f"best committed policy (episode return {best_return:.4f}):",
        *("  " + line for line in describe_mechanism(game, best.policy)),
        "followers' learned reward-phase play (last evaluation episode):",
        *("  " + line for line in describe_followers(best.strategies)),
        f"leader value {best.leader_value:.6f}  exact optimum {optimum:.6f}  "
        f"gap {optimum - best.leader_value:.6f}",
        f"target {target:.6f}: {target_meaning}",
        f"follower deviation gain in the induced game {best.deviation_gain:.2e}; BCCE gap of "
        f"the response-phase play {best.bcce_gap:.4f} (regret bound {best.bcce_bound:.4f})",
        (
            f"TARGET REACHED after {reached_at[0]} steps, {reached_at[1]:.1f} s"
            if reached_at is not None
            else "target NOT reached"
        ),
    ]
    summary = "\n".join(lines)
    print(summary)
    if args.save_model:
        mechanism = [
            {"observation": np.asarray(o).tolist(), "action": np.asarray(a).tolist()}
            for o, a in best.policy.table.values()
        ]
        with open(f"runs/{run_name}/mechanism.json", "w") as fh:
            json.dump({"mechanism": mechanism, "leader_value": best.leader_value,
                       "optimum": optimum, "target": target}, fh, indent=1)  # fmt: skip
        with open(f"runs/{run_name}/summary.txt", "w") as fh:
            fh.write(summary + "\n")
        print(f"best policy saved to runs/{run_name}/")
    envs.close()
    writer.close()
