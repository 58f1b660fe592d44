"""Showing rendered results: straight to the output, or through ``$PAGER`` when they do not fit.

As pgcli does: when paging is on and the output is a terminal, text wider or taller than the
terminal goes through ``$STACKQL_TUNING_PAGER``, else ``$PAGER``, else ``less -SRXF`` (with
``LESS=-SRXF`` unless the user set ``LESS``). A pager that cannot start falls back to writing
directly; one that cannot even be read as a command (``less "x``) does too, with a warning.
The command is split with shlex and run without a shell.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from typing import IO

DEFAULT_PAGER = "less -SRXF"


#: the pager settings already warned about (once each, not at every result)
_warned: set[str] = set()


class BadPager(ValueError):
    """A pager setting that is no command."""


def pager_command() -> list[str]:
    """The pager to run, as an argument list (BadPager: the setting cannot be split into one)."""
    name = "STACKQL_TUNING_PAGER" if os.environ.get("STACKQL_TUNING_PAGER") else "PAGER"
    text = os.environ.get(name) or DEFAULT_PAGER
    try:
        argv = shlex.split(text)
    except ValueError as e:  # an unclosed quote, a trailing escape
        raise BadPager(f"${name} is not a command ({e}): {text!r}") from None
    if not argv:
        raise BadPager(f"${name} is empty: {text!r}")
    return argv


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


def show(
    text: str, out: IO[str], *, paging: bool, warn: Callable[[str], None] | None = None
) -> None:
    """Write ``text`` to ``out``, through the pager when paging is on and it does not fit.
    ``warn``: told (once per setting) when the pager setting is no command."""
    if paging and _is_tty(out):
        size = shutil.get_terminal_size()
        if not fits(text, size.columns, size.lines):
            out.flush()
            try:
                if _run_pager(text):
                    return
            except BadPager as e:
                if warn is not None and str(e) not in _warned:
                    _warned.add(str(e))
                    warn(f"warning: {e}; writing results unpaged")
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
