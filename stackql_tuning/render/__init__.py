"""Output formats: ``render(result, fmt, out)`` writes a Result as table, json, jsonl, csv,
markdown or text.

Every renderer has the same signature (``Renderer``) and is found through ``RENDERERS``; the
value rules they share (JSON embedding, ISO-8601 UTC timestamps, float text, NULL) live in
``cell``. Renderers write rows to ``out`` only: progress, timing, messages and warnings of a
Result are the caller's to print, to stderr.

This package sits on top of ``Result``; nothing below it imports it, and it imports neither
DuckDB nor anything heavy (standard library and orjson only).
"""

from __future__ import annotations

from typing import Protocol, TextIO

from stackql_tuning.errors import Location, UsageError, did_you_mean
from stackql_tuning.render.delimited import render_csv
from stackql_tuning.render.markdown import render_markdown
from stackql_tuning.render.structured import render_json, render_jsonl
from stackql_tuning.render.table import render_table
from stackql_tuning.render.text import render_text
from stackql_tuning.result import Result


class Renderer(Protocol):
    def __call__(
        self, result: Result, out: TextIO, *, hide_headers: bool = False, width: int | None = None
    ) -> None: ...


RENDERERS: dict[str, Renderer] = {
    "table": render_table,
    "json": render_json,
    "jsonl": render_jsonl,
    "csv": render_csv,
    "markdown": render_markdown,
    "text": render_text,
}

#: the valid values of ``--output``, the default first
FORMATS: tuple[str, ...] = tuple(RENDERERS)

#: formats in which two results written one after the other need a blank line between them to
#: stay two (a Markdown table would take the next one's lines as rows of its own)
SEPARATED: frozenset[str] = frozenset({"markdown"})


def get_renderer(fmt: str) -> Renderer:
    """The renderer for ``fmt`` (case-insensitive); a UsageError naming the valid formats."""
    renderer = RENDERERS.get(fmt.strip().lower())
    if renderer is None:
        hint = did_you_mean(fmt, FORMATS)
        valid = "valid formats: " + ", ".join(FORMATS)
        raise UsageError(
            f"unknown output format {fmt!r}",
            location=Location(parameter="--output"),
            hint=f"{hint} ({valid})" if hint else valid,
        )
    return renderer


def render(
    result: Result,
    fmt: str,
    out: TextIO,
    *,
    hide_headers: bool = False,
    width: int | None = None,
) -> None:
    """Write the rows of ``result`` to ``out`` in format ``fmt``.

    ``hide_headers`` drops the header line of csv, text and table; ``width`` is the most cells a
    ``table`` line may take (default: the terminal's width). A result without rows to show
    (``has_rows`` false: DELETE, EXEC) writes nothing.
    """
    renderer = get_renderer(fmt)
    if result.has_rows:
        renderer(result, out, hide_headers=hide_headers, width=width)


__all__ = ["FORMATS", "RENDERERS", "SEPARATED", "Renderer", "get_renderer", "render"]
