"""Matrix design (Monderer-Tennenholtz k-implementation): the leader pays for outcomes."""

from stackelberg_zoo.envs.matrix_design.game import (
    MONDERER_TENNENHOLTZ_PAYOFFS,
    DominantImplementation,
    MatrixDesign,
    MatrixDesignState,
    PaymentScheme,
)

__all__ = [
    "MONDERER_TENNENHOLTZ_PAYOFFS",
    "DominantImplementation",
    "MatrixDesign",
    "MatrixDesignState",
    "PaymentScheme",
]
