"""``stackql-tuning --sandbox exec ...`` as a user runs it: a fresh process that starts both
emulators, seeds them, queries them and stops them (issue 4's CLI acceptance, and the README's
first command)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stackql_tuning", "--sandbox", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_google_fan_out_on_the_sandbox() -> None:
    p = cli(
        "exec",
        "--output",
        "json",
        "SELECT projectsId, locationsId, displayName, state FROM "
        "google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId IN "
        "('ml-research-prod', 'ml-research-dev') "
        "AND locationsId IN ('us-central1', 'europe-west4')",
    )
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert len(rows) > 40
    assert {(r["projectsId"], r["locationsId"]) for r in rows} == {
        (pr, loc)
        for pr in ("ml-research-prod", "ml-research-dev")
        for loc in ("us-central1", "europe-west4")
    }
    assert all(r["state"].startswith("JOB_STATE_") and r["displayName"] for r in rows)


def test_aws_regions_on_the_sandbox() -> None:
    p = cli(
        "exec",
        "--output",
        "json",
        "SELECT region, HyperParameterTuningJobName, HyperParameterTuningJobStatus, Strategy "
        "FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region IN ('us-east-1', 'eu-west-1')",
    )
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert {r["region"] for r in rows} == {"us-east-1", "eu-west-1"}
    assert len(rows) > 20 and all(r["Strategy"] for r in rows)


def test_the_readme_example_script_runs() -> None:
    p = cli("exec", "-f", "examples/inventory.iql")
    assert p.returncode == 0, p.stderr
    assert "provider" in p.stdout and "google" in p.stdout and "aws" in p.stdout


def test_the_readme_example_script_runs_in_the_shell_as_in_exec() -> None:
    """``shell < examples/inventory.iql`` said "'{%' does not start a statement"."""
    script = (ROOT / "examples" / "inventory.iql").read_text()
    shell = subprocess.run(
        [sys.executable, "-m", "stackql_tuning", "--sandbox", "-o", "csv", "shell"],
        cwd=ROOT,
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    exec_ = cli("-o", "csv", "exec", "-f", "examples/inventory.iql")
    assert exec_.returncode == 0, exec_.stderr
    # exec separates its results with a blank line; the shell writes each one as it comes. The
    # seed's times follow the clock: the two runs' differ by a few seconds
    times = re.compile(r"\d{4}-\d\d-\d\d[T ][\d:.]+Z?")
    assert times.sub("<time>", shell.stdout) == times.sub("<time>", exec_.stdout).replace(
        "\n\n", "\n"
    )


def test_the_config_files_defaults_apply_on_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --sandbox once replaced the whole [defaults] table with its own region
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        '[defaults]\nprojectsId = ["ml-research-prod"]\nlocationsId = ["us-central1"]\n'
        'region = ["eu-west-1"]\n'
    )
    google = (
        "SELECT DISTINCT projectsId, locationsId FROM google.aiplatform.hyperparameter_tuning_jobs"
    )
    aws = "SELECT DISTINCT region FROM aws.sagemaker.hyper_parameter_tuning_jobs"
    p = cli("--config", str(config), "exec", "--output", "json", google + "; " + aws)
    assert p.returncode == 0, p.stderr
    assert '"projectsId":"ml-research-prod"' in p.stdout.replace(" ", "")
    assert '"region":"eu-west-1"' in p.stdout.replace(" ", "")
    # without a region in the config, the sandbox's own region is still the fallback
    config.write_text('[defaults]\nprojectsId = ["ml-research-prod"]\n')
    p = cli("--config", str(config), "exec", "--output", "json", aws)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [{"region": "us-east-1"}]


def test_the_config_files_accounts_apply_on_the_sandbox(tmp_path: Path) -> None:
    # --sandbox's own accounts once replaced the whole [aws.accounts] table of the config file:
    # "AwsAccountId 111122223333 is not configured". Now they are merged; on the sandbox's own
    # second account its entry wins (the config's profile would not reach the sandbox's data).
    from stackql_tuning.sandbox.runner import SECOND_ACCOUNT

    config = tmp_path / "config.toml"
    config.write_text(
        '[aws.accounts."111122223333"]\n'
        'role_arn = "arn:aws:iam::111122223333:role/TuningReadOnly"\n\n'
        f'[aws.accounts."{SECOND_ACCOUNT}"]\n'
        'profile = "no-such-profile"\n'
    )
    sql = (
        "SELECT AwsAccountId, count(*) AS n FROM aws.sagemaker.hyper_parameter_tuning_jobs"
        f" WHERE AwsAccountId IN ('123456789012', '111122223333', '{SECOND_ACCOUNT}')"
        " AND region = 'us-east-1' GROUP BY ALL ORDER BY ALL"
    )
    p = cli("--config", str(config), "exec", "--output", "json", sql)
    assert p.returncode == 0, p.stderr
    got = {r["AwsAccountId"]: r["n"] for r in json.loads(p.stdout)}
    assert set(got) == {"123456789012", SECOND_ACCOUNT}  # 111122223333 has no job
    assert all(n > 0 for n in got.values())


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stackql_tuning", "sandbox", "serve", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("flag", ["--port-google", "--port-aws"])
def test_serve_on_a_taken_port_is_the_same_usage_error(flag: str) -> None:
    """--port-aws once printed Werkzeug's own text and exited 1."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = _serve(flag, str(port))
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("usage error: the sandbox cannot listen on 127.0.0.1 (")
    assert f"{port} for " in p.stderr
    assert "Address already in use" in p.stderr
    assert "Port " not in p.stderr  # Werkzeug's text


def test_serve_refuses_one_port_for_both_servers() -> None:
    p = _serve("--port-google", "45678", "--port-aws", "45678")
    assert p.returncode == 2
    assert "--port-google and --port-aws are both 45678" in p.stderr


def test_serve_to_a_closed_stdout_ends_quietly() -> None:
    """A reader gone before the export lines (`| head -1`) was "cannot listen", exit 2."""
    import io

    from stackql_tuning.cli import main

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    assert main(["sandbox", "serve"], out=Closed(), err=err) == 0
    assert err.getvalue() == ""


@pytest.mark.parametrize(
    ("auth", "sql"),
    [
        (
            '{"google": {"type": "anonymous"}}',
            "SELECT count(*) AS n FROM aws.sagemaker.hyper_parameter_tuning_jobs "
            "WHERE region = 'us-east-1'",
        ),
        (
            '{"aws": {"type": "default"}}',
            "SELECT count(*) AS n FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1'",
        ),
    ],
)
def test_auth_for_one_provider_keeps_the_sandboxs_auth_for_the_other(auth: str, sql: str) -> None:
    # --auth naming one provider once dropped the sandbox's auth of the other: AWS calls took
    # the default chain (the user's real keys, or an IMDS probe), Google calls ADC
    p = cli("--auth", auth, "exec", "--output", "json", sql)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)[0]["n"] > 0
