"""Which columns of a provider table a statement reads (for lazy hydration, and for loading
only the fields a statement reads).

Conservative by design: when in doubt a column counts as used, so hydration can only be done
when needed, never skipped when needed, and no field the statement reads is left unloaded.
``None`` means "all columns": ``*``, ``alias.*``, the whole row (``to_json(j)``), and DuckDB's
column selectors ``COLUMNS(...)`` and ``#n`` anywhere in the statement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stackql_tuning.plan.bindings import (
    STAR_PATTERNS,
    first_select,
    from_items,
    provider_relation,
    star_in,
    withs,
)

if TYPE_CHECKING:
    from stackql_tuning.plan.bindings import TableRef
    from stackql_tuning.registry.model import Method, Resource


def table_column_names(resource: Resource) -> set[str]:
    """The lower-cased names of every column of ``resource``'s table: its fields, then its
    param columns."""
    return {name.lower() for name, _ in provider_relation(resource)}


def identity_fields(resource: Resource, get: Method) -> tuple[str, ...] | None:
    """The item fields a list reply needs for ``run.query.identity_params`` to build each hydration
    get: the identity column and the get's required params that are columns (None: unknown,
    ask for every field)."""
    names = [str(resource.identity.get("column") or ""), *get.required_params]
    fields = tuple(dict.fromkeys(n for n in names if n and resource.column(n) is not None))
    return fields or None


def used_columns(tree: exp.Expr, ref: TableRef, refs: list[TableRef]) -> set[str] | None:
    """The lower-cased names of the columns of ``ref``'s table that ``tree`` reads (its param
    columns among them), or None for all of them."""
    names = table_column_names(ref.resource)
    used: set[str] = set()
    alias = ref.alias.lower()
    same_scope = [r for r in refs if r.scope is ref.scope]
    if tree.find(exp.Columns, exp.PositionalColumn) is not None:
        return None
    for node in tree.find_all(exp.Star, exp.Column):
        if isinstance(node, exp.Star):
            if isinstance(node.parent, exp.Column):
                continue  # alias.* is handled as a Column below
            top: exp.Expr = node  # `* LIKE 'Best%'`, `* NOT GLOB ...`: the matching columns
            while isinstance(top.parent, (*STAR_PATTERNS, exp.Not)):
                top = top.parent
            if top.parent is ref.scope and star_in(top) is node:
                return None
            continue
        col = node
        assert isinstance(col, exp.Column)
        if isinstance(col.this, exp.Star):
            if col.table.lower() == alias and col.find_ancestor(exp.Select) is ref.scope:
                return None
            continue
        # a struct field (``studySpec.metrics``, ``j.studySpec.algorithm``) reads the column
        # that holds it, which sqlglot parses as a table or schema name: count it as used
        used.update(part.lower() for part in (col.table, col.db) if part.lower() in names)
        name = col.name.lower()
        if not col.table and name == alias and name not in names:
            return None  # the whole row (``to_json(j)``, ``struct_pack(j)``): every column
        if name not in names:
            continue
        if col.table:
            source = _source_of(col)
            if source is not None:
                if _reads_through(source, ref):
                    used.add(name)
            elif col.table.lower() == alias or not _names_another(col, same_scope, refs):
                used.add(name)  # qualified by what no FROM names (a struct path?): be safe
        elif _reaches(col, name, ref):
            used.add(name)
    return used


def _reaches(col: exp.Column, name: str, ref: TableRef) -> bool:
    """Whether unqualified ``col`` (named ``name``) may be a column of ``ref``'s table: a FROM
    item of its SELECT, or of one around it (a correlated reference), may give it. The
    ``in_subquery_1(value)`` that an ``IN (SELECT HyperParameterTuningJobName FROM <the
    same table>)`` becomes gives only ``value``: the outer SELECT's ``BestTrainingJob`` made
    the subquery's own mention get each of its rows."""
    scope = col.find_ancestor(exp.Select)
    if scope is None:
        return True  # a DELETE's or an UPDATE's: its one table
    while scope is not None:
        if any(_may_give(item, name, ref) for item in from_items(scope)):
            return True
        scope = scope.find_ancestor(exp.Select)
    return False


def _may_give(item: exp.Expr, name: str, ref: TableRef) -> bool:
    """Whether FROM item ``item`` may give a column ``name`` that is ``ref``'s: it is the
    mention, or a subquery, view or CTE that reads it and whose columns (its alias's list,
    else its first SELECT's outputs) include ``name`` or a star."""
    if item is ref.node:
        return True
    body: exp.Expr | None = item
    if isinstance(item, exp.Table):
        body = _cte_named(item)
    if body is None or not _holds_through(body, ref.node):
        return False
    for named in (item, body):
        alias = named.args.get("alias")
        if isinstance(alias, exp.TableAlias) and name in {c.name.lower() for c in alias.columns}:
            return True  # (a list names the first columns: the others keep their names)
    select = first_select(body.this) if isinstance(body, (exp.Subquery, exp.CTE)) else None
    if select is None:
        return True  # a VALUES list, a LATERAL join...: be safe
    return any(_is_star(out) or out.alias_or_name.lower() == name for out in select.expressions)


def _is_star(projection: exp.Expr) -> bool:
    """Whether a projection is ``*`` or ``alias.*`` (with EXCLUDE, REPLACE, LIKE...)."""
    return star_in(projection) is not None


def _holds_through(tree: exp.Expr, node: exp.Table, seen: set[int] | None = None) -> bool:
    """Whether ``tree`` reads ``node``: holds it, or reads a CTE that does (in turn)."""
    if _holds(tree, node):
        return True
    seen = seen if seen is not None else {id(tree)}
    for table in tree.find_all(exp.Table):
        cte = _cte_named(table)
        if cte is not None and id(cte) not in seen:
            seen.add(id(cte))
            if _holds_through(cte, node, seen):
                return True
    return False


def _names_another(col: exp.Column, same_scope: list[TableRef], refs: list[TableRef]) -> bool:
    """Whether ``col``'s qualifier is another provider table's alias: one of the same scope,
    or the mention of that alias whose scope is the SELECT the column is in."""
    qualifier = col.table.lower()
    if any(r.alias.lower() == qualifier for r in same_scope):
        return True
    scope = col.find_ancestor(exp.Select)
    return any(r.alias.lower() == qualifier and r.scope is scope for r in refs)


def _source_of(col: exp.Column) -> exp.Expr | None:
    """The FROM item that ``col``'s qualifier names: in the SELECT the column is in, else in
    the nearest enclosing one that has it (a correlated reference); None when none does."""
    qualifier = col.table.lower()
    scope = col.find_ancestor(exp.Select)
    while scope is not None:
        for item in from_items(scope):
            if item.alias_or_name.lower() == qualifier:
                return item
        scope = scope.find_ancestor(exp.Select)
    return None


def _reads_through(source: exp.Expr, ref: TableRef) -> bool:
    """Whether a column of FROM item ``source`` may be a column of ``ref``'s table: the item
    is the mention itself, or a subquery, view or CTE that reads it. A column of another
    table (``u.BestTrainingJob`` of a view joined to ``x``; the user's ``j`` and a view's
    own ``j``) is not ``ref``'s: counted, it made ``x`` get every row again."""
    if source is ref.node:
        return True
    if isinstance(source, exp.Table):
        cte = _cte_named(source)
        return cte is not None and _holds_through(cte, ref.node)
    return _holds_through(source, ref.node)


def _cte_named(table: exp.Table) -> exp.CTE | None:
    """The CTE that a one-part table name refers to, looked up through the enclosing WITHs."""
    if table.args.get("db") or table.args.get("catalog"):
        return None
    name = table.name.lower()
    for with_ in withs(table):
        for cte in with_.expressions:
            if cte.alias_or_name.lower() == name:
                return cte  # type: ignore[no-any-return]
    return None


def _holds(tree: exp.Expr, node: exp.Table) -> bool:
    """Whether ``tree`` holds ``node`` where its columns may reach ``tree``'s rows: not in a
    condition's subquery (WHERE, HAVING, ON) nor on the right of a SEMI or ANTI join, which
    give the rows none (a view's ``SEMI JOIN (SELECT h.name FROM h ...)`` made ``h``
    describe every job for the view's ``BestTrainingJob``)."""
    if not any(t is node for t in tree.find_all(exp.Table)):
        return False
    child: exp.Expr = node
    parent = node.parent
    while parent is not None and child is not tree:
        if isinstance(parent, (exp.Where, exp.Having)):
            return False
        if isinstance(parent, exp.Join):
            if parent.args.get("on") is child:
                return False
            kind = (parent.kind or "").upper()
            if kind in ("SEMI", "ANTI") and parent.this is child:
                return False
        child, parent = parent, parent.parent
    return True
