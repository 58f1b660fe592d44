"""The emulator's store without HTTP: validation, progress over emulated time, cancel/delete,
pages and page tokens, trials inside the study ranges, and the demo seed (no I/O)."""

from __future__ import annotations

import copy

import orjson
import pytest

from stackql_tuning.errors import UsageError
from stackql_tuning.sandbox.seed_google import STATES, seed_google
from stackql_tuning.sandbox.vertex import ApiError, VertexEmulator
from stackql_tuning.sandbox.vertex.clock import rfc3339
from stackql_tuning.sandbox.vertex.fieldmask import apply_mask, parse_mask
from stackql_tuning.sandbox.vertex.store import decode_token, encode_token

HPT, TUNING = "hyperparameterTuningJobs", "tuningJobs"
PARENT = "projects/p1/locations/us-central1"
START = 1_790_000_000.0
STUDY = {
    "metrics": [{"metricId": "auc", "goal": "MAXIMIZE"}],
    "parameters": [
        {
            "parameterId": "lr",
            "doubleValueSpec": {"minValue": 0.001, "maxValue": 0.1},
            "scaleType": "UNIT_LOG_SCALE",
        },
        {"parameterId": "depth", "integerValueSpec": {"minValue": "2", "maxValue": "9"}},
        {"parameterId": "booster", "categoricalValueSpec": {"values": ["gbtree", "dart"]}},
        {"parameterId": "batch", "discreteValueSpec": {"values": [16, 32, 64]}},
    ],
}
HPT_BODY = {
    "displayName": "xgb-hpt",
    "studySpec": STUDY,
    "maxTrialCount": 6,
    "parallelTrialCount": 2,
    "trialJobSpec": {
        "workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "1"}]
    },
    "labels": {"team": "growth"},
}
TUNING_BODY = {
    "baseModel": "gemini-2.0-flash-001",
    "supervisedTuningSpec": {"trainingDatasetUri": "gs://b/train.jsonl"},
}


@pytest.fixture
def emu() -> VertexEmulator:
    # speed 0: emulated time only moves when a test advances it
    return VertexEmulator(start_time=START, speed=0.0)


def create(emu: VertexEmulator, collection: str = HPT, body: dict | None = None) -> dict:
    return orjson.loads(emu.store.create(collection, PARENT, copy.deepcopy(body or HPT_BODY)))


def get(emu: VertexEmulator, name: str) -> dict:
    coll, job_id = name.split("/")[-2:]
    return orjson.loads(emu.store.get(coll, PARENT, job_id))


# ---------------------------------------------------------------------------- validation
def test_create_assigns_name_times_and_pending_state(emu: VertexEmulator) -> None:
    job = create(emu)
    assert job["name"].startswith(f"{PARENT}/{HPT}/")
    assert job["name"].rsplit("/", 1)[1].isdigit()
    assert job["state"] == "JOB_STATE_PENDING"
    assert job["createTime"] == rfc3339(START) == "2026-09-21T14:13:20.000000Z"
    assert "trials" not in job and "startTime" not in job


def test_unknown_field_is_named(emu: VertexEmulator) -> None:
    body = copy.deepcopy(HPT_BODY)
    body["studySpec"]["colour"] = "red"
    with pytest.raises(ApiError) as info:
        emu.store.create(HPT, PARENT, body)
    assert info.value.code == 400
    assert '"colour"' in info.value.message and "studySpec" in info.value.message
    assert info.value.fields == ["studySpec.colour"]


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"maxTrialCount": "many"}, "maxTrialCount"),
        ({"maxTrialCount": True}, "maxTrialCount"),
        ({"labels": {"team": 7}}, "labels.team"),
        ({"studySpec": {**STUDY, "algorithm": "HILL_CLIMB"}}, "studySpec.algorithm"),
        ({"studySpec": {**STUDY, "metrics": {"metricId": "auc"}}}, "studySpec.metrics"),
        (
            {"trialJobSpec": {"workerPoolSpecs": [{"replicaCount": "x"}]}},
            "trialJobSpec.workerPoolSpecs[0].replicaCount",
        ),
    ],
)
def test_wrong_types_name_the_field_path(emu: VertexEmulator, patch: dict, path: str) -> None:
    with pytest.raises(ApiError) as info:
        emu.store.create(HPT, PARENT, {**HPT_BODY, **patch})
    assert info.value.code == 400
    assert info.value.fields == [path]
    assert path in info.value.message


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"maxTrialCount": 3_000_000_000}, "maxTrialCount"),
        ({"maxTrialCount": 9999999999999999999999}, "maxTrialCount"),
        ({"maxTrialCount": 1e22}, "maxTrialCount"),
        (
            {"trialJobSpec": {"workerPoolSpecs": [{"replicaCount": "99999999999999999999"}]}},
            "trialJobSpec.workerPoolSpecs[0].replicaCount",
        ),
    ],
)
def test_integers_out_of_their_format_range_are_400(
    emu: VertexEmulator, patch: dict, path: str
) -> None:
    # the real API answers 400 INVALID_ARGUMENT; storing the value broke later lists
    with pytest.raises(ApiError) as info:
        emu.store.create(HPT, PARENT, {**HPT_BODY, **patch})
    assert info.value.code == 400 and info.value.fields == [path]
    assert f"Invalid value at '{path}' (TYPE_INT" in info.value.message
    assert emu.store.jobs(HPT, PARENT) == []


def test_required_fields_are_named(emu: VertexEmulator) -> None:
    with pytest.raises(ApiError) as info:
        emu.store.create(HPT, PARENT, {"displayName": "x"})
    for field in (
        "studySpec.metrics",
        "studySpec.parameters",
        "maxTrialCount",
        "parallelTrialCount",
        "trialJobSpec",
    ):
        assert field in info.value.message
    with pytest.raises(ApiError) as info:
        emu.store.create(TUNING, PARENT, {"baseModel": "gemini-2.0-flash-001"})
    assert info.value.fields == ["supervisedTuningSpec.trainingDatasetUri"]


def test_parameter_without_value_spec_is_rejected(emu: VertexEmulator) -> None:
    study = {**STUDY, "parameters": [{"parameterId": "lr"}]}
    with pytest.raises(ApiError) as info:
        emu.store.create(HPT, PARENT, {**HPT_BODY, "studySpec": study})
    assert "studySpec.parameters[0]" in info.value.message


def test_output_only_fields_are_ignored(emu: VertexEmulator) -> None:
    job = create(
        emu,
        body={
            **HPT_BODY,
            "state": "JOB_STATE_SUCCEEDED",
            "name": "x",
            "trials": [{"id": "1"}],
            "createTime": "2020-01-01T00:00:00Z",
        },
    )
    assert job["state"] == "JOB_STATE_PENDING"
    assert job["name"] != "x" and "trials" not in job
    assert job["createTime"].startswith("2026-09-21")


# ------------------------------------------------------------------------ progress
def test_job_progresses_and_grows_trials_in_ranges(emu: VertexEmulator) -> None:
    job = create(emu)
    emu.clock.advance(601)  # longest pending phase is 600 s
    running = get(emu, job["name"])
    assert running["state"] == "JOB_STATE_RUNNING" and "startTime" in running
    emu.clock.advance(7 * 3600)  # longest run is 6 h
    done = get(emu, job["name"])
    assert done["state"] in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED")
    assert done["endTime"] >= done["startTime"] >= done["createTime"]
    assert done["trials"]
    for trial in done["trials"]:
        values = {p["parameterId"]: p["value"] for p in trial["parameters"]}
        assert 0.001 <= values["lr"] <= 0.1
        assert 2 <= values["depth"] <= 9 and isinstance(values["depth"], int)
        assert values["booster"] in ("gbtree", "dart")
        assert values["batch"] in (16, 32, 64)
        if trial["state"] == "SUCCEEDED":
            assert trial["finalMeasurement"]["metrics"][0]["metricId"] == "auc"
    if done["state"] == "JOB_STATE_SUCCEEDED":
        assert len(done["trials"]) == 6
        assert all(t["state"] == "SUCCEEDED" for t in done["trials"])
    else:
        assert done["error"]["code"] == 9


def test_tuning_job_grows_outputs(emu: VertexEmulator) -> None:
    job = create(emu, TUNING, TUNING_BODY)
    emu.clock.advance(24 * 3600)
    done = get(emu, job["name"])
    assert done["state"] in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED")
    assert done["experiment"].startswith(f"{PARENT}/metadataStores/default/contexts/")
    assert "supervisedTuningDataStats" in done["tuningDataStats"]
    assert ("tunedModel" in done) == (done["state"] == "JOB_STATE_SUCCEEDED")


def test_cancel_then_cancelled_with_code_1_and_409s(emu: VertexEmulator) -> None:
    job = create(emu)
    job_id = job["name"].rsplit("/", 1)[1]
    with pytest.raises(ApiError) as info:
        emu.store.delete(HPT, PARENT, job_id)
    assert info.value.code == 409
    assert emu.store.cancel(HPT, PARENT, job_id) == b"{}"
    assert get(emu, job["name"])["state"] == "JOB_STATE_CANCELLING"
    emu.clock.advance(600)
    cancelled = get(emu, job["name"])
    assert cancelled["state"] == "JOB_STATE_CANCELLED"
    assert cancelled["error"]["code"] == 1
    with pytest.raises(ApiError) as info:
        emu.store.cancel(HPT, PARENT, job_id)
    assert (info.value.code, info.value.status) == (409, "FAILED_PRECONDITION")
    op = orjson.loads(emu.store.delete(HPT, PARENT, job_id))
    assert op["name"].startswith(f"{PARENT}/operations/") and "done" not in op
    emu.clock.advance(60)
    assert orjson.loads(emu.store.operation(op["name"]))["done"] is True
    with pytest.raises(ApiError) as info:
        emu.store.get(HPT, PARENT, job_id)
    assert info.value.code == 404


def test_missing_job_and_operation_are_404(emu: VertexEmulator) -> None:
    for call in (
        lambda: emu.store.get(HPT, PARENT, "123"),
        lambda: emu.store.cancel(HPT, PARENT, "abc"),
        lambda: emu.store.operation(f"{PARENT}/operations/1"),
    ):
        with pytest.raises(ApiError) as info:
            call()
        assert (info.value.code, info.value.status) == (404, "NOT_FOUND")


# ---------------------------------------------------------------------------- pages
def _all_pages(emu: VertexEmulator, **kwargs: object) -> tuple[list[dict], int]:
    names, pages, token = [], 0, None
    while True:
        reply = orjson.loads(emu.store.page(HPT, PARENT, page_token=token, **kwargs))
        pages += 1
        names.extend(reply.get(HPT, []))
        token = reply.get("nextPageToken")
        if not token:
            return names, pages


def test_pages_cover_everything_once_and_omit_trials(emu: VertexEmulator) -> None:
    emu.store.insert_many(HPT, PARENT, 237, HPT_BODY, state="JOB_STATE_SUCCEEDED")
    jobs, pages = _all_pages(emu, page_size=100)
    assert pages == 3 and len(jobs) == 237
    assert len({j["name"] for j in jobs}) == 237
    assert all("trials" not in j for j in jobs)
    assert "trials" in get(emu, jobs[0]["name"])
    _, default_pages = _all_pages(emu)
    assert default_pages == 5  # default page size 50
    _, clamped = _all_pages(emu, page_size=1000)
    assert clamped == 3  # max_page_size 100


def test_filtered_pages_and_empty_reply(emu: VertexEmulator) -> None:
    emu.store.insert_many(HPT, PARENT, 30, HPT_BODY, state="JOB_STATE_SUCCEEDED")
    emu.store.insert_many(
        HPT, PARENT, 25, {**HPT_BODY, "displayName": "bert"}, state="JOB_STATE_FAILED"
    )
    jobs, pages = _all_pages(emu, page_size=10, filter="state=JOB_STATE_FAILED")
    assert len(jobs) == 25 and pages == 3
    assert all(j["displayName"].startswith("bert-") for j in jobs)
    assert emu.store.page(HPT, PARENT, filter="labels.team=nobody") == b"{}"
    assert emu.store.page(HPT, "projects/p1/locations/nowhere") == b"{}"


def test_page_tokens_are_opaque_and_checked() -> None:
    assert decode_token(encode_token(1234567890123456789)) == 1234567890123456789
    for bad in ("garbage!", encode_token(5)[:-2] + "@@"):
        with pytest.raises(ApiError) as info:
            decode_token(bad)
        assert info.value.fields == ["pageToken"]


def test_list_bytes_are_cached_until_the_state_changes(emu: VertexEmulator) -> None:
    job = create(emu)
    rec = emu.store.jobs(HPT)[0]
    now = emu.clock.now()
    first = rec.list_bytes(now)
    assert rec.list_bytes(now) is first
    emu.clock.advance(601)
    assert orjson.loads(rec.list_bytes(emu.clock.now()))["state"] == "JOB_STATE_RUNNING"
    assert job["name"] == rec.name


def test_a_page_cut_to_a_partial_response_is_cached_until_the_state_changes(
    emu: VertexEmulator,
) -> None:
    for _ in range(3):
        create(emu)
    sub = parse_mask("hyperparameterTuningJobs(name,state)")["hyperparameterTuningJobs"]
    assert sub is not None
    item_mask = (sub, "name,state")
    whole = orjson.loads(emu.store.page(HPT, PARENT))
    cut = orjson.loads(emu.store.page(HPT, PARENT, item_mask=item_mask))
    assert cut == apply_mask(whole, {"hyperparameterTuningJobs": sub})
    assert {j["state"] for j in cut["hyperparameterTuningJobs"]} == {"JOB_STATE_PENDING"}
    rec = emu.store.jobs(HPT)[0]
    now = emu.clock.now()
    assert rec.masked_list_bytes(now, sub, "name,state") is rec.masked_list_bytes(
        now, sub, "name,state"
    )
    emu.clock.advance(601)  # every job is running now: no cut of the pending state is served
    cut = orjson.loads(emu.store.page(HPT, PARENT, item_mask=item_mask))
    assert {j["state"] for j in cut["hyperparameterTuningJobs"]} == {"JOB_STATE_RUNNING"}
    emu.store.cancel(HPT, PARENT, str(rec.id))  # a change inside the state's time: reset too
    cut = orjson.loads(emu.store.page(HPT, PARENT, item_mask=item_mask))
    states = {j["name"]: j["state"] for j in cut["hyperparameterTuningJobs"]}
    assert states[rec.name] == "JOB_STATE_CANCELLING"


def test_python_api_misuse_is_a_usage_error(emu: VertexEmulator) -> None:
    with pytest.raises(UsageError, match="did you mean"):
        emu.store.insert("tuningJob", PARENT, TUNING_BODY)
    with pytest.raises(UsageError, match="cannot pin"):
        emu.store.insert(TUNING, PARENT, TUNING_BODY, state="JOB_STATE_DONE")
    with pytest.raises(UsageError, match="unknown emulator knob"):
        emu.configure(latncy=1)
    with pytest.raises(UsageError, match="unknown fault kind"):
        emu.configure(faults={"rate": 0.5, "kinds": {"404": 1}})


# ---------------------------------------------------------------------------- seed
def test_seed_is_deterministic_and_covers_every_state() -> None:
    a = seed_google(VertexEmulator(start_time=START, speed=0.0), seed=3)
    b = seed_google(VertexEmulator(start_time=START, speed=0.0), seed=3)
    c = seed_google(VertexEmulator(start_time=START, speed=0.0), seed=4)
    assert a == b and a != c
    assert set(a["jobs"]) == {"ml-research-prod", "ml-research-dev"}
    for project in a["jobs"].values():
        assert set(project) == {"us-central1", "europe-west4", "asia-northeast1"}
        for by_coll in project.values():
            for jobs in by_coll.values():
                assert 20 <= len(jobs) <= 40
                assert {j["state"] for j in jobs} == set(STATES)


def test_seeded_jobs_read_back_as_the_summary_says() -> None:
    emu = VertexEmulator(start_time=START, speed=0.0)
    summary = seed_google(emu, seed=0, projects=("demo",), locations=("us-central1",))
    parent = "projects/demo/locations/us-central1"
    for coll in (HPT, TUNING):
        listed = summary["jobs"]["demo"]["us-central1"][coll]
        reply = orjson.loads(emu.store.page(coll, parent, page_size=100))
        got = {j["name"]: j["state"] for j in reply[coll]}
        assert got == {j["name"]: j["state"] for j in listed}
    succeeded = [
        j
        for j in summary["jobs"]["demo"]["us-central1"][HPT]
        if j["state"] == "JOB_STATE_SUCCEEDED"
    ]
    assert succeeded and all(j["name"] in summary["best_trials"] for j in succeeded)
    name = succeeded[0]["name"]
    job = orjson.loads(emu.store.get(HPT, parent, name.rsplit("/", 1)[1]))
    best = summary["best_trials"][name]
    goal = job["studySpec"]["metrics"][0]["goal"]
    values = [
        t["finalMeasurement"]["metrics"][0]["value"]
        for t in job["trials"]
        if t["state"] == "SUCCEEDED"
    ]
    assert best["value"] == (min(values) if goal == "MINIMIZE" else max(values))
