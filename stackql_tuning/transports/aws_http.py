"""botocore's HTTP sender, replaced by the lean ``http.client`` pool of ``lean_http``.

botocore still serializes, signs, retries and parses every call; only the step that sends the
signed request and reads the reply changes: :class:`LeanSender` stands in for the client's
``URLLib3Session`` (``client._endpoint.http_session``). A SageMaker describe cost ~2.7 ms of
client CPU here, about a third of it in urllib3's connection pool and response objects: with
16 threads sharing the GIL, a hydration round of 16 describes was CPU-bound within its 50 ms of
latency.

A request that needs what only botocore's sender does (a proxy, a client certificate, a
streamed reply or body) goes through it unchanged. Failures are raised as botocore's own
exceptions (``EndpointConnectionError``, ``ConnectTimeoutError``, ``ReadTimeoutError``,
``ConnectionClosedError``), so botocore's retry rules and our messages treat them as before.

Must not: sign, retry or parse (botocore does).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from stackql_tuning.transports.lean_http import (
    ConnectFailed,
    ConnectTimeout,
    LeanHttp,
    ReadTimeout,
    ReplyFailed,
)

#: the call being sent reads only: it may be sent again (see :func:`reading`)
_READING: ContextVar[bool] = ContextVar("stackql_tuning_aws_reading", default=False)


@contextmanager
def reading(on: bool = True) -> Iterator[None]:
    """Within the block (this thread or task), requests are reads (a Describe or List, sent as
    a POST by the JSON protocol): the lean pool treats them as a GET, sending one again on a new
    connection when the server had closed the pooled one, and taking a connection given back
    less than a second ago without the ``select`` that asks the socket. That call let go of the
    GIL before every describe, and under 16 threads the request then waited for the others'
    turns (a SageMaker hydration: ~9 ms less of 820, interleaved medians)."""
    token = _READING.set(on)
    try:
        yield
    finally:
        _READING.reset(token)


class _Body:
    """A read reply as botocore's ``AWSResponse`` reads its raw stream."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class LeanSender:
    """``send(request)`` as botocore's ``URLLib3Session`` has it, over a :class:`LeanHttp`."""

    def __init__(self, stock: Any, pool: LeanHttp, timeout: tuple[float, float]) -> None:
        self.stock = stock
        self.pool = pool
        self.timeout = timeout
        self.verify = getattr(stock, "_verify", True)

    def _fits(self, request: Any) -> bool:
        if request.stream_output or getattr(self.stock, "_cert_file", None):
            return False
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            return False
        proxies = getattr(self.stock, "_proxy_config", None)
        return proxies is None or not proxies.proxy_url_for(request.url)

    def send(self, request: Any) -> Any:
        if not self._fits(request):
            return self.stock.send(request)
        from botocore.awsrequest import AWSResponse
        from botocore.exceptions import (
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
            SSLError,
        )

        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = {str(k): v for k, v in request.headers.items()}
        try:
            status, reply_headers, raw = self.pool.request(
                request.method,
                request.url,
                headers,
                body,
                self.timeout,
                verify=self.verify,
                idempotent=True if _READING.get() else None,
            )
        except ConnectFailed as e:
            cause = e.args[0]
            if isinstance(cause, ssl.SSLError):
                raise SSLError(endpoint_url=request.url, error=cause) from None
            raise EndpointConnectionError(endpoint_url=request.url, error=cause) from None
        except ConnectTimeout as e:
            raise ConnectTimeoutError(endpoint_url=request.url, error=e.args[0]) from None
        except ReadTimeout as e:
            raise ReadTimeoutError(endpoint_url=request.url, error=e.args[0]) from None
        except ReplyFailed as e:
            raise ConnectionClosedError(
                error=e.args[0], request=request, endpoint_url=request.url
            ) from None
        response = AWSResponse(request.url, status, reply_headers, _Body(raw))
        response.content  # noqa: B018  (read, as botocore's sender does for a whole reply)
        return response

    def close(self) -> None:
        self.stock.close()


def lean_client(client: Any, pool: LeanHttp, timeout: tuple[float, float]) -> Any:
    """``client`` with its endpoint's HTTP sender replaced by a :class:`LeanSender` (left as it
    is when botocore's endpoint has no such sender)."""
    endpoint = getattr(client, "_endpoint", None)
    stock = getattr(endpoint, "http_session", None)
    if stock is not None and not isinstance(stock, LeanSender):
        endpoint.http_session = LeanSender(stock, pool, timeout)  # type: ignore[union-attr]
    return client
