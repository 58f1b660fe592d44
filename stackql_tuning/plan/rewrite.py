"""StackQL-compatibility rewrites of the SQL that DuckDB runs. Pure tree transforms.

StackQL runs on SQLite, where ``json_extract(col, '$.a')`` returns a string *unquoted* and a
number as a number. DuckDB's ``json_extract`` returns JSON (``"x"`` with quotes) and refuses to
compare it with a plain string. So the function form ``json_extract(...)`` (not DuckDB's ``->``
operator, which keeps DuckDB's meaning) is rewritten by context:

- compared with (or IN) string literals, in LIKE, in string functions: ``json_extract_string``
- compared with numeric literals, in arithmetic, in ``sum``/``avg``: ``TRY_CAST(... AS DOUBLE)``
- in ``min``/``max`` (aggregates and window functions), ``ORDER BY`` and a comparison of two
  such calls: SQLite's order of values, numbers (compared as numbers) before text (compared as
  text), the JSON value's own type deciding per row (``json_type``); ``max`` of 8 and 34 is 34,
  not '8'. (``ORDER BY`` in a DISTINCT query keeps the text order: the sort keys this needs
  would not be in its select list.)
- anywhere else (SELECT list, GROUP BY): ``json_extract_string`` (a JSON string comes back
  unquoted, as in StackQL; numbers come back as their text)
"""

from __future__ import annotations

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


#: json_type names of JSON numbers
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT', 'UHUGEINT')"


def _text_and_number(node: exp.Expr) -> tuple[str, str]:
    """SQL of the value as text (a string unquoted), and as a number when the JSON value is
    one (else NULL)."""
    this, path = node.this.sql(dialect="duckdb"), node.expression.sql(dialect="duckdb")
    text = f"json_extract_string({this}, {path})"
    number = (
        f"(CASE WHEN json_type({this}, {path}) IN {_NUMBER_TYPES} "
        f"THEN TRY_CAST({text} AS DOUBLE) END)"
    )
    return text, number


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
        grouped = False
        if isinstance(select, exp.Select):
            if select.args.get("distinct"):
                return False  # the new sort keys would not be in the DISTINCT select list
            grouped = bool(select.args.get("group"))
            if grouped and not _grouped_on(select, node):
                return False  # DuckDB says it is not grouped, as it would have
        text, number = _text_and_number(node)
        keys = [f"({number} IS NULL)", number, text]
        if grouped:  # one value per group (it is grouped on): any_value makes the keys legal
            keys = [f"(any_value({number}) IS NULL)", f"any_value({number})", f"any_value({text})"]
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


def _grouped_on(select: exp.Select, node: exp.Expr) -> bool:
    """Whether ``select`` groups on the json_extract call ``node`` (a GROUP BY key, or a select
    item under GROUP BY ALL), already rewritten or not."""
    group = select.args["group"]
    keys = list(group.expressions)
    if group.args.get("all"):
        keys += [e.this if isinstance(e, exp.Alias) else e for e in select.expressions]
    this, path = node.this.sql(), node.expression.sql()
    return any(
        isinstance(k, exp.JSONExtract | exp.JSONExtractScalar)
        and k.this.sql() == this
        and k.expression.sql() == path
        for k in keys
    )


def sqlite_json_compat(tree: exp.Expr) -> exp.Expr:
    """Rewrite function-form ``json_extract`` calls to StackQL (SQLite) semantics, in place."""
    for node in list(tree.find_all(exp.JSONExtract)):
        if not _is_sqlite_json_extract(node) or node.parent is None:
            continue  # (already replaced with its comparison's other side)
        if _ordered_by_value(node):
            continue
        scalar = exp.JSONExtractScalar(this=node.this.copy(), expression=node.expression.copy())
        if _numeric_context(node):
            replacement: exp.Expr = exp.TryCast(this=scalar, to=exp.DataType.build("DOUBLE"))
        else:
            replacement = scalar
        node.replace(replacement)
    return tree


def to_duckdb_sql(tree: exp.Expr) -> str:
    """The SQL text DuckDB runs for a planned statement."""
    return sqlite_json_compat(tree).sql(dialect="duckdb")
