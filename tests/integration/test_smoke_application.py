"""A requester funds an account, posts a task, a worker does it, and it is paid for."""

from taskmarket.domain import Money, PayoutStatus, TaskStatus
from taskmarket.domain.task import TaskSpec


def test_a_task_goes_from_posting_to_a_requested_payout(app):
    requester = app.create_requester("Acme Labeling")
    app.deposit_funds(requester, 1_000, "USD", "wire-1")
    task = app.post_task(requester, TaskSpec("Label cats", "Draw boxes", Money(250, "USD")))
    worker = app.register_worker("Ada", ["vision"])

    claim = app.claim_task(task, worker)
    submission = app.submit_work(task, claim, worker, {"boxes": [[1, 2, 3, 4]]})
    payout = app.review_submission(task, submission, requester, "ACCEPT")

    assert app.get_task(task).status == TaskStatus.COMPLETED
    assert app.get_payout(payout).status == PayoutStatus.REQUESTED
    funds = app.get_requester(requester)
    assert (funds.balance, funds.escrow, funds.spent) == (750, 0, 250)
