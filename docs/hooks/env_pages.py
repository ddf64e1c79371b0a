"""MkDocs hook: environment pages and code-derived tables, generated at build time.

Registered in ``mkdocs.yml`` under ``hooks:``. It keeps the site honest by reading the code:

* one page per id in :data:`stackelberg_zoo.envs.ENV_IDS`, ``envs/<name>.md``, whose body is
  the env module's docstring (PettingZoo's layout) followed by sections computed from the
  code itself: the reference values at the default arguments (the exact solvers run while
  the site builds), the constructor's arguments and defaults (from its signature), and the
  setting's Stackelberg POMDP ids and phase lengths (from ``POMDP_SETTINGS``);
* ``<!-- generated: NAME -->`` markers in the hand-written pages, replaced by the tables of
  :data:`GENERATORS` (an unknown name fails the build);
* the sources linked under ``build/docs-api/stackelberg_zoo/`` for mkdocstrings: the
  editable install maps ``stackelberg_zoo.envs`` to the folder ``envs/``, a renaming that
  griffe's static loader cannot follow.

Any failure (an env module that does not import, a reference solver that raises) stops the
build with a :class:`~mkdocs.exceptions.PluginError` naming the environment.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import posixpath
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (``docs/hooks/`` is two levels below it)."""

API_SOURCE = ROOT / "build" / "docs-api"
"""Where the package's sources are linked for mkdocstrings (``paths`` in ``mkdocs.yml``)."""

ENV_SECTION = "Environments"
"""The nav section that receives the generated environment pages."""

_MARKER = re.compile(r"<!--\s*generated:\s*([\w-]+)\s*-->")


# ----------------------------------------------------------------------------- env pages


@dataclass(frozen=True)
class EnvDoc:
    """One environment's documentation, read from its module.

    Attributes:
        env_id: Registry id, ``"stackelberg/<name>-v<N>"``.
        module: Import path of the env module.
        uri: Path of the generated page inside ``docs/`` (``"envs/<name>.md"``).
        title: Page title: the docstring's ``#`` heading, else its summary line up to ``:``.
        lead: The rest of the summary line (``""`` when the docstring opens with a heading).
        body: The docstring after the title and lead, headings shifted so that sections
            are ``##``.
        parallel: Whether a parallel environment is registered for the id.
    """

    env_id: str
    module: str
    uri: str
    title: str
    lead: str
    body: str
    parallel: bool


def page_uri(env_id: str) -> str:
    """``"stackelberg/normal-form-v0"`` -> ``"envs/normal-form.md"`` (the version is dropped).

    Raises:
        ValueError: If ``env_id`` is not ``"<namespace>/<name>-v<N>"``.
    """
    match = re.fullmatch(r"[\w-]+/([\w-]+?)-v\d+", env_id)
    if match is None:
        raise ValueError(f"env id must look like 'namespace/name-vN', got {env_id!r}")
    return f"envs/{match.group(1)}.md"


def split_docstring(doc: str) -> tuple[str, str, str]:
    """Split an env module docstring into ``(title, lead, body)``.

    Two layouts are accepted: PettingZoo's, which opens with a ``# Title`` line, and a
    summary line ``"Title: what it is."`` followed by the table. Section headings in the
    body are shifted so that the shallowest one is ``##`` (the page title is the only ``#``).

    Raises:
        ValueError: If the docstring is empty or its first line has neither form.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(f"an env module docstring must open with a title, got {doc!r}")
    first, rest = lines[0].strip(), lines[1:]
    if first.startswith("# "):
        title, lead = first[2:].strip(), ""
    else:
        title, sep, lead = first.partition(":")
        if not sep or not lead.strip():
            raise ValueError(
                "an env docstring's first line must be '# Title' or 'Title: summary', "
                f"got {first!r}"
            )
        lead = lead.strip()
        lead = lead[0].upper() + lead[1:]
    body = _merge_continuation_rows("\n".join(rest).strip() + "\n")
    return title.strip(), lead, _shift_headings(body)


def _merge_continuation_rows(markdown: str) -> str:
    """Join table rows whose first cell is blank onto the row above.

    PettingZoo wraps long cells that way; markdown would show them as separate rows.
    """
    out: list[str] = []
    for line in markdown.splitlines():
        cells = _split_row(line)
        previous = _split_row(out[-1]) if out else None
        if (
            cells is not None
            and previous is not None
            and not _is_separator(previous)
            and not _is_separator(cells)
            and not cells[0]
            and len(cells) == len(previous)
        ):
            merged = [f"{a} {b}".strip() for a, b in zip(previous, cells, strict=True)]
            out[-1] = "| " + " | ".join(merged) + " |"
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _is_separator(cells: list[str]) -> bool:
    return all(re.fullmatch(r":?-+:?", c) for c in cells)


def _split_row(line: str) -> list[str] | None:
    """The cells of a markdown table row, or ``None`` if ``line`` is not one."""
    stripped = line.strip()
    if not (stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1):
        return None
    return [c.strip() for c in re.split(r"(?<!\\)\|", stripped[1:-1])]


def _shift_headings(markdown: str) -> str:
    """Shift ATX headings outside code fences so that the shallowest is level 2."""
    lines, fenced, levels = markdown.splitlines(), False, []
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{1,6}) ", line)):
            levels.append(len(match.group(1)))
    if not levels:
        return markdown
    shift = 2 - min(levels)
    out, fenced = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{1,6}) ", line)):
            line = "#" * (len(match.group(1)) + shift) + line[len(match.group(1)) :]
        out.append(line)
    return "\n".join(out) + "\n"


def env_docs() -> list[EnvDoc]:
    """Read every registered environment's docstring, in registry order.

    Raises:
        PluginError: If an env module cannot be imported or its docstring has no title.
    """
    import stackelberg_zoo.envs as zoo

    docs = []
    for registration in zoo.REGISTRATIONS:
        module = _import_env(registration)
        try:
            title, lead, body = split_docstring(module.__doc__)
        except ValueError as error:
            raise PluginError(f"{registration.id}: {error}") from error
        docs.append(
            EnvDoc(
                registration.id,
                registration.module,
                page_uri(registration.id),
                title,
                lead,
                body,
                registration.parallel,
            )
        )
    return docs


def _import_env(registration) -> Any:
    try:
        return importlib.import_module(registration.module)
    except ImportError as error:
        raise PluginError(
            f"{registration.id}: its env module {registration.module!r} does not import "
            f"({error}); every registered id needs a page"
        ) from error


def docstring_arguments(doc: str) -> dict[str, Any]:
    """Keyword arguments of the ``make(...)`` call in the docstring's ``Arguments`` block.

    Returns:
        ``{name: default}`` for every keyword of the first ``make(...)`` call found in a
        Python code block of ``doc`` (values must be literals).

    Raises:
        ValueError: If no such call is there, or a value is not a literal.
    """
    for block in re.findall(r"```python\n(.*?)```", doc or "", re.S):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "make":
                try:
                    return {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
                except ValueError as error:
                    raise ValueError(
                        f"the Arguments block must use literal defaults: {error}"
                    ) from error
    raise ValueError("the docstring has no ```python block with a make(...) call")


def signature_defaults(env_class: type) -> dict[str, Any]:
    """``{name: default}`` of ``env_class.__init__`` (without ``self``).

    Raises:
        ValueError: If an argument has no default (PettingZoo's registry passes keywords).
    """
    out = {}
    for name, parameter in inspect.signature(env_class.__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        if parameter.default is inspect.Parameter.empty:
            raise ValueError(f"{env_class.__qualname__}.__init__ argument {name!r} has no default")
        out[name] = parameter.default
    return out


_REFERENCES: dict[str, Any] = {}


def default_reference(env_doc: EnvDoc) -> Any:
    """The setting's :class:`~stackelberg_zoo.envs.core.Reference` at default arguments.

    Computed once per process by the setting's exact solver.

    Raises:
        PluginError: If building the env or its reference fails.
    """
    if env_doc.env_id not in _REFERENCES:
        module = importlib.import_module(env_doc.module)
        try:
            _REFERENCES[env_doc.env_id] = module.env().unwrapped.game.reference()
        except Exception as error:  # any solver failure must stop the build, named
            raise PluginError(f"{env_doc.env_id}: reference() failed: {error!r}") from error
    return _REFERENCES[env_doc.env_id]


def format_value(value: float) -> str:
    """A float with 6 significant digits, and its fraction when it is a simple one."""
    if abs(value) < 1e-12:  # no "-0" or "1e-17" for a value that is zero up to round-off
        value = 0.0
    text = f"{value:.6g}"
    fraction = Fraction(value).limit_denominator(100)
    if fraction.denominator > 1 and abs(float(fraction) - value) < 1e-9:
        text += f" ({fraction})"
    return text


def pomdp_setting_for(env_doc: EnvDoc) -> Any | None:
    """The ``PomdpSetting`` whose game lives in the same setting package, if any."""
    from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS

    package = env_doc.module.rsplit(".", 1)[0]
    for setting in POMDP_SETTINGS:
        if setting.game_type.partition(":")[0].rsplit(".", 1)[0] == package:
            return setting
    return None


def render_env_page(env_doc: EnvDoc) -> str:
    """The full markdown of one environment page."""
    module = importlib.import_module(env_doc.module)
    reference = default_reference(env_doc)
    parts = [f"# {env_doc.title}\n"]
    if env_doc.lead:
        parts.append(f"*{env_doc.lead}*\n")
    parts.append(
        f'!!! info "Generated page"\n    This page is the docstring of `{env_doc.module}` '
        f"(id `{env_doc.env_id}`), followed by values computed from the code when the "
        "site was built.\n"
    )
    parts.append(env_doc.body)
    parts.append("## Reference values at the default arguments\n")
    parts.append(
        "Computed while this page was built, by `env.unwrapped.game.reference()` "
        "(exact solvers, nothing typed in).\n"
    )
    rows = [("optimum", format_value(reference.optimum))]
    rows += [(f"baseline `{k}`", format_value(v)) for k, v in reference.baselines.items()]
    parts.append(_table(("quantity", "value"), rows))
    parts.append(f"Follower model: {reference.follower_model}.\n")
    parts.append("## Constructor arguments\n")
    parts.append(f"From the signature of `{env_doc.module}.raw_env`:\n")
    defaults = signature_defaults(module.raw_env)
    parts.append(
        _table(("argument", "default"), [(f"`{k}`", f"`{v!r}`") for k, v in defaults.items()])
    )
    setting = pomdp_setting_for(env_doc)
    parts.append("## Stackelberg POMDP\n")
    if setting is None:
        parts.append("No Stackelberg POMDP is registered for this setting.\n")
    else:
        parts.append(
            "The leader's environment with the followers' response algorithm inside "
            "(see [the POMDP page](../pomdp.md)):\n"
        )
        parts.append(
            _table(
                ("", ""),
                [
                    ("PettingZoo id", f'`make("aec", "{setting.pettingzoo_id}")`'),
                    ("Gymnasium id", f'`gymnasium.make("{setting.gymnasium_id}")`'),
                    ("response sub-games per episode (default)", str(setting.n_response)),
                    ("reward sub-games per episode (default)", str(setting.n_reward)),
                ],
            )
        )
    return "\n".join(parts)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header))] + [line(r) for r in rows]) + "\n"


# ----------------------------------------------------------------------------- tables


def _link(target_uri: str, from_uri: str) -> str:
    return posixpath.relpath(target_uri, posixpath.dirname(from_uri) or ".")


def env_table(page_uri_: str) -> str:
    """Every environment: page, id, agents, parallel API, optimum at defaults, POMDP id."""
    rows = []
    for doc in env_docs():
        module = importlib.import_module(doc.module)
        agents = ", ".join(f"`{a}`" for a in module.raw_env().possible_agents)
        setting = pomdp_setting_for(doc)
        rows.append(
            (
                f"[{doc.title}]({_link(doc.uri, page_uri_)})",
                f"`{doc.env_id}`",
                agents,
                "yes" if doc.parallel else "no",
                format_value(default_reference(doc).optimum),
                f"`{setting.pettingzoo_id}`" if setting else "none",
            )
        )
    header = ("setting", "id", "agents", "parallel API", "optimum (defaults)", "POMDP id")
    return _table(header, rows)


def pomdp_settings_table(page_uri_: str) -> str:
    """Every setting's Stackelberg POMDP: both ids and the default phase lengths."""
    from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS

    rows = [
        (
            f"`{s.name}`",
            f"`{s.pettingzoo_id}`",
            f"`{s.gymnasium_id}`",
            str(s.n_response),
            str(s.n_reward),
        )
        for s in POMDP_SETTINGS
    ]
    header = ("setting", "PettingZoo id", "Gymnasium id", "response sub-games", "reward sub-games")
    return _table(header, rows)


def follower_table(page_uri_: str) -> str:
    """Every follower response algorithm by name: class, default hyperparameters, summary."""
    from stackelberg_zoo.envs.pomdp.followers import FOLLOWER_ALGORITHMS

    rows = []
    for name, factory in FOLLOWER_ALGORITHMS.items():
        algorithm = factory()
        summary = inspect.getdoc(type(algorithm)).splitlines()[0]
        rows.append((f'`"{name}"`', f"`{algorithm!r}`", summary))
    return _table(("`followers=`", "default instance", "what it is"), rows)


def citation_bibtex(page_uri_: str) -> str:
    """BibTeX for the software and for each reference of ``CITATION.cff``.

    Raises:
        PluginError: If ``CITATION.cff`` lacks a field the entries need.
    """
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    try:
        entries = [_bibtex_software(cff)] + [_bibtex_article(r) for r in cff["references"]]
    except (KeyError, TypeError) as error:
        raise PluginError(f"CITATION.cff lacks a field the BibTeX needs: {error!r}") from error
    return "```bibtex\n" + "\n\n".join(entries) + "\n```\n"


def _bibtex_authors(authors: list[dict]) -> str:
    names = []
    for author in authors:
        if "family-names" in author:
            names.append(f"{author['family-names']}, {author['given-names']}")
        else:
            names.append("{" + author["name"] + "}")
    return " and ".join(names)


def _bibtex_software(cff: dict) -> str:
    return (
        "@software{stackelberg_zoo,\n"
        f"  title   = {{{cff['title']}}},\n"
        f"  author  = {{{_bibtex_authors(cff['authors'])}}},\n"
        f"  version = {{{cff['version']}}},\n"
        f"  license = {{{cff['license']}}}\n"
        "}"
    )


def _bibtex_article(reference: dict) -> str:
    first = reference["authors"][0].get("family-names", "ref").lower()
    arxiv = next(
        i["value"] for i in reference["identifiers"] if str(i["value"]).startswith("arXiv:")
    )
    return (
        f"@article{{{first}{reference['year']},\n"
        f"  title   = {{{reference['title']}}},\n"
        f"  author  = {{{_bibtex_authors(reference['authors'])}}},\n"
        f"  year    = {{{reference['year']}}},\n"
        f"  journal = {{arXiv preprint {arxiv}}},\n"
        f"  url     = {{{reference['url']}}}\n"
        "}"
    )


# ----------------------------------------------------------------------------- trainers

TRAINERS: tuple[str, ...] = ("mappo", "random_search", "ippo_simultaneous")
"""The planned trainers, ``baselines/<name>.py``, in the order of the Trainers page."""

METRICS: dict[str, str] = {
    "charts/episodic_return": "return of each finished training episode: the leader's average "
    "reward-phase utility against the followers' learned response (response-phase rewards are 0)",
    "charts/best_return": "the best single-episode return of any policy tried so far (random "
    "search keeps that policy)",
    "charts/episodic_return-{name}": "independent PPO: the episode return of agent `{name}` "
    "(`leader_0`, `follower_0`, ...) in the multi-agent game",
    "losses/policy_loss-{name}": "independent PPO: agent `{name}`'s clipped surrogate loss",
    "losses/value_loss-{name}": "independent PPO: agent `{name}`'s critic loss",
    "losses/entropy-{name}": "independent PPO: the entropy of agent `{name}`'s policy",
    "charts/eval_return": "mean return of the evaluation episodes of the greedy committed policy",
    "charts/learning_rate": "the optimizer's current learning rate (annealed if configured)",
    "charts/SPS": "leader steps per second of wall time",
    "charts/action_std": "mean std of the clipped-Gaussian head in box-width units (Box actions)",
    "charts/time_to_target": "wall-clock seconds until the evaluation first reached the target",
    "charts/restarts": "random search with `--restart-after`: how many times the local search "
    "has started over, logged at each restart",
    "losses/value_loss": "the critic's mean squared error against the GAE returns",
    "losses/policy_loss": "PPO's clipped surrogate policy loss",
    "losses/entropy": "mean entropy of the leader's action distribution",
    "losses/old_approx_kl": "KL estimate `mean(-log ratio)` between the old and the new policy",
    "losses/approx_kl": "KL estimate `mean((ratio - 1) - log ratio)`, the less biased one",
    "losses/clipfrac": "fraction of samples whose probability ratio was clipped",
    "losses/explained_variance": "how much of the returns' variance the critic's values explain "
    "(1 is perfect, 0 is no better than a constant)",
    "equilibrium/leader_value": "exact expected leader utility of the greedy committed policy "
    "against the followers' learned reward-phase strategies, in the induced Bayesian game",
    "equilibrium/optimal_value": "the setting's exact optimum, `env.unwrapped.game.reference()`",
    "equilibrium/optimality_gap": "`optimal_value - leader_value` (0 at the optimum)",
    "equilibrium/bcce_gap": "ex-ante Bayesian coarse-correlated equilibrium gap of the "
    "followers' response-phase play (the POMDP's `ResponseReport.gaps`)",
    "equilibrium/bcce_gap_bound": "the followers' regret bound per round, which the learners' "
    "regret never exceeds (`ResponseReport.certificate`)",
    "equilibrium/follower_deviation_gain": "the largest interim gain of any follower type from "
    "deviating from its learned strategy against the committed policy (0: an equilibrium); "
    "under `--protocol certified`, the interim gap of the certified (possibly correlated) response",
    "equilibrium/certification_rate": "`--protocol certified`: the fraction of evaluation "
    "episodes whose response passed the gap threshold (`ResponseReport.certification`); the "
    "target counts only evaluations at 1",
    "equilibrium/certification_gap": "`--protocol certified`: mean gap, in the certification's "
    "notion, of the responses the evaluation episodes chose",
    "equilibrium/extra_updates": "`--protocol certified`: mean number of extension updates "
    "(follower updates past the fixed response prefix) of the evaluation episodes",
}
"""What every metric a trainer logs means; a logged name missing here fails the docs tests."""


@dataclass(frozen=True)
class TrainerArg:
    """One field of a trainer's ``Args`` dataclass, read from its source.

    Attributes:
        name: The field name (the flag is ``--`` plus the name with ``-`` for ``_``).
        annotation: The type annotation, as written.
        default: The default, as written.
        doc: The docstring under the field.
    """

    name: str
    annotation: str
    default: str
    doc: str


def trainer_args(source: str) -> list[TrainerArg]:
    """The fields of the ``Args`` dataclass of a trainer's source (parsed, never imported).

    Raises:
        ValueError: If the source defines no ``Args`` class.
    """
    tree = ast.parse(source)
    args = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Args"), None)
    if args is None:
        raise ValueError("the trainer defines no `Args` dataclass")
    out, body = [], args.body
    for k, node in enumerate(body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            following = body[k + 1] if k + 1 < len(body) else None
            doc = (
                inspect.cleandoc(following.value.value)
                if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                else ""
            )
            default = "" if node.value is None else ast.get_source_segment(source, node.value)
            out.append(
                TrainerArg(
                    node.target.id,
                    ast.get_source_segment(source, node.annotation),
                    default or "",
                    " ".join(doc.split()),
                )
            )
    return out


def trainer_metrics(source: str) -> list[str]:
    """Every literal metric name passed to ``add_scalar`` in a trainer's source, in order."""
    names = re.findall(r"add_scalar\(\s*f?[\"']([^\"']+)[\"']", source)
    return list(dict.fromkeys(names))


TRAINER_DETAILS = ROOT / "docs" / "baselines"
"""One markdown file per trainer, ``<name>.md``: its numbered implementation details."""

# How a figure of the page's previous sweep is captioned where this sweep has not drawn it yet.
PREVIOUS = " (previous sweep, rerun pending: an earlier code version, mean ± std over seeds)"


@dataclass(frozen=True)
class TrainerDoc:
    """A trainer's module docstring and implementation details, for the Trainers page.

    Attributes:
        intro: What the trainer is and how to run it (its module docstring).
        details: The numbered "Implementation details" list, as markdown
            (``docs/baselines/<name>.md``).
        n_details: How many numbered items the list has.
        command: The example command of the docstring (its indented ``python baselines/``
            line, continuation lines included), or ``""`` if it has none.
    """

    intro: str
    details: str
    n_details: int
    command: str


def split_trainer_docstring(doc: str, details: str) -> TrainerDoc:
    """A trainer's module docstring and its details file, checked, for the Trainers page.

    Raises:
        ValueError: If ``details`` is not a list numbered 1, 2, ...
    """
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", details, re.M)]
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(
            f"the implementation details must be a list numbered 1, 2, ..., got {numbers}"
        )
    match = re.search(r"^    (python baselines/(?:\\\n|[^\n])*)", doc or "", re.M)
    # one line: shell continuations dropped (a non-raw docstring has already lost them)
    command = " ".join(re.sub(r"\\\n", " ", match.group(1)).split()) if match else ""
    return TrainerDoc((doc or "").strip() + "\n", details.strip() + "\n", len(numbers), command)


def read_trainer_doc(name: str) -> tuple[str, TrainerDoc]:
    """``(source, doc)`` of ``baselines/<name>.py`` with ``docs/baselines/<name>.md``.

    Raises:
        ValueError: If the details file is missing or not a numbered list.
    """
    source = (ROOT / "baselines" / f"{name}.py").read_text(encoding="utf-8")
    path = TRAINER_DETAILS / f"{name}.md"
    if not path.exists():
        raise ValueError(f"{path} (the trainer's implementation details) is missing")
    doc = ast.get_docstring(ast.parse(source)) or ""
    return source, split_trainer_docstring(doc, path.read_text(encoding="utf-8"))


_SWEEP: list[Any] = []


def sweep_module() -> Any:
    """``benchmark/reproduce.py``, imported once: its ``EXPERIMENTS`` and ``FIGURES``.

    Raises:
        PluginError: If it does not import.
    """
    if not _SWEEP:
        path = ROOT / "benchmark" / "reproduce.py"
        spec = importlib.util.spec_from_file_location("stackelberg_zoo_docs_reproduce", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # any import failure must stop the build, named
            del sys.modules[spec.name]
            raise PluginError(f"{path} does not import: {error!r}") from error
        _SWEEP.append(module)
    return _SWEEP[0]


@dataclass(frozen=True)
class ResultRows:
    """Rows of the "All experiments" table of ``docs/results.md``.

    Attributes:
        header: The table's header cells.
        rows: The rows whose first cell is one of the requested experiments, in page order.
        missing: Requested experiments with no row (no finished run).
        generated: The page's "Generated on" date, or ``""``.
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    missing: tuple[str, ...]
    generated: str


def result_rows(markdown: str, experiments: list[str]) -> ResultRows:
    """The rows of the results page's "All experiments" table for ``experiments``.

    Raises:
        ValueError: If the page has no "## All experiments" table.
    """
    _, sep, section = markdown.partition("\n## All experiments\n")
    table = [c for line in section.split("\n## ")[0].splitlines() if (c := _split_row(line))]
    if not sep or len(table) < 2:
        raise ValueError("the results page has no '## All experiments' table")
    header, body = tuple(table[0]), [tuple(r) for r in table[1:] if not _is_separator(r)]
    name = {row[0].strip("`"): row for row in body}
    rows = tuple(row for row in body if row[0].strip("`") in experiments)
    missing = tuple(e for e in experiments if e not in name)
    date = re.search(r"^Generated on ([\w-]+)", markdown, re.M)
    return ResultRows(header, rows, missing, date.group(1) if date else "")


def trainer_results(name: str, page_uri_: str) -> str:
    """The "Results" section of a trainer: its rows of the results page and its curves.

    The experiments are those of ``benchmark/reproduce.py`` whose ``trainer`` is ``name``;
    the numbers are read from ``docs/results.md`` and the curves are the PNGs of the sweep's
    figures that plot them and exist under ``docs/assets/results/``. Nothing is typed in.

    Raises:
        PluginError: If the results page has no "All experiments" table.
    """
    sweep = sweep_module()
    mine = [e.name for e in sweep.EXPERIMENTS if e.trainer == name]
    results_page = ROOT / "docs" / "results.md"
    link = _link("results.md", page_uri_)
    if not mine:
        return _not_swept(name, link)
    if not results_page.exists():
        return (
            "### Results\n\nNo benchmark results yet: `python benchmark/reproduce.py` runs "
            f"{len(mine)} experiments with this trainer and writes `docs/results.md`.\n"
        )
    try:
        found = result_rows(results_page.read_text("utf-8"), mine)
    except ValueError as error:
        raise PluginError(f"docs/results.md: {error}") from error
    when = f", generated on {found.generated}" if found.generated else ""
    parts = [
        "### Results\n",
        f"The benchmark sweep runs `{name}` in {len(mine)} experiments. Their rows of the "
        f"[Results]({link}) page (written by `benchmark/reproduce.py`{when}; the columns, the "
        "targets and the failed runs are explained there):\n",
        _table(found.header, list(found.rows)),
    ]
    if found.missing:
        parts.append(
            "No finished run yet (see the failed runs on the Results page): "
            + ", ".join(f"`{m}`" for m in found.missing)
            + ".\n"
        )
    images = []
    for figure in sweep.FIGURES:
        if not set(figure.experiments) & set(mine):
            continue
        for folder, note in (("assets/results", ""), ("assets/results/previous", PREVIOUS)):
            png = f"{folder}/{figure.name}.png"
            if not (ROOT / "docs" / png).exists():
                continue
            images.append(f"![{figure.title}{note}]({_link(png, page_uri_)})\n")
            bcce = f"{folder}/{figure.name}-bcce.png"
            if (ROOT / "docs" / bcce).exists():
                images.append(f"[{figure.title}{note}: BCCE gap]({_link(bcce, page_uri_)})\n")
            break
    if images:
        parts.append(
            "Learning curves of the sweep (IQM over seeds of the exact leader value with its 95% "
            "bootstrap band; dashed: the exact optimum; dotted: the setting's baseline; each "
            "link shows the followers' BCCE gap):\n"
        )
        parts.extend(images)
    return "\n".join(parts)


def _not_swept(name: str, results_link: str) -> str:
    """The "Results" section of a trainer that the sweep does not run: why, and a command."""
    from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS

    source, doc = read_trainer_doc(name)
    env_default = next(
        (a.default.strip("\"'") for a in trainer_args(source) if a.name == "env_id"), ""
    )
    if env_default in {s.gymnasium_id for s in POMDP_SETTINGS}:
        why = (
            "It takes the same Stackelberg POMDP ids as `mappo`, so adding it is one "
            f'`Experiment(..., trainer="{name}")` in `EXPERIMENTS` of `benchmark/reproduce.py`.'
        )
    else:
        why = (
            f"It takes a base game's PettingZoo id (default `{env_default}`), while the sweep "
            "passes every trainer a Stackelberg POMDP id, so the sweep cannot run it as it "
            "stands."
        )
    command = doc.command or f"python baselines/{name}.py --help"
    return (
        "### Results\n\n"
        "No measured results: the benchmark sweep (`benchmark/reproduce.py`) does not run "
        f"`{name}` yet, so the [Results]({results_link}) page has no row for it. {why} To run "
        "it yourself (add `--seed`, `--total-timesteps`, ... as needed; the exact evaluation "
        "is logged under `equilibrium/` in `runs/`):\n\n"
        f"```bash\n{command}\n```\n"
    )


def trainer_sections(page_uri_: str) -> str:
    """One section per trainer: docstring, flags, metrics, implementation details, results.

    Raises:
        PluginError: If a trainer logs an unexplained metric or its docstring has no
            numbered implementation details.
    """
    parts = []
    for name in TRAINERS:
        path = ROOT / "baselines" / f"{name}.py"
        parts.append(f"## `{name}`\n")
        if not path.exists():
            parts.append(f"Planned: `baselines/{name}.py` is not in the repository yet.\n")
            continue
        try:
            source, doc = read_trainer_doc(name)
        except ValueError as error:
            raise PluginError(f"baselines/{name}.py: {error}") from error
        parts.append(f"From `baselines/{name}.py`, read when this site was built.\n")
        parts.append(doc.intro)
        parts.append("### Usage\n")
        parts.append(
            f"```bash\n.venv/bin/python baselines/{name}.py --help\n```\n\n"
            "Every field of its `Args` dataclass is a flag (`--total-timesteps`, ...):\n"
        )
        rows = [
            (f"`--{a.name.replace('_', '-')}`", f"`{a.annotation}`", f"`{a.default}`", a.doc)
            for a in trainer_args(source)
        ]
        parts.append(_table(("flag", "type", "default", "meaning"), rows))
        parts.append("### Logged metrics\n")
        metrics = trainer_metrics(source)
        missing = [m for m in metrics if m not in METRICS]
        if missing:
            raise PluginError(
                f"baselines/{name}.py logs unexplained metrics {missing}: add them to METRICS"
            )
        parts.append(_table(("metric", "meaning"), [(f"`{m}`", METRICS[m]) for m in metrics]))
        parts.append("### Implementation details\n")
        parts.append(doc.details)
        parts.append(trainer_results(name, page_uri_))
    return "\n".join(parts)


GENERATORS: dict[str, Callable[[str], str]] = {
    "trainers": trainer_sections,
    "env-table": env_table,
    "pomdp-settings": pomdp_settings_table,
    "follower-algorithms": follower_table,
    "citation-bibtex": citation_bibtex,
    "reproduce-commands": lambda uri: sweep_module().commands_markdown(),
}
"""``<!-- generated: NAME -->`` -> the function that renders it (given the page's uri)."""


def expand_markers(markdown: str, uri: str) -> str:
    """Replace every ``<!-- generated: NAME -->`` marker of a page by its table.

    Raises:
        PluginError: On a marker whose name is not in :data:`GENERATORS`.
    """

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise PluginError(
                f"{uri}: unknown generated block {name!r}; known: {sorted(GENERATORS)}"
            )
        return GENERATORS[name](uri)

    return _MARKER.sub(replace, markdown)


# ----------------------------------------------------------------------------- API sources


def stage_api_sources() -> None:
    """Link ``envs/`` and ``equilibrium/`` as ``build/docs-api/stackelberg_zoo/{envs,...}``."""
    package = API_SOURCE / "stackelberg_zoo"
    package.mkdir(parents=True, exist_ok=True)
    for name in ("envs", "equilibrium"):
        link, target = package / name, ROOT / name
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        try:
            link.symlink_to(target, target_is_directory=True)
        except FileExistsError:  # a concurrent build (pytest-xdist) made it in between
            if not (link.is_symlink() and Path(os.readlink(link)) == target):
                raise


# mkdocstrings expands its ``paths`` when its handler starts, possibly before any ``on_config``
# of this hook runs, and silently drops a path that does not exist yet: stage at import time
# (MkDocs imports hooks while it validates the config, before any plugin event).
stage_api_sources()


# ----------------------------------------------------------------------------- mkdocs events


def on_config(config, **kwargs):
    """Put one nav entry per environment in its section."""
    nav = config.get("nav")
    section = next(
        (item for item in nav or [] if isinstance(item, dict) and ENV_SECTION in item), None
    )
    if section is None:
        raise PluginError(f"mkdocs.yml nav needs a {ENV_SECTION!r} section for the env pages")
    entries = [e for e in section[ENV_SECTION] if not _is_generated_entry(e)]
    section[ENV_SECTION] = entries + [{doc.title: doc.uri} for doc in env_docs()]
    return config


def _is_generated_entry(entry) -> bool:
    return isinstance(entry, dict) and any(
        isinstance(v, str) and v in {d.uri for d in env_docs()} for v in entry.values()
    )


def on_files(files, config, **kwargs):
    """Add one generated page per environment."""
    for doc in env_docs():
        if files.get_file_from_path(doc.uri) is not None:
            raise PluginError(f"{doc.uri} is generated from {doc.module}; delete the hand copy")
        files.append(File.generated(config, doc.uri, content=render_env_page(doc)))
    return files


def on_page_markdown(markdown, page, config, files, **kwargs):
    """Expand the ``<!-- generated: NAME -->`` markers."""
    return expand_markers(markdown, page.file.src_uri)
