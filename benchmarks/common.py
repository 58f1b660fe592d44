"""What every scenario shares: running probes and commands, medians, results and targets.

A scenario returns a :class:`ScenarioResult`: measurements (name, median, unit, detail) and
targets (a ratio of two measurements, the bound, PASS/FAIL). Must not: start servers or know
a particular scenario.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLI = str(Path(PYTHON).with_name("stackql-tuning"))


@dataclass
class Measure:
    name: str
    value: float  # median
    unit: str  # "ms", "MB", "calls"
    detail: str = ""


@dataclass
class Target:
    name: str
    ours: float
    other: float
    bound: float  # ratio ours/other must be <= bound (or == bound when exact)
    exact: bool = False
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.other if self.other else float("inf")

    @property
    def passed(self) -> bool:
        if self.exact:
            return self.ours == self.bound
        return self.ratio <= self.bound


@dataclass
class ScenarioResult:
    name: str
    title: str
    setup: str
    measures: list[Measure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000.0


def run_probe(job: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``benchmarks.probe`` in a fresh process; its JSON result."""
    out = subprocess.run(
        [PYTHON, "-m", "benchmarks.probe", json.dumps(job)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"probe {job['probe']} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def time_command(
    argv: list[str], env: dict[str, str] | None = None, repeat: int = 5
) -> tuple[list[float], str]:
    """Wall seconds of ``argv`` as a whole process, ``repeat`` times (after one warm-up run,
    so that the page cache is warm for every side); and the last run's stdout."""
    return time_commands({"only": argv}, env, repeat)["only"]


def time_commands(
    argvs: dict[str, list[str]], env: dict[str, str] | None = None, repeat: int = 5
) -> dict[str, tuple[list[float], str]]:
    """:func:`time_command` for several commands compared with each other, interleaved: one
    warm-up run each, then ``repeat`` rounds that run every command once in turn, so that a
    change of load on a shared machine falls on every side alike."""
    full_env = {**os.environ, **(env or {})}
    out: dict[str, tuple[list[float], str]] = {name: ([], "") for name in argvs}
    for i in range(repeat + 1):
        for name, argv in argvs.items():
            start = time.perf_counter()
            run = subprocess.run(argv, capture_output=True, text=True, env=full_env, cwd=ROOT)
            elapsed = time.perf_counter() - start
            if run.returncode != 0:
                raise RuntimeError(f"{' '.join(argv[:3])} ... failed:\n{run.stderr[-3000:]}")
            times, _ = out[name]
            if i:
                times.append(elapsed)
            out[name] = (times, run.stdout)
    return out
