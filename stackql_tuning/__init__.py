"""stackql-tuning: SQL over the ML tuning jobs of Google Vertex AI and AWS SageMaker.

    >>> import stackql_tuning
    >>> session = stackql_tuning.connect(auth={"google": {"type": "anonymous"}})
    >>> result = session.execute("SHOW PROVIDERS")
    >>> result.to_dicts()

Import cost is kept minimal: nothing heavy is imported until a statement needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from stackql_tuning.session import Session


def connect(**settings: Any) -> Session:
    """A new Session; keyword arguments are fields of :class:`stackql_tuning.settings.Settings`."""
    from stackql_tuning.session import Session

    return Session(**settings)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext stackql_tuning``: registers the ``%%stackql_tuning`` cell magic."""
    from stackql_tuning.notebook import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext stackql_tuning``: closes the notebook session and sandbox."""
    from stackql_tuning.notebook import unload_ipython_extension as _unload

    _unload(ipython)


__all__ = ["__version__", "connect"]
