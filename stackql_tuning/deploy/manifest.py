"""Loading and validating ``stackql_manifest.yml`` into plain dataclasses.

The format is stackql-deploy's: ``version``, ``name``, ``description``, ``providers``, ``globals``
(``name``, ``value``, ``description``, ``protected``), ``resources`` (``name``, ``type``, ``file``,
``props`` with ``value`` or per-environment ``values`` and ``merge``, ``exports``,
``protected``, ``if``, ``description``, ``sql``, ``auth``: per provider, an auth entry in
StackQL's shape that this
resource's statements use instead of the session's, its ``keyIDenvvar``... naming stack
variables or environment variables) and stack-level ``exports``. Every error names the file
and the line (from PyYAML's marks). Values are kept unrendered: rendering is ``context.py``'s job.

This module reads files and validates shapes; it never renders templates nor runs queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stackql_tuning.deploy.yamlfile import LINE as _LINE
from stackql_tuning.deploy.yamlfile import (
    Path_,
    TextLine,
    child,
    load_yaml_node,
    strip_lines,
    text_line,
    text_lines,
)
from stackql_tuning.errors import Location, ManifestError, UsageError, did_you_mean

MANIFEST_FILE = "stackql_manifest.yml"
RESOURCE_TYPES = ("resource", "query", "multi", "command")
#: the types whose statements may come from the manifest's ``sql`` (the query's exports, the
#: command's command): a resource has several anchors, which only a file holds
INLINE_SQL_TYPES = ("query", "command")

#: every key of each kind of mapping, with the type its value must have (``object``: any
#: value; ``version`` has a check of its own); a key given as null is a key not given
_KEY_TYPES: dict[str, dict[str, type]] = {
    "manifest": {
        "version": object,
        "name": str,
        "description": str,
        "providers": list,
        "globals": list,
        "resources": list,
        "exports": list,
    },
    "global": {"name": str, "value": object, "description": str, "protected": bool},
    "resource": {
        "name": str,
        "type": str,
        "file": str,
        "props": list,
        "exports": list,
        "protected": list,
        "if": str,
        "description": str,
        "sql": str,
        "auth": dict,
        "skip_validation": bool,
        "skipvalidation": bool,
    },
    "prop": {"name": str, "value": object, "values": dict, "description": str, "merge": list},
}
#: how a message names each type, and how the hint says to write one
_TYPE_WORDS: dict[type, tuple[str, str]] = {
    str: ("a string", "quote it to make it text: {key}: '...'"),
    bool: ("true or false", "write {key}: true or {key}: false, without quotes"),
    list: ("a list", "write {key}: [a, b], or one '- item' per line under it"),
    dict: ("a mapping", "write 'name: value' lines under {key}:"),
}
_TOP_KEYS = set(_KEY_TYPES["manifest"])
_GLOBAL_KEYS = set(_KEY_TYPES["global"])
_RESOURCE_KEYS = set(_KEY_TYPES["resource"])
_PROP_KEYS = set(_KEY_TYPES["prop"])


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Global:
    name: str
    value: Any
    description: str = ""
    protected: bool = False
    line: int | None = None
    #: the line of each string inside ``value``, by its path (``()`` for ``value`` itself)
    lines: dict[Path_, TextLine] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Prop:
    name: str
    #: the one value for every environment, or MISSING when ``values`` is used
    value: Any = MISSING
    #: per-environment values: {env: value}
    values: dict[str, Any] | None = None
    description: str = ""
    line: int | None = None
    #: globals or earlier exports whose lists (objects) are merged into the value, in order
    merge: tuple[str, ...] = ()
    #: the line of each string inside the value, by its path; with ``values``, the paths
    #: start with the environment
    lines: dict[Path_, TextLine] = field(default_factory=dict, compare=False, repr=False)

    def value_for(self, stack_env: str) -> Any:
        """The unrendered value for ``stack_env``; MISSING when that environment has none."""
        if self.values is None:
            return self.value
        return self.values.get(stack_env, MISSING)

    def lines_for(self, stack_env: str) -> dict[Path_, TextLine]:
        """The lines of the strings of :meth:`value_for` ``(stack_env)``, by path."""
        if self.values is None:
            return self.lines
        return {p[1:]: t for p, t in self.lines.items() if p and p[0] == stack_env}


@dataclass(frozen=True)
class Export:
    """One export: the query's ``column``, stored in the context as ``alias``."""

    column: str
    alias: str


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    type: str
    file: Path
    props: tuple[Prop, ...] = ()
    exports: tuple[Export, ...] = ()
    protected: frozenset[str] = frozenset()
    condition: str | None = None
    description: str = ""
    sql: str | None = None
    skip_validation: bool = False
    line: int | None = None
    #: the line of ``if`` (errors in it point there; the resource's line when unknown)
    condition_line: int | None = None
    #: per provider, auth entries in StackQL's shape that replace the session's for this
    #: resource's statements (unrendered; ``keyIDenvvar``... may name stack variables)
    auth: dict[str, Any] | None = None


@dataclass(frozen=True)
class Manifest:
    path: Path
    stack_dir: Path
    name: str
    version: Any = 1
    description: str = ""
    providers: tuple[str, ...] = ()
    globals: tuple[Global, ...] = ()
    resources: tuple[ResourceSpec, ...] = ()
    exports: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    #: the line of each stack-level export (errors about it point there)
    export_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


class _Checker:
    """Shape checks with the manifest path at hand."""

    def __init__(self, path: Path, root: yaml.Node | None = None) -> None:
        self.path = path
        self.root = root

    def node(self, *keys: str | int) -> yaml.Node | None:
        """The YAML node at ``keys`` from the top of the manifest (None if there is none)."""
        node = self.root
        for key in keys:
            node = child(node, key)
        return node

    def value_lines(self, node: yaml.Node | None, what: str) -> dict[Path_, TextLine]:
        """The lines of the strings in a value; a date or binary value nested in it (a
        template would write it as JSON, which has neither) is an error at its line."""
        lines, odd = text_lines(node)
        if odd:
            where = "".join(f"[{k!r}]" for k in odd[0])
            self.fail(
                f"{what}: {where} is a YAML date or binary value, which a template cannot write "
                "as JSON",
                line=lines[odd[0]].line,
                hint="quote it to keep it as text, e.g. '2024-01-01'",
            )
        return lines

    def fail(
        self,
        message: str,
        node: Any = None,
        *,
        line: int | None = None,
        key: str | None = None,
        **kw: Any,
    ) -> Any:
        """A ManifestError at ``line``, else at the line of ``key`` in the mapping ``node``
        (the key the message is about), else at ``node``'s own line."""
        if line is None and isinstance(node, dict):
            line = self.key_line(node, key) if key is not None else node.get(_LINE)
        raise ManifestError(message, location=Location(file=str(self.path), line=line), **kw)

    def mapping(self, node: Any, what: str, *, line: int | None) -> dict[str, Any]:
        if not isinstance(node, dict):
            self.fail(f"{what} must be a mapping, got {type_name(node)}", line=line)
        return node

    def keys(self, node: dict[str, Any], allowed: set[str], what: str) -> None:
        for key in node:
            if key != _LINE and key not in allowed:
                self.fail(
                    f"unknown key {key!r} in {what}",
                    node,
                    line=self.key_line(node, key),
                    hint=did_you_mean(str(key), allowed)
                    or "allowed keys: " + ", ".join(sorted(allowed)),
                )

    def key_line(self, node: dict[str, Any], key: Any) -> int | None:
        """The file line of ``key`` in the mapping ``node`` (its own line, not the mapping's:
        ``expots`` 30 lines into a resource was reported at the resource's first line)."""
        start = node.get(_LINE)
        stack = [self.root]
        while stack:
            ynode = stack.pop()
            if isinstance(ynode, yaml.MappingNode):
                if ynode.start_mark.line + 1 == start:
                    for key_node, _ in ynode.value:
                        if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                            return int(key_node.start_mark.line) + 1
                stack.extend(v for _, v in ynode.value)
            elif isinstance(ynode, yaml.SequenceNode):
                stack.extend(ynode.value)
        return start if isinstance(start, int) else None

    def typed(self, node: dict[str, Any], kind: str, what: str, *keys: str) -> None:
        """Each key of ``node`` (``keys``: those only) has the type ``_KEY_TYPES[kind]`` gives
        it: ``protected: "no"`` was taken as true, ``name: 7`` as a name."""
        for key, want in _KEY_TYPES[kind].items():
            value = node.get(key)
            if (keys and key not in keys) or value is None or isinstance(value, want):
                continue
            word, hint = _TYPE_WORDS[want]
            self.fail(
                f"{key!r} of {what} must be {word}, got {type_name(value)}",
                node,
                key=key,
                hint=hint.format(key=key),
            )

    def string(self, node: dict[str, Any], key: str, what: str, kind: str) -> str:
        """The string ``key`` of ``node`` (a ``kind`` of mapping), which it must have."""
        if node.get(key) is None:
            self.fail(f"{what} has no {key!r}", node)
        self.typed(node, kind, what, key)
        return str(node[key])

    def str_list(self, node: dict[str, Any], key: str, what: str) -> list[Any]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{key!r} of {what} must be a list, got {type_name(value)}", node, key=key)
        return value


def type_name(value: Any) -> str:
    """What ``value`` is, for a message: "a mapping", "a list", "nothing", or its type and
    value."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _line_of(ynode: yaml.Node | None, default: int | None) -> int | None:
    """The file line of a YAML node (an entry of a list: ``resources: [r]`` is its line)."""
    return int(ynode.start_mark.line) + 1 if ynode is not None else default


def _load_global(
    check: _Checker, node: Any, parent_line: int | None, ynode: yaml.Node | None = None
) -> Global:
    g = check.mapping(node, "each entry of 'globals'", line=_line_of(ynode, parent_line))
    check.keys(g, _GLOBAL_KEYS, "a global")
    name = check.string(g, "name", "a global", "global")
    check.typed(g, "global", f"global {name!r}")
    if "value" not in g:
        check.fail(f"global {name!r} has no 'value'", g)
    return Global(
        name=name,
        value=strip_lines(g["value"]),
        description=_desc(g),
        protected=g.get("protected") is True,
        line=g.get(_LINE),
        lines=check.value_lines(child(ynode, "value"), f"global {name!r}"),
    )


def _load_prop(
    check: _Checker,
    node: Any,
    resource: str,
    parent_line: int | None,
    ynode: yaml.Node | None = None,
) -> Prop:
    what = f"a prop of resource {resource!r}"
    p = check.mapping(node, what, line=_line_of(ynode, parent_line))
    check.keys(p, _PROP_KEYS, what)
    name = check.string(p, "name", what, "prop")
    what = f"prop {name!r} of resource {resource!r}"
    check.typed(p, "prop", what)
    has_value, has_values = "value" in p, "values" in p
    if has_value == has_values:
        check.fail(
            f"{what} needs exactly one of 'value' or 'values'",
            p,
            hint="values: {dev: {value: ...}, prod: {value: ...}} gives one value per environment",
        )
    merge = tuple(_merge_names(check, p, what))
    if has_value:
        value, lines = strip_lines(p["value"]), check.value_lines(child(ynode, "value"), what)
        return Prop(
            name, value=value, description=_desc(p), line=p.get(_LINE), merge=merge, lines=lines
        )
    values_node = check.mapping(
        p["values"], f"'values' of {what}", line=check.key_line(p, "values")
    )
    values: dict[str, Any] = {}
    lines = {}
    for env, entry in values_node.items():
        if env == _LINE:
            continue
        line = entry.get(_LINE) if isinstance(entry, dict) else values_node.get(_LINE)
        if not isinstance(entry, dict) or "value" not in entry:
            check.fail(
                f"'values' of {what}: environment {env!r} must be a mapping with a 'value'",
                line=line,
                hint=f"write {env}: {{value: ...}}",
            )
        check.keys(entry, {"value"}, f"environment {env!r} of {what}")
        values[str(env)] = strip_lines(entry["value"])
        env_node = child(child(child(ynode, "values"), str(env)), "value")
        for path, text in check.value_lines(env_node, f"{what} ({env})").items():
            lines[(str(env), *path)] = text
    return Prop(
        name, values=values, description=_desc(p), line=p.get(_LINE), merge=merge, lines=lines
    )


def _merge_names(check: _Checker, p: dict[str, Any], what: str) -> list[str]:
    """The names of ``merge`` (stackql-deploy's: globals or exports of earlier resources whose
    lists or objects join the prop's value)."""
    names = check.str_list(p, "merge", what)
    for name in names:
        if not isinstance(name, str) or not name:
            check.fail(
                f"'merge' of {what} must list variable names, got {type_name(name)}",
                p,
                key="merge",
                hint="merge: [global_tags] names a global or an earlier resource's export",
            )
    return names


def _desc(node: dict[str, Any]) -> str:
    value = node.get("description")
    return "" if value is None else str(value)


def _load_exports(check: _Checker, r: dict[str, Any], what: str) -> tuple[Export, ...]:
    out: list[Export] = []
    for item in check.str_list(r, "exports", what):
        if isinstance(item, str):
            out.append(Export(item, item))
            continue
        pairs = {k: v for k, v in item.items() if k != _LINE} if isinstance(item, dict) else {}
        if len(pairs) != 1 or not all(isinstance(v, str) for v in pairs.values()):
            check.fail(
                f"each export of {what} must be a name or a one-key mapping column: alias",
                r,
                key="exports",
            )
        ((column, alias),) = pairs.items()
        out.append(Export(str(column), alias))
    return tuple(out)


def _load_resource(
    check: _Checker,
    node: Any,
    stack_dir: Path,
    parent_line: int | None,
    ynode: yaml.Node | None = None,
) -> ResourceSpec:
    r = check.mapping(node, "each entry of 'resources'", line=_line_of(ynode, parent_line))
    name = check.string(r, "name", "a resource", "resource")
    what = f"resource {name!r}"
    check.keys(r, _RESOURCE_KEYS, what)
    check.typed(r, "resource", what)
    rtype = r.get("type") or "resource"
    if rtype not in RESOURCE_TYPES:
        check.fail(
            f"{what} has type {rtype!r}; the types are {', '.join(RESOURCE_TYPES)}",
            r,
            hint=did_you_mean(rtype, RESOURCE_TYPES),
        )
    file_name = r.get("file") or f"{name}.iql"
    file = Path(file_name)
    if not file.is_absolute():
        file = stack_dir / "resources" / file
    props = tuple(
        _load_prop(check, p, name, r.get(_LINE), child(child(ynode, "props"), i))
        for i, p in enumerate(check.str_list(r, "props", what))
    )
    seen: set[str] = set()
    for p in props:
        if p.name in seen:
            check.fail(f"{what} defines prop {p.name!r} twice", line=p.line)
        seen.add(p.name)
    exports = _load_exports(check, r, what)
    protected = check.str_list(r, "protected", what)
    aliases = {e.alias for e in exports}
    for i, item in enumerate(protected):
        item_line = _line(child(child(ynode, "protected"), i))
        if not isinstance(item, str):
            check.fail(
                f"each item of 'protected' of {what} must be the name of one of its exports "
                f"(a string), got {type_name(item)}",
                r,
                line=item_line,
                hint="protected: [name, ...] lists export names",
            )
        if item not in aliases:
            check.fail(
                f"{what} protects {item!r}, which is not one of its exports",
                r,
                line=item_line,
                key="protected",
                hint=did_you_mean(str(item), aliases) or "protected names are a subset of exports",
            )
    condition = r.get("if")
    condition_line = _line(child(ynode, "if")) or r.get(_LINE)
    sql = r.get("sql")
    if sql is not None and rtype not in INLINE_SQL_TYPES:
        check.fail(
            f"{what} has 'sql', which only a resource of type query or command has (the "
            f"statements of its one anchor); a {rtype} has anchors (exists, create, ...) in its "
            ".iql file",
            line=_line(child(ynode, "sql")) or r.get(_LINE),
            hint=f"put its anchors in resources/{file_name}, or set type: query / command",
        )
    if exports and rtype == "command":
        check.fail(
            f"{what} is a command, which exports nothing (as in stackql-deploy)",
            r,
            key="exports",
            hint="read what the command changed with a resource of type query after it",
        )
    sql_node = child(ynode, "sql")
    if sql is not None and isinstance(sql_node, yaml.ScalarNode) and r.get(_LINE):
        # the engine renders and parses inline SQL as if it started on the resource's line:
        # leading blank lines make its lines the manifest's (errors point into the block)
        sql = "\n" * max(text_line(sql_node).line - r[_LINE], 0) + sql
    auth = r.get("auth")
    if auth is not None:
        entries = check.mapping(auth, f"'auth' of {what}", line=check.key_line(r, "auth"))
        for provider, entry in entries.items():
            if provider == _LINE:
                continue
            if provider not in ("google", "aws"):
                check.fail(
                    f"'auth' of {what} names provider {provider!r}; the providers are google, aws",
                    entries,
                    hint=did_you_mean(str(provider), ("google", "aws")),
                )
            check.mapping(entry, f"the {provider} entry of 'auth' of {what}", line=entries[_LINE])
        auth = strip_lines(entries)
    return ResourceSpec(
        name=name,
        type=rtype,
        file=file,
        props=props,
        exports=exports,
        protected=frozenset(str(p) for p in protected),
        condition=condition,
        description=_desc(r),
        sql=sql,
        skip_validation=r.get("skip_validation") is True or r.get("skipvalidation") is True,
        line=r.get(_LINE),
        auth=auth,
        condition_line=condition_line,
    )


def _line(node: yaml.Node | None) -> int | None:
    """The file line a YAML node starts on (lists do not record lines: their nodes do)."""
    return node.start_mark.line + 1 if node is not None else None


def _check_providers(
    check: _Checker, top: dict[str, Any], providers: list[Any], known: Iterable[str] | None
) -> None:
    """Every item of ``providers`` is a name, and one of ``known`` when that is given."""
    names = sorted(known) if known is not None else None
    for i, p in enumerate(providers):
        line = _line(check.node("providers", i)) or top.get(_LINE)
        if not isinstance(p, str):
            check.fail(
                f"each item of 'providers' must be a provider name, got {type_name(p)}",
                line=line,
                hint="providers: [google, aws]",
            )
        if names is not None and p.lower() not in names:
            check.fail(
                f"unknown provider {p!r} in 'providers'; known providers: {', '.join(names)}",
                line=line,
                hint=did_you_mean(p, names) or "SHOW PROVIDERS lists them",
            )


def load_manifest(stack_dir: Path | str, providers: Iterable[str] | None = None) -> Manifest:
    """Read ``STACK_DIR/stackql_manifest.yml`` and validate it; ``providers`` are the known
    provider names (the registry's) that its ``providers`` list may name."""
    stack_dir = Path(stack_dir)
    path = stack_dir / MANIFEST_FILE
    if not stack_dir.is_dir():  # a wrong STACK_DIR argument: usage (exit 2), as a missing -f file
        raise UsageError(
            f"stack directory {str(stack_dir)!r} does not exist",
            hint="create one with: stackql-tuning deploy init NAME --provider google|aws",
        )
    if not path.is_file():
        raise ManifestError(
            f"no {MANIFEST_FILE} in {str(stack_dir)!r}",
            location=Location(file=str(path)),
            hint="create one with: stackql-tuning deploy init NAME --provider google|aws",
        )
    data, root = load_yaml_node(path)
    check = _Checker(path, root)
    top = check.mapping(data, "the manifest", line=1)
    check.keys(top, _TOP_KEYS, "the manifest")
    name = check.string(top, "name", "the manifest", "manifest")
    check.typed(top, "manifest", "the manifest")
    globals_ = tuple(
        _load_global(check, g, top.get(_LINE), check.node("globals", i))
        for i, g in enumerate(check.str_list(top, "globals", "manifest"))
    )
    resources = tuple(
        _load_resource(check, r, stack_dir, top.get(_LINE), check.node("resources", i))
        for i, r in enumerate(check.str_list(top, "resources", "the manifest"))
    )
    if not resources:
        check.fail("the manifest has no resources", top)
    names: set[str] = set()
    for res in resources:
        if res.name in names:
            check.fail(f"resource {res.name!r} is defined twice", line=res.line)
        names.add(res.name)
    exports = check.str_list(top, "exports", "the manifest")
    if not all(isinstance(e, str) for e in exports):
        check.fail("stack-level 'exports' must be a list of names", top, key="exports")
    listed = check.str_list(top, "providers", "the manifest")
    _check_providers(check, top, listed, providers)
    version = top.get("version", 1)
    if not ((type(version) is int and version == 1) or version == "1"):
        # `version: one` and `version: 7` were accepted
        check.fail(
            f"version {version!r} is not a manifest version this tool reads: it reads "
            "stackql-deploy's version 1",
            top,
            key="version",
        )
    return Manifest(
        path=path,
        stack_dir=stack_dir,
        name=name,
        version=version,
        description=_desc(top),
        providers=tuple(str(p) for p in listed),
        globals=globals_,
        resources=resources,
        exports=tuple(exports),
        export_lines={
            e: line
            for i, e in enumerate(exports)
            if (line := _line(check.node("exports", i))) is not None
        },
    )
