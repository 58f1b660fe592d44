"""Statement handlers: one function per statement kind, chosen from a dispatch table.

Catalog statements (SHOW, DESCRIBE, REGISTRY) are answered from the registry alone and import
nothing heavy. Queries plan (pure), bind-check against empty typed tables (so a typo costs no
call), fetch, materialize and run in DuckDB. Mutations live in ``run.mutate``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from stackql_tuning import catalog
from stackql_tuning.errors import Location, ParseError, PlanError, QueryError, StackqlTuningError
from stackql_tuning.result import Result
from stackql_tuning.sql.hints import idle_hints
from stackql_tuning.sql.statement import Statement

if TYPE_CHECKING:
    from stackql_tuning.session import Session

Handler = Callable[["Session", Statement], Result]


def _table(kind: str, table: catalog.Table) -> Result:
    columns, rows = table
    return Result(columns=list(columns), types=["VARCHAR"] * len(columns), rows=rows, kind=kind)


def _parts(target: str | None, n: int, what: str, stmt: Statement) -> list[str]:
    parts = (target or "").split(".") if target else []
    if len(parts) != n:
        shape = ["provider", "provider.service", "provider.service.resource"][n - 1]
        raise PlanError(
            f"{what} needs {shape}, got {target!r}" if target else f"{what} needs IN {shape}",
            location=Location(file=stmt.source, line=stmt.line, column=stmt.column),
        )
    return parts


def handle_show(session: Session, stmt: Statement) -> Result:
    node = stmt.expression
    what, reg = node.what, session.registry  # type: ignore[attr-defined]
    like: str | None = node.like  # type: ignore[attr-defined,assignment]
    ext, target = node.extended, node.target  # type: ignore[attr-defined]
    if what == "PROVIDERS":
        return _table("show", catalog.show_providers(reg, like))
    if what == "SERVICES":
        (prov,) = _parts(target, 1, "SHOW SERVICES", stmt)
        return _table("show", catalog.show_services(reg, prov, like, ext))
    if what == "RESOURCES":
        prov, svc = _parts(target, 2, "SHOW RESOURCES", stmt)
        return _table("show", catalog.show_resources(reg, prov, svc, like, ext))
    if what == "METHODS":
        _parts(target, 3, "SHOW METHODS", stmt)
        result = _table("show", catalog.show_methods(reg, str(target), like, ext))
        note = catalog.view_note(reg, str(target))
        if note is not None:  # an empty table alone said nothing
            result.messages.append(note)
        return result
    if what == "INSERT":
        _parts(target, 3, "SHOW INSERT INTO", stmt)
        required = stmt.has_hint("REQUIRED")
        result = _table("show", catalog.show_insert(reg, str(target), required))
        result.verbatim = True
        return result
    raise ParseError(f"SHOW {what} is not supported")


def handle_describe(session: Session, stmt: Statement) -> Result:
    node = stmt.expression
    _parts(node.target, 3, "DESCRIBE", stmt)  # type: ignore[attr-defined]
    table = catalog.describe(session.registry, node.target, node.extended)  # type: ignore[attr-defined]
    result = _table("describe", table)
    note = catalog.params_note(session.registry, str(node.target))  # type: ignore[attr-defined]
    if note is not None:  # they are selectable and required in a WHERE, yet were not listed
        result.messages.append(note)
    return result


def handle_registry(session: Session, stmt: Statement) -> Result:
    action = stmt.expression.action  # type: ignore[attr-defined]
    if action != "LIST":
        raise PlanError(f"REGISTRY {action} is not supported", hint="REGISTRY LIST")
    rows = []
    for prov in session.registry.providers.values():
        for svc in session.registry.services(prov.name):
            rows.append((prov.name, prov.version, svc.name, svc.version, len(svc.resource_names)))
    cols = ["provider", "version", "service", "service_version", "resources"]
    return Result(columns=cols, types=["VARCHAR"] * 4 + ["INTEGER"], rows=rows, kind="registry")


def handle_query(session: Session, stmt: Statement) -> Result:
    from stackql_tuning.run.select import run_query
    from stackql_tuning.run.user_views import with_user_views

    return run_query(session, with_user_views(session, stmt))


def handle_other(session: Session, stmt: Statement) -> Result:
    """DuckDB's own statements (DDL, COPY, SET...); ``CREATE VIEW`` over provider tables
    defines a live view instead (``run.user_views``)."""
    from stackql_tuning.run.select import run_query
    from stackql_tuning.run.user_views import (
        changes_catalog,
        define_view,
        note_transaction,
        sync,
        with_user_views,
    )

    defined = define_view(session, stmt)
    if defined is not None:
        return defined
    ran = False
    try:
        result = run_query(session, with_user_views(session, stmt))
        ran = True
    finally:
        note_transaction(session, stmt, ran=ran)
        if changes_catalog(stmt) and session.user_view_defs:
            sync(session)
    return result


def handle_mutation(session: Session, stmt: Statement) -> Result:
    from stackql_tuning.run.mutate import run_mutation
    from stackql_tuning.run.user_views import with_user_views

    if _writes_local_table(session, stmt):
        return handle_other(session, stmt)
    return run_mutation(session, with_user_views(session, stmt))


def handle_update(session: Session, stmt: Statement) -> Result:
    """UPDATE of a local table (DuckDB's); no provider resource is changed by an UPDATE."""
    if _writes_local_table(session, stmt):
        return handle_other(session, stmt)
    from stackql_tuning.plan.mutate import target_resource

    resource = target_resource(stmt.expression.this, session.registry, "UPDATE")
    raise PlanError(
        f"UPDATE cannot change {resource.id}: none of its methods updates a resource",
        location=Location(file=stmt.source, line=stmt.line, column=stmt.column),
        hint=f"SHOW METHODS IN {resource.id} lists what it can do (create, delete, "
        "cancel or stop: INSERT, DELETE, EXEC)",
    )


def _writes_local_table(session: Session, stmt: Statement) -> bool:
    """Whether ``stmt`` (INSERT, UPDATE, DELETE) writes a DuckDB table of the session, not a
    provider resource: DuckDB runs it as any statement of its own."""
    from stackql_tuning.plan.targets import local_target

    return local_target(stmt, session.registry, lambda name: session.store.is_attached(name))


HANDLERS: dict[str, Handler] = {
    "show": handle_show,
    "describe": handle_describe,
    "registry": handle_registry,
    "select": handle_query,
    "other": handle_other,
    "insert": handle_mutation,
    "delete": handle_mutation,
    "update": handle_update,
    "exec": handle_mutation,
}


def run_statement(session: Session, stmt: Statement) -> Result:
    handler = HANDLERS.get(stmt.kind)
    if handler is None:
        raise PlanError(
            f"{stmt.kind.upper()} statements are not supported",
            location=Location(file=stmt.source, line=stmt.line, column=stmt.column),
        )
    started = time.monotonic()
    session.statement_started = started
    try:
        result = handler(session, stmt)
    except StackqlTuningError as e:
        _locate(e, stmt)
        if stmt.source and e.location.file is None:
            # a planner error located in the statement's text is in the script's file
            e.location.file = stmt.source
            if e.location.line is None:
                e.location.line = stmt.line
        raise
    result.elapsed = time.monotonic() - started
    result.warnings.extend(idle_hints(stmt.kind, [h.name for h in stmt.hints]))
    return result


def _locate(e: StackqlTuningError, stmt: Statement) -> None:
    """Locate a DuckDB error in the user's text, with the user's line and a caret under it
    (DuckDB's own caret points into the SQL it ran, which is not the user's)."""
    from stackql_tuning.sql.align import error_offset
    from stackql_tuning.sql.locate import excerpt, line_col
    from stackql_tuning.sql.parser import tokenize

    if e.location.column is not None or not isinstance(e, PlanError | QueryError):
        return
    offset = error_offset(e.message, e.sql_spot, stmt.text)
    if offset is None:
        return
    first = tokenize(stmt.text)[0].start  # where stmt.line and stmt.column are
    line, column = line_col(stmt.text, offset)
    line0, column0 = line_col(stmt.text, first)
    e.location.line = stmt.line + line - line0
    e.location.column = stmt.column + column - column0 if line == line0 else column
    e.excerpt = "\n".join(filter(None, [excerpt(stmt.text, offset), e.excerpt]))
