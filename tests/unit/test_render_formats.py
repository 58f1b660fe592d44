"""Dispatch and round trips of the output formats (stackql_tuning.render)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from stackql_tuning.errors import UsageError
from stackql_tuning.render import FORMATS, RENDERERS, get_renderer, render
from stackql_tuning.result import Result

RESULT = Result(
    columns=["name", "spec", "n", "at"],
    types=["VARCHAR", "JSON", "BIGINT", "TIMESTAMP WITH TIME ZONE"],
    rows=[
        ('a,"b"\nc\td\\e|f', '{"x": [1, {"y": null}]}', 7, datetime(2026, 1, 1, tzinfo=UTC)),
        (None, None, None, None),
    ],
)


def _out(fmt: str, **kw: object) -> str:
    buf = io.StringIO()
    render(RESULT, fmt, buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def test_formats() -> None:
    assert FORMATS == ("table", "json", "jsonl", "csv", "markdown", "text")
    assert set(RENDERERS) == set(FORMATS)
    assert get_renderer("JSON") is RENDERERS["json"]


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as err:
        render(RESULT, "jsn", io.StringIO())
    text = str(err.value)
    assert "'jsn'" in text and "--output" in text and "'json'" in text
    for fmt in FORMATS:
        assert fmt in text
    assert err.value.exit_code == 2


def test_json_round_trip() -> None:
    rows = json.loads(_out("json"))
    assert rows[0] == {
        "name": 'a,"b"\nc\td\\e|f',
        "spec": {"x": [1, {"y": None}]},
        "n": 7,
        "at": "2026-01-01T00:00:00Z",
    }
    assert rows[1] == dict.fromkeys(RESULT.columns)
    lines = _out("jsonl").splitlines()
    assert [json.loads(line) for line in lines] == rows


def test_csv_round_trip() -> None:
    rows = list(csv.reader(io.StringIO(_out("csv"))))
    assert rows[0] == RESULT.columns
    assert rows[1] == ['a,"b"\nc\td\\e|f', '{"x":[1,{"y":null}]}', "7", "2026-01-01T00:00:00Z"]
    assert rows[2] == ["", "", "", ""]
    assert next(csv.reader(io.StringIO(_out("csv", hide_headers=True)))) == rows[1]


def test_csv_tells_null_from_the_empty_string() -> None:
    # as psql and DuckDB's COPY write them: NULL an empty field, '' a quoted empty one
    from stackql_tuning.result import Result

    r = Result(columns=["a", "b"], types=["VARCHAR", "VARCHAR"], rows=[(None, ""), ("", None)])
    out = io.StringIO()
    render(r, "csv", out)
    assert out.getvalue() == 'a,b\n,""\n"",\n'
    one = Result(columns=["a"], types=["VARCHAR"], rows=[(None,)])
    out = io.StringIO()
    render(one, "csv", out)
    assert out.getvalue() == 'a\n""\n'  # not a blank line, which readers skip


def test_text_keeps_one_line_per_row() -> None:
    lines = _out("text").split("\n")
    assert lines[0] == "name\tspec\tn\tat"
    assert lines[1].split("\t")[0] == 'a,"b"\\nc\\td\\\\e|f'
    assert lines[2] == "\t\t\t"
    assert lines[3] == ""
    assert _out("text", hide_headers=True).split("\n")[0] == lines[1]


def test_markdown_escapes_pipes_and_newlines() -> None:
    lines = _out("markdown").splitlines()
    assert len(lines) == 4
    assert "\\|f" in lines[2] and "<br>" in lines[2]
    assert lines[1].split("|")[3].strip().endswith(":")  # n is right-aligned


def test_table_escapes_control_characters() -> None:
    out = _out("table", width=200)
    assert "\\n" in out and "\\t" in out and "\t" not in out
    assert out.count("\n") == 6


def test_nothing_for_results_without_rows() -> None:
    result = Result(columns=["a"], types=["VARCHAR"], rows=[("x",)], has_rows=False)
    for fmt in FORMATS:
        buf = io.StringIO()
        render(result, fmt, buf)
        assert buf.getvalue() == ""


def test_duplicate_column_names_keep_every_value() -> None:
    result = Result(columns=["a", "a"], types=["INTEGER", "INTEGER"], rows=[(1, 2)])
    buf = io.StringIO()
    render(result, "jsonl", buf)
    assert json.loads(buf.getvalue()) == {"a": 1, "a_1": 2}


def test_render_imports_nothing_heavy() -> None:
    code = (
        "import sys, stackql_tuning.render\n"
        "mods = ('duckdb', 'sqlglot', 'boto3', 'pandas', 'rich')\n"
        "heavy = [m for m in mods if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_values_as_duckdb_returns_them() -> None:
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.connect().sql(
        """SELECT '{"a":[1,2]}'::JSON AS j, 1.5::DECIMAL(18,3) AS d, [1, 2] AS l,
                  {'k': 'v'} AS s, MAP {'m': 2} AS m, 1e16::DOUBLE AS f,
                  TIMESTAMP '2026-11-22 10:00:00' AS t, NULL::VARCHAR AS n"""
    )
    result = Result(columns=rel.columns, types=[str(t) for t in rel.types], rows=rel.fetchall())
    buf = io.StringIO()
    render(result, "jsonl", buf)
    assert json.loads(buf.getvalue()) == {
        "j": {"a": [1, 2]},
        "d": 1.5,
        "l": [1, 2],
        "s": {"k": "v"},
        "m": {"m": 2},
        "f": 1e16,
        "t": "2026-11-22T10:00:00",
        "n": None,
    }
    assert '"d":1.500' in buf.getvalue()
    buf = io.StringIO()
    render(result, "csv", buf, hide_headers=True)
    assert buf.getvalue() == (
        '"{""a"":[1,2]}",1.500,"[1,2]","{""k"":""v""}","{""m"":2}",10000000000000000.0,'
        "2026-11-22T10:00:00,\n"
    )


@pytest.mark.parametrize("depth", [254, 255, 1024, 1025, 3000])
def test_json_nested_at_any_depth_renders_in_every_format(depth: int) -> None:
    """orjson writes 254 levels and reads 1024: deeper values are written as their compacted
    text (it once raised "Recursion limit reached" after a header, in every format)."""
    text = "[ " * depth + '"a b", 1' + " ]" * depth
    compact = "[" * depth + '"a b",1' + "]" * depth
    deep = Result(columns=["j", "k"], types=["JSON", "INTEGER"], rows=[(text, 1)])
    for fmt in FORMATS:
        buf = io.StringIO()
        render(deep, fmt, buf)
        assert "[[[" in buf.getvalue(), fmt
    buf = io.StringIO()
    render(deep, "jsonl", buf)
    line = buf.getvalue()
    assert line.count("\n") == 1
    assert compact in line
    at = line.index(compact)
    assert json.loads(line[:at] + "0" + line[at + len(compact) :]) == {"j": 0, "k": 1}
    buf = io.StringIO()
    render(deep, "csv", buf)
    assert list(csv.reader(io.StringIO(buf.getvalue()))) == [["j", "k"], [compact, "1"]]


def test_markdown_keeps_backslashes_before_pipes_and_every_line_break() -> None:
    """A lone CR vanished, and ``x\\|y`` was written ``x\\\\|y`` (read back as ``x|y``)."""
    from stackql_tuning.render.markdown import escape_cell

    assert escape_cell("a|b") == "a\\|b"
    assert escape_cell("x\\|y") == "x\\\\\\|y"  # GitHub reads it as x\|y
    assert escape_cell("C:\\dir") == "C:\\dir"
    assert escape_cell("x\ry") == escape_cell("x\r\ny") == escape_cell("x\ny") == "x<br>y"
