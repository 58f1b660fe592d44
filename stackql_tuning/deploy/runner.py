"""Running one anchor of one resource: render, parse, execute with retries, check shapes.

:class:`AnchorRunner` is the half of the deploy engine that talks to the Session: it renders an
anchor with the resource's context (sandboxed jinja), parses it into statements (padded so that
statement lines are ``.iql`` file lines), executes each statement with its own retries, checks
that ``exists`` / ``statecheck`` return one row with a ``count`` of 0 or 1 and that ``exports``
return one row with the exported columns, and puts every error at file, line, resource and
anchor with protected values masked. A statement that went on past failed calls (``--on-error
continue``) is an error here: no decision is taken on a partial read. It knows nothing of
build / test / teardown order.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from stackql_tuning.deploy.anchors import Anchor
from stackql_tuning.deploy.context import StackContext
from stackql_tuning.deploy.manifest import ResourceSpec
from stackql_tuning.deploy.preflight import CHANGES, READ_ANCHORS, read_anchor_change
from stackql_tuning.deploy.report import DeployReport
from stackql_tuning.errors import (
    Location,
    ManifestError,
    ProviderError,
    StackqlTuningError,
    StatementTimeout,
)
from stackql_tuning.result import Result, unique_names
from stackql_tuning.sql.statement import Statement
from stackql_tuning.sql.template import render, rendered_source

#: the tests of a template's {% if %} and {% elif %} blocks
_BRANCH = re.compile(r"\{%-?\s*(?:el)?if\b(.*?)-?%\}", re.S)

logger = logging.getLogger("stackql_tuning.deploy")

Log = Callable[[str], None]
Parse = Callable[..., Sequence[Statement]]
#: errors worth another attempt: the provider said no (maybe not yet), or it was too slow
RETRYABLE = (ProviderError, StatementTimeout)
LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}


class SessionLike(Protocol):
    def execute(self, sql: str | Statement) -> Result: ...


def _default_parse(text: str, *, source: str | None = None) -> Sequence[Statement]:
    from stackql_tuning.sql import parse

    return parse(text, source=source)


class AnchorRunner:
    """Session access for the engine; subclasses set everything ``__init__`` sets here."""

    def __init__(
        self,
        session: SessionLike,
        ctx: StackContext,
        report: DeployReport,
        *,
        dry_run: bool,
        show_queries: bool,
        log: Log | None,
        log_level: str,
        sleep: Callable[[float], None],
        parse: Parse | None,
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.report = report
        self.dry_run = dry_run
        self.show_queries = show_queries
        self._log = log
        self.level = LEVELS.get(str(log_level).upper(), logging.INFO)
        self.sleep = sleep
        self.parse = parse or _default_parse
        #: resource name -> the session its statements run in (its own ``auth``)
        self._sessions: dict[str, SessionLike] = {}
        #: sessions made for resources' auth, by auth (and a dry run's): closed by :meth:`close`
        self._made: dict[str, Any] = {}

    def log(self, message: str, level: int = logging.INFO) -> None:
        """A progress line, masked; below ``log_level`` it is dropped."""
        if self._log is None:
            logger.log(level, self.ctx.mask(message))
        elif level >= self.level:
            self._log(self.ctx.mask(message))

    # -- building blocks ----------------------------------------------------------------------
    def _use_auth(self, res: ResourceSpec, ctx: dict[str, Any]) -> None:
        """Run ``res``'s statements with its own ``auth`` (rendered in its context), which
        replaces the session's entry of each provider it names. The variables such an entry
        names (``keyIDenvvar: app_key_id``) are read from the stack's variables (an export, a
        global, ``-e``), then from the environment, as stackql-deploy does."""
        if not res.auth:
            self._sessions.pop(res.name, None)
            return
        auth = self.ctx.render_value(
            res.auth, ctx, line=res.line, what=f"'auth' of resource {res.name!r}"
        )
        names = {
            str(v)
            for entry in auth.values()
            if isinstance(entry, dict)
            for k, v in entry.items()
            if str(k).lower().endswith(("envvar", "_var"))
        }
        variables = {n: str(ctx[n]) for n in names if n in ctx and ctx[n] is not None}
        key = json.dumps([auth, variables], sort_keys=True, default=str)
        if key not in self._made:
            derive = getattr(self.session, "derived", None)
            if derive is None:
                raise self._error(res, None, "has an 'auth' that this session cannot take")
            base = dict(getattr(getattr(self.session, "settings", None), "auth", None) or {})
            try:
                self._made[key] = derive(auth={**base, **auth}, auth_vars=variables)
            except StackqlTuningError as e:
                raise self._error(
                    res, None, f"has an 'auth' that is not valid: {e.message}"
                ) from None
        self._sessions[res.name] = self._made[key]

    def close(self) -> None:
        """Close the sessions made for resources' own auth."""
        for session in self._made.values():
            session.close()
        self._made.clear()
        self._sessions.clear()

    def _render(self, res: ResourceSpec, anchor: Anchor, ctx: dict[str, Any]) -> str:
        text = render(
            anchor.text,
            ctx,
            source=anchor.file,
            line=anchor.body_line,
            what=f"anchor {anchor.name}",
            resource=res.name,
        )
        masked = self.ctx.mask(text.strip())
        self.report.queries.append((res.name, anchor.name, masked))
        if self.show_queries or self.dry_run:
            verb = "would run" if self.dry_run else "running"
            line = f"[{res.name}] {verb} /*+ {anchor.name} */:\n{masked}"
            waiting = self._stand_in_branches(anchor, ctx) if self.dry_run else []
            if waiting:
                # teardown --dry-run showed only the DELETE where the run stops the job first
                line += (
                    f"\n(its template branches on {', '.join(waiting)}, which only a real run "
                    "reads: the statements above follow the dry run's stand-in, not the value)"
                )
            if self._log is None:
                logger.warning(line)
            else:
                self._log(line)
        return text

    def _stand_in_branches(self, anchor: Anchor, ctx: dict[str, Any]) -> list[str]:
        """The variables holding a dry run's stand-in (an export) that ``anchor``'s template
        tests in an ``{% if %}`` or ``{% elif %}``."""
        tests = " ".join(_BRANCH.findall(anchor.text))
        return sorted(
            name
            for name, value in ctx.items()
            if isinstance(value, str)
            and value in self.ctx.stand_ins
            and re.search(rf"\b{re.escape(name)}\b", tests)
        )

    def _statements(
        self, res: ResourceSpec, anchor: Anchor, ctx: dict, *, allow_empty: bool = False
    ) -> Sequence[Statement]:
        text = self._render(res, anchor, ctx)
        try:
            # pad so that statement lines are the lines of the .iql file
            source = rendered_source(anchor.file, anchor.text, text)
            statements = self.parse("\n" * (anchor.body_line - 1) + text, source=source)
        except StackqlTuningError as e:
            self._locate(e, res, anchor)
            raise
        if not statements and not allow_empty:
            raise self._error(res, anchor, f"anchor {anchor.name!r} holds no statement")
        if anchor.name in READ_ANCHORS:  # (what jinja wrote: the template was checked)
            for stmt in statements:
                if stmt.kind in CHANGES:
                    raise read_anchor_change(
                        anchor, res.name, stmt.kind, stmt.line, "nothing of the anchor was run"
                    )
        if self.dry_run:
            self._plan(res, anchor, statements)
        return statements

    def _plan(self, res: ResourceSpec, anchor: Anchor, statements: Sequence[Statement]) -> None:
        """A dry run plans each statement as ``exec --dry-run`` does, with no call: a mistyped
        table or column is its error now, not after a real build created what came before.
        A statement that holds an export's stand-in (``<job_id>``: only the build reads its
        value) is left to the build; so is every statement of a session that cannot plan
        without calling (a library caller's own), and of an anchor with local SQL (CREATE
        TEMP TABLE ...: a dry run runs it not, and what reads it would not find it)."""
        if any(stmt.kind == "other" for stmt in statements):
            return
        session = self._sessions.get(res.name, self.session)
        if not getattr(getattr(session, "settings", None), "dry_run", False):
            derive = getattr(session, "derived", None)
            if derive is None:
                return
            key = f"dry run {id(session)}"
            if key not in self._made:
                self._made[key] = derive(dry_run=True)
            session = self._made[key]
        for stmt in statements:
            if any(stand_in in stmt.text for stand_in in self.ctx.stand_ins):
                continue
            try:
                session.execute(stmt)
            except StackqlTuningError as e:
                self._locate(e, res, anchor, stmt)
                raise

    def _execute(self, res: ResourceSpec, anchor: Anchor, stmt: Statement, attempts: int) -> Result:
        delay = anchor.option("retry_delay", 0)
        for attempt in range(1, attempts + 1):
            try:
                result = self._sessions.get(res.name, self.session).execute(stmt)
                if result.failures:
                    raise self._failed_calls(res, anchor, stmt, result)
                cut = result.cut_short
                if cut:
                    raise ProviderError(
                        self.ctx.mask(
                            f"resource {res.name!r}: its /*+ {anchor.name} */ query read only "
                            f"part of the rows ({cut[0]}), and deploy takes no decision on a "
                            "partial read"
                        ),
                        hint="run deploy without --page-limit (or with a higher one)",
                    )
                return result
            except RETRYABLE as e:
                if attempt == attempts:
                    self._locate(e, res, anchor, stmt)
                    raise
                self.log(
                    f"[{res.name}] /*+ {anchor.name} */ failed (attempt {attempt}/"
                    f"{attempts}): {e.message}; retrying in {delay}s"
                )
                self.sleep(delay)
            except StackqlTuningError as e:
                self._locate(e, res, anchor, stmt)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _failed_calls(
        self, res: ResourceSpec, anchor: Anchor, stmt: Statement, result: Result
    ) -> ProviderError:
        """The error of a statement that went on past failed calls (``--on-error continue``, or
        an ``ON_ERROR=CONTINUE`` hint): a deploy decides whether a resource exists, is in its
        state, what it exports and whether it is gone from what a read returns, so a read that
        missed some of what it asked for is no answer; and a mutation that failed in part did
        not do what the anchor says. Either stops the resource, whatever ``--on-error`` says."""
        failures = list(result.failures)
        n = len(failures)
        calls = f"{n} call{'s' if n != 1 else ''}"
        if stmt.kind in CHANGES:
            what = f"{calls} of its /*+ {anchor.name} */ {stmt.kind.upper()} failed"
            what += " (deploy stops at a failed call, whatever --on-error says)"
            hint = "fix the failed calls and run it again"
        else:
            what = (
                f"{calls} of its /*+ {anchor.name} */ query failed, and deploy takes no "
                "decision on a partial read (whatever --on-error says)"
            )
            hint = "run it again once the failed calls succeed"
        first = f": {failures[0].describe()}" if n == 1 else ""
        return ProviderError(
            self.ctx.mask(f"resource {res.name!r}: {what}{first}"), failures=failures, hint=hint
        )

    def _mutate(
        self,
        res: ResourceSpec,
        anchor: Anchor,
        ctx: dict[str, Any],
        attempts: int | None = None,
        statements: Sequence[Statement] | None = None,
    ) -> list[StackqlTuningError]:
        """Run a mutation anchor's statements (``statements``: already rendered and parsed);
        the errors of those that failed and were ignored (a ``multi`` resource's)."""
        if attempts is None:
            attempts = anchor.option("retries", 0) + 1
        if statements is None:
            statements = self._statements(res, anchor, ctx)
        ignored: list[StackqlTuningError] = []
        for stmt in statements:
            try:
                result = self._execute(res, anchor, stmt, attempts)
            except StackqlTuningError as e:
                if res.type != "multi":
                    raise
                self.log(f"[{res.name}] /*+ {anchor.name} */ failed, ignored (multi): {e}")
                ignored.append(e)
                continue
            for message in result.messages:
                self.log(f"[{res.name}] {message}")
        return ignored

    def _count(
        self,
        res: ResourceSpec,
        anchor: Anchor,
        ctx: dict[str, Any],
        *,
        want: int | None = None,
        attempts: int = 1,
        delay: int | None = None,
    ) -> int | None:
        """Run an exists/statecheck anchor; with ``want``, retry until the count is ``want``."""
        statements = self._statements(res, anchor, ctx)
        if self.dry_run:
            return None
        delay = anchor.option("retry_delay", 0) if delay is None else delay
        count = 0
        for attempt in range(1, attempts + 1):
            result = None
            for stmt in statements:
                result = self._execute(res, anchor, stmt, 1)
            count = self._shape_count(res, anchor, result)
            if want is None or count == want or attempt == attempts:
                break
            self.log(
                f"[{res.name}] /*+ {anchor.name} */ returned count {count}, want {want} "
                f"(attempt {attempt}/{attempts}); checking again in {delay}s"
            )
            self.sleep(delay)
        return count

    def _shape_count(self, res: ResourceSpec, anchor: Anchor, result: Result | None) -> int:
        columns = [c.lower() for c in result.columns] if result is not None else []
        rows = result.rows if result is not None else []
        if len(rows) != 1 or "count" not in columns:
            raise self._error(
                res,
                anchor,
                f"the {anchor.name} query must return exactly one row with a "
                f"'count' column; it returned {len(rows)} row(s) with columns {columns}",
                hint="write it as SELECT count(*) AS count FROM ... WHERE ...",
            )
        value = rows[0][columns.index("count")]
        try:
            count = int(value)
        except (TypeError, ValueError):
            count = -1
        if count not in (0, 1):
            raise self._error(
                res,
                anchor,
                f"the {anchor.name} query returned count {value!r}; it must be 0 or "
                "1 (it has to identify exactly one resource)",
                hint="make the WHERE clause match one resource (name, id, state)",
            )
        return count

    def _exports(
        self,
        res: ResourceSpec,
        anchors: dict[str, Anchor],
        ctx: dict,
        *,
        required: bool = True,
        gone: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """``res``'s exports, read by its exports anchor (with its retries while it returns
        no row, unless ``gone()``, asked once after the first empty read, says there is
        nothing to wait for)."""
        anchor = anchors.get("exports")
        if anchor is None:
            if res.exports:
                raise self._error(res, None, "declares exports but has no /*+ exports */ anchor")
            return {}
        if not res.exports and res.type != "query":
            return {}
        statements = self._statements(res, anchor, ctx)
        if self.dry_run:
            for e in res.exports:
                self.ctx.stand_ins.add(f"<{e.alias}>")
                self._set(res, e.alias, f"<{e.alias}>", ctx)
            return {e.alias: f"<{e.alias}>" for e in res.exports}
        attempts, delay = anchor.option("retries", 0) + 1, anchor.option("retry_delay", 0)
        rows: list[dict[str, Any]] = []
        for attempt in range(1, attempts + 1):
            result = None
            for stmt in statements:
                result = self._execute(res, anchor, stmt, 1)
            rows = result.to_dicts() if result is not None else []
            if rows or attempt == attempts or (attempt == 1 and gone is not None and gone()):
                break
            self.sleep(delay)
        if len(rows) != 1:
            if not rows and not required:
                return {}
            raise self._error(
                res,
                anchor,
                f"the exports query must return exactly one row; it returned {len(rows)}",
                hint="make the WHERE clause match exactly one resource",
            )
        row = rows[0]
        pairs = [(e.column, e.alias) for e in res.exports] or [(c, c) for c in row]
        missing = [c for c, _ in pairs if c not in row]
        if missing:
            raise self._error(
                res,
                anchor,
                f"the exports query has no column {', '.join(map(repr, missing))}; "
                f"it returned {list(row)}",
                hint="alias the columns: SELECT x AS name ...",
            )
        assert result is not None  # a row came from it
        types = dict(zip(unique_names(result.columns), result.types, strict=True))
        out: dict[str, Any] = {}
        for column, alias in pairs:
            self._set(res, alias, row[column], ctx)
            self.ctx.value_types[alias] = types.get(column)  # for the output file's JSON
            out[alias] = self.ctx.masked_value(row[column])
        return out

    def _set(self, res: ResourceSpec, name: str, value: Any, ctx: dict[str, Any]) -> None:
        self.ctx.export(name, value, protected=name in res.protected)
        ctx[name] = value

    # -- errors -------------------------------------------------------------------------------
    def _error(
        self, res: ResourceSpec, anchor: Anchor | None, message: str, hint: str | None = None
    ) -> ManifestError:
        where = f", anchor {anchor.name}" if anchor else ""
        return ManifestError(
            self.ctx.mask(f"resource {res.name!r} {message}"),
            location=Location(
                file=anchor.file if anchor else str(res.file),
                line=anchor.line if anchor else None,
                resource=f"resource {res.name}{where}",
            ),
            hint=hint,
        )

    def _locate(
        self,
        e: StackqlTuningError,
        res: ResourceSpec,
        anchor: Anchor,
        stmt: Statement | None = None,
    ) -> None:
        loc = e.location
        if loc.file is None:
            loc.file = anchor.file
            loc.line = stmt.line if stmt is not None else anchor.body_line
        where = f"resource {res.name}, anchor {anchor.name}"
        if loc.resource is None:
            loc.resource = where
        elif not loc.resource.startswith("resource "):  # a provider table: which one's anchor
            loc.resource = f"{where}, {loc.resource}"
        self._mask_error(e)

    def _mask_error(self, e: StackqlTuningError) -> None:
        e.message = self.ctx.mask(e.message)
        e.args = (e.message,)
        if e.excerpt:
            e.excerpt = self.ctx.mask(e.excerpt)
        if isinstance(e, ProviderError) and e.failures:
            # the failed calls are printed under the message: their params and replies too
            e.failures = [
                replace(
                    f,
                    params={k: self.ctx.masked_value(v) for k, v in f.params.items()},
                    message=self.ctx.mask(f.message),
                )
                for f in e.failures
            ]
