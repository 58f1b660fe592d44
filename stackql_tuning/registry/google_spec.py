"""Google discovery document + selection -> registry definitions (generator side only).

Reads the discovery document that google-api-python-client ships and turns the resources and
methods named by a selection (``selections/google_*.json``) into the JSON of ``providers/``
(format: ``providers/README.md``). Pure functions over dicts, apart from :func:`load_discovery`.

Must not be imported at run time: the runtime reads ``providers/`` only.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

from stackql_tuning.registry.model import body_one_of, db_type_for

EMPTY_SCHEMA = "GoogleProtobufEmpty"
OPERATION_SCHEMA = "GoogleLongrunningOperation"
_PLACEHOLDER = re.compile(r"\{\+?([A-Za-z0-9_]+)\}")
#: "HyperparameterTuningJob.trials of the jobs will be not be returned."
_OMIT_SENTENCE = re.compile(r"\b[A-Z][A-Za-z]*\.([a-z][A-Za-z0-9]*)\b[^.]*\bnot\b[^.]*\breturned")


def discovery_path(api: str, version: str) -> Path:
    """The discovery document shipped inside google-api-python-client."""
    import googleapiclient

    base = Path(googleapiclient.__file__).resolve().parent
    return base / "discovery_cache" / "documents" / f"{api}.{version}.json"


def load_discovery(api: str, version: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(discovery_path(api, version).read_text())
    return doc


def _sdk_version() -> str:
    try:
        return importlib.metadata.version("google-api-python-client")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _api_resource(doc: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: dict[str, Any] = doc
    for part in dotted.split("."):
        node = node["resources"][part]
    return node


def _type_of(prop: dict[str, Any]) -> tuple[str, str | None]:
    """API type as the StackQL pages show it (a ``$ref`` is ``object``) and its format."""
    if "$ref" in prop:
        return "object", None
    return str(prop.get("type", "string")), prop.get("format")


def _ref_of(prop: dict[str, Any]) -> str | None:
    if "$ref" in prop:
        return str(prop["$ref"])
    items = prop.get("items") or {}
    return items.get("$ref")


def _is_int(prop: dict[str, Any]) -> bool:
    """An integer field: ``integer``, or a ``string`` with an int64 / uint64 format."""
    fmt = prop.get("format")
    return prop.get("type") == "integer" or (
        prop.get("type") == "string" and fmt in ("int64", "uint64")
    )


def _bounds(prop: dict[str, Any]) -> dict[str, int | None]:
    """A parameter's or property's discovery ``minimum`` / ``maximum`` (None when absent)."""
    return {k: int(prop[k]) if k in prop else None for k in ("minimum", "maximum")}


def int_limits(
    schemas: dict[str, Any], prop: dict[str, Any], path: str = "", seen: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Every integer inside property ``prop`` (not itself): its path (``a.b``, ``[]`` for array
    items, ``{}`` for map values), format and discovery bounds. Output-only fields are skipped; a
    schema already on the path (a recursive schema) is not walked again."""
    if "$ref" in prop:
        ref = str(prop["$ref"])
        if ref in seen:
            return []
        out = []
        for name, sub in schemas[ref].get("properties", {}).items():
            if not sub.get("readOnly"):
                out += int_limits(schemas, sub, f"{path}.{name}" if path else name, (*seen, ref))
        return out
    if prop.get("type") == "array":
        return int_limits(schemas, prop.get("items") or {}, f"{path}[]", seen)
    if prop.get("type") == "object" and prop.get("additionalProperties"):
        extra = prop["additionalProperties"]
        return int_limits(schemas, extra, f"{path}{{}}", seen)
    if not path or not _is_int(prop):
        return []
    return [
        {
            "path": path,
            "format": prop.get("format"),
            **_bounds(prop),
        }
    ]


def _segment_patterns(method: dict[str, Any], source: str | None) -> dict[str, str]:
    """Each flatPath placeholder's own pattern, cut from the full-name param's pattern.

    ``v1/{+name}`` with pattern ``^projects/[^/]+/locations/[^/]+$`` and flatPath
    ``v1/projects/{projectsId}/locations/{locationsId}`` -> ``{"projectsId": "^[^/]+$", ...}``.
    """
    pattern = (method["parameters"].get(source or "", {}) or {}).get("pattern")
    if not pattern:
        return {}
    prefix, _, rest = method["path"].partition("{")
    suffix = rest.split("}", 1)[1] if "}" in rest else ""
    flat: str = method["flatPath"]
    middle = flat[len(prefix) : len(flat) - len(suffix)] if suffix else flat[len(prefix) :]
    segs = middle.split("/")
    pats = pattern.removeprefix("^").removesuffix("$").split("/")
    if len(segs) != len(pats):
        return {}
    out = {}
    for seg, pat in zip(segs, pats, strict=True):
        m = _PLACEHOLDER.fullmatch(seg)
        if m:
            out[m.group(1)] = f"^{pat}$"
    return out


def _path_params(method: dict[str, Any]) -> list[dict[str, Any]]:
    """The flatPath placeholders (projectsId, ...) as required path params."""
    flat = method["flatPath"]
    original = method["parameters"]
    source = next(
        (n for n in method.get("parameterOrder", []) if original[n]["location"] == "path"), None
    )
    src = original.get(source or "", {})
    patterns = _segment_patterns(method, source)
    out = []
    for name in _PLACEHOLDER.findall(flat):
        desc = f"Path segment `{{{name}}}` of `{source}`."
        if src.get("description"):
            desc += " " + src["description"]
        out.append(
            {
                "name": name,
                "location": "path",
                "required": True,
                "type": "string",
                "db_type": "VARCHAR",
                "format": None,
                "pattern": patterns.get(name, "^[^/]+$"),
                "description": desc,
                "enum": [],
                "minimum": None,
                "maximum": None,
            }
        )
    return out


def _query_params(method: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, p in method.get("parameters", {}).items():
        if p.get("location") != "query":
            continue
        typ, fmt = str(p.get("type", "string")), p.get("format")
        out.append(
            {
                "name": name,
                "location": "query",
                "required": bool(p.get("required", False)),
                "type": typ,
                "db_type": db_type_for(typ, fmt),
                "format": fmt,
                "pattern": p.get("pattern"),
                "description": p.get("description", ""),
                "enum": list(p.get("enum", [])),
                **_bounds(p),
            }
        )
    return out


def _items_key(schemas: dict[str, Any], response: str, item_schema: str) -> str | None:
    for name, prop in schemas.get(response, {}).get("properties", {}).items():
        if prop.get("type") == "array" and (prop.get("items") or {}).get("$ref") == item_schema:
            return str(name)
    return None


def _list_omits(schemas: dict[str, Any], response: str, items_key: str) -> list[str]:
    """Fields the list reply leaves out, as its description says ("X.trials ... not returned")."""
    desc = schemas[response]["properties"][items_key].get("description", "")
    return sorted(set(_OMIT_SENTENCE.findall(desc)))


def _response(
    schemas: dict[str, Any], method: dict[str, Any], resource_schema: str
) -> dict[str, Any]:
    ref = (method.get("response") or {}).get("$ref")
    if ref is None or ref == EMPTY_SCHEMA:
        return {"kind": "empty", "items_key": None, "schema": ref}
    if ref == OPERATION_SCHEMA:
        return {"kind": "operation", "items_key": None, "schema": ref}
    key = _items_key(schemas, ref, resource_schema)
    if key:
        return {"kind": "list", "items_key": key, "schema": ref}
    return {"kind": "object", "items_key": None, "schema": ref}


def _pagination(
    schemas: dict[str, Any], method: dict[str, Any], max_page_size: int | None = None
) -> dict[str, Any] | None:
    params = method.get("parameters", {})
    ref = (method.get("response") or {}).get("$ref", "")
    reply = schemas.get(ref, {}).get("properties", {})
    if "pageToken" not in params or "nextPageToken" not in reply:
        return None
    return {
        "input_token": "pageToken",
        "output_token": "nextPageToken",
        "limit_param": "pageSize" if "pageSize" in params else None,
        "max_page_size": max_page_size if "pageSize" in params else None,
    }


def _body(
    schemas: dict[str, Any], method: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    ref = (method.get("request") or {}).get("$ref")
    if ref is None:
        return [], None
    out = []
    for name, prop in schemas[ref].get("properties", {}).items():
        typ, fmt = _type_of(prop)
        desc = prop.get("description", "")
        out.append(
            {
                "name": name,
                "type": typ,
                "required": desc.startswith("Required."),
                "output_only": bool(prop.get("readOnly", False)),
                "format": fmt,
                "description": desc,
                "enum": list(prop.get("enum", [])),
                "ref": _ref_of(prop),
                **_bounds(prop),
                "limits": int_limits(schemas, prop),
            }
        )
    return out, ref


def _columns(
    schema: dict[str, Any], leading: list[str], carriers: dict[str, list[str]]
) -> list[dict[str, Any]]:
    props: dict[str, Any] = schema.get("properties", {})
    order = [n for n in leading if n in props] + [n for n in props if n not in leading]
    out = []
    for name in order:
        prop = props[name]
        typ, fmt = _type_of(prop)
        out.append(
            {
                "name": name,
                "type": typ,
                "format": fmt,
                "db_type": db_type_for(typ, fmt),
                "description": prop.get("description", ""),
                "output_only": bool(prop.get("readOnly", False)),
                "enum": list(prop.get("enum", [])),
                "methods": carriers.get(name, []),
                "derive": None,
            }
        )
    return out


def _identity(rule: dict[str, Any], api_methods: dict[str, Any]) -> dict[str, Any]:
    """{"column": "name", "template": "projects/{projectsId}/..."} from the get method's paths."""
    if not rule:
        return {}
    m = api_methods[rule.get("method", "get")]
    prefix = m["path"].split("{", 1)[0]  # "v1/" of "v1/{+name}"
    flat: str = m["flatPath"]
    return {"column": rule["column"], "template": flat[len(prefix) :]}


def build_resource(
    doc: dict[str, Any], selection: dict[str, Any], name: str, sel: dict[str, Any]
) -> dict[str, Any]:
    schemas: dict[str, Any] = doc["schemas"]
    api = _api_resource(doc, sel["api_resource"])
    api_methods: dict[str, Any] = api["methods"]
    schema_name = sel.get("schema") or api_methods["get"]["response"]["$ref"]
    schema = schemas[schema_name]

    methods: list[dict[str, Any]] = []
    omits_by_method: dict[str, list[str]] = {}
    for ms in sel["methods"]:
        am = api_methods.get(ms["api_method"])
        if am is None:
            from importlib.metadata import version

            from stackql_tuning.errors import UsageError

            raise UsageError(
                f"the discovery document of google-api-python-client "
                f"{version('google-api-python-client')} has no {sel['api_resource']}."
                f"{ms['api_method']}, which the registry selects",
                hint="pip install -U google-api-python-client (a newer one has it)",
            )
        response = _response(schemas, am, schema_name)
        omits: list[str] = []
        if response["kind"] == "list":
            omits = sorted(set(_list_omits(schemas, response["schema"], response["items_key"])))
            omits = sorted(set(omits) | set(ms.get("omits", [])))
        body, body_schema = _body(schemas, am)
        methods.append(
            {
                "name": ms["name"],
                "sql_verb": ms["sql_verb"],
                "description": am.get("description", ""),
                "aliases": list(ms.get("aliases", [])),
                "request": {
                    "http_method": am["httpMethod"],
                    "path": am["flatPath"],
                    "method_id": am["id"],
                },
                "params": _path_params(am) + _query_params(am),
                "response": response,
                "pagination": _pagination(schemas, am, selection.get("page_size")),
                "omits": omits,
                "body": body,
                "body_schema": body_schema,
                **body_one_of(ms, body),
            }
        )
        omits_by_method[ms["name"]] = omits

    carriers: dict[str, list[str]] = {}
    for m in methods:
        if m["sql_verb"] != "SELECT" or m["response"]["kind"] not in ("list", "object"):
            continue
        for prop in schema.get("properties", {}):
            if prop not in omits_by_method[m["name"]]:
                carriers.setdefault(prop, []).append(m["name"])

    return {
        "provider": selection["provider"],
        "service": selection["service"],
        "name": name,
        "title": sel.get("title") or schema_name.removeprefix("GoogleCloudAiplatformV1"),
        "description": schema.get("description", ""),
        "kind": "resource",
        "schema": schema_name,
        "identity": _identity(sel.get("identity", {}), api_methods),
        "columns": _columns(schema, selection.get("leading_columns", []), carriers),
        "methods": methods,
    }


def build_service(selection: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(service.json, {resource name: resource json}) for one Google selection."""
    src = selection["source"]
    doc = load_discovery(src["api"], src["version"])
    resources = {
        name: build_resource(doc, selection, name, sel)
        for name, sel in selection["resources"].items()
    }
    locations = sorted({e["location"] for e in doc.get("endpoints", []) if "location" in e})
    root = str(doc["rootUrl"])
    service = {
        "name": selection["service"],
        "title": doc.get("title", selection["service"]),
        "version": f"{doc['version']}.{doc['revision']}",
        "description": doc.get("description", ""),
        "documentation": doc.get("documentationLink"),
        "source": {
            "kind": src["kind"],
            "document": f"{src['api']}.{src['version']}",
            "revision": doc["revision"],
            "sdk": "google-api-python-client",
            "sdk_version": _sdk_version(),
        },
        "resources": list(resources),
        "root_url": root,
        "regional_endpoint": root.replace("https://", "https://{location}-", 1),
        "locations": locations,
        "location_param": selection.get("location_param", "locationsId"),
        # the API's system parameter for partial responses ("fields"), when it has one: a
        # statement asks only for the reply fields it reads
        "partial_response": "fields" if "fields" in doc.get("parameters", {}) else None,
    }
    return service, resources
