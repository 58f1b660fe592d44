"""Which bound-param predicates the SQL DuckDB runs leaves out (``plan.implied``), and which it
keeps because a row could fail them. Pure: the committed registry, no I/O."""

from __future__ import annotations

import pytest

from stackql_tuning.plan.implied import leave_out_implied
from stackql_tuning.plan.limit import apply_early_limit
from stackql_tuning.plan.pushdown import apply_pushdown
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.plan.select import plan_query
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql import parse_one

REG = Registry()
G = "google.aiplatform.hyperparameter_tuning_jobs"
A = "aws.sagemaker.hyper_parameter_tuning_jobs"
W = "projectsId = 'p' AND locationsId = 'l'"


def duckdb_sql(sql: str) -> tuple[int, str]:
    plan = plan_query(parse_one(sql).expression, REG, const_eval=lambda s: s)
    apply_pushdown(plan)
    apply_early_limit(plan)
    n = leave_out_implied(plan)
    return n, to_duckdb_sql(plan.tree)


@pytest.mark.parametrize(
    ("sql", "count", "expected"),
    [
        # the fan-out's own shape: IN lists of every value called
        (
            f"SELECT projectsId, count(*) AS n FROM {G} WHERE projectsId IN ('a', 'b') "
            "AND locationsId = 'l' GROUP BY ALL",
            2,
            f"SELECT projectsId, COUNT(*) AS n FROM {G} GROUP BY ALL",
        ),
        # other conjuncts stay, parenthesized or not
        (
            f"SELECT name FROM {G} WHERE (projectsId = 'p') "
            "AND (locationsId = 'l' AND state = 'X')",
            2,
            f"SELECT name FROM {G} WHERE state = 'X'",
        ),
        # a get: its id is a param column too
        (
            f"SELECT name FROM {G} WHERE {W} AND hyperparameterTuningJobsId = '7'",
            3,
            f"SELECT name FROM {G}",
        ),
        # an inner join's ON conjuncts, for each table's own params
        (
            f"SELECT j.name FROM {G} j JOIN {G} k ON k.projectsId = 'q' AND "
            f"k.locationsId = 'l' AND k.name = j.name WHERE j.projectsId = 'p' "
            "AND j.locationsId = 'l'",
            4,
            f'SELECT j.name FROM {G} AS j JOIN google.aiplatform."hyperparameter_tuning_jobs__2" '
            "AS k ON k.name = j.name",
        ),
        # the kept side of a LEFT JOIN: its WHERE conjuncts go
        (
            f"SELECT j.name FROM {G} j LEFT JOIN (VALUES ('x')) v(n) ON v.n = j.name "
            "WHERE j.projectsId = 'p' AND j.locationsId = 'l'",
            2,
            f"SELECT j.name FROM {G} AS j LEFT JOIN (VALUES ('x')) AS v(n) ON v.n = j.name",
        ),
    ],
)
def test_bound_predicates_that_every_row_meets_are_left_out(
    sql: str, count: int, expected: str
) -> None:
    assert duckdb_sql(sql) == (count, expected)


@pytest.mark.parametrize(
    ("sql", "kept"),
    [
        # two values for one param: the calls ask for both, each row meets one of them only
        (
            f"SELECT name FROM {G} WHERE projectsId = 'p' AND projectsId = 'q' "
            "AND locationsId = 'l'",
            "WHERE projectsId = 'p' AND projectsId = 'q'",
        ),
        # the NULL-extended side of a LEFT JOIN: the WHERE also drops the unmatched rows
        (
            f"SELECT v.n FROM (VALUES ('x')) v(n) LEFT JOIN {G} j ON j.projectsId = 'p' "
            "AND j.locationsId = 'l' WHERE j.projectsId = 'p'",
            "ON TRUE WHERE j.projectsId = 'p'",
        ),
        # a RIGHT JOIN makes every table of the FROM nullable: nothing of the WHERE goes
        (
            f"SELECT j.name FROM {G} j RIGHT JOIN (VALUES ('x')) v(n) ON v.n = j.name "
            "WHERE j.projectsId = 'p' AND j.locationsId = 'l'",
            "WHERE j.projectsId = 'p' AND j.locationsId = 'l'",
        ),
        # a reply field (the describe's name): the server fills it, not the call
        (
            f"SELECT HyperParameterTuningJobName FROM {A} WHERE region = 'us-east-1' "
            "AND HyperParameterTuningJobName = 'x'",
            "WHERE HyperParameterTuningJobName = 'x'",
        ),
        # hydrated rows: a describe's params come from the listed item
        (
            f"SELECT BestTrainingJob FROM {A} WHERE region = 'us-east-1'",
            "WHERE region = 'us-east-1'",
        ),
        # a value that is not a string: DuckDB's cast could compare otherwise than Python
        (
            f"SELECT name FROM {G} WHERE projectsId = 7 AND locationsId = 'l'",
            "WHERE projectsId = 7",
        ),
    ],
)
def test_bound_predicates_a_row_could_fail_stay(sql: str, kept: str) -> None:
    assert kept in duckdb_sql(sql)[1]


def test_a_pushed_param_keeps_its_predicate() -> None:
    """Pushdown leaves a param the user bound alone (the call's ``filter`` is the user's, so
    the row's is too); should it ever set one, the call's value would not be the predicate's,
    and the predicate stays."""
    sql = f"SELECT name FROM {G} WHERE {W} AND filter = 'x' AND state = 'JOB_STATE_FAILED'"
    assert duckdb_sql(sql) == (3, f"SELECT name FROM {G} WHERE state = 'JOB_STATE_FAILED'")
    plan = plan_query(parse_one(sql).expression, REG, const_eval=lambda s: s)
    plan.slots[0].pushed["filter"] = 'state="JOB_STATE_FAILED"'
    assert leave_out_implied(plan) == 2
    assert "filter = 'x'" in to_duckdb_sql(plan.tree)
