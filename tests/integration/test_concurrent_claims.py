"""Real threads race against PostgreSQL: version conflicts are retried, slots never overflow."""

import threading
from concurrent.futures import ThreadPoolExecutor

from eventsourcing.persistence import IntegrityError

from taskmarket.domain import ClaimStatus, DomainError, Money
from taskmarket.domain.task import TaskSpec


def race(count, command):
    """Run ``command(n)`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)

    def contender(n):
        barrier.wait()
        try:
            return command(n)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(contender, range(count)))


def count_conflicts(app) -> list:
    """Record each save that lost a version race (the retry then reloads and tries again)."""
    conflicts = []
    save = app.save

    def observed_save(*args, **kwargs):
        try:
            return save(*args, **kwargs)
        except IntegrityError:
            conflicts.append(1)
            raise

    app.save = observed_save
    return conflicts


def funded_task(app, assignments):
    requester = app.create_requester("Acme")
    app.deposit_funds(requester, 100 * assignments, "USD", "wire-1")
    spec = TaskSpec("Transcribe", "Type what you hear", Money(100, "USD"),
                    assignments=assignments)
    return requester, app.post_task(requester, spec)


def test_32_workers_race_for_the_last_slot_and_exactly_one_wins(app):
    _, task = funded_task(app, assignments=2)
    app.claim_task(task, app.register_worker("early bird"))
    workers = [app.register_worker(f"worker {n}") for n in range(32)]

    outcomes = race(32, lambda n: app.claim_task(task, workers[n]))

    winners = [o for o in outcomes if not isinstance(o, DomainError)]
    losers = [o.code for o in outcomes if isinstance(o, DomainError)]
    assert len(winners) == 1
    assert losers == ["NO_OPEN_SLOTS"] * 31
    assert app.get_task(task).count_claims(ClaimStatus.ACTIVE) == 2


def test_8_workers_racing_for_8_slots_all_get_one(app):
    _, task = funded_task(app, assignments=8)
    workers = [app.register_worker(f"worker {n}") for n in range(8)]
    conflicts = count_conflicts(app)

    outcomes = race(8, lambda n: app.claim_task(task, workers[n]))

    assert not [o for o in outcomes if isinstance(o, DomainError)]
    assert conflicts, "the threads never collided, so the retry went untested"
    claims = app.get_task(task).claims  # the active ones: all of them here
    assert set(outcomes) == set(claims)
    assert sorted(str(c.worker_id) for c in claims.values()) == sorted(map(str, workers))


def test_the_same_deposit_sent_by_16_threads_is_credited_once(app):
    requester = app.create_requester("Acme")

    outcomes = race(16, lambda _: app.deposit_funds(requester, 5_000, "USD", "wire-7",
                                                    idempotency_key="deposit-7"))

    assert sorted(outcomes) == [False] * 15 + [True]
    funds = app.get_requester(requester)
    assert (funds.balance, funds.deposited) == (5_000, 5_000)


def test_the_same_task_posted_by_16_threads_exists_once(app):
    requester = app.create_requester("Acme")
    app.deposit_funds(requester, 10_000, "USD", "wire-1")
    spec = TaskSpec("Translate", "to French", Money(300, "USD"), assignments=2)

    outcomes = race(16, lambda _: app.post_task(requester, spec, idempotency_key="post-1"))

    assert len(set(outcomes)) == 1 and not isinstance(outcomes[0], DomainError)
    funds = app.get_requester(requester)
    assert (funds.balance, funds.escrow) == (10_000 - 600, 600)
