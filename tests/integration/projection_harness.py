"""Shared by the projection tests: a busy market, catching up, and whole-table dumps."""

from __future__ import annotations

import random
from uuid import uuid4
from datetime import datetime, timedelta, timezone

import pytest

from taskmarket.bootstrap import build_marketplace
from taskmarket.database import Database
from taskmarket.domain import DomainError, Money, Task
from taskmarket.domain.task import TaskSpec
from taskmarket.projections.registry import PROJECTIONS
from taskmarket.projections.runner import ProjectionRunner

SKILLS = ["vision", "audio", "french", "legal"]


class Clock:
    """A clock the test moves, so leases can run out without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)  # distinct, increasing times
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def catch_up(database: Database, names=None, batch_size: int = 5000) -> int:
    return ProjectionRunner(database, names, batch_size=batch_size).catch_up()


def dump(database: Database) -> dict[str, list[tuple]]:
    """Every row of every projection table, sorted: equal dumps mean equal read models."""
    tables = [t.name for p in PROJECTIONS.values() for t in p.tables]
    with database.connect() as conn:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                for table in tables}


class BusyMarket:
    """Random but reproducible activity through the real Marketplace commands."""

    def __init__(self, database: Database, seed: int = 7):
        self.clock = Clock()
        self.app = build_marketplace(database, clock=self.clock)
        self.rng = random.Random(seed)
        self.requesters: list = []
        self.workers: list[tuple] = []  # (id, skills)
        self.tasks: list = []  # (task id, requester id)
        self.claims: list[tuple] = []  # (task, claim, worker)
        self.pending: list[tuple] = []  # (task, submission, requester)
        self.payouts: list = []

    def close(self) -> None:
        self.app.close()

    def setup(self, requesters: int = 3, workers: int = 5) -> None:
        app = self.app
        for n in range(requesters):
            currency = "EUR" if n == requesters - 1 else "USD"
            requester = app.create_requester(f"requester {n}", currency)
            app.deposit_funds(requester, 2_000_000, currency, f"wire-{n}")
            self.requesters.append((requester, currency))
        for n in range(workers):
            skills = self.rng.sample(SKILLS, self.rng.randint(0, 3))
            self.workers.append((app.register_worker(f"worker {n}", skills, f"acct_{n}"),
                                 skills))

    def step(self) -> None:
        """One random command; refusals (domain errors) are part of normal life."""
        action = self.rng.choices(
            [self.post, self.claim, self.submit, self.review, self.release, self.cancel,
             self.expire, self.bonus, self.settle, self.deposit, self.skills],
            weights=[12, 20, 16, 16, 3, 2, 2, 2, 8, 2, 1])[0]
        try:
            action()
        except DomainError:
            pass

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def post(self) -> None:
        requester, currency = self.rng.choice(self.requesters)
        spec = TaskSpec(f"task {len(self.tasks)}", "do it well",
                        Money(self.rng.randint(1, 900), currency),
                        assignments=self.rng.randint(1, 3),
                        required_skills=tuple(self.rng.sample(SKILLS, self.rng.randint(0, 2))),
                        payload={"n": len(self.tasks)}, claim_timeout_seconds=600)
        self.tasks.append((self.app.post_task(requester, spec), requester))

    def claim(self) -> None:
        if self.tasks:
            task, _ = self.rng.choice(self.tasks[-30:])
            worker, _ = self.rng.choice(self.workers)
            self.claims.append((task, self.app.claim_task(task, worker), worker))

    def submit(self) -> None:
        if self.claims:
            task, claim, worker = self.claims.pop(self.rng.randrange(len(self.claims)))
            submission = self.app.submit_work(task, claim, worker, {"answer": claim.hex[:6]})
            requester = self.app.get_task(task).requester_id
            self.pending.append((task, submission, requester, claim, worker))

    def review(self) -> None:
        if self.pending:
            task, submission, requester, claim, worker = self.pending.pop(
                self.rng.randrange(len(self.pending)))
            decision = self.rng.choice(["ACCEPT", "ACCEPT", "REJECT", "REQUEST_REVISION"])
            payout = self.app.review_submission(task, submission, requester, decision,
                                                feedback=f"{decision.lower()} it")
            if payout:
                self.payouts.append(payout)
            if decision == "REQUEST_REVISION":
                self.claims.append((task, claim, worker))

    def release(self) -> None:
        if self.claims:
            task, claim, worker = self.claims.pop(self.rng.randrange(len(self.claims)))
            self.app.release_claim(task, claim, worker)

    def cancel(self) -> None:
        if self.tasks:
            task, requester = self.rng.choice(self.tasks)
            self.app.cancel_task(task, requester)

    def expire(self) -> None:
        self.clock.advance(700)
        for task, claim, _ in list(self.claims):
            self.app.expire_claim(task, claim)

    def bonus(self) -> None:
        requester, currency = self.rng.choice(self.requesters)
        worker, _ = self.rng.choice(self.workers)
        self.payouts.append(self.app.pay_bonus(requester, worker, self.rng.randint(1, 50),
                                               currency, f"bonus-{self.rng.random()}"))

    def settle(self) -> None:
        if not self.payouts:
            return
        payout = self.rng.choice(self.payouts)
        outcome = self.rng.random()
        if outcome < 0.6:
            self.app.record_payout_paid(payout, f"tr_{payout.hex[:12]}")
            if self.rng.random() < 0.1:
                self.app.record_transfer_reversal(payout, f"tr_{payout.hex[:12]}", 1)
        elif outcome < 0.8:
            self.app.record_payout_failure(payout, "card_declined", retryable=True)
        elif outcome < 0.9:
            self.app.record_payout_failure(payout, "account_closed", retryable=False)
        else:
            self.app.retry_payout(payout)

    def deposit(self) -> None:
        requester, currency = self.rng.choice(self.requesters)
        self.app.deposit_funds(requester, self.rng.randint(1, 5000), currency,
                               f"top-up-{self.rng.random()}")

    def skills(self) -> None:
        index = self.rng.randrange(len(self.workers))
        worker, _ = self.workers[index]
        skills = self.rng.sample(SKILLS, self.rng.randint(0, 3))
        self.app.change_worker_skills(worker, skills)
        self.workers[index] = (worker, skills)


@pytest.fixture
def reads(database: Database):
    """The read API on the test's database."""
    from taskmarket.projections.reads import ReadModels

    models = ReadModels.from_database(database, max_size=2)
    yield models
    models.close()


def poisoned_task(requester_id, now):
    """A TaskPosted event no read model can store, bypassing Task.post's checks."""
    return Task(task_id=uuid4(), requester_id=requester_id, title="a\x00b", instructions="",
                payload=None, reward_amount=100, currency="USD", assignments=1,
                required_skills=[], claim_timeout_seconds=60, auto_approve_after_seconds=None,
                posted_at=now, fingerprint="x")
