"""Test and benchmark knobs of the emulator: latency and fault injection.

Holds: :class:`Knobs` (per-request ``latency`` in seconds and a fault config
``{"rate", "kinds", "match", "retry_after"}``) and the seeded fault decision. The request log
is :class:`~stackql_tuning.sandbox.request_log.RequestLog`, shared with the AWS sandbox.

Fault kinds: ``"429"`` (RESOURCE_EXHAUSTED with ``Retry-After``), ``"500"``, ``"503"``,
``"drop"`` (the connection closes without a reply) and ``"truncate"`` (a Content-Length for the
whole body, half of it sent, then the connection closes).

Must not: know HTTP handlers or jobs.
"""

from __future__ import annotations

import random
import re
import threading
from typing import Any

from stackql_tuning.errors import UsageError, did_you_mean

FAULT_KINDS = ("429", "500", "503", "drop", "truncate")
_FAULT_KEYS = ("rate", "kinds", "match", "retry_after")
KNOB_KEYS = ("latency", "faults")


def check_faults(faults: dict[str, Any]) -> dict[str, Any]:
    """A complete, checked fault config (UsageError naming what is wrong)."""
    if not isinstance(faults, dict):
        raise UsageError(f"faults must be an object, got {faults!r}")
    for key in faults:
        if key not in _FAULT_KEYS:
            raise UsageError(
                f"unknown fault setting {key!r}",
                hint=did_you_mean(key, _FAULT_KEYS) or "settings: " + ", ".join(_FAULT_KEYS),
            )
    rate = faults.get("rate", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise UsageError(f"fault rate must be a number in [0, 1], got {rate!r}")
    kinds = faults.get("kinds") or {"503": 1}
    if not isinstance(kinds, dict):
        raise UsageError(f"fault kinds must map a kind to a weight, got {kinds!r}")
    for kind, weight in kinds.items():
        if str(kind) not in FAULT_KINDS:
            raise UsageError(
                f"unknown fault kind {kind!r}", hint="kinds: " + ", ".join(FAULT_KINDS)
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise UsageError(f"fault weight of {kind!r} must be a number >= 0, got {weight!r}")
    match = faults.get("match")
    if match is not None:
        try:
            re.compile(match)
        except (re.error, TypeError) as exc:
            raise UsageError(f"fault match {match!r} is not a regular expression: {exc}") from None
    retry_after = faults.get("retry_after", 1)
    if isinstance(retry_after, bool) or not isinstance(retry_after, int | float):
        raise UsageError(f"retry_after must be a number of seconds, got {retry_after!r}")
    return {
        "rate": float(rate),
        "kinds": {str(k): float(v) for k, v in kinds.items()},
        "match": match,
        "retry_after": retry_after,
    }


class Knobs:
    """Latency and faults; :meth:`decide` draws from a seeded RNG (thread-safe)."""

    def __init__(self, *, seed: int = 0, latency: float = 0.0, faults: Any = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(f"{seed}:faults")
        self.latency = 0.0
        self.faults = check_faults({})
        self._match: re.Pattern[str] | None = None
        self.configure(latency=latency, faults=faults or {})

    def configure(self, **knobs: Any) -> dict[str, Any]:
        for key in knobs:
            if key not in KNOB_KEYS:
                raise UsageError(
                    f"unknown emulator knob {key!r}",
                    hint=did_you_mean(key, KNOB_KEYS) or "knobs: " + ", ".join(KNOB_KEYS),
                )
        with self._lock:
            if "latency" in knobs:
                lat = knobs["latency"]
                if isinstance(lat, bool) or not isinstance(lat, int | float) or lat < 0:
                    raise UsageError(f"latency must be seconds >= 0, got {lat!r}")
                self.latency = float(lat)
            if "faults" in knobs:
                self.faults = check_faults(knobs["faults"] or {})
                match = self.faults["match"]
                self._match = re.compile(match) if match else None
            return self.config()

    def config(self) -> dict[str, Any]:
        return {"latency": self.latency, "faults": dict(self.faults)}

    def decide(self, path: str) -> str | None:
        """The fault to inject for a request to ``path``, or None."""
        with self._lock:
            rate = self.faults["rate"]
            if rate <= 0 or (self._match is not None and not self._match.search(path)):
                return None
            if self._rng.random() >= rate:
                return None
            kinds = [(k, w) for k, w in self.faults["kinds"].items() if w > 0]
            if not kinds:
                return None
            names, weights = zip(*kinds, strict=True)
            return self._rng.choices(names, weights)[0]
