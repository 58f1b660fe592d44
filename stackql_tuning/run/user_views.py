"""The user's live views (``plan.user_views``) in a session: define, expand, keep in step.

``CREATE VIEW`` over provider tables makes no call. The view's query goes into the session
(``Session.user_views``), and DuckDB gets a *placeholder* view of the same name whose body
raises an error if DuckDB ever reads it: DuckDB's catalog then decides every name clash
(``CREATE VIEW`` over an existing table, ``CREATE TABLE`` over the view, ``IF NOT EXISTS``,
``DROP TABLE`` of the view...) exactly as for its own views, and ``DROP VIEW``, ``ALTER VIEW ...
RENAME`` or ``DROP SCHEMA ... CASCADE`` run as DuckDB statements. After such a statement the
session's views are read back from DuckDB's catalog (:func:`sync`): a view whose placeholder
is gone is forgotten, a renamed one follows its placeholder.

Must not: fetch anything (a view's tables are read by the statements that name it).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError
from stackql_tuning.plan.targets import check_not_written
from stackql_tuning.plan.user_views import (
    UserView,
    candidate_key,
    expand_user_views,
    is_temporary,
    mentions,
    reads_provider,
    view_definition,
)
from stackql_tuning.result import Result
from stackql_tuning.sql.statement import Statement

if TYPE_CHECKING:
    from stackql_tuning.session import Session

#: in a placeholder's body: the token that ties it to its session view
_MARK = "stackql-tuning live view #"


def with_user_views(session: Session, stmt: Statement) -> Statement:
    """``stmt`` with every user view it reads replaced by the view's query (itself when it
    reads none)."""
    views = session.user_views
    if not mentions(stmt.expression, views):
        return stmt
    tree = expand_user_views(stmt.expression.copy(), views)
    assert isinstance(tree, exp.Expression)
    return dataclasses.replace(stmt, expression=tree)


def define_view(session: Session, stmt: Statement) -> Result | None:
    """Run ``CREATE VIEW`` when its query reads provider tables (a live view); None for any
    other statement, a view over local tables included (DuckDB runs those)."""
    found = view_definition(stmt.expression)
    if found is None:
        return None
    name, query, columns = found
    views = session.user_views
    if not reads_provider(query, views, session.registry):
        return None
    check_not_written(stmt, session.registry)  # CREATE VIEW google.aiplatform.x: refused
    node = stmt.expression
    catalog, schema, _ = candidate_key(name, is_temporary(node))
    view = UserView(
        name=name.name,
        query=query.copy(),
        schema=schema,
        catalog=catalog,
        columns=columns,
        token=uuid.uuid4().hex,
    )
    # the view as it will be expanded must not read itself (CREATE OR REPLACE VIEW v AS ...
    # FROM v over the old v): said now, not by every statement that names it
    trial = {k: v for k, v in views.items() if k != view.key}
    trial[view.key] = view
    try:
        expand_user_views(exp.select("*").from_(name.copy()), trial)
    except PlanError:
        shown = name.sql(dialect="duckdb")
        raise PlanError(
            f"view {shown} would read itself, directly or through other views",
            location=Location(file=stmt.source, line=stmt.line, column=stmt.column),
            hint=f"define {shown} over the tables it should read",
        ) from None
    if node.args.get("exists") and view.key in views:
        return _defined(session, "OK (the view exists already: left as it is)")
    placeholder = node.copy()
    placeholder.set("this", name.copy())  # no column list: the placeholder has one column
    message = exp.Literal.string(
        f"{name.sql(dialect='duckdb')} is a view over provider tables, read by each statement "
        f"that names it, not from here ({_MARK}{view.token})"
    )
    placeholder.set("expression", exp.select(exp.func("error", message).as_("live_view")))
    session.store.run(placeholder.sql(dialect="duckdb"))
    sync(session, view)
    defined = view.token in {v.token for v in session.user_views.values()}
    if not defined:  # IF NOT EXISTS, and a table or view of that name exists
        return _defined(session, "OK (a table or view of that name exists: left as it is)")
    label = next(v.label for v in session.user_views.values() if v.token == view.token)
    return _defined(
        session,
        f"OK: view {label} reads provider tables; each statement that names it reads them "
        "again (no call was made now)",
    )


def _defined(session: Session, message: str) -> Result:
    if session.settings.dry_run:
        result = Result(
            columns=["resource", "method", "request"],
            types=["VARCHAR"] * 3,
            rows=[],
            kind="dry-run",
        )
    else:
        result = Result(columns=[], types=[], rows=[], kind="other", has_rows=False)
    result.messages.append(message)
    return result


def changes_catalog(stmt: Statement) -> bool:
    """Whether ``stmt`` may drop, rename or replace a view (then :func:`sync` follows it)."""
    return isinstance(stmt.expression, exp.Create | exp.Drop | exp.Alter)


def sync(session: Session, new: UserView | None = None) -> None:
    """The session's views (and ``new``), as DuckDB's catalog now has their placeholders: a
    view whose placeholder was dropped or replaced is forgotten, a renamed one renamed."""
    views = list(session.user_views.values()) + ([new] if new is not None else [])
    if not views:
        return
    by_token: dict[str, UserView] = {v.token: v for v in views}
    rows: list[tuple[Any, ...]] = session.store.execute(
        "SELECT database_name, schema_name, view_name, sql FROM duckdb_views() "
        "WHERE NOT internal AND contains(sql, ?)",
        [_MARK],
    )
    kept: dict[tuple[str, str, str], UserView] = {}
    for catalog, schema, name, sql in rows:
        token = str(sql).rsplit(_MARK, 1)[-1].split(")", 1)[0]
        view = by_token.get(token)
        if view is None:
            continue
        view = dataclasses.replace(view, catalog=str(catalog), schema=str(schema), name=str(name))
        kept[view.key] = view
    session.user_views.clear()
    session.user_views.update(kept)


__all__ = ["changes_catalog", "define_view", "sync", "with_user_views"]
