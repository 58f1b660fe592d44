"""Reading Google's replies: the next page token without decoding the page, the shape check of
a list reply, and the one-line messages for HTTP errors and connection failures.

Pure functions over bytes and exceptions; no HTTP of their own.
"""

from __future__ import annotations

import re

from stackql_tuning.registry.model import split_identity
from stackql_tuning.transports.base import Call, CallError, snippet
from stackql_tuning.transports.lean_http import NOT_GZIP, ConnectFailed


def next_token(body: bytes, field: str) -> str | None:
    """The top-level ``field`` of a JSON object reply, without decoding the whole body.

    Fast path: when the last occurrence of the key is a top-level member (its value is followed
    only by the closing brace, as Google writes it), read just that; otherwise decode it all.
    """
    import orjson

    key = b'"' + field.encode() + b'"'
    idx = body.rfind(key)
    if idx < 0:
        return None
    tail = body[idx:]
    colon = tail.find(b":")
    if colon > 0:
        rest = tail[colon + 1 :].lstrip()
        if rest.startswith(b'"'):
            end = rest.find(b'"', 1)
            while end > 0 and rest[end - 1 : end] == b"\\":
                end = rest.find(b'"', end + 1)
            if end > 0 and rest[end + 1 :].strip() == b"}":
                try:
                    value = orjson.loads(rest[: end + 1])
                except orjson.JSONDecodeError:
                    value = None
                if isinstance(value, str):
                    return value or None
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CallError(None, "the reply is not valid JSON") from None
    value = obj.get(field) if isinstance(obj, dict) else None
    if value is not None and not isinstance(value, str):  # an object or a number: not a token
        raise CallError(None, f"the reply's {field} is not a string")
    return value or None


#: top-level members a list reply may have besides its items and its next-page token


_LIST_EXTRAS = frozenset({"unreachable"})


def check_list_reply(call: Call, body: bytes, status: int) -> None:
    """A list reply without its items key must be an empty page (Google omits empty lists).

    Only such replies (small) are decoded; a reply that holds something else (an error object
    with status 200, another resource's list) is a failed call, never an empty result.
    """
    import orjson

    key = call.method.items_key
    if not key or re.search(b'"' + re.escape(key.encode()) + rb'"\s*:', body):
        return
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise CallError(status, f"the reply is not valid JSON: {e}") from None
    allowed = set(_LIST_EXTRAS)
    if call.method.pagination is not None:
        allowed.add(call.method.pagination.output_token)
    extra = sorted(set(obj) - allowed) if isinstance(obj, dict) else ["<not an object>"]
    if extra:
        raise CallError(
            status,
            f"the reply has no {key!r} list (it has {', '.join(map(repr, extra[:5]))})",
        )


def check_object_reply(call: Call, body: bytes, status: int) -> None:
    """A reply that is one object must be the object the method returns.

    - the resource (a get, a create): its identity column (``name``) a string, and for a get
      that name's parts the ones asked for (a reply about another job was shown as the job
      asked for). The name's first part, the project, is not compared: the API may name it
      by its number when it was asked by its id;
    - an operation: a name to follow;
    - an empty reply (a cancel): no ``error`` member.

    An ``error`` member of a reply that is not the resource (``{"error": {...}}`` with 200)
    is quoted. A failed operation (``done`` with ``error``) is the caller's to judge.
    """
    import orjson

    kind = call.method.response.get("kind")
    if kind not in ("object", "operation", "empty"):
        return
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise CallError(status, f"the reply is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise CallError(status, "the reply is not a JSON object")
    error = obj.get("error")
    said = f": it says {_status_text(error)}" if isinstance(error, dict) else ""
    if kind == "empty":
        if said:
            raise CallError(status, f"the reply is an error, not the empty reply expected{said}")
        return
    if kind == "operation":
        if not isinstance(obj.get("name"), str) or not obj["name"]:
            raise CallError(status, f"the reply is not an operation (it has no name){said}")
        return
    ident = call.resource.identity
    column, template = ident.get("column"), ident.get("template")
    if not column:
        return
    value = obj.get(column)
    if not isinstance(value, str) or not value:
        schema = call.method.response.get("schema") or call.resource.id
        raise CallError(status, f"the reply has no {column}: it is not a {schema}{said}")
    if call.method.is_list or not template:
        return
    parts = split_identity(str(template), value)
    if parts is None:
        raise CallError(status, f"the reply is {value!r}, not a name of {call.resource.id}")
    for key in list(parts)[1:]:
        asked = call.params.get(key)
        if asked is not None and str(asked) != parts[key]:
            raise CallError(
                status, f"the reply is {value!r}, not the {key} {str(asked)!r} asked for"
            )


def _status_text(error: dict[str, object]) -> str:
    """A google.rpc.Status as one line: ``PERMISSION_DENIED (403): denied``."""
    code = error.get("status") or error.get("code") or "error"
    extra = f" ({error['code']})" if error.get("status") and error.get("code") else ""
    return f"{code}{extra}: {str(error.get('message') or '')[:200]}".rstrip(": ")


def refused_before_sending(e: Exception) -> bool:
    """Whether no connection was made, so nothing of the request was sent."""
    if isinstance(e, ConnectFailed):
        return True
    text = repr(e)
    return "NewConnectionError" in text or "ConnectionRefusedError" in text


def rejected_certificate(e: Exception) -> bool:
    """Whether the server's TLS certificate failed verification (sending again cannot help)."""
    return "CERTIFICATE_VERIFY_FAILED" in repr(e)


def connection_message(
    e: Exception, attempts: int, timeout: tuple[float, float] | None = None
) -> str:
    kind = type(e).__name__
    detail = "connection refused" if refused_before_sending(e) else kind
    if isinstance(e, ConnectFailed) and not isinstance(e.args[0], ConnectionRefusedError):
        detail = f"could not connect ({e.args[0]})"  # no such host, no route
    elif "ConnectTimeout" in kind:
        limit = f" within the connect timeout of {timeout[0]:g} s" if timeout else ""
        detail = f"could not connect{limit}"
    elif "Timeout" in kind:
        limit = f" within the read timeout of {timeout[1]:g} s" if timeout else ""
        detail = f"no reply{limit}"
    elif NOT_GZIP in repr(e):
        detail = NOT_GZIP
    elif "ChunkedEncoding" in kind or "IncompleteRead" in repr(e):
        detail = "the reply was cut off"
    elif "RemoteDisconnected" in repr(e) or "ConnectionReset" in repr(e):
        detail = "the server closed the connection"
    return f"{detail} (after {attempts} attempt{'s' if attempts > 1 else ''})"


def error_message(raw: bytes, attempts: int) -> str:
    import orjson

    suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
    try:
        obj = orjson.loads(raw)
        err = obj.get("error") if isinstance(obj, dict) else None
        if isinstance(err, dict):
            status = err.get("status")
            msg = str(err.get("message", "")).strip()
            return (f"{status}: {msg}" if status else msg) + suffix
    except orjson.JSONDecodeError:
        pass
    return snippet(raw) + suffix


def api_not_found(raw: bytes) -> bool:
    """Whether a 404's body is the API's own "no such resource" (a JSON error whose status is
    NOT_FOUND), not a proxy's or a wrong host's page: only that means an empty answer."""
    import orjson

    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    err = obj.get("error") if isinstance(obj, dict) else None
    return isinstance(err, dict) and (err.get("status") == "NOT_FOUND" or err.get("code") == 404)
