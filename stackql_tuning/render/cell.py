"""Value rules shared by every output format: one cell in, a JSON-ready value or a text out.

Cells are Python values as DuckDB's ``fetchall()`` returns them, with the column's DuckDB type
name. The rules (the same for every format):

- NULL: JSON ``null``; an empty text.
- JSON columns (a ``str`` holding JSON): parsed and embedded as JSON in json/jsonl; printed as
  compact JSON text elsewhere. Text that does not parse is kept as a string.
- Timestamps: ISO-8601 in UTC with ``Z`` (``2026-11-22T10:00:00Z``), microseconds only when
  non-zero. A naive datetime is printed as is (no ``Z``) unless its column is ``TIMESTAMP WITH
  TIME ZONE``, where it is taken as UTC; a string in such a column is normalized when it parses.
- Floats: the shortest text that reads back to the same double (Python ``repr``), written without
  an exponent when 1e-7 <= |x| < 1e21 (JavaScript's range), so csv holds ``10000000000000000.0``
  and not ``1e+16``; an exponent outside that range. NaN and infinities: ``nan``/``inf``/``-inf``
  in text (as DuckDB prints them), ``null`` in JSON (as ``JSON.stringify`` does).
- Decimal: its digits, scale kept (``1.500``), a JSON number. Integers beyond 64 bits stay exact.
- bool: ``true``/``false``. Lists, STRUCTs and MAPs: JSON. UUID: its text. BLOB: printable ASCII
  as is, other bytes ``\\xNN`` (as DuckDB prints them). INTERVAL: an ISO-8601 duration.

This module knows no layout and writes to no stream; it imports only the standard library and
orjson.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from stackql_tuning.render.types import SINGLE_FLOAT, DuckType, parse_type

_NUMERIC_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "REAL",
        "DOUBLE",
        "DECIMAL",
        "NUMERIC",
    }
)
_TZ_TIMESTAMP_TYPES = frozenset({"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"})
#: types whose values may come as DuckDB's own text (``run.store.Lossless``)
_TEXT_FROM_DUCKDB = frozenset(
    {
        *_TZ_TIMESTAMP_TYPES,
        "INTERVAL",
        "DATE",
        "TIMESTAMP",
        "TIMESTAMP_NS",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
    }
)
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
#: a number token (after ``[``, ``:``, ``,`` or at the start, before ``,``, ``]``, ``}`` or the
#: end) whose value orjson might change: 16 or more digits (beyond 64 bits, or more than a
#: double holds), an exponent (``1E400`` is no double). A decimal of fewer digits reads to the
#: double of its value. A match is checked (``_needs_exact``); one inside a string only costs
#: that check. Only values are kept: ``1.50`` may be written ``1.5``, ``1e5`` ``100000.0``.
_RISKY_NUMBER = re.compile(
    r"(?:^|[\[:,])\s*(-?\d{16,}|-?\d+(?:\.\d+)?[eE][-+]?\d+|-?(?=[\d.]{17})\d+\.\d+)"
    r"\s*(?=[,\]}]|$)"
)
#: quick signs of a risky number (each alone, as alternation is slow in ``re``): most JSON
#: texts show none, and skip the scan above
_RISKY_SIGNS = (
    re.compile(r"[0-9.]{16}"),  # a long run of digits
    re.compile(r"[0-9][eE][-+]?[0-9]{3}"),  # an exponent of three digits (1E400)
)
_F32 = struct.Struct("<f")
#: a JSON string, or the whitespace between tokens
_JSON_SPACE = re.compile(r'("(?:[^"\\]|\\.)*")|[ \t\r\n]+')
#: the shortest text that nests too deep for orjson to write it inside a row's object (254
#: levels in all): 254 "[" and 254 "]"
_DEEP_TEXT = 508


def _base_type(type_name: str | None) -> str:
    return (type_name or "").strip().upper()


def is_numeric_type(type_name: str | None) -> bool:
    """True for DuckDB number types (``BIGINT``, ``DOUBLE``, ``DECIMAL(18,3)``); not for lists."""
    base = _base_type(type_name)
    return not base.endswith("]") and base.split("(")[0].strip() in _NUMERIC_TYPES


def is_json_type(type_name: str | None) -> bool:
    return _base_type(type_name) == "JSON"


def _is_tz_timestamp(type_name: str | None) -> bool:
    return _base_type(type_name) in _TZ_TIMESTAMP_TYPES


# -- scalars to text ---------------------------------------------------------------------------


def format_float(value: float, *, single: bool = False) -> str:
    """Shortest round-trip text, positional when 1e-7 <= |x| < 1e21; ``nan``, ``inf``, ``-inf``.

    ``single``: the value of a FLOAT (REAL) column, read back at float32 precision: ``0.1``,
    not the ``0.10000000149011612`` of the double it was widened to."""
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if single:
        value = _shortest_single(value)
    text = repr(value)
    if "e" not in text:
        return text
    if not 1e-7 <= abs(value) < 1e21:
        return text
    text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


def _shortest_single(value: float) -> float:
    """The double of the fewest digits that reads back (as float32) to float32 ``value``."""
    try:
        target = _F32.pack(value)
    except OverflowError:  # not a float32 after all: keep the double
        return value
    # a shorter text that reads back is found at 6 digits too (%g drops trailing zeros):
    # float32's spacing is far finer than 6 digits', but for subnormals (below 2**-126)
    for digits in range(6 if abs(value) >= 1.2e-38 else 1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if _F32.pack(candidate) == target:
                return candidate
        except OverflowError:
            continue
    return value


def format_datetime(value: datetime, *, assume_utc: bool = False) -> str:
    """ISO-8601; aware values converted to UTC and marked ``Z``; microseconds only if non-zero."""
    suffix = ""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
        suffix = "Z"
    elif assume_utc:
        value = value.replace(tzinfo=None)
        suffix = "Z"
    spec = "microseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec) + suffix


def format_interval(value: timedelta) -> str:
    """An ISO-8601 duration: ``P3DT4H5M6.5S``, ``-PT1S``, ``PT0S``."""
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    days, clock = divmod(abs(micros), 86_400_000_000)
    return ("-" if micros < 0 else "") + _iso_parts([0, 0, days, clock])


def format_bytes(value: bytes | bytearray | memoryview) -> str:
    """Printable ASCII as is, other bytes and backslash as ``\\xNN``, like DuckDB."""
    return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in bytes(value))


def _format_decimal(value: Decimal) -> str:
    return format(value, "f")


# -- JSON-ready values -------------------------------------------------------------------------


def _jsonable(value: Any, *, assume_utc: bool = False) -> Any:
    """A value orjson can serialize exactly (``orjson.Fragment`` for numbers it would alter)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _UINT64_MAX else orjson.Fragment(str(value))
    if isinstance(value, float):
        text = format_float(value)
        return None if text in ("nan", "inf", "-inf") else orjson.Fragment(text)
    if isinstance(value, Decimal):
        return orjson.Fragment(_format_decimal(value)) if value.is_finite() else None
    if isinstance(value, dict):
        return {_key_text(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return _scalar_text(value, assume_utc=assume_utc)


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else text_cell(key)


def _scalar_text(value: Any, *, assume_utc: bool = False) -> str:
    """Text of a value that has no JSON type of its own (temporal, UUID, bytes, other)."""
    if isinstance(value, datetime):
        return format_datetime(value, assume_utc=assume_utc)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_interval(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return format_bytes(value)
    if isinstance(value, UUID):
        return str(value)
    return str(value)


_UNPARSED = object()


def _parse_json_text(text: str, nesting: int = 1) -> Any:
    """The parsed JSON value (JSON-ready), or ``_UNPARSED`` when the text is not JSON.

    Numbers keep their text: when orjson could write one back otherwise (beyond 64 bits, more
    digits than a double holds, ``1.50``, ``1e5``), the standard library's parser reads the
    text and keeps such numbers as ``orjson.Fragment`` of their own text.
    A value nested deeper than orjson reads (1024 levels) or writes (254) is the text itself,
    compacted, as an ``orjson.Fragment``: every format writes it as it writes any JSON value.
    ``nesting``: the levels the value sits in as it is written (1: a column of the row's
    object; more inside a LIST or STRUCT)."""
    text = str(text)  # orjson reads no str subclass (``result.JsonText``)
    try:
        if _needs_exact(text):
            parsed = json.loads(
                text,
                parse_float=orjson.Fragment,
                parse_int=_exact_int,
                parse_constant=_no_constant,
            )
        else:
            parsed = orjson.loads(text)
    except RecursionError:  # the standard library's parser, nested too deep
        return orjson.Fragment(_compact_json(text))
    except ValueError as e:
        if "depth limit" in str(e):
            return orjson.Fragment(_compact_json(text))
        return _UNPARSED
    if len(text) >= _DEEP_TEXT - 2 * (nesting - 1) and isinstance(parsed, list | dict):
        wrapped: Any = parsed
        for _ in range(nesting):  # as json/jsonl write it: inside the row's object, and more
            wrapped = [wrapped]
        try:
            orjson.dumps(wrapped)
        except orjson.JSONEncodeError:
            return orjson.Fragment(_compact_json(text))
    return parsed


def _needs_exact(text: str) -> bool:
    """Whether orjson could change a number of JSON ``text`` (read it into a float that does
    not print back as its text)."""
    if not any(sign.search(text) for sign in _RISKY_SIGNS):
        return False
    for match in _RISKY_NUMBER.finditer(text):
        token = match.group(1)
        if "." in token or "e" in token or "E" in token:
            # orjson writes the double's shortest text: the token's value, or not
            as_double = float(token)
            if not math.isfinite(as_double) or Decimal(repr(as_double)) != Decimal(token):
                return True
        elif _beyond_64_bits(token):
            return True
    return False


def _beyond_64_bits(token: str) -> bool:
    """Whether the integer ``token`` is one orjson reads into a float (int() refuses over
    4300 digits: the length decides those)."""
    return len(token) > 20 or not _INT64_MIN <= int(token) <= _UINT64_MAX


def _exact_int(token: str) -> Any:
    return orjson.Fragment(token) if token == "-0" or _beyond_64_bits(token) else int(token)


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _compact_json(text: str) -> str:
    """JSON ``text`` without whitespace between its tokens (one line, at any depth)."""
    return _JSON_SPACE.sub(lambda m: m.group(1) or "", text)


def _normalize_tz_string(text: str) -> str:
    try:
        return format_datetime(datetime.fromisoformat(text), assume_utc=True)
    except ValueError:
        return text


#: DuckDB's text of an INTERVAL: ``1 year 2 months -3 days 04:05:06.5``
_INTERVAL_TEXT = re.compile(
    r"^(?:(-?\d+) years? ?)?(?:(-?\d+) mons?(?:ths?)? ?)?(?:(-?\d+) days? ?)?"
    r"(?:(-)?(\d+):(\d\d):(\d\d)(?:\.(\d+))?)?$"
)


def iso_duration(text: str) -> str:
    """DuckDB's text of an INTERVAL as an ISO-8601 duration (``P1Y2M3DT4H5M6.5S``), as
    :func:`format_interval` writes the ones Python holds; ``text`` itself when it is not one.
    A duration whose parts are all negative or zero is written ``-P...``; one with mixed signs
    gives each part its own (``-1 month 00:00:00.5`` is ``P-1MT0.5S``)."""
    m = _INTERVAL_TEXT.match(text)
    if m is None or not text:
        return text
    years, months, days, neg, hours, minutes, seconds, fraction = m.groups()
    micros = (int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)) * 1_000_000
    micros += int((fraction or "0")[:6].ljust(6, "0"))
    parts = [int(years or 0), int(months or 0), int(days or 0), -micros if neg else micros]
    if all(v <= 0 for v in parts) and any(v < 0 for v in parts):
        return "-" + _iso_parts([-v for v in parts])
    return _iso_parts(parts)


def _iso_parts(parts: list[int]) -> str:
    years, months, days, micros = parts
    body = "".join(f"{v}{u}" for v, u in ((years, "Y"), (months, "M"), (days, "D")) if v)
    sign = "-" if micros < 0 else ""
    hours, rest = divmod(abs(micros), 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, micro = divmod(rest, 1_000_000)
    clock = "".join(f"{sign}{v}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    if micro:
        clock += f"{sign}{seconds}.{micro:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{sign}{seconds}S"
    body += f"T{clock}" if clock else ""
    return f"P{body}" if body else "PT0S"


def _duckdb_text(value: str, type_name: str | None) -> str:
    """A value DuckDB gave as its own text because Python could not hold it
    (``run.store.Lossless``), in the form the other values of its type take: an
    INTERVAL as an ISO-8601 duration, a timestamp with ``T``; ``infinity`` as is."""
    base = _base_type(type_name)
    if base == "INTERVAL":
        return iso_duration(value)
    if base in _TZ_TIMESTAMP_TYPES:
        return _normalize_tz_string(value)
    if base.startswith("TIMESTAMP") and " " in value and value[:1].isdigit() and "(" not in value:
        return value.replace(" ", "T", 1)
    return value


def json_cell(value: Any, type_name: str | None = None) -> Any:
    """The cell as a JSON-ready value (for json/jsonl): JSON embedded as JSON, at any depth."""
    if isinstance(value, str):
        if is_json_type(type_name):
            parsed = _parse_json_text(value)
            return value if parsed is _UNPARSED else parsed
        if _base_type(type_name) in _TEXT_FROM_DUCKDB:
            return _duckdb_text(value, type_name)
        return value
    if isinstance(value, float) and _base_type(type_name) in SINGLE_FLOAT:
        text = format_float(value, single=True)
        return None if text in ("nan", "inf", "-inf") else orjson.Fragment(text)
    if isinstance(value, list | tuple | dict) and type_name:
        node = parse_type(type_name)
        if node.nested_marked:
            return _typed(value, node)
    return _jsonable(value, assume_utc=_is_tz_timestamp(type_name))


def _typed(value: Any, node: DuckType | None, nesting: int = 1) -> Any:
    """``value`` JSON-ready as a value of type ``node``: JSON text parsed, FLOAT at float32.
    ``nesting``: the levels ``value`` sits in as it is written (see ``_parse_json_text``)."""
    if value is None or node is None:
        return _jsonable(value)
    name = node.name
    if name == "JSON" and isinstance(value, str):
        parsed = _parse_json_text(value, nesting)
        return value if parsed is _UNPARSED else parsed
    if name in SINGLE_FLOAT and isinstance(value, float):
        text = format_float(value, single=True)
        return None if text in ("nan", "inf", "-inf") else orjson.Fragment(text)
    if not node.nested_marked:
        return _jsonable(value)
    if name == "LIST" and isinstance(value, list | tuple):
        element = node.fields[0][1]
        return [_typed(v, element, nesting + 1) for v in value]
    if name == "STRUCT" and isinstance(value, dict):
        return {_key_text(k): _typed(v, node.field(str(k)), nesting + 1) for k, v in value.items()}
    if name == "MAP" and isinstance(value, dict):
        item = node.fields[1][1]
        return {_key_text(k): _typed(v, item, nesting + 1) for k, v in value.items()}
    return _jsonable(value)


def text_cell(value: Any, type_name: str | None = None) -> str:
    """The cell as one text (for table, csv, text, markdown): NULL is the empty text."""
    if value is None:
        return ""
    if isinstance(value, str):
        if is_json_type(type_name):
            parsed = _parse_json_text(value)
            return value if parsed is _UNPARSED else orjson.dumps(parsed).decode()
        if _base_type(type_name) in _TEXT_FROM_DUCKDB:
            return _duckdb_text(value, type_name)
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value, single=_base_type(type_name) in SINGLE_FLOAT)
    if isinstance(value, Decimal):
        return _format_decimal(value)
    if isinstance(value, dict | list | tuple):
        return orjson.dumps(json_cell(value, type_name)).decode()
    return _scalar_text(value, assume_utc=_is_tz_timestamp(type_name))


def escape_controls(text: str, table: dict[int, str] | None = None) -> str:
    """Control characters (C0, DEL, C1), Unicode line/paragraph separators and bidi controls
    (U+202A-U+202E, U+2066-U+2069) as visible escapes, so no cell can break a line, move the
    cursor, reorder the text after it or inject terminal sequences.
    ``table`` overrides single characters (e.g. ``\\n``)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if table and code in table:
            out.append(table[code])
        elif code < 32 or 127 <= code < 160:
            out.append(_NAMED_ESCAPES.get(code, f"\\x{code:02x}"))
        elif code in (0x2028, 0x2029) or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append(f"\\u{code:04x}")  # line breaks, and bidi controls that reorder a line
        else:
            out.append(ch)
    return "".join(out)


_NAMED_ESCAPES = {9: "\\t", 10: "\\n", 13: "\\r"}


def column_types(columns: list[str], types: list[str]) -> list[str]:
    """One type name per column (an empty name, treated as untyped, where none is known)."""
    return list(types[: len(columns)]) + [""] * (len(columns) - len(types))


def text_grid(
    result: Any, escape: Callable[[str], str]
) -> tuple[list[bool], list[str], list[list[str]]]:
    """What a grid format (table, markdown) draws: per column whether it is numeric (right
    aligned), the escaped headers, and the escaped text of every cell."""
    types = column_types(result.columns, result.types)
    right = [is_numeric_type(t) for t in types]
    headers = [escape(c) for c in result.columns]
    body = [
        [escape(text_cell(v, t)) for v, t in zip(row, types, strict=True)] for row in result.rows
    ]
    return right, headers, body
