"""A payout for accepted work: paid once, failures retryable or not, finance retries (no database)."""

from datetime import datetime, timezone
from uuid import uuid4

import pytest
from eventsourcing.application import Application

from taskmarket.domain import DomainError, Payout, PayoutStatus
from taskmarket.domain.ids import payout_id_for_bonus, payout_id_for_submission

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def requested(submission_id=None):
    submission_id = submission_id or uuid4()
    return Payout(payout_id=payout_id_for_submission(submission_id), worker_id=uuid4(),
                  requester_id=uuid4(), amount=250, currency="USD", task_id=uuid4(),
                  submission_id=submission_id, kind="submission", requested_at=NOW)


def code_of(call, *args):
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.code


def test_one_submission_has_exactly_one_payout_identity():
    submission = uuid4()
    assert requested(submission).id == requested(submission).id
    assert requested(submission).id != requested(uuid4()).id
    requester = uuid4()
    assert payout_id_for_bonus(requester, "k") == payout_id_for_bonus(requester, "k")
    assert payout_id_for_bonus(requester, "k") != payout_id_for_bonus(uuid4(), "k")


def test_a_paid_payout_records_its_transfer_once():
    payout = requested()
    assert payout.status == PayoutStatus.REQUESTED
    assert payout.record_paid("tr_1", NOW) is True
    assert (payout.status, payout.transfer_id, payout.attempts) == (PayoutStatus.PAID, "tr_1", 1)
    version = payout.version
    assert payout.record_paid("tr_1", NOW) is False  # a webhook delivered twice
    assert payout.version == version
    assert code_of(payout.record_paid, "tr_2", NOW) == "ALREADY_PAID"
    assert code_of(payout.record_failure, "late error", True) == "ALREADY_PAID"
    assert code_of(payout.retry) == "PAYOUT_NOT_FAILED"


def test_a_retryable_failure_keeps_the_payout_waiting_to_be_tried_again():
    payout = requested()
    payout.record_failure("rate limited", retryable=True)
    assert (payout.status, payout.attempts, payout.retryable) == (
        PayoutStatus.REQUESTED, 1, True)
    assert payout.failure_reason == "rate limited"
    assert code_of(payout.retry) == "PAYOUT_NOT_FAILED"
    payout.record_paid("tr_1", NOW)
    assert (payout.status, payout.attempts, payout.failure_reason) == (
        PayoutStatus.PAID, 2, None)


def test_a_permanent_failure_waits_for_finance_to_retry_under_a_new_stripe_key():
    payout = requested()
    first_key = payout.idempotency_key
    payout.record_failure("account closed", retryable=False)
    assert (payout.status, payout.retryable) == (PayoutStatus.FAILED, False)
    payout.retry()
    assert payout.status == PayoutStatus.REQUESTED
    assert (payout.failure_reason, payout.retryable) == (None, None)
    assert payout.idempotency_key != first_key  # Stripe must not replay the failed attempt
    payout.record_paid("tr_9", NOW)
    assert payout.status == PayoutStatus.PAID and payout.retries == 1


def test_a_reversal_is_recorded_once_and_only_for_the_payouts_transfer():
    payout = requested()
    payout.record_paid("tr_1", NOW)
    assert payout.record_reversal("tr_other", 250) is False
    assert payout.record_reversal("tr_1", 250) is True
    assert payout.record_reversal("tr_1", 250) is False
    assert payout.reversed


def test_a_payout_rebuilt_from_stored_events_equals_the_original():
    payout = requested()
    payout.record_failure("timeout", True)
    payout.record_failure("closed", False)
    payout.retry()
    payout.record_paid("tr_1", NOW)
    store = Application()
    store.save(payout)
    assert vars(store.repository.get(payout.id)) == vars(payout)
