"""Views: resources defined as SQL over other resources, inlined before planning. Pure.

A view's definition (``kind: "view"``) carries ``view.sql`` and ``view.params``: for each
param column of the view, the inner expression it binds, per branch of the view's UNION (a
string applies to every branch; a list gives one entry per branch, ``null`` where the branch has
no such param). Expanding a mention of a view applies six rules, in this order:

1. **Params flow in.** The outer query's ``col = const`` / ``col IN (consts)`` predicates on the
   param columns are copied into the matching branches' WHERE, through each branch's inner
   expression, and stay in the outer WHERE (so nothing changes but what is fetched). So is
   ``col IN (SELECT ...)`` on a param whose inner expression binds its table's calls (not a
   routed one), with only the values of the branch's form (``{"values": regex}``), as a
   ``TENTATIVE`` copy: ``plan.semi_joins`` makes it a binding or it is dropped (it may be
   correlated, which only DuckDB can tell). The trials of the running jobs, by ``IN (SELECT
   ... FROM hyperparameter_tuning_jobs WHERE state = ...)``, got every job of the location.
2. **Routed params move.** A param that only some branches have (a list with ``null`` entries,
   e.g. ``projectsId`` for the Google branches of a cross-cloud view) routes: its predicate is
   *moved* into the branches that have it and leaves the outer WHERE, so it says nothing about
   the other branches' rows (``WHERE projectsId = 'p' AND region = 'r'`` reads Google project
   ``p`` and AWS region ``r``). It still says no to a row that an outer join pads with NULLs
   for the view, as it did in the WHERE: such a join no longer pads the view (a LEFT join of
   the view becomes inner, a FULL one keeps only the view's rows).
3. **Contradicted branches drop.** A branch that projects a literal for a column (``'aws' AS
   provider``) is removed when an outer ``col = const`` / ``col IN (consts)`` predicate accepts
   no such literal: ``WHERE provider = 'google'`` makes no AWS call at all. When every branch
   drops, the view becomes an empty relation with the view's typed columns.
4. **Other conditions flow in.** Any other WHERE conjunct on the view's columns alone is
   copied into every branch, over the branch's own expressions for them, and stays in the
   outer WHERE (``WHERE Strategy = 'Bayesian'`` on a view of the jobs reads as
   ``j.Strategy = 'Bayesian'`` inside it: the API filters it, and a describe per row is made
   only for the rows it keeps). Only a deterministic condition with no subquery, on a view
   that no outer join pads with NULLs, into a branch without grouping, nor a window whose
   values a filter before it would change (one partitioned by a table's identity keeps its
   values under a condition on that table's columns alone: ``_whole_partitions``), and never
   onto a param column of a branch's table (that would bind its calls: a project of one
   cloud read as the other's account), but for a condition that binds nothing on a column
   the row fills from its name and only a get takes (``_got_by_id``: a job's id).
5. **Unused columns are pruned.** Projections the outer query never names are removed from every
   branch (when that cannot change the rows: no DISTINCT, GROUP BY, aggregates...), so a
   column that needs a per-row describe call hydrates only when it is asked for. A view joined
   to another table by an equality keeps its param columns: a dependent join on the view takes
   its region and account from them (``plan.select.colocate``).
6. **A LIMIT flows in.** A query over the view alone with ``ORDER BY ... LIMIT n`` (or a bare
   ``LIMIT n``), whose every WHERE conjunct went into every branch (rules 1, 2, 4), gives each
   branch the same ORDER BY (over its own expressions, cast to the view column's type) and
   ``LIMIT n`` plus the OFFSET: the first n rows of the union are among each branch's first n.
   ``plan.hydrate_first`` then gets only those rows of a branch over one table.

A branch marked optional (``view.optional_branches``) whose provider tables stay unplannable is
skipped with a warning instead of failing the statement, so a cross-cloud view asked only about
one cloud queries only that cloud. Must not: do I/O or know any particular resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from functools import lru_cache, partial
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError
from stackql_tuning.plan.bindings import (
    FLOWED,
    SPECULATIVE,
    TENTATIVE,
    VIEW,
    VIEW_COLUMN,
    alone_in,
    carries,
    column_and_constants,
    compared,
    conjuncts,
    empty_relation,
    filters_first,
    from_items,
    from_position,
    group_filters,
    is_constant,
    is_null_test,
    item_columns,
    keeps_rows_of,
    known_columns,
    limit_rows,
    names_an_output,
    node_location,
    output_columns,
    padded,
    param_names,
    provider_tables,
    source_named,
    split_and,
    star_in,
    steady,
)
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import (
    Resource,
    derived_params,
    get_method,
    matches_pattern,
    split_identity,
    view_param_entry,
    view_param_expr,
)

MAX_DEPTH = 8
#: Table.meta key set on provider tables inside an optional view branch
OPTIONAL = "stackql_optional_branch"
#: whether a value has the form of a column's values (``column_forms``)
Fits = Callable[[str], bool]
#: nodes that make a branch's row count depend on its projections: no pruning then
_ROW_SHAPING = ("distinct", "group", "having", "qualify")


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


def _plain_union_all(tree: exp.Expr) -> bool:
    """A single SELECT or a chain of UNION ALL without ORDER BY / LIMIT of its own."""
    if isinstance(tree, exp.Select):
        return True
    if not isinstance(tree, exp.Union) or type(tree) is not exp.Union:
        return False
    if tree.args.get("distinct") or any(tree.args.get(k) for k in ("order", "limit", "offset")):
        return False
    return all(_plain_union_all(side) for side in (tree.left, tree.right))


def _accepted(pred: exp.Expr, spec: Any, branch: int) -> exp.Expr | None:
    """``pred`` (``col = const`` / ``col IN (consts)`` on a view param) as it binds ``branch``:
    itself, or for a param that binds a branch only with some values (``view_param_entry``)
    a copy with the literals that match, None when none does (or a value is not a literal
    string: which param it is cannot be told)."""
    values = view_param_entry(spec, branch)[1]
    if values is None:
        return pred
    pattern = re.compile(values)
    literals = _literal_values(pred)
    if literals is None or not all(v.is_string for v in literals):
        return None
    return _with_values(pred, literals, lambda text: pattern.fullmatch(text) is not None)


def _of_its_form(
    pred: exp.Expr, inner: exp.Expr, forms: dict[str, dict[str, Fits]]
) -> exp.Expr | None:
    """``pred`` (``= const`` / ``IN (consts)``) with only the values that have the form of
    the branch column ``inner`` (``column_forms``: the others name none of its rows), None
    when none has: ``display_name IN (<a Vertex job's>, <a SageMaker job's>)`` over the
    unified view gave the SageMaker branch the Vertex name, which its describe refused as not
    a SageMaker name (a plan error for a query with an answer)."""
    if not isinstance(inner, exp.Column):
        return pred
    form = forms.get(inner.table.lower(), {}).get(inner.name.lower())
    literals = _literal_values(pred)
    if form is None or literals is None or not all(v.is_string for v in literals):
        return pred
    return _with_values(pred, literals, form)


def _with_values(pred: exp.Expr, literals: list[exp.Literal], keep: Fits) -> exp.Expr | None:
    """``pred`` (``= const`` / ``IN (consts)``, of string ``literals``) with the values that
    ``keep`` accepts: itself when it accepts all, a copy of the IN with those, None when it
    accepts none."""
    kept = [v for v in literals if keep(v.this)]
    if not kept:
        return None
    if len(kept) == len(literals):
        return pred
    copy = pred.copy()  # an IN: the one value of an equality is kept or not
    copy.set("expressions", [v.copy() for v in kept])
    return copy


def _routed(spec: Any, n_branches: int) -> bool:
    """A param that only some branches have: its predicate moves into them."""
    return n_branches > 1 and any(not view_param_expr(spec, i) for i in range(n_branches))


def _const_predicates(node: exp.Table, names: set[str]) -> list[tuple[str, exp.Expr]]:
    """(view column, predicate) for the outer ``col = const`` / ``col IN (consts)`` conjuncts
    of the view's scope on one of ``names`` (lower-cased)."""
    scope = node.find_ancestor(exp.Select)
    alias = node.alias_or_name.lower()
    out: list[tuple[str, exp.Expr]] = []
    for pred in conjuncts(scope, node):
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
        out.append((col.name.lower(), pred))
    return out


def _refuse_loose(node: exp.Table, view: str, names: set[str]) -> None:
    """A PlanError for a condition that constrains one of ``names`` (a param only some
    branches have: region, AwsAccountId, projectsId, locationsId) without binding it
    (``region IS NOT NULL``, ``LIKE``, ``<>``, ``IN (SELECT ...)``, a join to a local
    source): the branches that need it went unread, and their rows were silently missing
    (0 rows, exit 0) where the table itself is a plan error. ``IS NULL`` is left alone: it
    asks for the other branches' rows."""
    if not names:
        return
    alias = node.alias_or_name.lower()
    scope = node.find_ancestor(exp.Select)
    # (and GROUP BY region HAVING region = 'x': 0 rows)
    preds = [*conjuncts(scope, node), *group_filters(scope)]
    for join in (scope.args.get("joins") or []) if scope is not None else []:
        # USING (region) and NATURAL JOIN compare it, as an ON would (0 rows, exit 0)
        compared = {i.name.lower() for i in join.args.get("using") or []}
        if join.method.upper() == "NATURAL":
            other = known_columns(join.this) if join.this is not node else None
            compared |= names if other is None else other  # (unknown: it may have them)
        hit = sorted(compared & names)
        if hit and not keeps_rows_of(join, node):
            spelled = {i.name.lower(): i.name for i in join.find_all(exp.Identifier)}
            name = spelled.get(hit[0], hit[0])
            raise _binds_no_call(name, view, "compared by", join, "write the join with ON and ")
    for pred in preds:
        if is_null_test(pred):
            continue
        for col in pred.find_all(exp.Column):
            name = col.name.lower()
            if name not in names or (col.table and col.table.lower() != alias):
                continue
            raise _binds_no_call(col.name, view, "constrained by", pred, "", at=col)


def _binds_no_call(
    name: str, view: str, how: str, node: exp.Expr, hint: str, at: exp.Expr | None = None
) -> PlanError:
    """The error for a routed param ``name`` that ``node`` constrains without binding it."""
    return PlanError(
        f"{name} of {view} is {how} `{node.sql(dialect='duckdb')}`, which binds no call: the "
        f"branches of {view} that need a {name} would not be read, and their rows would be "
        "missing",
        location=node_location(at if at is not None else node, Location(resource=view)),
        hint=f"{hint}give {name} as literals ({name} = '...' or {name} IN ('...', '...')), or "
        "query the table of that cloud itself",
    )


def _subquery_predicates(node: exp.Table, names: set[str]) -> list[tuple[list[str], exp.In]]:
    """(view columns, predicate) for the outer ``col IN (SELECT ...)`` (or ``(col, col2) IN
    (SELECT ...)``) conjuncts of the view's scope on ``names`` (lower-cased) alone."""
    scope = node.find_ancestor(exp.Select)
    alias = node.alias_or_name.lower()
    out: list[tuple[list[str], exp.In]] = []
    for pred in conjuncts(scope, node):
        if not isinstance(pred, exp.In) or pred.args.get("unnest"):
            continue
        if not isinstance(pred.args.get("query"), exp.Subquery):
            continue
        cols = compared(pred)
        if all(
            isinstance(c, exp.Column)
            and c.name.lower() in names
            and (not c.table or c.table.lower() == alias)
            for c in cols
        ):
            out.append(([c.name.lower() for c in cols], pred))
    return out


def _joined_sources(
    node: exp.Table, names: set[str], registry: Registry
) -> list[tuple[list[str], exp.In]]:
    """(view columns, ``(col, ...) IN (SELECT x.c, ... FROM x)``) for the equalities ``v.col =
    x.c`` that restrict the view's rows (``conjuncts``), per other source ``x`` of the scope
    that reads no provider table (a file, a local table, VALUES, a CTE over those): every row
    of the view that the statement returns has its columns among x's rows, so, made a binding
    (``plan.semi_joins``), it asks only for those. The view joined to three names from a
    file made a describe of each of the region's 31 jobs. Not in the tree: a condition to
    copy, as ``_subquery_predicates`` gives."""
    scope = node.find_ancestor(exp.Select)
    pairs: dict[str, list[tuple[exp.Column, exp.Column]]] = {}
    for mine, other in _equalities(node, scope, names):
        pairs.setdefault(other.table.lower(), []).append((mine, other))
    out: list[tuple[list[str], exp.In]] = []
    for partner, joined in pairs.items():
        outputs = [exp.column(o.name, table=o.table) for _, o in joined]
        found = _provider_partner(scope, partner, registry)
        if found is not None:
            table, resource = found
            if not filters_first(table):
                continue  # a sampled partner: its copy would be another sample
            # the partner's rows as its own conditions keep them (those on its columns
            # alone): its values for every row of the view the statement returns. Not where
            # that reads a column only a get returns (`len(j.trials) > 20`): every job would
            # be got once more for it
            query = exp.select(*outputs).from_(table.copy())
            for cond in conjuncts(scope, table):
                if steady(cond) and item_columns(cond, table) is not None:
                    query = query.where(cond.copy())
            if not _listed(resource, query):
                continue
        else:
            rows = source_named(scope, partner)
            if rows is None or any(
                True for part in (rows.node, *rows.ctes) for _ in provider_tables(part, registry)
            ):
                continue
            query = exp.select(*outputs).from_(rows.node.copy())
        cols: list[exp.Expr] = [m.copy() for m, _ in joined]
        this = cols[0] if len(cols) == 1 else exp.Tuple(expressions=cols)
        pred = exp.In(this=this, query=exp.Subquery(this=query))
        pred.meta[SPECULATIVE] = found is not None
        out.append(([m.name.lower() for m, _ in joined], pred))
    return out


def _in_speculative(node: exp.Expr) -> bool:
    """Whether ``node`` is inside a speculative copy of a partner (``SPECULATIVE``)."""
    test = node.find_ancestor(exp.In)
    while test is not None:
        if test.meta.get(SPECULATIVE):
            return True
        test = test.find_ancestor(exp.In)
    return False


def _listed(resource: Resource, query: exp.Select) -> bool:
    """Whether a list of ``resource`` returns every column ``query`` reads of it."""
    lists = [m for m in resource.methods_for("SELECT") if m.is_list]
    read = {c.name for c in query.find_all(exp.Column) if resource.column(c.name)}
    return any(all(carries(resource, m, c) for c in read) for m in lists)


def _provider_partner(
    scope: exp.Expr | None, alias: str, registry: Registry
) -> tuple[exp.Table, Resource] | None:
    """The FROM item of ``scope`` named ``alias``, and its resource, when it is a provider
    table (not a view)."""
    if scope is None:
        return None
    for item in from_items(scope):
        if isinstance(item, exp.Table) and item.alias_or_name.lower() == alias:
            found = [r for t, r in provider_tables(item, registry) if t is item]
            return (item, found[0]) if found and found[0].kind != "view" else None
    return None


def _tentative_in(pred: exp.In, members: list[tuple[int, str, str | None]], column: str) -> exp.In:
    """``<inner> IN (<pred's subquery>)`` for a branch, marked ``TENTATIVE``: ``members`` are
    the compared columns that bind the branch's calls (their position in ``pred``, inner
    expression and the regular expression of the values that bind this branch, for a column
    routed by form: ``unified.tuning.jobs``'s ``name IN (SELECT ...)`` asks each cloud for the
    names of its form), each over the subquery's column in its place."""
    query = pred.args["query"].this.copy()
    width = len(compared(pred))
    if len(members) < width or any(values for _, _, values in members):
        names = [exp.to_identifier(f"v{k}") for k in range(width)]
        alias = exp.TableAlias(this=exp.to_identifier("in_values"), columns=names)
        wrapped = exp.select(*(exp.column(f"v{k}") for k, _, _ in members))
        query = wrapped.from_(exp.Subquery(this=query, alias=alias))
        for k, _, values in members:
            if values is not None:
                text = exp.cast(exp.column(f"v{k}"), "VARCHAR")
                query = query.where(exp.func("regexp_full_match", text, exp.Literal.string(values)))
    inner: list[exp.Expr] = [exp.maybe_parse(sql, dialect="duckdb") for _, sql, _ in members]
    this = inner[0] if len(inner) == 1 else exp.Tuple(expressions=inner)
    copy = exp.In(this=this, query=exp.Subquery(this=query))
    copy.meta[TENTATIVE] = True
    copy.meta[VIEW_COLUMN] = column
    return copy


#: scope meta: the routed WHERE conjuncts a view moved into its branches (``expand_view``)
_MOVED = "stackql_moved_predicates"


def _joined_predicates(
    node: exp.Table,
    names: set[str],
    skip: Collection[str] = (),
) -> list[tuple[str, exp.Expr]]:
    """(view column, predicate on it) implied by an equality with another source's column
    that the WHERE holds to constants: ``v.region = x.region ... WHERE x.region = 'r'`` gives
    ``v.region = 'r'`` (a copy, not in the tree). Without it, a view joined on its params
    could not be queried at all: its provider tables had nothing that bound them.

    The equality is one of the conjuncts that restrict the view's rows (``conjuncts``: not the
    ON of an outer join that keeps them), the constants a top-level conjunct of the WHERE, so
    every row the statement returns has ``v.region`` among them (a row of ``x`` outside them is
    dropped, and with it every view row it matched): binding them changes what is fetched,
    never the answer."""
    scope = node.find_ancestor(exp.Select)
    consts = _held_constants(scope)
    out: list[tuple[str, exp.Expr]] = []
    for mine, other in _equalities(node, scope, set(names) - set(skip)):
        for col, pred in consts:
            if col.table.lower() == other.table.lower() and col.name.lower() == (
                other.name.lower()
            ):
                copy = pred.copy()
                for c in copy.find_all(exp.Column):
                    c.replace(exp.column(mine.name, table=mine.table))
                out.append((mine.name.lower(), copy))
    return out


def _held_constants(scope: exp.Select | None) -> list[tuple[exp.Column, exp.Expr]]:
    """(qualified column, conjunct) for each top-level conjunct of ``scope``'s WHERE (or one a
    view expanded before moved out of it) that holds a column to constants: ``x.region = 'r'``,
    ``x.region IN ('a', 'b')``."""
    where = scope.args.get("where") if scope is not None else None
    if scope is None or where is None:
        return []
    held = [*split_and(where.this), *scope.meta.get(_MOVED, [])]
    consts = [(col, pred) for pred in held if (col := column_and_constants(pred)[0]) is not None]
    return [(col, pred) for col, pred in consts if col.table]  # qualified: a partner's


def _colocated(node: exp.Table, names: set[str], keys: set[str]) -> list[tuple[str, exp.Expr]]:
    """(view column, predicate on it) for each routed param of ``names`` (lower-case; ones the
    statement leaves alone) that a partner the view is joined to on one of ``keys`` (its
    params every branch has: a job's name) holds to constants in the WHERE under the same name:
    ``t JOIN unified.tuning.jobs h ON t.HyperParameterTuningJobName = h.name WHERE t.region =
    'r' AND t.AwsAccountId = 'a'`` reads h's AWS branch in region r of account a, as a
    provider table joined on its name takes its partner's location (``select.colocate``).
    The defaults stood in before: another region or account was read, and nothing matched."""
    scope = node.find_ancestor(exp.Select)
    if not names or scope is None:
        return []
    partners = {other.table.lower() for _, other in _equalities(node, scope, keys)}
    out: list[tuple[str, exp.Expr]] = []
    for col, pred in _held_constants(scope):
        if col.table.lower() in partners and col.name.lower() in names:
            copy = pred.copy()
            for c in copy.find_all(exp.Column):
                c.replace(exp.column(col.name, table=node.alias_or_name))
            out.append((col.name.lower(), copy))
    return out


def _equalities(
    node: exp.Table, scope: exp.Expr | None, names: Collection[str]
) -> Iterator[tuple[exp.Column, exp.Column]]:
    """(view column, other source's column) for each ``v.col = x.c`` among the conjuncts that
    restrict the view's rows (``conjuncts``), ``col`` one of ``names`` (lower-cased), both
    qualified: the view's by its alias, the other's by another."""
    alias = node.alias_or_name.lower()
    for eq in conjuncts(scope, node):
        if not isinstance(eq, exp.EQ):
            continue
        for mine, other in ((eq.left, eq.right), (eq.right, eq.left)):
            if not (isinstance(mine, exp.Column) and isinstance(other, exp.Column)):
                continue
            if mine.table.lower() != alias or mine.name.lower() not in names:
                continue
            if other.table and other.table.lower() != alias:
                yield mine, other


def _filters_into(
    node: exp.Table,
    branches: list[exp.Select],
    done: list[exp.Expr],
    view: str,
    param_columns: list[dict[str, set[str]]],
    identities: list[dict[str, str]],
    landed: dict[int, set[int]],
    row_params: list[dict[str, set[str]]],
    forms: list[dict[str, dict[str, Fits]]],
) -> None:
    """Rule 4: copies of the scope's other conjuncts on the view's columns alone into every
    branch that can take them (``done``: the conjuncts rules 1 and 2 used). ``param_columns``:
    per branch, a provider table's alias in it -> its param columns (lower-cased);
    ``identities``: -> its identity column; ``row_params``: -> the param columns a condition
    that binds nothing may read (``_got_by_id``); ``forms``: -> its columns' forms (a copy's
    values of another form are left out, ``_of_its_form``). ``landed``: each conjunct's
    branches that took a copy are added to it."""
    scope = node.find_ancestor(exp.Select)
    if scope is None or padded(node) or not filters_first(node):
        return
    for pred in conjuncts(scope, node):
        if any(pred is d for d in done) or not steady(pred):
            continue
        columns = item_columns(pred, node)
        if columns is None:
            continue
        for i, (branch, params) in enumerate(zip(branches, param_columns, strict=True)):
            if not _prunable(branch):
                continue
            free = row_params[i] if not _may_bind(pred) else {}
            copy = _over_branch(pred, branch, params, free)
            if copy is None or not _whole_partitions(copy, branch, identities[i]):
                continue
            column = copy.find(exp.Column) if len(branches) > 1 else None
            if isinstance(copy, (exp.EQ, exp.In)) and column is not None:
                # a value of another branch's form, not this one's (one branch: it is wrong)
                copy = _of_its_form(copy, column, forms[i])
                if copy is None:
                    continue  # no value of its form: no row of the branch passes (rule 3)
            copy.meta[VIEW_COLUMN] = f"{view}.{columns[0].name}"
            copy.meta[FLOWED] = True
            branch.where(copy, copy=False)
            landed.setdefault(id(pred), set()).add(i)


def _whole_partitions(copy: exp.Expr, branch: exp.Select, identities: dict[str, str]) -> bool:
    """Whether condition ``copy`` (over ``branch``'s expressions) leaves the branch's window
    values as they are: there is no window, or the condition reads one table's columns alone
    and every window is partitioned by that table's identity (the trials view's ``is_best``
    ranks the trials of one job, ``PARTITION BY j.name``). Such a condition has one value for
    all the rows of a partition, so it removes whole partitions: ``job_state = 'X'`` keeps or
    drops every trial of a job, and the best trial of a kept job is still its best."""
    windows = list(branch.find_all(exp.Window))
    if not windows:
        return True
    tables = {c.table.lower() for c in copy.find_all(exp.Column)}
    if len(tables) != 1:
        return False
    [alias] = tables
    identity = identities.get(alias)
    if identity is None:
        return False
    for window in windows:
        keys = window.args.get("partition_by") or []
        if not any(
            isinstance(k, exp.Column) and k.table.lower() == alias and k.name.lower() == identity
            for k in keys
        ):
            return False
    return True


#: nodes of the query around a view that make its first rows depend on more than the view's
#: first rows in its order: the LIMIT does not flow into the branches then
_LIMIT_BLOCKERS = (
    exp.AggFunc,
    exp.Window,
    exp.Subquery,
    exp.Unnest,
    exp.Explode,
    exp.Lateral,
    exp.Anonymous,  # a DuckDB aggregate or set-returning function sqlglot does not know
    exp.Placeholder,
    exp.Parameter,
)


def _order_into(
    node: exp.Table,
    view: Resource,
    branches: list[tuple[int, exp.Select]],
    landed: dict[int, set[int]],
) -> None:
    """Rule 6: the ORDER BY ... LIMIT of a query over the view alone, into every branch.

    ``SELECT ... FROM view WHERE ... ORDER BY k LIMIT n`` returns the first n rows, by k, of
    the union of the branches' rows that pass the WHERE; those are among the first n of each
    branch's own such rows. So each branch (index, SELECT) gets ``ORDER BY k LIMIT n`` (n plus
    the OFFSET) over its own expression for k, cast to the view column's type as the union
    gives it, when every WHERE conjunct went into every branch (``landed``, rules 1 and 4).
    The statement's ORDER BY and LIMIT stay. A branch then is a query over its table with a
    LIMIT of its own, whose rows are got only for the first n listed (``plan.hydrate_first``):
    ``tuning_jobs ORDER BY TuningJobStartTime DESC LIMIT 3`` described every job of the
    region, not 3."""
    scope = alone_in(node)
    if scope is None:
        return
    n = _first_rows(scope)
    if n is None or not filters_first(node):
        return
    where = scope.args.get("where")
    for pred in split_and(where.this) if where is not None else []:
        if isinstance(pred, exp.Boolean) and pred.this:
            continue  # a routed param, moved into its branches (rule 2)
        if not {i for i, _ in branches} <= landed.get(id(pred), set()):
            return
    order = scope.args.get("order")
    keys = list(order.expressions) if order is not None else []
    outputs = output_columns(scope)
    for key in keys:
        if not steady(key.this) or item_columns(key.this, node) is None:
            return
        if names_an_output(key.this, outputs):
            return
    per_branch: list[list[exp.Expr]] = []
    for _, branch in branches:
        if any(branch.args.get(k) for k in ("order", "limit", "offset")):
            return
        mapped = [_key_over_branch(key, branch, view) for key in keys]
        if any(m is None for m in mapped):
            return
        per_branch.append([m for m in mapped if m is not None])
    for (_, branch), ordered in zip(branches, per_branch, strict=True):
        if ordered:
            branch.set("order", exp.Order(expressions=ordered))
        branch.set("limit", exp.Limit(expression=exp.Literal.number(n)))


def _first_rows(scope: exp.Select) -> int | None:
    """LIMIT plus OFFSET of ``scope`` when its first rows are the first rows of its FROM item
    in its ORDER BY: integer literals, no grouping, DISTINCT, aggregate, window, subquery,
    set-returning function or sample; else None."""
    if any(scope.args.get(k) for k in ("group", "having", "qualify", "distinct", "sample")):
        return None
    if any(True for _ in scope.find_all(*_LIMIT_BLOCKERS)):
        return None
    return limit_rows(scope)


def _key_over_branch(key: exp.Ordered, branch: exp.Select, view: Resource) -> exp.Expr | None:
    """ORDER BY key ``key`` (on the view's columns) over ``branch``'s expressions for them,
    each cast to the view column's type (the type the union gives it: a branch's own may
    sort otherwise), or None when a column is not there or reads what is not a qualified
    column of the branch's FROM."""

    def cast(col: exp.Column, inner: exp.Expr) -> exp.Expr | None:
        column = view.column(col.name)
        if column is None:
            return None
        try:
            to = exp.DataType.build(column.db_type, dialect="duckdb")
        except Exception:  # a type sqlglot cannot read: no ORDER BY flows in
            return None
        return exp.Cast(this=inner.copy(), to=to)

    return _onto_branch(key, branch, cast)


def _onto_branch(
    node: exp.Expr, branch: exp.Select, inner_of: Callable[[exp.Column, exp.Expr], exp.Expr | None]
) -> exp.Expr | None:
    """A copy of ``node`` with each view column it reads replaced by ``inner_of(column, the
    branch's expression for it)``; None when a column is not there, its expression reads
    what is not a qualified column of the branch's FROM (a lateral alias), or ``inner_of``
    says None."""
    exprs = {
        p.alias_or_name.lower(): (p.this if isinstance(p, exp.Alias) else p)
        for p in branch.expressions
    }
    copy = node.copy()
    for col in list(copy.find_all(exp.Column)):
        inner = exprs.get(col.name.lower())
        if inner is None or any(not c.table for c in inner.find_all(exp.Column)):
            return None
        new = inner_of(col, inner)
        if new is None:
            return None
        col.replace(new)
    return copy


def _over_branch(
    pred: exp.Expr,
    branch: exp.Select,
    param_columns: dict[str, set[str]],
    free: dict[str, set[str]] | None = None,
) -> exp.Expr | None:
    """A copy of ``pred`` over ``branch``'s expressions for the view columns it reads, or None
    when one is not there, reads what is not a qualified column of the branch's FROM (a
    lateral alias), or reads a param column of a provider table (but those of ``free``)."""

    def inner_copy(col: exp.Column, inner: exp.Expr) -> exp.Expr | None:
        for c in inner.find_all(exp.Column):
            table = c.table.lower()
            name = c.name.lower()
            if name in param_columns.get(table, set()) and name not in (free or {}).get(
                table, set()
            ):
                return None
        simple = isinstance(inner, (exp.Column, exp.Literal, exp.Boolean, exp.Null))
        return inner.copy() if simple else exp.Paren(this=inner.copy())

    return _onto_branch(pred, branch, inner_copy)


def _got_by_id(resource: Resource) -> set[str]:
    """The (lower-case) param columns of ``resource`` that its rows fill themselves (read from
    the name) and that no list needs nor locates a call by: a job's id. A condition that binds
    nothing (``hyperparameterTuningJobsId LIKE '%7'``) filters them as a field; copied into a
    view's branch, it keeps the trials view from getting every job of the location."""
    listed = {p.name.lower() for m in resource.methods_for("SELECT") if m.is_list for p in m.params}
    derived = derived_params(resource)
    return {
        p.name.lower()
        for p in resource.param_columns
        if p.name.lower() in derived and p.name.lower() not in listed and p.location != "client"
    }


def _may_bind(pred: exp.Expr) -> bool:
    """Whether ``pred`` may bind a param (an equality, an IN, an OR of them), as opposed to
    only filtering rows (``LIKE``, ``<>``, ``NOT IN``, a range)."""
    if pred.find(exp.EQ, exp.NullSafeEQ) is not None:
        return True
    return any(not isinstance(i.parent, exp.Not) for i in pred.find_all(exp.In))


def _binds_a_param(inner_sql: str, params: dict[str, set[str]]) -> bool:
    """Whether a view param's inner expression is a param column of its branch's table (it
    binds the calls), not a field (a filter of the rows)."""
    inner: exp.Expr = exp.maybe_parse(inner_sql, dialect="duckdb")
    return isinstance(inner, exp.Column) and inner.name.lower() in params.get(
        inner.table.lower(), set()
    )


def _bind_into(branch: exp.Select, param: str, pred: exp.Expr, inner_sql: str, view: str) -> None:
    """A copy of ``pred`` (on ``view``'s ``param``) in ``branch``'s WHERE, over the branch's own
    expression for it; the copy's meta keeps the view column it was written on (``VIEW_COLUMN``:
    messages about the copy name what the user wrote)."""
    copy = pred.copy()
    inner: exp.Expr = exp.maybe_parse(inner_sql, dialect="duckdb")
    for c in copy.find_all(exp.Column):
        if c.name.lower() == param.lower():
            copy.meta[VIEW_COLUMN] = f"{view}.{c.name}"
            c.replace(inner.copy())
            break
    branch.where(copy, copy=False)


def _reject_null_rows(node: exp.Table, pred: exp.Expr) -> None:
    """Before routed ``pred`` leaves the WHERE of ``node``'s scope: the outer joins that would
    add rows with no view row (every view column NULL) stop adding them, as ``pred`` did there.

    ``pred`` (``col = const``, ``col IN (consts)``) is false on such a row, so ``a LEFT JOIN
    view v ... WHERE v.projectsId = 'p'`` is ``a JOIN view v ...``: moved into the branches
    alone, the predicate no longer dropped the rows of ``a`` that matched no job. A LEFT (or
    RIGHT) join that pads the view becomes an inner join, a FULL one keeps the view's side
    only. ON conditions, and joins of other kinds, are left as they are."""
    scope = node.find_ancestor(exp.Select)
    where = scope.args.get("where") if scope is not None else None
    if scope is None or where is None or pred.find_ancestor(exp.Where) is not where:
        return
    joins = list(scope.args.get("joins") or [])
    found = from_position(node, scope)
    if found is None:
        return  # inside a nested join or subquery: not this scope's own table
    position: int = found
    for i, join in enumerate(joins):
        side = (join.side or "").upper()
        if (join.kind or "").upper() not in ("", "OUTER") or side not in ("LEFT", "RIGHT", "FULL"):
            continue
        if i == position:  # the view is the joined side: padded by LEFT and FULL
            pads, keeps = side in ("LEFT", "FULL"), "RIGHT"
        elif position < i:  # the view is left of the join: padded by RIGHT and FULL
            pads, keeps = side in ("RIGHT", "FULL"), "LEFT"
        else:
            continue
        if not pads:
            continue
        join.set("kind", None)
        join.set("side", keeps if side == "FULL" else None)


def _literal_values(pred: exp.Expr) -> list[exp.Literal] | None:
    """The literals a constant predicate accepts, or None when it is not made of literals."""
    if isinstance(pred, exp.In):
        values = list(pred.expressions)
    elif isinstance(pred, exp.EQ):
        values = [pred.left, pred.right]
    else:
        return None
    lits = [v for v in values if isinstance(v, exp.Literal)]
    if isinstance(pred, exp.In):
        return lits if len(lits) == len(values) else None
    return lits if len(lits) == 1 else None


def _same(a: exp.Literal, b: exp.Literal) -> bool | None:
    if a.is_string and b.is_string:
        return bool(a.this == b.this)
    if not a.is_string and not b.is_string:
        return float(a.this) == float(b.this)
    return None  # mixed types: DuckDB decides, so do not guess


def _contradicted(
    branch: exp.Select, preds: list[tuple[str, exp.Expr]], forms: dict[str, dict[str, Fits]]
) -> bool:
    """True when a literal projection of ``branch`` fails an outer constant predicate, or its
    projection of a table's column is compared only with values no row of it can hold
    (``forms``: alias -> column -> whether a value has the column's form): a Vertex HPT job's
    name keeps no row of the supervised tuning jobs' branch, nor of SageMaker's."""
    literal: dict[str, exp.Literal] = {}
    fits: dict[str, Fits] = {}
    for proj in branch.expressions:
        value = proj.this if isinstance(proj, exp.Alias) else proj
        if isinstance(value, exp.Literal):
            literal[proj.alias_or_name.lower()] = value
        elif isinstance(value, exp.Column):
            form = forms.get(value.table.lower(), {}).get(value.name.lower())
            if form is not None:
                fits[proj.alias_or_name.lower()] = form
    for name, pred in preds:
        mine = literal.get(name)
        accepted = _literal_values(pred)
        if accepted is None:
            continue
        if mine is not None:
            verdicts = [_same(mine, v) for v in accepted]
            if None not in verdicts and not any(verdicts):
                return True
        form = fits.get(name)
        texts = [v.this for v in accepted if v.is_string]
        if form is not None and len(texts) == len(accepted) and not any(map(form, texts)):
            return True
    return False


def column_forms(resource: Resource) -> dict[str, Fits]:
    """Columns (lower-cased) of ``resource`` whose values have a known form, and a test of
    that form: its identity column's template (a Vertex job's ``projects/.../...Jobs/ID``), and
    a column that is also a parameter of its get with the API's pattern (a SageMaker job's
    name: 1 to 32 letters, digits and dashes). A value failing it names none of its rows."""
    forms: dict[str, Fits] = {}
    columns = {c.name.lower() for c in resource.columns}
    get = get_method(resource)
    for param in get.params if get is not None else []:
        if param.pattern and param.name.lower() in columns:
            forms[param.name.lower()] = partial(matches_pattern, param.pattern)
    column, template = resource.identity.get("column"), resource.identity.get("template")
    if column and template:
        forms[str(column).lower()] = lambda v: split_identity(str(template), v) is not None
    return forms


def _outer_refs(node: exp.Table) -> set[str] | None:
    """View columns (lower-cased) the statement around ``node`` may read; None: all of them."""
    scope = node.find_ancestor(exp.Select)
    if scope is None:
        return None
    alias = node.alias_or_name.lower()
    for proj in scope.expressions:
        if isinstance(star_in(proj), exp.Star):  # `*`, `* LIKE '%time%'`: every column
            return None
    used: set[str] = set()
    for join in scope.args.get("joins") or []:
        if join.args.get("method") or join.args.get("kind") == "NATURAL":
            return None
        used.update(i.name.lower() for i in join.args.get("using") or [])
    root = node.root()
    if any(True for _ in root.find_all(exp.Columns)):
        return None
    for col in root.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            if not col.table or col.table.lower() == alias:
                return None
            continue
        if not col.table and col.name.lower() == alias:
            return None  # the whole row (``to_json(t)``, ``SELECT t``): every column
        if not col.table or col.table.lower() == alias:
            used.add(col.name.lower())
    return used


def _joined_to_another(node: exp.Table) -> bool:
    """Whether a conjunct of ``node``'s scope equates one of its columns with a column of
    another table (a dependent join may take its values, and its location, from the view)."""
    scope = node.find_ancestor(exp.Select)
    alias = node.alias_or_name.lower()
    for pred in conjuncts(scope):
        if not isinstance(pred, exp.EQ):
            continue
        left, right = pred.left, pred.right
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            owners = {(left.table or "").lower(), (right.table or "").lower()}
            if alias in owners and len(owners) == 2:
                return True
    return False


def _prunable(branch: exp.Select) -> bool:
    if any(branch.args.get(k) for k in _ROW_SHAPING):
        return False
    for agg in branch.find_all(exp.AggFunc):
        if agg.find_ancestor(exp.Window, exp.Select) is branch:
            return False
    return True


def _reads_alias(branch: exp.Select, index: int, name: str) -> bool:
    """True when ``branch`` names its projection ``name`` outside that projection itself
    (a lateral alias, or an alias in ORDER BY): then the projection must stay."""
    own = branch.expressions[index] if index < len(branch.expressions) else None
    for col in branch.find_all(exp.Column):
        if col.table or col.name.lower() != name:
            continue
        top: exp.Expr = col
        while top.parent is not None and top.parent is not branch:
            top = top.parent
        if top is not own:
            return True
    return False


def _prune(branches: list[exp.Select], used: set[str]) -> None:
    """Drop, from every branch alike, the projections that ``used`` does not name."""
    names = [p.alias_or_name.lower() for p in branches[0].expressions]
    keep = [
        i
        for i, name in enumerate(names)
        if name in used or any(_reads_alias(b, i, name) for b in branches)
    ] or [0]
    if len(keep) == len(names):
        return
    for b in branches:
        b.set("expressions", [b.expressions[i] for i in keep if i < len(b.expressions)])


def _empty(view: Resource, alias: str) -> exp.Subquery:
    """A typed relation with the view's columns and no row (every branch contradicted)."""
    columns = [(c.name, c.db_type) for c in view.columns]
    return empty_relation(columns, exp.TableAlias(this=exp.to_identifier(alias)))


def expand_view(
    node: exp.Table,
    view: Resource,
    prune: bool = True,
    registry: Registry | None = None,
    binary: Callable[[], bool] = lambda: True,
) -> exp.Subquery:
    """The subquery that replaces ``node`` (a mention of ``view``), with params bound (and the
    columns the statement does not read pruned, unless ``prune`` is off). ``registry``: for
    rule 4, which names the param columns of the view's tables (without it, no condition
    but the params' flows in). ``binary``: whether DuckDB compares text byte for byte (asked
    only of a branch a condition contradicts: under ``nocase`` it may hold rows that pass)."""
    spec = view.view or {}
    sql = spec.get("sql")
    if not sql:
        raise PlanError(f"view {view.id} has no SQL in its definition")
    alias_of = node.args.get("alias")
    if isinstance(alias_of, exp.TableAlias) and alias_of.columns:
        # the rules read the statement's conditions by the view's column names: under other
        # names they bound and filtered the wrong columns (the list was dropped, silently)
        listed = ", ".join(c.name for c in alias_of.columns)
        raise PlanError(
            f"{view.id} AS {alias_of.name}({listed}): a view's columns cannot be renamed by a "
            "column list on its alias",
            location=node_location(node, Location(resource=view.id)),
            hint=f"rename them in the SELECT (SELECT kind AS k ...), or read the view in a "
            f"subquery first: (SELECT * FROM {view.id} WHERE ...) AS {alias_of.name}({listed})",
        )
    tree = _parsed(str(sql)).copy()
    relocate(tree, node)
    branches = _branches(tree)
    params: dict[str, Any] = {p.lower(): s for p, s in (spec.get("params") or {}).items()}
    # per branch: its provider tables' aliases (every branch may call its table j) -> their
    # param columns, and -> their identity column (a job's name)
    tables = [list(provider_tables(b, registry)) if registry is not None else [] for b in branches]
    inner_params = [
        {t.alias_or_name.lower(): {p.name.lower() for p in r.param_columns} for t, r in found}
        for found in tables
    ]
    # -> the param columns a row's own values fill that only a get takes (a job's id, read
    # from its name): a condition that binds nothing filters them as it does a field
    row_params = [{t.alias_or_name.lower(): _got_by_id(r) for t, r in found} for found in tables]
    # -> the names a condition on them can bind (a get's params too: a job's name)
    bindable = [{t.alias_or_name.lower(): param_names(r) for t, r in found} for found in tables]
    identities = [
        {
            t.alias_or_name.lower(): str(r.identity["column"]).lower()
            for t, r in found
            if r.identity.get("column")
        }
        for found in tables
    ]
    # under a sample (or an ASOF / POSITIONAL join) a view param flows in only where it binds
    # its table's calls: one on a field (TuningJobStatus) filtered the rows before the sample
    free = filters_first(node)

    def flows(param: str, i: int) -> str | None:
        inner = view_param_expr(params[param], i)
        if not inner or free or _routed(params[param], len(branches)):
            return inner
        return inner if _binds_a_param(inner, inner_params[i]) else None

    forms = [{t.alias_or_name.lower(): column_forms(r) for t, r in f} for f in tables]

    def bind(param: str, pred: exp.Expr, i: int) -> bool:
        """Bind ``param`` in branch ``i`` by the values of ``pred`` it accepts; whether any."""
        inner = flows(param, i)
        part = _accepted(pred, params[param], i) if inner else None
        if part is not None and inner and binary() and len(branches) > 1:
            # (one branch: the value is wrong)
            part = _of_its_form(part, exp.maybe_parse(inner, dialect="duckdb"), forms[i])
        if not inner or part is None:
            return False
        _bind_into(branches[i], param, part, inner, view.id)
        return True

    bound = _const_predicates(node, set(params))
    direct = {param for param, _ in bound}
    #: id of an outer WHERE conjunct -> the branches a copy of it went into (rule 6)
    landed: dict[int, set[int]] = {}
    for param, pred in bound:
        for i in range(len(branches)):
            if bind(param, pred, i):
                # an IN of some of the values implies the whole IN: the branch's rows pass it
                landed.setdefault(id(pred), set()).add(i)
        if _routed(params[param], len(branches)):
            _reject_null_rows(node, pred)
            scope = pred.find_ancestor(exp.Select)
            if scope is not None and pred.find_ancestor(exp.Where) is scope.args.get("where"):
                # still true of every row the statement returns: a view expanded later binds
                # its params from it (_joined_predicates), whatever the order of the FROM
                scope.meta.setdefault(_MOVED, []).append(pred.copy())
            pred.replace(exp.true())
    joined = _joined_predicates(node, set(params), direct)
    for param, pred in joined:
        for i in range(len(branches)):
            bind(param, pred, i)
    routed = {p for p, spec_ in params.items() if _routed(spec_, len(branches))}
    alone = routed - direct - {param for param, _ in joined}
    _refuse_loose(node, view.id, alone)
    for param, pred in _colocated(node, alone, set(params) - routed):
        for i in range(len(branches)):
            bind(param, pred, i)
    # not under a sample taken before the WHERE (or an ASOF / POSITIONAL join): fewer rows
    # of the view in it, another sample of the join (these copies are not needed to bind)
    in_subqueries = _subquery_predicates(node, set(params)) if free else []
    if registry is not None and free:
        in_subqueries += _joined_sources(node, set(params), registry)
    for names, pred in in_subqueries:
        if any(_routed(params[n], len(branches)) for n in names):
            continue
        for i, branch in enumerate(branches):
            members = [
                (k, inner, view_param_entry(params[n], i)[1])
                for k, n in enumerate(names)
                if (inner := view_param_expr(params[n], i)) and _binds_a_param(inner, bindable[i])
            ]
            if members:
                label = f"{view.id}.{names[members[0][0]]}"
                copy = _tentative_in(pred, members, label)
                copy.meta[SPECULATIVE] = bool(pred.meta.get(SPECULATIVE))
                branch.where(copy, copy=False)
    if registry is not None and _plain_union_all(tree):
        done = [pred for _, pred in bound]
        _filters_into(
            node, branches, done, view.id, inner_params, identities, landed, row_params, forms
        )
    if spec.get("optional_branches"):
        for i, branch in enumerate(branches):
            label = f"{view.id} (branch {i + 1})"
            for t in branch.find_all(exp.Table):
                # not a partner's speculative copy (``_joined_sources``): skipped as optional,
                # it held no row, and the branch's rows all failed its IN (0 rows, exit 0);
                # as a plan error, the statement is planned without the copy
                if not _in_speculative(t):
                    t.meta[OPTIONAL] = label
    alias = node.alias_or_name
    if _plain_union_all(tree):
        names = [p.alias_or_name for p in branches[0].expressions]
        columns = {c.name.lower() for c in view.columns}
        preds = _const_predicates(node, columns) + _joined_predicates(node, columns)
        kept = [
            b
            for i, b in enumerate(branches)
            if not (_contradicted(b, preds, forms[i]) and binary())
        ]
        if not kept:
            return _empty(view, alias)
        if registry is not None:
            ordered = [(i, b) for i, b in enumerate(branches) if any(b is k for k in kept)]
            _order_into(node, view, ordered, landed)
        used = _outer_refs(node) if prune else None
        if used is not None and _joined_to_another(node):
            used |= set(params)  # a dependent join's partner takes its location from them
        if used is not None and all(_prunable(b) for b in kept):
            first = kept[0]
            for proj, name in zip(list(first.expressions), names, strict=False):
                if proj.alias_or_name != name:
                    proj.replace(
                        exp.alias_(proj.this if isinstance(proj, exp.Alias) else proj, name)
                    )
            _prune(kept, used)
        if len(kept) != len(branches):
            tree = kept[0]
            for b in kept[1:]:
                tree = exp.union(tree, b, distinct=False, copy=False)
    sub = exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier(alias)))
    keep_sample(node, sub)
    sub.meta[VIEW] = view.id
    return sub


def keep_sample(mention: exp.Table, sub: exp.Subquery) -> None:
    """The TABLESAMPLE of a view's mention, onto the subquery that replaces it (it was
    dropped: ``tuning_jobs TABLESAMPLE 4 ROWS`` counted 31 rows); and the joins a mention
    holds itself, as sqlglot keeps those of a parenthesized join (``FROM (v CROSS JOIN r)``):
    they were dropped, and the SQL left (``FROM ((SELECT ...) AS v)``) was DuckDB's syntax
    error."""
    sample = mention.args.get("sample")
    if sample is not None:
        sub.set("sample", sample.copy())
    joins = mention.args.get("joins")
    if joins:
        sub.set("joins", [j.copy() for j in joins])


def relocate(tree: exp.Expr, mention: exp.Table) -> None:
    """Give every node of a view's expansion the position of the view's mention: positions in
    the view's own SQL meant nothing to the user ('line 1, column 1101' for a 100-character
    query)."""
    where = getattr(mention.this, "meta", None) or {}
    keys = ("line", "col", "start", "end")
    for n in tree.walk():
        meta = n.meta
        if any(k in meta for k in keys):
            for k in keys:
                if k in where:
                    meta[k] = where[k]
                else:
                    meta.pop(k, None)


def _by_alias(tree: exp.Expr, mention: exp.Table) -> None:
    """Columns of ``tree`` qualified by an unaliased view mention's whole name
    (``google.aiplatform.hyperparameter_tuning_job_trials.trial_id``, or its last two parts)
    qualified by its alias alone, the name of the subquery that replaces it: DuckDB found no
    table of that name ("Referenced table ... not found"), as it does for a provider table."""
    if mention.args.get("alias") is not None or not mention.db:
        return
    name, db, catalog = mention.name.lower(), mention.db.lower(), mention.catalog.lower()
    for col in tree.find_all(exp.Column):
        if col.table.lower() != name or col.db.lower() != db:
            continue
        if col.catalog and col.catalog.lower() != catalog:
            continue
        col.set("db", None)
        col.set("catalog", None)


def expand_views(
    tree: exp.Expr,
    registry: Registry,
    prune: bool = True,
    binary: Callable[[], bool] = lambda: True,
) -> exp.Expr:
    """Inline every view mention of ``tree`` (views over views too), in place. ``prune`` off
    keeps every view column (for an error that names them all). ``binary``: ``expand_view``."""
    for _ in range(MAX_DEPTH):
        found = False
        for node, resource in list(provider_tables(tree, registry)):
            if resource.kind != "view":
                continue
            _by_alias(tree, node)
            replacement = expand_view(node, resource, prune, registry, binary)
            if node is tree:
                return replacement
            node.replace(replacement)
            found = True
        if not found:
            return tree
    raise PlanError(f"views nest deeper than {MAX_DEPTH} levels (a view that reads itself?)")
