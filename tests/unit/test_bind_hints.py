"""Hints from the registry for DuckDB's bind errors (``run.bind_hints``): pure."""

from __future__ import annotations

from stackql_tuning.registry.loader import Registry
from stackql_tuning.run.bind_hints import bind_hint, bind_message

REG = Registry()
AWS = REG.resource("aws.sagemaker.hyper_parameter_tuning_jobs")
HPT = REG.resource("google.aiplatform.hyperparameter_tuning_jobs")


def test_a_page_token_is_said_to_be_the_calls_not_a_column() -> None:
    for name, resource in (("NextToken", AWS), ("nextpagetoken", HPT), ("pageToken", HPT)):
        message = f'Referenced column "{name}" not found in FROM clause!'
        hint = bind_hint(message, f"SELECT {name} FROM t", [resource, HPT])
        assert hint is not None and f"{name} is the page token of {resource.id}" in hint


def test_another_missing_column_gets_no_hint_from_here() -> None:
    message = 'Referenced column "nope" not found in FROM clause!'
    assert bind_hint(message, "SELECT nope FROM t", [AWS, HPT]) is None


def test_a_timestamp_type_error_names_the_statements_timestamp_column() -> None:
    message = (
        "No function matches the given name and argument types "
        "'~~(TIMESTAMP WITH TIME ZONE, STRING_LITERAL)'. You might need to add explicit type casts."
    )
    hint = bind_hint(message, "SELECT 1 FROM t WHERE creationtime LIKE '2026%'", [AWS])
    assert hint is not None
    assert "CreationTime::VARCHAR LIKE '2026%'" in hint and "DESCRIBE EXTENDED" in hint
    # a statement that names none: the resource's first
    assert "TIMESTAMPTZ" in (bind_hint(message, "SELECT 1", [HPT]) or "")


def test_a_selector_that_matches_no_column_is_said_as_written_with_the_options() -> None:
    message = (
        "Star expression \"COLUMNS(list_filter(\"system\".main.list_value('a', 'MaxResults'), "
        "(lambda __column: regexp_matches(__column, 'Max.*'))))\" resulted in an empty set "
        "of columns"
    )
    assert bind_message(message) == (
        "a star with a pattern or a COLUMNS(...) of this query matches no column"
    )
    hint = bind_hint(message, "SELECT COLUMNS('Max.*') FROM t", [AWS])
    assert (
        hint is not None and "MaxResults, SortBy" in hint and "unless the statement names" in hint
    )
    # a local table only: no option to speak of; other messages pass unchanged
    assert bind_hint(message, "SELECT COLUMNS('x') FROM t", []) is None
    assert (
        bind_message('Referenced column "nope" not found') == 'Referenced column "nope" not found'
    )


def test_unnest_of_an_api_array_is_told_the_column_is_json() -> None:
    for message in (
        "UNNEST requires a single list or array as input",
        "UNNEST() can only be applied to lists, structs and NULL, not JSON",
    ):
        hint = bind_hint(message, "SELECT unnest(j.trials) FROM t j", [HPT]) or ""
        assert "json_each(trials)" in hint and "CAST(trials AS JSON[])" in hint


def test_a_double_quoted_value_is_said_to_be_a_name() -> None:
    sql = 'SELECT 1 FROM t WHERE HyperParameterTuningJobStatus = "Completed"'
    hint = bind_hint('Referenced column "Completed" not found in FROM clause!', sql, [])
    assert (
        hint
        == "\"Completed\" is a name (double quotes): a text value takes single quotes, 'Completed'"
    )
    assert bind_hint('Referenced column "Completed" not found', "SELECT Completed", []) is None
