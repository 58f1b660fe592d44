"""The catalog statements, answered from the registry alone (no network, no DuckDB).

``SHOW PROVIDERS``, ``SHOW SERVICES IN p``, ``SHOW RESOURCES IN p.s``, ``SHOW METHODS IN
p.s.r``, ``DESCRIBE [EXTENDED] p.s.r`` and ``SHOW INSERT INTO p.s.r``: each is a pure function
over a :class:`~stackql_tuning.registry.loader.Registry` returning ``(columns, rows)``. ``LIKE``
patterns follow SQL (``%`` any run, ``_`` one character), case-insensitively, and filter on the
first (name) column. Unknown names raise the loader's PlanError with the closest names.

Must not import duckdb, boto3, requests or google.auth, and never names a particular resource.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Method, Resource, call_options

Table = tuple[list[str], list[tuple[Any, ...]]]


@lru_cache(maxsize=64)
def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def like(value: str, pattern: str | None) -> bool:
    """SQL ``value LIKE pattern``, case-insensitive; a None pattern matches everything."""
    if pattern is None:
        return True
    return _like_regex(pattern).fullmatch(value) is not None


def _filter(rows: list[tuple[Any, ...]], pattern: str | None) -> list[tuple[Any, ...]]:
    return [r for r in rows if like(str(r[0]), pattern)]


def show_providers(reg: Registry, like: str | None = None) -> Table:
    rows = [(p.name, p.version) for p in reg.providers.values()]
    return ["name", "version"], _filter(rows, like)


def show_services(
    reg: Registry, provider: str, like: str | None = None, extended: bool = False
) -> Table:
    cols = ["name", "id", "title"] + (["version", "description"] if extended else [])
    rows = []
    for svc in reg.services(provider):
        row: tuple[Any, ...] = (svc.name, svc.id, svc.title)
        if extended:
            row += (svc.version, str(svc.data.get("description", "")))
        rows.append(row)
    return cols, _filter(rows, like)


def show_resources(
    reg: Registry, provider: str, service: str, like: str | None = None, extended: bool = False
) -> Table:
    cols = ["name", "id"] + (["description"] if extended else [])
    rows = []
    for res in reg.resources(provider, service):
        row: tuple[Any, ...] = (res.name, res.id)
        if extended:
            row += (res.description,)
        rows.append(row)
    return cols, _filter(rows, like)


def required_params_text(method: Method) -> str:
    """Required params as the StackQL pages print them: sorted, comma-joined."""
    return ", ".join(sorted(method.required_params, key=lambda n: (n.lower(), n)))


def show_methods(
    reg: Registry, resource_id: str, like: str | None = None, extended: bool = False
) -> Table:
    res = reg.resource(resource_id)
    cols = ["MethodName", "RequiredParams", "SQLVerb"] + (["description"] if extended else [])
    rows = []
    for m in res.methods:
        row: tuple[Any, ...] = (m.name, required_params_text(m), m.sql_verb)
        if extended:
            row += (m.description,)
        rows.append(row)
    return cols, _filter(rows, like)


def view_note(reg: Registry, resource_id: str) -> str | None:
    """For a view (which has no methods), what SHOW METHODS says instead of an empty table:
    the tables it reads and the columns that bind their calls."""
    import re

    res = reg.resource(resource_id)
    spec = res.view
    if not spec:
        return None
    known = {r.id for r in reg.all_resources()}
    sql = str(spec.get("sql") or "")
    reads = sorted({m for m in re.findall(r"\b\w+\.\w+\.\w+\b", sql) if m in known} - {res.id})
    params = ", ".join(spec.get("params") or {})
    return (
        f"{res.id} is a view over {', '.join(reads) or 'other resources'}: it has no methods "
        "of its own; query it with SELECT"
        + (f" (a WHERE on {params} binds the calls of the tables it reads)" if params else "")
        + f"; DESCRIBE {res.id} lists its columns"
    )


def page_size_params(res: Resource) -> list[str]:
    """The params that set the size of a SELECT method's pages (``MaxResults``, ``pageSize``)."""
    return sorted(
        {
            m.pagination.limit_param
            for m in res.methods_for("SELECT")
            if m.pagination and m.pagination.limit_param
        }
    )


def params_note(reg: Registry, resource_id: str) -> str | None:
    """What DESCRIBE says beside a resource's fields: its params, which are columns too (and
    which a WHERE binds), and where to see what each method needs."""
    res = reg.resource(resource_id)
    if res.view or not res.param_columns:
        return None
    options = call_options(res)
    located = ", ".join(p.name for p in res.param_columns if p.name not in options)
    names = f"{located} (where a row lives)" if located else ""
    if options:
        names += (" and " if names else "") + (
            f"the call options {', '.join(options)} (in SELECT * only where the statement "
            "names them)"
        )
    sizes = page_size_params(res)
    paging = (
        f"; {', '.join(sizes)} sets the size of each page, not the rows: every page "
        "is read, and a LIMIT caps the rows"
        if sizes
        else ""
    )
    return (
        f"also columns of {res.id}: its parameters {names}; a WHERE on them binds the calls "
        f"(SHOW METHODS IN {res.id} lists what each method needs){paging}"
    )


def describe(reg: Registry, resource_id: str, extended: bool = False) -> Table:
    """Each column's name and API type (as StackQL shows them); EXTENDED adds the type the
    column has in SQL (``CreationTime``: string, TIMESTAMPTZ) and its description."""
    res = reg.resource(resource_id)
    cols = ["name", "type"] + (["sql_type", "description"] if extended else [])
    rows = []
    for c in res.columns:
        row: tuple[Any, ...] = (c.name, c.type)
        if extended:
            row += (c.db_type, c.description)
        rows.append(row)
    return cols, rows


def insert_method(res: Resource) -> Method:
    """The resource's INSERT method; a PlanError naming what it does offer."""
    return res.method_for_verb("INSERT")


def insert_columns(res: Resource, required_only: bool = False) -> list[str]:
    """INSERT column names: required params (sorted), then writable body fields in API order
    (with ``required_only``: the required ones, and the first of each group of which the API
    needs one)."""
    m = insert_method(res)
    params = sorted(m.required_params, key=lambda n: (n.lower(), n))
    if not required_only:
        params += [p.name for p in m.params if not p.required]
    # of a group of which the API needs one field (a tuning job's spec), the first
    firsts = {group[0] for group in m.body_one_of}
    fields = [
        b.name
        for b in m.body
        if not b.output_only and (b.required or b.name in firsts or not required_only)
    ]
    return params + [f for f in fields if f not in params]


def insert_statement(res: Resource, required_only: bool = False) -> str:
    """``INSERT INTO res (cols...) SELECT '{{ col }}', ...;`` with jinja-style placeholders."""
    cols = insert_columns(res, required_only)
    lines = [f"INSERT INTO {res.id} ("]
    lines.append(",\n".join(cols))
    lines.append(")")
    lines.append("SELECT")
    lines.append(",\n".join(f"'{{{{ {c} }}}}'" for c in cols))
    lines.append(";")
    return "\n".join(lines)


def show_insert(reg: Registry, resource_id: str, required_only: bool = False) -> Table:
    res = reg.resource(resource_id)
    return ["insert_statement"], [(insert_statement(res, required_only),)]
