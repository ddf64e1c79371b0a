"""The Stackelberg POMDP of every setting: default phase lengths and registry ids, in one place.

:data:`POMDP_SETTINGS` is the single table of the paper's per-setting defaults (response and
reward sub-games per episode) and of the ids under which :func:`register_pomdp_envs`
registers each setting's POMDP:

* PettingZoo (one agent, ``leader_0``):
  ``pettingzoo.make("aec", "stackelberg/<setting>-pomdp-v0")``;
* Gymnasium: ``gymnasium.make("StackelbergZoo/<Setting>POMDP-v0")``, and the batched
  ``gymnasium.make_vec("StackelbergZoo/<Setting>POMDP-v0", num_envs=B)`` (its
  ``vector_entry_point`` is :class:`.vector.StackelbergPOMDPVectorEnv`).

Both accept the POMDP's keyword arguments (``followers``, ``n_response``, ``n_reward``,
``commitment``, ``diagnostics``, ``render_mode``) plus the setting's own game arguments,
e.g. ``gymnasium.make("StackelbergZoo/NormalFormPOMDP-v0", game="escape", mixed_leader=True)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium
import pettingzoo

from stackelberg_zoo.envs.core import EconomicGame


@dataclass(frozen=True)
class PomdpSetting:
    """One setting's Stackelberg POMDP defaults and ids.

    Attributes:
        name: The setting, as accepted by ``setting=`` (``"normal_form"``, ...).
        game_type: ``"module:Class"`` of the setting's game.
        factory: ``"module:callable"`` building the game from keyword arguments (it owns
            the setting's default game).
        n_response: Response sub-games per episode (the paper's default).
        n_reward: Reward sub-games per episode (the paper's default).
        pettingzoo_id: PettingZoo registry id.
        gymnasium_id: Gymnasium registry id.
    """

    name: str
    game_type: str
    factory: str
    n_response: int
    n_reward: int
    pettingzoo_id: str
    gymnasium_id: str


POMDP_SETTINGS: tuple[PomdpSetting, ...] = (
    PomdpSetting(
        "normal_form",
        "stackelberg_zoo.envs.normal_form.game:NormalFormStackelberg",
        "stackelberg_zoo.envs.normal_form.env:make_game",
        n_response=100,
        n_reward=1,
        pettingzoo_id="stackelberg/normal-form-pomdp-v0",
        gymnasium_id="StackelbergZoo/NormalFormPOMDP-v0",
    ),
    PomdpSetting(
        "matrix_design",
        "stackelberg_zoo.envs.matrix_design.game:MatrixDesign",
        "stackelberg_zoo.envs.matrix_design.game:MatrixDesign",
        n_response=30,  # the archived runs; the reference code's default is 100
        n_reward=1,
        pettingzoo_id="stackelberg/matrix-design-pomdp-v0",
        gymnasium_id="StackelbergZoo/MatrixDesignPOMDP-v0",
    ),
    PomdpSetting(
        "simple_allocation",
        "stackelberg_zoo.envs.simple_allocation.game:SimpleAllocation",
        "stackelberg_zoo.envs.simple_allocation.game:SimpleAllocation",
        n_response=100,
        n_reward=30,
        pettingzoo_id="stackelberg/simple-allocation-pomdp-v0",
        gymnasium_id="StackelbergZoo/SimpleAllocationPOMDP-v0",
    ),
    PomdpSetting(
        "mspm",
        "stackelberg_zoo.envs.mspm.game:SequentialPriceMechanism",
        "stackelberg_zoo.envs.mspm.game:SequentialPriceMechanism",
        n_response=1000,
        n_reward=100,
        pettingzoo_id="stackelberg/mspm-pomdp-v0",
        gymnasium_id="StackelbergZoo/MspmPOMDP-v0",
    ),
)
"""Every setting's Stackelberg POMDP: the paper's phase lengths and the registry ids."""

_BY_NAME = {setting.name: setting for setting in POMDP_SETTINGS}


def _load(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def pomdp_setting(name: str) -> PomdpSetting:
    """The :class:`PomdpSetting` called ``name``.

    Raises:
        ValueError: On an unknown name.
    """
    if not isinstance(name, str) or name not in _BY_NAME:
        raise ValueError(f"setting must be one of {sorted(_BY_NAME)}, got {name!r}")
    return _BY_NAME[name]


def make_setting_game(name: str, **game_kwargs: Any):
    """Build setting ``name``'s game from its own keyword arguments.

    Raises:
        ValueError: On an unknown setting (the game raises on bad arguments).
    """
    factory: Callable[..., Any] = _load(pomdp_setting(name).factory)
    return factory(**game_kwargs)


def resolve_game(setting: str | EconomicGame, game_kwargs: dict[str, Any]) -> EconomicGame:
    """The game behind a driver's ``setting`` argument: a setting name, or a game instance.

    Raises:
        ValueError: If ``setting`` is a game instance and game arguments are given too, or
            the name is unknown.
        TypeError: If ``setting`` is neither a name nor an ``EconomicGame``.
    """
    if isinstance(setting, EconomicGame):
        if game_kwargs:
            raise ValueError(
                f"game arguments {sorted(game_kwargs)} only apply with a setting name, not with "
                f"a game instance {setting!r}"
            )
        return setting
    if isinstance(setting, str):
        return make_setting_game(setting, **game_kwargs)
    raise TypeError(
        f"setting must be a setting name or an EconomicGame, got {type(setting).__name__}: "
        f"{setting!r}"
    )


def setting_of(game) -> PomdpSetting | None:
    """The setting whose game class ``game`` is an instance of (``None`` if none is)."""
    for setting in POMDP_SETTINGS:
        try:
            game_type = _load(setting.game_type)
        except (ImportError, AttributeError):  # a setting not installed here
            continue
        if isinstance(game, game_type):
            return setting
    return None


def register_pomdp_envs() -> None:
    """Register every setting's POMDP with PettingZoo and Gymnasium (idempotent)."""
    for setting in POMDP_SETTINGS:
        kwargs = {"setting": setting.name}
        if setting.pettingzoo_id not in pettingzoo.aec_registry:
            pettingzoo.register(
                "aec",
                setting.pettingzoo_id,
                entry_point="stackelberg_zoo.envs.pomdp.aec:env",
                kwargs=dict(kwargs),
            )
        if setting.gymnasium_id not in gymnasium.registry:
            gymnasium.register(
                id=setting.gymnasium_id,
                entry_point="stackelberg_zoo.envs.pomdp.gym:StackelbergPOMDPEnv",
                vector_entry_point="stackelberg_zoo.envs.pomdp.vector:StackelbergPOMDPVectorEnv",
                kwargs=dict(kwargs),
            )
