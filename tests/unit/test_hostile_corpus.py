"""The hostile-input corpus (tests/golden/hostile/corpus.yaml) run through one harness.

Every case (SQL, parameter values, server replies, templates, manifests) must end in a result or
one of our errors, never another exception; no request may leave for a host other than the
regional Vertex AI host or with a path other than the method's template; and no credential
(an AWS key pair, a Google service-account key and the access token it is exchanged for, all
fake and recognisable) may appear in any error, row, message or warning.

HTTP is stubbed with ``responses`` (the token endpoint and the Vertex hosts); nothing leaves the
process. ``benchmarks/reliability.py`` runs the same harness to report the corpus' outcome.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import responses
import yaml

from stackql_tuning.errors import StackqlTuningError
from stackql_tuning.session import Session
from stackql_tuning.transports.google import GoogleTransport

CORPUS = Path(__file__).resolve().parents[1] / "golden" / "hostile" / "corpus.yaml"
REPLY_SQL = (
    "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
    "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
)
AWS_KEY_ID = "AKIAHOSTILEKEY000001"
AWS_SECRET = "hostileAwsSecret/0001+NeverPrintMe"
GOOGLE_TOKEN = "ya29.hostile-access-token-0001-never-print-me"
KEY_ID = "hostile-private-key-id-0001"
TOKEN_URI = "https://oauth2.googleapis.com/token"
HOST = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-aiplatform\.googleapis\.com$")
DEFAULT_REPLY = {
    "status": 200,
    "body": json.dumps(
        {
            "hyperparameterTuningJobs": [
                {"name": "projects/p/locations/us-central1/hyperparameterTuningJobs/1"},
                {"name": "projects/p/locations/us-central1/hyperparameterTuningJobs/2"},
            ]
        }
    ),
}


def load_corpus() -> list[dict[str, Any]]:
    cases = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return list(cases)


def _repeat(spec: dict[str, Any]) -> str:
    n = int(spec["times"])
    return (
        spec.get("prefix", "")
        + spec.get("open", "") * n
        + spec.get("middle", "") * (1 if spec.get("open") else n)
        + spec.get("close", "") * n
        + spec.get("suffix", "")
    )


def _private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Outcome:
    """What one case did: ``kind`` is ok, an error class name, or crash:<exception class>."""

    kind: str
    text: str = ""
    values: list[Any] = field(default_factory=list)
    rows: int | None = None
    requests: list[Any] = field(default_factory=list)


class Harness:
    """Stubbed HTTP, fake credentials and two sessions (live and --dry-run) for the corpus."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        pem = _private_key_pem()
        #: every string that must never be printed
        self.secrets = [AWS_KEY_ID, AWS_SECRET, GOOGLE_TOKEN, KEY_ID]
        self.secrets += [line for line in pem.splitlines() if len(line) > 40][:3]
        self.key_file = workdir / "sa-key.json"
        self.key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "p",
                    "private_key_id": KEY_ID,
                    "private_key": pem,
                    "client_email": "hostile@p.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": TOKEN_URI,
                }
            )
        )
        self.replies: list[dict[str, Any]] = [DEFAULT_REPLY]
        self.sent: list[Any] = []

    def auth(self) -> dict[str, Any]:
        return {
            "google": {"type": "service_account", "credentialsfilepath": str(self.key_file)},
            "aws": {
                "type": "aws_signing_v4",
                "keyIDenvvar": "HOSTILE_AWS_KEY_ID",
                "credentialsenvvar": "HOSTILE_AWS_SECRET",
            },
        }

    @contextmanager
    def running(self) -> Iterator[Harness]:
        saved = {k: os.environ.get(k) for k in ("HOSTILE_AWS_KEY_ID", "HOSTILE_AWS_SECRET")}
        os.environ["HOSTILE_AWS_KEY_ID"] = AWS_KEY_ID
        os.environ["HOSTILE_AWS_SECRET"] = AWS_SECRET
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        mock.add(
            responses.POST,
            TOKEN_URI,
            json={"access_token": GOOGLE_TOKEN, "expires_in": 3600, "token_type": "Bearer"},
        )
        # google-auth looks up a service account's regional access boundary on its own
        mock.add(
            responses.GET,
            re.compile(r"https://iamcredentials\.googleapis\.com/.*/allowedLocations"),
            json={"encodedLocations": "0x0", "locations": []},
        )
        api = re.compile(r"https?://(?!oauth2\.|iamcredentials\.).*")
        for verb in (responses.GET, responses.POST, responses.DELETE):
            mock.add_callback(verb, api, callback=self._reply)
        settings = {"auth": self.auth(), "retry_base": 0.0005, "max_attempts": 2}
        self.live = Session(**settings)
        self.dry = Session(**settings, dry_run=True)
        lean = GoogleTransport.lean_http
        GoogleTransport.lean_http = False  # ``responses`` replaces requests' adapter
        try:
            with mock:
                yield self
        finally:
            GoogleTransport.lean_http = lean
            self.live.close()
            self.dry.close()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def _reply(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        self.sent.append(request)
        reply = self.replies[min(len(self.sent) - 1, len(self.replies) - 1)]
        if "body_repeat" in reply:
            body = _repeat(reply["body_repeat"])
        else:
            body = str(reply.get("body", "")).replace("{token}", GOOGLE_TOKEN)
        headers = {"Content-Type": reply.get("content_type", "application/json; charset=UTF-8")}
        return int(reply.get("status", 200)), headers, body.encode("utf-8", "surrogatepass")

    # -- running one case ---------------------------------------------------------------------
    def run(self, case: dict[str, Any]) -> Outcome:
        self.sent = []
        self.replies = list(case.get("replies") or [DEFAULT_REPLY])
        try:
            out = RUNNERS[case["kind"]](self, case)
        except StackqlTuningError as e:
            out = Outcome(type(e).__name__, str(e))
        except Exception as e:  # the failure this corpus exists to catch
            out = Outcome(f"crash:{type(e).__name__}", f"{type(e).__name__}: {e}")
        out.requests = list(self.sent)
        return out

    def _sql_text(self, case: dict[str, Any]) -> str:
        return _repeat(case["sql_repeat"]) if "sql_repeat" in case else str(case["sql"])

    def _result(self, result: Any) -> Outcome:
        parts = [repr(result.rows), *result.messages, *result.warnings]
        parts += [f.describe() for f in result.failures]
        values = [r[0] for r in result.rows] if result.rows and result.columns else []
        return Outcome("ok", "\n".join(parts), values, len(result.rows))


def _run_sql(h: Harness, case: dict[str, Any]) -> Outcome:
    return h._result(h.live.execute(h._sql_text(case)))


def _run_dry(h: Harness, case: dict[str, Any]) -> Outcome:
    return h._result(h.dry.execute(h._sql_text(case)))


def _run_reply(h: Harness, case: dict[str, Any]) -> Outcome:
    return h._result(h.live.execute(str(case.get("sql", REPLY_SQL))))


def _run_template(h: Harness, case: dict[str, Any]) -> Outcome:
    from stackql_tuning.sql.template import render_script

    text = render_script(case["text"], variables=case.get("variables") or {}, source="case.iql")
    return Outcome("ok", text)


def _run_manifest(h: Harness, case: dict[str, Any]) -> Outcome:
    from stackql_tuning.deploy.manifest import load_manifest

    stack = Path(tempfile.mkdtemp(dir=h.workdir))
    (stack / "stackql_manifest.yml").write_text(case["text"], encoding="utf-8")
    manifest = load_manifest(stack)
    return Outcome("ok", repr(manifest)[:2000])


RUNNERS = {
    "sql": _run_sql,
    "dry_run": _run_dry,
    "reply": _run_reply,
    "template": _run_template,
    "manifest": _run_manifest,
}


def problems(case: dict[str, Any], out: Outcome, secrets: list[str]) -> list[str]:
    """Everything wrong with one case's outcome (empty: the case passes)."""
    found: list[str] = []
    if out.kind.startswith("crash:"):
        found.append(f"crashed: {out.text[:300]}")
    expect = case.get("expect", "any")
    if expect == "error":
        if out.kind == "ok" or out.kind.startswith("crash:"):
            found.append(f"expected one of our errors, got {out.kind}")
    elif expect != "any" and out.kind != expect:
        found.append(f"expected {expect}, got {out.kind}: {out.text[:300]}")
    if case.get("match") and not re.search(case["match"], out.text):
        found.append(f"{case['match']!r} not in {out.text[:300]!r}")
    if "rows" in case and out.kind == "ok" and out.rows != case["rows"]:
        found.append(f"expected {case['rows']} rows, got {out.rows}")
    if "values" in case and out.values != case["values"]:
        found.append(f"expected values {case['values']!r}, got {out.values!r}")
    if "requests" in case and len(out.requests) != case["requests"]:
        found.append(f"expected {case['requests']} requests, sent {len(out.requests)}")
    for req in out.requests:
        found.extend(_request_problems(req))
    if case.get("sent_query"):
        if not out.requests:
            found.append("no request was sent")
        else:
            query = {k: v[-1] for k, v in parse_qs(urlsplit(out.requests[0].url).query).items()}
            for k, v in case["sent_query"].items():
                if query.get(k) != v:
                    found.append(f"query {k} sent as {query.get(k)!r}, not {v!r}")
    for secret in secrets:
        if secret in out.text:
            found.append(f"leaked a credential: {secret[:12]}...")
    return found


def _request_problems(req: Any) -> list[str]:
    url = urlsplit(req.url)
    found = []
    if not HOST.match(url.hostname or "") or url.port is not None or url.username:
        found.append(f"request to an unexpected host: {req.url[:120]}")
    segments = url.path.split("/")[1:]
    if len(segments) < 5 or segments[:2] != ["v1", "projects"] or segments[3] != "locations":
        found.append(f"request path off the template: {url.path[:120]}")
    for seg in segments:
        text = unquote(seg)
        if not seg or text in (".", "..") or "/" in text or "\\" in text:
            found.append(f"malformed path segment {seg[:60]!r} in {url.path[:120]}")
    if url.fragment:
        found.append(f"request with a fragment: {req.url[:120]}")
    return found


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = Harness(tmp_path_factory.mktemp("hostile"))
    with h.running():
        yield h


CASES = load_corpus()


def test_corpus_is_big_enough() -> None:
    categories = {c["category"] for c in CASES}
    assert categories == {"sql", "parameter", "reply", "manifest"}
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c["id"], marks=[pytest.mark.xfail(reason=c["xfail"], strict=True)])
        if c.get("xfail")
        else pytest.param(c, id=c["id"])
        for c in CASES
    ],
)
def test_hostile_case(harness: Harness, case: dict[str, Any]) -> None:
    out = harness.run(case)
    assert problems(case, out, harness.secrets) == []


def test_the_credentials_are_really_in_play(harness: Harness) -> None:
    """The no-leak checks mean something: the token was fetched and sent on every API call."""
    out = harness.run({"id": "probe", "kind": "reply", "expect": "ok"})
    assert out.kind == "ok" and out.requests
    assert all(r.headers.get("Authorization") == f"Bearer {GOOGLE_TOKEN}" for r in out.requests)
    dry = harness.run(
        {
            "id": "probe-aws",
            "kind": "dry_run",
            "sql": "SELECT HyperParameterTuningJobName FROM "
            "aws.sagemaker.hyper_parameter_tuning_jobs WHERE region = 'us-east-1'",
        }
    )
    assert dry.kind == "ok" and "ListHyperParameterTuningJobs" in dry.text
