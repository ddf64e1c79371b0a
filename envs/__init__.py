"""Stackelberg economic-design environments (PettingZoo AEC and Gymnasium).

Importing this package registers every environment with PettingZoo's registry::

    import stackelberg_zoo.envs  # noqa: F401  (registers the ids)
    from pettingzoo import make

    env = make("aec", "stackelberg/normal-form-v0", game="escape")
    par = make("parallel", "stackelberg/normal-form-v0", game="escape")

It also registers every setting's Stackelberg POMDP (the leader's environment, with the
followers' response algorithm inside), with PettingZoo and with Gymnasium::

    pomdp = make("aec", "stackelberg/normal-form-pomdp-v0", game="escape")
    import gymnasium
    leader_env = gymnasium.make("StackelbergZoo/NormalFormPOMDP-v0", game="escape")

:mod:`.registry` holds one :class:`~.registry.Setting` entry per setting (ids, game, batched
game, the trainers' defaults); importing the package registers every entry's ids.
:data:`ENV_IDS` (AEC) and :data:`PARALLEL_ENV_IDS` are the built-in multi-agent game ids
the tests and benchmarks read.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackelberg_zoo.envs.registry import BUILTIN_SETTINGS, Setting, register_setting, settings

NAMESPACE = "stackelberg"
"""The registry namespace of every environment here."""


@dataclass(frozen=True)
class Registration:
    """One registered multi-agent environment (read off its setting's entry).

    Attributes:
        id: Registry id, ``"stackelberg/<name>-v<N>"``.
        module: Import path of the env module, which defines ``env`` (and ``parallel_env``
            when ``parallel`` is true).
        parallel: Whether a genuinely simultaneous ``parallel_env`` is registered too.
    """

    id: str
    module: str
    parallel: bool = False


REGISTRATIONS: tuple[Registration, ...] = tuple(
    Registration(s.env_id, s.env_module, s.parallel) for s in BUILTIN_SETTINGS if s.env_id
)
"""Every multi-agent environment of the suite (from :data:`.registry.BUILTIN_SETTINGS`)."""

ENV_IDS: tuple[str, ...] = tuple(r.id for r in REGISTRATIONS)
"""Registered AEC ids."""

PARALLEL_ENV_IDS: tuple[str, ...] = tuple(r.id for r in REGISTRATIONS if r.parallel)
"""Registered parallel ids."""

__all__ = [
    "ENV_IDS",
    "NAMESPACE",
    "PARALLEL_ENV_IDS",
    "REGISTRATIONS",
    "Registration",
    "Setting",
    "register_setting",
    "settings",
]
