"""Terminal display width of text: measuring, padding and truncating with an ellipsis.

East Asian wide and full-width characters take two cells, combining marks (Mn, Me) and
zero-width formatting characters (Cf) none, everything else one. Emoji sequences are measured
as terminals draw them: a character joined by a zero-width joiner (👨‍👩‍👧) and a skin-tone
modifier add nothing to the emoji before them, and VS16 (U+FE0F) makes it two cells wide;
truncation never splits such a sequence. Pure functions over ``str``;
this module writes nothing and imports only the standard library.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

ELLIPSIS = "…"


def char_width(ch: str) -> int:
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


_ZWJ, _VS16 = "\u200d", "\ufe0f"


def _is_modifier(ch: str) -> bool:
    return "\U0001f3fb" <= ch <= "\U0001f3ff"


def clusters(text: str) -> Iterator[tuple[str, int]]:
    """``text`` as the pieces a terminal draws as one (a character with the marks, joiners,
    modifiers and variation selectors after it), each with its width in cells."""
    piece, width, joined = "", 0, False
    for ch in text:
        # a joiner or modifier binds only emoji (two cells) to emoji: a space after a cut
        # sequence, or a modifier after a space, is measured as it stands in every context
        glued = (joined or _is_modifier(ch)) and width == 2 and char_width(ch) == 2
        if piece and (glued or char_width(ch) == 0):
            piece += ch
            if ch == _VS16 and width == 1 and not piece[0].isascii():
                width = 2
            joined = ch == _ZWJ and width == 2  # only emoji join (a\u200db is two cells)
            continue
        if piece:
            yield piece, width
        piece, width, joined = ch, char_width(ch), False
    if piece:
        yield piece, width


def display_width(text: str) -> int:
    """Cells ``text`` takes on a terminal."""
    if text.isascii():
        return len(text)
    return sum(w for _, w in clusters(text))


def truncate(text: str, width: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``width`` cells, ending in ``ellipsis`` (``…``) when anything was
    cut."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    mark = display_width(ellipsis)
    if width < mark:
        return ellipsis[:width]
    room = width - mark
    used = 0
    kept: list[str] = []
    for piece, w in clusters(text):
        if used + w > room:
            break
        kept.append(piece)
        used += w
    return "".join(kept) + ellipsis


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` cells, on the left when ``right`` aligns it."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
