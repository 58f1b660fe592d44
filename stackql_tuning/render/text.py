"""The ``text`` format: tab-separated values, a header line unless hidden.

One line per row, fields separated by a tab. So that every value stays on its line and in its
column, a backslash is written ``\\\\``, and tab, newline and carriage return ``\\t``, ``\\n``,
``\\r`` (other control characters ``\\xNN``), as in PostgreSQL's COPY text format. NULL is an
empty field. Values are the texts of ``cell.text_cell``. An output whose encoding lacks a
character gets it as a backslash escape (``\\u6f22``, unlike a data backslash, ``\\\\``).
A ``verbatim`` result (``SHOW INSERT INTO``'s statement) is written as it is, so that
``-o text --hide-headers ... > create.iql`` is the statement to edit.

This module writes text only; it computes no cell values itself.
"""

from __future__ import annotations

from typing import TextIO

from stackql_tuning.render.cell import column_types, escape_controls, text_cell
from stackql_tuning.render.encoding import encodable, limited_encoding
from stackql_tuning.result import Result


def escape_field(text: str) -> str:
    return escape_controls(text.replace("\\", "\\\\"))


def render_text(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as tab-separated lines."""
    if not result.columns:
        return
    encoding = limited_encoding(out)

    def emit(line: str) -> None:
        out.write((encodable(line, encoding) if encoding else line) + "\n")

    if not hide_headers:
        emit("\t".join(escape_field(c) for c in result.columns))
    types = column_types(result.columns, result.types)
    if result.verbatim:
        for row in result.rows:
            emit("\t".join(text_cell(v, t) for v, t in zip(row, types, strict=True)))
        return
    for row in result.rows:
        emit("\t".join(escape_field(text_cell(v, t)) for v, t in zip(row, types, strict=True)))
