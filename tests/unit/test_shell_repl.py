"""The REPL loop, driven through prompt_toolkit's pipe input and a dummy output (no pty)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from test_shell_runner import FakeSession

from stackql_tuning.registry.loader import Registry
from stackql_tuning.shell.repl import history_path, open_history, run_repl, should_submit
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
