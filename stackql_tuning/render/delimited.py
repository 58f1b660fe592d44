"""The ``csv`` format: RFC 4180 quoting through the ``csv`` module, a header unless hidden.

Lines end in ``\\n`` (as ``psql --csv`` and DuckDB's ``COPY`` write them; every CSV reader takes
it). NULL and the empty string are both an empty field. Values are the texts of
``cell.text_cell``: JSON as compact JSON text, timestamps ISO-8601 UTC, floats without an
exponent in the usual range (``10000000000000000.0``, not ``1e+16``).

This module writes CSV only; it computes no cell values itself.
"""

from __future__ import annotations

import csv
from typing import TextIO

from stackql_tuning.render.cell import column_types, text_cell
from stackql_tuning.result import Result


def render_csv(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as CSV."""
    if not result.columns:
        return
    writer = csv.writer(out, lineterminator="\n")
    if not hide_headers:
        writer.writerow(result.columns)
    types = column_types(result.columns, result.types)
    for row in result.rows:
        writer.writerow([text_cell(v, t) for v, t in zip(row, types, strict=True)])
