"""Writing results to the user's output: the rules ``exec`` and the shell share.

- :func:`is_terminal`: whether a stream is a terminal.
- :func:`table_width`: a table fits the terminal when the output is one (or COLUMNS is set);
  through a pipe or into a file it keeps its natural width (nothing is cut silently).
- :func:`write_text`: a large text written in pieces, so that a reader that left is noticed.
- :func:`writing`: an output that cannot be written (a full disk, a file that went away) is an
  :class:`~stackql_tuning.errors.OutputError`; a reader that stopped early (``| head``) stays a
  ``BrokenPipeError``, which the command turns into :func:`output_closed`.
- :func:`standard_output`: the process's stdout as results are written to it: a closed one
  (``>&-``) writes nothing and fails as a full disk does (an output error), and one whose
  encoding is not UTF-8 writes what it lacks as backslash escapes instead of failing.
- :func:`output_closed`: the error a closed output (``| head``) ends a command with: what was
  then not run (exec and the shell stop at once: a further result could not be shown).
- :func:`failure_report`: the lines (for stderr) that list the failed calls of a partial result
  (``--on-error continue``); a statement with failed calls makes the command exit 3.

Standard library only.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from stackql_tuning.errors import OutputClosed, OutputError

#: the most cells of a table line when the output is not a terminal: in effect no limit
UNLIMITED_WIDTH = 1_000_000


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (a stream without ``isatty``, or a closed one, is not)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(callable(isatty) and isatty())
    except ValueError:  # a closed stream
        return False


def table_width(out: Any) -> int | None:
    """The ``width`` to render a table with for ``out``: None (the terminal's width) for a
    terminal or when COLUMNS is set; unlimited through a pipe or into a file."""
    if is_terminal(out) or os.environ.get("COLUMNS"):
        return None
    return UNLIMITED_WIDTH


#: the most characters handed to one ``write`` of a result (see :func:`write_text`)
WRITE_CHUNK = 64 * 1024


def write_text(out: Any, text: str) -> None:
    """Write ``text`` to ``out`` in pieces of at most :data:`WRITE_CHUNK` characters. One large
    write to a pipe whose reader leaves half-way (``| head``) was cut short without an error
    (CPython's buffered writer took the pipe's partial write as the end of it): no
    BrokenPipeError, and the statements after it ran; a later piece raises it."""
    for start in range(0, len(text), WRITE_CHUNK):
        out.write(text[start : start + WRITE_CHUNK])


@contextmanager
def writing() -> Iterator[None]:
    """Turn an OSError raised while writing a result into an OutputError (BrokenPipeError
    passes: a reader that stopped early is not an error)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as e:  # the output's own problem, not ours: say so, not "internal error"
        raise OutputError(
            f"cannot write the result: {e.strerror or e}",
            hint="check the disk or the file that the output goes to",
        ) from None


class ClosedOutput:
    """What stands for a standard stream the process was started without (``>&-``): writing
    to it raises the OSError a closed descriptor gives (EBADF), which :func:`writing` makes an
    output error; flushing is nothing to do."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Discard(ClosedOutput):
    """A closed stderr: messages have nowhere to go, and are dropped (never sent to stdout)."""

    def write(self, text: str) -> int:
        return len(text)


def standard_output() -> Any:
    """``sys.stdout`` for results: a :class:`ClosedOutput` when there is none, and set to write
    characters its encoding lacks (``PYTHONIOENCODING=latin-1``) as backslash escapes."""
    stream = sys.stdout
    if stream is None:
        return ClosedOutput()
    from stackql_tuning.render.encoding import limited_encoding

    reconfigure = getattr(stream, "reconfigure", None)
    if limited_encoding(stream) is not None and callable(reconfigure):
        with suppress(ValueError, OSError):  # closed, or not a text stream after all
            reconfigure(errors="backslashreplace")
    return stream


def standard_error() -> Any:
    """``sys.stderr``, or a :class:`Discard` when there is none (``2>&-``)."""
    return sys.stderr if sys.stderr is not None else Discard()


def failure_report(result: Any) -> list[str]:
    """``N call(s) failed[; the rows that arrived are shown]:`` then ``  - call: why`` per
    failed call of ``result``; no lines when no call failed."""
    failures = list(getattr(result, "failures", None) or [])
    if not failures:
        return []
    shown = "; the rows that arrived are shown" if getattr(result, "has_rows", True) else ""
    return [f"{len(failures)} call(s) failed{shown}:"] + [f"  - {f.describe()}" for f in failures]


def output_closed(
    lines: list[int], *, commands: list[int] | None = None, ending: str | None = None
) -> OutputClosed:
    """The OutputClosed a closed stdout ends a command with: ``lines`` are those of the
    statements that were then not run, ``commands`` those of the shell's meta commands not run;
    ``ending`` says what else stops (the interactive shell). Nothing left: a quiet error."""
    commands = commands or []
    parts = []
    if lines:
        parts.append(f"{len(lines)} statement{'s' if len(lines) > 1 else ''}")
    if commands:
        parts.append(f"{len(commands)} meta command{'s' if len(commands) > 1 else ''}")
    said = ""
    if parts:
        numbers = sorted(set(lines + commands))  # several on one line: that line once
        shown = ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")
        many = len(lines) + len(commands) > 1
        said = (
            f": {' and '.join(parts)} {'were' if many else 'was'} not run "
            f"(line{'s' if len(numbers) > 1 else ''} {shown})"
        )
    if ending:
        said += f"; {ending}"
    return OutputClosed(
        f"stdout was closed (its reader stopped early){said}",
        left=bool(parts or ending),
        lines=lines,
        commands=commands,
    )
