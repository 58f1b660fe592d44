"""The ``csv`` format: RFC 4180 quoting through the ``csv`` module, a header unless hidden.

Lines end in ``\\n`` (as ``psql --csv`` and DuckDB's ``COPY`` write them; every CSV reader takes
it). NULL and the empty string are both an empty field. Values are the texts of
``cell.text_cell``: JSON as compact JSON text, timestamps ISO-8601 UTC, floats without an
exponent in the usual range (``10000000000000000.0``, not ``1e+16``).

This module writes CSV only; it computes no cell values itself.
"""

from __future__ import annotations

import csv
import io
from typing import TextIO

from stackql_tuning.render.cell import column_types, text_cell
from stackql_tuning.result import Result


def render_csv(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as CSV."""
    if not result.columns:
        return
    # the writer ends rows with "\r\n" so that it quotes any field holding "\r" or "\n";
    # each row's own terminator is then written as a plain "\n" (as psql and DuckDB do)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def emit(cells: list[str]) -> None:
        buf.seek(0)
        buf.truncate()
        writer.writerow(cells)
        out.write(buf.getvalue()[:-2] + "\n")

    if not hide_headers:
        emit(list(result.columns))
    types = column_types(result.columns, result.types)
    for row in result.rows:
        emit([text_cell(v, t) for v, t in zip(row, types, strict=True)])
