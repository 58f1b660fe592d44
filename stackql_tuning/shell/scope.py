"""What a statement being typed refers to: its tables (with aliases) and its bound parameters.

Works on the shell's forgiving tokens (``stackql_tuning.shell.lexing``), so it copes with half
a statement. Resource names are checked against the registry; nothing here names a particular
resource. Pure: no I/O beyond the registry's lazy reads of definition files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.shell.lexing import Token

#: keywords after which a table name follows
TABLE_KEYWORDS = frozenset({"FROM", "JOIN", "INTO", "UPDATE"})
#: keywords that end a FROM clause (a comma after them no longer separates tables)
CLAUSE_KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "GROUP",
        "ORDER",
        "HAVING",
        "LIMIT",
        "OFFSET",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "ON",
        "USING",
        "SET",
        "VALUES",
        "RETURNING",
        "WINDOW",
        "QUALIFY",
    }
)
#: words that can never be a table alias
NOT_ALIAS = CLAUSE_KEYWORDS | {
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "CROSS",
    "NATURAL",
    "LATERAL",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "LIKE",
}


@dataclass(frozen=True)
class TableRef:
    """A resource named in the statement, with its alias (None when unaliased)."""

    resource: Any  # stackql_tuning.registry.model.Resource
    alias: str | None

    @property
    def label(self) -> str:
        """How columns of this table are qualified: the alias, else the resource's own name."""
        return self.alias or self.resource.name

    def matches(self, qualifier: str) -> bool:
        q = qualifier.lower()
        if self.alias:
            return q == self.alias.lower()
        return q in (self.resource.name.lower(), self.resource.id.lower())


def read_dotted(tokens: list[Token], k: int) -> tuple[list[str], int]:
    """The dotted name starting at ``tokens[k]`` and the index just after it."""
    parts: list[str] = []
    while k < len(tokens) and tokens[k].is_name:
        parts.append(tokens[k].name)
        k += 1
        if k < len(tokens) and tokens[k].text == "." and tokens[k].kind == "punct":
            k += 1
            continue
        break
    return parts, k


def resolve(registry: Any, parts: list[str]) -> Any | None:
    """The resource named by three dotted parts, or None."""
    if len(parts) != 3:
        return None
    try:
        return registry.resource(".".join(parts))
    except StackqlTuningError:
        return None
    except (OSError, ValueError, KeyError):  # a broken definitions tree must not break typing
        return None


def tables_in_scope(tokens: list[Token], registry: Any) -> list[TableRef]:
    """Every registry resource named after FROM / JOIN / INTO / UPDATE or in a FROM list."""
    out: list[TableRef] = []
    in_from = False
    depth = 0
    k = 0
    while k < len(tokens):
        t = tokens[k]
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth = max(0, depth - 1)
        up = t.upper if t.kind == "word" else ""
        starts_table = up in TABLE_KEYWORDS or (in_from and t.text == "," and t.kind == "punct")
        if up in CLAUSE_KEYWORDS:
            in_from = up == "FROM"
        if up == "JOIN":
            in_from = True
        if not starts_table:
            k += 1
            continue
        parts, k = read_dotted(tokens, k + 1)
        res = resolve(registry, parts)
        alias: str | None = None
        if k < len(tokens) and tokens[k].upper == "AS" and tokens[k].kind == "word":
            k += 1
        is_alias = k < len(tokens) and tokens[k].is_name and tokens[k].upper not in NOT_ALIAS
        if is_alias and not (k + 1 < len(tokens) and tokens[k + 1].text == "."):
            alias = tokens[k].name
            k += 1
        if res is not None:
            out.append(TableRef(res, alias))
    return out


def bound_names(tokens: list[Token]) -> set[str]:
    """Lower-cased names compared with ``=`` or ``IN`` in the statement (qualifier dropped).

    EXEC arguments (``@name=``) count too, without their ``@``.
    """
    out: set[str] = set()
    for k, t in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if nxt is None:
            break
        binds = (nxt.text == "=") or (nxt.kind == "word" and nxt.upper == "IN")
        if not binds:
            continue
        if t.is_name:
            out.add(t.name.lower())
        elif t.kind == "param":
            out.add(t.text.lstrip("@").lower())
    return out


def missing_required(resource: Any, bound: set[str]) -> list[str]:
    """Required params of the select method closest to being callable, minus those bound.

    Method choice binds the first select method whose required params are all bound; when none
    is callable yet, the user needs the missing params of the method that lacks the fewest.
    """
    best: list[str] | None = None
    for method in resource.methods_for("SELECT"):
        missing = [p for p in method.required_params if p.lower() not in bound]
        if not missing:
            return []
        if best is None or len(missing) < len(best):
            best = missing
    return best or []


def columns_of(resource: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, type, enum values) of every column, params that are columns included."""
    out = [(c.name, c.db_type, tuple(c.enum)) for c in resource.columns]
    out += [(p.name, p.db_type, tuple(p.enum)) for p in resource.param_columns]
    return out


def enum_values(tables: list[TableRef], name: str, qualifier: str | None) -> tuple[str, ...]:
    """The enum values of column ``name`` of the (qualified) tables in scope, if it has any."""
    for ref in tables:
        if qualifier and not ref.matches(qualifier):
            continue
        for col, _type, enum in columns_of(ref.resource):
            if col.lower() == name.lower() and enum:
                return enum
    return ()
