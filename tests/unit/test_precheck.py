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


ONE_TABLE = [
    f"SELECT name, state FROM {G} WHERE {WHERE}",
    f"SELECT projectsId, count(*) AS n FROM {G} WHERE {WHERE} GROUP BY ALL ORDER BY n",
    f"SELECT j.displayName FROM {G} AS j WHERE j.projectsId = 'p' AND j.locationsId = 'x'",
    f"SELECT hyperparameter_tuning_jobs.name FROM {G} WHERE {WHERE}",
    f"SELECT upper(NAME) AS u FROM {G} WHERE {WHERE} ORDER BY u",
    f"SELECT * FROM {G} WHERE {WHERE} AND state IN ('JOB_STATE_RUNNING')",
    f"SELECT displayNam FROM {G} WHERE {WHERE}",
    f"SELECT x.name FROM {G} WHERE {WHERE}",
    f"SELECT studySpec.algorithm FROM {G} WHERE {WHERE}",
    f"SELECT j.studySpec.algorithm FROM {G} AS j WHERE {WHERE}",
    f"SELECT list_transform([1], y -> y + 1) FROM {G} WHERE {WHERE}",
    f"SELECT name FROM {G} WHERE {WHERE} AND name IN (SELECT name FROM {G} WHERE {WHERE})",
]


@pytest.mark.parametrize("sql", ONE_TABLE)
def test_the_one_table_shortcut_never_says_more_than_the_qualifier(
    sql: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stackql_tuning.plan import precheck

    plan = plan_query(parse_one(sql).expression, REG, const_eval=lambda s: s)
    fast = precheck._one_table_resolves(plan.tree, list(plan.slots))
    monkeypatch.setattr(precheck, "_one_table_resolves", lambda tree, slots: False)
    assert not fast or names_resolve(plan.tree, plan.slots)


def test_the_common_shapes_take_the_shortcut() -> None:
    from stackql_tuning.plan import precheck

    for sql in ONE_TABLE[:6]:
        plan = plan_query(parse_one(sql).expression, REG, const_eval=lambda s: s)
        assert precheck._one_table_resolves(plan.tree, list(plan.slots)), sql
