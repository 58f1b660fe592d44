"""A LIMIT over a derived table alone goes into it: ``SELECT * FROM (SELECT name FROM jobs
WHERE ...) s LIMIT 3``, or the same over a CTE read once, is ``... FROM (SELECT name FROM jobs
WHERE ... LIMIT 3) s LIMIT 3``. The outer SELECT keeps each row of the derived table as one
row (no WHERE, grouping, DISTINCT, window, ORDER BY or set-returning function), so its first
n rows after an OFFSET m are n of the derived table's first n + m: any such rows are a correct
answer, as the outer LIMIT's were. Then the derived table has a LIMIT of its own, which the
early LIMIT (``plan.limit``), the filter before the gets (``plan.hydrate_first``) and a view's
LIMIT (``plan.views`` rule 6) read: the list stopped at its first page, not every page of the
location. Pure: a rewrite of the tree.
"""

from __future__ import annotations

from sqlglot import exp

from stackql_tuning.plan.bindings import from_items, limit_rows

#: what in the outer SELECT makes its rows other than one per row of its FROM
_MANY = (
    exp.AggFunc,
    exp.Window,
    exp.Explode,
    exp.Unnest,
    exp.Lateral,
    exp.TableSample,
    exp.Anonymous,  # a function DuckDB may run as an aggregate or a set-returning one
    exp.Subquery,
    exp.Query,
)
#: the outer SELECT's clauses that filter, group, sort or sample its rows
_CLAUSES = ("where", "group", "having", "qualify", "order", "distinct", "joins", "sample")


def limit_into_derived(tree: exp.Expr) -> exp.Expr:
    """``tree`` (changed in place) with the LIMIT of every SELECT over one derived table (a
    subquery, or a CTE the statement reads once) also on that table's query."""
    for select in list(tree.find_all(exp.Select)):
        total = limit_rows(select)
        inner = _derived_query(select, tree) if total is not None else None
        if inner is None or total is None:
            continue
        own = inner.args.get("limit")
        if own is None:
            inner.set("limit", exp.Limit(expression=exp.Literal.number(total)))
            continue
        kept = None if inner.args.get("offset") else limit_rows(inner)
        if kept is not None and total < kept:  # its own LIMIT is larger: the smaller one
            own.set("expression", exp.Literal.number(total))
    return tree


def _derived_query(select: exp.Select, tree: exp.Expr) -> exp.Select | None:
    """The query of ``select``'s one FROM item when ``select`` keeps each of its rows as one
    row, and it is a subquery or a CTE that the statement reads only there; else None."""
    if any(select.args.get(clause) for clause in _CLAUSES):
        return None
    if any(True for e in select.expressions for _ in e.find_all(*_MANY)):
        return None
    items = from_items(select)
    if len(items) != 1 or items[0].args.get("pivots"):
        return None
    item = items[0]
    if isinstance(item, exp.Subquery):
        query = item.this
    elif (
        isinstance(item, exp.Table)
        and not item.args.get("db")
        and isinstance(item.this, exp.Identifier)
    ):
        query = _read_once(item.name, tree)
    else:
        return None
    return query if isinstance(query, exp.Select) else None


def _read_once(name: str, tree: exp.Expr) -> exp.Expr | None:
    """The query of the statement's one CTE ``name``, when the statement reads it once (a
    second reader would see the LIMIT's rows only); else None."""
    ctes = [c for c in tree.find_all(exp.CTE) if c.alias_or_name.lower() == name.lower()]
    with_ = ctes[0].find_ancestor(exp.With) if len(ctes) == 1 else None
    if with_ is None or with_.args.get("recursive"):
        return None
    reads = [
        t
        for t in tree.find_all(exp.Table)
        if not t.args.get("db") and t.name.lower() == name.lower()
    ]
    return ctes[0].this if len(reads) == 1 else None
