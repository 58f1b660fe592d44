"""The AWS sandbox's WSGI application: admin endpoints, latency, a request log, then dispatch.

Every request first meets this layer. ``/__admin/...`` paths are answered here (request log,
configuration, clock); every other request is routed to the gap layer when it is a SageMaker
call and to moto's own application otherwise, its reply is held until the configured latency
after it arrived (the latency is the response time, the work of answering inside it), and it is
recorded in the request log (operation, service, region, account, HTTP status, error code, JSON
params).
No job logic here (that is ``gap.py``), no server lifecycle (that is ``server.py``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from stackql_tuning.errors import StackqlTuningError, UsageError
from stackql_tuning.sandbox.aws import protocol
from stackql_tuning.sandbox.aws.gap import GapLayer, WsgiApp
from stackql_tuning.sandbox.aws.protocol import AwsError, Caller
from stackql_tuning.sandbox.latency import hold_reply
from stackql_tuning.sandbox.request_log import RequestLog

DEFAULT_ACCOUNT = "123456789012"
ADMIN = "/__admin/"


class SandboxApp:
    def __init__(
        self,
        gap: GapLayer,
        *,
        moto: WsgiApp | None = None,
        accounts: Mapping[str, str] | None = None,
    ) -> None:
        #: moto's DomainDispatcherApplication (set by AwsSandbox.start, which imports moto)
        self.moto = moto
        self.gap = gap
        #: access key id -> account id (the account moto files the caller's resources under)
        self.accounts = dict(accounts or {})
        self.latency = 0.0
        self.log = RequestLog()
        self.admin_routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("GET", "requests"): lambda _: self.requests(),
            ("POST", "reset-log"): self._admin_reset_log,
            ("GET", "config"): lambda _: self.config(),
            ("POST", "config"): lambda body: self.configure(**body),
            ("POST", "advance"): lambda body: {"now": self.gap.clock.advance(body["seconds"])},
            ("GET", "health"): lambda _: {"ok": True},
        }

    # -- knobs ---------------------------------------------------------------------------------
    def requests(self) -> list[dict[str, Any]]:
        return self.log.entries()

    def reset_log(self) -> None:
        self.log.reset()

    def _admin_reset_log(self, _: dict[str, Any]) -> dict[str, Any]:
        self.reset_log()
        return {"ok": True}

    def config(self) -> dict[str, Any]:
        return {"latency": self.latency, "speed": self.gap.speed, "frozen": self.gap.clock.frozen}

    def configure(
        self, latency: float | None = None, speed: float | None = None, frozen: bool | None = None
    ) -> dict[str, Any]:
        if latency is not None:
            if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
                raise UsageError(f"latency must be seconds >= 0, got {latency!r}")
            self.latency = float(latency)
        if speed is not None:
            if isinstance(speed, bool) or not isinstance(speed, int | float) or speed <= 0:
                raise UsageError(f"speed must be > 0 (simulated seconds per second), got {speed!r}")
            self.gap.speed = float(speed)
        if frozen is not None:
            (self.gap.clock.freeze if frozen else self.gap.clock.unfreeze)()
        return self.config()

    def account_of(self, environ: dict[str, Any], who: Caller) -> str:
        """The account of a request, for moto, the gap layer's own operations and the log alike.

        moto's rule (MOTO_ACCOUNT_ID, x-moto-account-id), then the sandbox's key map, then
        moto's own look-up of the access key: the keys of an assumed role (STS AssumeRole)
        belong to the role's account. The gap layer once stopped at the key map, so its own
        operations (list training jobs, stop) and the log took an assumed role's calls for the
        default account while moto served them from the role's.
        """
        if "MOTO_ACCOUNT_ID" in os.environ:
            return os.environ["MOTO_ACCOUNT_ID"]
        if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
        account = self.accounts.get(who.access_key)
        if not account and who.access_key:
            from moto.iam.models import get_account_id_from

            account = get_account_id_from(who.access_key)
        if account and account != DEFAULT_ACCOUNT:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = account  # so moto files it under the same account
            return account
        return DEFAULT_ACCOUNT

    # -- WSGI ----------------------------------------------------------------------------------
    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN):
            return self.admin(environ, start_response, path[len(ADMIN) :])
        moto = self.moto
        if moto is None:
            raise RuntimeError("SandboxApp.moto is not set: start the AwsSandbox first")
        arrived = time.monotonic()
        who = protocol.caller(environ)
        account = self.account_of(environ, who)
        seen: dict[str, Any] = {}

        def recording_start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen["status"] = int(status.split()[0])
            seen["error"] = next((v for k, v in headers if k.lower() == "x-amzn-errortype"), None)
            return start_response(status, headers, *exc)

        params = _json_params(environ)
        try:
            if who.target == "SageMaker" or who.service == "sagemaker":
                body: Iterable[bytes] = self.gap.handle(
                    who, account, environ, recording_start, moto
                )
            else:
                body = moto(environ, recording_start)
        except AwsError as e:
            body = protocol.error_reply(recording_start, e)
        hold_reply(arrived, self.latency)  # moto's and the gap layer's work inside it
        entry = {
            "operation": who.operation,
            "service": who.service or who.target.lower(),
            "region": who.region,
            "account": account,
            "status": seen.get("status"),
            "error": (seen.get("error") or "").split(":")[0] or None,
            "params": params,
            "time": time.time(),
        }
        self.log.add(entry, arrived)
        return body

    def admin(
        self, environ: dict[str, Any], start_response: Callable[..., Any], route: str
    ) -> list[bytes]:
        handler = self.admin_routes.get((environ.get("REQUEST_METHOD", "GET"), route))
        if handler is None:
            known = ", ".join(f"{m} {ADMIN}{r}" for m, r in self.admin_routes)
            error = AwsError("NotFound", f"no admin endpoint {route!r}; known: {known}", 404)
            return protocol.error_reply(start_response, error)
        try:
            reply = handler(protocol.request_json(environ))
        except StackqlTuningError as e:
            return protocol.error_reply(start_response, AwsError("ValidationException", e.message))
        except (TypeError, ValueError, KeyError) as e:
            message = f"bad admin request body for {route!r}: {type(e).__name__}: {e}"
            return protocol.error_reply(start_response, AwsError("ValidationException", message))
        except AwsError as e:
            return protocol.error_reply(start_response, e)
        return protocol.json_reply(start_response, reply)


def _json_params(environ: dict[str, Any]) -> dict[str, Any]:
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-amz-json"):
        return {}
    try:
        data = json.loads(protocol.read_body(environ) or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
