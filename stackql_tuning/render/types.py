"""DuckDB type names read as a tree: where JSON or FLOAT sits inside a LIST, STRUCT or MAP.

``parse_type("STRUCT(a JSON, \\"b c\\" FLOAT[])")`` is a STRUCT node with the fields ``a``
(JSON) and ``b c`` (a LIST of FLOAT). Only what the renderers need is read: containers and the
base name of every other type (``DECIMAL(18,3)`` is ``DECIMAL``, ``ENUM('a', 'b')`` is
``ENUM``). A name that does not read as a container is a scalar of that name, never an error.

Pure functions over ``str``, standard library only; this module writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: a LIST (``X[]``) or fixed-size ARRAY (``X[3]``) suffix
_LIST_SUFFIX = re.compile(r"\[\d*\]\s*$")
#: the scalar types whose values the renderers treat by type, not by Python value
SINGLE_FLOAT = frozenset({"FLOAT", "REAL", "FLOAT4"})
_MARKED = SINGLE_FLOAT | {"JSON"}


@dataclass(frozen=True)
class DuckType:
    #: the upper-case base name: LIST, STRUCT, MAP, UNION, or a scalar's (JSON, FLOAT, DECIMAL)
    name: str
    #: LIST: ``(("", element),)``; MAP: ``(("key", k), ("value", v))``; STRUCT / UNION: fields
    fields: tuple[tuple[str, DuckType], ...] = ()

    def field(self, name: str) -> DuckType | None:
        for key, t in self.fields:
            if key == name:
                return t
        return None

    @property
    def nested_marked(self) -> bool:
        """Whether a JSON or single-precision FLOAT sits anywhere inside this container."""
        return _nested_marked(self)


@lru_cache(maxsize=1024)
def _nested_marked(t: DuckType) -> bool:
    return any(f.name in _MARKED or _nested_marked(f) for _, f in t.fields)


@lru_cache(maxsize=1024)
def parse_type(text: str) -> DuckType:
    """The tree of DuckDB type name ``text`` (as ``str(relation.types[i])`` prints it)."""
    text = text.strip()
    suffix = _LIST_SUFFIX.search(text)
    if suffix is not None and suffix.start() > 0:
        return DuckType("LIST", (("", parse_type(text[: suffix.start()])),))
    head, paren, _ = text.partition("(")
    base = head.strip().upper()
    if not paren or not text.endswith(")"):
        return DuckType(base)
    parts = _split_top(text[len(head) + 1 : -1])
    if base in ("STRUCT", "UNION"):
        return DuckType(base, tuple(_named(p) for p in parts))
    if base == "MAP" and len(parts) == 2:
        return DuckType(base, (("key", parse_type(parts[0])), ("value", parse_type(parts[1]))))
    return DuckType(base)


def _split_top(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""  # a doubled quote closes and reopens: the same outcome
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _named(part: str) -> tuple[str, DuckType]:
    """A STRUCT or UNION field ``name TYPE``, the name maybe double-quoted (``"b c" INT``)."""
    if part.startswith('"'):
        end = 1
        while True:
            end = part.find('"', end)
            if end < 0:
                return part, DuckType("")
            if part[end + 1 : end + 2] != '"':
                break
            end += 2
        return part[1:end].replace('""', '"'), parse_type(part[end + 1 :])
    name, _, rest = part.partition(" ")
    return name, parse_type(rest)
