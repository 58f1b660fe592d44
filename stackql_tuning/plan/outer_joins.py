"""Outer joins whose padded rows the query drops anyway, run as the joins they are.

``s LEFT JOIN l ON s.region = l.r WHERE l.r = 'eu-west-1'`` keeps no row that the LEFT JOIN
padded with NULLs for ``l``: ``l.r = 'eu-west-1'`` is not true of NULL. It is ``s JOIN l``,
and then its ON restricts the rows of ``s``: a param joined there is constrained (the config
defaults must not stand in for it), or bound. Left as written, the planner took the ON as
one that keeps every row of ``s``: the default region was read and the WHERE then dropped its
rows (0 rows, exit 0, where the inner join is 28).

A condition drops the padded rows of a source when it is a conjunct of the scope's WHERE (or
of the ON of an inner join after the outer one) that compares one of the source's columns
itself (``=``, ``<>``, ``<``, ``LIKE``, ``IN (...)``, ``BETWEEN``, ``IS NOT NULL``: none is
true of NULL), or an ``OR`` whose every side does. Not ``IS NULL``, ``IS [NOT] DISTINCT
FROM``, ``coalesce``, or an ``OR`` with a side that does not: those may keep a NULL. A
LEFT (RIGHT) join whose padded side is dropped so becomes an inner join; a FULL one whose
rows padded for one side are dropped keeps only the other side's unmatched rows (``WHERE
l.r = 'x'`` on ``s FULL JOIN l``: ``s RIGHT JOIN l``). Results never change: this is the
rewrite SQL optimizers make (DuckDB makes it too). Pure: edits the tree.
"""

from __future__ import annotations

from sqlglot import exp

from stackql_tuning.plan.bindings import from_items, split_and

#: comparisons that are not true when an operand is NULL
_STRICT = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Like,
    exp.ILike,
    exp.In,
    exp.Between,
)


def inner_where_padding_drops(tree: exp.Expr) -> exp.Expr:
    """``tree`` with each outer join whose padded rows its scope drops made inner (or
    one-sided); see the module."""
    for scope in list(tree.find_all(exp.Select)):
        joins = list(scope.args.get("joins") or [])
        if not any((j.side or "").upper() in ("LEFT", "RIGHT", "FULL") for j in joins):
            continue
        items = from_items(scope)
        names = [_name(item) for item in items]
        shift = 1 if scope.args.get("from_") is not None else 0
        for k, join in enumerate(joins):
            side = (join.side or "").upper()
            if side not in ("LEFT", "RIGHT", "FULL") or (join.kind or "").upper() not in (
                "",
                "OUTER",
            ):
                continue
            at = k + shift  # this join's item among ``items``
            rejected = _rejected(scope, joins, k)
            right = names[at] is not None and names[at] in rejected
            left = any(n is not None and n in rejected for n in names[:at])
            if (side == "LEFT" and right) or (side == "RIGHT" and left):
                join.set("side", None)
                join.set("kind", None)
            elif side == "FULL" and (left or right):
                # the rows that pad the right side go (right): the left side's unmatched
                # rows; what is left keeps the right side's (a RIGHT join), and conversely
                join.set("side", None if left and right else "RIGHT" if right else "LEFT")
                join.set("kind", None)
    return tree


def _name(item: exp.Expr) -> str | None:
    """The (lower-case) name a FROM item's columns are qualified by; None when it has none."""
    name = item.alias_or_name  # a table, subquery, VALUES list, function...
    return name.lower() if name else None


def _rejected(scope: exp.Select, joins: list[exp.Join], k: int) -> set[str]:
    """The (lower-case) source names whose NULL rows a condition applied after join ``k``
    drops: the WHERE's conjuncts, and the ON conjuncts of the inner joins after it."""
    conditions: list[exp.Expr] = []
    where = scope.args.get("where")
    if where is not None:
        conditions += list(split_and(where.this))
    for later in joins[k + 1 :]:
        on = later.args.get("on")
        if on is not None and not later.side and (later.kind or "").upper() in ("", "INNER"):
            conditions += list(split_and(on))
    out: set[str] = set()
    for cond in conditions:
        out |= _strict_sources(cond)
    return out


def _strict_sources(cond: exp.Expr) -> set[str]:
    """The sources of the columns that ``cond`` compares itself (``l.r = 'x'``, ``l.r IS NOT
    NULL``): ``cond`` is not true when that column is NULL. Qualified columns only."""
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.Or):  # (l.r = 'x' OR l.r = 'y': neither is true of a NULL)
        return _strict_sources(cond.left) & _strict_sources(cond.right)
    if isinstance(cond, exp.And):
        return _strict_sources(cond.left) | _strict_sources(cond.right)
    if isinstance(cond, exp.Not):
        inner = cond.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return _qualifiers([inner.this])
        return set()
    if not isinstance(cond, _STRICT):
        return set()
    if isinstance(cond, exp.In | exp.Between):  # (NULL IN (SELECT ...) is not true either)
        return _qualifiers([cond.this])
    return _qualifiers([cond.left, cond.right])


def _qualifiers(operands: list[exp.Expr | None]) -> set[str]:
    out: set[str] = set()
    for operand in operands:
        while isinstance(operand, exp.Cast | exp.TryCast | exp.Paren):
            operand = operand.this
        if isinstance(operand, exp.Column) and operand.table:
            out.add(operand.table.lower())
    return out
