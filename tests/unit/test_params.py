"""Query parameters: values bound as SQL literals (``sql.params``), through ``Session.execute``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from stackql_tuning.errors import UsageError
from stackql_tuning.session import Session
from stackql_tuning.sql.params import bind, literal


@pytest.mark.parametrize(
    ("value", "sql"),
    [
        (None, "NULL"),
        (True, "TRUE"),
        (3, "3"),
        (2.5, "2.5e0"),  # a DOUBLE (2.5 is a DECIMAL to DuckDB)
        (1e-30, "1e-30"),
        (Decimal("1.10"), "1.10"),
        ("it's", "'it''s'"),
        (dt.date(2026, 1, 2), "DATE '2026-01-02'"),
        (dt.datetime(2026, 1, 2, 3, 4, 5), "TIMESTAMP '2026-01-02T03:04:05'"),
        (
            dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "TIMESTAMPTZ '2026-01-02T03:04:05+00:00'",
        ),
        (dt.time(3, 4), "TIME '03:04:00'"),
    ],
)
def test_each_value_is_a_literal_of_its_type(value: Any, sql: str) -> None:
    assert literal(value) == sql


def test_values_keep_their_types_in_duckdb_and_a_cast_placeholder_is_found() -> None:
    # a date was a VARCHAR (date + INTERVAL failed), a float a DECIMAL; ?::INT was one token
    import stackql_tuning

    values = [dt.date(2024, 1, 2), dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 0.1, "7"]
    with stackql_tuning.connect() as s:
        sql = "SELECT typeof(?), typeof(?), typeof(?), ?::INT + 1"
        assert s.execute(sql, values).rows == [("DATE", "TIMESTAMP WITH TIME ZONE", "DOUBLE", 8)]
        [(day,)] = s.execute("SELECT ? + INTERVAL 1 DAY", [dt.date(2024, 1, 2)]).rows
        assert day == dt.datetime(2024, 1, 3)


@pytest.mark.parametrize("value", [float("nan"), ["a"], {"a": 1}, b"x", object(), "a\x00b"])
def test_a_value_without_a_literal_is_refused(value: Any) -> None:
    with pytest.raises(UsageError):
        literal(value)


def test_placeholders_in_strings_comments_and_names_are_text() -> None:
    text = "SELECT '?', \"$1\" AS q, ? -- ? $2\n, $$?$$"
    assert bind(text, [7]) == "SELECT '?', \"$1\" AS q, 7 -- ? $2\n, $$?$$"


@pytest.mark.parametrize(
    ("text", "params", "message"),
    [
        ("SELECT ?, ?", [1], "placeholder \\? has no value: 1 given"),
        ("SELECT ?", [1, 2], "2 values given for 1 placeholder"),
        ("SELECT ?", None, "the SQL has a placeholder, but no values"),
        ("SELECT ?, $1", [1], "mixes"),
        ("SELECT $a", [1], "\\$a needs values by name"),
        ("SELECT $a", {"b": 1}, "no value for \\$a"),
        ("SELECT $a", {"a": 1, "b": 2}, "no placeholder takes \\$b"),
        ("SELECT ?", {"a": 1}, "need values in order"),
        ("SELECT ?", "ab", "need values in order"),
    ],
)
def test_params_that_do_not_fit_the_placeholders_are_refused(
    text: str, params: Any, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        bind(text, params)


def test_numbered_and_named_placeholders() -> None:
    assert bind("SELECT $2, $1, $2", ["a", "b"]) == "SELECT 'b', 'a', 'b'"
    assert bind("SELECT $x || $x", {"x": "y"}) == "SELECT 'y' || 'y'"


def test_a_session_binds_values_and_a_value_never_becomes_sql() -> None:
    attack = "x' UNION ALL SELECT 'leak' --"
    with Session() as s:
        s.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a'), ('x')) v(r)")
        assert s.execute("SELECT r FROM t WHERE r = ?", [attack]).rows == []
        assert s.execute("SELECT r FROM t WHERE r IN (?, ?)", ("a", "x")).rows == [("a",), ("x",)]
        assert s.execute("SELECT count(*) FROM t WHERE r = $r", {"r": "a"}).rows == [(1,)]
        results = s.execute_script("SELECT ?; SELECT ?", [1, 2])
        assert [r.rows for r in results] == [[(1,)], [(2,)]]
        with pytest.raises(UsageError, match="no values"):
            s.execute("SELECT ?")


def test_a_provider_param_is_bound_from_a_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    # the planner binds the call's region from the literal the value became (a DuckDB
    # prepared parameter would have left the region unbound)
    with Session(dry_run=True) as s:
        sql = "SELECT * FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = ?"
        result = s.execute(sql, ["eu-west-1"])
    assert "region=eu-west-1" in str(result.rows)


@pytest.mark.parametrize(
    ("sql", "params", "said"),
    [
        ("SELECT ? AS a", ["\udcff"], "(line 1, column 8): the value of parameter 1 (?) is not"),
        ("SELECT 1 AS b,\n $n AS a", {"n": "a\ud800"}, "(line 2, column 2): the value of $n is"),
        ("SELECT $1 AS a", ["x\udce9"], "the value of $1 is not text"),
    ],
)
def test_a_lone_surrogate_in_a_parameter_is_a_usage_error_naming_it(
    sql: str, params: Any, said: str
) -> None:
    """It was "query error: Python Conversion Failure: cannot encode str as UTF-8"."""
    with Session() as s, pytest.raises(UsageError) as caught:
        s.execute(sql, params)
    assert said in str(caught.value)
    assert "a lone surrogate" in str(caught.value) and "Conversion" not in str(caught.value)


def test_a_lone_surrogate_in_the_sql_is_a_usage_error() -> None:
    with Session() as s, pytest.raises(UsageError) as caught:
        s.execute("SELECT 1 AS a,\n '\udcff' AS b")
    assert str(caught.value).startswith(
        "usage error (line 2, column 3): the SQL is not text: it holds a lone surrogate '\\udcff'"
    )
    with Session() as s, pytest.raises(UsageError):
        s.execute_script("SELECT 1; SELECT '\udcff';")
