"""plan/pushrules.py: what a predicate is pushed as must never drop a row DuckDB keeps (the
fourth review's cases: AND inside OR, casts, boundary and early years)."""

from __future__ import annotations

import pytest

from stackql_tuning.sandbox.vertex.filters import _match
from tests.unit.test_plan import AWS, HPT, W, plan


def test_an_and_inside_an_or_keeps_its_parentheses() -> None:
    # AIP-160's OR binds tighter than AND: "(a AND b OR c)" reads as "a AND (b OR c)"
    (slot,) = plan(
        f"SELECT 1 FROM {HPT} {W} AND ((state = 'JOB_STATE_SUCCEEDED' AND displayName = 'x') "
        "OR state = 'JOB_STATE_RUNNING')"
    ).slots
    assert slot.pushed == {
        "filter": '((state="JOB_STATE_SUCCEEDED" AND display_name="x") OR '
        'state="JOB_STATE_RUNNING")'
    }


@pytest.mark.parametrize(
    ("bound", "google", "aws"),
    [
        # DuckDB reads the cast's value: the date's midnight, not the text inside
        ("CAST('2026-11-23 20:00:00' AS DATE)", "2026-11-22T23:59:59Z", "2026-11-22T23:59:59Z"),
        ("DATE '2026-11-23'", "2026-11-22T23:59:59Z", "2026-11-22T23:59:59Z"),
        # a TIMESTAMP has no offset: DuckDB drops it, then reads the wall time in the session's
        # zone (UTC here)
        ("TIMESTAMP '2026-11-23 10:00:00-08'", "2026-11-23T09:59:59Z", "2026-11-23T09:59:59Z"),
        ("TIMESTAMPTZ '2026-11-23 10:00:00-08'", "2026-11-23T17:59:59Z", "2026-11-23T17:59:59Z"),
        # years before 1000 are written with 4 digits
        ("'0999-01-01'", "0998-12-31T23:59:59Z", "0998-12-31T23:59:59Z"),
    ],
)
def test_a_lower_time_bound_is_pushed_as_duckdb_reads_it(bound: str, google: str, aws: str) -> None:
    (slot,) = plan(f"SELECT 1 FROM {HPT} {W} AND createTime > {bound}").slots
    assert slot.pushed == {"filter": f'create_time>="{google}"'}
    (slot,) = plan(
        f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND CreationTime > {bound}"
    ).slots
    assert slot.pushed["CreationTimeAfter"] == aws


@pytest.mark.parametrize(
    "pred",
    [
        "createTime > '0001-01-01'",  # widened by a second: before year 1
        "createTime < '9999-12-31 23:59:59.999999'",  # after year 9999
        "createTime > CAST('2026-01-01' AS INTEGER)",  # not a time DuckDB reads as such
        "displayName = DATE '2026-01-01'",  # a date is not the string it was written as
        "state IN (DATE '2026-01-01')",
    ],
)
def test_what_cannot_be_pushed_exactly_is_not_pushed(pred: str) -> None:
    (slot,) = plan(f"SELECT 1 FROM {HPT} {W} AND {pred}").slots
    assert slot.pushed == {}


def test_the_emulators_only_wildcard_is_the_star() -> None:
    view = {"display_name": "job[1]-x"}
    assert _match("display_name", "job[1]*")(view)
    assert not _match("display_name", "job?1*")(view)
    assert _match("display_name", "job*x")(view) and not _match("display_name", "job*y")(view)


@pytest.mark.parametrize(
    "projection",
    [
        "unnest(CASE WHEN HyperParameterTuningJobName > 'x' THEN [1] ELSE [] END)",
        "unnest([1, 2])",
        "generate_subscripts([1, 2], 1)",
    ],
)
def test_a_set_returning_function_stops_the_early_limit(projection: str) -> None:
    # the first page's rows may unnest to none (or to many): paging must go on
    (slot,) = plan(f"SELECT {projection} AS x FROM {AWS} WHERE region = 'us-east-1' LIMIT 5").slots
    assert slot.limit is None
    (slot,) = plan(f"SELECT 1 AS x FROM {AWS} WHERE region = 'us-east-1' LIMIT 5").slots
    assert slot.limit == 5


def test_a_value_outside_the_apis_pattern_is_not_pushed() -> None:
    # NameContains takes [a-zA-Z0-9-]{0,63}: "a.b c" was sent, and the API refuses it
    (slot,) = plan(
        f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND HyperParameterTuningJobName "
        "LIKE '%a.b c%'"
    ).slots
    assert "NameContains" not in slot.pushed
    (slot,) = plan(
        f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND HyperParameterTuningJobName "
        "LIKE '%xgb-churn%'"
    ).slots
    assert slot.pushed["NameContains"] == "xgb-churn"


def test_a_trailing_newline_does_not_pass_the_apis_pattern() -> None:
    (slot,) = plan(
        f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND HyperParameterTuningJobName "
        "LIKE '%hpo\n%'"
    ).slots
    assert "NameContains" not in slot.pushed


@pytest.mark.parametrize(
    ("bound", "message", "hint"),
    [
        # the API answered these with nothing, or ignored them: 0 rows or the wrong order
        ("StatusEquals = 'completed'", "StatusEquals = 'completed' is not a value", "'Completed'"),
        ("SortOrder = 'desc'", "SortOrder = 'desc' is not a value", "Descending"),
        ("SortBy = 'Bogus'", "SortBy = 'Bogus'", "Name, Status, CreationTime"),
        ("MaxResults = 500", "MaxResults = 500 is out of the API's range", "between 1 and 100"),
        # a negative number is the literal negated: it was not located
        ("MaxResults = -1", "MaxResults = -1 is out of the API's range", "between 1 and 100"),
        # not a job name: SageMaker refuses it (ValidationException), the sandbox answered 0 rows
        (
            "HyperParameterTuningJobName IN ('xgb-a', 'bad_name!')",
            "HyperParameterTuningJobName = 'bad_name!' is not a value",
            "pattern ^(?=.{1,32}$)",
        ),
        ("HyperParameterTuningJobName = '" + "a" * 33 + "'", "is not a value", "{1,32}"),
        ("NameContains = 'a.b'", "NameContains = 'a.b' is not a value", "pattern"),
    ],
)
def test_param_values_outside_the_api_definition_are_plan_errors(
    bound: str, message: str, hint: str
) -> None:
    from stackql_tuning.errors import PlanError
    from stackql_tuning.plan.pushdown import check_literals

    with pytest.raises(PlanError, match=message) as info:
        check_literals(plan(f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND {bound}"))
    assert hint in (info.value.hint or "")
    assert info.value.location.line == 1 and info.value.location.column


def test_param_values_the_api_takes_pass() -> None:
    from stackql_tuning.plan.pushdown import check_literals

    check_literals(
        plan(
            f"SELECT 1 FROM {AWS} WHERE region = 'us-east-1' AND StatusEquals IN "
            "('Completed', 'Failed') AND SortOrder = 'Descending' AND MaxResults = 100"
        )
    )
