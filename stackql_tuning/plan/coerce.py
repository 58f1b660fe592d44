"""Type checks for mutation values: one SQL value -> the JSON value a request body or param wants.

Pure: (field type, format, enum, value) -> value, or a PlanError naming the column and what would
be right. Rules (the same for INSERT columns, EXEC ``@params`` and ``@@json`` keys):

- ``object`` / ``array``: a dict/list is kept; a string is parsed as JSON (the error names the
  line and column of the JSON problem) and must give an object / array, nested at most
  ``MAX_JSON_DEPTH`` levels (deeper values would overflow the recursive encoders and validators
  downstream, and no API shape comes near it).
- ``integer``: an int, an integral float or a string of digits; int64 formats are sent as a
  decimal *string* (Google's JSON mapping of int64), other integers as JSON numbers.
- ``string`` with an int64 format: the same, sent as a string.
- Integers must fit their format (int32, uint32, int64, uint64) and the API's own ``minimum`` /
  ``maximum`` when the definition gives them; so must every integer inside an object / array
  field that the definition lists in its ``limits`` (the error names the path inside the JSON).
- ``number``: an int or a float (or a numeric string).
- ``boolean``: a boolean, or the strings ``true`` / ``false``.
- ``string``: a string (a datetime is sent in ISO-8601); a number is refused with a hint to
  quote it, so ``displayName = 5`` is never silently sent.
- An ``enum`` value must be one of the listed values.

Must not: import an SDK, do I/O, or name a resource.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from stackql_tuning.errors import Location, PlanError, did_you_mean
from stackql_tuning.registry.model import IntLimit

INT64_FORMATS = frozenset({"int64", "uint64"})
#: the deepest nesting of objects and arrays accepted in a value (protobuf's JSON parser: 100)
MAX_JSON_DEPTH = 100
#: integer format -> (lowest, highest) value; an integer without a format is an int32
INT_RANGES: dict[str, tuple[int, int]] = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_SEGMENT = re.compile(r"\[\]|\{\}|[^.\[\]{}]+")


def _fail(where: str, message: str, hint: str | None = None, resource: str | None = None) -> None:
    raise PlanError(f"{where}: {message}", location=Location(resource=resource), hint=hint)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    text = str(value)
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    # a value of another SQL type (a UUID, a timestamp...) prints like a string: say its type
    return shown if isinstance(value, str) else f"a {type(value).__name__} value {shown}"


def nesting_depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (0 for a scalar); not recursive."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_finite(where: str, value: Any, resource: str | None) -> None:
    """A PlanError for a NaN or an infinity anywhere in a value (JSON text as Python's json
    reads it, or a DuckDB STRUCT's DOUBLE): JSON has no such numbers (the API got "NaN", or a
    misleading error about another field)."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            _fail(
                where,
                f"is not valid JSON: {json.dumps(item)} is not a JSON number",
                hint="write a number, or null",
                resource=resource,
            )
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _json_ready(value: Any) -> Any:
    """A DuckDB STRUCT or LIST (as Python reads it) with JSON's own values: a DECIMAL
    (``0.5`` in SQL) a number, a date or time its ISO text. A Decimal failed the request
    ("Type is not JSON serializable") and showed as the text "0.5" in a dry run."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else float(value)
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def check_depth(where: str, value: Any, resource: str | None = None) -> Any:
    """``value`` itself, or a PlanError when it nests deeper than ``MAX_JSON_DEPTH``."""
    if nesting_depth(value) > MAX_JSON_DEPTH:
        _too_deep(where, resource)
    return value


def _too_deep(where: str, resource: str | None) -> None:
    _fail(
        where,
        f"is too deeply nested (more than {MAX_JSON_DEPTH} levels of objects and arrays)",
        hint="no API field nests this deep: check how the value was built",
        resource=resource,
    )


def parse_json_text(where: str, text: str, resource: str | None = None) -> Any:
    """``text`` parsed as JSON; a PlanError with the JSON error's line and column."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as e:
        # the last one won silently: a stop named two jobs and stopped the second
        _fail(
            where,
            f"is not valid here: the key {e.key!r} is given twice in one object",
            hint="give each key once",
            resource=resource,
        )
    except json.JSONDecodeError as e:
        _fail(
            where,
            f"is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}",
            hint='write the value as a JSON text in single quotes, e.g. \'{"key": "value"}\'',
            resource=resource,
        )
    except RecursionError:  # the decoder recurses once per level
        _too_deep(where, resource)
    check_depth(where, value, resource)
    _check_finite(where, value, resource)  # Python's json reads NaN, Infinity, 1e999
    return value


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _as_int(where: str, value: Any, resource: str | None) -> int:
    if isinstance(value, bool):
        _fail(where, f"expects an integer, got {_describe(value)}", resource=resource)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and float(value).is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
    _fail(where, f"expects an integer, got {_describe(value)}", resource=resource)
    raise AssertionError("unreachable")


def _check_range(
    where: str,
    number: int,
    fmt: str | None,
    minimum: int | None,
    maximum: int | None,
    resource: str | None,
) -> None:
    low, high = INT_RANGES.get(fmt or "int32", INT_RANGES["int32"])
    if minimum is not None:
        low = max(low, minimum)
    if maximum is not None:
        high = min(high, maximum)
    if not low <= number <= high:
        kind = f" ({fmt})" if fmt else ""
        _fail(
            where,
            f"{number} is out of range: it must be between {low} and {high}{kind}",
            resource=resource,
        )


def _limit_values(value: Any, segments: list[str], path: str) -> Iterable[tuple[str, Any]]:
    """(path as written, value) of every value at ``segments`` inside ``value``."""
    if not segments:
        yield path, value
        return
    head, rest = segments[0], segments[1:]
    if head == "[]":
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _limit_values(item, rest, f"{path}[{i}]")
    elif head == "{}":
        if isinstance(value, dict):
            for key, item in value.items():
                yield from _limit_values(item, rest, f"{path}.{key}" if path else str(key))
    elif isinstance(value, dict) and head in value:
        yield from _limit_values(value[head], rest, f"{path}.{head}" if path else head)


def check_limits(
    where: str, value: Any, limits: Iterable[IntLimit], resource: str | None = None
) -> None:
    """Every integer of ``value`` (an object / array) that ``limits`` names is in its range."""
    for limit in limits:
        for path, item in _limit_values(value, _SEGMENT.findall(limit.path), ""):
            if isinstance(item, bool) or item is None:
                continue
            try:
                number = _as_int(f"{where}, field {path}", item, resource)
            except PlanError:
                continue  # not an integer: the API's own type check reports it
            _check_range(
                f"{where}, field {path}",
                number,
                limit.format,
                limit.minimum,
                limit.maximum,
                resource,
            )


def coerce_value(
    where: str,
    api_type: str,
    value: Any,
    *,
    fmt: str | None = None,
    enum: tuple[str, ...] = (),
    resource: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    limits: tuple[IntLimit, ...] = (),
) -> Any:
    """``value`` checked and converted for a field of ``api_type`` (see the module docstring)."""
    if api_type in ("object", "array"):
        if isinstance(value, str):
            value = parse_json_text(where, value, resource)
        else:
            check_depth(where, value, resource)
            value = _json_ready(value)
            _check_finite(where, value, resource)
        want = dict if api_type == "object" else list
        if not isinstance(value, want):
            article = "a JSON object" if api_type == "object" else "a JSON array"
            _fail(
                where,
                f"expects {article}, got {_describe(value)}",
                hint='give it as JSON text, e.g. \'{"key": "value"}\''
                if api_type == "object"
                else 'give it as JSON text, e.g. \'["a", "b"]\'',
                resource=resource,
            )
        check_limits(where, value, limits, resource)
        return value
    if api_type == "integer" or (api_type == "string" and fmt in INT64_FORMATS):
        number = _as_int(where, value, resource)
        _check_range(where, number, fmt, minimum, maximum, resource)
        return str(number) if fmt in INT64_FORMATS else number
    if api_type == "number":
        if isinstance(value, bool):
            _fail(where, f"expects a number, got {_describe(value)}", resource=resource)
        got: int | float | None = None
        if isinstance(value, int | float):
            got = value
        elif isinstance(value, Decimal):
            got = float(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                got = float(value) if any(c in value for c in ".eE") else int(value)
        if got is None or (isinstance(got, float) and not math.isfinite(got)):
            _fail(where, f"expects a number, got {_describe(value)}", resource=resource)
        return got
    if api_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        _fail(where, f"expects a boolean, got {_describe(value)}", resource=resource)
    # string (and anything the registry calls by another scalar name)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    if not isinstance(value, str):
        hint = None
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            hint = f"quote it: '{value}'"
        _fail(where, f"expects a string, got {_describe(value)}", hint=hint, resource=resource)
    if enum and value not in enum:
        _fail(
            where,
            f"{value!r} is not one of {', '.join(enum)}",
            hint=did_you_mean(value, enum),
            resource=resource,
        )
    return value


__all__ = [
    "INT64_FORMATS",
    "INT_RANGES",
    "MAX_JSON_DEPTH",
    "check_depth",
    "check_limits",
    "coerce_value",
    "nesting_depth",
    "parse_json_text",
]
