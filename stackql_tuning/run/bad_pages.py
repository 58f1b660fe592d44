"""Pages that a load could not read: finding them and leaving them out.

A failed ``read_json`` of a batch of page lines says little about which page broke it: a line
that is not JSON runs into the next one, and a value of the wrong type is reported by an item
count ("line N") that is no line of the file. :func:`bad_lines` finds every page line that is
not a JSON object (bad UTF-8, bad JSON, a repeated key), else every line DuckDB cannot read on
its own (``probe``); :func:`drop_lines` rewrites the files without them and returns their calls
as failed, so that ``--on-error`` decides as for any failed call. Error path only: decoding and
one read per page are fine here.

Must not: run SQL itself (``probe`` does), or touch a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from stackql_tuning.errors import FailedCall

if TYPE_CHECKING:
    from stackql_tuning.run.store import PageFile

#: how many times a load drops the pages it failed on and tries the rest again
MAX_REPAIRS = 5


def detail(text: str) -> str:
    """DuckDB's error text without its class name and our temporary file's path."""
    text = re.sub(r"^[A-Za-z ]+Error: ", "", text)
    text = re.sub(r"^JSON transform error in line \d+: ", "", text)  # an item's count
    return re.sub(r'in file "[^"]*", ', "", text)


def _why_bad(line: bytes) -> str | None:
    """Why one page line is not a JSON object DuckDB can read, or None when it is one."""
    import json

    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"the reply is not UTF-8 text (byte 0x{line[e.start]:02x})"
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return "the reply is not valid JSON"

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        repeated = next((k for k in keys if keys.count(k) > 1), None)
        if repeated is not None:
            raise ValueError(repeated)
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=no_repeats)
    except ValueError as e:
        return f"the reply repeats the key {str(e)[:60]!r}"
    return None


def bad_lines(
    files: list[PageFile], probe: Callable[[bytes], str | None]
) -> list[tuple[PageFile, int, str | None]]:
    """(file, 1-based line, why) of the page lines a failed load could not read: lines that
    are not JSON objects (bad UTF-8, bad JSON, a repeated key), else each line that ``probe``
    (DuckDB reading it alone) fails on: a value that does not convert to the API's type.
    DuckDB's own "line N" counts items, not lines: it named good pages. Error path only."""
    out: list[tuple[PageFile, int, str | None]] = []
    lines: list[tuple[PageFile, int, bytes]] = []
    for pages in files:
        try:
            with open(pages.path, "rb") as fh:
                for number, line in enumerate(fh, 1):
                    if number <= len(pages.origin):
                        lines.append((pages, number, line))
        except OSError:
            continue
    for pages, number, line in lines:
        why = _why_bad(line)
        if why is not None:
            out.append((pages, number, why))
    if out:
        return out
    for pages, number, line in lines:
        failed = probe(line)
        if failed is not None:
            out.append((pages, number, failed))
    return out


def drop_lines(bad: list[tuple[PageFile, int, str | None]]) -> list[FailedCall]:
    """Rewrite each file without its bad lines; the failed call of each line dropped."""
    failures: list[FailedCall] = []
    by_file: dict[int, tuple[PageFile, dict[int, str | None]]] = {}
    for pages, number, why in bad:
        by_file.setdefault(id(pages), (pages, {}))[1][number] = why
    for pages, numbers in by_file.values():
        kept: list[bytes] = []
        origin: list[Any] = []
        with open(pages.path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if number in numbers:
                    res, method, params = pages.origin[number - 1]
                    why = numbers[number] or "the reply does not fit the API's schema"
                    failures.append(FailedCall(res, method, params, "bad reply", why))
                elif number <= len(pages.origin):
                    kept.append(line)
                    origin.append(pages.origin[number - 1])
        with open(pages.path, "wb") as fh:
            fh.writelines(kept)
        pages.origin, pages.lines = origin, len(kept)
    return failures
