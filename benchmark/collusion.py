"""The collusion platform's results: platform rules against Q-learning sellers.

Three measurements on the paper's episode (two tabular Q-learning sellers re-initialised per
episode, 50,000 learning periods, then 30 greedy periods without learning):

1. **Fixed rules** (no intervention, PDP, DPDP): consumer surplus, mean price and collusion
   index ``(p - p^N) / (p^M - p^N)`` over the first cycle of the greedy periods, per seller
   seed. The rules are played through the game logic (`rules.fixed_rule`, the market's
   profits) by :func:`play_sessions`, which drives the suite's batched Q-learning kernel
   directly; DPDP remembers who held the box, which no committed policy of the current
   prices can express, so it cannot run as a Stackelberg POMDP leader. For threshold rules
   the driver reproduces the batched Stackelberg POMDP draw for draw
   (`tests/test_collusion_benchmark.py`).
2. **Learned PDA**: `baselines/random_search.py` (random committed threshold tables, one
   per POMDP episode, the best episode return kept) for each training seed; each learned
   table is then played on the same seller seeds as the fixed rules (seeds the trainer
   never saw). A training seed *beats no intervention* when its table's mean surplus over
   those seller seeds exceeds no intervention's.
3. **Deviation diagnostic**: from the no-intervention sessions whose greedy cycle is priced
   above ``p^N + 0.01``, seller 0 plays its static best response (both shown) to seller 1's
   greedy price for one period, then both play greedily for 15 periods.

Statistics: per row, mean, interquartile mean and a percentile-bootstrap 95% CI of the
mean (`scipy.stats.bootstrap`, via `stackelberg_zoo.envs.evaluation.summarize`) over seller
seeds (fixed rules) or training seeds (learned PDA; each the mean over seller seeds).

    python benchmark/collusion.py                         # the docs' figures (~10 min, 1 core)
    python benchmark/collusion.py --seller-seeds 3 --train-seeds 2 --train-episodes 8

Writes into `--out`: `collusion.json` (every number, the learned tables, the command and
runtime), `marl_eval.json` (marl-eval's raw-data layout), `rules.png` and `deviation.png`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro

from stackelberg_zoo.envs.collusion_platform import (
    CollusionPlatform,
    bertrand_nash_price,
    collusion_index,
    first_cycle_mean,
    fixed_rule,
    monopoly_price,
    threshold_shown,
)
from stackelberg_zoo.envs.collusion_platform.market import consumer_surplus, profits
from stackelberg_zoo.envs.collusion_platform.rules import FIXED_RULES, NO_BOX
from stackelberg_zoo.envs.evaluation import Summary, summarize
from stackelberg_zoo.envs.pomdp.followers import QLearningResponse, ResponseAlgorithm
from stackelberg_zoo.envs.pomdp.followers.base import FollowerSpec
from stackelberg_zoo.envs.pomdp.streams import UniformStreams, make_generators

ENV_ID = "StackelbergZoo/CollusionPlatformPOMDP-v0"
"""The Stackelberg POMDP the PDA leader is trained on."""

RULE_LABELS = {"no_intervention": "no intervention", "pdp": "PDP", "dpdp": "DPDP"}
"""Printed names of the fixed rules."""

SELLER_SEED_OFFSET = 100_000
"""Seller seed ``k`` of an evaluation is generator seed ``SELLER_SEED_OFFSET + k``, far from
the trainer's own seeds (``seed + b`` and ``seed + 10_000 + e``)."""

PRE_PERIODS = 3
"""Greedy periods shown before the deviation in the diagnostic."""

POST_PERIODS = 15
"""Greedy periods after the deviation."""

DEFAULT_SELLERS = QLearningResponse()
"""The paper's sellers: the `"q_learning"` follower model at its defaults (Calvano et al.)."""

COLLUSIVE_MARGIN = 0.01
"""A session is collusive when its greedy cycle's mean price exceeds ``p^N`` by this."""


# -- the sessions ----------------------------------------------------------------------------


@dataclass
class Sessions:
    """``B`` sessions (episodes) played to the end of the greedy periods.

    Attributes:
        surplus: ``[B]`` mean consumer surplus over the first cycle of greedy periods.
        price: ``[B]`` mean price (both sellers) over that cycle.
        greedy: ``[B, 2, m * m]`` each seller's greedy price index per state (the last
            profile) after the greedy periods (the tables do not learn there); ``None`` for
            sellers without Q-tables.
        last: ``[B, 2]`` the last greedy profile.
        visited: ``bool[B, m, m]`` the price profiles the platform was asked about (played
            in a learning or greedy period).
    """

    surplus: np.ndarray
    price: np.ndarray
    greedy: np.ndarray | None
    last: np.ndarray
    visited: np.ndarray


def _shown(game: CollusionPlatform, rule: str | np.ndarray, actions: np.ndarray, boxes: list):
    """``bool[B, 2]`` who ``rule`` shows at price indices ``actions``; updates DPDP's ``boxes``."""
    if not isinstance(rule, str):  # a PDA threshold table [B, m, m]
        thresholds = rule[np.arange(actions.shape[0]), actions[:, 0], actions[:, 1]]
        return threshold_shown(actions, thresholds)
    shown = np.empty(actions.shape, dtype=bool)
    for b, (i, j) in enumerate(actions.tolist()):
        shown[b], boxes[b] = fixed_rule(rule, (game.prices[i], game.prices[j]), boxes[b])
    return shown


def play_sessions(
    game: CollusionPlatform,
    rule: str | np.ndarray,
    seeds: list[int],
    n_response: int = 50_000,
    n_reward: int = 30,
    sellers: ResponseAlgorithm = DEFAULT_SELLERS,
) -> Sessions:
    """Learning sellers against a platform ``rule``, one session per seed.

    The sellers' batched kernel (by default the `"q_learning"` follower model at its
    defaults; any model that runs batched) learns for ``n_response`` periods and plays its
    reward-phase play (Q-learning: greedily) for ``n_reward``; the platform shows sellers by
    ``rule`` and the sellers earn the market's profits. Session ``k`` draws from the
    generator Gymnasium makes for ``seeds[k]``, in the Stackelberg POMDP's order, so for a
    threshold rule it is that POMDP's episode with these sellers as its follower model.

    Args:
        game: The market and price grid.
        rule: A fixed rule's name (:data:`FIXED_RULES`) or PDA threshold tables
            ``int[B, m, m]`` (one per session: the threshold index at each price profile).
        seeds: The sessions' seller seeds.
        n_response: Learning periods.
        n_reward: Greedy periods (the first cycle of their profiles, with DPDP's box holder,
            gives the values).
        sellers: The sellers' follower model.

    Raises:
        ValueError: On an unknown rule, tables of the wrong shape or values, no seeds, or
            sellers whose model does not run batched.
    """
    B, m = len(seeds), game.n_prices
    if B < 1:
        raise ValueError(f"seeds must hold at least one seed, got {seeds!r}")
    if isinstance(rule, str):
        if rule not in FIXED_RULES:
            raise ValueError(f"rule must be one of {FIXED_RULES} or tables, got {rule!r}")
    else:
        rule = np.asarray(rule)
        if rule.shape != (B, m, m) or rule.min() < 0 or rule.max() >= m:
            raise ValueError(f"rule tables must be int[{B}, {m}, {m}] in [0, {m}), got {rule!r}")
    spec = FollowerSpec.of(game)
    streams = UniformStreams(B)
    for b, generator in enumerate(make_generators(list(seeds), B)):
        streams.seed(b, generator)
    kernel = sellers.batched(spec, n_response, B, streams.draw, False)
    index = np.arange(B)
    boxes = [NO_BOX] * B
    visited = np.zeros((B, m, m), dtype=bool)
    kernel.reset(index)
    for _ in range(n_response):
        _, actions = kernel.next_queries(index)
        actions = np.array(actions)
        visited[index, actions[:, 0], actions[:, 1]] = True
        shown = _shown(game, rule, actions, boxes)
        prices = game.prices[actions]
        kernel.observe(
            index, consumer_surplus(game.market, prices, shown), profits(game.market, prices, shown)
        )
    kernel.finish(index)
    keys = np.zeros((B, n_reward, 3), dtype=np.int64)
    surplus, price = np.zeros((B, n_reward)), np.zeros((B, n_reward))
    for t in range(n_reward):
        actions = np.array(
            kernel.reward_actions(index, spec.sample_type_batch(streams.draw, index))
        )
        visited[index, actions[:, 0], actions[:, 1]] = True
        shown = _shown(game, rule, actions, boxes)
        keys[:, t, :2] = actions
        keys[:, t, 2] = [-1 if box.holder is None else box.holder for box in boxes]
        surplus[:, t] = consumer_surplus(game.market, game.prices[actions], shown)
        price[:, t] = game.prices[actions].mean(axis=1)
    greedy = None
    if isinstance(sellers, QLearningResponse) and sellers.memory == 1:
        greedy = np.stack([q.reshape(B, m * m, m).argmax(axis=2) for q in kernel.q], axis=1)
    return Sessions(
        surplus=np.array([first_cycle_mean(keys[b], surplus[b]) for b in range(B)]),
        price=np.array([first_cycle_mean(keys[b], price[b]) for b in range(B)]),
        greedy=greedy,
        last=actions,
        visited=visited,
    )


# -- the deviation diagnostic ------------------------------------------------------------------


def static_best_response(game: CollusionPlatform, rival: int) -> int:
    """Seller 0's profit-maximising price index against seller 1 at ``rival``, both shown."""
    return int(np.argmax(game.profit_table[:, rival, game.n_prices - 1, 0]))


def deviation_paths(game: CollusionPlatform, sessions: Sessions, deviate: bool = True):
    """``int[B, PRE_PERIODS + 1 + POST_PERIODS, 2]`` price indices around a forced deviation.

    From each session's last greedy profile: ``PRE_PERIODS`` greedy periods, then one period
    in which seller 0 plays :func:`static_best_response` to seller 1's greedy price (with
    ``deviate``; else its greedy price: the counterfactual path), then ``POST_PERIODS``
    greedy periods (the state is the last profile, as the sellers learned).
    """
    m = game.n_prices
    paths = np.zeros((len(sessions.last), PRE_PERIODS + 1 + POST_PERIODS, 2), dtype=np.int64)
    for b, (greedy, last) in enumerate(zip(sessions.greedy, sessions.last, strict=True)):
        state = int(last[0]) * m + int(last[1])
        for t in range(paths.shape[1]):
            action = [int(greedy[0, state]), int(greedy[1, state])]
            if deviate and t == PRE_PERIODS:
                action[0] = static_best_response(game, action[1])
            paths[b, t] = action
            state = action[0] * m + action[1]
    return paths


def deviation_reading(paths: np.ndarray, counterfactual: np.ndarray) -> dict[str, float]:
    """Fractions of sessions, comparing the deviation ``paths`` with the ``counterfactual``.

    * ``deviates``: the static best response differs from seller 0's greedy price;
    * ``punish``: seller 1 prices below its counterfactual price in one of the 3 periods
      after the deviation;
    * ``return``: a profile of the last 5 periods lies on the counterfactual's path (its
      cycle: greedy play from the last profile is periodic).
    """
    t = PRE_PERIODS
    deviates = paths[:, t, 0] != counterfactual[:, t, 0]
    punish = (paths[:, t + 1 : t + 4, 1] < counterfactual[:, t + 1 : t + 4, 1]).any(axis=1)
    back = [
        bool({tuple(p) for p in path[-5:]} & {tuple(p) for p in other})
        for path, other in zip(paths, counterfactual, strict=True)
    ]
    return {
        "deviates": float(np.mean(deviates)),
        "punish": float(np.mean(punish)),
        "return": float(np.mean(back)),
    }


# -- training the PDA ----------------------------------------------------------------------------


def train_pda(seed: int, episodes: int, num_envs: int, n_response: int, m: int) -> dict[str, Any]:
    """Run `baselines/random_search.py` for ``episodes`` random tables; its best table.

    Returns the table ``int[m, m]`` (as a list; profiles the trainer never saw get the
    largest threshold, no intervention), the number of such profiles and the trainer's
    wall-clock time.
    """
    per_env = -(-episodes // num_envs)
    steps = per_env * num_envs * (n_response + 30)
    script = Path(__file__).resolve().parent.parent / "baselines" / "random_search.py"
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable,
            str(script),
            "--env-id",
            ENV_ID,
            "--seed",
            str(seed),
            "--env-kwargs",
            json.dumps({"n_response": n_response}),
            "--num-envs",
            str(num_envs),
            "--total-timesteps",
            str(steps),
            "--eval-episodes",
            "1",
            "--no-progress-bar",
            "--no-stop-at-optimum",
        ]
        start = time.time()
        subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)
        elapsed = time.time() - start
        (record,) = Path(folder).glob("runs/**/mechanism.json")
        mechanism = json.loads(record.read_text())["mechanism"]
    table = np.full((m, m), m - 1, dtype=np.int64)
    seen = np.zeros((m, m), dtype=bool)
    for entry in mechanism:
        i, j = entry["observation"]["price_index_0"], entry["observation"]["price_index_1"]
        table[i, j], seen[i, j] = int(entry["action"]), True
    return {"table": table.tolist(), "unseen": int((~seen).sum()), "seconds": elapsed}


# -- the benchmark -------------------------------------------------------------------------------


@dataclass
class Args:
    out: str = "docs/assets/collusion"
    """the output folder (JSON and figures)"""
    seller_seeds: int = 25
    """seller seeds per evaluated rule (the same seeds for every rule)"""
    train_seeds: int = 10
    """training seeds of the learned PDA (0: skip training)"""
    train_episodes: int = 48
    """random-search episodes (random committed threshold tables) per training seed"""
    num_envs: int = 8
    """the trainer's parallel POMDP environments"""
    n_response: int = 50_000
    """Q-learning periods per episode (the paper: 50,000)"""
    n_reward: int = 30
    """greedy periods per evaluated session (the paper: 30; the trainer uses 30)"""


def check_args(args: Args) -> None:
    """Refuse a bad flag, naming it and the value (``ValueError``)."""
    for name in ("seller_seeds", "train_episodes", "num_envs", "n_response", "n_reward"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.train_seeds < 0:
        raise ValueError(f"--train-seeds must be >= 0, got {args.train_seeds}")


def _row(values) -> dict[str, float]:
    summary: Summary = summarize(values)
    return {k: v for k, v in asdict(summary).items()}


def measure(args: Args) -> dict[str, Any]:
    """Every number of the benchmark (see the module docstring)."""
    game = CollusionPlatform()
    nash, monopoly = bertrand_nash_price(game.market), monopoly_price(game.market)
    seeds = [SELLER_SEED_OFFSET + k for k in range(args.seller_seeds)]
    play = {"n_response": args.n_response, "n_reward": args.n_reward}
    per_seed: dict[str, dict[str, list[float]]] = {}
    sessions = {}
    for rule in FIXED_RULES:
        sessions[rule] = s = play_sessions(game, rule, seeds, **play)
        per_seed[rule] = {
            "consumer_surplus": s.surplus.tolist(),
            "mean_price": s.price.tolist(),
            "collusion_index": collusion_index(s.price, game.market).tolist(),
        }
    rows = {rule: {k: _row(v) for k, v in per_seed[rule].items()} for rule in FIXED_RULES}
    learned: list[dict[str, Any]] = []
    if args.train_seeds:
        for seed in range(1, args.train_seeds + 1):
            learned.append(
                train_pda(seed, args.train_episodes, args.num_envs, args.n_response, game.n_prices)
            )
            print(f"training seed {seed}: {learned[-1]}", file=sys.stderr, flush=True)
        tables = np.array([entry["table"] for entry in learned])
        B = len(seeds)
        stacked = np.repeat(tables, B, axis=0)
        s = play_sessions(game, stacked, seeds * len(learned), **play)
        alone = np.asarray(per_seed["no_intervention"]["consumer_surplus"])
        for k, entry in enumerate(learned):
            part = slice(k * B, (k + 1) * B)
            entry["consumer_surplus"] = s.surplus[part].tolist()
            entry["mean_price"] = s.price[part].tolist()
            entry["collusion_index"] = collusion_index(s.price[part], game.market).tolist()
            entry["gain_over_no_intervention"] = float(s.surplus[part].mean() - alone.mean())
        rows["learned_pda"] = {
            metric: _row([np.mean(entry[metric]) for entry in learned])
            for metric in ("consumer_surplus", "mean_price", "collusion_index")
        }
        rows["learned_pda"]["gain_over_no_intervention"] = _row(
            [entry["gain_over_no_intervention"] for entry in learned]
        )
    alone = sessions["no_intervention"]
    collusive = np.flatnonzero(alone.price > nash + COLLUSIVE_MARGIN)
    chosen = Sessions(*(x[collusive] for x in asdict(alone).values()))
    paths, counterfactual = deviation_paths(game, chosen), deviation_paths(game, chosen, False)
    return {
        "reference": {
            "bertrand_nash_price": nash,
            "monopoly_price": monopoly,
            "prices": game.prices.tolist(),
        },
        "seller_seeds": seeds,
        "per_seed": per_seed,
        "rows": rows,
        "learned": learned,
        "beats_no_intervention": sum(e["gain_over_no_intervention"] > 0 for e in learned),
        "deviation": {
            "sessions": collusive.tolist(),
            "price_paths": game.prices[paths].tolist() if len(collusive) else [],
            "counterfactual_paths": game.prices[counterfactual].tolist() if len(collusive) else [],
            **(deviation_reading(paths, counterfactual) if len(collusive) else {}),
        },
    }


def table(measured: dict[str, Any]) -> str:
    """The results as a markdown table (mean [95% CI], IQM)."""
    lines = [
        "| platform rule | consumer surplus | mean price | collusion index | n |",
        "|---|---|---|---|---|",
    ]
    for rule, row in measured["rows"].items():
        name = RULE_LABELS.get(rule, "learned PDA (random search)")
        cells = [
            f"{row[k]['mean']:.4f} [{row[k]['ci_low']:.4f}, {row[k]['ci_high']:.4f}] "
            f"(IQM {row[k]['iqm']:.4f})"
            for k in ("consumer_surplus", "mean_price", "collusion_index")
        ]
        unit = "seller seeds" if rule in RULE_LABELS else "training seeds"
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {row['consumer_surplus']['n']} {unit} |"
        )
    return "\n".join(lines)


def marl_eval(measured: dict[str, Any], args: Args) -> dict[str, Any]:
    """marl-eval's raw-data layout: env -> task -> algorithm -> run -> metrics.

    Fixed rules have one run (no training) and learned PDA one run per training seed;
    ``absolute_metrics`` hold one value per seller seed, ``step_0`` their mean at the
    training budget (random-search episodes).
    """
    metrics = ("consumer_surplus", "mean_price", "collusion_index")

    def run(values: dict[str, list[float]], steps: int) -> dict[str, Any]:
        return {
            "step_0": {
                "step_count": steps,
                **{k: [round(float(np.mean(values[k])), 6)] for k in metrics},
            },
            "absolute_metrics": {k: [round(v, 6) for v in values[k]] for k in metrics},
        }

    task: dict[str, Any] = {
        rule: {"seed_1": run(measured["per_seed"][rule], 0)} for rule in FIXED_RULES
    }
    if measured["learned"]:
        task["learned_pda"] = {
            f"seed_{k + 1}": run(entry, args.train_episodes)
            for k, entry in enumerate(measured["learned"])
        }
    return {"collusion_platform": {"paper_episode": task}}


def figures(measured: dict[str, Any], out: Path) -> None:
    """``rules.png`` (surplus and collusion index per rule, CIs) and ``deviation.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = measured["rows"]
    names = [RULE_LABELS.get(rule, "learned PDA") for rule in rows]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, metric, title in zip(
        axes,
        ("consumer_surplus", "collusion_index"),
        ("consumer surplus", "collusion index"),
        strict=True,
    ):
        means = [rows[r][metric]["mean"] for r in rows]
        err = np.array(
            [
                [m - rows[r][metric]["ci_low"], rows[r][metric]["ci_high"] - m]
                for r, m in zip(rows, means, strict=True)
            ]
        ).T
        ax.bar(names, means, yerr=err, capsize=4, color="#8da0cb")
        for k, rule in enumerate(rows):
            values = (
                [np.mean(e[metric]) for e in measured["learned"]]
                if rule == "learned_pda"
                else measured["per_seed"][rule][metric]
            )
            ax.plot(
                np.full(len(values), k) + np.linspace(-0.2, 0.2, len(values)),
                values,
                ".",
                color="#444444",
                ms=3,
            )
        ax.set_title(f"{title} (mean, 95% CI; dots: seeds)")
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(out / "rules.png", dpi=110)
    plt.close(fig)

    deviation = measured["deviation"]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    if deviation["price_paths"]:
        paths = np.asarray(deviation["price_paths"])
        t = np.arange(paths.shape[1]) - PRE_PERIODS
        for seller, color in ((0, "#d95f02"), (1, "#1b9e77")):
            rows_ = [summarize(paths[:, k, seller]) for k in range(paths.shape[1])]
            ax.plot(
                t,
                [r.mean for r in rows_],
                "-o",
                ms=3,
                color=color,
                label=f"seller {seller}" + (" (deviates at t = 0)" if seller == 0 else ""),
            )
            ax.fill_between(
                t, [r.ci_low for r in rows_], [r.ci_high for r in rows_], color=color, alpha=0.2
            )
        counterfactual = np.asarray(deviation["counterfactual_paths"]).mean(axis=(0, 2))
        ax.plot(t, counterfactual, ":", color="black", lw=1, label="mean price, no deviation")
    reference = measured["reference"]
    ax.axhline(reference["bertrand_nash_price"], ls="--", color="grey", lw=1, label="$p^N$")
    ax.axhline(reference["monopoly_price"], ls=":", color="grey", lw=1, label="$p^M$")
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel("period (0: forced static best response of seller 0)")
    ax.set_ylabel("price")
    ax.set_title(f"deviation from {len(deviation['sessions'])} collusive sessions (95% CI)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(out / "deviation.png", dpi=110)
    plt.close(fig)


def summary(record: dict[str, Any]) -> str:
    """The printed summary of a run's record (what ``collusion.md`` holds): table and readings."""
    text = table(record)
    if record["learned"]:
        text += (
            f"\n\nThe learned PDA beats no intervention in {record['beats_no_intervention']} of "
            f"{len(record['learned'])} training seeds."
        )
    deviation = record["deviation"]
    if deviation["sessions"]:
        text += (
            f" Deviation diagnostic: {len(deviation['sessions'])} collusive sessions; the best "
            f"response differs from the greedy price in {deviation['deviates']:.0%}, seller 1 "
            f"punishes in {deviation['punish']:.0%}, the sellers return to their path in "
            f"{deviation['return']:.0%}."
        )
    return text + f" Measured by `{record['command']}` in {record['seconds']:.0f} s.\n"


def main(args: Args) -> int:
    """Measure, print and write."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    measured = measure(args)
    elapsed = time.time() - start
    command = ("python benchmark/collusion.py " + " ".join(sys.argv[1:])).strip()
    record = {"command": command, "seconds": round(elapsed, 1), "args": asdict(args), **measured}
    text = summary(record)
    print(text)
    (out / "collusion.json").write_text(json.dumps(record, indent=1))
    (out / "collusion.md").write_text(text)
    (out / "marl_eval.json").write_text(
        json.dumps(marl_eval(measured, args), separators=(",", ":"))
    )
    figures(measured, out)
    return 0


if __name__ == "__main__":
    arguments = tyro.cli(Args)
    try:
        check_args(arguments)
    except ValueError as error:
        print(f"collusion.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(arguments))
