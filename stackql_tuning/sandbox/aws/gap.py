"""The gap layer: what the AWS sandbox adds to moto's SageMaker tuning jobs.

moto creates every tuning job ``Completed`` at once and has no StopHyperParameterTuningJob or
ListTrainingJobsForHyperParameterTuningJob. This layer keeps a :class:`~.sim.JobSim` per moto
job and, before and after every SageMaker request, writes the simulated state onto moto's
in-memory job objects, so moto's own Describe and List (filters, sorting, pagination) serve it.
It serves Stop and ListTrainingJobsFor... itself, and gives ListHyperParameterTuningJobs AWS's
defaults (10 items, by Name, ascending) and limit (MaxResults <= 100).

It must not serve HTTP itself (``wsgi.py`` does) and imports moto only when a request arrives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from stackql_tuning.sandbox.aws import protocol
from stackql_tuning.sandbox.aws.clock import Clock
from stackql_tuning.sandbox.aws.generate import objective_of, parameter_ranges, plan_job
from stackql_tuning.sandbox.aws.protocol import AwsError, Caller
from stackql_tuning.sandbox.aws.sim import (
    TERMINAL,
    JobSim,
    JobView,
    counters,
    to_datetime,
    training_summary,
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
JOB_NAME = "HyperParameterTuningJobName"
FINAL_METRIC = "FinalHyperParameterTuningJobObjectiveMetric"
TRAINING_SORT = {
    "Name": lambda s: s["TrainingJobName"],
    "CreationTime": lambda s: (s["CreationTime"], s["TrainingJobName"]),
    "Status": lambda s: (s["TrainingJobStatus"], s["TrainingJobName"]),
    "FinalObjectiveMetricValue": lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"][
        "Value"
    ],
}


def _backend(account: str, region: str) -> Any:
    """moto's SageMaker of ``account`` in ``region``; a region SageMaker is not offered in is
    an AWS-shaped error (moto raised a KeyError, and the sandbox printed its traceback)."""
    from moto.sagemaker.models import sagemaker_backends

    backends = sagemaker_backends[account]
    if region not in backends.regions:
        from stackql_tuning.errors import did_you_mean

        close = did_you_mean(region, backends.regions)
        raise AwsError(
            "UnrecognizedClientException",
            f"The sandbox serves no SageMaker region '{region}'" + (f" ({close})" if close else ""),
        )
    return backends[region]


def not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFound", f"Could not find hyper parameter tuning job '{name}'.")


def _page_token(offset: int, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "k": key}).encode()).decode()


def _read_token(token: str, key: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["k"] != key:
            raise ValueError("token belongs to other filters")
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise AwsError("ValidationException", f"Invalid pagination token: {token!r}") from None


class GapLayer:
    def __init__(self, clock: Clock, *, seed: int = 0, speed: float = 3600.0) -> None:
        self.clock = clock
        self.seed = seed
        self.speed = speed
        self.lock = threading.RLock()
        #: (account, region) -> job name -> sim
        self.sims: dict[tuple[str, str], dict[str, JobSim]] = {}
        self.own: dict[str, Callable[[Caller, str, dict[str, Any]], dict[str, Any]]] = {
            "StopHyperParameterTuningJob": self.stop_job,
            "ListTrainingJobsForHyperParameterTuningJob": self.list_training_jobs,
        }
        self.prepare: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "ListHyperParameterTuningJobs": self.aws_list_defaults,
        }

    # -- the request path ----------------------------------------------------------------------
    def handle(
        self,
        who: Caller,
        account: str,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        moto: WsgiApp,
    ) -> list[bytes]:
        region = who.region or "us-east-1"
        with self.lock:
            self.refresh(account, region)
            if who.operation in self.own:
                reply = self.own[who.operation](who, account, protocol.request_json(environ))
                return protocol.json_reply(start_response, reply)
            if who.operation in self.prepare:
                params = self.prepare[who.operation](protocol.request_json(environ))
                protocol.set_body(environ, json.dumps(params).encode())
            body = list(moto(environ, start_response))
            self.refresh(account, region)
            return body

    def aws_list_defaults(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_max_results(params)
        return {"MaxResults": 10, "SortBy": "Name", "SortOrder": "Ascending", **params}

    # -- keeping moto's objects in step --------------------------------------------------------
    def refresh(self, account: str, region: str) -> None:
        """Adopt new moto jobs, forget deleted ones, write every changing job's state to moto."""
        jobs = _backend(account, region).hyper_parameter_tuning_jobs
        sims = self.sims.setdefault((account, region), {})
        for name in [n for n, s in sims.items() if getattr(jobs.get(n), "arn", None) != s.arn]:
            del sims[name]
        now = self.clock.now()
        for name, obj in jobs.items():
            sim = sims.get(name)
            if sim is None:
                sim = sims[name] = self._adopt(account, region, obj, now)
            if sim.applied is not None and sim.pin is not None:
                continue
            view = sim.view(now)
            if sim.applied in TERMINAL and view.status == sim.applied:
                continue
            _apply(obj, sim, view)
            sim.applied = view.status

    def _adopt(self, account: str, region: str, obj: Any, now: float) -> JobSim:
        request = {
            "HyperParameterTuningJobConfig": obj.hyper_parameter_tuning_job_config or {},
            "TrainingJobDefinition": obj.training_job_definition,
            "TrainingJobDefinitions": obj.training_job_definitions,
        }
        return self.build(
            account,
            region,
            obj.hyper_parameter_tuning_job_name,
            obj.arn,
            request,
            origin=now,
            scale=1.0 / max(self.speed, 1e-9),
        )

    def build(
        self,
        account: str,
        region: str,
        name: str,
        arn: str,
        request: dict[str, Any],
        *,
        origin: float,
        scale: float,
        force_fail: bool = False,
        failure_rate: float | None = None,
    ) -> JobSim:
        objective = objective_of(request)
        kw = {} if failure_rate is None else {"failure_rate": failure_rate}
        plan = plan_job(
            name,
            request["HyperParameterTuningJobConfig"],
            parameter_ranges(request),
            objective,
            seed=f"{self.seed}/{region}",
            scale=scale,
            force_fail=force_fail,
            **kw,
        )
        return JobSim(
            account,
            region,
            name,
            arn,
            objective,
            plan,
            origin=origin,
            created=origin,
            stop_delay=90.0 * scale,
        )

    def create_direct(self, account: str, region: str, request: dict[str, Any]) -> str:
        """CreateHyperParameterTuningJob on moto's backend without HTTP; returns the ARN."""
        with self.lock:
            return str(
                _backend(account, region).create_hyper_parameter_tuning_job(
                    hyper_parameter_tuning_job_name=request[JOB_NAME],
                    hyper_parameter_tuning_job_config=request["HyperParameterTuningJobConfig"],
                    training_job_definition=request.get("TrainingJobDefinition"),
                    training_job_definitions=request.get("TrainingJobDefinitions"),
                    warm_start_config=request.get("WarmStartConfig"),
                    tags=request.get("Tags"),
                    autotune=request.get("Autotune"),
                )
            )

    def delete_direct(self, account: str, region: str, name: str) -> None:
        """Delete a job from moto's backend (and its sim), if it exists."""
        with self.lock:
            _backend(account, region).hyper_parameter_tuning_jobs.pop(name, None)
            self.sims.get((account, region), {}).pop(name, None)

    def replace(self, sim: JobSim) -> None:
        """Install ``sim`` (e.g. one placed by the seed) and write it to moto now."""
        with self.lock:
            self.sims.setdefault((sim.account, sim.region), {})[sim.name] = sim
            sim.applied = None
            self.refresh(sim.account, sim.region)

    def sim(self, account: str, region: str, name: str) -> JobSim:
        with self.lock:
            self.refresh(account, region)
            found = self.sims.get((account, region), {}).get(name)
            if found is None:
                raise not_found(name)
            return found

    # -- operations moto lacks -----------------------------------------------------------------
    def stop_job(self, who: Caller, account: str, params: dict[str, Any]) -> dict[str, Any]:
        name = _required(params, JOB_NAME)
        sim = self.sims.get((account, who.region or "us-east-1"), {}).get(name)
        if sim is None:
            raise not_found(name)
        now = self.clock.now()
        status = sim.status(now)
        if status != "InProgress":
            raise AwsError(
                "ValidationException",
                f"Hyperparameter tuning job '{name}' is {status}; only an InProgress job can be "
                "stopped.",
            )
        sim.stop(now)
        self.refresh(account, who.region or "us-east-1")
        return {}

    def list_training_jobs(
        self, who: Caller, account: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = _required(params, JOB_NAME)
        limit = _check_max_results(params)
        sim = self.sims.get((account, who.region or "us-east-1"), {}).get(name)
        if sim is None:
            raise not_found(name)
        view = sim.view(self.clock.now())
        rows = [training_summary(sim, v) for v in view.trainings]
        status = params.get("StatusEquals")
        if status:
            rows = [r for r in rows if r["TrainingJobStatus"] == status]
        sort_by = params.get("SortBy") or "Name"
        if sort_by not in TRAINING_SORT:
            raise AwsError(
                "ValidationException",
                f"Value '{sort_by}' at 'sortBy' failed to satisfy constraint: Member must satisfy "
                f"enum value set: [{', '.join(TRAINING_SORT)}]",
            )
        if sort_by == "FinalObjectiveMetricValue":
            rows = [r for r in rows if FINAL_METRIC in r]
        descending = params.get("SortOrder") == "Descending"
        rows.sort(key=TRAINING_SORT[sort_by], reverse=descending)
        key = hashlib.sha1(json.dumps([name, status, sort_by, descending]).encode()).hexdigest()[
            :12
        ]
        start = _read_token(params["NextToken"], key) if params.get("NextToken") else 0
        page = rows[start : start + limit]
        reply: dict[str, Any] = {"TrainingJobSummaries": page}
        if start + limit < len(rows):
            reply["NextToken"] = _page_token(start + limit, key)
        return reply


def _required(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise AwsError("ValidationException", f"Missing required parameter {key}")
    return value


def _check_max_results(params: dict[str, Any]) -> int:
    value = params.get("MaxResults", 10)
    if not isinstance(value, int) or not 1 <= value <= 100:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy "
            "constraint: Member must have value between 1 and 100",
        )
    return value


def _apply(obj: Any, sim: JobSim, view: JobView) -> None:
    """Write the simulated state onto moto's HyperParameterTuningJob object."""
    tc, oc = counters(view)
    obj.creation_time = to_datetime(sim.created or sim.origin)
    obj.hyper_parameter_tuning_job_status = view.status
    obj.last_modified_time = to_datetime(view.last_modified)
    obj.hyper_parameter_tuning_end_time = None if view.end is None else to_datetime(view.end)
    obj.training_job_status_counters = tc
    obj.objective_status_counters = oc
    obj.best_training_job = None if view.best is None else training_summary(sim, view.best)
    obj.OverallBestTrainingJob = None
    obj.failure_reason = view.failure_reason
    obj.tuning_job_completion_details = None
    if view.status in TERMINAL and view.best is not None:
        after = [v for v in view.trainings if v.start > view.best.start and v.status == "Completed"]
        obj.tuning_job_completion_details = {
            "NumberOfTrainingJobsObjectiveNotImproving": len(after)
        }
    runtime = (view.end if view.end is not None else sim.origin + view.elapsed) - sim.origin
    obj.consumed_resources = {"RuntimeInSeconds": max(0, int(runtime))}
