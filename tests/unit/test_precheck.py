"""plan.precheck: a query's names are "sure to bind" only when sqlglot places every column in the
tables it reads and knows every function; anything else is "not sure" (never an error)."""

from __future__ import annotations

import pytest

from stackql_tuning.plan.precheck import names_resolve
from stackql_tuning.plan.select import plan_query
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql import parse_one

REG = Registry()
G = "google.aiplatform.hyperparameter_tuning_jobs"
A = "aws.sagemaker.hyper_parameter_tuning_jobs"
WHERE = "projectsId = 'p' AND locationsId = 'us-central1'"


def sure(sql: str) -> bool:
    plan = plan_query(parse_one(sql).expression, REG, const_eval=lambda s: s)
    return names_resolve(plan.tree, plan.slots)


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT name, state FROM {G} WHERE {WHERE}",
        f"SELECT projectsId, count(*) AS n FROM {G} WHERE {WHERE} GROUP BY ALL ORDER BY n",
        f"SELECT j.displayName FROM {G} AS j WHERE j.projectsId = 'p' AND j.locationsId = 'x'",
        f"WITH c AS (SELECT name AS n FROM {G} WHERE {WHERE}) SELECT upper(n) FROM c",
        f"SELECT g.name, a.HyperParameterTuningJobName FROM {G} AS g, {A} AS a "
        f"WHERE g.projectsId = 'p' AND g.locationsId = 'x' AND a.region = 'us-east-1'",
    ],
)
def test_known_columns_and_functions_are_sure(sql: str) -> None:
    assert sure(sql)


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT displayNam FROM {G} WHERE {WHERE}",  # a column typo
        f"SELECT lenn(name) FROM {G} WHERE {WHERE}",  # an unknown function
        f"SELECT name FROM {G} WHERE {WHERE} AND nosuch = 1",
        f"SELECT name FROM {G} JOIN my_local_table USING (name) WHERE {WHERE}",  # a local table
        f"SELECT x.name FROM {G} WHERE {WHERE}",  # an alias that is not there
    ],
)
def test_anything_it_cannot_place_is_not_sure(sql: str) -> None:
    assert not sure(sql)


def test_a_file_or_table_function_is_not_sure() -> None:
    assert not sure(f"SELECT name FROM {G} WHERE {WHERE} AND name IN (SELECT n FROM 'x.csv')")
    assert not sure(f"SELECT name FROM {G}, range(3) WHERE {WHERE}")
