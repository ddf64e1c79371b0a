"""Adding a setting is one game class plus one registry entry: a toy one, trained by mappo.py.

The toy setting lives in this file: a game class and its :class:`Setting` entry. Run as a
script, the file registers the setting and hands its arguments to ``baselines/mappo.py``
(``python tests/test_toy_setting.py --env-id StackelbergZoo/ToyMatchPOMDP-v0 ...``); the
test below does that in a subprocess, so the registry of the test process stays untouched.
"""

from __future__ import annotations

import itertools
import json
import runpy
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import pytest

from stackelberg_zoo.envs import registry
from stackelberg_zoo.envs.core import EconomicGame, Outcome, Reference, induced_bayesian_game
from stackelberg_zoo.envs.registry import Setting

ROOT = Path(__file__).resolve().parents[1]


class MatchState(NamedTuple):
    type: int
    signal: int
    item: int | None = None


class ToyMatch(EconomicGame):
    """One follower of two equally likely types sends a signal; the leader picks an item.

    Both get 1 when the item matches the type. The leader's best committed map (signal ->
    item) with a best-responding follower reaches 1.
    """

    def __init__(self, n_types: int = 2):
        if isinstance(n_types, bool) or not isinstance(n_types, int) or n_types < 2:
            raise ValueError(f"n_types must be an int >= 2, got {n_types!r}")
        self.n_types = (n_types,)
        self.n_follower_actions = (n_types,)
        self.prior = np.full(n_types, 1.0 / n_types)
        self.leader_observation_space = gymnasium.spaces.Discrete(n_types)
        self.leader_action_space = gymnasium.spaces.Discrete(n_types)

    def start(self, types, follower_actions) -> MatchState:
        return MatchState(int(types[0]), int(follower_actions[0]))

    def leader_observation(self, state: MatchState) -> int:
        return state.signal

    def leader_step(self, state: MatchState, action) -> MatchState:
        if not self.leader_action_space.contains(int(action)):
            raise ValueError(f"action must be an item in [0, {self.n_types[0]}), got {action!r}")
        return state._replace(item=int(action))

    def is_over(self, state: MatchState) -> bool:
        return state.item is not None

    def outcome(self, state: MatchState) -> Outcome:
        match = float(state.item == state.type)
        return Outcome(match, np.array([match]))

    def reference(self) -> Reference:
        """Every map signal -> item against a best-responding follower (ties to the leader)."""
        n, best, best_map = self.n_types[0], -np.inf, None
        for items in itertools.product(range(n), repeat=n):
            induced = induced_bayesian_game(self, lambda signal, items=items: items[signal])
            follower = induced.followers.payoffs[0]  # [types, signals]
            value = 0.0
            for t in range(n):
                best_signals = np.flatnonzero(follower[t] == follower[t].max())
                value += self.prior[t] * max(induced.leader_payoffs[t, s] for s in best_signals)
            if value > best:
                best, best_map = value, items
        return Reference(best, best_map, "the follower best-responds; ties to the leader")

    @property
    def value_meaning(self) -> str:
        return "the probability that the item matches the type"

    def observation_fields(self, observation: Any) -> dict[str, Any]:
        return {"signal": int(observation)}

    def describe_mechanism(self, mechanism: Sequence[tuple[Any, Any]]) -> list[str]:
        return [f"signal {int(obs)} -> item {int(item)}" for obs, item in mechanism]


TOY = Setting(
    name="toy_match",
    game_type=ToyMatch,
    factory=ToyMatch,
    n_response=20,
    n_reward=5,
    pettingzoo_id="stackelberg/toy-match-pomdp-v0",
    gymnasium_id="StackelbergZoo/ToyMatchPOMDP-v0",
    trainer_defaults={"mappo": {"num_envs": 2, "num_steps": 50, "total_timesteps": 1000}},
)
"""The toy setting's one registry entry (no multi-agent env, no batched game)."""


def test_toy_game_reference_is_one():
    assert ToyMatch().reference().optimum == pytest.approx(1.0)


def test_mappo_trains_a_setting_registered_from_outside(tmp_path):
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--env-id", TOY.gymnasium_id]
        + ["--no-progress-bar", "--no-stop-at-optimum", "--eval-every", "5"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # 1000 steps of 2 envs x 50: ten iterations, the toy's own defaults.
    assert "1000 leader steps" in out and "(toy_match, followers mw" in out, out
    assert "signal 0 -> item" in out and "signal 1 -> item" in out
    assert "exact optimum 1.000000" in out
    assert "values are the probability that the item matches the type" in out
    (run,) = (tmp_path / "runs" / "StackelbergZoo").glob("ToyMatchPOMDP-v0__*")
    record = json.loads((run / "mechanism.json").read_text())
    assert [e["observation"] for e in record["mechanism"]] == [{"signal": 0}, {"signal": 1}]
    assert record["env_id"] == TOY.gymnasium_id and record["optimum"] == 1.0


def test_register_setting_refuses_clashes_and_bad_entries():
    builtin = registry.get_setting("normal_form")
    with pytest.raises(ValueError, match="already registered as 'normal_form'"):
        registry.register_setting(Setting(**{**vars(builtin), "n_reward": 7}))
    clash = Setting(**{**vars(TOY), "gymnasium_id": builtin.gymnasium_id})
    with pytest.raises(ValueError, match="already belong to setting 'normal_form'"):
        registry.register_setting(clash)
    with pytest.raises(TypeError, match="must be a Setting"):
        registry.register_setting("toy")
    with pytest.raises(ValueError, match="n_response must be an int >= 1, got 0"):
        Setting(**{**vars(TOY), "n_response": 0})
    with pytest.raises(ValueError, match="env_id and env_module go together"):
        Setting(**{**vars(TOY), "env_id": "stackelberg/toy-v0"})
    registry.register_setting(builtin)  # the same entry again: nothing happens
    assert TOY.name not in {s.name for s in registry.settings()}


def test_every_builtin_setting_is_found_by_each_of_its_ids():
    for setting in registry.BUILTIN_SETTINGS:
        for env_id in setting.ids:
            assert registry.setting_for_id(env_id) is setting
        game = setting.make_game()
        assert registry.setting_of(game) is setting
        assert isinstance(registry.load(setting.game_type), type)
        assert setting.defaults_for("mappo")["env_kwargs"] == json.dumps(dict(setting.default_game))
    with pytest.raises(ValueError, match="got 'nope'"):
        registry.setting_for_id("nope")


@pytest.mark.parametrize("setting", registry.BUILTIN_SETTINGS, ids=lambda s: s.name)
def test_observation_fields_name_every_reachable_observation_apart(setting):
    """`evaluate.py` finds a saved action by these names: they must tell observations apart."""
    game = setting.make_game()
    space = game.leader_action_space
    space.seed(0)
    seen: dict[bytes, str] = {}

    def policy(obs):
        seen[np.ascontiguousarray(np.asarray(obs)).tobytes()] = json.dumps(
            game.observation_fields(obs), sort_keys=True
        )
        return space.sample()

    induced_bayesian_game(game, policy)
    assert len(seen) >= 1 and len(set(seen.values())) == len(seen)
    assert isinstance(game.value_meaning, str) and game.value_meaning
    assert game.learning_target(0.005).value == pytest.approx(game.reference().optimum)


if __name__ == "__main__":
    registry.register_setting(TOY)
    sys.argv = [str(ROOT / "baselines" / "mappo.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
