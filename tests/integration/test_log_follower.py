"""The one log follower (projections/follower.py): a batch's writes and its position commit
together, so a follower killed mid-batch resumes after its last committed batch and applies
every event once; it wakes on the event store's NOTIFY; a follower of a few topics does
not read the others again; and only one process steps a follower at a time."""

from __future__ import annotations

import threading

import psycopg
import pytest
from eventsourcing.utils import get_topic

from taskmarket.domain import Requester
from taskmarket.projections.follower import LogFollower
from taskmarket.projections.tracking import head


class Recording:
    """Writes one row per event it applies (a primary key: twice would fail)."""

    name = "test_recording"

    def __init__(self, topics=None):
        self.topics = topics
        self.applied = threading.Event()
        self.kill_at: int | None = None  # the notification id at which to lose the database

    def apply(self, conn, events):
        for nid, kind, event in events:
            if nid == self.kill_at:  # the process dies mid-batch: its connection goes away
                conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            conn.execute("INSERT INTO recorded (nid, kind, originator_id) VALUES (%s, %s, %s)",
                         (nid, kind, event.originator_id))
        self.applied.set()


@pytest.fixture
def recorded(database):
    with database.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE recorded (nid bigint PRIMARY KEY, kind text NOT NULL, "
                     "originator_id uuid NOT NULL)")
    return database


def rows(database) -> list[tuple[int, str]]:
    with database.connect() as conn:
        return conn.execute("SELECT nid, kind FROM recorded ORDER BY nid").fetchall()


def position(database, name: str = Recording.name) -> int:
    with database.connect() as conn:
        found = conn.execute("SELECT position FROM projection_positions WHERE name = %s",
                             (name,)).fetchone()
        return found[0] if found else 0


def log_head(database) -> int:
    with database.connect() as conn:
        return head(conn)


def test_a_follower_killed_mid_batch_resumes_after_its_last_committed_batch(recorded, app):
    for number in range(12):
        app.create_requester(f"Requester {number}")
    last = log_head(recorded)
    recording = Recording()
    follower = LogFollower(recorded, recording, app.mapper, batch_size=5)
    with recorded.connect(autocommit=True) as conn:
        assert follower.step(conn) == 5
    first_batch = [nid for nid, _ in rows(recorded)]
    recording.kill_at = first_batch[-1] + 3  # the middle of the second batch
    with pytest.raises(psycopg.OperationalError), recorded.connect(autocommit=True) as conn:
        follower.step(conn)
    assert [nid for nid, _ in rows(recorded)] == first_batch  # its first two rolled back
    assert position(recorded) == first_batch[-1]

    recording.kill_at = None  # restarted
    with recorded.connect(autocommit=True) as conn:
        assert follower.catch_up(conn) == last - first_batch[-1]
    assert [nid for nid, _ in rows(recorded)] == list(range(first_batch[0], last + 1))
    assert {kind for _, kind in rows(recorded)} == {"RequesterCreated"}
    assert position(recorded) == last


def test_a_running_follower_wakes_on_the_event_stores_notify(recorded, app):
    app.create_requester("Before")
    recording = Recording()
    # Idle waits far longer than the test: only the NOTIFY of an append can wake it.
    follower = LogFollower(recorded, recording, app.mapper, batch_size=100)
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop, 600.0), daemon=True)
    thread.start()
    try:
        assert recording.applied.wait(60)
        recording.applied.clear()
        # The follower is asleep once it has caught up; give it the next append.
        while position(recorded) < log_head(recorded):
            assert recording.applied.wait(60)
            recording.applied.clear()
        after = log_head(recorded)
        app.create_requester("After")
        assert recording.applied.wait(60), "the append did not wake the follower"
    finally:
        stop.set()
        with recorded.connect(autocommit=True) as conn:  # wake it to see `stop`
            conn.execute("NOTIFY taskmarket_events")
        thread.join(30)
    assert not thread.is_alive()
    assert [kind for nid, kind in rows(recorded) if nid > after] == ["RequesterCreated"]
    assert position(recorded) == log_head(recorded)


def test_a_follower_of_some_topics_moves_to_the_head_it_read(recorded, app):
    app.create_requester("Acme")
    acme_at = log_head(recorded)
    for number in range(5):
        app.register_worker(f"Worker {number}")
    recording = Recording(topics=[get_topic(Requester.Created)])
    follower = LogFollower(recorded, recording, app.mapper, batch_size=100)
    with recorded.connect(autocommit=True) as conn:
        assert follower.step(conn) == 1
        assert follower.step(conn) == 0
    assert [kind for _, kind in rows(recorded)] == ["RequesterCreated"]
    # Past the workers' events too: the next read starts at the head, not after Acme.
    assert position(recorded) == log_head(recorded) >= acme_at + 5


def test_only_one_process_steps_a_follower_at_a_time(recorded, app):
    app.create_requester("Acme")
    recording = Recording()
    follower = LogFollower(recorded, recording, app.mapper, batch_size=100)
    with recorded.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO projection_positions (name) VALUES (%s)", (Recording.name,))
    with recorded.connect() as holder, recorded.connect(autocommit=True) as conn:
        holder.execute("SELECT 1 FROM projection_positions WHERE name = %s FOR UPDATE",
                       (Recording.name,))
        assert follower.step(conn, skip_locked=True) == 0  # another process is at it
        holder.rollback()
        assert follower.step(conn, skip_locked=True) == 1
    assert len(rows(recorded)) == 1
