"""``GET /exports/{payouts,ledger}.csv?from=&to=``: the CSV exports over HTTP, streamed,
for FINANCE and ADMIN bearer keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..domain import Role
from .exports import csv_chunks

HTTP_KINDS = ("payouts", "ledger")


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def parse_time(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or time (UTC unless it names an offset); ValueError naming it."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 date or time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def export_endpoint(api_key_of: Callable[[Request], Any]):
    """The endpoint; ``api_key_of(request)`` is the live API key the request presents, or
    None (the web app passes the one bearer-key rule the GraphQL API uses)."""

    async def export(request: Request) -> Response:
        return await export_csv(request, await run_in_threadpool(api_key_of, request))

    return export


async def export_csv(request: Request, key: Any) -> Response:
    kind = request.path_params["kind"]
    if kind not in HTTP_KINDS:
        return _refuse(404, "NOT_FOUND", f"exports are {', '.join(HTTP_KINDS)}")
    if key is None:
        return _refuse(401, "UNAUTHENTICATED", "an API key is required")
    if key.role not in (Role.FINANCE, Role.ADMIN):
        return _refuse(403, "FORBIDDEN", "exports are for FINANCE and ADMIN keys")
    try:
        period_from = parse_time(request.query_params.get("from"), "from")
        period_to = parse_time(request.query_params.get("to"), "to")
    except ValueError as error:
        return _refuse(400, "INVALID_INPUT", str(error))
    database = request.app.state.database

    def rows() -> Iterator[bytes]:
        with database.connect() as conn:
            yield from csv_chunks(conn, kind, period_from, period_to)

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{kind}.csv"'})
