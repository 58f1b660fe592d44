"""The interactive shell (``stackql-tuning shell``): entry point :func:`run_shell`.

Interactive when stdin is a terminal (prompt_toolkit REPL, see :mod:`.repl`); otherwise the
whole of stdin runs as a script without prompts and the first error ends it with a non-zero
exit code. The shell sits on top of :class:`~stackql_tuning.session.Session`; nothing below
imports it. prompt_toolkit is imported only for the interactive mode.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.render.output import is_terminal
from stackql_tuning.shell.runner import Shell, ShellState
from stackql_tuning.textfile import BOM, decode, lone_surrogate

#: the name errors give a script on stdin (as exec -f - names it)
STDIN = "<stdin>"


def run_shell(
    session: Any,
    *,
    output: str = "table",
    hide_headers: bool = False,
    history_file: Path | None = None,
    pager: bool | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """Run the shell over ``session``; return the process exit code.

    ``pager``: None pages wide/long results when stdout is a terminal; False never pages.
    ``hide_headers``: no header line in csv, text and table output (``--hide-headers``).
    ``variables``: the template variables (``--var``, ``--vars-file``) of ``\\i`` files and of
    a script on stdin, which are rendered as ``exec -f`` renders its script.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    state = ShellState(output=output, hide_headers=hide_headers, pager=pager is not False)
    shell = Shell(session, out=stdout, err=stderr, state=state, variables=variables)
    if not is_terminal(stdin):  # a script piped in: a template, as `exec -f -` takes it
        try:
            text = read_script(stdin)
        except StackqlTuningError as e:  # not UTF-8: as `exec -f -` says it
            shell.error(str(e))
            return e.exit_code
        return run_template(shell, text)
    from stackql_tuning.shell.repl import run_repl

    return run_repl(shell, session.registry, history_file=history_file)


def read_script(stdin: IO[str]) -> str:
    """The script on ``stdin``, read as ``exec -f -`` reads it: its bytes as UTF-8 without a
    BOM, else a UsageError naming the byte (a locale's surrogate escapes, or a strict decoder's
    exception, were a DuckDB "conversion failure" or an internal error)."""
    raw = getattr(stdin, "buffer", None)
    if raw is not None:
        return decode(raw.read(), file=STDIN)
    text = stdin.read()  # a text stream (tests): its surrogate escapes are the bytes it had
    if lone_surrogate(text) is not None:
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate no byte gave
            data = text.encode("utf-8", "surrogatepass")
        return decode(data, file=STDIN)
    return text.removeprefix(BOM)


def run_batch(shell: Shell, text: str, *, source: str | None = None) -> int:
    """Run ``text`` (statements and meta commands) without prompts; stop at the first error."""
    return shell.handle(text, source=source)


def run_template(shell: Shell, text: str) -> int:
    """Render the script ``text`` (stdin's) with the shell's variables, then :func:`run_batch`
    it; an error of the template is printed as the shell prints any error."""
    from stackql_tuning.shell.script import render

    try:
        text, source = render(text, variables=shell.variables, source=None)
    except StackqlTuningError as e:
        shell.error(str(e))
        return e.exit_code
    return run_batch(shell, text, source=source)


__all__ = ["Shell", "ShellState", "run_batch", "run_shell", "run_template"]
