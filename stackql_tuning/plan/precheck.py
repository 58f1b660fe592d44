"""Whether a planned query's names are sure to bind, told without DuckDB.

The store checks every query by letting DuckDB bind it against the empty provider tables before
any call (``Store.bind``). A session's first statement waits for DuckDB's start-up (~30 ms
here) before that check can run. When this module finds every column of the query in the
tables it reads (sqlglot's qualifier, over the provider tables' columns) and every function
known, the first calls may leave while DuckDB starts and binds (``run.select``): the typos a
user makes most, a column or a function name, still cost no call.

It only ever says "sure" or "not sure": not sure (a column it cannot place, a struct field, a
local table or file, an unknown function, anything sqlglot cannot qualify) keeps the usual
order.
DuckDB's bind still runs and still decides; what only it can see (a type mismatch) may then
come after the first calls, whose replies are dropped.

Pure: (sqlglot tree, the plan's slots) -> bool.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlglot import exp

from stackql_tuning.plan.select import Slot


def names_resolve(tree: exp.Expr, slots: Iterable[Slot]) -> bool:
    """True when every column of ``tree`` resolves to a column of the tables it reads (the
    slots' provider tables, its own CTEs and subqueries) and it calls no unknown function."""
    if any(isinstance(n, (exp.Anonymous, exp.AnonymousAggFunc)) for n in tree.walk()):
        return False
    schema: dict[str, Any] = {}
    for slot in slots:
        catalog, db, table = slot.name.split(".", 2)
        columns = {c.name: "TEXT" for c in slot.resource.columns}
        columns.update({p.name: "TEXT" for p in slot.resource.param_columns})
        schema.setdefault(catalog, {}).setdefault(db, {})[table] = columns
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for t in tree.find_all(exp.Table):
        known = schema.get(t.catalog, {}).get(t.db, {}).get(t.name)
        if known is None and (t.catalog or t.db or t.name.lower() not in ctes):
            return False  # a local table, a file, a table function: only DuckDB knows it
    try:
        from sqlglot.optimizer.qualify import qualify

        qualify(
            tree.copy(),
            schema=schema,
            dialect="duckdb",
            validate_qualify_columns=True,
            quote_identifiers=False,
        )
    except Exception:  # anything it cannot place: not sure
        return False
    return True
