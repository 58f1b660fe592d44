"""DuckDB's caret, in the SQL we gave it, found in the user's own statement."""

from __future__ import annotations

import duckdb
import pytest

from stackql_tuning.sql.align import duckdb_spot, error_offset, find_spot


def _message(sql: str) -> str:
    con = duckdb.connect()
    con.execute("CREATE TABLE t0 AS SELECT 'a-b' AS s, 3 AS n")
    with pytest.raises(duckdb.Error) as info:
        con.execute(sql).fetchall()
    return str(info.value)


def test_the_caret_splits_the_excerpt_line() -> None:
    spot = duckdb_spot(_message("SELECT n FROM t0 WHERE n > 'abc'"))
    assert spot == ("SELECT n FROM t0 WHERE n > ", "'abc'")


def test_a_window_of_a_long_line_loses_its_cut_words() -> None:
    cols = ", ".join(f"n AS c{i}" for i in range(60))
    before, at = duckdb_spot(_message(f"SELECT {cols}, s + 1, {cols} FROM t0")) or ("", "")
    # DuckDB's caret is on the operator
    assert before.endswith("n AS c59, s ") and not before.startswith("...")
    assert at.startswith("+ 1, n AS c0") and not at.endswith("...")


def test_an_error_without_an_excerpt_has_no_spot() -> None:
    assert duckdb_spot(_message("SELECT error('boom') FROM t0")) is None


def test_the_users_token_is_the_one_whose_neighbours_agree() -> None:
    user = "SELECT n > 'abc' AS a\nFROM jobs\nWHERE region = 'r' AND kind = 'x' AND n > 'abc'"
    # we ran it with the table renamed and its parameter taken out
    ran = ("SELECT n > 'abc' AS a FROM \"t_1\" WHERE kind = 'x' AND n > ", "'abc'")
    assert find_spot(user, ran) == user.rindex("'abc'")
    assert find_spot(user, ("SELECT ", "n > 'abc' AS a FROM \"t_1\"")) == user.index("n >")


def test_quoting_and_case_do_not_matter() -> None:
    user = "select displayName + 1 from jobs"
    assert find_spot(user, ("SELECT ", '"displayName" + 1 FROM "t_1"')) == 7


def test_a_token_the_user_did_not_write_is_not_located() -> None:
    user = "SELECT CAST(n AS INT) FROM jobs WHERE t > now()"
    # the pinned clock: our CAST, not the user's
    ran = ("SELECT CAST(n AS INT) FROM t_1 WHERE t > ", "CAST('2026-11-25' AS TIMESTAMPTZ)")
    assert find_spot(user, ran) is None
    assert find_spot(user, ("SELECT ", "zzz")) is None


def test_an_error_without_a_caret_is_located_by_what_it_names() -> None:
    text = "SELECT n, date_trunc('dayz', ts) AS d, s -> 'a' AS j\nFROM t\nWHERE s <> 'a'"
    for message, at in [
        ('extract specifier "dayz" not recognized', "'dayz'"),
        ('Malformed JSON at byte 0 of input: unexpected character.  Input: "x"', "->"),
        ('Referenced column "s" not found in FROM clause!', "s ->"),
    ]:
        assert error_offset(message, None, text) == text.index(at), message
    # a value quoted twice in the statement, or a second JSON accessor: no guess
    assert error_offset("Could not convert string 'a' to INT32", None, text) is None
    assert error_offset("Malformed JSON", None, text + " AND s->>'b' = 'c'") is None


def test_a_failed_cast_of_a_column_is_located_at_the_cast() -> None:
    text = "SELECT s, upper(s), s::INT FROM t"
    message = "Could not convert string 'x' to INT32 when casting from source column s"
    assert error_offset(message, None, text) == text.index("s::")
    text = "SELECT s, CAST(s AS INT) FROM t"
    assert error_offset(message, None, text) == text.index("s AS")


def test_wide_characters_take_two_columns_of_duckdbs_caret_line() -> None:
    before, at = duckdb_spot(_message("SELECT '日本🚀é' AS s, n > 'abc' FROM t0")) or ("", "")
    assert before == "SELECT '日本🚀é' AS s, n > " and at.startswith("'abc'")


def test_two_equally_fitting_tokens_are_no_location() -> None:
    user = "SELECT a FROM x WHERE a > 'abc' UNION ALL SELECT a FROM y WHERE a > 'abc'"
    assert find_spot(user, ("WHERE a > ", "'abc'")) is None
    # what follows tells them apart
    assert find_spot(user, ("WHERE a > ", "'abc' UNION ALL")) == user.index("'abc'")
    user = "SELECT x > 'abc' AS p, y > 'abc' AS q FROM v"
    assert find_spot(user, ("SELECT z > ", "'abc' AS r")) is None
    # of several, one that agrees on one side only is a guess: the other side decides
    assert find_spot(user, ("SELECT z > ", "'abc' AS q")) == user.rindex("'abc'")


def test_an_unknown_column_is_not_an_alias_of_that_name() -> None:
    text = "WITH t AS (SELECT 1 AS k) SELECT a FROM v WHERE k IS NOT NULL"
    message = 'Referenced column "k" not found in FROM clause!'
    assert error_offset(message, None, text) == text.rindex("k IS")


def test_malformed_json_with_several_json_calls_is_not_located() -> None:
    text = "SELECT json_keys(a) AS k, b ->> '$.x' AS x FROM v"
    assert error_offset("Malformed JSON at byte 0", None, text) is None


def test_a_data_value_that_equals_a_literal_is_no_evidence() -> None:
    text = "SELECT strptime(s, '%Y') FROM t WHERE s = 'run-1'"
    message = 'Could not parse string "run-1" according to format specifier "%Y"'
    assert error_offset(message, None, text) is None


def test_a_column_not_found_for_want_of_a_from_is_located() -> None:
    # DuckDB's other wording of it ("was not found because the FROM clause is missing") left
    # the error with no place at all
    message = 'Referenced column "nope" was not found because the FROM clause is missing'
    assert error_offset(message, None, "SELECT 1 AS a, nope") == 15
