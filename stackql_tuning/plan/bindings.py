"""Finding provider tables in a statement and the parameter bindings their predicates give.

Pure functions over sqlglot trees and the registry model: no I/O, no SDK imports. A binding is
``column = constant``, ``column IN (constants)``, ``constant = column``, or ``column = other
provider table's column`` (a dependent binding resolved at run time), taken from the top-level
AND conjuncts of the WHERE clause and the JOIN ... ON conditions of the table's own SELECT.
Constant expressions (``lower('US-EAST1')``) are evaluated by an injected callable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError, closest
from stackql_tuning.plan.clock import CLOCK_CALLS, CLOCK_NODES
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Method, Resource, split_identity

#: evaluates a constant SQL expression (DuckDB SQL text) to a Python value
ConstEval = Callable[[str], Any]
#: Subquery.meta key of a view's expansion (``plan.views``): the view's id
VIEW = "stackql_view"
#: meta key of a predicate copied into a view's branch: the view column it was written on
VIEW_COLUMN = "stackql_view_column"
#: meta of a condition that a view's rule 4 copied into its branch (``plan.views``): not the
#: user's own test of the table's column, so no literal of it is refused for not being one
#: of the column's values (`Strategy <> 'bayesian'` on the view answered, and still does)
FLOWED = "stackql_flowed_condition"
#: meta of a WHERE conjunct ``col IN (SELECT ...)`` whose subquery reads only rows the
#: statement holds, not correlated (``plan.semi_joins`` checked it and joined it)
LOCAL_IN = "stackql_local_in"
#: meta of an ON equality of the SEMI JOIN that an ``IN (SELECT ...)`` over a provider table
#: became (``plan.semi_joins``): it binds a param only where no source the statement holds
#: does (``t, picks p WHERE p.name = t.name AND t.name IN (SELECT ... 31 jobs)``: the 4 picks)
FROM_PROVIDER_IN = "stackql_from_provider_in"
#: meta of a view's ``param IN (SELECT ...)`` copied into a branch onto its table's param
#: (``plan.views``): kept only where ``plan.semi_joins`` makes it a binding, else dropped
#: (``drop_marked``): it may be correlated, which only DuckDB can tell
TENTATIVE = "stackql_tentative_in"
#: meta of a ``TENTATIVE`` copy whose subquery reads a provider table that the statement
#: binds (a view joined to the jobs table): a plan that cannot bind that copy's own mention
#: is made again without it (``run.select.plan_select``)
SPECULATIVE = "stackql_speculative_in"


@dataclass
class TableRef:
    """One mention of a provider table in the statement."""

    node: exp.Table
    resource: Resource
    alias: str
    scope: exp.Expr | None  # the SELECT (or DELETE) whose predicates apply to it


@dataclass
class Bindings:
    #: param/column (lower-cased) -> constant values (one value for =, several for IN)
    static: dict[str, list[Any]] = field(default_factory=dict)
    #: param/column (lower-cased) -> (other table's or view's alias, its column name)
    dependent: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: every source the SQL's equalities join each dependent param to, in order (``dependent``
    #: holds one; planning may pick another that is bound: ``plan.select``)
    candidates: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: the ``dependent`` params taken from a partner's same-named column, not from the SQL's
    #: own equality (``plan.select.colocate``): left out where the source lacks the column
    located: set[str] = field(default_factory=set)
    #: predicates on this table that are not bindings (candidates for pushdown)
    residual: list[exp.Expr] = field(default_factory=list)
    #: the conjuncts that gave ``static`` its values: (predicate, param, its own values)
    sources: list[tuple[exp.Expr, str, list[Any]]] = field(default_factory=list)
    #: the ``static`` params whose values are the session's defaults, not the statement's
    defaulted: set[str] = field(default_factory=set)
    #: a param whose conjuncts allow no text in common (``region = 'a' AND region = 'b'``):
    #: no row can pass them, so no call is needed; its name and its conjuncts' values
    contradicted: tuple[str, list[list[Any]]] | None = None
    #: dependent params whose partner column the same conditions hold to texts: param ->
    #: (partner alias, its column, the texts). ``h.region = t.region AND t.region = 'x'``:
    #: every row of h that the query keeps is in region x, so h need not wait on t for it
    implied: dict[str, tuple[str, str, list[Any]]] = field(default_factory=dict)


def table_resource_id(node: exp.Table) -> str | None:
    if node.args.get("catalog") and node.args.get("db") and node.name:
        return f"{node.catalog}.{node.db}.{node.name}".lower()
    return None


def provider_tables(tree: exp.Expr, registry: Registry) -> Iterator[tuple[exp.Table, Resource]]:
    """(node, resource) for every 3-part table name whose first part is a provider; an unknown
    service or resource is a PlanError located at the name."""
    providers = registry.providers
    for node in list(tree.find_all(exp.Table)):
        rid = table_resource_id(node)
        if rid is None:
            continue
        if rid.split(".")[0] not in providers:
            _check_misspelled_provider(node, rid, registry)
            continue
        try:
            resource = registry.resource(rid)
        except PlanError as e:
            e.location = node_location(node, e.location)
            raise
        yield node, resource


def find_provider_tables(tree: exp.Expr, registry: Registry) -> list[TableRef]:
    """Every provider table of ``tree``, with its alias and the scope its predicates live in."""
    refs: list[TableRef] = []
    for node, resource in provider_tables(tree, registry):
        alias = node.alias_or_name
        scope = node.find_ancestor(exp.Select, exp.Delete, exp.Update)
        refs.append(TableRef(node=node, resource=resource, alias=alias, scope=scope))
    return refs


def node_location(node: exp.Expr, base: Location) -> Location:
    """Where ``node`` starts in the statement's text: the line and column of its first token
    (sqlglot notes each token's line, *last* column and offsets; a table's first token is its
    provider part, a column's its qualifier)."""
    meta = _first_token_meta(node)
    line, col = meta.get("line"), meta.get("col")
    if (
        isinstance(col, int)
        and isinstance(meta.get("start"), int)
        and isinstance(meta.get("end"), int)
    ):
        col = max(1, col - (meta["end"] - meta["start"]))
    return Location(file=base.file, line=line or base.line, column=col, resource=base.resource)


def _first_token_meta(node: exp.Expr) -> dict[str, Any]:
    parts: list[Any] = []
    if isinstance(node, exp.Table | exp.Column):
        parts = [node.args.get(k) for k in ("catalog", "db", "table")]
    parts += [node, node.this]
    for part in parts:
        meta = getattr(part, "meta", None) if isinstance(part, exp.Expr) else None
        if meta and meta.get("line") is not None:
            return dict(meta)
    return {}


def _check_misspelled_provider(node: exp.Table, rid: str, registry: Registry) -> None:
    """A PlanError for ``googl.aiplatform.x``: a 3-part name whose first part is close to a
    provider that has the second part as a service (DuckDB said only "schema does not exist").
    Other 3-part names (an attached database's tables) are left to DuckDB."""
    first, service, _ = rid.split(".", 2)
    for provider in closest(first, registry.providers):
        if service in registry.provider(provider).service_names:
            raise PlanError(
                f"unknown provider {first!r} in {rid}",
                location=node_location(node, Location()),
                hint=f"did you mean {provider!r}? (SHOW PROVIDERS lists them)",
            )


def conjuncts(scope: exp.Expr | None, table: exp.Expr | None = None) -> Iterator[exp.Expr]:
    """Top-level AND conjuncts of the scope's WHERE and of its JOIN ... ON conditions that
    restrict ``table``'s rows (all of them when ``table`` is None).

    An outer join's ON condition does not restrict the side whose rows it keeps: in ``a LEFT
    JOIN b ON b.k = a.k AND a.state = 'X'`` every row of ``a`` stays, so ``a.state = 'X'``
    must neither bind nor be pushed down for ``a`` (it was, and dropped rows); it may for ``b``.
    An ANTI join's restricts only the table it joins (the rows of ``a`` it keeps are those
    that fail it).
    """
    if scope is None:
        return
    where = scope.args.get("where")
    if where is not None:
        yield from split_and(where.this)
    for join in scope.args.get("joins") or []:
        on = join.args.get("on")
        if (join.kind or "").upper() == "ANTI" and table is not None and join.this is not table:
            continue  # it keeps the rows its ON fails: only the table it joins is restricted
        if on is not None and (table is None or not keeps_rows_of(join, table)):
            yield from split_and(on)


#: functions whose value may differ from one evaluation to the next
_VOLATILE = frozenset({"random", "uuid", "gen_random_uuid", "setseed", "nextval"})


def steady(pred: exp.Expr) -> bool:
    """Whether condition ``pred`` gives a row the same answer wherever it is evaluated (before
    a join or after, inside a view or outside it): no subquery, window, aggregate, star,
    placeholder or function whose value changes from one call to the next (``random()``)."""
    if any(True for _ in pred.find_all(exp.Query, exp.Window, exp.AggFunc, exp.Star)):
        return False
    if any(True for _ in pred.find_all(exp.Placeholder, exp.Parameter)):
        return False
    for f in pred.find_all(exp.Func):
        name = (f.name if isinstance(f, exp.Anonymous) else f.sql_name()).lower()
        if name in _VOLATILE or isinstance(f, exp.Rand):
            return False
    return True


#: what reads the clock (``plan.clock`` pins it in a statement's conditions) or the
#: transaction: one value within a statement, another in the next
_CLOCKS = (*CLOCK_NODES, exp.CurrentTransaction, exp.CurrentStatement)
_CLOCK_NAMES = CLOCK_CALLS | {
    "statement_timestamp",
    "age",  # age(ts): from the current date
    "txid_current",
    "current_transaction_id",
    "current_query",
    "current_query_id",
    "currval",
}


def timeless(node: exp.Expr) -> bool:
    """Whether ``node`` gives the same value in another statement: it reads neither the clock
    nor the transaction (a condition evaluated on rows as they arrive, and again by the
    statement's query: ``createTime > now() - INTERVAL 1 HOUR`` kept a row the query then
    dropped)."""
    if node.find(*_CLOCKS) is not None:
        return False
    return not any(f.name.lower() in _CLOCK_NAMES for f in node.find_all(exp.Anonymous))


def from_items(scope: exp.Expr) -> list[exp.Expr]:
    """The items of ``scope``'s FROM, in order: the first one, then each join's."""
    first = scope.args.get("from_")
    items = [first.this] if first is not None else []
    return items + [j.this for j in scope.args.get("joins") or []]


def from_position(item: exp.Expr, scope: exp.Expr) -> int | None:
    """Where ``item`` is in ``scope``'s FROM: -1 for the first item, ``i`` for the item of
    its ``i``th join; None when it is neither."""
    shift = 1 if scope.args.get("from_") is not None else 0
    return next((i - shift for i, it in enumerate(from_items(scope)) if it is item), None)


def empty_relation(columns: list[tuple[str, str]], alias: exp.TableAlias) -> exp.Subquery:
    """``(SELECT CAST(NULL AS <type>) AS <name>, ... WHERE false) AS <alias>``: a typed
    relation of ``columns`` (name, DuckDB type) with no row."""
    cols = ", ".join(f'CAST(NULL AS {db_type}) AS "{name}"' for name, db_type in columns)
    select: exp.Expr = exp.maybe_parse(f"SELECT {cols} WHERE false", dialect="duckdb")
    return exp.Subquery(this=select, alias=alias)


def provider_relation(resource: Resource) -> list[tuple[str, str]]:
    """A provider table's columns in DuckDB (name, type): the resource's fields, then its
    param columns."""
    return [(c.name, c.db_type) for c in resource.columns] + [
        (p.name, p.db_type) for p in resource.param_columns
    ]


def column_types(resource: Resource) -> dict[str, str]:
    """A provider table's columns (lower-case name) -> DuckDB type (``provider_relation``)."""
    return {name.lower(): db_type for name, db_type in provider_relation(resource)}


def unqualified(pred: exp.Expr) -> exp.Expr:
    """A copy of ``pred`` whose columns name no table (evaluated over one table's rows)."""
    copy = pred.copy()
    for c in copy.find_all(exp.Column):
        c.set("table", None)
    return copy


def carries(resource: Resource, method: Method, column: str) -> bool:
    """Whether ``method``'s reply holds ``column`` of ``resource`` (a list's summary may lack
    what only the get returns), itself or the field it is derived from."""
    c = resource.column(column)
    if c is None:
        return False
    omitted = {o.lower() for o in method.omits}
    if (not c.methods or method.name in c.methods) and c.name.lower() not in omitted:
        return True
    src = c.derive.get("column", "") if c.derive else ""
    src_col = resource.column(src) if src else None
    return src_col is not None and method.name in src_col.methods


#: a star with a pattern: DuckDB's ``* LIKE 'x%'``, ``* ILIKE``, ``* SIMILAR TO``, ``* GLOB``
#: (sqlglot keeps a plain ``* ILIKE`` in the star itself, and reads ``* NOT GLOB 'x'`` as
#: ``NOT * GLOB 'x'``)
STAR_PATTERNS = (exp.Like, exp.ILike, exp.SimilarTo, exp.Glob)


def star_in(projection: exp.Expr) -> exp.Star | exp.Column | None:
    """The star (``*``, or ``alias.*`` as a Column) that a SELECT's ``projection`` selects
    columns by: the projection itself, or the star under its pattern (``* NOT ILIKE 'x'``);
    None for any other projection."""
    node = projection
    if isinstance(node, exp.Not) and isinstance(node.this, STAR_PATTERNS):
        node = node.this
    if isinstance(node, STAR_PATTERNS):
        node = node.this
    if isinstance(node, exp.Star):
        return node
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
        return node
    return None


def alone_in(item: exp.Expr) -> exp.Select | None:
    """The SELECT whose FROM holds ``item`` and nothing else (no join), or None."""
    scope = item.find_ancestor(exp.Select)
    if scope is None or [id(i) for i in from_items(scope)] != [id(item)]:
        return None
    return scope


def item_columns(pred: exp.Expr, item: exp.Expr) -> list[exp.Column] | None:
    """The columns of condition ``pred`` when each is a column of FROM item ``item``:
    qualified by its alias, or unqualified where ``item`` is its SELECT's only FROM item (with
    two, which one an unqualified name belongs to is DuckDB's call). None when one is not
    (another item's, or a struct path sqlglot read as a qualified name), or there is none."""
    columns = list(pred.find_all(exp.Column))
    scope = item.find_ancestor(exp.Select)
    alias = item.alias_or_name.lower()
    single = scope is not None and len(from_items(scope)) == 1
    for c in columns:
        if c.args.get("db") or (c.table.lower() != alias if c.table else not single):
            return None
    return columns or None


def output_columns(select: exp.Select) -> dict[str, exp.Expr]:
    """``select``'s output names (lower-case) -> the expression each holds, as an ORDER BY
    key naming one reads it: the aliases, and a star's ``REPLACE (expr AS c)`` and ``RENAME
    (a AS c)`` (whose ``c`` holds another value than the FROM's column ``c``)."""
    out: dict[str, exp.Expr] = {}
    for e in select.expressions:
        star = e if isinstance(e, exp.Star) else e.this if isinstance(e, exp.Column) else None
        if isinstance(star, exp.Star):
            for item in star.args.get("replace") or []:
                out[item.alias_or_name.lower()] = item
            for item in star.args.get("rename") or []:
                out[item.alias_or_name.lower()] = item
            continue
        out[e.alias_or_name.lower()] = e
    return out


def names_an_output(key: exp.Expr, outputs: dict[str, exp.Expr]) -> bool:
    """Whether an ORDER BY key's column may be an output column of another value (``AS
    CreationTime`` over a describe-only field): DuckDB would sort by the output."""
    for col in key.find_all(exp.Column):
        out = outputs.get(col.name.lower())
        if out is None or col.table:
            continue
        if not (isinstance(out, exp.Column) and out.name.lower() == col.name.lower()):
            return True
    return False


def limit_rows(select: exp.Expr) -> int | None:
    """``LIMIT n OFFSET m`` of ``select`` as the n + m first rows it reads, when both are
    integer literals and the LIMIT counts rows (not ``10%``, not ``WITH TIES``); else None."""
    limit = select.args.get("limit")
    if not isinstance(limit, exp.Limit) or not isinstance(limit.expression, exp.Literal):
        return None
    options = limit.args.get("limit_options")
    if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
        return None  # LIMIT 10%: a share of every row
    offset = select.args.get("offset")
    if offset is not None and not isinstance(offset.expression, exp.Literal):
        return None
    try:
        n = int(limit.expression.this)
        total = n + (int(offset.expression.this) if offset is not None else 0)
    except ValueError:  # OFFSET 1.5: DuckDB's to read
        return None
    if n == 0:
        return 0  # no row, whatever the OFFSET skips (LIMIT 0 OFFSET 5 made 5 gets)
    # past a BIGINT (LIMIT 9223372036854775807 OFFSET 1) it limits nothing, and the LIMIT that
    # the planner wrote from it overflowed in DuckDB ("INT128 ... out of range for INT64")
    return total if total < 2**63 else None


def filters_first(item: exp.Expr) -> bool:
    """Whether the WHERE of the SELECT whose FROM holds ``item`` may filter ``item``'s rows
    before the rest of that SELECT runs (in the API, or before the gets). Not when a sample is
    taken before the WHERE (``USING SAMPLE``, ``TABLESAMPLE``: the sample came from the
    filtered rows, 5 of them all matching, not 2 of 5), nor when an ASOF or POSITIONAL join
    pairs the rows (which row a row matches, or its position, depends on the rows removed)."""
    scope = item.find_ancestor(exp.Select)
    if scope is None or scope.args.get("sample") is not None or item.args.get("sample"):
        return False
    methods = {str(j.args.get("method") or "").upper() for j in scope.args.get("joins") or []}
    return not methods & {"ASOF", "POSITIONAL"}


def padded(item: exp.Expr) -> bool:
    """Whether an outer join of the SELECT whose FROM holds ``item`` adds rows where ``item``
    has none (its columns NULL): a LEFT or FULL join that joins it, a RIGHT or FULL one after
    it. A condition of the WHERE that holds on NULL (``x IS NULL``) then keeps such a row, so
    it cannot filter ``item``'s rows before the join: a row whose matches it removed would
    come back padded, and pass. An item of no FROM of its SELECT (nested) counts as padded."""
    scope = item.find_ancestor(exp.Select)
    position = from_position(item, scope) if scope is not None else None
    if scope is None or position is None:
        return True
    joins = list(scope.args.get("joins") or [])
    for i, join in enumerate(joins[max(position, 0) :], start=max(position, 0)):
        side = (join.side or "").upper()
        if side == "FULL" or (side == "LEFT" and i == position):
            return True
        if side == "RIGHT" and position < i:
            return True
    return False


def keeps_rows_of(join: exp.Join, table: exp.Expr) -> bool:
    """Whether outer ``join`` keeps every row of ``table`` (a table of its scope)."""
    side = (join.side or "").upper()
    joined = join.this is table
    return side == "FULL" or (side == "LEFT" and not joined) or (side == "RIGHT" and joined)


def group_filters(scope: exp.Expr | None) -> Iterator[exp.Expr]:
    """The AND conjuncts of ``scope``'s HAVING and QUALIFY: filters of its grouped (or
    windowed) rows, which ``conjuncts`` does not give."""
    for clause in ("having", "qualify"):
        node = scope.args.get(clause) if scope is not None else None
        if node is not None:
            yield from split_and(node.this)


def known_columns(item: exp.Expr) -> set[str] | None:
    """The (lower-case) columns of a FROM item when its SQL names them (a VALUES list's or a
    subquery's alias columns, a subquery's projections); None when it does not."""
    alias = item.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        return {c.name.lower() for c in alias.columns}
    query = item.this if isinstance(item, exp.Subquery) else None
    if isinstance(query, exp.Select) and not any(
        isinstance(p, exp.Star) for p in query.expressions
    ):
        return {p.alias_or_name.lower() for p in query.expressions}
    return None


def is_null_test(pred: exp.Expr) -> bool:
    """Whether ``pred`` is true only of NULL: ``x IS NULL``, ``NOT (x IS NOT NULL)``, ``x IS
    NOT DISTINCT FROM NULL``."""
    negations = 0
    while isinstance(pred, exp.Paren | exp.Not):
        negations += isinstance(pred, exp.Not)
        pred = pred.this
    if isinstance(pred, exp.Is) and isinstance(pred.expression, exp.Null):
        return negations % 2 == 0
    if isinstance(pred, exp.NullSafeEQ) and negations % 2 == 0:
        return any(isinstance(side, exp.Null) for side in (pred.left, pred.right))
    return False


def split_and(node: exp.Expr) -> Iterator[exp.Expr]:
    """The top-level AND conjuncts of ``node``, parentheses around them taken off."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        yield from split_and(node.left)
        yield from split_and(node.right)
    else:
        yield node


#: what keeps an expression from being a value the API can be given: a column, a query, a
#: placeholder, and a COLLATE (``= 'X' COLLATE NOCASE`` matches 'x' too, which a get by the
#: name 'X' never answers with: it bound the name, and gave 0 rows where DuckDB gives 1)
_NOT_CONSTANT = (exp.Column, exp.Star, exp.Subquery, exp.Select, exp.Placeholder, exp.Collate)


def is_constant(node: exp.Expr) -> bool:
    if isinstance(node, _NOT_CONSTANT):
        return False
    return not any(isinstance(n, _NOT_CONSTANT) for n in node.find_all(exp.Expr))


def equalities_as_in(tree: exp.Expr) -> exp.Expr:
    """``c = 'a' OR c = 'b'`` (or ``c IN (...)`` among them) as ``c IN ('a', 'b')``, in place:
    the same predicate (NULLs too), in the one form that binds a parameter. An OR of regions
    was refused ("cannot query ... without its required parameters").

    Only where the two forms surely agree: the values are literals of one kind (DuckDB casts an
    IN list to one type: ``x = '1.0' OR x = 2`` matched ``'1'`` as ``x IN ('1.0', 2)``), and
    the OR is no part of a SELECT list (its text names the output column). ``c = ANY(['a',
    'b'])`` (a list of such literals) is that IN too: it was "cannot evaluate ANY([...])"."""
    for eq in list(tree.find_all(exp.EQ)):
        listed = _any_of_literals(eq)
        if listed is not None and not _in_projection(eq):
            eq.replace(exp.In(this=listed[0].copy(), expressions=[v.copy() for v in listed[1]]))
    for node in list(tree.find_all(exp.Or)):
        if node.root() is not tree:
            continue  # inside an OR already rewritten
        if _in_projection(node):
            continue
        column: exp.Column | None = None
        values: list[exp.Expr] = []
        parts: list[exp.Expr] = []
        stack: list[exp.Expr] = [node]
        while stack:
            part = stack.pop()
            while isinstance(part, exp.Paren):
                part = part.this
            if isinstance(part, exp.Or):
                stack += [part.right, part.left]
            else:
                parts.append(part)
        for part in parts:
            col, vals = column_and_constants(part)
            if col is None or (column is not None and col.sql().lower() != column.sql().lower()):
                column = None
                break
            column = column or col
            values += vals
        kinds = {(v.is_string if isinstance(v, exp.Literal) else None) for v in values}
        if column is not None and len(kinds) == 1 and None not in kinds:
            node.replace(exp.In(this=column.copy(), expressions=[v.copy() for v in values]))
    return tree


def _any_of_literals(eq: exp.EQ) -> tuple[exp.Column, list[exp.Expr]] | None:
    """(column, values) of ``column = ANY([literals of one kind])``, else None."""
    for col, other in ((eq.left, eq.right), (eq.right, eq.left)):
        if not isinstance(col, exp.Column) or not isinstance(other, exp.Any):
            continue
        inner = other.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if not isinstance(inner, exp.Array) or not inner.expressions:
            return None
        values = list(inner.expressions)
        kinds = {v.is_string if isinstance(v, exp.Literal) else None for v in values}
        if len(kinds) == 1 and None not in kinds:
            return col, values
    return None


def _in_projection(node: exp.Expr) -> bool:
    """Whether ``node`` is inside a SELECT list (at any depth, a scalar subquery's too)."""
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, exp.Select) and any(child is e for e in parent.expressions):
            return True
        child, parent = parent, parent.parent
    return False


def column_and_constants(pred: exp.Expr) -> tuple[exp.Column | None, list[exp.Expr]]:
    """(column, constants) of ``col = const`` or ``col IN (consts)``; (None, []) otherwise."""
    if isinstance(pred, exp.EQ):
        for col, other in ((pred.left, pred.right), (pred.right, pred.left)):
            if isinstance(col, exp.Column) and is_constant(other):
                return col, [other]
    elif (
        isinstance(pred, exp.In)
        and isinstance(pred.this, exp.Column)
        and not pred.args.get("query")
        and pred.expressions
        and all(is_constant(e) for e in pred.expressions)
    ):
        return pred.this, list(pred.expressions)
    return None, []


def constant_value(node: exp.Expr, const_eval: ConstEval | None, *, names: bool = False) -> Any:
    """The Python value of a constant expression; literals without calling out. ``names``:
    the value names a resource to change (a DELETE's job), so it must be the same in the
    next run and under ``--dry-run``: no macro or function the planner does not know (a
    macro over ``random()``, or one that reads a table), and no clock."""
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        try:
            return int(text)
        except ValueError:
            return float(text)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return -constant_value(node.this, const_eval)
    if isinstance(node, exp.Paren):
        return constant_value(node.this, const_eval, names=names)
    if const_eval is None:
        raise PlanError(f"cannot evaluate {node.sql()} while planning")
    if names:
        _check_names_the_same(node)
    volatile = next(
        (
            f
            for f in node.find_all(exp.Rand, exp.Uuid, exp.Anonymous)
            if not isinstance(f, exp.Anonymous) or f.name.lower() in _VOLATILE
        ),
        None,
    )
    if volatile is not None:
        # evaluated once for the calls, again for --dry-run: a preview could name other
        # resources than the run
        raise PlanError(
            f"{node.sql(dialect='duckdb')} gives another value each time "
            f"({volatile.sql(dialect='duckdb')}): it cannot name what to call",
            hint="write the value itself",
        )
    return const_eval(node.sql(dialect="duckdb"))


def _check_names_the_same(node: exp.Expr) -> None:
    """A PlanError when ``node`` may give another value in another run: a call the planner
    does not know (a user's macro: ``pick_id()`` over ``random()`` deleted a job picked at
    random), or the clock (``epoch_ms(now())``: --dry-run showed another job than the run)."""
    unknown = [f for f in node.find_all(exp.Anonymous) if f.name.lower() not in _KNOWN_PURE]
    if not timeless(node):
        why = "it reads the clock, which gives another value in the next run (and under --dry-run)"
    elif unknown:
        why = f"{unknown[0].name} is a macro or a function the planner does not know"
    else:
        return
    raise PlanError(
        f"{node.sql(dialect='duckdb')} cannot name a resource to change: {why}",
        hint="write the value itself (a literal), so that what --dry-run shows is what runs",
    )


#: functions sqlglot does not know (its own nodes are known) that give the same value for
#: the same arguments
_KNOWN_PURE = frozenset({"printf"})

#: DuckDB functions whose value changes between evaluations (``random()``, ``uuid()`` and
#: ``gen_random_uuid()`` are their own sqlglot nodes)
_VOLATILE = frozenset({"uuidv4", "uuidv7", "nextval", "currval", "setseed"})


def _names(resource: Resource) -> set[str]:
    names = {c.name.lower() for c in resource.columns}
    for m in resource.methods:
        names.update(p.name.lower() for p in m.params)
    return names


def param_spellings(resource: Resource) -> dict[str, str]:
    """The params of the resource's SELECT methods: lower-cased name -> the API's spelling."""
    return {p.name.lower(): p.name for m in resource.methods_for("SELECT") for p in m.params}


def param_names(resource: Resource) -> set[str]:
    """Names that a predicate can bind (lower-cased): the params of its SELECT methods."""
    return set(param_spellings(resource))


def owner(col: exp.Column, refs: list[TableRef], scope: exp.Expr | None) -> TableRef | None:
    """The provider table (in ``scope``) that a column reference belongs to, if any."""
    in_scope = [r for r in refs if r.scope is scope]
    qualifier = col.table
    if qualifier:
        for r in in_scope:
            if r.alias.lower() == qualifier.lower():
                return r
        return None
    name = col.name.lower()
    hits = [r for r in in_scope if name in _names(r.resource)]
    return hits[0] if len(hits) == 1 else None


def view_named(scope: exp.Expr | None, alias: str) -> exp.Subquery | None:
    """The view expansion (``VIEW`` in its meta) named ``alias`` among ``scope``'s own
    sources, if any."""
    if scope is None:
        return None
    for sub in scope.find_all(exp.Subquery):
        named = VIEW in sub.meta and sub.alias_or_name.lower() == alias.lower()
        if named and sub.find_ancestor(exp.Select) is scope:
            return sub
    return None


def _named_query(scope: exp.Expr | None, alias: str) -> bool:
    return view_named(scope, alias) is not None or source_named(scope, alias) is not None


def within(node: exp.Expr, container: exp.Expr) -> bool:
    """Whether ``node`` is ``container`` or inside it."""
    parent: exp.Expr | None = node
    while parent is not None:
        if parent is container:
            return True
        parent = parent.parent
    return False


def enclosing_view(node: exp.Expr, key: str) -> str | None:
    """The view whose expansion holds ``node``: the ``key`` meta (``VIEW`` for the registry's
    views, a user view's mark) of the innermost enclosing subquery that has one."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Subquery) and key in parent.meta:
            return str(parent.meta[key])
        parent = parent.parent
    return None


def withs(scope: exp.Expr) -> list[exp.With]:
    """The WITH clauses that ``scope`` sees: its own first, then its ancestors'."""
    out = []
    node: exp.Expr | None = scope
    while node is not None:
        with_ = node.args.get("with_")
        if isinstance(with_, exp.With):
            out.append(with_)
        node = node.parent
    return out


@dataclass
class RowSource:
    """A source of ``scope``'s FROM that is neither a provider table nor a view, whose rows a
    dependent join reads: a CTE, a subquery, a VALUES list or a local table (or table function).
    """

    #: the source as the FROM names it (a CTE's is the Table that reads it)
    node: exp.Expr
    #: the CTE the source reads (None: the source is its own query)
    cte: exp.CTE | None
    #: the CTEs its query needs, in the order they are defined
    ctes: list[exp.CTE]

    @property
    def label(self) -> str:
        if self.cte is not None:
            return f"cte {self.cte.alias_or_name} AS {self.node.alias_or_name}"
        kinds: dict[type, str] = {exp.Subquery: "subquery", exp.Values: "values"}
        kind = kinds.get(type(self.node), "table")
        name = ""
        if kind == "table":  # a local table's name, or a table function's call
            name = self.node.name or self.node.this.sql(dialect="duckdb")
        return " ".join(p for p in (kind, name, "AS", self.node.alias_or_name) if p)

    def query(self) -> exp.Subquery:
        """``(WITH <the CTEs it needs> SELECT * FROM <source>)``: the source as a query of its
        own (of copies: the statement's tree keeps its nodes)."""
        query = exp.Select(expressions=[exp.Star()], from_=exp.From(this=self.node.copy()))
        if self.ctes:
            query.set("with_", exp.With(expressions=[c.copy() for c in self.ctes]))
        return exp.Subquery(this=query)

    def columns(self, provider: ProviderColumns = lambda table: None) -> list[str]:
        """The column names the source gives, as far as the statement says: its alias's column
        list, else what its query projects (``*`` of a CTE, a subquery or a provider table,
        whose columns ``provider`` gives, followed); a local table's are DuckDB's to know
        (none here)."""
        ctes = {c.alias_or_name.lower(): c for c in self.ctes}
        body = self.cte if self.cte is not None else self.node
        alias = self.node.args.get("alias")  # FROM picked AS p(job, region)
        if self.cte is not None and isinstance(alias, exp.TableAlias) and alias.columns:
            # the list renames the first columns; DuckDB keeps the rest as they were
            renamed = [c.name for c in alias.columns]
            return renamed + _columns_of(body, ctes, provider, 8)[len(renamed) :]
        return _columns_of(body, ctes, provider, 8)


#: the columns of a provider table's mention (None: not a provider table)
ProviderColumns = Callable[[exp.Table], "list[str] | None"]


#: functions whose value changes from one read of a source to the next
_UNSTABLE_FUNCTIONS = frozenset(
    {"random", "setseed", "uuid", "uuidv4", "uuidv7", "gen_random_uuid", "nextval", "currval"}
)


def unstable_part(rows: RowSource) -> str | None:
    """What makes ``rows`` differ from one read to the next (``random()``, a sample), if
    anything: a dependent join reads a source for its calls, and again in the join."""
    for part in [rows.node, *rows.ctes]:
        found = unstable(part)
        if found is not None:
            return found
    return None


def unstable(node: exp.Expr) -> str | None:
    """The first part of ``node`` whose value changes from one evaluation to the next."""
    for part in node.walk():
        if isinstance(part, (exp.Rand, exp.Uuid, exp.TableSample)):
            return part.sql(dialect="duckdb")
        if isinstance(part, exp.Anonymous) and part.name.lower() in _UNSTABLE_FUNCTIONS:
            return part.sql(dialect="duckdb")
    return None


def first_select(node: exp.Expr) -> exp.Select | None:
    """The first SELECT of a query, a subquery, a CTE or a UNION (it names the columns), or
    None when there is none (a table, a VALUES list)."""
    while not isinstance(node, exp.Select):
        inner = node.args.get("this")
        if not isinstance(inner, exp.Expr):
            return None
        node = inner
    return node


def _columns_of(
    body: exp.Expr, ctes: dict[str, exp.CTE], provider: ProviderColumns, depth: int
) -> list[str]:
    alias = body.args.get("alias")
    named = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
    if named or depth <= 0:
        return named
    if isinstance(body, exp.Table):
        cte = None if body.args.get("db") else ctes.get(body.name.lower())
        if cte is None:
            return provider(body) or []
        return _columns_of(cte, ctes, provider, depth - 1)
    select = first_select(body)
    if select is None:
        return []
    out: list[str] = []
    for e in select.expressions:
        star = e if isinstance(e, exp.Star) else e.this if isinstance(e, exp.Column) else None
        if not isinstance(star, exp.Star):
            out.append(e.alias_or_name)
            continue
        source = select.args.get("from_")
        if source is None or select.args.get("joins"):
            continue  # several sources: which columns * gives is DuckDB's to say
        names = _columns_of(source.this, ctes, provider, depth - 1)
        left_out = {c.name.lower() for c in star.args.get("except_") or []}
        renamed = {a.this.name.lower(): a.alias for a in star.args.get("rename") or []}
        out += [renamed.get(n.lower(), n) for n in names if n.lower() not in left_out]
    return out


def source_named(scope: exp.Expr | None, alias: str) -> RowSource | None:
    """The source of ``scope``'s own FROM and JOINs named ``alias`` that is not a provider
    table or a view (``FROM picked AS p``, ``JOIN (SELECT ...) AS p``), with the CTEs its rows
    need; None when there is none, or a recursive WITH is in sight (its rows are not one
    query's)."""
    if scope is None:
        return None
    sources = [scope.args.get("from_"), *(scope.args.get("joins") or [])]
    named = [
        s.this
        for s in sources
        if s is not None
        and isinstance(s.this, (exp.Table, exp.Subquery, exp.Values))
        and VIEW not in s.this.meta
        and s.this.alias_or_name.lower() == alias.lower()
    ]
    if len(named) != 1:
        return None
    node = named[0]
    known = _ctes_seen(scope)
    if known is None:
        return None
    cte = None
    if isinstance(node, exp.Table) and not node.args.get("db"):
        cte = known[0].get(node.name.lower())
    ctes = needed_ctes(cte or node, scope, known)
    if ctes is None:
        return None
    return RowSource(node, cte, ctes)


#: what ``_ctes_seen`` tells of a scope: the CTEs it sees by name, all in sight in order, and
#: per CTE (by id) the names its own query sees
CtesSeen = tuple[dict[str, exp.CTE], list[exp.CTE], dict[int, dict[str, exp.CTE]]]


def _ctes_seen(scope: exp.Expr) -> CtesSeen | None:
    """The CTEs ``scope`` sees by name, all of them in the order they are defined, and the
    names each one's own query sees, as DuckDB resolves them: a CTE's query sees the CTEs
    defined before it in its WITH, then those of the WITHs around (not itself, not a later
    one: those names are tables of the catalog there); a query inside a CTE sees only the
    CTEs before that one. None when a recursive WITH is in sight (its rows are not one
    query's)."""
    levels: list[list[exp.CTE]] = []  # innermost first: the CTEs of each WITH in sight
    node: exp.Expr | None = scope
    child: exp.Expr | None = None
    grandchild: exp.Expr | None = None
    while node is not None:
        with_ = node.args.get("with_")
        if isinstance(with_, exp.With):
            if with_.args.get("recursive"):
                return None
            ctes = list(with_.expressions)
            if child is with_:  # inside one of them: only those before it are in sight
                ctes = ctes[: next(i for i, c in enumerate(ctes) if c is grandchild)]
            levels.append(ctes)
        grandchild, child, node = child, node, node.parent
    seen: dict[str, exp.CTE] = {}
    order: list[exp.CTE] = []
    sees: dict[int, dict[str, exp.CTE]] = {}
    for ctes in reversed(levels):  # outermost first
        seen = dict(seen)
        for c in ctes:
            sees[id(c)] = dict(seen)
            seen[c.alias_or_name.lower()] = c
            order.append(c)
    return seen, order, sees


def needed_ctes(
    node: exp.Expr, scope: exp.Expr, known: CtesSeen | None = None
) -> list[exp.CTE] | None:
    """The CTEs that ``node`` (a source or a query of ``scope``, or a CTE it sees) reads,
    directly or through each other, in the order they are defined; None when a recursive
    WITH is in sight or two of them share a name (one shadows the other: not one WITH's
    rows). ``known``: ``_ctes_seen(scope)``, when the caller has it already."""
    if known is None:
        known = _ctes_seen(scope)
    if known is None:
        return None
    seen, order, sees = known
    needed: dict[int, exp.CTE] = {}
    todo: list[tuple[exp.Expr, dict[str, exp.CTE]]] = [(node, seen)]
    while todo:
        current, names = todo.pop()
        if isinstance(current, exp.CTE):
            if id(current) in needed:
                continue
            needed[id(current)] = current
            names = sees[id(current)]
        for table in current.find_all(exp.Table):
            other = None if table.args.get("db") else names.get(table.name.lower())
            if other is not None and other is not current:
                todo.append((other, names))
    ctes = [c for c in order if id(c) in needed]
    if len({c.alias_or_name.lower() for c in ctes}) < len(ctes):
        return None
    return ctes


def drop_marked(tree: exp.Expr, key: str) -> None:
    """Take out of ``tree`` each ``IN`` whose meta has ``key`` (``TENTATIVE``: a copy that did
    not become a binding, its original still in the WHERE around the view; ``SPECULATIVE``)."""
    for node in list(tree.find_all(exp.In)):
        if node.meta.get(key):
            node.replace(exp.true())


def compared(pred: exp.Expr) -> list[exp.Expr]:
    """What an ``IN`` compares: its one expression, or each of a tuple's (``(a, b) IN ...``)."""
    this = pred.this
    return list(this.expressions) if isinstance(this, exp.Tuple) else [this]


def local_in_alone(pred: exp.Expr, scope: exp.Expr) -> exp.In | None:
    """A copy of ``LOCAL_IN`` condition ``pred`` that runs on its own: its subquery carries
    the statement's CTEs that it reads (``IN (WITH names AS (...) SELECT name FROM names)``).
    None when it is not one, or its subquery has a WITH of its own (two to merge)."""
    if not isinstance(pred, exp.In) or not pred.meta.get(LOCAL_IN):
        return None
    query = pred.args.get("query")
    ctes = needed_ctes(query, scope) if isinstance(query, exp.Subquery) else None
    if ctes is None or query is None or query.this.args.get("with_") is not None:
        return None
    copy = pred.copy()
    if ctes:
        copy.args["query"].this.set("with_", exp.With(expressions=[c.copy() for c in ctes]))
    return copy


def _pin(node: exp.Expr, value: Any) -> None:
    """Put the value a bound param got in place of the expression that gave it, when that was
    evaluated (``now() - INTERVAL 3 DAY``): the call is sent with it, the param column holds
    it, and the predicate, re-checked in the query, must compare with the same value, not
    with one evaluated again later (which never matched)."""
    if isinstance(node, (exp.Literal, exp.Boolean, exp.Null)) or (
        isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal)
    ):
        return
    if value is None:
        literal: exp.Expr = exp.Null()
    elif isinstance(value, bool):
        literal = exp.Boolean(this=value)
    elif isinstance(value, (int, float)):
        literal = exp.Literal.number(value)
    elif hasattr(value, "hour"):  # a datetime
        literal = exp.Literal.string(value.isoformat(sep=" "))
    elif hasattr(value, "isoformat"):  # a date
        literal = exp.Literal.string(value.isoformat())
    else:
        literal = exp.Literal.string(str(value))
    node.replace(literal)


def collect_bindings(ref: TableRef, refs: list[TableRef], const_eval: ConstEval | None) -> Bindings:
    """The bindings that the predicates of ``ref``'s scope give to ``ref``."""
    out = Bindings()
    known = param_names(ref.resource)
    from_query: set[str] = set()  # params bound to a source that is not a provider table
    provider_fed: set[str] = set()  # ... by a FROM_PROVIDER_IN one
    #: params read from the identity column's constants (``name = 'projects/p/...'``)
    from_identity: list[dict[str, list[Any]]] = []
    held: dict[tuple[str, str], list[Any]] | None = None  # (_held_to_texts, once asked)
    for pred in conjuncts(ref.scope, ref.node):
        named = _identity_parts(pred, ref, refs, const_eval)
        if named is not None:
            from_identity.append(named)
            out.residual.append(pred)  # the name itself is DuckDB's to test
            continue
        if isinstance(pred, exp.EQ):
            sides = [(pred.left, pred.right), (pred.right, pred.left)]
            matched = False
            for col, other in sides:
                if not isinstance(col, exp.Column) or owner(col, refs, ref.scope) is not ref:
                    continue
                name = col.name.lower()
                if name not in known:
                    continue
                if is_constant(other):
                    value = constant_value(other, const_eval)
                    if _inexact_text(ref.resource, name, [value]):
                        break  # DuckDB compares it as a number: the list's rows decide
                    out.static.setdefault(name, [])
                    if value is None:
                        # as IN (NULL): a call with no value was "needs parameter" next to the
                        # WHERE that gives it
                        raise PlanError(
                            f"{col.sql()} = {other.sql()} matches nothing: NULL never equals a "
                            "value, so no call could be made",
                            location=node_location(col, Location(resource=ref.resource.id)),
                            hint=f"give {col.name} a value, or write IS NULL to test for NULL",
                        )
                    _pin(other, value)
                    if value not in out.static[name]:
                        out.static[name].append(value)
                    out.sources.append((pred, name, [value]))
                    matched = True
                elif isinstance(other, exp.Column):
                    src = owner(other, refs, ref.scope)
                    if src is not None and src is not ref:
                        # a source that is not a provider table, when the param has one too
                        # (``j1.AwsAccountId = v.a`` and ``j2.AwsAccountId = j1.AwsAccountId``),
                        # keeps it: it gives the values, and the provider tables' joins then
                        # chain from it, not in a cycle that binds neither
                        if name not in from_query:
                            out.dependent[name] = (src.alias, other.name)
                            if held is None:
                                held = _held_to_texts(ref, refs, const_eval)
                            texts = held.get((src.alias.lower(), other.name.lower()))
                            if texts:
                                out.implied[name] = (src.alias, other.name, texts)
                        out.candidates.setdefault(name, []).append((src.alias, other.name))
                        matched = True
                    elif src is None and other.table and _named_query(ref.scope, other.table):
                        # a view's or CTE's column: its rows come from its query, run once the
                        # provider tables it reads are filled (``plan.select``)
                        fed = bool(pred.meta.get(FROM_PROVIDER_IN))
                        if not fed or name not in from_query or name in provider_fed:
                            out.dependent[name] = (other.table, other.name)
                            (provider_fed.add if fed else provider_fed.discard)(name)
                        out.candidates.setdefault(name, []).append((other.table, other.name))
                        from_query.add(name)
                        matched = True
                break
            if not matched:
                out.residual.append(pred)
        elif (
            isinstance(pred, exp.In)
            and isinstance(pred.this, exp.Column)
            and not pred.args.get("query")
            and owner(pred.this, refs, ref.scope) is ref
            and pred.this.name.lower() in known
            and pred.expressions
            and all(is_constant(e) for e in pred.expressions)
        ):
            name = pred.this.name.lower()
            given = [constant_value(e, const_eval) for e in pred.expressions]
            if _inexact_text(ref.resource, name, given):
                out.residual.append(pred)  # DuckDB compares them as numbers
                continue
            values = out.static.setdefault(name, [])
            own: list[Any] = []
            for e, v in zip(pred.expressions, given, strict=True):
                _pin(e, v)
                if v is not None and v not in own:  # a NULL in IN matches nothing (SQL)
                    own.append(v)
                    if v not in values:
                        values.append(v)
            out.sources.append((pred, name, own))
            if not values:
                raise PlanError(
                    f"{pred.this.sql()} IN ({', '.join(e.sql() for e in pred.expressions)}) "
                    "matches nothing: NULL never equals a value, so no call could be made",
                    location=node_location(pred.this, Location(resource=ref.resource.id)),
                    hint=f"give {pred.this.name} a value, or write IS NULL to test for NULL",
                )
        else:
            out.residual.append(pred)
    _intersect(out)
    for named in from_identity:  # where the statement does not bind them itself
        for key, values in named.items():
            if key not in out.static and key not in out.dependent:
                out.static[key] = values
    return out


def _inexact_text(resource: Resource, name: str, values: list[Any]) -> bool:
    """Whether a text param (an id) is compared with a value whose text is not the id DuckDB
    matches: a float or decimal (``= 1000345775479742579.0``: DuckDB compares as a DOUBLE and
    finds the job; the get was sent ``1.0003457754797426e+18`` and found none) or bytes."""
    return any(isinstance(v, float | Decimal | bytes) for v in values) and text_param(
        resource, name
    )


def text_param(resource: Resource, name: str) -> bool:
    """Whether ``name`` is a param of ``resource``'s SELECT methods that holds text."""
    params = (m.param(name) for m in resource.methods_for("SELECT"))
    return any(p is not None and p.db_type == "VARCHAR" for p in params)


def _held_to_texts(
    ref: TableRef, refs: list[TableRef], const_eval: ConstEval | None
) -> dict[tuple[str, str], list[Any]]:
    """(alias, column) -> the texts that a conjunct restricting ``ref``'s rows holds another
    provider table's column to (``t.region = 'x'``, ``t.region IN ('x', 'y')``; several
    conjuncts on one column: the texts they all allow). Not another type's values: DuckDB
    may cast them otherwise than Python compares."""
    out: dict[tuple[str, str], list[Any]] = {}
    for pred in conjuncts(ref.scope, ref.node):
        col, consts = column_and_constants(pred)
        if col is None:
            continue
        src = owner(col, refs, ref.scope)
        if src is None or src is ref:
            continue
        values = [constant_value(c, const_eval) for c in consts]
        if not values or not all(isinstance(v, str) for v in values):
            continue
        key = (src.alias.lower(), col.name.lower())
        out[key] = (
            [v for v in out[key] if v in values] if key in out else list(dict.fromkeys(values))
        )
    return {k: v for k, v in out.items() if v}


def _identity_parts(
    pred: exp.Expr, ref: TableRef, refs: list[TableRef], const_eval: ConstEval | None
) -> dict[str, list[Any]] | None:
    """The params that ``pred``, ``identity = const`` or ``identity IN (consts)`` on ``ref``'s
    identity column (a Vertex job's full ``name``), names: each value split by the
    identity's template (``projects/{projectsId}/locations/{locationsId}/...``), lower-cased
    param -> its values. None when ``pred`` is not that, or a value has another form. Several
    names of several parents make a call per combination (a get of a job that is not there
    is empty); the name itself stays a condition."""
    identity = ref.resource.identity
    column, template = identity.get("column"), identity.get("template")
    col, consts = column_and_constants(pred)
    if not column or not template or col is None or col.name.lower() != str(column).lower():
        return None
    if owner(col, refs, ref.scope) is not ref or not consts:
        return None
    out: dict[str, list[Any]] = {}
    for const in consts:
        value = constant_value(const, const_eval)
        parts = split_identity(str(template), str(value)) if isinstance(value, str) else None
        if parts is None:
            return None
        for key, part in parts.items():
            values = out.setdefault(key.lower(), [])
            if part not in values:
                values.append(part)
    return out


def _intersect(out: Bindings) -> None:
    """Calls for the values every conjunct on a param allows, not for each one's values:
    ``region IN ('a', 'b') AND region = 'b'`` calls 'b' alone. The union called 'a' as well,
    whose rows the query then dropped, and an early LIMIT could stop on those rows and answer
    nothing. Conjuncts of texts that allow none in common are ``contradicted``: no row can
    pass them (values of other types keep the union: DuckDB may cast one to the other)."""
    for name, values in out.static.items():
        owns = [own for _, n, own in out.sources if n == name]
        if len(owns) < 2:
            continue
        common = [v for v in values if all(v in own for own in owns)]
        if common:
            out.static[name] = common
        elif all(isinstance(v, str) for v in values) and out.contradicted is None:
            out.contradicted = (name, owns)
