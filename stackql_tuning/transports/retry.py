"""The retry policy: which failures are retried, how long to wait, and the client-side rate limit.

One policy object per session, shared by the Google transport (which retries itself) and used to
configure botocore's ``standard`` retry mode for AWS. Pure logic plus an injectable sleep, so it
is unit-tested without waiting.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
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


#: this thread's test of whether a call waiting for the rate limit is still to be sent
_waiting = threading.local()
#: the longest sleep of a rate-limit wait between two looks at that test (s)
_LOOK_EVERY = 0.1


class WaitStopped(Exception):
    """A call that waited for its rate limit was stopped before it was sent (the statement was
    cancelled meanwhile: a change's queued calls are "not sent", never sent after the cancel)."""


@contextlib.contextmanager
def stoppable_waits(stop: Callable[[], bool]) -> Iterator[None]:
    """Within, this thread's rate-limit waits before a call's first attempt end with
    :class:`WaitStopped` once ``stop()`` is true."""
    _waiting.stop = stop
    try:
        yield
    finally:
        _waiting.stop = None


class TokenBucket:
    """A client-side rate limit: ``rate`` requests per second with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self, stop: Callable[[], bool] | None = None) -> None:
        """Take a token, waiting for one; ``stop``: a wait that it ends raises WaitStopped."""
        while True:
            if stop is not None and stop():
                raise WaitStopped()
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait if stop is None else min(wait, _LOOK_EVERY))


class RateLimits:
    """One token bucket per key (provider, project/account, region); none when rate is None."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: tuple[str, ...], *, first: bool = True) -> None:
        """A token of ``key``'s bucket. ``first``: before a call's first attempt, whose wait
        ``stoppable_waits`` may end (a retry's is not: the call may have been done)."""
        if not self.rate:
            return
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.rate)
        bucket.acquire(getattr(_waiting, "stop", None) if first else None)
