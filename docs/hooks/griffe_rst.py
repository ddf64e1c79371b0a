"""Griffe extension: render the reStructuredText habits of our docstrings as markdown.

The code's docstrings are Google style, but some use Sphinx roles (``:class:`Foo```),
``::`` literal blocks and RST simple tables (``=====  =====`` borders). mkdocstrings renders
docstrings as markdown, so this extension rewrites those three constructs before parsing:

* a role becomes a code span (``:class:`~.episode.Phase``` -> ``Phase``, a leading ``.`` or
  ``~`` path shortened as Sphinx would show it);
* ``text::`` followed by an indented block becomes ``text:`` and a fenced Python block;
* a simple table becomes a markdown table (rows whose first column is blank continue the
  row above; a table without a header gets an empty one).

Env modules whose docstring is their doc page (PettingZoo's table, ``| Creation ...``) keep
only their summary line here: the page itself is generated under *Environments*.

Registered in ``mkdocs.yml`` as a mkdocstrings ``extensions`` entry.
"""

from __future__ import annotations

import re
import textwrap

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|mod|func|meth|data|attr|exc|obj|const):`([^`]+)`")
_BORDER = re.compile(r"^(=+)(\s+=+)+\s*$")


def _role(match: re.Match) -> str:
    target = match.group(1).strip()
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target.lstrip('.')}`"


def convert_roles(text: str) -> str:
    """Sphinx cross-reference roles -> code spans."""
    return _ROLE.sub(_role, text)


def convert_literal_blocks(text: str) -> str:
    """``paragraph::`` + indented block -> ``paragraph:`` + a fenced Python block."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::") and line.strip() != "::":
            indent = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            k = j
            while k < len(lines) and (
                not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) > indent
            ):
                k += 1
            while k > j and not lines[k - 1].strip():
                k -= 1
            if k > j:
                block = textwrap.dedent("\n".join(lines[j:k]))
                pad = " " * indent
                out += [line.rstrip()[:-1], "", pad + "```python"]
                out += [pad + b if b else b for b in block.splitlines()]
                out += [pad + "```"]
                i = k
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


def convert_simple_tables(text: str) -> str:
    """RST simple tables -> markdown tables."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if not _BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        border = lines[i]
        starts = [m.start() for m in re.finditer(r"=+", border)]
        end = i + 1
        borders = [i]
        while end < len(lines) and lines[end].strip():
            if _BORDER.match(lines[end]):
                borders.append(end)
            end += 1
        if len(borders) < 2:  # a lone line of '=' is not a table
            out.append(lines[i])
            i += 1
            continue
        last = borders[-1]
        header_rows: list[list[str]] = []
        body_rows: list[list[str]] = []
        target = body_rows if len(borders) == 2 else header_rows
        for row_line in lines[i + 1 : last]:
            if _BORDER.match(row_line):
                target = body_rows
                continue
            cells = _cells(row_line, starts)
            if target and not cells[0] and not _BORDER.match(row_line):
                target[-1] = [f"{a} {b}".strip() for a, b in zip(target[-1], cells, strict=True)]
            else:
                target.append(cells)
        header = header_rows[0] if header_rows else [""] * len(starts)
        out += ["", _row(header), _row(["---"] * len(starts))] + [_row(r) for r in body_rows]
        out.append("")
        i = last + 1
    return "\n".join(out)


def _cells(line: str, starts: list[int]) -> list[str]:
    bounds = starts[1:] + [None]
    return [line[s:e].strip() if s < len(line) else "" for s, e in zip(starts, bounds, strict=True)]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def convert(text: str) -> str:
    """All three conversions, tables first (their cells may hold roles)."""
    return convert_roles(convert_literal_blocks(convert_simple_tables(text)))


class RstCompat(griffe.Extension):
    """Rewrite every loaded docstring with :func:`convert`; shorten env doc pages."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        """Called by griffe for every object it loads."""
        if obj.docstring is None:
            return
        value = obj.docstring.value
        if obj.is_module and re.search(r"^\| Creation", value, re.M):
            summary = value.strip().splitlines()[0].lstrip("# ").strip()
            value = (
                f"{summary}\n\nThis module's docstring is the environment's page, "
                "under *Environments* in the navigation."
            )
        obj.docstring.value = convert(value)
