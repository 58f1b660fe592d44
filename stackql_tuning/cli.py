"""The command line: a thin layer over :class:`~stackql_tuning.session.Session`.

    stackql-tuning [global options] exec "SQL" | -f file.iql
    stackql-tuning [global options] shell
    stackql-tuning [global options] deploy build|test|teardown STACK_DIR STACK_ENV
    stackql-tuning deploy init NAME --provider google|aws
    stackql-tuning sandbox serve [--port-google N] [--port-aws M]
    stackql-tuning registry generate [--out DIR] | registry docs [--out DIR]

Exit codes: 0 ok, 1 statement/provider error, 2 usage error, 3 partial result
(``--on-error continue`` with failed calls), 141 stdout closed with statements left to run
(``| head``; 0 when the cut result was the last). Errors print as one or two lines, never a
traceback (set STACKQL_TUNING_DEBUG=1 to see one for an internal error).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn, TextIO

from stackql_tuning.cli_args import FORMATS, build_parser, check_option_names
from stackql_tuning.errors import OutputClosed, PartialResult, StackqlTuningError, UsageError
from stackql_tuning.settings import NUMERIC_RULES, check_numeric
from stackql_tuning.textfile import read_text

__all__ = ["COMMANDS", "FORMATS", "build_parser", "main", "run"]


def _opt(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    return getattr(args, name, default)


@contextmanager
def open_session(args: argparse.Namespace) -> Iterator[Any]:
    from stackql_tuning.session import Session
    from stackql_tuning.transports.auth import parse_auth

    settings: dict[str, Any] = {
        "concurrency": _opt(args, "concurrency", 16),
        "page_limit": _opt(args, "page_limit"),
        "timeout": _opt(args, "timeout"),
        "on_error": _opt(args, "on_error", "fail"),
        "dry_run": bool(_opt(args, "dry_run", False)),
        "cache_ttl": _opt(args, "cache_ttl"),
        "pushdown": not _opt(args, "no_pushdown", False),
        "projection": not _opt(args, "no_projection", False),
        "partial_response": not _opt(args, "no_partial_response", False),
        "config": _opt(args, "config"),
    }
    for flag in ("max_attempts", "rate_limit", "connect_timeout", "read_timeout"):
        value = _opt(args, flag)
        if value is not None:
            settings[flag] = value
    for flag in NUMERIC_RULES:  # the library's own checks, named as the options
        value = _opt(args, flag)
        if value is not None:
            check_numeric(flag, value, label="--" + flag.replace("_", "-"))
    auth = _opt(args, "auth")
    sandbox = None
    if _opt(args, "sandbox", False):
        from stackql_tuning.sandbox.runner import Sandbox

        sandbox = Sandbox()
        sandbox.start()
        settings.update(sandbox.settings())
        if auth is not None:
            # --auth replaces the providers it names: the other keeps the sandbox's own (an AWS
            # query after --auth '{"google": ...}' once went to the default chain, probing IMDS
            # or sending the user's real keys to the sandbox)
            settings["auth"] = {**settings["auth"], **parse_auth(auth)}
    else:
        settings["auth"] = parse_auth(auth)
    # the sandbox's own region, when neither the config file nor the environment names one
    # (it once replaced every [defaults] entry of the config file)
    fallback = None
    if sandbox is not None:
        from stackql_tuning.sandbox.runner import DEFAULT_REGION

        fallback = {"region": [DEFAULT_REGION]}
    session = Session.from_env(fallback_defaults=fallback, **settings)
    try:
        yield session
    finally:
        session.close()
        if sandbox is not None:
            sandbox.stop()


def _print_result(
    result: Any, args: argparse.Namespace, out: TextIO, err: TextIO, *, after: bool = False
) -> int:
    """Write ``result`` (``after``: an earlier result of the run wrote rows to ``out``); the
    exit code it asks for."""
    from stackql_tuning.render import SEPARATED, render
    from stackql_tuning.render.output import failure_report, table_width, writing

    if result.has_rows:
        fmt = str(_opt(args, "output", "table"))
        with writing():  # a closed pipe (`| head`) passes to cmd_exec (output_closed)
            if after and result.columns and fmt.strip().lower() in SEPARATED:
                out.write("\n")
            render(
                result,
                fmt,
                out,
                hide_headers=bool(_opt(args, "hide_headers", False)),
                width=table_width(out),
            )
            out.flush()
    for line in result.messages:
        print(line, file=err)
    for line in result.warnings:
        print(f"warning: {line}", file=err)
    report = failure_report(result)
    for line in report:
        print(line, file=err)
    return PartialResult.exit_code if report else 0


def cmd_exec(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.file is None and args.sql is None:
        raise UsageError(
            "exec needs SQL text or -f FILE", hint='stackql-tuning exec "SHOW PROVIDERS"'
        )
    if args.file is not None and args.sql is not None:
        raise UsageError("give either SQL text or -f FILE, not both")
    variables: dict[str, Any] = {}
    # inline SQL is a template when it looks like one, or when variables are given (the
    # notebook magic's rule): adding an unused --var never changes what a statement means
    from stackql_tuning.sql.template_markers import is_template

    templated = args.sql is not None and is_template(args.sql)
    if args.var or args.vars_file or args.file is not None or templated:
        # jinja is imported only when a template is rendered (start-up of plain statements)
        from stackql_tuning.sql.template import load_vars, render_script, rendered_source

        variables = load_vars(args.var, args.vars_file)
    if args.file is not None:
        source: str | None = str(args.file)
        try:
            if source == "-":  # -f -: the script from stdin
                from stackql_tuning.textfile import decode

                source = "<stdin>"
                text = decode(sys.stdin.buffer.read(), file=source)
            else:
                text = read_text(args.file)
        except OSError as e:
            raise UsageError(f"cannot read {str(args.file)!r}: {e.strerror}") from None
        template, text = text, render_script(text, variables=variables, source=source)
        source = rendered_source(str(source), template, text)
    else:
        text, source = args.sql, None
        if variables or templated:
            text = render_script(text, variables=variables, source="<sql>")
            if rendered_source("<sql>", args.sql, text) != "<sql>":
                source = "<sql> (rendered)"
    from stackql_tuning.run.store import prewarm_for

    prewarm_for(text)  # DuckDB starts while sqlglot is imported and the SQL parsed
    from stackql_tuning.session import check_no_placeholders
    from stackql_tuning.sql import parse

    check_no_placeholders(text, source)
    statements = parse(text, source=source)
    if not statements:
        raise UsageError("no statement to run")
    code, wrote = 0, False
    with open_session(args) as session:
        for i, stmt in enumerate(statements):
            if session.settings.dry_run:
                label = f"{stmt.source}:{stmt.line}" if stmt.source else f"statement {i + 1}"
                print(f"-- {label}\n{stmt.text.strip()};", file=err)
            try:
                result = session.execute(stmt)
            except StackqlTuningError as e:
                _note_not_run(e, statements[i + 1 :])
                if e.partial is not None:  # what it did before it failed (RETURNING rows)
                    with suppress(BrokenPipeError):  # the error is still said (it was exit 0)
                        _print_result(e.partial, args, out, err, after=wrote)
                raise
            try:
                code = max(code, _print_result(result, args, out, err, after=wrote))
            except BrokenPipeError:  # `| head`: no further statement runs (main says so)
                from stackql_tuning.render.output import output_closed

                raise output_closed([s.line for s in statements[i + 1 :]]) from None
            wrote = wrote or bool(result.has_rows and result.columns)
    return code


def _note_not_run(error: StackqlTuningError, left: list[Any]) -> None:
    """Say in ``error``'s hint which statements of the script did not run after it (nothing
    said so: was statement 4 run?)."""
    if not left:
        return
    numbers = list(dict.fromkeys(s.line for s in left))  # several on one line: that line once
    lines = ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")
    many = len(left) > 1
    note = (
        f"{'the ' + str(len(left)) + ' statements' if many else 'the statement'} after it "
        f"{'were' if many else 'was'} not run (line{'s' if len(numbers) > 1 else ''} {lines})"
    )
    error.hint = f"{error.hint}; {note}" if error.hint else note


def cmd_shell(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from stackql_tuning.shell import run_shell

    variables: dict[str, Any] = {}
    if _opt(args, "var") or _opt(args, "vars_file"):  # as exec's: checked before the session
        from stackql_tuning.sql.template import load_vars

        variables = load_vars(args.var, args.vars_file)
    with open_session(args) as session:
        if session.settings.cache_ttl is None:
            session.settings.cache_ttl = 300.0
        return int(
            run_shell(
                session,
                output=_opt(args, "output", "table"),
                hide_headers=bool(_opt(args, "hide_headers", False)),
                pager=False if _opt(args, "no_pager", False) else None,
                stdout=out,
                stderr=err,
                variables=variables,
            )
        )


def cmd_deploy(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import stackql_tuning.deploy as deploy

    if args.action == "init":
        path = deploy.init_stack(args.stack_dir, args.provider, Path.cwd())
        print(f"created stack {path}", file=err)
        return 0
    if not args.stack_env:
        raise UsageError(f"deploy {args.action} needs STACK_DIR and STACK_ENV")
    from stackql_tuning.deploy.context import load_env_vars

    if args.action == "teardown" and args.output_file is not None:
        # (a usage error would break a CI line that gives it to every operation)
        print(
            f"warning: --output-file {args.output_file} is for build and test: teardown exports "
            "nothing, and writes no file",
            file=err,
        )
    env_vars = load_env_vars(args.env_file, args.env, Path(args.stack_dir))
    action: Callable[..., Any] = {
        "build": deploy.build,
        "test": deploy.test,
        "teardown": deploy.teardown,
    }[args.action]

    def log(line: str) -> None:
        print(line, file=err, flush=True)

    with open_session(args) as session:
        report = action(
            session,
            Path(args.stack_dir),
            args.stack_env,
            env_vars=env_vars,
            dry_run=bool(_opt(args, "dry_run", False)),
            show_queries=args.show_queries,
            output_file=args.output_file,
            log=log,
            log_level=args.log_level,
            on_failure=args.on_failure,
        )
    summary = getattr(report, "summary", None)
    if summary:
        print(summary() if callable(summary) else summary, file=err)
    return 0


def cmd_sandbox(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from stackql_tuning.sandbox.runner import serve

    for flag, port in (("--port-google", args.port_google), ("--port-aws", args.port_aws)):
        if not 0 <= port <= 65535:
            raise UsageError(f"{flag} {port} is not a port (0-65535; 0 picks a free one)")
    if args.port_google and args.port_google == args.port_aws:
        raise UsageError(
            f"--port-google and --port-aws are both {args.port_aws}: the two servers need "
            "two ports",
            hint="pick another port for one of them, or 0 for a free one",
        )
    try:
        serve(args.port_google, args.port_aws, args.seed, out=out)
    except BrokenPipeError:  # stdout closed (`| head -1`): the command ends quietly
        raise
    except OSError as e:  # the port is taken, or not ours to open
        raise UsageError(
            f"the sandbox cannot listen on 127.0.0.1 ({args.port_google or 'any'} for Vertex AI, "
            f"{args.port_aws or 'any'} for AWS): {e.strerror or e}",
            hint="pick other ports with --port-google N --port-aws M, or 0 for free ones",
        ) from None
    return 0


def cmd_registry(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    root = Path(__file__).resolve().parent.parent
    if not args.out and not (root / "pyproject.toml").is_file():
        # an installed package: the default is the checkout's folder, which here is
        # site-packages (stray folders that uninstall left behind, and no reader of them)
        raise UsageError(
            f"registry {args.action} writes into the source checkout by default, and this "
            f"stackql-tuning is installed ({root})",
            hint="give --out DIR to write the files there",
        )
    target = (
        Path(args.out)
        if args.out
        else root / ("providers" if args.action == "generate" else "docs")
    )
    named = f"--out {args.out}" if args.out else f"the default output directory {target}"
    existing = next((d for d in (target, *target.parents) if d.exists()), None)
    if existing is not None and not existing.is_dir():
        what = "" if existing == target else f": {existing} is a file"
        raise UsageError(
            f"{named} is not a directory{what}", hint="give --out a directory to write to"
        )
    try:
        if args.action == "generate":
            from stackql_tuning.registry.generator import generate

            paths = generate(target)
        else:
            from stackql_tuning.registry.docs import generate_docs
            from stackql_tuning.registry.loader import Registry

            paths = generate_docs(Registry(), target)
    except OSError as e:  # a path inside it is a file, not ours to write, /proc
        where = f" ({e.filename})" if e.filename and str(e.filename) != str(target) else ""
        raise UsageError(
            f"cannot write {named}{where}: {e.strerror or e}",
            hint="give --out a directory you can write to",
        ) from None
    print(f"wrote {len(paths)} files", file=err)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "exec": cmd_exec,
    "shell": cmd_shell,
    "deploy": cmd_deploy,
    "sandbox": cmd_sandbox,
    "registry": cmd_registry,
}


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    if out is None or err is None:  # closed (`>&-`) or not UTF-8: see render.output
        from stackql_tuning.render.output import standard_error, standard_output

        out = out or standard_output()
        err = err or standard_error()
    parser = build_parser()
    term = _Term()
    try:
        try:
            given = _utf8_args(sys.argv[1:] if argv is None else argv)
            check_option_names(parser, given)
            args = parser.parse_args(given)
        except SystemExit as e:  # --help, --version
            return int(e.code or 0)
        _check_global_options(parser, args)
        with _terminate_as_interrupt(term, args.command in _TERM_AS_INTERRUPT):
            return COMMANDS[args.command](args, out, err)
    except OutputClosed as e:
        # `| head`: when nothing was left to run, the reader just stopped early (exit 0, as
        # before); else what did not run is said, with 141 (128 + SIGPIPE)
        if not e.left:
            return 0
        print(str(e), file=err)
        return e.exit_code
    except StackqlTuningError as e:
        print(str(e), file=err)
        return 143 if term.seen else e.exit_code
    except KeyboardInterrupt:
        print("terminated" if term.seen else "interrupted", file=err)
        return 143 if term.seen else 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug: one line, and the traceback only on request
        if os.environ.get("STACKQL_TUNING_DEBUG"):
            raise
        print(
            f"internal error: {type(e).__name__}: {e} (set STACKQL_TUNING_DEBUG=1 for a "
            "traceback, and please report it)",
            file=err,
        )
        return 1


#: commands that take none of the global options (they were accepted and ignored: `--dry-run
#: registry generate` wrote its files)
_OWN_OPTIONS_ONLY = ("registry", "sandbox")


def _check_global_options(parser: Any, args: argparse.Namespace) -> None:
    if args.command not in _OWN_OPTIONS_ONLY:
        return
    given = [
        a.option_strings[-1]
        for a in parser.global_actions
        if getattr(args, a.dest, a.default) != a.default
    ]
    if given:
        names = ", ".join(given)
        raise UsageError(
            f"{names} {'does' if len(given) == 1 else 'do'} not apply to `{args.command}`: "
            "the global options are for exec, shell and deploy",
            hint=f"stackql-tuning {args.command} --help lists its own options",
        )


#: commands a SIGTERM stops as a Ctrl-C does: a change reports each row's fate (it was killed
#: without a word, calls in flight and rows done unknown). Not the shell, whose prompt reads a
#: Ctrl-C as "clear the line", nor the sandbox server, which a SIGTERM simply stops
_TERM_AS_INTERRUPT = ("exec", "deploy")


class _Term:
    seen = False


@contextmanager
def _terminate_as_interrupt(term: _Term, wanted: bool) -> Iterator[None]:
    """While the command runs, a SIGTERM raises KeyboardInterrupt in the main thread (a second
    one, as a second Ctrl-C, gives up the calls in flight) and is noted in ``term``; the
    handler before is put back."""
    import signal

    if not wanted or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        term.seen = True
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _utf8_args(argv: Sequence[str]) -> list[str]:
    """``argv`` with bytes the locale could not decode (a C locale gives surrogate escapes for
    ``é``) read again as UTF-8; an argument that is not UTF-8 either is a usage error."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg.isascii():
            continue
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            try:
                args[i] = arg.encode("utf-8", "surrogateescape").decode("utf-8")
            except UnicodeError:
                shown = ascii(arg if len(arg) <= 60 else arg[:57] + "...")
                raise UsageError(
                    f"argument {i + 1} is not UTF-8 text: {shown}",
                    hint="give SQL and names as UTF-8 (or the SQL in a file, with -f)",
                ) from None
    return args


#: the command's garbage-collection thresholds. A start-up creates ~100k long-lived objects
#: (sqlglot's, botocore's and DuckDB's modules, the registry); at Python's default (700, 10, 10)
#: the collector ran 141 times over them in a one-page AWS query, ~90 ms of its CPU, and now
#: runs at most once. Cycles are still collected, every 100k allocations (a long shell or
#: script), just not during start-up. The library (``Session``) leaves the process's settings.
GC_THRESHOLDS = (100_000, 20, 10)


def run() -> NoReturn:
    """The ``stackql-tuning`` command: :func:`main` with :data:`GC_THRESHOLDS`, then
    :func:`leave` with its exit code."""
    gc.set_threshold(*GC_THRESHOLDS)
    leave(main())


def leave(code: int) -> NoReturn:
    """End the process with ``code`` the way a normal exit ends it, without the interpreter's
    teardown.

    When :func:`main` returns, its sessions are closed (DuckDB, temporary files, connections)
    and everything is written. What a normal exit still does after that is free every module:
    repeated garbage collections over sqlglot's, botocore's and DuckDB's objects that perf shows
    as 100-150 ms here, a fifth of a one-page query's whole process. This keeps what can be seen
    from outside: it waits for non-daemon threads as the interpreter does (``threading``'s
    shutdown hooks first), runs the ``atexit`` handlers (logging flushes its files there, and
    ``weakref.finalize`` runs), flushes stdout and stderr, then ends the process. Where those
    hooks are missing (another Python), it is a normal exit.
    """
    shutdown = getattr(threading, "_shutdown", None)
    exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or exitfuncs is None:
        sys.exit(code)
    shutdown()
    exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream: as main, no error
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
