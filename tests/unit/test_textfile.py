"""User files that are not UTF-8: an error naming the file and the byte, never an internal error."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from stackql_tuning.cli import main
from stackql_tuning.config import load_config
from stackql_tuning.deploy.context import load_env_vars
from stackql_tuning.errors import ManifestError, UsageError
from stackql_tuning.textfile import decode

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(argv, out=out, err=err), out.getvalue(), err.getvalue()


def assert_not_utf8(err: str, file: Path, line: int, column: int, offset: int) -> None:
    assert f"({file}:{line}:{column}" in err, err
    assert "is not UTF-8 text: byte 0x" in err and f"at byte offset {offset}" in err, err
    assert "internal error" not in err and "Traceback" not in err, err


def test_decode_names_line_column_and_byte() -> None:
    with pytest.raises(ManifestError) as info:
        decode(b"SELECT 1;\n-- caf\xe9\n", file="x.iql", error=ManifestError, resource="r")
    e = info.value
    assert (e.location.file, e.location.line, e.location.column) == ("x.iql", 2, 7)
    assert e.location.resource == "r"
    assert "byte 0xe9 at byte offset 16" in e.message and e.hint
    # the column counts characters, not bytes
    with pytest.raises(UsageError) as info:
        decode("é".encode() + b"\xff", file="y")
    assert info.value.location.column == 2


def test_exec_file_in_utf16(tmp_path: Path) -> None:
    script = tmp_path / "bin.iql"
    script.write_bytes(b"\xff\xfeSELECT 1;")
    code, out, err = run(["exec", "-f", str(script)])
    assert code == 2 and out == ""
    assert_not_utf8(err, script, 1, 1, 0)
    assert "UTF-16" in err


def test_vars_file_not_utf8(tmp_path: Path) -> None:
    vars_file = tmp_path / "vars.yml"
    vars_file.write_bytes(b"a: \xff\n")
    code, out, err = run(["exec", "--vars-file", str(vars_file), "SELECT 1"])
    assert code == 2 and out == ""  # a wrong --vars-file is a usage error
    assert err.startswith("usage error (")
    assert_not_utf8(err, vars_file, 1, 4, 3)


def test_manifest_resource_file_in_latin1(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(ROOT / "manifests" / "sagemaker-hpo", stack)
    iql = stack / "resources" / "hpo_job.iql"
    data = iql.read_bytes()
    iql.write_bytes(data + b"-- caf\xe9\n")
    code, _, err = run(["deploy", "build", str(stack), "dev", "--dry-run"])
    assert code == 1
    assert_not_utf8(err, iql, data.count(b"\n") + 1, 7, len(data) + 6)
    assert "hpo_job" in err


def test_manifest_yaml_env_and_config_files_not_utf8(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(ROOT / "manifests" / "vertex-hpt", stack)
    manifest = stack / "stackql_manifest.yml"
    manifest.write_bytes(b"# \xe9\n" + manifest.read_bytes())
    code, _, err = run(["deploy", "build", str(stack), "dev", "--dry-run"])
    assert code == 1
    assert_not_utf8(err, manifest, 1, 3, 2)

    env = tmp_path / "e.env"
    env.write_bytes(b"A=1\nB=\xff\n")
    with pytest.raises(ManifestError, match="not UTF-8") as info:
        load_env_vars(env, [])
    assert info.value.location.line == 2

    config = tmp_path / "config.toml"
    config.write_bytes(b"[defaults]\nregion = '\xe9'\n")
    with pytest.raises(UsageError, match="not UTF-8") as info:
        load_config(config)
    assert info.value.location.line == 2


# -- a leading UTF-8 byte order mark is not part of the text ---------------------------------------
BOM = b"\xef\xbb\xbf"


def test_exec_file_with_a_bom_runs_and_keeps_line_and_column(tmp_path: Path) -> None:
    script = tmp_path / "bom.iql"
    script.write_bytes(BOM + b"SELECT 41 + 1 AS x;")
    code, out, err = run(["exec", "-o", "csv", "-f", str(script)])
    assert (code, out, err) == (0, "x\n42\n", "")
    script.write_bytes(BOM + b"SELECT 1; SELEC 2;")
    code, _, err = run(["exec", "-f", str(script)])
    assert code == 1 and f"parse error ({script}:1:11): 'SELEC'" in err, err
    script.write_bytes(BOM + b"SELECT 1;\n  SELEC 2;")
    code, _, err = run(["exec", "-f", str(script)])
    assert code == 1 and f"parse error ({script}:2:3): 'SELEC'" in err, err
    # a byte that is not UTF-8 after a BOM: the column an editor shows
    script.write_bytes(BOM + b"-- \xe9")
    code, _, err = run(["exec", "-f", str(script)])
    assert_not_utf8(err, script, 1, 4, 6)


def test_manifest_and_resource_files_with_a_bom(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    shutil.copytree(ROOT / "manifests" / "sagemaker-hpo", stack)
    for path in (stack / "stackql_manifest.yml", stack / "resources" / "hpo_job.iql"):
        path.write_bytes(BOM + path.read_bytes())
    code, out, err = run(["deploy", "build", str(stack), "dev", "--dry-run"])
    assert code == 0, err
    assert "would run /*+ create */" in out + err


def test_vars_env_and_config_files_with_a_bom(tmp_path: Path) -> None:
    vars_file = tmp_path / "vars.json"
    vars_file.write_bytes(BOM + b'{"n": 7}')
    code, out, err = run(
        ["exec", "-o", "csv", "--vars-file", str(vars_file), "SELECT {{ n }} AS n"]
    )
    assert (code, out) == (0, "n\n7\n"), err
    env = tmp_path / "e.env"
    env.write_bytes(BOM + b"A=1\n")
    assert load_env_vars(env, []) == {"A": "1"}
    config = tmp_path / "config.toml"
    config.write_bytes(BOM + b"[defaults]\nregion = 'eu-west-1'\n")
    assert load_config(config)["defaults"] == {"region": ["eu-west-1"]}
