"""The fetch scheduler: every call chain of a statement on one bounded worker pool.

A chain is one call and its pages (token chaining keeps pages of a chain sequential). Chains
run concurrently up to ``concurrency`` with at most ``per_host`` in flight per host; follow-up
work (the next page, hydration gets) is queued as replies arrive, and only ``concurrency``
tasks are ever submitted to the pool, so nothing grows without bound but the work list itself.
The main thread waits in short slices so that cancel (Ctrl-C) and the statement timeout act
promptly. Failed calls are collected, never hidden; errors that are the user's (a bad path
value, missing credentials) stop the statement at once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from stackql_tuning.errors import Cancelled, FailedCall, StackqlTuningError, StatementTimeout
from stackql_tuning.transports.base import Call, CallError, Page

#: what to do with a page: returns follow-up calls (e.g. hydration) and the rows it held
Sink = Callable[[Call, Page], tuple[Iterable[Call], int]]


@dataclass
class Work:
    call: Call
    token: str | None = None
    page_no: int = 1
    #: page tokens already followed in this chain (a repeated one would loop forever)
    seen: set[str] = field(default_factory=set)


@dataclass
class RunStats:
    calls: int = 0  # logical calls (chains) started
    requests: int = 0  # pages fetched
    rows: int = 0
    retries: int = 0
    failures: list[FailedCall] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        fetch: Callable[[Call, str | None], Page],
        *,
        concurrency: int = 16,
        per_host: int = 16,
        host_of: Callable[[Call], str] = lambda c: "",
        page_limit: int | None = None,
        deadline: float | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        progress: Callable[[int, int, int], None] | None = None,
    ) -> None:
        self.fetch = fetch
        self.concurrency = max(1, concurrency)
        self.per_host = max(1, per_host)
        self.host_of = host_of
        self.page_limit = page_limit
        self.deadline = deadline
        self.cancelled = cancelled
        self.progress = progress

    def run(self, calls: Iterable[Call], sink: Sink, *, row_limit: int | None = None) -> RunStats:
        stats = RunStats()
        ready: deque[Work] = deque(Work(c) for c in calls)
        stats.calls = len(ready)
        total = len(ready)
        in_flight: dict[Future[Page], Work] = {}
        per_host: dict[str, int] = {}
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="fetch")
        try:
            while ready or in_flight:
                self._submit(pool, ready, in_flight, per_host)
                done, _ = wait(list(in_flight), timeout=0.05, return_when=FIRST_COMPLETED)
                self._check(in_flight)
                for fut in done:
                    work = in_flight.pop(fut)
                    host = self.host_of(work.call)
                    per_host[host] -= 1
                    stats.requests += 1
                    try:
                        page = fut.result()
                    except CallError as e:
                        stats.failures.append(
                            _failed(work.call, e.status, e.message, not_found=e.not_found)
                        )
                        continue
                    except StackqlTuningError:
                        raise
                    except Exception as e:  # a bug or an unexpected library error
                        stats.failures.append(
                            _failed(work.call, "error", f"{type(e).__name__}: {e}")
                        )
                        continue
                    stats.retries += max(0, page.attempts - 1)
                    follow, rows = sink(work.call, page)
                    stats.rows += rows
                    for c in follow:
                        ready.append(Work(c))
                        stats.calls += 1
                        total += 1
                    if page.next_token and not (row_limit is not None and stats.rows >= row_limit):
                        if page.next_token in work.seen or page.next_token == work.token:
                            stats.failures.append(
                                _failed(
                                    work.call,
                                    "bad reply",
                                    f"page {work.page_no} repeats an earlier page token "
                                    f"{page.next_token[:40]!r}: the listing would never end",
                                )
                            )
                        elif self.page_limit is not None and work.page_no >= self.page_limit:
                            stats.warnings.append(
                                f"page limit {self.page_limit} reached for {work.call.label}: "
                                "more rows exist (raise --page-limit to get them)"
                            )
                        else:
                            if work.token:
                                work.seen.add(work.token)
                            ready.appendleft(
                                Work(work.call, page.next_token, work.page_no + 1, work.seen)
                            )
                    if self.progress is not None:
                        self.progress(stats.requests, total, stats.rows)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return stats

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        ready: deque[Work],
        in_flight: dict[Future[Page], Work],
        per_host: dict[str, int],
    ) -> None:
        skipped: list[Work] = []
        while ready and len(in_flight) < self.concurrency:
            work = ready.popleft()
            host = self.host_of(work.call)
            if per_host.get(host, 0) >= self.per_host:
                skipped.append(work)
                continue
            per_host[host] = per_host.get(host, 0) + 1
            in_flight[pool.submit(self.fetch, work.call, work.token)] = work
        ready.extendleft(reversed(skipped))

    def _check(self, in_flight: dict[Future[Page], Work]) -> None:
        if self.cancelled():
            raise Cancelled("statement cancelled; in-flight calls were abandoned")
        if self.deadline is not None and time.monotonic() > self.deadline:
            pending = sorted({w.call.label for w in in_flight.values()})
            shown = "; ".join(pending[:5]) + (
                f"; and {len(pending) - 5} more" if len(pending) > 5 else ""
            )
            raise StatementTimeout(
                f"the statement ran past its time limit with {len(pending)} call(s) pending: "
                f"{shown}",
                hint="raise --timeout, or narrow the query (fewer regions/projects)",
            )


def _failed(call: Call, status: Any, message: str, *, not_found: bool = False) -> FailedCall:
    params = call.describe_params()
    return FailedCall(call.resource.id, call.method.name, params, status, message, not_found)
