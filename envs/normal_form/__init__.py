"""Normal-form Stackelberg games: the leader commits to a (mixed) row, one follower answers."""

from stackelberg_zoo.envs.normal_form.game import NAMED_GAMES, NormalFormStackelberg

__all__ = ["NAMED_GAMES", "NormalFormStackelberg"]
