"""A Session's life: closed, it refuses statements (it ran them in a new, empty database)."""

from __future__ import annotations

import pytest

from stackql_tuning.errors import UsageError
from stackql_tuning.session import Session


def test_a_closed_session_refuses_statements() -> None:
    with Session() as s:
        s.execute("CREATE TABLE picks AS SELECT 1 AS n")
        assert s.execute("SELECT n FROM picks").rows == [(1,)]
    assert s.closed
    for run in (
        lambda: s.execute("SELECT n FROM picks"),
        lambda: list(s.execute_script("SELECT 1; SELECT 2")),
    ):
        with pytest.raises(UsageError, match="this Session is closed"):
            run()
    s.close()  # twice: harmless


def test_execute_script_runs_at_once_and_iter_script_when_iterated() -> None:
    # execute_script was a generator: called for its effects, it ran nothing
    with Session() as s:
        results = s.execute_script("CREATE TABLE t AS SELECT 1 AS a; CREATE TABLE u AS SELECT 2")
        assert len(results) == 2
        assert s.execute("SELECT count(*) FROM u").rows == [(1,)]
        lazy = s.iter_script("CREATE TABLE v AS SELECT 3")
        with pytest.raises(Exception, match="v does not exist"):
            s.execute("SELECT count(*) FROM v")
        list(lazy)
        assert s.execute("SELECT count(*) FROM v").rows == [(1,)]


def test_a_failed_script_keeps_the_results_of_the_statements_before_it() -> None:
    # they were lost: an INSERT ... RETURNING's new names with them
    from stackql_tuning.errors import StackqlTuningError

    with Session() as s, pytest.raises(StackqlTuningError) as info:
        s.execute_script("SELECT 1 AS a; SELECT 2 AS b; SELECT bogus FROM range(1)")
    assert [r.rows for r in info.value.results] == [[(1,)], [(2,)]]


def test_a_dict_parameter_is_told_to_be_json() -> None:
    with Session() as s, pytest.raises(UsageError) as info:
        s.execute("SELECT ?", [{"Strategy": "Bayesian"}])
    assert info.value.hint and "json.dumps(value)" in info.value.hint


def test_a_cancel_while_the_statement_is_parsed_is_not_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the flag was cleared after the parse: the cancel was lost and the statement ran on
    from stackql_tuning import sql as sql_package
    from stackql_tuning.errors import Cancelled

    with Session() as s:
        s.execute("SELECT 1")
        real = sql_package.parse

        def parse_then_cancel(*args: object, **kwargs: object) -> object:
            out = real(*args, **kwargs)  # type: ignore[arg-type]
            s.cancel()
            return out

        monkeypatch.setattr(sql_package, "parse", parse_then_cancel)
        with pytest.raises(Cancelled):
            s.execute("SELECT count(*) FROM range(2000000000) a WHERE a.range % 7 = 3")
        monkeypatch.setattr(sql_package, "parse", real)
        assert s.execute("SELECT 2").rows == [(2,)]  # the next statement is not cancelled


def test_a_result_is_short_in_repr_and_iterates_its_rows() -> None:
    with Session() as s:
        result = s.execute("SELECT range AS i FROM range(1000000)")
    text = repr(result)
    assert len(text) < 200 and "1000000 rows" in text and "(999997 more)" in text
    assert len(result) == 1000000
    assert next(iter(result)) == (0,)


def test_a_closed_session_builds_no_new_database() -> None:
    s = Session()
    s.close()
    with pytest.raises(UsageError, match="closed"):
        s.store  # noqa: B018


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        ({"regoin": ["us-east-1"]}, "unknown default 'regoin'"),
        ({"region": []}, "an empty list"),
        ({"region": [{"a": 1}]}, "must be a value or a list of values"),
        ({"region": {"us-east-1"}}, "must be a value or a list of values"),
    ],
)
def test_bad_defaults_are_refused(defaults: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Session(defaults=defaults)


def test_one_default_value_is_a_list_of_one_not_of_its_letters() -> None:
    # "ml-research-prod" was read as a list of letters: 12 calls, 0 rows, no word
    s = Session(defaults={"projectsId": "ml-research-prod", "region": ("us-east-1", "us-east-1")})
    assert s.settings.defaults == {"projectsId": ["ml-research-prod"], "region": ["us-east-1"]}


def test_from_env_keeps_the_config_files_other_defaults(tmp_path, monkeypatch) -> None:
    # the given defaults replaced the config file's whole [defaults] table
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nregion = ["eu-west-1"]\nprojectsId = ["a"]\n')
    s = Session.from_env(config=str(config), defaults={"projectsId": ["p"]})
    assert s.settings.defaults["region"] == ["eu-west-1"]
    assert s.settings.defaults["projectsId"] == ["p"]


def test_a_session_without_file_access_reaches_no_local_file(tmp_path) -> None:
    # a service that runs SQL built from its users' input had no way to keep read_csv, COPY
    # ... TO and ATTACH away from the machine's files
    from stackql_tuning.errors import StackqlTuningError

    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with Session(file_access=False) as s:
        assert s.execute("SELECT 1 AS a").rows == [(1,)]
        s.execute("CREATE TABLE t AS SELECT 2 AS b")  # the session's own tables still work
        for sql in (
            f"SELECT * FROM read_csv('{secret}')",
            f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
            f"ATTACH '{tmp_path / 'x.db'}'",
            "SET enable_external_access = true",
        ):
            with pytest.raises(StackqlTuningError):
                s.execute(sql)
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "x.db").exists()
    with Session() as s:  # the default: files are the user's own
        assert s.execute(f"SELECT * FROM read_csv('{secret}')").rows == [(1,)]
