"""Splitting a resource ``.iql`` file into its anchored queries.

As in stackql-deploy, an anchor is a ``/*+ name[, option=value ...] */`` hint at the start of a
line; the query template follows it up to the next anchor. Anchors: ``exists``, ``create``,
``update``, ``createorupdate``, ``statecheck``, ``exports``, ``delete``, ``command`` (a
``type: command`` resource's statements, run on each build) (``preflight`` and
``postdeploy`` are stackql-deploy's old names for ``exists`` and ``statecheck``). Options:
``retries``, ``retry_delay``, ``postdelete_retries``, ``postdelete_retry_delay`` (integers).

Splitting is textual and happens before rendering, so each anchor is rendered with the context
of its moment (an ``exports`` value feeds a ``delete``). Each :class:`Anchor` remembers the
file line where its body starts, so that rendering and parse errors point into the file.

This module neither renders nor parses SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from stackql_tuning.errors import Location, ManifestError, did_you_mean
from stackql_tuning.textfile import read_text

ANCHORS = (
    "exists",
    "create",
    "update",
    "createorupdate",
    "statecheck",
    "exports",
    "delete",
    "command",
)
ALIASES = {"preflight": "exists", "postdeploy": "statecheck"}
OPTIONS = ("retries", "retry_delay", "postdelete_retries", "postdelete_retry_delay")
#: the largest value of each option (a delay of 10**20 s ended in an OverflowError)
OPTION_MAXIMUM = {
    "retries": 10_000,
    "retry_delay": 86_400,
    "postdelete_retries": 10_000,
    "postdelete_retry_delay": 86_400,
}

_COMMENTS = ("--", "/*", "*")
_ANCHOR_LINE = re.compile(r"^[ \t]*/\*\+(?P<body>.*?)\*/")


@dataclass(frozen=True)
class Anchor:
    """One anchored query template of a resource file."""

    name: str
    text: str
    file: str
    #: file line of the anchor comment, and of the first character of ``text``
    line: int
    body_line: int
    options: dict[str, int] = field(default_factory=dict)

    def option(self, name: str, default: int) -> int:
        return self.options.get(name, default)


def _parse_header(header: str, *, file: str, line: int) -> tuple[str, dict[str, int]]:
    parts = [p.strip() for p in header.split(",")]
    raw_name = parts[0].lower()
    name = ALIASES.get(raw_name, raw_name)
    if name not in ANCHORS:
        raise ManifestError(
            f"unknown anchor {parts[0]!r}; the anchors are {', '.join(ANCHORS)}",
            location=Location(file=file, line=line),
            hint=did_you_mean(raw_name, ANCHORS + tuple(ALIASES)),
        )
    options: dict[str, int] = {}
    for part in parts[1:]:
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in OPTIONS:
            raise ManifestError(
                f"unknown option {part!r} on anchor {name!r}; the options are "
                + ", ".join(f"{o}=N" for o in OPTIONS),
                location=Location(file=file, line=line),
                hint=did_you_mean(key, OPTIONS),
            )
        try:
            number = int(value.strip())
        except ValueError:
            number = -1
        if number < 0:
            raise ManifestError(
                f"option {key} of anchor {name!r} must be a whole number >= 0, got {value!r}",
                location=Location(file=file, line=line),
            )
        if number > OPTION_MAXIMUM[key]:
            raise ManifestError(
                f"option {key} of anchor {name!r} is {number}; at most {OPTION_MAXIMUM[key]}",
                location=Location(file=file, line=line),
                hint="retries count attempts, and delays are seconds",
            )
        options[key] = number
    return name, options


def split_anchors(text: str, *, file: str) -> dict[str, Anchor]:
    """The anchored queries of ``text`` by anchor name, in file order."""
    anchors: dict[str, Anchor] = {}
    lines = text.splitlines(keepends=True)
    current: tuple[str, dict[str, int], int] | None = None
    body: list[str] = []
    body_line = 1

    def close() -> None:
        if current is None:
            return
        name, options, line = current
        anchors[name] = Anchor(name, "".join(body), file, line, body_line, options)

    for index, raw in enumerate(lines, start=1):
        match = _ANCHOR_LINE.match(raw)
        if match is None:
            if current is None and raw.strip() and not raw.lstrip().startswith(_COMMENTS):
                raise ManifestError(
                    "query text before the first anchor",
                    location=Location(file=file, line=index),
                    hint="start each query with an anchor such as /*+ exists */ on its own line",
                )
            body.append(raw)
            continue
        close()
        name, options = _parse_header(match.group("body"), file=file, line=index)
        if name in anchors:
            raise ManifestError(
                f"anchor {name!r} appears twice (first on line {anchors[name].line})",
                location=Location(file=file, line=index),
            )
        current = (name, options, index)
        # the rest of the anchor's line belongs to the query; keep its columns
        rest = raw[match.end() :]
        body = [" " * match.end() + rest] if rest.strip() else []
        body_line = index if rest.strip() else index + 1
    close()
    return anchors


def load_anchors(path: Path, *, resource: str) -> dict[str, Anchor]:
    """Read and split a resource file; a clear error when it is missing."""
    try:
        text = read_text(path, error=ManifestError, resource=resource)
    except FileNotFoundError:
        raise ManifestError(
            f"resource {resource!r} has no query file {str(path)!r}",
            location=Location(file=str(path), resource=resource),
            hint="create it, or set 'file' on the resource in stackql_manifest.yml",
        ) from None
    except OSError as e:
        raise ManifestError(
            f"cannot read {str(path)!r}: {e.strerror}",
            location=Location(file=str(path), resource=resource),
        ) from None
    return split_anchors(text, file=str(path))
