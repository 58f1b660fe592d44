"""Reading the text files a user gives us (.iql scripts, manifests, vars, env and config files).

Every such file is read through :func:`read_text`: bytes that are not UTF-8 become a user-facing
error naming the file and the byte's position (never a ``UnicodeDecodeError``), and a leading
UTF-8 byte order mark (which some Windows editors write) is dropped so that it is not taken for
part of the first word; line and column numbers are those an editor shows. I/O errors
(``OSError``) are left to the caller, which knows what the file is for.

This module imports nothing but the standard library and :mod:`stackql_tuning.errors`.
"""

from __future__ import annotations

from pathlib import Path

from stackql_tuning.errors import Location, StackqlTuningError, UsageError

BOM = "\ufeff"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode(
    data: bytes,
    *,
    file: str,
    error: type[StackqlTuningError] = UsageError,
    resource: str | None = None,
) -> str:
    """``data`` as UTF-8 text without a leading BOM; ``error`` naming the byte if not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = e.start
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        before = data[line_start:start].decode("utf-8", "replace")
        column = len(before.removeprefix(BOM) if line_start == 0 else before) + 1
        hint = "save the file as UTF-8"
        if data.startswith(_UTF16_BOMS):
            hint = "it looks like UTF-16 text: save the file as UTF-8"
        raise error(
            f"the file is not UTF-8 text: byte 0x{data[start]:02x} at byte offset {start} "
            f"({e.reason})",
            location=Location(file=file, line=line, column=column, resource=resource),
            hint=hint,
        ) from None
    return text.removeprefix(BOM)


def read_text(
    path: Path,
    *,
    error: type[StackqlTuningError] = UsageError,
    resource: str | None = None,
) -> str:
    """The text of a user's file (see :func:`decode`); ``OSError`` propagates to the caller."""
    return decode(path.read_bytes(), file=str(path), error=error, resource=resource)


def lone_surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text`` (what ``errors='surrogateescape'``
    makes of a byte that is not UTF-8), None when ``text`` is valid Unicode text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return None


#: what to do about a lone surrogate (:func:`lone_surrogate`), for the errors that find one
SURROGATE_HINT = (
    "a lone surrogate is what errors='surrogateescape' makes of bytes that are not UTF-8: "
    "decode the bytes with the encoding they are in"
)
