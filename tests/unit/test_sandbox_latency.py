"""The sandbox servers' shared handler: the Date header and the latency hold."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from stackql_tuning.sandbox import latency
from stackql_tuning.sandbox.latency import TimedHandler, hold_reply


def _handler() -> TimedHandler:
    return TimedHandler.__new__(TimedHandler)  # no socket: only the header helpers are used


def test_date_header_is_the_standard_one_made_once_per_second() -> None:
    handler = _handler()
    first = handler.date_time_string()
    assert abs(parsedate_to_datetime(first).timestamp() - time.time()) < 2
    second_of = latency._date[0]
    assert handler.date_time_string() is first or latency._date[0] != second_of
    # an explicit timestamp is formatted as the standard library does
    plain = BaseHTTPRequestHandler.__new__(BaseHTTPRequestHandler)
    assert handler.date_time_string(0) == plain.date_time_string(0)


def test_hold_reply_sleeps_only_what_is_left(monkeypatch: Any) -> None:
    slept: list[float] = []
    monkeypatch.setattr(latency.time, "sleep", slept.append)
    hold_reply(time.monotonic() - 1.0, 0.05)  # already late: no wait
    hold_reply(time.monotonic(), 0.0)  # no latency
    assert slept == []
    hold_reply(time.monotonic(), 30.0)
    assert len(slept) == 1 and 29.0 < slept[0] <= 30.0
