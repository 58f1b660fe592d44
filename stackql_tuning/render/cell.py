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
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

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
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
#: an integer literal orjson would silently turn into a float
_LONG_INTEGER = re.compile(r"\d{20}")
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


def format_float(value: float) -> str:
    """Shortest round-trip text, positional when 1e-7 <= |x| < 1e21; ``nan``, ``inf``, ``-inf``."""
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    if "e" not in text:
        return text
    if not 1e-7 <= abs(value) < 1e21:
        return text
    text = format(Decimal(text), "f")
    return text if "." in text else text + ".0"


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
    sign = "-" if micros < 0 else ""
    days, rem = divmod(abs(micros), 86_400_000_000)
    hours, rem = divmod(rem, 3_600_000_000)
    minutes, rem = divmod(rem, 60_000_000)
    seconds, micro = divmod(rem, 1_000_000)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if micro:
        clock += f"{seconds}.{micro:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{seconds}S"
    text = (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return f"{sign}P{text}" if text else "PT0S"


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


def _parse_json_text(text: str) -> Any:
    """The parsed JSON value (JSON-ready), or ``_UNPARSED`` when the text is not JSON.

    A value nested deeper than orjson reads (1024 levels) or writes (254) is the text itself,
    compacted, as an ``orjson.Fragment``: every format writes it as it writes any JSON value."""
    try:
        if _LONG_INTEGER.search(text):
            parsed = _jsonable(json.loads(text))
        else:
            parsed = orjson.loads(text)
    except RecursionError:  # the standard library's parser or _jsonable, nested too deep
        return orjson.Fragment(_compact_json(text))
    except ValueError as e:
        if "depth limit" in str(e):
            return orjson.Fragment(_compact_json(text))
        return _UNPARSED
    if len(text) >= _DEEP_TEXT and isinstance(parsed, list | dict):
        try:
            orjson.dumps([parsed])  # as json/jsonl write it: inside the row's object
        except orjson.JSONEncodeError:
            return orjson.Fragment(_compact_json(text))
    return parsed


def _compact_json(text: str) -> str:
    """JSON ``text`` without whitespace between its tokens (one line, at any depth)."""
    return _JSON_SPACE.sub(lambda m: m.group(1) or "", text)


def _normalize_tz_string(text: str) -> str:
    try:
        return format_datetime(datetime.fromisoformat(text), assume_utc=True)
    except ValueError:
        return text


def json_cell(value: Any, type_name: str | None = None) -> Any:
    """The cell as a JSON-ready value (for json/jsonl): JSON columns embedded as JSON."""
    if isinstance(value, str):
        if is_json_type(type_name):
            parsed = _parse_json_text(value)
            return value if parsed is _UNPARSED else parsed
        if _is_tz_timestamp(type_name):
            return _normalize_tz_string(value)
        return value
    return _jsonable(value, assume_utc=_is_tz_timestamp(type_name))


def text_cell(value: Any, type_name: str | None = None) -> str:
    """The cell as one text (for table, csv, text, markdown): NULL is the empty text."""
    if value is None:
        return ""
    if isinstance(value, str):
        if is_json_type(type_name):
            parsed = _parse_json_text(value)
            return value if parsed is _UNPARSED else orjson.dumps(parsed).decode()
        if _is_tz_timestamp(type_name):
            return _normalize_tz_string(value)
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, Decimal):
        return _format_decimal(value)
    if isinstance(value, dict | list | tuple):
        return orjson.dumps(_jsonable(value)).decode()
    return _scalar_text(value, assume_utc=_is_tz_timestamp(type_name))


def escape_controls(text: str, table: dict[int, str] | None = None) -> str:
    """Control characters (C0, DEL, C1) and Unicode line/paragraph separators as visible
    escapes, so no cell can break a line, move the cursor or inject terminal sequences.
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
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
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
