"""The SQL front end: the ``stackql`` sqlglot dialect, statement splitting, hints, parse errors.

``parse(text)`` -> list of ``Statement``; ``parse_one``; ``split`` / ``is_complete`` for the shell.
Importing this package registers the ``stackql`` dialect with sqlglot. It must not import duckdb
or any SDK.
"""

from stackql_tuning.sql.dialect import Stackql
from stackql_tuning.sql.expressions import Describe, Exec, ExecParam, RegistryCommand, Show
from stackql_tuning.sql.parser import is_complete, parse, parse_one, split
from stackql_tuning.sql.statement import Hint, Statement

__all__ = [
    "Describe",
    "Exec",
    "ExecParam",
    "Hint",
    "RegistryCommand",
    "Show",
    "Stackql",
    "Statement",
    "is_complete",
    "parse",
    "parse_one",
    "split",
]
