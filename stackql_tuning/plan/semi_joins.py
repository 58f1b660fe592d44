"""``param IN (SELECT ...)`` as the SEMI JOIN that binds.

A join to a source binds a param with that source's values (``plan.select``); the same test
written as ``IN (SELECT ...)`` bound nothing. Three job names from a file made a list and a
describe of each of the region's 31 jobs, not three describes; ``region IN (SELECT region
FROM my_regions)`` and the training jobs of ``IN (SELECT HyperParameterTuningJobName FROM
...tuning_jobs WHERE ... 'InProgress')`` were plan errors. A WHERE conjunct ``col IN (SELECT x
...)`` on a param column of a provider table of the same SELECT gets a ``SEMI JOIN (SELECT x
...) AS in_subquery_N ON col = in_subquery_N.value`` right after that table, which binds the
param as any such join does; ``(col, col2) IN (SELECT x, y ...)`` binds both, as pairs.

Over rows the statement holds (VALUES, CTEs, files), a one-column IN stays in the WHERE: a
SEMI JOIN keeps the rows the IN keeps and adds no column, so the answer is the same. Over a
provider table (directly, through a registry view or a CTE) the IN is *moved* into the SEMI
JOIN, its place in the WHERE left ``true``: a copy would be a second mention of that table,
sharing its fetch but not its own LIMIT or filter-before-hydrating. So is a tuple's, and a
view's tentative copy. The two say the same of a row: the IN is a top-level conjunct of the
WHERE, and the table is one the WHERE filters first (no outer join pads it), so the rows of
the FROM it removes are those the SEMI JOIN removes, before or after the other joins. An IN
whose types DuckDB's IN refuses (its ``=`` would cast them) stays, so DuckDB says so.

Only for a subquery DuckDB can run on its own (not correlated: the describe of it alone,
provider tables standing in as empty typed relations, fails otherwise) that gives a column
per compared expression and reads only what gives the same rows at each read and compares
text as the APIs do: VALUES, CTEs, files (``read_csv``, ``'picks.csv'``), provider tables
(fetched once per statement) and base tables of the session's database without a collation;
not a DuckDB view or macro (whose query is not in sight), ``random()``, ``nextval``, the
clock, a sample, or a ``COLLATE``. Not under a session collation other than binary (the
caller's to say). And only for a table the WHERE may filter first (no outer join pads it, no
sample or ASOF / POSITIONAL join). A view's ``param IN (SELECT ...)`` reaches here as a
``TENTATIVE`` copy in its branch (``plan.views``): one that is not made a binding here is
dropped by ``plan.select``. Pure but for ``describe`` (DuckDB's answer for the subquery's
columns) and ``plain_table`` (whether a name is such a base table).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from stackql_tuning.plan.bindings import (
    FROM_PROVIDER_IN,
    LOCAL_IN,
    TENTATIVE,
    RowSource,
    TableRef,
    column_types,
    compared,
    empty_relation,
    filters_first,
    find_provider_tables,
    from_position,
    needed_ctes,
    owner,
    padded,
    param_names,
    provider_relation,
    split_and,
    timeless,
    unstable,
)
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.plan.select import Describe
from stackql_tuning.registry.loader import Registry

#: the alias of the N-th subquery joined, and the name of its one column
ALIAS = "in_subquery_{}"
VALUE = "value"
#: marks a provider table of a subquery while it is copied (``_stand_in_query``)
_STAND_IN = "stackql_stand_in"


#: whether a name (and its schema, if given) is a base table whose rows read the same each
#: time and compare text as the APIs do (``Store.plain_table``)
PlainTable = Callable[[str, "str | None"], bool]
#: table functions that read a file: the same rows at each read
_FILE_READERS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_json_objects",
        "read_parquet",
        "parquet_scan",
    }
)


def in_subqueries_as_semi_joins(
    tree: exp.Expr, registry: Registry, describe: Describe | None, plain_table: PlainTable
) -> exp.Expr:
    """``tree`` (changed in place) with a SEMI JOIN for each ``param IN (SELECT ...)`` that
    can bind (module docstring)."""
    if describe is None or not has_in_subquery(tree):
        return tree
    refs = find_provider_tables(tree, registry)
    taken = {n.alias_or_name.lower() for n in tree.find_all(exp.Table, exp.Subquery)}
    for ref in refs:
        scope = ref.scope
        if not isinstance(scope, exp.Select) or scope.args.get("where") is None:
            continue
        position = from_position(ref.node, scope)
        if position is None or padded(ref.node) or not filters_first(ref.node):
            continue
        for pred in list(split_and(scope.args["where"].this)):
            found = _binding_query(pred, ref, refs, describe, plain_table)
            if found is None:
                continue
            query, live, comparable = found
            tentative = bool(pred.meta.get(TENTATIVE))
            if tentative and not comparable:
                continue  # a view's copy: its IN would refuse what the user's join compares
            n = 1
            while ALIAS.format(n) in taken:
                n += 1
            alias = ALIAS.format(n)
            taken.add(alias)
            joins = list(scope.args.get("joins") or [])
            cols = [c.copy() for c in compared(pred)]
            if comparable and (live or tentative or len(cols) > 1):
                # moved: a copy would be a second mention of its provider tables (module
                # docstring); a view's copy of the user's condition need not stay (its
                # `VARCHAR IN (SELECT 1)` was a binder error the join it came from is not).
                # The IN is a WHERE conjunct on a table filtered first, whose rows it keeps
                # as the SEMI JOIN right after that table does
                joins.insert(position + 1, _semi_join(cols, query, alias, live))
                pred.replace(exp.true())
            else:
                # it stays: DuckDB's IN refuses types its `=` would cast (`VARCHAR IN (SELECT
                # 1)`), and says so; a one-column one over local rows also filters the values
                # read for other calls (``source_filters``)
                if not live and len(cols) == 1:
                    pred.meta[LOCAL_IN] = True
                joins.insert(position + 1, _semi_join(cols, query.copy(), alias, live))
            scope.set("joins", joins)
            position += 1  # a second one goes after this one: the order of the IN conjuncts
    return tree


def has_in_subquery(tree: exp.Expr) -> bool:
    """Whether ``tree`` holds an ``IN (SELECT ...)`` at all."""
    return any(isinstance(p.args.get("query"), exp.Subquery) for p in tree.find_all(exp.In))


def _binding_query(
    pred: exp.Expr,
    ref: TableRef,
    refs: list[TableRef],
    describe: Describe,
    plain_table: PlainTable,
) -> tuple[exp.Expr, bool, bool] | None:
    """The query of ``pred`` when it is ``col IN (SELECT ...)`` (or ``(col, col2, ...) IN
    (SELECT ...)``) on param columns of ``ref`` that a SEMI JOIN to that query can bind,
    whether it reads a provider table, and whether DuckDB's IN takes its types (its ``=``
    casts more); else None."""
    if not isinstance(pred, exp.In):
        return None
    subquery = pred.args.get("query")
    if not isinstance(subquery, exp.Subquery) or pred.args.get("unnest"):
        return None
    cols = compared(pred)
    params = param_names(ref.resource)
    for col in cols:
        if not isinstance(col, exp.Column) or col.name.lower() not in params:
            return None
        if owner(col, refs, ref.scope) is not ref:
            return None
    assert ref.scope is not None
    ctes = needed_ctes(subquery, ref.scope)
    if ctes is None:
        return None
    parts: list[exp.Expr] = [subquery, *ctes]
    named = {c.alias_or_name.lower() for part in parts for c in part.find_all(exp.CTE)}
    named |= {c.alias_or_name.lower() for c in ctes}
    by_node = {id(r.node): r for r in refs}
    inside: list[TableRef] = []
    for part in parts:
        # the clock: the values read for the calls, one statement, and those the IN compares,
        # the next, may differ
        if unstable(part) is not None or part.find(exp.Collate) or not timeless(part):
            return None
        for table in part.find_all(exp.Table):
            if id(table) in by_node:
                inside.append(by_node[id(table)])
            elif not _steady_source(table, named, plain_table):
                return None
    if any(r is ref for r in inside):
        return None  # the IN's table itself (a CTE over it read in its own WHERE)
    alone = _stand_in_query(subquery, ctes, inside)
    names = describe(to_duckdb_sql(alone))
    if names is None or len(names) != len(cols):
        return None  # correlated (DuckDB cannot run it alone), or not a column per compared
    comparable = describe(to_duckdb_sql(_typed_in(cols, alone, ref))) is not None
    return subquery.this, bool(inside), comparable


def _typed_in(cols: list[exp.Expr], query: exp.Expr, ref: TableRef) -> exp.Expr:
    """``SELECT (CAST(NULL AS <col's type>), ...) IN (query)``: what DuckDB binds only where
    its IN compares those types."""
    types = column_types(ref.resource)
    typed: list[exp.Expr] = [
        exp.maybe_parse(f"CAST(NULL AS {types.get(c.name.lower(), 'VARCHAR')})", dialect="duckdb")
        for c in cols
    ]
    this = typed[0] if len(typed) == 1 else exp.Tuple(expressions=typed)
    return exp.select(exp.In(this=this, query=exp.Subquery(this=query)))


def _stand_in_query(
    subquery: exp.Subquery, ctes: list[exp.CTE], inside: list[TableRef]
) -> exp.Expr:
    """The query of ``subquery`` with the CTEs it reads, alone, each provider table it reads
    (``inside``: not filled while planning) an empty relation of that table's typed columns
    under its alias: what DuckDB describes."""
    for i, r in enumerate(inside):
        r.node.meta[_STAND_IN] = i
    try:
        query = RowSource(subquery, None, ctes).query().this
    finally:
        for r in inside:
            r.node.meta.pop(_STAND_IN, None)
    for table in list(query.find_all(exp.Table)):
        i = table.meta.pop(_STAND_IN, None)
        if i is not None:
            alias = table.args.get("alias")
            if not isinstance(alias, exp.TableAlias):
                alias = exp.TableAlias(this=exp.to_identifier(table.name))
            table.replace(empty_relation(provider_relation(inside[i].resource), alias.copy()))
    return query


def _steady_source(table: exp.Table, ctes: set[str], plain_table: PlainTable) -> bool:
    """Whether ``table`` reads rows that are the same at each read and compare as the APIs
    do: a CTE (checked in its turn), a file, or a base table without a collation."""
    source = table.this
    if isinstance(source, exp.Func):  # read_csv('picks.csv'); a macro's query is not in sight
        name = source.name if isinstance(source, exp.Anonymous) else source.sql_name()
        return name.lower() in _FILE_READERS
    if not isinstance(source, exp.Identifier):
        return False
    if not table.args.get("db") and source.name.lower() in ctes:
        return True
    if source.quoted and ("." in source.name or "/" in source.name):
        return True  # FROM 'picks.csv'
    return plain_table(source.name, table.db or None)


def _semi_join(cols: list[exp.Expr], query: exp.Expr, alias: str, live: bool) -> exp.Join:
    """``SEMI JOIN (query) AS alias(value) ON col = alias.value`` (for several columns
    ``alias(value_1, ...) ON col = alias.value_1 AND ...``); ``live``: the query reads a
    provider table (``FROM_PROVIDER_IN``)."""
    names = [VALUE] if len(cols) == 1 else [f"{VALUE}_{k + 1}" for k in range(len(cols))]
    source = exp.Subquery(
        this=query,
        alias=exp.TableAlias(
            this=exp.to_identifier(alias), columns=[exp.to_identifier(n) for n in names]
        ),
    )
    equalities = [
        exp.EQ(this=c, expression=exp.column(n, table=alias))
        for c, n in zip(cols, names, strict=True)
    ]
    if live:
        for eq in equalities:
            eq.meta[FROM_PROVIDER_IN] = True
    return exp.Join(this=source, kind="SEMI", on=exp.and_(*equalities))
