"""Hints, from the registry, for DuckDB's bind errors over provider tables.

DuckDB says what it cannot bind, not why a provider table is made the way it is:
- ``Referenced column "NextToken" not found``: the page token is a request param of the list
  call, never a column (pages are followed for the user); ``Referenced column "Completed" not
  found`` where the statement wrote ``"Completed"``: a text value in double quotes;
- ``No function matches ... '~~(TIMESTAMP WITH TIME ZONE, STRING_LITERAL)'``: the APIs' date-time
  strings (``createTime``, ``CreationTime``) are TIMESTAMPTZ columns here, which DESCRIBE shows
  as the API's ``string`` (its EXTENDED form gives the SQL type).

- ``UNNEST requires a single list or array as input`` (or ``... not JSON``): the APIs'
  arrays (``trials``, ``TrainingJobDefinitions``) are JSON columns; ``json_each`` expands them;
- ``Star expression "COLUMNS(list_filter(...))" resulted in an empty set of columns``: a
  star with a pattern or a ``COLUMNS(...)`` that matches no column (DuckDB's message spells
  out its expansion, every column of the FROM); the call options are left out of such a
  selector unless the statement names them (``plan.star``), so ``* LIKE 'Max%'`` matches none.

Pure: (DuckDB's message, the statement's text, the resources it reads) -> a hint or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from stackql_tuning.registry.model import Column, Resource, call_options

_NOT_FOUND = re.compile(r'Referenced column "([^"]+)" (?:was )?not found')
_TIMESTAMP = re.compile(r"No function matches .*TIMESTAMP WITH TIME ZONE")


_UNNEST = re.compile(r"UNNEST(\(\))? (requires a single list|can only be applied to lists)")
_EMPTY_SELECTOR = re.compile(r'^Star expression ".*" resulted in an empty set of columns$', re.S)


def bind_message(message: str) -> str:
    """DuckDB's bind error ``message`` said of the user's text: a selector that matched no
    column is named as the user wrote it, not as DuckDB's expansion of it."""
    if _EMPTY_SELECTOR.match(message):
        return "a star with a pattern or a COLUMNS(...) of this query matches no column"
    return message


def bind_hint(message: str, sql: str, resources: Iterable[Resource]) -> str | None:
    """The hint for DuckDB's bind error ``message`` about statement ``sql`` over
    ``resources``, or None when the registry has nothing to add."""
    resources = list({r.id: r for r in resources}.values())
    missing = _NOT_FOUND.match(message)
    if missing:
        return _page_token(missing.group(1), resources) or _double_quoted(missing.group(1), sql)
    if _TIMESTAMP.search(message):
        return _timestamp(sql, resources)
    if _EMPTY_SELECTOR.match(message):
        return _options(resources)
    if _UNNEST.match(message):
        return _json_arrays(sql, resources)
    return None


def _example(
    resources: list[Resource], kind: Callable[[Column], bool], sql: str, default: str
) -> str:
    """The first column of ``resources`` of a ``kind`` that ``sql`` names, else the first of
    that kind, else ``default``."""
    names = [c.name for r in resources for c in r.columns if kind(c)]
    named = [n for n in names if re.search(rf"\b{re.escape(n)}\b", sql, re.IGNORECASE)]
    return (named or names or [default])[0]


def _json_arrays(sql: str, resources: list[Resource]) -> str:
    example = _example(resources, lambda c: c.type == "array", sql, "trials")
    return (
        f"the APIs' arrays are JSON columns here ({example}): json_each({example}) gives a row "
        f"per item (its value column), or unnest(CAST({example} AS JSON[])) a list's items"
    )


def _options(resources: list[Resource]) -> str | None:
    options = [(r.id, call_options(r)) for r in resources if call_options(r)]
    if not options:
        return None
    said = "; ".join(f"{rid}: {', '.join(names)}" for rid, names in options)
    return (
        "a star or COLUMNS(...) leaves out the call options, which hold a value only where a "
        f"condition gave one ({said}), unless the statement names them: name the column you "
        "want, or change the pattern"
    )


def _page_token(name: str, resources: list[Resource]) -> str | None:
    for resource in resources:
        for method in resource.methods_for("SELECT"):
            pages = method.pagination
            if pages and name.lower() in (pages.input_token.lower(), pages.output_token.lower()):
                return (
                    f"{name} is the page token of {resource.id}'s {method.name} call, not a "
                    "column: every page is read for you (a LIMIT stops the paging early)"
                )
    return None


def _double_quoted(name: str, sql: str) -> str | None:
    """A column DuckDB cannot find that the statement wrote in double quotes
    (``= "Completed"``): a name, where a text value was meant."""
    if f'"{name}"' not in sql:
        return None
    return f"\"{name}\" is a name (double quotes): a text value takes single quotes, '{name}'"


def _timestamp(sql: str, resources: list[Resource]) -> str:
    example = _example(resources, lambda c: c.db_type == "TIMESTAMPTZ", sql, "createTime")
    return (
        f"the APIs' date-time strings are TIMESTAMPTZ columns here ({example}: DESCRIBE "
        f"EXTENDED gives each column's sql_type): compare with a timestamp ({example} >= "
        f"'2026-01-01'), or cast to text ({example}::VARCHAR LIKE '2026%')"
    )
