"""DuckDB statements that would write a provider table are refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.targets import check_not_written
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql import parse

REPO = Path(__file__).resolve().parents[2]
SM = "aws.sagemaker.hyper_parameter_tuning_jobs"


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry(REPO / "providers")


@pytest.mark.parametrize(
    "sql",
    [
        f"TRUNCATE {SM}",
        f"DROP TABLE {SM}",
        f"MERGE INTO {SM} t USING (SELECT 1 AS x) s ON true WHEN MATCHED THEN DELETE",
        f"ALTER TABLE {SM} ADD COLUMN y INTEGER",
        f"COPY {SM} FROM 'jobs.csv'",
        f"CREATE OR REPLACE TABLE {SM} AS SELECT 1 AS x",
        f"COMMENT ON TABLE {SM} IS 'x'",
    ],
)
def test_writing_a_provider_table_is_refused(reg: Registry, sql: str) -> None:
    (stmt,) = parse(sql)
    with pytest.raises(PlanError, match=f"cannot change {SM}") as e:
        check_not_written(stmt, reg)
    assert "DELETE FROM" in (e.value.hint or "")


@pytest.mark.parametrize(
    "sql",
    [
        f"CREATE TABLE mine AS SELECT * FROM {SM} WHERE region = 'us-east-1'",
        f"COPY (SELECT * FROM {SM} WHERE region = 'us-east-1') TO 'out.parquet'",
        f"COPY {SM} TO 'out.csv'",
        "DROP TABLE mine",
        "SET TimeZone = 'UTC'",
    ],
)
def test_reading_a_provider_table_or_writing_a_local_one_is_allowed(
    reg: Registry, sql: str
) -> None:
    (stmt,) = parse(sql)
    check_not_written(stmt, reg)
