"""The bad-input corpus (tests/golden/mutations/bad_inputs.sql): every malformed mutation fails
with its expected message, and none reaches a server (the fetcher fails the test on any fetch)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import stackql_tuning
from stackql_tuning import errors
from stackql_tuning.run.fetch import Fetcher

CORPUS = Path(__file__).resolve().parents[1] / "golden" / "mutations" / "bad_inputs.sql"


class NoCallFetcher(Fetcher):
    """The real fetcher's ``prepare`` (pure), and a ``fetch`` that fails the test."""

    def fetch(self, call, token=None):  # type: ignore[no-untyped-def]
        pytest.fail(f"a malformed mutation reached the server: {call.label}")


def no_call_session(**settings):  # type: ignore[no-untyped-def]
    # no endpoint override: the real regional hosts, so location checks apply (nothing is sent)
    settings.setdefault("auth", {"google": {"type": "anonymous"}})
    s = stackql_tuning.connect(**settings)
    s._state["fetcher"] = NoCallFetcher(s.settings, s.registry)
    return s


def load_cases() -> list[tuple[str, str, list[tuple[str, str]]]]:
    cases = []
    title, sql, expect = None, [], []
    for line in [*CORPUS.read_text().splitlines(), "# title: <end>"]:
        if line.startswith("# title:"):
            if title is not None:
                cases.append((title, "\n".join(sql).strip(), expect))
            title, sql, expect = line.split(":", 1)[1].strip(), [], []
        elif line.startswith("# error:"):
            cls, _, text = line.split(":", 1)[1].strip().partition(": ")
            expect.append((cls, text))
        elif title is not None and not line.startswith("#"):
            sql.append(line)
    return cases


CASES = load_cases()


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 20
    assert all(expect for _, _, expect in CASES)


@pytest.fixture(scope="module")
def session():  # type: ignore[no-untyped-def]
    s = no_call_session()
    yield s
    s.close()


@pytest.mark.parametrize(("title", "sql", "expect"), CASES, ids=[c[0] for c in CASES])
def test_bad_mutation(session, title: str, sql: str, expect: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.StackqlTuningError) as info:
        session.execute(sql)
    text = str(info.value)
    for cls, fragment in expect:
        assert type(info.value).__name__ == cls, text
        assert fragment in text, f"{title}: expected {fragment!r} in:\n{text}"
    assert "Traceback" not in text
    assert not re.search(r"\bNone\b", text.split("\n")[0]), text


@pytest.mark.parametrize(("title", "sql", "expect"), CASES, ids=[c[0] for c in CASES])
def test_bad_mutation_fails_under_dry_run_too(title: str, sql: str, expect) -> None:  # type: ignore[no-untyped-def]
    s = no_call_session(dry_run=True)
    try:
        with pytest.raises(errors.StackqlTuningError) as info:
            s.execute(sql)
        assert expect[0][1] in str(info.value)
    finally:
        s.close()
