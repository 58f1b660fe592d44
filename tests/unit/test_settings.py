"""The library checks its settings as the command line checks its options (one table).

``connect(timeout="abc")`` was a TypeError deep in a statement, ``read_timeout=-1`` and
``auth="not json"`` a ProviderError per call, ``max_attempts=0`` and ``concurrency=0`` were
taken silently and a misspelled setting was Python's own TypeError.
"""

from __future__ import annotations

from typing import Any

import pytest

import stackql_tuning
from stackql_tuning import cli
from stackql_tuning.errors import UsageError
from stackql_tuning.session import Session
from stackql_tuning.settings import NUMERIC_RULES, Settings

ANON = {"google": {"type": "anonymous"}}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"timeout": "abc"},
            "timeout must be a positive number of seconds, at most 2592000 (30 days) or None, "
            "got 'abc'",
        ),
        (
            {"timeout": float("nan")},
            "timeout must be a positive number of seconds, at most 2592000 (30 days), got nan",
        ),
        (
            {"read_timeout": -1},
            "read_timeout must be a positive number of seconds, at most 2592000 (30 days), got -1",
        ),
        ({"connect_timeout": float("inf")}, "connect_timeout must be a positive number"),
        ({"max_attempts": 0}, "max_attempts must be at least 1, got 0"),
        ({"concurrency": 0}, "concurrency must be at least 1, got 0"),
        ({"concurrency": 2.5}, "concurrency must be a whole number, got 2.5"),
        ({"page_limit": True}, "page_limit must be a whole number or None, got True"),
        (
            {"cache_ttl": -1},
            "cache_ttl must be a number of seconds >= 0, at most 2592000 (30 days), got -1",
        ),
        (
            {"rate_limit": 0},
            "rate_limit must be a number of requests per second from 0.001 to 1e+06",
        ),
        (
            {"read_timeout": 1e10},
            "read_timeout must be a positive number of seconds, at most 2592000 (30 days), "
            "got 1e+10",
        ),
        (
            {"connect_timeout": 1e10},
            "connect_timeout must be a positive number of seconds, at most 2592000 (30 days)",
        ),
        (
            {"timeout": 1e10},
            "timeout must be a positive number of seconds, at most 2592000 (30 days)",
        ),
        (
            {"retry_cap": 1e300},
            "retry_cap must be a number of seconds >= 0, at most 2592000 (30 days)",
        ),
        ({"rate_limit": 1e-308}, "rate_limit must be a number of requests per second from 0.001"),
        ({"on_error": "contine"}, "on_error must be 'fail' or 'continue', got 'contine'"),
        ({"dry_run": "yes"}, "dry_run must be True or False, got 'yes'"),
        ({"accounts": ["111122223333"]}, "accounts must be a mapping"),
        ({"auth": "not json"}, "auth is not valid JSON: Expecting value at line 1, column 1"),
        ({"auth": ["google"]}, "auth must be a JSON object keyed by provider"),
        ({"auth": {"gcp": {}}}, "auth names an unknown provider 'gcp'"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_setting(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as info:
        stackql_tuning.connect(**settings)
    assert info.value.message.startswith(message), info.value.message
    assert str(info.value).startswith("usage error: ")


def test_an_unknown_setting_says_which_was_meant() -> None:
    with pytest.raises(UsageError) as info:
        stackql_tuning.connect(concurency=4)
    assert info.value.message == "unknown setting 'concurency'"
    assert info.value.hint == "did you mean 'concurrency'?"
    with pytest.raises(UsageError) as info:
        Session(zzzz=1)
    assert (
        info.value.hint is not None
        and "settings are: auth, auth_vars, concurrency" in info.value.hint
    )


def test_good_values_are_taken() -> None:
    session = stackql_tuning.connect(
        auth='{"google": {"type": "anonymous"}}',  # JSON text, as --auth
        timeout=5,
        read_timeout=0.5,
        page_limit=None,
        cache_ttl=0,
        max_attempts=1,
        on_error="continue",
    )
    assert session.settings.auth == ANON
    assert (session.settings.timeout, session.settings.max_attempts) == (5, 1)
    assert Settings(auth=None).auth == {}  # type: ignore[arg-type]


def test_the_command_line_checks_with_the_same_table() -> None:
    assert cli.NUMERIC_RULES is NUMERIC_RULES
    assert {"concurrency", "timeout", "read_timeout", "max_attempts"} <= set(NUMERIC_RULES)


@pytest.mark.parametrize("sql", [None, b"SELECT 1", 5])
def test_execute_needs_text(sql: Any) -> None:
    session = stackql_tuning.connect(auth=ANON)
    with pytest.raises(UsageError, match=r"execute\(\) needs SQL text \(a str\), got "):
        session.execute(sql)
    with pytest.raises(UsageError, match=r"execute_script\(\) needs SQL text"):
        list(session.execute_script(sql))
    assert session.execute("SELECT 1 AS x").rows == [(1,)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("aws = 5\n", "aws must be a table"),
        ("[aws]\naccount = 1\n", "unknown config key 'aws.account'"),
        ("[defaultz]\nregion = 'x'\n", "unknown config key 'defaultz'"),
        ('[defaults]\nregions = ["eu-west-1"]\n', "unknown default 'regions'"),
        # a bool or a number passed the check: projectsId = [true] queried project "True"
        ("[defaults]\nregion = [true]\n", "defaults.region must be a string .*, got true"),
        ("[defaults]\nprojectsId = true\n", "defaults.projectsId must be a string .*, got true"),
        ("[defaults]\nregion = ['a', 12]\n", "defaults.region must be a string .*, got 12"),
        ("[defaults]\nregion = []\n", "defaults.region must be .*, got an empty list"),
    ],
)
def test_config_file_mistakes_are_usage_errors(tmp_path: Any, text: str, message: str) -> None:
    """A misspelled default was ignored: the query read another region than the one asked."""
    from stackql_tuning.config import load_config
    from stackql_tuning.errors import UsageError
    from stackql_tuning.registry.loader import default_registry

    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as e:
        load_config(path, default_registry().param_names)
    assert e.value.location.file == str(path)


def test_config_defaults_name_params_in_any_case(tmp_path: Any) -> None:
    from stackql_tuning.config import load_config
    from stackql_tuning.registry.loader import default_registry

    path = tmp_path / "config.toml"
    path.write_text('[defaults]\nRegion = "eu-west-1"\nprojectsId = ["a", "b"]\n')
    got = load_config(path, default_registry().param_names)
    assert got["defaults"] == {"Region": ["eu-west-1"], "projectsId": ["a", "b"]}


def test_a_config_path_that_is_a_directory_says_so(tmp_path: Any) -> None:
    from stackql_tuning.config import load_config

    with pytest.raises(UsageError, match="is a directory"):
        load_config(tmp_path)


def test_bad_auth_from_the_environment_names_the_variable(monkeypatch: Any) -> None:
    """It said "--auth is not valid JSON" though no --auth was given."""
    from stackql_tuning.transports.auth import parse_auth

    monkeypatch.setenv("STACKQL_TUNING_AUTH", "{bad")
    with pytest.raises(UsageError) as info:
        parse_auth(None)
    assert info.value.message.startswith("$STACKQL_TUNING_AUTH is not valid JSON")
    assert "--auth" not in str(info.value)
    with pytest.raises(UsageError, match=r"^usage error: --auth is not valid JSON"):
        parse_auth("{bad")


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        # a misspelled key was ignored: the calls went out with the default chain's keys
        ({"aws": {"keyIdEnvVar": "MYK"}}, "aws entry has an unknown key 'keyIdEnvVar'"),
        ({"google": {"credentials_file": "k.json"}}, "google entry has an unknown key"),
        ({"aws": {"keyIDenvvar": 5}}, r"aws.keyIDenvvar must be a non-empty string"),
        ({"google": {"credentialsfilepath": ["k.json"]}}, "must be a non-empty string"),
        ({"aws": {"profile": ""}}, "aws.profile must be a non-empty string"),
        ({"aws": {"profile": "p", "keyIDenvvar": "K"}}, "names a profile and keyIDenvvar"),
        ({"aws": {"type": "profile"}}, "needs the profile's name"),
    ],
)
def test_auth_entries_are_checked(auth: dict[str, Any], message: str) -> None:
    from stackql_tuning.transports.auth import parse_auth

    with pytest.raises(UsageError, match=message):
        parse_auth(auth)


def test_an_auth_entrys_type_follows_from_its_keys() -> None:
    # without "type", named env vars and a key file were ignored (the default chain or ADC
    # signed the calls instead)
    from stackql_tuning.transports.auth import aws_credentials, parse_auth

    got = parse_auth({"aws": {"keyIDenvvar": "MYK", "credentialsenvvar": "MYS"}})
    assert got["aws"]["type"] == "aws_signing_v4"
    assert aws_credentials(got["aws"], {"MYK": "kid", "MYS": "sec"}) == {
        "aws_access_key_id": "kid",
        "aws_secret_access_key": "sec",
    }
    assert parse_auth({"google": {"credentialsfilepath": "k.json"}})["google"]["type"] == (
        "service_account"
    )


@pytest.mark.parametrize("pasted", ["AKIAREALKEY000000001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCY"])
def test_a_secret_pasted_for_a_variable_name_is_not_shown(pasted: str) -> None:
    from stackql_tuning.transports.auth import parse_auth

    with pytest.raises(UsageError) as info:
        parse_auth({"aws": {"type": "aws_signing_v4", "keyIDenvvar": pasted}})
    assert pasted not in str(info.value) and "not shown" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[aws.accounts."111111111111"]\nrolearn = "x"\n', "unknown config key .*rolearn"),
        ('[aws.accounts."111111111111"]\nprofile = "p"\nsecret = "s"\n', "unknown config key"),
        ('[aws.accounts."111111111111"]\nprofile = 5\n', "profile must be a non-empty string"),
        ('[aws.accounts."111111111111"]\nprofile = ""\n', "profile must be a non-empty string"),
    ],
)
def test_account_entries_are_checked(tmp_path: Any, text: str, message: str) -> None:
    from stackql_tuning.config import load_config

    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(path)
    with pytest.raises(UsageError, match=message):  # the library's accounts: the same rules
        import tomllib

        Settings(accounts=tomllib.loads(text)["aws"]["accounts"])


def test_a_config_path_that_is_not_a_regular_file_says_so(tmp_path: Any) -> None:
    from stackql_tuning.config import load_config

    with pytest.raises(UsageError, match="is not a regular file"):  # it said "does not exist"
        load_config("/dev/null")
    path = tmp_path / "config.toml"
    path.write_text("[defaults]\n")
    path.chmod(0)
    import os

    if os.geteuid() != 0:  # root reads any file
        with pytest.raises(UsageError, match="cannot read config file"):
            load_config(path)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("google_endpoint", "not a url"),
        ("google_endpoint", "ftp://host"),
        ("aws_endpoint", "http://"),
        ("aws_endpoint", "http://127.0.0.1:abc"),
        ("google_endpoint", "http://127.0.0.1:8080/ "),  # every path then had a space
    ],
)
def test_an_endpoint_that_is_not_a_url_is_refused(name: str, value: str) -> None:
    # it was sent, retried five times, and reported as "could not connect", naming no setting
    with pytest.raises(UsageError, match=f"{name} must be an http\\(s\\) URL with a host"):
        Settings(**{name: value})
    Settings(**{name: "http://127.0.0.1:8080"})
    Settings(**{name: "https://vertex.example.com"})
