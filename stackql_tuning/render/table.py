"""The ``table`` format: a box like DuckDB's duckbox / psql, fitted to the terminal width.

Numbers are right-aligned, everything else left-aligned; NULL is an empty cell (as in psql).
When the natural width does not fit, the widest columns shrink first (evenly, down to a few
cells each; number columns only when nothing else can give) and cut cells end in ``…``;
lines never wrap. Control characters in cells are shown as escapes (``\\n``, ``\\t``,
``\\x1b``), except the line breaks of a ``verbatim`` result, whose cells take a line each.
An output whose encoding lacks the box-drawing characters (latin-1, cp1252, ascii) gets an
ASCII box (``+``, ``-``, ``|``, cut cells ending in ``...``), and characters the encoding lacks
are shown as backslash escapes. Only this format truncates.

This module lays out and writes text; it computes no cell values (see ``cell``).
"""

from __future__ import annotations

import shutil
from typing import TextIO

from stackql_tuning.render.cell import escape_controls, text_grid
from stackql_tuning.render.encoding import can_encode, encodable, limited_encoding
from stackql_tuning.render.output import write_text
from stackql_tuning.render.width import ELLIPSIS, display_width, pad, truncate
from stackql_tuning.result import Result

#: a shrunk column keeps at least this many cells (two characters and the ellipsis)
MIN_COLUMN_WIDTH = 3


def fit_widths(
    natural: list[int],
    budget: int,
    minimum: int = MIN_COLUMN_WIDTH,
    keep: list[bool] | None = None,
) -> list[int]:
    """Column widths summing to at most ``budget`` when possible.

    The widest columns shrink first, evenly, none below ``min(natural, minimum)``; columns
    flagged in ``keep`` (numbers: a cut number misleads) shrink only when the others cannot make
    room. When even the minimum widths do not fit, those are returned.
    """
    if sum(natural) <= budget:
        return list(natural)
    floors = [min(n, minimum) for n in natural]
    if keep is not None:
        kept = [n if k else f for n, f, k in zip(natural, floors, keep, strict=True)]
        if sum(kept) <= budget:
            floors = kept

    def widths_at(cap: int) -> list[int]:
        return [max(min(n, cap), f) for n, f in zip(natural, floors, strict=True)]

    low, high = minimum, max(natural)
    if sum(widths_at(low)) > budget:
        return widths_at(low)
    while low < high:  # the largest cap whose total fits
        mid = (low + high + 1) // 2
        if sum(widths_at(mid)) <= budget:
            low = mid
        else:
            high = mid - 1
    widths = widths_at(low)
    spare = budget - sum(widths)
    for i, n in enumerate(natural):  # hand out what is left, one cell each, left to right
        if spare <= 0:
            break
        if n > widths[i]:
            widths[i] += 1
            spare -= 1
    return widths


#: the box's characters: corners and joints top (3), middle (3), bottom (3), then the horizontal
#: and vertical lines, and the cut mark
_BOX = ("┌┬┐├┼┤└┴┘", "─", "│", ELLIPSIS)
#: for an output whose encoding lacks those (latin-1, cp1252, ascii)
_ASCII_BOX = ("+++++++++", "-", "|", "...")


def _line(joints: str, horizontal: str, widths: list[int]) -> str:
    left, mid, right = joints[0], joints[1], joints[2]
    return left + mid.join(horizontal * (w + 2) for w in widths) + right


def _row(cells: list[str], widths: list[int], right: list[bool], vertical: str, cut: str) -> str:
    parts = (
        " " + pad(truncate(c, w, ellipsis=cut), w, right=r) + " "
        for c, w, r in zip(cells, widths, right, strict=True)
    )
    return vertical + vertical.join(parts) + vertical


def render_table(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as a box, at most ``width`` cells wide (default: the terminal's)."""
    if not result.columns:
        return
    encoding = limited_encoding(out)
    box = _BOX if can_encode("".join(_BOX), encoding) else _ASCII_BOX
    joints, horizontal, vertical, cut = box

    def escape(text: str) -> str:
        return encodable(escape_controls(text), encoding)

    if result.verbatim:  # a line of the text per line of the box
        right, headers, cells = text_grid(result, lambda t: t)
        headers = [escape(h) for h in headers]
        body = [[escape(piece)] for row in cells for cell in row for piece in cell.split("\n")]
    else:
        right, headers, body = text_grid(result, escape)
    shown = body if hide_headers else [headers, *body]
    if not shown:
        return
    natural = [max(display_width(r[i]) for r in shown) for i in range(len(headers))]
    total = width if width is not None else shutil.get_terminal_size().columns
    widths = fit_widths(natural, total - (3 * len(headers) + 1), keep=right)
    lines = [_line(joints[0:3], horizontal, widths)]
    if not hide_headers:
        lines.append(_row(headers, widths, [False] * len(headers), vertical, cut))
        lines.append(_line(joints[3:6], horizontal, widths))
    lines.extend(_row(cells, widths, right, vertical, cut) for cells in body)
    lines.append(_line(joints[6:9], horizontal, widths))
    write_text(out, "\n".join(lines) + "\n")  # in pieces: a reader that left is noticed
