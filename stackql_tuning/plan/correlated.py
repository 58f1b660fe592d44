"""Correlated subqueries over provider tables: the params they compare to an outer row bind.

``EXISTS (SELECT 1 FROM <provider table> t WHERE t.projectsId = p.project ...)``, the same in a
``LATERAL`` subquery, a scalar subquery or an ``IN (SELECT ...)``: ``p`` is a source of an
enclosing query, so the condition binds nothing in the subquery's own scope, and the table
could not be read ("cannot query ... without its required parameters").

Here each such condition (a top-level conjunct of the subquery's WHERE, comparing a column of
one of its provider tables or views to a column of a source of an enclosing query) gets a
twin beside it::

    t.projectsId = p.project AND t.projectsId IN (SELECT p.project FROM <p's source>
                                                  WHERE <the conditions on p alone>)

which the planner binds as any ``IN (SELECT ...)``: the table is read for every value the
outer source can give, and DuckDB evaluates the correlation itself, row by row. The twin is
implied by the condition for every outer row the statement keeps (the outer rows that fail
the conditions on ``p`` alone are dropped by the enclosing WHERE anyway), so it never changes
a result: it only says which values to call for.

A twin is speculative (``SPECULATIVE``): where the outer source's copy cannot be planned (its
params bound in an ``ON``), the statement is planned without the twins, as before. None is
made for a param the subquery gives a literal (``t.region = 'us-east-1'``): the outer source
would be read again for nothing.

Left as they were (the planner's error stands): an outer source that is itself correlated (a
``LATERAL``, ``unnest``, a table function or a subquery reading another source's columns), an
unqualified outer column, a condition in an ``ON`` (an outer join's would not restrict the
table as the WHERE does) or under an ``OR``.

Pure: no I/O.
"""

from __future__ import annotations

from sqlglot import exp

from stackql_tuning.plan.bindings import (
    SPECULATIVE,
    column_and_constants,
    from_items,
    param_names,
    split_and,
    steady,
    text_param,
)
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Resource

#: meta key of a twin (so that it is made once)
TWIN = "correlated_twin"


def bind_correlated(tree: exp.Expr, registry: Registry) -> exp.Expr:
    """``tree`` (changed in place) with a twin ``IN (SELECT ...)`` beside each condition that
    compares a param of a subquery's provider table to an enclosing query's source."""
    for inner in list(tree.find_all(exp.Select)):
        where = inner.args.get("where")
        if where is None or inner.parent is None:
            continue
        own = _own_tables(inner, registry)
        if not own:
            continue
        conjuncts = list(split_and(where.this))
        given = _given_literals(conjuncts, own)
        for pred in conjuncts:
            if not isinstance(pred, exp.EQ) or pred.meta.get(TWIN):
                continue
            twin = _twin(pred, inner, own, given)
            if twin is not None:
                pred.meta[TWIN] = True
                twin.meta[TWIN] = twin.meta[SPECULATIVE] = True
                pred.replace(exp.and_(pred.copy(), twin))
    return tree


def _own_tables(scope: exp.Select, registry: Registry) -> dict[str, Resource]:
    """The provider tables and views among ``scope``'s own FROM items, by alias (lower)."""
    out: dict[str, Resource] = {}
    providers = registry.providers
    for item in from_items(scope):
        if not isinstance(item, exp.Table) or not (item.catalog and item.db):
            continue
        if item.catalog.lower() not in providers:
            continue
        try:
            resource = registry.resource(f"{item.catalog}.{item.db}.{item.name}".lower())
        except Exception:  # the planner names the unknown resource
            continue
        out[item.alias_or_name.lower()] = resource
    return out


def _given_literals(conjuncts: list[exp.Expr], own: dict[str, Resource]) -> set[tuple[int, str]]:
    """(id of the resource, column) of each ``= literal`` or ``IN (literals)`` among the
    subquery's conjuncts on its own tables."""
    out = set()
    for pred in conjuncts:
        col, _ = column_and_constants(pred)
        resource = _owned(col, own) if col is not None else None
        if col is not None and resource is not None:
            out.add((id(resource), col.name.lower()))
    return out


def _twin(
    pred: exp.EQ, inner: exp.Select, own: dict[str, Resource], given: set[tuple[int, str]]
) -> exp.In | None:
    for mine, theirs in ((pred.left, pred.right), (pred.right, pred.left)):
        if not isinstance(mine, exp.Column) or not isinstance(theirs, exp.Column):
            continue
        resource = _owned(mine, own)
        if resource is None or not theirs.table:
            continue
        if (id(resource), mine.name.lower()) in given:
            continue  # bound by the subquery's own literal
        if theirs.table.lower() in {i.alias_or_name.lower() for i in from_items(inner)}:
            continue  # a join in the subquery's own FROM: the planner's to bind
        if mine.name.lower() not in _bindable(resource):
            continue
        values = _values_query(theirs, inner)
        if values is None:
            continue
        if _is_text(resource, mine.name):
            # (a number compared with a text id: DuckDB casts in `=`, not in IN's list, and
            # the twin failed "Cannot compare values of type VARCHAR and BIGINT")
            picked = values.expressions[0]
            values.set("expressions", [exp.cast(picked, exp.DataType.build("VARCHAR"))])
        return exp.In(this=mine.copy(), query=exp.Subquery(this=values))
    return None


def _is_text(resource: Resource, name: str) -> bool:
    """Whether column or param ``name`` of ``resource`` holds text."""
    column = resource.column(name)
    if column is not None:
        return column.db_type == "VARCHAR"
    return text_param(resource, name)


def _owned(col: exp.Column, own: dict[str, Resource]) -> Resource | None:
    """The resource of the subquery's provider table ``col`` reads (unqualified: the only one)."""
    if col.table:
        return own.get(col.table.lower())
    return next(iter(own.values())) if len(own) == 1 else None


def _bindable(resource: Resource) -> set[str]:
    """The names a condition binds: a resource's params, every column of a view."""
    if resource.kind == "view":
        return {c.name.lower() for c in resource.columns}
    return param_names(resource)


def _values_query(outer_col: exp.Column, inner: exp.Select) -> exp.Select | None:
    """``SELECT <alias>.<col> FROM <the source> WHERE <its query's conditions on it alone>``
    for the enclosing query's source that ``outer_col`` names; None when there is none that
    can be read on its own."""
    alias = outer_col.table.lower()
    scope = inner.parent
    while scope is not None:
        if isinstance(scope, exp.Select):
            named = [i for i in from_items(scope) if i.alias_or_name.lower() == alias]
            if named:
                item = named[0]
                if len(named) > 1 or not _stands_alone(item) or _shadowed(item, inner, scope):
                    return None
                query = exp.Select(
                    expressions=[exp.column(outer_col.name, table=outer_col.table)],
                    from_=exp.From(this=item.copy()),
                )
                alone = [p.copy() for p in _conditions_on(scope, alias)]
                if alone:
                    query.set("where", exp.Where(this=exp.and_(*alone)))
                return query
        scope = scope.parent
    return None


def _shadowed(item: exp.Expr, inner: exp.Select, scope: exp.Expr) -> bool:
    """Whether a table ``item`` reads is named, where the twin sits, by a CTE of the subquery
    (or of a query between it and ``scope``): the copy would read that CTE, not the outer
    source (``EXISTS (WITH c AS (...) SELECT ... WHERE h.projectsId = c.p)``)."""
    read = {t.name.lower() for t in item.find_all(exp.Table) if not t.args.get("db")}
    if isinstance(item, exp.Table) and not item.args.get("db"):
        read.add(item.name.lower())
    node: exp.Expr | None = inner
    while node is not None and node is not scope:
        with_ = node.args.get("with_")
        if isinstance(with_, exp.With) and read & {
            c.alias_or_name.lower() for c in with_.expressions
        }:
            return True
        node = node.parent
    return False


def _stands_alone(item: exp.Expr) -> bool:
    """Whether a FROM item can be read outside its query: a table (a local one, a CTE's, a
    provider table, a view) or a VALUES list, or a subquery that reads no other source."""
    if isinstance(item, exp.Values):
        return True
    if isinstance(item, exp.Table):
        return isinstance(item.this, exp.Identifier)  # not a table function's call
    if isinstance(item, exp.Subquery) and isinstance(item.this, exp.Query):
        named = {t.alias_or_name.lower() for t in item.find_all(exp.Table)}
        named |= {s.alias_or_name.lower() for s in item.find_all(exp.Subquery, exp.Values)}
        named |= {c.alias_or_name.lower() for c in item.find_all(exp.CTE)}
        return all(c.table.lower() in named for c in item.find_all(exp.Column) if c.table)
    return False


def _conditions_on(scope: exp.Select, alias: str) -> list[exp.Expr]:
    """The conjuncts of ``scope``'s WHERE that read only source ``alias`` (every column
    qualified with it, no subquery, nothing that changes between evaluations)."""
    where = scope.args.get("where")
    if where is None:
        return []
    out = []
    for pred in split_and(where.this):
        columns = list(pred.find_all(exp.Column))
        if not columns or any(c.table.lower() != alias for c in columns):
            continue
        if steady(pred):
            out.append(pred)
    return out


__all__ = ["TWIN", "bind_correlated"]
