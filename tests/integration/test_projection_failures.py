"""A projection that cannot apply an event says so, and the others keep going.

The poisoned event is written past the domain's checks, as an event stored by an older
version (before text was checked) would be: a task whose title holds a NUL byte, which
PostgreSQL text cannot hold.
"""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY
from projection_harness import catch_up, poisoned_task, reads  # noqa: F401

from taskmarket.domain import Money
from taskmarket.domain.task import TaskSpec
from taskmarket.projections import runner as runner_module
from taskmarket.projections.failures import ProjectionFailed, ProjectionStalled, stalls
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.projections.tracking import positions


def wait_until(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.05)


def failures_of(name: str) -> float:
    return REGISTRY.get_sample_value("taskmarket_projection_failures_total",
                                     {"projection": name}) or 0.0


def test_a_stalled_projection_is_recorded_and_the_others_go_on(app, database, reads,
                                                             monkeypatch):
    monkeypatch.setattr(runner_module, "FAILURE_PAUSE", 0.2)
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 1_000, "USD", "wire-1")
    app.post_task(acme, TaskSpec("fine", "i", Money(100, "USD")))
    before_poison = app.recorder.max_notification_id()
    app.save(poisoned_task(acme, app.clock()))
    app.deposit_funds(acme, 500, "USD", "wire-2")  # after the poison: must still show
    head = app.recorder.max_notification_id()
    failed_before = failures_of("tasks")

    following = ProjectionRunner(database).start_in_thread(idle_wait=0.1)
    try:
        with database.connect(autocommit=True) as conn:
            wait_until(lambda: {s.projection for s in stalls(conn)} == {"tasks", "event_log"}
                       and positions(conn)["requesters"] == head)
            stalled = {s.projection: s for s in stalls(conn)}
            reached = positions(conn)
        assert stalled["tasks"].position == reached["tasks"] == before_poison
        assert stalled["event_log"].position == before_poison
        assert "cannot be converted" in stalled["tasks"].error or "NUL" in stalled[
            "tasks"].error
        assert reached["requesters"] == reached["ledger"] == reached["workers"] == head
        assert failures_of("tasks") > failed_before

        # A reader waiting for its write hears at once that it will not come.
        started = time.monotonic()
        with pytest.raises(ProjectionStalled) as caught:
            reads.wait_for(head, timeout=30)
        assert caught.value.stall.projection in ("tasks", "event_log")
        assert time.monotonic() - started < 30
        # ... unless it waits only for projections that are fine.
        assert reads.wait_for(head, timeout=30, names=["requesters"]) is True
    finally:
        following.stop()


def test_a_one_off_catch_up_raises_and_a_rebuild_clears_the_failure(app, database):
    acme = app.create_requester("Acme")
    app.save(poisoned_task(acme, app.clock()))
    with pytest.raises(ProjectionFailed, match="tasks|event_log"):
        catch_up(database)
    with database.connect(autocommit=True) as conn:
        assert {s.projection for s in stalls(conn)} == {"tasks", "event_log"}
        # An operator repairs the stored event (here: removes it), then rebuilds.
        conn.execute("DELETE FROM taskmarket_events WHERE notification_id = "
                     "(SELECT max(notification_id) FROM taskmarket_events)")
    ProjectionRunner(database).rebuild()
    with database.connect(autocommit=True) as conn:
        assert stalls(conn) == []


def test_an_event_no_one_can_decode_stalls_every_projection_loudly(app, database, reads,
                                                                  monkeypatch):
    acme = app.create_requester("Acme")
    app.deposit_funds(acme, 1_000, "USD", "wire-1")
    good = app.recorder.max_notification_id()
    with database.connect(autocommit=True) as conn:  # a corrupt row, written in SQL
        conn.execute(
            "INSERT INTO taskmarket_events (originator_id, originator_version, topic, state) "
            "VALUES (gen_random_uuid(), 1, 'taskmarket.domain.task:Task.Posted', "
            "'not json at all')")
    with pytest.raises(ProjectionFailed, match="cannot apply the events after position"):
        catch_up(database)
    with database.connect(autocommit=True) as conn:
        stalled = {s.projection: s for s in stalls(conn)}
        assert set(stalled) == set(positions(conn))  # every projection
        assert {s.position for s in stalled.values()} == {good}  # right before the row
    with pytest.raises(ProjectionStalled):
        reads.wait_for(good + 1, timeout=30)

    # A live runner keeps retrying (and counting) instead of dying.
    monkeypatch.setattr(runner_module, "FAILURE_PAUSE", 0.1)
    counted = failures_of("requesters")
    following = ProjectionRunner(database).start_in_thread(idle_wait=0.05)
    try:
        wait_until(lambda: failures_of("requesters") >= counted + 2)
        assert following.alive
    finally:
        following.stop()
