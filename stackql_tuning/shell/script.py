"""Splitting shell input into units: meta-command lines and chunks of complete SQL statements.

A meta command (``\\o json``, ``help``, ``quit``) is one line of its own, between statements.
Everything else accumulates until it ends with ``;`` outside quotes and comments; the chunk
(which may hold several statements) keeps the line it started on so that error positions
point into the original text. :func:`render` makes a script's text what ``exec -f`` runs (its
jinja rendered). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackql_tuning.shell.lexing import code_tokens, is_complete, tokenize
from stackql_tuning.shell.meta import parse_meta


@dataclass(frozen=True)
class Unit:
    """``kind`` is "meta" (``text`` is the line) or "sql" (one or more statements)."""

    kind: str
    text: str
    line: int  # 1-based line of the unit's first line in the whole input

    def positioned(self) -> str:
        """The text padded with newlines so that its line numbers are those of the input."""
        return "\n" * (self.line - 1) + self.text


def _blank(text: str) -> bool:
    return not code_tokens(tokenize(text))


def split_units(text: str) -> list[Unit]:
    """The meta lines and SQL chunks of ``text``, in order; a trailing chunk without ``;`` too."""
    units: list[Unit] = []
    pending: list[str] = []
    first = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending or _blank("\n".join(pending)):
            if parse_meta(line) is not None:
                units.append(Unit("meta", line.strip(), number))
                pending = []
                continue
            if not pending:
                first = number
        pending.append(line)
        chunk = "\n".join(pending)
        if is_complete(chunk):
            if not _blank(chunk):
                units.append(Unit("sql", chunk, first))
            pending = []
    chunk = "\n".join(pending)
    if pending and not _blank(chunk):
        units.append(Unit("sql", chunk, first))
    return units


def statement_lines(text: str) -> list[int]:
    """The 1-based line on which each statement of ``text`` starts (for saying which were not
    run); comments and empty statements are not statements."""
    lines: list[int] = []
    start: int | None = None
    for token in code_tokens(tokenize(text)):
        if token.kind == "punct" and token.text == ";":
            if start is not None:
                lines.append(text.count("\n", 0, start) + 1)
            start = None
        elif start is None:
            start = token.start
    if start is not None:
        lines.append(text.count("\n", 0, start) + 1)
    return lines


def render(
    text: str, *, variables: Mapping[str, Any], source: str | None
) -> tuple[str, str | None]:
    """``text`` rendered as ``exec -f`` renders a script (jinja, strict undefined, ``env``,
    ``--var`` / ``--vars-file`` as ``variables``), and the source its errors name: ``source``,
    or ``source (rendered)`` when rendering moved its lines. Text without a jinja marker and no
    variables is returned as it is (rendering would not change it; jinja is not imported)."""
    from stackql_tuning.sql.template_markers import is_template

    if not variables and not is_template(text):
        return text, source
    from stackql_tuning.sql.template import render_script, rendered_source

    rendered = render_script(text, variables=variables, source=source)
    if source is None:  # a script on stdin: positions are its lines
        moved = rendered_source("<stdin>", text, rendered) != "<stdin>"
        return rendered, "<stdin> (rendered)" if moved else None
    return rendered, rendered_source(source, text, rendered)
