"""A real webhook receiver for tests: Starlette under uvicorn on 127.0.0.1, in a thread.

It verifies every delivery's signature with the endpoint's secret and records what came.
It can be stopped and started again on the same port (the partner's server going down),
or told to answer with an error status.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from taskmarket.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, verify


@dataclass(frozen=True)
class Received:
    event_id: str
    header_event_id: str
    position: int
    type: str
    body: dict
    raw: bytes
    signature: str
    valid: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    def __init__(self, secret: str = ""):
        self.secret = secret
        self.port = free_port()
        self.status = 200
        self.delay = 0.0  # seconds to wait before answering (a slow partner)
        self.redirect_to: str | None = None  # answer 302 with this Location
        self.requests = 0  # every request that reached /hook, whatever its method
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: Request) -> Response:
        with self.lock:
            self.requests += 1
        if request.method != "POST":
            return Response(status_code=405)
        raw = await request.body()
        if self.redirect_to:
            return Response(status_code=302, headers={"Location": self.redirect_to})
        if self.delay:
            await asyncio.sleep(self.delay)
        body = json.loads(raw)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        valid = verify(self.secret, signature, raw, now=int(time.time()))
        with self.lock:
            status = self.status
            if 200 <= status < 300:
                self.received.append(Received(
                    body["id"], request.headers.get(EVENT_ID_HEADER, ""),
                    int(body["position"]), body["type"], body, raw, signature, valid))
        return Response(status_code=status if valid else 400)

    def start(self) -> "Receiver":
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST", "GET"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None

    def events(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def unique_positions(self) -> list[int]:
        """Positions in arrival order, each event counted once (dedup by event id)."""
        seen, order = set(), []
        for item in self.events():
            if item.event_id not in seen:
                seen.add(item.event_id)
                order.append(item.position)
        return order


def wait_until(condition, timeout: float = 20.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)
