"""Finance reconciles our payouts with Stripe's transfers, against the Stripe emulator:
clean after 50 payouts paid through faults; then each kind of discrepancy, made on purpose,
is reported once, and a reversal whose webhook was lost is recorded once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from workers_harness import (  # noqa: F401  (fixtures)
    accepted_payout, connected_account, emulator, funded_requester, pipeline, post, wait_until,
)

from taskmarket.bootstrap import build_read_models, start_projections
from taskmarket.clock import utc_now
from taskmarket.domain import DomainError, PayoutStatus
from taskmarket.finance.reconcile import Reconciler
from taskmarket.finance.schedule import DailyReconciliation

FAULTS = dict(failure_rate=0.08, rate_limit_rate=0.04, commit_then_drop_rate=0.08, seed=15)
SCRIPT = shutil.which("taskmarket", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "taskmarket.cli"]


@pytest.fixture
def reads(database):
    models = build_read_models(database)
    yield models
    models.close()


def period():
    now = utc_now()
    return now - timedelta(hours=1), now + timedelta(hours=1)


def run_of(reads, run_id):
    """The run as finance reads it, once every read model shows what it recorded."""
    assert reads.wait_for(reads.max_position(), timeout=20)
    return reads.reconciliation_run(run_id)


def found(run) -> Counter:
    return Counter((d["kind"], d["payoutId"], d["stripeTransferId"]) for d in run.discrepancies)


def open_gauge() -> float:
    return REGISTRY.get_sample_value("taskmarket_reconciliation_open_discrepancies")


def test_clean_after_faults_then_each_discrepancy_is_reported_once(database, emulator, reads):
    control = httpx.Client(base_url=emulator.url)
    with pipeline(database, emulator) as app:
        projections = start_projections(database, app)
        try:
            emulator.state.set_faults(**FAULTS)
            requester = funded_requester(app)
            people = [app.register_worker(f"w{n}", [], connected_account(emulator))
                      for n in range(10)]
            payouts = []
            for n in range(5):
                task = post(app, requester, reward=300 + n, assignments=10)
                payouts += [accepted_payout(app, requester, task, w) for w in people]
            wait_until(lambda: all(app.get_payout(p).status == PayoutStatus.PAID
                                   for p in payouts), timeout=90, interval=0.2,
                       message="every payout PAID")
            emulator.state.set_faults()
            reconciler = Reconciler(app, reads, emulator.stripe_client)

            clean = run_of(reads, reconciler.reconcile(*period()))
            assert (clean.payouts_compared, clean.transfers_compared) == (50, 50)
            assert clean.discrepancies == []
            assert open_gauge() == 0

            # Each discrepancy, made on purpose.
            stranger = control.post("/_emulator/transfers", json={
                "amount": 999, "currency": "usd",
                "destination": connected_account(emulator)}).json()
            twice = app.get_payout(payouts[0])
            duplicate = control.post("/_emulator/transfers", json={
                "amount": twice.amount, "currency": "usd",
                "destination": connected_account(emulator),
                "metadata": {"payout_id": str(twice.id)}}).json()
            unpaid_worker = app.register_worker("no account yet", [])
            waiting = accepted_payout(app, requester, post(app, requester), unpaid_worker)
            early = control.post("/_emulator/transfers", json={
                "amount": 250, "currency": "usd", "destination": connected_account(emulator),
                "metadata": {"payout_id": str(waiting)}}).json()
            ghost = accepted_payout(app, requester, post(app, requester), unpaid_worker)
            app.record_payout_paid(ghost, "tr_never_made")
            changed = app.get_payout(payouts[1])
            control.post(f"/_emulator/transfers/{changed.transfer_id}/adjust",
                         json={"amount": changed.amount + 1})
            reversed_ = app.get_payout(payouts[2])
            control.post(f"/_emulator/transfers/{reversed_.transfer_id}/reversals", json={})

            first = run_of(reads, reconciler.reconcile(*period()))
            assert found(first) == Counter({
                ("TRANSFER_WITHOUT_PAYOUT", None, stranger["id"]): 1,
                ("TRANSFER_WITHOUT_PAYOUT", str(twice.id), duplicate["id"]): 1,
                ("TRANSFER_WITHOUT_PAYOUT", str(waiting), early["id"]): 1,
                ("PAID_WITHOUT_TRANSFER", str(ghost), "tr_never_made"): 1,
                ("MISMATCH", str(changed.id), changed.transfer_id): 1,
                ("UNRECORDED_REVERSAL", str(reversed_.id), reversed_.transfer_id): 1,
            })
            [mismatch] = [d for d in first.discrepancies if d["kind"] == "MISMATCH"]
            assert mismatch["ours"]["amount"] + 1 == mismatch["stripe"]["amount"]
            assert open_gauge() == 6

            # The reversal is now in our books, exactly as the webhook would have put it.
            history = [e.type for e in reads.payout_history_events(reversed_.id)]
            assert history.count("PayoutTransferReversed") == 1
            again = run_of(reads, reconciler.reconcile(*period()))
            assert len(again.discrepancies) == 5
            assert "UNRECORDED_REVERSAL" not in {d["kind"] for d in again.discrepancies}
            history = [e.type for e in reads.payout_history_events(reversed_.id)]
            assert history.count("PayoutTransferReversed") == 1
            assert [r.id for r in reads.reconciliation_runs(10)] == [again.id, first.id,
                                                                    clean.id]
        finally:
            projections.stop()


def test_the_daily_run_reconciles_yesterday_once(database, emulator, reads):
    with pipeline(database, emulator, run_worker=False, dispatch=False) as app:
        projections = start_projections(database, app)
        try:
            reconciler = Reconciler(app, reads, emulator.stripe_client)
            daily = DailyReconciliation(lambda: reconciler, app.clock)
            run_id = daily.run_due()
            run = run_of(reads, run_id)
            assert run.period_to - run.period_from == timedelta(days=1)
            assert run.period_to.hour == 0 and run.period_to.date() == utc_now().date()
            assert daily.run_due() is None
            with pytest.raises(DomainError) as refused:
                reconciler.reconcile(run.period_to, run.period_from)
            assert refused.value.code == "INVALID_INPUT"

            import stripe
            down = Reconciler(app, reads, lambda: stripe.StripeClient(
                "sk_test_down", base_addresses={"api": "http://127.0.0.1:9"},
                max_network_retries=0))
            with pytest.raises(DomainError) as unavailable:
                down.reconcile(*period())
            assert unavailable.value.code == "STRIPE_UNAVAILABLE"
            assert len(reads.reconciliation_runs(10)) == 1  # nothing recorded
        finally:
            projections.stop()


def test_the_cli_lists_the_discrepancies_and_exits_1(database, emulator):
    control = httpx.Client(base_url=emulator.url)
    control.post("/_emulator/transfers", json={
        "amount": 999, "currency": "usd", "destination": connected_account(emulator)})
    env = {**os.environ, "DATABASE_URL": database.url, "STRIPE_API_BASE": emulator.url}
    env.pop("TASKMARKET_DATA_DIR", None)
    start, end = period()
    done = subprocess.run([*COMMAND, "--log-level", "WARNING", "finance", "reconcile",
                           "--from", start.strftime("%Y-%m-%dT%H:%M:%S%z"),
                           "--to", end.strftime("%Y-%m-%dT%H:%M:%S%z")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stderr
    assert "0 payouts, 1 transfers, 1 discrepancies" in done.stdout
    assert "TRANSFER_WITHOUT_PAYOUT\tpayout=-" in done.stdout


def paid_back_then(database, emulator, payout, when, amount=250) -> dict:
    """A transfer Stripe made at `when` for the payout, recorded PAID by a marketplace whose
    clock says `when` (a payout of an earlier period)."""
    from taskmarket.bootstrap import build_marketplace

    transfer = httpx.Client(base_url=emulator.url).post("/_emulator/transfers", json={
        "amount": amount, "currency": "usd", "destination": connected_account(emulator),
        "created": int(when.timestamp()), "metadata": {"payout_id": str(payout)}}).json()
    back_then = build_marketplace(database, clock=lambda: when)
    try:
        back_then.record_payout_paid(payout, transfer["id"])
    finally:
        back_then.close()
    return transfer


def test_a_lost_reversal_of_a_transfer_made_before_the_period_is_found(
        database, emulator, reads):
    control = httpx.Client(base_url=emulator.url)
    with pipeline(database, emulator, run_worker=False, dispatch=False) as app:
        projections = start_projections(database, app)
        try:
            requester = funded_requester(app)
            worker = app.register_worker("Ada", [])
            payout = accepted_payout(app, requester, post(app, requester), worker)
            old = paid_back_then(database, emulator, payout, utc_now() - timedelta(days=2))
            control.post(f"/_emulator/transfers/{old['id']}/reversals", json={"amount": 100})

            reconciler = Reconciler(app, reads, emulator.stripe_client)
            run = run_of(reads, reconciler.reconcile(*period()))
            assert found(run) == Counter({("UNRECORDED_REVERSAL", str(payout), old["id"]): 1})
            assert app.get_payout(payout).reversed
            wait_until(lambda: reads.ledger_balance("platform:reversed_transfers") == 100,
                       timeout=20, message="the reversal booked in the ledger")
        finally:
            projections.stop()


def test_two_workers_running_the_daily_run_at_once_record_one_run_and_one_reversal(
        database, emulator, reads):
    from concurrent.futures import ThreadPoolExecutor

    from taskmarket.bootstrap import build_marketplace

    control = httpx.Client(base_url=emulator.url)
    with pipeline(database, emulator, run_worker=False, dispatch=False) as app:
        projections = start_projections(database, app)
        try:
            requester = funded_requester(app)
            payout = accepted_payout(app, requester, post(app, requester),
                                     app.register_worker("Ada", []))
            transfer = paid_back_then(database, emulator, payout, utc_now() - timedelta(days=1))
            control.post(f"/_emulator/transfers/{transfer['id']}/reversals", json={})
            assert reads.wait_for(reads.max_position(), timeout=20)

            others = [build_marketplace(database) for _ in range(2)]
            try:
                dailies = [DailyReconciliation(
                    lambda a=other: Reconciler(a, reads, emulator.stripe_client), other.clock)
                    for other in others]
                with ThreadPoolExecutor(2) as pool:
                    outcomes = list(pool.map(lambda daily: daily.run_due(), dailies))
            finally:
                for other in others:
                    other.close()
            [run_id] = [outcome for outcome in outcomes if outcome is not None]
            assert run_of(reads, run_id) is not None
            assert len(reads.reconciliation_runs(10)) == 1
            history = [e.type for e in reads.payout_history_events(payout)]
            assert history.count("PayoutTransferReversed") == 1
        finally:
            projections.stop()
