"""Jinja rendering of ``.iql`` scripts and manifest values, and loading of script variables.

Every template is rendered in a ``jinja2.sandbox.SandboxedEnvironment`` (bounded in size:
``sandbox.py``) with a strict undefined:
a missing variable is a :class:`~stackql_tuning.errors.ManifestError` naming the variable and the
``file:line`` where it is used, never an empty string. Dicts and lists render as JSON, booleans
as ``true``/``false`` and ``None`` as ``null`` (a ``finalize`` hook, not string replacement).
``env.NAME`` reads an environment variable.

This module renders text only: it never parses SQL and never runs anything.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.sandbox import SandboxedEnvironment

from stackql_tuning.errors import Location, ManifestError, TemplateError, UsageError
from stackql_tuning.sql.sandbox import BoundedEnvironment, render_bounded
from stackql_tuning.sql.template_filters import FILTERS, GLOBALS, finalize
from stackql_tuning.textfile import read_text

#: the template name jinja reports when a template has no source file
_ANONYMOUS = "<template>"


class EnvVars(dict[str, str]):
    """The ``env`` mapping of templates: environment variables, by name."""


class _StrictUndefined(jinja2.StrictUndefined):
    """StrictUndefined with messages that say what is missing in our terms."""

    def _undefined_message_text(self) -> str:
        obj = self._undefined_obj
        name = self._undefined_name
        if isinstance(obj, EnvVars):
            return f"environment variable {name!r} is not set"
        if self._undefined_hint:
            return str(self._undefined_hint)
        if obj is jinja2.utils.missing:
            return f"variable {name!r} is undefined"
        return f"{type(obj).__name__} value has no attribute or key {name!r}"

    @property
    def _undefined_message(self) -> str:  # type: ignore[override]
        return self._undefined_message_text()


class OneString(str):
    """A variable given as one string (``--var k=v``, a vars file's scalar, deploy's ``-e``):
    a str that remembers where it came from, for the message of a ``{% for %}`` over it
    (``sandbox.loop_over`` refuses any loop over a string)."""

    origin: str
    #: the variable's name (for the message's examples)
    name: str

    def __new__(cls, value: str, origin: str, name: str | None = None) -> OneString:
        obj = super().__new__(cls, value)
        obj.origin = origin
        obj.name = name or "x"
        return obj


def make_environment() -> SandboxedEnvironment:
    """The one jinja environment used for scripts and manifests."""
    env = BoundedEnvironment(
        undefined=_StrictUndefined,
        finalize=finalize,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


_ENV: SandboxedEnvironment | None = None


def _environment() -> SandboxedEnvironment:
    global _ENV
    if _ENV is None:
        _ENV = make_environment()
    return _ENV


def _template_line(exc: BaseException, name: str) -> int | None:
    """The template line of a rendering error, from jinja's rewritten traceback."""
    lineno = getattr(exc, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == name and frame.lineno is not None:
            line = frame.lineno
    return line


def render(
    text: str,
    context: Mapping[str, Any],
    *,
    source: str | None = None,
    line: int = 1,
    what: str | None = None,
    resource: str | None = None,
    error: type[ManifestError] = ManifestError,
    define: str = "globals, props, -e NAME=value or the env file",
    exact: bool = True,
) -> str:
    """Render ``text`` with ``context``; ``line`` is the file line where ``text`` starts.

    Errors become ``error`` (a ManifestError by default) located at ``source:line`` (line of the
    failing expression), with ``what`` (e.g. "anchor create") in the message when given;
    ``define`` says where a missing variable can be defined. Without ``exact`` the lines of
    ``text`` are not the file's (a folded YAML scalar): every error is then at ``line``.
    """
    name = source or _ANONYMOUS
    where = f" in {what}" if what else ""

    def at(rel: int | None) -> int:
        return line + rel - 1 if rel and exact else line

    try:
        template = _environment().from_string(text)
        template.name = name
        template.filename = name
        return render_bounded(template, context)
    except jinja2.TemplateSyntaxError as e:
        raise _syntax_error(e, where, source, at(e.lineno), resource, error) from None
    except jinja2.UndefinedError as e:
        lineno = at(_template_line(e, name))
        message = (e.message or "undefined value").replace("OneString", "str")
        if message.startswith("environment variable"):
            hint = "set it in the environment, or give a fallback: {{ env.NAME | default('x') }}"
        elif message.startswith("str value has no attribute"):
            hint = "the variable is a string, with no fields (a vars file can give a mapping)"
        else:
            hint = f"define it ({define}), or guard it with {{% if name is defined %}}"
        rel = _template_line(e, name)
        if rel and _in_sql_comment(text, rel, message):
            # `-- AND region = {{ old_region }}`: jinja renders SQL comments too
            hint = "it is in a -- comment, which jinja renders too: comment it out with {# ... #}"
        raise error(
            f"{message}{where}",
            location=Location(file=source, line=lineno, resource=resource),
            hint=hint,
        ) from None
    except jinja2.exceptions.SecurityError as e:
        raise error(
            f"template uses something the sandbox forbids{where}: {e}",
            location=Location(file=source, line=at(_template_line(e, name)), resource=resource),
        ) from None
    except (
        jinja2.TemplateError,
        ValueError,
        TypeError,
        ZeroDivisionError,
        OverflowError,
        RecursionError,
        MemoryError,
    ) as e:
        lineno = at(_template_line(e, name))
        text = str(e).replace("OneString", "str")  # our text class, to the user a string
        if isinstance(e, RecursionError):
            text = "the template nests its expressions too deeply"
        elif "no loader for this environment" in text:
            text = "{% include %}, {% import %} and {% extends %} are not supported"
        # a TemplateError says "template error" already, before its location
        said = f"{text}{where}" if issubclass(error, TemplateError) else None
        mixed = isinstance(e, TypeError) and re.search(
            r"concatenate str|unsupported operand type.*'str'|'str' and", text
        )
        raise error(
            said or f"template error{where}: {text}",
            location=Location(file=source, line=lineno, resource=resource),
            # {{ n + 1 }} with --var n=4 said only "can only concatenate str (not "int")"
            hint="a variable given as text (--var, a vars file's string) is a string: "
            "convert it, e.g. {{ n | int + 1 }}"
            if mixed
            else None,
        ) from None


def _in_sql_comment(text: str, line: int, message: str) -> bool:
    """Whether the variable ``message`` names (``'x' is undefined``) is used on ``line`` of
    ``text`` only after a ``--`` (a SQL comment jinja renders all the same)."""
    lines = text.splitlines()
    named = re.search(r"'(\w+)' is undefined", message)
    if not named or not 0 < line <= len(lines):
        return False
    code, dash, comment = lines[line - 1].partition("--")
    return bool(dash) and named.group(1) in comment and named.group(1) not in code


def _syntax_error(
    e: jinja2.TemplateSyntaxError,
    where: str,
    source: str | None,
    line: int,
    resource: str | None,
    error: type[ManifestError],
) -> ManifestError:
    """A jinja syntax error as ``error`` at ``source:line`` (``render``'s and
    ``check_syntax``'s)."""
    message = str(e.message or "")
    # jinja's lexer counts characters: "unexpected char \"'\" at 10" of `SELECT '{{' AS x`
    at = re.match(r"unexpected char (.+) at \d+$", message)
    if at:
        message = f"unexpected {at.group(1)} inside {{{{ ... }}}} or {{% ... %}}"
    return error(
        f"template syntax error{where}: {message}",
        location=Location(file=source, line=line, resource=resource),
        hint="SQL holding {{, {% or {# is a jinja template; for those characters as text "
        "write {% raw %}...{% endraw %} around them"
        if at
        else None,
    )


def check_syntax(
    text: str,
    *,
    source: str | None = None,
    line: int = 1,
    what: str | None = None,
    resource: str | None = None,
) -> None:
    """Compile ``text`` without rendering it: a syntax error (``{% endfi %}``) is a
    ManifestError at ``source`` and the line of the error, as ``render`` would raise it."""
    try:
        _environment().parse(text)
    except jinja2.TemplateSyntaxError as e:
        where = f" in {what}" if what else ""
        lineno = line + (e.lineno or 1) - 1
        raise _syntax_error(e, where, source, lineno, resource, ManifestError) from None
    except RecursionError:  # rendering says what is wrong
        return


def references(text: str) -> set[str]:
    """The top-level variable names a template refers to (empty when it does not parse)."""
    from jinja2 import meta

    try:
        return set(meta.find_undeclared_variables(_environment().parse(text)))
    except (jinja2.TemplateSyntaxError, RecursionError):  # rendering will say what is wrong
        return set()


def environment_variables() -> EnvVars:
    """A snapshot of the process environment as the template ``env`` mapping."""
    return EnvVars(os.environ)


#: names a template reads as jinja's own, whatever a variable of that name holds (literals)
#: or that a variable would hide (its functions)
_JINJA_NAMES = {
    **dict.fromkeys(("true", "false", "none", "True", "False", "None"), "a literal"),
    **dict.fromkeys((*DEFAULT_NAMESPACE, "loop", "self"), "a name templates use"),
    **dict.fromkeys(GLOBALS, "a function templates use"),
}


def render_script(text: str, *, variables: Mapping[str, Any], source: str | None = None) -> str:
    """Render an ``.iql`` script before it is parsed.

    ``variables`` are the script's variables (``--var``, ``--vars-file``); ``env`` is the process
    environment (``{{ env.HOME }}``). Line structure is preserved for simple substitutions, so
    parse errors keep pointing at the right line; :func:`rendered_source` names the text
    otherwise.
    """
    if "env" in variables:
        # it hid the environment: {{ env.HOME }} failed with "OneString value has no
        # attribute or key 'HOME'" and a hint to define what was defined
        raise TemplateError(
            "the variable name env is taken: {{ env.NAME }} reads the environment",
            location=Location(file=source),
            hint="give the variable another name (--var stack_env=prod)",
        )
    hidden = sorted(n for n in variables if n in _JINJA_NAMES)
    if hidden:
        # --var true=5 was ignored ({{ true }} is jinja's literal) and --var range=5 broke
        # {% for i in range(3) %}, silently
        raise TemplateError(
            f"the variable name {hidden[0]} is jinja's own ({_JINJA_NAMES[hidden[0]]})",
            location=Location(file=source),
            hint=f"give the variable another name (--var my_{hidden[0]}=...)",
        )
    context: dict[str, Any] = {"env": environment_variables()}
    context.update(variables)
    return render(
        text, context, source=source, error=TemplateError, define="--var k=v or a vars file"
    )


def rendered_source(source: str, template: str, rendered: str) -> str:
    """The name errors give a rendered script: ``source`` while rendering kept its lines, else
    ``source (rendered)`` (a loop or a multi-line value moved them: a line number is then one
    of the rendered text, which ``--dry-run`` and the error's excerpt show)."""
    if template.count("\n") == rendered.count("\n"):
        return source
    return f"{source} (rendered)"


def leading_name(text: str) -> str | None:
    """The variable name a malformed ``KEY=VALUE`` text seems to start with: the text before
    its first ``:``, ``=`` or blank when that is a valid name (None when nothing follows: a lone
    word may be the value). For error messages, which must not echo the rest: a secret."""
    match = re.match(r"\s*([^\s:=]+)\s*[:=\s]", text)
    return match.group(1) if match and match.group(1).isidentifier() else None


def is_name(key: str) -> bool:
    """``key`` is a valid variable name: letters, digits and underscores, no leading digit."""
    return key.isidentifier()


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def parse_pair(pair: str, *, option: str = "--var", index: int | None = None) -> tuple[str, str]:
    """``k=v`` -> (k, v); a clear UsageError otherwise, which says which ``option`` it is
    (``index``: the how-manieth, from 1) and never shows its text, which may be a secret
    (``-e $TOKEN`` with the ``KEY=`` forgotten): only the name it seems to start with."""
    key, sep, value = pair.partition("=")
    key = key.strip()
    if sep and key and is_name(key):
        return key, value
    if not sep:
        problem = "no '='"
    elif not key:
        problem = "nothing before its '='"
    else:
        problem = "no variable name before its '='"
    which = f"the {_ordinal(index)} {option}" if index else option
    name = leading_name(pair)
    shown = f"it starts with {name!r}" if name else "not shown: it may be a password or a token"
    example = f"{option} project=my-project"
    raise UsageError(
        f"{option} expects KEY=VALUE, got an argument with {problem} ({which}; {shown})",
        hint=f"write e.g. {example}"
        if not sep
        else f"a KEY is letters, digits and underscores, not starting with a digit ({example})",
    )


def _too_deep(path: Path) -> UsageError:
    return UsageError(
        "vars file nests its values too deeply to be read",
        location=Location(file=str(path)),
        hint="no variable needs this many levels of lists and mappings",
    )


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different (``json`` keeps the last of a repeated one,
    silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice")
        out[key] = value
    return out


def load_vars_file(path: Path) -> dict[str, Any]:
    """Variables from a JSON or YAML file (by extension; other extensions: YAML, a superset).

    A file that cannot be read or holds no mapping is a UsageError naming it (a wrong
    ``--vars-file`` argument, like a wrong ``--var``)."""
    try:
        text = read_text(path)
    except OSError as e:
        raise UsageError(f"cannot read vars file {str(path)!r}: {e.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_unique_pairs)
        except json.JSONDecodeError as e:
            raise UsageError(
                f"vars file is not valid JSON: {e.msg}",
                location=Location(file=str(path), line=e.lineno, column=e.colno),
            ) from None
        except RecursionError:
            raise _too_deep(path) from None
        except ValueError as e:  # a key given twice (_unique_pairs)
            raise UsageError(f"vars file: {e}", location=Location(file=str(path))) from None
    else:
        import yaml

        from stackql_tuning.deploy.yamlfile import UniqueKeyLoader

        try:
            data = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problem = getattr(e, "problem", None) or str(e)
            raise UsageError(
                f"vars file is not valid YAML: {problem}",
                location=Location(
                    file=str(path),
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                ),
            ) from None
        except RecursionError:
            raise _too_deep(path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(
            f"vars file must hold a mapping of names to values, got {type(data).__name__}",
            location=Location(file=str(path)),
        )
    return {str(k): v for k, v in data.items()}


def load_vars(pairs: Iterable[str], files: Iterable[Path]) -> dict[str, Any]:
    """Script variables: every file in order, then ``k=v`` pairs (later ones win)."""
    out: dict[str, Any] = {}
    for f in files:
        for key, value in load_vars_file(Path(f)).items():
            out[key] = (
                OneString(value, f"{key} (from {f})", key) if isinstance(value, str) else value
            )
    for index, pair in enumerate(pairs, 1):
        key, value = parse_pair(pair, index=index)
        out[key] = OneString(value, f"--var {key}", key)
    return out
