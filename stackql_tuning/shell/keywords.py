"""The words the shell's completion offers that do not come from the registry.

SQL keywords, the stackql extensions (EXEC, SHOW ..., DESCRIBE, REGISTRY), common DuckDB /
StackQL functions, and which keywords typically follow each clause. Data only.
"""

from __future__ import annotations

#: what a statement may start with
STATEMENT_STARTS = (
    "SELECT",
    "SHOW",
    "DESCRIBE",
    "EXEC",
    "INSERT INTO",
    "DELETE FROM",
    "WITH",
    "REGISTRY",
    "UPDATE",
    "COPY",
    "CREATE",
    "SET",
)

#: words that end the shell (typed without a backslash)
META_WORDS = ("help", "exit", "quit")

#: SHOW <kind>
SHOW_KINDS = ("PROVIDERS", "SERVICES", "RESOURCES", "METHODS", "INSERT INTO")

#: keywords after which a (dotted) table name follows
TABLE_AFTER = frozenset({"FROM", "JOIN", "INTO", "UPDATE", "TABLE"})

#: keywords after which a column (or an expression) follows
COLUMN_AFTER = frozenset(
    {
        "SELECT",
        "WHERE",
        "AND",
        "OR",
        "ON",
        "BY",
        "HAVING",
        "NOT",
        "DISTINCT",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "SET",
        "RETURNING",
        "QUALIFY",
    }
)

#: keywords that open a clause (for deciding where the cursor is)
CLAUSES = frozenset(
    {
        "SELECT",
        "FROM",
        "JOIN",
        "WHERE",
        "ON",
        "BY",
        "HAVING",
        "SET",
        "INTO",
        "VALUES",
        "LIMIT",
        "RETURNING",
        "QUALIFY",
    }
)

#: keywords offered (with nothing typed yet) after a complete item of each clause
NEXT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "FROM": (
        "WHERE",
        "JOIN",
        "LEFT JOIN",
        "INNER JOIN",
        "ON",
        "AS",
        "ORDER BY",
        "GROUP BY",
        "LIMIT",
        "UNION ALL",
    ),
    "WHERE": ("=", "IN", "AND", "OR", "LIKE", "IS NULL", "NOT", "ORDER BY", "GROUP BY", "LIMIT"),
    "ON": ("=", "AND", "OR", "WHERE", "JOIN", "ORDER BY"),
    "SELECT": ("FROM", "AS"),
    "BY": ("ASC", "DESC", "LIMIT"),
    "INTO": ("SELECT", "VALUES"),
}
NEXT_DEFAULT = ("FROM", "WHERE", "AND", "ORDER BY", "LIMIT")

#: every keyword offered for a typed prefix
KEYWORDS = tuple(
    dict.fromkeys(
        STATEMENT_STARTS
        + SHOW_KINDS
        + (
            "ALL",
            "AND",
            "AS",
            "ASC",
            "BETWEEN",
            "BY",
            "CASE",
            "CROSS JOIN",
            "DESC",
            "DISTINCT",
            "ELSE",
            "END",
            "EXCEPT",
            "EXISTS",
            "EXTENDED",
            "FALSE",
            "FROM",
            "FULL JOIN",
            "GROUP BY",
            "HAVING",
            "ILIKE",
            "IN",
            "INNER JOIN",
            "INTERSECT",
            "IS",
            "JOIN",
            "LEFT JOIN",
            "LIKE",
            "LIMIT",
            "NOT",
            "NULL",
            "OFFSET",
            "ON",
            "OR",
            "ORDER BY",
            "RETURNING",
            "RIGHT JOIN",
            "THEN",
            "TRUE",
            "UNION",
            "UNION ALL",
            "USING",
            "VALUES",
            "WHEN",
            "WHERE",
        )
    )
)

#: functions offered in expression positions (StackQL-compatible JSON helpers first)
FUNCTIONS = (
    "json_extract",
    "json_extract_string",
    "json_each",
    "count",
    "min",
    "max",
    "sum",
    "avg",
    "coalesce",
    "lower",
    "upper",
    "length",
    "date_diff",
    "strftime",
    "now",
    "string_agg",
)
