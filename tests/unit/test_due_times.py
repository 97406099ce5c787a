"""Due times are the domain's: when a lease runs out, when unreviewed work is approved."""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

from taskmarket.domain import Money
from taskmarket.domain.task import Task, TaskSpec, auto_approval_due_at

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)


def posted(**options) -> Task:
    return Task.post(uuid4(), TaskSpec("Label", "Boxes", Money(100, "USD"), **options), NOW)


def test_a_lease_ends_its_timeout_after_it_was_taken_or_renewed():
    task = posted(claim_timeout_seconds=90)
    claim = task.claim(uuid4(), [], NOW)
    assert task.get_claim(claim).expires_at == task.lease_end(NOW) == NOW + timedelta(
        seconds=90)


def test_unreviewed_work_is_due_for_approval_after_the_tasks_delay_and_not_before():
    task = posted(auto_approve_after_seconds=600)
    worker = uuid4()
    claim = task.claim(worker, [], NOW)
    submitted = NOW + timedelta(seconds=5)
    submission = task.submit(claim, worker, {"label": "cat"}, submitted)
    due = task.auto_approval_due(submission)
    assert due == auto_approval_due_at(submitted, 600) == submitted + timedelta(seconds=600)
    assert task.auto_approve(submission, due - timedelta(microseconds=1)) is False
    assert task.auto_approve(submission, due) is True


def test_a_task_without_a_delay_is_never_due_for_approval():
    task = posted()
    worker = uuid4()
    submission = task.submit(task.claim(worker, [], NOW), worker, {"label": "cat"}, NOW)
    assert task.auto_approval_due(submission) is None
    assert auto_approval_due_at(NOW, None) is None
    assert task.auto_approval_due(uuid4()) is None  # no such submission
