"""Variable resolution for a stack: env files, globals, props per environment, exports, masking.

The context of a resource is, in order of precedence (later wins): the variables from the env
file and ``-e KEY=VAL`` (also reachable as ``env.KEY``), ``stack_name`` / ``stack_env``, the
globals (each rendered against what came before it), the exports of earlier resources, and the
resource's props (each rendered against the globals, the exports and the props before it).
Rendering is sandboxed jinja with a strict undefined (``stackql_tuning.sql.template``).

Values keep their YAML types (dicts and lists render as JSON in templates). Protected values
are remembered so that :meth:`StackContext.mask` can hide them in every line of output.

This module resolves variables only: it never runs queries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stackql_tuning.deploy.manifest import (
    MISSING,
    Manifest,
    Path_,
    ResourceSpec,
    TextLine,
    type_name,
)
from stackql_tuning.errors import Location, ManifestError, UsageError
from stackql_tuning.sql.template import (
    EnvVars,
    OneString,
    is_name,
    leading_name,
    parse_pair,
    render,
)
from stackql_tuning.sql.template_filters import json_text_value, merge_lists, merge_objects
from stackql_tuning.textfile import read_text

MASK = "****"
_SINGLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


def parse_env_file(path: Path) -> dict[str, str]:
    """A dotenv file: ``KEY=VALUE`` lines, ``export`` prefixes, quotes, ``#`` comments."""
    try:
        text = read_text(path, error=ManifestError)
    except OSError as e:
        raise UsageError(f"cannot read env file {str(path)!r}: {e.strerror}") from None
    out: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not is_name(key):
            # never the line itself: its value may be a secret
            name = leading_name(line)
            raise ManifestError(
                "env file line is not KEY=VALUE" + (f" (it starts with {name!r})" if name else ""),
                location=Location(file=str(path), line=lineno),
                hint="write NAME=value, one per line (a name is letters, digits and "
                "underscores, not starting with a digit)",
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
            if raw.strip().partition("=")[2].strip()[0] == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"')
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out


def load_env_vars(
    env_file: Path | str | None = None,
    pairs: Iterable[str] = (),
    stack_dir: Path | str | None = None,
) -> dict[str, str]:
    """Variables from ``--env-file`` overlaid with ``-e KEY=VAL`` pairs.

    Without ``env_file``, ``.env`` is read from the current directory, else from ``stack_dir``;
    no ``.env`` at all is fine. A named ``env_file`` that cannot be read is a UsageError.
    """
    out: dict[str, str] = {}
    path = Path(env_file) if env_file is not None else None
    if path is None:
        candidates = (Path(".env"), Path(stack_dir) / ".env" if stack_dir else None)
        path = next((c for c in candidates if c is not None and c.is_file()), None)
    if path is not None:
        # each value is one string: a loop over it is refused (``OneString``)
        found = parse_env_file(path)
        out.update({k: OneString(v, f"{k} (from {path})", k) for k, v in found.items()})
    for index, pair in enumerate(pairs, 1):
        key, value = parse_pair(pair, option="-e", index=index)
        out[key] = OneString(value, f"-e {key}", key)
    return out


class StackContext:
    """The variables of one stack in one environment, growing as exports arrive."""

    def __init__(self, manifest: Manifest, stack_env: str, env_vars: Mapping[str, Any]) -> None:
        self.manifest = manifest
        self.stack_env = stack_env
        self.file = str(manifest.path)
        self._secrets: set[str] = set()
        #: a dry run's stand-ins for exported values (``<job_id>``): only the build knows them
        self.stand_ins: set[str] = set()
        self.values: dict[str, Any] = {"env": EnvVars({k: str(v) for k, v in env_vars.items()})}
        #: the DuckDB type of an exported value, where a query gave it (JSON, FLOAT, a LIST of
        #: JSON): the output file writes it as ``-o json`` does
        self.value_types: dict[str, str | None] = {}
        self.values.update(env_vars)
        self.values["stack_name"] = manifest.name
        self.values["stack_env"] = stack_env
        for g in manifest.globals:
            value = self.render_value(
                g.value, self.values, line=g.line, what=f"global {g.name!r}", lines=g.lines
            )
            if value is None or value == "":
                raise ManifestError(
                    f"global {g.name!r} renders to an empty value",
                    location=Location(file=self.file, line=g.line),
                    hint="give it a value, or set the variable it refers to",
                )
            self.values[g.name] = value
            if g.protected:
                self.protect(value)

    # -- rendering ----------------------------------------------------------------------------
    def render_value(
        self,
        value: Any,
        context: Mapping[str, Any],
        *,
        line: int | None,
        what: str,
        resource: str | None = None,
        lines: Mapping[Path_, TextLine] | None = None,
        path: Path_ = (),
    ) -> Any:
        """Render every string inside ``value`` (dicts and lists keep their shape).

        A string that is exactly one variable (``"{{ max_jobs }}"``) takes that variable's value
        with its type (an int stays an int inside a dict that renders as JSON). ``lines`` gives
        the file line of each string in ``value`` by its ``path`` (a global's or a prop's
        ``lines``); a string it does not know is taken to start at ``line``.
        """
        if isinstance(value, str):
            single = _SINGLE.match(value)
            if single and single.group(1) in context:
                return context[single.group(1)]
            known = (lines or {}).get(path)
            return render(
                value,
                context,
                source=self.file,
                line=known.line if known else line or 1,
                what=what,
                resource=resource,
                exact=known.exact if known else True,
            )
        kw: dict[str, Any] = {"line": line, "what": what, "resource": resource, "lines": lines}
        if isinstance(value, dict):
            return {
                str(k): self.render_value(v, context, path=(*path, str(k)), **kw)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self.render_value(v, context, path=(*path, i), **kw) for i, v in enumerate(value)
            ]
        return value

    def resource_context(
        self, resource: ResourceSpec, *, omit: Iterable[str] = (), lenient: bool = False
    ) -> dict[str, Any]:
        """The context of ``resource``: everything so far plus its own props, in order (but
        those named in ``omit``: they need values no resource gave). ``lenient``: a prop whose
        value cannot be made (none for this environment, an undefined variable, a merge of
        what is not there) is left out, not an error: the context an ``if`` is read with."""
        omit = set(omit)
        ctx = dict(self.values)
        ctx["resource_name"] = resource.name
        # an aliased export is also visible under its column name in its own resource's
        # anchors (teardown's delete uses the id the exports query gave it)
        for e in resource.exports:
            if e.column != e.alias and e.alias in self.values:
                ctx[e.column] = self.values[e.alias]
        for prop in resource.props:
            if prop.name in omit:
                continue
            try:
                raw = self.prop_value(resource, prop)
                value = self.render_value(
                    raw,
                    ctx,
                    line=prop.line,
                    what=f"prop {prop.name!r}",
                    resource=resource.name,
                    lines=prop.lines_for(self.stack_env),
                )
                ctx[prop.name] = self._merged(resource, prop, value, ctx)
            except ManifestError:
                if not lenient:
                    raise
        return ctx

    def _merged(self, resource: ResourceSpec, prop: Any, value: Any, ctx: Mapping[str, Any]) -> Any:
        """``value`` with the lists (objects) that ``prop.merge`` names joined to it, in
        order: a list's items not already in it are appended; an object's keys are set over
        it. Both sides must be lists, or both objects (JSON text of one counts as it)."""
        for name in prop.merge:
            where = Location(file=self.file, line=prop.line, resource=resource.name)
            if name not in ctx:
                raise ManifestError(
                    f"prop {prop.name!r} of resource {resource.name!r} merges {name!r}, which is "
                    "no global, variable or export of an earlier resource",
                    location=where,
                    hint="merge names a global (globals:) or an export a resource before it gives",
                )
            stand_in = next(
                (v for v in (value, ctx[name]) if isinstance(v, str) and v in self.stand_ins), None
            )
            if stand_in is not None:
                # a dry run's export: the merged value is not known either, and a statement
                # that holds a stand-in is not planned
                value = stand_in
                continue
            other, mine = json_text_value(ctx[name]), json_text_value(value)
            if isinstance(mine, list) and isinstance(other, list):
                value = merge_lists(mine, other)
            elif isinstance(mine, dict) and isinstance(other, dict):
                value = merge_objects(mine, other)
            else:
                raise ManifestError(
                    f"prop {prop.name!r} of resource {resource.name!r} cannot merge {name!r}: "
                    f"its value is {type_name(mine)} and {name!r} is {type_name(other)}",
                    location=where,
                    hint="merge joins a list to a list, or an object to an object",
                )
        return value

    def prop_value(self, resource: ResourceSpec, prop: Any) -> Any:
        """``prop``'s value for this environment, unrendered; an error naming the prop when
        it has none."""
        raw = prop.value_for(self.stack_env)
        if raw is MISSING:
            have = ", ".join(sorted(prop.values or {})) or "none"
            raise ManifestError(
                f"prop {prop.name!r} of resource {resource.name!r} has no value for "
                f"environment {self.stack_env!r} (environments with a value: {have})",
                location=Location(file=self.file, line=prop.line, resource=resource.name),
                hint=f"add values: {{{self.stack_env}: {{value: ...}}}} to the prop",
            )
        return raw

    # -- exports and masking ------------------------------------------------------------------
    def export(self, name: str, value: Any, *, protected: bool = False) -> None:
        self.values[name] = value
        if protected:
            self.protect(value)

    def protect(self, value: Any) -> None:
        """Mask ``value`` from now on. A list or object (or JSON text of one) is masked whole,
        as JSON, and by each text and number inside it: merged into a prop (``merge:``) or
        written item by item, its parts were printed as they were."""
        decoded = json_text_value(value)
        if isinstance(decoded, list | dict):
            if not isinstance(value, str):
                self._secrets.add(str(value))
                value = json.dumps(value)
            for form in (value, json.dumps(decoded), json.dumps(decoded, ensure_ascii=False)):
                self._secrets.add(form)
            for leaf in _leaves(decoded):
                self.protect(leaf)
            return
        text = value if isinstance(value, str) else str(value)
        if text:
            self._secrets.add(text)

    def is_protected(self, value: Any) -> bool:
        """Whether ``value`` is itself a protected value."""
        if value is None:
            return False
        if isinstance(value, list | dict):
            return json.dumps(value) in self._secrets
        return str(value) in self._secrets

    def mask(self, text: str) -> str:
        """``text`` with every protected value replaced by ``****``, in each form a template or
        a message may have written it (as is, JSON-escaped, quoted for SQL), longest first.
        Values shorter than :data:`MIN_MASKED` are masked only where they are a whole value
        (:meth:`masked_value`) or a whole quoted one (``'739'``): replacing every ``1`` in a
        log would garble it, and hide nothing."""
        forms = {f for s in self._secrets if len(s) >= MIN_MASKED for f in _written_forms(s)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, MASK)
        # a short one is still masked where it is a whole quoted value ('739', "739")
        short = {f for s in self._secrets if len(s) < MIN_MASKED for f in _written_forms(s)}
        for form in sorted(short, key=len, reverse=True):
            for quote in "'\"":
                text = text.replace(quote + form + quote, quote + MASK + quote)
        return text

    def masked_value(self, value: Any) -> Any:
        """``value`` for display: ``****`` when it is protected, else strings masked."""
        if self.is_protected(value):
            return MASK
        if isinstance(value, str):
            return self.mask(value)
        return value


#: the shortest protected value that is masked inside longer text
MIN_MASKED = 4


def _written_forms(secret: str) -> set[str]:
    """``secret`` as a template may write it: as is, inside a JSON string (dict props render as
    JSON: ASCII-escaped or not), and inside an SQL string literal (quotes doubled)."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        secret.replace("'", "''"),
    }


def _leaves(value: Any) -> list[Any]:
    """The texts and numbers inside a list or object (not its keys, nor true/false/null)."""
    out: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            out.append(item)
    return out
