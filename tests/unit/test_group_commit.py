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


def test_callers_queued_behind_a_running_write_share_one_write_and_keep_their_outcomes():
    first_write_started = threading.Event()
    release_first_write = threading.Event()
    batches: list[list[int]] = []

    def write(payloads):
        batches.append(list(payloads))
        if len(batches) == 1:
            first_write_started.set()
            release_first_write.wait(10)
        return [Conflict(p) if p % 2 else p for p in payloads]

    commit = GroupCommit(write)
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
