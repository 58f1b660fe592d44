"""A SageMaker change (create, delete, stop) is sent again only when the server surely did not
act on it: a throttling error, or no connection made. Once the request may have been acted on
(the reply lost, a server error), the call fails as "outcome unknown", as the Google side's do,
and never with what a second attempt met (the job the first one created "already exists", the
job it deleted "cannot be found", with the hint that nothing was done).

Over the loopback server of ``test_aws_replies_shapes``; the pure rule (:func:`surely_not_done`)
and the retry loop are tested without I/O.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stackql_tuning.errors import ProviderError
from stackql_tuning.settings import Settings
from stackql_tuning.transports.retry import RateLimits, RetryPolicy
from tests.unit.test_aws_replies_shapes import Server, server, session

__all__ = ["server"]  # the fixture

CONFIG = {
    "Strategy": "Bayesian",
    "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
    "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "auc"},
}
DEFINITION = {
    "AlgorithmSpecification": {"TrainingImage": "x", "TrainingInputMode": "File"},
    "RoleArn": "arn:aws:iam::123456789012:role/r",
    "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}
CHANGES = {
    "created": (
        "INSERT INTO aws.sagemaker.hyper_parameter_tuning_jobs (region, "
        "HyperParameterTuningJobName, HyperParameterTuningJobConfig, TrainingJobDefinition) "
        f"SELECT 'us-east-1', 'myjob', '{json.dumps(CONFIG)}', '{json.dumps(DEFINITION)}'",
        "CreateHyperParameterTuningJob",
        ("ResourceInUse", "Job with name myjob already exists"),
    ),
    "deleted": (
        "DELETE FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        "WHERE HyperParameterTuningJobName = 'myjob' AND region = 'us-east-1'",
        "DeleteHyperParameterTuningJob",
        ("ResourceNotFound", "Amazon SageMaker can't find a tuning job with name myjob"),
    ),
    "done": (
        "EXEC aws.sagemaker.hyper_parameter_tuning_jobs.stop "
        "@region = 'us-east-1', @HyperParameterTuningJobName = 'myjob'",
        "StopHyperParameterTuningJob",
        ("ResourceNotFound", "Amazon SageMaker can't find a tuning job with name myjob"),
    ),
}


def error(code: str, message: str, status: int = 400) -> tuple[int, bytes]:
    return status, json.dumps({"__type": code, "message": message}).encode()


def done(target: str) -> tuple[int, bytes]:
    if target.startswith("Create"):
        return 200, b'{"HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:1:hpt/myjob"}'
    return 200, b""


def run(server: Server, sql: str) -> str:
    with session(server) as s, pytest.raises(ProviderError) as info:
        s.execute(sql)
    return str(info.value)


@pytest.mark.parametrize("verb", list(CHANGES))
def test_a_change_whose_reply_is_lost_is_reported_as_unknown(server: Server, verb: str) -> None:
    sql, target, (code, message) = CHANGES[verb]

    def script(t: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes] | None:
        # the first request is acted on and its reply lost; another would meet what it did
        return None if n == 1 else error(code, message)

    server.answer(script)
    text = run(server, sql)
    assert [t for t, _, _ in server.seen] == [target]  # sent once
    assert f"outcome unknown, it may have been {verb}" in text
    assert code not in text and f"nothing was {verb}" not in text


@pytest.mark.parametrize("verb", list(CHANGES))
def test_a_server_error_is_not_sent_again(server: Server, verb: str) -> None:
    sql, target, _ = CHANGES[verb]
    server.answer(lambda t, req, region, n: error("InternalFailure", "boom", 500))
    text = run(server, sql)
    assert [t for t, _, _ in server.seen] == [target]
    assert "InternalFailure: boom" in text and "outcome unknown" in text


@pytest.mark.parametrize("verb", list(CHANGES))
def test_a_throttled_change_is_sent_again(server: Server, verb: str) -> None:
    sql, target, _ = CHANGES[verb]

    def script(t: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        return error("ThrottlingException", "Rate exceeded") if n == 1 else done(t)

    server.answer(script)
    with session(server) as s:
        result = s.execute(sql)
    assert [t for t, _, _ in server.seen] == [target, target]
    assert not result.failures


def test_a_change_throttled_every_time_says_how_often_it_was_tried(server: Server) -> None:
    sql, target, _ = CHANGES["created"]
    server.answer(lambda t, req, region, n: error("ThrottlingException", "Rate exceeded"))
    text = run(server, sql)
    assert [t for t, _, _ in server.seen] == [target] * 3  # max_attempts
    assert "ThrottlingException: Rate exceeded (after 3 attempts)" in text
    assert "outcome unknown" not in text and "nothing was created" in text


def test_a_429_without_a_known_code_is_a_throttle(server: Server) -> None:
    sql, target, _ = CHANGES["deleted"]

    def script(t: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        return (429, b"") if n == 1 else done(t)

    server.answer(script)
    with session(server) as s:
        s.execute(sql)
    assert [t for t, _, _ in server.seen] == [target, target]


def test_reads_are_still_retried_by_botocore(server: Server) -> None:
    from tests.unit.test_aws_replies_shapes import LIST, page

    def script(t: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes] | None:
        return None if n == 1 else page("a")

    server.answer(script)
    with session(server) as s:
        assert s.execute(LIST).rows == [("a", "us-east-1")]
    assert len(server.seen) == 2


# -- the rule and the loop, without I/O ---------------------------------------------------------
@pytest.fixture(scope="module")
def create_model() -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateHyperParameterTuningJob")


def client_error(code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "CreateHyperParameterTuningJob")  # type: ignore[arg-type]


def test_only_a_request_surely_not_acted_on_may_be_sent_again(create_model: Any) -> None:
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
        SSLError,
    )

    from stackql_tuning.transports.aws import surely_not_done

    url = "http://127.0.0.1:9/"
    not_done = [
        EndpointConnectionError(endpoint_url=url),
        ConnectTimeoutError(endpoint_url=url),
        client_error("ThrottlingException", 400),
        client_error("Throttling", 400),
        client_error("SomethingNew", 429),
    ]
    maybe_done = [
        ConnectionClosedError(endpoint_url=url),
        ReadTimeoutError(endpoint_url=url),
        SSLError(endpoint_url=url, error="CERTIFICATE_VERIFY_FAILED"),
        client_error("InternalFailure", 500),
        client_error("ServiceUnavailable", 503),
        client_error("ResourceInUse", 400),
        client_error("ResourceLimitExceeded", 400),
        ValueError("a reply that could not be read"),
    ]
    assert [surely_not_done(e, create_model) for e in not_done] == [True] * len(not_done)
    assert [surely_not_done(e, create_model) for e in maybe_done] == [False] * len(maybe_done)


def test_a_refused_connection_is_tried_again_within_the_budget(create_model: Any) -> None:
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

    from stackql_tuning.registry.loader import default_registry
    from stackql_tuning.transports.aws import AwsTransport

    slept: list[float] = []
    policy = RetryPolicy(max_attempts=3, sleep=slept.append)
    t = AwsTransport(Settings(), default_registry(), RateLimits(None), retry=policy)
    failures: list[Exception] = [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9/"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9/"),
    ]

    def send(**kwargs: Any) -> dict[str, Any]:
        if failures:
            raise failures.pop(0)
        return {"HyperParameterTuningJobArn": "arn"}

    assert t._send_change(send, create_model, {}, ("aws", "", "us-east-1")) == (
        {"HyperParameterTuningJobArn": "arn"},
        3,
    )
    assert len(slept) == 2

    failures[:] = [ConnectionClosedError(endpoint_url="http://127.0.0.1:9/")]
    with pytest.raises(ConnectionClosedError):
        t._send_change(send, create_model, {}, ("aws", "", "us-east-1"))
    assert len(slept) == 2  # not tried again


@pytest.mark.parametrize("verb", ["deleted", "done"])
def test_a_change_answered_with_a_page_that_is_not_json_is_unknown(
    server: Server, verb: str
) -> None:
    # a delete or a stop has no output shape: a 200 HTML page (a captive portal) was "done"
    sql, target, _ = CHANGES[verb]
    server.answer(lambda t, req, region, n: (200, b"<html>Sign in to the network</html>"))
    text = run(server, sql)
    assert [t for t, _, _ in server.seen] == [target]
    assert f"outcome unknown, it may have been {verb}" in text and "not JSON" in text


@pytest.mark.parametrize("verb", ["deleted", "done"])
def test_a_change_answered_with_an_error_body_and_200_is_unknown(server: Server, verb: str) -> None:
    # a delete or a stop answered 200 {"__type": ...} was "deleted" / "request accepted"
    sql, target, _ = CHANGES[verb]
    server.answer(lambda t, req, region, n: error("ValidationException", "nope", 200))
    text = run(server, sql)
    assert [t for t, _, _ in server.seen] == [target]
    assert f"outcome unknown, it may have been {verb}" in text
    assert "the reply is an error, not the empty reply expected: ValidationException: nope" in text
