"""One stored job: its fields, its planned timeline, and its JSON as Google would send it.

Holds: :class:`Spec` (user fields, possibly shared by many bulk-inserted jobs, with their compact
JSON cached once), :class:`Record` (timeline of ``(emulated time, state)`` entries; the state at
any time is read from it lazily, so no background threads exist) and :func:`plan_timeline`.
A record caches its compact list-reply bytes until its state changes.

Must not: know HTTP, pages or filters, or name a particular collection (see ``kinds.py``).
"""

from __future__ import annotations

import bisect
import random
from typing import Any

import orjson

from stackql_tuning.sandbox.vertex.clock import rfc3339
from stackql_tuning.sandbox.vertex.fieldmask import Mask, apply_mask
from stackql_tuning.sandbox.vertex.kinds import (
    CANCELLED,
    CANCELLING,
    FAILED,
    RUNNING,
    SUCCEEDED,
    Kind,
)

PENDING = "JOB_STATE_PENDING"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED, "JOB_STATE_EXPIRED"})
#: the states a job passes through to reach each state (the last one included)
_PATHS: dict[str, tuple[str, ...]] = {
    "JOB_STATE_QUEUED": ("JOB_STATE_QUEUED",),
    PENDING: (PENDING,),
    RUNNING: (PENDING, RUNNING),
    SUCCEEDED: (PENDING, RUNNING, SUCCEEDED),
    FAILED: (PENDING, RUNNING, FAILED),
    CANCELLING: (PENDING, RUNNING, CANCELLING),
    CANCELLED: (PENDING, RUNNING, CANCELLING, CANCELLED),
}
PINNABLE = tuple(_PATHS)


class Spec:
    """User fields of a job; ``fragment`` is their compact JSON without the braces."""

    __slots__ = ("_fragment", "fields")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self._fragment: bytes | None = None

    @property
    def fragment(self) -> bytes:
        if self._fragment is None:
            self._fragment = orjson.dumps(self.fields)[1:-1]
        return self._fragment


def plan_timeline(
    kind: Kind, rng: random.Random, create_time: float, now: float, target: str | None
) -> tuple[list[tuple[float, str]], float | None, float | None, float | None, str]:
    """``(timeline, run_start, run_end, stop_time, outcome)`` for a new job.

    ``target`` None: the job runs its natural course (PENDING -> RUNNING -> SUCCEEDED or
    FAILED). A state: the job is *pinned* there (seeding); durations shrink to fit before ``now``.
    """
    pend = rng.uniform(*kind.pending)
    run = rng.uniform(*kind.running)
    cancel = rng.uniform(*kind.cancelling)
    outcome = FAILED if rng.random() < kind.fail_rate else SUCCEEDED
    if target is None:
        t1, t2 = create_time + pend, create_time + pend + run
        return [(create_time, PENDING), (t1, RUNNING), (t2, outcome)], t1, t2, None, outcome
    path = _PATHS[target]
    if target in (SUCCEEDED, FAILED):
        outcome = target
    ran = run * (rng.uniform(0.2, 0.8) if CANCELLING in path else 1.0)
    steps = {RUNNING: pend, SUCCEEDED: ran, FAILED: ran, CANCELLING: ran, CANCELLED: cancel}
    durations = [steps.get(s, 0.0) for s in path]
    total = sum(durations)
    room = now - create_time
    if room <= 0:
        scale = 0.0  # created "now": every step happens at once, so the pinned state holds
    else:
        scale = 1.0 if total <= room * 0.95 else room * 0.95 / total
    timeline, t = [], create_time
    for state, d in zip(path, durations, strict=True):
        t += d * scale
        timeline.append((t, state))
    timeline[0] = (create_time, path[0])
    run_start = next((t for t, s in timeline if s == RUNNING), None)
    run_end = stop = None
    if run_start is not None:
        run_end = run_start + run * scale
        if target == RUNNING:
            run_end = max(run_end, now + run * 0.5)
        stop = next((t for t, s in timeline if s == CANCELLING), None)
        if target in (SUCCEEDED, FAILED):
            run_end = timeline[-1][0]
    return timeline, run_start, run_end, stop, outcome


class Record:
    """One job. ``own`` fields win over the (maybe shared) ``spec`` fields."""

    __slots__ = (
        "_bytes",
        "_masked",
        "_valid",
        "collection",
        "create_time",
        "id",
        "kind",
        "memo",
        "name",
        "omit",
        "outcome",
        "own",
        "parent",
        "run_end",
        "run_start",
        "seed",
        "spec",
        "stamps",
        "stop_time",
        "timeline",
        "times",
    )

    def __init__(
        self,
        *,
        collection: str,
        kind: Kind,
        parent: str,
        id: int,
        spec: Spec,
        own: dict[str, Any],
        create_time: float,
        seed: str,
        timeline: list[tuple[float, str]],
        run_start: float | None,
        run_end: float | None,
        stop_time: float | None,
        outcome: str,
        omit: frozenset[str],
    ) -> None:
        self.collection = collection
        self.kind = kind
        self.parent = parent
        self.id = id
        self.name = f"{parent}/{collection}/{id}"
        self.spec = spec
        self.own = own
        self.create_time = create_time
        self.seed = seed
        self.run_start = run_start
        self.run_end = run_end
        self.stop_time = stop_time
        self.outcome = outcome
        self.omit = omit
        self.memo: dict[str, Any] = {}
        self.set_timeline(timeline)

    # -- reading
    def value(self, key: str) -> Any:
        if key in self.own:
            return self.own[key]
        return self.spec.fields.get(key)

    def set_timeline(self, timeline: list[tuple[float, str]]) -> None:
        self.timeline = timeline
        self.times = [t for t, _ in timeline]
        self.stamps: dict[float, str] = {}
        self._bytes: bytes | None = None
        self._masked: dict[str, bytes] = {}
        self._valid = (0.0, 0.0)

    def segment(self, now: float) -> int:
        return max(0, bisect.bisect_right(self.times, now) - 1)

    def state(self, now: float) -> str:
        return self.timeline[self.segment(now)][1]

    def started(self, state: str) -> bool:
        """Whether the job had reached RUNNING by the time it is in ``state``."""
        return (
            self.run_start is not None
            and state not in (PENDING, "JOB_STATE_QUEUED")
            and any(s == RUNNING for s in self._states_until(state))
        )

    def _states_until(self, state: str) -> list[str]:
        out = []
        for _, s in self.timeline:
            out.append(s)
            if s == state:
                break
        return out

    def view(self, now: float) -> dict[str, Any]:
        """The values list filters look at."""
        seg = self.segment(now)
        state = self.timeline[seg][1]
        times = self._times(seg)
        return {
            "state": state,
            "display_name": self.value(self.kind.display_field),
            "create_time": self.create_time,
            "update_time": times.get("updateTime"),
            "start_time": times.get("startTime"),
            "end_time": times.get("endTime"),
            "labels": self.value("labels") or {},
        }

    def _times(self, seg: int) -> dict[str, float]:
        out = {"createTime": self.create_time, "updateTime": self.times[seg]}
        state = self.timeline[seg][1]
        for t, s in self.timeline[: seg + 1]:
            if s == RUNNING:
                out["startTime"] = t
        if state in TERMINAL:
            out["endTime"] = self.times[seg]
        return out

    def _dynamic(self, now: float, full: bool) -> dict[str, Any]:
        seg = self.segment(now)
        state = self.timeline[seg][1]
        out: dict[str, Any] = {"state": state}
        if state == FAILED:
            out["error"] = self.kind.failure(self)
        elif state == CANCELLED:
            out["error"] = {"code": 1, "message": "CANCELED"}
        stamps = self.stamps
        for key, t in self._times(seg).items():
            stamp = stamps.get(t)
            if stamp is None:
                stamp = stamps[t] = rfc3339(t)
            out[key] = stamp
        for key, produce in self.kind.outputs.items():
            if not full and key in self.omit:
                continue
            value = produce(self, state, now)
            if value is not None:
                out[key] = value
        return out

    def _render(self, now: float, full: bool) -> bytes:
        parts = [b'"name":' + orjson.dumps(self.name)]
        if self.own:
            parts.append(orjson.dumps(self.own)[1:-1])
        if self.spec.fields:
            if self.own and any(k in self.spec.fields for k in self.own):
                rest = {k: v for k, v in self.spec.fields.items() if k not in self.own}
                if rest:
                    parts.append(orjson.dumps(rest)[1:-1])
            else:
                parts.append(self.spec.fragment)
        parts.append(orjson.dumps(self._dynamic(now, full))[1:-1])
        return b"{" + b",".join(parts) + b"}"

    def list_bytes(self, now: float) -> bytes:
        """Compact JSON of the job as a list reply shows it (cached while the state holds)."""
        lo, hi = self._valid
        if self._bytes is not None and lo <= now < hi:
            return self._bytes
        seg = self.segment(now)
        nxt = self.times[seg + 1] if seg + 1 < len(self.times) else float("inf")
        self._bytes = self._render(now, full=False)
        self._masked = {}
        self._valid = (self.times[seg] if now >= self.times[0] else float("-inf"), nxt)
        return self._bytes

    def masked_list_bytes(self, now: float, mask: Mask, key: str) -> bytes:
        """:meth:`list_bytes` cut to a partial response's ``mask`` (``key``: its canonical
        text), cached beside it: a list page with ``fields`` then costs what a whole page costs,
        not a decode and re-encode of every job on every request."""
        whole = self.list_bytes(now)  # re-rendered when the state moved on: the cache is reset
        out = self._masked.get(key)
        if out is None:
            out = self._masked[key] = orjson.dumps(apply_mask(orjson.loads(whole), mask))
        return out

    def full_bytes(self, now: float) -> bytes:
        """Compact JSON of the job as ``get`` shows it (with the fields lists omit)."""
        if not self.omit:
            return self.list_bytes(now)
        return self._render(now, full=True)

    def to_dict(self, now: float, full: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.full_bytes(now) if full else self.list_bytes(now))
        return data

    # -- changing
    def cancel(self, now: float, rng: random.Random) -> None:
        """PENDING/RUNNING -> CANCELLING now -> CANCELLED a little later."""
        keep = [(t, s) for t, s in self.timeline if t <= now]
        done = now + rng.uniform(*self.kind.cancelling)
        self.stop_time = now
        self.set_timeline([*keep, (now, CANCELLING), (done, CANCELLED)])
