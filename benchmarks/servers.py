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

import contextlib
import io
import json
import os
import random
import socketserver
import subprocess
import sys
import threading
import time
import traceback
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from benchmarks.data import HPT, hpt_template
from stackql_tuning.sandbox.latency import LoopbackServer, TimedHandler, hold_reply
from stackql_tuning.sandbox.request_log import RequestLog


def serve(config: dict[str, Any]) -> None:
    from stackql_tuning.sandbox.vertex import VertexEmulator

    latency = float(config.get("latency", 0.0))
    google = VertexEmulator(latency=latency, max_page_size=int(config.get("max_page_size", 100)))
    google.start()
    aws = MotoServer(latency, replay=bool(config.get("moto_replay", False)))
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
    arrived (its request line was read), with moto's own work inside that time (at once if moto
    took longer). A log entry's ``time`` is when its reply left.

    It is served by :class:`WSGIServer`, not werkzeug's dev server: that one closes every
    connection after its reply (each request paid a new connection and thread) and cost ~0.8 ms
    of server CPU per request outside moto, against ~0.35 ms here (a describe is ~2.5-3.5 ms
    of moto's own).

    ``replay``: a read (``Describe*``/``List*``) asked again, with no other request in between
    that could change state, is answered with moto's earlier reply to it (same status and body,
    a fresh request id). moto is one Python process that spends ~3 ms of CPU on each describe,
    on the same 2 cores as the client being measured: 16 requests in flight would need 48 ms of
    its CPU per 50 ms round, so it paced the hydration run at one request every ~4.5 ms instead
    of answering in 50 ms. A real endpoint's CPU is not on the client's machine. moto's replies
    to reads of the same state are byte-identical (checked: ``replay_check``), so replaying them
    changes only the server's CPU. The first run of a scenario computes every reply. Only the
    hydration scenario turns it on: the others send one request at a time at zero latency, where
    moto's own time is a small stand-in for a real endpoint's (~100 ms a page), not a premise
    it breaks.
    """

    def __init__(self, latency: float = 0.0, replay: bool = False) -> None:
        self.latency = latency
        self.replay = replay
        #: (target, region, body) -> moto's status, headers and body, and the request's environ
        self.replies: dict[tuple[str, str, bytes], tuple[str, list[Any], bytes, Any]] = {}
        self.replayed = 0
        self.log = RequestLog()
        self._server: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__admin/"):
            return self._admin(environ, start_response, path[len("/__admin/") :])
        arrived = environ.get(ARRIVED)  # when the request line was read (WSGIHandler)
        if arrived is None:
            arrived = time.monotonic()
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rpartition(".")[2]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        region = auth.split("Credential=", 1)[-1].split("/")[2] if "Credential=" in auth else ""
        # a SageMaker request's replay key, read from its body once (None: replay is off)
        key = None
        if self.replay and target.startswith("SageMaker."):
            key = self._key(environ, target, region)
        body = self._replayed(start_response, key, operation)
        if body is None:
            body = self._moto(environ, start_response, target, operation, key)
        hold_reply(arrived, self.latency)
        self.log.add({"operation": operation, "region": region}, arrived)
        return body

    def _key(self, environ: dict[str, Any], target: str, region: str) -> tuple[str, str, bytes]:
        stream = environ["wsgi.input"]
        raw = stream.read()
        stream.seek(0)
        # the same request from boto3 and from the AWS CLI: key order and blanks aside
        with contextlib.suppress(orjson.JSONDecodeError):
            raw = orjson.dumps(orjson.loads(raw or b"{}"), option=orjson.OPT_SORT_KEYS)
        return target, region, raw

    def _replayed(
        self, start_response: Any, key: tuple[str, str, bytes] | None, op: str
    ) -> list[bytes] | None:
        if key is None or not op.startswith(_READS):
            return None
        hit = self.replies.get(key)
        if hit is None:
            return None
        status, headers, data, _ = hit
        fresh = [(k, v) for k, v in headers if k.lower() != "x-amzn-requestid"]
        start_response(status, [*fresh, ("x-amzn-RequestId", str(uuid.uuid4()))])
        self.replayed += 1
        return [data]

    def _moto(
        self,
        environ: dict[str, Any],
        start_response: Any,
        target: str,
        op: str,
        key: tuple[str, str, bytes] | None,
    ) -> list[bytes]:
        sagemaker = target.startswith("SageMaker.")
        if key is not None and not op.startswith(_READS):
            self.replies.clear()  # a write (or anything else) may change what reads return
        seen: list[Any] = []

        def keep(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen[:] = [status, list(headers)]
            return start_response(status, headers, exc_info)

        reply = (self.sagemaker if sagemaker else self.moto)(environ, keep)
        try:
            body = list(reply)  # moto's work, done inside the latency
        finally:
            if hasattr(reply, "close"):
                reply.close()
        if key is not None and op.startswith(_READS) and seen and seen[0].startswith("200"):
            request = {k: v for k, v in environ.items() if isinstance(v, str)}
            self.replies[key] = (seen[0], seen[1], b"".join(body), (request, key[2]))
        return body

    def replay_check(self) -> dict[str, int]:
        """Ask moto every kept read again and compare its body with the one kept (replayed)."""
        same = differ = 0
        for _, _, data, (request, raw) in list(self.replies.values()):
            environ = {**request, "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr}
            environ["CONTENT_LENGTH"] = str(len(raw))
            reply = self.sagemaker(environ, _ignore_start)
            fresh = b"".join(reply)
            if hasattr(reply, "close"):
                reply.close()
            same, differ = (same + 1, differ) if fresh == data else (same, differ + 1)
        return {"same": same, "differ": differ, "replayed": self.replayed}

    def _admin(self, environ: dict[str, Any], start_response: Any, action: str) -> Any:
        if action == "reset-log":
            self.log.reset()
            reply: Any = {"ok": True}
        elif action == "requests":
            reply = self.log.entries()
        elif action == "replay-check":
            reply = self.replay_check()
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
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.moto = DomainDispatcherApplication(create_backend_app)
        self.sagemaker = create_backend_app("sagemaker")
        self._server = WSGIServer(("127.0.0.1", 0), self)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _ignore_start(status: str, headers: Any, exc_info: Any = None) -> Any:
    """A WSGI ``start_response`` that keeps nothing (the replay check compares bodies only)."""
    return lambda data: None


#: environ key: ``time.monotonic()`` when the request line was read (set by :class:`WSGIHandler`)
ARRIVED = "benchmarks.arrived"
#: SageMaker operations that only read state (their replies may be replayed)
_READS = ("Describe", "List")


class WSGIServer(LoopbackServer):
    """A lean threaded HTTP/1.1 keep-alive server for one WSGI app (moto behind MotoServer).

    Enough WSGI for moto's Flask apps: the body is read whole (by Content-Length) before the
    app runs, the reply is buffered and sent in one ``sendall``. Request bodies in chunked
    transfer coding are refused (501): boto3 and the AWS CLI send Content-Length.
    """

    def __init__(self, address: tuple[str, int], app: Any) -> None:
        self.app = app
        super().__init__(address, WSGIHandler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # not HTTPServer's: no getfqdn
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class WSGIHandler(TimedHandler):
    server: WSGIServer

    def handle_one_request(self) -> None:
        # the standard library's, with every method going to the WSGI app (no do_<METHOD>)
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if self.parse_request():
                self._run_wsgi()
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def _run_wsgi(self) -> None:
        headers = self.headers
        if "Transfer-Encoding" in headers:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, "chunked request bodies not supported")
            return
        length = headers.get("Content-Length")
        try:
            size = int(length) if length else 0
        except ValueError:
            size = -1
        if size < 0:
            self.send_error(HTTPStatus.BAD_REQUEST, "bad Content-Length")
            return
        body = self.rfile.read(size) if size else b""
        if len(body) < size:
            self.close_connection = True  # the client went away mid-body
            return
        target = self.path
        if not target.startswith("/") and "://" in target:  # absolute form
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"),  # WSGI's bytes-as-latin-1
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,
            "RAW_URI": self.path,
            "SERVER_NAME": self.server.server_name,
            "SERVER_PORT": str(self.server.server_port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            ARRIVED: self._arrived,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
                if key in environ:
                    value = environ[key] + "," + value
            environ[key] = value

        reply: list[Any] = []  # [status, headers]
        chunks: list[bytes] = []

        def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
            reply[:] = [status, response_headers]  # nothing is sent before the app returns
            return chunks.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:
            traceback.print_exc()
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        status, response_headers = reply
        code = int(status[:3])
        lines = [f"{self.protocol_version} {status}\r\n", f"Date: {self.date_time_string()}\r\n"]
        has_length = False
        for name, value in response_headers:
            low = name.lower()
            if low == "content-length":
                has_length = True
            elif low == "connection" and value.lower() == "close":
                self.close_connection = True
                continue
            lines.append(f"{name}: {value}\r\n")
        data = b"".join(chunks)
        no_body = code < 200 or code in (204, 304)
        if not has_length and not no_body:
            lines.append(f"Content-Length: {len(data)}\r\n")
        if no_body or self.command == "HEAD":
            data = b""
        if self.close_connection:
            lines.append("Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive\r\n")
        lines.append("\r\n")
        self.connection.sendall("".join(lines).encode("latin-1") + data)


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

    def moto_replay_check(self) -> dict[str, int]:
        """moto asked again for every read it replayed: how many bodies are the same."""
        resp = self._http.post(self.aws + "/__admin/replay-check")
        resp.raise_for_status()
        return dict(resp.json())

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
