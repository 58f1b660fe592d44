"""Running mutations: INSERT (create), DELETE (delete) and EXEC (cancel, stop, _list, ...).

Order of work, so that a mistake costs no call: plan (``plan.mutate``, pure) -> evaluate an
``INSERT ... SELECT`` (it may read provider tables) -> build every call -> check every call
through the transport's ``prepare`` (hostile path values, bad regions) and, for AWS, botocore's
own input validation -> ``--dry-run`` stops here and lists the calls -> send, one call per row,
on a bounded pool, collecting every outcome -> ``/*+ AWAIT */`` -> report (and RETURNING /
SHOWRESULTS rows). When some calls of a statement fail, the others' outcomes are still reported
and the statement fails with a summary (``2 of 3 created; failed: row 3: ...``); with
``--on-error continue`` (or ``/*+ ON_ERROR=CONTINUE */``) an INSERT or DELETE reports what was
done and carries the failed calls in ``Result.failures`` instead (exit code 3), as SELECT does.

Must not: name a particular resource; all behaviour comes from the registry's definitions.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from stackql_tuning.errors import (
    Cancelled,
    FailedCall,
    PlanError,
    ProviderError,
    StackqlTuningError,
    StatementTimeout,
)
from stackql_tuning.plan.bindings import find_provider_tables
from stackql_tuning.plan.mutate import (
    MutationPlan,
    build_insert_call,
    check_one_of,
    dropped_warning,
    insert_target,
    literal_rows,
    resolve_columns,
)
from stackql_tuning.plan.mutate_delete import plan_delete
from stackql_tuning.plan.mutate_exec import plan_exec
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.registry.model import Resource, get_method
from stackql_tuning.result import Result
from stackql_tuning.run.await_ import (
    await_gone,
    await_operation,
    await_terminal,
    get_params,
    polling,
    reply_obj,
    state_column,
)
from stackql_tuning.run.mutate_calls import (
    Outcome,
    check_calls,
    execute,
    failure_of,
    is_operation,
    plural,
    stopped_error,
    summary_error,
    target_text,
    to_calls,
)
from stackql_tuning.run.mutate_rows import (
    check_returning,
    dict_rows,
    dry_run_table,
    is_resource_reply,
    load_replies,
    select_rows,
)
from stackql_tuning.sql.statement import Statement
from stackql_tuning.transports.base import Call, CallError, Page

if TYPE_CHECKING:
    from stackql_tuning.session import Session


def failed_calls(
    session: Session, stmt: Statement, verb: str, outcomes: list[Outcome], done: list[str]
) -> list[FailedCall]:
    """The failed calls of a statement that goes on (``--on-error continue``), else the summary
    error when any call failed."""
    from stackql_tuning.run.select import on_error_continue

    if len(done) == len(outcomes):
        return []
    if not on_error_continue(session, stmt):
        raise summary_error(verb, outcomes, done)
    return [failure_of(o, verb) for o in outcomes if not o.ok]


# ----------------------------------------------------------------------------- INSERT
def insert_select(node: exp.Insert) -> exp.Expression:
    """The INSERT's SELECT, with the statement's CTEs attached."""
    select = node.expression.copy()
    with_ = node.args.get("with_")
    if with_ is not None:
        select.set("with_", with_.copy())
    return select


def insert_source_rows(session: Session, node: exp.Insert, stmt: Statement) -> list[Any] | None:
    """The rows to insert (None under --dry-run when the SELECT reads provider tables). A read
    with failed calls is an error, whatever ``--on-error`` says."""
    rows = literal_rows(node, lambda sql: session.store.const(sql))
    if rows is not None:
        return rows
    select = insert_select(node)
    if not find_provider_tables(select, session.registry):
        from stackql_tuning.run.query import statement_deadline

        rel = session.store.run(to_duckdb_sql(select), deadline=statement_deadline(session))
        return [list(r) for r in rel.fetchall()]
    if session.settings.dry_run:
        return None
    from stackql_tuning.run.select import run_query

    sub = Statement("select", select, select.sql(dialect="duckdb"), stmt.line, stmt.column)
    try:
        result = run_query(session, sub)
        failures = list(result.failures)
    except ProviderError as e:
        if not e.failures:
            raise
        failures = list(e.failures)  # its hint offered --on-error continue
    if failures:
        # rows from a partial read are not what the SELECT says: a NOT EXISTS guard whose
        # read failed created a duplicate under --on-error continue
        raise ProviderError(
            f"nothing was created: {plural(len(failures), 'call')} of the INSERT's SELECT "
            "failed, and a change never runs on a partial read",
            failures=failures,
            hint="run it again once the reads succeed (--on-error continue does not apply "
            "to a change)",
        )
    cut = result.cut_short
    if cut:
        raise ProviderError(
            "nothing was created: the INSERT's SELECT read only part of the rows "
            f"({cut[0]}), and a change never runs on a partial read",
            hint="run it without --page-limit (or with a higher one)",
        )
    return [list(r) for r in result.rows]


def run_insert(session: Session, stmt: Statement) -> Result:
    node = stmt.expression
    assert isinstance(node, exp.Insert)
    resource, method, written = insert_target(node, session.registry)
    slots = resolve_columns(resource, method, written)
    warnings = [w for w in [dropped_warning(resource, slots)] if w]
    rows = insert_source_rows(session, node, stmt)
    if rows is None:
        from stackql_tuning.run.select import dry_run_result, plan_select

        # planned as the real run plans its SELECT (a view in the SELECT was "cannot be
        # queried with SELECT" in a dry run only)
        select_plan = plan_select(session, insert_select(node).copy())
        result = dry_run_result(session, select_plan)
        result.rows.append((resource.id, method.name, "one call per row of the SELECT"))
        result.messages.append("dry run: no call was made")
        result.warnings.extend(warnings)
        return result
    planned = [
        build_insert_call(resource, method, slots, list(r), i) for i, r in enumerate(rows, 1)
    ]
    plan = MutationPlan(resource, method, planned, warnings)
    calls = to_calls(plan, session.settings.defaults, form="insert")
    check_calls(session, calls)
    check_one_of(resource, method, planned)
    returning = node.args.get("returning")
    # /*+ SHOWRESULTS */ prints the created resources, as RETURNING * does
    show = returning is None and stmt.has_hint("SHOWRESULTS")
    if returning is not None:
        check_returning(session, resource, list(returning.expressions))
    readable = is_resource_reply(resource, method) or get_method(resource) is not None
    if (returning is not None or show) and not readable:
        what = "RETURNING" if returning is not None else "/*+ SHOWRESULTS */"
        raise PlanError(
            f"{what}: {resource.id}.{method.name} does not reply with the created "
            "resource and it has no get method to read it back",
            hint=f"drop {what} and SELECT the new resource afterwards",
        )
    if session.settings.dry_run:
        result = dry_run_table(session, calls, [])
        result.warnings.extend(warnings)
        return result
    outcomes = execute(session, [c.row for c in planned], calls, "created")
    done, messages = [], []
    for o in outcomes:
        state = None
        if o.ok and stmt.has_hint("AWAIT"):
            # a create that replies with the job (not an operation) waits for the job itself,
            # as EXEC's AWAIT does: it returned at once, the hint silently doing nothing
            try:
                state = _await(session, resource, o, f"create row {o.row}", warnings)
            except StatementTimeout as e:
                # every row created is named: the others went unreported, and a rerun made
                # duplicates
                made = [
                    f"row {x.row}: {target_text(resource, x.call, x.obj)}" for x in outcomes if x.ok
                ]
                e.message += f"; {len(made)} created: " + "; ".join(made)
                e.args = (e.message,)
                raise
            except (Cancelled, KeyboardInterrupt):
                # each row's fate (a Ctrl-C while waiting said only "interrupted")
                raise _interrupted("created", outcomes, "waiting for the new jobs") from None
        if o.ok:
            target = target_text(resource, o.call, o.obj)
            done.append(f"row {o.row}: {target}")
            now = f", now {state}" if state else ""
            messages.append(f"row {o.row}: created {target}{now}")
    created = [o for o in outcomes if o.ok]
    exprs = list(returning.expressions) if returning is not None else None
    try:
        failures = failed_calls(session, stmt, "created", outcomes, done)
    except ProviderError as e:
        if (returning is not None or show) and created:
            # the RETURNING rows of what was created: a script needs the new names
            # (stderr named them, stdout had nothing); unread, the error still names them
            with contextlib.suppress(StackqlTuningError):
                e.partial = returning_rows(session, resource, created, exprs)
        raise
    messages.append(_count(len(done), len(outcomes), "created"))
    if returning is not None or show:
        try:
            result = returning_rows(session, resource, created, exprs)
        except (Cancelled, KeyboardInterrupt):
            # the jobs were created: each row's fate (it said only "interrupted")
            raise _interrupted("created", outcomes, "reading them for RETURNING") from None
    else:
        result = Result([], [], [], kind="insert", has_rows=False)
    result.messages = messages
    result.failures = failures
    result.warnings.extend(warnings)
    result.calls = len(calls)
    return result


def _await(
    session: Session, resource: Resource, o: Outcome, label: str, warnings: list[str]
) -> str | None:
    """``/*+ AWAIT */`` for one accepted call: its long-running operation until done ("" then,
    ``o.obj`` the operation's result), else the resource it names until its state is terminal
    (that state); None, with a warning, when there is nothing to wait for."""
    if is_operation(o.call.method):
        o.obj = await_operation(session, resource, o.obj, label)
        return ""
    get = get_method(resource)
    sources = [o.obj or {}, o.call.params, o.call.body or {}]
    params = get_params(resource, get, sources) if get is not None else None
    if params is None or state_column(resource) is None:
        warnings.append(f"/*+ AWAIT */: {label}: nothing to wait for (no state to read back)")
        return None
    state = await_terminal(session, resource, params, label)
    if get is not None and is_resource_reply(resource, o.call.method):
        # the reply was the resource at its creation: RETURNING and SHOWRESULTS show it as
        # it ended (they showed JOB_STATE_PENDING beside "now JOB_STATE_SUCCEEDED")
        o.page = session.fetcher.fetch(Call(resource, polling(get), params))
        o.obj = reply_obj(o.page)
    return state


def returning_rows(
    session: Session,
    resource: Resource,
    outcomes: list[Outcome],
    exprs: list[exp.Expression] | None,
) -> Result:
    """The created resources as rows (``exprs`` of them; every column when None): the create
    reply, or a get of each new resource."""
    replies: list[tuple[Call, Page]] = []
    method = outcomes[0].call.method if outcomes else None
    for o in outcomes:
        assert o.page is not None
        if method is not None and is_resource_reply(resource, method):
            replies.append((o.call, o.page))
            continue
        get = get_method(resource)
        params = (
            get_params(resource, get, [o.call.params, o.call.body or {}, o.obj]) if get else None
        )
        if get is None or params is None:
            raise PlanError(f"RETURNING: cannot read back the created {resource.id}")
        call = Call(resource, get, params)
        try:
            replies.append((call, session.fetcher.fetch(call)))
        except CallError as e:
            raise ProviderError(
                f"created, but reading it back for RETURNING failed: {e.status}: {e.message}",
                failures=[FailedCall(resource.id, get.name, params, e.status, e.message)],
            ) from None
    table = load_replies(session, resource, replies)
    result = select_rows(session, resource, table, exprs, "insert")
    return result


def _interrupted(
    verb: str, outcomes: list[Outcome], note: str, *, reply_names: bool = True
) -> StackqlTuningError:
    """The report of a Ctrl-C or cancel after every call was answered: each row's fate (done,
    an operation still running, failed), and what was being done when it came (``note``)."""
    error = stopped_error(
        Cancelled, "the statement was interrupted", verb, outcomes, reply_names=reply_names
    )
    error.message = f"interrupted while {note}: {error.message}"
    error.args = (error.message,)
    return error


def _unfinished_deletes(
    e: StatementTimeout | Cancelled,
    resource: Resource,
    outcomes: list[Outcome],
    done: list[str],
    waiting: Outcome,
) -> StatementTimeout | Cancelled:
    """The time limit passed, or a Ctrl-C came, while ``/*+ AWAIT */`` waited for ``waiting``
    to be gone: ``e`` with each row's fate. Every accepted deletion was made (and is not to be
    sent again); those not seen gone yet are named apart from those waited for."""
    accepted = [
        f"row {o.row}: {target_text(resource, o.call, None)}"
        for o in outcomes
        if o.ok and o.row >= waiting.row
    ]
    parts = [e.message]
    if done:
        parts.append("deleted: " + "; ".join(done))
    parts.append("accepted, not seen gone yet: " + "; ".join(accepted))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        parts.append(
            "failed: "
            + "; ".join(f"row {o.row}: {failure_of(o, 'deleted').message}" for o in failed)
        )
    hint = (
        "the accepted deletions were made: do not run them again; SELECT them later to see "
        "them gone"
    )
    if failed:
        hint += "; fix the failed rows and run them again"
    return type(e)("; ".join(parts), hint=hint)


def _count(done: int, total: int, verb: str, word: str = "resource") -> str:
    """``2 resources deleted``, or ``1 of 2 resources deleted`` when some calls failed."""
    if done == total:
        return f"{plural(done, word)} {verb}"
    return f"{done} of {plural(total, word)} {verb}"


# ----------------------------------------------------------------------------- DELETE
def run_delete(session: Session, stmt: Statement) -> Result:
    node = stmt.expression
    assert isinstance(node, exp.Delete)
    plan = plan_delete(node, session.registry, lambda sql: session.store.const(sql))
    calls = to_calls(plan, session.settings.defaults)
    check_calls(session, calls)
    if session.settings.dry_run:
        return dry_run_table(session, calls, [])
    outcomes = execute(session, [c.row for c in plan.calls], calls, "deleted", reply_names=False)
    resource, method = plan.resource, plan.method
    done: list[str] = []
    messages: list[str] = []
    started = 0  # deletions still running as operations (no AWAIT)
    for o in outcomes:
        if not o.ok:
            continue
        target = target_text(resource, o.call, None)
        label = f"delete {target}"
        if stmt.has_hint("AWAIT"):
            try:
                if is_operation(method):
                    await_operation(session, resource, o.obj, label)
                    o.obj = {**o.obj, "done": True}  # waited for: a report says deleted
                else:
                    await_gone(session, resource, o.call.params, label)
            except (Cancelled, KeyboardInterrupt):
                # each row's fate: the rows accepted but not yet seen gone apart from those
                # waited for (it called them all deleted)
                stopped = Cancelled(f"interrupted while waiting for {label} (/*+ AWAIT */)")
                raise _unfinished_deletes(stopped, resource, outcomes, done, o) from None
            except StatementTimeout as e:
                # past the time limit: every row's fate, the accepted ones not to be sent
                # again (it said "row 1: None: outcome unknown" and offered a rerun)
                raise _unfinished_deletes(e, resource, outcomes, done, o) from None
            except ProviderError as e:
                # the deletion was accepted, but waiting for it failed: that row is reported
                # as such, and the other rows are still reported
                o.error = CallError(
                    None, f"accepted, but waiting for it failed: {e.message}", sent=True
                )
                continue
            messages.append(f"deleted {target}")
        elif is_operation(method) and not o.obj.get("done"):
            messages.append(
                f"deleting {target} (operation {o.obj.get('name', '?')}; "
                "add /*+ AWAIT */ to wait for it)"
            )
            started += 1
        else:
            messages.append(f"deleted {target}")
        done.append(f"row {o.row}: {target}")
    failures = failed_calls(session, stmt, "deleted", outcomes, done)
    if started == len(done) and done:
        # the API accepted each deletion; none is known to be finished
        messages.append(_count(len(done), len(outcomes), "started", word="deletion"))
    else:
        messages.append(_count(len(done), len(outcomes), "deleted"))
    result = Result([], [], [], kind="delete", has_rows=False, messages=messages)
    result.failures = failures
    result.calls = len(calls)
    return result


# ----------------------------------------------------------------------------- EXEC
def run_exec(session: Session, stmt: Statement) -> Result:
    plan = plan_exec(stmt.expression, session.registry)
    resource, method = plan.resource, plan.method
    calls = to_calls(plan, session.settings.defaults, form="exec")
    check_calls(session, calls)
    if session.settings.dry_run:
        result = dry_run_table(session, calls, [])
        result.warnings.extend(plan.warnings)
        return result
    call = calls[0]
    if method.is_list:
        result = list_rows(session, call)
        result.warnings.extend(plan.warnings)
        return result
    (o,) = execute(session, [1], calls)
    target = target_text(resource, call, None)
    if not o.ok:
        failed = failure_of(o, "done")
        failed.row = None  # one call: no row to name
        # not found where the call named no account: say which one it looked in
        unnamed = [
            p.name
            for p in method.params
            if p.location == "client" and not p.required and call.params.get(p.name) is None
        ]
        hint = (
            f"the call named no {' or '.join(unnamed)}: it looked in the default credentials' "
            f"account (add @{unnamed[0]}='...' to look in another)"
            if o.error is not None and o.error.not_found and unnamed
            else None
        )
        raise ProviderError(
            f"{method.name} {target} failed: {failed.status}: {failed.message}",
            failures=[failed],
            hint=hint,
        )
    messages = [f"{method.name}: {target}: request accepted"]
    if stmt.has_hint("AWAIT"):
        state = _await(session, resource, o, f"{method.name} {target}", plan.warnings)
        if state is not None:
            messages = [f"{method.name}: {target}: {'done' if state == '' else 'now ' + state}"]
    if stmt.has_hint("SHOWRESULTS"):
        # the reply when it is the resource; else (a cancel or a stop replies with nothing)
        # the resource read back as it is now (after /*+ AWAIT */, as it finished)
        get = get_method(resource)
        readable = is_resource_reply(resource, method) or (
            get is not None
            and get_params(resource, get, [call.params, call.body or {}]) is not None
        )
        if readable:
            result = returning_rows(session, resource, [o], None)
            result.kind = "exec"
        else:
            result = dict_rows([o.obj], "exec")
    else:
        result = Result([], [], [], kind="exec", has_rows=False)
    result.messages = messages
    result.warnings.extend(plan.warnings)
    result.calls = 1
    return result


def list_rows(session: Session, call: Call) -> Result:
    """An EXEC of a list method: every page, as rows of the resource."""
    from stackql_tuning.run.query import failures_error
    from stackql_tuning.run.scheduler import Scheduler

    pages: list[tuple[Call, Page]] = []

    def sink(c: Call, page: Page) -> tuple[list[Call], int]:
        pages.append((c, page))
        return [], 0

    scheduler = Scheduler(
        session.fetcher.fetch,
        concurrency=1,
        page_limit=session.settings.page_limit,
        cancelled=lambda: session.cancelled,
    )
    stats = scheduler.run([call], sink)
    if stats.failures:
        raise failures_error(stats, can_continue=False)  # an EXEC keeps no partial list
    table = load_replies(session, call.resource, pages)
    result = select_rows(session, call.resource, table, None, "exec", named=call.params)
    result.calls = stats.requests
    result.warnings.extend(stats.warnings)
    return result


RUNNERS = {"insert": run_insert, "delete": run_delete, "exec": run_exec}


def run_mutation(session: Session, stmt: Statement) -> Result:
    """Run one INSERT, DELETE or EXEC statement (see the module docstring)."""
    runner = RUNNERS.get(stmt.kind)
    if runner is None:
        raise PlanError(f"{stmt.kind.upper()} is not a mutation")
    if session.in_transaction:
        # ROLLBACK cannot undo a call: the DELETE was made and ROLLBACK said OK
        raise PlanError(
            f"{stmt.kind.upper()} on a provider resource cannot run inside a transaction "
            "(BEGIN ... COMMIT): its calls are made at once, and ROLLBACK cannot undo them",
            hint="COMMIT or ROLLBACK first, then run it outside the transaction",
        )
    return runner(session, stmt)


__all__ = ["RUNNERS", "run_mutation"]
