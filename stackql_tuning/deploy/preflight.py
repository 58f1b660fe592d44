"""What a deploy checks of a resource before its first call: what needs no provider.

Build, test and teardown went resource by resource, and an error that needed no call (a query
file missing, an anchor name or option mistyped, ``{% endfi %}``, a prop with no value for the
environment, an INSERT in an exports anchor) was found only when its resource came: after the
resources before it were created, or deleted. The engine runs these checks over every resource
first (``Engine._preflight``). What needs values only the build makes (exports) or the
provider's answer (a mistyped column: ``--dry-run`` plans the statements) is checked when its
resource runs; a build also makes its dry run first (``deploy._dry_run_first``), which
plans every statement that holds no export's stand-in.

A read anchor (exists, statecheck, exports) must only read: ``deploy test`` runs them, and so
do build and teardown. Its template is checked here for a statement that starts with INSERT,
DELETE, UPDATE or EXEC (text that jinja writes is checked again once rendered, by the runner).

Pure: text in, errors out.
"""

from __future__ import annotations

import re

from stackql_tuning.deploy.anchors import Anchor
from stackql_tuning.errors import Location, ManifestError
from stackql_tuning.sql.template import check_syntax

#: anchors that only read
READ_ANCHORS = frozenset({"exists", "statecheck", "exports"})
#: the kinds (first words) of statements that change resources
CHANGES = frozenset({"insert", "delete", "update", "exec"})

#: what is not SQL a statement starts with: jinja, comments and quoted text
_NOT_SQL = re.compile(
    r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}|/\*.*?\*/|--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"",
    re.S,
)
_HEAD = re.compile(r"(?:\A|;)\s*([A-Za-z_]+)")


def statement_heads(text: str) -> list[tuple[str, int]]:
    """The first word (lower case) of each statement of an anchor's template and the line
    of ``text`` it is on (1 = the first), jinja, comments and quoted text left out."""

    def blank(m: re.Match[str]) -> str:  # keep the newlines, so lines keep their numbers
        return re.sub(r"[^\n]", " ", m.group(0))

    sql = _NOT_SQL.sub(blank, text)
    return [(m.group(1).lower(), sql.count("\n", 0, m.start(1)) + 1) for m in _HEAD.finditer(sql)]


def check_anchor(anchor: Anchor, resource: str) -> None:
    """``anchor``'s template compiles, and a read anchor holds no change."""
    check_syntax(
        anchor.text,
        source=anchor.file,
        line=anchor.body_line,
        what=f"anchor {anchor.name}",
        resource=resource,
    )
    if anchor.name not in READ_ANCHORS:
        return
    for word, line in statement_heads(anchor.text):
        if word in CHANGES:
            raise read_anchor_change(anchor, resource, word, anchor.body_line + line - 1)


def read_anchor_change(
    anchor: Anchor,
    resource: str,
    kind: str,
    line: int | None,
    outcome: str = "nothing of the stack was changed",
) -> ManifestError:
    """The error of a read anchor that holds a change (``kind``: insert, delete...)."""
    return ManifestError(
        f"resource {resource!r} has an {kind.upper()} in its /*+ {anchor.name} */ anchor, "
        f"which must only read (deploy test, and every build and teardown, run it): {outcome}",
        location=Location(
            file=anchor.file, line=line, resource=f"resource {resource}, anchor {anchor.name}"
        ),
        hint="move the change to a /*+ create */, /*+ update */ or /*+ delete */ anchor",
    )
