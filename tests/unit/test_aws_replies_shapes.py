"""SageMaker replies that do not fit the API, from a loopback server: a 200 whose body is not
JSON, empty, HTML, a list, or lacks the list's required member; a page 2 that breaks; a describe
answered with HTML; values of the wrong type (a number as NextToken); an error reply that names
no error. Each must fail the call that met it with a ProviderError naming the call and what is
wrong (never an empty or short result, never a Python exception's name), through the path every
failed call takes: ``--on-error continue`` keeps the other calls' rows and reports it (exit 3).

The server (:class:`FakeSageMaker`) is shared with ``test_aws_replies_mutations``.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from stackql_tuning import cli
from stackql_tuning.errors import ProviderError
from stackql_tuning.session import Session

#: (target, request body, region, number of this target's request) -> what to answer:
#: (status, body) or None to read the request and close the connection without a reply
Script = Callable[[str, dict[str, Any], str, int], "tuple[int, bytes] | None"]

LIST = (
    "SELECT HyperParameterTuningJobName, region FROM aws.sagemaker.hyper_parameter_tuning_jobs "
    "WHERE region = 'us-east-1'"
)
FANOUT = (
    "SELECT HyperParameterTuningJobName, region FROM aws.sagemaker.hyper_parameter_tuning_jobs "
    "WHERE region IN ('us-east-1', 'eu-west-1')"
)
PYTHON_NAMES = re.compile(
    r"\b(Attribute|Value|Type|Key|Index|UnicodeDecode|JSONDecode)Error\b|Traceback|has no attribute"
)


def summary(name: str, region: str = "us-east-1") -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{region}:123456789012:hpt/{name}",
        "HyperParameterTuningJobStatus": "Completed",
        "Strategy": "Bayesian",
        "CreationTime": 1700000000.5,
        "TrainingJobStatusCounters": {"Completed": 1},
        "ObjectiveStatusCounters": {"Succeeded": 1},
    }


def describe(name: str) -> dict[str, Any]:
    return {
        **summary(name),
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 1},
        },
        "BestTrainingJob": {
            "TrainingJobName": f"{name}-t1",
            "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/t1",
            "CreationTime": 1700000000.5,
            "TrainingJobStatus": "Completed",
            "TunedHyperParameters": {"lr": "0.1"},
        },
    }


def ok(obj: Any) -> tuple[int, bytes]:
    return 200, json.dumps(obj).encode()


def page(*names: str, token: str | None = None, region: str = "us-east-1") -> tuple[int, bytes]:
    body: dict[str, Any] = {"HyperParameterTuningJobSummaries": [summary(n, region) for n in names]}
    if token:
        body["NextToken"] = token
    return ok(body)


class FakeSageMaker(BaseHTTPRequestHandler):
    """SageMaker's JSON 1.1 protocol as ``script`` answers it; every request is recorded as
    (target, region, body)."""

    protocol_version = "HTTP/1.1"
    script: Script
    seen: list[tuple[str, str, dict[str, Any]]]
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        target = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
        scope = re.search(r"Credential=[^/]+/\d+/([^/]+)/", self.headers.get("Authorization", ""))
        region = scope.group(1) if scope else "?"
        with self.lock:
            self.seen.append((target, region, body))
            n = sum(1 for t, r, _ in self.seen if (t, r) == (target, region))
        answer = type(self).script(target, body, region, n)
        if answer is None:  # read, maybe acted on, and the reply lost
            self.close_connection = True
            return
        status, data = answer
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "req-1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server:
    def __init__(self, handler: type[FakeSageMaker], url: str) -> None:
        self.handler = handler
        self.url = url

    def answer(self, script: Script) -> None:
        self.handler.script = staticmethod(script)  # type: ignore[assignment]

    @property
    def seen(self) -> list[tuple[str, str, dict[str, Any]]]:
        return self.handler.seen


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDREPLIESTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "replies-test-secret")
    monkeypatch.setattr("time.sleep", lambda s: None)  # botocore's backoff and ours
    handler = type("Handler", (FakeSageMaker,), {"seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield Server(handler, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()


def session(server: Server, **settings: Any) -> Session:
    return Session(aws_endpoint=server.url, max_attempts=3, retry_base=0.001, **settings)


def failure_of(server: Server, sql: str) -> ProviderError:
    with session(server) as s, pytest.raises(ProviderError) as info:
        s.execute(sql)
    text = str(info.value)
    assert not PYTHON_NAMES.search(text), text
    return info.value


# -- defect 1: a broken 200 list reply is a failed call, not an empty result ------------------
BROKEN_LISTS = {
    "not json": (
        b'{"HyperParameterTuningJobSummaries": [{"HyperParameterTuningJobName": "a"',
        "the reply is not JSON",
    ),
    "empty": (b"", "the reply is empty"),
    "html": (b"<html><body>captive portal</body></html>", "the reply is not JSON"),
    "no items": (b'{"Something": 1}', "the reply lacks HyperParameterTuningJobSummaries"),
    "null items": (
        b'{"HyperParameterTuningJobSummaries": null}',
        "the reply lacks HyperParameterTuningJobSummaries",
    ),
}


@pytest.mark.parametrize("body,expected", BROKEN_LISTS.values(), ids=list(BROKEN_LISTS))
def test_a_broken_list_reply_fails_the_call(server: Server, body: bytes, expected: str) -> None:
    server.answer(lambda target, req, region, n: (200, body))
    error = failure_of(server, LIST)
    [failed] = error.failures
    assert (failed.resource, failed.method) == ("aws.sagemaker.hyper_parameter_tuning_jobs", "list")
    assert failed.params == {"region": "us-east-1"}
    assert expected in failed.message
    assert "region='us-east-1'" in str(error) and expected in str(error)
    assert len(server.seen) == 1  # a reply that came whole is not asked for again


def test_an_empty_list_is_still_an_empty_result(server: Server) -> None:
    server.answer(lambda target, req, region, n: page())
    with session(server) as s:
        assert s.execute(LIST).rows == []


def test_a_broken_region_fails_the_fanout_or_is_reported_beside_the_rows(server: Server) -> None:
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        if region == "eu-west-1":
            return 200, b'{"HyperParameterTuningJobSummaries": ['
        return page("a", "b")

    server.answer(script)
    error = failure_of(server, FANOUT)
    assert [f.params for f in error.failures] == [{"region": "eu-west-1"}]
    assert "the reply is not JSON" in error.failures[0].message

    with session(server, on_error="continue") as s:
        result = s.execute(FANOUT)
    assert sorted(result.rows) == [("a", "us-east-1"), ("b", "us-east-1")]
    assert [(f.method, f.params) for f in result.failures] == [("list", {"region": "eu-west-1"})]


def test_a_broken_second_page_is_not_a_short_result(server: Server) -> None:
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        if req.get("NextToken") == "p2":
            return 200, b'{"HyperParameterTuningJobSummaries": ['
        return page("a", "b", token="p2")

    server.answer(script)
    error = failure_of(server, LIST)
    assert "the reply is not JSON" in error.failures[0].message


def test_the_cli_exits_1_or_3_with_the_call_named(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        return (200, b"<html>x</html>") if region == "eu-west-1" else page("a")

    server.answer(script)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["exec", FANOUT, "-o", "csv", "--max-attempts", "1"], out, err) == 1
    assert out.getvalue() == ""
    assert "list(region='eu-west-1')" in err.getvalue()
    assert "the reply is not JSON" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    argv = ["exec", FANOUT, "-o", "csv", "--on-error", "continue", "--max-attempts", "1"]
    assert cli.main(argv, out, err) == 3
    assert "a,us-east-1" in out.getvalue()
    assert "list(region='eu-west-1')" in err.getvalue()
    assert "Traceback" not in err.getvalue()


# -- defect 2: a describe answered with HTML or nothing --------------------------------------
@pytest.mark.parametrize("body", [b"<html>oops</html>", b""], ids=["html", "empty"])
def test_a_broken_describe_fails_hydration_and_get(server: Server, body: bytes) -> None:
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        if target.startswith("Describe"):
            return 200, body
        return page("a", "b")

    server.answer(script)
    error = failure_of(
        server,
        "SELECT HyperParameterTuningJobName, BestTrainingJob FROM "
        "aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1'",
    )
    assert {f.method for f in error.failures} == {"get"}
    assert {f.params["HyperParameterTuningJobName"] for f in error.failures} == {"a", "b"}
    error = failure_of(
        server,
        "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        "WHERE region = 'us-east-1' AND HyperParameterTuningJobName = 'myjob'",
    )
    [failed] = error.failures
    assert failed.method == "get"
    assert failed.params == {"region": "us-east-1", "HyperParameterTuningJobName": "myjob"}
    assert ("the reply is empty" if not body else "the reply is not JSON") in failed.message


def test_a_good_describe_still_hydrates(server: Server) -> None:
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        if target.startswith("Describe"):
            return ok(describe(req["HyperParameterTuningJobName"]))
        return page("a")

    server.answer(script)
    with session(server) as s:
        rows = s.execute(
            "SELECT HyperParameterTuningJobName, json_extract_string(BestTrainingJob, "
            "'$.TrainingJobName') FROM aws.sagemaker.hyper_parameter_tuning_jobs "
            "WHERE region = 'us-east-1'"
        ).rows
    assert rows == [("a", "a-t1")]


# -- defect 4: replies of the wrong shape, in words -------------------------------------------
WRONG_SHAPES = {
    "a list": (json.dumps([summary("a")]).encode(), "the reply is a list, not a JSON object"),
    "items as an object": (
        json.dumps({"HyperParameterTuningJobSummaries": summary("a")}).encode(),
        "HyperParameterTuningJobSummaries is an object, not a list",
    ),
    "items as text": (
        b'{"HyperParameterTuningJobSummaries": "abc"}',
        "HyperParameterTuningJobSummaries is 'abc', not a list",
    ),
    "a bad timestamp": (
        json.dumps(
            {"HyperParameterTuningJobSummaries": [{**summary("a"), "CreationTime": "not a time"}]}
        ).encode(),
        "HyperParameterTuningJobSummaries[0].CreationTime is 'not a time', not a timestamp",
    ),
    "a text where an object belongs": (
        json.dumps(
            {
                "HyperParameterTuningJobSummaries": [
                    summary("a"),
                    {**summary("b"), "TrainingJobStatusCounters": "x"},
                ]
            }
        ).encode(),
        "HyperParameterTuningJobSummaries[1].TrainingJobStatusCounters is 'x', not an object",
    ),
    "a number as NextToken": (
        json.dumps({"HyperParameterTuningJobSummaries": [summary("a")], "NextToken": 7}).encode(),
        "NextToken is 7, not a string",
    ),
    "not UTF-8": (
        b'{"HyperParameterTuningJobSummaries": [{"HyperParameterTuningJobName": "\xff\xfe"}]}',
        "the reply is not JSON",
    ),
}


@pytest.mark.parametrize("body,expected", WRONG_SHAPES.values(), ids=list(WRONG_SHAPES))
def test_a_reply_of_the_wrong_shape_is_named_in_words(
    server: Server, body: bytes, expected: str
) -> None:
    server.answer(lambda target, req, region, n: (200, body))
    error = failure_of(server, LIST)  # a ProviderError: not a PlanError blaming the statement
    [failed] = error.failures
    assert failed.method == "list" and failed.params == {"region": "us-east-1"}
    assert expected in failed.message
    assert len(server.seen) == 1  # a NextToken of 7 was sent back, and failed as the user's


@pytest.mark.parametrize(
    "status,body,expected",
    [
        (403, b"", "403: Forbidden (the error reply names no error)"),
        (403, b"{}", "403: Forbidden (the error reply names no error)"),
        (
            400,
            b'{"__type": "ValidationException"}',
            "400: ValidationException: the error reply has no message",
        ),
        (400, b'{"__type": "ValidationException", "message": "bad"}', "ValidationException: bad"),
    ],
)
def test_an_error_reply_says_its_status_once(
    server: Server, status: int, body: bytes, expected: str
) -> None:
    server.answer(lambda target, req, region, n: (status, body))
    error = failure_of(server, LIST)
    assert expected in str(error)
    assert f"{status}: {status}" not in str(error) and "An error occurred" not in str(error)


def test_the_misfit_walk_names_the_first_wrong_value() -> None:
    import botocore.session

    from stackql_tuning.transports.aws_parse import misfit

    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("DescribeHyperParameterTuningJob").output_shape

    def stamp(value: Any) -> Any:
        if value == "bad":
            raise ValueError(value)
        return value

    good = describe("a")
    assert misfit(shape, good, stamp) is None
    assert misfit(shape, {**good, "BestTrainingJob": []}, stamp) == (
        "BestTrainingJob is a list, not an object"
    )
    assert misfit(shape, {**good, "LastModifiedTime": "bad"}, stamp) == (
        "LastModifiedTime is 'bad', not a timestamp"
    )
    tuned = {**good["BestTrainingJob"], "TunedHyperParameters": {"lr": 0.1}}
    assert misfit(shape, {**good, "BestTrainingJob": tuned}, stamp) == (
        "BestTrainingJob.TunedHyperParameters.lr is 0.1, not a string"
    )
    counters = {"Completed": True}
    assert misfit(shape, {**good, "TrainingJobStatusCounters": counters}, stamp) == (
        "TrainingJobStatusCounters.Completed is True, not an integer"
    )


def test_a_describe_naming_the_job_in_another_case_is_the_job() -> None:
    # SageMaker names are not case sensitive: a describe answers with the name as created
    # (an AWAIT after a stop of 'myjob' failed: "the reply is about ... 'MyJob'")
    from stackql_tuning.registry.loader import default_registry
    from stackql_tuning.transports.base import Call, other_resource

    res = default_registry().resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    get = next(m for m in res.methods if m.name == "get")
    call = Call(res, get, {"region": "us-east-1", "HyperParameterTuningJobName": "myjob"})
    assert other_resource(call, describe("MyJob")) is None
    assert "not the 'myjob' asked for" in (other_resource(call, describe("other")) or "")


def test_a_describe_about_another_job_fails_its_call(server: Server) -> None:
    # the row of j1 became the other job's (hydration), and a get of j1 gave 0 rows, exit 0
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        if target.startswith("Describe"):
            return ok(describe("other"))
        return page("a")

    server.answer(script)
    for sql in (
        "SELECT HyperParameterTuningJobName, BestTrainingJob FROM "
        "aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1'",
        "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        "WHERE region = 'us-east-1' AND HyperParameterTuningJobName = 'a'",
    ):
        [failed] = failure_of(server, sql).failures
        assert failed.method == "get"
        assert "about HyperParameterTuningJobName 'other', not the 'a' asked for" in failed.message


def test_a_list_item_without_its_name_fails_the_list_call_not_the_plan(server: Server) -> None:
    # a describe-only column needs a get per item: an item without its name was
    # "plan error: ...get needs parameter HyperParameterTuningJobName", naming no call
    def script(target: str, req: dict[str, Any], region: str, n: int) -> tuple[int, bytes]:
        nameless = summary("x")
        del nameless["HyperParameterTuningJobName"]
        return ok({"HyperParameterTuningJobSummaries": [nameless]})

    server.answer(script)
    with session(server) as s, pytest.raises(ProviderError) as info:
        s.execute(
            "SELECT BestTrainingJob FROM aws.sagemaker.hyper_parameter_tuning_jobs "
            "WHERE region = 'us-east-1'"
        )
    text = str(info.value)
    assert text.startswith("provider error: aws.sagemaker.hyper_parameter_tuning_jobs.list(")
    assert "bad reply: an item of the list names no HyperParameterTuningJobName" in text
