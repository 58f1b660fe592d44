"""Planning mutations without I/O: columns, types, DELETE bindings, EXEC params, dry-run, AWAIT."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest
from test_mutate_golden import no_call_session

from stackql_tuning import catalog, errors
from stackql_tuning.cli import main
from stackql_tuning.plan import mutate as pm
from stackql_tuning.plan.coerce import coerce_value, nesting_depth
from stackql_tuning.plan.mutate_delete import plan_delete
from stackql_tuning.plan.mutate_exec import plan_exec
from stackql_tuning.registry.loader import Registry
from stackql_tuning.run import await_
from stackql_tuning.sql import parse
from stackql_tuning.transports.base import Call, CallError, Page

REPO = Path(__file__).resolve().parents[2]
HPT = "google.aiplatform.hyperparameter_tuning_jobs"
TJ = "google.aiplatform.tuning_jobs"
SM = "aws.sagemaker.hyper_parameter_tuning_jobs"
STUDY = '{"metrics": [{"metricId": "acc", "goal": "MAXIMIZE"}], "parameters": []}'
TRAINING_DEFINITION = (
    '{"AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"}, '
    '"RoleArn": "arn:aws:iam::123456789012:role/r", "OutputDataConfig": {"S3OutputPath": '
    '"s3://b/o"}, "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, '
    '"VolumeSizeInGB": 5}, "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}'
)


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry(REPO / "providers")


def stmt(sql: str):  # type: ignore[no-untyped-def]
    (s,) = parse(sql)
    return s


def insert_calls(reg: Registry, sql: str) -> list[pm.PlannedCall]:
    node = stmt(sql).expression
    resource, method, written = pm.insert_target(node, reg)
    slots = pm.resolve_columns(resource, method, written)
    rows = pm.literal_rows(node, None)
    assert rows is not None
    return [pm.build_insert_call(resource, method, slots, r, i) for i, r in enumerate(rows, 1)]


# ----------------------------------------------------------------------------- coercion
@pytest.mark.parametrize(
    ("api_type", "fmt", "value", "want"),
    [
        ("integer", "int32", 5, 5),
        ("integer", "int32", "7", 7),
        ("integer", "int32", 3.0, 3),
        ("integer", "int64", 5, "5"),
        ("string", "int64", "12", "12"),
        ("string", "int64", 12, "12"),
        ("number", None, 1, 1),
        ("number", None, "0.5", 0.5),
        ("boolean", None, "true", True),
        ("boolean", None, False, False),
        ("object", None, '{"a": 1}', {"a": 1}),
        ("object", None, {"a": 1}, {"a": 1}),
        ("array", None, "[1, 2]", [1, 2]),
        ("string", None, "x", "x"),
    ],
)
def test_coerce_accepts(api_type: str, fmt: str | None, value: object, want: object) -> None:
    assert coerce_value("c", api_type, value, fmt=fmt) == want


@pytest.mark.parametrize(
    ("api_type", "value", "fragment"),
    [
        ("integer", True, "expects an integer, got the boolean true"),
        ("integer", "1.5", "expects an integer"),
        ("number", "abc", "expects a number"),
        ("boolean", 1, "expects a boolean"),
        ("object", "[1]", "expects a JSON object, got a JSON array"),
        ("object", "{bad", "is not valid JSON"),
        ("string", 5, "quote it: '5'"),
    ],
)
def test_coerce_refuses(api_type: str, value: object, fragment: str) -> None:
    with pytest.raises(errors.PlanError) as info:
        coerce_value("row 1, column c", api_type, value)
    assert fragment in str(info.value)
    assert "row 1, column c" in str(info.value)


def test_json_nested_too_deeply_is_a_plan_error_naming_the_column() -> None:
    deep = "[" * 100_000 + "]" * 100_000  # the decoder itself would overflow the stack
    with pytest.raises(errors.PlanError, match=r"row 1, column c: is too deeply nested"):
        coerce_value("row 1, column c", "array", deep)
    # deep enough to decode, too deep for the encoders and validators downstream
    with pytest.raises(errors.PlanError, match="more than 100 levels"):
        coerce_value("c", "object", '{"a": ' + "[" * 980 + "]" * 980 + "}")
    nested: list[object] = []
    for _ in range(2000):
        nested = [nested]
    with pytest.raises(errors.PlanError, match="too deeply nested"):
        coerce_value("c", "array", nested)
    ok = "[" * 99 + "]" * 99
    assert coerce_value("c", "object", '{"a": ' + ok + "}") == {"a": json.loads(ok)}
    assert nesting_depth({"a": [1, {"b": []}], "c": 2}) == 4 and nesting_depth(5) == 0


def test_deep_json_in_insert_and_exec_is_refused_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    script = tmp_path / "deep.iql"
    script.write_text(
        f"INSERT INTO {SM} (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig)"
        f" SELECT 'us-east-1', 'deep', '{deep}';\n"
        f"EXEC {SM}.stop @region='us-east-1' @@json='{{\"a\": {deep}}}';\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["--dry-run", "exec", "-f", str(script)], out=out, err=err) == 1
    assert "column HyperParameterTuningJobConfig: is too deeply nested" in err.getvalue()
    assert "internal error" not in err.getvalue()
    script.write_text(f"EXEC {SM}.stop @region='us-east-1' @@json='{{\"a\": {deep}}}';\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--dry-run", "exec", "-f", str(script)], out=out, err=err) == 1
    assert "@@json: is too deeply nested" in err.getvalue()


@pytest.mark.parametrize(
    ("fmt", "value", "fragment"),
    [
        ("int32", 3_000_000_000, "between -2147483648 and 2147483647 (int32)"),
        ("int32", 9999999999999999999999, "between -2147483648 and 2147483647 (int32)"),
        ("int32", "9999999999999999999999", "between -2147483648 and 2147483647 (int32)"),
        ("uint32", -1, "between 0 and 4294967295 (uint32)"),
        ("int64", 2**63, "between -9223372036854775808 and 9223372036854775807 (int64)"),
    ],
)
def test_integers_are_checked_against_their_format_range(
    fmt: str, value: object, fragment: str
) -> None:
    with pytest.raises(errors.PlanError) as info:
        coerce_value("row 1, column c", "integer", value, fmt=fmt)
    assert f"row 1, column c: {value} is out of range: it must be {fragment}" in str(info.value)
    assert coerce_value("c", "integer", 2**31 - 1, fmt="int32") == 2**31 - 1


def test_integer_bounds_of_the_definition_narrow_the_range() -> None:
    with pytest.raises(errors.PlanError) as info:
        coerce_value("c", "integer", 0, fmt="int32", minimum=1, maximum=100)
    assert "between 1 and 100 (int32)" in str(info.value)


def test_insert_int32_column_out_of_range_is_a_plan_error(reg: Registry) -> None:
    with pytest.raises(errors.PlanError) as info:
        insert_calls(
            reg,
            f"INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
            f"parallelTrialCount, studySpec, trialJobSpec) VALUES ('p', 'us-central1', 'd', "
            f"3000000000, 2, '{STUDY}', '{{}}')",
        )
    assert "row 1, column maxTrialCount: 3000000000 is out of range" in str(info.value)
    assert "2147483647 (int32)" in str(info.value)


def test_nested_integers_of_json_columns_are_range_checked(reg: Registry) -> None:
    # the path inside the JSON column is named, with botocore's min and the int32 max
    with pytest.raises(errors.PlanError) as info:
        insert_calls(
            reg,
            f"INSERT INTO {SM} (region, HyperParameterTuningJobName, "
            "HyperParameterTuningJobConfig) VALUES ('us-east-1', 'j', '{\"Strategy\": "
            '"Random", "ResourceLimits": {"MaxNumberOfTrainingJobs": 99999999999}}\')',
        )
    text = str(info.value)
    assert (
        "column HyperParameterTuningJobConfig, field ResourceLimits.MaxNumberOfTrainingJobs: "
        "99999999999 is out of range: it must be between 1 and 2147483647 (int32)"
    ) in text
    with pytest.raises(errors.PlanError) as info:
        insert_calls(
            reg,
            f"INSERT INTO {HPT} (projectsId, locationsId, displayName, maxTrialCount, "
            f"parallelTrialCount, studySpec, trialJobSpec) VALUES ('p', 'us-central1', 'd', "
            f'4, 2, \'{STUDY}\', \'{{"workerPoolSpecs": [{{}}, {{"replicaCount": '
            '"99999999999999999999"}]}\')',
        )
    assert "field workerPoolSpecs[1].replicaCount: 99999999999999999999" in str(info.value)
    with pytest.raises(errors.PlanError) as info:
        plan_exec(
            stmt(
                f"EXEC {TJ}.rebase_tuned_model @projectsId='p', @locationsId='us-central1' "
                '@@json=\'{"tuningJob": {"supervisedTuningSpec": {"hyperParameters": '
                '{"epochCount": 99999999999999999999}}}}\''
            ).expression,
            reg,
        )
    assert "field supervisedTuningSpec.hyperParameters.epochCount" in str(info.value)


def test_enum_values_are_checked() -> None:
    with pytest.raises(errors.PlanError) as info:
        coerce_value("c", "string", "Bayesain", enum=("Bayesian", "Random"))
    assert "did you mean 'Bayesian'" in str(info.value)


# ----------------------------------------------------------------------------- INSERT
def test_insert_values_types_and_data_prefix(reg: Registry) -> None:
    (call,) = insert_calls(
        reg,
        f"INSERT INTO {HPT} (projectsId, locationsId, data__displayName, maxTrialCount, "
        f"parallelTrialCount, studySpec, trialJobSpec, labels) VALUES ('p', 'us-central1', 'd', "
        f"'4', 2, '{STUDY}', '{{}}', '{{\"team\": \"ml\"}}')",
    )
    assert call.params == {"projectsId": "p", "locationsId": "us-central1"}
    assert call.body == {
        "displayName": "d",
        "maxTrialCount": 4,
        "parallelTrialCount": 2,
        "studySpec": json.loads(STUDY),
        "trialJobSpec": {},
        "labels": {"team": "ml"},
    }


def test_insert_several_rows_one_call_each(reg: Registry) -> None:
    calls = insert_calls(
        reg,
        f"INSERT INTO {TJ} (projectsId, locationsId, baseModel) VALUES "
        "('p', 'us-central1', 'a'), ('p', 'europe-west4', 'b')",
    )
    assert [c.row for c in calls] == [1, 2]
    assert [c.params["locationsId"] for c in calls] == ["us-central1", "europe-west4"]
    assert [c.body for c in calls] == [{"baseModel": "a"}, {"baseModel": "b"}]


def test_insert_output_only_columns_are_dropped_with_a_warning(reg: Registry) -> None:
    sql = (
        f"INSERT INTO {TJ} (projectsId, locationsId, baseModel, name, state, createTime) "
        "VALUES ('p', 'us-central1', 'm', 'x', 'JOB_STATE_RUNNING', 'now')"
    )
    node = stmt(sql).expression
    resource, method, written = pm.insert_target(node, reg)
    slots = pm.resolve_columns(resource, method, written)
    warning = pm.dropped_warning(resource, slots)
    assert warning is not None and "name, state, createTime" in warning
    (call,) = insert_calls(reg, sql)
    assert call.body == {"baseModel": "m"}


def test_insert_aws_body_follows_the_input_shape(reg: Registry) -> None:
    (call,) = insert_calls(
        reg,
        f"INSERT INTO {SM} (region, HyperParameterTuningJobName, HyperParameterTuningJobConfig) "
        'VALUES (\'us-east-1\', \'j\', \'{"Strategy": "Random", "ResourceLimits": '
        '{"MaxParallelTrainingJobs": 1}}\')',
    )
    assert call.params == {"region": "us-east-1"}
    assert call.body == {
        "HyperParameterTuningJobName": "j",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "ResourceLimits": {"MaxParallelTrainingJobs": 1},
        },
    }


def test_show_insert_output_is_a_runnable_insert(reg: Registry) -> None:
    """SHOW INSERT INTO's statement, placeholders filled, plans to one create call."""
    fills = {
        "projectsId": "p",
        "locationsId": "us-central1",
        "region": "us-east-1",
        "displayName": "d",
        "maxTrialCount": "3",
        "parallelTrialCount": "1",
        "maxFailedTrialCount": "0",
        "studySpec": STUDY,
        "trialJobSpec": "{}",
        "baseModel": "m",
        "supervisedTuningSpec": '{"trainingDatasetUri": "gs://b/t.jsonl"}',
        "TrainingJobDefinition": TRAINING_DEFINITION,
        "HyperParameterTuningJobName": "j",
        "HyperParameterTuningJobConfig": '{"Strategy": "Random", "ResourceLimits": '
        '{"MaxParallelTrainingJobs": 1}}',
    }
    for rid in (HPT, TJ, SM):
        for required in (True, False):
            text = catalog.insert_statement(reg.resource(rid), required)
            res = reg.resource(rid)
            method = res.methods_for("INSERT")[0]
            types = {b.name: b.type for b in method.body}
            for col in catalog.insert_columns(res, required):
                value = fills.get(col)
                if value is None:  # optional: NULL (left out) or a value of its type
                    simple = {"boolean": "false", "string": "x"}.get(types.get(col, ""))
                    text = text.replace(
                        "'{{ " + col + " }}'", "NULL" if simple is None else f"'{simple}'"
                    )
                    continue
                text = text.replace("{{ " + col + " }}", value.replace("'", "''"))
            session = no_call_session(dry_run=True)
            try:
                result = session.execute(text)
            finally:
                session.close()
            assert result.kind == "dry-run" and len(result.rows) == 1, text


# ----------------------------------------------------------------------------- DELETE
def test_delete_expands_in_lists(reg: Registry) -> None:
    plan = plan_delete(
        stmt(
            f"DELETE FROM {HPT} WHERE projectsId = 'p' AND locationsId IN ('us-central1', "
            "'europe-west4') AND hyperparameterTuningJobsId = 12"
        ).expression,
        reg,
        None,
    )
    assert [c.params for c in plan.calls] == [
        {"projectsId": "p", "locationsId": "us-central1", "hyperparameterTuningJobsId": "12"},
        {"projectsId": "p", "locationsId": "europe-west4", "hyperparameterTuningJobsId": "12"},
    ]


def test_delete_by_identity_name(reg: Registry) -> None:
    name = "projects/p/locations/us-central1/hyperparameterTuningJobs/{}"
    plan = plan_delete(
        stmt(
            f"DELETE FROM {HPT} j WHERE j.name IN ('{name.format(1)}', '{name.format(2)}')"
        ).expression,
        reg,
        None,
    )
    assert [c.params["hyperparameterTuningJobsId"] for c in plan.calls] == ["1", "2"]
    assert {c.params["projectsId"] for c in plan.calls} == {"p"}


def test_delete_by_names_of_different_parents_is_refused(reg: Registry) -> None:
    a = "projects/p/locations/us-central1/hyperparameterTuningJobs/1"
    b = "projects/q/locations/us-central1/hyperparameterTuningJobs/2"
    with pytest.raises(errors.PlanError, match="one parent"):
        plan_delete(stmt(f"DELETE FROM {HPT} WHERE name IN ('{a}', '{b}')").expression, reg, None)


def test_delete_column_of_another_table_is_refused(reg: Registry) -> None:
    with pytest.raises(errors.PlanError, match="is not allowed"):
        plan_delete(
            stmt(
                f"DELETE FROM {HPT} j WHERE x.projectsId = 'p' AND locationsId = 'l' "
                "AND hyperparameterTuningJobsId = '1'"
            ).expression,
            reg,
            None,
        )


# ----------------------------------------------------------------------------- EXEC
def test_exec_doc_form_with_required_comments(reg: Registry) -> None:
    plan = plan_exec(
        stmt(
            f"EXEC {HPT}.cancel\n@hyperparameterTuningJobsId='7' --required,\n"
            "@locationsId='us-central1' --required,\n@projectsId='p' --required;"
        ).expression,
        reg,
    )
    assert plan.method.name == "cancel"
    assert plan.calls[0].params == {
        "hyperparameterTuningJobsId": "7",
        "locationsId": "us-central1",
        "projectsId": "p",
    }
    assert plan.calls[0].body is None


def test_exec_json_is_merged_into_the_body(reg: Registry) -> None:
    plan = plan_exec(
        stmt(
            f"EXEC {TJ}.rebase_tuned_model @projectsId='p', @locationsId='us-central1' "
            '@@json=\'{"tunedModelRef": "{\\"tuningJob\\": \\"t\\"}", "deployToSameEndpoint": '
            'true, "tuningJob": {"name": "ignored-by-server"}}\''
        ).expression,
        reg,
    )
    body = plan.calls[0].body
    assert body == {
        "tunedModelRef": {"tuningJob": "t"},  # StackQL's doc form quotes objects: parsed
        "deployToSameEndpoint": True,
        "tuningJob": {"name": "ignored-by-server"},
    }


def test_exec_aws_param_names_are_case_insensitive(reg: Registry) -> None:
    plan = plan_exec(
        stmt(
            f"EXEC {SM}.stop_hyper_parameter_tuning_job @Region='us-east-1', "
            "@hyperparametertuningjobname=42"
        ).expression,
        reg,
    )
    assert plan.method.name == "stop"
    assert plan.calls[0].params == {"region": "us-east-1", "HyperParameterTuningJobName": "42"}


def test_exec_param_and_json_naming_two_jobs_is_refused(reg: Registry) -> None:
    # the body member would win in the SDK call while the report named the @param job
    with pytest.raises(errors.PlanError, match="HyperParameterTuningJobName") as e:
        plan_exec(
            stmt(
                f"EXEC {SM}.stop @region='us-east-1', @HyperParameterTuningJobName='a' "
                '@@json=\'{"HyperParameterTuningJobName": "b"}\''
            ).expression,
            reg,
        )
    assert "'a'" in str(e.value) and "'b'" in str(e.value)
    same = plan_exec(
        stmt(
            f"EXEC {SM}.stop @region='us-east-1', @HyperParameterTuningJobName='a' "
            '@@json=\'{"HyperParameterTuningJobName": "a"}\''
        ).expression,
        reg,
    )
    assert same.calls[0].params["HyperParameterTuningJobName"] == "a"


# ----------------------------------------------------------------------------- dry run
def test_dry_run_lists_calls_and_makes_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H7_KEY", "AKIAH7SECRETKEYID000")
    monkeypatch.setenv("H7_SECRET", "h7-super-secret-value")
    session = no_call_session(
        dry_run=True,
        auth={
            "google": {"type": "anonymous"},
            "aws": {
                "type": "aws_signing_v4",
                "keyIDenvvar": "H7_KEY",
                "credentialsenvvar": "H7_SECRET",
            },
        },
    )
    try:
        texts = []
        for sql in (
            f"INSERT INTO {TJ} (projectsId, locationsId, baseModel, supervisedTuningSpec) "
            "VALUES ('p', 'us-central1', 'm', '{\"trainingDatasetUri\": \"gs://b/t.jsonl\"}')",
            f"DELETE FROM {SM} WHERE region = 'us-east-1' "
            "AND HyperParameterTuningJobName IN ('a', 'b')",
            f"/*+ AWAIT */ EXEC {HPT}.cancel @projectsId='p', @locationsId='us-central1', "
            "@hyperparameterTuningJobsId='1'",
        ):
            result = session.execute(sql)
            assert result.kind == "dry-run"
            assert any("none was made" in m for m in result.messages)
            texts.append(repr(result.rows) + repr(result.messages))
        joined = "\n".join(texts)
        assert "POST https://us-central1-aiplatform.googleapis.com/v1/projects/p/" in joined
        assert '"baseModel": "m"' in joined
        assert joined.count("DeleteHyperParameterTuningJob") == 2
        assert ":cancel" in joined
        assert "AKIAH7SECRETKEYID000" not in joined and "h7-super-secret-value" not in joined
    finally:
        session.close()


def test_a_dry_run_makes_the_scripts_own_macros_and_tables() -> None:
    # the INSERT's macro did not exist in a dry run ("Scalar Function with name nm does not
    # exist!"), nor a table made from VALUES: a script that ran could not be previewed
    session = no_call_session(dry_run=True)
    try:
        results = session.execute_script(
            "CREATE MACRO nm(x) AS ('dry-' || x);"
            "CREATE TABLE picks AS SELECT * FROM (VALUES ('a'), ('b')) t(x);"
            f"INSERT INTO {TJ} (projectsId, locationsId, baseModel, supervisedTuningSpec, "
            "tunedModelDisplayName) SELECT 'p', 'us-central1', 'm', "
            '\'{"trainingDatasetUri": "gs://b/t.jsonl"}\', nm(x) FROM picks'
        )
        assert [r.kind for r in results] == ["other", "other", "dry-run"]
        assert len(results[2].rows) == 2  # one create per row of picks
        assert '"tunedModelDisplayName": "dry-a"' in repr(results[2].rows)
        # one that reads provider tables is not run, and says so
        made = session.execute(
            f"CREATE TABLE snap AS SELECT name FROM {HPT} "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        )
        assert made.kind == "dry-run" and len(made.rows) == 1
        assert any("was not run" in w for w in made.warnings)
        with pytest.raises(errors.PlanError, match="snap does not exist"):
            session.execute("SELECT * FROM snap")
    finally:
        session.close()


def test_insert_update_and_delete_of_a_local_table_run_in_duckdb() -> None:
    # they were "INSERT needs a provider resource" and "UPDATE statements are not supported"
    session = no_call_session()
    try:
        session.execute_script(
            "CREATE TABLE picks (x VARCHAR);"
            "INSERT INTO picks VALUES ('a'), ('b');"
            "UPDATE picks SET x = 'c' WHERE x = 'b';"
            "DELETE FROM picks WHERE x = 'a'"
        )
        assert session.execute("SELECT x FROM picks").rows == [("c",)]
        with pytest.raises(errors.PlanError, match=f"UPDATE cannot change {HPT}"):
            session.execute(f"UPDATE {HPT} SET displayName = 'x' WHERE projectsId = 'p'")
    finally:
        session.close()


# ----------------------------------------------------------------------------- AWAIT
class ScriptedFetcher:
    """Replies from a script, one per fetch; records the calls."""

    def __init__(self, replies: list[object]) -> None:
        self.replies = list(replies)
        self.calls: list[Call] = []

    def fetch(self, call: Call, token: str | None = None) -> Page:
        self.calls.append(call)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, CallError):
            raise reply
        return Page(raw=orjson.dumps(reply))


class FakeSession:
    def __init__(self, fetcher: ScriptedFetcher, timeout: float = 30.0) -> None:
        from stackql_tuning.settings import Settings

        self.fetcher = fetcher
        self.settings = Settings(await_interval=0.0, await_timeout=timeout)
        self.cancelled = False
        self.lines: list[str] = []
        self.notify = self.lines.append


def test_state_column_comes_from_the_enum(reg: Registry) -> None:
    assert await_.state_column(reg.resource(HPT)).name == "state"  # type: ignore[union-attr]
    col = await_.state_column(reg.resource(SM))
    assert col is not None and col.name == "HyperParameterTuningJobStatus"


def test_await_terminal_polls_until_cancelled(reg: Registry) -> None:
    fetcher = ScriptedFetcher(
        [{"state": "JOB_STATE_CANCELLING"}] * 3 + [{"state": "JOB_STATE_CANCELLED"}]
    )
    params = {"projectsId": "p", "locationsId": "us-central1", "hyperparameterTuningJobsId": "1"}
    state = await_.await_terminal(FakeSession(fetcher), reg.resource(HPT), params, "cancel x")  # type: ignore[arg-type]
    assert state == "JOB_STATE_CANCELLED"
    assert len(fetcher.calls) == 4 and all(c.method.name == "get" for c in fetcher.calls)


def test_await_timeout_names_the_last_state(reg: Registry) -> None:
    fetcher = ScriptedFetcher([{"state": "JOB_STATE_CANCELLING"}])
    session = FakeSession(fetcher, timeout=0.0)
    with pytest.raises(errors.StatementTimeout) as info:
        await_.await_terminal(
            session,
            reg.resource(HPT),
            {
                "projectsId": "p",
                "locationsId": "l",  # type: ignore[arg-type]
                "hyperparameterTuningJobsId": "1",
            },
            "cancel x",
        )
    assert "last state seen: JOB_STATE_CANCELLING" in str(info.value)


def test_await_gone_ends_on_not_found(reg: Registry) -> None:
    fetcher = ScriptedFetcher(
        [
            {"HyperParameterTuningJobStatus": "Deleting"},
            CallError(400, "ResourceNotFound: gone", not_found=True),
        ]
    )
    params = {"region": "us-east-1", "HyperParameterTuningJobName": "j"}
    assert (
        await_.await_gone(FakeSession(fetcher), reg.resource(SM), params, "delete j") == "deleted"
    )  # type: ignore[arg-type]


def test_operation_polling_builds_a_checked_get(reg: Registry) -> None:
    name = "projects/p/locations/us-central1/operations/42"
    call = await_.operation_call(reg.resource(HPT), name)
    assert call.method.request == {
        "http_method": "GET",
        "path": "v1/projects/{projectsId}/locations/{locationsId}/operations/{operationsId}",
    }
    assert call.params == {"projectsId": "p", "locationsId": "us-central1", "operationsId": "42"}
    fetcher = ScriptedFetcher([{"name": name}, {"name": name, "done": True, "response": {}}])
    final = await_.await_operation(FakeSession(fetcher), reg.resource(HPT), {"name": name}, "d")  # type: ignore[arg-type]
    assert final["done"] is True
    failing = ScriptedFetcher([{"name": name, "done": True, "error": {"code": 9, "message": "no"}}])
    with pytest.raises(errors.ProviderError, match="failed: 9 no"):
        await_.await_operation(FakeSession(failing), reg.resource(HPT), {"name": name}, "d")  # type: ignore[arg-type]


def test_await_prints_progress_lines(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(await_, "PROGRESS_EVERY", 0.0)
    fetcher = ScriptedFetcher(
        [{"state": "JOB_STATE_CANCELLING"}] * 2 + [{"state": "JOB_STATE_CANCELLED"}]
    )
    session = FakeSession(fetcher)
    params = {"projectsId": "p", "locationsId": "l", "hyperparameterTuningJobsId": "1"}
    await_.await_terminal(session, reg.resource(HPT), params, "cancel j")  # type: ignore[arg-type]
    assert session.lines and all(
        line.startswith("cancel j in progress, ")
        and "s elapsed (state JOB_STATE_CANCELLING)" in line
        for line in session.lines
    )


def test_notify_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    class Bare:
        pass

    await_.notify(Bare(), "stop j in progress, 5 s elapsed")  # type: ignore[arg-type]
    assert capsys.readouterr().err == "stop j in progress, 5 s elapsed\n"


def test_await_polls_past_the_response_cache(reg: Registry) -> None:
    """With a response cache on (the shell's default), every poll still reaches the API."""
    from stackql_tuning.run.fetch import Fetcher
    from stackql_tuning.settings import Settings

    script = ScriptedFetcher(
        [{"state": "JOB_STATE_CANCELLING"}] * 2 + [{"state": "JOB_STATE_CANCELLED"}]
    )
    fetcher = Fetcher(Settings(cache_ttl=300.0), reg)
    fetcher._transports["google"] = script
    session = FakeSession(script)
    session.fetcher = fetcher  # type: ignore[assignment]
    params = {"projectsId": "p", "locationsId": "l", "hyperparameterTuningJobsId": "1"}
    state = await_.await_terminal(session, reg.resource(HPT), params, "cancel j")  # type: ignore[arg-type]
    assert state == "JOB_STATE_CANCELLED" and len(script.calls) == 3


def test_a_mutation_report_names_the_aws_account_it_changed(reg: Registry) -> None:
    from stackql_tuning.run.mutate_calls import target_text

    resource = reg.resource(SM)
    stop = resource.method("stop")
    params = {"region": "us-east-1", "HyperParameterTuningJobName": "j1"}
    assert target_text(resource, Call(resource, stop, dict(params))) == "j1 in us-east-1"
    other = Call(resource, stop, {**params, "AwsAccountId": "210987654321"})
    assert target_text(resource, other) == "j1 in us-east-1 (AwsAccountId=210987654321)"


@pytest.mark.parametrize("clause", ["RETURNING HyperParameterTuningJobArn", "LIMIT 1"])
def test_delete_returning_or_limit_is_refused_not_ignored(reg: Registry, clause: str) -> None:
    sql = f"DELETE FROM {SM} WHERE region = 'us-east-1' AND HyperParameterTuningJobName = 'a' "
    with pytest.raises(errors.PlanError, match=clause.split()[0] + " is not supported"):
        plan_delete(stmt(sql + clause).expression, reg, None)


def test_delete_hint_is_runnable_sql(reg: Registry) -> None:
    with pytest.raises(errors.PlanError) as e:
        plan_delete(stmt(f"DELETE FROM {HPT} WHERE projectsId = 'p'").expression, reg, None)
    assert "projectsId = '...' AND locationsId = '...' AND" in (e.value.hint or "")


def test_a_view_has_no_insert_method_and_says_it_is_a_view(reg: Registry) -> None:
    with pytest.raises(errors.PlanError, match=r"no INSERT method \(it is a read-only view\)"):
        reg.resource("aws.sagemaker.tuning_jobs").method_for_verb("INSERT")


@pytest.mark.parametrize(
    ("where", "hint"),
    [
        # a state guard is a column: the hint offered the name param in its place
        ("HyperParameterTuningJobStatus = 'Completed'", "is a column, which a DELETE cannot"),
        ("HyperParameterTuningJobNam = 'x'", "did you mean 'HyperParameterTuningJobName'?"),
    ],
)
def test_a_delete_predicate_on_no_param_says_what_it_is(
    reg: Registry, where: str, hint: str
) -> None:
    sql = (
        "DELETE FROM aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1' "
        f"AND HyperParameterTuningJobName = 'j' AND {where}"
    )
    with pytest.raises(errors.PlanError) as info:
        plan_delete(stmt(sql).expression, reg, None)
    assert hint in (info.value.hint or "")


def test_a_struct_with_decimals_and_dates_becomes_json_values() -> None:
    # DuckDB reads 0.5 in a STRUCT literal as a DECIMAL: the request failed with "Type is not
    # JSON serializable: decimal.Decimal" (an internal error), and a dry run showed "0.5"
    import datetime as dt
    from decimal import Decimal

    from stackql_tuning.plan.coerce import coerce_value

    spec = {"doubleValueSpec": {"minValue": Decimal("0.1"), "maxValue": Decimal("4")}}
    value = {"parameters": [spec], "day": dt.date(2026, 11, 25), "n": (1, 2)}
    got = coerce_value("studySpec", "object", value)
    assert got == {
        "parameters": [{"doubleValueSpec": {"minValue": 0.1, "maxValue": 4}}],
        "day": "2026-11-25",
        "n": [1, 2],
    }
    assert isinstance(got["parameters"][0]["doubleValueSpec"]["minValue"], float)


def test_a_dry_run_writes_nothing_to_a_database_in_use(tmp_path: Path) -> None:
    # with `USE f` (a file database) a dry run's CREATE TABLE and INSERT went into the file
    session = no_call_session()
    try:
        path = tmp_path / "f.duckdb"
        session.execute_script(f"ATTACH '{path}' AS f; CREATE TABLE f.t (x INT); USE f")
        session.settings.dry_run = True
        made = session.execute("CREATE TABLE made (x INT)")
        assert made.kind == "dry-run" and any("was not run" in w for w in made.warnings)
        session.execute("INSERT INTO t VALUES (1)")
        session.settings.dry_run = False
        assert session.execute("SELECT count(*) FROM f.t").rows == [(0,)]
        tables = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'made'"
        assert session.execute(tables).rows == [(0,)]
    finally:
        session.close()
