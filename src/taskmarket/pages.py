"""The pages a person opens in a browser: the front page, GraphiQL's assets, the docs.

The docs are generated from the code on each request (taskmarket.docs), the same text as
the committed docs/*.md, so a running server never shows stale ones.
"""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import __version__

HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskmarket</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>taskmarket {version}</h1>
<p>An event-sourced engine for paid-task marketplaces.</p>
<ul>
  <li><a href="/graphql">/graphql</a>: the GraphQL API; open it in a browser for GraphiQL
      (enter an API key at the top).</li>
  <li><a href="/docs">/docs</a>: error codes and event types.</li>
  <li><a href="/console">/console</a>: the console for operators, finance and requesters
      (sign in with an API key).</li>
</ul>
</body></html>
"""
DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskmarket docs</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>taskmarket docs</h1>
<ul>
  <li><a href="/docs/errors.md">errors.md</a>: every userError code, what it means and
      which mutations return it.</li>
  <li><a href="/docs/events.md">events.md</a>: every event type, its <code>data</code>
      fields and when it happens.</li>
</ul>
<p><a href="/graphql">GraphiQL</a> · <a href="/">home</a></p>
</body></html>
"""


async def home(request: Request) -> Response:
    return HTMLResponse(HOME.format(version=__version__))


async def docs_index(request: Request) -> Response:
    return HTMLResponse(DOCS)


async def doc_page(request: Request) -> Response:
    from .docs import PAGES

    render = PAGES.get(request.path_params["name"])
    if render is None:
        return PlainTextResponse("no such page", status_code=404)
    return PlainTextResponse(render(), media_type="text/markdown; charset=utf-8")


def page_routes() -> list[BaseRoute]:
    static = StaticFiles(directory=str(files("taskmarket.graphql").joinpath("static")))
    return [
        Route("/", home),
        Route("/docs", docs_index),
        Route("/docs/{name}", doc_page),
        Mount("/static", static, name="static"),
    ]
