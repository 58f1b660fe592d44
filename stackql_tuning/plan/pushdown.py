"""Pushdown: send predicates the API can filter on to the API, and still re-check them locally.

Rules are data in each resource's definition (``pushdown``); this module only reads them, so
results never change: the predicates stay in the SQL DuckDB runs. Pure.
"""

from __future__ import annotations

from collections.abc import Callable

from stackql_tuning.plan.select import QueryPlan


def apply_pushdown(
    plan: QueryPlan,
    time_zone: Callable[[], str] = lambda: "UTC",
    fold: Callable[[str], tuple[str, str] | None] | None = None,
) -> None:
    """Fill ``slot.pushed`` for every slot from its residual predicates (see ``pushdown_rules``).

    ``time_zone``: gives the session's (DuckDB's ``TimeZone``), in which a timestamp literal
    without an offset is read, by DuckDB's re-check and so by the pushed bound; asked only when
    such a literal is pushed. ``fold``: a constant expression's value as text and its DuckDB
    type (``now() - INTERVAL 1 DAY``, with the clock pinned; None when DuckDB cannot evaluate
    it); without it only literals are pushed."""
    from stackql_tuning.plan.pushrules import FOLD, NAIVE_ZONE, pushed_params

    token = NAIVE_ZONE.set(time_zone)
    folding = FOLD.set(fold)
    try:
        for slot in plan.slots:
            if slot.dependent or slot.scope is None or not slot.filters_first:
                continue
            slot.pushed = pushed_params(slot)
    finally:
        FOLD.reset(folding)
        NAIVE_ZONE.reset(token)


def check_literals(plan: QueryPlan, *, enums: bool = True) -> None:
    """A PlanError for a literal that no value of an enum column can equal (see
    ``check_enum_literals``; not with ``enums=False``: under a case-blind collation
    'job_state_running' matches), or a param value the API refuses (``check_param_values``):
    checked with and without pushdown, so that both answer alike."""
    from stackql_tuning.plan.pushrules import check_enum_literals, check_param_values

    for slot in plan.slots:
        check_param_values(slot)
        if enums:
            check_enum_literals(slot)
