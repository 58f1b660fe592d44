"""The command line's arguments: global options (accepted before or after the command) and
the sub-commands. Parsing only: what each command does is in ``cli.py``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stackql_tuning import __version__
from stackql_tuning.errors import UsageError, did_you_mean

FORMATS = ("table", "json", "jsonl", "csv", "markdown", "text")


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are ours: one message, exit code 2, on the given stream."""

    #: the options given before the command that apply to exec, shell and deploy only
    global_actions: list[argparse.Action]

    def error(self, message: str) -> Any:
        raise UsageError(message, hint=f"{self.prog} --help")


#: what a misspelled option looks like (SQL text that starts with "--" is a comment: not one)
_OPTION = re.compile(r"--[A-Za-z][\w-]*")


def check_option_names(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """A UsageError naming an option no command has (with the one it is close to): argparse
    took ``--outptu json exec ...`` for the command ``json`` ("invalid choice: 'json'"), and
    after the command said "unrecognized arguments: --outptu SELECT 1"."""
    known = sorted(_option_strings(parser))
    for arg in argv:
        if arg == "--":
            return
        name = arg.split("=", 1)[0]
        if not _OPTION.fullmatch(name) or any(k.startswith(name) for k in known):
            continue  # (argparse takes a unique prefix of an option as the option)
        raise UsageError(
            f"unknown option {name}",
            hint=did_you_mean(name, known) or f"{parser.prog} --help lists the options",
        )


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    out: set[str] = set()
    for action in parser._actions:
        out.update(o for o in action.option_strings if o.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out |= _option_strings(sub)
    return out


def _global_options(p: argparse.ArgumentParser, *, suppress: bool) -> list[argparse.Action]:
    """The global options on ``p`` (suppressed defaults on a command's own parser: given
    there, they override those before the command); the actions added."""
    d = argparse.SUPPRESS if suppress else None

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    g = p.add_argument_group("global options")
    actions: list[argparse.Action] = []

    def add(*names: str, **kwargs: Any) -> None:
        actions.append(g.add_argument(*names, **kwargs))

    add(
        "--sandbox",
        action="store_true",
        default=default(False),
        help="start the local Vertex AI emulator and AWS sandbox, seed them, use them",
    )
    add(
        "--auth",
        default=d,
        metavar="JSON",
        help="auth config in StackQL's JSON shape (default: env STACKQL_TUNING_AUTH, "
        "then Google ADC and the AWS default chain)",
    )
    add(
        "-o",
        "--output",
        default=default("table"),
        choices=FORMATS,
        help="output format (default: table)",
    )
    add(
        "-H",
        "--hide-headers",
        action="store_true",
        default=default(False),
        help="no header line in csv, text and table output (a Markdown table always has one; "
        "-H as in StackQL)",
    )
    add(
        "--concurrency",
        type=int,
        default=default(16),
        metavar="N",
        help="provider calls in flight at once (default: 16)",
    )
    add(
        "--page-limit",
        type=int,
        default=d,
        metavar="N",
        help="stop after N pages per call chain, with a warning (default: unlimited)",
    )
    add("--timeout", type=float, default=d, metavar="SECONDS", help="per-statement time limit")
    add(
        "--on-error",
        choices=("fail", "continue"),
        default=default("fail"),
        help="fail (default): a failed call fails the statement; continue: keep the "
        "rows that arrived, print each failure, exit 3",
    )
    add(
        "--dry-run",
        action="store_true",
        default=default(False),
        help="print the calls a statement would make; make none",
    )
    add(
        "--cache-ttl",
        type=float,
        default=d,
        metavar="SECONDS",
        help="reuse provider replies for this long (default: off)",
    )
    add(
        "--max-attempts",
        type=int,
        default=d,
        metavar="N",
        help="attempts per call, the first included, for retryable failures (default: 5)",
    )
    add(
        "--rate-limit",
        type=float,
        default=d,
        metavar="RPS",
        help="client-side limit of requests per second per provider and project/account, and "
        "per host (Google) or region (AWS)",
    )
    add(
        "--connect-timeout",
        type=float,
        default=d,
        metavar="SECONDS",
        help="per-request connect time limit (default: 10)",
    )
    add(
        "--read-timeout",
        type=float,
        default=d,
        metavar="SECONDS",
        help="longest wait for the next bytes of a reply, as requests and botocore count it; "
        "a slow but steady reply is not cut (default: 60; --timeout bounds a statement)",
    )
    add(
        "--config",
        type=Path,
        default=d,
        metavar="FILE",
        help="config file with [defaults] and [aws.accounts] "
        "(default: ~/.config/stackql-tuning/config.toml)",
    )
    add(
        "--no-pushdown",
        action="store_true",
        default=default(False),
        help="do not send filters to the APIs, nor filter listed rows before their gets "
        "(results are the same; for checks)",
    )
    add(
        "--no-projection",
        action="store_true",
        default=default(False),
        help="read every field of every reply, not only those the statement uses "
        "(results are the same; for checks)",
    )
    add(
        "--no-partial-response",
        action="store_true",
        default=default(False),
        help="ask the APIs for whole replies, not only the fields the statement uses "
        "(Google's fields=; results are the same; for checks)",
    )
    return actions


def _no_pager(p: argparse.ArgumentParser, *, suppress: bool) -> argparse.Action:
    """The shell's ``--no-pager``: accepted before ``shell`` as the global options are, and after
    it (the command's own value wins only when given)."""
    return p.add_argument(
        "--no-pager",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="shell: never page wide or long results",
    )


def _template_variables(p: argparse.ArgumentParser, *, where: str = "") -> None:
    """``--var`` and ``--vars-file``: the variables of the scripts ``p``'s command renders
    (exec's ``-f`` and inline SQL; the shell's ``\\i`` and its stdin script)."""
    also = f"; {where}" if where else ""
    p.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a template variable (repeatable){also}",
    )
    p.add_argument(
        "--vars-file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help=f"template variables from a JSON or YAML file (repeatable){also}",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stackql-tuning",
        description="SQL over the ML tuning jobs of Google Vertex AI and AWS SageMaker.",
    )
    parser.add_argument("--version", action="version", version=f"stackql-tuning {__version__}")
    parser.global_actions = [
        *_global_options(parser, suppress=False),
        _no_pager(parser, suppress=False),
    ]
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )

    p = sub.add_parser("exec", help="run SQL statements (text or an .iql file)")
    _global_options(p, suppress=True)
    p.add_argument("sql", nargs="?", help="the statement(s) to run")
    p.add_argument("-f", "--file", type=Path, help="an .iql script to run (- reads it from stdin)")
    _template_variables(p)

    p = sub.add_parser("shell", help="the interactive SQL shell")
    _global_options(p, suppress=True)
    _no_pager(p, suppress=True)
    _template_variables(p, where="for \\i FILE and a script on stdin, as exec -f")

    p = sub.add_parser("deploy", help="build, test or tear down a stack from a manifest")
    _global_options(p, suppress=True)
    p.add_argument("action", choices=("build", "test", "teardown", "init"))
    p.add_argument("stack_dir", help="the stack directory (for init: the new stack's name)")
    p.add_argument("stack_env", nargs="?", help="the environment (dev, prod, ...)")
    p.add_argument("--env-file", type=Path, default=None, help="variables file (default: .env)")
    p.add_argument(
        "-e",
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for the manifest (repeatable)",
    )
    p.add_argument(
        "--output-file",
        type=Path,
        help="write the stack's exports here (JSON; protected values unmasked; a file that holds "
        "one is readable by its owner only)",
    )
    p.add_argument("--show-queries", action="store_true", help="print each query it runs")
    p.add_argument(
        "--on-failure",
        choices=("error", "rollback", "ignore"),
        default="error",
        help="when a resource fails: error stops (default); rollback (build) then tears down "
        "what the build created; ignore goes on with the next resource and exits 1 at the end",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log verbosity",
    )
    p.add_argument(
        "--provider",
        choices=("google", "aws"),
        default="google",
        help="init: the provider of the scaffolded stack",
    )

    p = sub.add_parser("sandbox", help="run the local emulators standalone")
    p.add_argument("action", choices=("serve",))
    p.add_argument(
        "--port-google",
        type=int,
        default=0,
        metavar="N",
        help="port of the Vertex AI emulator on 127.0.0.1 (default 0: a free one)",
    )
    p.add_argument(
        "--port-aws",
        type=int,
        default=0,
        metavar="N",
        help="port of the SageMaker server on 127.0.0.1 (default 0: a free one)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the demo jobs (the same seed gives the same jobs; default 0)",
    )

    p = sub.add_parser("registry", help="generate provider definitions and docs")
    p.add_argument("action", choices=("generate", "docs"))
    p.add_argument("--out", type=Path, default=None, help="output directory")
    return parser
