"""`taskmarket serve` as shipped: GraphQL answers, projections run, logs are JSON lines."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Role

SCRIPT = shutil.which("taskmarket", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "taskmarket.cli"]
CREATE = """mutation { createRequester(input: {name: "Acme"}) {
  requester { id name } apiKey userErrors { code } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        try:
            answer = httpx.get(f"{url}/readyz", timeout=2)
            if answer.status_code == 200:
                return answer.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve was not ready in time")


def test_serve_answers_graphql_with_its_own_projections_and_logs_json(database, tmp_path):
    app = build_marketplace(database)
    _, admin = app.issue_api_key(Role.ADMIN, "ops")
    app.close()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database.url, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--no-workers", "--data-dir",
         str(tmp_path / "data")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        ready = wait_ready(url, process)
        assert ready["status"] == "ok"
        answer = httpx.post(f"{url}/graphql", json={"query": CREATE}, timeout=30, headers={
            "Authorization": f"Bearer {admin}", "X-Request-Id": "serve-trace-1"})
        made = answer.json()["data"]["createRequester"]
        # The payload was read back from the projections that serve keeps running.
        assert made["requester"]["name"] == "Acme" and made["apiKey"].startswith("tm_")
        assert httpx.post(f"{url}/graphql", json={"query": "{ tasks { edges { cursor } } }"},
                          timeout=10).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    lines = [line for line in process.stderr.read().decode().splitlines() if line.strip()]
    process.stderr.close()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    # Not a terminal: every line is a JSON object, uvicorn's own lines included.
    assert len(entries) == len(lines), [x for x in lines if not x.startswith("{")][:5]
    done = [e for e in entries if e.get("command") == "createRequester"]
    assert done and done[0]["request_id"] == "serve-trace-1" and done[0]["positions"]
