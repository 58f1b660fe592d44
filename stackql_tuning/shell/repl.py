"""The interactive loop: a prompt_toolkit ``PromptSession`` in front of a :class:`Shell`.

Multi-line input that is submitted on Enter only when the buffer is a complete statement
(ends with ``;`` outside quotes and comments), a meta command, or empty; Alt-Enter submits
anyway. Persistent file history, auto-suggest from history, threaded completion, SQL
highlighting (pygments, when installed) and a bottom toolbar with the shell's switches.
Ctrl-C at the prompt clears the buffer; Ctrl-D on an empty buffer exits. The prompt is drawn
on stdout, or on stderr when only stderr is a terminal (``shell > out.txt``).

Everything that runs statements is in :mod:`stackql_tuning.shell.runner`; this module only
reads input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application.current import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import ThreadedCompleter
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from stackql_tuning.errors import OutputClosed
from stackql_tuning.render.output import is_terminal, output_closed
from stackql_tuning.shell.completer import StackqlCompleter
from stackql_tuning.shell.lexing import is_complete
from stackql_tuning.shell.meta import parse_meta
from stackql_tuning.shell.runner import Shell

PROMPT = "stackql-tuning> "


def history_path() -> Path:
    """``$XDG_DATA_HOME/stackql-tuning/history``, else ``~/.local/share/stackql-tuning/history``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "stackql-tuning" / "history"


def open_history(path: Path | None, shell: Shell) -> History:
    """A FileHistory at ``path`` (dirs created); in-memory history if the file cannot be used."""
    target = path if path is not None else history_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # read and appended to, as FileHistory does (a directory, an unreadable file: fail here)
        with open(target, "ab+"):
            pass
    except OSError as e:
        shell.info(f"warning: history not saved ({target}: {e.strerror or e})")
        return InMemoryHistory()
    return FileHistory(str(target))


def should_submit(text: str) -> bool:
    """Enter submits an empty buffer, a meta command, or complete SQL; else it adds a line."""
    if not text.strip():
        return True
    if "\n" not in text.strip() and parse_meta(text) is not None:
        return True
    return is_complete(text)


def _lexer() -> Any:
    try:
        from prompt_toolkit.lexers import PygmentsLexer
        from pygments.lexers.sql import SqlLexer
    except ImportError:
        return None
    return PygmentsLexer(SqlLexer)


def _continuation(width: int, line_number: int, is_soft_wrap: int) -> str:
    return "-> ".rjust(width)


def prompt_stream(out: Any, err: Any) -> Any:
    """The stream the prompt, the echoed input and the toolbar are drawn on: stdout (None,
    prompt_toolkit's default) when it is a terminal; stderr when only stderr is one
    (``shell > out.txt``: stdout then carries results only, as in exec); else None."""
    if is_terminal(out) or not is_terminal(err):
        return None
    return err


def prompt_output(out: Any, err: Any) -> Any:
    """The prompt_toolkit Output for :func:`prompt_stream` (None: prompt_toolkit's default)."""
    stream = prompt_stream(out, err)
    if stream is None:
        return None
    from prompt_toolkit.output import create_output

    return create_output(stdout=stream)


def build_prompt(
    shell: Shell,
    registry: Any,
    *,
    history: History,
    input: Any = None,
    output: Any = None,
) -> PromptSession[str]:
    """The PromptSession the REPL reads from (``input``/``output`` for tests)."""

    def multiline() -> bool:
        return not should_submit(get_app().current_buffer.text)

    def toolbar() -> str:
        settings = shell.session.settings
        return (
            f" output: {shell.state.output} | dry run: {'on' if settings.dry_run else 'off'}"
            f" | cache: {'on' if settings.cache_ttl else 'off'}"
            f" | pager: {'on' if shell.state.pager else 'off'} | help, \\q, Ctrl-D "
        )

    return PromptSession(
        PROMPT,
        multiline=Condition(multiline),
        history=history,
        auto_suggest=AutoSuggestFromHistory(),
        completer=ThreadedCompleter(StackqlCompleter(registry)),
        complete_while_typing=True,
        lexer=_lexer(),
        prompt_continuation=_continuation,
        bottom_toolbar=toolbar,
        enable_history_search=False,
        input=input,
        output=output,
    )


def run_repl(
    shell: Shell,
    registry: Any,
    *,
    history_file: Path | None = None,
    input: Any = None,
    output: Any = None,
    banner: bool = True,
) -> int:
    """Read and run input until ``\\q`` or Ctrl-D; return 0 (stdout closed: an OutputClosed
    that says the shell ends, exit code 141). Without ``output`` the prompt is
    drawn where :func:`prompt_stream` says."""
    history = open_history(history_file, shell)
    if output is None:
        output = prompt_output(shell.out, shell.err)
    prompt = build_prompt(shell, registry, history=history, input=input, output=output)
    if banner:
        from stackql_tuning import __version__

        shell.info(
            f"stackql-tuning {__version__}: end statements with ';', Tab completes, "
            "help for help, \\q or Ctrl-D quits."
        )
    while not shell.state.quit:
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if text.strip():
            try:
                shell.handle(text)
            except OutputClosed as e:  # no result could be shown any more: the shell ends
                raise output_closed(e.lines, commands=e.commands, ending="the shell ends") from None
    return 0
