"""The emulator's partial responses (the ``fields`` system parameter): Google's mask syntax."""

from __future__ import annotations

import pytest

from stackql_tuning.sandbox.vertex.errors import ApiError
from stackql_tuning.sandbox.vertex.fieldmask import apply_mask, parse_mask

PAGE = {
    "hyperparameterTuningJobs": [
        {"name": "a", "state": "S", "studySpec": {"algorithm": "GRID", "metrics": [1]}},
        {"name": "b", "studySpec": {"algorithm": "RANDOM"}},
    ],
    "nextPageToken": "t",
}


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        (
            "hyperparameterTuningJobs(name,state),nextPageToken",
            {
                "hyperparameterTuningJobs": [{"name": "a", "state": "S"}, {"name": "b"}],
                "nextPageToken": "t",
            },
        ),
        (
            "hyperparameterTuningJobs/studySpec/algorithm",
            {
                "hyperparameterTuningJobs": [
                    {"studySpec": {"algorithm": "GRID"}},
                    {"studySpec": {"algorithm": "RANDOM"}},
                ]
            },
        ),
        ("nextPageToken,missing", {"nextPageToken": "t"}),
        (
            "hyperparameterTuningJobs(name),hyperparameterTuningJobs(state)",
            {"hyperparameterTuningJobs": [{"name": "a", "state": "S"}, {"name": "b"}]},
        ),
        ("*", PAGE),
        (
            "hyperparameterTuningJobs(*)",
            {"hyperparameterTuningJobs": PAGE["hyperparameterTuningJobs"]},
        ),
    ],
)
def test_a_mask_keeps_what_it_selects(mask: str, expected: dict) -> None:
    assert apply_mask(PAGE, parse_mask(mask)) == expected


@pytest.mark.parametrize("mask", ["", "a,", "a(b", "a)b", "a//b", "a b", "(a)", "a(b))"])
def test_a_malformed_mask_is_invalid_argument(mask: str) -> None:
    with pytest.raises(ApiError) as e:
        parse_mask(mask)
    assert e.value.code == 400 and "Invalid field selection" in e.value.message
