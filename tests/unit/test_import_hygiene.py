"""Lazy start-up (issue 10): what a statement imports, checked in a fresh subprocess.

Catalog statements import no SDK, HTTP library, DuckDB or prompt_toolkit; planning a Google
query imports no AWS SDK and vice versa. No I/O: catalog statements and ``plan_query`` never
call a provider, and transports are only imported (never asked to send).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "boto3",
    "botocore",
    "google.auth",
    "googleapiclient",
    "requests",
    "duckdb",
    "_duckdb",  # its compiled core, which the store imports alone
    "prompt_toolkit",
)


def _loaded(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in modules)


@pytest.mark.parametrize(
    "statement",
    [
        "SHOW PROVIDERS",
        "SHOW SERVICES IN google",
        "SHOW RESOURCES IN aws.sagemaker",
        "SHOW METHODS IN google.aiplatform.hyperparameter_tuning_jobs",
        "DESCRIBE aws.sagemaker.hyper_parameter_tuning_jobs",
        "DESCRIBE EXTENDED google.aiplatform.tuning_jobs",
        "SHOW INSERT INTO google.aiplatform.hyperparameter_tuning_jobs",
    ],
)
def test_catalog_statements_import_nothing_heavy(statement: str) -> None:
    code = (
        "from stackql_tuning.session import Session\n"
        f"r = Session().execute({statement!r})\n"
        "assert r.rows, 'no rows'"
    )
    assert _heavy(_loaded(code)) == []


def test_the_cli_runs_show_providers_without_heavy_imports() -> None:
    code = (
        "import io, contextlib\n"
        "from stackql_tuning import cli\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try:\n"
        "        cli.main(['exec', 'SHOW PROVIDERS'])\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        "assert 'google' in buf.getvalue()"
    )
    assert _heavy(_loaded(code)) == []


def _transport_code(resource: str, where: str) -> str:
    return (
        "from stackql_tuning.plan.select import plan_query\n"
        "from stackql_tuning.registry.loader import default_registry\n"
        "from stackql_tuning.sql import parse\n"
        "from stackql_tuning.transports.base import transport_class\n"
        "reg = default_registry()\n"
        f"stmt = parse('SELECT * FROM {resource} WHERE {where}')[0]\n"
        "plan = plan_query(stmt.expression, reg)\n"
        "for slot in plan.slots:\n"
        "    transport_class(reg.provider(slot.resource.provider).transport)\n"
    )


def test_a_google_query_does_not_import_boto3() -> None:
    code = _transport_code(
        "google.aiplatform.hyperparameter_tuning_jobs",
        "projectsId = ''p'' AND locationsId = ''us-central1''",
    )
    loaded = _loaded(code.replace("''", "\\'"))
    assert "stackql_tuning.transports.google" in loaded
    assert not {"boto3", "botocore"} & loaded


def test_an_aws_query_does_not_import_google_libraries() -> None:
    code = _transport_code("aws.sagemaker.hyper_parameter_tuning_jobs", "region = ''us-east-1''")
    loaded = _loaded(code.replace("''", "\\'"))
    assert "stackql_tuning.transports.aws" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("google", "googleapiclient")}
    assert "requests" not in loaded


def test_no_heavy_module_is_imported_by_the_package_root() -> None:
    assert _heavy(_loaded("import stackql_tuning, stackql_tuning.session")) == []
    assert json.dumps(HEAVY)  # the list itself is plain data
