"""Golden-file tests for the stackql dialect and parser.

tests/golden/parser/valid/*.sql: ``-- title: ...`` sections, each a script; the sibling ``.json``
maps title -> the statements parse() returns (kind, position, text, hints, canonical SQL, and the
key fields of each kind). tests/golden/parser/invalid/*.sql: one malformed script per section; the
sibling ``.out`` holds ``-- title: ...`` followed by the exact ``str(error)``.

Regenerate after an intended change and review the diff:
``STACKQL_TUNING_UPDATE_GOLDEN=1 pytest tests/unit/test_dialect.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from stackql_tuning.errors import ParseError
from stackql_tuning.sql import Describe, Exec, RegistryCommand, Show, Statement, parse, parse_one

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "parser"
UPDATE = os.environ.get("STACKQL_TUNING_UPDATE_GOLDEN") == "1"
TITLE = "-- title:"


def sections(path: Path) -> dict[str, str]:
    """title -> the text after its ``-- title:`` line, up to the next title."""
    out: dict[str, str] = {}
    title: str | None = None
    lines: list[str] = []
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith(TITLE):
            if title is not None:
                out[title] = "".join(lines)
            title, lines = line[len(TITLE) :].strip(), []
            assert title not in out, f"duplicate title {title!r} in {path.name}"
        else:
            lines.append(line)
    if title is not None:
        out[title] = "".join(lines)
    return out


def _dotted(table: exp.Table) -> str:
    return ".".join(p.name for p in table.parts)


def _fields(stmt: Statement) -> dict[str, Any]:
    node = stmt.expression
    if isinstance(node, Exec):
        return {
            "resource": node.resource,
            "method": node.method_name,
            "params": {k: v.sql(dialect="stackql") for k, v in node.params.items()},
            "json_body": node.json_body,
        }
    if isinstance(node, Show):
        return {
            "what": node.what,
            "extended": node.extended,
            "target": node.target,
            "like": node.like,
        }
    if isinstance(node, Describe):
        return {"target": node.target, "extended": node.extended}
    if isinstance(node, RegistryCommand):
        return {"action": node.action, "arguments": node.arguments}
    if isinstance(node, exp.Insert):
        schema = node.this
        table = schema.this if isinstance(schema, exp.Schema) else schema
        columns = [c.name for c in schema.expressions] if isinstance(schema, exp.Schema) else []
        return {"table": _dotted(table), "columns": columns}
    if isinstance(node, exp.Delete | exp.Update):
        return {"table": _dotted(node.this)}
    tables = sorted({_dotted(t) for t in node.find_all(exp.Table) if t.name})
    return {"tables": tables}


def summary(stmt: Statement) -> dict[str, Any]:
    return {
        "kind": stmt.kind,
        "line": stmt.line,
        "column": stmt.column,
        "hints": [[h.name, h.options] for h in stmt.hints],
        "text": stmt.text,
        "sql": stmt.expression.sql(dialect="stackql"),
        **_fields(stmt),
    }


def _cases(kind: str) -> list[tuple[Path, str]]:
    return [
        (path, title) for path in sorted((GOLDEN / kind).glob("*.sql")) for title in sections(path)
    ]


def _valid_actual(path: Path) -> dict[str, Any]:
    return {title: [summary(s) for s in parse(text)] for title, text in sections(path).items()}


def _invalid_actual(path: Path) -> dict[str, str]:
    out = {}
    for title, text in sections(path).items():
        try:
            parse(text)
        except ParseError as error:
            out[title] = str(error)
        else:
            out[title] = "NO ERROR"
    return out


def _write_out(path: Path, errors: dict[str, str]) -> None:
    path.write_text("".join(f"{TITLE} {t}\n{e}\n" for t, e in errors.items()))


if UPDATE:
    for _path in sorted((GOLDEN / "valid").glob("*.sql")):
        _path.with_suffix(".json").write_text(
            json.dumps(_valid_actual(_path), indent=2, ensure_ascii=False) + "\n"
        )
    for _path in sorted((GOLDEN / "invalid").glob("*.sql")):
        _write_out(_path.with_suffix(".out"), _invalid_actual(_path))


@pytest.mark.parametrize(("path", "title"), _cases("valid"), ids=lambda v: str(v)[-60:])
def test_valid_golden(path: Path, title: str) -> None:
    expected = json.loads(path.with_suffix(".json").read_text())
    actual = [summary(s) for s in parse(sections(path)[title])]
    assert title in expected, f"no golden output for {title!r}: regenerate"
    assert actual == expected[title]


@pytest.mark.parametrize(("path", "title"), _cases("valid"), ids=lambda v: str(v)[-60:])
def test_canonical_sql_round_trips(path: Path, title: str) -> None:
    """The canonical SQL of every statement parses back to the same canonical SQL and kind."""
    for stmt in parse(sections(path)[title]):
        canonical = stmt.expression.sql(dialect="stackql")
        again = parse_one(canonical)
        assert again.kind == stmt.kind
        assert again.expression.sql(dialect="stackql") == canonical


@pytest.mark.parametrize(("path", "title"), _cases("invalid"), ids=lambda v: str(v)[-60:])
def test_invalid_golden(path: Path, title: str) -> None:
    expected = sections(path.with_suffix(".out"))
    with pytest.raises(ParseError) as info:
        parse(sections(path)[title])
    assert title in expected, f"no golden error for {title!r}: regenerate"
    assert str(info.value) == expected[title].rstrip("\n")


def test_golden_coverage() -> None:
    """The acceptance floor: every statement kind appears, and enough malformed cases exist."""
    kinds = {
        s["kind"]
        for path in (GOLDEN / "valid").glob("*.json")
        for stmts in json.loads(path.read_text()).values()
        for s in stmts
    }
    assert kinds >= {"select", "insert", "delete", "update", "exec", "show", "describe"}
    assert {"registry", "other"} <= kinds
    assert len(_cases("invalid")) >= 20


@pytest.mark.parametrize(
    ("sql", "written"),
    [
        # sqlglot read these as lambdas and wrote "LAMBDA studySpec : '$.parameters'", which
        # DuckDB refused; DuckDB reads them as JSON arrows
        (
            "SELECT json_array_length(studySpec->'$.parameters') FROM t",
            "JSON_ARRAY_LENGTH(studySpec -> '$.parameters')",
        ),
        ("SELECT coalesce(a->'$.b', 'z') FROM t", "COALESCE(a -> '$.b', 'z')"),
        ("SELECT json_array_length(s->0) FROM t", "JSON_ARRAY_LENGTH(s -> '$[0]')"),
        # functions that take lambdas keep them
        ("SELECT list_transform(xs, x -> 'a') FROM t", "LIST_TRANSFORM(xs, LAMBDA x : 'a')"),
        ("SELECT list_filter(xs, x -> x > 1) FROM t", "LIST_FILTER(xs, LAMBDA x : x > 1)"),
        ("SELECT invoke(x -> 42, 1)", "INVOKE(LAMBDA x : 42, 1)"),
        # DuckDB's own lambda syntax is a lambda in any function
        ("SELECT invoke(lambda x: 42, 1)", "INVOKE(LAMBDA x : 42, 1)"),
        # a JSON function whose name holds "transform" takes no lambda
        ("SELECT json_transform(j->'$.a', '{}') FROM t", "JSON_TRANSFORM(j -> '$.a', '{}')"),
    ],
)
def test_an_arrow_inside_a_function_is_json_unless_the_function_takes_lambdas(
    sql: str, written: str
) -> None:
    assert written in parse_one(sql).expression.sql("duckdb")
