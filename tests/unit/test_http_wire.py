"""HTTP/1.1 framing of the lean client: requests written, replies read from scripted bytes."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator

import pytest

from stackql_tuning.transports.http_wire import (
    Headers,
    exchange,
    host_value,
    request_head,
)

HEAD = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"


class Peer:
    """One end of a socket pair: the other end is a connection with its buffered reader."""

    def __init__(self) -> None:
        self.server, self.client = socket.socketpair()
        self.client.settimeout(5)
        self.reader = self.client.makefile("rb")
        self.received = b""

    def reply(self, *chunks: bytes, close: bool = False) -> None:
        """Send ``chunks`` (after reading the request) from a thread, as a server would."""

        def run() -> None:
            self.received += self.server.recv(65536)
            for chunk in chunks:
                self.server.sendall(chunk)
            if close:
                self.server.shutdown(socket.SHUT_WR)

        threading.Thread(target=run, daemon=True).start()

    def ask(self, method: str = "GET", body: bytes | None = None) -> tuple:
        return exchange(self.client, self.reader, method, HEAD, body)

    def close(self) -> None:
        self.reader.close()
        self.client.close()
        self.server.close()


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def test_a_reply_framed_by_its_length(peer: Peer) -> None:
    peer.reply(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'
    )
    status, headers, body, keep = peer.ask()
    assert (status, body, keep) == (200, b'{"a":1}', True)
    assert headers.get("content-type") == headers["Content-Type"] == "application/json"
    assert "CONTENT-LENGTH" in headers and headers.get("Retry-After") is None
    assert peer.received == HEAD


def test_replies_one_after_another_on_one_connection(peer: Peer) -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
    second = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\ntwo"
    peer.reply(first + second)  # both at once: the reader keeps what the first did not use
    assert peer.ask()[::2] == (200, b"one")
    assert exchange(peer.client, peer.reader, "GET", HEAD, None)[::2] == (404, b"two")


def test_a_chunked_reply_with_extensions_and_trailers(peer: Peer) -> None:
    peer.reply(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"4;ext=1\r\nWiki\r\n",
        b"5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n",
    )
    status, _, body, keep = peer.ask()
    assert (status, body, keep) == (200, b"Wikipedia", True)


def test_a_reply_the_close_ends(peer: Peer) -> None:
    peer.reply(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end", close=True)
    assert peer.ask()[2:] == (b"to the end", False)


def test_interim_replies_are_skipped(peer: Peer) -> None:
    peer.reply(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    assert peer.ask("POST", b"{}")[::2] == (201, b"ok")
    assert peer.received == HEAD + b"{}"


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304)])
def test_replies_without_a_body_read_none(peer: Peer, method: str, status: int) -> None:
    peer.reply(f"HTTP/1.1 {status} X\r\nContent-Length: 99\r\n\r\n".encode())
    assert peer.ask(method)[::2] == (status, b"")


@pytest.mark.parametrize(
    ("version", "connection", "keep"),
    [
        ("HTTP/1.1", None, True),
        ("HTTP/1.1", "close", False),
        ("HTTP/1.1", "Keep-Alive, Close", False),
        ("HTTP/1.0", None, False),
        ("HTTP/1.0", "keep-alive", True),
    ],
)
def test_whether_the_connection_stays_open(
    peer: Peer, version: str, connection: str | None, keep: bool
) -> None:
    field = f"Connection: {connection}\r\n" if connection else ""
    peer.reply(f"{version} 200 OK\r\n{field}Content-Length: 0\r\n\r\n".encode())
    assert peer.ask()[3] is keep


def test_repeated_and_folded_fields(peer: Peer) -> None:
    peer.reply(
        b"HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\nX-Long: one\r\n two\r\nnot a field\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    headers = peer.ask()[1]
    assert isinstance(headers, Headers)
    assert headers["vary"] == "a, b" and headers["x-long"] == "one two"


def test_a_closed_connection_with_no_reply(peer: Peer) -> None:
    peer.reply(close=True)
    with pytest.raises(http.client.RemoteDisconnected):
        peer.ask()


@pytest.mark.parametrize(
    "line", [b"garbage\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 42\r\n\r\n"]
)
def test_a_bad_status_line(peer: Peer, line: bytes) -> None:
    peer.reply(line)
    with pytest.raises(http.client.BadStatusLine):
        peer.ask()


def test_a_body_cut_short_says_the_status_it_had(peer: Peer) -> None:
    peer.reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close=True)
    with pytest.raises(http.client.IncompleteRead) as info:
        peer.ask()
    assert info.value.status_seen == 200  # type: ignore[attr-defined]
    assert info.value.partial == b"short"


def test_a_head_cut_short(peer: Peer) -> None:
    peer.reply(b"HTTP/1.1 200 OK\r\nContent-Len", close=True)
    with pytest.raises(http.client.IncompleteRead):
        peer.ask()


@pytest.mark.parametrize("length", [b"-1", b"ten", b"3, 4"])
def test_an_invalid_length(peer: Peer, length: bytes) -> None:
    peer.reply(b"HTTP/1.1 200 OK\r\nContent-Length: " + length + b"\r\n\r\nabc")
    with pytest.raises(http.client.HTTPException, match="Content-Length"):
        peer.ask()


def test_a_chunked_reply_with_a_bad_size(peer: Peer) -> None:
    peer.reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    with pytest.raises(http.client.IncompleteRead):
        peer.ask()


def test_too_many_fields_or_too_long_a_line(peer: Peer) -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(101))
    peer.reply(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n")
    with pytest.raises(http.client.HTTPException, match="more than 100"):
        peer.ask()
    other = Peer()
    try:
        other.reply(b"HTTP/1.1 200 OK\r\nX: " + b"v" * 70000 + b"\r\n\r\n")
        with pytest.raises(http.client.LineTooLong):
            other.ask()
    finally:
        other.close()


def test_the_request_head() -> None:
    head = request_head("GET", "/v1/x?a=1", "h:8080", {"Accept": "application/json"}, None)
    assert head == (
        b"GET /v1/x?a=1 HTTP/1.1\r\nHost: h:8080\r\nAccept-Encoding: identity\r\n"
        b"Accept: application/json\r\n\r\n"
    )
    given = request_head("POST", "/", "h", {"host": "other", "Accept-Encoding": "gzip"}, b"{}")
    assert b"Host: h" not in given and b"host: other" in given
    assert b"identity" not in given and given.endswith(b"Content-Length: 2\r\n\r\n")
    assert request_head("POST", "/", "h", {}, None).endswith(b"Content-Length: 0\r\n\r\n")
    assert b"Content-Length" not in request_head("DELETE", "/", "h", {}, None)
    sized = request_head("PUT", "/", "h", {"content-length": "2"}, b"{}")
    assert sized.count(b"ontent-") == 1


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("GET", "/a b", {}),
        ("GET", "/a\r\nX: y", {}),
        ("GET", "/", {"X": "a\r\nInjected: 1"}),
        ("GET", "/", {"X": "a\nb"}),
        ("GET", "/", {"Bad Name": "v"}),
        ("GET", "/", {"X:": "v"}),
        ("G T", "/", {}),
    ],
)
def test_a_request_that_could_split_the_message_is_refused(
    method: str, target: str, headers: dict[str, str]
) -> None:
    with pytest.raises(ValueError):
        request_head(method, target, "h", headers, None)


def test_the_host_value() -> None:
    assert host_value("example.com", 443, 443) == "example.com"
    assert host_value("127.0.0.1", 8080, 80) == "127.0.0.1:8080"
    assert host_value("::1", 8443, 443) == "[::1]:8443"
