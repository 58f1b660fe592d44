"""The performance rules of issue 10, checked without timing anything (loopback sandbox only).

- pushdown never changes results: the same queries with pushdown on and off return equal rows
  (Vertex ``filter``; SageMaker StatusEquals / NameContains / time bounds), and it does send
  something for the pushable ones;
- early LIMIT: ``LIMIT 10`` over 5,000 jobs makes exactly one list call;
- lazy hydration: no get/describe unless a get-only column is used, then one per job;
- the scheduler respects ``concurrency`` and ``per_host``: the most requests in flight at once,
  counted from the emulator's request log (each request occupies the latency before its log
  time), never exceeds the bound.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from stackql_tuning.errors import PlanError, QueryError
from stackql_tuning.sandbox.runner import Sandbox
from stackql_tuning.session import Session

G = "google.aiplatform.hyperparameter_tuning_jobs"
A = "aws.sagemaker.hyper_parameter_tuning_jobs"
G_WHERE = "projectsId IN ('ml-research-prod', 'ml-research-dev') AND locationsId IN ('us-central1', 'europe-west4', 'asia-northeast1')"  # noqa: E501
A_WHERE = "region IN ('us-east-1', 'eu-west-1')"
HPT = "hyperparameterTuningJobs"
UNIFIED = "unified.tuning.jobs"


@pytest.fixture
def sessions(fresh_sandbox: Sandbox) -> Iterator[tuple[Session, Session]]:
    on = Session(**fresh_sandbox.settings())
    off = Session(**fresh_sandbox.settings(), pushdown=False)
    try:
        yield on, off
    finally:
        on.close()
        off.close()


def _still(sandbox: Sandbox) -> None:
    """Both clouds' jobs stay as they are while a test compares reads (the fixture lets
    their clocks run again)."""
    sandbox.aws.configure(frozen=True)
    sandbox.google.clock.set_speed(0.0)


def _middle(session: Session, sql: str) -> str:
    values = sorted(r[0] for r in session.execute(sql).rows if r[0] is not None)
    return values[len(values) // 2].isoformat()


def _queries(session: Session) -> list[str]:
    g_mid = _middle(session, f"SELECT createTime FROM {G} WHERE {G_WHERE}")
    a_mid = _middle(session, f"SELECT CreationTime FROM {A} WHERE {A_WHERE}")
    m_mid = _middle(session, f"SELECT LastModifiedTime FROM {A} WHERE {A_WHERE}")
    name = session.execute(f"SELECT displayName FROM {G} WHERE {G_WHERE} LIMIT 1").rows[0][0]
    g_cols = "name, displayName, state, createTime, projectsId, locationsId"
    a_cols = "HyperParameterTuningJobName, HyperParameterTuningJobStatus, CreationTime, region"
    return [
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} AND state = 'JOB_STATE_SUCCEEDED'",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} AND state != 'JOB_STATE_FAILED'",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} "
        "AND state IN ('JOB_STATE_RUNNING', 'JOB_STATE_PENDING')",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} AND displayName LIKE 'xgb%'",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} AND displayName NOT LIKE 'xgb%'",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} AND displayName = '{name}'",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} AND createTime > '{g_mid}'",
        # a constant expression (the clock read once) is pushed as its value
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} AND createTime > now() - INTERVAL 1 DAY",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} "
        "AND json_extract_string(labels, '$.team') = 'growth'",
        f"SELECT {g_cols} FROM {G} WHERE {G_WHERE} "
        "AND (state = 'JOB_STATE_FAILED' OR displayName LIKE 'bert%')",
        f"SELECT {a_cols} FROM {A} WHERE {A_WHERE} AND HyperParameterTuningJobStatus = 'Completed'",
        f"SELECT {a_cols} FROM {A} WHERE {A_WHERE} AND HyperParameterTuningJobName LIKE '%xgb%'",
        f"SELECT {a_cols} FROM {A} WHERE {A_WHERE} "
        "AND HyperParameterTuningJobName NOT LIKE '%xgb%'",
        f"SELECT {a_cols} FROM {A} WHERE {A_WHERE} AND CreationTime > '{a_mid}'",
        f"SELECT {a_cols} FROM {A} WHERE {A_WHERE} "
        "AND CreationTime > get_current_timestamp() - INTERVAL 1 DAY",
        f"SELECT {a_cols} FROM {A} WHERE {A_WHERE} AND LastModifiedTime <= '{m_mid}'",
        f"SELECT {a_cols}, BestTrainingJob FROM {A} WHERE {A_WHERE} "
        "AND HyperParameterTuningJobStatus = 'InProgress' AND HyperParameterTuningJobName "
        "LIKE '%churn%'",
        f"SELECT {a_cols} FROM {A} WHERE {A_WHERE} AND (HyperParameterTuningJobStatus = "
        "'Failed' OR HyperParameterTuningJobName LIKE '%lgbm%')",
        # an outer join's ON condition on the side it keeps restricts nothing of that side
        f"SELECT {a_cols}, v.n FROM {A} LEFT JOIN (VALUES ('x')) v(n) ON v.n = "
        "HyperParameterTuningJobName AND HyperParameterTuningJobStatus = 'Completed' "
        f"WHERE {A_WHERE}",
        f"SELECT {g_cols}, v.n FROM (VALUES ('x')) v(n) RIGHT JOIN {G} ON v.n = name "
        f"AND state = 'JOB_STATE_SUCCEEDED' AND displayName LIKE 'xgb%' WHERE {G_WHERE}",
    ]


def _sent_filters(sandbox: Sandbox) -> tuple[int, int]:
    google = sum(1 for r in sandbox.google.requests() if r.get("query", {}).get("filter"))
    keys = ("StatusEquals", "NameContains", "CreationTimeAfter", "LastModifiedTimeBefore")
    aws = sum(1 for r in sandbox.aws.requests() if any(k in r.get("params", {}) for k in keys))
    return google, aws


def test_pushdown_never_changes_results(
    sessions: tuple[Session, Session], fresh_sandbox: Sandbox
) -> None:
    on, off = sessions
    queries = _queries(off)
    nonempty = 0
    for sql in queries:
        fresh_sandbox.google.reset_log()
        fresh_sandbox.aws.reset_log()
        without = sorted(map(repr, off.execute(sql).rows))
        assert _sent_filters(fresh_sandbox) == (0, 0), sql
        with_pushdown = sorted(map(repr, on.execute(sql).rows))
        assert with_pushdown == without, sql
        nonempty += bool(without)
    assert nonempty >= len(queries) - 2  # the comparisons are not all of empty results
    fresh_sandbox.google.reset_log()
    fresh_sandbox.aws.reset_log()
    for sql in queries:
        on.execute(sql)
    google, aws = _sent_filters(fresh_sandbox)
    assert google > 0 and aws > 0  # pushdown did send filters to both clouds


def test_a_case_blind_collation_sends_no_filter(
    sessions: tuple[Session, Session], fresh_sandbox: Sandbox
) -> None:
    # under SET default_collation = 'nocase' DuckDB matches 'TABNET...' to 'tabnet...'; the
    # APIs do not: a pushed filter dropped the rows DuckDB's test kept (0 rows, not 2)
    fresh_sandbox.google.clock.set_speed(0)
    on, off = sessions
    where = f"{G_WHERE} AND displayName = "
    name = on.execute(f"SELECT displayName FROM {G} WHERE {G_WHERE} LIMIT 1").rows[0][0]
    for s in (on, off):
        s.execute("SET default_collation = 'nocase'")
    queries = [
        f"SELECT count(*) FROM {G} WHERE {where}'{name.upper()}'",
        f"SELECT count(*) FROM {G} WHERE {G_WHERE} AND state = 'job_state_succeeded'",
        f"SELECT count(*) FROM {A} WHERE {A_WHERE} AND HyperParameterTuningJobName LIKE '%LGBM%'",
    ]
    fresh_sandbox.google.reset_log()
    fresh_sandbox.aws.reset_log()
    for sql in queries:
        assert on.execute(sql).rows == off.execute(sql).rows != [(0,)], sql
    assert _sent_filters(fresh_sandbox) == (0, 0)
    on.execute("SET default_collation = 'binary'")
    on.execute(f"SELECT count(*) FROM {G} WHERE {G_WHERE} AND state = 'JOB_STATE_SUCCEEDED'")
    assert _sent_filters(fresh_sandbox)[0] > 0  # binary again: filters are sent


def test_a_sample_is_taken_before_any_filter(
    sessions: tuple[Session, Session], fresh_sandbox: Sandbox
) -> None:
    # USING SAMPLE samples before the WHERE: StatusEquals sent to the API made every sampled
    # row a Completed one (5 of 5, not 2 of 5)
    fresh_sandbox.aws.configure(frozen=True)
    on, off = sessions
    for sample in (
        "USING SAMPLE 5 ROWS (reservoir, 42)",
        "TABLESAMPLE RESERVOIR (5 ROWS) REPEATABLE (42)",
    ):
        sql = (
            f"SELECT count(*) FROM {A} {sample} WHERE region = 'us-east-1' "
            "AND HyperParameterTuningJobStatus = 'Completed'"
        )
        assert on.execute(sql).rows == off.execute(sql).rows, sample
        # the same through the view (whose TABLESAMPLE was dropped: every row counted)
        view = (
            f"SELECT count(*) FROM aws.sagemaker.tuning_jobs {sample} "
            "WHERE region = 'us-east-1' AND TuningJobStatus = 'Completed'"
        )
        assert on.execute(view).rows == off.execute(sql).rows, sample


def test_a_limit_under_an_aggregate_duckdb_knows_reads_every_row(fresh_sandbox: Sandbox) -> None:
    # histogram() is DuckDB's aggregate, unknown to sqlglot: LIMIT 1 stopped at the first page
    session = Session(**fresh_sandbox.settings())
    fresh_sandbox.aws.configure(frozen=True)
    sql = f"SELECT histogram(HyperParameterTuningJobStatus) FROM {A} WHERE region = 'us-east-1'"
    whole = session.execute(sql).rows
    assert session.execute(f"{sql} AND MaxResults = 4 LIMIT 1").rows == whole
    session.close()


def test_a_value_of_a_param_the_list_does_not_take_makes_no_second_list(
    fresh_sandbox: Sandbox,
) -> None:
    # hyperparameterTuningJobsId IN (a, b) beside the list-only pageSize: the list was called
    # once per id, each job came back twice (each copy labelled with one of the ids)
    session = Session(**fresh_sandbox.settings())
    where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    ids = [
        r[0]
        for r in session.execute(
            f"SELECT hyperparameterTuningJobsId FROM {G} WHERE {where} LIMIT 2"
        ).rows
    ]
    sql = (
        f"SELECT hyperparameterTuningJobsId FROM {G} WHERE {where} "
        f"AND hyperparameterTuningJobsId IN ('{ids[0]}', '{ids[1]}') AND pageSize = 5"
    )
    assert sorted(session.execute(sql).rows) == sorted((i,) for i in ids)
    session.close()


def test_leaving_out_bound_predicates_never_changes_results(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound-param predicates that the SQL DuckDB runs leaves out (``plan.implied``) were
    true of every row: each query returns the same rows as with all of them re-checked,
    outer joins and predicates that bind a param twice included."""
    from stackql_tuning.run import select

    fresh_sandbox.aws.configure(frozen=True)
    speed = fresh_sandbox.google.clock.speed
    fresh_sandbox.google.clock.set_speed(0.0)
    one = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    job = "HyperParameterTuningJobName"
    queries = [
        f"SELECT projectsId, locationsId, count(*) FROM {G} WHERE {G_WHERE} GROUP BY ALL",
        f"SELECT name, state FROM {G} WHERE ({one}) AND state = 'JOB_STATE_SUCCEEDED'",
        f"SELECT count(*) FROM {G} WHERE {one} AND projectsId = 'ml-research-dev'",
        f"SELECT v.n, j.name FROM (VALUES ('x')) v(n) LEFT JOIN {G} j "
        f"ON j.projectsId = 'ml-research-prod' AND j.locationsId = 'us-central1' "
        "WHERE j.projectsId = 'ml-research-prod'",
        f"SELECT v.n, j.name FROM (VALUES ('x')) v(n) LEFT JOIN {G} j ON j.name = v.n "
        "AND j.projectsId = 'ml-research-prod' AND j.locationsId = 'us-central1'",
        f"SELECT a.name, b.name FROM {G} a JOIN {G} b ON b.projectsId = 'ml-research-dev' "
        "AND b.locationsId = 'us-central1' AND b.state = a.state "
        f"WHERE a.{one.replace(' AND ', ' AND a.')} AND a.state = 'JOB_STATE_FAILED'",
        f"SELECT {job}, region FROM {A} WHERE {A_WHERE}",
        f"SELECT {job}, BestTrainingJob FROM {A} WHERE region = 'us-east-1'",
    ]

    def rows_of_every_query() -> list[list[tuple[object, ...]]]:
        session = Session(**fresh_sandbox.settings())
        try:
            return [session.execute(sql).rows for sql in queries]
        finally:
            session.close()

    try:
        name = rows_of_every_query()[-1][0][0]
        queries.append(
            f"SELECT {job}, region FROM {A} WHERE region = 'us-east-1' AND {job} = '{name}'"
        )
        left_out = rows_of_every_query()
        monkeypatch.setattr(select, "leave_out_implied", lambda plan: 0)
        kept = rows_of_every_query()
    finally:
        fresh_sandbox.google.clock.set_speed(speed)
    for sql, a, b in zip(queries, left_out, kept, strict=True):
        assert sorted(map(repr, a)) == sorted(map(repr, b)), sql
    assert sum(1 for rows in kept if rows) >= len(queries) - 1  # not all empty
    assert left_out[2] == [(0,)]  # two projects bound at once: no row is both


def test_loading_only_the_fields_read_never_changes_results(fresh_sandbox: Sandbox) -> None:
    """Each query returns the same rows whether every field of the replies is loaded or only
    those it reads; the forms that read a whole row (``*``, ``j.*``, ``to_json(j)``,
    ``COLUMNS(...)``, ``#n``) load everything."""
    fresh_sandbox.aws.configure(frozen=True)  # the fixture lets the clocks run again
    speed = fresh_sandbox.google.clock.speed
    fresh_sandbox.google.clock.set_speed(0.0)
    on = Session(**fresh_sandbox.settings())
    off = Session(**fresh_sandbox.settings(), projection=False)
    # the loader's projection alone, every reply whole (no partial response)
    whole = Session(**fresh_sandbox.settings(), partial_response=False)
    g_one = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    queries = [
        f"SELECT count(*) FROM {G} WHERE {G_WHERE}",
        f"SELECT projectsId, locationsId, count(*) FROM {G} WHERE {G_WHERE} GROUP BY ALL",
        f"SELECT * FROM {G} WHERE {g_one}",
        f"SELECT j.* FROM {G} AS j WHERE {g_one}",
        f"SELECT to_json(j) FROM {G} AS j WHERE {g_one}",
        f"SELECT COLUMNS('.*Time') FROM {G} WHERE {g_one}",
        f"SELECT #2, #3 FROM {G} WHERE {g_one}",
        f"SELECT * EXCLUDE (studySpec) FROM {G} WHERE {g_one}",
        f"SELECT displayName, json_extract_string(studySpec, '$.algorithm') FROM {G} "
        f"WHERE {G_WHERE} AND state = 'JOB_STATE_SUCCEEDED'",
        f"WITH x AS (SELECT * FROM {G} WHERE {g_one}) SELECT name, createTime FROM x",
        f"SELECT name, (SELECT max(createTime) FROM {G} WHERE {g_one}) FROM {G} WHERE {g_one}",
        f"SELECT a.HyperParameterTuningJobName, a.CreationTime, a.region FROM {A} AS a "
        f"WHERE a.{A_WHERE}",
        f"SELECT HyperParameterTuningJobName, AwsAccountId FROM {A} WHERE {A_WHERE}",
        f"SELECT * FROM {A} WHERE region = 'us-east-1'",
        f"SELECT HyperParameterTuningJobName, BestTrainingJob FROM {A} WHERE region = 'us-east-1'",
        f"SELECT provider, name, status FROM unified.tuning.jobs WHERE {G_WHERE} AND {A_WHERE}",
        f"SELECT * FROM unified.tuning.jobs WHERE {G_WHERE} AND {A_WHERE}",
        f"SELECT displayName, trials FROM {G} WHERE {g_one}",
        f"SELECT j.name, json_extract_string(j.trials, '$[0].id') FROM {G} j WHERE j.{g_one}",
        # a struct field reads its column (sqlglot parses the column as a table name)
        f"SELECT name, studySpec.metrics, j.studySpec.algorithm FROM {G} AS j WHERE {g_one}",
        f"SELECT HyperParameterTuningJobName, BestTrainingJob.TrainingJobName FROM {A} "
        "WHERE region = 'us-east-1'",
    ]
    try:
        for sql in queries:
            loaded_all = sorted(map(repr, off.execute(sql).rows))
            assert loaded_all, sql
            assert sorted(map(repr, on.execute(sql).rows)) == loaded_all, sql
            assert sorted(map(repr, whole.execute(sql).rows)) == loaded_all, sql
        # the replies were cut to what the query reads: a hydrating list asks for the names
        # only, each get for the fields the query reads (and the name)
        fresh_sandbox.google.reset_log()
        on.execute(f"SELECT displayName, trials FROM {G} WHERE {g_one}")
        sent = fresh_sandbox.google.requests()
        lists = [r["query"] for r in sent if r.get("action") == "list"]
        gets = [r["query"] for r in sent if r.get("action") == "get"]
        assert lists and gets
        assert {q.get("fields") for q in lists} == {"hyperparameterTuningJobs(name),nextPageToken"}
        assert {q.get("fields") for q in gets} == {"name,displayName,trials"}
        fresh_sandbox.google.reset_log()
        off.execute(f"SELECT displayName FROM {G} WHERE {g_one}")
        whole.execute(f"SELECT displayName FROM {G} WHERE {g_one}")
        whole.execute(f"SELECT displayName, trials FROM {G} WHERE {g_one}")  # hydrating too
        assert all("fields" not in r["query"] for r in fresh_sandbox.google.requests())
    finally:
        fresh_sandbox.google.clock.set_speed(speed)
        on.close()
        off.close()
        whole.close()


_LIMIT_JOB = {
    "displayName": "limit",
    "studySpec": {
        "metrics": [{"metricId": "auc", "goal": "MAXIMIZE"}],
        "parameters": [
            {"parameterId": "lr", "doubleValueSpec": {"minValue": 0.001, "maxValue": 0.1}}
        ],
    },
    "maxTrialCount": 4,
    "parallelTrialCount": 1,
    "trialJobSpec": {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": "1",
                "containerSpec": {"imageUri": "gcr.io/p/t:1"},
            }
        ]
    },
}


def test_early_limit_makes_one_list_call(fresh_sandbox: Sandbox) -> None:
    parent = "projects/perf-limit/locations/us-central1"
    if not fresh_sandbox.google.store.jobs(HPT, parent):
        fresh_sandbox.google.store.insert_many(
            HPT, parent, 5000, _LIMIT_JOB, state="JOB_STATE_SUCCEEDED"
        )
    session = Session(**fresh_sandbox.settings())
    sql = (
        f"SELECT displayName, state FROM {G} "
        "WHERE projectsId = 'perf-limit' AND locationsId = 'us-central1' LIMIT 10"
    )
    fresh_sandbox.google.reset_log()
    rows = session.execute(sql).rows
    lists = [r for r in fresh_sandbox.google.requests() if r.get("action") == "list"]
    assert len(rows) == 10
    assert len(lists) == 1
    # a LIMIT of a subquery, a CTE or a view's branch over the one table: one list too
    where = "projectsId = 'perf-limit' AND locationsId = 'us-central1'"
    for nested, answer in [
        (f"SELECT count(*) FROM (SELECT displayName FROM {G} WHERE {where} LIMIT 10)", [(10,)]),
        (
            f"WITH few AS (SELECT state FROM {G} WHERE {where} LIMIT 10) "
            "SELECT state, count(*) FROM few GROUP BY 1",
            [("JOB_STATE_SUCCEEDED", 10)],
        ),
        (
            f"SELECT count(*) FROM (SELECT name FROM {UNIFIED} WHERE {where} "
            "AND kind = 'hyperparameter' LIMIT 10)",
            [(10,)],
        ),
    ]:
        fresh_sandbox.google.reset_log()
        assert session.execute(nested).rows == answer, nested
        lists = [r for r in fresh_sandbox.google.requests() if r.get("action") == "list"]
        assert len(lists) == 1, nested
    # both Google branches of the unified view in one stage, each with its own LIMIT: one
    # list of the 5,000 jobs (it read all 50 pages), one of the location's tuning jobs
    fresh_sandbox.google.reset_log()
    rows = session.execute(f"SELECT name, kind FROM {UNIFIED} WHERE {where} LIMIT 10").rows
    assert len(rows) == 10
    lists = Counter(r["path"] for r in fresh_sandbox.google.requests() if r.get("action") == "list")
    assert sorted(lists.values()) == [1, 1], lists
    # without LIMIT (or with ORDER BY) every page is needed
    fresh_sandbox.google.reset_log()
    ordered = session.execute(sql.replace("LIMIT", "ORDER BY displayName LIMIT")).rows
    assert len(ordered) == 10
    assert len([r for r in fresh_sandbox.google.requests() if r.get("action") == "list"]) > 1
    session.close()


def _limit_where_jobs(sandbox: Sandbox) -> str:
    """1,007 jobs in 11 pages: 1,000 succeeded (limit-000000 ...), then 7 failed (late-...).
    The WHERE that reads them."""
    _still(sandbox)
    parent = "projects/perf-limit-where/locations/us-central1"
    store = sandbox.google.store
    if not store.jobs(HPT, parent):
        store.insert_many(HPT, parent, 1000, _LIMIT_JOB, state="JOB_STATE_SUCCEEDED")
        late = {**_LIMIT_JOB, "displayName": "late"}
        store.insert_many(HPT, parent, 7, late, state="JOB_STATE_FAILED", create_time=0.0)
    return "projectsId = 'perf-limit-where' AND locationsId = 'us-central1'"


def test_a_condition_on_the_clock_reads_it_once_per_statement(fresh_sandbox: Sandbox) -> None:
    """The first page's rows pass the condition until a moment after the statement starts:
    counted as the page arrived, they stopped the fetch, and the query, run later, dropped
    them (fewer rows than the LIMIT, more of them unread). The clock is read once."""
    where = _limit_where_jobs(fresh_sandbox)
    latency = 0.3
    fresh_sandbox.google.configure(latency=latency)
    try:
        with Session(**fresh_sandbox.settings(), pushdown=False, concurrency=1) as session:
            soon = session.execute(f"SELECT now() + INTERVAL ({latency / 2}) SECOND").rows[0][0]
            sql = (
                f"SELECT displayName FROM {G} WHERE {where} AND ((displayName LIKE 'limit-0000%' "
                f"AND get_current_timestamp() < TIMESTAMPTZ '{soon.isoformat()}') OR "
                "displayName LIKE 'late%') LIMIT 3"
            )
            fresh_sandbox.google.reset_log()
            rows = session.execute(sql).rows
            lists = [r for r in fresh_sandbox.google.requests() if r.get("action") == "list"]
        assert len(rows) == 3 and len(lists) == 1
    finally:
        fresh_sandbox.google.configure(latency=0.0)


def test_early_limit_counts_only_the_rows_the_where_keeps(fresh_sandbox: Sandbox) -> None:
    """A LIMIT over one table with conditions on its columns stops paging once that many
    rows that pass them have arrived: one list call when the API filtered (or every row
    passes), and the right rows when it did not (``--no-pushdown``: the first page's rows all
    fail)."""
    where = _limit_where_jobs(fresh_sandbox)
    on = Session(**fresh_sandbox.settings())
    off = Session(**fresh_sandbox.settings(), pushdown=False)

    def lists(session: Session, sql: str) -> tuple[list[tuple[Any, ...]], int]:
        fresh_sandbox.google.reset_log()
        rows = session.execute(sql).rows
        sent = fresh_sandbox.google.requests()
        return rows, len([r for r in sent if r.get("action") == "list"])

    try:
        every, pages = lists(on, f"SELECT displayName FROM {G} WHERE {where}")
        assert len(every) == 1007 and pages > 10
        failed = f"SELECT displayName, state FROM {G} WHERE {where} AND state = 'JOB_STATE_FAILED'"
        done = f"SELECT displayName FROM {G} WHERE {where} AND state = 'JOB_STATE_SUCCEEDED'"
        rows, calls = lists(on, f"{done} LIMIT 5")
        assert len(rows) == 5 and calls == 1  # the API filtered: 10 pages, all needed before
        rows, calls = lists(on, f"{failed} LIMIT 5")
        assert calls == 1  # the API filtered: its first page holds the 7
        assert len(rows) == 5 and {r[1] for r in rows} == {"JOB_STATE_FAILED"}
        rows, calls = lists(off, f"{failed} LIMIT 5")
        # the first page's 100 rows all fail: counted as they came, they stopped the fetch
        # and DuckDB dropped them all (0 rows)
        assert len(rows) == 5 and {r[1] for r in rows} == {"JOB_STATE_FAILED"}
        assert calls <= pages
        # rows a few pages in: the fetch stops at the page that holds the LIMIT's rows
        sql = f"SELECT displayName FROM {G} WHERE {where} AND displayName LIKE 'limit-0003%'"
        rows, calls = lists(off, f"{sql} LIMIT 3")
        assert len(rows) == 3 and all(r[0].startswith("limit-0003") for r in rows)
        assert 1 < calls < pages
        # a condition the API cannot take (a substring), kept by every row: the first page
        rows, calls = lists(
            on, f"SELECT displayName FROM {G} WHERE {where} AND displayName LIKE '%imi%' LIMIT 10"
        )
        assert len(rows) == 10 and calls == 1
        # and by the late rows only: as many pages as their rows need, the same rows as the
        # LIMIT over every row
        sql = f"SELECT displayName FROM {G} WHERE {where} AND displayName LIKE 'la%' LIMIT 7"
        rows, calls = lists(off, sql)
        assert sorted(rows) == sorted(r for r in every if r[0].startswith("la"))
        # a condition DuckDB cannot evaluate on a page stops nothing, and fails as before
        with pytest.raises(QueryError, match="Could not convert string"):
            on.execute(
                f"SELECT name FROM {G} WHERE {where} AND CAST(displayName AS INT) = 1 LIMIT 1"
            )
    finally:
        on.close()
        off.close()


def test_a_limit_over_a_parent_child_join_stops_the_childrens_calls(
    fresh_sandbox: Sandbox,
) -> None:
    """Each training job listed for a tuning job meets that job's row in the join: once LIMIT
    of them (that pass their own conditions) have arrived, the other jobs' lists are not
    needed. One call at a time, so that the count does not depend on timing."""
    _still(fresh_sandbox)
    child = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
    join = (
        f"FROM {A} h JOIN {child} t ON t.HyperParameterTuningJobName = "
        "h.HyperParameterTuningJobName AND t.region = h.region WHERE h.region = 'us-east-1'"
    )
    jobs = len(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])
    with Session(**fresh_sandbox.settings(), concurrency=1) as session:
        for tail in ("", " AND t.TrainingJobStatus = 'Failed'", " AND h.Strategy = 'Bayesian'"):
            sql = f"SELECT h.HyperParameterTuningJobName, t.TrainingJobName {join}{tail}"
            fresh_sandbox.aws.reset_log()
            every = session.execute(sql).rows
            assert _ops(fresh_sandbox)["ListTrainingJobsForHyperParameterTuningJob"] >= 10
            fresh_sandbox.aws.reset_log()
            rows = session.execute(f"{sql} LIMIT 3").rows
            assert len(rows) == 3 and not Counter(rows) - Counter(every), tail
            children = _ops(fresh_sandbox)["ListTrainingJobsForHyperParameterTuningJob"]
            # the lists that hold 3 such rows (2 to 4 here), and the few a worker may have
            # begun before they were counted (its reply waits for the sink): not all 31
            assert children < jobs // 2, tail


def test_a_column_projection_missed_is_loaded_not_refused(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Provider tables hold only the columns a query reads. Should the planner miss one, the
    query binds against every column instead and loads them all: the same rows, no error;
    an unknown column's message still names the table's real columns."""
    sql = f"SELECT name, displayName FROM {G} WHERE {G_WHERE} ORDER BY name"
    with Session(**fresh_sandbox.settings(), projection=False) as s:
        expected = s.execute(sql).rows
    monkeypatch.setattr("stackql_tuning.plan.select.used_columns", lambda tree, ref, refs: {"name"})
    with Session(**fresh_sandbox.settings()) as s:
        assert s.execute(sql).rows == expected
        with pytest.raises(PlanError, match=r"Candidate bindings: .*displayName"):
            s.execute(f"SELECT displayNam FROM {G} WHERE {G_WHERE}")


def test_a_first_statement_starts_its_calls_while_duckdb_starts(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session's first query sends its first calls before DuckDB is ready (when its names are
    sure to bind) and gives the rows a warm session gives; a typo still costs no call, and a
    mistake only DuckDB sees drops the replies and leaves the session working."""
    from stackql_tuning.run.query import QueryRun

    early: list[bool] = []
    begin_early = QueryRun.begin_early

    def spy(self: QueryRun) -> Any:
        started = begin_early(self)
        early.append(started is not None)
        return started

    monkeypatch.setattr(QueryRun, "begin_early", spy)
    # DuckDB's start-up (~30 ms) is still running when a first statement is planned (~5 ms);
    # said here so that a slow plan on a busy machine cannot make it otherwise
    monkeypatch.setattr("stackql_tuning.run.store.started_already", lambda: False)
    sql = f"SELECT name, state, projectsId FROM {G} WHERE {G_WHERE} ORDER BY name"
    first = Session(**fresh_sandbox.settings())
    try:
        rows = first.execute(sql).rows
        assert early == [True] and rows
        assert first.execute(sql).rows == rows  # a warm session: the usual order
        assert early == [True]  # the store was ready: begin_early was not asked
    finally:
        first.close()

    for typo in (
        f"SELECT displayNam FROM {G} WHERE {G_WHERE}",
        f"SELECT lenn(name) FROM {G} WHERE {G_WHERE}",
    ):
        s = Session(**fresh_sandbox.settings())
        fresh_sandbox.google.reset_log()
        with pytest.raises(PlanError):
            s.execute(typo)
        assert fresh_sandbox.google.requests() == []  # a typo costs no call, first or not
        s.close()

    s = Session(**fresh_sandbox.settings())
    try:
        with pytest.raises(PlanError, match=r"sum"):
            s.execute(f"SELECT sum(name) FROM {G} WHERE {G_WHERE}")  # only DuckDB sees it
        assert s.execute(sql).rows == rows
    finally:
        s.close()


def _ops(sandbox: Sandbox) -> Counter[str]:
    return Counter(r["operation"] for r in sandbox.aws.requests())


def test_aws_hydration_is_lazy(fresh_sandbox: Sandbox) -> None:
    session = Session(**fresh_sandbox.settings())
    where = "region = 'us-east-1'"
    jobs = len(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])
    rows = session.execute(
        f"SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus, "
        f"TrainingJobStatusCounters FROM {A} WHERE {where}"
    ).rows
    assert len(rows) == jobs
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == 0
    fresh_sandbox.aws.reset_log()
    rows = session.execute(
        f"SELECT HyperParameterTuningJobName, BestTrainingJob FROM {A} WHERE {where}"
    ).rows
    assert len(rows) == jobs
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == jobs
    session.close()


def test_google_hydration_is_lazy(fresh_sandbox: Sandbox) -> None:
    session = Session(**fresh_sandbox.settings())
    where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    jobs = len(fresh_sandbox.truth["google"]["jobs"]["ml-research-prod"]["us-central1"][HPT])

    def gets() -> int:
        return sum(1 for r in fresh_sandbox.google.requests() if r.get("action") == "get")

    rows = session.execute(f"SELECT name, state, studySpec FROM {G} WHERE {where}").rows
    assert len(rows) == jobs and gets() == 0
    fresh_sandbox.google.reset_log()
    rows = session.execute(f"SELECT name, trials FROM {G} WHERE {where}").rows
    assert len(rows) == jobs and gets() == jobs
    session.close()


def test_hydration_of_a_table_joined_to_local_rows_gets_only_the_joined_jobs(
    fresh_sandbox: Sandbox, tmp_path: Any
) -> None:
    # three names from a file joined to a region's jobs, reading a describe-only column: one
    # describe per name, not a list and a describe of every job of the region (the join
    # drops the rest); a CTE's rows likewise. The rows are those of the list-and-describe
    session = Session(**fresh_sandbox.settings())
    where = "region = 'us-east-1'"
    names = sorted(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])[:3]
    picks = tmp_path / "picks.csv"
    picks.write_text("name\n" + "\n".join([*names, "no-such-job"]) + "\n")
    best = "j.BestTrainingJob ->> 'TrainingJobName'"
    values = ", ".join(f"('{n}')" for n in names)
    everything = {
        r[0]: r[1]
        for r in session.execute(
            f"SELECT j.HyperParameterTuningJobName, {best} FROM {A} j WHERE j.{where}"
        ).rows
    }
    queries = {
        "file": (
            f"SELECT p.name, {best} FROM read_csv('{picks}') p JOIN {A} j "
            f"ON j.HyperParameterTuningJobName = p.name WHERE j.{where}",
            0,
            4,  # and one for the name that is no job: not found, no row
        ),
        "VALUES, two regions": (
            f"SELECT p.name, {best} FROM (VALUES {values}) p(name) "
            f"JOIN {A} j ON j.HyperParameterTuningJobName = p.name "
            "WHERE j.region IN ('us-east-1', 'eu-west-1')",
            0,
            6,
        ),
        "CTE": (
            f"WITH p AS (SELECT HyperParameterTuningJobName AS name FROM {A} WHERE {where} "
            f"ORDER BY 1 LIMIT 3) SELECT p.name, {best} FROM p JOIN {A} j "
            f"ON j.HyperParameterTuningJobName = p.name AND j.{where}",
            1,
            3,
        ),
    }
    for label, (sql, lists, gets) in queries.items():
        fresh_sandbox.aws.reset_log()
        rows = session.execute(sql).rows
        assert sorted(rows) == [(n, everything[n]) for n in names], label
        ops = _ops(fresh_sandbox)
        assert ops["ListHyperParameterTuningJobs"] == lists, label
        assert ops["DescribeHyperParameterTuningJob"] == gets, label
    # the preserved side of a LEFT JOIN is every job of the region: listed, each described
    fresh_sandbox.aws.reset_log()
    sql = (
        f"SELECT count(*), count(p.name) FROM {A} j LEFT JOIN read_csv('{picks}') p "
        f"ON j.HyperParameterTuningJobName = p.name WHERE j.{where} AND {best} IS NOT NULL"
    )
    assert session.execute(sql).rows == [(sum(1 for v in everything.values() if v), 3)]
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == len(everything)
    session.close()


def test_in_a_subquery_over_local_rows_binds_as_a_join(
    fresh_sandbox: Sandbox, tmp_path: Any
) -> None:
    # `name IN (SELECT ...)` over a file, a CTE or VALUES makes the calls the same join makes:
    # a describe per name (not a list and a describe of every job), a list per region (it
    # was a plan error), the training jobs of the named jobs only; rows as the plain plan's
    session = Session(**fresh_sandbox.settings())
    names = sorted(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])[:3]
    picks = tmp_path / "picks.csv"
    picks.write_text("name\n" + "\n".join([*names, "no-such-job", ""]) + "\n")
    best = "BestTrainingJob ->> 'TrainingJobName'"
    everything = dict(
        session.execute(
            f"SELECT HyperParameterTuningJobName, {best} FROM {A} WHERE region = 'us-east-1'"
        ).rows
    )
    cases = {
        "file": (f"(SELECT name FROM read_csv('{picks}'))", ""),
        "CTE": ("(SELECT name FROM p)", f"WITH p AS (SELECT * FROM read_csv('{picks}')) "),
    }
    for label, (subquery, with_) in cases.items():
        fresh_sandbox.aws.reset_log()
        sql = (
            f"{with_}SELECT HyperParameterTuningJobName, {best} FROM {A} "
            f"WHERE region = 'us-east-1' AND HyperParameterTuningJobName IN {subquery}"
        )
        assert sorted(session.execute(sql).rows) == [(n, everything[n]) for n in names], label
        ops = _ops(fresh_sandbox)  # and one for the name that is no job; none for the NULL
        assert (ops["ListHyperParameterTuningJobs"], ops["DescribeHyperParameterTuningJob"]) == (
            0,
            4,
        ), label
    # SELECT * gives the table's columns alone, as with the literal list
    literal = ", ".join(f"'{n}'" for n in names)
    star = f"SELECT * FROM {A} WHERE region = 'us-east-1' AND HyperParameterTuningJobName IN "
    from_file = cases["file"][0]
    assert (
        session.execute(star + from_file).columns == session.execute(star + f"({literal})").columns
    )

    # a region list from the statement's rows binds the fan-out (it was a plan error)
    fresh_sandbox.aws.reset_log()
    sql = (
        f"SELECT region, count(*) FROM {A} WHERE region IN "
        "(SELECT r FROM (VALUES ('us-east-1'), ('eu-west-1'), (NULL)) v(r)) GROUP BY 1 ORDER BY 1"
    )
    by_literal = sql.replace(
        "(SELECT r FROM (VALUES ('us-east-1'), ('eu-west-1'), (NULL)) v(r))",
        "('us-east-1', 'eu-west-1')",
    )
    assert session.execute(sql).rows == session.execute(by_literal).rows
    assert _ops(fresh_sandbox)["ListHyperParameterTuningJobs"] == 4  # 2 + 2 for by_literal

    # the named jobs' training jobs: one child list per name, not one per job of the region
    fresh_sandbox.aws.reset_log()
    children = (
        f"SELECT j.HyperParameterTuningJobName, count(*) FROM {A} j "
        "JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs t "
        "ON t.HyperParameterTuningJobName = j.HyperParameterTuningJobName AND t.region = j.region "
        f"WHERE j.region = 'us-east-1' AND j.HyperParameterTuningJobName IN {from_file} "
        "GROUP BY 1 ORDER BY 1"
    )
    rows = session.execute(children).rows
    assert [r[0] for r in rows] == names
    assert _ops(fresh_sandbox)["ListTrainingJobsForHyperParameterTuningJob"] == len(names)

    # not a binding: a correlated subquery, NOT IN, an OR, a sampled table (listed, all got)
    for sql in [
        f"SELECT HyperParameterTuningJobName, {best} FROM {A} j WHERE region = 'us-east-1' "
        f"AND HyperParameterTuningJobName IN (SELECT name FROM read_csv('{picks}') "
        "WHERE name LIKE j.region || '%' OR true)",
        f"SELECT HyperParameterTuningJobName, {best} FROM {A} WHERE region = 'us-east-1' "
        f"AND (HyperParameterTuningJobName IN (SELECT name FROM read_csv('{picks}')) OR false)",
    ]:
        fresh_sandbox.aws.reset_log()
        assert sorted(session.execute(sql).rows) == [(n, everything[n]) for n in names]
        assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == len(everything)
    session.close()


def test_an_in_subquery_over_a_provider_table_binds_as_a_join(fresh_sandbox: Sandbox) -> None:
    # the training jobs of the region's running jobs, by IN (SELECT ... FROM the jobs table),
    # were a plan error; now the child lists of those jobs only, as the join makes, with its
    # rows. Directly, through a view or a CTE, with the subquery's own ORDER BY ... LIMIT
    fresh_sandbox.aws.configure(frozen=True)
    session = Session(**fresh_sandbox.settings())
    child = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
    name = "HyperParameterTuningJobName"
    running = (
        f"SELECT {name} FROM {A} WHERE region = 'us-east-1' "
        "AND HyperParameterTuningJobStatus = 'InProgress'"
    )
    n_running = len(session.execute(running).rows)
    assert n_running > 1
    joined = sorted(
        session.execute(
            f"SELECT t.TrainingJobName, t.TrainingJobStatus FROM {child} t JOIN ({running}) j "
            f"ON t.{name} = j.{name} WHERE t.region = 'us-east-1'"
        ).rows
    )
    select = f"SELECT TrainingJobName, TrainingJobStatus FROM {child} WHERE region = 'us-east-1' "
    for label, sql in {
        "table": f"{select}AND {name} IN ({running})",
        "view": f"{select}AND {name} IN (SELECT TuningJobName FROM aws.sagemaker.tuning_jobs "
        "WHERE region = 'us-east-1' AND TuningJobStatus = 'InProgress')",
        "CTE": f"WITH r AS ({running}) {select}AND {name} IN (SELECT {name} FROM r)",
    }.items():
        fresh_sandbox.aws.reset_log()
        assert sorted(session.execute(sql).rows) == joined, label
        ops = _ops(fresh_sandbox)
        assert ops["ListHyperParameterTuningJobs"] == 1, label
        assert ops["ListTrainingJobsForHyperParameterTuningJob"] == n_running, label
    fresh_sandbox.aws.reset_log()
    latest = f"SELECT {name} FROM {A} WHERE region = 'us-east-1' ORDER BY CreationTime DESC LIMIT 2"
    rows = session.execute(
        f"SELECT DISTINCT {name} FROM {child} WHERE region = 'us-east-1' AND {name} IN ({latest})"
    ).rows
    assert sorted(rows) == sorted(session.execute(latest).rows)
    assert _ops(fresh_sandbox)["ListTrainingJobsForHyperParameterTuningJob"] == 2

    # the same table: a describe of the Bayesian jobs only (was one of every job)
    best = "BestTrainingJob ->> 'TrainingJobName'"
    everything = dict(
        session.execute(f"SELECT {name}, {best} FROM {A} WHERE region = 'us-east-1'").rows
    )
    bayesian = f"SELECT {name} FROM {A} WHERE region = 'us-east-1' AND Strategy = 'Bayesian'"
    names = sorted(r[0] for r in session.execute(bayesian).rows)
    assert 0 < len(names) < len(everything)
    fresh_sandbox.aws.reset_log()
    sql = f"SELECT {name}, {best} FROM {A} WHERE region = 'us-east-1' AND {name} IN ({bayesian})"
    assert sorted(session.execute(sql).rows) == [(n, everything[n]) for n in names]
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == len(names)
    # a tuple binds its params as pairs: the Hyperband jobs of two regions, a describe each
    regions = "region IN ('us-east-1', 'eu-west-1')"
    hyperband = f"SELECT {name}, region FROM {A} WHERE {regions} AND Strategy = 'Hyperband'"
    pairs = session.execute(hyperband).rows
    plain = f"SELECT {name}, region, {best} FROM {A} WHERE {regions}"
    expected = sorted(r for r in session.execute(plain).rows if (r[0], r[1]) in set(pairs))
    fresh_sandbox.aws.reset_log()
    sql = f"SELECT {name}, region, {best} FROM {A} WHERE ({name}, region) IN ({hyperband})"
    assert sorted(session.execute(sql).rows) == expected and expected
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == len(pairs)
    # correlated: no binding, the rows as before (a list and a describe of every job)
    fresh_sandbox.aws.reset_log()
    sql = (
        f"SELECT {name}, {best} FROM {A} j WHERE region = 'us-east-1' AND {name} IN "
        f"(SELECT {name} FROM {A} WHERE region = 'us-east-1' AND j.Strategy = 'Bayesian')"
    )
    assert sorted(session.execute(sql).rows) == [(n, everything[n]) for n in names]
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == len(everything)
    session.close()


def test_a_view_param_in_a_subquery_binds_the_views_calls(fresh_sandbox: Sandbox) -> None:
    # the trials of the running jobs: the gets of those jobs, not of every job of the
    # location; the same rows as the join; a correlated one binds nothing (rows unchanged)
    fresh_sandbox.google.clock.set_speed(0.0)
    session = Session(**fresh_sandbox.settings())
    where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    trials = "google.aiplatform.hyperparameter_tuning_job_trials"
    running = (
        f"SELECT hyperparameterTuningJobsId FROM {G} WHERE {where} AND state = 'JOB_STATE_RUNNING'"
    )
    n_running = len(session.execute(running).rows)
    jobs = len(fresh_sandbox.truth["google"]["jobs"]["ml-research-prod"]["us-central1"][HPT])
    assert 0 < n_running < jobs

    def gets() -> int:
        return sum(1 for r in fresh_sandbox.google.requests() if r.get("action") == "get")

    columns = "job_name, trial_id, state, metric_value, is_best"
    on = "t.hyperparameterTuningJobsId = r.hyperparameterTuningJobsId"
    joined = sorted(
        session.execute(
            f"SELECT {columns} FROM {trials} t JOIN ({running}) r ON {on} "
            "WHERE t.projectsId = 'ml-research-prod' AND t.locationsId = 'us-central1'"
        ).rows
    )
    fresh_sandbox.google.reset_log()
    sql = f"SELECT {columns} FROM {trials} WHERE {where} AND hyperparameterTuningJobsId IN "
    assert sorted(session.execute(f"{sql}({running})").rows) == joined and joined
    assert gets() == n_running
    fresh_sandbox.google.reset_log()
    correlated = (
        f"{sql}(SELECT hyperparameterTuningJobsId FROM {G} g WHERE g.projectsId = "
        "'ml-research-prod' AND g.locationsId = 'us-central1' AND g.state = job_state)"
    )
    assert sorted(session.execute(correlated).rows) == sorted(
        session.execute(f"SELECT {columns} FROM {trials} WHERE {where}").rows
    )
    assert gets() == 2 * jobs
    # the same by a join to the jobs table: the view is asked for the jobs the table's own
    # conditions keep (it got every job of the location, 37 gets where 5 do)
    fresh_sandbox.google.reset_log()
    on = (
        "t.hyperparameterTuningJobsId = g.hyperparameterTuningJobsId "
        "AND t.projectsId = g.projectsId AND t.locationsId = g.locationsId"
    )
    joined_sql = (
        f"SELECT t.job_name, t.trial_id, t.state, t.metric_value, t.is_best FROM {G} g "
        f"JOIN {trials} t ON {on} WHERE g.projectsId = 'ml-research-prod' "
        "AND g.locationsId = 'us-central1' AND g.state = 'JOB_STATE_RUNNING'"
    )
    assert sorted(session.execute(joined_sql).rows) == joined
    assert gets() == n_running
    # the tuning jobs view by names from a file's rows: a describe per name
    aws_names = sorted(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])[:2]
    values = ", ".join(f"('{n}')" for n in aws_names)
    fresh_sandbox.aws.reset_log()
    sql = (
        "SELECT TuningJobName, BestTrainingJob FROM aws.sagemaker.tuning_jobs WHERE region = "
        f"'us-east-1' AND TuningJobName IN (SELECT n FROM (VALUES {values}) v(n))"
    )
    assert sorted(r[0] for r in session.execute(sql).rows) == aws_names
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == 2
    session.close()


def test_a_view_joined_to_local_rows_is_asked_for_their_values(fresh_sandbox: Sandbox) -> None:
    # names from VALUES joined to the tuning jobs view: a describe per name (a list and a
    # describe of each of the region's jobs before); job ids with their project and
    # location joined to the trials view: it was a plan error. The rows are those of the
    # view read in a subquery, which the join does not reach
    _still(fresh_sandbox)
    session = Session(**fresh_sandbox.settings())
    names = sorted(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])[:3]
    values = ", ".join(f"('{n}')" for n in [*names, "no-such-job"])
    view = "aws.sagemaker.tuning_jobs"
    select = (
        f"SELECT p.name, v.BestTrainingJob ->> 'TrainingJobName' FROM (VALUES {values}) p(name) "
        "JOIN {} v ON v.TuningJobName = p.name WHERE v.region = 'us-east-1'"
    )
    fresh_sandbox.aws.reset_log()
    rows = sorted(session.execute(select.format(view)).rows)
    ops = _ops(fresh_sandbox)
    assert (ops["ListHyperParameterTuningJobs"], ops["DescribeHyperParameterTuningJob"]) == (0, 4)
    unreached = f"(SELECT * FROM {view} WHERE region = 'us-east-1')"
    assert [r[0] for r in rows] == names
    assert rows == sorted(session.execute(select.format(unreached)).rows)

    where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    ids = [
        r[0]
        for r in session.execute(
            f"SELECT hyperparameterTuningJobsId FROM {G} WHERE {where} ORDER BY 1 LIMIT 2"
        ).rows
    ]
    picks = ", ".join(f"('ml-research-prod', 'us-central1', '{i}')" for i in ids)
    trials = "google.aiplatform.hyperparameter_tuning_job_trials"
    select = (
        f"SELECT g.id, count(*), sum(t.is_best::int) FROM (VALUES {picks}) g(proj, loc, id) "
        "JOIN {} t ON t.hyperparameterTuningJobsId = g.id AND t.projectsId = g.proj "
        "AND t.locationsId = g.loc GROUP BY 1 ORDER BY 1"
    )
    fresh_sandbox.google.reset_log()
    rows = session.execute(select.format(trials)).rows
    assert [r[0] for r in rows] == ids and all(r[2] <= 1 for r in rows)
    gets = [r for r in fresh_sandbox.google.requests() if r.get("action") == "get"]
    assert len(gets) == len(ids) and not any(
        r.get("action") == "list" for r in fresh_sandbox.google.requests()
    )
    unreached = f"(SELECT * FROM {trials} WHERE {where})"
    assert rows == session.execute(select.format(unreached)).rows
    session.close()


def test_an_in_subquery_binds_only_where_its_calls_read_the_rows_the_in_compares(
    fresh_sandbox: Sandbox,
) -> None:
    # the subquery's values become calls only when they are the values the IN compares: the
    # CTE DuckDB reads (not a later or an inner one of the same name), text compared as the
    # API does (no collation), rows the same at each read (no view, macro or sequence); the
    # rows are those of the plain plan (which the forms left alone make: a list, a describe
    # of every job). A parent so got still pairs with its child table (it was a cycle error)
    fresh_sandbox.aws.configure(frozen=True)
    session = Session(**fresh_sandbox.settings())
    names = sorted(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])
    first, second = names[0], names[1]
    best = "BestTrainingJob ->> 'TrainingJobName'"
    select = f"SELECT HyperParameterTuningJobName, {best} FROM {A} WHERE region = 'us-east-1' "
    everything = dict(session.execute(select).rows)
    session.execute(f"CREATE TABLE d AS SELECT '{second}' AS name")
    session.execute(f"CREATE TABLE upper_picks AS SELECT upper('{first}') AS name")
    session.execute("CREATE VIEW picks_view AS SELECT * FROM d")
    session.execute("CREATE SEQUENCE seq")
    cases = [
        # the inner picks reads the outer one; the later sibling d is not the table d
        (
            f"WITH picks AS (SELECT '{first}' AS name) SELECT * FROM (WITH picks AS "
            f"(SELECT name FROM picks) {select}AND HyperParameterTuningJobName IN "
            "(SELECT name FROM picks)) z",
            [first],
            31,  # two CTEs of one name: not one WITH's rows, so not a binding
        ),
        (
            f"WITH c AS ({select}AND HyperParameterTuningJobName IN (SELECT name FROM d)), "
            f"d AS (SELECT '{first}' AS name) SELECT * FROM c",
            [second],
            1,
        ),
        (f"{select}AND HyperParameterTuningJobName IN (SELECT name FROM picks_view)", [second], 31),
        (
            f"{select}AND HyperParameterTuningJobName IN "
            "(SELECT name FROM (SELECT name, nextval('seq') AS k FROM d) WHERE k > 0)",
            [second],
            31,
        ),
        (
            f"{select}AND HyperParameterTuningJobName IN "
            "(SELECT name COLLATE nocase FROM upper_picks)",
            [first],
            31,
        ),
    ]
    jobs = len(everything)
    for sql, expected, describes in cases:
        fresh_sandbox.aws.reset_log()
        rows = session.execute(sql).rows
        assert sorted(rows) == [(n, everything[n]) for n in expected], sql
        assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == min(describes, jobs), sql
    session.execute("SET default_collation = 'nocase'")
    try:
        sql = f"{select}AND HyperParameterTuningJobName IN (SELECT name FROM upper_picks)"
        assert session.execute(sql).rows == [(first, everything[first])]
    finally:
        session.execute("SET default_collation = 'binary'")
    parent_child = (
        f"SELECT j.HyperParameterTuningJobName, j.{best}, count(*) FROM {A} j "
        "JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs t "
        "ON t.HyperParameterTuningJobName = j.HyperParameterTuningJobName AND t.region = j.region "
        "WHERE j.region = 'us-east-1' AND j.HyperParameterTuningJobName IN (SELECT name FROM d) "
        "GROUP BY ALL"
    )
    [(name, trained, count)] = session.execute(parent_child).rows
    assert (name, trained) == (second, everything[second]) and count > 0
    session.close()


def test_a_name_read_from_rows_that_no_resource_can_have_gives_no_row(
    fresh_sandbox: Sandbox,
) -> None:
    # '' as a SageMaker name, 'x/y' as a Vertex id: joined or IN (SELECT ...), they name no
    # job (no call, no row, a warning) as in DuckDB's own join; they failed the statement.
    # The same value written as a literal, or a bad region from rows, still fails it
    session = Session(**fresh_sandbox.settings())
    name = sorted(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])[0]
    best = "BestTrainingJob ->> 'TrainingJobName'"
    queries = [
        f"SELECT j.HyperParameterTuningJobName FROM (VALUES (''), ('{name}')) v(n) "
        f"JOIN {A} j ON j.HyperParameterTuningJobName = v.n WHERE j.region = 'us-east-1' "
        f"AND j.{best} IS NOT NULL",
        f"SELECT HyperParameterTuningJobName FROM {A} WHERE region = 'us-east-1' AND {best} "
        f"IS NOT NULL AND HyperParameterTuningJobName IN (SELECT '' UNION ALL SELECT '{name}')",
        "SELECT t.HyperParameterTuningJobName FROM (VALUES (''), ('{name}')) v(n) "
        "JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs t "
        "ON t.HyperParameterTuningJobName = v.n AND t.region = 'us-east-1' LIMIT 1".replace(
            "{name}", name
        ),
    ]
    for sql in queries:
        result = session.execute(sql)
        assert result.rows == [(name,)], sql
        assert any("('')" in w and "no row" in w for w in result.warnings), sql
    result = session.execute(
        f"SELECT name FROM {G} WHERE projectsId = 'ml-research-prod' AND locationsId = "
        "'us-central1' AND len(trials) > 0 AND hyperparameterTuningJobsId IN (SELECT 'x/y')"
    )
    assert result.rows == [] and any("'x/y'" in w for w in result.warnings)
    # a name read as a number is the text DuckDB compares: sent as '5', no job, no row
    fresh_sandbox.aws.reset_log()
    sql = (
        f"SELECT j.HyperParameterTuningJobName FROM (VALUES (5)) v(n) JOIN {A} j "
        f"ON j.HyperParameterTuningJobName = v.n WHERE j.region = 'us-east-1' AND j.{best} > ''"
    )
    assert session.execute(sql).rows == []
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == 1
    for sql in [
        f"SELECT count(*) FROM {A} WHERE region = 'us-east-1' AND HyperParameterTuningJobName = ''",
        f"SELECT count(*) FROM {A} WHERE region IN (SELECT 'mars-1')",
        # a project is where the call goes, not a name without a job
        f"SELECT count(*) FROM (VALUES (''), ('ml-research-prod')) v(p) JOIN {G} j "
        "ON j.projectsId = v.p WHERE j.locationsId = 'us-central1'",
    ]:
        with pytest.raises(PlanError):
            session.execute(sql)
    session.close()


def test_hydration_gets_only_the_rows_the_conditions_and_limit_keep(
    sessions: tuple[Session, Session], fresh_sandbox: Sandbox
) -> None:
    # a condition on the list's own columns, or ORDER BY ... LIMIT over the table alone, picks
    # the rows to get before they are got: a describe per row the answer can hold, not per
    # job of the region. The rows are those of pushdown off (every listed row got)
    _still(fresh_sandbox)
    on, off = sessions
    best = "BestTrainingJob ->> 'TrainingJobName'"
    where = "region = 'us-east-1'"
    listed = {
        name: (status, strategy, created)
        for name, status, strategy, created in off.execute(
            "SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus, Strategy, "
            f"CreationTime FROM {A} WHERE {where}"
        ).rows
    }
    g_where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    cases = {
        f"SELECT HyperParameterTuningJobName, {best} FROM {A} WHERE {where} "
        "AND Strategy = 'Bayesian'": sum(1 for v in listed.values() if v[1] == "Bayesian"),
        f"SELECT HyperParameterTuningJobName, {best} FROM {A} WHERE {where} "
        "AND HyperParameterTuningJobStatus IN ('Failed', 'Stopped')": sum(
            1 for v in listed.values() if v[0] in ("Failed", "Stopped")
        ),
        f"SELECT HyperParameterTuningJobName, {best} FROM {A} j WHERE j.{where} "
        "ORDER BY j.CreationTime DESC, j.HyperParameterTuningJobName LIMIT 3": 3,
        f"SELECT HyperParameterTuningJobName, {best} FROM {A} WHERE {where} LIMIT 2 OFFSET 1": 3,
        f"SELECT name, len(trials) FROM {G} WHERE {g_where} ORDER BY createTime, name LIMIT 2": 2,
    }
    for sql, gets in cases.items():
        fresh_sandbox.aws.reset_log()
        fresh_sandbox.google.reset_log()
        rows = on.execute(sql).rows
        made = _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] + sum(
            1 for r in fresh_sandbox.google.requests() if r.get("action") == "get"
        )
        assert made == gets, sql
        if "LIMIT 2 OFFSET 1" in sql:  # any two rows: each is a job, with its best
            whole = dict(off.execute(sql.split(" LIMIT")[0]).rows)
            assert len(rows) == 2 and all(whole[name] == b for name, b in rows), sql
        else:
            assert (
                rows == off.execute(sql).rows
                if "ORDER" in sql
                else sorted(rows) == sorted(off.execute(sql).rows)
            ), sql
    # a condition on a column only the get returns, or a sort by one, gets every row
    for sql in (
        f"SELECT HyperParameterTuningJobName FROM {A} WHERE {where} AND {best} IS NOT NULL",
        f"SELECT HyperParameterTuningJobName, {best} AS b FROM {A} WHERE {where} "
        "ORDER BY b LIMIT 2",
    ):
        fresh_sandbox.aws.reset_log()
        assert sorted(on.execute(sql).rows) == sorted(off.execute(sql).rows), sql
        fresh_sandbox.aws.reset_log()
        on.execute(sql)
        assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == len(listed), sql


def test_conditions_on_a_view_filter_before_its_gets(
    sessions: tuple[Session, Session], fresh_sandbox: Sandbox
) -> None:
    # a view's own columns, filtered outside it, filter inside it too: the API and the
    # rows-first filter see them, and only the kept jobs are got. The rows are pushdown off's
    _still(fresh_sandbox)
    on, off = sessions
    g_where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    queries = [
        "SELECT TuningJobName, BestTrainingJob ->> 'TrainingJobName' "
        "FROM aws.sagemaker.tuning_jobs WHERE region = 'us-east-1' AND Strategy = 'Bayesian'",
        f"SELECT name, best_objective_value FROM {UNIFIED} WHERE {g_where} "
        "AND region = 'us-east-1' AND status = 'SUCCEEDED'",
    ]
    jobs = len(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])
    for sql in queries:
        fresh_sandbox.aws.reset_log()
        rows = on.execute(sql).rows
        assert 0 < _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] < jobs, sql
        assert sorted(map(repr, rows)) == sorted(map(repr, off.execute(sql).rows)), sql


def test_a_job_condition_on_the_trials_view_gets_only_those_jobs(
    sessions: tuple[Session, Session], fresh_sandbox: Sandbox
) -> None:
    # the trials view ranks each job's trials (is_best, a window partitioned by the job's
    # name): a condition on the job's own columns keeps or drops all of a job's trials, so it
    # flows in, and only the jobs it keeps are got. Rows as with the condition one level up
    # (out of the view's reach); a condition on a trial's columns still gets every job
    fresh_sandbox.google.clock.set_speed(0)
    on, _ = sessions
    trials = "google.aiplatform.hyperparameter_tuning_job_trials"
    where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    columns = "job_name, trial_id, metric_value, is_best"
    jobs = on.execute(f"SELECT state, count(*) FROM {G} WHERE {where} GROUP BY 1").rows
    per_state = dict(jobs)
    for condition, gets in [
        ("job_state = 'JOB_STATE_RUNNING'", per_state["JOB_STATE_RUNNING"]),
        ("job_state = 'JOB_STATE_SUCCEEDED' AND is_best", per_state["JOB_STATE_SUCCEEDED"]),
        ("state = 'SUCCEEDED'", sum(per_state.values())),
    ]:
        fresh_sandbox.google.reset_log()
        rows = on.execute(f"SELECT {columns} FROM {trials} WHERE {where} AND {condition}").rows
        got = sum(1 for e in fresh_sandbox.google.requests() if e.get("action") == "get")
        assert got == gets, condition
        oracle = f"SELECT {columns} FROM (SELECT * FROM {trials} WHERE {where}) WHERE {condition}"
        assert sorted(map(repr, rows)) == sorted(map(repr, on.execute(oracle).rows)), condition
        assert rows


def test_an_order_by_limit_over_a_view_or_subquery_gets_only_its_first_rows(
    sessions: tuple[Session, Session], fresh_sandbox: Sandbox
) -> None:
    # ORDER BY ... LIMIT of a query over a view flows into the view's branches, and a subquery
    # or CTE over one table with its own ORDER BY ... LIMIT picks its rows before the gets:
    # a describe (or get) per row it can return, not one per job. The rows are those of the
    # same query with the ORDER BY ... LIMIT one level up (which keeps them out of the view)
    _still(fresh_sandbox)
    on, _ = sessions
    g_where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    best = "BestTrainingJob ->> 'TrainingJobName'"
    tuning = "aws.sagemaker.tuning_jobs"
    cases = [
        (
            f"TuningJobName, {best}",
            f"{tuning} WHERE region = 'us-east-1'",
            "ORDER BY TuningJobStartTime DESC LIMIT 3",
            (3, 0),
        ),
        (
            f"TuningJobName, {best}",
            f"{tuning} WHERE region IN ('us-east-1', 'eu-west-1') "
            "AND TuningJobStatus = 'Completed'",
            "ORDER BY TuningJobStartTime DESC, TuningJobName LIMIT 2 OFFSET 1",
            (3, 0),
        ),
        (
            "provider, name, best_objective_value",
            f"{UNIFIED} WHERE {g_where} AND region = 'us-east-1'",
            "ORDER BY create_time DESC, name LIMIT 4",
            (4, 4),
        ),
        (
            "HyperParameterTuningJobName, BestTrainingJob",
            f"{A} WHERE region = 'us-east-1'",
            "ORDER BY CreationTime DESC LIMIT 2",
            (2, 0),
        ),
    ]
    for columns, source, order_limit, calls in cases:
        fresh_sandbox.aws.reset_log()
        fresh_sandbox.google.reset_log()
        if source.startswith(A):  # a CTE with its own ORDER BY ... LIMIT
            sql = f"WITH last AS (SELECT {columns} FROM {source} {order_limit}) SELECT * FROM last"
        else:
            sql = f"SELECT {columns} FROM {source} {order_limit}"
        rows = on.execute(sql).rows
        got = sum(1 for e in fresh_sandbox.google.requests() if e.get("action") == "get")
        assert (_ops(fresh_sandbox)["DescribeHyperParameterTuningJob"], got) == calls, sql
        reference = f"SELECT {columns} FROM (SELECT * FROM {source}) {order_limit}"
        assert rows == on.execute(reference).rows, sql
    # a LIMIT alone, in a subquery over the view: 3 describes
    fresh_sandbox.aws.reset_log()
    sql = (
        f"SELECT count(*) FROM (SELECT BestTrainingJob FROM {tuning} "
        "WHERE region = 'us-east-1' LIMIT 3)"
    )
    assert on.execute(sql).rows == [(3,)]
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == 3
    # routed by the values' form (account_or_project): each branch still takes the LIMIT
    fresh_sandbox.aws.reset_log()
    where = (
        "account_or_project IN ('123456789012', 'ml-research-prod') "
        "AND location_or_region IN ('us-east-1', 'us-central1')"
    )
    order = "ORDER BY create_time DESC, name LIMIT 5"
    sql = f"SELECT provider, name, best_objective_value FROM {UNIFIED} WHERE {where} {order}"
    rows = on.execute(sql).rows
    assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == 5
    reference = f"SELECT provider, name, best_objective_value FROM (SELECT * FROM {UNIFIED} "
    assert rows == on.execute(f"{reference}WHERE {where}) {order}").rows
    # not when a condition the view cannot take first (a describe-only column) or an output
    # named as the column it sorts by (an alias, a star's REPLACE or RENAME) decides the
    # order: every job is described, and the rows are the reference's
    jobs = len(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])
    replaced = "* REPLACE (reverse(TuningJobName) AS TuningJobName)"
    renamed = "* RENAME (HyperParameterTuningEndTime AS CreationTime, CreationTime AS c)"
    for columns, source, order_limit in [
        (
            "TuningJobName",
            f"{tuning} WHERE region = 'us-east-1' AND BestTrainingJob IS NOT NULL",
            "ORDER BY TuningJobStartTime DESC LIMIT 3",
        ),
        (
            f"{best} AS TuningJobStartTime, TuningJobName",
            f"{tuning} WHERE region = 'us-east-1'",
            "ORDER BY TuningJobStartTime LIMIT 3",
        ),
        (replaced, f"{tuning} WHERE region = 'us-east-1'", "ORDER BY TuningJobName LIMIT 3"),
        (
            replaced.replace("TuningJobName", "HyperParameterTuningJobName") + ", BestTrainingJob",
            f"{A} WHERE region = 'us-east-1'",
            "ORDER BY HyperParameterTuningJobName LIMIT 3",
        ),
        (
            renamed + ", BestTrainingJob",
            f"{A} WHERE region = 'us-east-1'",
            "ORDER BY CreationTime DESC NULLS LAST, HyperParameterTuningJobName LIMIT 3",
        ),
    ]:
        fresh_sandbox.aws.reset_log()
        sql = f"SELECT {columns} FROM {source} {order_limit}"
        rows = on.execute(sql).rows
        assert _ops(fresh_sandbox)["DescribeHyperParameterTuningJob"] == jobs, sql
        reference = f"SELECT {columns} FROM (SELECT * FROM {source}) {order_limit}"
        assert rows == on.execute(reference).rows, sql


def _max_in_flight(entries: list[dict[str, Any]], latency: float) -> int:
    """Most requests in flight at once: each occupies [time - latency, time) at least."""
    events = []
    for e in entries:
        events.append((e["time"] - latency, 1))
        events.append((e["time"], -1))
    events.sort(key=lambda ev: (ev[0], ev[1]))  # an end before a start at the same instant
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


@pytest.mark.parametrize(
    ("settings", "where", "bound"),
    [
        ({"concurrency": 3}, G_WHERE, 3),
        (
            {"concurrency": 16, "per_host": 2},
            "projectsId IN ('ml-research-prod', 'ml-research-dev', 'p3', 'p4') "
            "AND locationsId = 'us-central1'",
            2,
        ),
    ],
)
def test_the_scheduler_respects_its_bounds(
    fresh_sandbox: Sandbox, settings: dict[str, Any], where: str, bound: int
) -> None:
    latency = 0.05
    fresh_sandbox.google.configure(latency=latency)
    session = Session(**fresh_sandbox.settings(), **settings)
    session.execute(f"SELECT name FROM {G} WHERE {where}")
    entries = [r for r in fresh_sandbox.google.requests() if r.get("action") == "list"]
    assert len(entries) > bound
    peak = _max_in_flight(entries, latency)
    assert 2 <= peak <= bound
    session.close()


def test_a_limit_over_the_trials_view_gets_jobs_until_it_has_the_rows(
    fresh_sandbox: Sandbox,
) -> None:
    # LIMIT 3 over a location's trials made a get of each of its 37 jobs: the listed jobs
    # are got a wave at a time until their replies hold the rows (at most --concurrency a
    # wave, as many as the rows still needed take at the trials per job so far). The rows
    # are rows of the whole view, is_best among them (its window reads one job's trials)
    fresh_sandbox.google.clock.set_speed(0.0)
    trials = "google.aiplatform.hyperparameter_tuning_job_trials"
    where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    columns = "job_name, job_state, trial_id, state, metric_value, is_best"
    session = Session(**fresh_sandbox.settings())
    narrow = Session(**fresh_sandbox.settings(), concurrency=2)
    jobs = len(fresh_sandbox.truth["google"]["jobs"]["ml-research-prod"]["us-central1"][HPT])

    def gets() -> int:
        return sum(1 for r in fresh_sandbox.google.requests() if r.get("action") == "get")

    def listed(states: str) -> int:  # a list call, no get
        sql = f"SELECT count(*) FROM {G} WHERE {where} AND state IN ({states})"
        return int(session.execute(sql).rows[0][0])

    try:
        every = set(session.execute(f"SELECT {columns} FROM {trials} WHERE {where}").rows)
        assert gets() == jobs and len(every) > 40
        pending, running = listed("'JOB_STATE_PENDING'"), listed("'JOB_STATE_RUNNING'")
        no_trials = "'JOB_STATE_PENDING', 'JOB_STATE_FAILED'"
        assert pending and running > 2
        cases = [
            # every job but a pending one has 7 trials at least: one wave
            (session, "LIMIT 3", 3, 3),
            (session, "LIMIT 2 OFFSET 1", 2, 3),
            # pending jobs have no trials yet: each is got, and no row is made up
            (session, "AND job_state = 'JOB_STATE_PENDING' LIMIT 5", 0, pending),
            # two a wave, until 25 trials have arrived (8 at least a running job)
            (narrow, "AND job_state = 'JOB_STATE_RUNNING' LIMIT 20 OFFSET 5", 20, running - 1),
            (narrow, f"AND job_state IN ({no_trials}) LIMIT 12", 12, listed(no_trials)),
        ]
        for s, tail, n, most in cases:
            fresh_sandbox.google.reset_log()
            rows = s.execute(f"SELECT {columns} FROM {trials} WHERE {where} {tail}").rows
            assert len(rows) == n and set(rows) <= every, tail
            assert 0 < gets() <= most, (tail, gets())
        # the same LIMIT over the view in a subquery or a CTE (it stayed outside: 37 gets)
        for sql in (
            f"SELECT * FROM (SELECT {columns} FROM {trials} WHERE {where}) s LIMIT 4",
            f"WITH s AS (SELECT {columns} FROM {trials} WHERE {where}) SELECT * FROM s LIMIT 4",
        ):
            fresh_sandbox.google.reset_log()
            rows = session.execute(sql).rows
            assert len(rows) == 4 and set(rows) <= every and gets() <= 4, sql
        # a condition on the job's id that binds nothing filters the listed jobs before their
        # gets, as on the jobs table (it stayed outside the view: a get of every job)
        ids = sorted({r[0].rsplit("/", 1)[1] for r in every})
        fresh_sandbox.google.reset_log()
        like = f"hyperparameterTuningJobsId LIKE '%{ids[0][-2:]}'"
        rows = session.execute(f"SELECT {columns} FROM {trials} WHERE {where} AND {like}").rows
        wanted = {r for r in every if r[0].endswith(ids[0][-2:])}
        assert set(rows) == wanted and len(rows) == len(wanted)
        matched = session.execute(f"SELECT count(*) FROM {G} WHERE {where} AND {like}").rows
        assert gets() == matched[0][0] < jobs  # (that count is a list's: no get)
    finally:
        session.close()
        narrow.close()


def test_a_job_that_changed_between_its_list_and_its_get_uses_up_no_limit(
    fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the running jobs are listed as running and got as succeeded (they ended in between):
    # their rows fail the condition the jobs were kept by, so they count toward no LIMIT and
    # the next jobs are got (LIMIT 1 over the trials gave 0 rows; ORDER BY createTime DESC
    # LIMIT 3, whose first 3 are running jobs, gave none either)
    fresh_sandbox.google.clock.set_speed(0.0)
    store = fresh_sandbox.google.store
    got = store.get

    def ended(collection: str, parent: str, job_id: str) -> bytes:
        return got(collection, parent, job_id).replace(
            b'"JOB_STATE_RUNNING"', b'"JOB_STATE_SUCCEEDED"'
        )

    monkeypatch.setattr(store, "get", ended)
    where = (
        "projectsId = 'ml-research-prod' AND locationsId = 'us-central1' "
        "AND {state} IN ('JOB_STATE_RUNNING', 'JOB_STATE_FAILED')"
    )
    trials = "google.aiplatform.hyperparameter_tuning_job_trials"
    on = Session(**fresh_sandbox.settings())
    off = Session(**fresh_sandbox.settings(), pushdown=False)
    try:
        sql = f"SELECT job_name, trial_id, job_state FROM {trials} WHERE "
        sql += where.format(state="job_state")
        every = set(off.execute(sql).rows)
        assert every and {r[2] for r in every} == {"JOB_STATE_FAILED"}
        for n in (1, 10):
            rows = on.execute(f"{sql} LIMIT {n}").rows
            assert len(rows) == n and set(rows) <= every
        jobs = f"SELECT name, state, json_array_length(trials) FROM {G} WHERE "
        jobs += where.format(state="state") + " ORDER BY createTime DESC LIMIT 3"
        assert on.execute(jobs).rows == off.execute(jobs).rows
        assert len(off.execute(jobs).rows) == 3
    finally:
        on.close()
        off.close()
