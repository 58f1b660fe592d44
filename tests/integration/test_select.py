"""The read path end to end against the sandbox over loopback (issue 3's acceptance queries).

Expected answers come from the sandbox's own truth (``sandbox.truth``) or from jobs created by
the test itself, so every assertion is an exact equality. The Vertex clock is frozen while a test
compares states, because seeded jobs progress over (accelerated) time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import stackql_tuning
from stackql_tuning.errors import PlanError, ProviderError
from stackql_tuning.sandbox.runner import Sandbox

PROJECTS = ("ml-research-prod", "ml-research-dev")
LOCATIONS = ("us-central1", "europe-west4", "asia-northeast1")
HPT = "hyperparameterTuningJobs"
TUNING = "tuningJobs"
#: regions the AWS seed does not use, so the jobs created here are all there is
AWS_REGIONS = ("us-west-2", "ap-southeast-2")
AWS_PER_REGION = 130


@pytest.fixture(scope="module")
def session(sandbox: Sandbox) -> Iterator[Any]:
    s = stackql_tuning.connect(**sandbox.settings())
    yield s
    s.close()


@pytest.fixture
def frozen(sandbox: Sandbox) -> Iterator[None]:
    clock = sandbox.google.clock
    speed = clock.speed
    clock.set_speed(0)
    try:
        yield
    finally:
        clock.set_speed(speed)


def google_truth(sandbox: Sandbox, project: str, location: str, collection: str) -> list[dict]:
    return list(sandbox.truth["google"]["jobs"][project][location][collection])


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def aws_jobs(sandbox: Sandbox) -> dict[str, list[str]]:
    """130 jobs in each of two unseeded regions (3 pages of 100 at most per region)."""
    made: dict[str, list[str]] = {}
    for region in AWS_REGIONS:
        client = sandbox.aws.client(region)
        names = []
        for i in range(AWS_PER_REGION):
            name = f"sel-{region[:2]}-{i:04d}"
            client.create_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name,
                HyperParameterTuningJobConfig={
                    "Strategy": ("Bayesian", "Random", "Grid")[i % 3],
                    "ResourceLimits": {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2},
                    "HyperParameterTuningJobObjective": {
                        "Type": "Maximize",
                        "MetricName": "validation:auc",
                    },
                },
                TrainingJobDefinition=_training_definition(),
            )
            names.append(name)
        made[region] = names
    return made


def _training_definition() -> dict[str, Any]:
    return {
        "AlgorithmSpecification": {
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
            "TrainingInputMode": "File",
        },
        "RoleArn": "arn:aws:iam::123456789012:role/sagemaker",
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 10,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


# -- Google -------------------------------------------------------------------------------------
def test_google_list_query_of_the_stackql_docs(
    session: Any, sandbox: Sandbox, frozen: None
) -> None:
    r = session.execute(
        "SELECT name, displayName, state FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE locationsId = 'us-central1' AND projectsId = 'ml-research-prod'"
    )
    want = google_truth(sandbox, "ml-research-prod", "us-central1", HPT)
    assert sorted(r.rows) == sorted(
        (j["name"], j["displayName"], _state_now(sandbox, j)) for j in want
    )


def _state_now(sandbox: Sandbox, job: dict) -> str:
    """The job's state as the (frozen) emulator reports it now."""
    import orjson

    parent, _, rest = job["name"].partition("/" + HPT + "/")
    return str(orjson.loads(sandbox.google.store.get(HPT, parent, rest))["state"])


def test_google_get_query(session: Any, sandbox: Sandbox) -> None:
    job = google_truth(sandbox, "ml-research-dev", "europe-west4", HPT)[3]
    r = session.execute(
        "SELECT name, displayName, hyperparameterTuningJobsId, projectsId, locationsId "
        "FROM google.aiplatform.hyperparameter_tuning_jobs "
        f"WHERE projectsId = 'ml-research-dev' AND locationsId = 'europe-west4' "
        f"AND hyperparameterTuningJobsId = '{_short(job['name'])}'"
    )
    assert r.rows == [
        (job["name"], job["displayName"], _short(job["name"]), "ml-research-dev", "europe-west4")
    ]
    assert r.calls == 1


def test_tuning_jobs_list_and_get(session: Any, sandbox: Sandbox) -> None:
    want = google_truth(sandbox, "ml-research-prod", "asia-northeast1", TUNING)
    assert want, "the seed has tuning jobs"
    r = session.execute(
        "SELECT name, baseModel FROM google.aiplatform.tuning_jobs "
        "WHERE locationsId = 'asia-northeast1' AND projectsId = 'ml-research-prod' ORDER BY name"
    )
    assert [row[0] for row in r.rows] == sorted(j["name"] for j in want)
    assert all(row[1] for row in r.rows)
    one = want[0]
    r = session.execute(
        "SELECT name, tuningJobsId FROM google.aiplatform.tuning_jobs WHERE "
        f"projectsId = 'ml-research-prod' AND locationsId = 'asia-northeast1' "
        f"AND tuningJobsId = '{_short(one['name'])}'"
    )
    assert r.rows == [(one["name"], _short(one["name"]))]


def test_fan_out_two_projects_three_locations_many_pages(session: Any, sandbox: Sandbox) -> None:
    sandbox.google.reset_log()
    r = session.execute(
        "SELECT projectsId, locationsId, name FROM google.aiplatform.hyperparameter_tuning_jobs "
        f"WHERE projectsId IN {PROJECTS} AND locationsId IN {LOCATIONS} AND pageSize = 7"
    )
    want = sorted(
        (p, loc, j["name"])
        for p in PROJECTS
        for loc in LOCATIONS
        for j in google_truth(sandbox, p, loc, HPT)
    )
    assert sorted(r.rows) == want
    lists = [q for q in sandbox.google.requests() if q["path"].endswith("/" + HPT)]
    per_chain: dict[str, int] = {}
    for q in lists:
        per_chain[q["path"]] = per_chain.get(q["path"], 0) + 1
    assert len(per_chain) == 6
    assert min(per_chain.values()) >= 3


def test_json_functions_group_by_and_order_limit(
    session: Any, sandbox: Sandbox, frozen: None
) -> None:
    base = (
        "FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    )
    everything = session.execute(f"SELECT name, state, createTime, studySpec {base}").to_dicts()
    by_state: dict[str, int] = {}
    for row in everything:
        by_state[row["state"]] = by_state.get(row["state"], 0) + 1
    r = session.execute(f"SELECT state, COUNT(*) AS n {base} GROUP BY state ORDER BY state")
    assert r.rows == sorted(by_state.items())
    r = session.execute(f"SELECT name {base} ORDER BY createTime DESC LIMIT 5")
    newest = sorted(everything, key=lambda d: d["createTime"], reverse=True)[:5]
    assert [x[0] for x in r.rows] == [d["name"] for d in newest]
    import json

    random_jobs = sorted(
        d["name"]
        for d in everything
        if json.loads(d["studySpec"]).get("algorithm") == "RANDOM_SEARCH"
    )
    r = session.execute(
        f"SELECT name {base} AND json_extract(studySpec, '$.algorithm') = 'RANDOM_SEARCH' "
        "ORDER BY name"
    )
    assert [x[0] for x in r.rows] == random_jobs
    r = session.execute(
        f"SELECT j.name, m.value ->> 'metricId' AS metric {base.replace('jobs ', 'jobs j ')} "
        "CROSS JOIN json_each(json_extract(j.studySpec, '$.metrics')) AS m ORDER BY 1"
    )
    assert len(r.rows) >= len(everything)
    assert all(metric for _, metric in r.rows)


# -- AWS ----------------------------------------------------------------------------------------
def test_aws_list_fan_out_and_pagination(session: Any, sandbox: Sandbox, aws_jobs: dict) -> None:
    sandbox.aws.reset_log()
    r = session.execute(
        "SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus, Strategy "
        f"FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region IN {AWS_REGIONS} ORDER BY 1"
    )
    names = sorted(n for ns in aws_jobs.values() for n in ns)
    assert [row[0] for row in r.rows] == names
    assert len(r.rows) == 2 * AWS_PER_REGION
    strategies = {row[0]: row[2] for row in r.rows}
    assert strategies["sel-us-0000"] == "Bayesian" and strategies["sel-us-0001"] == "Random"
    lists = [q for q in sandbox.aws.requests() if "ListHyperParameterTuningJobs" in str(q)]
    assert len(lists) == 4  # 2 pages of 100 per region for 130 jobs


def test_a_star_gives_fields_and_where_rows_live_not_the_call_options(
    session: Any, aws_jobs: dict
) -> None:
    table = "aws.sagemaker.hyper_parameter_tuning_jobs"
    r = session.execute(f"SELECT * FROM {table} WHERE region = '{AWS_REGIONS[0]}' LIMIT 3")
    assert r.columns[-2:] == ["region", "AwsAccountId"]  # nine NULL options followed
    assert {row[-2] for row in r.rows} == {AWS_REGIONS[0]}
    r = session.execute(
        f"SELECT * FROM {table} WHERE region = '{AWS_REGIONS[0]}' AND NameContains = 'sel-' LIMIT 3"
    )
    assert r.columns[-1] == "NameContains"  # named: its value is the statement's
    assert {row[-1] for row in r.rows} == {"sel-"}


def test_aws_json_extract_orders_values_and_keeps_its_name(session: Any, sandbox: Sandbox) -> None:
    # StackQL's json_extract: ORDER BY its alias, position or itself sorts numbers as numbers
    # (9 before 10), NULLs where DuckDB puts them (last); the header is what the user wrote
    region = "me-south-1"  # used by no other test
    client = sandbox.aws.client(region)
    for i, limit in enumerate((100, 9, 10)):
        client.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=f"order-{i}",
            HyperParameterTuningJobConfig={
                "Strategy": "Random",
                "ResourceLimits": {"MaxNumberOfTrainingJobs": limit, "MaxParallelTrainingJobs": 1},
            },
            TrainingJobDefinition=_training_definition(),
        )
    value = (
        "json_extract(HyperParameterTuningJobConfig, '$.ResourceLimits.MaxNumberOfTrainingJobs')"
    )
    base = (
        f"FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region IN ('us-east-1', '{region}')"
    )
    every = session.execute(f"SELECT HyperParameterTuningJobName, {value} {base}")
    assert every.columns == ["HyperParameterTuningJobName", value]
    numbers = sorted((float(v), n) for n, v in every.rows if v is not None)
    assert {9.0, 10.0, 100.0} <= {v for v, _ in numbers}
    assert any(v is None for _, v in every.rows)  # (us-east-1's seed has some)
    for key in ("m", "2", value):
        r = session.execute(
            f"SELECT HyperParameterTuningJobName, {value} AS m {base} ORDER BY {key}, 1"
        )
        assert [(float(v), n) for n, v in r.rows[: len(numbers)]] == numbers
        assert all(v is None for _, v in r.rows[len(numbers) :])
        r = session.execute(f"SELECT 1, {value} AS m {base} ORDER BY {key} DESC LIMIT 1")
        assert r.rows == [(1, "100")]


def test_aws_get_returns_describe_only_columns(session: Any, aws_jobs: dict) -> None:
    r = session.execute(
        "SELECT HyperParameterTuningJobName, BestTrainingJob, HyperParameterTuningJobConfig, "
        "TrainingJobDefinition, Strategy FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        "WHERE region = 'us-west-2' AND HyperParameterTuningJobName = 'sel-us-0004'"
    )
    assert len(r.rows) == 1
    row = r.to_dicts()[0]
    import json

    config = json.loads(row["HyperParameterTuningJobConfig"])
    assert config["Strategy"] == row["Strategy"] == "Random"
    assert json.loads(row["TrainingJobDefinition"])["RoleArn"].endswith(":role/sagemaker")
    assert r.calls == 1


def test_the_legacy_training_job_counters_have_the_references_members(
    session: Any, aws_jobs: dict
) -> None:
    # seed 003 (DescribeHyperParameterTuningJob) names ClientError, Completed, Fault, InProgress,
    # Stopped; botocore's TrainingJobStatusCounters has NonRetryableError and RetryableError
    import json

    r = session.execute(
        "SELECT TrainingJobCounters, TrainingJobStatusCounters "
        "FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-west-2'"
    )
    assert r.rows
    for legacy, status in ((json.loads(a), json.loads(b)) for a, b in r.rows):
        assert list(legacy) == ["ClientError", "Completed", "Fault", "InProgress", "Stopped"]
        assert legacy["ClientError"] == status["NonRetryableError"]
        assert legacy["Fault"] == status["RetryableError"]
        assert all(legacy[k] == status[k] for k in ("Completed", "InProgress", "Stopped"))


# -- across clouds ------------------------------------------------------------------------------
def test_cross_cloud_union_and_join_with_a_cte(
    session: Any, sandbox: Sandbox, aws_jobs: dict
) -> None:
    r = session.execute(
        """
        WITH wanted(loc) AS (VALUES ('us-central1'), ('us-west-2'))
        SELECT provider, loc, count(*) AS n FROM (
          SELECT 'google' AS provider, locationsId AS loc, name
          FROM google.aiplatform.hyperparameter_tuning_jobs
          WHERE projectsId = 'ml-research-prod' AND locationsId IN ('us-central1', 'europe-west4')
          UNION ALL
          SELECT 'aws', region, HyperParameterTuningJobName
          FROM aws.sagemaker.hyper_parameter_tuning_jobs
          WHERE region IN ('us-west-2', 'ap-southeast-2')
        ) jobs JOIN wanted USING (loc)
        GROUP BY ALL ORDER BY ALL
        """
    )
    n_google = len(google_truth(sandbox, "ml-research-prod", "us-central1", HPT))
    assert r.rows == [("aws", "us-west-2", AWS_PER_REGION), ("google", "us-central1", n_google)]


# -- errors -------------------------------------------------------------------------------------
def test_missing_params_unknown_columns_and_provider_errors(session: Any, sandbox: Sandbox) -> None:
    sandbox.google.reset_log()
    with pytest.raises(PlanError, match=r"list needs projectsId, locationsId"):
        session.execute("SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs")
    with pytest.raises(PlanError, match=r"displayNam"):
        session.execute(
            "SELECT displayNam FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        )
    assert sandbox.google.requests() == []  # a typo costs no call
    # a get of a job that does not exist is an empty answer (as in StackQL), not an error
    r = session.execute(
        "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' "
        "AND locationsId = 'us-central1' AND hyperparameterTuningJobsId = '999'"
    )
    assert r.rows == [] and r.columns == ["name"]
    r = session.execute(
        "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        "WHERE region = 'us-east-1' AND HyperParameterTuningJobName = 'no-such-job'"
    )
    assert r.rows == []
    # a value the API's definition refuses (an empty name) is the statement's mistake: a
    # PlanError naming the param and the rule, even with --on-error continue, not a failed call
    sandbox.aws.reset_log()
    for mode in ("FAIL", "CONTINUE"):
        with pytest.raises(PlanError, match=r"HyperParameterTuningJobName = '' is not a value"):
            session.execute(
                f"SELECT /*+ ON_ERROR={mode} */ HyperParameterTuningJobStatus"
                " FROM aws.sagemaker.hyper_parameter_tuning_jobs"
                " WHERE region = 'us-east-1' AND HyperParameterTuningJobName = ''"
            )
    assert sandbox.aws.requests() == []
    # a provider error is never an empty result: the API's 400 comes through, naming the call
    with pytest.raises(ProviderError, match=r"INVALID_ARGUMENT.*pageSize"):
        session.execute(
            "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' "
            "AND locationsId = 'us-central1' AND pageSize = -1"
        )


def test_a_boto3_client_sees_the_same_jobs(sandbox: Sandbox, aws_jobs: dict) -> None:
    client = boto3.client(
        "sagemaker",
        region_name="ap-southeast-2",
        endpoint_url=sandbox.aws.url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    pages = client.get_paginator("list_hyper_parameter_tuning_jobs").paginate()
    got = sorted(
        j["HyperParameterTuningJobName"]
        for p in pages
        for j in p["HyperParameterTuningJobSummaries"]
    )
    assert got == sorted(aws_jobs["ap-southeast-2"])


def test_page_limit_stops_with_a_warning_never_silently(
    sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    import io

    from stackql_tuning.cli import main

    sql = (
        "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1' AND pageSize = 5"
    )
    with stackql_tuning.connect(**sandbox.settings(), page_limit=2) as s:
        r = s.execute(sql)
    assert len(r.rows) == 10
    assert len(r.warnings) == 1 and "page limit 2 reached" in r.warnings[0]
    out, err = io.StringIO(), io.StringIO()
    code = main(["exec", "--page-limit", "1", "-o", "csv", sql], out=out, err=err)
    assert code == 0
    assert len(out.getvalue().splitlines()) == 1 + 5
    assert "warning: page limit 1 reached" in err.getvalue()


@pytest.mark.parametrize(
    ("sql", "control"),
    [
        (
            "SELECT count(*), count(TrainingJobDefinition) FROM "
            "aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1' AND "
            "StatusEquals = 'Completed'",
            "SELECT count(*), count(TrainingJobDefinition) FROM "
            "aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1' AND "
            "HyperParameterTuningJobStatus = 'Completed'",
        ),
        (
            "SELECT count(*), count(trials) FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1' "
            "AND filter = 'state=\"JOB_STATE_SUCCEEDED\"' AND pageSize = 10",
            "SELECT count(*), count(trials) FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1' "
            "AND state = 'JOB_STATE_SUCCEEDED'",
        ),
    ],
)
def test_a_list_only_param_keeps_its_rows_through_hydration(
    session: Any, frozen: None, sql: str, control: str
) -> None:
    # a param that only the list call takes (StatusEquals, filter, pageSize) was NULL in the
    # rows that the per-row get filled, so its own WHERE dropped them all: 0 rows, exit 0
    got = session.execute(sql).rows
    assert got == session.execute(control).rows
    assert got[0][0] > 0 and got[0][0] == got[0][1]
    assert session.execute(sql).rows == got  # the second read, from the cache, agrees


def test_provider_tables_load_without_file_access(sandbox: Sandbox) -> None:
    # the page files DuckDB reads are the store's own: file_access=False leaves them reachable
    with stackql_tuning.connect(**sandbox.settings(), file_access=False) as s:
        jobs = s.execute(
            "SELECT count(*) FROM aws.sagemaker.hyper_parameter_tuning_jobs "
            "WHERE region = 'us-east-1'"
        ).rows
        trials = s.execute(
            "SELECT count(*) FROM google.aiplatform.hyperparameter_tuning_job_trials "
            "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
        ).rows
    assert jobs[0][0] > 0 and trials[0][0] > 0


CORRELATED = [
    # each form of correlated subquery: the training jobs' params compared to the outer row
    (
        "SELECT j.HyperParameterTuningJobName AS job, (SELECT count(*) FROM {TJ} t "
        "WHERE t.HyperParameterTuningJobName = j.HyperParameterTuningJobName "
        "AND t.region = j.region) AS n FROM {SM} j WHERE j.region = 'us-east-1'"
    ),
    (
        "SELECT j.HyperParameterTuningJobName AS job, x.n FROM {SM} j, LATERAL (SELECT count(*) "
        "AS n FROM {TJ} t WHERE t.HyperParameterTuningJobName = j.HyperParameterTuningJobName "
        "AND t.region = j.region) x WHERE j.region = 'us-east-1'"
    ),
]


@pytest.mark.parametrize("sql", CORRELATED)
def test_a_correlated_subquery_binds_from_the_outer_row(session: Any, sql: str) -> None:
    # it was "cannot query ... without its required parameters": the outer column bound
    # nothing; the answer is the join's
    tables = {"SM": "aws.sagemaker.hyper_parameter_tuning_jobs"}
    tables["TJ"] = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
    got = session.execute(sql.format(**tables) + " ORDER BY job")
    joined = session.execute(
        "SELECT j.HyperParameterTuningJobName AS job, count(t.TrainingJobName) AS n "
        "FROM {SM} j LEFT JOIN {TJ} t ON t.HyperParameterTuningJobName = "
        "j.HyperParameterTuningJobName AND t.region = j.region WHERE j.region = 'us-east-1' "
        "GROUP BY ALL ORDER BY job".format(**tables)
    )
    assert got.rows == joined.rows and len(got.rows) > 5
    assert any(n > 0 for _, n in got.rows)


def test_exists_over_a_provider_table_binds_from_the_outer_values(session: Any) -> None:
    hpt = "google.aiplatform.hyperparameter_tuning_jobs"
    got = session.execute(
        "SELECT p.project FROM (VALUES ('ml-research-prod'), ('ml-platform-dev')) p(project) "
        f"WHERE EXISTS (SELECT 1 FROM {hpt} t WHERE t.projectsId = p.project "
        "AND t.locationsId = 'us-central1') ORDER BY 1"
    )
    direct = session.execute(
        f"SELECT DISTINCT projectsId FROM {hpt} WHERE projectsId IN ('ml-research-prod', "
        "'ml-platform-dev') AND locationsId = 'us-central1' ORDER BY 1"
    )
    assert got.rows == direct.rows and got.rows


def test_a_correlated_number_compared_with_a_text_param_binds(session: Any) -> None:
    # the twin IN failed "Cannot compare values of type VARCHAR and BIGINT" (an IN the user
    # never wrote), where `=` casts and the join works
    session.execute("CREATE OR REPLACE TABLE acc AS SELECT 123456789012::BIGINT AS id")
    got = session.execute(
        "SELECT id FROM acc WHERE EXISTS (SELECT 1 FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        "a WHERE a.AwsAccountId = acc.id AND a.region = 'us-east-1')"
    )
    assert got.rows == [(123456789012,)]
