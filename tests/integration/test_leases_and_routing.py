"""Leases run out on their own, unreviewed work is approved on time, workers get work."""

from __future__ import annotations

import threading
from uuid import UUID

from workers_harness import (  # noqa: F401  (fixtures)
    PATIENCE, StoppedClock, connected_account, emulator, funded_requester, pipeline, post,
    redis_url, wait_until,
)

from taskmarket.domain import PayoutStatus
from taskmarket.domain.task import ClaimStatus, SubmissionStatus

# Time is the application's clock (stopped; the test moves it), never the wall clock: a
# lease runs out because the test moves time past it, and the test then waits for the
# event itself (PATIENCE only tells a hang from a slow machine).


def test_a_lease_expires_without_traffic_and_its_slot_reopens(database, emulator):
    clock = StoppedClock()
    with pipeline(database, emulator, clock=clock) as app:
        requester = funded_requester(app)
        task = post(app, requester, claim_timeout_seconds=1)
        late, next_worker = app.register_worker("Late"), app.register_worker("Next")
        claim = app.claim_task(task, late)
        assert app.get_task(task).claims[claim].status == ClaimStatus.ACTIVE

        clock.advance(2)  # past the lease; nobody touches the task
        wait_until(lambda: app.get_task(task).claims[claim].status == ClaimStatus.EXPIRED,
                   timeout=PATIENCE, message="the lease expired")

        assert app.get_task(task).open_slots == 1
        assert app.claim_next_task(next_worker) is not None


def test_a_lease_renewed_by_a_revision_request_expires_again_on_its_new_time(
        database, emulator):
    clock = StoppedClock()
    with pipeline(database, emulator, clock=clock) as app:
        requester = funded_requester(app)
        task = post(app, requester, claim_timeout_seconds=1)
        worker = app.register_worker("Ada")
        claim = app.claim_task(task, worker)
        submission = app.submit_work(task, claim, worker, {"label": "cat?"})
        clock.advance(5)  # the first lease's time is long gone; the revision renews it
        app.review_submission(task, submission, requester, "REQUEST_REVISION", "which cat")
        renewed = app.get_task(task).claims[claim]
        assert renewed.status == ClaimStatus.ACTIVE
        assert renewed.expires_at > clock()

        clock.advance(2)
        wait_until(lambda: app.get_task(task).claims[claim].status == ClaimStatus.EXPIRED,
                   timeout=PATIENCE, message="the renewed lease expired")
        assert app.get_task(task).open_slots == 1


def test_a_lease_expires_through_the_redis_broker_too(database, emulator, redis_url):
    clock = StoppedClock()
    with pipeline(database, emulator, redis_url=redis_url, clock=clock) as app:
        requester = funded_requester(app)
        task = post(app, requester, claim_timeout_seconds=1)
        claim = app.claim_task(task, app.register_worker("Late"))
        clock.advance(2)
        wait_until(lambda: app.get_task(task).claims[claim].status == ClaimStatus.EXPIRED,
                   timeout=PATIENCE, message="the lease expired")


def test_unreviewed_work_is_auto_approved_after_the_delay_and_paid(database, emulator):
    clock = StoppedClock()
    with pipeline(database, emulator, clock=clock) as app:
        requester = funded_requester(app)
        task = post(app, requester, auto_approve_after_seconds=1)
        worker = app.register_worker("Ada", [], connected_account(emulator))
        claim = app.claim_task(task, worker)
        submission = app.submit_work(task, claim, worker, {"label": "cat"})
        # Before its time the approval is refused (what the actor does when it comes early).
        assert app.auto_approve(task, submission) is None

        clock.advance(2)
        wait_until(lambda: app.get_task(task).submissions[submission].status
                   == SubmissionStatus.ACCEPTED, timeout=PATIENCE, message="auto-approved")
        wait_until(lambda: [t["amount"] for t in emulator.state.transfers()] == [250],
                   timeout=PATIENCE, message="the approved work is paid")


def test_a_reviewed_submission_is_not_auto_approved(database, emulator):
    clock = StoppedClock()
    with pipeline(database, emulator, clock=clock) as app:
        requester = funded_requester(app)
        task = post(app, requester, auto_approve_after_seconds=1)
        worker = app.register_worker("Ada")
        claim = app.claim_task(task, worker)
        submission = app.submit_work(task, claim, worker, {"label": "dog"})
        app.review_submission(task, submission, requester, "REJECT", "not a cat")
        clock.advance(2)  # the approval would be due now

        # The dispatcher has read the whole log and struck the approval off what is owed.
        head = app.recorder.max_notification_id()
        wait_until(lambda: _dispatched_up_to(database, head), timeout=PATIENCE,
                   message="the dispatcher read the rejection")
        assert _auto_approval_done(database, submission)
        assert app.auto_approve(task, submission) is None  # what a late message would do
        assert app.get_task(task).submissions[submission].status == SubmissionStatus.REJECTED


def _dispatched_up_to(database, position: int) -> bool:
    with database.connect() as conn:
        row = conn.execute("SELECT position FROM projection_positions "
                           "WHERE name = 'dispatcher'").fetchone()
        return row is not None and row[0] >= position


def _auto_approval_done(database, submission) -> bool:
    with database.connect() as conn:
        rows = conn.execute("SELECT done_at IS NOT NULL FROM scheduled_work "
                            "WHERE kind = 'auto_approve' AND subject_id = %s",
                            (submission,)).fetchall()
        return rows in ([], [(True,)])  # never owed (same batch) or owed and struck off


def test_claim_next_task_under_a_20_way_race_uses_every_slot_once(app):
    requester = funded_requester(app)
    tasks = [post(app, requester, assignments=4) for _ in range(5)]
    workers = [app.register_worker(f"w{n}") for n in range(20)]
    results, errors = {}, []
    start = threading.Barrier(20)

    def claim(worker):
        start.wait()
        try:
            results[worker] = app.claim_next_task(worker)
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(results[w] is not None for w in workers)  # 20 slots, 20 workers
    claims = [results[w] for w in workers]
    assert len({claim_id for _, claim_id in claims}) == 20
    for task in tasks:
        state = app.get_task(task)
        assert state.open_slots == 0
        holders = [c.worker_id for c in state.claims.values()
                   if c.status == ClaimStatus.ACTIVE]
        assert len(holders) == len(set(holders)) == 4
    assert app.claim_next_task(app.register_worker("late")) is None


def test_claim_next_task_takes_the_oldest_fitting_task_and_honours_skills(app):
    requester = funded_requester(app)
    oldest_any = post(app, requester)
    audio = post(app, requester, required_skills=("audio",))
    vision = post(app, requester, required_skills=("vision",))
    seer = app.register_worker("Seer", ["vision"])

    assert app.claim_next_task(seer, skill="Vision") == (vision, app.get_task(
        vision).active_claim_of(seer).id)
    assert app.claim_next_task(seer)[0] == oldest_any
    assert app.claim_next_task(seer) is None  # audio needs a skill Seer lacks
    assert app.get_task(audio).open_slots == 1


def test_a_paid_payout_is_not_paid_again_when_its_message_comes_back(database, emulator):
    with pipeline(database, emulator) as app:
        requester = funded_requester(app)
        worker = app.register_worker("Ada", [], connected_account(emulator))
        task = post(app, requester)
        claim = app.claim_task(task, worker)
        submission = app.submit_work(task, claim, worker, {"label": "cat"})
        app.review_submission(task, submission, requester, "ACCEPT")
        wait_until(lambda: len(emulator.state.transfers()) == 1, timeout=PATIENCE)
        payout = UUID(emulator.state.transfers()[0]["metadata"]["payout_id"])
        wait_until(lambda: app.get_payout(payout).status == PayoutStatus.PAID,
                   timeout=PATIENCE)

        wait_until(lambda: _dispatched_paid(database), timeout=PATIENCE)
        with database.connect() as conn:  # make the sweeper resend everything at once
            conn.execute("UPDATE scheduled_work SET done_at = NULL, sent_at = NULL, "
                         "due_at = now() - interval '1 minute'")
        wait_until(lambda: _all_sent_and_handled(database), timeout=PATIENCE,
                   message="sweeper re-sent and the worker handled it all")
        assert len(emulator.state.transfers()) == 1
        assert app.get_payout(payout).status == PayoutStatus.PAID


def _dispatched_paid(database) -> bool:
    with database.connect() as conn:
        return conn.execute("SELECT done_at IS NOT NULL FROM scheduled_work "
                            "WHERE kind = 'pay'").fetchone()[0]


def _all_sent_and_handled(database) -> bool:
    with database.connect() as conn:
        sent = conn.execute("SELECT bool_and(sent_at IS NOT NULL) FROM scheduled_work"
                            ).fetchone()[0]
        # Acknowledged messages leave the PostgreSQL queue.
        waiting = conn.execute("SELECT count(*) FROM dramatiq.queue WHERE state = 'consumed' "
                               "OR state = 'queued' AND available_at <= now()").fetchone()[0]
        return sent and waiting == 0


def test_claim_next_task_reads_the_task_board_and_the_tasks_it_has_not_seen_yet(
        app, database):
    from taskmarket.projections.runner import ProjectionRunner

    requester = funded_requester(app)
    first = post(app, requester, required_skills=("vision",))
    filled = post(app, requester)
    app.claim_task(filled, app.register_worker("Early"))
    ProjectionRunner(database, ["tasks"]).catch_up()  # the board knows these two
    newest = post(app, requester)  # posted after the board's position

    seer = app.register_worker("Seer", ["vision"])
    taken = [app.claim_next_task(seer)[0] for _ in range(2)]

    assert taken == [first, newest]  # oldest first, the filled one skipped
    assert app.claim_next_task(seer) is None
