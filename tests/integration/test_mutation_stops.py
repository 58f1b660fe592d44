"""Changes that stop part-way (a cancel, a time limit) or must not start (a transaction, a
partial read, an account that cannot be used), against the sandbox (loopback only).

Own names: Google project ``h7-stops`` and the AWS jobs ``h7-stops-*``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest

from stackql_tuning import errors
from stackql_tuning.sandbox.runner import Sandbox
from stackql_tuning.session import Session
from tests.integration.test_mutations import STUDY, TRIAL

HPT = "google.aiplatform.hyperparameter_tuning_jobs"
SM = "aws.sagemaker.hyper_parameter_tuning_jobs"
PROJECT = "h7-stops"
LOC = "us-central1"


@pytest.fixture
def session(fresh_sandbox: Sandbox, sandbox_env: dict[str, str]) -> Iterator[Session]:
    s = Session(**fresh_sandbox.settings(), concurrency=1)
    s.notify = lambda text: None  # type: ignore[attr-defined]
    yield s
    s.close()


def insert(n: int, prefix: str) -> str:
    return (
        f"INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec) SELECT '{PROJECT}', '{LOC}', "
        f"'{prefix}-' || i, 8, 2, '{STUDY}', '{TRIAL}' FROM range({n}) t(i)"
    )


def named(session: Session, prefix: str) -> int:
    rows = session.execute(
        f"SELECT count(*) FROM {HPT} WHERE projectsId = '{PROJECT}' AND locationsId = '{LOC}' "
        f"AND displayName LIKE '{prefix}-%'"
    ).rows
    return int(rows[0][0])


def test_a_cancel_stops_sending_and_reports_every_row(
    session: Session, fresh_sandbox: Sandbox
) -> None:
    # the calls not yet sent went on being sent after the cancel, and none was reported
    fresh_sandbox.google.configure(latency=0.3)
    threading.Timer(0.5, session.cancel).start()
    with pytest.raises(errors.Cancelled) as info:
        session.execute(insert(8, "h7-stop-a"))
    text = str(info.value)
    assert "of 8 created; created: row 1: projects/h7-stops/" in text
    assert "not sent: rows " in text
    time.sleep(0.8)  # nothing more goes out once the report is made
    fresh_sandbox.google.configure(latency=0.0)
    made = named(session, "h7-stop-a")
    assert 1 <= made < 8
    assert text.startswith(f"{made} of 8 created") or f": {made} of 8 created" in text


def test_the_time_limit_stops_sending(fresh_sandbox: Sandbox, sandbox_env: dict[str, str]) -> None:
    # --timeout did not bound a change: every call was sent, exit 0
    fresh_sandbox.google.configure(latency=0.3)
    with Session(**fresh_sandbox.settings(), concurrency=1, timeout=1.0) as session:
        session.notify = lambda text: None  # type: ignore[attr-defined]
        # no wall-clock bound (a loaded machine stretches it): the jobs made say it stopped
        with pytest.raises(errors.StatementTimeout) as info:
            session.execute(insert(12, "h7-stop-t"))
        text = str(info.value)
        assert "time limit (1 s) passed" in text and "of 12 created" in text
        assert "not sent: rows " in text
        time.sleep(0.8)
        fresh_sandbox.google.configure(latency=0.0)
        assert named(session, "h7-stop-t") < 12


def test_a_change_inside_a_transaction_is_refused(session: Session, fresh_sandbox: Sandbox) -> None:
    # ROLLBACK said OK, and the DELETE had been made
    session.execute("BEGIN")
    try:
        with pytest.raises(errors.PlanError, match="inside a transaction"):
            session.execute(
                f"DELETE FROM {SM} WHERE region = 'us-east-1' "
                "AND HyperParameterTuningJobName = 'h7-stops-tx'"
            )
    finally:
        session.execute("ROLLBACK")
    assert not [e for e in fresh_sandbox.aws.requests() if "Delete" in str(e)]


def test_an_insert_never_runs_on_a_partial_read(fresh_sandbox: Sandbox, sandbox_env: dict) -> None:
    # under --on-error continue a NOT EXISTS guard whose read failed created a duplicate
    fresh_sandbox.google.configure(
        faults={"rate": 1.0, "kinds": {"503": 1}, "match": "europe-west4/hyperparameterTuningJobs$"}
    )
    guard = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {HPT} WHERE projectsId = '{PROJECT}' "
        "AND locationsId IN ('europe-west4', 'us-central1') AND displayName = 'h7-stop-p-0')"
    )
    settings = {**fresh_sandbox.settings(), "on_error": "continue", "max_attempts": 1}
    with (
        Session(**settings) as session,
        pytest.raises(errors.ProviderError, match="nothing was created"),
    ):
        session.execute(insert(1, "h7-stop-p") + guard)
    fresh_sandbox.google.configure(faults={})
    assert not [
        e
        for e in fresh_sandbox.google.requests()
        if e["method"] == "POST" and f"/projects/{PROJECT}/" in e["path"]
    ]


def test_an_insert_never_runs_on_a_read_cut_by_the_page_limit(
    fresh_sandbox: Sandbox, sandbox_env: dict
) -> None:
    # --page-limit 1 cut a NOT EXISTS guard's read to its first page: the job on page 2 was
    # not seen, a duplicate was created, "1 resource created", exit 0, no warning
    settings = fresh_sandbox.settings()
    with Session(**settings) as session:
        session.execute(insert(3, "h7-stop-cut"))
    guard = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {HPT} WHERE projectsId = '{PROJECT}' "
        f"AND locationsId = '{LOC}' AND lower(displayName) = 'h7-stop-cut-0' AND pageSize = 1)"
    )
    fresh_sandbox.google.reset_log()
    with (
        Session(**settings, page_limit=1) as cut,
        pytest.raises(errors.ProviderError, match="read only part of the rows"),
    ):
        cut.execute(insert(1, "h7-stop-cut") + guard)
    assert not [e for e in fresh_sandbox.google.requests() if e["method"] == "POST"]


def test_every_account_is_resolved_before_the_first_change(
    session: Session, fresh_sandbox: Sandbox
) -> None:
    # the DELETE went to the configured account, then failed on the other with that hidden
    with pytest.raises(errors.AuthError, match="999999999999 is not configured"):
        session.execute(
            f"DELETE FROM {SM} WHERE region = 'us-east-1' AND HyperParameterTuningJobName = "
            "'h7-stops-acct' AND AwsAccountId IN ('210987654321', '999999999999')"
        )
    assert not [e for e in fresh_sandbox.aws.requests() if "DeleteHyperParameter" in str(e)]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("IN (unnest(['h7-stops-u1', 'h7-stops-u2']))", "gives 2 values where one is expected"),
        ("= CASE WHEN random() < 0.5 THEN 'a' ELSE 'b' END", "gives another value each time"),
        # a macro may hide random() or a table read; the clock names another job next run
        ("= pick_name()", "pick_name is a macro or a function the planner does not know"),
        ("= 'h7-' || CAST(epoch_ms(now()) AS VARCHAR)", "it reads the clock"),
    ],
)
def test_a_constant_must_be_one_fixed_value(
    session: Session, fresh_sandbox: Sandbox, value: str, error: str
) -> None:
    # unnest's first value alone was deleted (reported as success); random() could name
    # other jobs in --dry-run than in the run, and so could a macro over it (a job picked
    # at random was deleted) or the clock
    session.execute(
        "CREATE MACRO pick_name() AS ('h7-stops-' || CAST(CAST(random() * 9 AS INT) AS VARCHAR))"
    )
    with pytest.raises(errors.PlanError, match=error):
        session.execute(
            f"DELETE FROM {SM} WHERE region = 'eu-west-1' AND HyperParameterTuningJobName {value}"
        )
    assert not [e for e in fresh_sandbox.aws.requests() if "DeleteHyperParameter" in str(e)]


def test_one_session_serves_threads_one_statement_at_a_time(session: Session) -> None:
    # threads sharing a Session got each other's rows, and DuckDB errors
    queries = {
        "prod": f"SELECT count(*) FROM {HPT} WHERE projectsId = 'ml-research-prod' "
        "AND locationsId IN ('us-central1', 'europe-west4')",
        "east": f"SELECT count(*) FROM {SM} WHERE region = 'us-east-1'",
    }
    expected = {k: session.execute(q).rows for k, q in queries.items()}
    seen: list[tuple[str, object]] = []

    def run(key: str) -> None:
        for _ in range(5):
            try:
                seen.append((key, session.execute(queries[key]).rows))
            except Exception as e:  # every failure is the test's finding
                seen.append((key, e))

    threads = [threading.Thread(target=run, args=(k,)) for k in [*queries, *queries]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(seen) == 20
    assert all(rows == expected[key] for key, rows in seen), seen


def test_a_cancel_while_awaiting_names_the_created_job(
    fresh_sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    # the job had been created, and the report said only "interrupted"
    fresh_sandbox.google.clock.set_speed(0.0)  # the job stays running
    with Session(**fresh_sandbox.settings(), await_interval=0.05, await_timeout=60.0) as session:
        session.notify = lambda text: None  # type: ignore[attr-defined]
        threading.Timer(0.6, session.cancel).start()
        with pytest.raises(errors.Cancelled) as info:
            session.execute("/*+ AWAIT */ " + insert(1, "h7-stop-w"))
    assert "1 of 1 created; created: row 1: projects/h7-stops/locations/us-central1/" in str(
        info.value
    )


def test_a_time_limit_past_before_any_call_is_still_a_time_limit(
    fresh_sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    # the workers saw the deadline first: a provider error, which --on-error continue let pass
    fresh_sandbox.aws.configure(latency=0.2)
    settings = {**fresh_sandbox.settings(), "timeout": 0.001, "on_error": "continue"}
    with Session(**settings) as session, pytest.raises(errors.StatementTimeout) as info:
        session.execute(
            f"DELETE FROM {SM} WHERE region = 'us-west-2' "
            "AND HyperParameterTuningJobName IN ('h7-stops-t1', 'h7-stops-t2')"
        )
    assert "0 of 2 deleted; not sent: rows 1-2" in str(info.value)
    assert not [e for e in fresh_sandbox.aws.requests() if "DeleteHyperParameter" in str(e)]


def test_a_stopped_delete_names_the_jobs_and_the_rows_to_fix(
    session: Session, fresh_sandbox: Sandbox
) -> None:
    # it named the deletion's operation, not the job; its hint left out the failed rows
    made = [
        session.execute(insert(1, f"h7-stop-d{i}") + " RETURNING hyperparameterTuningJobsId").rows[
            0
        ][0]
        for i in range(2)
    ]
    for job in made:
        session.execute(
            f"EXEC {HPT}.cancel @projectsId='{PROJECT}', @locationsId='{LOC}', "
            f"@hyperparameterTuningJobsId='{job}'"
        )
    fresh_sandbox.google.configure(latency=0.4)
    threading.Timer(1.5, session.cancel).start()
    ids = ", ".join(f"'{j}'" for j in ["1", *made, "2", "3", "4"])
    with pytest.raises(errors.Cancelled) as info:
        session.execute(
            f"DELETE FROM {HPT} WHERE projectsId = '{PROJECT}' AND locationsId = '{LOC}' "
            f"AND hyperparameterTuningJobsId IN ({ids})"
        )
    text = str(info.value)
    assert f"row 2: projects/{PROJECT}/locations/{LOC}/hyperparameterTuningJobs/{made[0]}" in text
    assert "failed: row 1: 404" in text
    assert re.search(r"fix rows? 1\b.* again", info.value.hint or "")


def test_a_cancel_while_awaiting_reports_the_failed_rows_too(
    fresh_sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    # the report named the created jobs and left out the row that had failed
    fresh_sandbox.google.clock.set_speed(0.0)  # the job stays running
    bad_study = '{"metrics": [{"metricId": "acc"}], "parameters": []}'
    sql = (
        f"/*+ AWAIT */ INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec) VALUES "
        f"('{PROJECT}', '{LOC}', 'h7-stop-f1', 2, 1, '{bad_study}', '{TRIAL}'), "
        f"('{PROJECT}', '{LOC}', 'h7-stop-f2', 2, 1, '{STUDY}', '{TRIAL}')"
    )
    with Session(**fresh_sandbox.settings(), await_interval=0.05, await_timeout=60.0) as session:
        session.notify = lambda text: None  # type: ignore[attr-defined]
        threading.Timer(0.8, session.cancel).start()
        with pytest.raises(errors.Cancelled) as info:
            session.execute(sql)
    text = str(info.value)
    assert "1 of 2 created; created: row 2: projects/h7-stops/" in text
    assert "failed: row 1: 400" in text and "interrupted while waiting for the new jobs" in text


def aws_job(sandbox: Sandbox, name: str, region: str = "ca-central-1") -> str:
    """Create the SageMaker tuning job ``name`` in ``region`` (returned)."""
    from tests.integration.test_mutations import AWS_CONFIG, AWS_DEFINITION

    with Session(**sandbox.settings()) as session:
        session.execute(
            f"INSERT INTO {SM} (region, HyperParameterTuningJobName, "
            "HyperParameterTuningJobConfig, TrainingJobDefinition) VALUES "
            f"('{region}', '{name}', '{AWS_CONFIG}', '{AWS_DEFINITION}')"
        )
    return region


def test_an_awaited_aws_delete_past_the_time_limit_names_what_was_accepted(
    fresh_sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    # the wait's read of the job outlived --timeout: the statement ended when its reply came
    # (past the limit, exit 0); when the limit passed between reads, the row was reported as
    # "row 1: None: outcome unknown" with a hint to check before running it again
    region = aws_job(fresh_sandbox, "h7-stops-aw")
    fresh_sandbox.aws.configure(latency=1.5)  # the delete answers, the wait's read does not
    with Session(**fresh_sandbox.settings(), timeout=2.4) as session:
        session.notify = lambda text: None  # type: ignore[attr-defined]
        with pytest.raises(errors.StatementTimeout) as info:
            session.execute(
                f"/*+ AWAIT */ DELETE FROM {SM} WHERE region = '{region}' "
                "AND HyperParameterTuningJobName = 'h7-stops-aw'"
            )
    text = str(info.value)
    assert "accepted, not seen gone yet: row 1: h7-stops-aw in ca-central-1" in text
    assert "do not run them again" in (info.value.hint or "")
    assert "None" not in text


def test_a_sigterm_stops_a_change_and_reports_each_row(
    fresh_sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    # a SIGTERM killed the process mid-change: no report, the rows done unknown (exit 143)
    import os
    import signal
    import subprocess
    import sys

    fresh_sandbox.google.configure(latency=0.4)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stackql_tuning",
            "--concurrency",
            "1",
            "exec",
            insert(6, "h7-term"),
        ],
        env={**os.environ, **sandbox_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        r["method"] == "POST" for r in fresh_sandbox.google.requests()
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    fresh_sandbox.google.configure(latency=0.0)
    with Session(**fresh_sandbox.settings()) as session:
        made = named(session, "h7-term")
    assert 1 <= made < 6
    assert f"{made} of 6 created" in err and "not sent: rows " in err, err
    assert "Traceback" not in err


def test_a_cancel_while_awaiting_a_delete_names_it_accepted_not_deleted(
    fresh_sandbox: Sandbox, sandbox_env: dict[str, str]
) -> None:
    # the report called the row deleted, though it had only been accepted
    region = aws_job(fresh_sandbox, "h7-stops-ac")
    fresh_sandbox.aws.configure(latency=1.0)  # the delete answers; the wait's read is cut short
    with Session(**fresh_sandbox.settings()) as session:
        session.notify = lambda text: None  # type: ignore[attr-defined]
        threading.Timer(1.5, session.cancel).start()
        with pytest.raises(errors.Cancelled) as info:
            session.execute(
                f"/*+ AWAIT */ DELETE FROM {SM} WHERE region = '{region}' "
                "AND HyperParameterTuningJobName = 'h7-stops-ac'"
            )
    text = str(info.value)
    assert "accepted, not seen gone yet: row 1: h7-stops-ac in ca-central-1" in text
    assert "deleted: row 1" not in text
