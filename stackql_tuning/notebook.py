"""The IPython / Jupyter magic: ``%load_ext stackql_tuning``, then ``%%stackql_tuning`` cells.

    %load_ext stackql_tuning
    %%stackql_tuning --sandbox -o jobs
    SELECT displayName, state FROM google.aiplatform.hyperparameter_tuning_jobs
    WHERE projectsId = 'demo-project' AND locationsId = 'us-central1';

A cell runs its statements in order on one Session kept on the IPython instance (built from the
environment like the CLI's, or against a sandbox started by ``--sandbox``), prints each
statement's messages and warnings, displays the rows of every statement but the last, and
returns the last statement's rows as a pandas DataFrame (``result.relation.df()``; the DuckDB
relation itself when pandas is missing). ``%stackql_tuning`` on one line does the same for the
rest of its line, or only (re)connects when the line holds options alone.

This module holds the option parsing of the magic line, the per-shell state and the cell
runner. It must not format tables (the notebook shows the DataFrame) and it never lets one of
our errors out as a traceback: a :class:`~stackql_tuning.errors.StackqlTuningError` is printed
as text and the magic returns None. IPython itself is imported only by ``load_ipython_extension``.
"""

from __future__ import annotations

import atexit
import importlib.util
import io
import keyword
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stackql_tuning.errors import StackqlTuningError, UsageError, did_you_mean
from stackql_tuning.result import Result

MAGIC_NAME = "stackql_tuning"
_STATE_ATTR = "_stackql_tuning_state"

USAGE = """\
%%stackql_tuning [--sandbox] [--auth JSON] [--var KEY=VALUE ...] [-o NAME] [--reset]
%stackql_tuning [options] [STATEMENT]

  --sandbox         run against a local sandbox of both clouds (started once, stopped at exit)
  --auth JSON       auth configuration in StackQL's shape, e.g. '{"google": {"type": "anonymous"}}'
  --var KEY=VALUE   a jinja variable for {{ KEY }} in the cell (notebook variables are visible too)
  -o, --out NAME    also store the returned DataFrame in the notebook variable NAME
  --reset           close the session (and the sandbox) before this cell
Options that choose the connection (--sandbox, --auth) reconnect; cells without them reuse it."""


@dataclass
class MagicOptions:
    """What the magic line says."""

    sandbox: bool = False
    auth: dict[str, Any] | None = None
    variables: dict[str, str] = field(default_factory=dict)
    out: str | None = None
    reset: bool = False
    help: bool = False
    #: the rest of the line after the options (the statement of a line magic)
    rest: str = ""


def _next_token(text: str, option: str) -> tuple[str, str]:
    """The first shell-quoted word of ``text`` and the text after it."""
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        token = lexer.get_token()
    except ValueError as e:
        raise UsageError(f"{option}: {e}", hint="close the quote of the value") from None
    if token is None or token == lexer.eof:
        raise UsageError(f"{option} needs a value", hint=USAGE.splitlines()[0])
    return token, text[stream.tell() :]


_FLAGS = {"--sandbox": "sandbox", "--reset": "reset", "--help": "help", "-h": "help"}
_VALUED = {"--auth", "--var", "-o", "--out"}


def parse_line(line: str) -> MagicOptions:
    """Parse the options at the start of a magic line; the rest is kept verbatim in ``rest``."""
    from stackql_tuning.sql.template import OneString, parse_pair
    from stackql_tuning.transports.auth import parse_auth

    opts = MagicOptions()
    text = line.strip()
    while text.startswith("-"):
        word, _, after = text.partition(" ")
        word, after = word.strip(), after.lstrip()
        if word in _FLAGS:
            setattr(opts, _FLAGS[word], True)
        elif word in _VALUED:
            value, after = _next_token(after, word)
            if word == "--auth":
                opts.auth = parse_auth(value)
            elif word == "--var":
                key, val = parse_pair(value)
                opts.variables[key] = OneString(val, f"--var {key}", key)
            else:
                if not value.isidentifier() or keyword.iskeyword(value):
                    raise UsageError(
                        f"{word} needs a Python variable name, got {value!r}", hint="e.g. -o jobs"
                    )
                opts.out = value
        else:
            hint = did_you_mean(word, [*_FLAGS, *_VALUED]) or USAGE.splitlines()[0]
            raise UsageError(f"unknown %{MAGIC_NAME} option {word!r}", hint=hint)
        text = after.lstrip()
    opts.rest = text
    return opts


@dataclass
class NotebookState:
    """One shell's connection: the Session, the sandbox it talks to (if any), the last Result."""

    session: Any = None
    sandbox: Any = None
    auth: dict[str, Any] | None = None
    last: Result | None = None
    _atexit: bool = False

    def connect(self, opts: MagicOptions) -> Any:
        """The session for a cell with these options.

        A cell with no connection option (``--sandbox``, ``--auth``) reuses the session. One
        with them describes the whole connection (the sandbox or the environment, and the auth)
        and reconnects only when that differs from the current one.
        """
        chooses = opts.sandbox or opts.auth is not None
        differs = opts.sandbox != (self.sandbox is not None) or opts.auth != self.auth
        if self.session is not None and not (chooses and differs):
            return self.session
        if self.session is not None:
            self.session.close()
            self.session = None
        from stackql_tuning.session import Session

        settings: dict[str, Any] = {}
        fallback = None
        if opts.sandbox:
            from stackql_tuning.sandbox.runner import DEFAULT_REGION

            settings.update(self._start_sandbox().settings())
            fallback = {"region": [DEFAULT_REGION]}  # as the CLI's --sandbox
        elif self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        if opts.auth is not None:
            # with the sandbox, the providers it does not name keep the sandbox's own auth
            settings["auth"] = {**settings.get("auth", {}), **opts.auth}
        self.session = Session.from_env(fallback_defaults=fallback, **settings)
        self.auth = opts.auth
        return self.session

    def _start_sandbox(self) -> Any:
        if self.sandbox is None:
            from stackql_tuning.sandbox.runner import Sandbox

            sandbox = Sandbox()
            sandbox.start()
            self.sandbox = sandbox
            if not self._atexit:
                atexit.register(self.close)
                self._atexit = True
            print(
                f"sandbox started: Vertex AI at {sandbox.google.url}, "
                f"AWS SageMaker at {sandbox.aws.url}",
                file=sys.stderr,
            )
        return self.sandbox

    def close(self) -> None:
        """Close the session and stop the sandbox (idempotent)."""
        if self.session is not None:
            self.session.close()
            self.session = None
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        self.auth = None


def state_of(shell: Any) -> NotebookState:
    """The state kept on an IPython shell (created on first use)."""
    state = getattr(shell, _STATE_ATTR, None)
    if state is None:
        state = NotebookState()
        setattr(shell, _STATE_ATTR, state)
    return state


def _template_variables(namespace: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    # a notebook's own `env` (env = "prod") does not hide the environment's {{ env.NAME }}
    names = {k: v for k, v in namespace.items() if not k.startswith("_") and k != "env"}
    names.update(given)
    return names


def _render(text: str, opts: MagicOptions, namespace: Mapping[str, Any]) -> str:
    from stackql_tuning.sql.template_markers import is_template

    if not opts.variables and not is_template(text):
        return text
    from stackql_tuning.sql.template import render_script

    variables = _template_variables(namespace, opts.variables)
    return render_script(text, variables=variables, source="<cell>")


def report(result: Result) -> None:
    """Print a result's messages, warnings and tolerated failures (as the CLI does, on stderr)."""
    for line in result.messages:
        print(line, file=sys.stderr)
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    if result.failures:
        print(
            f"{len(result.failures)} call(s) failed; the rows that arrived are kept:",
            file=sys.stderr,
        )
        for failure in result.failures:
            print(f"  - {failure.describe()}", file=sys.stderr)


def frame(result: Result) -> Any:
    """The result as a pandas DataFrame (a DuckDB relation without pandas; None without rows)."""
    if not result.has_rows:
        return None
    if importlib.util.find_spec("pandas") is None:
        return result.relation
    return result.relation.df()


def run_magic(
    shell: Any, line: str, cell: str | None, display: Callable[[Any], None] | None = None
) -> Any:
    """Run one ``%stackql_tuning`` line or ``%%stackql_tuning`` cell; see the module docstring."""
    state = state_of(shell)
    try:
        opts = parse_line(line)
        if opts.help:
            print(USAGE)
            return None
        text = cell if cell is not None else opts.rest
        if opts.reset:
            state.close()
        if not text.strip() and not (opts.sandbox or opts.auth is not None):
            return None  # a line with options only: --reset, or nothing to do
        session = state.connect(opts)
        if not text.strip():
            return None
        text = _render(text, opts, getattr(shell, "user_ns", {}))
        results = list(_run(session, text, display))
        if not results:
            raise UsageError("the cell holds no statement", hint="write e.g. SHOW PROVIDERS")
        state.last = results[-1]
        value = frame(results[-1])
        if opts.out is not None:
            shell.user_ns[opts.out] = value
        return value
    except StackqlTuningError as e:
        print(str(e), file=sys.stderr)
        return None
    except KeyboardInterrupt:
        if state.session is not None:
            state.session.cancel()
        print("interrupted", file=sys.stderr)
        return None


def _run(session: Any, text: str, display: Callable[[Any], None] | None) -> Iterator[Result]:
    """Run the statements; show the rows of each but the last as soon as it completes.

    A statement's rows are shown before the next statement runs, so a later statement that
    fails (its error is printed by :func:`run_magic`) never hides the rows that came before.
    """
    from stackql_tuning.sql import parse

    statements = parse(text, source="<cell>")
    for index, stmt in enumerate(statements):
        result = session.execute_statement(stmt)
        report(result)
        if index < len(statements) - 1 and result.has_rows and display is not None:
            display(frame(result))
        yield result


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%stackql_tuning`` / ``%%stackql_tuning`` on ``ipython``."""
    from IPython.display import display

    def stackql_tuning(line: str, cell: str | None = None) -> Any:
        return run_magic(ipython, line, cell, display)

    stackql_tuning.__doc__ = USAGE
    ipython.register_magic_function(stackql_tuning, magic_kind="line_cell", magic_name=MAGIC_NAME)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext stackql_tuning``: close the session, stop the sandbox, drop the magic."""
    state = getattr(ipython, _STATE_ATTR, None)
    if state is not None:
        state.close()
        delattr(ipython, _STATE_ATTR)
    magics = getattr(getattr(ipython, "magics_manager", None), "magics", {})
    for kind in ("line", "cell"):
        magics.get(kind, {}).pop(MAGIC_NAME, None)


__all__ = [
    "MagicOptions",
    "NotebookState",
    "frame",
    "load_ipython_extension",
    "parse_line",
    "run_magic",
    "unload_ipython_extension",
]
