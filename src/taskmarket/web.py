"""The ASGI application: /graphql (HTTP and WebSocket), health, readiness and metrics,
and the pages for browsers (/, /docs, GraphiQL's assets under /static, the console under
/console)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from .application import Marketplace
from .bootstrap import build_read_models, build_web_services
from .console import console_routes
from .database import Database
from .finance.http import export_endpoint
from .graphql.auth import secret_from_header
from .graphql.limits import BodySizeLimit, allowed_origins
from .graphql.schema import schema
from .graphql.view import GraphQLView
from .logs import RequestIdMiddleware
from .ops import metrics_endpoint, readyz_endpoint
from .pages import page_routes
from .stripe_webhook import stripe_webhook


def create_app(database: Database, marketplace: Marketplace, reads=None,
               settings=None, stripe_setup=None) -> Starlette:
    """The app on what the composition root built; with ``stripe_setup`` (serve's Stripe
    connection) it onboards payout accounts and checks Stripe's webhook signatures."""

    async def healthz(request: Request) -> JSONResponse:
        ok = await run_in_threadpool(database.ping)
        return JSONResponse({"status": "ok" if ok else "database unreachable"},
                            status_code=200 if ok else 503)

    if reads is None:
        reads = build_read_models(database)
    graphql = GraphQLView(schema, build_web_services(database, marketplace, reads, settings,
                                                     stripe_setup))

    def api_key_of(request: Request):
        secret = secret_from_header(request.headers.get("authorization"))
        return marketplace.authenticate(secret) if secret else None

    origins = allowed_origins()
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                   allow_headers=["authorization", "content-type", "x-request-id",
                                  "x-taskmarket-after-position"],
                   expose_headers=["x-taskmarket-position"]),
        Middleware(BodySizeLimit),
    ]
    app = Starlette(middleware=middleware, routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/readyz", readyz_endpoint(reads)),
        Route("/metrics", metrics_endpoint(reads)),
        Route("/healthz", healthz),
        Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
        Route("/exports/{kind}.csv", export_endpoint(api_key_of), methods=["GET"]),
        *page_routes(),
        *console_routes(),
    ])
    app.state.database = database
    app.state.marketplace = marketplace
    app.state.reads = reads
    app.state.services = graphql.services
    if stripe_setup is not None:
        app.state.stripe_webhook_secret = stripe_setup.webhook_secret
    return app
