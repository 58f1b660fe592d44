"""SQL text -> ``Statement`` list: splitting, hints, kinds and parse errors with line/column.

``parse`` tokenizes the whole text once with the stackql dialect's tokenizer (so ``;`` inside
strings and comments, e.g. ``-- required;``, never ends a statement), cuts the tokens at ``;``,
drops empty and comment-only pieces, reads each statement's ``/*+ hints */`` from the text before
its first token and right after it (``SELECT /*+ AWAIT */ ...``), parses each piece with the
dialect and classifies it. Every failure is a ``stackql_tuning.errors.ParseError`` located in the
full text; sqlglot's ``ParseError``/``TokenError`` never escape, and a generic ``exp.Command``
fallback is an error, not a statement.

This module must not import duckdb or any SDK, and must not name any resource.
"""

from __future__ import annotations

import bisect
import re
import typing as t
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ParseError as SqlglotParseError
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from stackql_tuning.errors import ParseError
from stackql_tuning.sql.dialect import Stackql
from stackql_tuning.sql.expressions import Describe, Exec, RegistryCommand, Show
from stackql_tuning.sql.hints import HintSyntaxError, hints_in_gap
from stackql_tuning.sql.locate import line_col, parse_error
from stackql_tuning.sql.statement import Hint, Statement

# expression class -> statement kind, first match wins
KINDS: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Query, "select"),
    (exp.Values, "select"),  # DuckDB's bare VALUES (1), (2)
    (exp.Pivot, "select"),  # DuckDB's PIVOT statement
    (exp.Insert, "insert"),
    (exp.Delete, "delete"),
    (exp.Update, "update"),
    (Exec, "exec"),
    (Show, "show"),
    (Describe, "describe"),
    (RegistryCommand, "registry"),
)
# real DuckDB statements that are kind "other" (never exp.Command)
OTHER_STATEMENTS: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in (
        "DDL", "DML", "Drop", "Alter", "Set", "Pragma", "Use", "Transaction", "Commit",
        "Rollback", "Attach", "Detach", "Install", "Summarize", "Analyze", "Export", "Cache",
        "Uncache", "TruncateTable", "Comment",
    )
    if hasattr(exp, name)
)  # fmt: skip

_UNTERMINATED = (
    ("/*", "unterminated comment"),
    ("$", "unterminated dollar-quoted string"),
    ("'", "unterminated string"),
    ('"', "unterminated quoted name"),
)
_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+.*?>")
_MESSAGES = (
    (re.compile(r"^Expecting \)$"), "expected ')'"),
    (re.compile(r"^Expecting \($"), "expected '('"),
    (re.compile(r"^Invalid expression / Unexpected token$"), "unexpected {token}"),
    (re.compile(r"^Expected table name but got"), "expected a table name but got {token}"),
    (re.compile(r"^Required keyword: '\w+' missing for"), "incomplete expression {near}"),
)


@lru_cache(maxsize=1)
def _dialect() -> Stackql:
    return Stackql()


def tokenize(text: str, source: str | None = None) -> list[Token]:
    """The dialect's tokens of ``text`` (a ParseError, located, for text it cannot read)."""
    return _tokenize(text, source)


def _tokenize(text: str, source: str | None) -> list[Token]:
    tokenizer = _dialect().tokenizer()
    try:
        return tokenizer.tokenize(text)
    except TokenError as error:
        offset = getattr(getattr(tokenizer, "_core", None), "_start", None)
        if offset is None:
            offset = error.start or 0
        what = next((m for p, m in _UNTERMINATED if text.startswith(p, offset)), None)
        if what is None:
            raise parse_error("cannot read the text here", text, offset, source=source) from None
        line, column = line_col(text, offset)
        raise parse_error(
            f"{what} starting at line {line}, column {column}", text, offset, source=source
        ) from None


def _pieces(tokens: list[Token]) -> list[tuple[int, list[Token]]]:
    """(offset where the gap before the statement starts, its tokens) per non-empty statement."""
    out: list[tuple[int, list[Token]]] = []
    gap_start = 0
    current: list[Token] = []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if current:
                out.append((gap_start, current))
            current = []
            gap_start = token.end + 1
        else:
            current.append(token)
    if current:
        out.append((gap_start, current))
    return out


def _hints(
    text: str, gap_start: int, tokens: list[Token], source: str | None
) -> tuple[tuple[Hint, ...], int, set[str]]:
    """The statement's hints, the offset its text starts at (its first hint or token) and the
    hint comments as sqlglot keeps them."""
    # StackQL writes SHOW INSERT /*+ REQUIRED */ INTO ...: its first word is two
    heads = 2 if [t.text.upper() for t in tokens[:2]] == ["SHOW", "INSERT"] else 1
    try:
        before, first, raw = hints_in_gap(text, gap_start, tokens[0].start)
        for k in range(min(heads, len(tokens) - 1)):
            after, _, raw_after = hints_in_gap(text, tokens[k].end + 1, tokens[k + 1].start)
            before, raw = before + after, raw + raw_after
    except HintSyntaxError as error:
        raise parse_error(
            error.message, text, error.offset, source=source, hint=error.hint
        ) from None
    _check_hint_places(text, tokens[heads - 1 :], source)
    names = [h.name for h in before]
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:  # the last one won: /*+ ON_ERROR=CONTINUE, ON_ERROR=FAIL */
        raise parse_error(
            f"hint {twice} is given twice",
            text,
            first if first is not None else tokens[0].start,
            source=source,
            hint="keep the one you mean",
        )
    return tuple(before), first if first is not None else tokens[0].start, set(raw)


def _check_hint_places(text: str, tokens: list[Token], source: str | None) -> None:
    """A ParseError at a ``/*+`` comment between the statement's later tokens: a hint is read
    only before the statement or right after its first word, and one elsewhere was silently a
    comment (``DELETE FROM t /*+ AWAIT */ WHERE ...`` did not wait). Text inside a token (a
    string, a quoted name) or inside another comment (``-- add /*+ AWAIT */ later``) is not a
    hint."""
    at = _hint_in_gap(text, tokens[-1].end + 1, len(text))
    if at is not None and len(tokens) > 1:
        _misplaced(text, at, source)
    if len(tokens) < 3:
        return
    lo, hi = tokens[1].end + 1, tokens[-1].start
    at = text.find("/*+", lo, hi)
    while at >= 0:
        k = bisect.bisect_right(tokens, at, key=lambda tok: tok.start) - 1
        if k < 0 or at <= tokens[k].end:  # inside a token: text, not a comment
            at = text.find("/*+", at + 3, hi)
            continue
        gap_end = tokens[k + 1].start if k + 1 < len(tokens) else hi
        found = _hint_in_gap(text, tokens[k].end + 1, gap_end)
        if found is not None:
            _misplaced(text, found, source)
        at = text.find("/*+", gap_end, hi)


def _hint_in_gap(text: str, i: int, end: int) -> int | None:
    """The offset of a ``/*+`` comment in ``text[i:end]``, which holds white space and
    comments up to the first other character; not one inside another comment (a ``--`` line,
    or a ``/* */`` block, which nests as the tokenizer's does)."""
    while i < end:
        if text[i].isspace():
            i += 1
        elif text.startswith("/*+", i):
            return i
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while depth and i < end:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif text.startswith("--", i):
            newline = text.find("\n", i, end)
            i = end if newline < 0 else newline + 1
        else:
            return None
    return None


def _misplaced(text: str, at: int, source: str | None) -> t.NoReturn:
    raise parse_error(
        "a hint here is not read: hints go before the statement or right after its first word",
        text,
        at,
        source=source,
        hint="write e.g. /*+ AWAIT */ DELETE FROM ... or DELETE /*+ AWAIT */ FROM ...; "
        "a plain comment is written /* ... */",
    )


def _drop_comments(node: exp.Expr, comments: set[str]) -> None:
    """Hints live on the Statement: remove their comments from the tree so that generated SQL
    does not carry them as ``/* + AWAIT */``."""
    for child in node.walk():
        if child.comments:
            child.comments = [c for c in child.comments if c not in comments] or None


def split(text: str) -> list[tuple[str, int, int]]:
    """The statements of ``text`` as (statement text without ``;``, line, column) where line and
    column (1-based) are those of the statement text's first character. Empty and comment-only
    statements are dropped; a last statement without ``;`` still counts."""
    out = []
    for gap_start, tokens in _pieces(_tokenize(text, None)):
        _, start, _ = _hints(text, gap_start, tokens, None)
        out.append((text[start : tokens[-1].end + 1], *line_col(text, start)))
    return out


def is_complete(text: str) -> bool:
    """True when ``text`` ends with a ``;`` outside strings and comments (trailing comments and
    whitespace allowed). Unterminated strings or comments are incomplete, not errors."""
    try:
        tokens = _dialect().tokenizer().tokenize(text)
    except TokenError:
        return False
    return bool(tokens) and tokens[-1].token_type == TokenType.SEMICOLON


def _message(error: SqlglotParseError, token: Token | None, at_end: bool) -> str:
    description = (error.errors[0].get("description") if error.errors else None) or str(error)
    end = at_end or not token
    shown = "the end of the statement" if end else f"'{t.cast(Token, token).text}'"
    near = "at the end of the statement" if end else f"before '{t.cast(Token, token).text}'"
    for pattern, template in _MESSAGES:
        if pattern.match(description):
            message = template.replace("{token}", shown).replace("{near}", near)
            if end and "{" not in template:
                message += " before the end of the statement"
            return message
    return _TOKEN_REPR.sub(
        lambda m: "the end of the statement" if m.group(1) == "SENTINEL" else f"'{m.group(2)}'",
        description,
    )


def _from_sqlglot(error: SqlglotParseError, text: str, source: str | None) -> ParseError:
    token: Token | None = getattr(error, "stackql_token", None)
    at_end = bool(getattr(error, "stackql_at_end", False))
    if token:
        offset = token.end + 1 if at_end else token.start
    else:
        first = error.errors[0] if error.errors else {}
        line, col = first.get("line") or 1, first.get("col") or 1
        lines = text.split("\n")
        offset = sum(len(x) + 1 for x in lines[: line - 1]) + max(col - 1, 0)
    message = _message(error, token, at_end)
    return parse_error(
        message, text, offset, source=source, hint=getattr(error, "stackql_hint", None)
    )


def _classify(node: exp.Expr, text: str, first: Token, source: str | None) -> str:
    if isinstance(node, exp.Command):
        raise parse_error(
            f"'{first.text.upper()}' is not a statement the stackql dialect understands",
            text,
            first.start,
            source=source,
        )
    if isinstance(node, exp.Delete) and not node.args.get("this"):
        raise parse_error(
            "DELETE expects FROM provider.service.resource", text, first.start, source=source
        )
    for cls, kind in KINDS:
        if isinstance(node, cls):
            return kind
    if isinstance(node, OTHER_STATEMENTS):
        return "other"
    raise parse_error(
        f"'{node.sql(dialect='duckdb')}' is an expression, not a statement",
        text,
        first.start,
        source=source,
    )


#: the deepest nesting of brackets a statement may have: sqlglot's parser recurses ~20 frames
#: per level, so the interpreter's stack gave out somewhere past 40 levels, earlier when it was
#: called from deeper in the stack (a test harness, a thread): a fixed limit answers the same
#: everywhere
MAX_NESTING = 32
_OPEN = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE})
_CLOSE = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE})


def _check_nesting(tokens: list[Token], text: str, source: str | None) -> None:
    depth = 0
    for token in tokens:
        if token.token_type in _OPEN:
            depth += 1
            if depth > MAX_NESTING:
                raise parse_error(
                    f"the statement nests brackets more than {MAX_NESTING} levels deep",
                    text,
                    token.start,
                    source=source,
                )
        elif token.token_type in _CLOSE:
            depth -= 1


def parse(text: str, *, source: str | None = None) -> list[Statement]:
    """Every statement of ``text`` (a script, a file, a shell buffer), in order."""
    statements: list[Statement] = []
    for gap_start, tokens in _pieces(_tokenize(text, source)):
        hints, start, hint_comments = _hints(text, gap_start, tokens, source)
        _check_nesting(tokens, text, source)
        try:
            trees = _dialect().parser().parse(tokens, text)
        except SqlglotParseError as error:
            raise _from_sqlglot(error, text, source) from None
        except RecursionError:
            raise parse_error(
                "the statement is nested too deeply to parse",
                text,
                tokens[0].start,
                source=source,
            ) from None
        except (TokenError, IndexError, AttributeError, TypeError, ValueError) as error:
            # a sqlglot bug on odd input must still be a located ParseError, not a traceback
            raise parse_error(
                f"cannot parse this statement ({type(error).__name__} in the SQL parser)",
                text,
                tokens[0].start,
                source=source,
            ) from None
        node = trees[0] if trees else None
        if node is None:  # pragma: no cover - pieces are never empty
            continue
        if hint_comments:
            _drop_comments(node, hint_comments)
        line, column = line_col(text, tokens[0].start)
        statements.append(
            Statement(
                kind=_classify(node, text, tokens[0], source),
                expression=t.cast(exp.Expression, node),
                text=text[start : tokens[-1].end + 1],
                line=line,
                column=column,
                source=source,
                hints=hints,
            )
        )
    return statements


def parse_one(text: str, *, source: str | None = None) -> Statement:
    """Exactly one statement, else a ParseError."""
    statements = parse(text, source=source)
    if len(statements) == 1:
        return statements[0]
    if not statements:
        raise ParseError(
            "no statement to run: the text is empty or holds only comments",
            location=parse_error("", text, 0, source=source).location,
        )
    second = statements[1]
    offset = _offset(text, second.line, second.column)
    raise parse_error(
        f"expected one statement, got {len(statements)}",
        text,
        offset,
        source=source,
        hint="run a script with parse() / Session.execute_script, one statement at a time here",
    )


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


__all__ = ["is_complete", "parse", "parse_one", "split"]
