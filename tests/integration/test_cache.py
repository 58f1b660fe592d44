"""The response cache: repeated reads are served from memory; a mutation of the resource
invalidates what was cached of it (so the next read goes to the API again)."""

from __future__ import annotations

import stackql_tuning
from stackql_tuning.sandbox.runner import Sandbox
from stackql_tuning.transports.base import Call

PROJECT = "cache-tests"  # a project of its own: the seeded jobs are other tests' truth
Q = (
    "SELECT name, state FROM google.aiplatform.hyperparameter_tuning_jobs "
    f"WHERE projectsId = '{PROJECT}' AND locationsId = 'us-central1'"
)
JOB = {
    "displayName": "cache-test",
    "studySpec": {
        "algorithm": "RANDOM_SEARCH",
        "metrics": [{"metricId": "auc", "goal": "MAXIMIZE"}],
        "parameters": [
            {"parameterId": "lr", "doubleValueSpec": {"minValue": 0.001, "maxValue": 0.1}}
        ],
    },
    "maxTrialCount": 4,
    "parallelTrialCount": 2,
    "trialJobSpec": {
        "workerPoolSpecs": [
            {
                "machineSpec": {"machineType": "n1-standard-4"},
                "replicaCount": "1",
                "containerSpec": {"imageUri": "gcr.io/x/y"},
            }
        ]
    },
}


def _create_jobs(sandbox: Sandbox) -> None:
    parent = f"projects/{PROJECT}/locations/us-central1"
    if not sandbox.google.store.jobs("hyperparameterTuningJobs", parent):
        for _ in range(2):
            sandbox.google.store.insert(
                "hyperparameterTuningJobs", parent, dict(JOB), state="JOB_STATE_RUNNING"
            )


def test_reads_are_cached_and_mutations_invalidate(fresh_sandbox: Sandbox) -> None:
    sb = fresh_sandbox
    _create_jobs(sb)
    with stackql_tuning.connect(**sb.settings(), cache_ttl=60) as s:
        first = s.execute(Q)
        sent = len(sb.google.requests())
        assert sent >= 1
        again = s.execute(Q)
        assert sorted(again.rows) == sorted(first.rows)
        assert len(sb.google.requests()) == sent, "the second read was served from the cache"
        # the result says so, and how old the replies are (the shell's footer shows it)
        assert (first.cached_pages, again.cached_pages) == (0, again.calls)
        assert again.calls >= 1 and 0 <= again.cache_age < 60
        # a mutation of this resource clears what was cached of it
        res = s.registry.resource("google.aiplatform.hyperparameter_tuning_jobs")
        running = [n for n, st in first.rows if st in ("JOB_STATE_RUNNING", "JOB_STATE_PENDING")]
        assert running
        job_id = running[0].rsplit("/", 1)[-1]
        cancel = Call(
            res,
            res.method("cancel"),
            {
                "projectsId": PROJECT,
                "locationsId": "us-central1",
                "hyperparameterTuningJobsId": job_id,
            },
            body={},
        )
        s.fetcher.fetch(cancel)
        after = s.execute(Q)
        assert len(sb.google.requests()) > sent + 1, "the read after a mutation was sent"
        states = dict(after.rows)
        assert states[running[0]] in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")


def test_turning_the_cache_off_drops_what_it_held(fresh_sandbox: Sandbox) -> None:
    # the shell's \c off, then \c on: a state read before must not answer then
    _create_jobs(fresh_sandbox)
    with stackql_tuning.connect(**fresh_sandbox.settings(), cache_ttl=60) as s:
        s.execute(Q)
        s.settings.cache_ttl = 0
        s.execute(Q)
        s.settings.cache_ttl = 60
        n = len(fresh_sandbox.google.requests())
        again = s.execute(Q)
        assert len(fresh_sandbox.google.requests()) > n and again.cached_pages == 0


def test_cache_is_off_by_default(fresh_sandbox: Sandbox) -> None:
    _create_jobs(fresh_sandbox)
    with stackql_tuning.connect(**fresh_sandbox.settings()) as s:
        s.execute(Q)
        n = len(fresh_sandbox.google.requests())
        s.execute(Q)
        assert len(fresh_sandbox.google.requests()) == 2 * n


def test_a_partial_reply_never_answers_a_read_of_more_fields(fresh_sandbox: Sandbox) -> None:
    sb = fresh_sandbox
    _create_jobs(sb)
    wider = Q.replace("SELECT name, state", "SELECT name, state, displayName, maxTrialCount")
    with stackql_tuning.connect(**sb.settings(), cache_ttl=60) as s:
        s.execute(Q)  # cached: names and states only
        sent = len(sb.google.requests())
        rows = s.execute(wider).rows
        assert len(sb.google.requests()) > sent, "the wider read went to the API"
        assert rows and all(r[2] == "cache-test" and r[3] == 4 for r in rows)
        s.execute(wider)
        assert len(sb.google.requests()) == sent + 1, "and is then cached in its turn"
