"""The reconciliation rule book: each kind of disagreement, found once."""

from datetime import datetime, timedelta, timezone

import pytest

from taskmarket.domain import DomainError
from taskmarket.domain.reconciliation import OurPayout, StripeTransfer, check_period, compare


def paid(pid, transfer, amount=500, destination="acct_a", reversed_amount=0, status="PAID"):
    return OurPayout(pid, status, amount, "USD", destination, transfer, reversed_amount)


def transfer(tid, pid, amount=500, destination="acct_a", currency="usd", reversed_amount=0):
    return StripeTransfer(tid, amount, currency, destination, pid, reversed_amount)


def test_books_that_agree_have_no_discrepancy():
    ours = [paid("p1", "tr_1"), paid("p2", "tr_2")]
    assert compare(ours, {p.id: p for p in ours},
                   [transfer("tr_1", "p1"), transfer("tr_2", "p2")]) == []


def test_each_kind_is_reported_once_with_both_sides():
    ours = [paid("p1", "tr_1"), paid("p2", "tr_gone"), paid("p3", "tr_3"),
            paid("p4", "tr_4", reversed_amount=0)]
    waiting = paid("p5", None, status="REQUESTED")
    named = {p.id: p for p in [*ours, waiting]}
    stripe = [transfer("tr_1", "p1"), transfer("tr_3", "p3", amount=450, currency="eur"),
              transfer("tr_4", "p4", reversed_amount=500), transfer("tr_x", "p5"),
              transfer("tr_dup", "p1"), transfer("tr_stranger", None)]
    found = compare(ours, named, stripe)
    kinds = sorted(((d["kind"], d["payoutId"], d["stripeTransferId"]) for d in found),
                   key=lambda k: (k[0], k[1] or ""))
    assert kinds == [
        ("MISMATCH", "p3", "tr_3"),
        ("PAID_WITHOUT_TRANSFER", "p2", "tr_gone"),
        ("TRANSFER_WITHOUT_PAYOUT", None, "tr_stranger"),
        ("TRANSFER_WITHOUT_PAYOUT", "p1", "tr_dup"),
        ("TRANSFER_WITHOUT_PAYOUT", "p5", "tr_x"),
        ("UNRECORDED_REVERSAL", "p4", "tr_4"),
    ]
    [mismatch] = [d for d in found if d["kind"] == "MISMATCH"]
    assert mismatch["detail"] == "amount 500 here, 450 at Stripe; currency USD here, EUR at Stripe"
    assert mismatch["ours"]["amount"] == 500 and mismatch["stripe"]["amount"] == 450
    assert mismatch["stripe"]["amountReversed"] == 0


def test_a_period_runs_forwards_and_at_most_a_year():
    now = datetime(2026, 11, 30, tzinfo=timezone.utc)
    check_period(now - timedelta(days=1), now)
    for start, end in [(now, now), (now, now - timedelta(days=1)),
                       (now - timedelta(days=400), now)]:
        with pytest.raises(DomainError) as refused:
            check_period(start, end)
        assert refused.value.code == "INVALID_INPUT"
