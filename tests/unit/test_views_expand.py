"""View expansion rules (pure, over the shipped registry): params flow in, routed params move,
contradicted branches drop, unused columns are pruned; and the view doc pages."""

from __future__ import annotations

import json

import pytest
from sqlglot import exp

from stackql_tuning.plan.bindings import table_resource_id
from stackql_tuning.plan.views import expand_views
from stackql_tuning.registry.docs import resource_page
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.sql import parse_one

REG = default_registry()
UNIFIED = "unified.tuning.jobs"


def expand(sql: str) -> exp.Expr:
    return expand_views(parse_one(sql).expression, REG)


def tables(tree: exp.Expr) -> list[str]:
    return sorted(
        rid for t in tree.find_all(exp.Table) if (rid := table_resource_id(t)) is not None
    )


def branches(tree: exp.Expr) -> list[exp.Select]:
    """The branches of the (innermost) subquery that a view became."""
    views = [s for s in tree.find_all(exp.Subquery) if s.meta.get("stackql_view")]
    innermost = [
        s for s in views if not any(v is not s for v in s.find_all(exp.Subquery) if v in views)
    ]
    sub = innermost[-1]
    out, stack = [], [sub.this]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Union):
            stack += [node.right, node.left]
        else:
            out.append(node)
    return out


def test_a_constant_predicate_drops_the_branches_it_contradicts() -> None:
    aws = expand(f"SELECT name FROM {UNIFIED} WHERE provider = 'aws' AND region = 'r'")
    assert tables(aws) == ["aws.sagemaker.hyper_parameter_tuning_jobs"]
    google = expand(f"SELECT name FROM {UNIFIED} WHERE provider IN ('google') AND kind = 'x'")
    assert tables(google) == []  # every branch contradicted: an empty typed relation
    sup = expand(f"SELECT name FROM {UNIFIED} WHERE kind = 'supervised'")
    assert tables(sup) == ["google.aiplatform.tuning_jobs"]
    both = expand(f"SELECT name FROM {UNIFIED} WHERE provider IN ('aws', 'google')")
    assert len(tables(both)) == 3


def test_a_name_of_another_kind_of_job_drops_the_branch() -> None:
    # a Vertex HPT job's name keeps no row of the supervised tuning jobs' branch (it was
    # skipped with a warning that it lacked its parameters), nor of SageMaker's (whose names
    # have no '/': it listed the default region)
    hpt = "projects/p/locations/l/hyperparameterTuningJobs/1"
    tree = expand(f"SELECT name FROM {UNIFIED} WHERE name = '{hpt}'")
    assert tables(tree) == ["google.aiplatform.hyperparameter_tuning_jobs"]
    sup = "projects/p/locations/l/tuningJobs/2"
    either = expand(f"SELECT name FROM {UNIFIED} WHERE name IN ('{hpt}', '{sup}')")
    assert {"google.aiplatform.tuning_jobs", "google.aiplatform.hyperparameter_tuning_jobs"} <= set(
        tables(either)
    )
    # a SageMaker job's name is no Vertex job's
    sm = expand(f"SELECT name FROM {UNIFIED} WHERE name = 'job-1'")
    assert tables(sm) == ["aws.sagemaker.hyper_parameter_tuning_jobs"]
    # a condition the value's form does not decide keeps every branch
    assert len(tables(expand(f"SELECT name FROM {UNIFIED} WHERE name LIKE 'job%'"))) == 3


def test_routed_params_move_into_their_branches_and_leave_the_outer_where() -> None:
    tree = expand(f"SELECT name FROM {UNIFIED} AS u WHERE u.projectsId = 'p' AND u.region = 'r'")
    outer = tree.args["where"].sql()
    assert "projectsId" not in outer and "region" not in outer
    hpt, sft, aws = branches(tree)
    assert "j.projectsId = 'p'" in hpt.args["where"].sql()
    assert "j.projectsId = 'p'" in sft.args["where"].sql()
    assert "j.region = 'r'" in aws.args["where"].sql()
    assert "projectsId" not in aws.args["where"].sql()


def test_params_of_every_branch_stay_in_the_outer_where() -> None:
    tree = expand(
        "SELECT trial_id FROM google.aiplatform.hyperparameter_tuning_job_trials"
        " WHERE projectsId = 'p' AND locationsId IN ('a', 'b')"
    )
    assert "projectsId = 'p'" in tree.args["where"].sql()
    [branch] = branches(tree)
    assert "j.locationsId IN ('a', 'b')" in branch.args["where"].sql()


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        (f"SELECT name, status FROM {UNIFIED}", ["name", "status"]),
        (f"SELECT count(*) FROM {UNIFIED}", ["provider"]),
        (f"SELECT u.name FROM {UNIFIED} AS u ORDER BY u.create_time", ["name", "create_time"]),
        (f"SELECT name FROM {UNIFIED} WHERE status = 'RUNNING'", ["name", "status"]),
    ],
)
def test_unused_columns_are_pruned_from_every_branch(sql: str, columns: list[str]) -> None:
    for branch in branches(expand(sql)):
        assert sorted(p.alias_or_name for p in branch.expressions) == sorted(columns)


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT * FROM {UNIFIED}",
        f"SELECT u.* FROM {UNIFIED} AS u",
        f"SELECT * FROM (SELECT * FROM {UNIFIED}) AS s",
        # the whole row by its alias: every column (it kept only those named elsewhere)
        f"SELECT to_json(u) FROM {UNIFIED} AS u WHERE provider = 'aws'",
        f"SELECT u FROM {UNIFIED} u",
        # a star with a pattern: the columns whose names match, which pruning cannot know
        # (it kept only those named elsewhere: no column matched, or a third of them)
        f"SELECT * LIKE '%time%' FROM {UNIFIED}",
        f"SELECT * NOT GLOB '*_*' FROM {UNIFIED}",
        f"SELECT * EXCLUDE (raw) ILIKE '%a%' FROM {UNIFIED}",
    ],
)
def test_a_star_keeps_every_column(sql: str) -> None:
    n = len(REG.resource(UNIFIED).columns)
    assert all(len(b.expressions) == n for b in branches(expand(sql)))


def test_pruning_keeps_what_a_describe_needs_out_of_the_plan() -> None:
    tree = expand("SELECT TuningJobName FROM aws.sagemaker.tuning_jobs WHERE region = 'r'")
    used = {c.name for c in tree.find_all(exp.Column)}
    assert "BestTrainingJob" not in used and "HyperParameterTuningJobConfig" not in used


def test_raw_names_every_native_column_of_its_branch() -> None:
    for branch in branches(expand(f"SELECT raw FROM {UNIFIED}")):
        [table] = tables(branch)
        raw = branch.expressions[0].find(exp.JSONObject)
        assert raw is not None
        keys = [pair.this.this for pair in raw.expressions]
        native = [c.name for c in REG.resource(table).columns if c.derive is None]
        assert keys == native, table
        # a time is written as the API writes it (ISO, UTC, Z), not in DuckDB's format
        for pair in raw.expressions:
            if REG.resource(table).column(pair.this.this).db_type.startswith("TIMESTAMP"):
                assert "%Y-%m-%dT%H:%M:%S.%fZ" in pair.expression.sql("duckdb"), pair.this


def test_a_view_page_shows_params_select_and_sql_but_no_methods() -> None:
    page = resource_page(REG.resource("aws.sagemaker.tuning_jobs"), REG)
    assert "## Methods" not in page and "INSERT" not in page
    for part in ("## Fields", "## Parameters", "## `SELECT` example", "## Definition"):
        assert part in page
    assert "WHERE TuningJobName = '{{ TuningJobName }}'" in page
    unified = resource_page(REG.resource(UNIFIED), REG)
    assert "yes: binds only these branches" in unified and "optional" in unified


def test_the_unified_status_column_lists_its_eight_values() -> None:
    status = REG.resource(UNIFIED).column("status")
    assert status is not None
    assert list(status.enum) == [
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
        "FAILED",
        "CANCELLING",
        "CANCELLED",
        "STOPPING",
        "STOPPED",
    ]
    assert json.loads(json.dumps(REG.resource(UNIFIED).view))["optional_branches"] is True


def test_errors_inside_a_view_point_at_its_mention() -> None:
    # positions in the view's own SQL meant nothing to the user (line 1, column 1101)
    from stackql_tuning.errors import PlanError
    from stackql_tuning.plan.select import plan_query

    sql = (
        "SELECT trial_id\nFROM google.aiplatform.hyperparameter_tuning_job_trials "
        "WHERE projectsId = 'p'"
    )
    with pytest.raises(PlanError, match="without its required parameters") as e:
        plan_query(expand(sql), REG)
    assert e.value.location.line == 2
    assert e.value.location.column is not None and e.value.location.column <= 56


def test_a_mistyped_view_column_names_the_alias_and_column() -> None:
    # DuckDB calls the expanded view a "Values list"
    import duckdb

    from stackql_tuning.run.store import duckdb_error

    err = duckdb.BinderException('Values list "u" does not have a column named "nosuch"')
    out = duckdb_error(err, "SELECT u.nosuch FROM (SELECT 1 AS a) u")
    assert out.message == '"u" has no column "nosuch"'
    assert out.hint == "DESCRIBE the view or table to list its columns"


@pytest.mark.parametrize(
    ("joins", "expected"),
    [
        ("FROM t LEFT JOIN {v} AS u ON u.name = t.a", "FROM t JOIN"),
        ("FROM t LEFT OUTER JOIN {v} AS u ON u.name = t.a", "FROM t JOIN"),
        ("FROM t FULL JOIN {v} AS u ON u.name = t.a", "FROM t RIGHT JOIN"),
        ("FROM {v} AS u RIGHT JOIN t ON u.name = t.a", "AS u JOIN t"),
        ("FROM {v} AS u FULL OUTER JOIN t ON u.name = t.a", "AS u LEFT JOIN t"),
        # joins that never pad the view stay
        ("FROM {v} AS u LEFT JOIN t ON u.name = t.a", "AS u LEFT JOIN t"),
        ("FROM t RIGHT JOIN {v} AS u ON u.name = t.a", "FROM t RIGHT JOIN"),
        ("FROM t LEFT JOIN {v} AS u ON u.name = t.a LEFT JOIN b ON b.x = t.a", "LEFT JOIN b"),
    ],
)
def test_a_routed_param_leaving_the_where_keeps_outer_joins_from_padding_the_view(
    joins: str, expected: str
) -> None:
    """The routed predicate was false on a row an outer join padded for the view; once it
    moves into the branches, the join must not pad the view either."""
    sql = f"SELECT t.a, u.name {joins.format(v=UNIFIED)} WHERE u.projectsId = 'p'"
    tree = expand(sql)
    text = tree.sql()
    assert expected in text
    assert "projectsId" not in tree.args["where"].sql()
    if "LEFT JOIN b" in joins:
        assert "FROM t JOIN" in text


def test_a_routed_param_in_an_outer_joins_on_condition_leaves_the_join_as_it_is() -> None:
    tree = expand(
        f"SELECT t.a FROM t LEFT JOIN {UNIFIED} AS u ON u.name = t.a AND u.projectsId = 'p'"
    )
    assert "LEFT JOIN" in tree.sql()


def test_a_view_joined_on_its_params_takes_the_constants_of_its_partner() -> None:
    # a view joined on region to a table whose region the WHERE holds to constants was a plan
    # error: nothing bound the region of the view's own provider tables
    tree = expand(
        "SELECT 1 FROM aws.sagemaker.hyper_parameter_tuning_jobs x"
        " JOIN aws.sagemaker.tuning_jobs t ON t.TuningJobName = x.HyperParameterTuningJobName"
        " AND t.region = x.region WHERE x.region IN ('a', 'b')"
    )
    [branch] = branches(tree)
    assert "region IN ('a', 'b')" in branch.args["where"].sql()
    assert "t.region = x.region" in tree.sql()  # the join's own condition stays
    # the partner's provider column drops branches as a constant does
    derived = expand(
        f"SELECT 1 FROM {UNIFIED} u JOIN aws.sagemaker.hyper_parameter_tuning_jobs x"
        " ON u.name = x.HyperParameterTuningJobName AND u.region = x.region"
        " AND u.provider = x.p WHERE x.region = 'r' AND x.p = 'aws'"
    )
    assert "google.aiplatform.tuning_jobs" not in tables(derived)


@pytest.mark.parametrize(
    "sql",
    [
        # the constant is in an ON, not the WHERE: rows outside it may still be joined
        "SELECT 1 FROM aws.sagemaker.hyper_parameter_tuning_jobs x JOIN aws.sagemaker.tuning_jobs t"
        " ON t.region = x.region AND x.region = 'a' WHERE x.region IS NOT NULL",
        # an OR: not a constant the WHERE holds
        "SELECT 1 FROM aws.sagemaker.hyper_parameter_tuning_jobs x JOIN aws.sagemaker.tuning_jobs t"
        " ON t.region = x.region WHERE x.region = 'a' OR x.region = 'b'",
    ],
)
def test_a_partners_constant_binds_the_view_only_where_every_row_has_it(sql: str) -> None:
    # (a tentative `j.region IN (SELECT x.region FROM ... x WHERE <x's own conditions>)`
    # may ask for the partner's values; no constant of it binds the view on its own)
    from stackql_tuning.plan.bindings import TENTATIVE, split_and

    [branch] = branches(expand(sql))
    where = branch.args.get("where")
    own = [c for c in split_and(where.this) if not c.meta.get(TENTATIVE)] if where else []
    assert all("'a'" not in c.sql() for c in own)


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT 1 FROM {UNIFIED} u JOIN aws.sagemaker.tuning_jobs t ON t.TuningJobName = u.name"
        " AND t.region = u.region WHERE u.region = 'r'",
        f"SELECT 1 FROM aws.sagemaker.tuning_jobs t JOIN {UNIFIED} u ON t.TuningJobName = u.name"
        " AND t.region = u.region WHERE u.region = 'r'",
    ],
)
def test_a_routed_constant_binds_a_view_joined_to_it_in_either_order(sql: str) -> None:
    # the routed u.region = 'r' left the WHERE when u was expanded first: t had nothing then
    tree = expand(sql)
    wheres = [b.args["where"].sql() for b in branches(tree) if b.args.get("where")]
    assert any("region = 'r'" in w for w in wheres)
    tuning = [
        s
        for s in tree.find_all(exp.Subquery)
        if "TuningJobName" in s.sql() and "j.region" in s.sql()
    ]
    assert tuning and all("j.region = 'r'" in s.sql() for s in tuning)


def test_a_view_joined_on_its_params_says_a_join_binds_nothing_there() -> None:
    # the hint said an equality with another source's column binds a parameter, which the
    # query did; through a registry view it binds only as the view's `= literal` / IN
    from stackql_tuning.errors import PlanError
    from stackql_tuning.plan.select import plan_query

    sql = (
        "WITH p AS (SELECT 'a' AS job, 'us-east-1' AS region) SELECT b.TuningJobStatus FROM p "
        "JOIN aws.sagemaker.tuning_jobs b ON b.TuningJobName = p.job AND b.region = p.region"
    )
    with pytest.raises(PlanError) as e:
        plan_query(expand(sql), REG)
    assert "(read through the view aws.sagemaker.tuning_jobs)" in e.value.message
    assert "constrained through the view" in (e.value.hint or "")
    assert "give the view's region" in (e.value.hint or "")


def _wheres(sql: str) -> list[str]:
    """The WHERE of each branch of the (one) expanded view, in DuckDB's SQL."""
    tree = expand_views(parse_one(sql).expression, REG)
    sub = next(s for s in tree.find_all(exp.Subquery) if s.meta.get("stackql_view"))
    return [
        b.args["where"].this.sql("duckdb") if b.args.get("where") else "" for b in branches(sub)
    ]


def test_other_conditions_on_the_view_flow_into_its_branch() -> None:
    # rule 4: the API filters Strategy, and only the kept jobs are described
    [where] = _wheres(
        "SELECT TuningJobName, BestTrainingJob FROM aws.sagemaker.tuning_jobs "
        "WHERE region = 'r' AND Strategy = 'Bayesian' AND TuningJobStartTime > DATE '2026-01-01'"
    )
    assert "j.Strategy = 'Bayesian'" in where
    assert "j.CreationTime > CAST('2026-01-01' AS DATE)" in where


def test_a_column_that_is_one_param_or_another_binds_each_branch_by_the_values_form() -> None:
    # account_or_project / location_or_region of the unified view: a 12-digit account and an
    # AWS region bind the AWS branch, a project id and a Google location the Google branches
    wheres = _wheres(
        f"SELECT provider FROM {UNIFIED} "
        "WHERE account_or_project IN ('123456789012', 'ml-research-prod') "
        "AND location_or_region IN ('us-east-1', 'us-central1')"
    )
    google, supervised, aws = wheres
    for where in (google, supervised):
        assert "j.projectsId IN ('ml-research-prod')" in where
        assert "j.locationsId IN ('us-central1')" in where
        assert "123456789012" not in where and "us-east-1" not in where
    assert "j.AwsAccountId IN ('123456789012')" in aws
    assert "j.region IN ('us-east-1')" in aws
    assert "ml-research-prod" not in aws and "us-central1" not in aws
    # one value: the branches it does not fit get nothing (a project number is projectsId's)
    google, supervised, aws = _wheres(
        f"SELECT provider FROM {UNIFIED} WHERE account_or_project = '123456789012' "
        "AND region = 'us-east-1'"
    )
    assert "j.AwsAccountId = '123456789012'" in aws
    assert "123456789012" not in google + supervised


@pytest.mark.parametrize(
    ("sql", "absent"),
    [
        # onto a param column of the branch's table: a value that is neither an AWS account
        # nor a Google project id would bind one cloud's calls with the other's
        (
            f"SELECT provider FROM {UNIFIED} WHERE projectsId = 'p' AND locationsId = 'l' "
            "AND region = 'r' AND account_or_project = 'Not-Either'",
            "Not-Either",
        ),
        # a LEFT JOIN pads the view: `IS NULL` would keep a row the filtered view padded
        (
            "SELECT 1 FROM (VALUES ('a')) v(n) LEFT JOIN aws.sagemaker.tuning_jobs u "
            "ON u.TuningJobName = v.n AND u.region = 'r' WHERE u.Strategy IS NULL",
            "Strategy",
        ),
        # a window over the branch's rows (is_best) would see only the filtered ones
        (
            "SELECT is_best FROM google.aiplatform.hyperparameter_tuning_job_trials "
            "WHERE projectsId = 'p' AND locationsId = 'l' AND state = 'SUCCEEDED'",
            "SUCCEEDED",
        ),
        # another value the second time
        (
            "SELECT 1 FROM aws.sagemaker.tuning_jobs WHERE region = 'r' AND random() < 0.5",
            "RANDOM",
        ),
        # a condition on the view and another table
        (
            "SELECT 1 FROM aws.sagemaker.tuning_jobs u, (VALUES ('x')) v(s) "
            "WHERE u.region = 'r' AND u.Strategy = v.s",
            "Strategy",
        ),
    ],
)
def test_conditions_that_would_change_the_view_stay_outside(sql: str, absent: str) -> None:
    assert all(absent.lower() not in w.lower() for w in _wheres(sql))


def test_a_flowed_condition_keeps_the_precedence_of_the_views_expression() -> None:
    # trials_failed is `a + b` in the AWS branch: `-trials_failed = -1` read as `-a + b = -1`
    wheres = _wheres(
        f"SELECT 1 FROM {UNIFIED} WHERE region = 'r' AND provider = 'aws' AND -trials_failed = -1"
    )
    flowed = [w for w in wheres if "RetryableError" in w]
    assert flowed and all("-(" in w for w in flowed)


@pytest.mark.parametrize(
    "sql",
    [
        # which job an ASOF join matches depends on the jobs the condition would remove
        "SELECT 1 FROM (SELECT TIMESTAMPTZ '2026-11-20 00:00:00+00' AS ts) b ASOF JOIN "
        "aws.sagemaker.tuning_jobs a ON a.TuningJobStartTime <= b.ts "
        "WHERE a.region = 'r' AND a.Strategy = 'Bayesian'",
        # so does the position a POSITIONAL join pairs
        "SELECT 1 FROM aws.sagemaker.tuning_jobs a POSITIONAL JOIN range(5) p "
        "WHERE a.region = 'r' AND a.Strategy = 'Bayesian'",
        # a sample is taken before the WHERE
        "SELECT 1 FROM aws.sagemaker.tuning_jobs USING SAMPLE 5 ROWS "
        "WHERE region = 'r' AND Strategy = 'Bayesian'",
    ],
)
def test_no_condition_flows_in_where_the_rows_it_removes_matter(sql: str) -> None:
    assert all("Bayesian" not in w for w in _wheres(sql))


def test_a_flowed_condition_is_not_refused_for_its_literal() -> None:
    # `Strategy <> 'bayesian'` on the view answered (every row); copied onto the table's enum
    # column it became "'bayesian' is not a value": the copy is dropped from what is checked
    # and pushed instead, and stays in the SQL
    from stackql_tuning.plan.pushdown import check_literals
    from stackql_tuning.plan.select import plan_query

    sql = "SELECT 1 FROM aws.sagemaker.tuning_jobs WHERE region = 'r' AND Strategy <> 'bayesian'"
    plan = plan_query(expand_views(parse_one(sql).expression, REG), REG)
    check_literals(plan)
    assert plan.slots[0].residual == []


def test_a_sample_on_a_view_is_kept_and_its_field_params_stay_outside() -> None:
    # TABLESAMPLE on the view was dropped (31 rows, not 4); and TuningJobStatus, a field of
    # the table, flowed in as a filter ahead of the sample (5 of 5 Completed, not 2 of 5)
    sql = (
        "SELECT 1 FROM aws.sagemaker.tuning_jobs TABLESAMPLE RESERVOIR (5 ROWS) "
        "WHERE region = 'r' AND TuningJobStatus = 'Completed'"
    )
    tree = expand_views(parse_one(sql).expression, REG)
    sub = next(s for s in tree.find_all(exp.Subquery) if s.meta.get("stackql_view"))
    assert sub.args.get("sample") is not None
    [where] = _wheres(sql)
    assert "j.region = 'r'" in where  # the region binds the calls, as on the table itself
    assert "Completed" not in where


def test_a_column_list_on_a_views_alias_is_refused() -> None:
    # the rules read conditions by the view's own names: renamed, `kind` bound the provider
    # column (the list was dropped, and the view's own kind returned)
    from stackql_tuning.errors import PlanError

    with pytest.raises(PlanError, match="cannot be renamed by a column list"):
        expand_views(parse_one(f"SELECT kind FROM {UNIFIED} AS u(kind, provider)").expression, REG)


def test_a_column_qualified_by_a_views_whole_name_reads_the_view() -> None:
    # `google.aiplatform.<view>.col` named a table DuckDB did not have ("Referenced table ...
    # not found"); it is the subquery's column now, and the view's rules read it as theirs
    view = "google.aiplatform.hyperparameter_tuning_job_trials"
    tree = expand(
        f"SELECT {view}.trial_id, aiplatform.hyperparameter_tuning_job_trials.state FROM {view} "
        f"WHERE {view}.projectsId = 'p' AND {view}.locationsId = 'l'"
    )
    qualifiers = {(c.catalog, c.db, c.table) for c in tree.expressions}
    assert qualifiers == {("", "", "hyperparameter_tuning_job_trials")}
    [where] = [b.args["where"].sql() for b in branches(next(tree.find_all(exp.Subquery)))]
    assert where == "WHERE j.projectsId = 'p' AND j.locationsId = 'l'"


@pytest.mark.parametrize(
    "condition",
    [
        "region IS NOT NULL",
        "region <> 'eu-west-1'",
        "region LIKE 'us%'",
        "upper(region) = 'US-EAST-1'",
        "region IN (SELECT 'us-east-1')",
        "(region = 'us-east-1' OR provider = 'aws')",
        "AwsAccountId LIKE '1%'",
        "projectsId IS NOT NULL",
    ],
)
def test_a_param_only_some_branches_have_constrained_without_binding_is_refused(
    condition: str,
) -> None:
    # the branches that need it went unread: their rows were missing (0 rows, exit 0)
    from stackql_tuning.errors import PlanError

    with pytest.raises(PlanError, match=r"of unified\.tuning\.jobs is constrained by") as e:
        expand(f"SELECT * FROM {UNIFIED} WHERE {condition}")
    assert e.value.location.column is not None


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        # each read no AWS account or region but the default, and dropped its rows: 0 rows
        (
            "u JOIN (VALUES ('210987654321')) l(AwsAccountId) USING (AwsAccountId)",
            "AwsAccountId of unified.tuning.jobs is compared by",
        ),
        ("u NATURAL JOIN (VALUES ('eu-west-1')) l(region)", "region of unified.tuning.jobs is"),
        (
            "u GROUP BY u.AwsAccountId HAVING u.AwsAccountId = '210987654321'",
            r"AwsAccountId of unified\.tuning\.jobs is constrained by",
        ),
    ],
)
def test_a_routed_param_compared_by_using_natural_or_having_is_refused(
    tail: str, message: str
) -> None:
    from stackql_tuning.errors import PlanError

    with pytest.raises(PlanError, match=message):
        expand(f"SELECT count(*) FROM {UNIFIED} {tail}")
    # a NATURAL JOIN that shares none of them is left alone
    expand(f"SELECT count(*) FROM {UNIFIED} u NATURAL JOIN (VALUES ('x')) l(zzz)")


@pytest.mark.parametrize(
    "condition",
    [
        "region IS NULL AND projectsId = 'p' AND locationsId = 'l'",  # the other clouds' rows
        "region = 'us-east-1' AND region LIKE 'us%'",  # bound: the LIKE only filters
        "region IN ('us-east-1', 'eu-west-1') AND region <> 'eu-west-1'",
    ],
)
def test_a_bound_or_null_routed_param_is_not_refused(condition: str) -> None:
    expand(f"SELECT * FROM {UNIFIED} WHERE {condition}")


def test_a_view_in_a_parenthesized_join_keeps_the_join() -> None:
    # sqlglot keeps the joins of `(v CROSS JOIN r)` on the view's mention: they were dropped
    # with it, and `FROM ((SELECT ...) AS u)` was DuckDB's syntax error
    tree = expand(
        "SELECT count(*) FROM (aws.sagemaker.tuning_jobs u CROSS JOIN (VALUES (2)) r(x)) "
        "WHERE u.region = 'us-east-1'"
    )
    sql = tree.sql(dialect="duckdb")
    assert ") AS u CROSS JOIN (VALUES (2)) AS r(x))" in sql
    import duckdb

    duckdb.connect().extract_statements(sql)  # DuckDB parses it


def test_a_value_of_another_branchs_form_is_left_out_of_that_branch() -> None:
    # display_name IN (<a Vertex job's>, <a SageMaker job's>): the SageMaker branch was given
    # the Vertex name, which its describe refused as no SageMaker name (a plan error)
    tree = expand(
        f"SELECT name FROM {UNIFIED} WHERE display_name IN ('gemini-1.5-flash', 'xgb-hpo-1') "
        "AND region = 'us-east-1'"
    )
    [aws] = [b for b in branches(tree) if "aws." in b.sql()]
    where = aws.args["where"].sql()
    assert "'xgb-hpo-1'" in where and "'gemini-1.5-flash'" not in where
