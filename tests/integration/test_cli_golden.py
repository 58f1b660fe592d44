"""Golden files for the CLI: each output format, and the errors users meet (stderr + exit code).

Runs ``stackql_tuning.cli.main`` in-process against the session's sandbox (its endpoints come
from the environment, as for a user who ran ``stackql-tuning sandbox serve``). The rows come
from jobs this module creates in a region the seed does not use, so they never change.
Regenerate with ``STACKQL_TUNING_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path

import pytest

from stackql_tuning.cli import main
from stackql_tuning.sandbox.runner import Sandbox

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "cli"
UPDATE = bool(os.environ.get("STACKQL_TUNING_UPDATE_GOLDEN"))
REGION = "eu-north-1"

QUERY = (
    "SELECT HyperParameterTuningJobName AS name, Strategy, ResourceLimits, "
    "TIMESTAMPTZ '2026-01-02 03:04:05+00' AS at, 0.25 AS ratio, NULL AS nothing, "
    "region FROM aws.sagemaker.hyper_parameter_tuning_jobs "
    f"WHERE region = '{REGION}' AND HyperParameterTuningJobName IN ('golden-a', 'golden-b') "
    "ORDER BY name"
)

ERRORS = {
    "missing_params": ["exec", "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs"],
    "unknown_column": [
        "exec",
        "SELECT displayNme FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'us-central1'",
    ],
    "page_token": [
        "exec",
        "SELECT count(*) FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        "WHERE region = 'us-east-1' AND NextToken = 'abc'",
    ],
    "timestamp_as_text": [
        "exec",
        "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'us-central1' AND createTime LIKE '2026%'",
    ],
    "unknown_resource": ["exec", "SELECT * FROM google.aiplatform.hyperparameter_tuning_job"],
    "unknown_service": ["exec", "SHOW RESOURCES IN google.vertex"],
    "unknown_method": ["exec", "EXEC google.aiplatform.tuning_jobs.stop @projectsId='p'"],
    "provider_error": [
        "exec",
        "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'us-central1' AND pageSize = -1",
    ],
    "parse_error": ["exec", "SELEC name FROM google.aiplatform.tuning_jobs"],
    "bad_location": [
        "exec",
        "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'evil.com/x'",
    ],
    "no_sql": ["exec"],
    "bad_output": ["exec", "--output", "yaml", "SHOW PROVIDERS"],
    "bad_auth": ["exec", "--auth", "{not json", "SHOW PROVIDERS"],
}


@pytest.fixture(scope="module")
def golden_jobs(sandbox: Sandbox) -> None:
    client = sandbox.aws.client(REGION)
    existing = client.list_hyper_parameter_tuning_jobs(MaxResults=100)
    have = {j["HyperParameterTuningJobName"] for j in existing["HyperParameterTuningJobSummaries"]}
    for name, strategy, parallel in (("golden-a", "Bayesian", 2), ("golden-b", "Random", 4)):
        if name in have:
            continue
        client.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            HyperParameterTuningJobConfig={
                "Strategy": strategy,
                "ResourceLimits": {
                    "MaxNumberOfTrainingJobs": 20,
                    "MaxParallelTrainingJobs": parallel,
                },
            },
        )


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{path} differs (STACKQL_TUNING_UPDATE_GOLDEN=1 regenerates)"


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "markdown", "text"])
def test_each_output_format(fmt: str, sandbox_env: dict, golden_jobs: None) -> None:
    code, out, err = run(["exec", "--output", fmt, QUERY])
    assert code == 0, err
    check(f"formats/query.{fmt}", out)


def test_hide_headers(sandbox_env: dict, golden_jobs: None) -> None:
    for fmt in ("csv", "text"):
        code, out, _ = run(["exec", "--output", fmt, "--hide-headers", QUERY])
        assert code == 0
        check(f"formats/query_noheader.{fmt}", out)


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case: str, sandbox_env: dict) -> None:
    if case == "unknown_method" and importlib.util.find_spec("stackql_tuning.run.mutate") is None:
        pytest.skip("EXEC handling (stackql_tuning.run.mutate) is not there yet")
    code, out, err = run(ERRORS[case])
    assert out == "", "errors never print to stdout"
    assert "Traceback" not in err
    check(f"errors/{case}.txt", f"exit {code}\n{err}")
    assert code in (1, 2)
