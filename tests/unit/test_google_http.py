"""The Google transport over real HTTP servers on 127.0.0.1 (no mocks): one connection per host
across a chain's pages, however many hosts are in flight; compressed replies, asked for as
Google's front ends want."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import google.auth.credentials
import google.auth.exceptions
import orjson
import pytest

import stackql_tuning
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.settings import Settings
from stackql_tuning.transports.google import GoogleTransport

HOSTS = 20  # more than requests' default of 10 pools, more than the default concurrency
PAGES = 3


class _Json(BaseHTTPRequestHandler):
    """A keep-alive JSON server's handler: ``reply`` sends one answer; no access log."""

    protocol_version = "HTTP/1.1"

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """A server of ``handler`` on 127.0.0.1, stopped at the end."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"


class _Counting(_Json):
    connections: Counter[int] = Counter()

    def setup(self) -> None:
        super().setup()
        self.connections[self.server.server_address[1]] += 1

    def do_GET(self) -> None:
        time.sleep(0.02)  # every host's chain is in flight at once
        self.reply(200, b"{}")


@pytest.fixture
def servers() -> Iterator[list[ThreadingHTTPServer]]:
    _Counting.connections.clear()
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(serving(_Counting)) for _ in range(HOSTS)]


def test_many_hosts_in_flight_each_keep_one_connection(servers) -> None:
    settings = Settings(auth={"google": {"type": "anonymous"}})
    transport = GoogleTransport(settings, default_registry())
    http = transport._http()
    failures: list[BaseException] = []

    def chain(server: ThreadingHTTPServer) -> None:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/x"
        try:
            for _ in range(PAGES):
                status, _, _ = transport._send(http, "GET", url, {}, None, (5, 5))
                assert status == 200
        except BaseException as e:  # reported by the main thread
            failures.append(e)

    threads = [threading.Thread(target=chain, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    transport.close()
    assert not failures
    # before: 8 pools for 20 hosts in flight, and every page opened a new connection (60)
    ports = [s.server_address[1] for s in servers]
    assert [_Counting.connections[p] for p in ports] == [1] * HOSTS


def test_the_session_keeps_a_pool_for_every_regional_host() -> None:
    registry = default_registry()
    transport = GoogleTransport(Settings(), registry)
    locations = registry.service("google", "aiplatform").data["locations"]
    assert transport._pool_count() >= len(locations) + 1
    assert GoogleTransport(Settings(concurrency=200), registry)._pool_count() == 200


class _GoogleLike(_Json):
    """A list page, gzip-compressed only when the client asks as Google requires: gzip in its
    Accept-Encoding and in its User-Agent."""

    seen: list[tuple[str, str, bool]] = []

    def do_GET(self) -> None:
        jobs = [
            {
                "name": f"projects/p/locations/us-central1/hyperparameterTuningJobs/{i}",
                "displayName": f"job-{i}",
                "state": "JOB_STATE_SUCCEEDED",
            }
            for i in range(200)
        ]
        body = orjson.dumps({"hyperparameterTuningJobs": jobs})
        agent = self.headers.get("User-Agent", "")
        accepts = self.headers.get("Accept-Encoding", "")
        compress = "gzip" in agent and "gzip" in accepts
        if compress:
            body = gzip.compress(body)
        self.seen.append((agent, accepts, compress))
        self.reply(200, body, {"Content-Encoding": "gzip"} if compress else None)


def test_replies_are_asked_for_compressed_and_read_decompressed() -> None:
    _GoogleLike.seen.clear()
    with serving(_GoogleLike) as server:
        anonymous = {"google": {"type": "anonymous"}}
        with stackql_tuning.connect(auth=anonymous, google_endpoint=_url(server)) as session:
            r = session.execute(
                "SELECT displayName, state FROM google.aiplatform.hyperparameter_tuning_jobs "
                "WHERE projectsId = 'p' AND locationsId = 'us-central1' ORDER BY displayName"
            )
    assert len(r.rows) == 200 and r.rows[0] == ("job-0", "JOB_STATE_SUCCEEDED")
    [(agent, accepts, compressed)] = _GoogleLike.seen
    assert compressed, (agent, accepts)
    assert agent.startswith(f"stackql-tuning/{stackql_tuning.__version__} requests/"), agent
    assert agent.endswith(" (gzip)"), agent


class _FakeToken(google.auth.credentials.Credentials):
    """Credentials whose refresh takes a while (so threads overlap) and hands out tok-1, tok-2..."""

    def __init__(self, refuse: bool = False) -> None:
        super().__init__()
        self.refreshes = 0
        self.refuse = refuse
        self._count = threading.Lock()

    def refresh(self, request: object) -> None:
        with self._count:
            self.refreshes += 1
            n = self.refreshes
        time.sleep(0.05)
        if self.refuse:
            raise google.auth.exceptions.RefreshError(
                "invalid_grant: Token has been expired or revoked.", {"error": "invalid_grant"}
            )
        self.token = f"tok-{n}"


class _Bearer(_Json):
    """200 for any token but ``refused`` (401), recording the Authorization headers."""

    refused = ""
    seen: list[str] = []

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization", "")
        self.seen.append(auth)
        status = 401 if self.refused and auth == f"Bearer {self.refused}" else 200
        body = b'{"error": {"code": 401, "message": "expired"}}' if status == 401 else b"{}"
        self.reply(status, body)


@pytest.fixture
def bearer_server() -> Iterator[str]:
    _Bearer.seen.clear()
    _Bearer.refused = ""
    with serving(_Bearer) as server:
        yield _url(server)


def _send_from_threads(transport: GoogleTransport, url: str, n: int = 16) -> list[int]:
    http = transport._http()
    statuses: list[int] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            statuses.append(transport._send(http, "GET", url + "v1/x", {}, None, (5, 5))[0])
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return statuses


def _with_credentials(monkeypatch: pytest.MonkeyPatch, creds: _FakeToken) -> GoogleTransport:
    monkeypatch.setattr(GoogleTransport, "_credentials", staticmethod(lambda kind, conf: creds))
    return GoogleTransport(Settings(), default_registry())


def test_threads_that_start_together_share_one_token_refresh(monkeypatch, bearer_server) -> None:
    creds = _FakeToken()
    transport = _with_credentials(monkeypatch, creds)
    assert _send_from_threads(transport, bearer_server) == [200] * 16
    transport.close()
    # google-auth alone refreshes in every thread that finds no token: 16 token requests
    assert creds.refreshes == 1
    assert set(_Bearer.seen) == {"Bearer tok-1"}


def test_a_401_refreshes_once_for_every_thread_it_reaches(monkeypatch, bearer_server) -> None:
    creds = _FakeToken()
    creds.token = "tok-0"  # valid until the server refuses it
    _Bearer.refused = "tok-0"
    transport = _with_credentials(monkeypatch, creds)
    assert _send_from_threads(transport, bearer_server) == [200] * 16
    transport.close()
    assert creds.refreshes == 1
    assert set(_Bearer.seen) == {"Bearer tok-0", "Bearer tok-1"}


def test_a_refused_refresh_stops_the_statement_with_an_auth_error(
    monkeypatch, bearer_server, capsys
) -> None:
    creds = _FakeToken(refuse=True)
    monkeypatch.setattr(GoogleTransport, "_credentials", staticmethod(lambda kind, conf: creds))
    monkeypatch.setenv("STACKQL_TUNING_GOOGLE_ENDPOINT", bearer_server)
    from stackql_tuning import cli

    rc = cli.main(
        [
            "--auth",
            '{"google": {"type": "service_account", "credentialsfilepath": "unused.json"}}',
            "exec",
            "SELECT displayName FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId IN ('us-central1', 'europe-west4', "
            "'asia-east1', 'us-east1')",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith(
        "auth error: the Google credentials were refused when refreshed: invalid_grant: "
        "Token has been expired or revoked."
    ), err
    assert "gcloud auth application-default login" in err and "Traceback" not in err
    assert creds.refreshes == 1  # four chains, one refusal: not one token request each
    assert _Bearer.seen == []  # no API call went out without a token


# -- the lean client (google_http) ---------------------------------------------------------
class _Closing(_Json):
    """Replies, then closes the connection after ``close_after`` requests on it without saying
    so (an idle keep-alive timeout); with ``drop`` set, the next request on such a connection is
    read and dropped unanswered instead (the close racing the request). Counts connections
    and requests by method."""

    close_after = 1
    drop = False
    connections = 0
    seen: list[str] = []

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1
        self.served = 0

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.seen.append(self.command)
        if self.served >= self.close_after:  # only with drop: read, never answered
            self.close_connection = True
            return
        self.served += 1
        self.reply(200, b'{"ok": true}')
        if self.served >= self.close_after and not self.drop:
            self.close_connection = True  # closed, though the reply said keep-alive

    do_GET = _answer
    do_POST = _answer


@pytest.fixture
def closing() -> Iterator[str]:
    _Closing.connections = 0
    _Closing.seen = []
    _Closing.drop = False
    with serving(_Closing) as server:
        yield _url(server)


def _lean_transport() -> tuple[GoogleTransport, object]:
    transport = GoogleTransport(
        Settings(auth={"google": {"type": "anonymous"}}), default_registry()
    )
    return transport, transport._http()


def test_a_connection_the_server_closed_is_not_reused(closing: str) -> None:
    transport, http = _lean_transport()
    for _ in range(3):
        time.sleep(0.05)  # the server's close has arrived by the next request
        assert transport._send(http, "GET", closing + "v1/x", {}, None, (5, 5))[0] == 200
    transport.close()
    assert _Closing.seen == ["GET"] * 3 and _Closing.connections == 3
    assert transport._lean.opened == 3


def test_only_a_connection_idle_a_while_or_a_request_with_a_body_asks_the_socket(
    closing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET takes a connection given back moments ago as it is (should the server have closed
    it, the GET is sent again on a new one); after FRESH_SECONDS idle, or for a POST, the pool
    first asks the socket whether the server closed it."""
    from stackql_tuning.transports import lean_http

    _Closing.close_after = 100
    asked: list[object] = []
    real = lean_http._dropped
    monkeypatch.setattr(lean_http, "_dropped", lambda sock: asked.append(sock) or real(sock))
    pool = lean_http.LeanHttp(gzip=False)
    try:
        url = closing + "v1/x"
        for _ in range(3):
            assert pool.request("GET", url, {}, None, (5, 5))[0] == 200
        assert asked == [] and pool.opened == 1
        for conns in pool._idle.values():
            for conn in conns:
                conn.idle_since -= lean_http.FRESH_SECONDS
        assert pool.request("GET", url, {}, None, (5, 5))[0] == 200
        assert len(asked) == 1
        assert pool.request("POST", url, {}, b"{}", (5, 5))[0] == 200
        assert len(asked) == 2 and pool.opened == 1
    finally:
        pool.close()
        _Closing.close_after = 1


def test_a_get_the_closing_server_dropped_is_sent_again_once_a_post_is_not(closing: str) -> None:
    from stackql_tuning.transports.lean_http import ReplyFailed

    _Closing.drop = True
    transport, http = _lean_transport()
    url = closing + "v1/x"
    assert transport._send(http, "GET", url, {}, None, (5, 5))[0] == 200
    # the server has not closed yet when the next request is written (the race)
    assert transport._send(http, "GET", url, {}, None, (5, 5))[0] == 200
    assert _Closing.seen == ["GET", "GET", "GET"] and _Closing.connections == 2
    with pytest.raises(ReplyFailed) as failed:  # it may have been done: never sent twice
        transport._send(http, "POST", url, {}, {"a": 1}, (5, 5))
    assert "RemoteDisconnected" in repr(failed.value)
    assert _Closing.seen[-1] == "POST" and _Closing.seen.count("POST") == 1
    transport.close()


class _Proxy(_Json):
    """Answers any request, recording its request line (a proxy sees the absolute URL)."""

    lines: list[str] = []

    def do_GET(self) -> None:
        self.lines.append(self.requestline)
        self.reply(200, b"{}")


def test_a_proxy_in_the_environment_is_used_through_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _Proxy.lines.clear()
    with serving(_Proxy) as proxy, serving(_Proxy) as target:
        port = target.server_address[1]
        url = f"http://localhost:{port}/v1/x"
        monkeypatch.setenv("HTTP_PROXY", _url(proxy))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        transport, http = _lean_transport()
        assert transport._send(http, "GET", url, {}, None, (5, 5))[0] == 200
        assert _Proxy.lines == [f"GET {url} HTTP/1.1"]  # through the proxy, by requests
        assert transport._lean.opened == 0
        # NO_PROXY names this host: the lean client sends it straight
        direct = f"http://127.0.0.1:{port}/v1/x"
        assert transport._send(http, "GET", direct, {}, None, (5, 5))[0] == 200
        assert _Proxy.lines[-1] == "GET /v1/x HTTP/1.1" and transport._lean.opened == 1
        transport.close()


def test_sessions_share_what_the_environment_gave_until_it_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A session's first request to a host takes requests' environment answer from another
    session of the process when the proxy and CA variables are the same; a changed proxy
    variable is read again, and applies."""
    import requests

    calls: list[str] = []
    real = requests.Session.merge_environment_settings

    def counted(self: requests.Session, url: str, *args: object) -> dict[str, object]:
        calls.append(url)
        return real(self, url, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(requests.Session, "merge_environment_settings", counted)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    _Proxy.lines.clear()
    with serving(_Proxy) as proxy, serving(_Proxy) as target:
        url = f"http://localhost:{target.server_address[1]}/v1/x"
        for _ in range(2):
            transport, http = _lean_transport()
            assert transport._send(http, "GET", url, {}, None, (5, 5))[0] == 200
            assert transport._send(http, "GET", url, {}, None, (5, 5))[0] == 200
            transport.close()
        assert len(calls) <= 1 and _Proxy.lines == ["GET /v1/x HTTP/1.1"] * 4
        monkeypatch.setenv("http_proxy", _url(proxy))  # any case of the name counts
        transport, http = _lean_transport()
        assert transport._send(http, "GET", url, {}, None, (5, 5))[0] == 200
        assert _Proxy.lines[-1] == f"GET {url} HTTP/1.1"  # through the proxy now
        transport.close()


def test_lean_failures_read_as_requests_failures() -> None:
    import socket

    from stackql_tuning.transports.google_reply import connection_message, refused_before_sending
    from stackql_tuning.transports.lean_http import ConnectFailed, ReadTimeout, ReplyFailed

    refused = ConnectFailed(ConnectionRefusedError(111, "Connection refused"))
    no_host = ConnectFailed(socket.gaierror(-2, "Name or service not known"))
    assert refused_before_sending(refused) and refused_before_sending(no_host)
    assert connection_message(refused, 1) == "connection refused (after 1 attempt)"
    assert connection_message(no_host, 2).startswith("could not connect ([Errno -2] Name")
    assert not refused_before_sending(ReadTimeout(TimeoutError("timed out")))
    assert connection_message(ReadTimeout(TimeoutError()), 1, (3, 7)) == (
        "no reply within the read timeout of 7 s (after 1 attempt)"
    )
    import http.client

    cut = ReplyFailed(http.client.IncompleteRead(b"ab", 10))
    assert connection_message(cut, 1) == "the reply was cut off (after 1 attempt)"


def _self_signed(tmp_path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_tls_is_verified_against_the_ca_bundle_requests_would_use(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    from stackql_tuning.errors import ProviderError

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    _Proxy.lines.clear()
    with serving(_Proxy) as server:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        url = f"https://127.0.0.1:{server.server_address[1]}/"
        sql = (
            "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        )
        anonymous = {"google": {"type": "anonymous"}}
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)  # requests' own variable: trusted
        with stackql_tuning.connect(auth=anonymous, google_endpoint=url) as session:
            assert session.execute(sql).rows == []
        assert _Proxy.lines and _Proxy.lines[0].startswith("GET /v1/projects/p/")
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # the default bundle does not know it
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        refused = pytest.raises(ProviderError, match=r"could not connect \(.*CERTIFICATE_VERIFY")
        with stackql_tuning.connect(auth=anonymous, google_endpoint=url) as session, refused as e:
            session.execute(sql)
        assert "(after 1 attempt)" in str(e.value)  # sending again cannot help


class _FalseGzip(_Json):
    """Says gzip, sends plain JSON."""

    def do_GET(self) -> None:
        self.reply(200, b'{"hyperparameterTuningJobs": []}', {"Content-Encoding": "gzip"})


def test_a_reply_that_is_not_the_gzip_it_says_is_named() -> None:
    # it said "the reply was cut off"
    from stackql_tuning.errors import ProviderError

    with serving(_FalseGzip) as server:
        anonymous = {"google": {"type": "anonymous"}}
        session = stackql_tuning.connect(
            auth=anonymous, google_endpoint=_url(server), max_attempts=1
        )
        with session, pytest.raises(ProviderError, match="gzip-compressed, but it is not"):
            session.execute(
                "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
                "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
            )
