"""The Session: owns the registry, the settings, the transports and the DuckDB connection.

``Session.execute(sql)`` parses one statement, dispatches it by kind to its handler and returns a
:class:`~stackql_tuning.result.Result`. The CLI, the shell, scripts and manifests all go through
this one entry point. A Session runs one statement at a time: calls from several threads take
turns (one Session per thread runs statements side by side). Heavy modules (duckdb, boto3,
google-auth) are imported by the handlers that need them, never at import time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackql_tuning.errors import Cancelled, Location, ParseError, StackqlTuningError, UsageError
from stackql_tuning.registry.loader import Registry, default_registry
from stackql_tuning.result import Result
from stackql_tuning.settings import Settings
from stackql_tuning.sql.locate import line_col
from stackql_tuning.sql.statement import Statement
from stackql_tuning.textfile import SURROGATE_HINT, lone_surrogate

if TYPE_CHECKING:
    from stackql_tuning.sql.params import Params


@dataclass
class Progress:
    """What a running statement has done so far (for the shell's progress line)."""

    #: calls (a call's pages are one call) ended, and planned so far
    calls_done: int
    calls_total: int
    rows: int
    #: pages (requests) fetched
    pages: int = 0


def _check_default_names(defaults: dict[str, list[Any]], registry: Registry) -> None:
    """Every ``defaults`` key names a parameter of some provider table, as the config file's
    ``[defaults]`` must."""
    from stackql_tuning.config import check_default_name

    known = {n.lower(): n for n in registry.param_names()}
    for name in defaults:
        check_default_name(name, known)


_DOLLAR_WORD = re.compile(r"\$\w")


def _bound(text: str, params: Params | None, source: str | None) -> str:
    """``text`` with ``params`` bound (``sql.params``); text that may hold a placeholder is
    checked even without params (DuckDB said only "Values were not provided")."""
    # "$" alone is common in JSON paths ('$.a'): only "$" before a name or a number may be a
    # placeholder, and only then is the text tokenized a second time
    if params is None and "?" not in text and not _DOLLAR_WORD.search(text):
        return text
    from stackql_tuning.sql.params import bind

    return bind(text, params, source=source)


def check_no_placeholders(text: str, source: str | None) -> None:
    """A located UsageError for a placeholder in ``text``, which is run without values (the
    CLI's SQL; DuckDB said only "Values were not provided for the following parameters")."""
    try:
        _bound(text, None, source)
    except UsageError as e:
        e.hint = (
            "the command line gives no values for placeholders: write the value in the SQL, "
            "or use --var NAME=VALUE and {{ NAME }}"
        )
        raise


def _check_text(sql: object, method: str) -> None:
    """Refuse what is not SQL text (None, bytes, a number, a str with a lone surrogate) with a
    UsageError."""
    if isinstance(sql, str):
        at = lone_surrogate(sql)
        if at is not None:  # DuckDB said "Python Conversion Failure: cannot encode str"
            line, column = line_col(sql, at)
            raise UsageError(
                f"the SQL is not text: it holds a lone surrogate {sql[at]!a}",
                location=Location(line=line, column=column),
                hint=SURROGATE_HINT,
            )
        return
    hint = f'e.g. session.{method}("SHOW PROVIDERS")'
    if isinstance(sql, (bytes, bytearray)):
        hint = f"decode it first: session.{method}(sql.decode())"
    raise UsageError(f"{method}() needs SQL text (a str), got {type(sql).__name__}", hint=hint)


class Session:
    def __init__(self, registry: Registry | None = None, **settings: Any) -> None:
        self.registry = registry or default_registry()
        self.settings = Settings.from_values(settings)
        if self.settings.defaults:
            _check_default_names(self.settings.defaults, self.registry)
        #: called from worker threads as calls complete
        self.progress: Callable[[Progress], None] | None = None
        #: progress lines of long waits (/*+ AWAIT */); None: they go to stderr
        self.notify: Callable[[str], None] | None = None
        self._cancel = threading.Event()
        #: the running statement's calls in flight are given up (``cancel(abandon=True)``)
        self.abandoning = False
        #: held while a statement runs: one DuckDB database and one cancel flag cannot serve
        #: two statements at once (threads sharing a Session got each other's rows)
        self._running = threading.RLock()
        self._state: dict[str, Any] = {}
        #: time.monotonic() when the running statement started (for --timeout)
        self.statement_started = 0.0
        self._closed = False
        self._depth = 0  # entry points entered by the running statement (_top_level)
        #: (lower-case) param -> where its default was set, for messages: the config file's
        #: [defaults], AWS_REGION (``from_env``); a default not named here is the Session's own
        self.defaults_origin: dict[str, str] = {}

    @classmethod
    def from_env(
        cls,
        registry: Registry | None = None,
        *,
        fallback_defaults: dict[str, list[Any]] | None = None,
        **settings: Any,
    ) -> Session:
        """A session whose unset settings come from the config file and the environment (auth,
        endpoints, the AWS region). ``fallback_defaults``: param defaults for what neither
        ``defaults``, the config file nor the environment sets (the sandbox's own region).
        ``accounts`` given here and the config file's ``[aws.accounts]`` are merged; on the
        same account id the one given here wins."""
        import os

        from stackql_tuning.config import accounts_from_env, default_path, load_config
        from stackql_tuning.transports.auth import parse_auth

        registry = registry or default_registry()
        path = settings.pop("config", None)
        config = load_config(path, registry.param_names)
        config_file = f"the config file {str(path if path is not None else default_path())!r}"
        # the config file's named accounts are added to those given (the sandbox's own); on
        # the same account id the given entry wins, as every given setting beats the config
        # file: the sandbox's data of its accounts is reachable only through its own role
        # (it once replaced the whole [aws.accounts] table of the config file)
        accounts = dict(config.pop("accounts", {}))
        accounts.update(accounts_from_env())  # $STACKQL_TUNING_ACCOUNTS: `sandbox serve`'s
        accounts.update(settings.get("accounts") or {})
        if accounts:
            settings["accounts"] = accounts
        # the config file's [defaults] are kept where the given ones name other params (the
        # given table replaced the whole of it: fewer regions read, and no word)
        given_defaults = dict(settings.get("defaults") or {})
        from_file = dict(config.pop("defaults", None) or {})
        settings["defaults"] = {**from_file, **given_defaults}
        origin = {k.lower(): f"set in [defaults] of {config_file}" for k in from_file}
        for key, value in config.items():
            settings.setdefault(key, value)
        if "auth" not in settings or settings["auth"] is None:
            settings["auth"] = parse_auth(None)
        origin.update((k.lower(), "set in the defaults given") for k in given_defaults)
        variable = next((v for v in ("AWS_REGION", "AWS_DEFAULT_REGION") if os.environ.get(v)), "")
        defaults = dict(settings.get("defaults") or {})
        if variable and "region" not in defaults:
            defaults["region"] = [os.environ[variable]]  # as boto3 and the AWS CLI do
            origin["region"] = f"set by ${variable}"
        for key, values in (fallback_defaults or {}).items():
            if key not in defaults:
                defaults[key] = list(values)
                origin[key.lower()] = "the sandbox's fallback under --sandbox"
        settings["defaults"] = defaults
        settings.setdefault("google_endpoint", os.environ.get("STACKQL_TUNING_GOOGLE_ENDPOINT"))
        settings.setdefault("aws_endpoint", os.environ.get("AWS_ENDPOINT_URL"))
        session = cls(registry, **settings)
        session.defaults_origin = origin
        return session

    # -- lazily built parts -------------------------------------------------------------------
    @property
    def store(self) -> Any:
        """The DuckDB store (imports duckdb on first use)."""
        if "store" not in self._state:
            self._check_open()  # it built a new, empty database after close()
            from stackql_tuning.run.store import Store

            store = Store(file_access=self.settings.file_access)
            # a query that starts after a cancel came stops at once (DuckDB's interrupt stops
            # only a query that runs)
            store.cancelled = self._cancel.is_set
            self._state["store"] = store
        return self._state["store"]

    def compares_binary(self) -> bool:
        """Whether DuckDB compares text as the APIs do, byte for byte: no ``SET
        default_collation = 'nocase'`` (which only a statement of this session can set), under
        which a filter sent to an API would drop rows that DuckDB's own test keeps."""
        if "store" not in self._state:
            return True  # a new database's default
        return str(self._state["store"].collation()).lower() in ("", "binary")

    @property
    def store_starting(self) -> bool:
        """Whether reading ``store`` now would wait for DuckDB's start-up (the session has no
        store yet, and no database started in the background is ready for it)."""
        if "store" in self._state:
            return False
        from stackql_tuning.run.store import started_already

        return not started_already()

    @property
    def user_views(self) -> dict[tuple[str, str, str], Any]:
        """The live views this session's statements defined (``CREATE VIEW`` over provider
        tables: ``plan.user_views``), by (catalog, schema, name); they go with the store."""
        views: dict[tuple[str, str, str], Any] = self._state.setdefault("user_views", {})
        return views

    @property
    def in_transaction(self) -> bool:
        """Whether a BEGIN of this session's has not yet been ended by COMMIT or ROLLBACK."""
        return bool(self._state.get("in_transaction"))

    @in_transaction.setter
    def in_transaction(self, value: bool) -> None:
        self._state["in_transaction"] = value

    @property
    def user_view_defs(self) -> dict[str, Any]:
        """Every live view this session defined, by the token of its placeholder in DuckDB's
        catalog, dropped ones too (a ROLLBACK may bring a placeholder back):
        ``user_views`` is those whose placeholder is there now."""
        defs: dict[str, Any] = self._state.setdefault("user_view_defs", {})
        return defs

    @property
    def fetcher(self) -> Any:
        """The transports (each SDK imported on first use of its provider)."""
        if "fetcher" not in self._state:
            self._check_open()
            from stackql_tuning.run.fetch import Fetcher

            self._state["fetcher"] = Fetcher(self.settings, self.registry)
        return self._state["fetcher"]

    # -- entry points -------------------------------------------------------------------------
    def execute(
        self, sql: str | Statement, params: Params | None = None, *, source: str | None = None
    ) -> Result:
        """Run exactly one statement (text or parsed) and return its result.

        ``params``: values for the statement's placeholders, bound as SQL literals (never as
        SQL): a list or tuple for ``?`` (in order) or ``$1``, ``$2``; a mapping for ``$name``.
        ``session.execute("SELECT * FROM t WHERE region = ?", ["us-east-1"])``.

        Raises a :class:`~stackql_tuning.errors.StackqlTuningError` (its subclasses say what
        failed: ParseError, PlanError, ProviderError, StatementTimeout, Cancelled, ...)."""
        if isinstance(sql, Statement):
            if params is not None:
                raise UsageError("params go with SQL text, not with a parsed Statement")
            return self.execute_statement(sql)
        _check_text(sql, "execute")
        self._check_open()
        with self._running, self._top_level():
            return self._execute_text(sql, source, params)

    def _execute_text(self, sql: str, source: str | None, params: Params | None) -> Result:
        sql = _bound(sql, params, source)
        if "store" not in self._state:
            from stackql_tuning.run.store import prewarm_for

            # DuckDB starts while the statement is parsed and planned; a query's own first
            # calls leave before it starts (see prewarm_for)
            prewarm_for(sql, queries=False)
        from stackql_tuning.sql import parse

        statements = parse(sql, source=source)
        if not statements:
            raise ParseError("no statement to run", hint="write a statement, e.g. SHOW PROVIDERS")
        if len(statements) > 1:
            raise ParseError(
                f"execute() runs one statement, got {len(statements)}",
                hint="use execute_script() for several statements",
            )
        return self.execute_statement(statements[0])

    def execute_script(
        self, text: str, params: Params | None = None, *, source: str | None = None
    ) -> list[Result]:
        """Run the statements of ``text`` in order and return their results; the first error
        stops the script (the statements before it were run: their results are the error's
        ``results``, e.g. the names an INSERT ... RETURNING created). ``params`` as for
        :meth:`execute`, numbered across the whole text. :meth:`iter_script` yields each result
        as its statement ends."""
        results: list[Result] = []
        try:
            for result in self.iter_script(text, params, source=source):
                results.append(result)
        except StackqlTuningError as e:
            e.results = results
            raise
        return results

    def iter_script(
        self, text: str, params: Params | None = None, *, source: str | None = None
    ) -> Iterator[Result]:
        """:meth:`execute_script`, lazily: each statement runs when the next result is asked
        for (nothing runs until then)."""
        _check_text(text, "execute_script")
        self._check_open()
        from stackql_tuning.sql import parse

        statements = parse(_bound(text, params, source), source=source)
        for stmt in statements:
            try:
                result = self.execute_statement(stmt)
            except StackqlTuningError as e:
                if e.location.line is None and len(statements) > 1:
                    # which statement of the text failed (a provider's error has no place
                    # of its own in the SQL; a file's statements are located already)
                    e.location.line = stmt.line
                raise
            yield result

    def execute_statement(self, stmt: Statement) -> Result:
        from stackql_tuning.handlers import run_statement

        self._check_open()
        with self._running, self._top_level():
            if self._cancel.is_set():  # cancelled while its text was parsed
                raise Cancelled("statement cancelled before it started")
            return run_statement(self, stmt)

    @contextmanager
    def _top_level(self) -> Iterator[None]:
        """(under ``_running``) A statement's start: the cancel flag is cleared once, when the
        outermost entry point begins, not again after the text was parsed (a ``cancel()`` made
        while it was parsed was lost, and the statement ran to its end)."""
        if self._depth == 0:
            self._cancel.clear()
            self.abandoning = False
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def cancel(self, *, abandon: bool = False) -> None:
        """Stop the running statement: a read at once (its calls in flight are left to finish
        unseen; a DuckDB query is stopped); a change sends no further call and waits for the
        calls in flight, unless ``abandon`` (then they are reported as outcome unknown)."""
        if abandon:
            self.abandoning = True
        self._cancel.set()
        store = self._state.get("store")
        if store is not None:
            store.interrupt()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def derived(self, **changes: Any) -> Session:
        """A session like this one but for ``changes`` to its settings (a deploy resource's own
        auth), with its own connections and database; close it when done."""
        import dataclasses

        other = Session(self.registry)
        other.settings = dataclasses.replace(self.settings, **changes)
        other.progress, other.notify = self.progress, self.notify
        return other

    def _check_open(self) -> None:
        # a statement after close() ran in a new, empty database: the session's tables and
        # views were gone without a word
        if self._closed:
            raise UsageError(
                "this Session is closed: its database (tables, views) went with it",
                hint="open a new Session, or keep using this one inside its `with` block",
            )

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the database and the connections; further statements are refused. Closing
        twice is harmless."""
        self._closed = True
        for closer in list(self._state.values()):
            close = getattr(closer, "close", None)
            if callable(close):
                close()
        self._state.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
