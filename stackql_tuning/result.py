"""The result of one statement: column names and DuckDB types, rows, and what happened.

A ``Result`` is plain data (no DuckDB import needed to build or read one); ``relation`` builds,
on first use, a typed DuckDB relation over the rows on a private connection (for ``.df()``,
``.arrow()``, ``.pl()``). This module must not import duckdb, orjson, pandas or pyarrow at import
time, and never reads the session's store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stackql_tuning.errors import FailedCall


class CutShort(str):
    """A warning that a read's rows are not all there: a listing that ``--page-limit``
    stopped. A change never acts on such a read (an INSERT's SELECT, a deploy's exists or
    statecheck query): a NOT EXISTS guard that read page 1 only created a duplicate."""


@dataclass
class Result:
    columns: list[str]
    #: DuckDB type names, one per column (VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP WITH TIME
    #: ZONE, JSON, ...); renderers embed JSON columns as JSON and print timestamps as ISO UTC
    types: list[str]
    rows: list[tuple[Any, ...]]
    #: the statement kind (select, insert, delete, exec, show, describe, ...)
    kind: str = "select"
    #: human-readable outcome lines for stderr ("1 resource deleted", "row 3: created ...")
    messages: list[str] = field(default_factory=list)
    #: calls that failed but were tolerated (--on-error continue)
    failures: list[FailedCall] = field(default_factory=list)
    #: warnings for stderr (page limit hit, ...)
    warnings: list[str] = field(default_factory=list)
    #: provider calls made for this statement (pages, counting those the cache answered)
    calls: int = 0
    #: pages the response cache answered, and the age in seconds of the oldest of them
    cached_pages: int = 0
    cache_age: float = 0.0
    elapsed: float = 0.0
    #: statements that only report (DELETE, EXEC without SHOWRESULTS) have no rows to print
    has_rows: bool = True
    #: each value is a text of several lines to be copied as it is (``SHOW INSERT INTO``'s
    #: statement): the table and text outputs write its lines as lines, not ``\\n`` escapes
    verbatim: bool = False
    _relation: Any = field(default=None, repr=False, compare=False)

    @property
    def cut_short(self) -> list[str]:
        """The warnings that say a listing was cut short (``CutShort``): its rows are not all
        there, so no change may act on them."""
        return [w for w in self.warnings if isinstance(w, CutShort)]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        """The rows, as tuples."""
        return iter(self.rows)

    def __repr__(self) -> str:
        """Short, whatever the size: the kind, the columns, the row count and the first rows
        (a notebook cell that ended in a 1M-row result built a 42 MB repr)."""
        shown = ", ".join(repr(r) for r in self.rows[:3])
        more = f", ... ({len(self.rows) - 3} more)" if len(self.rows) > 3 else ""
        extra = "".join(
            f", {name}={len(items)}"
            for name, items in (("failures", self.failures), ("warnings", self.warnings))
            if items
        )
        return (
            f"Result(kind={self.kind!r}, columns={self.columns!r}, "
            f"{len(self.rows)} row{'s' if len(self.rows) != 1 else ''}: [{shown}{more}]{extra})"
        )

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per row, keyed by column name; a name that repeats gets a suffix (``a``,
        ``a_1``, as in ``-o json``) so no value is lost. A JSON column's text is a
        :class:`JsonText` (a ``str`` that says it holds JSON)."""
        keys = unique_names(self.columns)
        json_columns = [i for i, t in enumerate(self.types) if t.strip().upper() == "JSON"]
        if not json_columns:
            return [dict(zip(keys, r, strict=True)) for r in self.rows]
        out = []
        for row in self.rows:
            values = list(row)
            for i in json_columns:
                if isinstance(values[i], str):
                    values[i] = JsonText(values[i])
            out.append(dict(zip(keys, values, strict=True)))
        return out

    @property
    def relation(self) -> Any:
        """The result as a typed DuckDB relation: ``.df()`` (pandas), ``.arrow()`` (pyarrow),
        ``.pl()`` (polars), ``.fetchall()``, or more SQL (``.filter()``, ``.aggregate()``).

        It lives on a private in-memory DuckDB connection (TimeZone UTC), built once from
        ``rows`` with each column of its type in ``types``: JSON columns stay JSON, timestamps
        TIMESTAMPTZ. It never reads the session's provider tables, so later statements do not
        change it.
        """
        if self._relation is None:
            self._relation = build_relation(self.columns, self.types, self.rows)
        return self._relation

    def __len__(self) -> int:
        return len(self.rows)


class JsonText(str):
    """The text of a JSON value, as a ``str``: writers that know it (``deploy --output-file``)
    embed it as JSON rather than as a string."""

    __slots__ = ()


def unique_names(columns: list[str]) -> list[str]:
    """Column names made unique with ``_1``, ``_2``... suffixes, first occurrence unchanged; a
    suffixed name never takes the name of another column."""
    names = set(columns)
    taken: set[str] = set()
    keys = []
    for name in columns:
        key, n = name, 0
        while key in taken or (key != name and key in names):
            n += 1
            key = f"{name}_{n}"
        taken.add(key)
        keys.append(key)
    return keys


#: DuckDB float types whose NaN and infinities JSON cannot carry as numbers
_FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8"})
#: rows per INSERT ... VALUES statement on the slow path
_VALUES_CHUNK = 500


def build_relation(columns: list[str], types: list[str], rows: list[tuple[Any, ...]]) -> Any:
    """A DuckDB relation over ``rows`` on a private in-memory connection, typed by ``types``.

    Fast path: the rows are written as NDJSON (orjson) and read back by DuckDB's JSON reader
    with the column types given. Values JSON cannot carry (BLOB bytes, integers beyond 64 bits)
    fall back to ``INSERT ... VALUES`` with a CAST per column; a type this connection cannot
    create (a user-defined ENUM) falls back to the types DuckDB infers from the values.
    """
    import duckdb

    if len(types) != len(columns):
        raise ValueError(f"{len(columns)} columns but {len(types)} types")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if not columns:
        return con.sql("SELECT NULL WHERE false")
    names = [f"c{i}" for i in range(len(columns))]
    try:
        ddl = ", ".join(f"{n} {t}" for n, t in zip(names, types, strict=True))
        con.execute(f"CREATE TABLE result ({ddl})")
    except duckdb.Error:
        _insert_values(con, names, rows, None, create=True)
    else:
        if rows:
            try:
                _insert_ndjson(con, names, types, rows)
            except (duckdb.Error, TypeError, ValueError, OSError):
                # OSError: no temporary file could be written (TMPDIR unwritable)
                _insert_values(con, names, rows, types, create=False)
    select = ", ".join(f"{n} AS {_quote(c)}" for n, c in zip(names, columns, strict=True))
    return con.sql(f"SELECT {select} FROM result")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_default(value: Any) -> Any:
    import datetime
    import decimal

    if isinstance(value, decimal.Decimal | datetime.timedelta):
        return str(value)  # DuckDB casts "1.25" to DECIMAL and "3:00:00" to INTERVAL
    raise TypeError(f"{type(value).__name__} is not JSON")


#: a double-quoted name, or the JSON type where it stands in a type name (a field named json
#: is quoted: ``STRUCT("json" JSON)``)
_JSON_IN_TYPE = re.compile(r'("(?:[^"]|"")*")|\bJSON\b', re.IGNORECASE)


def _json_as_varchar(type_name: str) -> str:
    """``type_name`` with VARCHAR wherever it has JSON (``JSON[]`` -> ``VARCHAR[]``)."""
    return _JSON_IN_TYPE.sub(lambda m: m.group(1) or "VARCHAR", type_name)


def _encoders(types: list[str]) -> dict[int, Any]:
    """Column index -> value encoder, for the columns whose values need one."""
    import math

    def as_float(v: Any) -> Any:
        return str(v) if isinstance(v, float) and not math.isfinite(v) else v

    return {i: as_float for i, t in enumerate(types) if t.upper() in _FLOAT_TYPES}


def _insert_ndjson(con: Any, names: list[str], types: list[str], rows: list[Any]) -> None:
    """Rows as NDJSON, read back with their types. JSON is read as its text (VARCHAR, at any
    depth: ``JSON[]``, ``STRUCT(a JSON)``) and cast: a JSON ``null`` stays a JSON value, not
    SQL NULL, and JSON inside a LIST or STRUCT stays JSON, not a JSON string."""
    import os
    import tempfile

    import orjson

    encoders = _encoders(types)
    read_types = [_json_as_varchar(t) for t in types]
    fd, path = tempfile.mkstemp(prefix="stackql-tuning-result-", suffix=".ndjson")
    try:
        with os.fdopen(fd, "wb") as f:
            for row in rows:
                record = {}
                for i, value in enumerate(row):
                    enc = encoders.get(i) if value is not None else None
                    record[names[i]] = enc(value) if enc else value
                f.write(orjson.dumps(record, default=_json_default))
                f.write(b"\n")
        spec = ", ".join(
            f"{_literal(n)}: {_literal(t)}" for n, t in zip(names, read_types, strict=True)
        )
        select = ", ".join(
            n if r == t else f"CAST({n} AS {t})"
            for n, t, r in zip(names, types, read_types, strict=True)
        )
        con.execute(
            f"INSERT INTO result SELECT {select} FROM read_json(?, "
            f"columns={{{spec}}}, format='newline_delimited')",
            [path],
        )
    finally:
        os.unlink(path)


def _insert_values(
    con: Any, names: list[str], rows: list[Any], types: list[str] | None, *, create: bool
) -> None:
    """INSERT ... VALUES in chunks (CAST to ``types``), or CREATE TABLE AS when ``create``."""
    width = len(names)
    if types is None:
        exprs = names
    else:
        exprs = [f"CAST({n} AS {t})" for n, t in zip(names, types, strict=True)]
    if create and not rows:
        con.execute(f"CREATE TABLE result ({', '.join(f'{n} VARCHAR' for n in names)})")
        return
    placeholder = "(" + ", ".join(["?"] * width) + ")"
    for start in range(0, len(rows), _VALUES_CHUNK):
        part = rows[start : start + _VALUES_CHUNK]
        source = (
            f"SELECT {', '.join(exprs)} FROM (VALUES {', '.join([placeholder] * len(part))})"
            f" v({', '.join(names)})"
        )
        head = "CREATE TABLE result AS " if create and start == 0 else "INSERT INTO result "
        con.execute(head + source, [v for row in part for v in row])
