"""The AWS CLI and a boto3 script vs ours, whole processes, on moto (zero latency).

250 jobs in one region, and in 4 regions: ours (``stackql-tuning -o json exec "SELECT <the
list columns> ... WHERE region IN (...)"``) vs ``aws sagemaker list-hyper-parameter-tuning-jobs``
once per region, sequentially (as a user's shell loop runs it) and vs a minimal boto3 script
(``benchmarks/scripts/boto3_list.py``). Then a one-page query (50 jobs) vs the same script.
Where ``aws`` is not installed, the CLI rows are skipped with a note.
"""

from __future__ import annotations

import shutil
import subprocess

from benchmarks.common import (
    CLI,
    PYTHON,
    ROOT,
    Measure,
    ScenarioResult,
    Target,
    median_ms,
    time_commands,
)
from benchmarks.data import AWS_TABLE, REGIONS, sql_list
from benchmarks.servers import Servers

JOBS = 250
SMALL_REGION, SMALL_JOBS = "eu-central-1", 50
LIST_COLUMNS = (
    "HyperParameterTuningJobName, HyperParameterTuningJobArn, HyperParameterTuningJobStatus, "
    "Strategy, CreationTime, HyperParameterTuningEndTime, LastModifiedTime, "
    "TrainingJobStatusCounters, ObjectiveStatusCounters, ResourceLimits, region"
)


def aws_cli() -> str | None:
    """The ``aws`` executable itself (pyenv's shim resolved: its bash start-up is not the CLI's)."""
    found = shutil.which("aws")
    if found is None:
        return None
    if "/shims/" in found and shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return found


def _ours(regions: tuple[str, ...]) -> list[str]:
    sql = f"SELECT {LIST_COLUMNS} FROM {AWS_TABLE} WHERE region IN {sql_list(regions)}"
    return [CLI, "-o", "json", "exec", sql]


def _cli_loop(aws: str, regions: tuple[str, ...]) -> list[str]:
    loop = "; ".join(
        f"{aws} sagemaker list-hyper-parameter-tuning-jobs --region {r} >/dev/null" for r in regions
    )
    return ["bash", "-c", loop]


def run(repeat: int = 7) -> ScenarioResult:
    res = ScenarioResult(
        "awscli",
        "AWS CLI and boto3 vs ours (whole processes)",
        f"moto, zero latency: {JOBS} jobs in each of {len(REGIONS)} regions, {SMALL_JOBS} in "
        f"{SMALL_REGION}; wall time of the whole process, median of {repeat} after a warm-up, "
        "the sides interleaved",
    )
    aws = aws_cli()
    boto3_script = [PYTHON, str(ROOT / "benchmarks/scripts/boto3_list.py")]
    config = {"aws_regions": {**{r: JOBS for r in REGIONS}, SMALL_REGION: SMALL_JOBS}}
    with Servers(**config) as srv:
        env = {**srv.env(), "AWS_PAGER": ""}
        env.pop("STACKQL_TUNING_GOOGLE_ENDPOINT")
        for label, regions in (("1 region", REGIONS[:1]), ("4 regions", REGIONS)):
            sides = {"ours": _ours(regions), "boto3": boto3_script + list(regions)}
            if aws is not None:
                sides["cli"] = _cli_loop(aws, regions)
            timed = time_commands(sides, env, repeat)
            ours, out = timed["ours"]
            if out.count('"HyperParameterTuningJobName"') != JOBS * len(regions):
                res.notes.append(f"ours ({label}) did not return {JOBS * len(regions)} rows")
            o = median_ms(ours)
            res.measures.append(Measure(f"ours, {label}", o, "ms"))
            script, _ = timed["boto3"]
            res.measures.append(Measure(f"boto3 script, {label}", median_ms(script), "ms"))
            if aws is None:
                res.notes.append("the AWS CLI is not installed: its rows are skipped")
                continue
            cli, _ = timed["cli"]
            c = median_ms(cli)
            res.measures.append(Measure(f"aws CLI once per region, {label}", c, "ms", aws))
            bound = 0.9 if len(regions) == 1 else 0.4
            res.targets.append(Target(f"{label} vs the AWS CLI", o, c, bound))
        small = {"ours": _ours((SMALL_REGION,)), "boto3": [*boto3_script, SMALL_REGION]}
        timed = time_commands(small, env, repeat)
        ours, script = timed["ours"][0], timed["boto3"][0]
    o, s = median_ms(ours), median_ms(script)
    res.measures += [
        Measure(f"ours, one page ({SMALL_JOBS} jobs)", o, "ms"),
        Measure("boto3 script, one page", s, "ms"),
    ]
    res.targets.append(Target("one-page query vs a minimal boto3 script", o, s, 1.3))
    return res
