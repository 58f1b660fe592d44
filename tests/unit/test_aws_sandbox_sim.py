"""The AWS sandbox's pure parts: training plans, job state over time, the clock, protocol bits."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest

from stackql_tuning.errors import UsageError
from stackql_tuning.sandbox.aws import protocol
from stackql_tuning.sandbox.aws.clock import Clock
from stackql_tuning.sandbox.aws.generate import Objective, objective_of, parameter_ranges, plan_job
from stackql_tuning.sandbox.aws.sim import JobSim, counters, training_summary
from stackql_tuning.sandbox.seed_aws import STATES, _states

RANGES = {
    "IntegerParameterRanges": [{"Name": "depth", "MinValue": "3", "MaxValue": "10"}],
    "ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": "0.0001", "MaxValue": "0.1", "ScalingType": "Logarithmic"},
        {"Name": "sub", "MinValue": "0.5", "MaxValue": "1"},
    ],
    "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
}
AUC = Objective("Maximize", "validation:auc")
RMSE = Objective("Minimize", "validation:rmse")


def config(strategy: str = "Bayesian", jobs: int | None = 12, parallel: int = 3) -> dict:
    limits = {"MaxParallelTrainingJobs": parallel}
    if jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = jobs
    return {"Strategy": strategy, "ResourceLimits": limits}


def sim(plan_seed: str = "s", objective: Objective = AUC, **kw: object) -> JobSim:
    plan = plan_job("job-a", config(), RANGES, objective, seed=plan_seed, **kw)  # type: ignore[arg-type]
    return JobSim("123456789012", "us-east-1", "job-a", "arn:x", objective, plan, origin=1000.0)


@pytest.mark.parametrize("strategy", ["Bayesian", "Random", "Hyperband"])
def test_plans_are_deterministic_and_inside_the_ranges(strategy: str) -> None:
    a = plan_job("job-a", config(strategy), RANGES, AUC, seed="0/us-east-1")
    assert a == plan_job("job-a", config(strategy), RANGES, AUC, seed="0/us-east-1")
    assert a != plan_job("job-a", config(strategy), RANGES, AUC, seed="1/us-east-1")
    for t in a.trainings:
        hp = t.hyperparameters
        assert 3 <= int(hp["depth"]) <= 10
        assert 0.0001 <= float(hp["lr"]) <= 0.1
        assert 0.5 <= float(hp["sub"]) <= 1.0
        assert hp["opt"] in ("adam", "sgd")
        assert t.start < t.end
        assert t.name.startswith("job-a-") and len(t.name) <= 63
        assert (t.value is None) == (t.outcome == "Failed")


def test_parallel_limit_is_respected() -> None:
    plan = plan_job("job-a", config(jobs=30, parallel=4), RANGES, AUC, seed="x")
    events = sorted([(t.start, 1) for t in plan.trainings] + [(t.end, -1) for t in plan.trainings])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 4
    assert len(plan.trainings) == 30 or plan.fail_at is not None


def test_grid_enumerates_the_categorical_product() -> None:
    grid = {
        "CategoricalParameterRanges": [
            {"Name": "a", "Values": ["1", "2", "3"]},
            {"Name": "b", "Values": ["x", "y"]},
        ]
    }
    plan = plan_job("grid", config("Grid", jobs=None), grid, AUC, seed="g", failure_rate=0.0)
    combos = [(t.hyperparameters["a"], t.hyperparameters["b"]) for t in plan.trainings]
    assert len(combos) == 6 and len(set(combos)) == 6


def test_forced_failure_fails_the_job() -> None:
    job = sim(force_fail=True)
    assert job.plan.fail_at is not None
    view = job.view(job.origin + job.plan.fail_at + 1)
    assert view.status == "Failed"
    assert "training jobs failed" in (view.failure_reason or "")
    assert view.end == job.origin + job.plan.fail_at


@pytest.mark.parametrize("objective", [AUC, RMSE])
def test_state_over_time_counters_and_best(objective: Objective) -> None:
    job = sim(objective=objective, failure_rate=0.0)
    assert job.view(job.origin).status == "InProgress"
    assert job.view(job.origin).trainings == ()
    half = job.view(job.origin + job.plan.finish / 2)
    assert half.status == "InProgress"
    assert any(v.status == "InProgress" for v in half.trainings)
    done = job.view(job.origin + job.plan.finish)
    assert done.status == "Completed"
    tc, oc = counters(done)
    assert tc["Completed"] + tc["Stopped"] == len(job.plan.trainings) == sum(oc.values())
    values = [v.plan.value for v in done.trainings if v.status == "Completed"]
    best = max(values) if objective.type == "Maximize" else min(values)
    assert done.best is not None and done.best.plan.value == best
    summary = training_summary(job, done.best)
    assert summary["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": objective.type,
        "MetricName": objective.metric,
        "Value": best,
    }
    assert summary["TrainingEndTime"] >= summary["TrainingStartTime"]


def test_stop_cuts_running_trainings() -> None:
    job = sim(failure_rate=0.0)
    t = job.origin + job.plan.finish / 2
    running = [v.plan.name for v in job.view(t).trainings if v.status == "InProgress"]
    job.stop(t)
    stopping = job.view(t + job.stop_delay / 2)
    assert stopping.status == "Stopping"
    assert {v.plan.name for v in stopping.trainings if v.status == "Stopping"} == set(running)
    stopped = job.view(t + job.stop_delay)
    assert stopped.status == "Stopped"
    assert stopped.end == t + job.stop_delay
    cut = [v for v in stopped.trainings if v.status == "Stopped"]
    assert {v.plan.name for v in cut} == set(running)
    assert all(v.objective_status == "Failed" for v in cut)
    later = job.view(t + 10 * job.plan.finish)
    assert len(later.trainings) == len(stopped.trainings)  # nothing starts after a stop


def test_a_pinned_job_keeps_its_state_until_stopped() -> None:
    job = sim(failure_rate=0.0)
    job.pin = job.plan.finish / 2
    frozen = job.view(job.origin + job.pin)
    assert job.view(job.origin + 100 * job.plan.finish) == frozen
    now = job.origin + 100 * job.plan.finish
    job.stop(now)
    assert job.pin is None
    assert job.view(now).status == "Stopping"
    assert job.view(now + job.stop_delay).status == "Stopped"


def test_ranges_and_objective_are_found_in_either_place() -> None:
    inside = {"HyperParameterTuningJobConfig": {"ParameterRanges": RANGES}}
    in_definition = {
        "HyperParameterTuningJobConfig": {},
        "TrainingJobDefinitions": [
            {
                "HyperParameterRanges": RANGES,
                "TuningObjective": {"Type": "Minimize", "MetricName": "loss"},
            }
        ],
    }
    assert parameter_ranges(inside) == parameter_ranges(in_definition) == RANGES
    assert objective_of(in_definition) == Objective("Minimize", "loss")
    assert objective_of({}) == Objective("Maximize", "validation:accuracy")


def test_clock_advances_freezes_and_never_goes_back() -> None:
    wall = [100.0]
    clock = Clock(lambda: wall[0])
    assert clock.now() == 100.0
    clock.advance(5)
    assert clock.now() == 105.0
    clock.freeze()
    wall[0] = 200.0
    assert clock.now() == 105.0
    clock.advance(1)
    assert clock.now() == 106.0
    clock.unfreeze()
    assert clock.now() == 106.0
    wall[0] = 210.0
    assert clock.now() == 116.0
    with pytest.raises(UsageError):
        clock.advance(-1)


def test_protocol_caller_and_timestamps() -> None:
    environ = {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/sagemaker/"
        "aws4_request, SignedHeaders=host, Signature=abc",
        "HTTP_X_AMZ_TARGET": "SageMaker.StopHyperParameterTuningJob",
    }
    who = protocol.caller(environ)
    assert (who.access_key, who.region, who.service) == ("AKID", "eu-west-1", "sagemaker")
    assert (who.target, who.operation) == ("SageMaker", "StopHyperParameterTuningJob")
    assert protocol.caller({}).operation == ""
    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC).replace(tzinfo=None)
    assert protocol.dumps({"t": when}) == b'{"t":1767323045.678}'


@pytest.mark.parametrize("n", [3, 10, 20, 33, 40])
def test_seed_states_cover_every_state(n: int) -> None:
    states = _states(random.Random(n), n)
    assert len(states) == n
    assert set(states) == set(STATES) or n < len(STATES)
    if n >= 10:
        assert min(states.count(s) for s in STATES) >= 2
    assert math.isclose(sum(STATES.values()), 1.0)
