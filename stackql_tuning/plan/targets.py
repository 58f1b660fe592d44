"""Which tables a DuckDB statement other than SELECT writes, and the rule that it never writes
a provider table (a provider table is the cloud's resources, read per statement: TRUNCATE,
DROP or MERGE on it would change only the local copy, and report success for a change the
cloud never saw); nor is a macro made over one (it would keep the rows of its CREATE).

Pure: no I/O.
"""

from __future__ import annotations

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


__all__ = ["check_no_macro_over_provider", "check_not_written", "written_tables"]
