"""Showing rendered results: straight to the output, or through ``$PAGER`` when they do not fit.

As pgcli does: when paging is on and the output is a terminal, text wider or taller than the
terminal goes through ``$STACKQL_TUNING_PAGER``, else ``$PAGER``, else ``less -SRXF`` (with
``LESS=-SRXF`` unless the user set ``LESS``). A pager that cannot start falls back to writing
directly. The command is split with shlex and run without a shell.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from typing import IO

DEFAULT_PAGER = "less -SRXF"


def pager_command() -> list[str]:
    """The pager to run, as an argument list."""
    text = os.environ.get("STACKQL_TUNING_PAGER") or os.environ.get("PAGER") or DEFAULT_PAGER
    return shlex.split(text)


def fits(text: str, columns: int, lines: int) -> bool:
    """True when ``text`` fits a terminal of ``columns`` x ``lines`` (leaving room for a prompt)."""
    rows = text.splitlines()
    if len(rows) > max(1, lines - 2):
        return False
    return all(len(r) <= columns for r in rows)


def _is_tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def show(text: str, out: IO[str], *, paging: bool) -> None:
    """Write ``text`` to ``out``, through the pager when paging is on and it does not fit."""
    if paging and _is_tty(out):
        size = shutil.get_terminal_size()
        if not fits(text, size.columns, size.lines):
            out.flush()
            if _run_pager(text):
                return
    out.write(text)
    out.flush()


def _run_pager(text: str) -> bool:
    env = dict(os.environ)
    env.setdefault("LESS", "-SRXF")
    try:
        subprocess.run(pager_command(), input=text, text=True, env=env, check=False)
    except OSError:
        return False
    except KeyboardInterrupt:
        return True
    return True
