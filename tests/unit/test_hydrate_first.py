"""Which conditions, ORDER BY keys and LIMIT pick a hydrating list's rows before they are
got (``plan.hydrate_first``): only those that read the list's own columns and give the same
answer on the listed rows as on the got ones; the ORDER BY and LIMIT only of a query over
the table alone, with every condition among them."""

from __future__ import annotations

from typing import Any

import pytest

from stackql_tuning.plan.bindings import equalities_as_in
from stackql_tuning.plan.hydrate_first import apply_hydrate_first
from stackql_tuning.plan.select import Slot, plan_query
from stackql_tuning.plan.views import expand_views
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.sql import parse_one

REG = default_registry()
A = "aws.sagemaker.hyper_parameter_tuning_jobs"
BEST = "BestTrainingJob ->> 'TrainingJobName'"


def planned(sql: str) -> Slot:
    tree = expand_views(equalities_as_in(parse_one(sql).expression), REG)
    plan = plan_query(tree, REG)
    apply_hydrate_first(plan)
    return plan.slots[0]


def first(sql: str) -> tuple[list[str], list[str], Any]:
    slot = planned(sql)
    return (
        [p.sql() for p in slot.hydrate_where],
        [k.sql() for k in slot.hydrate_order],
        slot.hydrate_limit,
    )


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("AND Strategy = 'Bayesian'", (["Strategy = 'Bayesian'"], [], None)),
        ("AND Strategy = 'Bayesian' LIMIT 3", (["Strategy = 'Bayesian'"], [], 3)),
        ("ORDER BY CreationTime DESC LIMIT 3", ([], ["CreationTime DESC"], 3)),
        ("LIMIT 3 OFFSET 2", ([], [], 5)),
        # the clock is read once per statement (a session pins it, ``plan.clock``): a pinned
        # instant is a constant, the clock itself would be read again by the query
        (
            "AND CreationTime > CAST('2026-11-20 10:00:00+00' AS TIMESTAMPTZ) - INTERVAL '3' DAY",
            (
                ["CreationTime > CAST('2026-11-20 10:00:00+00' AS TIMESTAMPTZ) - INTERVAL '3' DAY"],
                [],
                None,
            ),
        ),
        ("AND CreationTime > NOW() - INTERVAL '3' DAY", ([], [], None)),
        # a column only the get returns: not before the gets, and then no LIMIT either
        (
            f"AND {BEST} IS NULL AND Strategy = 'Random' LIMIT 3",
            (["Strategy = 'Random'"], [], None),
        ),
        (f"ORDER BY {BEST} LIMIT 3", ([], [], None)),
        ("ORDER BY 1 LIMIT 3", ([], [], None)),  # a position: which column is DuckDB's
        ("AND random() < 0.5", ([], [], None)),  # another value the second time
        ("AND HyperParameterTuningJobName IN (SELECT 'a')", ([], [], None)),
    ],
)
def test_what_picks_the_rows_to_get(tail: str, expected: Any) -> None:
    sql = f"SELECT HyperParameterTuningJobName, {BEST} AS b FROM {A} WHERE region = 'r' {tail}"
    if expected is None:  # an aggregate over the rows: the conditions, no LIMIT
        sql = (
            f"SELECT count(*) FROM (SELECT * FROM {A} WHERE region = 'r' AND Strategy = 'x' {tail}"
        )
        assert first(sql.replace(" GROUP BY ALL", "")) == (["Strategy = 'x'"], [], None)
        return
    assert first(sql) == expected


def test_an_output_named_as_a_column_is_not_sorted_before_the_gets() -> None:
    sql = f"SELECT {BEST} AS CreationTime FROM {A} WHERE region = 'r' ORDER BY CreationTime LIMIT 2"
    assert first(sql) == ([], [], None)


def test_conditions_on_other_tables_stay_after_the_gets() -> None:
    sql = (
        f"SELECT j.{BEST} FROM {A} j JOIN (VALUES ('Bayesian')) v(s) ON j.Strategy = v.s "
        "WHERE j.region = 'r' AND j.HyperParameterTuningJobStatus = 'Failed' AND Strategy <> 'x'"
    )
    # its own qualified condition only: the join's reads v, and an unqualified name in a
    # scope of two FROM items is DuckDB's to resolve
    assert first(sql) == (["j.HyperParameterTuningJobStatus = 'Failed'"], [], None)


def test_a_left_joins_kept_side_is_not_filtered_by_the_on_condition() -> None:
    sql = (
        f"SELECT j.{BEST} FROM {A} j LEFT JOIN (VALUES (1)) v(x) ON j.Strategy = 'Bayesian' "
        "WHERE j.region = 'r'"
    )
    assert first(sql) == ([], [], None)


def test_a_list_that_hydrates_nothing_is_left_alone() -> None:
    slot = planned(f"SELECT HyperParameterTuningJobName FROM {A} WHERE region = 'r' LIMIT 2")
    assert slot.hydrate is None and not slot.hydrates_first


@pytest.mark.parametrize(
    "sql",
    [
        # the joined side of a LEFT JOIN: `IS NULL` keeps the padded row of a match it removed
        "SELECT j.FailureReason FROM (VALUES ('Completed'), ('Zzz')) v(st) LEFT JOIN {A} j "
        "ON j.HyperParameterTuningJobStatus = v.st AND j.region = 'r' WHERE j.CreationTime IS NULL",
        # the left side of a RIGHT JOIN
        "SELECT j.FailureReason FROM {A} j RIGHT JOIN (VALUES ('Completed')) v(st) "
        "ON j.HyperParameterTuningJobStatus = v.st AND j.region = 'r' WHERE j.Strategy IS NULL",
        # either side of a FULL JOIN
        "SELECT j.FailureReason FROM {A} j FULL JOIN (VALUES ('Completed')) v(st) "
        "ON j.HyperParameterTuningJobStatus = v.st WHERE j.region = 'r' AND j.Strategy = 'Grid'",
    ],
)
def test_a_table_an_outer_join_pads_is_not_filtered_first(sql: str) -> None:
    slot = planned(sql.format(A=A))
    assert slot.hydrate is not None and not slot.hydrates_first


def test_the_kept_side_of_a_left_join_is_filtered_first() -> None:
    sql = (
        f"SELECT j.FailureReason FROM {A} j LEFT JOIN (VALUES ('x')) v(s) ON j.Strategy = v.s "
        "WHERE j.region = 'r' AND j.Strategy = 'Grid'"
    )
    assert first(sql) == (["j.Strategy = 'Grid'"], [], None)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a.FailureReason FROM (SELECT TIMESTAMPTZ '2026-11-20 00:00:00+00' AS ts) b "
        "ASOF JOIN {A} a ON a.CreationTime <= b.ts WHERE a.region = 'r' AND a.Strategy = 'Grid'",
        "SELECT FailureReason FROM {A} USING SAMPLE 5 ROWS "
        "WHERE region = 'r' AND Strategy = 'Grid'",
    ],
)
def test_no_filter_first_where_the_rows_it_removes_matter(sql: str) -> None:
    slot = planned(sql.format(A=A))
    assert slot.hydrate is not None and not slot.hydrates_first and not slot.filters_first


TRIALS = "google.aiplatform.hyperparameter_tuning_job_trials"
G = "google.aiplatform.hyperparameter_tuning_jobs"
IN_L = "projectsId = 'p' AND locationsId = 'l'"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # the trials view: a row per item of each got job's trials
        (f"SELECT * FROM {TRIALS} WHERE {IN_L} LIMIT 3", (3, "trials")),
        (f"SELECT trial_id FROM {TRIALS} WHERE {IN_L} LIMIT 3", (3, "trials")),
        (
            f"SELECT * FROM {TRIALS} WHERE projectsId IN ('p', 'q') AND locationsId = 'l' LIMIT 3",
            (3, "trials"),
        ),
        (
            f"SELECT * FROM {TRIALS} WHERE {IN_L} AND job_state = 'JOB_STATE_RUNNING' "
            "LIMIT 3 OFFSET 2",
            (5, "trials"),
        ),
        (
            f"SELECT j.name, t.value FROM {G} j, json_each(j.trials) t WHERE j.{IN_L} LIMIT 4",
            (4, "trials"),
        ),
        (
            f"SELECT t.* FROM {G} j CROSS JOIN json_each(j.trials) t WHERE j.{IN_L} LIMIT 4",
            (4, "trials"),
        ),
        (
            "SELECT d FROM aws.sagemaker.hyper_parameter_tuning_jobs j, "
            "unnest(j.TrainingJobDefinitions) AS t(d) WHERE j.region = 'r' LIMIT 2",
            (2, "TrainingJobDefinitions"),
        ),
        (
            f"SELECT v FROM {G} j, unnest(CAST(j.trials AS JSON[])) AS t(v) WHERE j.{IN_L} LIMIT 4",
            (4, "trials"),
        ),
        # a window over one job's items sees them all; over several jobs' it does not
        (
            "SELECT count(*) OVER (PARTITION BY j.HyperParameterTuningJobName, j.region) "
            "FROM aws.sagemaker.hyper_parameter_tuning_jobs j, unnest(j.TrainingJobDefinitions) "
            "AS t(d) WHERE j.region IN ('r', 's') LIMIT 2",
            (2, "TrainingJobDefinitions"),
        ),
        (
            "SELECT count(*) OVER (PARTITION BY j.HyperParameterTuningJobName) "
            "FROM aws.sagemaker.hyper_parameter_tuning_jobs j, unnest(j.TrainingJobDefinitions) "
            "AS t(d) WHERE j.region IN ('r', 's') LIMIT 2",
            None,
        ),
        (
            f"SELECT j.name, count(*) OVER (PARTITION BY j.state) FROM {G} j, "
            f"json_each(j.trials) t WHERE j.{IN_L} LIMIT 4",
            None,
        ),
        # a condition on the items, an order, a window's value, a QUALIFY: not the first items
        (f"SELECT * FROM {TRIALS} WHERE {IN_L} AND state = 'SUCCEEDED' LIMIT 3", None),
        (f"SELECT * FROM {TRIALS} WHERE {IN_L} ORDER BY metric_value LIMIT 3", None),
        (f"SELECT * FROM {TRIALS} WHERE {IN_L} AND is_best LIMIT 3", None),
        (
            f"SELECT j.name FROM {G} j, json_each(j.trials) t WHERE j.{IN_L} "
            "QUALIFY row_number() OVER (PARTITION BY j.name) = 1 LIMIT 3",
            None,
        ),
        (f"SELECT count(*) FROM (SELECT * FROM {TRIALS} WHERE {IN_L})", None),
        # a job without trials keeps a row of a LEFT JOIN; a path, a recursion: other counts
        (
            f"SELECT j.name FROM {G} j LEFT JOIN json_each(j.trials) t ON true "
            f"WHERE j.{IN_L} LIMIT 4",
            None,
        ),
        (f"SELECT j.name FROM {G} j, json_each(j.trials, '$[0]') t WHERE j.{IN_L} LIMIT 4", None),
        (f"SELECT j.name FROM {G} j, json_tree(j.trials) t WHERE j.{IN_L} LIMIT 4", None),
    ],
)
def test_a_limit_over_each_got_rows_items_gets_rows_until_it_has_them(
    sql: str, expected: Any
) -> None:
    slot = planned(sql)
    assert slot.hydrate is not None
    assert slot.hydrate_expand == expected
    assert slot.hydrates_first or expected is None
