"""The one error hierarchy of stackql-tuning.

Every failure a user can cause or meet (bad SQL, unbound parameters, provider replies, missing
credentials, broken manifests) is one of these classes. Each carries a message that says what
was wrong, an optional location (file, line, column, resource, parameter) and an optional hint
that says what would be right. The CLI prints ``str(error)`` and exits with ``error.exit_code``;
it never prints a traceback for these.

This module imports nothing but the standard library.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Location:
    """Where a problem is: any subset of file, line, column, resource, parameter."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    resource: str | None = None
    parameter: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            pos = self.file
            if self.line is not None:
                pos += f":{self.line}"
                if self.column is not None:
                    pos += f":{self.column}"
            parts.append(pos)
        elif self.line is not None:
            pos = f"line {self.line}"
            if self.column is not None:
                pos += f", column {self.column}"
            parts.append(pos)
        if self.resource:
            parts.append(self.resource)
        if self.parameter:
            parts.append(f"parameter {self.parameter}")
        return ", ".join(parts)


class StackqlTuningError(Exception):
    """Base of every user-facing error. ``exit_code`` is what the CLI exits with."""

    exit_code = 1
    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        hint: str | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.hint = hint
        self.excerpt = excerpt
        # DuckDB's caret, in the SQL it ran: the text before it and from it on (for the
        # statement's handler to find in the user's own text: sql/align.py)
        self.sql_spot: tuple[str, str] | None = None
        #: ``Session.execute_script``: the results of the statements that ran before it
        self.results: list[Any] = []
        #: what the failed statement did before it failed, as rows (a Result): a multi-row
        #: INSERT ... RETURNING that failed in part, the rows it created (the CLI prints them)
        self.partial: Any = None

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{self.kind}: {self.message}"
        if where:
            text = f"{self.kind} ({where}): {self.message}"
        if self.excerpt:
            text += "\n" + self.excerpt
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class UsageError(StackqlTuningError):
    """Wrong command-line usage (unknown flag value, missing argument)."""

    exit_code = 2
    kind = "usage error"


class ParseError(StackqlTuningError):
    """SQL text that the stackql dialect cannot parse."""

    kind = "parse error"


class PlanError(StackqlTuningError):
    """A statement that parses but cannot be planned: unknown names, unbound parameters."""

    kind = "plan error"


class QueryError(StackqlTuningError):
    """A statement that DuckDB could not run (a conversion error, a failed cast)."""

    kind = "query error"


class Cancelled(StackqlTuningError):
    """The user interrupted the running statement."""

    exit_code = 130
    kind = "cancelled"


class AuthError(StackqlTuningError):
    """Missing or unusable credentials for a provider."""

    kind = "auth error"


class ManifestError(StackqlTuningError):
    """A broken deployment manifest, .iql script or template variable."""

    kind = "manifest error"


class TemplateError(ManifestError):
    """A jinja error in an ``.iql`` script, inline SQL or a notebook cell (a ManifestError
    elsewhere: the same rendering, outside a manifest)."""

    kind = "template error"


class OutputError(StackqlTuningError):
    """The result could not be written (a full disk, an output file that went away)."""

    kind = "output error"


class OutputClosed(OutputError):
    """stdout was closed while a result was written (a reader that stopped early: ``| head``):
    nothing further runs, as no result of it could be shown. ``left``: what was then not run;
    when nothing was (the closed output was the last result's), the command ends quietly with
    exit code 0, else it says what was not run and exits 141 (128 + SIGPIPE, a closed pipe's
    status in the shell)."""

    exit_code = 141

    def __init__(
        self,
        message: str,
        *,
        left: bool,
        lines: list[int] | None = None,
        commands: list[int] | None = None,
    ) -> None:
        super().__init__(message)
        self.left = left
        #: the lines of the statements, and of the shell's meta commands, that were not run
        self.lines = list(lines or [])
        self.commands = list(commands or [])


class StatementTimeout(StackqlTuningError):
    """A statement or request that ran past its time limit."""

    kind = "timeout"


@dataclass
class FailedCall:
    """One provider call that failed: what was called, with which params, and why."""

    resource: str
    method: str
    params: dict[str, object]
    status: int | str | None
    message: str
    #: the API said the named resource does not exist
    not_found: bool = False
    #: the statement's row the call was for (a mutation's), when it had several
    row: int | None = None

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        status = f"{self.status}: " if self.status is not None else ""
        row = f"row {self.row}: " if self.row is not None else ""
        return f"{row}{self.resource}.{self.method}({args}): {status}{self.message}"


@dataclass
class _Failures:
    calls: list[FailedCall] = field(default_factory=list)


class ProviderError(StackqlTuningError):
    """A provider call (or several in a fan-out) failed, or replied with something unusable."""

    kind = "provider error"

    def __init__(
        self,
        message: str,
        *,
        failures: Iterable[FailedCall] = (),
        location: Location | None = None,
        hint: str | None = None,
    ) -> None:
        self.failures = list(failures)
        super().__init__(message, location=location, hint=hint)

    def __str__(self) -> str:
        text = super().__str__()
        if len(self.failures) > 1 or (self.failures and self.failures[0].message not in text):
            text += "".join(f"\n  - {f.describe()}" for f in self.failures)
        return text


class PartialResult(StackqlTuningError):
    """Rows were returned but some calls failed (``--on-error continue``): exit code 3."""

    exit_code = 3
    kind = "partial result"


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``name`` (case-insensitive), best first."""
    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    out = [lowered[h] for h in hits]
    if not out and len(name) >= 3:  # a letter or two is in too many names to be a hint
        out = [c for c in cands if name.lower() in c.lower() or c.lower() in name.lower()][:n]
    return out


def _quoted(text: str) -> str:
    """``text`` in single quotes as the user would type it (``'\\o'``, not repr's ``'\\\\o'``);
    repr only when it holds a quote or an unprintable character."""
    return f"'{text}'" if text.isprintable() and "'" not in text else repr(text)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean ...?' hint, or None when nothing is close."""
    hits = closest(name, candidates)
    if not hits:
        return None
    return "did you mean " + " or ".join(_quoted(h) for h in hits) + "?"
