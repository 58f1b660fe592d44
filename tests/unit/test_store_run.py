"""``Store.run`` after ``Store.bind``: the types DuckDB gave the bind decide whether the rows
need DuckDB's text beside them (an INTERVAL's months), without asking DuckDB again."""

from __future__ import annotations

import datetime as dt

import pytest

from stackql_tuning.run.store import Store


@pytest.fixture
def store():
    s = Store()
    try:
        yield s
    finally:
        s.close()


def test_a_bound_query_runs_without_describing_it_again(store, monkeypatch) -> None:
    sql = "SELECT 1 AS n, 'x' AS s"
    store.bind(sql)
    monkeypatch.setattr(store, "_lossless", lambda statements: pytest.fail("described again"))
    rows = store.run(sql)
    assert rows is not None and rows.rows == [(1, "x")]


def test_a_bound_query_with_an_interval_still_keeps_its_months(store) -> None:
    sql = "SELECT INTERVAL 14 MONTH AS iv"
    store.bind(sql)
    rows = store.run(sql)
    assert rows is not None and rows.types == ["INTERVAL"]
    value = rows.rows[0][0]
    assert value != dt.timedelta(days=420)  # months kept, not 30 days each


def test_another_query_than_the_bound_one_is_described(store, monkeypatch) -> None:
    store.bind("SELECT 1 AS n")
    called = []
    real = store._lossless
    monkeypatch.setattr(store, "_lossless", lambda st: called.append(1) or real(st))
    store.run("SELECT 2 AS n")
    assert called == [1]
