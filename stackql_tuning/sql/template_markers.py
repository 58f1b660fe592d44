"""What makes inline SQL text a jinja template: a light check, without importing jinja2.

The CLI's ``exec "SQL"`` and the notebook magic decide by this one rule (they disagreed on
``{# comments #}``). Must not: import jinja2 or render anything (``sql.template`` renders).
"""

from __future__ import annotations

#: the jinja delimiters: an expression, a statement, a comment
TEMPLATE_MARKERS = ("{{", "{%", "{#")


def is_template(text: str) -> bool:
    """Whether ``text`` holds a jinja expression, statement or comment."""
    return any(marker in text for marker in TEMPLATE_MARKERS)
