"""The registry, the generated pages and the catalog reproduce the seed pages.

The seed pages live in ``../shared/seeds`` beside the clone; their Fields/Methods tables and the
AWS response element names are also committed under ``tests/fixtures/seeds`` so these checks
never depend on ``../shared``. When the seeds are present, the fixtures are checked against them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stackql_tuning import catalog
from stackql_tuning.registry.loader import Registry

REPO = Path(__file__).resolve().parents[2]
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
FIXTURES = REPO / "tests" / "fixtures" / "seeds"
DOCS = REPO / "docs" / "providers"

GOOGLE = {
    "000": ("000_56ecbcdfdaf6327f.txt", "google.aiplatform.hyperparameter_tuning_jobs"),
    "001": ("001_76d3efd821dd0dcd.txt", "google.aiplatform.tuning_jobs"),
}
_CODE = re.compile(r'<CopyableCode code="([^"]*)" />')


def tables(text: str) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]]]:
    """(Fields rows as (name, datatype), Methods rows as (name, verb, required params))."""
    fields: set[tuple[str, str]] = set()
    methods: set[tuple[str, str, str]] = set()
    section = None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("| <CopyableCode"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if section == "Fields":
            fields.add((_CODE.fullmatch(cells[0]).group(1), cells[1].strip("`")))
        elif section == "Methods":
            methods.add(
                (
                    _CODE.fullmatch(cells[0]).group(1),
                    cells[1].strip("`"),
                    _CODE.fullmatch(cells[2]).group(1),
                )
            )
    return fields, methods


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry(REPO / "providers")


def _fixture(key: str) -> str:
    res = GOOGLE[key][1]
    return (FIXTURES / f"{key}_{res.split('.')[-1]}.md").read_text()


@pytest.mark.parametrize("key", sorted(GOOGLE))
def test_fixture_copies_match_the_seed_pages(key: str) -> None:
    seed = SEEDS / GOOGLE[key][0]
    if not seed.is_file():
        pytest.skip(f"seed pages not present at {SEEDS} (only the committed fixtures are checked)")
    assert tables(seed.read_text()) == tables(_fixture(key))


@pytest.mark.parametrize("key", sorted(GOOGLE))
def test_generated_page_has_every_seed_row(key: str) -> None:
    res = GOOGLE[key][1]
    seed_fields, seed_methods = tables(_fixture(key))
    assert seed_fields and seed_methods
    provider, service, name = res.split(".")
    page_fields, page_methods = tables((DOCS / provider / service / f"{name}.md").read_text())
    assert seed_fields - page_fields == set()
    assert seed_methods - page_methods == set()


@pytest.mark.parametrize("key", sorted(GOOGLE))
def test_catalog_has_every_seed_row(reg: Registry, key: str) -> None:
    res = GOOGLE[key][1]
    seed_fields, seed_methods = tables(_fixture(key))
    cols, rows = catalog.describe(reg, res)
    assert cols == ["name", "type"]
    assert seed_fields - set(rows) == set()
    cols, rows = catalog.show_methods(reg, res)
    assert cols == ["MethodName", "RequiredParams", "SQLVerb"]
    got = {(name, verb, req) for name, req, verb in rows}
    assert seed_methods - got == set()


def test_hyperparameter_tuning_jobs_methods_equal_the_seed(reg: Registry) -> None:
    _, seed_methods = tables(_fixture("000"))
    _, rows = catalog.show_methods(reg, GOOGLE["000"][1])
    assert {(n, v, r) for n, r, v in rows} == seed_methods


def test_aws_resource_has_every_seed_response_element(reg: Registry) -> None:
    data = json.loads((FIXTURES / "aws_response_elements.json").read_text())
    res = reg.resource(data["resource"])
    names = {c.name for c in res.columns}
    for key in ("002_list_summary_members", "003_describe_response_elements"):
        assert data[key]
        assert set(data[key]) - names == set(), key
    _, rows = catalog.describe(reg, data["resource"])
    assert set(data["003_describe_response_elements"]) <= {r[0] for r in rows}


def test_aws_fixture_matches_the_seed_pages() -> None:
    s2, s3 = SEEDS / "002_30a45eb512ee56c9.txt", SEEDS / "003_4d7d19fdc6cb46ec.txt"
    if not (s2.is_file() and s3.is_file()):
        pytest.skip(f"seed pages not present at {SEEDS} (only the committed fixtures are checked)")
    data = json.loads((FIXTURES / "aws_response_elements.json").read_text())
    elems = re.findall(
        r"^ \*\* \[([A-Za-z]+)\]\(#API_DescribeHyperParameterTuningJob_ResponseSyntax\)",
        s3.read_text(),
        re.M,
    )
    assert elems == data["003_describe_response_elements"]
    for member in data["002_list_summary_members"]:
        assert f"'{member}':" in s2.read_text()


def test_aws_methods(reg: Registry) -> None:
    _, rows = catalog.show_methods(reg, "aws.sagemaker.hyper_parameter_tuning_jobs")
    assert rows == [
        ("get", "HyperParameterTuningJobName, region", "SELECT"),
        ("list", "region", "SELECT"),
        ("create", "region", "INSERT"),
        ("delete", "HyperParameterTuningJobName, region", "DELETE"),
        ("stop", "HyperParameterTuningJobName, region", "EXEC"),
    ]
    res = reg.resource("aws.sagemaker.hyper_parameter_tuning_jobs")
    assert res.method("list_hyper_parameter_tuning_jobs").name == "list"
    assert res.method("describe_hyper_parameter_tuning_job").name == "get"
    assert res.method("stop_hyper_parameter_tuning_job").name == "stop"
    listing = res.method("list")
    assert set(listing.optional_params) >= {
        "NameContains",
        "StatusEquals",
        "CreationTimeAfter",
        "CreationTimeBefore",
        "LastModifiedTimeAfter",
        "LastModifiedTimeBefore",
        "SortBy",
        "SortOrder",
        "MaxResults",
    }
    assert listing.pagination is not None and listing.pagination.max_page_size == 100


def test_google_list_params_and_omits(reg: Registry) -> None:
    res = reg.resource(GOOGLE["000"][1])
    listing = res.method("list")
    assert set(listing.optional_params) == {"filter", "pageSize", "pageToken", "readMask"}
    assert listing.omits == ("trials",)
    assert res.column("trials").methods == ("get",)
    assert listing.request["path"] == (
        "v1/projects/{projectsId}/locations/{locationsId}/hyperparameterTuningJobs"
    )
    assert res.column("createTime").db_type == "TIMESTAMPTZ"
    tj = reg.resource(GOOGLE["001"][1])
    assert tj.method("rebase_tuned_model").sql_verb == "EXEC"
    # the model tuned is a oneof: a base model, or a tuned model tuned further
    create = tj.method("create")
    assert ("baseModel", "preTunedModel") in create.body_one_of
    assert ("supervisedTuningSpec", "preferenceOptimizationSpec") in create.body_one_of
