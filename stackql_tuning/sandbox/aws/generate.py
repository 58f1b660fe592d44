"""Deterministic plans for the training jobs of one simulated hyperparameter tuning job.

Given a tuning job's configuration (strategy, resource limits, parameter ranges, objective) and a
seed string, :func:`plan_job` decides every training job the tuning job will run: its name, when
it starts and ends (seconds after the job's start), its hyperparameters (always inside the
job's ranges), whether it completes, fails or is stopped early, and its objective metric value.
The same inputs always give the same plan. Pure: no I/O, no moto, no clock.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: simulated seconds a training job takes to get going after a slot frees up
STARTUP = 45.0
#: simulated duration range of one training job, seconds
DURATION = (420.0, 1500.0)
#: training jobs when the config sets no MaxNumberOfTrainingJobs (and the strategy is not Grid)
DEFAULT_TRAINING_JOBS = 10
#: upper bound on generated training jobs per tuning job (AWS allows more; a sandbox needs fewer)
MAX_TRAINING_JOBS = 200
#: chance that one training job fails with a non-retryable error
FAILURE_RATE = 0.06
#: chance that Hyperband stops a training job early
EARLY_STOP_RATE = 0.3

ALGORITHM_ERRORS = (
    "AlgorithmError: ExecuteUserScriptError: Command 'python train.py' returned non-zero exit 1",
    "AlgorithmError: Out of memory on ml instance; reduce max_depth or batch size",
    "ClientError: Unable to download data from s3: channel 'train' is empty",
)


@dataclass(frozen=True)
class Objective:
    type: str  # Maximize | Minimize
    metric: str

    def better(self, a: float, b: float) -> bool:
        return a > b if self.type == "Maximize" else a < b


@dataclass(frozen=True)
class TrainingPlan:
    """One training job as it will run, times in seconds after the tuning job started."""

    index: int
    name: str
    start: float
    end: float
    outcome: str  # Completed | Failed | Stopped (stopped early by Hyperband)
    value: float | None
    hyperparameters: dict[str, str]
    failure_reason: str | None = None


@dataclass(frozen=True)
class JobPlan:
    trainings: tuple[TrainingPlan, ...]
    #: when the tuning job fails (seconds after start), or None when it completes
    fail_at: float | None
    failure_reason: str | None
    #: when the job ends on its own: the last training's end, or ``fail_at``
    finish: float


def _definitions(request: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [request.get("TrainingJobDefinition"), *(request.get("TrainingJobDefinitions") or [])]
    return [d for d in found if d]


def parameter_ranges(request: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The ``ParameterRanges`` of a CreateHyperParameterTuningJob request, wherever they are."""
    config = request.get("HyperParameterTuningJobConfig") or {}
    if config.get("ParameterRanges"):
        return dict(config["ParameterRanges"])
    for definition in _definitions(request):
        if definition.get("HyperParameterRanges"):
            return dict(definition["HyperParameterRanges"])
    return {}


def objective_of(request: Mapping[str, Any]) -> Objective:
    """The tuning objective of a create request (default: Maximize ``validation:accuracy``)."""
    config = request.get("HyperParameterTuningJobConfig") or {}
    found = config.get("HyperParameterTuningJobObjective")
    for definition in _definitions(request):
        if not found:
            found = definition.get("TuningObjective")
    found = found or {}
    return Objective(found.get("Type", "Maximize"), found.get("MetricName", "validation:accuracy"))


class _Space:
    """The search space: draws hyperparameters and scores them against a hidden optimum."""

    def __init__(self, ranges: Mapping[str, list[dict[str, Any]]], rng: random.Random) -> None:
        self.integer = list(ranges.get("IntegerParameterRanges") or [])
        self.continuous = list(ranges.get("ContinuousParameterRanges") or [])
        self.categorical = list(ranges.get("CategoricalParameterRanges") or [])
        self.numeric = [(r, "int") for r in self.integer] + [(r, "float") for r in self.continuous]
        self.optimum = {r["Name"]: rng.random() for r, _ in self.numeric}
        self.preferred = self.pick(rng)

    def pick(self, rng: random.Random) -> dict[str, str]:
        return {r["Name"]: rng.choice(r["Values"]) for r in self.categorical if r["Values"]}

    def grid(self) -> list[dict[str, str]]:
        names = [r["Name"] for r in self.categorical]
        values = [list(r["Values"]) for r in self.categorical]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]

    def draw(self, rng: random.Random, near: dict[str, float] | None = None) -> dict[str, float]:
        """Normalized positions in [0, 1] per numeric parameter (near a point, if given)."""
        out = {}
        for r, _ in self.numeric:
            u = rng.random() if near is None else near[r["Name"]] + rng.gauss(0.0, 0.08)
            out[r["Name"]] = min(1.0, max(0.0, u))
        return out

    @staticmethod
    def _value(r: Mapping[str, Any], kind: str, u: float) -> str:
        lo, hi = float(r["MinValue"]), float(r["MaxValue"])
        if r.get("ScalingType") in ("Logarithmic", "ReverseLogarithmic") and lo > 0 and hi > lo:
            x = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:
            x = lo + u * (hi - lo)
        if kind == "int":
            return str(min(int(hi), max(int(lo), round(x))))
        return f"{min(hi, max(lo, x)):.6g}"

    def render(self, u: dict[str, float], categorical: dict[str, str]) -> dict[str, str]:
        out = {r["Name"]: self._value(r, kind, u[r["Name"]]) for r, kind in self.numeric}
        out.update(categorical)
        return out

    def quality(self, u: dict[str, float], categorical: dict[str, str]) -> float:
        loss = sum((u[n] - self.optimum[n]) ** 2 for n in u) * 2.5 / max(1, len(u))
        loss += sum(0.06 for n, v in categorical.items() if self.preferred.get(n) not in (None, v))
        return max(0.0, min(1.0, 1.0 - loss))


def _metric_value(objective: Objective, quality: float, rng: random.Random) -> float:
    q = max(0.0, min(1.0, quality + rng.gauss(0.0, 0.02)))
    if objective.type == "Maximize":
        return round(0.55 + 0.42 * q, 6)
    return round(0.35 + 2.6 * (1.0 - q), 6)


def plan_job(
    name: str,
    config: Mapping[str, Any],
    ranges: Mapping[str, list[dict[str, Any]]],
    objective: Objective,
    *,
    seed: str,
    scale: float = 1.0,
    failure_rate: float = FAILURE_RATE,
    force_fail: bool = False,
) -> JobPlan:
    """Plan every training job of tuning job ``name``.

    ``scale`` converts simulated seconds to clock seconds (1 / speed). ``force_fail`` makes the
    tuning job fail (the seed uses it); otherwise it fails only when half of its training jobs
    (at least two) fail.
    """
    rng = random.Random(f"plan/{seed}/{name}")
    strategy = config.get("Strategy", "Bayesian")
    limits = config.get("ResourceLimits") or {}
    parallel = max(1, int(limits.get("MaxParallelTrainingJobs", 1)))
    space = _Space(ranges, rng)

    grid = space.grid() if strategy == "Grid" and space.categorical and not space.numeric else None
    wanted = limits.get("MaxNumberOfTrainingJobs")
    if grid is not None:
        count = len(grid) if wanted is None else min(len(grid), int(wanted))
    else:
        count = int(wanted) if wanted is not None else DEFAULT_TRAINING_JOBS
    count = max(1, min(count, MAX_TRAINING_JOBS))
    threshold = max(2, math.ceil(count / 2))
    forced = set(rng.sample(range(count), min(count, threshold))) if force_fail else set()

    slots = [0.0] * parallel
    heapq.heapify(slots)
    best_u: dict[str, float] | None = None
    best_cat: dict[str, str] = {}
    best_value: float | None = None
    trainings: list[TrainingPlan] = []
    for i in range(count):
        start = heapq.heappop(slots) + STARTUP * rng.uniform(0.6, 1.4)
        duration = rng.uniform(*DURATION)
        exploit = strategy == "Bayesian" and best_u is not None and i >= 3 and rng.random() < 0.6
        u = space.draw(rng, best_u if exploit else None)
        if grid is not None:
            categorical = grid[i]
        elif exploit and rng.random() < 0.7:
            categorical = dict(best_cat)
        else:
            categorical = space.pick(rng)
        value: float | None = _metric_value(objective, space.quality(u, categorical), rng)
        outcome, reason = "Completed", None
        if i in forced or (not force_fail and rng.random() < failure_rate):
            outcome, reason, value = "Failed", rng.choice(ALGORITHM_ERRORS), None
            duration *= rng.uniform(0.1, 0.4)
        elif strategy == "Hyperband" and i > 0 and rng.random() < EARLY_STOP_RATE:
            outcome, duration = "Stopped", duration * rng.uniform(0.2, 0.5)
            value = _metric_value(objective, space.quality(u, categorical) * 0.85, rng)
        if (
            value is not None
            and outcome == "Completed"
            and (best_value is None or objective.better(value, best_value))
        ):
            best_u, best_cat, best_value = u, categorical, value
        end = start + duration
        heapq.heappush(slots, end)
        trainings.append(
            TrainingPlan(
                index=i,
                name=f"{name}-{i + 1:03d}-{rng.getrandbits(32):08x}",
                start=start * scale,
                end=end * scale,
                outcome=outcome,
                value=value,
                hyperparameters=space.render(u, categorical),
                failure_reason=reason,
            )
        )

    fail_at, failure_reason = None, None
    failures = 0
    for t in sorted(trainings, key=lambda t: t.end):
        failures += t.outcome == "Failed"
        if failures >= threshold:
            fail_at = t.end
            failure_reason = (
                f"{failures} of {count} training jobs failed with non-retryable errors; "
                f"last: {t.failure_reason}"
            )
            break
    if fail_at is not None:
        trainings = [t for t in trainings if t.start < fail_at]
    finish = fail_at if fail_at is not None else max(t.end for t in trainings)
    return JobPlan(tuple(trainings), fail_at, failure_reason, finish)
