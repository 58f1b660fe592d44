"""Early LIMIT: stop paging once enough rows have arrived, when that cannot change the answer.

Only for a query (or a subquery, CTE or view branch) over exactly one provider table with no
ORDER BY, GROUP BY, DISTINCT, aggregate, window function, join or set-returning function
(``unnest``): then the first ``LIMIT + OFFSET`` rows that arrive and pass the WHERE are a
correct answer. A WHERE condition on the table's own columns counts: only the rows that pass
it count toward the LIMIT (``slot.limit_where``, evaluated by DuckDB on each page as it
arrives), whether the API filtered on it too or not (``WHERE HyperParameterTuningJobStatus =
'InProgress' LIMIT 5`` listed every page of the region's jobs). A condition that reads
another table, or whose value changes from one call to the next, leaves the LIMIT to DuckDB.

Also for the statement's inner join of a provider table to the provider table whose rows
give its params (a tuning job's training jobs): each row of the child that passes its own
conditions meets its parent's row in the answer, so the child's calls stop once that many
have arrived (``_dependent_limit``). Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlglot import exp

from stackql_tuning.plan.bindings import (
    alone_in,
    column_types,
    conjuncts,
    from_items,
    item_columns,
    limit_rows,
    split_and,
    steady,
    timeless,
    unqualified,
)
from stackql_tuning.plan.columns import table_column_names
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
#: the same over a parent-child join (``_dependent_limit`` checks the join itself)
_JOINED_BLOCKERS = tuple(b for b in _BLOCKERS if b is not exp.Join)
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
    n = _rows_needed(plan, tree, is_scalar, _BLOCKERS)
    return None if n is None else (n, conditions)


def _rows_needed(
    plan: QueryPlan, tree: exp.Select, is_scalar: IsScalar | None, blockers: tuple[type, ...]
) -> int | None:
    """``tree``'s LIMIT plus OFFSET when nothing in it needs more rows than those (no
    ``blockers``, no subquery, no function that may see every row), else None."""
    if any(not set(b.slot.static.get(b.param, ())) <= set(b.values) for b in plan.bound):
        return None  # a param bound to values some of whose rows a conjunct still drops
    n = limit_rows(tree)
    if n is None:
        return None
    if any(True for _ in tree.find_all(*blockers)):
        return None
    unknown = {f.name.lower() for f in tree.find_all(exp.Anonymous)}
    if unknown & _SET_RETURNING:
        return None
    if unknown and (is_scalar is None or not all(is_scalar(name) for name in unknown)):
        return None  # histogram(x) LIMIT 1 counted the first page's rows only
    if any(True for _ in tree.find_all(exp.Subquery)):
        return None
    return n


def _dependent_limit(
    plan: QueryPlan, slot: Slot, is_scalar: IsScalar | None
) -> tuple[int, list[exp.Expr]] | None:
    """For the statement's inner join of a provider table (``slot``) to the provider table
    whose rows give its params (``h JOIN t ON t.HyperParameterTuningJobName =
    h.HyperParameterTuningJobName AND t.region = h.region ... LIMIT 5``): the LIMIT, and the
    conditions on ``slot``'s own columns that its rows must pass to count toward it. Each row
    of ``slot`` that passes them then meets at least one row of the other table in the
    answer: the row its call's values came from. So once that many have arrived, the
    remaining calls are not needed (every one was made).

    None unless every other condition is one that row passes too: the join's equalities of
    ``slot``'s params to the columns they were read from (of the same type: a value compared
    as another type may not equal itself), the other table's own conditions (the values were
    read through them, ``source_filters``), and the literal bindings of both tables."""
    tree = plan.tree
    if not isinstance(tree, exp.Select) or slot.scope is not tree or slot.hydrate is not None:
        return None
    sources = {src for src, _ in slot.dependent.values()}
    parent = next((s for s in plan.slots if s.name in sources), None)
    if len(sources) != 1 or parent is None or len(plan.slots) != 2 or parent.scope is not tree:
        return None
    mention, source = mention_of(slot), mention_of(parent)
    if mention is None or source is None or len(from_items(tree)) != 2:
        return None
    joins = tree.args.get("joins") or []
    if len(joins) != 1 or not _inner(joins[0]):
        return None
    # a value compared as another type may not equal itself
    params = {p.name.lower(): p.db_type for p in slot.resource.param_columns}
    theirs = column_types(parent.resource)
    for param, (_, col) in slot.dependent.items():
        if params.get(param.lower()) is None or params[param.lower()] != theirs.get(col.lower()):
            return None
    bound = {id(b.pred) for b in plan.bound}
    filters = {f.sql() for f in slot.source_filters.get(parent.name, [])}
    counted: list[exp.Expr] = []
    for pred in conjuncts(tree):
        if id(pred) in bound or (steady(pred) and pred.find(exp.Column) is None):
            continue
        if not _countable(pred):
            return None
        if _binds(pred, slot, mention, source):
            continue
        if item_columns(pred, source) is not None:
            if unqualified(pred).sql() not in filters:
                return None  # not a condition its values were read through
            continue
        if not _reads_own(pred, slot, mention):
            return None
        counted.append(unqualified(pred))
    n = _rows_needed(plan, tree, is_scalar, _JOINED_BLOCKERS)
    return None if n is None else (n, counted)


def _inner(join: exp.Join) -> bool:
    """Whether ``join`` is a plain inner (or cross) join with its conditions in an ON."""
    if join.side or join.args.get("using") or join.args.get("method"):
        return False
    return (join.kind or "").upper() in ("", "INNER", "CROSS")


def _binds(pred: exp.Expr, slot: Slot, mention: exp.Expr, source: exp.Expr) -> bool:
    """Whether ``pred`` is ``<slot's param> = <the source column it is read from>``."""
    if not isinstance(pred, exp.EQ):
        return False
    for mine, theirs in ((pred.left, pred.right), (pred.right, pred.left)):
        if not isinstance(mine, exp.Column) or not isinstance(theirs, exp.Column):
            continue
        if item_columns(mine, mention) is None or item_columns(theirs, source) is None:
            continue
        for param, (_, col) in slot.dependent.items():
            if mine.name.lower() == param.lower() and theirs.name.lower() == col.lower():
                return True
    return False


def _countable(pred: exp.Expr) -> bool:
    """Whether ``pred`` gives a row the same answer on its page as in the statement's query:
    no subquery, no ``random()``, no clock (``now()``: the page is counted earlier)."""
    return steady(pred) and timeless(pred) and not any(True for _ in pred.find_all(exp.Table))


def _reads_own(pred: exp.Expr, slot: Slot, mention: exp.Expr | None) -> bool:
    """Whether every column ``pred`` reads is one of ``slot``'s table, at its ``mention``
    (not another table's, an outer query's, or a struct path read as a qualified name)."""
    columns = item_columns(pred, mention) if mention is not None else None
    own = table_column_names(slot.resource)
    return columns is not None and all(c.name.lower() in own for c in columns)


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
    out: list[exp.Expr] = []
    for pred in split_and(where.this):
        if id(pred) in bound:
            continue  # its values are those of every row (``early_limit`` checks them)
        if not _countable(pred):
            return None
        if pred.find(exp.Column) is None:
            continue
        if not _reads_own(pred, slot, mention):
            return None
        out.append(unqualified(pred))
    return out


def apply_early_limit(plan: QueryPlan, is_scalar: IsScalar | None = None) -> None:
    """Set ``slot.limit`` for the statement's one table, or for a table alone in a subquery,
    a CTE or a view's branch with a LIMIT of its own (``views`` rule 6 gives a view's
    branches the LIMIT of a query over it): what is around that SELECT sees only its rows;
    and for the child of a parent-child join, in the statement or alone in such a SELECT."""
    for slot in plan.slots:
        if slot.scope is plan.tree:
            found = _early_limit(plan, is_scalar)
            if found is None and slot.dependent:
                found = _dependent_limit(plan, slot, is_scalar)
        elif slot.scope is not None and _alone_in(slot):
            bound = [b for b in plan.bound if b.slot is slot]
            one = replace(plan, tree=slot.scope, slots=[slot], bound=bound)
            found = _early_limit(one, is_scalar)
        elif isinstance(slot.scope, exp.Select) and slot.dependent:
            # the join of a subquery or CTE with a LIMIT of its own (what is around it sees
            # only its rows): as the statement's
            both = [s for s in plan.slots if s.scope is slot.scope]
            bound = [b for b in plan.bound if b.slot in both]
            found = _dependent_limit(
                replace(plan, tree=slot.scope, slots=both, bound=bound), slot, is_scalar
            )
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
