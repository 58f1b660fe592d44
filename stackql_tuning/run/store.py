"""The DuckDB side: provider tables typed from the registry, filled from raw reply pages.

Each provider table lives where the user's name says: ``ATTACH ':memory:' AS google`` and
``CREATE SCHEMA google.aiplatform`` make ``google.aiplatform.hyperparameter_tuning_jobs`` a real
DuckDB table, so the user's SQL runs unchanged. Pages are appended as one NDJSON line each
(``{"p": <params>, "r": <list page>}`` or ``{"p": <params>, "o": <one object>}``) to a temp
file, which DuckDB's ``read_json`` reads with the registry's typed STRUCT schema: the raw Google
bytes are never decoded in Python (see FINDINGS.md: 7-8x faster than decoding in Python).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from stackql_tuning.errors import (
    Cancelled,
    FailedCall,
    PlanError,
    ProviderError,
    QueryError,
    StackqlTuningError,
    StatementTimeout,
)
from stackql_tuning.registry.model import Column, Param, Resource, param_sources
from stackql_tuning.run.bad_pages import MAX_REPAIRS, bad_lines, detail, drop_lines
from stackql_tuning.transports.base import reply_json


def q(name: str) -> str:
    """A double-quoted DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str) -> str:
    return ".".join(q(p) for p in table.split(".", 2))


def _struct(fields: list[tuple[str, str]]) -> str:
    return "STRUCT(" + ", ".join(f"{q(n)} {t}" for n, t in fields) + ")"


@dataclass
class TableSchema:
    """The columns of a provider table: the resource's fields, then its param columns.

    ``read``: the (lower-case) names of the fields and param columns the statement uses, or
    None for all. The table has only the fields read (``loaded``) and the param columns read
    (``params``): only those are parsed from the lines. Fields that a read column or a read
    param column is derived from are read too. (A table with every column cost ~5 ms more per
    load here, most of a page's load: DuckDB makes the empty vectors of every nested field of
    each row it appends; a list's four unread params, ~0.6 ms of a 50-row page's load.)
    """

    resource: Resource
    read: set[str] | None = None
    columns: list[Column] = field(init=False)
    params: list[Param] = field(init=False)
    #: the columns filled from the replies (``columns`` narrowed to ``read``)
    loaded: list[Column] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = list(self.resource.columns)
        self.params = [p for p in self.resource.param_columns if self._reads(p)]
        self.loaded = self.columns if self.read is None else self._narrow(self.read)

    def _narrow(self, read: set[str]) -> list[Column]:
        wanted = set(read)
        for c in self.columns:
            if c.name.lower() in wanted and c.derive:
                wanted.add(str(c.derive["column"]).lower())
        for p in self.params:
            source = self._param_source(p)
            if source:
                wanted.add(source[0].lower())
        # the identity is always read: hydration and mutations find each row's resource by it
        ident = self.resource.identity.get("column")
        if ident:
            wanted.add(str(ident).lower())
        # a statement may read param columns only: one field still gives each item its row
        return [c for c in self.columns if c.name.lower() in wanted] or self.columns[:1]

    def ddl(self) -> str:
        cols = [f"{q(c.name)} {c.db_type}" for c in self.loaded]
        cols += [f"{q(p.name)} {p.db_type}" for p in self.params]
        return ", ".join(cols)

    def insert_columns(self) -> str:
        """The table's columns that ``select_list`` fills, in its order."""
        names = [c.name for c in self.loaded] + [p.name for p in self.params]
        return ", ".join(q(n) for n in names)

    def read_columns(self, items_key: str | None) -> dict[str, str]:
        item = _struct([(c.name, c.db_type) for c in self.loaded])
        out = {"p": _struct([(p.name, p.db_type) for p in self.params] or [("_", "VARCHAR")])}
        out["o"] = item
        if items_key:
            out["r"] = _struct([(items_key, item + "[]")])
        return out

    def select_list(self, given: Collection[str] = ()) -> str:
        """Expressions over ``it`` (the item) and ``p`` (the params), as ``insert_columns``,
        each named for its column.

        ``given``: params that every line of the load has (the calls set them): read as they
        are, with no extraction from the item beside them (a list's ``projectsId`` and
        ``locationsId``). DuckDB evaluated each extraction on every row although the param
        wins: two of three regexes were half a load of 2,400 small rows. (A param column the
        statement does not read is not in the table at all: a list's
        ``hyperparameterTuningJobsId`` cost a regex per row, ~0.15 ms per 50-row page.)"""
        exprs = [f"{self._column_expr(c)} AS {q(c.name)}" for c in self.loaded]
        exprs += [f"{self._param_expr(p, p.name in given)} AS {q(p.name)}" for p in self.params]
        return ", ".join(exprs)

    def _reads(self, p: Param) -> bool:
        return self.read is None or p.name.lower() in self.read

    def _column_expr(self, c: Column) -> str:
        base = f"it.{q(c.name)}"
        if not c.derive:
            return base
        src = f"it.{q(c.derive['column'])}"
        path = _sql_text(c.derive.get("path", "$"))
        members = c.derive.get("members")
        if members and c.db_type == "JSON":
            pairs = ", ".join(
                f"'{name}', json_extract({src}, '$.{member}')" for name, member in members.items()
            )
            derived = f"CASE WHEN {src} IS NULL THEN NULL ELSE json_object({pairs}) END"
        elif c.db_type == "JSON":
            derived = f"json_extract({src}, {path})"
        elif c.db_type == "VARCHAR":
            derived = f"json_extract_string({src}, {path})"
        else:
            derived = f"TRY_CAST(json_extract_string({src}, {path}) AS {c.db_type})"
        return f"coalesce({base}, {derived})"

    def _param_source(self, p: Param) -> tuple[str, str, bool] | None:
        """Where param column ``p`` is read from when the call did not set it: the item field,
        the regex whose first group is the value, and whether it is cast to ``p``'s type. The
        registry's param source first, else the identity field whose template holds ``p``."""
        source = param_sources(self.resource).get(p.name)
        if source:
            return str(source["column"]), str(source["regex"]).replace("'", "''"), False
        if p.name in self.resource.identity_params:
            ident = self.resource.identity
            regex = _template_regex(str(ident["template"]), p.name)
            return str(ident["column"]), regex, p.db_type != "VARCHAR"
        return None

    def _param_expr(self, p: Param, given: bool = False) -> str:
        base = f"p.{q(p.name)}"
        source = None if given else self._param_source(p)
        if source is None:
            return base
        column, regex, cast = source
        extracted = f"NULLIF(regexp_extract(it.{q(column)}, '{regex}', 1), '')"
        if cast:
            extracted = f"TRY_CAST({extracted} AS {p.db_type})"
        return f"coalesce({base}, {extracted})"


def _template_regex(template: str, target: str) -> str:
    out = "^"
    for part in re.split(r"(\{\w+\})", template):
        if not part:
            continue
        if part.startswith("{"):
            out += "([^/]+)" if part[1:-1] == target else "[^/]+"
        else:
            out += re.escape(part)
    return out + "$"


class PageFile:
    """NDJSON lines for one table, written by worker threads, read once by DuckDB."""

    def __init__(self, directory: str) -> None:
        fd, self.path = tempfile.mkstemp(suffix=".ndjson", dir=directory)
        self._fh = os.fdopen(fd, "wb")
        self._lock = threading.Lock()
        self.lines = 0
        #: the bytes of the replies written
        self.size = 0
        #: the longest line written (DuckDB's reader is told to expect no larger object)
        self.longest = 0
        #: line number (1-based) -> the call whose reply it holds, for error messages
        self.origin: list[tuple[str, str, dict[str, Any]]] = []
        #: the params every line has a value for (None: no line yet)
        self.given: set[str] | None = None
        #: the payload keys of the lines: "r" (a list's page), "o" (one object)
        self.keys: set[str] = set()

    def add_raw(self, params: dict[str, Any], raw: bytes, key: str, origin: Any) -> None:
        # Both payload keys are always written (the unused one as null): a reply that is not
        # one JSON object (``{...},"p":{...}``) then repeats a key, which DuckDB rejects, so a
        # hostile body can never override the params or smuggle in an extra item.
        other = b"o" if key == "r" else b"r"
        head = b'{"p":' + orjson.dumps(params, default=str) + b',"' + other + b'":null,"'
        head += key.encode() + b'":'
        with self._lock:
            # three writes, not one joined line: a page is not copied once more
            self._fh.write(head)
            self._fh.write(raw)
            self._fh.write(b"}\n")
            self.lines += 1
            self.size += len(raw)
            self.keys.add(key)
            keys = {k for k, v in params.items() if v is not None}
            self.given = keys if self.given is None else self.given & keys
            self.longest = max(self.longest, len(head) + len(raw) + 2)
            self.origin.append(origin)

    def add_obj(self, params: dict[str, Any], obj: Any, key: str, origin: Any) -> None:
        self.add_raw(params, reply_json(obj), key, origin)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def remove(self) -> None:
        self.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def engine() -> Any:
    """DuckDB's engine module: its compiled core ``_duckdb`` when present.

    ``duckdb.connect`` *is* ``_duckdb.connect``; the ``duckdb`` package around it adds Python
    relations, expressions and a version lookup through ``importlib.metadata`` that cost ~130 ms
    of import (measured, duckdb 2.0), none of which the store uses: it runs SQL text and fetches
    rows. Notebook relations (``Result.relation``) import the whole package themselves.
    """
    try:
        import _duckdb

        return _duckdb
    except ImportError:  # a DuckDB without the split
        import duckdb

        return duckdb


#: DuckDB types whose Python values lose some values -> when a value needs DuckDB's text
#: (``{c}``: the column): an INTERVAL with months (30 days each in Python), a TIMESTAMP_NS with
#: nanoseconds (cut). (An infinite DATE or TIMESTAMP is Python's largest or smallest value: told
#: apart from a real 9999-12-31 only by a companion column on every date column, which cost
#: twice the time of reading such rows; left as it was.)
_NEEDS_TEXT = {
    "INTERVAL": "datepart('year', {c}) <> 0 OR datepart('month', {c}) <> 0",
    "TIMESTAMP_NS": "nanosecond({c}) % 1000 <> 0",
}


@dataclass
class Lossless:
    """A SELECT read with DuckDB's text beside the columns Python may not hold exactly."""

    sql: str
    names: list[str]
    types: list[str]
    #: the columns with a text companion, in order (the companions follow the columns)
    columns: list[int]

    def restore(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The rows with DuckDB's text in place of the values that need it (``'1 year 2
        months'``); the companions dropped."""
        n = len(self.types)
        pairs = [(i, n + k) for k, i in enumerate(self.columns)]
        out = []
        for row in rows:
            if all(row[j] is None for _, j in pairs):
                out.append(row[:n])
                continue
            values = list(row[:n])
            for i, j in pairs:
                if row[j] is not None:
                    values[i] = row[j]
            out.append(tuple(values))
        return out


@dataclass
class Rows:
    """What a statement returned: column names, DuckDB type names and every row."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


#: the first word of statements that run in DuckDB over provider tables (see ``prewarm_for``)
_STORE_WORDS = frozenset({"SELECT", "WITH", "FROM", "(", "INSERT", "DELETE", "COPY", "VALUES"})
#: the first word of a query (``prewarm_for(..., queries=False)`` leaves these alone)
_QUERY_WORDS = frozenset({"SELECT", "WITH", "FROM", "("})
_warm: dict[str, Any] = {}
_warm_lock = threading.Lock()


def prewarm_for(text: str, *, queries: bool = True) -> None:
    """Start creating a DuckDB database in the background when ``text`` starts with a statement
    that will need one, for the next :class:`Store` to take.

    Creating one costs ~25 ms of DuckDB's own start-up (without the GIL) after ~60 ms of import;
    callers that see the statement text before they parse and plan it (the CLI, before sqlglot
    is even imported) let that overlap their own work. Catalog statements (SHOW, DESCRIBE) never
    start it, so they still do not import duckdb.

    ``queries=False``: not for a query. A query whose store is not ready sends its first calls
    before it makes the store (``QueryRun.begin_early``); with sqlglot already imported (a
    library session) DuckDB's start-up then ran beside those first sends and took one of the
    two cores from them: the fan-out's 16 first requests left over ~21 ms instead of ~13, and
    the whole fan-out took ~8 ms longer (A/B, 25-30 runs each, median). The CLI, which starts
    DuckDB before it imports sqlglot, is done with it long before any call leaves.
    """
    word = _first_word(text)
    if word not in _STORE_WORDS or (not queries and word in _QUERY_WORDS):
        return
    with _warm_lock:
        if "thread" in _warm:
            return

        def connect() -> None:
            # on failure the Store connects itself, and reports what fails
            with contextlib.suppress(Exception):
                _warm["con"] = engine().connect()

        # not a daemon: the interpreter waits for it at exit (a DuckDB start-up cut short by
        # interpreter shutdown aborts the process), and what it made is then closed
        _warm["thread"] = thread = threading.Thread(target=connect, name="duckdb")
        thread.start()


def started_already() -> bool:
    """Whether a DuckDB database started in the background (``prewarm_for``) is ready to take:
    a :class:`Store` made now would not wait for DuckDB's start-up."""
    with _warm_lock:
        thread = _warm.get("thread")
        return thread is not None and not thread.is_alive() and "con" in _warm


def _close_warm() -> None:
    con = _take_warm()
    if con is not None:
        con.close()


atexit.register(_close_warm)


def _take_warm() -> Any:
    with _warm_lock:
        thread = _warm.get("thread")
    if thread is None:
        return None
    thread.join()
    with _warm_lock:
        _warm.pop("thread", None)
        return _warm.pop("con", None)


def _first_word(text: str) -> str:
    """The first word of ``text`` in upper case, after blanks and comments (hints included)."""
    pos, n = 0, len(text)
    while pos < n:
        if text[pos].isspace():
            pos += 1
        elif text.startswith("--", pos):
            end = text.find("\n", pos)
            pos = n if end < 0 else end + 1
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            pos = n if end < 0 else end + 2
        else:
            break
    m = re.match(r"\(|[A-Za-z]+", text[pos:])
    return m.group(0).upper() if m else ""


def page_rows(schema: TableSchema, files: list[PageFile], items_key: str | None) -> str:
    """The query of the rows that the page lines of ``files`` (closed, none empty) hold, as
    table columns of ``schema``; its one parameter is the file's path, or the list of them."""
    cols = schema.read_columns(items_key)
    items, where = "[o]", ""
    if items_key:
        items = f"CASE WHEN o IS NOT NULL THEN [o] ELSE r.{q(items_key)} END"
        if set().union(*(f.keys for f in files)) == {"r"}:
            # list pages only: every "o" is the null written beside the page; it is still
            # read (as JSON) and tested, so that a reply that repeats the key fails. No
            # CASE per line: ~0.4 ms of a 50-row page's load
            cols["o"], items = "JSON", f"r.{q(items_key)}"
            where = " WHERE o IS NULL"
    col_arg = "{" + ", ".join(f"'{k}': '{v}'" for k, v in cols.items()) + "}"
    longest = max(f.longest for f in files)
    given = set.intersection(*(f.given or set() for f in files))
    return (
        f"SELECT {schema.select_list(given)} FROM ("
        f"SELECT p, unnest({items}) AS it FROM read_json(?, columns={col_arg}, "
        f"format='newline_delimited', maximum_object_size={_object_limit(longest)}){where})"
    )


class Store:
    """A session's DuckDB connection with one attached catalog per provider."""

    def __init__(self, *, file_access: bool = True) -> None:
        """``file_access``: whether SQL may read and write local files (``read_csv``,
        ``COPY ... TO``, ``ATTACH``); without it only the store's own page files are
        reachable, and no statement can turn it back on."""
        self.duckdb = engine()
        self.con = _take_warm() or self.duckdb.connect()
        # no DuckDB progress bar: it is drawn on stdout, into the results, after 2 s of a query
        self.execute("SET TimeZone = 'UTC'; SET enable_progress_bar = false")
        self._attached: set[str] = set()
        self._schemas: set[str] = set()
        self.tmpdir = tempfile.mkdtemp(prefix="stackql-tuning-")
        # the page files' directory goes with the Store even when nobody closes it (a library
        # session left open, garbage-collected or alive at exit): an empty one stayed per session
        self._remove_tmpdir = weakref.finalize(self, _remove_dir, self.tmpdir)
        if not file_access:
            # DuckDB spills into the same directory; after the last SET, a statement cannot
            # enable external access again ("while database is running")
            self.execute(f"SET allowed_directories = [{_sql_text(self.tmpdir + os.sep)}]")
            self.execute(f"SET temp_directory = {_sql_text(os.path.join(self.tmpdir, 'spill'))}")
            self.execute("SET enable_external_access = false")
        #: after ``run``: (rows changed, whether by a COPY) when the statement reported them
        self.changed: tuple[int, bool] | None = None
        #: whether the running statement was cancelled (the session sets it): a query that
        #: would start after the cancel does not
        self.cancelled: Callable[[], bool] = lambda: False
        #: while a fetch runs (``fetching``): the threads to give back, once one was taken
        self._fetch: dict[str, int] | None = None
        self._fetch_lock = threading.Lock()
        #: the last query ``bind`` checked and whether a column of it needs DuckDB's text
        #: (``_NEEDS_TEXT``): its ``run`` does not ask DuckDB for the types again
        self._bound: tuple[str, bool] | None = None

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` and fetch its rows (DuckDB 2 wants every result consumed)."""
        return self.con.execute(sql, params or []).fetchall()

    def ensure_schema(self, catalog: str, schema: str) -> None:
        if catalog not in self._attached:
            self.execute(f"ATTACH ':memory:' AS {q(catalog)}")
            self._attached.add(catalog)
        key = f"{catalog}.{schema}"
        if key not in self._schemas:
            self.execute(f"CREATE SCHEMA IF NOT EXISTS {q(catalog)}.{q(schema)}")
            self._schemas.add(key)

    def create_table(self, name: str, schema: TableSchema) -> None:
        catalog, db, _ = name.split(".", 2)
        try:
            self.ensure_schema(catalog, db)
            self.execute(f"CREATE OR REPLACE TABLE {qualified(name)} ({schema.ddl()})")
        except self.duckdb.Error as e:
            if _in_a_writing_transaction(e):
                raise transaction_error() from None
            raise

    def load(
        self,
        name: str,
        schema: TableSchema,
        pages: PageFile | list[PageFile],
        items_key: str | None,
        con: Any = None,
        keep_going: bool = False,
    ) -> list[FailedCall]:
        """Append every page line of ``pages`` (one file, or several read in one scan that
        DuckDB spreads over its threads) to table ``name``.

        ``con``: another connection to this database (a loader's cursor); this one by default.
        ``keep_going``: a page that cannot be read (not JSON, a repeated key, a value of the
        wrong type) is left out and its call returned as failed, the rest loaded (the caller
        reports it as any failed call, and ``--on-error`` decides); otherwise it is a
        ProviderError naming the call."""
        files = [pages] if isinstance(pages, PageFile) else list(pages)
        for f in files:
            f.close()
        files = [f for f in files if f.lines]
        if not files:
            return []
        select = page_rows(schema, files, items_key)
        sql = f"INSERT INTO {qualified(name)} ({schema.insert_columns()}) {select}"
        db = con if con is not None else self.con

        def probe(line: bytes) -> str | None:
            """DuckDB's error reading ``line`` alone with the same SQL, or None."""
            fd, path = tempfile.mkstemp(suffix=".ndjson", dir=self.tmpdir)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(line)
                db.execute(select, [path]).fetchall()
            except self.duckdb.Error as e:
                return detail(str(e).split("\n")[0])
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            return None

        dropped: list[FailedCall] = []
        for _ in range(MAX_REPAIRS + 1):
            paths: Any = files[0].path if len(files) == 1 else [f.path for f in files]
            try:
                db.execute(sql, [paths]).fetchall()
                break
            except self.duckdb.Error as e:
                if _in_a_writing_transaction(e):
                    raise transaction_error() from None
                bad = bad_lines(files, probe) if keep_going else []
                if not bad:
                    raise self._load_error(e, files, probe) from None
                dropped += drop_lines(bad)
                files = [f for f in files if f.lines]
                if not files:
                    break
        else:
            raise ProviderError("replies do not fit the API's schema (too many bad pages)")
        return dropped

    def count_where(
        self,
        schema: TableSchema,
        params: dict[str, Any],
        raw: bytes,
        key: str,
        items_key: str | None,
        where: str,
    ) -> int | None:
        """How many rows of one reply (``raw``: a list's page, key "r", or one object, "o")
        pass condition ``where`` (SQL over ``schema``'s columns), on this connection (its
        time zone and collation are the statement's); None when DuckDB cannot say (the
        statement's own run reports its error, over every row)."""
        page = PageFile(self.tmpdir)
        try:
            page.add_raw(params, raw, key, None)
            page.close()
            sql = f"SELECT count(*) FROM ({page_rows(schema, [page], items_key)}) WHERE {where}"
            return int(self.execute(sql, [page.path])[0][0])
        except self.duckdb.Error:
            return None
        finally:
            page.remove()

    def _load_error(
        self, e: Exception, files: list[PageFile], probe: Callable[[bytes], str | None]
    ) -> ProviderError:
        text = str(e).split("\n")[0]
        bad = bad_lines(files, probe)
        said = detail(text)
        if bad:
            pages, number, why = bad[0]
            res, method, params = pages.origin[number - 1]
            failure = FailedCall(res, method, params, "bad reply", why or said)
            return ProviderError(
                f"{failure.describe()}",
                failures=[failure],
                hint="the server's reply is not what the API defines",
            )
        return ProviderError(f"a reply does not fit the API's schema: {said}")

    def interrupt(self) -> None:
        """Stop the query running on this connection (from another thread: a cancel, or the
        statement's deadline); it raises where it runs. Harmless when nothing runs."""
        self.con.interrupt()

    def run(self, sql: str, *, deadline: float | None = None) -> Rows | None:
        """Run ``sql``: its rows, or None for a statement that returns none (DDL, SET). For one
        that changes rows (COPY, INSERT into a local table) ``changed`` is then their count.

        ``deadline`` (``time.monotonic()``): past it the query is interrupted and raises
        StatementTimeout. An interrupt (``interrupt``) raises Cancelled; a Ctrl-C in the
        thread that runs it, KeyboardInterrupt."""
        self.changed = None
        timer = None
        timed_out = threading.Event()
        if deadline is not None:

            def expire() -> None:
                timed_out.set()
                self.interrupt()

            timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
            timer.daemon = True
            timer.start()
        try:
            if self.cancelled():
                raise Cancelled("statement cancelled")
            return self._run(sql)
        except Cancelled:
            if timed_out.is_set():
                raise StatementTimeout(
                    "the statement ran past its time limit while its query ran",
                    hint="raise --timeout, or narrow the query",
                ) from None
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _run(self, sql: str) -> Rows | None:
        try:
            statements = self.con.extract_statements(sql)
            returns = self.duckdb.ExpectedResultType.QUERY_RESULT
            kinds = statements[-1].expected_result_type if statements else []
            # a PIVOT is several statements to DuckDB (MULTI), whose first kind is not rows:
            # its rows were dropped and "OK" printed
            multi = bool(statements) and statements[-1].type == self.duckdb.StatementType.MULTI
            has_rows = bool(kinds) and (kinds[0] == returns or (multi and returns in kinds))
            # one statement runs as parsed here, not parsed again (~0.5 ms of a small query)
            query: Any = statements[0] if len(statements) == 1 else sql
            bound, self._bound = self._bound, None
            if bound is not None and bound[0] == sql and not bound[1]:
                lossless = None  # its types are known from the bind: none needs the text
            else:
                lossless = self._lossless(statements)
            if lossless is not None:
                query = lossless.sql
            cursor, rows = self._query(query)
        except self.duckdb.InterruptException:
            raise Cancelled("statement cancelled; its query was stopped") from None
        except self.duckdb.Error as e:
            raise duckdb_error(e, sql) from None
        except RuntimeError as e:
            # DuckDB's answer to a Ctrl-C it saw while the query ran in this thread
            if str(e) == "Query interrupted":
                raise KeyboardInterrupt from None
            raise
        if not has_rows or cursor.description is None:
            counted = kinds and kinds[0] == self.duckdb.ExpectedResultType.CHANGED_ROWS
            if counted and len(rows) == 1 and len(rows[0]) == 1 and isinstance(rows[0][0], int):
                self.changed = (rows[0][0], statements[-1].type == self.duckdb.StatementType.COPY)
            return None
        names = [str(d[0]) for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        if lossless is not None:
            names, types, rows = lossless.names, lossless.types, lossless.restore(rows)
        return Rows(names, types, rows)

    def _lossless(self, statements: list[Any]) -> Lossless | None:
        """For one SELECT whose columns Python cannot always hold as DuckDB has them (an
        INTERVAL's months became 30 days each, nanoseconds were cut):
        the query with, beside each such column, DuckDB's own text of the values that need it.
        It runs once (the query is only bound here); None when no column needs it."""
        if len(statements) != 1 or statements[0].type != self.duckdb.StatementType.SELECT:
            return None
        text = str(statements[0].query).strip().rstrip(";").rstrip()
        try:  # bound, not run; as itself, not in a subquery (which renames a repeated name)
            described = self.con.execute(f"DESCRIBE {text}").fetchall()
        except self.duckdb.Error:
            return None  # the query itself reports it
        names, types = [str(r[0]) for r in described], [str(r[1]) for r in described]
        extras = [
            (i, _NEEDS_TEXT[t].format(c=f"#{i + 1}"))
            for i, t in enumerate(types)
            if t in _NEEDS_TEXT
        ]
        if not extras:
            return None
        picked = [f"#{i + 1}" for i in range(len(types))]
        picked += [f"CASE WHEN {cond} THEN CAST(#{i + 1} AS VARCHAR) END" for i, cond in extras]
        sql = f"SELECT {', '.join(picked)} FROM (\n{text}\n) AS lossless"
        return Lossless(sql, names, types, [i for i, _ in extras])

    def _query(self, query: Any) -> tuple[Any, list[tuple[Any, ...]]]:
        """Execute ``query`` and fetch its rows. In the main thread it runs in a helper thread,
        so that a Ctrl-C stops it at once: DuckDB notices a Ctrl-C in the thread that runs a
        query only now and then (a 14 s query ran to its end), the main thread waiting on a
        join gets it at once and interrupts the query."""
        if threading.current_thread() is not threading.main_thread():
            cursor = self.con.execute(query)
            return cursor, cursor.fetchall()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                cursor = self.con.execute(query)
                box["done"] = (cursor, cursor.fetchall())
            except BaseException as e:  # raised in the calling thread
                box["error"] = e

        worker = threading.Thread(target=work, name="stackql-tuning-query", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.5)
        except KeyboardInterrupt:
            self.interrupt()
            worker.join(5)  # stops within milliseconds; a second Ctrl-C stops the wait
            raise
        if "error" in box:
            raise box["error"]
        done: tuple[Any, list[tuple[Any, ...]]] = box["done"]
        return done

    def bind(self, sql: str) -> None:
        """Bind query ``sql`` without running it (unknown columns, bad functions: PlanError)."""
        self._bound = None
        try:
            described = self.con.execute("DESCRIBE " + sql).fetchall()
        except self.duckdb.Error as e:
            raise duckdb_error(e, sql) from None
        # what ``_lossless`` would ask DuckDB again when the query runs (~1 ms of a fan-out's
        # end, after its last reply); the provider tables' types do not change as they fill
        self._bound = (sql, any(str(r[1]) in _NEEDS_TEXT for r in described))

    @contextlib.contextmanager
    def fetching(self) -> Iterator[None]:
        """While replies are fetched, the first large background load (``loader``: a batch's
        worth of replies) makes DuckDB use one thread fewer (:meth:`leave_a_core`); at the end
        DuckDB gets back the threads it had (the user's ``SET threads`` too). A statement with
        no such load changes nothing.

        The Python side of a fetch (HTTP, token chaining, the sink) runs on one core at a time
        (the GIL), and background loads on every core competed with it: 100k rows on 2 cores
        took ~11% less wall and CPU with one DuckDB thread while fetching (median of 7,
        interleaved, the benchmarks' throughput shape). The last load and the query get them all.
        """
        with self._fetch_lock:
            self._fetch = {}
        try:
            yield
        finally:
            with self._fetch_lock:
                state, self._fetch = self._fetch, None
                if state and "threads" in state:
                    self.execute(f"SET threads = {state['threads']}")

    def leave_a_core(self, con: Any) -> None:
        """(a background load, on its cursor ``con``) Inside :meth:`fetching`, the first call
        gives one of DuckDB's threads to the fetch; later calls and calls outside do nothing."""
        with self._fetch_lock:
            state = self._fetch
            if state is None or "checked" in state:
                return
            state["checked"] = 1
            sql = "SELECT current_setting('threads'), current_setting('external_threads')"
            row = con.execute(sql).fetchall()
            threads, external = int(row[0][0]), int(row[0][1])
            fewer = max(1, threads - 1, external)  # DuckDB refuses fewer than external threads
            if fewer < threads:
                con.execute(f"SET threads = {fewer}").fetchall()
                state["threads"] = threads

    def time_zone(self) -> str:
        """DuckDB's ``TimeZone`` setting (``SET TimeZone`` changes it; UTC by default)."""
        return str(self.execute("SELECT current_setting('TimeZone')")[0][0])

    def collation(self) -> str:
        """DuckDB's ``default_collation`` ('' by default: binary, as the APIs compare)."""
        return str(self.execute("SELECT current_setting('default_collation')")[0][0])

    def is_scalar(self, name: str) -> bool:
        """Whether DuckDB knows function ``name`` only as a scalar function (not an aggregate,
        a macro, which may hold one, or a name it does not know)."""
        rows = self.execute(
            "SELECT DISTINCT function_type FROM duckdb_functions() WHERE lower(function_name) = ?",
            [name.lower()],
        )
        return bool(rows) and {str(r[0]) for r in rows} == {"scalar"}

    def is_attached(self, name: str) -> bool:
        """Whether ``name`` is a database attached to this one (``ATTACH ... AS name``; the
        providers' catalogs are too)."""
        sql = "SELECT 1 FROM duckdb_databases() WHERE lower(database_name) = ?"
        return bool(self.execute(sql, [name.lower()]))

    def default_in_memory(self) -> bool:
        """Whether an unqualified table name is this session's in-memory database's: no
        ``USE`` of another database, no ``search_path`` beyond it."""
        from stackql_tuning.plan.targets import IN_MEMORY_PATH, search_path_catalogs

        sql = "SELECT current_database(), current_setting('search_path')"
        database, path = self.execute(sql)[0]
        catalogs = search_path_catalogs(str(path or ""))
        return str(database).lower() == "memory" and set(catalogs) <= IN_MEMORY_PATH

    def plain_table(self, name: str, schema: str | None = None) -> bool:
        """Whether ``name`` (in ``schema``, or in any) is a base table of this database, not a
        view, whose definition names no collation: its rows are the same at each read, and
        its text compares as the APIs compare it."""
        sql = "SELECT sql FROM duckdb_tables() WHERE lower(table_name) = ?"
        params = [name.lower()]
        if schema:
            sql += " AND lower(schema_name) = ?"
            params.append(schema.lower())
        rows = self.execute(sql, params)
        return bool(rows) and not any("COLLATE" in str(r[0]).upper() for r in rows)

    def columns_of(self, sql: str) -> list[str] | None:
        """The column names of query ``sql`` (None when DuckDB cannot bind it: its error is
        left for the statement's own bind check to report)."""
        try:
            return [str(r[0]) for r in self.execute("DESCRIBE " + sql)]
        except self.duckdb.Error:
            return None

    def const(self, sql: str) -> Any:
        try:
            rows = self.execute(f"SELECT {sql}")
        except self.duckdb.Error as e:
            raise PlanError(f"cannot evaluate {sql}: {str(e).splitlines()[0]}") from None
        if len(rows) > 1:
            # a set-returning call (unnest): its first value alone was taken, and a DELETE
            # removed fewer jobs than it named while reporting success
            raise PlanError(
                f"{sql} gives {len(rows)} values where one is expected",
                hint="list the values: col IN ('a', 'b')",
            )
        return rows[0][0] if rows else None

    def close(self) -> None:
        # a cancelled statement's query may still be stopping in its thread: closing a busy
        # connection fails (ResourceInUse), so stop it and give it a moment
        self.interrupt()
        for _ in range(50):
            try:
                self.con.close()
                break
            except self.duckdb.Error:
                time.sleep(0.1)
        self._remove_tmpdir()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _remove_dir(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _object_limit(longest: int) -> int:
    """DuckDB's ``maximum_object_size`` for a file whose longest line is ``longest`` bytes: the
    next power of two, at least 2 MB (its reader sizes buffers by it: 1 GB costs ~1 ms a load)."""
    limit = 2 << 20
    while limit <= longest:
        limit <<= 1
    return limit


def _in_a_writing_transaction(e: Exception) -> bool:
    """DuckDB's refusal to write a provider table's rows (their own database) in a transaction
    that has already written another database, or to commit such a transaction."""
    text = str(e)
    return "in a transaction that has already modified database" in text or (
        "Failed to commit" in text and "transaction" in text.lower()
    )


def transaction_error() -> QueryError:
    """The error of reading a provider table inside the user's transaction: its rows are
    loaded through another connection (and into a database of their own), which the
    transaction neither sees nor may write beside its own changes."""
    return QueryError(
        "provider tables cannot be read inside a transaction (BEGIN ... COMMIT): their "
        "rows are loaded outside it, where the transaction does not see them",
        hint="read them before BEGIN (CREATE TABLE ... AS SELECT keeps their rows for "
        "the transaction), or COMMIT first",
    )


def duckdb_error(e: Exception, sql: str) -> StackqlTuningError:
    from stackql_tuning.sql.align import duckdb_spot

    duckdb = engine()

    lines = str(e).strip().splitlines()
    first = lines[0] if lines else type(e).__name__
    first = re.sub(r"^(Binder|Catalog|Parser|Conversion|Invalid Input) Error: ", "", first)
    # DuckDB's "LINE n:" excerpt and caret point into the SQL it was given (regenerated, or
    # wrapped for the bind check), not into the user's text: they would mislead. The text
    # around the caret is kept, for the statement's handler to find in the user's text
    rest = [ln for ln in lines[1:] if not re.match(r"^(LINE \d+:|\s*\^+\s*$)", ln)]
    excerpt = _shorter("\n".join(rest).strip()) or None
    error = _duckdb_error(duckdb, e, first, excerpt)
    error.sql_spot = duckdb_spot(str(e))
    return error


def _shorter(excerpt: str, keep: int = 6) -> str:
    """DuckDB's list of candidate functions, cut to its first ``keep`` (it lists dozens for an
    operator: ``+`` has 60)."""
    lines = excerpt.splitlines()
    if not lines or lines[0].strip() != "Candidate functions:" or len(lines) <= keep + 2:
        return excerpt
    return "\n".join([*lines[: keep + 1], f"\t... and {len(lines) - keep - 1} more"])


def _duckdb_error(duckdb: Any, e: Exception, first: str, excerpt: str | None) -> StackqlTuningError:
    if isinstance(e, (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException)):
        hint = None
        # a view is a subquery by the time DuckDB binds it, which DuckDB calls a "Values list"
        m = re.match(r'Values list "([^"]+)" does not have a column named "([^"]+)"', first)
        if m:
            first = f'"{m.group(1)}" has no column "{m.group(2)}"'
            hint = "DESCRIBE the view or table to list its columns"
        if "does not exist" in first and ("Table" in first or "Catalog" in first):
            hint = "provider tables are named provider.service.resource: SHOW PROVIDERS lists them"
            excerpt = None
        return PlanError(first, excerpt=excerpt, hint=hint)
    return QueryError(first, excerpt=excerpt)
