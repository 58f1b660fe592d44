"""What a build / test / teardown did: one outcome per resource, the stack exports, the queries.

Plain data for the CLI to print (every value in here is already masked, but ``values``:
the stack exports for the output file).
This module does no I/O except :func:`write_output_file`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackql_tuning.errors import ManifestError

#: resource actions, by operation
#:   build:    created | updated | unchanged | exported | ran | skipped | planned
#:             (ran: a command resource's statements ran)
#:   test:     passed | exported | skipped | planned
#:   teardown: deleted | cancelled | stopped | absent | kept | skipped | planned | unknown
#:             (cancelled, stopped: the delete anchor ran no DELETE, only that EXEC;
#:             unknown: its exists query needs an export of a resource that is gone)
#:   any, with --on-failure ignore: failed


@dataclass
class ResourceOutcome:
    name: str
    action: str
    exports: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployReport:
    operation: str
    stack_name: str
    stack_env: str
    dry_run: bool = False
    resources: list[ResourceOutcome] = field(default_factory=list)
    #: stack-level exports (masked)
    exports: dict[str, Any] = field(default_factory=dict)
    #: the same, unmasked: for the output file only, never printed
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    #: the DuckDB type of each value a query gave (None: a global, a literal)
    types: dict[str, str | None] = field(default_factory=dict, repr=False)
    #: rendered queries, in order, as ``(resource, anchor, text)`` (masked)
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def has_secrets(self) -> bool:
        """Whether ``values`` holds a protected value (one that masking changed)."""
        return any(self.exports.get(k) != v for k, v in self.values.items())

    def names(self, action: str) -> list[str]:
        return [r.name for r in self.resources if r.action == action]

    @property
    def created(self) -> list[str]:
        return self.names("created")

    @property
    def deleted(self) -> list[str]:
        return self.names("deleted")

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.action] = counts.get(r.action, 0) + 1
        parts = ", ".join(f"{n} {a}" for a, n in counts.items()) or "nothing to do"
        mode = " (dry run)" if self.dry_run else ""
        return (
            f"{self.operation} of {self.stack_name} [{self.stack_env}]{mode}: {parts} "
            f"in {self.elapsed:.1f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "stack_name": self.stack_name,
            "stack_env": self.stack_env,
            "dry_run": self.dry_run,
            "resources": [
                {"name": r.name, "action": r.action, "exports": r.exports} for r in self.resources
            ],
            "exports": self.exports,
            "elapsed": round(self.elapsed, 3),
        }


def write_output_file(path: Path | str, report: DeployReport) -> None:
    """The stack exports as JSON: ``{"stack_name", "stack_env", <export>: <value>, ...}``.

    The values are unmasked, as stackql-deploy writes them (masking is for what is displayed;
    the file is for the pipeline that runs next); a file holding a protected value is made
    readable by its owner only.
    """
    import orjson

    from stackql_tuning.render.cell import json_cell
    from stackql_tuning.result import JsonText

    data = {"stack_name": report.stack_name, "stack_env": report.stack_env}
    for name, value in report.values.items():
        # as `-o json` writes values: NaN null, ISO timestamps, exact numbers, JSON embedded
        type_name = report.types.get(name) or ("JSON" if isinstance(value, JsonText) else None)
        data[name] = json_cell(value, type_name)
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    try:
        if report.has_secrets:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise ManifestError(f"cannot write output file {str(path)!r}: {e.strerror}") from None
