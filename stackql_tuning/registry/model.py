"""The registry's data model: providers, services, resources, methods, params and columns.

These are small read-only views over the JSON definitions under ``providers/`` (see
``providers/README.md`` for the file format). They hold no I/O and import nothing heavy: the
catalog statements (SHOW, DESCRIBE) run on them without duckdb, boto3 or google-auth.

Nothing here names a particular resource; everything is read from the definitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stackql_tuning.errors import Location, PlanError, did_you_mean

#: API type (+ format) -> DuckDB type. The generator writes ``db_type`` with this map; the
#: runtime reads ``db_type`` from the definition and never recomputes it.
DB_TYPES: dict[tuple[str, str | None], str] = {
    ("string", None): "VARCHAR",
    ("string", "google-datetime"): "TIMESTAMPTZ",
    ("string", "date-time"): "TIMESTAMPTZ",
    ("string", "int64"): "BIGINT",
    ("string", "uint64"): "UBIGINT",
    ("string", "google-duration"): "VARCHAR",
    ("string", "byte"): "VARCHAR",
    ("string", "google-fieldmask"): "VARCHAR",
    ("integer", None): "INTEGER",
    ("integer", "int32"): "INTEGER",
    ("integer", "uint32"): "UINTEGER",
    ("integer", "int64"): "BIGINT",
    ("number", None): "DOUBLE",
    ("number", "double"): "DOUBLE",
    ("number", "float"): "DOUBLE",
    ("boolean", None): "BOOLEAN",
    ("timestamp", None): "TIMESTAMPTZ",
    ("object", None): "JSON",
    ("array", None): "JSON",
}


def body_one_of(ms: dict[str, Any], body: list[dict[str, Any]]) -> dict[str, Any]:
    """For a generated method: the selection's ``body_one_of`` groups (a create needs one
    field of each: an API's oneof, which neither a discovery document nor botocore's
    ``required`` can say), checked against the method's body; {} when there are none."""
    groups = [list(g) for g in ms.get("body_one_of", [])]
    names = {f["name"] for f in body}
    for group in groups:
        unknown = [n for n in group if n not in names]
        if unknown:
            raise ValueError(f"body_one_of of {ms['name']} names no body field: {unknown}")
    return {"body_one_of": groups} if groups else {}


def db_type_for(api_type: str, fmt: str | None = None) -> str:
    """The DuckDB type for an API type and format (unknown formats fall back to the bare type)."""
    return DB_TYPES.get((api_type, fmt)) or DB_TYPES.get((api_type, None)) or "JSON"


def matches_pattern(pattern: str, text: str) -> bool:
    """Whether all of ``text`` is what an API's ``pattern`` allows (``^``/``$`` optional; a
    ``$`` does not let a last newline through). A pattern Python's ``re`` cannot read lets
    every value through: the API judges it, as it would have."""
    try:
        return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), text, re.S) is not None
    except re.error:
        return True


@dataclass(frozen=True)
class Column:
    """One field of a resource's rows, named exactly as the API names it."""

    name: str
    type: str  # API type as the seeds show it: string | integer | number | boolean | object | array
    db_type: str  # DuckDB type: VARCHAR, INTEGER, BIGINT, DOUBLE, BOOLEAN, TIMESTAMPTZ, JSON
    description: str = ""
    format: str | None = None
    output_only: bool = False
    enum: tuple[str, ...] = ()
    #: the methods whose replies carry this column (list summaries and describe differ)
    methods: tuple[str, ...] = ()
    #: when the reply lacks the field: {"column": other, "path": "$.a.b"} to derive it from
    #: (and "members": {name: source member} to rebuild an object with other member names)
    derive: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Column:
        return cls(
            name=d["name"],
            type=d["type"],
            db_type=d["db_type"],
            description=d.get("description", ""),
            format=d.get("format"),
            output_only=bool(d.get("output_only", False)),
            enum=tuple(d.get("enum") or ()),
            methods=tuple(d.get("methods") or ()),
            derive=d.get("derive"),
        )


@dataclass(frozen=True)
class Param:
    """One parameter of a method: a path/query param (Google) or an input member (AWS)."""

    name: str
    location: str  # path | query | body | client (e.g. AWS region, account)
    required: bool
    type: str = "string"
    db_type: str = "VARCHAR"
    format: str | None = None
    pattern: str | None = None
    description: str = ""
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Param:
        return cls(
            name=d["name"],
            location=d["location"],
            required=bool(d.get("required", False)),
            type=d.get("type", "string"),
            db_type=d.get("db_type", "VARCHAR"),
            format=d.get("format"),
            pattern=d.get("pattern"),
            description=d.get("description", ""),
            enum=tuple(d.get("enum") or ()),
            minimum=d.get("minimum"),
            maximum=d.get("maximum"),
        )


@dataclass(frozen=True)
class Pagination:
    input_token: str  # request param that carries the token (pageToken / NextToken)
    output_token: str  # reply field that holds the next token (nextPageToken / NextToken)
    limit_param: str | None = None  # pageSize / MaxResults
    max_page_size: int | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> Pagination | None:
        if not d:
            return None
        return cls(
            input_token=d["input_token"],
            output_token=d["output_token"],
            limit_param=d.get("limit_param"),
            max_page_size=d.get("max_page_size"),
        )


@dataclass(frozen=True)
class IntLimit:
    """An integer inside an object / array body field: where (``a.b``, ``[]`` = every item,
    ``{}`` = every map value), its format (int32, int64, ...) and the API's own bounds."""

    path: str
    format: str | None = None
    minimum: int | None = None
    maximum: int | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IntLimit:
        return cls(
            path=d["path"],
            format=d.get("format"),
            minimum=d.get("minimum"),
            maximum=d.get("maximum"),
        )


@dataclass(frozen=True)
class BodyField:
    """A top-level field of a method's request body (INSERT columns, EXEC @@json keys)."""

    name: str
    type: str
    required: bool = False
    output_only: bool = False
    format: str | None = None
    description: str = ""
    enum: tuple[str, ...] = ()
    ref: str | None = None  # schema/shape name of an object field, for nested validation
    minimum: int | None = None
    maximum: int | None = None
    #: the integers inside an object / array field, for range checks
    limits: tuple[IntLimit, ...] = ()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BodyField:
        return cls(
            name=d["name"],
            type=d["type"],
            required=bool(d.get("required", False)),
            output_only=bool(d.get("output_only", False)),
            format=d.get("format"),
            description=d.get("description", ""),
            enum=tuple(d.get("enum") or ()),
            ref=d.get("ref"),
            minimum=d.get("minimum"),
            maximum=d.get("maximum"),
            limits=tuple(IntLimit.from_json(x) for x in d.get("limits") or ()),
        )


@dataclass(frozen=True)
class Method:
    """One SQL-reachable operation of a resource."""

    name: str
    sql_verb: str  # SELECT | INSERT | DELETE | EXEC
    description: str
    params: tuple[Param, ...]
    #: Google: {"http_method": "GET", "path": "v1/projects/{projectsId}/..."}
    #: AWS:    {"operation": "ListHyperParameterTuningJobs", "client_method": "list_..."}
    request: dict[str, Any]
    #: {"kind": "list" | "object" | "empty" | "operation", "items_key": "...", "schema": "..."}
    response: dict[str, Any]
    pagination: Pagination | None = None
    body: tuple[BodyField, ...] = ()
    body_schema: str | None = None
    aliases: tuple[str, ...] = ()
    #: for select methods: columns the reply lacks although the resource has them
    omits: tuple[str, ...] = ()
    #: groups of body fields of which a create needs one (an API's oneof)
    body_one_of: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Method:
        return cls(
            name=d["name"],
            sql_verb=d["sql_verb"],
            description=d.get("description", ""),
            params=tuple(Param.from_json(p) for p in d.get("params", [])),
            request=dict(d.get("request", {})),
            response=dict(d.get("response", {})),
            pagination=Pagination.from_json(d.get("pagination")),
            body=tuple(BodyField.from_json(b) for b in d.get("body", [])),
            body_schema=d.get("body_schema"),
            aliases=tuple(d.get("aliases", [])),
            omits=tuple(d.get("omits", [])),
            body_one_of=tuple(tuple(g) for g in d.get("body_one_of", [])),
        )

    @property
    def required_params(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.required)

    @property
    def optional_params(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if not p.required)

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name.lower() == name.lower():
                return p
        return None

    @property
    def items_key(self) -> str | None:
        return self.response.get("items_key")

    @property
    def is_list(self) -> bool:
        return self.response.get("kind") == "list"


@dataclass(frozen=True)
class Resource:
    """A SQL table: ``provider.service.name``, its columns and methods."""

    provider: str
    service: str
    name: str
    title: str
    description: str
    kind: str  # resource | view
    columns: tuple[Column, ...]
    methods: tuple[Method, ...]
    #: how to get a get/delete/cancel method's params from a row:
    #: {"column": "name", "template": "projects/{projectsId}/locations/{locationsId}/..."}
    #: (Google), or {} when params are columns of the same name (AWS)
    identity: dict[str, Any] = field(default_factory=dict)
    #: views only: {"sql": "...", "params": [...], "columns": [...]}
    view: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def identity_params(self) -> tuple[str, ...]:
        """The params that the identity column's template holds (``{projectsId}``...): every
        row carries them, in that column, whether or not a call set them."""
        if not self.identity.get("column"):
            return ()
        return tuple(re.findall(r"\{(\w+)\}", str(self.identity.get("template") or "")))

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Resource:
        return cls(
            provider=d["provider"],
            service=d["service"],
            name=d["name"],
            title=d.get("title", d["name"]),
            description=d.get("description", ""),
            kind=d.get("kind", "resource"),
            columns=tuple(Column.from_json(c) for c in d.get("columns", [])),
            methods=tuple(Method.from_json(m) for m in d.get("methods", [])),
            identity=dict(d.get("identity") or {}),
            view=d.get("view"),
            raw=d,
        )

    @property
    def id(self) -> str:
        return f"{self.provider}.{self.service}.{self.name}"

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        return None

    def methods_for(self, sql_verb: str) -> tuple[Method, ...]:
        return tuple(m for m in self.methods if m.sql_verb == sql_verb)

    def method(self, name: str) -> Method:
        """The method called ``name`` or one of its aliases; a PlanError naming the valid ones."""
        for m in self.methods:
            if m.name == name or name in m.aliases:
                return m
        for m in self.methods:
            if m.name.lower() == name.lower() or name.lower() in (a.lower() for a in m.aliases):
                return m
        names = [m.name for m in self.methods]
        raise PlanError(
            f"resource {self.id} has no method {name!r}; its methods are {', '.join(names)}",
            location=Location(resource=self.id),
            hint=did_you_mean(name, names + [a for m in self.methods for a in m.aliases])
            or f"SHOW METHODS IN {self.id}",
        )

    def method_for_verb(self, verb: str) -> Method:
        """The resource's (first) method for a SQL verb; a PlanError naming what it offers."""
        methods = self.methods_for(verb)
        if not methods:
            verbs = sorted({m.sql_verb for m in self.methods})
            what = f"it supports {', '.join(verbs)}"
            if not verbs:
                what = "it is a read-only view" if self.view is not None else "it has no methods"
            raise PlanError(
                f"resource {self.id} has no {verb} method ({what})",
                location=Location(resource=self.id),
                hint=f"SHOW METHODS IN {self.id}",
            )
        return methods[0]

    @property
    def param_columns(self) -> tuple[Param, ...]:
        """Params of the select methods that are not response fields: they become columns too.

        Ordered as first seen over the select methods; pagination tokens are left out.
        """
        seen: dict[str, Param] = {}
        skip = set()
        for m in self.methods_for("SELECT"):
            if m.pagination:
                skip.add(m.pagination.input_token.lower())
        for m in self.methods_for("SELECT"):
            for p in m.params:
                key = p.name.lower()
                if key in skip or key in seen or self.column(p.name) is not None:
                    continue
                seen[key] = p
        return tuple(seen.values())


def view_param_entry(spec: Any, branch: int) -> tuple[str | None, str | None]:
    """What a view param (``view.params[name]``) binds in ``branch``: the inner expression
    (None: the branch has none) and the regular expression a value must fully match to bind
    it there (None: any value). ``spec`` is one entry for every branch or a list of one per
    branch; an entry is the expression, or ``{"expr": ..., "values": regex}`` for a column
    that is one param or another by its value (an AWS account is 12 digits, a Google project
    id starts with a letter)."""
    entry = (spec[branch] if branch < len(spec) else None) if isinstance(spec, list) else spec
    if isinstance(entry, dict):
        expr, values = entry.get("expr"), entry.get("values")
        return (str(expr) if expr else None), (str(values) if values else None)
    return (str(entry) if entry else None), None


def view_param_expr(spec: Any, branch: int) -> str | None:
    """The inner expression a view param binds in ``branch`` (``view_param_entry``'s first)."""
    return view_param_entry(spec, branch)[0]


def pushdown_rules(resource: Resource) -> dict[str, Any]:
    """The resource's pushdown rules (``{"style": "google-filter" | "params", ...}``) or {}."""
    return dict(resource.raw.get("pushdown") or {})


def lifecycle(resource: Resource) -> dict[str, Any]:
    """``{"state_column": ..., "terminal": [...]}`` for /*+ AWAIT */, or {}."""
    return dict(resource.raw.get("lifecycle") or {})


def param_sources(resource: Resource) -> dict[str, dict[str, str]]:
    """Param columns filled from another column when unbound: ``{param: {column, regex}}``."""
    return dict(resource.raw.get("param_sources") or {})


def derived_params(resource: Resource) -> set[str]:
    """The (lower-case) params whose column a row fills itself when the call did not name
    them: read from another column (``param_sources``), or a part of the identity template
    (a path param in the name)."""
    template = str(resource.identity.get("template") or "")
    return {n.lower() for n in param_sources(resource)} | {
        n.lower() for n in re.findall(r"\{(\w+)\}", template)
    }


def call_options(resource: Resource) -> tuple[str, ...]:
    """The param columns that only say how a call was made (``filter``, ``pageSize``,
    ``readMask``; ``MaxResults``, ``SortBy``, ``NameContains`` ...): optional, not a field of
    the reply, not where the call goes (region, account), not derived from the row. They have
    a value only where the statement named them, so ``SELECT *`` leaves them out unless it
    does. (A required one, the tuning job of ``..._training_jobs``, has a value in every row.)"""
    derived = derived_params(resource)
    required = {
        p.name.lower() for m in resource.methods_for("SELECT") for p in m.params if p.required
    }
    return tuple(
        p.name
        for p in resource.param_columns
        if p.location != "client" and p.name.lower() not in derived | required
    )


def get_method(resource: Resource) -> Method | None:
    """The method returning one full row (the non-list SELECT method)."""
    for m in sorted(resource.methods_for("SELECT"), key=lambda m: -len(m.required_params)):
        if not m.is_list:
            return m
    return None


def split_identity(template: str, value: str) -> dict[str, str] | None:
    """``projects/{projectsId}/...`` matched against a resource name -> its params, or None."""
    names = re.findall(r"\{(\w+)\}", template)
    regex = "^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(template)) + "$"
    m = re.match(regex, value)
    return dict(zip(names, m.groups(), strict=True)) if m else None
