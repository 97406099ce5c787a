"""Running one mutation's command: errors as data, metrics, logs, read-your-writes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from ..application import recorded_positions
from ..domain import DomainError
from ..logs import request_id
from ..metrics import COMMAND_OUTCOMES
from ..projections.failures import ProjectionStalled
from .context import Context
from .errors import ServiceError, UserError, user_error

log = logging.getLogger("taskmarket.commands")
T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    value: T | None = None
    errors: list[UserError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _run_recording(command: Callable[[], T]) -> tuple[T, list[int]]:
    positions: list[int] = []
    token = recorded_positions.set(positions)
    try:
        return command(), positions
    finally:
        recorded_positions.reset(token)


async def execute(context: Context, name: str, command: Callable[[], T]) -> Outcome[T]:
    """Run ``command`` (blocking: decode, authorize, call the marketplace) off the loop.

    A DomainError becomes a userError (the command wrote nothing). On success, wait until
    the projections have applied the command's events, so the payload shows its effect.
    """
    try:
        value, positions = await run_in_threadpool(_run_recording, command)
    except DomainError as error:
        COMMAND_OUTCOMES.labels(name, error.code).inc()
        log.info("command refused", extra={"command": name, "code": error.code,
                                           "field": error.field, "request_id": request_id.get()})
        return Outcome(errors=[user_error(error)])
    COMMAND_OUTCOMES.labels(name, "OK").inc()
    # The request id next to the log positions the command wrote: a request can be
    # followed into the events it caused.
    log.info("command done", extra={"command": name, "positions": positions,
                                    "request_id": request_id.get()})
    if positions:
        await wait_for_projections(context, max(positions))
    context.loaders.clear()
    return Outcome(value=value)


async def wait_for_projections(context: Context, position: int) -> None:
    """Wait until the read models show the command's writes. A read model that cannot
    apply events will not get there: say so at once (the command itself was recorded)."""
    reads = context.reads
    try:
        reached = await run_in_threadpool(reads.wait_for, position,
                                          context.services.read_your_writes_timeout)
    except ProjectionStalled as stalled:
        stall = stalled.stall
        raise ServiceError(
            f"the command was recorded (log position {position}), but the read model "
            f"'{stall.projection}' is stalled at position {stall.position} and will not "
            "show it until an operator repairs it", "PROJECTION_STALLED",
            projection=stall.projection, position=stall.position) from None
    if reached is False:
        log.warning("projections did not reach %s in time", position)


def refuse(error: DomainError) -> Outcome[Any]:
    """An Outcome for input refused before any command ran."""
    COMMAND_OUTCOMES.labels("input", error.code).inc()
    return Outcome(errors=[user_error(error)])
