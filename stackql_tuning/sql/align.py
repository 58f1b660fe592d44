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
from unicodedata import combining, east_asian_width

from sqlglot.tokens import Token, TokenType

from stackql_tuning.sql.parser import tokenize

_LINE = re.compile(r"^LINE \d+: ")
_CARET = re.compile(r"^(\s*)\^+\s*$")
_NAMES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})
_CONTEXT = 8  # tokens compared on each side of the caret's
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_CAST = [("name", "cast"), ("L_PAREN", "(")]
_ALIAS = [("ALIAS", "as")]
_L_PAREN = [("L_PAREN", "(")]
_DCOLON = [("DCOLON", "::")]
_JSON = frozenset({"ARROW", "DARROW"})


def duckdb_spot(message: str) -> tuple[str, str] | None:
    """The text of a DuckDB error's ``LINE n:`` excerpt before its caret, and from the caret
    on (either may be cut short: DuckDB shows a window of a long line, between ``...``)."""
    lines = message.splitlines()
    for i, line in enumerate(lines[:-1]):
        m = _LINE.match(line)
        caret = _CARET.match(lines[i + 1])
        if not m or not caret:
            continue
        text = line[m.end() :]
        at = _index_at_width(text, len(caret.group(1)) - m.end())
        if at is None:
            return None
        before, after = text[:at], text[at:]
        if before.startswith("..."):  # a window: its first and last words may be cut
            before = before[3:].partition(" ")[2]
        if after.endswith("..."):
            after = after[:-3].rpartition(" ")[0] or after[:-3]
        return before, after
    return None


def _index_at_width(text: str, width: int) -> int | None:
    """The index of the character of ``text`` that starts at display column ``width``: DuckDB
    pads its caret by display width (a CJK character or an emoji takes two)."""
    seen = 0
    for i, char in enumerate(text):
        if seen == width:
            return i
        if seen > width:
            return None
        seen += 0 if combining(char) else 2 if east_asian_width(char) in "WF" else 1
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
    run; None when the caret's token is not the user's, or two of its equals fit as well."""
    before, after, own = _tokens(spot[0]) or [], _tokens(spot[1]), _tokens(text)
    if not after or not own:
        return None
    want_after = [_key(t) for t in after[: _CONTEXT + 1]]
    want_before = [_key(t) for t in reversed(before[-_CONTEXT:])]
    keys = [_key(t) for t in own]
    at = [i for i, key in enumerate(keys) if key == want_after[0]]
    scored: list[tuple[int, int]] = []
    for i in at:
        back = _run(keys[:i][::-1], want_before)
        ahead = _run(keys[i + 1 :], want_after[1:])
        # of several equals, one that agrees on one side only is a guess (the first
        # condition after the parameters we took out agrees only ahead: it is alone)
        sided = back or not want_before or not i
        sided = sided and (ahead or len(want_after) == 1 or i == len(keys) - 1)
        # the caret's token and one more are no evidence (a CAST we wrote, and its bracket)
        if back + ahead >= 2 and (len(at) == 1 or sided):
            scored.append((back + ahead, i))
    scored.sort(reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return own[scored[0][1]].start


def error_offset(message: str, spot: tuple[str, str] | None, text: str) -> int | None:
    """The offset in ``text`` (the user's statement) of what a DuckDB error is about: its
    caret's token, else the column or the one literal it names, else its one JSON call."""
    found = find_spot(text, spot) if spot else None
    tokens = _tokens(text) if found is None else None
    if not tokens:
        return found
    keys = [_key(t) for t in tokens]
    named = re.match(r'Referenced column "([^"]+)" (?:was )?not found', message) or re.search(
        r"when casting from source column (\w+)", message
    )
    if named:  # a column: not a name given with AS, nor a function's
        at = [
            i
            for i, k in enumerate(keys)
            if k == ("name", named.group(1).lower())
            and keys[i - 1 : i] != _ALIAS
            and keys[i + 1 : i + 2] != _L_PAREN
        ]
        casts = [i for i in at if keys[i - 2 : i] == _CAST or keys[i + 1 : i + 2] == _DCOLON]
        if named.group(0).startswith("when"):  # the cast of it, if only one casts it
            at = casts if len(casts) == 1 else [] if casts else at
        return tokens[at[0]].start if at else None
    if message.startswith("Malformed JSON"):  # the one JSON accessor or function
        at = [
            i
            for i, k in enumerate(keys)
            if k[0] in _JSON
            or (k[0] == "name" and k[1].startswith("json") and keys[i + 1 : i + 2] == _L_PAREN)
        ]
        return tokens[at[0]].start if len(at) == 1 else None
    # a value the message quotes that is one literal of the statement, if only one is (a
    # value read from the data may equal a literal the WHERE compared it with)
    found_at = {
        i
        for quoted in _QUOTED.findall(message)
        for i in [j for j, k in enumerate(keys) if k == ("STRING", "".join(quoted).lower())][:2]
    }
    return tokens[found_at.pop()].start if len(found_at) == 1 else None


def _run(have: list[tuple[str, str]], want: list[tuple[str, str]]) -> int:
    n = 0
    for a, b in zip(have, want, strict=False):
        if a != b:
            break
        n += 1
    return n


__all__ = ["duckdb_spot", "error_offset", "find_spot"]
