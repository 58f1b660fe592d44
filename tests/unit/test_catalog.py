"""The catalog statements (SHOW ..., DESCRIBE, SHOW INSERT) over the committed registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from stackql_tuning import catalog
from stackql_tuning.errors import PlanError
from stackql_tuning.registry.loader import Registry

REPO = Path(__file__).resolve().parents[2]
HPT = "google.aiplatform.hyperparameter_tuning_jobs"
TJ = "google.aiplatform.tuning_jobs"
SM = "aws.sagemaker.hyper_parameter_tuning_jobs"
SM_TRAINING = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry(REPO / "providers")


@pytest.mark.parametrize(
    ("value", "pattern", "hit"),
    [
        ("tuning_jobs", "%tuning%", True),
        ("tuning_jobs", "TUNING%", True),
        ("tuning_jobs", "tuning", False),
        ("tuning_jobs", "tuning_job_", True),
        ("tuning_jobs", "tuning_job", False),
        ("a.b", "a_b", True),
        ("axb", "a.b", False),
        ("get", None, True),
        ("", "%", True),
    ],
)
def test_like_is_sql_like(value: str, pattern: str | None, hit: bool) -> None:
    assert catalog.like(value, pattern) is hit


def test_show_providers(reg: Registry) -> None:
    cols, rows = catalog.show_providers(reg)
    assert cols == ["name", "version"]
    assert [r[0] for r in rows] == ["aws", "google", "unified"]
    assert all(r[1] for r in rows)
    assert [r[0] for r in catalog.show_providers(reg, like="G_OGLE")[1]] == ["google"]
    assert catalog.show_providers(reg, like="azure%")[1] == []


def test_show_services(reg: Registry) -> None:
    cols, rows = catalog.show_services(reg, "google")
    assert cols == ["name", "id", "title"]
    assert [r[:2] for r in rows] == [("aiplatform", "google.aiplatform")]
    cols, rows = catalog.show_services(reg, "aws", extended=True)
    assert cols == ["name", "id", "title", "version", "description"]
    assert rows[0][0] == "sagemaker" and rows[0][3] == "2017-07-24"
    assert catalog.show_services(reg, "google", like="s%")[1] == []


def test_show_services_unknown_provider_names_the_close_one(reg: Registry) -> None:
    with pytest.raises(PlanError) as err:
        catalog.show_services(reg, "gogle")
    assert "google" in str(err.value)


def test_show_resources(reg: Registry) -> None:
    cols, rows = catalog.show_resources(reg, "google", "aiplatform")
    assert cols == ["name", "id"]
    trials = (
        "hyperparameter_tuning_job_trials",
        "google.aiplatform.hyperparameter_tuning_job_trials",
    )
    assert rows == [("hyperparameter_tuning_jobs", HPT), ("tuning_jobs", TJ), trials]
    assert catalog.show_resources(reg, "google", "aiplatform", like="%TUNING%")[1] == rows
    assert catalog.show_resources(reg, "google", "aiplatform", like="tuning%")[1] == [
        ("tuning_jobs", TJ)
    ]
    cols, rows = catalog.show_resources(reg, "aws", "sagemaker", extended=True)
    assert cols == ["name", "id", "description"]
    assert {r[1] for r in rows} == {SM, SM_TRAINING, "aws.sagemaker.tuning_jobs"}
    assert all(r[2] for r in rows)


def test_show_resources_unknown_service(reg: Registry) -> None:
    with pytest.raises(PlanError) as err:
        catalog.show_resources(reg, "google", "aiplatfrom")
    assert "aiplatform" in str(err.value)


def test_show_methods(reg: Registry) -> None:
    cols, rows = catalog.show_methods(reg, HPT)
    assert cols == ["MethodName", "RequiredParams", "SQLVerb"]
    assert rows[0] == ("get", "hyperparameterTuningJobsId, locationsId, projectsId", "SELECT")
    assert [r[0] for r in rows] == ["get", "list", "create", "delete", "_list", "cancel"]
    cols, rows = catalog.show_methods(reg, HPT, like="c%", extended=True)
    assert cols == ["MethodName", "RequiredParams", "SQLVerb", "description"]
    assert [r[0] for r in rows] == ["create", "cancel"]
    assert rows[1][3].startswith("Cancels a HyperparameterTuningJob.")
    assert [r[0] for r in catalog.show_methods(reg, HPT, like="\\_list")[1]] == []
    assert [r[0] for r in catalog.show_methods(reg, HPT, like="_list")[1]] == ["_list"]


def test_unknown_resource_names_close_ones(reg: Registry) -> None:
    with pytest.raises(PlanError) as err:
        catalog.show_methods(reg, "google.aiplatform.hyperparameter_tuning_job")
    assert "hyperparameter_tuning_jobs" in str(err.value)
    with pytest.raises(PlanError) as err:
        catalog.describe(reg, "aws.sagemaker.hyperparameter_tuning_jobs")
    assert "hyper_parameter_tuning_jobs" in str(err.value)
    with pytest.raises(PlanError):
        catalog.describe(reg, "google.tuning_jobs")


def test_describe(reg: Registry) -> None:
    cols, rows = catalog.describe(reg, HPT)
    assert cols == ["name", "type"]
    assert rows[0] == ("name", "string")
    assert ("trials", "array") in rows and ("studySpec", "object") in rows
    assert ("maxTrialCount", "integer") in rows
    cols, rows = catalog.describe(reg, SM, extended=True)
    assert cols == ["name", "type", "sql_type", "description"]
    by_name = {r[0]: r for r in rows}
    assert by_name["CreationTime"][1:3] == ("string", "TIMESTAMPTZ")  # what now() compares with
    assert by_name["HyperParameterTuningJobConfig"][1:3] == ("object", "JSON")
    assert by_name["TrainingJobCounters"][3]


def test_describe_says_a_page_size_option_does_not_cap_the_rows(reg: Registry) -> None:
    # MaxResults is "the maximum number of tuning jobs to return" in the API's words: here it
    # sizes each page of a list that is read to its end
    note = catalog.params_note(reg, SM) or ""
    assert "MaxResults sets the size of each page, not the rows" in note
    assert "pageSize sets the size of each page" in (catalog.params_note(reg, HPT) or "")


def _fill(sql: str) -> str:
    return re.sub(r"\{\{ (\w+) \}\}", lambda m: f"v_{m.group(1)}", sql)


@pytest.mark.parametrize("res", [HPT, TJ, SM])
@pytest.mark.parametrize("required_only", [False, True])
def test_show_insert_is_a_valid_insert(reg: Registry, res: str, required_only: bool) -> None:
    cols, rows = catalog.show_insert(reg, res, required_only=required_only)
    assert cols == ["insert_statement"] and len(rows) == 1
    text = rows[0][0]
    assert "{{ " in text
    tree = sqlglot.parse_one(_fill(text), read="duckdb")
    assert isinstance(tree, exp.Insert)
    target = tree.this
    assert isinstance(target, exp.Schema)
    assert ".".join(p.name for p in target.this.parts) == res
    names = [c.name for c in target.expressions]
    select = tree.expression
    assert isinstance(select, exp.Select)
    assert [e.name for e in select.expressions] == [f"v_{n}" for n in names]
    resource = reg.resource(res)
    create = resource.methods_for("INSERT")[0]
    required = set(create.required_params) | {b.name for b in create.body if b.required}
    required |= {group[0] for group in create.body_one_of}  # one of a group: its first
    assert required <= set(names)
    output_only = {b.name for b in create.body if b.output_only}
    assert not output_only & set(names)
    if required_only:
        assert set(names) == required
    first = sorted(create.required_params, key=str.lower)
    assert names[: len(first)] == first


def test_show_insert_writable_fields_only(reg: Registry) -> None:
    text = catalog.show_insert(reg, HPT)[1][0][0]
    assert "displayName" in text and "studySpec" in text
    assert "createTime" not in text and "trials" not in text


def test_show_insert_without_insert_method(reg: Registry) -> None:
    with pytest.raises(PlanError) as err:
        catalog.show_insert(reg, SM_TRAINING)
    assert "no INSERT method" in str(err.value)


def test_show_methods_of_a_view_says_what_it_is() -> None:
    # an empty table with no word: the seed-004 view looked broken
    import stackql_tuning

    with stackql_tuning.connect() as s:
        result = s.execute("SHOW METHODS IN aws.sagemaker.tuning_jobs")
        assert result.rows == []
        [note] = result.messages
        assert "view over aws.sagemaker.hyper_parameter_tuning_jobs" in note
        assert "region" in note and "SELECT" in note
        assert s.execute("SHOW METHODS IN aws.sagemaker.hyper_parameter_tuning_jobs").messages == []


def test_describe_names_the_parameters_that_are_columns_too() -> None:
    # region / projectsId are required in a WHERE and selectable, yet DESCRIBE did not list them
    import stackql_tuning

    with stackql_tuning.connect() as s:
        [note] = s.execute("DESCRIBE aws.sagemaker.hyper_parameter_tuning_jobs").messages
        assert "region, AwsAccountId" in note and "StatusEquals" in note
        [note] = s.execute("DESCRIBE google.aiplatform.hyperparameter_tuning_jobs").messages
        assert "projectsId, locationsId, hyperparameterTuningJobsId" in note
