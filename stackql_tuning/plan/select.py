"""Planning a query over provider tables: method choice, fan-out, dependencies, hydration.

Pure: (sqlglot tree, registry, constant evaluator) -> :class:`QueryPlan`. Each provider table
mention becomes a :class:`Slot` (a DuckDB table to fill), mentions with identical fetch plans
share one. The SQL DuckDB runs is the user's own tree, with only the table names of extra slots
and StackQL-compatibility functions rewritten (see ``plan.rewrite``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from stackql_tuning.errors import Location, PlanError, closest
from stackql_tuning.plan.bindings import (
    TENTATIVE,
    VIEW,
    Bindings,
    ConstEval,
    RowSource,
    TableRef,
    carries,
    collect_bindings,
    conjuncts,
    drop_marked,
    enclosing_view,
    filters_first,
    find_provider_tables,
    first_select,
    group_filters,
    is_null_test,
    local_in_alone,
    node_location,
    owner,
    param_names,
    param_spellings,
    provider_relation,
    source_named,
    timeless,
    unqualified,
    unstable,
    unstable_part,
    view_named,
)
from stackql_tuning.plan.columns import used_columns
from stackql_tuning.plan.implied import BoundPredicate, placed_well
from stackql_tuning.plan.readers import outer_conditions
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.plan.star import leave_out_call_options
from stackql_tuning.plan.user_views import through_user_view
from stackql_tuning.plan.views import OPTIONAL
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import Method, Resource, derived_params


@dataclass
class Slot:
    """One DuckDB table to materialize: which method, with which params, for which mentions."""

    name: str  # DuckDB table name: catalog.schema.table
    resource: Resource
    method: Method
    #: param name (as the method spells it) -> values; the calls are their cartesian product
    static: dict[str, list[Any]]
    #: param name -> (source slot name, or a key of ``view_sources``; source column)
    dependent: dict[str, tuple[str, str]]
    #: the dependent params taken from a same-named column of the source (``colocate``), not
    #: from the SQL: a source without the column leaves them out (a NULL, as in a column the
    #: SQL joins on, names no call: the row of a view's Google branch has no AWS region)
    located: set[str] = field(default_factory=set)
    #: the get method to call per row when the query needs columns the list reply lacks
    hydrate: Method | None = None
    #: columns the query reads (None: all)
    columns: set[str] | None = None
    #: stop paging once this many rows have arrived (early LIMIT) ...
    limit: int | None = None
    #: ... that pass these conditions (unqualified; none: every row counts)
    limit_where: list[exp.Expr] = field(default_factory=list)
    #: extra server params from pushdown (never changes results: predicates stay in the SQL)
    pushed: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    #: predicates of the mention's scope that are not bindings (pushdown candidates)
    residual: list[exp.Expr] = field(default_factory=list)
    #: the SELECT the mention sits in (early LIMIT looks at it)
    scope: exp.Expr | None = None
    #: an optional view branch that the query does not bind: its table stays empty, no call
    skip: bool = False
    #: whether the WHERE may filter the table's rows before the rest of its SELECT (no sample
    #: before it, no ASOF or POSITIONAL join): pushdown, and filtering before the gets
    filters_first: bool = True
    #: the ``static`` params whose values are the session's defaults (a bad one's message
    #: says where it was set: the statement does not show it)
    defaulted: set[str] = field(default_factory=set)
    #: a hydrating slot's conditions on the list's own columns, and the ORDER BY keys and
    #: LIMIT of a query over it alone: only the listed rows they keep are got
    #: (``plan.hydrate_first``); none: every listed row is got as it arrives
    hydrate_where: list[exp.Expr] = field(default_factory=list)
    hydrate_order: list[exp.Expr] = field(default_factory=list)
    hydrate_limit: int | None = None
    #: a LIMIT over the items of each got row's array (``FROM jobs j, json_each(j.trials) t
    #: ... LIMIT 3``): the rows needed, and the column whose array each get's reply holds;
    #: the kept rows are got until that many items have arrived
    hydrate_expand: tuple[int, str] | None = None
    #: the reply fields the loaded rows need, asked of APIs that offer partial responses
    #: (None: every field)
    reply_fields: tuple[str, ...] | None = None
    #: each mention's scope and residual conditions (a shared slot keeps none of its own:
    #: their literals are still checked, ``pushrules.check_enum_literals``)
    mentions: list[tuple[exp.Expr | None, list[exp.Expr]]] = field(default_factory=list)
    #: dependent sources that are not provider tables (views, CTEs, subqueries, VALUES lists,
    #: local tables): key -> the query of their rows (a view's expansion, or ``RowSource.query``),
    #: over the slots it reads, and the names of those slots
    view_sources: dict[str, tuple[exp.Subquery, set[str]]] = field(default_factory=dict)
    #: dependent source (as ``dependent`` names it) -> the WHERE and ON conjuncts over it
    #: alone, unqualified: its values are read through them (``source_filters``)
    source_filters: dict[str, list[exp.Expr]] = field(default_factory=dict)

    @property
    def hydrates_first(self) -> bool:
        """Whether the listed rows are filtered before they are got."""
        return self.hydrate is not None and (
            bool(self.hydrate_where)
            or self.hydrate_limit is not None
            or self.hydrate_expand is not None
        )

    @property
    def depends_on(self) -> set[str]:
        out: set[str] = set()
        for src, _ in self.dependent.values():
            view = self.view_sources.get(src)
            out |= view[1] if view is not None else {src}
        return out


@dataclass
class QueryPlan:
    tree: exp.Expr  # the statement, with extra slots' table names rewritten
    slots: list[Slot]
    warnings: list[str] = field(default_factory=list)
    #: the conjuncts that bound the slots' params (``plan.implied`` leaves some out of the SQL)
    bound: list[BoundPredicate] = field(default_factory=list)

    def stages(self) -> list[list[Slot]]:
        """Slots grouped so that each stage depends only on earlier ones."""
        done: set[str] = set()
        left = list(self.slots)
        out: list[list[Slot]] = []
        while left:
            ready = [s for s in left if s.depends_on <= done]
            if not ready:
                names = ", ".join(
                    f"{s.resource.id} AS {alias}" for s in left for alias in s.aliases
                )
                raise PlanError(
                    f"provider tables take their parameters from each other in a cycle: {names}",
                    hint="bind one of them with literals (its region = '...', its "
                    "AwsAccountId or its projectsId and locationsId = '...'): the others then "
                    "take their values from its rows",
                )
            out.append(ready)
            done.update(s.name for s in ready)
            left = [s for s in left if s not in ready]
        return out


def choose_method(resource: Resource, bound: set[str], *, node: exp.Table | None = None) -> Method:
    """The first SELECT method (most specific first) whose required params are all bound."""
    selects = sorted(resource.methods_for("SELECT"), key=lambda m: -len(m.required_params))
    if not selects:
        raise PlanError(f"{resource.id} cannot be queried with SELECT", hint=_hint(resource))
    ready = [m for m in selects if all(p.lower() in bound for p in m.required_params)]
    # a method that ignores a bound param another method takes would answer without it: a
    # get by name with StatusEquals bound gave the job whatever its status, and the row (no
    # StatusEquals) then failed its own WHERE: 0 rows. Prefer one that takes every such param
    named = {n for n in bound if any(m.param(n) is not None for m in selects)}
    carried = {p.lower() for p in resource.identity_params}
    for m in ready:
        # a bound param the method does not take is fine when the rows have it (a column, or
        # a part of the identity every row carries): DuckDB's WHERE applies it (the list
        # filters the get's name)
        if all(
            m.param(n) is not None or resource.column(n) is not None or n in carried for n in named
        ):
            return m
    if ready:
        return ready[0]
    missing = "; ".join(
        f"{m.name} needs {', '.join(p for p in m.required_params if p.lower() not in bound)}"
        for m in selects
    )
    loc = Location(resource=resource.id)
    if node is not None:
        loc = node_location(node, loc)
    need = min(selects, key=lambda m: len(m.required_params))
    lacking = [p for p in need.required_params if p.lower() not in bound]
    example = " AND ".join(f"{p} = '...'" for p in lacking)
    # the params the WHERE already binds are not asked for again
    add = (
        f"add WHERE {example}"
        if len(lacking) == len(need.required_params)
        else f"add {example} to the WHERE"
    )
    raise PlanError(
        f"cannot query {resource.id} without its required parameters ({missing})",
        location=loc,
        hint=f"{add} (SHOW METHODS IN {resource.id} lists them)",
    )


def _explain_constrained(
    e: PlanError, constrained: set[str], resource: Resource, node: exp.Table | None = None
) -> PlanError:
    """``e`` with a hint for params the query constrains without binding them (and, for a
    table read through a user's view, where the condition belongs)."""
    if not constrained:
        return e
    spelled = param_spellings(resource)
    names = ", ".join(sorted(spelled.get(n, n) for n in constrained))
    view = through_user_view(node) if node is not None else None
    if view is not None:
        e.message += f" (read through the view {view})"
        e.hint = (
            f"a view runs its own query, as a CTE does: {names} is constrained outside it, "
            f"which binds nothing; bind it in the view's WHERE (CREATE OR REPLACE VIEW {view} "
            f"AS ... WHERE {names} = '...'), or query the table itself; " + (e.hint or "")
        )
        return e
    registry_view = enclosing_view(node, VIEW) if node is not None else None
    if registry_view is not None:
        e.message += f" (read through the view {registry_view})"
        e.hint = (
            f"{names} is constrained through the view, where only `= literal` or `IN "
            "(literals)` on the view's own column binds a parameter (a join to another "
            "source's column binds a view's table only when the view is the source): give "
            f"the view's region, account, project or location as literals, or join {resource.id} "
            "itself; " + (e.hint or "")
        )
        return e
    e.hint = (
        f"{names} is constrained here, but only `= literal`, `IN (literals)` (or an OR of "
        "those on the one column) or an equality "
        "with a column of another source joined in the same FROM (a provider table, view, CTE "
        "but not WITH RECURSIVE, subquery, VALUES list or local table) binds a parameter "
        "(not an OR with other columns, LIKE, <>, an IN (SELECT ...) that is correlated or "
        "reads a DuckDB view, a macro, a sample or the clock, JOIN ... USING, NATURAL "
        "JOIN, a correlated subquery's outer column under an OR, in an ON or unqualified: "
        "write a JOIN ... ON; nor a condition "
        "outside the CTE or subquery that reads the table: move it inside; nor a HAVING: "
        "write it in the WHERE), and config defaults "
        "do not stand in for it; " + (e.hint or "")
    )
    return e


def _with_misspelled(e: PlanError, ref: TableRef, refs: list[TableRef]) -> bool:
    """``e`` (a table's required params are not bound) saying which of the names the
    statement gives that table is no column of it but close to a param it needs:
    `WHERE projectId = 'p'` was only "cannot query ... without its required parameters"; and
    which is a double-quoted value (`region = "us-east-1"` compares with a column so named).
    Whether it found one."""
    resource, scope = ref.resource, ref.scope
    if scope is None:
        return False
    known = {c.lower() for c in _resource_columns(resource)}
    needed = {p for m in resource.methods_for("SELECT") for p in m.required_params}
    alias = ref.alias.lower()
    alone = len([r for r in refs if r.scope is scope]) == 1 and not any(
        isinstance(t, exp.Table) and all(r.node is not t for r in refs)
        for t in scope.find_all(exp.Table)
    )
    said: list[str] = []
    for col in scope.find_all(exp.Column):
        name, table = col.name, col.table.lower()
        if not name or name.lower() in known or (table != alias if table else not alone):
            continue
        if not table and col.this.args.get("quoted") and name not in said:
            said.append(name)  # region = "us-east-1": a name, not a value
            e.hint = (
                f'"{name}" is a name (double quotes): a text value takes single quotes, '
                f"'{name}'; " + (e.hint or "")
            )
            continue
        close = closest(name, needed)
        if close and name not in said:
            said.append(name)
            e.hint = f"{name} is not a column of {resource.id} (did you mean {close[0]}?); " + (
                e.hint or ""
            )
    return bool(said)


def _hint(resource: Resource) -> str:
    return f"SHOW METHODS IN {resource.id}"


def needs_hydration(resource: Resource, method: Method, columns: set[str] | None) -> bool:
    wanted = {c.name.lower() for c in resource.columns} if columns is None else set(columns)
    return not all(carries(resource, method, c) for c in wanted if resource.column(c))


def hydration_method(resource: Resource, method: Method) -> Method | None:
    """The get-like method that returns full rows, for a list method's rows."""
    if not method.is_list:
        return None
    for m in sorted(resource.methods_for("SELECT"), key=lambda m: -len(m.required_params)):
        if m is not method and not m.is_list:
            return m
    return None


def _get_per_joined_value(
    resource: Resource, method: Method, b: Bindings, refs: list[TableRef], columns: set[str] | None
) -> Method | None:
    """The get to call per joined value instead of ``method``, a list whose every row would be
    got again (a column only the get returns), or None. A table joined on the get's own
    params to rows the statement holds (VALUES, a file, a CTE or subquery) keeps only the
    rows the join matches: three names from a CSV made a list and a describe of each of the
    region's 31 jobs, not three describes. Not when the source is a provider table: each
    of two could then wait for the other's rows."""
    if not method.is_list or not needs_hydration(resource, method, columns):
        return None
    get = hydration_method(resource, method)
    if get is None:
        return None
    wanted = {p.lower() for p in get.required_params} - set(b.static)
    if not wanted or not wanted <= set(b.dependent):
        return None
    providers = {r.alias.lower() for r in refs}
    if any(b.dependent[k][0].lower() in providers for k in wanted):
        return None
    return get


def _listed_by_defaults(
    ref: TableRef,
    refs: list[TableRef],
    b: Bindings,
    defaults: dict[str, list[Any]] | None,
    bound_of: dict[tuple[int, str], set[str]],
) -> Method | None:
    """The list of a table whose param that picks where the call goes (region, account) is
    joined only to a table that leaves it unbound too, once the config file's defaults stand
    in for it (``b`` then takes them, and waits on no table for it); None when that does not
    make it listable. ``h JOIN training_jobs t ON t.name = h.name AND t.region = h.region``
    with only a default region: h waited on t's region and t on h's names (a "cycle" error);
    h is listed in the default regions, and t takes its pairs from h's rows."""
    if not defaults:
        return None
    resource = ref.resource
    client = {
        p.name.lower()
        for m in resource.methods_for("SELECT")
        for p in m.params
        if p.location == "client"
    }
    loose = (set(b.dependent) & client) - bound_of[(id(ref.scope), ref.alias.lower())]
    given = {k.lower(): v for k, v in defaults.items() if k.lower() in loose - set(b.static)}
    if not given or _loosely_constrained(ref, refs, set(given)):
        return None  # (`h.region LIKE 'ap-%'`: the defaults' rows would be a wrong answer)
    try:
        method = choose_method(resource, set(b.static) | set(given), node=ref.node)
    except PlanError:
        return None
    if not method.is_list:
        return None
    for key in given:
        b.dependent.pop(key, None)
    apply_defaults(resource, b, given, set())
    return method


def _listed_by_implied(
    ref: TableRef, b: Bindings, planned: list[tuple[TableRef, Bindings]]
) -> Method | None:
    """The list of a table that its dependent params' implied texts (``Bindings.implied``)
    make listable, where that costs no call the partner's rows would not: ``b`` then takes
    them as static values. None when they do not make a list.

    - The partner that gives them waits on this table's rows in turn: ``h JOIN t ON t.name =
      h.name AND t.region = h.region WHERE t.region = 'x'``: h waited on t for its region and
      t on h for its names (a "cycle" error); h is listed in region x (the only one the query
      keeps), and t takes its names from h's rows.
    - Or this table would be listed per partner row anyway (not got per row, which may be
      fewer calls than a list to hydrate): ``a LEFT JOIN a2 ON a2.name = a.name AND
      a2.projectsId = a.projectsId ... WHERE a.projectsId = 'p' ...`` listed a2 once a's rows
      were in, the same list as a's own, called twice; listed by the texts, it is a's list."""
    taken: dict[str, list[Any]] = {}
    for name, (alias, column, texts) in b.implied.items():
        partner = b.dependent.get(name)
        if partner is None or name in b.static:
            continue
        if (partner[0].lower(), partner[1].lower()) == (alias.lower(), column.lower()):
            taken[name] = texts
    if not taken:
        return None
    waiting = {
        other.alias.lower()
        for other, ob in planned
        if other.scope is ref.scope
        and any(src.lower() == ref.alias.lower() for src, _ in ob.dependent.values())
    }
    if not {alias.lower() for alias, _, _ in (b.implied[n] for n in taken)} <= waiting:
        try:
            per_row = choose_method(ref.resource, set(b.static) | set(b.dependent), node=ref.node)
        except PlanError:
            return None
        if not per_row.is_list:
            return None
    try:
        method = choose_method(ref.resource, set(b.static) | set(taken), node=ref.node)
    except PlanError:
        return None
    if not method.is_list:
        return None
    for name, texts in taken.items():
        del b.dependent[name]
        b.static[name] = list(texts)
    return method


def _refuse_outer_filter(ref: TableRef, refs: list[TableRef], names: set[str]) -> None:
    """A PlanError when a condition outside the view whose optional branch reads ``ref``
    keeps rows by one of its params ``names`` that the branch leaves unbound (not ``IS
    NULL``, which asks for the other branches' rows): ``(SELECT * FROM unified.tuning.jobs) s
    WHERE s.region = 'us-east-1'`` skipped the AWS branch, and the condition then dropped
    every other row (0 rows, exit 0). Not one of the query that names the view: the view's
    rules judge those (``plan.views``), and there `account_or_project = '123456789012'`
    binds the AWS branch and rightly skips the others."""
    mention = ref.node.parent
    while mention is not None and not (isinstance(mention, exp.Subquery) and VIEW in mention.meta):
        mention = mention.parent
    own = mention.find_ancestor(exp.Select) if mention is not None else None
    view = str(mention.meta[VIEW]) if mention is not None else ref.resource.id
    for name, pred in outer_conditions(ref, refs):
        if name not in names or is_null_test(pred):
            continue
        if own is not None and pred.find_ancestor(exp.Select) is own:
            continue
        spelled = param_spellings(ref.resource).get(name, name)
        mine = through_user_view(ref.node)  # a view of the user's that reads it
        where = f"the view {mine}" if mine else "the subquery or CTE"
        raise PlanError(
            f"{spelled} of {view} is constrained by `{pred.sql(dialect='duckdb')}` outside "
            f"{where} that reads {view}, which binds no call: the branches of {view} that need "
            f"{spelled} would not be read, and their rows would be missing",
            location=node_location(pred, Location(resource=view)),
            hint=(
                f"bind it in the view's own WHERE (CREATE OR REPLACE VIEW {mine} AS SELECT ... "
                f"FROM {view} WHERE {spelled} = '...')"
                if mine
                else f"move the condition inside, next to the view: (SELECT ... FROM {view} "
                f"WHERE {spelled} = '...'), or give it as literals there"
            ),
        )


def _loosely_constrained(ref: TableRef, refs: list[TableRef], names: set[str]) -> bool:
    """Whether a condition on ``ref``'s own columns ``names`` (lower-case) is more than an
    equality with another column (the join that made them dependent)."""
    for pred in conjuncts(ref.scope, ref.node):
        if isinstance(pred, exp.EQ) and all(
            isinstance(side, exp.Column) for side in (pred.left, pred.right)
        ):
            continue
        for col in pred.find_all(exp.Column):
            if col.name.lower() in names and owner(col, refs, ref.scope) is ref:
                return True
    return False


def _canonical(method: Method, name: str) -> str:
    p = method.param(name)
    return p.name if p else name


#: the column names of a query's rows (DuckDB SQL), None when it cannot say
Describe = Callable[[str], "list[str] | None"]


def colocate(
    ref: TableRef, b: Bindings, refs: list[TableRef], describe: Describe | None = None
) -> None:
    """A table bound to another by a dependent join takes that partner's location too.

    ``JOIN t ON t.HyperParameterTuningJobName = j.HyperParameterTuningJobName`` also means "in
    j's region and account": params of ``t``'s list calls that are required or name where a
    call goes (``client`` params such as region, AwsAccountId) and that the query leaves
    unbound are taken from the partner's same-named columns, row by row. Never a param that
    only a get takes (an id): a partner's column of that name would turn the list the SQL
    means into one get per partner row.
    """
    if not b.dependent:
        return
    wanted = {
        p.name.lower()
        for m in ref.resource.methods_for("SELECT")
        if m.is_list
        for p in m.params
        if p.required or p.location == "client"
    }
    sources: list[tuple[str, dict[str, str]]] = []
    for alias in dict.fromkeys(alias for alias, _ in b.dependent.values()):
        names = source_columns(ref, alias, refs, describe)
        if names is not None:
            sources.append((alias, {n.lower(): n for n in names}))
    for alias, have in sources:
        for key in wanted:
            if key not in b.static and key not in b.dependent and key in have:
                b.dependent[key] = (alias, have[key])
                b.located.add(key)


def source_columns(
    ref: TableRef, alias: str, refs: list[TableRef], describe: Describe | None = None
) -> list[str] | None:
    """The column names of the source named ``alias`` in ``ref``'s scope, as far as the
    statement (or DuckDB, for sources over local tables or files) says; None when it cannot
    say (not a source of that scope, or a local table without ``describe``)."""
    for other in refs:
        if other is not ref and other.scope is ref.scope and other.alias.lower() == alias.lower():
            return _resource_columns(other.resource)
    view = view_named(ref.scope, alias)
    if view is not None:  # the columns the view's expansion projects (its params kept)
        select = first_select(view)
        return [p.alias_or_name for p in select.expressions] if select else []
    rows = source_named(ref.scope, alias)
    if rows is None:
        return None
    # a CTE's, a subquery's or a VALUES list's named columns
    names = rows.columns(lambda table: _provider_columns(table, refs))
    if not _reads_provider(rows, refs):
        # over local tables or files only: DuckDB knows them already, and its answer holds
        # where the statement's is partial (``*`` over a local table)
        known = describe(to_duckdb_sql(rows.query().this)) if describe else None
        return known or names or None
    return names


def _reads_provider(rows: RowSource, refs: list[TableRef]) -> bool:
    """Whether ``rows`` read a provider table (not filled while planning)."""
    nodes = {id(r.node) for r in refs}
    return any(id(t) in nodes for part in [rows.node, *rows.ctes] for t in part.find_all(exp.Table))


def _provider_columns(table: exp.Table, refs: list[TableRef]) -> list[str] | None:
    """The columns (and param columns) of the provider table that ``table`` mentions."""
    for r in refs:
        if r.node is table:
            return _resource_columns(r.resource)
    return None


def _resource_columns(resource: Resource) -> list[str]:
    """A provider table's columns: the resource's fields, then its param columns."""
    return [name for name, _ in provider_relation(resource)]


def apply_defaults(
    resource: Resource, b: Bindings, defaults: dict[str, list[Any]], constrained: set[str]
) -> None:
    """Fill params the query leaves alone (neither bound nor ``constrained``) from the defaults.

    A param the query constrains without binding it (``region = 'a' OR account = 'b'``,
    ``region LIKE 'eu-%'``, ``region IN (SELECT ...)``) gets no
    default: the default region's rows, filtered by that predicate, were a silent wrong or
    empty answer. It stays unbound, and the plan says so.
    """
    for name, values in defaults.items():
        key = name.lower()
        if key in b.static or key in b.dependent or key in constrained:
            continue
        if not _is_param(resource, name):
            continue
        b.static[key] = list(dict.fromkeys(values))  # as IN lists are: no call made twice
        b.defaulted.add(key)


def constrained_params(
    ref: TableRef, b: Bindings, refs: list[TableRef], describe: Describe | None = None
) -> set[str]:
    """The (lower-case) param columns of ``ref`` that a non-binding predicate of its scope
    names (``b.residual``): columns of nested queries count only when qualified by ``ref``;
    and those a ``JOIN ... USING`` or a ``NATURAL JOIN`` compares."""
    params = param_names(ref.resource)
    out: set[str] = set()
    for pred in b.residual:
        for col in pred.find_all(exp.Column):
            name = col.name.lower()
            if name not in params:
                continue
            nested = col.find_ancestor(exp.Select) is not ref.scope
            if nested and (col.table or "").lower() != ref.alias.lower():
                continue
            if owner(col, refs, ref.scope) is ref or (nested and col.table):
                out.add(name)
    # a HAVING (or QUALIFY) on it filters the groups: `GROUP BY region HAVING region = 'x'`
    # read the default region, and the HAVING dropped its group (no row, exit 0)
    for pred in group_filters(ref.scope):
        for col in pred.find_all(exp.Column):
            if col.name.lower() in params and owner(col, refs, ref.scope) is ref:
                out.add(col.name.lower())
    # a JOIN ... USING (region) compares the column without binding it: left to its default,
    # only the default region's rows were read
    for join in (ref.scope.args.get("joins") or []) if ref.scope is not None else []:
        out |= {i.name.lower() for i in join.args.get("using") or []} & params
    return out | _natural_params(ref, params, refs, describe)


def _natural_params(
    ref: TableRef, params: set[str], refs: list[TableRef], describe: Describe | None
) -> set[str]:
    """The params of ``ref`` that a NATURAL JOIN of its scope compares with a same-named column
    of the other side (every param when that side's columns are unknown): compared, not bound,
    as with USING."""
    if ref.scope is None:
        return set()
    sources = [ref.scope.args.get("from_"), *(ref.scope.args.get("joins") or [])]
    nodes = [s.this if s is not None else None for s in sources]
    mine = next((i for i, n in enumerate(nodes) if n is ref.node), None)
    if mine is None:
        return set()
    out: set[str] = set()
    for k, join in enumerate(sources[1:], start=1):
        if join.method.upper() != "NATURAL" or mine > k:
            continue
        # the table a NATURAL JOIN brings meets everything before it
        others = nodes[:k] if mine == k else [nodes[k]]
        for node in others:
            if node is None or node is ref.node:
                continue
            names = source_columns(ref, node.alias_or_name, refs, describe)
            out |= params if names is None else params & {n.lower() for n in names}
    return out


def outer_constrained(ref: TableRef, refs: list[TableRef]) -> set[str]:
    """The (lower-case) param columns of ``ref`` that predicates of the queries around its
    own name: ``WITH x AS (SELECT * FROM t) SELECT ... FROM x WHERE region = 'a'`` constrains
    t's region, which the CTE's own scope leaves unbound (the config default stood in, and the
    outer filter then dropped every row). Which queries and conditions count:
    ``plan.readers``."""
    return {name for name, _ in outer_conditions(ref, refs)}


def _bind_chains(
    planned: list[tuple[TableRef, Bindings]],
) -> dict[tuple[int, str], set[str]]:
    """(scope, alias) -> the params its calls are given values for; each table's dependent
    params are pointed at a source that gives them values, where one does.

    A literal binds a param; so does a join to a source that is not a provider table, or to a
    provider table's column that is itself bound (through any chain of joins: ``v -> j1 -> j2
    -> t``) or that is a field of its rows (a job's name). A provider table's param column
    that the table leaves unbound holds its default (the credentials' account), so a join to
    it does not bind (and a cycle of such joins binds none). A table joined to several sources
    for one param (``j2 = j1`` and ``j3 = j2``) takes it from one that is itself anchored (a
    literal or another source binds some of its params) before one that is not: the later
    join's table, bound by this one, made a cycle (0 rows from the default account, or a
    cycle error)."""
    key = {id(r): (id(r.scope), r.alias.lower()) for r, _ in planned}
    resource = {key[id(r)]: r.resource for r, _ in planned}
    bound = {key[id(r)]: set(b.static) for r, b in planned}

    def gives(ref: TableRef, alias: str, col: str) -> bool:
        at = (id(ref.scope), alias.lower())
        if at not in bound:
            return True  # a view, a CTE, a subquery, VALUES, a local table
        return col.lower() in bound[at] or resource[at].column(col) is not None

    def anchored(ref: TableRef, alias: str) -> bool:
        at = (id(ref.scope), alias.lower())
        return at not in bound or bool(bound[at])

    changed = True
    while changed:
        changed = False
        for ref, b in planned:
            mine = bound[key[id(ref)]]
            for k, current in list(b.dependent.items()):
                if k in mine:
                    continue
                options = [c for c in b.candidates.get(k, [current]) if gives(ref, *c)]
                if current not in options and gives(ref, *current):
                    options.append(current)  # a colocated param (not the SQL's own join)
                if not options:
                    continue
                settled = [c for c in options if anchored(ref, c[0])]
                if not settled:
                    continue  # wait: a source may be anchored later in the chain
                b.dependent[k] = current if current in settled else settled[0]
                mine.add(k)
                changed = True
    return bound


def plan_query(
    tree: exp.Expr,
    registry: Registry,
    const_eval: ConstEval | None = None,
    defaults: dict[str, list[Any]] | None = None,
    describe: Describe | None = None,
    binary: Callable[[], bool] = lambda: True,
) -> QueryPlan:
    """The statement's provider tables as slots: method, bindings, columns.

    ``describe``: the columns of a query over local tables or files (DuckDB's answer), for a
    dependent join whose source the statement does not spell out (``FROM picks p``).
    ``binary``: whether DuckDB compares text byte for byte (asked only of conditions that
    allow no value in common: under ``nocase``, 'A' and 'a' do)."""
    drop_marked(tree, TENTATIVE)
    refs = find_provider_tables(tree, registry)
    warnings: list[str] = []
    slots: list[Slot] = []
    bound: list[BoundPredicate] = []
    by_key: dict[tuple[Any, ...], Slot] = {}
    alias_slot: dict[str, Slot] = {}
    node_slot: dict[int, Slot] = {}  # id of a mention's node -> its slot
    filters: dict[tuple[int, str], list[exp.Expr]] = {}  # (mention, source alias) -> ...

    def mention_filters(ref: TableRef, alias: str) -> list[exp.Expr]:
        """``source_filters`` of a mention's dependent source, worked out once."""
        key = (id(ref.node), alias.lower())
        if key not in filters:
            filters[key] = source_filters(ref.scope, alias, ref.node)
        return filters[key]

    planned: list[tuple[TableRef, Bindings]] = [
        (ref, collect_bindings(ref, refs, const_eval)) for ref in refs
    ]
    constrained_of: list[tuple[set[str], set[str]]] = []
    for ref, b in planned:
        colocate(ref, b, refs, describe)
        named = constrained_params(ref, b, refs, describe) | outer_constrained(ref, refs)
        constrained = named - set(b.static) - set(b.dependent)
        if defaults:
            apply_defaults(ref.resource, b, defaults, constrained)
        constrained_of.append((constrained, named))
    bound_of = _bind_chains(planned)
    # some table's conditions allow no value in common, and DuckDB compares as they do
    contradicted = any(b.contradicted is not None for _, b in planned) and binary()
    for (ref, b), (constrained, named) in zip(planned, constrained_of, strict=True):
        resource = ref.resource
        joined = set(b.dependent)  # params the statement joins to a column (before pruning)
        # dependent bindings (values from another provider table) are used only when the
        # static ones cannot plan the table, or when they would list rows only to get each
        # again (``_get_per_joined_value``): that keeps joins acyclic and calls few
        skip = False
        columns = used_columns(tree, ref, refs)
        listed: Method | None = None
        unplanned: PlanError | None = None
        try:
            listed = choose_method(resource, set(b.static), node=ref.node)
        except PlanError as e:
            unplanned = e
            listed = _listed_by_implied(ref, b, planned) or _listed_by_defaults(
                ref, refs, b, defaults, bound_of
            )
            if listed is not None:
                unplanned = None
        per_value = False  # got per joined value, where a list on its own values would do
        if listed is not None and _get_per_joined_value(resource, listed, b, refs, columns):
            listed, per_value = None, True
        if listed is not None and b.contradicted is not None and contradicted:
            # no row passes the conditions on one of its params: nothing to read (the answer
            # is empty; every conjunct's own values were called, and DuckDB dropped the rows)
            method, skip = listed, True
            b.dependent = {}  # nothing is read: it waits on no other table (a "cycle" said so)
            name, owns = b.contradicted
            name = param_spellings(resource).get(name, name)  # (it was lower-cased)
            allowed = " vs ".join(", ".join(map(repr, own)) for own in owns)
            warnings.append(
                f"{resource.id} is not read: the conditions on its {name} allow no value in "
                f"common ({allowed}), so no row of it can match"
            )
        elif listed is not None:
            method = listed
            # a param that picks where the call goes (AwsAccountId) still takes a source's
            # values: dropped, the calls went to the default account, and a join on the
            # account matched nothing (0 rows, no error). Not from a provider table that
            # leaves it unbound itself: that one reads the default account too (and the two
            # would wait on each other); one bound through a chain of joins is bound
            client = {p.name.lower() for p in method.params if p.location == "client"}
            kept = {
                k: v
                for k, v in b.dependent.items()
                if k in client
                and k not in b.static
                and k in bound_of[(id(ref.scope), ref.alias.lower())]
            }
            # a client param joined to a table that cannot give it (neither binds it) takes
            # the config file's default, as an unjoined one does: the credentials' own
            # account was read, though [defaults] named another (529 rows instead of 170)
            dropped = (set(b.dependent) - set(kept)) & client
            b.dependent = kept
            if defaults and dropped:
                pruned = {k: v for k, v in defaults.items() if k.lower() in dropped}
                apply_defaults(resource, b, pruned, named)
        else:
            try:
                method = choose_method(resource, set(b.static) | set(b.dependent), node=ref.node)
            except PlanError as unbound:
                branch = ref.node.meta.get(OPTIONAL)
                if not branch:
                    # a misspelled name or a double-quoted value says what is wrong; the
                    # rules of binding would hide it
                    if not _with_misspelled(unbound, ref, refs):
                        _explain_constrained(unbound, constrained, resource, ref.node)
                    raise unbound from None
                _refuse_outer_filter(ref, refs, constrained)
                # an optional view branch the query does not bind: skipped, and said so
                method, skip = resource.methods_for("SELECT")[0], True
                b.dependent = {}
                warnings.append(
                    f"{branch}: {resource.id} not queried ({(unplanned or unbound).message})"
                )
            else:
                needed = {p.lower() for p in method.required_params}
                client = {p.name.lower() for p in method.params if p.location == "client"}
                # not a param the statement binds with literals; and for a table got per
                # joined value (which its literals could have listed), not a client param that
                # a table which leaves it unbound would give, as for a listed one: `j.region =
                # 'r'` and `t.region = j.region` made j wait on t, and t on j (a cycle)
                chained = bound_of[(id(ref.scope), ref.alias.lower())]
                b.dependent = {
                    k: v
                    for k, v in b.dependent.items()
                    if (k in needed or k in client)
                    and k not in b.static
                    and not (per_value and k in client and k not in chained)
                }
        # an optional param that picks where the call goes (AwsAccountId: unbound, the default
        # credentials' account) must not be left to its default when the query constrains it
        # (a param joined to a table that does not bind it either was dropped above: its
        # condition elsewhere, `= (SELECT ...)`, is then loose too; it read the default account)
        loose = named & {p.name.lower() for p in method.params if p.location == "client"}
        loose -= set(b.static) | set(b.dependent)
        if loose and not skip:
            names = ", ".join(sorted(p.name for p in method.params if p.name.lower() in loose))
            problem = (
                f"{names} of {resource.id} is constrained but not bound: only the rows of "
                "its default would be read"
            )
            branch = ref.node.meta.get(OPTIONAL)
            if branch:
                _refuse_outer_filter(ref, refs, loose)
            else:
                raise PlanError(
                    problem,
                    location=node_location(ref.node, Location(resource=resource.id)),
                    hint=f"bind it with {names} = '...' or {names} IN ('...', '...') in the "
                    "query that reads the table",
                )
            skip = True
            warnings.append(f"{branch}: {resource.id} not queried ({problem})")
        unset = (constrained | joined) & _request_only(resource, method)
        unset -= set(b.static) | set(b.dependent)
        if unset and not skip:
            names = ", ".join(sorted(p.name for p in method.params if p.name.lower() in unset))
            raise PlanError(
                f"{names} of {resource.id} is a request parameter, not a field of the rows: "
                "a join or condition on it other than = literal or IN (literals) would compare "
                "NULL (it has a value only where the call was sent with it)",
                location=node_location(ref.node, Location(resource=resource.id)),
                hint=f"write {names} = '...' or {names} IN ('...', ...), or put the condition "
                "on the field the parameter filters",
            )
        hydrate = None
        if needs_hydration(resource, method, columns):
            hydrate = hydration_method(resource, method)
        static = {_canonical(method, k): v for k, v in b.static.items() if _is_param(resource, k)}
        dependent = {
            _canonical(method, k): v for k, v in b.dependent.items() if _is_param(resource, k)
        }
        unresolved_dep = {k: v for k, v in dependent.items()}
        key = (
            resource.id,
            method.name,
            tuple(sorted((k, tuple(map(repr, v))) for k, v in static.items())),
            tuple(sorted((k, v) for k, v in unresolved_dep.items())),
            hydrate.name if hydrate else None,
            skip,
            # a dependent binding names an alias of its own scope: the same alias in another
            # scope (a UNION's other branch) is another source, whose values must not be lost
            id(ref.scope) if unresolved_dep else None,
            # and two mentions whose joins filter the source differently (one ON's condition)
            # each read the values they need
            tuple(
                sorted(
                    (a.lower(), tuple(f.sql() for f in mention_filters(ref, a)))
                    for a, _ in unresolved_dep.values()
                )
            ),
        )
        slot = by_key.get(key)
        if slot is None:
            n = sum(1 for s in slots if s.resource.id == resource.id)
            name = resource.id if n == 0 else f"{resource.id}__{n + 1}"
            slot = Slot(
                name=name,
                resource=resource,
                method=method,
                static=static,
                dependent=dependent,
                located={_canonical(method, k) for k in b.located if k in b.dependent},
                hydrate=hydrate,
                columns=columns,
                residual=list(b.residual),
                scope=ref.scope,
                skip=skip,
                defaulted={_canonical(method, k) for k in b.defaulted if k in b.static},
                filters_first=filters_first(ref.node),
            )
            by_key[key] = slot
            slots.append(slot)
        else:
            if slot.columns is not None:
                slot.columns = None if columns is None else slot.columns | columns
            slot.scope = None  # shared by several mentions: no single scope to reason about
            slot.residual = []
        slot.aliases.append(ref.alias)
        slot.mentions.append((ref.scope, list(b.residual)))
        alias_slot[f"{id(ref.scope)}:{ref.alias.lower()}"] = slot
        node_slot[id(ref.node)] = slot
        for pred, name, values in b.sources:
            param = _canonical(method, name)
            if param in static:
                well = placed_well(pred, ref.scope, ref.node)
                bound.append(BoundPredicate(pred, slot, param, values, well))
        if slot.name != resource.id:
            _rename(ref.node, slot.name)
    # dependent bindings name an alias; resolve them to slot names
    for (ref, _b), slot in zip(
        planned, [alias_slot[f"{id(r.scope)}:{r.alias.lower()}"] for r, _ in planned], strict=True
    ):
        # a table read through several aliases (j1's names, j2's regions): the values are
        # read as pairs from its rows, as the join usually ties them (j1.name = j2.name), and
        # no alias's conditions apply to the others' columns (j2's LIKE cut j1's names)
        aliases: dict[str, set[str]] = {}
        for alias, _ in slot.dependent.values():
            src = alias_slot.get(f"{id(ref.scope)}:{alias.lower()}")
            if src is not None:
                aliases.setdefault(src.name, set()).add(alias.lower())
        for param, (alias, col) in list(slot.dependent.items()):
            src = alias_slot.get(f"{id(ref.scope)}:{alias.lower()}")
            read_through = mention_filters(ref, alias)
            if src is not None and len(aliases[src.name]) > 1:
                read_through = []
            if src is not None:
                slot.dependent[param] = (src.name, col)
                _add_filters(slot, src.name, read_through)
                if src.columns is not None:  # the dependent calls read it from src's table
                    src.columns = src.columns | {col.lower()}
                continue
            view = view_named(ref.scope, alias)
            if view is not None:  # the view's query gives the values (its column is projected)
                source = f"view {view.meta[VIEW]} AS {alias}"
                _add_filters(slot, source, read_through)
                slot.dependent[param] = (source, col)
                slot.view_sources[source] = (view, _slots_read([view], node_slot))
                continue
            rows = source_named(ref.scope, alias)
            if rows is not None:  # so does a CTE's, a subquery's, a local table's...
                source = rows.label
                unstable = unstable_part(rows)
                if unstable is not None:
                    raise PlanError(
                        f"the rows of {source} change from one read to the next ({unstable}): "
                        f"a dependent join reads them for {slot.resource.id}'s calls and again "
                        "in the join, which would then match other rows",
                        location=node_location(rows.node, Location(resource=slot.resource.id)),
                        hint="make them a table first (CREATE TABLE picked AS SELECT ...), "
                        "then join the table",
                    )
                read = _slots_read([rows.node, *rows.ctes], node_slot)
                slot.dependent[param] = (source, col)
                slot.view_sources[source] = (rows.query(), read)
                _add_filters(slot, source, read_through)
    if slots and all(s.skip for s in slots) and not contradicted:
        # every branch of every view was skipped: nothing would be asked; say what to bind
        raise PlanError(
            "no provider table of this query can be queried with the parameters given: "
            + "; ".join(warnings),
            hint="bind the parameters of at least one cloud (e.g. projectsId and locationsId, "
            "or region), or set [defaults] in the config file",
        )
    leave_out_call_options(tree, [(ref.node, ref.resource) for ref in refs])
    return QueryPlan(tree=tree, slots=slots, warnings=warnings, bound=bound)


def source_filters(
    scope: exp.Expr | None, alias: str, table: exp.Expr | None = None
) -> list[exp.Expr]:
    """The conjuncts of ``scope``'s WHERE, and of the ON conditions that restrict the dependent
    ``table``'s rows (an inner join's, the ON of ``table``'s own join), that read only columns
    of its source ``alias`` (no subquery, aggregate or window), unqualified: a row of the
    source that fails one meets no row of ``table`` in the scope, so a dependent join needs no
    call for it (``WHERE p.job <> 'bogus'`` made a call for 'bogus', whose failure stopped the
    statement)."""
    if scope is None or _padded(scope, alias):
        return []
    out: list[exp.Expr] = []
    for pred in conjuncts(scope, table):
        # `p.job IN (SELECT name FROM picks)`: its subquery reads rows the statement holds
        alone = local_in_alone(pred, scope)
        cols = [alone.this] if alone is not None else list(pred.find_all(exp.Column))
        if not cols or any((c.table or "").lower() != alias.lower() for c in cols):
            continue
        if alone is None and (
            pred.find(exp.Subquery, exp.Select, exp.AggFunc, exp.Window)
            or unstable(pred)
            or not timeless(pred)  # the values are read in a statement of their own
        ):
            continue
        if alone is None:
            out.append(unqualified(pred))
        else:
            alone.this.set("table", None)  # its subquery's columns keep theirs
            out.append(alone)
    return out


def _padded(scope: exp.Expr, alias: str) -> bool:
    """Whether an outer join of ``scope`` may pad source ``alias`` with NULLs: its WHERE then
    also sees rows that a join with fewer rows of the source pads differently (``... FULL
    JOIN q ON q.k = p.k WHERE coalesce(p.x, 'none') <> 'set'`` kept a padded row when the
    values read through the WHERE left the dependent table empty)."""
    for join in scope.args.get("joins") or []:
        side = (join.side or "").upper()
        if side in ("RIGHT", "FULL"):
            return True
        if side == "LEFT" and join.this.alias_or_name.lower() == alias.lower():
            return True
    return False


def _slots_read(parts: list[exp.Expr], node_slot: dict[int, Slot]) -> set[str]:
    """The slots of the provider tables that ``parts`` read (a source's query and its CTEs)."""
    return {
        node_slot[id(t)].name for p in parts for t in p.find_all(exp.Table) if id(t) in node_slot
    }


def _add_filters(slot: Slot, source: str, filters: list[exp.Expr]) -> None:
    if filters:
        slot.source_filters[source] = filters


def _request_only(resource: Resource, method: Method) -> set[str]:
    """The (lower-case) params of ``method`` whose column has a value only where the call set
    it: not a field of the reply, not where the call goes (region, account), not read from
    another column (a path param in the name)."""
    derived = derived_params(resource)
    return {
        p.name.lower()
        for p in method.params
        if p.location != "client"
        and resource.column(p.name) is None
        and p.name.lower() not in derived
    }


def _is_param(resource: Resource, name: str) -> bool:
    return any(m.param(name) is not None for m in resource.methods_for("SELECT"))


def _rename(node: exp.Table, slot_name: str) -> None:
    alias = node.alias_or_name
    table = slot_name.split(".")[-1]
    node.set("this", exp.to_identifier(table, quoted=True))
    if not node.alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
