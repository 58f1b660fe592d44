"""Planner golden cases: SQL -> slots (method, fan-out, dependencies, hydration, pushdown, limit).

Pure: the registry is the committed providers/, no I/O.
"""

from __future__ import annotations

import pytest
from sqlglot import exp

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.limit import apply_early_limit
from stackql_tuning.plan.pushdown import apply_pushdown
from stackql_tuning.plan.rewrite import to_duckdb_sql
from stackql_tuning.plan.select import plan_query
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql import parse_one

REG = Registry()
HPT = "google.aiplatform.hyperparameter_tuning_jobs"
AWS = "aws.sagemaker.hyper_parameter_tuning_jobs"
W = "WHERE projectsId = 'p' AND locationsId = 'us-central1'"


def plan(sql: str):
    p = plan_query(parse_one(sql).expression, REG, const_eval=lambda s: s.upper())
    apply_pushdown(p)
    apply_early_limit(p)
    return p


def test_list_is_chosen_with_project_and_location() -> None:
    (slot,) = plan(f"SELECT name FROM {HPT} {W}").slots
    assert slot.method.name == "list"
    assert slot.static == {"projectsId": ["p"], "locationsId": ["us-central1"]}
    assert slot.hydrate is None


def test_get_is_chosen_when_the_id_is_bound() -> None:
    (slot,) = plan(f"SELECT name FROM {HPT} {W} AND hyperparameterTuningJobsId = '7'").slots
    assert slot.method.name == "get"


def test_in_lists_fan_out_and_constants_are_evaluated() -> None:
    (slot,) = plan(
        f"SELECT name FROM {HPT} WHERE projectsId IN ('a', 'b') "
        "AND locationsId IN ('us-central1', lower('EUROPE-WEST4'))"
    ).slots
    assert slot.static["projectsId"] == ["a", "b"]
    # the test's const_eval upper-cases the SQL text it is given: proves it was called
    assert slot.static["locationsId"] == ["us-central1", "LOWER('EUROPE-WEST4')"]


def test_join_on_literal_binds_too() -> None:
    (slot,) = plan(
        f"SELECT j.name FROM {HPT} j JOIN (SELECT 1) x ON j.projectsId = 'p' "
        "AND j.locationsId = 'us-central1'"
    ).slots
    assert slot.method.name == "list"


def test_missing_params_name_each_method() -> None:
    with pytest.raises(PlanError) as e:
        plan(f"SELECT name FROM {HPT} WHERE projectsId = 'p'")
    assert "list needs locationsId" in str(e.value)
    assert "SHOW METHODS IN" in str(e.value)


def test_hydration_only_for_columns_the_list_lacks() -> None:
    assert plan(f"SELECT name, state FROM {HPT} {W}").slots[0].hydrate is None
    slot = plan(f"SELECT name, trials FROM {HPT} {W}").slots[0]
    assert slot.hydrate is not None and slot.hydrate.name == "get"
    assert plan(f"SELECT * FROM {HPT} {W}").slots[0].hydrate is not None
    assert plan(f"SELECT count(*) FROM {HPT} {W}").slots[0].hydrate is None
    assert plan(f"SELECT to_json(j) FROM {HPT} j {W}").slots[0].hydrate is not None
    aws = f"FROM {AWS} WHERE region = 'us-east-1'"
    assert plan(f"SELECT HyperParameterTuningJobName, Strategy {aws}").slots[0].hydrate is None
    assert plan(f"SELECT BestTrainingJob {aws}").slots[0].hydrate is not None


def test_dependent_join_runs_after_its_source() -> None:
    p = plan(
        f"SELECT t.TrainingJobName FROM {AWS} j JOIN "
        "aws.sagemaker.hyper_parameter_tuning_job_training_jobs t "
        "ON t.HyperParameterTuningJobName = j.HyperParameterTuningJobName AND t.region = j.region "
        "WHERE j.region = 'us-east-1'"
    )
    stages = p.stages()
    assert [s.resource.name for s in stages[0]] == ["hyper_parameter_tuning_jobs"]
    dep = stages[1][0]
    assert dep.dependent == {
        "HyperParameterTuningJobName": (AWS, "HyperParameterTuningJobName"),
        "region": (AWS, "region"),
        "AwsAccountId": (AWS, "AwsAccountId"),
    }


def test_self_join_with_different_bindings_gets_two_tables() -> None:
    p = plan(
        f"SELECT a.name FROM {HPT} a, {HPT} b WHERE a.projectsId = 'p' "
        "AND a.locationsId = 'us-central1' AND b.projectsId = 'p' "
        "AND b.locationsId = 'europe-west4'"
    )
    assert [s.name for s in p.slots] == [HPT, HPT + "__2"]
    assert '"hyperparameter_tuning_jobs__2"' in to_duckdb_sql(p.tree)


def test_google_filter_pushdown() -> None:
    (slot,) = plan(
        f"SELECT name FROM {HPT} {W} AND state IN ('JOB_STATE_RUNNING', 'JOB_STATE_PENDING') "
        "AND displayName LIKE 'xgb%' AND labels->>'team' = 'ads' AND createTime >= '2026-01-01' "
        "AND maxTrialCount > 3"
    ).slots
    assert slot.pushed == {
        "filter": '(state="JOB_STATE_RUNNING" OR state="JOB_STATE_PENDING") AND '
        'display_name:"xgb*" AND labels.team="ads" AND create_time>="2025-12-31T23:59:59Z"'
    }


def test_unpushable_or_is_not_pushed_and_user_filter_wins() -> None:
    (slot,) = plan(f"SELECT name FROM {HPT} {W} AND (state = 'X' OR maxTrialCount = 3)").slots
    assert slot.pushed == {}
    (slot,) = plan(f"SELECT name FROM {HPT} {W} AND filter = 'state=\"X\"' AND state = 'Y'").slots
    assert slot.pushed == {}


def test_not_like_is_never_pushed_as_a_like() -> None:
    # sqlglot keeps NOT LIKE in the Like node (negate=True): pushed, it kept the rows to drop
    (slot,) = plan(f"SELECT name FROM {HPT} {W} AND displayName NOT LIKE 'xgb%'").slots
    assert slot.pushed == {}
    (slot,) = plan(
        f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' "
        "AND HyperParameterTuningJobName NOT LIKE '%xgb%'"
    ).slots
    assert slot.pushed == {}


def test_sagemaker_param_pushdown() -> None:
    (slot,) = plan(
        f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND HyperParameterTuningJobStatus = "
        "'InProgress' AND HyperParameterTuningJobName LIKE '%xgb%' AND CreationTime > '2026-02-01'"
    ).slots
    assert slot.pushed == {
        "StatusEquals": "InProgress",
        "NameContains": "xgb",
        "CreationTimeAfter": "2026-01-31T23:59:59Z",
    }


@pytest.mark.parametrize(
    ("zone", "after", "before"),
    [
        ("UTC", "2026-01-31T23:59:59Z", "2026-02-01T00:00:01Z"),
        ("Asia/Tokyo", "2026-01-31T14:59:59Z", "2026-01-31T15:00:01Z"),  # UTC+9
        ("America/New_York", "2026-02-01T04:59:59Z", "2026-02-01T05:00:01Z"),  # UTC-5
        ("No/Such_Zone", "2026-01-31T09:59:59Z", "2026-02-01T12:00:01Z"),  # any zone's reading
    ],
)
def test_a_timestamp_without_offset_is_pushed_in_the_sessions_zone(
    zone: str, after: str, before: str
) -> None:
    """DuckDB reads '2026-02-01' in the session's TimeZone; a bound read in UTC dropped rows
    after SET TimeZone (pushdown changed the result)."""
    p = plan_query(
        parse_one(
            f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND CreationTime > '2026-02-01' "
            "AND LastModifiedTime < '2026-02-01'"
        ).expression,
        REG,
    )
    apply_pushdown(p, lambda: zone)
    assert p.slots[0].pushed == {"CreationTimeAfter": after, "LastModifiedTimeBefore": before}
    offset = plan_query(
        parse_one(
            f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' "
            "AND CreationTime > '2026-02-01T00:00:00+01:00'"
        ).expression,
        REG,
    )
    apply_pushdown(offset, lambda: "zone never asked")
    assert offset.slots[0].pushed == {"CreationTimeAfter": "2026-01-31T22:59:59Z"}


def test_early_limit_only_when_safe() -> None:
    assert plan(f"SELECT name FROM {HPT} {W} LIMIT 10").slots[0].limit == 10
    assert plan(f"SELECT name FROM {HPT} {W} LIMIT 10 OFFSET 5").slots[0].limit == 15
    for tail in ("ORDER BY name LIMIT 10", "GROUP BY name LIMIT 10"):
        assert plan(f"SELECT name FROM {HPT} {W} {tail}").slots[0].limit is None
    assert plan(f"SELECT count(*) FROM {HPT} {W} LIMIT 1").slots[0].limit is None
    # the bindings keep every row: no condition to count by
    assert plan(f"SELECT name FROM {HPT} {W} LIMIT 10").slots[0].limit_where == []


@pytest.mark.parametrize(
    ("where", "counted"),
    [
        # pushed to the API or not, a condition on the table's own columns counts the rows
        ("h.state = 'JOB_STATE_RUNNING'", ["state = 'JOB_STATE_RUNNING'"]),
        ("displayName LIKE '%x%' AND 1 = 1", ["displayName LIKE '%x%'"]),
        ("json_extract(studySpec, '$.algorithm') = 'GRID_SEARCH'", None),  # rewritten later
        ("coalesce(h.maxTrialCount, 0) > 3", ["COALESCE(maxTrialCount, 0) > 3"]),
    ],
)
def test_an_early_limit_counts_the_rows_its_conditions_keep(
    where: str, counted: list[str] | None
) -> None:
    (slot,) = plan(f"SELECT name FROM {HPT} h {W} AND {where} LIMIT 10").slots
    assert slot.limit == 10
    if counted is not None:
        assert [c.sql() for c in slot.limit_where] == counted
    assert slot.limit_where  # evaluated per page, as DuckDB evaluates the WHERE


@pytest.mark.parametrize(
    "where",
    [
        "random() < 0.5",  # another value at each evaluation
        # the clock: a page is counted before the query runs, which may drop a counted row
        "createTime > now() - INTERVAL 1 HOUR",
        "createTime::DATE = current_date",
        "age(createTime) < INTERVAL 1 DAY",
        "name IN (SELECT 'x')",  # a subquery
        "h.studySpec.algorithm = 'x'",  # a struct path sqlglot reads as a qualified name
        "nosuch = 1",  # not a column of the table (an outer query's, or an error)
    ],
)
def test_no_early_limit_for_a_condition_a_page_cannot_decide(where: str) -> None:
    (slot,) = plan(f"SELECT name FROM {HPT} h {W} AND {where} LIMIT 10").slots
    assert slot.limit is None


@pytest.mark.parametrize(
    "tail",
    [
        "LIMIT 10%",  # a share of every row (it was 10 rows, or 10% of one page's)
        "LIMIT 10 PERCENT",
        "LIMIT 3 OFFSET 1.5",  # DuckDB's to read (it was a ValueError out of the planner)
        "LIMIT 3 OFFSET 'x'",
    ],
)
def test_no_early_limit_for_a_limit_it_cannot_count(tail: str) -> None:
    assert plan(f"SELECT name FROM {HPT} {W} {tail}").slots[0].limit is None


def test_no_early_limit_for_a_function_that_may_see_every_row() -> None:
    # DuckDB aggregates that sqlglot does not know (histogram, fsum, entropy...) saw only the
    # first page's rows: {'Completed': 4} for 31 jobs
    from stackql_tuning.plan.limit import early_limit

    sql = f"SELECT histogram(state), fsum(1) FROM {HPT} {W} LIMIT 1"
    p = plan_query(parse_one(sql).expression, REG)
    assert early_limit(p) is None  # a function nobody vouches for
    assert early_limit(p, lambda name: name != "histogram") is None
    assert early_limit(p, lambda name: True) == 1  # both scalar: the first row will do


@pytest.mark.parametrize(
    "where",
    [
        "region IN ('us-east-1', 'eu-west-1') AND region = 'eu-west-1'",
        "region = 'eu-west-1' AND region IN ('us-east-1', 'eu-west-1')",
        "region IN ('us-east-1', 'eu-west-1') AND region IN ('eu-west-1', 'ap-south-1')",
    ],
)
def test_a_param_bound_twice_calls_the_values_both_allow(where: str) -> None:
    # the union called us-east-1 too, and an early LIMIT that stopped on its rows answered
    # nothing once DuckDB dropped them (a race: 0 or 3 rows from one query)
    (slot,) = plan(f"SELECT HyperParameterTuningJobName FROM {AWS} WHERE {where} LIMIT 3").slots
    assert slot.static["region"] == ["eu-west-1"]
    assert slot.limit == 3


def test_a_param_bound_to_no_common_value_is_not_read() -> None:
    # the calls' rows all fail one of the two: DuckDB answered empty after listing both
    where = "region = 'us-east-1' AND region = 'eu-west-1'"
    p = plan(f"SELECT HyperParameterTuningJobName FROM {AWS} WHERE {where} LIMIT 3")
    (slot,) = p.slots
    assert slot.skip and slot.limit is None
    assert p.warnings == [
        "aws.sagemaker.hyper_parameter_tuning_jobs is not read: the conditions on its region "
        "allow no value in common ('us-east-1' vs 'eu-west-1'), so no row of it can match"
    ]
    # the parent of a parent-child join: not read, and its child waits on it (the child's
    # equalities with it made a "cycle" error); the param is named as the API spells it
    sql = (
        f"SELECT count(*) FROM {AWS} h JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
        " t ON t.HyperParameterTuningJobName = h.HyperParameterTuningJobName AND t.region = "
        "h.region WHERE h.region = 'us-east-1' AND h.HyperParameterTuningJobName = 'a' AND "
        "h.HyperParameterTuningJobName = 'b'"
    )
    p = plan(sql)
    parent, child = p.slots
    assert parent.skip and not parent.dependent and child.dependent
    assert "the conditions on its HyperParameterTuningJobName allow" in p.warnings[0]
    # under a collation that is not binary, 'a' and 'A' may both match: read as before
    sql = f"SELECT 1 FROM {HPT} {W} AND locationsId = 'US-CENTRAL1'"
    (read,) = plan_query(parse_one(sql).expression, REG, binary=lambda: False).slots
    assert not read.skip and sorted(read.static["locationsId"]) == ["US-CENTRAL1", "us-central1"]


_TEXT = (
    "(CASE CAST(s -> '$.a' AS TEXT) WHEN 'true' THEN '1' WHEN 'false' THEN '0' "
    "ELSE (s -> '$.a') ->> '$' END)"
)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("json_extract(s, '$.a') = 'x'", "(s ->> '$.a') = 'x'"),
        ("json_extract(s, '$.a') IN ('x', 'y')", "(s ->> '$.a') IN ('x', 'y')"),
        ("json_extract(s, '$.a') = '1'", f"{_TEXT} = '1'"),  # a boolean's text is '1'
        ("json_extract(s, '$.n') > 5", "TRY_CAST(s -> '$.n' AS DOUBLE) > 5"),
        ("json_extract(s, '$.a')", _TEXT),
        ("s -> '$.a'", "s -> '$.a'"),
        ("sum(json_extract(s, '$.n'))", "SUM(TRY_CAST(s -> '$.n' AS DOUBLE))"),
    ],
)
def test_sqlite_json_extract_compat(sql: str, expected: str) -> None:
    tree = parse_one(f"SELECT 1 FROM t WHERE {sql}").expression
    assert to_duckdb_sql(tree) == f"SELECT 1 FROM t WHERE {expected}"


@pytest.mark.parametrize(
    "sql",
    [
        "json_extract(c,'$.a')",
        "JSON_EXTRACT(t.\"c\", '$.a')",
        "max(json_extract(c, '$.a'))",
        "sum(json_extract(c, '$.a'))",
        "upper(json_extract(c, '$.a'))",
        "json_extract(c, '$.a') + 0",
        "(json_extract(c, '$.a') = 1)",
        "json_extract(c, '$.a') > json_extract(c, '$.b')",
        "json_extract(c, '$.a') IS NULL",
        "json_extract(c, '$.a') IN (1, 2)",
        "max(json_extract(c, '$.a')) OVER ()",
    ],
)
def test_a_rewritten_select_item_keeps_duckdbs_name_for_what_the_user_wrote(sql: str) -> None:
    import duckdb

    # DuckDB's own name for the item (its ToString, what it names the column by)
    said = duckdb.execute(
        "SELECT json_deserialize_sql(json_serialize_sql(?))", [f"SELECT {sql} FROM t"]
    ).fetchone()
    assert said is not None
    name = said[0].removeprefix("SELECT ").removesuffix(" FROM t")
    rewritten = to_duckdb_sql(parse_one(f"SELECT {sql}, {sql} AS mine FROM t").expression)
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT '{"a": 8, "b": true}'::JSON AS c""")
    assert con.execute(rewritten).description[0][0] == name
    assert con.execute(rewritten).description[1][0] == "mine"  # a user's alias stays


def _run(sql: str) -> list[tuple[object, ...]]:
    """``sql`` rewritten, run by DuckDB over JSON documents with numbers and text."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        'CREATE TABLE t AS SELECT * FROM (VALUES (1, \'{"a": 8, "b": 2}\'::JSON), '
        '(2, \'{"a": 34, "b": 40}\'::JSON), (3, \'{"a": 11, "b": 11.0}\'::JSON), '
        '(4, \'{"a": "x", "b": 5}\'::JSON), (5, \'{"b": 1}\'::JSON)) v(id, c)'
    )
    return con.execute(to_duckdb_sql(parse_one(sql).expression)).fetchall()


def test_sqlite_json_extract_orders_numbers_as_numbers_and_below_text() -> None:
    # SQLite (StackQL): numbers compare as numbers and sort before any text
    assert _run("SELECT max(json_extract(c, '$.a')), min(json_extract(c, '$.a')) FROM t") == [
        ("x", "8")
    ]
    assert _run(
        "SELECT max(json_extract(c, '$.a')) FROM t WHERE json_extract(c, '$.a') != 'x'"
    ) == [("34",)]
    ids = _run("SELECT id FROM t WHERE id < 5 ORDER BY json_extract(c, '$.a') DESC")
    assert [r[0] for r in ids] == [4, 2, 3, 1]
    ids = _run("SELECT id FROM t WHERE json_extract(c, '$.a') > json_extract(c, '$.b') ORDER BY id")
    assert [r[0] for r in ids] == [1, 4]  # 8 > 2; 'x' > 5 (text above numbers); 11 = 11.0
    ids = _run("SELECT id FROM t WHERE json_extract(c, '$.a') = json_extract(c, '$.b')")
    assert ids == [(3,)]
    ids = _run("SELECT id FROM t WHERE json_extract(c, '$.a') BETWEEN 10 AND 40 ORDER BY id")
    assert [r[0] for r in ids] == [2, 3]
    # in a GROUP BY query too: the value is the group's own
    rows = _run(
        "SELECT json_extract(c, '$.a') AS a, count(*) FROM t WHERE id < 5"
        " GROUP BY json_extract(c, '$.a') ORDER BY json_extract(c, '$.a') DESC"
    )
    assert [r[0] for r in rows] == ["x", "34", "11", "8"]
    rows = _run(
        "SELECT json_extract(c, '$.a'), count(*) FROM t WHERE id < 5"
        " GROUP BY ALL ORDER BY json_extract(c, '$.a')"
    )
    assert [r[0] for r in rows] == ["8", "11", "34", "x"]
    # not grouped on it: DuckDB's own error, as without the rewrite (not an arbitrary value)
    with pytest.raises(Exception, match="GROUP BY"):
        _run("SELECT id % 2, count(*) FROM t GROUP BY id % 2 ORDER BY json_extract(c, '$.a')")
    # as window functions too: each row gets the order of values, not of their text
    rows = _run(
        "SELECT id, max(json_extract(c, '$.a')) OVER (PARTITION BY id < 4),"
        " min(json_extract(c, '$.a')) OVER (ORDER BY id) FROM t ORDER BY id"
    )
    assert rows == [(1, "34", "8"), (2, "34", "8"), (3, "34", "8"), (4, "x", "8"), (5, "x", "8")]


def test_sqlite_json_extract_order_by_alias_or_position_orders_values() -> None:
    # as ORDER BY json_extract(...) itself: 8 < 11 < 34 < 'x' (not '11' < '34' < '8')
    for key in ("a", "2"):
        rows = _run(f"SELECT id, json_extract(c, '$.a') AS a FROM t ORDER BY {key}")
        assert [r[1] for r in rows] == ["8", "11", "34", "x", None]
        rows = _run(f"SELECT id, json_extract(c, '$.a') AS a FROM t ORDER BY {key} DESC, id")
        assert [r[1] for r in rows] == ["x", "34", "11", "8", None]
    # DISTINCT: ordered by the select list's values
    rows = _run("SELECT DISTINCT json_extract(c, '$.a') AS a FROM t ORDER BY a")
    assert [r[0] for r in rows] == ["8", "11", "34", "x", None]
    rows = _run("SELECT DISTINCT json_extract(c, '$.a') FROM t ORDER BY json_extract(c, '$.a')")
    assert [r[0] for r in rows] == ["8", "11", "34", "x", None]
    # grouped on it by its alias or position
    rows = _run("SELECT json_extract(c, '$.a') AS a, count(*) FROM t GROUP BY a ORDER BY a DESC")
    assert [r[0] for r in rows] == ["x", "34", "11", "8", None]
    rows = _run("SELECT json_extract(c, '$.a'), count(*) FROM t GROUP BY 1 ORDER BY 1")
    assert [r[0] for r in rows] == ["8", "11", "34", "x", None]
    # an alias of another item, or a column, is left alone
    rows = _run("SELECT id AS a, json_extract(c, '$.a') FROM t ORDER BY a DESC")
    assert [r[0] for r in rows] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("key", ["json_extract(c, '$.a')", "a", "2"])
def test_sqlite_json_extract_order_by_puts_nulls_where_duckdb_does(key: str) -> None:
    # as for any other sort key in DuckDB: last both ways, unless NULLS FIRST
    select = "SELECT id, json_extract(c, '$.a') AS a FROM t"
    for tail in ("", " DESC"):
        rows = _run(f"{select} ORDER BY {key}{tail}")
        assert rows[-1] == (5, None)
        assert _run(f"{select} ORDER BY {key}{tail} NULLS FIRST")[0] == (5, None)
    rows = _run(f"{select} WHERE id IN (1, 2, 5) ORDER BY {key} DESC LIMIT 2")
    assert [r[1] for r in rows] == ["34", "8"]


def test_sqlite_json_extract_booleans_are_1_and_0() -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES"
        """ (1, '{"b": true, "f": false, "s": "true", "n": 2, "one": 1}'),"""
        """ (2, '{"b": false, "f": true, "s": "x", "n": 1, "one": 0}')) v(id, j)"""
    )

    def run(sql: str) -> list[tuple[object, ...]]:
        return con.execute(to_duckdb_sql(parse_one(sql).expression)).fetchall()

    assert run(
        "SELECT json_extract(j, '$.b') = 1, json_extract(j, '$.b'), json_extract(j, '$.f') + 0,"
        " json_extract(j, '$.s'), json_extract(j, '$.b') = 'true',"
        " json_extract(j, '$.b') = json_extract(j, '$.one') FROM t WHERE id = 1"
    ) == [(True, "1", 0.0, "true", False, True)]
    assert run("SELECT id FROM t WHERE json_extract(j, '$.b')") == [(1,)]
    assert run("SELECT id FROM t WHERE json_extract(j, '$.b') = 1") == [(1,)]
    assert run("SELECT id FROM t WHERE json_extract(j, '$.f') IN (1)") == [(2,)]
    assert run("SELECT id FROM t WHERE json_extract(j, '$.b') = '1'") == [(1,)]
    # numbers among numbers: max(1, 2) is 2, true is below 2 and above false
    assert run("SELECT max(json_extract(j, '$.b')), max(json_extract(j, '$.n')) FROM t") == [
        ("1", "2")
    ]
    rows = run("SELECT id FROM t ORDER BY json_extract(j, '$.f')")
    assert rows == [(1,), (2,)]


def test_dependent_join_takes_the_partners_region_and_account() -> None:
    p = plan(
        f"SELECT t.TrainingJobName FROM {AWS} j JOIN "
        "aws.sagemaker.hyper_parameter_tuning_job_training_jobs t "
        "ON t.HyperParameterTuningJobName = j.HyperParameterTuningJobName "
        "WHERE j.region IN ('us-east-1', 'eu-west-1')"
    )
    dep = p.stages()[1][0]
    assert dep.dependent == {
        "HyperParameterTuningJobName": (AWS, "HyperParameterTuningJobName"),
        "region": (AWS, "region"),
        "AwsAccountId": (AWS, "AwsAccountId"),
    }


def test_a_view_with_no_branch_bound_is_an_error_not_an_empty_result() -> None:
    from stackql_tuning.plan.views import expand_views

    tree = expand_views(parse_one("SELECT count(*) FROM unified.tuning.jobs").expression, REG)
    with pytest.raises(PlanError, match="bind the parameters of at least one cloud"):
        plan_query(tree, REG)
    tree = expand_views(
        parse_one("SELECT count(*) FROM unified.tuning.jobs WHERE region = 'us-east-1'").expression,
        REG,
    )
    p = plan_query(tree, REG)
    assert [s.resource.provider for s in p.slots if not s.skip] == ["aws"]
    assert len(p.warnings) == 2


DEFAULTS = {"region": ["us-east-1"], "projectsId": ["p"], "locationsId": ["us-central1"]}


def _view_plan(sql: str):
    from stackql_tuning.plan.views import expand_views

    return plan_query(expand_views(parse_one(sql).expression, REG), REG, defaults=DEFAULTS)


@pytest.mark.parametrize(
    ("sql", "param"),
    [
        (
            "SELECT * FROM (SELECT * FROM unified.tuning.jobs) s WHERE s.region = 'us-east-1'",
            "region",
        ),
        (
            "WITH u AS (SELECT * FROM unified.tuning.jobs) SELECT * FROM u WHERE projectsId = 'p'",
            "projectsId",
        ),
        (
            "SELECT * FROM (SELECT * FROM unified.tuning.jobs) s WHERE s.AwsAccountId = '1'",
            "AwsAccountId",
        ),
        (
            "SELECT * FROM (SELECT region AS r FROM unified.tuning.jobs) s WHERE s.r LIKE 'us%'",
            "region",
        ),
    ],
)
def test_a_routed_param_filtered_outside_the_subquery_over_the_view_is_refused(
    sql: str, param: str
) -> None:
    # the branch that needs it was skipped with a warning, and the outer condition then
    # dropped every other cloud's row: 0 rows, exit 0
    with pytest.raises(PlanError, match=f"{param} of unified.tuning.jobs is constrained by") as e:
        _view_plan(sql)
    assert "outside the subquery or CTE" in e.value.message
    assert "move the condition inside" in (e.value.hint or "")


@pytest.mark.parametrize(
    "sql",
    [
        # a CTE read by another CTE: the outer condition is on the second (was 0 rows)
        "WITH a AS (SELECT * FROM unified.tuning.jobs), c AS (SELECT * FROM a) "
        "SELECT * FROM c WHERE c.region = 'eu-west-1'",
        "WITH a AS (SELECT * FROM unified.tuning.jobs), c AS (SELECT region AS r FROM a) "
        "SELECT * FROM c WHERE c.r = 'eu-west-1'",
        # renamed through an expression, and in a correlated EXISTS
        "SELECT * FROM (SELECT region || '' AS rr FROM unified.tuning.jobs) s WHERE rr = 'x'",
        "SELECT * FROM (SELECT * FROM unified.tuning.jobs) s WHERE EXISTS "
        "(SELECT 1 FROM (VALUES ('eu-west-1')) q(x) WHERE q.x = s.region)",
    ],
)
def test_a_routed_param_constrained_further_out_is_refused(sql: str) -> None:
    with pytest.raises(PlanError, match=r"region of unified\.tuning\.jobs is constrained by"):
        _view_plan(sql)


@pytest.mark.parametrize(
    "sql",
    [
        # `region` above is the provider, not the param (a plan error before)
        "SELECT * FROM (SELECT provider AS region, name FROM unified.tuning.jobs) s "
        "WHERE s.region = 'aws'",
        # the unqualified `region` is the VALUES list's
        "SELECT * FROM (SELECT name FROM unified.tuning.jobs) s, (VALUES ('eu-west-1')) "
        "v(region) WHERE region = 'eu-west-1'",
        # other spellings of IS NULL ask for the other clouds' rows, as IS NULL does
        "SELECT * FROM (SELECT * FROM unified.tuning.jobs) s WHERE NOT (s.region IS NOT NULL)",
        "SELECT * FROM (SELECT * FROM unified.tuning.jobs) s "
        "WHERE s.region IS NOT DISTINCT FROM NULL",
    ],
)
def test_a_column_only_named_like_a_routed_param_is_no_condition_on_it(sql: str) -> None:
    _view_plan(sql)


def test_a_having_on_a_param_gets_no_default() -> None:
    # GROUP BY region HAVING region = 'x' read the default region, and the HAVING dropped its
    # group (no row, exit 0)
    with pytest.raises(PlanError) as e:
        _with_defaults(f"SELECT region, count(*) FROM {AWS} GROUP BY region HAVING region = 'x'")
    assert "nor a HAVING: write it in the WHERE" in (e.value.hint or "")


def test_a_routed_param_tested_for_null_outside_the_view_still_skips_its_branch() -> None:
    p = _view_plan("SELECT * FROM (SELECT * FROM unified.tuning.jobs) s WHERE s.region IS NULL")
    assert {s.resource.provider for s in p.slots if not s.skip} == {"google"}
    assert any("branch 3" in w and "not queried" in w for w in p.warnings)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM unified.tuning.jobs s FULL JOIN (VALUES ('us-east-1')) v(r) "
        "ON s.region = v.r WHERE s.region IS NULL",
        "SELECT * FROM (VALUES ('us-east-1')) v(r) LEFT JOIN "
        "(SELECT * FROM unified.tuning.jobs) s ON true WHERE s.region IS NULL",
        # padded one level down, tested two levels up
        "SELECT * FROM (SELECT s.* FROM unified.tuning.jobs s FULL JOIN (VALUES ('x')) v(r) "
        "ON s.region = v.r) w WHERE w.region IS NULL",
    ],
)
def test_a_null_test_of_padded_rows_leaves_the_routed_param_to_the_defaults(sql: str) -> None:
    # an outer join pads the view's rows: `s.region IS NULL` keeps the rows that found no
    # match, so skipping the AWS branch padded a row its jobs would have matched (256 rows
    # where 255 were true)
    p = _view_plan(sql)
    aws = [s for s in p.slots if s.resource.provider == "aws"]
    assert aws and not any(s.skip for s in aws)
    assert aws[0].static["region"] == ["us-east-1"]
    assert not p.warnings


def test_an_outer_join_that_keeps_the_views_rows_leaves_its_routed_params_to_the_defaults() -> None:
    # `j.region = l.r` in the ON of a LEFT JOIN that keeps every row of the view was taken
    # as constraining the region: the default stood in for no branch, and the AWS one went
    # unread (only the Google rows came back)
    p = _view_plan(
        "SELECT j.provider FROM unified.tuning.jobs j "
        "LEFT JOIN (VALUES ('us-east-1')) l(r) ON j.region = l.r"
    )
    aws = [s for s in p.slots if s.resource.provider == "aws"]
    assert aws and not any(s.skip for s in aws)
    assert aws[0].static["region"] == ["us-east-1"]
    assert not p.warnings


def _with_defaults(sql: str):
    return plan_query(parse_one(sql).expression, REG, defaults=DEFAULTS)


@pytest.mark.parametrize(
    "where",
    [
        "region = 'eu-west-1' OR region = 'us-west-2'",
        "region LIKE 'eu-%'",
        "region <> 'us-east-1'",
        "region IN (SELECT 'eu-west-1')",
    ],
)
def test_a_param_the_query_constrains_gets_no_default(where: str) -> None:
    # before: the default region was queried and the predicate then dropped its rows (exit 0)
    with pytest.raises(PlanError) as e:
        _with_defaults(f"SELECT 1 FROM {AWS} WHERE {where}")
    assert "list needs region" in e.value.message
    assert e.value.hint and e.value.hint.startswith("region is constrained here")


def test_a_join_on_local_rows_binds_the_param_instead_of_the_default() -> None:
    # was: no binding, so the default region was read and the join dropped its rows; then an
    # error; now the VALUES list's rows give the region (one call per distinct value)
    p = _with_defaults(
        f"SELECT r.reg FROM (VALUES ('eu-west-1')) r(reg) JOIN {AWS} a ON a.region = r.reg"
    )
    [slot] = p.slots
    assert slot.dependent == {"region": ("values AS r", "reg")} and "region" not in slot.static
    with pytest.raises(PlanError, match="list needs projectsId"):
        _with_defaults(f"SELECT 1 FROM {HPT} WHERE projectsId LIKE 'ml-%'")


def test_defaults_still_fill_what_the_query_leaves_alone() -> None:
    (slot,) = _with_defaults(
        f"SELECT region FROM {AWS} WHERE HyperParameterTuningJobStatus = 'x'"
    ).slots
    assert slot.static == {"region": ["us-east-1"]}
    (slot,) = _with_defaults(
        f"SELECT 1 FROM {AWS} WHERE region IN ('eu-west-1', 'us-west-2')"
    ).slots
    assert slot.static == {"region": ["eu-west-1", "us-west-2"]}
    # a nested query's own column of the same name does not constrain the outer table
    (slot,) = _with_defaults(
        f"SELECT 1 FROM {AWS} a WHERE EXISTS (SELECT 1 FROM (SELECT 'x' AS region) t "
        "WHERE t.region = 'x')"
    ).slots
    assert slot.static == {"region": ["us-east-1"]}


@pytest.mark.parametrize(
    ("where", "hint"),
    [
        (f"{HPT} {W} AND state = 'RUNNING'", "did you mean 'JOB_STATE_RUNNING'?"),
        (f"{HPT} {W} AND state IN ('JOB_STATE_RUNNING', 'job_state_failed')", "case-sensitive"),
        (
            f"{AWS} WHERE region = 'x' AND 'inprogress' != HyperParameterTuningJobStatus",
            "'InProgress'",
        ),
    ],
)
def test_a_literal_outside_an_enum_is_a_plan_error(where: str, hint: str) -> None:
    # pushed, the API refused it (400); not pushed, it matched nothing: now the same error
    from stackql_tuning.plan.pushdown import check_literals

    p = plan_query(parse_one(f"SELECT 1 FROM {where}").expression, REG)
    with pytest.raises(PlanError, match="is not a value of") as e:
        check_literals(p)
    assert hint in (e.value.hint or "")


def test_enum_literals_that_exist_and_nested_queries_pass() -> None:
    from stackql_tuning.plan.pushdown import check_literals

    check_literals(plan(f"SELECT 1 FROM {HPT} {W} AND state IN ('JOB_STATE_RUNNING')"))
    check_literals(
        plan(f"SELECT 1 FROM {HPT} {W} AND name IN (SELECT 'x' AS state WHERE 'a' = 'RUNNING')")
    )


def test_a_misspelled_provider_is_named_with_the_closest_one() -> None:
    with pytest.raises(PlanError, match="unknown provider 'googl'") as e:
        plan(f"SELECT 1 FROM googl.aiplatform.hyperparameter_tuning_jobs {W}")
    assert e.value.hint and e.value.hint.startswith("did you mean 'google'?")
    # another catalog's tables (an attached database) are DuckDB's to resolve
    assert plan("SELECT 1 FROM mydb.main.t").slots == []
    assert plan("SELECT 1 FROM gogle.main.t").slots == []  # no provider has a 'main' service


def test_a_letter_or_two_is_no_did_you_mean() -> None:
    from stackql_tuning.errors import closest

    assert closest("X", ["JOB_STATE_EXPIRED", "JOB_STATE_RUNNING"]) == []
    assert closest("RUNNING", ["JOB_STATE_EXPIRED", "JOB_STATE_RUNNING"]) == ["JOB_STATE_RUNNING"]


def test_an_outer_joins_on_condition_never_restricts_the_side_it_keeps() -> None:
    # every row of the kept side stays: its ON conditions neither bind nor are pushed down
    keep = "j.HyperParameterTuningJobStatus = 'Completed'"
    left = plan(
        f"SELECT 1 FROM {AWS} j LEFT JOIN (VALUES ('a')) v(n) "
        f"ON v.n = j.HyperParameterTuningJobName AND {keep} WHERE j.region = 'us-east-1'"
    )
    assert left.slots[0].pushed == {}
    right = plan(
        f"SELECT 1 FROM (VALUES ('a')) v(n) RIGHT JOIN {AWS} j "
        f"ON v.n = j.HyperParameterTuningJobName AND {keep} WHERE j.region = 'us-east-1'"
    )
    assert right.slots[0].pushed == {}
    with pytest.raises(PlanError, match="list needs region"):
        plan(f"SELECT 1 FROM {AWS} j FULL JOIN (VALUES ('a')) v(n) ON j.region = 'us-east-1'")
    # the side whose rows only match may be restricted, as with an inner join
    nullable = plan(
        f"SELECT 1 FROM (VALUES ('a')) v(n) LEFT JOIN {AWS} j "
        f"ON v.n = j.HyperParameterTuningJobName AND {keep} AND j.region = 'us-east-1'"
    )
    assert nullable.slots[0].pushed == {"StatusEquals": "Completed"}
    assert nullable.slots[0].static == {"region": ["us-east-1"]}


@pytest.mark.parametrize(
    "sql",
    [
        f"WITH x AS (SELECT region FROM {AWS}) SELECT count(*) FROM x WHERE region = 'eu-west-1'",
        # qualified by the CTE's name (was missed: the default region was read, and then dropped)
        f"WITH x AS (SELECT region FROM {AWS}) SELECT count(*) FROM x WHERE x.region = 'eu-west-1'",
        f"WITH x AS (SELECT region FROM {AWS}) SELECT 1 FROM x AS y WHERE y.region = 'eu-west-1'",
        f"SELECT 1 FROM (SELECT region FROM {AWS}) s WHERE s.region = 'eu-west-1'",
        f"SELECT 1 FROM (SELECT region FROM {AWS}) s WHERE region LIKE 'eu-%'",
    ],
)
def test_a_condition_outside_the_cte_that_reads_a_table_gets_no_default(sql: str) -> None:
    # before: the default region was read, and the outer filter then dropped every row
    with pytest.raises(PlanError, match="list needs region") as e:
        _with_defaults(sql)
    assert "outside the CTE or subquery" in (e.value.hint or "")


def test_outer_conditions_on_other_sources_leave_the_default_alone() -> None:
    p = _with_defaults(
        f"WITH x AS (SELECT HyperParameterTuningJobName AS n, region FROM {AWS}) "
        "SELECT 1 FROM x JOIN (VALUES ('a', 'eu-west-1')) r(n, region) ON x.n = r.n "
        "WHERE r.region = 'eu-west-1'"
    )
    assert p.slots[0].static == {"region": ["us-east-1"]}


def test_an_account_constrained_but_not_bound_is_an_error() -> None:
    # before: only the default credentials' account was read, and the filter kept what matched
    for where in ("AwsAccountId LIKE '2109%'", "(AwsAccountId = '2109' OR Strategy = 'Grid')"):
        with pytest.raises(PlanError, match=r"AwsAccountId of .* is constrained but not bound"):
            plan(f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND {where}")
    (slot,) = plan(f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND AwsAccountId = '1'").slots
    assert slot.static["AwsAccountId"] == ["1"]


def test_a_null_in_an_in_list_binds_nothing() -> None:
    (slot,) = plan(
        f"SELECT name FROM {HPT} WHERE projectsId = 'p' AND locationsId IN ('a', NULL)"
    ).slots
    assert slot.static["locationsId"] == ["a"]  # NULL matches nothing: no call for it
    with pytest.raises(PlanError, match="matches nothing"):
        plan(f"SELECT name FROM {HPT} WHERE projectsId = 'p' AND locationsId IN (NULL)")


def test_a_correlated_subquery_hint_names_the_param_as_spelled_and_says_join() -> None:
    with pytest.raises(PlanError) as e:
        plan(
            f"SELECT j.HyperParameterTuningJobName FROM {AWS} j WHERE j.region = 'us-east-1' "
            "AND EXISTS (SELECT 1 FROM aws.sagemaker.hyper_parameter_tuning_job_training_jobs t "
            "WHERE t.HyperParameterTuningJobName = j.HyperParameterTuningJobName)"
        )
    hint = e.value.hint or ""
    assert hint.startswith("HyperParameterTuningJobName is constrained here")
    assert "correlated subquery's outer column under an OR, in an ON or unqualified" in hint


def test_a_view_is_a_dependent_joins_source_after_the_tables_it_reads() -> None:
    """A param joined to a view's column takes its values from the view's query; the view's
    param columns (kept by the expansion) give the partner's region and account too."""
    from stackql_tuning.plan.views import expand_views

    tree = expand_views(
        parse_one(
            "SELECT t.TrainingJobName FROM aws.sagemaker.tuning_jobs u JOIN "
            "aws.sagemaker.hyper_parameter_tuning_job_training_jobs t "
            "ON t.HyperParameterTuningJobName = u.TuningJobName WHERE u.region = 'us-east-1'"
        ).expression,
        REG,
    )
    p = plan_query(tree, REG)
    first, second = p.stages()
    assert [s.name for s in first] == [AWS]
    [dep] = second
    source = "view aws.sagemaker.tuning_jobs AS u"
    assert dep.dependent == {
        "HyperParameterTuningJobName": (source, "TuningJobName"),
        "region": (source, "region"),
        "AwsAccountId": (source, "AwsAccountId"),
    }
    assert dep.depends_on == {AWS}


TRAINING = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"


def test_a_cte_is_a_dependent_joins_source_after_the_tables_it_reads() -> None:
    """A param joined to a CTE's column takes its values from the CTE's query (with the CTEs
    it reads), run once the provider tables in them are loaded."""
    p = plan(
        f"WITH a AS (SELECT HyperParameterTuningJobName AS jn, region FROM {AWS} "
        "WHERE region = 'us-east-1'), b AS (SELECT * FROM a ORDER BY jn LIMIT 2) "
        f"SELECT t.TrainingJobName FROM b JOIN {TRAINING} t ON t.HyperParameterTuningJobName = b.jn"
    )
    first, second = p.stages()
    assert [s.name for s in first] == [AWS]
    [dep] = second
    source = "cte b AS b"
    # the CTE's region column locates the calls too
    assert dep.dependent == {
        "HyperParameterTuningJobName": (source, "jn"),
        "region": (source, "region"),
    }
    assert dep.depends_on == {AWS}
    query = to_duckdb_sql(dep.view_sources[source][0].this)
    assert query.startswith("WITH a AS (") and query.endswith("SELECT * FROM b")
    assert "b AS (SELECT * FROM a ORDER BY jn LIMIT 2)" in query


def test_a_cte_of_literal_rows_is_a_dependent_joins_source_by_its_column_names() -> None:
    p = plan(
        "WITH p(jn, region) AS (VALUES ('job-1', 'eu-west-1')) "
        f"SELECT count(*) FROM p JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.jn"
    )
    [dep] = p.slots
    assert dep.dependent == {
        "HyperParameterTuningJobName": ("cte p AS p", "jn"),
        "region": ("cte p AS p", "region"),
    }
    assert dep.depends_on == set()


@pytest.mark.parametrize(
    ("source", "label", "query"),
    [
        (
            f"(SELECT HyperParameterTuningJobName AS jn, region FROM {AWS} "
            "WHERE region = 'us-east-1') AS p",
            "subquery AS p",
            "SELECT * FROM (SELECT HyperParameterTuningJobName AS jn",
        ),
        (
            "(VALUES ('job-1', 'eu-west-1')) AS p(jn, region)",
            "values AS p",
            "SELECT * FROM (VALUES ('job-1', 'eu-west-1')) AS p(jn, region)",
        ),
        ("my_jobs AS p", "table my_jobs AS p", "SELECT * FROM my_jobs AS p"),
    ],
)
def test_a_subquery_values_or_local_table_is_a_dependent_joins_source(
    source: str, label: str, query: str
) -> None:
    p = plan(
        f"SELECT count(*) FROM {source} JOIN {TRAINING} t "
        "ON t.HyperParameterTuningJobName = p.jn AND t.region = p.region"
    )
    dep = next(s for s in p.slots if s.resource.id == TRAINING)
    assert dep.dependent == {
        "HyperParameterTuningJobName": (label, "jn"),
        "region": (label, "region"),
    }
    assert to_duckdb_sql(dep.view_sources[label][0].this).startswith(query)
    assert dep.depends_on == ({AWS} if label.startswith("subquery") else set())


def test_one_alias_in_two_scopes_is_two_sources() -> None:
    # the two branches' tables were one slot, keyed by the alias: one branch's values were lost
    branch = (
        "SELECT p.job FROM (VALUES ('{job}', 'us-east-1')) AS p(job, region) "
        f"JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job"
    )
    p = plan(branch.format(job="a") + " UNION ALL " + branch.format(job="b"))
    assert len(p.slots) == 2
    queries = {to_duckdb_sql(s.view_sources["values AS p"][0].this) for s in p.slots}
    assert len(queries) == 2


def test_a_partners_column_named_like_a_gets_id_does_not_turn_the_list_into_a_get() -> None:
    p = plan(
        "SELECT count(*) FROM (VALUES ('proj', 'us-central1', '123')) "
        f"p(proj, locationsId, hyperparameterTuningJobsId) JOIN {HPT} g ON g.projectsId = p.proj"
    )
    [slot] = p.slots
    assert slot.method.name == "list"
    assert set(slot.dependent) == {"projectsId", "locationsId"}
    assert slot.located == {"locationsId"}  # taken by name: left out where NULL or missing


@pytest.mark.parametrize(
    ("source", "located"),
    [
        # the reference's column list wins over the CTE's own names
        ("WITH c AS (SELECT 'j' AS job, 'r' AS region) ", "c AS p(job, reg)"),
        (
            "WITH c AS (SELECT 'j' AS job, 'r' AS region), "
            "d AS (SELECT * EXCLUDE (region) FROM c) ",
            "d AS p",
        ),
    ],
)
def test_columns_a_source_does_not_give_do_not_locate_calls(source: str, located: str) -> None:
    p = plan(
        f"{source}SELECT 1 FROM {located} JOIN {TRAINING} t "
        "ON t.HyperParameterTuningJobName = p.job WHERE t.region = 'us-east-1'"
    )
    dep = next(s for s in p.slots if s.resource.id == TRAINING)
    assert dep.static == {"region": ["us-east-1"]} and dep.located == set()


def test_a_renamed_star_column_locates_the_calls() -> None:
    p = plan(
        "WITH c AS (SELECT 'j' AS job, 'r' AS reg), d AS (SELECT * RENAME (reg AS region) FROM c) "
        f"SELECT 1 FROM d AS p JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job"
    )
    [dep] = p.slots
    assert dep.dependent["region"] == ("cte d AS p", "region") and dep.located == {"region"}


def test_a_star_over_a_provider_table_gives_its_columns_to_locate_the_calls() -> None:
    # was: no columns known, so the default region was asked for every job
    p = plan(
        f"WITH picked AS (SELECT * FROM {AWS} WHERE region IN ('us-east-1', 'eu-west-1')) "
        f"SELECT 1 FROM picked p JOIN {TRAINING} t "
        "ON t.HyperParameterTuningJobName = p.HyperParameterTuningJobName"
    )
    dep = next(s for s in p.slots if s.resource.id == TRAINING)
    assert dep.dependent["region"] == ("cte picked AS p", "region")
    assert dep.located == {"region", "AwsAccountId"}


def test_a_cte_reads_the_names_of_the_with_that_defines_it() -> None:
    # b reads the outer a, not the a that a nested WITH defines where b is joined
    p = plan(
        "WITH a AS (SELECT 'outer' AS job, 'r' AS region), b AS (SELECT * FROM a) "
        "SELECT * FROM (WITH a AS (SELECT 'inner' AS job, 'r' AS region) "
        f"SELECT p.job FROM b p JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job) s"
    )
    [dep] = p.slots
    query = to_duckdb_sql(dep.view_sources["cte b AS p"][0].this)
    assert "'outer'" in query and "'inner'" not in query


@pytest.mark.parametrize("unstable", ["ORDER BY random() LIMIT 3", "USING SAMPLE 3 ROWS"])
def test_a_source_that_changes_between_reads_is_refused(unstable: str) -> None:
    with pytest.raises(PlanError, match="change from one read to the next") as e:
        plan(
            f"WITH c AS (SELECT HyperParameterTuningJobName AS job, region FROM {AWS} "
            f"WHERE region = 'us-east-1' {unstable}) "
            f"SELECT 1 FROM c JOIN {TRAINING} t ON t.HyperParameterTuningJobName = c.job"
        )
    assert "CREATE TABLE" in (e.value.hint or "")


def test_where_conditions_on_the_source_alone_filter_its_values() -> None:
    p = plan(
        "SELECT 1 FROM (VALUES ('a', 'r'), ('bogus', 'r')) p(job, region) "
        f"JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job "
        "WHERE p.job <> 'bogus' AND t.TrainingJobStatus = 'Completed' AND p.job || t.region > ''"
    )
    [dep] = p.slots
    assert [f.sql() for f in dep.source_filters["values AS p"]] == ["job <> 'bogus'"]
    # a provider table's too: its LIKE is not sent to the API, its rows are read through it
    p = plan(
        f"SELECT 1 FROM {AWS} h JOIN {TRAINING} t ON t.HyperParameterTuningJobName = "
        "h.HyperParameterTuningJobName AND t.region = h.region "
        "WHERE h.region = 'us-east-1' AND h.HyperParameterTuningJobName LIKE 'lgbm%'"
    )
    dep = next(s for s in p.slots if s.resource.id == TRAINING)
    assert "HyperParameterTuningJobName LIKE 'lgbm%'" in [f.sql() for f in dep.source_filters[AWS]]


@pytest.mark.parametrize("outer", ["FULL JOIN", "RIGHT JOIN"])
def test_no_filter_reads_a_source_that_an_outer_join_pads(outer: str) -> None:
    # fewer values read left the dependent table empty, and the outer join padded differently
    p = plan(
        "SELECT 1 FROM (VALUES ('a', 'r', 'set', 1)) p(job, region, x, k) "
        f"JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job "
        f"{outer} (VALUES (1)) q(k) ON q.k = p.k WHERE coalesce(p.x, 'none') <> 'set'"
    )
    [dep] = p.slots
    assert dep.source_filters == {}


def test_no_filter_with_a_value_that_changes_between_reads() -> None:
    p = plan(
        "SELECT 1 FROM (VALUES ('a', 'r', 0.5)) p(job, region, r) "
        f"JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job WHERE p.r < random()"
    )
    assert p.slots[0].source_filters == {}


def test_a_table_read_through_two_aliases_gives_pairs_of_its_rows_and_no_filters() -> None:
    # one source per alias crossed j1's names with j2's regions (calls for names in regions
    # they are not in, which failed the statement); filters per table mixed j2's LIKE into
    # j1's names. Pairs from the same rows, as the join usually ties them, and no filter
    p = plan(
        f"SELECT 1 FROM {AWS} j2 JOIN {AWS} j1 ON j2.region = j1.region JOIN {TRAINING} t "
        "ON t.region = j2.region "
        "AND t.HyperParameterTuningJobName = j1.HyperParameterTuningJobName "
        "WHERE j1.region = 'eu-west-1' AND j2.region = 'eu-west-1' "
        "AND j2.HyperParameterTuningJobName LIKE 'a%' AND j1.HyperParameterTuningJobName LIKE 'b%'"
    )
    dep = next(s for s in p.slots if s.resource.id == TRAINING)
    assert dep.dependent["HyperParameterTuningJobName"] == (AWS, "HyperParameterTuningJobName")
    assert dep.dependent["region"] == (AWS, "region")
    assert dep.source_filters == {}


def test_on_conditions_of_the_dependent_tables_join_on_the_source_alone_filter_it() -> None:
    p = plan(
        "SELECT 1 FROM (VALUES ('a', 'r'), ('bogus', 'r')) p(job, region) "
        f"JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job AND p.job <> 'bogus' "
        "LEFT JOIN (VALUES (1)) x(k) ON x.k = 1 AND p.region = 'kept: x is padded, not p'"
    )
    [dep] = p.slots
    assert [f.sql() for f in dep.source_filters["values AS p"]] == ["job <> 'bogus'"]


def test_a_partial_column_list_renames_the_first_columns_only() -> None:
    p = plan(
        "WITH c AS (SELECT 'j' AS job, 'r' AS region) "
        f"SELECT 1 FROM c AS p(j) JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.j"
    )
    [dep] = p.slots
    assert dep.dependent["region"] == ("cte c AS p", "region")


def test_a_local_tables_columns_come_from_duckdb_to_locate_the_calls() -> None:
    asked: list[str] = []

    def describe(sql: str) -> list[str]:
        asked.append(sql)
        return ["job", "region"]

    tree = parse_one(
        f"SELECT 1 FROM picks p JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job"
    ).expression
    [dep] = plan_query(tree, REG, describe=describe).slots
    assert dep.dependent["region"] == ("table picks AS p", "region")
    assert asked == ["SELECT * FROM picks AS p"]
    # a source over provider tables is not asked about: their tables are not filled yet
    asked.clear()
    tree = parse_one(
        f"SELECT 1 FROM (SELECT HyperParameterTuningJobName AS job FROM {AWS} "
        f"WHERE region = 'us-east-1') p JOIN {TRAINING} t "
        "ON t.HyperParameterTuningJobName = p.job AND t.region = 'us-east-1'"
    ).expression
    plan_query(tree, REG, describe=describe)
    assert asked == []


def test_an_anti_joins_on_condition_neither_binds_nor_filters() -> None:
    # an ANTI join keeps the rows its ON fails: its name bound one get for the very job the
    # join then removed (0 rows instead of all the others)
    p = plan(
        f"SELECT count(*) FROM {AWS} p ANTI JOIN (VALUES (1)) x(k) "
        "ON x.k = 1 AND p.HyperParameterTuningJobName = 'a' WHERE p.region = 'us-east-1'"
    )
    [slot] = p.slots
    assert slot.method.name == "list" and slot.static == {"region": ["us-east-1"]}
    p = plan(
        "SELECT 1 FROM (VALUES ('a', 'r'), ('b', 'r')) p(job, region) "
        f"JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.job "
        "ANTI JOIN (VALUES (1)) x(k) ON x.k = 1 AND p.job = 'a'"
    )
    assert p.slots[0].source_filters == {}


def test_a_join_using_a_param_column_gets_no_default() -> None:
    # USING (region) compares without binding: only the default region was read
    with pytest.raises(PlanError, match="list needs region") as e:
        _with_defaults(
            f"SELECT 1 FROM {AWS} j JOIN (VALUES ('us-east-1'), ('eu-west-1')) r(region) "
            "USING (region)"
        )
    assert "USING" in (e.value.hint or "")


def test_a_natural_join_on_a_param_column_gets_no_default() -> None:
    # NATURAL compares the shared region without binding it: only the default region was read
    for sql in (
        f"SELECT 1 FROM (VALUES ('eu-west-1')) r(region) NATURAL JOIN {AWS} j",
        f"SELECT 1 FROM {AWS} j NATURAL JOIN (VALUES ('eu-west-1')) r(region)",
    ):
        with pytest.raises(PlanError, match="list needs region") as e:
            _with_defaults(sql)
        assert "NATURAL JOIN" in (e.value.hint or "")
    # a side without a region column leaves it to its default; a literal binds it
    for sql in (
        f"SELECT 1 FROM (VALUES ('x')) r(foo) NATURAL JOIN {AWS} j",
        f"SELECT 1 FROM (VALUES ('eu-west-1')) r(region) NATURAL JOIN {AWS} j "
        "WHERE j.region = 'eu-west-1'",
        f"SELECT 1 FROM (VALUES ('eu-west-1')) r(region) NATURAL JOIN {AWS} j JOIN {AWS} k "
        "ON k.HyperParameterTuningJobName = j.HyperParameterTuningJobName "
        "WHERE j.region = 'eu-west-1'",
    ):
        assert _with_defaults(sql).slots


def test_an_anti_joins_on_condition_restricts_the_table_it_joins() -> None:
    # the rows of b that fail the ON can match nothing: b is read where the ON says
    p = plan(
        f"SELECT count(*) FROM {HPT} a ANTI JOIN {HPT} b ON a.displayName = b.displayName "
        "AND b.projectsId = 'dev' AND b.locationsId = 'europe-west4' "
        "WHERE a.projectsId = 'prod' AND a.locationsId = 'us-central1'"
    )
    statics = sorted(s.static["projectsId"] for s in p.slots)
    assert statics == [["dev"], ["prod"]]


def test_a_request_parameter_joined_to_a_column_is_a_plan_error() -> None:
    # StatusEquals has a value only where the call was sent with it: the join compared NULL
    with pytest.raises(PlanError, match=r"StatusEquals of .* is a request parameter") as e:
        plan(
            f"SELECT count(*) FROM {AWS} j JOIN (VALUES ('us-east-1', 'Completed')) r(region, s) "
            "ON j.region = r.region AND j.StatusEquals = r.s"
        )
    assert "StatusEquals = '...'" in (e.value.hint or "")


def test_an_evaluated_binding_is_compared_with_the_value_the_call_was_sent_with() -> None:
    # now() - INTERVAL ... was evaluated for the call, and again in the query: never equal
    p = plan(f"SELECT 1 FROM {AWS} WHERE region = lower('x') AND CreationTimeAfter = now()")
    [slot] = p.slots
    assert slot.static["region"] == ["LOWER('X')"]  # the test's stand-in for DuckDB
    sql = to_duckdb_sql(p.tree)  # the values, not the calls, are compared in the query
    assert "region = 'LOWER(''X'')'" in sql and "CreationTimeAfter = 'NOW()'" in sql


def test_mentions_whose_joins_filter_the_source_differently_read_their_own_values() -> None:
    p = plan(
        "SELECT 1 FROM (VALUES ('a', 'r'), ('b', 'r')) p(job, region) "
        f"LEFT JOIN {TRAINING} t2 ON t2.HyperParameterTuningJobName = p.job AND p.job <> 'a' "
        f"JOIN {TRAINING} t1 ON t1.HyperParameterTuningJobName = p.job"
    )
    filters = sorted([f.sql() for f in s.source_filters.get("values AS p", [])] for s in p.slots)
    assert filters == [[], ["job <> 'a'"]]  # t1 reads every job; only t2's ON cuts 'a'


def test_duckdb_gives_the_columns_of_a_star_over_a_local_table() -> None:
    tree = parse_one(
        "WITH c AS (SELECT *, 1 AS k FROM picks) "
        f"SELECT 1 FROM c JOIN {TRAINING} t ON t.HyperParameterTuningJobName = c.job"
    ).expression
    [dep] = plan_query(tree, REG, describe=lambda sql: ["job", "region", "k"]).slots
    assert dep.dependent["region"] == ("cte c AS c", "region")


def test_a_recursive_cte_is_not_a_dependent_joins_source() -> None:
    with pytest.raises(PlanError, match="without its required parameters"):
        plan(
            "WITH RECURSIVE p(jn) AS (SELECT 'a' UNION ALL SELECT jn FROM p WHERE false) "
            f"SELECT 1 FROM p JOIN {TRAINING} t ON t.HyperParameterTuningJobName = p.jn "
            "WHERE t.region = 'us-east-1'"
        )


def test_an_enum_typo_on_a_view_column_names_the_view_column() -> None:
    """The predicate is checked where it binds (the branch's table), but the message names
    the column the user wrote, then the table's column it stands for."""
    from stackql_tuning.plan.pushdown import check_literals
    from stackql_tuning.plan.views import expand_views

    tree = expand_views(
        parse_one(
            "SELECT TuningJobName FROM aws.sagemaker.tuning_jobs"
            " WHERE region = 'us-east-1' AND TuningJobStatus = 'Complete'"
        ).expression,
        REG,
    )
    with pytest.raises(PlanError) as e:
        check_literals(plan_query(tree, REG))
    assert e.value.message == (
        "'Complete' is not a value of aws.sagemaker.tuning_jobs.TuningJobStatus"
        f" ({AWS}.HyperParameterTuningJobStatus)"
    )
    assert "Completed" in (e.value.hint or "")


def test_a_param_equal_to_null_is_a_plan_error_where_it_is_written() -> None:
    # it was "list needs parameter region" with a hint to add the WHERE the query had
    for where in ("region = NULL", "region = 'us-east-1' AND region = NULL", "NULL = region"):
        with pytest.raises(PlanError, match="matches nothing: NULL never equals") as e:
            plan(f"SELECT 1 FROM {AWS} WHERE {where}")
        assert e.value.location.column is not None


@pytest.mark.parametrize(
    "sql",
    [
        # the key in HAVING, in arithmetic, compared as text, in a CASE: all forms of one key
        "SELECT json_extract(j, '$.a') AS a, count(*) AS n FROM t GROUP BY json_extract(j, '$.a') "
        "HAVING json_extract(j, '$.a') <> 'x' ORDER BY n",
        "SELECT json_extract(j, '$.a') / 100 AS d, count(*) AS n FROM t "
        "GROUP BY json_extract(j, '$.a') ORDER BY n",
        "SELECT json_extract(j, '$.a') = 'x' AS r, CASE WHEN json_extract(j, '$.a') = 1 THEN 1 END "
        "AS c, count(*) AS n FROM t GROUP BY json_extract(j, '$.a') ORDER BY n",
        "SELECT max(json_extract(j, '$.a')) AS m, json_extract(j, '$.b') AS b FROM t GROUP BY 2 "
        "ORDER BY b",
    ],
)
def test_a_grouped_json_extract_is_one_key_in_every_context(sql: str) -> None:
    # the GROUP BY key became the text form while HAVING / arithmetic used other forms of the
    # raw column: "column j must appear in the GROUP BY clause" (it had worked)
    import duckdb

    con = duckdb.connect()
    con.execute(
        'CREATE TABLE t AS SELECT j::JSON AS j FROM (VALUES (\'{"a": 1, "b": "p"}\'), '
        '(\'{"a": 1, "b": "q"}\'), (\'{"a": "x", "b": "p"}\'), (\'{"b": "q"}\')) v(j)'
    )
    rows = con.execute(to_duckdb_sql(parse_one(sql).expression)).fetchall()
    assert rows


def test_the_missing_params_hint_asks_only_for_what_is_missing() -> None:
    # it said "add WHERE projectsId = '...' AND locationsId = '...'" to a WHERE that had the
    # project already
    with pytest.raises(PlanError) as info:
        plan(f"SELECT name FROM {HPT} WHERE projectsId = 'p'")
    assert info.value.hint is not None
    assert info.value.hint.startswith("add locationsId = '...' to the WHERE"), info.value.hint
    with pytest.raises(PlanError) as info:
        plan(f"SELECT name FROM {HPT}")
    assert info.value.hint is not None
    assert info.value.hint.startswith("add WHERE projectsId = '...' AND locationsId = '...'")


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT 1 FROM {AWS} WHERE region = 'r' AND HyperParameterTuningJobName = 'j' "
        "AND StatusEquals = 'Completed'",
        f"SELECT 1 FROM {HPT} {W} AND hyperparameterTuningJobsId = '7' AND filter = 'x'",
    ],
)
def test_a_list_only_param_beside_the_id_takes_the_list(sql: str) -> None:
    # the get ignored StatusEquals (the job came whatever its status) and the row, without
    # the param, failed its own WHERE: 0 rows where the job had that status
    (slot,) = plan(sql).slots
    assert slot.method.name == "list"


@pytest.mark.parametrize(
    ("where", "values"),
    [
        ("region = 'a' OR region = 'b'", ["a", "b"]),
        ("(region = 'a' OR (region IN ('b', 'c'))) OR 'd' = region", ["a", "b", "c", "d"]),
    ],
)
def test_an_or_of_equalities_on_one_param_binds_it(where: str, values: list[str]) -> None:
    # it was refused: "cannot query ... without its required parameters"
    from stackql_tuning.plan.bindings import equalities_as_in

    tree = equalities_as_in(parse_one(f"SELECT 1 FROM {AWS} WHERE {where}").expression)
    (slot,) = plan_query(tree, REG).slots
    assert slot.static["region"] == values


@pytest.mark.parametrize(
    "where",
    [
        "region = 'a' OR AwsAccountId = '123456789012'",  # two columns: not one IN
        "region = 'a' OR region LIKE 'b%'",
        # DuckDB casts an IN list to one type: x IN ('1.0', 2) matched '1'
        "region = '1.0' OR region = 2",
        "region = NULL OR region = 'a'",
    ],
)
def test_other_ors_are_left_alone(where: str) -> None:
    from stackql_tuning.plan.bindings import equalities_as_in

    tree = equalities_as_in(parse_one(f"SELECT 1 FROM {AWS} WHERE {where}").expression)
    assert isinstance(tree.args["where"].this, exp.Or)


def test_an_or_in_a_select_list_keeps_its_text() -> None:
    # its text names the output column: "(x IN (1, 2))" was stored by CREATE TABLE AS
    from stackql_tuning.plan.bindings import equalities_as_in

    tree = parse_one("SELECT x = 1 OR x = 2, (SELECT 1 WHERE y = 1 OR y = 2) FROM t").expression
    assert "x = 1 OR x = 2" in equalities_as_in(tree).sql()
    assert "y = 1 OR y = 2" in tree.sql()


def test_a_cycle_of_dependent_joins_names_the_tables_and_what_to_bind() -> None:
    # both read the other's region (colocated with the join on the name), and neither binds it
    p = plan(
        f"SELECT * FROM {AWS} j JOIN {AWS} k "
        "ON k.HyperParameterTuningJobName = j.HyperParameterTuningJobName"
    )
    with pytest.raises(PlanError, match=f"in a cycle: {AWS} AS j, {AWS} AS k") as e:
        p.stages()
    assert "bind one of them" in (e.value.hint or "")


def test_a_chain_of_three_google_tables_takes_each_table_from_the_one_before() -> None:
    # h2 took its project from h3 (the later join won) and h3 from h2: a cycle error, though
    # h1 binds them with literals
    on = "ON {b}.projectsId = {a}.projectsId AND {b}.locationsId = {a}.locationsId AND "
    on += "{b}.name = {a}.name "
    p = plan(
        f"SELECT count(*) FROM {HPT} h1 JOIN {HPT} h2 {on.format(a='h1', b='h2')}"
        f"JOIN {HPT} h3 {on.format(a='h2', b='h3')}"
        "WHERE h1.projectsId = 'p' AND h1.locationsId = 'us-central1'"
    )
    stages = p.stages()
    # h2's project and location are h1's literals: it is h1's own list (one call, not a list
    # once h1's rows are in); h3 takes them from h2's rows
    assert [s.aliases for s in stages[0]] == [["h1", "h2"]]
    shared, h3 = p.slots
    assert shared.static == {"projectsId": ["p"], "locationsId": ["us-central1"]}
    assert {src for src, _ in h3.dependent.values()} == {shared.name}


def test_a_self_join_on_the_project_and_location_the_where_holds_reads_one_list() -> None:
    # b was listed once a's rows were in: the same list as a's own, called twice
    on = "ON b.name = a.name AND b.projectsId = a.projectsId AND b.locationsId = a.locationsId"
    where = "WHERE a.projectsId = 'p' AND a.locationsId IN ('l1', 'l2')"
    for join in ("JOIN", "LEFT JOIN"):
        p = plan(f"SELECT a.name, b.state FROM {HPT} a {join} {HPT} b {on} {where}")
        [slot] = p.slots
        assert slot.aliases == ["a", "b"] and slot.method.name == "list"
    # a get per joined id stays one (the list to hydrate could be more calls)
    on = on.replace(
        "b.name = a.name", "b.hyperparameterTuningJobsId = a.hyperparameterTuningJobsId"
    )
    p = plan(f"SELECT a.name, b.trials FROM {HPT} a JOIN {HPT} b {on} {where}")
    assert [(s.aliases, s.method.name) for s in p.slots] == [(["a"], "list"), (["b"], "get")]


_CHILD = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
_PARENT_CHILD = (
    f"FROM {AWS} h JOIN {_CHILD} t ON t.HyperParameterTuningJobName = "
    "h.HyperParameterTuningJobName AND t.region = h.region WHERE h.region = 'us-east-1'"
)


@pytest.mark.parametrize(
    ("tail", "counted"),
    [
        ("LIMIT 5", []),
        ("AND t.TrainingJobStatus = 'Failed' LIMIT 5", ["TrainingJobStatus = 'Failed'"]),
        # the parent's own condition: its values were read through it
        ("AND h.Strategy = 'Bayesian' LIMIT 5", []),
        ("LIMIT 3 OFFSET 2", []),
    ],
)
def test_a_parent_child_join_stops_the_childrens_calls_at_its_limit(
    tail: str, counted: list[str]
) -> None:
    # each child row that passes the child's conditions meets its parent's row in the answer
    parent, child = plan(f"SELECT t.TrainingJobName {_PARENT_CHILD} {tail}").slots
    assert parent.limit is None  # every parent is listed: which children answer is not known
    assert child.limit == 5
    assert [c.sql() for c in child.limit_where] == counted


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT t.TrainingJobName {_PARENT_CHILD.replace(' JOIN ', ' LEFT JOIN ')} LIMIT 5",
        # a condition over both tables may drop a child row's every match
        f"SELECT t.TrainingJobName {_PARENT_CHILD} "
        "AND t.TrainingJobStatus <> h.HyperParameterTuningJobStatus LIMIT 5",
        f"SELECT t.TrainingJobName {_PARENT_CHILD} AND random() < 0.5 LIMIT 5",
        f"SELECT t.TrainingJobName {_PARENT_CHILD} AND t.CreationTime > get_current_timestamp() "
        "- INTERVAL 1 DAY LIMIT 5",
        f"SELECT t.TrainingJobName {_PARENT_CHILD} ORDER BY 1 LIMIT 5",
        f"SELECT DISTINCT h.region {_PARENT_CHILD} LIMIT 5",
        f"SELECT count(*) {_PARENT_CHILD} LIMIT 5",
        f"SELECT t.TrainingJobName {_PARENT_CHILD} AND (t.TrainingJobStatus = 'Failed' OR "
        "h.Strategy = 'Random') LIMIT 5",
    ],
)
def test_no_early_limit_for_a_parent_child_join_whose_rows_may_not_meet(sql: str) -> None:
    assert all(s.limit is None for s in plan(sql).slots)


_THIRD = _PARENT_CHILD.replace(" WHERE ", ", (SELECT 1) z WHERE ")


@pytest.mark.parametrize(
    ("sql", "limit"),
    [
        # a subquery or CTE with the join alone and a LIMIT of its own: what is around it
        # sees only its rows
        (f"SELECT * FROM (SELECT t.TrainingJobName {_PARENT_CHILD} LIMIT 5) x", 5),
        (f"WITH x AS (SELECT t.* {_PARENT_CHILD} LIMIT 4) SELECT count(*) FROM x", 4),
        (
            f"SELECT x.n, y.c FROM (SELECT t.TrainingJobName AS n {_PARENT_CHILD} LIMIT 2 "
            "OFFSET 1) x, (SELECT 1 AS c) y",
            3,
        ),
        # not when the SELECT sorts, groups or joins a third source
        (f"SELECT * FROM (SELECT t.TrainingJobName {_PARENT_CHILD} ORDER BY 1 LIMIT 5) x", None),
        (f"SELECT * FROM (SELECT count(*) {_PARENT_CHILD} LIMIT 5) x", None),
        (f"SELECT * FROM (SELECT t.TrainingJobName {_THIRD} LIMIT 5) x", None),
    ],
)
def test_a_parent_child_join_in_a_subquery_stops_at_its_own_limit(
    sql: str, limit: int | None
) -> None:
    slots = plan(sql).slots
    [parent] = [s for s in slots if not s.dependent]
    [child] = [s for s in slots if s.dependent]
    assert parent.limit is None
    assert child.limit == limit


def test_a_limit_past_a_bigint_is_no_early_limit() -> None:
    # LIMIT 9223372036854775807 OFFSET 1: n + offset overflowed the LIMIT the planner wrote
    # for DuckDB ("INT128 ... out of range for INT64"); it limits nothing anyway
    from stackql_tuning.plan.bindings import limit_rows

    def rows(tail: str) -> int | None:
        return limit_rows(parse_one(f"SELECT name FROM {HPT} {W} {tail}").expression)

    assert rows("LIMIT 10 OFFSET 5") == 15
    assert rows("LIMIT 9223372036854775807 OFFSET 1") is None
    assert rows("LIMIT 1 OFFSET 9223372036854775807") is None
    assert rows("LIMIT 9223372036854775806 OFFSET 1") == 2**63 - 1
    assert rows("LIMIT 0 OFFSET 5") == 0  # no row at all: 5 gets were made for it


def test_a_parent_child_join_with_only_a_default_region_lists_the_parent_there() -> None:
    # h waited on t's region and t on h's names: a "cycle" error whose hint said defaults do
    # not count; the parent is listed in the default regions, the child takes h's pairs
    sql = (
        f"SELECT count(*) FROM {AWS} h JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
        " t ON t.HyperParameterTuningJobName = h.HyperParameterTuningJobName "
        "AND t.region = h.region"
    )
    p = plan_query(parse_one(sql).expression, REG, defaults={"region": ["us-east-1", "eu-west-1"]})
    parent, child = p.slots
    assert parent.method.name == "list" and parent.static == {"region": ["us-east-1", "eu-west-1"]}
    assert not parent.dependent
    assert {"HyperParameterTuningJobName", "region"} <= set(child.dependent)
    assert [[s.name for s in stage] for stage in p.stages()] == [[parent.name], [child.name]]
    # not where the query constrains that region otherwise: the defaults' rows would be a
    # wrong answer (0 rows for `LIKE 'ap-%'`); a plan error, as for the table alone
    p = plan_query(
        parse_one(f"{sql} WHERE h.region LIKE 'ap-%'").expression,
        REG,
        defaults={"region": ["us-east-1"]},
    )
    assert "region" not in p.slots[0].static
    with pytest.raises(PlanError):
        p.stages()


@pytest.mark.parametrize("values", ["= 'eu-west-1'", "IN ('eu-west-1', 'us-east-1')"])
def test_a_parent_child_join_with_the_region_on_the_child_lists_the_parent_there(
    values: str,
) -> None:
    # `t.region = h.region AND t.region = 'x'`: h waited on t for its region and t on h for
    # its names ("cycle"); every row of h the query keeps is in x, so h is listed there
    sql = (
        f"SELECT count(*) FROM {AWS} h JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
        " t ON t.HyperParameterTuningJobName = h.HyperParameterTuningJobName "
        f"AND t.region = h.region WHERE t.region {values}"
    )
    p = plan_query(parse_one(sql).expression, REG)
    parent, child = p.slots
    regions = ["eu-west-1"] if "=" in values else ["eu-west-1", "us-east-1"]
    assert parent.method.name == "list" and parent.static == {"region": regions}
    assert [[s.name for s in stage] for stage in p.stages()] == [[parent.name], [child.name]]
    # not through an outer join that keeps h's rows: h stays unbound (a plan error)
    with pytest.raises(PlanError):
        plan_query(
            parse_one(
                sql.replace(" JOIN aws", " LEFT JOIN aws").replace("WHERE t.", "AND t.")
            ).expression,
            REG,
        ).stages()


@pytest.mark.parametrize(
    "on",
    [
        "t.HyperParameterTuningJobName = h.name",
        "t.HyperParameterTuningJobName = h.name AND t.region = h.region",
    ],
)
def test_a_view_joined_on_a_job_name_is_read_where_its_partner_is_held(on: str) -> None:
    # the view's AWS branch read the default region and account (0 rows, exit 0) where a
    # provider table joined on its name is read in its partner's (select.colocate)
    p = _view_plan(
        f"SELECT * FROM {AWS} t JOIN unified.tuning.jobs h ON {on} "
        "WHERE t.region IN ('eu-central-1', 'eu-west-1') AND t.AwsAccountId = '210987654321'"
    )
    [view_aws] = [s for s in p.slots if s.resource.id == AWS and "t" not in s.aliases]
    assert sorted(view_aws.static["region"]) == ["eu-central-1", "eu-west-1"]
    assert view_aws.static["AwsAccountId"] == ["210987654321"]
    # the Google branches are the view's own: their params are not the AWS partner's
    google = [s for s in p.slots if s.resource.provider == "google"]
    assert google and all(s.static["projectsId"] == ["p"] for s in google)


def test_a_view_joined_on_no_job_param_keeps_its_defaults() -> None:
    # joined on a field, not on one of the view's params: nothing says the two are in one
    # place, so the defaults stand in as before
    p = _view_plan(
        f"SELECT * FROM {AWS} t JOIN unified.tuning.jobs h ON t.Strategy = h.display_name "
        "WHERE t.region = 'eu-central-1'"
    )
    [view_aws] = [s for s in p.slots if s.resource.id == AWS and "t" not in s.aliases]
    assert view_aws.static["region"] == ["us-east-1"]


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        (
            "SELECT * FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectId = 'p' AND locationsId = 'us-central1'",
            "projectId is not a column of google.aiplatform.hyperparameter_tuning_jobs "
            "(did you mean projectsId?)",
        ),
        (
            "SELECT j.name FROM google.aiplatform.hyperparameter_tuning_jobs j "
            "WHERE j.projectsId = 'p' AND j.locationID = 'us-central1'",
            "locationID is not a column of google.aiplatform.hyperparameter_tuning_jobs "
            "(did you mean locationsId?)",
        ),
    ],
)
def test_a_misspelled_param_is_named_beside_the_missing_one(sql: str, said: str) -> None:
    # the error said only "cannot query ... without its required parameters"
    with pytest.raises(PlanError, match="without its required parameters") as e:
        plan(sql)
    assert said in (e.value.hint or "")


def test_another_tables_unknown_column_is_not_taken_for_a_misspelling() -> None:
    with pytest.raises(PlanError) as e:
        plan(
            "SELECT 1 FROM google.aiplatform.hyperparameter_tuning_jobs j, picks p "
            "WHERE p.projectId = 'x' AND j.locationsId = 'us-central1'"
        )
    assert "did you mean" not in (e.value.hint or "")


@pytest.mark.parametrize(
    "cond",
    [
        "HyperParameterTuningJobName = 'BERT-X' COLLATE NOCASE",
        "HyperParameterTuningJobName IN ('BERT-X' COLLATE NOCASE, 'b')",
    ],
)
def test_a_comparison_under_a_collation_binds_nothing(cond: str) -> None:
    # a get by the name 'BERT-X' never answers with 'bert-x', which the condition matches:
    # it bound the name, and gave 0 rows where DuckDB gives 1
    (slot,) = plan(f"SELECT * FROM {AWS} WHERE region = 'us-east-1' AND {cond}").slots
    assert slot.method.name == "list"
    assert "hyperparametertuningjobname" not in slot.static


def test_a_double_quoted_value_of_a_required_param_is_said_to_be_a_name() -> None:
    # the hint was every rule of binding, which never said the value was a name
    with pytest.raises(PlanError, match="without its required parameters") as e:
        plan(f'SELECT count(*) FROM {AWS} WHERE region = "us-east-1"')
    hint = e.value.hint or ""
    assert hint.startswith('"us-east-1" is a name (double quotes): a text value takes single')
    assert "is constrained here" not in hint


def test_equal_to_any_of_a_list_of_literals_binds_as_in() -> None:
    # it was "cannot evaluate ANY([...]): Parser Error"
    from stackql_tuning.plan.bindings import equalities_as_in

    tree = parse_one(
        f"SELECT 1 FROM {HPT} WHERE projectsId = ANY(['p']) AND locationsId = ANY(['a', 'b'])"
    ).expression
    (slot,) = plan_query(equalities_as_in(tree), REG).slots
    assert slot.static["projectsId"] == ["p"] and slot.static["locationsId"] == ["a", "b"]


@pytest.mark.parametrize(
    "cond",
    [
        "hyperparameterTuningJobsId = 1000345775479742579.0",
        "hyperparameterTuningJobsId = 12::DECIMAL(10, 2)",
        "hyperparameterTuningJobsId IN (1.5e3, 12)",
        "hyperparameterTuningJobsId = 'x'::BLOB",
    ],
)
def test_a_text_id_compared_with_a_float_decimal_or_bytes_binds_nothing(cond: str) -> None:
    # DuckDB compares it as a number and finds the job; the get was sent the float's text
    # ('1.0003457754797426e+18') and found none: 0 rows where DuckDB gives 1
    import duckdb

    con = duckdb.connect()
    tree = parse_one(f"SELECT 1 FROM {HPT} {W} AND {cond}").expression
    (slot,) = plan_query(
        tree, REG, const_eval=lambda s: con.execute(f"SELECT {s}").fetchall()[0][0]
    ).slots
    assert slot.method.name == "list" and "hyperparameterTuningJobsId" not in slot.static


def test_a_text_id_compared_with_an_integer_still_binds() -> None:
    (slot,) = plan(f"SELECT 1 FROM {HPT} {W} AND hyperparameterTuningJobsId = 12").slots
    assert slot.method.name == "get"
