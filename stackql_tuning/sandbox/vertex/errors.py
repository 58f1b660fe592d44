"""Google API errors as the emulator replies them: ``{"error": {"code", "message", "status"}}``.

Holds: :class:`ApiError` (an HTTP status, a google.rpc status name, a message and optional
field violations) and its JSON body. These are server-side replies, not the engine's user
errors (those live in ``stackql_tuning.errors``).

Must not: import anything beyond the standard library and orjson.
"""

from __future__ import annotations

from typing import Any

import orjson

_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


class ApiError(Exception):
    """One error reply: HTTP ``code``, google.rpc ``status`` name, ``message``."""

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        *,
        fields: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.fields = fields or []
        self.headers = headers or {}

    @classmethod
    def invalid(
        cls, message: str, *, field: str | None = None, fields: list[str] | None = None
    ) -> ApiError:
        names = fields or ([field] if field else [])
        return cls(400, "INVALID_ARGUMENT", message, fields=names)

    @classmethod
    def not_found(cls, message: str) -> ApiError:
        return cls(404, "NOT_FOUND", message)

    @classmethod
    def conflict(cls, message: str) -> ApiError:
        """An illegal state transition (cancel a finished job, delete a running one)."""
        return cls(409, "FAILED_PRECONDITION", message)

    def payload(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.fields:
            err["details"] = [
                {
                    "@type": _BAD_REQUEST,
                    "fieldViolations": [
                        {"field": f, "description": self.message} for f in self.fields
                    ],
                }
            ]
        return {"error": err}

    def body(self) -> bytes:
        return orjson.dumps(self.payload())
