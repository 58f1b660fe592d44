"""Run-time settings of a Session: one dataclass, set from the CLI, the API or the shell."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Settings:
    #: auth configuration in StackQL's JSON shape: {"google": {...}, "aws": {...}}
    auth: dict[str, Any] = field(default_factory=dict)
    #: bounded worker pool for provider calls
    concurrency: int = 16
    #: at most this many concurrent calls to one host
    per_host: int = 16
    #: stop paginating after this many pages per call chain (None: unlimited, with a warning)
    page_limit: int | None = None
    #: per-statement time limit in seconds (None: none)
    timeout: float | None = None
    #: per-request connect/read time limits in seconds
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
    #: push predicates the API can filter on down to the API (always re-checked locally)
    pushdown: bool = True
    #: parse and fill only the fields a statement reads (the others stay NULL; for checks)
    projection: bool = True
    #: with projection, ask APIs that offer partial responses (Google's ``fields``) for only
    #: those fields: smaller replies, the same rows
    partial_response: bool = True
    #: param name -> values used when a query leaves that param unbound (config [defaults])
    defaults: dict[str, list[Any]] = field(default_factory=dict)
    #: AwsAccountId -> {"profile": ...} or {"role_arn": ...} (config [aws.accounts])
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)
