"""The events subscription over graphql-transport-ws: replay, then live, in order."""

import json
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed

EVENTS = """subscription($after: String, $types: [String!]) {
  events(after: $after, types: $types) { position type aggregateId } }"""
ADMIN_EVENTS = """query($after: String) { events(first: 100, after: $after) {
  edges { node { position type aggregateId } } } }"""


def test_a_partner_receives_its_requesters_task_events_in_order(client, market, server,
                                                                subscribe_as):
    acme, rival = market.requester("Acme"), market.requester("Rival")
    partner = market.key("PARTNER", acme)
    subscriber = subscribe_as(partner)
    subscriber.subscribe(EVENTS)

    worker = market.worker("w")
    task = market.task(acme)
    rival_task = market.task(rival)
    market.review(acme, market.submit(worker, market.claim(worker, task)))
    market.claim(worker, rival_task)

    expected = client.data(partner, "{ events(first: 100) { edges { node { position type "
                                    "aggregateId } } } }")["events"]["edges"]
    expected = [edge["node"] for edge in expected]
    received = subscriber.take(len(expected))
    subscriber.close()

    assert received == expected
    assert [e["type"] for e in received] == [
        "TaskPosted", "TaskClaimed", "TaskWorkSubmitted", "TaskSubmissionAccepted",
        "TaskCompleted", "PayoutRequested"]
    assert {e["aggregateId"] for e in received} >= {task}
    assert rival_task not in {e["aggregateId"] for e in received}
    positions = [int(e["position"]) for e in received]
    assert positions == sorted(set(positions))


def test_replay_then_live_has_no_gap_and_no_duplicate(client, market, server, subscribe_as):
    acme = market.requester("Acme", deposit=1_000_000)
    for n in range(4):
        market.task(acme, title=f"before {n}")
    head = client.data(server.admin_key, ADMIN_EVENTS)["events"]["edges"]
    start = head[2]["node"]["position"]

    writer_done = threading.Event()

    def keep_writing():
        for n in range(12):
            market.task(acme, title=f"during {n}")
        writer_done.set()

    subscriber = subscribe_as(server.admin_key)
    writer = threading.Thread(target=keep_writing)
    writer.start()  # live events arrive while the replay is still being read
    subscriber.subscribe(EVENTS, {"after": start})
    writer.join()
    assert writer_done.is_set()

    log = client.data(server.admin_key, ADMIN_EVENTS, {"after": start})["events"]["edges"]
    expected = [edge["node"] for edge in log]
    assert len(expected) > 12
    received = subscriber.take(len(expected))
    subscriber.close()
    assert received == expected
    positions = [int(e["position"]) for e in received]
    assert positions == list(range(int(start) + 1, int(start) + 1 + len(positions)))


def test_types_filter_the_stream(market, server, subscribe_as):
    acme = market.requester("Acme")
    subscriber = subscribe_as(server.admin_key)
    subscriber.subscribe(EVENTS, {"types": ["TaskPosted"]})
    first, second = market.task(acme, title="one"), market.task(acme, title="two")
    received = subscriber.take(2)
    subscriber.close()
    assert [(e["type"], e["aggregateId"]) for e in received] == [
        ("TaskPosted", first), ("TaskPosted", second)]


@pytest.mark.parametrize("key", [None, "tm_admin_not-a-real-key"])
def test_a_socket_without_a_known_key_is_closed_with_4401(server, key, subscribe_as):
    subscriber = subscribe_as(key)
    with pytest.raises(ConnectionClosed) as closed:
        subscriber.ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4401


def test_a_worker_may_not_subscribe_to_the_log(market, server, subscribe_as):
    worker = market.worker("w")
    subscriber = subscribe_as(worker.key)
    subscriber.subscribe(EVENTS)
    message = json.loads(subscriber.ws.recv(timeout=10))
    subscriber.close()
    assert message["type"] in ("error", "next")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


def test_disconnecting_ends_the_subscription_and_the_server_carries_on(client, market, server,
                                                                        subscribe_as):
    def streaming() -> float:
        for line in client.http.get("/metrics").text.splitlines():
            if line.startswith("taskmarket_subscriptions_active "):
                return float(line.split()[1])
        raise AssertionError("no subscriptions gauge")

    before = streaming()
    subscriber = subscribe_as(server.admin_key)
    subscriber.subscribe(EVENTS, {"types": ["RequesterCreated"]})
    market.requester("Acme", deposit=0)
    assert subscriber.take(1)[0]["type"] == "RequesterCreated"
    assert streaming() == before + 1
    subscriber.close()
    deadline = time.monotonic() + 10
    while streaming() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert streaming() == before  # the server's side of the stream ended too
    assert client.http.get("/healthz").status_code == 200
    market.requester("Later", deposit=0)


def test_queries_on_one_socket_see_writes_made_between_them(client, market, server,
                                                             subscribe_as):
    acme = market.requester("Acme", deposit=1_000)
    balance = """query($id: ID!) { node(id: $id) { ... on Requester { balance { amount } } } }"""
    subscriber = subscribe_as(server.admin_key)
    assert subscriber.acknowledged()

    def ask(operation_id: str) -> int:
        subscriber.ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": {
            "query": balance, "variables": {"id": acme.id}}}))
        message = json.loads(subscriber.ws.recv(timeout=10))
        assert json.loads(subscriber.ws.recv(timeout=10))["type"] == "complete"
        return message["payload"]["data"]["node"]["balance"]["amount"]

    assert ask("a") == 1_000
    client.data(server.admin_key, """mutation($id: ID!) { depositFunds(input: {requesterId: $id,
        amount: {amount: 250, currency: "USD"}, reference: "second"}) { userErrors { code } } }""",
                {"id": acme.id})
    assert ask("b") == 1_250
    subscriber.close()


def test_revoking_a_key_ends_its_requests_and_its_open_subscription(
        client, market, server, monkeypatch, subscribe_as):
    from taskmarket.graphql import subscriptions

    monkeypatch.setattr(subscriptions, "KEY_CHECK_SECONDS", 0.2)
    acme = market.requester("Acme")
    made = client.data(server.admin_key, """mutation($a: ID) { createApiKey(input: {
        role: PARTNER, requesterId: $a, name: "feed"}) { apiKey apiKeyId } }""",
                       {"a": acme.id})["createApiKey"]
    subscriber = subscribe_as(made["apiKey"])
    subscriber.subscribe(EVENTS)

    revoked = client.data(server.admin_key, """mutation($id: ID!) { revokeApiKey(input: {
        apiKeyId: $id}) { revoked userErrors { code } } }""", {"id": made["apiKeyId"]})
    assert revoked["revokeApiKey"] == {"revoked": True, "userErrors": []}
    assert client.post(made["apiKey"], "{ events { edges { cursor } } }").status_code == 401

    message = json.loads(subscriber.ws.recv(timeout=15))
    while message["type"] == "next" and "errors" not in message["payload"]:
        message = json.loads(subscriber.ws.recv(timeout=15))
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    subscriber.close()
