"""The jinja sandbox of templates, bounded so that a template cannot exhaust memory or CPU.

:class:`BoundedEnvironment` is jinja2's ``SandboxedEnvironment`` with a size limit
(:data:`MAX_SIZE` characters or items) on every way a template can build a large value:

- before the work is done, where the size can be known: ``*`` / ``**`` / ``+`` / ``%``,
  widths and precisions in ``%`` and ``str.format`` specs, ``ljust`` / ``rjust`` / ``center``
  / ``zfill`` / ``expandtabs`` / ``replace`` / ``join`` / ``extend`` calls, the ``center`` /
  ``indent`` / ``join`` / ``replace`` / ``format`` filters and ``lipsum``;
- after it, on the result of every call, filter and ``~`` concatenation;
- on the rendered text as a whole (:func:`render_bounded`), as it is produced.

A value over the limit raises ``OverflowError`` (``render`` turns it into a user error).

This module knows jinja only: it never reads files, parses SQL nor runs anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import update_wrapper
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Call, Concat, EnvironmentAttribute, For
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SandboxedFormatter
from markupsafe import Markup

#: the largest string, list or number of characters a template may build or render
MAX_SIZE = 10_000_000

_SIZED = (str, list, tuple, dict, set, frozenset, bytes)
_PERCENT_CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)")
_DIGITS = re.compile(r"\d+")
_PADDING = {"ljust", "rjust", "center", "zfill"}


def too_large(size: int) -> OverflowError:
    return OverflowError(f"a template value of {size} characters or items is too large")


def check_size(value: Any) -> Any:
    """``value`` itself, or OverflowError when it is a string or collection over the limit."""
    if isinstance(value, _SIZED) and len(value) > MAX_SIZE:
        raise too_large(len(value))
    return value


def _check_number(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SIZE:
        raise too_large(value)


def _check_format_spec(spec: str) -> None:
    """A ``str.format`` spec whose width or precision would build a huge string."""
    for digits in _DIGITS.findall(spec):
        _check_number(int(digits) if len(digits) <= 12 else MAX_SIZE + 1)


def _check_percent(fmt: str, args: Any) -> None:
    """``fmt % args``: every width / precision, literal or ``*`` (the ``*`` ones taken from
    ``args`` in order: only the arguments a ``*`` consumes are widths; the others are values,
    of any size)."""
    values = list(args) if isinstance(args, tuple) else [args]
    position = 0
    for match in _PERCENT_CONVERSION.finditer(fmt):
        width, precision, conversion = match.groups()
        if conversion == "%":
            continue
        for part in (width, precision):
            if part == "*":
                if position < len(values):
                    value = values[position]
                    _check_number(abs(value) if isinstance(value, int) else value)
                position += 1
            elif part:
                _check_number(int(part) if len(part) <= 12 else MAX_SIZE + 1)
        position += 1  # the value the conversion formats


def _check_sum(left: Any, right: Any) -> None:
    """``left + right`` (or ``left.extend(right)``) of two strings or collections."""
    if isinstance(left, _SIZED) and isinstance(right, _SIZED) and len(left) + len(right) > MAX_SIZE:
        raise too_large(len(left) + len(right))


def _length(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else len(str(value))


def _check_join(separator: Any, items: Any) -> None:
    if isinstance(items, list | tuple):
        size = sum(_length(i) for i in items) + _length(separator) * max(len(items) - 1, 0)
        if size > MAX_SIZE:
            raise too_large(size)


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    hits = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    size = len(text) + hits * (len(new) - len(old))
    if size > MAX_SIZE:
        raise too_large(size)


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Before a call: the size a string or list method is about to build."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, str):
        if name in _PADDING and args:
            _check_number(args[0])
        elif name == "expandtabs":
            tab = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tab, int) and tab * owner.count("\t") + len(owner) > MAX_SIZE:
                raise too_large(tab * owner.count("\t") + len(owner))
        elif name == "replace" and len(args) >= 2:
            _check_replace(owner, *args[:3])
        elif name == "join" and args:
            _check_join(owner, args[0])
    elif isinstance(owner, list) and name == "extend" and args:
        _check_sum(owner, args[0])


class _BoundedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_format_spec(format_spec)
        return check_size(super().format_field(value, format_spec))


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` so that its result is checked too, and ``{% for x in v %}`` so that
    ``v`` is checked first (``environment.loop_over``)."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.checked(")
        super().visit_Concat(node, frame)
        self.write(")")

    def visit_For(self, node: For, frame: Frame) -> None:
        if not getattr(node, "_loop_checked", False):
            node.iter = Call(EnvironmentAttribute("loop_over"), [node.iter], [], None, None)
            node._loop_checked = True  # type: ignore[attr-defined]
        super().visit_For(node, frame)


def loop_over(value: Any) -> Any:
    """What a ``{% for %}`` loops over, unless it is a string: a loop over one goes letter by
    letter (``--var jobs=xgb`` with ``{% for j in jobs %}`` stopped jobs x, g and b)."""
    if isinstance(value, str):
        origin = getattr(value, "origin", None) or "the value looped over"
        name = getattr(value, "name", None) or "x"
        shown = str.__str__(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise TypeError(
            f"{origin} is one string ({shown!r}), and a loop over it would go letter by "
            f"letter; give a list (e.g. {name}: [a, b] in a vars file), or split it: "
            f"{{% for v in {name}.split(',') %}} (its letters: {name}|list)"
        )
    if value is None:  # "'NoneType' object is not iterable"
        raise TypeError(
            "a loop over nothing (None): a variable left empty, e.g. `regions:` with no value "
            "in a vars file? Give it a list (regions: [a, b]) or guard the loop with "
            "{% if regions %}"
        )
    return value


def _bounded_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose result is checked, and whose size is checked first when it can be."""
    pass_arg = getattr(original, "jinja_pass_arg", None)
    skip = 1 if pass_arg is not None else 0  # eval_ctx / context / environment first

    def bounded(*args: Any, **kwargs: Any) -> Any:
        own = args[skip:]
        if name == "center" and len(own) >= 2:
            _check_number(own[1])
        elif name == "center" and "width" in kwargs:
            _check_number(kwargs["width"])
        elif name == "indent" and own:
            width = own[1] if len(own) >= 2 else kwargs.get("width", 4)
            unit = len(width) if isinstance(width, str) else width
            if isinstance(unit, int):
                lines = str(own[0]).count("\n") + 1
                if unit * lines + len(str(own[0])) > MAX_SIZE:
                    raise too_large(unit * lines + len(str(own[0])))
        elif name == "join" and own:
            _check_join(own[1] if len(own) >= 2 else kwargs.get("d", ""), own[0])
        elif name == "replace" and len(own) >= 3:
            _check_replace(*own[:4])
        elif name == "format" and own and isinstance(own[0], str):
            _check_percent(own[0], kwargs or tuple(own[1:]))
        return check_size(original(*args, **kwargs))

    return update_wrapper(bounded, original)


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with every way of building a large value bounded (see the module doc)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        lipsum = self.globals.get("lipsum")
        if callable(lipsum):
            self.globals["lipsum"] = self._bounded_lipsum(lipsum)

    @staticmethod
    def _bounded_lipsum(original: Callable[..., Any]) -> Callable[..., Any]:
        def lipsum(n: int = 5, *args: Any, **kwargs: Any) -> Any:
            if isinstance(n, int) and n > 1000:
                raise OverflowError(f"lipsum({n}) is too large for a template")
            return check_size(original(n, *args, **kwargs))

        return update_wrapper(lipsum, original)

    def checked(self, value: Any) -> Any:
        return check_size(value)

    def loop_over(self, value: Any) -> Any:
        return loop_over(value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            numbers = isinstance(left, int | float) and isinstance(right, int | float)
            if numbers and (
                abs(right) > 1024
                or (abs(left) > 1 and abs(right) * len(str(abs(int(left)))) > 4096)
            ):
                raise OverflowError(f"{left!r} ** {right!r} is too large for a template")
        elif operator == "*":
            size = None
            if isinstance(left, str | list | tuple) and isinstance(right, int):
                size = len(left) * right
            elif isinstance(right, str | list | tuple) and isinstance(left, int):
                size = len(right) * left
            if size is not None and size > MAX_SIZE:
                raise too_large(size)
        elif operator == "+":
            _check_sum(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_percent(left, right)
        return check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(__obj, LoopContext) and args:  # loop(x) of a recursive {% for %}
            args = (loop_over(args[0]), *args[1:])
        _check_method(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, list):
            check_size(owner)
        return check_size(result)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None or isinstance(value.__self__, Markup):
            return wrapped
        text: str = value.__self__
        formatter = _BoundedFormatter(self)
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if not is_map:
                return str(check_size(formatter.vformat(text, args, kwargs)))
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one argument")
            return str(check_size(formatter.vformat(text, (), args[0])))

        return update_wrapper(bounded, value)


def render_bounded(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """``template`` rendered with ``context``; OverflowError once the text passes the limit."""
    parts: list[str] = []
    size = 0
    for part in template.generate(dict(context)):
        size += len(part)
        if size > MAX_SIZE:
            raise OverflowError(f"the rendered text is over {MAX_SIZE} characters: too large")
        parts.append(part)
    return "".join(parts)


__all__ = ["MAX_SIZE", "BoundedEnvironment", "check_size", "render_bounded"]
