"""Completion as a pure function: text before the cursor + registry -> suggestions.

In pgcli's spirit: look at the statement being typed, decide what may come next (a keyword, a
provider / service / resource in a dotted name, a column of the tables in scope, an unbound
required parameter, an EXEC method or ``@param=``, a quoted enum value, a meta command), then
list the candidates that match the word under the cursor (prefix matches first, then substring
matches).

Pure: no prompt_toolkit, no I/O but the registry's lazy reads; never raises on partial input.
Nothing here names a particular resource: every name comes from the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.shell import keywords as kw
from stackql_tuning.shell.lexing import (
    Token,
    code_tokens,
    current_statement,
    statement_around,
    tokenize,
)
from stackql_tuning.shell.scope import (
    TableRef,
    bound_names,
    columns_of,
    enum_values,
    missing_required,
    read_dotted,
    resolve,
    tables_in_scope,
)

KINDS = (
    "keyword",
    "provider",
    "service",
    "resource",
    "column",
    "param",
    "method",
    "exec_param",
    "value",
    "meta",
    "function",
)


@dataclass(frozen=True)
class Suggestion:
    """One candidate: insert ``text`` in place of the ``-start`` characters before the cursor."""

    text: str
    kind: str
    start: int = 0
    meta: str = ""


@dataclass(frozen=True)
class _Cand:
    text: str
    kind: str
    meta: str
    keys: tuple[str, ...]


def _cand(text: str, kind: str, meta: str = "", *keys: str) -> _Cand:
    return _Cand(text, kind, meta, (text, *keys))


def suggest(
    text_before_cursor: str, registry: Any, *, full_text: str | None = None
) -> list[Suggestion]:
    """What may be typed at the end of ``text_before_cursor``, best first.

    ``full_text`` (the whole buffer) lets columns be offered before the FROM clause is reached.
    """
    text = text_before_cursor
    tokens = tokenize(text)
    last = tokens[-1] if tokens else None
    if last is not None and last.kind == "comment" and not last.closed:
        return []
    partial = ""
    if last is not None and last.end == len(text):
        open_quoted = last.kind in ("string", "qident") and not last.closed
        if last.kind in ("word", "param", "meta") or open_quoted:
            partial = last.text
            tokens = tokens[:-1]
    stmt = current_statement(code_tokens(tokens))
    qual: list[str] = []
    while len(stmt) >= 2 and stmt[-1].text == "." and stmt[-1].kind == "punct" and stmt[-2].is_name:
        qual.insert(0, stmt[-2].name)
        stmt = stmt[:-2]
    ctx = _Context(registry, stmt, qual, partial, text, full_text)
    cands = ctx.candidates()
    return _rank(cands, partial)


class _Context:
    """The statement being typed, split into what is before the word under the cursor."""

    def __init__(
        self,
        registry: Any,
        stmt: list[Token],
        qual: list[str],
        partial: str,
        text: str,
        full_text: str | None,
    ) -> None:
        self.registry = registry
        self.stmt = stmt
        self.qual = qual
        self.partial = partial
        self.text = text
        self.full_text = full_text if full_text is not None else text

    # -- dispatch -------------------------------------------------------------------------------
    def candidates(self) -> list[_Cand]:
        stmt, partial = self.stmt, self.partial
        if not stmt:
            if self.qual:
                return []
            return self._start()
        if stmt[0].kind == "meta":
            return self._meta_args(stmt[0].text) if len(stmt) == 1 else []
        first = stmt[0].upper
        if first == "EXEC":
            return self._exec()
        if partial[:1] in ("'", '"') and not self._value_target():
            return []
        prev = stmt[-1]
        up = prev.upper if prev.kind == "word" else ""
        if first == "SHOW":
            return self._show(prev)
        if up in ("DESCRIBE", "DESC"):
            extra = [] if self.qual else [_cand("EXTENDED", "keyword")]
            return extra + self._dotted()
        if up == "EXTENDED" or up in kw.TABLE_AFTER:
            return self._dotted()
        clause = _clause(stmt)
        if prev.text == "," and prev.kind == "punct" and clause == "FROM":
            return self._dotted()
        target = self._value_target()
        if target is not None:
            values = self._values(*target)
            if values or partial[:1] == "'":
                return values
        if clause == "INTO" and (prev.text in ("(", ",")):
            return self._insert_columns()
        if up in kw.COLUMN_AFTER or prev.text in ("(", ",") or prev.kind == "op":
            return self._columns(clause)
        if self.qual:
            return self._columns(clause)
        return self._next_keywords(clause)

    # -- contexts -------------------------------------------------------------------------------
    def _start(self) -> list[_Cand]:
        if self.partial.startswith("\\"):
            return [_cand(name, "meta", help_) for name, help_ in _meta_commands()]
        out = [_cand(k, "keyword") for k in kw.STATEMENT_STARTS]
        if self.partial:
            out += [_cand(w, "meta", "meta command") for w in kw.META_WORDS]
        return out

    def _meta_args(self, command: str) -> list[_Cand]:
        from stackql_tuning.shell.meta import meta_arguments

        return [_cand(a, "meta") for a in meta_arguments(command)]

    def _show(self, prev: Token) -> list[_Cand]:
        up = prev.upper
        if up == "SHOW":
            return [_cand(k, "keyword") for k in kw.SHOW_KINDS]
        if up in ("IN", "INTO"):
            return self._dotted(methods=False)
        if self.qual:
            return []
        return [_cand("IN", "keyword"), _cand("LIKE", "keyword")]

    def _dotted(self, *, methods: bool = False) -> list[_Cand]:
        """Providers, then services, then resources (then methods) as the dotted name grows."""
        reg, qual = self.registry, self.qual
        try:
            if not qual:
                out = [_cand(p, "provider", "provider") for p in reg.providers]
                if self.partial:
                    for res in reg.all_resources():
                        out.append(_cand(res.id, "resource", res.title, res.name))
                return out
            if len(qual) == 1:
                return [_cand(s, "service", "service") for s in reg.provider(qual[0]).service_names]
            if len(qual) == 2:
                svc = reg.service(qual[0], qual[1])
                return [_cand(r, "resource", "resource") for r in svc.resource_names]
            if len(qual) == 3 and methods:
                res = resolve(reg, qual)
                if res is None:
                    return []
                chosen = res.methods_for("EXEC") or res.methods
                return [_cand(m.name, "method", m.sql_verb, *m.aliases) for m in chosen]
        except StackqlTuningError:
            return []
        return []

    def _exec(self) -> list[_Cand]:
        stmt = self.stmt
        if len(stmt) == 1:
            return self._dotted(methods=True)
        parts, k = read_dotted(stmt, 1)
        if k > len(stmt) or len(parts) != 4:
            return []
        method = self._method(parts)
        if method is None:
            return []
        prev = stmt[-1]
        if prev.text == "=" and len(stmt) >= 2 and stmt[-2].kind == "param":
            param = method.param(stmt[-2].text.lstrip("@"))
            enum = param.enum if param is not None else ()
            return [_cand(f"'{v}'", "value", "", v) for v in enum]
        if k == len(stmt) or (prev.text == "," and prev.kind == "punct"):
            return self._exec_params(method)
        return []

    def _method(self, parts: list[str]) -> Any | None:
        res = resolve(self.registry, parts[:3])
        if res is None:
            return None
        try:
            return res.method(parts[3])
        except StackqlTuningError:
            return None

    def _exec_params(self, method: Any) -> list[_Cand]:
        given = {t.text.lstrip("@").lower() for t in self.stmt if t.kind == "param"}
        out: list[_Cand] = []
        for required in (True, False):
            for p in method.params:
                if p.required is required and p.name.lower() not in given:
                    meta = "required" if required else p.db_type
                    out.append(_cand(f"@{p.name}=", "exec_param", meta, p.name))
        if (method.body or method.body_schema) and "json" not in given:
            out.append(_cand("@@json=", "exec_param", "request body"))
        return out

    def _scope(self) -> tuple[list[TableRef], list[Token]]:
        toks = code_tokens(tokenize(self.full_text))
        stmt = statement_around(toks, len(self.text))
        return tables_in_scope(stmt, self.registry), stmt

    def _value_target(self) -> tuple[str, str | None] | None:
        """(column, qualifier) when the cursor is after ``col =`` or inside ``col IN (...``."""
        stmt = self.stmt
        k = len(stmt) - 1
        if k < 1:
            return None
        if stmt[k].text in ("=", "!=", "<>"):
            i = k - 1
        else:
            while k > 0 and (stmt[k].kind in ("string", "number") or stmt[k].text == ","):
                k -= 1
            if not (stmt[k].text == "(" and k >= 2 and stmt[k - 1].upper == "IN"):
                return None
            i = k - 2
        if i < 0 or not stmt[i].is_name:
            return None
        qualifier = None
        if i >= 2 and stmt[i - 1].text == "." and stmt[i - 2].is_name:
            qualifier = stmt[i - 2].name
        return stmt[i].name, qualifier

    def _values(self, column: str, qualifier: str | None) -> list[_Cand]:
        tables, _ = self._scope()
        return [_cand(f"'{v}'", "value", "", v) for v in enum_values(tables, column, qualifier)]

    def _columns(self, clause: str) -> list[_Cand]:
        tables, stmt = self._scope()
        if self.qual:
            qualifier = ".".join(self.qual)
            targets = [t for t in tables if t.matches(qualifier)]
            qualify = False
        else:
            targets = tables
            qualify = len(tables) > 1
        out: list[_Cand] = []
        if clause in ("WHERE", "ON"):
            bound = bound_names(stmt)
            for ref in targets:
                for name in missing_required(ref.resource, bound):
                    text = f"{ref.label}.{name}" if qualify else name
                    out.append(_cand(text, "param", f"required by {ref.resource.name}", name))
        for ref in targets:
            for name, db_type, _enum in columns_of(ref.resource):
                text = f"{ref.label}.{name}" if qualify else name
                out.append(_cand(text, "column", db_type, name))
        if self.qual:
            return out
        if clause == "SELECT":
            out.append(_cand("*", "column", "all columns"))
        out += [_cand(f, "function", "function") for f in kw.FUNCTIONS]
        if self.partial:
            out += [_cand(k, "keyword") for k in kw.KEYWORDS]
        return out

    def _insert_columns(self) -> list[_Cand]:
        tables, _ = self._scope()
        out: list[_Cand] = []
        for ref in tables[:1]:
            for method in ref.resource.methods_for("INSERT"):
                for p in method.params:
                    out.append(_cand(p.name, "param", "required" if p.required else "param"))
                fields = sorted(method.body, key=lambda f: not f.required)
                for f in fields:
                    if not f.output_only:
                        meta = "required" if f.required else f.type
                        out.append(_cand(f.name, "column", meta, f"data__{f.name}"))
        return out

    def _next_keywords(self, clause: str) -> list[_Cand]:
        if self.partial:
            return [_cand(k, "keyword") for k in kw.KEYWORDS]
        return [_cand(k, "keyword") for k in kw.NEXT_KEYWORDS.get(clause, kw.NEXT_DEFAULT)]


def _clause(stmt: list[Token]) -> str:
    """The clause keyword the end of ``stmt`` belongs to (SELECT, FROM, WHERE, ON, BY, ...)."""
    depth = 0
    for t in reversed(stmt):
        if t.text == ")":
            depth += 1
        elif t.text == "(":
            depth -= 1
        elif t.kind == "word" and depth <= 0 and t.upper in kw.CLAUSES:
            return "FROM" if t.upper == "JOIN" else t.upper
    return ""


def _meta_commands() -> list[tuple[str, str]]:
    from stackql_tuning.shell.meta import META_COMMANDS

    return [(name, cmd.help) for name, cmd in META_COMMANDS.items() if name.startswith("\\")]


#: kinds matched by prefix only (a substring of a keyword is noise)
_NO_INNER = frozenset({"keyword", "function", "meta"})


def _rank(cands: list[_Cand], partial: str) -> list[Suggestion]:
    """Prefix matches, then substring matches, without duplicates, keyword case as typed."""
    p = partial.lower()
    inner_p = p.lstrip("'@\\")
    lower_kw = bool(partial) and partial.isalpha() and partial == partial.lower()
    start = -len(partial)
    prefix: list[_Cand] = []
    inner: list[_Cand] = []
    for c in cands:
        keys = [k.lower() for k in c.keys]
        if not p or any(k.startswith(p) for k in keys):
            prefix.append(c)
        elif len(inner_p) > 1 and c.kind not in _NO_INNER and any(inner_p in k for k in keys):
            inner.append(c)
    out: list[Suggestion] = []
    seen: set[str] = set()
    for c in prefix + inner:
        text = c.text.lower() if (lower_kw and c.kind == "keyword") else c.text
        if text in seen:
            continue
        seen.add(text)
        out.append(Suggestion(text, c.kind, start, c.meta))
    return out
