"""Fixtures for integration tests (loopback servers only). Every test here is marked integration.

- ``sandbox`` (session): one started, seeded (seed 0)
  :class:`stackql_tuning.sandbox.runner.Sandbox` for the whole test session:
  ``sandbox.google`` (VertexEmulator), ``sandbox.aws`` (AwsSandbox), ``sandbox.truth``
  (``{"google": seed_google(...) summary, "aws": seed_aws(...) truth}``), ``sandbox.env()``,
  ``sandbox.settings()`` (``Session(**sandbox.settings())`` talks to it). Seeded jobs keep
  their state; tests that stop or delete jobs must create their own, with unique names. AWS
  seeds us-east-1 and eu-west-1; a module that needs "all the jobs of a region" to be its own
  must use a region no other module uses (grep this directory for the region's name). The
  same holds for Google: tests that create, cancel or delete jobs in the seeded projects
  (ml-research-prod, ml-research-dev) change what the seed-truth tests see; use another
  project, or a VertexEmulator of their own (each emulator has its own store).
- ``sandbox_env`` (function): the sandbox's environment variables set in ``os.environ`` for the
  test (monkeypatched), for code that reads AWS_ENDPOINT_URL / STACKQL_TUNING_AUTH itself.
- ``fresh_sandbox`` (function): the ``sandbox`` with both request logs emptied before the test
  and the knobs restored after it (latency 0, AWS speed 3600 and clock running, the Vertex
  emulator's clock speed as it was), for tests that count calls (``sandbox.aws.requests()``,
  ``sandbox.google.requests()``) or set knobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stackql_tuning.sandbox.runner import Sandbox

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=0) as started:
        yield started


@pytest.fixture
def sandbox_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = sandbox.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.aws.reset_log()
    sandbox.google.reset_log()
    speed = sandbox.google.clock.speed
    try:
        yield sandbox
    finally:
        sandbox.aws.configure(latency=0.0, speed=3600.0, frozen=False)
        sandbox.google.configure(latency=0.0)
        sandbox.google.clock.set_speed(speed)
        sandbox.aws.reset_log()
        sandbox.google.reset_log()
