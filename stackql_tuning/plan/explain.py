"""What ``--dry-run`` says of a plan's calls beside the requests themselves: where a dependent
table's values come from, which listed rows are got again, and when paging stops. Pure.
"""

from __future__ import annotations

from sqlglot import exp

from stackql_tuning.plan.select import Slot
from stackql_tuning.plan.semi_joins import ALIAS

_IN_SUBQUERY = ALIAS.split("{", 1)[0]


def source_text(slot: Slot, source: str) -> str:
    """A dependent source as the statement wrote it: a provider table's or a view's name, a
    CTE, a VALUES list; an ``IN (SELECT ...)`` that binds by its subquery (its internal
    alias means nothing to the user)."""
    view = slot.view_sources.get(source)
    if view is not None and source.split(" AS ")[-1].lower().startswith(_IN_SUBQUERY):
        # (SELECT * FROM (<the user's subquery>) AS in_subquery_1(value))
        inner = view[0].this.find(exp.Subquery)
        if inner is not None:
            return f"the IN subquery ({inner.this.sql(dialect='duckdb')})"
    return source


def _passing(conditions: list[exp.Expr], verb: str = "pass") -> str:
    if not conditions:
        return ""
    return f" that {verb} " + " AND ".join(c.sql(dialect="duckdb") for c in conditions)


def dependent_text(slot: Slot) -> str:
    """``one call per row of <sources>``, and when the calls stop (an early LIMIT)."""
    sources = sorted({source_text(slot, src) for src, _ in slot.dependent.values()})
    text = f"one call per row of {', '.join(sources)}"
    if slot.limit is not None:
        text += f"; no more once {slot.limit} rows{_passing(slot.limit_where)} have arrived"
    return text


def limit_text(slot: Slot) -> str | None:
    """When a listed table's paging stops (its early LIMIT), or None: it reads every page."""
    if slot.limit is None or slot.dependent:
        return None
    return f"pages stop once {slot.limit} rows{_passing(slot.limit_where)} have arrived"


def hydrate_text(slot: Slot) -> str:
    """Which listed rows are got again: all, or those its conditions and its ORDER BY ...
    LIMIT keep, and when the gets stop (``plan.hydrate_first``)."""
    text = "one call per listed row" + _passing(slot.hydrate_where, "passes")
    if slot.hydrate_limit is not None:
        order = ", ".join(k.sql(dialect="duckdb") for k in slot.hydrate_order)
        text += f", the first {slot.hydrate_limit}" + (f" by {order}" if order else "")
    if slot.hydrate_expand is not None:
        rows, column = slot.hydrate_expand
        text += f", until {rows} items of {column} have arrived"
    return text
