"""Early LIMIT: stop paging once enough rows have arrived, when that cannot change the answer.

Only for a query over exactly one provider table with no ORDER BY, GROUP BY, DISTINCT,
aggregate, window function, join, set-returning function (``unnest``) or predicate that
DuckDB would still filter on: then the first
``LIMIT + OFFSET`` rows that arrive are a correct answer. Pure.
"""

from __future__ import annotations

from sqlglot import exp

from stackql_tuning.plan.select import QueryPlan

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
)
#: DuckDB's other set-returning functions, which sqlglot keeps as plain calls
_SET_RETURNING = frozenset({"unnest", "generate_subscripts", "json_each", "json_tree"})


def early_limit(plan: QueryPlan) -> int | None:
    if len(plan.slots) != 1:
        return None
    slot = plan.slots[0]
    tree = plan.tree
    if not isinstance(tree, exp.Select) or slot.scope is not tree or slot.residual:
        return None
    if slot.hydrate is not None or slot.dependent:
        return None
    if any(not set(slot.static.get(b.param, ())) <= set(b.values) for b in plan.bound):
        return None  # a param bound to values some of whose rows a conjunct still drops
    limit = tree.args.get("limit")
    if limit is None or not isinstance(limit.expression, exp.Literal):
        return None
    if any(True for _ in tree.find_all(*_BLOCKERS)):
        return None
    if any(f.name.lower() in _SET_RETURNING for f in tree.find_all(exp.Anonymous)):
        return None
    if any(True for _ in tree.find_all(exp.Subquery)):
        return None
    try:
        n = int(limit.expression.this)
    except ValueError:
        return None
    offset = tree.args.get("offset")
    if offset is not None:
        if not isinstance(offset.expression, exp.Literal):
            return None
        n += int(offset.expression.this)
    return n


def apply_early_limit(plan: QueryPlan) -> None:
    n = early_limit(plan)
    if n is not None:
        plan.slots[0].limit = n
