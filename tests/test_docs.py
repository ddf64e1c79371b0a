"""The documentation cannot rot: its examples run, its generated pages exist, its claims hold.

* every ```python block of ``docs/**/*.md`` and ``README.md`` runs (one namespace per page,
  blocks in order), and so does every env docstring's ``make(...)`` block;
* every registered env id gets a generated page and a nav entry, built from its docstring,
  whose ``Arguments`` defaults must equal the constructor's signature;
* the status page cites only tests that exist and covers every env, follower model and
  trainer; the API pages cover every module; the changelog lists every env version;
  ``CITATION.cff`` is valid and agrees with ``pyproject.toml``;
* the docstring converters of ``docs/hooks/griffe_rst.py`` give known outputs.

``mkdocs build --strict`` itself (broken links, missing pages) runs in ``make test``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import re
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import stackelberg_zoo.envs as zoo
from stackelberg_zoo.envs.pomdp.followers import FOLLOWER_ALGORITHMS
from stackelberg_zoo.envs.pomdp.registration import POMDP_SETTINGS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def load_hook(name: str):
    spec = importlib.util.spec_from_file_location(
        f"docs_hook_{name}", DOCS / "hooks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


env_pages = load_hook("env_pages")
griffe_rst = load_hook("griffe_rst")

PAGES = sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts) + [ROOT / "README.md"]


def fenced_blocks(markdown: str, language: str) -> list[str]:
    """The bodies of the fenced code blocks of ``language`` (fences at the start of a line)."""
    pattern = rf"^(`{{3,}}){language}[ \t]*\n(.*?)^\1[ \t]*$"
    return [m.group(2) for m in re.finditer(pattern, markdown, re.M | re.S)]


# ----------------------------------------------------------------------------- examples run


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_of_the_page_runs(page):
    blocks = fenced_blocks(page.read_text(encoding="utf-8"), "python")
    # A real module, so that dataclasses defined in an example can find their module.
    module = types.ModuleType(f"docs_example_{page.stem}")
    sys.modules[module.__name__] = module
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for k, block in enumerate(blocks):
                code = compile(block, f"{page.relative_to(ROOT)} [python block {k}]", "exec")
                exec(code, module.__dict__)
    finally:
        del sys.modules[module.__name__]


def test_pages_with_examples_are_the_ones_expected():
    # A fence typo (```pyhton) would silently drop an example: pin which pages have some.
    with_code = {
        str(p.relative_to(ROOT)) for p in PAGES if fenced_blocks(p.read_text("utf-8"), "python")
    }
    assert {
        "README.md",
        "docs/quickstart.md",
        "docs/envs/index.md",
        "docs/pomdp.md",
        "docs/equilibrium.md",
        "docs/contributing.md",
    } <= with_code
    for page in PAGES:
        text = page.read_text("utf-8")
        fences = re.findall(r"^`{3,}(\S*)", text, re.M)
        languages = {f for f in fences if f}
        assert languages <= {"python", "bash", "bibtex", "yaml"}, (page, languages)


@pytest.mark.parametrize("registration", zoo.REGISTRATIONS, ids=lambda r: r.id)
def test_env_docstring_make_block_runs(registration):
    module = importlib.import_module(registration.module)
    blocks = fenced_blocks(module.__doc__, "python")
    assert blocks, f"{registration.module} has no python block in its docstring"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, f"{registration.module} docstring", "exec"), namespace)


# ----------------------------------------------------------------------------- env pages


@pytest.mark.parametrize("registration", zoo.REGISTRATIONS, ids=lambda r: r.id)
def test_env_docstring_arguments_equal_the_signature(registration):
    module = importlib.import_module(registration.module)
    documented = env_pages.docstring_arguments(module.__doc__)
    actual = env_pages.signature_defaults(module.raw_env)
    assert documented == actual


def test_every_env_id_has_a_generated_page_and_a_nav_entry():
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    # The events as mkdocs runs them: every plugin, and the hook as mkdocs.yml registers it.
    config = load_config(str(ROOT / "mkdocs.yml"))
    config = config.plugins.on_config(config)
    nav_section = next(i for i in config["nav"] if isinstance(i, dict) and "Environments" in i)
    nav_uris = [v for e in nav_section["Environments"] if isinstance(e, dict) for v in e.values()]
    files = config.plugins.on_files(get_files(config), config=config)
    assert len(zoo.ENV_IDS) == len(zoo.REGISTRATIONS) >= 4
    for env_id in zoo.ENV_IDS:
        uri = env_pages.page_uri(env_id)
        assert uri in nav_uris, env_id
        page = files.get_file_from_path(uri)
        assert page is not None, env_id
        content = page.content_string
        module = importlib.import_module(
            next(r.module for r in zoo.REGISTRATIONS if r.id == env_id)
        )
        reference = module.env().unwrapped.game.reference()
        assert content.startswith("# ")
        assert f"`{env_id}`" in content
        assert "| Creation" in content and "Version History" in content
        assert f"| optimum | {env_pages.format_value(reference.optimum)}" in content
        assert "## Constructor arguments" in content and "## Stackelberg POMDP" in content
    # Calling the hook twice (mkdocs serve rebuilds) must not duplicate the nav entries.
    again = env_pages.on_config(config)
    section = next(i for i in again["nav"] if isinstance(i, dict) and "Environments" in i)
    assert len(section["Environments"]) == 1 + len(zoo.ENV_IDS)


def test_a_hand_written_env_page_is_refused():
    from mkdocs.config import load_config
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File, Files

    config = load_config(str(ROOT / "mkdocs.yml"))
    uri = env_pages.page_uri(zoo.ENV_IDS[0])
    files = Files([File(uri, src_dir=str(DOCS), dest_dir=config.site_dir, use_directory_urls=True)])
    with pytest.raises(PluginError, match="delete the hand copy"):
        env_pages.on_files(files, config)


def test_split_docstring_accepts_both_layouts_and_rejects_others():
    title, lead, body = env_pages.split_docstring(
        "# Title\n\n| a | b |\n|---|---|\n\n### Arguments\n"
    )
    assert (title, lead) == ("Title", "")
    assert "## Arguments" in body and "### Arguments" not in body
    title, lead, body = env_pages.split_docstring(
        "Matrix design: the leader pays.\n\n| Creation | x |\n|---|---|\n| Agents | a |\n|  | b |\n"
    )
    assert (title, lead) == ("Matrix design", "The leader pays.")
    assert "| Agents | a b |" in body  # a continuation row joins the row above
    assert "| Creation | x |\n|---|---|\n" in body  # never into the header or its separator
    for bad in ("", "No colon here", "Title:   "):
        with pytest.raises(ValueError, match=r"title|first line"):
            env_pages.split_docstring(bad)


def test_page_uri_and_value_formatting():
    assert env_pages.page_uri("stackelberg/normal-form-v0") == "envs/normal-form.md"
    assert env_pages.page_uri("stackelberg/mspm-v12") == "envs/mspm.md"
    with pytest.raises(ValueError, match="'normal-form'"):
        env_pages.page_uri("normal-form")
    assert env_pages.format_value(2 / 3) == "0.666667 (2/3)"
    assert env_pages.format_value(1.0) == "1"
    assert env_pages.format_value(-1 / 18) == "-0.0555556 (-1/18)"
    assert env_pages.format_value(0.123456789) == "0.123457"
    assert env_pages.format_value(-0.0) == env_pages.format_value(-1e-17) == "0"


def test_generated_markers_expand_and_unknown_ones_fail():
    from mkdocs.exceptions import PluginError

    for page in PAGES:
        text = page.read_text("utf-8")
        expanded = env_pages.expand_markers(text, str(page.relative_to(DOCS.parent)))
        assert "<!-- generated" not in expanded
    table = env_pages.expand_markers("<!-- generated: follower-algorithms -->", "pomdp.md")
    for name in FOLLOWER_ALGORITHMS:
        assert f'`"{name}"`' in table
    table = env_pages.expand_markers("<!-- generated: pomdp-settings -->", "pomdp.md")
    for setting in POMDP_SETTINGS:
        assert f"`{setting.gymnasium_id}`" in table and f"| {setting.n_response} |" in table
    table = env_pages.expand_markers("<!-- generated: env-table -->", "envs/index.md")
    assert "[Matrix design](matrix-design.md)" in table  # links relative to the page
    with pytest.raises(PluginError, match="unknown generated block 'nope'"):
        env_pages.expand_markers("<!-- generated: nope -->", "x.md")


# ----------------------------------------------------------------------------- honest claims

STATUS = (DOCS / "status.md").read_text("utf-8")


def test_status_page_cites_only_tests_that_exist():
    cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", STATUS)
    assert len(cited) >= 20
    for path, name in cited:
        source = ROOT / path
        assert source.exists(), path
        assert re.search(rf"^def {name}\(", source.read_text("utf-8"), re.M), f"{path}::{name}"


def test_every_tested_or_verified_mark_cites_a_test():
    components = STATUS.split("## Environments", 1)[1]  # below the legend
    rows = [line for line in components.splitlines() if line.startswith("| ")]
    assert len(rows) >= 20
    claims = (":material-check-decagram:", ":material-check-circle:", ":material-circle-half")
    claiming = [line for line in rows if any(mark in line for mark in claims)]
    assert len(claiming) >= 15
    for line in claiming:
        assert "`tests/" in line, line


def test_status_page_covers_every_env_follower_model_and_trainer():
    for env_id in zoo.ENV_IDS:
        assert f"| `{env_id}` |" in STATUS, env_id
    by_factory: dict = {}
    for name, factory in FOLLOWER_ALGORITHMS.items():
        by_factory.setdefault(factory, []).append(name)
    for names in by_factory.values():
        assert any(f'`"{n}"`' in STATUS for n in names), names
    trainers = dict(re.findall(r"^\| `(\w+)` \| (.+?) \|", STATUS.split("## Trainers")[1], re.M))
    assert set(trainers) >= {"mappo", "random_search", "ippo_simultaneous"}
    files = [p.stem for p in (ROOT / "baselines").glob("*.py") if p.stem != "__init__"]
    for stem in files:
        assert any(stem.startswith(t) for t in trainers), f"baselines/{stem}.py has no status row"
    for trainer, status in trainers.items():
        landed = any(stem.startswith(trainer) for stem in files)
        assert landed != ("not yet available" in status), (trainer, status)


def test_trainer_sections_come_from_the_trainer_source(tmp_path):
    source = (
        '"""A trainer."""\n'
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\n"
        "class Args:\n"
        "    seed: int = 1\n"
        '    """seed of the experiment"""\n'
        '    env_id: str = "StackelbergZoo/NormalFormPOMDP-v0"\n'
        '    """the id of\n    the POMDP"""\n'
        "    total_timesteps: int | None = None\n\n\n"
        "writer.add_scalar('charts/SPS', 1, 0)\n"
        'writer.add_scalar(\n    "losses/entropy", 2, 0\n)\n'
        'writer.add_scalar("charts/SPS", 3, 0)\n'
    )
    args = env_pages.trainer_args(source)
    assert [(a.name, a.annotation, a.default, a.doc) for a in args] == [
        ("seed", "int", "1", "seed of the experiment"),
        ("env_id", "str", '"StackelbergZoo/NormalFormPOMDP-v0"', "the id of the POMDP"),
        ("total_timesteps", "int | None", "None", ""),
    ]
    assert env_pages.trainer_metrics(source) == ["charts/SPS", "losses/entropy"]
    with pytest.raises(ValueError, match="no `Args`"):
        env_pages.trainer_args("x = 1\n")


def test_every_metric_a_trainer_logs_is_explained():
    page = env_pages.trainer_sections("trainers.md")  # raises PluginError on an unexplained one
    for name in env_pages.TRAINERS:
        path = ROOT / "baselines" / f"{name}.py"
        if path.exists():
            for metric in env_pages.trainer_metrics(path.read_text("utf-8")):
                assert f"`{metric}`" in page
        else:
            assert f"Planned: `baselines/{name}.py`" in page
    assert set(env_pages.TRAINERS) <= set(re.findall(r"\| `(\w+)` \|", STATUS))


def test_api_pages_cover_every_module():
    documented = set()
    for page in (DOCS / "api").glob("*.md"):
        documented |= set(re.findall(r"^::: ([\w.]+)", page.read_text("utf-8"), re.M))
    for folder in ("envs", "equilibrium"):
        for source in (ROOT / folder).rglob("*.py"):
            parts = source.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(("stackelberg_zoo", *parts))
            assert name in documented, f"{name} is on no page under docs/api/"


def test_changelog_lists_every_env_version():
    changelog = (ROOT / "CHANGELOG.md").read_text("utf-8")
    for env_id in zoo.ENV_IDS:
        assert f"`{env_id}`" in changelog, env_id
    for setting in POMDP_SETTINGS:
        assert (
            f"`{setting.pettingzoo_id}`" in changelog and f"`{setting.gymnasium_id}`" in changelog
        )


def test_citation_cff_is_valid_and_agrees_with_the_package():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text("utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "version", "license"} <= set(cff)
    assert cff["version"] == project["version"]
    assert cff["license"] == project["license"]
    (paper,) = cff["references"]
    assert paper["type"] == "article"
    assert any(i["value"] == "arXiv:2210.03852" for i in paper["identifiers"])
    assert [a["family-names"] for a in paper["authors"]] == [
        "Brero", "Eden", "Chakrabarti", "Gerstgrasser", "Greenwald", "Li", "Parkes"
    ]  # fmt: skip
    bibtex = env_pages.citation_bibtex("citing.md")
    assert "arXiv:2210.03852" in bibtex and f"version = {{{cff['version']}}}" in bibtex


def test_quickstart_commands_are_the_readmes():
    readme = fenced_blocks((ROOT / "README.md").read_text("utf-8"), "bash")
    quickstart = fenced_blocks((DOCS / "quickstart.md").read_text("utf-8"), "bash")
    assert readme and quickstart[0] == readme[0]


def test_reproduce_commands_cover_every_experiment():
    import shlex

    settings = (DOCS / "settings.md").read_text("utf-8")
    assert "<!-- generated: reproduce-commands -->" in settings
    expanded = env_pages.expand_markers(settings, "settings.md")
    sweep_lines, trainer_lines = (
        [line for line in block.splitlines() if line.strip()]
        for block in fenced_blocks(expanded, "bash")
    )
    reproduce = env_pages.sweep_module()
    assert len(sweep_lines) == len(trainer_lines) == len(reproduce.EXPERIMENTS)
    for experiment, sweep_line, trainer_line in zip(
        reproduce.EXPERIMENTS, sweep_lines, trainer_lines, strict=True
    ):
        words = shlex.split(sweep_line, comments=True)
        assert words == [
            ".venv/bin/python", "benchmark/reproduce.py", "--only", experiment.name
        ]  # fmt: skip
        assert f"# {experiment.seeds} seeds x {experiment.total_timesteps:,} steps" in sweep_line
        (spec, *_) = reproduce.sweep.run_specs([experiment], ROOT / "baselines")
        script, *args = shlex.split(trainer_line)[1:]
        assert script == f"baselines/{experiment.trainer}.py"
        assert ["--no-progress-bar", *args] == list(spec.args)  # what the sweep runs


def test_no_file_cites_the_developers_notes():
    # Users have the docs, not the developers' notes: nothing outside tests cites them.
    folders = ("docs", "benchmark", "envs", "equilibrium", "baselines", "examples", ".ci")
    files = [ROOT / name for name in ("README.md", "Makefile", "mkdocs.yml", "pyproject.toml")]
    for folder in folders:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md", ""}]
    for path in files:
        if path.is_file() and "results" not in path.relative_to(ROOT).parts[:2]:
            text = path.read_text("utf-8", errors="replace")
            assert "SETTINGS.md" not in text and "../shared" not in text, path


def test_documented_mkdocs_commands_silence_the_end_of_life_notice():
    for page in PAGES:
        for line in page.read_text("utf-8").splitlines():
            if re.search(r"-m mkdocs (serve|build)", line):
                assert "NO_MKDOCS_2_WARNING=1" in line, (page, line)


def test_make_takes_the_cpu_torch_with_a_bounded_fallback_and_installs_ray():
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "TORCH_INDEX ?= https://download.pytorch.org/whl/cpu" in makefile
    recipe = re.search(
        r"pip install --quiet --timeout (\d+) --retries 0 \\\n\t+--index-url \$\(TORCH_INDEX\) "
        r'"\$\(TORCH\)" \\\n\t\|\| \{ echo [^\n]*\n\t+\$\(BIN\)/python -m pip install --quiet '
        r'"\$\(TORCH\)"; \}',
        makefile,
    )
    assert recipe and int(recipe.group(1)) <= 15, "CPU index first, bounded, then the default"
    assert '-e ".[train,test,docs,ray]"' in makefile
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make setup TORCH_INDEX=" in readme and "GB" in readme


def test_home_picture_is_a_hand_drawn_svg_with_a_title():
    svg = DOCS / "assets" / "stackelberg-pomdp.svg"
    root = ET.parse(svg).getroot()
    namespace = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{namespace}svg"
    assert root.find(f"{namespace}title").text.strip()
    assert not root.findall(f".//{namespace}image"), "the picture must be drawn, not embedded"
    texts = " ".join(t.text or "" for t in root.iter(f"{namespace}text"))
    for phrase in ("Leader", "Response phase", "Reward phase", "Critic"):
        assert phrase in texts
    assert "assets/stackelberg-pomdp.svg" in (DOCS / "index.md").read_text("utf-8")


# ----------------------------------------------------------------------------- converters


def test_sphinx_roles_become_code_spans():
    text = ":class:`~.episode.ResponseReport` and :func:`.response_algorithm`, :data:`X`"
    assert griffe_rst.convert_roles(text) == "`ResponseReport` and `response_algorithm`, `X`"


def test_rst_simple_table_becomes_markdown_with_continuations():
    rst = "\n".join(
        [
            "Intro.",
            "",
            "======  =============",
            "Key     first line",
            "        second line",
            "Other   a | b",
            "======  =============",
            "",
            "After.",
        ]
    )
    out = griffe_rst.convert_simple_tables(rst).splitlines()
    assert out[0] == "Intro."
    assert "| Key | first line second line |" in out
    assert "| Other | a \\| b |" in out
    assert "| --- | --- |" in out
    assert out[-1] == "After."


def test_rst_simple_table_with_a_header():
    rst = "===  ===\nA    B\n===  ===\n1    2\n===  ===\n"
    out = griffe_rst.convert_simple_tables(rst)
    assert "| A | B |\n| --- | --- |\n| 1 | 2 |" in out


def test_literal_block_becomes_a_fenced_block():
    text = "Use it like this::\n\n    x = 1\n    if x:\n        y = 2\n\nThen more."
    out = griffe_rst.convert_literal_blocks(text)
    assert out == "Use it like this:\n\n```python\nx = 1\nif x:\n    y = 2\n```\n\nThen more."


# ----------------------------------------------------------------------------- trainer pages


def _trainer_doc(name: str):
    return env_pages.read_trainer_doc(name)


def _package_sources() -> str:
    return "\n".join(
        p.read_text("utf-8") for d in ("envs", "equilibrium") for p in (ROOT / d).rglob("*.py")
    )


@pytest.mark.parametrize("name", env_pages.TRAINERS)
def test_trainer_implementation_details_are_numbered_and_cite_real_code(name):
    import markdown

    source, doc = _trainer_doc(name)
    low, high = (8, 15) if name == "mappo" else (3, 15)
    assert low <= doc.n_details <= high, doc.n_details
    html = markdown.markdown(doc.details)
    assert html.count("<ol>") == 1 and html.count("<li>") == doc.n_details, html[:300]
    flags = {f"--{a.name.replace('_', '-')}" for a in env_pages.trainer_args(source)}
    package = None
    items = re.split(r"^\d+\. ", doc.details, flags=re.M)[1:]
    for item in items:
        spans = re.findall(r"`([^`]+)`", item)
        assert spans, f"item cites no function or flag: {item[:80]!r}"
        for span in spans:
            for flag in re.findall(r"--[a-z][\w-]*", span):
                assert flag in flags, f"{name}: {flag} is not a flag of Args"
            if re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", span):
                last = span.rsplit(".", 1)[-1]
                if re.search(rf"\b{re.escape(last)}\b", source):
                    continue
                package = package if package is not None else _package_sources()
                assert re.search(rf"\b{re.escape(last)}\b", package), f"{name}: `{span}`"


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def test_trainer_page_shows_details_and_the_results_page_rows():
    import markdown

    page = env_pages.trainer_sections("trainers.md")
    sections = dict(re.findall(r"^## `(\w+)`\n(.*?)(?=^## `|\Z)", page, re.M | re.S))
    assert set(sections) == set(env_pages.TRAINERS)
    results = (DOCS / "results.md").read_text("utf-8")
    result_lines = {line for line in results.splitlines() if line.startswith("| `")}
    sweep = env_pages.sweep_module()
    for name, section in sections.items():
        _, doc = _trainer_doc(name)
        details = section.split("### Implementation details\n", 1)[1].split("### Results")[0]
        assert details.strip() == doc.details.strip()
        html = markdown.markdown(section, extensions=["tables", "fenced_code"])
        assert html.count("<li>") >= doc.n_details
        mine = {e.name for e in sweep.EXPERIMENTS if e.trainer == name}
        shown = [r for r in section.split("### Results", 1)[1].splitlines() if r.startswith("| `")]
        if mine:
            expected = [line for line in results.splitlines() if line.startswith("| `")
                        and line.split("`")[1] in mine]  # fmt: skip
            assert len(expected) >= 1
            assert [_cells(r) for r in shown] == [_cells(r) for r in expected]
            assert all(any(_cells(r) == _cells(x) for x in result_lines) for r in shown)
            images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", section)
            assert images, "no learning curve embedded"
            for image in images:
                assert (DOCS / image).is_file(), image
        else:
            assert not shown
            assert "does not run" in section and doc.command
            assert f"```bash\n{doc.command}\n```" in section
            env_id = re.search(r"--env-id (\S+)", doc.command).group(1)
            assert env_id in zoo.ENV_IDS or any(s.gymnasium_id == env_id for s in POMDP_SETTINGS)
    assert "Work in progress" not in (DOCS / "trainers.md").read_text("utf-8")
    assert "planned" not in (DOCS / "trainers.md").read_text("utf-8").lower()


def test_split_trainer_docstring_and_result_rows_on_synthetic_input():
    doc = "A trainer.\n\n    python baselines/x.py --env-id A \\\n        --seed 2\n    tb\n"
    split = env_pages.split_trainer_docstring(doc, "1. one `f`\n   more\n2. two\n")
    assert split.n_details == 2 and split.details.startswith("1. one")
    assert split.command == "python baselines/x.py --env-id A --seed 2"
    with pytest.raises(ValueError, match=r"numbered 1, 2, \.\.\., got \[\]"):
        env_pages.split_trainer_docstring("A trainer.\n", "no list\n")
    with pytest.raises(ValueError, match=r"numbered 1, 2, \.\.\., got \[1, 3\]"):
        env_pages.split_trainer_docstring("T.\n", "1. a\n3. b\n")
    page = (
        "# Results\n\nGenerated on 2026-01-02; x\n\n## All experiments\n\n"
        "| experiment | value |\n|---|---|\n| `a` | 1 |\n| `b` | 2 |\n| `c` | 3 |\n\n"
        "- note\n\n## Later\n\n| `d` | 4 |\n"
    )
    found = env_pages.result_rows(page, ["c", "a", "d", "z"])
    assert found.header == ("experiment", "value")
    assert found.rows == (("`a`", "1"), ("`c`", "3"))  # page order, only that table
    assert found.missing == ("d", "z") and found.generated == "2026-01-02"
    with pytest.raises(ValueError, match="no '## All experiments' table"):
        env_pages.result_rows("# Results\n", ["a"])
