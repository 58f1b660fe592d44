"""The sections of a view's generated page: Overview, Fields, Parameters, SELECT, Definition.

A view has no methods of its own: its page says which of its columns are parameters (and which
provider params they bind, branch by branch), gives a SELECT example bound by the params that
reach a provider call, and shows the view's SQL, formatted. Reads the registry only; never
names a particular resource. Imported by ``registry/docs.py`` for ``kind == "view"``.
"""

from __future__ import annotations

from typing import Any

from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Resource, view_param_entry, view_param_expr

#: params that page through a list: never worth naming in an example
_PAGING = {"nexttoken", "maxresults", "pagetoken", "pagesize"}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(name: str) -> str:
    return f'<CopyableCode code="{name}" />'


def _branches(sql: str) -> list[Any]:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    out: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, exp.Union):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, exp.Subquery):
            walk(node.this)
        else:
            out.append(node)

    walk(tree)
    return out


def _aliases(branch: Any) -> dict[str, str]:
    """Table alias -> 3-part resource id, for the provider tables of one branch."""
    from sqlglot import exp

    out = {}
    for t in branch.find_all(exp.Table):
        if t.args.get("catalog") and t.args.get("db"):
            out[t.alias_or_name.lower()] = f"{t.catalog}.{t.db}.{t.name}".lower()
    return out


def _binds_call(inner: str, aliases: dict[str, str], reg: Registry | None) -> str | None:
    """The provider param an inner expression ``alias.name`` binds, if it is one."""
    alias, _, name = inner.partition(".")
    rid = aliases.get(alias.lower())
    if not name or rid is None or reg is None:
        return None
    try:
        res = reg.resource(rid)
    except Exception:
        return None
    for m in res.methods_for("SELECT"):
        for p in m.params:
            if p.name.lower() == name.lower() and p.name.lower() not in _PAGING:
                return f"{rid}.{p.name}"
    return None


def _params(res: Resource, reg: Registry | None) -> tuple[list[str], list[str]]:
    """(the Parameters section, the params that reach a provider call)."""
    spec = res.view or {}
    branches = _branches(str(spec.get("sql", "")))
    aliases = [_aliases(b) for b in branches]
    lines = [
        "## Parameters",
        "A `WHERE` predicate `param = 'x'` or `param IN ('x', 'y')` on these columns flows into"
        " the view's SQL" + (" (branch by branch)" if len(branches) > 1 else "") + ": it binds"
        " the provider calls, so only the matching jobs are fetched.",
        "",
        "| Param | Binds | Routed |",
        "|:------|:------|:-------|",
    ]
    calls: list[str] = []
    for param, pspec in (spec.get("params") or {}).items():
        binds, reaches = [], False
        for i in range(len(branches)):
            inner = view_param_expr(pspec, i)
            if not inner:
                continue
            call = _binds_call(inner, aliases[i], reg)
            reaches = reaches or call is not None
            where = f"branch {i + 1}: " if len(branches) > 1 else ""
            values = view_param_entry(pspec, i)[1]
            binds.append(
                f"{where}`{inner}`"
                + (f" (param of `{call}`)" if call else "")
                + (f", values matching `{values}`" if values else "")
            )
        routed = len(branches) > 1 and any(
            not view_param_expr(pspec, i) for i in range(len(branches))
        )
        lines.append(
            f"| {_code(param)} | {_cell('; '.join(binds))} | "
            + ("yes: binds only these branches, filters no other row" if routed else "no")
            + " |"
        )
        if reaches:
            calls.append(param)
    return [*lines, ""], calls


def _select(res: Resource, params: list[str]) -> list[str]:
    out = ["## `SELECT` example", "", "```sql", "SELECT"]
    out.append(",\n".join(c.name for c in res.columns))
    out.append(f"FROM {res.id}")
    where = [
        ("WHERE " if i == 0 else "AND ") + f"{p} = '{{{{ {p} }}}}'" for i, p in enumerate(params)
    ]
    out += [*where[:-1], where[-1] + ";"] if where else [";"]
    return [*out, "```", ""]


def _definition(res: Resource) -> list[str]:
    import sqlglot

    sql = str((res.view or {}).get("sql", ""))
    try:
        pretty = sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True)[0]
    except sqlglot.errors.SqlglotError:
        pretty = sql
    notes = []
    if (res.view or {}).get("optional_branches"):
        notes = [
            "Its branches are optional: a branch whose provider tables the query leaves"
            " unbound (no WHERE and no config default for their params) is skipped with a"
            " warning.",
            "",
        ]
    return ["## Definition", "", *notes, "```sql", pretty, "```", ""]


def view_sections(res: Resource, reg: Registry | None) -> list[str]:
    params_section, calls = _params(res, reg)
    fields = ["## Fields", "| Name | Datatype | Description |", "|:-----|:---------|:------------|"]
    for c in res.columns:
        fields.append(f"| {_code(c.name)} | `{c.type}` | {_cell(c.description)} |")
    overview = [
        f"Queries the <code>{res.name}</code> view: SQL over other resources, inlined into the"
        " query that reads it (columns the query does not use are not fetched).",
        "",
        "## Overview",
        "<table><tbody>",
        f"<tr><td><b>Name</b></td><td><code>{res.name}</code></td></tr>",
        "<tr><td><b>Type</b></td><td>View</td></tr>",
        f"<tr><td><b>Id</b></td><td>{_code(res.id)}</td></tr>",
        "</tbody></table>",
        "",
    ]
    return [
        *overview,
        *fields,
        "",
        *params_section,
        *_select(res, calls),
        *_definition(res),
    ]
