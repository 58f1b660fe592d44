"""What the benchmarks put into the sandboxes: realistic HPT job templates and query texts.

A template comes from the sandbox's own Google demo generator (one fixed draw), so the rows
look like the demo data: a study spec with several parameters, a worker pool spec, labels.
Must not: start servers or measure anything.
"""

from __future__ import annotations

import random
from typing import Any

HPT = "hyperparameterTuningJobs"
GOOGLE_TABLE = "google.aiplatform.hyperparameter_tuning_jobs"
AWS_TABLE = "aws.sagemaker.hyper_parameter_tuning_jobs"
PROJECTS = ("ml-research-prod", "ml-research-dev", "ml-platform-prod", "ml-platform-dev")
LOCATIONS = (
    "us-central1",
    "us-east1",
    "us-east4",
    "us-west1",
    "europe-west1",
    "europe-west4",
    "asia-east1",
    "asia-northeast1",
)
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")


def hpt_template(project: str, location: str, seed: int = 7) -> dict[str, Any]:
    """A create body for one realistic Vertex AI HPT job: the demo seed's generator, plus the
    container env and args a production trainer carries (about 3 KB listed, as in FINDINGS.md)."""
    from stackql_tuning.sandbox.seed_google import _hpt_job

    job = _hpt_job(random.Random(seed), project, location, 1.7e9)
    container = job["trialJobSpec"]["workerPoolSpecs"][0]["containerSpec"]
    bucket = f"gs://{project}-datasets/ltv/2025-11-30"
    container["args"] += [
        f"--train-data={bucket}/train-*.parquet",
        f"--eval-data={bucket}/eval-*.parquet",
        "--early-stopping-patience=3",
        "--mixed-precision=bf16",
        "--checkpoint-every-steps=2000",
    ]
    container["env"] = [
        {"name": "AIP_TENSORBOARD_LOG_DIR", "value": f"gs://{project}-tb/hpt/logs"},
        {"name": "FEATURE_STORE", "value": f"projects/{project}/locations/{location}/fs/ltv"},
        {"name": "WANDB_MODE", "value": "disabled"},
        {"name": "NCCL_DEBUG", "value": "WARN"},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
        {"name": "TRAINER_GIT_SHA", "value": "4f1c2e9b7a0d3c5e8f6a1b2c3d4e5f60718293a4"},
    ]
    job["studySpec"]["parameters"] += [
        {
            "parameterId": "dropout",
            "doubleValueSpec": {"minValue": 0.0, "maxValue": 0.5},
            "scaleType": "UNIT_LINEAR_SCALE",
        },
        {
            "parameterId": "weight_decay",
            "doubleValueSpec": {"minValue": 1e-6, "maxValue": 0.1},
            "scaleType": "UNIT_LOG_SCALE",
        },
        {
            "parameterId": "scheduler",
            "categoricalValueSpec": {
                "values": ["cosine", "linear", "constant_with_warmup", "polynomial"]
            },
        },
    ]
    job["studySpec"]["decayCurveStoppingSpec"] = {"useElapsedDuration": True}
    job["labels"].update({"owner": "tnguyen", "pipeline": "ltv-weekly", "tier": "batch"})
    return job


def sql_list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
