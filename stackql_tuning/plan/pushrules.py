"""Translating residual predicates into server-side filters, by the rules in the definition.

Two styles, chosen by the rules' ``style`` (a dispatch table, no per-resource code):

- ``google-filter``: one AIP-160 ``filter`` string (``state="JOB_STATE_RUNNING" AND
  create_time>"2026-01-01T00:00:00Z"``); AND keeps what translates, OR/NOT only when every part
  translates.
- ``params``: individual input params (SageMaker ``StatusEquals``, ``NameContains`` from
  ``LIKE '%x%'``, ``CreationTimeAfter`` from ``CreationTime > t``) from top-level conjuncts.

Whatever is pushed stays in the SQL too, so results never change; a predicate that cannot be
translated exactly is simply not pushed. Time bounds are widened by a second so that a server's
inclusive/exclusive reading can only return more rows, never fewer. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError, did_you_mean
from stackql_tuning.plan.bindings import FLOWED, VIEW_COLUMN, node_location, steady, timeless
from stackql_tuning.plan.select import Slot
from stackql_tuning.registry.model import matches_pattern, pushdown_rules

_OPS: dict[type, str] = {
    exp.EQ: "=",
    exp.NEQ: "!=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "!=": "!="}


def _owned(col: exp.Column, slot: Slot) -> bool:
    if col.table:
        return col.table.lower() in {a.lower() for a in slot.aliases}
    return slot.resource.column(col.name) is not None


class _TimeText(str):
    """A literal's text as a time bound only (a DATE, TIMESTAMP or TIMESTAMPTZ cast, or a
    folded time): never pushed as a string, which DuckDB would not compare it as."""


def _literal(node: exp.Expr) -> Any:
    """A predicate operand's value as DuckDB reads it in the comparison, or ``_NOPE``.

    A cast's target type counts: ``CAST('2026-11-23 20:00' AS DATE)`` is midnight, and
    ``TIMESTAMP '... 10:00-08'`` drops its offset (DuckDB's TIMESTAMP has none), then both are
    read in the session's time zone; the text inside, pushed as it was, dropped rows."""
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else _number(node.this)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        text, to = node.this.this, node.to
        if to.is_type(*exp.DataType.TEXT_TYPES):
            return text
        if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
            return _TimeText(text)  # an instant (its offset, or the session's zone)
        if not node.this.is_string:
            return _NOPE
        if to.is_type(exp.DataType.Type.DATE):
            wall = _wall_time(text)
            return _NOPE if wall is None else _TimeText(wall.date().isoformat())
        if to.is_type(
            exp.DataType.Type.TIMESTAMP,
            exp.DataType.Type.TIMESTAMPNTZ,
            exp.DataType.Type.DATETIME,
        ):
            wall = _wall_time(text)
            return _NOPE if wall is None else _TimeText(wall.replace(tzinfo=None).isoformat())
        return _NOPE
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    return _folded(node)


#: the DuckDB types of a folded value that is pushed: times (a string's case, collation and
#: enum checks are the literal's; a folded string skipped them all)
_TIMES = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"}


def _folded(node: exp.Expr) -> Any:
    """A constant time expression's value (``now() - INTERVAL 1 DAY``, the clock pinned by
    ``plan.clock``; ``current_date - 7``) as ``_literal`` reads it, folded by DuckDB
    (``FOLD``), or ``_NOPE``: it reads a column, a subquery, a function nobody vouches for (a
    macro), a placeholder or a collation, its value is not a time or is NULL, or DuckDB cannot
    evaluate it."""
    fold = FOLD.get()
    if fold is None or node.find(*_NOT_FOLDED) is not None:
        return _NOPE
    if not steady(node) or not timeless(node):
        return _NOPE
    found = fold(node.sql(dialect="duckdb"))
    if found is None or found[1].upper() not in _TIMES:
        return _NOPE
    to = exp.DataType.build(found[1], dialect="duckdb")
    return _literal(exp.Cast(this=exp.Literal.string(found[0]), to=to))


_NOT_FOLDED = (exp.Column, exp.Query, exp.Anonymous, exp.Star, exp.Collate, exp.Null)


def _wall_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None


def _text(value: Any) -> bool:
    """Whether ``value`` compares as a string (not a number, nor a DATE / TIMESTAMP cast)."""
    return isinstance(value, str) and not isinstance(value, _TimeText)


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return float(text)


class _Nope:
    pass


_NOPE = _Nope()


#: the session's TimeZone while a plan's pushdown is worked out (``apply_pushdown``): DuckDB
#: reads a timestamp literal without an offset in it, so the pushed bound must too
#: (a function, asked only when such a literal is met: it may wait for the DuckDB database)
NAIVE_ZONE: ContextVar[Callable[[], str]] = ContextVar("naive_zone", default=lambda: "UTC")
#: while a plan's pushdown is worked out: the value of a constant expression as text and its
#: DuckDB type (None: DuckDB cannot evaluate it, or it is NULL), or no folding at all
FOLD: ContextVar[Callable[[str], tuple[str, str] | None] | None] = ContextVar("fold", default=None)


def _instants(value: Any) -> tuple[datetime, datetime] | None:
    """The earliest and latest instant a timestamp literal can mean: itself when it has an
    offset; read in the session's time zone when it has none (both readings of a wall time that
    a DST change repeats); any zone's reading (UTC-12 to UTC+14) when the zone is unknown."""
    if not isinstance(value, str):
        return None
    t = _wall_time(value)
    if t is None:
        return None
    try:
        if t.tzinfo:
            start, end = t, t
        else:
            try:
                zone = ZoneInfo(NAIVE_ZONE.get()())
            except (ValueError, ZoneInfoNotFoundError):
                utc = t.replace(tzinfo=UTC)
                start, end = utc - timedelta(hours=14), utc + timedelta(hours=12)
            else:
                readings = [t.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
                start, end = min(readings), max(readings)
        # widened by a second (see the module's doc): past year 1 or 9999 it is not pushed
        return start - timedelta(seconds=1), end + timedelta(seconds=1)
    except OverflowError:
        return None


def _comparison(node: exp.Expr, slot: Slot) -> tuple[str, str, Any] | None:
    """(column, op, value) for ``col <op> literal`` / ``literal <op> col`` on this slot."""
    op = _OPS.get(type(node))
    if op is None:
        return None
    left, right = node.left, node.right  # type: ignore[attr-defined]
    if isinstance(left, exp.Column) and _owned(left, slot):
        value = _literal(right)
        return None if value is _NOPE else (left.name, op, value)
    if isinstance(right, exp.Column) and _owned(right, slot):
        value = _literal(left)
        return None if value is _NOPE else (right.name, _FLIP[op], value)
    return None


def _quote(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rfc3339(t: datetime) -> str:
    # not strftime: its %Y writes year 999 as "999", which no API reads as a timestamp
    u = t.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


# -- google-filter -----------------------------------------------------------------------------
def _google_term(node: exp.Expr, slot: Slot, fields: dict[str, Any]) -> str | None:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        left = _google_term(node.left, slot, fields)
        right = _google_term(node.right, slot, fields)
        parts = [p for p in (left, right) if p]
        # in AIP-160 OR binds tighter than AND: an AND inside an OR needs its parentheses
        # (``(a AND b OR c)`` reads as ``a AND (b OR c)``)
        return None if not parts else parts[0] if len(parts) == 1 else f"({' AND '.join(parts)})"
    if isinstance(node, exp.Or):
        left = _google_term(node.left, slot, fields)
        right = _google_term(node.right, slot, fields)
        return f"({left} OR {right})" if left and right else None
    if isinstance(node, exp.In) and isinstance(node.this, exp.Column) and _owned(node.this, slot):
        spec = _field(fields, node.this.name)
        values = [_literal(v) for v in node.expressions]
        if spec is None or "in" not in spec["ops"] or not values:
            return None
        if not all(_text(v) for v in values):
            return None
        terms = [f"{spec['field']}={_quote(v)}" for v in values]
        return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"
    if _positive_like(node, slot):
        spec = _field(fields, node.this.name)
        pattern = _literal(node.expression)
        if spec is None or "prefix" not in spec["ops"] or not isinstance(pattern, str):
            return None
        prefix = pattern[:-1] if pattern.endswith("%") else None
        if not prefix or "%" in prefix or "_" in prefix or "*" in prefix:
            return None
        return f"{spec['field']}:{_quote(prefix + '*')}"
    labels = _label_term(node, slot, fields)
    if labels is not None:
        return labels
    cmp = _comparison(node, slot)
    if cmp is None:
        return None
    column, op, value = cmp
    spec = _field(fields, column)
    if spec is None or op not in spec["ops"]:
        return None
    if spec["field"].endswith("_time"):
        window = _instants(value)
        if window is None:
            return None
        if op in (">", ">="):
            return f"{spec['field']}>={_quote(_rfc3339(window[0]))}"
        if op in ("<", "<="):
            return f"{spec['field']}<={_quote(_rfc3339(window[1]))}"
        return None  # time equality: exact sub-second match is not reliable server-side
    if not _text(value):
        return None
    return f"{spec['field']}{op}{_quote(value)}"


def _positive_like(node: exp.Expr, slot: Slot) -> bool:
    """``column LIKE pattern`` on a column of ``slot``; not ``NOT LIKE``, which sqlglot keeps in
    the same node (``negate``): pushed as a LIKE, it kept the rows it should drop."""
    return (
        isinstance(node, exp.Like)
        and not node.args.get("negate")
        and isinstance(node.this, exp.Column)
        and _owned(node.this, slot)
    )


def _field(fields: dict[str, Any], column: str) -> dict[str, Any] | None:
    for name, spec in fields.items():
        if name.lower() == column.lower():
            return dict(spec)
    return None


def _label_term(node: exp.Expr, slot: Slot, fields: dict[str, Any]) -> str | None:
    """``labels->>'team' = 'x'`` / ``json_extract_string(labels, '$.team') = 'x'``."""
    if not isinstance(node, exp.EQ):
        return None
    for side, other in ((node.left, node.right), (node.right, node.left)):
        if not isinstance(side, exp.JSONExtractScalar) or not isinstance(side.this, exp.Column):
            continue
        if not _owned(side.this, slot):
            continue
        spec = _field(fields, side.this.name)
        if spec is None or "key=" not in spec["ops"]:
            continue
        key = _json_key(side.expression)
        value = _literal(other)
        if key is None or not _text(value):
            continue
        return f"{spec['field']}.{key}={_quote(value)}"
    return None


def _json_key(path: exp.Expr) -> str | None:
    if isinstance(path, exp.JSONPath):
        parts = path.expressions
        if len(parts) == 2 and isinstance(parts[1], exp.JSONPathKey):
            key = str(parts[1].this)
            return key if key.replace("_", "").replace("-", "").isalnum() else None
        return None
    if isinstance(path, exp.Literal) and path.is_string:
        key = path.this[2:] if path.this.startswith("$.") else path.this
        return key if key.replace("_", "").replace("-", "").isalnum() else None
    return None


def _google_filter(slot: Slot, rules: dict[str, Any]) -> dict[str, Any]:
    param = rules.get("param", "filter")
    if any(k.lower() == param.lower() for k in slot.static):
        return {}
    terms = [t for t in (_google_term(p, slot, rules["fields"]) for p in slot.residual) if t]
    return {param: " AND ".join(terms)} if terms else {}


# -- params ------------------------------------------------------------------------------------
def _param_push(slot: Slot, rules: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    bound = {k.lower() for k in slot.static}
    for pred in slot.residual:
        for param, value in _param_terms(pred, slot, rules["rules"]):
            if param.lower() in bound or param in out:
                continue
            out[param] = value
    return out


def _param_terms(pred: exp.Expr, slot: Slot, rules: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if _positive_like(pred, slot):
        pattern = _literal(pred.expression)
        if isinstance(pattern, str) and len(pattern) > 2 and pattern[0] == pattern[-1] == "%":
            inner = pattern[1:-1]
            if inner and "%" not in inner and "_" not in inner:
                found += [
                    (r["param"], inner)
                    for r in rules
                    if r["op"] == "contains" and r["column"].lower() == pred.this.name.lower()
                ]
        return found
    cmp = _comparison(pred, slot)
    if cmp is None:
        return found
    column, op, value = cmp
    for r in rules:
        if r["column"].lower() != column.lower():
            continue
        if r["op"] == "=" and op == "=" and _text(value):
            found.append((r["param"], value))
        elif r["op"] in ("after", "before"):
            window = _instants(value)
            if window is None:
                continue
            if r["op"] == "after" and op in (">", ">="):
                found.append((r["param"], _rfc3339(window[0])))
            elif r["op"] == "before" and op in ("<", "<="):
                found.append((r["param"], _rfc3339(window[1])))
    return found


STYLES: dict[str, Callable[[Slot, dict[str, Any]], dict[str, Any]]] = {
    "google-filter": _google_filter,
    "params": _param_push,
}


def pushed_params(slot: Slot) -> dict[str, Any]:
    rules = pushdown_rules(slot.resource)
    style = STYLES.get(rules.get("style", ""))
    if style is None or not slot.residual:
        return {}
    # only params the chosen method accepts, with values it accepts: a value outside the
    # API's own pattern (NameContains from LIKE '%a.b%') is refused by the API, where the
    # query without pushdown answers
    out = {}
    for k, v in style(slot, rules).items():
        param = slot.method.param(k)
        if param is None:
            continue
        if param.pattern and isinstance(v, str) and not matches_pattern(param.pattern, v):
            continue
        out[k] = v
    return out


# -- enum literals -----------------------------------------------------------------------------
def check_enum_literals(slot: Slot) -> None:
    """A PlanError for ``col = / != / IN / NOT IN 'literal'`` on an enum column of ``slot``
    when the literal is none of the API's values (closest ones in the hint).

    Such a predicate matches no row (or every row) by mistake, and the API refuses it where it
    is pushed (Vertex: 400 INVALID_ARGUMENT for ``state="RUNNING"``): with and without pushdown
    the answer differed. It is an error either way, before any call.
    """
    mentions = slot.mentions or [(slot.scope, slot.residual)]
    for scope, pred in [(scope, p) for scope, residual in mentions for p in list(residual)]:
        for node in pred.find_all(exp.EQ, exp.NEQ, exp.In):
            if scope is None or node.find_ancestor(exp.Select) is not scope:
                continue  # a nested query's own predicate
            for col, value in _enum_operands(node, slot):
                spec = slot.resource.column(col.name)
                if spec is None or not spec.enum or not isinstance(value, str):
                    continue
                if value in spec.enum:
                    continue
                if pred.meta.get(FLOWED):
                    # a view's condition copied in (``plan.views`` rule 4), not the user's
                    # own test: the view answers it as before, and it is not sent to the API
                    if pred in slot.residual:
                        slot.residual.remove(pred)
                    break
                hint = _enum_hint(spec.name, value, spec.enum)
                lits = [lit for lit in node.find_all(exp.Literal) if lit.is_string]
                literal = next((lit for lit in lits if lit.this == value), col)
                column = f"{slot.resource.id}.{spec.name}"
                written = node.meta.get(VIEW_COLUMN) or pred.meta.get(VIEW_COLUMN)
                if written:  # a view's column, bound into the branch that reads this table
                    column = f"{written} ({column})"
                raise PlanError(
                    f"{value!r} is not a value of {column}",
                    location=node_location(literal, Location(resource=slot.resource.id)),
                    hint=hint,
                )


def _enum_hint(name: str, value: str, enum: tuple[str, ...]) -> str:
    close = [v for v in enum if v.lower() == value.lower()]
    if close:
        return f"did you mean {close[0]!r}? (values are case-sensitive)"
    return did_you_mean(value, enum) or f"{name} is one of {', '.join(enum)}"


def check_param_values(slot: Slot) -> None:
    """A PlanError for a value bound to a param of ``slot``'s method that the API's definition
    refuses: outside the param's enum or its integer bounds, or (a request member's) not of its
    pattern.

    The API answers some of these with nothing rather than an error: ``StatusEquals =
    'completed'`` gave 0 rows and ``SortOrder = 'desc'`` sorted ascending, both with exit 0.
    SageMaker refuses a job name that is not one (``'bad_name!'``, 33 characters) with a
    ValidationException, the sandbox with an empty answer: both are this error now, before any
    call. (A path param's own check, a '/' in it, is the transport's; an account's, the
    accounts'.)
    """
    for name, values in slot.static.items():
        p = slot.method.param(name)
        if p is None:
            continue
        for value in values:
            problem, hint = None, None
            if p.enum and isinstance(value, str) and value not in p.enum:
                problem, hint = "is not a value the API takes", _enum_hint(p.name, value, p.enum)
            elif p.type == "integer" and (p.minimum is not None or p.maximum is not None):
                try:
                    number = int(value)
                except (TypeError, ValueError):
                    continue  # the transport names a value that is not an integer
                low = p.minimum if p.minimum is not None else number
                high = p.maximum if p.maximum is not None else number
                if not low <= number <= high:
                    problem = "is out of the API's range"
                    hint = f"{p.name} is between {p.minimum} and {p.maximum}"
            elif (
                p.pattern
                and p.location == "body"
                and isinstance(value, str)
                and not matches_pattern(p.pattern, value)
            ):
                problem = "is not a value the API takes"
                hint = f"{p.name} matches the API's pattern {p.pattern}"
            if problem is None:
                continue
            where = Location(resource=slot.resource.id)
            if slot.scope is not None:
                shown = str(value).removeprefix("-")  # -1 is the literal 1 negated
                lit = next(
                    (
                        lit
                        for lit in slot.scope.find_all(exp.Literal)
                        if lit.this == shown and lit.find_ancestor(exp.Select) is slot.scope
                    ),
                    None,
                )
                if lit is not None:
                    spot: exp.Expr = lit.parent if isinstance(lit.parent, exp.Neg) else lit
                    where = node_location(spot, where)
            raise PlanError(f"parameter {p.name} = {value!r} {problem}", location=where, hint=hint)


def _enum_operands(node: exp.Expr, slot: Slot) -> list[tuple[exp.Column, Any]]:
    """(column, literal) pairs that ``col = lit``, ``lit != col`` or ``col IN (lits)`` compare."""
    if isinstance(node, exp.In):
        if not isinstance(node.this, exp.Column) or not _owned(node.this, slot):
            return []
        return [(node.this, _literal(e)) for e in node.expressions]
    for col, other in ((node.left, node.right), (node.right, node.left)):  # type: ignore[attr-defined]
        if isinstance(col, exp.Column) and _owned(col, slot):
            return [(col, _literal(other))]
    return []
