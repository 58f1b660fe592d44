"""Where a DuckDB error is in the user's own statement.

DuckDB points at the node an error is about (``LINE 1: ... n > 'abc' ...`` and a caret under
``'abc'``), but in the SQL we gave it: regenerated from the planned tree, with provider tables
renamed and parameters taken out. The text around its caret is still mostly the user's, so the
caret's token is found in the statement's tokens where the most tokens on either side agree.
An error raised while the query runs has no caret; what its message names (a column, a quoted
value, malformed JSON) is looked for instead, and only an unambiguous token is taken.
Pure functions over text and sqlglot's tokenizer.
"""

from __future__ import annotations

import re

from sqlglot.tokens import Token, TokenType

from stackql_tuning.sql.parser import tokenize

_LINE = re.compile(r"^LINE \d+: ")
_CARET = re.compile(r"^(\s*)\^+\s*$")
_NAMES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})
_CONTEXT = 8  # tokens compared on each side of the caret's
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_CAST = [("name", "cast"), ("L_PAREN", "(")]
_DCOLON = [("DCOLON", "::")]
_JSON = frozenset({"ARROW", "DARROW"})
_JSON_FUNCTIONS = frozenset(
    {"json_extract", "json_extract_string", "json_extract_path", "json_value", "json_exists"}
)


def duckdb_spot(message: str) -> tuple[str, str] | None:
    """The text of a DuckDB error's ``LINE n:`` excerpt before its caret, and from the caret
    on (either may be cut short: DuckDB shows a window of a long line, between ``...``)."""
    lines = message.splitlines()
    for i, line in enumerate(lines[:-1]):
        m = _LINE.match(line)
        caret = _CARET.match(lines[i + 1])
        if not m or not caret:
            continue
        text, at = line[m.end() :], len(caret.group(1)) - m.end()
        if not 0 <= at < len(text):
            return None
        before, after = text[:at], text[at:]
        if before.startswith("..."):  # a window: its first and last words may be cut
            before = before[3:].partition(" ")[2]
        if after.endswith("..."):
            after = after[:-3].rpartition(" ")[0] or after[:-3]
        return before, after
    return None


def _key(token: Token) -> tuple[str, str]:
    kind = "name" if token.token_type in _NAMES else token.token_type.name
    return kind, token.text.lower()


def _tokens(text: str) -> list[Token] | None:
    try:
        return tokenize(text)
    except Exception:  # a window cut inside a string: no alignment
        return None


def find_spot(text: str, spot: tuple[str, str]) -> int | None:
    """The offset in ``text`` (the user's statement) of the token DuckDB's caret is on: of the
    tokens equal to it, the one whose neighbours agree with the excerpt's over the longest
    run on both sides (the first of equals); None when the caret's token is not the user's."""
    before, after, own = _tokens(spot[0]) or [], _tokens(spot[1]), _tokens(text)
    if not after or not own:
        return None
    want_after = [_key(t) for t in after[: _CONTEXT + 1]]
    want_before = [_key(t) for t in reversed(before[-_CONTEXT:])]
    keys = [_key(t) for t in own]
    best, best_score = None, -1
    for i, key in enumerate(keys):
        if key != want_after[0]:
            continue
        score = _run(keys[i + 1 :], want_after[1:]) + _run(keys[:i][::-1], want_before)
        if score > best_score:
            best, best_score = i, score
    # the caret's token and one more are no evidence (a CAST we wrote, and its bracket)
    return None if best is None or best_score < 2 else own[best].start


def error_offset(message: str, spot: tuple[str, str] | None, text: str) -> int | None:
    """The offset in ``text`` (the user's statement) of what a DuckDB error is about: its
    caret's token, else the column or quoted value it names, else its one JSON accessor."""
    found = find_spot(text, spot) if spot else None
    tokens = _tokens(text) if found is None else None
    if not tokens:
        return found
    keys = [_key(t) for t in tokens]
    named = re.match(r'Referenced column "([^"]+)" not found', message) or re.search(
        r"when casting from source column (\w+)", message
    )
    if named:
        at = [i for i, k in enumerate(keys) if k == ("name", named.group(1).lower())]
        casts = [i for i in at if keys[i - 2 : i] == _CAST or keys[i + 1 : i + 2] == _DCOLON]
        return tokens[(casts or at)[0]].start if at else None
    if message.startswith("Malformed JSON"):
        at = [i for i, k in enumerate(keys) if k[0] in _JSON or k[1] in _JSON_FUNCTIONS]
        return tokens[at[0]].start if len(at) == 1 else None
    for quoted in _QUOTED.findall(message):
        at = [i for i, k in enumerate(keys) if k == ("STRING", "".join(quoted).lower())]
        if len(at) == 1:
            return tokens[at[0]].start
    return None


def _run(have: list[tuple[str, str]], want: list[tuple[str, str]]) -> int:
    n = 0
    for a, b in zip(have, want, strict=False):
        if a != b:
            break
        n += 1
    return n


__all__ = ["duckdb_spot", "error_offset", "find_spot"]
