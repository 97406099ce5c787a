"""GraphQL over HTTP as the spec describes it: media types, status codes, bad bodies."""

import pytest

NEW = "application/graphql-response+json"


def ask(client, key, body, accept=None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"}
    if accept:
        headers["Accept"] = accept
    if isinstance(body, dict):
        return client.http.post("/graphql", json=body, headers=headers, **kwargs)
    headers["Content-Type"] = "application/json"
    return client.http.post("/graphql", content=body, headers=headers, **kwargs)


def test_a_client_asking_for_the_new_media_type_gets_it(client, server):
    answer = ask(client, server.admin_key, {"query": "{ me { role } }"},
                 accept=f"{NEW}, application/json;q=0.9")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == NEW
    assert answer.json() == {"data": {"me": {"role": "ADMIN"}}}


@pytest.mark.parametrize("accept", [None, "*/*", "application/json",
                                    f"application/json, {NEW};q=0.5"])
def test_other_clients_keep_plain_json(client, server, accept):
    answer = ask(client, server.admin_key, {"query": "{ me { role } }"}, accept=accept)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize("query", ["{ me { role ", "{ me { nonsense } }",
                                   "query($n: Int!) { tasks(first: $n) { edges { cursor } } }"])
def test_requests_failing_before_execution_are_400_without_data(client, server, query):
    answer = ask(client, server.admin_key, {"query": query, "variables": {}}, accept=NEW)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == NEW
    body = answer.json()
    assert "data" not in body
    assert body["errors"][0]["message"]


def test_the_same_failures_stay_200_with_null_data_for_plain_json(client, server):
    answer = ask(client, server.admin_key, {"query": "{ me { nonsense } }"})
    assert answer.status_code == 200
    assert answer.json()["data"] is None


def test_a_field_error_after_execution_started_is_still_200(client, server, market):
    worker = market.worker("Wanda")
    answer = ask(client, worker.key, {"query": "{ reviewQueue { edges { cursor } } }"},
                 accept=NEW)
    assert answer.status_code == 200
    body = answer.json()
    assert "data" in body and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_an_unknown_key_is_401_in_the_asked_media_type(client):
    answer = ask(client, "tm_nobody", {"query": "{ me { role } }"}, accept=NEW)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == NEW
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("body, message", [
    (b"null", "must be a JSON object"),
    (b"5", "must be a JSON object"),
    (b'"{ me { role } }"', "must be a JSON object"),
    (b'[{"query": "{ me { role } }"}]', "must be a JSON object"),
    (b'{"query": "\xff\xfe"}', "Unable to parse"),
    (b"[" * 100_000, "Unable to parse"),
    (b'{"query": ', "Unable to parse"),
])
def test_bodies_that_are_not_a_json_object_get_a_400(client, server, body, message):
    for accept in (None, NEW):
        answer = ask(client, server.admin_key, body, accept=accept)
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["errors"][0]["message"]
        assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_get_runs_queries_and_refuses_mutations(client, server):
    headers = {"Authorization": f"Bearer {server.admin_key}", "Accept": NEW}
    answer = client.http.get("/graphql", params={"query": "{ me { role } }"},
                             headers=headers)
    assert answer.status_code == 200 and answer.json()["data"]["me"]["role"] == "ADMIN"
    refused = client.http.get("/graphql", headers=headers, params={
        "query": 'mutation { createRequester(input: {name: "x"}) { apiKey } }'})
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert refused.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert "data" not in refused.json()
