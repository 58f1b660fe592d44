"""The ``markdown`` format: a GitHub-flavoured Markdown table.

Columns are padded to a common width so the source reads as a table too; number columns are
right-aligned (``---:``). In cells, ``|`` is escaped as ``\\|``, a newline becomes ``<br>`` and
other control characters are shown as escapes (and characters the output's encoding lacks, as
backslash escapes). NULL is an empty cell. The header row is always
written (a Markdown table needs one), so ``hide_headers`` does not apply. Nothing is truncated.

This module writes Markdown only; it computes no cell values itself.
"""

from __future__ import annotations

import re
from typing import TextIO

from stackql_tuning.render.cell import escape_controls, text_grid
from stackql_tuning.render.encoding import encodable, limited_encoding
from stackql_tuning.render.output import write_text
from stackql_tuning.render.width import display_width, pad
from stackql_tuning.result import Result

_CELL_ESCAPES = {10: "<br>", 13: "<br>"}
#: a pipe and the backslashes before it: ``a\\|b`` must keep its backslash, so each one
#: before a pipe is doubled (GitHub reads ``\\\\`` as one) and the pipe escaped
_PIPE = re.compile(r"(\\*)\|")


def escape_cell(text: str) -> str:
    """One cell's text for a table row: pipes escaped, each line break (LF, CRLF or a lone
    CR, which once vanished) a ``<br>``, other controls as escapes."""
    text = _PIPE.sub(lambda m: m.group(1) * 2 + "\\|", text.replace("\r\n", "\n"))
    return escape_controls(text, _CELL_ESCAPES)


def render_markdown(
    result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
) -> None:
    """Write ``result`` as a Markdown table."""
    if not result.columns:
        return
    encoding = limited_encoding(out)
    right, headers, body = text_grid(result, lambda t: encodable(escape_cell(t), encoding))
    widths = [max(3, *(display_width(r[i]) for r in [headers, *body])) for i in range(len(headers))]
    rule = ["-" * (w - 1) + ":" if r else "-" * w for w, r in zip(widths, right, strict=True)]

    def line(cells: list[str], align: list[bool]) -> str:
        padded = (pad(c, w, right=a) for c, w, a in zip(cells, widths, align, strict=True))
        return "| " + " | ".join(padded) + " |"

    lines = [line(headers, [False] * len(headers)), line(rule, [False] * len(rule))]
    lines.extend(line(cells, right) for cells in body)
    write_text(out, "\n".join(lines) + "\n")  # in pieces: a reader that left is noticed
