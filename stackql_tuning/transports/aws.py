"""AWS transport: boto3 clients, one per (service, region), shared across worker threads.

Calls the operation named by the method definition with the call's input members, converts
param values to the shapes' types (timestamps, integers), and hands back boto3's parsed dict.
Reads (SELECT, polls) are retried by botocore's ``standard`` mode with the session's attempt
budget. A change (create, delete, stop) goes through a client that never retries: it is sent
again (``RetryPolicy``'s budget and backoff) only when the server surely did not act on it, a
throttling error or no connection made; once it may have reached the server, a lost reply fails
the call as sent (its outcome unknown), never with what a second attempt met (the job the first
one made "already exists"). A 2xx reply that does not fit the operation's output shape fails
the call (``aws_parse.checked``). Sessions come from
:mod:`~stackql_tuning.transports.aws_data` (clients built from a trimmed copy of botocore's data,
the stock data when that fails); SELECT calls parse their replies with
:mod:`~stackql_tuning.transports.aws_parse` (the same dict, less CPU). Knows nothing of SQL.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime
from typing import Any

from stackql_tuning.errors import AuthError, PlanError
from stackql_tuning.registry.loader import Registry
from stackql_tuning.settings import Settings
from stackql_tuning.transports.aws_http import lean_client, reading
from stackql_tuning.transports.base import (
    POLL_VERB,
    Call,
    CallError,
    Page,
    PreparedRequest,
    other_resource,
    user_agent,
)
from stackql_tuning.transports.lean_http import LeanHttp
from stackql_tuning.transports.retry import RateLimits, RetryPolicy

CLIENT_PARAMS = ("region", "AwsAccountId")
#: SQL verbs of the calls that only read (a poll's describe too); any other is a change
READ_VERBS = frozenset({"SELECT", POLL_VERB})

#: loggers of botocore and urllib3 whose DEBUG records can hold request headers (the
#: Authorization header names the access key id; the session token is a header too)
_HEADER_LOGGERS = (
    "botocore.endpoint",
    "botocore.auth",
    "botocore.awsrequest",
    "botocore.httpsession",
    "botocore.hooks",
    "botocore.parsers",
    "botocore.retryhandler",
    "urllib3.connectionpool",
)
_SECRET_HEADERS = re.compile(
    r"(?i)((?:authorization|x-amz-security-token)['\"]?\s*[:=]\s*b?['\"]?)[^'\"\n]+"
)
#: credentials in a reply body that botocore.parsers logs at DEBUG: STS's AssumeRole XML
#: (``<SecretAccessKey>``, ``<SessionToken>``) and the JSON or dict forms of other services
_SECRET_FIELDS = re.compile(
    r"(?i)((?:secret_?access_?key|session_?token)(?:>|['\"\\]*\s*[:=]\s*b?['\"\\]*))"
    r"[^<'\"\\,}\s]+"
)


class _RedactHeaders(logging.Filter):
    """Rewrites a log record's text with the values of credential headers, and credentials in
    reply bodies, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it alone
            return True
        clean = _SECRET_FIELDS.sub(r"\1<redacted>", _SECRET_HEADERS.sub(r"\1<redacted>", text))
        if clean != text:
            record.msg, record.args = clean, None
        return True


_REDACT = _RedactHeaders()


def redact_sdk_logs() -> None:
    """Keep credentials out of botocore's and urllib3's DEBUG logs (idempotent)."""
    for name in _HEADER_LOGGERS:
        log = logging.getLogger(name)
        if _REDACT not in log.filters:
            log.addFilter(_REDACT)


class AwsTransport:
    #: send through the lean HTTP pool when nothing requires botocore's own sender
    lean_http = True

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        limits: RateLimits | None = None,
        retry: RetryPolicy | None = None,
        **_: Any,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.limits = limits or RateLimits(settings.rate_limit)
        #: the budget and backoff of a change's attempts (reads: botocore's own)
        self.retry = retry or RetryPolicy(max_attempts=settings.max_attempts)
        self._clients: dict[tuple[str, str, str | None, bool], Any] = {}
        self._sessions: dict[str | None, Any] = {}
        self._lock = threading.Lock()
        self._ops: dict[str, set[str]] | None = None
        self._models: dict[str, Any] = {}
        #: the clients' HTTP connections (``aws_http``: botocore signs, this pool sends)
        self._pool = LeanHttp(maxsize=max(settings.concurrency, settings.per_host, 10), gzip=False)

    def _client(
        self, service: str, region: str, account: str | None = None, once: bool = False
    ) -> Any:
        """The shared client for (service, region, account); ``once``: one that never retries
        (for changes, which :meth:`_send_change` retries)."""
        key = (service, region, account, once)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._make_client(service, region, account, once)
            return client

    def _endpoint(self) -> dict[str, str]:
        return {"endpoint_url": self.settings.aws_endpoint} if self.settings.aws_endpoint else {}

    def _operations(self) -> dict[str, set[str]]:
        """botocore service name -> the operations the registry's AWS methods call."""
        if self._ops is None:
            ops: dict[str, set[str]] = {}
            for r in self.registry.all_resources():
                if self.registry.provider(r.provider).transport != "aws":
                    continue
                names = ops.setdefault(self._service_of(r), set())
                names.update(_operation(m) for m in r.methods)
            self._ops = ops
        return self._ops

    def _new_session(self, **kwargs: Any) -> Any:
        """``boto3.session.Session(**kwargs)``, its clients built from trimmed botocore data."""
        from stackql_tuning.transports import aws_data

        return aws_data.new_session(
            self._operations(), endpoint_url=self.settings.aws_endpoint, **kwargs
        )

    def _sdk_client(self, session: Any, service: str, **kwargs: Any) -> Any:
        """``session.client(service, **kwargs)``. When that fails on trimmed botocore data, the
        same on a stock-data twin of ``session``, which replaces it from then on."""
        from stackql_tuning.transports import aws_data

        try:
            return session.client(service, **kwargs)
        except Exception:
            twin = aws_data.stock_twin(session)
            if twin is None:
                raise
        client = twin.client(service, **kwargs)  # a failure here is the stock behaviour
        aws_data.disable()
        for key, known in list(self._sessions.items()):
            if known is session:
                self._sessions[key] = twin
        return client

    def _default_session(self) -> Any:
        from stackql_tuning.transports.auth import aws_credentials

        if None not in self._sessions:
            kwargs = aws_credentials(self.settings.auth.get("aws", {}), self.settings.auth_vars)
            try:
                self._sessions[None] = self._new_session(**kwargs)
            except Exception as e:  # botocore.exceptions.ProfileNotFound and friends
                raise AuthError(
                    f"cannot set up AWS credentials: {type(e).__name__}: {e}",
                    hint="check --auth / AWS_PROFILE",
                ) from None
        return self._sessions[None]

    def _account_session(self, account: str | None, region: str) -> Any:
        """The boto3 session for an AwsAccountId: its configured profile or role, or the
        default credentials after checking they belong to that account."""
        if account in self._sessions:
            return self._sessions[account]
        from botocore.exceptions import BotoCoreError, ClientError

        base = self._default_session()
        if account is None:
            return base
        conf = self.settings.accounts.get(account) or {}
        try:
            if "profile" in conf:
                session = self._new_session(profile_name=conf["profile"])
            if "role_arn" in conf:
                # the role is assumed with the profile's credentials when the account names
                # both (a profile with role_arn was once used as is, the role dropped)
                source = session if "profile" in conf else base
                sts = self._sdk_client(source, "sts", region_name=region, **self._endpoint())
                creds = sts.assume_role(RoleArn=conf["role_arn"], RoleSessionName="stackql-tuning")[
                    "Credentials"
                ]
                session = self._new_session(
                    aws_access_key_id=creds["AccessKeyId"],
                    aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"],
                )
            elif "profile" not in conf:
                sts = self._sdk_client(base, "sts", region_name=region, **self._endpoint())
                own = sts.get_caller_identity()["Account"]
                if own != account:
                    raise AuthError(
                        f"AwsAccountId {account} is not configured, and the default AWS "
                        f"credentials belong to account {own}",
                        hint=f'map it in the config file: [aws.accounts."{account}"] '
                        'profile = "..." or role_arn = "..."',
                    )
                session = self._sessions.get(None, base)  # a stock twin may have replaced it
        except (BotoCoreError, ClientError, KeyError, TypeError, ValueError) as e:
            # the reason, not only its class ("ClientError" lost AccessDenied and its message;
            # an STS reply without its credentials was "KeyError: 'AssumeRoleResult'", blamed on
            # the SageMaker call)
            if isinstance(e, ClientError):
                err = e.response.get("Error", {})
                reason = f"{err.get('Code') or 'error'}: {err.get('Message') or ''}".rstrip(": ")
            elif isinstance(e, BotoCoreError):
                reason = f"{type(e).__name__}: {e}"
            else:
                reason = f"the STS reply could not be read ({type(e).__name__}: {e})"
            raise AuthError(
                f"cannot get credentials for AwsAccountId {account}"
                + (f" (profile {conf['profile']!r})" if "profile" in conf else "")
                + (f" (role {conf['role_arn']})" if "role_arn" in conf else "")
                + f": {self._redact(reason)[:300]}",
                hint="check the profile or role in the config file's [aws.accounts]",
            ) from None
        self._sessions[account] = session
        return session

    def ready(self, call: Call) -> None:
        """Resolve the credentials of the call's account before any change is sent: an
        account that cannot be used fails the statement while nothing is done (a DELETE over
        two accounts deleted in the first, then failed on the second with the first hidden)."""
        self._account_session(call.params.get("AwsAccountId"), _region(call))

    def _make_client(
        self, service: str, region: str, account: str | None = None, once: bool = False
    ) -> Any:
        from botocore.config import Config

        redact_sdk_logs()
        session = self._account_session(account, region)
        attempts = 1 if once else self.settings.max_attempts
        config = Config(
            max_pool_connections=max(self.settings.concurrency, 10),
            # total_max_attempts counts the first attempt, as our max_attempts does (botocore's
            # max_attempts would count retries only: one attempt more than asked)
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            user_agent=_user_agent(),
        )
        client = self._sdk_client(
            session, service, region_name=region, config=config, **self._endpoint()
        )
        if not self.lean_http:
            return client
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        return lean_client(client, self._pool, timeout)

    def _service_name(self, call: Call) -> str:
        return self._service_of(call.resource)

    def _service_of(self, resource: Any) -> str:
        """The botocore service name of ``resource`` (its service's ``service_name``)."""
        data = self.registry.service(resource.provider, resource.service).data
        return str(data.get("service_name", resource.service))

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
        op = _operation(call.method)
        kwargs = self._kwargs(call, page_token)
        account = call.params.get("AwsAccountId")
        where = f"region={region}" + (f" account={account}" if account else "")
        detail = {"operation": op, "region": region, "params": kwargs}
        if account:
            detail["account"] = str(account)
        return PreparedRequest(
            summary=f"{self._service_name(call)}.{op} {where} {_compact(kwargs)}",
            detail=detail,
        )

    def check(self, call: Call) -> None:
        """botocore's input validation of ``call``'s request, before it is sent (the same
        PlanError the send would raise)."""
        from botocore.exceptions import ParamValidationError
        from botocore.validate import validate_parameters

        params = self.prepare(call).detail["params"]
        model = self.operation_model(call)
        try:
            validate_parameters(params, model.input_shape)
        except ParamValidationError as e:
            raise PlanError(
                f"{call.label} does not fit the {model.name} request: " + validation_report(e),
                hint=f"SHOW METHODS IN {call.resource.id} lists the parameters",
            ) from None

    def operation_model(self, call: Call) -> Any:
        """botocore's model of the operation ``call`` sends, for checking a request before it
        is sent: from the trimmed data (the stock data when that fails), with no credentials
        and no client needed, so that ``--dry-run`` checks without either."""
        service = self._service_name(call)
        with self._lock:
            model = self._models.get(service)
            if model is None:
                model = self._models[service] = self._new_session()._session.get_service_model(
                    service
                )
        return model.operation_model(_operation(call.method))

    def warm(self, call: Call) -> None:
        """Create the SDK client ``call`` will use (no request is sent). Only for the default
        credentials: an account's role would need an STS call before the statement is checked."""
        if call.params.get("AwsAccountId"):
            return
        change = call.method.sql_verb not in READ_VERBS
        self._client(self._service_name(call), _region(call), None, once=change)

    def fetch(self, call: Call, page_token: str | None = None) -> Page:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            ParamValidationError,
        )

        from stackql_tuning.transports import aws_parse

        region = _region(call)
        account = call.params.get("AwsAccountId")
        change = call.method.sql_verb not in READ_VERBS
        service = self._service_name(call)
        client = self._client(service, region, str(account) if account else None, once=change)
        fn = getattr(client, str(call.method.request["client_method"]))
        kwargs = self._kwargs(call, page_token)
        limit_key = ("aws", str(call.params.get("AwsAccountId", "")), region)
        self.limits.acquire(limit_key)
        attempts = 1
        try:
            # reads (what DuckDB gets) take the fast parser, and may be sent twice (a closed
            # pooled connection); mutations and polls take botocore's parser, and the pool
            # sends them once (a change is sent again only by _send_change)
            read = call.method.sql_verb == "SELECT"
            with aws_parse.checked(), aws_parse.fast_read(read), reading(read):
                if change:
                    model = client.meta.service_model.operation_model(_operation(call.method))
                    reply, attempts = self._send_change(fn, model, kwargs, limit_key)
                else:
                    reply = fn(**kwargs)
        except NoCredentialsError:
            raise AuthError(
                "no AWS credentials found",
                hint="configure the AWS default chain (env, profile, role) or pass --auth "
                '\'{"aws": {"type": "aws_signing_v4", "keyIDenvvar": "...", '
                '"credentialsenvvar": "..."}}\'',
            ) from None
        except ParamValidationError as e:
            # botocore checks the input before sending: the values are the statement's (an
            # empty name, a malformed one), so the statement stops here, as a bad Google path
            # value does, instead of counting a failed call
            raise PlanError(
                f"{call.label} does not fit the {_operation(call.method)} request: "
                + validation_report(e),
                hint=f"SHOW METHODS IN {call.resource.id} lists the parameters",
            ) from None
        except aws_parse.ReplyUnfit as e:
            # a 2xx reply: the call was done (a change too), but what it said cannot be read
            raise CallError(e.status, self._redact(e.message), sent=True) from None
        except ClientError as e:
            meta = e.response.get("ResponseMetadata", {})
            err = e.response.get("Error", {})
            code = str(err.get("Code", "") or "")
            tries = max(attempts, int(meta.get("RetryAttempts", 0)) + 1)
            status = meta.get("HTTPStatusCode")
            raise CallError(
                status,
                self._redact(error_text(status, code, str(err.get("Message", "") or ""), tries)),
                not_found=code in ("ResourceNotFound", "NotFound"),
                # a server error does not say whether the request was acted on (a 4xx refuses
                # it): a change may have been done all the same
                sent=isinstance(status, int) and status >= 500,
            ) from None
        except BotoCoreError as e:
            # botocore's ConnectionError family fails before the request is sent; the others
            # (closed connection, read timeout, a cut-off reply) after it
            raise CallError(
                "connection",
                self._redact(f"{type(e).__name__}: {e}"),
                sent=not _unsent(e),
            ) from None
        meta = reply.pop("ResponseMetadata", {}) if isinstance(reply, dict) else {}
        other = None if change else other_resource(call, reply)
        if other is not None:  # a describe about another job was shown as the one asked for
            raise CallError(meta.get("HTTPStatusCode"), other)
        token = None
        if call.method.pagination is not None:
            token = reply.get(call.method.pagination.output_token) or None
        return Page(
            obj=reply,
            next_token=token,
            status=meta.get("HTTPStatusCode"),
            attempts=max(attempts, int(meta.get("RetryAttempts", 0)) + 1),
        )

    def _send_change(
        self, fn: Any, model: Any, kwargs: dict[str, Any], limit_key: tuple[str, ...]
    ) -> tuple[Any, int]:
        """``fn(**kwargs)`` (a change, on a client that never retries: botocore operation
        ``model``), and the attempts it took. It is sent again only when the server surely did
        not act on it (:func:`surely_not_done`); any other failure is raised as that attempt
        met it, never what a later attempt met."""
        from botocore.exceptions import ClientError

        attempt = 0
        while True:
            attempt += 1
            try:
                return fn(**kwargs), attempt
            except Exception as e:
                if attempt >= self.retry.max_attempts or not surely_not_done(e, model):
                    if isinstance(e, ClientError):  # its message counts our attempts
                        e.response.setdefault("ResponseMetadata", {})["RetryAttempts"] = attempt - 1
                    raise
            self.retry.sleep(self.retry.delay(attempt))
            self.limits.acquire(limit_key, first=False)

    def _redact(self, text: str) -> str:
        """``text`` without the key id, secret or session token (an error may echo them)."""
        for session in list(self._sessions.values()):
            creds = session.get_credentials()
            frozen = creds.get_frozen_credentials() if creds is not None else None
            for secret in frozen or ():
                if isinstance(secret, str) and len(secret) >= 8:
                    text = text.replace(secret, "<redacted>")
        return text

    def close(self) -> None:
        self._clients.clear()
        self._sessions.clear()
        self._pool.close()


def _unsent(error: Exception) -> bool:
    """Whether botocore failed ``error`` before a byte of the request was sent (no connection
    was made: refused, no such host, connect timeout, a TLS handshake refused)."""
    from botocore.exceptions import ConnectionError as NotConnected

    return isinstance(error, NotConnected)


class _Status:
    """An HTTP response as botocore's retry checks read it: its status code only."""

    def __init__(self, status_code: int | None) -> None:
        self.status_code = status_code


def surely_not_done(error: Exception, operation_model: Any) -> bool:
    """Whether the server surely did not act on the request that failed with ``error``, so
    that even a change may be sent again: nothing was sent (no connection was made; not a TLS
    certificate it refused, which fails again), or the service said it was throttled (botocore's
    own test: its throttling error codes, the operation's errors modelled as throttling, a 429)."""
    from botocore.exceptions import ClientError, SSLError
    from botocore.retries.standard import RetryContext, ThrottlingErrorDetector

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 429:
            return True  # botocore before 1.44 did not count a bare 429 as throttling
        context = RetryContext(
            attempt_number=1,
            operation_model=operation_model,
            parsed_response=error.response,
            http_response=_Status(status),
        )
        return bool(ThrottlingErrorDetector(None).is_throttling_error_from_context(context))
    return _unsent(error) and not isinstance(error, SSLError)


def error_text(status: int | None, code: str, message: str, attempts: int = 1) -> str:
    """An AWS error reply in words: ``Code: message``, without what says nothing (botocore's
    stand-in code, the status itself, when the reply named none), ``(after N attempts)``."""
    import http

    if code == str(status):
        code = ""
    if not message:
        try:
            phrase = http.HTTPStatus(int(status or 0)).phrase
        except ValueError:
            phrase = "an error"
        named = "has no message" if code else "names no error"
        message = f"the error reply {named}" if code else f"{phrase} (the error reply {named})"
    suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
    return (f"{code}: {message}" if code else message) + suffix


def validation_report(error: Exception) -> str:
    """botocore's ``ParamValidationError`` text on one line, without its generic lead-in."""
    return " ".join(str(error).split()).replace("Parameter validation failed: ", "")


def _operation(method: Any) -> str:
    """The botocore operation a method calls (its ``request.operation``, else its name)."""
    return str(method.request.get("operation", method.name))


def _user_agent() -> str:
    import boto3
    import botocore

    return user_agent(("Boto3", boto3.__version__), ("Botocore", botocore.__version__))


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
