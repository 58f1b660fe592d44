"""What --dry-run says beside the requests: where a dependent table's values come from, which
listed rows are got again, and when paging stops (``plan.explain``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackql_tuning.session import Session

A = "aws.sagemaker.hyper_parameter_tuning_jobs"
T = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"
G = "google.aiplatform.hyperparameter_tuning_jobs"
GW = "projectsId = 'p' AND locationsId = 'us-central1'"


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    auth = {"aws": {"type": "default"}, "google": {"type": "anonymous"}}
    with Session(dry_run=True, auth=auth) as s:
        yield s


def _said(session: Session, sql: str) -> list[tuple[str, str]]:
    """(method, request) of each row of the dry run, the requests' own text left out."""
    rows = session.execute(sql).rows
    return [(m, r) for _, m, r in rows if not r.startswith(("GET ", "sagemaker."))]


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        (f"SELECT name FROM {G} WHERE {GW}", []),
        (
            f"SELECT name FROM {G} WHERE {GW} LIMIT 4",
            [("list", "pages stop once 4 rows have arrived")],
        ),
        (
            f"SELECT name FROM {G} WHERE {GW} AND displayName LIKE '%x%' LIMIT 4",
            [("list", "pages stop once 4 rows that pass displayName LIKE '%x%' have arrived")],
        ),
        (
            f"SELECT * FROM {A} WHERE region = 'us-east-1' AND Strategy = 'Bayesian' LIMIT 3",
            [("get", "one call per listed row that passes Strategy = 'Bayesian', the first 3")],
        ),
        (
            f"SELECT name, trials FROM {G} WHERE {GW} ORDER BY createTime DESC LIMIT 2",
            [("get", "one call per listed row, the first 2 by createTime DESC")],
        ),
        (f"SELECT name, trials FROM {G} WHERE {GW}", [("get", "one call per listed row")]),
        (
            # the IN's subquery, not the internal alias of the join it became
            f"SELECT TrainingJobName FROM {T} WHERE region = 'us-east-1' AND "
            f"HyperParameterTuningJobName IN (SELECT HyperParameterTuningJobName FROM {A} "
            "WHERE region = 'us-east-1')",
            [
                (
                    "list",
                    "one call per row of the IN subquery (SELECT HyperParameterTuningJobName "
                    f"FROM {A} WHERE region = 'us-east-1')",
                )
            ],
        ),
        (
            f"SELECT t.TrainingJobName FROM {A} h JOIN {T} t ON t.HyperParameterTuningJobName = "
            "h.HyperParameterTuningJobName AND t.region = h.region WHERE h.region = 'us-east-1' "
            "AND t.TrainingJobStatus = 'Failed' LIMIT 5",
            [
                (
                    "list",
                    f"one call per row of {A}; no more once 5 rows that pass TrainingJobStatus "
                    "= 'Failed' have arrived",
                )
            ],
        ),
    ],
)
def test_a_dry_run_says_which_calls_and_when_they_stop(
    session: Session, sql: str, said: list[tuple[str, str]]
) -> None:
    assert _said(session, sql) == said
