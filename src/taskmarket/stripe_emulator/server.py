"""Run the emulator (or any ASGI app) under uvicorn on a background daemon thread."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn

from .app import create_app
from .state import EmulatorConfig, EmulatorState

if TYPE_CHECKING:
    import stripe
    from starlette.applications import Starlette


class RunningServer:
    """An ASGI app served on a loopback socket by a daemon thread: ``url``, ``app``, ``stop()``."""

    def __init__(self, app: Any, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket) -> None:
        self.app = app
        self._server = server
        self._thread = thread
        self._sock = sock
        self.host, self.port = sock.getsockname()[:2]
        self.url = f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RunningEmulator(RunningServer):
    """A started emulator; ``state`` is the live :class:`EmulatorState` (faults, store, webhooks)."""

    app: "Starlette"

    @property
    def state(self) -> EmulatorState:
        return self.app.state.emulator

    def stripe_client(self, api_key: str = "sk_test_emulator", **kwargs: Any) -> "stripe.StripeClient":
        """A ``stripe.StripeClient`` pointed at this emulator (kwargs go to StripeClient)."""
        import stripe

        return stripe.StripeClient(api_key, base_addresses={"api": self.url}, **kwargs)

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.state.close()


THREAD_PREFIX = "uvicorn:"


class _QuietBackgroundServers(logging.Filter):
    """Drops the lifecycle lines (INFO and below) of servers run by ``serve_app``.

    uvicorn logs through process-wide loggers, so a background server's "Shutting down" /
    "Finished server process" would read as the main server's, printed twice, whatever
    level was asked for it; warnings and errors still pass.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or not record.threadName.startswith(THREAD_PREFIX)


_QUIET = _QuietBackgroundServers()


def serve_app(app: Any, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning",
              timeout: float = 10.0, _cls: type[RunningServer] = RunningServer) -> RunningServer:
    """Serve ``app`` on ``host:port`` (``port=0`` = any free port); return once it accepts connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # log_config=None leaves the host process's logging configuration alone.
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level=log_level, access_log=False,
                                           lifespan="off", timeout_graceful_shutdown=2))
    if log_level.lower() != "info" and _QUIET not in logging.getLogger("uvicorn.error").filters:
        logging.getLogger("uvicorn.error").addFilter(_QUIET)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"{THREAD_PREFIX}{sock.getsockname()[1]}", daemon=True)
    thread.start()
    running = _cls(app, server, thread, sock)
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            running.stop(timeout=1)
            raise RuntimeError(f"server failed to start on {host}:{port}")
        time.sleep(0.01)
    with socket.create_connection((running.host, running.port), timeout=timeout):
        pass
    return running


def start_emulator(host: str = "127.0.0.1", port: int = 0, *, config: EmulatorConfig | None = None,
                   log_level: str = "warning", timeout: float = 10.0) -> RunningEmulator:
    """Start an emulator on a background thread and wait until it accepts connections."""
    running = serve_app(create_app(config), host, port, log_level=log_level, timeout=timeout,
                        _cls=RunningEmulator)
    assert isinstance(running, RunningEmulator)
    return running
