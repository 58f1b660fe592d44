"""The Vertex emulator over loopback HTTP: the real google-api-python-client against it,
fault injection, latency, the admin endpoints, and Google's reply shapes."""

from __future__ import annotations

import copy
import http.client
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httplib2
import pytest
import requests
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from stackql_tuning.sandbox.vertex import VertexEmulator
from stackql_tuning.sandbox.vertex.discovery import document
from stackql_tuning.sandbox.vertex.fieldmask import apply_mask, parse_mask

pytestmark = pytest.mark.integration

PARENT = "projects/ml-research-prod/locations/europe-west4"
HPT_BODY = {
    "displayName": "xgb-churn-hpt",
    "studySpec": {
        "metrics": [{"metricId": "auc", "goal": "MAXIMIZE"}],
        "parameters": [
            {"parameterId": "lr", "doubleValueSpec": {"minValue": 0.01, "maxValue": 0.3}},
            {"parameterId": "depth", "integerValueSpec": {"minValue": "3", "maxValue": "9"}},
        ],
        "algorithm": "RANDOM_SEARCH",
    },
    "maxTrialCount": 8,
    "parallelTrialCount": 2,
    "trialJobSpec": {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-8"},
                "replicaCount": "1",
                "containerSpec": {"imageUri": "gcr.io/x/trainer"},
            }
        ]
    },
    "labels": {"team": "growth"},
}


@pytest.fixture
def emu() -> Iterator[VertexEmulator]:
    with VertexEmulator(seed=7, speed=0.0, start_time=1_790_000_000.0) as e:
        yield e


def client(url: str):  # type: ignore[no-untyped-def]
    return build_from_document(
        document(), http=httplib2.Http(), client_options={"api_endpoint": url}
    )


def test_google_client_create_get_list_cancel_delete(emu: VertexEmulator) -> None:
    svc = client(emu.url)
    jobs = svc.projects().locations().hyperparameterTuningJobs()
    created = [
        jobs.create(
            parent=PARENT, body={**copy.deepcopy(HPT_BODY), "displayName": f"run-{i}"}
        ).execute()
        for i in range(7)
    ]
    assert all(j["state"] == "JOB_STATE_PENDING" for j in created)
    got = jobs.get(name=created[0]["name"]).execute()
    assert got["displayName"] == "run-0" and got["name"] == created[0]["name"]

    seen, pages, request = [], 0, jobs.list(parent=PARENT, pageSize=3)
    while request is not None:
        reply = request.execute()
        pages += 1
        seen += [j["name"] for j in reply.get("hyperparameterTuningJobs", [])]
        request = jobs.list_next(request, reply)
    assert pages == 3 and seen == [j["name"] for j in created]

    filtered = jobs.list(parent=PARENT, filter='display_name:"run-*" AND NOT display_name="run-3"')
    names = [j["displayName"] for j in filtered.execute()["hyperparameterTuningJobs"]]
    assert names == ["run-0", "run-1", "run-2", "run-4", "run-5", "run-6"]

    assert jobs.cancel(name=created[1]["name"]).execute() == {}
    assert jobs.get(name=created[1]["name"]).execute()["state"] == "JOB_STATE_CANCELLING"
    emu.clock.advance(3600)
    cancelled = jobs.get(name=created[1]["name"]).execute()
    assert cancelled["state"] == "JOB_STATE_CANCELLED" and cancelled["error"]["code"] == 1
    with pytest.raises(HttpError) as info:
        jobs.cancel(name=created[1]["name"]).execute()
    assert info.value.status_code == 409

    op = jobs.delete(name=created[1]["name"]).execute()
    emu.clock.advance(60)
    done = svc.projects().locations().operations().get(name=op["name"]).execute()
    assert done["done"] is True and done["name"] == op["name"]
    with pytest.raises(HttpError) as info:
        jobs.get(name=created[1]["name"]).execute()
    assert info.value.status_code == 404

    tuning = svc.projects().locations().tuningJobs()
    tj = tuning.create(
        parent=PARENT,
        body={
            "baseModel": "gemini-2.0-flash-001",
            "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/train.jsonl"},
        },
    ).execute()
    assert tj["name"].startswith(f"{PARENT}/tuningJobs/")
    listed = tuning.list(parent=PARENT).execute()["tuningJobs"]
    assert [j["name"] for j in listed] == [tj["name"]]

    actions = [(r["collection"], r["action"]) for r in emu.requests()]
    assert actions.count(("hyperparameterTuningJobs", "create")) == 7
    assert ("operations", "get") in actions


def test_errors_use_googles_json_shape(emu: VertexEmulator) -> None:
    base = emu.url + "v1/" + PARENT + "/hyperparameterTuningJobs"
    bad = requests.post(base, json={**HPT_BODY, "bogus": 1})
    assert bad.status_code == 400
    err = bad.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT" and '"bogus"' in err["message"]
    missing = requests.get(base + "/42").json()["error"]
    assert (missing["code"], missing["status"]) == (404, "NOT_FOUND")
    unknown = requests.get(emu.url + "v1/projects/p/locations/l/datasets")
    assert unknown.status_code == 404
    assert requests.get(base, params={"filter": "colour=red"}).json()["error"]["code"] == 400


def test_a_tuning_job_takes_either_side_of_each_oneof(emu: VertexEmulator) -> None:
    # the model tuned (base or pre-tuned) and the spec (supervised or preference) are oneofs
    base = emu.url + "v1/" + PARENT + "/tuningJobs"
    data = {"trainingDatasetUri": "gs://b/t.jsonl"}
    pre = {"tunedModelName": "projects/p/locations/l/models/1"}
    for body in (
        {"baseModel": "gemini-2.5-flash", "supervisedTuningSpec": data},
        {"preTunedModel": pre, "supervisedTuningSpec": data},
        {"baseModel": "gemini-2.5-flash", "preferenceOptimizationSpec": data},
    ):
        assert requests.post(base, json=body).status_code == 200, body
    for body, field in (
        ({"supervisedTuningSpec": data}, "baseModel"),
        ({"baseModel": "gemini-2.5-flash"}, "supervisedTuningSpec.trainingDatasetUri"),
        ({"preTunedModel": {}, "supervisedTuningSpec": data}, "baseModel"),
    ):
        bad = requests.post(base, json=body)
        assert bad.status_code == 400
        assert f"Required field is not specified: {field}" in bad.json()["error"]["message"]
    # and one side only: both is a 400 too
    both = {"baseModel": "gemini-2.5-flash", "preTunedModel": pre, "supervisedTuningSpec": data}
    bad = requests.post(base, json=both)
    assert bad.status_code == 400
    assert "Only one of baseModel, preTunedModel" in bad.json()["error"]["message"]


def test_pretty_print_and_compact_replies(emu: VertexEmulator) -> None:
    emu.store.insert_many(
        "hyperparameterTuningJobs", PARENT, 3, HPT_BODY, state="JOB_STATE_SUCCEEDED"
    )
    base = emu.url + "v1/" + PARENT + "/hyperparameterTuningJobs"
    compact = requests.get(base, params={"prettyPrint": "false", "$alt": "json"})
    assert b"\n" not in compact.content.strip()
    assert compact.content.startswith(b'{"hyperparameterTuningJobs":[')
    pretty = requests.get(base, params={"alt": "json", "key": "k"})
    assert pretty.content.count(b"\n") > 10
    assert pretty.json() == compact.json()
    assert "trials" not in compact.json()["hyperparameterTuningJobs"][0]


@pytest.mark.parametrize(
    "fields",
    [
        "hyperparameterTuningJobs(name,state),nextPageToken",
        "hyperparameterTuningJobs/studySpec/algorithm",
        "hyperparameterTuningJobs(*),nextPageToken",
        "*",
        "nextPageToken",
    ],
)
def test_a_partial_list_reply_is_the_whole_page_cut_to_its_fields(
    emu: VertexEmulator, fields: str
) -> None:
    # each job is cut from its cache before the page is cut by the whole mask: the same reply
    emu.store.insert_many(
        "hyperparameterTuningJobs", PARENT, 5, HPT_BODY, state="JOB_STATE_SUCCEEDED"
    )
    base = emu.url + "v1/" + PARENT + "/hyperparameterTuningJobs"
    query = {"prettyPrint": "false", "pageSize": "2"}
    whole = requests.get(base, params=query).json()
    for _ in range(2):  # the second time from the jobs' caches
        cut = requests.get(base, params={**query, "fields": fields})
        assert cut.status_code == 200
        assert cut.json() == apply_mask(whole, parse_mask(fields))
    bad = requests.get(base, params={**query, "fields": "hyperparameterTuningJobs(name"})
    assert bad.status_code == 400 and "Invalid field selection" in bad.text


def test_fault_rate_503_is_really_applied(emu: VertexEmulator) -> None:
    emu.store.insert("hyperparameterTuningJobs", PARENT, HPT_BODY, state="JOB_STATE_RUNNING")
    emu.configure(faults={"rate": 0.2, "kinds": {"503": 1}})
    base = emu.url + "v1/" + PARENT + "/hyperparameterTuningJobs"
    session = requests.Session()
    statuses = [session.get(base, params={"prettyPrint": "false"}).status_code for _ in range(300)]
    count = statuses.count(503)
    assert set(statuses) == {200, 503}
    assert 0.12 * 300 <= count <= 0.28 * 300
    assert emu.stats()["faults"] == {"503": count}
    logged = [r["fault"] for r in emu.requests()]
    assert logged.count("503") == count
    emu.configure(faults={"rate": 0})
    assert session.get(base).status_code == 200


def test_429_carries_retry_after_and_match_limits_faults(emu: VertexEmulator) -> None:
    emu.configure(
        faults={"rate": 1.0, "kinds": {"429": 1}, "match": "/locations/us-east1/", "retry_after": 7}
    )
    hit = requests.get(emu.url + "v1/projects/p/locations/us-east1/tuningJobs")
    assert hit.status_code == 429 and hit.headers["Retry-After"] == "7"
    assert hit.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert requests.get(emu.url + "v1/projects/p/locations/us-west1/tuningJobs").status_code == 200


def _raw_get(url: str, path: str) -> tuple[bytes, int | None]:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return body, length


def test_drop_and_truncate_faults(emu: VertexEmulator) -> None:
    emu.store.insert_many(
        "tuningJobs",
        PARENT,
        5,
        {
            "baseModel": "gemini-1.5-pro-002",
            "tunedModelDisplayName": "bot",
            "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/t.jsonl"},
        },
    )
    path = "/v1/" + PARENT + "/tuningJobs"
    emu.configure(faults={"rate": 1.0, "kinds": {"drop": 1}})
    body, length = _raw_get(emu.url, path)
    assert (body, length) == (b"", None)
    with pytest.raises((requests.ConnectionError, http.client.RemoteDisconnected)):
        requests.get(emu.url + path[1:])
    emu.configure(faults={"rate": 1.0, "kinds": {"truncate": 1}})
    body, length = _raw_get(emu.url, path)
    assert length is not None and 0 < len(body) < length
    assert emu.stats()["faults"]["drop"] == 2 and emu.stats()["faults"]["truncate"] == 1


def test_latency_knob_is_applied(emu: VertexEmulator) -> None:
    emu.configure(latency=0.2)
    assert emu.knobs.config()["latency"] == 0.2
    started = time.monotonic()
    requests.get(emu.url + "v1/" + PARENT + "/tuningJobs")
    assert time.monotonic() - started >= 0.2  # a lower bound only


def test_admin_endpoints(emu: VertexEmulator) -> None:
    admin = emu.url + "__admin/"
    config = requests.post(admin + "config", json={"latency": 0.0, "faults": {"rate": 0.0}})
    assert config.status_code == 200 and config.json()["latency"] == 0.0
    bad = requests.post(admin + "config", json={"faults": {"rate": 2}})
    assert bad.status_code == 400 and "rate" in bad.json()["error"]["message"]
    inserted = requests.post(
        admin + "jobs",
        json={
            "collection": "hyperparameterTuningJobs",
            "parent": PARENT,
            "count": 250,
            "template": HPT_BODY,
            "state": "JOB_STATE_SUCCEEDED",
        },
    ).json()
    assert inserted["inserted"] == 250
    seeded = requests.post(
        admin + "jobs",
        json={"seed": {"seed": 1, "projects": ["demo"], "locations": ["us-central1"]}},
    )
    assert seeded.status_code == 200 and seeded.json()["total"] >= 40
    requests.get(emu.url + "v1/" + PARENT + "/hyperparameterTuningJobs")
    log = requests.get(admin + "requests").json()["requests"]
    assert len(log) == 1 and log[0]["action"] == "list" and log[0]["status"] == 200
    assert requests.get(admin + "stats").json()["requests"] == 1
    assert requests.post(admin + "reset-log").status_code == 200
    assert requests.get(admin + "requests").json() == {"requests": []}
    clock = requests.post(admin + "clock", json={"advance": 3600}).json()
    assert clock["now"].startswith("2026-09-21T15:13:20")
    assert requests.get(admin + "nope").status_code == 404


def test_a_location_vertex_ai_does_not_have_is_an_error_not_an_empty_list(
    emu: VertexEmulator,
) -> None:
    # a typo'd location has no regional endpoint: never the empty page it was
    reply = requests.get(emu.url + "v1/projects/p/locations/mars-central1/hyperparameterTuningJobs")
    assert reply.status_code == 400
    assert "mars-central1" in reply.json()["error"]["message"]
