"""The user's config file: named AWS accounts and default projects, locations and regions.

``--config PATH`` or ``$XDG_CONFIG_HOME/stackql-tuning/config.toml`` (default
``~/.config/stackql-tuning/config.toml``); ``$STACKQL_TUNING_ACCOUNTS`` (JSON) adds accounts::

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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from stackql_tuning.errors import Location, UsageError, did_you_mean
from stackql_tuning.textfile import read_text

ACCOUNT = re.compile(r"^[0-9]{12}$")


#: AwsAccountId -> {"profile": ...} or {"role_arn": ...} as JSON, added to the config file's
#: [aws.accounts] (in place of its entry for the same id; ``stackql-tuning sandbox serve``
#: exports its second account's role here)
ACCOUNTS_VAR = "STACKQL_TUNING_ACCOUNTS"


def accounts_from_env() -> dict[str, dict[str, str]]:
    """The accounts of ``$STACKQL_TUNING_ACCOUNTS`` (checked as the config file's are)."""
    import json

    text = os.environ.get(ACCOUNTS_VAR)
    if not text:
        return {}
    where = Location(file="$" + ACCOUNTS_VAR)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"${ACCOUNTS_VAR} is not valid JSON: {e.msg}", location=where) from None
    if not isinstance(value, dict):
        raise UsageError(
            f"${ACCOUNTS_VAR} must be a JSON object keyed by account id",
            hint='e.g. {"123456789012": {"profile": "prod"}}',
        )
    return dict(settings_from({"aws": {"accounts": value}}, "$" + ACCOUNTS_VAR).get("accounts", {}))


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "stackql-tuning" / "config.toml"


def load_config(
    path: Path | str | None = None, param_names: Callable[[], Iterable[str]] | None = None
) -> dict[str, Any]:
    """Session settings (``accounts``, ``defaults``) from the config file; {} when none.
    ``param_names``: gives the registry's params, which ``[defaults]`` keys must name (asked
    only when the file has defaults)."""
    explicit = path is not None
    p = Path(path) if path is not None else default_path()
    if not p.is_file():
        if explicit and p.is_dir():
            raise UsageError(
                f"config file {str(p)!r} is a directory", hint="give --config a TOML file"
            )
        if explicit and p.exists():  # /dev/null, a FIFO: once "does not exist"
            raise UsageError(
                f"config file {str(p)!r} is not a regular file", hint="give --config a TOML file"
            )
        if explicit:
            raise UsageError(f"config file {str(p)!r} does not exist")
        return {}
    try:
        data = tomllib.loads(read_text(p))
    except OSError as e:  # unreadable: permissions, an I/O error
        raise UsageError(
            f"cannot read config file {str(p)!r}: {e.strerror or type(e).__name__}"
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(
            f"config file is not valid TOML: {e}", location=Location(file=str(p))
        ) from None
    return settings_from(data, str(p), param_names)


def _toml_text(value: Any) -> str:
    """``value`` as the config file spells it (true, 12, a table)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


#: the config file's top-level tables, and those of its [aws] table
_TABLES = ("defaults", "aws")
_AWS_KEYS = ("accounts",)
_ACCOUNT_KEYS = ("profile", "role_arn")


def _check_keys(
    table: dict[str, Any], known: tuple[str, ...], prefix: str, has: str, where: Location
) -> None:
    for key in table:
        if key not in known:
            raise UsageError(
                f"unknown config key '{prefix}{key}'; {has}",
                location=where,
                hint=did_you_mean(key, list(known)),
            )


def check_default_name(name: str, known: dict[str, str], location: Location | None = None) -> None:
    """A UsageError unless ``name`` is one of ``known`` (lower-cased param name -> name), the
    parameters of the provider tables, which a default must name (a typo was a default no
    query ever used)."""
    if name.lower() not in known:
        raise UsageError(
            f"unknown default {name!r}: defaults name the parameters of provider tables",
            location=location,
            hint=did_you_mean(name, list(known.values()))
            or "e.g. projectsId, locationsId, region (SHOW METHODS IN a resource lists them)",
        )


def settings_from(
    data: dict[str, Any],
    source: str = "config",
    param_names: Callable[[], Iterable[str]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    where = Location(file=source)
    _check_keys(data, _TABLES, "", "the config file has [defaults] and [aws.accounts]", where)
    aws = data.get("aws", {})
    if not isinstance(aws, dict):
        raise UsageError('aws must be a table ([aws.accounts."ID"])', location=where)
    _check_keys(aws, _AWS_KEYS, "aws.", "[aws] has accounts", where)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise UsageError("[defaults] must be a table", location=Location(file=source))
    known = {n.lower(): n for n in (param_names() if param_names and defaults else ())}
    norm: dict[str, list[Any]] = {}
    for name, value in defaults.items():
        if known:
            check_default_name(str(name), known, where)
        values = value if isinstance(value, list) else [value]
        bad = next((v for v in values if not isinstance(v, str)), None)
        if not values or bad is not None:
            # a bool or a number once passed: projectsId = [true] queried project "True"
            got = "an empty list" if not values else _toml_text(bad)
            raise UsageError(
                f"defaults.{name} must be a string or a list of strings, got {got}",
                location=Location(file=source),
                hint=f'quote each value, e.g. {name} = ["value"]',
            )
        norm[str(name)] = list(values)
    if norm:
        out["defaults"] = norm
    accounts = aws.get("accounts", {})
    if not isinstance(accounts, dict):
        raise UsageError("[aws.accounts] must be a table", location=Location(file=source))
    checked: dict[str, dict[str, str]] = {}
    for account, conf in accounts.items():
        if not ACCOUNT.match(str(account)):
            raise UsageError(
                f"aws.accounts: {account!r} is not a 12-digit account id",
                location=Location(file=source),
            )
        where_account = f"aws.accounts.{account}"
        if isinstance(conf, dict):
            _check_keys(
                conf,
                _ACCOUNT_KEYS,
                where_account + ".",
                "an account has profile and role_arn (the role is assumed with the profile's "
                "credentials)",
                where,
            )
        if not isinstance(conf, dict) or not (set(_ACCOUNT_KEYS) & set(conf)):
            raise UsageError(
                f'{where_account} needs profile = "..." or role_arn = "..."', location=where
            )
        for key, val in conf.items():
            if not isinstance(val, str) or not val:
                raise UsageError(
                    f"{where_account}.{key} must be a non-empty string, got {_toml_text(val)}",
                    location=where,
                )
        checked[str(account)] = dict(conf)
    if checked:
        out["accounts"] = checked
    return out
