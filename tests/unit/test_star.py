"""A star over a provider table leaves out the call options the statement does not name
(``plan.star``): pure, over the committed registry."""

from __future__ import annotations

import pytest

from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.plan.select import plan_query
from stackql_tuning.registry.loader import Registry
from stackql_tuning.registry.model import call_options
from stackql_tuning.sql import parse_one

REG = Registry()
HPT = "google.aiplatform.hyperparameter_tuning_jobs"
AWS = "aws.sagemaker.hyper_parameter_tuning_jobs"
TRAINING = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
W = "projectsId = 'p' AND locationsId = 'us-central1'"


def planned(sql: str) -> str:
    return to_duckdb_sql(plan_query(parse_one(sql).expression, REG).tree)


def test_the_call_options_are_the_optional_request_params() -> None:
    assert call_options(REG.resource(HPT)) == ("filter", "pageSize", "readMask")
    assert "MaxResults" in call_options(REG.resource(AWS))
    assert "NameContains" in call_options(REG.resource(AWS))
    # where a row lives is not an option; nor is the tuning job a training-job list requires
    for name in ("region", "AwsAccountId", "HyperParameterTuningJobName"):
        assert name not in call_options(REG.resource(TRAINING))


@pytest.mark.parametrize(
    ("sql", "star"),
    [
        (
            f"SELECT * FROM {HPT} WHERE {W}",
            '* EXCLUDE ("hyperparameter_tuning_jobs"."filter", '
            '"hyperparameter_tuning_jobs"."pageSize", "hyperparameter_tuning_jobs"."readMask")',
        ),
        (
            f"SELECT j.*, 1 AS x FROM {HPT} j WHERE {W}",
            'j.* EXCLUDE ("filter", "pageSize", "readMask"), 1 AS x',
        ),
        (  # the user's own EXCLUDE is kept, and what it names is not named twice
            f"SELECT * EXCLUDE (trials, j.filter) FROM {HPT} j WHERE {W}",
            '* EXCLUDE (trials, j.filter, "j"."pageSize", "j"."readMask")',
        ),
        (  # DuckDB's COLUMNS(*) (SageMaker's nine options ended its columns), also nested
            f"SELECT max(COLUMNS(j.*)), COLUMNS(*) FROM {HPT} j WHERE {W}",
            'MAX(COLUMNS(j.* EXCLUDE ("filter", "pageSize", "readMask"))), '
            'COLUMNS(* EXCLUDE ("j"."filter", "j"."pageSize", "j"."readMask"))',
        ),
    ],
)
def test_a_star_leaves_the_call_options_out(sql: str, star: str) -> None:
    assert f"SELECT {star} FROM" in planned(sql)


def test_an_option_the_statement_names_stays() -> None:
    sql = planned(f"SELECT * FROM {AWS} WHERE region = 'us-east-1' AND NameContains = 'x'")
    assert '"NameContains"' not in sql.split(" FROM ")[0]
    assert '"MaxResults"' in sql.split(" FROM ")[0]
    # named through a subquery: the inner star keeps it for the outer query
    sql = planned(f"SELECT s.SortBy FROM (SELECT * FROM {AWS} WHERE region = 'us-east-1') s")
    assert "SortBy" not in sql.split("EXCLUDE")[1].split(")")[0]


def test_only_the_provider_tables_of_a_join_lose_columns() -> None:
    sql = planned(
        f"SELECT * FROM {HPT} j JOIN (SELECT 1 AS filter, 2 AS pageSize) m ON TRUE WHERE j.{W}"
    )
    # the local source's columns named filter and pageSize are named: nothing is left out
    # of the provider table either (its own would be read by the same names)
    assert '"j"."readMask"' in sql and '"j"."filter"' not in sql
    sql = planned(
        f"SELECT * FROM {HPT} a, {AWS} b WHERE a.{W.replace(' AND ', ' AND a.')} "
        "AND b.region = 'us-east-1'"
    )
    assert '"a"."pageSize"' in sql and '"b"."MaxResults"' in sql


def test_a_star_outside_the_tables_select_is_left_alone() -> None:
    sql = planned(f"SELECT * FROM (SELECT name, filter AS f FROM {HPT} WHERE {W}) s")
    assert "EXCLUDE" not in sql


def test_a_pivoted_table_keeps_its_star() -> None:
    # a PIVOT reshapes the table: an EXCLUDE of its options named columns it no longer has
    sql = planned(
        f"SELECT * FROM {AWS} PIVOT (count(*) FOR HyperParameterTuningJobStatus IN "
        "('Completed', 'Failed')) WHERE region = 'us-east-1'"
    )
    assert "EXCLUDE" not in sql


@pytest.mark.parametrize(
    ("sql", "select"),
    [
        (  # a star with a pattern: its EXCLUDE before the pattern, where DuckDB reads it
            f"SELECT * LIKE 'Max%' FROM {AWS} WHERE region = 'r'",
            """SELECT * EXCLUDE ("hyper_parameter_tuning_jobs"."MaxResults", """,
        ),
        (  # sqlglot holds ``* ILIKE`` in the star, and wrote it before the EXCLUDE
            f"SELECT j.* ILIKE '%time%' FROM {AWS} j WHERE region = 'r'",
            'SELECT j.* EXCLUDE ("MaxResults", ',
        ),
        (  # ``NOT * SIMILAR TO`` as sqlglot writes it, which DuckDB reads as written
            f"SELECT * NOT SIMILAR TO '.*Time.*' FROM {AWS} j WHERE region = 'r'",
            'SELECT NOT * EXCLUDE ("j"."MaxResults", ',
        ),
        (  # a regex or a lambda over provider tables only: a lambda that leaves them out
            f"SELECT COLUMNS('.*Time.*') FROM {AWS} WHERE region = 'r'",
            "SELECT COLUMNS(LAMBDA __column : (REGEXP_MATCHES(__column, '.*Time.*')) AND NOT "
            "__column IN ('CreationTimeAfter', 'CreationTimeBefore', 'LastModifiedTimeAfter', ",
        ),
        (
            f"SELECT max(COLUMNS(lambda c: c LIKE '%e%')) FROM {AWS} WHERE region = 'r' "
            "AND NameContains = 'x'",
            "SELECT MAX(COLUMNS(LAMBDA c : (c LIKE '%e%') AND NOT c IN ('CreationTimeAfter', ",
        ),
    ],
)
def test_a_selector_with_a_pattern_leaves_the_call_options_out(sql: str, select: str) -> None:
    planned_sql = planned(sql)
    assert planned_sql.startswith(select), planned_sql
    assert "'NameContains'" not in planned_sql.split(" FROM ")[0] or "NameContains = " not in sql


@pytest.mark.parametrize(
    "sql",
    [
        # another source's columns are not known: one of them may be named as an option
        f"SELECT COLUMNS('Time') FROM {AWS} j, (SELECT 1 AS x) s WHERE j.region = 'r'",
        # a regex whose alias renames its matches (a lambda has no groups to rename by)
        f"SELECT COLUMNS('(.*)Time') AS 'x' FROM {AWS} WHERE region = 'r'",
    ],
)
def test_a_selector_over_other_sources_is_left_as_written(sql: str) -> None:
    assert "LAMBDA" not in planned(sql)
