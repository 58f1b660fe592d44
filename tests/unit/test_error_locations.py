"""Errors of scripts point at the file, line and column of what is wrong (no call is made)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stackql_tuning.cli import main


def run(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["exec", "-f", str(path), "-o", "csv"], out, err)
    return code, err.getvalue()


def test_a_planner_error_names_the_file_and_the_literal(tmp_path: Path) -> None:
    script = tmp_path / "bad.iql"
    script.write_text(
        "SELECT 1 AS a;\n\nSELECT count(*) AS n\n"
        "FROM google.aiplatform.hyperparameter_tuning_jobs\n"
        "WHERE projectsId = 'p' AND locationsId = 'us-central1'\n"
        "  AND state = 'JOB_STATE_BOGUS';\n"
    )
    code, err = run(script)
    assert code == 1
    assert f"plan error ({script}:6:15, " in err  # the literal, not the table's name


def test_a_table_error_points_at_the_start_of_its_name(tmp_path: Path) -> None:
    script = tmp_path / "t.iql"
    script.write_text("SELECT name\n  FROM google.aiplatform.hyperparameter_tuning_jobz;\n")
    code, err = run(script)
    assert code == 1 and f"({script}:2:8, " in err


def test_an_unknown_column_is_located_in_the_statement(tmp_path: Path) -> None:
    script = tmp_path / "c.iql"
    script.write_text("SELECT 1 AS a;\nSELECT 2 AS b,\n       bogus_col AS d\nFROM range(3);\n")
    code, err = run(script)
    assert code == 1 and f"plan error ({script}:3:8): " in err and "bogus_col" in err


def test_lines_moved_by_rendering_are_named_as_rendered(tmp_path: Path) -> None:
    script = tmp_path / "loop.iql"
    script.write_text(
        "{% for r in ['a', 'b'] %}\nSELECT '{{ r }}' AS r;\n{% endfor %}\n"
        "SELECT bogus FROM range(1);\n"
    )
    code, err = run(script)
    assert code == 1 and f"({script} (rendered):" in err


@pytest.mark.parametrize(
    ("text", "where", "message", "excerpt"),
    [
        (  # a failed cast of a column's value: at the cast
            "SELECT s AS t FROM (VALUES ('a')) v(s);\n"
            "SELECT s\nFROM (VALUES ('1'), ('x')) v(s)\nWHERE s <> '' AND CAST(s AS INT) = 1;\n",
            "4:19",
            "Could not convert string 'x'",
            "  WHERE s <> '' AND CAST(s AS INT) = 1\n                    ^\n",
        ),
        (  # a literal DuckDB cannot convert, after a hint and a statement before it
            "SELECT 1 AS a;\n/*+ AWAIT */\nSELECT n\n  FROM (VALUES (1), (2)) v(n)\n"
            "  WHERE n > 0 AND n < 'many';\n",
            "5:23",
            "Could not convert string 'many'",
            "\n    WHERE n > 0 AND n < 'many'\n                        ^\n",
        ),
    ],
)
def test_a_duckdb_error_is_located_with_a_caret(
    tmp_path: Path, text: str, where: str, message: str, excerpt: str
) -> None:
    # DuckDB's own caret points into the SQL we ran, not into the user's
    script = tmp_path / "q.iql"
    script.write_text(text)
    code, err = run(script)
    assert code == 1 and f"query error ({script}:{where}): {message}" in err
    assert excerpt in err


def test_an_operator_without_a_match_is_located_and_its_candidates_cut(tmp_path: Path) -> None:
    script = tmp_path / "op.iql"
    script.write_text("SELECT s || 'x' AS a,\n       s + 1 AS b\nFROM (VALUES ('a')) v(s);\n")
    code, err = run(script)
    assert code == 1 and f"plan error ({script}:2:10): No function matches" in err
    assert "Candidate functions:" in err and "... and " in err and len(err.splitlines()) < 14


def test_a_placeholder_on_the_command_line_is_a_located_usage_error(tmp_path: Path) -> None:
    # DuckDB said only "Values were not provided for the following parameters: 1"
    script = tmp_path / "p.iql"
    script.write_text("SELECT 1 AS a;\nSELECT '?' AS b, ? AS c;\n")
    code, err = run(script)
    assert code == 2 and f"usage error ({script}:2:18): the SQL has a placeholder" in err
    assert "--var NAME=VALUE" in err
