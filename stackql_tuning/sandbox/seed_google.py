"""Google demo data for the Vertex emulator: an ML team's account, deterministic given a seed.

Holds: :func:`seed_google`, which fills a :class:`VertexEmulator`'s store with hyperparameter
tuning jobs and tuning jobs in every state for each (project, location), with realistic names,
labels, study specs (Bayesian / random / grid; double, integer, categorical and discrete
parameters; MAXIMIZE and MINIMIZE metrics), trial job specs, base models, and returns a summary
that tests use as ground truth. Times are anchored on the emulator clock's start, so a fixed
``start_time`` makes every name, state and timestamp of finished jobs reproducible.

The catalogue below names resources and models: this is demo data, like ``providers/``.
Must not: talk HTTP (it writes to the store directly).
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from stackql_tuning.sandbox.vertex.clock import rfc3339
from stackql_tuning.sandbox.vertex.emulator import VertexEmulator
from stackql_tuning.sandbox.vertex.trials import best_trial

HPT = "hyperparameterTuningJobs"
TUNING = "tuningJobs"
DAY = 86400.0

STATES = (
    "JOB_STATE_PENDING",
    "JOB_STATE_RUNNING",
    "JOB_STATE_SUCCEEDED",
    "JOB_STATE_FAILED",
    "JOB_STATE_CANCELLING",
    "JOB_STATE_CANCELLED",
)
_STATE_WEIGHTS = (8, 15, 50, 15, 4, 8)
#: how long ago (emulated seconds before the clock's start) a job in each state was created
_AGE = {
    "JOB_STATE_PENDING": (60.0, 600.0),
    "JOB_STATE_RUNNING": (3600.0, 12 * 3600.0),
    "JOB_STATE_CANCELLING": (6 * 3600.0, 12 * 3600.0),
}
_OLD = (1 * DAY, 90 * DAY)


def _double(pid: str, lo: float, hi: float, log: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"parameterId": pid, "doubleValueSpec": {"minValue": lo, "maxValue": hi}}
    spec["scaleType"] = "UNIT_LOG_SCALE" if log else "UNIT_LINEAR_SCALE"
    return spec


def _int(pid: str, lo: int, hi: int) -> dict[str, Any]:
    return {
        "parameterId": pid,
        "integerValueSpec": {"minValue": str(lo), "maxValue": str(hi)},
        "scaleType": "UNIT_LINEAR_SCALE",
    }


def _cat(pid: str, *values: str) -> dict[str, Any]:
    return {"parameterId": pid, "categoricalValueSpec": {"values": list(values)}}


def _disc(pid: str, *values: float) -> dict[str, Any]:
    return {"parameterId": pid, "discreteValueSpec": {"values": list(values)}}


#: (display name stem, metric, goal, parameters, image, team)
_STUDIES: tuple[tuple[str, str, str, list[dict[str, Any]], str, str], ...] = (
    (
        "xgb-churn-hpt",
        "auc",
        "MAXIMIZE",
        [
            _double("learning_rate", 0.005, 0.3, True),
            _int("max_depth", 3, 12),
            _double("subsample", 0.5, 1.0),
            _cat("booster", "gbtree", "dart"),
        ],
        "us-docker.pkg.dev/vertex-ai/training/xgboost-cpu.2-1:latest",
        "growth",
    ),
    (
        "resnet50-lr-sweep",
        "val_accuracy",
        "MAXIMIZE",
        [
            _double("learning_rate", 1e-4, 0.1, True),
            _disc("batch_size", 32, 64, 128, 256),
            _cat("optimizer", "sgd", "adam", "adamw"),
            _double("momentum", 0.8, 0.99),
        ],
        "us-docker.pkg.dev/vertex-ai/training/tf-gpu.2-15.py310:latest",
        "vision",
    ),
    (
        "bert-finetune-sentiment",
        "eval_f1",
        "MAXIMIZE",
        [
            _double("learning_rate", 1e-5, 5e-5, True),
            _double("warmup_ratio", 0.0, 0.2),
            _int("num_train_epochs", 2, 5),
            _disc("per_device_batch_size", 8, 16, 32),
        ],
        "us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-3.py310:latest",
        "nlp",
    ),
    (
        "lgbm-fraud-hpt",
        "pr_auc",
        "MAXIMIZE",
        [
            _int("num_leaves", 16, 256),
            _double("learning_rate", 0.01, 0.2, True),
            _double("feature_fraction", 0.5, 1.0),
            _int("min_data_in_leaf", 10, 200),
        ],
        "{location}-docker.pkg.dev/{project}/trainers/fraud-lgbm:2.3.1",
        "risk",
    ),
    (
        "wide-deep-ctr-sweep",
        "logloss",
        "MINIMIZE",
        [
            _disc("embedding_dim", 8, 16, 32, 64),
            _double("l2_reg", 1e-6, 1e-2, True),
            _double("dropout", 0.0, 0.5),
            _cat("hidden_units", "256-128", "512-256-128", "1024-512"),
        ],
        "{location}-docker.pkg.dev/{project}/trainers/ctr-widedeep:0.9.4",
        "ads",
    ),
    (
        "tabnet-ltv-hpt",
        "rmse",
        "MINIMIZE",
        [
            _int("n_steps", 3, 10),
            _double("gamma", 1.0, 2.0),
            _disc("n_d", 8, 16, 32, 64),
            _double("lambda_sparse", 1e-6, 1e-3, True),
        ],
        "{location}-docker.pkg.dev/{project}/trainers/ltv-tabnet:1.1.0",
        "growth",
    ),
    (
        "efficientnet-defects-sweep",
        "val_recall",
        "MAXIMIZE",
        [
            _double("learning_rate", 1e-4, 1e-2, True),
            _cat("variant", "b0", "b2", "b4"),
            _int("freeze_layers", 0, 200),
        ],
        "us-docker.pkg.dev/vertex-ai/training/tf-gpu.2-15.py310:latest",
        "vision",
    ),
    (
        "t5-summarize-hpt",
        "rougeL",
        "MAXIMIZE",
        [
            _double("learning_rate", 1e-4, 1e-3, True),
            _disc("max_source_length", 512, 1024),
            _int("num_beams", 1, 6),
        ],
        "us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-3.py310:latest",
        "nlp",
    ),
)
_MACHINES = (
    {"machineType": "n1-standard-8"},
    {"machineType": "n1-highmem-16"},
    {"machineType": "n1-standard-8", "acceleratorType": "NVIDIA_TESLA_T4", "acceleratorCount": 1},
    {"machineType": "g2-standard-8", "acceleratorType": "NVIDIA_L4", "acceleratorCount": 1},
    {"machineType": "a2-highgpu-1g", "acceleratorType": "NVIDIA_TESLA_A100", "acceleratorCount": 1},
)
_ALGORITHMS = ("ALGORITHM_UNSPECIFIED", "ALGORITHM_UNSPECIFIED", "RANDOM_SEARCH", "GRID_SEARCH")
_BASE_MODELS = (
    "gemini-2.0-flash-001",
    "gemini-2.0-flash-lite-001",
    "gemini-1.5-pro-002",
    "gemini-1.5-flash-002",
    "gemini-2.5-flash",
)
#: (tuned model stem, dataset folder, team)
_TUNINGS = (
    ("support-bot", "support-tickets", "cx"),
    ("sql-assistant", "text-to-sql", "data-platform"),
    ("sentiment-classifier", "reviews", "nlp"),
    ("doc-summarizer", "contracts", "legal-ai"),
    ("product-tagger", "catalog", "ads"),
    ("code-review-helper", "pull-requests", "devex"),
)
_COST_CENTERS = ("cc-1042", "cc-2210", "cc-3307", "cc-4150")


def _labels(rng: random.Random, team: str, project: str) -> dict[str, str]:
    env = "prod" if project.endswith("prod") else "dev"
    out = {"team": team, "env": env, "cost-center": rng.choice(_COST_CENTERS)}
    if rng.random() < 0.4:
        out["owner"] = rng.choice(("akim", "bchen", "dpatel", "mrossi", "sokafor", "tnguyen"))
    return out


def _hpt_job(rng: random.Random, project: str, location: str, created: float) -> dict[str, Any]:
    stem, metric, goal, params, image, team = rng.choice(_STUDIES)
    params = [
        dict(p) for p in rng.sample(params, k=rng.randint(max(2, len(params) - 1), len(params)))
    ]
    max_trials = rng.choice((8, 12, 16, 20, 24, 32, 48))
    date = rfc3339(created)[:10]
    name = f"{stem}-{date}" if rng.random() < 0.7 else f"{stem}-v{rng.randint(2, 14)}"
    machine = dict(rng.choice(_MACHINES))
    return {
        "displayName": name,
        "studySpec": {
            "metrics": [{"metricId": metric, "goal": goal}],
            "parameters": params,
            "algorithm": rng.choice(_ALGORITHMS),
            "measurementSelectionType": "BEST_MEASUREMENT",
        },
        "maxTrialCount": max_trials,
        "parallelTrialCount": rng.choice([p for p in (1, 2, 4, 8) if p <= max_trials]),
        "maxFailedTrialCount": rng.choice((0, 3, 5)),
        "trialJobSpec": {
            "workerPoolSpecs": [
                {
                    "machineSpec": machine,
                    "replicaCount": "1",
                    "diskSpec": {"bootDiskType": "pd-ssd", "bootDiskSizeGb": 100},
                    "containerSpec": {
                        "imageUri": image.format(location=location, project=project),
                        "args": [f"--metric={metric}", "--epochs=20"],
                    },
                }
            ],
            "baseOutputDirectory": {
                "outputUriPrefix": f"gs://{project}-vertex-staging/hpt/{name}/"
            },
            "serviceAccount": f"vertex-trainer@{project}.iam.gserviceaccount.com",
        },
        "labels": _labels(rng, team, project),
    }


def _tuning_job(rng: random.Random, project: str, location: str, created: float) -> dict[str, Any]:
    stem, folder, team = rng.choice(_TUNINGS)
    model = rng.choice(_BASE_MODELS)
    date = rfc3339(created)[:10]
    bucket = f"gs://{project}-tuning-data/{folder}"
    return {
        "baseModel": model,
        "tunedModelDisplayName": f"{stem}-{model.split('-0')[0]}-{date}",
        "description": f"Supervised fine-tuning of {model} on {folder.replace('-', ' ')}.",
        "supervisedTuningSpec": {
            "trainingDatasetUri": f"{bucket}/train-{date}.jsonl",
            "validationDatasetUri": f"{bucket}/validation-{date}.jsonl",
            "hyperParameters": {
                "epochCount": str(rng.choice((2, 3, 4, 5))),
                "learningRateMultiplier": rng.choice((0.5, 1.0, 2.0)),
                "adapterSize": rng.choice(
                    ("ADAPTER_SIZE_FOUR", "ADAPTER_SIZE_EIGHT", "ADAPTER_SIZE_SIXTEEN")
                ),
            },
        },
        "labels": _labels(rng, team, project),
    }


_BUILDERS = {HPT: _hpt_job, TUNING: _tuning_job}


def _with_key(body: dict[str, Any], project: str, location: str) -> dict[str, Any]:
    """``body``, encrypted with a customer-managed key for every fourth job (by its name's
    checksum: no draw of the seed's generator, so every other value stays as it was), so
    that ``encryptionSpec`` has rows."""
    name = str(body.get("displayName") or body.get("tunedModelDisplayName") or "")
    if zlib.crc32(name.encode()) % 4 == 0:
        ring = f"projects/{project}/locations/{location}/keyRings/ml-{project}"
        body["encryptionSpec"] = {"kmsKeyName": f"{ring}/cryptoKeys/vertex-jobs"}
    return body


def _states(rng: random.Random, count: int) -> list[str]:
    """Every state at least once (when count allows), the rest drawn by realistic weights."""
    out = list(STATES[:count]) + rng.choices(STATES, _STATE_WEIGHTS, k=max(0, count - len(STATES)))
    rng.shuffle(out)
    return out


def seed_google(
    emulator: VertexEmulator,
    *,
    seed: int = 0,
    projects: tuple[str, ...] | list[str] = ("ml-research-prod", "ml-research-dev"),
    locations: tuple[str, ...] | list[str] = ("us-central1", "europe-west4", "asia-northeast1"),
    jobs_per_location: tuple[int, int] | list[int] = (20, 40),
) -> dict[str, Any]:
    """Fill ``emulator.store``; returns the ground truth::

    {"seed": ..., "total": n,
     "jobs": {project: {location: {collection: [{"name", "state", "displayName"}]}}},
     "counts": {collection: {state: n}},
     "best_trials": {hpt job name: {"id", "parameters", "metricId", "value"}}}
    """
    rng = random.Random(f"seed_google:{seed}")
    lo, hi = int(jobs_per_location[0]), int(jobs_per_location[1])
    anchor = emulator.clock.start
    store = emulator.store
    summary: dict[str, Any] = {
        "seed": seed,
        "total": 0,
        "jobs": {},
        "counts": {},
        "best_trials": {},
    }
    for project in projects:
        for location in locations:
            parent = f"projects/{project}/locations/{location}"
            for collection, build in _BUILDERS.items():
                listed = summary["jobs"].setdefault(project, {}).setdefault(location, {})
                listed[collection] = []
                counts = summary["counts"].setdefault(collection, {})
                for state in _states(rng, rng.randint(lo, hi)):
                    created = anchor - rng.uniform(*_AGE.get(state, _OLD))
                    body = _with_key(build(rng, project, location, created), project, location)
                    job = store.insert(collection, parent, body, state=state, create_time=created)
                    display = job.get("displayName") or job.get("tunedModelDisplayName")
                    listed[collection].append(
                        {"name": job["name"], "state": state, "displayName": display}
                    )
                    counts[state] = counts.get(state, 0) + 1
                    summary["total"] += 1
                    if collection == HPT and state == "JOB_STATE_SUCCEEDED":
                        best = best_trial(job.get("trials") or [], body["studySpec"])
                        if best is not None:
                            summary["best_trials"][job["name"]] = best
    return summary
