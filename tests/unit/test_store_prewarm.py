"""DuckDB is started in the background only for statements that need it, and used once."""

from __future__ import annotations

import pytest

from stackql_tuning.run import store
from stackql_tuning.run.store import Store, _first_word, prewarm_for


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("select 1", "SELECT"),
        ("  -- a comment\n/*+ AWAIT */ WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("(SELECT 1)", "("),
        ("SHOW PROVIDERS", "SHOW"),
        ("/* never closed", ""),
        ("", ""),
    ],
)
def test_first_word_skips_blanks_and_comments(text: str, word: str) -> None:
    assert _first_word(text) == word


def test_catalog_statements_start_nothing() -> None:
    for text in ("SHOW PROVIDERS", "DESCRIBE google.aiplatform.hyperparameter_tuning_jobs"):
        prewarm_for(text)
        assert "thread" not in store._warm


def test_a_library_session_leaves_a_query_s_duckdb_until_its_first_calls_have_left() -> None:
    """``Session.execute`` starts DuckDB in the background for a statement that writes, not for
    a query: a query sends its first calls first, and DuckDB's start-up competed with them."""
    from stackql_tuning.session import Session

    for text in ("SELECT 1", "WITH x AS (SELECT 1) SELECT * FROM x", "(SELECT 1)", "FROM t"):
        prewarm_for(text, queries=False)
        assert "thread" not in store._warm, text
    prewarm_for("INSERT INTO t SELECT 1", queries=False)
    warm = store._warm.get("thread")
    assert warm is not None
    store._close_warm()  # taken and closed: nothing is left for the next Store

    with Session() as session:
        assert session.execute("SELECT 41 + 1").rows == [(42,)]
        assert "thread" not in store._warm  # the store was made when the query needed it


def test_a_query_starts_duckdb_and_the_next_store_takes_it_once() -> None:
    prewarm_for("SELECT 1")
    warm = store._warm.get("thread")
    assert warm is not None
    warm.join()
    assert store.started_already()  # a Store made now does not wait for DuckDB's start-up
    first = Store()
    try:
        assert "thread" not in store._warm and "con" not in store._warm
        assert not store.started_already()
        assert first.execute("SELECT 42") == [(42,)]
        second = Store()  # nothing warm left: it connects itself, to its own database
        try:
            first.execute("CREATE TABLE only_here (x INTEGER)")
            assert second.execute("SELECT count(*) FROM duckdb_tables()") == [(0,)]
        finally:
            second.close()
    finally:
        first.close()


def test_a_store_nobody_closes_still_removes_its_directory() -> None:
    import gc
    import os

    s = Store()
    path = s.tmpdir
    assert os.path.isdir(path)
    s.con.close()  # a session dropped without close(): only the connection is let go here
    del s
    gc.collect()
    assert not os.path.exists(path)


def test_close_removes_the_directory_once() -> None:
    import os

    s = Store()
    s.close()
    assert not os.path.exists(s.tmpdir)
    s._remove_tmpdir()  # a second removal (the finalizer) is a no-op
