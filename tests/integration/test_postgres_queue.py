"""The PostgreSQL queue as the workers use it: many messages in one call, each run once,
and nothing left behind in the queue once they are acknowledged."""

from __future__ import annotations

import threading

import dramatiq
from workers_harness import redis_url, wait_until  # noqa: F401 (a fixture)

from taskmarket.jobs.broker import build_broker, enqueue_all


def queued_states(database) -> dict[str, int]:
    with database.connect() as conn:
        rows = conn.execute('SELECT "state", count(*) FROM dramatiq.queue '
                            "GROUP BY 1").fetchall()
    return {state: count for state, count in rows}


EXPECTED = sorted([f"now-{n}" for n in range(40)] + [f"later-{n}" for n in range(5)])


def enqueue_a_batch(broker) -> list[str]:
    """40 messages to run now and 5 delayed by 200 ms, enqueued in one call; returns the
    list their actor appends its argument to."""
    seen: list[str] = []
    lock = threading.Lock()

    def note(label: str) -> None:
        with lock:
            seen.append(label)

    actor = dramatiq.actor(note, broker=broker, actor_name="note", queue_name="queue-test")
    enqueue_all(broker, [(actor.message(f"now-{n}"), None) for n in range(40)]
                + [(actor.message(f"later-{n}"), 200) for n in range(5)])
    return seen


def run_until_drained(broker, seen: list[str], queue_is_empty) -> None:
    """A worker of 4 threads runs every message; each ran once, and the queue is empty."""
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        wait_until(lambda: len(seen) >= 45, timeout=30, interval=0.05,
                   message="every message ran")
        wait_until(queue_is_empty, timeout=10, interval=0.05,
                   message="every message acknowledged")
    finally:
        worker.stop(timeout=5_000)
        broker.close()
    assert sorted(seen) == EXPECTED


def test_a_batch_enqueued_at_once_runs_each_message_once_and_leaves_the_queue_empty(database):
    broker = build_broker(database, poll_interval=0.02)
    seen = enqueue_a_batch(broker)
    assert queued_states(database) == {"queued": 45}
    run_until_drained(broker, seen, lambda: queued_states(database) == {})


def test_a_batch_enqueued_at_once_on_redis_runs_each_message_once(redis_url):  # noqa: F811
    """The Redis broker takes a batch in one pipeline: each message, delayed or not, runs
    once, and nothing is left queued."""
    broker = build_broker(None, redis_url)
    broker.flush_all()
    seen = enqueue_a_batch(broker)
    assert broker.client.hlen("dramatiq:queue-test.msgs") == 40
    assert broker.client.hlen("dramatiq:queue-test.DQ.msgs") == 5
    run_until_drained(broker, seen, lambda: (
        broker.client.hlen("dramatiq:queue-test.msgs") == 0
        and broker.client.hlen("dramatiq:queue-test.DQ.msgs") == 0))
