"""Fan-out: 4 projects x 8 locations x 3 pages at 50 ms per request, and early LIMIT.

Ours at ``--concurrency 16`` against the ideal ``ceil(32/16) x 3 x 50 ms`` (pages of one chain are
sequential), and against ours at ``--concurrency 1`` (StackQL's default behaviour). Then
``LIMIT 10`` over 5,000 jobs in one location must make exactly one list call (the emulator's
request log counts them).

The floor is a client that does nothing but fetch the same 96 pages and follow their tokens
(16 threads, a keep-alive ``http.client`` connection each): what this machine and the emulator
allow. The same client on ``requests`` is shown too, for what that library's per-request work
adds (its ``Session.get`` also scans the environment for proxy settings on every request).

Each side runs ``2 x repeat - 1`` timed runs after one untimed run in its process, the median
taken: a process's first statement also pays one-off work (shown apart, as information; whole
processes are timed by the start-up and AWS CLI scenarios).
"""

from __future__ import annotations

import math
from collections import Counter
from functools import partial

from benchmarks.common import Measure, ScenarioResult, Target, median_ms, run_probe
from benchmarks.data import GOOGLE_TABLE, LOCATIONS, PROJECTS, sql_list
from benchmarks.servers import Servers

LATENCY = 0.05
JOBS_PER_CHAIN = 150  # 3 pages at the API's default page size (50)
LIMIT_PROJECT = "bench-limit"


def run(repeat: int = 5) -> ScenarioResult:
    res = ScenarioResult(
        "fanout",
        "Fan-out over projects x locations",
        f"{len(PROJECTS)} projects x {len(LOCATIONS)} locations, {JOBS_PER_CHAIN} HPT jobs each "
        f"(3 pages per location), {LATENCY * 1000:.0f} ms per request; `Session.execute` in a "
        "fresh Session per run, modules imported",
    )
    sql = (
        f"SELECT projectsId, locationsId, count(*) AS jobs FROM {GOOGLE_TABLE} "
        f"WHERE projectsId IN {sql_list(PROJECTS)} AND locationsId IN {sql_list(LOCATIONS)} "
        "GROUP BY ALL"
    )
    # the API default page (50) is also its maximum here, so every chain has 3 pages
    with Servers(latency=LATENCY, max_page_size=50) as srv:
        for project in PROJECTS:
            for location in LOCATIONS:
                srv.add_google_jobs(project, location, JOBS_PER_CHAIN)
        srv.add_google_jobs(LIMIT_PROJECT, LOCATIONS[0], 5000)
        env = srv.env()
        srv.reset_logs()
        # timed runs of ours, each side after one untimed run in its process (the floor discards
        # its first run too): 5 runs' median moved by ~20 ms between full runs of one code
        runs = 2 * repeat - 1
        mine = {"probe": "ours", "sql": sql, "settings": {}, "repeat": runs, "warmup": 1}
        fast = run_probe(mine, env)
        per_chain = Counter(r["path"] for r in srv.google_requests())
        cut = {"partial_response": True}  # the product's default (info)
        partial = run_probe({**mine, "settings": cut}, env)
        pages = max(per_chain.values()) // (runs + 1)
        chains = len(per_chain)
        ready = run_probe({**mine, "store_ready": True}, env)
        slow = run_probe(
            {"probe": "ours", "sql": sql, "settings": {"concurrency": 1}, "repeat": 2}, env
        )
        srv.reset_logs()
        limit_sql = (
            f"SELECT displayName, state FROM {GOOGLE_TABLE} WHERE projectsId = '{LIMIT_PROJECT}' "
            f"AND locationsId = '{LOCATIONS[0]}' LIMIT 10"
        )
        limited = run_probe({"probe": "ours", "sql": limit_sql, "settings": {}, "repeat": 1}, env)
        list_calls = sum(1 for r in srv.google_requests() if r.get("action") == "list")
        # the same LIMIT with a condition: the API filters on it, or only DuckDB can
        where_calls = []
        for cond in ("state = 'JOB_STATE_SUCCEEDED'", "maxTrialCount > 0"):
            srv.reset_logs()
            probe = {"probe": "ours", "sql": limit_sql.replace(" LIMIT", f" AND {cond} LIMIT")}
            limited_where = run_probe({**probe, "settings": {}, "repeat": 1}, env)
            if limited_where["rows"] != 10:
                res.notes.append(f"unexpected row count with {cond}: {limited_where['rows']}")
            where_calls.append(sum(1 for r in srv.google_requests() if r.get("action") == "list"))
        floor = bare_client_ms(env["STACKQL_TUNING_GOOGLE_ENDPOINT"], runs)
        floor_requests = bare_requests_ms(env["STACKQL_TUNING_GOOGLE_ENDPOINT"], runs)
    expected_rows = len(PROJECTS) * len(LOCATIONS)
    if fast["rows"] != expected_rows or limited["rows"] != 10:
        res.notes.append(f"unexpected row counts: {fast['rows']}, {limited['rows']}")
    ideal = math.ceil(chains / 16) * pages * LATENCY * 1000
    ours = median_ms(fast["seconds"])
    ours1 = median_ms(slow["seconds"])
    ours_ready = median_ms(ready["seconds"])
    ours_partial = median_ms(partial["seconds"])
    res.measures += [
        Measure("ours, --concurrency 16", ours, "ms", f"{fast['calls']} requests, {runs} runs"),
        Measure(
            "ours, the first statement of its process (not timed above)",
            median_ms(fast["first_seconds"]),
            "ms",
            "info: with the process's one-off work (lazy imports, DuckDB's JSON extension); "
            "whole processes: the start-up and AWS CLI scenarios",
        ),
        Measure("ideal: ceil(32/16) x pages x latency", ideal, "ms", f"{pages} pages per chain"),
        Measure(
            "ours, the Session's DuckDB database made before the clock",
            ours_ready,
            "ms",
            "info: without the session's one-off DuckDB start "
            "(a first query's calls leave while it starts)",
        ),
        Measure(
            "ours with the default partial response",
            ours_partial,
            "ms",
            "info: the server cuts each page to the fields read",
        ),
        Measure("ours, --concurrency 1 (StackQL's default)", ours1, "ms"),
        Measure(
            "floor: bare http.client + 16 threads, bytes only",
            floor,
            "ms",
            "what this machine and server allow: a keep-alive connection per thread, no decoding",
        ),
        Measure(
            "the same with requests (a Session and its adapter)",
            floor_requests,
            "ms",
            "info: what requests' per-request work adds to the floor",
        ),
        Measure("LIMIT 10 over 5,000 jobs: list calls", list_calls, "calls"),
        Measure(
            "the same with a condition the API filters on: list calls",
            where_calls[0],
            "calls",
            "state = 'JOB_STATE_SUCCEEDED' (every job): the rows that pass it count",
        ),
        Measure(
            "the same with a condition only DuckDB evaluates: list calls",
            where_calls[1],
            "calls",
            "maxTrialCount > 0 (every job), evaluated on each page as it arrives",
        ),
    ]
    res.targets += [
        Target("fan-out vs ideal", ours, ideal, 1.15),
        Target("fan-out vs --concurrency 1 (info: the speed-up)", ours, ours1, 1.0),
        Target("fan-out, DuckDB already started, vs ideal (info)", ours_ready, ideal, 1.15),
        Target(
            "fan-out with the default partial response vs ideal (info)", ours_partial, ideal, 1.15
        ),
        Target("fan-out vs the bare-client floor (info)", ours, floor, 1.0),
        # the same bound applied to the bare client: over it, no client can pass on this machine
        Target("the bare-client floor vs ideal (info: what the bound leaves)", floor, ideal, 1.15),
        Target("the same with requests vs ideal (info)", floor_requests, ideal, 1.15),
        Target("LIMIT 10 over 5,000 jobs: list calls", list_calls, 1, 1, exact=True),
        Target(
            "LIMIT 10 with a condition the API filters on: list calls (info)",
            where_calls[0],
            1,
            1,
            exact=True,
        ),
        Target(
            "LIMIT 10 with a condition only DuckDB evaluates: list calls (info)",
            where_calls[1],
            1,
            1,
            exact=True,
        ),
    ]
    return res


def bare_client_ms(base: str, repeat: int) -> float:
    """The same 96 requests from a client that does nothing but fetch bytes and follow tokens:
    16 threads, each with one keep-alive ``http.client`` connection. The difference to the ideal
    is the machine's and the server's share (the emulator's Python and 120 KB replies on the
    same 2 cores), not a client's."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    from stackql_tuning.transports.google import next_token

    parts = urlsplit(base)

    opened: list[HTTPConnection] = []

    def chain(local: threading.local, project: str, location: str) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = HTTPConnection(parts.hostname or "", parts.port)
            opened.append(conn)
        token = None
        path = urlsplit(_list_url(base, project, location)).path
        while True:
            query = "?prettyPrint=false&pageSize=50" + (f"&pageToken={token}" if token else "")
            conn.request("GET", path + query)
            token = next_token(conn.getresponse().read(), "nextPageToken")
            if not token:
                return

    times = []
    for _ in range(repeat + 1):
        local = threading.local()
        began = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(partial(chain, local), *zip(*_chains(), strict=True)))
        times.append(time.perf_counter() - began)
        for conn in opened:
            conn.close()
        opened.clear()
    return median_ms(times[1:])


def bare_requests_ms(base: str, repeat: int) -> float:
    """The same with requests: 16 threads over one requests.Session (its ``get`` also reads the
    proxy variables of the environment on every request)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from stackql_tuning.transports.google import next_token

    def chain(session: requests.Session, project: str, location: str) -> None:
        token = None
        while True:
            params = {"prettyPrint": "false", "pageSize": "50"}
            if token:
                params["pageToken"] = token
            url = _list_url(base, project, location)
            token = next_token(session.get(url, params=params).content, "nextPageToken")
            if not token:
                return

    times = []
    for _ in range(repeat + 1):
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
        began = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(partial(chain, session), *zip(*_chains(), strict=True)))
        times.append(time.perf_counter() - began)
        session.close()
    return median_ms(times[1:])


def _chains() -> list[tuple[str, str]]:
    return [(p, loc) for p in PROJECTS for loc in LOCATIONS]


def _list_url(base: str, project: str, location: str) -> str:
    return f"{base}v1/projects/{project}/locations/{location}/hyperparameterTuningJobs"
