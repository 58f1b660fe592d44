"""Pipelined materialization: page lines are loaded into DuckDB while fetching goes on.

A :class:`TableLoader` takes page lines for one provider table (the same ``add_raw`` /
``add_obj`` as :class:`~stackql_tuning.run.store.PageFile`) and hands them, a file at a time,
to one background thread that loads them on its own DuckDB cursor (DuckDB runs without the
GIL), so reading JSON overlaps the network wait. A file is sealed and loaded as soon as the
loader is idle and it holds ``min_bytes`` (so little is left for the end of the statement), or
when it reaches ``batch_bytes`` (so DuckDB's reader never holds more than one batch).
``finish()`` loads the rest and raises the first load error.

Must not: decide what to fetch, or touch a table other than its own.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from stackql_tuning.run.store import PageFile, Store, TableSchema

#: start a new page file (and load the full one in the background) at this size
BATCH_BYTES = 2 << 20
#: while the loader is idle, load a file as soon as it holds this much
MIN_BYTES = 256 << 10


class TableLoader:
    def __init__(
        self,
        store: Store,
        name: str,
        schema: TableSchema,
        items_key: str | None,
        batch_bytes: int = BATCH_BYTES,
        min_bytes: int = MIN_BYTES,
    ) -> None:
        self.store = store
        self.name = name
        self.schema = schema
        self.items_key = items_key
        self.batch_bytes = batch_bytes
        self.min_bytes = min_bytes
        self.current = PageFile(store.tmpdir)
        self._size = 0
        self._pool: ThreadPoolExecutor | None = None
        self._cursor: Any = None
        self._loads: list[tuple[Future[None], PageFile]] = []
        self._running = 0  # files submitted and not yet loaded
        self._lock = threading.Lock()
        self._finishing = False

    def add_raw(self, params: dict[str, Any], raw: bytes, key: str, origin: Any) -> None:
        with self._lock:
            self.current.add_raw(params, raw, key, origin)
            self._size += len(raw)
            self._maybe_seal()

    def _maybe_seal(self) -> None:
        """(under the lock) Seal the current file if it is big enough, or the loader idle."""
        if self._finishing or self._size == 0:
            return
        if self._size >= self.batch_bytes or (not self._running and self._size >= self.min_bytes):
            self._seal()

    def add_obj(self, params: dict[str, Any], obj: Any, key: str, origin: Any) -> None:
        import orjson

        self.add_raw(params, orjson.dumps(obj, default=str), key, origin)

    def _seal(self) -> None:
        full, self.current, self._size = self.current, PageFile(self.store.tmpdir), 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load")
        self._running += 1
        self._loads.append((self._pool.submit(self._load, full), full))

    def _load(self, pages: PageFile) -> None:
        if self._cursor is None:
            self._cursor = self.store.con.cursor()
        try:
            self.store.load(self.name, self.schema, pages, self.items_key, con=self._cursor)
        finally:
            pages.remove()
            with self._lock:
                self._running -= 1
                self._maybe_seal()

    def finish(self) -> None:
        """Load the last file here while the background loads end (DuckDB appends to one table
        from two cursors at once), then raise the first error."""
        with self._lock:
            self._finishing = True
        error: BaseException | None = None
        cursor = self.store.con.cursor()
        try:
            self.store.load(self.name, self.schema, self.current, self.items_key, con=cursor)
        except BaseException as e:  # reported after the earlier files' errors
            error = e
        finally:
            cursor.close()
        for fut, _ in list(self._loads):
            fut.result()
        self._shutdown()
        if error is not None:
            raise error

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def remove(self) -> None:
        """Drop every file left (after an error or a cancel: pending loads are abandoned)."""
        self._shutdown()
        for _, pages in self._loads:
            pages.remove()
        self.current.remove()
