"""Filter before hydrating: a list whose every row would be got again (a column only the get
returns) first keeps only the rows the statement can return, by its own conditions on the
list's columns and, for a SELECT over that table alone (the statement, a subquery, a CTE or a
view's branch, which ``plan.views`` rule 6 may give a LIMIT), its ORDER BY ... LIMIT. Then only
those rows are got: ``WHERE Strategy = 'Hyperband'`` reading ``BestTrainingJob`` made a
describe of each of the region's 31 jobs for 7 rows, ``ORDER BY CreationTime DESC LIMIT 3``
one of each for 3.

A condition used here stays in the SQL DuckDB runs, and it reads only what the list returns
(a value the get returns again), so results never change. Not for: a condition on another
table, on a column only the get returns, or with a subquery, a window or a function whose
value changes from one call to the next (``random()``); a slot shared by several mentions or
filled from another table's rows; a table that an outer join pads with NULLs (``WHERE
j.x IS NULL`` keeps the padded row of a match it would have removed). Pure.
"""

from __future__ import annotations

from sqlglot import exp

from stackql_tuning.plan.bindings import (
    alone_in,
    item_columns,
    names_an_output,
    output_columns,
    padded,
    steady,
    timeless,
)
from stackql_tuning.plan.limit import IsScalar, early_limit, mention_of
from stackql_tuning.plan.select import QueryPlan, Slot, carries


def apply_hydrate_first(plan: QueryPlan, is_scalar: IsScalar | None = None) -> None:
    """Fill ``slot.hydrate_where`` (and ``hydrate_order`` / ``hydrate_limit``) for every slot
    that hydrates; those without a condition to use are left to hydrate as listed.
    ``is_scalar``: as for :func:`plan.limit.early_limit`."""
    for slot in plan.slots:
        if slot.hydrate is None or slot.dependent or slot.scope is None or slot.skip:
            continue
        if len(slot.aliases) != 1:
            continue
        mention = mention_of(slot)
        if mention is None or padded(mention) or not slot.filters_first:
            continue  # the WHERE's `x IS NULL` would keep the padded row of a match it removed
        own = _own_columns(slot)
        slot.hydrate_where = [p for p in slot.residual if _evaluable(p, mention, own)]
        if len(slot.hydrate_where) == len(slot.residual):
            _order_and_limit(plan, slot, mention, own, is_scalar)
            _expand_limit(plan, slot, mention, is_scalar)


def _own_columns(slot: Slot) -> set[str]:
    """The (lower-case) columns a condition may read: those the list returns, and the
    params (the call's own values)."""
    listed = {
        c.name.lower() for c in slot.resource.columns if carries(slot.resource, slot.method, c.name)
    }
    return listed | {p.name.lower() for p in slot.resource.param_columns}


def _evaluable(pred: exp.Expr, mention: exp.Expr, own: set[str]) -> bool:
    """Whether ``pred`` reads only columns ``own`` of ``mention`` (a constant condition is
    DuckDB's, not the list's), and gives the same answer on the listed rows as on the got
    ones."""
    # the listed rows are filtered in a statement of their own: not by the clock (``now()``)
    if not steady(pred) or not timeless(pred) or any(True for _ in pred.find_all(exp.Table)):
        return False
    columns = item_columns(pred, mention)
    return columns is not None and all(c.name.lower() in own for c in columns)


def _order_and_limit(
    plan: QueryPlan, slot: Slot, mention: exp.Expr, own: set[str], is_scalar: IsScalar | None
) -> None:
    """For a SELECT over ``slot`` alone (the statement, or a subquery, a CTE or a view's
    branch: what is around it sees only its rows) whose every condition is in
    ``hydrate_where``: its LIMIT (plus OFFSET), and its ORDER BY when every key reads the
    list's own columns."""
    scope = alone_in(mention)
    if scope is None or scope is not slot.scope:
        return
    if scope is plan.tree and len(plan.slots) != 1:
        return  # another provider table in a subquery of the statement
    order = scope.args.get("order")
    bare = scope.copy()
    bare.set("order", None)
    if order is not None:
        outputs = output_columns(scope)
        for key in order.expressions:
            if not _evaluable(key.this, mention, own) or names_an_output(key.this, outputs):
                return
    # the checks of an early LIMIT, hydration and conditions aside (both are dealt with here)
    n = early_limit(_without_hydration(plan, bare, slot), is_scalar)
    if n is None:
        return
    slot.hydrate_limit = n
    slot.hydrate_order = [k.copy() for k in order.expressions] if order is not None else []


#: DuckDB's table functions that give a row per item of a JSON array (``json_tree`` recurses)
_PER_ITEM = frozenset({"json_each"})


def _expand_limit(
    plan: QueryPlan, slot: Slot, mention: exp.Expr, is_scalar: IsScalar | None
) -> None:
    """For a SELECT whose FROM is ``slot``'s mention and a row per item of one of its columns'
    arrays (``FROM jobs j, json_each(j.trials) t``: the trials view's branch) whose every
    condition is in ``hydrate_where``, with a LIMIT and nothing that needs more rows than it:
    that LIMIT (plus OFFSET) and the column, so that the kept rows are got until that many
    items have arrived. A got row gives every item of its array, and a window partitioned
    by the row's identity (the view's ``is_best``) sees all of them: the first items to
    arrive are a correct answer. Not with an ORDER BY, a QUALIFY, a condition on the items,
    or a window over several rows."""
    scope = slot.scope
    first = scope.args.get("from_") if isinstance(scope, exp.Select) else None
    if first is None or first.this is not mention or not isinstance(scope, exp.Select):
        return
    if scope is plan.tree and len(plan.slots) != 1:
        return  # another provider table in a subquery of the statement
    joins = scope.args.get("joins") or []
    if len(joins) != 1 or not _crosses(joins[0]) or scope.args.get("qualify") is not None:
        return
    column = _expanded_column(joins[0].this, mention, slot)
    if column is None:
        return
    bare = scope.copy()
    bare.set("joins", None)
    for window in list(bare.find_all(exp.Window)):
        if not _per_row(window, mention, slot):
            return
        window.replace(exp.null())  # it reads one got row's items, all of which arrive
    n = early_limit(_without_hydration(plan, bare, slot), is_scalar)
    if n is not None:
        slot.hydrate_expand = (n, column)


def _crosses(join: exp.Join) -> bool:
    """Whether ``join`` pairs every row with every row of its item (a comma or a CROSS
    JOIN: no condition, no outer side)."""
    if join.side or join.args.get("on") or join.args.get("using") or join.args.get("method"):
        return False
    return (join.kind or "").upper() in ("", "CROSS")


def _expanded_column(item: exp.Expr, mention: exp.Expr, slot: Slot) -> str | None:
    """The column of ``slot``'s table whose array ``item`` gives a row per item of
    (``json_each(j.trials)``, ``unnest(j.x)``), as the resource names it; else None."""
    if isinstance(item, exp.Unnest):
        args = item.expressions
    elif isinstance(item, exp.Table) and isinstance(item.this, exp.Anonymous):
        args = item.this.expressions if item.this.name.lower() in _PER_ITEM else []
    else:
        return None
    arg = args[0] if len(args) == 1 else None
    if isinstance(arg, exp.Cast) and isinstance(item, exp.Unnest):
        arg = arg.this  # unnest(CAST(j.trials AS JSON[])): the JSON array's items
    if not isinstance(arg, exp.Column) or item_columns(arg, mention) is None:
        return None
    column = slot.resource.column(arg.name)
    return column.name if column is not None else None


def _per_row(window: exp.Window, mention: exp.Expr, slot: Slot) -> bool:
    """Whether ``window`` is partitioned by what tells the got rows apart: the resource's
    identity (a name that holds its project and location), or every param of its get and
    every param the calls fan out over."""
    alias = mention.alias_or_name.lower()
    keys = {
        c.name.lower()
        for c in window.args.get("partition_by") or []
        if isinstance(c, exp.Column) and c.table.lower() == alias and not c.args.get("db")
    }
    ident = slot.resource.identity
    if ident.get("template") and str(ident.get("column") or "").lower() in keys:
        return True
    assert slot.hydrate is not None
    needed = {p.lower() for p in slot.hydrate.required_params}
    needed |= {p.lower() for p, values in slot.static.items() if len(values) > 1}
    return needed <= keys


def _without_hydration(plan: QueryPlan, tree: exp.Select, slot: Slot) -> QueryPlan:
    """A copy of ``plan`` as ``early_limit`` reads it: over ``tree``, its one slot neither
    hydrating nor filtered (its conditions are evaluated before the LIMIT is)."""
    from dataclasses import replace

    bare = replace(slot, hydrate=None, residual=[], scope=tree)
    return replace(plan, tree=tree, slots=[bare], bound=[b for b in plan.bound if b.slot is slot])
