"""Reading a manifest's YAML with the lines of what it holds.

:func:`load_yaml` is PyYAML's safe loader that records each mapping's line under ``__line__``
and refuses a key given twice in one mapping; :func:`load_yaml_node` also returns the node tree,
from which :func:`text_lines` tells the file line of every string inside a value (where its
text starts, and whether its lines are the file's), so that template errors point into it.
Errors are ManifestErrors at ``file:line``.

This module reads YAML only: it neither validates a manifest's shape nor renders anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stackql_tuning.errors import Location, ManifestError
from stackql_tuning.textfile import read_text

#: the key under which each loaded mapping records its line
LINE = "__line__"

#: where a value sits inside a global's or prop's value: mapping keys and list indexes
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class TextLine:
    """The file line where a string value's text starts; ``exact`` when its n-th line is file
    line ``line + n - 1`` (a one-line scalar or a ``|`` block; not a ``>`` block)."""

    line: int
    exact: bool = True


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


class _LineLoader(UniqueKeyLoader):
    """A safe loader that records each mapping's line under ``__line__``."""


def _check_unique_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> None:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue  # a merge key's entries may be overridden: that is what it is for
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice (first on line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node


def _construct_unique(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    _check_unique_keys(loader, node)
    return loader.construct_mapping(node, deep=True)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = _construct_unique(loader, node)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def strip_lines(value: Any) -> Any:
    """A loaded value without the ``__line__`` bookkeeping (for values given to templates)."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def load_yaml(path: Path) -> Any:
    """A YAML file with line numbers recorded; a clear ManifestError when it is malformed."""
    return load_yaml_node(path)[0]


def load_yaml_node(path: Path) -> tuple[Any, yaml.Node | None]:
    """:func:`load_yaml`, and the YAML node tree the value was made from (for lines)."""
    try:
        text = read_text(path, error=ManifestError)
    except OSError as e:
        raise ManifestError(
            f"cannot read {path.name}: {e.strerror}", location=Location(file=str(path))
        ) from None
    loader = _LineLoader(text)  # a SafeLoader subclass
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        context = getattr(e, "context", None)
        message = f"malformed YAML: {problem}" + (f" ({context})" if context else "")
        raise ManifestError(
            message,
            location=Location(
                file=str(path),
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ),
        ) from None
    except RecursionError:  # PyYAML's composer recurses once per level
        raise ManifestError(
            f"{path.name} nests its values too deeply to be read",
            location=Location(file=str(path)),
            hint="no manifest needs this many levels of lists and mappings",
        ) from None
    finally:
        loader.dispose()


def child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    """The node of ``key`` in a mapping node, or of index ``key`` in a sequence node."""
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def text_line(node: yaml.ScalarNode) -> TextLine:
    start = node.start_mark.line + 1
    if node.style in ("|", ">"):  # the text starts on the line after the indicator
        return TextLine(start + 1, exact=node.style == "|")
    one_line = node.start_mark.line == node.end_mark.line and "\n" not in node.value
    return TextLine(start, exact=one_line)


def text_lines(node: yaml.Node | None) -> tuple[dict[Path_, TextLine], list[Path_]]:
    """The line of every scalar under ``node`` by path, and the paths of the dates and binary
    values nested in its mappings and lists (a template cannot write those as JSON)."""
    lines: dict[Path_, TextLine] = {}
    odd: list[Path_] = []
    stack: list[tuple[yaml.Node, Path_]] = [(node, ())] if node is not None else []
    while stack:
        item, path = stack.pop()
        if isinstance(item, yaml.ScalarNode):
            lines[path] = text_line(item)
            if path and item.tag.rsplit(":", 1)[-1] in ("timestamp", "binary"):
                odd.append(path)
        elif isinstance(item, yaml.MappingNode):
            stack.extend(
                (v, (*path, k.value)) for k, v in item.value if isinstance(k, yaml.ScalarNode)
            )
        elif isinstance(item, yaml.SequenceNode):
            stack.extend((v, (*path, i)) for i, v in enumerate(item.value))
    return lines, sorted(odd, key=lambda p: lines[p].line)
