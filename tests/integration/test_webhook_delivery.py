"""Webhook delivery end to end: a real receiver on loopback, the real event log, the real engine.

Each test is a partner's story: it registers an endpoint, the marketplace produces events,
and the receiver (which verifies every signature) sees what the partner would see.
"""

from __future__ import annotations

import threading

import pytest
from prometheus_client import REGISTRY
from webhook_harness import Receiver, wait_until

from taskmarket.domain import Money, Role
from taskmarket.domain.task import TaskSpec
from taskmarket.projections.runner import ProjectionRunner
from taskmarket.webhooks import store
from taskmarket.webhooks.engine import WebhookEngine
from taskmarket.webhooks.policy import DeliveryPolicy
from taskmarket.webhooks.signing import verify

FAST = DeliveryPolicy(base_delay=0.02, max_delay=0.1, max_failures=1000, workers=2,
                      poll_interval=0.02, batch=20)


class World:
    """The marketplace, its event log projection and a webhook engine on one database."""

    def __init__(self, app, database, policy: DeliveryPolicy):
        self.app = app
        self.database = database
        self.runner = ProjectionRunner(database, ["event_log"], mapper=app.mapper)
        self.engine = WebhookEngine(database, app, policy)

    def requester(self, funds: int = 100_000) -> object:
        requester_id = self.app.create_requester("Acme")
        self.app.deposit_funds(requester_id, funds, "USD", f"dep-{requester_id}")
        return requester_id

    def post(self, requester_id, count: int = 1) -> None:
        for number in range(count):
            spec = TaskSpec(f"Label {number}", "Box every cat", Money(100, "USD"))
            self.app.post_task(requester_id, spec)

    def endpoint(self, requester_id, receiver: Receiver, types=None, url=None):
        self.runner.catch_up()  # the endpoint starts after everything logged so far
        endpoint_id, secret = self.app.create_webhook_endpoint(
            url or receiver.url, types or [], requester_id)
        receiver.secret = secret
        return endpoint_id

    def deliver(self) -> int:
        self.runner.catch_up()
        return self.engine.run_until_idle()

    def expected_positions(self, requester_id, endpoint_id, types=None) -> list[int]:
        with self.database.connect() as conn:
            created = conn.execute("SELECT position FROM event_log WHERE aggregate_id = %s "
                                   "ORDER BY position LIMIT 1", (endpoint_id,)).fetchone()[0]
            rows = conn.execute(
                "SELECT position, type FROM event_log WHERE requester_id = %s "
                "AND position > %s ORDER BY position", (requester_id, created)).fetchall()
        return [p for p, kind in rows if not types or kind in types]

    def deliveries(self, endpoint_id) -> list[store.Delivery]:
        with self.database.connect() as conn:
            return store.deliveries(conn, endpoint_id, 100, None)


@pytest.fixture
def world(app, database, monkeypatch):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    made = World(app, database, DeliveryPolicy.from_env(**_fast()))
    yield made
    made.engine.stop()


def _attempts(outcome: str) -> float:
    return REGISTRY.get_sample_value("taskmarket_webhook_attempts_total",
                                     {"outcome": outcome}) or 0.0


def _fast(**overrides) -> dict:
    fields = dict(base_delay=FAST.base_delay, max_delay=FAST.max_delay,
                  max_failures=FAST.max_failures, workers=FAST.workers,
                  poll_interval=FAST.poll_interval, batch=FAST.batch)
    return {**fields, **overrides}


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def test_a_receiver_that_goes_down_and_comes_back_gets_every_event_in_order(world, receiver):
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    stop = threading.Event()
    follower = threading.Thread(target=world.runner.run_forever, args=(stop, 0.05),
                                daemon=True)
    follower.start()
    world.engine.start()
    try:
        world.post(requester, 5)
        wait_until(lambda: len(receiver.unique_positions()) >= 10)

        receiver.stop()  # the partner's server goes away while events keep coming
        world.post(requester, 10)
        wait_until(lambda: any(d.attempts >= 3 and not d.delivered
                               for d in world.deliveries(endpoint)))
        failing = [d for d in world.deliveries(endpoint) if not d.delivered]
        assert len(failing) == 1  # a later event waits while an earlier one fails
        assert failing[0].last_status_code is None and failing[0].last_error
        assert failing[0].next_attempt_at is not None

        receiver.start()
        expected = world.expected_positions(requester, endpoint)
        assert len(expected) == 30
        wait_until(lambda: receiver.unique_positions() == expected)
    finally:
        world.engine.stop()
        stop.set()
        follower.join(10)

    received = receiver.events()
    assert all(item.valid for item in received)
    assert all(item.header_event_id == item.event_id for item in received)
    assert receiver.unique_positions() == sorted(set(receiver.unique_positions()))
    first = received[0].body
    assert set(first) == {"id", "type", "position", "occurredAt", "aggregateId", "data"}
    assert first["type"] in ("RequesterEscrowReserved", "TaskPosted")


def test_a_tampered_body_or_a_wrong_secret_fails_verification(world, receiver):
    requester = world.requester()
    world.endpoint(requester, receiver)
    world.post(requester, 1)
    world.deliver()
    delivered = receiver.events()[0]
    now = int(delivered.signature.split(",")[0][2:])
    assert verify(receiver.secret, delivered.signature, delivered.raw, now)
    tampered = delivered.raw.replace(b'"position":"', b'"position":"9')
    assert not verify(receiver.secret, delivered.signature, tampered, now)
    assert not verify(receiver.secret + "x", delivered.signature, delivered.raw, now)


def test_replay_redelivers_exactly_the_events_after_a_position(world, receiver):
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    world.post(requester, 4)
    world.deliver()
    first_round = receiver.unique_positions()
    assert first_round == world.expected_positions(requester, endpoint)

    after = first_round[2]
    world.app.replay_webhook_endpoint(endpoint, after)
    world.deliver()
    replayed = [item.position for item in receiver.events()[len(first_round):]]
    assert replayed == [p for p in first_round if p > after]
    assert all(item.valid for item in receiver.events())


def test_a_partner_endpoint_never_receives_another_requesters_events(world, receiver):
    mine, theirs = world.requester(), world.requester()
    endpoint = world.endpoint(mine, receiver)
    for _ in range(3):
        world.post(theirs, 1)
        world.post(mine, 1)
    world.deliver()
    assert receiver.unique_positions() == world.expected_positions(mine, endpoint)
    with world.database.connect() as conn:
        owners = {row[0] for row in conn.execute(
            "SELECT requester_id FROM event_log WHERE position = ANY(%s)",
            (receiver.unique_positions(),))}
    assert owners == {mine}


def test_an_endpoint_only_gets_the_types_it_asked_for(world, receiver):
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver, types=["TaskPosted"])
    world.post(requester, 3)
    world.deliver()
    assert [item.type for item in receiver.events()] == ["TaskPosted"] * 3
    assert receiver.unique_positions() == world.expected_positions(
        requester, endpoint, types={"TaskPosted"})


def test_the_delivery_log_shows_attempts_status_codes_and_latency(world, receiver):
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    receiver.status = 500
    world.post(requester, 1)
    world.deliver()
    wait_until(lambda: (world.deliver() or True)
               and world.deliveries(endpoint)[0].attempts >= 2)
    receiver.status = 200
    wait_until(lambda: (world.deliver() or True) and all(
        d.delivered for d in world.deliveries(endpoint)) and len(
        world.deliveries(endpoint)) == 2)
    newest_first = world.deliveries(endpoint)
    first = newest_first[-1]
    assert first.attempts >= 3 and first.delivered and first.last_status_code == 200
    assert first.latency_ms is not None and first.next_attempt_at is None
    assert [d.position for d in newest_first] == sorted(
        world.expected_positions(requester, endpoint), reverse=True)


def test_loopback_targets_are_refused_at_connect_time_too(app, database, monkeypatch,
                                                           receiver):
    # Registered while the development flag was on (or a name that resolved to a public
    # address then): the connect-time check still refuses the loopback address.
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    world = World(app, database, DeliveryPolicy.from_env(**_fast()))
    requester = world.requester()
    by_ip = world.endpoint(requester, receiver)
    by_name = world.endpoint(requester, receiver,
                             url=f"http://localhost:{receiver.port}/hook")
    monkeypatch.delenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE")
    world.engine = WebhookEngine(database, app, DeliveryPolicy.from_env(**_fast()))
    refused_before = _attempts("refused")
    world.post(requester, 1)
    world.deliver()
    assert receiver.events() == []
    logged = 0
    for endpoint, words in ((by_ip, "127.0.0.1 is a loopback"), (by_name, "loopback")):
        (attempt,) = world.deliveries(endpoint)
        assert not attempt.delivered and attempt.last_status_code is None
        assert words in attempt.last_error and "refused" in attempt.last_error
        logged += attempt.attempts
    # What /metrics shows operators matches the delivery log (a fast retry may add one).
    assert logged >= 2
    assert _attempts("refused") - refused_before == logged
    world.engine.stop()


def test_a_redirect_is_a_failed_delivery_and_is_never_followed(world, receiver):
    inside = Receiver().start()  # stands for an internal service the redirect points at
    try:
        requester = world.requester()
        endpoint = world.endpoint(requester, receiver)
        inside.secret = receiver.secret
        receiver.redirect_to = inside.url
        world.post(requester, 1)
        world.deliver()
        (attempt,) = world.deliveries(endpoint)
        assert not attempt.delivered and attempt.last_status_code == 302
        assert attempt.next_attempt_at is not None  # retried later, like any failure
        assert attempt.attempts >= 1 and receiver.requests == attempt.attempts
        assert inside.requests == 0  # neither re-POSTed nor fetched with GET
    finally:
        inside.stop()


def test_after_n_failures_the_endpoint_is_disabled_and_enabling_resumes(app, database,
                                                                        monkeypatch, receiver):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    world = World(app, database, DeliveryPolicy.from_env(**_fast(max_failures=3)))
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    world.post(requester, 1)
    world.deliver()
    first_batch = receiver.unique_positions()
    assert len(first_batch) == 2

    receiver.status = 503
    world.post(requester, 2)
    wait_until(lambda: (world.deliver() or True)
               and not world.app.get_webhook_endpoint(endpoint).enabled)
    disabled = world.app.get_webhook_endpoint(endpoint)
    assert "3 consecutive failed deliveries" in disabled.disabled_reason
    assert "HTTP 503" in disabled.disabled_reason
    attempts = sum(d.attempts for d in world.deliveries(endpoint) if not d.delivered)
    assert attempts == 3

    world.post(requester, 2)  # events keep coming while the endpoint is off
    receiver.status = 200
    world.deliver()
    assert receiver.unique_positions() == first_batch  # nothing sent while disabled

    world.app.enable_webhook_endpoint(endpoint)
    world.deliver()
    assert world.app.get_webhook_endpoint(endpoint).disabled_reason is None
    assert receiver.unique_positions() == world.expected_positions(requester, endpoint)
    assert len(receiver.unique_positions()) == 10
    world.engine.stop()


def test_one_delivery_can_be_sent_again(world, receiver):
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    world.post(requester, 1)
    world.deliver()
    oldest = world.deliveries(endpoint)[-1]
    world.app.redeliver_webhook(oldest.id)
    world.deliver()
    ids = [item.event_id for item in receiver.events()]
    assert ids.count(oldest.event_id) == 2 and len(ids) == 3
    assert receiver.events()[-1].valid
    again = world.deliveries(endpoint)[0]
    assert (again.kind, again.position, again.delivered) == ("redelivery", oldest.position,
                                                             True)


def test_after_rotation_deliveries_are_signed_with_the_new_secret(world, receiver):
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    old = receiver.secret
    new = world.app.rotate_webhook_secret(endpoint)
    assert new != old
    receiver.secret = new
    world.post(requester, 1)
    world.deliver()
    delivered = receiver.events()
    assert len(delivered) == 2 and all(item.valid for item in delivered)
    now = int(delivered[0].signature.split(",")[0][2:])
    assert not verify(old, delivered[0].signature, delivered[0].raw, now)
    with world.database.connect() as conn:  # the superseded secret is gone
        kept = conn.execute("SELECT secret FROM webhook_secrets WHERE endpoint_id = %s",
                            (endpoint,)).fetchall()
    assert kept == [(new,)]


def test_an_endpoint_failing_past_the_horizon_is_disabled(app, database, monkeypatch,
                                                          receiver):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    policy = DeliveryPolicy.from_env(**_fast(horizon=0.3))
    world = World(app, database, policy)
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    receiver.status = 502
    world.post(requester, 1)
    wait_until(lambda: (world.deliver() or True)
               and not world.app.get_webhook_endpoint(endpoint).enabled)
    reason = world.app.get_webhook_endpoint(endpoint).disabled_reason
    assert reason.startswith("deliveries failing for more than 0.3 seconds")
    assert "HTTP 502" in reason
    world.engine.stop()


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(app, database, monkeypatch,
                                                                receiver):
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    world = World(app, database, DeliveryPolicy.from_env(**_fast(timeout=0.2)))
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver, types=["TaskPosted"])
    receiver.delay = 0.6
    world.post(requester, 1)
    world.deliver()
    (attempt,) = world.deliveries(endpoint)
    assert (attempt.delivered, attempt.last_status_code, attempt.last_error) == (
        False, None, "timed out")
    receiver.delay = 0
    wait_until(lambda: (world.deliver() or True) and world.deliveries(endpoint)[0].delivered)
    world.engine.stop()


def test_two_processes_worth_of_senders_keep_each_endpoint_in_order(app, database,
                                                                     monkeypatch):
    """Two engines (as in two processes), two threads each, three endpoints."""
    monkeypatch.setenv("TASKMARKET_WEBHOOK_ALLOW_PRIVATE", "1")
    world = World(app, database, DeliveryPolicy.from_env(**_fast(batch=3)))
    other = WebhookEngine(database, app, DeliveryPolicy.from_env(**_fast(batch=3)))
    receivers = [Receiver().start() for _ in range(3)]
    try:
        pairs = []
        for receiver in receivers:
            requester = world.requester()
            pairs.append((requester, world.endpoint(requester, receiver)))
        for _ in range(6):
            for requester, _ in pairs:
                world.post(requester, 1)
        world.runner.catch_up()
        world.engine.start()
        other.start()
        for receiver, (requester, endpoint) in zip(receivers, pairs):
            expected = world.expected_positions(requester, endpoint)
            wait_until(lambda: len(receiver.events()) >= len(expected))
            assert [item.position for item in receiver.events()] == expected
            assert all(item.valid for item in receiver.events())
    finally:
        other.stop()
        world.engine.stop()
        for receiver in receivers:
            receiver.stop()


def test_once_a_partner_key_configures_an_endpoint_funding_events_stop(world, receiver):
    requester = world.requester()
    endpoint = world.endpoint(requester, receiver)
    world.app.deposit_funds(requester, 500, "USD", "wire-1")
    world.deliver()
    assert [item.type for item in receiver.events()] == ["RequesterFundsDeposited"]
    funding = world.deliveries(endpoint)[0]

    world.app.update_webhook_endpoint(endpoint, receiver.url, [], audience=Role.PARTNER)
    world.app.deposit_funds(requester, 700, "USD", "wire-2")
    world.post(requester, 1)
    world.app.redeliver_webhook(funding.id)  # not even a manual resend
    world.deliver()
    assert [item.type for item in receiver.events()] == ["RequesterFundsDeposited",
                                                         "TaskPosted"]
    resent = [d for d in world.deliveries(endpoint) if d.redelivery is not None]
    assert len(resent) == 1 and not resent[0].delivered
    assert "may not read" in resent[0].last_error
