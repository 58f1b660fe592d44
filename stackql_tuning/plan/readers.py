"""The conditions that the queries reading a provider table's rows put on its params.

``WITH x AS (SELECT * FROM t) SELECT ... FROM x WHERE region = 'a'`` constrains t's region,
which the CTE's own scope leaves unbound: the config default stood in, and the outer filter
then dropped every row. The planner asks this module which params of a table a query around
it constrains, so that defaults do not stand in for them (and a view's optional branch that
needs one is not skipped in silence).

The queries that read a SELECT's rows are the one whose FROM (or a join) holds it as a
subquery, and every query that names it as a CTE: a CTE read by another CTE is read by
the queries that read that one, and so on. At each step a param keeps a name only where the
SELECT projects it: ``region AS r`` (or any expression of it, ``upper(region) AS r``) is
``r`` above; ``provider AS region`` is not the param. A star passes every name. A condition
counts when it is a conjunct of the reader's WHERE, of an ON that restricts the source's rows
(not the ON of an outer join that keeps them all), or of its HAVING or QUALIFY; or a join's
USING of the name. A column counts when it is qualified by the source, or unqualified and no
other source of the reader is known to have it; a correlated subquery's column qualified by
the source counts as well. The query of an IN, EXISTS or scalar subquery does not give its
rows to a FROM: nothing above it sees its columns. A NULL test (``region IS NULL``) does not
count once an outer join on the way up pads the rows (a FULL or LEFT join adds rows with the
param NULL): it then asks which rows found no match, not which of the table's rows to read,
so it leaves the table to its defaults as an unconstrained one. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from stackql_tuning.plan.bindings import (
    TableRef,
    conjuncts,
    from_items,
    group_filters,
    is_null_test,
    known_columns,
    owner,
    padded,
    param_names,
    within,
)


def outer_conditions(ref: TableRef, refs: list[TableRef]) -> Iterator[tuple[str, exp.Expr]]:
    """(param, condition) for each condition of a query that reads ``ref``'s rows (at any
    distance) on one of its params (lower-case)."""
    if not isinstance(ref.scope, exp.Select):
        return
    params = param_names(ref.resource)
    visible = {p: p for p in params}
    seen: set[int] = set()
    # (a query, the names the params have in it, whether an outer join below padded its rows)
    stack: list[tuple[exp.Select, dict[str, str], bool]] = [(ref.scope, visible, False)]
    while stack:
        current, names, was_padded = stack.pop()
        if id(current) in seen:
            continue  # (WITH RECURSIVE reads itself)
        seen.add(id(current))
        above = _projected(current, names, ref, refs)
        if not above:
            continue
        for reader, source in _readers(current):
            pads = was_padded or padded(source)
            yield from _conditions(reader, source, above, refs, pads)
            stack.append((reader, above, pads))


def _readers(select: exp.Select) -> list[tuple[exp.Select, exp.Expr]]:
    """(reader, source) for each query that reads ``select``'s rows directly: ``source`` is
    the item of the reader's FROM that gives them (the subquery, or the CTE's mention)."""
    node: exp.Expr | None = select.parent
    child: exp.Expr = select
    while isinstance(node, exp.Subquery | exp.SetOperation | exp.Paren):
        child, node = node, node.parent
    if isinstance(node, exp.From | exp.Join):
        if isinstance(node, exp.Join) and (node.kind or "").upper() in ("SEMI", "ANTI"):
            return []  # an IN (SELECT ...) made a join: its columns stay inside it
        reader = node.parent
        return [(reader, child)] if isinstance(reader, exp.Select) else []
    if not isinstance(node, exp.CTE):
        return []  # an IN, EXISTS or scalar subquery, a set operation's top, DML...
    name = node.alias_or_name.lower()
    with_ = node.parent
    holder = with_.parent if with_ is not None else None
    if holder is None:
        return []
    out: list[tuple[exp.Select, exp.Expr]] = []
    for table in holder.find_all(exp.Table):
        if table.name.lower() != name or table.args.get("db") or within(table, node):
            continue
        if not isinstance(table.parent, exp.From | exp.Join):
            continue
        reader = table.parent.parent
        if isinstance(reader, exp.Select) and _sees_cte(reader, node):
            out.append((reader, table))
    return out


def _sees_cte(reader: exp.Select, cte: exp.CTE) -> bool:
    """Whether the CTE a mention in ``reader`` names is ``cte`` (not one of the same name
    that a nearer WITH defines)."""
    node: exp.Expr | None = reader
    name = cte.alias_or_name.lower()
    while node is not None:
        with_ = node.args.get("with_")
        if isinstance(with_, exp.With):
            for other in with_.expressions:
                if other.alias_or_name.lower() == name:
                    return other is cte
        node = node.parent
    return False


def _projected(
    select: exp.Select, names: dict[str, str], ref: TableRef, refs: list[TableRef]
) -> dict[str, str]:
    """The names (lower-case) under which the readers of ``select`` see the params that
    ``names`` maps ``select``'s own columns to."""
    own = [p.alias_or_name for p in select.expressions]
    outputs = _output_names(select) or own
    out: dict[str, str] = {}
    for i, projection in enumerate(select.expressions):
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            out.update(names)
            continue
        value = projection.this if isinstance(projection, exp.Alias) else projection
        for col in value.find_all(exp.Column):
            param = names.get(col.name.lower())
            if param is None:
                continue
            if select is ref.scope and owner(col, refs, select) is not ref:
                continue
            name = outputs[i] if i < len(outputs) else own[i]
            out[name.lower()] = param
            break
    return out


def _output_names(select: exp.Select) -> list[str] | None:
    """The column names of a set operation's rows (its leftmost SELECT's) when ``select`` is
    one of its branches; None when it is not (or they are not known: a star)."""
    node: exp.Expr = select
    top: exp.SetOperation | None = None
    while isinstance(node.parent, exp.SetOperation | exp.Paren):
        node = node.parent
        if isinstance(node, exp.SetOperation):
            top = node
    if top is None:
        return None
    left: exp.Expr = top
    while isinstance(left, exp.SetOperation | exp.Subquery | exp.Paren):
        left = left.this
    if not isinstance(left, exp.Select) or any(isinstance(p, exp.Star) for p in left.expressions):
        return None
    return [p.alias_or_name for p in left.expressions]


def _conditions(
    reader: exp.Select,
    source: exp.Expr,
    names: dict[str, str],
    refs: list[TableRef],
    pads: bool,
) -> Iterator[tuple[str, exp.Expr]]:
    alias = source.alias_or_name.lower()
    for pred in [*conjuncts(reader, source), *group_filters(reader)]:
        if pads and is_null_test(pred):
            continue
        for col in pred.find_all(exp.Column):
            param = names.get(col.name.lower())
            if param is None:
                continue
            nested = col.find_ancestor(exp.Select) is not reader
            if col.table:
                if col.table.lower() == alias and not (nested and _shadowed(col, reader, alias)):
                    yield param, pred
            elif (
                not nested
                and owner(col, refs, reader) is None
                and not _another_has(reader, source, col.name.lower())
            ):
                yield param, pred
    for join in reader.args.get("joins") or []:
        for ident in join.args.get("using") or []:
            param = names.get(ident.name.lower())
            if param is not None:
                yield param, join


def _shadowed(col: exp.Column, reader: exp.Select, alias: str) -> bool:
    """Whether a query between ``col`` and ``reader`` has a source of its own named ``alias``
    (the column is that one's, not the reader's source's)."""
    node = col.find_ancestor(exp.Select)
    while node is not None and node is not reader:
        if any((item.alias_or_name or "").lower() == alias for item in from_items(node)):
            return True
        node = node.find_ancestor(exp.Select)
    return False


def _another_has(reader: exp.Select, source: exp.Expr, name: str) -> bool:
    """Whether another source of ``reader`` is known to have a column ``name``: a VALUES
    list's or a subquery's named columns (an unqualified column is then that one's, or
    ambiguous: DuckDB's error)."""
    return any(
        name in (known_columns(item) or ()) for item in from_items(reader) if item is not source
    )
