"""The command line without servers: catalog output, usage errors, and docs that match it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from stackql_tuning import cli as cli_module
from stackql_tuning.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(argv, out=out, err=err), out.getvalue(), err.getvalue()


def test_show_methods_of_the_sagemaker_resource_as_json() -> None:
    code, out, err = run(
        ["exec", "--output", "json", "SHOW METHODS IN aws.sagemaker.hyper_parameter_tuning_jobs"]
    )
    assert code == 0, err
    rows = {r["MethodName"]: r for r in json.loads(out)}
    assert list(rows) == ["get", "list", "create", "delete", "stop"]
    assert rows["get"]["RequiredParams"] == "HyperParameterTuningJobName, region"
    assert rows["list"]["RequiredParams"] == "region"
    assert rows["stop"]["SQLVerb"] == "EXEC"


def test_describe_and_show_insert() -> None:
    code, out, _ = run(
        [
            "exec",
            "-o",
            "csv",
            "DESCRIBE google.aiplatform.tuning_jobs; "
            "SHOW INSERT INTO google.aiplatform.tuning_jobs",
        ]
    )
    assert code == 0
    assert "baseModel,string" in out
    assert "INSERT INTO google.aiplatform.tuning_jobs" in out


def test_show_insert_as_text_is_the_statement_to_save_and_the_table_shows_its_lines() -> None:
    """``-o text -H ... > create.iql`` writes the statement as it is (the COPY-text escapes of
    every other result would put it on one line with ``\\n`` in it), and the box shows it a
    line per line."""
    statement = "SHOW INSERT INTO google.aiplatform.hyperparameter_tuning_jobs"
    code, out, err = run(["exec", "-o", "text", "-H", statement])
    assert code == 0, err
    assert out.startswith("INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (\n")
    assert "\\n" not in out and out.endswith("\n;\n")
    code, box, err = run(["exec", "-o", "table", statement])
    assert code == 0, err
    lines = box.splitlines()
    assert "│ insert_statement" in lines[1]
    assert any(line.startswith("│ SELECT ") for line in lines)
    assert "\\n" not in box
    assert len({len(line) for line in lines}) == 1  # one box, every line as wide


def test_usage_errors_exit_2_and_statement_errors_exit_1() -> None:
    assert run(["exec", "--concurrency", "0", "SHOW PROVIDERS"])[0] == 2
    assert run(["nope"])[0] == 2
    code, out, err = run(["exec", "SHOW METHODS IN google.aiplatform.nope"])
    assert code == 1 and out == "" and "SHOW RESOURCES IN google.aiplatform" in err


def test_script_errors_name_the_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "x.iql"
    script.write_text("SHOW PROVIDERS;\n\nSHOW METHODS IN google.aiplatform.nope;\n")
    code, out, err = run(["exec", "-f", str(script)])
    assert code == 1
    assert "aws" in out  # the first statement ran and printed before the failure
    assert f"{script}:3" in err


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in COMMANDS:
        assert re.search(rf"stackql-tuning[^\n`]* {command}\b", readme), command
    for action in build_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag not in ("--help", "--version", "--hide-headers"):
                assert flag in readme, f"{flag} is not in the README"


def test_missing_credentials_say_which_provider_and_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    for var in (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "STACKQL_TUNING_AUTH",
        "STACKQL_TUNING_GOOGLE_ENDPOINT",
    ):
        monkeypatch.delenv(var, raising=False)
    code, out, err = run(
        [
            "exec",
            "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'",
        ]
    )
    assert code == 1 and out == ""
    assert err.startswith("auth error: no Google credentials found")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in err and "--auth" in err
    monkeypatch.setenv(
        "STACKQL_TUNING_AUTH",
        '{"aws": {"type": "aws_signing_v4", '
        '"keyIDenvvar": "NO_SUCH_KEY_VAR", "credentialsenvvar": "NO_SUCH_SECRET"}}',
    )
    code, _, err = run(
        [
            "exec",
            "SELECT 1 FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1'",
        ]
    )
    assert code == 1 and "NO_SUCH_KEY_VAR, NO_SUCH_SECRET not set" in err


def test_auth_json_nested_too_deeply_is_a_usage_error() -> None:
    deep = '{"google": ' + "[" * 100_000 + "]" * 100_000 + "}"
    code, out, err = run(["--auth", deep, "exec", "SELECT 1"])
    assert (code, out) == (2, "")
    assert "usage error: --auth nests its values too deeply" in err


SECONDS = "a positive number of seconds, at most 2592000 (30 days)"
RATE = "a number of requests per second from 0.001 to 1e+06"


@pytest.mark.parametrize(
    ("option", "value", "rule"),
    [
        ("--page-limit", "0", "at least 1"),
        ("--page-limit", "-1", "at least 1"),
        ("--concurrency", "0", "at least 1"),
        ("--max-attempts", "0", "at least 1"),
        ("--timeout", "0", SECONDS),
        ("--timeout", "nan", SECONDS),
        ("--timeout", "1e10", SECONDS),
        ("--connect-timeout", "-2", SECONDS),
        ("--connect-timeout", "1e10", SECONDS),
        ("--read-timeout", "inf", SECONDS),
        ("--read-timeout", "1e10", SECONDS),
        ("--rate-limit", "0", RATE),
        ("--rate-limit", "1e-308", RATE),
        ("--cache-ttl", "-1", "a number of seconds >= 0, at most 2592000 (30 days)"),
    ],
)
def test_numeric_options_out_of_range_are_usage_errors(option: str, value: str, rule: str) -> None:
    code, out, err = run([option, value, "exec", "SELECT 1"])
    assert (code, out) == (2, "")
    assert err.startswith(f"usage error: {option} must be {rule}, got ")


@pytest.mark.parametrize(
    "options",
    [
        ["--cache-ttl", "0"],
        ["--page-limit", "1"],
        ["--timeout", "0.5"],
        ["--read-timeout", "2592000"],
        ["--rate-limit", "0.001"],
    ],
)
def test_numeric_options_at_their_bounds_are_accepted(options: list[str]) -> None:
    code, out, err = run([*options, "exec", "-o", "csv", "SELECT 1 AS x"])
    assert (code, out, err) == (0, "x\n1\n", "")


def shell(argv: list[str], script: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """``main`` running the shell over ``script`` as a non-interactive stdin."""
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    return run(argv)


@pytest.mark.parametrize(
    "argv",
    [["shell", "--hide-headers", "-o", "csv"], ["--hide-headers", "-o", "csv", "shell"]],
)
def test_the_shell_hides_headers_as_exec_does(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = shell(argv, "SELECT 1 AS x, 'a' AS y;\n", monkeypatch)
    assert code == 0, err
    assert out == "1,a\n"
    assert run(["--hide-headers", "-o", "csv", "exec", "SELECT 1 AS x, 'a' AS y"])[1] == out


def test_the_shell_renders_its_stdin_script_with_var_as_exec_f_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = "{% set y = y | default('b') %}\nSELECT {{ x }} AS x, '{{ y }}' AS y;\n"
    vars_file = tmp_path / "v.yaml"
    vars_file.write_text("y: c\n")
    options = ["--var", "x=7", "--vars-file", str(vars_file)]
    code, out, err = shell(["-o", "csv", "shell", *options], script, monkeypatch)
    assert (code, out) == (0, "x,y\n7,c\n"), err
    path = tmp_path / "s.iql"
    path.write_text(script)
    assert run(["-o", "csv", "exec", "-f", str(path), *options])[1] == out
    # \i renders the file with the same variables
    code, out, err = shell(["-o", "csv", "shell", *options], f"\\i {path}\n", monkeypatch)
    assert (code, out) == (0, "x,y\n7,c\n"), err


def test_a_bad_shell_var_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = shell(["shell", "--var", "nokey"], "SELECT 1;\n", monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith("usage error: --var expects KEY=VALUE")


@pytest.mark.parametrize(
    ("argv", "no_pager"),
    [
        (["--no-pager", "shell"], True),  # as docs/shell.md's synopsis gives it
        (["shell", "--no-pager"], True),
        (["shell"], False),
    ],
)
def test_no_pager_is_accepted_before_and_after_shell(argv: list[str], no_pager: bool) -> None:
    assert build_parser().parse_args(argv).no_pager is no_pager


def test_no_pager_before_shell_reaches_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_run_shell(session: object, **kw: object) -> int:
        seen.update(kw)
        return 0

    monkeypatch.setattr("stackql_tuning.shell.run_shell", fake_run_shell)
    assert run(["--no-pager", "shell"])[0] == 0
    assert seen["pager"] is False


def test_sandbox_serve_port_mistakes_are_usage_errors() -> None:
    import io
    import socket

    from stackql_tuning.cli import main

    out, err = io.StringIO(), io.StringIO()
    assert main(["sandbox", "serve", "--port-google", "99999"], out, err) == 2
    assert "--port-google 99999 is not a port" in err.getvalue()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        assert main(["sandbox", "serve", "--port-google", str(port)], out, err) == 2
    assert "cannot listen on 127.0.0.1" in err.getvalue() and "Traceback" not in err.getvalue()


def test_markdown_results_of_several_statements_stay_separate_tables() -> None:
    """A Markdown table runs on into the next lines: the second result's header would read as
    rows of the first. A blank line keeps them two tables (and none leads a first result)."""
    code, out, err = run(
        ["exec", "-o", "markdown", "SELECT 1 AS a; CREATE TABLE t AS SELECT 1 AS x; SELECT 2 AS b"]
    )
    assert code == 0, err
    assert out == "| a   |\n| --: |\n|   1 |\n\n| b   |\n| --: |\n|   2 |\n"
    code, out, err = run(["exec", "-o", "csv", "SELECT 1 AS a; SELECT 2 AS b"])
    assert out == "a\n1\nb\n2\n"  # CSV as it was: one header per result, nothing between


@pytest.mark.parametrize("action", ["generate", "docs"])
def test_registry_out_that_cannot_be_a_directory_is_a_usage_error(
    action: str, tmp_path: Path
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, said in [
        (afile, f"--out {afile} is not a directory"),
        (afile / "x", f"--out {afile / 'x'} is not a directory: {afile} is a file"),
        (Path("/proc/nope"), "cannot write --out /proc/nope"),
    ]:
        code, _, err = run(["registry", action, "--out", str(out)])
        assert code == 2, err
        assert err.startswith(f"usage error: {said}"), err
        assert "internal error" not in err


@pytest.mark.parametrize("action", ["generate", "docs"])
def test_registry_commands_need_out_in_an_installed_package(
    action: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # from a wheel they wrote providers/ and docs/ into site-packages, which no one read and
    # uninstall left behind
    package = tmp_path / "site-packages" / "stackql_tuning"
    package.mkdir(parents=True)
    monkeypatch.setattr(cli_module, "__file__", str(package / "cli.py"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["registry", action], out, err) == 2
    assert "give --out DIR" in err.getvalue()
    assert sorted(p.name for p in (tmp_path / "site-packages").iterdir()) == ["stackql_tuning"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--dry-run", "registry", "docs", "--out", "x"], "--dry-run does not"),
        (["--sandbox", "sandbox", "serve"], "--sandbox does not"),
        (["--timeout", "3", "--no-pager", "registry", "generate"], "--timeout, --no-pager do not"),
    ],
)
def test_global_options_before_a_command_that_takes_none_are_refused(
    argv: list[str], named: str
) -> None:
    # `--dry-run registry docs` was accepted, and the files were written all the same
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out, err) == 2
    assert named in err.getvalue() and "global options are for exec, shell and deploy" in (
        err.getvalue()
    )


def test_a_failed_script_statement_says_which_statements_did_not_run(tmp_path: Path) -> None:
    script = tmp_path / "s.iql"
    script.write_text("SELECT 1;\nSELECT nope FROM t;\nSELECT 3; SELECT 3;\n\nSELECT 4;\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["exec", "-f", str(script), "-o", "csv"], out, err) == 1
    assert "the 3 statements after it were not run (lines 3, 5)" in err.getvalue()
    assert out.getvalue().split() == ["1", "1"]
    script.write_text("SELECT nope FROM t;\nSELECT 2;\n")
    assert main(["exec", "-f", str(script)], io.StringIO(), err := io.StringIO()) == 1
    assert "the statement after it was not run (line 2)" in err.getvalue()


def test_deploy_teardown_says_it_writes_no_output_file(tmp_path: Path) -> None:
    code, _, err = run(
        ["deploy", "teardown", str(tmp_path), "dev", "--output-file", str(tmp_path / "x.json")]
    )
    assert "teardown exports nothing, and writes no file" in err
    assert code == 1 and "no stackql_manifest.yml" in err  # and the stack's own error


@pytest.mark.parametrize(
    "argv",
    [
        ["--outptu", "json", "exec", "SELECT 1"],  # was "invalid choice: 'json'"
        ["exec", "--outptu", "json", "SELECT 1"],  # was "unrecognized arguments: --outptu ..."
    ],
)
def test_a_misspelled_option_is_named_with_the_one_meant(argv: list[str]) -> None:
    code, out, err = run(argv)
    assert code == 2 and out == ""
    assert "unknown option --outptu" in err and "'--output'" in err


def test_sql_text_that_starts_with_a_comment_and_a_prefix_of_an_option_pass() -> None:
    assert run(["exec", "-- a comment\nSELECT 1 AS x", "-o", "csv"])[:2] == (0, "x\n1\n")
    assert run(["--outp", "csv", "exec", "SELECT 1 AS x"])[:2] == (0, "x\n1\n")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["deploy", "build", "manifests/vertex-hpt", "dev", "-e", "A=1", "-e", "NOEQUALS"],
            "-e expects KEY=VALUE, got an argument with no '=' (the 2nd -e; not shown: it may "
            "be a password or a token)",
        ),
        (
            ["exec", "SELECT 1", "--var", "TOKEN:Sup3rS3cret"],
            "--var expects KEY=VALUE, got an argument with no '=' (the 1st --var; it starts "
            "with 'TOKEN')",
        ),
        (
            ["exec", "SELECT 1", "--var", "a=1", "--var", "b=2", "--var", "3x=Sup3rS3cret"],
            "--var expects KEY=VALUE, got an argument with no variable name before its '=' "
            "(the 3rd --var;",
        ),
    ],
)
def test_a_malformed_pair_is_a_whole_sentence_naming_which_one(argv: list[str], said: str) -> None:
    # it was "-e expects KEY=VALUE; the argument given is not": cut off, and which one unsaid;
    # its text stays unshown (a value forgotten its KEY= may be a secret)
    code, out, err = run(argv)
    assert code == 2 and out == ""
    assert said in err and "Sup3rS3cret" not in err and "NOEQUALS" not in err
    assert "Traceback" not in err
