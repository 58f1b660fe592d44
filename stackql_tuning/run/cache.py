"""The response cache: provider replies reused for ``cache_ttl`` seconds, keyed by call.

Only read calls (SELECT methods) are cached. Any other call (create, delete, cancel, stop)
bypasses the cache and invalidates every entry of its service (a stopped tuning job stops its
training jobs), so a SELECT after a mutation sees the change. Bounded by entries and by bytes
(least recently used first out).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from copy import deepcopy
from typing import Any

import orjson

from stackql_tuning.transports.base import Call, Page, reply_json

MAX_BYTES = 256 * 1024 * 1024
MAX_ENTRIES = 20_000


def cache_key(
    call: Call, token: str | None
) -> tuple[str, str, bytes, str | None, tuple[str, ...] | None]:
    """A reply's key: a partial reply (``reply_fields``) never answers a call that needs more."""
    params = orjson.dumps(call.params, option=orjson.OPT_SORT_KEYS, default=str)
    return (call.resource.id, call.method.name, params, token, call.reply_fields)


class ResponseCache:
    def __init__(self, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, Page, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, call: Call, token: str | None, ttl: float) -> Page | None:
        key = cache_key(call, token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > ttl:
                if entry is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            page, age = entry[1], time.monotonic() - entry[0]
        return Page(
            raw=page.raw,
            obj=deepcopy(page.obj),
            next_token=page.next_token,
            status=page.status,
            attempts=1,
            meta={"cached": True, "age": age},
        )

    def put(self, call: Call, token: str | None, page: Page) -> None:
        size = len(page.raw) if page.raw is not None else len(reply_json(page.obj))
        if size > self.max_bytes // 4:
            return
        key = cache_key(call, token)
        stored = Page(
            raw=page.raw, obj=deepcopy(page.obj), next_token=page.next_token, status=page.status
        )
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic(), stored, size)
            self._bytes += size
            while self._entries and (
                self._bytes > self.max_bytes or len(self._entries) > self.max_entries
            ):
                self._drop(next(iter(self._entries)))

    def invalidate(self, resource_id: str) -> int:
        """Drop every entry of ``resource_id``'s service (``aws.sagemaker``): a change to one
        resource changes others (a stopped tuning job stops its training jobs)."""
        service = resource_id.rsplit(".", 1)[0] + "."
        with self._lock:
            keys = [k for k in self._entries if str(k[0]).startswith(service)]
            for k in keys:
                self._drop(k)
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple[Any, ...]) -> None:
        _, _, size = self._entries.pop(key)
        self._bytes -= size
