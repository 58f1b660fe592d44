"""Many AWS accounts over the sandbox: ``AwsAccountId IN (...)`` fans out like ``region``.

The sandbox seeds a second account (``SECOND_ACCOUNT``) that a session reaches by assuming
``SECOND_ACCOUNT_ROLE`` through the sandbox's STS; the accounts come from ``Settings.accounts``
(API) or from a config file (``--config`` on the command line).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest

from stackql_tuning.cli import main
from stackql_tuning.errors import AuthError
from stackql_tuning.sandbox.runner import SECOND_ACCOUNT, SECOND_ACCOUNT_ROLE, Sandbox
from stackql_tuning.session import Session

DEFAULT_ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-central-1")  # eu-central-1: no other test uses it


def _expected(sandbox: Sandbox) -> Counter[tuple[str, str]]:
    """(account, region) -> seeded jobs, for REGIONS."""
    out: Counter[tuple[str, str]] = Counter()
    for account, truth in sandbox.truth["aws"]["accounts"].items():
        for region in REGIONS:
            out[(account, region)] += len(truth["regions"].get(region, {}))
    return +out


def _names(sandbox: Sandbox) -> set[tuple[str, str, str]]:
    return {
        (account, region, name)
        for account, truth in sandbox.truth["aws"]["accounts"].items()
        for region in REGIONS
        for name in truth["regions"].get(region, {})
    }


QUERY = (
    "SELECT AwsAccountId, region, HyperParameterTuningJobName"
    " FROM aws.sagemaker.hyper_parameter_tuning_jobs"
    f" WHERE AwsAccountId IN ('{DEFAULT_ACCOUNT}', '{SECOND_ACCOUNT}')"
    f" AND region IN ('{REGIONS[0]}', '{REGIONS[1]}')"
)


def test_account_fan_out_through_settings_accounts(fresh_sandbox: Sandbox) -> None:
    with Session(**fresh_sandbox.settings()) as s:
        rows = s.execute(QUERY).rows
    got = {tuple(r) for r in rows}
    assert _names(fresh_sandbox) <= got  # other tests may add jobs of their own
    assert Counter((a, r) for a, r, _ in got if (a, r, _) in _names(fresh_sandbox)) == _expected(
        fresh_sandbox
    )
    lists = Counter(
        r["region"]
        for r in fresh_sandbox.aws.requests()
        if r["operation"] == "ListHyperParameterTuningJobs"
    )
    assert lists[REGIONS[1]] == 2  # one list per (account, region); other tests add
    assert lists[REGIONS[0]] >= 2 and set(lists) == set(REGIONS)  # jobs in us-east-1
    second = {n for a, _, n in got if a == SECOND_ACCOUNT}
    first = {n for a, _, n in got if a == DEFAULT_ACCOUNT}
    assert second and first and not (second & first)


def test_account_fan_out_through_a_config_file(
    sandbox_env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[defaults]\n"
        f'region = ["{REGIONS[0]}", "{REGIONS[1]}"]\n\n'
        f'[aws.accounts."{SECOND_ACCOUNT}"]\n'
        f'role_arn = "{SECOND_ACCOUNT_ROLE}"\n'
    )
    out, err = io.StringIO(), io.StringIO()
    sql = (
        "SELECT AwsAccountId, region, count(*) AS n FROM aws.sagemaker.tuning_jobs"
        f" WHERE AwsAccountId IN ('{DEFAULT_ACCOUNT}', '{SECOND_ACCOUNT}')"
        " AND TuningJobStartTime <= now() GROUP BY ALL ORDER BY ALL"
    )
    code = main(["exec", "--config", str(config), "--output", "json", sql], out=out, err=err)
    assert code == 0, err.getvalue()
    rows = json.loads(out.getvalue())
    got = {(r["AwsAccountId"], r["region"]): r["n"] for r in rows}
    for key, n in _expected(sandbox).items():
        assert got[key] >= n  # at least the seeded jobs (other tests may add their own)
    assert set(got) == set(_expected(sandbox))


def test_unified_view_fans_out_over_accounts(sandbox: Sandbox) -> None:
    with Session(**sandbox.settings()) as s:
        rows = s.execute(
            "SELECT account_or_project, location_or_region, name, status FROM unified.tuning.jobs"
            f" WHERE provider = 'aws' AND AwsAccountId IN ('{DEFAULT_ACCOUNT}', '{SECOND_ACCOUNT}')"
            f" AND region = '{REGIONS[1]}'"
        ).rows
    truth = sandbox.truth["aws"]["accounts"][SECOND_ACCOUNT]["regions"][REGIONS[1]]
    normal = {"InProgress": "RUNNING", "Completed": "SUCCEEDED", "Failed": "FAILED"}
    normal |= {"Stopping": "STOPPING", "Stopped": "STOPPED"}
    seeded = {(SECOND_ACCOUNT, REGIONS[1], n, normal[s]) for n, s in truth.items()}
    assert seeded <= {tuple(r) for r in rows}
    assert {r[0] for r in rows} == {SECOND_ACCOUNT}  # the default account has no job there


def test_an_account_without_credentials_is_an_auth_error(sandbox: Sandbox) -> None:
    other = "999999999999"
    with Session(**sandbox.settings()) as s, pytest.raises(AuthError) as err:
        s.execute(
            "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs"
            f" WHERE AwsAccountId = '{other}' AND region = 'us-east-1'"
        )
    message = str(err.value)
    assert other in message and "aws.accounts" in message


def test_from_env_merges_the_config_files_accounts(sandbox: Sandbox, tmp_path: Path) -> None:
    # the given accounts (the sandbox's) once replaced the config file's [aws.accounts]
    third = "111122223333"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[aws.accounts."{third}"]\nrole_arn = "arn:aws:iam::{third}:role/TuningReadOnly"\n\n'
        f'[aws.accounts."{SECOND_ACCOUNT}"]\nprofile = "prod"\n'
    )
    with Session.from_env(config=config, **sandbox.settings()) as s:
        assert s.settings.accounts == {
            SECOND_ACCOUNT: {"role_arn": SECOND_ACCOUNT_ROLE},  # the given entry wins
            third: {"role_arn": f"arn:aws:iam::{third}:role/TuningReadOnly"},
        }
        rows = s.execute(
            "SELECT AwsAccountId, count(*) FROM aws.sagemaker.hyper_parameter_tuning_jobs"
            f" WHERE AwsAccountId IN ('{third}', '{SECOND_ACCOUNT}') AND region = '{REGIONS[1]}'"
            " GROUP BY ALL"
        ).rows
    assert {r[0] for r in rows} == {SECOND_ACCOUNT}  # the third account has no job


def _profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS config files with profile ``base`` (the sandbox's keys, the default account) and
    profile ``viarole`` (the second account's role, assumed from ``base``)."""
    from stackql_tuning.sandbox.aws import SANDBOX_KEY_ID, SANDBOX_SECRET

    creds, conf = tmp_path / "credentials", tmp_path / "config"
    creds.write_text(
        f"[base]\naws_access_key_id = {SANDBOX_KEY_ID}\naws_secret_access_key = {SANDBOX_SECRET}\n"
    )
    conf.write_text(f"[profile viarole]\nrole_arn = {SECOND_ACCOUNT_ROLE}\nsource_profile = base\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(conf))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # only the session's endpoint


SECOND_QUERY = (
    "SELECT AwsAccountId, HyperParameterTuningJobName"
    " FROM aws.sagemaker.hyper_parameter_tuning_jobs"
    f" WHERE AwsAccountId = '{SECOND_ACCOUNT}' AND region = '{REGIONS[1]}'"
)


@pytest.mark.parametrize(
    "account",
    [
        {"profile": "viarole"},  # botocore assumes the profile's role itself
        {"profile": "base", "role_arn": SECOND_ACCOUNT_ROLE},  # we assume it from the profile
    ],
)
def test_an_accounts_role_is_assumed_through_the_sessions_endpoint(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: dict[str, str]
) -> None:
    # a profile with role_arn once sent botocore's own AssumeRole to the real
    # sts.amazonaws.com (with the profile's keys), and an account naming both a profile and a
    # role used the profile's credentials as they were, the role silently dropped
    _profiles(tmp_path, monkeypatch)
    settings = {**sandbox.settings(), "accounts": {SECOND_ACCOUNT: account}}
    with Session(**settings) as s:
        rows = s.execute(SECOND_QUERY).rows
    truth = sandbox.truth["aws"]["accounts"][SECOND_ACCOUNT]["regions"][REGIONS[1]]
    assert set(truth) <= {name for _, name in rows}


def test_a_missing_profile_is_named(sandbox: Sandbox) -> None:
    settings = {**sandbox.settings(), "accounts": {SECOND_ACCOUNT: {"profile": "nosuch"}}}
    with Session(**settings) as s, pytest.raises(AuthError) as err:
        s.execute(SECOND_QUERY)
    assert "'nosuch'" in str(err.value) and SECOND_ACCOUNT in str(err.value)


def test_dry_run_names_the_account_of_each_call() -> None:
    import stackql_tuning

    with stackql_tuning.connect(dry_run=True, auth={"aws": {}}) as s:
        r = s.execute(
            "SELECT HyperParameterTuningJobName FROM aws.sagemaker.hyper_parameter_tuning_jobs "
            "WHERE region = 'us-east-1' AND AwsAccountId IN ('111111111111', '222222222222')"
        )
    requests = [row[2] for row in r.rows]
    assert any("region=us-east-1 account=111111111111 " in q for q in requests), requests
    assert any("region=us-east-1 account=222222222222 " in q for q in requests), requests


def test_the_sandboxs_exported_environment_reaches_its_second_account(
    sandbox_env: dict[str, str], sandbox: Sandbox
) -> None:
    # after `sandbox serve`'s export lines alone, the second account was "not configured"
    assert json.loads(sandbox_env["STACKQL_TUNING_ACCOUNTS"]) == {
        SECOND_ACCOUNT: {"role_arn": SECOND_ACCOUNT_ROLE}
    }
    with Session.from_env() as s:
        rows = s.execute(QUERY).rows
    assert {r[0] for r in rows} == {DEFAULT_ACCOUNT, SECOND_ACCOUNT}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{bad", "is not valid JSON"),
        ("[1]", "must be a JSON object keyed by account id"),
        ('{"123": {"profile": "p"}}', "is not a 12-digit account id"),
        ('{"123456789012": {"rolearn": "x"}}', "unknown config key"),
    ],
)
def test_bad_accounts_in_the_environment_are_usage_errors(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    from stackql_tuning.errors import UsageError

    monkeypatch.setenv("STACKQL_TUNING_ACCOUNTS", value)
    with pytest.raises(UsageError, match=message):
        Session.from_env(config=None)


@pytest.mark.parametrize(
    "source",
    [
        f"(VALUES ('{SECOND_ACCOUNT}')) v(a)",
        f"(SELECT AwsAccountId AS a FROM aws.sagemaker.hyper_parameter_tuning_jobs "
        f"WHERE AwsAccountId = '{SECOND_ACCOUNT}' AND region = '{REGIONS[1]}' LIMIT 1) v",
    ],
)
def test_an_account_joined_to_a_source_is_called_beside_a_constant_region(
    fresh_sandbox: Sandbox, source: str
) -> None:
    # the region alone planned the table, the joined account was dropped, the call went to
    # the default account and the join matched nothing: 0 rows, no error
    sql = (
        f"SELECT v.a, count(*) FROM {source} JOIN aws.sagemaker.hyper_parameter_tuning_jobs j "
        f"ON j.AwsAccountId = v.a WHERE j.region = '{REGIONS[1]}' GROUP BY ALL"
    )
    with Session(**fresh_sandbox.settings()) as s:
        rows = s.execute(sql).rows
    assert rows == [(SECOND_ACCOUNT, _expected(fresh_sandbox)[(SECOND_ACCOUNT, REGIONS[1])])]


CHAIN_J1 = "JOIN aws.sagemaker.hyper_parameter_tuning_jobs j1 ON j1.AwsAccountId = v.a "
CHAIN_J2 = (
    "JOIN aws.sagemaker.hyper_parameter_tuning_jobs j2 ON j2.AwsAccountId = j1.AwsAccountId "
    "AND j2.HyperParameterTuningJobName = j1.HyperParameterTuningJobName "
)


@pytest.mark.parametrize(
    "joins",
    [
        f"(VALUES ('{SECOND_ACCOUNT}')) v(a) {CHAIN_J1}{CHAIN_J2}",
        f"(VALUES ('{SECOND_ACCOUNT}')) v(a) {CHAIN_J1}"
        + CHAIN_J2.replace("j1.AwsAccountId", "v.a", 1).replace(
            "ON", "ON j1.AwsAccountId = v.a AND", 1
        ),
        "aws.sagemaker.hyper_parameter_tuning_jobs j1 "
        + CHAIN_J2
        + f"JOIN (VALUES ('{SECOND_ACCOUNT}')) v(a) ON j1.AwsAccountId = v.a ",
    ],
    ids=["chain", "both-to-values", "values-last"],
)
def test_an_account_chained_through_two_joins_is_called_in_each(
    fresh_sandbox: Sandbox, joins: str
) -> None:
    # j2 takes its account from j1, which takes it from the VALUES list: j1 took it from j2
    # instead (the later join won), the two bound each other in a cycle, both bindings were
    # dropped, both read the default account, and the join matched nothing: 0 rows, no error
    sql = (
        f"SELECT count(*) FROM {joins}"
        f"WHERE j1.region = '{REGIONS[1]}' AND j2.region = '{REGIONS[1]}'"
    )
    with Session(**fresh_sandbox.settings()) as s:
        rows = s.execute(sql).rows
    assert rows == [(_expected(fresh_sandbox)[(SECOND_ACCOUNT, REGIONS[1])],)]
    assert rows[0][0] > 0


HPT_SM = "aws.sagemaker.hyper_parameter_tuning_jobs"
TRAINING = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
LINK = "ON {b}.AwsAccountId = {a}.AwsAccountId AND {b}.HyperParameterTuningJobName = "
LINK += "{a}.HyperParameterTuningJobName "


def test_an_account_chained_through_three_tables_reaches_the_last(fresh_sandbox: Sandbox) -> None:
    # the middle table took its account from the last (the later join won), the two bound
    # each other in a cycle, and both read the default account: 0 rows, no error
    where = f"j1.region = '{REGIONS[0]}' AND j2.region = '{REGIONS[0]}'"
    chains = {
        "literal": (
            f"SELECT count(*) FROM {HPT_SM} j1 JOIN {HPT_SM} j2 {LINK.format(a='j1', b='j2')}"
            f"JOIN {TRAINING} t {LINK.format(a='j2', b='t')}"
            f"WHERE j1.AwsAccountId = '{SECOND_ACCOUNT}' AND {where} AND t.region = '{REGIONS[0]}'"
        ),
        "star": (
            f"SELECT count(*) FROM {HPT_SM} j1 JOIN {TRAINING} t {LINK.format(a='j1', b='t')}"
            f"WHERE j1.AwsAccountId = '{SECOND_ACCOUNT}' AND j1.region = '{REGIONS[0]}' "
            f"AND t.region = '{REGIONS[0]}'"
        ),
    }
    with Session(**fresh_sandbox.settings()) as s:
        got = {k: s.execute(q).rows for k, q in chains.items()}
        values = (
            f"SELECT count(*) FROM (VALUES ('{SECOND_ACCOUNT}')) v(a) JOIN {HPT_SM} j1 "
            f"ON j1.AwsAccountId = v.a JOIN {HPT_SM} j2 {LINK.format(a='j1', b='j2')}"
            f"JOIN {HPT_SM} j3 {LINK.format(a='j2', b='j3')}WHERE {where} "
            f"AND j3.region = '{REGIONS[0]}'"
        )
        jobs = s.execute(values).rows
    assert got["literal"] == got["star"] and got["literal"][0][0] > 0
    truth = len(fresh_sandbox.truth["aws"]["accounts"][SECOND_ACCOUNT]["regions"][REGIONS[0]])
    assert jobs == [(truth,)]
    default = {r["account"] for r in fresh_sandbox.aws.requests() if r["operation"]}
    assert default == {SECOND_ACCOUNT}  # no call went to the default account


def test_an_account_bound_by_a_subquery_and_joined_is_refused_not_defaulted(
    fresh_sandbox: Sandbox,
) -> None:
    # `j1.AwsAccountId = (SELECT ...)` binds nothing; joined to j2 (which binds nothing
    # either), it was dropped without the "constrained but not bound" error: 0 rows
    from stackql_tuning.errors import PlanError

    sql = (
        f"SELECT count(*) FROM {HPT_SM} j1 JOIN {HPT_SM} j2 {LINK.format(a='j1', b='j2')}"
        f"WHERE j1.AwsAccountId = (SELECT '{SECOND_ACCOUNT}') AND j1.region = '{REGIONS[0]}' "
        f"AND j2.region = '{REGIONS[0]}'"
    )
    with Session(**fresh_sandbox.settings()) as s, pytest.raises(PlanError) as info:
        s.execute(sql)
    assert "AwsAccountId of aws.sagemaker.hyper_parameter_tuning_jobs is constrained but not" in (
        str(info.value)
    )


def test_a_chain_joined_on_account_region_and_name_binds_from_the_first_table(
    fresh_sandbox: Sandbox,
) -> None:
    # j2 took its name from j3 (the later join) and chose the get by name: a cycle error
    on = "ON {b}.AwsAccountId = {a}.AwsAccountId AND {b}.region = {a}.region AND "
    on += "{b}.HyperParameterTuningJobName = {a}.HyperParameterTuningJobName "
    sql = (
        f"SELECT count(*) FROM {HPT_SM} j1 JOIN {HPT_SM} j2 {on.format(a='j1', b='j2')}"
        f"JOIN {HPT_SM} j3 {on.format(a='j2', b='j3')}"
        f"WHERE j1.AwsAccountId = '{SECOND_ACCOUNT}' AND j1.region = '{REGIONS[0]}'"
    )
    with Session(**fresh_sandbox.settings()) as s:
        rows = s.execute(sql).rows
    truth = len(fresh_sandbox.truth["aws"]["accounts"][SECOND_ACCOUNT]["regions"][REGIONS[0]])
    assert rows == [(truth,)]


def test_a_joined_account_no_table_binds_takes_the_configured_default(
    fresh_sandbox: Sandbox,
) -> None:
    # [defaults] AwsAccountId was ignored once the table was joined: every call went to the
    # credentials' own account (529 rows instead of the default account's 170)
    joins = {
        "by name": (
            f"SELECT count(*) FROM {HPT_SM} j1 JOIN {TRAINING} t "
            "ON t.HyperParameterTuningJobName = j1.HyperParameterTuningJobName "
            f"WHERE j1.region = '{REGIONS[0]}' AND t.region = '{REGIONS[0]}'"
        ),
        "by account": (
            f"SELECT count(*) FROM {HPT_SM} j1 JOIN {HPT_SM} j2 ON j2.AwsAccountId = "
            f"j1.AwsAccountId WHERE j1.region = '{REGIONS[0]}' AND j2.region = '{REGIONS[1]}'"
        ),
    }
    with Session(**fresh_sandbox.settings(), defaults={"AwsAccountId": [SECOND_ACCOUNT]}) as s:
        got = {k: s.execute(q).rows[0][0] for k, q in joins.items()}
    with Session(**fresh_sandbox.settings()) as s:
        where = f"WHERE j1.AwsAccountId = '{SECOND_ACCOUNT}' AND "
        want = {k: s.execute(q.replace("WHERE ", where, 1)).rows[0][0] for k, q in joins.items()}
    assert got == want and all(want.values())
    accounts = {r["account"] for r in fresh_sandbox.aws.requests() if r["operation"]}
    assert accounts == {SECOND_ACCOUNT}


def test_an_account_renamed_in_a_subquery_and_filtered_outside_is_not_defaulted(
    fresh_sandbox: Sandbox,
) -> None:
    # `(SELECT AwsAccountId AS acct ...) s WHERE s.acct = '...'` read the default account and
    # the filter dropped every row: 0, no error (the same without the rename is refused)
    from stackql_tuning.errors import PlanError

    inner = f"SELECT AwsAccountId AS acct FROM {HPT_SM} WHERE region = '{REGIONS[1]}'"
    with Session(**fresh_sandbox.settings()) as s:
        with pytest.raises(PlanError, match=r"AwsAccountId of .* is constrained but not bound"):
            s.execute(f"SELECT count(*) FROM ({inner}) s WHERE s.acct = '{SECOND_ACCOUNT}'")
        bound = inner + f" AND AwsAccountId = '{SECOND_ACCOUNT}'"
        rows = s.execute(f"SELECT count(*) FROM ({bound}) s WHERE s.acct = '{SECOND_ACCOUNT}'")
    assert rows.rows == [(_expected(fresh_sandbox)[(SECOND_ACCOUNT, REGIONS[1])],)]
