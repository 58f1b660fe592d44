"""The scheduler over a fake fetch: chains stay sequential, concurrency and memory stay bounded,
early LIMIT stops paging, and failures are collected (no HTTP)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import pytest

from stackql_tuning.registry.loader import default_registry
from stackql_tuning.run.scheduler import Scheduler
from stackql_tuning.transports.base import Call, CallError, Page

RES = default_registry().resource("google.aiplatform.hyperparameter_tuning_jobs")


def _calls(n: int) -> list[Call]:
    return [
        Call(RES, RES.method("list"), {"projectsId": f"p{i}", "locationsId": "us-central1"})
        for i in range(n)
    ]


class FakeApi:
    """Each chain has ``pages`` pages; counts what is in flight and what the sink has not seen."""

    def __init__(self, pages: int, delay: float = 0.0) -> None:
        self.pages = pages
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = self.peak_in_flight = 0
        self.fetched = self.sunk = self.peak_ahead = 0
        self.order: dict[str, list[str | None]] = {}

    def fetch(self, call: Call, token: str | None) -> Page:
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self.order.setdefault(call.params["projectsId"], []).append(token)
        time.sleep(self.delay)
        n = int(token or 0) + 1
        with self.lock:
            self.in_flight -= 1
            self.fetched += 1
            self.peak_ahead = max(self.peak_ahead, self.fetched - self.sunk)
        return Page(raw=b"{}", next_token=str(n) if n < self.pages else None)

    def sink(self, call: Call, page: Page) -> tuple[Iterable[Call], int]:
        time.sleep(self.delay * 2)  # a slow sink: workers must not run far ahead of it
        with self.lock:
            self.sunk += 1
        return (), 10


def test_chains_are_sequential_and_concurrency_and_memory_bounded() -> None:
    api = FakeApi(pages=20, delay=0.002)
    stats = Scheduler(api.fetch, concurrency=4).run(_calls(6), api.sink)
    assert stats.requests == 6 * 20 and not stats.failures
    assert all(tokens == [None, *map(str, range(1, 20))] for tokens in api.order.values())
    assert api.peak_in_flight <= 4
    # at most 2 x concurrency replies wait for the sink, plus what is being fetched
    assert api.peak_ahead <= 3 * 4


def test_early_limit_stops_paging() -> None:
    api = FakeApi(pages=50)
    stats = Scheduler(api.fetch, concurrency=4).run(_calls(1), api.sink, row_limit=25)
    assert stats.requests == 3  # 10 rows a page: the third page reaches 25


def test_each_group_stops_at_its_own_limit_and_the_others_read_every_page() -> None:
    # a view's branches in one stage, each with the LIMIT it was given, beside a table with none
    api = FakeApi(pages=50)
    calls = _calls(5)  # p0, p1: group a (25 rows); p2, p3: group b (5 rows); p4: no limit
    group = {"p0": "a", "p1": "a", "p2": "b", "p3": "b", "p4": None}
    started = Scheduler(api.fetch, concurrency=1).start(
        calls, limits={"a": 25, "b": 5}, group_of=lambda c: group[c.params["projectsId"]]
    )
    stats = started.drain(api.sink)
    pages = {p: len(tokens) for p, tokens in api.order.items()}
    # 10 rows a page: a needs 3 pages, b 1; the worker (one at a time) may have fetched up to
    # two more (replies wait for the sink) before the count stopped the group
    assert pages["p4"] == 50  # no limit: every page
    assert 3 <= pages.get("p0", 0) + pages.get("p1", 0) <= 5
    assert 1 <= pages.get("p2", 0) + pages.get("p3", 0) <= 3
    assert stats.requests == sum(pages.values()) <= 58


def test_failures_are_collected_and_other_chains_finish() -> None:
    api = FakeApi(pages=3)

    def fetch(call: Call, token: str | None) -> Page:
        if call.params["projectsId"] == "p1" and token == "1":
            raise CallError(503, "unavailable")
        return api.fetch(call, token)

    stats = Scheduler(fetch, concurrency=2).run(_calls(3), api.sink)
    assert [f.status for f in stats.failures] == [503]
    assert stats.requests == 3 + 2 + 3


def test_a_worker_starts_its_next_chain_without_waiting_for_the_sink() -> None:
    # one-page chains and a slow sink: the host slot of a finished chain is free at once, so the
    # workers fetch ahead (up to the 2 x concurrency unread replies) instead of one reply each
    api = FakeApi(pages=1, delay=0.005)
    stats = Scheduler(api.fetch, concurrency=2, per_host=2).run(_calls(12), api.sink)
    assert stats.requests == 12 and not stats.failures
    assert api.peak_in_flight <= 2
    assert 2 < api.peak_ahead <= 3 * 2


def test_per_host_cap_holds_across_hosts() -> None:
    calls = [
        Call(RES, RES.method("list"), {"projectsId": f"p{i}", "locationsId": f"loc{i % 3}"})
        for i in range(12)
    ]
    lock = threading.Lock()
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    def fetch(call: Call, token: str | None) -> Page:
        host = call.params["locationsId"]
        with lock:
            in_flight[host] = in_flight.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), in_flight[host])
        time.sleep(0.003)
        with lock:
            in_flight[host] -= 1
        return Page(raw=b"{}", next_token="1" if token is None else None)

    sched = Scheduler(fetch, concurrency=6, per_host=1, host_of=lambda c: c.params["locationsId"])
    stats = sched.run(calls, lambda c, p: ((), 1))
    assert stats.requests == 24 and not stats.failures
    assert peak == {"loc0": 1, "loc1": 1, "loc2": 1}


def test_a_started_run_waits_for_drain_and_abort_stops_its_workers() -> None:
    api = FakeApi(pages=50, delay=0.002)
    started = Scheduler(api.fetch, concurrency=4).start(_calls(4))
    time.sleep(0.05)
    assert api.sunk == 0  # nothing is handed to a sink before drain
    assert api.peak_ahead <= 2 * 4 + 4  # the workers wait for it: replies stay bounded
    started.abort()
    fetched, deadline = -1, time.monotonic() + 5
    while api.fetched != fetched and time.monotonic() < deadline:  # in-flight fetches end
        fetched = api.fetched
        time.sleep(0.1)
    assert api.fetched == fetched < 4 * 50  # stopped: no chain ran to its end

    api = FakeApi(pages=3)
    started = Scheduler(api.fetch, concurrency=4).start(_calls(5))
    stats = started.drain(api.sink)
    assert stats.requests == 15 and stats.rows == 150 and api.sunk == 15


def test_without_follow_ups_a_worker_with_no_chain_left_ends_at_once() -> None:
    # two chains: p0 answers at once, p1 is held. Without follow-up calls (no hydration) the
    # worker that finished p0 ends while p1 is still out; with them it waits for more work.
    # (This run's own workers are watched: other tests' threads may come and go meanwhile.)
    for follow_ups in (False, True):
        release, p1_taken = threading.Event(), threading.Event()
        workers: dict[str, threading.Thread] = {}

        def fetch(
            call: Call,
            token: str | None,
            release: threading.Event = release,
            p1_taken: threading.Event = p1_taken,
            workers: dict[str, threading.Thread] = workers,
        ) -> Page:
            workers[call.params["projectsId"]] = threading.current_thread()
            if call.params["projectsId"] == "p1":
                p1_taken.set()
                release.wait(10)
            else:  # p1 is another worker's: p0's cannot take it after p0
                p1_taken.wait(10)
            return Page(raw=b"{}")

        started = Scheduler(fetch, concurrency=2).start(_calls(2), follow_ups=follow_ups)
        deadline = time.monotonic() + 5
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        workers["p0"].join(0.5)  # ends at once without follow-ups; waits with them
        assert workers["p0"].is_alive() is follow_ups
        assert workers["p1"].is_alive()
        release.set()
        stats = started.drain(lambda call, page: ((), 1))
        assert stats.requests == 2 and stats.rows == 2 and not stats.failures


def test_the_last_round_begins_when_a_worker_finds_no_chain_left() -> None:
    # 4 chains of 3 pages on 2 workers: the first chain's end starts the third chain (not the
    # last round, although the queue may be empty by the time the sink sees it); a worker with
    # no chain left is
    api = FakeApi(pages=3, delay=0.002)
    seen: list[tuple[str, bool]] = []
    started = Scheduler(api.fetch, concurrency=2).start(_calls(4), follow_ups=False)

    def sink(call: Call, page: Page) -> tuple[Iterable[Call], int]:
        if page.next_token is None:
            seen.append((call.params["projectsId"], started.last_round()))
        return (), 0

    started.drain(sink)
    ends = dict(seen)
    assert not ends["p0"] and not ends["p1"]  # each was followed by a queued chain
    assert ends["p3"]  # the last chain to start: nothing was left for its worker


def test_endless_empty_pages_with_fresh_tokens_end_as_a_failure(monkeypatch) -> None:
    # a server answering "no item, here is a new token" forever kept the statement paging
    from stackql_tuning.run import scheduler

    monkeypatch.setattr(scheduler, "MAX_EMPTY_PAGES", 5)
    full = b'{"hyperparameterTuningJobs": [{"name": "x"}]}'

    def fetch(call: Call, token: str | None) -> Page:
        n = int(token or 0) + 1
        if call.params["projectsId"] == "p1":  # an item every 4th page: never 5 empty in a row
            return Page(raw=full if n % 4 == 0 else b'{"hyperparameterTuningJobs": [ ]}',
                        next_token=str(n) if n < 30 else None)  # fmt: skip
        return Page(raw=b"{}", next_token=str(n))  # never ends

    stats = Scheduler(fetch, concurrency=2).run(_calls(2), lambda c, p: ((), 0))
    [failure] = stats.failures
    assert failure.params["projectsId"] == "p0" and "5 pages in a row held no item" in (
        failure.message
    )
    assert stats.requests == 5 + 30


def test_early_limit_does_not_wait_for_a_slow_chain() -> None:
    # LIMIT 2 over three locations waited for a page that took 30 s, though the rows had come
    release, slow_done = threading.Event(), threading.Event()
    api = FakeApi(pages=1)

    def fetch(call: Call, token: str | None) -> Page:
        if call.params["projectsId"] == "p2":
            release.wait(10)  # held until the run has returned
            slow_done.set()
        return api.fetch(call, token)

    stats = Scheduler(fetch, concurrency=3).run(_calls(3), api.sink, row_limit=15)
    assert not slow_done.is_set() and stats.rows >= 15  # returned while p2 was still held
    release.set()


def test_a_failure_the_limits_rows_do_not_need_is_a_warning() -> None:
    # the same LIMIT failed or not, as the failure came before or after the rows
    api = FakeApi(pages=1)

    def fetch(call: Call, token: str | None) -> Page:
        if call.params["projectsId"] == "p0":
            raise CallError(500, "boom")
        return api.fetch(call, token)

    stats = Scheduler(fetch, concurrency=1).run(_calls(3), api.sink, row_limit=15)
    assert not stats.failures and stats.rows >= 15
    assert any("boom" in w and "not needed" in w for w in stats.warnings)


@pytest.mark.parametrize("row_limit", [None, 1000])
def test_progress_counts_calls_done_out_of_calls_and_pages_apart(row_limit: int | None) -> None:
    # it counted pages against calls: "18/6 calls" for 6 calls of 3 pages
    api = FakeApi(pages=3)
    seen: list[tuple[int, int, int, int]] = []

    def failing(call: Call, token: str | None) -> Page:
        if call.params["projectsId"] == "p5" and token == "1":
            raise CallError(503, "unavailable")
        return api.fetch(call, token)

    sched = Scheduler(failing, concurrency=2, progress=lambda *a: seen.append(a))
    stats = sched.run(_calls(6), api.sink, row_limit=row_limit)
    assert all(done <= total for done, total, _, _ in seen)
    assert seen[-1][0] == 6 and seen[-1][1] == 6 and seen[-1][3] == stats.requests == 17
    assert [done for done, *_ in seen] == sorted(done for done, *_ in seen)


def test_endless_repeats_of_one_page_with_fresh_tokens_end_as_a_failure() -> None:
    # the same item on every page, each with a new token, ran until killed, with no message
    from stackql_tuning.run.scheduler import MAX_SAME_PAGES

    def fetch(call: Call, token: str | None) -> Page:
        n = int(token or 0) + 1
        name = "x" if call.params["projectsId"] == "p0" else f"y{n % 10}"  # p1: same length
        body = f'{{"hyperparameterTuningJobs": [{{"name": "{name}"}}], "nextPageToken": "{n}"}}'
        return Page(raw=body.encode(), next_token=str(n) if n < 60 else None)

    stats = Scheduler(fetch, concurrency=2).run(_calls(2), lambda c, p: ((), 0))
    [failure] = stats.failures
    assert failure.params["projectsId"] == "p0"
    assert f"{MAX_SAME_PAGES} pages in a row repeated the page before them" in failure.message
    assert stats.requests == MAX_SAME_PAGES + 1 + 60


def test_parsed_pages_repeating_their_items_end_as_a_failure_too() -> None:
    aws = default_registry().resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    call = Call(aws, aws.method("list"), {"region": "us-east-1"})
    key = call.method.items_key

    def fetch(call: Call, token: str | None) -> Page:
        n = int(token or 0) + 1
        return Page(obj={key: [{"HyperParameterTuningJobName": "j"}]}, next_token=str(n))

    stats = Scheduler(fetch, concurrency=1).run([call], lambda c, p: ((), 0))
    [failure] = stats.failures
    assert "repeated the page before them" in failure.message


@pytest.mark.parametrize(
    ("rows", "limit", "most"),
    [
        (10, 5, 5),  # every call holds the rows: the first five in flight are all it sends
        (10, 25, 16),  # (at first one row a page is assumed: 16 in flight, the concurrency)
        (0, 5, 40),  # calls that hold no row: every call, at full width once none came
    ],
)
def test_a_limited_group_has_no_more_in_flight_than_its_rows_still_need(
    rows: int, limit: int, most: int
) -> None:
    # LIMIT 5 over the training jobs of a region's tuning jobs sent 8 to 13 lists, where the
    # first reply held the rows: a group's requests in flight (or read but not counted) are
    # those the rows still needed take at the rows per page so far
    api = FakeApi(pages=1, delay=0.002)

    def sink(call: Call, page: Page) -> tuple[Iterable[Call], int]:
        return (), rows

    stats = Scheduler(api.fetch, concurrency=16).run(_calls(40), sink, row_limit=limit)
    assert api.fetched <= most and stats.rows >= min(limit, rows * api.fetched)
    if rows:
        assert api.peak_in_flight <= min(16, limit)
    # the width grows back when calls hold no row: 40 calls, not one at a time
    assert rows or api.peak_in_flight > limit
