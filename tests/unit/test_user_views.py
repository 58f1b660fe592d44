"""The user's live views (``plan.user_views``): pure expansion, name resolution, planning."""

from __future__ import annotations

import pytest
from sqlglot import exp

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.select import plan_query
from stackql_tuning.plan.user_views import (
    USER_VIEW,
    UserView,
    UserViews,
    candidate_key,
    expand_user_views,
    mentions,
    reads_provider,
    view_definition,
)
from stackql_tuning.plan.views import expand_views
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.sql import parse_one

REG = default_registry()
SM = "aws.sagemaker.hyper_parameter_tuning_jobs"


def view(name: str, sql: str, **kw: object) -> UserView:
    return UserView(name=name, query=parse_one(sql).expression, **kw)  # type: ignore[arg-type]


def views(*vs: UserView) -> UserViews:
    return {v.key: v for v in vs}


def expand(sql: str, vs: UserViews) -> exp.Expr:
    return expand_user_views(parse_one(sql).expression, vs)


def tables(tree: exp.Expr) -> list[str]:
    return sorted(".".join(p.name for p in t.parts) for t in tree.find_all(exp.Table))


V = view("v", f"SELECT * FROM {SM} WHERE region = 'eu-west-1'")


def test_a_mention_becomes_the_views_query_named_like_the_mention() -> None:
    tree = expand("SELECT count(*) FROM v", views(V))
    [sub] = list(tree.find_all(exp.Subquery))
    assert sub.alias == "v" and sub.meta[USER_VIEW] == "v"
    assert tables(tree) == [SM]
    aliased = expand("SELECT x.region FROM v AS x", views(V))
    assert next(aliased.find_all(exp.Subquery)).alias == "x"


def test_the_stored_query_is_never_changed() -> None:
    before = V.query.sql()
    expand("SELECT * FROM v", views(V)).find(exp.Select).where("1 = 1", copy=False)
    assert V.query.sql() == before


def test_a_column_list_names_the_subquerys_columns() -> None:
    cols = view("c", f"SELECT region, HyperParameterTuningJobName FROM {SM}", columns=("r", "n"))
    sub = next(expand("SELECT r FROM c", views(cols)).find_all(exp.Subquery))
    assert [c.name for c in sub.args["alias"].columns] == ["r", "n"]
    # the mention's own column aliases win
    sub = next(expand("SELECT a FROM c AS t(a, b)", views(cols)).find_all(exp.Subquery))
    assert sub.alias == "t" and [c.name for c in sub.args["alias"].columns] == ["a", "b"]


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        ("SELECT * FROM main.v", True),
        ("SELECT * FROM memory.main.v", True),
        ("SELECT * FROM memory.v", True),
        ("SELECT * FROM other.v", False),
        ("SELECT * FROM vv", False),
        ('SELECT * FROM "V"', True),  # DuckDB's names are case-insensitive
    ],
)
def test_names_resolve_as_duckdb_resolves_them(sql: str, expanded: bool) -> None:
    assert mentions(parse_one(sql).expression, views(V)) is expanded


def test_a_view_in_another_schema_and_a_temporary_one() -> None:
    in_s = view("v", "SELECT 1 AS a", schema="s")
    tmp = view("v", "SELECT 2 AS a", catalog="temp")
    assert not mentions(parse_one("SELECT * FROM v").expression, views(in_s))
    assert mentions(parse_one("SELECT * FROM s.v").expression, views(in_s))
    tree = expand("SELECT * FROM v", views(V, tmp))  # the temporary one first, as in DuckDB
    assert tables(tree) == []


def test_a_cte_of_the_same_name_hides_the_view() -> None:
    tree = expand("WITH v AS (SELECT 1 AS a) SELECT * FROM v", views(V))
    assert tables(tree) == ["v"]
    # inside the CTE's own (non-recursive) body, the name is the view's
    tree = expand("WITH v AS (SELECT * FROM v) SELECT * FROM v", views(V))
    assert tables(tree) == [SM, "v"]


def test_views_over_views_and_every_place_a_query_reads() -> None:
    w = view("w", "SELECT region, count(*) AS n FROM v GROUP BY 1")
    vs = views(V, w)
    for sql in [
        "SELECT * FROM w",
        "SELECT * FROM t JOIN w ON w.region = t.region",
        "SELECT * FROM t WHERE t.region IN (SELECT region FROM w)",
        "WITH x AS (SELECT * FROM w) SELECT * FROM x",
        "CREATE TABLE t2 AS SELECT * FROM w",
        f"INSERT INTO {SM} (region, HyperParameterTuningJobName) SELECT region, 'x' FROM w",
        "COPY (SELECT * FROM w) TO 'out.parquet'",
    ]:
        tree = expand(sql, vs)
        assert SM in tables(tree), sql
        assert "w" not in tables(tree) and "v" not in tables(tree), sql


def test_written_tables_are_not_expanded() -> None:
    for sql in [
        "DROP VIEW v",
        "INSERT INTO v SELECT 1",
        "CREATE TABLE v AS SELECT 1",
        "DELETE FROM v",
    ]:
        assert not mentions(parse_one(sql).expression, views(V)), sql


def test_a_view_that_reads_itself_is_an_error() -> None:
    loop = view("a", "SELECT * FROM b"), view("b", "SELECT * FROM a")
    with pytest.raises(PlanError, match="read each other more than 64 levels"):
        expand("SELECT * FROM a", views(*loop))


def test_reads_provider() -> None:
    assert reads_provider(parse_one(f"SELECT * FROM {SM}").expression, {}, REG)
    assert reads_provider(parse_one("SELECT * FROM unified.tuning.jobs").expression, {}, REG)
    assert reads_provider(parse_one("SELECT * FROM v").expression, views(V), REG)
    assert not reads_provider(parse_one("SELECT * FROM t JOIN u USING (a)").expression, {}, REG)
    with pytest.raises(PlanError):
        reads_provider(parse_one("SELECT * FROM aws.sagemaker.nope").expression, {}, REG)


def test_view_definition() -> None:
    node = parse_one("CREATE OR REPLACE VIEW main.v(a, b) AS SELECT 1, 2").expression
    found = view_definition(node)
    assert found is not None
    name, _query, columns = found
    assert (name.db, name.name, columns) == ("main", "v", ("a", "b"))
    assert candidate_key(name, temporary=False) == ("memory", "main", "v")
    assert view_definition(parse_one("CREATE TABLE t AS SELECT 1").expression) is None
    assert view_definition(parse_one("SELECT 1").expression) is None


def _plan(sql: str, vs: UserViews) -> None:
    tree = expand_views(expand_user_views(parse_one(sql).expression, vs), REG)
    plan_query(tree, REG, defaults={"region": ["us-east-1"]})


def test_an_outer_region_filter_is_the_plan_error_of_a_cte() -> None:
    star = view("myv", f"SELECT * FROM {SM}")
    with pytest.raises(PlanError) as e:
        _plan("SELECT count(*) FROM myv WHERE region = 'eu-west-1'", views(star))
    assert "read through the view myv" in e.value.message
    assert "CREATE OR REPLACE VIEW myv" in (e.value.hint or "")
    _plan("SELECT count(*) FROM v", views(V))  # its own WHERE binds the region


def test_the_views_bindings_plan_the_calls() -> None:
    both = view("both", f"SELECT * FROM {SM} WHERE region IN ('us-east-1', 'eu-west-1')")
    tree = expand_views(
        expand_user_views(parse_one("SELECT * FROM both").expression, views(both)), REG
    )
    plan = plan_query(tree, REG)
    [slot] = plan.slots
    assert sorted(slot.static["region"]) == ["eu-west-1", "us-east-1"]


def test_a_views_query_is_expanded_in_its_own_scope_not_the_statements() -> None:
    a = view("a", f"SELECT HyperParameterTuningJobName AS n FROM {SM} WHERE region = 'eu-west-1'")
    b = view("b", "SELECT * FROM a")
    tree = expand("WITH a AS (SELECT 'x' AS n) SELECT count(*), min(n) FROM b", views(a, b))
    # b's `a` is the view a, not the statement's CTE a
    assert SM in tables(tree)
    sub = next(s for s in tree.find_all(exp.Subquery) if s.alias == "b")
    assert SM in tables(sub)


def test_an_outer_cte_named_like_a_table_the_view_reads_is_renamed() -> None:
    v = view("v", f"SELECT * FROM {SM} WHERE region = 'eu-west-1' AND x IN (SELECT s FROM wanted)")
    tree = expand(
        "WITH wanted AS (SELECT 'c' AS s) SELECT count(*) FROM v, wanted WHERE wanted.s = 'c'",
        views(v),
    )
    sql = tree.sql(dialect="duckdb")
    assert "WITH wanted__cte1 AS" in sql
    assert "AS v, wanted__cte1 AS wanted WHERE wanted.s = 'c'" in sql  # its own references
    assert "(SELECT s FROM wanted)" in sql  # the view's reads the table


def test_a_resolver_decides_which_names_are_views() -> None:
    # the run side asks DuckDB: a temporary table of that name comes first, for instance
    tree = expand("SELECT * FROM v", lambda node: None)
    assert tables(tree) == ["v"]
    asked: list[str] = []

    def resolve(node: exp.Table) -> UserView | None:
        asked.append(node.sql())
        return V if node.name == "v" else None

    tree = expand("WITH c AS (SELECT 1) SELECT * FROM s.v, c", resolve)
    assert tables(tree) == [SM, "c"] and asked[0] == "s.v" and "c" not in asked  # a CTE: not asked


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("COPY v TO 'x.csv'", "COPY (SELECT * FROM (SELECT"),
        ("SUMMARIZE v", "SUMMARIZE SELECT * FROM (SELECT"),
        ("SELECT main.v.region FROM main.v", "SELECT v.region FROM (SELECT"),
        ("SELECT memory.main.v.region FROM memory.main.v", "SELECT v.region FROM (SELECT"),
    ],
)
def test_where_a_table_name_cannot_be_a_subquery(sql: str, expected: str) -> None:
    assert expand(sql, views(V)).sql(dialect="duckdb").startswith(expected)
