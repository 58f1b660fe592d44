"""``AwsSandbox``: moto's server application plus the gap layer, served on 127.0.0.1.

Starts werkzeug's threaded server (TCP_NODELAY, no access log; werkzeug closes each connection
after one request) in a daemon thread around :class:`~.wsgi.SandboxApp`, and offers the knobs
tests use: latency, speed, a frozen/advanceable clock, the request log, boto3 clients with dummy
credentials.

moto keeps its state in module globals, so every AwsSandbox in one process shares the same jobs
(keyed by account and region), the same gap layer and the same clock; each has its own port,
latency and request log. The last one created sets the seed and speed for jobs created after.
moto and werkzeug are imported by ``start()``, not at import time.
"""

from __future__ import annotations

import threading
from typing import Any

from stackql_tuning.errors import UsageError
from stackql_tuning.sandbox.aws.clock import Clock
from stackql_tuning.sandbox.aws.gap import GapLayer
from stackql_tuning.sandbox.aws.sim import JobSim
from stackql_tuning.sandbox.aws.wsgi import DEFAULT_ACCOUNT, SandboxApp

#: the dummy credentials every sandbox client signs with (never the user's real keys)
SANDBOX_KEY_ID = "AKIASANDBOXTESTING01"
SANDBOX_SECRET = "sandbox-secret-not-a-real-key"


_GAP: GapLayer | None = None
_GAP_LOCK = threading.Lock()


def shared_gap() -> GapLayer:
    """The process's one gap layer and clock (moto's jobs are process-global, so are sims)."""
    global _GAP
    with _GAP_LOCK:
        if _GAP is None:
            _GAP = GapLayer(Clock())
        return _GAP


#: the oldest moto whose server this sandbox runs on (``MotoRequestHandler``)
MOTO_AT_LEAST = "5.2.5"


class AwsSandbox:
    """A local SageMaker endpoint: ``with AwsSandbox() as aws: aws.client("us-east-1")``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 0,
        latency: float = 0.0,
        speed: float = 3600.0,
        accounts: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.gap = shared_gap()
        self.gap.seed, self.gap.speed = seed, speed
        self.clock = self.gap.clock
        self.app = SandboxApp(self.gap, accounts=accounts)
        self.app.configure(latency=latency)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> str:
        """Start serving (idempotent); returns the endpoint URL."""
        if self._server is not None:
            return self.url
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                MotoRequestHandler,
                create_backend_app,
            )
            from werkzeug.serving import make_server
        except ModuleNotFoundError as e:
            raise UsageError(
                f"the AWS sandbox needs moto's server ({e.name or e} is not installed)",
                hint="pip install 'stackql-tuning[sandbox]' (it brings moto[server])",
            ) from None
        except ImportError as e:  # the module is there, without the name: an older moto
            from importlib.metadata import version

            raise UsageError(
                f"the AWS sandbox needs moto {MOTO_AT_LEAST} or newer (moto {version('moto')} "
                f"is installed: {e})",
                hint=f"pip install 'moto[server]>={MOTO_AT_LEAST}'",
            ) from None

        class Handler(MotoRequestHandler):
            disable_nagle_algorithm = True  # else each loopback request waits ~40 ms

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.app.moto = DomainDispatcherApplication(create_backend_app)
        # bound here, not by Werkzeug: on a taken port it prints its own text and exits the
        # process; an OSError lets the caller say what went wrong
        import socket

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            port = sock.getsockname()[1]
            self._server = make_server(
                self.host,
                self.port,
                self.app,
                threaded=True,
                request_handler=Handler,
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # the server holds its own duplicate
        self.port = port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"aws-sandbox:{self.port}", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is None:
            return
        if self._thread is not None:  # shutdown() waits for a serve_forever that must run
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> AwsSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- knobs ---------------------------------------------------------------------------------
    def configure(
        self,
        *,
        latency: float | None = None,
        speed: float | None = None,
        frozen: bool | None = None,
    ) -> dict[str, Any]:
        """Set latency (s, the response time: work included), speed (simulated seconds per
        second), clock freeze."""
        return self.app.configure(latency=latency, speed=speed, frozen=frozen)

    def advance(self, seconds: float) -> float:
        """Move the sandbox clock forward; returns the new time (epoch seconds)."""
        return self.clock.advance(seconds)

    def requests(self) -> list[dict[str, Any]]:
        """The request log: one dict per request (operation, service, region, account, status,
        error, params, time), oldest first. Admin requests are not logged."""
        return self.app.requests()

    def reset_log(self) -> None:
        self.app.reset_log()

    # -- helpers for seeds and tests -----------------------------------------------------------
    def client(
        self,
        region: str = "us-east-1",
        service: str = "sagemaker",
        *,
        account: str | None = None,
        **kw: Any,
    ) -> Any:
        """A boto3 client for this sandbox, signed with the dummy sandbox credentials.

        ``account`` (12 digits) sends moto's ``x-moto-account-id`` header: the client then acts
        in that account (the default is 123456789012)."""
        import boto3
        from botocore.config import Config

        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        client = boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=kw.pop("aws_access_key_id", SANDBOX_KEY_ID),
            aws_secret_access_key=kw.pop("aws_secret_access_key", SANDBOX_SECRET),
            config=kw.pop("config", config),
            **kw,
        )
        if account is not None and account != DEFAULT_ACCOUNT:

            def add_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account

            client.meta.events.register("before-sign", add_account)
        return client

    def job(
        self, name: str, *, region: str = "us-east-1", account: str = DEFAULT_ACCOUNT
    ) -> JobSim:
        """The simulation behind tuning job ``name`` (raises AwsError ResourceNotFound)."""
        return self.gap.sim(account, region, name)

    def truth(
        self, name: str, *, region: str = "us-east-1", account: str = DEFAULT_ACCOUNT
    ) -> dict[str, Any]:
        """What the sandbox serves for job ``name`` right now: status, counts, best training."""
        sim = self.job(name, region=region, account=account)
        view = sim.view(self.clock.now())
        best = view.best
        return {
            "name": name,
            "region": region,
            "account": account,
            "status": view.status,
            "training_jobs": len(view.trainings),
            "best_training_job": None if best is None else best.plan.name,
            "best_hyperparameters": None if best is None else dict(best.plan.hyperparameters),
            "best_metric": None
            if best is None
            else {
                "MetricName": sim.objective.metric,
                "Type": sim.objective.type,
                "Value": best.plan.value,
            },
        }
