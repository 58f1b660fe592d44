"""Expression classes for the StackQL statements that DuckDB's SQL does not have.

``Exec`` (``EXEC p.s.r.method @a=1, @@json='...'``), ``ExecParam`` (one ``@name=value``), ``Show``
(``SHOW [EXTENDED] PROVIDERS | SERVICES IN p | RESOURCES IN p.s | METHODS IN p.s.r | INSERT INTO
p.s.r [LIKE 'x']``), ``Describe`` (``DESCRIBE [EXTENDED] p.s.r``) and ``RegistryCommand``
(``REGISTRY LIST ...``). They are real sqlglot nodes (``arg_types`` storage, ``.sql()`` through the
stackql dialect's generator); the accessors below are the API the rest of the engine uses.

This module holds node classes and their accessors only: no parsing, no generation, no registry
look-ups, and no resource names.
"""

from __future__ import annotations

from sqlglot import exp


def dotted_name(node: exp.Expression | None) -> str | None:
    """``Table(catalog=a, db=b, this=c)`` -> ``"a.b.c"`` (parts that are present, in order)."""
    if node is None:
        return None
    if isinstance(node, exp.Table):
        return ".".join(part.name for part in node.parts)
    return node.name


def name_table(parts: list[str]) -> exp.Table:
    """A 1-3 part name as a sqlglot ``Table`` (provider / provider.service / p.s.resource)."""
    idents = [exp.to_identifier(p) for p in parts]
    keys = ["catalog", "db", "this"][-len(idents) :]
    return exp.Table(**dict(zip(keys, idents, strict=True)))


class ExecParam(exp.Expression):
    """``@name=value``: ``this`` is the name (an Identifier, no ``@``), ``expression`` a literal."""

    arg_types = {"this": True, "expression": True}

    @property
    def value(self) -> exp.Expression:
        return self.args["expression"]


class Exec(exp.Expression):
    """``EXEC provider.service.resource.method @p='v', ... [@@json='...']``.

    this: Table (provider.service.resource, lower-cased); method: Identifier (as written);
    expressions: ExecParam list, in order; json: string Literal or None.
    """

    arg_types = {"this": True, "method": True, "expressions": False, "json": False}

    @property
    def resource(self) -> str:
        return dotted_name(self.args["this"]) or ""

    @property
    def method_name(self) -> str:
        return self.args["method"].name

    @property
    def params(self) -> dict[str, exp.Expression]:
        return {p.name: p.value for p in self.expressions}

    @property
    def json_body(self) -> str | None:
        body = self.args.get("json")
        return body.name if body is not None else None


class Show(exp.Expression):
    """``SHOW [EXTENDED] <what> [IN|INTO target] [LIKE 'pattern']``.

    this: Var with PROVIDERS | SERVICES | RESOURCES | METHODS | INSERT; extended: bool;
    target: Table (1-3 parts) or None; like: string Literal or None.
    """

    arg_types = {"this": True, "extended": False, "target": False, "like": False}

    @property
    def what(self) -> str:
        return self.args["this"].name.upper()

    @property
    def extended(self) -> bool:
        return bool(self.args.get("extended"))

    @property
    def target(self) -> str | None:
        return dotted_name(self.args.get("target"))

    @property
    def like(self) -> str | None:  # type: ignore[override]  # shadows the Expr.like builder
        pattern = self.args.get("like")
        return pattern.name if pattern is not None else None


class Describe(exp.Expression):
    """``DESCRIBE [EXTENDED] provider.service.resource``: this is a 3-part Table."""

    arg_types = {"this": True, "extended": False}

    @property
    def target(self) -> str:
        return dotted_name(self.args["this"]) or ""

    @property
    def extended(self) -> bool:
        return bool(self.args.get("extended"))


class RegistryCommand(exp.Expression):
    """``REGISTRY <action> [arg ...]``: this is a Var (LIST, PULL), expressions the arguments."""

    arg_types = {"this": True, "expressions": False}

    @property
    def action(self) -> str:
        return self.args["this"].name.upper()

    @property
    def arguments(self) -> list[str]:
        """The arguments as written (``REGISTRY PULL google`` -> ["google"]). Not ``.args``: that
        name is sqlglot's own storage dict on every node."""
        return [e.name for e in self.expressions]


__all__ = [
    "Describe",
    "Exec",
    "ExecParam",
    "RegistryCommand",
    "Show",
    "dotted_name",
    "name_table",
]
