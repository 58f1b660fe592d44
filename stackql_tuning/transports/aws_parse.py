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

Must not: change a parsed reply, or take errors, non-2xx replies, event streams, other
protocols or calls outside :func:`fast_read`. Imports botocore: import this module lazily.
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

#: a converter for one shape's values; None means the value as it is
Convert = Callable[[Any], Any] | None

_FAST: ContextVar[bool] = ContextVar("stackql_tuning_aws_fast_read", default=False)
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
        if (
            _FAST.get()
            and shape is not None
            and 200 <= response["status_code"] < 300
            and not shape.event_stream_name
        ):
            try:
                parsed = self._fast(response["body"], shape)
            except Exception:  # botocore's parser decides, and raises what it raises
                pass
            else:
                self._inject_response_metadata(parsed, response["headers"])
                return parsed
        return super()._do_parse(response, shape)

    def _fast(self, body: bytes, shape: Any) -> Any:
        data = orjson.loads(body) if body else {}
        convert = self._converters.get(shape, self)
        return data if convert is None else convert(data)


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
                members: list[tuple[str, str, Convert]] = []
                structures[s.name] = _structure(members)
                for name, member in s.members.items():
                    members.append((name, member.serialization.get("name", name), build(member)))
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


def _structure(members: list[tuple[str, str, Convert]]) -> Convert:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        out = {}
        get = value.get
        for name, key, sub in members:
            item = get(key)
            if item is not None:
                if sub is not None:
                    item = sub(item)
                elif type(item) is not str:
                    item = _plain(item)
                out[name] = item
        return out

    return convert


def _list(item: Convert) -> Convert:
    each = _plain if item is None else item

    def convert(value: Any) -> Any:
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
