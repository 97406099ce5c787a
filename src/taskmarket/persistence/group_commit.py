"""Leader/follower group commit: concurrent callers share one write, each gets its own outcome.

A caller that finds a free write slot becomes a leader and writes the whole queue (up to
``max_batch`` requests) in one go; callers arriving while every slot is taken queue up and
sleep. When a write returns, its leader hands each request its outcome and promotes the
head of the queue to lead the next batch with everything queued. So a lone caller writes
at once (no hand-off to another thread), and under load one write serves many callers.

``max_in_flight`` writes may run at once (a pipeline; 1 by default). Whatever orders the
writes (the event store's table lock) must then be in ``write_batch``: with more than one
slot the next batch is already sent and waiting for that lock while the one ahead of it
commits, so the hand-off between batches (waking the next leader, building its statement,
the round trip) happens outside the lock. Nothing here knows about databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")

WriteBatch = Callable[[list[P]], Sequence["R | BaseException"]]


class _Request(Generic[P, R]):
    __slots__ = ("payload", "outcome", "ready", "batch")

    def __init__(self, payload: P):
        self.payload = payload
        self.outcome: R | BaseException | None = None
        self.ready = threading.Event()
        self.batch: list[_Request[P, R]] | None = None  # set when promoted to lead it


class GroupCommit(Generic[P, R]):
    """Batches concurrent ``submit`` calls into calls of ``write_batch``.

    ``write_batch`` gets the payloads in arrival order and returns one outcome per payload:
    a result, or an exception that is raised in that payload's caller only. At most
    ``max_in_flight`` calls of ``write_batch`` run at once.
    """

    def __init__(self, write_batch: WriteBatch, max_batch: int = 128,
                 max_in_flight: int = 1):
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._mutex = threading.Lock()
        self._queue: list[_Request[P, R]] = []
        self._in_flight = 0  # invariant: the queue is empty unless every slot is taken

    def submit(self, payload: P) -> R:
        request: _Request[P, R] = _Request(payload)
        with self._mutex:
            self._queue.append(request)
            batch = self._take_batch() if self._in_flight < self._max_in_flight else None
        if batch is None:
            request.ready.wait()
            batch = request.batch
        if batch is not None:
            self._lead(batch)
        outcome = request.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]

    def _take_batch(self) -> list[_Request[P, R]]:
        """The next batch, its slot taken (call with the mutex held, queue not empty)."""
        batch = self._queue[: self._max_batch]
        del self._queue[: self._max_batch]
        self._in_flight += 1
        return batch

    def _lead(self, batch: list[_Request[P, R]]) -> None:
        try:
            outcomes = list(self._write_batch([r.payload for r in batch]))
            if len(outcomes) != len(batch):
                raise RuntimeError("write_batch returned the wrong number of outcomes")
        except BaseException as error:  # every caller in the batch must hear about it
            outcomes = [error] * len(batch)
        for request, outcome in zip(batch, outcomes):
            request.outcome = outcome
        with self._mutex:
            self._in_flight -= 1
            successor = self._take_batch() if self._queue else None
        for request in batch:
            request.ready.set()
        if successor is not None:
            successor[0].batch = successor
            successor[0].ready.set()
