"""Drift checks: providers/ and the generated docs must equal what the generators produce now."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any

import pytest

from stackql_tuning.registry import docs as docs_gen
from stackql_tuning.registry import generator
from stackql_tuning.registry.loader import Registry

REPO = Path(__file__).resolve().parents[2]
PROVIDERS = REPO / "providers"
DOCS = REPO / "docs"


def _tree(root: Path, pattern: str, under: list[str]) -> set[Path]:
    out: set[Path] = set()
    for sub in under:
        base = root / sub
        if base.is_dir():
            out |= {p.relative_to(root) for p in base.rglob(pattern)}
    return out


def _without_sdk_version(path: Path) -> Any:
    """A generated JSON file without the SDK version it records (``source.sdk_version``):
    provenance, not content (a new botocore release with the same model failed the check on
    every fresh install)."""
    data = json.loads(path.read_text())
    if isinstance(data, dict) and isinstance(data.get("source"), dict):
        data["source"].pop("sdk_version", None)
    return data


def _same(generated: Path, committed: Path) -> bool:
    if filecmp.cmp(generated, committed, shallow=False):
        return True
    return generated.suffix == ".json" and _without_sdk_version(generated) == (
        _without_sdk_version(committed)
    )


def _diff(expected_root: Path, actual_root: Path, files: set[Path], extra: set[Path]) -> list[str]:
    problems = []
    for rel in sorted(files):
        committed = actual_root / rel
        if not committed.is_file():
            problems.append(f"missing: {committed}")
        elif not _same(expected_root / rel, committed):
            problems.append(f"differs: {committed}")
    problems += [f"not generated (stale): {actual_root / rel}" for rel in sorted(extra - files)]
    return problems


def test_providers_match_generator(tmp_path: Path) -> None:
    generator.generate(tmp_path)
    providers = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    fresh = _tree(tmp_path, "*.json", providers)
    committed = _tree(PROVIDERS, "*.json", providers)
    problems = _diff(tmp_path, PROVIDERS, fresh, committed)
    assert not problems, (
        "providers/ drifted from the generator (selections or installed SDKs changed):\n  "
        + "\n  ".join(problems)
        + "\nregenerate with: python -m stackql_tuning.registry.generator"
        " (or stackql-tuning registry generate) and review the diff"
    )


def test_docs_match_generator(tmp_path: Path) -> None:
    reg = Registry(PROVIDERS)
    docs_gen.generate_docs(reg, tmp_path)
    fresh = _tree(tmp_path, "*.md", ["providers"])
    committed = _tree(DOCS, "*.md", ["providers"])
    problems = _diff(tmp_path, DOCS, fresh, committed)
    index = DOCS / "index.md"
    if not index.is_file():
        problems.append(f"missing: {index}")
    else:
        want = docs_gen.index_block(reg)
        if want not in index.read_text():
            problems.append(f"differs: generated resource index block of {index}")
    assert not problems, (
        "docs/ drifted from the registry:\n  "
        + "\n  ".join(problems)
        + "\nregenerate with: python -m stackql_tuning.registry.docs"
    )


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = generator.build(generator.load_selections())
    b = generator.build(generator.load_selections())
    assert {k: generator.dump_json(v) for k, v in a.items()} == {
        k: generator.dump_json(v) for k, v in b.items()
    }


def test_generate_removes_stale_definitions(tmp_path: Path) -> None:
    generator.generate(tmp_path)
    stale = tmp_path / "google" / "aiplatform" / "gone.json"
    stale.write_text("{}\n")
    (tmp_path / "README.md").write_text("kept\n")
    generator.generate(tmp_path)
    assert not stale.exists()
    assert (tmp_path / "README.md").read_text() == "kept\n"


def test_docs_index_keeps_hand_written_text(tmp_path: Path) -> None:
    reg = Registry(PROVIDERS)
    (tmp_path / "index.md").write_text(
        f"# Mine\n\nintro\n\n{docs_gen.INDEX_BEGIN}\nold\n{docs_gen.INDEX_END}\n\noutro\n"
    )
    docs_gen.generate_docs(reg, tmp_path)
    text = (tmp_path / "index.md").read_text()
    assert text.startswith("# Mine\n\nintro\n\n") and text.endswith("\n\noutro\n")
    assert "old" not in text
    for res in reg.all_resources():
        assert f"]({docs_gen.page_path(res).as_posix()})" in text


def test_docs_sql_examples_parse() -> None:
    import re

    import sqlglot

    dialect = pytest.importorskip("stackql_tuning.sql.dialect").Stackql
    blocks = 0
    for page in sorted((DOCS / "providers").rglob("*.md")):
        for block in re.findall(r"```sql\n(.*?)```", page.read_text(), re.S):
            sql = re.sub(r"\{\{ (\w+) \}\}", r"v_\1", block)
            assert sqlglot.parse(sql, read=dialect), page
            blocks += 1
    assert blocks


def test_a_discovery_document_without_a_selected_method_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # google-api-python-client 2.126 lacks tuningJobs.rebaseTunedModel: an internal KeyError
    import copy
    import json

    from stackql_tuning.errors import UsageError
    from stackql_tuning.registry import google_spec

    selection = json.loads((generator.SELECTIONS_DIR / "google_aiplatform.json").read_text())
    real = google_spec.load_discovery

    def older(api: str, version: str) -> dict:
        doc = copy.deepcopy(real(api, version))
        locations = doc["resources"]["projects"]["resources"]["locations"]["resources"]
        del locations["tuningJobs"]["methods"]["rebaseTunedModel"]
        return doc

    monkeypatch.setattr(google_spec, "load_discovery", older)
    with pytest.raises(
        UsageError, match=r"has no projects\.locations\.tuningJobs\.rebaseTunedModel"
    ):
        generator.build([selection])
