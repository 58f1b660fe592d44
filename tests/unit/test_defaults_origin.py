"""A default that no call can take (a region with a space, a project with a '/') is refused
with the message of the same value written in the statement, and says where it was set: the
statement does not show it (the config file's `[defaults]` was not named)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackql_tuning.errors import PlanError
from stackql_tuning.session import Session

AWS = "SELECT count(*) FROM aws.sagemaker.hyper_parameter_tuning_jobs"
GOOGLE = "SELECT count(*) FROM google.aiplatform.hyperparameter_tuning_jobs"


@pytest.fixture(autouse=True)
def _no_ambient(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "STACKQL_TUNING_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDDEFAULTSTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "defaults-test-secret")


def _error(session: Session, sql: str) -> PlanError:
    with session, pytest.raises(PlanError) as info:
        session.execute(sql)
    return info.value


def test_a_bad_default_region_names_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nregion = ["us-east-1", "eu west 1"]\n')
    error = _error(Session.from_env(config=config, aws_endpoint="http://127.0.0.1:9"), AWS)
    assert "region = 'eu west 1' is not an AWS region name" in error.message
    assert f"a default region, set in [defaults] of the config file '{config}'" in error.message
    assert "fix the default, or give region in the statement" in (error.hint or "")


def test_a_bad_default_project_names_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nprojectsId = "bad/proj"\nlocationsId = "us-central1"\n')
    session = Session.from_env(
        config=config, google_endpoint="http://127.0.0.1:9", auth={"google": {"type": "anonymous"}}
    )
    error = _error(session, GOOGLE)
    assert "projectsId = 'bad/proj' contains a '/'" in error.message
    assert "a default projectsId, set in [defaults] of the config file" in error.message


def test_a_bad_region_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us east")
    error = _error(Session.from_env(aws_endpoint="http://127.0.0.1:9"), AWS)
    assert "(a default region, set by $AWS_DEFAULT_REGION)" in error.message


def test_a_bad_default_given_to_the_session_says_so() -> None:
    session = Session(aws_endpoint="http://127.0.0.1:9", defaults={"region": "us east"})
    assert "(a default region, set in the Session's defaults)" in _error(session, AWS).message


def test_the_same_value_in_the_statement_is_not_called_a_default(tmp_path: Path) -> None:
    error = _error(Session(aws_endpoint="http://127.0.0.1:9"), f"{AWS} WHERE region = 'us east'")
    assert error.message == "region = 'us east' is not an AWS region name"
