"""HTTP/1.1 on a connected socket: one request written, its reply read (RFC 9112 framing).

``lean_http`` opens and pools the connections (``http.client`` makes them, TLS included) and
sends every request through :func:`exchange`, which reads the reply from the connection's one
buffered reader. ``http.client``'s own request and reply objects cost more client CPU than the
exchange itself (a new buffered file per reply, header parsing through the ``email`` package);
with 16 threads sharing the GIL, that CPU is what delays each chain's next request.

What is read: the status line (1xx interim replies skipped), header fields (obsolete line
folding joined, repeated fields joined with ", "), and a body framed by chunked transfer coding,
by Content-Length, or by the connection's close; none for HEAD, 204 and 304. Failures are
``http.client``'s exception types (``RemoteDisconnected``, ``BadStatusLine``, ``IncompleteRead``,
``LineTooLong``), so callers classify them as they classify ``http.client``'s; one raised after
the status line carries it as ``status_seen``.

Must not: pool, retry, decompress or know anything of an API.
"""

from __future__ import annotations

import http.client
import re
from typing import Any, BinaryIO

#: the longest status line, header line or chunk-size line, and the most header fields (as
#: ``http.client``)
MAX_LINE = 65536
MAX_HEADERS = 100

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_BAD_VALUE = re.compile(rb"[\x00\r\n]")
#: methods whose request has a body by definition: an empty one is sent as Content-Length: 0
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Headers(dict[str, str]):
    """Reply header fields by lower-cased name; ``get``, ``[]`` and ``in`` take any case."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


def request_head(
    method: str, target: str, host: str, headers: dict[str, Any], body: bytes | None
) -> bytes:
    """The request line and header block of one request (``host``: the Host value, sent unless
    ``headers`` has one). A method, target, field name or value that could split the message
    is a ValueError, as in ``http.client``."""
    if _BAD_TARGET.search(target) or _BAD_TARGET.search(method) or not method:
        raise ValueError(f"a request {method} {target!r} with a space or control character")
    names = {k.lower() for k in headers}
    lines = [f"{method} {target} HTTP/1.1".encode("ascii")]
    if "host" not in names:
        lines.append(b"Host: " + host.encode("idna"))
    if "accept-encoding" not in names:
        lines.append(b"Accept-Encoding: identity")
    for name, value in headers.items():
        raw_name = name.encode("ascii")
        raw = value if isinstance(value, bytes) else str(value).encode("latin-1")
        if not _TOKEN.fullmatch(raw_name) or _BAD_VALUE.search(raw):
            raise ValueError(f"invalid header field {name!r}")
        lines.append(raw_name + b": " + raw)
    if "content-length" not in names and "transfer-encoding" not in names:
        if body is not None:
            lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
        elif method in _BODY_METHODS:
            lines.append(b"Content-Length: 0")
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


def host_value(host: str, port: int, default_port: int) -> str:
    """The Host value for ``host``:``port`` (IPv6 literals bracketed, a default port left out)."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default_port else f"{shown}:{port}"


def exchange(
    sock: Any, reader: BinaryIO, method: str, head: bytes, body: bytes | None
) -> tuple[int, Headers, bytes, bool]:
    """Send one request (``head`` from :func:`request_head`, then ``body``) on ``sock`` and read
    its reply from ``reader`` (the connection's buffered reader): (status, header fields, body,
    whether the connection may carry another request)."""
    if body and len(body) >= 65536:  # a large body is sent as it is, not copied after the head
        sock.sendall(head)
        sock.sendall(body)
    else:
        sock.sendall(head + (body or b""))
    status, version, headers = _head(reader, first=True)
    while 100 <= status < 200:  # interim replies (100 Continue, 103 Early Hints)
        status, version, headers = _head(reader, first=False)
    try:
        data, framed = _body(reader, method, status, headers)
    except (OSError, http.client.HTTPException) as e:
        e.status_seen = status  # type: ignore[union-attr]
        raise
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.1":
        keep = framed and "close" not in connection
    else:
        keep = framed and "keep-alive" in connection
    return status, headers, data, keep


def _line(reader: BinaryIO, what: str) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong(what)
    return line


def _head(reader: BinaryIO, *, first: bool) -> tuple[int, str, Headers]:
    """The status and header fields of the next reply."""
    raw = _line(reader, "status line")
    if not raw:
        if first:  # nothing at all: the server had closed the connection
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        raise http.client.IncompleteRead(b"")
    status_line = raw.decode("iso-8859-1").rstrip("\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise http.client.BadStatusLine(status_line)
    status = int(parts[1])
    if not 100 <= status <= 999:
        raise http.client.BadStatusLine(status_line)
    headers = Headers()
    last = ""
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader, "header line")
        if line in (b"\r\n", b"\n"):
            return status, parts[0], headers
        if not line:
            raise http.client.IncompleteRead(b"")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text[:1] in (" ", "\t"):  # obsolete line folding: part of the field before
            if last:
                headers[last] += " " + text.strip()
            continue
        name, colon, value = text.partition(":")
        if not colon:
            continue  # not a field (http.client keeps it as a defect and goes on)
        last = name.strip().lower()
        value = value.strip()
        had = headers.get(last)
        headers[last] = value if had is None else f"{had}, {value}"
    raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")


def _body(reader: BinaryIO, method: str, status: int, headers: Headers) -> tuple[bytes, bool]:
    """The reply's body, and whether the message ended where its framing says (so the
    connection can carry another request)."""
    if method == "HEAD" or status in (204, 304):
        return b"", True
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if coding.split(",")[-1].strip().lower() != "chunked":
            return reader.read(), False  # the close ends it
        return _chunked(reader), True
    length = headers.get("content-length")
    if length is None:
        return reader.read(), False
    values = {v.strip() for v in length.split(",")}
    size = values.pop() if len(values) == 1 else ""
    if not size.isdigit():
        raise http.client.HTTPException(f"invalid Content-Length {length!r}")
    return _exactly(reader, int(size)), True


def _exactly(reader: BinaryIO, n: int) -> bytes:
    data = reader.read(n)
    if len(data) < n:
        raise http.client.IncompleteRead(data, n - len(data))
    return data


def _chunked(reader: BinaryIO) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _line(reader, "chunk size").split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(parts)) from None
        if size == 0:
            while True:  # trailer fields, up to the empty line
                line = _line(reader, "trailer line")
                if line in (b"\r\n", b"\n", b""):
                    return b"".join(parts)
        parts.append(_exactly(reader, size))
        if _exactly(reader, 2) != b"\r\n":
            raise http.client.IncompleteRead(b"".join(parts))
