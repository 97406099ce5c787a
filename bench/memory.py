"""Figure 9: peak memory (RSS) of the server under load and of a projection rebuild.

Serve: ``bench.server`` (the app ``taskmarket serve`` runs, with its projections thread)
under figure 2's load (16 clients reading ``tasks(first: 50)``); its peak RSS (VmHWM) is
compared with its RSS when idle just after start.
Rebuild: ``taskmarket projections rebuild`` in a child process on a log of ``large``
events vs one of ``small`` events; its peak RSS (VmHWM) read while it runs. Bounded means the
ratio stays near 1 while the log grows ``large / small`` times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack

from taskmarket.bootstrap import build_marketplace
from taskmarket.projections.sample_log import write_sample_log

from .graphql_read import graphql_request, prepared_database
from .http_load import load, server_process
from .infra import Postgres, use_postgres
from .report import row
from .stats import Spread

REBUILD = "from taskmarket.cli import main; main()"


def status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def rebuild_peak_mb(database) -> float:
    """Peak RSS of the child, read from its own /proc (VmHWM starts afresh at exec; the
    kernel's wait4 ru_maxrss would also count the forked copy of this process)."""
    with tempfile.TemporaryDirectory(prefix="tm-bench-cli-") as data_dir:
        env = dict(os.environ, DATABASE_URL=database.url)
        child = subprocess.Popen(
            [sys.executable, "-c", REBUILD, "projections", "rebuild", "--data-dir", data_dir],
            env=env, stdout=subprocess.DEVNULL)
        peak = 0
        while child.poll() is None:
            try:
                peak = max(peak, status_kb(child.pid, "VmHWM"))
            except (OSError, KeyError):  # exiting: its memory map is already gone
                pass
            time.sleep(0.02)
        if child.returncode != 0:
            raise RuntimeError(f"projections rebuild exited with {child.returncode}")
        return peak / 1024


def log_of(stack: ExitStack, pg: Postgres, tasks: int):
    database = stack.enter_context(pg.database("rebuild"))
    app = build_marketplace(database)
    events = write_sample_log(app, tasks)
    app.close()
    return database, events


def run(quick: bool = False, postgres: Postgres | None = None) -> list[dict]:
    small_tasks, large_tasks = (600, 2_400) if quick else (8_000, 77_000)
    requests = 15 if quick else 300
    with ExitStack() as stack:
        pg = stack.enter_context(use_postgres(postgres))
        database, _, key = prepared_database(stack, pg, 100 if quick else 400)
        with server_process(database) as (url, process):
            idle = status_kb(process.pid, "VmRSS") / 1024
            for _ in range(2):
                load(url, 16, requests, graphql_request(key))
            peak = status_kb(process.pid, "VmHWM") / 1024
        small_db, small_events = log_of(stack, pg, small_tasks)
        large_db, large_events = log_of(stack, pg, large_tasks)
        small = [rebuild_peak_mb(small_db)]
        large = [rebuild_peak_mb(large_db)]
    growth = large[0] / small[0]
    return [
        row("9", "serve: peak RSS under 16 clients reading tasks(first: 50)",
            f"{peak:,.0f} MB", f"idle after start {idle:,.0f} MB",
            Spread(peak / idle, peak / idle, peak / idle)),
        row("9", f"projection rebuild of {large_events:,} events: peak RSS",
            f"{large[0]:,.0f} MB", f"{small_events:,} events {small[0]:,.0f} MB",
            Spread(growth, growth, growth), "bounded (ratio near 1)", growth <= 1.25),
    ]
