"""Webhooks through the GraphQL API: a requester registers a receiver, sees the delivery log,
replays, redelivers, switches the endpoint off and on and rotates its secret."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from webhook_harness import Receiver, wait_until  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from taskmarket.webhooks.engine import WebhookEngine  # noqa: E402
from taskmarket.webhooks.policy import DeliveryPolicy  # noqa: E402

CREATE = """mutation($url: String!, $types: [String!], $req: ID) {
  createWebhookEndpoint(input: {url: $url, eventTypes: $types, requesterId: $req}) {
    endpoint { id url eventTypes enabled disabledReason } secret
    userErrors { code field message } } }"""
DELIVERIES = """query($id: ID!, $first: Int, $after: String) {
  webhookDeliveries(endpointId: $id, first: $first, after: $after) {
    edges { cursor node { id eventId position attempts lastStatusCode delivered
                          nextAttemptAt latencyMs eventType redelivery } }
    pageInfo { hasNextPage endCursor } } }"""
REPLAY = """mutation($id: ID!, $after: String!) {
  replayWebhookEndpoint(input: {endpointId: $id, after: $after}) {
    endpoint { id } userErrors { code field } } }"""
REDELIVER = """mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) {
    endpoint { id } userErrors { code field } } }"""
DISABLE = """mutation($id: ID!) {
  disableWebhookEndpoint(input: {endpointId: $id, reason: "maintenance"}) {
    endpoint { enabled disabledReason } userErrors { code } } }"""
ENABLE = """mutation($id: ID!) { enableWebhookEndpoint(input: {endpointId: $id}) {
    endpoint { enabled disabledReason } userErrors { code } } }"""
ROTATE = """mutation($id: ID!) { rotateWebhookSecret(input: {endpointId: $id}) {
    secret endpoint { id } userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $types: [String!]) {
  updateWebhookEndpoint(input: {endpointId: $id, eventTypes: $types}) {
    endpoint { eventTypes } userErrors { code field } } }"""
LIST = """query($first: Int, $after: String) { webhookEndpoints(first: $first, after: $after) {
    edges { cursor node { id url } } pageInfo { hasNextPage endCursor } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on WebhookEndpoint { url enabled } } }"""


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def engine(server, monkeypatch):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    marketplace = build_marketplace(server.database)
    made = WebhookEngine(server.database, marketplace, DeliveryPolicy.from_env(
        base_delay=0.02, max_delay=0.1, poll_interval=0.02, workers=2))
    made.start()
    yield made
    made.stop()
    marketplace.close()


def test_a_requester_runs_its_webhook_through_the_api(client, market, receiver, engine):
    acme = market.requester("Acme")
    made = client.data(acme.key, CREATE, {"url": receiver.url})["createWebhookEndpoint"]
    assert made["userErrors"] == [] and made["secret"].startswith("whsec_")
    endpoint = made["endpoint"]
    assert (endpoint["url"], endpoint["enabled"], endpoint["eventTypes"]) == (
        receiver.url, True, [])
    receiver.secret = made["secret"]

    market.task(acme)
    market.task(acme)
    wait_until(lambda: len(receiver.events()) == 4)
    page = client.data(acme.key, DELIVERIES, {"id": endpoint["id"], "first": 3})
    edges = page["webhookDeliveries"]["edges"]
    assert page["webhookDeliveries"]["pageInfo"]["hasNextPage"]
    nodes = [edge["node"] for edge in edges]
    assert [n["position"] for n in nodes] == sorted((n["position"] for n in nodes),
                                                    key=int, reverse=True)
    assert all(n["attempts"] == 1 and n["lastStatusCode"] == 200 and n["delivered"]
               and n["nextAttemptAt"] is None and n["latencyMs"] is not None for n in nodes)
    rest = client.data(acme.key, DELIVERIES, {
        "id": endpoint["id"], "first": 3,
        "after": page["webhookDeliveries"]["pageInfo"]["endCursor"]})["webhookDeliveries"]
    assert len(rest["edges"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    oldest = rest["edges"][0]["node"]
    assert [r.event_id for r in receiver.events()][0] == oldest["eventId"]

    after = nodes[-1]["position"]  # the second event: replay the two after it
    replay = client.data(acme.key, REPLAY, {"id": endpoint["id"], "after": after})
    assert replay["replayWebhookEndpoint"]["userErrors"] == []
    wait_until(lambda: len(receiver.events()) == 6)
    assert [r.position for r in receiver.events()[4:]] == [
        int(n["position"]) for n in reversed(nodes[:2])]

    again = client.data(acme.key, REDELIVER, {"id": oldest["id"]})["redeliverWebhook"]
    assert again["userErrors"] == [] and again["endpoint"]["id"] == endpoint["id"]
    wait_until(lambda: len(receiver.events()) == 7)
    assert receiver.events()[-1].event_id == oldest["eventId"]
    assert all(r.valid for r in receiver.events())

    off = client.data(acme.key, DISABLE, {"id": endpoint["id"]})["disableWebhookEndpoint"]
    assert off["endpoint"] == {"enabled": False, "disabledReason": "maintenance"}
    on = client.data(acme.key, ENABLE, {"id": endpoint["id"]})["enableWebhookEndpoint"]
    assert on["endpoint"] == {"enabled": True, "disabledReason": None}

    rotated = client.data(acme.key, ROTATE, {"id": endpoint["id"]})["rotateWebhookSecret"]
    assert rotated["secret"] != made["secret"] and rotated["userErrors"] == []
    receiver.secret = rotated["secret"]
    updated = client.data(acme.key, UPDATE, {"id": endpoint["id"], "types": ["TaskPosted"]})
    assert updated["updateWebhookEndpoint"]["endpoint"]["eventTypes"] == ["TaskPosted"]
    market.task(acme)
    wait_until(lambda: len(receiver.events()) == 8)
    assert receiver.events()[-1].type == "TaskPosted" and receiver.events()[-1].valid


def test_only_the_owner_or_an_admin_can_see_and_manage_an_endpoint(client, market, receiver,
                                                                    monkeypatch):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")  # the receiver is local
    acme, rival = market.requester("Acme"), market.requester("Rival", deposit=0)
    made = client.data(acme.key, CREATE, {"url": receiver.url})["createWebhookEndpoint"]
    endpoint_id = made["endpoint"]["id"]

    assert client.data(rival.key, NODE, {"id": endpoint_id})["node"] is None
    assert client.data(acme.key, NODE, {"id": endpoint_id})["node"]["url"] == receiver.url
    assert client.data(market.admin, NODE, {"id": endpoint_id})["node"]["enabled"]
    refused = client.data(rival.key, DISABLE, {"id": endpoint_id})["disableWebhookEndpoint"]
    assert refused["userErrors"] == [{"code": "NOT_FOUND"}]
    body = client.run(rival.key, DELIVERIES, {"id": endpoint_id})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    worker = market.worker()
    assert client.data(worker.key, CREATE, {"url": receiver.url})[
        "createWebhookEndpoint"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert client.data(rival.key, CREATE, {"url": receiver.url, "req": acme.id})[
        "createWebhookEndpoint"]["userErrors"][0]["code"] == "FORBIDDEN"
    admin_without = client.data(market.admin, CREATE, {"url": receiver.url})
    assert admin_without["createWebhookEndpoint"]["userErrors"][0]["field"] == ["requesterId"]
    by_admin = client.data(market.admin, CREATE, {"url": receiver.url, "req": rival.id})
    assert by_admin["createWebhookEndpoint"]["userErrors"] == []
    partner = market.key("PARTNER", acme)
    by_partner = client.run(partner, CREATE, {"url": receiver.url})
    assert by_partner["data"]["createWebhookEndpoint"]["userErrors"] == []
    written = str(by_partner["extensions"]["position"])  # the last write: read after it

    def listed(key, **page):
        response = client.post(key, LIST, page, **{"X-Taskmarket-After-Position": written})
        assert response.status_code == 200 and not response.json().get("errors")
        return response.json()["data"]["webhookEndpoints"]

    mine = [edge["node"]["id"] for edge in listed(acme.key)["edges"]]
    assert len(mine) == 2 and endpoint_id in mine
    assert [e["node"]["id"] for e in listed(rival.key)["edges"]] == [
        by_admin["createWebhookEndpoint"]["endpoint"]["id"]]
    first_page = listed(market.admin, first=2)
    assert first_page["pageInfo"]["hasNextPage"]
    rest = listed(market.admin, first=2, after=first_page["pageInfo"]["endCursor"])
    everything = [e["node"]["id"] for e in first_page["edges"] + rest["edges"]]
    assert len(everything) == 3 and set(mine) < set(everything)
    body = client.run(worker.key, LIST)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("url, types, field", [
    ("ftp://partner.example/x", None, ["url"]),
    ("not a url", None, ["url"]),
    ("https://partner.example/x", ["TaskPosted", "NoSuchEvent"], ["eventTypes"]),
    ("https://partner.example/x", ["ApiKeyIssued"], ["eventTypes"]),
])
def test_bad_endpoints_are_refused_and_nothing_is_written(client, market, url, types, field):
    acme = market.requester("Acme", deposit=0)
    made = client.data(acme.key, CREATE, {"url": url, "types": types})
    payload = made["createWebhookEndpoint"]
    assert payload["endpoint"] is None and payload["secret"] is None
    assert payload["userErrors"][0]["code"] == "INVALID_INPUT"
    assert payload["userErrors"][0]["field"] == field


ATTACKER_TARGETS = ["http://127.0.0.1/", "http://169.254.169.254/latest/meta-data",
                    "http://[::1]/", "http://10.0.0.1/", "http://localhost/",
                    "http://0x7f000001/", "http://2130706433/", "http://[::ffff:127.0.0.1]/",
                    "http://[fe80::]/", "http://0.0.0.0/"]
UPDATE_URL = """mutation($id: ID!, $url: String) {
  updateWebhookEndpoint(input: {endpointId: $id, url: $url}) {
    endpoint { url } userErrors { code field message } } }"""


def test_private_targets_are_refused_at_registration_and_nothing_is_written(
        client, market, monkeypatch):
    monkeypatch.delenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", raising=False)
    acme = market.requester("Acme", deposit=0)
    for url in ATTACKER_TARGETS:
        payload = client.data(acme.key, CREATE, {"url": url})["createWebhookEndpoint"]
        assert payload["endpoint"] is None and payload["secret"] is None, url
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID_INPUT", ["url"])], url
    assert client.data(acme.key, LIST)["webhookEndpoints"]["edges"] == []


def test_an_update_to_a_private_target_is_refused_and_the_flag_allows_it(client, market,
                                                                        monkeypatch):
    monkeypatch.delenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", raising=False)
    acme = market.requester("Acme", deposit=0)
    made = client.data(acme.key, CREATE, {"url": "https://8.8.8.8/hook"})
    endpoint_id = made["createWebhookEndpoint"]["endpoint"]["id"]
    for url in ATTACKER_TARGETS:
        refused = client.data(acme.key, UPDATE_URL, {"id": endpoint_id, "url": url})
        payload = refused["updateWebhookEndpoint"]
        assert payload["endpoint"] is None, url
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID_INPUT", ["url"])], url
    node = client.data(acme.key, NODE, {"id": endpoint_id})["node"]
    assert node["url"] == "https://8.8.8.8/hook"

    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")  # local development
    allowed = client.data(acme.key, UPDATE_URL, {"id": endpoint_id, "url": "http://10.0.0.1/"})
    assert allowed["updateWebhookEndpoint"]["endpoint"] == {"url": "http://10.0.0.1/"}


EVENTS_PAGE = """query($after: String) { events(first: 100, after: $after) {
    edges { node { id type position } } pageInfo { hasNextPage endCursor } } }"""
UPDATE_TYPES = """mutation($id: ID!, $types: [String!], $url: String) {
  updateWebhookEndpoint(input: {endpointId: $id, eventTypes: $types, url: $url}) {
    endpoint { eventTypes } userErrors { code field message } } }"""


def read_events(client, key: str, after: str | None = None) -> list[dict]:
    """Every event the key's events query returns after ``after``, in order."""
    found: list[dict] = []
    while True:
        page = client.data(key, EVENTS_PAGE, {"after": after})["events"]
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def test_each_endpoint_receives_exactly_what_its_key_reads(client, market, engine):
    acme = market.requester("Acme")
    partner = market.key("PARTNER", acme)
    worker = market.worker()
    receivers = {role: Receiver().start() for role in ("ADMIN", "REQUESTER", "PARTNER")}
    try:
        keys = {"ADMIN": market.admin, "REQUESTER": acme.key, "PARTNER": partner}
        for role, receiver in receivers.items():
            made = client.data(keys[role], CREATE, {
                "url": receiver.url, "req": acme.id if role == "ADMIN" else None})
            assert made["createWebhookEndpoint"]["userErrors"] == [], role
            receiver.secret = made["createWebhookEndpoint"]["secret"]
        start = read_events(client, market.admin)[-1]["position"]

        client.data(market.admin, """mutation($id: ID!) { depositFunds(input: {
            requesterId: $id, amount: {amount: 5000, currency: "USD"}, reference: "wire-77"})
            { userErrors { code } } }""", {"id": acme.id})
        task = market.task(acme)
        market.review(acme, market.submit(worker, market.claim(worker, task)))
        last = market.task(acme, title="the last one")  # delivered last, in log order
        for receiver in receivers.values():
            wait_until(lambda: any(r.body["aggregateId"] == last and r.type == "TaskPosted"
                                   for r in receiver.events()))

        def received(role: str) -> list[tuple[str, str]]:
            return [(r.event_id, r.type) for r in receivers[role].events()]

        def readable(key: str) -> list[tuple[str, str]]:
            return [(e["id"], e["type"]) for e in read_events(client, key, start)]

        assert received("REQUESTER") == readable(acme.key)
        assert received("PARTNER") == readable(partner)
        assert received("ADMIN") == readable(acme.key)  # all of the requester's events
        requester_types = {kind for _, kind in received("REQUESTER")}
        assert "RequesterFundsDeposited" in requester_types
        assert not any(kind.startswith("Requester") for _, kind in received("PARTNER"))
        assert all(b"wire-77" not in r.raw for r in receivers["PARTNER"].events())
        assert all(r.valid for receiver in receivers.values() for r in receiver.events())
    finally:
        for receiver in receivers.values():
            receiver.stop()


def test_a_partner_may_not_subscribe_its_endpoint_to_funding_events(client, market,
                                                                   monkeypatch):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    acme = market.requester("Acme", deposit=0)
    partner = market.key("PARTNER", acme)
    refused = client.data(partner, CREATE, {"url": "http://127.0.0.1:9/h",
                                            "types": ["TaskPosted", "RequesterFundsDeposited"]})
    payload = refused["createWebhookEndpoint"]
    assert payload["endpoint"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["eventTypes"])]
    assert "RequesterFundsDeposited" in payload["userErrors"][0]["message"]

    made = client.data(partner, CREATE, {"url": "http://127.0.0.1:9/h",
                                         "types": ["TaskPosted"]})["createWebhookEndpoint"]
    endpoint_id = made["endpoint"]["id"]
    widened = client.data(partner, UPDATE_TYPES, {
        "id": endpoint_id, "types": ["RequesterFundsDeposited"]})["updateWebhookEndpoint"]
    assert [(e["code"], e["field"]) for e in widened["userErrors"]] == [
        ("INVALID_INPUT", ["eventTypes"])]

    # The requester's own endpoint: a partner key pointing it elsewhere must drop funding.
    own = client.data(acme.key, CREATE, {"url": "http://127.0.0.1:9/r",
                                         "types": ["RequesterFundsDeposited"]})
    own_id = own["createWebhookEndpoint"]["endpoint"]["id"]
    taken = client.data(partner, UPDATE_TYPES, {"id": own_id, "url": "http://127.0.0.1:9/p"})
    assert [(e["code"], e["field"]) for e in taken["updateWebhookEndpoint"]["userErrors"]] == [
        ("INVALID_INPUT", ["eventTypes"])]
    assert client.data(acme.key, NODE, {"id": own_id})["node"]["url"] == "http://127.0.0.1:9/r"
