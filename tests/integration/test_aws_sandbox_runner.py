"""The sandbox runner end to end: a Session over ``Sandbox.settings()``, and ``serve`` in a
subprocess printing export lines that boto3 can use, stopped by Ctrl-C."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

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
