"""What a star gives of a provider table: its fields and the params that say where a row
lives (``projectsId``, ``locationsId``, ``region``, ``AwsAccountId``, a parent job's name),
not the options a call was made with (``filter``, ``pageSize``, ``readMask``; ``MaxResults``,
``SortBy``, ``NameContains`` ...: ``registry.model.call_options``).

Those options are columns, so that a condition on them binds the call and DuckDB re-checks it,
but they hold a value only where the statement named them: every other row has NULL there.
``SELECT *`` over SageMaker's jobs ended in nine such columns, and an EXEC's SHOWRESULTS in
three. A star now leaves each one out (``* EXCLUDE (j.MaxResults, ...)``) unless the statement
names it anywhere (``WHERE NameContains = 'x'`` keeps ``NameContains``; so does an outer
query that reads it through a subquery). The star of DuckDB's ``COLUMNS(*)`` leaves them
out too (a ``COLUMNS('regex')`` is left as written). Pure: a rewrite of the tree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from stackql_tuning.registry.model import Resource, call_options


def leave_out_call_options(
    tree: exp.Expr, mentions: Iterable[tuple[exp.Table, Resource]], named: Iterable[str] = ()
) -> exp.Expr:
    """``tree`` (changed in place) with each star over a mentioned provider table (``*`` in
    the SELECT whose FROM or JOIN holds it, or ``alias.*``) excluding the table's call options
    that the statement does not name (nor ``named``: an EXEC's ``@pageSize=5``)."""
    named = {i.name.lower() for i in tree.find_all(exp.Identifier)} | {n.lower() for n in named}
    for node, resource in mentions:
        options = [o for o in call_options(resource) if o.lower() not in named]
        select = node.parent.parent if isinstance(node.parent, (exp.From, exp.Join)) else None
        if not options or not isinstance(select, exp.Select) or node.args.get("pivots"):
            continue  # (a PIVOT or UNPIVOT reshapes the table: its star has other columns)
        alias = node.alias_or_name
        for item in _stars(select):
            if isinstance(item, exp.Star):  # every table's columns: name this one's
                _exclude(item, [exp.column(o, table=alias, quoted=True) for o in options])
            elif item.table.lower() == alias.lower():
                _exclude(item.this, [exp.column(o, quoted=True) for o in options])
    return tree


def _stars(select: exp.Select) -> list[exp.Star | exp.Column]:
    """The stars of ``select``'s own projections: ``*`` and ``alias.*``, and those inside
    DuckDB's ``COLUMNS(*)`` anywhere in a projection (``max(COLUMNS(*))``), not a nested
    query's."""
    out: list[exp.Star | exp.Column] = []
    for item in select.expressions:
        found = [item] if _is_star(item) else []
        for columns in item.find_all(exp.Columns):
            if _is_star(columns.this) and columns.find_ancestor(exp.Select) is select:
                found.append(columns.this)
        out += found
    return out


def _is_star(node: exp.Expr) -> bool:
    return isinstance(node, exp.Star) or (
        isinstance(node, exp.Column) and isinstance(node.this, exp.Star)
    )


def _exclude(star: exp.Star, columns: list[exp.Column]) -> None:
    if not columns:
        return
    current = list(star.args.get("except_") or [])
    have = {(c.table.lower(), c.name.lower()) for c in current if isinstance(c, exp.Column)}
    current += [c for c in columns if (c.table.lower(), c.name.lower()) not in have]
    star.set("except_", current)
