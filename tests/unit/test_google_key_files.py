"""A Google key file that cannot be used: the error says what is wrong with it (not only
google-auth's exception class, and never an internal AttributeError for a file of ``[]``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackql_tuning.errors import AuthError
from stackql_tuning.transports.google import GoogleTransport

CASES = [
    ("[]", "it does not hold a JSON object"),
    ('{"type": "service_account"', "not valid JSON (Expecting ',' delimiter at line 2, column 1)"),
    ('{"type": "service_account"}', "not in the expected format, missing fields"),
]


@pytest.mark.parametrize(("content", "said"), CASES)
def test_a_service_account_key_file_that_cannot_be_used_says_why(
    tmp_path: Path, content: str, said: str
) -> None:
    key = tmp_path / "key.json"
    key.write_text(content + "\n")
    with pytest.raises(AuthError) as info:
        GoogleTransport._credentials("service_account", {"credentialsfilepath": str(key)})
    assert f"cannot use the google service account key file {key}: " in str(info.value)
    assert said in str(info.value)


def test_a_default_key_file_that_cannot_be_used_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key.json"
    key.write_text("[]\n")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    with pytest.raises(AuthError, match="it does not hold a JSON object"):
        GoogleTransport._credentials("default", {})
