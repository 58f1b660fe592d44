"""A lean HTTP/1.1 client: pooled keep-alive connections per origin (``http.client`` opens them,
TLS with the CA bundle requests would use), requests and replies framed by ``http_wire`` on
each connection's one buffered reader, optional gzip, and timeouts.

Both transports send through it whenever nothing needs their SDK's own HTTP layer: the Google
transport when no proxy applies to a URL and no client certificate is configured (requests'
adapter otherwise); the AWS transport under botocore, which still signs, retries and parses
(``aws_http``). A Google page through requests and urllib3 cost ~0.97 ms of client CPU here
against ~0.33 ms through ``http.client`` alone (200 pages of 247 KB, one thread); a SageMaker
describe ~2.7 ms through botocore's sender against ~2.0 ms. With 16 threads sharing the GIL,
that is the fan-out's first-wave stagger and, on 1,000 pages, most of the client's share of a
100k-row read. Framing the exchange itself (``http_wire``) instead of through ``http.client``'s
request and reply objects took a 120 KB page from ~0.27 to ~0.17 ms of client CPU (the pool's
work included), and in interleaved A/B runs the 100k-row read ~10% less wall, SageMaker
hydration 10-25 ms less and the fan-out ~5 ms less.

Failures are :class:`HttpFailure` subclasses whose ``repr`` holds the underlying exception
(``ConnectFailed(ConnectionRefusedError(...))``), so ``google_reply``'s classification (refused
before sending, read timeout, reply cut off, connection closed) reads them as it reads
requests' own, and ``aws_http`` maps them to botocore's. A reused connection that the server
had closed (an idle keep-alive timeout) is found before the request is written, or, should the
close race the request, a GET is sent again once on a new connection; a request with a body
never is.

Must not: retry (``RetryPolicy`` and botocore do), or know anything of an API.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
import zlib
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from stackql_tuning.transports import http_wire


class HttpFailure(Exception):
    """A request that got no complete reply; ``args[0]`` is the underlying exception."""

    #: the status line arrived (an error status says the call was not done)
    status_seen: int = 0


class ConnectFailed(HttpFailure):
    """No connection could be made (refused, no such host): nothing was sent."""


class ConnectTimeout(HttpFailure):
    """The connection was not made within the connect timeout."""


class ReadTimeout(HttpFailure):
    """The request was sent and no reply came within the read timeout."""


class ReplyFailed(HttpFailure):
    """The request was sent and the connection failed before the reply was complete."""


#: a reply whose Content-Encoding says gzip but whose body is not gzip data
NOT_GZIP = "the reply says it is gzip-compressed, but it is not"


#: a GET may take an idle connection this recently used without checking that it is still open
#: (servers keep idle connections open for seconds to minutes; a stale one is sent again once)
FRESH_SECONDS = 1.0

#: errors of a reused connection that the server closed before it read the request
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class _Connection(http.client.HTTPConnection):
    """A pooled connection: ``http.client`` connects it (TLS included); its replies are read
    from one buffered reader for its whole life (``http_wire``)."""

    reader: BinaryIO | None = None
    #: ``time.monotonic()`` when it was last given back to the pool
    idle_since: float = 0.0

    def close(self) -> None:
        reader, self.reader = self.reader, None
        if reader is not None:
            reader.close()  # first: the socket's file descriptor stays open while it is open
        super().close()


class _HttpsConnection(_Connection, http.client.HTTPSConnection):
    pass


class LeanHttp:
    """Keep-alive connections per origin (``scheme://host:port``), shared by threads: a thread
    takes an idle one (or opens one), and gives it back once the reply is read whole."""

    def __init__(self, maxsize: int = 16, gzip: bool = True) -> None:
        self.maxsize = maxsize
        #: ask for (and decompress) gzip replies; off, the headers go as given
        self.gzip = gzip
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._lock = threading.Lock()
        self._contexts: dict[Any, ssl.SSLContext] = {}
        #: connections opened (for tests: one per thread per host across a chain's pages)
        self.opened = 0
        self._closed = False

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: tuple[float, float],
        verify: bool | str = True,
        idempotent: bool | None = None,
    ) -> tuple[int, http_wire.Headers, bytes]:
        """(status, headers, body bytes, decompressed) of one request.

        ``idempotent``: the request may be sent twice (None: only a GET or HEAD without a
        body); it is then sent again, once, when the server turns out to have closed the
        pooled connection, and a fresh connection is taken without asking the socket."""
        parts = urlsplit(url)
        scheme = parts.scheme
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        target = parts.path + ("?" + parts.query if parts.query else "")
        key = (scheme, host, port)
        if self.gzip:
            headers = {**headers, "Accept-Encoding": "gzip"}
        resend = body is None and method in ("GET", "HEAD") if idempotent is None else idempotent
        conn = self._take(key, timeout[1], resend)
        reused = conn is not None
        while True:
            if conn is None:
                conn = self._open(key, timeout, verify)
            try:
                status, reply_headers, raw, keep = self._exchange(
                    conn, method, target, headers, body
                )
            except _STALE as e:
                conn.close()
                if reused and resend:
                    conn, reused = None, False  # the server had closed it: once more, new
                    continue
                raise ReplyFailed(e) from None
            except HttpFailure:
                conn.close()
                raise
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise _failure(e) from None
            break
        if keep:
            self._give_back(key, conn)
        else:
            conn.close()
        return status, reply_headers, raw

    def _exchange(
        self,
        conn: _Connection,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[int, http_wire.Headers, bytes, bool]:
        assert conn.sock is not None and conn.reader is not None
        host = http_wire.host_value(conn.host, conn.port, conn.default_port)
        head = http_wire.request_head(method, target, host, headers, body)
        try:
            status, reply_headers, raw, keep = http_wire.exchange(
                conn.sock, conn.reader, method, head, body
            )
        except (OSError, http.client.HTTPException) as e:
            seen = getattr(e, "status_seen", 0)
            if not seen:
                raise
            failure = _failure(e)  # the reply had begun: never taken for a stale connection
            failure.status_seen = seen
            raise failure from None
        encoding = (reply_headers.get("Content-Encoding") or "").strip().lower()
        if self.gzip and encoding == "gzip" and raw:
            try:
                raw = zlib.decompress(raw, 16 + zlib.MAX_WBITS)
            except zlib.error as e:
                cut = "incomplete" in str(e) or "truncated" in str(e)  # else: never gzip data
                cause: Exception = (
                    http.client.IncompleteRead(b"", None) if cut else ValueError(NOT_GZIP)
                )
                failure = ReplyFailed(cause, str(e))
                failure.status_seen = status
                raise failure from None
        return status, reply_headers, raw, keep

    def _take(
        self, key: tuple[str, str, int], read_timeout: float, resend: bool = False
    ) -> _Connection | None:
        """An idle connection to ``key`` that the server has not closed, set to
        ``read_timeout`` (None: there is none).

        ``resend``: the request may be sent again on a new connection should this one turn out
        closed (a GET: see :meth:`request`). Then a connection idle for less than
        ``FRESH_SECONDS`` is taken without asking the socket whether the server closed it: that
        ``select`` (and a ``settimeout`` to the timeout it already had) let go of the GIL, and
        under 16 threads each took its turn back after the others' (a SageMaker hydration spent
        ~1.8 ms per request in them).
        """
        while True:
            with self._lock:
                idle = self._idle.get(key)
                conn = idle.pop() if idle else None
            if conn is None:
                return None
            sock = conn.sock
            fresh = resend and time.monotonic() - conn.idle_since < FRESH_SECONDS
            if sock is not None and (fresh or not _dropped(sock)):
                if sock.gettimeout() != read_timeout:
                    sock.settimeout(read_timeout)
                return conn
            conn.close()

    def _give_back(self, key: tuple[str, str, int], conn: _Connection) -> None:
        conn.idle_since = time.monotonic()
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.maxsize and not self._closed:
                idle.append(conn)
                return
        conn.close()

    def _open(
        self, key: tuple[str, str, int], timeout: tuple[float, float], verify: bool | str
    ) -> _Connection:
        scheme, host, port = key
        conn: _Connection
        if scheme == "https":
            conn = _HttpsConnection(host, port, timeout=timeout[0], context=self._context(verify))
        else:
            conn = _Connection(host, port, timeout=timeout[0])
        try:
            conn.connect()
        except TimeoutError as e:
            conn.close()
            raise ConnectTimeout(e) from None
        except OSError as e:
            conn.close()
            raise ConnectFailed(e) from None
        assert conn.sock is not None
        conn.sock.settimeout(timeout[1])
        conn.reader = conn.sock.makefile("rb")
        with self._lock:
            self.opened += 1
        return conn

    def _context(self, verify: bool | str) -> ssl.SSLContext:
        """TLS as requests sets it up: its CA bundle (or the one named), or no check at all for
        ``verify=False``."""
        with self._lock:
            ctx = self._contexts.get(verify)
        if ctx is not None:
            return ctx
        if verify is False:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            path = verify if isinstance(verify, str) else _default_ca_bundle()
            if path and _is_dir(path):
                ctx = ssl.create_default_context(capath=path)
            else:
                ctx = ssl.create_default_context(cafile=path or None)
        with self._lock:
            self._contexts[verify] = ctx
        return ctx

    def close(self) -> None:
        """Close the idle connections; one in use is closed when its reply has been read."""
        with self._lock:
            idle, self._idle = self._idle, {}
            self._closed = True
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _failure(e: BaseException) -> HttpFailure:
    """The :class:`HttpFailure` of an error met after the connection was made."""
    if isinstance(e, HttpFailure):
        return e
    if isinstance(e, (TimeoutError, socket.timeout)):
        return ReadTimeout(e)
    return ReplyFailed(e)


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle connection was closed by its server (it reads as ready: EOF, or data
    nobody asked for)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _default_ca_bundle() -> str | None:
    """certifi's bundle, which requests and botocore both use by default (None: the system's)."""
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def _is_dir(path: str) -> bool:
    import os

    return os.path.isdir(path)
