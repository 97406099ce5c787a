"""The gateway's HTTP transport: a Stripe that cannot be reached is a retryable failure
(no database; nothing listens on the port)."""

import socket
from datetime import datetime, timezone
from uuid import uuid4

import pytest

from taskmarket.domain import Payout
from taskmarket.domain.ids import payout_id_for_submission
from taskmarket.jobs.stripe_gateway import StripeGateway, TransferFailed
from taskmarket.jobs.stripe_http import environment_proxy


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_stripe_is_a_network_error_worth_retrying():
    submission_id = uuid4()
    payout = Payout(payout_id=payout_id_for_submission(submission_id), worker_id=uuid4(),
                    requester_id=uuid4(), amount=250, currency="USD", task_id=uuid4(),
                    submission_id=submission_id, kind="submission",
                    requested_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    gateway = StripeGateway.connect(None, f"http://127.0.0.1:{closed_port()}", timeout=2)
    with pytest.raises(TransferFailed) as failed:
        gateway.create_transfer(payout, "acct_missing")
    assert failed.value.retryable
    assert failed.value.reason.startswith("NETWORK_ERROR")


def test_the_environment_proxy_is_used_unless_the_host_bypasses_it(monkeypatch):
    for name in ("https_proxy", "no_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert environment_proxy(None) == "http://proxy.internal:3128"
    assert environment_proxy("http://127.0.0.1:12111") is None
