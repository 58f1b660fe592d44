"""The retry policy, the rate limit and the Google transport's retry loop (no real I/O).

HTTP is stubbed with ``responses`` at the requests adapter, so the transport's real request
building, retry loop and reply checks run; sleeps are recorded, never waited.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import requests
import responses
import urllib3

from stackql_tuning.registry.loader import default_registry
from stackql_tuning.settings import Settings
from stackql_tuning.transports import retry as retry_mod
from stackql_tuning.transports.base import Call, CallError
from stackql_tuning.transports.google import GoogleTransport
from stackql_tuning.transports.retry import (
    RateLimits,
    RetryPolicy,
    TokenBucket,
    parse_retry_after,
)

#: ``responses`` replaces requests' adapter: the transport sends through it
pytestmark = pytest.mark.usefixtures("requests_http")

BASE = "http://vertex.test"
HPT = "google.aiplatform.hyperparameter_tuning_jobs"
LIST_URL = f"{BASE}/v1/projects/p1/locations/us-central1/hyperparameterTuningJobs"
GET_URL = LIST_URL + "/123"


# -- the policy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 8, 20])
def test_full_jitter_stays_under_the_exponential_ceiling(attempt: int) -> None:
    policy = RetryPolicy(base=0.5, cap=20.0, rng=random.Random(attempt))
    ceiling = min(20.0, 0.5 * 2 ** (attempt - 1))
    waits = [policy.delay(attempt) for _ in range(200)]
    assert all(0 <= w <= ceiling for w in waits)
    assert max(waits) > ceiling / 2  # jitter spreads over the whole range


def test_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(base=0.5, cap=20.0, rng=random.Random(0))
    assert policy.delay(1, retry_after=7.0) >= 7.0
    assert policy.delay(1, retry_after=3600.0) == 20.0
    assert policy.delay(6, retry_after=0.0) <= 16.0


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert RetryPolicy().retryable(1, status=status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 501])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not RetryPolicy().retryable(1, status=status)


def test_attempt_budget() -> None:
    policy = RetryPolicy(max_attempts=5)
    assert policy.retryable(4, status=503)
    assert not policy.retryable(5, status=503)
    assert not policy.retryable(5, connection_error=True)


def test_non_idempotent_only_when_never_sent() -> None:
    policy = RetryPolicy()
    assert not policy.retryable(1, status=503, idempotent=False)
    assert not policy.retryable(1, connection_error=True, sent=True, idempotent=False)
    assert policy.retryable(1, connection_error=True, sent=False, idempotent=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


# -- the client-side rate limit -----------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(retry_mod, "time", fake)
    return fake


def test_token_bucket_allows_a_burst_then_paces(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=2.0, burst=2.0)
    for _ in range(2):
        bucket.acquire()
    assert clock.slept == []
    for _ in range(4):
        bucket.acquire()
    assert sum(clock.slept) == pytest.approx(2.0)  # 4 more at 2/s


def test_rate_limits_are_per_key(clock: FakeClock) -> None:
    limits = RateLimits(1.0)
    limits.acquire(("google", "p1", "us-central1"))
    limits.acquire(("google", "p1", "europe-west4"))
    limits.acquire(("google", "p2", "us-central1"))
    assert clock.slept == []
    limits.acquire(("google", "p1", "us-central1"))
    assert sum(clock.slept) == pytest.approx(1.0)


def test_no_rate_limit_by_default(clock: FakeClock) -> None:
    limits = RateLimits(None)
    for _ in range(100):
        limits.acquire(("aws", "", "us-east-1"))
    assert clock.slept == []


# -- the Google transport's retry loop ----------------------------------------------------------
@pytest.fixture
def transport() -> tuple[GoogleTransport, list[float]]:
    slept: list[float] = []
    settings = Settings(google_endpoint=BASE, auth={"google": {"type": "anonymous"}})
    policy = RetryPolicy(max_attempts=5, base=0.01, cap=20.0, sleep=slept.append)
    return GoogleTransport(settings, default_registry(), retry=policy), slept


def _call(method: str = "list", **params: Any) -> Call:
    res = default_registry().resource(HPT)
    base: dict[str, Any] = {"projectsId": "p1", "locationsId": "us-central1"}
    if method in ("get", "cancel", "delete"):
        base["hyperparameterTuningJobsId"] = "123"
    base.update(params)
    body = {"displayName": "x"} if method == "create" else None
    return Call(res, res.method(method), base, body=body)


ERROR_503 = {"error": {"code": 503, "status": "UNAVAILABLE", "message": "try later"}}


@responses.activate
def test_503_then_success_is_retried(transport: Any) -> None:
    t, slept = transport
    responses.get(LIST_URL, json=ERROR_503, status=503)
    responses.get(LIST_URL, json=ERROR_503, status=503)
    responses.get(LIST_URL, json={"hyperparameterTuningJobs": [{"name": "a"}]})
    page = t.fetch(_call())
    assert page.attempts == 3
    assert len(slept) == 2
    assert b'"a"' in (page.raw or b"")


@responses.activate
def test_429_honours_retry_after(transport: Any) -> None:
    t, slept = transport
    responses.get(LIST_URL, json={"error": {"code": 429}}, status=429, headers={"Retry-After": "7"})
    responses.get(LIST_URL, json={})
    t.fetch(_call())
    assert slept and slept[0] >= 7.0


@responses.activate
def test_gives_up_after_the_budget_with_the_apis_message(transport: Any) -> None:
    t, slept = transport
    for _ in range(6):
        responses.get(LIST_URL, json=ERROR_503, status=503)
    with pytest.raises(CallError) as info:
        t.fetch(_call())
    assert info.value.status == 503
    assert info.value.message == "UNAVAILABLE: try later (after 5 attempts)"
    assert len(responses.calls) == 5 and len(slept) == 4


@responses.activate
def test_404_is_not_retried(transport: Any) -> None:
    t, slept = transport
    responses.get(GET_URL, json={"error": {"status": "NOT_FOUND", "message": "no job"}}, status=404)
    with pytest.raises(CallError, match="NOT_FOUND: no job"):
        t.fetch(_call("get"))
    assert len(responses.calls) == 1 and slept == []


@responses.activate
def test_create_is_not_retried_once_sent(transport: Any) -> None:
    t, _slept = transport
    responses.post(LIST_URL, json=ERROR_503, status=503)
    responses.post(LIST_URL, json={"name": "x"})
    with pytest.raises(CallError):
        t.fetch(_call("create"))
    assert len(responses.calls) == 1


@responses.activate
def test_create_is_not_retried_after_a_dropped_connection(transport: Any) -> None:
    t, _ = transport
    responses.post(LIST_URL, body=requests.exceptions.ConnectionError("Connection reset by peer"))
    with pytest.raises(CallError) as info:
        t.fetch(_call("create"))
    assert info.value.status == "connection"
    assert len(responses.calls) == 1


@responses.activate
def test_create_is_retried_when_refused_before_sending(transport: Any) -> None:
    t, slept = transport
    refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    responses.post(LIST_URL, body=requests.exceptions.ConnectionError(refused))
    responses.post(
        LIST_URL, json={"name": "projects/p1/locations/us-central1/hyperparameterTuningJobs/1"}
    )
    page = t.fetch(_call("create"))
    assert page.attempts == 2 and len(slept) == 1


@responses.activate
def test_cancel_is_retried_after_reaching_the_server(transport: Any) -> None:
    t, _ = transport
    responses.post(GET_URL + ":cancel", json=ERROR_503, status=503)
    responses.post(GET_URL + ":cancel", json={})
    assert t.fetch(_call("cancel")).attempts == 2


@responses.activate
def test_delete_is_not_retried_once_sent(transport: Any) -> None:
    t, _ = transport
    responses.delete(GET_URL, json=ERROR_503, status=503)
    with pytest.raises(CallError):
        t.fetch(_call("delete"))
    assert len(responses.calls) == 1


@responses.activate
def test_read_timeout_names_the_limit(transport: Any) -> None:
    t, slept = transport
    for _ in range(5):
        responses.get(LIST_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(CallError) as info:
        t.fetch(_call())
    assert info.value.message == "no reply within the read timeout of 60 s (after 5 attempts)"
    assert len(slept) == 4


@responses.activate
def test_connect_timeout_names_the_limit(transport: Any) -> None:
    t, _ = transport
    for _ in range(5):
        responses.get(LIST_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(CallError, match="could not connect within the connect timeout of 10 s"):
        t.fetch(_call())


def test_the_configured_timeouts_are_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    settings = Settings(
        google_endpoint=BASE,
        auth={"google": {"type": "anonymous"}},
        connect_timeout=1.5,
        read_timeout=4.0,
    )
    t = GoogleTransport(settings, default_registry())

    def send(http: Any, method: str, url: str, query: Any, body: Any, timeout: Any) -> Any:
        seen["timeout"] = timeout
        raise requests.exceptions.ReadTimeout("slow")

    monkeypatch.setattr(t, "_send", send)
    t.retry = RetryPolicy(max_attempts=1)
    with pytest.raises(CallError, match="read timeout of 4 s"):
        t.fetch(_call())
    assert seen["timeout"] == (1.5, 4.0)


def test_a_wait_for_the_rate_limit_ends_when_the_statement_stops() -> None:
    # a cancelled INSERT under --rate-limit sent its queued rows after the cancel
    import threading

    from stackql_tuning.transports.retry import RateLimits, WaitStopped, stoppable_waits

    limits = RateLimits(0.5)  # one call now, the next in 2 s
    limits.acquire(("aws", "", "r"))
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    with stoppable_waits(stop.is_set), pytest.raises(WaitStopped):  # not sent after 2 s
        limits.acquire(("aws", "", "r"))
    # a retry's wait is not stopped: its call may have been done (a fresh bucket: no wait)
    with stoppable_waits(lambda: True):
        limits.acquire(("aws", "", "other"), first=False)
