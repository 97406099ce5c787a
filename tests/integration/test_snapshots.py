"""A task loaded from its snapshot is the task its events replay to."""

from __future__ import annotations

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import ClaimStatus, Money
from taskmarket.domain.task import TaskSpec


def state(aggregate) -> dict:
    values = dict(vars(aggregate))
    values.pop("_pending_events", None)
    return values


def test_a_task_snapshotted_every_hundred_events_loads_equal_to_its_replay(database):
    snapshotting = build_marketplace(database, IS_SNAPSHOTTING_ENABLED="y")
    replaying = build_marketplace(database, IS_SNAPSHOTTING_ENABLED="n")
    try:
        requester = snapshotting.create_requester("Acme")
        snapshotting.deposit_funds(requester, 10_000, "USD", "wire-1")
        task = snapshotting.post_task(requester, TaskSpec(
            "Label", "Boxes", Money(100, "USD"), assignments=3, payload={"images": [1, 2]}))
        workers = [snapshotting.register_worker(f"w{n}", []) for n in range(3)]
        for _ in range(60):  # two events per round: claimed, released
            claim = snapshotting.claim_task(task, workers[0])
            snapshotting.release_claim(task, claim, workers[0])
        claim = snapshotting.claim_task(task, workers[1])
        submission = snapshotting.submit_work(task, claim, workers[1], {"boxes": [[1, 2]]})
        snapshotting.review_submission(task, submission, requester, "ACCEPT")
        snapshotting.claim_task(task, workers[2])

        snapshots = list(snapshotting.snapshots.get(task, desc=True, limit=1))
        loaded, replayed = snapshotting.get_task(task), replaying.get_task(task)
        assert replaying.snapshots is None
        assert [s.originator_version for s in snapshots] == [100]
        assert loaded.version == replayed.version == 125
        assert state(loaded) == state(replayed)
        assert {type(c.status) for c in loaded.claims.values()} == {ClaimStatus}
        assert state(snapshotting.get_requester(requester)) == state(
            replaying.get_requester(requester))
    finally:
        snapshotting.close()
        replaying.close()
