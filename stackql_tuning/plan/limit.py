"""Early LIMIT: stop paging once enough rows have arrived, when that cannot change the answer.

Only for a query (or a subquery, CTE or view branch) over exactly one provider table with no
ORDER BY, GROUP BY, DISTINCT, aggregate, window function, join, set-returning function
(``unnest``) or predicate that DuckDB would still filter on: then the first ``LIMIT +
OFFSET`` rows that arrive are a correct answer. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from stackql_tuning.plan.bindings import alone_in, from_items, limit_rows, steady
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
    """``LIMIT`` plus ``OFFSET`` when the first that many rows to arrive are a correct answer,
    else None. ``is_scalar``: asked about functions sqlglot does not know (none: such a
    function is taken for an aggregate)."""
    if len(plan.slots) != 1:
        return None
    slot = plan.slots[0]
    tree = plan.tree
    if not isinstance(tree, exp.Select) or slot.scope is not tree:
        return None
    # a condition that reads no row (a view's `kind = 'hyperparameter'` in its branch that
    # projects 'hyperparameter') keeps all rows or none: the first ones are as good
    if any(p.find(exp.Column) or not steady(p) for p in slot.residual):
        return None
    if slot.hydrate is not None or slot.dependent:
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
    return n


def apply_early_limit(plan: QueryPlan, is_scalar: IsScalar | None = None) -> None:
    """Set ``slot.limit`` for the statement's one table, or for a table alone in a subquery,
    a CTE or a view's branch with a LIMIT of its own (``views`` rule 6 gives a view's
    branches the LIMIT of a query over it): what is around that SELECT sees only its rows."""
    for slot in plan.slots:
        if slot.scope is plan.tree:
            n = early_limit(plan, is_scalar)
        elif slot.scope is not None and _alone_in(slot):
            bound = [b for b in plan.bound if b.slot is slot]
            n = early_limit(replace(plan, tree=slot.scope, slots=[slot], bound=bound), is_scalar)
        else:
            continue
        if n is not None:
            slot.limit = n


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
