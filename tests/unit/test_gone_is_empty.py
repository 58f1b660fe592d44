"""Which failed calls are an empty answer: a call that the API answered with "no such
resource" is empty when it is a get, or a list of one resource's children (the training jobs
of a tuning job that is not there: a name a join paired with the other region, a typo, a job
deleted meanwhile); a list of a project's, location's or region's jobs stays an error."""

from __future__ import annotations

from stackql_tuning.errors import FailedCall
from stackql_tuning.plan.select import plan_query
from stackql_tuning.registry.loader import default_registry
from stackql_tuning.run.query import _empty_if_gone
from stackql_tuning.sql import parse_one

REG = default_registry()
A = "aws.sagemaker.hyper_parameter_tuning_jobs"
T = "aws.sagemaker.hyper_parameter_tuning_job_training_jobs"


def test_only_a_list_of_one_resources_children_is_empty_when_it_is_gone() -> None:
    # a param that a get requires and its resource's list does not names one resource; a
    # list that requires one lists that resource's children
    assert REG.naming_params == {
        "HyperParameterTuningJobName",
        "hyperparameterTuningJobsId",
        "tuningJobsId",
    }
    plan = plan_query(
        parse_one(
            f"SELECT * FROM {A} a, {T} t "
            "WHERE a.region = 'r' AND t.region = 'r' AND t.HyperParameterTuningJobName = 'x'"
        ).expression,
        REG,
    )

    def gone(resource: str, method: str) -> FailedCall:
        return FailedCall(resource, method, {}, 400, "not found", not_found=True)

    assert _empty_if_gone(REG, plan, gone(A, "get"))
    assert _empty_if_gone(REG, plan, gone(T, "list"))
    assert not _empty_if_gone(REG, plan, gone(A, "list"))
