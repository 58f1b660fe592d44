"""Manifests: build / test / teardown of a stack of tuning jobs (stackql-deploy compatible).

    >>> from stackql_tuning.deploy import build, load_env_vars
    >>> report = build(session, "manifests/vertex-hpt", "dev", env_vars=load_env_vars(None, []))
    >>> report.created

Modules: ``manifest`` (YAML -> dataclasses), ``context`` (variables, env files, masking),
``anchors`` (``.iql`` anchors), ``condition`` (safe ``if``), ``engine`` (the state machine),
``report`` (what happened), ``scaffold`` (``deploy init``). This package sits on top of
``Session``; nothing below it imports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stackql_tuning.deploy.context import load_env_vars
from stackql_tuning.deploy.engine import Engine, Log, SessionLike
from stackql_tuning.deploy.manifest import Manifest, load_manifest
from stackql_tuning.deploy.report import DeployReport, ResourceOutcome, write_output_file
from stackql_tuning.deploy.scaffold import init_stack
from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.registry.loader import Registry, default_registry


def _dry_run_first(dry: Engine, operation: str) -> None:
    """The operation as ``--dry-run`` makes it (``dry``: its engine, silent), before its first
    call: every resource's statements rendered and planned (no call), so that what a dry run
    finds (a mistyped column, a value the API refuses, a prop out of range) stops the build
    before it creates anything, not after the resources before it were made (a build created
    a job, then failed on its exports query; its teardown failed on the same query)."""
    try:
        getattr(dry, operation)()
    except StackqlTuningError as e:
        e.message = f"{e.message} (found by the {operation}'s dry run, before any call)"
        raise


def _run(
    operation: str,
    session: SessionLike,
    stack_dir: Path | str,
    stack_env: str,
    *,
    env_vars: dict[str, Any] | None,
    dry_run: bool,
    show_queries: bool,
    output_file: Path | str | None,
    log: Log | None,
    log_level: str,
    sleep: Callable[[float], None],
    on_failure: str = "error",
) -> DeployReport:
    registry = getattr(session, "registry", None)
    if not isinstance(registry, Registry):
        registry = default_registry()
    manifest = load_manifest(stack_dir, providers=registry.providers)

    def engine_for(dry: bool, log: Log | None, show_queries: bool) -> Engine:
        return Engine(
            session,
            manifest,
            stack_env,
            env_vars=dict(env_vars or {}),
            dry_run=dry,
            show_queries=show_queries,
            log=log,
            log_level=log_level,
            sleep=sleep,
            on_failure=on_failure,
        )

    if not dry_run and operation == "build":
        _dry_run_first(engine_for(True, lambda line: None, False), operation)
    engine = engine_for(dry_run, log, show_queries)
    report: DeployReport = getattr(engine, operation)()
    if output_file is not None and operation != "teardown":
        if dry_run:
            engine.log(f"dry run: {output_file} not written")
        else:
            write_output_file(output_file, report)
    return report


def build(
    session: SessionLike,
    stack_dir: Path | str,
    stack_env: str,
    *,
    env_vars: dict[str, Any] | None = None,
    dry_run: bool = False,
    show_queries: bool = False,
    output_file: Path | str | None = None,
    log: Log | None = None,
    log_level: str = "INFO",
    sleep: Callable[[float], None] = time.sleep,
    on_failure: str = "error",
) -> DeployReport:
    """Create or update every resource of the stack so that its statechecks pass.

    ``on_failure`` (stackql-deploy's ``--on-failure``): ``error`` stops at the first resource
    that fails; ``rollback`` then tears down what this build created, in reverse order, and
    raises the failure; ``ignore`` goes on with the next resource and raises, at the end, a
    ManifestError that names every resource that failed (the report is its ``report``)."""
    return _run(
        "build",
        session,
        stack_dir,
        stack_env,
        env_vars=env_vars,
        dry_run=dry_run,
        show_queries=show_queries,
        output_file=output_file,
        log=log,
        log_level=log_level,
        sleep=sleep,
        on_failure=on_failure,
    )


def test(
    session: SessionLike,
    stack_dir: Path | str,
    stack_env: str,
    *,
    env_vars: dict[str, Any] | None = None,
    dry_run: bool = False,
    show_queries: bool = False,
    output_file: Path | str | None = None,
    log: Log | None = None,
    log_level: str = "INFO",
    sleep: Callable[[float], None] = time.sleep,
    on_failure: str = "error",
) -> DeployReport:
    """Check every resource's statecheck and collect exports; ManifestError on the first failure
    (``on_failure="ignore"``: on every failed resource, at the end)."""
    return _run(
        "test",
        session,
        stack_dir,
        stack_env,
        env_vars=env_vars,
        dry_run=dry_run,
        show_queries=show_queries,
        output_file=output_file,
        log=log,
        log_level=log_level,
        sleep=sleep,
        on_failure=on_failure,
    )


# pytest would collect a module-level function named test_*; `test` is fine, but keep it explicit
test.__test__ = False  # type: ignore[attr-defined]


def teardown(
    session: SessionLike,
    stack_dir: Path | str,
    stack_env: str,
    *,
    env_vars: dict[str, Any] | None = None,
    dry_run: bool = False,
    show_queries: bool = False,
    output_file: Path | str | None = None,
    log: Log | None = None,
    log_level: str = "INFO",
    sleep: Callable[[float], None] = time.sleep,
    on_failure: str = "error",
) -> DeployReport:
    """Delete the stack's resources in reverse order (exists -> delete -> gone);
    ``on_failure="ignore"`` goes on past a resource that fails (``build``)."""
    return _run(
        "teardown",
        session,
        stack_dir,
        stack_env,
        env_vars=env_vars,
        dry_run=dry_run,
        show_queries=show_queries,
        output_file=output_file,
        log=log,
        log_level=log_level,
        sleep=sleep,
        on_failure=on_failure,
    )


__all__ = [
    "DeployReport",
    "Engine",
    "Manifest",
    "ResourceOutcome",
    "build",
    "init_stack",
    "load_env_vars",
    "load_manifest",
    "teardown",
    "test",
]
