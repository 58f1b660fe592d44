"""Planning EXEC: ``EXEC res.method @p=v, ... [@@json='{...}']`` -> one checked call.

The method must be one of the resource's EXEC methods; ``@param`` names are checked against its
params (case-insensitively, close names suggested); ``@@json`` must be a JSON object whose keys
are body fields or input members, its values type-checked (an object field given as a JSON
string, as StackQL's docs write it, is parsed); required params and fields must be present.
Pure: no I/O, no SDK, no resource names.
"""

from __future__ import annotations

from typing import Any

from stackql_tuning.errors import Location, PlanError, did_you_mean
from stackql_tuning.plan.bindings import constant_value, is_constant
from stackql_tuning.plan.coerce import parse_json_text
from stackql_tuning.plan.mutate import (
    MutationPlan,
    PlannedCall,
    body_value,
    missing_error,
    param_value,
    target_resource,
)
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Method, Resource


def plan_exec(node: Any, registry: Registry) -> MutationPlan:
    """One call for ``EXEC res.method @p=v, ... [@@json='{...}']``."""
    resource = target_resource(node.args["this"], registry, "EXEC")
    method = exec_method(resource, node.method_name)
    params: dict[str, Any] = {}
    plan = MutationPlan(resource, method)
    for ep in node.expressions:
        name = ep.name
        p = method.param(name)
        if p is None:
            body_names = [f.name for f in method.body]
            hint = did_you_mean(name, [q.name for q in method.params] + body_names)
            if any(b.lower() == name.lower() for b in body_names):
                hint = f"{name} is a request body field: pass it in @@json='{{\"{name}\": ...}}'"
            raise PlanError(
                f"EXEC {resource.id}.{method.name}: unknown parameter @{name}; its parameters "
                f"are {', '.join('@' + q.name for q in method.params) or '(none)'}",
                location=Location(resource=resource.id, parameter=name),
                hint=hint,
            )
        if p.name in params:
            raise PlanError(
                f"EXEC {resource.id}.{method.name}: parameter @{p.name} is given twice",
                location=Location(resource=resource.id, parameter=p.name),
            )
        if not is_constant(ep.value):
            raise PlanError(f"EXEC parameter @{name} must be a literal, got {ep.value.sql()}")
        value = constant_value(ep.value, None)
        if value is not None:
            params[p.name] = param_value(f"parameter @{p.name}", p, value, resource.id)
    body = exec_body(resource, method, node.json_body, plan.warnings)
    for name in sorted(set(params) & set(body or {})):
        assert body is not None
        if params[name] != body[name]:
            # which one the SDK would send is not the user's to guess: the call must target
            # exactly what the statement names
            raise PlanError(
                f"EXEC {resource.id}.{method.name}: @{name} is {params[name]!r} but @@json "
                f"gives {name} = {body[name]!r}",
                location=Location(resource=resource.id, parameter=name),
                hint=f"give {name} once, as @{name}='...' or in @@json",
            )
    missing = [p for p in method.required_params if p not in params and p not in (body or {})]
    missing += [f.name for f in method.body if f.required and f.name not in (body or {})]
    if missing:
        example = ", ".join(f"@{m}='...'" for m in missing if method.param(m))
        raise missing_error(
            f"EXEC {resource.id}.{method.name}",
            missing,
            resource,
            f"add {example}" if example else "add the missing fields to @@json",
        )
    plan.calls.append(PlannedCall(row=1, params=params, body=body))
    return plan


def exec_method(resource: Resource, name: str) -> Method:
    execs = [m.name for m in resource.methods_for("EXEC")]
    method = None
    try:
        method = resource.method(name)
    except PlanError:
        method = None
    if method is None or method.sql_verb != "EXEC":
        verb = f" (it is a {method.sql_verb} method)" if method is not None else ""
        raise PlanError(
            f"resource {resource.id} has no EXEC method {name!r}{verb}; its EXEC methods are "
            f"{', '.join(execs) or '(none)'}",
            location=Location(resource=resource.id),
            hint=did_you_mean(name, execs) or f"SHOW METHODS IN {resource.id}",
        )
    return method


def exec_body(
    resource: Resource, method: Method, text: str | None, warnings: list[str]
) -> dict[str, Any] | None:
    """``@@json`` parsed, checked against the method's body fields and input members."""
    if text is None:
        return None
    where = f"EXEC {resource.id}.{method.name} @@json"
    obj = parse_json_text(where, text, resource.id)
    if not isinstance(obj, dict):
        raise PlanError(
            f"{where} must be a JSON object, got {type(obj).__name__}",
            location=Location(resource=resource.id),
            hint="write @@json='{\"field\": value, ...}'",
        )
    fields = {f.name: f for f in method.body}
    members = {p.name: p for p in method.params if p.location == "body"}
    out: dict[str, Any] = {}
    dropped = []
    for key, value in obj.items():
        f = fields.get(key) or next(
            (v for k, v in fields.items() if k.lower() == key.lower()), None
        )
        p = members.get(key)
        if f is None and p is None:
            valid = list(fields) + list(members)
            raise PlanError(
                f"{where}: unknown key {key!r}; valid keys are {', '.join(valid) or '(none)'}",
                location=Location(resource=resource.id),
                hint=did_you_mean(key, valid),
            )
        if f is not None and f.output_only:
            dropped.append(f.name)
            continue
        if value is None:
            continue
        if f is not None:
            out[f.name] = body_value(f"{where} key {f.name}", f, value, resource.id)
        elif p is not None:
            out[p.name] = param_value(f"{where} key {p.name}", p, value, resource.id)
    if dropped:
        warnings.append(f"output-only field(s) not sent (the API sets them): {', '.join(dropped)}")
    return out


__all__ = ["exec_body", "exec_method", "plan_exec"]
