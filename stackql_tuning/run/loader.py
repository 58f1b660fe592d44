"""Pipelined materialization: page lines are loaded into DuckDB while fetching goes on.

A :class:`TableLoader` takes page lines for one provider table (the same ``add_raw`` as
:class:`~stackql_tuning.run.store.PageFile`; a parsed reply is serialized by the caller, which
may read its bytes again) and hands them, a file at a time, to one background thread that
loads them on its own DuckDB cursor (DuckDB runs without the GIL), so reading JSON overlaps
the network wait. A file is sealed as soon as the loader is idle
and it holds ``min_bytes`` or ``min_lines`` pages (so little is left for the end of the
statement; a load's cost grows with its rows too, and replies cut to a few fields are small:
a fan-out's 96 such pages never reached ``min_bytes``, and all of them waited for the end),
or when it reaches ``batch_bytes`` (so DuckDB's reader never holds more than one batch per
file). Files sealed
while a load runs wait, and the next load takes all of them in one scan, which DuckDB spreads
over its threads: when replies come faster than one thread reads JSON, the loads catch up
instead of falling further behind one file at a time. The first load of ``batch_bytes`` or
more (replies come faster than the loads take them) makes DuckDB leave a core to the fetch
(``Store.leave_a_core``); smaller loads keep every thread, and the statement then has no
thread count to restore at its end (a fan-out's loads of a few 120 KB pages: ~2 ms less, A/B).
In the fetch's last round (``last_round``) every page is loaded as soon as the loader is idle.
``finish()`` loads what the background thread has not taken, in one scan beside it, and raises
the first load error. A page that cannot be read is left out and its call kept in ``failures``.

Must not: decide what to fetch, or touch a table other than its own.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from stackql_tuning.errors import FailedCall
from stackql_tuning.run.store import PageFile, Store, TableSchema

#: start a new page file (and load the full one in the background) at this size
BATCH_BYTES = 2 << 20
#: while the loader is idle, load a file as soon as it holds this much
MIN_BYTES = 2 << 20
#: ... or this many pages. Each load costs ~3 ms of DuckDB's planning whatever its size, and
#: a fan-out's loads of a few 120 KB pages competed for the 2 cores with its replies: at 2 MB or
#: 16 pages (was 256 KB or 8) the fan-out took ~6 ms less and 100k rows ~35 ms less, the
#: hydrations the same (interleaved medians, 16-30 runs each). 16 is also the default
#: concurrency: about one load per round of replies; 12, 20, 24 and 32 pages were all slower
MIN_LINES = 16


class TableLoader:
    def __init__(
        self,
        store: Store,
        name: str,
        schema: TableSchema,
        items_key: str | None,
        batch_bytes: int = BATCH_BYTES,
        min_bytes: int = MIN_BYTES,
        min_lines: int = MIN_LINES,
    ) -> None:
        self.store = store
        self.name = name
        self.schema = schema
        self.items_key = items_key
        self.batch_bytes = batch_bytes
        self.min_bytes = min_bytes
        self.min_lines = min_lines
        self.current = PageFile(store.tmpdir)
        self._sealed: list[PageFile] = []  # full files no load has taken yet
        self._files: list[PageFile] = []  # every file sealed (removed at the end)
        self._pool: ThreadPoolExecutor | None = None
        self._cursor: Any = None
        self._loads: list[Future[None]] = []
        self._busy = False  # the background thread is loading (or about to)
        self._lock = threading.Lock()
        self._finishing = False
        #: the fetch's last round: every page is loaded as soon as the loader is idle
        self._last_round = False
        #: the calls whose pages could not be read (not JSON, a value of the wrong type): left
        #: out, reported as failed calls (``Store.load``'s ``keep_going``)
        self.failures: list[FailedCall] = []
        #: how many loads ran and the most files one of them read (for tests and probes)
        self.load_count = 0
        self.widest_load = 0

    def add_raw(self, params: dict[str, Any], raw: bytes, key: str, origin: Any) -> None:
        with self._lock:
            self.current.add_raw(params, raw, key, origin)
            if self._finishing:
                return
            if self.current.size >= self.batch_bytes or (not self._busy and self._worth_a_load()):
                self._seal()
                if not self._busy:
                    self._busy = True
                    if self._pool is None:
                        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load")
                    self._loads.append(self._pool.submit(self._drain))

    def last_round(self) -> None:
        """The fetch is in its last round (``Started.last_round``: what is in flight is all
        there will be): from now on the pages are loaded as soon as the loader is idle, however
        few, so that :meth:`finish` is left the pages of one load's time, not a whole file.

        The fan-out's last 16 pages had all waited for ``finish`` (~5.6 ms of load after the
        last reply); loaded as they came, ~2-3 ms was left, and the fan-out took ~2.6 ms less
        (interleaved medians, 40 runs each; hydration and 100k rows unchanged). Earlier, while
        other requests still leave, loads of a page or two competed with them for the cores: a
        trigger that fired when the queue emptied (half way through the fan-out) lost that."""
        with self._lock:
            self._last_round = True

    def _worth_a_load(self) -> bool:
        """(under the lock) The current file holds enough for a load of its own."""
        lines = self.current.lines
        if self._last_round:
            return lines > 0
        return self.current.size >= self.min_bytes or lines >= self.min_lines

    def _seal(self) -> None:
        """(under the lock) The current file is full: it waits for a load, a new one starts."""
        full, self.current = self.current, PageFile(self.store.tmpdir)
        self._sealed.append(full)
        self._files.append(full)

    def _take(self) -> list[PageFile]:
        """(under the lock) Every sealed file, for one load."""
        batch, self._sealed = self._sealed, []
        if batch:
            self.load_count += 1
            self.widest_load = max(self.widest_load, len(batch))
        return batch

    def _drain(self) -> None:
        """The background thread: load what has been sealed, all of it at once, until nothing
        is left (sealing the current file when it is worth a load of its own)."""
        if self._cursor is None:
            self._cursor = self.store.con.cursor()
        try:
            while True:
                with self._lock:
                    if not self._sealed and not self._finishing and self._worth_a_load():
                        self._seal()
                    batch = self._take()
                    if not batch:
                        self._busy = False
                        return
                try:
                    if sum(f.size for f in batch) >= self.batch_bytes:
                        self.store.leave_a_core(self._cursor)  # replies outrun the loads
                    failed = self.store.load(
                        self.name, self.schema, batch, self.items_key, self._cursor, keep_going=True
                    )
                    self.failures.extend(failed)
                finally:
                    for pages in batch:
                        pages.remove()
        except BaseException:
            with self._lock:
                self._finishing = True  # nothing more is loaded in the background
            raise

    def finish(self) -> None:
        """Load what the background thread has not taken here, on a cursor of our own, while
        its last load ends (DuckDB appends to one table from two cursors at once); then raise
        the first error."""
        with self._lock:
            self._finishing = True
            self._seal()
            rest = self._take()
        error: BaseException | None = None
        cursor = self.store.con.cursor()
        try:
            failed = self.store.load(
                self.name, self.schema, rest, self.items_key, con=cursor, keep_going=True
            )
            self.failures.extend(failed)
        except BaseException as e:  # reported after the earlier files' errors
            error = e
        finally:
            cursor.close()
            for pages in rest:
                pages.remove()
        for fut in list(self._loads):
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
        with self._lock:
            self._finishing = True
        self._shutdown()
        for pages in self._files:
            pages.remove()
        self.current.remove()
