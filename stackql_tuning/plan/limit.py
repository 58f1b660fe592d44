"""Early LIMIT: stop paging once enough rows have arrived, when that cannot change the answer.

Only for a query (or a subquery, CTE or view branch) over exactly one provider table with no
ORDER BY, GROUP BY, DISTINCT, aggregate, window function, join or set-returning function
(``unnest``): then the first ``LIMIT + OFFSET`` rows that arrive and pass the WHERE are a
correct answer. A WHERE condition on the table's own columns counts: only the rows that pass
it count toward the LIMIT (``slot.limit_where``, evaluated by DuckDB on each page as it
arrives), whether the API filtered on it too or not (``WHERE HyperParameterTuningJobStatus =
'InProgress' LIMIT 5`` listed every page of the region's jobs). A condition that reads
another table, or whose value changes from one call to the next, leaves the LIMIT to DuckDB.
Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from stackql_tuning.plan.bindings import (
    alone_in,
    from_items,
    item_columns,
    limit_rows,
    split_and,
    steady,
)
from stackql_tuning.plan.select import QueryPlan, Slot

#: whether a function that sqlglot does not know (``histogram``, ``fsum``) is a plain scalar
#: one: DuckDB's aggregates and macros among them see every row, not the first ones
IsScalar = Callable[[str], bool]

_BLOCKERS = (
    exp.AggFunc,
    exp.Window,
    exp.Join,
    exp.Order,
    exp.Group,
    exp.Distinct,
    exp.Having,
    # set-returning functions: a row may give no rows (``unnest([])``) or several
    exp.Explode,
    exp.Unnest,
    exp.Lateral,
    # a sample of the first rows to arrive is not a sample of the table
    exp.TableSample,
)
#: DuckDB's other set-returning functions, which sqlglot keeps as plain calls
_SET_RETURNING = frozenset({"unnest", "generate_subscripts", "json_each", "json_tree"})


def early_limit(plan: QueryPlan, is_scalar: IsScalar | None = None) -> int | None:
    """``LIMIT`` plus ``OFFSET`` when the first that many rows to arrive (that pass
    :func:`counted_conditions`) are a correct answer, else None. ``is_scalar``: asked about
    functions sqlglot does not know (none: such a function is taken for an aggregate)."""
    found = _early_limit(plan, is_scalar)
    return None if found is None else found[0]


def _early_limit(plan: QueryPlan, is_scalar: IsScalar | None) -> tuple[int, list[exp.Expr]] | None:
    """The early LIMIT and the conditions a row passes to count toward it, or None."""
    if len(plan.slots) != 1:
        return None
    slot = plan.slots[0]
    tree = plan.tree
    if not isinstance(tree, exp.Select) or slot.scope is not tree:
        return None
    if slot.hydrate is not None or slot.dependent:
        return None
    conditions = counted_conditions(plan, slot)
    if conditions is None:
        return None
    if any(not set(slot.static.get(b.param, ())) <= set(b.values) for b in plan.bound):
        return None  # a param bound to values some of whose rows a conjunct still drops
    n = limit_rows(tree)
    if n is None:
        return None
    if any(True for _ in tree.find_all(*_BLOCKERS)):
        return None
    unknown = {f.name.lower() for f in tree.find_all(exp.Anonymous)}
    if unknown & _SET_RETURNING:
        return None
    if unknown and (is_scalar is None or not all(is_scalar(name) for name in unknown)):
        return None  # histogram(x) LIMIT 1 counted the first page's rows only
    if any(True for _ in tree.find_all(exp.Subquery)):
        return None
    return n, conditions


def counted_conditions(plan: QueryPlan, slot: Slot) -> list[exp.Expr] | None:
    """The WHERE conditions of ``slot``'s SELECT that a row must pass to count toward its early
    LIMIT, unqualified (DuckDB evaluates them over each page's rows); None when one cannot be
    evaluated so: it reads a column that is not the table's own (another table's, an outer
    query's, a struct path sqlglot read as a qualified name), or its value changes from one
    evaluation to the next. A condition that reads no column (a view's `kind =
    'hyperparameter'` in its branch that projects 'hyperparameter') keeps every row or none,
    and one that bound a param to values every row has (``region = 'us-east-1'``) keeps every
    row: neither is counted."""
    where = slot.scope.args.get("where") if slot.scope is not None else None
    if where is None:
        return []
    bound = {id(b.pred) for b in plan.bound if b.slot is slot}
    mention = mention_of(slot)
    own = {c.name.lower() for c in slot.resource.columns}
    own |= {p.name.lower() for p in slot.resource.param_columns}
    out: list[exp.Expr] = []
    for pred in split_and(where.this):
        if id(pred) in bound:
            continue  # its values are those of every row (``early_limit`` checks them)
        if not steady(pred) or any(True for _ in pred.find_all(exp.Table)):
            return None
        if pred.find(exp.Column) is None:
            continue
        columns = item_columns(pred, mention) if mention is not None else None
        if columns is None or any(c.name.lower() not in own for c in columns):
            return None
        copy = pred.copy()
        for c in copy.find_all(exp.Column):
            c.set("table", None)
        out.append(copy)
    return out


def apply_early_limit(plan: QueryPlan, is_scalar: IsScalar | None = None) -> None:
    """Set ``slot.limit`` for the statement's one table, or for a table alone in a subquery,
    a CTE or a view's branch with a LIMIT of its own (``views`` rule 6 gives a view's
    branches the LIMIT of a query over it): what is around that SELECT sees only its rows."""
    for slot in plan.slots:
        if slot.scope is plan.tree:
            found = _early_limit(plan, is_scalar)
        elif slot.scope is not None and _alone_in(slot):
            bound = [b for b in plan.bound if b.slot is slot]
            one = replace(plan, tree=slot.scope, slots=[slot], bound=bound)
            found = _early_limit(one, is_scalar)
        else:
            continue
        if found is not None:
            slot.limit, slot.limit_where = found


def _alone_in(slot: Slot) -> bool:
    """Whether ``slot``'s one mention is the only FROM item of its SELECT."""
    mention = mention_of(slot)
    return mention is not None and alone_in(mention) is slot.scope


def mention_of(slot: Slot) -> exp.Expr | None:
    """The FROM item of ``slot``'s scope that is its one mention (None: not one)."""
    if not isinstance(slot.scope, exp.Select) or len(slot.aliases) != 1:
        return None
    alias = slot.aliases[0].lower()
    return next((i for i in from_items(slot.scope) if i.alias_or_name.lower() == alias), None)
