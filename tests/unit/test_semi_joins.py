"""``param IN (SELECT ...)`` as a binding SEMI JOIN, and a view's tentative copy of one."""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

from stackql_tuning.errors import PlanError
from stackql_tuning.plan.bindings import LOCAL_IN, TENTATIVE
from stackql_tuning.plan.select import plan_query
from stackql_tuning.plan.semi_joins import in_subqueries_as_semi_joins
from stackql_tuning.plan.views import expand_views
from stackql_tuning.registry.loader import Registry
from stackql_tuning.sql import parse_one

REG = Registry()
HP = "aws.sagemaker.hyper_parameter_tuning_jobs"
TJ = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
GH = "google.aiplatform.hyperparameter_tuning_jobs"
GT = "google.aiplatform.hyperparameter_tuning_job_trials"
NAME = "HyperParameterTuningJobName"
G = "projectsId = 'p' AND locationsId = 'us-central1'"
RUNNING = f"(SELECT {NAME} FROM {HP} WHERE region = 'us-east-1' AND Strategy = 'Bayesian')"


def _describe(sql: str) -> list[str] | None:
    with duckdb.connect() as db:
        try:
            return [row[0] for row in db.sql(f"DESCRIBE {sql}").fetchall()]
        except duckdb.Error as e:
            print(e)
            return None


def _rewritten(sql: str) -> exp.Expr:
    tree = expand_views(parse_one(sql).expression, REG)
    return in_subqueries_as_semi_joins(tree, REG, _describe, lambda name, schema: False)


def _ins(tree: exp.Expr) -> list[exp.In]:
    return [i for i in tree.find_all(exp.In) if isinstance(i.args.get("query"), exp.Subquery)]


def test_an_in_over_a_provider_table_moves_into_the_semi_join_that_binds() -> None:
    # a copy would be a second mention of the jobs table; the IN's place is left true
    tree = _rewritten(f"SELECT 1 FROM {TJ} WHERE region = 'us-east-1' AND {NAME} IN {RUNNING}")
    [join] = tree.args["joins"]
    assert join.kind == "SEMI" and join.this.alias == "in_subquery_1"
    assert _ins(tree) == [] and tree.args["where"].find(exp.Boolean) is not None
    plan = plan_query(tree, REG)
    child = next(s for s in plan.slots if s.resource.id == TJ)
    assert child.dependent["HyperParameterTuningJobName"][0].endswith("AS in_subquery_1")


def test_an_in_over_local_rows_stays_beside_its_semi_join() -> None:
    tree = _rewritten(
        f"SELECT 1 FROM {TJ} WHERE region = 'us-east-1' AND {NAME} IN "
        "(SELECT x FROM (VALUES ('a'), ('b')) v(x))"
    )
    [pred] = _ins(tree)
    assert pred.meta.get(LOCAL_IN) and tree.args["joins"][0].kind == "SEMI"


def test_a_correlated_or_two_column_in_over_a_provider_table_is_left_alone() -> None:
    # DuckDB cannot describe it alone (the provider table stands in as an empty relation)
    for sql in [
        f"SELECT 1 FROM {TJ} t WHERE region = 'us-east-1' AND {NAME} IN "
        f"(SELECT {NAME} FROM {HP} j WHERE j.region = t.region)",
        f"SELECT 1 FROM {TJ} WHERE region = 'us-east-1' AND {NAME} IN "
        f"(SELECT {NAME}, region FROM {HP} WHERE region = 'us-east-1')",
        f"SELECT 1 FROM {TJ} WHERE region = 'us-east-1' AND {NAME} IN "
        f"(SELECT {NAME} FROM {HP} USING SAMPLE 3 WHERE region = 'us-east-1')",
    ]:
        tree = _rewritten(sql)
        assert len(_ins(tree)) == 1 and not tree.args.get("joins"), sql


def test_a_views_param_in_a_subquery_is_a_tentative_copy_in_its_branch() -> None:
    sql = f"SELECT 1 FROM {GT} WHERE {G} AND hyperparameterTuningJobsId IN (SELECT 'x')"
    tree = expand_views(parse_one(sql).expression, REG)
    [outer, copy] = sorted(_ins(tree), key=lambda i: bool(i.meta.get(TENTATIVE)))
    assert copy.meta[TENTATIVE] and copy.this.sql() == "j.hyperparameterTuningJobsId"
    # made a binding: it stays (over rows the statement holds), and the view's table is got
    # for the value alone
    tree = in_subqueries_as_semi_joins(tree, REG, _describe, lambda name, schema: False)
    [slot] = plan_query(tree, REG).slots
    assert "hyperparameterTuningJobsId" in slot.dependent
    # not one (no describe: planned without DuckDB): dropped, the outer IN alone filters
    tree = expand_views(parse_one(sql).expression, REG)
    [slot] = plan_query(tree, REG).slots
    assert not slot.dependent and _ins(tree) == [outer]


def test_a_correlated_view_param_in_is_dropped_from_the_branch() -> None:
    sql = (
        f"SELECT 1 FROM {GT} t WHERE {G} AND hyperparameterTuningJobsId IN "
        "(SELECT x FROM (VALUES ('a')) v(x) WHERE x <> t.trial_id)"
    )
    tree = _rewritten(sql)
    [slot] = plan_query(tree, REG).slots
    assert not slot.dependent and len(_ins(tree)) == 1
    assert not any(i.meta.get(TENTATIVE) for i in _ins(tree))


def test_a_unified_name_in_goes_to_each_branch_with_the_names_of_its_form() -> None:
    # the AWS branch binds its job names with the subquery's values of SageMaker's form
    sql = (
        "SELECT 1 FROM unified.tuning.jobs WHERE location_or_region = 'us-east-1' "
        "AND name IN (SELECT 'a')"
    )
    tree = expand_views(parse_one(sql).expression, REG)
    copies = [i for i in _ins(tree) if i.meta.get(TENTATIVE)]
    assert [c.this.sql() for c in copies] == [f"j.{NAME}"]
    assert "REGEXP_FULL_MATCH" in copies[0].sql(dialect="duckdb")
    # a routed param (one only some branches have) binds nothing by a subquery: the Google
    # branches went unread and the AWS rows (projectsId NULL) failed the IN (0 rows, exit 0)
    with pytest.raises(PlanError, match=r"projectsId of unified.tuning.jobs is constrained by"):
        expand_views(parse_one(f"{sql} AND projectsId IN (SELECT 'p')").expression, REG)


def test_an_outer_column_is_not_read_from_the_semi_joined_mention() -> None:
    # the outer SELECT's unqualified BestTrainingJob is the outer mention's: the subquery's
    # own mention gives only `value`, so it is not got row by row; where the subquery gives
    # a star or that column, or the column is its own, it still counts
    from stackql_tuning.plan.bindings import find_provider_tables
    from stackql_tuning.plan.columns import used_columns

    def inner_reads(sql: str) -> set[str] | None:
        tree = _rewritten(sql)
        refs = find_provider_tables(tree, REG)
        inner = next(r for r in refs if r.scope is not tree)
        return used_columns(tree, inner, refs)

    where = "region = 'us-east-1'"
    best = "besttrainingjob"
    assert best not in (
        inner_reads(f"SELECT BestTrainingJob FROM {HP} WHERE {where} AND {NAME} IN {RUNNING}")
        or {best}
    )
    for sub in [
        f"(SELECT * FROM {HP} WHERE {where})",
        f"(SELECT BestTrainingJob FROM {HP} WHERE {where})",
        f"(SELECT {NAME} FROM {HP} WHERE {where} AND BestTrainingJob IS NULL)",
    ]:
        sql = f"SELECT BestTrainingJob FROM {HP} h, {sub} s WHERE h.{where}"
        assert best in (inner_reads(sql) or {best}), sub


def test_a_view_joined_to_local_rows_gets_a_tentative_in_of_their_values() -> None:
    # `v.col = x.c` that restricts the view's rows, x reading no provider table: the view's
    # branch is asked only for x's values. Not where the join keeps every row of the view
    # (the view on the left of a LEFT JOIN), nor for a partner that is a provider table
    view = "aws.sagemaker.tuning_jobs"

    def tentative(sql: str) -> list[str]:
        tree = expand_views(parse_one(sql).expression, REG)
        return [i.sql() for i in _ins(tree) if i.meta.get(TENTATIVE)]

    picks = "(VALUES ('a')) AS p(name)"
    on = "v.TuningJobName = p.name"
    where = "WHERE v.region = 'us-east-1'"
    [copy] = tentative(f"SELECT 1 FROM {picks} JOIN {view} v ON {on} {where}")
    assert copy.startswith(f"j.{NAME} IN (SELECT p.name FROM (VALUES")
    assert tentative(f"SELECT 1 FROM {view} v LEFT JOIN {picks} ON {on} {where}") == []
    assert tentative(f"SELECT 1 FROM {view} v ANTI JOIN {picks} ON {on} {where}") == []
    partner = f"(SELECT {NAME} AS name FROM {HP} WHERE region = 'us-east-1') p"
    assert tentative(f"SELECT 1 FROM {partner} JOIN {view} v ON {on} {where}") == []


def test_a_tuple_in_binds_its_params_from_one_semi_join() -> None:
    tree = _rewritten(
        f"SELECT 1 FROM {HP} WHERE ({NAME}, region) IN "
        "(SELECT n, r FROM (VALUES ('a', 'x')) v(n, r))"
    )
    [join] = tree.args["joins"]
    assert join.this.alias_column_names == ["value_1", "value_2"] and _ins(tree) == []
    [slot] = plan_query(tree, REG).slots
    assert slot.dependent == {
        NAME: ("subquery AS in_subquery_1", "value_1"),
        "region": ("subquery AS in_subquery_1", "value_2"),
    }


def test_a_star_with_a_pattern_and_a_partial_column_list_read_every_column() -> None:
    # `* LIKE '%'` is every matching column (it counted none: BestTrainingJob came back
    # NULL, never described); a column list renames the first columns only, and a CTE read
    # through another CTE still reads the table
    from stackql_tuning.plan.bindings import find_provider_tables
    from stackql_tuning.plan.columns import used_columns

    def reads(sql: str) -> set[str] | None:
        tree = parse_one(sql).expression
        refs = find_provider_tables(tree, REG)
        return used_columns(tree, refs[0], refs)

    where = "WHERE region = 'eu-west-1'"
    for star in ["* LIKE '%'", "* GLOB '*'", "* SIMILAR TO '.*'"]:
        assert reads(f"SELECT {star} FROM {HP} {where}") is None, star
    best = "besttrainingjob"
    for sql in [
        f"SELECT BestTrainingJob FROM (SELECT {NAME}, BestTrainingJob FROM {HP} {where}) s(a)",
        f"WITH a AS (SELECT * LIKE '%' FROM {HP} {where}), b AS (SELECT * FROM a) "
        "SELECT BestTrainingJob FROM b",
    ]:
        assert best in (reads(sql) or {best}), sql


def test_an_in_duckdb_would_refuse_for_its_types_stays_in_the_where() -> None:
    # moved, `=` casts what IN refuses (`VARCHAR IN (SELECT <BIGINT>)` answered); kept,
    # DuckDB says so. A view's copy of a join is dropped instead
    tree = _rewritten(
        f"SELECT 1 FROM {HP} WHERE region = 'us-east-1' AND AwsAccountId IN "
        f"(SELECT 210987654321 FROM {HP} WHERE region = 'us-east-1')"
    )
    assert len(_ins(tree)) == 1 and tree.args["joins"][0].kind == "SEMI"
    tree = _rewritten(
        "SELECT 1 FROM (VALUES (1)) i(n) JOIN aws.sagemaker.tuning_jobs v "
        "ON v.TuningJobName = i.n WHERE v.region = 'us-east-1'"
    )
    plan_query(tree, REG)
    assert _ins(tree) == []


def test_a_provider_fed_in_does_not_replace_a_join_to_rows_the_statement_holds() -> None:
    # the 4 picked names bind the child lists, not the IN's every job of the region
    tree = _rewritten(
        f"SELECT 1 FROM {TJ} t, (VALUES ('a')) p(name) WHERE p.name = t.{NAME} "
        f"AND t.region = 'us-east-1' AND t.{NAME} IN (SELECT {NAME} FROM {HP} "
        "WHERE region = 'us-east-1')"
    )
    child = next(s for s in plan_query(tree, REG).slots if s.resource.id == TJ)
    assert child.dependent[NAME] == ("values AS p", "name")


def test_a_view_joined_to_a_provider_table_the_statement_cannot_bind_alone_plans_without_the_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the partner h takes its names and regions from picks: a copy of h with its own
    # conditions alone binds nothing, so the plan is made again without it (it was before)
    import stackql_tuning.run.select as run_select
    from stackql_tuning.plan.rewrite import to_duckdb_sql
    from stackql_tuning.session import Session

    dropped: list[exp.Expr] = []
    real = run_select.drop_marked
    monkeypatch.setattr(run_select, "drop_marked", lambda t, k: (dropped.append(t), real(t, k)))
    with Session() as session:
        session.execute("CREATE TABLE picks AS SELECT 'a' AS name, 'us-east-1' AS r")
        sql = (
            f"SELECT p.name, v.TuningJobStatus FROM picks p JOIN {HP} h ON h.{NAME} = p.name "
            f"AND h.region = p.r JOIN aws.sagemaker.tuning_jobs v ON v.TuningJobName = h.{NAME} "
            "WHERE v.region = 'us-east-1'"
        )
        plan = run_select.plan_select(session, parse_one(sql).expression)
    assert dropped and "in_subquery" not in to_duckdb_sql(plan.tree)
    assert len(plan.slots) == 2


def test_no_copy_into_a_view_under_a_sample_taken_before_the_where() -> None:
    # the sample is of the joined rows: with fewer of the view's in them, another sample
    view = "aws.sagemaker.tuning_jobs"
    for tail in ["USING SAMPLE 5 ROWS", ""]:
        sql = (
            f"SELECT 1 FROM {HP} h JOIN {view} v ON v.TuningJobName = h.{NAME} "
            f"AND v.region = h.region WHERE h.region = 'us-east-1' {tail}"
        )
        tree = expand_views(parse_one(sql).expression, REG)
        copies = [i for i in _ins(tree) if i.meta.get(TENTATIVE)]
        assert len(copies) == (0 if tail else 1), tail


def test_a_mention_on_the_right_of_a_semi_join_gives_its_subquery_no_column() -> None:
    # the view's `SEMI JOIN (SELECT h.name ... FROM h)` made h describe every job for the
    # view's own BestTrainingJob
    from stackql_tuning.plan.bindings import find_provider_tables
    from stackql_tuning.plan.columns import used_columns

    sql = (
        f"SELECT v.BestTrainingJob FROM (SELECT j.BestTrainingJob FROM {HP} j SEMI JOIN "
        f"(SELECT h.{NAME} FROM {HP} h WHERE h.region = 'r') s ON j.{NAME} = s.{NAME} "
        f"WHERE j.region = 'r' AND EXISTS (SELECT 1 FROM {TJ} t WHERE t.region = 'r')) v"
    )
    tree = parse_one(sql).expression
    refs = find_provider_tables(tree, REG)
    reads = {r.alias: used_columns(tree, r, refs) for r in refs}
    assert "besttrainingjob" in (reads["j"] or {"besttrainingjob"})
    assert "besttrainingjob" not in (reads["h"] or {"besttrainingjob"})


def test_an_enum_literal_is_checked_in_every_mention_of_a_shared_slot() -> None:
    # two mentions read alike share one fetch, and kept no conditions of their own: a typo
    # on one of them gave no row and no error
    from stackql_tuning.errors import PlanError
    from stackql_tuning.plan.pushdown import check_literals

    sql = (
        f"SELECT a.{NAME} FROM {HP} a JOIN {HP} b ON a.{NAME} = b.{NAME} "
        "WHERE a.region = 'r' AND b.region = 'r' AND b.Strategy = 'Bayesain'"
    )
    plan = plan_query(parse_one(sql).expression, REG)
    assert len(plan.slots) == 1
    with pytest.raises(PlanError, match="'Bayesain' is not a value of"):
        check_literals(plan)
