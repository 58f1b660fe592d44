"""Google credentials from the environment: a bad GOOGLE_APPLICATION_CREDENTIALS is named, and a
token service's error text is shown with tokens and assertions redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackql_tuning.errors import AuthError
from stackql_tuning.transports.google import GoogleTransport, _reason


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.json", "which does not exist"),
        (lambda d: d, "which is a directory"),  # an internal IsADirectoryError
        # a malformed file said "ADC are not set up" and hinted to set the variable already set
        (lambda d: _write(d / "bad.json", "{not json"), "cannot use the key file"),
        (lambda d: _write(d / "odd.json", '{"type": "nonsense"}'), "cannot use the key file"),
    ],
)
def test_a_bad_adc_key_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: object, message: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    with pytest.raises(AuthError, match=message) as info:
        GoogleTransport._credentials("default", {})
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(info.value)
    assert "set GOOGLE_APPLICATION_CREDENTIALS" not in str(info.value)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_token_service_errors_are_redacted() -> None:
    jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    e = Exception(
        f"invalid_grant: Bad assertion (grant_type=jwt-bearer&assertion={jwt})",
        {"error": "invalid_grant", "access_token": "ya29.secretTOKEN"},
    )
    text = _reason(e)
    assert "invalid_grant: Bad assertion" in text and "<redacted>" in text
    assert jwt not in text and "c2lnbmF0dXJl" not in text
    e2 = Exception('{"error_description": "echo", "refresh_token": "1//secretREFRESH"}')
    assert "secretREFRESH" not in _reason(e2)
