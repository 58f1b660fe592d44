"""A faster botocore response parser for the AWS transport's reads.

botocore's JSON parser decodes a reply with ``json`` and then walks every node through its generic
shape objects, and turns each epoch timestamp into a datetime through dateutil's ``tzlocal``
(~18 us each). For the replies of SELECT calls (list pages, describes: what ends up in DuckDB),
:class:`FastJSONParser` does the same work faster, only inside :func:`fast_read` and only for
2xx replies of the ``json`` protocol: the body is decoded with orjson and walked by a converter
compiled once per output shape from the botocore model.

The result is the dict botocore's parser gives: members in the model's order, null and
unmodelled members left out, lists and maps rebuilt, blobs through botocore's blob parser,
timestamps as tz-aware datetimes at the same instant and UTC offset (so ``orjson.dumps`` writes
the same text for DuckDB), and ``ResponseMetadata`` from botocore's own code. A fixed-offset
local zone (UTC on servers) gets a stdlib ``timezone`` of dateutil's offset; a zone with DST,
a timestamp given as text or a custom timestamp parser goes through botocore's parser. Shapes it
does not reproduce (tagged unions, documents, any type with a handler of its own) are parsed by
botocore's parser, and any failure sends the whole reply to botocore's parser.

Within :func:`checked` (the transport's calls, reads and mutations alike), a 2xx ``json`` reply
that does not fit its output shape raises :class:`ReplyUnfit` (saying what is wrong: not JSON,
not an object, a required member missing, a value of the wrong type, with its path) instead of
becoming whatever botocore's parser makes of it (an empty dict for a body that is not JSON, an
``AttributeError`` for a list where an object belongs). The check costs the fast path one type
check per list and, per reply, a look for the output's required members; the walk that names
the misfit runs only once a reply failed to parse.

Must not: change a parsed reply (the check only refuses one), or take errors, non-2xx
replies, event streams or other protocols; the fast path must not take calls outside
:func:`fast_read`. Imports botocore: import this module lazily.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from botocore.parsers import (
    DEFAULT_TIMESTAMP_PARSER,
    PROTOCOL_PARSERS,
    JSONParser,
    ResponseParserFactory,
)

from stackql_tuning.transports.base import snippet

#: a converter for one shape's values; None means the value as it is
Convert = Callable[[Any], Any] | None

_FAST: ContextVar[bool] = ContextVar("stackql_tuning_aws_fast_read", default=False)
_CHECK: ContextVar[bool] = ContextVar("stackql_tuning_aws_checked", default=False)
#: orjson reads an integer literal beyond 64 bits as a float at least this large, where json
#: keeps an int: a value botocore would pass as it is must be a str, int, bool or smaller float
_BIG = 2.0**63
#: shape types whose handling this module reproduces (structure: unless union or document)
_OWN_TYPES = frozenset({"structure", "list", "map", "timestamp", "blob"})


@contextmanager
def fast_read(on: bool = True) -> Iterator[None]:
    """Within the block (this thread or task), 2xx json replies take the fast parser."""
    token = _FAST.set(on)
    try:
        yield
    finally:
        _FAST.reset(token)


@contextmanager
def checked(on: bool = True) -> Iterator[None]:
    """Within the block (this thread or task), a 2xx json reply that does not fit its output
    shape raises :class:`ReplyUnfit`."""
    token = _CHECK.set(on)
    try:
        yield
    finally:
        _CHECK.reset(token)


class ReplyUnfit(Exception):
    """A 2xx reply that does not fit the operation's output shape; ``args[0]`` says how, in
    words for the user (no Python names)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FastParserFactory(ResponseParserFactory):  # type: ignore[misc]
    """botocore's parser factory, with :class:`FastJSONParser` for the ``json`` protocol."""

    def __init__(self) -> None:
        super().__init__()
        self._kwargs: dict[str, Any] = {}
        self._converters = Converters()

    def set_parser_defaults(self, **kwargs: Any) -> None:
        super().set_parser_defaults(**kwargs)
        self._kwargs.update(kwargs)
        self._converters = Converters()  # compiled with the old timestamp/blob parsers

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json" and PROTOCOL_PARSERS.get("json") is JSONParser:
            return FastJSONParser(self._converters, **self._kwargs)
        return super().create_parser(protocol_name)


class FastJSONParser(JSONParser):  # type: ignore[misc]
    def __init__(self, converters: Converters, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._converters = converters

    def _do_parse(self, response: dict[str, Any], shape: Any) -> Any:
        success = 200 <= response["status_code"] < 300
        if shape is None and success and _CHECK.get():
            # an operation with no output (a delete, a stop): its reply is empty or a JSON
            # object; an HTML page (a captive portal) was taken for "done", and so was an
            # error body (``__type``, the JSON protocol's error marker) with status 200
            data = _decoded(response)
            if "__type" in data:
                said = str(data.get("message") or data.get("Message") or "")[:200]
                raise ReplyUnfit(
                    f"the reply is an error, not the empty reply expected: {data['__type']}"
                    + (f": {said}" if said else ""),
                    response["status_code"],
                )
        if shape is None or not success or shape.event_stream_name:
            return super()._do_parse(response, shape)
        if _FAST.get():
            try:
                parsed = self._fast(response["body"], shape)
            except Exception:  # botocore's parser decides, and raises what it raises
                pass
            else:
                if _CHECK.get():
                    _check_required(parsed, shape, response)
                self._inject_response_metadata(parsed, response["headers"])
                return parsed
        if not _CHECK.get():
            return super()._do_parse(response, shape)
        data = _decoded(response)
        found = misfit(shape, data, self._timestamp_parser)
        if found is not None:
            raise ReplyUnfit(
                f"the reply does not fit {shape.name}: {found}", response["status_code"]
            )
        try:
            parsed = super()._do_parse(response, shape)
        except Exception:
            raise ReplyUnfit(
                f"the reply does not fit {shape.name}", response["status_code"]
            ) from None
        _check_required(parsed, shape, response)
        return parsed

    def _fast(self, body: bytes, shape: Any) -> Any:
        data = orjson.loads(body) if body else {}
        convert = self._converters.get(shape, self)
        return data if convert is None else convert(data)


def _check_required(parsed: dict[str, Any], shape: Any, response: dict[str, Any]) -> None:
    """Raise :class:`ReplyUnfit` when ``parsed`` lacks a member ``shape`` requires."""
    for name in shape.required_members:
        if name not in parsed:
            status = response["status_code"]
            if not response["body"].strip():
                raise ReplyUnfit(f"the reply is empty (expected {shape.name})", status)
            raise ReplyUnfit(f"the reply lacks {name}", status)


def _decoded(response: dict[str, Any]) -> Any:
    """The reply body as JSON (an empty body as ``{}``), or :class:`ReplyUnfit`."""
    body = response["body"]
    status = response["status_code"]
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        reason = str(e).split(":", 1)[0]
        raise ReplyUnfit(f"the reply is not JSON ({reason}): {snippet(body)}", status) from None
    if type(data) is not dict:
        raise ReplyUnfit(f"the reply is {_what(data)}, not a JSON object", status)
    return data


#: botocore shape type -> (the JSON values that fit it, how a message names it)
_SCALARS: dict[str, tuple[tuple[type, ...], str]] = {
    "string": ((str,), "a string"),
    "integer": ((int,), "an integer"),
    "long": ((int,), "an integer"),
    "float": ((int, float), "a number"),
    "double": ((int, float), "a number"),
    "boolean": ((bool,), "true or false"),
    "blob": ((str,), "a base64 string"),
    "timestamp": ((int, float, str), "a timestamp"),
}


def _what(value: Any) -> str:
    """How a message names a JSON value: its kind, and a scalar's own text."""
    kind = type(value)
    if kind is dict:
        return "an object"
    if kind is list:
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def misfit(shape: Any, value: Any, stamp: Callable[[Any], Any], path: str = "") -> str | None:
    """Where ``value`` (decoded JSON) first does not fit ``shape``, as ``path is X, not Y``;
    None when it fits. Only the types are checked (a list where an object belongs, a number
    where a string does, text that is no timestamp), not required members or enums."""
    kind = shape.type_name
    here = path or "the reply"
    if kind == "structure":
        if shape.is_document_type:
            return None
        if type(value) is not dict:
            return f"{here} is {_what(value)}, not an object"
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            item = value.get(key)
            if item is not None:
                found = misfit(member, item, stamp, f"{path}.{key}" if path else key)
                if found is not None:
                    return found
        return None
    if kind == "list":
        if type(value) is not list:
            return f"{here} is {_what(value)}, not a list"
        for i, item in enumerate(value):
            found = None if item is None else misfit(shape.member, item, stamp, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    if kind == "map":
        if type(value) is not dict:
            return f"{here} is {_what(value)}, not an object"
        for key, item in value.items():
            found = None if item is None else misfit(shape.value, item, stamp, f"{path}.{key}")
            if found is not None:
                return found
        return None
    fits, named = _SCALARS.get(kind, ((), ""))
    if not fits:
        return None
    kind_of = type(value)
    if kind_of not in fits and not (kind_of is float and int in fits and value.is_integer()):
        return f"{here} is {_what(value)}, not {named}"
    if kind == "timestamp":
        try:
            stamp(value)
        except Exception:
            return f"{here} is {_what(value)}, not {named}"
    return None


class Converters:
    """Compiled converters by output shape (the shape objects of one client's model)."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, Convert]] = {}
        self._lock = threading.Lock()

    def get(self, shape: Any, parser: Any) -> Convert:
        entry = self._by_id.get(id(shape))
        if entry is not None and entry[0] is shape:
            return entry[1]
        convert = compile_shape(shape, parser)
        with self._lock:
            self._by_id[id(shape)] = (shape, convert)  # keeps shape alive: ids stay unique
        return convert


def compile_shape(shape: Any, parser: Any) -> Convert:
    """A converter doing for ``shape``'s values what ``parser._parse_shape`` does."""
    stamp = timestamp_converter(parser._timestamp_parser)
    blob = parser._blob_parser
    structures: dict[str, Convert] = {}

    def build(s: Any) -> Convert:
        kind = s.type_name
        if kind not in _OWN_TYPES or (
            kind == "structure" and (s.is_document_type or s.is_tagged_union)
        ):
            if hasattr(parser, f"_handle_{kind}") or kind == "structure":
                return _botocore(parser, s)
            return None  # botocore's _default_handle: the value as it is
        if kind == "structure":
            if s.name not in structures:  # registered before its members: recursive shapes
                members: list[tuple[str, str, Convert, bool]] = []
                structures[s.name] = _structure(members)
                for name, member in s.members.items():
                    key = member.serialization.get("name", name)
                    text = member.type_name == "string"
                    members.append((name, key, build(member), text))
            return structures[s.name]
        if kind == "list":
            return _list(build(s.member))
        if kind == "map":
            return _map(build(s.key), build(s.value))
        return stamp if kind == "timestamp" else blob

    return build(shape)


class Unsure(ValueError):
    """A value the fast path cannot vouch for: botocore's parser takes the reply."""


def _botocore(parser: Any, shape: Any) -> Convert:
    def convert(value: Any) -> Any:
        return parser._parse_shape(shape, _vouched(value))

    return convert


def _vouched(value: Any) -> Any:
    """``value`` if json would have read it the same (no float from a huge integer literal)."""
    kind = type(value)
    if kind is dict:
        for item in value.values():
            _vouched(item)
    elif kind is list:
        for item in value:
            _vouched(item)
    elif kind is float and not -_BIG < value < _BIG:
        raise Unsure("a number beyond 64 bits")
    return value


def _plain(value: Any) -> Any:
    """A value botocore passes as it is (a scalar): the same from orjson as from json?"""
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is float and -_BIG < value < _BIG:
        return value
    raise Unsure(f"{kind.__name__} where a scalar was expected")  # a container, a huge number


def _structure(members: list[tuple[str, str, Convert, bool]]) -> Convert:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        out = {}
        get = value.get
        for name, key, sub, text in members:
            item = get(key)
            if item is not None:
                if sub is not None:
                    item = sub(item)
                elif type(item) is not str:
                    if text:  # botocore passes it on: a number as a NextToken went out again
                        raise Unsure(f"{type(item).__name__} where a string was expected")
                    item = _plain(item)
                out[name] = item
        return out

    return convert


def _list(item: Convert) -> Convert:
    each = _plain if item is None else item

    def convert(value: Any) -> Any:
        if type(value) is not list:  # a string would be a list of its letters
            raise Unsure(f"{type(value).__name__} where a list was expected")
        return [None if x is None else each(x) for x in value]

    return convert


def _map(key: Convert, value: Convert) -> Convert:
    each = _plain if value is None else value

    def convert(mapping: Any) -> Any:
        if key is None:
            return {k: each(v) for k, v in mapping.items()}
        return {key(k): each(v) for k, v in mapping.items()}

    return convert


_zones: dict[int, timezone] = {}


def timestamp_converter(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``parse`` (botocore's timestamp parser), with a fast way for its common case: an epoch
    number in a local zone without DST, where dateutil's ``tzlocal`` is the fixed offset
    ``-time.timezone`` (its datetimes and ours are the same instant and offset)."""
    if parse is not DEFAULT_TIMESTAMP_PARSER or sys.platform == "win32":
        return parse

    def convert(value: Any) -> Any:
        kind = type(value)
        if kind is float and not -_BIG < value < _BIG:
            raise Unsure("a timestamp beyond 64 bits")
        if (kind is float or kind is int) and not time.daylight:
            offset = -time.timezone
            zone = _zones.get(offset)
            if zone is None:
                zone = _zones.setdefault(offset, timezone(timedelta(seconds=offset)))
            try:
                return datetime.fromtimestamp(value, zone)
            except (OverflowError, OSError, ValueError):
                pass
        return parse(value)

    return convert
