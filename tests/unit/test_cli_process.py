"""The command as a process (``cli.run``): its quick exit (``cli.leave``) and its collector.

The exit skips the interpreter's teardown, so everything a normal exit does that can be seen
from outside is checked here: the exit code, all of the output through a pipe, atexit handlers,
non-daemon threads, and a reader that stops early.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RUN = "import sys; from stackql_tuning.cli import run; sys.argv[0] = 'stackql-tuning'; run()"


def _cli(*args: str, prelude: str = "", **kw: object) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(prelude) + "\n" + RUN
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, **kw
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("exec", "SELECT 1 AS x"), 0),
        (("exec", "SELEC 1"), 1),  # a statement error
        (("exec",), 2),  # a usage error
        (("--version",), 0),
    ],
)
def test_the_exit_code_is_main_s(args: tuple[str, ...], code: int) -> None:
    out = _cli(*args)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr


def test_all_of_a_large_output_arrives_through_a_pipe() -> None:
    out = _cli("-o", "csv", "exec", "SELECT i, repeat('x', 50) AS pad FROM range(40000) t(i)")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 40001  # header + every row: nothing left in a buffer
    assert lines[-1].startswith("39999,")


def test_atexit_handlers_and_non_daemon_threads_still_run(tmp_path: Path) -> None:
    marks = tmp_path / "marks.txt"
    prelude = f"""
        import atexit, threading, time
        def mark(text):
            with open({str(marks)!r}, "a") as f:
                f.write(text + "\\n")
        atexit.register(mark, "atexit")
        def late():
            time.sleep(0.3)
            mark("thread")
        threading.Thread(target=late).start()
    """
    out = _cli("exec", "SELECT 1", prelude=prelude)
    assert out.returncode == 0, out.stderr
    # the thread ends before the atexit handlers run, as at a normal exit
    assert marks.read_text().splitlines() == ["thread", "atexit"]


def _piped(command: str) -> subprocess.CompletedProcess[str]:
    """``command`` run by bash with pipefail: its exit code is the command's, not head's."""
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120
    )


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    code = f'{sys.executable} -c "{RUN}" -o csv exec "SELECT i FROM range(200000) t(i)" | head -n 2'
    out = _piped(code)
    assert out.stdout.splitlines() == ["i", "0"]
    # every statement ran: the reader only stopped early (exit 0, nothing said)
    assert (out.returncode, out.stderr) == (0, "")


@pytest.mark.parametrize("fmt", ["csv", "table", "markdown", "json"])
def test_a_closed_output_stops_exec_and_says_what_did_not_run(fmt: str, tmp_path: Path) -> None:
    """The COPY (an INSERT, a DELETE) after a result cut by `| head` was skipped without a word,
    exit 0; with one large write (table, markdown) it even ran, unseen."""
    target = tmp_path / "m.csv"
    sql = f"SELECT * FROM range(100000); COPY (SELECT 42 AS x) TO '{target}'"
    out = _piped(f'{sys.executable} -c "{RUN}" -o {fmt} exec "{sql}" | head -n 2')
    assert out.returncode == 141
    assert out.stderr == (
        "output error: stdout was closed (its reader stopped early): 1 statement was not run "
        "(line 1)\n"
    )
    assert not target.exists()


def test_the_command_collects_garbage_less_often_during_start_up(tmp_path: Path) -> None:
    seen = tmp_path / "gc.txt"
    prelude = f"""
        import atexit, gc
        atexit.register(lambda: open({str(seen)!r}, "w").write(repr(gc.get_threshold())))
    """
    out = _cli("exec", "SELECT 1", prelude=prelude)
    assert out.returncode == 0, out.stderr
    from stackql_tuning.cli import GC_THRESHOLDS

    assert seen.read_text() == repr(GC_THRESHOLDS)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize(
    ("args", "script"),
    [(("exec", "SELECT 1 AS x"), None), (("shell",), "SELECT 1 AS x;\nSELECT 2 AS y;\n")],
)
def test_a_full_disk_is_an_output_error_not_an_internal_one(
    args: tuple[str, ...], script: str | None
) -> None:
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-c", RUN, "-o", "json", *args],
            input=script,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert out.returncode == 1
    assert "output error: cannot write the result: No space left on device" in out.stderr
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr


def test_a_reader_that_stops_early_ends_a_shell_script_quietly() -> None:
    script = "SELECT 1 AS i;\\nSELECT i FROM range(200000) t(i);\\n"
    out = _piped(f"printf '{script}' | {sys.executable} -c \"{RUN}\" -o csv shell | head -n 2")
    assert out.stdout.splitlines() == ["i", "1"]
    assert out.returncode == 0, out.stderr  # nothing was left to run: as exec
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr


def test_a_closed_output_stops_a_shell_script_and_says_what_did_not_run(tmp_path: Path) -> None:
    """The shell ran every later statement (its one large write of a result was cut short
    without an error)."""
    target = tmp_path / "m.csv"
    script = (
        f"SELECT i FROM range(200000) t(i);\\nCOPY (SELECT 42 AS x) TO '\"'{target}'\"';\\n"
        "\\\\o json\\nSELECT 2;\\n"
    )
    out = _piped(f"printf '{script}' | {sys.executable} -c \"{RUN}\" -o csv shell | head -n 2")
    assert out.stdout.splitlines() == ["i", "0"]
    assert out.returncode == 141
    assert out.stderr.endswith(
        "output error: stdout was closed (its reader stopped early): 2 statements and 1 meta "
        "command were not run (lines 2, 3, 4)\n"
    )
    assert not target.exists()


#: a local query that runs 14+ s to its end
LONG_QUERY = "SELECT count(*) FROM range(3000000000) t(x) WHERE x % 7 = 3"


def test_ctrl_c_stops_a_long_local_query_with_exit_130() -> None:
    import signal
    import time

    code = "\n" + RUN
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "exec", LONG_QUERY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)  # started and running the query
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 10
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "internal error" not in err


def test_timeout_stops_a_long_local_query() -> None:
    # no wall-clock bound (it failed on a loaded machine): had the limit not stopped it, the
    # query would have ended with its count and exit 0
    out = _cli("--timeout", "1", "exec", LONG_QUERY)
    assert out.returncode == 1, out.stderr
    assert out.stderr.startswith("timeout: the statement ran past its time limit")
    assert out.stdout == ""


def test_exec_file_dash_reads_the_script_from_stdin() -> None:
    out = _cli("-o", "csv", "exec", "-f", "-", input="SELECT 1 AS a;\nSELECT 2 AS b;\n")
    assert (out.returncode, out.stdout) == (0, "a\n1\nb\n2\n"), out.stderr
    out = _cli("exec", "-f", "-", input="SELECT 1;\nSELEC 2;\n")
    assert out.returncode == 1
    assert out.stderr.startswith("parse error (<stdin>:2:1)")


def test_a_shell_script_that_is_not_utf8_is_said_as_exec_f_dash_says_it() -> None:
    outs = [
        subprocess.run(
            [sys.executable, "-c", RUN, *args],
            input=b"SELECT 1;\nSELECT \xff;\n",
            capture_output=True,
            timeout=120,
        )
        for args in (("shell",), ("exec", "-f", "-"))
    ]
    for out in outs:
        assert out.returncode == 2
        assert out.stdout == b""
        assert out.stderr == (
            b"usage error (<stdin>:2:8): the file is not UTF-8 text: byte 0xff at byte offset 17 "
            b"(invalid start byte)\nhint: save the file as UTF-8\n"
        )
