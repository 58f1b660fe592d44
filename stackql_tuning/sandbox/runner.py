"""The sandbox runner: both local clouds at once, seeded, with the settings a client needs.

:class:`Sandbox` starts the Vertex AI emulator and the AWS sandbox on 127.0.0.1 (free ports by
default), seeds both with the demo data, and gives the environment variables (``env()``) and
Session settings (``settings()``) that point stackql-tuning, boto3 or the AWS CLI at them with
dummy credentials. :func:`serve` runs both until Ctrl-C for ``stackql-tuning sandbox serve``.

It must not parse command lines (cli.py does) and imports the servers only in ``start()``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, TextIO

from stackql_tuning.config import ACCOUNTS_VAR
from stackql_tuning.sandbox.aws import SANDBOX_KEY_ID, SANDBOX_SECRET, AwsSandbox

KEY_ID_VAR = "STACKQL_TUNING_SANDBOX_KEY_ID"
SECRET_VAR = "STACKQL_TUNING_SANDBOX_SECRET"
DEFAULT_REGION = "us-east-1"
#: a second AWS account, reached by assuming this role (the sandbox's settings() map it)
SECOND_ACCOUNT = "210987654321"
SECOND_ACCOUNT_ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/sandbox"
SECOND_ACCOUNT_REGIONS = ("us-east-1", "eu-central-1")
#: the auth configuration (StackQL's JSON shape) for a sandbox: no real credential anywhere
AUTH: dict[str, Any] = {
    "google": {"type": "anonymous"},
    "aws": {"type": "aws_signing_v4", "keyIDenvvar": KEY_ID_VAR, "credentialsenvvar": SECRET_VAR},
}


class Sandbox:
    """Both sandboxes: ``with Sandbox() as sb: Session(**sb.settings())``.

    ``start()`` also puts the two dummy key variables (``STACKQL_TUNING_SANDBOX_KEY_ID`` and
    ``..._SECRET``) into ``os.environ`` when unset, so that ``settings()`` works in-process.
    """

    def __init__(
        self,
        seed: int = 0,
        google_port: int = 0,
        aws_port: int = 0,
        latency: float = 0.0,
        seed_data: bool = True,
        *,
        host: str = "127.0.0.1",
        speed: float = 3600.0,
    ) -> None:
        self.seed = seed
        self.seed_data = seed_data
        self.google: Any = None  # VertexEmulator once started
        self.aws = AwsSandbox(host, aws_port, seed=seed, latency=latency, speed=speed)
        self.host, self.google_port, self.latency, self.speed = host, google_port, latency, speed
        self.truth: dict[str, Any] = {}
        self.startup_seconds: float | None = None

    def start(self) -> Sandbox:
        """Start (and seed) both servers; idempotent. Returns ``self``."""
        if self.google is not None:
            return self
        began = time.perf_counter()
        from stackql_tuning.sandbox.vertex import VertexEmulator

        google = VertexEmulator(
            self.host, self.google_port, seed=self.seed, latency=self.latency, speed=self.speed
        )
        google.start()
        self.google = google
        try:
            self.aws.start()
            for var, value in ((KEY_ID_VAR, SANDBOX_KEY_ID), (SECRET_VAR, SANDBOX_SECRET)):
                os.environ.setdefault(var, value)
            if self.seed_data:
                from stackql_tuning.sandbox.seed_aws import seed_aws
                from stackql_tuning.sandbox.seed_google import seed_google

                aws = seed_aws(self.aws, seed=self.seed, via="direct")
                second = seed_aws(  # its own jobs (another seed), with clock limits
                    self.aws,
                    seed=self.seed + 1,
                    regions=SECOND_ACCOUNT_REGIONS,
                    jobs_per_region=(6, 10),
                    account=SECOND_ACCOUNT,
                    via="direct",
                    clock_limit=True,
                )
                aws["accounts"] = {aws["account"]: dict(aws), SECOND_ACCOUNT: second}
                self.truth = {"google": seed_google(google, seed=self.seed), "aws": aws}
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - began
        return self

    def stop(self) -> None:
        if self.google is not None:
            self.google.stop()
            self.google = None
        self.aws.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _require(self) -> Any:
        if self.google is None:
            raise RuntimeError("the sandbox is not started; call start() first")
        return self.google

    def env(self) -> dict[str, str]:
        """Environment variables that point stackql-tuning, boto3 and the AWS CLI here.

        Besides the stackql-tuning variables it sets ``AWS_ACCESS_KEY_ID`` and
        ``AWS_SECRET_ACCESS_KEY`` to the dummy keys, so that plain AWS tools never sign a
        sandbox request with real credentials.
        """
        google = self._require()
        return {
            "STACKQL_TUNING_GOOGLE_ENDPOINT": google.url,
            "STACKQL_TUNING_AUTH": json.dumps(AUTH, separators=(",", ":")),
            "AWS_ENDPOINT_URL": self.aws.url,
            KEY_ID_VAR: SANDBOX_KEY_ID,
            SECRET_VAR: SANDBOX_SECRET,
            "AWS_ACCESS_KEY_ID": SANDBOX_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            # the second account's role, as settings() maps it (AwsAccountId IN (...) failed
            # with "not configured" after the export lines alone)
            ACCOUNTS_VAR: json.dumps(
                {SECOND_ACCOUNT: {"role_arn": SECOND_ACCOUNT_ROLE}}, separators=(",", ":")
            ),
        }

    def settings(self) -> dict[str, Any]:
        """Session settings: ``Session(**sandbox.settings())``.

        ``accounts`` maps the second sandbox account (``SECOND_ACCOUNT``) to a role that the
        session assumes through the sandbox's STS, so ``AwsAccountId IN (...)`` fans out.
        """
        google = self._require()
        return {
            "google_endpoint": google.url,
            "aws_endpoint": self.aws.url,
            "auth": json.loads(json.dumps(AUTH)),
            "accounts": {SECOND_ACCOUNT: {"role_arn": SECOND_ACCOUNT_ROLE}},
        }


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def serve(
    google_port: int = 0,
    aws_port: int = 0,
    seed: int = 0,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run both sandboxes until Ctrl-C (or ``stop`` is set), after printing ``export`` lines."""
    out = out or sys.stdout
    with Sandbox(seed=seed, google_port=google_port, aws_port=aws_port) as sandbox:
        print(
            f"# stackql-tuning sandbox (seed {seed}): Vertex AI at {sandbox.google.url}, "
            f"AWS SageMaker at {sandbox.aws.url}; started in {sandbox.startup_seconds:.2f} s",
            file=out,
        )
        print("# paste these into a shell, then run stackql-tuning or the AWS CLI:", file=out)
        for name, value in sandbox.env().items():
            print(f"export {name}={_quote(value)}", file=out)
        print("# press Ctrl-C to stop", file=out, flush=True)
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
