"""Printing results and writing ``docs/performance.md`` (a table per scenario, PASS/FAIL).

Must not: measure anything.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path

from benchmarks.common import ScenarioResult, Target


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    import duckdb

    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"CPython {platform.python_version()}, duckdb {duckdb.__version__}"
    )


def _fmt(value: float, unit: str) -> str:
    if unit == "calls":
        return f"{value:.0f} call{'s' if value != 1 else ''}"
    return f"{value:,.0f} {unit}"


def _verdict(t: Target) -> str:
    if "(info" in t.name:  # not a target of the issue: whether it is within the bound, as info
        return "info: within" if t.passed else "info: over"
    return "PASS" if t.passed else "FAIL"


def target_line(t: Target) -> str:
    if t.exact:
        return f"{t.name}: {t.ours:.0f} (must be {t.bound:.0f}) {_verdict(t)}"
    return f"{t.name}: {t.ratio:.2f}x (target <= {t.bound}x) {_verdict(t)}"


def print_result(res: ScenarioResult) -> None:
    print(f"\n== {res.title}: {res.setup}", file=sys.stderr)
    for m in res.measures:
        extra = f"  ({m.detail})" if m.detail else ""
        print(f"   {m.name:<58} {_fmt(m.value, m.unit):>12}{extra}", file=sys.stderr)
    for t in res.targets:
        print(f"   -> {target_line(t)}", file=sys.stderr)
    for n in res.notes:
        print(f"   note: {n}", file=sys.stderr)


def markdown(results: list[ScenarioResult], elapsed: float, load: str) -> str:
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`python -m benchmarks`); do not edit by hand. Every scenario "
        "runs ours and its baseline in the same run, against the sandbox servers over loopback "
        "(each scenario's servers in their own process). Ours reads whole replies "
        "(`--no-partial-response`), as every baseline does: the same bytes for all sides. "
        "The product's default, replies cut by the server to the fields a query reads, is "
        "shown as information beside it in the fan-out. Times are medians; ratios "
        "are ours / baseline.",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {machine()}",
        f"- load average when the run started: {load} (the machine may be shared: trust "
        "ratios more than absolute times)",
        f"- the whole run took {elapsed:.0f} s",
        "",
        "## Targets",
        "",
        "| scenario | target | ours | baseline | ratio | bound | result |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for res in results:
        for t in res.targets:
            if t.exact:
                lines.append(
                    f"| {res.title} | {t.name} | {t.ours:.0f} | - | - | = {t.bound:.0f} | "
                    f"{_verdict(t)} |"
                )
            else:
                lines.append(
                    f"| {res.title} | {t.name} | {t.ours:,.0f} | {t.other:,.0f} | "
                    f"{t.ratio:.2f}x | <= {t.bound}x | {_verdict(t)} |"
                )
    for res in results:
        lines += ["", f"## {res.title}", "", res.setup, "", "| measure | value | detail |"]
        lines.append("|---|---:|---|")
        for m in res.measures:
            lines.append(f"| {m.name} | {_fmt(m.value, m.unit)} | {m.detail} |")
        for n in res.notes:
            lines += ["", f"Note: {n}"]
    return "\n".join(lines) + "\n"


def write(results: list[ScenarioResult], elapsed: float, load: str, path: Path) -> None:
    path.write_text(markdown(results, elapsed, load))
