"""The sandbox servers for one benchmark scenario, in their own process.

``python -m benchmarks.servers '{"aws_regions": {"us-east-1": 250}, "latency": 0.05}'`` starts
the Vertex AI emulator (empty) and moto's SageMaker (optionally filled per region), prints
one JSON line ``{"google": url, "aws": url}`` and serves until its stdin closes. Running the
servers in a separate process keeps their CPU and GIL off the client being measured, and gives
each scenario a fresh moto (whose state is process-global).

:class:`Servers` is the client side: start, fill the emulator through ``/__admin/jobs``, set
latency through ``/__admin/config``, read the request logs, stop.

Must not: measure anything (the scenarios do).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from typing import Any

import orjson

from benchmarks.data import HPT, hpt_template


def serve(config: dict[str, Any]) -> None:
    from stackql_tuning.sandbox.vertex import VertexEmulator

    latency = float(config.get("latency", 0.0))
    google = VertexEmulator(latency=latency, max_page_size=int(config.get("max_page_size", 100)))
    google.start()
    aws = MotoServer(latency)
    aws.start()
    for region, count in (config.get("aws_regions") or {}).items():
        add_moto_jobs(region, int(count))
    print(json.dumps({"google": google.url, "aws": aws.url}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    google.stop()
    aws.stop()


class MotoServer:
    """moto's SageMaker on 127.0.0.1 behind a latency and request-log layer, keep-alive on.

    The sandbox's own AWS server adds a job simulation that refreshes every job under one lock
    on each request (33 ms per describe, 137 ms per list page with 200 jobs on this machine),
    which would measure the sandbox rather than the clients; plain moto answers in ~1-5 ms.

    Every SageMaker request (``X-Amz-Target: SageMaker.*``, all the benchmarks send) goes
    straight to moto's SageMaker Flask app, built once at start: moto's
    ``DomainDispatcherApplication`` works out the backend from the host on every request, and
    on this machine that lookup (``list_of_moto_modules``, ~180 ``os.stat`` per request) cost
    ~1-1.5 ms of the ~4 ms moto spends on a describe. The reply is moto's own either way. Anything
    else (no benchmark sends it) still goes through moto's dispatcher.

    ``latency`` is the response time: the reply leaves ``latency`` seconds after the request
    arrived, with moto's own work inside that time (at once if moto took longer). A log
    entry's ``time`` is when its reply left.
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.log: list[dict[str, Any]] = []
        self._server: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__admin/"):
            return self._admin(environ, start_response, path[len("/__admin/") :])
        arrived = time.monotonic()
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        app = self.sagemaker if target.startswith("SageMaker.") else self.moto
        reply = app(environ, start_response)
        try:
            body = list(reply)  # moto's work, done inside the latency
        finally:
            if hasattr(reply, "close"):
                reply.close()
        left = arrived + self.latency - time.monotonic()
        if left > 0:
            time.sleep(left)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        region = auth.split("Credential=", 1)[-1].split("/")[2] if "Credential=" in auth else ""
        self.log.append(
            {"operation": target.rpartition(".")[2], "region": region, "time": time.time()}
        )
        return body

    def _admin(self, environ: dict[str, Any], start_response: Any, action: str) -> Any:
        if action == "reset-log":
            self.log.clear()
            reply: Any = {"ok": True}
        elif action == "requests":
            reply = list(self.log)
        elif action == "config":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(size) or b"{}")
            self.latency = float(body.get("latency", self.latency))
            reply = {"latency": self.latency}
        else:
            reply = {"error": f"no admin action {action}"}
        data = orjson.dumps(reply)
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class Handler(MotoRequestHandler):
            disable_nagle_algorithm = True
            protocol_version = "HTTP/1.1"

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.moto = DomainDispatcherApplication(create_backend_app)
        self.sagemaker = create_backend_app("sagemaker")
        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()


def add_moto_jobs(region: str, count: int, account: str = "123456789012") -> None:
    """``count`` realistic tuning jobs (the AWS demo seed's request builder) straight into moto."""
    from moto.sagemaker.models import sagemaker_backends

    from stackql_tuning.sandbox.seed_aws import FAMILIES, _request

    backend = sagemaker_backends[account][region]
    rng = random.Random(f"bench/{region}")
    for i in range(count):
        family = FAMILIES[i % len(FAMILIES)]
        name = f"{family[0]}-bench-{i:05d}"
        request = _request(rng, name, family, region, account)
        backend.create_hyper_parameter_tuning_job(
            hyper_parameter_tuning_job_name=name,
            hyper_parameter_tuning_job_config=request["HyperParameterTuningJobConfig"],
            training_job_definition=request.get("TrainingJobDefinition"),
            training_job_definitions=request.get("TrainingJobDefinitions"),
            warm_start_config=None,
            tags=request.get("Tags"),
            autotune=None,
        )


class Servers:
    """A running ``benchmarks.servers`` process: ``with Servers(...) as s: s.google``."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.proc: subprocess.Popen[str] | None = None
        self.google = ""
        self.aws = ""

    def __enter__(self) -> Servers:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.servers", json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark servers did not start")
        urls = json.loads(line)
        self.google, self.aws = urls["google"], urls["aws"]
        self._http = _http()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
            self.proc = None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    # -- Vertex emulator admin -------------------------------------------------------------
    def google_admin(self, method: str, action: str, body: Any = None) -> Any:
        resp = self._http.request(method, self.google + "__admin/" + action, json=body)
        resp.raise_for_status()
        return orjson.loads(resp.content)

    def add_google_jobs(self, project: str, location: str, count: int) -> None:
        parent = f"projects/{project}/locations/{location}"
        body = {
            "collection": HPT,
            "parent": parent,
            "count": count,
            "template": hpt_template(project, location),
            "state": "JOB_STATE_SUCCEEDED",
        }
        self.google_admin("POST", "jobs", body)

    def google_requests(self) -> list[dict[str, Any]]:
        return list(self.google_admin("GET", "requests")["requests"])

    def reset_logs(self) -> None:
        self.google_admin("POST", "reset-log")
        self._http.post(self.aws + "/__admin/reset-log").raise_for_status()

    def aws_requests(self) -> list[dict[str, Any]]:
        resp = self._http.get(self.aws + "/__admin/requests")
        resp.raise_for_status()
        return list(resp.json())

    def set_latency(self, seconds: float) -> None:
        self.google_admin("POST", "config", {"latency": seconds})
        resp = self._http.post(self.aws + "/__admin/config", json={"latency": seconds})
        resp.raise_for_status()

    def env(self) -> dict[str, str]:
        """Environment for our CLI, boto3 scripts and the AWS CLI (dummy keys only)."""
        from stackql_tuning.sandbox.aws import SANDBOX_KEY_ID, SANDBOX_SECRET
        from stackql_tuning.sandbox.runner import AUTH, KEY_ID_VAR, SECRET_VAR

        return {
            "STACKQL_TUNING_GOOGLE_ENDPOINT": self.google,
            "STACKQL_TUNING_AUTH": json.dumps(AUTH),
            "AWS_ENDPOINT_URL": self.aws,
            KEY_ID_VAR: SANDBOX_KEY_ID,
            SECRET_VAR: SANDBOX_SECRET,
            "AWS_ACCESS_KEY_ID": SANDBOX_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
        }


def _http() -> Any:
    import requests

    return requests.Session()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
