"""Value rules shared by all output formats (stackql_tuning.render.cell)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stackql_tuning.render.cell import (
    format_datetime,
    format_float,
    format_interval,
    is_json_type,
    is_numeric_type,
    json_cell,
    text_cell,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (3.0, "3.0"),
        (0.1, "0.1"),
        (1e16, "10000000000000000.0"),
        (1.5e-7, "0.00000015"),
        (123456789.125, "123456789.125"),
        (1e21, "1e+21"),
        (1e-8, "1e-08"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
    ],
)
def test_format_float(value: float, text: str) -> None:
    assert format_float(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_float_round_trips(value: float) -> None:
    assert float(format_float(value)) == value


def test_format_datetime() -> None:
    plus2 = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2026, 11, 22, 12, 0, tzinfo=plus2)) == "2026-11-22T10:00:00Z"
    assert format_datetime(datetime(2026, 11, 22, 10, 0, 0, 5, tzinfo=UTC)) == (
        "2026-11-22T10:00:00.000005Z"
    )
    assert format_datetime(datetime(2026, 11, 22, 10, 0)) == "2026-11-22T10:00:00"
    assert format_datetime(datetime(2026, 11, 22, 10, 0), assume_utc=True) == (
        "2026-11-22T10:00:00Z"
    )


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(days=3), "P3D"),
        (timedelta(hours=1, minutes=2, seconds=3), "PT1H2M3S"),
        (timedelta(seconds=1, microseconds=500000), "PT1.5S"),
        (timedelta(seconds=-1), "-PT1S"),
    ],
)
def test_format_interval(delta: timedelta, text: str) -> None:
    assert format_interval(delta) == text


def test_type_predicates() -> None:
    for t in ("INTEGER", "BIGINT", "DOUBLE", "DECIMAL(18,3)", "hugeint", "UBIGINT"):
        assert is_numeric_type(t), t
    for t in ("VARCHAR", "INTEGER[]", "JSON", "TIMESTAMP", "", None):
        assert not is_numeric_type(t), t
    assert is_json_type("JSON") and is_json_type("json")
    assert not is_json_type("JSON[]") and not is_json_type("VARCHAR")


def test_json_column_is_embedded() -> None:
    assert json_cell('{"a": [1, 2]}', "JSON") == {"a": [1, 2]}
    assert json_cell('{"a": [1, 2]}', "VARCHAR") == '{"a": [1, 2]}'
    assert text_cell('{"a": [1, 2]}', "JSON") == '{"a":[1,2]}'
    assert json_cell("not json", "JSON") == "not json"
    assert text_cell("not json", "JSON") == "not json"


def test_json_column_big_integer_is_exact() -> None:
    big = 123456789012345678901234567890
    value = json_cell(f'{{"id": {big}}}', "JSON")
    assert orjson.dumps(value) == f'{{"id":{big}}}'.encode()


def test_nulls() -> None:
    for t in ("VARCHAR", "JSON", "DOUBLE", "TIMESTAMP WITH TIME ZONE"):
        assert json_cell(None, t) is None
        assert text_cell(None, t) == ""


def test_scalars() -> None:
    assert text_cell(True, "BOOLEAN") == "true" and json_cell(False, "BOOLEAN") is False
    assert orjson.dumps(json_cell(Decimal("1.500"), "DECIMAL(18,3)")) == b"1.500"
    assert orjson.dumps(json_cell(2**70, "HUGEINT")) == str(2**70).encode()
    assert json_cell(float("nan"), "DOUBLE") is None
    assert json_cell(date(2026, 1, 2), "DATE") == "2026-01-02"
    u = uuid.UUID(int=1)
    assert text_cell(u, "UUID") == str(u)
    assert text_cell(b"a\x00\\", "BLOB") == "a\\x00\\x5C"
    assert text_cell({"a": [1, None]}, "STRUCT(a INTEGER[])") == '{"a":[1,null]}'
    assert text_cell({1: "x"}, "MAP(INTEGER, VARCHAR)") == '{"1":"x"}'
    when = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert json_cell({"t": when}, "STRUCT(t TIMESTAMPTZ)") == {"t": "2026-01-01T10:00:00Z"}


def test_timestamptz_column_without_tzinfo_is_utc() -> None:
    naive = datetime(2026, 1, 1, 10)
    assert text_cell(naive, "TIMESTAMP WITH TIME ZONE") == "2026-01-01T10:00:00Z"
    assert text_cell(naive, "TIMESTAMP") == "2026-01-01T10:00:00"
    assert text_cell("2026-01-01 10:00:00+02", "TIMESTAMP WITH TIME ZONE") == (
        "2026-01-01T08:00:00Z"
    )
    assert text_cell("someday", "TIMESTAMP WITH TIME ZONE") == "someday"
