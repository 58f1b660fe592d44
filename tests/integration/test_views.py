"""Issue 9 acceptance over the sandbox: the views answer what the seed data says.

- the trials view names the winning hyperparameters of every succeeded job in every location of
  two projects, in one query (``truth["google"]["best_trials"]``);
- ``unified.tuning.jobs`` lists every seeded job of both clouds exactly once with its normalized
  status, and ``GROUP BY provider, status`` matches the seed counts;
- hydration through views is lazy: describe / get calls are counted in the request logs;
- ``aws.sagemaker.tuning_jobs`` returns every field of seed 004 for a sandbox job;
- the dependent join over training jobs makes one call per tuning job.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from stackql_tuning.sandbox.runner import SECOND_ACCOUNT, Sandbox
from stackql_tuning.session import Session

PROJECTS = ("ml-research-prod", "ml-research-dev")
LOCATIONS = ("us-central1", "europe-west4", "asia-northeast1")
DEFAULT_ACCOUNT = "123456789012"
GOOGLE_STATUS = {
    "JOB_STATE_PENDING": "PENDING",
    "JOB_STATE_RUNNING": "RUNNING",
    "JOB_STATE_SUCCEEDED": "SUCCEEDED",
    "JOB_STATE_FAILED": "FAILED",
    "JOB_STATE_CANCELLING": "CANCELLING",
    "JOB_STATE_CANCELLED": "CANCELLED",
}
AWS_STATUS = {
    "InProgress": "RUNNING",
    "Completed": "SUCCEEDED",
    "Failed": "FAILED",
    "Stopping": "STOPPING",
    "Stopped": "STOPPED",
}
KIND = {"hyperparameterTuningJobs": "hyperparameter", "tuningJobs": "supervised"}


def _in(values: Any) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


GOOGLE_WHERE = f"projectsId IN {_in(PROJECTS)} AND locationsId IN {_in(LOCATIONS)}"


@pytest.fixture(scope="module")
def session(sandbox: Sandbox) -> Iterator[Session]:
    with Session(**sandbox.settings()) as s:
        yield s


def _aws_regions(sandbox: Sandbox) -> dict[str, list[str]]:
    """AwsAccountId -> its seeded regions."""
    return {a: sorted(t["regions"]) for a, t in sandbox.truth["aws"]["accounts"].items()}


def _aws_where(sandbox: Sandbox) -> str:
    accounts = _aws_regions(sandbox)
    regions = sorted({r for rs in accounts.values() for r in rs})
    return f"AwsAccountId IN {_in(sorted(accounts))} AND region IN {_in(regions)}"


def _seeded_before(sandbox: Sandbox) -> str:
    """A predicate keeping only seeded jobs (tests elsewhere create theirs later)."""
    google = datetime.fromtimestamp(sandbox.google.clock.start, UTC).isoformat()
    aws = max(
        j["creation_time"]
        for t in sandbox.truth["aws"]["accounts"].values()
        for jobs in t["jobs"].values()
        for j in jobs.values()
    )
    return (
        f"((provider = 'google' AND create_time < TIMESTAMPTZ '{google}')"
        f" OR (provider = 'aws' AND create_time <= TIMESTAMPTZ '{aws}'))"
    )


def _expected_jobs(sandbox: Sandbox) -> Counter[tuple[str, str, str, str, str, str]]:
    """(provider, kind, account_or_project, location_or_region, name, status) -> 1."""
    out: Counter[tuple[str, str, str, str, str, str]] = Counter()
    for project, locations in sandbox.truth["google"]["jobs"].items():
        for location, collections in locations.items():
            for collection, jobs in collections.items():
                for job in jobs:
                    key = ("google", KIND[collection], project, location, job["name"])
                    out[(*key, GOOGLE_STATUS[job["state"]])] += 1
    for account, truth in sandbox.truth["aws"]["accounts"].items():
        for region, jobs in truth["regions"].items():
            for name, status in jobs.items():
                out[("aws", "hyperparameter", account, region, name, AWS_STATUS[status])] += 1
    return out


@pytest.fixture
def frozen(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The Vertex clock stopped while states are compared (restored after)."""
    speed = sandbox.google.clock.speed
    sandbox.google.clock.set_speed(0)
    try:
        yield sandbox
    finally:
        sandbox.google.clock.set_speed(speed)


def test_which_hyperparameters_won_per_job_in_every_location_of_two_projects(
    sandbox: Sandbox, session: Session
) -> None:
    result = session.execute(
        f"""
        SELECT t.job_name, t.trial_id, t.metric_id, t.metric_value,
               p.value ->> 'parameterId' AS parameter_id, p.value -> 'value' AS value
        FROM google.aiplatform.hyperparameter_tuning_job_trials AS t, json_each(t.parameters) AS p
        WHERE t.projectsId IN {_in(PROJECTS)} AND t.locationsId IN {_in(LOCATIONS)}
          AND t.job_state = 'JOB_STATE_SUCCEEDED' AND t.is_best
        ORDER BY t.job_name, parameter_id
        """
    )
    got: dict[str, dict[str, Any]] = {}
    for job, trial, metric, value, parameter, param_value in result.rows:
        won = got.setdefault(job, {"id": trial, "metricId": metric, "value": value})
        won.setdefault("parameters", {})[parameter] = json.loads(param_value)
    best = sandbox.truth["google"]["best_trials"]
    assert best, "the seed has succeeded jobs with trials"
    assert got == best
    assert not result.warnings


def test_unified_view_lists_every_seeded_job_once_with_normalized_status(
    frozen: Sandbox, session: Session
) -> None:
    where = f"{GOOGLE_WHERE} AND {_aws_where(frozen)} AND {_seeded_before(frozen)}"
    rows = session.execute(
        "SELECT provider, kind, account_or_project, location_or_region, name, status"
        f" FROM unified.tuning.jobs WHERE {where}"
    ).rows
    got = Counter(tuple(r) for r in rows)
    expected = _expected_jobs(frozen)
    assert max(got.values()) == 1, "a job listed twice"
    assert got == expected

    grouped = session.execute(
        f"SELECT provider, status, count(*) FROM unified.tuning.jobs WHERE {where}"
        " GROUP BY provider, status ORDER BY provider, status"
    ).rows
    by_status: Counter[tuple[str, str]] = Counter()
    for provider, _kind, _acct, _loc, _name, status in expected.elements():
        by_status[(provider, status)] += 1
    assert grouped == sorted((p, s, n) for (p, s), n in by_status.items())
    assert {s for _, s, _ in grouped} <= {
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
        "FAILED",
        "CANCELLING",
        "CANCELLED",
        "STOPPING",
        "STOPPED",
    }


def test_unified_view_normalized_columns_agree_with_the_native_ones(
    sandbox: Sandbox, session: Session
) -> None:
    region = "eu-west-1"
    rows = session.execute(
        "SELECT name, strategy, objective_metric, objective_goal, best_objective_value,"
        " trials_completed, trials_max, duration_s, raw"
        f" FROM unified.tuning.jobs WHERE provider = 'aws' AND region = '{region}'"
        " AND status = 'SUCCEEDED'"
    ).rows
    jobs = sandbox.truth["aws"]["jobs"][region]
    assert len(rows) == sum(1 for j in jobs.values() if j["status"] == "Completed")
    for name, strategy, metric, goal, best, done, most, duration, raw in rows:
        facts = jobs[name]
        assert strategy == facts["strategy"].upper()
        assert metric == facts["objective"]["MetricName"]
        assert goal == facts["objective"]["Type"].upper()
        assert best == pytest.approx(facts["best_metric"]["Value"])
        assert 0 < done <= facts["training_jobs"]  # launched jobs include failed ones
        assert most is None or done <= most  # Grid runs the whole grid: no maximum
        assert duration > 0
        native = json.loads(raw)
        assert native["HyperParameterTuningJobName"] == name
        assert native["BestTrainingJob"]["TrainingJobName"] == facts["best_training_job"]

    project, location = PROJECTS[0], LOCATIONS[0]
    google = session.execute(
        "SELECT name, best_objective_value, trials_completed, trials_max, objective_goal"
        f" FROM unified.tuning.jobs WHERE provider = 'google' AND kind = 'hyperparameter'"
        f" AND projectsId = '{project}' AND locationsId = '{location}' AND status = 'SUCCEEDED'"
    ).rows
    best = sandbox.truth["google"]["best_trials"]
    assert google
    for name, value, done, most, goal in google:
        assert goal in ("MAXIMIZE", "MINIMIZE")
        assert 0 < done <= most
        if name in best:
            assert value == pytest.approx(best[name]["value"])


def _describes(sandbox: Sandbox) -> int:
    return sum(
        1 for r in sandbox.aws.requests() if r["operation"] == "DescribeHyperParameterTuningJob"
    )


def _gets(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.google.requests() if r.get("action") == "get")


def test_hydration_through_views_is_lazy(fresh_sandbox: Sandbox, session: Session) -> None:
    sb, region = fresh_sandbox, "eu-west-1"
    n_jobs = len(sb.truth["aws"]["regions"][region])
    aws = f"FROM unified.tuning.jobs WHERE provider = 'aws' AND region = '{region}'"

    rows = session.execute(f"SELECT name, status, trials_completed, trials_max {aws}").rows
    assert len(rows) >= n_jobs and _describes(sb) == 0
    sb.aws.reset_log()
    rows = session.execute(f"SELECT name, objective_metric {aws}").rows
    assert _describes(sb) == len(rows) >= n_jobs  # one describe per job

    sb.aws.reset_log()
    seed004 = f"FROM aws.sagemaker.tuning_jobs WHERE region = '{region}'"
    rows = session.execute(f"SELECT TuningJobName, TuningJobStatus, Strategy {seed004}").rows
    assert len(rows) >= n_jobs and _describes(sb) == 0
    sb.aws.reset_log()
    rows = session.execute(f"SELECT TuningJobName, BestTrainingJob {seed004}").rows
    assert _describes(sb) == len(rows)

    google = (
        "FROM unified.tuning.jobs WHERE provider = 'google' AND kind = 'hyperparameter'"
        f" AND projectsId = '{PROJECTS[0]}' AND locationsId = '{LOCATIONS[0]}'"
    )
    sb.google.reset_log()
    rows = session.execute(f"SELECT name, status, trials_max, objective_metric {google}").rows
    assert rows and _gets(sb) == 0
    sb.google.reset_log()
    rows = session.execute(f"SELECT name, trials_completed {google}").rows
    assert _gets(sb) == len(rows)  # lists omit trials: one get per job


def test_a_constant_column_predicate_drops_the_other_cloud(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    sb = fresh_sandbox
    where = f"{GOOGLE_WHERE} AND region = 'us-east-1'"
    rows = session.execute(
        f"SELECT DISTINCT provider FROM unified.tuning.jobs WHERE {where} AND provider = 'aws'"
    ).rows
    assert rows == [("aws",)] and sb.google.requests() == []
    sb.aws.reset_log()
    result = session.execute(
        f"SELECT DISTINCT kind FROM unified.tuning.jobs WHERE {where} AND kind = 'supervised'"
    )
    assert result.rows == [("supervised",)] and sb.aws.requests() == []
    assert {r["collection"] for r in sb.google.requests()} == {"tuningJobs"}
    assert not result.warnings


def test_routed_params_bind_one_cloud_and_filter_no_other_rows(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    project, location, region = PROJECTS[1], LOCATIONS[1], "us-east-1"
    rows = session.execute(
        "SELECT provider, account_or_project, location_or_region, count(*)"
        f" FROM unified.tuning.jobs WHERE projectsId = '{project}'"
        f" AND locationsId = '{location}' AND region = '{region}' GROUP BY ALL ORDER BY ALL"
    ).rows
    assert [r[:3] for r in rows] == [
        ("aws", DEFAULT_ACCOUNT, region),
        ("google", project, location),
    ]
    only_google = session.execute(
        f"SELECT DISTINCT provider FROM unified.tuning.jobs WHERE projectsId = '{project}'"
        f" AND locationsId = '{location}'"
    )
    assert only_google.rows == [("google",)]
    assert any("branch 3" in w and "not queried" in w for w in only_google.warnings)


def test_account_or_project_and_location_or_region_bind_each_cloud_by_the_values_form(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    # the cross-cloud columns bind the calls themselves: an account and a region the AWS
    # branch, a project and a location the Google ones (a plan error before); the rows are
    # those of the same query over the clouds' own params
    project, location, region = PROJECTS[1], LOCATIONS[1], "us-east-1"
    columns = "SELECT provider, account_or_project, location_or_region, count(*)"
    by_form = session.execute(
        f"{columns} FROM unified.tuning.jobs"
        f" WHERE account_or_project IN ('{DEFAULT_ACCOUNT}', '{project}')"
        f" AND location_or_region IN ('{region}', '{location}') GROUP BY ALL ORDER BY ALL"
    )
    by_params = session.execute(
        f"{columns} FROM unified.tuning.jobs WHERE projectsId = '{project}'"
        f" AND locationsId = '{location}' AND region = '{region}'"
        f" AND AwsAccountId = '{DEFAULT_ACCOUNT}' GROUP BY ALL ORDER BY ALL"
    )
    assert by_form.rows == by_params.rows and len(by_form.rows) == 2
    assert not by_form.warnings
    # an account alone reads that account; the Google branches, bound by nothing, say so
    fresh_sandbox.google.reset_log()
    only_aws = session.execute(
        "SELECT DISTINCT provider FROM unified.tuning.jobs"
        f" WHERE account_or_project = '{DEFAULT_ACCOUNT}' AND location_or_region = '{region}'"
    )
    assert only_aws.rows == [("aws",)] and fresh_sandbox.google.requests() == []
    assert any("branch 1" in w and "not queried" in w for w in only_aws.warnings)


def test_a_jobs_full_name_binds_its_get(fresh_sandbox: Sandbox, session: Session) -> None:
    # a Vertex job's name (projects/p/locations/l/hyperparameterTuningJobs/id) gives the get's
    # params (it was a plan error: no projectsId); in the unified view each name binds the
    # branch of its form (a SageMaker name the AWS one): a get and a describe, no list
    project, location = PROJECTS[0], LOCATIONS[0]
    [(full, display)] = session.execute(
        "SELECT name, displayName FROM google.aiplatform.hyperparameter_tuning_jobs"
        f" WHERE projectsId = '{project}' AND locationsId = '{location}' ORDER BY name LIMIT 1"
    ).rows
    aws_name = sorted(fresh_sandbox.truth["aws"]["regions"]["us-east-1"])[0]
    fresh_sandbox.google.reset_log()
    rows = session.execute(
        "SELECT displayName, trials IS NOT NULL OR true FROM "
        f"google.aiplatform.hyperparameter_tuning_jobs WHERE name = '{full}'"
    ).rows
    assert rows == [(display, True)]
    assert [e["action"] for e in fresh_sandbox.google.requests()] == ["get"]
    fresh_sandbox.google.reset_log()
    fresh_sandbox.aws.reset_log()
    result = session.execute(
        "SELECT provider, display_name FROM unified.tuning.jobs"
        f" WHERE name IN ('{full}', '{aws_name}') AND region = 'us-east-1' ORDER BY 1"
    )
    assert result.rows == [("aws", aws_name), ("google", display)]
    assert [e["action"] for e in fresh_sandbox.google.requests()] == ["get"]
    ops = [e["operation"] for e in fresh_sandbox.aws.requests() if e.get("operation")]
    assert ops == ["DescribeHyperParameterTuningJob"]


def test_routed_params_in_the_where_of_an_outer_join_drop_the_rows_no_job_matched(
    sandbox: Sandbox,
) -> None:
    """``WHERE u.projectsId = 'p'`` is false on a row that an outer join padded with NULLs
    for the view: moving it into the view's branches must not bring such rows back."""
    project, location = PROJECTS[0], LOCATIONS[0]
    with Session(**sandbox.settings()) as s:
        [(name,)] = s.execute(
            f"SELECT name FROM unified.tuning.jobs WHERE projectsId = '{project}'"
            f" AND locationsId = '{location}' AND kind = 'hyperparameter' ORDER BY name LIMIT 1"
        ).rows
        s.execute(f"CREATE TABLE wanted AS SELECT * FROM (VALUES ('{name}'), ('nope')) t(n)")
        where = f"u.projectsId = '{project}' AND u.locationsId = '{location}'"
        view = "unified.tuning.jobs"
        queries = {
            "left": f"FROM wanted w LEFT JOIN {view} u ON u.name = w.n WHERE {where}",
            "right": f"FROM {view} u RIGHT JOIN wanted w ON u.name = w.n WHERE {where}",
            "full": f"FROM wanted w FULL JOIN {view} u ON u.name = w.n WHERE {where}",
        }
        for join, tail in queries.items():
            rows = s.execute(f"SELECT w.n, u.name {tail}").rows
            got = sorted(rows, key=lambda r: (r[0] is None, r))
            assert got[0] == (name, name), join
            assert all(n is not None or u is not None for n, u in got), join
            assert ("nope", None) not in got, join
        # in the ON condition the padded row stays, as SQL has it
        on = s.execute(
            "SELECT w.n, u.name FROM wanted w LEFT JOIN unified.tuning.jobs u"
            f" ON u.name = w.n AND {where} ORDER BY w.n"
        ).rows
        assert sorted(on, key=str) == sorted([(name, name), ("nope", None)], key=str)


def test_seed_004_view_returns_every_field_for_a_sandbox_job(
    sandbox: Sandbox, session: Session
) -> None:
    truth = sandbox.truth["aws"]["accounts"][SECOND_ACCOUNT]
    region = sorted(truth["jobs"])[0]
    completed = sorted(n for n, j in truth["jobs"][region].items() if j["status"] == "Completed")
    name = next((n for n in completed if not n.startswith("xgb")), completed[0])
    facts = truth["jobs"][region][name]
    calls_before = len(sandbox.aws.requests())
    result = session.execute(
        f"SELECT * FROM aws.sagemaker.tuning_jobs WHERE TuningJobName = '{name}'"
        f" AND AwsAccountId = '{SECOND_ACCOUNT}' AND region = '{region}'"
    )
    ops = Counter(r["operation"] for r in sandbox.aws.requests()[calls_before:])
    assert ops["DescribeHyperParameterTuningJob"] == 1 and ops["ListHyperParameterTuningJobs"] == 0
    [row] = result.to_dicts()
    assert list(row) == [
        "TuningJobName",
        "AwsAccountId",
        "region",
        "TuningJobStatus",
        "Strategy",
        "TuningJobStartTime",
        "TuningJobEndTime",
        "FailureReason",
        "BestTrainingJob",
        "MetricDefinitions",
        "ParameterRanges",
        "ResourcesStats",
    ]
    assert row["TuningJobName"] == name and row["AwsAccountId"] == SECOND_ACCOUNT
    assert row["TuningJobStatus"] == "Completed" and row["Strategy"] == facts["strategy"]
    assert row["TuningJobStartTime"] < row["TuningJobEndTime"]
    assert row["FailureReason"] is None  # a completed job has none

    best = json.loads(row["BestTrainingJob"])
    assert set(best) == {
        "FinalTuningJobObjectiveMetric",
        "HyperParameters",
        "RetriedAttempt",
        "TrainingJobName",
        "TrainingJobStatus",
    }
    assert best["FinalTuningJobObjectiveMetric"] == {
        "MetricName": facts["best_metric"]["MetricName"],
        "Value": pytest.approx(facts["best_metric"]["Value"]),
    }
    assert best["HyperParameters"] == facts["best_hyperparameters"]
    assert best["TrainingJobName"] == facts["best_training_job"]
    assert best["TrainingJobStatus"] == "Completed"
    assert best["RetriedAttempt"] is None  # DescribeHyperParameterTuningJob does not report it

    metrics = json.loads(row["MetricDefinitions"])
    assert isinstance(metrics, list)
    if not name.startswith("xgb"):  # custom images declare their metric; built-ins do not
        assert metrics and set(metrics[0]) == {"Name", "Regex"}

    ranges = json.loads(row["ParameterRanges"])
    assert set(ranges) == {
        "CategoricalParameterRanges",
        "ContinuousParameterRanges",
        "IntegerParameterRanges",
    }
    types = {
        "CategoricalParameterRanges": ("Categorical", {"Name", "Type", "Values"}),
        "ContinuousParameterRanges": ("Continuous", {"Name", "Type", "MinValue", "MaxValue"}),
        "IntegerParameterRanges": ("Integer", {"Name", "Type", "MinValue", "MaxValue"}),
    }
    assert any(ranges.values())
    for key, items in ranges.items():
        kind, keys = types[key]
        for item in items:
            assert set(item) == keys and item["Type"] == kind
            assert all(v is not None for v in item.values())

    stats = json.loads(row["ResourcesStats"])
    consumed = stats["ConsumedResources"]
    assert set(stats) == {"ConsumedResources"}
    assert set(consumed) == {"ComputeHours", "Jobs", "ResourceLimits"}
    assert set(consumed["ComputeHours"]) == {"Finished", "InFlight"}
    assert set(consumed["Jobs"]) == {"Completed", "Failed", "Pending", "Running"}
    assert set(consumed["ResourceLimits"]) == {
        "MaxClockTimeInHours",
        "MaxNumberOfTrainingJobs",
        "MaxParallelTrainingJobs",
    }
    for group in consumed.values():
        assert all(v is not None for v in group.values()), group
    assert consumed["ComputeHours"]["Finished"] > 0 and consumed["ComputeHours"]["InFlight"] == 0
    assert consumed["Jobs"]["Running"] == 0 and consumed["Jobs"]["Pending"] == 0
    assert consumed["Jobs"]["Completed"] + consumed["Jobs"]["Failed"] <= facts["training_jobs"]


def test_seed_004_where_name_and_account_with_a_default_region(sandbox: Sandbox) -> None:
    region = "us-east-1"
    jobs = sandbox.truth["aws"]["jobs"][region]
    name = sorted(n for n, j in jobs.items() if j["status"] == "InProgress")[0]
    with Session(**sandbox.settings(), defaults={"region": [region]}) as s:
        rows = s.execute(
            "SELECT TuningJobName, AwsAccountId, TuningJobStatus, ResourcesStats"
            " FROM aws.sagemaker.tuning_jobs"
            f" WHERE TuningJobName = '{name}' AND AwsAccountId = '{DEFAULT_ACCOUNT}'"
        ).rows
    [(got, account, status, stats)] = rows
    assert (got, account, status) == (name, DEFAULT_ACCOUNT, "InProgress")
    consumed = json.loads(stats)["ConsumedResources"]
    assert consumed["ComputeHours"]["Finished"] == 0 and consumed["ComputeHours"]["InFlight"] > 0
    assert consumed["Jobs"]["Running"] > 0


def test_a_name_not_found_in_the_default_region_says_where_it_looked(sandbox: Sandbox) -> None:
    # seed 004's request shape (a name and an account, no region) for a job of eu-west-1,
    # with the default region us-east-1: 0 rows, and not a word of where it looked
    name = sorted(sandbox.truth["aws"]["jobs"]["eu-west-1"])[0]
    with Session(**sandbox.settings(), defaults={"region": ["us-east-1"]}) as s:
        result = s.execute(
            "SELECT TuningJobName FROM aws.sagemaker.tuning_jobs"
            f" WHERE TuningJobName = '{name}' AND AwsAccountId = '{DEFAULT_ACCOUNT}'"
        )
        assert result.rows == []
        [warning] = result.warnings
        assert "1 call found nothing where the defaults sent it (region 'us-east-1'" in warning
        assert "name region in the statement" in warning
        # named in the statement: where it looked is the statement's own, nothing to say
        named = s.execute(
            "SELECT TuningJobName FROM aws.sagemaker.tuning_jobs WHERE region = 'us-east-1'"
            f" AND TuningJobName = '{name}' AND AwsAccountId = '{DEFAULT_ACCOUNT}'"
        )
        assert named.rows == [] and not named.warnings


def test_a_branch_is_dropped_by_a_names_form_only_where_text_compares_binary(
    sandbox: Sandbox,
) -> None:
    # under nocase a name in another case matches: no branch may be dropped for its form (nor
    # a table left unread for conditions that allow no value in common)
    where = "projectsId = 'ml-research-prod' AND locationsId = 'us-central1'"
    with Session(**sandbox.settings()) as s:
        [(name,)] = s.execute(
            f"SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs WHERE {where} LIMIT 1"
        ).rows
        upper = name.replace("hyperparameterTuningJobs", "HyperparameterTuningJobs")
        kinds = f"SELECT kind FROM unified.tuning.jobs WHERE {where} AND name = '{upper}'"
        assert s.execute(kinds).rows == []  # binary: the supervised branch is not read
        two = (
            "SELECT count(*) FROM google.aiplatform.hyperparameter_tuning_jobs WHERE "
            f"{where} AND locationsId = 'europe-west4'"
        )
        sent = len(sandbox.google.requests())
        none = s.execute(two)
        assert none.rows == [(0,)] and len(sandbox.google.requests()) == sent
        assert "allow no value in common" in none.warnings[0]
        s.execute("SET default_collation = 'nocase'")
        assert s.execute(kinds).rows == [("hyperparameter",)]
        assert s.execute(two).rows == [(0,)] and len(sandbox.google.requests()) > sent


def test_seed_004_a_stopping_job_has_no_pending_training_jobs(sandbox: Sandbox) -> None:
    # a job being stopped starts no more training jobs: what its limit leaves is not pending
    with Session(**sandbox.settings()) as s:
        rows = s.execute(
            "SELECT TuningJobStatus, ResourcesStats->'ConsumedResources'->'Jobs'->>'Pending'"
            " FROM aws.sagemaker.tuning_jobs WHERE region IN ('us-east-1', 'eu-west-1')"
            " AND TuningJobStatus IN ('Stopping', 'InProgress')"
        ).rows
    pending = {status: [int(n) for s, n in rows if s == status] for status, _ in rows}
    assert pending["Stopping"] and not any(pending["Stopping"])
    assert any(pending["InProgress"])


def test_dependent_join_over_training_jobs_makes_one_call_per_job(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    region = "eu-west-1"
    rows = session.execute(
        "SELECT j.HyperParameterTuningJobName, count(*) FROM"
        " aws.sagemaker.hyper_parameter_tuning_jobs AS j"
        " JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t"
        " ON t.HyperParameterTuningJobName = j.HyperParameterTuningJobName"
        " AND t.region = j.region"
        f" WHERE j.region = '{region}' AND j.HyperParameterTuningJobStatus = 'Completed'"
        " GROUP BY 1 ORDER BY 1"
    ).rows
    jobs = fresh_sandbox.truth["aws"]["jobs"][region]
    seeded = {n: j["training_jobs"] for n, j in jobs.items() if j["status"] == "Completed"}
    assert {n: c for n, c in rows if n in seeded} == seeded
    calls = [
        r["params"]["HyperParameterTuningJobName"]
        for r in fresh_sandbox.aws.requests()
        if r["operation"] == "ListTrainingJobsForHyperParameterTuningJob"
    ]
    assert sorted(calls) == sorted(n for n, _ in rows)  # one call per job, no more


def test_training_jobs_of_a_job_that_is_not_there_are_none(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    # a list of one job's training jobs, for a job that does not exist (a name paired with
    # the other region, a typo, a job deleted meanwhile), is empty as a describe of it is:
    # it failed the statement ("6 of 14 calls failed") though the answer was there
    region = "eu-west-1"
    jobs = fresh_sandbox.truth["aws"]["jobs"][region]
    name = sorted(n for n, j in jobs.items() if j["status"] == "Completed")[0]
    rows = session.execute(
        "SELECT v.n, count(t.TrainingJobName) FROM (VALUES (?), ('no-such-job')) v(n) "
        "LEFT JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t "
        "ON t.HyperParameterTuningJobName = v.n AND t.region = ? GROUP BY 1 ORDER BY 1",
        [name, region],
    ).rows
    assert rows == sorted([(name, jobs[name]["training_jobs"]), ("no-such-job", 0)])
    rows = session.execute(
        "SELECT p.job, count(*) FROM (SELECT HyperParameterTuningJobName AS job "
        "FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = ? "
        "AND HyperParameterTuningJobName = ?) p "
        "JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t "
        "ON t.HyperParameterTuningJobName = p.job WHERE t.region IN ('us-east-1', ?) GROUP BY 1",
        [region, name, region],
    ).rows
    assert rows == [(name, jobs[name]["training_jobs"])]  # us-east-1 has no such job


def test_an_unknown_view_column_is_offered_the_view_columns(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    """A view keeps only the columns a statement reads; the error for a column it does not
    have still offers the view's own columns, and costs no call."""
    from stackql_tuning.errors import PlanError

    sql = (
        "SELECT provider, location FROM unified.tuning.jobs "
        "WHERE projectsId = 'ml-research-prod' AND locationsId = 'us-central1' "
        "AND region = 'us-east-1'"
    )
    with pytest.raises(PlanError, match=r'"location" not found') as e:
        session.execute(sql)
    assert "location_or_region" in str(e.value)
    assert fresh_sandbox.google.requests() == [] and fresh_sandbox.aws.requests() == []


@pytest.mark.parametrize("kind", ["cte", "subquery", "local table", "values"])
def test_a_cte_subquery_local_table_or_values_is_a_dependent_joins_source(
    fresh_sandbox: Sandbox, session: Session, kind: str
) -> None:
    """A param joined to a column of a CTE, a subquery, a local table or a VALUES list takes its
    values from their rows: the same answer, and one call per job they gave, as the join on
    the provider table itself."""
    region = "eu-west-1"
    where = f"h.region = '{region}' AND h.HyperParameterTuningJobStatus = 'Completed'"
    native = session.execute(
        "SELECT h.HyperParameterTuningJobName, count(*)"
        " FROM aws.sagemaker.hyper_parameter_tuning_jobs AS h"
        " JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t"
        " ON t.HyperParameterTuningJobName = h.HyperParameterTuningJobName"
        f" AND t.region = h.region WHERE {where} GROUP BY 1 ORDER BY 1"
    ).rows
    assert native
    jobs = (
        "SELECT HyperParameterTuningJobName AS jn, region"
        f" FROM aws.sagemaker.hyper_parameter_tuning_jobs AS h WHERE {where}"
    )
    literal = ", ".join(f"('{name}', '{region}')" for name, _ in native)
    head, source = {
        "cte": (f"WITH c AS ({jobs}) ", "c"),
        "subquery": ("", f"({jobs}) AS c"),
        "local table": ("", "picked AS c"),
        "values": ("", f"(VALUES {literal}) AS c(jn, region)"),
    }[kind]
    if kind == "local table":
        session.execute(f"CREATE OR REPLACE TABLE picked AS {jobs}")
    # the region comes from the source's region column (colocation): named by the statement,
    # or, for a local table, by DuckDB
    fresh_sandbox.aws.reset_log()
    joined = session.execute(
        f"{head}SELECT c.jn, count(*) FROM {source}"
        " JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t"
        " ON t.HyperParameterTuningJobName = c.jn GROUP BY 1 ORDER BY 1"
    )
    assert joined.rows == native and not joined.failures
    listed = [
        (r["params"]["HyperParameterTuningJobName"], r["region"])
        for r in fresh_sandbox.aws.requests()
        if r["operation"] == "ListTrainingJobsForHyperParameterTuningJob"
    ]
    assert sorted(listed) == [(n, region) for n, _ in native]  # one call per job, no more


def test_a_view_is_a_dependent_joins_source(fresh_sandbox: Sandbox, session: Session) -> None:
    """A param joined to a view's column takes its values from the view's rows (its query
    over the tables of an earlier stage): the same answer, and the same one call per job, as
    the join on the provider table the view reads."""
    region = "eu-west-1"
    tail = (
        " JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t"
        " ON t.HyperParameterTuningJobName = {name} AND t.region = u.region"
        f" WHERE u.region = '{region}' AND {{status}} = 'Completed' GROUP BY 1 ORDER BY 1"
    )
    native = session.execute(
        "SELECT u.HyperParameterTuningJobName, count(*)"
        " FROM aws.sagemaker.hyper_parameter_tuning_jobs AS u"
        + tail.format(
            name="u.HyperParameterTuningJobName", status="u.HyperParameterTuningJobStatus"
        )
    ).rows
    fresh_sandbox.aws.reset_log()
    through_view = session.execute(
        "SELECT u.TuningJobName, count(*) FROM aws.sagemaker.tuning_jobs AS u"
        + tail.format(name="u.TuningJobName", status="u.TuningJobStatus")
    )
    assert through_view.rows == native and native
    listed = [
        r["params"]["HyperParameterTuningJobName"]
        for r in fresh_sandbox.aws.requests()
        if r["operation"] == "ListTrainingJobsForHyperParameterTuningJob"
    ]
    assert sorted(listed) == [n for n, _ in native]  # one call per job the view gave, no more
    # without `t.region = u.region`, the calls still go to each row's region (and account)
    located = session.execute(
        "SELECT u.TuningJobName, count(*) FROM aws.sagemaker.tuning_jobs AS u"
        + tail.format(name="u.TuningJobName", status="u.TuningJobStatus").replace(
            " AND t.region = u.region", ""
        )
    )
    assert located.rows == native and not located.failures
    unified = session.execute(
        "SELECT count(*) FROM unified.tuning.jobs AS u"
        " JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t"
        " ON t.HyperParameterTuningJobName = u.name AND t.region = u.region"
        f" WHERE u.region = '{region}' AND u.status = 'SUCCEEDED'"
    ).rows
    assert unified == [(sum(n for _, n in native),)]


def test_a_view_joined_to_training_jobs_held_to_a_region_gets_its_rows(
    session: Session,
) -> None:
    # the view's AWS branch read a copy of the training-jobs partner (which needs a tuning
    # job's name to be listed): skipped as an optional branch's table, it held no row, and
    # every row of the branch failed its IN (0 rows, exit 0, a warning). Now the statement is
    # planned without the copy, as when the copy cannot be made
    region = "us-east-1"
    expected = session.execute(
        "SELECT count(*) FROM aws.sagemaker.hyper_parameter_tuning_jobs AS j"
        " JOIN aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t"
        " ON t.HyperParameterTuningJobName = j.HyperParameterTuningJobName"
        f" AND t.region = j.region WHERE j.region = '{region}'"
    ).rows
    result = session.execute(
        "SELECT count(*) FROM aws.sagemaker.hyper_parameter_tuning_job_training_jobs AS t"
        " JOIN unified.tuning.jobs AS h ON h.name = t.HyperParameterTuningJobName"
        f" WHERE t.region = '{region}'"
    )
    assert result.rows == expected and expected[0][0] > 0
    assert not any("training_jobs not queried" in w for w in result.warnings)


def test_the_readmes_dependent_join_on_a_cte_runs(session: Session) -> None:
    """The README's example of a CTE as a dependent join's source, as printed there."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("WITH picked AS (")
    sql = readme[start : readme.index(";", start)]
    result = session.execute(sql)
    assert result.rows and not result.failures
    assert len({job for job, _, _ in result.rows}) == 3  # LIMIT 3 jobs, each with its trials


def test_a_dependent_sources_rows_are_read_through_the_statements_conditions(
    fresh_sandbox: Sandbox, session: Session
) -> None:
    """No call for a source row that the WHERE drops ('bogus' failed the statement) or whose
    region, taken by name, is NULL (a view's Google rows have none), and an error the source's
    own SQL raises is the user's."""
    from stackql_tuning.errors import QueryError

    training = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
    jobs = session.execute(
        "SELECT HyperParameterTuningJobName, region FROM aws.sagemaker.hyper_parameter_tuning_jobs"
        " WHERE region = 'eu-west-1' AND HyperParameterTuningJobStatus = 'Completed' ORDER BY 1"
    ).rows[:2]
    (first, region), (second, _) = jobs
    fresh_sandbox.aws.reset_log()
    result = session.execute(
        f"SELECT p.job, count(*) FROM (VALUES ('{first}', '{region}'),"
        f" ('{second}', '{region}'), ('bogus', '{region}'), ('{first}', NULL))"
        f" AS p(job, region) JOIN {training} AS t"
        " ON t.HyperParameterTuningJobName = p.job"
        " WHERE p.job <> 'bogus' GROUP BY 1 ORDER BY 1"
    )
    # the NULL region's row joins the rows fetched for the first one
    assert [job for job, _ in result.rows] == sorted([first, second])
    assert not result.failures
    listed = [
        r["params"]["HyperParameterTuningJobName"]
        for r in fresh_sandbox.aws.requests()
        if r["operation"] == "ListTrainingJobsForHyperParameterTuningJob"
    ]
    assert sorted(listed) == sorted([first, second])  # none for 'bogus'
    # a condition read as the statement's WHERE reads it: json_extract's SQLite semantics
    # (1 = 1.0), a bare value as a condition ('1' is true)
    same = session.execute(
        f"WITH p AS (SELECT '{first}' AS job, '{region}' AS region,"
        """ '{"a": 1, "b": 1.0, "on": "1"}' AS cfg) SELECT count(*) FROM p"""
        f" JOIN {training} AS t ON t.HyperParameterTuningJobName = p.job"
        " WHERE json_extract(p.cfg, '$.a') = json_extract(p.cfg, '$.b')"
        " AND json_extract(p.cfg, '$.on')"
    )
    assert same.rows[0][0] * 2 == dict(result.rows)[first]  # there, two rows of first
    with pytest.raises(QueryError, match=r"cannot read the rows of subquery AS p.*boom"):
        session.execute(
            f"SELECT 1 FROM (SELECT error('boom') AS job, '{region}' AS region) AS p"
            f" JOIN {training} AS t ON t.HyperParameterTuningJobName = p.job"
        )


def test_the_trials_join_takes_the_partners_project_from_the_config_defaults(
    sandbox: Sandbox, frozen: Sandbox
) -> None:
    # the view's copy of its partner (`... IN (SELECT g.projectsId FROM g ...)`) was taken as
    # constrained by the outer `t.projectsId = g.projectsId`, so the defaults did not stand in
    # for its project: a plan error that literals did not have
    query = (
        "SELECT count(*) FROM google.aiplatform.hyperparameter_tuning_jobs g "
        "JOIN google.aiplatform.hyperparameter_tuning_job_trials t "
        "ON t.hyperparameterTuningJobsId = g.hyperparameterTuningJobsId "
        "AND t.projectsId = g.projectsId AND t.locationsId = g.locationsId "
        "WHERE g.state = 'JOB_STATE_SUCCEEDED'"
    )
    defaults = {"projectsId": list(PROJECTS), "locationsId": list(LOCATIONS)}
    with Session(**sandbox.settings(), defaults=defaults) as s:
        by_default = s.execute(query).rows
        literal = s.execute(
            f"{query} AND g.projectsId IN {tuple(PROJECTS)} AND g.locationsId IN {tuple(LOCATIONS)}"
        ).rows
    assert by_default == literal and by_default[0][0] > 0


def test_pending_training_jobs_of_running_jobs_grid_ones_included(
    sandbox: Sandbox, session: Session
) -> None:
    # a Grid job has no MaxNumberOfTrainingJobs: DuckDB's greatest(NULL - n, 0) is 0, and
    # every running Grid job said 0 pending however much of its grid was left
    regions = _in(sorted(sandbox.truth["aws"]["jobs"]))
    rows = session.execute(
        "SELECT t.Strategy, t.ResourcesStats, h.HyperParameterTuningJobConfig AS config, "
        "h.TrainingJobStatusCounters AS counters FROM aws.sagemaker.tuning_jobs t "
        "JOIN aws.sagemaker.hyper_parameter_tuning_jobs h ON h.HyperParameterTuningJobName = "
        f"t.TuningJobName AND h.region = t.region WHERE t.region IN {regions} "
        "AND t.TuningJobStatus = 'InProgress'"
    ).to_dicts()
    grids = 0
    for row in rows:
        config, counters = json.loads(row["config"]), json.loads(row["counters"])
        limit = config["ResourceLimits"].get("MaxNumberOfTrainingJobs")
        if row["Strategy"] == "Grid" and limit is None:
            grids += 1
            limit = math.prod(
                len(r["Values"]) for r in config["ParameterRanges"]["CategoricalParameterRanges"]
            )
        launched = sum(counters[k] for k in counters)
        pending = json.loads(row["ResourcesStats"])["ConsumedResources"]["Jobs"]["Pending"]
        assert pending == max(limit - launched, 0), row
    assert grids and any(
        json.loads(r["ResourcesStats"])["ConsumedResources"]["Jobs"]["Pending"] for r in rows
    )


def test_a_name_not_found_without_an_account_says_the_account_was_not_given(
    sandbox: Sandbox,
) -> None:
    # a job of the second account in the default region: the warning said only "name region",
    # which was right; the account was what was missing
    name = sorted(sandbox.truth["aws"]["accounts"][SECOND_ACCOUNT]["jobs"]["us-east-1"])[0]
    with Session(**sandbox.settings(), defaults={"region": ["us-east-1"]}) as s:
        result = s.execute(
            f"SELECT TuningJobName FROM aws.sagemaker.tuning_jobs WHERE TuningJobName = '{name}'"
        )
    assert result.rows == []
    [warning] = result.warnings
    assert "AwsAccountId not given" in warning and "name region / AwsAccountId" in warning
