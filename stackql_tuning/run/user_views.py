"""The user's live views (``plan.user_views``) in a session: define, expand, keep in step.

``CREATE VIEW`` over provider tables makes no call. The view's query goes into the session
(``Session.user_views``), and DuckDB gets a *placeholder* view of the same name whose body
raises an error if DuckDB ever reads it: DuckDB's catalog then decides every name clash
(``CREATE VIEW`` over an existing table, ``CREATE TABLE`` over the view, ``IF NOT EXISTS``,
``DROP TABLE`` of the view...) exactly as for its own views, and ``DROP VIEW``, ``ALTER VIEW ...
RENAME`` or ``DROP SCHEMA ... CASCADE`` run as DuckDB statements. After such a statement the
session's views are read back from DuckDB's catalog (:func:`sync`, also before each statement
that may read one: a ROLLBACK brings placeholders back or takes them): a view whose
placeholder is gone is left out, a renamed one follows its placeholder. Which view a name
means is DuckDB's answer too (:func:`resolver`: the placeholder's one column carries its
token); the placeholder's body raises for any read, ``count(*)`` included.

Must not: fetch anything (a view's tables are read by the statements that name it).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError
from stackql_tuning.plan.targets import check_not_written
from stackql_tuning.plan.user_views import (
    Resolver,
    UserView,
    UserViews,
    candidate_key,
    expand_user_views,
    is_temporary,
    mentions,
    reads_provider,
    view_definition,
    view_query,
)
from stackql_tuning.result import Result
from stackql_tuning.sql.statement import Statement

if TYPE_CHECKING:
    from stackql_tuning.session import Session

#: in a placeholder's body: the token that ties it to its session view, in the error's
#: message and in the name of its one column (``DESCRIBE`` of a name tells which view it is)
_MARK = "stackql-tuning live view #"
_COLUMN = "live_view_"
_TOKEN = re.compile(_COLUMN + r"([0-9a-f]{32})")


def resolver(session: Session) -> Resolver:
    """Which live view a table name means where a statement stands, as DuckDB resolves it:
    the name's placeholder, if DuckDB's catalog gives the placeholder for it (a temporary
    table or view of that name comes first, ``USE`` and ``search_path`` count, a view
    created in a transaction that was rolled back is no more)."""
    by_token = {v.token: v for v in session.user_views.values()}
    names = {v.name.lower() for v in by_token.values()}
    seen: dict[str, UserView | None] = {}

    def resolve(node: exp.Table) -> UserView | None:
        if node.name.lower() not in names:
            return None
        table = exp.Table(
            this=node.this.copy(),
            db=node.args["db"].copy() if node.args.get("db") else None,
            catalog=node.args["catalog"].copy() if node.args.get("catalog") else None,
        )
        sql = table.sql(dialect="duckdb")
        if sql not in seen:
            columns = session.store.columns_of(f"SELECT * FROM {sql}") or []
            found = _TOKEN.fullmatch(columns[0]) if len(columns) == 1 else None
            seen[sql] = by_token.get(found.group(1)) if found else None
        return seen[sql]

    return resolve


def exists_in(session: Session) -> Callable[[str, str, str], bool]:
    """Whether DuckDB's catalog holds a table or view ``catalog.schema.name`` (a view's own
    schema, where its query's unqualified names are looked up first)."""
    seen: dict[tuple[str, str, str], bool] = {}

    def exists(catalog: str, schema: str, name: str) -> bool:
        key = (catalog.lower(), schema.lower(), name.lower())
        if key not in seen:
            rows = session.store.execute(
                "SELECT 1 FROM duckdb_tables() WHERE lower(database_name) = ? AND "
                "lower(schema_name) = ? AND lower(table_name) = ? UNION ALL SELECT 1 FROM "
                "duckdb_views() WHERE lower(database_name) = ? AND lower(schema_name) = ? AND "
                "lower(view_name) = ?",
                [*key, *key],
            )
            seen[key] = bool(rows)
        return seen[key]

    return exists


def with_user_views(session: Session, stmt: Statement) -> Statement:
    """``stmt`` with every user view it reads replaced by the view's query (itself when it
    reads none)."""
    if not session.user_view_defs:
        return stmt
    sync(session)  # a ROLLBACK or COMMIT may have brought placeholders back or taken them
    if not session.user_views:
        return stmt
    resolve = resolver(session)
    if not mentions(stmt.expression, resolve):
        return stmt
    copied = stmt.expression.copy()
    if stmt.kind == "select":
        _keep_names(session, copied, resolve)
    tree = expand_user_views(copied, resolve, exists_in(session))
    assert isinstance(tree, exp.Expression)
    return dataclasses.replace(stmt, expression=tree)


def _keep_names(session: Session, tree: exp.Expr, resolve: Resolver) -> None:
    """Alias each unaliased select item of ``tree`` that reads a view (``(SELECT count(*) FROM
    v)``) with the name DuckDB gives what the user wrote (``(SELECT count_star() FROM v)``),
    not the expanded query's; DuckDB's parser names it, so no binding is needed."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for item in select.expressions:
        if isinstance(item, exp.Alias | exp.Star | exp.Column) or not mentions(item, resolve):
            continue
        try:
            [(text,)] = session.store.execute(
                "SELECT json_deserialize_sql(json_serialize_sql(?))",
                ["SELECT " + item.sql(dialect="duckdb")],
            )
        except session.store.duckdb.Error:
            continue
        name = str(text).removeprefix("SELECT ")
        item.replace(exp.alias_(item.copy(), exp.to_identifier(name, quoted=True)))


def define_view(session: Session, stmt: Statement) -> Result | None:
    """Run ``CREATE VIEW`` when its query reads provider tables (a live view); None for any
    other statement, a view over local tables included (DuckDB runs those)."""
    found = view_definition(stmt.expression)
    if found is None:
        return None
    name, query, columns = found
    if session.user_view_defs:
        sync(session)
    views = session.user_views
    resolve: Resolver | UserViews = resolver(session) if views else {}
    if not reads_provider(query, resolve, session.registry):
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
    location = Location(file=stmt.source, line=stmt.line, column=stmt.column)
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
            location=location,
            hint=f"define {shown} over the tables it should read",
        ) from None
    check_view_query(session, view, resolve, location)
    placeholder = node.copy()
    placeholder.set("this", name.copy())  # no column list: the placeholder has one column
    message = exp.Literal.string(
        f"{name.sql(dialect='duckdb')} is a view over provider tables, read by each statement "
        f"that names it, not from here ({_MARK}{view.token})"
    )
    # it fails for any read, count(*) too: its one row passes a WHERE that raises
    body = exp.select(exp.Null().as_(f"{_COLUMN}{view.token}")).from_("range(1)")
    placeholder.set("expression", body.where(exp.func("error", message)))
    session.store.run(placeholder.sql(dialect="duckdb"))
    session.user_view_defs[view.token] = view
    sync(session)
    defined = view.token in {v.token for v in session.user_views.values()}
    if not defined:  # IF NOT EXISTS, and a table or view of that name exists
        return _defined(session, "OK (a table or view of that name exists: left as it is)")
    label = next(v.label for v in session.user_views.values() if v.token == view.token)
    return _defined(
        session,
        f"OK: view {label} reads provider tables; each statement that names it reads them "
        "again (no call was made now)",
    )


def check_view_query(
    session: Session, view: UserView, resolve: Resolver | UserViews, location: Location
) -> None:
    """Bind ``view``'s query, as DuckDB binds a view's at CREATE VIEW, against the empty typed
    tables of its provider tables (no call): an unknown column or function, or a column list
    longer than the query's columns, is the CREATE's error."""
    from stackql_tuning.plan.rewrite import to_duckdb_sql
    from stackql_tuning.run.query import QueryRun
    from stackql_tuning.run.select import plan_select

    store = session.store
    if session.in_transaction:
        # the typed tables live in the provider's catalog, and a DuckDB transaction writes to
        # one database only: the placeholder's CREATE must be its only write
        return
    # read as its mentions will read it: its own schema's names first
    exists = exists_in(session)
    query = expand_user_views(view_query(view, exists), resolve, exists)
    plan = plan_select(session, query)
    QueryRun(session, plan).create_tables(narrow=False)
    sql = to_duckdb_sql(plan.tree)
    try:
        store.bind(sql)
    except PlanError as e:
        if e.location.line is None:
            e.location = location
        raise
    if view.columns and len(view.columns) > len(store.columns_of(sql) or view.columns):
        raise PlanError(
            f"view {view.name} names {len(view.columns)} columns, and its query returns "
            f"{len(store.columns_of(sql) or [])} (DuckDB: More VIEW aliases than columns in "
            "query result)",
            location=location,
            hint="name at most as many columns as the query's SELECT list has",
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


def note_transaction(session: Session, stmt: Statement, *, ran: bool) -> None:
    """Follow BEGIN (when it ``ran``), COMMIT and ROLLBACK (which end it either way)."""
    if isinstance(stmt.expression, exp.Transaction) and ran:
        session.in_transaction = True
    elif isinstance(stmt.expression, exp.Commit | exp.Rollback):
        session.in_transaction = False


def changes_catalog(stmt: Statement) -> bool:
    """Whether ``stmt`` may drop, rename, replace or bring back a view (then :func:`sync`
    follows it): DDL, and the end of a transaction."""
    return isinstance(
        stmt.expression, exp.Create | exp.Drop | exp.Alter | exp.Commit | exp.Rollback
    )


def sync(session: Session) -> None:
    """The session's views as DuckDB's catalog now has their placeholders: a view whose
    placeholder was dropped or replaced is left out, a renamed one renamed; one whose
    placeholder comes back (a ROLLBACK of its DROP) is back. Every view defined stays in
    ``Session.user_view_defs``, by token, for that."""
    by_token: dict[str, UserView] = session.user_view_defs
    if not by_token:
        return
    store = session.store
    try:
        rows: list[tuple[Any, ...]] = store.execute(
            "SELECT database_name, schema_name, view_name, sql FROM duckdb_views() "
            "WHERE NOT internal AND contains(sql, ?)",
            [_MARK],
        )
    except store.duckdb.Error:  # an aborted transaction: DuckDB says so at the statement
        return
    kept: dict[tuple[str, str, str], UserView] = {}
    for catalog, schema, name, sql in rows:
        found = _TOKEN.search(str(sql))
        view = by_token.get(found.group(1)) if found else None
        if view is None:
            continue
        view = dataclasses.replace(view, catalog=str(catalog), schema=str(schema), name=str(name))
        kept[view.key] = view
    session.user_views.clear()
    session.user_views.update(kept)


__all__ = [
    "changes_catalog",
    "check_view_query",
    "define_view",
    "note_transaction",
    "resolver",
    "sync",
    "with_user_views",
]
