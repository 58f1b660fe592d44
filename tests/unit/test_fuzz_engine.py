"""Property tests: any input to the dialect, the planner or the renderers ends in a result or
one of our errors, never another exception (hypothesis, bounded example counts for CI).

The planner is driven through ``Session.execute`` with ``dry_run=True``: parse, plan, pushdown,
DuckDB binding and request building all run, and no call is made. Every request it would send
must go to the expected host with a path that keeps the method's shape.
Set ``STACKQL_TUNING_FUZZ_EXAMPLES`` for a longer run than CI's.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.render import FORMATS, render
from stackql_tuning.result import Result
from stackql_tuning.session import Session
from stackql_tuning.sql import parse

#: examples per property: bounded for CI; STACKQL_TUNING_FUZZ_EXAMPLES=5000 for a deep run
FUZZ = settings(
    max_examples=int(os.environ.get("STACKQL_TUNING_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REGISTRY = default_registry()
RESOURCES = {r.id: r for r in REGISTRY.all_resources()}
GOOGLE_HOST = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-aiplatform\.googleapis\.com$")
AWS_SUMMARY = re.compile(r"^\w+\.\w+ region=[a-z]{2}(?:-[a-z]+)+-\d{1,2} ")
_SESSION: list[Session] = []


def dry_session() -> Session:
    if not _SESSION:
        _SESSION.append(Session(auth={"google": {"type": "anonymous"}}, dry_run=True))
    return _SESSION[0]


# -- the dialect -----------------------------------------------------------------------------
_WORDS = st.sampled_from(
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "JOIN", "ON", "LIMIT",
        "ORDER BY", "GROUP BY", "WITH", "AS", "UNION", "EXEC", "SHOW", "DESCRIBE", "INSERT INTO",
        "DELETE FROM", "VALUES", "RETURNING", "*", "(", ")", ",", ";", "=", "'", "''", "\"",
        "/*+ AWAIT */", "/*+ ON_ERROR=CONTINUE */", "--", "\n", "@p=", "@@json=", "{{", "}}",
        "json_extract(", "'$.a'", "1", "-1", "1e400", "NULL", "x", "t.x",
        *RESOURCES, "google.aiplatform", "aws", "\\", "\x00", "é", "\u2028",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(_WORDS, max_size=25).map(" ".join))
def test_parse_ends_in_statements_or_a_parse_error(text: str) -> None:
    with contextlib.suppress(StackqlTuningError):
        parse(text)


@FUZZ
@given(st.text(max_size=200))
def test_parse_of_arbitrary_text(text: str) -> None:
    with contextlib.suppress(StackqlTuningError):
        parse(text)


# -- the planner (through a dry run) ---------------------------------------------------------
_HOSTILE = st.sampled_from(
    ["p", "us-central1", "europe-west4", "us-east-1", "eu-west-1", "1", "../x", "a/b", "%2F",
     "?x=1", "#f", "evil.com", "a\nb", "é", "x'); DROP TABLE t; --", "", " ", "*",
     "JOB_STATE_RUNNING"]
)  # fmt: skip
_GOOD = {
    "locationsId": ["us-central1", "europe-west4"],
    "region": ["us-east-1", "eu-west-1"],
    "projectsId": ["p", "my-project"],
}
_VALUES = st.one_of(_HOSTILE, st.text(max_size=12), st.integers(-5, 10**6))


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("\x00", "").replace("'", "''") + "'"


@st.composite
def queries(draw: st.DrawFn) -> str:
    rid = draw(st.sampled_from(sorted(RESOURCES)))
    res = RESOURCES[rid]
    names = [c.name for c in res.columns] + [p.name for p in res.param_columns]
    names.append("no_such_column")
    cols = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    select = ", ".join(f't."{c}"' for c in cols) if draw(st.booleans()) else "*"
    preds = []
    # bind the required params of one SELECT method (mostly with good values), so that many
    # examples get through planning to request building
    methods = res.methods_for("SELECT")
    if methods and draw(st.integers(0, 9)) > 0:
        method = draw(st.sampled_from(methods))
        for name in method.required_params:
            good = st.sampled_from(_GOOD.get(name, ["p", "1"]))
            items = draw(st.lists(st.one_of(good, good, good, _VALUES), min_size=1, max_size=3))
            if len(items) == 1:
                preds.append(f't."{name}" = {_literal(items[0])}')
            else:
                preds.append(f't."{name}" IN ({", ".join(_literal(v) for v in items)})')
    for name in draw(st.lists(st.sampled_from(names), max_size=4)):
        shape = draw(st.sampled_from(["eq", "in", "like", "gt", "json", "lower"]))
        value = draw(_VALUES)
        col = f't."{name}"'
        if shape == "eq":
            preds.append(f"{col} = {_literal(value)}")
        elif shape == "in":
            items = draw(st.lists(_VALUES, min_size=1, max_size=4))
            preds.append(f"{col} IN ({', '.join(_literal(v) for v in items)})")
        elif shape == "like":
            preds.append(f"{col} LIKE {_literal(value)}")
        elif shape == "gt":
            preds.append(f"{col} > {_literal(value)}")
        elif shape == "json":
            preds.append(f"json_extract({col}, '$.a') = {_literal(value)}")
        else:
            preds.append(f"{col} = lower({_literal(value)})")
    sql = f"SELECT {select} FROM {rid} t"
    if preds:
        sql += " WHERE " + " AND ".join(preds)
    if draw(st.booleans()):
        sql += f" ORDER BY 1 LIMIT {draw(st.integers(0, 50))}"
    return sql


def _check_request(summary: str) -> None:
    if summary.startswith(("one call per", "pages stop once")):
        return
    if summary.split(" ", 1)[0] in ("GET", "POST", "DELETE", "PATCH"):
        url = urlsplit(summary.split(" ", 1)[1])
        assert GOOGLE_HOST.match(url.hostname or ""), summary
        assert url.port is None and not url.username and not url.fragment, summary
        for seg in url.path.split("/")[1:]:
            text = unquote(seg)
            assert seg and text not in (".", "..") and "/" not in text, summary
    else:
        assert AWS_SUMMARY.match(summary), summary


@FUZZ
@given(queries())
def test_planner_ends_in_a_plan_or_our_error(sql: str) -> None:
    try:
        result = dry_session().execute(sql)
    except StackqlTuningError:
        return
    for row in result.rows:
        _check_request(str(row[2]))


# -- the renderers ----------------------------------------------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "VARCHAR": st.text(max_size=40),
    "BIGINT": st.integers(-(2**63), 2**63 - 1),
    "INTEGER": st.integers(-(2**31), 2**31 - 1),
    "DOUBLE": st.floats(allow_nan=True, allow_infinity=True),
    "BOOLEAN": st.booleans(),
    "JSON": _JSON.map(json.dumps),
    "TIMESTAMP WITH TIME ZONE": st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ).map(lambda d: d + timedelta(0)),
}


@st.composite
def results(draw: st.DrawFn) -> Result:
    types = draw(st.lists(st.sampled_from(sorted(_BY_TYPE)), min_size=1, max_size=5))
    columns = draw(
        st.lists(st.text(min_size=1, max_size=10), min_size=len(types), max_size=len(types))
    )
    rows = draw(
        st.lists(
            st.tuples(*(st.none() | _BY_TYPE[t] for t in types)),
            max_size=6,
        )
    )
    return Result(columns=columns, types=types, rows=[tuple(r) for r in rows])


@FUZZ
@given(results(), st.sampled_from(FORMATS), st.booleans(), st.sampled_from([None, 20, 80]))
def test_every_renderer_renders_any_result(
    result: Result, fmt: str, hide_headers: bool, width: int | None
) -> None:
    out = io.StringIO()
    render(result, fmt, out, hide_headers=hide_headers, width=width)
    text = out.getvalue()
    if fmt == "json":
        assert len(json.loads(text)) == len(result.rows)
    elif fmt == "jsonl":
        assert len([line for line in text.split("\n") if line]) == len(result.rows)
    elif fmt == "csv":
        parsed = list(csv.reader(io.StringIO(text, newline="")))
        assert len(parsed) == len(result.rows) + (0 if hide_headers else 1)


def test_csv_quotes_a_bare_cr() -> None:
    out = io.StringIO()
    render(Result(columns=["a"], types=["VARCHAR"], rows=[("x\ry",)]), "csv", out)
    assert list(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [["a"], ["x\ry"]]
