"""The ``csv`` format: RFC 4180 quoting through the ``csv`` module, a header unless hidden.

Lines end in ``\\n`` (as ``psql --csv`` and DuckDB's ``COPY`` write them; every CSV reader takes
it). NULL is an empty field and the empty string a quoted one (``""``), as psql and DuckDB
write them, so that a reader can tell them apart, with one exception by choice: a row whose
only field is NULL is written ``""`` too (an empty line would be skipped by most readers, which
would lose the row), so in a one-column CSV NULL and ``''`` read the same. An output whose
encoding lacks a character gets it as a backslash escape (``\\u6f22``). Values are the texts of
``cell.text_cell``: JSON as compact JSON text, timestamps ISO-8601 UTC, floats without an
exponent in the usual range (``10000000000000000.0``, not ``1e+16``).

This module writes CSV only; it computes no cell values itself.
"""

from __future__ import annotations

from typing import TextIO

from stackql_tuning.render.cell import column_types, text_cell
from stackql_tuning.render.encoding import encodable, limited_encoding
from stackql_tuning.result import Result


def render_csv(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as CSV."""
    if not result.columns:
        return

    encoding = limited_encoding(out)

    def emit(cells: list[str | None]) -> None:
        # a blank line would be skipped by many readers (pandas): a lone NULL keeps its row
        line = ",".join(_field(c) for c in cells) or '""'
        out.write((encodable(line, encoding) if encoding else line) + "\n")

    if not hide_headers:
        emit(list(result.columns))
    types = column_types(result.columns, result.types)
    for row in result.rows:
        emit([None if v is None else text_cell(v, t) for v, t in zip(row, types, strict=True)])


def _field(text: str | None) -> str:
    """One RFC 4180 field: NULL empty; quoted when empty or holding a comma, a quote, a line
    break or a leading/trailing blank (which some readers drop), quotes doubled."""
    if text is None:
        return ""
    if text == "" or any(c in text for c in ',"\r\n') or text != text.strip(" \t"):
        return '"' + text.replace('"', '""') + '"'
    return text
