"""deploy never decides on a read whose calls failed (``--on-error continue`` keeps going, and
returns what arrived with ``Result.failures``): such a read is an error of the resource, in
build, test and teardown, whatever ``--on-error`` says. The same holds for a mutation that
failed in part. Over a fake session; the sandbox version is
``tests/integration/test_deploy_safety.py``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stackql_tuning.deploy import build, teardown, test
from stackql_tuning.errors import FailedCall, ProviderError
from stackql_tuning.result import Result
from stackql_tuning.sql.statement import Statement

MANIFEST = """\
version: 1
name: safe
providers: [google]
resources:
  - name: job
    props:
      - name: display_name
        value: "{{ stack_name }}-{{ stack_env }}"
{exports}"""

EXPORTS = """\
    exports:
      - job_id
      - token
    protected:
      - token
"""

JOB_IQL = """\
/*+ exists */
SELECT count(*) AS count FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND displayName = '{{ display_name }}';

/*+ create */
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (projectsId, locationsId, displayName)
SELECT 'p', 'us-central1', '{{ display_name }}';

/*+ statecheck */
SELECT count(*) AS count FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND displayName = '{{ display_name }}' AND state = 'JOB_STATE_RUNNING';

/*+ exports */
SELECT split_part(name, '/', 6) AS job_id, 'secret-' || displayName AS token
FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND displayName = '{{ display_name }}';

/*+ delete */
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = 'p' AND locationsId = 'us-central1'
  AND hyperparameterTuningJobsId = '{{ job_id }}';
"""

_NAME = re.compile(r"displayName\s*=\s*'([^']*)'")
RESOURCE = "google.aiplatform.hyperparameter_tuning_jobs"


def _failed(**params: object) -> FailedCall:
    return FailedCall(RESOURCE, "list", dict(params), 503, "UNAVAILABLE: try again later")


class PartialCloud:
    """A session whose reads, once ``partial`` is set, go on as ``--on-error continue`` does
    when every call failed: no row from the provider (so count(*) is 0, exports find nothing)
    and the failed call in ``Result.failures``. ``partial_mutations`` does the same to the
    INSERT and DELETE statements."""

    def __init__(self) -> None:
        self.jobs: dict[str, str] = {}
        self.kinds: list[str] = []
        self.partial = False
        #: with ``partial``: the rows still hold the job (another call of the read failed)
        self.keep_rows = False
        self.partial_mutations = False
        #: a value to put in the failed call's params (to check it is masked)
        self.param = "p"

    def execute(self, stmt: Statement | str) -> Result:
        assert isinstance(stmt, Statement)
        self.kinds.append(stmt.kind)
        text = stmt.text
        failures = [_failed(projectsId=self.param, locationsId="us-central1")]
        if stmt.kind == "insert":
            if self.partial_mutations:
                return Result([], [], [], kind="insert", failures=failures, has_rows=False)
            name = re.findall(r"'([^']*)'", text.split("SELECT", 1)[1])[2]
            self.jobs[name] = str(100 + len(self.jobs))
            return Result([], [], [], kind="insert", has_rows=False)
        if stmt.kind == "delete":
            if self.partial_mutations:
                return Result([], [], [], kind="delete", failures=failures, has_rows=False)
            self.jobs.clear()
            return Result([], [], [], kind="delete", has_rows=False)
        name = _NAME.search(text).group(1)  # type: ignore[union-attr]
        seen = None if self.partial and not self.keep_rows else self.jobs.get(name)
        if "count(*)" in text:
            count = Result(["count"], ["BIGINT"], [(int(seen is not None),)])
            count.failures = failures if self.partial else []
            return count
        rows = [(seen, f"secret-{name}")] if seen is not None else []
        out = Result(["job_id", "token"], ["VARCHAR", "VARCHAR"], rows)
        out.failures = failures if self.partial else []
        return out


def _stack(tmp_path: Path, *, exports: bool = True) -> Path:
    (tmp_path / "resources").mkdir()
    (tmp_path / "stackql_manifest.yml").write_text(
        MANIFEST.replace("{exports}", EXPORTS if exports else "")
    )
    (tmp_path / "resources" / "job.iql").write_text(JOB_IQL)
    return tmp_path


def _run(op: Any, cloud: PartialCloud, stack: Path) -> Any:
    return op(cloud, stack, "dev", env_vars={}, log=[].append, sleep=lambda s: None)


def _check(error: ProviderError, anchor: str) -> None:
    text = str(error)
    assert "resource 'job'" in error.message and "failed" in error.message
    assert f"/*+ {anchor} */" in error.message and "partial read" in error.message
    assert "list(projectsId='p', locationsId='us-central1'): 503" in text  # the failed call
    assert error.location.resource == f"resource job, anchor {anchor}"
    assert error.exit_code != 0


@pytest.mark.parametrize("exports", [True, False], ids=["exports-read", "exists-read"])
def test_teardown_does_not_take_a_failed_read_for_absent(tmp_path: Path, exports: bool) -> None:
    stack = _stack(tmp_path, exports=exports)
    cloud = PartialCloud()
    _run(build, cloud, stack)
    assert cloud.jobs
    cloud.partial, cloud.kinds = True, []
    with pytest.raises(ProviderError) as info:
        _run(teardown, cloud, stack)
    # with exports, the first read is the exports collection; without, the exists check
    _check(info.value, "exports" if exports else "exists")
    assert "delete" not in cloud.kinds and cloud.jobs  # nothing deleted, nothing reported absent


def test_build_does_not_create_again_on_a_failed_exists_read(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    cloud = PartialCloud()
    _run(build, cloud, stack)
    cloud.partial, cloud.kinds = True, []
    with pytest.raises(ProviderError) as info:
        _run(build, cloud, stack)
    _check(info.value, "exists")
    assert "insert" not in cloud.kinds and len(cloud.jobs) == 1  # no duplicate


def test_test_does_not_pass_on_a_failed_read(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    cloud = PartialCloud()
    _run(build, cloud, stack)
    # a call of the statecheck read fails: even a count of 1 from the rows that arrived is no
    # answer (nor is the 0 of a read whose every call failed)
    cloud.partial = cloud.keep_rows = True
    with pytest.raises(ProviderError) as info:
        _run(test, cloud, stack)
    _check(info.value, "statecheck")
    cloud.keep_rows = False
    with pytest.raises(ProviderError) as info:
        _run(test, cloud, stack)
    _check(info.value, "statecheck")


def test_exports_are_not_taken_from_a_failed_read(tmp_path: Path) -> None:
    """The rows that arrived hold the job, but a call failed: no export is taken from it."""
    stack = _stack(tmp_path)
    cloud = PartialCloud()
    _run(build, cloud, stack)
    original = cloud.execute

    def exports_partial(stmt: Statement | str) -> Result:
        result = original(stmt)
        if isinstance(stmt, Statement) and "split_part" in stmt.text:
            result.failures = [_failed(projectsId="p", locationsId="us-central1")]
        return result

    cloud.execute = exports_partial  # type: ignore[method-assign]
    with pytest.raises(ProviderError) as info:
        _run(test, cloud, stack)
    _check(info.value, "exports")


def test_a_mutation_that_failed_in_part_is_an_error(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    cloud = PartialCloud()
    cloud.partial_mutations = True
    with pytest.raises(ProviderError) as info:
        _run(build, cloud, stack)
    assert "resource 'job'" in info.value.message and "INSERT failed" in info.value.message
    assert cloud.kinds[-1] == "insert"  # no statecheck, no "created"
    cloud.partial_mutations = False
    _run(build, cloud, stack)
    cloud.partial_mutations = True
    with pytest.raises(ProviderError) as info:
        _run(teardown, cloud, stack)
    assert "DELETE failed" in info.value.message and cloud.jobs


def test_failed_calls_in_the_error_are_masked(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    cloud = PartialCloud()
    _run(build, cloud, stack)
    secret = "secret-safe-dev"  # the protected export 'token'
    cloud.partial = True
    cloud.param = secret
    original = cloud.execute

    def exists_partial(stmt: Statement | str) -> Result:
        # the exports read of teardown's first pass works (the token becomes protected); the
        # exists read then fails with a call whose params hold the token
        if isinstance(stmt, Statement) and "split_part" in stmt.text:
            cloud.partial = False
            try:
                return original(stmt)
            finally:
                cloud.partial = True
        return original(stmt)

    cloud.execute = exists_partial  # type: ignore[method-assign]
    with pytest.raises(ProviderError) as info:
        _run(teardown, cloud, stack)
    assert secret not in str(info.value) and "****" in str(info.value)
    assert all(secret not in f.describe() for f in info.value.failures)
