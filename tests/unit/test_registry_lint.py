"""Lint every shipped definition under providers/ (botocore's "every model is valid" test)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import DB_TYPES, Resource

REPO = Path(__file__).resolve().parents[2]
REGISTRY = Registry(REPO / "providers")
ALL = REGISTRY.all_resources()
RESOURCES = [r for r in ALL if r.kind != "view"]
VIEWS = [r for r in ALL if r.kind == "view"]
KNOWN_DB_TYPES = set(DB_TYPES.values())
VERBS = {"SELECT", "INSERT", "DELETE", "EXEC"}
PLACEHOLDER = re.compile(r"\{\+?([A-Za-z0-9_]+)\}")


def test_something_is_shipped() -> None:
    assert {r.provider for r in RESOURCES} == {"google", "aws"}
    assert len(RESOURCES) >= 4


def test_providers_services_and_files_agree() -> None:
    root = REPO / "providers"
    for prov in REGISTRY.providers.values():
        assert prov.transport in {"google", "aws", "views"}
        assert prov.version
        for svc in REGISTRY.services(prov.name):
            listed = set(svc.resource_names)
            files = {p.stem for p in (root / prov.name / svc.name).glob("*.json")} - {"service"}
            assert listed == files, svc.id


@pytest.mark.parametrize("res", RESOURCES, ids=lambda r: r.id)
def test_resource_is_well_formed(res: Resource) -> None:
    names = [c.name for c in res.columns]
    assert len(names) == len(set(names)), "duplicate columns"
    methods = [m.name for m in res.methods]
    assert len(methods) == len(set(methods)), "duplicate methods"
    aliases = [a for m in res.methods for a in m.aliases]
    assert not set(aliases) & set(methods) and len(aliases) == len(set(aliases))
    assert res.methods_for("SELECT"), "every resource needs a SELECT method"
    select_names = {m.name for m in res.methods_for("SELECT")}
    for c in res.columns:
        assert c.db_type in KNOWN_DB_TYPES, (c.name, c.db_type)
        assert c.type in {"string", "integer", "number", "boolean", "object", "array"}, c.name
        assert set(c.methods) <= select_names, c.name
        if c.derive:
            assert res.column(c.derive["column"]) is not None, c.name
            assert c.derive["path"].startswith("$"), c.name
        assert c.methods or c.derive, f"{c.name} comes from no reply and is not derived"


@pytest.mark.parametrize("res", RESOURCES, ids=lambda r: r.id)
def test_methods_are_well_formed(res: Resource) -> None:
    columns = {c.name for c in res.columns}
    for m in res.methods:
        where = f"{res.id}.{m.name}"
        assert m.sql_verb in VERBS, where
        assert m.description, where
        params = [p.name for p in m.params]
        assert len(params) == len(set(params)), where
        for p in m.params:
            assert p.location in {"path", "query", "body", "client"}, (where, p.name)
            assert p.db_type in KNOWN_DB_TYPES, (where, p.name)
        assert m.response.get("kind") in {"list", "object", "empty", "operation"}, where
        if m.is_list:
            assert m.items_key, where
        if m.pagination:
            assert m.param(m.pagination.input_token) is not None, where
            if m.pagination.limit_param:
                assert m.param(m.pagination.limit_param) is not None, where
        assert set(m.omits) <= columns, where
        if m.sql_verb == "SELECT":
            assert m.response["kind"] in {"list", "object"}, where
        if m.sql_verb == "INSERT":
            assert m.body, f"{where}: an INSERT needs body fields"
        body = [b.name for b in m.body]
        assert len(body) == len(set(body)), where


@pytest.mark.parametrize(
    "res", [r for r in RESOURCES if r.provider == "google"], ids=lambda r: r.id
)
def test_google_requests(res: Resource) -> None:
    svc = REGISTRY.service(res.provider, res.service)
    assert "{location}" in svc.data["regional_endpoint"]
    assert svc.data["locations"]
    loc = svc.data["location_param"]
    for m in res.methods:
        where = f"{res.id}.{m.name}"
        assert m.request["http_method"] in {"GET", "POST", "DELETE", "PATCH", "PUT"}, where
        placeholders = PLACEHOLDER.findall(m.request["path"])
        path_params = [p.name for p in m.params if p.location == "path"]
        assert placeholders == path_params, where
        for p in m.params:
            if p.location == "path":
                assert p.required and p.pattern and re.compile(p.pattern), (where, p.name)
        assert loc in path_params, where
    ident = res.identity
    assert res.column(ident["column"]) is not None
    get = res.methods_for("SELECT")[0]
    assert set(PLACEHOLDER.findall(ident["template"])) == set(get.required_params)


@pytest.mark.parametrize("res", [r for r in RESOURCES if r.provider == "aws"], ids=lambda r: r.id)
def test_aws_requests(res: Resource) -> None:
    import botocore

    svc = REGISTRY.service(res.provider, res.service)
    region = svc.data["region_param"]
    for m in res.methods:
        where = f"{res.id}.{m.name}"
        op = m.request["operation"]
        assert m.request["client_method"] == botocore.xform_name(op), where
        assert m.request["client_method"] in m.aliases, where
        p = m.param(region)
        assert p is not None and p.required and p.location == "client", where
        assert all(q.location in {"body", "client"} for q in m.params), where
    assert res.identity == {}


def test_definitions_are_plain_json_with_trailing_newline() -> None:
    for path in sorted((REPO / "providers").rglob("*.json")):
        text = path.read_text()
        assert text.endswith("}\n") and not text.endswith("\n\n"), path
        assert json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n" == text, path


@pytest.mark.parametrize("view", VIEWS, ids=lambda r: r.id)
def test_view_columns_are_what_its_sql_returns(view: Resource) -> None:
    """Bind the view's SQL against empty typed provider tables: same names, same types."""
    from stackql_tuning.plan.select import plan_query
    from stackql_tuning.plan.views import expand_views
    from stackql_tuning.run.store import Store, TableSchema
    from stackql_tuning.sql import parse_one

    assert view.view and view.view["sql"]
    tree = expand_views(parse_one(f"SELECT * FROM {view.id}").expression, REGISTRY)
    plan = plan_query(
        tree,
        REGISTRY,
        defaults={"projectsId": ["p"], "locationsId": ["l"], "region": ["us-east-1"]},
    )
    store = Store()
    try:
        for slot in plan.slots:
            store.create_table(slot.name, TableSchema(slot.resource))
        rel = store.run(tree.sql(dialect="duckdb"))
        got = list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    finally:
        store.close()
    want = [
        (c.name, c.db_type.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE")) for c in view.columns
    ]
    assert got == want
    for param in view.view.get("params", {}):
        assert view.column(param) is not None, f"view param {param} is not a column"
