"""The ``stackql`` sqlglot dialect: DuckDB's SQL plus StackQL's EXEC, SHOW, DESCRIBE and REGISTRY.

``Stackql`` subclasses sqlglot's DuckDB dialect, so every SELECT / INSERT / DELETE / CREATE / COPY
that DuckDB has keeps parsing and generating; the engine prints trees back with
``expression.sql(dialect="duckdb")``. Our statements are added through declarative tables
(``STATEMENT_PARSERS``, ``WORD_STATEMENT_PARSERS``, ``SHOW_PARSERS`` + ``SHOW_TRIE``, ``KEYWORDS``)
and printed through the generator's ``TRANSFORMS``.

Two rules differ from sqlglot's defaults: a statement that sqlglot would keep as a generic
``exp.Command`` is a parse error, and a statement must start with a statement keyword. Every error
is raised through ``raise_error`` with the offending token attached (``error.stackql_token``) so
that ``stackql_tuning.sql.parser`` can point at it. Hints (``/*+ ... */``) are not handled here:
DuckDB's tokenizer keeps them as comments and the parser module reads them from the source text.

This module must not import duckdb or any SDK, and must not name any resource.
"""

from __future__ import annotations

import re
import typing as t

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.parsers.duckdb import DuckDBParser
from sqlglot.tokens import Token, TokenType
from sqlglot.trie import TrieResult, in_trie, new_trie

from stackql_tuning.errors import did_you_mean
from stackql_tuning.sql.expressions import (
    Describe,
    Exec,
    ExecParam,
    RegistryCommand,
    Show,
    name_table,
)

NAME_PARTS = ("provider", "service", "resource", "method")

# SHOW <what>: (the word before the target, number of target name parts)
SHOW_FORMS: dict[str, tuple[str | None, int]] = {
    "PROVIDERS": (None, 0),
    "SERVICES": ("IN", 1),
    "RESOURCES": ("IN", 2),
    "METHODS": ("IN", 3),
    "INSERT": ("INTO", 3),
}
REGISTRY_ACTIONS = ("LIST", "PULL")
STATEMENT_WORDS = ("SELECT", "INSERT", "DELETE", "UPDATE", "EXEC", "SHOW", "DESCRIBE", "REGISTRY")

_STRING_TOKENS = {
    TokenType.STRING,
    TokenType.NATIONAL_STRING,
    TokenType.RAW_STRING,
    TokenType.BYTE_STRING,
    TokenType.HEX_STRING,
    TokenType.BIT_STRING,
    TokenType.HEREDOC_STRING,
    TokenType.UNICODE_STRING,
    TokenType.NUMBER,
}


#: DuckDB's functions that take a lambda (``duckdb_functions()`` whose parameter types list
#: LAMBDA, DuckDB 2.0): a ``x -> ...`` argument of theirs stays a lambda
LAMBDA_FUNCTIONS = frozenset(
    {
        "apply",
        "array_apply",
        "array_filter",
        "array_reduce",
        "array_transform",
        "filter",
        "invoke",
        "list_apply",
        "list_filter",
        "list_reduce",
        "list_transform",
        "reduce",
    }
)
#: sqlglot's own nodes for some of them (list_transform is a Transform, list_filter a Filter)
_LAMBDA_NODES = (exp.Transform, exp.ArrayFilter, exp.Reduce)
#: meta key of a lambda written ``x -> ...`` (see ``Parser._arrow_lambda``)
_ARROW = "stackql_arrow"


def _is_name(token: Token | None) -> bool:
    """A token that can be one part of a dotted name: a word (keywords included) or "quoted"."""
    if not token or token.token_type in _STRING_TOKENS:
        return False
    return token.token_type == TokenType.IDENTIFIER or token.text.replace("$", "").isidentifier()


def _show(what: str, extended: bool = False) -> t.Callable[[Stackql.Parser], Show]:
    def _parse(self: Stackql.Parser) -> Show:
        return self._parse_stackql_show(what, extended)

    return _parse


#: ``CREATE MACRO m(a) AS 'x' || a``: a DuckDB macro whose body starts with a string
_STRING_BODY = re.compile(r"CREATE\b[^;]*?\b(MACRO|FUNCTION)\b[^;]*?\bAS\s+'", re.I)


class Stackql(DuckDB):
    """DuckDB + StackQL statements. Registered as ``"stackql"`` for ``sqlglot.parse_one``."""

    class Tokenizer(DuckDB.Tokenizer):
        # ``?::`` is no operator of DuckDB's: ``?::INT`` is a placeholder cast (sqlglot read
        # it as one token, so a query parameter there was not found)
        KEYWORDS = {
            **{k: v for k, v in DuckDB.Tokenizer.KEYWORDS.items() if k != "?::"},
            "EXEC": TokenType.EXECUTE,
        }
        COMMANDS = DuckDB.Tokenizer.COMMANDS - {TokenType.EXECUTE, TokenType.SHOW}

    class Parser(DuckDBParser):
        STATEMENT_PARSERS = {
            **DuckDBParser.STATEMENT_PARSERS,
            TokenType.EXECUTE: lambda self: self._parse_exec(),
            TokenType.SHOW: lambda self: self._parse_show(),
            TokenType.DESCRIBE: lambda self: self._parse_stackql_describe(),
            TokenType.DESC: lambda self: self._parse_stackql_describe(),
        }

        def _parse_interval_span(
            self, this: exp.Expr, parse_function_unit: bool = True
        ) -> exp.Interval:
            # sqlglot makes INTERVAL '3 days 04:05:06' INTERVAL '3' DAYS (it keeps the first
            # "number unit" of a text with one, and drops the rest): such a text stays whole
            if (
                isinstance(this, exp.Literal)
                and this.is_string
                and exp.INTERVAL_STRING_RE.search(this.name)
                and exp.INTERVAL_STRING_RE.sub("", this.name).strip()
            ):
                return self.expression(exp.Interval(this=this))
            return super()._parse_interval_span(this, parse_function_unit)

        # statements whose first word is not a keyword token (matched on the upper-cased text)
        WORD_STATEMENT_PARSERS: t.ClassVar[dict[str, t.Callable[[t.Any], exp.Expression]]] = {
            "REGISTRY": lambda self: self._parse_registry(),
        }
        # tokens that start a query rather than a statement parser
        QUERY_START_TOKENS = {
            TokenType.SELECT,
            TokenType.WITH,
            TokenType.L_PAREN,
            TokenType.FROM,
            TokenType.VALUES,
            TokenType.TABLE,
            TokenType.SUMMARIZE,
        }
        SHOW_PARSERS = {
            **{what: _show(what) for what in SHOW_FORMS},
            **{f"EXTENDED {what}": _show(what, extended=True) for what in SHOW_FORMS},
        }
        SHOW_TRIE = new_trie(key.split(" ") for key in SHOW_PARSERS)

        # -- errors ---------------------------------------------------------------------------

        def raise_error(
            self, message: str, token: Token | None = None, hint: str | None = None
        ) -> None:
            tok = token if token else self._curr
            at_end = not tok
            tok = tok if tok else self._prev
            try:
                super().raise_error(message, tok or Token.string(""))
            except SqlglotParseError as error:
                error.stackql_token = tok  # type: ignore[attr-defined]
                error.stackql_at_end = at_end  # type: ignore[attr-defined]
                error.stackql_hint = hint  # type: ignore[attr-defined]
                raise
            if self.errors:
                last = self.errors[-1]
                last.stackql_token = tok  # type: ignore[attr-defined]
                last.stackql_at_end = at_end  # type: ignore[attr-defined]
                last.stackql_hint = hint  # type: ignore[attr-defined]

        def _parse_as_command(self, start: Token) -> exp.Command:
            hint = None
            if _STRING_BODY.match(self.sql or "", start.start):
                # sqlglot reads ``AS 'x'`` as a whole quoted body, and DuckDB's does not end there
                hint = "a macro whose body starts with a string is read in parentheses only: "
                hint += "CREATE MACRO m(a) AS ('x' || a)"
            self.raise_error(
                f"'{start.text.upper()}' is not a statement the stackql dialect understands",
                start,
                hint=hint,
            )
            return super()._parse_as_command(start)  # only reached with ErrorLevel.IGNORE

        def _parse_command(self) -> exp.Command:
            return self._parse_as_command(self._prev)

        # -- statements -----------------------------------------------------------------------

        LAMBDAS = {
            **DuckDBParser.LAMBDAS,
            TokenType.ARROW: lambda self, expressions: self._arrow_lambda(expressions),
        }

        def _arrow_lambda(self, expressions: list[t.Any]) -> exp.Expr:
            """sqlglot's lambda for ``x -> ...``, marked as written with an arrow (``lambda x:
            ...`` makes the same node): only an arrow may be DuckDB's JSON operator."""
            node: exp.Expr = DuckDBParser.LAMBDAS[TokenType.ARROW](self, expressions)
            node.meta[_ARROW] = True
            return node

        def parse(self, raw_tokens: list[Token], sql: str) -> list[exp.Expr | None]:
            method: t.Any = type(self)._parse_top_statement
            trees = self._parse(parse_method=method, raw_tokens=raw_tokens, sql=sql)
            for tree in trees:
                if tree is not None:
                    self._json_arrows(tree)
            return trees

        def _json_arrows(self, tree: exp.Expr) -> None:
            """``f(col->'$.path')`` is a JSON arrow, as DuckDB reads it, not a lambda.

            sqlglot reads ``name -> literal`` inside any function's arguments as a lambda, and
            wrote it back as ``LAMBDA col : '$.path'``, which DuckDB refused ("This scalar
            function does not support lambdas!"). A lambda of one bare name whose body is a
            literal, in a function that takes no lambdas, is made the arrow that ``j.col->...``
            already was."""
            for node in list(tree.find_all(exp.Lambda)):
                args = node.expressions
                body = node.this
                parent = node.parent
                if (
                    not node.meta.get(_ARROW)  # ``lambda x: ...`` is a lambda whatever it holds
                    or len(args) != 1
                    or not isinstance(args[0], exp.Identifier)
                    or not isinstance(body, exp.Literal)
                    or not isinstance(parent, exp.Func)
                    or isinstance(parent, _LAMBDA_NODES)
                ):
                    continue
                if isinstance(parent, exp.Anonymous) and parent.name.lower() in LAMBDA_FUNCTIONS:
                    continue
                column = exp.column(args[0].copy())
                path = self.dialect.to_json_path(body.copy())
                node.replace(exp.JSONExtract(this=column, expression=path, only_json_types=False))

        def _parse_top_statement(self) -> exp.Expr | None:
            """A whole statement: it must start with a statement keyword (nested statements, e.g.
            the value of SET, go through sqlglot's own ``_parse_statement``)."""
            curr = self._curr
            if not curr:
                return None
            word = self.WORD_STATEMENT_PARSERS.get(curr.text.upper())
            if word is not None and curr.token_type == TokenType.VAR:
                self._advance()
                return word(self)
            if (
                curr.token_type not in self.STATEMENT_PARSERS
                and curr.token_type not in self.QUERY_START_TOKENS
                and curr.token_type not in self.dialect.tokenizer_class.COMMANDS
            ):
                self.raise_error(
                    f"'{curr.text}' does not start a statement; expected "
                    + ", ".join(STATEMENT_WORDS)
                    + " or another DuckDB statement",
                    curr,
                    hint=did_you_mean(curr.text, STATEMENT_WORDS),
                )
            return self._parse_statement()

        def _parse_name_parts(self, statement: str, count: int) -> list[Token]:
            """A hand-written dotted-name loop: any word is a part (``create``, ``delete``...)."""
            labels = NAME_PARTS[:count] if count < len(NAME_PARTS) else NAME_PARTS
            wanted = ".".join(labels)
            first = self._curr
            if not _is_name(first):
                self.raise_error(f"expected {wanted} after {statement}")
            parts = [t.cast(Token, first)]
            self._advance()
            while self._match(TokenType.DOT):
                if not _is_name(self._curr):
                    label = labels[len(parts)] if len(parts) < count else "name"
                    prefix = ".".join(p.text for p in parts)
                    self.raise_error(f"expected a {label} name after '{prefix}.'")
                parts.append(t.cast(Token, self._curr))
                self._advance()
            if len(parts) != count:
                written = ".".join(p.text for p in parts)
                self.raise_error(
                    f"{statement} expects {wanted}, got '{written}' ({len(parts)} part"
                    f"{'s' if len(parts) != 1 else ''})",
                    first,
                )
            return parts

        def _parse_exec(self) -> Exec:
            parts = self._parse_name_parts("EXEC", 4)
            resource = name_table([p.text.lower() for p in parts[:3]])
            method = exp.to_identifier(parts[3].text)
            params: list[ExecParam] = []
            seen: set[str] = set()
            body: exp.Expression | None = None
            while self._curr:
                at = self._curr
                if at.token_type != TokenType.PARAMETER:
                    self.raise_error("EXEC parameters must look like @name=value")
                self._advance()
                is_body = bool(self._curr) and self._curr.token_type == TokenType.PARAMETER
                if is_body:
                    self._advance()
                name_tok = self._curr
                if not _is_name(name_tok) or t.cast(Token, name_tok).start != self._prev.end + 1:
                    self.raise_error("EXEC parameters must look like @name=value", at)
                name = t.cast(Token, name_tok).text
                self._advance()
                shown = f"@@{name}" if is_body else f"@{name}"
                if is_body and name.lower() != "json":
                    self.raise_error(f"unknown '{shown}': the only @@ parameter is @@json", at)
                if name.lower() in seen:
                    self.raise_error(f"EXEC parameter '{shown}' is given twice", at)
                seen.add(name.lower())
                if not self._match(TokenType.EQ):
                    self.raise_error(f"expected '=' and a value after '{shown}'")
                if is_body:
                    if not self._match(TokenType.STRING):
                        self.raise_error(
                            "@@json expects a string literal holding the JSON request body, "
                            'e.g. @@json=\'{"displayName": "x"}\''
                        )
                    body = exp.Literal.string(self._prev.text)
                else:
                    value = self._parse_exec_value(shown)
                    params.append(ExecParam(this=exp.to_identifier(name), expression=value))
                if self._match(TokenType.COMMA) and not self._curr:
                    self.raise_error("expected another @name=value after ','")
            return self.expression(
                Exec(this=resource, method=method, expressions=params or None, json=body)
            )

        def _parse_exec_value(self, shown: str) -> exp.Expression:
            tok = self._curr
            if not tok:
                self.raise_error(f"expected a value after '{shown}='")
            tok = t.cast(Token, tok)
            if tok.token_type in (TokenType.COMMA, TokenType.PARAMETER):
                self.raise_error(f"expected a value after '{shown}='", tok)
            self._advance()
            if tok.token_type == TokenType.STRING:
                return exp.Literal.string(tok.text)
            if tok.token_type == TokenType.NUMBER:
                return exp.Literal.number(tok.text)
            if tok.token_type == TokenType.DASH and self._match(TokenType.NUMBER):
                return exp.Literal.number("-" + self._prev.text)
            if tok.token_type in (TokenType.TRUE, TokenType.FALSE):
                return exp.Boolean(this=tok.token_type == TokenType.TRUE)
            if tok.token_type == TokenType.NULL:
                return exp.Null()
            self.raise_error(
                f"EXEC parameter '{shown}' needs a literal value "
                f"(a string, number, true, false or null), got '{tok.text}'",
                tok,
            )
            raise AssertionError("unreachable")  # pragma: no cover

        def _find_parser(self, parsers: dict[str, t.Callable], trie: dict) -> t.Callable | None:
            """sqlglot's trie walk, stopping at the end of the tokens (``SHOW EXTENDED`` alone
            made sqlglot's version index past the end)."""
            index = self._index
            this: list[str] = []
            while self._curr:
                word = self._curr.text.upper()
                this.append(word)
                self._advance()
                result, trie = in_trie(trie, word.split(" "))
                if result == TrieResult.FAILED:
                    break
                if result == TrieResult.EXISTS:
                    return parsers[" ".join(this)]
            self._retreat(index)
            return None

        def _parse_show(self) -> exp.Expression | None:
            parser = self._find_parser(self.SHOW_PARSERS, self.SHOW_TRIE)
            if parser:
                return parser(self)
            got = f", got '{self._curr.text}'" if self._curr else ""
            self.raise_error(
                "SHOW expects PROVIDERS, SERVICES, RESOURCES, METHODS or INSERT INTO" + got
            )
            return None

        def _parse_stackql_show(self, what: str, extended: bool) -> Show:
            word, count = SHOW_FORMS[what]
            target = None
            if word is not None:
                if not self._match_text_seq(word):
                    self.raise_error(f"SHOW {what} expects {word} {'.'.join(NAME_PARTS[:count])}")
                statement = f"SHOW {what} {word}" if what != "INSERT" else "SHOW INSERT INTO"
                parts = self._parse_name_parts(statement, count)
                target = name_table([p.text.lower() for p in parts])
            like = None
            if self._match(TokenType.LIKE):
                if not self._match(TokenType.STRING):
                    self.raise_error("LIKE expects a quoted pattern, e.g. LIKE '%tuning%'")
                like = exp.Literal.string(self._prev.text)
            return self.expression(
                Show(this=exp.var(what), extended=extended or None, target=target, like=like)
            )

        def _parse_stackql_describe(self) -> Describe:
            extended = self._match_text_seq("EXTENDED")
            parts = self._parse_name_parts("DESCRIBE", 3)
            table = name_table([p.text.lower() for p in parts])
            return self.expression(Describe(this=table, extended=extended or None))

        def _parse_registry(self) -> RegistryCommand:
            action = self._curr
            if not action or action.text.upper() not in REGISTRY_ACTIONS:
                self.raise_error("REGISTRY expects " + " or ".join(REGISTRY_ACTIONS))
            self._advance()
            args: list[exp.Expression] = []
            while self._curr:
                if self._curr.token_type == TokenType.STRING:
                    args.append(exp.Literal.string(self._curr.text))
                    self._advance()
                    continue
                # one argument = adjacent tokens with no space between (v24.09.00, my-provider)
                first = self._curr
                last = first
                self._advance()
                while self._curr and self._curr.start == last.end + 1:
                    last = self._curr
                    self._advance()
                args.append(exp.var(self.sql[first.start : last.end + 1]))
            return self.expression(
                RegistryCommand(this=exp.var(action.text.upper()), expressions=args or None)
            )

    class Generator(DuckDBGenerator):
        TRANSFORMS = {
            **DuckDBGenerator.TRANSFORMS,
            ExecParam: lambda self, e: f"@{e.name}={self.sql(e, 'expression')}",
            Exec: lambda self, e: _exec_sql(self, e),
            Show: lambda self, e: _show_sql(self, e),
            Describe: lambda self, e: "DESCRIBE " + ("EXTENDED " if e.extended else "") + e.target,
            RegistryCommand: lambda self, e: " ".join(
                ["REGISTRY", e.action, *(self.sql(a) for a in e.expressions)]
            ),
        }


def _exec_sql(self: DuckDBGenerator, e: Exec) -> str:
    items = [self.sql(p) for p in e.expressions]
    if e.args.get("json") is not None:
        items.append(f"@@json={self.sql(e, 'json')}")
    head = f"EXEC {e.resource}.{e.method_name}"
    return f"{head} {', '.join(items)}" if items else head


def _show_sql(self: DuckDBGenerator, e: Show) -> str:
    text = "SHOW " + ("EXTENDED " if e.extended else "") + e.what
    word, _ = SHOW_FORMS[e.what]
    if word is not None and e.target:
        text += f" {word} {e.target}"
    if e.like is not None:
        text += f" LIKE {self.sql(e, 'like')}"
    return text


__all__ = ["NAME_PARTS", "REGISTRY_ACTIONS", "SHOW_FORMS", "STATEMENT_WORDS", "Stackql"]
