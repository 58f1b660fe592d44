"""The sandbox clock: wall time plus an offset tests can advance, and a freeze switch.

Every time the AWS sandbox shows or compares (job creation, training start and end, "now" when a
job's progress is computed) comes from one :class:`Clock`. It does no I/O and knows nothing of
jobs or HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from stackql_tuning.errors import UsageError


class Clock:
    """``now()`` in epoch seconds: the wall clock (or a frozen instant) plus an offset.

    ``advance(s)`` moves the clock forward by ``s`` seconds; ``freeze()`` stops it (only
    ``advance`` moves it then) and ``unfreeze()`` lets it run on from where it stood.
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            base = self._wall() if self._frozen_at is None else self._frozen_at
            return base + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never backward); returns the new ``now()``."""
        if seconds < 0:
            raise UsageError(f"the sandbox clock only moves forward, got advance({seconds})")
        with self._lock:
            self._offset += seconds
        return self.now()

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._wall()

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                # continue from the frozen instant: the time spent frozen is not skipped
                self._offset += self._frozen_at - self._wall()
                self._frozen_at = None
