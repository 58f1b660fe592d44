"""The response cache: repeated reads are served from memory; a mutation of the resource
invalidates what was cached of it (so the next read goes to the API again)."""

from __future__ import annotations

import stackql_tuning
from stackql_tuning.sandbox.runner import Sandbox
from stackql_tuning.transports.base import Call

Q = (
    "SELECT name, state FROM google.aiplatform.hyperparameter_tuning_jobs "
    "WHERE projectsId = 'ml-research-dev' AND locationsId = 'us-central1'"
)


def test_reads_are_cached_and_mutations_invalidate(fresh_sandbox: Sandbox) -> None:
    sb = fresh_sandbox
    with stackql_tuning.connect(**sb.settings(), cache_ttl=60) as s:
        first = s.execute(Q)
        sent = len(sb.google.requests())
        assert sent >= 1
        again = s.execute(Q)
        assert sorted(again.rows) == sorted(first.rows)
        assert len(sb.google.requests()) == sent, "the second read was served from the cache"
        # another resource's mutation leaves this cache alone; this resource's clears it
        res = s.registry.resource("google.aiplatform.hyperparameter_tuning_jobs")
        running = [n for n, st in first.rows if st in ("JOB_STATE_RUNNING", "JOB_STATE_PENDING")]
        assert running
        job_id = running[0].rsplit("/", 1)[-1]
        cancel = Call(
            res,
            res.method("cancel"),
            {
                "projectsId": "ml-research-dev",
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


def test_cache_is_off_by_default(fresh_sandbox: Sandbox) -> None:
    with stackql_tuning.connect(**fresh_sandbox.settings()) as s:
        s.execute(Q)
        n = len(fresh_sandbox.google.requests())
        s.execute(Q)
        assert len(fresh_sandbox.google.requests()) == 2 * n
