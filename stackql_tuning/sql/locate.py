"""Positions in SQL text: offset -> (line, column), caret excerpts, and ParseError building.

Everything here works on the *full* text a user gave (a script, a file, a shell buffer), so that a
line/column points into what the user sees. Pure functions; no sqlglot.
"""

from __future__ import annotations

from stackql_tuning.errors import Location, ParseError


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset`` in ``text`` (an offset at the end is allowed)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def excerpt(text: str, offset: int) -> str:
    """The line holding ``offset`` and a caret under it, both indented by two spaces."""
    offset = max(0, min(offset, len(text)))
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)].rstrip("\r")
    pad = "".join(c if c == "\t" else " " for c in line[: offset - start])
    return f"  {line}\n  {pad}^"


def parse_error(
    message: str,
    text: str,
    offset: int,
    *,
    source: str | None = None,
    hint: str | None = None,
) -> ParseError:
    """A ParseError located at ``offset`` of ``text``, with a caret excerpt."""
    line, column = line_col(text, offset)
    return ParseError(
        message,
        location=Location(file=source, line=line, column=column),
        excerpt=excerpt(text, offset),
        hint=hint,
    )


__all__ = ["excerpt", "line_col", "parse_error"]
