"""Google replies of one object that are not the object the method returns: a get of `{}` or
of another job, a create answered with an error body, a delete whose operation has no name or
failed, a cancel answered with an error. Each fails its call (a mutation's with its outcome
unknown or failed), never a row of NULLs, another job's row, or "done".

HTTP is stubbed with ``responses`` at the requests adapter (the transport's own checks run).
"""

from __future__ import annotations

from typing import Any

import pytest
import responses

from stackql_tuning.registry.loader import default_registry
from stackql_tuning.run.mutate_calls import operation_error
from stackql_tuning.settings import Settings
from stackql_tuning.transports.base import Call, CallError
from stackql_tuning.transports.google import GoogleTransport
from stackql_tuning.transports.retry import RetryPolicy

pytestmark = pytest.mark.usefixtures("requests_http")

BASE = "http://vertex.test"
HPT = default_registry().resource("google.aiplatform.hyperparameter_tuning_jobs")
PARAMS = {"projectsId": "p1", "locationsId": "us-central1"}
JOBS = f"{BASE}/v1/projects/p1/locations/us-central1/hyperparameterTuningJobs"
NAME = "projects/p1/locations/us-central1/hyperparameterTuningJobs/123"
ERROR = {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}


@pytest.fixture
def transport() -> Any:
    settings = Settings(google_endpoint=BASE, auth={"google": {"type": "anonymous"}})
    t = GoogleTransport(settings, default_registry(), retry=RetryPolicy(max_attempts=1))
    yield t
    t.close()


def _call(method: str, **params: str) -> Call:
    m = next(x for x in HPT.methods if x.name == method)
    return Call(HPT, m, {**PARAMS, **params}, {"displayName": "d"} if method == "create" else None)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({}, "the reply has no name"),
        (ERROR, "the reply has no name: it is not a GoogleCloudAiplatformV1Hyperparameter"),
        (
            {"name": "projects/p1/locations/us-east1/hyperparameterTuningJobs/123"},
            "not the locationsId 'us-central1' asked for",
        ),
        (
            {"name": "projects/p1/locations/us-central1/hyperparameterTuningJobs/999"},
            "not the hyperparameterTuningJobsId '123' asked for",
        ),
        ({"name": "projects/p1/locations/us-central1/x/1"}, "not a name of google.aiplatform"),
    ],
)
@responses.activate
def test_a_get_of_another_object_fails(transport: Any, reply: Any, message: str) -> None:
    responses.get(f"{JOBS}/123", json=reply)
    with pytest.raises(CallError, match=message):
        transport.fetch(_call("get", hyperparameterTuningJobsId="123"))


@responses.activate
def test_a_get_named_by_the_project_number_is_the_job_asked_for(transport: Any) -> None:
    # the API may name the project by its number though it was asked by its id
    responses.get(
        f"{JOBS}/123",
        json={"name": "projects/4242/locations/us-central1/hyperparameterTuningJobs/123"},
    )
    assert transport.fetch(_call("get", hyperparameterTuningJobsId="123")).status == 200


@responses.activate
def test_a_create_answered_with_an_error_body_is_not_created(transport: Any) -> None:
    responses.post(JOBS, json=ERROR)
    with pytest.raises(CallError, match="says PERMISSION_DENIED \\(403\\): denied") as e:
        transport.fetch(_call("create"))
    assert e.value.sent  # a 2xx: what the server did is not known


@pytest.mark.parametrize(
    ("method", "reply", "message"),
    [
        ("delete", ERROR, "not an operation \\(it has no name\\): it says PERMISSION_DENIED"),
        ("delete", {"done": True}, "not an operation"),
        ("cancel", ERROR, "the reply is an error, not the empty reply expected"),
    ],
)
@responses.activate
def test_a_change_answered_with_an_error_body_fails(
    transport: Any, method: str, reply: Any, message: str
) -> None:
    url = f"{JOBS}/123" + (":cancel" if method == "cancel" else "")
    (responses.delete if method == "delete" else responses.post)(url, json=reply)
    with pytest.raises(CallError, match=message):
        transport.fetch(_call(method, hyperparameterTuningJobsId="123"))


def test_an_operation_done_with_an_error_is_a_failed_call() -> None:
    # a delete answered so was reported as "deleted", exit 0
    delete = next(m for m in HPT.methods if m.name == "delete")
    failed = {"name": "operations/1", "done": True, "error": {"code": 9, "message": "running"}}
    error = operation_error(delete, failed)
    assert error is not None and error.status == 9 and not error.sent
    assert error.message == "operation operations/1 failed: running"
    assert operation_error(delete, {"name": "operations/1", "done": True}) is None
    assert operation_error(delete, {"name": "operations/1"}) is None
    get = next(m for m in HPT.methods if m.name == "get")
    assert operation_error(get, failed) is None  # a job's own error is a failed job's field
