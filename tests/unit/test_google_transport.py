"""The Google transport and the read path over mocked HTTP (``responses``): regional hosts,
pagination, path safety, errors, auth headers. No network: every URL is registered."""

from __future__ import annotations

import json

import pytest
import responses

import stackql_tuning
from stackql_tuning.errors import PlanError, ProviderError

#: ``responses`` replaces requests' adapter: the transport sends through it
pytestmark = pytest.mark.usefixtures("requests_http")

HOST = "https://us-central1-aiplatform.googleapis.com"
PATH = "/v1/projects/p/locations/us-central1/hyperparameterTuningJobs"


def job(i: int, loc: str = "us-central1") -> dict:
    return {
        "name": f"projects/p/locations/{loc}/hyperparameterTuningJobs/{i}",
        "displayName": f"job-{i}",
        "state": "JOB_STATE_RUNNING" if i % 2 else "JOB_STATE_SUCCEEDED",
        "createTime": f"2026-01-0{1 + i % 9}T00:00:00Z",
        "maxTrialCount": i,
        "studySpec": {"algorithm": "RANDOM_SEARCH" if i % 3 == 0 else "GRID_SEARCH"},
    }


@pytest.fixture
def session():
    s = stackql_tuning.connect(auth={"google": {"type": "anonymous"}})
    yield s
    s.close()


@responses.activate
def test_regional_host_pagination_and_types(session) -> None:
    pages = [
        ({"hyperparameterTuningJobs": [job(1), job(2)], "nextPageToken": "t1"}, None),
        ({"hyperparameterTuningJobs": [job(3)], "nextPageToken": "t2"}, "t1"),
        ({"hyperparameterTuningJobs": [job(4)]}, "t2"),
    ]
    # only the fields the query reads (and the name its hyperparameterTuningJobsId comes from)
    fields = "hyperparameterTuningJobs(name,createTime,displayName,maxTrialCount),nextPageToken"
    for body, token in pages:
        params = {"prettyPrint": "false", "pageSize": "1000", "fields": fields} | (
            {"pageToken": token} if token else {}
        )
        responses.get(
            HOST + PATH,
            json=body,
            match=[responses.matchers.query_param_matcher(params)],
        )
    r = session.execute(
        "SELECT displayName, maxTrialCount, createTime, projectsId, hyperparameterTuningJobsId "
        "FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'us-central1' ORDER BY maxTrialCount"
    )
    assert [row[0] for row in r.rows] == ["job-1", "job-2", "job-3", "job-4"]
    assert r.types[1:3] == ["INTEGER", "TIMESTAMP WITH TIME ZONE"]
    assert r.rows[0][3:] == ("p", "1")
    assert len(responses.calls) == 3
    assert all("Authorization" not in c.request.headers for c in responses.calls)
    agent = responses.calls[0].request.headers["User-Agent"]
    assert agent.startswith(f"stackql-tuning/{stackql_tuning.__version__} requests/"), agent


@responses.activate
def test_pretty_printed_replies_still_load(session) -> None:
    body = json.dumps({"hyperparameterTuningJobs": [job(5)]}, indent=2)
    responses.get(HOST + PATH, body=body, content_type="application/json")
    r = session.execute(
        "SELECT displayName FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
    )
    assert r.rows == [("job-5",)]


@responses.activate
def test_empty_list_still_has_every_column(session) -> None:
    responses.get(HOST + PATH, json={})
    r = session.execute(
        "SELECT * FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'us-central1' AND state = 'JOB_STATE_PAUSED'"
    )
    assert r.rows == [] and "studySpec" in r.columns and "projectsId" in r.columns


@responses.activate
def test_errors_name_the_call_and_never_become_empty(session) -> None:
    responses.get(
        HOST + PATH,
        status=403,
        json={"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "denied on p"}},
    )
    with pytest.raises(ProviderError) as e:
        session.execute(
            "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        )
    text = str(e.value)
    assert "403" in text and "PERMISSION_DENIED: denied on p" in text
    assert "projectsId='p'" in text


@responses.activate
def test_html_error_page_is_a_provider_error(session) -> None:
    responses.get(
        HOST + PATH,
        body="<html><body>Bad gateway</body></html>",
        status=200,
        content_type="text/html",
    )
    with pytest.raises(ProviderError, match="not a JSON object"):
        session.execute(
            "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        )


@responses.activate
def test_wrong_types_in_a_reply_name_the_call(session) -> None:
    bad = job(1) | {"maxTrialCount": "lots"}
    responses.get(HOST + PATH, json={"hyperparameterTuningJobs": [bad]})
    with pytest.raises(ProviderError, match=r"hyperparameter_tuning_jobs\.list"):
        session.execute(
            "SELECT name, maxTrialCount FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        )
    # only the fields a statement reads are parsed: the bad one does not stop another query
    rows = session.execute(
        "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
    ).rows
    assert rows == [(bad["name"],)]


@pytest.mark.parametrize("value", ["../x", "a/b", "%2F", "x%2e%2e", "a\nb", "x" * 2000, ".."])
def test_hostile_path_values_never_reach_the_wire(session, value: str) -> None:
    with responses.RequestsMock() as mock:  # any request would fail: none is registered
        with pytest.raises(PlanError):
            session.execute(
                "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
                f"WHERE projectsId = 'p' AND locationsId = 'us-central1' "
                f"AND hyperparameterTuningJobsId = '{value}'"
            )
        assert len(mock.calls) == 0


@pytest.mark.parametrize(
    "location", ["'evil.com/x'", "'evil.com'", "'us-central1.evil.com'", "'x y'", "1", "'1'"]
)
def test_location_cannot_redirect_the_host(session, location: str) -> None:
    # a number (1-aiplatform.googleapis.com) is not a location either: it was an empty answer
    with responses.RequestsMock() as mock:
        with pytest.raises(PlanError):
            session.execute(
                "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
                f"WHERE projectsId = 'p' AND locationsId = {location}"
            )
        assert len(mock.calls) == 0


@responses.activate
def test_unicode_and_quotes_are_encoded_not_interpreted(session) -> None:
    responses.get(
        HOST + "/v1/projects/p%C3%A9%27%3F%23/locations/us-central1/hyperparameterTuningJobs",
        json={"hyperparameterTuningJobs": [job(1) | {"displayName": "x'); DROP TABLE t; --"}]},
    )
    r = session.execute(
        "SELECT displayName, projectsId FROM google.aiplatform.hyperparameter_tuning_jobs "
        "WHERE projectsId = 'pé''?#' AND locationsId = 'us-central1'"
    )
    assert r.rows == [("x'); DROP TABLE t; --", "pé'?#")]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"pageSize": "1000", "prettyPrint": "false"},
        {"pageToken": "Cg0KC2FiYy9kZWY9PQ==", "prettyPrint": "false"},
        {"filter": 'state="JOB_STATE_RUNNING" AND labels.team = "ads & ml"', "pageSize": "50"},
        {"filter": "display_name:bert* OR create_time>2026-01-01T00:00:00Z ~%/?#[]"},
    ],
)
def test_a_read_is_sent_as_requests_would_prepare_it(query: dict[str, str]) -> None:
    """A body-less call skips requests' ``Request.prepare`` (about 90 us a page): the URL and
    headers it sends must be what ``prepare`` makes of them."""
    import requests

    from stackql_tuning.transports.google import _prepared

    url = HOST + PATH
    headers = {"Accept": "application/json", "Authorization": "Bearer t"}
    ours = _prepared("GET", url, query, None, headers)
    theirs = requests.Request("GET", url, params=query, headers=headers).prepare()
    assert ours.url == theirs.url
    assert dict(ours.headers) == dict(theirs.headers)
    assert ours.body is None and theirs.body is None


THREE = (
    "SELECT name, locationsId FROM google.aiplatform.hyperparameter_tuning_jobs "
    "WHERE projectsId = 'p' AND locationsId IN ('us-central1', 'europe-west4', 'asia-east1')"
)


def _three_locations(bad: bytes) -> None:
    """Good pages from two locations; ``bad`` (one line, so not re-encoded on arrival) from
    europe-west4."""
    for loc in ("us-central1", "asia-east1"):
        responses.get(
            f"https://{loc}-aiplatform.googleapis.com/v1/projects/p/locations/{loc}/"
            "hyperparameterTuningJobs",
            json={"hyperparameterTuningJobs": [job(1, loc), job(2, loc)]},
        )
    responses.get(
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4/"
        "hyperparameterTuningJobs",
        body=bad,
        content_type="application/json",
    )


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (b'{"hyperparameterTuningJobs": [{"name": "a"}, }', "the reply is not valid JSON"),
        (b'{"hyperparameterTuningJobs": [{"name": "a", "name": "b"}]}', "repeats the key 'name'"),
        (b'{"hyperparameterTuningJobs": [{"name": "\xff"}]}', "not UTF-8 text (byte 0xff)"),
    ],
)
@responses.activate
def test_a_bad_page_is_its_calls_failure(bad: bytes, why: str) -> None:
    # a page DuckDB could not read failed the whole statement, naming no location, and
    # --on-error continue did not keep the other locations' rows
    _three_locations(bad)
    with stackql_tuning.connect(auth={"google": {"type": "anonymous"}}) as s:
        with pytest.raises(ProviderError) as e:
            s.execute(THREE)
        assert "locationsId='europe-west4'" in str(e.value) and why in str(e.value)
    with stackql_tuning.connect(auth={"google": {"type": "anonymous"}}, on_error="continue") as s:
        result = s.execute(THREE)
    assert sorted(loc for _, loc in result.rows) == ["asia-east1"] * 2 + ["us-central1"] * 2
    [failure] = result.failures
    assert failure.params["locationsId"] == "europe-west4" and why in failure.message


GET = (
    "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
    "WHERE projectsId = 'p' AND locationsId = 'us-central1' AND hyperparameterTuningJobsId = '7'"
)


@pytest.mark.parametrize(
    ("reply", "empty"),
    [
        ({"json": {"error": {"code": 404, "status": "NOT_FOUND", "message": "no job"}}}, True),
        # a proxy's or a wrong host's 404 page is not the API saying "no such job": it was an
        # empty answer with exit 0
        ({"body": "<html>Not Found</html>", "content_type": "text/html"}, False),
        ({"body": ""}, False),
    ],
)
@responses.activate
def test_only_the_apis_not_found_makes_a_get_empty(session, reply: dict, empty: bool) -> None:
    responses.get(HOST + PATH + "/7", status=404, **reply)
    if empty:
        assert session.execute(GET).rows == []
    else:
        with pytest.raises(ProviderError, match="404"):
            session.execute(GET)


@pytest.mark.parametrize("status", [500, 502])
@responses.activate
def test_a_server_error_on_delete_leaves_its_outcome_unknown(session, status: int) -> None:
    # it said "nothing was deleted", though a server error does not say what was done
    responses.delete(HOST + PATH + "/7", status=status, body="<html>Server Error</html>")
    with pytest.raises(ProviderError) as e:
        session.execute(
            "DELETE FROM google.aiplatform.hyperparameter_tuning_jobs WHERE projectsId = 'p' "
            "AND locationsId = 'us-central1' AND hyperparameterTuningJobsId = '7'"
        )
    assert "outcome unknown" in str(e.value) and "nothing was" not in str(e.value)
    assert len(responses.calls) == 1  # a delete is not sent twice


@responses.activate
def test_a_page_token_that_is_not_a_string_is_a_bad_reply(session) -> None:
    # it said "page 2 repeats an earlier page token \"{'a': 1}\""
    responses.get(
        HOST + PATH, json={"hyperparameterTuningJobs": [job(1)], "nextPageToken": {"a": 1}}
    )
    with pytest.raises(ProviderError, match="nextPageToken is not a string"):
        session.execute(
            "SELECT name FROM google.aiplatform.hyperparameter_tuning_jobs "
            "WHERE projectsId = 'p' AND locationsId = 'us-central1'"
        )
