"""One instant per statement: the clock in a statement's conditions (``now()``,
``current_date``, ``get_current_timestamp()`` ...) becomes the value DuckDB gives it once,
while the statement is planned.

A condition is evaluated more than once: on each page as it arrives (an early LIMIT counts
the rows that pass it), on a list's rows before their gets (``plan.hydrate_first``), on a
source's rows for a dependent join's values, and by the statement's query at the end. Each
read of the clock would be another moment: ``CreationTime > now() - INTERVAL 1 HOUR LIMIT 5``
could count a row that the query, a moment later, drops. With the clock pinned they agree,
and DuckDB's own reading (``now()`` is the start of the transaction, one per statement here:
a statement that reads a provider table runs in none of the user's) is kept.

Only conditions (WHERE, ON, HAVING, QUALIFY, at any depth) outside select items: a select
item (a scalar subquery's WHERE, an aggregate's FILTER) keeps its name and is DuckDB's to
evaluate. What reads the transaction rather than the clock (``txid_current()``)
is left alone, and so keeps a condition from being evaluated early (``bindings.timeless``).
Pure: the values come from ``read_clock``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

#: ``read_clock``: the SQL of each clock call -> (its value as text, its DuckDB type), read
#: in one query (one instant)
ReadClock = Callable[[list[str]], list[tuple[str, str]]]

#: the clock's calls (``CURRENT_TIMESTAMP(3)`` too: DuckDB reads it once as well)
CLOCK_NODES = (
    exp.CurrentTimestamp,
    exp.CurrentTimestampLTZ,
    exp.CurrentTime,
    exp.CurrentDate,
    exp.CurrentDatetime,
    exp.Localtime,
    exp.Localtimestamp,
)
CLOCK_CALLS = frozenset(
    {
        "now",
        "today",
        "get_current_time",
        "get_current_timestamp",
        "current_localtime",
        "current_localtimestamp",
        "transaction_timestamp",
    }
)


def pin_the_clock(tree: exp.Expr, read_clock: ReadClock) -> exp.Expr:
    """``tree`` (changed in place) with each clock call of its conditions replaced by
    ``CAST('<value>' AS <type>)``, all read at one instant."""
    calls = _clock_calls(tree)
    if not calls:
        return tree
    values = read_clock([c.sql(dialect="duckdb") for c in calls])
    for call, (text, db_type) in zip(calls, values, strict=True):
        literal = exp.Literal.string(text)
        call.replace(exp.Cast(this=literal, to=exp.DataType.build(db_type, dialect="duckdb")))
    return tree


def _clock_calls(tree: exp.Expr) -> list[exp.Expr]:
    roots: list[exp.Expr] = list(tree.find_all(exp.Where, exp.Having, exp.Qualify))
    roots += [j.args["on"] for j in tree.find_all(exp.Join) if j.args.get("on") is not None]
    seen: set[int] = set()
    out: list[exp.Expr] = []
    for root in roots:
        if _in_select_item(root):
            continue  # (a subquery's WHERE, an aggregate's FILTER): DuckDB names it by its SQL
        for node in root.find_all(*CLOCK_NODES, exp.Anonymous):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, exp.Anonymous) and (
                node.name.lower() not in CLOCK_CALLS or node.expressions
            ):
                continue
            out.append(node)
    return out


def _in_select_item(node: exp.Expr) -> bool:
    """Whether ``node`` is part of a select item (whose column DuckDB names by its SQL)."""
    while node.parent is not None:
        if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
            return True
        node = node.parent
    return False
