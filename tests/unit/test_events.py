"""Public names and bodies of events: what the API, webhooks and the event log show."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from uuid import uuid4

from taskmarket.domain import ApiKey, Money, Role, Task, Worker
from taskmarket.domain.task import TaskSpec
from taskmarket.domain.webhook import WebhookEndpoint
from taskmarket.events import aggregate_kind, event_data, event_type

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)


def test_type_names_join_the_aggregate_and_the_event():
    assert event_type("taskmarket.domain.task:Task.Claimed") == "TaskClaimed"
    assert event_type("taskmarket.domain.requester:Requester.FundsDeposited") == \
        "RequesterFundsDeposited"
    assert event_type("Task.Posted") == "TaskPosted"
    worker = Worker.register("Ada", ["vision"])
    [registered] = worker.collect_events()
    assert event_type(registered) == "WorkerRegistered"
    assert aggregate_kind(registered) == "Worker"
    assert aggregate_kind("taskmarket.domain.payout:Payout.Paid") == "Payout"


def test_bodies_are_camel_case_json_without_the_envelope():
    requester = uuid4()
    task = Task.post(requester, TaskSpec("Label", "Boxes", Money(250, "USD"),
                                         payload={"image_url": "x"}), NOW)
    claim = task.claim(uuid4(), [], NOW)
    posted, claimed = task.collect_events()
    body = event_data(posted)
    assert body["requesterId"] == str(requester)
    assert body["rewardAmount"] == 250 and body["postedAt"] == NOW.isoformat()
    assert body["payload"] == {"image_url": "x"}  # the requester's own JSON is untouched
    assert not {"originatorId", "originatorVersion", "timestamp"} & body.keys()
    assert event_data(claimed)["claimId"] == str(claim)
    json.dumps(body)  # JSON as it is


def test_secrets_and_their_hashes_never_appear():
    key = ApiKey.issue("tm_secret", Role.PARTNER, "partner", uuid4())
    endpoint = WebhookEndpoint.create("https://example.com/hook", [], uuid4(), None,
                                      "hash-of-secret", frozenset(), NOW)
    endpoint.rotate_secret("another-hash")
    events = [*key.collect_events(), *endpoint.collect_events()]
    assert [event_type(e) for e in events] == [
        "ApiKeyIssued", "WebhookEndpointCreated", "WebhookEndpointSecretRotated"]
    for event in events:
        text = json.dumps(event_data(event))
        assert "hash" not in text.lower() and "secret" not in text.lower()
    assert event_data(events[0])["role"] == "PARTNER"
    assert event_data(events[1])["url"] == "https://example.com/hook"
