"""Normal-form diagnostics of the Stackelberg POMDP's design choices.

Three small experiments, each a leader trained by REINFORCE against a learning follower
inside a miniature Stackelberg POMDP episode (response phase, then reward phase), each
comparing the POMDP's choice with its alternative over seeds:

* ``phase-memory``: does the leader's policy see whether it is in the response or the reward
  phase? Repeated prisoner's dilemma (5 stages, one-step memory) against a follower
  pretrained as a contextual best responder.
* ``reset-vs-carried``: tabular Q followers reset every episode vs carried over, battle of
  the sexes, three leader learning rates.
* ``reward-during-learning``: the leader's return from the reward phase only vs including
  the response phase, tabular Q followers, the coordination game and its penalised variant.

    python benchmark/diagnostics                       # all three, 10 seeds, ~1-2 minutes
    python benchmark/diagnostics --only phase-memory --seeds 20 --out /tmp/diagnostics

Writes ``<experiment>.json`` (every seed's numbers and the curves), ``<experiment>.png``
(learning curves, mean and bootstrap 95% CI over seeds) and ``<experiment>.txt`` (the table)
into ``--out``. The games, learners and experiments are in ``games``, ``learners`` and
``experiments``; the learners are the diagnostics' own (see ``learners``).
"""
