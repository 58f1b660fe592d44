"""The table format: width fitting and truncation (stackql_tuning.render.table, .width)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from stackql_tuning.render import render
from stackql_tuning.render.table import MIN_COLUMN_WIDTH, fit_widths
from stackql_tuning.render.width import display_width, truncate
from stackql_tuning.result import Result


def test_truncate() -> None:
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("日本語", 4) == "日…"
    assert truncate("日本語", 5) == "日本…"
    assert truncate("abc", 0) == ""
    assert display_width("日本語") == 6
    assert display_width("e\u0301") == 1


def test_fit_widths_shrinks_widest_first() -> None:
    assert fit_widths([5, 40, 10], 100) == [5, 40, 10]
    assert fit_widths([5, 40, 10], 30) == [5, 15, 10]
    assert fit_widths([5, 40, 30], 30) == [5, 13, 12]
    assert sum(fit_widths([50, 50, 50], 61)) == 61


def test_fit_widths_keeps_numbers_when_possible() -> None:
    assert fit_widths([16, 40], 30, keep=[True, False]) == [16, 14]
    assert fit_widths([16, 40], 10, keep=[True, False]) == [5, 5]


def test_fit_widths_floor() -> None:
    assert fit_widths([10, 10, 2], 1) == [MIN_COLUMN_WIDTH, MIN_COLUMN_WIDTH, 2]


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(text, min_size=1, max_size=5).flatmap(
        lambda cols: st.tuples(
            st.just(cols),
            st.lists(st.tuples(*[text for _ in cols]), max_size=4),
            st.integers(min_value=10, max_value=120),
        )
    )
)
def test_lines_fit_the_width(case: tuple[list[str], list[tuple[str, ...]], int]) -> None:
    columns, rows, width = case
    out = io.StringIO()
    result = Result(columns=columns, types=["VARCHAR"] * len(columns), rows=list(rows))
    render(result, "table", out, width=width)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(rows) + 4
    widths = {display_width(line) for line in lines}
    assert len(widths) == 1, "every line has the same width"
    floor = len(columns) * (MIN_COLUMN_WIDTH + 3) + 1
    assert widths.pop() <= max(width, floor)
