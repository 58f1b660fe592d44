"""The emulator's jobs and long-running operations, and the Google semantics over them.

Holds: :class:`Store` - jobs per (collection, parent) with ids kept in order (pages are slices,
page tokens are opaque "after this id" markers, so unfiltered pages never scan), create (with
schema validation), get, list pages built by joining each job's cached compact bytes, cancel,
delete (returning a long-running ``Operation``), operations, and Python-side seeding
(:meth:`Store.insert`, :meth:`Store.insert_many`). Raises :class:`ApiError` for API errors and
:class:`stackql_tuning.errors.UsageError` for misuse of the Python API.

Must not: know HTTP, sockets or fault injection (``server.py``), or name a collection.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import gc
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

from stackql_tuning.errors import UsageError, did_you_mean
from stackql_tuning.sandbox.vertex import discovery
from stackql_tuning.sandbox.vertex.clock import Clock, rfc3339
from stackql_tuning.sandbox.vertex.errors import ApiError
from stackql_tuning.sandbox.vertex.fieldmask import Mask
from stackql_tuning.sandbox.vertex.filters import parse_filter
from stackql_tuning.sandbox.vertex.kinds import CANCELLING, KINDS, Kind
from stackql_tuning.sandbox.vertex.records import PINNABLE, Record, Spec, plan_timeline
from stackql_tuning.sandbox.vertex.validate import validate_create

_PARENT = re.compile(r"^projects/[^/]+/locations/[^/]+$")
_DELETE_META = "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata"
_EMPTY = "type.googleapis.com/google.protobuf.Empty"
#: emulated seconds a delete operation takes to finish
DELETE_SECONDS = 5.0


@dataclass
class Bucket:
    ids: list[int] = field(default_factory=list)
    records: dict[int, Record] = field(default_factory=dict)


def encode_token(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        tag, _, value = text.partition(":")
        if tag != "after":
            raise ValueError(tag)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError.invalid(f"Invalid pageToken {token!r}.", field="pageToken") from None


class Store:
    """Jobs by collection and parent, and operations. Thread-safe (one lock)."""

    def __init__(
        self,
        clock: Clock,
        *,
        seed: int = 0,
        max_page_size: int = 100,
        default_page_size: int = 50,
        collections: tuple[str, ...] = tuple(KINDS),
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.max_page_size = max_page_size
        self.default_page_size = default_page_size
        self.collections = {name: discovery.collection(name) for name in collections}
        self._lock = threading.RLock()
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._ops: dict[str, dict[str, Any]] = {}
        self._ids = random.Random(f"{seed}:ids")
        self._last_id = 10**18 + self._ids.randrange(10**15)
        self._rng = random.Random(f"{seed}:store")

    # ------------------------------------------------------------------ helpers
    def _kind(self, collection: str) -> Kind:
        if collection not in self.collections:
            raise UsageError(
                f"the Vertex emulator has no collection {collection!r}",
                hint=did_you_mean(collection, self.collections)
                or "collections: " + ", ".join(self.collections),
            )
        return KINDS[collection]

    def _next_id(self) -> int:
        self._last_id += self._ids.randint(1, 10**11)
        return self._last_id

    def _bucket(self, collection: str, parent: str) -> Bucket:
        key = (collection, parent)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket()
        return bucket

    def _record(self, collection: str, parent: str, job_id: str) -> Record:
        bucket = self._buckets.get((collection, parent))
        rec = None
        if bucket is not None and job_id.isdigit():
            rec = bucket.records.get(int(job_id))
        if rec is None:
            name = f"{parent}/{collection}/{job_id}"
            singular = discovery.singular(collection).replace("_", " ")
            raise ApiError.not_found(f"The {singular} does not exist: {name}")
        return rec

    def _add(
        self,
        collection: str,
        parent: str,
        spec: Spec,
        own: dict[str, Any],
        state: str | None,
        create_time: float | None,
    ) -> Record:
        kind = KINDS[collection]
        now = self.clock.now()
        created = now if create_time is None else float(create_time)
        job_id = self._next_id()
        seed = f"{self.seed}:{collection}:{job_id}"
        timeline, run_start, run_end, stop, outcome = plan_timeline(
            kind, random.Random(seed), created, now, state
        )
        rec = Record(
            collection=collection,
            kind=kind,
            parent=parent,
            id=job_id,
            spec=spec,
            own=own,
            create_time=created,
            seed=seed,
            timeline=timeline,
            run_start=run_start,
            run_end=run_end,
            stop_time=stop,
            outcome=outcome,
            omit=frozenset(self.collections[collection].list_omits),
        )
        bucket = self._bucket(collection, parent)
        bucket.ids.append(job_id)  # ids only grow, so the list stays sorted
        bucket.records[job_id] = rec
        return rec

    def _clean(self, collection: str, body: Any) -> dict[str, Any]:
        coll = self.collections[collection]
        kind = KINDS[collection]
        cleaned = validate_create(
            body, coll.item_ref, discovery.singular(collection), kind.required
        )
        kind.checks(cleaned)
        return cleaned

    @staticmethod
    def _check_parent(parent: str) -> None:
        if not _PARENT.match(parent):
            raise ApiError.invalid(
                f"Invalid parent {parent!r}: expected projects/{{project}}/locations/{{location}}",
                field="parent",
            )

    # ------------------------------------------------------------------ API methods
    def create(self, collection: str, parent: str, body: Any) -> bytes:
        """``create``: validate, store, and return the new job's compact JSON."""
        self._kind(collection)
        self._check_parent(parent)
        cleaned = self._clean(collection, body)
        with self._lock:
            rec = self._add(collection, parent, Spec(cleaned), {}, None, None)
            return rec.full_bytes(self.clock.now())

    def get(self, collection: str, parent: str, job_id: str) -> bytes:
        with self._lock:
            return self._record(collection, parent, job_id).full_bytes(self.clock.now())

    def page(
        self,
        collection: str,
        parent: str,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        filter: str | None = None,
        item_mask: tuple[Mask, str] | None = None,
    ) -> bytes:
        """One ``list`` reply: ``{"<itemsKey>": [...], "nextPageToken": "..."}`` (or ``{}``).

        ``item_mask``: a partial response's selection inside each item, and its canonical
        text (each job's cut is cached with its list bytes)."""
        coll = self.collections[collection]
        if page_size is not None and page_size < 0:
            raise ApiError.invalid(
                f"pageSize must not be negative, got {page_size}.", field="pageSize"
            )
        size = page_size or self.default_page_size
        size = min(size, self.max_page_size)
        states = coll.schema()["properties"]["state"].get("enum", [])
        pred = parse_filter(filter, states)
        after = decode_token(page_token) if page_token else None
        with self._lock:
            now = self.clock.now()

            def render(rec: Record) -> bytes:
                if item_mask is None:
                    return rec.list_bytes(now)
                return rec.masked_list_bytes(now, *item_mask)

            bucket = self._buckets.get((collection, parent)) or Bucket()
            ids, records = bucket.ids, bucket.records
            pos = 0 if after is None else bisect.bisect_right(ids, after)
            more = False
            if pred is None:
                chunk = ids[pos : pos + size]
                items = [render(records[i]) for i in chunk]
                more = pos + size < len(ids)
            else:
                chunk, items = [], []
                for i in ids[pos:]:
                    rec = records[i]
                    if pred(rec.view(now)):
                        if len(chunk) == size:
                            more = True
                            break
                        chunk.append(i)
                        items.append(render(rec))
        if not items:
            return b"{}"
        out = b'{"' + coll.items_key.encode() + b'":[' + b",".join(items) + b"]"
        if more:
            out += b',"nextPageToken":"' + encode_token(chunk[-1]).encode() + b'"'
        return out + b"}"

    def cancel(self, collection: str, parent: str, job_id: str) -> bytes:
        """``cancel``: PENDING/RUNNING -> CANCELLING (-> CANCELLED); 409 once finished."""
        with self._lock:
            rec = self._record(collection, parent, job_id)
            now = self.clock.now()
            state = rec.state(now)
            if state == CANCELLING:
                return b"{}"
            if state not in rec.kind.cancellable:
                raise ApiError.conflict(
                    f"Cannot cancel {rec.name}: it is in state {state}; only jobs in "
                    + ", ".join(sorted(rec.kind.cancellable))
                    + " can be cancelled."
                )
            rec.cancel(now, self._rng)
            return b"{}"

    def delete(self, collection: str, parent: str, job_id: str) -> bytes:
        """``delete``: removes a finished job; returns a long-running Operation."""
        with self._lock:
            rec = self._record(collection, parent, job_id)
            now = self.clock.now()
            state = rec.state(now)
            if state not in rec.kind.deletable:
                raise ApiError.conflict(
                    f"Cannot delete {rec.name}: it is in state {state}; cancel it first "
                    "or wait until it has finished."
                )
            bucket = self._buckets[(collection, parent)]
            del bucket.records[rec.id]
            del bucket.ids[bisect.bisect_left(bucket.ids, rec.id)]
            op_name = f"{parent}/operations/{self._next_id()}"
            self._ops[op_name] = {"created": now, "done_at": now + DELETE_SECONDS}
            return self.operation(op_name)

    def operation(self, name: str) -> bytes:
        with self._lock:
            op = self._ops.get(name)
            if op is None:
                raise ApiError.not_found(f"Operation {name} does not exist.")
            now = self.clock.now()
            done = now >= op["done_at"]
            out: dict[str, Any] = {
                "name": name,
                "metadata": {
                    "@type": _DELETE_META,
                    "genericMetadata": {
                        "createTime": rfc3339(op["created"]),
                        "updateTime": rfc3339(op["done_at"] if done else op["created"]),
                    },
                },
            }
            if done:
                out["done"] = True
                out["response"] = {"@type": _EMPTY}
            return orjson.dumps(out)

    # ------------------------------------------------------------------ Python API
    def insert(
        self,
        collection: str,
        parent: str,
        job: dict[str, Any],
        *,
        state: str | None = None,
        create_time: float | None = None,
        validate: bool = True,
    ) -> dict[str, Any]:
        """Store one job directly (seeding): ``state`` pins it in that state (None: it runs its
        course from ``create_time``, default now). Returns the job as ``get`` shows it."""
        return self.insert_many(
            collection,
            parent,
            1,
            job,
            state=state,
            create_time=create_time,
            validate=validate,
            vary=None,
        )[0]

    def insert_many(
        self,
        collection: str,
        parent: str,
        count: int,
        template: dict[str, Any],
        *,
        state: str | None = None,
        create_time: float | None = None,
        spacing: float = 60.0,
        validate: bool = True,
        vary: str | None = "display",
    ) -> list[dict[str, Any]]:
        """Store ``count`` jobs sharing ``template`` (benchmarks). With ``vary="display"`` each
        gets the template's display name plus ``-NNNNNN``; create times step by ``spacing``
        emulated seconds, ending at ``create_time`` (default now). Returns the first and last
        jobs (all of them when ``count`` <= 2)."""
        kind = self._kind(collection)
        if state is not None and state not in PINNABLE:
            raise UsageError(
                f"cannot pin a job in state {state!r}", hint="states: " + ", ".join(PINNABLE)
            )
        if not _PARENT.match(parent):
            raise UsageError(
                f"invalid parent {parent!r}",
                hint="expected projects/{project}/locations/{location}",
            )
        try:
            cleaned = self._clean(collection, template) if validate else dict(template)
        except ApiError as exc:
            raise UsageError(f"invalid {collection} template: {exc.message}") from None
        field_name = kind.display_field
        base = str(cleaned.get(field_name, collection))
        if vary:
            cleaned.pop(field_name, None)
        spec = Spec(cleaned)
        gc_was_on = gc.isenabled()
        gc.disable()  # 100k new records would trigger many full collections for nothing
        try:
            with self._lock:
                end = self.clock.now() if create_time is None else float(create_time)
                recs = []
                for i in range(count):
                    own = {field_name: f"{base}-{i:06d}"} if vary else {}
                    t = end - (count - 1 - i) * spacing
                    rec = self._add(collection, parent, spec, own, state, t)
                    if i == 0 or i == count - 1:
                        recs.append(rec)
        finally:
            if gc_was_on:
                gc.enable()
        with self._lock:
            now = self.clock.now()
            return [r.to_dict(now) for r in recs]

    def jobs(self, collection: str, parent: str | None = None) -> list[Record]:
        """Every record of ``collection`` (under ``parent`` when given), in id order."""
        self._kind(collection)
        with self._lock:
            out: list[Record] = []
            for (coll, par), bucket in sorted(self._buckets.items()):
                if coll == collection and (parent is None or par == parent):
                    out.extend(bucket.records[i] for i in bucket.ids)
            return out

    def count(self) -> int:
        with self._lock:
            return sum(len(b.ids) for b in self._buckets.values())

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._ops.clear()
