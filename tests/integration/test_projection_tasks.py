"""What requesters and workers see of tasks, claims, submissions and the review queue."""

from __future__ import annotations

from projection_harness import catch_up, reads  # noqa: F401  (reads is a fixture)

from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec


def post(app, requester, title, skills=(), assignments=1, reward=100):
    return app.post_task(requester, TaskSpec(title, "instructions", Money(reward, "USD"),
                                             assignments=assignments,
                                             required_skills=tuple(skills),
                                             payload={"title": title}))


def funded(app, name="Acme"):
    requester = app.create_requester(name)
    app.deposit_funds(requester, 100_000, "USD", f"wire-{name}")
    return requester


def titles(rows):
    return [row.title for row in rows]


def test_the_board_shows_a_worker_the_open_tasks_it_qualifies_for_newest_first(
        app, database, reads):
    acme = funded(app)
    post(app, acme, "anyone")
    post(app, acme, "also anyone")
    post(app, acme, "vision+audio", ["audio", "vision"])
    post(app, acme, "french", ["french"])
    filled = post(app, acme, "vision, soon filled", ["vision"])
    cancelled = post(app, acme, "vision, cancelled", ["Vision"])
    post(app, acme, "vision again", ["vision"])
    ada = app.register_worker("Ada", ["vision", "audio"])
    app.claim_task(filled, ada)
    app.cancel_task(cancelled, acme)
    catch_up(database)

    board = reads.open_tasks_for_worker(["vision", "audio"], None, 10, None)
    assert titles(board) == ["vision again", "vision+audio", "also anyone", "anyone"]
    assert titles(reads.open_tasks_for_worker(["vision", "audio"], "vision", 10, None)) == [
        "vision again", "vision+audio"]
    assert titles(reads.open_tasks_for_worker(["audio"], "audio", 10, None)) == []
    assert titles(reads.open_tasks_for_worker([], None, 10, None)) == ["also anyone", "anyone"]
    assert titles(reads.open_tasks_for_worker(["french", "legal"], None, 10, None)) == [
        "french", "also anyone", "anyone"]
    assert all(row.status == "OPEN" and row.open_slots > 0 for row in board)
    assert reads.tasks([filled])[filled].status == "FILLED"


def test_task_counts_follow_claims_submissions_and_reviews(app, database, reads):
    acme = funded(app)
    task = post(app, acme, "label", assignments=3, reward=200)
    ada, bo, cy = (app.register_worker(n, []) for n in ("Ada", "Bo", "Cy"))
    claim_a = app.claim_task(task, ada)
    claim_b = app.claim_task(task, bo)
    app.submit_work(task, claim_a, ada, {"label": "cat"})
    catch_up(database)
    row = reads.tasks([task])[task]
    assert (row.status, row.active_claims, row.pending_review, row.accepted, row.open_slots) \
        == ("OPEN", 1, 1, 0, 1)
    assert row.payload == {"title": "label"} and row.reward_amount == 200
    assert row.requester_id == acme and row.assignments == 3

    [pending] = reads.review_queue(acme, 10)
    app.review_submission(task, pending.id, acme, "ACCEPT")
    app.release_claim(task, claim_b, bo)
    claim_c = app.claim_task(task, cy)
    catch_up(database)
    row = reads.tasks([task])[task]
    assert (row.status, row.active_claims, row.pending_review, row.accepted, row.open_slots) \
        == ("OPEN", 1, 0, 1, 1)

    app.cancel_task(task, acme)
    app.submit_work(task, claim_c, cy, {"label": "dog"})
    catch_up(database)
    row = reads.tasks([task])[task]
    assert (row.status, row.open_slots, row.pending_review) == ("CANCELLED", 0, 1)
    assert titles(reads.tasks_of_requester(acme, "CANCELLED", 10)) == ["label"]
    assert reads.tasks_of_requester(acme, "OPEN", 10) == []
    assert titles(reads.all_tasks(None, None, 10)) == ["label"]


def test_a_task_is_completed_when_every_assignment_is_accepted(app, database, reads):
    acme = funded(app)
    task = post(app, acme, "one", assignments=1)
    ada = app.register_worker("Ada", [])
    claim = app.claim_task(task, ada)
    submission = app.submit_work(task, claim, ada, {"ok": True})
    app.review_submission(task, submission, acme, "ACCEPT", "great")
    catch_up(database)
    assert reads.tasks([task])[task].status == "COMPLETED"
    assert reads.open_tasks_for_worker([], None, 10) == []
    accepted = reads.submissions([submission])[submission]
    assert (accepted.status, accepted.feedback, accepted.result) == ("ACCEPTED", "great",
                                                                      {"ok": True})


def test_claims_and_submissions_of_a_worker_and_a_task(app, database, reads):
    acme = funded(app)
    first = post(app, acme, "first")
    second = post(app, acme, "second")
    ada = app.register_worker("Ada", [])
    claim_1 = app.claim_task(first, ada)
    claim_2 = app.claim_task(second, ada)
    sub_1 = app.submit_work(first, claim_1, ada, {"v": 1})
    app.review_submission(first, sub_1, acme, "REQUEST_REVISION", "more detail")
    catch_up(database)
    revised = reads.claims([claim_1])[claim_1]
    assert revised.status == "ACTIVE"  # back to work after a revision request
    sub_2 = app.submit_work(first, claim_1, ada, {"v": 2})
    app.release_claim(second, claim_2, ada)
    catch_up(database)

    claims = reads.claims_of_worker(ada, 10)
    assert [(c.id, c.status) for c in claims] == [(claim_2, "RELEASED"), (claim_1, "SUBMITTED")]
    assert claims[1].task_id == first and claims[1].requester_id == acme
    history = reads.submissions_of_task(first, 10)
    assert [(s.id, s.status, s.feedback, s.result) for s in history] == [
        (sub_1, "REVISION_REQUESTED", "more detail", {"v": 1}),
        (sub_2, "PENDING_REVIEW", None, {"v": 2}),
    ]
    assert reads.submissions([sub_2, sub_1]).keys() == {sub_1, sub_2}


def test_the_review_queue_lists_a_requesters_pending_work_oldest_first(app, database, reads):
    acme, other = funded(app, "Acme"), funded(app, "Other")
    task = post(app, acme, "acme task", assignments=3)
    foreign = post(app, other, "other task")
    workers = [app.register_worker(n, []) for n in ("Ada", "Bo", "Cy")]
    submissions = []
    for worker in workers:
        claim = app.claim_task(task, worker)
        submissions.append(app.submit_work(task, claim, worker, {"by": str(worker)}))
    claim = app.claim_task(foreign, workers[0])
    app.submit_work(foreign, claim, workers[0], {"x": 1})
    app.review_submission(task, submissions[1], acme, "REJECT", "wrong")
    catch_up(database)

    queue = reads.review_queue(acme, 10)
    assert [s.id for s in queue] == [submissions[0], submissions[2]]
    assert all(s.requester_id == acme and s.status == "PENDING_REVIEW" for s in queue)
    assert len(reads.review_queue(other, 10)) == 1


def test_batch_lookups_return_only_what_exists(app, database, reads):
    from uuid import uuid4

    acme = funded(app)
    ada = app.register_worker("Ada", ["Vision"], "acct_ada")
    catch_up(database)
    missing = uuid4()
    assert reads.requesters([acme, missing]).keys() == {acme}
    worker = reads.workers([ada, missing])[ada]
    assert (worker.name, worker.skills, worker.stripe_account_id) == ("Ada", ["vision"],
                                                                      "acct_ada")
    app.change_worker_skills(ada, ["audio"])
    app.link_payout_account(ada, "acct_new")
    catch_up(database)
    worker = reads.workers([ada])[ada]
    assert (worker.skills, worker.stripe_account_id) == (["audio"], "acct_new")
    assert reads.tasks([missing]) == {} and reads.claims([]) == {}
