"""The AWS sandbox's WSGI layer without a server or moto: routing, request log, accounts, admin."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest

from stackql_tuning.errors import UsageError
from stackql_tuning.sandbox.aws.clock import Clock
from stackql_tuning.sandbox.aws.gap import GapLayer
from stackql_tuning.sandbox.aws.wsgi import SandboxApp


class FakeMoto:
    def __init__(self) -> None:
        self.environs: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.environs.append(environ)
        start_response("400 Bad Request", [("x-amzn-ErrorType", "NoSuchBucket:http://x")])
        return [b"{}"]


def call(
    app: SandboxApp,
    path: str = "/",
    method: str = "POST",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    environ = {
        "PATH_INFO": path,
        "REQUEST_METHOD": method,
        "CONTENT_LENGTH": str(len(raw)),
        "CONTENT_TYPE": "application/x-amz-json-1.1",
        "wsgi.input": io.BytesIO(raw),
    }
    environ.update(headers or {})
    seen: dict[str, str] = {}

    def start_response(status: str, _headers: list[tuple[str, str]], *exc: Any) -> None:
        seen["status"] = status

    out = b"".join(app(environ, start_response))
    return seen["status"], json.loads(out) if out else None


def signed(key: str, region: str, service: str) -> dict[str, str]:
    cred = f"Credential={key}/20260101/{region}/{service}/aws4_request"
    return {"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 {cred}, SignedHeaders=host, Signature=x"}


def make() -> tuple[SandboxApp, FakeMoto]:
    moto = FakeMoto()
    app = SandboxApp(GapLayer(Clock()), moto=moto, accounts={"AKIDOTHER": "210987654321"})
    return app, moto


def test_other_services_go_to_moto_and_are_logged() -> None:
    app, moto = make()
    headers = {**signed("AKIDOTHER", "eu-west-1", "s3"), "HTTP_X_AMZ_TARGET": "S3.GetObject"}
    status, _ = call(app, body={"Bucket": "b"}, headers=headers)
    assert status.startswith("400")
    assert moto.environs[0]["HTTP_X_MOTO_ACCOUNT_ID"] == "210987654321"  # the key map, for moto
    [entry] = app.requests()
    assert entry["operation"] == "GetObject" and entry["service"] == "s3"
    assert (entry["region"], entry["account"], entry["status"]) == (
        "eu-west-1",
        "210987654321",
        400,
    )
    assert entry["error"] == "NoSuchBucket" and entry["params"] == {"Bucket": "b"}
    app.reset_log()
    assert app.requests() == []


def test_default_account_and_moto_header() -> None:
    app, _ = make()
    call(app, headers=signed("AKIDANY", "us-east-1", "s3"))
    call(app, headers={**signed("AKIDANY", "us-east-1", "s3"), "HTTP_X_MOTO_ACCOUNT_ID": "1" * 12})
    assert [r["account"] for r in app.requests()] == ["123456789012", "1" * 12]


def test_admin_routes() -> None:
    app, moto = make()
    assert call(app, "/__admin/config", "GET") == (
        "200 OK",
        {"latency": 0.0, "speed": 3600.0, "frozen": False},
    )
    status, body = call(app, "/__admin/config", body={"latency": 0.5, "frozen": True})
    assert body == {"latency": 0.5, "speed": 3600.0, "frozen": True}
    status, body = call(app, "/__admin/config", body={"speed": 0})
    assert status.startswith("400") and "speed" in body["message"]
    status, body = call(app, "/__admin/config", body={"nope": 1})
    assert status.startswith("400") and "nope" in body["message"]
    status, body = call(app, "/__admin/requests", "DELETE")
    assert status.startswith("404") and "GET /__admin/requests" in body["message"]
    assert moto.environs == [] and app.requests() == []  # admin calls are not logged


def test_missing_moto_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from stackql_tuning.sandbox.aws import AwsSandbox

    monkeypatch.setitem(sys.modules, "moto.moto_server.werkzeug_app", None)
    with pytest.raises(UsageError, match="moto") as e:
        AwsSandbox().start()
    assert "stackql-tuning[sandbox]" in (e.value.hint or "")


def test_an_older_moto_is_named_with_the_version_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto 5.0 to 5.2.4 lack MotoRequestHandler: the error said "not installed" and its hint
    # repeated the install command the user had run
    import types

    from stackql_tuning.sandbox.aws import AwsSandbox

    old = types.ModuleType("moto.moto_server.werkzeug_app")
    monkeypatch.setitem(sys.modules, "moto.moto_server.werkzeug_app", old)
    with pytest.raises(UsageError, match=r"needs moto 5\.2\.5 or newer \(moto ") as e:
        AwsSandbox().start()
    assert "moto[server]>=5.2.5" in (e.value.hint or "")
