"""Leader steps per second of every setting's Stackelberg POMDP: single env and batched.

Single: ``gymnasium.make(id)`` (the Gym view a user gets, with Gymnasium's default wrappers),
stepped with random leader actions, reset at the end of each episode. Batched:
``gymnasium.make_vec(id, num_envs=B)`` (the ``vector_entry_point``, B = 1024 by default),
stepped with random ``[B, ...]`` actions; one batched step counts ``B`` leader steps. Actions
are drawn up front from a seeded generator so that sampling is not timed. Each figure is the
median of ``--repeats`` runs of ``--seconds`` each, followers MW with the setting's default
phase lengths.

Targets (the issue): the authors' wrapped environment does 8k-30k steps/s on this machine
type (normal form 30k, MSPM PI 10.5k); matrix design and simple allocation have one leader
turn per sub-game like the normal form, so their reference is taken as the top of the range,
30k. Single env: >= 3x the reference; batched: >= 100x.

    python benchmark/pomdp_speed.py                    # every setting, 3 runs of 2 s
    python benchmark/pomdp_speed.py --settings mspm --seconds 1 --num-envs 256
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium
import numpy as np

import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
from stackelberg_zoo.envs.pomdp.registration import pomdp_setting

AUTHORS_STEPS_PER_SECOND = {
    "normal_form": 30_000,
    "matrix_design": 30_000,  # not measured by the authors: the top of their 8k-30k range
    "simple_allocation": 30_000,  # idem
    "mspm": 10_500,  # the PI instance
}
"""The reference figure per setting (steps/s of the authors' wrapped environment)."""

SINGLE_FACTOR = 3
BATCHED_FACTOR = 100


def random_actions(space: gymnasium.Space, rng: np.random.Generator, shape: tuple[int, ...]):
    """Random elements of a ``Discrete`` or ``Box`` space, with leading ``shape``."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return space.start + rng.integers(space.n, size=shape)
    return rng.uniform(space.low, space.high, size=shape + space.shape).astype(space.dtype)


def single_rate(gym_id: str, seconds: float, seed: int) -> float:
    """Leader steps per second of one ``gymnasium.make`` env, whole episodes, random actions."""
    env = gymnasium.make(gym_id)
    rng = np.random.default_rng(seed)
    pool = list(random_actions(env.action_space, rng, (8192,)))
    env.reset(seed=seed)
    steps, k = 0, 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(256):
            _, _, terminated, _, _ = env.step(pool[k])
            k = (k + 1) % len(pool)
            if terminated:
                env.reset()
        steps += 256
        now = time.perf_counter()
        if now >= deadline:
            return steps / (now - start)


def batched_rate(gym_id: str, num_envs: int, seconds: float, seed: int) -> float:
    """Leader steps per second of ``make_vec(num_envs)``, random actions."""
    env = gymnasium.make_vec(gym_id, num_envs=num_envs)
    rng = np.random.default_rng(seed)
    pool = random_actions(env.single_action_space, rng, (64, num_envs))
    env.reset(seed=seed)
    steps, k = 0, 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(8):
            env.step(pool[k])
            k = (k + 1) % len(pool)
        steps += 8 * num_envs
        now = time.perf_counter()
        if now >= deadline:
            return steps / (now - start)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", nargs="*", default=list(AUTHORS_STEPS_PER_SECOND))
    parser.add_argument("--seconds", type=float, default=2.0, help="per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    header = (
        f"{'setting':18s} {'single/s':>10s} {'x ref':>6s} {'target':>8s}   "
        f"{'batched/s':>11s} {'x ref':>6s} {'target':>10s}"
    )
    print(f"B = {args.num_envs}, median of {args.repeats} x {args.seconds:g} s")
    print(header)
    for name in args.settings:
        gym_id = pomdp_setting(name).gymnasium_id
        reference = AUTHORS_STEPS_PER_SECOND[name]
        single = statistics.median(
            single_rate(gym_id, args.seconds, args.seed) for _ in range(args.repeats)
        )
        batched = statistics.median(
            batched_rate(gym_id, args.num_envs, args.seconds, args.seed)
            for _ in range(args.repeats)
        )
        single_ok = "met" if single >= SINGLE_FACTOR * reference else "MISSED"
        batched_ok = "met" if batched >= BATCHED_FACTOR * reference else "MISSED"
        print(
            f"{name:18s} {single:10,.0f} {single / reference:6.1f} {single_ok:>8s}   "
            f"{batched:11,.0f} {batched / reference:6.1f} {batched_ok:>10s}"
        )
    print(
        f"targets: single >= {SINGLE_FACTOR}x and batched >= {BATCHED_FACTOR}x the reference "
        f"({', '.join(f'{k} {v:,}' for k, v in AUTHORS_STEPS_PER_SECOND.items())})"
    )


if __name__ == "__main__":
    main()
