"""Which tables a DuckDB statement other than SELECT writes, and the rule that it never writes
a provider table (a provider table is the cloud's resources, read per statement: TRUNCATE,
DROP or MERGE on it would change only the local copy, and report success for a change the
cloud never saw); nor is a macro made over one (it would keep the rows of its CREATE).

Which INSERT, UPDATE and DELETE statements are DuckDB's own (``local_target``: their table is
a local one, not a provider resource), and which statements ``--dry-run`` runs all the same
(``runs_in_dry_run``: they change only the session's in-memory database, so that the
statements after them, which read their macros, tables and views, can be previewed).

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError
from stackql_tuning.plan.bindings import node_location, provider_tables
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql.statement import Statement


def written_tables(node: exp.Expr) -> list[exp.Table]:
    """The tables a DuckDB statement other than SELECT changes (its target), not those it reads:
    TRUNCATE's, DROP's, ALTER's, COMMENT's and CREATE's names, MERGE INTO's target, COPY ... FROM's
    table."""
    targets: list[Any] = []
    if isinstance(node, exp.TruncateTable):
        targets = list(node.expressions)
    elif isinstance(node, exp.Drop):
        targets = [*(node.args.get("tables") or []), node.this]
    elif isinstance(node, exp.Copy):
        targets = [node.this] if node.args.get("kind") else []  # kind True: COPY t FROM file
    elif isinstance(node, exp.Alter | exp.Comment | exp.Merge | exp.Create):
        targets = [node.this]
    out: list[exp.Table] = []
    for t in targets:
        if isinstance(t, exp.Schema):  # CREATE TABLE x (cols)
            t = t.this
        if isinstance(t, exp.Table):
            out.append(t)
    return out


def check_not_written(stmt: Statement, registry: Registry) -> None:
    """A provider table is the cloud's resources: a statement that would change its local copy
    (TRUNCATE, DROP, MERGE, ...) changes nothing in the cloud, so it is refused, never an "OK"."""
    for target in written_tables(stmt.expression):
        for node, resource in provider_tables(target, registry):
            verb = stmt.expression.sql(dialect="duckdb").split(None, 1)[0].upper()
            raise PlanError(
                f"{verb} cannot change {resource.id}: a provider table holds the cloud's "
                "resources, read per statement; changing it here would change nothing in the cloud",
                location=node_location(node, Location(file=stmt.source, line=stmt.line)),
                hint=f"delete resources with DELETE FROM {resource.id} WHERE <its identity>; "
                "to work on a copy, CREATE TABLE my_copy AS SELECT ... FROM it",
            )


def check_no_provider_default(stmt: Statement, registry: Registry) -> None:
    """A PlanError for ``USE`` of a provider's catalog or a ``search_path`` through one: an
    unqualified name then meant a provider table's local copy, which holds what the last
    statement loaded (``DELETE FROM hyperparameter_tuning_jobs WHERE ...`` said "37 rows
    changed": no call was made, no job deleted; TRUNCATE and DROP got past
    ``check_not_written``)."""
    node = stmt.expression
    named: list[str] = []
    if isinstance(node, exp.Use) and isinstance(node.this, exp.Table):
        table = node.this
        named = [(table.db or table.name).lower()]
    elif isinstance(node, exp.Set) and "search_path" in _set_names(node):
        for item in node.expressions:
            value = item.this.expression if isinstance(item.this, exp.EQ) else None
            if isinstance(value, exp.Literal):
                named += search_path_catalogs(str(value.this))
    provider = next((n for n in named if n in registry.providers), None)
    if provider is not None:
        raise PlanError(
            f"{provider} is a provider: its tables are read per statement, and an unqualified "
            "name would reach only their local copies (what the last statement loaded)",
            location=Location(file=stmt.source, line=stmt.line, column=stmt.column),
            hint="name provider tables in full (provider.service.resource)",
        )


def check_no_macro_over_provider(stmt: Statement, registry: Registry) -> None:
    """A macro is a plan error when it reads a provider table (or a view over one): DuckDB
    would keep it over whatever table the session loaded last (the calls made at CREATE, a
    stale copy, then a missing column after another query)."""
    node = stmt.expression
    kind = str(node.args.get("kind") or "").upper() if isinstance(node, exp.Create) else ""
    if kind in ("MACRO", "FUNCTION") and any(True for _ in provider_tables(node, registry)):
        raise PlanError(
            f"CREATE {kind} over a provider table is not supported: it would read the rows "
            "loaded when it was created, not the API's",
            location=Location(file=stmt.source, line=stmt.line, column=stmt.column),
            hint="CREATE VIEW reads the provider tables again each time it is read",
        )


#: DuckDB's names of the session's own in-memory database (a table named with another catalog
#: is in an attached database, which may be a file)
IN_MEMORY = frozenset({"", "memory", "temp"})
#: what a ``search_path`` may hold and still keep unqualified names in that database
IN_MEMORY_PATH = IN_MEMORY | {"main", "pg_catalog", "information_schema"}


def search_path_catalogs(path: str) -> list[str]:
    """The first part (lower case) of each entry of a ``search_path`` value ("f.main, memory")."""
    return [e.strip().split(".")[0].lower() for e in path.split(",") if e.strip()]


#: what a statement that ``--dry-run`` runs may create: objects of the database itself
_CREATED = frozenset({"TABLE", "VIEW", "MACRO", "FUNCTION", "SEQUENCE", "SCHEMA", "INDEX"})


def _dml_target(node: exp.Expr) -> exp.Table | None:
    """The table an INSERT, UPDATE or DELETE writes."""
    if not isinstance(node, exp.Insert | exp.Update | exp.Delete):
        return None
    table = node.this
    if isinstance(table, exp.Schema):  # INSERT INTO t (cols)
        table = table.this
    return table if isinstance(table, exp.Table) else None


def local_target(stmt: Statement, registry: Registry, attached: Callable[[str], bool]) -> bool:
    """Whether ``stmt`` (an INSERT, UPDATE or DELETE) writes a table of DuckDB's own: its
    name has no catalog, or one that is an attached database (``attached``) and no provider.
    Anything else is a provider resource, named rightly or not (a misspelled provider gets the
    registry's "did you mean")."""
    table = _dml_target(stmt.expression)
    if table is None:
        return False
    catalog = table.catalog.lower()
    if not catalog:
        return True
    return catalog not in registry.providers and attached(catalog)


#: the settings a dry run sets all the same: how values compare and print, and how hard
#: DuckDB works (others may write files, ``log_query_path``, ``profiling_output``, or move
#: unqualified names out of memory, ``search_path``)
_DRY_SETTINGS = frozenset(
    {
        "timezone",
        "calendar",
        "default_collation",
        "default_order",
        "default_null_order",
        "threads",
        "memory_limit",
        "max_memory",
    }
)


def _set_names(node: exp.Set) -> list[str]:
    """The settings a SET names (lower case)."""
    out = []
    for item in node.expressions:
        target = item.this.this if isinstance(item.this, exp.EQ) else item.this
        out.append(target.name.lower() if isinstance(target, exp.Expr) else str(target).lower())
    return out


def runs_in_dry_run(
    stmt: Statement,
    attached: Callable[[str], bool],
    default_in_memory: Callable[[], bool] = lambda: True,
) -> bool:
    """Whether ``--dry-run`` runs ``stmt`` all the same: it changes only the session's
    in-memory database (a macro, a table, a view, a setting, a local table's rows), never a
    file, an extension or an attached database, and makes no call (its provider tables, if
    it reads any, are read empty). ``attached``: whether a name is an attached database's
    (``f.t`` is then that database's table ``t``, not schema ``f``'s); ``default_in_memory``:
    whether an unqualified name is in the session's own database (after ``USE f`` or a
    ``search_path``, it was a file's: a dry run wrote to it)."""
    node = stmt.expression
    if isinstance(node, exp.Set):
        return all(name in _DRY_SETTINGS for name in _set_names(node))
    if isinstance(node, exp.Transaction | exp.Commit | exp.Rollback):
        return True
    if isinstance(node, exp.Create):
        kind = str(node.args.get("kind") or "").upper()
        made = node.this
        if isinstance(made, exp.UserDefinedFunction):  # a macro's or function's name
            made = made.this
        elif isinstance(made, exp.Index):  # the table it indexes
            made = made.args.get("table")
        elif isinstance(made, exp.Schema):  # CREATE TABLE x (cols)
            made = made.this
        if kind not in _CREATED or not isinstance(made, exp.Table):
            return False
        targets: list[exp.Table] = [made]
    elif isinstance(node, exp.Drop | exp.Alter | exp.Comment | exp.TruncateTable | exp.Copy):
        targets = written_tables(node)  # (a COPY TO writes a file: it has none)
        if not targets:
            return False
    else:
        target = _dml_target(node)
        if target is None:
            return False
        targets = [target]
    return all(_in_memory(t, attached, default_in_memory) for t in targets)


def _in_memory(
    table: exp.Table, attached: Callable[[str], bool], default_in_memory: Callable[[], bool]
) -> bool:
    catalog, db = table.catalog.lower(), table.db.lower()
    if catalog:
        return catalog in IN_MEMORY
    if db and db in IN_MEMORY:
        return True
    if db and attached(db):
        return False
    return default_in_memory()


__all__ = [
    "IN_MEMORY",
    "IN_MEMORY_PATH",
    "check_no_macro_over_provider",
    "check_no_provider_default",
    "check_not_written",
    "local_target",
    "runs_in_dry_run",
    "search_path_catalogs",
    "written_tables",
]
