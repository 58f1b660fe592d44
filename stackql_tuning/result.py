"""The result of one statement: column names and DuckDB types, rows, and what happened.

A ``Result`` is plain data (no DuckDB import needed to build or read one); ``relation`` gives
the DuckDB relation when the statement ran in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackql_tuning.errors import FailedCall


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
    #: provider calls made for this statement
    calls: int = 0
    elapsed: float = 0.0
    #: statements that only report (DELETE, EXEC without SHOWRESULTS) have no rows to print
    has_rows: bool = True
    _relation: Any = field(default=None, repr=False)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    @property
    def relation(self) -> Any:
        """The result as a DuckDB relation (``.df()``, ``.arrow()``, ``.pl()``)."""
        if self._relation is None:
            import duckdb

            con = duckdb.connect()
            if not self.columns:
                self._relation = con.sql("SELECT NULL WHERE false")
            else:
                cols = ", ".join(f'"{c}"' for c in self.columns)
                if self.rows:
                    placeholders = ", ".join("?" for _ in self.columns)
                    values = ", ".join(f"({placeholders})" for _ in self.rows)
                    flat = [v for r in self.rows for v in r]
                    self._relation = con.sql(
                        f"SELECT * FROM (VALUES {values}) t({cols})", params=flat
                    )
                else:
                    self._relation = con.sql(f"SELECT * FROM (SELECT NULL) t({cols}) WHERE false")
        return self._relation

    def __len__(self) -> int:
        return len(self.rows)
