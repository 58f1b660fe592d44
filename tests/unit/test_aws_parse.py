"""The fast parser for AWS reads (``transports/aws_parse.py``) gives what botocore's parser
gives: the same dicts and the same bytes for DuckDB, for list pages, describes with nested
timestamps and errors, against the AWS sandbox (moto) on 127.0.0.1 in this process, and for
made-up bodies that botocore treats in its own ways (member order, nulls, unknown members, text
timestamps, integers beyond 64 bits)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from stackql_tuning.registry.loader import default_registry
from stackql_tuning.sandbox.aws import SANDBOX_KEY_ID, SANDBOX_SECRET
from stackql_tuning.settings import Settings
from stackql_tuning.transports import aws_parse
from stackql_tuning.transports.aws import AwsTransport
from stackql_tuning.transports.base import Call, CallError, Page

REGION = "af-south-1"  # no other test seeds this region of moto, whose state is process-wide
JOBS = 10


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """The AWS sandbox (moto plus the operations it adds) on 127.0.0.1, its clock frozen."""
    from stackql_tuning.sandbox.aws import AwsSandbox
    from stackql_tuning.sandbox.seed_aws import seed_aws

    with AwsSandbox() as aws:
        seed_aws(aws, regions=(REGION,), jobs_per_region=(JOBS, JOBS), via="direct")
        aws.configure(frozen=True)
        try:
            yield aws.url
        finally:
            aws.configure(frozen=False)


@pytest.fixture
def transport(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AwsTransport]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SANDBOX_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SANDBOX_SECRET)
    t = AwsTransport(Settings(aws_endpoint=moto_url, max_attempts=1), default_registry())
    yield t
    t.close()


@pytest.fixture(autouse=True)
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Replies the fast path gave up on (to botocore's parser); none unless a test says so."""
    seen: list[str] = []
    real = aws_parse.FastJSONParser._fast

    def fast(self: Any, body: bytes, shape: Any) -> Any:
        try:
            return real(self, body, shape)
        except Exception as e:
            seen.append(f"{type(e).__name__}: {e}")
            raise

    monkeypatch.setattr(aws_parse.FastJSONParser, "_fast", fast)
    yield seen
    assert seen == [], seen


@contextlib.contextmanager
def stock_parser(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The transport's fetch with botocore's parser only (fast_read never switched on)."""
    real = aws_parse.fast_read
    with monkeypatch.context() as m:
        m.setattr(aws_parse, "fast_read", lambda on=True: real(False))
        yield


def both(
    t: AwsTransport, call: Call, monkeypatch: pytest.MonkeyPatch, token: str | None = None
) -> tuple[Page, Page]:
    fast = t.fetch(call, token)
    with stock_parser(monkeypatch):
        stock = t.fetch(call, token)
    return fast, stock


def assert_same(fast: Page, stock: Page) -> None:
    assert fast.obj == stock.obj
    # what run/loader.py hands DuckDB, byte for byte (member order, timestamp text)
    assert orjson.dumps(fast.obj, default=str) == orjson.dumps(stock.obj, default=str)
    assert (fast.next_token, fast.status, fast.attempts) == (
        stock.next_token,
        stock.status,
        stock.attempts,
    )


def resource(name: str) -> Any:
    return default_registry().resource(f"aws.sagemaker.{name}")


def pages(t: AwsTransport, call: Call, monkeypatch: pytest.MonkeyPatch) -> list[Page]:
    out, token = [], None
    while True:
        fast, stock = both(t, call, monkeypatch, token)
        assert_same(fast, stock)
        out.append(fast)
        token = fast.next_token
        if not token:
            return out


def test_list_pages_are_the_same(transport, monkeypatch) -> None:
    res = resource("hyper_parameter_tuning_jobs")
    call = Call(res, res.method("list"), {"region": REGION}, page_size=3)
    got = pages(transport, call, monkeypatch)
    assert len(got) == 4 and got[0].next_token
    items = [i for p in got for i in p.obj["HyperParameterTuningJobSummaries"]]
    assert len(items) == JOBS
    assert all(isinstance(i["CreationTime"], datetime) for i in items)


def test_describes_with_nested_timestamps_are_the_same(transport, monkeypatch) -> None:
    res = resource("hyper_parameter_tuning_jobs")
    listed = transport.fetch(Call(res, res.method("list"), {"region": REGION}, page_size=50))
    names = [
        i["HyperParameterTuningJobName"] for i in listed.obj["HyperParameterTuningJobSummaries"]
    ]
    nested = 0
    for name in names:
        params = {"region": REGION, "HyperParameterTuningJobName": name}
        fast, stock = both(transport, Call(res, res.method("get"), params), monkeypatch)
        assert_same(fast, stock)
        assert "TrainingJobDefinition" in fast.obj or "TrainingJobDefinitions" in fast.obj
        best = fast.obj.get("BestTrainingJob", {})
        nested += isinstance(best.get("CreationTime"), datetime)
    assert nested  # some reply had a timestamp below the top level


def test_training_job_pages_are_the_same(transport, monkeypatch) -> None:
    jobs = resource("hyper_parameter_tuning_jobs")
    listed = transport.fetch(Call(jobs, jobs.method("list"), {"region": REGION}, page_size=50))
    name = listed.obj["HyperParameterTuningJobSummaries"][0]["HyperParameterTuningJobName"]
    res = resource("hyper_parameter_tuning_job_training_jobs")
    params = {"region": REGION, "HyperParameterTuningJobName": name}
    pages(transport, Call(res, res.method("list"), params), monkeypatch)


def test_a_missing_job_raises_the_same_call_error(transport, monkeypatch) -> None:
    res = resource("hyper_parameter_tuning_jobs")
    params = {"region": REGION, "HyperParameterTuningJobName": "no-such-job"}
    call = Call(res, res.method("get"), params)
    with pytest.raises(CallError) as fast:
        transport.fetch(call)
    with stock_parser(monkeypatch), pytest.raises(CallError) as stock:
        transport.fetch(call)
    assert fast.value.not_found and stock.value.not_found
    assert (fast.value.status, fast.value.message) == (stock.value.status, stock.value.message)
    assert fast.value.status == 400 and "ResourceNotFound" in fast.value.message


def test_reads_take_the_fast_parser_and_mutations_do_not(transport, monkeypatch) -> None:
    seen: list[tuple[str, bool]] = []
    real = aws_parse.FastJSONParser._do_parse

    def spy(self: Any, response: Any, shape: Any) -> Any:
        seen.append((getattr(shape, "name", "-"), aws_parse._FAST.get()))
        return real(self, response, shape)

    monkeypatch.setattr(aws_parse.FastJSONParser, "_do_parse", spy)
    res = resource("hyper_parameter_tuning_jobs")
    listed = transport.fetch(Call(res, res.method("list"), {"region": REGION}, page_size=50))
    running = [
        j["HyperParameterTuningJobName"]
        for j in listed.obj["HyperParameterTuningJobSummaries"]
        if j["HyperParameterTuningJobStatus"] == "InProgress"
    ]
    params = {"region": REGION, "HyperParameterTuningJobName": running[-1]}
    transport.fetch(Call(res, res.method("stop"), params))
    assert seen[0] == ("ListHyperParameterTuningJobsResponse", True)
    assert seen[1:] == [(seen[1][0], False)]  # the stop


def test_query_rows_are_the_same(moto_url, transport, monkeypatch) -> None:
    import stackql_tuning

    sql = (
        "SELECT * FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        f"WHERE region = '{REGION}' ORDER BY HyperParameterTuningJobName"
    )
    auth = {"aws": {"type": "aws_signing_v4"}}

    def rows() -> list[tuple[Any, ...]]:
        with contextlib.closing(stackql_tuning.connect(aws_endpoint=moto_url, auth=auth)) as s:
            return list(s.execute(sql).rows)

    fast = rows()
    with stock_parser(monkeypatch):
        stock = rows()
    assert len(fast) == JOBS and fast == stock


# -- made-up bodies, straight through the parser --------------------------------------------


@pytest.fixture(scope="module")
def describe_shape() -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("DescribeHyperParameterTuningJob").output_shape


def parse(shape: Any, body: bytes, fast: bool, status: int = 200) -> Any:
    parser = aws_parse.FastParserFactory().create_parser("json")
    response = {"status_code": status, "headers": {"x-amzn-requestid": "r-1"}, "body": body}
    with aws_parse.fast_read(fast):
        return parser.parse(response, shape)


ODD = orjson.dumps(
    {
        "LastModifiedTime": 1700000000.5,  # out of model order
        "HyperParameterTuningJobName": "j",
        "FailureReason": None,  # null member: left out
        "NotInTheModel": {"x": 1},  # unknown member: left out
        "CreationTime": "2026-01-02T03:04:05Z",  # a timestamp as text
        "HyperParameterTuningEndTime": 1700000000,
        "BestTrainingJob": {
            "TunedHyperParameters": {"b": "2", "a": "1", "c": None},
            "TrainingJobName": "t",
            "CreationTime": 1.7e9,
            "FinalHyperParameterTuningJobObjectiveMetric": {"Value": 0.25, "MetricName": "m"},
        },
        "TrainingJobDefinitions": [
            {"DefinitionName": "d", "HyperParameterRanges": None, "StaticHyperParameters": {}},
            None,
        ],
        "TrainingJobStatusCounters": {"Completed": 18446744073},
    }
)


def dumped(obj: Any) -> bytes | str:
    """What run/loader.py would write, or the error it would meet."""
    try:
        return orjson.dumps(obj, default=str)
    except TypeError as e:  # an integer beyond 64 bits: stock replies meet it too
        return repr(e)


@pytest.mark.parametrize("tz", [None, "UTC", "Asia/Kolkata", "America/New_York"])
def test_made_up_bodies_parse_the_same(describe_shape, tz, monkeypatch, fallbacks) -> None:
    if tz is not None:
        monkeypatch.setenv("TZ", tz)
        time.tzset()
    try:
        for body in (ODD, b"", b"{}", ODD.replace(b"18446744073", b"1" * 30)):
            fast, stock = parse(describe_shape, body, True), parse(describe_shape, body, False)
            assert fast == stock
            assert dumped(fast) == dumped(stock)
            assert list(fast) == list(stock)
        assert fallbacks == ["Unsure: float where a scalar was expected"]  # the last body
        fallbacks.clear()
    finally:
        monkeypatch.delenv("TZ", raising=False)
        time.tzset()


def test_bodies_botocore_rejects_or_mends_still_go_its_way(describe_shape, fallbacks) -> None:
    odd = (b"[1, 2]", b"not json", b'{"CreationTime": NaN}', b'{"FailureReason": {"a": 1}}')
    for body in odd:
        try:
            stock = parse(describe_shape, body, False)
        except Exception as e:
            with pytest.raises(type(e)):
                parse(describe_shape, body, True)
        else:
            assert parse(describe_shape, body, True) == stock
    assert len(fallbacks) == len(odd)
    fallbacks.clear()


def test_errors_and_other_protocols_use_botocore(describe_shape) -> None:
    body = b'{"__type": "ResourceNotFound", "Message": "gone"}'
    assert parse(describe_shape, body, True, 400) == parse(describe_shape, body, False, 400)
    factory = aws_parse.FastParserFactory()
    assert not isinstance(factory.create_parser("query"), aws_parse.FastJSONParser)
    assert isinstance(factory.create_parser("json"), aws_parse.FastJSONParser)


def test_unions_documents_and_blobs_parse_the_same(fallbacks) -> None:
    from botocore.model import ShapeResolver

    shapes = ShapeResolver(
        {
            "Out": {
                "type": "structure",
                "members": {
                    "Choice": {"shape": "Choice"},
                    "Doc": {"shape": "Doc"},
                    "Data": {"shape": "Blob"},
                    "Renamed": {"shape": "Str", "locationName": "wireName"},
                    "Tree": {"shape": "Tree"},
                },
            },
            "Choice": {
                "type": "structure",
                "union": True,
                "members": {"A": {"shape": "Str"}, "B": {"shape": "Stamp"}},
            },
            "Doc": {"type": "structure", "members": {}, "document": True},
            "Tree": {
                "type": "structure",
                "members": {"Kids": {"shape": "Trees"}, "At": {"shape": "Stamp"}},
            },
            "Trees": {"type": "list", "member": {"shape": "Tree"}},
            "Blob": {"type": "blob"},
            "Str": {"type": "string"},
            "Stamp": {"type": "timestamp"},
        }
    )
    out = shapes.get_shape_by_name("Out")
    body = orjson.dumps(
        {
            "Choice": {"B": 1700000000},
            "Doc": {"z": [1, {"y": None}], "a": 2.5},
            "Data": "aGVsbG8=",
            "wireName": "w",
            "Renamed": "not on the wire",
            "Tree": {"Kids": [{"At": 1.5, "Kids": []}, None], "At": "2026-01-01T00:00:00Z"},
        }
    )
    bodies = (body, orjson.dumps({"Choice": {"Other": 1}}), b'{"Doc": {"n": 1' + b"0" * 25 + b"}}")
    for b in bodies:
        fast, stock = parse(out, b, True), parse(out, b, False)
        assert fast == stock and dumped(fast) == dumped(stock)
    assert fallbacks == ["Unsure: a number beyond 64 bits"]  # the huge number in the document
    fallbacks.clear()


def test_a_parsed_reply_writes_utc_times_with_z() -> None:
    # as Google's replies and the rendered columns write them: a time nested in a JSON column
    # (BestTrainingJob.CreationTime) read +00:00 beside its row's own CreationTime's Z
    import datetime as dt

    from stackql_tuning.transports.base import reply_json

    when = dt.datetime(2026, 11, 25, 1, 2, 3, 456000, tzinfo=dt.UTC)
    assert reply_json({"CreationTime": when}) == b'{"CreationTime":"2026-11-25T01:02:03.456000Z"}'


def test_a_time_in_the_local_zone_is_written_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore gives times in the machine's zone: on one that is not UTC they read -05:00
    import datetime as dt

    from stackql_tuning.transports import base

    monkeypatch.setattr(base, "_local_zone_is_utc", lambda: False)
    new_york = dt.timezone(dt.timedelta(hours=-5))
    when = dt.datetime(2026, 11, 24, 20, 2, 3, tzinfo=new_york)
    naive = dt.datetime(2026, 11, 24, 20, 2, 3)
    got = base.reply_json({"t": when, "n": naive, "x": [when]})
    assert (
        got
        == b'{"t":"2026-11-25T01:02:03Z","n":"2026-11-24T20:02:03","x":["2026-11-25T01:02:03Z"]}'
    )
