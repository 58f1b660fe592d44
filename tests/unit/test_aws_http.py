"""botocore's HTTP sender replaced by the lean pool (transports/aws_http.py), over real loopback
servers: botocore still signs and parses; connections are kept alive across pages; a proxy
setting sends through botocore's own sender; a dropped connection is botocore's retryable
``ConnectionClosedError``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stackql_tuning.session import Session

SQL = (
    "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs "
    "WHERE region = 'us-east-1' ORDER BY 1"
)


def _summary(name: str) -> dict:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:hpt/{name}",
        "HyperParameterTuningJobStatus": "Completed",
        "Strategy": "Bayesian",
        "CreationTime": 1700000000.0,
        "TrainingJobStatusCounters": {},
        "ObjectiveStatusCounters": {},
    }


class _SageMaker(BaseHTTPRequestHandler):
    """Two pages of ListHyperParameterTuningJobs; records each request's line, target and
    Authorization; with ``drop`` set, the first request is read and left unanswered."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str]] = []
    connections = 0
    drop = False

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        self.seen.append((self.requestline, target, self.headers.get("Authorization", "")))
        if type(self).drop:
            type(self).drop = False
            self.close_connection = True
            return
        page = {"HyperParameterTuningJobSummaries": [_summary("b")], "NextToken": "t2"}
        if body.get("NextToken") == "t2":
            page = {"HyperParameterTuningJobSummaries": [_summary("a")]}
        data = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLEANHTTP")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lean-http-secret")
    _SageMaker.seen, _SageMaker.connections, _SageMaker.drop = [], 0, False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SageMaker)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _transport(session: Session):  # type: ignore[no-untyped-def]
    return session.fetcher.transport("aws")


def test_signed_pages_go_through_the_lean_pool_on_one_connection(sagemaker: str) -> None:
    with Session(aws_endpoint=sagemaker) as session:
        assert session.execute(SQL).rows == [("a",), ("b",)]
        assert _transport(session)._pool.opened == 1
    assert [t for _, t, _ in _SageMaker.seen] == ["SageMaker.ListHyperParameterTuningJobs"] * 2
    assert all(
        a.startswith("AWS4-HMAC-SHA256 Credential=AKIDLEANHTTP/") for _, _, a in _SageMaker.seen
    )
    assert _SageMaker.connections == 1


def test_a_dropped_connection_is_retried_by_botocore(
    sagemaker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)  # botocore's backoff
    _SageMaker.drop = True
    with Session(aws_endpoint=sagemaker) as session:
        assert session.execute(SQL).rows == [("a",), ("b",)]
    assert len(_SageMaker.seen) == 3  # the dropped first page, sent again, then page 2


def test_a_proxy_setting_sends_through_botocore(
    sagemaker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the "proxy" is the same server: a request through a proxy names the absolute URL
    endpoint = sagemaker.replace("127.0.0.1", "localhost")
    monkeypatch.setenv("HTTP_PROXY", sagemaker)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with Session(aws_endpoint=endpoint) as session:
        assert session.execute(SQL).rows == [("a",), ("b",)]
        assert _transport(session)._pool.opened == 0
    assert all(line.startswith(f"POST {endpoint}/ ") for line, _, _ in _SageMaker.seen)


def test_botocore_failures_keep_their_types() -> None:
    from botocore.exceptions import EndpointConnectionError

    from stackql_tuning.transports.aws_http import LeanSender
    from stackql_tuning.transports.lean_http import LeanHttp

    class _Request:
        method, url, body, stream_output = "POST", "http://127.0.0.1:9/", b"{}", False
        headers: dict[str, str] = {}

    class _Stock:
        _verify = True

    sender = LeanSender(_Stock(), LeanHttp(gzip=False), (1, 1))
    with pytest.raises(EndpointConnectionError):  # port 9: refused, before anything was sent
        sender.send(_Request())


def test_tls_is_verified_against_the_aws_ca_bundle(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    from stackql_tuning.errors import ProviderError
    from tests.unit.test_google_http import _self_signed

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLEANHTTP")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lean-http-secret")
    monkeypatch.setattr("time.sleep", lambda s: None)  # botocore's backoff
    _SageMaker.seen, _SageMaker.connections, _SageMaker.drop = [], 0, False
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SageMaker)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    endpoint = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        monkeypatch.setenv("AWS_CA_BUNDLE", cert)  # botocore's own variable: trusted
        with Session(aws_endpoint=endpoint) as session:
            assert session.execute(SQL).rows == [("a",), ("b",)]
            assert _transport(session)._pool.opened == 1
        monkeypatch.delenv("AWS_CA_BUNDLE")  # the default bundle does not know it
        with Session(aws_endpoint=endpoint) as session, pytest.raises(ProviderError) as e:
            session.execute(SQL)
        assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
    finally:
        server.shutdown()
        server.server_close()


def test_reads_take_a_fresh_pooled_connection_without_asking_the_socket(
    sagemaker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read (a Describe or List, a POST in the JSON protocol) reuses a connection given back
    a moment ago without the ``select`` that asks whether the server closed it: it may be sent
    again should the server have. Any other request still asks."""
    from stackql_tuning.transports import lean_http
    from stackql_tuning.transports.aws_http import LeanSender, reading

    asked: list[object] = []
    real = lean_http._dropped
    monkeypatch.setattr(lean_http, "_dropped", lambda sock: asked.append(sock) or real(sock))
    with Session(aws_endpoint=sagemaker) as session:
        assert session.execute(SQL).rows == [("a",), ("b",)]
        assert _transport(session)._pool.opened == 1  # page 2 on page 1's connection
    assert asked == []

    class _Request:
        method, url, body, stream_output = "POST", sagemaker + "/", b"{}", False
        headers = {"X-Amz-Target": "SageMaker.StopHyperParameterTuningJob"}

    class _Stock:
        _verify = True

    sender = LeanSender(_Stock(), lean_http.LeanHttp(gzip=False), (5, 5))
    for _ in range(2):
        assert sender.send(_Request()).status_code == 200
    assert len(asked) == 1  # not a read: the second request asked the socket first
    with reading():
        assert sender.send(_Request()).status_code == 200
    assert len(asked) == 1
    sender.pool.close()
