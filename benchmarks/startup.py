"""Start-up: ``stackql-tuning exec "SHOW PROVIDERS"`` vs ``python -c pass`` (whole processes).

Catalog statements import no SDK, DuckDB or prompt_toolkit (tests/unit/test_import_hygiene.py
checks it); this shows what that leaves. The one-page query vs a boto3 script is in
``awscli``. Informational: no target.
"""

from __future__ import annotations

from benchmarks.common import CLI, PYTHON, Measure, ScenarioResult, median_ms, time_command


def run(repeat: int = 7) -> ScenarioResult:
    res = ScenarioResult(
        "startup",
        "Start-up",
        f"whole processes, median of {repeat} after a warm-up",
    )
    base, _ = time_command([PYTHON, "-c", "pass"], repeat=repeat)
    show, _ = time_command([CLI, "exec", "SHOW PROVIDERS"], repeat=repeat)
    version, _ = time_command([CLI, "--version"], repeat=repeat)
    b, s = median_ms(base), median_ms(show)
    res.measures += [
        Measure("python -c pass", b, "ms"),
        Measure('stackql-tuning exec "SHOW PROVIDERS"', s, "ms", f"+{s - b:.0f} ms over Python"),
        Measure("stackql-tuning --version", median_ms(version), "ms"),
    ]
    return res
