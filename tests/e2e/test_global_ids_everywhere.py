"""One kind of ID: what an event's data names can be pasted into node(id:) and mutations,
whether the event came from the events query or a webhook delivery."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from webhook_harness import Receiver, wait_until  # noqa: E402

from taskmarket.bootstrap import build_marketplace  # noqa: E402
from taskmarket.webhooks.engine import WebhookEngine  # noqa: E402
from taskmarket.webhooks.policy import DeliveryPolicy  # noqa: E402

HISTORY = """query($id: ID!) { task(id: $id) { history { type aggregateId data } } }"""
NODE = """query($id: ID!) { node(id: $id) { id __typename } }"""
ID_FIELDS = ("taskId", "requesterId", "workerId", "claimId", "submissionId", "payoutId")


def ids_in(data: dict) -> dict[str, str]:
    return {name: value for name, value in data.items() if name in ID_FIELDS and value}


def test_event_data_ids_are_the_nodes_own_ids(client, market):
    acme, wanda = market.requester("Acme"), market.worker("Wanda")
    task = market.task(acme)
    claim = market.claim(wanda, task)
    submission = market.submit(wanda, claim)
    market.review(acme, submission)
    history = client.data(acme.key, HISTORY, {"id": task})["task"]["history"]
    by_type = {event["type"]: event for event in history}
    assert by_type["TaskPosted"]["data"]["taskId"] == task == by_type["TaskPosted"]["aggregateId"]
    assert by_type["TaskPosted"]["data"]["requesterId"] == acme.id
    assert by_type["TaskClaimed"]["data"] == {**by_type["TaskClaimed"]["data"],
                                              "claimId": claim, "workerId": wanda.id}
    assert by_type["TaskWorkSubmitted"]["data"]["submissionId"] == submission
    pasted = set()
    for event in history:
        for value in ids_in(event["data"]).values():
            node = client.data(market.admin, NODE, {"id": value})["node"]
            assert node is not None and node["id"] == value
            pasted.add(node["__typename"])
    assert pasted == {"Task", "Requester", "Worker", "Claim", "Submission"}
    events = client.data(market.admin, """{ events(first: 100, types: ["PayoutRequested"]) {
      edges { node { aggregateId data } } } }""")["events"]["edges"]
    payout = events[-1]["node"]
    assert payout["data"]["payoutId"] == payout["aggregateId"]
    assert payout["data"]["submissionId"] == submission and payout["data"]["taskId"] == task
    assert client.data(market.admin, NODE, {"id": payout["aggregateId"]})["node"][
        "__typename"] == "Payout"


@pytest.mark.parametrize("query, variables", [
    ("query($id: ID!) { node(id: $id) { id } }", {"id": "0b6a5f0e-3c55-4b8e-9d5c-2c1c9d0b7a11"}),
    ("query($id: ID!) { task(id: $id) { id } }", {"id": None}),
    ("query($id: ID) { payouts(workerId: $id) { edges { cursor } } }", {"id": None}),
])
def test_raw_uuids_and_wrong_types_are_invalid_input_not_empty(client, market, query,
                                                                variables):
    acme = market.requester("Acme", deposit=0)
    if variables["id"] is None:
        variables = {"id": acme.id}  # a requester's id where a task's or worker's is due
    body = client.run(market.admin, query, variables)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_webhook_bodies_carry_global_ids_too(client, market, server, monkeypatch):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    receiver = Receiver().start()
    marketplace = build_marketplace(server.database)
    engine = WebhookEngine(server.database, marketplace, DeliveryPolicy.from_env(
        base_delay=0.02, max_delay=0.1, poll_interval=0.02, workers=1))
    engine.start()
    try:
        acme, wanda = market.requester("Acme"), market.worker("Wanda")
        made = client.data(acme.key, """mutation($url: String!) {
          createWebhookEndpoint(input: {url: $url, eventTypes: ["TaskClaimed"]}) {
            secret userErrors { code } } }""", {"url": receiver.url})
        assert made["createWebhookEndpoint"]["userErrors"] == []
        task = market.task(acme)
        claim = market.claim(wanda, task)
        # The engine delivers for every endpoint in the session's database, earlier tests'
        # too (one delivery worker, retrying theirs first): on a loaded box that takes a while.
        wait_until(lambda: len(receiver.events()) == 1, timeout=90)
        body = receiver.events()[0].body
        assert body["aggregateId"] == task
        assert body["data"]["claimId"] == claim and body["data"]["workerId"] == wanda.id
        node = client.data(acme.key, NODE, {"id": body["data"]["claimId"]})["node"]
        assert node == {"id": claim, "__typename": "Claim"}
    finally:
        engine.stop()
        marketplace.close()
        receiver.stop()
