"""AWS demo data: tens of SageMaker tuning jobs per region, in every state, deterministic by seed.

``seed_aws(sandbox)`` creates the jobs through boto3 against the sandbox (the same path a user
takes: moto validates and stores them), then places each one in its demo state through the gap
layer: Completed / Failed / Stopped jobs ran days ago; InProgress and Stopping jobs started
hours ago and are *pinned* (they keep that state, counters and best training job until someone
stops them), so the returned ground truth stays true for the whole session.

It must not start servers (the caller passes a started :class:`AwsSandbox`).
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from stackql_tuning.sandbox.aws import AwsSandbox
from stackql_tuning.sandbox.aws.sim import JobSim
from stackql_tuning.sandbox.aws.wsgi import DEFAULT_ACCOUNT

STATES = {"Completed": 0.45, "InProgress": 0.2, "Stopped": 0.13, "Failed": 0.12, "Stopping": 0.1}
HOUR, DAY = 3600.0, 86400.0

XGB = "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1"
CUSTOM = "{account}.dkr.ecr.{region}.amazonaws.com/{family}:{tag}"

_XGB_RANGES = {
    "IntegerParameterRanges": [
        {"Name": "max_depth", "MinValue": "3", "MaxValue": "10", "ScalingType": "Auto"},
        {"Name": "num_round", "MinValue": "50", "MaxValue": "500", "ScalingType": "Linear"},
    ],
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Logarithmic"},
        {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1.0", "ScalingType": "Linear"},
        {"Name": "alpha", "MinValue": "0", "MaxValue": "2", "ScalingType": "Auto"},
    ],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}
_LGBM_RANGES = {
    "IntegerParameterRanges": [
        {"Name": "num_leaves", "MinValue": "16", "MaxValue": "256", "ScalingType": "Logarithmic"}
    ],
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.005",
            "MaxValue": "0.2",
            "ScalingType": "Logarithmic",
        },
        {"Name": "feature_fraction", "MinValue": "0.5", "MaxValue": "1.0", "ScalingType": "Auto"},
    ],
    "CategoricalParameterRanges": [{"Name": "boosting", "Values": ["gbdt", "dart", "goss"]}],
}
_NN_RANGES = {
    "IntegerParameterRanges": [
        {"Name": "batch_size", "MinValue": "16", "MaxValue": "128", "ScalingType": "Auto"}
    ],
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.00001",
            "MaxValue": "0.01",
            "ScalingType": "Logarithmic",
        },
        {"Name": "weight_decay", "MinValue": "0", "MaxValue": "0.1", "ScalingType": "Linear"},
    ],
    "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["adam", "adamw", "sgd"]}],
}
_GRID_RANGES = {
    "CategoricalParameterRanges": [
        {"Name": "max_depth", "Values": ["4", "6", "8"]},
        {"Name": "eta", "Values": ["0.05", "0.1", "0.2"]},
        {"Name": "booster", "Values": ["gbtree", "dart"]},
    ]
}

#: (name stem, image template, objective metric, objective type, ranges, instance type)
FAMILIES: tuple[tuple[str, str, str, str, dict[str, Any], str], ...] = (
    ("xgb-churn", XGB, "validation:auc", "Maximize", _XGB_RANGES, "ml.m5.2xlarge"),
    ("xgb-fraud", XGB, "validation:auc", "Maximize", _XGB_RANGES, "ml.m5.4xlarge"),
    ("xgb-demand", XGB, "validation:rmse", "Minimize", _XGB_RANGES, "ml.m5.2xlarge"),
    ("xgb-eta", XGB, "validation:rmse", "Minimize", _XGB_RANGES, "ml.c5.2xlarge"),
    ("lgbm-ctr", CUSTOM, "validation:auc", "Maximize", _LGBM_RANGES, "ml.m5.4xlarge"),
    ("lgbm-ltv", CUSTOM, "validation:rmse", "Minimize", _LGBM_RANGES, "ml.m5.xlarge"),
    ("bert-sentiment", CUSTOM, "validation:auc", "Maximize", _NN_RANGES, "ml.g5.2xlarge"),
    ("resnet-defects", CUSTOM, "validation:auc", "Maximize", _NN_RANGES, "ml.g5.xlarge"),
    ("tft-forecast", CUSTOM, "validation:rmse", "Minimize", _NN_RANGES, "ml.g5.xlarge"),
)
STRATEGIES = ("Bayesian", "Bayesian", "Random", "Grid", "Hyperband")
TEAMS = ("growth", "risk", "forecasting", "vision", "nlp")


def _request(
    rng: random.Random,
    name: str,
    family: tuple[Any, ...],
    region: str,
    account: str,
    clock_limit: bool = False,
) -> dict[str, Any]:
    stem, image, metric, kind, ranges, instance = family
    strategy = rng.choice(STRATEGIES)
    limits: dict[str, int] = {"MaxParallelTrainingJobs": rng.choice((2, 3, 4, 5))}
    if clock_limit:
        limits["MaxRuntimeInSeconds"] = 3600 * rng.choice((24, 48, 72))
    if strategy == "Grid":
        ranges = _GRID_RANGES
    else:
        limits["MaxNumberOfTrainingJobs"] = rng.choice((10, 12, 16, 20, 24, 30, 40))
    config: dict[str, Any] = {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": kind, "MetricName": metric},
        "ResourceLimits": limits,
        "ParameterRanges": ranges,
        "TrainingJobEarlyStoppingType": "Auto" if strategy in ("Bayesian", "Random") else "Off",
    }
    if strategy == "Hyperband":
        config["StrategyConfig"] = {
            "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": rng.choice((9, 27, 81))}
        }
    algorithm: dict[str, Any] = {
        "TrainingImage": image.format(
            region=region,
            account=account,
            family=stem,
            tag=f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}",
        ),
        "TrainingInputMode": "File",
    }
    if image is CUSTOM:
        algorithm["MetricDefinitions"] = [{"Name": metric, "Regex": f"{metric}=([0-9\\.]+)"}]
    bucket = f"s3://ml-{stem.split('-')[1]}-{region}"
    definition = {
        "AlgorithmSpecification": algorithm,
        "RoleArn": f"arn:aws:iam::{account}:role/service-role/SageMakerExecutionRole-ml",
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"{bucket}/data/{channel}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": {"S3OutputPath": f"{bucket}/tuning/{name}/"},
        "ResourceConfig": {
            "InstanceType": instance,
            "InstanceCount": 1,
            "VolumeSizeInGB": rng.choice((30, 50, 100)),
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": rng.choice((3600, 7200, 14400, 86400))},
        "StaticHyperParameters": {
            "objective": "binary:logistic" if kind == "Maximize" else "reg:squarederror",
            "eval_metric": metric.split(":")[1],
        },
    }
    _with_network_and_keys(definition, name, region, account)
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": definition,
        "Tags": [{"Key": "team", "Value": rng.choice(TEAMS)}, {"Key": "project", "Value": stem}],
    }


def _with_network_and_keys(
    definition: dict[str, Any], name: str, region: str, account: str
) -> None:
    """The definition's optional members that a list of jobs shows somewhere: each channel's
    CompressionType and RecordWrapperType, and for every fourth job (by its name's checksum:
    no draw of the seed's generator, so every other value stays as it was) a VPC and KMS keys
    for its output and volumes."""
    for channel in definition["InputDataConfig"]:
        channel.update(CompressionType="None", RecordWrapperType="None")
    mark = zlib.crc32(name.encode())
    if mark % 4:
        return
    key = f"arn:aws:kms:{region}:{account}:key/{uuid.UUID(int=mark, version=4)}"
    definition["OutputDataConfig"]["KmsKeyId"] = key
    definition["ResourceConfig"]["VolumeKmsKeyId"] = key
    definition["VpcConfig"] = {
        "SecurityGroupIds": [f"sg-{mark:017x}"],
        "Subnets": [f"subnet-{mark:017x}", f"subnet-{mark ^ 0xFFFF:017x}"],
    }


def _states(rng: random.Random, n: int) -> list[str]:
    least = 2 if n >= 10 else 1
    counts = {s: max(least, round(w * n)) for s, w in STATES.items()}
    while sum(counts.values()) > n and counts["Completed"] > 1:
        counts["Completed"] -= 1
    counts["Completed"] += n - sum(counts.values())
    out = [s for s, c in counts.items() for _ in range(c)][:n]
    rng.shuffle(out)
    return out


def _place(
    aws: AwsSandbox,
    rng: random.Random,
    account: str,
    region: str,
    arn: str,
    request: dict[str, Any],
    state: str,
    now: float,
) -> JobSim:
    """A sim for one seeded job, in ``state``, on a real-time (speed 1) timeline."""
    name = request["HyperParameterTuningJobName"]

    def build(**kw: Any) -> JobSim:
        return aws.gap.build(account, region, name, arn, request, origin=0.0, scale=1.0, **kw)

    if state == "Failed":
        sim = build(force_fail=True)
    else:
        sim = build()
        if sim.plan.fail_at is not None:
            sim = build(failure_rate=0.0)
    plan = sim.plan
    done = sorted(t.end for t in plan.trainings if t.outcome == "Completed")
    if state in ("InProgress", "Stopping"):
        low = max(done[0] + 60.0, 0.3 * plan.finish) if done else 0.3 * plan.finish
        sim.pin = rng.uniform(low, max(low, 0.85 * plan.finish))
        sim.origin = now - sim.pin
        sim.stop_delay = 90.0 / aws.gap.speed
        if state == "Stopping":
            sim.stop_at = sim.pin - rng.uniform(10.0, 60.0)
            sim.stop_delay = HOUR
    elif state == "Stopped":
        sim.stop_at = rng.uniform(0.2, 0.7) * plan.finish
        sim.origin = now - sim.stop_at - sim.stop_delay - rng.uniform(HOUR, 20 * DAY)
    else:
        sim.origin = now - plan.finish - rng.uniform(2 * HOUR, 30 * DAY)
    sim.created = sim.origin
    return sim


def _creator(sandbox: AwsSandbox, via: str, region: str, account: str) -> Callable[..., str]:
    """A function that creates one job from a CreateHyperParameterTuningJob request -> ARN."""
    if via == "boto3":
        client = sandbox.client(region, account=account)
        return lambda request: client.create_hyper_parameter_tuning_job(**request)[
            "HyperParameterTuningJobArn"
        ]
    if via != "direct":
        raise ValueError(f"via must be 'boto3' or 'direct', got {via!r}")

    def create(request: dict[str, Any]) -> str:
        return sandbox.gap.create_direct(account, region, request)

    return create


def seed_aws(
    sandbox: AwsSandbox,
    *,
    seed: int = 0,
    regions: Sequence[str] = ("us-east-1", "eu-west-1"),
    jobs_per_region: Sequence[int] = (20, 40),
    account: str = DEFAULT_ACCOUNT,
    via: str = "boto3",
    clock_limit: bool = False,
) -> dict[str, Any]:
    """Create and place the demo jobs; returns the ground truth.

    Each region gets between ``jobs_per_region[0]`` and ``jobs_per_region[1]`` jobs (as
    ``seed_google``'s ``jobs_per_location``), at least two in every state when there are ten
    or more. The same seed, regions and counts always give the same data.
    ``clock_limit`` also caps each job's clock (ResourceLimits.MaxRuntimeInSeconds).
    ``via="boto3"`` creates every job with boto3 through the server, as a user would;
    ``via="direct"`` makes the same create calls on moto's backend without HTTP (3-4x faster;
    the data is identical, a test checks it).
    The truth: ``{"seed", "account", "regions": {region: {name: status}},
    "jobs": {region: {name: {status, strategy, objective, training_jobs, best_training_job,
    best_hyperparameters, best_metric, creation_time}}}}``.
    """
    if not regions or not 1 <= int(jobs_per_region[0]) <= int(jobs_per_region[-1]):
        raise ValueError(f"seed_aws needs regions and 1 <= low <= high, got {jobs_per_region}")
    now = sandbox.clock.now()
    truth: dict[str, Any] = {"seed": seed, "account": account, "regions": {}, "jobs": {}}
    for region in regions:
        rng = random.Random(f"seed-aws/{seed}/{region}")
        n = rng.randint(int(jobs_per_region[0]), int(jobs_per_region[-1]))
        create = _creator(sandbox, via, region, account)
        names: set[str] = set()
        truth["regions"][region] = {}
        truth["jobs"][region] = {}
        for state in _states(rng, n):
            family = rng.choice(FAMILIES)
            name = f"{family[0]}-hpo-{rng.randint(1000, 9999)}"
            while name in names:
                name = f"{family[0]}-hpo-{rng.randint(1000, 9999)}"
            names.add(name)
            request = _request(rng, name, family, region, account, clock_limit)
            tag = f"seed-aws/{seed}/{state}"
            sim = sandbox.gap.sims.get((account, region), {}).get(name)
            if sim is None or sim.tag != tag:  # else: seeded before in this process, reuse
                sandbox.gap.delete_direct(account, region, name)
                arn = create(request)
                sim = _place(sandbox, rng, account, region, arn, request, state, now)
                sim.tag = tag
                sandbox.gap.replace(sim)
            else:
                _place(sandbox, rng, account, region, sim.arn, request, state, now)  # same draws
            job = sandbox.truth(name, region=region, account=account)
            if job["status"] != state:  # a seeding bug, not a user error
                raise AssertionError(f"seeded {name} as {state}, sandbox shows {job['status']}")
            truth["regions"][region][name] = state
            job.update(
                strategy=request["HyperParameterTuningJobConfig"]["Strategy"],
                objective=request["HyperParameterTuningJobConfig"][
                    "HyperParameterTuningJobObjective"
                ],
                creation_time=datetime.fromtimestamp(sim.origin, UTC).isoformat(),
            )
            truth["jobs"][region][name] = job
    return truth
