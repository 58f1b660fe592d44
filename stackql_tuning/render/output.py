"""Writing results to the user's output: the rules ``exec`` and the shell share.

- :func:`writing`: an output that cannot be written (a full disk, a file that went away) is an
  :class:`~stackql_tuning.errors.OutputError`; a reader that stopped early (``| head``) stays a
  ``BrokenPipeError``, which the command ends on quietly.

Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from stackql_tuning.errors import OutputError


@contextmanager
def writing() -> Iterator[None]:
    """Turn an OSError raised while writing a result into an OutputError (BrokenPipeError
    passes: a reader that stopped early is not an error)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as e:  # the output's own problem, not ours: say so, not "internal error"
        raise OutputError(
            f"cannot write the result: {e.strerror or e}",
            hint="check the disk or the file that the output goes to",
        ) from None
