"""Completion: every prefix of representative statements, and asserted suggestions.

Runs over a small synthetic registry (a tmp dir of definitions in providers/README.md's format),
plus a few cases over the real providers/ when they are present.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackql_tuning.registry.loader import Registry
from stackql_tuning.shell.completion import KINDS, suggest
from stackql_tuning.shell.lexing import is_complete_fallback, tokenize


def _param(name: str, required: bool, location: str = "path", **kw: object) -> dict:
    return {
        "name": name,
        "location": location,
        "required": required,
        "type": "string",
        "db_type": "VARCHAR",
        **kw,
    }


def _col(name: str, db_type: str = "VARCHAR", **kw: object) -> dict:
    return {"name": name, "type": "string", "db_type": db_type, **kw}


def _method(name: str, verb: str, params: list[dict], **kw: object) -> dict:
    return {"name": name, "sql_verb": verb, "params": params, "request": {}, "response": {}, **kw}


EXPERIMENTS = {
    "provider": "acme",
    "service": "ml",
    "name": "experiments",
    "title": "Experiment",
    "columns": [
        _col("name"),
        _col("status", enum=["RUNNING", "DONE", "FAILED"]),
        _col("createdAt", "TIMESTAMPTZ"),
        _col("config", "JSON"),
    ],
    "methods": [
        _method(
            "get",
            "SELECT",
            [_param("projectId", True), _param("regionId", True), _param("experimentId", True)],
        ),
        _method(
            "list",
            "SELECT",
            [
                _param("projectId", True),
                _param("regionId", True),
                _param("pageToken", False, "query"),
            ],
            pagination={"input_token": "pageToken", "output_token": "next"},
        ),
        _method(
            "create",
            "INSERT",
            [_param("projectId", True), _param("regionId", True)],
            body=[
                {"name": "displayName", "type": "string", "required": True},
                {"name": "config", "type": "object"},
                {"name": "name", "type": "string", "output_only": True},
            ],
        ),
        _method(
            "cancel",
            "EXEC",
            [
                _param("projectId", True),
                _param("regionId", True),
                _param("experimentId", True),
                _param("mode", False, "query", enum=["SOFT", "HARD"]),
            ],
            aliases=["cancel_experiment"],
        ),
        _method(
            "delete",
            "DELETE",
            [_param("projectId", True), _param("regionId", True), _param("experimentId", True)],
        ),
    ],
}
TRIALS = {
    "provider": "acme",
    "service": "ml",
    "name": "trials",
    "columns": [
        _col("trialName"),
        _col("experimentName"),
        _col("score", "DOUBLE"),
        _col("state", enum=["ACTIVE", "STOPPED"]),
    ],
    "methods": [
        _method(
            "list",
            "SELECT",
            [_param("region", True, "client"), _param("experimentName", True, "body")],
        )
    ],
}
STUDIES = {
    "provider": "zeta",
    "service": "tune",
    "name": "studies",
    "columns": [_col("k", "INTEGER")],
    "methods": [_method("list", "SELECT", [])],
}


def write_registry(root: Path) -> Registry:
    """A synthetic definitions tree: acme.ml.{experiments,trials}, zeta.tune.studies, zeta.train."""
    tree = {
        "acme/provider.json": {"name": "acme", "services": ["ml"]},
        "acme/ml/service.json": {"name": "ml", "resources": ["experiments", "trials"]},
        "acme/ml/experiments.json": EXPERIMENTS,
        "acme/ml/trials.json": TRIALS,
        "zeta/provider.json": {"name": "zeta", "services": ["tune", "train"]},
        "zeta/tune/service.json": {"name": "tune", "resources": ["studies"]},
        "zeta/tune/studies.json": STUDIES,
        "zeta/train/service.json": {"name": "train", "resources": []},
    }
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    return Registry(root)


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return write_registry(tmp_path_factory.mktemp("providers"))


def texts(text: str, reg: Registry, full: str | None = None) -> list[str]:
    return [s.text for s in suggest(text, reg, full_text=full)]


def kinds(text: str, reg: Registry, full: str | None = None) -> list[tuple[str, str]]:
    return [(s.text, s.kind) for s in suggest(text, reg, full_text=full)]


REPRESENTATIVE = [
    "SELECT e.name, e.status FROM acme.ml.experiments e WHERE e.projectId = 'p' "
    "AND e.regionId IN ('r1', 'r2') ORDER BY e.createdAt DESC;",
    "SELECT t.trialName, e.name FROM acme.ml.experiments AS e JOIN acme.ml.trials t "
    "ON t.experimentName = e.name WHERE e.projectId = 'p' AND e.regionId = 'r' AND t.region = 'x';",
    "EXEC acme.ml.experiments.cancel @projectId='p', @regionId='r', @experimentId='e1', "
    "@mode='HARD', @@json='{\"a\": 1}';",
    "INSERT INTO acme.ml.experiments (projectId, regionId, displayName) SELECT 'p', 'r', 'd';",
    "SHOW RESOURCES IN acme.ml LIKE '%exp%';",
    "DESCRIBE EXTENDED acme.ml.trials;",
    "DELETE FROM acme.ml.experiments WHERE projectId = 'p' AND regionId = 'r' "
    "AND experimentId = 'x';",
    "/*+ AWAIT */ SELECT json_extract(config, '$.a') AS a, count(*) FROM acme.ml.experiments "
    "WHERE projectId='p' -- trailing\n AND regionId='r' GROUP BY 1;",
    "SELECT \"name\" FROM acme.ml.experiments WHERE status IN ('RUNNING', 'DONE') "
    "AND projectId = 'it''s' AND regionId='r' LIMIT 5; SELECT 1;",
    "WITH x AS (SELECT * FROM zeta.tune.studies WHERE k >= 1) SELECT * FROM x "
    "UNION ALL SELECT * FROM acme.ml.trials t WHERE t.state <> 'STOPPED';\n\\o json",
]


@pytest.mark.parametrize("statement", REPRESENTATIVE)
def test_every_prefix_completes_without_error(reg: Registry, statement: str) -> None:
    for i in range(len(statement) + 1):
        for s in suggest(statement[:i], reg, full_text=statement):
            assert s.kind in KINDS
            assert -s.start <= i
            assert s.text


def test_every_prefix_without_full_text(reg: Registry) -> None:
    for statement in REPRESENTATIVE:
        for i in range(len(statement) + 1):
            suggest(statement[:i], reg)


# -- asserted cases -----------------------------------------------------------------------------
def test_start_of_statement_offers_statement_keywords(reg: Registry) -> None:
    got = texts("", reg)
    assert got[:4] == ["SELECT", "SHOW", "DESCRIBE", "EXEC"]


def test_keyword_prefix_keeps_lower_case(reg: Registry) -> None:
    assert texts("sel", reg) == ["select"]
    assert texts("SEL", reg) == ["SELECT"]


def test_bare_meta_words_at_start(reg: Registry) -> None:
    assert ("quit", "meta") in kinds("qu", reg)


def test_from_offers_providers(reg: Registry) -> None:
    assert kinds("SELECT * FROM ", reg) == [("acme", "provider"), ("zeta", "provider")]


def test_provider_dot_offers_services(reg: Registry) -> None:
    assert kinds("SELECT * FROM zeta.", reg) == [("tune", "service"), ("train", "service")]


def test_service_dot_offers_resources(reg: Registry) -> None:
    assert kinds("SELECT * FROM acme.ml.", reg) == [
        ("experiments", "resource"),
        ("trials", "resource"),
    ]


def test_resource_prefix_replaces_only_the_last_part(reg: Registry) -> None:
    [s] = suggest("SELECT * FROM acme.ml.tri", reg)
    assert (s.text, s.start) == ("trials", -3)


def test_bare_resource_name_offers_full_ids(reg: Registry) -> None:
    assert texts("SELECT * FROM exper", reg) == ["acme.ml.experiments"]


def test_unknown_provider_offers_nothing(reg: Registry) -> None:
    assert texts("SELECT * FROM nope.", reg) == []


def test_join_and_comma_offer_tables(reg: Registry) -> None:
    assert texts("SELECT * FROM acme.ml.experiments e JOIN acme.", reg) == ["ml"]
    assert texts("SELECT * FROM acme.ml.experiments e, ", reg) == ["acme", "zeta"]


def test_select_offers_columns_of_table_in_full_text(reg: Registry) -> None:
    full = "SELECT  FROM acme.ml.trials"
    got = kinds("SELECT ", reg, full)
    assert got[:4] == [
        ("trialName", "column"),
        ("experimentName", "column"),
        ("score", "column"),
        ("state", "column"),
    ]
    assert ("region", "column") in got  # params are columns too
    assert ("*", "column") in got


def test_alias_dot_offers_that_tables_columns(reg: Registry) -> None:
    full = "SELECT t. FROM acme.ml.experiments e JOIN acme.ml.trials t ON t.experimentName = e.name"
    got = texts("SELECT t.", reg, full)
    assert "trialName" in got and "score" in got
    assert "createdAt" not in got
    assert all(s.start == 0 for s in suggest("SELECT t.", reg, full_text=full))


def test_alias_dot_prefix(reg: Registry) -> None:
    full = "SELECT e.cr FROM acme.ml.experiments AS e"
    assert texts("SELECT e.cr", reg, full) == ["createdAt"]


def test_two_tables_qualify_columns(reg: Registry) -> None:
    full = "SELECT sc FROM acme.ml.experiments e JOIN acme.ml.trials t ON 1=1"
    assert texts("SELECT sc", reg, full) == ["t.score"]


def test_where_offers_required_params_first(reg: Registry) -> None:
    text = "SELECT * FROM acme.ml.experiments WHERE "
    got = kinds(text, reg)
    assert got[:2] == [("projectId", "param"), ("regionId", "param")]
    assert ("experimentId", "param") not in got  # list lacks fewer params than get


def test_where_drops_bound_params(reg: Registry) -> None:
    text = "SELECT * FROM acme.ml.experiments e WHERE e.projectId = 'p' AND "
    got = kinds(text, reg)
    assert got[0] == ("regionId", "param")
    assert ("projectId", "param") not in got


def test_where_all_bound_offers_columns_only(reg: Registry) -> None:
    text = "SELECT * FROM acme.ml.experiments WHERE projectId = 'p' AND regionId IN ('a') AND "
    assert kinds(text, reg)[0] == ("name", "column")


def test_on_offers_required_params_of_joined_table(reg: Registry) -> None:
    text = "SELECT * FROM acme.ml.experiments e JOIN acme.ml.trials t ON t."
    got = kinds(text, reg)
    assert got[:2] == [("region", "param"), ("experimentName", "param")]


def test_enum_values_after_equals(reg: Registry) -> None:
    text = "SELECT * FROM acme.ml.experiments e WHERE e.status = "
    assert kinds(text, reg) == [("'RUNNING'", "value"), ("'DONE'", "value"), ("'FAILED'", "value")]


def test_enum_values_inside_open_quote(reg: Registry) -> None:
    [s] = suggest("SELECT * FROM acme.ml.experiments WHERE status = 'D", reg)
    assert (s.text, s.kind, s.start) == ("'DONE'", "value", -2)


def test_enum_values_in_in_list(reg: Registry) -> None:
    text = "SELECT * FROM acme.ml.trials t WHERE t.state IN ('ACTIVE', "
    assert texts(text, reg) == ["'ACTIVE'", "'STOPPED'"]


def test_non_enum_equals_offers_columns_for_join_conditions(reg: Registry) -> None:
    text = "SELECT * FROM acme.ml.experiments e JOIN acme.ml.trials t ON t.experimentName = e."
    assert "name" in texts(text, reg)


def test_exec_offers_dotted_names_then_exec_methods(reg: Registry) -> None:
    assert texts("EXEC ", reg) == ["acme", "zeta"]
    assert kinds("EXEC acme.ml.experiments.", reg) == [("cancel", "method")]


def test_exec_method_alias_matches(reg: Registry) -> None:
    assert texts("EXEC acme.ml.experiments.cancel_", reg) == ["cancel"]


def test_exec_params_required_first_then_optional_then_json(reg: Registry) -> None:
    got = texts("EXEC acme.ml.experiments.cancel ", reg)
    assert got == ["@projectId=", "@regionId=", "@experimentId=", "@mode="]


def test_exec_params_skip_given(reg: Registry) -> None:
    got = texts("EXEC acme.ml.experiments.cancel @projectId='p', @re", reg)
    assert got == ["@regionId="]
    got = texts("EXEC acme.ml.experiments.cancel @projectId='p', ", reg)
    assert got[0] == "@regionId=" and "@projectId=" not in got


def test_exec_param_enum_values(reg: Registry) -> None:
    assert texts("EXEC acme.ml.experiments.cancel @mode=", reg) == ["'SOFT'", "'HARD'"]


def test_show_kinds_and_in(reg: Registry) -> None:
    assert texts("SHOW ", reg)[:2] == ["PROVIDERS", "SERVICES"]
    assert texts("SHOW RESOURCES ", reg) == ["IN", "LIKE"]
    assert texts("SHOW RESOURCES IN ", reg) == ["acme", "zeta"]
    assert texts("SHOW METHODS IN acme.ml.", reg) == ["experiments", "trials"]


def test_describe(reg: Registry) -> None:
    assert texts("DESCRIBE ", reg) == ["EXTENDED", "acme", "zeta"]
    assert texts("DESCRIBE EXTENDED acme.ml.ex", reg) == ["experiments"]


def test_insert_columns(reg: Registry) -> None:
    got = kinds("INSERT INTO acme.ml.experiments (", reg)
    assert got[:3] == [("projectId", "param"), ("regionId", "param"), ("displayName", "column")]
    assert ("name", "column") not in got  # output only
    assert texts("INSERT INTO acme.ml.experiments (data__con", reg) == ["config"]


def test_after_table_offers_clause_keywords(reg: Registry) -> None:
    assert texts("SELECT * FROM acme.ml.experiments e ", reg)[0] == "WHERE"


def test_inside_comment_and_closed_string_offer_nothing(reg: Registry) -> None:
    assert texts("SELECT * FROM acme.ml.experiments -- a comm", reg) == []
    assert texts("SELECT /* FROM ", reg) == []
    assert texts("SELECT 'abc", reg) == []


def test_second_statement_is_independent(reg: Registry) -> None:
    assert texts("SELECT 1; SHOW ", reg)[0] == "PROVIDERS"


def test_meta_commands_and_their_arguments(reg: Registry) -> None:
    assert "\\timing" in texts("\\", reg)
    assert texts("\\ti", reg) == ["\\timing"]
    assert texts("\\o js", reg) == ["json", "jsonl"]
    assert texts("\\dry ", reg) == ["on", "off"]


def test_substring_matches_come_after_prefix_matches(reg: Registry) -> None:
    full = "SELECT name FROM acme.ml.experiments e, acme.ml.trials t"
    assert texts("SELECT name", reg, full) == ["e.name", "t.trialName", "t.experimentName"]


# -- lexing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("SELECT 1;", True),
        ("SELECT 1", False),
        ("SELECT ';'", False),
        ("SELECT 'a;", False),
        ("SELECT 1 -- ;", False),
        ("SELECT 1; -- done", True),
        ("SELECT /* ; */ 1", False),
        ("SELECT /* ; ", False),
        ('SELECT ";"', False),
        ("SELECT 'it''s';", True),
    ],
)
def test_is_complete_fallback(text: str, complete: bool) -> None:
    assert is_complete_fallback(text) is complete


def test_tokenize_never_raises_on_odd_input() -> None:
    for text in ["'", '"', "/*", "--", "@", "@@", "\\", "$$", "1.2.3", "a::b", "é€", "`x"]:
        tokenize(text)


# -- the real registry ----------------------------------------------------------------------------
REAL = Path(__file__).resolve().parents[2] / "providers"
needs_real = pytest.mark.skipif(
    not (REAL / "google" / "aiplatform" / "service.json").is_file(),
    reason="providers/ definitions not generated yet",
)


@needs_real
def test_real_from_google_aiplatform_lists_both_resources() -> None:
    got = texts("SELECT * FROM google.aiplatform.", Registry(REAL))
    assert "hyperparameter_tuning_jobs" in got and "tuning_jobs" in got


@needs_real
def test_real_job_state_values() -> None:
    text = "SELECT * FROM google.aiplatform.hyperparameter_tuning_jobs j WHERE j.state = "
    assert "'JOB_STATE_RUNNING'" in texts(text, Registry(REAL))


@needs_real
def test_real_where_required_params_first() -> None:
    got = kinds("SELECT * FROM google.aiplatform.tuning_jobs WHERE ", Registry(REAL))
    assert {got[0][0], got[1][0]} == {"projectsId", "locationsId"}
    assert got[0][1] == "param"
