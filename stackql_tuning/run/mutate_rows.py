"""Rows out of mutations: RETURNING, ``/*+ SHOWRESULTS */``, EXEC ``_list``, and --dry-run tables.

Replies that are resource rows (a create reply, a describe, a list page) are loaded into the
resource's typed DuckDB table exactly as a SELECT loads them (``run.store``), so RETURNING
expressions run in DuckDB over the registry's columns. Replies that are not resource rows (a
long-running operation, an empty reply) become one row of their top-level fields.

Must not: decide which calls to make (``run.mutate``) or name a particular resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.plan.star import leave_out_call_options
from stackql_tuning.registry.model import Method, Resource
from stackql_tuning.result import Result
from stackql_tuning.run.store import PageFile, TableSchema, q, qualified
from stackql_tuning.transports.base import Call, Page

if TYPE_CHECKING:
    from stackql_tuning.session import Session


def is_resource_reply(resource: Resource, method: Method) -> bool:
    """Whether ``method``'s reply is one row of ``resource`` (same schema as its get/list)."""
    schema = method.response.get("schema")
    if method.is_list:
        return True
    if not schema:
        return False
    return schema == resource.raw.get("schema") or any(
        m.response.get("schema") == schema and not m.is_list for m in resource.methods_for("SELECT")
    )


def load_replies(session: Session, resource: Resource, replies: Iterable[tuple[Call, Page]]) -> str:
    """Load resource-row replies into the resource's DuckDB table; its qualified name."""
    store = session.store
    schema = TableSchema(resource)
    store.create_table(resource.id, schema)
    pages = PageFile(store.tmpdir)
    items_key = None
    try:
        for call, page in replies:
            key = "r" if call.method.is_list else "o"
            items_key = call.method.items_key if call.method.is_list else items_key
            origin = (resource.id, call.method.name, call.describe_params())
            if page.raw is not None:
                pages.add_raw(call.params, page.raw, key, origin)
            else:
                pages.add_obj(call.params, page.obj or {}, key, origin)
        store.load(resource.id, schema, pages, items_key)
    finally:
        pages.remove()
    return qualified(resource.id)


def select_rows(
    session: Session,
    resource: Resource,
    table: str,
    exprs: list[exp.Expression] | None,
    kind: str,
    named: Iterable[str] = (),
) -> Result:
    """``SELECT <exprs or *> FROM table`` as a Result (RETURNING / SHOWRESULTS); a star
    leaves out the call options that ``exprs`` (or ``named``: an EXEC's params) do not name
    (``plan.star``)."""
    from_ = exp.to_table(table, dialect="duckdb")
    select = exp.select(*(exprs or [exp.Star()])).from_(from_)
    leave_out_call_options(select, [(from_, resource)], named)
    sql = to_duckdb_sql(select)
    from stackql_tuning.run.query import statement_deadline

    rel = session.store.run(sql, deadline=statement_deadline(session))
    result = Result(
        columns=list(rel.columns),
        types=[str(t) for t in rel.types],
        rows=rel.fetchall(),
        kind=kind,
    )
    return result


def check_returning(session: Session, resource: Resource, exprs: list[exp.Expression]) -> None:
    """Bind ``RETURNING <exprs>`` over the resource's (empty) typed table, before any call: a
    mistyped column is a plan error while nothing has been created yet."""
    store = session.store
    store.create_table(resource.id, TableSchema(resource))
    select = exp.select(*exprs).from_(exp.to_table(qualified(resource.id), dialect="duckdb"))
    try:
        store.bind(to_duckdb_sql(select))
    except PlanError as e:
        raise PlanError(
            f"RETURNING: {e.message} (nothing was created)",
            hint=e.hint or f"DESCRIBE {resource.id} lists its columns",
        ) from None


def dict_rows(objs: list[dict[str, Any]], kind: str) -> Result:
    """Replies that are not resource rows: one row each, columns = the union of their keys."""
    columns: list[str] = []
    for obj in objs:
        for k in obj:
            if k not in columns:
                columns.append(k)
    if not columns:
        columns = ["result"]
        return Result(columns, ["VARCHAR"], [("OK",) for _ in objs], kind=kind)
    types = []
    for c in columns:
        vals = [o.get(c) for o in objs if o.get(c) is not None]
        if vals and all(isinstance(v, bool) for v in vals):
            types.append("BOOLEAN")
        elif vals and all(isinstance(v, dict | list) for v in vals):
            types.append("JSON")
        else:
            types.append("VARCHAR")
    rows = []
    for o in objs:
        row = []
        for c, t in zip(columns, types, strict=True):
            v = o.get(c)
            if t == "JSON" and v is not None:
                v = json.dumps(v, default=str)
            elif t == "VARCHAR" and v is not None and not isinstance(v, str):
                v = json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)
            row.append(v)
        rows.append(tuple(row))
    return Result(columns, types, rows, kind=kind)


def dry_run_table(session: Session, calls: list[Call], extra: list[tuple[str, ...]]) -> Result:
    """What each call would send (credentials never included), and makes none."""
    rows: list[tuple[Any, ...]] = list(extra)
    for call in calls:
        prepared = session.fetcher.prepare(call)
        body = call.body if call.body is not None else prepared.detail.get("body")
        rows.append(
            (
                call.resource.id,
                call.method.name,
                prepared.summary,
                json.dumps(body, sort_keys=True, default=str) if body is not None else None,
            )
        )
    result = Result(
        columns=["resource", "method", "request", "body"],
        types=["VARCHAR"] * 4,
        rows=rows,
        kind="dry-run",
    )
    n = len(calls)
    result.messages.append(f"dry run: {n} call{'s' if n != 1 else ''} would be made; none was made")
    return result


__all__ = [
    "check_returning",
    "dict_rows",
    "dry_run_table",
    "is_resource_reply",
    "load_replies",
    "q",
    "select_rows",
]
