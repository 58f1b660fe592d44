"""A select item holding a query keeps the name DuckDB gives the user's text
(``plan.rewrite.keep_subquery_names``): the planner's rewrites (a view expanded, a condition
every row meets left out) no longer show in the header."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from stackql_tuning.plan.rewrite import duckdb_name, keep_subquery_names


@pytest.mark.parametrize(
    "item",
    [
        "(SELECT count(*) FROM t WHERE x = 'a')",
        "x IN (SELECT 'x')",
        "x NOT IN (SELECT 'x')",
        "EXISTS (SELECT 1)",
        "(SELECT max(n) + 1 FROM t WHERE n > 2)",
        "(SELECT count(*) FROM t WHERE x IN (SELECT 'a'))",
        "n + (SELECT 1)",
    ],
)
def test_the_name_is_duckdbs_own_for_the_text(item: str) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR, n INTEGER)")
    own = con.execute(f"SELECT {item} FROM t").description[0][0]
    tree = keep_subquery_names(sqlglot.parse_one(f"SELECT {item} FROM t", read="duckdb"))
    [named] = tree.expressions
    assert named.alias == own == duckdb_name(sqlglot.parse_one(item, read="duckdb"))


def test_only_unaliased_items_holding_a_query_are_named() -> None:
    sql = "SELECT (SELECT 1) AS one, 1 + 1, x, t.*, (SELECT 2) FROM t"
    tree = keep_subquery_names(sqlglot.parse_one(sql, read="duckdb"))
    assert [e.alias for e in tree.expressions] == ["one", "", "", "", "(SELECT 2)"]


def test_a_view_in_a_scalar_subquery_keeps_the_users_header() -> None:
    from stackql_tuning.plan.views import expand_views
    from stackql_tuning.registry.loader import Registry
    from stackql_tuning.sql import parse_one

    sql = "SELECT (SELECT count(*) FROM unified.tuning.jobs WHERE provider = 'aws') FROM t"
    tree = expand_views(keep_subquery_names(parse_one(sql).expression), Registry())
    [item] = tree.expressions
    assert item.alias == ("(SELECT count_star() FROM unified.tuning.jobs WHERE (provider = 'aws'))")
