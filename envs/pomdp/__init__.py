"""The Stackelberg POMDP: the leader's environment with the followers' response algorithm inside.

* :mod:`.followers`: follower response algorithms (multiplicative weights as the paper,
  Hedge, regret matching, EXP3, an exhaustive best response), chosen by name or instance;
* :mod:`.episode`: the POMDP logic (:class:`StackelbergPOMDP`), free of PettingZoo and
  Gymnasium; :mod:`.report`: the response phase's :class:`ResponseReport`;
* :mod:`.aec`: a PettingZoo ``AECEnv`` whose only agent is ``leader_0``;
* :mod:`.gym`: a ``gymnasium.Env`` (passes ``gymnasium.utils.env_checker.check_env``);
* :mod:`.registration`: the per-setting defaults and ids, :func:`register_pomdp_envs`;
* :mod:`.protocol`: the protocols by name (:data:`PROTOCOLS`), :mod:`.certify`: certified
  responses (:class:`Certification`), :mod:`.exact_reward`: the exact reward phase.
"""

from stackelberg_zoo.envs.pomdp.certify import Certification, CertificationResult
from stackelberg_zoo.envs.pomdp.episode import StackelbergPOMDP
from stackelberg_zoo.envs.pomdp.followers import (
    FOLLOWER_ALGORITHMS,
    BestResponse,
    Exp3Response,
    FollowerSpec,
    HedgeResponse,
    MultiplicativeWeightsResponse,
    NoPureEquilibriumError,
    PolicyGradientResponse,
    QLearningResponse,
    RegretCertificate,
    RegretMatchingResponse,
    ResponseAlgorithm,
    response_algorithm,
)
from stackelberg_zoo.envs.pomdp.protocol import PROTOCOLS
from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS, register_pomdp_envs
from stackelberg_zoo.envs.pomdp.report import ResponseReport
from stackelberg_zoo.envs.pomdp.step import Phase, Transition

__all__ = [
    "FOLLOWER_ALGORITHMS",
    "POMDP_SETTINGS",
    "PROTOCOLS",
    "BestResponse",
    "Certification",
    "CertificationResult",
    "Exp3Response",
    "FollowerSpec",
    "HedgeResponse",
    "MultiplicativeWeightsResponse",
    "NoPureEquilibriumError",
    "Phase",
    "PolicyGradientResponse",
    "QLearningResponse",
    "RegretCertificate",
    "RegretMatchingResponse",
    "ResponseAlgorithm",
    "ResponseReport",
    "StackelbergPOMDP",
    "Transition",
    "register_pomdp_envs",
    "response_algorithm",
]
