"""A realistic event log written quickly, for benchmarks and crash tests.

Drives the real aggregates (posting, claiming, submitting, reviewing, paying) in memory
and saves them in large atomic writes through the application, so thousands of events
land in a second instead of one command round trip each.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from eventsourcing.application import Application

from ..domain import Money, Payout, Requester, Worker
from ..domain.ids import payout_id_for_submission
from ..domain.task import ReviewDecision, Task, TaskSpec

SKILLS = ["vision", "audio", "french", "legal", "medical"]


def write_sample_log(app: Application, tasks: int, seed: int = 1, chunk: int = 50) -> int:
    """Append about ``13 * tasks`` events; returns the event store's head afterwards."""
    rng = random.Random(seed)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(days=rng.randint(0, 999))
    requesters = [Requester(name=f"requester {n}") for n in range(4)]
    for n, requester in enumerate(requesters):
        requester.deposit(Money(2 * 10**9, "USD"), f"wire-{seed}-{n}")  # near the cap
    workers = [Worker.register(f"worker {n}", rng.sample(SKILLS, rng.randint(1, 4)))
               for n in range(20)]
    app.save(*requesters, *workers)
    for start in range(0, tasks, chunk):
        written = []
        for _ in range(min(chunk, tasks - start)):
            now += timedelta(seconds=1)
            requester = rng.choice(requesters)
            written.extend(_one_task(rng, requester, workers, now))
        app.save(*requesters, *written)
    return app.recorder.max_notification_id() or 0


def _one_task(rng: random.Random, requester: Requester, workers: list[Worker],
              now: datetime) -> list:
    spec = TaskSpec("label these", "draw boxes", Money(rng.randint(10, 500), "USD"),
                    assignments=rng.randint(1, 3), payload={"image": rng.random()},
                    required_skills=tuple(rng.sample(SKILLS, rng.randint(0, 1))))
    task = Task.post(requester.id, spec, now)
    requester.reserve(task.id, spec.escrow)
    qualified = [w for w in workers if w.qualifies_for(task.required_skills)]
    payouts = []
    for worker in rng.sample(qualified, min(len(qualified), task.assignments)):
        claim = task.claim(worker.id, worker.skills, now)
        if rng.random() < 0.1:
            task.release(claim, worker.id)
            continue
        submission = task.submit(claim, worker.id, {"boxes": [rng.random()]}, now)
        if rng.random() < 0.15:
            task.review(submission, requester.id, ReviewDecision.REJECT, "no", now)
            continue
        task.review(submission, requester.id, ReviewDecision.ACCEPT, None, now)
        payout = Payout(payout_id=payout_id_for_submission(submission), worker_id=worker.id,
                        requester_id=requester.id, amount=task.reward.amount,
                        currency=task.reward.currency, task_id=task.id,
                        submission_id=submission, kind="submission", requested_at=now)
        requester.consume(task.id, payout.id, task.reward.amount)
        if rng.random() < 0.7:
            payout.record_paid(f"tr_{payout.id.hex[:16]}", now)
        payouts.append(payout)
    return [task, *payouts]
