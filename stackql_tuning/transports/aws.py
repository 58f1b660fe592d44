"""AWS transport: boto3 clients, one per (service, region), shared across worker threads.

Calls the operation named by the method definition with the call's input members, converts
param values to the shapes' types (timestamps, integers), and hands back boto3's parsed dict.
Retries are botocore's ``standard`` mode with the session's attempt budget. Knows nothing of SQL.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from stackql_tuning.errors import AuthError, PlanError
from stackql_tuning.registry.loader import Registry
from stackql_tuning.settings import Settings
from stackql_tuning.transports.base import Call, CallError, Page, PreparedRequest
from stackql_tuning.transports.retry import RateLimits

CLIENT_PARAMS = ("region", "AwsAccountId")


class AwsTransport:
    def __init__(
        self, settings: Settings, registry: Registry, limits: RateLimits | None = None, **_: Any
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.limits = limits or RateLimits(settings.rate_limit)
        self._clients: dict[tuple[str, str], Any] = {}
        self._session: Any = None
        self._lock = threading.Lock()

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._make_client(service, region)
            return client

    def _make_client(self, service: str, region: str) -> Any:
        import boto3
        from botocore.config import Config

        from stackql_tuning.transports.auth import aws_credentials

        if self._session is None:
            kwargs = aws_credentials(self.settings.auth.get("aws", {}))
            try:
                self._session = boto3.session.Session(**kwargs)
            except Exception as e:  # botocore.exceptions.ProfileNotFound and friends
                raise AuthError(
                    f"cannot set up AWS credentials: {type(e).__name__}: {e}",
                    hint="check --auth / AWS_PROFILE",
                ) from None
        config = Config(
            max_pool_connections=max(self.settings.concurrency, 10),
            retries={"mode": "standard", "max_attempts": self.settings.max_attempts},
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
        )
        extra = {}
        if self.settings.aws_endpoint:
            extra["endpoint_url"] = self.settings.aws_endpoint
        return self._session.client(service, region_name=region, config=config, **extra)

    def _service_name(self, call: Call) -> str:
        data = self.registry.service(call.resource.provider, call.resource.service).data
        return str(data.get("service_name", call.resource.service))

    def _kwargs(self, call: Call, page_token: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for p in call.method.params:
            if p.location == "client" or p.name not in call.params:
                continue
            value = call.params[p.name]
            if value is None:
                continue
            kwargs[p.name] = _convert(p.name, p.type, p.format, value)
        if call.body:
            kwargs.update(call.body)
        pag = call.method.pagination
        if pag is not None:
            if page_token:
                kwargs[pag.input_token] = page_token
            if pag.limit_param and pag.limit_param not in kwargs:
                size = call.page_size or pag.max_page_size
                if size:
                    kwargs[pag.limit_param] = int(size)
        return kwargs

    def prepare(self, call: Call, page_token: str | None = None) -> PreparedRequest:
        region = _region(call)
        op = call.method.request.get("operation", call.method.name)
        kwargs = self._kwargs(call, page_token)
        return PreparedRequest(
            summary=f"{self._service_name(call)}.{op} region={region} {_compact(kwargs)}",
            detail={"operation": op, "region": region, "params": kwargs},
        )

    def fetch(self, call: Call, page_token: str | None = None) -> Page:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            ParamValidationError,
        )

        region = _region(call)
        client = self._client(self._service_name(call), region)
        fn = getattr(client, str(call.method.request["client_method"]))
        kwargs = self._kwargs(call, page_token)
        self.limits.acquire(("aws", str(call.params.get("AwsAccountId", "")), region))
        try:
            reply = fn(**kwargs)
        except NoCredentialsError:
            raise AuthError(
                "no AWS credentials found",
                hint="configure the AWS default chain (env, profile, role) or pass --auth "
                '\'{"aws": {"type": "aws_signing_v4", "keyIDenvvar": "...", '
                '"credentialsenvvar": "..."}}\'',
            ) from None
        except ParamValidationError as e:
            raise CallError("invalid parameters", " ".join(str(e).split())) from None
        except ClientError as e:
            err = e.response.get("Error", {})
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = err.get("Code", "")
            msg = err.get("Message", "") or str(e)
            attempts = e.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            suffix = f" (after {attempts + 1} attempts)" if attempts else ""
            raise CallError(status, f"{code}: {msg}{suffix}" if code else msg + suffix) from None
        except BotoCoreError as e:
            raise CallError("connection", f"{type(e).__name__}: {e}") from None
        meta = reply.pop("ResponseMetadata", {}) if isinstance(reply, dict) else {}
        token = None
        if call.method.pagination is not None:
            token = reply.get(call.method.pagination.output_token) or None
        return Page(
            obj=reply,
            next_token=token,
            status=meta.get("HTTPStatusCode"),
            attempts=int(meta.get("RetryAttempts", 0)) + 1,
        )

    def close(self) -> None:
        self._clients.clear()


def _region(call: Call) -> str:
    region = call.params.get("region")
    if not region:
        raise PlanError(
            f"{call.resource.id}.{call.method.name} needs parameter region",
            hint="add WHERE region = 'us-east-1' (or IN (...))",
        )
    text = str(region)
    import re

    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d{1,2}", text):
        raise PlanError(
            f"region = {text[:60]!r} is not an AWS region name",
            hint="regions look like us-east-1 or eu-west-1",
        )
    return text


def _convert(name: str, api_type: str, fmt: str | None, value: Any) -> Any:
    if fmt == "date-time" or api_type == "timestamp":
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise PlanError(
                f"parameter {name} = {str(value)[:60]!r} is not a timestamp",
                hint="use ISO-8601, e.g. '2026-01-31T00:00:00Z'",
            ) from None
    if api_type == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise PlanError(f"parameter {name} = {value!r} is not an integer") from None
    if api_type == "boolean":
        return bool(value)
    return value


def _compact(kwargs: dict[str, Any]) -> str:
    import json

    return json.dumps(kwargs, default=str, sort_keys=True)
