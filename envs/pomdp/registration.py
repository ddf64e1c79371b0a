"""The Stackelberg POMDP of every setting: its ids and default phase lengths, from the registry.

Every setting of :mod:`stackelberg_zoo.envs.registry` has its POMDP registered:

* PettingZoo (one agent, ``leader_0``):
  ``pettingzoo.make("aec", "stackelberg/<setting>-pomdp-v0")``;
* Gymnasium: ``gymnasium.make("StackelbergZoo/<Setting>POMDP-v0")``, and, for settings with a
  batched game, ``gymnasium.make_vec("StackelbergZoo/<Setting>POMDP-v0", num_envs=B)`` (its
  ``vector_entry_point`` is :class:`.vector.StackelbergPOMDPVectorEnv`).

Both accept the POMDP's keyword arguments (``followers``, ``n_response``, ``n_reward``,
``commitment``, ``diagnostics``, ``render_mode``) plus the setting's own game arguments,
e.g. ``gymnasium.make("StackelbergZoo/NormalFormPOMDP-v0", game="escape", mixed_leader=True)``.
:data:`POMDP_SETTINGS` lists the built-in settings with the paper's phase lengths
(``n_response``, ``n_reward``).
"""

from __future__ import annotations

from typing import Any

from stackelberg_zoo.envs import registry
from stackelberg_zoo.envs.core import EconomicGame
from stackelberg_zoo.envs.registry import Setting

PomdpSetting = Setting
"""One setting's entry (its POMDP ids and phase lengths among the rest)."""

POMDP_SETTINGS: tuple[Setting, ...] = registry.BUILTIN_SETTINGS
"""The built-in settings' entries; :func:`stackelberg_zoo.envs.registry.settings` lists all."""


def pomdp_setting(name: str) -> Setting:
    """The registered setting called ``name``.

    Raises:
        ValueError: On an unknown name.
    """
    return registry.get_setting(name)


def make_setting_game(name: str, **game_kwargs: Any):
    """Build setting ``name``'s game from its own keyword arguments.

    Raises:
        ValueError: On an unknown setting (the game raises on bad arguments).
    """
    return registry.get_setting(name).make_game(**game_kwargs)


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


def setting_of(game) -> Setting | None:
    """The setting whose game class ``game`` is an instance of (``None`` if none is)."""
    return registry.setting_of(game)


def default_phase_lengths(game: EconomicGame) -> tuple[int, int]:
    """The paper's ``(n_response, n_reward)`` for ``game``'s setting.

    Raises:
        ValueError: If ``game`` belongs to no known setting (pass both lengths then).
    """
    setting = setting_of(game)
    if setting is None:
        raise ValueError(
            f"no default phase lengths for a {type(game).__name__}; pass n_response and n_reward"
        )
    return setting.n_response, setting.n_reward


def register_pomdp_envs() -> None:
    """Register every setting's ids with PettingZoo and Gymnasium (idempotent)."""
    for setting in registry.settings():
        registry.register_setting(setting)
