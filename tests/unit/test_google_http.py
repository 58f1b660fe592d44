"""The Google transport over real HTTP servers on 127.0.0.1 (no mocks): one connection per host
across a chain's pages, however many hosts are in flight; compressed replies, asked for as
Google's front ends want."""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

import stackql_tuning
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.settings import Settings
from stackql_tuning.transports.google import GoogleTransport

HOSTS = 20  # more than requests' default of 10 pools, more than the default concurrency
PAGES = 3


class _Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: Counter[int] = Counter()

    def setup(self) -> None:
        super().setup()
        self.connections[self.server.server_address[1]] += 1

    def do_GET(self) -> None:
        time.sleep(0.02)  # every host's chain is in flight at once
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[list[ThreadingHTTPServer]]:
    _Counting.connections.clear()
    out = [ThreadingHTTPServer(("127.0.0.1", 0), _Counting) for _ in range(HOSTS)]
    for s in out:
        threading.Thread(target=s.serve_forever, args=(0.02,), daemon=True).start()
    yield out
    for s in out:
        s.shutdown()
        s.server_close()


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


class _GoogleLike(BaseHTTPRequestHandler):
    """A list page, gzip-compressed only when the client asks as Google requires: gzip in its
    Accept-Encoding and in its User-Agent."""

    protocol_version = "HTTP/1.1"
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
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_replies_are_asked_for_compressed_and_read_decompressed() -> None:
    _GoogleLike.seen.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GoogleLike)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    session = stackql_tuning.connect(
        auth={"google": {"type": "anonymous"}},
        google_endpoint=f"http://127.0.0.1:{server.server_address[1]}/",
    )
    try:
        r = session.execute(
            "SELECT displayName, state FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1' ORDER BY displayName"
        )
    finally:
        session.close()
        server.shutdown()
        server.server_close()
    assert len(r.rows) == 200 and r.rows[0] == ("job-0", "JOB_STATE_SUCCEEDED")
    [(agent, accepts, compressed)] = _GoogleLike.seen
    assert compressed, (agent, accepts)
    assert agent.startswith(f"stackql-tuning/{stackql_tuning.__version__} requests/"), agent
    assert agent.endswith(" (gzip)"), agent
