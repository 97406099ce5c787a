"""webhookEndpoints reads a read model kept by the projection runner: after a mutation, a
request passing its position (X-Taskmarket-After-Position) sees the endpoint's state, and
rebuilding the projection from zero gives the same rows."""

from __future__ import annotations

import pytest

from taskmarket.projections.runner import ProjectionRunner
from taskmarket.projections.tracking import positions

AFTER = "X-Taskmarket-After-Position"
CREATE = """mutation($url: String!, $req: ID) {
  createWebhookEndpoint(input: {url: $url, requesterId: $req}) {
    endpoint { id } userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $url: String, $types: [String!]) {
  updateWebhookEndpoint(input: {endpointId: $id, url: $url, eventTypes: $types}) {
    userErrors { code } } }"""
DISABLE = """mutation($id: ID!) {
  disableWebhookEndpoint(input: {endpointId: $id, reason: "receiver moved"}) {
    userErrors { code } } }"""
ENABLE = """mutation($id: ID!) { enableWebhookEndpoint(input: {endpointId: $id}) {
    userErrors { code } } }"""
LIST = """query($first: Int, $after: String) { webhookEndpoints(first: $first, after: $after) {
    edges { cursor node { id url eventTypes enabled disabledReason requesterId } }
    pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture(autouse=True)
def public_targets_allowed(monkeypatch):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")


def mutate(client, key, query, variables) -> int:
    """Run a mutation that must succeed; the log position it wrote up to."""
    body = client.run(key, query, variables)
    assert not body.get("errors"), body
    payload = next(iter(body["data"].values()))
    assert payload["userErrors"] == [], payload
    return int(body["extensions"]["position"])


def listed(client, key, position, **page) -> dict:
    response = client.post(key, LIST, page, **{AFTER: str(position)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["webhookEndpoints"]


def nodes(connection) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]]


def test_the_list_shows_each_change_once_its_position_is_read(client, market):
    acme = market.requester("Acme")
    body = client.run(acme.key, CREATE, {"url": "https://hooks.acme.example/in"})
    endpoint_id = body["data"]["createWebhookEndpoint"]["endpoint"]["id"]
    position = int(body["extensions"]["position"])
    assert nodes(listed(client, acme.key, position)) == [{
        "id": endpoint_id, "url": "https://hooks.acme.example/in", "eventTypes": [],
        "enabled": True, "disabledReason": None, "requesterId": acme.id}]

    position = mutate(client, acme.key, UPDATE, {
        "id": endpoint_id, "url": "https://hooks.acme.example/v2", "types": ["TaskPosted"]})
    (node,) = nodes(listed(client, acme.key, position))
    assert (node["url"], node["eventTypes"]) == ("https://hooks.acme.example/v2",
                                                 ["TaskPosted"])

    position = mutate(client, acme.key, DISABLE, {"id": endpoint_id})
    (node,) = nodes(listed(client, acme.key, position))
    assert (node["enabled"], node["disabledReason"]) == (False, "receiver moved")

    position = mutate(client, acme.key, ENABLE, {"id": endpoint_id})
    (node,) = nodes(listed(client, acme.key, position))
    assert (node["enabled"], node["disabledReason"]) == (True, None)


def test_a_rebuild_from_zero_gives_the_same_rows_and_pages(client, market, server):
    acme, rival = market.requester("Acme"), market.requester("Rival", deposit=0)
    made = []
    for number in range(3):
        body = client.run(acme.key, CREATE, {"url": f"https://hooks.acme.example/{number}"})
        made.append(body["data"]["createWebhookEndpoint"]["endpoint"]["id"])
    mutate(client, market.admin, CREATE, {"url": "https://rival.example/in", "req": rival.id})
    mutate(client, acme.key, DISABLE, {"id": made[0]})
    position = mutate(client, acme.key, UPDATE, {"id": made[1], "types": ["TaskPosted"]})

    def everything() -> tuple[list, list]:
        first = listed(client, market.admin, position, first=2)
        assert first["pageInfo"]["hasNextPage"]
        rest = listed(client, market.admin, position, first=2,
                      after=first["pageInfo"]["endCursor"])
        assert not rest["pageInfo"]["hasNextPage"]
        with server.database.connect() as conn:
            rows = conn.execute("SELECT * FROM webhook_endpoints ORDER BY id").fetchall()
        return nodes(first) + nodes(rest), rows

    before_pages, before_rows = everything()
    assert len(before_rows) == 4 and {n["id"] for n in before_pages} >= set(made)
    assert [n["id"] for n in nodes(listed(client, rival.key, position))] == [
        n["id"] for n in before_pages if n["requesterId"] == rival.id]

    ready = client.http.get("/readyz").json()  # a projection like the others
    assert ready["projections"]["webhook_endpoints"]["position"] >= position

    ProjectionRunner(server.database, ["webhook_endpoints"]).rebuild()
    with server.database.connect() as conn:
        assert positions(conn, ["webhook_endpoints"])["webhook_endpoints"] >= position
    assert everything() == (before_pages, before_rows)
