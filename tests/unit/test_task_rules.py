"""Domain rules of a task's life: claiming, submitting, reviewing and cancelling (no database)."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from taskmarket.domain import (
    ClaimStatus, DomainError, Money, ReviewDecision, SubmissionStatus, Task, TaskStatus,
)
from taskmarket.domain.task import TaskSpec

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
REQUESTER = uuid4()


def post(assignments=1, skills=(), timeout=600, **extra):
    spec = TaskSpec("Label cats", "Draw a box round each cat", Money(200, "USD"),
                    assignments=assignments, required_skills=skills,
                    claim_timeout_seconds=timeout, **extra)
    return Task.post(REQUESTER, spec, T0)


def code_of(call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def held(task):
    """Slots in use: active claims + submissions awaiting review + accepted."""
    return (task.count_claims(ClaimStatus.ACTIVE)
            + task.count_submissions(SubmissionStatus.PENDING_REVIEW) + task.accepted)


def test_a_worker_without_the_required_skills_cannot_claim():
    task = post(skills=("vision", "French"))
    assert code_of(task.claim, uuid4(), ["vision"], T0) == "NOT_QUALIFIED"
    assert task.claim(uuid4(), ["french", "vision", "audio"], T0)


def test_a_worker_holds_at_most_one_active_claim_per_task():
    task = post(assignments=3)
    ada = uuid4()
    task.claim(ada, [], T0)
    assert code_of(task.claim, ada, [], T0) == "ALREADY_CLAIMED"
    assert task.open_slots == 2


def test_a_worker_whose_work_awaits_review_cannot_claim_the_task_again():
    task = post(assignments=2)
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    task.submit(claim, ada, {"boxes": []}, T0)
    assert code_of(task.claim, ada, [], T0) == "ALREADY_CLAIMED"


def test_no_claim_once_every_slot_is_taken_and_the_slots_never_overflow():
    task = post(assignments=2)
    first, second = uuid4(), uuid4()
    claim = task.claim(first, [], T0)
    task.claim(second, [], T0)
    assert task.status == TaskStatus.FILLED
    assert code_of(task.claim, uuid4(), [], T0) == "NO_OPEN_SLOTS"
    submission = task.submit(claim, first, {"ok": 1}, T0)
    assert code_of(task.claim, uuid4(), [], T0) == "NO_OPEN_SLOTS"
    task.review(submission, REQUESTER, ReviewDecision.ACCEPT, None, T0)
    assert code_of(task.claim, uuid4(), [], T0) == "NO_OPEN_SLOTS"
    assert held(task) == 2 <= task.assignments


def test_the_slot_invariant_holds_through_a_busy_life():
    task = post(assignments=3)
    workers = [uuid4() for _ in range(6)]
    claims = {w: task.claim(w, [], T0) for w in workers[:3]}
    assert held(task) == 3
    task.release(claims[workers[0]], workers[0])
    sub = task.submit(claims[workers[1]], workers[1], 1, T0)
    task.review(sub, REQUESTER, ReviewDecision.REJECT, "blurry", T0)
    for worker in workers[3:5]:
        claims[worker] = task.claim(worker, [], T0)
    assert held(task) == 3 == task.assignments
    assert code_of(task.claim, workers[5], [], T0) == "NO_OPEN_SLOTS"


def test_only_the_claims_worker_submits():
    task = post()
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    assert code_of(task.submit, claim, uuid4(), {"x": 1}, T0) == "FORBIDDEN"
    assert task.submissions == {}


def test_a_late_submission_is_refused_even_before_any_expiry_is_recorded():
    task = post(timeout=600)
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    deadline = T0 + timedelta(seconds=600)
    assert code_of(task.submit, claim, ada, {"x": 1}, deadline) == "LEASE_EXPIRED"
    assert task.claims[claim].status == ClaimStatus.ACTIVE  # no expiry event was needed
    assert task.submit(claim, ada, {"x": 1}, deadline - timedelta(microseconds=1))


def test_expiring_a_lease_before_it_runs_out_changes_nothing():
    task = post(timeout=600)
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    version = task.version
    assert task.expire(claim, T0 + timedelta(seconds=599)) is None
    assert task.version == version
    assert task.expire(claim, T0 + timedelta(seconds=600)) == 0
    assert task.claims[claim].status == ClaimStatus.EXPIRED
    assert task.open_slots == 1
    assert task.expire(claim, T0 + timedelta(seconds=601)) is None  # already expired


def test_an_expired_claim_is_lease_expired_before_and_after_the_expiry_is_recorded():
    task = post(timeout=60)
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    late = T0 + timedelta(seconds=60)
    assert code_of(task.submit, claim, ada, 1, late) == "LEASE_EXPIRED"
    assert code_of(task.release, claim, ada, late) == "LEASE_EXPIRED"
    task.expire(claim, late)
    assert code_of(task.submit, claim, ada, 1, late) == "LEASE_EXPIRED"
    assert code_of(task.release, claim, ada, late) == "LEASE_EXPIRED"
    assert code_of(task.release, claim, ada) == "LEASE_EXPIRED"


def submitted_task(assignments=1):
    task = post(assignments=assignments)
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    return task, ada, claim, task.submit(claim, ada, {"boxes": [1]}, T0)


def test_only_the_tasks_requester_reviews():
    task, _, _, submission = submitted_task()
    assert code_of(task.review, submission, uuid4(), ReviewDecision.ACCEPT, None,
                   T0) == "FORBIDDEN"
    assert task.submissions[submission].status == SubmissionStatus.PENDING_REVIEW


def test_a_submission_is_reviewed_once():
    task, _, _, submission = submitted_task(assignments=2)
    task.review(submission, REQUESTER, ReviewDecision.REJECT, "no", T0)
    for decision in ReviewDecision:
        assert code_of(task.review, submission, REQUESTER, decision, None,
                       T0) == "ALREADY_REVIEWED"


def test_a_rejection_frees_the_slot_for_another_worker():
    task, _, _, submission = submitted_task()
    assert code_of(task.claim, uuid4(), [], T0) == "NO_OPEN_SLOTS"
    assert task.review(submission, REQUESTER, ReviewDecision.REJECT, "wrong", T0) == 0
    assert task.status == TaskStatus.OPEN
    assert task.claim(uuid4(), [], T0)


def test_a_revision_gives_the_same_worker_a_fresh_lease():
    task, ada, claim, submission = submitted_task()
    later = T0 + timedelta(seconds=500)
    task.review(submission, REQUESTER, ReviewDecision.REQUEST_REVISION, "tighter", later)
    assert task.submissions[submission].status == SubmissionStatus.REVISION_REQUESTED
    assert task.claims[claim].status == ClaimStatus.ACTIVE
    assert task.claims[claim].expires_at == later + timedelta(seconds=600)
    assert code_of(task.claim, uuid4(), [], later) == "NO_OPEN_SLOTS"
    # past the first lease, inside the fresh one
    assert task.submit(claim, ada, {"boxes": [2]}, T0 + timedelta(seconds=900))


def test_accepting_the_last_needed_submission_completes_the_task():
    task = post(assignments=2)
    for n in range(2):
        worker = uuid4()
        claim = task.claim(worker, [], T0)
        submission = task.submit(claim, worker, n, T0)
        assert task.status != TaskStatus.COMPLETED
        task.review(submission, REQUESTER, ReviewDecision.ACCEPT, None, T0)
    assert task.status == TaskStatus.COMPLETED
    assert [type(e).__name__ for e in task.collect_events()][-2:] == [
        "SubmissionAccepted", "Completed"]
    assert code_of(task.claim, uuid4(), [], T0) == "TASK_NOT_OPEN"


def test_cancelling_returns_the_unclaimed_slots_and_later_freed_ones():
    task = post(assignments=4)
    ada, bob, cy = uuid4(), uuid4(), uuid4()
    ada_claim, bob_claim = task.claim(ada, [], T0), task.claim(bob, [], T0)
    cy_sub = task.submit(task.claim(cy, [], T0), cy, 1, T0)
    assert code_of(task.cancel, uuid4()) == "FORBIDDEN"
    assert task.cancel(REQUESTER) == 1  # the one nobody held
    assert task.status == TaskStatus.CANCELLED
    assert code_of(task.claim, uuid4(), [], T0) == "TASK_NOT_OPEN"
    assert task.release(ada_claim, ada) == 1
    assert task.expire(bob_claim, T0 + timedelta(hours=1)) == 1
    assert task.review(cy_sub, REQUESTER, ReviewDecision.REJECT, None, T0) == 1
    assert task.refunded_slots == 4
    assert code_of(task.cancel, REQUESTER) == "TASK_NOT_OPEN"


def test_work_pending_on_a_cancelled_task_can_still_be_accepted_but_not_revised():
    task, _, _, submission = submitted_task(assignments=2)
    task.cancel(REQUESTER)
    assert code_of(task.review, submission, REQUESTER, ReviewDecision.REQUEST_REVISION, None,
                   T0) == "TASK_NOT_OPEN"
    assert task.review(submission, REQUESTER, ReviewDecision.ACCEPT, None, T0) == 0
    assert task.accepted == 1 and task.refunded_slots == 1


def test_only_the_claims_worker_releases_it():
    task = post()
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    assert code_of(task.release, claim, uuid4()) == "FORBIDDEN"
    assert task.release(claim, ada) == 0
    assert code_of(task.release, claim, ada) == "CLAIM_NOT_ACTIVE"


@pytest.mark.parametrize("change, field", [
    ({"title": "  "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"assignments": 0}, "assignments"),
    ({"assignments": -1}, "assignments"),
    ({"assignments": 1.0}, "assignments"),
    ({"assignments": True}, "assignments"),
    ({"assignments": 1001}, "assignments"),
    ({"claim_timeout_seconds": 0}, "claimTimeoutSeconds"),
    ({"auto_approve_after_seconds": -5}, "autoApproveAfterSeconds"),
    ({"payload": {"x": object()}}, "payload"),
    ({"required_skills": ("vision", " ")}, "requiredSkills"),
    ({"reward": Money(0, "USD")}, "reward"),
    ({"reward": Money(-200, "USD")}, "reward"),
    ({"reward": Money(1.5, "USD")}, "reward"),
    ({"reward": Money(True, "USD")}, "reward"),
    ({"reward": Money(200, "usd")}, "currency"),
    ({"reward": Money(200, "XX")}, "currency"),
    ({"reward": 200}, "reward"),
    ({"instructions": None}, "instructions"),
    ({"title": None}, "title"),
])
def test_a_bad_task_spec_is_refused(change, field):
    spec = dict(title="Label cats", instructions="boxes", reward=Money(200, "USD"))
    spec.update(change)
    with pytest.raises(DomainError) as caught:
        Task.post(REQUESTER, TaskSpec(**spec), T0)
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.field == [field]


def test_a_review_decision_must_be_one_of_the_three():
    task, _, _, submission = submitted_task()
    assert code_of(task.review, submission, REQUESTER, "MAYBE", None, T0) == "INVALID_INPUT"
    assert task.submissions[submission].status == SubmissionStatus.PENDING_REVIEW


def test_a_submission_must_be_json():
    task = post()
    ada = uuid4()
    claim = task.claim(ada, [], T0)
    assert code_of(task.submit, claim, ada, None, T0) == "INVALID_INPUT"
    assert code_of(task.submit, claim, ada, {"when": object()}, T0) == "INVALID_INPUT"
    assert task.claims[claim].status == ClaimStatus.ACTIVE


def test_a_task_rebuilt_from_its_events_equals_the_original():
    task = post(assignments=3, skills=("vision",), payload={"images": ["a.png"]})
    ada, bob = uuid4(), uuid4()
    claim = task.claim(ada, ["vision"], T0)
    sub = task.submit(claim, ada, {"boxes": [[1, 2, 3, 4]]}, T0)
    task.review(sub, REQUESTER, ReviewDecision.REQUEST_REVISION, "again", T0)
    task.submit(claim, ada, {"boxes": []}, T0)
    task.claim(bob, ["vision"], T0)
    task.cancel(REQUESTER)
    rebuilt = None
    for domain_event in task.collect_events():
        rebuilt = domain_event.mutate(rebuilt)
    assert vars(rebuilt) == vars(task)
    assert rebuilt.status == TaskStatus.CANCELLED


@pytest.mark.parametrize("reward, slots", [(10**10, 1), (2_000_000_000, 2), (3_000_000, 1000)])
def test_an_escrow_past_a_graphql_int_is_too_large(reward, slots):
    spec = TaskSpec(title="Big", instructions="", reward=Money(reward, "USD"), assignments=slots)
    with pytest.raises(DomainError) as caught:
        Task.post(REQUESTER, spec, T0)
    assert (caught.value.code, caught.value.field) == ("AMOUNT_TOO_LARGE", ["reward"])
