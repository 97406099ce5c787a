"""Finance sees the books as they were at any moment of the log."""

from __future__ import annotations

import random

import pytest
from projection_harness import BusyMarket, catch_up, reads  # noqa: F401  (reads: fixture)

from taskmarket.domain import DomainError
from taskmarket.projections import ledger_history
from taskmarket.projections.runner import ProjectionRunner


def replayed_balances(database, notification_id: int) -> list[tuple]:
    """The ledger built from scratch from events 1..N only: its live balances."""
    runner = ProjectionRunner(database, ["ledger"])
    runner.reset()
    runner.catch_up(until=notification_id)
    with database.connect() as conn:
        return conn.execute("SELECT account, currency, balance FROM ledger_balances "
                            "ORDER BY account, currency").fetchall()


@pytest.mark.parametrize("every", [30, 5])  # 5: fewer than the accounts, one per account
def test_balances_as_of_any_position_equal_a_replay_of_the_log_up_to_it(
        database, reads, monkeypatch, every):
    monkeypatch.setattr(ledger_history, "CHECKPOINT_EVERY", every)
    market = BusyMarket(database, seed=15)
    try:
        market.setup(requesters=3, workers=4)
        market.run(400)
    finally:
        market.close()
    catch_up(database, batch_size=37)  # checkpoints land between batches
    with database.connect() as conn:
        checkpoints = conn.execute("SELECT count(DISTINCT position) FROM ledger_checkpoints"
                                   ).fetchone()[0]
        log = conn.execute("SELECT position, notification_id FROM event_log "
                           "ORDER BY position").fetchall()
    assert checkpoints >= 3
    with database.connect() as conn:
        sizes = conn.execute("SELECT count(*) FROM ledger_checkpoints GROUP BY position"
                             ).fetchall()
        entries = conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]
    # Never more checkpoint rows than entries: an interval is at least one per account.
    assert sum(size for (size,) in sizes) <= entries

    rng = random.Random(2026)
    chosen = sorted({1, len(log)} | {rng.randint(1, len(log)) for _ in range(6)})
    answers = {}
    for position in chosen:
        moment, balances = reads.account_balances(as_of=position)
        assert moment.position == position
        assert sum(b for _, currency, b in balances if currency == "USD") == 0
        answers[position] = balances
    for position in chosen:
        notification_id = dict(log)[position]
        assert answers[position] == replayed_balances(database, notification_id), position


def test_as_of_a_time_the_ledger_page_and_refusals(app, database, reads):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 1_000, "USD", "wire-1")
    catch_up(database)
    moment, balances = reads.account_balances()
    first_deposit_at = moment.occurred_at
    app.deposit_funds(acme, 500, "USD", "wire-2")
    catch_up(database)

    then, earlier = reads.account_balances(at=first_deposit_at)
    assert then.position == moment.position
    assert dict(((a, c), b) for a, c, b in earlier)[("external:deposits", "USD")] == -1_000
    now, later = reads.account_balances()
    assert dict(((a, c), b) for a, c, b in later)[("external:deposits", "USD")] == -1_500
    assert now.position == reads.event_log_head()

    assert len(reads.ledger("external", 100)) == 2
    assert len(reads.ledger("external", 100, as_of=moment.position)) == 1
    with pytest.raises(DomainError) as refused:
        reads.account_balances(as_of=now.position + 1)
    assert refused.value.code == "NOT_FOUND"
    empty, none = reads.account_balances(at=first_deposit_at.replace(year=2000))
    assert (empty.position, none) == (0, [])
