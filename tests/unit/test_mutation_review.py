"""Mutations never touch more, or other, than a SELECT with the same WHERE shows (the fourth
review): config defaults, INSERT clauses that would be dropped, JSON non-numbers, the cache."""

from __future__ import annotations

from typing import Any

import pytest

from stackql_tuning.errors import PlanError
from stackql_tuning.plan import mutate as pm
from stackql_tuning.plan.coerce import parse_json_text
from stackql_tuning.plan.mutate_delete import plan_delete
from stackql_tuning.plan.select import apply_defaults
from stackql_tuning.registry.loader import Registry
from stackql_tuning.run.cache import ResponseCache
from stackql_tuning.run.mutate_calls import to_calls
from stackql_tuning.sql import parse_one
from stackql_tuning.transports.base import Call, CallError, Page

REG = Registry()
AWS = "aws.sagemaker.hyper_parameter_tuning_jobs"
DELETE = f"DELETE FROM {AWS} WHERE region = 'us-east-1' AND HyperParameterTuningJobName = 'j'"


def _delete(sql: str = DELETE) -> pm.MutationPlan:
    return plan_delete(parse_one(sql).expression, REG, None)


def test_a_mutation_names_the_account_when_defaults_name_one() -> None:
    # a SELECT with this WHERE reads the default account; the call would go to the
    # credentials' own: the statement must say which
    for defaults in (["210987654321", "210987654321"], ["210987654321", "123456789012"]):
        with pytest.raises(PlanError, match="AwsAccountId is not given") as e:
            to_calls(_delete(), {"AwsAccountId": defaults})
        assert "AwsAccountId = '210987654321'" in (e.value.hint or "")
    # named: sent as named, whatever the defaults
    (call,) = to_calls(
        _delete(DELETE + " AND AwsAccountId = '123456789012'"), {"AwsAccountId": ["210987654321"]}
    )
    assert call.params["AwsAccountId"] == "123456789012"
    # no default: the credentials' own account, as before
    (call,) = to_calls(_delete(), {"region": ["us-east-1"]})
    assert "AwsAccountId" not in call.params


def test_repeated_defaults_make_no_call_twice() -> None:
    from stackql_tuning.plan.bindings import Bindings

    b = Bindings()
    resource = REG.resource(AWS)
    apply_defaults(resource, b, {"region": ["us-east-1", "us-east-1"]}, set())
    assert b.static["region"] == ["us-east-1"]


@pytest.mark.parametrize(
    ("clause", "sql"),
    [
        ("INSERT OR IGNORE", f"INSERT OR IGNORE INTO {AWS} (region) VALUES ('us-east-1')"),
        ("INSERT OR REPLACE", f"INSERT OR REPLACE INTO {AWS} (region) VALUES ('us-east-1')"),
        ("ON CONFLICT", f"INSERT INTO {AWS} (region) VALUES ('us-east-1') ON CONFLICT DO NOTHING"),
    ],
)
def test_insert_clauses_that_would_be_dropped_are_refused(clause: str, sql: str) -> None:
    with pytest.raises(PlanError, match=f"{clause} is not supported"):
        pm.insert_target(parse_one(sql).expression, REG)


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', "[-Infinity]"])
def test_json_non_numbers_are_not_json(text: str) -> None:
    with pytest.raises(PlanError, match="is not a JSON number"):
        parse_json_text("row 1, column X", text)


def test_a_mutation_drops_the_cached_replies_of_its_whole_service() -> None:
    cache = ResponseCache()
    jobs = REG.resource(AWS)
    trainings = REG.resource("aws.sagemaker.hyper_parameter_tuning_job_training_jobs")
    google = REG.resource("google.aiplatform.hyperparameter_tuning_jobs")
    for resource in (jobs, trainings, google):
        method = next(m for m in resource.methods if m.is_list)
        cache.put(Call(resource, method, {"region": "us-east-1"}), None, Page([], None))
    # a stop of a tuning job also stops its training jobs: both are stale, Google's is not
    assert cache.invalidate(jobs.id) == 2
    assert len(cache) == 1


def test_await_ends_at_the_statements_timeout() -> None:
    # --timeout 0.3 with the default 600 s await_timeout: the wait ends at the statement's limit
    import time

    from stackql_tuning.errors import StatementTimeout
    from stackql_tuning.run.await_ import poll
    from stackql_tuning.session import Session

    session = Session(timeout=0.3, await_interval=0.05)
    session.statement_started = time.monotonic()
    with pytest.raises(StatementTimeout, match=r"--timeout 0\.3 s") as e:
        poll(session, "cancel of j", lambda: (False, "RUNNING"))
    assert "last state seen: RUNNING" in e.value.message
    assert time.monotonic() - session.statement_started < 30  # not the 600 s await_timeout


@pytest.mark.parametrize("cancel", [False, True], ids=["timeout", "cancel"])
def test_await_ends_while_a_probe_is_still_waiting_for_its_reply(cancel: bool) -> None:
    # a probe whose reply comes after the limit: the wait ended when the reply came, and a
    # reply saying "done" ended the statement with success past its --timeout
    import threading
    import time

    from stackql_tuning.errors import Cancelled, StatementTimeout
    from stackql_tuning.run.await_ import poll
    from stackql_tuning.session import Session

    reply = threading.Event()
    session = Session(timeout=None if cancel else 0.3, await_interval=0.05)
    session.statement_started = time.monotonic()

    def probe() -> tuple[bool, str]:
        if cancel:
            session.cancel()
        reply.wait(60)
        return True, "deleted"

    with pytest.raises(Cancelled if cancel else StatementTimeout):
        poll(session, "delete of j", probe)
    assert not reply.is_set()  # ended before the reply came
    reply.set()


class _Replies:
    """A fetcher that answers every call with the next of ``replies`` (a Page or a CallError)."""

    def __init__(self, *replies: object) -> None:
        self.replies = list(replies)

    def fetch(self, call: Call) -> Page:
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        assert isinstance(reply, Page)
        return reply


def _waiting_session(*replies: object) -> Any:
    from stackql_tuning.session import Session

    session = Session(await_interval=0.01, await_timeout=30)
    session._state["fetcher"] = _Replies(*replies)
    session.notify = lambda text: None  # type: ignore[method-assign]
    return session


@pytest.mark.parametrize(
    "reply",
    [
        CallError(500, "InternalFailure: upstream NotFound", sent=True),
        CallError(400, "AccessDeniedException: the role does not exist"),
    ],
    ids=["500-says-notfound", "denied-says-does-not-exist"],
)
def test_a_delete_is_seen_gone_only_when_the_api_says_not_found(reply: CallError) -> None:
    # "NotFound" or "does not exist" anywhere in an error's text was taken for "deleted"
    from stackql_tuning.errors import ProviderError
    from stackql_tuning.run.await_ import await_gone

    res = REG.resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    params = {"region": "us-east-1", "HyperParameterTuningJobName": "j1"}
    with pytest.raises(ProviderError, match="polling failed"):
        await_gone(_waiting_session(reply), res, params, "delete j1")
    gone = CallError(400, "ResourceNotFound: no j1", not_found=True)
    assert await_gone(_waiting_session(gone), res, params, "delete j1") == "deleted"


def test_a_wait_for_a_state_does_not_end_on_a_reply_without_one() -> None:
    # a reply of {} ended the wait: "cancel: ...: now unknown", exit 0
    from stackql_tuning.errors import ProviderError
    from stackql_tuning.run.await_ import await_terminal

    res = REG.resource("google.aiplatform.hyperparameter_tuning_jobs")
    params = {"projectsId": "p", "locationsId": "us-central1", "hyperparameterTuningJobsId": "1"}
    with pytest.raises(ProviderError, match="the reply has no state"):
        await_terminal(_waiting_session(Page(raw=b"{}", status=200)), res, params, "cancel 1")
    done = Page(raw=b'{"name": "x", "state": "JOB_STATE_CANCELLED"}', status=200)
    assert await_terminal(_waiting_session(done), res, params, "cancel 1") == "JOB_STATE_CANCELLED"


def test_a_dry_run_insert_select_plans_its_select_as_the_run_does() -> None:
    # a registry view in the SELECT was "cannot be queried with SELECT" in a dry run only
    from stackql_tuning.session import Session

    with Session(dry_run=True, auth={"aws": {"type": "default"}}) as session:
        result = session.execute(
            f"INSERT INTO {AWS} (region, HyperParameterTuningJobName, "
            "HyperParameterTuningJobConfig) SELECT 'us-west-2', TuningJobName || '-copy', '{}' "
            "FROM aws.sagemaker.tuning_jobs WHERE region = 'us-east-1' LIMIT 2"
        )
    assert [r[1] for r in result.rows] == ["list", "create"]
    assert "one call per row of the SELECT" in result.rows[-1][2]


def test_non_finite_numbers_in_structured_values_are_not_json() -> None:
    from stackql_tuning.plan.coerce import coerce_value

    for value in ({"a": {"b": float("nan")}}, {"a": [float("-inf")]}):
        with pytest.raises(PlanError, match="is not a JSON number"):
            coerce_value("row 1, column studySpec", "object", value)
    with pytest.raises(PlanError, match="expects a number"):
        coerce_value("row 1, column x", "number", float("inf"))


def test_an_exec_is_told_to_name_the_account_in_exec_form() -> None:
    from stackql_tuning.plan.mutate_exec import plan_exec

    node = parse_one(
        f"EXEC {AWS}.stop @region='us-east-1', @HyperParameterTuningJobName='x'"
    ).expression
    with pytest.raises(PlanError) as e:
        to_calls(plan_exec(node, REG), {"AwsAccountId": ["210987654321"]}, form="exec")
    assert "@AwsAccountId='210987654321'" in (e.value.hint or "")


def test_an_insert_is_told_to_name_the_account_as_a_column() -> None:
    # the hint read "add AwsAccountId = '...'": WHERE syntax, for a statement without one
    from stackql_tuning.plan.mutate import MutationPlan, PlannedCall

    resource = REG.resource(AWS)
    method = resource.method("create")
    plan = MutationPlan(resource, method, [PlannedCall(row=1, params={"region": "us-east-1"})])
    with pytest.raises(PlanError) as e:
        to_calls(plan, {"AwsAccountId": ["210987654321"]}, form="insert")
    assert "add a column AwsAccountId with '210987654321'" in (e.value.hint or "")


def test_a_pivot_returns_its_rows() -> None:
    # DuckDB runs a PIVOT as several statements whose first kind is "changed rows": its rows
    # were dropped and "OK" printed
    from stackql_tuning.session import Session

    with Session() as session:
        session.execute("CREATE TABLE loc AS SELECT 'a' AS region, 'x' AS status")
        result = session.execute("PIVOT loc ON status USING count(*) GROUP BY region")
    assert result.columns == ["region", "x"] and result.rows == [("a", 1)]
