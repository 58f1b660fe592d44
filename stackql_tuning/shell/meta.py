"""The shell's meta commands (``help``, ``\\q``, ``\\o json``, ...) as a dispatch table.

Each command is a small function ``(shell, arg) -> None`` over the :class:`~stackql_tuning.shell.
runner.Shell` it runs in: it changes the shell's state or the session's settings and reports
on the shell's stderr. Bad arguments raise :class:`~stackql_tuning.errors.UsageError`.

No prompt_toolkit here: the table is also used by completion and by non-interactive scripts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stackql_tuning.errors import Location, UsageError, did_you_mean
from stackql_tuning.textfile import read_text

if TYPE_CHECKING:
    from stackql_tuning.shell.runner import Shell

#: output formats when the render package does not say otherwise
_FALLBACK_FORMATS = ("table", "json", "jsonl", "csv", "markdown", "text")
#: cache TTL (seconds) that ``\c on`` sets
CACHE_ON_TTL = 300.0
_ON = ("on", "true", "1", "yes")
_OFF = ("off", "false", "0", "no")


def output_formats() -> tuple[str, ...]:
    """The formats ``\\o`` accepts: the renderer's FORMATS when present."""
    try:
        from stackql_tuning.render import FORMATS  # type: ignore[attr-defined]
    except ImportError:
        return _FALLBACK_FORMATS
    return tuple(FORMATS)


@dataclass(frozen=True)
class MetaCommand:
    run: Callable[[Shell, str], None]
    help: str
    usage: str
    args: Callable[[], tuple[str, ...]] = tuple


def _toggle(current: bool, arg: str, name: str) -> bool:
    a = arg.strip().lower()
    if not a:
        return not current
    if a in _ON:
        return True
    if a in _OFF:
        return False
    raise UsageError(
        f"{name} takes on or off, not {arg.strip()!r}", hint=f"{name} on | {name} off | {name}"
    )


def _onoff(value: bool) -> str:
    return "on" if value else "off"


def _help(shell: Shell, arg: str) -> None:
    lines = ["Meta commands:"]
    seen: set[int] = set()
    for cmd in META_COMMANDS.values():
        if id(cmd) in seen:
            continue
        seen.add(id(cmd))
        lines.append(f"  {cmd.usage:<22} {cmd.help}")
    lines += [
        "",
        "SQL statements end with ';'. To explore:",
        "  SHOW PROVIDERS;   SHOW SERVICES IN <provider>;   SHOW RESOURCES IN <provider.service>;",
        "  DESCRIBE <provider.service.resource>;   SHOW METHODS IN <provider.service.resource>;",
        "Tab completes names, columns and parameters; Ctrl-C cancels a running statement;",
        "Ctrl-D exits.",
    ]
    shell.info("\n".join(lines))


def _quit(shell: Shell, arg: str) -> None:
    shell.state.quit = True


def _output(shell: Shell, arg: str) -> None:
    fmt = arg.strip().lower()
    formats = output_formats()
    if not fmt:
        shell.info(f"output format: {shell.state.output} (one of {', '.join(formats)})")
        return
    if fmt not in formats:
        raise UsageError(
            f"unknown output format {fmt!r}; formats: {', '.join(formats)}",
            hint=did_you_mean(fmt, formats) or "\\o table",
        )
    shell.state.output = fmt
    shell.info(f"output format: {fmt}")


def _timing(shell: Shell, arg: str) -> None:
    shell.state.timing = _toggle(shell.state.timing, arg, "\\timing")
    shell.info(f"timing: {_onoff(shell.state.timing)}")


def _dry(shell: Shell, arg: str) -> None:
    settings = shell.session.settings
    settings.dry_run = _toggle(bool(settings.dry_run), arg, "\\dry")
    shell.info(f"dry run: {_onoff(settings.dry_run)}")


def _cache(shell: Shell, arg: str) -> None:
    settings = shell.session.settings
    on = _toggle(bool(settings.cache_ttl), arg, "\\c")
    settings.cache_ttl = CACHE_ON_TTL if on else 0
    shell.info(f"cache: {_onoff(on)}" + (f" (ttl {CACHE_ON_TTL:g} s)" if on else ""))


def _pager(shell: Shell, arg: str) -> None:
    shell.state.pager = _toggle(shell.state.pager, arg, "\\pager")
    shell.info(f"pager: {_onoff(shell.state.pager)}")


def _include(shell: Shell, arg: str) -> None:
    name = arg.strip().strip("'\"")
    if not name:
        raise UsageError("\\i needs a file name", hint="\\i path/to/script.iql")
    path = Path(name).expanduser()
    try:
        text = read_text(path)
    except OSError as e:
        raise UsageError(
            f"cannot read {name}: {e.strerror or e}",
            location=Location(file=name),
            hint="give the path of an existing .iql or .sql file",
        ) from None
    from stackql_tuning.shell.script import render  # (script imports this module)

    # a template, as exec -f renders it (the shell's --var / --vars-file)
    text, source = render(text, variables=shell.variables, source=str(path))
    shell.run_script(text, source=source)


_TOGGLE_ARGS = lambda: ("on", "off")  # noqa: E731

_HELP = MetaCommand(_help, "show this help", "help, \\?, \\h, \\help")
_QUIT = MetaCommand(_quit, "quit the shell (Ctrl-D too)", "\\q, exit, quit")

#: name -> command; names are matched case-insensitively for the bare words
META_COMMANDS: dict[str, MetaCommand] = {
    "help": _HELP,
    "\\?": _HELP,
    "\\h": _HELP,
    "\\help": _HELP,
    "\\q": _QUIT,
    "exit": _QUIT,
    "quit": _QUIT,
    "\\o": MetaCommand(_output, "switch the output format", "\\o [FORMAT]", output_formats),
    "\\timing": MetaCommand(
        _timing, "toggle the time in the result footer", "\\timing [on|off]", _TOGGLE_ARGS
    ),
    "\\dry": MetaCommand(
        _dry, "toggle dry run (show the calls, make none)", "\\dry [on|off]", _TOGGLE_ARGS
    ),
    "\\i": MetaCommand(_include, "run the statements of a script file", "\\i FILE"),
    "\\c": MetaCommand(
        _cache, "response cache on (ttl 300 s) or off", "\\c [on|off]", _TOGGLE_ARGS
    ),
    "\\pager": MetaCommand(
        _pager, "page wide or long results through $PAGER", "\\pager [on|off]", _TOGGLE_ARGS
    ),
}


def parse_meta(line: str) -> tuple[str, str] | None:
    """(command, argument) when ``line`` is a meta command, else None.

    A meta command starts with a backslash, or is exactly ``help`` / ``exit`` / ``quit``
    (a trailing ``;`` is allowed).
    """
    text = line.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    if text.startswith("\\"):
        name, _, arg = text.partition(" ")
        return name, arg.strip()
    word = text.lower()
    if word in ("help", "exit", "quit"):
        return word, ""
    return None


def run_meta(shell: Shell, name: str, arg: str) -> None:
    """Run meta command ``name``; an unknown one is a UsageError listing the valid ones."""
    cmd = META_COMMANDS.get(name) or META_COMMANDS.get(name.lower())
    if cmd is None:
        names = list(META_COMMANDS)
        raise UsageError(
            f"unknown meta command {name}; meta commands: {', '.join(names)}",
            hint=did_you_mean(name, names) or "help",
        )
    cmd.run(shell, arg)


def meta_arguments(name: str) -> tuple[str, ...]:
    """What may follow meta command ``name`` (for completion)."""
    cmd = META_COMMANDS.get(name.lower())
    return cmd.args() if cmd is not None else ()
