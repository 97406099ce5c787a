"""The event log stays gap-free and totally ordered while many commands write at once.

Projections follow the log by notification id: they read ``start=last + 1`` again and
again. If an id could become visible after a larger one, such a follower would pass it by
for good. These tests run real writer threads against the real PostgreSQL and check that a
follower reading meanwhile sees exactly the final log, in order.
"""

from __future__ import annotations

import threading
from uuid import UUID

import pytest

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import DomainError, Money
from taskmarket.domain.task import TaskSpec

WRITERS = 16
COMMANDS_PER_WRITER = 40
LIBRARY_DEFAULT = "eventsourcing.postgres:PostgresApplicationRecorder"


class Follower(threading.Thread):
    """Tails the log the way a projection does, remembering every id it was handed."""

    def __init__(self, recorder):
        super().__init__(daemon=True)
        self.recorder = recorder
        self.seen: list[int] = []
        self.writers_done = threading.Event()

    def run(self) -> None:
        last = 0
        while True:
            finished = self.writers_done.is_set()
            batch = self.recorder.select_notifications(start=last + 1, limit=50)
            self.seen.extend(n.id for n in batch)
            if batch:
                last = batch[-1].id
            elif finished:
                return


def write_concurrently(app, shared_workers: list[UUID]) -> list[BaseException]:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(COMMANDS_PER_WRITER):
                if i % 2:
                    app.register_worker(f"w{n}-{i}", ["vision"])
                else:  # four writers per shared worker: version conflicts, retried
                    app.change_worker_skills(shared_workers[n % 4], [f"s{n}-{i}"])
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("recorder_topic", [None, LIBRARY_DEFAULT],
                         ids=["configured", "library-default"])
def test_a_follower_never_skips_an_event_while_sixteen_threads_write(database,
                                                                     recorder_topic):
    extra = {"APPLICATION_RECORDER_TOPIC": recorder_topic} if recorder_topic else {}
    app = build_marketplace(database, **extra)
    try:
        shared = [app.register_worker(f"shared{n}", []) for n in range(4)]
        follower = Follower(app.recorder)
        follower.start()
        errors = write_concurrently(app, shared)
        follower.writers_done.set()
        follower.join(timeout=60)

        assert errors == []
        log = app.recorder.select_notifications(start=1, limit=1_000_000)
        assert follower.seen == [n.id for n in log]
        assert len(log) == 4 + WRITERS * COMMANDS_PER_WRITER
        edits = WRITERS * COMMANDS_PER_WRITER // 2
        assert [app.get_worker(w).version for w in shared] == [1 + edits // 4] * 4
        versions: dict[UUID, list[int]] = {}
        for n in log:
            versions.setdefault(n.originator_id, []).append(n.originator_version)
        assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    finally:
        app.close()


def test_only_one_of_sixteen_simultaneous_claims_gets_the_last_slot(app):
    requester = app.create_requester("Acme")
    app.deposit_funds(requester, 1_000, "USD", "wire-1")
    task = app.post_task(requester, TaskSpec("Label", "Boxes", Money(100, "USD")))
    workers = [app.register_worker(f"w{n}", []) for n in range(WRITERS)]
    outcomes: list[str] = []
    start = threading.Barrier(WRITERS)

    def claim(worker: UUID) -> None:
        start.wait()
        try:
            app.claim_task(task, worker)
            outcomes.append("claimed")
        except DomainError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["NO_OPEN_SLOTS"] * (WRITERS - 1) + ["claimed"]
    assert app.get_task(task).open_slots == 0


def test_the_library_db_functions_mode_would_let_a_follower_skip_an_event(database):
    """Why the store keeps a lock: without it an earlier id can commit after a later one."""
    app = build_marketplace(database, APPLICATION_RECORDER_TOPIC=LIBRARY_DEFAULT,
                            POSTGRES_ENABLE_DB_FUNCTIONS="y")
    try:
        with database.connect() as slow_writer:
            slow_writer.execute(  # draws its notification id, commits later
                "SELECT * FROM es_insert_events_uuid(ARRAY[ROW(gen_random_uuid(), 1,"
                " 'demo', ''::bytea)::stored_event_uuid])")
            app.register_worker("fast", [])  # draws the next id and commits at once
            seen = [n.id for n in app.recorder.select_notifications(start=1, limit=100)]
            slow_writer.commit()
        after = app.recorder.select_notifications(start=seen[-1] + 1, limit=100)
        log = [n.id for n in app.recorder.select_notifications(start=1, limit=100)]

        assert after == []
        assert len(log) == len(seen) + 1  # the slow writer's event sits behind the follower
        assert min(log) < seen[-1] and min(log) not in seen
    finally:
        app.close()
