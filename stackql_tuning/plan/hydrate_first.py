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


def _without_hydration(plan: QueryPlan, tree: exp.Select, slot: Slot) -> QueryPlan:
    """A copy of ``plan`` as ``early_limit`` reads it: over ``tree``, its one slot neither
    hydrating nor filtered (its conditions are evaluated before the LIMIT is)."""
    from dataclasses import replace

    bare = replace(slot, hydrate=None, residual=[], scope=tree)
    return replace(plan, tree=tree, slots=[bare], bound=[b for b in plan.bound if b.slot is slot])
