"""The prompt_toolkit adapter over the pure completion function.

:class:`StackqlCompleter` turns :func:`~stackql_tuning.shell.completion.suggest` results into
prompt_toolkit ``Completion`` objects (file names after ``\\i``); wrap it in
``ThreadedCompleter`` so the prompt never waits on it. A bug in completion shows no
suggestions rather than breaking the prompt.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from stackql_tuning.shell.completion import suggest


class StackqlCompleter(Completer):
    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        before = document.text_before_cursor
        stripped = before.lstrip()
        if stripped.startswith("\\i ") and "\n" not in stripped:
            arg = stripped[3:].lstrip()
            yield from self._paths.get_completions(Document(arg, len(arg)), complete_event)
            return
        try:
            suggestions = suggest(before, self.registry, full_text=document.text)
        except Exception:  # completion must never break typing
            return
        for s in suggestions:
            yield Completion(s.text, start_position=s.start, display_meta=s.meta or s.kind)
