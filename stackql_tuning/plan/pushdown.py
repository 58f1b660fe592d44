"""Pushdown: send predicates the API can filter on to the API, and still re-check them locally.

Rules are data in each resource's definition (``pushdown``); this module only reads them, so
results never change: the predicates stay in the SQL DuckDB runs. Pure.
"""

from __future__ import annotations

from stackql_tuning.plan.select import QueryPlan


def apply_pushdown(plan: QueryPlan) -> None:
    """Fill ``slot.pushed`` for every slot from its residual predicates (see ``pushdown_rules``)."""
    from stackql_tuning.plan.pushrules import pushed_params

    for slot in plan.slots:
        if slot.dependent or slot.scope is None:
            continue
        slot.pushed = pushed_params(slot)


def check_literals(plan: QueryPlan) -> None:
    """A PlanError for a literal that no value of an enum column can equal (see
    ``check_enum_literals``): checked with and without pushdown, so that both answer alike."""
    from stackql_tuning.plan.pushrules import check_enum_literals

    for slot in plan.slots:
        if slot.scope is not None:
            check_enum_literals(slot)
