"""The ``if`` of a manifest resource: a tiny, safe evaluator for plain comparisons.

After jinja rendering, an ``if`` is a Python-looking expression such as
``'prod' == 'prod' and 'us-east-1' in ['us-east-1', 'eu-west-1']``. It is parsed with ``ast`` and
evaluated by walking the tree; only literals (strings, numbers, booleans, None, and lists /
tuples / sets of them), the stack's variables by name (``stack_env == 'prod'``, as
stackql-deploy's documentation writes it: a global, ``stack_env``, an export), comparisons
(``== != < <= > >= in not in``) and ``and`` / ``or`` / ``not`` are allowed. Anything else
(another name, calls, attributes, subscripts, arithmetic) is a ManifestError: nothing is
ever passed to ``eval``.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from stackql_tuning.errors import Location, ManifestError

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_DESCRIBE: dict[type[ast.AST], str] = {
    ast.Name: "a name that is no variable of the stack (quote strings, e.g. 'prod')",
    ast.Call: "a function call",
    ast.Attribute: "an attribute access",
    ast.Subscript: "a subscript",
    ast.BinOp: "arithmetic",
    ast.Lambda: "a lambda",
    ast.Dict: "a dict",
    ast.IfExp: "a conditional expression",
}


class _Unsafe(Exception):
    def __init__(self, node: ast.AST) -> None:
        self.node = node


_WORDS = {"true": True, "false": False, "null": None}


def _literal(node: ast.AST, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in _WORDS:
        return _WORDS[node.id]
    if isinstance(node, ast.Name) and node.id in names:
        value = names[node.id]
        if value is None or isinstance(value, str | int | float | bool | list | tuple):
            return list(value) if isinstance(value, tuple) else value
    if isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, str | int | float | bool)
    ):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_literal(e, names) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _literal(node.operand, names)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    raise _Unsafe(node)


def _eval(node: ast.AST, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, names) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, names)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, names)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, names)
            try:
                ok = _COMPARE[type(op)](left, right)
            except TypeError as e:
                raise _Unsafe(node) from e
            if not ok:
                return False
            left = right
        return True
    return _literal(node, names)


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def bare_names(expression: str) -> set[str]:
    """The variables an ``if`` reads by bare name (``stack_env == 'prod'``), its jinja left
    out; none when it is not an expression yet."""
    try:
        tree = ast.parse(_JINJA.sub("0", expression).strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in _WORDS}


def _shown(text: str, limit: int = 200) -> str:
    """``text`` quoted for a message, cut short when it is long."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({len(text)} characters)"


def evaluate(
    expression: str,
    *,
    file: str | None = None,
    line: int | None = None,
    resource: str | None = None,
    names: Mapping[str, Any] | None = None,
) -> bool:
    """Evaluate a rendered ``if`` expression; ManifestError unless it is a plain comparison.
    ``names``: the stack's variables a bare name reads (a text, number, boolean or list)."""
    where = Location(file=file, line=line, resource=resource)
    text = expression.strip()
    if not text:
        raise ManifestError("'if' expression is empty", location=where)
    try:
        tree = ast.parse(text, mode="eval")
        result = _eval(tree.body, names or {})
    except (RecursionError, MemoryError):  # parsing and evaluating recurse once per level
        raise ManifestError(
            "'if' expression nests too deeply to be evaluated",
            location=where,
            hint="write a plain comparison, e.g. '{{ stack_env }}' == 'prod'",
        ) from None
    except SyntaxError as e:
        raise ManifestError(
            f"'if' expression is not valid: {e.msg}: {_shown(text)}",
            location=where,
            hint="write a plain comparison, e.g. '{{ stack_env }}' == 'prod'",
        ) from None
    except _Unsafe as e:
        what = _DESCRIBE.get(type(e.node), type(e.node).__name__)
        if isinstance(e.node, ast.Compare):
            what = "a comparison of incompatible values"
        raise ManifestError(
            f"'if' expression is not a plain comparison: {what} in {_shown(text)}",
            location=where,
            hint="allowed: quoted strings, numbers, true/false, lists, == != < <= > >= in, "
            "not in, and, or, not",
        ) from None
    return bool(result)
