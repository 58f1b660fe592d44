"""Translation of residual predicates into server-side filter params (filled in by issue 10)."""

from __future__ import annotations

from typing import Any

from stackql_tuning.plan.select import Slot


def pushed_params(slot: Slot) -> dict[str, Any]:
    return {}
