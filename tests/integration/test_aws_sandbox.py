"""Plain boto3 against the AWS sandbox: create, list (paginated), describe, stop, delete, the
operations the sandbox adds to moto, errors, the request log and the admin endpoints."""

from __future__ import annotations

import itertools

import pytest
import requests
from botocore.exceptions import ClientError

from stackql_tuning.sandbox.runner import Sandbox

pytestmark = pytest.mark.integration

_names = itertools.count(1)
RANGES = {
    "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "10"}],
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"}
    ],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


def request(name: str, *, jobs: int = 8, parallel: int = 2, kind: str = "Maximize") -> dict:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": kind, "MetricName": "validation:auc"},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": jobs,
                "MaxParallelTrainingJobs": parallel,
            },
            "ParameterRanges": RANGES,
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": "xgb:1", "TrainingInputMode": "File"},
            "RoleArn": "arn:aws:iam::123456789012:role/sm",
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names):04d}"


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def frozen(fresh_sandbox: Sandbox) -> Sandbox:
    fresh_sandbox.aws.configure(frozen=True)
    return fresh_sandbox


def test_create_describe_delete(sandbox: Sandbox) -> None:
    sm = sandbox.aws.client("us-east-2")
    name = unique("crud")
    arn = sm.create_hyper_parameter_tuning_job(**request(name))["HyperParameterTuningJobArn"]
    assert arn == f"arn:aws:sagemaker:us-east-2:123456789012:hyper-parameter-tuning-job/{name}"
    job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert job["HyperParameterTuningJobStatus"] == "InProgress"
    assert job["HyperParameterTuningJobConfig"]["ParameterRanges"] == RANGES
    sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    with pytest.raises(ClientError) as e:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert error_code(e) == "ResourceNotFound"


def test_list_paginates_250_jobs_exactly(sandbox: Sandbox) -> None:
    region = "ap-northeast-1"
    names = [f"page-{i:03d}" for i in range(250)]
    for name in names:  # fast path: moto's create without HTTP (create over HTTP is tested above)
        sandbox.aws.gap.create_direct("123456789012", region, request(name, jobs=2))
    sm = sandbox.aws.client(region)
    pages = list(
        sm.get_paginator("list_hyper_parameter_tuning_jobs").paginate(
            SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 100}
        )
    )
    got = [
        s["HyperParameterTuningJobName"]
        for p in pages
        for s in p["HyperParameterTuningJobSummaries"]
    ]
    assert [len(p["HyperParameterTuningJobSummaries"]) for p in pages] == [100, 100, 50]
    assert got == names
    # AWS defaults (moto's differ): 10 items, by Name, ascending
    first = sm.list_hyper_parameter_tuning_jobs()
    assert [
        s["HyperParameterTuningJobName"] for s in first["HyperParameterTuningJobSummaries"]
    ] == names[:10]
    assert first["NextToken"]
    with pytest.raises(ClientError) as e:
        sm.list_hyper_parameter_tuning_jobs(MaxResults=101)
    assert error_code(e) == "ValidationException"


def test_job_progresses_to_completed_with_best_training_job(frozen: Sandbox) -> None:
    sm = frozen.aws.client("us-east-2")
    name = unique("progress")
    sm.create_hyper_parameter_tuning_job(**request(name, jobs=25, parallel=3))
    start = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert start["HyperParameterTuningJobStatus"] == "InProgress"
    assert "BestTrainingJob" not in start
    frozen.aws.advance(1.5)  # 1.5 s at speed 3600 = 90 simulated minutes
    middle = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert middle["HyperParameterTuningJobStatus"] == "InProgress"
    assert 0 < middle["TrainingJobStatusCounters"]["Completed"] < 25
    frozen.aws.advance(3600)
    job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert job["HyperParameterTuningJobStatus"] in ("Completed", "Failed")
    counters = job["TrainingJobStatusCounters"]
    assert counters["InProgress"] == 0
    assert sum(counters.values()) == sum(job["ObjectiveStatusCounters"].values())

    summaries = [
        s
        for page in sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
            HyperParameterTuningJobName=name, PaginationConfig={"PageSize": 10}
        )
        for s in page["TrainingJobSummaries"]
    ]
    assert len(summaries) == sum(counters.values())
    assert [s["TrainingJobName"] for s in summaries] == sorted(
        s["TrainingJobName"] for s in summaries
    )
    for s in summaries:
        hp = s["TunedHyperParameters"]
        assert 3 <= int(hp["max_depth"]) <= 10
        assert 0.01 <= float(hp["eta"]) <= 0.3
        assert hp["booster"] in ("gbtree", "dart")
        assert s["TuningJobName"] == name
    if job["HyperParameterTuningJobStatus"] == "Completed":
        best = job["BestTrainingJob"]
        by_metric = sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            SortBy="FinalObjectiveMetricValue",
            SortOrder="Descending",
            MaxResults=1,
        )["TrainingJobSummaries"][0]
        assert best["TrainingJobName"] == by_metric["TrainingJobName"]
        metric = best["FinalHyperParameterTuningJobObjectiveMetric"]
        assert metric["MetricName"] == "validation:auc" and metric["Type"] == "Maximize"
    completed = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, StatusEquals="Completed", MaxResults=100
    )["TrainingJobSummaries"]
    assert len(completed) == counters["Completed"]


def test_stop_moves_through_stopping_to_stopped(frozen: Sandbox) -> None:
    sm = frozen.aws.client("us-east-2")
    name = unique("stop")
    sm.create_hyper_parameter_tuning_job(**request(name, jobs=20))
    frozen.aws.advance(0.5)
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert job["HyperParameterTuningJobStatus"] == "Stopping"
    with pytest.raises(ClientError) as e:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert error_code(e) == "ValidationException"
    frozen.aws.advance(60)
    job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert job["HyperParameterTuningJobStatus"] == "Stopped"
    assert job["TrainingJobStatusCounters"]["Stopped"] >= 1
    assert job["TrainingJobStatusCounters"]["InProgress"] == 0
    assert "HyperParameterTuningEndTime" in job
    listed = sm.list_hyper_parameter_tuning_jobs(NameContains=name, StatusEquals="Stopped")
    assert [
        s["HyperParameterTuningJobName"] for s in listed["HyperParameterTuningJobSummaries"]
    ] == [name]


def test_a_region_sagemaker_is_not_offered_in_is_an_aws_error(
    sandbox: Sandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    # moto raised a KeyError: a 500 HTML page and the server's traceback on stderr
    sm = sandbox.aws.client("us-east-99")
    with pytest.raises(ClientError) as e:
        sm.list_hyper_parameter_tuning_jobs()
    assert error_code(e) == "UnrecognizedClientException"
    assert "'us-east-99'" in e.value.response["Error"]["Message"]
    assert "Traceback" not in capfd.readouterr().err


def test_unknown_jobs_and_bad_tokens_are_aws_errors(sandbox: Sandbox) -> None:
    sm = sandbox.aws.client("us-east-2")
    calls = [
        sm.describe_hyper_parameter_tuning_job,
        sm.stop_hyper_parameter_tuning_job,
        sm.list_training_jobs_for_hyper_parameter_tuning_job,
        sm.delete_hyper_parameter_tuning_job,
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call(HyperParameterTuningJobName="no-such-job")
        assert error_code(e) == "ResourceNotFound", call
        assert "no-such-job" in e.value.response["Error"]["Message"]
    name = unique("token")
    sm.create_hyper_parameter_tuning_job(**request(name))
    with pytest.raises(ClientError) as e:
        sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, NextToken="not-a-token"
        )
    assert error_code(e) == "ValidationException"


def test_seeded_jobs_match_the_truth(sandbox: Sandbox) -> None:
    truth = sandbox.truth["aws"]
    assert set(truth["regions"]) == {"us-east-1", "eu-west-1"}
    for region, jobs in truth["regions"].items():
        assert 20 <= len(jobs) <= 40
        assert set(jobs.values()) == {"Completed", "InProgress", "Failed", "Stopping", "Stopped"}
        sm = sandbox.aws.client(region)
        listed = {
            s["HyperParameterTuningJobName"]: s["HyperParameterTuningJobStatus"]
            for p in sm.get_paginator("list_hyper_parameter_tuning_jobs").paginate(
                PaginationConfig={"PageSize": 100}
            )
            for s in p["HyperParameterTuningJobSummaries"]
        }
        assert listed == jobs
        for name, facts in list(truth["jobs"][region].items())[:6]:
            job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            assert len(name) <= 32
            assert job["HyperParameterTuningJobStatus"] == facts["status"]
            best = job.get("BestTrainingJob")
            assert (best or {}).get("TrainingJobName") == facts["best_training_job"]
            if best:
                assert best["TunedHyperParameters"] == facts["best_hyperparameters"]
                assert best["FinalHyperParameterTuningJobObjectiveMetric"] == facts["best_metric"]


def test_seed_via_boto3_equals_seed_direct(sandbox: Sandbox) -> None:
    from stackql_tuning.sandbox.seed_aws import seed_aws

    kw = {"seed": 7, "regions": ("ca-central-1",), "jobs_per_region": (10, 12)}
    over_http = seed_aws(sandbox.aws, account="111111111111", via="boto3", **kw)
    direct = seed_aws(sandbox.aws, account="222222222222", via="direct", **kw)

    def comparable(truth: dict) -> dict:
        return {
            region: {
                n: {k: v for k, v in j.items() if k not in ("account", "creation_time")}
                for n, j in jobs.items()
            }
            for region, jobs in truth["jobs"].items()
        }

    assert over_http["regions"] == direct["regions"]
    assert comparable(over_http) == comparable(direct)
    listed = sandbox.aws.client(
        "ca-central-1", account="111111111111"
    ).list_hyper_parameter_tuning_jobs(MaxResults=100)["HyperParameterTuningJobSummaries"]
    assert {s["HyperParameterTuningJobName"] for s in listed} == set(
        over_http["regions"]["ca-central-1"]
    )
    assert all(":111111111111:" in s["HyperParameterTuningJobArn"] for s in listed)


def test_request_log_and_admin_endpoints(fresh_sandbox: Sandbox) -> None:
    aws = fresh_sandbox.aws
    sm = aws.client("eu-west-1")
    names = list(fresh_sandbox.truth["aws"]["regions"]["eu-west-1"])[:3]
    for name in names:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    log = aws.requests()
    assert [(r["operation"], r["region"], r["status"]) for r in log] == [
        ("DescribeHyperParameterTuningJob", "eu-west-1", 200)
    ] * 3
    assert [r["params"]["HyperParameterTuningJobName"] for r in log] == names

    over_http = requests.get(f"{aws.url}/__admin/requests", timeout=5).json()
    assert [r["operation"] for r in over_http] == ["DescribeHyperParameterTuningJob"] * 3
    assert requests.post(f"{aws.url}/__admin/reset-log", timeout=5).ok
    assert aws.requests() == []
    config = requests.post(f"{aws.url}/__admin/config", json={"latency": 0.01}, timeout=5).json()
    assert config["latency"] == 0.01
    bad = requests.post(f"{aws.url}/__admin/config", json={"latency": -1}, timeout=5)
    assert bad.status_code == 400 and "latency" in bad.json()["message"]
    assert requests.get(f"{aws.url}/__admin/nope", timeout=5).status_code == 404
    assert requests.get(f"{aws.url}/__admin/health", timeout=5).json() == {"ok": True}
    before = aws.clock.now()
    moved = requests.post(f"{aws.url}/__admin/advance", json={"seconds": 5}, timeout=5).json()
    assert moved["now"] >= before + 5
    back = requests.post(f"{aws.url}/__admin/advance", json={"seconds": -5}, timeout=5)
    assert back.status_code == 400 and "forward" in back.json()["message"]
    with pytest.raises(ClientError) as e:
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="missing-job")
    assert aws.requests()[-1]["error"] == "ResourceNotFound"
    assert aws.requests()[-1]["status"] == 400
    assert error_code(e) == "ResourceNotFound"


def test_sandbox_env_and_settings(sandbox: Sandbox) -> None:
    env = sandbox.env()
    assert env["AWS_ENDPOINT_URL"] == sandbox.aws.url
    assert env["STACKQL_TUNING_GOOGLE_ENDPOINT"] == sandbox.google.url
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    settings = sandbox.settings()
    assert settings["aws_endpoint"] == sandbox.aws.url
    assert settings["auth"]["aws"]["keyIDenvvar"] == "STACKQL_TUNING_SANDBOX_KEY_ID"
    assert settings["auth"]["google"] == {"type": "anonymous"}
    assert set(sandbox.truth) == {"google", "aws"}


def test_an_assumed_roles_calls_are_all_in_its_account(frozen: Sandbox) -> None:
    # the gap layer's own operations (list training jobs, stop) and the request log took the
    # keys of an assumed role for the default account while moto served describe from the
    # role's: listing the training jobs of the second account's job was ResourceNotFound
    from stackql_tuning.sandbox.runner import SECOND_ACCOUNT, SECOND_ACCOUNT_ROLE

    keys = frozen.aws.client("us-east-2", "sts").assume_role(
        RoleArn=SECOND_ACCOUNT_ROLE, RoleSessionName="test"
    )["Credentials"]
    sm = frozen.aws.client(
        "us-east-2",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )
    name = unique("role")
    arn = sm.create_hyper_parameter_tuning_job(**request(name, jobs=6))[
        "HyperParameterTuningJobArn"
    ]
    assert f":{SECOND_ACCOUNT}:" in arn
    frozen.aws.advance(0.5)
    frozen.aws.reset_log()
    sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    listed = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert listed["TrainingJobSummaries"]
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    job = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert job["HyperParameterTuningJobStatus"] == "Stopping"
    assert frozen.aws.job(name, region="us-east-2", account=SECOND_ACCOUNT).name == name
    log = [(r["operation"], r["account"], r["status"]) for r in frozen.aws.requests()]
    assert log == [
        ("DescribeHyperParameterTuningJob", SECOND_ACCOUNT, 200),
        ("ListTrainingJobsForHyperParameterTuningJob", SECOND_ACCOUNT, 200),
        ("StopHyperParameterTuningJob", SECOND_ACCOUNT, 200),
        ("DescribeHyperParameterTuningJob", SECOND_ACCOUNT, 200),
    ]
    with pytest.raises(ClientError) as e:  # not in the default account
        frozen.aws.client("us-east-2").describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name
        )
    assert error_code(e) == "ResourceNotFound"
    sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
