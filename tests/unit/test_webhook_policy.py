"""Retry timing and when delivery gives up (pure policy, no database)."""

import random

from taskmarket.webhooks.policy import DeliveryPolicy


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap():
    policy = DeliveryPolicy(base_delay=10, max_delay=300)
    rng = random.Random(7)
    for failures, full in [(1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (30, 300)]:
        delays = [policy.retry_delay(failures, rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 4  # jittered, not lockstep


def test_delivery_gives_up_after_n_failures_or_past_the_horizon():
    policy = DeliveryPolicy(max_failures=5, horizon=3 * 24 * 3600)
    assert policy.gives_up(4, 3600) is None
    assert policy.gives_up(5, 10) == "5 consecutive failed deliveries"
    assert policy.gives_up(2, 3 * 24 * 3600) == "deliveries failing for more than 3 days"


def test_the_defaults_follow_the_contract(monkeypatch):
    monkeypatch.delenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", raising=False)
    monkeypatch.setenv("TASKMARKET_WEBHOOK_MAX_FAILURES", "7")
    policy = DeliveryPolicy.from_env()
    assert (policy.timeout, policy.horizon, policy.allow_private) == (10.0, 259200.0, False)
    assert policy.max_failures == 7
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    assert DeliveryPolicy.from_env().allow_private
