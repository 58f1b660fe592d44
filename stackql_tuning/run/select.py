"""SELECT (and any other DuckDB statement over provider tables): plan, check, fetch, run.

Order of work, so that mistakes cost no calls: plan (pure) -> create empty typed tables ->
let DuckDB bind the SQL against them (unknown columns, bad functions fail here) -> fetch ->
materialize -> run. ``--dry-run`` stops before the fetch and lists the calls instead.

One exception, while a session's DuckDB is still starting (its first statement, unless the
CLI's background start is done): when every column and function of the query is known without
DuckDB (``plan.precheck``), the first stage's calls start before the tables are made and
bound, and wait for the bind before their replies are read; a bind error drops them.

The tables hold only the columns the query reads (``QueryRun.create_tables``); a query that
does not bind against them is bound again against every column, for an error that names them
all (with its views unpruned too), or, should it bind there, to load every column.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from sqlglot import exp

from stackql_tuning.errors import PartialResult, PlanError, QueryError
from stackql_tuning.plan.bindings import (
    SPECULATIVE,
    drop_marked,
    equalities_as_in,
    provider_tables,
)
from stackql_tuning.plan.clock import pin_the_clock
from stackql_tuning.plan.correlated import bind_correlated
from stackql_tuning.plan.derived_limit import limit_into_derived
from stackql_tuning.plan.hydrate_first import apply_hydrate_first
from stackql_tuning.plan.implied import leave_out_implied
from stackql_tuning.plan.limit import apply_early_limit
from stackql_tuning.plan.outer_joins import inner_where_padding_drops
from stackql_tuning.plan.precheck import names_resolve
from stackql_tuning.plan.pushdown import apply_pushdown, check_literals
from stackql_tuning.plan.rewrite import keep_subquery_names, to_duckdb_sql
from stackql_tuning.plan.select import QueryPlan, plan_query
from stackql_tuning.plan.semi_joins import has_in_subquery, in_subqueries_as_semi_joins
from stackql_tuning.plan.targets import (
    check_no_macro_over_provider,
    check_no_provider_default,
    check_not_written,
    runs_in_dry_run,
)
from stackql_tuning.plan.views import expand_views
from stackql_tuning.result import Result
from stackql_tuning.run.bind_hints import bind_hint, bind_message
from stackql_tuning.run.query import (
    QueryRun,
    apply_reply_fields,
    failures_error,
    slot_calls,
    statement_deadline,
)
from stackql_tuning.sql.statement import Statement
from stackql_tuning.transports.base import Call

if TYPE_CHECKING:
    from stackql_tuning.run.store import Store
    from stackql_tuning.session import Session


def plan_select(session: Session, tree: exp.Expr) -> QueryPlan:
    """The plan of a query (``tree``, changed in place) as every statement's is made: the
    registry's views expanded, the session's config defaults, DuckDB for constants and for the
    columns of local sources. Planning needs DuckDB only for those: the store (which may still
    be starting in the background) is first waited for when one is asked."""
    registry = session.registry

    def describe(sql: str) -> list[str] | None:
        return session.store.columns_of(sql)

    # a column DuckDB would name by its SQL keeps the name of the user's text
    tree = keep_subquery_names(tree)
    # an outer join whose padded rows the WHERE drops is an inner one: its ON then restricts
    # (and may bind) the other side, as the planner reads it
    tree = inner_where_padding_drops(tree)
    # a LIMIT over a subquery or CTE alone is that query's too: its table stops paging
    tree = limit_into_derived(tree)
    # a correlated subquery's params compared to an outer row take that source's values
    tree = bind_correlated(tree, registry)
    tree = expand_views(equalities_as_in(tree), registry, binary=session.compares_binary)
    if any(True for _ in provider_tables(tree, registry)):
        # conditions are evaluated on pages as they come, before gets, and by the query: at
        # one instant (``plan.clock``)
        tree = pin_the_clock(tree, lambda calls: _read_clock(session, calls))
    # a view's copy of its join to a provider table reads that table again, with the
    # partner's own conditions: where those do not bind it, the plan is made without it
    fallback = tree.copy() if any(i.meta.get(SPECULATIVE) for i in tree.find_all(exp.In)) else None

    def planned(tree: exp.Expr) -> QueryPlan:
        # under another collation DuckDB's IN matches text the APIs do not (asked only then:
        # a ROLLBACK may run in an aborted transaction)
        if has_in_subquery(tree) and session.compares_binary():
            tree = in_subqueries_as_semi_joins(tree, registry, describe, session.store.plain_table)
        return plan_query(
            tree,
            registry,
            const_eval=lambda sql: session.store.const(sql),
            defaults=session.settings.defaults,
            describe=describe,
            binary=session.compares_binary,
        )

    if fallback is None:
        return planned(tree)
    try:
        return planned(tree)
    except PlanError:
        drop_marked(fallback, SPECULATIVE)
        return planned(fallback)


def _read_values(session: Session, exprs: list[str]) -> list[tuple[str | None, str]]:
    """Each expression's value as text (None: NULL) and its DuckDB type, read in one query
    (clock calls: at one instant)."""
    cols = ", ".join(f"CAST({e} AS VARCHAR), typeof({e})" for e in exprs)
    row = session.store.execute(f"SELECT {cols}")[0]
    return [(row[2 * i], str(row[2 * i + 1])) for i in range(len(exprs))]


def _read_clock(session: Session, calls: list[str]) -> list[tuple[str, str]]:
    """Each clock call's value (never NULL) as text and its DuckDB type, at one instant."""
    return [(str(value), db_type) for value, db_type in _read_values(session, calls)]


def _fold(session: Session, sql: str) -> tuple[str, str] | None:
    """A constant expression's value as text and its DuckDB type (None: it is NULL, or DuckDB
    cannot evaluate it; the statement's query says why, if it matters)."""
    try:
        ((value, db_type),) = _read_values(session, [sql])
    except Exception:  # a DuckDB error (1 / 0, a bad cast): the condition is not pushed
        return None
    return None if value is None else (value, db_type)


def on_error_continue(session: Session, stmt: Statement) -> bool:
    hint = stmt.hint("ON_ERROR")
    if hint is not None:
        value = (hint.options.get("value") or next(iter(hint.options.values()), "")).lower()
        return value == "continue"  # (a bare ON_ERROR is a parse error: sql.hints)
    return session.settings.on_error == "continue"


def run_query(session: Session, stmt: Statement) -> Result:
    if stmt.kind == "other":
        check_not_written(stmt, session.registry)
        check_no_macro_over_provider(stmt, session.registry)
        check_no_provider_default(stmt, session.registry)
    plan = plan_select(session, stmt.expression.copy())
    if plan.slots and session.in_transaction:
        # said before any call (DuckDB said "a reply does not fit the API's schema")
        from stackql_tuning.run.store import transaction_error

        raise transaction_error()
    # under a collation other than binary DuckDB matches text the APIs do not ('X' = 'x'):
    # no filter is sent, and no literal is refused for its case (asked only of a statement
    # that reads a provider table: a ROLLBACK may run in an aborted transaction)
    binary = not plan.slots or session.compares_binary()
    check_literals(plan, enums=binary)

    def is_scalar(name: str) -> bool:  # asked only of functions sqlglot does not know
        return bool(session.store.is_scalar(name))

    if session.settings.pushdown:
        if binary:
            apply_pushdown(plan, lambda: session.store.time_zone(), lambda sql: _fold(session, sql))
        apply_hydrate_first(plan, is_scalar)  # the WHERE before the gets, as before the lists
    if session.settings.projection and session.settings.partial_response:
        apply_reply_fields(plan.slots)
    apply_early_limit(plan, is_scalar)
    leave_out_implied(plan)  # after pushdown: a pushed param keeps its predicate
    is_query = stmt.kind == "select"
    run = QueryRun(session, plan)
    early = None
    dry, local = session.settings.dry_run, False
    if dry and not is_query:
        # a macro, table or view of the session's own database is made all the same, so that
        # the statements after it can be previewed; one that reads provider tables is not
        store = session.store
        local = runs_in_dry_run(stmt, store.is_attached, store.default_in_memory)
        dry = bool(plan.slots) or not local
    if not dry:
        if is_query and session.store_starting and names_resolve(plan.tree, plan.slots):
            # DuckDB is still starting: the first calls leave now and the bind runs beside them
            early = run.begin_early()
        if early is None:
            session.fetcher.warm(warm_calls(plan))
    try:
        sql = to_duckdb_sql(plan.tree)  # (after the first calls left: ~0.5 ms of a fan-out's)
        store = session.store
        run.create_tables(narrow=is_query)
        if is_query and not _binds(store, sql):
            # against every column: the error names them all; or, should it bind there,
            # the statement reads a column that projection missed, and gets every column
            run.create_tables(narrow=False)
            try:
                store.bind(sql)
            except PlanError as e:
                error = _with_every_view_column(session, stmt, e)
                if not error.hint:
                    resources = (s.resource for s in plan.slots)
                    error.hint = bind_hint(error.message, stmt.text, resources)
                error.message = bind_message(error.message)
                raise error from None
            run.load_every_column()
            if early is not None:
                early.abort()  # its calls asked for the fields read
                early = None
    except BaseException:
        if early is not None:
            early.abort()  # nothing was read into the store: the replies are dropped
        raise
    if dry:
        result = dry_run_result(session, plan)
        if local:
            result.warnings.append(
                "dry run: this statement reads provider tables, so it was not run (no call "
                "was made): what it makes or changes is not there for the statements after it"
            )
        elif not is_query and not plan.slots:
            result.warnings.append(
                "dry run: this statement was not run: it may change what is outside the "
                "session's in-memory database (a file, another database, a setting)"
            )
        return result
    stats = run.fill(early)
    result_failures = []
    if stats.failures:
        if not on_error_continue(session, stmt):
            raise failures_error(stats)
        result_failures = stats.failures
    rel = store.run(sql, deadline=statement_deadline(session))
    if rel is None:
        result = Result(columns=[], types=[], rows=[], kind=stmt.kind, has_rows=False)
        result.messages.append(_changed_message(store.changed))
    else:
        result = Result(
            columns=list(rel.columns),
            types=[str(t) for t in rel.types],
            rows=rel.fetchall(),
            kind=stmt.kind,
        )
    result.calls = stats.requests
    result.cached_pages, result.cache_age = stats.cached, stats.cache_age
    result.failures = result_failures
    result.warnings.extend(plan.warnings + stats.warnings)
    return result


def _with_every_view_column(session: Session, stmt: Statement, error: PlanError) -> PlanError:
    """``error`` as DuckDB words it with the statement's views unpruned: a view keeps only the
    columns a statement names, so an unknown column's candidates were only those (``location``
    got "region", "provider" and not "location_or_region"). ``error`` itself without views."""
    registry = session.registry
    if not any(r.kind == "view" for _, r in provider_tables(stmt.expression, registry)):
        return error
    try:
        binary = session.compares_binary
        tree = expand_views(stmt.expression.copy(), registry, prune=False, binary=binary)
        defaults = session.settings.defaults
        plan = plan_query(
            tree, registry, const_eval=session.store.const, defaults=defaults, binary=binary
        )
        QueryRun(session, plan).create_tables(narrow=False)
        sql = to_duckdb_sql(plan.tree)
    except Exception:  # the first error stands
        return error
    try:
        session.store.bind(sql)
    except PlanError as unpruned:
        return unpruned
    return error


def _binds(store: Store, sql: str) -> bool:
    """Whether DuckDB binds ``sql`` against the empty tables (the check before any call)."""
    try:
        store.bind(sql)
    except (PlanError, QueryError):
        return False
    return True


def _changed_message(changed: tuple[int, bool] | None) -> str:
    """ "124 rows written" for a COPY, "3 rows changed" for another statement that reports its
    count, "OK" for the rest (DDL, SET)."""
    if changed is None:
        return "OK"
    count, copied = changed
    noun = "row" if count == 1 else "rows"
    return f"{count} {noun} {'written' if copied else 'changed'}"


def warm_calls(plan: QueryPlan, limit: int = 16) -> list[Call]:
    """The first ``limit`` calls of the plan's static fan-out, for building SDK clients early;
    dependent slots need rows of other tables first and are left out."""
    calls = (c for s in plan.slots if not s.dependent for c in slot_calls(s, None))
    return list(itertools.islice(calls, limit))


def dry_run_result(session: Session, plan: object) -> Result:
    rows = []
    from stackql_tuning.plan.explain import dependent_text, hydrate_text, limit_text

    for slot in plan.slots:  # type: ignore[attr-defined]
        if slot.skip:
            continue  # a view's branch the statement does not bind: no call
        if slot.dependent:
            rows.append((slot.resource.id, slot.method.name, dependent_text(slot)))
            continue
        for call in slot_calls(slot, session.store):
            prepared = session.fetcher.prepare(call)
            rows.append((slot.resource.id, slot.method.name, prepared.summary))
        stops = limit_text(slot)
        if stops is not None:
            rows.append((slot.resource.id, slot.method.name, stops))
        if slot.hydrate is not None:
            rows.append((slot.resource.id, slot.hydrate.name, hydrate_text(slot)))
    return Result(
        columns=["resource", "method", "request"],
        types=["VARCHAR"] * 3,
        rows=rows,
        kind="dry-run",
    )


__all__ = ["PartialResult", "run_query"]
