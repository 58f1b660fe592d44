"""The table loader: files sealed while a load runs are read together by the next load, every
row arrives once, and an error in a batch of files still names the call whose reply was bad
(DuckDB and files on disk, no HTTP)."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest

from stackql_tuning.errors import ProviderError
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.run.loader import TableLoader
from stackql_tuning.run.store import PageFile, Store, TableSchema, qualified

NAME = "google.aiplatform.hyperparameter_tuning_jobs"
RES = default_registry().resource(NAME)
ITEMS = "hyperparameterTuningJobs"


def _page(i: int, bad: bool = False) -> bytes:
    job: dict[str, Any] = {
        "name": f"projects/p/locations/l/hyperparameterTuningJobs/{i}",
        "displayName": f"job-{i}",
        "maxTrialCount": "lots" if bad else i,
    }
    return orjson.dumps({ITEMS: [job]})


@pytest.fixture
def store() -> Any:
    s = Store()
    s.create_table(NAME, TableSchema(RES))
    yield s
    s.close()


def _slow_first_load(monkeypatch: pytest.MonkeyPatch, store: Store) -> threading.Event:
    """The first load waits until released, so that the next files pile up behind it."""
    release = threading.Event()
    real = store.load
    first = [True]

    def load(*args: Any, **kwargs: Any) -> list[Any]:
        if first[0]:
            first[0] = False
            release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "load", load)
    return release


def test_files_sealed_during_a_load_are_read_together(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    release = _slow_first_load(monkeypatch, store)
    loader = TableLoader(store, NAME, TableSchema(RES), ITEMS, batch_bytes=1, min_bytes=1)
    for i in range(20):  # every page fills a file: the first load is held, 19 files wait
        loader.add_raw({"projectsId": "p", "locationsId": "l"}, _page(i), "r", None)
    release.set()
    loader.finish()
    loader.remove()
    rows = store.execute(f"SELECT maxTrialCount FROM {qualified(NAME)} ORDER BY 1")
    assert [r[0] for r in rows] == list(range(20))
    assert loader.load_count < 20 and loader.widest_load > 1


def test_a_bad_reply_in_a_batch_names_its_call(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    release = _slow_first_load(monkeypatch, store)
    loader = TableLoader(store, NAME, TableSchema(RES), ITEMS, batch_bytes=1, min_bytes=1)
    for i in range(8):
        params = {"projectsId": "p", "locationsId": f"loc-{i}"}
        origin = (RES.id, "list", params)
        loader.add_raw(params, _page(i, bad=i == 5), "r", origin)
    release.set()
    loader.finish()  # the bad page is left out, its call kept as failed: --on-error decides
    loader.remove()
    [failure] = loader.failures
    assert failure.resource == RES.id and failure.method == "list"
    assert failure.params == {"projectsId": "p", "locationsId": "loc-5"}
    assert {r[1] for r in _rows(store)} == {f"loc-{i}" for i in range(8) if i != 5}


@pytest.mark.parametrize("threads", [1, 3])
def test_duckdb_leaves_a_core_to_the_fetch_and_gets_it_back(store: Store, threads: int) -> None:
    store.execute(f"SET threads = {threads}")  # the user's setting is what comes back

    def current() -> int:
        return int(store.execute("SELECT current_setting('threads')")[0][0])

    with store.fetching():
        assert current() == threads  # nothing changes until a background load runs
        cursor = store.con.cursor()
        store.leave_a_core(cursor)
        store.leave_a_core(cursor)  # once per fetch
        assert current() == max(1, threads - 1)
    assert current() == threads
    store.leave_a_core(cursor)  # outside a fetch: nothing
    assert current() == threads
    with pytest.raises(RuntimeError), store.fetching():
        store.leave_a_core(cursor)
        raise RuntimeError("a failed fetch")
    assert current() == threads
    cursor.close()


@pytest.mark.parametrize(("batch_bytes", "fewer"), [(1 << 20, False), (1, True)])
def test_only_loads_of_a_batch_s_size_take_a_core_from_duckdb(
    store: Store, batch_bytes: int, fewer: bool
) -> None:
    """Loads smaller than a batch (a fan-out's few pages) leave DuckDB's threads alone, so
    nothing is restored at the end; a load of a whole batch (replies outrun the loads) takes
    one for the fetch."""
    store.execute("SET threads = 2")
    seen: list[int] = []  # DuckDB's threads during each background load
    loaded = threading.Event()
    real = store.load

    def load(*args: Any, **kwargs: Any) -> list[Any]:
        if kwargs.get("con") is None:  # the background thread's (finish passes con=)
            seen.append(int(store.execute("SELECT current_setting('threads')")[0][0]))
            loaded.set()
        return real(*args, **kwargs)

    store.load = load  # type: ignore[method-assign]
    with store.fetching():
        loader = TableLoader(
            store, NAME, TableSchema(RES), ITEMS, batch_bytes=batch_bytes, min_bytes=1
        )
        loader.add_raw({"projectsId": "p", "locationsId": "l"}, _page(0), "r", None)
        assert loaded.wait(10)
        loader.finish()
    loader.remove()
    assert seen == [1 if fewer else 2]
    assert store.execute("SELECT current_setting('threads')")[0][0] == 2


def test_a_user_s_external_threads_are_respected(store: Store) -> None:
    store.execute("SET threads = 2")
    store.execute("SET external_threads = 2")  # DuckDB refuses threads below this
    with store.fetching():
        store.leave_a_core(store.con.cursor())
        assert store.execute("SELECT current_setting('threads')")[0][0] == 2


def _rows(store: Store) -> list[tuple[Any, ...]]:
    sql = (
        f"SELECT projectsId, locationsId, hyperparameterTuningJobsId FROM {qualified(NAME)} "
        "ORDER BY 3"
    )
    return [tuple(r) for r in store.execute(sql)]


def test_params_every_line_gives_are_read_as_given(store: Store) -> None:
    schema = TableSchema(RES)
    given = {"projectsId", "locationsId"}
    # a list's calls set these: no extraction from the item for them (the job id still is)
    assert schema.select_list().count("regexp_extract") == 3
    assert schema.select_list(given).count("regexp_extract") == 1
    pages = PageFile(store.tmpdir)
    for i in range(3):
        pages.add_raw({"projectsId": "p", "locationsId": "l", "filter": None}, _page(i), "r", None)
    assert pages.given == given
    store.load(NAME, schema, pages, ITEMS)
    pages.remove()
    assert _rows(store) == [("p", "l", str(i)) for i in range(3)]


def test_a_param_column_the_statement_does_not_read_is_not_in_its_table(store: Store) -> None:
    # the job id comes from each item's name by a regex: only a statement that reads it pays
    schema = TableSchema(RES, read={"state", "projectsid"})
    assert [p.name for p in schema.params] == ["projectsId"]
    assert "regexp_extract" not in schema.select_list({"projectsId", "locationsId"})
    # projectsId is read: taken from the name where a call did not give it
    assert schema.select_list().count("regexp_extract") == 1
    reading = TableSchema(RES, read={"hyperparametertuningjobsid"})
    assert reading.select_list({"projectsId", "locationsId"}).count("regexp_extract") == 1
    pages = PageFile(store.tmpdir)
    pages.add_raw({"projectsId": "p", "locationsId": "l", "filter": "x"}, _page(7), "r", None)
    store.create_table(NAME, schema)
    store.load(NAME, schema, pages, ITEMS)
    pages.remove()
    # what the calls set of the params read is kept; the lines' other params are not read
    sql = f"SELECT state, projectsId FROM {qualified(NAME)}"
    assert [tuple(r) for r in store.execute(sql)] == [(None, "p")]
    columns = {r[0] for r in store.execute(f"DESCRIBE {qualified(NAME)}")}
    assert not columns & {"locationsId", "hyperparameterTuningJobsId", "filter"}


def test_a_reply_that_repeats_a_line_s_key_fails_in_list_only_loads(store: Store) -> None:
    """A list page's line reads ``o`` (the null written beside the page) although no item
    comes from it: a reply body that ends its object early and adds an ``o`` repeats the key,
    and the load fails instead of ignoring what the reply smuggled in."""
    schema = TableSchema(RES, read={"name"})
    store.create_table(NAME, schema)
    pages = PageFile(store.tmpdir)
    hostile = b'{"hyperparameterTuningJobs":[]},"o":{"name":"smuggled"},"x":{}'
    pages.add_raw({"projectsId": "p", "locationsId": "l"}, hostile, "r", ("t", "list", {}))
    with pytest.raises(ProviderError, match="repeats the key 'o'"):
        store.load(NAME, schema, pages, ITEMS)
    pages.remove()


def test_a_param_one_line_lacks_is_still_taken_from_the_item(store: Store) -> None:
    schema = TableSchema(RES)
    pages = PageFile(store.tmpdir)
    pages.add_raw({"projectsId": "x", "locationsId": "y"}, _page(1), "r", None)
    pages.add_raw({"locationsId": "y"}, _page(2), "r", None)  # no projectsId for this call
    assert pages.given == {"locationsId"}
    store.load(NAME, schema, pages, ITEMS)
    pages.remove()
    # the call's value wins where it was set; else the item's name gives it, as before
    assert _rows(store) == [("x", "y", "1"), ("p", "y", "2")]


def test_small_pages_are_loaded_by_count_while_fetching(store: Store) -> None:
    # replies cut to a few fields are small: the loader does not wait for MIN_BYTES of them,
    # which left every page of a fan-out to the statement's end
    loader = TableLoader(store, NAME, TableSchema(RES), ITEMS, min_bytes=1 << 30, min_lines=3)
    for i in range(2):
        loader.add_raw({"projectsId": "p", "locationsId": "l"}, _page(i), "r", None)
    assert loader.load_count == 0  # two pages: not yet worth a load
    loader.add_raw({"projectsId": "p", "locationsId": "l"}, _page(2), "r", None)
    for fut in list(loader._loads):
        fut.result()
    assert loader.load_count == 1
    loader.finish()
    loader.remove()
    assert len(store.execute(f"SELECT * FROM {qualified(NAME)}")) == 3


def test_in_the_last_round_every_page_is_loaded_as_soon_as_the_loader_is_idle(
    store: Store,
) -> None:
    # what is left for finish() after the last reply is then one load's worth of pages, not a
    # whole file of them
    loader = TableLoader(store, NAME, TableSchema(RES), ITEMS, min_bytes=1 << 30, min_lines=16)
    loader.add_raw({"projectsId": "p", "locationsId": "l"}, _page(0), "r", None)
    assert loader.load_count == 0  # one page: not worth a load before the last round
    loader.last_round()
    loader.add_raw({"projectsId": "p", "locationsId": "l"}, _page(1), "r", None)
    for fut in list(loader._loads):
        fut.result()
    assert loader.load_count == 1
    loader.finish()
    loader.remove()
    assert len(store.execute(f"SELECT * FROM {qualified(NAME)}")) == 2


@pytest.mark.parametrize(
    ("pages", "bad"),
    [
        ([3] * 8, 1),  # three items a page: DuckDB's "line N" counts items, not pages
        ([0, 0, 2, 1], 3),  # empty pages first: the good page after them was blamed
    ],
)
def test_a_wrong_typed_value_fails_only_its_page(store: Store, pages: list[int], bad: int) -> None:
    file = PageFile(store.tmpdir)
    for i, n in enumerate(pages):
        jobs = [
            {"name": f"projects/p/locations/l{i}/hyperparameterTuningJobs/{j}",
             "maxTrialCount": "lots" if i == bad and j == 0 else j}
            for j in range(n)
        ]  # fmt: skip
        params = {"projectsId": "p", "locationsId": f"l{i}"}
        file.add_raw(params, orjson.dumps({ITEMS: jobs}), "r", (RES.id, "list", params))
    failed = store.load(NAME, TableSchema(RES), file, ITEMS, keep_going=True)
    file.remove()
    [failure] = failed
    assert failure.params["locationsId"] == f"l{bad}"
    assert 'Failed to cast value to numerical: "lots"' in failure.message
    got = dict(store.execute(f"SELECT locationsId, count(*) FROM {qualified(NAME)} GROUP BY 1"))
    assert got == {f"l{i}": n for i, n in enumerate(pages) if i != bad and n}


def test_an_integer_beyond_64_bits_in_a_parsed_reply_is_kept(store: Store) -> None:
    # boto3's parsed replies are written with orjson, which refuses such an integer: the
    # statement ended with "internal error: TypeError: Integer exceeds 64-bit range", no call
    # named. Written by the standard library, it is kept in the object's JSON, digit for digit
    aws = default_registry().resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    name = aws.id
    store.create_table(name, TableSchema(aws))
    file = PageFile(store.tmpdir)
    for region, completed in (("us-east-1", 3), ("eu-west-1", 99999999999999999999999)):
        params = {"region": region}
        job = {
            "HyperParameterTuningJobName": f"j-{region}",
            "TrainingJobStatusCounters": {"Completed": completed},
        }
        file.add_obj(
            params, {"HyperParameterTuningJobSummaries": [job]}, "r", (name, "list", params)
        )
    failed = store.load(
        name, TableSchema(aws), file, "HyperParameterTuningJobSummaries", keep_going=True
    )
    file.remove()
    assert failed == []
    got = store.execute(
        "SELECT HyperParameterTuningJobName, TrainingJobStatusCounters::VARCHAR "
        f"FROM {qualified(name)} ORDER BY 1"
    )
    assert got == [
        ("j-eu-west-1", '{"Completed":99999999999999999999999}'),
        ("j-us-east-1", '{"Completed":3}'),
    ]
