"""StackQL-compatibility rewrites of the SQL that DuckDB runs. Pure tree transforms.

StackQL runs on SQLite, where ``json_extract(col, '$.a')`` returns a string *unquoted*, a
number as a number and a boolean as 1 or 0. DuckDB's ``json_extract`` returns JSON (``"x"``
with quotes) and refuses to compare it with a plain string. So the function form
``json_extract(...)`` (not DuckDB's ``->`` operator, which keeps DuckDB's meaning) is rewritten
by context:

- compared with (or IN) string literals, in LIKE, in string functions: the value as text
- compared with numeric literals, in arithmetic, in ``sum``/``avg``: ``TRY_CAST(... AS DOUBLE)``
- in ``min``/``max`` (aggregates and window functions), ``ORDER BY`` (also by a select item's
  alias or position) and a comparison of two such calls: SQLite's order of values, numbers
  (compared as numbers) before text (compared as text), the JSON value's own type deciding per
  row (``json_type``); ``max`` of 8 and 34 is 34, not '8'. NULLs go where DuckDB puts them for
  any other ORDER BY key (last, unless NULLS FIRST), not SQLite's (smallest). (``ORDER BY`` in
  a DISTINCT query orders the select list's text: a number-like text sorts as a number.)
- anywhere else (SELECT list, GROUP BY): the value as text (a JSON string comes back unquoted,
  as in StackQL; numbers come back as their text)

"The value as text" is ``->>``'s, except that a JSON boolean is '1' / '0' (SQLite's 1 / 0);
and as a number 1 / 0. An unaliased select item that holds such a call keeps the name
DuckDB gives the user's own text (``json_extract(c, '$.a')``), not the rewrite's SQL.
"""

from __future__ import annotations

import re

from sqlglot import exp

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ARITH = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_NUMERIC_AGGS = (exp.Sum, exp.Avg)


def _is_sqlite_json_extract(node: exp.Expr) -> bool:
    # sqlglot marks the ``->`` operator with ``only_json_types``; the function form lacks it
    return isinstance(node, exp.JSONExtract) and "only_json_types" not in node.args


def _numeric_context(node: exp.Expr) -> bool:
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if isinstance(parent, (*_ARITH, *_NUMERIC_AGGS)):
        return True
    if isinstance(parent, _COMPARISONS):
        other = parent.right if parent.left is node else parent.left
        return isinstance(other, exp.Literal) and not other.is_string
    if isinstance(parent, exp.In):
        vals = parent.expressions
        return bool(vals) and all(isinstance(v, exp.Literal) and not v.is_string for v in vals)
    if isinstance(parent, exp.Between) and parent.this is node:
        bounds = (parent.args.get("low"), parent.args.get("high"))
        return all(isinstance(b, exp.Literal) and not b.is_string for b in bounds)
    return False


def _plain_text_context(node: exp.Expr) -> bool:
    """``= 'x'`` / ``<> 'x'`` / ``IN ('x', ...)`` where no literal could be a boolean's text
    (SQLite's '1' / '0', or 'true' / 'false'): ``->>`` alone gives the same answer."""
    parent = node.parent
    if isinstance(parent, exp.EQ | exp.NEQ):
        vals = [parent.right if parent.left is node else parent.left]
    elif isinstance(parent, exp.In) and parent.this is node and parent.expressions:
        vals = list(parent.expressions)
    else:
        return False
    return all(
        isinstance(v, exp.Literal) and v.is_string and v.this not in ("1", "0", "true", "false")
        for v in vals
    )


#: json_type names of JSON values that SQLite's json_extract returns as numbers
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT', 'UHUGEINT', 'BOOLEAN')"


def _args(node: exp.Expr) -> tuple[str, str]:
    return node.this.sql(dialect="duckdb"), node.expression.sql(dialect="duckdb")


def _text(node: exp.Expr) -> str:
    """SQL of the value as text: a string unquoted, a boolean '1' / '0'."""
    this, path = _args(node)
    return (
        f"(CASE CAST({this} -> {path} AS VARCHAR) WHEN 'true' THEN '1' WHEN 'false' THEN '0' "
        f"ELSE ({this} -> {path}) ->> '$' END)"  # (DuckDB extracts once)
    )


def _number(node: exp.Expr) -> str:
    """SQL of the value as a number (a boolean 1 / 0, a number-like string its number)."""
    this, path = _args(node)
    return f"TRY_CAST({this} -> {path} AS DOUBLE)"


def _text_and_number(node: exp.Expr) -> tuple[str, str]:
    """SQL of the value as text, and as a number when the JSON value is one (else NULL)."""
    this, path = _args(node)
    number = f"(CASE WHEN json_type({this}, {path}) IN {_NUMBER_TYPES} THEN {_number(node)} END)"
    return _text(node), number


def _sort_keys(text: str, number: str) -> list[str]:
    """ORDER BY keys: numbers (as numbers) before text; NULL only for a NULL value, so that it
    goes where DuckDB puts NULLs of any key (NULLS FIRST / LAST, default_null_order)."""
    rank = f"(CASE WHEN {number} IS NOT NULL THEN 0 WHEN {text} IS NOT NULL THEN 1 END)"
    return [rank, number, text]


def _sql(text: str) -> exp.Expr:
    return exp.maybe_parse(text, dialect="duckdb")


def _ordered_by_value(node: exp.Expr) -> bool:
    """``min``/``max``/``ORDER BY``/a comparison with another call: rewritten to SQLite's order of
    values (True when done)."""
    parent = node.parent
    if isinstance(parent, exp.Max | exp.Min) and parent.this is node:
        window = parent.parent if isinstance(parent.parent, exp.Window) else None
        if window is None and parent.find_ancestor(exp.Window) is not None:
            return False  # inside a window's PARTITION BY / ORDER BY: left as text
        text, number = _text_and_number(node)
        if isinstance(parent, exp.Max):  # any text is above every number
            parts = (f"max({text}) FILTER (WHERE {number} IS NULL)", f"arg_max({text}, {number})")
        else:
            parts = (f"arg_min({text}, {number})", f"min({text}) FILTER (WHERE {number} IS NULL)")
        if window is None:
            parent.replace(_sql(f"coalesce({parts[0]}, {parts[1]})"))
            return True
        # max(...) OVER (w): each aggregate of the pair over the same window
        over = []
        for part in parts:
            copy = window.copy()
            copy.set("this", _sql(part))
            over.append(copy.sql(dialect="duckdb"))
        window.replace(_sql(f"coalesce({over[0]}, {over[1]})"))
        return True
    if isinstance(parent, exp.Ordered) and isinstance(parent.parent, exp.Order):
        select = parent.parent.parent
        text, number = _text_and_number(node)
        keys = _sort_keys(text, number)
        if isinstance(select, exp.Select):
            if select.args.get("distinct"):
                # only the select list's values may be sort keys: its text, a number-like one
                # as a number
                keys = _sort_keys(text, f"TRY_CAST({text} AS DOUBLE)")
            elif select.args.get("group"):
                if not _grouped_on(select, node):
                    return False  # DuckDB says it is not grouped, as it would have
                # one value per group (it is grouped on): any_value makes the keys legal
                keys = [f"any_value({k})" for k in keys]
        order = parent.parent
        ordered = [
            exp.Ordered(
                this=_sql(k),
                desc=parent.args.get("desc"),
                nulls_first=parent.args.get("nulls_first"),
            )
            for k in keys
        ]
        items = list(order.expressions)
        i = next(j for j, e in enumerate(items) if e is parent)
        order.set("expressions", [*items[:i], *ordered, *items[i + 1 :]])
        return True
    if isinstance(parent, _COMPARISONS):
        other = parent.right if parent.left is node else parent.left
        if not _is_sqlite_json_extract(other):
            return False
        (t1, n1), (t2, n2) = _text_and_number(parent.left), _text_and_number(parent.right)
        op = parent.key  # eq, neq, gt, gte, lt, lte
        sym = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        # numbers compare as numbers, text as text; a number is below any text (SQLite)
        sql = (
            f"(CASE WHEN {n1} IS NOT NULL AND {n2} IS NOT NULL THEN {n1} {sym} {n2} "
            f"WHEN {n1} IS NULL AND {n2} IS NULL THEN {t1} {sym} {t2} "
            f"WHEN {t1} IS NULL OR {t2} IS NULL THEN NULL "
            f"ELSE ({n1} IS NULL)::INT {sym} ({n2} IS NULL)::INT END)"
        )
        parent.replace(_sql(sql))
        return True
    return False


def _select_item(select: exp.Select, key: exp.Expr) -> exp.Expr | None:
    """The select item that ORDER BY / GROUP BY key ``key`` names by its alias or its
    position (DuckDB's reading; an alias before a column of the same name), unaliased."""
    items = list(select.expressions)
    if isinstance(key, exp.Column) and not key.table:
        named = [
            e for e in items if isinstance(e, exp.Alias) and e.alias.lower() == key.name.lower()
        ]
        return named[0].this if len(named) == 1 else None
    if isinstance(key, exp.Literal) and key.is_int and 1 <= int(key.this) <= len(items):
        if any(isinstance(e, exp.Star) or e.find(exp.Star) for e in items[: int(key.this)]):
            return None  # a star before it: its position depends on the sources' columns
        item = items[int(key.this) - 1]
        return item.this if isinstance(item, exp.Alias) else item
    return None


def _grouped_on(select: exp.Select, node: exp.Expr) -> bool:
    """Whether ``select`` groups on the json_extract call ``node`` (a GROUP BY key, by itself,
    its alias or position, or a select item under GROUP BY ALL), already rewritten or not."""
    group = select.args["group"]
    keys = [_select_item(select, k) or k for k in group.expressions]
    if group.args.get("all"):
        keys += [e.this if isinstance(e, exp.Alias) else e for e in select.expressions]
    this, path = node.this.sql(), node.expression.sql()
    rewritten = _sql(_text(node)).sql(dialect="duckdb")
    return any(
        (
            isinstance(k, exp.JSONExtract | exp.JSONExtractScalar)
            and k.this.sql() == this
            and k.expression.sql() == path
        )
        or k.sql(dialect="duckdb") == rewritten
        for k in keys
    )


def _grouped_value(node: exp.Expr) -> bool:
    """Whether ``node`` is read as a GROUP BY key of its SELECT (outside any aggregate): its
    every form must then be made from the key's own (text) form."""
    select = node.find_ancestor(exp.Select)
    if select is None or not select.args.get("group"):
        return False
    inside = node.parent
    while inside is not None and inside is not select:
        if isinstance(inside, exp.AggFunc | exp.Window):
            return False
        inside = inside.parent
    return _grouped_on(select, node)


def _order_by_items(tree: exp.Expr) -> None:
    """``ORDER BY alias`` / ``ORDER BY 2`` naming a json_extract select item: ordered by the
    call itself, so that it sorts as ORDER BY json_extract(...) does (values, not text)."""
    for select in list(tree.find_all(exp.Select)):
        order = select.args.get("order")
        for ordered in order.expressions if order else []:
            item = _select_item(select, ordered.this)
            if item is None or not _is_sqlite_json_extract(item):
                continue
            if select.args.get("group") and not _grouped_on(select, item):
                continue  # left as the user wrote it (DuckDB's own reading of it)
            ordered.set("this", item.copy())


def duckdb_name(node: exp.Expr) -> str:
    """The column name DuckDB gives select item ``node`` as written (its ToString: function
    names in lower case, operators in parentheses), json_extract calls as calls."""
    copy = exp.Paren(this=node.copy())  # (a parent for the item itself, dropped below)
    for call in reversed(list(copy.find_all(exp.JSONExtract))):
        if _is_sqlite_json_extract(call):
            path = _sql(call.expression.sql(dialect="duckdb"))
            call.replace(exp.Anonymous(this="json_extract", expressions=[call.this, path]))
    for ident in copy.find_all(exp.Identifier):
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident.name):
            ident.set("quoted", False)  # DuckDB quotes only names that need it
    for test in list(copy.find_all(exp.In)):
        query = test.args.get("query")
        if query is not None:  # DuckDB says `x IN (SELECT ...)` as `x = ANY(SELECT ...)`
            inner = query.this if isinstance(query, exp.Subquery) else query
            test.replace(exp.EQ(this=test.this, expression=exp.Any(this=inner)))
    for count in list(copy.find_all(exp.Count)):
        if isinstance(count.this, exp.Star) and not count.args.get("distinct"):
            count.replace(exp.Anonymous(this="count_star", expressions=[]))  # DuckDB's name
    for paren in list(copy.find_all(exp.Paren)):
        if paren is not copy:
            paren.replace(paren.this)
    if isinstance(copy, exp.Paren):
        copy = copy.this
    ops = (exp.Binary, exp.In, exp.Between, exp.Not)
    for op in reversed(list(copy.find_all(*ops))):
        if op is not copy and not isinstance(op, exp.Dot):
            wrapped = exp.Paren()
            op.replace(wrapped)
            wrapped.set("this", op)
    if isinstance(copy, ops) and not isinstance(copy, exp.Dot):
        copy = exp.Paren(this=copy)
    return copy.sql(dialect="duckdb", normalize_functions="lower")


def _keep_names(tree: exp.Expr) -> None:
    """Alias each unaliased select item holding a json_extract call with DuckDB's name for it
    as written: the rewrite would otherwise name the column after its own SQL."""
    for select in list(tree.find_all(exp.Select)):
        items = list(select.expressions)
        if not any(_is_sqlite_json_extract(n) for e in items for n in e.find_all(exp.JSONExtract)):
            continue
        named = [
            e
            if isinstance(e, exp.Alias)
            or not any(_is_sqlite_json_extract(n) for n in e.find_all(exp.JSONExtract))
            else exp.Alias(this=e, alias=exp.to_identifier(duckdb_name(e), quoted=True))
            for e in items
        ]
        select.set("expressions", named)


def keep_subquery_names(tree: exp.Expr) -> exp.Expr:
    """``tree`` (changed in place) with each unaliased select item that holds a query (a
    scalar subquery, ``EXISTS``, ``x IN (SELECT ...)``) named after the item as written
    (``duckdb_name``). DuckDB names such a column by its SQL, which by then was the planner's:
    a view expanded into it, a condition every row met left out (``(SELECT count_star() FROM
    (SELECT 'aws' AS provider, ...) AS jobs ...)`` for ``(SELECT count(*) FROM
    unified.tuning.jobs WHERE ...)``)."""
    for select in list(tree.find_all(exp.Select)):
        items = list(select.expressions)
        if not any(_holds_a_query(e) for e in items):
            continue
        select.set(
            "expressions",
            [
                exp.Alias(this=e, alias=exp.to_identifier(duckdb_name(e), quoted=True))
                if _holds_a_query(e)
                else e
                for e in items
            ],
        )
    return tree


def _holds_a_query(item: exp.Expr) -> bool:
    """An unnamed select item with a query in it (a subquery named by its own alias, as a
    user view's header is, has a name)."""
    return (
        not isinstance(item, exp.Alias | exp.Star)
        and not item.alias
        and any(True for _ in item.find_all(exp.Subquery, exp.Exists, exp.Select))
    )


def sqlite_json_compat(tree: exp.Expr) -> exp.Expr:
    """Rewrite function-form ``json_extract`` calls to StackQL (SQLite) semantics, in place."""
    _order_by_items(tree)
    _keep_names(tree)
    for node in list(tree.find_all(exp.JSONExtract)):
        if not _is_sqlite_json_extract(node) or node.parent is None:
            continue  # (already replaced with its comparison's other side)
        if _ordered_by_value(node):
            continue
        grouped = _grouped_value(node)
        if _numeric_context(node):
            # under GROUP BY the call's value is the group key's text: the number is read from
            # it (the raw column is not grouped; DuckDB refused the query)
            replacement = _sql(f"TRY_CAST({_text(node)} AS DOUBLE)" if grouped else _number(node))
        elif _plain_text_context(node) and not grouped:
            replacement = exp.JSONExtractScalar(
                this=node.this.copy(), expression=node.expression.copy()
            )
        else:
            replacement = _sql(_text(node))
        node.replace(replacement)
    return tree


def to_duckdb_sql(tree: exp.Expr) -> str:
    """The SQL text DuckDB runs for a planned statement."""
    return sqlite_json_compat(tree).sql(dialect="duckdb")
