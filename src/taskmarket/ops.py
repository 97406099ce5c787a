"""Operational endpoints: readiness (database and projections) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .application import Marketplace
from .database import Database
from .metrics import EVENT_LOG_HEAD, PROJECTION_LAG, PROJECTION_POSITION


def projection_status(database: Database, marketplace: Marketplace) -> dict[str, Any]:
    """The event log's head and each projection's position and lag (raises when down)."""
    head = marketplace.recorder.max_notification_id() or 0
    with database.connect(connect_timeout=2) as conn:
        rows = conn.execute("SELECT name, position FROM projection_positions "
                            "ORDER BY name").fetchall()
    EVENT_LOG_HEAD.set(head)
    projections = {}
    for name, position in rows:
        PROJECTION_POSITION.labels(name).set(position)
        PROJECTION_LAG.labels(name).set(max(head - position, 0))
        projections[name] = {"position": position, "lag": max(head - position, 0)}
    return {"head": head, "projections": projections}


def readyz_endpoint(database: Database, marketplace: Marketplace):
    async def readyz(request: Request) -> JSONResponse:
        try:
            status = await run_in_threadpool(projection_status, database, marketplace)
        except Exception as error:  # any failure to reach them means "not ready"
            return JSONResponse({"status": "unavailable", "error": type(error).__name__},
                                status_code=503)
        return JSONResponse({"status": "ok", **status})

    return readyz


def metrics_endpoint(database: Database, marketplace: Marketplace):
    async def metrics(request: Request) -> Response:
        try:
            await run_in_threadpool(projection_status, database, marketplace)
        except Exception:  # metrics still answer; readyz reports the outage
            pass
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics
