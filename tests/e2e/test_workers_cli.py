"""`taskmarket serve --no-workers` plus `taskmarket worker` processes pay accepted work.

serve runs the outbox, the sweeper and (no STRIPE_API_KEY) the Stripe emulator; the
worker processes find that emulator through the data dir and do the paying.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import stripe
from conftest import wait_for

from taskmarket.bootstrap import build_marketplace
from taskmarket.domain import Money, PayoutStatus
from taskmarket.domain.task import TaskSpec


def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "taskmarket.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]




def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _, errors = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _, errors = process.communicate()
    return errors


def test_separate_worker_processes_pay_what_the_server_dispatches(database, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("STRIPE_API_KEY", "REDIS_URL", "TASKMARKET_DATA_DIR")}
    env["DATABASE_URL"] = database.url
    port = free_port()
    serve = start("serve", "--data-dir", str(tmp_path), "--port", str(port), "--no-workers",
                  env=env)
    url_file = Path(tmp_path) / "stripe-emulator.url"
    workers = None
    try:
        wait_for(lambda: _healthy(port), 60)
        workers = start("worker", "--data-dir", str(tmp_path), "--processes", "2",
                        "--threads", "2", env=env)
        emulator = stripe.StripeClient("sk_test_e2e",
                                       base_addresses={"api": url_file.read_text()})
        account = emulator.v1.accounts.create({"type": "express"}).id
        # The worker finished onboarding (the emulator's control endpoint stands in).
        httpx.post(f"{url_file.read_text()}/_emulator/accounts/{account}/onboard").raise_for_status()

        app = build_marketplace(database)
        requester = app.create_requester("Acme")
        app.deposit_funds(requester, 5_000, "USD", "wire-1")
        task = app.post_task(requester, TaskSpec("Tag", "Tag it", Money(700, "USD")))
        worker = app.register_worker("Ada", [], account)
        claim = app.claim_task(task, worker)
        submission = app.submit_work(task, claim, worker, {"tag": "cat"})
        payout = app.review_submission(task, submission, requester, "ACCEPT")

        wait_for(lambda: app.get_payout(payout).status == PayoutStatus.PAID, 30)
        transfers = emulator.v1.transfers.list({"transfer_group": str(task)}).data
        assert [(t.id, t.amount) for t in transfers] == [(app.get_payout(payout).transfer_id,
                                                         700)]
        app.close()
    finally:
        worker_errors = stop(workers) if workers else ""
        serve_errors = stop(serve)
    assert "Traceback" not in worker_errors, worker_errors[-3000:]
    assert "in-process Stripe emulator" in serve_errors  # serve says where payouts go


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
