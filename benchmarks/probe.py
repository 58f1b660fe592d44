"""One measured side of a scenario, run in a fresh subprocess: ``python -m benchmarks.probe``.

Each probe reads a JSON job from argv, does its work ``repeat`` times, and prints one JSON line:
``{"seconds": [...], "rows": n, "calls": n, "peak_rss_mb": x}``. Probes:

- ``ours``: ``Session.execute(sql)`` on a fresh Session per repeat (modules imported first, so
  the time is the statement's: plan, fetch, materialize, run);
- ``plain``: what a plain Python client pays: ``requests`` + ``json.loads`` over the same pages,
  rows kept in a list;
- ``duckdb``: the same page bytes fetched first (not timed), then only DuckDB's ``read_json``
  with the registry's typed schema from in-memory (tmpfs) files into a table (the design's limit);
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
    settings = dict(job["settings"])
    times, rows, calls = [], 0, 0
    for _ in range(job.get("repeat", 1)):
        session = Session.from_env(**settings)
        start = time.perf_counter()
        result = session.execute(job["sql"])
        times.append(time.perf_counter() - start)
        rows, calls = len(result.rows), result.calls
        session.close()
    return {"seconds": times, "rows": rows, "calls": calls}


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
    import os
    import tempfile

    import duckdb
    import requests

    from stackql_tuning.registry.loader import default_registry
    from stackql_tuning.run.store import TableSchema

    http = requests.Session()
    pages: list[bytes] = []
    for project, location in _google_pages(job):
        params = {"pageSize": str(job["page_size"]), "prettyPrint": "false"}
        while True:
            raw = http.get(_list_url(job["google"], project, location), params=params).content
            pages.append(b'{"r":' + raw + b"}\n")
            token = json.loads(raw).get("nextPageToken")
            if not token:
                break
            params["pageToken"] = token
    resource = default_registry().resource(job["resource"])
    items_key = next(m for m in resource.methods if m.name == "list").items_key
    schema = TableSchema(resource)
    cols = schema.read_columns(items_key)
    cols.pop("o"), cols.pop("p")
    col_arg = "{" + ", ".join(f"'{k}': '{v}'" for k, v in cols.items()) + "}"
    select = ", ".join(f"it.{c}" for c in (f'"{x.name}"' for x in schema.columns))
    # "in memory": files in /dev/shm (tmpfs) when there is one, in batches of the size ours
    # loads at a time (one 250 MB file read at once is ~10x slower in DuckDB 2.0 here, and
    # fsspec's memory filesystem 30x: either would flatter us).
    from stackql_tuning.run.loader import BATCH_BYTES

    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    paths: list[str] = []
    batch: list[bytes] = []
    size = 0
    for i, page in enumerate(pages):
        batch.append(page)
        size += len(page)
        if size >= BATCH_BYTES or i == len(pages) - 1:
            fd, path = tempfile.mkstemp(suffix=".ndjson", dir=shm)
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"".join(batch))
            paths.append(path)
            batch, size = [], 0
    del pages, batch
    times, rows = [], 0
    try:
        for _ in range(job.get("repeat", 1)):
            con = duckdb.connect()
            con.execute(f"CREATE TABLE t ({schema.ddl()})")
            names = ", ".join(f'"{c.name}"' for c in schema.columns)
            sql = (
                f"INSERT INTO t ({names}) SELECT {select} FROM (SELECT unnest(r.{items_key}) "
                f"AS it FROM read_json(?, columns={col_arg}, format='newline_delimited', "
                "maximum_object_size=1073741824))"
            )
            start = time.perf_counter()
            for path in paths:  # one batch at a time, as ours loads them
                con.execute(sql, [path]).fetchall()
            times.append(time.perf_counter() - start)
            rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
            con.close()
    finally:
        for path in paths:
            os.unlink(path)
    return {"seconds": times, "rows": rows, "calls": 0}


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


def probe_fetch(job: dict[str, Any]) -> dict[str, Any]:
    """The emulator alone: every page over one keep-alive connection, nothing decoded."""
    import http.client
    import re
    from urllib.parse import urlsplit

    parts = urlsplit(job["google"])
    token_re = re.compile(rb'"nextPageToken":"([^"]+)"}$')
    times, size = [], 0
    for _ in range(job.get("repeat", 1)):
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        start = time.perf_counter()
        size = 0
        for project, location in _google_pages(job):
            path = urlsplit(_list_url(job["google"], project, location)).path
            query = f"?prettyPrint=false&pageSize={job['page_size']}"
            while True:
                conn.request("GET", path + query)
                raw = conn.getresponse().read()
                size += len(raw)
                m = token_re.search(raw)
                if not m:
                    break
                query = f"?prettyPrint=false&pageSize={job['page_size']}&pageToken="
                query += m.group(1).decode()
        times.append(time.perf_counter() - start)
        conn.close()
    return {"seconds": times, "rows": 0, "calls": 0, "bytes": size}


PROBES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ours": probe_ours,
    "plain": probe_plain,
    "duckdb": probe_duckdb,
    "boto3": probe_boto3,
    "fetch": probe_fetch,
}


def main(argv: list[str]) -> None:
    job = json.loads(argv[1])
    out = PROBES[job["probe"]](job)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv)
