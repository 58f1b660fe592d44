"""Credential hygiene: no credential reaches stdout, stderr, logs, --dry-run output or errors.

The CLI runs in subprocesses against the sandbox with recognisable fake AWS keys (moto accepts
any) and, for the Google service-account path, a key file holding a recognisable private key
string. Every output of every run is searched for each secret.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.sandbox.runner import KEY_ID_VAR, SECRET_VAR, Sandbox
from stackql_tuning.session import Session

KEY_ID = "AKIANOSECRETSTEST001"
SECRET = "noSecretsTest/0001+MustNeverBePrinted"
PRIVATE_KEY_MARK = "HOSTILEPRIVATEKEYMATERIALMUSTNEVERBEPRINTED0001"
SECRETS = (KEY_ID, SECRET, PRIVATE_KEY_MARK)
ROOT = Path(__file__).resolve().parents[2]

AWS_LIST = (
    "SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus "
    "FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1'"
)
AWS_INVALID = (
    "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs "
    "WHERE region = 'us-east-1' AND MaxResults = 1000"  # a ValidationException from the API
)
GOOGLE_FANOUT = (
    "SELECT name, state FROM google.aiplatform.hyperparameter_tuning_jobs "
    "WHERE projectsId IN ('ml-research-prod', 'ml-research-dev') "
    "AND locationsId IN ('us-central1', 'europe-west4')"
)


def leaks(*texts: str) -> list[str]:
    return [s for s in SECRETS for t in texts if s in t]


@pytest.fixture
def env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STACKQL_"))}
    out.update(sandbox.env())
    out.update(
        {
            KEY_ID_VAR: KEY_ID,
            SECRET_VAR: SECRET,
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "HOME": str(tmp_path),  # no user config or AWS profile of the machine
        }
    )
    return out


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "stackql_tuning", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def key_file(tmp_path: Path, **fields: Any) -> Path:
    pem = (
        "-----BEGIN PRIVATE KEY-----\n"
        + PRIVATE_KEY_MARK
        + "\nAAAABBBBCCCCDDDD\n-----END PRIVATE KEY-----\n"
    )
    data = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "0001",
        "private_key": pem,
        "client_email": "x@p.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    data.update(fields)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(data))
    return path


CASES: list[tuple[str, list[str], int]] = [
    ("aws list", ["exec", AWS_LIST, "-o", "json"], 0),
    ("google fan-out", ["exec", GOOGLE_FANOUT, "-o", "csv"], 0),
    ("aws dry run", ["exec", AWS_LIST, "--dry-run"], 0),
    ("google dry run", ["exec", GOOGLE_FANOUT, "--dry-run", "-o", "json"], 0),
    ("aws failed call", ["exec", AWS_INVALID], 1),
    ("parse error", ["exec", "SELEC name FROM x"], 1),
    ("usage error", ["exec", AWS_LIST, "--output", "yaml"], 2),
    (
        "auth JSON holding a secret",
        ["exec", AWS_LIST, "--auth", '{"aws": {"type": "aws_signing_v4", "x": "' + SECRET + '"'],
        2,
    ),
]


@pytest.mark.parametrize(("what", "args", "code"), CASES, ids=[c[0] for c in CASES])
def test_cli_outputs_hold_no_credential(
    env: dict[str, str], what: str, args: list[str], code: int
) -> None:
    done = run_cli(env, *args)
    assert done.returncode == code, done.stderr
    assert leaks(done.stdout, done.stderr) == []
    assert "Traceback" not in done.stderr


def test_cli_with_debug_on_holds_no_credential(env: dict[str, str]) -> None:
    done = run_cli({**env, "STACKQL_TUNING_DEBUG": "1"}, "exec", AWS_INVALID)
    assert done.returncode == 1
    assert leaks(done.stdout, done.stderr) == []


def test_shell_output_holds_no_credential(env: dict[str, str]) -> None:
    done = run_cli(env, "shell", stdin=AWS_LIST + ";\n" + AWS_INVALID + ";\n")
    assert KEY_ID not in done.stdout and "Completed" in done.stdout + done.stderr
    assert leaks(done.stdout, done.stderr) == []


@pytest.mark.parametrize(
    "fields",
    [{}, {"client_email": None}, {"type": "authorized_user"}, {"private_key": "not a key"}],
    ids=["bad key material", "no client_email", "wrong type", "garbage key"],
)
def test_a_bad_service_account_file_is_named_not_printed(
    env: dict[str, str], tmp_path: Path, fields: dict[str, Any]
) -> None:
    path = key_file(tmp_path, **fields)
    auth = json.dumps({"google": {"type": "service_account", "credentialsfilepath": str(path)}})
    done = run_cli(env, "exec", GOOGLE_FANOUT, "--auth", auth)
    assert done.returncode == 1, done.stderr
    assert "auth error" in done.stderr and "key.json" in done.stderr
    assert leaks(done.stdout, done.stderr) == []


def test_debug_logs_hold_no_credential(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ID_VAR, KEY_ID)
    monkeypatch.setenv(SECRET_VAR, SECRET)
    caplog.set_level(logging.DEBUG)
    errors = []
    with Session(**sandbox.settings()) as session:
        session.execute(AWS_LIST)
        session.execute(GOOGLE_FANOUT)
        try:
            session.execute(AWS_INVALID)
        except StackqlTuningError as e:
            errors.append(str(e))
    messages = [r.getMessage() for r in caplog.records]
    assert any("sagemaker" in m.lower() for m in messages)  # botocore did log at DEBUG
    assert errors and leaks(*errors) == []
    assert leaks(*messages) == []
    assert not any("Authorization': b'AWS4" in m for m in messages)
