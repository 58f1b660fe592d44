"""A deploy resource's own ``auth`` (stackql-deploy's resource-level auth): checked when the
manifest loads, rendered in the resource's context, and used for that resource's statements
only, with the variables it names read from the stack first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stackql_tuning.deploy import build, load_manifest
from stackql_tuning.errors import AuthError, ManifestError
from stackql_tuning.transports.auth import aws_credentials
from tests.unit.test_deploy_engine import JOB_IQL, MANIFEST, FakeCloud, Recorder

AUTH = """\
    auth:
      aws:
        type: aws_signing_v4
        keyIDenvvar: first_job_id
        credentialsenvvar: "{{ secret_name }}"
"""


class Settings:
    auth: dict[str, Any] = {"google": {"type": "anonymous"}}


class AuthCloud(FakeCloud):
    """A FakeCloud whose derived sessions record their settings and their statements."""

    def __init__(self, parent: AuthCloud | None = None, **changes: Any) -> None:
        super().__init__()
        self.settings = Settings()
        self.changes = changes
        self.children: list[AuthCloud] = []
        self.closed = False
        self.parent = parent
        if parent is not None:  # one cloud: the derived session sees the same jobs
            self.jobs = parent.jobs

    def derived(self, **changes: Any) -> AuthCloud:
        child = AuthCloud(self, **changes)
        self.children.append(child)
        return child

    def close(self) -> None:
        self.closed = True


def _stack(tmp_path: Path, auth: str = AUTH) -> Path:
    manifest = MANIFEST.replace(
        "  - name: second\n    file: job.iql\n", "  - name: second\n    file: job.iql\n" + auth
    ).replace("globals:\n", "globals:\n  - name: secret_name\n    value: SECRET_VAR\n")
    (tmp_path / "resources").mkdir()
    (tmp_path / "stackql_manifest.yml").write_text(manifest)
    (tmp_path / "resources" / "first.iql").write_text(JOB_IQL)
    (tmp_path / "resources" / "job.iql").write_text(JOB_IQL)
    return tmp_path


def test_a_resources_auth_runs_its_statements_and_only_its(tmp_path: Path) -> None:
    cloud, rec = AuthCloud(), Recorder()
    build(cloud, _stack(tmp_path), "dev", env_vars={}, log=rec.log, sleep=rec.sleep)
    # (the build's dry run first made its own: the last is the build's)
    child = [c for c in cloud.children if "auth" in c.changes][-1]
    # the session's google entry kept, the aws entry the resource's, rendered
    assert child.changes["auth"] == {
        "google": {"type": "anonymous"},
        "aws": {
            "type": "aws_signing_v4",
            "keyIDenvvar": "first_job_id",
            "credentialsenvvar": "SECRET_VAR",
        },
    }
    # the variable it names that the stack has (first's export) is given; the other is left
    # to the environment
    assert child.changes["auth_vars"] == {"first_job_id": "101"}
    assert {s.kind for s in child.statements} >= {"select", "insert"}
    assert all("after-" not in s.text for s in cloud.statements)  # second ran in the child
    assert all("demo-dev-first" not in s.text for s in child.statements)
    assert child.closed


def test_aws_credentials_read_the_stacks_variables_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_VAR", "from-env")
    monkeypatch.setenv("first_job_id", "from-env-too")
    conf = {
        "type": "aws_signing_v4",
        "keyIDenvvar": "first_job_id",
        "credentialsenvvar": "SECRET_VAR",
    }
    got = aws_credentials(conf, {"first_job_id": "AKIA101"})
    assert got == {"aws_access_key_id": "AKIA101", "aws_secret_access_key": "from-env"}
    monkeypatch.delenv("SECRET_VAR")
    with pytest.raises(AuthError, match="neither a stack variable nor in the environment"):
        aws_credentials(conf, {})
    with pytest.raises(AuthError, match="environment variable"):
        aws_credentials(conf)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ("    auth: yes\n", "'auth' of resource 'second' must be a mapping"),
        ("    auth:\n      azure: {type: x}\n", "names provider 'azure'"),
        ("    auth:\n      aws: key\n", "the aws entry of 'auth' of resource 'second'"),
    ],
)
def test_a_malformed_auth_is_a_manifest_error(tmp_path: Path, auth: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as info:
        load_manifest(_stack(tmp_path, auth))
    assert info.value.location.line is not None


def test_an_auth_the_session_rejects_names_the_resource(tmp_path: Path) -> None:
    from stackql_tuning.errors import UsageError

    class Rejecting(AuthCloud):
        def derived(self, **changes: Any) -> AuthCloud:
            if "auth" not in changes:  # the dry run's planning session
                return super().derived(**changes)
            raise UsageError("auth: the aws entry is odd")

    with pytest.raises(ManifestError, match="resource 'second' has an 'auth' that is not valid"):
        build(Rejecting(), _stack(tmp_path), "dev", env_vars={}, log=lambda _: None)


def test_a_session_derived_for_an_auth_keeps_the_other_settings() -> None:
    from stackql_tuning.session import Session

    base = Session(concurrency=3, auth={"google": {"type": "anonymous"}})
    child = base.derived(auth={"aws": {"profile": "x"}}, auth_vars={"A": "s3cr3t-value"})
    assert child.settings.concurrency == 3 and child.settings.auth == {"aws": {"profile": "x"}}
    assert child.settings.auth_vars == {"A": "s3cr3t-value"} and child.registry is base.registry
    assert "s3cr3t" not in repr(child.settings)  # the variables' values are never shown
