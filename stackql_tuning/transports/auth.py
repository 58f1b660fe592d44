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
import re
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from stackql_tuning.errors import AuthError, UsageError, did_you_mean

GOOGLE_TYPES = ("service_account", "anonymous", "default", "adc")
AWS_TYPES = ("aws_signing_v4", "profile", "default")
#: the keys each provider's entry may have; a key outside them was once ignored, and the calls
#: went out with other credentials than the ones the user named
KEYS = {
    "google": ("type", "credentialsfilepath"),
    "aws": ("type", "keyIDenvvar", "credentialsenvvar", "sessiontokenenvvar", "profile"),
}
#: the keys that name an environment variable (never a secret: a value outside this form is
#: refused without being shown, as it may be the secret itself pasted in the wrong place)
_VAR_KEYS = ("keyIDenvvar", "credentialsenvvar", "sessiontokenenvvar")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_AWS_KEY_ID = re.compile(r"(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA)[A-Z0-9]{12,}")


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
    return {provider: _entry(provider, conf, option) for provider, conf in value.items()}


def _entry(provider: str, conf: dict[str, Any], option: str) -> dict[str, Any]:
    """``conf`` checked (known keys, string values, variable names) with its ``type`` implied
    by its keys when it has none: a key file is a service account, env var names sign v4."""
    known = KEYS[provider]
    for key, val in conf.items():
        if key not in known:
            raise UsageError(
                f"{option}: the {provider} entry has an unknown key {key!r}",
                hint=did_you_mean(key, known) or f"{provider} entries take {', '.join(known)}",
            )
        if not isinstance(val, str) or not val:
            raise UsageError(f"{option}: {provider}.{key} must be a non-empty string")
        if key in _VAR_KEYS and (not _VAR_NAME.fullmatch(val) or _AWS_KEY_ID.fullmatch(val)):
            # the value is not shown: it is likely the key or secret itself
            raise UsageError(
                f"{option}: {provider}.{key} must name an environment variable, and its value "
                "does not look like a variable name (not shown: it may be a secret)",
                hint=f'e.g. "{key}": "AWS_ACCESS_KEY_ID"; put the secret in that variable',
            )
    out = dict(conf)
    if provider == "google" and "type" not in out and "credentialsfilepath" in out:
        out["type"] = "service_account"
    if provider == "aws":
        signing = [k for k in ("keyIDenvvar", "credentialsenvvar") if k in out]
        if "profile" in out and (signing or out.get("type", "profile").lower() != "profile"):
            raise UsageError(
                f"{option}: the aws entry names a profile and "
                + (" and ".join(signing) if signing else f"type {out['type']!r}")
                + "; they are two different credentials",
                hint='use {"profile": "NAME"} or {"type": "aws_signing_v4", "keyIDenvvar": ...}',
            )
        if "type" not in out and signing:
            out["type"] = "aws_signing_v4"
        if str(out.get("type", "")).lower() == "profile" and "profile" not in out:
            raise UsageError(
                f"{option}: aws type 'profile' needs the profile's name",
                hint='e.g. {"aws": {"profile": "NAME"}}',
            )
    return out


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
