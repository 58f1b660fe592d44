"""Run-time settings of a Session: one dataclass, set from the CLI, the API or the shell.

Also the checks of what a setting may hold (:data:`NUMERIC_RULES`, :data:`CHOICES`, the type of
each field), shared by the command line's options and the library's keyword arguments: a bad
value is a :class:`~stackql_tuning.errors.UsageError` naming the option or setting, before any
call. This module imports no SDK.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from stackql_tuning.errors import UsageError, did_you_mean


@dataclass(frozen=True)
class NumericRule:
    """What a numeric setting accepts: ``check`` on a finite number, said in words."""

    check: Callable[[float], bool]
    #: what a valid value is ("at least 1")
    text: str
    #: what the setting does or how to turn it off
    hint: str

    def accepts(self, value: float) -> bool:
        return math.isfinite(value) and self.check(value)


#: numeric settings -> their rule; the CLI refuses its options with these (exit 2), and
#: ``Session(...)`` / ``connect(...)`` their keyword arguments
#: the longest duration a setting takes (30 days): longer ones overflow the clocks of sockets,
#: locks and sleeps (1e10 s failed every call with OverflowError)
MAX_SECONDS = 30 * 24 * 3600
#: ... in words
_UP_TO = f"at most {MAX_SECONDS} (30 days)"
#: the slowest and fastest --rate-limit (requests per second): slower waited a near-infinite
#: time between calls
MIN_RATE, MAX_RATE = 0.001, 1_000_000


def _seconds(positive: bool) -> Callable[[float], bool]:
    if positive:
        return lambda v: 0 < v <= MAX_SECONDS
    return lambda v: 0 <= v <= MAX_SECONDS


_POSITIVE = f"a positive number of seconds, {_UP_TO}"
_SECONDS = f"a number of seconds >= 0, {_UP_TO}"

#: numeric settings -> their rule; the CLI refuses its options with these (exit 2), and
#: ``Session(...)`` / ``connect(...)`` their keyword arguments
NUMERIC_RULES: dict[str, NumericRule] = {
    "concurrency": NumericRule(
        lambda v: v >= 1, "at least 1", "the number of calls in flight at once (default 16)"
    ),
    "page_limit": NumericRule(lambda v: v >= 1, "at least 1", "leave it out for no limit"),
    "max_attempts": NumericRule(lambda v: v >= 1, "at least 1", "1 makes one attempt and no retry"),
    "timeout": NumericRule(_seconds(True), _POSITIVE, "leave it out for no time limit"),
    "connect_timeout": NumericRule(_seconds(True), _POSITIVE, "the default is 10"),
    "read_timeout": NumericRule(_seconds(True), _POSITIVE, "the default is 60"),
    "rate_limit": NumericRule(
        lambda v: MIN_RATE <= v <= MAX_RATE,
        f"a number of requests per second from {MIN_RATE:g} to {MAX_RATE:g}",
        "leave it out for no limit",
    ),
    "cache_ttl": NumericRule(_seconds(False), _SECONDS, "0 or leaving it out turns the cache off"),
    "per_host": NumericRule(
        lambda v: v >= 1, "at least 1", "the calls in flight at once to one host (default 16)"
    ),
    "await_timeout": NumericRule(_seconds(False), _SECONDS, "the default is 600"),
    "await_interval": NumericRule(_seconds(False), _SECONDS, "the default is 1"),
    "retry_base": NumericRule(_seconds(False), _SECONDS, "the default is 0.5"),
    "retry_cap": NumericRule(_seconds(False), _SECONDS, "the default is 20"),
}

#: settings that take one of a few strings
CHOICES: dict[str, tuple[str, ...]] = {"on_error": ("fail", "continue")}

#: a field's annotated type (without ``| None``) -> the Python types it accepts, in words
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
    "bool": ((bool,), "True or False"),
    "str": ((str,), "a string"),
    "dict": ((dict,), "a mapping"),
}


def _shown(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value)


def check_numeric(name: str, value: float, *, label: str | None = None) -> None:
    """Refuse ``value`` for the numeric setting ``name`` unless its rule accepts it.

    ``label`` is how the user spelled it (``--read-timeout``); the setting's name by default.
    """
    rule = NUMERIC_RULES[name]
    if not rule.accepts(value):
        label = label or name
        raise UsageError(
            f"{label} must be {rule.text}, got {_shown(value)}", hint=f"{label}: {rule.hint}"
        )


@dataclass
class Settings:
    #: auth configuration in StackQL's JSON shape: {"google": {...}, "aws": {...}}
    auth: dict[str, Any] = field(default_factory=dict)
    #: values of the variables an auth entry names (``keyIDenvvar``...), read before the
    #: environment's: a deploy resource's ``auth`` names its stack's variables
    auth_vars: dict[str, str] | None = field(default=None, repr=False)
    #: bounded worker pool for provider calls
    concurrency: int = 16
    #: at most this many concurrent calls to one host
    per_host: int = 16
    #: stop paginating after this many pages per call chain (None: unlimited, with a warning)
    page_limit: int | None = None
    #: per-statement time limit in seconds (None: none)
    timeout: float | None = None
    #: per-request connect time limit, and the longest wait for the next bytes of a reply
    #: (a socket read's, as requests and botocore count it), in seconds
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    #: "fail" (default): a failed call fails the statement; "continue": keep the rows that came
    on_error: str = "fail"
    #: print the calls a statement would make and make none
    dry_run: bool = False
    #: response cache TTL in seconds (None or 0: off)
    cache_ttl: float | None = None
    #: /*+ AWAIT */ time limit in seconds, and poll interval
    await_timeout: float = 600.0
    await_interval: float = 1.0
    #: Google base URL override (sandbox, tests): replaces the regional host for every location
    google_endpoint: str | None = None
    #: AWS endpoint override (sandbox, tests); boto3 also honours AWS_ENDPOINT_URL itself
    aws_endpoint: str | None = None
    #: max retry attempts per call (first attempt included), backoff base and cap in seconds
    max_attempts: int = 5
    retry_base: float = 0.5
    retry_cap: float = 20.0
    #: client-side rate limit per (provider, project/account, region), requests per second
    rate_limit: float | None = None
    #: push predicates the API can filter on down to the API (always re-checked locally), and
    #: filter a hydrating list's rows by the statement's conditions before getting them
    pushdown: bool = True
    #: parse and fill only the fields a statement reads (the others stay NULL; for checks)
    projection: bool = True
    #: with projection, ask APIs that offer partial responses (Google's ``fields``) for only
    #: those fields: smaller replies, the same rows
    partial_response: bool = True
    #: whether SQL may read and write local files (read_csv, COPY ... TO, ATTACH); False for a
    #: service that runs SQL built from its users' input: only the session's own temporary
    #: page files are reachable, and no statement can turn it back on
    file_access: bool = True
    #: param name -> values used when a query leaves that param unbound (config [defaults])
    defaults: dict[str, list[Any]] = field(default_factory=dict)
    #: AwsAccountId -> {"profile": ...} or {"role_arn": ...} (config [aws.accounts])
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check every field's value (type, range, choices); ``auth`` may be JSON text."""
        from stackql_tuning.transports.auth import parse_auth

        self.auth = parse_auth({} if self.auth is None else self.auth, option="auth")
        for f in fields(self):
            if f.name == "auth":
                continue
            _check_field(f.name, str(f.type), getattr(self, f.name))
        for name, variable in _ENDPOINTS.items():
            _check_endpoint(name, variable, getattr(self, name))
        self.defaults = _defaults(self.defaults)
        if self.accounts:  # the config file's rules for [aws.accounts], for the library's too
            from stackql_tuning.config import settings_from

            settings_from({"aws": {"accounts": self.accounts}}, "accounts")

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from keyword arguments (``connect(...)``): an unknown name is a UsageError
        with the closest setting names, as is a value of the wrong type or out of range."""
        names = [f.name for f in fields(cls)]
        for name in values:
            if name not in names:
                raise UsageError(
                    f"unknown setting {name!r}",
                    hint=did_you_mean(name, names) or "settings are: " + ", ".join(names),
                )
        return cls(**values)


def _defaults(given: dict[str, Any]) -> dict[str, list[Any]]:
    """``defaults`` as param -> a list of values: one value alone is a list of one (a string
    was taken as a list of its letters: a call per letter, 0 rows); a value that is neither
    a str, a number nor a list of them is a UsageError."""
    out: dict[str, list[Any]] = {}
    for name, value in given.items():
        if not isinstance(name, str):
            raise UsageError(f"defaults: a parameter name must be a str, got {name!r}")
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        bad = next((v for v in values if isinstance(v, bool) or not isinstance(v, _SCALAR)), 0)
        if not values or bad != 0:
            got = "an empty list" if not values else repr(bad)
            raise UsageError(
                f"defaults[{name!r}] must be a value or a list of values, got {got}",
                hint=f"e.g. defaults={{{name!r}: ['value-1', 'value-2']}}",
            )
        out[name] = list(dict.fromkeys(values))
    return out


_SCALAR = (str, int, float)

#: endpoint settings and the environment variable that usually sets them
_ENDPOINTS = {
    "google_endpoint": "STACKQL_TUNING_GOOGLE_ENDPOINT",
    "aws_endpoint": "AWS_ENDPOINT_URL",
}


def _check_endpoint(name: str, variable: str, value: str | None) -> None:
    """An endpoint that is not an http(s) URL with a host is refused here, naming where it
    usually comes from: ``not a url`` was sent, retried five times, and reported as "could not
    connect (Name or service not known)"."""
    if not value:
        return
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        ok = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and not any(c.isspace() for c in value)
        )
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        ok = False
    if not ok:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise UsageError(
            f"{name} must be an http(s) URL with a host and no white space, got {shown!r}",
            hint=f"it is usually set by ${variable}; e.g. http://127.0.0.1:8080",
        )


def _is_a(value: object, accepted: tuple[type, ...]) -> bool:
    """``isinstance``, but True and False are not numbers here."""
    return isinstance(value, accepted) and (bool in accepted or not isinstance(value, bool))


def _check_field(name: str, annotation: str, value: Any) -> None:
    optional = annotation.endswith("| None")
    if value is None and optional:
        return
    base = annotation.split("|")[0].split("[")[0].strip()
    accepted, words = _TYPES.get(base, ((object,), "a value"))
    if not _is_a(value, accepted):
        rule = NUMERIC_RULES.get(name)
        what = rule.text if rule is not None and base == "float" else words
        hint = f"{name}: {rule.hint}" if rule is not None else None
        if optional:
            what += " or None"
        raise UsageError(f"{name} must be {what}, got {value!r}", hint=hint)
    if name in NUMERIC_RULES:
        check_numeric(name, value)
    if name in CHOICES and value not in CHOICES[name]:
        choices = CHOICES[name]
        raise UsageError(
            f"{name} must be {' or '.join(repr(c) for c in choices)}, got {value!r}",
            hint=did_you_mean(str(value), choices),
        )
