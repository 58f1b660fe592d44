"""A LIMIT over a derived table alone goes into it (``plan.derived_limit``): pure."""

from __future__ import annotations

import pytest

from stackql_tuning.plan.derived_limit import limit_into_derived
from stackql_tuning.sql import parse_one

G = "google.aiplatform.hyperparameter_tuning_jobs"


def rewritten(sql: str) -> str:
    return limit_into_derived(parse_one(sql).expression).sql(dialect="duckdb")


@pytest.mark.parametrize(
    ("sql", "inner"),
    [
        (f"SELECT * FROM (SELECT name FROM {G}) s LIMIT 3", f"(SELECT name FROM {G} LIMIT 3)"),
        (f"SELECT upper(s.name) AS n FROM (SELECT name FROM {G}) s LIMIT 3 OFFSET 2", "LIMIT 5)"),
        # a CTE read once
        (f"WITH s AS (SELECT name FROM {G}) SELECT * FROM s LIMIT 3", "LIMIT 3)"),
        # its own LIMIT when smaller stays; a larger one (under an ORDER BY) gets smaller
        (f"SELECT * FROM (SELECT name FROM {G} LIMIT 2) s LIMIT 3", "LIMIT 2)"),
        (f"SELECT * FROM (SELECT name FROM {G} ORDER BY name LIMIT 9) s LIMIT 3", "LIMIT 3)"),
        # through every level
        (f"SELECT * FROM (SELECT * FROM (SELECT name FROM {G}) a) b LIMIT 3", f"{G} LIMIT 3)"),
    ],
)
def test_the_limit_goes_into_the_derived_table(sql: str, inner: str) -> None:
    assert inner in rewritten(sql)


@pytest.mark.parametrize(
    "sql",
    [
        # the outer SELECT filters, groups, sorts, numbers or multiplies the rows
        f"SELECT * FROM (SELECT name FROM {G}) s WHERE name LIKE 'a%' LIMIT 3",
        f"SELECT count(*) FROM (SELECT name FROM {G}) s LIMIT 3",
        f"SELECT DISTINCT name FROM (SELECT name FROM {G}) s LIMIT 3",
        f"SELECT * FROM (SELECT name FROM {G}) s ORDER BY name LIMIT 3",
        f"SELECT name, row_number() OVER () FROM (SELECT name FROM {G}) s LIMIT 3",
        f"SELECT unnest([1, 2]) FROM (SELECT name FROM {G}) s LIMIT 3",
        f"SELECT histogram(name) FROM (SELECT name FROM {G}) s LIMIT 3",
        f"SELECT * FROM (SELECT name FROM {G}) s, (SELECT 1) t LIMIT 3",
        # a CTE read twice, or by another CTE; a union; an OFFSET of its own
        f"WITH s AS (SELECT name FROM {G}) SELECT * FROM s UNION ALL SELECT * FROM s LIMIT 3",
        f"WITH s AS (SELECT name FROM {G}), t AS (SELECT count(*) FROM s) SELECT * FROM s LIMIT 3",
        f"SELECT * FROM (SELECT name FROM {G} UNION ALL SELECT 'x') s LIMIT 3",
        f"SELECT * FROM (SELECT name FROM {G} LIMIT 9 OFFSET 1) s LIMIT 3",
        f"SELECT * FROM (SELECT name FROM {G}) s LIMIT 10%",
    ],
)
def test_the_limit_stays_outside_where_the_rows_are_not_the_derived_tables(sql: str) -> None:
    before = parse_one(sql).expression.sql(dialect="duckdb")
    assert rewritten(sql) == before
