"""Showing rendered results: straight to the output, or through ``$PAGER`` when they do not fit.

As pgcli does: when paging is on and the output is a terminal, text wider or taller than the
terminal goes through ``$STACKQL_TUNING_PAGER``, else ``$PAGER``, else ``less -SRXF`` (with
``LESS=-SRXF`` unless the user set ``LESS``). A pager that cannot start, one that exits with a
non-zero status (``PAGER=false``: the result was not shown) and one that cannot even be read as a
command (``less "x``) fall back to writing directly, with a warning naming the pager (once per
pager and reason, not at every result). The command is split with shlex and run without a shell.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from typing import IO

from stackql_tuning.render.output import is_terminal, write_text

DEFAULT_PAGER = "less -SRXF"


#: the pager settings already warned about (once each, not at every result)
_warned: set[str] = set()


class BadPager(ValueError):
    """A pager setting that is no command."""


def pager_setting() -> tuple[str, str]:
    """The variable the pager comes from (``STACKQL_TUNING_PAGER``, else ``PAGER``) and its
    text (the default pager when neither is set)."""
    name = "STACKQL_TUNING_PAGER" if os.environ.get("STACKQL_TUNING_PAGER") else "PAGER"
    return name, os.environ.get(name) or DEFAULT_PAGER


def pager_command() -> list[str]:
    """The pager to run, as an argument list (BadPager: the setting cannot be split into one)."""
    name, text = pager_setting()
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


def show(
    text: str, out: IO[str], *, paging: bool, warn: Callable[[str], None] | None = None
) -> None:
    """Write ``text`` to ``out``, through the pager when paging is on and it does not fit.
    ``warn``: told (once per pager and reason) when the pager setting is no command, the pager
    cannot start or it fails; the text is then written to ``out``."""
    if paging and is_terminal(out):
        size = shutil.get_terminal_size()
        if not fits(text, size.columns, size.lines):
            out.flush()
            try:
                failure = _run_pager(text)
            except BadPager as e:
                failure = str(e)
            if failure is None:
                return
            if warn is not None and failure not in _warned:
                _warned.add(failure)
                warn(f"warning: {failure}; writing results unpaged")
    write_text(out, text)  # in pieces: a reader that left (`| head`) is noticed
    out.flush()


def _run_pager(text: str) -> str | None:
    """Page ``text``; None when the pager showed it, else why it did not (naming the pager)."""
    argv = pager_command()
    name, setting = pager_setting()
    named = f"the pager {setting!r} (${name})" if os.environ.get(name) else f"the pager {setting!r}"
    env = dict(os.environ)
    env.setdefault("LESS", "-SRXF")
    try:
        done = subprocess.run(argv, input=text, text=True, env=env, check=False)
    except OSError as e:  # not found, not executable
        return f"{named} cannot start: {e.strerror or e}"
    except KeyboardInterrupt:  # the user left the pager with Ctrl-C: it was shown
        return None
    if done.returncode < 0:
        return f"{named} was ended by signal {-done.returncode}"
    if done.returncode:  # PAGER=false: nothing was shown
        return f"{named} exited with status {done.returncode}"
    return None
