"""Planning mutations: the shared model and helpers, and INSERT. DELETE and EXEC planning are in
``plan.mutate_delete`` and ``plan.mutate_exec``. Statement + registry -> the exact calls to make.

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

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError, did_you_mean
from stackql_tuning.plan import bindings
from stackql_tuning.plan.bindings import ConstEval, constant_value, is_constant
from stackql_tuning.plan.coerce import coerce_value
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import BodyField, Method, Param, Resource, split_identity

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
def node_location(node: exp.Expression | None, resource: str | None = None) -> Location:
    if node is None:
        return Location(resource=resource)
    return bindings.node_location(node, Location(resource=resource))


def target_resource(node: exp.Expression, registry: Registry, verb: str) -> Resource:
    """The provider resource a mutation names (``google.aiplatform.x``), or a PlanError."""
    table = node.this if isinstance(node, exp.Schema) else node
    if not isinstance(table, exp.Table) or not (table.args.get("catalog") and table.args.get("db")):
        shown = table.sql() if isinstance(table, exp.Expression) else str(table)
        raise PlanError(
            f"{verb} needs a provider resource (provider.service.resource), got {shown}",
            location=node_location(table),
            hint="SHOW PROVIDERS, then SHOW RESOURCES IN provider.service, lists them",
        )
    rid = f"{table.catalog}.{table.db}.{table.name}".lower()
    try:
        return registry.resource(rid)
    except PlanError as e:
        e.location = node_location(table, e.location.resource)
        raise


def param_value(where: str, p: Param, value: Any, resource: str) -> Any:
    """A param value: strings accept numbers (ids are often numeric), others are type-checked."""
    if p.type == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if p.format in ("date-time", "google-datetime"):
        return value
    return _coerce(where, p, value, resource)


def body_value(where: str, f: BodyField, value: Any, resource: str) -> Any:
    return _coerce(where, f, value, resource, limits=f.limits)


def _coerce(
    where: str, spec: Param | BodyField, value: Any, resource: str, limits: Any = ()
) -> Any:
    """``value`` checked against ``spec``'s type, format, enum and bounds (``coerce_value``)."""
    return coerce_value(
        where,
        spec.type,
        value,
        fmt=spec.format,
        enum=spec.enum,
        resource=resource,
        minimum=spec.minimum,
        maximum=spec.maximum,
        limits=limits,
    )


def missing_error(what: str, missing: list[str], resource: Resource, hint: str) -> PlanError:
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
    method = resource.method_for_verb("INSERT")
    alternative = (node.args.get("alternative") or "").upper()
    clauses = [f"INSERT OR {alternative}"] if alternative else []
    clauses += ["ON CONFLICT"] if node.args.get("conflict") is not None else []
    clauses += ["OVERWRITE"] if node.args.get("overwrite") else []
    if clauses:
        # never silently dropped: every create here makes a new resource, none is an upsert
        raise PlanError(
            f"INSERT INTO {resource.id}: {clauses[0]} is not supported (a create call always "
            "makes a new resource; nothing conflicts, ignores or replaces)",
            location=node_location(schema, resource.id),
            hint="SELECT first to see whether it exists (a WHERE NOT EXISTS (...) in the INSERT's "
            "SELECT creates only what is missing)",
        )
    if not isinstance(schema, exp.Schema) or not schema.expressions:
        raise PlanError(
            f"INSERT INTO {resource.id} needs a column list",
            location=node_location(schema, resource.id),
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
        raise missing_error(
            f"INSERT INTO {resource.id}, row {row}",
            missing,
            resource,
            f"SHOW INSERT INTO {resource.id} lists every column; the required ones are "
            + ", ".join(method.required_params + tuple(f.name for f in method.body if f.required)),
        )
    return PlannedCall(row=row, params=params, body=body)


def check_one_of(resource: Resource, method: Method, planned: list[PlannedCall]) -> None:
    """A PlanError for the first planned row that gives no field, or more than one, of one of
    ``method``'s ``body_one_of`` groups: an API's oneof (a tuning job's spec), which the API
    requires exactly one of (Vertex: 400 "Required field is not specified"; SageMaker needs a
    training job definition) though its definition cannot mark it. Checked after the calls'
    own checks, so that what they find about a row is said first."""
    for call in planned:
        for group in method.body_one_of:
            given = [name for name in group if name in (call.body or {})]
            if not given:
                raise PlanError(
                    f"INSERT INTO {resource.id}, row {call.row}: needs one of {', '.join(group)}",
                    location=Location(resource=resource.id),
                    hint=f"give a value (not NULL) for one of {', '.join(group)}; SHOW INSERT "
                    f"INTO {resource.id} lists every column",
                )
            if len(given) > 1:  # a oneof: the API takes one (Vertex: 400, oneof field set twice)
                raise PlanError(
                    f"INSERT INTO {resource.id}, row {call.row}: gives {' and '.join(given)}, "
                    f"of which the API takes one",
                    location=Location(resource=resource.id),
                    hint=f"keep one of {', '.join(given)} (or make the others NULL)",
                )


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
                    location=node_location(item),
                    hint="use INSERT ... SELECT to read values from tables",
                )
            row.append(constant_value(item, const_eval))
        rows.append(row)
    return rows


__all__ = [
    "ColumnSlot",
    "MutationPlan",
    "PlannedCall",
    "body_value",
    "build_insert_call",
    "check_one_of",
    "dropped_warning",
    "insert_target",
    "literal_rows",
    "missing_error",
    "node_location",
    "param_value",
    "resolve_columns",
    "split_identity",
    "target_resource",
]
