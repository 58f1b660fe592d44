"""The aiplatform v1 discovery document, seen as the emulator needs it.

Holds: loading the document that google-api-python-client ships (once per process), the
collections the emulator serves (their methods, HTTP routes, item schemas, list items key) and
schema lookups. Everything here is derived from the document; nothing names a resource except
the tuple of collection names the emulator is asked to serve.

Must not: do I/O beyond reading the document, or know how jobs behave (that is ``kinds.py``).
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

_PLACEHOLDER = re.compile(r"\{\+?([A-Za-z0-9_]+)\}")
#: "HyperparameterTuningJob.trials of the jobs will be not be returned." (list reply docs)
_OMIT_SENTENCE = re.compile(r"\b[A-Z][A-Za-z]*\.([a-z][A-Za-z0-9]*)\b[^.]*\bnot\b[^.]*\breturned")
LOCATION_PATH = ("projects", "locations")


def discovery_path() -> Path:
    """Where the installed google-api-python-client keeps ``aiplatform.v1.json``."""
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or spec.origin is None:  # pragma: no cover - it is a dependency
        raise RuntimeError("google-api-python-client is not installed")
    base = Path(spec.origin).resolve().parent
    return base / "discovery_cache" / "documents" / "aiplatform.v1.json"


@cache
def document() -> dict[str, Any]:
    """The parsed discovery document (read once per process)."""
    doc: dict[str, Any] = json.loads(discovery_path().read_text())
    return doc


@dataclass(frozen=True)
class Route:
    """One HTTP route: a discovery method of a collection."""

    collection: str
    method: str
    http_method: str
    flat_path: str
    pattern: re.Pattern[str]
    request_ref: str | None
    response_ref: str | None


@dataclass(frozen=True)
class Collection:
    """A discovery collection under ``projects.locations`` (e.g. a kind of job)."""

    name: str
    item_ref: str
    items_key: str
    id_param: str
    methods: dict[str, Route] = field(default_factory=dict)
    list_omits: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        return schema(self.item_ref)


@cache
def locations() -> frozenset[str]:
    """The locations the document lists endpoints for (``us-central1``, ``europe-west4``...)."""
    return frozenset(str(e["location"]) for e in document().get("endpoints", []) if "location" in e)


def _compile(flat_path: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(flat_path):
        out.append(re.escape(flat_path[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>[^/:]+)")
        pos = m.end()
    out.append(re.escape(flat_path[pos:]))
    return re.compile("^/" + "".join(out) + "$")


def _location_node() -> dict[str, Any]:
    node: dict[str, Any] = document()
    for part in LOCATION_PATH:
        node = node["resources"][part]
    return node


def _routes(name: str, node: dict[str, Any]) -> dict[str, Route]:
    routes = {}
    for mname, m in node.get("methods", {}).items():
        routes[mname] = Route(
            collection=name,
            method=mname,
            http_method=m["httpMethod"],
            flat_path=m["flatPath"],
            pattern=_compile(m["flatPath"]),
            request_ref=(m.get("request") or {}).get("$ref"),
            response_ref=(m.get("response") or {}).get("$ref"),
        )
    return routes


@cache
def collection(name: str) -> Collection:
    """The collection ``projects.locations.<name>`` of the document."""
    node = _location_node()["resources"][name]
    routes = _routes(name, node)
    item_ref = routes["get"].response_ref or ""
    list_ref = routes["list"].response_ref or ""
    list_props = schema(list_ref).get("properties", {})
    items_key = next(k for k, v in list_props.items() if v.get("type") == "array")
    omits = tuple(_OMIT_SENTENCE.findall(list_props[items_key].get("description", "")))
    id_param = _PLACEHOLDER.findall(routes["get"].flat_path)[-1]
    return Collection(name, item_ref, items_key, id_param, routes, omits)


def collection_names() -> list[str]:
    """Every collection under ``projects.locations`` that has get/list/create methods."""
    out = []
    for name, node in _location_node()["resources"].items():
        if {"get", "list", "create"} <= set(node.get("methods", {})):
            out.append(name)
    return out


@cache
def operation_routes() -> dict[str, Route]:
    """Routes of ``projects.locations.operations`` (the emulator serves ``get``)."""
    return _routes("operations", _location_node()["resources"]["operations"])


def schema(ref: str) -> dict[str, Any]:
    """A schema of the document by its id."""
    found: dict[str, Any] = document()["schemas"][ref]
    return found


def singular(collection_name: str) -> str:
    """``hyperparameterTuningJobs`` -> ``hyperparameter_tuning_job`` (Google's error spelling)."""
    stem = collection_name[:-1] if collection_name.endswith("s") else collection_name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()
