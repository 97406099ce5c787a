"""Operational endpoints: readiness (database and projections) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .metrics import EVENT_LOG_HEAD, OPEN_DISCREPANCIES, PROJECTION_LAG, PROJECTION_POSITION


def projection_status(reads: Any) -> dict[str, Any]:
    """The event store's head and each projection's position and lag (raises when down)."""
    head = reads.max_position()
    positions = reads.positions()
    EVENT_LOG_HEAD.set(head)
    projections = {}
    for name, position in sorted(positions.items()):
        lag = max(head - position, 0)
        PROJECTION_POSITION.labels(name).set(position)
        PROJECTION_LAG.labels(name).set(lag)
        projections[name] = {"position": position, "lag": lag}
    return {"head": head, "projections": projections}


def readyz_endpoint(reads: Any):
    async def readyz(request: Request) -> JSONResponse:
        try:
            status = await run_in_threadpool(projection_status, reads)
        except Exception as error:  # any failure to reach them means "not ready"
            return JSONResponse({"status": "unavailable", "error": type(error).__name__},
                                status_code=503)
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
