"""The REPL loop, driven through prompt_toolkit's pipe input and a dummy output (no pty)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from test_shell_runner import FakeSession

from stackql_tuning.registry.loader import Registry
from stackql_tuning.shell.repl import (
    history_path,
    open_history,
    prompt_stream,
    run_repl,
    should_submit,
)
from stackql_tuning.shell.runner import Shell


def drive(keys: str, tmp_path: Path) -> tuple[FakeSession, Shell, str, str, int]:
    session = FakeSession()
    session.registry = Registry(tmp_path / "no-providers")
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(session, out=out, err=err, progress=False)
    with create_pipe_input() as inp:
        inp.send_text(keys)
        code = run_repl(
            shell,
            session.registry,
            history_file=tmp_path / "hist" / "history",
            input=inp,
            output=DummyOutput(),
        )
    return session, shell, out.getvalue(), err.getvalue(), code


def test_multi_line_statement_runs_on_semicolon(tmp_path: Path) -> None:
    session, _, out, err, code = drive("ROWS\r2;\r\\q\r", tmp_path)
    assert code == 0
    assert session.ran == ["ROWS 2"]
    assert "n1" in out
    assert "2 rows in" in err


def test_error_returns_to_prompt_and_ctrl_d_exits(tmp_path: Path) -> None:
    session, shell, _, err, code = drive("FAIL;\rROWS 1;\r\x04", tmp_path)
    assert code == 0
    assert session.ran == ["FAIL", "ROWS 1"]
    assert "plan error" in err and "1 row in" in err
    assert not shell.state.quit  # left through Ctrl-D


def test_meta_command_submits_without_semicolon(tmp_path: Path) -> None:
    _, shell, _, _err, _ = drive("\\o csv\rquit\r", tmp_path)
    assert shell.state.output == "csv"
    assert shell.state.quit


def test_history_is_persisted(tmp_path: Path) -> None:
    drive("ROWS 1;\r\\q\r", tmp_path)
    history = (tmp_path / "hist" / "history").read_text()
    assert "+ROWS 1;" in history


def test_should_submit() -> None:
    assert should_submit("")
    assert should_submit("SELECT 1;")
    assert should_submit("\\timing")
    assert should_submit("exit")
    assert not should_submit("SELECT 1")
    assert not should_submit("SELECT ';")
    assert not should_submit("SELECT 1 -- ;")


def test_history_path_honours_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history_path() == tmp_path / "stackql-tuning" / "history"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert history_path() == tmp_path / "home" / ".local" / "share" / "stackql-tuning" / "history"


def test_unusable_history_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    err = io.StringIO()
    shell = Shell(FakeSession(), out=io.StringIO(), err=err)
    history = open_history(blocker / "sub" / "history", shell)
    assert type(history).__name__ == "InMemoryHistory"
    assert "history not saved" in err.getvalue()


def test_a_history_path_that_is_a_directory_falls_back_to_memory(tmp_path: Path) -> None:
    """A directory passed the old check (touch) and prompt_toolkit then printed tracebacks."""
    target = tmp_path / "history"
    target.mkdir()
    err = io.StringIO()
    shell = Shell(FakeSession(), out=io.StringIO(), err=err)
    history = open_history(target, shell)
    assert type(history).__name__ == "InMemoryHistory"
    assert f"warning: history not saved ({target}: Is a directory)" in err.getvalue()


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_prompt_is_drawn_on_stderr_when_only_stderr_is_a_terminal() -> None:
    """``shell > out.txt`` put the prompt, the echoed input and the toolbar into the file."""
    tty_out, tty_err, file_out, file_err = _TTY(), _TTY(), io.StringIO(), io.StringIO()
    assert prompt_stream(tty_out, tty_err) is None  # stdout: prompt_toolkit's default
    assert prompt_stream(tty_out, file_err) is None
    assert prompt_stream(file_out, tty_err) is tty_err
    assert prompt_stream(file_out, file_err) is None  # no terminal at all: as before


def test_with_stdout_in_a_file_the_prompt_reaches_the_terminal_on_stderr(tmp_path: Path) -> None:
    import os
    import pty
    import threading

    master, slave = pty.openpty()
    err = open(slave, "w", encoding="utf-8", closefd=True)  # noqa: SIM115
    drawn: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    session = FakeSession()
    session.registry = Registry(tmp_path / "no-providers")
    out = io.StringIO()
    shell = Shell(session, out=out, err=err, progress=False, color=False)
    try:
        with create_pipe_input() as inp:
            inp.send_text("ROWS 1;\r\\q\r")
            code = run_repl(shell, session.registry, history_file=tmp_path / "h", input=inp)
    finally:
        err.close()
        reader.join(5)
        os.close(master)
    assert code == 0
    assert session.ran == ["ROWS 1"]
    screen = b"".join(drawn).decode("utf-8", "replace")
    assert "stackql-tuning> " in screen and "ROWS" in screen and "help, \\q" in screen
    assert "stackql-tuning>" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert "n0" in out.getvalue()  # stdout: the result only


def test_a_closed_output_ends_the_repl_and_says_so(tmp_path: Path) -> None:
    import pytest

    from stackql_tuning.errors import OutputClosed

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    session = FakeSession()
    session.registry = Registry(tmp_path / "no-providers")
    shell = Shell(session, out=Closed(), err=io.StringIO(), progress=False)
    with create_pipe_input() as inp, pytest.raises(OutputClosed) as caught:
        inp.send_text("ROWS 1; ROWS 2;\rROWS 3;\r\\q\r")
        history = tmp_path / "h"
        run_repl(shell, session.registry, history_file=history, input=inp, output=DummyOutput())
    assert session.ran == ["ROWS 1"]
    assert caught.value.exit_code == 141
    assert str(caught.value) == (
        "output error: stdout was closed (its reader stopped early): 1 statement was not run "
        "(line 1); the shell ends"
    )
