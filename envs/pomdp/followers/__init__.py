"""Follower response algorithms: how the followers answer the leader inside the Stackelberg POMDP.

A response algorithm only ever *plays* the leader's policy (it is "policy-interactive"): in the
response phase it asks for sub-games, one *response query* at a time, each with a type profile
and a follower action profile of its choosing; the POMDP plays that sub-game with the leader
acting through its policy and hands back the followers' utilities. In the reward phase it says
what each follower plays at fresh types.

One module per follower model, each holding its description, its single-environment
responder and its batched kernel (the protocol: :mod:`.base`):

* :mod:`.mw`: :class:`MultiplicativeWeightsResponse` (``"mw"``), the paper's dynamics, exactly;
* :mod:`.hedge`: :class:`HedgeResponse` (``"hedge"``) and :mod:`.regret_matching`:
  :class:`RegretMatchingResponse` (``"regret_matching"``, ``"regret_matching_plus"``): the
  same counterfactual sweeps (:mod:`.learning`, :mod:`.batched_learning`) with another
  full-information learner;
* :mod:`.exp3`: :class:`Exp3Response` (``"exp3"``): bandit feedback, one query per round;
* :mod:`.best_response`: :class:`BestResponse` (``"best_response"``): an oracle that queries
  every (type profile, action profile) once and plays a pure Bayes-Nash equilibrium of the
  induced game, ties in the leader's favour by default;
* :mod:`.population`: :class:`PopulationResponse` (``"population"``): draws one follower
  model and its hyperparameters from a mix per episode (per copy when batched);
* :mod:`.q_learning`: :class:`QLearningResponse` (``"q_learning"``): tabular Q-learning
  (Calvano et al. 2020), state = the last joint action, ε-greedy; not a no-regret learner,
  so its report carries no certificate (:mod:`.q_learning_batched`: its batched kernel);
* :mod:`.policy_gradient`: :class:`PolicyGradientResponse` (``"policy_gradient"``): REINFORCE
  with a tabular softmax policy per (type[, last joint action]), bandit feedback; not a
  no-regret learner either (:mod:`.policy_gradient_batched`: its batched kernel);
* :mod:`.certificate`: :class:`RegretCertificate` and the response snapshots.

Every learner is per (follower, type) and updates only in rounds where that type is realised,
which is what makes correlated priors work.

Reward-phase play (``reward_play``) for the learners: ``"argmax"`` (the paper: the most
weighted action of the realised type's row, lowest index on ties), ``"sample"`` (sample the
final mixed strategy) or ``"empirical"`` (what BCCE theory covers: draw one completed round of
the response phase uniformly, shared by all followers as the correlation device, and each
follower samples its mixed strategy *of that round* at its fresh type; single environment
only).

**The registry.** :func:`response_algorithm` resolves a name or an instance; names come from
:func:`register_follower_model` (every built-in model is registered below, one line each),
are listed by :func:`follower_models` and removed by :func:`unregister_follower_model`.
Every environment's ``followers=`` argument accepts any registered name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from stackelberg_zoo.envs.pomdp.followers.base import (
    REWARD_PLAY,
    BatchedResponder,
    FollowerSpec,
    Responder,
    ResponseAlgorithm,
    ResponseSnapshot,
)
from stackelberg_zoo.envs.pomdp.followers.best_response import TIE_RULES, BestResponse
from stackelberg_zoo.envs.pomdp.followers.certificate import RegretCertificate
from stackelberg_zoo.envs.pomdp.followers.exp3 import Exp3Response
from stackelberg_zoo.envs.pomdp.followers.hedge import HedgeResponse
from stackelberg_zoo.envs.pomdp.followers.learning import SweepResponse
from stackelberg_zoo.envs.pomdp.followers.mw import MultiplicativeWeightsResponse
from stackelberg_zoo.envs.pomdp.followers.policy_gradient import PolicyGradientResponse
from stackelberg_zoo.envs.pomdp.followers.population import PopulationResponse
from stackelberg_zoo.envs.pomdp.followers.q_learning import QLearningResponse
from stackelberg_zoo.envs.pomdp.followers.regret_matching import RegretMatchingResponse
from stackelberg_zoo.equilibrium.bayes_nash import (
    DEFAULT_TIE_TOL,
    MAX_PLAN_PROFILES,
    NoPureEquilibriumError,
    pure_bayes_nash,
)

FOLLOWER_ALGORITHMS: dict[str, Callable[[], ResponseAlgorithm]] = {}
"""The registry: response algorithms by name, each a factory of its default instance.

Add to it with :func:`register_follower_model`."""


def register_follower_model(name: str, factory: Callable[[], ResponseAlgorithm]) -> None:
    """Register a follower model under ``name``, so ``followers=name`` builds ``factory()``.

    Args:
        name: A new name (lowercase words and underscores, e.g. ``"my_learner"``).
        factory: Makes the model's default :class:`ResponseAlgorithm` (usually its class).

    Raises:
        TypeError: If ``name`` is not a string or ``factory`` is not callable.
        ValueError: If ``name`` is empty, not an identifier, or already registered.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}: {name!r}")
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"name must be a lowercase identifier, got {name!r}")
    if name in FOLLOWER_ALGORITHMS:
        raise ValueError(f"a follower model is already registered as {name!r}")
    if not callable(factory):
        raise TypeError(f"factory must be callable, got {factory!r}")
    FOLLOWER_ALGORITHMS[name] = factory


def unregister_follower_model(name: str) -> None:
    """Remove the follower model registered as ``name`` (e.g. to register a new version).

    Raises:
        ValueError: If no model is registered as ``name``.
    """
    if name not in FOLLOWER_ALGORITHMS:
        raise ValueError(f"no follower model is registered as {name!r}")
    del FOLLOWER_ALGORITHMS[name]


def follower_models() -> tuple[str, ...]:
    """The registered follower model names, sorted (what ``followers=`` accepts by name)."""
    return tuple(sorted(FOLLOWER_ALGORITHMS))


def response_algorithm(followers: str | ResponseAlgorithm) -> ResponseAlgorithm:
    """Resolve ``followers``: a registered name (:func:`follower_models`) or an instance.

    Raises:
        ValueError: On an unknown name.
        TypeError: On anything else, or a factory that does not make a ResponseAlgorithm.
    """
    if isinstance(followers, ResponseAlgorithm):
        return followers
    if isinstance(followers, str):
        if followers not in FOLLOWER_ALGORITHMS:
            raise ValueError(
                f"followers must be one of {sorted(FOLLOWER_ALGORITHMS)} or a "
                f"ResponseAlgorithm instance, got {followers!r}"
            )
        algorithm = FOLLOWER_ALGORITHMS[followers]()
        if not isinstance(algorithm, ResponseAlgorithm):
            raise TypeError(
                f"the factory registered as {followers!r} made {algorithm!r}, not a "
                f"ResponseAlgorithm"
            )
        return algorithm
    raise TypeError(
        f"followers must be a name or a ResponseAlgorithm instance, got "
        f"{type(followers).__name__}: {followers!r}"
    )


register_follower_model("mw", MultiplicativeWeightsResponse)
register_follower_model("multiplicative_weights", MultiplicativeWeightsResponse)
register_follower_model("hedge", HedgeResponse)
register_follower_model("regret_matching", RegretMatchingResponse)
register_follower_model(
    "regret_matching_plus", functools.partial(RegretMatchingResponse, plus=True)
)
register_follower_model("exp3", Exp3Response)
register_follower_model("best_response", BestResponse)
register_follower_model("population", PopulationResponse)
register_follower_model("q_learning", QLearningResponse)
register_follower_model("policy_gradient", PolicyGradientResponse)

__all__ = [
    "DEFAULT_TIE_TOL",
    "FOLLOWER_ALGORITHMS",
    "MAX_PLAN_PROFILES",
    "REWARD_PLAY",
    "TIE_RULES",
    "BatchedResponder",
    "BestResponse",
    "Exp3Response",
    "FollowerSpec",
    "HedgeResponse",
    "MultiplicativeWeightsResponse",
    "NoPureEquilibriumError",
    "PolicyGradientResponse",
    "PopulationResponse",
    "QLearningResponse",
    "RegretCertificate",
    "RegretMatchingResponse",
    "Responder",
    "ResponseAlgorithm",
    "ResponseSnapshot",
    "SweepResponse",
    "follower_models",
    "pure_bayes_nash",
    "register_follower_model",
    "response_algorithm",
    "unregister_follower_model",
]
