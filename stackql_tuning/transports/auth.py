"""Auth configuration in StackQL's JSON shape, parsed and checked without touching any SDK.

    {"google": {"type": "service_account", "credentialsfilepath": "key.json"}}
    {"google": {"type": "anonymous"}}
    {"aws": {"type": "aws_signing_v4", "keyIDenvvar": "AWS_KEY", "credentialsenvvar": "AWS_SECRET"}}
    {"aws": {"profile": "name"}}

No secret is ever put into a message: errors name env var names and file paths only.
"""

from __future__ import annotations

import json
import os
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from stackql_tuning.errors import AuthError, UsageError

GOOGLE_TYPES = ("service_account", "anonymous", "default", "adc")
AWS_TYPES = ("aws_signing_v4", "profile", "default")


def parse_auth(value: str | dict[str, Any] | None, *, option: str = "--auth") -> dict[str, Any]:
    """The auth mapping from ``--auth`` text, a dict, or env ``STACKQL_TUNING_AUTH``.

    ``option`` names the value in errors: ``--auth`` on the command line, ``auth`` for the
    library's setting.
    """
    if value is None:
        value = os.environ.get("STACKQL_TUNING_AUTH") or "{}"
        option = "$STACKQL_TUNING_AUTH"  # where the value came from, not the option not given
    example = (
        'e.g. --auth \'{"google": {"type": "anonymous"}}\''
        if option.startswith("-")
        else 'e.g. export STACKQL_TUNING_AUTH=\'{"google": {"type": "anonymous"}}\''
        if option.startswith("$")
        else 'e.g. auth={"google": {"type": "anonymous"}}'
    )
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise UsageError(
                f"{option} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}",
                hint=example,
            ) from None
        except RecursionError:
            raise UsageError(f"{option} nests its values too deeply to be read") from None
    if not isinstance(value, dict):
        raise UsageError(
            f"{option} must be a JSON object keyed by provider (google, aws)", hint=example
        )
    for provider, conf in value.items():
        if provider not in ("google", "aws"):
            raise UsageError(
                f"{option} names an unknown provider {provider!r}", hint="use 'google' or 'aws'"
            )
        if not isinstance(conf, dict):
            raise UsageError(f"{option}: the {provider} entry must be an object")
    return dict(value)


def google_kind(conf: dict[str, Any]) -> str:
    kind = str(conf.get("type", "default")).lower()
    if kind not in GOOGLE_TYPES:
        raise AuthError(
            f"google auth type {kind!r} is not supported",
            hint=f"use one of {', '.join(GOOGLE_TYPES)}",
        )
    return kind


def aws_credentials(
    conf: dict[str, Any], variables: Mapping[str, str] | None = None
) -> dict[str, str]:
    """boto3 Session kwargs for an AWS auth entry (reads the variables it names from
    ``variables``, then the environment; never logs them)."""
    stack = variables is not None  # a deploy resource's auth: its stack's variables first
    env: Mapping[str, str] = ChainMap(dict(variables or {}), dict(os.environ))
    if "profile" in conf:
        return {"profile_name": str(conf["profile"])}
    kind = str(conf.get("type", "default")).lower()
    if kind == "default" or not conf:
        return {}
    if kind != "aws_signing_v4":
        raise AuthError(
            f"aws auth type {kind!r} is not supported",
            hint="use aws_signing_v4 with keyIDenvvar/credentialsenvvar, or a profile",
        )
    key_var = conf.get("keyIDenvvar") or "AWS_ACCESS_KEY_ID"
    secret_var = conf.get("credentialsenvvar") or "AWS_SECRET_ACCESS_KEY"
    key, secret = env.get(key_var), env.get(secret_var)
    missing = [v for v, val in ((key_var, key), (secret_var, secret)) if not val]
    if missing:
        raise AuthError(
            f"aws credentials: {'' if stack else 'environment '}variable(s) "
            f"{', '.join(missing)} not set"
            + (" (neither a stack variable nor in the environment)" if stack else ""),
            hint='set them, or use --auth \'{"aws": {"profile": "NAME"}}\'',
        )
    out = {"aws_access_key_id": str(key), "aws_secret_access_key": str(secret)}
    token_var = conf.get("sessiontokenenvvar")
    if token_var and env.get(token_var):
        out["aws_session_token"] = env[token_var]
    return out
