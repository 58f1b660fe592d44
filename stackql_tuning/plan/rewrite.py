"""StackQL-compatibility rewrites of the SQL that DuckDB runs. Pure tree transforms.

StackQL runs on SQLite, where ``json_extract(col, '$.a')`` returns a string *unquoted* and a
number as a number. DuckDB's ``json_extract`` returns JSON (``"x"`` with quotes) and refuses to
compare it with a plain string. So the function form ``json_extract(...)`` (not DuckDB's ``->``
operator, which keeps DuckDB's meaning) is rewritten by context:

- compared with (or IN) string literals, in LIKE, in string functions: ``json_extract_string``
- compared with numeric literals, in arithmetic, in ``sum``/``avg``: ``TRY_CAST(... AS DOUBLE)``
- anywhere else (SELECT list, ORDER BY, GROUP BY): ``json_extract_string`` (a JSON string comes
  back unquoted, as in StackQL; numbers come back as their text)
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
    return False


def sqlite_json_compat(tree: exp.Expr) -> exp.Expr:
    """Rewrite function-form ``json_extract`` calls to StackQL (SQLite) semantics, in place."""
    for node in list(tree.find_all(exp.JSONExtract)):
        if not _is_sqlite_json_extract(node):
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
