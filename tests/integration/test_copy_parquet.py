"""COPY (SELECT ... FROM provider tables) TO parquet: the way out to Spark, Trino or BigQuery.

Provider tables are fetched and materialized first, then DuckDB writes the file; DuckDB reads
it back here and the row counts are compared with the sandbox's own truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import stackql_tuning
from stackql_tuning.sandbox.runner import Sandbox

PROJECT = "ml-research-prod"
LOCATIONS = ("us-central1", "europe-west4")
AWS_REGION = "eu-west-1"

GOOGLE_SELECT = f"""
SELECT j.displayName, j.state, j.locationsId, j.createTime,
       json_extract_string(j.studySpec, '$.algorithm') AS algorithm, j.studySpec
FROM google.aiplatform.hyperparameter_tuning_jobs j
WHERE j.projectsId = '{PROJECT}' AND j.locationsId IN ('{LOCATIONS[0]}', '{LOCATIONS[1]}')
"""


@pytest.fixture(scope="module")
def session(sandbox: Sandbox) -> Iterator[Any]:
    s = stackql_tuning.connect(**sandbox.settings())
    yield s
    s.close()


def google_count(sandbox: Sandbox) -> int:
    jobs = sandbox.truth["google"]["jobs"][PROJECT]
    return sum(len(jobs[loc]["hyperparameterTuningJobs"]) for loc in LOCATIONS)


def read_back() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def test_copy_google_jobs_to_parquet(session: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "jobs.parquet"
    result = session.execute(f"COPY ({GOOGLE_SELECT}) TO '{target}' (FORMAT parquet)")
    assert result.calls >= len(LOCATIONS)
    assert target.exists()
    con = read_back()
    count = con.sql(f"SELECT count(*) FROM '{target}'").fetchall()[0][0]
    assert count == google_count(sandbox) > 0
    assert result.messages == [f"{count} rows written"]  # as docs/notebooks.md says
    described = con.sql(f"DESCRIBE SELECT * FROM '{target}'").fetchall()
    types = {name: kind for name, kind, *_ in described}
    assert types["createTime"] == "TIMESTAMP WITH TIME ZONE"
    assert types["studySpec"] == "JSON"
    locs = con.sql(f"SELECT DISTINCT locationsId FROM '{target}' ORDER BY 1").fetchall()
    assert sorted(r[0] for r in locs) == sorted(LOCATIONS)


def test_copy_aws_jobs_to_parquet(session: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "aws.parquet"
    session.execute(
        "COPY (SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus, region "
        "FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        f"WHERE region = '{AWS_REGION}') TO '{target}' (FORMAT parquet)"
    )
    names = duckdb.sql(f"SELECT HyperParameterTuningJobName FROM '{target}'").fetchall()
    assert sorted(r[0] for r in names) == sorted(sandbox.truth["aws"]["regions"][AWS_REGION])


def test_copy_partitioned_by_location(session: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "by_location"
    session.execute(
        f"COPY ({GOOGLE_SELECT}) TO '{target}' (FORMAT parquet, PARTITION_BY (locationsId))"
    )
    assert sorted(p.name for p in target.iterdir()) == sorted(f"locationsId={x}" for x in LOCATIONS)
    glob = f"{target}/*/*.parquet"
    count = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
    ).fetchall()[0][0]
    assert count == google_count(sandbox)
