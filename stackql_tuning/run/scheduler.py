"""The fetch scheduler: every call chain of a statement on one bounded set of workers.

A chain is one call and its pages. ``concurrency`` worker threads take chains from one work
list, at most ``per_host`` in flight per host; a worker follows its chain's page tokens itself
(pages of a chain stay sequential, and the next page leaves as soon as a reply is read, without
a hop through another thread). Replies go to the calling thread, which runs the sink (that
writes the page for DuckDB and may queue follow-up calls, e.g. hydration gets), reports
progress, and waits in short slices so that cancel (Ctrl-C) and the statement timeout act
promptly. There is never a thread per call, the work list grows only with calls the
statement needs, and at most ``2 x concurrency`` replies wait for the calling thread. Failed
calls are collected, never hidden; errors that are the user's (a bad path value, missing
credentials) stop the statement at once.

With a row limit (early LIMIT) a chain's next page is decided by the calling thread after the
sink has counted the rows, so no page is fetched past the limit. Limits may be per group of
calls (``group_of``: a statement's provider table, each view branch its own): a group that has
its rows starts no more pages or chains, while the others go on. A limited group also has at
most as many requests in flight as the rows it still needs take at the rows per page so far
(one each, at first): ``LIMIT 5`` over the training jobs of a region's tuning jobs sent 8 to
13 lists at once, of which the first one or two held the rows.

Idle workers are woken only when something changed for them (work queued, a host slot freed
for queued work, the reply backlog under its bound, the run finished), and when the sink can
queue no calls (no hydration) a worker with no chain left ends at once: at the end of a
fan-out, the last replies no longer wait behind idle workers' GIL turns.
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from stackql_tuning.errors import Cancelled, FailedCall, StackqlTuningError, StatementTimeout
from stackql_tuning.result import CutShort
from stackql_tuning.transports.base import Call, CallError, Page

#: what to do with a page: returns follow-up calls (e.g. hydration) and the rows it held
Sink = Callable[[Call, Page], tuple[Iterable[Call], int]]

#: how long the calling thread waits for a reply before it checks cancel and the deadline
POLL_SECONDS = 0.05
#: no group (a failure whose call's group is not known)
_NONE = object()


#: a chain whose pages hold no item, this many in a row, each with a new page token, is ended
#: as failed: a server that always answers "nothing yet, here is another token" kept a
#: statement paging forever (repeated tokens were caught, fresh ones were not). An API may
#: skip over filtered-out items with a few empty pages; hundreds in a row is not a listing
MAX_EMPTY_PAGES = 500
#: pages in a row that repeat the page before them (the same items) under new page tokens,
#: after which a listing is taken as endless (it ran until killed, with no message)
MAX_SAME_PAGES = 20


def _empty(call: Call, page: Page) -> bool:
    """Whether ``page`` of a list holds no item (cheaply: its items key is absent or ``[]``)."""
    key = call.method.items_key
    if not key:
        return False
    if page.obj is not None:
        return not page.obj.get(key)
    raw = page.raw or b""
    m = re.search(b'"' + re.escape(key.encode()) + rb'"\s*:\s*', raw)
    return m is None or re.match(rb"\[\s*\]", raw[m.end() : m.end() + 64]) is not None


def _same_items(call: Call, page: Page, before: Page | None) -> bool:
    """Whether ``page`` holds what ``before`` (the chain's previous page) held, its page token
    aside. Cheap for pages that differ: their lengths (or first items) differ first."""
    if before is None or not page.next_token or not before.next_token:
        return False
    if page.obj is not None and before.obj is not None:
        key = call.method.items_key
        items, earlier = page.obj.get(key) if key else None, before.obj.get(key) if key else None
        return bool(items) and items == earlier
    raw, prev = page.raw or b"", before.raw or b""
    if len(raw) - len(page.next_token) != len(prev) - len(before.next_token):
        return False
    token, earlier = page.next_token.encode(), before.next_token.encode()
    at, was = raw.rfind(token), prev.rfind(earlier)
    if at < 0 or at != was:
        return at < 0 and was < 0 and raw == prev
    # pages of one length are common (generated data, fixed-width fields): a slice of the
    # middle of the items tells them apart before the whole page is compared
    mid = at // 2
    if raw[mid : min(mid + 256, at)] != prev[mid : min(mid + 256, at)]:
        return False
    return raw[:at] == prev[:at] and raw[at + len(token) :] == prev[at + len(earlier) :]


@dataclass
class Work:
    call: Call
    token: str | None = None
    page_no: int = 1
    #: page tokens already followed in this chain (a repeated one would loop forever)
    seen: set[str] = field(default_factory=set)
    #: the host slot the chain takes (``Scheduler.host_of``, worked out once per chain)
    host: str = ""
    #: pages in a row, up to this one's, that held no item but a new page token
    empty_run: int = 0
    #: the chain's previous page, and how many pages in a row repeated the one before them
    before: Page | None = None
    same_run: int = 0
    #: the group whose row limit the chain's rows count toward (``Scheduler.start``)
    group: Any = None


@dataclass
class RunStats:
    calls: int = 0  # logical calls (chains) started
    calls_done: int = 0  # chains ended (their last page in, or failed)
    requests: int = 0  # pages fetched
    rows: int = 0
    retries: int = 0
    failures: list[FailedCall] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cached: int = 0  # pages the response cache answered
    cache_age: float = 0.0  # seconds: how old the oldest of them was

    def add(self, more: RunStats) -> None:
        """``more``'s calls, pages, rows, retries, failures and warnings counted in too."""
        self.calls += more.calls
        self.calls_done += more.calls_done
        self.requests += more.requests
        self.rows += more.rows
        self.retries += more.retries
        self.failures += more.failures
        self.warnings += more.warnings
        self.cached += more.cached
        self.cache_age = max(self.cache_age, more.cache_age)


@dataclass
class _Reply:
    """One finished request, from a worker to the calling thread."""

    work: Work
    page: Page | None = None
    error: BaseException | None = None
    #: the chain's next page, when the worker decided it (None: the chain ended here)
    follow: Work | None = None
    failure: FailedCall | None = None
    warning: str | None = None
    #: the worker is done with this chain (its host slot was returned with this reply)
    chain_done: bool = True


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
        progress: Callable[[int, int, int, int], None] | None = None,
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
        return self.start(calls, row_limit=row_limit).drain(sink)

    def start(
        self,
        calls: Iterable[Call],
        *,
        row_limit: int | None = None,
        follow_ups: bool = True,
        limits: dict[Any, int] | None = None,
        group_of: Callable[[Call], Any] = lambda c: None,
    ) -> Started:
        """Start the workers on ``calls`` and return at once: replies wait (at most
        ``2 x concurrency`` of them) until :meth:`Started.drain` hands them to a sink, or
        :meth:`Started.abort` drops them.

        ``row_limit``: stop once the sink has counted that many rows. ``limits``: the same per
        group of calls (``group_of``); a group without one reads every page.
        ``follow_ups=False``: the sink never queues calls (no hydration), so a worker that
        finds no chain left ends at once instead of waiting for the last reply to be read."""
        stats = RunStats()
        if row_limit is not None:
            limits, group_of = {None: row_limit}, lambda c: None
        limits = limits or {}
        initial = [Work(c, host=self.host_of(c), group=group_of(c)) for c in calls]
        # with a row limit the calling thread queues each next page: work can still come
        board = _Board(self, chain_pages=not limits, follow_ups=follow_ups or bool(limits))
        stats.calls = len(initial)
        started = Started(self, board, stats, limits, group_of)
        started.unlimited = any(w.group not in limits for w in initial)
        started.limited = {w.group for w in initial if w.group in limits}
        if not initial:
            return started
        # at first each page is taken to hold a row: no more in flight than the rows needed
        board.caps = {g: max(1, min(self.concurrency, n)) for g, n in limits.items()}
        board.add(initial)
        workers = [
            threading.Thread(target=board.work, name=f"fetch-{i}", daemon=True)
            for i in range(min(self.concurrency, len(initial)))
        ]
        board.spare = self.concurrency - len(workers)
        for t in workers:
            t.start()
        return started

    def _drain(self, started: Started, sink: Sink) -> RunStats:
        board, stats, limits = started.board, started.stats, started.limits
        rows_of: dict[Any, int] = dict.fromkeys(limits, 0)  # rows per limited group
        pages_of: dict[Any, int] = dict.fromkeys(limits, 0)  # their pages read
        done: set[Any] = set()  # the groups that have their rows
        group_failed: dict[int, Any] = {}  # id of a failure -> the group of its call
        total = stats.calls
        if not total:
            return stats
        try:
            while not board.finished():
                try:
                    reply = board.replies.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    self._check(board)
                    continue
                stats.requests += 1
                error = reply.error
                if error is not None:
                    if isinstance(error, StackqlTuningError):
                        raise error
                    if isinstance(error, CallError):
                        failed = _failed(
                            reply.work.call, error.status, error.message, not_found=error.not_found
                        )
                    else:  # a bug or an unexpected library error
                        failed = _failed(
                            reply.work.call, "error", f"{type(error).__name__}: {error}"
                        )
                    stats.failures.append(failed)
                    group_failed[id(failed)] = reply.work.group
                    stats.calls_done += 1
                    board.done(reply.work.group)
                    if self.progress is not None:
                        self.progress(stats.calls_done, total, stats.rows, stats.requests)
                    continue
                page = reply.page
                assert page is not None
                stats.retries += max(0, page.attempts - 1)
                if page.meta.get("cached"):
                    stats.cached += 1
                    stats.cache_age = max(stats.cache_age, page.meta.get("age", 0.0))
                follow, rows = sink(reply.work.call, page)
                stats.rows += rows
                group = reply.work.group
                new = [Work(c, host=self.host_of(c), group=started.group_of(c)) for c in follow]
                stats.calls += len(new)
                total += len(new)
                nxt, cap = None, None
                if group in rows_of:
                    rows_of[group] += rows
                    pages_of[group] += 1
                    if rows_of[group] >= limits[group] and group not in done:
                        done.add(group)  # its rows are in: its queued chains are not needed
                        dropped = board.drop(done)
                        stats.calls -= dropped  # never started
                        total -= dropped
                    elif group not in done:
                        cap = self._in_flight(limits[group], rows_of[group], pages_of[group])
                if limits and page.next_token and group not in done:
                    # the worker left the next page to this thread: the sink has counted rows
                    nxt, reply.failure, reply.warning = self._next(reply.work, page)
                    if nxt is not None:
                        board.add_first(nxt)
                if reply.follow is None and nxt is None:
                    stats.calls_done += 1
                if reply.failure is not None:
                    stats.failures.append(reply.failure)
                    group_failed[id(reply.failure)] = group
                if reply.warning is not None:
                    stats.warnings.append(reply.warning)
                board.add(new)
                board.done(group, cap)
                if self.progress is not None:
                    self.progress(stats.calls_done, total, stats.rows, stats.requests)
                if limits and not started.unlimited and done >= started.limited:
                    # the rows every LIMIT needs have arrived: a slow page of another chain is
                    # not waited for (nor, past --timeout, a failure of the statement)
                    break
                self._check(board)
        finally:
            board.stop()
        # a call of a group whose rows came from its other calls failed: a warning, the
        # answer does not need it, and whether its failure came before the rows did was a
        # matter of timing (exit 1 or 0 for the same statement)
        if done:
            needless = [f for f in stats.failures if group_failed.get(id(f), _NONE) in done]
            stats.warnings += [
                f"{f.describe()} (not needed: the LIMIT's rows came from other calls)"
                for f in needless
            ]
            stats.failures = [f for f in stats.failures if f not in needless]
        return stats

    def _in_flight(self, limit: int, rows: int, pages: int) -> int:
        """How many requests of a limited group may be in flight once ``pages`` of its pages
        have held ``rows`` rows: as many as the rows still needed take at that many rows a
        page, or every worker while no row has come."""
        if not rows:
            return self.concurrency
        return max(1, min(self.concurrency, math.ceil((limit - rows) * pages / rows)))

    def _next(self, work: Work, page: Page) -> tuple[Work | None, FailedCall | None, str | None]:
        """The chain's next page after ``page``, or why there is none."""
        token = page.next_token
        assert token is not None
        if token in work.seen or token == work.token:
            return (
                None,
                _failed(
                    work.call,
                    "bad reply",
                    f"page {work.page_no} repeats an earlier page token {token[:40]!r}: "
                    "the listing would never end",
                ),
                None,
            )
        if self.page_limit is not None and work.page_no >= self.page_limit:
            return (
                None,
                None,
                CutShort(
                    f"page limit {self.page_limit} reached for {work.call.label}: "
                    "more rows exist (raise --page-limit to get them)"
                ),
            )
        empty_run = work.empty_run + 1 if _empty(work.call, page) else 0
        if empty_run >= MAX_EMPTY_PAGES:
            return (
                None,
                _failed(
                    work.call,
                    "bad reply",
                    f"{empty_run} pages in a row held no item, each with a new page token "
                    f"(up to page {work.page_no}): the listing may never end",
                ),
                None,
            )
        same_run = work.same_run + 1 if _same_items(work.call, page, work.before) else 0
        if same_run >= MAX_SAME_PAGES:
            return (
                None,
                _failed(
                    work.call,
                    "bad reply",
                    f"{same_run} pages in a row repeated the page before them under new page "
                    f"tokens (up to page {work.page_no}): the listing may never end",
                ),
                None,
            )
        seen = work.seen
        if work.token:
            seen.add(work.token)
        # the page is kept for the next one's comparison only when it holds items (an empty
        # page is counted by empty_run)
        kept = None if empty_run else page
        nxt = Work(
            work.call,
            token,
            work.page_no + 1,
            seen,
            work.host,
            empty_run,
            kept,
            same_run,
            work.group,
        )
        return nxt, None, None

    def _check(self, board: _Board) -> None:
        if self.cancelled():
            raise Cancelled("statement cancelled; in-flight calls were abandoned")
        if self.deadline is not None and time.monotonic() > self.deadline:
            pending = board.pending_labels()
            shown = "; ".join(pending[:5]) + (
                f"; and {len(pending) - 5} more" if len(pending) > 5 else ""
            )
            raise StatementTimeout(
                f"the statement ran past its time limit with {len(pending)} call(s) pending: "
                f"{shown}",
                hint="raise --timeout, or narrow the query (fewer regions/projects)",
            )


class Started:
    """A run whose workers are fetching: :meth:`drain` takes the replies (in the calling
    thread, as ``Scheduler.run``); :meth:`abort` stops the workers and drops what arrives."""

    def __init__(
        self,
        scheduler: Scheduler,
        board: _Board,
        stats: RunStats,
        limits: dict[Any, int],
        group_of: Callable[[Call], Any],
    ):
        self.scheduler = scheduler
        self.board = board
        self.stats = stats
        #: group -> rows after which its chains stop (``Scheduler.start``)
        self.limits = limits
        self.group_of = group_of
        #: some calls are in no limited group: the run ends when their chains do
        self.unlimited = False
        #: the limited groups that have calls: the run ends when each has its rows
        self.limited: set[Any] = set()

    def drain(self, sink: Sink) -> RunStats:
        return self.scheduler._drain(self, sink)

    def abort(self) -> None:
        self.board.stop()

    def last_round(self) -> bool:
        """No chain waits for a worker and a worker has none left: what is in flight is all
        there will be (unless a sink queues more)."""
        board = self.board
        with board.cond:
            return not board.queued and board.busy < self.scheduler.concurrency


class _Board:
    """The shared state of one run: the work list, host slots, replies, and the workers.

    The work list is one FIFO per host, in the order hosts first appeared, so that a worker
    finds startable work by looking at each host once (not at every queued call). A worker
    returns its chain's host slot as it hands over the chain's last reply, and can start the
    next chain at once, without waiting for the calling thread to read that reply.
    """

    def __init__(self, scheduler: Scheduler, *, chain_pages: bool, follow_ups: bool) -> None:
        self.s = scheduler
        self.chain_pages = chain_pages
        #: the sink may queue calls: idle workers wait for them until the run is finished
        self.follow_ups = follow_ups
        self.ready: dict[str, deque[Work]] = {}  # host -> its queued chains
        self.queued = 0  # chains in ``ready``
        self.per_host: dict[str, int] = {}  # host -> chains being fetched
        self.active: dict[int, Work] = {}  # worker ident -> the work it is fetching
        self.busy = 0  # chains held by workers (taken, last reply not yet handed over)
        self.replies: queue.SimpleQueue[_Reply] = queue.SimpleQueue()
        self.unread = 0  # replies put and not yet handled by the calling thread
        self.stopped = False
        self.spare = 0  # workers that may still be started for follow-up work
        self.max_unread = 2 * scheduler.concurrency
        #: limited group -> the most of its requests in flight at once (set before the
        #: workers start, resized by ``Scheduler._drain``), and how many are
        self.caps: dict[Any, int] = {}
        self.in_group: dict[Any, int] = {}
        self.cond = threading.Condition()

    # -- calling thread ----------------------------------------------------------------------
    def add(self, works: list[Work]) -> None:
        if not works:
            return
        with self.cond:
            for work in works:
                self.ready.setdefault(work.host, deque()).append(work)
            self.queued += len(works)
            grow = self._grow()
            self.cond.notify(len(works))
        # started outside the lock: each new worker takes its work at once, instead of waiting
        # for the lock while the others start (15 starts took 6-15 ms here)
        for _ in range(grow):
            threading.Thread(target=self.work, name="fetch", daemon=True).start()

    def add_first(self, work: Work) -> None:
        with self.cond:
            self.ready.setdefault(work.host, deque()).appendleft(work)
            self.queued += 1
            self.cond.notify()

    def done(self, group: Any = None, cap: int | None = None) -> None:
        """The calling thread has handled a reply of ``group`` (its rows are counted: a
        limited group's place in flight is free now, and its cap is ``cap`` when given).
        Workers are woken only when that changes something for them: a worker held back by
        ``max_unread`` may go on, a limited group has room, or the run is finished and the
        idle ones end. (Waking every idle worker on every reply made the last replies of a
        fan-out wait for up to 15 workers' GIL turns each.)"""
        with self.cond:
            held = self.unread >= self.max_unread
            self.unread -= 1
            room = False
            if group in self.caps:
                self.in_group[group] -= 1
                if cap is not None:
                    self.caps[group] = cap
                room = self.queued > 0
            if room or held or (not self.queued and self.busy == 0 and self.unread == 0):
                self.cond.notify_all()

    def finished(self) -> bool:
        with self.cond:
            return not self.queued and self.busy == 0 and self.unread == 0

    def drop(self, groups: set[Any]) -> int:
        """Take the queued chains of ``groups`` off the work list; how many there were."""
        dropped = 0
        with self.cond:
            for host, works in self.ready.items():
                kept = deque(w for w in works if w.group not in groups)
                dropped += len(works) - len(kept)
                self.ready[host] = kept
            self.queued -= dropped
            self.cond.notify_all()  # a worker waiting for the last of them ends
        return dropped

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.ready.clear()
            self.queued = 0
            self.cond.notify_all()

    def pending_labels(self) -> list[str]:
        with self.cond:
            return sorted({w.call.label for w in self.active.values()})

    def _grow(self) -> int:
        """(under the lock) How many more workers queued work could use (follow-up calls);
        they are counted as started."""
        idle = self.s.concurrency - self.spare - self.busy
        want = max(0, min(self.spare, self.queued - max(0, idle)))
        self.spare -= want
        return want

    # -- workers ------------------------------------------------------------------------------
    def _take(self) -> Work | None:
        """The next chain this worker may start (host slot taken), or None to exit."""
        with self.cond:
            while True:
                if self.stopped:
                    return None
                for host, works in self.ready.items():
                    if not works or self.per_host.get(host, 0) >= self.s.per_host:
                        continue
                    work = self._startable(works)
                    if work is not None:
                        self.queued -= 1
                        self.per_host[host] = self.per_host.get(host, 0) + 1
                        self.busy += 1
                        return work
                if not self.queued and (
                    not self.follow_ups or (self.busy == 0 and self.unread == 0)
                ):
                    return None
                self.cond.wait()

    def _startable(self, works: deque[Work]) -> Work | None:
        """(under the lock) The first of a host's queued chains whose group has room for
        another request in flight, taken off the list; None when none has."""
        if not self.caps:
            return works.popleft()
        for i, work in enumerate(works):
            cap = self.caps.get(work.group)
            if cap is None:
                del works[i]
                return work
            if self.in_group.get(work.group, 0) < cap:
                del works[i]
                self.in_group[work.group] = self.in_group.get(work.group, 0) + 1
                return work
        return None

    def work(self) -> None:
        me = threading.get_ident()
        while True:
            work = self._take()
            if work is None:
                return
            while work is not None:
                with self.cond:
                    # replies wait for the calling thread: a worker does not run ahead of it by
                    # more than ``max_unread`` pages (memory stays bounded if the sink is slow)
                    while self.unread >= self.max_unread and not self.stopped:
                        self.cond.wait()
                    if self.stopped:
                        return
                    self.active[me] = work
                reply = self._fetch(work)
                with self.cond:
                    self.active.pop(me, None)
                    self.unread += 1
                    if reply.chain_done:  # the host slot is free for the next chain
                        self.busy -= 1
                        self.per_host[work.host] -= 1
                        if self.queued:  # for a worker that waits for this host's slot
                            self.cond.notify_all()
                self.replies.put(reply)
                work = reply.follow

    def _fetch(self, work: Work) -> _Reply:
        try:
            page = self.s.fetch(work.call, work.token)
        except BaseException as e:  # handed to the calling thread, which decides
            return _Reply(work, error=e)
        reply = _Reply(work, page=page)
        if self.chain_pages and page.next_token:
            follow, reply.failure, reply.warning = self.s._next(work, page)
            if follow is not None:
                reply.follow, reply.chain_done = follow, False
        return reply


def _failed(call: Call, status: Any, message: str, *, not_found: bool = False) -> FailedCall:
    params = call.describe_params()
    return FailedCall(call.resource.id, call.method.name, params, status, message, not_found)
