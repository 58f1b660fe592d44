"""Values read from rows that cannot name a resource: no call, no row, a warning.

A table joined on its get's own id or name to a source's rows (a JOIN, or an ``IN (SELECT
...)`` that binds as one) makes a call per value. A value that cannot be such a name (an
empty string, a ``/`` in a Google id, a SageMaker name over 32 characters) names no job, as a
name no job has does, so it gives no row. It failed the statement instead ("Invalid length
for parameter HyperParameterTuningJobName, value: 0"), where the same rows joined in DuckDB
just matched nothing. A bad value of a param that says where to call (a region, an account,
a project, a location) still fails it: that is a mistake in the source, not a name without
a job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.select import Slot
from stackql_tuning.transports.base import Call

if TYPE_CHECKING:
    from stackql_tuning.registry.loader import Registry
    from stackql_tuning.run.fetch import Fetcher

#: a value that every API accepts as a name or an id, put in place of a row's to tell whether
#: that value is what the request cannot hold
_STAND_IN = "x1"


def own_params(slot: Slot, registry: Registry) -> list[str]:
    """The params of ``slot``'s calls whose values come from rows and name one resource (a
    job's name or id; its parent's, for a child list: ``Registry.naming_params``), not where
    the call goes (a project, a location, a region, an account)."""
    method = slot.method
    return [
        name
        for name in method.required_params
        if name in slot.dependent and name in registry.naming_params
    ]


def keep_nameable(
    fetcher: Fetcher,
    registry: Registry,
    calls: list[Call],
    slot_of: dict[int, Slot],
    failed: Callable[[PlanError, Call], PlanError],
) -> tuple[list[Call], list[str]]:
    """``calls`` without those whose own values (``own_params``) cannot name a resource, and
    a warning per param that lost some; any other failing check raises ``failed(error, its
    call)``."""
    kept: list[Call] = []
    lost: dict[tuple[str, str], list[str]] = {}
    for call in calls:
        slot = slot_of[id(call)]
        own = own_params(slot, registry) if slot.dependent else []
        for name in own:  # a name read as a number (VALUES (5)) is the text the SQL compares
            value = call.params.get(name)
            param = call.method.param(name)
            if param is not None and param.type == "string" and isinstance(value, int | float):
                call.params[name] = str(value)
        try:
            if own:
                fetcher.check(call)
            else:
                fetcher.prepare(call)
        except PlanError as e:
            if not own or not _fits_without(fetcher, call, own):
                raise failed(e, call) from None
            for name in own:
                values = lost.setdefault((call.resource.id, name), [])
                if str(call.params.get(name)) not in values:
                    values.append(str(call.params.get(name)))
            continue
        kept.append(call)
    warnings = []
    for (resource, name), values in lost.items():
        shown = ", ".join(repr(v[:40]) for v in values[:3]) + (", ..." if len(values) > 3 else "")
        warnings.append(
            f"{resource}: {len(values)} value(s) of {name} read from rows ({shown}) cannot be "
            "a name the API accepts, so they name nothing: no call was made for them and they "
            "give no row"
        )
    return kept, warnings


def _fits_without(fetcher: Fetcher, call: Call, own: list[str]) -> bool:
    """Whether ``call`` passes its checks with a stand-in for each of its ``own`` values."""
    params = dict(call.params)
    params.update({name: _STAND_IN for name in own})
    try:
        fetcher.check(replace(call, params=params))
    except PlanError:
        return False
    return True
