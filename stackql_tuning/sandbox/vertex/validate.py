"""Validating create bodies against the discovery schemas, as Google does.

Holds: a walk of a JSON body along a discovery schema that rejects unknown fields, wrong JSON
types and integers outside their format's range (naming the field path), drops output-only
(``readOnly``) fields, checks enum values, and a check of required
dotted field paths. Raises :class:`ApiError` (``INVALID_ARGUMENT``).

Must not: know particular resources (their required fields come from ``kinds.py``), or do I/O.
"""

from __future__ import annotations

from typing import Any

from stackql_tuning.sandbox.vertex.discovery import schema
from stackql_tuning.sandbox.vertex.errors import ApiError

#: integer format -> (lowest, highest): a value outside is a 400, as Google's JSON mapping does
_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_INT_FORMATS = set(_INT_RANGES)


def _bad(path: str, why: str) -> ApiError:
    return ApiError.invalid(f"Invalid value at '{path}': {why}", field=path)


def _check_int(value: Any, path: str, fmt: str | None) -> None:
    if isinstance(value, bool):
        raise _bad(path, f"expected an integer, got {value!r}")
    integral = (
        isinstance(value, int)
        or (isinstance(value, float) and value.is_integer())
        or (isinstance(value, str) and value.strip().lstrip("+-").isdigit())
    )
    if not integral:
        raise _bad(path, f"expected an integer, got {value!r}")
    number = int(value)
    low, high = _INT_RANGES.get(fmt or "int32", _INT_RANGES["int32"])
    if not low <= number <= high:
        kind = (fmt or "int32").upper()
        raise ApiError.invalid(f"Invalid value at '{path}' (TYPE_{kind}), {value}", field=path)


def _check_number(value: Any, path: str) -> None:
    if isinstance(value, bool):
        raise _bad(path, f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return
    raise _bad(path, f"expected a number, got {value!r}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def clean(value: Any, spec: dict[str, Any], path: str, root: str) -> Any:
    """``value`` checked against the property ``spec``; output-only fields removed."""
    if "$ref" in spec:
        return clean_object(value, spec["$ref"], path, root)
    kind = spec.get("type")
    where = path or root
    if kind == "any":
        return value
    if kind == "string":
        fmt = spec.get("format")
        if fmt in _INT_FORMATS:
            _check_int(value, where, fmt)
            return value
        if not isinstance(value, str):
            raise _bad(where, f"expected a string, got {value!r}")
        enum = spec.get("enum")
        if enum and value not in enum:
            raise _bad(where, f"{value!r} is not one of {', '.join(enum)}")
        return value
    if kind == "integer":
        _check_int(value, where, spec.get("format"))
        return value
    if kind == "number":
        _check_number(value, where)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(where, f"expected true or false, got {value!r}")
        return value
    if kind == "array":
        if not isinstance(value, list):
            raise _bad(where, f"expected a list, got {value!r}")
        item = spec.get("items", {})
        return [clean(v, item, f"{where}[{i}]", root) for i, v in enumerate(value)]
    if kind == "object":
        if not isinstance(value, dict):
            raise _bad(where, f"expected an object, got {value!r}")
        extra = spec.get("additionalProperties")
        if extra is not None:
            return {k: clean(v, extra, _join(where, k), root) for k, v in value.items()}
        return dict(value)
    return value


def clean_object(value: Any, ref: str, path: str, root: str) -> dict[str, Any]:
    """``value`` checked against the schema ``ref``: unknown fields and wrong types are errors."""
    if not isinstance(value, dict):
        raise _bad(path or root, f"expected an object, got {value!r}")
    props = schema(ref).get("properties", {})
    out: dict[str, Any] = {}
    for key, item in value.items():
        spec = props.get(key)
        if spec is None:
            where = path or root
            raise ApiError.invalid(
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                "Cannot find field.",
                field=_join(path, key),
            )
        if spec.get("readOnly"):
            continue  # output-only fields are ignored, as Google does
        if item is None:
            continue
        out[key] = clean(item, spec, _join(path, key), root)
    return out


def lookup(body: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path, or None when any part is missing or empty."""
    node: Any = body
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if node in (None, "", [], {}):
        return None
    return node


def require(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    """400 naming every required dotted field path that is missing or empty; an entry
    ``a|b`` is a oneof (``baseModel|preTunedModel.tunedModelName``), missing when every
    alternative is, and named by its first; two of its alternatives set are a 400 too (the
    API's oneof takes one)."""
    missing = []
    for f in fields:
        alternatives = f.split("|")
        given = [a for a in alternatives if lookup(body, a) is not None]
        if len(given) > 1:
            raise ApiError.invalid(
                f"Only one of {', '.join(given)} may be set (oneof)", field=given[1]
            )
        if not given:
            missing.append(alternatives[0])
    if missing:
        raise ApiError.invalid(
            "Required field"
            + ("s are" if len(missing) > 1 else " is")
            + " not specified: "
            + ", ".join(missing),
            field=missing[0],
            fields=missing,
        )


def validate_create(body: Any, ref: str, root: str, required: tuple[str, ...]) -> dict[str, Any]:
    """A create body cleaned against schema ``ref`` with the ``required`` paths present."""
    if not isinstance(body, dict):
        raise ApiError.invalid(
            f"Invalid JSON payload received. Expected an object for '{root}'.", field=root
        )
    cleaned = clean_object(body, ref, "", root)
    require(cleaned, required)
    return cleaned
