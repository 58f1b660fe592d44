"""Output streams that cannot encode every character (``PYTHONIOENCODING=latin-1``, a C locale).

The renderers ask :func:`limited_encoding` once per result; for a UTF-8 (or any UTF) stream, or
one that names no encoding (``io.StringIO``), it is None and nothing here runs. Otherwise JSON
is written ASCII-only (``\\u6f22``: still valid JSON, and lossless) and text formats write what
the encoding lacks as backslash escapes (``\\u6f22``), before they measure widths, so a table
keeps its columns aligned.

Standard library only; this module writes nothing.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def limited_encoding(out: Any) -> str | None:
    """The codec name of ``out`` when it cannot encode every character; None for UTF-8 (any
    UTF), for a stream without an encoding, or for a codec Python does not know."""
    encoding = getattr(out, "encoding", None)
    if not isinstance(encoding, str):
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    return None if name.startswith("utf") else name


def can_encode(text: str, encoding: str | None) -> bool:
    """Whether every character of ``text`` can be written in ``encoding`` (None: UTF)."""
    if encoding is None:
        return True
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def encodable(text: str, encoding: str | None) -> str:
    """``text`` with the characters ``encoding`` lacks as backslash escapes (``\\xe9``,
    ``\\u6f22``, ``\\U0001f600``); ``text`` itself when ``encoding`` is None."""
    if encoding is None or text.isascii():
        return text
    return text.encode(encoding, "backslashreplace").decode(encoding)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def ascii_json(text: str) -> str:
    """JSON ``text`` with every non-ASCII character as a ``\\uXXXX`` escape (a surrogate pair
    beyond the BMP), as ``json.dumps(ensure_ascii=True)`` writes it. Outside strings JSON
    holds only ASCII, so the text stays the same JSON value."""
    return text if text.isascii() else _NON_ASCII.sub(_escape, text)
