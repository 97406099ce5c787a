"""Money is conserved whatever requesters and workers do, on the real event store.

Hypothesis drives random command sequences through the Marketplace on PostgreSQL. After
every step, for every requester: deposits == balance + escrow + spent, where spent is exactly
the payouts we saw requested, escrow is what its tasks' unsettled slots are worth, and no
task holds more slots than it has. A refused command must write nothing at all.
"""

from datetime import datetime, timedelta, timezone

from hypothesis import settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule,
)

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import ClaimStatus, DomainError, Money, SubmissionStatus
from taskmarket.domain.batch import BatchItem, BatchSpec, QualityRules
from taskmarket.domain.task import TaskSpec

SKILLS = ["vision", "audio", "french"]
# Batch items: answers are {"answer": n}; gold items' known answer is 0.
ANSWER_SCHEMA = {"type": "object", "required": ["answer"],
                 "properties": {"answer": {"type": "integer"}}}
TIMEOUT = 600


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def pick(items, index):
    items = sorted(items, key=str)
    return items[index % len(items)] if items else None


def marketplace_machine(app, clock):
    class Marketplace(RuleBasedStateMachine):
        """A small market: three requesters, four workers, the tasks they post."""

        @initialize(rewards=st.lists(st.integers(1, 800), min_size=3, max_size=3),
                    assignments=st.lists(st.integers(1, 4), min_size=3, max_size=3))
        def market_opens(self, rewards, assignments):
            """Funded requesters with a task each, so work starts from the first step."""
            self.requesters = [app.create_requester(f"requester {n}") for n in range(3)]
            self.workers = [app.register_worker(f"worker {n}", SKILLS[:n]) for n in range(4)]
            self.tasks = []  # (task id, requester id), batch items included
            self.batches = []  # (batch id, requester id)
            self.reviewed = []  # (task id, requester id, submission id)
            self.deposited = {r: 0 for r in self.requesters}
            self.paid_out = {r: 0 for r in self.requesters}
            self.deposits = 0
            for who in range(3):
                self.deposit(who=who, amount=4_000, replay=False)
                self.post(who=who, reward=rewards[who], assignments=assignments[who], skills=set())

        def attempt(self, command, *args, **kwargs):
            """Run a command; a refusal must leave the event store untouched."""
            before = app.recorder.max_notification_id()
            try:
                return command(*args, **kwargs)
            except DomainError as error:
                assert app.recorder.max_notification_id() == before, error.code
                return error

        def some_task(self, index):
            return pick(self.tasks, index)

        # --- money in ---------------------------------------------------------------
        @rule(who=st.integers(0, 2), amount=st.integers(1, 3_000), replay=st.booleans())
        def deposit(self, who, amount, replay):
            requester = self.requesters[who]
            self.deposits += 1
            key = f"deposit-{self.deposits}"
            if self.attempt(app.deposit_funds, requester, amount, "USD", key, key) is True:
                self.deposited[requester] += amount
            if replay:
                assert self.attempt(app.deposit_funds, requester, amount, "USD", key,
                                    key) is False

        # --- tasks ------------------------------------------------------------------
        @precondition(lambda self: len(self.tasks) < 6)
        @rule(who=st.integers(0, 2), reward=st.integers(1, 800),
              assignments=st.integers(1, 4), skills=st.sets(st.sampled_from(SKILLS),
                                                            max_size=2))
        def post(self, who, reward, assignments, skills):
            requester = self.requesters[who]
            spec = TaskSpec("Label", "Do it", Money(reward, "USD"), assignments=assignments,
                            required_skills=tuple(sorted(skills)),
                            claim_timeout_seconds=TIMEOUT)
            balance = app.get_requester(requester).balance
            outcome = self.attempt(app.post_task, requester, spec)
            if isinstance(outcome, DomainError):
                assert outcome.code == "INSUFFICIENT_FUNDS"
                assert balance < reward * assignments
            else:
                self.tasks.append((outcome, requester))

        @rule(task=st.integers(0, 50), worker=st.integers(0, 3), then_submit=st.booleans())
        def claim(self, task, worker, then_submit):
            """A worker claims a task, and often hands in its work straight away."""
            if picked := self.some_task(task):
                worker_id = self.workers[worker]
                outcome = self.attempt(app.claim_task, picked[0], worker_id)
                if isinstance(outcome, DomainError):
                    assert outcome.code in {"NOT_QUALIFIED", "ALREADY_CLAIMED", "NO_OPEN_SLOTS",
                                            "TASK_NOT_OPEN"}
                elif then_submit:
                    submitted = self.attempt(app.submit_work, picked[0], outcome, worker_id,
                                             {"answer": task})
                    assert submitted
                    self.count_gold_payout(picked[0], submitted)

        def some_claim(self, index):
            """Any task's active claim: claims are rare, so look across all tasks."""
            active = [(task_id, claim) for task_id, _ in self.tasks
                      for claim in app.get_task(task_id).claims.values()
                      if claim.status == ClaimStatus.ACTIVE]
            return active[index % len(active)] if active else None

        @rule(index=st.integers(0, 20))
        def release(self, index):
            if found := self.some_claim(index):
                task_id, claim = found
                outcome = self.attempt(app.release_claim, task_id, claim.id, claim.worker_id)
                if clock.now >= claim.expires_at:  # the lease ran out: expiry frees the slot
                    assert outcome.code == "LEASE_EXPIRED"
                else:
                    assert outcome is None

        @rule(seconds=st.sampled_from([1, 60, 300, TIMEOUT]))
        def time_passes(self, seconds):
            clock.now += timedelta(seconds=seconds)

        @rule(index=st.integers(0, 20))
        def expire(self, index):
            if found := self.some_claim(index):
                task_id, claim = found
                before = app.recorder.max_notification_id()
                expired = self.attempt(app.expire_claim, task_id, claim.id)
                assert expired is (clock.now >= claim.expires_at)
                if not expired:  # a lease still running: expiring it is a no-op
                    assert app.recorder.max_notification_id() == before

        @rule(index=st.integers(0, 20))
        def submit(self, index):
            if found := self.some_claim(index):
                task_id, claim = found
                outcome = self.attempt(app.submit_work, task_id, claim.id, claim.worker_id,
                                       {"answer": index})
                if clock.now >= claim.expires_at:
                    assert outcome.code == "LEASE_EXPIRED"
                else:
                    assert not isinstance(outcome, DomainError)
                    self.count_gold_payout(task_id, outcome)

        def count_gold_payout(self, task_id, submission_id):
            """A batch's gold item is reviewed as it is submitted: a right answer is paid."""
            task = app.get_task(task_id)
            if task.submission_status(submission_id) == SubmissionStatus.ACCEPTED:
                self.paid_out[task.requester_id] += task.reward.amount

        # --- batches ----------------------------------------------------------------
        @precondition(lambda self: len(self.batches) < 2)
        @rule(who=st.integers(0, 2), reward=st.integers(1, 300), overlap=st.integers(1, 3),
              golds=st.lists(st.booleans(), min_size=1, max_size=3), replay=st.booleans())
        def batch(self, who, reward, overlap, golds, replay):
            """A batch of items (some gold) whose Tasks the other rules then work on."""
            requester = self.requesters[who]
            spec = BatchSpec("Label", "Do it", ANSWER_SCHEMA, Money(reward, "USD"), overlap,
                             answer_pointer="/answer", claim_timeout_seconds=TIMEOUT,
                             quality=QualityRules(0.5, 1, 0.5))
            batch_id = self.attempt(app.create_batch, requester, spec)
            items = [BatchItem({"n": n}, 0, True) if gold else BatchItem({"n": n})
                     for n, gold in enumerate(golds)]
            balance = app.get_requester(requester).balance
            added = self.attempt(app.add_batch_items, batch_id, requester, "items", items)
            if isinstance(added, DomainError):
                assert added.code == "INSUFFICIENT_FUNDS"
                assert balance < reward * overlap * len(items)
                return
            if replay:
                assert self.attempt(app.add_batch_items, batch_id, requester, "items",
                                    items) == added
            self.batches.append((batch_id, requester))
            self.tasks.extend((task_id, requester) for task_id in app.get_batch(batch_id).items)

        @rule(index=st.integers(0, 20), worker=st.integers(0, 3), right=st.booleans())
        def answer_gold(self, index, worker, right):
            """A worker claims a gold item (one more slot, its escrow reserved, when it
            takes the last) and answers it: paid when right, rejected and counted when not."""
            golds = [(t, r) for b, r in self.batches for t in app.get_batch(b).gold_order]
            if picked := pick(golds, index):
                worker_id = self.workers[worker]
                claim = self.attempt(app.claim_task, picked[0], worker_id)
                if isinstance(claim, DomainError):
                    assert claim.code in {"NOT_QUALIFIED", "ALREADY_CLAIMED", "TASK_NOT_OPEN"}
                    return
                submitted = self.attempt(app.submit_work, picked[0], claim, worker_id,
                                         {"answer": 0 if right else 1})
                self.count_gold_payout(picked[0], submitted)

        @rule(index=st.integers(0, 20))
        def invalid_answer(self, index):
            """An answer outside a batch's schema is refused and writes nothing."""
            found = self.some_claim(index)
            if found and app.get_task(found[0]).batch_id and clock.now < found[1].expires_at:
                task_id, claim = found
                outcome = self.attempt(app.submit_work, task_id, claim.id, claim.worker_id,
                                       {"answer": "not a number"})
                assert outcome.code == "INVALID_ANSWER"

        @rule(index=st.integers(0, 5), as_owner=st.booleans())
        def cancel_batch(self, index, as_owner):
            if picked := pick(self.batches, index):
                batch_id, requester = picked
                who = requester if as_owner else pick(
                    [r for r in self.requesters if r != requester], index)
                outcome = self.attempt(app.cancel_batch, batch_id, who)
                if not as_owner:
                    assert outcome.code == "FORBIDDEN"

        @rule(index=st.integers(0, 20),
              decision=st.sampled_from(["ACCEPT", "REJECT", "REQUEST_REVISION"]))
        def review(self, index, decision):
            """Mostly work awaiting review; sometimes work that was reviewed already."""
            # A task holds only the work under review; what was reviewed is remembered here.
            waiting = [(task_id, requester, submission.id) for task_id, requester in self.tasks
                       for submission in app.get_task(task_id).submissions.values()]
            found = waiting if waiting and index < 16 else waiting + self.reviewed
            if not found:
                return
            task_id, requester, submission_id = found[index % len(found)]
            status = app.get_task(task_id).submission_status(submission_id)
            outcome = self.attempt(app.review_submission, task_id, submission_id, requester,
                                   decision)
            if status == SubmissionStatus.PENDING_REVIEW and not isinstance(
                    outcome, DomainError):
                self.reviewed.append((task_id, requester, submission_id))
            if status != SubmissionStatus.PENDING_REVIEW:
                assert outcome.code == "ALREADY_REVIEWED"
            elif decision == "ACCEPT":
                payout = app.get_payout(outcome)
                assert payout.requester_id == requester
                self.paid_out[requester] += payout.amount

        @rule(task=st.integers(0, 50), as_owner=st.booleans())
        def cancel(self, task, as_owner):
            if picked := self.some_task(task):
                task_id, requester = picked
                who = requester if as_owner else pick(
                    [r for r in self.requesters if r != requester], task)
                outcome = self.attempt(app.cancel_task, task_id, who)
                if not as_owner:
                    assert outcome.code == "FORBIDDEN"

        @rule(who=st.integers(0, 2), worker=st.integers(0, 3), amount=st.integers(1, 300))
        def bonus(self, who, worker, amount):
            requester = self.requesters[who]
            self.deposits += 1
            outcome = self.attempt(app.pay_bonus, requester, self.workers[worker], amount,
                                   "USD", f"bonus-{self.deposits}")
            if isinstance(outcome, DomainError):
                assert outcome.code == "INSUFFICIENT_FUNDS"
            else:
                self.paid_out[requester] += amount

        # --- what must always hold --------------------------------------------------
        @invariant()
        def money_is_conserved(self):
            if not hasattr(self, "requesters"):
                return
            tasks = {t: app.get_task(t) for t, _ in self.tasks}
            for requester_id in self.requesters:
                funds = app.get_requester(requester_id)
                assert funds.deposited == self.deposited[requester_id]
                assert funds.spent == self.paid_out[requester_id]
                assert funds.deposited == funds.balance + funds.escrow + funds.spent
                assert funds.balance >= 0 and funds.escrow >= 0
                unsettled = sum(t.reward.amount * (t.assignments - t.accepted - t.refunded_slots)
                                for t in tasks.values() if t.requester_id == requester_id)
                assert funds.escrow == unsettled

        @invariant()
        def no_task_holds_more_slots_than_it_has(self):
            for task_id, _ in getattr(self, "tasks", []):
                task = app.get_task(task_id)
                held = (task.count_claims(ClaimStatus.ACTIVE)
                        + task.count_submissions(SubmissionStatus.PENDING_REVIEW)
                        + task.accepted)
                assert held <= task.assignments
                assert task.accepted + task.refunded_slots <= task.assignments

    return Marketplace


def test_money_is_conserved_under_random_commands(database):
    clock = Clock()
    app = build_marketplace(database, clock=clock)
    try:
        machine = marketplace_machine(app, clock)
        machine.TestCase.settings = settings(max_examples=30, stateful_step_count=35,
                                             deadline=None)
        machine.TestCase().runTest()
    finally:
        app.close()
