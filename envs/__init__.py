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

:data:`ENV_IDS` (AEC) and :data:`PARALLEL_ENV_IDS` are the one list of multi-agent game ids
the tests and benchmarks read; ``pomdp.registration.POMDP_SETTINGS`` lists the POMDPs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pettingzoo

from stackelberg_zoo.envs.pomdp.registration import register_pomdp_envs

NAMESPACE = "stackelberg"
"""The registry namespace of every environment here."""


@dataclass(frozen=True)
class Registration:
    """One registered environment.

    Attributes:
        id: Registry id, ``"stackelberg/<name>-v<N>"``.
        module: Import path of the env module, which defines ``env`` (and ``parallel_env``
            when ``parallel`` is true).
        parallel: Whether a genuinely simultaneous ``parallel_env`` is registered too.
    """

    id: str
    module: str
    parallel: bool = False


REGISTRATIONS: tuple[Registration, ...] = (
    Registration(
        f"{NAMESPACE}/normal-form-v0", "stackelberg_zoo.envs.normal_form.env", parallel=True
    ),
    Registration(f"{NAMESPACE}/matrix-design-v0", "stackelberg_zoo.envs.matrix_design.env"),
    Registration(f"{NAMESPACE}/simple-allocation-v0", "stackelberg_zoo.envs.simple_allocation.env"),
    Registration(f"{NAMESPACE}/mspm-v0", "stackelberg_zoo.envs.mspm.env"),
)
"""Every environment of the suite, in one place."""

ENV_IDS: tuple[str, ...] = tuple(r.id for r in REGISTRATIONS)
"""Registered AEC ids."""

PARALLEL_ENV_IDS: tuple[str, ...] = tuple(r.id for r in REGISTRATIONS if r.parallel)
"""Registered parallel ids."""


def _register_all() -> None:
    for registration in REGISTRATIONS:
        if registration.id not in pettingzoo.aec_registry:
            pettingzoo.register("aec", registration.id, entry_point=f"{registration.module}:env")
        if registration.parallel and registration.id not in pettingzoo.parallel_registry:
            pettingzoo.register(
                "parallel", registration.id, entry_point=f"{registration.module}:parallel_env"
            )


_register_all()
register_pomdp_envs()
