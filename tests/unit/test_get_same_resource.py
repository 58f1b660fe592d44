"""Two gets of one table that the API answers with the same resource add one row, not two:
SageMaker names are not case sensitive (``IN ('myjob', 'MyJob')`` made two describes, both
answered with job 'myjob', and the WHERE kept both: the job twice), and Vertex AI may answer a
get by project id and one by project number with the same name. A get answered for a name
asked only in another case says so: the WHERE that compares the name as written drops the row.
"""

from __future__ import annotations

from typing import Any

import pytest
import responses

from stackql_tuning.session import Session
from tests.unit.test_aws_replies_shapes import Server, describe, ok, server, session

__all__ = ["server"]  # the fixture, imported for the tests below

HPT = "aws.sagemaker.hyper_parameter_tuning_jobs"


def _one_job_named_myjob(server: Server) -> None:
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        if req.get("HyperParameterTuningJobName", "").casefold() == "myjob":
            return ok(describe("myjob"))
        return 400, b'{"__type": "ResourceNotFound", "Message": "no such job"}'

    server.answer(script)


def test_names_that_differ_in_case_only_give_the_job_once(server: Server) -> None:
    _one_job_named_myjob(server)
    sql = (
        f"SELECT HyperParameterTuningJobName, BestTrainingJob ->> 'TrainingJobName' FROM {HPT} "
        "WHERE region = 'us-east-1' AND HyperParameterTuningJobName IN ('myjob', 'MyJob')"
    )
    with session(server) as s:
        result = s.execute(sql)
    assert result.rows == [("myjob", "myjob-t1")]
    assert len(server.seen) == 2  # both asked: which name is the job's is the API's answer
    assert result.warnings == []  # 'myjob' was asked for as it is named: nothing to say


def test_a_name_asked_only_in_another_case_says_why_the_row_is_missing(server: Server) -> None:
    _one_job_named_myjob(server)
    sql = (
        f"SELECT HyperParameterTuningJobName FROM {HPT} "
        "WHERE region = 'us-east-1' AND HyperParameterTuningJobName IN ('MyJob', 'MYJOB')"
    )
    with session(server) as s:
        result = s.execute(sql)
    assert result.rows == []  # SQL's = tells 'MyJob' from 'myjob'
    [warning] = result.warnings  # one job: one warning, whichever name was answered first
    assert "answered with HyperParameterTuningJobName 'myjob'" in warning
    assert "write 'myjob'" in warning


def test_a_job_joined_by_names_in_two_cases_is_one_row_per_match(server: Server) -> None:
    _one_job_named_myjob(server)
    sql = (
        "SELECT v.n, j.HyperParameterTuningJobName "
        "FROM (VALUES ('myjob', 'us-east-1'), ('MyJob', 'us-east-1')) v(n, r) "
        f"JOIN {HPT} j ON j.HyperParameterTuningJobName = v.n AND j.region = v.r"
    )
    with session(server) as s:
        rows = s.execute(sql).rows
    assert rows == [("myjob", "myjob")]  # the job was in the table twice: 'myjob' matched both
    assert [t for t, _, _ in server.seen] == ["DescribeHyperParameterTuningJob"] * 2


BASE = "http://vertex.test"
NAME = "projects/4242/locations/us-central1/hyperparameterTuningJobs/123"


@pytest.mark.usefixtures("requests_http")
@responses.activate
def test_a_vertex_job_got_by_project_id_and_number_is_one_row() -> None:
    for project in ("p1", "4242"):
        responses.get(
            f"{BASE}/v1/projects/{project}/locations/us-central1/hyperparameterTuningJobs/123",
            json={"name": NAME, "displayName": "d", "state": "JOB_STATE_RUNNING"},
        )
    sql = (
        "SELECT name, state FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId IN ('p1', '4242') AND locationsId = 'us-central1' "
        "AND hyperparameterTuningJobsId = '123'"
    )
    with Session(google_endpoint=BASE, auth={"google": {"type": "anonymous"}}) as s:
        result = s.execute(sql)
    assert result.rows == [(NAME, "JOB_STATE_RUNNING")]
    assert len(responses.calls) == 2
