"""A Session's life: closed, it refuses statements (it ran them in a new, empty database)."""

from __future__ import annotations

import pytest

from stackql_tuning.errors import UsageError
from stackql_tuning.session import Session


def test_a_closed_session_refuses_statements() -> None:
    with Session() as s:
        s.execute("CREATE TABLE picks AS SELECT 1 AS n")
        assert s.execute("SELECT n FROM picks").rows == [(1,)]
    assert s.closed
    for run in (
        lambda: s.execute("SELECT n FROM picks"),
        lambda: list(s.execute_script("SELECT 1; SELECT 2")),
    ):
        with pytest.raises(UsageError, match="this Session is closed"):
            run()
    s.close()  # twice: harmless
