"""Values Python cannot hold as DuckDB has them (an INTERVAL's months, nanoseconds)
and INTERVAL literals that sqlglot shortened: every format, the library's rows and relation."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from stackql_tuning.cli import main
from stackql_tuning.render.cell import iso_duration
from stackql_tuning.session import Session
from stackql_tuning.sql import parse_one

LOSSY = (
    "SELECT INTERVAL 1 YEAR AS y, INTERVAL 14 MONTH AS m, INTERVAL '-1 month 00:00:00.5' AS d, "
    "INTERVAL '-1 year -2 days' AS t, TIMESTAMP_NS '2024-01-02 03:04:05.123456789' AS ns, "
    "INTERVAL '3 days 04:05:06.5' AS i"
)


def run(sql: str, fmt: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert main(["exec", sql, "-o", fmt], out, err) == 0, err.getvalue()
    return out.getvalue()


def test_every_format_keeps_what_python_cannot_hold() -> None:
    # a year was P360D, the nanoseconds cut
    (row,) = [json.loads(line) for line in run(LOSSY, "jsonl").splitlines()]
    assert row == {
        "y": "P1Y",
        "m": "P1Y2M",
        "d": "P-1MT0.5S",
        "t": "-P1Y2D",
        "ns": "2024-01-02T03:04:05.123456789",
        "i": "P3DT4H5M6.5S",
    }
    assert run(LOSSY, "csv").splitlines()[1] == (
        "P1Y,P1Y2M,P-1MT0.5S,-P1Y2D,2024-01-02T03:04:05.123456789,P3DT4H5M6.5S"
    )


def test_library_rows_keep_python_values_where_they_are_exact() -> None:
    with Session() as session:
        result = session.execute(LOSSY)
        (row,) = result.rows
        assert row[:5] == (
            "1 year",
            "1 year 2 months",
            "-1 month 00:00:00.5",
            "-1 year -2 days",
            "2024-01-02 03:04:05.123456789",
        )
        assert row[5] == timedelta(days=3, hours=4, minutes=5, seconds=6.5)  # exact: a timedelta
        rel = result.relation
        months = rel.query("r", "SELECT CAST(m AS VARCHAR), CAST(d AS VARCHAR) FROM r").fetchall()
        assert months == [("1 year 2 months", "-1 month 00:00:00.5")]
        mixed = session.execute(
            "SELECT * FROM (VALUES (INTERVAL 2 HOUR), (INTERVAL 1 MONTH)) t(i) ORDER BY i"
        ).rows
        assert mixed == [(timedelta(hours=2),), ("1 month",)]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("1 year 2 months", "P1Y2M"),
        ("3 days 04:05:06.5", "P3DT4H5M6.5S"),
        ("-3 days -00:00:01.5", "-P3DT1.5S"),
        ("1 day -00:00:01", "P1DT-1S"),
        ("-1 month 3 days", "P-1M3D"),
        ("-1 month 00:00:00.5", "P-1MT0.5S"),
        ("-1 year -2 days 00:00:00.25", "P-1Y-2DT0.25S"),
        ("1000:00:00", "PT1000H"),
        ("00:00:00", "PT0S"),
        ("-00:00:00.000001", "-PT0.000001S"),
        ("not an interval", "not an interval"),
    ],
)
def test_iso_duration(text: str, iso: str) -> None:
    assert iso_duration(text) == iso


@pytest.mark.parametrize(
    "literal",
    ["INTERVAL '3 days 04:05:06'", "INTERVAL '-3 days -00:00:01.5'", "INTERVAL '1 day 12:00:00'"],
)
def test_an_interval_text_with_a_clock_stays_whole(literal: str) -> None:
    # sqlglot made INTERVAL '3 days 04:05:06' INTERVAL '3' DAYS: a time limit of a day and a
    # half became one day
    assert parse_one(f"SELECT {literal}").expression.sql(dialect="duckdb") == f"SELECT {literal}"


def test_a_statement_with_side_effects_runs_once() -> None:
    # the text of lossy columns was read by running the query again: a sequence advanced twice
    with Session() as session:
        session.execute("CREATE SEQUENCE seq START 1")
        session.execute("SELECT nextval('seq') AS n, INTERVAL 14 MONTH AS m")
        assert session.execute("SELECT nextval('seq') AS n").rows == [(2,)]


def test_column_names_stay_as_written_beside_a_lossy_column() -> None:
    # bound as a subquery, repeated names became a_1 and A_2 (an export named A was lost)
    out = run("SELECT 1 AS a, 2 AS a, 3 AS A, INTERVAL 1 MONTH AS i", "csv")
    assert out.splitlines() == ["a,a,A,i", "1,2,3,P1M"]
