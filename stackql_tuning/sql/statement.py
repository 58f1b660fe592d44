"""What the parser hands to the rest of the engine: one ``Statement`` per SQL statement.

A ``Statement`` wraps the sqlglot expression with its kind, its source text and position, and the
``/*+ ... */`` hints written before or inside it. Plain SQL (SELECT, INSERT, DELETE, and anything
DuckDB runs) keeps sqlglot's own expression classes; our extensions (EXEC, SHOW, DESCRIBE,
REGISTRY) are the expression classes of ``stackql_tuning.sql.expressions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp


@dataclass(frozen=True)
class Hint:
    """One query hint: ``/*+ AWAIT */`` -> Hint("AWAIT");
    ``/*+ statecheck, retries=5, retry_delay=10 */`` -> Hint("STATECHECK", {"retries": "5", ...}).

    ``name`` is upper-cased; option keys are lower-cased; values are kept as written.
    """

    name: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    """One parsed statement.

    kind: select | insert | delete | update | exec | show | describe | registry | other
          ("other" is DuckDB-only SQL that sqlglot parsed to a real node, e.g. CREATE TABLE,
          COPY, SET; never a generic ``exp.Command`` fallback, which is a ParseError)
    """

    kind: str
    expression: exp.Expression
    text: str
    line: int = 1  # 1-based line of the statement's first token in the source
    column: int = 1  # 1-based column of that token
    source: str | None = None  # file name, when parsed from a file
    hints: tuple[Hint, ...] = ()

    def hint(self, name: str) -> Hint | None:
        for h in self.hints:
            if h.name == name.upper():
                return h
        return None

    def has_hint(self, name: str) -> bool:
        return self.hint(name) is not None
