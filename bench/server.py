"""The server the HTTP figures talk to, in a process of its own (so load generation in the
benchmark process does not share its interpreter).

It is the app ``taskmarket serve`` runs (GraphQL, middleware, projections in a thread;
no payout workers), plus one extra route: ``/plain/tasks``, the plain alternative of
figure 2 — the same key check (the app's KnownKeys), the same read-model queries as
``tasks(first: 50)`` with
requesters, the same fields, serialized as JSON by Starlette without GraphQL.

Usage: ``python -m bench.server DATABASE_URL PORT``.
"""

from __future__ import annotations

import sys

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from taskmarket.bootstrap import build_marketplace, build_read_models, start_projections
from taskmarket.database import Database
from taskmarket.global_ids import to_global_id
from taskmarket.web import create_app


def plain_tasks(keys, reads):
    def page(first: int) -> list[dict]:
        rows = reads.all_tasks(None, None, first + 1)
        people = reads.requesters([row.requester_id for row in rows[:first]])
        return [{"cursor": row.cursor, "node": {
            "id": to_global_id("Task", row.id), "title": row.title,
            "reward": {"amount": row.reward_amount, "currency": row.currency},
            "openSlots": row.open_slots, "status": row.status,
            "requester": {"id": to_global_id("Requester", row.requester_id),
                          "name": people[row.requester_id].name}}} for row in rows[:first]]

    async def endpoint(request: Request) -> JSONResponse:
        secret = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        key = await keys.authenticate(secret)
        if key is None:
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        first = int(request.query_params.get("first", "50"))
        edges = await run_in_threadpool(page, first)
        return JSONResponse({"data": {"tasks": {"edges": edges}}})

    return endpoint


def main(url: str, port: int) -> None:
    import uvicorn

    database = Database.from_url(url)
    marketplace = build_marketplace(database)
    reads = build_read_models(database)
    projections = start_projections(database, marketplace)
    app = create_app(database, marketplace, reads)
    # The same key check as /graphql (the process's KnownKeys), so the two differ by
    # GraphQL alone.
    keys = app.state.services.keys
    app.router.routes.append(Route("/plain/tasks", plain_tasks(keys, reads)))
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    finally:
        projections.stop()
        reads.close()
        marketplace.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
