"""The user's own views over provider tables: live, expanded in every statement that names them.

``CREATE VIEW v AS SELECT ... FROM aws.sagemaker.x`` makes no call: run in DuckDB it would be a
snapshot (one fetch, with whatever region a default gave), and a later ``WHERE region = 'b'`` on
it would silently find nothing. Instead, the view's query is kept in the Session
(:class:`UserView`) and, like a registry view (``plan.views``), replaces each later mention of
``v`` as a subquery before planning: the same rules as a CTE then apply (the view's own WHERE
binds the region; an outer filter on a param is a PlanError that says to move it inside).

A view is *live* when its query reads a provider table, directly, through a registry view or
through another live view (:func:`reads_provider`); a view over local tables only stays a plain
DuckDB view. Names resolve as DuckDB resolves them (``v``, ``main.v``, ``memory.main.v``,
``temp.v``), and a CTE of the same name hides a view, as in DuckDB.

Pure: no I/O; the run side (``run.user_views``) keeps DuckDB's catalog in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.bindings import provider_tables
from stackql_tuning.plan.targets import written_tables
from stackql_tuning.plan.views import MAX_DEPTH, relocate
from stackql_tuning.registry.loader import Registry

#: Subquery.meta key: the (qualified) name of the user view the subquery stands for
USER_VIEW = "stackql_user_view"
#: DuckDB's default catalog and schema, and its temporary catalog
DEFAULT_CATALOG, DEFAULT_SCHEMA, TEMP_CATALOG = "memory", "main", "temp"


@dataclass(frozen=True)
class UserView:
    """One live view: its name as DuckDB knows it, its query as written (never changed: a copy
    replaces each mention) and its column list (``CREATE VIEW v(a, b)``), if any."""

    name: str
    query: exp.Expr
    schema: str = DEFAULT_SCHEMA
    catalog: str = DEFAULT_CATALOG
    columns: tuple[str, ...] = ()
    #: marks this view's placeholder in DuckDB's catalog (``run.user_views``)
    token: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.catalog.lower(), self.schema.lower(), self.name.lower())

    @property
    def label(self) -> str:
        """The name to show: ``v``, or ``s.v`` outside the main schema."""
        if self.catalog.lower() == DEFAULT_CATALOG and self.schema.lower() == DEFAULT_SCHEMA:
            return self.name
        if self.schema.lower() == DEFAULT_SCHEMA:
            return f"{self.catalog}.{self.name}"
        return f"{self.schema}.{self.name}"

    @property
    def sql(self) -> str:
        return self.query.sql(dialect="duckdb")


UserViews = Mapping[tuple[str, str, str], UserView]


def lookup(views: UserViews, node: exp.Table) -> UserView | None:
    """The view that the table name ``node`` means, if any (temporary views first, as DuckDB
    resolves names); a CTE of that name in scope hides it."""
    if not views or not isinstance(node.this, exp.Identifier):
        return None
    name, db, catalog = node.name.lower(), node.db.lower(), node.catalog.lower()
    found = []
    for view in views.values():
        v_catalog, v_schema, v_name = view.key
        if v_name != name:
            continue
        if catalog:
            ok = (v_catalog, v_schema) == (catalog, db)
        elif db:  # schema.name, or catalog.name (its main schema)
            ok = v_schema == db or (v_catalog == db and v_schema == DEFAULT_SCHEMA)
        else:
            ok = v_schema == DEFAULT_SCHEMA
        if ok:
            found.append(view)
    if not found or (not db and not catalog and _cte_named(node, name)):
        return None
    found.sort(key=lambda v: v.key[0] != TEMP_CATALOG)
    return found[0]


def _cte_named(node: exp.Table, name: str) -> bool:
    """Whether a CTE called ``name`` is visible where ``node`` is (and so ``node`` names it)."""
    parent = node.parent
    while parent is not None:
        with_ = parent.args.get("with_")
        if isinstance(with_, exp.With):
            ctes = list(with_.expressions)
            inside = next((i for i, c in enumerate(ctes) if _within(node, c)), None)
            for i, cte in enumerate(ctes):
                if cte.alias_or_name.lower() != name:
                    continue
                if inside is None or i < inside or (i == inside and with_.args.get("recursive")):
                    return True
        parent = parent.parent
    return False


def _within(node: exp.Expr, container: exp.Expr) -> bool:
    parent: exp.Expr | None = node
    while parent is not None:
        if parent is container:
            return True
        parent = parent.parent
    return False


def _targets(tree: exp.Expr) -> set[int]:
    """Ids of the table names ``tree`` writes (not reads): they are never expanded."""
    out = {id(t) for t in written_tables(tree)}
    if isinstance(tree, exp.Insert | exp.Delete | exp.Update):
        target = tree.this
        if isinstance(target, exp.Schema):
            target = target.this
        out.add(id(target))
    return out


def expand_mention(node: exp.Table, view: UserView) -> exp.Subquery:
    """The subquery that replaces ``node``, a mention of ``view``: the view's query, named by
    the mention's alias (else the view's name), with the view's column list, if any."""
    query = view.query.copy()
    relocate(query, node)
    alias = node.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        table_alias = alias.copy()
    else:
        table_alias = exp.TableAlias(
            this=exp.to_identifier(node.alias or node.name),
            columns=[exp.to_identifier(c) for c in view.columns] or None,
        )
    sub = exp.Subquery(this=query, alias=table_alias)
    sub.meta[USER_VIEW] = view.label
    return sub


def through_user_view(node: exp.Expr) -> str | None:
    """The user view (innermost) whose expansion holds ``node``, if any."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Subquery) and USER_VIEW in parent.meta:
            return str(parent.meta[USER_VIEW])
        parent = parent.parent
    return None


def expand_user_views(tree: exp.Expr, views: UserViews) -> exp.Expr:
    """Every mention of a user view in ``tree`` (views over views too) replaced by its query, in
    place; the tables that ``tree`` writes stay as they are. Returns the (maybe new) root."""
    if not views:
        return tree
    targets = _targets(tree)
    for _ in range(MAX_DEPTH + 1):
        found = False
        for node in list(tree.find_all(exp.Table)):
            if id(node) in targets:
                continue
            view = lookup(views, node)
            if view is None:
                continue
            replacement = expand_mention(node, view)
            if node is tree:
                return replacement
            node.replace(replacement)
            found = True
        if not found:
            return tree
    raise PlanError(
        f"views nest deeper than {MAX_DEPTH} levels (a view that reads itself?)",
        hint="DROP VIEW the view that names itself, or CREATE OR REPLACE it over its tables",
    )


def reads_provider(query: exp.Expr, views: UserViews, registry: Registry) -> bool:
    """Whether ``query`` reads a provider table (or a registry view), directly or through the
    user views ``views``: a view over it must be live. An unknown resource is a PlanError."""
    tree = expand_user_views(query.copy(), views)
    return next(iter(provider_tables(tree, registry)), None) is not None


def view_definition(node: exp.Expr) -> tuple[exp.Table, exp.Expr, tuple[str, ...]] | None:
    """(name, query, column list) of a ``CREATE [OR REPLACE] [TEMP] VIEW`` statement, else
    None (a materialized view is not a view here: DuckDB has none, and says so)."""
    if not isinstance(node, exp.Create) or (node.args.get("kind") or "").upper() != "VIEW":
        return None
    props = node.args.get("properties")
    if props is not None and any(
        isinstance(p, exp.MaterializedProperty) for p in props.expressions
    ):
        return None
    target, query = node.this, node.expression
    columns: tuple[str, ...] = ()
    if isinstance(target, exp.Schema):
        columns = tuple(e.name for e in target.expressions)
        target = target.this
    if not isinstance(target, exp.Table) or query is None:
        return None
    return target, query, columns


def is_temporary(node: exp.Expr) -> bool:
    props = node.args.get("properties")
    return props is not None and any(
        isinstance(p, exp.TemporaryProperty) for p in props.expressions
    )


def candidate_key(name: exp.Table, temporary: bool) -> tuple[str, str, str]:
    """The key DuckDB will most likely give a view created under ``name`` (the run side reads
    the real one back from DuckDB's catalog)."""
    catalog = name.catalog.lower() or (TEMP_CATALOG if temporary else DEFAULT_CATALOG)
    schema = name.db.lower() or DEFAULT_SCHEMA
    if not name.catalog and name.db.lower() in (DEFAULT_CATALOG, TEMP_CATALOG):
        catalog, schema = name.db.lower(), DEFAULT_SCHEMA
    return (catalog, schema, name.name.lower())


def mentions(tree: exp.Expr, views: UserViews) -> bool:
    """Whether ``tree`` reads a user view (and so needs :func:`expand_user_views`)."""
    if not views:
        return False
    targets = _targets(tree)
    return any(
        lookup(views, t) is not None for t in tree.find_all(exp.Table) if id(t) not in targets
    )


__all__ = [
    "USER_VIEW",
    "UserView",
    "UserViews",
    "candidate_key",
    "expand_user_views",
    "is_temporary",
    "lookup",
    "mentions",
    "reads_provider",
    "through_user_view",
    "view_definition",
]
