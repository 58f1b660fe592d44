"""One instant per statement (``plan.clock``), and constant expressions pushed as their value
(``pushrules._folded``)."""

from __future__ import annotations

import duckdb
import pytest

from stackql_tuning.plan.clock import pin_the_clock
from stackql_tuning.plan.pushdown import apply_pushdown
from stackql_tuning.plan.select import plan_query
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql import parse_one

REG = Registry()
A = "aws.sagemaker.hyper_parameter_tuning_jobs"
G = "google.aiplatform.hyperparameter_tuning_jobs"


def _duckdb(calls: list[str]) -> list[tuple[str, str]]:
    cols = ", ".join(f"CAST({c} AS VARCHAR), typeof({c})" for c in calls)
    row = duckdb.sql(f"SELECT {cols}").fetchall()[0]
    return [(str(row[2 * i]), str(row[2 * i + 1])) for i in range(len(calls))]


def test_the_clock_of_conditions_is_read_once() -> None:
    asked: list[list[str]] = []

    def read(calls: list[str]) -> list[tuple[str, str]]:
        asked.append(calls)
        return [("2026-11-20 10:00:00+00", "TIMESTAMP WITH TIME ZONE")] * len(calls)

    sql = (
        f"SELECT now() AS t, count(*) FILTER (WHERE CreationTime > now()) FROM {A} a "
        "JOIN (VALUES (1)) v(x) ON a.CreationTime < get_current_timestamp() "
        "WHERE CreationTime > now() - INTERVAL 1 DAY AND EXISTS (SELECT 1 WHERE "
        "current_timestamp > TIMESTAMPTZ '2020-01-01') GROUP BY ALL HAVING max(CreationTime) "
        "< transaction_timestamp()"
    )
    tree = pin_the_clock(parse_one(sql).expression, read)
    assert len(asked) == 1 and len(asked[0]) == 4  # WHERE, ON, the subquery's WHERE, HAVING
    text = tree.sql(dialect="duckdb")
    assert text.count("CAST('2026-11-20 10:00:00+00' AS TIMESTAMPTZ)") == 4
    # a select item keeps its name, and the value DuckDB gives it
    assert text.startswith("SELECT NOW() AS t, COUNT(*) FILTER(WHERE CreationTime > NOW())")


def test_a_select_items_subquery_keeps_its_clock() -> None:
    # DuckDB names the column by the item's SQL: a pinned instant changed it at each run
    sql = f"SELECT (SELECT count(*) FROM {A} WHERE CreationTime < now()), 1 WHERE now() > 0"
    tree = pin_the_clock(parse_one(sql).expression, lambda calls: [("1", "INTEGER")] * len(calls))
    assert tree.sql(dialect="duckdb").startswith("SELECT (SELECT COUNT(*) FROM")
    assert "CreationTime < NOW()" in tree.sql(dialect="duckdb")
    assert tree.sql(dialect="duckdb").endswith("WHERE CAST('1' AS INT) > 0")


@pytest.mark.parametrize(
    "condition",
    [
        "CreationTime > now() - INTERVAL 1 DAY",
        "CAST(CreationTime AS DATE) = current_date",
        "CreationTime < localtimestamp",
        "CAST(CreationTime AS TIMETZ) < get_current_time()",
        "CreationTime < CURRENT_TIMESTAMP(3)",
    ],
)
def test_a_pinned_clock_is_the_value_duckdb_reads(condition: str) -> None:
    sql = "SELECT count(*) FROM (VALUES (TIMESTAMPTZ '2026-01-01')) t(CreationTime) WHERE "
    con = duckdb.connect()
    pinned = pin_the_clock(parse_one(sql + condition).expression, _duckdb).sql(dialect="duckdb")
    assert "CAST('" in pinned
    written = parse_one(sql + condition).expression.sql(dialect="duckdb")  # as the engine runs it
    assert con.execute(pinned).fetchall() == con.execute(written).fetchall()


def _fold(sql: str) -> tuple[str, str] | None:
    try:
        return _duckdb([sql])[0]
    except duckdb.Error:
        return None


def _pushed(sql: str) -> dict[str, object]:
    plan = plan_query(parse_one(sql).expression, REG)
    apply_pushdown(plan, fold=_fold)
    return plan.slots[0].pushed


def test_a_constant_expression_is_pushed_as_its_value() -> None:
    pinned = "CAST('2026-11-20 10:00:00+00' AS TIMESTAMPTZ)"
    where = f"WHERE region = 'us-east-1' AND CreationTime > {pinned} - INTERVAL 1 DAY"
    pushed = _pushed(f"SELECT * FROM {A} {where}")
    assert pushed["CreationTimeAfter"] == "2026-11-19T09:59:59Z"  # a second wider
    where = "WHERE projectsId = 'p' AND locationsId = 'l' AND createTime < DATE '2026-11-20' + 1"
    assert _pushed(f"SELECT * FROM {G} {where}") == {
        "filter": 'create_time<="2026-11-21T00:00:01Z"'
    }


@pytest.mark.parametrize(
    "value",
    [
        "now() - INTERVAL 1 DAY",  # the clock not pinned: the query reads it again
        "TIMESTAMPTZ '2026-01-01' + INTERVAL (1 // 0) DAY",  # DuckDB cannot evaluate it
        "my_macro()",  # a function nobody vouches for
        "(SELECT max(x) FROM (VALUES (TIMESTAMPTZ '2026-01-01')) v(x))",
        "CAST(NULL AS TIMESTAMPTZ)",  # NULL: no row passes, the API is not asked with 'None'
        "NULL + INTERVAL 1 DAY",
    ],
)
def test_no_push_of_what_may_not_be_a_constant(value: str) -> None:
    pushed = _pushed(f"SELECT * FROM {A} WHERE region = 'us-east-1' AND CreationTime > {value}")
    assert "CreationTimeAfter" not in pushed


@pytest.mark.parametrize(
    "condition",
    [
        # a folded string skipped the checks of a literal: its case, its collation (0 rows
        # where DuckDB's NOCASE kept 14), its enum values (the API refused 'job_state_x')
        "state = upper('job_state_failed')",
        "state = 'JOB_STATE_FAILED' COLLATE NOCASE",
        "state = lower('JOB_STATE_FAILED')",
        "state = CAST(NULL AS VARCHAR)",
        "maxTrialCount > CAST(NULL AS INTEGER)",  # was a ValueError out of the planner
        "maxTrialCount = [4]",
    ],
)
def test_only_a_time_is_folded(condition: str) -> None:
    where = f"WHERE projectsId = 'p' AND locationsId = 'l' AND {condition}"
    assert _pushed(f"SELECT * FROM {G} {where}") == {}


def test_a_folded_time_is_a_bound_not_a_string() -> None:
    pinned = "CAST('2026-11-20 10:00:00+00' AS TIMESTAMPTZ)"
    where = f"WHERE projectsId = 'p' AND locationsId = 'l' AND displayName = {pinned}"
    assert _pushed(f"SELECT * FROM {G} {where}") == {}
