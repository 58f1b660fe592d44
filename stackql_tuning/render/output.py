"""Writing results to the user's output: the rules ``exec`` and the shell share.

- :func:`table_width`: a table fits the terminal when the output is one (or COLUMNS is set);
  through a pipe or into a file it keeps its natural width (nothing is cut silently).
- :func:`writing`: an output that cannot be written (a full disk, a file that went away) is an
  :class:`~stackql_tuning.errors.OutputError`; a reader that stopped early (``| head``) stays a
  ``BrokenPipeError``, which the command ends on quietly.
- :func:`failure_report`: the lines (for stderr) that list the failed calls of a partial result
  (``--on-error continue``); a statement with failed calls makes the command exit 3.

Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stackql_tuning.errors import OutputError

#: the most cells of a table line when the output is not a terminal: in effect no limit
UNLIMITED_WIDTH = 1_000_000


def table_width(out: Any) -> int | None:
    """The ``width`` to render a table with for ``out``: None (the terminal's width) for a
    terminal or when COLUMNS is set; unlimited through a pipe or into a file."""
    isatty = getattr(out, "isatty", None)
    try:
        tty = bool(callable(isatty) and isatty())
    except ValueError:  # a closed stream
        tty = False
    if tty or os.environ.get("COLUMNS"):
        return None
    return UNLIMITED_WIDTH


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


def failure_report(result: Any) -> list[str]:
    """``N call(s) failed[; the rows that arrived are shown]:`` then ``  - call: why`` per
    failed call of ``result``; no lines when no call failed."""
    failures = list(getattr(result, "failures", None) or [])
    if not failures:
        return []
    shown = "; the rows that arrived are shown" if getattr(result, "has_rows", True) else ""
    return [f"{len(failures)} call(s) failed{shown}:"] + [f"  - {f.describe()}" for f in failures]
