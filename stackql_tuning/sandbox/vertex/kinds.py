"""What differs between the kinds of job the emulator serves: one data table.

Holds: :class:`Kind` (required create fields, extra create checks, the field that acts as the
display name, how long each phase lasts in emulated seconds, how often a job fails and with
which error, and the output-only fields a job grows) and :data:`KINDS`, keyed by the discovery
collection name. Everything else in the emulator is generic over collections.

Must not: do HTTP, hold records or parse the discovery document.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from stackql_tuning.sandbox.vertex.clock import rfc3339
from stackql_tuning.sandbox.vertex.errors import ApiError
from stackql_tuning.sandbox.vertex.trials import plan_trials, visible_trials

RUNNING = "JOB_STATE_RUNNING"
SUCCEEDED = "JOB_STATE_SUCCEEDED"
FAILED = "JOB_STATE_FAILED"
CANCELLING = "JOB_STATE_CANCELLING"
CANCELLED = "JOB_STATE_CANCELLED"


class JobRecord(Protocol):
    """What output producers read from a record (see ``records.Record``)."""

    parent: str
    id: int
    seed: str
    create_time: float
    run_start: float | None
    run_end: float | None
    stop_time: float | None
    outcome: str
    memo: dict[str, Any]

    def value(self, key: str) -> Any: ...

    def started(self, state: str) -> bool: ...


Output = Callable[[JobRecord, str, float], Any]


@dataclass(frozen=True)
class Kind:
    required: tuple[str, ...]
    display_field: str
    pending: tuple[float, float]
    running: tuple[float, float]
    cancelling: tuple[float, float]
    fail_rate: float
    failure: Callable[[JobRecord], dict[str, Any]]
    checks: Callable[[dict[str, Any]], None] = lambda body: None
    outputs: dict[str, Output] = field(default_factory=dict)
    cancellable: frozenset[str] = frozenset({"JOB_STATE_QUEUED", "JOB_STATE_PENDING", RUNNING})
    deletable: frozenset[str] = frozenset({SUCCEEDED, FAILED, CANCELLED})


# ----------------------------------------------------------------- hyperparameter tuning jobs

_VALUE_SPECS = ("doubleValueSpec", "integerValueSpec", "categoricalValueSpec", "discreteValueSpec")


def _check_study(body: dict[str, Any]) -> None:
    study = body.get("studySpec") or {}
    for i, m in enumerate(study.get("metrics", [])):
        for key in ("metricId", "goal"):
            if not m.get(key):
                path = f"studySpec.metrics[{i}].{key}"
                raise ApiError.invalid(f"Required field is not specified: {path}", field=path)
    for i, p in enumerate(study.get("parameters", [])):
        path = f"studySpec.parameters[{i}]"
        if not p.get("parameterId"):
            raise ApiError.invalid(
                f"Required field is not specified: {path}.parameterId", field=f"{path}.parameterId"
            )
        kinds = [k for k in _VALUE_SPECS if k in p]
        if len(kinds) != 1:
            raise ApiError.invalid(
                f"{path} needs exactly one of {', '.join(_VALUE_SPECS)}", field=path
            )
        spec = p[kinds[0]]
        if kinds[0] in ("doubleValueSpec", "integerValueSpec"):
            lo, hi = spec.get("minValue"), spec.get("maxValue")
            if lo is None or hi is None or float(lo) > float(hi):
                raise ApiError.invalid(
                    f"{path}.{kinds[0]} needs minValue <= maxValue", field=f"{path}.{kinds[0]}"
                )
        elif not spec.get("values"):
            raise ApiError.invalid(
                f"Required field is not specified: {path}.{kinds[0]}.values",
                field=f"{path}.{kinds[0]}.values",
            )
    for key in ("maxTrialCount", "parallelTrialCount"):
        if key in body and int(body[key]) <= 0:
            raise ApiError.invalid(f"{key} must be positive", field=key)


def _failed_count(rec: JobRecord) -> int:
    total = int(rec.value("maxTrialCount") or 1)
    return max(1, int(total * random.Random(rec.seed + ":fail").uniform(0.2, 0.7)))


def _hpt_trials(rec: JobRecord, state: str, now: float) -> Any:
    if rec.run_start is None or not rec.started(state):
        return None
    plan = rec.memo.get("plan")
    failed = rec.outcome == FAILED
    if plan is None:
        count = _failed_count(rec) if failed else int(rec.value("maxTrialCount") or 1)
        plan = plan_trials(
            rec.value("studySpec") or {},
            count,
            int(rec.value("parallelTrialCount") or 1),
            rec.seed + ":trials",
        )
        rec.memo["plan"] = plan
    span = (rec.run_end or now) - rec.run_start
    at = now if rec.stop_time is None else min(now, rec.stop_time)
    unfinished = {CANCELLING: "STOPPING", CANCELLED: "INFEASIBLE"}.get(state, "ACTIVE")
    bad = int(rec.value("maxFailedTrialCount") or 0) + 1
    infeasible_from = max(0, len(plan) - bad) if failed else None
    return (
        visible_trials(
            plan, rec.run_start, span, at, unfinished=unfinished, infeasible_from=infeasible_from
        )
        or None
    )


def _hpt_failure(rec: JobRecord) -> dict[str, Any]:
    bad = int(rec.value("maxFailedTrialCount") or 0) + 1
    return {
        "code": 9,
        "message": f"{bad} trials failed, which exceeds the maxFailedTrialCount. "
        "Check the trials' training logs in Cloud Logging.",
    }


# ------------------------------------------------------------------------- tuning jobs


def _rng(rec: JobRecord, salt: str) -> random.Random:
    return random.Random(f"{rec.seed}:{salt}")


def _experiment(rec: JobRecord, state: str, now: float) -> Any:
    if not rec.started(state):
        return None
    stamp = rfc3339(rec.create_time)[:19].replace("-", "").replace(":", "").replace("T", "")
    return f"{rec.parent}/metadataStores/default/contexts/tuning-experiment-{stamp}-{rec.id}"


def _data_stats(rec: JobRecord, state: str, now: float) -> Any:
    if not rec.started(state):
        return None
    rng = _rng(rec, "stats")
    examples = rng.randint(200, 50_000)
    chars = examples * rng.randint(300, 3000)
    epochs = int(
        (rec.value("supervisedTuningSpec") or {}).get("hyperParameters", {}).get("epochCount", 3)
    )
    return {
        "supervisedTuningDataStats": {
            "tuningDatasetExampleCount": str(examples),
            "totalTuningCharacterCount": str(chars),
            "totalBillableTokenCount": str(chars // 4 * epochs),
            "tuningStepCount": str(max(1, examples * epochs // 16)),
            "totalTruncatedExampleCount": str(rng.randint(0, examples // 100)),
        }
    }


def _tuned_model(rec: JobRecord, state: str, now: float) -> Any:
    if state != SUCCEEDED:
        return None
    rng = _rng(rec, "model")
    return {
        "model": f"{rec.parent}/models/{rng.randrange(10**18, 10**19)}@1",
        "endpoint": f"{rec.parent}/endpoints/{rng.randrange(10**18, 10**19)}",
    }


def _tuning_failure(rec: JobRecord) -> dict[str, Any]:
    uri = (rec.value("supervisedTuningSpec") or {}).get("trainingDatasetUri", "")
    return {
        "code": 3,
        "message": f"Dataset {uri} is invalid: line {_rng(rec, 'err').randint(2, 900)} is not "
        "a valid JSON object with a 'contents' field.",
    }


KINDS: dict[str, Kind] = {
    "hyperparameterTuningJobs": Kind(
        required=(
            "displayName",
            "studySpec.metrics",
            "studySpec.parameters",
            "maxTrialCount",
            "parallelTrialCount",
            "trialJobSpec",
        ),
        display_field="displayName",
        pending=(20.0, 600.0),
        running=(1800.0, 6 * 3600.0),
        cancelling=(30.0, 300.0),
        fail_rate=0.15,
        failure=_hpt_failure,
        checks=_check_study,
        outputs={"trials": _hpt_trials},
    ),
    "tuningJobs": Kind(
        # the API's oneofs: the model tuned (a base model, or a tuned one tuned further) and
        # the tuning spec (supervised, or preference optimization)
        required=(
            "baseModel|preTunedModel.tunedModelName",
            "supervisedTuningSpec.trainingDatasetUri|preferenceOptimizationSpec.trainingDatasetUri",
        ),
        display_field="tunedModelDisplayName",
        pending=(60.0, 900.0),
        running=(3600.0, 5 * 3600.0),
        cancelling=(60.0, 600.0),
        fail_rate=0.1,
        failure=_tuning_failure,
        outputs={
            "experiment": _experiment,
            "tuningDataStats": _data_stats,
            "tunedModel": _tuned_model,
        },
    ),
}
