"""Hydration: 200 jobs with a describe-only column at 50 ms per request, vs the ideal.

SageMaker (the list reply lacks ``BestTrainingJob``) on moto, and Vertex AI (``trials`` is
get-only) on the emulator. Ours lists and then gets every job on the shared pool. The ideal with
16 workers: the first page, then every other request packed 16 at a time,
``latency x (1 + ceil((requests - 1) / 16))``; but a server cannot answer faster than its own
CPU allows, so the bound used is the larger of that and the server's CPU seconds per run, both
shown. moto (one Python process, ~3 ms of CPU per describe on the client's 2 cores) could not
answer 16 requests per 50 ms, so here it replays its own reply to a repeated read
(``MotoServer.replay``; an unmeasured warm-up run has moto compute each reply once, and the
scenario asks moto again at the end and counts identical bodies).
"""

from __future__ import annotations

import math

from benchmarks.common import Measure, ScenarioResult, Target, median_ms, run_probe
from benchmarks.data import AWS_TABLE, GOOGLE_TABLE
from benchmarks.servers import Servers

LATENCY = 0.05
JOBS = 200
REGION = "us-west-2"
PROJECT, LOCATION = "bench-hydrate", "us-central1"


def _one(res: ScenarioResult, label: str, sql: str, repeat: int, aws: bool) -> None:
    config = {"aws_regions": {REGION: JOBS}, "moto_replay": True} if aws else {}
    with Servers(latency=LATENCY, **config) as srv:
        if not aws:
            srv.add_google_jobs(PROJECT, LOCATION, JOBS)
        env = srv.env()
        if aws:  # moto computes each reply once, here: every measured run is answered alike
            run_probe({"probe": "boto3_hydrate", "region": REGION, "repeat": 1}, env)
        srv.reset_logs()
        cpu0 = srv.cpu_seconds()
        ours = run_probe(
            {"probe": "ours", "sql": sql, "settings": {}, "repeat": repeat, "aws": aws}, env
        )
        cpu = (srv.cpu_seconds() - cpu0) / repeat * 1000
        requests = len(srv.aws_requests()) if aws else len(srv.google_requests())
        bare = check = None
        if aws:
            job = {"probe": "boto3_hydrate", "region": REGION, "repeat": repeat}
            bare = run_probe(job, env)
            check = srv.moto_replay_check()
    per_run = requests // repeat
    if ours["rows"] != JOBS:
        res.notes.append(f"{label}: ours returned {ours['rows']} rows, expected {JOBS}")
    ideal = LATENCY * (1 + math.ceil((per_run - 1) / 16)) * 1000
    bound = max(ideal, cpu)
    o = median_ms(ours["seconds"])
    res.measures += [
        Measure(f"{label}: ours", o, "ms", f"{per_run} requests per run"),
        Measure(f"{label}: ideal, latency x (1 + ceil((requests - 1) / 16))", ideal, "ms"),
        Measure(f"{label}: server CPU per run", cpu, "ms", "a floor for any client"),
    ]
    res.targets.append(Target(f"hydration vs ideal ({label})", o, bound, 1.2))
    if bare is not None:
        floor = median_ms(bare["seconds"])
        res.measures.append(
            Measure(
                f"{label}: floor, a bare boto3 client on 16 threads",
                floor,
                "ms",
                "list, then describe every job; parsed and dropped",
            )
        )
        res.targets.append(
            Target(f"hydration vs the bare-client floor (info: {label})", o, floor, 1.0)
        )
        # the same bound applied to the bare client: over it, no boto3 client can pass here
        res.targets.append(
            Target(
                f"the bare-client floor vs ideal (info: {label}, what the bound leaves)",
                floor,
                bound,
                1.2,
            )
        )
    if check is not None:
        res.measures.append(
            Measure(
                f"{label}: reads answered from moto's earlier reply",
                check["replayed"],
                "replies",
                f"moto asked again: {check['same']} of {check['same'] + check['differ']} "
                "bodies byte-identical",
            )
        )
        if check["differ"]:
            res.notes.append(f"{label}: {check['differ']} replayed replies differ from moto's")


def run(repeat: int = 5) -> ScenarioResult:
    res = ScenarioResult(
        "hydration",
        "Hydration (one get per job)",
        f"{JOBS} jobs, {LATENCY * 1000:.0f} ms per request; SageMaker reads BestTrainingJob "
        "(moto, replaying its reply to a repeated read), Vertex AI reads trials (emulator)",
    )
    aws_sql = (
        f"SELECT HyperParameterTuningJobName, BestTrainingJob FROM {AWS_TABLE} "
        f"WHERE region = '{REGION}'"
    )
    google_sql = (
        f"SELECT displayName, trials FROM {GOOGLE_TABLE} "
        f"WHERE projectsId = '{PROJECT}' AND locationsId = '{LOCATION}'"
    )
    _one(res, "SageMaker", aws_sql, repeat, aws=True)
    _one(res, "Vertex AI", google_sql, repeat, aws=False)
    return res
