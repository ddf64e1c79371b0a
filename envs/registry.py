"""The registry of settings: what the drivers and the trainers know about each setting.

A *setting* is one folder under ``envs/`` (its game logic, its multi-agent env module and,
optionally, a batched game for the vector env) plus one :class:`Setting` entry. The entry
carries the ids, the game factory, the paper's POMDP phase lengths, the batched game, the
game the trainers train by default and the trainers' per-setting hyperparameters. What a
trainer prints or saves about a learned mechanism comes from the game itself, through the
hooks of :class:`~stackelberg_zoo.envs.core.EconomicGame` (``describe_mechanism``,
``observation_fields``, ``value_meaning``, ``learning_target``). No code outside a setting's
folder names its classes.

The built-in settings are :data:`BUILTIN_SETTINGS`, registered when ``stackelberg_zoo.envs``
is imported. Another setting (in a user's package, or a test) is added with
:func:`register_setting`, which registers its ids with PettingZoo and Gymnasium too::

    from stackelberg_zoo.envs.registry import Setting, register_setting

    register_setting(Setting(
        name="toy",
        game_type=ToyGame,            # or "my_package.toy:ToyGame"
        factory=ToyGame,              # factory() builds the default game
        n_response=50, n_reward=5,
        pettingzoo_id="stackelberg/toy-pomdp-v0",
        gymnasium_id="StackelbergZoo/ToyPOMDP-v0",
    ))

Why one frozen record per setting, in one table: Gymnasium and PettingZoo register every id
in one file with an explicit entry point; the same table here is the single place a
contributor edits, and strings (``"module:attribute"``) keep importing the package cheap, as
no setting's game module is imported until one of its envs is made.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import gymnasium
import pettingzoo

POMDP_AEC_ENTRY_POINT = "stackelberg_zoo.envs.pomdp.aec:env"
"""The PettingZoo entry point of every setting's Stackelberg POMDP."""

POMDP_GYM_ENTRY_POINT = "stackelberg_zoo.envs.pomdp.gym:StackelbergPOMDPEnv"
"""The Gymnasium entry point of every setting's Stackelberg POMDP."""

POMDP_VECTOR_ENTRY_POINT = "stackelberg_zoo.envs.pomdp.vector:StackelbergPOMDPVectorEnv"
"""The Gymnasium vector entry point (settings with a batched game only)."""


def load(path: str | Any) -> Any:
    """The object behind ``"module:attribute"``; any other value is returned as it is."""
    if not isinstance(path, str):
        return path
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Setting:
    """One setting: its ids, its game and what its trainers need.

    Attributes:
        name: The setting, as accepted by the POMDP's ``setting=`` (``"normal_form"``, ...).
        game_type: The game class (an :class:`~stackelberg_zoo.envs.core.EconomicGame`), or
            its ``"module:Class"``.
        factory: A callable (or its ``"module:callable"``) building the game from keyword
            arguments; called with none, it builds the setting's default game.
        n_response: Response sub-games per POMDP episode (the paper's default).
        n_reward: Reward sub-games per POMDP episode (the paper's default).
        pettingzoo_id: PettingZoo id of the Stackelberg POMDP.
        gymnasium_id: Gymnasium id of the Stackelberg POMDP.
        env_id: PettingZoo id of the multi-agent game, or ``None`` if it has none.
        env_module: Import path of the multi-agent env module (defines ``env``, and
            ``parallel_env`` when ``parallel``); required with ``env_id``.
        parallel: Whether a genuinely simultaneous ``parallel_env`` is registered too.
        batched_game: The batched game class (or its ``"module:Class"``) behind the POMDP's
            vector env, ``None`` if the setting has none (Gymnasium's sync vector then).
        followers: The follower model the POMDP ids use unless ``followers=`` is given
            (a registered name); ``None``: the drivers' default, ``"mw"``.
        default_game: The game arguments the trainers use when ``--env-kwargs`` is not given
            (the benchmark's instance of the setting).
        trainer_defaults: Per trainer (its file name without ``.py``), the hyperparameters
            that differ from the trainer's own defaults for this setting.
    """

    name: str
    game_type: str | type
    factory: str | Callable[..., Any]
    n_response: int
    n_reward: int
    pettingzoo_id: str
    gymnasium_id: str
    env_id: str | None = None
    env_module: str | None = None
    parallel: bool = False
    batched_game: str | type | None = None
    followers: str | None = None
    default_game: Mapping[str, Any] = field(default_factory=dict, hash=False)
    trainer_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be an identifier string, got {self.name!r}")
        for attribute in ("n_response", "n_reward"):
            value = getattr(self, attribute)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{attribute} must be an int >= 1, got {value!r}")
        if (self.env_id is None) != (self.env_module is None):
            raise ValueError(
                f"env_id and env_module go together, got {self.env_id!r} and {self.env_module!r}"
            )
        if self.followers is not None and not isinstance(self.followers, str):
            raise TypeError(f"followers must be a follower model's name, got {self.followers!r}")
        if self.parallel and self.env_id is None:
            raise ValueError(f"parallel=True needs an env_id, setting {self.name!r} has none")
        object.__setattr__(self, "default_game", MappingProxyType(dict(self.default_game)))
        object.__setattr__(
            self,
            "trainer_defaults",
            MappingProxyType(
                {trainer: MappingProxyType(dict(d)) for trainer, d in self.trainer_defaults.items()}
            ),
        )

    def make_game(self, **game_kwargs: Any) -> Any:
        """Build the setting's game (its default game without arguments)."""
        return load(self.factory)(**game_kwargs)

    def defaults_for(self, trainer: str) -> dict[str, Any]:
        """The trainer's per-setting defaults, plus ``env_kwargs`` (the default game as JSON)."""
        return {"env_kwargs": json.dumps(dict(self.default_game))} | dict(
            self.trainer_defaults.get(trainer, {})
        )

    @property
    def ids(self) -> tuple[str, ...]:
        """Every registry id of the setting."""
        return tuple(i for i in (self.env_id, self.pettingzoo_id, self.gymnasium_id) if i)


_ENVS = "stackelberg_zoo.envs"

BUILTIN_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "normal_form",
        game_type=f"{_ENVS}.normal_form.game:NormalFormStackelberg",
        factory=f"{_ENVS}.normal_form.env:make_game",
        n_response=100,
        n_reward=1,
        pettingzoo_id="stackelberg/normal-form-pomdp-v0",
        gymnasium_id="StackelbergZoo/NormalFormPOMDP-v0",
        env_id="stackelberg/normal-form-v0",
        env_module=f"{_ENVS}.normal_form.env",
        parallel=True,
        batched_game=f"{_ENVS}.normal_form.batched:BatchedNormalForm",
        default_game={"game": "escape"},
        trainer_defaults={
            "mappo": dict(
                total_timesteps=200_000, learning_rate=0.01, num_envs=8, num_steps=101,
                gae_lambda=0.95, update_epochs=4, ent_coef=0.0, eval_every=1,
            ),
        },
    ),
    Setting(
        "matrix_design",
        game_type=f"{_ENVS}.matrix_design.game:MatrixDesign",
        factory=f"{_ENVS}.matrix_design.game:MatrixDesign",
        n_response=30,  # the archived runs; the reference code's default is 100
        n_reward=1,
        pettingzoo_id="stackelberg/matrix-design-pomdp-v0",
        gymnasium_id="StackelbergZoo/MatrixDesignPOMDP-v0",
        env_id="stackelberg/matrix-design-v0",
        env_module=f"{_ENVS}.matrix_design.env",
        batched_game=f"{_ENVS}.matrix_design.batched:BatchedMatrixDesign",
        trainer_defaults={
            "mappo": dict(
                total_timesteps=300_000, learning_rate=0.01, num_envs=8, num_steps=124,
                gae_lambda=0.95, update_epochs=4, ent_coef=0.0, eval_every=1,
            ),
        },
    ),
    Setting(
        "simple_allocation",
        game_type=f"{_ENVS}.simple_allocation.game:SimpleAllocation",
        factory=f"{_ENVS}.simple_allocation.game:SimpleAllocation",
        n_response=100,
        n_reward=30,
        pettingzoo_id="stackelberg/simple-allocation-pomdp-v0",
        gymnasium_id="StackelbergZoo/SimpleAllocationPOMDP-v0",
        env_id="stackelberg/simple-allocation-v0",
        env_module=f"{_ENVS}.simple_allocation.env",
        batched_game=f"{_ENVS}.simple_allocation.batched:BatchedSimpleAllocation",
        trainer_defaults={
            "mappo": dict(
                total_timesteps=500_000, learning_rate=0.01, num_envs=8, num_steps=130,
                gae_lambda=0.95, update_epochs=4, ent_coef=0.0, eval_every=1,
            ),
        },
    ),
    Setting(
        "mspm",
        game_type=f"{_ENVS}.mspm.game:SequentialPriceMechanism",
        factory=f"{_ENVS}.mspm.game:SequentialPriceMechanism",
        n_response=1000,
        n_reward=100,
        pettingzoo_id="stackelberg/mspm-pomdp-v0",
        gymnasium_id="StackelbergZoo/MspmPOMDP-v0",
        env_id="stackelberg/mspm-v0",
        env_module=f"{_ENVS}.mspm.env",
        batched_game=f"{_ENVS}.mspm.batched:BatchedSequentialPriceMechanism",
        trainer_defaults={
            "mappo": dict(
                total_timesteps=5_000_000, learning_rate=0.005, num_envs=32, num_steps=512,
                gae_lambda=1.0, update_epochs=4, ent_coef=0.003, eval_every=5,
                # without it MSGSpace t=6 diverges at ~4.2M steps (docs/baselines, mappo)
                target_kl=0.05,
            ),
        },
    ),
    Setting(
        "collusion_platform",
        game_type=f"{_ENVS}.collusion_platform.game:CollusionPlatform",
        factory=f"{_ENVS}.collusion_platform.game:CollusionPlatform",
        n_response=50_000,  # Q-learning periods per episode (no convergence stop)
        n_reward=30,  # greedy periods; the value is their first cycle's mean surplus
        pettingzoo_id="stackelberg/collusion-platform-pomdp-v0",
        gymnasium_id="StackelbergZoo/CollusionPlatformPOMDP-v0",
        env_id="stackelberg/collusion-platform-v0",
        env_module=f"{_ENVS}.collusion_platform.env",
        batched_game=f"{_ENVS}.collusion_platform.batched:BatchedCollusionPlatform",
        followers="q_learning",
        trainer_defaults={
            "mappo": dict(follower="q_learning"),
            "random_search": dict(follower="q_learning"),
        },
    ),
)  # fmt: skip
"""The settings of the suite, in one place (one entry per setting folder)."""

_SETTINGS: dict[str, Setting] = {}


def register_setting(setting: Setting) -> Setting:
    """Add ``setting`` to the registry and register its ids with PettingZoo and Gymnasium.

    Registering the same entry again does nothing.

    Raises:
        TypeError: If ``setting`` is not a :class:`Setting`.
        ValueError: If another setting already has its name or one of its ids.
    """
    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a Setting, got {type(setting).__name__}: {setting!r}")
    known = _SETTINGS.get(setting.name)
    if known is not None and known != setting:
        raise ValueError(f"a different setting is already registered as {setting.name!r}")
    for other in _SETTINGS.values():
        clash = set(other.ids) & set(setting.ids)
        if other.name != setting.name and clash:
            raise ValueError(f"ids {sorted(clash)} already belong to setting {other.name!r}")
    _SETTINGS[setting.name] = setting
    _register_ids(setting)
    return setting


def _register_ids(setting: Setting) -> None:
    if setting.env_id is not None:
        if setting.env_id not in pettingzoo.aec_registry:
            pettingzoo.register("aec", setting.env_id, entry_point=f"{setting.env_module}:env")
        if setting.parallel and setting.env_id not in pettingzoo.parallel_registry:
            pettingzoo.register(
                "parallel", setting.env_id, entry_point=f"{setting.env_module}:parallel_env"
            )
    kwargs = {"setting": setting.name}
    if setting.followers is not None:
        kwargs["followers"] = setting.followers
    if setting.pettingzoo_id not in pettingzoo.aec_registry:
        pettingzoo.register(
            "aec", setting.pettingzoo_id, entry_point=POMDP_AEC_ENTRY_POINT, kwargs=dict(kwargs)
        )
    if setting.gymnasium_id not in gymnasium.registry:
        gymnasium.register(
            id=setting.gymnasium_id,
            entry_point=POMDP_GYM_ENTRY_POINT,
            vector_entry_point=None if setting.batched_game is None else POMDP_VECTOR_ENTRY_POINT,
            kwargs=dict(kwargs),
        )


def settings() -> tuple[Setting, ...]:
    """Every registered setting, the built-in ones first."""
    return tuple(_SETTINGS.values())


def get_setting(name: str) -> Setting:
    """The registered setting called ``name``.

    Raises:
        ValueError: On an unknown name.
    """
    if not isinstance(name, str) or name not in _SETTINGS:
        raise ValueError(f"setting must be one of {sorted(_SETTINGS)}, got {name!r}")
    return _SETTINGS[name]


def setting_for_id(env_id: str) -> Setting:
    """The setting one of whose ids (multi-agent, POMDP PettingZoo or Gymnasium) is ``env_id``.

    Raises:
        ValueError: If no registered setting has that id.
    """
    for setting in _SETTINGS.values():
        if env_id in setting.ids:
            return setting
    known = sorted(i for s in _SETTINGS.values() for i in s.ids)
    raise ValueError(f"env id must be one of {known}, got {env_id!r}")


def setting_of(game: Any) -> Setting | None:
    """The setting whose game class ``game`` is an instance of (``None`` if none is)."""
    for setting in _SETTINGS.values():
        try:
            game_type = load(setting.game_type)
        except (ImportError, AttributeError):  # a setting whose module is not installed here
            continue
        if isinstance(game, game_type):
            return setting
    return None


for _setting in BUILTIN_SETTINGS:
    register_setting(_setting)
