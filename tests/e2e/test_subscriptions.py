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


REVOKE = """mutation($id: ID!) { revokeApiKey(input: {apiKeyId: $id}) {
  revoked userErrors { code } } }"""
CREATE_REQUESTER = """mutation { createRequester(input: {name: "after revocation"}) {
  requester { id } userErrors { code } } }"""
# Far longer than the notification takes; a 30 s timer would not make it.
BOUND = 5


def _issue(client, server, role: str, requester_id: str | None = None) -> dict:
    return client.data(server.admin_key, """mutation($r: Role!, $a: ID) { createApiKey(input: {
        role: $r, requesterId: $a, name: "feed"}) { apiKey apiKeyId } }""",
                       {"r": role, "a": requester_id})["createApiKey"]


def _revoke(client, server, key: dict) -> None:
    """Revoke with an ADMIN key over HTTP, on ``server`` (maybe not the socket's)."""
    revoked = client.data(server.admin_key, REVOKE, {"id": key["apiKeyId"]})
    assert revoked["revokeApiKey"] == {"revoked": True, "userErrors": []}


def _send(subscriber, operation_id: str, query: str) -> dict:
    subscriber.ws.send(json.dumps({"id": operation_id, "type": "subscribe",
                                   "payload": {"query": query}}))
    return json.loads(subscriber.ws.recv(timeout=BOUND))


def test_revoking_a_key_ends_its_open_subscription_and_refuses_its_requests(
        client, market, server, subscribe_as):
    acme = market.requester("Acme")
    key = _issue(client, server, "PARTNER", acme.id)
    subscriber = subscribe_as(key["apiKey"])
    subscriber.subscribe(EVENTS)
    market.task(acme)
    assert subscriber.take(1)[0]["type"] == "TaskPosted"  # the stream is live

    _revoke(client, server, key)
    assert client.post(key["apiKey"], "{ events { edges { cursor } } }").status_code == 401

    message = json.loads(subscriber.ws.recv(timeout=BOUND))
    while message["type"] == "next":  # events logged before the revocation may still come
        message = json.loads(subscriber.ws.recv(timeout=BOUND))
    assert message == {"id": "1", "type": "error", "payload": [{
        "message": "the API key was revoked", "extensions": {"code": "UNAUTHENTICATED"}}]}

    # A new subscription on the same socket gets nothing of the log.
    again = _send(subscriber, "2", EVENTS)
    assert again["type"] == "error" and again["id"] == "2"
    assert again["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    subscriber.close()


def test_a_revoked_admin_key_can_no_longer_write_on_its_open_socket(client, server,
                                                                   subscribe_as):
    key = _issue(client, server, "ADMIN")
    subscriber = subscribe_as(key["apiKey"])
    subscriber.subscribe(EVENTS, {"types": ["TaskPosted"]})  # quiet: nobody posts
    created = _send(subscriber, "w1", CREATE_REQUESTER)
    assert created["type"] == "next"
    assert created["payload"]["data"]["createRequester"]["userErrors"] == []
    assert json.loads(subscriber.ws.recv(timeout=BOUND))["type"] == "complete"

    _revoke(client, server, key)  # revoked with another ADMIN key, over HTTP
    message = json.loads(subscriber.ws.recv(timeout=BOUND))
    while message["type"] == "next":
        message = json.loads(subscriber.ws.recv(timeout=BOUND))
    assert (message["id"], message["type"]) == ("1", "error")
    assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    refused = _send(subscriber, "w2", CREATE_REQUESTER)
    assert refused["type"] == "error" and refused["id"] == "w2"
    assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    subscriber.close()
    created = client.data(server.admin_key, """{ events(first: 100, types: ["RequesterCreated"])
        { edges { node { aggregateId } } } }""")["events"]["edges"]
    assert len(created) == 1  # the refused createRequester wrote nothing


def test_a_revocation_made_through_another_server_ends_the_subscription_here(
        client, market, server, second_server, subscribe_as):
    acme = market.requester("Acme")
    key = _issue(client, server, "REQUESTER", acme.id)
    subscriber = subscribe_as(key["apiKey"])
    subscriber.subscribe(EVENTS, {"types": ["TaskPosted"]})
    assert _send(subscriber, "q", "{ me { role } }")["type"] == "next"
    assert json.loads(subscriber.ws.recv(timeout=BOUND))["type"] == "complete"

    other = type(client)(second_server)  # the same kind of client, for the other server
    try:
        _revoke(other, second_server, key)  # this server's process never saw the mutation
    finally:
        other.close()
    message = json.loads(subscriber.ws.recv(timeout=BOUND))
    assert (message["id"], message["type"]) == ("1", "error")
    assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = _send(subscriber, "q2", "{ me { role } }")
    assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    subscriber.close()


def test_the_legacy_graphql_ws_protocol_is_not_spoken(server):
    from websockets.sync.client import connect

    with pytest.raises(ConnectionClosed) as refused:
        with connect(server.ws_url, subprotocols=["graphql-ws"], open_timeout=10) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            ws.recv(timeout=10)
    assert refused.value.rcvd.code == 4406  # Subprotocol not acceptable
