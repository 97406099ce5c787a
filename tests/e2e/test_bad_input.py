"""Bad requests get a clear error and write nothing; the transport checks keys and sizes."""

import pytest


def head(client) -> int:
    return client.http.get("/readyz").json()["head"]


POST = """mutation($input: PostTaskInput!) { postTask(input: $input) {
  task { id } userErrors { code field message } } }"""


def task_input(**changes):
    base = {"title": "Label", "instructions": "do it", "reward": {"amount": 100,
                                                                  "currency": "USD"}}
    return {**base, **changes}


@pytest.fixture
def acme(market):
    return market.requester("Acme", deposit=10_000)


def test_malformed_json_is_a_400(client, acme):
    before = head(client)
    answer = client.http.post("/graphql", content=b'{"query": "{ tasks', headers={
        "Authorization": f"Bearer {acme.key}", "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"] == "Unable to parse request body as JSON"
    assert head(client) == before


@pytest.mark.parametrize("changes, code, field", [
    ({"reward": {"amount": -5, "currency": "USD"}}, "INVALID_INPUT", ["reward"]),
    ({"reward": {"amount": 100, "currency": "dollars"}}, "INVALID_INPUT", ["currency"]),
    ({"assignments": 0}, "INVALID_INPUT", ["assignments"]),
    ({"title": "  "}, "INVALID_INPUT", ["title"]),
    ({"reward": {"amount": 100_000, "currency": "USD"}}, "INSUFFICIENT_FUNDS", None),
])
def test_refused_input_is_a_user_error_and_writes_nothing(client, acme, changes, code, field):
    before = head(client)
    body = client.run(acme.key, POST, {"input": task_input(**changes)})
    payload = body["data"]["postTask"]
    assert payload["task"] is None
    assert payload["userErrors"][0]["code"] == code
    if field:
        assert payload["userErrors"][0]["field"] == field
    assert payload["userErrors"][0]["message"]
    assert head(client) == before


@pytest.mark.parametrize("variables, fragment", [
    ({"input": task_input(color="red")}, "color"),              # unknown field
    ({"input": task_input(assignments="three")}, "assignments"),  # wrong type
    ({"input": {"title": "no reward"}}, "reward"),              # missing field
])
def test_variables_that_break_the_schema_are_graphql_errors(client, acme, variables, fragment):
    before = head(client)
    body = client.run(acme.key, POST, variables)
    assert body.get("data") is None
    assert fragment in body["errors"][0]["message"]
    assert head(client) == before


def test_unknown_fields_in_a_query_are_validation_errors(client, acme):
    body = client.run(acme.key, "{ tasks { edges { node { id secretField } } } }")
    assert "secretField" in body["errors"][0]["message"]
    assert body.get("data") is None


@pytest.mark.parametrize("first", [0, 101, 500, -1])
def test_pages_outside_1_to_100_are_refused(client, acme, first):
    body = client.run(acme.key, "query($n: Int) { tasks(first: $n) { edges { cursor } } }",
                      {"n": first})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "first must be from 1 to 100" in body["errors"][0]["message"]


def test_a_malformed_cursor_is_refused(client, acme):
    body = client.run(acme.key, '{ tasks(after: "%%%") { edges { cursor } } }')
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_too_deep_queries_are_refused_before_running(client, acme):
    deep = ("{ tasks { edges { node { submissions { edges { node { task { submissions "
            "{ edges { node { task { requester { id } } } } } } } } } } } } }")
    body = client.run(acme.key, deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert body.get("data") is None


def test_an_empty_selection_set_is_a_syntax_error_not_a_crash(client, acme):
    body = client.run(acme.key, '{ node(id: "VGFzazox") { ... on Task { } } }')
    [error] = body["errors"]
    assert error["message"] == "Syntax Error: a selection set must select at least one field."
    assert error["locations"] == [{"line": 1, "column": 38}]
    assert body.get("data") is None


def test_too_many_aliases_are_refused(client, acme):
    aliases = " ".join(f"a{n}: tasks {{ edges {{ cursor }} }}" for n in range(20))
    body = client.run(acme.key, "{ " + aliases + " }")
    assert "aliases" in body["errors"][0]["message"]


def test_malformed_and_foreign_ids(client, acme, market):
    worker = market.worker("w")
    before = head(client)
    bad = client.run(worker.key, 'mutation { claimTask(input: {taskId: "!!"}) '
                                 '{ claim { id } userErrors { code field } } }')
    assert bad["data"]["claimTask"]["userErrors"] == [{"code": "INVALID_INPUT",
                                                       "field": ["taskId"]}]
    foreign = client.run(worker.key, 'mutation($id: ID!) { claimTask(input: {taskId: $id}) '
                                     '{ claim { id } userErrors { code field } } }',
                         {"id": acme.id})  # a requester's id is no task
    assert foreign["data"]["claimTask"]["userErrors"][0] == {"code": "INVALID_INPUT",
                                                             "field": ["taskId"]}
    assert head(client) == before
    assert client.run(acme.key, '{ node(id: "!!") { id } }')["errors"][0]["extensions"][
        "code"] == "INVALID_INPUT"


@pytest.mark.parametrize("authorization", [None, "Bearer tm_admin_unknown", "Basic abc"])
def test_requests_without_a_known_key_get_401_and_no_data(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.http.post("/graphql", json={"query": "{ tasks { edges { cursor } } }"},
                              headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"errors": [{"message": answer.json()["errors"][0]["message"],
                                         "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert "data" not in answer.json()


def test_oversized_bodies_get_413(client, acme):
    before = head(client)
    huge = {"query": POST, "variables": {"input": task_input(payload="x" * 600_000)}}
    answer = client.http.post("/graphql", json=huge,
                              headers={"Authorization": f"Bearer {acme.key}"})
    assert answer.status_code == 413
    assert head(client) == before


def test_browsers_get_graphiql_without_a_key(client):
    page = client.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_unexpected_failures_are_masked(client, acme, server, monkeypatch):
    from taskmarket.projections.reads import ReadModels

    def explode(self, *args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ReadModels, "tasks_of_requester", explode)
    body = client.run(acme.key, "{ tasks { edges { cursor } } }")
    assert body["errors"][0]["message"] == "Internal server error."
    assert "secret" not in str(body)


def test_oversized_chunked_bodies_get_413_too(client, acme):
    def chunks():
        yield b'{"query": "{ tasks { edges { cursor } } }", "padding": "'
        for _ in range(100):
            yield b"x" * 10_000
        yield b'"}'

    answer = client.http.post("/graphql", content=chunks(), headers={
        "Authorization": f"Bearer {acme.key}", "Content-Type": "application/json"})
    assert answer.status_code == 413
