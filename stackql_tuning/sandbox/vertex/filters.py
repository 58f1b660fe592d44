"""The list ``filter`` subset Vertex AI documents (AIP-160), parsed into a predicate.

Supported: ``state`` (= !=), ``display_name`` (= != and ``:`` with ``*`` wildcards; without a
wildcard ``:`` is a substring match), ``create_time`` / ``update_time`` / ``start_time`` /
``end_time`` (= != < <= > >= against RFC 3339), ``labels.k=v``, ``labels.k:*`` and ``labels:k``
(key exists); ``AND``, ``OR``, ``NOT`` / ``-``, parentheses, implicit AND by juxtaposition.
As in AIP-160, ``OR`` binds tighter than ``AND``: ``a AND b OR c`` is ``a AND (b OR c)``.
camelCase spellings (``displayName``, ``createTime``) are accepted too.

Holds: :func:`parse_filter` -> a predicate over a *view* dict with keys ``state``,
``display_name``, ``create_time``, ``update_time``, ``start_time``, ``end_time`` (floats or None)
and ``labels``. Errors are :class:`ApiError` INVALID_ARGUMENT naming the problem.

Must not: know records or collections.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from stackql_tuning.sandbox.vertex.clock import parse_rfc3339
from stackql_tuning.sandbox.vertex.errors import ApiError

View = dict[str, Any]
Predicate = Callable[[View], bool]

_COMPARATORS = ("<=", ">=", "!=", "=", "<", ">", ":")
_FIELDS: dict[str, tuple[str, frozenset[str]]] = {
    "state": ("enum", frozenset({"=", "!="})),
    "display_name": ("text", frozenset({"=", "!=", ":"})),
    "create_time": ("time", frozenset({"=", "!=", "<", "<=", ">", ">="})),
    "update_time": ("time", frozenset({"=", "!=", "<", "<=", ">", ">="})),
    "start_time": ("time", frozenset({"=", "!=", "<", "<=", ">", ">="})),
    "end_time": ("time", frozenset({"=", "!=", "<", "<=", ">", ">="})),
}
_ALIASES = {
    "displayName": "display_name",
    "createTime": "create_time",
    "updateTime": "update_time",
    "startTime": "start_time",
    "endTime": "end_time",
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_WORD = re.compile(r"[^\s()\"'=!<>:]+")


def _invalid(text: str, why: str) -> ApiError:
    return ApiError.invalid(f"Invalid filter {text!r}: {why}", field="filter")


class _Lexer:
    """Tokens: '(' ')' comparators, strings (quoted) and words; values after a comparator
    run to the next space or parenthesis, so unquoted timestamps keep their colons."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        i, n = 0, len(text)
        after_cmp = False
        while i < n:
            c = text[i]
            if c.isspace():
                i += 1
                continue
            if c in "()":
                self.tokens.append(("punct", c))
                i += 1
                after_cmp = False
                continue
            if c in "\"'":
                j = i + 1
                buf = []
                while j < n and text[j] != c:
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    buf.append(text[j])
                    j += 1
                if j >= n:
                    raise _invalid(text, f"unterminated string at position {i}")
                self.tokens.append(("string", "".join(buf)))
                i = j + 1
                after_cmp = False
                continue
            op = next((o for o in _COMPARATORS if text.startswith(o, i)), None)
            if op and not after_cmp:
                self.tokens.append(("cmp", op))
                i += len(op)
                after_cmp = True
                continue
            if after_cmp:
                m = re.compile(r"[^\s()]+").match(text, i)
            else:
                m = _WORD.match(text, i)
            if not m:
                raise _invalid(text, f"unexpected {c!r} at position {i}")
            self.tokens.append(("string" if after_cmp else "word", m.group()))
            i = m.end()
            after_cmp = False
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise _invalid(self.text, "unexpected end of filter")
        self.pos += 1
        return tok


class _Parser:
    def __init__(self, text: str, states: Collection[str]) -> None:
        self.lex = _Lexer(text)
        self.text = text
        self.states = states

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.lex.peek() is not None:
            raise _invalid(self.text, f"unexpected {self.lex.peek()[1]!r}")  # type: ignore[index]
        return pred

    def _is_word(self, word: str) -> bool:
        tok = self.lex.peek()
        return tok is not None and tok[0] == "word" and tok[1] == word

    def expr(self) -> Predicate:
        parts = [self.factor()]
        while True:
            tok = self.lex.peek()
            if tok is None or tok == ("punct", ")"):
                break
            if self._is_word("AND"):
                self.lex.take()
            parts.append(self.factor())
        if len(parts) == 1:
            return parts[0]
        return lambda v: all(p(v) for p in parts)

    def factor(self) -> Predicate:
        parts = [self.term()]
        while self._is_word("OR"):
            self.lex.take()
            parts.append(self.term())
        if len(parts) == 1:
            return parts[0]
        return lambda v: any(p(v) for p in parts)

    def term(self) -> Predicate:
        if self._is_word("NOT"):
            self.lex.take()
            inner = self.term()
            return lambda v: not inner(v)
        tok = self.lex.peek()
        if tok is not None and tok[0] == "word" and tok[1].startswith("-") and len(tok[1]) > 1:
            self.lex.tokens[self.lex.pos] = ("word", tok[1][1:])
            inner = self.term()
            return lambda v: not inner(v)
        if tok == ("punct", "("):
            self.lex.take()
            inner = self.expr()
            if self.lex.peek() != ("punct", ")"):
                raise _invalid(self.text, "missing ')'")
            self.lex.take()
            return inner
        return self.restriction()

    def restriction(self) -> Predicate:
        kind, name = self.lex.take()
        if kind != "word":
            raise _invalid(self.text, f"expected a field name, got {name!r}")
        tok = self.lex.take()
        if tok[0] != "cmp":
            raise _invalid(self.text, f"expected a comparator after {name!r}")
        op = tok[1]
        vkind, value = self.lex.take()
        if vkind not in ("string", "word"):
            raise _invalid(self.text, f"expected a value after {name}{op}")
        return self.compile(name, op, value)

    def compile(self, name: str, op: str, value: str) -> Predicate:
        name = _ALIASES.get(name, name)
        if name == "labels" and op == ":":
            return lambda v: value in (v.get("labels") or {})
        if name.startswith("labels."):
            key = name[len("labels.") :]
            return _label(key, op, value, self.text)
        if name not in _FIELDS:
            raise _invalid(
                self.text,
                f"unsupported field {name!r}; supported: " + ", ".join([*_FIELDS, "labels.<key>"]),
            )
        kind, ops = _FIELDS[name]
        if op not in ops:
            raise _invalid(self.text, f"{name} does not support {op!r}")
        if kind == "enum":
            if self.states and value not in self.states:
                raise _invalid(self.text, f"{value!r} is not a state: {', '.join(self.states)}")
            return _compare(name, op, value)
        if kind == "time":
            try:
                when = parse_rfc3339(value)
            except ValueError:
                raise _invalid(self.text, f"{name} needs an RFC 3339 time, got {value!r}") from None
            return _compare(name, op, when)
        if op == ":":
            return _match(name, value)
        return _compare(name, op, value)


def _compare(field: str, op: str, value: Any) -> Predicate:
    fn = _ORDER[op]

    def pred(v: View) -> bool:
        have = v.get(field)
        if have is None:
            return op == "!="
        return fn(have, value)

    return pred


def _match(field: str, pattern: str) -> Predicate:
    if "*" in pattern:
        # AIP-160's only wildcard is ``*``: ``[``, ``]`` and ``?`` match themselves (fnmatch's
        # glob read ``job[1]*`` as a character class, and missed the job named ``job[1]-x``)
        rx = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.S)
        return lambda v: v.get(field) is not None and rx.fullmatch(v[field]) is not None
    return lambda v: v.get(field) is not None and pattern in v[field]


def _label(key: str, op: str, value: str, text: str) -> Predicate:
    if op == ":":
        if value == "*":
            return lambda v: key in (v.get("labels") or {})
        return lambda v: (v.get("labels") or {}).get(key) == value
    if op not in ("=", "!="):
        raise _invalid(text, f"labels.{key} does not support {op!r}")
    if op == "=":
        return lambda v: (v.get("labels") or {}).get(key) == value
    return lambda v: (v.get("labels") or {}).get(key) != value


def parse_filter(text: str | None, states: Collection[str] = ()) -> Predicate | None:
    """A predicate for ``text`` (None when the filter is empty). ``states``: valid states."""
    if text is None or not text.strip():
        return None
    return _Parser(text, states).parse()
