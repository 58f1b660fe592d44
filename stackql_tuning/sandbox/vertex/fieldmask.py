"""Partial responses: the ``fields`` system parameter of Google's REST APIs, as the emulator
serves it.

The syntax (Google's "partial response" guide): comma-separated field names; ``a/b`` selects
``b`` inside ``a``; ``a(b,c)`` selects ``b`` and ``c`` inside ``a``; ``*`` every field at that
level. A selection inside a list applies to each of its elements. Fields a reply lacks are
simply absent; a malformed mask is an :class:`ApiError` (400 INVALID_ARGUMENT), as Google
answers it.

Must not: know routes, jobs or HTTP.
"""

from __future__ import annotations

import re
from typing import Any

from stackql_tuning.sandbox.vertex.errors import ApiError

#: a selection: field name -> its own selection (None: the whole field)
Mask = dict[str, "Mask | None"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\*")


def parse_mask(text: str) -> Mask:
    """The selection ``text`` describes (ApiError when it is not a field mask)."""
    mask, pos = _parse_list(text, 0)
    if pos != len(text):
        raise _invalid(text)
    return mask


def _parse_list(text: str, pos: int) -> tuple[Mask, int]:
    out: Mask = {}
    while True:
        pos = _parse_item(text, pos, out)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return out, pos


def _parse_item(text: str, pos: int, into: Mask) -> int:
    m = _NAME.match(text, pos)
    if m is None:
        raise _invalid(text)
    name, pos = m.group(0), m.end()
    sub: Mask | None = None
    if pos < len(text) and text[pos] == "/":
        sub = {}
        pos = _parse_item(text, pos + 1, sub)
    elif pos < len(text) and text[pos] == "(":
        sub, pos = _parse_list(text, pos + 1)
        if pos >= len(text) or text[pos] != ")":
            raise _invalid(text)
        pos += 1
    into[name] = _merge(into[name], sub) if name in into else sub
    return pos


def _merge(old: Mask | None, new: Mask | None) -> Mask | None:
    """Two selections of one field: the whole field wins, else their union."""
    if old is None or new is None:
        return None
    out = dict(old)
    for key, value in new.items():
        out[key] = _merge(out[key], value) if key in out else value
    return out


def apply_mask(value: Any, mask: Mask | None) -> Any:
    """``value`` with only what ``mask`` selects (lists: each element)."""
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply_mask(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        rest = mask["*"]
        return {k: apply_mask(v, mask.get(k, rest)) for k, v in value.items()}
    return {k: apply_mask(value[k], sub) for k, sub in mask.items() if k in value}


def _invalid(text: str) -> ApiError:
    return ApiError.invalid(f"Invalid field selection {text}", field="fields")
