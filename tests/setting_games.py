"""The settings' own payoff tables as raw NormalFormGames, for solver tests.

The tables live once, in the environments (``envs/normal_form/game.py`` and
``envs/matrix_design/game.py``); these builders only wrap them. Research fixtures F4, F6, F7
and F14 are these games.
"""

from stackelberg_zoo.envs.matrix_design.game import MONDERER_TENNENHOLTZ_PAYOFFS
from stackelberg_zoo.envs.normal_form.game import NAMED_GAMES
from stackelberg_zoo.equilibrium.games import NormalFormGame, bimatrix


def _named(name: str) -> NormalFormGame:
    return bimatrix(NAMED_GAMES[name].leader, NAMED_GAMES[name].follower)


def conitzer() -> NormalFormGame:
    """F4: Conitzer and Sandholm (2006); Conitzer (2016), "On Stackelberg mixed strategies"."""
    return _named("conitzer")


def escape() -> NormalFormGame:
    """F6: Escape, the "penalty" game of Zhang et al. (2020), "Bi-level actor-critic"."""
    return _named("escape")


def maintain() -> NormalFormGame:
    """F7: Maintain, the "climbing" game of Zhang et al. (2020)."""
    return _named("maintain")


def monderer_tennenholtz() -> NormalFormGame:
    """F14: Monderer and Tennenholtz (2003), "k-Implementation", raw (not normalised)."""
    return NormalFormGame(MONDERER_TENNENHOLTZ_PAYOFFS)
