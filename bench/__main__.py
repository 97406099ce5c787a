"""``python -m bench [--quick] [--only N ...]``: run every figure, print one table."""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import platform
import sys
import time
import traceback
import warnings

from .infra import embedded_postgres
from .report import normalize, render, unavailable

# (figure, module, what it measures); modules written by other issues may be missing.
FIGURES = [
    ("1", "command_throughput", "command throughput vs raw INSERT"),
    ("2", "graphql_read", "GraphQL read over HTTP vs plain Starlette JSON"),
    ("3", "mutations_http", "claimTask over HTTP vs in-process"),
    ("4", "projection_catchup", "projection catch-up vs raw decode; live lag"),
    ("5", "feed_query", "feed query at 10k vs large board"),
    ("6", "aggregate_load", "aggregate load at 1,000+ events, snapshots vs replay"),
    ("7", "payout_pipeline", "payout pipeline vs emulator raw transfers"),
    ("8", "scale_out", "2 API + 2 worker processes vs 1 + 1"),
    ("9", "memory", "peak RSS of serve and of a projection rebuild"),
    ("W", "webhook_delivery", "webhook deliveries vs raw POSTs"),
    ("10", "log_ceiling", "group-commit log ceiling at 1-64 callers vs raw INSERT"),
    ("P", "partitions", "saves/s over 2 and 4 PostgreSQL partitions vs 1; merged feed"),
    ("11", "soak", "soak under mixed load: mutations/s over time, server RSS"),
    ("B", "batch_upload", "batch upload vs raw postTask; aggregation of 10k x 3"),
    ("F", "finance_books", "balances as of a past position at 1M vs 10k; export vs COPY"),
]


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}"


def run_figure(fig: str, module_name: str, title: str, quick: bool, postgres) -> list[dict]:
    try:
        module = importlib.import_module(f"bench.{module_name}")
    except ModuleNotFoundError as missing:
        if missing.name in (f"bench.{module_name}",):
            return [unavailable(fig, title, f"bench/{module_name}.py is not written yet")]
        return [unavailable(fig, title, f"needs {missing.name}, which is not there yet")]
    except ImportError as error:
        return [unavailable(fig, title, f"cannot import: {error}")]
    run = getattr(module, "run", None)
    if run is None:
        return [unavailable(fig, title, f"bench/{module_name}.py has no run(quick)")]
    kwargs = {"quick": quick}
    if "postgres" in inspect.signature(run).parameters:
        kwargs["postgres"] = postgres
    try:
        return [normalize(fig, raw) for raw in run(**kwargs)]
    except Exception as error:  # a broken figure must not take the table down
        traceback.print_exc()
        why = str(error).splitlines()[0] if str(error) else ""
        return [unavailable(fig, title, f"{type(error).__name__}: {why}", "FAILED")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="every figure at small size")
    parser.add_argument("--only", nargs="*", default=None, help="figure numbers to run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore")
    started = time.monotonic()
    rows: list[dict] = []
    with embedded_postgres() as postgres:
        print(f"machine: {machine()}; PostgreSQL {postgres.version()}", flush=True)
        for fig, module_name, title in FIGURES:
            if args.only is not None and fig not in args.only:
                continue
            began = time.monotonic()
            print(f"figure {fig}: {title} ...", flush=True)
            rows += run_figure(fig, module_name, title, args.quick, postgres)
            print(f"figure {fig}: done in {time.monotonic() - began:.0f} s", flush=True)
    print()
    print(render(rows))
    mode = "quick" if args.quick else "full"
    print(f"\n{mode} run, {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
