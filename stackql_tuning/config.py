"""The user's config file: named AWS accounts and default projects, locations and regions.

``--config PATH`` or ``$XDG_CONFIG_HOME/stackql-tuning/config.toml`` (default
``~/.config/stackql-tuning/config.toml``)::

    [defaults]                      # used when a query leaves these params unbound
    projectsId = ["ml-research-prod", "ml-research-dev"]
    locationsId = ["us-central1", "europe-west4"]
    region = ["us-east-1", "eu-west-1"]

    [aws.accounts."123456789012"]   # AwsAccountId -> credentials
    profile = "prod"

    [aws.accounts."210987654321"]
    role_arn = "arn:aws:iam::210987654321:role/TuningReadOnly"

Defaults are keyed by param name, so they apply to every resource that has the param. A
mutation never uses defaults: it touches only what its statement names.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from stackql_tuning.errors import Location, UsageError
from stackql_tuning.textfile import read_text

ACCOUNT = re.compile(r"^[0-9]{12}$")


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "stackql-tuning" / "config.toml"


def load_config(path: Path | str | None = None) -> dict[str, Any]:
    """Session settings (``accounts``, ``defaults``) from the config file; {} when none."""
    explicit = path is not None
    p = Path(path) if path is not None else default_path()
    if not p.is_file():
        if explicit:
            raise UsageError(f"config file {str(p)!r} does not exist")
        return {}
    try:
        data = tomllib.loads(read_text(p))
    except tomllib.TOMLDecodeError as e:
        raise UsageError(
            f"config file is not valid TOML: {e}", location=Location(file=str(p))
        ) from None
    return settings_from(data, str(p))


def settings_from(data: dict[str, Any], source: str = "config") -> dict[str, Any]:
    out: dict[str, Any] = {}
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise UsageError("[defaults] must be a table", location=Location(file=source))
    norm: dict[str, list[Any]] = {}
    for name, value in defaults.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, (str, int)) for v in values):
            raise UsageError(
                f"defaults.{name} must be a string or a list of strings",
                location=Location(file=source),
            )
        norm[str(name)] = list(values)
    if norm:
        out["defaults"] = norm
    accounts = data.get("aws", {}).get("accounts", {})
    if not isinstance(accounts, dict):
        raise UsageError("[aws.accounts] must be a table", location=Location(file=source))
    checked: dict[str, dict[str, str]] = {}
    for account, conf in accounts.items():
        if not ACCOUNT.match(str(account)):
            raise UsageError(
                f"aws.accounts: {account!r} is not a 12-digit account id",
                location=Location(file=source),
            )
        if not isinstance(conf, dict) or not ({"profile", "role_arn"} & set(conf)):
            raise UsageError(
                f'aws.accounts.{account} needs profile = "..." or role_arn = "..."',
                location=Location(file=source),
            )
        checked[str(account)] = {k: str(v) for k, v in conf.items()}
    if checked:
        out["accounts"] = checked
    return out
