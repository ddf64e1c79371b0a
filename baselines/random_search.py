"""Random search over committed leader policies (the paper's policy-enumeration baseline).

Every POMDP episode plays a fresh random committed policy; the best-scoring one so far is
evaluated exactly, with the same metrics and summary as `mappo.py`. Implementation details:
docs/baselines/random_search.md (the Trainers page of the docs).

    python baselines/random_search.py --env-id StackelbergZoo/SimpleAllocationPOMDP-v0
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
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import tyro
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

import stackelberg_zoo.envs  # noqa: F401  (registers the StackelbergZoo/... ids)
from stackelberg_zoo.envs.core import format_array, induced_bayesian_game
from stackelberg_zoo.envs.pomdp.certify import certification_summary, report_value
from stackelberg_zoo.envs.pomdp.followers import follower_models, response_algorithm
from stackelberg_zoo.envs.registry import Setting, settings


@dataclass
class Args:
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment"""
    track: bool = False
    """if toggled, this experiment will be tracked with Weights and Biases (`pip install wandb`)"""
    wandb_project_name: str = "stackelberg-zoo"
    """the wandb's project name"""
    wandb_entity: str | None = None
    """the entity (team) of wandb's project (None: your default entity)"""
    save_model: bool = True
    """whether to save the best policy (the learned mechanism) into `runs/{run_name}`"""
    progress_bar: bool = True
    """whether to show a tqdm progress bar"""

    # Environment
    env_id: str = "StackelbergZoo/NormalFormPOMDP-v0"
    """the id of the Stackelberg POMDP (`StackelbergZoo/<Setting>POMDP-v0`)"""
    env_kwargs: str = '{"game": "escape"}'
    """JSON object of keyword arguments for the env (game and POMDP arguments)"""
    follower: str = "mw"
    """the followers' response algorithm, a registered follower model (the paper: `mw`)"""
    protocol: Literal["paper", "certified"] = "paper"
    """the POMDP's follower protocol: `paper` (the v4 paper's episode) or `certified` (the
    protocol's own MW followers, a response certified at a BCCE gap before an exact reward
    phase, so each episode's return is exact; `--follower` does not apply)"""
    vectorization: Literal["auto", "vector_entry_point", "sync"] = "auto"
    """how to batch the envs: `auto` uses the POMDP's batched VectorEnv when the setting has one
    and the follower model runs batched, else Gymnasium's sync vector of single envs (SAME_STEP
    autoreset either way)"""
    num_envs: int = 8
    """the number of parallel POMDP environments (one random policy per episode each)"""
    total_timesteps: int = 200_000
    """total leader steps of the experiment"""
    box_overshoot: float = 0.25
    """Box actions are drawn uniformly on [-o, 1 + o] in unit coordinates and clipped, so each
    bound has probability o / (1 + 2 o) per coordinate"""
    local_search: float = 0.0
    """the probability that an episode plays the best policy so far with some entries redrawn,
    instead of a fresh random one; then the best is the policy with the best exact evaluation,
    ties going to the newer (0: pure random search, the paper's baseline: the best is the
    policy with the best episode return)"""
    redraw_rate: float = 0.1
    """local search: each entry of the incumbent is redrawn with this probability (at least
    one entry is)"""
    restart_after: int = 0
    """local search: after this many leader steps without a strict rise of the incumbent's
    exact value, start the search over from fresh random policies; the best policy found so
    far stays the answer (0: never restart)"""

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
    defaults = Args(**setting.defaults_for("random_search"))
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
    for name in ("num_envs", "total_timesteps", "eval_episodes"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    for name in ("box_overshoot", "target_tol", "mixed_margin"):
        value = getattr(args, name)
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"--{name.replace('_', '-')} must be finite and >= 0, got {value}")
    for name in ("local_search", "redraw_rate"):
        value = getattr(args, name)
        if not 0 <= value <= 1:
            raise ValueError(f"--{name.replace('_', '-')} must be in [0, 1], got {value}")
    if args.restart_after < 0:
        raise ValueError(f"--restart-after must be >= 0 (0: never), got {args.restart_after}")
    if args.restart_after > 0 and args.local_search == 0:
        raise ValueError(
            "--restart-after applies to local search (--local-search > 0), got --restart-after "
            f"{args.restart_after} with --local-search 0"
        )
    if args.follower not in follower_models():
        raise ValueError(
            f"--follower must be one of {list(follower_models())}, got {args.follower!r}"
        )
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

    Under `certified` the env takes no follower model: `--follower` must keep its `defaults`
    (the setting's).
    """
    if args.protocol not in ("paper", "certified"):
        raise ValueError(f"--protocol must be paper or certified, got {args.protocol!r}")
    if args.protocol == "certified" and args.follower != defaults.follower:
        raise ValueError(
            "--follower applies to --protocol paper (certified brings its own MW followers, "
            f"eps 0.1 in expectation form), got --follower {args.follower}"
        )


def runs_batched(followers: str | None) -> bool:
    """Whether the follower model has a batched form (then `auto` takes the batched POMDP).

    `None` is the certified protocol's own model (MW in expectation form), which has one.
    """
    return followers is None or response_algorithm(followers).runs_batched


def env_kwargs_of(args: Args, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The env's keyword arguments: `--env-kwargs`, the followers and the protocol."""
    if args.protocol == "paper":
        return dict(env_kwargs, followers=args.follower)
    return dict(env_kwargs, followers=None, protocol=args.protocol)


def make_envs(args: Args, env_kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """The envs: the batched POMDP when it runs the follower model, else a SAME_STEP sync vector."""
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


def next_table(
    incumbent: dict[bytes, tuple[Any, Any]], args: Args, rng: np.random.Generator
) -> dict[bytes, tuple[Any, Any]]:
    """The table an episode starts from: empty (a fresh random policy), or with probability
    `--local-search` the best policy's table (`incumbent`) less some entries (each with
    probability `--redraw-rate`, at least one), drawn anew when the episode asks for them."""
    if args.local_search == 0 or not incumbent or rng.random() >= args.local_search:
        return {}
    keys = list(incumbent)
    redraw = rng.random(len(keys)) < args.redraw_rate
    if not redraw.any():
        redraw[rng.integers(len(keys))] = True
    return {key: incumbent[key] for key, drop in zip(keys, redraw, strict=True) if not drop}


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
        certification_rate: Certified protocol: the fraction of episodes whose response was
            certified (nan under `paper`). Then `leader_value` is the exact value against each
            episode's certified response `q(a | θ)` (the episode's exact return) and
            `deviation_gain` its largest interim gap.
        certification_gap: Certified protocol: the mean gap of the chosen responses.
        extra_updates: Certified protocol: the mean number of extension updates.
    """

    leader_value: float
    episode_return: float
    deviation_gain: float
    bcce_gap: float
    bcce_bound: float
    strategies: tuple[np.ndarray, ...]
    policy: TablePolicy = field(repr=False)
    certification_rate: float = math.nan
    certification_gap: float = math.nan
    extra_updates: float = math.nan

    @property
    def certified(self) -> bool:
        """Whether every episode's response was certified (always `True` under `paper`)."""
        return math.isnan(self.certification_rate) or self.certification_rate == 1.0


def evaluate(policy: TablePolicy, env: gym.Env, episodes: int, seed: int) -> Evaluation:
    """Play `episodes` POMDP episodes with a committed policy and evaluate it exactly."""
    game = env.unwrapped.game
    induced = induced_bayesian_game(game, policy)
    values, returns, gains, gaps, bounds, certifications = [], [], [], [], [], []
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
        **certification_summary(certifications),
    )


def reaches_target(evaluation: Evaluation, target: float, tol: float, protocol: str) -> bool:
    """Whether an evaluation reaches the target: leader value within `tol` of it, and the
    followers in equilibrium: no type gains more than `tol` by deviating (`paper`), or every
    evaluation episode's response certified (`certified`; uncertified ones never count)."""
    if evaluation.leader_value < target - tol:
        return False
    if protocol == "certified":
        return evaluation.certified and not math.isnan(evaluation.certification_rate)
    return evaluation.deviation_gain <= tol


def improves(episode_return: float, best_return: float, best: Any, local_search: float) -> bool:
    """Whether an episode's policy is a candidate for the best: its return beats the best
    return (pure random search), or (local search) is at least the best's exact value, so the
    candidate's own exact evaluation decides (`keeps`) rather than one lucky episode."""
    if local_search == 0:
        return episode_return > best_return
    return best is None or episode_return >= best.leader_value


def keeps(candidate: Evaluation, best: Evaluation | None, local_search: float) -> bool:
    """Whether an evaluated candidate replaces the best: always in pure random search (its
    return was better); under local search when its exact value is at least the best's (ties
    go to the newer, so the search can drift along a plateau)."""
    return local_search == 0 or best is None or candidate.leader_value >= best.leader_value


def rises(candidate: Evaluation, incumbent: Evaluation | None) -> bool:
    """Whether an accepted candidate strictly raises the incumbent's exact value (the first
    incumbent of a search does): what resets the `--restart-after` clock."""
    return incumbent is None or candidate.leader_value > incumbent.leader_value


def stays_best(candidate: Evaluation, best: Evaluation | None, local_search: float) -> bool:
    """Whether the search's new incumbent is also the run's best (its answer): always in pure
    random search and when no restart has happened (the incumbent is then the best); after a
    restart, when its exact value is at least the best's, ties going to the newer."""
    return local_search == 0 or best is None or candidate.leader_value >= best.leader_value


def restarts_now(step: int, last_rise: int, incumbent: Evaluation | None, after: int) -> bool:
    """Whether the local search starts over at leader step `step`: `--restart-after` (`after`)
    is on, there is an incumbent, and its exact value has not risen for `after` steps."""
    return after > 0 and incumbent is not None and step - last_rise >= after


def log_best(
    writer: SummaryWriter, best: Evaluation, best_return: float, optimum: float, step: int
) -> None:
    """A new best policy's scalars: its return and its exact evaluation."""
    writer.add_scalar("charts/best_return", best_return, step)
    writer.add_scalar("equilibrium/leader_value", best.leader_value, step)
    writer.add_scalar("equilibrium/optimal_value", optimum, step)
    writer.add_scalar("equilibrium/optimality_gap", optimum - best.leader_value, step)
    writer.add_scalar("equilibrium/bcce_gap", best.bcce_gap, step)
    writer.add_scalar("equilibrium/bcce_gap_bound", best.bcce_bound, step)
    writer.add_scalar("equilibrium/follower_deviation_gain", best.deviation_gain, step)
    if not math.isnan(best.certification_rate):
        log_certification(writer, best, step)


def log_certification(writer: SummaryWriter, evaluation: Evaluation, step: int) -> None:
    """The certified protocol's scalars of an evaluation."""
    writer.add_scalar("equilibrium/certification_rate", evaluation.certification_rate, step)
    writer.add_scalar("equilibrium/certification_gap", evaluation.certification_gap, step)
    writer.add_scalar("equilibrium/extra_updates", evaluation.extra_updates, step)


def certification_lines(evaluation: Evaluation) -> list[str]:
    """The summary's certification line (certified protocol; none under `paper`)."""
    if math.isnan(evaluation.certification_rate):
        return []
    return [
        f"certified responses {evaluation.certification_rate:.0%} of the evaluation episodes, "
        f"mean gap {evaluation.certification_gap:.4f}, mean extra updates "
        f"{evaluation.extra_updates:.1f}"
    ]


def describe_followers(strategies: tuple[np.ndarray, ...]) -> list[str]:
    lines = []
    for i, strategy in enumerate(strategies):
        rows = [
            f"type {t}: {int(np.argmax(row)) if row.max() == 1.0 else format_array(row)}"
            for t, row in enumerate(strategy)
        ]
        lines.append(f"follower {i}: " + ", ".join(rows))
    return lines


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


def mechanism_entries(policy: TablePolicy) -> list[tuple[Any, Any]]:
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
    run_name = f"{args.env_id}__{args.exp_name}__{args.seed}__{int(time.time())}"

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    rng = np.random.default_rng(args.seed)

    # env setup
    try:
        envs = make_envs(args, env_kwargs)
        eval_env = gym.make(args.env_id, **env_kwargs_of(args, env_kwargs))
    except (TypeError, ValueError) as error:
        protocol = f" (--protocol {args.protocol})" if args.protocol != "paper" else ""
        fail(f"--env-kwargs {args.env_kwargs} for {args.env_id}{protocol}: {error}")
    game = eval_env.unwrapped.game
    action_space = envs.single_action_space
    optimum = float(game.reference().optimum) + 0.0  # no "-0.000000" for a zero optimum
    target = game.learning_target(args.mixed_margin)
    sample = RandomActions(action_space, args.box_overshoot, rng)
    discrete = isinstance(action_space, gym.spaces.Discrete)

    # TRY NOT TO MODIFY: logging (after a successful start, so a failed one leaves no run)
    writer = start_logging(args, run_name, vars(args) | {"setting": setting.name})
    print(
        f"values: {game.value_meaning}; progress bar: best = exact leader value of the best "
        f"policy so far, target = {target.value:.4f} (what a learner can reach)",
        flush=True,
    )

    N = args.num_envs
    tables: list[dict[bytes, tuple[Any, Any]]] = [{} for _ in range(N)]
    running_return = np.zeros(N)
    best_return, best, reached_at, episodes = -np.inf, None, None, 0
    # the local search's centre; without restarts it is always `best`. `epoch` counts the
    # restarts: an episode started before the last one is not a candidate
    incumbent, last_rise, epoch = None, 0, 0
    epochs = np.zeros(N, dtype=int)
    global_step, start_time = 0, time.time()
    obs, infos = envs.reset(seed=args.seed)
    stop = StopSignal()
    progress = tqdm(total=args.total_timesteps, disable=not args.progress_bar)

    while global_step < args.total_timesteps and stop.signum is None:
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
            current = epochs[i] == epoch
            if current and improves(
                float(running_return[i]), best_return, incumbent, args.local_search
            ):
                candidate = evaluate(
                    TablePolicy(tables[i], sample), eval_env, args.eval_episodes, args.seed + 10_000
                )
                if keeps(candidate, incumbent, args.local_search):
                    if rises(candidate, incumbent):
                        last_rise = global_step
                    incumbent = candidate
                    reached = reached_at is None and reaches_target(
                        candidate, target.value, args.target_tol, args.protocol
                    )
                    if reached or stays_best(candidate, best, args.local_search):
                        best_return, best = float(running_return[i]), candidate
                        log_best(writer, best, best_return, optimum, global_step)
                        progress.set_postfix(
                            best=f"{best.leader_value:.4f}", target=f"{target.value:.4f}"
                        )
                    if reached:
                        reached_at = (global_step, time.time() - start_time)
                        writer.add_scalar("charts/time_to_target", reached_at[1], global_step)
            running_return[i] = 0.0
            tables[i] = next_table({} if incumbent is None else incumbent.policy.table, args, rng)
            epochs[i] = epoch
        if restarts_now(global_step, last_rise, incumbent, args.restart_after):
            incumbent, last_rise, epoch = None, global_step, epoch + 1
            writer.add_scalar("charts/restarts", epoch, global_step)
        writer.add_scalar("charts/SPS", int(global_step / (time.time() - start_time)), global_step)
        if reached_at is not None and args.stop_at_optimum:
            break
    progress.close()
    elapsed = time.time() - start_time
    stopped = f"STOPPED by {signal.Signals(stop.signum).name}: " if stop.signum else ""
    if best is None and stop.signum is not None:
        print(f"{stopped}no finished episode yet; nothing saved (run {run_name})", file=sys.stderr)
        sys.exit(128 + stop.signum)
    if best is None:
        print(f"no episode finished within --total-timesteps {args.total_timesteps}; raise it "
              f"(run {run_name})", file=sys.stderr)  # fmt: skip
        sys.exit(1)

    lines = [
        f"{stopped}run {run_name}: {global_step} leader steps, {episodes} random policies in "
        f"{elapsed:.1f} s ("
        + (
            f"followers {args.follower})"
            if args.protocol == "paper"
            else "protocol certified: followers mw eps=0.1, expectation form)"
        ),
        f"best committed policy (episode return {best_return:.4f}):",
        *("  " + line for line in game.describe_mechanism(mechanism_entries(best.policy))),
        "followers' learned reward-phase play (last evaluation episode):",
        *("  " + line for line in describe_followers(best.strategies)),
        f"leader value {best.leader_value:.6f}  exact optimum {optimum:.6f}  "
        f"gap {optimum - best.leader_value:.6f}",
        f"values are {game.value_meaning}",
        f"target {target.value:.6f}: {target.meaning}",
        f"follower deviation gain in the induced game {best.deviation_gain:.2e}; BCCE gap of "
        f"the response-phase play {best.bcce_gap:.4f} (regret bound {best.bcce_bound:.4f})",
        *certification_lines(best),
        *(
            [f"local search restarted {epoch} times (--restart-after {args.restart_after})"]
            if args.restart_after
            else []
        ),
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
            {"observation": game.observation_fields(obs), "action": np.asarray(action).tolist()}
            for obs, action in mechanism_entries(best.policy)
        ]
        record = {
            "env_id": args.env_id, "env_kwargs": env_kwargs, "follower": args.follower,
            "value_meaning": game.value_meaning, "leader_value": best.leader_value,
            "optimum": optimum, "target": target.value, "mechanism": mechanism,
        }  # fmt: skip
        if args.protocol != "paper":
            names = ("certification_rate", "certification_gap", "extra_updates")
            record |= {"protocol": args.protocol} | {n: getattr(best, n) for n in names}
        with open(f"runs/{run_name}/mechanism.json", "w") as fh:
            json.dump(record, fh, indent=1)
        with open(f"runs/{run_name}/summary.txt", "w") as fh:
            fh.write(summary + "\n")
        print(f"best policy saved to runs/{run_name}/ (evaluate it: python baselines/evaluate.py "
              f"runs/{run_name})")  # fmt: skip
    envs.close()
    writer.close()
    if stop.signum is not None:
        sys.exit(128 + stop.signum)
