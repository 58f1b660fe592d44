"""``/*+ AWAIT */``: polling until a mutation has finished, with progress lines and a time limit.

Three waits, chosen by what the call returned (never by resource name):

- a Google long-running operation: ``GET {version}/{operation name}`` until ``done`` (an
  ``error`` in the operation is a ProviderError);
- a state change the API only starts (cancel, stop): the resource's get method until its state
  column is terminal. The state column is the column whose ``enum`` holds one of
  :data:`TERMINAL_STATES` (a small vocabulary table, not a per-resource rule);
- a delete without an operation: the get method until it answers "not found".

Progress goes to ``session.notify`` when set, else to stderr, about every
:data:`PROGRESS_EVERY` seconds. Past ``settings.await_timeout`` a StatementTimeout names the
state last seen. Must not: plan statements or name a particular resource.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from stackql_tuning.errors import Cancelled, PlanError, ProviderError, StatementTimeout
from stackql_tuning.registry.model import (
    Column,
    Method,
    Param,
    Resource,
    get_method,
    split_identity,
)
from stackql_tuning.transports.base import POLL_VERB, Call, CallError, Page

if TYPE_CHECKING:
    from stackql_tuning.session import Session

#: states after which a job changes no more (Vertex AI JobState, SageMaker tuning job status)
TERMINAL_STATES = frozenset(
    {
        "JOB_STATE_SUCCEEDED",
        "JOB_STATE_FAILED",
        "JOB_STATE_CANCELLED",
        "JOB_STATE_EXPIRED",
        "JOB_STATE_PARTIALLY_SUCCEEDED",
        "Completed",
        "Failed",
        "Stopped",
        "DeleteFailed",
    }
)
PROGRESS_EVERY = 5.0


def notify(session: Session, text: str) -> None:
    """A progress line: to ``session.notify`` when the caller set one, else to stderr."""
    sink = getattr(session, "notify", None)
    if callable(sink):
        sink(text)
    else:
        print(text, file=sys.stderr, flush=True)


def reply_obj(page: Page) -> dict[str, Any]:
    if page.obj is not None:
        return page.obj
    try:
        obj = orjson.loads(page.raw or b"{}")
    except orjson.JSONDecodeError:
        raise ProviderError("the reply is not valid JSON") from None
    return obj if isinstance(obj, dict) else {}


def state_column(resource: Resource) -> Column | None:
    for c in resource.columns:
        if TERMINAL_STATES.intersection(c.enum):
            return c
    return None


def get_params(
    resource: Resource, get: Method, sources: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The get method's params from the call's params/body and the reply (identity parsed)."""
    merged: dict[str, Any] = {}
    for src in sources:
        for k, v in src.items():
            merged.setdefault(k, v)
    ident = resource.identity
    col = ident.get("column")
    if ident.get("template") and col and isinstance(merged.get(col), str):
        parts = split_identity(str(ident["template"]), merged[col]) or {}
        merged.update(parts)
    out = {}
    for p in get.params:
        if p.name in merged and merged[p.name] is not None:
            out[p.name] = merged[p.name]
        elif p.required:
            return None
    return out


def polling(method: Method) -> Method:
    """``method`` marked as a poll: not a SELECT, so the fetcher's response cache never answers
    it (a cached reply would freeze the state being waited for) and drops the resource's stale
    entries."""
    return replace(method, sql_verb=POLL_VERB)


def fetch_state(session: Session, resource: Resource, params: dict[str, Any]) -> str | None:
    """The resource's state now; None when it has no state to read back. A reply without
    the state is a CallError (it was taken for a finished wait, "now unknown")."""
    get, col = get_method(resource), state_column(resource)
    if get is None or col is None:
        return None
    page = session.fetcher.fetch(Call(resource, polling(get), params))
    value = reply_obj(page).get(col.name)
    if value is None:
        raise CallError(page.status, f"the reply has no {col.name}")
    return str(value)


def poll(session: Session, label: str, probe: Callable[[], tuple[bool, str]]) -> str:
    """Call ``probe`` until it says done; returns the last state text.

    Each probe runs on a daemon thread that the caller waits for in short ticks: a reply slower
    than the time left (``--timeout``, ``await_timeout``) or a cancel ends the wait on time,
    not when the reply comes (a probe answered after the limit passed ended the statement with
    success, past its ``--timeout``)."""
    from stackql_tuning.run.query import statement_deadline

    settings = session.settings
    started = time.monotonic()
    last_note = started
    state = "unknown"
    # the statement's --timeout, when it comes first, ends the wait as it ends any other
    deadline = statement_deadline(session)
    limit = settings.await_timeout
    by_timeout = deadline is not None and deadline - started < limit
    if by_timeout and deadline is not None:
        limit = max(0.0, deadline - started)
    end = started + limit

    def timed_out() -> StatementTimeout:
        if by_timeout:
            return StatementTimeout(
                f"/*+ AWAIT */ {label}: the statement ran past its time limit "
                f"(--timeout {settings.timeout:g} s) while waiting; last state seen: "
                f"{state} (the change itself was made)",
                hint="raise --timeout, or check later with a SELECT",
            )
        return StatementTimeout(
            f"/*+ AWAIT */ {label}: not finished after {settings.await_timeout:g} s; "
            f"last state seen: {state} (the change itself was made)",
            hint="raise the await_timeout setting (Session(await_timeout=...)), or check "
            "later with a SELECT",
        )

    def stopped() -> Cancelled:
        return Cancelled(f"stopped waiting for {label}; last state seen: {state}")

    while True:
        answer = _within(session, probe, end)
        if answer is None:
            raise stopped() if session.cancelled else timed_out()
        done, state = answer
        if done:
            return state
        now = time.monotonic()
        elapsed = now - started
        if now >= end:
            raise timed_out()
        if now - last_note >= PROGRESS_EVERY:
            notify(session, f"{label} in progress, {int(elapsed)} s elapsed (state {state})")
            last_note = now
        wait_end = min(now + settings.await_interval, end)
        while time.monotonic() < wait_end:
            if session.cancelled:
                raise stopped()
            time.sleep(min(0.05, max(0.0, wait_end - time.monotonic())))


def _within(
    session: Session, probe: Callable[[], tuple[bool, str]], end: float
) -> tuple[bool, str] | None:
    """``probe()``'s answer, or None when the session is cancelled or ``end`` passes first
    (the probe is then left to finish on its daemon thread; its answer is dropped)."""
    answer: Future[tuple[bool, str]] = Future()

    def run() -> None:
        try:
            answer.set_result(probe())
        except BaseException as e:  # handed to the waiting thread
            answer.set_exception(e)

    threading.Thread(target=run, name="await", daemon=True).start()
    while True:
        try:
            return answer.result(timeout=max(0.0, min(0.05, end - time.monotonic())))
        except TimeoutError:
            if session.cancelled or time.monotonic() >= end:
                return None


def await_terminal(session: Session, resource: Resource, params: dict[str, Any], label: str) -> str:
    """Poll the resource until its state is terminal; the final state."""

    def probe() -> tuple[bool, str]:
        try:
            state = fetch_state(session, resource, params)
        except CallError as e:
            raise ProviderError(f"{label}: polling failed: {e.status}: {e.message}") from None
        if state is None:
            return True, "unknown"
        return state in TERMINAL_STATES, state

    return poll(session, label, probe)


def await_gone(session: Session, resource: Resource, params: dict[str, Any], label: str) -> str:
    """Poll the resource until the API says it does not exist."""
    get = get_method(resource)
    if get is None:
        return "deleted"
    col = state_column(resource)

    def probe() -> tuple[bool, str]:
        try:
            obj = reply_obj(session.fetcher.fetch(Call(resource, polling(get), params)))
        except CallError as e:
            # only the API's own "no such resource" (a Google 404 NOT_FOUND, an AWS
            # ResourceNotFound): "NotFound" in a 500's or an access denial's text was taken
            # for "deleted"
            if e.not_found:
                return True, "deleted"
            raise ProviderError(f"{label}: polling failed: {e.status}: {e.message}") from None
        state = obj.get(col.name) if col is not None else None
        return False, str(state or "still present")

    return poll(session, label, probe)


def operation_call(resource: Resource, name: str) -> Call:
    """A GET of a Google operation by name, as a call through the resource's transport.

    ``projects/p/locations/l/operations/7`` -> path ``v1/projects/{projectsId}/locations/
    {locationsId}/operations/{operationsId}``: every segment is a checked path param, and the
    location param picks the regional host as for any other call.
    """
    segs = name.split("/")
    if len(segs) < 2 or len(segs) % 2 or not all(segs):
        raise ProviderError(f"cannot poll operation {name[:120]!r}: not a resource name")
    version = "v1"
    for m in resource.methods:
        path = str(m.request.get("path", ""))
        if path:
            version = path.split("/", 1)[0]
            break
    parts, params, names = [], {}, set()
    for coll, value in zip(segs[::2], segs[1::2], strict=True):
        pname = f"{coll}Id"
        while pname in names:
            pname += "_"
        names.add(pname)
        parts.append(f"{coll}/{{{pname}}}")
        params[pname] = value
    method = Method(
        name="operations.get",
        sql_verb=POLL_VERB,
        description="",
        params=tuple(Param(p, "path", True) for p in params),
        request={"http_method": "GET", "path": f"{version}/" + "/".join(parts)},
        response={"kind": "operation"},
    )
    return Call(resource, method, params)


def await_operation(session: Session, resource: Resource, op: dict[str, Any], label: str) -> dict:
    """Poll a long-running operation until ``done``; its final JSON (error -> ProviderError)."""
    name = op.get("name")
    final = dict(op)
    if not op.get("done"):
        if not isinstance(name, str):
            raise PlanError(f"{label}: the reply is not an operation with a name")
        call = operation_call(resource, name)

        def probe() -> tuple[bool, str]:
            try:
                obj = reply_obj(session.fetcher.fetch(call))
            except CallError as e:
                raise ProviderError(
                    f"{label}: polling {name} failed: {e.status}: {e.message}"
                ) from None
            final.clear()
            final.update(obj)
            return bool(obj.get("done")), "done" if obj.get("done") else "running"

        poll(session, label, probe)
    err = final.get("error")
    if isinstance(err, dict):
        code, msg = err.get("code", ""), err.get("message", "")
        raise ProviderError(f"{label}: operation {name} failed: {code} {msg}".strip())
    return final


__all__ = [
    "TERMINAL_STATES",
    "await_gone",
    "await_operation",
    "await_terminal",
    "get_params",
    "notify",
    "operation_call",
    "reply_obj",
    "state_column",
]
