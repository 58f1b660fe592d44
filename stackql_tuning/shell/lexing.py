"""A forgiving tokenizer for the shell: partial SQL in, tokens out, never an exception.

The shell needs to look at text that is still being typed: an unterminated string, a comment
that is not closed, half a dotted name. This module turns any text into a flat list of tokens
(with an ``closed`` flag for unterminated ones) and answers two questions on top of it: "does
this buffer hold a complete statement?" and "where are the statement boundaries?".

It does not parse SQL (that is ``stackql_tuning.sql``) and imports nothing but the standard
library, so completion stays fast and pure.
"""

from __future__ import annotations

from dataclasses import dataclass

#: operators of two characters that are one token
_TWO_CHAR_OPS = ("<>", "!=", "<=", ">=", "||", "::", "->", "=>")


@dataclass(frozen=True)
class Token:
    """One token: kind is word | qident | string | number | param | meta | op | punct | comment.

    ``param`` is ``@name`` / ``@@name`` (EXEC arguments); ``meta`` is a backslash command
    (``\\o``); ``punct`` is one of ``( ) , ; .``; ``closed`` is False for an unterminated string,
    quoted identifier or block comment.
    """

    kind: str
    text: str
    start: int
    closed: bool = True

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def upper(self) -> str:
        return self.text.upper()

    @property
    def is_name(self) -> bool:
        return self.kind in ("word", "qident")

    @property
    def name(self) -> str:
        """The identifier without quotes (for ``word`` and ``qident`` tokens)."""
        if self.kind == "qident":
            body = self.text[1:-1] if self.closed else self.text[1:]
            return body.replace('""', '"')
        return self.text


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c in "_$"


def tokenize(text: str) -> list[Token]:
    """Every token of ``text``, comments included; unterminated constructs end the list."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(Token("comment", text[i:j], i, closed=j < n))
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                out.append(Token("comment", text[i:], i, closed=False))
                break
            out.append(Token("comment", text[i : j + 2], i))
            i = j + 2
            continue
        if c in "'\"`":
            j, closed = _scan_quoted(text, i, c)
            kind = "string" if c == "'" else "qident"
            out.append(Token(kind, text[i:j], i, closed=closed))
            i = j
            continue
        if c == "@":
            j = i + 1
            while j < n and text[j] == "@":
                j += 1
            while j < n and _is_word_char(text[j]):
                j += 1
            out.append(Token("param", text[i:j], i))
            i = j
            continue
        if c == "\\":
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ";":
                j += 1
            out.append(Token("meta", text[i:j], i))
            i = j
            continue
        if c.isdigit():
            j = i
            while j < n and (text[j].isalnum() or text[j] == "."):
                j += 1
            out.append(Token("number", text[i:j], i))
            i = j
            continue
        if _is_word_char(c):
            j = i
            while j < n and _is_word_char(text[j]):
                j += 1
            out.append(Token("word", text[i:j], i))
            i = j
            continue
        if text[i : i + 2] in _TWO_CHAR_OPS:
            out.append(Token("op", text[i : i + 2], i))
            i += 2
            continue
        kind = "punct" if c in "(),;." else "op"
        out.append(Token(kind, c, i))
        i += 1
    return out


def _scan_quoted(text: str, i: int, quote: str) -> tuple[int, bool]:
    """End index of the quoted run starting at ``i`` (doubled quotes escape), and closedness."""
    j, n = i + 1, len(text)
    while j < n:
        if text[j] == quote:
            if j + 1 < n and text[j + 1] == quote:
                j += 2
                continue
            return j + 1, True
        j += 1
    return n, False


def code_tokens(tokens: list[Token]) -> list[Token]:
    """The tokens without comments (hints ``/*+ ... */`` are comments too)."""
    return [t for t in tokens if t.kind != "comment"]


def ends_open(text: str) -> bool:
    """True when ``text`` ends inside a string, quoted identifier or block comment."""
    toks = tokenize(text)
    return bool(toks) and not toks[-1].closed and toks[-1].text[:2] != "--"


def is_complete_fallback(text: str) -> bool:
    """True when the buffer ends with ``;`` outside quotes and comments."""
    toks = tokenize(text)
    if toks and not toks[-1].closed and not toks[-1].text.startswith("--"):
        return False
    code = code_tokens(toks)
    return bool(code) and code[-1].kind == "punct" and code[-1].text == ";"


def is_complete(text: str) -> bool:
    """The dialect's ``is_complete`` when it exists, else :func:`is_complete_fallback`."""
    try:
        from stackql_tuning.sql import is_complete as dialect_is_complete  # type: ignore[attr-defined]
    except ImportError:
        return is_complete_fallback(text)
    try:
        return bool(dialect_is_complete(text))
    except Exception:  # the dialect must never break the prompt
        return is_complete_fallback(text)


def current_statement(tokens: list[Token]) -> list[Token]:
    """The tokens after the last ``;`` (the statement being typed)."""
    for k in range(len(tokens) - 1, -1, -1):
        t = tokens[k]
        if t.kind == "punct" and t.text == ";":
            return tokens[k + 1 :]
    return tokens


def statement_around(tokens: list[Token], cursor: int) -> list[Token]:
    """The tokens of the statement that contains position ``cursor``."""
    start, stop = 0, len(tokens)
    for k, t in enumerate(tokens):
        if t.kind == "punct" and t.text == ";":
            if t.end <= cursor:
                start = k + 1
            elif t.start >= cursor:
                stop = k
                break
    return tokens[start:stop]
