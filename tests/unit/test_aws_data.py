"""The trimmed botocore data directory (``transports/aws_data.py``): what it holds, that clients
built from it are the stock clients for our operations, and that every problem means the stock
loader. Every test runs with its own ``XDG_CACHE_HOME`` (never the real home). No network:
clients are only built, never asked to send."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import boto3.session
import botocore.awsrequest
import botocore.session
import pytest

from stackql_tuning.registry.loader import default_registry
from stackql_tuning.settings import Settings
from stackql_tuning.transports import aws_data
from stackql_tuning.transports.aws import AwsTransport

KEYS = {"aws_access_key_id": "AKIDTEST", "aws_secret_access_key": "secret-test"}
REGIONS = ("us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(aws_data.ENV_OFF, raising=False)
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    monkeypatch.setattr(aws_data, "_disabled", False)
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def operations() -> dict[str, set[str]]:
    return AwsTransport(Settings(), default_registry())._operations()


def root() -> Path:
    return aws_data.cache_root() / botocore.__version__


def stock_session() -> Any:
    return boto3.session.Session(botocore_session=botocore.session.get_session(), **KEYS)


def trimmed_session(operations: dict[str, set[str]]) -> Any:
    session = aws_data.new_session(operations, **KEYS)
    assert isinstance(session._session.get_component("data_loader"), aws_data.TrimmedLoader)
    return session


def shape_dict(shape: Any, seen: frozenset[str] = frozenset()) -> Any:
    if shape is None:
        return None
    out: dict[str, Any] = {
        "name": shape.name,
        "type": shape.type_name,
        "serialization": shape.serialization,
        "metadata": shape.metadata,
    }
    if shape.name in seen:
        return out
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        out["members"] = {n: shape_dict(m, seen) for n, m in shape.members.items()}
        out["required"] = shape.required_members
    elif shape.type_name == "list":
        out["member"] = shape_dict(shape.member, seen)
    elif shape.type_name == "map":
        out["key"], out["value"] = shape_dict(shape.key, seen), shape_dict(shape.value, seen)
    return out


def op_dict(client: Any, name: str) -> dict[str, Any]:
    op = client.meta.service_model.operation_model(name)
    return {
        "http": op.http,
        "metadata": op.metadata,
        "input": shape_dict(op.input_shape),
        "output": shape_dict(op.output_shape),
        "errors": [shape_dict(e) for e in op.error_shapes],
        "context": op.static_context_parameters,
    }


def test_the_registry_names_the_aws_operations(operations) -> None:
    assert "DescribeHyperParameterTuningJob" in operations["sagemaker"]
    assert "ListHyperParameterTuningJobs" in operations["sagemaker"]
    assert "CreateHyperParameterTuningJob" in operations["sagemaker"]


def test_pruned_model_holds_each_operation_and_is_closed_over_shapes(operations) -> None:
    path = aws_data.data_dir(operations)
    assert path == root() and path.is_dir()
    for service, names in aws_data.with_extras(operations).items():
        (model_file,) = path.glob(f"{service}/*/service-2.json")
        model = json.loads(model_file.read_text())
        assert names <= set(model["operations"])
        shapes = model["shapes"]
        refs = [e["shape"] for op in model["operations"].values() for e in op.get("errors", [])]
        ops = model["operations"].values()
        refs += [op[k]["shape"] for op in ops for k in ("input", "output") if k in op]
        refs += [r for s in shapes.values() for r in aws_data._refs(s)]
        assert all(r in shapes for r in refs)
        assert len(shapes) < 400  # pruned: sagemaker's full model has thousands
        full = botocore.session.get_session().get_service_model(service)
        assert {s for s in full.shape_names if full.shape_for(s).metadata.get("exception")} <= set(
            shapes
        )
    manifest = json.loads((path / aws_data.MANIFEST).read_text())
    assert manifest["botocore"] == botocore.__version__
    assert set(manifest["top_level"]) >= {"endpoints", "partitions", "sdk-default-configuration"}
    endpoints = json.loads((path / "endpoints.json").read_text())
    services = set(endpoints["partitions"][0]["services"])
    assert {"api.sagemaker", "sts"} <= services and len(services) < 10


@pytest.mark.parametrize("service", ["sagemaker", "sts"])
def test_a_client_from_trimmed_data_has_the_stock_operation_models(operations, service) -> None:
    trimmed, stock = trimmed_session(operations), stock_session()
    for region in REGIONS:
        ours = trimmed.client(service, region_name=region)
        theirs = stock.client(service, region_name=region)
        assert ours.meta.endpoint_url == theirs.meta.endpoint_url
        assert ours.meta.partition == theirs.meta.partition
        assert ours.meta.config.signature_version == theirs.meta.config.signature_version
        assert ours.meta.service_model.metadata == theirs.meta.service_model.metadata
        for name in aws_data.with_extras(operations)[service]:
            assert op_dict(ours, name) == op_dict(theirs, name), name
            method = ours.meta.method_to_api_mapping
            assert method == {
                k: v for k, v in theirs.meta.method_to_api_mapping.items() if k in method
            }
        codes = ours.exceptions._code_to_exception
        assert codes.keys() == theirs.exceptions._code_to_exception.keys() != set()
    loader = trimmed._session.get_component("data_loader")
    assert loader.list_available_services("service-2") == ["sagemaker", "sts"]


def test_a_client_with_an_endpoint_url_matches_stock(operations) -> None:
    url = "http://127.0.0.1:5999"
    ours = trimmed_session(operations).client(
        "sagemaker", region_name="us-west-2", endpoint_url=url
    )
    theirs = stock_session().client("sagemaker", region_name="us-west-2", endpoint_url=url)
    assert ours.meta.endpoint_url == theirs.meta.endpoint_url == url
    name = "DescribeHyperParameterTuningJob"
    assert op_dict(ours, name) == op_dict(theirs, name)


def test_other_services_and_files_come_from_the_stock_loader(operations) -> None:
    session = trimmed_session(operations)
    sso = session.client("sso", region_name="us-east-1")  # botocore's SSO credential provider
    assert (
        sso.meta.endpoint_url
        == stock_session().client("sso", region_name="us-east-1").meta.endpoint_url
    )
    sm = session.client("sagemaker", region_name="us-east-1")
    assert sm.get_paginator("list_hyper_parameter_tuning_jobs") is not None


def test_an_unwritable_cache_means_the_stock_loader(cache: Path, operations) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("a file where the cache directory should be")
    assert aws_data.data_dir(operations) is None
    session = aws_data.new_session(operations, **KEYS)
    loader = session._session.get_component("data_loader")
    assert not isinstance(loader, aws_data.TrimmedLoader)
    client = session.client("sagemaker", region_name="us-east-1")
    assert client.describe_hyper_parameter_tuning_job


def test_the_env_var_turns_it_off(monkeypatch: pytest.MonkeyPatch, cache: Path, operations) -> None:
    monkeypatch.setenv(aws_data.ENV_OFF, "1")
    session = aws_data.new_session(operations, **KEYS)
    assert not isinstance(session._session.get_component("data_loader"), aws_data.TrimmedLoader)
    session.client("sagemaker", region_name="us-east-1")
    assert not cache.exists()


def test_a_broken_file_falls_back_to_stock_data(operations) -> None:
    path = aws_data.data_dir(operations)
    assert path is not None
    (model,) = path.glob("sagemaker/*/service-2.json")
    model.write_text("{not json")
    (path / "partitions.json").unlink()
    client = trimmed_session(operations).client("sagemaker", region_name="eu-west-1")
    stock = stock_session().client("sagemaker", region_name="eu-west-1")
    assert client.meta.endpoint_url == stock.meta.endpoint_url
    name = "ListHyperParameterTuningJobs"
    assert op_dict(client, name) == op_dict(stock, name)


def test_user_models_mean_the_stock_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, operations
) -> None:
    (tmp_path / "models" / "sagemaker").mkdir(parents=True)
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "models"))
    session = aws_data.new_session(operations, **KEYS)
    assert not isinstance(session._session.get_component("data_loader"), aws_data.TrimmedLoader)


def test_a_directory_missing_operations_is_rebuilt(operations) -> None:
    small = {"sagemaker": {"ListHyperParameterTuningJobs"}}
    assert aws_data.data_dir(small) == root()
    before = json.loads((root() / aws_data.MANIFEST).read_text())["operations"]["sagemaker"]
    assert before == ["ListHyperParameterTuningJobs"]
    assert aws_data.data_dir(operations) == root()
    after = set(json.loads((root() / aws_data.MANIFEST).read_text())["operations"]["sagemaker"])
    assert operations["sagemaker"] <= after
    assert not [p for p in root().parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_the_transport_retries_client_creation_on_stock_data(
    monkeypatch: pytest.MonkeyPatch, operations
) -> None:
    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("unexpected botocore layout")

    monkeypatch.setattr(aws_data.TrimmedLoader, "load_service_model", broken)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS["aws_secret_access_key"])
    transport = AwsTransport(Settings(aws_endpoint="http://127.0.0.1:9"), default_registry())
    first = transport._default_session()
    client = transport._client("sagemaker", "us-east-1")
    assert client.meta.region_name == "us-east-1"
    assert transport._sessions[None] is not first  # the stock twin replaced it
    assert not aws_data.enabled()


def test_client_creation_reads_only_the_trimmed_files(
    monkeypatch: pytest.MonkeyPatch, operations
) -> None:
    from botocore.loaders import JSONFileLoader

    assert aws_data.data_dir(operations) is not None  # built beforehand, from botocore's data
    loaded: list[str] = []
    real = JSONFileLoader.load_file

    def load_file(self: Any, path: str) -> Any:
        data = real(self, path)
        if data is not None:
            loaded.append(path)
        return data

    monkeypatch.setattr(JSONFileLoader, "load_file", load_file)
    session = trimmed_session(operations)
    session.client("sagemaker", region_name="us-east-1")
    session.client("sts", region_name="us-east-1")
    assert loaded and all(p.startswith(str(root())) for p in loaded), loaded


def test_sessions_of_the_process_share_one_loader(
    monkeypatch: pytest.MonkeyPatch, operations
) -> None:
    """Each file a client needs is decoded once for the process, not once per session: the
    sessions' loaders are one, for the same data path and cache directory."""
    from botocore.loaders import JSONFileLoader

    loaded: list[str] = []
    real = JSONFileLoader.load_file

    def load_file(self: Any, path: str) -> Any:
        loaded.append(path)
        return real(self, path)

    monkeypatch.setattr(JSONFileLoader, "load_file", load_file)
    first = trimmed_session(operations)
    first.client("sagemaker", region_name="us-east-1")
    decoded = len(loaded)
    second = trimmed_session(operations)
    second.client("sagemaker", region_name="us-east-1")
    assert decoded and len(loaded) == decoded
    loader = first._session.get_component("data_loader")
    assert loader is second._session.get_component("data_loader")
    assert isinstance(loader, aws_data.TrimmedLoader)


def test_sessions_get_botocore_handlers_of_their_own(operations) -> None:
    # each session copies a table of botocore's built-in handlers registered once per process:
    # the same handlers as a stock session, and a handler added to one session stays there
    one = aws_data.new_session(operations, region_name="us-east-1")
    two = aws_data.new_session(operations, region_name="us-east-1")
    seen: list[str] = []
    one._session.register("before-call.sagemaker", lambda **kw: seen.append("one"))
    for session in (one, two):
        client = session.client(
            "sagemaker",
            aws_access_key_id="AKIAHANDLERTEST00000",
            aws_secret_access_key="x",
            endpoint_url="http://127.0.0.1:9",
        )
        client.meta.events.register_first(
            "before-send.sagemaker", lambda **kw: botocore.awsrequest.AWSResponse("", 200, {}, None)
        )
        with pytest.raises(Exception):  # noqa: B017  (an empty reply: only the hooks matter)
            client.list_hyper_parameter_tuning_jobs()
    assert seen == ["one"]
    stock = botocore.session.get_session()
    for event in ("before-parameter-build.s3", "request-created", "needs-retry.sagemaker"):
        mine = list(
            one._session.get_component("event_emitter")._emitter._handlers.prefix_search(event)
        )
        theirs = list(stock.get_component("event_emitter")._emitter._handlers.prefix_search(event))
        assert mine == theirs, event


def _aged(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_building_removes_old_versions_and_dead_builds_only(operations) -> None:
    parent = root().parent
    old, recent = parent / "1.0.0", parent / "1.0.1"
    for version, days in ((old, 31), (recent, 2)):
        (version / "sagemaker").mkdir(parents=True)
        (version / aws_data.MANIFEST).write_text("{}")
        _aged(version / aws_data.MANIFEST, days)
    dead, building = parent / ".1.0.2.dead", parent / ".1.0.2.live"
    dead.mkdir()
    building.mkdir()
    _aged(dead, 2 / 24)
    stranger = parent / "notes"  # not a directory of ours (no manifest): never touched
    stranger.mkdir()
    _aged(stranger, 400)

    assert aws_data.data_dir({"sagemaker": {"ListHyperParameterTuningJobs"}}) == root()

    assert sorted(p.name for p in parent.iterdir()) == sorted(
        [root().name, recent.name, building.name, stranger.name]
    )
    # a start-up that finds its directory complete removes nothing
    _aged(recent / aws_data.MANIFEST, 40)
    aws_data._dirs.clear()
    assert aws_data.data_dir({"sagemaker": {"ListHyperParameterTuningJobs"}}) == root()
    assert recent.exists()


def test_pruning_never_removes_the_directory_in_use() -> None:
    keep = root()
    (keep).mkdir(parents=True)
    (keep / aws_data.MANIFEST).write_text("{}")
    _aged(keep / aws_data.MANIFEST, 365)
    assert aws_data.prune_cache(keep) == []
    assert keep.exists()


def test_an_insert_is_checked_on_the_trimmed_model_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stackql_tuning.transports.base import Call

    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    registry = default_registry()
    res = registry.resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    transport = AwsTransport(Settings(), registry)
    op = transport.operation_model(Call(res, res.method("create"), {"region": "us-east-1"}))
    assert op.name == "CreateHyperParameterTuningJob"
    stock = botocore.session.get_session().get_service_model("sagemaker")
    assert (
        op.input_shape.members.keys() == stock.operation_model(op.name).input_shape.members.keys()
    )
    assert len(op.service_model.operation_names) < len(stock.operation_names)  # the trimmed model
    assert not transport._clients  # no client was made for it
