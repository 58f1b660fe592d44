"""The retry policy: which failures are retried, how long to wait, and the client-side rate limit.

One policy object per session, shared by the Google transport (which retries itself) and used to
configure botocore's ``standard`` retry mode for AWS. Pure logic plus an injectable sleep, so it
is unit-tested without waiting.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: HTTP statuses worth another attempt
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base: float = 0.5
    cap: float = 20.0
    statuses: frozenset[int] = RETRY_STATUSES
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff before attempt ``attempt + 1``; Retry-After wins."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        wait = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait

    def retryable(
        self,
        attempt: int,
        *,
        status: int | None = None,
        connection_error: bool = False,
        sent: bool = True,
        idempotent: bool = True,
    ) -> bool:
        """Whether attempt number ``attempt`` (1-based) that failed this way gets another try.

        A non-idempotent call (create) is retried only when it surely never reached the server
        (``sent=False``: the connection was refused before anything was written).
        """
        if attempt >= self.max_attempts:
            return False
        if not idempotent and sent:
            return False
        if connection_error:
            return True
        return status is not None and status in self.statuses


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class TokenBucket:
    """A client-side rate limit: ``rate`` requests per second with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


class RateLimits:
    """One token bucket per key (provider, project/account, region); none when rate is None."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: tuple[str, ...]) -> None:
        if not self.rate:
            return
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.rate)
        bucket.acquire()
