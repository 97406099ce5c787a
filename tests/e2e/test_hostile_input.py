"""What an attacker sent, sent again over HTTP: NUL bytes in every text field, numbers past
64 bits, money past a GraphQL Int. Each is refused with a userError naming the field,
nothing is written, and every read model is still at the head of the log afterwards."""

from __future__ import annotations

import json
import time

import pytest

NUL = "a\x00b"


def assert_all_projections_at_head(client) -> int:
    """Every read model reaches the head of the log (mutations answer before the read
    models catch up, so wait for them, bounded) and none is stalled; the head's position."""
    deadline = time.monotonic() + 60  # a hang guard, not a budget
    while True:
        ready = client.http.get("/readyz")
        body = ready.json()
        assert body["stalled"] == [], body
        lags = {name: p["lag"] for name, p in body["projections"].items()}
        if lags == {name: 0 for name in lags}:
            assert ready.status_code == 200 and body["status"] == "ok", body
            return body["head"]
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def refused(client, key, mutation, variables, payload, field, code="INVALID_INPUT"):
    before = assert_all_projections_at_head(client)
    # Sent as ASCII JSON with \u escapes, as a hostile client can (a lone surrogate too).
    answer = client.http.post("/graphql", content=json.dumps(
        {"query": mutation, "variables": variables}), headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not body.get("errors"), body["errors"]
    errors = body["data"][payload]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)], errors
    assert assert_all_projections_at_head(client) == before  # nothing written
    return errors[0]["message"]


@pytest.fixture
def scene(market, client, server, monkeypatch):
    """A funded requester, a worker holding a claim, a pending submission, an endpoint."""
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")  # the endpoint is local
    acme = market.requester("Acme", deposit=100_000)
    wanda = market.worker("Wanda")
    claim = market.claim(wanda, market.task(acme))
    reviewed = market.claim(wanda, market.task(acme))
    submission = market.submit(wanda, reviewed)
    made = client.data(acme.key, """mutation { createWebhookEndpoint(input: {
      url: "http://127.0.0.1:9/hook"}) { endpoint { id } userErrors { code } } }""")
    endpoint = made["createWebhookEndpoint"]["endpoint"]["id"]
    return dict(acme=acme, wanda=wanda, claim=claim, submission=submission,
                endpoint=endpoint, admin=server.admin_key)


POST = """mutation($input: PostTaskInput!) { postTask(input: $input) {
  task { id } userErrors { code field message } } }"""


def task_input(**changes):
    return {"title": "Label", "instructions": "do it",
            "reward": {"amount": 100, "currency": "USD"}, **changes}


CASES = {
    "requester name": ("admin", """mutation($v: String!) { createRequester(input: {name: $v})
        { requester { id } userErrors { code field message } } }""", NUL,
                       "createRequester", ["name"]),
    "worker name": ("admin", """mutation($v: String!) { createWorker(input: {name: $v})
        { worker { id } userErrors { code field message } } }""", NUL,
                    "createWorker", ["name"]),
    "worker skills": ("admin", """mutation($v: String!) { createWorker(input: {name: "W",
        skills: ["ok", $v]}) { worker { id } userErrors { code field message } } }""", NUL,
                      "createWorker", ["skills"]),
    "key name": ("admin", """mutation($v: String!) { createApiKey(input: {role: FINANCE,
        name: $v}) { apiKey userErrors { code field message } } }""", NUL,
                 "createApiKey", ["name"]),
    "deposit reference": ("admin", """mutation($v: String!, $r: ID!) { depositFunds(input: {
        requesterId: $r, amount: {amount: 5, currency: "USD"}, reference: $v})
        { requester { id } userErrors { code field message } } }""", NUL,
                          "depositFunds", ["reference"]),
    "deposit idempotency key": ("admin", """mutation($v: String!, $r: ID!) { depositFunds(
        input: {requesterId: $r, amount: {amount: 5, currency: "USD"}, reference: "w-9",
        idempotencyKey: $v}) { requester { id } userErrors { code field message } } }""",
                                NUL, "depositFunds", ["idempotencyKey"]),
    "submitted result": ("wanda", """mutation($v: JSON!, $c: ID!) { submitWork(input: {
        claimId: $c, result: $v}) { submission { id } userErrors { code field message } } }""",
                         {"label": NUL}, "submitWork", ["result"]),
    "review feedback": ("acme", """mutation($v: String!, $s: ID!) { reviewSubmission(input: {
        submissionId: $s, decision: ACCEPT, feedback: $v}) { submission { id }
        userErrors { code field message } } }""", NUL, "reviewSubmission", ["feedback"]),
    "webhook url": ("acme", """mutation($v: String!) { createWebhookEndpoint(input: {url: $v})
        { endpoint { id } userErrors { code field message } } }""",
                    "http://127.0.0.1:9/a\x00b", "createWebhookEndpoint", ["url"]),
    "webhook url update": ("acme", """mutation($v: String!, $e: ID!) { updateWebhookEndpoint(
        input: {endpointId: $e, url: $v}) { endpoint { id } userErrors { code field message }
        } }""", "http://127.0.0.1:9/a\x00b", "updateWebhookEndpoint", ["url"]),
    "webhook disable reason": ("acme", """mutation($v: String!, $e: ID!) {
        disableWebhookEndpoint(input: {endpointId: $e, reason: $v}) { endpoint { id }
        userErrors { code field message } } }""", NUL, "disableWebhookEndpoint", ["reason"]),
    "claim-next skill": ("wanda", """mutation($v: String!) { claimNextTask(input: {skill: $v})
        { claim { id } userErrors { code field message } } }""", NUL, "claimNextTask",
                         ["skill"]),
}


def test_nul_in_each_text_field_is_refused_and_stalls_nothing(client, scene):
    # One scene for every field (a server per case would make this slow).
    variables = {"r": scene["acme"].id, "c": scene["claim"], "s": scene["submission"],
                 "e": scene["endpoint"]}
    for case, (who, mutation, value, payload, field) in sorted(CASES.items()):
        used = {name: variables[name] for name in variables if f"${name}" in mutation}
        key = scene["admin"] if who == "admin" else scene[who].key
        message = refused(client, key, mutation, {**used, "v": value}, payload, field)
        assert "NUL" in message, case


TASK_CASES = [
    ({"title": NUL}, ["title"]),
    ({"title": "lone \ud800 surrogate"}, ["title"]),
    ({"instructions": NUL}, ["instructions"]),
    ({"payload": {"image": NUL}}, ["payload"]),
    ({"payload": {NUL: 1}}, ["payload"]),
    ({"requiredSkills": [NUL]}, ["requiredSkills"]),
    ({"idempotencyKey": NUL}, ["idempotencyKey"]),
    ({"reward": {"amount": 100, "currency": "ZZZ"}}, ["currency"]),
    ({"reward": {"amount": 100, "currency": "BTC"}}, ["currency"]),
    ({"reward": {"amount": 100, "currency": "XXX"}}, ["currency"]),
]


def test_a_task_with_a_hostile_field_is_refused(client, scene):
    for changes, field in TASK_CASES:
        refused(client, scene["acme"].key, POST, {"input": task_input(**changes)},
                "postTask", field)


SUBMIT_LITERAL = """mutation($c: ID!) { submitWork(input: {claimId: $c, result: %s}) {
  submission { id } userErrors { code field message } } }"""
SUBMIT = """mutation($c: ID!, $v: JSON!) { submitWork(input: {claimId: $c, result: $v}) {
  submission { id } userErrors { code field message } } }"""


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "1e300"])
def test_numbers_past_64_bits_are_refused_as_literals_and_variables(client, scene, number):
    worker = scene["wanda"].key
    refused(client, worker, SUBMIT_LITERAL % number, {"c": scene["claim"]}, "submitWork",
            ["result"])
    refused(client, worker, SUBMIT_LITERAL % f"{{n: [{number}]}}", {"c": scene["claim"]},
            "submitWork", ["result"])
    as_json = int(number) if number.isdigit() else float(number)
    refused(client, worker, SUBMIT, {"c": scene["claim"], "v": as_json}, "submitWork",
            ["result"])
    # The claim is still usable: an ordinary result goes through and is read back as sent.
    done = client.data(worker, SUBMIT, {"c": scene["claim"], "v": {"n": 2**62, "x": 0.5}})
    assert done["submitWork"]["userErrors"] == []
    assert_all_projections_at_head(client)


DEPOSIT = """mutation($r: ID!, $ref: String!) { depositFunds(input: {requesterId: $r,
  amount: {amount: 2000000000, currency: "USD"}, reference: $ref}) {
  requester { balance { amount } escrow { amount } } userErrors { code field message } } }"""


def test_two_deposits_of_two_billion_refuse_the_second_and_the_requester_stays_readable(
        client, market, server):
    rich = market.requester("Rich", deposit=0)
    first = client.data(server.admin_key, DEPOSIT, {"r": rich.id, "ref": "w-1"})
    assert first["depositFunds"]["requester"]["balance"] == {"amount": 2_000_000_000}
    refused(client, server.admin_key, DEPOSIT, {"r": rich.id, "ref": "w-2"}, "depositFunds",
            ["amount"], code="AMOUNT_TOO_LARGE")
    read = client.data(rich.key, """query($id: ID!) { node(id: $id) {
      ... on Requester { balance { amount } escrow { amount } } } }""", {"id": rich.id})
    assert read["node"] == {"balance": {"amount": 2_000_000_000}, "escrow": {"amount": 0}}


def test_a_reward_of_two_billion_for_two_assignments_is_too_large(client, market, server):
    rich = market.requester("Rich", deposit=0)
    client.data(server.admin_key, DEPOSIT, {"r": rich.id, "ref": "w-1"})
    refused(client, rich.key, POST, {"input": task_input(
        reward={"amount": 2_000_000_000, "currency": "USD"}, assignments=2)}, "postTask",
        ["reward"], code="AMOUNT_TOO_LARGE")


QUERIES_WITH_BAD_TEXT = [
    ('{ tasks(skill: "a\\u0000") { edges { cursor } } }', {}),
    ('{ events(types: ["a\\u0000"]) { edges { cursor } } }', {}),
    ('{ ledger(account: "a\\u0000") { edges { cursor } } }', {}),
    ('query($a: String) { tasks(after: $a) { edges { cursor } } }', {"a": "\ud800"}),
]


def test_nul_in_a_query_argument_is_a_clear_error_not_an_internal_one(client, server):
    for query, variables in QUERIES_WITH_BAD_TEXT:
        answer = client.http.post("/graphql", content=json.dumps(
            {"query": query, "variables": variables}), headers={
            "Authorization": f"Bearer {server.admin_key}", "Content-Type": "application/json"})
        assert answer.status_code == 200
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT", (query, error)
