"""Group commit: callers that arrive while a write is running share the next write."""

from __future__ import annotations

import threading

import pytest

from taskmarket.persistence.group_commit import GroupCommit


class Conflict(Exception):
    pass


def test_a_lone_caller_writes_at_once_in_its_own_thread():
    threads: list[str] = []

    def write(payloads):
        threads.append(threading.current_thread().name)
        return [p * 10 for p in payloads]

    commit = GroupCommit(write)
    assert commit.submit(4) == 40
    assert threads == [threading.current_thread().name]


def test_with_one_write_in_flight_callers_queued_behind_it_share_one_write_and_keep_their_outcomes():
    first_write_started = threading.Event()
    release_first_write = threading.Event()
    batches: list[list[int]] = []

    def write(payloads):
        batches.append(list(payloads))
        if len(batches) == 1:
            first_write_started.set()
            release_first_write.wait(10)
        return [Conflict(p) if p % 2 else p for p in payloads]

    commit = GroupCommit(write, max_in_flight=1)
    outcomes: dict[int, object] = {}

    def call(n: int) -> None:
        try:
            outcomes[n] = commit.submit(n)
        except Conflict as error:
            outcomes[n] = error

    leader = threading.Thread(target=call, args=(0,))
    leader.start()
    first_write_started.wait(10)
    followers = [threading.Thread(target=call, args=(n,)) for n in range(1, 9)]
    for thread in followers:
        thread.start()
    while len(commit._queue) < 8:  # all eight are waiting behind the first write
        threading.Event().wait(0.001)
    release_first_write.set()
    for thread in [leader, *followers]:
        thread.join(10)

    assert batches[0] == [0]
    assert sorted(batches[1]) == list(range(1, 9))
    assert [outcomes[n] for n in (0, 2, 4, 6, 8)] == [0, 2, 4, 6, 8]
    assert all(isinstance(outcomes[n], Conflict) for n in (1, 3, 5, 7))


def test_a_failed_write_fails_every_caller_in_it_and_the_next_caller_still_writes():
    def write(payloads):
        if payloads == ["boom"]:
            raise RuntimeError("database went away")
        return payloads

    commit = GroupCommit(write)
    with pytest.raises(RuntimeError, match="went away"):
        commit.submit("boom")
    assert commit.submit("fine") == "fine"


def test_with_two_writes_in_flight_the_next_batch_starts_while_one_runs_and_later_callers_queue():
    running: list[list[int]] = []
    both_running = threading.Event()
    release = threading.Event()
    batches: list[list[int]] = []
    lock = threading.Lock()

    def write(payloads):
        with lock:
            batches.append(list(payloads))
            running.append(list(payloads))
            if len(running) == 2:
                both_running.set()
        if len(batches) <= 2:
            release.wait(10)
        return [p * 10 for p in payloads]

    commit = GroupCommit(write, max_in_flight=2)
    outcomes: dict[int, object] = {}

    def call(n: int) -> None:
        outcomes[n] = commit.submit(n)

    first, second = (threading.Thread(target=call, args=(n,)) for n in (0, 1))
    first.start()
    while not batches:
        threading.Event().wait(0.001)
    second.start()
    assert both_running.wait(10)  # the second caller did not wait for the first write
    later = [threading.Thread(target=call, args=(n,)) for n in range(2, 6)]
    for thread in later:
        thread.start()
    while len(commit._queue) < 4:  # no slot left: they queue
        threading.Event().wait(0.001)
    release.set()
    for thread in [first, second, *later]:
        thread.join(10)

    assert batches[:2] == [[0], [1]]
    assert sorted(p for batch in batches[2:] for p in batch) == [2, 3, 4, 5]
    assert outcomes == {n: n * 10 for n in range(6)}
