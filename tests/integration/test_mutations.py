"""Mutations against the sandbox (loopback only): INSERT, DELETE, EXEC, AWAIT, --dry-run.

Own names, so no other module's jobs are touched: Google project ``h7-mutations`` and AWS region
``ca-central-1`` (no other integration module uses either).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from stackql_tuning import cli, errors
from stackql_tuning.sandbox.runner import Sandbox
from stackql_tuning.session import Session

HPT = "google.aiplatform.hyperparameter_tuning_jobs"
TJ = "google.aiplatform.tuning_jobs"
SM = "aws.sagemaker.hyper_parameter_tuning_jobs"
PROJECT = "h7-mutations"
LOC = "us-central1"
REGION = "ca-central-1"
WHERE = f"projectsId = '{PROJECT}' AND locationsId = '{LOC}'"

STUDY = json.dumps(
    {
        "metrics": [{"metricId": "accuracy", "goal": "MAXIMIZE"}],
        "parameters": [
            {
                "parameterId": "learning_rate",
                "doubleValueSpec": {"minValue": 1e-4, "maxValue": 0.1},
                "scaleType": "UNIT_LOG_SCALE",
            },
            {"parameterId": "batch_size", "discreteValueSpec": {"values": [32, 64, 128]}},
        ],
        "algorithm": "RANDOM_SEARCH",
    }
)
TRIAL = json.dumps(
    {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-8"},
                "replicaCount": "1",
                "containerSpec": {
                    "imageUri": "us-docker.pkg.dev/h7/trainer:latest",
                    "args": ["--epochs=10"],
                },
            }
        ]
    }
)
AWS_CONFIG = json.dumps(
    {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {
            "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5"}]
        },
    }
)
AWS_DEFINITION = json.dumps(
    {
        "StaticHyperParameters": {"objective": "binary:logistic"},
        "AlgorithmSpecification": {
            "TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
            "TrainingInputMode": "File",
        },
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "OutputDataConfig": {"S3OutputPath": "s3://h7-bucket/out"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 10,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
)


@pytest.fixture
def session(sandbox: Sandbox, sandbox_env: dict[str, str]) -> Iterator[Session]:
    s = Session(**sandbox.settings(), await_interval=0.05, await_timeout=60.0)
    s.notify = lambda text: None  # type: ignore[attr-defined]
    yield s
    s.close()


def hpt_insert(name: str, extra: str = "") -> str:
    return (
        f"INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec) SELECT '{PROJECT}', '{LOC}', '{name}', 8, "
        f"2, '{STUDY}', '{TRIAL}' {extra}"
    )


def create_hpt(session: Session, name: str) -> str:
    result = session.execute(hpt_insert(name, "RETURNING name"))
    return str(result.rows[0][0])


def job_id(name: str) -> str:
    return name.rsplit("/", 1)[1]


def hpt_states(session: Session) -> dict[str, str]:
    rows = session.execute(f"SELECT name, state FROM {HPT} WHERE {WHERE}").rows
    return {r[0]: r[1] for r in rows}


def test_seed_001_insert_creates_a_tuning_job(session: Session) -> None:
    """Seed 001's INSERT, its placeholders filled and its output-only fields left out."""
    spec = json.dumps(
        {
            "trainingDatasetUri": "gs://h7-bucket/train.jsonl",
            "validationDatasetUri": "gs://h7-bucket/validation.jsonl",
            "hyperParameters": {"epochCount": "4", "learningRateMultiplier": 1.0},
        }
    )
    result = session.execute(
        f"""/*+ create */
INSERT INTO {TJ} (
locationsId,
projectsId,
supervisedTuningSpec,
encryptionSpec,
tunedModelDisplayName,
description,
baseModel,
labels
)
SELECT
'{LOC}',
'{PROJECT}',
'{spec}',
'{{}}',
'h7-tuned',
'seed 001 example',
'gemini-1.0-pro-002',
'{{"team": "ml"}}'
RETURNING name, baseModel, tunedModelDisplayName;"""
    )
    name, base, display = result.rows[0]
    assert name.startswith(f"projects/{PROJECT}/locations/{LOC}/tuningJobs/")
    assert (base, display) == ("gemini-1.0-pro-002", "h7-tuned")
    assert result.messages[-1] == "1 resource created"
    listed = session.execute(f"SELECT name, description FROM {TJ} WHERE {WHERE}").rows
    assert (name, "seed 001 example") in listed


def test_seed_001_insert_with_output_only_fields_drops_them(session: Session) -> None:
    spec = '{"trainingDatasetUri": "gs://h7-bucket/train.jsonl"}'
    result = session.execute(
        f"INSERT INTO {TJ} (locationsId, projectsId, supervisedTuningSpec, name, state, "
        f"createTime, baseModel) SELECT '{LOC}', '{PROJECT}', '{spec}', 'x', 'JOB_STATE_RUNNING', "
        "'2020-01-01T00:00:00Z', 'gemini-1.0-pro-002'"
    )
    assert result.has_rows is False
    assert any("output-only" in w and "name, state, createTime" in w for w in result.warnings)


def test_hpt_insert_returning_and_select(session: Session) -> None:
    result = session.execute(hpt_insert("h7-hpt-a", "RETURNING *"))
    row = result.to_dicts()[0]
    assert row["displayName"] == "h7-hpt-a"
    assert row["maxTrialCount"] == 8
    assert json.loads(row["studySpec"])["algorithm"] == "RANDOM_SEARCH"
    assert row["projectsId"] == PROJECT and row["hyperparameterTuningJobsId"]
    assert row["name"] in hpt_states(session)


def test_insert_select_clones_a_job_into_another_region(session: Session) -> None:
    source = create_hpt(session, "h7-clone-source")
    result = session.execute(
        f"INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
        "parallelTrialCount, studySpec, trialJobSpec) "
        "SELECT projectsId, 'europe-west4', displayName || '-clone', maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec FROM {HPT} "
        f"WHERE {WHERE} AND hyperparameterTuningJobsId = '{job_id(source)}' "
        "RETURNING name, locationsId, displayName"
    )
    ((name, loc, display),) = result.rows
    assert loc == "europe-west4" and display == "h7-clone-source-clone"
    assert name.startswith(f"projects/{PROJECT}/locations/europe-west4/")


def test_several_rows_report_each_outcome(session: Session) -> None:
    bad_study = '{"metrics": [{"metricId": "acc"}], "parameters": []}'
    sql = (
        f"INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec) VALUES "
        f"('{PROJECT}', '{LOC}', 'h7-multi-1', 2, 1, '{STUDY}', '{TRIAL}'), "
        f"('{PROJECT}', '{LOC}', 'h7-multi-2', 2, 1, '{STUDY}', '{TRIAL}'), "
        f"('{PROJECT}', '{LOC}', 'h7-multi-3', 2, 1, '{bad_study}', '{TRIAL}')"
    )
    with pytest.raises(errors.ProviderError) as info:
        session.execute(sql)
    text = str(info.value)
    assert "2 of 3 created; failed: row 3: 400" in text
    assert "row 1: projects/" in text and "row 2: projects/" in text
    names = session.execute(f"SELECT displayName FROM {HPT} WHERE {WHERE}").rows
    shown = {r[0] for r in names}
    assert {"h7-multi-1", "h7-multi-2"} <= shown and "h7-multi-3" not in shown
    assert info.value.partial is None  # no RETURNING: nothing to show
    # with RETURNING, the error carries the rows of what was created, and the CLI prints
    # them to stdout before the error (a script needs the new names)
    returning = sql.replace("h7-multi-", "h7-multi-r") + " RETURNING displayName"
    with pytest.raises(errors.ProviderError) as info:
        session.execute(returning)
    assert info.value.partial.rows == [("h7-multi-r1",), ("h7-multi-r2",)]
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["exec", "-o", "csv", returning.replace("h7-multi-r", "h7-multi-c")], out, err)
    assert code == 1 and out.getvalue() == "displayName\nh7-multi-c1\nh7-multi-c2\n"
    assert "2 of 3 created" in err.getvalue()


def test_cancel_with_await_ends_cancelled(session: Session) -> None:
    name = create_hpt(session, "h7-cancel")
    lines: list[str] = []
    session.notify = lines.append  # type: ignore[attr-defined]
    result = session.execute(
        f"/*+ AWAIT */ EXEC {HPT}.cancel @projectsId='{PROJECT}', @locationsId='{LOC}', "
        f"@hyperparameterTuningJobsId='{job_id(name)}'"
    )
    assert result.messages == [f"cancel: {name}: now JOB_STATE_CANCELLED"]
    assert hpt_states(session)[name] == "JOB_STATE_CANCELLED"


def test_cancel_doc_form_with_required_comments_and_json(session: Session) -> None:
    name = create_hpt(session, "h7-cancel-doc")
    session.execute(
        f"""EXEC {HPT}.cancel
@hyperparameterTuningJobsId='{job_id(name)}' --required,
@locationsId='{LOC}' --required,
@projectsId='{PROJECT}' --required
@@json='{{}}';"""
    )
    assert hpt_states(session)[name] in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")


def test_exec_list_and_showresults(session: Session) -> None:
    create_hpt(session, "h7-list")
    result = session.execute(
        f"EXEC {HPT}._list @projectsId='{PROJECT}', @locationsId='{LOC}', @pageSize=2"
    )
    assert "h7-list" in {r["displayName"] for r in result.to_dicts()}
    assert result.calls >= 2  # paginated
    name = create_hpt(session, "h7-showresults")
    shown = session.execute(
        f"/*+ SHOWRESULTS */ EXEC {HPT}.cancel @projectsId='{PROJECT}', @locationsId='{LOC}', "
        f"@hyperparameterTuningJobsId='{job_id(name)}'"
    )
    # a cancel replies with nothing: SHOWRESULTS shows the job as it is now (its hint says
    # "print the finished resource"; it printed the empty reply, "OK")
    (row,) = shown.to_dicts()
    assert row["displayName"] == "h7-showresults"
    # the job's fields and where it lives; not the list's options, NULL here (plan.star)
    assert {"projectsId", "locationsId", "hyperparameterTuningJobsId"} <= set(row)
    assert not {"filter", "pageSize", "readMask"} & set(row)
    # an EXEC of the list keeps the option it names (@pageSize=2), not the others
    assert "pageSize" in result.columns and "filter" not in result.columns
    assert row["state"] in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")
    created = session.execute(
        f"/*+ SHOWRESULTS */ INSERT INTO {HPT} (projectsId, locationsId, displayName, "
        "studySpec, trialJobSpec, maxTrialCount, parallelTrialCount) "
        f"SELECT projectsId, locationsId, 'h7-shown', studySpec, trialJobSpec, 2, 1 FROM {HPT} "
        f"WHERE {WHERE} AND hyperparameterTuningJobsId = '{job_id(name)}'"
    )
    # an INSERT prints what it created, as RETURNING * (it printed nothing)
    assert [r["displayName"] for r in created.to_dicts()] == ["h7-shown"]


def test_delete_deletes_exactly_one_job(session: Session, fresh_sandbox: Sandbox) -> None:
    names = [create_hpt(session, f"h7-del-{i}") for i in range(3)]
    for name in names:
        session.execute(
            f"/*+ AWAIT */ EXEC {HPT}.cancel @projectsId='{PROJECT}', @locationsId='{LOC}', "
            f"@hyperparameterTuningJobsId='{job_id(name)}'"
        )
    before = hpt_states(session)
    assert all(n in before for n in names)
    result = session.execute(
        f"/*+ AWAIT */ DELETE FROM {HPT} WHERE {WHERE} "
        f"AND hyperparameterTuningJobsId = '{job_id(names[1])}'"
    )
    assert result.messages[-1] == "1 resource deleted"
    after = hpt_states(session)
    assert set(before) - set(after) == {names[1]}
    ops = [r for r in fresh_sandbox.google.requests() if "/operations/" in r["path"]]
    assert ops, "AWAIT polls the delete operation"


def test_delete_without_await_reports_the_operation(session: Session) -> None:
    name = create_hpt(session, "h7-del-op")
    session.execute(
        f"/*+ AWAIT */ EXEC {HPT}.cancel @projectsId='{PROJECT}', @locationsId='{LOC}', "
        f"@hyperparameterTuningJobsId='{job_id(name)}'"
    )
    result = session.execute(f"DELETE FROM {HPT} WHERE name = '{name}'")
    # the emulator's delete operation is not done when it replies: started, not deleted
    assert result.messages[0].startswith(f"deleting {name} (operation ")
    assert result.messages[-1] == "1 deletion started"
    assert name not in hpt_states(session)


@pytest.mark.parametrize(
    "sql",
    [
        f"DELETE FROM {HPT} WHERE {WHERE}",
        f"DELETE FROM {HPT} WHERE {WHERE} AND displayName = 'h7-hpt-a'",
        f"DELETE FROM {HPT} WHERE {WHERE} AND hyperparameterTuningJobsId IN "
        f"(SELECT hyperparameterTuningJobsId FROM {HPT} WHERE {WHERE})",
    ],
    ids=["no id", "non-param predicate", "subquery"],
)
def test_unsafe_delete_fails_before_any_call(
    session: Session, fresh_sandbox: Sandbox, sql: str
) -> None:
    # emulated time stands still: jobs of earlier tests must not change state while we compare
    # (at 3600x, the ~0.1 s of this test was 6 emulated minutes: RUNNING became SUCCEEDED)
    fresh_sandbox.google.clock.set_speed(0.0)
    before = hpt_states(session)
    fresh_sandbox.google.reset_log()
    with pytest.raises(errors.PlanError):
        session.execute(sql)
    assert fresh_sandbox.google.requests() == []
    assert hpt_states(session) == before


def test_a_returning_mistake_fails_before_the_create(
    session: Session, fresh_sandbox: Sandbox
) -> None:
    """RETURNING is bound before any call: a mistyped column used to be reported as a plan
    error after the job was created, so a re-run made a second one."""
    fresh_sandbox.google.reset_log()
    with pytest.raises(errors.PlanError, match="nme"):
        session.execute(hpt_insert("h7-returning-typo", "RETURNING nme"))
    assert fresh_sandbox.google.requests() == []
    names = session.execute(f"SELECT displayName FROM {HPT} WHERE {WHERE}").rows
    assert ("h7-returning-typo",) not in names


def cancelled_hpt(session: Session, name: str) -> str:
    job = create_hpt(session, name)
    session.execute(
        f"/*+ AWAIT */ EXEC {HPT}.cancel @projectsId='{PROJECT}', @locationsId='{LOC}', "
        f"@hyperparameterTuningJobsId='{job_id(job)}'"
    )
    return job


def half_failed_delete(job: str, hint: str = "") -> str:
    return (
        f"DELETE {hint} FROM {HPT} WHERE {WHERE} "
        f"AND hyperparameterTuningJobsId IN ('{job_id(job)}', '999999999')"
    )


def test_half_failed_delete_fails_unless_on_error_continue(
    session: Session, sandbox: Sandbox
) -> None:
    job = cancelled_hpt(session, "h7-partial-a")
    with pytest.raises(errors.ProviderError, match="1 of 2 deleted"):
        session.execute(half_failed_delete(job))
    assert job not in hpt_states(session)  # the call that could be made was made

    job = cancelled_hpt(session, "h7-partial-b")
    result = session.execute(half_failed_delete(job, "/*+ ON_ERROR=CONTINUE */"))
    assert result.messages[-1] == "1 of 2 deletions started"
    assert [f.params["hyperparameterTuningJobsId"] for f in result.failures] == ["999999999"]
    assert job not in hpt_states(session)

    # the CLI: exit 3 (partial result), as SELECT with --on-error continue
    job = cancelled_hpt(session, "h7-partial-c")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["exec", half_failed_delete(job), "--on-error", "continue"], out, err)
    assert code == 3, err.getvalue()
    assert "1 of 2 deletions started" in err.getvalue()
    assert "1 call(s) failed:" in err.getvalue() and "999999999" in err.getvalue()
    assert job not in hpt_states(session)


def test_half_failed_insert_with_on_error_continue_returns_what_was_created(
    session: Session,
) -> None:
    # the second row names the same job: SageMaker refuses one of the two
    row = f"('{REGION}', 'h7-partial-dup', '{AWS_CONFIG}', '{AWS_DEFINITION}')"
    result = session.execute(
        f"INSERT /*+ ON_ERROR=CONTINUE */ INTO {SM} (region, HyperParameterTuningJobName, "
        f"HyperParameterTuningJobConfig, TrainingJobDefinition) VALUES {row}, {row} "
        "RETURNING HyperParameterTuningJobName"
    )
    assert result.rows == [("h7-partial-dup",)]
    assert result.messages[-1] == "1 of 2 resources created"
    assert len(result.failures) == 1


def test_out_of_range_integers_fail_before_any_call(
    session: Session, fresh_sandbox: Sandbox
) -> None:
    fresh_sandbox.google.reset_log()
    fresh_sandbox.aws.reset_log()
    too_big = hpt_insert("h7-range").replace(", 8, ", ", 3000000000, ")
    with pytest.raises(errors.PlanError, match=r"column maxTrialCount: 3000000000 is out of"):
        session.execute(too_big)
    config = AWS_CONFIG.replace(
        '"MaxNumberOfTrainingJobs": 6', '"MaxNumberOfTrainingJobs": 99999999999'
    )
    with pytest.raises(errors.PlanError, match=r"field ResourceLimits.MaxNumberOfTrainingJobs"):
        session.execute(
            f"INSERT INTO {SM} (region, HyperParameterTuningJobName, "
            f"HyperParameterTuningJobConfig, TrainingJobDefinition) VALUES ('{REGION}', "
            f"'h7-range', '{config}', '{AWS_DEFINITION}')"
        )
    assert fresh_sandbox.google.requests() == [] and fresh_sandbox.aws.requests() == []


def test_aws_insert_select_stop_and_delete(session: Session, fresh_sandbox: Sandbox) -> None:
    result = session.execute(
        f"INSERT INTO {SM} (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig, "
        f"TrainingJobDefinition) VALUES ('{REGION}', 'h7-hpo-a', '{AWS_CONFIG}', "
        f"'{AWS_DEFINITION}'), ('{REGION}', 'h7-hpo-b', '{AWS_CONFIG}', '{AWS_DEFINITION}') "
        "RETURNING HyperParameterTuningJobName, HyperParameterTuningJobArn"
    )
    assert [r[0] for r in result.rows] == ["h7-hpo-a", "h7-hpo-b"]
    assert all(r[1].endswith(r[0]) for r in result.rows)
    jobs = dict(
        session.execute(
            "SELECT HyperParameterTuningJobName, HyperParameterTuningJobStatus "
            f"FROM {SM} WHERE region = '{REGION}'"
        ).rows
    )
    assert jobs.keys() >= {"h7-hpo-a", "h7-hpo-b"}
    stopped = session.execute(
        f"/*+ AWAIT */ EXEC {SM}.stop @region='{REGION}', @HyperParameterTuningJobName='h7-hpo-a'"
    )
    assert stopped.messages == [f"stop: h7-hpo-a in {REGION}: now Stopped"]
    # the doc form: the input member passed in @@json, --required comments
    session.execute(
        f"""/*+ AWAIT */ EXEC {SM}.stop_hyper_parameter_tuning_job
@region='{REGION}' --required
@@json='{{"HyperParameterTuningJobName": "h7-hpo-b"}}';"""
    )
    deleted = session.execute(
        f"/*+ AWAIT */ DELETE FROM {SM} WHERE region = '{REGION}' "
        "AND HyperParameterTuningJobName = 'h7-hpo-a'"
    )
    assert deleted.messages[-1] == "1 resource deleted"
    left = {
        r[0]
        for r in session.execute(
            f"SELECT HyperParameterTuningJobName FROM {SM} WHERE region = '{REGION}'"
        ).rows
    }
    assert "h7-hpo-a" not in left and "h7-hpo-b" in left
    ops = [r["operation"] for r in fresh_sandbox.aws.requests()]
    assert "StopHyperParameterTuningJob" in ops and "DeleteHyperParameterTuningJob" in ops


def test_dry_run_sends_nothing_and_shows_no_credentials(
    sandbox: Sandbox, sandbox_env: dict[str, str], fresh_sandbox: Sandbox
) -> None:
    s = Session(**sandbox.settings(), dry_run=True)
    try:
        outputs = []
        for sql in (
            hpt_insert("h7-dry"),
            f"INSERT INTO {SM} (region, HyperParameterTuningJobName, "
            "HyperParameterTuningJobConfig, TrainingJobDefinition) VALUES "
            f"('{REGION}', 'h7-dry', '{AWS_CONFIG}', '{AWS_DEFINITION}')",
            f"DELETE FROM {HPT} WHERE {WHERE} AND hyperparameterTuningJobsId IN ('1', '2')",
            f"/*+ AWAIT */ EXEC {SM}.stop @region='{REGION}', @HyperParameterTuningJobName='x'",
            f"EXEC {HPT}._list @projectsId='{PROJECT}', @locationsId='{LOC}'",
            f"INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
            "parallelTrialCount, studySpec, trialJobSpec) SELECT projectsId, 'europe-west4', "
            "displayName, maxTrialCount, parallelTrialCount, studySpec, trialJobSpec "
            f"FROM {HPT} WHERE {WHERE}",
        ):
            result = s.execute(sql)
            assert result.kind == "dry-run"
            outputs.append(repr(result.rows) + repr(result.messages) + repr(result.warnings))
    finally:
        s.close()
    text = "\n".join(outputs)
    assert fresh_sandbox.google.requests() == []
    assert fresh_sandbox.aws.requests() == []
    for secret in {v for k, v in sandbox_env.items() if "SECRET" in k or "KEY" in k}:
        assert secret not in text
    assert "CreateHyperParameterTuningJob" in text and "POST http" in text


def test_insert_with_await_waits_for_the_job_to_end(session: Session, sandbox: Sandbox) -> None:
    # a create that replies with the job (not an operation) returned at once: the hint did
    # nothing, silently (EXEC's AWAIT waited for the job)
    clock = sandbox.google.clock
    speed = clock.speed
    clock.set_speed(speed * 20)  # the emulated job runs its trials quickly
    try:
        result = session.execute("INSERT /*+ AWAIT */ " + hpt_insert("h7-await")[len("INSERT ") :])
    finally:
        clock.set_speed(speed)
    [created, count] = result.messages
    ended = created.rsplit("now ", 1)[1]  # succeeded, or now and then failed (the emulator)
    assert ended in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED") and count == "1 resource created"
    assert hpt_states(session)[created.split()[3].rstrip(",")] == ended


def test_a_stop_not_found_says_which_account_it_looked_in(session: Session) -> None:
    # the job is in another account: the error did not say the call used the default one
    with pytest.raises(errors.ProviderError) as info:
        session.execute(
            f"EXEC {SM}.stop @region='{REGION}', @HyperParameterTuningJobName='h7-nowhere'"
        )
    assert "ResourceNotFound" in str(info.value)
    assert "named no AwsAccountId" in (info.value.hint or "")


def test_insert_with_await_returns_the_job_as_it_ended(session: Session, sandbox: Sandbox) -> None:
    # RETURNING showed the job at its creation (JOB_STATE_PENDING) beside "now ..._SUCCEEDED"
    clock = sandbox.google.clock
    speed = clock.speed
    clock.set_speed(speed * 20)
    try:
        result = session.execute(
            "INSERT /*+ AWAIT */ " + hpt_insert("h7-await-ret", "RETURNING state")[len("INSERT ") :]
        )
    finally:
        clock.set_speed(speed)
    # the emulator's job ends as its trials go (succeeded, or now and then failed)
    ended = result.messages[0].rsplit("now ", 1)[1]
    assert ended in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED")
    assert result.rows == [(ended,)]


def test_insert_with_await_past_its_time_names_every_created_row(
    sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    # only row 1 was named, and rows 2.. went unreported though created
    s = Session(**sandbox.settings(), await_interval=0.05, await_timeout=60.0, timeout=1.0)
    s.notify = lambda text: None  # type: ignore[attr-defined]
    values = ", ".join(
        f"('{PROJECT}', '{LOC}', 'h7-await-many-{i}', 50, 1, '{STUDY}', '{TRIAL}')" for i in (1, 2)
    )
    sql = (
        f"INSERT /*+ AWAIT */ INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec) VALUES {values}"
    )
    try:
        with pytest.raises(errors.StatementTimeout) as info:
            s.execute(sql)
    finally:
        s.close()
    assert "2 created: row 1: projects/" in str(info.value) and "; row 2: projects/" in str(
        info.value
    )


def test_a_scripts_provider_error_names_the_statement_that_failed(session: Session) -> None:
    script = (
        "SELECT 1 AS one;\n\n"
        f"EXEC {HPT}.cancel @projectsId='{PROJECT}', @locationsId='{LOC}',\n"
        "  @hyperparameterTuningJobsId='404404404';\n"
    )
    with pytest.raises(errors.ProviderError) as caught:
        session.execute_script(script)
    assert caught.value.location.line == 3  # the EXEC's line (a provider error had none)
    assert [r.rows for r in caught.value.results] == [[(1,)]]
