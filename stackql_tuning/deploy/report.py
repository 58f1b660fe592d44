"""What a build / test / teardown did: one outcome per resource, the stack exports, the queries.

Plain data for the CLI to print (every value in here is already masked).
This module does no I/O except :func:`write_output_file`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackql_tuning.errors import ManifestError

#: resource actions, by operation
#:   build:    created | updated | unchanged | exported | skipped | planned
#:   test:     passed | exported | skipped | planned
#:   teardown: deleted | absent | kept | skipped | planned


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
    #: rendered queries, in order, as ``(resource, anchor, text)`` (masked)
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    elapsed: float = 0.0

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
    """The stack exports as JSON: ``{"stack_name", "stack_env", <export>: <value>, ...}``."""
    data = {"stack_name": report.stack_name, "stack_env": report.stack_env, **report.exports}
    try:
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as e:
        raise ManifestError(f"cannot write output file {str(path)!r}: {e.strerror}") from None
