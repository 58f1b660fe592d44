"""Correlated subqueries: a twin IN (SELECT ...) beside each condition that compares a
subquery's provider-table param to an outer source (``plan.correlated``). Pure."""

from __future__ import annotations

import pytest
from sqlglot import exp
from test_mutate_golden import no_call_session

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.correlated import TWIN, bind_correlated
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql import parse_one

REG = Registry()
HPT = "google.aiplatform.hyperparameter_tuning_jobs"
SM = "aws.sagemaker.hyper_parameter_tuning_jobs"
TJ = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
VALUES = "(VALUES ('a'), ('b')) p(project)"


def twins(sql: str) -> list[str]:
    tree = bind_correlated(parse_one(sql).expression, REG)
    return [i.sql(dialect="duckdb") for i in tree.find_all(exp.In) if i.meta.get(TWIN)]


def test_exists_gets_the_outer_sources_values() -> None:
    sql = (
        f"SELECT p.project FROM {VALUES} WHERE p.project LIKE 'a%' AND EXISTS (SELECT 1 "
        f"FROM {HPT} t WHERE t.projectsId = p.project AND t.locationsId = 'us-central1')"
    )
    assert twins(sql) == [
        "t.projectsId IN (SELECT CAST(p.project AS TEXT) FROM (VALUES ('a'), ('b')) AS "
        "p(project) WHERE p.project LIKE 'a%')"
    ]


def test_a_lateral_subquery_and_an_unqualified_table_column() -> None:
    sql = (
        f"SELECT * FROM {VALUES}, LATERAL (SELECT count(*) FROM {HPT} "
        "WHERE projectsId = p.project AND locationsId = 'us-central1') x"
    )
    assert twins(sql) == [
        "projectsId IN (SELECT CAST(p.project AS TEXT) FROM (VALUES ('a'), ('b')) AS p(project))"
    ]


@pytest.mark.parametrize(
    "sql",
    [
        # the subquery gives the param a literal: the outer source is not read again for it
        f"SELECT * FROM {VALUES} WHERE EXISTS (SELECT 1 FROM {HPT} t WHERE t.projectsId = "
        "p.project AND t.projectsId = 'a' AND t.locationsId = 'l')",
        # an unqualified outer column names no source for sure
        f"SELECT * FROM {VALUES} WHERE EXISTS (SELECT 1 FROM {HPT} t WHERE t.projectsId = "
        "project AND t.locationsId = 'l')",
        # the outer source reads another one (json_each of a column): it cannot be read alone
        f"SELECT * FROM {SM} j, json_each(j.TrainingJobDefinitions) d WHERE j.region = 'r' AND "
        f"EXISTS (SELECT 1 FROM {TJ} t WHERE t.HyperParameterTuningJobName = d.value "
        "AND t.region = 'r')",
        # a join in the subquery's own FROM is the planner's, as at the top level
        f"SELECT * FROM {VALUES} WHERE EXISTS (SELECT 1 FROM {HPT} t, {VALUES.replace('p(', 'q(')} "
        "WHERE t.projectsId = q.project AND t.locationsId = 'l')",
        # the subquery's own CTE is named as the outer source: a copy would read it (rows of
        # another project were called for, and the answer was 0 rows where DuckDB gives 1)
        f"WITH c AS (SELECT 'a' AS p) SELECT * FROM c WHERE EXISTS (WITH c AS (SELECT 'b' AS p) "
        f"SELECT 1 FROM {HPT} t WHERE t.projectsId = c.p AND t.locationsId = 'l')",
        # not a param: no call is made for it
        f"SELECT * FROM {VALUES} WHERE EXISTS (SELECT 1 FROM {HPT} t WHERE t.displayName = "
        "p.project AND t.projectsId = 'a' AND t.locationsId = 'l')",
    ],
)
def test_no_twin(sql: str) -> None:
    assert twins(sql) == []


def test_a_twin_that_cannot_be_planned_is_dropped() -> None:
    # the outer table's region is bound in an ON, which the twin's copy does not read: the
    # statement is planned as before (the training jobs' name stays unbound: the old error)
    session = no_call_session(dry_run=True)
    try:
        with pytest.raises(PlanError, match=f"cannot query {TJ}"):
            session.execute(
                f"SELECT 1 FROM (VALUES (1)) v(x) JOIN {SM} j ON j.region = 'us-east-1' "
                f"AND v.x = 1 WHERE EXISTS (SELECT 1 FROM {TJ} t WHERE "
                "t.HyperParameterTuningJobName = j.HyperParameterTuningJobName "
                "AND t.region = 'us-east-1')"
            )
    finally:
        session.close()
