"""Exact game theory on dense payoff arrays: games, equilibrium gaps, no-regret learners, solvers.

Pure numpy and scipy; nothing here imports the rest of stackelberg-zoo. The modules, each with
one job:

* :mod:`.games`: ``NormalFormGame`` and ``BayesianGame`` (payoff tensors and a joint prior);
* :mod:`.distributions`: empirical joint distributions from samples or per-round strategies;
* :mod:`.gaps`: CCE, CE, NashConv and the three Bayesian coarse-correlated gap notions;
* :mod:`.bayes_nash`: a pure Bayes-Nash equilibrium by enumeration (:func:`pure_bayes_nash`);
* :mod:`.arrays`: :func:`~.arrays.read_only`, the one helper that freezes arrays;
* :mod:`.learners`: batched no-regret learners that track their own regret;
* :mod:`.bounds`: the learners' regret bounds, so reports can print "gap <= bound";
* :mod:`.dynamics`: self-play loops (complete information and per-type Bayesian);
* :mod:`.lp`: CE/CCE/coarse-Bayes LPs with any linear objective, re-verified;
* :mod:`.stackelberg`: pure, strong, robust, correlated and Bayesian Stackelberg commitment;
* :mod:`.robust`: the best mechanism against the worst follower model of a set (max-min, LP);
* :mod:`.fixtures`: known-answer games from the literature, for tests.
"""

from .bayes_nash import NoPureEquilibriumError, pure_bayes_nash
from .bounds import (
    azuma_margin,
    exp3_bound,
    hedge_bound,
    mw_bound,
    optimistic_hedge_bound,
    per_type_bound,
    rm_bound,
)
from .distributions import (
    bayes_joint_from_samples,
    bayes_joint_from_strategies,
    bayes_product,
    joint_from_profiles,
    joint_from_samples,
    product_profile,
)
from .dynamics import run_bayesian_selfplay, run_selfplay
from .games import BayesianGame, NormalFormGame, bimatrix
from .gaps import bcce_gap, bne_gap, cce_gap, ce_gap, deviation_table, nash_conv
from .learners import Exp3, Hedge, MultiplicativeWeights, OptimisticHedge, RegretMatching
from .lp import solve_bayes_coarse, solve_cce, solve_ce, zero_sum_value
from .robust import RobustResult, robust_value
from .stackelberg import (
    bayesian_stackelberg,
    correlated_commitment,
    follower_best_responses,
    pure_commitment,
    robust_commitment,
    strong_stackelberg,
)

__all__ = [
    "BayesianGame",
    "Exp3",
    "Hedge",
    "MultiplicativeWeights",
    "NoPureEquilibriumError",
    "NormalFormGame",
    "OptimisticHedge",
    "RegretMatching",
    "RobustResult",
    "azuma_margin",
    "bayes_joint_from_samples",
    "bayes_joint_from_strategies",
    "bayes_product",
    "bayesian_stackelberg",
    "bcce_gap",
    "bimatrix",
    "bne_gap",
    "cce_gap",
    "ce_gap",
    "correlated_commitment",
    "deviation_table",
    "exp3_bound",
    "follower_best_responses",
    "hedge_bound",
    "joint_from_profiles",
    "joint_from_samples",
    "mw_bound",
    "nash_conv",
    "optimistic_hedge_bound",
    "per_type_bound",
    "product_profile",
    "pure_bayes_nash",
    "pure_commitment",
    "rm_bound",
    "robust_commitment",
    "robust_value",
    "run_bayesian_selfplay",
    "run_selfplay",
    "solve_bayes_coarse",
    "solve_cce",
    "solve_ce",
    "strong_stackelberg",
    "zero_sum_value",
]
