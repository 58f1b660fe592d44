"""Running mutations: INSERT (create), DELETE (delete) and EXEC (cancel, stop, _list, ...).

Order of work, so that a mistake costs no call: plan (``plan.mutate``, pure) -> evaluate an
``INSERT ... SELECT`` (it may read provider tables) -> build every call -> check every call
through the transport's ``prepare`` (hostile path values, bad regions) and, for AWS, botocore's
own input validation -> ``--dry-run`` stops here and lists the calls -> send, one call per row,
on a bounded pool, collecting every outcome -> ``/*+ AWAIT */`` -> report (and RETURNING /
SHOWRESULTS rows). When some calls of a statement fail, the others' outcomes are still reported
and the statement fails with a summary (``2 of 3 created; failed: row 3: ...``).

Must not: name a particular resource; all behaviour comes from the registry's definitions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from stackql_tuning.errors import FailedCall, PlanError, ProviderError
from stackql_tuning.plan.bindings import find_provider_tables
from stackql_tuning.plan.mutate import (
    MutationPlan,
    build_insert_call,
    dropped_warning,
    insert_target,
    literal_rows,
    plan_delete,
    plan_exec,
    resolve_columns,
)
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.registry.model import Method, Resource
from stackql_tuning.result import Result
from stackql_tuning.run.await_ import (
    await_gone,
    await_operation,
    await_terminal,
    get_method,
    get_params,
    reply_obj,
    state_column,
)
from stackql_tuning.run.mutate_rows import (
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


@dataclass
class Outcome:
    """One call's fate: its reply or its error."""

    row: int
    call: Call
    page: Page | None = None
    error: CallError | None = None
    obj: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


# ----------------------------------------------------------------------------- shared steps
def to_calls(plan: MutationPlan) -> list[Call]:
    return [Call(plan.resource, plan.method, dict(c.params), c.body) for c in plan.calls]


def check_calls(session: Session, calls: list[Call]) -> None:
    """Every call checked before the first is sent: path values, regions, AWS input shapes."""
    for call in calls:
        session.fetcher.prepare(call)
    for i, call in enumerate(calls, start=1):
        name = session.registry.provider(call.resource.provider).transport
        validator = VALIDATORS.get(name)
        if validator is not None:
            validator(session, call, i)


@lru_cache(maxsize=4)
def _aws_model(service_name: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service_name)


def validate_aws(session: Session, call: Call, row: int) -> None:
    """botocore's own parameter validation, run before any call is sent."""
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    svc = session.registry.service(call.resource.provider, call.resource.service).data
    detail = session.fetcher.prepare(call).detail
    op = _aws_model(str(svc.get("service_name", call.resource.service))).operation_model(
        detail["operation"]
    )
    try:
        validate_parameters(detail["params"], op.input_shape)
    except ParamValidationError as e:
        report = " ".join(str(e).split())
        report = report.replace("Parameter validation failed: ", "")
        raise PlanError(
            f"{call.resource.id}.{call.method.name}, row {row}: the request does not fit "
            f"{op.name}'s input: {report}",
            hint=f"the body follows the {op.name} input shape (see the AWS API reference)",
        ) from None


#: transport name -> extra pre-flight validation of a call
VALIDATORS = {"aws": validate_aws}


def execute(session: Session, rows: list[int], calls: list[Call]) -> list[Outcome]:
    """Send every call (bounded pool), in row order; failures are outcomes, not exceptions."""

    def one(pair: tuple[int, Call]) -> Outcome:
        row, call = pair
        try:
            page = session.fetcher.fetch(call)
        except CallError as e:
            return Outcome(row, call, error=e)
        return Outcome(row, call, page=page, obj=reply_obj(page))

    pairs = list(zip(rows, calls, strict=True))
    workers = max(1, min(session.settings.concurrency, len(pairs)))
    if workers == 1:
        return [one(p) for p in pairs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mutate") as pool:
        return list(pool.map(one, pairs))


def target_text(resource: Resource, call: Call, obj: dict[str, Any] | None = None) -> str:
    """How a report names one resource: its identity (Google name) or its get params."""
    obj = obj or {}
    merged = {**(call.body or {}), **call.params}
    ident = resource.identity
    col, template = ident.get("column"), ident.get("template")
    if col and isinstance(obj.get(col), str):
        return str(obj[col])
    if template:
        try:
            return str(template).format(**merged)
        except (KeyError, IndexError):
            pass
    get = get_method(resource)
    names = [p for p in (get.params if get else ()) if p.required]
    own = [str(merged[p.name]) for p in names if p.location != "client" and p.name in merged]
    where = [str(merged[p.name]) for p in names if p.location == "client" and p.name in merged]
    text = ", ".join(own) or ", ".join(f"{k}={v}" for k, v in call.params.items())
    return text + (f" in {', '.join(where)}" if where else "")


def failure_of(o: Outcome) -> FailedCall:
    assert o.error is not None
    return FailedCall(
        o.call.resource.id,
        o.call.method.name,
        o.call.describe_params(),
        o.error.status,
        o.error.message,
    )


def summary_error(verb: str, outcomes: list[Outcome], done: list[str]) -> ProviderError:
    failed = [o for o in outcomes if not o.ok]
    ok = len(outcomes) - len(failed)
    text = f"{ok} of {len(outcomes)} {verb}; failed: " + "; ".join(
        f"row {o.row}: {o.error.status}: {o.error.message}" for o in failed if o.error
    )
    if done:
        text += f" ({verb}: " + "; ".join(done) + ")"
    return ProviderError(
        text,
        failures=[failure_of(o) for o in failed],
        hint="the rows reported as done were done; fix the failed rows and run them again",
    )


def plural(n: int, word: str = "resource") -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def is_operation(method: Method) -> bool:
    return method.response.get("kind") == "operation"


# ----------------------------------------------------------------------------- INSERT
def insert_select(node: exp.Insert) -> exp.Expression:
    """The INSERT's SELECT, with the statement's CTEs attached."""
    select = node.expression.copy()
    with_ = node.args.get("with_")
    if with_ is not None:
        select.set("with_", with_.copy())
    return select


def insert_source_rows(session: Session, node: exp.Insert, stmt: Statement) -> list[Any] | None:
    """The rows to insert; None under --dry-run when the SELECT reads provider tables."""
    rows = literal_rows(node, lambda sql: session.store.const(sql))
    if rows is not None:
        return rows
    select = insert_select(node)
    if not find_provider_tables(select, session.registry):
        rel = session.store.run(to_duckdb_sql(select))
        return [list(r) for r in rel.fetchall()]
    if session.settings.dry_run:
        return None
    from stackql_tuning.run.select import run_query

    sub = Statement("select", select, select.sql(dialect="duckdb"), stmt.line, stmt.column)
    result = run_query(session, sub)
    return [list(r) for r in result.rows]


def run_insert(session: Session, stmt: Statement) -> Result:
    node = stmt.expression
    assert isinstance(node, exp.Insert)
    resource, method, written = insert_target(node, session.registry)
    slots = resolve_columns(resource, method, written)
    warnings = [w for w in [dropped_warning(resource, slots)] if w]
    rows = insert_source_rows(session, node, stmt)
    if rows is None:
        from stackql_tuning.plan.select import plan_query
        from stackql_tuning.run.select import dry_run_result

        plan = plan_query(insert_select(node), session.registry, const_eval=session.store.const)
        result = dry_run_result(session, plan)
        result.rows.append((resource.id, method.name, "one call per row of the SELECT"))
        result.messages.append("dry run: no call was made")
        result.warnings.extend(warnings)
        return result
    planned = [
        build_insert_call(resource, method, slots, list(r), i) for i, r in enumerate(rows, 1)
    ]
    plan = MutationPlan(resource, method, planned, warnings)
    if planned and rows and len(rows[0]) != len(slots):
        raise PlanError(f"INSERT INTO {resource.id}: the SELECT gives {len(rows[0])} columns")
    calls = to_calls(plan)
    check_calls(session, calls)
    if session.settings.dry_run:
        result = dry_run_table(session, calls, [])
        result.warnings.extend(warnings)
        return result
    outcomes = execute(session, [c.row for c in planned], calls)
    done = []
    for o in outcomes:
        if o.ok and stmt.has_hint("AWAIT") and is_operation(method):
            o.obj = await_operation(session, resource, o.obj, f"create row {o.row}")
        if o.ok:
            done.append(f"row {o.row}: {target_text(resource, o.call, o.obj)}")
    if len(done) < len(outcomes):
        raise summary_error("created", outcomes, done)
    messages = [f"{d.split(': ', 1)[0]}: created {d.split(': ', 1)[1]}" for d in done]
    messages.append(f"{plural(len(done))} created")
    returning = node.args.get("returning")
    if returning is not None:
        result = returning_rows(session, resource, outcomes, list(returning.expressions))
    else:
        result = Result([], [], [], kind="insert", has_rows=False)
    result.messages = messages
    result.warnings.extend(warnings)
    result.calls = len(calls)
    return result


def returning_rows(
    session: Session, resource: Resource, outcomes: list[Outcome], exprs: list[exp.Expression]
) -> Result:
    """The created resources as rows: the create reply, or a get of each new resource."""
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
    result = select_rows(session, table, exprs, "insert")
    return result


# ----------------------------------------------------------------------------- DELETE
def run_delete(session: Session, stmt: Statement) -> Result:
    node = stmt.expression
    assert isinstance(node, exp.Delete)
    plan = plan_delete(node, session.registry, lambda sql: session.store.const(sql))
    calls = to_calls(plan)
    check_calls(session, calls)
    if session.settings.dry_run:
        return dry_run_table(session, calls, [])
    outcomes = execute(session, [c.row for c in plan.calls], calls)
    resource, method = plan.resource, plan.method
    done, messages = [], []
    for o in outcomes:
        if not o.ok:
            continue
        target = target_text(resource, o.call, None)
        label = f"delete {target}"
        if stmt.has_hint("AWAIT"):
            if is_operation(method):
                await_operation(session, resource, o.obj, label)
            else:
                await_gone(session, resource, o.call.params, label)
            messages.append(f"deleted {target}")
        elif is_operation(method) and not o.obj.get("done"):
            messages.append(
                f"deleting {target} (operation {o.obj.get('name', '?')}; "
                "add /*+ AWAIT */ to wait for it)"
            )
        else:
            messages.append(f"deleted {target}")
        done.append(f"row {o.row}: {target}")
    if len(done) < len(outcomes):
        raise summary_error("deleted", outcomes, done)
    messages.append(f"{plural(len(done))} deleted")
    result = Result([], [], [], kind="delete", has_rows=False, messages=messages)
    result.calls = len(calls)
    return result


# ----------------------------------------------------------------------------- EXEC
def run_exec(session: Session, stmt: Statement) -> Result:
    plan = plan_exec(stmt.expression, session.registry)
    resource, method = plan.resource, plan.method
    calls = to_calls(plan)
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
        assert o.error is not None
        raise ProviderError(
            f"{method.name} {target} failed: {o.error.status}: {o.error.message}",
            failures=[failure_of(o)],
        )
    messages = [f"{method.name}: {target}: request accepted"]
    if stmt.has_hint("AWAIT"):
        label = f"{method.name} {target}"
        if is_operation(method):
            o.obj = await_operation(session, resource, o.obj, label)
            messages = [f"{method.name}: {target}: done"]
        else:
            get = get_method(resource)
            params = get_params(resource, get, [call.params, call.body or {}]) if get else None
            if params is not None and state_column(resource) is not None:
                state = await_terminal(session, resource, params, label)
                messages = [f"{method.name}: {target}: now {state}"]
    if stmt.has_hint("SHOWRESULTS"):
        if is_resource_reply(resource, method) and o.page is not None:
            result = select_rows(
                session, load_replies(session, resource, [(call, o.page)]), None, "exec"
            )
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
        raise failures_error(stats)
    result = select_rows(session, load_replies(session, call.resource, pages), None, "exec")
    result.calls = stats.requests
    result.warnings.extend(stats.warnings)
    return result


RUNNERS = {"insert": run_insert, "delete": run_delete, "exec": run_exec}


def run_mutation(session: Session, stmt: Statement) -> Result:
    """Run one INSERT, DELETE or EXEC statement (see the module docstring)."""
    runner = RUNNERS.get(stmt.kind)
    if runner is None:
        raise PlanError(f"{stmt.kind.upper()} is not a mutation")
    return runner(session, stmt)


__all__ = ["RUNNERS", "check_calls", "execute", "run_mutation"]
