"""botocore service model + selection -> registry definitions (generator side only).

Loads the ``service-2`` and ``paginators-1`` models through ``botocore.loaders`` and turns the
operations named by a selection (``selections/aws_*.json``) into the JSON of ``providers/``
(format: ``providers/README.md``). Apart from :func:`load_models`, pure functions over dicts.

Must not be imported at run time: the runtime reads ``providers/`` only.
"""

from __future__ import annotations

import html
import importlib.metadata
import re
from typing import Any

from stackql_tuning.registry.model import body_one_of, db_type_for

#: botocore shape type -> (API type as the docs show it, format)
SHAPE_TYPES: dict[str, tuple[str, str | None]] = {
    "string": ("string", None),
    "integer": ("integer", "int32"),
    "long": ("integer", "int64"),
    "float": ("number", "float"),
    "double": ("number", "double"),
    "boolean": ("boolean", None),
    "timestamp": ("string", "date-time"),
    "structure": ("object", None),
    "map": ("object", None),
    "list": ("array", None),
    "blob": ("string", "byte"),
}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def load_models(service_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(service-2, paginators-1) of a botocore service, via botocore.loaders."""
    import botocore.loaders

    loader = botocore.loaders.create_loader()
    model = loader.load_service_model(service_name, "service-2")
    try:
        pages = loader.load_service_model(service_name, "paginators-1")
    except Exception:  # pragma: no cover - every service we select has paginators
        pages = {"pagination": {}}
    return model, pages


def available_regions(service_name: str) -> list[str]:
    import botocore.session

    return sorted(botocore.session.get_session().get_available_regions(service_name))


def client_method(operation: str) -> str:
    import botocore

    return str(botocore.xform_name(operation))


def _sdk_version() -> str:
    try:
        return importlib.metadata.version("botocore")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def text(doc: str | None) -> str:
    """botocore's HTML documentation as one line of plain text."""
    if not doc:
        return ""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", doc))).strip().replace(" .", ".")


def _type(shape: dict[str, Any]) -> tuple[str, str | None]:
    return SHAPE_TYPES.get(shape["type"], ("string", None))


def _member_param(
    shapes: dict[str, Any], name: str, ref: dict[str, Any], required: bool
) -> dict[str, Any]:
    shape = shapes[ref["shape"]]
    typ, fmt = _type(shape)
    minimum, maximum = _bounds(shape)
    return {
        "name": name,
        "location": "body",
        "required": required,
        "type": typ,
        "db_type": db_type_for(typ, fmt),
        "format": fmt,
        "pattern": _string_pattern(shape) if typ == "string" and fmt is None else None,
        "description": text(ref.get("documentation") or shape.get("documentation")),
        "enum": list(shape.get("enum", [])),
        "minimum": minimum,
        "maximum": maximum,
    }


def _string_pattern(shape: dict[str, Any]) -> str | None:
    """A string shape's botocore ``pattern`` and length bounds as one anchored Python regex
    (botocore checks neither before sending: the API refuses the call), or None when it has
    neither, or its pattern is not Python's regex syntax (``\\p{L}``...)."""
    pattern, low, high = shape.get("pattern"), shape.get("min"), shape.get("max")
    if pattern is None and low is None and high is None:
        return None
    length = f"(?=.{{{int(low or 0)},{'' if high is None else int(high)}}}$)"
    out = f"^{length}(?:{pattern or '.*'})$"
    try:
        re.compile(out, re.S)
    except re.error:
        return None
    return out


def _bounds(shape: dict[str, Any]) -> tuple[int | None, int | None]:
    """An integer shape's ``min`` / ``max`` (botocore's bounds), else (None, None)."""
    if _type(shape)[0] != "integer":
        return None, None
    low, high = shape.get("min"), shape.get("max")
    return (
        int(low) if low is not None else None,
        int(high) if high is not None else None,
    )


def int_limits(
    shapes: dict[str, Any], shape_name: str, path: str = "", seen: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Every integer inside shape ``shape_name``: its path (``a.b``, ``[]`` for list members,
    ``{}`` for map values), format and botocore bounds. A shape already on the path (a recursive
    shape) is not walked again."""
    shape = shapes[shape_name]
    if shape_name in seen:
        return []
    seen = (*seen, shape_name)
    kind = shape["type"]
    if kind == "structure":
        out = []
        for member, ref in shape.get("members", {}).items():
            out += int_limits(shapes, ref["shape"], f"{path}.{member}" if path else member, seen)
        return out
    if kind == "list":
        return int_limits(shapes, shape["member"]["shape"], f"{path}[]", seen)
    if kind == "map":
        return int_limits(shapes, shape["value"]["shape"], f"{path}{{}}", seen)
    typ, fmt = _type(shape)
    if typ != "integer" or not path:
        return []
    minimum, maximum = _bounds(shape)
    return [{"path": path, "format": fmt, "minimum": minimum, "maximum": maximum}]


def _region_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "location": "client",
        "required": True,
        "type": "string",
        "db_type": "VARCHAR",
        "format": None,
        "pattern": None,
        "description": "The AWS region the call is sent to (e.g. us-east-1).",
        "enum": [],
        "minimum": None,
        "maximum": None,
    }


def _account_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "location": "client",
        "required": False,
        "type": "string",
        "db_type": "VARCHAR",
        "format": None,
        "pattern": "^[0-9]{12}$",
        "description": "The AWS account the call is made in: a 12-digit account id, mapped to "
        "credentials (profile or role to assume) by the config file; the default credentials' "
        "own account when not given.",
        "enum": [],
        "minimum": None,
        "maximum": None,
    }


def _body_field(shapes: dict[str, Any], name: str, ref: dict[str, Any], required: bool) -> dict:
    shape = shapes[ref["shape"]]
    typ, fmt = _type(shape)
    nested = ref["shape"] if shape["type"] in ("structure", "map") else None
    if shape["type"] == "list":
        nested = shape["member"]["shape"]
    minimum, maximum = _bounds(shape)
    return {
        "name": name,
        "type": typ,
        "required": required,
        "output_only": False,
        "format": fmt,
        "description": text(ref.get("documentation") or shape.get("documentation")),
        "enum": list(shape.get("enum", [])),
        "ref": nested,
        "minimum": minimum,
        "maximum": maximum,
        "limits": int_limits(shapes, ref["shape"])
        if shape["type"] in ("structure", "list", "map")
        else [],
    }


def _column(shapes: dict[str, Any], name: str, ref: dict[str, Any]) -> dict[str, Any]:
    shape = shapes[ref["shape"]]
    typ, fmt = _type(shape)
    return {
        "name": name,
        "type": typ,
        "format": fmt,
        "db_type": db_type_for(typ, fmt),
        "description": text(ref.get("documentation") or shape.get("documentation")),
        "output_only": False,
        "enum": list(shape.get("enum", [])),
        "methods": [],
        "derive": None,
    }


def _row_members(
    model: dict[str, Any], pages: dict[str, Any], op: str
) -> tuple[str | None, dict[str, Any]]:
    """(items key, members of one row) of an operation's reply; items key None = one object."""
    shapes = model["shapes"]
    out = model["operations"][op].get("output")
    if out is None:
        return None, {}
    members = shapes[out["shape"]]["members"]
    key = (pages["pagination"].get(op) or {}).get("result_key")
    if isinstance(key, str):
        item = shapes[members[key]["shape"]]["member"]["shape"]
        return key, dict(shapes[item]["members"])
    return None, dict(members)


def _method(
    model: dict[str, Any],
    pages: dict[str, Any],
    ms: dict[str, Any],
    region_param: str,
    account_param: str | None = None,
) -> dict[str, Any]:
    shapes = model["shapes"]
    op = ms["operation"]
    spec = model["operations"][op]
    members: dict[str, Any] = {}
    required: list[str] = []
    if "input" in spec:
        in_shape = shapes[spec["input"]["shape"]]
        members = in_shape.get("members", {})
        required = in_shape.get("required", [])
    insert = ms["sql_verb"] == "INSERT"
    params = (
        []
        if insert
        else [_member_param(shapes, n, ref, n in required) for n, ref in members.items()]
    )
    params.append(_region_param(region_param))
    if account_param:
        params.append(_account_param(account_param))
    body = (
        [_body_field(shapes, n, ref, n in required) for n, ref in members.items()] if insert else []
    )

    items_key, _ = _row_members(model, pages, op)
    out_shape = (spec.get("output") or {}).get("shape")
    kind = "list" if items_key else ("object" if out_shape else "empty")
    pag = pages["pagination"].get(op)
    pagination = None
    if pag and ms["sql_verb"] == "SELECT":
        limit = pag.get("limit_key")
        max_size = shapes[members[limit]["shape"]].get("max") if limit in members else None
        pagination = {
            "input_token": pag["input_token"],
            "output_token": pag["output_token"],
            "limit_param": limit,
            "max_page_size": max_size,
        }
    alias = client_method(op)
    return {
        "name": ms["name"],
        "sql_verb": ms["sql_verb"],
        "description": text(spec.get("documentation")),
        "aliases": sorted({alias, *ms.get("aliases", [])} - {ms["name"]}),
        "request": {"operation": op, "client_method": alias},
        "params": params,
        "response": {"kind": kind, "items_key": items_key, "schema": out_shape},
        "pagination": pagination,
        "omits": [],
        "body": body,
        "body_schema": spec["input"]["shape"] if insert and "input" in spec else None,
        **body_one_of(ms, body),
    }


def build_resource(
    model: dict[str, Any],
    pages: dict[str, Any],
    selection: dict[str, Any],
    name: str,
    sel: dict[str, Any],
) -> dict[str, Any]:
    shapes = model["shapes"]
    region_param = selection.get("region_param", "region")
    account_param = selection.get("account_param")
    methods = [_method(model, pages, ms, region_param, account_param) for ms in sel["methods"]]

    # columns: the select replies' members, describe (object) replies first, then summaries
    selects = [ms for ms in sel["methods"] if ms["sql_verb"] == "SELECT"]
    selects.sort(key=lambda ms: _row_members(model, pages, ms["operation"])[0] is not None)
    columns: dict[str, dict[str, Any]] = {}
    for ms in selects:
        _, members = _row_members(model, pages, ms["operation"])
        for member, ref in members.items():
            entry = columns.setdefault(member, _column(shapes, member, ref))
            entry["methods"].append(ms["name"])
    for d in sel.get("derived_columns", []):
        source = columns[d["from"]]
        col = columns.get(d["name"])
        if col is None:
            col = dict(source, name=d["name"], methods=[], enum=list(source["enum"]))
            columns[d["name"]] = col
        if d.get("description"):
            col["description"] = d["description"]
        col["derive"] = {"column": d["from"], "path": d["path"]}
        if d.get("members"):  # an object rebuilt with other member names: {new: source member}
            col["derive"]["members"] = dict(d["members"])
    select_names = [ms["name"] for ms in sel["methods"] if ms["sql_verb"] == "SELECT"]
    for col in columns.values():
        col["methods"] = [n for n in select_names if n in col["methods"]]
    for m in methods:
        if m["sql_verb"] == "SELECT":
            m["omits"] = [
                c["name"]
                for c in columns.values()
                if m["name"] not in c["methods"] and c["derive"] is None
            ]

    return {
        "provider": selection["provider"],
        "service": selection["service"],
        "name": name,
        "title": sel.get("title", name),
        "description": text(model["operations"][selects[0]["operation"]].get("documentation")),
        "kind": "resource",
        "schema": (model["operations"][selects[0]["operation"]].get("output") or {}).get("shape"),
        "identity": dict(sel.get("identity", {})),
        "columns": list(columns.values()),
        "methods": methods,
    }


def build_service(selection: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(service.json, {resource name: resource json}) for one botocore selection."""
    src = selection["source"]
    model, pages = load_models(src["service_name"])
    meta = model["metadata"]
    resources = {
        name: build_resource(model, pages, selection, name, sel)
        for name, sel in selection["resources"].items()
    }
    service = {
        "name": selection["service"],
        "title": meta.get("serviceFullName", selection["service"]),
        "version": meta["apiVersion"],
        "description": text(model.get("documentation")),
        "documentation": None,
        "source": {
            "kind": src["kind"],
            "document": f"{src['service_name']}/{meta['apiVersion']}/service-2",
            "revision": meta["apiVersion"],
            "sdk": "botocore",
            "sdk_version": _sdk_version(),
        },
        "resources": list(resources),
        "service_name": src["service_name"],
        "api_version": meta["apiVersion"],
        "region_param": selection.get("region_param", "region"),
        "regions": available_regions(src["service_name"]),
    }
    return service, resources
