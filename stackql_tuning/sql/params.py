"""Query parameters: values bound to ``?``, ``$1`` or ``$name`` as SQL literals, before parsing.

``bind(text, params)`` puts each value in place of its placeholder as a literal of its type
(a string quoted with its quotes doubled, a number (a float as a DOUBLE), NULL, TRUE/FALSE,
``DATE``/``TIMESTAMP``/``TIMESTAMPTZ``/``TIME`` of its ISO text), so that a value never
becomes SQL: ``region = ?`` with ``"us-east-1' OR '1'='1"`` compares the region with that
whole text. Literals are what the planner binds
provider parameters from (``region = 'us-east-1'`` makes the call), which DuckDB's own
prepared parameters would not give it. Placeholders are found by the dialect's tokenizer: a
``?`` inside a string, a quoted name or a comment is text.

Pure text in, text out: must not parse statements or run anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlglot.tokens import TokenType

from stackql_tuning.errors import Location, UsageError
from stackql_tuning.sql.locate import line_col
from stackql_tuning.textfile import SURROGATE_HINT, lone_surrogate

#: what ``params`` may be: values for ``?`` / ``$1`` in order, or for ``$name`` by name
Params = Sequence[Any] | Mapping[str, Any]


def literal(value: Any) -> str:
    """``value`` as a SQL literal of its type; a UsageError for a value that has none."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(
                f"a parameter is {value!r}, which SQL has no literal for",
                hint="pass a finite number, or write the value in the SQL ('inf'::DOUBLE)",
            )
        text = repr(value)
        # DuckDB reads 0.1 as a DECIMAL; with an exponent it is a DOUBLE, as the value is
        return text if "e" in text else f"{text}e0"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise UsageError(f"a parameter is {value!r}, which SQL has no literal for")
        return str(value)
    if isinstance(value, datetime):  # before date: a datetime is a date too
        kind = "TIMESTAMP" if value.tzinfo is None else "TIMESTAMPTZ"
        return f"{kind} {_quoted(value.isoformat())}"
    if isinstance(value, date):
        return f"DATE {_quoted(value.isoformat())}"
    if isinstance(value, time):
        return f"TIME {_quoted(value.isoformat())}"
    if isinstance(value, str):
        return _quoted(value)
    what = type(value).__name__
    if isinstance(value, dict):
        hint = "for a JSON column (a body field such as studySpec), pass json.dumps(value)"
    elif isinstance(value, (list, tuple, set, frozenset)):
        hint = (
            "a parameter is one value: for IN, write IN (?, ?) and pass each value; for a "
            "JSON array, pass json.dumps(value)"
        )
    else:
        hint = "pass a str, int, float, Decimal, bool, date, datetime or None"
    raise UsageError(f"a parameter of type {what} has no SQL literal", hint=hint)


def _quoted(text: str) -> str:
    if "\x00" in text:
        raise UsageError("a parameter holds a NUL character, which SQL text cannot carry")
    return "'" + text.replace("'", "''") + "'"


def bind(text: str, params: Params | None, *, source: str | None = None) -> str:
    """``text`` with each placeholder replaced by its parameter's literal. ``params``: a
    sequence for ``?`` (in order) or ``$1``, ``$2`` (by number), a mapping for ``$name``.
    Without placeholders and without ``params`` the text is returned as it is; a count or a
    name that does not match is a UsageError naming the placeholder."""
    from stackql_tuning.sql.parser import tokenize

    tokens = tokenize(text, source)
    spots: list[tuple[int, int, str | int | None]] = []  # (start, end, key) per placeholder
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.PLACEHOLDER and token.text == "?":
            spots.append((token.start, token.end, None))
        elif token.token_type == TokenType.PARAMETER and i + 1 < len(tokens):
            after = tokens[i + 1]
            if after.start != token.end + 1:
                continue
            if after.token_type == TokenType.NUMBER and after.text.isdigit():
                spots.append((token.start, after.end, int(after.text)))
            elif after.token_type == TokenType.VAR:
                spots.append((token.start, after.end, after.text))
    if params is None:
        if spots:
            raise _at(text, spots[0][0], source, "the SQL has a placeholder, but no values")
        return text
    kinds = {type(key) for _, _, key in spots}
    if len(kinds) > 1:
        raise _at(text, spots[0][0], source, "the SQL mixes ?, $1 and $name placeholders")
    named = isinstance(params, Mapping)
    out, last, used = [], 0, set()
    for n, (start, end, key) in enumerate(spots, start=1):
        if isinstance(key, str):
            if not named:
                raise _at(text, start, source, f"${key} needs values by name (a mapping)")
            assert isinstance(params, Mapping)
            if key not in params:
                raise _at(text, start, source, f"no value for ${key}")
            value = params[key]
        else:
            if named or isinstance(params, (str, bytes)):
                raise _at(text, start, source, "? and $1 need values in order (a list or tuple)")
            assert isinstance(params, Sequence)
            index = n if key is None else key
            if not 1 <= index <= len(params):
                raise _at(
                    text,
                    start,
                    source,
                    f"placeholder {'?' if key is None else f'${key}'} has no value: "
                    f"{len(params)} given",
                )
            value = params[index - 1]
        used.add(key if key is not None else n)
        if isinstance(value, str):
            _check_unicode(value, text, start, source, key, n)
        out.append(text[last:start])
        out.append(literal(value))
        last = end + 1
    out.append(text[last:])
    _check_all_used(params, spots, used)
    return "".join(out)


def _check_all_used(params: Params, spots: list[tuple[int, int, Any]], used: set[Any]) -> None:
    """A value no placeholder takes is a mistake (a placeholder forgotten in the SQL)."""
    if isinstance(params, Mapping):
        left = [k for k in params if k not in used]
        if left:
            raise UsageError(
                f"no placeholder takes {', '.join('$' + str(k) for k in left)}",
                hint="each value needs its $name in the SQL",
            )
    elif isinstance(params, Sequence):
        n = len(spots) if all(k is None for _, _, k in spots) else max(used, default=0)
        if len(params) > n:
            raise UsageError(
                f"{len(params)} values given for {n} placeholder{'s' if n != 1 else ''}",
                hint="pass one value per ? (or per $1, $2, ...)",
            )


def _check_unicode(
    value: str, text: str, offset: int, source: str | None, key: str | int | None, n: int
) -> None:
    """A UsageError naming the placeholder whose value holds a lone surrogate (DuckDB said
    "Python Conversion Failure: cannot encode str as UTF-8")."""
    at = lone_surrogate(value)
    if at is None:
        return
    name = f"${key}" if key is not None else f"parameter {n} (?)"
    line, column = line_col(text, offset)
    raise UsageError(
        f"the value of {name} is not text: it holds a lone surrogate {value[at]!a} at "
        f"character {at + 1}",
        location=Location(file=source, line=line, column=column),
        hint=SURROGATE_HINT,
    )


def _at(text: str, offset: int, source: str | None, message: str) -> UsageError:
    line, column = line_col(text, offset)
    return UsageError(message, location=Location(file=source, line=line, column=column))


__all__ = ["Params", "bind", "literal"]
