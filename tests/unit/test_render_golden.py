"""Golden files for every output format: tests/golden/render/<case>.<format>.

Regenerate with ``STACKQL_TUNING_UPDATE_GOLDEN=1 pytest tests/unit/test_render_golden.py`` and
review the diff.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from stackql_tuning.render import FORMATS, render
from stackql_tuning.result import Result

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "render"
UPDATE = os.environ.get("STACKQL_TUNING_UPDATE_GOLDEN") == "1"
PLUS2 = timezone(timedelta(hours=2))

MIXED = Result(
    columns=[
        "displayName",
        "state",
        "trialCount",
        "bestScore",
        "cost",
        "enableSpot",
        "createTime",
        "studySpec",
        "labels",
        "tags",
        "resources",
    ],
    types=[
        "VARCHAR",
        "VARCHAR",
        "INTEGER",
        "DOUBLE",
        "DECIMAL(18,3)",
        "BOOLEAN",
        "TIMESTAMP WITH TIME ZONE",
        "JSON",
        "JSON",
        "VARCHAR[]",
        "STRUCT(cpu INTEGER, gpu VARCHAR)",
    ],
    rows=[
        (
            "tune-alpha",
            "JOB_STATE_RUNNING",
            12,
            0.9375,
            Decimal("12.500"),
            True,
            datetime(2026, 11, 22, 12, 0, tzinfo=PLUS2),
            '{"algorithm": "RANDOM_SEARCH", "metrics": [{"metricId": "auc", "goal": "MAXIMIZE"}]}',
            '["a","b"]',
            ["x", "y"],
            {"cpu": 4, "gpu": None},
        ),
        (
            "résumé 日本語 🚀",
            "JOB_STATE_FAILED",
            None,
            1e16,
            Decimal("0.001"),
            False,
            datetime(2026, 11, 22, 10, 0, 0, 250000, tzinfo=UTC),
            "{}",
            "[]",
            [],
            {"cpu": 1, "gpu": "T4"},
        ),
        (
            'pipe|comma,"quote"\nnewline\ttab\\back',
            None,
            0,
            float("nan"),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        (
            "tiny",
            "JOB_STATE_SUCCEEDED",
            -3,
            1.5e-7,
            Decimal("-7.250"),
            True,
            None,
            "null",
            "3",
            None,
            None,
        ),
    ],
)

SCALARS = Result(
    columns=[
        "id",
        "day",
        "at",
        "span",
        "blob",
        "huge",
        "counts",
        "naive",
        "tzText",
        "badJson",
        "bigJson",
    ],
    types=[
        "UUID",
        "DATE",
        "TIME",
        "INTERVAL",
        "BLOB",
        "HUGEINT",
        "MAP(VARCHAR, INTEGER)",
        "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE",
        "JSON",
        "JSON",
    ],
    rows=[
        (
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            date(2026, 11, 22),
            time(9, 30, 15),
            timedelta(days=3, hours=4, seconds=6, microseconds=500000),
            b"ab\x00\xff\\",
            2**70,
            {"k": 2, "z": 0},
            datetime(2026, 11, 22, 10, 0),
            "2026-01-01 10:00:00+02",
            "not json {",
            '{"id": 123456789012345678901234567890, "x": 1.25}',
        ),
        (None,) * 11,
    ],
)

LONG = Result(
    columns=["name", "description", "id", "payload"],
    types=["VARCHAR", "VARCHAR", "BIGINT", "JSON"],
    rows=[
        (
            "short",
            "A long description of a hyperparameter tuning job that goes on and on "
            "well past what fits in sixty columns",
            1,
            '{"studySpec": {"algorithm": "GRID_SEARCH", "parameters": ["learning_rate", "batch"]}}',
        ),
        ("wide 日本語のとても長い名前です", "x", 9007199254740993, "[1,2,3]"),
        ("escape\x1b[31mred", None, None, None),
    ],
)

EMPTY = Result(columns=["name", "count"], types=["VARCHAR", "BIGINT"], rows=[])
NOCOLS = Result(columns=[], types=[], rows=[])

#: case -> (result, table width)
CASES: dict[str, tuple[Result, int]] = {
    "mixed": (MIXED, 160),
    "mixed_narrow": (MIXED, 60),
    "scalars": (SCALARS, 200),
    "long": (LONG, 60),
    "empty": (EMPTY, 60),
    "nocols": (NOCOLS, 60),
}


def _render(case: str, fmt: str) -> str:
    result, width = CASES[case]
    out = io.StringIO()
    render(result, fmt, out, width=width)
    return out.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_golden(case: str, fmt: str) -> None:
    if case == "mixed_narrow" and fmt != "table":
        pytest.skip("width only matters to table")
    path = GOLDEN / f"{case}.{fmt}"
    text = _render(case, fmt)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert path.exists(), f"missing golden file {path}; run with STACKQL_TUNING_UPDATE_GOLDEN=1"
    assert text == path.read_bytes().decode("utf-8")


def test_hide_headers_golden() -> None:
    for fmt in ("csv", "text", "table"):
        path = GOLDEN / f"mixed_noheader.{fmt}"
        out = io.StringIO()
        render(MIXED, fmt, out, hide_headers=True, width=160)
        if UPDATE:
            path.write_text(out.getvalue(), encoding="utf-8", newline="")
        assert out.getvalue() == path.read_bytes().decode("utf-8")
