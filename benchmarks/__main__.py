"""``python -m benchmarks [--only NAME ...] [--quick] [--no-write]``: run the scenarios, print
PASS/FAIL per target, write docs/performance.md. Exit status 1 when a target fails."""

from __future__ import annotations

import argparse
import compileall
import os
import sys
import time

from benchmarks import awscli, fanout, hydration, report, startup, throughput
from benchmarks.common import ROOT

SCENARIOS = {
    "fanout": fanout.run,
    "throughput": throughput.run,
    "hydration": hydration.run,
    "awscli": awscli.run,
    "startup": startup.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="repeatable")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-write", action="store_true", help="do not write the docs page")
    args = parser.parse_args(argv)
    names = args.only or list(SCENARIOS)
    # An installed package has its bytecode compiled (pip does it); an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would recompile every module in every process we time.
    compileall.compile_dir(str(ROOT / "stackql_tuning"), quiet=1)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    started = time.perf_counter()
    results = []
    for name in names:
        kwargs = {"repeat": 2} if args.quick else {}
        res = SCENARIOS[name](**kwargs)
        report.print_result(res)
        results.append(res)
    elapsed = time.perf_counter() - started
    failed = [t for r in results for t in r.targets if report._verdict(t) == "FAIL"]
    if not args.no_write:
        path = ROOT / "docs" / "performance.md"
        report.write(results, elapsed, load, path)
        print(f"\nwrote {path.relative_to(ROOT)} ({elapsed:.0f} s)", file=sys.stderr)
    print(f"{len(failed)} target(s) failed" if failed else "every target passed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
