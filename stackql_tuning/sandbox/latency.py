"""The sandbox servers' latency knob: a reply leaves ``latency`` seconds after its request
arrived, with the server's own work inside that time (as on a real server), instead of after a
fixed sleep that the server's Python time would add to. A reply that took longer goes out at
once. Shared by the Vertex emulator, the AWS sandbox and the benchmarks' moto server.

Also the loopback HTTP server and handler base that the Vertex emulator and the benchmarks' moto
server build on: keep-alive, Nagle off, a backlog for 16 connects at once, quiet logs, and the
arrival time that :func:`hold_reply` counts from.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: socketserver's default backlog of 5 drops connects when a client opens 16 at once (the
    #: kernel then retries the SYN after 1 s)
    request_queue_size = 128


class TimedHandler(BaseHTTPRequestHandler):
    """A keep-alive HTTP/1.1 handler that notes when each request arrived (``_arrived``,
    ``time.monotonic()``), for :func:`hold_reply`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # without it every loopback reply waits ~40 ms
    timeout = 120
    _arrived: float | None = None

    def log_message(self, format: str, *args: Any) -> None:
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header's text, made once per second (the standard library formats it
        through ``email.utils`` on every reply: ~0.1 ms of the server's Python per request)."""
        global _date
        if timestamp is not None:
            return super().date_time_string(timestamp)
        now = int(time.time())
        second, text = _date
        if second != now:
            text = super().date_time_string(now)
            _date = (now, text)
        return text

    def parse_request(self) -> bool:
        # the request has arrived once its first line is read: latency counts from here
        self._arrived = time.monotonic()
        return super().parse_request()


#: (second, its Date header text), replaced whole
_date: tuple[int, str] = (0, "")


def hold_reply(arrived: float, latency: float) -> None:
    """Sleep until ``arrived + latency`` (``time.monotonic()`` seconds), if that is ahead."""
    left = arrived + latency - time.monotonic()
    if latency > 0 and left > 0:
        time.sleep(left)
