"""Outer joins whose padded rows the query drops are run as the joins they are (pure)."""

from __future__ import annotations

import pytest
from sqlglot import exp

from stackql_tuning.plan.outer_joins import inner_where_padding_drops
from stackql_tuning.sql import parse_one


def _sides(sql: str) -> list[str]:
    tree = inner_where_padding_drops(parse_one(sql).expression)
    return [(j.side or "INNER").upper() for j in tree.find_all(exp.Join)]


@pytest.mark.parametrize(
    ("sql", "sides"),
    [
        # the WHERE compares the padded side's column: no padded row passes it
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE l.r = 'x'", ["INNER"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE l.r IS NOT NULL", ["INNER"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE l.n > 3 AND s.a = 1", ["INNER"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE l.r IN ('x', 'y')", ["INNER"]),
        ("SELECT 1 FROM s LEFT JOIN (VALUES ('x')) l(r) ON s.r = l.r WHERE l.r <> 'y'", ["INNER"]),
        # a later inner join's ON compares it
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r JOIN m ON m.r = l.r", ["INNER", "INNER"]),
        ("SELECT 1 FROM l RIGHT JOIN s ON s.r = l.r WHERE l.r = 'x'", ["INNER"]),
        ("SELECT 1 FROM s FULL JOIN l ON s.r = l.r WHERE l.r = 'x'", ["RIGHT"]),
        ("SELECT 1 FROM s FULL JOIN l ON s.r = l.r WHERE s.r = 'x'", ["LEFT"]),
        ("SELECT 1 FROM s FULL JOIN l ON s.r = l.r WHERE s.r = 'x' AND l.r = 'x'", ["INNER"]),
        # a NULL may pass these: the join stays
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE l.r IS NULL", ["LEFT"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE coalesce(l.r, 'x') = 'x'", ["LEFT"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE l.r = 'x' OR s.a = 1", ["LEFT"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE (l.r = 'x' OR l.r = 'y')", ["INNER"]),
        (
            "SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE (l.r = 'x' AND s.a = 1) OR l.n > 2",
            ["INNER"],
        ),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE l.r IS DISTINCT FROM 'x'", ["LEFT"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE s.r = 'x'", ["LEFT"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r AND l.r = 'x'", ["LEFT"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r WHERE NOT l.r IN (SELECT 1)", ["LEFT"]),
        ("SELECT 1 FROM s LEFT JOIN l ON s.r = l.r LEFT JOIN m ON m.r = l.r", ["LEFT", "LEFT"]),
    ],
)
def test_an_outer_join_is_inner_only_where_its_padded_rows_are_dropped(
    sql: str, sides: list[str]
) -> None:
    assert _sides(sql) == sides


def test_each_scope_reads_its_own_where() -> None:
    sql = (
        "SELECT 1 FROM (SELECT * FROM s LEFT JOIN l ON s.r = l.r WHERE l.r = 'x') q "
        "LEFT JOIN m ON m.k = q.k"
    )
    assert _sides(sql) == ["LEFT", "INNER"]
