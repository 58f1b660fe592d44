"""One measured side of a scenario, run in a fresh subprocess: ``python -m benchmarks.probe``.

Each probe reads a JSON job from argv, does its work ``repeat`` times, and prints one JSON line:
``{"seconds": [...], "rows": n, "calls": n, "peak_rss_mb": x}``. Probes:

- ``ours``: ``Session.execute(sql)`` on a fresh Session per repeat (modules imported first, so
  the time is the statement's: plan, fetch, materialize, run; and the Session's DuckDB database,
  made on first use, unless ``"store_ready": true`` makes it before the clock);
- ``plain``: what a plain Python client pays: ``requests`` + ``json.loads`` over the same pages,
  rows kept in a list;
- ``duckdb``: the same page bytes fetched first (not timed), then only DuckDB's ``read_json``
  with the registry's typed schema from files already written (in the page cache) into a table, in
  one scan over every file (the design's limit; ``"scan": "per-file"`` loads one file at a time);
- ``boto3``: a minimal boto3 script's work: list every job of each region, sequentially.

Peak RSS is the probe process's VmHWM, so each side is measured alone.
Must not: start servers (the scenario passes their URLs) or judge results.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any


def peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _google_pages(job: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p, loc) for p in job["projects"] for loc in job["locations"]]


def _list_url(base: str, project: str, location: str) -> str:
    return f"{base}v1/projects/{project}/locations/{location}/hyperparameterTuningJobs"


def probe_ours(job: dict[str, Any]) -> dict[str, Any]:
    import duckdb  # noqa: F401  (imports are start-up, measured elsewhere)
    import google.auth.transport.requests  # noqa: F401

    from stackql_tuning.session import Session

    if job.get("aws"):
        import boto3  # noqa: F401
    # whole replies, as every other side of a scenario reads them: the same bytes for all.
    # (Against the emulator a partial response costs its CPU, on the cores the client uses;
    # a real server cuts the reply on its own.)
    settings = {"partial_response": False, **job["settings"]}
    times, rows, calls = [], 0, 0
    # "warmup": runs first and apart, as a baseline that discards its first run: the first
    # statement of a process also pays one-off work (lazy imports, DuckDB's JSON extension)
    warmup = job.get("warmup", 0)
    for _ in range(warmup + job.get("repeat", 1)):
        session = Session.from_env(**settings)
        if job.get("store_ready"):
            session.store  # noqa: B018  (the DuckDB database is made before the clock)
        start = time.perf_counter()
        result = session.execute(job["sql"])
        times.append(time.perf_counter() - start)
        rows, calls = len(result.rows), result.calls
        session.close()
    timed, first = times[warmup:], times[:warmup]
    return {"seconds": timed, "first_seconds": first, "rows": rows, "calls": calls}


def probe_plain(job: dict[str, Any]) -> dict[str, Any]:
    import json as json_module

    import requests

    times, rows = [], 0
    for _ in range(job.get("repeat", 1)):
        http = requests.Session()
        start = time.perf_counter()
        kept: list[dict[str, Any]] = []
        for project, location in _google_pages(job):
            params = {"pageSize": str(job["page_size"]), "prettyPrint": "false"}
            while True:
                reply = json_module.loads(
                    http.get(_list_url(job["google"], project, location), params=params).content
                )
                kept.extend(reply.get("hyperparameterTuningJobs", []))
                token = reply.get("nextPageToken")
                if not token:
                    break
                params["pageToken"] = token
        times.append(time.perf_counter() - start)
        rows = len(kept)
        del kept
    return {"seconds": times, "rows": rows, "calls": 0}


def probe_duckdb(job: dict[str, Any]) -> dict[str, Any]:
    """The limit of this design: the same page bytes, already fetched and written to files of
    our loader's batch size, loaded by DuckDB's read_json with the registry's schema in the same
    SQL as ours (the best SQL we know: a hand-written variant with only the list payload was 5x
    slower here), reading the same fields as ours (``read``: the fields the query uses; all when
    absent). By default in one scan over every file, which DuckDB spreads over its threads (the
    fastest way we found: each load also pays ~5 ms of planning); ``"scan": "per-file"`` loads
    the files one after another."""
    import requests

    from stackql_tuning.registry.loader import default_registry
    from stackql_tuning.run.loader import BATCH_BYTES
    from stackql_tuning.run.store import PageFile, Store, TableSchema, qualified

    http = requests.Session()
    pages: list[tuple[dict[str, str], bytes]] = []
    for project, location in _google_pages(job):
        params = {"pageSize": str(job["page_size"]), "prettyPrint": "false"}
        while True:
            raw = http.get(_list_url(job["google"], project, location), params=params).content
            pages.append(({"projectsId": project, "locationsId": location}, raw))
            token = json.loads(raw).get("nextPageToken")
            if not token:
                break
            params["pageToken"] = token
    resource = default_registry().resource(job["resource"])
    items_key = next(m for m in resource.methods if m.name == "list").items_key
    read = job.get("read")
    schema = TableSchema(resource, read=None if read is None else {str(f).lower() for f in read})
    times, cpu, rows = [], [], 0
    for _ in range(job.get("repeat", 1)):
        store = Store()
        # the files are written before the clock starts: only DuckDB's reading is timed
        batches: list[PageFile] = []
        current, size = PageFile(store.tmpdir), 0
        for params, raw in pages:
            current.add_raw(params, raw, "r", None)
            size += len(raw)
            if size >= BATCH_BYTES:
                batches.append(current)
                current, size = PageFile(store.tmpdir), 0
        batches.append(current)
        for b in batches:
            b.close()
        store.create_table(job["resource"], schema)
        start, start_cpu = time.perf_counter(), time.process_time()
        if job.get("scan") == "per-file":
            for b in batches:
                store.load(job["resource"], schema, b, items_key)
        else:
            store.load(job["resource"], schema, batches, items_key)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)  # every DuckDB thread's CPU
        rows = store.execute(f"SELECT count(*) FROM {qualified(job['resource'])}")[0][0]
        store.close()
    return {"seconds": times, "cpu_seconds": cpu, "rows": rows, "calls": 0}


def probe_boto3(job: dict[str, Any]) -> dict[str, Any]:
    import boto3

    times, rows = [], 0
    for _ in range(job.get("repeat", 1)):
        start = time.perf_counter()
        kept = []
        for region in job["regions"]:
            client = boto3.client("sagemaker", region_name=region)
            kwargs: dict[str, Any] = {"MaxResults": 100}
            while True:
                reply = client.list_hyper_parameter_tuning_jobs(**kwargs)
                kept.extend(reply["HyperParameterTuningJobSummaries"])
                if not reply.get("NextToken"):
                    break
                kwargs["NextToken"] = reply["NextToken"]
        times.append(time.perf_counter() - start)
        rows = len(kept)
    return {"seconds": times, "rows": rows, "calls": 0}


def probe_boto3_hydrate(job: dict[str, Any]) -> dict[str, Any]:
    """A bare boto3 client doing the hydration's work and nothing else: list the region's jobs,
    then describe each one on 16 threads (one client, as boto3 allows across threads); the
    replies are parsed by botocore and dropped. What this machine and moto allow."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    client = boto3.client(
        "sagemaker", region_name=job["region"], config=Config(max_pool_connections=16)
    )
    times, rows = [], 0
    for _ in range(job.get("repeat", 1)):
        start = time.perf_counter()
        names: list[str] = []
        kwargs: dict[str, Any] = {"MaxResults": 100}
        with ThreadPoolExecutor(16) as pool:
            futures = []
            while True:
                reply = client.list_hyper_parameter_tuning_jobs(**kwargs)
                page = [
                    j["HyperParameterTuningJobName"]
                    for j in reply["HyperParameterTuningJobSummaries"]
                ]
                names.extend(page)
                futures += [
                    pool.submit(
                        client.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=n
                    )
                    for n in page
                ]
                if not reply.get("NextToken"):
                    break
                kwargs["NextToken"] = reply["NextToken"]
            rows = sum(1 for f in futures if f.result())
        times.append(time.perf_counter() - start)
    return {"seconds": times, "rows": rows, "calls": 0}


def probe_fetch(job: dict[str, Any]) -> dict[str, Any]:
    """The emulator alone: every page, nothing decoded, over one keep-alive connection; with
    ``"parallel": true`` one thread and connection per location, as ours fetches them."""
    import http.client
    import re
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    parts = urlsplit(job["google"])
    token_re = re.compile(rb'"nextPageToken":"([^"]+)"}$')

    def chain(conn: http.client.HTTPConnection, project: str, location: str) -> int:
        size = 0
        path = urlsplit(_list_url(job["google"], project, location)).path
        query = f"?prettyPrint=false&pageSize={job['page_size']}"
        while True:
            conn.request("GET", path + query)
            raw = conn.getresponse().read()
            size += len(raw)
            m = token_re.search(raw)
            if not m:
                return size
            query = f"?prettyPrint=false&pageSize={job['page_size']}&pageToken="
            query += m.group(1).decode()

    def own_connection(chain_of: tuple[str, str]) -> int:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        try:
            return chain(conn, *chain_of)
        finally:
            conn.close()

    times, size = [], 0
    chains = _google_pages(job)
    for _ in range(job.get("repeat", 1)):
        start = time.perf_counter()
        if job.get("parallel"):
            with ThreadPoolExecutor(len(chains)) as pool:
                size = sum(pool.map(own_connection, chains))
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port)
            size = sum(chain(conn, project, location) for project, location in chains)
            conn.close()
        times.append(time.perf_counter() - start)
    return {"seconds": times, "rows": 0, "calls": 0, "bytes": size}


PROBES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ours": probe_ours,
    "plain": probe_plain,
    "duckdb": probe_duckdb,
    "boto3": probe_boto3,
    "boto3_hydrate": probe_boto3_hydrate,
    "fetch": probe_fetch,
}


def main(argv: list[str]) -> None:
    job = json.loads(argv[1])
    out = PROBES[job["probe"]](job)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv)
