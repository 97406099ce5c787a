"""The operators' and finance console: static pages served at /console.

The pages are a client of the public GraphQL API only (HTTP for queries and mutations, the
``events`` subscription over graphql-transport-ws for live views); nothing here reads the
database. The assets ship in the package (no CDN, no build step): our own ES modules and
vendored, pinned libraries under ``static/vendor`` with their licences.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

# The page holds an API key in session storage: scripts only from our own origin, no
# framing, no plugins; the API and its WebSocket on the same origin.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
          "frame-ancestors 'none'; form-action 'none'")
HEADERS = {"Content-Security-Policy": POLICY, "Referrer-Policy": "no-referrer",
           "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


async def index(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=HEADERS)


async def to_index(request: Request) -> RedirectResponse:
    return RedirectResponse("/console", status_code=308)


def console_routes() -> list[BaseRoute]:
    return [
        Route("/console", index, methods=["GET", "HEAD"]),
        Route("/console/", to_index, methods=["GET", "HEAD"]),
        Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"),
    ]
