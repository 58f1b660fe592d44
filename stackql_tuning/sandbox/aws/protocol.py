"""AWS JSON 1.1 protocol details the sandbox's WSGI layer needs: reading, answering, failing.

Reads the operation from ``X-Amz-Target``, the access key, region and service from a SigV4
``Authorization`` header, and the request body (putting it back for the next reader); writes
JSON replies (datetimes as epoch seconds, as AWS does) and errors in AWS's JSON error shape
(``{"__type": code, "message": ...}`` plus ``x-amzn-ErrorType``), which botocore turns into
``ClientError`` with ``Error.Code``. No moto, no job logic.
"""

from __future__ import annotations

import calendar
import io
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CONTENT_TYPE = "application/x-amz-json-1.1"

StartResponse = Callable[..., Any]


class AwsError(Exception):
    """An error answered to the client in AWS's JSON error shape."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Caller:
    """Who is calling what: from the SigV4 credential scope and X-Amz-Target (any may be '')."""

    access_key: str
    region: str
    service: str
    target: str  # e.g. "SageMaker"
    operation: str  # e.g. "DescribeHyperParameterTuningJob"


def caller(environ: dict[str, Any]) -> Caller:
    access_key = region = service = ""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        parts = scope.split("/")
        if len(parts) == 5:
            access_key, _, region, service, _ = parts
    target, _, operation = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
    if not operation:
        operation, target = target, ""
    return Caller(access_key, region, service, target, operation)


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body; the WSGI input is replaced so the next reader sees it again."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    body = environ["wsgi.input"].read(size) if size > 0 else b""
    set_body(environ, body)
    return body


def set_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def request_json(environ: dict[str, Any]) -> dict[str, Any]:
    body = read_body(environ)
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError as e:
        raise AwsError("SerializationException", f"request body is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise AwsError("SerializationException", "request body must be a JSON object")
    return data


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        base = calendar.timegm(value.utctimetuple())
        return base + (value.microsecond // 1000) / 1000.0
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=_default, separators=(",", ":")).encode()


def respond(
    start_response: StartResponse, status: int, body: bytes, extra: Iterable[tuple[str, str]] = ()
) -> list[bytes]:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
    headers = [
        ("Content-Type", CONTENT_TYPE),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *extra,
    ]
    start_response(f"{status} {reason.get(status, 'Error')}", headers)
    return [body]


def json_reply(start_response: StartResponse, obj: Any, status: int = 200) -> list[bytes]:
    return respond(start_response, status, dumps(obj))


def error_reply(start_response: StartResponse, error: AwsError) -> list[bytes]:
    body = dumps({"__type": error.code, "message": error.message})
    return respond(start_response, error.status, body, [("x-amzn-ErrorType", error.code)])
