"""Deploy against the sandbox touches only what it knows is the stack's:

- a read whose calls failed is never taken for an answer, even with ``--on-error continue``:
  teardown does not report a job that exists as ``absent``, build does not create a second
  one, test does not pass;
- the shipped manifests find their job by the marker their create anchor gives it (Vertex
  labels; SageMaker: the training environment, beside the tags), so a job someone else gave the
  same name survives teardown.

The stacks are copies of the shipped manifests with their own project (Vertex) or region
(SageMaker, ``ap-northeast-2``: no other integration module uses it), so the seed's jobs and
the other deploy tests are left alone.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackql_tuning.deploy import build, teardown, test
from stackql_tuning.errors import PlanError, ProviderError
from stackql_tuning.session import Session

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "us-central1"
REGION = "ap-northeast-2"


def _no_sleep(seconds: float) -> None:
    return None


def _kw() -> dict[str, Any]:
    return {"env_vars": {}, "log": [].append, "sleep": _no_sleep}


def _copy(example: str, tmp_path: Path, old: str, new: str) -> Path:
    """The shipped ``example`` with its dev ``old`` value (project or region) set to ``new``."""
    stack = tmp_path / example
    shutil.copytree(ROOT / "manifests" / example, stack)
    manifest = stack / "stackql_manifest.yml"
    text = manifest.read_text()
    assert f"value: {old}\n" in text
    manifest.write_text(text.replace(f"value: {old}\n", f"value: {new}\n", 1))
    return stack


def _google(sandbox: Any, action: str, collection: str) -> list[dict[str, Any]]:
    return [
        e
        for e in sandbox.google.requests()
        if e.get("action") == action and e.get("collection") == collection
    ]


def _jobs(sandbox: Any, collection: str, project: str) -> dict[str, str]:
    """name -> state of the jobs in ``project`` / us-central1."""
    store = sandbox.google.store
    now = sandbox.google.clock.now()
    parent = f"projects/{project}/locations/{LOCATION}"
    return {j.name: j.state(now) for j in store.jobs(collection, parent) if j is not None}


@pytest.fixture
def session(fresh_sandbox: Any) -> Iterator[Session]:
    with Session(**fresh_sandbox.settings(), retry_base=0.01) as s:
        yield s


@pytest.fixture
def faulty(fresh_sandbox: Any) -> Iterator[Any]:
    try:
        yield fresh_sandbox
    finally:
        fresh_sandbox.google.configure(faults={})


# -- a failed read is no answer ------------------------------------------------------------------
def test_on_error_continue_never_turns_failed_reads_into_absent(
    faulty: Any, session: Session, tmp_path: Path
) -> None:
    project = "deploy-safety-reads"
    stack = _copy("vertex-hpt", tmp_path, "ml-research-dev", project)
    built = build(session, stack, "dev", **_kw())
    assert built.created == ["hpt_job"]
    (job,) = _jobs(faulty, "hyperparameterTuningJobs", project)

    # every list of the project's jobs answers 503; the session goes on past failed calls
    faulty.google.configure(
        faults={
            "rate": 1.0,
            "kinds": {"503": 1},
            "match": f"{project}/locations/{LOCATION}/hyperparameterTuningJobs$",
            "retry_after": 0,
        }
    )
    faulty.google.reset_log()
    with Session(
        **faulty.settings(), on_error="continue", max_attempts=2, retry_base=0.01
    ) as going_on:
        for op, anchor in ((teardown, "exports"), (build, "exists"), (test, "statecheck")):
            with pytest.raises(ProviderError) as info:
                op(going_on, stack, "dev", **_kw())
            error = info.value
            assert "resource 'hpt_job'" in error.message, error
            assert f"/*+ {anchor} */ query failed" in error.message
            assert "hyperparameter_tuning_jobs.list(" in str(error) and "503" in str(error)
            assert error.location.resource == f"resource hpt_job, anchor {anchor}"
            assert error.exit_code == 1
    # the failed lists were made, and nothing else: no cancel, no delete, no second job
    assert any(e.get("status") == 503 for e in faulty.google.requests())
    for action in ("cancel", "delete", "create"):
        assert not _google(faulty, action, "hyperparameterTuningJobs"), action
    assert list(_jobs(faulty, "hyperparameterTuningJobs", project)) == [job]

    faulty.google.configure(faults={})
    assert teardown(session, stack, "dev", **_kw()).deleted == ["hpt_job"]


# -- a job someone else named alike is not the stack's -------------------------------------------
FOREIGN_HPT = """
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (
  projectsId, locationsId, displayName, studySpec, maxTrialCount, parallelTrialCount, trialJobSpec
)
SELECT '{project}', 'us-central1', 'vertex-hpt-dev',
  '{{"metrics": [{{"metricId": "accuracy", "goal": "MAXIMIZE"}}],
    "parameters": [{{"parameterId": "lr",
                     "doubleValueSpec": {{"minValue": 0.001, "maxValue": 0.1}}}}]}}',
  4, 2,
  '{{"workerPoolSpecs": [{{"machineSpec": {{"machineType": "n1-standard-4"}}, "replicaCount": 1,
    "containerSpec": {{"imageUri": "us-docker.pkg.dev/someone/else:1"}}}}]}}'
"""


def test_vertex_hpt_teardown_leaves_a_foreign_job_of_the_same_name(
    fresh_sandbox: Any, session: Session, tmp_path: Path
) -> None:
    project = "deploy-safety-hpt"
    stack = _copy("vertex-hpt", tmp_path, "ml-research-dev", project)
    session.execute(FOREIGN_HPT.format(project=project))  # by hand, not by the stack
    (foreign,) = _jobs(fresh_sandbox, "hyperparameterTuningJobs", project)

    fresh_sandbox.google.reset_log()
    down = teardown(session, stack, "dev", **_kw())
    assert [r.action for r in down.resources] == ["absent"]
    assert not _google(fresh_sandbox, "cancel", "hyperparameterTuningJobs")
    assert not _google(fresh_sandbox, "delete", "hyperparameterTuningJobs")
    assert list(_jobs(fresh_sandbox, "hyperparameterTuningJobs", project)) == [foreign]

    # build makes the stack's own job beside it; teardown removes that one only
    assert build(session, stack, "dev", **_kw()).created == ["hpt_job"]
    passed = test(session, stack, "dev", **_kw())
    assert not foreign.endswith("/" + passed.exports["hyperparameter_tuning_job_id"])
    assert teardown(session, stack, "dev", **_kw()).deleted == ["hpt_job"]
    assert list(_jobs(fresh_sandbox, "hyperparameterTuningJobs", project)) == [foreign]


def test_vertex_sft_teardown_leaves_a_foreign_job_of_the_same_name(
    fresh_sandbox: Any, session: Session, tmp_path: Path
) -> None:
    project = "deploy-safety-sft"
    stack = _copy("vertex-supervised-tuning", tmp_path, "ml-research-dev", project)
    parent = f"projects/{project}/locations/{LOCATION}"
    body = {
        "baseModel": "gemini-2.0-flash-lite-001",
        "tunedModelDisplayName": "vertex-sft-dev",
        "supervisedTuningSpec": {"trainingDatasetUri": "gs://someone-else/train.jsonl"},
        "labels": {"team": "someone-else"},
    }
    foreign = fresh_sandbox.google.store.insert(
        "tuningJobs", parent, body, state="JOB_STATE_RUNNING"
    )

    fresh_sandbox.google.reset_log()
    down = teardown(session, stack, "dev", **_kw())
    assert [r.action for r in down.resources] == ["absent"]
    assert not _google(fresh_sandbox, "cancel", "tuningJobs")
    assert _jobs(fresh_sandbox, "tuningJobs", project) == {foreign["name"]: "JOB_STATE_RUNNING"}


def test_sagemaker_teardown_leaves_a_foreign_job_of_the_same_name(
    fresh_sandbox: Any, session: Session, tmp_path: Path
) -> None:
    stack = _copy("sagemaker-hpo", tmp_path, "us-east-1", REGION)
    client = fresh_sandbox.aws.client(REGION)
    client.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="sagemaker-hpo-dev",
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "depth", "MinValue": "3", "MaxValue": "9"}]
            },
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {
                "TrainingImage": "someone/else:1",
                "TrainingInputMode": "File",
            },
            "RoleArn": "arn:aws:iam::123456789012:role/someone-else",
            "OutputDataConfig": {"S3OutputPath": "s3://someone-else/"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    )
    try:
        fresh_sandbox.aws.reset_log()
        down = teardown(session, stack, "dev", **_kw())
        assert [r.action for r in down.resources] == ["absent"]
        operations = {e.get("operation") for e in fresh_sandbox.aws.requests()}
        assert "StopHyperParameterTuningJob" not in operations
        assert "DeleteHyperParameterTuningJob" not in operations
        client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="sagemaker-hpo-dev")
        # the name is taken: build says so, it does not adopt the job as the stack's
        with pytest.raises(ProviderError, match="already exists"):
            build(session, stack, "dev", **_kw())
    finally:
        with contextlib.suppress(client.exceptions.ResourceNotFound):
            client.delete_hyper_parameter_tuning_job(
                HyperParameterTuningJobName="sagemaker-hpo-dev"
            )


@pytest.mark.parametrize(
    ("example", "old", "new"),
    [
        ("vertex-hpt", "ml-research-dev", "deploy-safety-marks"),
        ("vertex-supervised-tuning", "ml-research-dev", "deploy-safety-marks"),
        ("sagemaker-hpo", "us-east-1", REGION),
    ],
)
def test_what_a_stack_creates_carries_its_marker(
    fresh_sandbox: Any, session: Session, tmp_path: Path, example: str, old: str, new: str
) -> None:
    stack = _copy(example, tmp_path, old, new)
    built = build(session, stack, "dev", **_kw())
    try:
        assert len(built.created) == 1
        marker = {"stackql_deploy_stack": built.stack_name, "stackql_deploy_env": "dev"}
        if example == "sagemaker-hpo":
            client = fresh_sandbox.aws.client(REGION)
            job = client.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName="sagemaker-hpo-dev"
            )
            env = job["TrainingJobDefinition"]["Environment"]
            assert env == {k.upper(): v for k, v in marker.items()}
            tags = client.list_tags(ResourceArn=job["HyperParameterTuningJobArn"])["Tags"]
            assert {t["Key"]: t["Value"] for t in tags} == marker
        else:
            table = "hyperparameter_tuning_jobs" if example == "vertex-hpt" else "tuning_jobs"
            rows = session.execute(
                f"SELECT labels FROM google.aiplatform.{table} "
                f"WHERE projectsId = '{new}' AND locationsId = '{LOCATION}'"
            ).to_dicts()
            assert len(rows) == 1
            labels = rows[0]["labels"]
            labels = json.loads(labels) if isinstance(labels, str) else labels
            assert marker.items() <= labels.items()
    finally:
        teardown(session, stack, "dev", **_kw())


def test_a_read_cut_by_the_page_limit_is_no_answer(sandbox: Any, tmp_path: Path) -> None:
    # --page-limit 1 cut an exists query (a condition the API cannot filter on) to its
    # first page: the stack's job, on page 2, was not seen and build created a second one
    from tests.integration.test_mutations import STUDY, TRIAL

    project = "h10-cut"
    stack = tmp_path / "cut"
    (stack / "resources").mkdir(parents=True)
    (stack / "stackql_manifest.yml").write_text(
        "version: 1\nname: cut\nproviders:\n  - google\nresources:\n  - name: job\n"
        f"    props:\n      - name: project\n        value: {project}\n"
    )
    hpt = "google.aiplatform.hyperparameter_tuning_jobs"
    create = (
        f"INSERT INTO {hpt} (projectsId, locationsId, displayName, maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec) SELECT '{{{{ project }}}}', '{LOCATION}', "
        f"'target', 8, 2, '{STUDY}', '{TRIAL}'"
    )
    (stack / "resources" / "job.iql").write_text(
        f"/*+ exists */\nSELECT count(*) AS count FROM {hpt} WHERE projectsId = "
        f"'{{{{ project }}}}' AND locationsId = '{LOCATION}' AND lower(displayName) = 'target' "
        f"AND pageSize = 1;\n\n/*+ create */\n{create};\n"
    )
    with Session(**sandbox.settings()) as session:
        session.execute(create.replace("{{ project }}", project).replace("'target'", "'other'"))
        assert [r.action for r in build(session, stack, "dev", **_kw()).resources] == ["created"]
    with (
        Session(**sandbox.settings(), page_limit=1) as cut,
        pytest.raises(ProviderError, match="read only part of the rows"),
    ):
        build(cut, stack, "dev", **_kw())
    with Session(**sandbox.settings()) as session:
        names = session.execute(
            f"SELECT displayName FROM {hpt} WHERE projectsId = '{project}' "
            f"AND locationsId = '{LOCATION}' ORDER BY 1"
        ).rows
    assert names == [("other",), ("target",)]


# -- a resource that cannot be checked is never taken as absent ----------------------------------
def _two_clouds(tmp_path: Path, project: str) -> Path:
    """hpt_job (vertex-hpt's) then hpo_job (sagemaker-hpo's), whose exists query also reads
    hpt_job's export: when hpt_job is gone, nothing can check hpo_job."""
    import yaml

    stack = tmp_path / "two-clouds"
    (stack / "resources").mkdir(parents=True)
    hpt = _copy("vertex-hpt", tmp_path, "ml-research-dev", project)
    hpo = _copy("sagemaker-hpo", tmp_path, "us-east-1", REGION)
    vertex, sagemaker = (
        yaml.safe_load((s / "stackql_manifest.yml").read_text()) for s in (hpt, hpo)
    )
    manifest = {
        "version": 1,
        "name": "two-clouds",
        "providers": ["google", "aws"],
        "globals": vertex["globals"] + sagemaker["globals"],
        "resources": vertex["resources"] + sagemaker["resources"],
    }
    (stack / "stackql_manifest.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    shutil.copy(hpt / "resources" / "hpt_job.iql", stack / "resources")
    iql = (hpo / "resources" / "hpo_job.iql").read_text()
    exists, rest = iql.split(";\n\n/*+ create */", 1)
    exists += "\n  AND '{{ hyperparameter_tuning_job_id }}' <> ''"
    (stack / "resources" / "hpo_job.iql").write_text(f"{exists};\n\n/*+ create */{rest}")
    return stack


def test_teardown_never_reports_a_job_it_cannot_check_as_absent(
    fresh_sandbox: Any, session: Session, tmp_path: Path
) -> None:
    # the Vertex job is deleted by hand: the SageMaker job, whose exists query needs the
    # Vertex job's id, was "taken as gone with it" (absent, exit 0) while it still existed
    from stackql_tuning.errors import ManifestError

    project = "deploy-safety-gone"
    stack = _two_clouds(tmp_path, project)
    built = build(session, stack, "dev", **_kw())
    assert built.created == ["hpt_job", "hpo_job"]
    (job,) = _jobs(fresh_sandbox, "hyperparameterTuningJobs", project)
    where = f"projectsId = '{project}' AND locationsId = '{LOCATION}'"
    job_id = job.rsplit("/", 1)[1]
    session.execute(
        "EXEC /*+ AWAIT */ google.aiplatform.hyperparameter_tuning_jobs.cancel "
        f"@projectsId='{project}', @locationsId='{LOCATION}', "
        f"@hyperparameterTuningJobsId='{job_id}'"
    )
    session.execute(
        "DELETE /*+ AWAIT */ FROM google.aiplatform.hyperparameter_tuning_jobs "
        f"WHERE {where} AND hyperparameterTuningJobsId = '{job_id}'"
    )
    client = fresh_sandbox.aws.client(REGION)
    try:
        fresh_sandbox.aws.reset_log()
        with pytest.raises(ManifestError) as info:
            teardown(session, stack, "dev", **_kw())
        error = info.value
        assert error.exit_code == 1
        assert "resource 'hpo_job' cannot be checked" in error.message
        assert "hyperparameter_tuning_job_id, exported by resource 'hpt_job'" in error.message
        assert "delete it by hand" in (error.hint or "")
        # --on-failure ignore goes on to hpt_job, reports hpo_job unknown, and fails at the end
        with pytest.raises(ManifestError, match="could not be checked") as info:
            teardown(session, stack, "dev", on_failure="ignore", **_kw())
        report = info.value.report  # type: ignore[attr-defined]
        assert [(r.name, r.action) for r in report.resources] == [
            ("hpo_job", "unknown"),
            ("hpt_job", "absent"),
        ]
        operations = {e.get("operation") for e in fresh_sandbox.aws.requests()}
        assert "StopHyperParameterTuningJob" not in operations
        assert "DeleteHyperParameterTuningJob" not in operations
        client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="two-clouds-dev")
    finally:
        with contextlib.suppress(client.exceptions.ResourceNotFound):
            client.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName="two-clouds-dev")


def test_what_a_dry_run_finds_stops_the_build_before_any_call(
    fresh_sandbox: Any, session: Session, tmp_path: Path
) -> None:
    # a value the API refuses in the exports query: the build created the job, then failed on
    # it (and its test and teardown on the same query, so the job could not be torn down)
    project = "deploy-safety-preflight"
    stack = _copy("vertex-hpt", tmp_path, "ml-research-dev", project)
    iql = stack / "resources" / "hpt_job.iql"
    text = iql.read_text()
    exports = text.index("/*+ exports")
    iql.write_text(
        text[:exports]
        + text[exports:].replace("AND state NOT IN", "AND state = 'NOPE' AND state NOT IN", 1)
    )
    fresh_sandbox.google.reset_log()
    with pytest.raises(PlanError, match="found by the build's dry run, before any call"):
        build(session, stack, "dev", **_kw())
    assert not _google(fresh_sandbox, "create", "hyperparameterTuningJobs")
    assert not list(_jobs(fresh_sandbox, "hyperparameterTuningJobs", project))
