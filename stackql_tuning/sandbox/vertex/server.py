"""The HTTP side of the emulator: routes derived from discovery, the request handler.

Holds: :func:`build_routes` (every ``projects.locations.<collection>`` method the store serves,
plus ``operations.get``, as ``(http method, path regex, handler)``), and :class:`Handler`, a
keep-alive HTTP/1.1 handler with Nagle disabled that applies latency and faults, answers in
Google's JSON shapes (pretty unless ``prettyPrint=false``), logs each API request, and passes
``/__admin/`` requests to the emulator.

Must not: hold job state (``store.py``) or decide faults (``knobs.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import orjson

from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.sandbox.latency import LoopbackServer, TimedHandler, hold_reply
from stackql_tuning.sandbox.vertex import discovery
from stackql_tuning.sandbox.vertex.errors import ApiError
from stackql_tuning.sandbox.vertex.fieldmask import Mask, apply_mask, parse_mask
from stackql_tuning.sandbox.vertex.store import Store

if TYPE_CHECKING:
    import re

    from stackql_tuning.sandbox.vertex.emulator import VertexEmulator

Query = dict[str, str]
Action = Callable[[Store, str, dict[str, str], Query, Any], bytes]
ADMIN_PREFIX = "/__admin/"
_FAULT_REPLIES = {
    "429": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com."),
    "500": (500, "INTERNAL", "Internal error encountered."),
    "503": (503, "UNAVAILABLE", "The service is currently unavailable."),
}


def _parent(params: dict[str, str]) -> str:
    location = params["locationsId"]
    if location not in discovery.locations():
        # Vertex AI serves a location only on its own regional endpoint: a name it does not
        # have (a typo) is an error there, never an empty list (the emulator answered [])
        raise ApiError.invalid(
            f"Location {location!r} is not supported: Vertex AI has no endpoint for it",
            field="locationsId",
        )
    return f"projects/{params['projectsId']}/locations/{location}"


def _page_size(query: Query) -> int | None:
    raw = query.get("pageSize")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError.invalid(f"Invalid value for pageSize: {raw!r}", field="pageSize") from None


def _item_mask(store: Store, coll: str, query: Query) -> tuple[Mask, str] | None:
    """What a list's ``fields`` selects inside each item, with its canonical text (None: the
    whole item). The page is cut by the whole mask afterwards (``_partial``), as any reply;
    cutting each item first, from the job's cache, only spares decoding every job on every
    request (a 50-job page: ~1.3 ms of the emulator's CPU)."""
    text = query.get("fields")
    if not text:
        return None
    mask = parse_mask(text)  # a malformed mask is the 400 it is for any reply
    key = store.collections[coll].items_key
    sub = mask[key] if key in mask else mask.get("*")
    if not sub:
        return None
    return sub, orjson.dumps(sub, option=orjson.OPT_SORT_KEYS).decode()


def _id(store: Store, coll: str, params: dict[str, str]) -> str:
    return params[store.collections[coll].id_param]


#: discovery method name -> what the store does for it
ACTIONS: dict[str, Action] = {
    "create": lambda s, c, p, q, b: s.create(c, _parent(p), b),
    "get": lambda s, c, p, q, b: s.get(c, _parent(p), _id(s, c, p)),
    "list": lambda s, c, p, q, b: s.page(
        c,
        _parent(p),
        page_size=_page_size(q),
        page_token=q.get("pageToken"),
        filter=q.get("filter"),
        item_mask=_item_mask(s, c, q),
    ),
    "cancel": lambda s, c, p, q, b: s.cancel(c, _parent(p), _id(s, c, p)),
    "delete": lambda s, c, p, q, b: s.delete(c, _parent(p), _id(s, c, p)),
}


@dataclass(frozen=True)
class Bound:
    http_method: str
    pattern: re.Pattern[str]
    collection: str
    method: str
    action: Action | None


def _operation_get(s: Store, c: str, p: dict[str, str], q: Query, b: Any) -> bytes:
    return s.operation(f"{_parent(p)}/operations/{p['operationsId']}")


def build_routes(store: Store) -> list[Bound]:
    """Routes for every method of the served collections, and ``operations.get``."""
    out = []
    for name, coll in store.collections.items():
        for mname, route in coll.methods.items():
            out.append(Bound(route.http_method, route.pattern, name, mname, ACTIONS.get(mname)))
    op = discovery.operation_routes()["get"]
    out.append(Bound(op.http_method, op.pattern, "operations", "get", _operation_get))
    return out


class Server(LoopbackServer):
    emulator: VertexEmulator


class Handler(TimedHandler):
    server: Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    # -------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, cut: bool = False
    ) -> None:
        self._wait_latency()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _wait_latency(self) -> None:
        """Hold the reply to the latency knob (``sandbox/latency.py``); admin requests, which
        have no arrival time, go out at once."""
        if self._arrived is not None:
            hold_reply(self._arrived, self.server.emulator.knobs.latency)

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self._read_body()
        emulator = self.server.emulator
        if path.startswith(ADMIN_PREFIX):
            self._arrived = None
            status, payload = emulator.admin(method, path[len(ADMIN_PREFIX) :], raw)
            self._send(status, orjson.dumps(payload))
            return
        entry: dict[str, Any] = {"method": method, "path": path, "query": query, "fault": None}
        fault = emulator.knobs.decide(path)
        entry["fault"] = fault
        if fault == "drop":
            self._wait_latency()
            entry["status"] = None
            emulator.log.add(entry, self._arrived)
            self.close_connection = True
            return
        if fault in _FAULT_REPLIES:
            code, status_name, message = _FAULT_REPLIES[fault]
            headers = {}
            if fault == "429":
                headers["Retry-After"] = str(emulator.knobs.faults["retry_after"])
            entry["status"] = code
            self._wait_latency()  # logged when the reply leaves
            emulator.log.add(entry, self._arrived)
            self._send(
                code, self._format(ApiError(code, status_name, message).body(), query), headers
            )
            return
        status, body = self._dispatch(method, path, query, raw, entry)
        if status == 200 and query.get("fields"):
            status, body = _partial(body, query["fields"])
        entry["status"] = status
        self._wait_latency()  # logged when the reply leaves
        emulator.log.add(entry, self._arrived)
        self._send(status, self._format(body, query), cut=fault == "truncate")

    def _dispatch(
        self, method: str, path: str, query: Query, raw: bytes, entry: dict[str, Any]
    ) -> tuple[int, bytes]:
        emulator = self.server.emulator
        try:
            alt = query.get("alt", query.get("$alt", "json"))
            if alt != "json":
                raise ApiError.invalid(
                    f"Unsupported alt={alt!r}; only json is served.", field="alt"
                )
            for route in emulator.routes:
                if route.http_method != method:
                    continue
                m = route.pattern.match(path)
                if m is None:
                    continue
                entry["collection"], entry["action"] = route.collection, route.method
                if route.action is None:
                    raise ApiError(
                        501, "UNIMPLEMENTED", f"{route.collection}.{route.method} is not emulated."
                    )
                body = None
                if raw:
                    try:
                        body = orjson.loads(raw)
                    except orjson.JSONDecodeError as exc:
                        raise ApiError.invalid(f"Invalid JSON payload received. {exc}") from None
                if method == "POST" and route.method == "create" and body is None:
                    body = {}
                return 200, route.action(
                    emulator.store, route.collection, m.groupdict(), query, body
                )
            raise ApiError.not_found(f"The requested URL {method} {path} was not found.")
        except ApiError as exc:
            return exc.code, exc.body()
        except StackqlTuningError as exc:
            return 400, ApiError.invalid(exc.message).body()

    @staticmethod
    def _format(body: bytes, query: Query) -> bytes:
        if query.get("prettyPrint", "true").lower() in ("false", "0"):
            return body
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2) + b"\n"


def _partial(body: bytes, fields: str) -> tuple[int, bytes]:
    """A reply cut to the ``fields`` mask (a partial response), or the mask's 400."""
    try:
        mask = parse_mask(fields)
    except ApiError as exc:
        return exc.code, exc.body()
    return 200, orjson.dumps(apply_mask(orjson.loads(body), mask))
