"""A worker's payout account: its status as Stripe reports it, recorded as events on the
Worker; events stored before statuses existed still load."""

from uuid import uuid4

import pytest
from eventsourcing.application import Application

from taskmarket.domain import DomainError, Payout, Worker
from taskmarket.domain.payout import bonus_reason
from taskmarket.domain.payout_account import PayoutAccountStatus, is_rejected, status_of

FRESH = {"id": "acct_1", "details_submitted": False, "capabilities": {"transfers": "inactive"},
         "requirements": {"currently_due": ["tos_acceptance.date", "external_account"],
                          "disabled_reason": "requirements.past_due"}}
ACTIVE = {"id": "acct_1", "details_submitted": True, "capabilities": {"transfers": "active"},
          "requirements": {"currently_due": [], "disabled_reason": None}}
PAST_DUE = {"id": "acct_1", "details_submitted": True,
            "capabilities": {"transfers": "inactive"},
            "requirements": {"currently_due": ["individual.verification.document"],
                             "disabled_reason": "requirements.past_due"}}
REJECTED = {**PAST_DUE, "requirements": {"currently_due": [],
                                         "disabled_reason": "rejected.fraud"}}


@pytest.mark.parametrize("account, status, due", [
    (FRESH, "ONBOARDING", ["external_account", "tos_acceptance.date"]),
    (ACTIVE, "ENABLED", []),
    (PAST_DUE, "DISABLED", ["individual.verification.document"]),
    (REJECTED, "DISABLED", []),
    ({"id": "acct_1"}, "ONBOARDING", []),
])
def test_status_follows_what_stripe_says(account, status, due):
    assert status_of(account) == (PayoutAccountStatus(status), due)


def test_only_a_rejection_is_final():
    assert is_rejected(REJECTED) and not is_rejected(PAST_DUE) and not is_rejected(FRESH)


def test_status_changes_are_events_and_repeats_write_nothing():
    worker = Worker.register("Ada")
    worker.link_account("acct_1", "ONBOARDING", ["b", "a"])
    assert (worker.payout_account_status, worker.requirements_due) == ("ONBOARDING", ["a", "b"])
    version = worker.version
    assert not worker.update_account_status("acct_1", "ONBOARDING", ["a", "b"])
    assert worker.version == version and not worker.can_be_paid
    assert worker.update_account_status("acct_1", "ENABLED", [])
    assert worker.can_be_paid and worker.version == version + 1
    # News about an account the worker no longer uses changes nothing.
    worker.link_account("acct_2")
    assert worker.payout_account_status is None
    assert not worker.update_account_status("acct_1", "DISABLED", [])
    with pytest.raises(DomainError):
        worker.update_account_status("acct_2", "SOMETHING", [])


def test_workers_stored_before_account_statuses_still_load():
    """A PayoutAccountLinked event as it was stored before this change (no status)."""
    store = Application()
    worker = Worker.register("Ada")
    worker.link_account("acct_old")
    store.save(worker)
    loaded = store.repository.get(worker.id)
    assert (loaded.stripe_account_id, loaded.payout_account_status) == ("acct_old", None)
    loaded.update_account_status("acct_old", "ENABLED", [])
    store.save(loaded)
    assert store.repository.get(worker.id).can_be_paid


def test_payouts_stored_before_reasons_still_load():
    store = Application()
    payout = Payout(payout_id=uuid4(), worker_id=uuid4(), requester_id=uuid4(), amount=5,
                    currency="USD", task_id=None, submission_id=None, kind="bonus",
                    requested_at=__import__("datetime").datetime(2026, 1, 1))
    store.save(payout)
    stored = store.recorder.select_events(payout.id)[0]
    assert b'"reason"' in stored.state  # written now; older events lack it
    old_state = stored.state.replace(b',"reason":null', b"").replace(b'"reason":null,', b"")
    assert b'"reason"' not in old_state
    event = store.mapper.to_domain_event(type(stored)(
        originator_id=stored.originator_id, originator_version=stored.originator_version,
        topic=stored.topic, state=old_state))
    assert event.mutate(None).reason is None


@pytest.mark.parametrize("text", ["", "   ", "x" * 501, "a\x00b", None, 5])
def test_a_bonus_needs_a_short_reason(text):
    with pytest.raises(DomainError) as refused:
        bonus_reason(text)
    assert refused.value.field == ["reason"]
