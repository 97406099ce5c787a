"""HTTP load from threads: latencies and requests per second, against a server process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import httpx

from .infra import free_port


@contextlib.contextmanager
def server_process(database) -> Iterator[tuple[str, subprocess.Popen]]:
    """``bench.server`` on ``database`` in a child process; yields its URL and process."""
    port = free_port()
    env = dict(os.environ, TASKMARKET_READ_YOUR_WRITES_SECONDS="30")
    process = subprocess.Popen([sys.executable, "-m", "bench.server", database.url, str(port)],
                               env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load(url: str, clients: int, per_client: int,
         request: Callable[[httpx.Client, int, int], httpx.Response],
         timed: contextlib.AbstractContextManager | None = None
         ) -> tuple[list[float], float]:
    """Latencies (ms) of every request and overall requests per second.

    ``request(http, client_index, n)`` sends one request; a non-2xx answer is an error.
    ``timed`` is entered when the clock starts and left when it stops (after the
    clients connected: a meter of the timed part only).
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=60) as http:
            request(http, index, -1)  # connect before the clock starts
            start.wait()
            for n in range(per_client):
                began = time.perf_counter()
                response = request(http, index, n)
                mine.append((time.perf_counter() - began) * 1000)
                if response.status_code >= 300 or b'"errors"' in response.content[:4000]:
                    errors.append(response.text[:300])
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    with timed or contextlib.nullcontext():
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return latencies, clients * per_client / seconds
