"""The parser's API beyond the golden files: split / is_complete for the shell, parse_one, error
locations with a source file, the sqlglot registration, hint bodies, import hygiene, and a fuzz
test that nothing but our ParseError ever escapes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from stackql_tuning.errors import ParseError
from stackql_tuning.sql import Exec, Hint, Show, is_complete, parse, parse_one, split
from stackql_tuning.sql.hints import HintSyntaxError, parse_hint_body

SCRIPT = """-- header
SHOW PROVIDERS;

  /*+ AWAIT */
  EXEC g.a.r.cancel @p='x;y' -- required;
"""


def test_split_positions_and_texts() -> None:
    assert split(SCRIPT) == [
        ("SHOW PROVIDERS", 2, 1),
        ("/*+ AWAIT */\n  EXEC g.a.r.cancel @p='x;y'", 4, 3),
    ]


def test_parse_positions_are_those_of_the_first_token() -> None:
    show, exec_ = parse(SCRIPT, source="s.iql")
    assert (show.kind, show.line, show.column, show.source) == ("show", 2, 1, "s.iql")
    assert (exec_.kind, exec_.line, exec_.column) == ("exec", 5, 3)
    assert exec_.has_hint("await") and exec_.hint("AWAIT") == Hint("AWAIT")
    assert exec_.text.startswith("/*+ AWAIT */")


def test_statement_text_reparses_with_its_hints() -> None:
    for text, _, _ in split(SCRIPT):
        again = parse_one(text)
        assert again.text == text
    assert parse_one(split(SCRIPT)[1][0]).hints == (Hint("AWAIT"),)


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("SELECT 1;", True),
        ("SELECT 1; -- done", True),
        ("SELECT 1;\n  ", True),
        ("SELECT 1", False),
        ("", False),
        ("SELECT ';", False),
        ("SELECT 1 -- required;", False),
        ("SELECT 1 /* ; */", False),
        ("SELECT 1 /* unterminated ;", False),
        ("EXEC a.b.c.d @@json='{\n", False),
        ("EXEC a.b.c.d @@json='{\n}';", True),
    ],
)
def test_is_complete(text: str, complete: bool) -> None:
    assert is_complete(text) is complete


def test_parse_one_needs_exactly_one_statement() -> None:
    assert parse_one("SELECT 1;").kind == "select"
    with pytest.raises(ParseError, match="no statement to run"):
        parse_one("-- nothing;\n")
    with pytest.raises(ParseError, match="expected one statement, got 2") as info:
        parse_one("SELECT 1;\nSELECT 2")
    assert (info.value.location.line, info.value.location.column) == (2, 1)


def test_error_location_with_source_file() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT 1;\n\n  SHOW FOO;", source="q.iql")
    error = info.value
    assert (error.location.file, error.location.line, error.location.column) == ("q.iql", 3, 8)
    assert str(error).startswith("parse error (q.iql:3:8): SHOW expects")
    assert error.excerpt == "    SHOW FOO;\n         ^"


def test_caret_keeps_tabs_aligned() -> None:
    with pytest.raises(ParseError) as info:
        parse("\tSHOW\tFOO")
    assert info.value.excerpt == "  \tSHOW\tFOO\n  \t    \t^"


def test_sqlglot_registration_and_printing() -> None:
    node = sqlglot.parse_one(
        "EXEC google.aiplatform.tuning_jobs.create @projectsId='p' @n=3 @@json='{}'",
        read="stackql",
    )
    assert isinstance(node, Exec)
    assert node.resource == "google.aiplatform.tuning_jobs"
    assert node.method_name == "create"
    assert list(node.params) == ["projectsId", "n"]
    assert node.params["n"] == exp.Literal.number(3)
    assert node.json_body == "{}"
    assert node.sql(dialect="stackql") == (
        "EXEC google.aiplatform.tuning_jobs.create @projectsId='p', @n=3, @@json='{}'"
    )
    show = sqlglot.parse_one("show extended methods in A.B.C like 'x%'", read="stackql")
    assert isinstance(show, Show)
    assert (show.what, show.extended, show.target, show.like) == ("METHODS", True, "a.b.c", "x%")


def test_plain_sql_still_generates_duckdb() -> None:
    stmt = parse_one("SELECT /*+ AWAIT */ j.name FROM google.aiplatform.tuning_jobs j LIMIT 1")
    assert stmt.hints == (Hint("AWAIT"),)
    assert stmt.expression.sql(dialect="duckdb") == (
        "SELECT j.name FROM google.aiplatform.tuning_jobs AS j LIMIT 1"
    )


@pytest.mark.parametrize(
    ("body", "hints"),
    [
        (" AWAIT ", [Hint("AWAIT")]),
        ("await, showresults", [Hint("AWAIT"), Hint("SHOWRESULTS")]),
        (
            " statecheck, retries=5, retry_delay=10 ",
            [Hint("STATECHECK", {"retries": "5", "retry_delay": "10"})],
        ),
        ("ON_ERROR=CONTINUE", [Hint("ON_ERROR", {"on_error": "CONTINUE"})]),
        ("statecheck Retries = 3", [Hint("STATECHECK", {"retries": "3"})]),
    ],
)
def test_hint_bodies(body: str, hints: list[Hint]) -> None:
    assert parse_hint_body(body) == hints


@pytest.mark.parametrize("body", ["", "  ", "1x", "a=", "-x", "a,,=1"])
def test_bad_hint_bodies(body: str) -> None:
    with pytest.raises(HintSyntaxError):
        parse_hint_body(body, 7)


def test_import_is_light() -> None:
    code = (
        "import sys, stackql_tuning.sql; "
        "bad = [m for m in ('duckdb', 'boto3', 'botocore', 'google', 'googleapiclient', "
        "'requests', 'jinja2', 'prompt_toolkit') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


_PIECES = st.sampled_from(
    [
        "SELECT", "FROM", "WHERE", "EXEC", "SHOW", "DESCRIBE", "REGISTRY", "INSERT", "INTO",
        "VALUES", "DELETE", "IN", "LIKE", "EXTENDED", "a.b.c", "g.a.r.create", "@p", "@@json",
        "=", ",", ";", "(", ")", "'s'", "'", '"', "1", "-", "*", "/*+ AWAIT */", "/*+", "*/",
        "-- c\n", "\n", " ", "x", "PROVIDERS", "METHODS", "$$",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map(" ".join))
def test_only_our_parse_error_escapes(text: str) -> None:
    try:
        statements = parse(text)
    except ParseError as error:
        assert error.location.line is not None and error.location.column is not None
        assert error.excerpt and "^" in error.excerpt
    else:
        for stmt in statements:
            assert stmt.kind in {
                "select", "insert", "delete", "update", "exec", "show", "describe",
                "registry", "other",
            }  # fmt: skip
    is_complete(text)


def test_every_hint_the_engine_reads_is_known_and_anchors_match_deploy() -> None:
    import re
    from pathlib import Path

    from stackql_tuning.deploy import anchors
    from stackql_tuning.sql.hints import ANCHORS, HINTS

    package = Path(__file__).resolve().parents[2] / "stackql_tuning"
    read = {
        name.upper()
        for path in package.rglob("*.py")
        for name in re.findall(r"\b(?:has_hint|hint)\(\s*\"(\w+)\"", path.read_text())
    }
    assert read and read <= set(HINTS), read - set(HINTS)
    assert {a.upper() for a in (*anchors.ANCHORS, *anchors.ALIASES)} == ANCHORS


def test_unknown_hint_is_refused_before_anything_runs() -> None:
    with pytest.raises(ParseError) as info:
        parse("SELECT 1;\nDELETE /*+ AWIAT */ FROM t WHERE a = 1;", source="x.iql")
    e = info.value
    assert (e.location.file, e.location.line, e.location.column) == ("x.iql", 2, 12)
    assert "unknown hint 'AWIAT'" in e.message and e.hint == "did you mean 'AWAIT'?"
    # known hints, stackql-deploy anchors (with their options) and plain comments still parse
    (stmt,) = parse("/*+ statecheck, retries=5 */ /*+ AWAIT, SHOWRESULTS */ SELECT /* x */ 1")
    assert [h.name for h in stmt.hints] == ["STATECHECK", "AWAIT", "SHOWRESULTS"]
    (stmt,) = parse("/*+ ON_ERROR=continue */ /*+ AWAIT */ SELECT 1")
    assert [h.options for h in stmt.hints] == [{"on_error": "continue"}, {}]
    # one hint twice, in two comments: which one counts was the last's (now refused)
    with pytest.raises(ParseError, match="hint ON_ERROR is given twice"):
        parse("/*+ ON_ERROR=continue */ /*+ on_error value=FAIL */ SELECT 1")


def test_a_hint_that_does_nothing_on_its_statement_is_named() -> None:
    from stackql_tuning.sql.hints import idle_hints

    # /*+ SHOWRESULTS */ DELETE looked as if it would print the deleted job
    assert idle_hints("delete", ["SHOWRESULTS", "AWAIT"]) == [
        "/*+ SHOWRESULTS */ does nothing on DELETE (it acts on EXEC / INSERT)"
    ]
    assert idle_hints("select", ["AWAIT", "ON_ERROR", "EXISTS"]) == [
        "/*+ AWAIT */ does nothing on SELECT (it acts on DELETE / EXEC / INSERT)"
    ]
    assert idle_hints("show", ["REQUIRED"]) == [] and idle_hints("insert", ["ON_ERROR"]) == []


def test_a_macro_body_that_starts_with_a_string_gets_a_hint() -> None:
    # sqlglot reads `AS 'x'` as a quoted body and then stops at `||`: DuckDB would run it
    with pytest.raises(ParseError) as e:
        parse("CREATE MACRO m(a) AS 'x' || a")
    assert "CREATE MACRO m(a) AS ('x' || a)" in (e.value.hint or "")
    assert parse("CREATE MACRO m(a) AS ('x' || a)")[0].kind == "other"


def test_a_bare_on_error_hint_is_a_parse_error() -> None:
    # /*+ ON_ERROR */ meant CONTINUE (and overrode --on-error fail) without saying so
    with pytest.raises(ParseError, match="hint ON_ERROR needs a value") as e:
        parse("/*+ ON_ERROR */ SELECT 1")
    assert "ON_ERROR=CONTINUE" in (e.value.hint or "")
    assert parse("/*+ ON_ERROR=FAIL */ SELECT 1")[0].hint("ON_ERROR") is not None


@pytest.mark.parametrize(
    "sql",
    [
        "SHOW INSERT /*+ REQUIRED */ INTO google.aiplatform.hyperparameter_tuning_jobs",
        "SHOW /*+ REQUIRED */ INSERT INTO google.aiplatform.hyperparameter_tuning_jobs",
        "/*+ REQUIRED */ SHOW INSERT INTO google.aiplatform.hyperparameter_tuning_jobs",
    ],
)
def test_show_insert_takes_its_hint_where_stackql_writes_it(sql: str) -> None:
    # StackQL's documented form (after INSERT) was "a hint here is not read"
    (stmt,) = parse(sql)
    assert [h.name for h in stmt.hints] == ["REQUIRED"]


def test_a_hint_further_into_show_insert_is_still_misplaced() -> None:
    with pytest.raises(ParseError, match="a hint here is not read"):
        parse("SHOW INSERT INTO /*+ REQUIRED */ google.aiplatform.hyperparameter_tuning_jobs")
