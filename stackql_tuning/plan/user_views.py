"""The user's own views over provider tables: live, expanded in every statement that names them.

``CREATE VIEW v AS SELECT ... FROM aws.sagemaker.x`` makes no call: run in DuckDB it would be a
snapshot (one fetch, with whatever region a default gave), and a later ``WHERE region = 'b'`` on
it would silently find nothing. Instead, the view's query is kept in the Session
(:class:`UserView`) and, like a registry view (``plan.views``), replaces each later mention of
``v`` as a subquery before planning: the same rules as a CTE then apply (the view's own WHERE
binds the region; an outer filter on a param is a PlanError that says to move it inside).

A view is *live* when its query reads a provider table, directly, through a registry view or
through another live view (:func:`reads_provider`); a view over local tables only stays a plain
DuckDB view. Which view a table name means is a :data:`Resolver`'s answer (the run side asks
DuckDB's catalog, so temporary objects, ``USE`` and ``search_path`` count; :func:`lookup` is
the pure stand-in), and a CTE of the same name hides a view, as in DuckDB. A view's query is
expanded in a scope of its own: the views it reads first, then the statement's CTEs that would
capture its names are renamed (:func:`_free_names`).

Pure: no I/O; the run side (``run.user_views``) keeps DuckDB's catalog in step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.bindings import enclosing_view, provider_tables, within
from stackql_tuning.plan.targets import written_tables
from stackql_tuning.plan.views import keep_sample, relocate
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
#: the view a table name means where it stands, as DuckDB resolves it (the run side asks
#: DuckDB's catalog: temporary objects, ``USE``, ``search_path``); None for anything else
Resolver = Callable[[exp.Table], "UserView | None"]


def lookup(views: UserViews, node: exp.Table) -> UserView | None:
    """The view that the table name ``node`` means among ``views`` by name alone (temporary
    views first, then the main schema): the pure stand-in for DuckDB's resolution, used where
    no DuckDB is at hand (tests, the self-reference check of a new view)."""
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
    if not found:
        return None
    found.sort(key=lambda v: v.key[0] != TEMP_CATALOG)
    return found[0]


def _as_resolver(views: UserViews | Resolver) -> Resolver:
    if callable(views):
        return views
    return lambda node: lookup(views, node)


def _visible_cte(node: exp.Table, name: str) -> exp.CTE | None:
    """The CTE called ``name`` visible where ``node`` is (and so what ``node`` names), if any.
    A view's expansion is a scope of its own: the CTEs around it are not visible inside."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Subquery) and USER_VIEW in parent.meta:
            return None
        with_ = parent.args.get("with_")
        if isinstance(with_, exp.With):
            ctes = list(with_.expressions)
            inside = next((i for i, c in enumerate(ctes) if within(node, c)), None)
            for i, cte in enumerate(ctes):
                if cte.alias_or_name.lower() != name:
                    continue
                if inside is None or i < inside or (i == inside and with_.args.get("recursive")):
                    return cte
        parent = parent.parent
    return None


def _targets(tree: exp.Expr) -> set[int]:
    """Ids of the table names ``tree`` writes (not reads): they are never expanded."""
    out = {id(t) for t in written_tables(tree)}
    if isinstance(tree, exp.Insert | exp.Delete | exp.Update):
        target = tree.this
        if isinstance(target, exp.Schema):
            target = target.this
        out.add(id(target))
    return out


def _unqualified(node: exp.Table) -> bool:
    return not node.args.get("db") and not node.args.get("catalog")


def _mentions(tree: exp.Expr, resolve: Resolver) -> list[tuple[exp.Table, UserView]]:
    """The table names in ``tree`` that mean a user view, with the view (a CTE of that name in
    scope hides a view, as in DuckDB; the tables ``tree`` writes are not read)."""
    targets = _targets(tree)
    out = []
    for node in tree.find_all(exp.Table):
        if id(node) in targets or not isinstance(node.this, exp.Identifier):
            continue
        if _unqualified(node) and _visible_cte(node, node.name.lower()) is not None:
            continue
        view = resolve(node)
        if view is not None:
            out.append((node, view))
    return out


def expand_mention(node: exp.Table, view: UserView, body: exp.Expr | None = None) -> exp.Subquery:
    """The subquery that replaces ``node``, a mention of ``view``: the view's query (``body``,
    its expansion, when given), named by the mention's alias (else the view's name), with the
    view's column list, if any."""
    query = body if body is not None else view.query.copy()
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
    keep_sample(node, sub)
    sub.meta[USER_VIEW] = view.label
    return sub


def through_user_view(node: exp.Expr) -> str | None:
    """The user view (innermost) whose expansion holds ``node``, if any."""
    return enclosing_view(node, USER_VIEW)


#: how deeply user views may read each other (a chain of views, not a cycle: cycles are
#: refused at CREATE VIEW)
MAX_USER_DEPTH = 64

#: whether an object (table or view) ``catalog.schema.name`` exists (the run side asks DuckDB)
Exists = Callable[[str, str, str], bool]


def _body(view: UserView, resolve: Resolver, depth: int, exists: Exists | None) -> exp.Expr:
    """``view``'s query with the views it reads expanded, in its own name scope: an
    unqualified name that its own schema holds means that one, as DuckDB binds a view's query
    in the view's schema (``s.v`` over ``hp`` reads ``s.hp``; a ``USE`` later changes
    nothing)."""
    if depth > MAX_USER_DEPTH:
        raise PlanError(
            f"views read each other more than {MAX_USER_DEPTH} levels deep (a view that reads "
            "itself?)",
            hint="DROP VIEW the view that names itself, or CREATE OR REPLACE it over its tables",
        )
    return _expand(view_query(view, exists), resolve, depth, exists)


def view_query(view: UserView, exists: Exists | None) -> exp.Expr:
    """A copy of ``view``'s query whose unqualified names that the view's own schema holds
    are qualified with it (CTE names and table functions aside)."""
    query = view.query.copy()
    if exists is None:
        return query
    ctes = {c.alias_or_name.lower() for c in query.find_all(exp.CTE)}
    for table in list(query.find_all(exp.Table)):
        if not table.name or not _unqualified(table) or table.name.lower() in ctes:
            continue
        if exists(view.catalog, view.schema, table.name):
            table.set("db", exp.to_identifier(view.schema))
            table.set("catalog", exp.to_identifier(view.catalog))
    return query


def _free_names(node: exp.Table, body: exp.Expr) -> None:
    """Rename the CTEs visible at ``node`` that the names of ``body`` (a view's query, about
    to replace ``node``) would otherwise mean: a view's query reads the tables of the catalog,
    never a CTE of the statement that names the view. Each reference to a renamed CTE keeps
    its name as an alias (``FROM a`` -> ``FROM a__cte1 AS a``), so nothing else changes."""
    names = {
        t.name.lower()
        for t in body.find_all(exp.Table)
        if _unqualified(t) and isinstance(t.this, exp.Identifier)
    }
    root = node.root()
    taken = {t.name.lower() for t in root.find_all(exp.Table)} | names
    taken |= {c.alias_or_name.lower() for c in root.find_all(exp.CTE)}
    for name in sorted(names):
        cte = _visible_cte(node, name)
        if cte is None or not isinstance(cte.parent, exp.With):
            continue
        scope = cte.parent.parent
        assert scope is not None
        refs = [
            t
            for t in scope.find_all(exp.Table)
            if t.name.lower() == name and _unqualified(t) and _visible_cte(t, name) is cte
        ]
        n = 1
        while f"{name}__cte{n}" in taken:
            n += 1
        fresh = f"{name}__cte{n}"
        taken.add(fresh)
        alias = cte.args.get("alias")
        if isinstance(alias, exp.TableAlias):
            alias.set("this", exp.to_identifier(fresh))
        for t in refs:
            if not t.alias:
                t.set("alias", exp.TableAlias(this=t.this.copy()))
            t.set("this", exp.to_identifier(fresh))


def _unqualify_columns(node: exp.Table) -> None:
    """``main.v.n`` read from ``main.v``: the view's expansion is named ``v``, so a column
    qualified with the mention's schema (and catalog) is qualified with ``v`` alone."""
    if node.alias or _unqualified(node):
        return
    query = node.parent
    while query is not None and not isinstance(query, exp.Query):
        query = query.parent
    if query is None:
        return
    name = node.name.lower()
    for col in query.find_all(exp.Column):
        if col.table.lower() == name and col.args.get("db") is not None:
            col.set("db", None)
            col.set("catalog", None)


def _in_place_of_a_query(node: exp.Table, sub: exp.Subquery) -> exp.Expr:
    """What replaces ``node`` where DuckDB takes a table's name but not a subquery: ``COPY v
    TO`` (``COPY (SELECT * FROM (...) AS v) TO``), ``SUMMARIZE v`` (``SUMMARIZE SELECT * FROM
    (...) AS v``); ``sub`` itself anywhere else."""
    parent = node.parent
    if node.arg_key == "this" and isinstance(parent, exp.Copy):
        return exp.Subquery(this=exp.select("*").from_(sub))
    if node.arg_key == "this" and isinstance(parent, exp.Summarize):
        return exp.select("*").from_(sub)
    return sub


def _expand(tree: exp.Expr, resolve: Resolver, depth: int, exists: Exists | None) -> exp.Expr:
    for node, view in _mentions(tree, resolve):
        body = _body(view, resolve, depth + 1, exists)
        replacement = _in_place_of_a_query(node, expand_mention(node, view, body))
        if node is tree:
            return replacement
        _free_names(node, body)
        _unqualify_columns(node)
        node.replace(replacement)
    return tree


def expand_user_views(
    tree: exp.Expr, views: UserViews | Resolver, exists: Exists | None = None
) -> exp.Expr:
    """Every mention of a user view in ``tree`` replaced by its query, in place; each view's
    query is expanded first (views over views), in a name scope of its own: the statement's
    CTEs never capture its names. The tables ``tree`` writes stay as they are. ``views``: the
    session's views, or a :data:`Resolver` that says which view a name means. Returns the
    (maybe new) root. ``exists``: whether a view's own schema holds a name its query reads
    unqualified (then it means that one); without it, names stay as written."""
    return _expand(tree, _as_resolver(views), 0, exists)


def reads_provider(query: exp.Expr, views: UserViews | Resolver, registry: Registry) -> bool:
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


def mentions(tree: exp.Expr, views: UserViews | Resolver) -> bool:
    """Whether ``tree`` reads a user view (and so needs :func:`expand_user_views`)."""
    if not views:
        return False
    return bool(_mentions(tree, _as_resolver(views)))


__all__ = [
    "USER_VIEW",
    "Resolver",
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
    "view_query",
]
