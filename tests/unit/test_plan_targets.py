"""DuckDB statements that would write a provider table are refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.targets import (
    check_no_provider_default,
    check_not_written,
    local_target,
    runs_in_dry_run,
)
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


@pytest.mark.parametrize(
    ("sql", "local"),
    [
        ("INSERT INTO picks VALUES ('a')", True),
        ("INSERT INTO main.picks (x) SELECT 'a'", True),
        ("UPDATE picks SET x = 'b'", True),
        ("DELETE FROM picks WHERE x = 'z'", True),
        ("INSERT INTO files.main.picks VALUES ('a')", True),  # an attached database's
        (f"DELETE FROM {SM} WHERE region = 'us-east-1'", False),
        (f"INSERT INTO {SM} (region) VALUES ('us-east-1')", False),
        # a misspelled provider is a provider resource (the registry's "did you mean")
        ("INSERT INTO googel.aiplatform.hyperparameter_tuning_jobs VALUES (1)", False),
        ("UPDATE unified.tuning.jobs SET display_name = 'x'", False),
    ],
)
def test_an_insert_update_or_delete_of_a_local_table_is_duckdbs(
    reg: Registry, sql: str, local: bool
) -> None:
    (stmt,) = parse(sql)
    assert local_target(stmt, reg, lambda name: name == "files") is local


@pytest.mark.parametrize(
    ("sql", "runs"),
    [
        ("CREATE MACRO m(x) AS (x || '!')", True),
        ("CREATE OR REPLACE TEMP MACRO m(x) AS x", True),
        ("CREATE TABLE picks AS SELECT 1 AS x", True),
        ("CREATE TABLE picks (x VARCHAR)", True),
        ("CREATE VIEW v AS SELECT 1 AS x", True),
        ("CREATE INDEX i ON picks (x)", True),
        ("INSERT INTO picks VALUES ('a')", True),
        ("UPDATE picks SET x = 'b'", True),
        ("DELETE FROM picks", True),
        ("DROP TABLE picks", True),
        ("SET TimeZone = 'UTC'", True),
        ("COPY picks FROM 'picks.csv'", True),  # reads a file into the session's table
        ("BEGIN", True),
        # a file, an extension, an attached database: not in a dry run
        ("COPY picks TO 'picks.csv'", False),
        ("ATTACH 'f.db' AS files", False),
        ("INSTALL httpfs", False),
        ("USE files", False),
        ("CREATE TABLE files.main.picks (x VARCHAR)", False),
        ("CREATE TABLE files.picks (x VARCHAR)", False),  # files is attached: its table
        ("CREATE TABLE s.picks (x VARCHAR)", True),  # schema s of the session's database
        ("INSERT INTO files.picks VALUES ('a')", False),
        ("CREATE MACRO files.main.m(x) AS x", False),
        ("DROP TABLE files.main.picks", False),
        ("SELECT 1", False),
    ],
)
def test_a_dry_run_runs_what_changes_only_the_sessions_database(sql: str, runs: bool) -> None:
    (stmt,) = parse(sql)
    assert runs_in_dry_run(stmt, lambda name: name == "files") is runs


@pytest.mark.parametrize(
    ("sql", "runs"),
    [
        ("SET TimeZone = 'Europe/Paris'", True),
        ("SET threads = 2", True),
        # these write files, or move unqualified names out of memory
        ("SET log_query_path = '/tmp/q.log'", False),
        ("SET profiling_output = '/tmp/p.json'", False),
        ("SET search_path = 'f.main'", False),
        ("SET temp_directory = '/tmp/spill'", False),
    ],
)
def test_a_dry_run_sets_only_what_stays_in_the_session(sql: str, runs: bool) -> None:
    (stmt,) = parse(sql)
    assert runs_in_dry_run(stmt, lambda name: False) is runs


@pytest.mark.parametrize(
    "sql", ["CREATE TABLE t (x INT)", "INSERT INTO t VALUES (1)", "CREATE MACRO m(x) AS x"]
)
def test_after_use_of_another_database_an_unqualified_name_is_not_in_memory(sql: str) -> None:
    # USE f (or a search_path) made `CREATE TABLE t` f's: a dry run wrote to the file
    (stmt,) = parse(sql)
    assert runs_in_dry_run(stmt, lambda name: False, lambda: False) is False
    assert runs_in_dry_run(stmt, lambda name: False, lambda: True) is True


@pytest.mark.parametrize(
    "sql",
    [
        "USE google.aiplatform",
        "USE aws",
        "SET search_path = 'google.aiplatform'",
        "SET search_path = 'memory.main,aws.sagemaker'",
    ],
)
def test_a_providers_catalog_cannot_be_the_default(reg: Registry, sql: str) -> None:
    # after it, DELETE FROM hyperparameter_tuning_jobs emptied the local copy: "37 rows
    # changed", no call made, no job deleted
    (stmt,) = parse(sql)
    with pytest.raises(PlanError, match="is a provider: its tables are read per statement"):
        check_no_provider_default(stmt, reg)


@pytest.mark.parametrize("sql", ["USE memory", "SET search_path = 'main'", "SET threads = 1"])
def test_another_default_passes(reg: Registry, sql: str) -> None:
    (stmt,) = parse(sql)
    check_no_provider_default(stmt, reg)
