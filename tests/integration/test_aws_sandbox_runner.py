"""The sandbox runner end to end: a Session over ``Sandbox.settings()``, and ``serve`` in a
subprocess printing export lines that boto3 can use, stopped by Ctrl-C; the AWS CLI over
``Sandbox.env()``."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import stackql_tuning
from stackql_tuning.sandbox.runner import Sandbox

pytestmark = pytest.mark.integration


def test_a_session_reads_the_seeded_aws_jobs(sandbox: Sandbox) -> None:
    session = stackql_tuning.connect(**sandbox.settings())
    result = session.execute(
        "SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus "
        "FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'eu-west-1'"
    )
    assert dict(result.rows) == sandbox.truth["aws"]["regions"]["eu-west-1"]


def test_serve_prints_exports_and_stops_on_ctrl_c() -> None:
    code = "from stackql_tuning.sandbox.runner import serve; serve(0, 0, 3)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    try:
        env: dict[str, str] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                env[name] = shlex.split(value)[0]
            if "Ctrl-C" in line:
                break
        assert {"AWS_ENDPOINT_URL", "STACKQL_TUNING_AUTH", "STACKQL_TUNING_GOOGLE_ENDPOINT"} <= set(
            env
        )
        sm = boto3.client(
            "sagemaker",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        jobs = sm.list_hyper_parameter_tuning_jobs(MaxResults=100)[
            "HyperParameterTuningJobSummaries"
        ]
        assert 20 <= len(jobs) <= 40
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_works_with_the_sandbox_env(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox = fresh_sandbox
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sandbox.env(), AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env["AWS_DEFAULT_REGION"] = "sa-east-1"

    def aws(*args: str) -> dict:
        done = subprocess.run(
            ["aws", "sagemaker", *args, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    spec = tmp_path / "job.json"
    spec.write_text(
        json.dumps(
            {
                "HyperParameterTuningJobName": "cli-job",
                "HyperParameterTuningJobConfig": {
                    "Strategy": "Random",
                    "ResourceLimits": {"MaxNumberOfTrainingJobs": 40, "MaxParallelTrainingJobs": 2},
                },
            }
        )
    )
    aws("create-hyper-parameter-tuning-job", "--cli-input-json", f"file://{spec}")
    aws("stop-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", "cli-job")
    status = sandbox.aws.truth("cli-job", region="sa-east-1")["status"]
    assert status in ("Stopping", "Stopped")  # describe over boto3 is tested elsewhere
    for name in ("cli-other-1", "cli-other-2"):
        config = {"Strategy": "Random", "ResourceLimits": {"MaxParallelTrainingJobs": 1}}
        sandbox.aws.gap.create_direct(
            "123456789012",
            "sa-east-1",
            {"HyperParameterTuningJobName": name, "HyperParameterTuningJobConfig": config},
        )
    sandbox.aws.reset_log()
    listed = aws("list-hyper-parameter-tuning-jobs", "--page-size", "1")
    names = [j["HyperParameterTuningJobName"] for j in listed["HyperParameterTuningJobSummaries"]]
    assert names == ["cli-job", "cli-other-1", "cli-other-2"]
    pages = [r for r in sandbox.aws.requests() if r["operation"] == "ListHyperParameterTuningJobs"]
    assert len(pages) == 3
