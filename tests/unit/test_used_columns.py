"""Which columns a mention of a provider table reads, when another FROM item has columns of
the same name: a qualified column belongs to the FROM item its qualifier names in the
nearest SELECT that has it. ``u.BestTrainingJob`` of a view joined to ``x`` made ``x`` get
each of its rows again (62 describes, not 31); a view's own inner ``j`` made the user's ``j``
do the same for ``trials``. A subquery, view or CTE that reads the mention passes its
columns through."""

from __future__ import annotations

import pytest

from stackql_tuning.plan.bindings import equalities_as_in
from stackql_tuning.plan.select import plan_query
from stackql_tuning.plan.views import expand_views
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.sql import parse_one

REG = default_registry()
A = "aws.sagemaker.hyper_parameter_tuning_jobs"
G = "google.aiplatform.hyperparameter_tuning_jobs"
WHERE_G = "j.projectsId = 'p' AND j.locationsId = 'l'"


def hydrated(sql: str) -> list[tuple[str, bool]]:
    """(slot name, whether it gets every listed row again) of each slot of the plan."""
    tree = expand_views(equalities_as_in(parse_one(sql).expression), REG)
    plan = plan_query(tree, REG)
    return sorted((s.name, s.hydrate is not None) for s in plan.slots)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (  # the view's column, not x's: x is listed, the view's own table hydrates
            f"SELECT x.HyperParameterTuningJobName, u.BestTrainingJob FROM {A} x "
            "JOIN aws.sagemaker.tuning_jobs u ON u.TuningJobName = x.HyperParameterTuningJobName "
            "AND u.region = x.region WHERE x.region = 'us-east-1'",
            [(A, False), (f"{A}__2", True)],
        ),
        (  # the trials view's inner table is also called j: its trials are not the user's j's
            f"SELECT j.name, t.trial_id FROM {G} j JOIN "
            "google.aiplatform.hyperparameter_tuning_job_trials t "
            "ON t.hyperparameterTuningJobsId = j.hyperparameterTuningJobsId "
            f"AND t.projectsId = j.projectsId AND t.locationsId = j.locationsId WHERE {WHERE_G}",
            [(G, False), (f"{G}__2", True)],
        ),
        (  # through a subquery that reads the table
            f"SELECT s.BestTrainingJob FROM (SELECT * FROM {A} WHERE region = 'r') s",
            [(A, True)],
        ),
        (  # through a CTE that reads the table
            f"WITH v AS (SELECT * FROM {A} WHERE region = 'r') SELECT v.BestTrainingJob FROM v",
            [(A, True)],
        ),
        (  # a CTE of other rows does not read it
            f"WITH v AS (SELECT 1 AS BestTrainingJob) SELECT v.BestTrainingJob, j.region "
            f"FROM v, {A} j WHERE j.region = 'r'",
            [(A, False)],
        ),
        (  # the outer j is the user's: read
            f"SELECT j.BestTrainingJob FROM {A} j WHERE j.region = 'r'",
            [(A, True)],
        ),
        (  # a correlated reference to the outer mention reads it
            f"SELECT (SELECT j.BestTrainingJob) FROM {A} j WHERE j.region = 'r'",
            [(A, True)],
        ),
    ],
)
def test_a_qualified_column_belongs_to_the_item_it_names(
    sql: str, expected: list[tuple[str, bool]]
) -> None:
    assert hydrated(sql) == expected


@pytest.mark.parametrize("pattern", ["NOT GLOB '*Job*'", "NOT ILIKE '%job%'", "NOT SIMILAR TO 'x'"])
def test_a_negated_star_pattern_reads_every_column(pattern: str) -> None:
    # `* NOT GLOB` is NOT over the pattern to sqlglot, `* NOT ILIKE` an ILIKE: neither was
    # seen as a star, so a describe-only column of the matches was NULL (0 where 7)
    sql = f"SELECT * {pattern} FROM {A} WHERE region = 'r'"
    assert hydrated(sql) == [(A, True)]
