"""Fixtures for unit tests.

- ``requests_http``: the Google transport sends through requests' adapter, not its lean client,
  for tests that mock HTTP with ``responses`` (which replaces that adapter). The lean client is
  tested over real loopback servers (``test_google_http``, the integration tests).
"""

from __future__ import annotations

import pytest

from stackql_tuning.transports.google import GoogleTransport


@pytest.fixture
def requests_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GoogleTransport, "lean_http", False)
