"""The ``%%stackql_tuning`` magic, run through a real IPython shell against the sandbox.

The shell is ``InteractiveShell.instance()`` (history in memory, IPYTHONDIR in a temporary
directory). Most tests connect through the environment of the session-scoped sandbox (the
``sandbox_env`` fixture), as a user who exported ``stackql-tuning sandbox serve``'s variables
would; one starts the magic's own ``--sandbox``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from stackql_tuning import notebook
from stackql_tuning.errors import UsageError
from stackql_tuning.result import Result
from stackql_tuning.sandbox.runner import Sandbox

PROJECT = "ml-research-prod"
LOCATION = "us-central1"
AWS_REGION = "eu-west-1"
HAS_PANDAS = importlib.util.find_spec("pandas") is not None

GOOGLE_CELL = f"""
SELECT displayName, state, createTime, studySpec
FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = '{PROJECT}' AND locationsId = '{LOCATION}'
ORDER BY displayName;
"""


@pytest.fixture(scope="module")
def ipython(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    mp = pytest.MonkeyPatch()
    mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "stackql_tuning")
    yield shell
    notebook.unload_ipython_extension(shell)
    mp.undo()


@pytest.fixture
def shell(ipython: Any, sandbox_env: dict[str, str]) -> Iterator[Any]:
    """The shell with a fresh magic state, connecting through the sandbox's environment."""
    yield ipython
    notebook.state_of(ipython).close()


def google_count(sandbox: Sandbox) -> int:
    return len(sandbox.truth["google"]["jobs"][PROJECT][LOCATION]["hyperparameterTuningJobs"])


def rows_of(value: Any) -> int:
    """The row count of what the magic returned (a DataFrame, or a relation without pandas)."""
    return len(value) if HAS_PANDAS else len(value.fetchall())


@pytest.mark.skipif(not HAS_PANDAS, reason="pandas not installed (pip install -e '.[dev]')")
def test_cell_magic_returns_a_dataframe(shell: Any, sandbox: Sandbox) -> None:
    import pandas as pd

    df = shell.run_cell_magic(notebook.MAGIC_NAME, "-o jobs", GOOGLE_CELL)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["displayName", "state", "createTime", "studySpec"]
    assert len(df) == google_count(sandbox) > 0
    assert list(df["displayName"]) == sorted(df["displayName"])
    assert str(df["createTime"].dt.tz) == "UTC"
    assert shell.user_ns["jobs"] is df


def test_cell_magic_rows_and_state(shell: Any, sandbox: Sandbox) -> None:
    value = shell.run_cell_magic(notebook.MAGIC_NAME, "", GOOGLE_CELL)
    assert value is not None
    assert rows_of(value) == google_count(sandbox)
    last = notebook.state_of(shell).last
    assert isinstance(last, Result)
    assert last.types[2:] == ["TIMESTAMP WITH TIME ZONE", "JSON"]


def test_line_magic_and_session_reuse(shell: Any, sandbox: Sandbox) -> None:
    sql = (
        "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        f"WHERE region = '{AWS_REGION}'"
    )
    value = shell.run_line_magic(notebook.MAGIC_NAME, sql)
    assert rows_of(value) == len(sandbox.truth["aws"]["regions"][AWS_REGION])
    first = notebook.state_of(shell).session
    shell.run_line_magic(notebook.MAGIC_NAME, "SELECT 1 AS one")
    assert notebook.state_of(shell).session is first


def test_several_statements_return_the_last(shell: Any) -> None:
    shown: list[Any] = []
    value = notebook.run_magic(shell, "", "SELECT 1 AS a;\nSELECT 2 AS b, 'x' AS c;", shown.append)
    assert len(shown) == 1
    last = notebook.state_of(shell).last
    assert last is not None and last.columns == ["b", "c"] and last.rows == [(2, "x")]
    assert rows_of(value) == 1


def test_a_cell_with_only_a_jinja_comment_is_a_template_as_on_the_command_line(
    shell: Any,
) -> None:
    # the CLI stripped {# c #}, the magic kept it: one rule for both now
    notebook.run_magic(shell, "", "SELECT 'a{# c #}b' AS x", lambda value: None)
    last = notebook.state_of(shell).last
    assert last is not None and last.rows == [("ab",)]


def test_rows_that_completed_are_shown_when_a_later_statement_fails(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # each statement's rows used to be shown only once the next statement succeeded, so a
    # failing statement hid the rows of the one before it
    shown: list[Any] = []
    cell = "SELECT 1 AS v1;\nSELECT 2 AS v2;\nSELECT 1/'a' AS boom;"
    assert notebook.run_magic(shell, "", cell, shown.append) is None
    assert [rows_of(value) for value in shown] == [1, 1]
    columns = [list(value.columns) for value in shown] if HAS_PANDAS else []
    assert not HAS_PANDAS or columns == [["v1"], ["v2"]]
    err = capsys.readouterr().err
    assert err.startswith("query error (<cell>:3:10)"), err  # at the literal
    # through IPython: the rows are displayed (on stdout here), then the error is printed
    assert shell.run_cell_magic(notebook.MAGIC_NAME, "", "SELECT 1 AS v1;\nSELECT 1/'a';") is None
    out, err = capsys.readouterr()
    assert "v1" in out
    assert err.startswith("query error (<cell>:2:10)") and "Traceback" not in err, err


def test_variables_from_the_line_and_the_notebook(shell: Any, sandbox: Sandbox) -> None:
    shell.user_ns["project"] = PROJECT
    try:
        cell = GOOGLE_CELL.replace(f"'{PROJECT}'", "'{{ project }}'").replace(
            f"'{LOCATION}'", "'{{ loc }}'"
        )
        value = shell.run_cell_magic(notebook.MAGIC_NAME, f"--var loc={LOCATION}", cell)
        assert rows_of(value) == google_count(sandbox)
    finally:
        del shell.user_ns["project"]


def test_errors_are_one_printed_message(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ("", "SELECT * FROM google.aiplatform.no_such_jobs WHERE projectsId = 'p'"),
        ("--bogus", "SELECT 1"),
        ("", "SELECT '{{ undefined_name }}'"),
        ("", "   \n-- nothing but a comment\n"),
    ]
    for line, cell in cases:
        assert shell.run_cell_magic(notebook.MAGIC_NAME, line, cell) is None
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert "error" in err.splitlines()[0], err


def test_report_prints_messages_warnings_and_failures(capsys: pytest.CaptureFixture[str]) -> None:
    result = Result([], [], [], kind="delete", has_rows=False, messages=["1 resource deleted"])
    result.warnings.append("page limit reached")
    notebook.report(result)
    assert capsys.readouterr().err.splitlines() == [
        "1 resource deleted",
        "warning: page limit reached",
    ]


def test_sandbox_option_starts_and_reset_stops(ipython: Any, sandbox: Sandbox) -> None:
    state = notebook.state_of(ipython)
    state.close()
    try:
        value = ipython.run_cell_magic(notebook.MAGIC_NAME, "--sandbox", GOOGLE_CELL)
        assert state.sandbox is not None
        assert state.sandbox.google.url != sandbox.google.url
        assert rows_of(value) == google_count(sandbox)
        ipython.run_line_magic(notebook.MAGIC_NAME, "--sandbox SELECT 1 AS one")
        own = state.sandbox
        assert own is not None
        ipython.run_line_magic(notebook.MAGIC_NAME, "--reset")
        assert state.sandbox is None and state.session is None
        assert own.google is None  # stopped
    finally:
        state.close()


def test_help(ipython: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert ipython.run_line_magic(notebook.MAGIC_NAME, "--help") is None
    assert "--sandbox" in capsys.readouterr().out


def test_parse_line() -> None:
    opts = notebook.parse_line(
        """--sandbox -o jobs --var "who=my team" --auth '{"google": {"type": "anonymous"}}' """
        "SELECT 'a  b' AS x"
    )
    assert opts.sandbox and opts.out == "jobs" and opts.variables == {"who": "my team"}
    assert opts.auth == {"google": {"type": "anonymous"}}
    assert opts.rest == "SELECT 'a  b' AS x"
    for bad, says in [
        ("--sandbx", "did you mean '--sandbox'"),
        ("-o 1x", "variable name"),
        ("--var", "needs a value"),
        ("--var novalue", "KEY=VALUE"),
        ("--auth '{oops", "closing quotation"),
        ("--auth '[]'", "JSON object"),
    ]:
        with pytest.raises(UsageError, match=says):
            notebook.parse_line(bad)


def test_frame_without_pandas_is_the_relation(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        notebook.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pandas" else real(name, *a),
    )
    result = Result(["a"], ["INTEGER"], [(1,), (2,)])
    assert notebook.frame(result).fetchall() == [(1,), (2,)]
    assert notebook.frame(Result([], [], [], has_rows=False)) is None


def test_a_notebook_variable_named_env_does_not_hide_the_environment() -> None:
    # env = "prod" is common in notebooks: {{ env.HOME }} failed with a wrong hint
    names = notebook._template_variables({"env": "prod", "region": "r", "_x": 1}, {})
    assert names == {"region": "r"}
