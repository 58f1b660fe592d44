"""The sandbox servers' request log: what was asked and answered, for tests and benchmarks.

Used by the Vertex AI emulator, the AWS sandbox and the benchmarks' moto server. An entry is
a dict of the server's own fields (``time`` is added when missing); a request that arrived
before the last :meth:`RequestLog.reset` is not logged (a slow reply of an earlier test must
not count in the next one's).

Must not: know HTTP, providers or jobs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any


class RequestLog:
    """Every API request a sandbox server answered (admin requests are not logged), at most
    ``limit`` of them (the oldest go first); counts of HTTP statuses and injected faults."""

    def __init__(self, limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._faults: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._total = 0
        self._reset_at = 0.0

    def add(self, entry: dict[str, Any], arrived: float | None = None) -> None:
        """Log ``entry`` (``arrived``: its ``time.monotonic()`` of arrival). A request that
        arrived before the last reset belongs to the log that was reset, not to this one
        (a slow reply of an earlier test must not count in the next one's)."""
        entry.setdefault("time", time.time())
        with self._lock:
            if arrived is not None and arrived < self._reset_at:
                return
            self._entries.append(entry)
            self._total += 1
            if entry.get("fault"):
                self._faults[entry["fault"]] += 1
            self._statuses[str(entry.get("status"))] += 1

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._total,
                "faults": dict(self._faults),
                "statuses": dict(self._statuses),
            }

    def reset(self) -> None:
        with self._lock:
            self._reset_at = time.monotonic()
            self._entries.clear()
            self._faults.clear()
            self._statuses.clear()
            self._total = 0
