"""Operational endpoints: readiness (database and projections) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .metrics import (
    EVENT_LOG_HEAD, OPEN_DISCREPANCIES, PROJECTION_LAG, PROJECTION_POSITION, PROJECTION_STALLED,
)


def projection_status(reads: Any) -> dict[str, Any]:
    """The event store's head, each projection's position and lag, and the projections
    that cannot apply their next events (raises when the database is down)."""
    head = reads.max_position()
    positions = reads.positions()
    stalled = {stall.projection: stall for stall in reads.stalls()}
    EVENT_LOG_HEAD.set(head)
    projections = {}
    for name, position in sorted(positions.items()):
        lag = max(head - position, 0)
        PROJECTION_POSITION.labels(name).set(position)
        PROJECTION_LAG.labels(name).set(lag)
        PROJECTION_STALLED.labels(name).set(1 if name in stalled else 0)
        projections[name] = {"position": position, "lag": lag}
        if name in stalled:
            projections[name]["error"] = stalled[name].error
    return {"head": head, "projections": projections,
            "stalled": [stall.as_json() for stall in stalled.values()]}


def readyz_endpoint(reads: Any):
    async def readyz(request: Request) -> JSONResponse:
        try:
            status = await run_in_threadpool(projection_status, reads)
        except Exception as error:  # any failure to reach them means "not ready"
            return JSONResponse({"status": "unavailable", "error": type(error).__name__},
                                status_code=503)
        if status["stalled"]:  # a read model that stopped: its reads are going stale
            return JSONResponse({"status": "projection stalled", **status}, status_code=503)
        return JSONResponse({"status": "ok", **status})

    return readyz


def metrics_endpoint(reads: Any):
    async def metrics(request: Request) -> Response:
        try:
            await run_in_threadpool(projection_status, reads)
            OPEN_DISCREPANCIES.set(await run_in_threadpool(reads.open_discrepancies))
        except Exception:  # metrics still answer; readyz reports the outage
            pass
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics
