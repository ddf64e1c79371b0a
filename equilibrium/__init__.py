"""Exact game theory on dense payoff arrays: games, equilibrium gaps, no-regret learners, solvers.

Pure numpy and scipy. Nothing here imports the rest of stackelberg-zoo.
"""
