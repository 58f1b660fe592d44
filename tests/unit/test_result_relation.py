"""Result.relation: a typed DuckDB relation rebuilt from a result's rows on its own connection."""

from __future__ import annotations

import datetime as dt
import decimal
import importlib.util
import math

import duckdb
import pytest

from stackql_tuning.result import Result

UTC = dt.UTC


def result_of(sql: str) -> Result:
    """A Result the way the SELECT handler builds one: columns, types and rows from DuckDB."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.sql(sql)
    return Result(list(rel.columns), [str(t) for t in rel.types], rel.fetchall())


TYPED = """
SELECT i::BIGINT AS id, 'job-' || i AS "displayName",
       TIMESTAMPTZ '2024-05-01 12:00:00+00' + to_minutes(i) AS "createTime",
       json_object('algorithm', 'RANDOM_SEARCH', 'n', i)::JSON AS "studySpec",
       i * 0.5 AS half, i % 2 = 0 AS even, [i, i + 1] AS pair,
       {'k': i, 's': 'v'} AS st, 1.25::DECIMAL(10, 2) AS dec, INTERVAL 3 HOUR AS iv,
       DATE '2024-01-01' AS day, NULL::VARCHAR AS nothing, 'it''s "quoted"' AS text
FROM range(3) r(i)
"""


def test_types_and_values_survive() -> None:
    result = result_of(TYPED)
    rel = result.relation
    assert rel.columns == result.columns
    assert [str(t) for t in rel.types] == result.types
    assert rel.fetchall() == result.rows
    assert "JSON" in result.types and "TIMESTAMP WITH TIME ZONE" in result.types


def test_json_column_is_json_and_queryable() -> None:
    rel = result_of(TYPED).relation
    got = rel.query("r", "SELECT json_extract_string(\"studySpec\", '$.algorithm') FROM r")
    assert got.fetchall() == [("RANDOM_SEARCH",)] * 3
    row = rel.limit(1).fetchall()[0]
    assert row[2] == dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_relation_is_cached_and_independent_of_the_source() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    rel = con.sql("SELECT * FROM t")
    result = Result(list(rel.columns), [str(t) for t in rel.types], rel.fetchall())
    con.execute("CREATE OR REPLACE TABLE t AS SELECT 2 AS a, 3 AS b")
    assert result.relation is result.relation
    assert result.relation.fetchall() == [(1,)]


def test_empty_result_keeps_its_typed_columns() -> None:
    result = result_of("SELECT 1::INTEGER AS n, '{}'::JSON AS j WHERE false")
    rel = result.relation
    assert rel.columns == ["n", "j"]
    assert [str(t) for t in rel.types] == ["INTEGER", "JSON"]
    assert rel.fetchall() == []


def test_no_columns() -> None:
    result = Result(columns=[], types=[], rows=[], kind="delete", has_rows=False)
    assert result.relation.fetchall() == []


def test_duplicate_and_case_clashing_names_are_kept() -> None:
    result = result_of('SELECT 1 AS a, 2 AS a, 3 AS "A"')
    assert result.relation.columns == ["a", "a", "A"]
    assert result.relation.fetchall() == [(1, 2, 3)]


def test_non_finite_floats() -> None:
    result = Result(["x"], ["DOUBLE"], [(float("nan"),), (float("inf"),), (None,), (1.5,)])
    values = [r[0] for r in result.relation.fetchall()]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2:] == [None, 1.5]


def test_values_json_cannot_carry_take_the_slow_path() -> None:
    result = result_of("SELECT '\\x00\\xff'::BLOB AS b, (2::HUGEINT ** 70)::HUGEINT AS big")
    assert [str(t) for t in result.relation.types] == ["BLOB", "HUGEINT"]
    assert result.relation.fetchall() == result.rows


def test_many_rows_and_plain_python_results() -> None:
    rows = [(f"r{i}", i, decimal.Decimal("0.1") * i) for i in range(1200)]
    result = Result(["name", "n", "d"], ["VARCHAR", "INTEGER", "DECIMAL(18,1)"], rows)
    assert result.relation.aggregate("count(*), sum(n)").fetchall() == [(1200, sum(range(1200)))]
    assert result.relation.fetchall() == rows


def test_json_column_from_python_objects() -> None:
    result = Result(["j"], ["JSON"], [({"a": [1, 2]},), ('{"b": true}',), (None,)])
    rows = result.relation.fetchall()
    # JSON text is kept as it was given (as the session's rows hold it), a Python value compact
    assert rows == [('{"a":[1,2]}',), ('{"b": true}',), (None,)]


def test_unknown_type_falls_back_to_inferred_types() -> None:
    result = Result(["s"], ["my_enum"], [("a",), ("b",)])
    assert result.relation.fetchall() == [("a",), ("b",)]


def test_mismatched_types_are_a_bug() -> None:
    with pytest.raises(ValueError):
        _ = Result(["a", "b"], ["VARCHAR"], []).relation


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas not installed")
def test_df() -> None:
    df = result_of(TYPED).relation.df()
    assert list(df.columns)[:3] == ["id", "displayName", "createTime"]
    assert len(df) == 3
    assert str(df["createTime"].dt.tz) == "UTC"


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow not installed")
def test_arrow() -> None:
    table = result_of(TYPED).relation.arrow()
    if not hasattr(table, "num_rows"):  # a RecordBatchReader in newer DuckDB
        table = table.read_all()
    assert table.num_rows == 3
    assert table.column_names[0] == "id"


@pytest.mark.skipif(importlib.util.find_spec("polars") is None, reason="polars not installed")
def test_pl() -> None:
    frame = result_of(TYPED).relation.pl()
    assert frame.height == 3
    assert frame.columns[1] == "displayName"
