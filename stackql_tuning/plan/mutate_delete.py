"""Planning DELETE: only `param = constant` and `param IN (constants)`, every required param bound.

The WHERE clause may only AND together bindings of the delete method's params (or of the
identity column, e.g. a Google ``name``, split into params by the identity template); no OR, no
other predicate, no subquery, no USING. The calls are the cartesian product of the bound values:
a DELETE never touches more than it names. Pure: no I/O, no SDK, no resource names.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError, did_you_mean
from stackql_tuning.plan.bindings import (
    ConstEval,
    column_and_constants,
    constant_value,
)
from stackql_tuning.plan.mutate import (
    MutationPlan,
    PlannedCall,
    missing_error,
    node_location,
    param_value,
    split_identity,
    target_resource,
)
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Method, Resource

_WHY = (
    "a DELETE may only AND together param = 'value' and param IN ('a', 'b') predicates, so that "
    "it never touches more than it names"
)


def plan_delete(node: exp.Delete, registry: Registry, const_eval: ConstEval | None) -> MutationPlan:
    table = node.this
    resource = target_resource(table, registry, "DELETE")
    method = resource.method_for_verb("DELETE")
    need = " AND ".join(f"{p} = '...'" for p in method.required_params)
    hint = f"write DELETE FROM {resource.id} WHERE {need}"
    for clause, key in (("RETURNING", "returning"), ("LIMIT", "limit"), ("ORDER BY", "order")):
        if node.args.get(key) is not None:
            # never silently dropped: LIMIT would look like it bounds the deletes
            raise PlanError(
                f"DELETE FROM {resource.id} ... {clause} is not supported",
                location=node_location(table, resource.id),
                hint=f"drop {clause}: the WHERE names exactly the resources deleted"
                + (" (SELECT them first to see them)" if clause == "RETURNING" else ""),
            )
    if node.args.get("using"):
        raise PlanError(
            f"DELETE FROM {resource.id} USING ... is not allowed: {_WHY}",
            location=node_location(table, resource.id),
            hint=hint,
        )
    where = node.args.get("where")
    if where is None:
        raise PlanError(
            f"DELETE FROM {resource.id} without WHERE would delete every resource; "
            f"bind {', '.join(method.required_params)}",
            location=node_location(table, resource.id),
            hint=hint,
        )
    if where.find(exp.Select, exp.Subquery) is not None:
        raise PlanError(
            f"DELETE FROM {resource.id}: subqueries are not allowed in its WHERE: {_WHY}",
            location=node_location(table, resource.id),
            hint=hint,
        )
    qualifiers = {table.alias_or_name.lower(), table.name.lower()}
    values: dict[str, list[Any]] = {}
    for pred in _conjuncts(where.this):
        col, consts = column_and_constants(pred)
        if col is None or (col.table and col.table.lower() not in qualifiers):
            raise PlanError(
                f"DELETE FROM {resource.id}: predicate {pred.sql()} is not allowed: {_WHY}",
                location=node_location(pred, resource.id),
                hint=hint,
            )
        for name, vals in _bind(resource, method, col.name, consts, const_eval).items():
            if name in values and set(map(repr, values[name])) != set(map(repr, vals)):
                raise PlanError(
                    f"DELETE FROM {resource.id}: {name} is bound twice to different values",
                    location=Location(resource=resource.id),
                    hint=hint,
                )
            values[name] = vals
    missing = [p for p in method.required_params if p not in values]
    if missing:
        raise missing_error(f"DELETE FROM {resource.id}", missing, resource, hint)
    plan = MutationPlan(resource, method)
    names = list(values)
    for i, combo in enumerate(itertools.product(*(values[n] for n in names)), start=1):
        plan.calls.append(PlannedCall(row=i, params=dict(zip(names, combo, strict=True))))
    return plan


def _conjuncts(node: Any) -> list[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _bind(
    resource: Resource,
    method: Method,
    name: str,
    consts: list[exp.Expr],
    const_eval: ConstEval | None,
) -> dict[str, list[Any]]:
    raw = [constant_value(c, const_eval, names=True) for c in consts]
    if any(v is None for v in raw):
        raise PlanError(
            f"DELETE FROM {resource.id}: {name} is compared with NULL",
            location=Location(resource=resource.id),
        )
    p = method.param(name)
    if p is not None:
        return {p.name: _unique([param_value(f"{p.name}", p, v, resource.id) for v in raw])}
    ident = resource.identity
    if ident.get("column", "").lower() == name.lower() and ident.get("template"):
        out: dict[str, list[Any]] = {}
        for v in raw:
            parts = split_identity(str(ident["template"]), str(v))
            if parts is None:
                raise PlanError(
                    f"DELETE FROM {resource.id}: {ident['column']} = {str(v)[:80]!r} does not "
                    f"have the form {ident['template']}",
                    location=Location(resource=resource.id),
                )
            last = list(parts)[-1]
            if out and any(out[k][0] != parts[k] for k in parts if k != last):
                raise PlanError(
                    f"DELETE FROM {resource.id}: {ident['column']} IN (...) must name resources "
                    "of one parent; use one statement per parent",
                    location=Location(resource=resource.id),
                )
            for k, part in parts.items():
                out.setdefault(k, [])
                if part not in out[k]:
                    out[k].append(part)
        return out
    params = ", ".join(method.required_params)
    write = f"write DELETE FROM {resource.id} WHERE " + " AND ".join(
        f"{p} = '...'" for p in method.required_params
    )
    if resource.column(name) is not None:  # a state guard, not a misspelled param
        hint = f"{name} is a column, which a DELETE cannot test: check it with SELECT first, then "
        hint += write
    else:
        hint = did_you_mean(name, [p.name for p in method.params]) or write
    raise PlanError(
        f"DELETE FROM {resource.id}: {name} is not a parameter of its delete method "
        f"(parameters: {params}): {_WHY}",
        location=Location(resource=resource.id),
        hint=hint,
    )


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


__all__ = ["plan_delete"]
