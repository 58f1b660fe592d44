"""The benchmark suite (issue 10): ``make bench`` / ``python -m benchmarks``.

Scenarios (one module each: fanout, throughput, hydration, awscli, startup) run ours and their
baselines in the same run against sandbox servers in a separate process (``servers``), measure
in fresh subprocesses (``probe``, ``common.time_command``), and ``report`` prints PASS/FAIL per
target and writes docs/performance.md. Not part of the test suite.
"""
