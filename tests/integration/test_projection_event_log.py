"""The global event log as partners read it, and keyset pages of every list."""

from __future__ import annotations

import pytest
from projection_harness import catch_up, reads  # noqa: F401  (reads: fixture)

from taskmarket.domain import DomainError, Money
from taskmarket.domain.task import TaskSpec


def burn_notification_id(database) -> None:
    """What a rolled-back insert leaves behind: a notification id nobody will ever use."""
    with database.connect() as conn:
        conn.execute("SELECT nextval(pg_get_serial_sequence('taskmarket_events', "
                     "'notification_id'))")


def test_the_log_is_gap_free_scoped_by_requester_and_filtered_by_type(app, database, reads):
    acme = app.create_requester("Acme")
    other = app.create_requester("Other")
    burn_notification_id(database)
    app.deposit_funds(acme, 1_000, "USD", "wire-1")
    app.deposit_funds(other, 1_000, "USD", "wire-2")
    task = app.post_task(acme, TaskSpec("t", "i", Money(100, "USD")))
    burn_notification_id(database)
    ada = app.register_worker("Ada", [])
    claim = app.claim_task(task, ada)
    submission = app.submit_work(task, claim, ada, {"a": 1})
    app.review_submission(task, submission, acme, "ACCEPT")
    app.issue_api_key("PARTNER", "partner of acme", acme)
    catch_up(database)

    log = reads.events(0, 100)
    assert [e.position for e in log] == list(range(1, len(log) + 1))
    assert log[-1].notification_id == len(log) + 2  # two ids were skipped in the store
    assert reads.event_log_head() == len(log)
    assert [e.cursor for e in log[:2]] == ["1", "2"]

    mine = reads.events(0, 100, requester_id=acme)
    assert {e.requester_id for e in mine} == {acme}
    assert [e.type for e in mine] == [
        "RequesterCreated", "RequesterFundsDeposited", "RequesterEscrowReserved",
        "TaskPosted", "TaskClaimed", "TaskWorkSubmitted", "TaskSubmissionAccepted",
        "TaskCompleted", "RequesterEscrowConsumed", "PayoutRequested"]
    assert all(e.requester_id is None for e in log
               if e.type in ("WorkerRegistered", "ApiKeyIssued"))
    claimed = [e for e in mine if e.type == "TaskClaimed"][0]
    assert (claimed.aggregate_id, claimed.aggregate_kind, claimed.aggregate_version) == (
        task, "Task", 2)
    assert claimed.data["claimId"] == str(claim) and claimed.data["workerId"] == str(ada)
    assert claimed.occurred_at is not None

    typed = reads.events(0, 100, types=["TaskClaimed", "PayoutRequested", "RequesterCreated"])
    assert [e.type for e in typed] == ["RequesterCreated", "RequesterCreated", "TaskClaimed",
                                       "PayoutRequested"]
    scoped = reads.events(0, 100, types=["RequesterCreated"], requester_id=other)
    assert [(e.type, e.requester_id) for e in scoped] == [("RequesterCreated", other)]
    assert reads.events(log[-2].position, 100) == [log[-1]]

    [issued] = [e for e in log if e.type == "ApiKeyIssued"]
    assert "secretHash" not in issued.data and "secret_hash" not in issued.data
    assert issued.data["role"] == "PARTNER"
    history = reads.task_history(task)
    assert [e.type for e in history] == ["TaskPosted", "TaskClaimed", "TaskWorkSubmitted",
                                         "TaskSubmissionAccepted", "TaskCompleted"]
    assert [e.aggregate_version for e in history] == [1, 2, 3, 4, 5]


def page_through(fetch, size):
    seen, after = [], None
    while True:
        rows = fetch(size + 1, after)
        seen.extend(rows[:size])
        if len(rows) <= size:
            return seen
        after = rows[size - 1].cursor


def test_every_list_pages_with_keyset_cursors(app, database, reads):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 100_000, "USD", "wire-1")
    tasks = [app.post_task(acme, TaskSpec(f"t{n}", "i", Money(10, "USD"), assignments=2))
             for n in range(7)]
    workers = [app.register_worker(f"w{n}", []) for n in range(2)]
    submissions = []
    for task in tasks:
        for worker in workers:
            claim = app.claim_task(task, worker)
            submissions.append(app.submit_work(task, claim, worker, {"t": str(task)}))
    for submission, task in zip(submissions[:5], [t for t in tasks for _ in workers]):
        app.review_submission(task, submission, acme, "ACCEPT")
    catch_up(database)

    newest_first = list(reversed(tasks))
    assert [t.id for t in page_through(
        lambda n, after: reads.tasks_of_requester(acme, None, n, after), 3)] == newest_first
    assert [t.id for t in page_through(
        lambda n, after: reads.all_tasks(None, None, n, after), 2)] == newest_first
    queue = page_through(lambda n, after: reads.review_queue(acme, n, after), 4)
    assert [s.id for s in queue] == submissions[5:]
    assert [p.id for p in page_through(
        lambda n, after: reads.payout_history(None, None, n, after), 2)] == [
        p.id for p in reads.payout_history(None, None, 100)]
    assert len(page_through(lambda n, after: reads.claims_of_worker(workers[0], n, after),
                            3)) == 7
    assert [s.id for s in page_through(
        lambda n, after: reads.submissions_of_task(tasks[0], n, after), 1)] == submissions[:2]
    events = page_through(lambda n, after: reads.events(int(after or 0), n), 10)
    assert [e.position for e in events] == list(range(1, reads.event_log_head() + 1))
    ledger = page_through(lambda n, after: reads.ledger(f"requester:{acme}", n, after), 4)
    assert len(ledger) == len(reads.ledger(f"requester:{acme}", 1000))

    with pytest.raises(DomainError) as refused:
        reads.tasks_of_requester(acme, None, 3, "not a cursor")
    assert refused.value.code == "INVALID_INPUT"
