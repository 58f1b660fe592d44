"""Fetcher.warm builds SDK clients in the background before the first call, sending nothing."""

from __future__ import annotations

import threading
import time

import pytest

from stackql_tuning.registry.loader import default_registry
from stackql_tuning.run.fetch import Fetcher
from stackql_tuning.settings import Settings
from stackql_tuning.transports.base import Call


def _wait_for_warm_threads() -> None:
    deadline = time.monotonic() + 30
    while any(t.name == "warm" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the warm-up thread did not end"
        time.sleep(0.01)


@pytest.fixture
def fetcher(monkeypatch: pytest.MonkeyPatch) -> Fetcher:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWARMUPTESTKEY000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "warm-up-test-secret")
    # a closed port: building a client never connects, a request would fail
    return Fetcher(Settings(aws_endpoint="http://127.0.0.1:9"), default_registry())


def test_warm_builds_the_client_of_each_region_and_sends_nothing(fetcher: Fetcher) -> None:
    res = default_registry().resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    calls = [Call(res, res.method("list"), {"region": r}) for r in ("us-east-1", "eu-west-1")]
    fetcher.warm(calls)
    _wait_for_warm_threads()
    transport = fetcher.transport("aws")
    assert {k[1] for k in transport._clients} == {"us-east-1", "eu-west-1"}
    assert fetcher.log == []


def test_warm_leaves_accounts_and_bad_regions_alone(fetcher: Fetcher) -> None:
    res = default_registry().resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    calls = [
        Call(res, res.method("list"), {"region": "us-east-1", "AwsAccountId": "210987654321"}),
        Call(res, res.method("list"), {"region": "not a region"}),
    ]
    fetcher.warm(calls)  # an account would need STS; a bad region is the real call's error
    _wait_for_warm_threads()
    assert fetcher.transport("aws")._clients == {}


def test_aws_calls_say_who_sends_them(fetcher: Fetcher) -> None:
    # a fixed User-Agent (botocore's own is rebuilt twice for every request)
    client = fetcher.transport("aws")._client("sagemaker", "us-east-1", None)
    sent: list[str] = []

    def keep(request: object, **kwargs: object) -> None:
        agent = request.headers["User-Agent"]  # type: ignore[attr-defined]
        sent.append(agent.decode() if isinstance(agent, bytes) else agent)
        raise RuntimeError("not sent")  # nothing leaves: the endpoint is a closed port anyway

    client.meta.events.register_first("before-send.sagemaker", keep)
    with pytest.raises(RuntimeError, match="not sent"):
        client.list_hyper_parameter_tuning_jobs()
    assert sent and sent[0].startswith("stackql-tuning/0.1.0 Boto3/"), sent
    assert "Botocore/" in sent[0]
