"""Running one mutation's command: errors as data, metrics, logs, read-your-writes.

Resolvers reach it through mutation.run_mutation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..application import recorded_positions, saved_aggregates
from ..domain import DomainError
from ..logs import request_id
from ..metrics import COMMAND_OUTCOMES
from .context import Context
from .errors import UserError, user_error

log = logging.getLogger("taskmarket.commands")
T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    value: T | None = None
    errors: list[UserError] = field(default_factory=list)
    # Aggregates the command saved, by id, as saved.
    saved: dict[Any, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Recording:
    """What a command wrote: log positions, and the aggregates it saved (their state
    after the save), which a payload may show without reading a read model."""

    positions: list[int] = field(default_factory=list)
    saved: dict[Any, Any] = field(default_factory=dict)


# Commands block (the event-store read, the group commit's wait), so each runs on a thread
# of this pool: as many as anyio's default limit, so concurrent commands still meet in a
# group-commit batch. asyncio's run_in_executor is one hand-off each way; starlette's
# run_in_threadpool (anyio) adds an event-loop turn, a capacity limiter and a cancel
# scope per call (about twice the CPU per hop in a micro-benchmark).
COMMAND_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="command")


async def in_command_thread(fn: Callable[[], T]) -> T:
    """``fn()`` on a command thread, in a copy of this context (the request id)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(COMMAND_THREADS, copy_context().run, fn)


def _run_recording(command: Callable[[], T]) -> tuple[T, Recording]:
    recording = Recording()
    saved: list[Any] = []
    positions_token = recorded_positions.set(recording.positions)
    saved_token = saved_aggregates.set(saved)
    try:
        value = command()
    finally:
        recorded_positions.reset(positions_token)
        saved_aggregates.reset(saved_token)
    recording.saved = {aggregate.id: aggregate for aggregate in saved
                       if hasattr(aggregate, "id")}
    return value, recording


async def execute(context: Context, name: str, command: Callable[[], T]) -> Outcome[T]:
    """Run ``command`` (blocking: decode, authorize, call the marketplace) off the loop.

    A DomainError becomes a userError (the command wrote nothing). On success the request
    remembers the log position of the command's last event: the payload's reads of read
    models wait for it (so the payload shows its effect) and the client gets it back as a
    read-your-writes token. Nothing waits when the payload is built from ``saved``.
    """
    try:
        value, recording = await in_command_thread(lambda: _run_recording(command))
    except DomainError as error:
        COMMAND_OUTCOMES.labels(name, error.code).inc()
        log.info("command refused", extra={"command": name, "code": error.code,
                                           "field": error.field, "request_id": request_id.get()})
        return Outcome(errors=[user_error(error)])
    COMMAND_OUTCOMES.labels(name, "OK").inc()
    # The request id next to the log positions the command wrote: a request can be
    # followed into the events it caused.
    log.info("command done", extra={"command": name, "positions": recording.positions,
                                    "request_id": request_id.get()})
    if recording.positions:
        context.wrote(max(recording.positions))
    context.loaders.clear()
    return Outcome(value=value, saved=recording.saved)
