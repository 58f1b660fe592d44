"""The ``json`` and ``jsonl`` formats: one object per row, keyed by column name.

``json`` writes one array, pretty-printed with a 2-space indent (``[]`` when there are no rows);
``jsonl`` writes one compact object per line. Values follow ``cell.json_cell``: JSON columns are
embedded as JSON (an object, not a string), Decimal and big integers as exact numbers, timestamps
as ISO-8601 UTC strings. An output whose encoding is not UTF-8 gets ASCII-only JSON
(``\\u00e9``: the same value). Rows are written one at a time, so no list of dicts is ever built.
A column name that repeats gets a suffix (``name``, ``name_1``) so no value is lost.

This module writes JSON only; it computes no cell values itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

import orjson

from stackql_tuning.render.cell import column_types, json_cell
from stackql_tuning.render.encoding import ascii_json, limited_encoding
from stackql_tuning.result import Result, unique_names

#: column names made unique (``name``, ``name_1``), as ``Result.to_dicts`` keys them
unique_keys = unique_names


def _objects(result: Result) -> Iterator[dict[str, Any]]:
    keys = unique_keys(result.columns)
    types = column_types(result.columns, result.types)
    for row in result.rows:
        yield {k: json_cell(v, t) for k, v, t in zip(keys, row, types, strict=True)}


def render_json(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as one JSON array of objects."""
    first = True
    ascii_only = limited_encoding(out) is not None
    for obj in _objects(result):
        text = orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()
        if ascii_only:
            text = ascii_json(text)
        out.write(("[\n  " if first else ",\n  ") + text.replace("\n", "\n  "))
        first = False
    out.write("[]\n" if first else "\n]\n")


def render_jsonl(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as JSON Lines: one compact object per row."""
    ascii_only = limited_encoding(out) is not None
    for obj in _objects(result):
        text = orjson.dumps(obj).decode()
        out.write((ascii_json(text) if ascii_only else text) + "\n")
