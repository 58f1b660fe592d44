"""The build / test / teardown state machine over a manifest and a Session.

- build: for each resource in order: ``if`` -> exists -> create (or statecheck -> update) ->
  statecheck (with retries) -> exports, which flow into the context of later resources.
  A resource that exists and passes its statecheck is left alone: a second build creates nothing.
- test: for each resource: statecheck (or exists) must return count 1; then exports.
- teardown: exports of every resource first (to learn ids), then in reverse order:
  exists -> delete -> exists again until it returns 0 (``postdelete_retries``). Each attempt
  of the delete anchor reads the resource's exports again first (a state may have changed).
  A resource whose exists query needs an export of a resource that is gone cannot be checked:
  it fails (``unknown``), never ``absent`` and never deleted.

``exists`` and ``statecheck`` must return exactly one row with a ``count`` column of 0 or 1;
``exports`` exactly one row holding the exported columns. Retries: ``retries=N`` gives N more
attempts, ``retry_delay=S`` seconds apart (``sleep`` is injectable for tests). Each statement of
a mutation anchor is retried on its own, so a ``cancel`` that worked is not sent twice; a
create anchor is sent again only when the exists query, asked first, finds nothing. Before the
first call, every resource's files, templates and props are checked (``preflight``).
Dry run renders and logs every query and runs none. Protected values are masked in every log
line, query listing, report and error message.

This module never names a provider resource; the manifests' ``.iql`` files do.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from stackql_tuning.deploy.anchors import Anchor, load_anchors
from stackql_tuning.deploy.condition import bare_names, evaluate
from stackql_tuning.deploy.context import StackContext
from stackql_tuning.deploy.manifest import Manifest, ResourceSpec
from stackql_tuning.deploy.preflight import check_anchor
from stackql_tuning.deploy.report import DeployReport, ResourceOutcome
from stackql_tuning.deploy.runner import RETRYABLE, AnchorRunner, Log, Parse, SessionLike
from stackql_tuning.errors import (
    Cancelled,
    Location,
    ManifestError,
    StackqlTuningError,
    UsageError,
    did_you_mean,
)
from stackql_tuning.sql.expressions import Exec
from stackql_tuning.sql.statement import Statement
from stackql_tuning.sql.template import references

#: what a failed resource does to the rest (stackql-deploy's --on-failure)
ON_FAILURE = ("error", "rollback", "ignore")
DEFAULT_POSTDELETE_RETRIES = 10
DEFAULT_POSTDELETE_DELAY = 5

__all__ = ["Engine", "Log", "SessionLike"]


#: what teardown reports for a resource whose delete anchor ran no DELETE, by its EXEC's method
#: (a tuning job with no delete method is torn down by its cancel, and stays in the project)
_NO_DELETE_ACTIONS = {"cancel": "cancelled", "stop": "stopped"}


def _teardown_action(statements: Sequence[Statement]) -> str:
    """``deleted``, unless the delete anchor ran no DELETE: then what its EXEC did."""
    if any(stmt.kind == "delete" for stmt in statements):
        return "deleted"
    methods = [
        s.expression.method_name.lower() for s in statements if isinstance(s.expression, Exec)
    ]
    return next((_NO_DELETE_ACTIONS[m] for m in methods if m in _NO_DELETE_ACTIONS), "deleted")


class Engine(AnchorRunner):
    def __init__(
        self,
        session: SessionLike,
        manifest: Manifest,
        stack_env: str,
        *,
        env_vars: dict[str, Any],
        dry_run: bool = False,
        show_queries: bool = False,
        log: Log | None = None,
        log_level: str = "INFO",
        sleep: Callable[[float], None] = time.sleep,
        parse: Parse | None = None,
        on_failure: str = "error",
    ) -> None:
        if on_failure not in ON_FAILURE:
            raise UsageError(
                f"on_failure {on_failure!r} is not one of {', '.join(ON_FAILURE)}",
                hint="error stops; rollback tears down what the build created; ignore goes on",
            )
        self.on_failure = on_failure
        self.manifest = manifest
        super().__init__(
            session,
            StackContext(manifest, stack_env, env_vars),
            DeployReport("", manifest.name, stack_env, dry_run=dry_run),
            dry_run=dry_run,
            show_queries=show_queries,
            log=log,
            log_level=log_level,
            sleep=sleep,
            parse=parse,
        )
        #: teardown: exports whose resource no longer exists
        self._missing: set[str] = set()
        #: build: the resources it created, in order (what a rollback tears down)
        self._created: list[ResourceSpec] = []
        #: teardown: the resources whose state cannot be checked (reported ``unknown``)
        self._unknown: set[str] = set()

    # -- operations ---------------------------------------------------------------------------
    def build(self) -> DeployReport:
        return self._operation("build", self._build_one, self.manifest.resources)

    def test(self) -> DeployReport:
        return self._operation("test", self._test_one, self.manifest.resources)

    def teardown(self) -> DeployReport:
        # (a command made a change, not a thing to delete)
        resources = tuple(
            r for r in reversed(self.manifest.resources) if r.type not in ("query", "command")
        )
        return self._operation("teardown", self._teardown_one, resources, collect=True)

    def _collect_exports(self) -> None:
        """Teardown's first pass: every resource's exports (ids for the delete anchors)."""
        self.log(f"collecting exports of {self.manifest.name} [{self.ctx.stack_env}]")
        for res in self.manifest.resources:
            if not (res.exports or res.type == "query"):
                continue
            anchors = self._anchors(res) if res.sql is not None or res.file.is_file() else {}
            gone, omit = self._needs_missing(res, [anchors.get("exports")])
            if gone:
                self._missing.update(e.alias for e in res.exports)
                continue
            ctx = self._gated(res, omit)
            if ctx is not None:
                got = self._exports(
                    res, anchors, ctx, required=False, gone=self._gone(res, anchors, ctx)
                )
                if not got:
                    self._missing.update(e.alias for e in res.exports)

    def _gone(
        self, res: ResourceSpec, anchors: dict[str, Anchor], ctx: dict[str, Any]
    ) -> Callable[[], bool] | None:
        """Teardown: whether ``res`` is absent, by its exists anchor (an exports query that
        finds nothing then need not wait out its retries: the stack may be gone already)."""
        check = anchors.get("exists")
        if check is None or self._needs_missing(res, [check])[0]:
            return None
        return lambda: self._count(res, check, ctx) == 0

    def _needs_missing(
        self, res: ResourceSpec, anchors: list[Anchor | None]
    ) -> tuple[set[str], set[str]]:
        """Teardown: which exports of absent resources ``res``'s ``if`` and ``anchors`` need,
        directly or through its props; and the props that need them (left out of its
        context: a prop no anchor that runs reads does not stop the others)."""
        if not self._missing:
            return set(), set()
        # each prop that needs an absent export, with the exports it needs (a prop may read
        # the props before it)
        needs: dict[str, set[str]] = {}
        for prop in res.props:
            refs = self._refers(prop.value_for(self.ctx.stack_env)) | set(prop.merge)
            got = refs & self._missing
            for name in refs & needs.keys():
                got |= needs[name]
            if got:
                needs[prop.name] = got
        names: set[str] = set()
        for text in [res.condition or ""] + [a.text for a in anchors if a is not None]:
            names |= references(text)
        missing = names & self._missing
        for name in names & needs.keys():
            missing |= needs[name]
        return missing, set(needs)

    def _context(self, res: ResourceSpec, omit: set[str] | None = None) -> dict[str, Any]:
        """``res``'s context (but the props in ``omit``), its statements set to run with its
        own ``auth``: the two go together, or a resource's calls would use another's."""
        ctx = self.ctx.resource_context(res, omit=omit or ())
        self._use_auth(res, ctx)
        return ctx

    def _refers(self, value: Any) -> set[str]:
        """The variable names every string inside ``value`` refers to."""
        names: set[str] = set()
        stack: list[Any] = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                names |= references(item)
            elif isinstance(item, dict | list):
                stack.extend(item.values() if isinstance(item, dict) else item)
        return names

    def _operation(
        self,
        name: str,
        step: Callable[[ResourceSpec], ResourceOutcome],
        resources: Any,
        *,
        collect: bool = False,
    ) -> DeployReport:
        self.report.operation = name
        mode = " (dry run)" if self.dry_run else ""
        self.log(f"{name} of {self.manifest.name} [{self.ctx.stack_env}]{mode}")
        if self.on_failure == "rollback" and name != "build":
            # (a warning, not a usage error, as for --output-file: a CI line may give the
            # same flags to every operation)
            self.log(
                f"warning: --on-failure rollback is for build: {name} creates nothing to roll "
                "back, and stops at its first failure as --on-failure error does",
                logging.WARNING,
            )
        start = time.monotonic()
        try:
            self._preflight(resources, name)
            if name in ("build", "test"):
                self._check_stack_exports()
            if collect:
                self._collect_exports()
            failed: list[tuple[str, StackqlTuningError]] = []
            for res in resources:
                try:
                    outcome = step(res)
                except KeyboardInterrupt:
                    done = ", ".join(f"{o.name} {o.action}" for o in self.report.resources)
                    self.log(
                        f"[{res.name}] interrupted while this resource ran (its change, if "
                        f"any was sent, may have been made); before it: {done or 'nothing'}",
                        logging.WARNING,
                    )
                    raise
                except StackqlTuningError as e:
                    # (a teardown has nothing to roll back: rollback stops there, as error)
                    stop = self.on_failure == "error" or (
                        self.on_failure == "rollback" and name != "build"
                    )
                    if self.dry_run or isinstance(e, Cancelled) or stop:
                        raise
                    self._mask_error(e)
                    if self.on_failure == "rollback" and name == "build":
                        raise self._rolled_back(e) from None
                    action = "unknown" if res.name in self._unknown else "failed"
                    self.log(
                        f"[{res.name}] {'could not be checked' if action == 'unknown' else action}"
                        f", going on (--on-failure {self.on_failure}): {e}"
                    )
                    failed.append((res.name, e))
                    outcome = ResourceOutcome(res.name, action)
                self.log(f"[{res.name}] {outcome.action}")
                self.log(f"[{res.name}] exports: {outcome.exports}", logging.DEBUG)
                self.report.resources.append(outcome)
            if failed:
                error = ManifestError(
                    f"{name} of {self.manifest.name} [{self.ctx.stack_env}]: "
                    f"{len(failed)} resource(s) failed"
                    + (" or could not be checked" if self._unknown else "")
                    + f" ({', '.join(n for n, _ in failed)}); "
                    f"--on-failure {self.on_failure} went on past them:"
                    + "".join(f"\n  - {n}: {e.message}" for n, e in failed),
                    location=Location(file=self.ctx.file),
                    hint="; ".join(dict.fromkeys(e.hint for _, e in failed if e.hint)) or None,
                )
                error.report = self.report  # type: ignore[attr-defined]
                raise error
            if name in ("build", "test"):
                self._stack_exports()
        except StackqlTuningError as e:
            self._mask_error(e)
            raise
        finally:
            self.close()
            self.report.elapsed = time.monotonic() - start
        return self.report

    def _rolled_back(self, failure: StackqlTuningError) -> StackqlTuningError:
        """``--on-failure rollback``: tear down, in reverse order, what this build created
        (not what it found, nor what it updated: those were there before it); ``failure``
        with what the rollback did, or the rollback's own error beside it."""
        created = self._created
        self.log(
            "rolling back: "
            + (", ".join(r.name for r in reversed(created)) or "this build created nothing")
        )
        undone: list[str] = []
        for index, res in enumerate(reversed(created)):
            try:
                if res.exports:  # its ids, as teardown's first pass reads them (a create
                    # that failed after making it exported nothing)
                    self._exports(res, self._anchors(res), self._context(res), required=False)
                outcome = self._teardown_one(res)
            except StackqlTuningError as e:
                self._mask_error(e)
                left = [r.name for r in list(reversed(created))[index:]]
                # its message and where, not str(e): its "hint:" line went into the middle of
                # this message (and, the same as the failure's hint, was said twice)
                where = f" ({e.location})" if str(e.location) else f", at resource {res.name!r}"
                failure.message += (
                    f"; the rollback failed too{where}: {e.message} (rolled back: "
                    f"{', '.join(undone) or 'nothing'}; still there: {', '.join(left)})"
                )
                if e.hint and e.hint != failure.hint:  # (each hint once, after the message)
                    hints = [failure.hint] if failure.hint else []
                    failure.hint = "; ".join([*hints, f"the rollback: {e.hint}"])
                return failure
            self.log(f"[{res.name}] rolled back: {outcome.action}")
            undone.append(f"{res.name} {outcome.action}")
        if created:
            failure.message += f"; rolled back: {', '.join(undone)}"
        return failure

    def _preflight(self, resources: Sequence[ResourceSpec], operation: str) -> None:
        """What needs no provider, of every resource, before the first call (``preflight``):
        its query file and anchors (those its type runs), their templates, what its props merge
        and (build, test) its props' values for the environment (teardown reads a prop only
        where an anchor it runs needs it). A resource with an ``if`` has its props checked when
        the ``if`` can be read now and holds (not when it reads an export, known only once
        earlier resources ran: that resource's props are checked when it runs)."""
        known = set(self.ctx.values)  # what a prop may merge: globals, variables, and
        for res in self.manifest.resources:  # the exports of the resources before it
            if any(res is r for r in resources):
                self._preflight_one(res, operation, known)
            known |= {e.alias for e in res.exports}

    def _preflight_one(self, res: ResourceSpec, operation: str, known: set[str]) -> None:
        if res.condition and res.sql is None and not res.file.exists():
            return  # its 'if' may skip it: a missing file is its error when it runs
        anchors = self._anchors(res)
        for anchor in anchors.values():
            check_anchor(anchor, res.name)
        self._check_anchor_kinds(res, anchors)
        for prop in res.props:
            for name in prop.merge:
                if name not in known:
                    raise ManifestError(
                        f"prop {prop.name!r} of resource {res.name!r} merges {name!r}, which "
                        "is no global, variable or export of a resource before it",
                        location=Location(file=self.ctx.file, line=prop.line, resource=res.name),
                        hint="merge names a global (globals:) or an export of an earlier resource",
                    )
        skipped = operation == "teardown" or (operation == "test" and res.type == "command")
        if skipped or (res.condition and self._condition_now(res) is not True):
            return
        for prop in res.props:
            self.ctx.prop_value(res, prop)

    def _check_anchor_kinds(self, res: ResourceSpec, anchors: dict[str, Anchor]) -> None:
        """A command runs its command anchor alone, and only a command has one: the others
        were silently never run."""
        extra = sorted(set(anchors) - {"command"})
        problem = None
        if res.type == "command" and "command" not in anchors:
            problem = "has no /*+ command */ anchor nor 'sql'"
        elif res.type == "command" and extra:
            listed = ", ".join(f"/*+ {a} */" for a in extra)
            problem = (
                f"is a command, which runs only its /*+ command */ anchor; it also has {listed}"
            )
        elif res.type != "command" and "command" in anchors:
            problem = f"is a {res.type}, which never runs a /*+ command */ anchor"
        if problem is not None:
            raise self._error(
                res,
                anchors.get("command"),
                problem,
                hint="type: command runs one /*+ command */ anchor on each build; a resource's "
                "anchors are exists, create, update, statecheck, exports, delete",
            )

    def _condition_now(self, res: ResourceSpec) -> bool | None:
        """Whether ``res``'s ``if`` holds, read before anything ran; None when it reads what
        is not known yet (an export, a prop that needs one)."""
        gate = self.ctx.resource_context(res, lenient=True)
        assert res.condition is not None
        names = references(res.condition)
        for prop in res.props:  # one it reads that has no value here: its error, now
            if prop.name in names:
                self.ctx.prop_value(res, prop)
        # an export it reads by bare name (stack_env == 'prod' style) is not known yet either
        waiting = (bare_names(res.condition) & self._exported_names()) - set(gate)
        if not names <= set(gate) or waiting:
            return None
        return self._condition(res, gate, quiet=True)

    # -- one resource per operation -----------------------------------------------------------
    def _build_one(self, res: ResourceSpec) -> ResourceOutcome:
        ctx = self._gated(res)
        if ctx is None:
            return ResourceOutcome(res.name, "skipped")
        anchors = self._anchors(res)
        if res.type == "query":
            return ResourceOutcome(res.name, "exported", self._exports(res, anchors, ctx))
        if res.type == "command":
            return ResourceOutcome(res.name, self._run_command(res, anchors, ctx))
        action = self._build_resource(res, anchors, ctx)
        return ResourceOutcome(res.name, action, self._exports(res, anchors, ctx))

    def _run_command(self, res: ResourceSpec, anchors: dict[str, Anchor], ctx: dict) -> str:
        """A ``type: command`` resource: its command anchor's statements, on every build (no
        exists query: a command is not a thing that exists); its ``retries`` send a failed
        statement again, as stackql-deploy does: give them only to a statement that may run
        twice (nothing can tell whether a failed one took effect)."""
        command = anchors["command"]  # (preflight: _check_anchor_kinds)
        if self.dry_run:
            self._statements(res, command, ctx)
            return "planned"
        self._mutate(res, command, ctx)
        return "ran"

    def _build_resource(self, res: ResourceSpec, anchors: dict[str, Anchor], ctx: dict) -> str:
        create = anchors.get("createorupdate") or anchors.get("create")
        update = anchors.get("update") or anchors.get("createorupdate")
        exists_q, state_q = anchors.get("exists"), anchors.get("statecheck")
        if create is None:
            raise self._error(res, None, "has no /*+ create */ or /*+ createorupdate */ anchor")
        if exists_q is None and state_q is None:
            # a createorupdate anchor is no exception: every create here is an INSERT, which
            # makes another resource on each build (no provider method is an upsert)
            raise self._error(
                res,
                None,
                "has neither an /*+ exists */ nor a /*+ statecheck */ "
                "anchor, so a build cannot tell whether it exists (and would create it again)",
            )
        if self.dry_run:
            for anchor in (exists_q, create, state_q):
                if anchor is not None:
                    self._statements(res, anchor, ctx)
            return "planned"
        in_state: bool | None = None
        if exists_q is not None:
            exists = self._count(res, exists_q, ctx) == 1
        elif state_q is not None:
            exists = in_state = self._count(res, state_q, ctx) == 1
        else:
            exists = False
        if exists:
            if state_q is None or res.skip_validation:
                return "unchanged"
            if in_state is None:
                in_state = self._count(res, state_q, ctx) == 1
            if in_state:
                return "unchanged"
            if update is None:
                raise self._error(
                    res,
                    state_q,
                    "exists but its statecheck returns count 0, and it has no /*+ update */ anchor",
                    hint="tear the stack down and build it again",
                )
            statements = self._statements(res, update, ctx)
            if any(stmt.kind == "insert" for stmt in statements):
                # an INSERT creates another resource beside the one that exists
                raise self._error(
                    res,
                    state_q,
                    f"exists but its statecheck returns count 0, and its /*+ {update.name} */ "
                    "anchor is an INSERT, which would create a second one, not update it",
                    hint="tear the stack down and build it again, or add an /*+ update */ anchor",
                )
            ignored = self._mutate(res, update, ctx, statements=statements)
            action, change = "updated", update
        else:
            try:
                ignored = self._create(res, create, exists_q, ctx)
            except StackqlTuningError:
                # a create that failed after its INSERT went through (a later statement of
                # the anchor, a timeout) made it: a rollback must delete it too
                if self.on_failure == "rollback" and exists_q is not None:
                    with contextlib.suppress(StackqlTuningError):
                        if self._count(res, exists_q, ctx) == 1:
                            self._created.append(res)
                raise
            self._created.append(res)  # (before its statecheck: a rollback deletes it too)
            action, change = "created", create
        check = None if res.skip_validation else state_q or exists_q
        if check is not None:
            attempts = check.option("retries", 0) + 1
            if self._count(res, check, ctx, want=1, attempts=attempts) != 1:
                # a multi's failed statements were ignored: it was not (all) "created"
                done = (
                    f"failed its /*+ {change.name} */ ({len(ignored)} statement(s); ignored, as "
                    "type multi does), and"
                    if ignored
                    else f"was {action} but"
                )
                raise self._error(
                    res,
                    check,
                    f"{done} its {check.name} query still returns count 0 "
                    f"after {attempts} attempt(s)",
                    hint="see the failed statement logged above; fix it, or check the query"
                    if ignored
                    else "raise retries / retry_delay on the anchor, or check the query",
                )
        return action

    def _test_one(self, res: ResourceSpec) -> ResourceOutcome:
        if res.type == "command":
            return ResourceOutcome(res.name, "skipped")  # nothing of it to test
        ctx = self._gated(res)
        if ctx is None:
            return ResourceOutcome(res.name, "skipped")
        anchors = self._anchors(res)
        if res.type != "query":
            check = anchors.get("statecheck") or anchors.get("exists")
            if check is None:
                raise self._error(
                    res, None, "has no /*+ statecheck */ or /*+ exists */ anchor to test"
                )
            attempts = check.option("retries", 0) + 1
            count = self._count(res, check, ctx, want=1, attempts=attempts)
            if count is not None and count != 1:
                raise self._error(
                    res,
                    check,
                    f"test failed: its {check.name} query returned count {count} "
                    f"after {attempts} attempt(s): the resource is missing or not in its "
                    "desired state",
                    hint="run build to create or update it",
                )
        exports = self._exports(res, anchors, ctx)
        action = "planned" if self.dry_run else "passed" if res.type != "query" else "exported"
        return ResourceOutcome(res.name, action, exports)

    def _teardown_one(self, res: ResourceSpec) -> ResourceOutcome:
        anchors = self._anchors(res)
        delete = anchors.get("delete")
        check = anchors.get("exists") or anchors.get("statecheck")
        missing, omit = self._needs_missing(res, [check])
        if missing and delete is not None:
            # its exists query (or 'if') identifies it by what a resource that is gone
            # exported: nothing can tell whether it exists (a resource does not go with
            # another: a tuning job outlives the job whose id it was made with), and nothing
            # can name it to delete it: neither is tried
            raise self._unknown_state(res, check, missing)
        ctx = None if missing else self._gated(res, omit)
        if ctx is None and not missing:
            return ResourceOutcome(res.name, "skipped")
        if delete is None:
            self.log(f"[{res.name}] has no /*+ delete */ anchor: left in place")
            return ResourceOutcome(res.name, "kept")
        assert ctx is not None  # (missing with a delete anchor: raised above)
        if check is None:
            raise self._error(
                res,
                None,
                "has a /*+ delete */ anchor but no /*+ exists */ "
                "anchor to tell whether there is anything to delete",
            )
        needs = ", ".join(sorted(self._needs_missing(res, [delete])[0]))
        if self.dry_run:
            self._statements(res, check, ctx)
            if needs:
                self.log(f"[{res.name}] its delete anchor needs {needs}, which nothing exports")
            else:
                self._statements(res, delete, ctx)
            return ResourceOutcome(res.name, "planned")
        if self._count(res, check, ctx) == 0:
            return ResourceOutcome(res.name, "absent")
        if needs:
            raise self._error(
                res,
                delete,
                f"still exists, but its delete anchor needs {needs}, exported by a resource "
                "that is gone (or by its own exports query, which found nothing)",
                hint="delete it by hand, or build the stack again and tear it down",
            )
        action = _teardown_action(self._delete(res, anchors, delete, ctx))
        attempts = check.option("postdelete_retries", DEFAULT_POSTDELETE_RETRIES) + 1
        delay = check.option("postdelete_retry_delay", DEFAULT_POSTDELETE_DELAY)
        if self._count(res, check, ctx, want=0, attempts=attempts, delay=delay) != 0:
            raise self._error(
                res,
                check,
                f"still exists after its delete anchor ran ({attempts} checks)",
                hint="raise postdelete_retries / postdelete_retry_delay on the exists anchor",
            )
        return ResourceOutcome(res.name, action)

    def _unknown_state(
        self, res: ResourceSpec, check: Anchor | None, missing: set[str]
    ) -> ManifestError:
        """Teardown: ``res`` cannot be checked, for its exists query (or ``if``) needs the
        exports ``missing`` of resources that are gone; it is reported ``unknown``, never
        ``absent``, and it fails as any resource does (``--on-failure``)."""
        self._unknown.add(res.name)
        by_if = self._needs_missing(res, [])[0]
        what = "its 'if'" if check is None or missing <= by_if else f"its {check.name} query"
        owners = [
            r.name for r in self.manifest.resources if any(e.alias in missing for e in r.exports)
        ]
        names = ", ".join(sorted(missing))
        by = ", ".join(repr(o) for o in owners)
        by = f"resource{'s' if len(owners) > 1 else ''} {by}" if owners else "a resource"
        return self._error(
            res,
            check,
            f"cannot be checked: {what} needs {names}, exported by {by} that is gone "
            "(teardown could not read its exports); whether it still exists is unknown, "
            "and it was not deleted",
            hint="delete it by hand if it still exists, or make its exists query find it "
            "without another resource's export"
            + ("; --on-failure ignore goes on past it" if self.on_failure != "ignore" else ""),
        )

    def _create(
        self, res: ResourceSpec, create: Anchor, exists_q: Anchor | None, ctx: dict[str, Any]
    ) -> list[StackqlTuningError]:
        """Run the create anchor; its ``retries`` send it again only when the exists query
        says it did not land. A failed or timed-out create may still have made the resource
        (a reply lost, an AWAIT past its limit, a poll that failed): sent again, it made
        another one, and every later exists query counted two. Without an exists anchor
        nothing can tell, so it is not sent again."""
        attempts = create.option("retries", 0) + 1
        delay = create.option("retry_delay", 0)
        for attempt in range(1, attempts + 1):
            try:
                return self._mutate(res, create, ctx, attempts=1)
            except RETRYABLE as e:
                if attempt == attempts:
                    raise
                if exists_q is None:
                    note = (
                        f"not sent again (retries={attempts - 1}): without an /*+ exists */ "
                        "anchor a build cannot tell whether the failed create made it"
                    )
                    e.hint = f"{e.hint}; {note}" if e.hint else note
                    raise
                if self._count(res, exists_q, ctx) == 1:
                    self.log(
                        f"[{res.name}] /*+ {create.name} */ failed ({e.message}), but its "
                        "exists query finds it: it was made, and is not sent again"
                    )
                    return []
                self.log(
                    f"[{res.name}] /*+ {create.name} */ failed (attempt {attempt}/{attempts}): "
                    f"{e.message}; its exists query finds nothing: sending it again in {delay}s"
                )
                self.sleep(delay)
        return []  # pragma: no cover - the last attempt returned or raised

    def _delete(
        self, res: ResourceSpec, anchors: dict[str, Anchor], delete: Anchor, ctx: dict[str, Any]
    ) -> Sequence[Statement]:
        """Run the delete anchor; its ``retries`` re-read the resource's exports and render it
        again, because what it does may depend on a state that changes meanwhile (a job that
        finishes between the check and the stop: the next attempt no longer stops it)."""
        attempts = delete.option("retries", 0) + 1
        delay = delete.option("retry_delay", 0)
        for attempt in range(1, attempts + 1):
            if res.exports:
                self._exports(res, anchors, ctx, required=False)
            try:
                statements = self._statements(res, delete, ctx, allow_empty=True)
                if not statements:
                    # its {% if %} on the resource's state left nothing to run: it stays
                    raise self._error(
                        res,
                        delete,
                        "still exists, but its delete anchor renders no statement for its "
                        "current state: there is nothing to run",
                        hint="check the anchor's {% if %} conditions against the state its "
                        "exports query reads",
                    )
                self._mutate(res, delete, ctx, attempts=1, statements=statements)
                return statements
            except RETRYABLE as e:
                if attempt == attempts:
                    raise
                self.log(
                    f"[{res.name}] /*+ delete */ failed (attempt {attempt}/{attempts}): "
                    f"{e.message}; reading its state again in {delay}s"
                )
                self.sleep(delay)
        return []  # pragma: no cover - the last attempt returned or raised

    # -- helpers ----------------------------------------------------------------------------
    def _anchors(self, res: ResourceSpec) -> dict[str, Anchor]:
        if res.sql is not None:
            line = res.line or 1
            name = "command" if res.type == "command" else "exports"
            return {name: Anchor(name, res.sql, self.ctx.file, line, line)}
        return load_anchors(res.file, resource=res.name)

    def _gated(self, res: ResourceSpec, omit: set[str] | None = None) -> dict[str, Any] | None:
        """``res``'s context (``_context``) when its ``if`` holds or it has none; None when
        its ``if`` skips it. The ``if`` is read with the props that can be made (a prod-only
        resource's props may need a value only prod has, or an export of another prod-only
        resource: its dev build and teardown failed on one), without its ``auth``; a
        resource that runs needs them all."""
        if res.condition is not None:
            gate = self.ctx.resource_context(res, omit=omit or (), lenient=True)
            if not self._condition(res, gate):
                return None
        return self._context(res, omit)

    def _condition(self, res: ResourceSpec, ctx: dict[str, Any], *, quiet: bool = False) -> bool:
        if res.condition is None:
            return True
        what = f"'if' of resource {res.name!r}"
        line = res.condition_line or res.line
        text = self.ctx.render_value(res.condition, ctx, line=line, what=what)
        ok = evaluate(text, file=self.ctx.file, line=line, resource=res.name, names=ctx)
        if not ok and not quiet:
            self.log(f"[{res.name}] skipped: if {res.condition} is false")
        return ok

    def _known_names(self) -> set[str]:
        """The globals, variables and every resource's exports: what a stack export may name."""
        return set(self.ctx.values) | self._exported_names()

    def _exported_names(self) -> set[str]:
        """What the stack's resources export, by name."""
        return {e.alias for res in self.manifest.resources for e in res.exports}

    def _check_stack_exports(self) -> None:
        """Before anything runs: every stack export is a global, a variable or an export some
        resource declares (it was found missing after the resources were created)."""
        known = self._known_names()
        for name in self.manifest.exports:
            if name not in known:
                raise ManifestError(
                    f"stack export {name!r} is not a global, a resource export or a variable",
                    location=Location(
                        file=self.ctx.file, line=self.manifest.export_lines.get(name)
                    ),
                    hint=did_you_mean(name, sorted(k for k in known if k != "env"))
                    or "list it under 'exports' of the resource that produces it",
                )

    def _stack_exports(self) -> None:
        for name in self.manifest.exports:
            if name not in self.ctx.values:
                if self.dry_run:
                    self.report.exports[name] = f"<{name}>"
                    continue
                owners = [
                    r.name for r in self.manifest.resources if name in {e.alias for e in r.exports}
                ]
                skipped = {o.name for o in self.report.resources if o.action == "skipped"}
                if owners and all(o in skipped for o in owners):
                    # the 'if' left the resource out of this environment, as it was told
                    self.log(
                        f"stack export {name!r} is null: resource {owners[0]!r}, which "
                        "exports it, was skipped (its 'if' was false)",
                        logging.WARNING,
                    )
                    self.report.exports[name] = self.report.values[name] = None
                    self.report.types[name] = None
                    continue
                raise ManifestError(
                    f"stack export {name!r} has no value: no resource gave it a value",
                    location=Location(
                        file=self.ctx.file, line=self.manifest.export_lines.get(name)
                    ),
                    hint="drop it from the stack's exports, or export it only when it exists",
                )
            value = self.ctx.values[name]
            self.report.exports[name] = self.ctx.masked_value(value)
            self.report.values[name] = value
            self.report.types[name] = self.ctx.value_types.get(name)
