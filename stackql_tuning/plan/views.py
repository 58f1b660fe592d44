"""Views: resources defined as SQL over other resources, inlined before planning. Pure.

A view's definition (``kind: "view"``) carries ``view.sql`` and ``view.params``: for each
param column of the view, the inner expression it binds, per branch of the view's UNION (a
string applies to every branch; a list gives one entry per branch, ``null`` where the branch has
no such param). The outer query's ``col = const`` / ``col IN (consts)`` predicates on those
columns are copied into the matching branches' WHERE (and stay in the outer WHERE, so nothing
changes but what is fetched). A branch marked optional (``view.optional_branches``) whose provider
tables stay unplannable is skipped with a warning instead of failing the statement, so a
cross-cloud view asked only about one cloud queries only that cloud.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.bindings import conjuncts, is_constant, table_resource_id
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Resource

MAX_DEPTH = 8
#: Table.meta key set on provider tables inside an optional view branch
OPTIONAL = "stackql_optional_branch"


@lru_cache(maxsize=64)
def _parsed(sql: str) -> exp.Expr:
    from stackql_tuning.sql import parse_one

    return parse_one(sql).expression


def _branches(tree: exp.Expr) -> list[exp.Select]:
    if isinstance(tree, exp.Union):
        return _branches(tree.left) + _branches(tree.right)
    if isinstance(tree, exp.Subquery):
        return _branches(tree.this)
    if isinstance(tree, exp.Select):
        return [tree]
    raise PlanError(f"a view's SQL must be a SELECT or a UNION of SELECTs, got {tree.key}")


def _inner(spec: Any, branch: int) -> str | None:
    if isinstance(spec, list):
        return spec[branch] if branch < len(spec) else None
    return str(spec) if spec else None


def _param_predicates(node: exp.Table, view_params: dict[str, Any]) -> list[tuple[str, exp.Expr]]:
    """(param, predicate) for the outer conjuncts that bind a view param with constants."""
    scope = node.find_ancestor(exp.Select)
    alias = node.alias_or_name.lower()
    names = {p.lower(): p for p in view_params}
    out: list[tuple[str, exp.Expr]] = []
    for pred in conjuncts(scope):
        col: exp.Expr | None = None
        if isinstance(pred, exp.EQ):
            for side, other in ((pred.left, pred.right), (pred.right, pred.left)):
                if isinstance(side, exp.Column) and is_constant(other):
                    col = side
                    break
        elif (
            isinstance(pred, exp.In)
            and not pred.args.get("query")
            and isinstance(pred.this, exp.Column)
            and all(is_constant(e) for e in pred.expressions)
        ):
            col = pred.this
        if not isinstance(col, exp.Column) or col.name.lower() not in names:
            continue
        if col.table and col.table.lower() != alias:
            continue
        out.append((names[col.name.lower()], pred))
    return out


def _bind_into(branch: exp.Select, param: str, pred: exp.Expr, inner_sql: str) -> None:
    copy = pred.copy()
    inner: exp.Expr = exp.maybe_parse(inner_sql, dialect="duckdb")
    for c in copy.find_all(exp.Column):
        if c.name.lower() == param.lower():
            c.replace(inner.copy())
            break
    branch.where(copy, copy=False)


def expand_view(node: exp.Table, view: Resource) -> exp.Subquery:
    """The subquery that replaces ``node`` (a mention of ``view``), with params bound."""
    spec = view.view or {}
    sql = spec.get("sql")
    if not sql:
        raise PlanError(f"view {view.id} has no SQL in its definition")
    tree = _parsed(str(sql)).copy()
    branches = _branches(tree)
    params: dict[str, Any] = dict(spec.get("params") or {})
    for param, pred in _param_predicates(node, params):
        for i, branch in enumerate(branches):
            inner = _inner(params[param], i)
            if inner:
                _bind_into(branch, param, pred, inner)
    if spec.get("optional_branches"):
        for i, branch in enumerate(branches):
            label = f"{view.id} (branch {i + 1})"
            for t in branch.find_all(exp.Table):
                t.meta[OPTIONAL] = label
    alias = node.alias_or_name
    return exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def expand_views(tree: exp.Expr, registry: Registry) -> exp.Expr:
    """Inline every view mention of ``tree`` (views over views too), in place."""
    for _ in range(MAX_DEPTH):
        found = False
        for node in list(tree.find_all(exp.Table)):
            rid = table_resource_id(node)
            if rid is None or rid.split(".")[0] not in registry.providers:
                continue
            resource = registry.resource(rid)
            if resource.kind != "view":
                continue
            replacement = expand_view(node, resource)
            if node is tree:
                return replacement
            node.replace(replacement)
            found = True
        if not found:
            return tree
    raise PlanError(f"views nest deeper than {MAX_DEPTH} levels (a view that reads itself?)")
