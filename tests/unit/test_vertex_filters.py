"""The Vertex list filter subset: parsing, semantics, precedence and errors (no I/O)."""

from __future__ import annotations

import pytest

from stackql_tuning.sandbox.vertex.clock import parse_rfc3339, rfc3339
from stackql_tuning.sandbox.vertex.errors import ApiError
from stackql_tuning.sandbox.vertex.filters import parse_filter

STATES = ["JOB_STATE_RUNNING", "JOB_STATE_FAILED", "JOB_STATE_SUCCEEDED"]
VIEW = {
    "state": "JOB_STATE_RUNNING",
    "display_name": "xgb-churn-hpt-2026-11-03",
    "create_time": parse_rfc3339("2026-11-03T10:00:00Z"),
    "update_time": None,
    "start_time": None,
    "end_time": None,
    "labels": {"team": "growth", "env": "prod"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("state=JOB_STATE_RUNNING", True),
        ('state="JOB_STATE_FAILED"', False),
        ("state!=JOB_STATE_FAILED", True),
        ('display_name="xgb-churn-hpt-2026-11-03"', True),
        ('displayName:"xgb-*"', True),
        ('display_name:"*-2026-11-*"', True),
        ('display_name:"resnet*"', False),
        ("display_name:churn", True),
        ('create_time>"2026-11-01T00:00:00Z"', True),
        ("create_time<=2026-11-03T10:00:00Z", True),
        ("createTime<2026-11-03T09:59:59.999999999Z", False),
        ("end_time>2020-01-01T00:00:00Z", False),
        ("end_time!=2020-01-01T00:00:00Z", True),
        ("labels.team=growth", True),
        ('labels.team="risk"', False),
        ("labels.env:*", True),
        ("labels.owner:*", False),
        ("labels:team", True),
        ("labels.team!=risk", True),
        ("NOT labels.team=growth", False),
        ("-state=JOB_STATE_RUNNING", False),
        ("state=JOB_STATE_FAILED OR labels.team=growth", True),
        ("state=JOB_STATE_RUNNING AND labels.team=risk", False),
        ("state=JOB_STATE_RUNNING labels.team=growth", True),
        # OR binds tighter than AND (AIP-160): a AND (b OR c)
        ("state=JOB_STATE_FAILED AND labels.team=growth OR labels.env=prod", False),
        ("(state=JOB_STATE_FAILED AND labels.team=growth) OR labels.env=prod", True),
        ("NOT (state=JOB_STATE_FAILED OR state=JOB_STATE_SUCCEEDED)", True),
    ],
)
def test_filter_semantics(text: str, expected: bool) -> None:
    pred = parse_filter(text, STATES)
    assert pred is not None
    assert pred(VIEW) is expected


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_filter_is_no_filter(text: str | None) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("colour=red", "unsupported field 'colour'"),
        ("state=JOB_STATE_BOGUS", "is not a state"),
        ("state<JOB_STATE_RUNNING", "does not support '<'"),
        ("create_time>yesterday", "RFC 3339"),
        ("(state=JOB_STATE_RUNNING", "missing ')'"),
        ('display_name="open', "unterminated string"),
        ("state=", "unexpected end"),
        ("labels.team>a", "does not support"),
    ],
)
def test_filter_errors_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_filter(text, STATES)
    assert info.value.code == 400
    assert info.value.status == "INVALID_ARGUMENT"
    assert needle in info.value.message


def test_timestamps_round_trip() -> None:
    t = parse_rfc3339("2026-11-03T09:12:33.713285Z")
    assert rfc3339(t) == "2026-11-03T09:12:33.713285Z"
    assert parse_rfc3339("2026-11-03T10:12:33.713285123+01:00") == pytest.approx(t)
