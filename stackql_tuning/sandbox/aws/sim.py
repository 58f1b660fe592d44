"""The state of one simulated tuning job at a given instant, computed from its plan.

A :class:`JobSim` is a tuning job the sandbox tracks: its identity, its plan (from
``generate.plan_job``), when it started (``origin``, epoch seconds), an optional ``pin`` (the job
is frozen that many seconds after its start: seeded demo jobs keep their state) and, once
stopped, when and how long stopping takes. :meth:`JobSim.view` answers "what does AWS show at
epoch second ``now``": status, counters, the training jobs that exist and the best one.
Pure: no I/O, no moto, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackql_tuning.sandbox.aws.generate import JobPlan, Objective, TrainingPlan

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


def to_datetime(epoch: float) -> datetime:
    """Naive UTC datetime (moto's convention) for an epoch second."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class TrainingView:
    plan: TrainingPlan
    status: str  # InProgress | Completed | Failed | Stopping | Stopped
    start: float  # epoch
    end: float | None  # epoch, None while running
    #: stopped by the tuning job's stop or failure (reports no final metric)
    cut: bool = False

    @property
    def objective_status(self) -> str:
        if self.status in ("InProgress", "Stopping"):
            return "Pending"
        if self.cut or self.plan.value is None or self.status == "Failed":
            return "Failed"
        return "Succeeded"


@dataclass(frozen=True)
class JobView:
    status: str
    last_modified: float
    end: float | None
    elapsed: float
    trainings: tuple[TrainingView, ...]
    best: TrainingView | None
    failure_reason: str | None


@dataclass
class JobSim:
    account: str
    region: str
    name: str
    arn: str
    objective: Objective
    plan: JobPlan
    #: epoch second the job's timeline starts from (moves forward when a pinned job is stopped)
    origin: float
    #: epoch second shown as CreationTime (defaults to ``origin``)
    created: float | None = None
    pin: float | None = None
    stop_at: float | None = None
    stop_delay: float = 90.0
    #: who placed this sim (the seed marks its jobs so that re-seeding can reuse them)
    tag: str | None = None
    #: the last status written to moto, so settled jobs are not rewritten on every request
    applied: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.created is None:
            self.created = self.origin

    def elapsed(self, now: float) -> float:
        e = max(0.0, now - self.origin)
        return e if self.pin is None else min(e, self.pin)

    def settled(self, now: float) -> bool:
        """True when the job's state can no longer change with time (until someone stops it)."""
        return self.pin is not None or self.view(now).status in TERMINAL

    def status(self, now: float) -> str:
        return self.view(now).status

    def stop(self, now: float) -> None:
        """Request a stop at ``now``; a pinned job is unpinned so stopping completes in time."""
        if self.pin is not None:
            self.origin = now - self.elapsed(now)
            self.pin = None
        self.stop_at = self.elapsed(now)  # recomputed: now - (now - e) may differ from e
        self.applied = None

    def view(self, now: float) -> JobView:
        e = self.elapsed(now)
        plan = self.plan
        cut, cut_done = None, None  # when running trainings are cut, and when the cut is done
        if self.stop_at is not None and e >= self.stop_at:
            cut, cut_done = self.stop_at, self.stop_at + self.stop_delay
            status = "Stopped" if e >= cut_done else "Stopping"
        elif plan.fail_at is not None and e >= plan.fail_at:
            cut = cut_done = plan.fail_at
            status = "Failed"
        elif e >= plan.finish:
            status = "Completed"
        else:
            status = "InProgress"

        views = []
        for t in plan.trainings:
            if t.start > e or (cut is not None and t.start >= cut):
                continue
            if t.end <= e and (cut is None or t.end <= cut):
                views.append(TrainingView(t, t.outcome, self.origin + t.start, self.origin + t.end))
            elif cut is not None and cut_done is not None and e >= cut_done:
                stopped = self.origin + cut_done
                views.append(TrainingView(t, "Stopped", self.origin + t.start, stopped, cut=True))
            elif cut is not None:
                views.append(TrainingView(t, "Stopping", self.origin + t.start, None, cut=True))
            else:
                views.append(TrainingView(t, "InProgress", self.origin + t.start, None))

        best = None
        for v in views:
            if (
                v.status == "Completed"
                and v.plan.value is not None
                and (best is None or self.objective.better(v.plan.value, best.plan.value or 0.0))
            ):
                best = v
        events = [0.0] + [t.start for t in plan.trainings] + [t.end for t in plan.trainings]
        if cut is not None and cut_done is not None:
            events += [cut, cut_done]
        last = max(x for x in events if x <= e)
        end: float | None = None
        if status in TERMINAL:
            end = self.origin + (cut_done if cut_done is not None else plan.finish)
        reason = plan.failure_reason if status == "Failed" else None
        return JobView(status, self.origin + last, end, e, tuple(views), best, reason)


def counters(view: JobView) -> tuple[dict[str, int], dict[str, int]]:
    """(TrainingJobStatusCounters, ObjectiveStatusCounters) of a view."""
    tc = dict.fromkeys(("Completed", "InProgress", "RetryableError", "NonRetryableError"), 0)
    tc["Stopped"] = 0
    oc = {"Succeeded": 0, "Pending": 0, "Failed": 0}
    for v in view.trainings:
        key = {"Failed": "NonRetryableError", "Stopping": "InProgress"}.get(v.status, v.status)
        tc[key] += 1
        oc[v.objective_status] += 1
    return tc, oc


def training_summary(job: JobSim, v: TrainingView) -> dict[str, Any]:
    """A HyperParameterTrainingJobSummary (datetimes naive UTC)."""
    t = v.plan
    arn = f"arn:aws:sagemaker:{job.region}:{job.account}:training-job/{t.name.lower()}"
    out: dict[str, Any] = {
        "TrainingJobName": t.name,
        "TrainingJobArn": arn,
        "TuningJobName": job.name,
        "CreationTime": to_datetime(v.start),
        "TrainingStartTime": to_datetime(v.start),
        "TrainingJobStatus": v.status,
        "TunedHyperParameters": dict(t.hyperparameters),
        "ObjectiveStatus": v.objective_status,
    }
    if v.end is not None:
        out["TrainingEndTime"] = to_datetime(v.end)
    if v.status == "Failed" and t.failure_reason:
        out["FailureReason"] = t.failure_reason
    if t.value is not None and v.objective_status == "Succeeded":
        out["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": job.objective.type,
            "MetricName": job.objective.metric,
            "Value": t.value,
        }
    return out
