"""Generate ``providers/`` from the SDKs' API definitions and the hand-written selections.

Each ``selections/*.json`` names one service: which API resources/operations become which SQL
resources and methods. Its ``source.kind`` picks the builder (Google discovery document or
botocore model); the builder returns the service and resource JSON, and this module writes them
(2-space indent, trailing newline, stable order) with one ``provider.json`` per provider.

Run ``python -m stackql_tuning.registry.generator [--out DIR]`` (or ``stackql-tuning registry
generate``). Never imported at run time: the runtime reads only ``providers/``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

SELECTIONS_DIR = Path(__file__).resolve().parent / "selections"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "providers"

Built = tuple[dict[str, Any], dict[str, dict[str, Any]]]


def _google(selection: dict[str, Any]) -> Built:
    from stackql_tuning.registry import google_spec

    return google_spec.build_service(selection)


def _aws(selection: dict[str, Any]) -> Built:
    from stackql_tuning.registry import aws_spec

    return aws_spec.build_service(selection)


def _views_only(selection: dict[str, Any]) -> Built:
    """A service made only of views (no SDK definition behind it)."""
    service = {
        "name": selection["service"],
        "title": selection.get("title", selection["service"]),
        "version": selection.get("version", "1"),
        "description": selection.get("description", ""),
        "source": {"kind": "views"},
        "resources": [],
    }
    return service, {}


def view_resource(provider: str, service: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A view's definition: columns typed from the selection, the SQL and its params."""
    from stackql_tuning.registry.model import db_type_for

    columns = []
    for c in spec["columns"]:
        typ, fmt = c.get("type", "string"), c.get("format")
        columns.append(
            {
                "name": c["name"],
                "type": typ,
                "format": fmt,
                "db_type": c.get("db_type") or db_type_for(typ, fmt),
                "description": c.get("description", ""),
                "output_only": True,
                "enum": c.get("enum", []),
                "methods": [],
                "derive": None,
            }
        )
    return {
        "provider": provider,
        "service": service,
        "name": name,
        "title": spec.get("title", name),
        "description": spec.get("description", ""),
        "kind": "view",
        "identity": {},
        "columns": columns,
        "methods": [],
        "view": {
            "sql": spec["sql"],
            "params": spec.get("params", {}),
            "optional_branches": bool(spec.get("optional_branches", False)),
        },
    }


#: selection ``source.kind`` -> (builder, transport name written to provider.json)
BUILDERS: dict[str, tuple[Callable[[dict[str, Any]], Built], str]] = {
    "google-discovery": (_google, "google"),
    "botocore": (_aws, "aws"),
    "views": (_views_only, "views"),
}


#: selection keys copied as they are into a resource's definition (read by the planner:
#: ``pushdown`` rules, ``lifecycle`` for /*+ AWAIT */ terminal states, ``param_sources`` to fill
#: a param column from another column, e.g. the account id from an ARN)
PASSTHROUGH = ("pushdown", "lifecycle", "param_sources")


def dump_json(obj: Any) -> str:
    """The one JSON text format of ``providers/``: 2-space indent, UTF-8, trailing newline."""
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def load_selections(directory: Path = SELECTIONS_DIR) -> list[dict[str, Any]]:
    return [json.loads(f.read_text()) for f in sorted(directory.glob("*.json"))]


def build(selections: list[dict[str, Any]]) -> dict[Path, Any]:
    """Relative path -> JSON document, for every file of ``providers/``."""
    files: dict[Path, Any] = {}
    providers: dict[str, dict[str, Any]] = {}
    for sel in selections:
        builder, transport = BUILDERS[sel["source"]["kind"]]
        service, resources = builder(sel)
        prov, svc = sel["provider"], sel["service"]
        for name, spec in sel.get("views", {}).items():
            resources[name] = view_resource(prov, svc, name, spec)
            service["resources"].append(name)
        files[Path(prov, svc, "service.json")] = service
        for name, res in resources.items():
            chosen = sel["resources"].get(name, {})
            for key in PASSTHROUGH:
                if key in chosen:
                    res[key] = chosen[key]
            files[Path(prov, svc, f"{name}.json")] = res
        entry = providers.setdefault(
            prov,
            {
                "name": prov,
                "version": "",
                "description": sel.get("provider_description", ""),
                "transport": transport,
                "services": [],
            },
        )
        entry["services"].append(svc)
        entry.setdefault("_versions", []).append(f"{svc}-{service['version']}")
    for prov, entry in providers.items():
        entry["services"].sort()
        entry["version"] = "+".join(sorted(entry.pop("_versions")))
        files[Path(prov, "provider.json")] = entry
    return files


def generate(out_dir: Path, selections_dir: Path = SELECTIONS_DIR) -> list[Path]:
    """Write every definition under ``out_dir``; returns the written paths (sorted).

    Files under ``out_dir/<provider>/`` that the generator no longer produces are removed, so the
    output is exactly the generated set (``out_dir/README.md`` and other top-level files stay).
    """
    out_dir = Path(out_dir)
    files = build(load_selections(selections_dir))
    written: list[Path] = []
    for rel in sorted(files):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = dump_json(files[rel])
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    keep = {out_dir / rel for rel in files}
    for prov in {rel.parts[0] for rel in files}:
        for stale in (out_dir / prov).rglob("*.json"):
            if stale not in keep:
                stale.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stackql_tuning.registry.generator",
        description="Regenerate the resource definitions under providers/.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    paths = generate(args.out)
    print(f"wrote {len(paths)} files under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
