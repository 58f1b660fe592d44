"""``python -m benchmarks.reliability [--runs N] [--no-write]``: the figures of docs/reliability.md.

Runs stackql-tuning against the local sandbox with injected faults and counts what happened:
requests the emulator answered, faults injected by kind, retries, rows expected (the seed's
truth) against rows returned, and statements that failed with a correct error. Then it runs the
hostile-input corpus (tests/golden/hostile/corpus.yaml) and the fuzz properties, and writes
docs/reliability.md. Not part of the test suite (it takes a minute or two); the same claims are
asserted, at smaller scale, by tests/integration/test_faults.py and the unit tests.

Must not: change what it measures to fit a target; every figure comes from this run.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import platform
import sys
import time
from collections import Counter
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
PROJECTS = ("ml-research-prod", "ml-research-dev")
LOCATIONS = ("us-central1", "europe-west4", "asia-northeast1")
COLLECTION = "hyperparameterTuningJobs"
FANOUT = (
    "SELECT name, projectsId, locationsId FROM google.aiplatform.hyperparameter_tuning_jobs "
    f"WHERE projectsId IN {PROJECTS!r} AND locationsId IN {LOCATIONS!r} AND pageSize = 5"
)
MIXED = {"429": 1, "503": 1, "drop": 1, "truncate": 1}
FAULT_RUNS = ("default", "deep", "retry_after")


def truth(sandbox: Any, skip: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    jobs = sandbox.truth["google"]["jobs"]
    return sorted(
        (job["name"], p, loc)
        for p in PROJECTS
        for loc in LOCATIONS
        if loc not in skip
        for job in jobs[p][loc][COLLECTION]
    )


def _retry_waits(entries: list[dict[str, Any]]) -> list[float]:
    """The wait after each retried 429 of one run: to the next request for the same page."""
    by_page: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in entries:
        by_page.setdefault((e["path"], e["query"].get("pageToken", "")), []).append(e)
    waits = []
    for attempts in by_page.values():
        attempts.sort(key=lambda e: e["time"])
        for a, b in itertools.pairwise(attempts):
            if a["fault"] == "429":
                waits.append(b["time"] - a["time"])
    return waits


def fault_run(sandbox: Any, runs: int, retry_after: float, **settings: Any) -> dict[str, Any]:
    """``runs`` fan-out SELECTs under 20% mixed faults; every outcome classified."""
    from stackql_tuning.errors import ProviderError
    from stackql_tuning.session import Session

    expected = truth(sandbox)
    sandbox.google.configure(faults={"rate": 0.2, "kinds": MIXED, "retry_after": retry_after})
    out: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    errors: list[str] = []
    requests = answered_pages = gave_up = returned = answered = 0
    waits: list[float] = []
    began = time.perf_counter()
    try:
        with Session(**sandbox.settings(), **settings) as session:
            for _ in range(runs):
                sandbox.google.reset_log()
                try:
                    result = session.execute(FANOUT)
                    rows = sorted((r[0], r[1], r[2]) for r in result.rows)
                    returned += len(rows)
                    answered += 1
                    out["exact rows" if rows == expected else "WRONG rows"] += 1
                except ProviderError as e:
                    right = bool(e.failures) and all(
                        f.status in (429, 503, "connection") for f in e.failures
                    )
                    out["failed, correct error" if right else "failed, WRONG error"] += 1
                    gave_up += len(e.failures)  # their last attempt was no retry
                    errors.extend(f.describe() for f in e.failures)
                entries = sandbox.google.requests()
                requests += len(entries)
                faults.update(e["fault"] for e in entries if e["fault"])
                answered_pages += sum(1 for e in entries if e["status"] == 200 and not e["fault"])
                waits += _retry_waits(entries)
    finally:
        sandbox.google.configure(faults={})
    return {
        "min_wait_after_429": min(waits) if waits else None,
        "errors": errors,
        "runs": runs,
        "outcomes": dict(out),
        "expected_rows": len(expected) * answered,
        "returned_rows": returned,
        "requests": requests,
        "faults": dict(faults),
        # every page's first attempt either succeeded or began a chain that gave up
        "retries": requests - answered_pages - gave_up,
        "seconds": time.perf_counter() - began,
    }


def location_down(sandbox: Any) -> dict[str, Any]:
    """One location always failing: the statement fails by name, or continues with exit 3."""
    from stackql_tuning import cli
    from stackql_tuning.errors import ProviderError
    from stackql_tuning.session import Session

    sandbox.google.configure(
        faults={"rate": 1.0, "kinds": {"503": 1}, "match": "/europe-west4/", "retry_after": 0}
    )
    report: dict[str, Any] = {}
    try:
        with Session(**sandbox.settings(), retry_base=0.05) as session:
            try:
                session.execute(FANOUT)
                report["fail"] = "returned rows (WRONG)"
            except ProviderError as e:
                locs = sorted({str(f.params.get("locationsId")) for f in e.failures})
                report["fail"] = f"ProviderError listing {len(e.failures)} calls in {locs}"
            result = session.execute(FANOUT.replace("SELECT", "SELECT /*+ ON_ERROR=CONTINUE */"))
            got = sorted((r[0], r[1], r[2]) for r in result.rows)
            report["continue_rows"] = len(got)
            report["continue_expected"] = len(truth(sandbox, skip=("europe-west4",)))
            report["continue_exact"] = got == truth(sandbox, skip=("europe-west4",))
            report["continue_failures"] = len(result.failures)
        env = sandbox.env()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            out, err = io.StringIO(), io.StringIO()
            report["cli_exit"] = cli.main(
                ["exec", FANOUT, "-o", "csv", "--on-error", "continue"], out, err
            )
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        sandbox.google.configure(faults={})
    return report


def rate_limited(sandbox: Any, rate: float) -> dict[str, Any]:
    """The client-side token bucket: the most requests any (project) key sent in one second."""
    from stackql_tuning.session import Session

    sandbox.google.reset_log()
    began = time.perf_counter()
    with Session(**sandbox.settings(), rate_limit=rate) as session:
        rows = len(session.execute(FANOUT).rows)
    seconds = time.perf_counter() - began
    per_key: dict[str, list[float]] = {}
    for e in sandbox.google.requests():
        per_key.setdefault(e["path"].split("/")[3], []).append(e["time"])
    peak = 0
    for times in per_key.values():
        times.sort()
        j = 0
        for i, t in enumerate(times):
            while times[j] < t - 1.0:
                j += 1
            peak = max(peak, i - j + 1)
    return {"rate": rate, "rows": rows, "requests": sum(map(len, per_key.values())),
            "peak": peak, "seconds": seconds}  # fmt: skip


def corpus() -> dict[str, Any]:
    """The hostile-input corpus through the test harness: outcomes by category."""
    import tempfile

    sys.path.insert(0, str(ROOT))
    from tests.unit.test_hostile_corpus import Harness, load_corpus, problems

    cases = load_corpus()
    table: dict[str, Counter[str]] = {}
    failing: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, redirect_stderr(io.StringIO()):
        h = Harness(Path(tmp))
        with h.running():
            for case in cases:
                out = h.run(case)
                found = problems(case, out, h.secrets)
                row = table.setdefault(case["category"], Counter())
                row["cases"] += 1
                if out.kind.startswith("crash:"):
                    row["crash (known gap)" if case.get("xfail") else "crash"] += 1
                elif out.kind == "ok":
                    row["result"] += 1
                else:
                    row["our error"] += 1
                row["requests"] += len(out.requests)
                if found and not case.get("xfail"):
                    failing.append(f"{case['id']}: {found}")
                if any("leaked" in f for f in found):
                    row["leaks"] += 1
                if any("unexpected host" in f or "path" in f for f in found):
                    row["malformed requests"] += 1
    return {"cases": len(cases), "table": table, "failing": failing,
            "xfail": [c["id"] + ": " + c["xfail"] for c in cases if c.get("xfail")]}  # fmt: skip


def fuzz(examples: int) -> dict[str, Any]:
    os.environ["STACKQL_TUNING_FUZZ_EXAMPLES"] = str(examples)
    sys.path.insert(0, str(ROOT))
    from tests.unit import test_fuzz_engine as f

    outcome = {}
    for name in (
        "test_parse_ends_in_statements_or_a_parse_error",
        "test_parse_of_arbitrary_text",
        "test_planner_ends_in_a_plan_or_our_error",
        "test_every_renderer_renders_any_result",
    ):
        try:
            getattr(f, name)()
            outcome[name] = "pass"
        except BaseException as e:  # hypothesis re-raises the falsifying example's error
            outcome[name] = f"FAIL: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
    return {"examples": examples, "outcome": outcome}


def _fault_row(name: str, f: dict[str, Any]) -> str:
    o = f["outcomes"]
    faults = ", ".join(f"{k} {v}" for k, v in sorted(f["faults"].items()))
    failed = o.get("failed, correct error", 0)
    wrong = o.get("WRONG rows", 0) + o.get("failed, WRONG error", 0)
    return (
        f"| {name} | {f['runs']} | {o.get('exact rows', 0)} | {failed} | {wrong} | "
        f"{f['requests']} | {sum(f['faults'].values())} ({faults}) | {f['retries']} | "
        f"{f['expected_rows']} / {f['returned_rows']} | {f['seconds']:.1f} s |"
    )


def _secs(value: float | None) -> str:
    return "n/a (no 429 injected)" if value is None else f"{value:.3f} s"


def render_doc(fig: dict[str, Any]) -> str:
    down, rate, cor, fz = fig["down"], fig["rate"], fig["corpus"], fig["fuzz"]
    sustained = (rate["requests"] - 2 * rate["rate"]) / max(rate["seconds"], 1e-9)
    lines = [
        "# Reliability and security",
        "",
        "<!-- generated by `python -m benchmarks.reliability`; do not edit by hand -->",
        "",
        f"Measured on {fig['date']} ({fig['machine']}) against the local sandbox (Vertex AI "
        "emulator and moto, seed 0). Every figure below comes from one run of "
        f"`python -m benchmarks.reliability --runs {fig['runs']}`; the same claims are asserted "
        "at smaller scale by the test suite (`tests/integration/test_faults.py`, "
        "`tests/integration/test_no_secrets.py`, `tests/unit/test_retry_policy.py`, "
        "`tests/unit/test_hostile_corpus.py`, `tests/unit/test_fuzz_engine.py`).",
        "",
        "## What is retried",
        "",
        "| | Google (Vertex AI REST) | AWS (boto3) |",
        "|---|---|---|",
        "| retried | HTTP 429, 500, 502, 503, 504; connection errors, dropped connections, "
        "truncated bodies, timeouts | reads: botocore `standard` mode (throttling, 5xx, "
        "connection errors); create, delete and stop: throttling, and a connection refused "
        "before anything was sent, only |",
        "| attempts | `max_attempts` (default 5, first attempt included) | the same budget "
        "(`total_max_attempts`) |",
        "| backoff | full jitter: uniform(0, min(`retry_cap` 20 s, `retry_base` 0.5 s x "
        "2^(n-1))); `Retry-After` is honoured (up to the cap) | reads: botocore's; changes: "
        "the Google side's |",
        "| not retried | 400, 401 (google-auth refreshes the token twice), 403, 404, 409; "
        "a TLS certificate that fails verification; "
        "`create` and `delete` once the request may have reached the server | create, "
        "delete and stop once the request may have reached the server (a 5xx, a lost reply: "
        "its outcome is reported unknown) |",
        "| retried although not idempotent | `create` when the connection was refused before "
        "anything was sent | create, delete and stop when throttled or refused before "
        "anything was sent |",
        "| client-side rate limit | token bucket per (provider, project, host), `rate_limit` "
        "requests/s, burst = rate | per (provider, account, region) |",
        "| timeouts | `connect_timeout` 10 s, `read_timeout` 60 s for each wait for more of a "
        "reply (not the whole reply); `--timeout` per statement | the same, through "
        "botocore's Config |",
        "",
        "A call that fails for good fails the statement with every failed call listed "
        "(resource, params, status, message); with `--on-error continue` or "
        "`/*+ ON_ERROR=CONTINUE */` the rows that arrived are returned, each failure goes to "
        "stderr and the CLI exits 3. A statement past `--timeout` names the calls still pending.",
        "",
        "## Fan-out under 20% injected faults",
        "",
        "The statement: `SELECT name, projectsId, locationsId FROM "
        "google.aiplatform.hyperparameter_tuning_jobs` over 2 projects x 3 locations "
        f"(6 chains) with `pageSize = 5`: {fig['truth_rows']} rows in 42 pages per run. The "
        "emulator fails 20% of requests, evenly among 429 (with `Retry-After`), 503, a dropped "
        'connection and a body cut in half. "Exact" means the same job names, projects and '
        "locations as the seed's truth: no page lost, none duplicated.",
        "",
        "| policy | runs | exact | failed with a correct error | wrong | requests | faults "
        "injected | retries | rows expected / returned | time |",
        "|---|---|---|---|---|---|---|---|---|---|",
        _fault_row("default (5 attempts, base 0.5 s), Retry-After 0", fig["default"]),
        _fault_row("8 attempts, base 0.05 s, Retry-After 0", fig["deep"]),
        _fault_row("default, Retry-After 1 s", fig["retry_after"]),
        "",
        "The shortest wait between a 429 and the next request for the same page was "
        f"{_secs(fig['default']['min_wait_after_429'])} with `Retry-After: 0` and "
        f"{_secs(fig['retry_after']['min_wait_after_429'])} with `Retry-After: 1`. "
        "Rows expected / returned count the runs that returned rows. A run fails only when one "
        "page meets a fault on every attempt (0.2^5 = 1 in 3,125 pages with the default budget, "
        "0.2^8 with 8); it then fails with a ProviderError naming the page's call, never with "
        "fewer rows.",
        "",
        "AWS replies come from moto, which injects no faults; "
        "`tests/integration/test_faults.py::test_aws_pagination_is_exact_under_faults` puts a "
        "proxy that throttles, fails with 500 or drops 20% of requests in front of it and "
        "checks that paginated lists over two regions (`MaxResults = 3`) return exactly the "
        "server's rows, five times in a row.",
        "",
        *(
            [
                "The failed runs' errors (each names the call and its params):",
                "",
                *[f"- `{x}`" for k in FAULT_RUNS for x in fig[k]["errors"]],
                "",
            ]
            if any(fig[k]["errors"] for k in FAULT_RUNS)
            else []
        ),
        "## One location down",
        "",
        "Every request to `europe-west4` answers 503:",
        "",
        f"- default: {down['fail']};",
        f"- `/*+ ON_ERROR=CONTINUE */`: {down['continue_rows']} rows returned of "
        f"{down['continue_expected']} in the other locations "
        f"({'exact' if down['continue_exact'] else 'NOT exact'}), "
        f"{down['continue_failures']} failures reported;",
        f"- `stackql-tuning exec ... --on-error continue`: exit code {down['cli_exit']}.",
        "",
        "## Client-side rate limit",
        "",
        f"With `rate_limit={rate['rate']:g}` the same fan-out ({rate['requests']} requests, "
        f"{rate['rows']} rows) took {rate['seconds']:.1f} s; the most requests one project "
        f"sent in any one-second window was {rate['peak']} (the burst of {rate['rate']:g} plus "
        f"{rate['rate']:g} refilled), and {sustained:.1f} requests/s across both projects after "
        "the bursts.",
        "",
        "## Hostile input",
        "",
        f"The corpus (`tests/golden/hostile/corpus.yaml`, {cor['cases']} cases) runs against "
        "stubbed HTTP with fake credentials (AWS keys, a service-account key and the access "
        "token it is exchanged for). For every case the harness checks the outcome, every "
        "request that was sent (host, path shape) and every output for the credentials.",
        "",
        "| category | cases | result | our error | crash | requests sent | malformed "
        "requests | credential leaks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cat in ("sql", "parameter", "reply", "manifest"):
        c = cor["table"].get(cat, {})
        crash = c.get("crash", 0)
        known = c.get("crash (known gap)", 0)
        lines.append(
            f"| {cat} | {c.get('cases', 0)} | {c.get('result', 0)} | {c.get('our error', 0)} | "
            f"{crash}{f' (+{known} known gap)' if known else ''} | {c.get('requests', 0)} | "
            f"{c.get('malformed requests', 0)} | {c.get('leaks', 0)} |"
        )
    lines += ["", f"Cases failing their checks: {len(cor['failing'])}."]
    lines += [f"- {x}" for x in cor["failing"]]
    lines += ["", "Known gaps, each an `xfail` test until fixed in the module named:", ""]
    lines += [f"- {x}" for x in cor["xfail"]]
    lines += [
        "",
        "What the corpus pins down: path values are one percent-encoded segment (`../`, `/`, "
        "`\\`, `%2F`, control characters and values over 1,024 characters are refused; `?`, "
        "`#`, quotes and unicode are encoded); a location or region that is not a location "
        "name (`evil.com/x`, `us-central1.evil.com`, `us-central1@evil.com`) is refused before "
        "any host is chosen; a reply that is not one JSON object, lacks its items key, has "
        "wrong types, repeats keys, repeats its page token or tries to smuggle keys into the "
        "row stream is a ProviderError naming the call; values such as `x'); DROP TABLE ...` "
        "come back as data; templates run in jinja's sandbox with strict undefined; manifests "
        "load with a safe YAML loader.",
        "",
        "## Fuzzing",
        "",
        f"Hypothesis, {fz['examples']} examples per property in this run (120 in CI; "
        "`STACKQL_TUNING_FUZZ_EXAMPLES` sets it):",
        "",
    ]
    lines += [f"- `{k}`: {v}" for k, v in fz["outcome"].items()]
    lines += [
        "",
        "## Credentials",
        "",
        "`tests/integration/test_no_secrets.py` runs the CLI in subprocesses (queries, "
        "`--dry-run`, failed calls, parse and usage errors, `--auth` text holding a secret, "
        "`STACKQL_TUNING_DEBUG=1`, the shell, broken service-account key files) with "
        "recognisable fake credentials and finds none of them in stdout or stderr; with "
        "logging at DEBUG, botocore's and urllib3's records have `Authorization` and session "
        "token header values redacted. A token or key echoed back in an API error message is "
        "replaced by `<redacted>`.",
        "",
        "## Reproduce",
        "",
        "```",
        f"python -m benchmarks.reliability --runs {fig['runs']}   # rewrites this page",
        "python -m pytest tests/integration/test_faults.py tests/integration/test_no_secrets.py \\",
        "    tests/unit/test_retry_policy.py tests/unit/test_hostile_corpus.py "
        "tests/unit/test_fuzz_engine.py",
        "```",
        "",
    ]
    return "\n".join(lines)


def write(figures: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_doc(figures), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reliability", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="fan-out runs per fault scenario")
    parser.add_argument("--fuzz-examples", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the page")
    args = parser.parse_args(argv)

    from stackql_tuning.sandbox.runner import Sandbox

    figures: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "runs": args.runs,
    }
    with Sandbox(seed=0) as sandbox:
        figures["truth_rows"] = len(truth(sandbox))
        print("fault run: default policy (5 attempts, base 0.5 s, cap 20 s)", file=sys.stderr)
        figures["default"] = fault_run(sandbox, args.runs, retry_after=0)
        print("fault run: 8 attempts, base 0.05 s", file=sys.stderr)
        figures["deep"] = fault_run(
            sandbox, args.runs, retry_after=0, max_attempts=8, retry_base=0.05
        )
        print("fault run: Retry-After 1 s honoured", file=sys.stderr)
        figures["retry_after"] = fault_run(sandbox, max(2, args.runs // 5), retry_after=1)
        print("one location down", file=sys.stderr)
        figures["down"] = location_down(sandbox)
        print("rate limit", file=sys.stderr)
        figures["rate"] = rate_limited(sandbox, 5.0)
    print("hostile corpus", file=sys.stderr)
    figures["corpus"] = corpus()
    print("fuzzing", file=sys.stderr)
    figures["fuzz"] = fuzz(args.fuzz_examples)
    if args.no_write:
        import json

        print(json.dumps(figures, indent=2, default=str))
    else:
        write(figures, DOC)
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    bad = (
        figures["default"]["outcomes"].get("WRONG rows", 0)
        + figures["deep"]["outcomes"].get("WRONG rows", 0)
        + len(figures["corpus"]["failing"])
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
