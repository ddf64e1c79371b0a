"""AEC steps per second of every registered environment, with random legal actions.

Plays whole episodes (sub-games) for a fixed wall-clock budget per id and kwargs, through
``pettingzoo.make`` (so with the ``OrderEnforcingWrapper`` a user gets), and counts every
``step`` call, done steps included, as PettingZoo's ``performance_benchmark`` does. Actions
are drawn up front from a seeded generator so that sampling does not dominate the timing.

    python benchmark/env_speed.py                 # every registered id, 3 s each
    python benchmark/env_speed.py --seconds 1 --ids stackelberg/normal-form-v0
    python benchmark/env_speed.py --raw           # without the OrderEnforcing wrapper
"""

from __future__ import annotations

import argparse
import time

import gymnasium
import numpy as np
import pettingzoo

import stackelberg_zoo.envs as zoo

KWARGS: dict[str, list[dict]] = {
    "stackelberg/normal-form-v0": [{}, {"mixed_leader": True}],
}
"""Variants timed per id (default kwargs for ids not listed)."""


def random_actions(space, rng: np.random.Generator, n: int) -> list:
    """``n`` random actions of ``space`` (masks are applied at play time for Discrete)."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return list(space.start + rng.integers(space.n, size=n))
    if isinstance(space, gymnasium.spaces.Box):
        low = np.where(np.isfinite(space.low), space.low, -1.0)
        high = np.where(np.isfinite(space.high), space.high, 1.0)
        return list(rng.uniform(low, high, size=(n, *space.shape)).astype(space.dtype))
    space.seed(int(rng.integers(2**31)))
    return [space.sample() for _ in range(n)]


def legal(action, observation, rng: np.random.Generator):
    """``action`` if the observation's mask allows it, else a random legal action."""
    mask = observation.get("action_mask") if isinstance(observation, dict) else None
    if mask is None or mask[int(action)]:
        return action
    return int(rng.choice(np.flatnonzero(mask)))


def steps_per_second(
    env_id: str, kwargs: dict, seconds: float, seed: int = 0, raw: bool = False
) -> tuple[float, float]:
    """Play whole episodes for about ``seconds``; return (steps, episodes) per second."""
    env = pettingzoo.make("aec", env_id, **kwargs)
    if raw:
        env = env.unwrapped
    rng = np.random.default_rng(seed)
    pools = {a: random_actions(env.action_space(a), rng, 4096) for a in env.possible_agents}
    cursor = dict.fromkeys(env.possible_agents, 0)
    masked = {
        a: isinstance(env.action_space(a), gymnasium.spaces.Discrete) for a in env.possible_agents
    }
    env.reset(seed=seed)
    steps = episodes = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for agent in env.agent_iter():
            observation, _, terminated, truncated, _ = env.last(observe=masked[agent])
            if terminated or truncated:
                env.step(None)
            else:
                k = cursor[agent] = (cursor[agent] + 1) % 4096
                action = pools[agent][k]
                env.step(legal(action, observation, rng) if masked[agent] else action)
            steps += 1
        episodes += 1
        if time.perf_counter() >= deadline:
            break
        env.reset()
    elapsed = time.perf_counter() - start
    return steps / elapsed, episodes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall-clock budget per row")
    parser.add_argument("--ids", nargs="*", default=list(zoo.ENV_IDS), help="registry ids")
    parser.add_argument("--raw", action="store_true", help="time the unwrapped env")
    args = parser.parse_args()
    print(f"{'env id':36} {'kwargs':24} {'steps/s':>10} {'sub-games/s':>12}")
    for env_id in args.ids:
        for kwargs in KWARGS.get(env_id, [{}]):
            try:
                rate, episodes = steps_per_second(env_id, kwargs, args.seconds, raw=args.raw)
            except pettingzoo.env_registry.exceptions.FailedToImport as error:
                print(f"{env_id:36} {'':24} {'not available':>10}  ({error.__cause__})")
                continue
            print(f"{env_id:36} {kwargs!s:24} {rate:10,.0f} {episodes:12,.0f}")


if __name__ == "__main__":
    main()
