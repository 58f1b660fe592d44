"""The shell's runner, meta commands and non-interactive mode, over a fake session (no I/O)."""

from __future__ import annotations

import _thread
import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackql_tuning.errors import Cancelled, FailedCall, OutputClosed, PlanError
from stackql_tuning.result import Result
from stackql_tuning.session import Progress
from stackql_tuning.settings import Settings
from stackql_tuning.shell import run_shell
from stackql_tuning.shell import runner as runner_mod
from stackql_tuning.shell.meta import parse_meta
from stackql_tuning.shell.runner import Shell, ShellState, footer
from stackql_tuning.shell.script import split_units


class FakeSession:
    """Statements are words: ``ROWS n``, ``FAIL``, ``BOOM``, ``SLOW``, ``DELETE``, ``WARN``,
    ``WIDE`` (a 200-character cell), ``PARTIAL`` (a row and a failed call)."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.registry: Any = None
        self.progress: Any = None
        self.ran: list[str] = []
        self.sources: list[str | None] = []
        self.cancel_calls = 0
        self._cancel = threading.Event()
        self.late_result_made = threading.Event()
        self.release = threading.Event()
        self.abandoning = False

    def cancel(self, *, abandon: bool = False) -> None:
        self.cancel_calls += 1
        self.abandoning = self.abandoning or abandon
        self._cancel.set()

    def iter_script(self, text: str, *, source: str | None = None) -> Iterator[Result]:
        self.sources.append(source)
        for part in text.split(";"):
            stmt = " ".join(part.split())
            if not stmt:
                continue
            self.ran.append(stmt)
            yield self._one(stmt, text)

    def _one(self, stmt: str, text: str) -> Result:
        word, _, arg = stmt.partition(" ")
        if word == "ROWS":
            n = int(arg)
            return Result(["id", "name"], ["INTEGER", "VARCHAR"], [(i, f"n{i}") for i in range(n)])
        if word == "FAIL":
            line = text[: text.index("FAIL")].count("\n") + 1
            raise PlanError(f"failed at line {line}", hint="fix it")
        if word == "BOOM":
            raise RuntimeError("kaput")
        if word == "DELETE":
            return Result([], [], [], kind="delete", has_rows=False, messages=["1 job deleted"])
        if word == "PARTIAL":  # --on-error continue with one failed call
            failed = FailedCall("g.s.r", "list", {"region": "eu"}, 503, "down (after 5 attempts)")
            return Result(["a"], ["INTEGER"], [(1,)], failures=[failed])
        if word == "WIDE":
            return Result(["long", "e"], ["VARCHAR", "VARCHAR"], [("x" * 200, "end")])
        if word == "WARN":
            return Result(["a"], ["INTEGER"], [(1,)], warnings=["page limit hit"])
        if word == "SLOW":
            for i in range(1, 1000):
                if self.progress:
                    self.progress(Progress(i, 1000, i * 10))
                if self._cancel.wait(0.02):
                    break
            self.late_result_made.set()
            return Result(["late"], ["VARCHAR"], [("LATE ROW",)])
        if word == "STOPS":  # a change stopped by the cancel: it reports each row
            while not self._cancel.wait(0.01):
                if self.progress:
                    self.progress(Progress(0, 4, 0))
            raise Cancelled("2 of 4 created; created: row 1: j1; row 2: j2; not sent: rows 3-4")
        if word == "GIVESUP":  # a change waiting on a call in flight until told to give it up
            while not self.abandoning:
                if self.progress:
                    self.progress(Progress(0, 4, 0))
                time.sleep(0.01)
            raise Cancelled(
                "1 of 4 deleted; deleted: row 1: j1; not sent: rows 3-4; "
                "outcome unknown: row 2: in flight when the statement was cancelled"
            )
        if word == "STUBBORN":  # ignores cancel until released
            if self.progress:
                self.progress(Progress(0, 1, 0))
            self.release.wait(10)
            return Result(["late"], ["VARCHAR"], [("LATE ROW",)])
        raise AssertionError(f"fake session cannot run {stmt!r}")


def make_shell(**state: Any) -> tuple[Shell, FakeSession, io.StringIO, io.StringIO]:
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(session, out=out, err=err, state=ShellState(**state), progress=False)
    return shell, session, out, err


# -- SQL ------------------------------------------------------------------------------------------
def test_result_is_rendered_then_footer() -> None:
    shell, _, out, err = make_shell()
    assert shell.handle("ROWS 2;") == 0
    assert "n1" in out.getvalue() and "name" in out.getvalue()
    assert err.getvalue().startswith("2 rows in ")
    assert err.getvalue().rstrip().endswith(" s")


def test_footer_forms() -> None:
    one = Result(["a"], ["INTEGER"], [(1,)])
    assert footer(one, 1.234) == "1 row in 1.23 s"
    assert footer(one, 1.0, timing=False) == "1 row"
    done = Result([], [], [], has_rows=False)
    assert footer(done, 0.5) == "done in 0.50 s"
    # a job's state the response cache gave may be stale: the footer says how old it is
    one.calls, one.cached_pages, one.cache_age = 3, 3, 42.4
    assert footer(one, 0.01) == (
        "1 row in 0.01 s (every page from the response cache, up to 42 s old: \\c off reads live)"
    )
    one.cached_pages, one.cache_age = 1, 250.0
    assert "(1 of 3 pages from the response cache, up to 4 min old" in footer(one, 0.01)


def test_messages_and_warnings_go_to_stderr() -> None:
    shell, _, out, err = make_shell()
    shell.handle("DELETE; WARN;")
    assert "1 job deleted" in err.getvalue()
    assert "warning: page limit hit" in err.getvalue()
    assert "deleted" not in out.getvalue()


def test_error_prints_and_returns_its_exit_code() -> None:
    shell, session, _, err = make_shell()
    assert shell.handle("ROWS 1; FAIL; ROWS 2;") == 1
    assert "plan error: failed" in err.getvalue()
    assert "hint: fix it" in err.getvalue()
    assert session.ran == ["ROWS 1", "FAIL"]


def test_unexpected_exception_is_one_line_internal_error() -> None:
    shell, _, _, err = make_shell()
    assert shell.handle("BOOM;") == 1
    assert err.getvalue().strip() == "internal error: RuntimeError: kaput (please report this)"


def test_ctrl_c_cancels_and_discards_late_result() -> None:
    shell, session, out, err = make_shell()

    def interrupt() -> None:
        while session.progress is None:
            time.sleep(0.01)
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    assert shell.handle("SLOW;") == 130
    assert session.cancel_calls == 1
    assert "cancelled" in err.getvalue()
    assert session.late_result_made.wait(5)
    time.sleep(0.05)
    assert "LATE ROW" not in out.getvalue()
    assert shell.handle("ROWS 1;") == 0  # the shell carries on


def test_ctrl_c_shows_what_a_stopped_change_did() -> None:
    # it printed "cancelled" while every remaining call of the INSERT was still sent
    shell, session, _, err = make_shell()

    def interrupt() -> None:
        while session.progress is None:
            time.sleep(0.01)
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    assert shell.handle("STOPS; ROWS 1;") == 130
    assert session.cancel_calls == 1
    assert "cancelled: 2 of 4 created; created: row 1: j1" in err.getvalue()
    assert "not sent: rows 3-4" in err.getvalue()
    assert session.ran == ["STOPS"]  # the statements after it do not run


def test_a_second_ctrl_c_still_shows_what_the_change_did() -> None:
    # it printed only "cancelled": the rows done before the first Ctrl-C went unreported
    shell, session, _, err = make_shell()

    def interrupt() -> None:
        while session.progress is None:
            time.sleep(0.01)
        _thread.interrupt_main()
        while "Ctrl-C again to abandon" not in err.getvalue():
            time.sleep(0.01)
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    assert shell.handle("GIVESUP;") == 130
    assert session.abandoning
    assert "cancelled: 1 of 4 deleted; deleted: row 1: j1" in err.getvalue()
    assert "outcome unknown: row 2" in err.getvalue()


def test_next_statement_waits_for_the_cancelled_one() -> None:
    shell, session, out, err = make_shell()

    def interrupt() -> None:
        while session.progress is None:
            time.sleep(0.01)
        _thread.interrupt_main()  # the first Ctrl-C waits for the statement to stop
        while "Ctrl-C again to abandon" not in err.getvalue():
            time.sleep(0.01)
        _thread.interrupt_main()  # the second abandons it

    threading.Thread(target=interrupt, daemon=True).start()
    assert shell.handle("STUBBORN;") == 130
    threading.Timer(0.2, session.release.set).start()
    assert shell.handle("ROWS 1;") == 0
    assert "waiting for the cancelled statement" in err.getvalue()
    assert "LATE ROW" not in out.getvalue()
    assert session.ran == ["STUBBORN", "ROWS 1"]


def test_progress_line_is_drawn_and_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_mod, "PROGRESS_AFTER", 0.0)
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(session, out=out, err=err, progress=True, color=False)
    session.settings.timeout = None

    def stop_soon() -> None:
        session.late_result_made.clear()
        time.sleep(0.35)
        session.cancel()

    threading.Thread(target=stop_soon, daemon=True).start()
    assert shell.handle("SLOW;") == 0
    text = err.getvalue()
    assert "calls," in text and "rows," in text and "Ctrl-C cancels" in text
    assert "\r\x1b[K1 row in" in text  # cleared before the footer
    assert "LATE ROW" in out.getvalue()


def test_progress_line_fits_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # a line wider than the terminal wraps, and the redraw erased only its last part
    import os as os_mod

    monkeypatch.setattr(runner_mod, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(
        runner_mod.shutil,
        "get_terminal_size",
        lambda fallback=(80, 24): os_mod.terminal_size((30, 24)),
    )
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(session, out=out, err=err, progress=True, color=False)
    session.settings.timeout = None
    threading.Timer(0.35, session.cancel).start()
    shell.handle("SLOW;")
    drawn = [part for part in err.getvalue().split("\r\x1b[K") if "calls," in part]
    assert drawn and all(len(line) < 30 for line in drawn)


def test_no_progress_line_when_not_a_terminal() -> None:
    shell, session, _, err = make_shell()
    threading.Timer(0.7, session.cancel).start()
    shell.handle("SLOW;")
    assert "calls" not in err.getvalue()


# -- meta commands --------------------------------------------------------------------------------
def test_parse_meta() -> None:
    assert parse_meta("\\o json") == ("\\o", "json")
    assert parse_meta("  quit; ") == ("quit", "")
    assert parse_meta("EXIT") == ("exit", "")
    assert parse_meta("SELECT 1;") is None
    assert parse_meta("help me") is None


def test_output_format_switch() -> None:
    shell, _, out, _err = make_shell()
    assert shell.handle("\\o json") == 0
    assert shell.state.output == "json"
    shell.handle("ROWS 1;")
    assert '"name": "n0"' in out.getvalue() or '"name":"n0"' in out.getvalue()


def test_unknown_output_format_is_usage_error() -> None:
    shell, _, _, err = make_shell()
    assert shell.handle("\\o jsn") == 2
    assert "unknown output format 'jsn'" in err.getvalue()
    assert "json" in err.getvalue()
    assert shell.state.output == "table"


def test_timing_toggle() -> None:
    shell, _, _, err = make_shell()
    shell.handle("\\timing")
    assert shell.state.timing is False
    shell.handle("ROWS 3;")
    assert "3 rows\n" in err.getvalue()
    shell.handle("\\timing on")
    assert shell.state.timing is True
    assert shell.handle("\\timing maybe") == 2


def test_dry_run_and_cache_and_pager_toggles() -> None:
    shell, session, _, err = make_shell()
    shell.handle("\\dry")
    assert session.settings.dry_run is True
    shell.handle("\\dry off")
    assert session.settings.dry_run is False
    shell.handle("\\c on")
    assert session.settings.cache_ttl == 300
    shell.handle("\\c")
    assert session.settings.cache_ttl == 0
    shell.handle("\\pager off")
    assert shell.state.pager is False
    assert "cache: on (ttl 300 s)" in err.getvalue()


def test_unknown_meta_command_lists_valid_ones() -> None:
    shell, _, _, err = make_shell()
    assert shell.handle("\\zz") == 2
    assert "unknown meta command \\zz" in err.getvalue()
    assert "\\timing" in err.getvalue() and "\\o" in err.getvalue()
    assert "usage error: unknown" in err.getvalue()  # typed alone: no line to name
    # in input of several lines (`shell < script`), its line is named
    assert shell.handle("ROWS 1;\n\n\\zz") == 2
    assert "usage error (line 3): unknown meta command \\zz" in err.getvalue()


def test_a_hint_shows_a_meta_command_as_it_is_typed() -> None:
    shell, _, _, err = make_shell()
    assert shell.handle("\\oo") == 2
    assert err.getvalue().endswith("hint: did you mean '\\o'?\n")  # one backslash, not repr's two


def test_help_lists_every_command() -> None:
    shell, _, _, err = make_shell()
    shell.handle("help")
    for usage in ("\\o [FORMAT]", "\\timing", "\\dry", "\\i FILE", "\\c", "\\pager", "\\q"):
        assert usage in err.getvalue()


@pytest.mark.parametrize("command", ["help", "\\?", "\\h", "\\help"])
def test_every_help_spelling_shows_the_help(command: str) -> None:
    shell, _, _, err = make_shell()
    assert shell.handle(command) == 0
    assert err.getvalue().startswith("Meta commands:")


def test_quit_stops_the_rest(tmp_path: Path) -> None:
    shell, session, _, _ = make_shell()
    shell.handle("ROWS 1;\n\\q\nROWS 2;\n")
    assert session.ran == ["ROWS 1"]
    assert shell.state.quit


def test_include_runs_a_file_with_its_name_as_source(tmp_path: Path) -> None:
    script = tmp_path / "s.iql"
    script.write_text("ROWS 1;\n\\o csv\nROWS 2;\n")
    shell, session, _out, _ = make_shell()
    assert shell.handle(f"\\i {script}") == 0
    assert session.ran == ["ROWS 1", "ROWS 2"]
    assert session.sources == [str(script), str(script)]
    assert shell.state.output == "csv"


def test_include_missing_file_and_loop(tmp_path: Path) -> None:
    shell, _, _, err = make_shell()
    assert shell.handle(f"\\i {tmp_path / 'nope.iql'}") == 2
    assert "cannot read" in err.getvalue()
    loop = tmp_path / "loop.iql"
    loop.write_text(f"\\i {loop}\n")
    assert shell.handle(f"\\i {loop}") == 2
    assert "nested more than" in err.getvalue()


def test_include_of_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    script = tmp_path / "latin1.iql"
    script.write_bytes(b"ROWS 1; -- caf\xe9\n")
    shell, session, _, err = make_shell()
    assert shell.handle(f"\\i {script}") == 2
    assert session.ran == []
    assert f"({script}:1:15): the file is not UTF-8 text: byte 0xe9" in err.getvalue()
    assert "internal error" not in err.getvalue()


def test_include_renders_the_file_as_exec_f_does(tmp_path: Path) -> None:
    """``\\i examples/inventory.iql`` said "'{%' does not start a statement": the file is a
    template, rendered with the shell's --var / --vars-file as exec -f renders it."""
    script = tmp_path / "t.iql"
    script.write_text("{% set n = n | default(1) %}\nROWS {{ n }};\nROWS {{ m | int + 1 }};\n")
    shell, session, _, err = make_shell()
    shell.variables = {"m": "2"}
    assert shell.handle(f"\\i {script}") == 0, err.getvalue()
    assert session.ran == ["ROWS 1", "ROWS 3"]
    assert set(session.sources) == {str(script)}  # its lines kept: errors name the file's lines


def test_an_include_s_template_error_is_located_in_the_file(tmp_path: Path) -> None:
    script = tmp_path / "t.iql"
    script.write_text("ROWS 1;\nROWS {{ x }};\n")
    shell, session, _, err = make_shell()
    assert shell.handle(f"\\i {script}") == 1
    assert session.ran == []  # rendered before anything runs, as exec -f
    assert err.getvalue().startswith(
        f"template error ({script}:2): variable 'x' is undefined\nhint: define it (--var k=v"
    )


def test_an_include_whose_rendering_moves_lines_is_named_rendered(tmp_path: Path) -> None:
    script = tmp_path / "t.iql"
    script.write_text("{% for n in [1, 2] %}\nROWS {{ n }};\n{% endfor %}\n")
    shell, session, _, _ = make_shell()
    assert shell.handle(f"\\i {script}") == 0
    assert session.ran == ["ROWS 1", "ROWS 2"]
    assert set(session.sources) == {f"{script} (rendered)"}  # as exec -f names it


# -- scripts and the non-interactive mode ---------------------------------------------------------
def test_split_units_keeps_lines_and_meta() -> None:
    text = "-- intro\nROWS 1;\n\\o json\nROWS\n 2; ROWS 3;\nROWS 4"
    units = split_units(text)
    assert [(u.kind, u.line) for u in units] == [("sql", 1), ("meta", 3), ("sql", 4), ("sql", 6)]
    assert units[2].positioned().startswith("\n\n\nROWS")


def test_split_units_meta_only_between_statements() -> None:
    units = split_units("SELECT\nquit\n;")
    assert [u.kind for u in units] == ["sql"]


def test_non_interactive_runs_all_and_exits_zero() -> None:
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    code = run_shell(session, stdin=io.StringIO("ROWS 1;\nROWS 2;\n"), stdout=out, stderr=err)
    assert code == 0
    assert session.ran == ["ROWS 1", "ROWS 2"]
    assert "stackql-tuning>" not in out.getvalue() + err.getvalue()


def test_non_interactive_stops_at_first_error_with_its_line() -> None:
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO("ROWS 1;\n\nFAIL;\nROWS 2;\n")
    code = run_shell(session, stdin=stdin, stdout=out, stderr=err, output="csv")
    assert code == 1
    assert session.ran == ["ROWS 1", "FAIL"]
    assert "failed at line 3" in err.getvalue()
    assert out.getvalue().startswith("id,name")


def test_a_script_on_stdin_is_rendered_as_exec_f_dash_renders_it() -> None:
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO("{% for n in [1, 2] %}ROWS {{ n }};{% endfor %}\nROWS {{ k }};\n")
    code = run_shell(session, stdin=stdin, stdout=out, stderr=err, variables={"k": "3"})
    assert code == 0, err.getvalue()
    assert session.ran == ["ROWS 1", "ROWS 2", "ROWS 3"]


def test_a_template_error_on_stdin_names_its_line_and_runs_nothing() -> None:
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO("ROWS 1;\n\nROWS {{ nope }};\n")
    assert run_shell(session, stdin=stdin, stdout=out, stderr=err) == 1
    assert session.ran == []
    assert err.getvalue().startswith("template error (line 3): variable 'nope' is undefined\n")


def test_pager_is_skipped_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGER", "false-pager-that-does-not-exist")
    shell, _, out, _ = make_shell(pager=True)
    shell.handle("ROWS 300;")
    assert "n299" in out.getvalue()


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pager_fits() -> None:
    from stackql_tuning.shell.pager import fits

    assert fits("ab\ncd\n", 80, 24)
    assert not fits("x" * 81, 80, 24)
    assert not fits("a\n" * 30, 80, 24)


def test_wide_result_goes_through_pager_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stackql_tuning.shell import pager

    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("STACKQL_TUNING_PAGER", f"sh -c 'cat > {paged}'")
    monkeypatch.setattr(pager.shutil, "get_terminal_size", lambda: os.terminal_size((40, 10)))
    out = _TTY()
    pager.show("x" * 100 + "\n", out, paging=True)
    assert paged.read_text() == "x" * 100 + "\n"
    assert out.getvalue() == ""
    pager.show("short\n", out, paging=True)
    assert out.getvalue() == "short\n"


def test_missing_pager_falls_back_to_direct_output(monkeypatch: pytest.MonkeyPatch) -> None:
    from stackql_tuning.shell import pager

    monkeypatch.setenv("STACKQL_TUNING_PAGER", "/nonexistent/pager")
    monkeypatch.setattr(pager, "_warned", set())
    monkeypatch.setattr(pager.shutil, "get_terminal_size", lambda: os.terminal_size((40, 10)))
    out, warnings = _TTY(), []
    pager.show("y" * 100 + "\n", out, paging=True, warn=warnings.append)
    assert out.getvalue() == "y" * 100 + "\n"
    assert warnings == [
        "warning: the pager '/nonexistent/pager' ($STACKQL_TUNING_PAGER) cannot start: No such "
        "file or directory; writing results unpaged"
    ]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("false", "the pager 'false' ($PAGER) exited with status 1"),
        ("sh -c 'kill -9 $$'", "the pager \"sh -c 'kill -9 $$'\" ($PAGER) was ended by signal 9"),
    ],
)
def test_a_failing_pager_warns_and_the_result_is_written_directly(
    monkeypatch: pytest.MonkeyPatch, value: str, said: str
) -> None:
    """``PAGER=false``: a wide result printed only its footer (``2 rows in 0.50 s``)."""
    from stackql_tuning.shell import pager

    monkeypatch.delenv("STACKQL_TUNING_PAGER", raising=False)
    monkeypatch.setenv("PAGER", value)
    monkeypatch.setattr(pager, "_warned", set())
    monkeypatch.setattr(pager.shutil, "get_terminal_size", lambda: os.terminal_size((40, 10)))
    session = FakeSession()
    out, err = _TTY(), io.StringIO()
    shell = Shell(session, out=out, err=err, progress=False, color=False)
    assert shell.handle("WIDE; WIDE;") == 0
    assert out.getvalue().count("x" * 200 + " │ end") == 2  # each result, unpaged
    assert err.getvalue().count(f"warning: {said}; writing results unpaged\n") == 1  # once
    assert err.getvalue().count("1 row in ") == 2


def test_non_interactive_script_with_a_bom() -> None:
    shell_out, err = io.StringIO(), io.StringIO()
    session = FakeSession()
    code = run_shell(session, stdin=io.StringIO("\ufeffROWS 1;\n"), stdout=shell_out, stderr=err)
    assert code == 0, err.getvalue()
    assert session.ran == ["ROWS 1"]


EXEC_F_DASH_SAYS = (
    "usage error (<stdin>:1:8): the file is not UTF-8 text: byte 0xff at byte offset 7 "
    "(invalid start byte)\nhint: save the file as UTF-8\n"
)


@pytest.mark.parametrize(
    "stdin",
    [
        # a locale that decodes with surrogate escapes (a C locale, or Python's UTF-8 mode)
        io.StringIO("ROWS 1;\udcff\n"),
        # a strict UTF-8 decoder (it raised UnicodeDecodeError: an internal error)
        io.TextIOWrapper(io.BytesIO(b"ROWS 1;\xff\n"), encoding="utf-8"),
    ],
)
def test_a_script_on_stdin_that_is_not_utf8_is_exec_f_dash_s_usage_error(stdin: Any) -> None:
    """``printf 'SELECT \\xff;' | shell``: "query error: Python Conversion Failure: cannot encode
    str as UTF-8", exit 1."""
    session = FakeSession()
    out, err = io.StringIO(), io.StringIO()
    assert run_shell(session, stdin=stdin, stdout=out, stderr=err) == 2
    assert session.ran == []
    assert err.getvalue() == EXEC_F_DASH_SAYS


class _Failing(io.StringIO):
    """An output whose writes fail with ``error``."""

    def __init__(self, error: OSError) -> None:
        super().__init__()
        self.failure = error

    def write(self, text: str) -> int:
        raise self.failure


def test_a_closed_output_pipe_stops_the_script_and_says_what_did_not_run() -> None:
    """`| head`: the statements after the result that met the closed pipe ran on (a DELETE
    included), and nothing said so."""
    session = FakeSession()
    err = io.StringIO()
    shell = Shell(session, out=_Failing(BrokenPipeError(32, "Broken pipe")), err=err)
    with pytest.raises(OutputClosed) as caught:  # to the command: it prints it, exits 141
        shell.handle("ROWS 2; ROWS 3;\nDELETE;\n\\o csv\nROWS 4;")
    assert session.ran == ["ROWS 2"]  # not even the rest of its own line
    assert caught.value.left and caught.value.exit_code == 141
    assert str(caught.value) == (
        "output error: stdout was closed (its reader stopped early): 3 statements and 1 meta "
        "command were not run (lines 1, 2, 3, 4)"
    )
    assert err.getvalue() == ""  # no "internal error", and no footer of an unseen result
    assert shell.state.output == "table"


def test_the_next_statement_waits_until_the_result_before_it_is_shown() -> None:
    """It ran while the result before it was written: a closed output then stopped it half-way
    (a change sent) or it ran to its end unseen."""
    session = FakeSession()
    seen: list[list[str]] = []

    class Recording(io.StringIO):
        def write(self, text: str) -> int:
            seen.append(list(session.ran))
            time.sleep(0.05)  # a slow terminal
            return super().write(text)

    shell = Shell(session, out=Recording(), err=io.StringIO(), progress=False)
    assert shell.handle("ROWS 1; ROWS 2; ROWS 3;") == 0
    assert seen[0] == ["ROWS 1"] and seen[-1] == ["ROWS 1", "ROWS 2", "ROWS 3"]
    assert ["ROWS 1", "ROWS 2"] in seen


def test_a_closed_output_in_an_included_file_names_the_include_s_line(tmp_path: Path) -> None:
    script = tmp_path / "s.iql"
    script.write_text("ROWS 1;\nROWS 2;\n")
    session = FakeSession()
    shell = Shell(session, out=_Failing(BrokenPipeError(32, "Broken pipe")), err=io.StringIO())
    with pytest.raises(OutputClosed) as caught:
        shell.handle(f"\\o csv\n\\i {script}\nROWS 3;\n")
    assert session.ran == ["ROWS 1"]
    assert str(caught.value).endswith("2 statements were not run (lines 2, 3)")


def test_a_closed_output_at_the_last_result_is_quiet() -> None:
    session = FakeSession()
    shell = Shell(session, out=_Failing(BrokenPipeError(32, "Broken pipe")), err=io.StringIO())
    with pytest.raises(OutputClosed) as caught:
        shell.handle("ROWS 2;")
    assert not caught.value.left  # nothing left to run: the command ends with exit 0


def test_a_full_disk_is_an_output_error_not_an_internal_one() -> None:
    session = FakeSession()
    err = io.StringIO()
    out = _Failing(OSError(28, "No space left on device"))
    shell = Shell(session, out=out, err=err, progress=False)
    assert shell.handle("ROWS 2; ROWS 3;") == 1
    assert err.getvalue() == (
        "output error: cannot write the result: No space left on device\n"
        "hint: check the disk or the file that the output goes to\n"
    )


def test_tables_keep_their_width_when_not_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    shell, _, out, _ = make_shell(pager=False)  # a file or a pipe, as exec: nothing is cut
    assert shell.handle("WIDE;") == 0
    assert "x" * 200 + " │ end" in out.getvalue()
    assert "…" not in out.getvalue()


def test_tables_fit_the_terminal_when_not_paged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    session = FakeSession()
    out, err = _TTY(), io.StringIO()
    shell = Shell(session, out=out, err=err, state=ShellState(pager=False), progress=False)
    assert shell.handle("WIDE;") == 0
    lines = out.getvalue().splitlines()
    assert "…" in out.getvalue() and max(len(line) for line in lines) <= 60


def test_a_partial_result_exits_3_with_exec_s_report() -> None:
    shell, session, out, err = make_shell(output="csv")
    assert shell.handle("PARTIAL; ROWS 1;") == 3  # the script goes on, as exec's does
    assert session.ran == ["PARTIAL", "ROWS 1"]
    assert out.getvalue().startswith("a\n1\n")
    assert err.getvalue().startswith(
        "1 call(s) failed; the rows that arrived are shown:\n"
        "  - g.s.r.list(region='eu'): 503: down (after 5 attempts)\n"
        "1 row in "
    )
    assert shell.handle("ROWS 1;") == 0  # each run of the REPL starts afresh
    assert shell.handle("PARTIAL; FAIL;") == 1  # an error still has its own exit code


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("PAGER", 'less "x', "$PAGER is not a command (No closing quotation)"),
        ("STACKQL_TUNING_PAGER", "less \\", "$STACKQL_TUNING_PAGER is not a command"),
        ("PAGER", "  ", "$PAGER is empty"),
    ],
)
def test_a_pager_setting_that_is_no_command_warns_and_writes_directly(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    """It was "internal error: ValueError: No closing quotation" at every wide result."""
    from stackql_tuning.shell import pager

    monkeypatch.delenv("STACKQL_TUNING_PAGER", raising=False)
    monkeypatch.setenv(name, value)
    monkeypatch.setattr(pager, "_warned", set())
    monkeypatch.setattr(pager.shutil, "get_terminal_size", lambda: os.terminal_size((40, 10)))
    out, warnings = _TTY(), []
    for _ in range(2):
        pager.show("z" * 100 + "\n", out, paging=True, warn=warnings.append)
    assert out.getvalue() == ("z" * 100 + "\n") * 2
    assert len(warnings) == 1  # once, not at every result
    assert said in warnings[0]
