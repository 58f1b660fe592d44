"""End to end: the real ``stackql-tuning shell`` in a pseudo-terminal, against the sandbox.

The sandbox runs in this test process; the shell is a child process pointed at it through the
environment the sandbox gives (``Sandbox.env()``: endpoints and dummy credentials). pexpect
types like a user: a two-line SELECT, Tab after ``FROM google.aiplatform.``, a slow fan-out
(emulator latency knob) interrupted with Ctrl-C, and ``\\q``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "stackql-tuning>"  # the trailing space is drawn after a colour reset
PROJECT, LOCATION = "ml-research-prod", "us-central1"


def _missing() -> str | None:
    if importlib.util.find_spec("stackql_tuning.sandbox.runner") is None:
        return "the sandbox runner (stackql_tuning.sandbox.runner) does not exist yet"
    if importlib.util.find_spec("stackql_tuning.handlers") is None:
        return "the statement handlers (stackql_tuning.handlers) do not exist yet"
    return None


if _missing():
    pytest.skip(_missing() or "", allow_module_level=True)


def _admin(base: str, action: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(
        base.rstrip("/") + "/__admin/" + action,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as reply:
        reply.read()


def _shell_env(sandbox: Any, tmp_path: Path, **more: str) -> dict[str, str]:
    """The environment a shell under test runs in: the sandbox's, its own history directory."""
    env = dict(os.environ)
    env.update(sandbox.env())
    env.update(
        {
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "TERM": "xterm",
            "PYTHONPATH": str(ROOT),
            **more,
        }
    )
    return env


def _spawn(command: str, args: list[str], env: dict[str, str]) -> Any:
    """``command args`` on a pty of 40 x 200, from the repository's root."""
    return pexpect.spawn(
        command, args, cwd=str(ROOT), env=env, encoding="utf-8", dimensions=(40, 200), timeout=30
    )


@pytest.fixture()
def shell(sandbox: Any, tmp_path: Path) -> Iterator[Any]:
    env = _shell_env(sandbox, tmp_path, PAGER="cat")
    child = _spawn(sys.executable, ["-m", "stackql_tuning", "shell"], env)
    try:
        child.expect_exact(PROMPT)
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)


def test_two_line_select_tab_and_quit(shell: Any) -> None:
    shell.send("SELECT displayName, state FROM google.aiplatform.hyperparameter_tuning_jobs\r")
    shell.expect_exact("->")  # no ';' yet: a continuation line
    shell.send(f"WHERE projectsId = '{PROJECT}' AND locationsId = '{LOCATION}';\r")
    shell.expect(r"(\d+) rows? in \d+\.\d\d s")
    assert int(shell.match.group(1)) > 0
    assert "JOB_STATE_" in shell.before
    shell.expect_exact(PROMPT)

    shell.send("SELECT * FROM google.aiplatform.")
    shell.send("\t")
    shell.expect_exact("hyperparameter_tuning_jobs")
    shell.expect_exact("tuning_jobs")
    shell.send("\x03")  # Ctrl-C at the prompt clears the buffer
    shell.expect_exact(PROMPT)

    shell.send("\\q\r")
    shell.expect(pexpect.EOF)
    shell.close()
    assert shell.exitstatus == 0


def test_ctrl_c_cancels_a_slow_fan_out(shell: Any, sandbox: Any) -> None:
    base = sandbox.google.url
    _admin(base, "config", {"latency": 5.0})
    try:
        shell.send(
            "SELECT count(*) FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId IN ('ml-research-prod', 'ml-research-dev') "
            "AND locationsId IN ('us-central1', 'europe-west4', 'asia-northeast1');\r"
        )
        shell.expect_exact("Ctrl-C cancels")  # the progress line
        shell.send("\x03")
        shell.expect_exact("cancelled")
        shell.expect_exact(PROMPT)
    finally:
        _admin(base, "config", {"latency": 0.0})
    shell.send("SHOW PROVIDERS;\r")
    shell.expect(r"\d+ rows in \d+\.\d\d s")
    shell.send("\\q\r")
    shell.expect(pexpect.EOF)


def test_ctrl_c_stops_a_long_local_query(shell: Any) -> None:
    """Ctrl-C interrupts DuckDB itself: the next statement runs at once, \\q quits cleanly (it
    used to wait for the query's end, then say "connection is busy")."""
    import time

    shell.send("SELECT count(*) FROM range(3000000000) t(x) WHERE x % 7 = 3;\r")
    shell.expect_exact("Ctrl-C cancels")  # the progress line
    shell.send("\x03")
    shell.expect_exact("cancelled")
    shell.expect_exact(PROMPT)
    started = time.monotonic()
    shell.send("SELECT 41 + 1 AS answer;\r")
    shell.expect(r"1 row in \d+\.\d\d s", timeout=10)
    assert time.monotonic() - started < 10  # the query alone takes 14+ s
    assert "busy" not in shell.before
    shell.expect_exact(PROMPT)
    shell.send("\\q\r")
    shell.expect(pexpect.EOF)
    shell.close()
    assert shell.exitstatus == 0


def test_with_stdout_redirected_the_prompt_is_on_the_terminal_and_the_file_has_results(
    sandbox: Any, tmp_path: Path
) -> None:
    """``shell > out.txt`` from a terminal: the prompt, the echoed input and the toolbar went
    into the file and the screen stayed blank."""
    env = _shell_env(sandbox, tmp_path)
    target = tmp_path / "out.txt"
    child = _spawn(
        "/bin/sh",
        ["-c", 'exec "$0" -m stackql_tuning -o csv shell > "$1"', sys.executable, str(target)],
        env,
    )
    try:
        child.expect_exact(PROMPT)  # on the terminal (stderr)
        child.send("SELECT 42 AS answer;\r")
        child.expect(r"1 row in \d+\.\d\d s")
        child.expect_exact(PROMPT)
        child.send("\\q\r")
        child.expect(pexpect.EOF)
        child.close()
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert child.exitstatus == 0
    assert target.read_text() == "answer\n42\n"  # results only: no prompt, input or toolbar
