"""Sequential price mechanisms with messages (MSPM): game logic, exact reference, PettingZoo env."""

from stackelberg_zoo.envs.mspm.game import (
    LeaderView,
    MechanismState,
    SequentialPriceMechanism,
    value_model,
)
from stackelberg_zoo.envs.mspm.pricing_trees import (
    PriceNode,
    SPMResult,
    best_message_free_spm,
    first_best_welfare,
)
from stackelberg_zoo.envs.mspm.reference import (
    MapSolution,
    MessageMechanism,
    MSPMSearchResult,
    best_mechanism_for_maps,
    mechanism_policy,
    mspm_reference,
    search_mspm,
)

__all__ = [
    "LeaderView",
    "MSPMSearchResult",
    "MapSolution",
    "MechanismState",
    "MessageMechanism",
    "PriceNode",
    "SPMResult",
    "SequentialPriceMechanism",
    "best_mechanism_for_maps",
    "best_message_free_spm",
    "first_best_welfare",
    "mechanism_policy",
    "mspm_reference",
    "search_mspm",
    "value_model",
]
