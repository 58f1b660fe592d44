"""Terminal display width of text: measuring, padding and truncating with an ellipsis.

East Asian wide and full-width characters take two cells, combining marks (Mn, Me) and
zero-width formatting characters (Cf) none, everything else one. Pure functions over ``str``;
this module writes nothing and imports only the standard library.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"


def char_width(ch: str) -> int:
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Cells ``text`` takes on a terminal."""
    if text.isascii():
        return len(text)
    return sum(char_width(ch) for ch in text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in ``…`` when anything was cut."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    room = width - 1
    used = 0
    kept: list[str] = []
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        kept.append(ch)
        used += w
    return "".join(kept) + ELLIPSIS


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` cells, on the left when ``right`` aligns it."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
