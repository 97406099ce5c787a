"""`taskmarket serve --multi-process`: a supervisor with API processes, the followers and
a worker in processes of their own, started and stopped together."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
from conftest import wait_for

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Role
from taskmarket.supervisor import default_api_processes

SCRIPT = shutil.which("taskmarket", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "taskmarket.cli"]
CREATE = """mutation($name: String!) { createRequester(input: {name: $name}) {
  requester { id } userErrors { code } } }"""
READ = "query($id: ID!) { node(id: $id) { ... on Requester { id name } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]




def healthy(url: str, process: subprocess.Popen) -> bool:
    assert process.poll() is None, (process.stderr.read()[-3000:] if process.stderr
                                    else "serve exited")
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # it ended between the two questions
        return False


def test_serve_runs_api_followers_and_worker_apart_and_stops_them_together(database,
                                                                           tmp_path):
    app = build_marketplace(database)
    _, admin = app.issue_api_key(Role.ADMIN, "ops")
    app.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("STRIPE_API_KEY", "REDIS_URL", "TASKMARKET_DATA_DIR")}
    env.update(DATABASE_URL=database.url, PYTHONUNBUFFERED="1")
    serve = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--multi-process", "--data-dir",
         str(tmp_path / "data")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: healthy(url, serve))
        supervisor = psutil.Process(serve.pid)
        children = wait_for(lambda: [c for c in supervisor.children()
                                     if "spawn_main" in " ".join(c.cmdline())])
        # The API processes (one a core, at least 2), the followers and the worker.
        assert len(children) == default_api_processes() + 2, [c.cmdline() for c in children]

        http = httpx.Client(base_url=url, timeout=30,
                            headers={"Authorization": f"Bearer {admin}"})
        for n in range(6):  # fresh connections: the kernel spreads them over the API
            made = httpx.post(f"{url}/graphql", timeout=30, json={
                "query": CREATE, "variables": {"name": f"Acme {n}"}},
                headers={"Authorization": f"Bearer {admin}"})
            requester = made.json()["data"]["createRequester"]["requester"]["id"]
            position = made.headers["X-Taskmarket-Position"]
            # The read model was written by the followers process, the read is answered by
            # whichever API process takes the connection: it waits for the position.
            read = httpx.post(f"{url}/graphql", timeout=30, json={
                "query": READ, "variables": {"id": requester}},
                headers={"Authorization": f"Bearer {admin}",
                         "X-Taskmarket-After-Position": position})
            assert read.json()["data"]["node"] == {"id": requester, "name": f"Acme {n}"}
        http.close()
        pids = {child.pid for child in children}
    finally:
        serve.send_signal(signal.SIGTERM)
        status = serve.wait(timeout=60)
    out, err = serve.communicate()
    assert status == 0, err[-3000:]
    assert [child.pid for child in children if alive(child)] == [], "children outlived serve"
    entries = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    roles = {entry["message"].split(" process")[0] for entry in entries
             if entry["message"].startswith("serve: ") and "process " in entry["message"]}
    assert {"serve: API", "serve: followers"} <= roles, roles
    commands = {entry["pid"] for entry in entries
                if entry.get("command") == "createRequester"}
    assert commands and commands <= pids  # the API processes, not the supervisor, ran them
    assert "GraphQL at" in out


def test_a_supervisor_killed_outright_takes_its_children_with_it(database, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("STRIPE_API_KEY", "REDIS_URL", "TASKMARKET_DATA_DIR")}
    env.update(DATABASE_URL=database.url)
    serve = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--api-processes", "1", "--no-workers",
         "--data-dir", str(tmp_path / "data")], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=env)  # no pipe left full when serve is gone
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: healthy(url, serve))
    children = psutil.Process(serve.pid).children()
    assert len([c for c in children if "spawn_main" in " ".join(c.cmdline())]) == 2
    serve.kill()
    serve.wait()
    assert wait_for(lambda: not [c for c in children if alive(c)], 60)
