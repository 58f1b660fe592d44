"""Google REST transport: google-auth's credentials, regional hosts, retries; requests go through
the lean client of ``lean_http`` (requests' adapter when a proxy or client certificate applies).

Builds each request from the method's definition (HTTP verb, ``flatPath`` template, path/query
params), picks the host from the location param (``https://{location}-aiplatform.googleapis.com/``)
or the ``google_endpoint`` override, percent-encodes and checks every path value so that no value
can change the path or the host, and returns the raw reply bytes (``prettyPrint=false``) for
DuckDB to read. Knows nothing of SQL.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import quote

from stackql_tuning.errors import AuthError, PlanError
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import matches_pattern
from stackql_tuning.settings import Settings
from stackql_tuning.transports.base import (
    Call,
    CallError,
    Page,
    PreparedRequest,
    snippet,
    user_agent,
)
from stackql_tuning.transports.google_reply import (
    api_not_found,
    check_list_reply,
    check_object_reply,
    connection_message,
    error_message,
    next_token,
    refused_before_sending,
    rejected_certificate,
)
from stackql_tuning.transports.lean_http import HttpFailure, LeanHttp
from stackql_tuning.transports.retry import RateLimits, RetryPolicy, parse_retry_after

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_PLACEHOLDER = re.compile(r"\{\+?(\w+)\}")
_LOCATION = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")  # a letter first: not `1`
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PARAM_LEN = 1024
#: the User-Agent's last word, which Google's front ends want before they compress a reply
GZIP = " (gzip)"


def check_path_value(name: str, value: Any, pattern: str | None = None) -> str:
    """A path param value made safe: one non-empty segment, no dot segments, no control chars."""
    text = str(value)
    problem = None
    if not text:
        problem = "is empty"
    elif len(text) > MAX_PARAM_LEN:
        problem = f"is {len(text)} characters long (at most {MAX_PARAM_LEN})"
    elif "/" in text or "\\" in text:
        what = "a '/'" if "/" in text else "a backslash"
        problem = f"contains {what} (a path parameter is one path segment)"
    elif text in (".", ".."):
        problem = "is a dot segment"
    elif _CONTROL.search(text):
        problem = "contains a control character"
    elif "%" in text and re.search(r"%[0-9A-Fa-f]{2}", text):
        problem = "contains a percent-encoded sequence"
    elif pattern and not matches_pattern(pattern, text):
        problem = f"does not match the API's pattern {pattern}"
    if problem:
        raise PlanError(
            f"parameter {name} = {_show(text)} {problem}",
            hint=f"give the bare {name} value, e.g. the last part of the resource name",
        )
    return quote(text, safe="")


def _show(text: str) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown)


class GoogleTransport:
    #: send through the lean client when nothing requires requests' adapter (see ``_send``)
    lean_http = True

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        retry: RetryPolicy | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.retry = retry or RetryPolicy(max_attempts=settings.max_attempts)
        self.limits = limits or RateLimits(settings.rate_limit)
        self._session: Any = None
        self._auth_request: Any = None
        self._lean = LeanHttp(maxsize=max(settings.concurrency, settings.per_host, 10))
        self._lock = threading.Lock()
        #: one token refresh at a time; its round number and, when refused, its error
        self._token_lock = threading.Lock()
        self._token_round = 0
        self._token_error: AuthError | None = None

    # -- auth ------------------------------------------------------------------------------
    def _http(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._build_session()
            return self._session

    def _build_session(self) -> Any:
        import requests.adapters
        from google.auth.transport.requests import AuthorizedSession
        from google.auth.transport.requests import Request as GoogleAuthRequest

        from stackql_tuning.transports.auth import google_kind

        conf = self.settings.auth.get("google", {})
        kind = google_kind(conf)
        creds = self._credentials(kind, conf)
        session = AuthorizedSession(creds)
        # Google's APIs compress a reply only for a client whose User-Agent says "gzip" besides
        # its Accept-Encoding (requests' default accepts gzip and deflate), as google-api-python-
        # client's "(gzip)": list pages of tuning jobs shrink several times over the wire
        session.headers["User-Agent"] = user_agent(("requests", requests.__version__)) + GZIP
        self._auth_request = GoogleAuthRequest()
        size = max(self.settings.concurrency, self.settings.per_host, 10)
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=self._pool_count(), pool_maxsize=size, max_retries=0
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.merge_environment_settings = _memo_environment(  # type: ignore[method-assign]
            session.merge_environment_settings
        )
        return session

    def _pool_count(self) -> int:
        """How many hosts' connection pools the session keeps: one per host it may call (every
        regional host of the services this transport serves, and their global root), and never
        fewer than the calls in flight.

        Past that many, requests' pool manager closes the least recently used pool: with 8
        (requests' default is 10) and 16 regions of a fan-out in flight at the default
        concurrency, every request opened a new connection (a TCP and TLS handshake per page).
        """
        hosts = sum(
            len(svc.data.get("locations") or []) + 1
            for provider in self.registry.providers.values()
            if provider.transport == "google"
            for svc in self.registry.services(provider.name)
        )
        return max(hosts, self.settings.concurrency, self.settings.per_host, 10)

    @staticmethod
    def _credentials(kind: str, conf: dict[str, Any]) -> Any:
        if kind == "anonymous":
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials()
        if kind == "service_account":
            from google.oauth2 import service_account

            path = conf.get("credentialsfilepath")
            if not path:
                raise AuthError(
                    "google service_account auth needs credentialsfilepath",
                    hint='--auth \'{"google": {"type": "service_account", '
                    '"credentialsfilepath": "key.json"}}\'',
                )
            try:
                return service_account.Credentials.from_service_account_file(
                    path, scopes=list(SCOPES)
                )
            except (OSError, ValueError, AttributeError, TypeError) as e:
                raise AuthError(
                    f"cannot use the google service account key file {path}: "
                    + _key_file_problem(e),
                    hint="check the path and that it is a service account JSON key",
                ) from None
        import os

        import google.auth
        import google.auth.exceptions

        key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if key_file:
            _check_key_file(key_file)
        try:
            creds, _ = google.auth.default(scopes=list(SCOPES))
        except (
            google.auth.exceptions.DefaultCredentialsError,
            OSError,
            ValueError,
            AttributeError,
            TypeError,
        ) as e:
            if key_file:  # the variable is set: the hint to set it helps no one
                raise AuthError(
                    "cannot use the key file that GOOGLE_APPLICATION_CREDENTIALS names "
                    f"({key_file}): {_key_file_problem(e)}",
                    hint="check that it is a service account or authorized-user JSON key",
                ) from None
            raise AuthError(
                "no Google credentials found (Application Default Credentials are not set up)",
                hint="run `gcloud auth application-default login`, set "
                "GOOGLE_APPLICATION_CREDENTIALS, or pass --auth with a service_account key "
                '(or {"google": {"type": "anonymous"}} for a local emulator)',
            ) from None
        return creds

    # -- request building -------------------------------------------------------------------
    def _base_url(self, call: Call) -> str:
        svc = self.registry.service(call.resource.provider, call.resource.service).data
        loc_param = svc.get("location_param", "locationsId")
        location = call.params.get(loc_param)
        # the location picks the host: check its form even when an endpoint override is set,
        # so that a value is rejected the same way against the sandbox and the real cloud
        if location is not None and not _LOCATION.match(str(location)):
            raise PlanError(
                f"{loc_param} = {_show(str(location))} is not a location name",
                hint="locations look like us-central1 or europe-west4",
            )
        if self.settings.google_endpoint:
            return self.settings.google_endpoint.rstrip("/") + "/"
        root = str(svc.get("root_url", "")).rstrip("/") + "/"
        if location is None or location == "global":
            return root
        location = str(location)
        known = svc.get("locations") or []
        if known and location not in known:
            from stackql_tuning.errors import did_you_mean

            raise PlanError(
                f"{loc_param} = {location!r} is not a location served by "
                f"{call.resource.provider}.{call.resource.service}",
                hint=did_you_mean(location, known) or f"known locations: {', '.join(known[:8])}...",
            )
        return str(svc["regional_endpoint"]).format(location=location)

    def build(self, call: Call, page_token: str | None = None) -> tuple[str, str, dict[str, str]]:
        """(HTTP method, URL, query params) for one page of ``call``."""
        template = str(call.method.request["path"])

        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in call.params or call.params[name] is None:
                raise PlanError(
                    f"{call.resource.id}.{call.method.name} needs parameter {name}",
                    hint=f"SHOW METHODS IN {call.resource.id}",
                )
            p = call.method.param(name)
            return check_path_value(name, call.params[name], p.pattern if p else None)

        path = _PLACEHOLDER.sub(fill, template)
        query: dict[str, str] = {}
        for p in call.method.params:
            if p.location == "query" and call.params.get(p.name) is not None:
                query[p.name] = _query_value(call.params[p.name])
        pag = call.method.pagination
        if pag is not None:
            if page_token:
                query[pag.input_token] = page_token
            size = call.page_size or pag.max_page_size
            if size and pag.limit_param and pag.limit_param not in query:
                query[pag.limit_param] = str(size)
        mask = self._mask(call)
        if mask:
            query[mask[0]] = mask[1]
        query["prettyPrint"] = "false"
        return str(call.method.request["http_method"]), self._base_url(call) + path, query

    def _mask(self, call: Call) -> tuple[str, str] | None:
        """(system param, field mask) asking for only ``call.reply_fields``, when the service
        offers partial responses: ``items(a,b),nextPageToken`` for a list (the token keeps
        paging right), ``a,b`` for a get. None: the whole reply."""
        if not call.reply_fields:
            return None
        svc = self.registry.service(call.resource.provider, call.resource.service).data
        param = svc.get("partial_response")
        if not param:
            return None
        fields = ",".join(call.reply_fields)
        if not call.method.is_list:
            return str(param), fields
        if not call.method.items_key:
            return None
        mask = f"{call.method.items_key}({fields})"
        if call.method.pagination is not None:
            mask += "," + call.method.pagination.output_token
        return str(param), mask

    def prepare(self, call: Call, page_token: str | None = None) -> PreparedRequest:
        method, url, query = self.build(call, page_token)
        full = _with_query(url, query)
        detail: dict[str, Any] = {"method": method, "url": full}
        if call.body is not None:
            detail["body"] = call.body
        return PreparedRequest(summary=f"{method} {full}", detail=detail)

    # -- sending ----------------------------------------------------------------------------
    def fetch(self, call: Call, page_token: str | None = None) -> Page:
        import requests
        import urllib3.exceptions

        method, url, query = self.build(call, page_token)
        http = self._http()
        idempotent = method in ("GET", "HEAD") or call.method.name == "cancel"
        limit_key = ("google", str(call.params.get("projectsId", "")), _host(url))
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        attempt = 0
        while True:
            attempt += 1
            self.limits.acquire(limit_key, first=attempt == 1)
            try:
                status, headers, raw = self._send(http, method, url, query, call.body, timeout)
            except (
                HttpFailure,
                requests.exceptions.RequestException,
                urllib3.exceptions.HTTPError,
            ) as e:
                sent = not refused_before_sending(e)
                if not rejected_certificate(e) and self.retry.retryable(
                    attempt, connection_error=True, sent=sent, idempotent=idempotent
                ):
                    self.retry.sleep(self.retry.delay(attempt))
                    continue
                refused = int(getattr(e, "status_seen", 0) or 0) >= 400
                connected = sent and not refused and "ConnectTimeout" not in type(e).__name__
                raise CallError(
                    "connection", connection_message(e, attempt, timeout), sent=connected
                ) from None
            if status >= 400:
                if self.retry.retryable(attempt, status=status, idempotent=idempotent):
                    wait = parse_retry_after(headers.get("Retry-After"))
                    self.retry.sleep(self.retry.delay(attempt, wait))
                    continue
                raise CallError(
                    status,
                    self._redact(error_message(raw, attempt)),
                    not_found=status == 404 and api_not_found(raw),
                    # a server error does not say whether the request was acted on (a 4xx
                    # refuses it): a create or delete may have been done all the same
                    sent=status >= 500,
                )
            try:
                page = self._page(call, raw, headers.get("Content-Type", ""), status)
            except CallError as e:  # a success reply that cannot be read: the call was done
                e.sent = 200 <= status < 300
                raise
            page.attempts = attempt
            return page

    def _send(
        self,
        http: Any,
        method: str,
        url: str,
        query: dict[str, str],
        body: Any,
        timeout: tuple[float, float],
    ) -> tuple[int, Any, bytes]:
        """One request: (status, headers, body bytes).

        What ``AuthorizedSession.request`` does, without the generic work of a requests Session
        that a JSON API call does not need (cookies, redirects, hooks, netrc). The credentials
        add their headers, and a 401 refreshes refreshable credentials and is sent again, at
        most twice, as google-auth does (one refresh for every thread that needs it:
        :meth:`_refresh`). The request goes through the lean client (``lean_http``) unless a
        proxy or a client certificate applies to its URL, or ``lean_http`` is off (the unit
        tests' ``responses`` doubles replace requests' adapter): then through requests' own
        adapter, so that proxies and CA bundles apply as requests applies them.
        """
        full = _with_query(url, query)
        env = http.merge_environment_settings(full, {}, None, None, None)
        lean = self._lean if self.lean_http and _lean_fits(full, env) else None
        base = dict(http.headers)
        base["Accept"] = "application/json"
        data = None
        if body is not None and lean is not None:
            import orjson

            data = orjson.dumps(body)
            base["Content-Type"] = "application/json"
        refreshes = 0
        while True:
            headers = dict(base)
            seen = self._token_round
            if not http.credentials.valid:
                self._refresh(http.credentials, seen)
            http.credentials.before_request(self._auth_request, method, url, headers)
            if lean is not None:
                status, reply_headers, raw = lean.request(
                    method, full, headers, data, timeout, verify=env["verify"]
                )
            else:
                prepared = _prepared(method, url, query, body, headers)
                status, reply_headers, raw = _send_requests(http, prepared, timeout, env)
            if status == 401 and refreshes < 2 and _refreshable(http.credentials):
                refreshes += 1
                self._refresh(http.credentials, seen)
                continue
            return status, reply_headers, raw

    def _refresh(self, credentials: Any, seen: int) -> None:
        """Refresh ``credentials`` once for every thread that found them stale in token round
        ``seen`` (no token yet, expired, or refused with a 401).

        google-auth refreshes in each thread that finds the token stale, without a lock: the 16
        chains of a fan-out starting together asked the token service 16 times. Threads that
        wait here while another refreshes take its outcome, the new token or the same error; a
        thread that comes later tries again. A refusal is an :class:`AuthError` that names the
        cause, and the statement stops (every call would fail the same way).
        """
        import google.auth.exceptions

        with self._token_lock:
            if self._token_round != seen:  # refreshed (or refused) while this thread waited
                if self._token_error is not None:
                    raise self._token_error
                return
            try:
                credentials.refresh(self._auth_request)
                self._token_error = None
            except google.auth.exceptions.RefreshError as e:
                self._token_error = AuthError(
                    f"the Google credentials were refused when refreshed: {_reason(e)}",
                    hint="run `gcloud auth application-default login`, or check the key and "
                    "account given with --auth",
                )
            except google.auth.exceptions.TransportError as e:
                self._token_error = AuthError(
                    f"cannot reach Google's token service to refresh the credentials: {_reason(e)}",
                    hint="check the network and proxy settings (HTTPS_PROXY, NO_PROXY)",
                )
            except (TypeError, ValueError, KeyError, AttributeError):
                # google-auth reading a token reply that is not its JSON (an HTML page, a
                # proxy's answer) fails with these: it was "internal error: TypeError"
                self._token_error = AuthError(
                    "the token service's reply could not be read (not the token JSON it sends)",
                    hint="check the key's token_uri and any proxy between you and it",
                )
            finally:
                self._token_round = seen + 1
            if self._token_error is not None:
                raise self._token_error

    def _page(self, call: Call, raw: bytes, content_type: str, status: int) -> Page:
        body = raw.strip()
        if call.method.response.get("kind") == "empty" and not body:
            return Page(raw=b"{}", status=status)
        if (
            "json" not in content_type.lower()
            or not body.startswith(b"{")
            or not body.endswith(b"}")
        ):
            raise CallError(status, f"the reply is not a JSON object ({snippet(raw)})")
        if b"\n" in body:
            import orjson

            try:
                body = orjson.dumps(orjson.loads(body))
            except orjson.JSONDecodeError as e:
                raise CallError(status, f"the reply is not valid JSON: {e}") from None
        token = None
        if call.method.pagination is not None:
            token = next_token(body, call.method.pagination.output_token)
        if call.method.is_list:
            check_list_reply(call, body, status)
        else:
            check_object_reply(call, body, status)
        return Page(raw=body, next_token=token, status=status)

    def _redact(self, text: str) -> str:
        """``text`` without the access token (a server may echo a rejected one back)."""
        token = getattr(getattr(self._session, "credentials", None), "token", None)
        if isinstance(token, str) and len(token) >= 8:
            text = text.replace(token, "<redacted>")
        return text

    def close(self) -> None:
        self._lean.close()
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._auth_request is not None:  # the token refreshes' own requests session
            self._auth_request.session.close()
            self._auth_request = None


#: what requests' environment reading gave, for every session of the process: (the variables it
#: reads, the session's own settings, origin, arguments) -> its answer
_ENVIRONMENT_SEEN: dict[Any, dict[str, Any]] = {}
_ENVIRONMENT_LOCK = threading.Lock()
#: besides every ``*_proxy`` variable (any case), what requests' answer depends on
_ENVIRONMENT_NAMES = frozenset({b"REQUEST_METHOD", b"REQUESTS_CA_BUNDLE", b"CURL_CA_BUNDLE"})


def _environment_key(session: Any) -> Any:
    """What requests' ``merge_environment_settings`` reads besides its arguments: the proxy and
    CA variables (read from ``os.environb``, without decoding every variable as requests does)
    and the session's own settings; None where ``os.environb`` does not exist (Windows)."""
    import os

    environ = getattr(os, "environb", None)
    if environ is None:
        return None
    names = _ENVIRONMENT_NAMES
    variables = tuple(
        sorted(
            (k, v)
            for k, v in environ.items()
            if k.upper() in names or k.lower().endswith(b"_proxy")
        )
    )
    own = (
        getattr(session, "trust_env", None),
        tuple(sorted((getattr(session, "proxies", None) or {}).items())),
        repr(getattr(session, "verify", None)),
        repr(getattr(session, "cert", None)),
        getattr(session, "stream", None),
    )
    return variables, own


def _memo_environment(merge: Any) -> Any:
    """``merge`` (requests' per-request read of the proxy and CA variables) kept per host.

    requests scans every variable of ``os.environ`` for proxy settings on each request (about
    1.7 ms with 90 variables, most of a page's client CPU); they do not change while a session
    lives, so the answer is kept per (scheme, host, explicit arguments). A session's first
    request to a host takes the answer another session of the process got for the same
    variables and settings (~0.5 ms of the first request here, 43 variables): only the proxy
    and CA variables are read for it.
    """
    cache: dict[Any, dict[str, Any]] = {}
    lock = threading.Lock()

    def merged(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        try:
            origin = "/".join(url.split("/", 3)[:3])
            key = (origin, tuple(sorted((proxies or {}).items())), stream, verify, cert)
            hash(key)
        except TypeError:
            return merge(url, proxies, stream, verify, cert)  # type: ignore[no-any-return]
        with lock:
            hit = cache.get(key)
        if hit is None:
            environment = _environment_key(getattr(merge, "__self__", None))
            shared = None if environment is None else (environment, key)
            if shared is not None:
                with _ENVIRONMENT_LOCK:
                    hit = _ENVIRONMENT_SEEN.get(shared)
            if hit is None:
                hit = merge(url, proxies, stream, verify, cert)
                if shared is not None:
                    with _ENVIRONMENT_LOCK:
                        _ENVIRONMENT_SEEN[shared] = hit
            with lock:
                cache[key] = hit
        out = dict(hit)
        out["proxies"] = dict(hit.get("proxies") or {})
        return out

    return merged


def _lean_fits(url: str, env: dict[str, Any]) -> bool:
    """Whether the lean client can send to ``url``: no proxy applies to it and no client
    certificate is configured (``env``: requests' environment settings for the URL)."""
    if env.get("cert"):
        return False
    proxies = env.get("proxies") or {}
    if not proxies:
        return True
    from requests.utils import select_proxy

    return select_proxy(url, proxies) is None


def _send_requests(
    http: Any, prepared: Any, timeout: tuple[float, float], env: dict[str, Any]
) -> tuple[int, Any, bytes]:
    """One prepared request through requests' adapter (proxies, client certificates, test
    doubles): (status, headers, body bytes)."""
    resp = http.get_adapter(prepared.url).send(
        prepared,
        stream=True,
        timeout=timeout,
        verify=env["verify"],
        cert=env["cert"],
        proxies=env["proxies"],
    )
    try:
        raw = resp.raw.read(decode_content=True)  # the connection goes back to the pool
    except Exception as e:
        # the status line arrived: an error status says the call was not done, even
        # when its body was then cut off
        e.status_seen = resp.status_code  # type: ignore[attr-defined]
        raise
    return int(resp.status_code), resp.headers, raw


def _prepared(
    method: str, url: str, query: dict[str, str], body: Any, headers: dict[str, str]
) -> Any:
    """requests' PreparedRequest for one call. A body-less call (every read) is filled in
    directly: ``url`` is built from checked, percent-encoded parts (``build``) and the query is
    form-encoded as requests would; ``Request.prepare`` re-parses and re-quotes all of it, about
    90 us a page. A call with a body goes through ``prepare`` (JSON encoding, lengths)."""
    import requests

    if body is not None:
        return requests.Request(method, url, params=query, json=body, headers=headers).prepare()
    from requests.hooks import default_hooks
    from requests.structures import CaseInsensitiveDict

    prepared = requests.PreparedRequest()
    prepared.method = method
    prepared.url = _with_query(url, query)
    prepared.headers = CaseInsensitiveDict(headers)
    prepared.body = None
    prepared.hooks = default_hooks()
    return prepared


def _key_file_problem(e: Exception) -> str:
    """What is wrong with a key file, from google-auth's exception (its class name alone said
    nothing: "JSONDecodeError", "MalformedError"). Its messages name fields, never key data."""
    import json

    if isinstance(e, json.JSONDecodeError):
        return f"not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})"
    if isinstance(e, (AttributeError, TypeError)):
        return "it does not hold a JSON object (a key file is one)"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = " ".join(str(e).split())
    return text[:200] if text else type(e).__name__


def _check_key_file(path: str) -> None:
    """An :class:`AuthError` naming GOOGLE_APPLICATION_CREDENTIALS when the file it names is
    missing or not a file (a directory was an internal IsADirectoryError)."""
    import os

    problem = (
        "does not exist"
        if not os.path.exists(path)
        else "is a directory"
        if os.path.isdir(path)
        else None
    )
    if problem:
        raise AuthError(
            f"GOOGLE_APPLICATION_CREDENTIALS names {path}, which {problem}",
            hint="point it at a service account or authorized-user JSON key file, or unset it",
        )


def _with_query(url: str, query: dict[str, str]) -> str:
    """``url`` with ``query`` form-encoded, as requests encodes ``params``."""
    from urllib.parse import urlencode

    return url + ("?" + urlencode(query) if query else "")


#: what a token service's error text may echo of the request or hold of a reply: a signed JWT
#: (the service account's assertion), and form or JSON fields that carry tokens or secrets
_TOKEN_SECRETS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*"),
    re.compile(
        r"(?i)((?:assertion|access_token|refresh_token|id_token|client_secret|private_key)"
        r"(?:=|['\"]?\s*:\s*['\"]?))[^&\s'\",}]+"
    ),
)


def _reason(e: Exception) -> str:
    """google-auth's message of ``e`` (its first argument; the rest is the raw reply), with
    anything that looks like a token or a signed assertion redacted: a token service's error
    description may echo the request."""
    first = e.args[0] if e.args else e
    text = str(first) or type(e).__name__
    jwt, fields = _TOKEN_SECRETS
    return fields.sub(r"\1<redacted>", jwt.sub("<redacted>", text))


def _refreshable(credentials: Any) -> bool:
    """Whether a 401 is worth a token refresh (anonymous credentials have none)."""
    from google.auth.credentials import AnonymousCredentials

    return not isinstance(credentials, AnonymousCredentials)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _host(url: str) -> str:
    return url.split("/", 3)[2] if "://" in url else url
