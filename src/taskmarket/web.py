"""The ASGI application: health checks now; the GraphQL issue mounts /graphql here."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .application import Marketplace
from .database import Database


def create_app(database: Database, marketplace: Marketplace) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        ok = await run_in_threadpool(database.ping)
        return JSONResponse({"status": "ok" if ok else "database unreachable"},
                            status_code=200 if ok else 503)

    app = Starlette(routes=[Route("/healthz", healthz)])
    app.state.database = database
    app.state.marketplace = marketplace
    return app
