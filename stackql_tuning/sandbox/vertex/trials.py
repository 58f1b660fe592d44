"""Trials of a hyperparameter tuning job: parameters inside the study's ranges, metric values.

Holds: :func:`plan_trials` (a deterministic plan of every trial a job would run: parameters,
objective values, start/end offsets) and :func:`visible_trials` (the trials a reader sees at an
emulated time, in Google's ``Trial`` shape), plus :func:`best_trial`.

Parameter kinds: double (linear or log scale), integer, categorical, discrete. Algorithms:
``GRID_SEARCH`` walks a grid, ``RANDOM_SEARCH`` samples uniformly, ``ALGORITHM_UNSPECIFIED``
(Bayesian) samples closer to the optimum as trials go on, so later trials tend to score better.

Must not: touch records, the store or HTTP.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Any

from stackql_tuning.sandbox.vertex.clock import rfc3339


@dataclass(frozen=True)
class PlannedTrial:
    id: str
    parameters: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    start: float  # fraction of the running window
    end: float
    steps: int


def _grid_values(spec: dict[str, Any], points: int = 5) -> list[Any]:
    if "doubleValueSpec" in spec:
        lo, hi = (
            float(spec["doubleValueSpec"]["minValue"]),
            float(spec["doubleValueSpec"]["maxValue"]),
        )
        return [lo + (hi - lo) * k / (points - 1) for k in range(points)]
    if "integerValueSpec" in spec:
        lo, hi = (
            int(spec["integerValueSpec"]["minValue"]),
            int(spec["integerValueSpec"]["maxValue"]),
        )
        step = max(1, (hi - lo) // (points - 1))
        return list(range(lo, hi + 1, step))
    if "categoricalValueSpec" in spec:
        return list(spec["categoricalValueSpec"]["values"])
    return list(spec.get("discreteValueSpec", {}).get("values", [0.0]))


def _sample(spec: dict[str, Any], rng: random.Random, pull: float, opt: float) -> Any:
    """One value; ``pull`` in [0, 1) draws the normalized position toward ``opt``."""
    u = rng.random()
    u = u + (opt - u) * pull
    if "doubleValueSpec" in spec:
        d = spec["doubleValueSpec"]
        lo, hi = float(d["minValue"]), float(d["maxValue"])
        if spec.get("scaleType") == "UNIT_LOG_SCALE" and lo > 0:
            return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u)
        return lo + (hi - lo) * u
    if "integerValueSpec" in spec:
        d = spec["integerValueSpec"]
        lo, hi = int(d["minValue"]), int(d["maxValue"])
        return min(hi, lo + int(u * (hi - lo + 1)))
    values = _grid_values(spec)
    return values[min(len(values) - 1, int(u * len(values)))]


def _position(spec: dict[str, Any], value: Any) -> float:
    """Normalized position of ``value`` in its range, for the objective function."""
    if "doubleValueSpec" in spec or "integerValueSpec" in spec:
        d = spec.get("doubleValueSpec") or spec["integerValueSpec"]
        lo, hi = float(d["minValue"]), float(d["maxValue"])
        if spec.get("scaleType") == "UNIT_LOG_SCALE" and lo > 0 and value > 0:
            return (math.log(value) - math.log(lo)) / max(1e-12, math.log(hi) - math.log(lo))
        return (float(value) - lo) / max(1e-12, hi - lo)
    values = _grid_values(spec)
    return values.index(value) / max(1, len(values) - 1) if value in values else 0.5


def _metric_value(goal: str, quality: float) -> float:
    if goal == "MINIMIZE":
        return round(0.05 + 1.45 * (1.0 - quality), 6)
    return round(0.55 + 0.44 * quality, 6)


def plan_trials(study: dict[str, Any], count: int, parallel: int, seed: str) -> list[PlannedTrial]:
    """Every trial of a job, deterministic given ``seed``; times are fractions of the run."""
    rng = random.Random(seed)
    params = list(study.get("parameters", []))
    metrics = list(study.get("metrics", []))
    algorithm = study.get("algorithm", "ALGORITHM_UNSPECIFIED")
    optimum = {p.get("parameterId", str(i)): rng.random() for i, p in enumerate(params)}
    count = max(0, count)
    parallel = max(1, min(parallel or 1, count or 1))
    waves = max(1, math.ceil(count / parallel))
    grid = (
        list(itertools.product(*[_grid_values(p) for p in params]))
        if algorithm == "GRID_SEARCH" and params
        else []
    )
    out = []
    for i in range(count):
        pull = 0.8 * i / max(1, count - 1) if algorithm == "ALGORITHM_UNSPECIFIED" else 0.0
        values = []
        for j, p in enumerate(params):
            pid = p.get("parameterId", str(j))
            if grid:
                v = grid[i % len(grid)][j]
            else:
                v = _sample(p, rng, pull, optimum[pid])
            if isinstance(v, float):
                v = round(v, 8)
            values.append({"parameterId": pid, "value": v})
        if params:
            dist = sum(
                (_position(p, v["value"]) - optimum[v["parameterId"]]) ** 2
                for p, v in zip(params, values, strict=True)
            ) / len(params)
        else:
            dist = rng.random() / 4
        quality = max(0.0, min(0.999, 0.95 * math.exp(-3.0 * dist) + rng.gauss(0, 0.02)))
        wave = i // parallel
        start = (wave + rng.uniform(0.0, 0.05)) / waves
        end = (wave + rng.uniform(0.7, 0.98)) / waves
        out.append(
            PlannedTrial(
                id=str(i + 1),
                parameters=values,
                metrics=[
                    {
                        "metricId": m.get("metricId", "objective"),
                        "value": _metric_value(m.get("goal", "MAXIMIZE"), quality),
                    }
                    for m in metrics
                ],
                start=start,
                end=end,
                steps=rng.choice([500, 1000, 2000, 5000]),
            )
        )
    return out


def visible_trials(
    plan: list[PlannedTrial],
    run_start: float,
    run_span: float,
    at: float,
    *,
    unfinished: str,
    infeasible_from: int | None,
) -> list[dict[str, Any]]:
    """Trials as Google shows them at emulated time ``at`` (already capped by the caller).

    ``unfinished``: the state of started, unfinished trials (ACTIVE, STOPPING while the job is
    cancelled, INFEASIBLE once it was stopped); ``infeasible_from``: finished trials from this
    index on failed (a FAILED job).
    """
    out = []
    for i, t in enumerate(plan):
        t0 = run_start + t.start * run_span
        if t0 > at:
            break
        t1 = run_start + t.end * run_span
        trial: dict[str, Any] = {
            "id": t.id,
            "state": "ACTIVE",
            "parameters": t.parameters,
            "startTime": rfc3339(t0),
        }
        if t1 <= at:
            trial["endTime"] = rfc3339(t1)
            if infeasible_from is not None and i >= infeasible_from:
                trial["state"] = "INFEASIBLE"
                trial["infeasibleReason"] = "The trial's training container exited with code 1."
            else:
                trial["state"] = "SUCCEEDED"
                trial["finalMeasurement"] = {"stepCount": str(t.steps), "metrics": t.metrics}
        else:
            trial["state"] = unfinished
            if unfinished == "INFEASIBLE":
                trial["infeasibleReason"] = "The trial was stopped: its job was cancelled."
        out.append(trial)
    return out


def best_trial(trials: list[dict[str, Any]], study: dict[str, Any]) -> dict[str, Any] | None:
    """The succeeded trial with the best value of the study's first metric, by its goal."""
    metrics = study.get("metrics") or [{}]
    metric_id, goal = metrics[0].get("metricId"), metrics[0].get("goal", "MAXIMIZE")
    best, best_value = None, None
    for t in trials:
        if t.get("state") != "SUCCEEDED":
            continue
        vals = [m["value"] for m in t["finalMeasurement"]["metrics"] if m["metricId"] == metric_id]
        if not vals:
            continue
        v = vals[0]
        if best_value is None or (v < best_value if goal == "MINIMIZE" else v > best_value):
            best, best_value = t, v
    if best is None:
        return None
    return {
        "id": best["id"],
        "parameters": {p["parameterId"]: p["value"] for p in best["parameters"]},
        "metricId": metric_id,
        "value": best_value,
    }
