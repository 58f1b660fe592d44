"""The filters and functions templates have beside jinja's own: stackql-deploy's set, so
that its ``.iql`` files and manifests render here unchanged.

- ``from_json``: a JSON text as a list or dict (``{% for x in xs | from_json %}``);
- ``base64_encode``: text as base64;
- ``sql_escape``: a value made safe inside a single-quoted SQL literal (quotes doubled);
- ``sql_list``: a list (or a JSON array text) as a SQL list, ``('a', 'b', 3)``, for ``IN``;
- ``merge_lists``: two lists (or JSON array texts) as one, each item once, in order;
- ``merge_objects``: two dicts (or JSON object texts) as one, the second's keys winning;
- ``generate_patch_document``: a dict as an RFC 6902 JSON patch that adds each key;
- ``uuid()``: a random UUID (version 4).

``finalize`` is how every ``{{ }}`` writes its value: a dict or list as JSON, None as null,
booleans as true/false. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from typing import Any


def finalize(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, separators=(", ", ": "))
    return value


def from_json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise ValueError(f"from_json: not valid JSON ({e.msg} at character {e.pos})") from None


def base64_encode(value: Any) -> str:
    return base64.b64encode(str(value).encode()).decode()


def sql_escape(value: Any) -> str:
    """A value made safe inside a single-quoted SQL string (quotes doubled)."""
    return str(finalize(value)).replace("'", "''")


def _as(kind: type, value: Any, name: str) -> Any:
    """``value`` as a ``kind`` (list or dict), decoding a JSON text; an error naming the
    filter otherwise."""
    if isinstance(value, str):
        value = from_json(value)
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, kind):
        want = "a list" if kind is list else "a dict"
        raise ValueError(f"{name}: wants {want} (or its JSON), got {type(value).__name__}")
    return value


def sql_list(value: Any) -> str:
    """``('a', 'b', 3)``: text quoted (quotes doubled), finite numbers as they are, None as
    NULL; an empty list is ``(NULL)``, which ``IN`` matches nothing with (``IN ()`` is a
    syntax error). A text that is not a JSON array, or a single number, is a list of one; a
    text with a comma in it is an error (``--var names=a,b`` made ``IN ('a,b')``, which
    matched nothing: an empty answer, exit 0)."""
    if isinstance(value, str):
        decoded = json_text_value(value)
        if not isinstance(decoded, list) and "," in value:
            raise ValueError(
                f"sql_list: got the text {value!r}, one value with a comma in it: for several "
                'values give a list (a JSON array, \'["a", "b"]\', or a vars file\'s list), '
                "or split it (names.split(',') | sql_list); for one value, [name] | sql_list"
            )
        value = decoded if isinstance(decoded, list) else [value]
    elif isinstance(value, int | float):
        value = [value]
    items = _as(list, value, "sql_list")
    if not items:
        return "(NULL)"
    parts = []
    for item in items:
        if item is None:
            parts.append("NULL")
        elif isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item):
            parts.append(str(item))
        else:  # text, true/false, NaN and Infinity (as DuckDB reads them: 'nan'::DOUBLE)
            parts.append("'" + sql_escape(item) + "'")
    return "(" + ", ".join(parts) + ")"


def merge_lists(first: Any, second: Any) -> list[Any]:
    out: list[Any] = []
    seen: set[str] = set()
    for item in _as(list, first, "merge_lists") + _as(list, second, "merge_lists"):
        key = json.dumps(item, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def merge_objects(first: Any, second: Any) -> dict[str, Any]:
    return {**_as(dict, first, "merge_objects"), **_as(dict, second, "merge_objects")}


def generate_patch_document(value: Any) -> str:
    """``[{"op": "add", "path": "/Key", "value": ...}, ...]`` as JSON text (AWS Cloud
    Control's patch documents); ``~`` and ``/`` in a key are escaped as RFC 6901 says."""
    patch = [
        {
            "op": "add",
            "path": "/" + str(k).replace("~", "~0").replace("/", "~1"),
            "value": json_text_value(v),
        }
        for k, v in _as(dict, value, "generate_patch_document").items()
    ]
    return json.dumps(patch)


def json_text_value(value: Any) -> Any:
    """A JSON object or array given as text (a prop rendered to JSON) as what it holds."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def new_uuid() -> str:
    return str(uuid.uuid4())


FILTERS = {
    "from_json": from_json,
    "base64_encode": base64_encode,
    "sql_escape": sql_escape,
    "sql_list": sql_list,
    "merge_lists": merge_lists,
    "merge_objects": merge_objects,
    "generate_patch_document": generate_patch_document,
}
GLOBALS = {"uuid": new_uuid}
