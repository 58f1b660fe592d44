"""What a star gives of a provider table: its fields and the params that say where a row
lives (``projectsId``, ``locationsId``, ``region``, ``AwsAccountId``, a parent job's name),
not the options a call was made with (``filter``, ``pageSize``, ``readMask``; ``MaxResults``,
``SortBy``, ``NameContains`` ...: ``registry.model.call_options``).

Those options are columns, so that a condition on them binds the call and DuckDB re-checks it,
but they hold a value only where the statement named them: every other row has NULL there.
``SELECT *`` over SageMaker's jobs ended in nine such columns, and an EXEC's SHOWRESULTS in
three. A star now leaves each one out (``* EXCLUDE (j.MaxResults, ...)``) unless the statement
names it anywhere (``WHERE NameContains = 'x'`` keeps ``NameContains``; so does an outer
query that reads it through a subquery). So do DuckDB's other forms of a star: a star with
a pattern (``* LIKE 'x%'``, ``* ILIKE``, ``* SIMILAR TO``, ``* GLOB``), the star of
``COLUMNS(*)``, and, in a SELECT over provider tables only (whose every column is known),
``COLUMNS('regex')`` and ``COLUMNS(lambda c: ...)``, which become a lambda that also leaves
the options out (``COLUMNS('.*Time.*')`` ended in four NULL time bounds of SageMaker's
list). Pure: a rewrite of the tree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from stackql_tuning.plan.bindings import from_items, star_in
from stackql_tuning.registry.model import Resource, call_options


def leave_out_call_options(
    tree: exp.Expr, mentions: Iterable[tuple[exp.Table, Resource]], named: Iterable[str] = ()
) -> exp.Expr:
    """``tree`` (changed in place) with each star over a mentioned provider table (``*`` in
    the SELECT whose FROM or JOIN holds it, or ``alias.*``) excluding the table's call options
    that the statement does not name (nor ``named``: an EXEC's ``@pageSize=5``)."""
    named = {i.name.lower() for i in tree.find_all(exp.Identifier)} | {n.lower() for n in named}
    #: per SELECT: its provider tables (FROM items) and the options each leaves out
    left_out: dict[int, tuple[exp.Select, list[tuple[exp.Expr, Resource, list[str]]]]] = {}
    for node, resource in mentions:
        options = [o for o in call_options(resource) if o.lower() not in named]
        select = node.parent.parent if isinstance(node.parent, (exp.From, exp.Join)) else None
        if not isinstance(select, exp.Select) or node.args.get("pivots"):
            continue  # (a PIVOT or UNPIVOT reshapes the table: its star has other columns)
        left_out.setdefault(id(select), (select, []))[1].append((node, resource, options))
        if not options:
            continue
        alias = node.alias_or_name
        for item in _stars(select):
            if isinstance(item, exp.Star):  # every table's columns: name this one's
                _exclude(item, [exp.column(o, table=alias, quoted=True) for o in options])
            elif item.table.lower() == alias.lower():
                _exclude(item.this, [exp.column(o, quoted=True) for o in options])
    for select, tables in left_out.values():
        _filter_selectors(select, tables)
    return tree


def _filter_selectors(
    select: exp.Select, tables: list[tuple[exp.Expr, Resource, list[str]]]
) -> None:
    """``COLUMNS('regex')`` and ``COLUMNS(lambda c: ...)`` in ``select``'s projections as a
    lambda that also leaves out ``tables``' options, when the FROM holds those provider
    tables and nothing else: a name then is an option's only if no table has a column of
    that name. (Not a regex whose alias renames its matches, ``AS '\\1_x'``.)"""
    items = from_items(select)
    if len(items) != len(tables) or {id(i) for i in items} != {id(t) for t, _, _ in tables}:
        return  # another source's columns are unknown here: one may be named as an option
    kept = {c.name.lower() for _, r, _ in tables for c in r.columns}
    kept |= {p.name.lower() for _, r, opts in tables for p in r.param_columns if p.name not in opts}
    options = sorted({o for _, _, opts in tables for o in opts if o.lower() not in kept})
    if not options:
        return
    for item in select.expressions:
        for columns in list(item.find_all(exp.Columns)):
            if columns.find_ancestor(exp.Select) is not select:
                continue
            if isinstance(columns.parent, exp.Alias) and isinstance(columns.this, exp.Literal):
                continue
            test = _selector_test(columns.this)
            if test is None:
                continue
            name, body = test
            outside = exp.Not(
                this=exp.In(this=name.copy(), expressions=[exp.Literal.string(o) for o in options])
            )
            lam = exp.Lambda(this=exp.and_(exp.paren(body), outside), expressions=[name])
            columns.set("this", lam)


def _selector_test(selector: exp.Expr) -> tuple[exp.Identifier, exp.Expr] | None:
    """A COLUMNS selector as a lambda's parameter and body: a regex as ``regexp_matches``
    (which DuckDB's COLUMNS uses: a match anywhere in the name), a lambda as itself; None
    for a star (``_stars`` deals with it) or anything else."""
    if isinstance(selector, exp.Literal) and selector.is_string:
        name = exp.to_identifier("__column")
        return name, exp.func("regexp_matches", exp.column(name), selector.copy())
    if isinstance(selector, exp.Lambda) and len(selector.expressions) == 1:
        return selector.expressions[0].copy(), selector.this.copy()
    return None


def _stars(select: exp.Select) -> list[exp.Star | exp.Column]:
    """The stars of ``select``'s own projections: ``*`` and ``alias.*``, and those inside
    DuckDB's ``COLUMNS(*)`` anywhere in a projection (``max(COLUMNS(*))``), not a nested
    query's."""
    out: list[exp.Star | exp.Column] = []
    for item in select.expressions:
        star = star_in(item)  # ``* LIKE 'Max%'``: the star, then its pattern
        if star is item:
            star = _pattern_last(star)
        found: list[exp.Star | exp.Column] = [star] if star is not None else []
        for columns in item.find_all(exp.Columns):
            if _is_star(columns.this) and columns.find_ancestor(exp.Select) is select:
                found.append(columns.this)
        out += found
    return out


def _pattern_last(item: exp.Star | exp.Column) -> exp.Star | exp.Column:
    """``* ILIKE 'x'`` (a star holding its pattern, which sqlglot writes before an EXCLUDE:
    DuckDB's syntax error) as ``* ILIKE`` over the star, which writes it after; the star."""
    star = item if isinstance(item, exp.Star) else item.this
    pattern = star.args.get("ilike")
    if pattern is None:
        return item
    star.set("ilike", None)
    pair = exp.ILike(this=item.copy(), expression=pattern)
    item.replace(pair)
    return pair.this


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
