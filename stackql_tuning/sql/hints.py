"""Query hints: ``/*+ AWAIT */``, ``/*+ statecheck, retries=5, retry_delay=10 */``.

The DuckDB tokenizer keeps hints only as plain comments, so hints are read from the source text
between two tokens (a gap the tokenizer has proven holds nothing but whitespace and comments).

Grammar of a hint comment body: items separated by commas or whitespace; an item is ``NAME`` (a new
hint) or ``key=value`` (an option of the hint before it). A ``key=value`` with no hint before it
is a hint of its own: ``/*+ ON_ERROR=CONTINUE */`` -> ``Hint("ON_ERROR", {"on_error":
"CONTINUE"})``.
Names are upper-cased, option keys lower-cased, values kept as written.

A hint name must be one of ``HINTS`` (what the engine reads) or ``ANCHORS`` (stackql-deploy's
anchors, which a resource ``.iql`` may carry; the engine ignores them): any other name is a
``HintSyntaxError``, so that a misspelt ``/*+ AWIAT */`` is not silently a comment.

This module holds hint reading only; it raises ``HintSyntaxError`` (with the offset of the bad
comment) and leaves positions and messages for users to ``stackql_tuning.sql.parser``.
"""

from __future__ import annotations

import re

from stackql_tuning.errors import did_you_mean
from stackql_tuning.sql.statement import Hint

#: the hints the engine reads, and what each does
HINTS = {
    "AWAIT": "INSERT / DELETE / EXEC: wait until the operation or job is done",
    "SHOWRESULTS": "INSERT / EXEC: print the finished resource",
    "REQUIRED": "SHOW INSERT INTO: only the required columns",
    "ON_ERROR": "SELECT: ON_ERROR=CONTINUE keeps the rows of the calls that succeeded",
}
#: the statement kinds each hint acts on (another kind is warned of: ``/*+ SHOWRESULTS */
#: DELETE`` looked as if it would print the deleted job)
APPLIES: dict[str, frozenset[str]] = {
    "AWAIT": frozenset({"insert", "delete", "exec"}),
    "SHOWRESULTS": frozenset({"insert", "exec"}),
    "REQUIRED": frozenset({"show"}),
    "ON_ERROR": frozenset({"select", "other", "insert", "delete"}),
}


def idle_hints(kind: str, names: list[str]) -> list[str]:
    """A warning for each of ``names`` (hints of a statement of ``kind``) that does nothing
    on that kind of statement."""
    out = []
    for name in dict.fromkeys(names):
        kinds = APPLIES.get(name)
        if kinds is not None and kind not in kinds:
            on = " / ".join(sorted(k.upper() for k in kinds if k != "other"))
            what = "this statement" if kind == "other" else kind.upper()
            out.append(f"/*+ {name} */ does nothing on {what} (it acts on {on})")
    return out


#: the options each hint takes (``/*+ ON_ERROR=CONTINUE */`` is ON_ERROR's option on_error), and
#: the values an option takes when they are few
OPTIONS: dict[str, tuple[str, ...]] = {"ON_ERROR": ("on_error", "value")}
VALUES = {"on_error": ("continue", "fail"), "value": ("continue", "fail")}
#: stackql-deploy's anchors and their old names (deploy/anchors.py), accepted and ignored
ANCHORS = frozenset(
    {"EXISTS", "CREATE", "UPDATE", "CREATEORUPDATE", "STATECHECK", "EXPORTS", "DELETE"}
    | {"COMMAND", "PREFLIGHT", "POSTDEPLOY"}
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_EQUALS = re.compile(r"\s*=\s*")
_SEPARATORS = re.compile(r"[,\s]+")


class HintSyntaxError(ValueError):
    """A malformed ``/*+ ... */`` comment at ``offset`` in the scanned text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


def parse_hint_body(body: str, offset: int = 0) -> list[Hint]:
    """The hints of one comment body (the text between ``/*+`` and ``*/``)."""
    items = [i for i in _SEPARATORS.split(_EQUALS.sub("=", body.strip())) if i]
    if not items:
        raise HintSyntaxError("empty hint '/*+ */': write a hint name, e.g. /*+ AWAIT */", offset)
    hints: list[tuple[str, dict[str, str]]] = []
    for item in items:
        key, eq, value = item.partition("=")
        if not _NAME.match(key):
            raise HintSyntaxError(
                f"malformed hint item '{item}': expected NAME or name=value", offset
            )
        if not eq:
            hints.append((key.upper(), {}))
            continue
        if not value:
            raise HintSyntaxError(f"hint option '{key}' has no value: write {key}=<value>", offset)
        if not hints:
            hints.append((key.upper(), {}))
        if key.lower() in hints[-1][1]:  # the last one won: ON_ERROR=CONTINUE, ON_ERROR=FAIL
            raise HintSyntaxError(
                f"hint option '{key}' is given twice: keep the one you mean", offset
            )
        hints[-1][1][key.lower()] = value
    return [Hint(name, options) for name, options in hints]


def hints_in_gap(text: str, start: int, end: int) -> tuple[list[Hint], int | None, list[str]]:
    """Hints in ``text[start:end]`` (whitespace and comments only), the offset of the first hint
    comment (None when there is none), and each hint comment as sqlglot stores it (``"+ AWAIT "``:
    the text between ``/*`` and ``*/``), so that callers can drop them from the tree."""
    hints: list[Hint] = []
    first: int | None = None
    raw: list[str] = []
    i = start
    while i < end:
        if text.startswith("--", i):
            newline = text.find("\n", i, end)
            i = end if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2, end)
            close = end if close < 0 else close
            if text.startswith("/*+", i):
                found = parse_hint_body(text[i + 3 : close], i)
                for h in found:
                    _check_hint(h, text, i, close)
                hints.extend(found)
                raw.append(text[i + 2 : close])
                first = i if first is None else first
            i = close + 2
        else:
            i += 1
    return hints, first, raw


def _check_hint(h: Hint, text: str, start: int, end: int) -> None:
    """A HintSyntaxError at the word in ``text[start:end]`` for an unknown name or option."""

    def at(word: str) -> int:
        found = text.upper().find(word.upper(), start + 3, end)
        return found if found >= 0 else start

    if h.name in ANCHORS:  # deploy validates its anchors' options
        return
    if h.name not in HINTS:
        raise HintSyntaxError(
            f"unknown hint '{h.name}': the hints are {', '.join(sorted(HINTS))}",
            at(h.name),
            hint=did_you_mean(h.name, HINTS) or "a plain comment is written /* ... */, without '+'",
        )
    allowed = OPTIONS.get(h.name, ())
    if allowed and not h.options:  # a bare /*+ ON_ERROR */ meant CONTINUE, unsaid
        values = [v.upper() for v in VALUES[allowed[0]]]
        raise HintSyntaxError(
            f"hint {h.name} needs a value: {h.name}={' or '.join(values)}",
            at(h.name),
            hint=f"write /*+ {h.name}={values[0]} */ (or {h.name}={values[-1]})",
        )
    for key, value in h.options.items():
        if key not in allowed:
            takes = f"takes {', '.join(allowed)}" if allowed else "takes no options"
            raise HintSyntaxError(
                f"unknown option '{key}' of hint {h.name}: {h.name} {takes}",
                at(key),
                hint=did_you_mean(key, allowed)
                or f"a hint of its own has a comment of its own: /*+ {key.upper()}={value} */",
            )
        if key in VALUES and value.lower() not in VALUES[key]:
            raise HintSyntaxError(
                f"{h.name} value '{value}': the values are {', '.join(VALUES[key])}",
                at(value),
                hint=did_you_mean(value, VALUES[key]),
            )


__all__ = [
    "ANCHORS",
    "HINTS",
    "OPTIONS",
    "VALUES",
    "HintSyntaxError",
    "hints_in_gap",
    "parse_hint_body",
]
