"""Domain rules of a webhook endpoint: URL and type validation, switching, replays (no database)."""

from datetime import datetime, timezone
from uuid import uuid4

import pytest

from taskmarket.domain import DomainError
from taskmarket.domain.webhook import WebhookEndpoint

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
KNOWN = frozenset({"TaskPosted", "TaskClaimed", "WorkSubmitted"})


def create(url="https://partner.example/hooks", types=("TaskPosted",)):
    return WebhookEndpoint.create(url, list(types), uuid4(), None, "hash-1", KNOWN, T0)


def code_of(call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.field


@pytest.mark.parametrize("url", [
    "ftp://partner.example/x", "file:///etc/passwd", "javascript:alert(1)", "partner.example",
    "https://", "https://user:pw@partner.example/", "http://partner.example:99999/", "",
    "https://partner.example/#frag", "gopher://partner.example/",
])
def test_only_plain_http_and_https_urls_are_accepted(url):
    assert code_of(create, url) == ("INVALID_INPUT", ["url"])


def test_unknown_event_types_are_refused_and_duplicates_collapse():
    assert code_of(create, types=["TaskPosted", "Nope"]) == ("INVALID_INPUT", ["eventTypes"])
    endpoint = create(types=["TaskPosted", "TaskClaimed", "TaskPosted"])
    assert endpoint.event_types == ["TaskPosted", "TaskClaimed"]
    assert create(types=[]).event_types == []


def test_the_secret_itself_never_appears_in_an_event():
    endpoint = create()
    endpoint.rotate_secret("hash-2")
    events = endpoint.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "SecretRotated"]
    assert events[0].secret_hash == "hash-1" and events[1].secret_hash == "hash-2"
    assert endpoint.secret_hash == "hash-2"


def test_disable_keeps_the_reason_and_enable_clears_it():
    endpoint = create()
    assert endpoint.disable("10 consecutive failures; last HTTP 503", T0)
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "10 consecutive failures; last HTTP 503"
    assert not endpoint.disable("again", T0)  # nothing written twice
    assert endpoint.enable()
    assert endpoint.enabled and endpoint.disabled_reason is None
    assert not endpoint.enable()
    names = [type(e).__name__ for e in endpoint.collect_events()]
    assert names == ["Created", "Disabled", "Enabled"]


def test_update_validates_and_writes_only_changes():
    endpoint = create()
    assert not endpoint.update(None, None, KNOWN)
    assert code_of(endpoint.update, "ftp://x", None, KNOWN)[0] == "INVALID_INPUT"
    assert endpoint.update("http://other.example/in", ["WorkSubmitted"], KNOWN)
    assert (endpoint.url, endpoint.event_types) == ("http://other.example/in", ["WorkSubmitted"])


def test_replays_and_redeliveries_are_numbered_and_validated():
    endpoint = create()
    assert code_of(endpoint.request_replay, -1)[0] == "INVALID_INPUT"
    endpoint.request_replay(0)
    endpoint.request_replay(41)
    delivery = uuid4()
    endpoint.request_redelivery(delivery)
    endpoint.request_redelivery(delivery)
    events = endpoint.collect_events()[1:]
    assert [(e.after, e.replay) for e in events[:2]] == [(0, 1), (41, 2)]
    assert [(e.delivery_id, e.redelivery) for e in events[2:]] == [(delivery, 1), (delivery, 2)]


def test_an_endpoint_is_rebuilt_from_its_events():
    endpoint = create()
    endpoint.disable("gone", T0)
    endpoint.rotate_secret("hash-3")
    copy = None
    for domain_event in endpoint.collect_events():
        copy = domain_event.mutate(copy)
    assert (copy.url, copy.enabled, copy.disabled_reason, copy.secret_hash) == (
        endpoint.url, False, "gone", "hash-3")


def test_a_partner_endpoint_may_not_ask_for_what_a_partner_cannot_read():
    known = KNOWN | {"RequesterFundsDeposited"}
    partner_may = frozenset({"TaskPosted", "TaskClaimed"})

    def by_partner(types):
        return WebhookEndpoint.create("https://partner.example/h", types, uuid4(), None,
                                      "h", known, T0, audience="PARTNER",
                                      allowed_types=partner_may)

    with pytest.raises(DomainError) as refused:
        by_partner(["TaskPosted", "RequesterFundsDeposited"])
    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", ["eventTypes"])
    assert "PARTNER" in refused.value.message
    assert "RequesterFundsDeposited" in refused.value.message
    assert by_partner([]).audience == "PARTNER"


def test_an_update_follows_the_updating_keys_reading_rights():
    known = KNOWN | {"RequesterFundsDeposited"}
    partner_may = frozenset({"TaskPosted", "TaskClaimed"})
    endpoint = WebhookEndpoint.create("https://partner.example/h", ["RequesterFundsDeposited"],
                                      uuid4(), None, "h", known, T0)
    assert endpoint.audience == "REQUESTER"
    # A partner re-pointing the requester's endpoint would take its funding events along.
    assert code_of(endpoint.update, "https://elsewhere.example/", None, known, "PARTNER",
                   partner_may) == ("INVALID_INPUT", ["eventTypes"])
    assert endpoint.update("https://elsewhere.example/", [], known, "PARTNER", partner_may)
    assert (endpoint.url, endpoint.event_types, endpoint.audience) == (
        "https://elsewhere.example/", [], "PARTNER")
    rebuilt = None
    for stored in endpoint.collect_events():
        rebuilt = stored.mutate(rebuilt)
    assert rebuilt.audience == "PARTNER"


def test_endpoints_recorded_before_audiences_are_their_requesters():
    endpoint = create()
    created = endpoint.collect_events()[0]
    del created.__dict__["audience"]  # as stored before the field existed
    assert created.mutate(None).audience == "REQUESTER"
