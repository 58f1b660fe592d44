"""A user's own CREATE VIEW over provider tables is live (over the sandbox).

- the reviewer's script: a view over the table, filtered outside on another region, was a
  snapshot of the default region and came back empty; now it is the CTE form's plan error;
- a view whose own WHERE binds two regions returns both regions' rows;
- CREATE VIEW makes no call; each query of the view fetches again, so a job created after the
  CREATE VIEW shows; DROP VIEW forgets the view; sessions do not share views.

Own AWS region for the job created here: ``sa-east-1`` (no other integration module uses it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from stackql_tuning import errors
from stackql_tuning.sandbox.runner import Sandbox
from stackql_tuning.session import Session

SM = "aws.sagemaker.hyper_parameter_tuning_jobs"
REGION = "sa-east-1"
CONFIG = json.dumps(
    {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
        "ParameterRanges": {
            "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5"}]
        },
    }
)
DEFINITION = json.dumps(
    {
        "AlgorithmSpecification": {
            "TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
            "TrainingInputMode": "File",
        },
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "OutputDataConfig": {"S3OutputPath": "s3://uv-bucket/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
)


@pytest.fixture
def session(sandbox: Sandbox, sandbox_env: dict[str, str]) -> Iterator[Session]:
    # the CLI's --sandbox default region, as in the reviewer's script
    with Session(**sandbox.settings(), defaults={"region": ["us-east-1"]}) as s:
        yield s


def _seeded(sandbox: Sandbox, region: str) -> int:
    return len(sandbox.truth["aws"]["regions"][region])


def test_reviewers_script_is_a_plan_error_not_an_empty_result(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    session.execute(f"CREATE VIEW myv2 AS SELECT * FROM {SM}")
    assert fresh_sandbox.aws.requests() == []  # no call at CREATE time
    rows = session.execute("SELECT region, count(*) FROM myv2 GROUP BY ALL").rows
    assert rows == [("us-east-1", _seeded(fresh_sandbox, "us-east-1"))]
    with pytest.raises(errors.PlanError) as e:
        session.execute("SELECT region, count(*) FROM myv2 WHERE region = 'eu-west-1' GROUP BY ALL")
    assert "read through the view myv2" in e.value.message
    assert "bind it in the view's WHERE" in (e.value.hint or "")


def test_a_view_binding_two_regions_returns_both(fresh_sandbox: Sandbox, session: Session) -> None:
    session.execute(
        "CREATE VIEW two AS SELECT region, HyperParameterTuningJobName AS name "
        f"FROM {SM} WHERE region IN ('us-east-1', 'eu-west-1')"
    )
    assert fresh_sandbox.aws.requests() == []
    rows = session.execute("SELECT region, count(*) FROM two GROUP BY ALL ORDER BY 1").rows
    assert rows == [
        ("eu-west-1", _seeded(fresh_sandbox, "eu-west-1")),
        ("us-east-1", _seeded(fresh_sandbox, "us-east-1")),
    ]
    # a list per region, no describe: the view's columns are all list columns
    ops = Counter(r["operation"] for r in fresh_sandbox.aws.requests())
    assert ops == {"ListHyperParameterTuningJobs": 2}
    # a view over the view, a column list, a qualified name, a join and a CTE of its own
    session.execute(
        "CREATE VIEW main.per_region(r, jobs) AS SELECT region, count(*) FROM two GROUP BY 1"
    )
    rows = session.execute(
        "WITH eu AS (SELECT 'eu-west-1' AS r) SELECT p.r, p.jobs FROM eu JOIN main.per_region p "
        "ON p.r = eu.r"
    ).rows
    assert rows == [("eu-west-1", _seeded(fresh_sandbox, "eu-west-1"))]


def test_the_view_reads_again_at_each_query_and_drops(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    sb = fresh_sandbox
    name = "uv-live-view-job"
    session.execute(
        f"CREATE VIEW mine AS SELECT HyperParameterTuningJobName AS name FROM {SM} "
        f"WHERE region = '{REGION}'"
    )
    before = {r[0] for r in session.execute("SELECT name FROM mine").rows}
    assert name not in before
    session.execute(
        f"INSERT INTO {SM} (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig, "
        f"TrainingJobDefinition) VALUES ('{REGION}', '{name}', '{CONFIG}', '{DEFINITION}')"
    )
    sb.aws.reset_log()
    after = {r[0] for r in session.execute("SELECT name FROM mine").rows}
    assert after == before | {name}
    assert [r["operation"] for r in sb.aws.requests()] == ["ListHyperParameterTuningJobs"]
    # INSERT ... SELECT reads the view too
    session.execute(
        f"INSERT INTO {SM} (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig, "
        f"TrainingJobDefinition) SELECT '{REGION}', name || '-2', '{CONFIG}', '{DEFINITION}' "
        f"FROM mine WHERE name = '{name}'"
    )
    session.execute("CREATE TABLE copied AS SELECT * FROM mine")
    copied = {r[0] for r in session.execute("SELECT name FROM copied").rows}
    assert copied == after | {f"{name}-2"}
    # a session of its own does not see it
    with Session(**sb.settings()) as other, pytest.raises(errors.StackqlTuningError):
        other.execute("SELECT * FROM mine")
    session.execute("DROP VIEW mine")
    assert session.user_views == {}
    with pytest.raises(errors.StackqlTuningError, match="mine does not exist"):
        session.execute("SELECT * FROM mine")
    session.execute("DROP VIEW IF EXISTS mine")
    # cleanup: the job is this module's own, in its own region
    for job in (name, f"{name}-2"):
        session.execute(
            f"DELETE FROM {SM} WHERE region = '{REGION}' AND HyperParameterTuningJobName = '{job}'"
        )


def test_dry_run_defines_the_view_without_a_call(fresh_sandbox: Sandbox, sandbox: Sandbox) -> None:
    with Session(**sandbox.settings(), dry_run=True) as s:
        result = s.execute(f"CREATE VIEW dv AS SELECT * FROM {SM} WHERE region = 'eu-west-1'")
        assert result.kind == "dry-run" and result.rows == []
        assert "view dv reads provider tables" in result.messages[0]
        planned = s.execute("SELECT count(*) FROM dv").rows
    assert fresh_sandbox.aws.requests() == []
    assert [(r[0], r[1]) for r in planned] == [(SM, "list"), (SM, "get")]


def test_name_clashes_are_duckdbs(fresh_sandbox: Sandbox, session: Session) -> None:
    session.execute("CREATE TABLE taken AS SELECT 1 AS a")
    view = f"VIEW taken AS SELECT * FROM {SM} WHERE region = 'eu-west-1'"
    with pytest.raises(errors.StackqlTuningError, match="already exists"):
        session.execute(f"CREATE {view}")
    with pytest.raises(errors.StackqlTuningError, match="of type Table"):
        session.execute(f"CREATE OR REPLACE {view}")
    session.execute(f"CREATE {view.replace('VIEW', 'VIEW IF NOT EXISTS', 1)}")
    assert session.user_views == {}
    assert session.execute("SELECT * FROM taken").rows == [(1,)]
    session.execute(f"CREATE VIEW lv AS SELECT * FROM {SM} WHERE region = 'eu-west-1'")
    with pytest.raises(errors.StackqlTuningError, match="already exists"):
        session.execute("CREATE TABLE lv AS SELECT 1 AS a")
    # replaced by a view over local tables: a plain DuckDB view again
    session.execute("CREATE OR REPLACE VIEW lv AS SELECT 2 AS b")
    assert session.user_views == {}
    assert session.execute("SELECT * FROM lv").rows == [(2,)]
    assert fresh_sandbox.aws.requests() == []


EU = f"SELECT HyperParameterTuningJobName AS n FROM {SM} WHERE region = 'eu-west-1'"


def test_a_temporary_table_or_view_of_the_name_comes_first(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    session.execute(f"CREATE VIEW v AS {EU}")
    session.execute("CREATE TEMP VIEW v AS SELECT 'local' AS n")
    assert session.execute("SELECT * FROM v").rows == [("local",)]
    assert session.execute("SELECT count(*) FROM memory.main.v").rows == [
        (_seeded(fresh_sandbox, "eu-west-1"),)
    ]
    session.execute("DROP VIEW temp.v")
    session.execute("CREATE TEMP TABLE v AS SELECT 'tmp' AS n")
    assert session.execute("SELECT * FROM v").rows == [("tmp",)]


def test_the_statements_ctes_do_not_capture_the_views_names(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    eu = _seeded(fresh_sandbox, "eu-west-1")
    session.execute(f"CREATE VIEW a AS {EU}")
    session.execute("CREATE VIEW b AS SELECT * FROM a")
    rows = session.execute(
        "WITH a AS (SELECT 'not-from-view-a' AS n) SELECT count(*), min(n) FROM b"
    ).rows
    assert rows[0][0] == eu and rows[0][1] != "not-from-view-a"
    session.execute("CREATE TABLE wanted AS SELECT 'Failed' AS s")
    session.execute(
        f"CREATE VIEW f AS {EU} AND HyperParameterTuningJobStatus IN (SELECT s FROM wanted)"
    )
    failed = session.execute("SELECT count(*) FROM f").rows
    assert 0 < failed[0][0] < eu
    rows = session.execute(
        "WITH wanted AS (SELECT 'Completed' AS s) SELECT count(*), min(wanted.s) FROM f, wanted"
    ).rows
    assert rows == [(failed[0][0], "Completed")]


def test_names_resolve_in_the_current_schema_and_the_placeholder_never_reads(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    eu = _seeded(fresh_sandbox, "eu-west-1")
    session.execute("CREATE SCHEMA s")
    session.execute("USE s")
    session.execute(f"CREATE VIEW v AS {EU}")
    assert session.execute("SELECT count(*) FROM v").rows == [(eu,)]
    assert len(session.execute("SELECT n FROM v").rows) == eu
    with pytest.raises(errors.StackqlTuningError, match="is a view over provider tables"):
        session.execute("SELECT count(*) FROM query_table('v')")
    session.execute("USE memory.main")
    session.execute("SET search_path = 's'")
    assert session.execute("SELECT count(*) FROM v").rows == [(eu,)]


def test_transactions_keep_the_views_in_step(fresh_sandbox: Sandbox, session: Session) -> None:
    eu = _seeded(fresh_sandbox, "eu-west-1")
    session.execute(f"CREATE VIEW v AS {EU}")
    session.execute("BEGIN")
    session.execute("DROP VIEW v")
    with pytest.raises(errors.StackqlTuningError, match="v does not exist"):
        session.execute("SELECT count(*) FROM v")
    session.execute("ROLLBACK")
    assert session.execute("SELECT count(*) FROM v").rows == [(eu,)]
    session.execute("BEGIN")
    session.execute(f"CREATE VIEW w AS {EU}")
    assert sorted(k[2] for k in session.user_views) == ["v", "w"]
    session.execute("ROLLBACK")
    assert [k[2] for k in session.user_views] == ["v"]
    with pytest.raises(errors.StackqlTuningError, match="w does not exist"):
        session.execute("SELECT count(*) FROM w")
    session.execute("BEGIN")
    session.execute("DROP VIEW v")
    session.execute("COMMIT")
    assert session.user_views == {}


def test_copy_summarize_and_qualified_columns(
    fresh_sandbox: Sandbox, session: Session, tmp_path: object
) -> None:
    eu = _seeded(fresh_sandbox, "eu-west-1")
    session.execute(f"CREATE VIEW v AS {EU}")
    out = f"{tmp_path}/v.csv"
    session.execute(f"COPY v TO '{out}'")
    with open(out) as f:
        assert len(f.read().splitlines()) == eu + 1  # a header line
    summary = session.execute("SUMMARIZE v")
    assert summary.rows[0][0] == "n"
    assert len(session.execute("SELECT main.v.n FROM main.v").rows) == eu


def test_create_view_binds_its_query_without_a_call(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    with pytest.raises(errors.PlanError, match="More VIEW aliases than columns"):
        session.execute(
            f"CREATE VIEW v(a, b, c) AS SELECT region, HyperParameterTuningJobName FROM {SM}"
        )
    with pytest.raises(errors.PlanError, match='"regionn" not found'):
        session.execute(f"CREATE VIEW w AS SELECT regionn FROM {SM}")
    assert session.user_views == {}
    assert fresh_sandbox.aws.requests() == []


def test_headers_name_what_the_user_wrote(fresh_sandbox: Sandbox, session: Session) -> None:
    session.execute(f"CREATE VIEW v AS {EU}")
    result = session.execute(
        "SELECT (SELECT count(*) FROM v), 1 + (SELECT count(*) FROM main.v) AS two "
        "UNION ALL SELECT 1, 2"
    )
    assert result.columns == ["(SELECT count_star() FROM v)", "two"]
    eu = _seeded(fresh_sandbox, "eu-west-1")
    assert result.rows[0] == (eu, eu + 1)


def test_a_views_query_reads_its_own_schemas_names_first(session: Session) -> None:
    # as DuckDB binds a view's query in the view's schema: s.w over hp reads s.hp, and a USE
    # later does not change what main.v reads (both read the current schema's table)
    session.execute("CREATE SCHEMA own")
    session.execute("CREATE TABLE own.hp AS SELECT 'x' AS name")
    session.execute(
        f"CREATE VIEW own.w AS SELECT h.name FROM hp h, {SM} a "
        "WHERE a.region = 'us-east-1' AND a.HyperParameterTuningJobName <> h.name"
    )
    seeded = len(session.execute(f"SELECT 1 FROM {SM} WHERE region = 'us-east-1'").rows)
    assert session.execute("SELECT count(*) FROM own.w").rows == [(seeded,)]
    session.execute(
        "CREATE VIEW mainv AS SELECT HyperParameterTuningJobName AS name "
        f"FROM {SM} WHERE region = 'us-east-1'"
    )
    session.execute("CREATE VIEW mainw AS SELECT name FROM mainv")
    session.execute("CREATE TABLE own.mainv AS SELECT 'decoy' AS name")
    session.execute("USE own")
    try:
        assert session.execute("SELECT count(*) FROM main.mainw").rows == [(seeded,)]
    finally:
        session.execute("USE main")


def test_a_long_chain_of_views_is_not_taken_for_a_cycle(session: Session) -> None:
    session.execute(
        "CREATE VIEW c0 AS SELECT HyperParameterTuningJobName AS name "
        f"FROM {SM} WHERE region = 'us-east-1'"
    )
    for i in range(1, 12):
        session.execute(f"CREATE VIEW c{i} AS SELECT name FROM c{i - 1}")
    seeded = len(session.execute(f"SELECT 1 FROM {SM} WHERE region = 'us-east-1'").rows)
    assert session.execute("SELECT count(*) FROM c11").rows == [(seeded,)]


def test_provider_tables_inside_a_transaction_are_a_clear_error(session: Session) -> None:
    # the rows are loaded outside the user's transaction: "a reply does not fit the API's
    # schema", or DuckDB's own TransactionException as an internal error
    session.execute("BEGIN")
    try:
        with pytest.raises(errors.QueryError, match="inside a transaction"):
            session.execute(f"SELECT count(*) FROM {SM} WHERE region = 'us-east-1'")
    finally:
        session.execute("ROLLBACK")
    assert session.execute(f"SELECT count(*) FROM {SM} WHERE region = 'us-east-1'").rows


def test_a_macro_over_a_provider_table_or_view_is_refused(session: Session) -> None:
    # it read the rows loaded at CREATE, then whatever the session loaded last
    session.execute(
        "CREATE VIEW mv AS SELECT HyperParameterTuningJobName AS name "
        f"FROM {SM} WHERE region = 'us-east-1'"
    )
    for body in ("SELECT * FROM mv", f"SELECT * FROM {SM} WHERE region = 'us-east-1'"):
        with pytest.raises(errors.PlanError, match="CREATE MACRO over a provider table"):
            session.execute(f"CREATE MACRO m() AS TABLE {body}")
    session.execute("CREATE MACRO plus1(x) AS x + 1")
    assert session.execute("SELECT plus1(2)").rows == [(3,)]


def test_a_routed_param_of_the_unified_view_filtered_outside_a_users_view_is_refused(
    session: Session,
) -> None:
    # the AWS branch inside the view was skipped (no region there) and the outer condition
    # then dropped every Google row: 0 rows, exit 0
    session.execute(
        "CREATE VIEW unified_prod AS SELECT * FROM unified.tuning.jobs "
        "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    )
    with pytest.raises(errors.PlanError) as e:
        session.execute("SELECT count(*) FROM unified_prod WHERE region = 'us-east-1'")
    assert "outside the view unified_prod that reads unified.tuning.jobs" in e.value.message
    assert "CREATE OR REPLACE VIEW unified_prod" in (e.value.hint or "")
