"""The session's transports, created lazily per provider and shared by every statement.

Keeps HTTP connection pools and boto3 clients warm across statements. Chooses the transport
class from the provider's ``transport`` field (dispatch table in ``transports.base``).
"""

from __future__ import annotations

import threading
from typing import Any

from stackql_tuning.registry.loader import Registry
from stackql_tuning.run.cache import ResponseCache
from stackql_tuning.settings import Settings
from stackql_tuning.transports.base import Call, Page, PreparedRequest, transport_class
from stackql_tuning.transports.retry import RateLimits, RetryPolicy


class Fetcher:
    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self.retry = RetryPolicy(
            max_attempts=settings.max_attempts, base=settings.retry_base, cap=settings.retry_cap
        )
        self.limits = RateLimits(settings.rate_limit)
        self._transports: dict[str, Any] = {}
        self._lock = threading.Lock()
        #: every call sent (cache hits are not), for tests: (label, page token)
        self.log: list[tuple[str, str | None]] = []
        self.cache = ResponseCache()

    def transport(self, provider: str) -> Any:
        t = self._transports.get(provider)
        if t is not None:
            return t
        with self._lock:
            t = self._transports.get(provider)
            if t is None:
                name = self.registry.provider(provider).transport
                cls = transport_class(name)
                t = cls(self.settings, self.registry, retry=self.retry, limits=self.limits)
                self._transports[provider] = t
            return t

    def fetch(self, call: Call, token: str | None = None) -> Page:
        ttl = self.settings.cache_ttl
        reading = call.method.sql_verb == "SELECT"
        if not reading:
            # a mutation: never cached, and what was cached of its resource is stale now
            self.cache.invalidate(call.resource.id)
        elif ttl:
            page = self.cache.get(call, token, ttl)
            if page is not None:
                return page
        elif len(self.cache):
            # the cache was turned off (the shell's \c off): what it holds is not kept for
            # when it is turned on again (a state read before would answer then)
            self.cache.clear()
        self.log.append((call.label, token))
        page = self.transport(call.resource.provider).fetch(call, token)
        if reading and ttl:
            self.cache.put(call, token, page)
        return page  # type: ignore[no-any-return]

    def warm(self, calls: list[Call]) -> None:
        """Start building, in the background, the SDK clients ``calls`` will use (Python work
        that can overlap DuckDB's start-up and the bind check, which run without the GIL).
        Sends nothing; a failure is left for the real call to report."""
        wanted = [c for c in calls if hasattr(self.transport(c.resource.provider), "warm")]
        if not wanted:
            return

        def run() -> None:
            for call in wanted:
                try:
                    self.transport(call.resource.provider).warm(call)
                except Exception:  # the real call reports it
                    continue

        threading.Thread(target=run, name="warm", daemon=True).start()

    def prepare(self, call: Call, token: str | None = None) -> PreparedRequest:
        return self.transport(call.resource.provider).prepare(call, token)  # type: ignore[no-any-return]

    def check(self, call: Call) -> None:
        """Every check of ``call``'s request that can be made before it is sent (a PlanError
        when one fails): its path values, and the SDK's own validation where there is one."""
        transport = self.transport(call.resource.provider)
        if hasattr(transport, "check"):  # it prepares the request itself
            transport.check(call)
        else:
            transport.prepare(call)

    def host_of(self, call: Call) -> str:
        svc = self.registry.service(call.resource.provider, call.resource.service).data
        key = svc.get("location_param") or svc.get("region_param") or "region"
        return f"{call.resource.provider}:{call.params.get(key, '')}"

    def close(self) -> None:
        for t in self._transports.values():
            t.close()
        self._transports.clear()
