"""What every transport takes and gives: one ``Call`` in, one ``Page`` out.

A transport knows HTTP (Google) or boto3 (AWS) but not SQL. The scheduler drives pagination by
passing the previous page's ``next_token`` back in. Transports are chosen by the provider's
``transport`` field through :data:`TRANSPORTS` (a dispatch table of lazily imported classes).
"""

from __future__ import annotations

import datetime
import functools
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from stackql_tuning.registry.model import Method, Resource


def user_agent(*sdk: tuple[str, str]) -> str:
    """The ``User-Agent`` both transports send: ours first, then the SDKs that carry the call
    (``("Boto3", "1.44.5")``...) and Python, e.g. ``stackql-tuning/0.1.0 Boto3/1.44.5
    Python/3.11.7``. For AWS it is also botocore's ``Config(user_agent=...)``: a fixed string,
    where botocore's own is rebuilt twice for every request (~0.2 ms of a ~1.4 ms describe)."""
    import platform

    from stackql_tuning import __version__

    parts = [f"stackql-tuning/{__version__}", *(f"{name}/{ver}" for name, ver in sdk)]
    return " ".join([*parts, f"Python/{platform.python_version()}"])


#: the SQL verb of polling calls (``/*+ AWAIT */``'s reads): not SELECT, which keeps them out of
#: the response cache, and a read, which a transport may retry as any read
POLL_VERB = "AWAIT"


@dataclass(frozen=True)
class Call:
    """One logical API call (a chain of pages for list methods)."""

    resource: Resource
    method: Method
    #: path/query/client params (Google) or operation input members + region (AWS)
    params: dict[str, Any]
    #: request body (INSERT, EXEC @@json); None for GET-like calls
    body: dict[str, Any] | None = None
    #: page size to ask for (list methods), when the planner chose one
    page_size: int | None = None
    #: the only reply fields the statement needs (a list's item fields, a get's fields), for
    #: an API with partial responses (Google's ``fields``); None: every field
    reply_fields: tuple[str, ...] | None = None
    #: a hydration get's: the params of the list call that listed its row which the get does
    #: not take (StatusEquals, filter): never sent, still the row's columns
    row_params: dict[str, Any] | None = None

    def describe_params(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.resource.id}.{self.method.name}({args})"


@dataclass
class Page:
    """One reply. Google keeps the raw bytes (DuckDB reads them); AWS has boto3's dict."""

    raw: bytes | None = None
    obj: dict[str, Any] | None = None
    next_token: str | None = None
    status: int | None = None
    #: attempts it took (1 = no retry)
    attempts: int = 1
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedRequest:
    """What a call would send, for --dry-run: credentials never included."""

    summary: str  # "GET https://..." or "SageMaker.ListHyperParameterTuningJobs"
    detail: dict[str, Any]


class Transport(Protocol):
    def fetch(self, call: Call, page_token: str | None = None) -> Page: ...

    def prepare(self, call: Call, page_token: str | None = None) -> PreparedRequest: ...

    def close(self) -> None: ...

    # optional: ``ready(call)`` resolves what a change needs before any is sent (credentials)


#: provider transport name -> "module:Class" (imported on first use: lazy start-up)
TRANSPORTS: dict[str, str] = {
    "google": "stackql_tuning.transports.google:GoogleTransport",
    "aws": "stackql_tuning.transports.aws:AwsTransport",
}


def transport_class(name: str) -> type:
    target = TRANSPORTS[name]
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


class CallError(Exception):
    """A call that failed for good (after retries): status and the API's own message."""

    def __init__(
        self,
        status: int | str | None,
        message: str,
        *,
        not_found: bool = False,
        sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        #: the API said the named resource does not exist (Google 404, AWS ResourceNotFound)
        self.not_found = not_found
        #: the request reached the server but its outcome is not known: the reply was lost or
        #: cut off, a success reply could not be read, or a server error (5xx) answered it (a
        #: mutation may have been done)
        self.sent = sent


@functools.cache
def _local_zone_is_utc() -> bool:
    """Whether the machine's zone is UTC all year (then a time botocore gives is in UTC, and
    orjson writes it with Z ten times faster than ``_utc_text``: 0.09 vs 0.86 ms a page)."""
    import time

    return time.timezone == 0 and time.altzone == 0


def _utc_text(value: Any) -> str:
    """A datetime with a zone in UTC as RFC 3339 text with ``Z`` (a naive one as it is, as
    orjson writes it); any other value as ``str``."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat() + "Z"
    return str(value)


def reply_json(obj: Any) -> bytes:
    """A parsed reply (boto3's) as JSON bytes. An integer beyond 64 bits, which orjson refuses
    (a reply's counter could crash the statement with an internal error, naming no call), is
    written by the standard library: loaded into its typed column, it is then the page's
    "value out of range" failure, its call named. A time is written in UTC with ``Z``, as
    Google's replies and the rendered columns write it, whatever the machine's zone (botocore
    gives times in the local zone: a time nested in a JSON column read ``-05:00`` or
    ``+00:00`` beside a column's ``Z``)."""
    import orjson

    try:
        if _local_zone_is_utc():  # botocore's times are UTC already: orjson writes them
            return orjson.dumps(obj, default=str, option=orjson.OPT_UTC_Z)
        return orjson.dumps(obj, default=_utc_text, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        import json

        return json.dumps(obj, default=_utc_text, separators=(",", ":")).encode()


def _named_as_asked(call: Call, obj: Any) -> Iterator[tuple[str, Any, str]]:
    """For a call that reads one resource (a describe): (param, value sent, the reply's
    same-named field) for each param the call was sent with that the reply names (not the
    client params: region, account)."""
    if call.method.is_list or not isinstance(obj, dict):
        return
    for p in call.method.params:
        asked, got = call.params.get(p.name), obj.get(p.name)
        if p.location != "client" and asked is not None and isinstance(got, str):
            yield p.name, asked, got


def other_resource(call: Call, obj: Any) -> str | None:
    """For a call that reads one resource (a describe), what says its reply is about another:
    a param the call was sent with whose same-named field of the reply holds another value
    (``HyperParameterTuningJobName``); None when nothing does."""
    for name, asked, got in _named_as_asked(call, obj):
        # names may differ in case only: SageMaker's are not case sensitive, and a describe
        # answers with the name as it was created
        if got.casefold() != str(asked).casefold():
            return f"the reply is about {name} {got!r}, not the {str(asked)!r} asked for"
    return None


def reply_identity(call: Call, obj: Any) -> tuple[Any, ...] | None:
    """Which resource a get's reply is about, to tell that two gets answered with the same one:
    the identity column's value (a Google name, whole: ``projects/123/...`` for a get by
    project id and one by project number), else the call's client params (region, account)
    with the reply's fields named after the call's other params, casefolded (a SageMaker
    describe of 'MyJob' answers with 'myjob'). None when the reply names nothing."""
    if call.method.is_list or not isinstance(obj, dict):
        return None
    column = call.resource.identity.get("column")
    if column and isinstance(obj.get(column), str):
        return (column, obj[column])
    named = []
    for p in call.method.params:
        got = obj.get(p.name)
        if p.location != "client" and isinstance(got, str):
            named.append((p.name, got.casefold()))
    if not named:
        return None
    client = [
        (p.name, call.params.get(p.name)) for p in call.method.params if p.location == "client"
    ]
    return tuple(client + named)


def case_only_difference(call: Call, obj: Any) -> str | None:
    """A get's reply that names its resource as asked but for case ('MyJob', answered with
    'myjob': SageMaker names are not case sensitive, SQL's comparisons are): what to tell the
    user, who may see no row when a WHERE or a join compares the name as they wrote it."""
    for name, asked, got in _named_as_asked(call, obj):
        if isinstance(asked, str) and got != asked and got.casefold() == asked.casefold():
            return (
                f"{call.label} answered with {name} {got!r}: the API does not tell "
                f"{asked!r} from it, SQL does (a WHERE or a join that compares the name as "
                f"{asked!r} drops the row; write {got!r})"
            )
    return None


def snippet(raw: bytes) -> str:
    """The start of a reply body as text for a message: tags and runs of white space squeezed,
    quoted; "empty body" when nothing is left."""
    text = re.sub(r"<[^>]+>", " ", raw[:200].decode("utf-8", "replace"))
    text = " ".join(text.split())
    return repr(text[:120]) if text else "empty body"
