"""The Vertex AI emulator object: a loopback HTTP server over a job store, with admin knobs.

Holds: :class:`VertexEmulator` (start/stop, URL, knobs, request log, stats, bulk insert,
seeding) and its ``/__admin/`` endpoints, which expose the same operations to other processes:

=======  ======================  ==========================================================
POST     ``/__admin/config``     set knobs: ``{"latency": s, "faults": {...}}``; GET reads them
GET      ``/__admin/requests``   the request log: ``{"requests": [{method, path, query,
                                 status, fault, collection, action, time}]}``
POST     ``/__admin/reset-log``  empty the request log and the stats
GET      ``/__admin/stats``      ``{"requests": n, "faults": {kind: n}, "statuses": {...}}``
POST     ``/__admin/jobs``       bulk insert ``{"collection", "parent", "count", "template",
                                 "state"?, "create_time"?, "spacing"?}`` or seed
                                 ``{"seed": {seed_google keyword args}}``
POST     ``/__admin/clock``      ``{"advance": seconds}`` and/or ``{"speed": factor}``
POST     ``/__admin/clear``      remove every job and operation
GET      ``/__admin/health``     ``{"ok": true, "jobs": n}``
=======  ======================  ==========================================================

Must not: hold job semantics (``store.py``) or HTTP parsing (``server.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import orjson

from stackql_tuning.errors import StackqlTuningError, UsageError
from stackql_tuning.sandbox.request_log import RequestLog
from stackql_tuning.sandbox.vertex.clock import Clock, rfc3339
from stackql_tuning.sandbox.vertex.knobs import Knobs
from stackql_tuning.sandbox.vertex.server import Handler, Server, build_routes
from stackql_tuning.sandbox.vertex.store import Store

AdminAction = Callable[["VertexEmulator", Any], Any]


def _insert(emu: VertexEmulator, body: Any) -> Any:
    if not isinstance(body, dict):
        raise UsageError("POST /__admin/jobs needs a JSON object")
    if "seed" in body:
        return emu.seed(**(body["seed"] or {}))
    args = dict(body)
    try:
        collection, parent = args.pop("collection"), args.pop("parent")
    except KeyError as exc:
        raise UsageError(f"POST /__admin/jobs needs {exc.args[0]!r}") from None
    count = int(args.pop("count", 1))
    template = args.pop("template", {})
    jobs = emu.store.insert_many(collection, parent, count, template, **args)
    return {"inserted": count, "first": jobs[0]["name"], "last": jobs[-1]["name"]}


def _clock(emu: VertexEmulator, body: Any) -> Any:
    body = body or {}
    if "speed" in body:
        emu.clock.set_speed(float(body["speed"]))
    if "advance" in body:
        emu.clock.advance(float(body["advance"]))
    return {"now": rfc3339(emu.clock.now()), "speed": emu.clock.speed}


def _reset(emu: VertexEmulator, body: Any) -> Any:
    emu.reset_log()
    return {}


def _clear(emu: VertexEmulator, body: Any) -> Any:
    emu.store.clear()
    return {}


#: (HTTP method, admin path) -> action
ADMIN: dict[tuple[str, str], AdminAction] = {
    ("GET", "config"): lambda e, b: e.knobs.config(),
    ("POST", "config"): lambda e, b: e.configure(**(b or {})),
    ("GET", "requests"): lambda e, b: {"requests": e.requests()},
    ("POST", "reset-log"): _reset,
    ("GET", "stats"): lambda e, b: e.stats(),
    ("POST", "jobs"): _insert,
    ("POST", "clock"): _clock,
    ("POST", "clear"): _clear,
    ("GET", "health"): lambda e, b: {"ok": True, "jobs": e.store.count()},
}


class VertexEmulator:
    """A local Vertex AI (aiplatform v1) for hyperparameterTuningJobs and tuningJobs.

    ``speed``: emulated seconds per real second; ``start_time``: emulated epoch at start (None:
    now; fix it for fully deterministic timestamps and seeded display names).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 0,
        latency: float = 0.0,
        speed: float = 3600.0,
        max_page_size: int = 100,
        start_time: float | None = None,
        faults: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = Clock(speed=speed, start=start_time)
        self.store: Store = Store(self.clock, seed=seed, max_page_size=max_page_size)
        self.knobs: Knobs = Knobs(seed=seed, latency=latency, faults=faults)
        self.log = RequestLog()
        self.routes = build_routes(self.store)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Start serving (idempotent); returns the base URL, e.g. ``http://127.0.0.1:PORT/``."""
        if self._server is None:
            self._server = Server((self.host, self.port), Handler)
            self._server.emulator = self
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # stop() returns within 50 ms
                name="vertex-emulator",
                daemon=True,
            )
            self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def __enter__(self) -> VertexEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ knobs and logs
    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Set ``latency`` (seconds per request) and/or ``faults`` (see ``knobs.py``)."""
        return self.knobs.configure(**knobs)

    def requests(self) -> list[dict[str, Any]]:
        return self.log.entries()

    def reset_log(self) -> None:
        self.log.reset()

    def stats(self) -> dict[str, Any]:
        return self.log.stats()

    def seed(self, **kwargs: Any) -> dict[str, Any]:
        """Fill the store with the Google demo data (``seed_google``); returns its summary."""
        from stackql_tuning.sandbox.seed_google import seed_google

        return seed_google(self, **kwargs)

    def admin(self, method: str, action: str, raw: bytes) -> tuple[int, Any]:
        """One ``/__admin/<action>`` request: ``(HTTP status, JSON payload)``."""
        fn = ADMIN.get((method, action.strip("/")))
        if fn is None:
            known = ", ".join(f"{m} /__admin/{a}" for m, a in ADMIN)
            return 404, {
                "error": {
                    "code": 404,
                    "status": "NOT_FOUND",
                    "message": f"no admin endpoint {method} {action}; {known}",
                }
            }
        try:
            body = orjson.loads(raw) if raw else None
            return 200, fn(self, body)
        except orjson.JSONDecodeError as exc:
            message = f"invalid JSON: {exc}"
        except StackqlTuningError as exc:
            message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        except (TypeError, ValueError) as exc:
            message = str(exc)
        return 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": message}}
