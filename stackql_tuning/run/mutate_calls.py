"""The steps every mutation shares: build calls, check them all, send them, report outcomes.

``check_calls`` runs every call through the transport's ``prepare`` (hostile path values, bad
regions) and the provider's extra validation (:data:`VALIDATORS`: botocore's own input checks
for AWS) before the first call is sent. ``execute`` sends the calls on a bounded pool and keeps
each outcome (reply or error) in row order; ``summary_error`` turns partial failure into one
ProviderError that still reports what was done.

Must not: plan statements or name a particular resource.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stackql_tuning.errors import (
    Cancelled,
    FailedCall,
    Location,
    PlanError,
    ProviderError,
    StackqlTuningError,
    StatementTimeout,
)
from stackql_tuning.plan.mutate import MutationPlan
from stackql_tuning.registry.model import Method, Resource, get_method, matches_pattern
from stackql_tuning.run.await_ import notify, reply_obj
from stackql_tuning.transports.base import Call, CallError, Page
from stackql_tuning.transports.retry import WaitStopped, stoppable_waits

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


#: how a statement of each form names a param, for the hint of a missing one
_NAMES_A_PARAM = {
    "where": "add {name} = '{value}' to the WHERE",
    "exec": "add @{name}='{value}'",
    "insert": "add a column {name} with '{value}'",
}


def to_calls(
    plan: MutationPlan, defaults: dict[str, list[Any]] | None = None, *, form: str = "where"
) -> list[Call]:
    """The plan's calls. A mutation never uses the config file's defaults (it touches only what
    its statement names); but where the statement leaves out an optional param that picks
    where a call goes (``AwsAccountId``) and the defaults name one, a SELECT with the same
    WHERE reads the default's resources while the call would go to the credentials' own
    account (a DELETE removed a job of account A that the SELECT had shown in account B).
    That is a plan error: the statement must name it (``form``: in a WHERE, as an EXEC's
    ``@param`` or as an INSERT's column)."""
    lowered = {k.lower(): v for k, v in (defaults or {}).items()}
    for p in plan.method.params:
        values = list(dict.fromkeys(lowered.get(p.name.lower()) or []))
        if p.location != "client" or p.required or not values:
            continue
        if any(p.name.lower() not in {k.lower() for k in c.params} for c in plan.calls):
            raise PlanError(
                f"{plan.resource.id}: {p.name} is not given, but the config file's defaults "
                f"name {', '.join(map(str, values))}, which a SELECT with this WHERE reads; a "
                "change goes only where its statement says",
                location=Location(resource=plan.resource.id),
                hint=_NAMES_A_PARAM[form].format(name=p.name, value=values[0])
                + " (or the one to change)",
            )
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


def validate_aws(session: Session, call: Call, row: int) -> None:
    """botocore's own parameter validation, run before any call is sent."""
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    from stackql_tuning.transports.aws import validation_report

    detail = session.fetcher.prepare(call).detail
    op = session.fetcher.transport(call.resource.provider).operation_model(call)
    try:
        validate_parameters(detail["params"], op.input_shape)
    except ParamValidationError as e:
        raise PlanError(
            f"{call.resource.id}.{call.method.name}, row {row}: the request does not fit "
            f"{op.name}'s input: {validation_report(e)}",
            hint=f"the body follows the {op.name} input shape (see the AWS API reference)",
        ) from None
    problem = shape_limits(detail["params"], op.input_shape)
    if problem is not None:
        raise PlanError(
            f"{call.resource.id}.{call.method.name}, row {row}: {problem}",
            hint=f"SageMaker refuses it (ValidationException); see {op.name}'s input shape",
        )


def shape_limits(value: Any, shape: Any, path: str = "") -> str | None:
    """What of ``value`` breaks a limit of botocore ``shape`` that botocore's own validation
    leaves to the service: a string's pattern or most length, a list's most items (a job named
    ``bad name!`` or 48 characters long was created by the sandbox; SageMaker refuses it).
    None when all of it fits."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                found = shape_limits(value[name], member, f"{path}.{name}" if path else name)
                if found:
                    return found
    elif kind == "list" and isinstance(value, list):
        if meta.get("max") is not None and len(value) > meta["max"]:
            return f"{path} has {len(value)} items, more than the {meta['max']} the API takes"
        for i, item in enumerate(value):
            found = shape_limits(item, shape.member, f"{path}[{i}]")
            if found:
                return found
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            found = shape_limits(item, shape.value, f"{path}.{key}")
            if found:
                return found
    elif kind == "string" and isinstance(value, str):
        if meta.get("max") is not None and len(value) > meta["max"]:
            return (
                f"{path} = {value[:60]!r} has {len(value)} characters, more than the "
                f"{meta['max']} the API takes"
            )
        if meta.get("pattern") and not matches_pattern(meta["pattern"], value):
            return f"{path} = {value[:60]!r} does not match the API's pattern {meta['pattern']}"
    return None


#: transport name -> extra pre-flight validation of a call
VALIDATORS = {"aws": validate_aws}


class NotSent(CallError):
    """A call that was never sent: the statement stopped first (Ctrl-C, a cancel, its time
    limit)."""

    def __init__(self) -> None:
        super().__init__(None, "not sent")


#: how often the waiting thread looks at the clock and the session's cancel flag (s)
_TICK = 0.1


def execute(
    session: Session,
    rows: list[int],
    calls: list[Call],
    verb: str = "done",
    *,
    reply_names: bool = True,
) -> list[Outcome]:
    """Send every call on a bounded pool; the outcomes in row order, failures among them.

    Each call's credentials are resolved before the first is sent (an account that cannot be
    used fails the statement with nothing done). Once the statement is cancelled (Ctrl-C, the
    shell's cancel) or its ``--timeout`` passes, no further call is sent: after a Ctrl-C or a
    cancel the calls in flight are waited for (a second Ctrl-C, or a cancel that abandons,
    gives them up), after the time limit they are given up at once. Then the statement fails,
    whatever ``--on-error`` says, with a report of every row (``verb``: what a call does):
    done, failed, not sent, outcome unknown. They went on being sent, and what was done was
    never reported. ``reply_names``: a reply names what was done (a create's new resource; a
    delete's reply is an operation, not the job).
    """
    from stackql_tuning.run.query import statement_deadline

    for call in calls:
        ready = getattr(session.fetcher.transport(call.resource.provider), "ready", None)
        if callable(ready):
            ready(call)
    deadline = statement_deadline(session)
    #: why the calls not yet sent are not sent (the first reason found, by a worker or by the
    #: waiting thread), and the error that reports it
    stop: list[tuple[str, type[StackqlTuningError]]] = []

    def stopping() -> bool:
        if not stop:
            if session.cancelled:
                stop.append(("the statement was cancelled", Cancelled))
            elif deadline is not None and time.monotonic() >= deadline:
                limit = f"the statement's time limit ({session.settings.timeout:g} s) passed"
                stop.append((limit, StatementTimeout))
        return bool(stop)

    def one(pair: tuple[int, Call]) -> Outcome:
        row, call = pair
        if stopping():
            return Outcome(row, call, error=NotSent())
        try:
            with stoppable_waits(stopping):  # a call queued for the rate limit is not sent
                page = session.fetcher.fetch(call)
        except WaitStopped:
            return Outcome(row, call, error=NotSent())
        except CallError as e:
            return Outcome(row, call, error=e)
        except StackqlTuningError as e:  # credentials that failed at the call: nothing sent
            return Outcome(row, call, error=CallError(None, e.message))
        obj = reply_obj(page)
        failed = operation_error(call.method, obj)
        if failed is not None:
            return Outcome(row, call, page=page, error=failed)
        return Outcome(row, call, page=page, obj=obj)

    pairs = list(zip(rows, calls, strict=True))
    futures = _start(one, pairs, max(1, min(session.settings.concurrency, len(pairs))))
    interrupted = False
    try:
        pending = set(futures)
        while pending:
            try:
                _, pending = wait(pending, timeout=_TICK)
            except KeyboardInterrupt:
                if interrupted:
                    break  # a second Ctrl-C: the calls in flight are abandoned
                interrupted = True
                if not stop:
                    stop.append(("the statement was interrupted (Ctrl-C)", Cancelled))
                notify(
                    session,
                    "interrupted: no further call is sent; waiting for the calls in flight "
                    "(Ctrl-C again to abandon them)",
                )
                continue
            if getattr(session, "abandoning", False) and stopping():
                break  # the shell's second Ctrl-C: the calls in flight are given up
            if pending and stopping() and stop[0][1] is StatementTimeout:
                break  # past the time limit the calls in flight are given up at once
    finally:
        for f in futures:
            f.cancel()  # those not started
    # a call that had just started when the stop came returns at once, unsent (and one more
    # Ctrl-C here does not lose the report)
    with contextlib.suppress(KeyboardInterrupt):
        wait([f for f in futures if not f.done()], timeout=_TICK)
    reason = stop[0][0] if stop else "the statement stopped"
    outcomes = []
    for (row, call), f in zip(pairs, futures, strict=True):
        if f.cancelled():
            outcomes.append(Outcome(row, call, error=NotSent()))
        elif f.done():
            outcomes.append(f.result())
        else:
            outcomes.append(
                Outcome(row, call, error=CallError(None, f"in flight when {reason}", sent=True))
            )
    if stop:
        raise stopped_error(stop[0][1], reason, verb, outcomes, reply_names=reply_names)
    return outcomes


def _start(
    one: Callable[[tuple[int, Call]], Outcome], pairs: list[tuple[int, Call]], workers: int
) -> list[Future[Outcome]]:
    """Run ``one`` over ``pairs`` on ``workers`` daemon threads: a call abandoned in flight
    does not hold the process at exit (a pool's threads are joined then)."""
    futures: list[Future[Outcome]] = [Future() for _ in pairs]
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(pairs)):
        todo.put(i)

    def run() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            if not futures[i].set_running_or_notify_cancel():
                continue
            try:
                futures[i].set_result(one(pairs[i]))
            except BaseException as e:  # handed to the waiting thread
                futures[i].set_exception(e)

    for _ in range(workers):
        threading.Thread(target=run, name="mutate", daemon=True).start()
    return futures


def stopped_error(
    cls: type[StackqlTuningError],
    reason: str,
    verb: str,
    outcomes: list[Outcome],
    *,
    reply_names: bool = True,
) -> StackqlTuningError:
    """The report of a statement whose calls stopped being sent: each row's fate."""
    done = [done_text(o, reply_names) for o in outcomes if o.ok]
    not_sent = [o.row for o in outcomes if isinstance(o.error, NotSent)]
    unknown = [o for o in outcomes if o.error and not isinstance(o.error, NotSent) and o.error.sent]
    failed = [
        o for o in outcomes if o.error and not isinstance(o.error, NotSent) and not o.error.sent
    ]
    # a cancel says "cancelled: ..." already; a time limit says which one passed
    head = "" if cls is Cancelled else f"{reason}: "
    parts = [f"{head}{len(done)} of {len(outcomes)} {verb}"]
    if done:
        parts.append(f"{verb}: " + "; ".join(done))
    if not_sent:
        parts.append(f"not sent: {_rows_text(not_sent)}")
    if unknown:
        parts.append("outcome unknown: " + _grouped(unknown))
    if failed:
        parts.append("failed: " + _grouped(failed, status=True))
    hints = []
    if unknown:
        rows = _rows_text([o.row for o in unknown])
        hints.append(
            f"check whether {rows} {'was' if len(unknown) == 1 else 'were'} {verb} (SELECT) "
            f"before running {'it' if len(unknown) == 1 else 'them'} again"
        )
    if failed:
        hints.append(
            f"fix {_rows_text([o.row for o in failed])} and run "
            f"{'it' if len(failed) == 1 else 'them'} again"
        )
    if not_sent:
        hints.append(f"run {_rows_text(not_sent)} again")
    if done:
        hints.append(f"the rows reported as {verb} were {verb}: do not run them again")
    elif not unknown:
        hints.append(f"nothing was {verb}")
    return cls("; ".join(parts), hint="; ".join(hints))


def done_text(o: Outcome, reply_names: bool = True) -> str:
    """``row N: <what it names>``, and whether an operation it started is still running."""
    text = f"row {o.row}: {target_text(o.call.resource, o.call, o.obj if reply_names else None)}"
    if is_operation(o.call.method) and not o.obj.get("done"):
        text += f" (started: operation {o.obj.get('name', '?')} not finished)"
    return text


def _grouped(outcomes: list[Outcome], *, status: bool = False) -> str:
    """Rows of the same message once: ``rows 1-16: in flight when ...``."""
    by_message: dict[str, list[int]] = {}
    for o in outcomes:
        assert o.error is not None
        text = f"{o.error.status}: {o.error.message}" if status else o.error.message
        by_message.setdefault(text, []).append(o.row)
    return "; ".join(f"{_rows_text(rows)}: {text}" for text, rows in by_message.items())


def _rows_text(rows: list[int]) -> str:
    """``row 3``, ``rows 2, 5`` or ``rows 4-40`` (runs of consecutive rows joined)."""
    runs: list[list[int]] = []
    for r in sorted(rows):
        if runs and r == runs[-1][-1] + 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    text = ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
    return f"row {text}" if len(rows) == 1 else f"rows {text}"


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
    params = list(get.params if get else ())
    names = [p for p in params if p.required]
    own = [str(merged[p.name]) for p in names if p.location != "client" and p.name in merged]
    where = [str(merged[p.name]) for p in names if p.location == "client" and p.name in merged]
    # an optional client param the call names (an AWS account) tells two otherwise equal
    # targets apart
    extra = [
        f"{p.name}={merged[p.name]}"
        for p in params
        if p.location == "client" and not p.required and merged.get(p.name) is not None
    ]
    text = ", ".join(own) or ", ".join(f"{k}={v}" for k, v in call.params.items())
    return (
        text
        + (f" in {', '.join(where)}" if where else "")
        + (f" ({', '.join(extra)})" if extra else "")
    )


def failure_of(o: Outcome, verb: str = "done") -> FailedCall:
    """The failed call of ``o`` with its row; when the request was sent but its reply lost, its
    message says that it may have been ``verb`` all the same."""
    assert o.error is not None
    message = o.error.message
    if o.error.sent:
        message = f"outcome unknown, it may have been {verb}: {message}"
    return FailedCall(
        o.call.resource.id,
        o.call.method.name,
        o.call.describe_params(),
        o.error.status,
        message,
        row=o.row,
    )


def summary_error(verb: str, outcomes: list[Outcome], done: list[str]) -> ProviderError:
    failed = [o for o in outcomes if not o.ok]
    failures = [failure_of(o, verb) for o in failed]
    ok = len(outcomes) - len(failed)
    text = f"{ok} of {len(outcomes)} {verb}; failed: " + "; ".join(
        f"row {f.row}: {f.message}" if f.status is None else f"row {f.row}: {f.status}: {f.message}"
        for f in failures
    )
    if done:
        text += f" ({verb}: " + "; ".join(done) + ")"
    unknown = [str(o.row) for o in failed if o.error is not None and o.error.sent]
    if unknown:
        rows = ", ".join(unknown)
        hint = (
            f"the request of row {rows} reached the server, whose reply was lost, unreadable or "
            f"an error that does not say what was done: check whether it was {verb} (SELECT it) "
            "before running it again"
            if len(unknown) == 1
            else f"the requests of rows {rows} reached the server, whose replies were lost, "
            f"unreadable or errors that do not say what was done: check whether they were {verb} "
            "(SELECT them) before running them again"
        )
    elif done:
        hint = "the rows reported as done were done; fix the failed rows and run them again"
    else:
        hint = f"nothing was {verb}; fix the failed rows and run them again"
    return ProviderError(text, failures=failures, hint=hint)


def plural(n: int, word: str = "resource") -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def is_operation(method: Method) -> bool:
    return method.response.get("kind") == "operation"


def operation_error(method: Method, obj: dict[str, Any]) -> CallError | None:
    """The failure an operation reply reports (``done`` with an ``error``), or None: the API
    says the change failed (a delete answered so was reported as done)."""
    error = obj.get("error")
    if not is_operation(method) or not obj.get("done") or not isinstance(error, dict):
        return None
    status = error.get("status") or error.get("code")
    return CallError(
        status if isinstance(status, (int, str)) else None,
        f"operation {obj.get('name', '?')} failed: {str(error.get('message') or '')[:300]}",
    )


__all__ = [
    "VALIDATORS",
    "NotSent",
    "Outcome",
    "check_calls",
    "done_text",
    "execute",
    "failure_of",
    "is_operation",
    "operation_error",
    "plural",
    "stopped_error",
    "summary_error",
    "target_text",
    "to_calls",
]
