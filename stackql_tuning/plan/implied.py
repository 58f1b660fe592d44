"""Bound-param predicates that hold for every row by construction: left out of DuckDB's SQL.

``projectsId IN ('a', 'b')`` gives the table its calls, one per value. The param column of every
row holds the value of the call that brought it (the loader reads it from the call, never from
the reply), so DuckDB could only re-check a predicate that is already true. The re-check was
not free: an ``IN`` list is a join in DuckDB's plan, ~2 ms of a 4,800-row fan-out query here
(4.3 against 2.4 ms, interleaved medians).

A predicate is left out only when all of these hold, else it stays:

- it is one of the conjuncts that bound the param (``=`` or ``IN`` with constants), in the
  WHERE or an inner JOIN's ON of the mention's own SELECT;
- the param is a param column of the resource (not a reply field that the server fills, such
  as SageMaker's ``HyperParameterTuningJobName``), its type is VARCHAR and every value is a
  string (no cast can make DuckDB's comparison differ from Python's);
- every value the table's calls use is one of the predicate's values (``region = 'a' AND
  region = 'b'`` calls both regions and matches no row: neither conjunct holds for all rows);
- the table's rows come from those calls alone: no hydration (a get's params are read from the
  listed item) and no pushed filter in the same param;
- in the WHERE, the mention is not on the NULL-extended side of an outer join of its SELECT
  (``a LEFT JOIN b ... WHERE b.region = 'x'`` also drops the rows of ``a`` that found no ``b``).

Pure: edits the plan's tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from stackql_tuning.plan.bindings import split_and

if TYPE_CHECKING:
    from stackql_tuning.plan.select import QueryPlan, Slot

#: marks the TRUE that stands in for a left-out predicate until the conjunctions are rebuilt
_LEFT_OUT = "stackql_tuning_left_out"


@dataclass
class BoundPredicate:
    """A conjunct that bound ``param`` of ``slot``'s calls to ``values``."""

    pred: exp.Expr
    slot: Slot
    param: str  # as the method spells it
    values: list[Any]
    #: the predicate may go: see the module's rules on position (WHERE or ON, outer joins)
    placed_well: bool


def placed_well(pred: exp.Expr, scope: exp.Expr | None, node: exp.Expr) -> bool:
    """Whether ``pred`` (a conjunct of ``scope`` that restricts ``node``'s rows) restricts
    nothing but those rows: an ON conjunct always (the planner takes ON conjuncts only from
    joins that do not keep every row of ``node``); a WHERE one unless an outer join of the
    scope can extend ``node``'s side with NULLs."""
    if scope is None:
        return False
    container = pred.find_ancestor(exp.Where, exp.Join)
    if container is not scope.args.get("where"):
        return isinstance(container, exp.Join)
    for join in scope.find_all(exp.Join):
        if join.find_ancestor(exp.Select) is not scope:
            continue  # a join of a nested query
        side = (join.side or "").upper()
        kind = (join.kind or "").upper()
        if side in ("RIGHT", "FULL") or kind in ("SEMI", "ANTI", "ASOF", "POSITIONAL"):
            return False
        if side == "LEFT" and any(n is node for n in join.this.walk()):
            return False
    return True


def left_out(plan: QueryPlan) -> list[exp.Expr]:
    """The predicates of ``plan.bound`` that every row of their table satisfies."""
    out = []
    for b in plan.bound:
        slot = b.slot
        if not b.placed_well or slot.skip or slot.hydrate is not None or b.param in slot.pushed:
            continue
        column = next((p for p in slot.resource.param_columns if p.name == b.param), None)
        used = slot.static.get(b.param)
        if column is None or column.db_type != "VARCHAR" or not used:
            continue
        values = [*used, *b.values]
        if all(isinstance(v, str) for v in values) and set(used) <= set(b.values):
            out.append(b.pred)
    return out


def leave_out_implied(plan: QueryPlan) -> int:
    """Drop from ``plan.tree`` the predicates that ``left_out`` finds; how many went."""
    preds = left_out(plan)
    for pred in preds:
        pred.replace(_marked_true())
    if not preds:
        return 0
    for where in list(plan.tree.find_all(exp.Where)):
        rest = _kept(where.this)
        if rest is None:
            where.pop()
        else:
            where.set("this", rest)
    for join in list(plan.tree.find_all(exp.Join)):
        on = join.args.get("on")
        if on is not None:
            join.set("on", _kept(on) or exp.true())
    return len(preds)


def _marked_true() -> exp.Expr:
    node = exp.true()
    node.meta[_LEFT_OUT] = True
    return node


def _kept(cond: exp.Expr) -> exp.Expr | None:
    """``cond``'s conjuncts without the stand-ins of left-out predicates (None: no conjunct
    is left)."""
    parts = list(split_and(cond))
    kept = [p for p in parts if not p.meta.get(_LEFT_OUT)]
    if len(kept) == len(parts):
        return cond
    if not kept:
        return None
    return exp.and_(*kept, copy=False)
