"""deploy/engine.py + runner.py over a fake session: build / test / teardown, retries, exports,
idempotence, masking, conditions, dry run and every error the issue lists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stackql_tuning.deploy import build, teardown, test
from stackql_tuning.errors import (
    ManifestError,
    ParseError,
    PlanError,
    ProviderError,
    StatementTimeout,
)
from stackql_tuning.result import Result
from stackql_tuning.sql.statement import Statement

MANIFEST = """\
version: 1
name: demo
description: two jobs, the second named after the first's id
providers: [google]
globals:
  - name: project
    value: "{{ PROJECT | default('p-' ~ stack_env) }}"
resources:
  - name: first
    props:
      - name: display_name
        value: "{{ stack_name }}-{{ stack_env }}-first"
    exports:
      - job_id: first_job_id
      - token
    protected:
      - token
  - name: second
    file: job.iql
    props:
      - name: display_name
        value: "after-{{ first_job_id }}"
    exports:
      - job_id
  - name: prod_only
    file: job.iql
    if: "'{{ stack_env }}' == 'prod'"
    props:
      - name: display_name
        value: "{{ stack_name }}-prod-only"
exports:
  - first_job_id
  - token
  - project
"""

JOB_IQL = """\
/*+ exists */
SELECT count(*) AS count FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = '{{ project }}' AND displayName = '{{ display_name }}';

/*+ create, retries=2, retry_delay=3 */
INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (projectsId, locationsId, displayName)
SELECT '{{ project }}', 'us-central1', '{{ display_name }}';

/*+ statecheck, retries=4, retry_delay=7 */
SELECT count(*) AS count FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = '{{ project }}' AND displayName = '{{ display_name }}'
  AND state = 'JOB_STATE_RUNNING';

/*+ exports */
SELECT split_part(name, '/', 6) AS job_id, 'tok-' || displayName AS token
FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = '{{ project }}' AND displayName = '{{ display_name }}';

/*+ delete */
EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel
  @projectsId='{{ project }}', @locationsId='us-central1',
  @hyperparameterTuningJobsId='{{ job_id }}';
DELETE FROM google.aiplatform.hyperparameter_tuning_jobs
WHERE projectsId = '{{ project }}' AND locationsId = 'us-central1'
  AND hyperparameterTuningJobsId = '{{ job_id }}';
"""

_NAME = re.compile(r"displayName\s*=\s*'([^']*)'")
_ID = re.compile(r"(?:hyperparameterTuningJobsId\s*=\s*|@hyperparameterTuningJobsId=)'([^']*)'")


class FakeCloud:
    """A session that keeps jobs in a dict and answers the demo stack's queries."""

    def __init__(self, pending_polls: int = 1) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.statements: list[Statement] = []
        self.pending_polls = pending_polls
        self.fail_next_insert = 0
        #: inserts that make the job and then fail (a reply lost, an AWAIT past its limit)
        self.fail_after_insert = 0
        self.next_id = 100

    def kinds(self) -> list[str]:
        return [s.kind for s in self.statements]

    def execute(self, stmt: Statement | str) -> Result:
        assert isinstance(stmt, Statement)
        self.statements.append(stmt)
        text = stmt.text
        if stmt.kind == "insert":
            if self.fail_next_insert:
                self.fail_next_insert -= 1
                raise ProviderError("503 backend unavailable")
            name = re.findall(r"'([^']*)'", text.split("SELECT", 1)[1])[2]
            self.next_id += 1
            self.jobs[name] = {"id": str(self.next_id), "state": "JOB_STATE_PENDING", "polls": 0}
            if self.fail_after_insert:
                self.fail_after_insert -= 1
                raise StatementTimeout("/*+ AWAIT */ ... (the change itself was made)")
            return Result([], [], [], kind="insert", messages=[f"created {name}"])
        if stmt.kind == "exec":
            job_id = _ID.search(text).group(1)
            for job in self.jobs.values():
                if job["id"] == job_id:
                    job["state"] = "JOB_STATE_CANCELLED"
            return Result([], [], [], kind="exec")
        if stmt.kind == "delete":
            job_id = _ID.search(text).group(1)
            self.jobs = {k: v for k, v in self.jobs.items() if v["id"] != job_id}
            return Result([], [], [], kind="delete")
        name = _NAME.search(text).group(1)
        job = self.jobs.get(name)
        if "count(*)" in text:
            if job and "JOB_STATE_RUNNING" in text:
                job["polls"] += 1
                if job["polls"] >= self.pending_polls:
                    job["state"] = "JOB_STATE_RUNNING"
                return Result(["count"], ["BIGINT"], [(int(job["state"] == "JOB_STATE_RUNNING"),)])
            return Result(["count"], ["BIGINT"], [(int(job is not None),)])
        rows = [(job["id"], f"tok-{name}")] if job else []
        return Result(["job_id", "token"], ["VARCHAR", "VARCHAR"], rows)


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    (tmp_path / "resources").mkdir()
    (tmp_path / "stackql_manifest.yml").write_text(MANIFEST)
    (tmp_path / "resources" / "first.iql").write_text(JOB_IQL)
    (tmp_path / "resources" / "job.iql").write_text(JOB_IQL)
    return tmp_path


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sleeps: list[float] = []

    def log(self, line: str) -> None:
        self.lines.append(line)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def run(op: Any, cloud: FakeCloud, stack: Path, env: str = "dev", **kw: Any) -> Any:
    rec = kw.pop("rec", None) or Recorder()
    return op(
        cloud, stack, env, env_vars=kw.pop("env_vars", {}), log=rec.log, sleep=rec.sleep, **kw
    )


def test_build_creates_in_order_with_retries_and_exports(stack: Path, tmp_path: Path) -> None:
    cloud, rec = FakeCloud(pending_polls=3), Recorder()
    out = tmp_path / "exports.json"
    report = run(build, cloud, stack, rec=rec, output_file=out)
    assert report.created == ["first", "second"]
    assert [r.action for r in report.resources] == ["created", "created", "skipped"]
    # statecheck polled until RUNNING, 7 s apart, through the injected sleep
    assert rec.sleeps == [7, 7, 7, 7]
    # the first job's export named the second job
    assert "after-101" in cloud.jobs
    assert report.exports["first_job_id"] == "101"
    assert report.exports["project"] == "p-dev"
    data = json.loads(out.read_text())
    assert data["stack_name"] == "demo" and data["first_job_id"] == "101"


def test_a_create_that_landed_before_failing_is_not_sent_again(stack: Path) -> None:
    # each retry of the create anchor asks the exists query first: the job the timed-out
    # INSERT made is found, and no second job is made beside it
    cloud, rec = FakeCloud(), Recorder()
    cloud.fail_after_insert = 1
    report = run(build, cloud, stack, rec=rec)
    assert report.created == ["first", "second"]
    assert cloud.kinds().count("insert") == 2  # one per resource
    assert "exists query finds it: it was made, and is not sent again" in rec.text


def test_without_an_exists_anchor_a_failed_create_is_not_sent_again(stack: Path) -> None:
    iql = JOB_IQL.split("/*+ create")[1]
    (stack / "resources" / "first.iql").write_text("/*+ create" + iql)
    cloud = FakeCloud()
    cloud.fail_next_insert = 1
    with pytest.raises(ProviderError) as caught:
        run(build, cloud, stack)
    assert "not sent again (retries=2)" in str(caught.value.hint)
    assert cloud.kinds().count("insert") == 1


@pytest.mark.parametrize("anchor", ["exists", "statecheck", "exports"])
@pytest.mark.parametrize("operation", [build, test, teardown])
def test_a_read_anchor_that_changes_something_is_refused_before_it_runs(
    stack: Path, anchor: str, operation: Any
) -> None:
    sneak = (
        "INSERT INTO google.aiplatform.hyperparameter_tuning_jobs (projectsId, locationsId, "
        "displayName)\nSELECT 'p', 'us-central1', 'sneaky';\n"
    )
    head, tail = JOB_IQL.split(f"/*+ {anchor}", 1)
    options, body = tail.split("\n", 1)
    (stack / "resources" / "first.iql").write_text(f"{head}/*+ {anchor}{options}\n{sneak}{body}")
    cloud = FakeCloud()
    if operation is teardown:
        cloud.jobs["demo-dev-first"] = {"id": "7", "state": "JOB_STATE_RUNNING", "polls": 0}
    with pytest.raises(ManifestError, match=f"has an INSERT in its /\\*\\+ {anchor} \\*/") as e:
        run(operation, cloud, stack)
    assert "sneaky" not in cloud.jobs and "insert" not in cloud.kinds()
    assert e.value.location.line == head.count("\n") + 2  # the INSERT's own line


def test_a_change_that_jinja_writes_into_a_read_anchor_is_refused_when_rendered(
    stack: Path,
) -> None:
    iql = JOB_IQL.replace(
        "/*+ exports */\n",
        "/*+ exports */\n{{ 'INSERT' }} INTO google.aiplatform.hyperparameter_tuning_jobs "
        "(projectsId, locationsId, displayName) SELECT 'p', 'us-central1', 'sneaky';\n",
    )
    (stack / "resources" / "job.iql").write_text(iql)
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match="nothing of the anchor was run"):
        run(build, cloud, stack)
    # the build's dry run found it before any call (both resources were created before it)
    assert "sneaky" not in cloud.jobs and cloud.kinds().count("insert") == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m, iql: (m.replace("file: job.iql", "file: jbo.iql", 1), iql), "no query file"),
        (lambda m, iql: (m, iql.replace("/*+ exists */", "/*+ exsits */")), "unknown anchor"),
        (lambda m, iql: (m, iql.replace("retry_delay=7", "retry=3")), "unknown option"),
        (
            lambda m, iql: (m, iql.replace("/*+ delete */\n", "/*+ delete */\n{% if 1 %}\n")),
            "template syntax error in anchor delete",
        ),
        (
            lambda m, iql: (
                m.replace('value: "after-{{ first_job_id }}"', "values: {prod: {value: x}}"),
                iql,
            ),
            "has no value for environment 'dev'",
        ),
        (
            lambda m, iql: (
                m.replace(
                    'value: "after-{{ first_job_id }}"',
                    'value: "after-{{ first_job_id }}"\n        merge: [nope]',
                ),
                iql,
            ),
            "merges 'nope', which is no global",
        ),
    ],
)
def test_what_needs_no_provider_is_checked_for_every_resource_before_the_first_call(
    stack: Path, change: Any, message: str
) -> None:
    # each error is in the second resource: the first was created before it was found
    manifest, iql = change(MANIFEST, JOB_IQL)
    (stack / "stackql_manifest.yml").write_text(manifest)
    (stack / "resources" / "job.iql").write_text(iql)
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match=message):
        run(build, cloud, stack)
    assert cloud.statements == []


def test_a_resource_its_if_skips_needs_no_prop_value_for_this_environment(stack: Path) -> None:
    # preflight checked every resource's props: prod_only, skipped in dev, failed the dev
    # build for a prop with a value in prod alone
    manifest = MANIFEST.replace(
        'value: "{{ stack_name }}-prod-only"', "values: {prod: {value: prod-only}}"
    )
    (stack / "stackql_manifest.yml").write_text(manifest)
    report = run(build, FakeCloud(), stack)
    assert [r.action for r in report.resources] == ["created", "created", "skipped"]


_COMMAND = """\
  - name: cancel_first
    type: command
    sql: |
      EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel
        @projectsId='{{ project }}', @locationsId='us-central1',
        @hyperparameterTuningJobsId='{{ first_job_id }}';
"""


def test_a_command_resource_runs_on_each_build_and_nowhere_else(stack: Path) -> None:
    # stackql-deploy's `type: command` was an unknown type here
    manifest = MANIFEST.replace("  - name: prod_only\n", _COMMAND + "  - name: prod_only\n")
    (stack / "stackql_manifest.yml").write_text(manifest)
    cloud = FakeCloud()
    for _ in range(2):
        report = run(build, cloud, stack)
        assert [(r.name, r.action) for r in report.resources][2] == ("cancel_first", "ran")
    assert cloud.kinds().count("exec") == 2
    assert cloud.jobs["demo-dev-first"]["state"] == "JOB_STATE_CANCELLED"
    cloud.statements.clear()
    assert [r.action for r in run(test, cloud, stack).resources][2] == "skipped"
    report = run(teardown, cloud, stack)
    assert "cancel_first" not in [r.name for r in report.resources]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("    type: command\n", "is a command, which exports nothing"),
        ("    type: multi\n", "has 'sql', which only a resource of type query or command has"),
    ],
)
def test_a_command_exports_nothing_and_only_query_or_command_has_sql(
    stack: Path, change: str, message: str
) -> None:
    extra = "    exports: [x]\n" if "command" in change else ""
    manifest = MANIFEST.replace(
        "  - name: prod_only\n",
        _COMMAND.replace("    type: command\n", change + extra) + "  - name: prod_only\n",
    )
    (stack / "stackql_manifest.yml").write_text(manifest)
    with pytest.raises(ManifestError, match=message):
        run(build, FakeCloud(), stack)


_PROD_ONLY = """\
  - name: p1
    file: job.iql
    if: "'{{ stack_env }}' == 'prod'"
    props:
      - name: region
        values: {prod: {value: eu}}
      - name: display_name
        value: "p1-{{ region }}"
    exports:
      - job_id: p1_id
  - name: p2
    file: job.iql
    if: "'{{ stack_env }}' == 'prod'"
    props:
      - name: display_name
        value: "after-{{ p1_id }}"
      - name: tags
        value: [a]
        merge: [p1_id]
"""


def _with(stack: Path, extra: str) -> None:
    manifest = MANIFEST.replace("  - name: prod_only\n", extra + "  - name: prod_only\n")
    (stack / "stackql_manifest.yml").write_text(manifest)


def test_prod_only_resources_that_read_each_other_are_skipped_in_dev(stack: Path) -> None:
    # their props were made before their `if` was read: p1's needs a value only prod has,
    # p2's an export of p1 (skipped): the dev build and teardown failed after `first`
    _with(stack, _PROD_ONLY)
    cloud = FakeCloud()
    report = run(build, cloud, stack)
    assert [r.action for r in report.resources] == [
        "created",
        "created",
        "skipped",
        "skipped",
        "skipped",
    ]
    report = run(teardown, cloud, stack)
    assert [r.action for r in report.resources][:3] == ["skipped", "skipped", "skipped"]


def test_a_resource_whose_if_holds_has_its_props_checked_before_the_first_call(
    stack: Path,
) -> None:
    # an `if` that reads only what is known before the build: its props are checked in
    # preflight as any resource's (the prod build created `first`, then stopped)
    _with(stack, _PROD_ONLY.replace("values: {prod: {value: eu}}", "values: {dev: {value: eu}}"))
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match="prop 'region' of resource 'p1' has no value for"):
        run(build, cloud, stack, env="prod")
    assert cloud.statements == []


def test_a_merge_of_an_export_in_a_dry_run_is_not_planned(stack: Path) -> None:
    # the export's stand-in `<first_job_id>` is no list: the dry run failed to merge it
    extra = """\
  - name: third
    file: tagged.iql
    props:
      - name: display_name
        value: third
      - name: tags
        value: [a]
        merge: [first_job_id]
"""
    _with(stack, extra)
    iql = JOB_IQL.replace("'{{ display_name }}';", "'{{ display_name }}' || '{{ tags }}';")
    (stack / "resources" / "tagged.iql").write_text(iql)
    report = run(build, FakeCloud(), stack, dry_run=True)
    assert [r.action for r in report.resources][:3] == ["planned"] * 3


@pytest.mark.parametrize("name", ["later_id", "own_id"])
def test_a_merge_of_a_later_or_its_own_export_is_found_before_the_first_call(
    stack: Path, name: str
) -> None:
    extra = f"""\
  - name: third
    file: job.iql
    props:
      - name: display_name
        value: third
      - name: tags
        value: [a]
        merge: [{name}]
    exports:
      - job_id: own_id
  - name: fourth
    file: job.iql
    props:
      - name: display_name
        value: fourth
    exports:
      - job_id: later_id
"""
    _with(stack, extra)
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match=f"merges '{name}', which is no global"):
        run(build, cloud, stack)
    assert cloud.statements == []


def test_a_protected_list_is_masked_item_by_item_once_merged(tmp_path: Path) -> None:
    from stackql_tuning.deploy import load_manifest
    from stackql_tuning.deploy.context import StackContext

    (tmp_path / "stackql_manifest.yml").write_text(
        "name: s\nglobals:\n  - name: keys\n    value: [tok-secret-xyz]\n    protected: true\n"
        "resources:\n  - name: r\n    props:\n      - name: all\n        value: [a]\n"
        "        merge: [keys]\n"
    )
    m = load_manifest(tmp_path)
    ctx = StackContext(m, "dev", {})
    merged = ctx.resource_context(m.resources[0])["all"]
    assert merged == ["a", "tok-secret-xyz"]
    assert "tok-secret-xyz" not in ctx.mask(f"INSERT ... SELECT '{json.dumps(merged)}'")
    assert ctx.mask(str(["tok-secret-xyz"])) == "****"  # the list itself, as Python prints it


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "  - name: c\n    type: command\n    file: cmd.iql\n",
            "is a command, which runs only its /\\*\\+ command \\*/ anchor",
        ),
        (
            "  - name: c\n    file: cmd.iql\n",
            "is a resource, which never runs a /\\*\\+ command \\*/ anchor",
        ),
    ],
)
def test_an_anchor_its_type_never_runs_is_an_error_before_the_first_call(
    stack: Path, extra: str, message: str
) -> None:
    (stack / "resources" / "cmd.iql").write_text(JOB_IQL + "\n/*+ command */\nSELECT 1;\n")
    _with(stack, extra)
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match=message):
        run(build, cloud, stack)
    assert cloud.statements == []


def test_second_build_creates_nothing(stack: Path) -> None:
    cloud = FakeCloud()
    run(build, cloud, stack)
    cloud.statements.clear()
    report = run(build, cloud, stack)
    assert report.created == []
    assert [r.action for r in report.resources] == ["unchanged", "unchanged", "skipped"]
    assert "insert" not in cloud.kinds()


def test_create_retried_on_provider_error(stack: Path) -> None:
    cloud, rec = FakeCloud(), Recorder()
    cloud.fail_next_insert = 2
    report = run(build, cloud, stack, rec=rec)
    assert report.created == ["first", "second"]
    assert rec.sleeps[:2] == [3, 3]
    assert "attempt 1/3" in rec.text and "503" in rec.text


def test_create_gives_up_after_retries(stack: Path) -> None:
    cloud = FakeCloud()
    cloud.fail_next_insert = 3
    with pytest.raises(ProviderError) as info:
        run(build, cloud, stack)
    loc = info.value.location
    assert loc.file.endswith("first.iql") and loc.line == 6
    assert loc.resource == "resource first, anchor create"


def test_test_passes_then_fails_after_teardown(stack: Path) -> None:
    cloud = FakeCloud()
    run(build, cloud, stack)
    report = run(test, cloud, stack)
    assert [r.action for r in report.resources] == ["passed", "passed", "skipped"]
    assert report.exports["first_job_id"] == "101"
    cloud.statements.clear()
    down = run(teardown, cloud, stack)
    assert down.deleted == ["second", "first"]  # reverse order
    assert [r.action for r in down.resources] == ["skipped", "deleted", "deleted"]
    mutations = [
        (s.kind, _ID.search(s.text).group(1))
        for s in cloud.statements
        if s.kind in ("exec", "delete")
    ]
    assert mutations == [("exec", "102"), ("delete", "102"), ("exec", "101"), ("delete", "101")]
    assert cloud.jobs == {}
    with pytest.raises(ManifestError) as info:
        run(test, cloud, stack)
    err = info.value
    assert "test failed" in err.message and "count 0" in err.message
    assert err.location.resource == "resource first, anchor statecheck"
    assert "first.iql:9" in str(err)


#: the demo stack with second named on its own (its exists query needs no export of first)
INDEPENDENT = MANIFEST.replace('value: "after-{{ first_job_id }}"', 'value: "second"')


def test_teardown_of_absent_stack_deletes_nothing(stack: Path) -> None:
    (stack / "stackql_manifest.yml").write_text(INDEPENDENT)
    cloud = FakeCloud()
    report = run(teardown, cloud, stack)
    assert [r.action for r in report.resources] == ["skipped", "absent", "absent"]
    assert set(cloud.kinds()) == {"select"}
    # second named after first's id: with first absent, nothing can check second (it may
    # exist): unknown, an error, and still nothing deleted
    (stack / "stackql_manifest.yml").write_text(MANIFEST)
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match="resource 'second' cannot be checked") as caught:
        run(teardown, cloud, stack, on_failure="ignore")
    report = caught.value.report  # type: ignore[attr-defined]
    assert [r.action for r in report.resources] == ["skipped", "unknown", "absent"]
    assert set(cloud.kinds()) == {"select"}


def test_teardown_of_absent_stack_does_not_wait_out_the_exports_retries(stack: Path) -> None:
    # the exports retries wait for a resource being made: an absent one (its exists query
    # counts 0) has nothing to wait for (6 s per resource before)
    (stack / "stackql_manifest.yml").write_text(INDEPENDENT)
    for iql in (stack / "resources").iterdir():
        text = iql.read_text().replace("/*+ exports */", "/*+ exports, retries=3, retry_delay=2 */")
        iql.write_text(text)
    cloud, rec = FakeCloud(), Recorder()
    report = run(teardown, cloud, stack, rec=rec)
    assert [r.action for r in report.resources] == ["skipped", "absent", "absent"]
    assert rec.sleeps == [] and set(cloud.kinds()) == {"select"}


def test_protected_exports_are_masked_everywhere(stack: Path, tmp_path: Path) -> None:
    cloud, rec = FakeCloud(), Recorder()
    out = tmp_path / "o.json"
    report = run(
        build, cloud, stack, rec=rec, show_queries=True, output_file=out, log_level="DEBUG"
    )
    secret = "tok-demo-dev-first"
    assert report.exports["token"] == "****"
    assert report.resources[0].exports["token"] == "****"
    assert secret not in rec.text
    assert "SELECT count(*)" in rec.text  # show_queries logged the queries
    # the output file is for the pipeline that runs next: unmasked, as stackql-deploy writes
    # it, and readable by its owner only
    data = json.loads(out.read_text())
    assert data["token"] == secret and data["first_job_id"] == "101"
    assert out.stat().st_mode & 0o777 == 0o600
    # a later error carrying the secret is masked too
    (stack / "resources" / "job.iql").write_text(
        JOB_IQL.replace("/*+ exports */", "/*+ exports */\nSELECT '{{ token }}' AS oops FROMM x;")
    )
    cloud2 = FakeCloud()
    with pytest.raises(ParseError) as info:
        run(build, cloud2, stack)
    assert "tok-" not in str(info.value) and "****" in str(info.value)


def test_condition_includes_resource_for_prod(stack: Path) -> None:
    cloud = FakeCloud()
    report = run(build, cloud, stack, "prod")
    assert report.created == ["first", "second", "prod_only"]
    assert "demo-prod-only" in cloud.jobs


class PlanningCloud(FakeCloud):
    """A session in dry-run mode (``exec --dry-run``'s): it plans what it is given, and
    knows no column named displayNme."""

    settings = type("Settings", (), {"dry_run": True})()

    def execute(self, stmt: Statement | str) -> Result:
        assert isinstance(stmt, Statement)
        self.statements.append(stmt)
        if "displayNme" in stmt.text:
            raise PlanError("unknown column 'displayNme'")
        return Result(["resource", "method", "request"], ["VARCHAR"] * 3, [], kind="dry-run")


def test_a_dry_run_plans_each_statement_but_those_with_an_exports_stand_in(
    stack: Path,
) -> None:
    cloud = PlanningCloud()
    report = run(build, cloud, stack, dry_run=True)
    assert [r.action for r in report.resources] == ["planned", "planned", "skipped"]
    planned = " ".join(s.text for s in cloud.statements)
    assert "INSERT INTO" in planned and "demo-dev-first" in planned
    assert "<first_job_id>" not in planned  # second's statements wait for the build's value
    (stack / "resources" / "first.iql").write_text(JOB_IQL.replace("displayName)", "displayNme)"))
    with pytest.raises(PlanError, match="displayNme") as caught:
        run(build, PlanningCloud(), stack, dry_run=True)
    assert caught.value.location.line == 6  # the INSERT, in first.iql


def test_dry_run_runs_nothing(stack: Path, tmp_path: Path) -> None:
    cloud, rec = FakeCloud(), Recorder()
    out = tmp_path / "o.json"
    report = run(build, cloud, stack, rec=rec, dry_run=True, output_file=out)
    assert cloud.statements == []
    assert not out.exists()
    assert [r.action for r in report.resources] == ["planned", "planned", "skipped"]
    assert "would run /*+ create */" in rec.text
    assert "after-<first_job_id>" in rec.text
    down = run(teardown, cloud, stack, dry_run=True)
    assert cloud.statements == [] and [r.action for r in down.resources] == [
        "skipped",
        "planned",
        "planned",
    ]


def test_env_vars_reach_globals(stack: Path) -> None:
    cloud = FakeCloud()
    report = run(build, cloud, stack, env_vars={"PROJECT": "from-env"})
    assert report.exports["project"] == "from-env"


# -- errors --------------------------------------------------------------------------------
def test_missing_environment_value(stack: Path) -> None:
    text = MANIFEST.replace(
        '        value: "{{ stack_name }}-{{ stack_env }}-first"',
        "        values:\n          dev:\n            value: a\n"
        "          prod:\n            value: b",
    )
    (stack / "stackql_manifest.yml").write_text(text)
    with pytest.raises(ManifestError) as info:
        run(build, FakeCloud(), stack, "staging")
    err = info.value
    assert "'display_name'" in err.message and "'staging'" in err.message
    assert "dev, prod" in err.message
    assert err.location.line == 11 and err.location.file.endswith("stackql_manifest.yml")


def test_bad_yaml(stack: Path) -> None:
    (stack / "stackql_manifest.yml").write_text("name: demo\nresources:\n  - name: [a\n")
    with pytest.raises(ManifestError) as info:
        run(build, FakeCloud(), stack)
    assert "malformed YAML" in info.value.message
    assert info.value.location.line == 4


def test_unknown_anchor(stack: Path) -> None:
    (stack / "resources" / "first.iql").write_text(
        JOB_IQL.replace("/*+ statecheck", "/*+ statechek")
    )
    with pytest.raises(ManifestError) as info:
        run(build, FakeCloud(), stack)
    err = info.value
    assert "unknown anchor 'statechek'" in err.message
    assert err.location.line == 9 and "statecheck" in (err.hint or "")


def test_exists_returning_two_rows(stack: Path) -> None:
    class TwoRows(FakeCloud):
        def execute(self, stmt: Statement | str) -> Result:
            assert isinstance(stmt, Statement)
            if "count(*)" in stmt.text:
                self.statements.append(stmt)
                return Result(["count"], ["BIGINT"], [(1,), (1,)])
            return super().execute(stmt)

    with pytest.raises(ManifestError) as info:
        run(build, TwoRows(), stack)
    err = info.value
    assert "exactly one row with a 'count' column" in err.message
    assert "returned 2 row(s)" in err.message
    assert err.location.resource == "resource first, anchor exists"
    assert err.location.line == 1


def test_exists_without_count_column_and_count_above_one(stack: Path) -> None:
    class Shapes(FakeCloud):
        answer: Result

        def execute(self, stmt: Statement | str) -> Result:
            return self.answer

    cloud = Shapes()
    cloud.answer = Result(["n"], ["BIGINT"], [(1,)])
    with pytest.raises(ManifestError, match=r"columns \['n'\]"):
        run(build, cloud, stack)
    cloud.answer = Result(["count"], ["BIGINT"], [(2,)])
    with pytest.raises(ManifestError, match="count 2; it must be 0 or 1"):
        run(build, cloud, stack)


def test_if_that_is_not_a_plain_comparison(stack: Path) -> None:
    text = MANIFEST.replace(
        "if: \"'{{ stack_env }}' == 'prod'\"", "if: \"__import__('os').getcwd() == 'x'\""
    )
    (stack / "stackql_manifest.yml").write_text(text)
    with pytest.raises(ManifestError) as info:
        run(build, FakeCloud(), stack)
    assert "not a plain comparison" in info.value.message
    assert info.value.location.resource == "prod_only"


def test_parse_error_in_an_anchor_points_into_the_file(stack: Path) -> None:
    (stack / "resources" / "first.iql").write_text(JOB_IQL.replace("INSERT INTO", "INSERT INTOO"))
    cloud = FakeCloud()
    with pytest.raises(ParseError) as info:
        run(build, cloud, stack)
    loc = info.value.location
    assert loc.file.endswith("first.iql") and loc.line == 6
    assert loc.resource == "resource first, anchor create"


def test_undefined_variable_in_an_anchor(stack: Path) -> None:
    (stack / "resources" / "first.iql").write_text(
        JOB_IQL.replace("{{ project }}', 'us", "{{ nope }}', 'us")
    )
    with pytest.raises(ManifestError) as info:
        run(build, FakeCloud(), stack)
    err = info.value
    assert "'nope' is undefined" in err.message and "anchor create" in err.message
    assert err.location.line == 7 and err.location.resource == "first"


def test_exports_missing_column(stack: Path) -> None:
    text = MANIFEST.replace("      - job_id\n", "      - job_uid\n")
    (stack / "stackql_manifest.yml").write_text(text)
    with pytest.raises(ManifestError, match="no column 'job_uid'"):
        run(build, FakeCloud(), stack)


def test_statecheck_never_passes(stack: Path) -> None:
    cloud = FakeCloud(pending_polls=99)
    with pytest.raises(ManifestError) as info:
        run(build, cloud, stack)
    assert "still returns count 0 after 5 attempt(s)" in info.value.message


class FinishingCloud(FakeCloud):
    """A job finishes on its own just before the first cancel: that cancel fails."""

    def __init__(self) -> None:
        super().__init__()
        self.cancels = 0

    def execute(self, stmt: Statement | str) -> Result:
        assert isinstance(stmt, Statement)
        if stmt.kind == "exec":
            self.cancels += 1
            self.statements.append(stmt)
            for job in self.jobs.values():
                job["state"] = "JOB_STATE_SUCCEEDED"
            raise ProviderError("400: FAILED_PRECONDITION: the job has already finished")
        result = super().execute(stmt)
        if result.columns == ["job_id", "token"] and result.rows:
            job = next(j for j in self.jobs.values() if j["id"] == result.rows[0][0])
            finished = "finished" if job["state"] == "JOB_STATE_SUCCEEDED" else "running"
            result.rows = [(result.rows[0][0], finished)]
        return result


def test_a_delete_retry_reads_the_state_again_and_renders_the_anchor_anew(stack: Path) -> None:
    iql = JOB_IQL.replace("/*+ delete */", "/*+ delete, retries=1, retry_delay=2 */")
    iql = iql.replace(
        "EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel",
        "{% if token == 'running' %}EXEC google.aiplatform.hyperparameter_tuning_jobs.cancel",
    ).replace(
        "@hyperparameterTuningJobsId='{{ job_id }}';",
        "@hyperparameterTuningJobsId='{{ job_id }}';{% endif %}",
    )
    (stack / "resources" / "job.iql").write_text(iql)
    (stack / "resources" / "first.iql").write_text(iql)
    manifest = MANIFEST.replace(
        "    exports:\n      - job_id\n  - name: prod_only",
        "    exports:\n      - job_id\n      - token\n  - name: prod_only",
    )
    assert manifest != MANIFEST
    (stack / "stackql_manifest.yml").write_text(manifest)
    cloud, rec = FinishingCloud(), Recorder()
    run(build, cloud, stack)
    report = run(teardown, cloud, stack, rec=rec)
    assert [r.action for r in report.resources] == ["skipped", "deleted", "deleted"]
    # the first cancel failed (the job had finished); the retry saw that and only deleted
    assert cloud.cancels == 1 and cloud.jobs == {}
    assert 2 in rec.sleeps and "reading its state again" in rec.text


def test_an_unknown_stack_export_fails_before_anything_runs(stack: Path) -> None:
    manifest = stack / "stackql_manifest.yml"
    manifest.write_text(manifest.read_text().replace("  - project\n", "  - projekt\n"))
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match="stack export 'projekt' is not a global") as e:
        run(build, cloud, stack)
    assert "did you mean 'project'" in (e.value.hint or "")
    line = manifest.read_text().splitlines().index("  - projekt") + 1
    assert e.value.location.line == line  # its own line (the file alone before)
    assert cloud.statements == []  # it was found after the jobs were created


def test_a_stack_export_of_a_skipped_resource_is_null_with_a_warning(
    stack: Path, tmp_path: Path
) -> None:
    # the 'if' left prod_only out of dev, as told: the build is not failed for it (it was,
    # after creating the others, and wrote no output file)
    manifest = stack / "stackql_manifest.yml"
    line = '        value: "{{ stack_name }}-prod-only"\n'
    exports = "    exports:\n      - job_id: prod_job_id\n"
    text = manifest.read_text().replace(line, line + exports)
    manifest.write_text(text + "  - prod_job_id\n")
    rec, out = Recorder(), tmp_path / "exports.json"
    report = run(build, FakeCloud(), stack, rec=rec, output_file=out)
    assert report.exports["prod_job_id"] is None
    assert json.loads(out.read_text())["prod_job_id"] is None
    assert "stack export 'prod_job_id' is null: resource 'prod_only'" in rec.text


def test_teardown_checks_a_resource_whose_unused_prop_needs_a_gone_export(stack: Path) -> None:
    # second is named on its own; only a prop its anchors never read needs first's id: when
    # first is gone, second's exists query still runs, and second is deleted, not "absent"
    manifest = MANIFEST.replace(
        'value: "after-{{ first_job_id }}"',
        'value: "second"\n      - name: note\n        value: "after-{{ first_job_id }}"',
    )
    (stack / "stackql_manifest.yml").write_text(manifest)
    cloud, rec = FakeCloud(), Recorder()
    run(build, cloud, stack)
    del cloud.jobs["demo-dev-first"]  # gone by other means
    down = run(teardown, cloud, stack, rec=rec)
    assert [r.action for r in down.resources] == ["skipped", "deleted", "absent"]
    assert "second" not in cloud.jobs


def test_teardown_refuses_a_delete_that_needs_a_gone_export(stack: Path) -> None:
    # the delete anchor reads a prop made of first's id: second still exists, and nothing
    # can name what to delete: an error, never "absent"
    manifest = MANIFEST.replace(
        'value: "after-{{ first_job_id }}"',
        'value: "second"\n      - name: note\n        value: "after-{{ first_job_id }}"',
    )
    (stack / "stackql_manifest.yml").write_text(manifest)
    iql = JOB_IQL.replace("@hyperparameterTuningJobsId='{{ job_id }}'", "@note='{{ note }}'")
    (stack / "resources" / "job.iql").write_text(iql)
    cloud = FakeCloud()
    run(build, cloud, stack)
    del cloud.jobs["demo-dev-first"]
    with pytest.raises(ManifestError, match="still exists, but its delete anchor needs"):
        run(teardown, cloud, stack)
    assert "second" in cloud.jobs
    assert "exec" not in cloud.kinds() and "delete" not in cloud.kinds()


def test_createorupdate_alone_is_refused_as_a_create_is(stack: Path) -> None:
    # every create is an INSERT: without an exists or statecheck anchor, each build made one
    iql = (
        "/*+ createorupdate */\n"
        + JOB_IQL.split("/*+ create, retries=2, retry_delay=3 */\n")[1].split("\n\n")[0]
    )
    (stack / "resources" / "first.iql").write_text(iql)
    cloud = FakeCloud()
    with pytest.raises(ManifestError, match="cannot tell whether it exists"):
        run(build, cloud, stack)
    assert "insert" not in cloud.kinds()


def test_a_createorupdate_insert_never_updates_an_existing_resource(stack: Path) -> None:
    # the job exists but is not RUNNING: the INSERT would make a second one beside it
    iql = JOB_IQL.replace("/*+ create, retries=2, retry_delay=3 */", "/*+ createorupdate */")
    (stack / "resources" / "first.iql").write_text(iql)
    cloud = FakeCloud()
    run(build, cloud, stack)
    cloud.jobs["demo-dev-first"]["state"] = "JOB_STATE_FAILED"
    cloud.pending_polls = 10**6
    cloud.statements.clear()
    with pytest.raises(ManifestError, match="is an INSERT, which would create a second one"):
        run(build, cloud, stack)
    assert "insert" not in cloud.kinds()


def test_masking_covers_every_written_form_and_never_garbles_other_values() -> None:
    from stackql_tuning.deploy.context import StackContext
    from stackql_tuning.deploy.manifest import Manifest

    ctx = StackContext(Manifest(Path("m.yml"), Path("."), "s"), "dev", {})
    for secret in ("sécret-ünïcode", 'quote"secret', "back\\slash", "it's-secret"):
        ctx.protect(secret)
        for written in (secret, json.dumps(secret)[1:-1], json.dumps({"t": secret})):
            assert "cret" not in ctx.mask(f"token: {written}"), written
    assert "secret" not in ctx.mask("WHERE x = 'it''s-secret'")
    # a short protected value is masked as a whole value, not inside other text
    ctx.protect("1")
    assert ctx.masked_value("1") == "****" and ctx.masked_value(1) == "****"
    assert ctx.masked_value("us-east-1") == "us-east-1"
    assert ctx.mask("region us-east-1") == "region us-east-1"


def test_a_delete_anchor_that_renders_nothing_says_the_resource_stays(stack: Path) -> None:
    # a delete anchor whose {% if %} on the state leaves nothing to run: an error naming it,
    # the resource still there (not "holds no statement", not "deleted")
    iql = JOB_IQL.replace("/*+ delete */\n", "/*+ delete */\n{% if job_id == 'never' %}\n") + (
        "{% endif %}\n"
    )
    (stack / "resources" / "first.iql").write_text(iql)
    cloud = FakeCloud()
    run(build, cloud, stack)
    with pytest.raises(ManifestError, match="renders no statement for its current state"):
        run(teardown, cloud, stack)
    assert "demo-dev-first" in cloud.jobs


def test_a_short_protected_value_is_masked_where_it_is_a_quoted_value() -> None:
    from stackql_tuning.deploy.context import StackContext
    from stackql_tuning.deploy.manifest import Manifest

    ctx = StackContext(Manifest(Path("m.yml"), Path("."), "s"), "dev", {})
    ctx.protect("739")
    assert ctx.mask('{"pin": "739", "port": 17390}') == '{"pin": "****", "port": 17390}'
    assert ctx.mask("WHERE pin = '739' AND region = 'us-east-1'") == (
        "WHERE pin = '****' AND region = 'us-east-1'"
    )


def test_on_failure_rollback_tears_down_what_the_build_created(stack: Path) -> None:
    # second's statecheck never passes: first (created by this build) and second (created,
    # not in its state) are torn down, in reverse order; the failure is raised with that said
    cloud, rec = FakeCloud(), Recorder()
    cloud.jobs["demo-dev-first"] = {"id": "7", "state": "JOB_STATE_RUNNING", "polls": 0}
    original = cloud.execute

    def never_running(stmt: Statement | str) -> Result:
        result = original(stmt)
        assert isinstance(stmt, Statement)
        if "after-7" in stmt.text and "JOB_STATE_RUNNING" in stmt.text:
            return Result(["count"], ["BIGINT"], [(0,)])
        return result

    cloud.execute = never_running  # type: ignore[method-assign]
    with pytest.raises(ManifestError, match="still returns count 0") as caught:
        run(build, cloud, stack, rec=rec, on_failure="rollback")
    assert "rolled back: second deleted" in caught.value.message
    assert "after-7" not in cloud.jobs
    assert "demo-dev-first" in cloud.jobs  # it was there before the build: not rolled back


def test_on_failure_ignore_goes_on_and_fails_at_the_end(stack: Path) -> None:
    cloud, rec = FakeCloud(), Recorder()
    cloud.fail_next_insert = 3  # first's create and its two retries
    with pytest.raises(ManifestError, match=r"2 resource\(s\) failed \(first, second\)") as caught:
        run(build, cloud, stack, rec=rec, on_failure="ignore")
    report = caught.value.report  # type: ignore[attr-defined]
    assert [r.action for r in report.resources] == ["failed", "failed", "skipped"]
    # second needs first's export: it failed too, after first, without a call of its own
    assert "going on (--on-failure ignore)" in rec.text


def test_on_failure_must_be_one_of_three(stack: Path) -> None:
    from stackql_tuning.errors import UsageError

    with pytest.raises(UsageError, match="on_failure 'retry'"):
        run(build, FakeCloud(), stack, on_failure="retry")


def test_an_interrupt_names_the_resource_it_stopped_and_what_came_before(stack: Path) -> None:
    cloud, rec = FakeCloud(), Recorder()
    original = cloud.execute

    def interrupted(stmt: Statement | str) -> Result:
        assert isinstance(stmt, Statement)
        if stmt.kind == "insert" and "after-" in stmt.text:
            raise KeyboardInterrupt
        return original(stmt)

    cloud.execute = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        run(build, cloud, stack, rec=rec)
    assert "[second] interrupted while this resource ran" in rec.text
    assert "before it: first created" in rec.text


def test_rollback_deletes_a_job_whose_create_failed_after_making_it(stack: Path) -> None:
    iql = JOB_IQL.replace("/*+ create, retries=2, retry_delay=3 */", "/*+ create */")
    (stack / "resources" / "first.iql").write_text(iql)
    cloud = FakeCloud()
    cloud.fail_after_insert = 1  # the INSERT made the job, then timed out
    with pytest.raises(StatementTimeout) as caught:
        run(build, cloud, stack, on_failure="rollback")
    assert "rolled back: first deleted" in caught.value.message
    assert "demo-dev-first" not in cloud.jobs


def test_rollback_is_for_build_a_teardown_stops_at_its_failure(stack: Path) -> None:
    cloud = FakeCloud()
    run(build, cloud, stack)
    original = cloud.execute

    def failing_delete(stmt: Statement | str) -> Result:
        assert isinstance(stmt, Statement)
        if stmt.kind == "exec" and "102" in stmt.text:  # second's cancel
            raise ProviderError("500 backend error")
        return original(stmt)

    cloud.execute = failing_delete  # type: ignore[method-assign]
    rec = Recorder()
    with pytest.raises(ProviderError):
        run(teardown, cloud, stack, on_failure="rollback", rec=rec)
    assert "demo-dev-first" in cloud.jobs  # not gone on past the failure
    # said, not silently taken as error
    assert rec.lines[1] == (
        "warning: --on-failure rollback is for build: teardown creates nothing to roll back, "
        "and stops at its first failure as --on-failure error does"
    )
    rec = Recorder()
    run(test, cloud, stack, on_failure="rollback", rec=rec, log_level="WARNING")
    assert rec.lines == [
        "warning: --on-failure rollback is for build: test creates nothing to roll back, "
        "and stops at its first failure as --on-failure error does"
    ]
    rec = Recorder()
    run(build, FakeCloud(), stack, on_failure="rollback", rec=rec)
    assert "warning" not in rec.text


def test_a_dry_run_does_not_plan_an_anchor_with_local_sql(stack: Path) -> None:
    # its CREATE TEMP TABLE is not run, so the SELECT that reads it was a plan error
    iql = JOB_IQL.replace(
        "/*+ exists */\n", "/*+ exists */\nCREATE OR REPLACE TEMP TABLE picked AS SELECT 1 AS n;\n"
    )
    (stack / "resources" / "first.iql").write_text(iql)
    cloud = PlanningCloud()
    run(build, cloud, stack, dry_run=True)
    assert not any("picked" in s.text for s in cloud.statements)


def test_an_if_reads_the_stacks_variables_by_bare_name(stack: Path) -> None:
    # stackql-deploy's documentation writes `if: "environment == 'production'"`: a bare
    # name was "not a plain comparison"
    _with(stack, _PROD_ONLY.replace("'{{ stack_env }}' == 'prod'", "stack_env == 'prod'"))
    report = run(build, FakeCloud(), stack)
    assert [r.action for r in report.resources][:4] == ["created", "created", "skipped", "skipped"]


def test_an_if_that_reads_an_export_by_bare_name_waits_for_its_resource(stack: Path) -> None:
    # known only once p1 ran: preflight must not read it as "no variable of the stack"
    _with(
        stack,
        _PROD_ONLY.replace(
            "  - name: p2\n    file: job.iql\n    if: \"'{{ stack_env }}' == 'prod'\"",
            "  - name: p2\n    file: job.iql\n    if: \"p1_id != ''\"",
        ).replace("        merge: [p1_id]\n", ""),
    )
    report = run(build, FakeCloud(), stack, "prod")
    assert [r.action for r in report.resources][:4] == ["created", "created", "created", "created"]


def test_a_dry_run_says_when_a_template_branches_on_an_export(stack: Path) -> None:
    # teardown --dry-run showed the branch of the stand-in (only the DELETE) where the run
    # stops the job first, and said nothing of it
    iql = JOB_IQL.replace(
        "/*+ delete */\nEXEC", "/*+ delete */\n{% if job_id != 'x' %}\nEXEC"
    ).replace("'{{ job_id }}';\nDELETE", "'{{ job_id }}';\n{% endif %}\nDELETE")
    (stack / "resources" / "job.iql").write_text(iql)
    cloud, rec = FakeCloud(), Recorder()
    run(build, cloud, stack)
    run(teardown, cloud, stack, rec=rec, dry_run=True)
    notes = [line for line in rec.lines if "branches on" in line]
    assert notes and all("/*+ delete */" in n and "branches on job_id" in n for n in notes)
    assert not any("branches on" in line for line in rec.lines if "/*+ exists */" in line)


def test_teardown_never_takes_a_resource_it_cannot_check_as_absent(stack: Path) -> None:
    # second's exists query reads first's id (through its display_name): first deleted by
    # hand, second was "taken as gone with it" (absent, exit 0) while it still existed
    cloud, rec = FakeCloud(), Recorder()
    run(build, cloud, stack)
    del cloud.jobs["demo-dev-first"]
    cloud.statements.clear()
    with pytest.raises(ManifestError) as caught:
        run(teardown, cloud, stack, rec=rec)
    err = caught.value
    assert "resource 'second' cannot be checked: its exists query needs first_job_id" in (
        err.message
    )
    assert "exported by resource 'first' that is gone" in err.message
    assert "whether it still exists is unknown" in err.message
    assert err.location.resource == "resource second, anchor exists"
    assert "delete it by hand" in (err.hint or "") and "--on-failure ignore" in (err.hint or "")
    assert "[second] absent" not in rec.text
    # --on-failure ignore goes on past it, reports it unknown, and fails at the end
    with pytest.raises(ManifestError, match="could not be checked \\(second\\)") as caught:
        run(teardown, cloud, stack, on_failure="ignore")
    report = caught.value.report  # type: ignore[attr-defined]
    assert [r.action for r in report.resources] == ["skipped", "unknown", "absent"]
    assert "delete it by hand" in (caught.value.hint or "")
    assert "after-101" in cloud.jobs  # never touched
    assert "exec" not in cloud.kinds() and "delete" not in cloud.kinds()


def test_a_failed_rollback_says_its_error_and_each_hint_once(stack: Path) -> None:
    # second's exports query returns two rows: the build fails there, and the rollback, which
    # reads second's exports to delete it, fails on them too; its error (with its location and
    # "hint:" line) was pasted into the middle of the build's message, the hint twice
    class TwoExports(FakeCloud):
        def execute(self, stmt: Statement | str) -> Result:
            result = super().execute(stmt)
            if result.columns == ["job_id", "token"] and result.rows and "after-" in str(stmt):
                result.rows = result.rows * 2
            return result

    cloud = TwoExports()
    with pytest.raises(ManifestError) as caught:
        run(build, cloud, stack, on_failure="rollback")
    err = caught.value
    said = str(err)
    assert said.count("hint:") == 1 and "\n" not in err.message
    assert said.count("make the WHERE clause match exactly one resource") == 1
    assert err.hint == "make the WHERE clause match exactly one resource"
    where = f"{stack / 'resources' / 'job.iql'}:14, resource second, anchor exports"
    assert err.message == (
        "resource 'second' the exports query must return exactly one row; it returned 2; "
        f"the rollback failed too ({where}): resource 'second' the exports query must return "
        "exactly one row; it returned 2 (rolled back: nothing; still there: second, first)"
    )
    assert "after-101" in cloud.jobs and "demo-dev-first" in cloud.jobs  # nothing deleted


def test_a_multi_whose_create_failed_does_not_say_it_was_created(stack: Path) -> None:
    # type multi ignores a failed create; its statecheck then counts 0, and the error said
    # "was created but its statecheck query still returns count 0": nothing was created
    manifest = MANIFEST.replace("  - name: first\n", "  - name: first\n    type: multi\n")
    (stack / "stackql_manifest.yml").write_text(manifest)
    cloud, rec = FakeCloud(), Recorder()
    cloud.fail_next_insert = 1
    with pytest.raises(ManifestError) as caught:
        run(build, cloud, stack, rec=rec)
    err = caught.value
    assert "was created" not in err.message
    assert err.message == (
        "resource 'first' failed its /*+ create */ (1 statement(s); ignored, as type multi "
        "does), and its statecheck query still returns count 0 after 5 attempt(s)"
    )
    assert "failed, ignored (multi): provider error" in rec.text and "503" in rec.text
    assert "see the failed statement logged above" in (err.hint or "")
    assert cloud.jobs == {}
