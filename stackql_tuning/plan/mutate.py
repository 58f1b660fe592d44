"""Planning mutations (INSERT, DELETE, EXEC): statement + registry -> the exact calls to make.

Pure: no I/O, no SDK. Every rule that can fail fails here, before any call:

- INSERT: the target's ``create`` method; columns are its params plus its request-body fields
  (``data__x`` is ``x``; names match case-insensitively); each row's values are type-checked
  (``plan.coerce``); output-only body fields are accepted and dropped with a warning (StackQL's
  own INSERT templates list them); required params and fields must be present and not NULL.
- DELETE: the target's ``delete`` method; the WHERE clause may only AND together
  ``param = constant`` and ``param IN (constants)`` (or the identity column, e.g. a Google
  ``name``, which is split into params); every required param must be bound; no OR, no other
  predicate, no subquery, no USING: a DELETE never touches more than the user named.
- EXEC: the named EXEC method; ``@param`` names checked against its params; ``@@json`` must be a
  JSON object whose keys are body fields (or input members); required params must be given.

Must not: do I/O, import an SDK, or name a particular resource.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError, did_you_mean
from stackql_tuning.plan.bindings import ConstEval, constant_value, is_constant
from stackql_tuning.plan.coerce import coerce_value, parse_json_text
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import BodyField, Method, Param, Resource

DATA_PREFIX = "data__"


@dataclass
class PlannedCall:
    """One call of a mutation: ``row`` is the 1-based INSERT row (or call number)."""

    row: int
    params: dict[str, Any]
    body: dict[str, Any] | None = None


@dataclass
class ColumnSlot:
    """One INSERT column: where its value goes (``param`` / ``body`` / ``dropped``)."""

    written: str
    kind: str
    name: str
    param: Param | None = None
    body: BodyField | None = None


@dataclass
class MutationPlan:
    resource: Resource
    method: Method
    calls: list[PlannedCall] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- shared helpers
def _loc(node: exp.Expression | None, resource: str | None = None) -> Location:
    meta = getattr(getattr(node, "this", None), "meta", None) or getattr(node, "meta", None) or {}
    return Location(line=meta.get("line"), column=meta.get("col"), resource=resource)


def target_resource(node: exp.Expression, registry: Registry, verb: str) -> Resource:
    """The provider resource a mutation names (``google.aiplatform.x``), or a PlanError."""
    table = node.this if isinstance(node, exp.Schema) else node
    if not isinstance(table, exp.Table) or not (table.args.get("catalog") and table.args.get("db")):
        shown = table.sql() if isinstance(table, exp.Expression) else str(table)
        raise PlanError(
            f"{verb} needs a provider resource (provider.service.resource), got {shown}",
            location=_loc(table),
            hint="SHOW RESOURCES IN google.aiplatform lists them",
        )
    rid = f"{table.catalog}.{table.db}.{table.name}".lower()
    try:
        return registry.resource(rid)
    except PlanError as e:
        e.location = _loc(table, e.location.resource)
        raise


def method_for_verb(resource: Resource, verb: str) -> Method:
    methods = resource.methods_for(verb)
    if not methods:
        verbs = sorted({m.sql_verb for m in resource.methods})
        raise PlanError(
            f"resource {resource.id} has no {verb} method (it supports {', '.join(verbs)})",
            location=Location(resource=resource.id),
            hint=f"SHOW METHODS IN {resource.id}",
        )
    return methods[0]


def param_value(where: str, p: Param, value: Any, resource: str) -> Any:
    """A param value: strings accept numbers (ids are often numeric), others are type-checked."""
    if p.type == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if p.format in ("date-time", "google-datetime"):
        return value
    return coerce_value(where, p.type, value, fmt=p.format, enum=p.enum, resource=resource)


def body_value(where: str, f: BodyField, value: Any, resource: str) -> Any:
    return coerce_value(where, f.type, value, fmt=f.format, enum=f.enum, resource=resource)


def _missing_error(what: str, missing: list[str], resource: Resource, hint: str) -> PlanError:
    s = "s" if len(missing) > 1 else ""
    return PlanError(
        f"{what}: missing required {'value' if not s else 'values'} for {', '.join(missing)}",
        location=Location(resource=resource.id),
        hint=hint,
    )


# ----------------------------------------------------------------------------- INSERT
def insert_target(node: exp.Insert, registry: Registry) -> tuple[Resource, Method, list[str]]:
    """The resource, its create method and the column names as written."""
    schema = node.this
    resource = target_resource(schema, registry, "INSERT")
    method = method_for_verb(resource, "INSERT")
    if not isinstance(schema, exp.Schema) or not schema.expressions:
        raise PlanError(
            f"INSERT INTO {resource.id} needs a column list",
            location=_loc(schema, resource.id),
            hint=f"SHOW INSERT INTO {resource.id} prints a complete INSERT statement",
        )
    return resource, method, [e.name for e in schema.expressions]


def insert_column_names(method: Method) -> list[str]:
    return [p.name for p in method.params] + [b.name for b in method.body]


def resolve_columns(resource: Resource, method: Method, written: list[str]) -> list[ColumnSlot]:
    """Each written column mapped to a param or body field (``data__`` prefix accepted)."""
    slots: list[ColumnSlot] = []
    seen: dict[str, str] = {}
    for name in written:
        bare = name[len(DATA_PREFIX) :] if name.lower().startswith(DATA_PREFIX) else name
        slot = _column_slot(method, name, bare)
        if slot is None:
            valid = insert_column_names(method)
            raise PlanError(
                f"INSERT INTO {resource.id}: unknown column {name!r}",
                location=Location(resource=resource.id),
                hint=did_you_mean(bare, valid)
                or f"its columns are {', '.join(valid)} (SHOW INSERT INTO {resource.id})",
            )
        key = slot.name.lower()
        if key in seen:
            raise PlanError(
                f"INSERT INTO {resource.id}: column {slot.name} is given twice "
                f"({seen[key]!r} and {name!r})",
                location=Location(resource=resource.id),
            )
        seen[key] = name
        slots.append(slot)
    return slots


def _column_slot(method: Method, written: str, bare: str) -> ColumnSlot | None:
    p = method.param(bare)
    if p is not None and not written.lower().startswith(DATA_PREFIX):
        return ColumnSlot(written, "param", p.name, param=p)
    for exact in (True, False):
        for f in method.body:
            if (f.name == bare) if exact else (f.name.lower() == bare.lower()):
                kind = "dropped" if f.output_only else "body"
                return ColumnSlot(written, kind, f.name, body=f)
    if p is not None:
        return ColumnSlot(written, "param", p.name, param=p)
    return None


def dropped_warning(resource: Resource, slots: list[ColumnSlot]) -> str | None:
    names = [s.name for s in slots if s.kind == "dropped"]
    if not names:
        return None
    return f"output-only field(s) not sent (the API sets them): {', '.join(names)} ({resource.id})"


def build_insert_call(
    resource: Resource, method: Method, slots: list[ColumnSlot], values: list[Any], row: int
) -> PlannedCall:
    """One create call from one row of values (already Python values)."""
    if len(values) != len(slots):
        raise PlanError(
            f"INSERT INTO {resource.id}: row {row} has {len(values)} value(s) "
            f"for {len(slots)} column(s)",
            location=Location(resource=resource.id),
            hint="give one value per column, in the column list's order",
        )
    params: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for slot, value in zip(slots, values, strict=True):
        if value is None or slot.kind == "dropped":
            continue
        where = f"row {row}, column {slot.written}"
        if slot.param is not None:
            params[slot.name] = param_value(where, slot.param, value, resource.id)
        elif slot.body is not None:
            body[slot.name] = body_value(where, slot.body, value, resource.id)
    missing = [p for p in method.required_params if p not in params]
    missing += [f.name for f in method.body if f.required and not f.output_only]
    missing = [m for m in missing if m not in params and m not in body]
    if missing:
        raise _missing_error(
            f"INSERT INTO {resource.id}, row {row}",
            missing,
            resource,
            f"SHOW INSERT INTO {resource.id} lists every column; the required ones are "
            + ", ".join(method.required_params + tuple(f.name for f in method.body if f.required)),
        )
    return PlannedCall(row=row, params=params, body=body)


def literal_rows(node: exp.Insert, const_eval: ConstEval | None) -> list[list[Any]] | None:
    """The rows of ``INSERT ... VALUES`` (constants only); None when the source is a query."""
    source = node.expression
    if not isinstance(source, exp.Values):
        return None
    rows: list[list[Any]] = []
    for tup in source.expressions:
        items = tup.expressions if isinstance(tup, exp.Tuple) else [tup]
        row: list[Any] = []
        for item in items:
            if not is_constant(item):
                raise PlanError(
                    f"INSERT ... VALUES takes constants, got {item.sql()}",
                    location=_loc(item),
                    hint="use INSERT ... SELECT to read values from tables",
                )
            row.append(constant_value(item, const_eval))
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- DELETE
_WHY = (
    "a DELETE may only AND together param = 'value' and param IN ('a', 'b') predicates, so that "
    "it never touches more than it names"
)


def plan_delete(node: exp.Delete, registry: Registry, const_eval: ConstEval | None) -> MutationPlan:
    table = node.this
    resource = target_resource(table, registry, "DELETE")
    method = method_for_verb(resource, "DELETE")
    need = ", ".join(f"{p} = '...'" for p in method.required_params)
    hint = f"write DELETE FROM {resource.id} WHERE {need}"
    if node.args.get("using"):
        raise PlanError(
            f"DELETE FROM {resource.id} USING ... is not allowed: {_WHY}",
            location=_loc(table, resource.id),
            hint=hint,
        )
    where = node.args.get("where")
    if where is None:
        raise PlanError(
            f"DELETE FROM {resource.id} without WHERE would delete every resource; "
            f"bind {', '.join(method.required_params)}",
            location=_loc(table, resource.id),
            hint=hint,
        )
    if where.find(exp.Select, exp.Subquery) is not None:
        raise PlanError(
            f"DELETE FROM {resource.id}: subqueries are not allowed in its WHERE: {_WHY}",
            location=_loc(table, resource.id),
            hint=hint,
        )
    qualifiers = {table.alias_or_name.lower(), table.name.lower()}
    values: dict[str, list[Any]] = {}
    for pred in _conjuncts(where.this):
        col, consts = _binding(pred)
        if col is None or (col.table and col.table.lower() not in qualifiers):
            raise PlanError(
                f"DELETE FROM {resource.id}: predicate {pred.sql()} is not allowed: {_WHY}",
                location=_loc(pred, resource.id),
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
        raise _missing_error(f"DELETE FROM {resource.id}", missing, resource, hint)
    plan = MutationPlan(resource, method)
    names = list(values)
    for i, combo in enumerate(itertools.product(*(values[n] for n in names)), start=1):
        plan.calls.append(PlannedCall(row=i, params=dict(zip(names, combo, strict=True))))
    return plan


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _binding(pred: exp.Expression) -> tuple[exp.Column | None, list[exp.Expression]]:
    if isinstance(pred, exp.EQ):
        for col, other in ((pred.left, pred.right), (pred.right, pred.left)):
            if isinstance(col, exp.Column) and is_constant(other):
                return col, [other]
    if (
        isinstance(pred, exp.In)
        and isinstance(pred.this, exp.Column)
        and not pred.args.get("query")
        and pred.expressions
        and all(is_constant(e) for e in pred.expressions)
    ):
        return pred.this, list(pred.expressions)
    return None, []


def _bind(
    resource: Resource,
    method: Method,
    name: str,
    consts: list[exp.Expression],
    const_eval: ConstEval | None,
) -> dict[str, list[Any]]:
    raw = [constant_value(c, const_eval) for c in consts]
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
    raise PlanError(
        f"DELETE FROM {resource.id}: {name} is not a parameter of its delete method "
        f"(parameters: {params}): {_WHY}",
        location=Location(resource=resource.id),
        hint=did_you_mean(name, [p.name for p in method.params])
        or f"write DELETE FROM {resource.id} WHERE "
        + " AND ".join(f"{p} = '...'" for p in method.required_params),
    )


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def split_identity(template: str, value: str) -> dict[str, str] | None:
    """``projects/{projectsId}/...`` matched against a resource name -> its params, or None."""
    names = re.findall(r"\{(\w+)\}", template)
    regex = "^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(template)) + "$"
    m = re.match(regex, value)
    return dict(zip(names, m.groups(), strict=True)) if m else None


# ----------------------------------------------------------------------------- EXEC
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
    missing = [p for p in method.required_params if p not in params and p not in (body or {})]
    missing += [f.name for f in method.body if f.required and f.name not in (body or {})]
    if missing:
        example = ", ".join(f"@{m}='...'" for m in missing if method.param(m))
        raise _missing_error(
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
        verb = f" (a {method.sql_verb} method)" if method is not None else ""
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


__all__ = [
    "ColumnSlot",
    "MutationPlan",
    "PlannedCall",
    "build_insert_call",
    "dropped_warning",
    "exec_body",
    "exec_method",
    "insert_target",
    "literal_rows",
    "plan_delete",
    "plan_exec",
    "resolve_columns",
    "split_identity",
    "target_resource",
]
